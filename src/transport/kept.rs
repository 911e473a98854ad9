//! Kept ssh connections (`--persist SECS`): master connections that outlive the lutf that
//! started them, as Ansible keeps its ControlMaster, so that ad-hoc commands typed one after
//! another (`lutf exec`, `lutf lnet`, `lutf status`) do not each pay an SSH handshake.
//!
//! - The master is ssh's own `ControlPersist`: `ssh -M -N -f` goes to the background once
//!   connected and exits after `SECS` seconds without a channel.
//! - Its control socket, log and a note of what it connects to live in a private folder,
//!   `/tmp/lutf-keep-<uid>/` (0700), named by a key over everything that decides where and how
//!   it connects: host, user, port, the ssh configuration file (its path and its size, time
//!   and inode, so an edited file gets a new master) and lutf's ssh options. Two commands
//!   share a master only when all of those are the same.
//! - A lock per key makes concurrent lutf processes start one master, not several.
//! - The same folder keeps what `ssh -G` said about each node's configuration
//!   ([`ConfigAnswer`], `<key>.sshg`), with or without `--persist`: its answer changes only
//!   with the configuration, so a repeated command need not run it again.
//! - `lutf status` lists them; `lutf disconnect` closes them (all, or those of `--nodes`).
//! - `lutf run` never keeps its connections: a step's supervisor on a node stops the step
//!   when the connection of the master that started it ends, which must happen when that
//!   lutf dies, even on SIGKILL.

use std::os::unix::fs::MetadataExt;
use std::os::unix::io::AsRawFd;
use std::path::{Path, PathBuf};
use std::time::Duration;

use sha2::{Digest, Sha256};

use super::ssh::{SshOptions, SshTarget};

/// The folder of this user's kept connections.
pub fn base() -> PathBuf {
    // SAFETY: geteuid has no preconditions and cannot fail.
    PathBuf::from(format!("/tmp/lutf-keep-{}", unsafe { libc::geteuid() }))
}

/// The files of one kept connection.
#[derive(Debug, Clone)]
pub struct KeptPaths {
    /// The control socket.
    pub socket: PathBuf,
    /// ssh's log (`-E`).
    pub log: PathBuf,
    /// Held (flock) while a lutf checks or starts this master.
    pub lock: PathBuf,
    /// What it connects to, for `lutf status` (see [`Note`]).
    pub note: PathBuf,
}

impl KeptPaths {
    fn of_key(base: &Path, key: &str) -> KeptPaths {
        KeptPaths {
            socket: base.join(key),
            log: base.join(format!("{key}.log")),
            lock: base.join(format!("{key}.lock")),
            note: base.join(format!("{key}.note")),
        }
    }

    /// Removes the socket, log and note (not the lock: others may hold it).
    pub fn remove(&self) {
        for p in [&self.socket, &self.log, &self.note] {
            let _ = std::fs::remove_file(p);
        }
    }
}

/// The key of the master for `target` with `options`: 16 hex digits of a sha256.
pub fn key(target: &SshTarget, options: &SshOptions) -> String {
    key_with(target, options, true)
}

/// [`key`], with or without the configuration files' size, time and inode (`stamps`).
fn key_with(target: &SshTarget, options: &SshOptions, stamps: bool) -> String {
    let mut h = Sha256::new();
    let mut field = |s: &str| {
        h.update(s.as_bytes());
        h.update([0]);
    };
    field(&target.host);
    field(target.user.as_deref().unwrap_or(""));
    field(&target.port.map(|p| p.to_string()).unwrap_or_default());
    // The configuration in use: the named file, else the user's (ssh -F replaces both the
    // user's and the system's files).
    let config = match &options.config_file {
        Some(f) => std::path::absolute(f).unwrap_or_else(|_| f.clone()),
        None => home_config(),
    };
    field(&config.to_string_lossy());
    if stamps {
        let stamp = std::fs::metadata(&config)
            .map(|m| format!("{} {} {} {}", m.len(), m.mtime(), m.mtime_nsec(), m.ino()))
            .unwrap_or_default();
        field(&stamp);
    }
    if stamps && options.config_file.is_none() {
        let system = std::fs::metadata("/etc/ssh/ssh_config")
            .map(|m| format!("{} {} {}", m.len(), m.mtime(), m.ino()))
            .unwrap_or_default();
        field(&system);
    }
    field(&format!(
        "{} {} {}",
        options.strict_host_keys,
        options.connect_timeout.as_secs(),
        options.keepalive.as_secs()
    ));
    h.finalize()[..8]
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

fn home_config() -> PathBuf {
    let home = std::env::var_os("HOME").unwrap_or_default();
    Path::new(&home).join(".ssh/config")
}

/// The paths for `target`, creating the private folder when needed.
pub fn paths(target: &SshTarget, options: &SshOptions) -> std::io::Result<KeptPaths> {
    let base = base();
    super::local::ensure_private_dir(&base).map_err(|e| std::io::Error::other(e.to_string()))?;
    Ok(KeptPaths::of_key(&base, &key(target, options)))
}

/// Removes the notes and logs of masters that are gone (their socket is: ssh removes it
/// as it exits), unless another lutf holds their lock right now. Lock files stay: a lock
/// file removed while another lutf waits on it would let two lutfs start one master.
pub fn prune_gone() {
    let base = base();
    let Ok(entries) = std::fs::read_dir(&base) else {
        return;
    };
    for e in entries.filter_map(Result::ok) {
        let name = e.file_name().to_string_lossy().into_owned();
        let Some(key) = name.strip_suffix(".note") else {
            continue;
        };
        let p = KeptPaths::of_key(&base, key);
        if p.socket.exists() {
            continue;
        }
        let Ok(f) = std::fs::File::open(&p.lock) else {
            continue;
        };
        // SAFETY: flock on an open descriptor we own; released when `f` closes.
        if unsafe { libc::flock(f.as_raw_fd(), libc::LOCK_EX | libc::LOCK_NB) } == 0
            && !p.socket.exists()
        {
            p.remove();
        }
    }
}

/// What a kept master connects to, written beside its socket.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Note {
    /// The node as lutf names it (`user@host:port`).
    pub target: String,
    /// The remote user, as `ssh -G` resolved it (names the default work directory).
    pub user: Option<String>,
    /// `--persist`: seconds it stays without a channel.
    pub persist: u64,
}

impl Note {
    /// Writes the note (`key=value` lines).
    pub fn write(&self, path: &Path) -> std::io::Result<()> {
        let text = format!(
            "target={}\nuser={}\npersist={}\n",
            self.target.replace('\n', " "),
            self.user.as_deref().unwrap_or("").replace('\n', " "),
            self.persist
        );
        std::fs::write(path, text)
    }

    /// Reads a note; `None` when there is none.
    pub fn read(path: &Path) -> Option<Note> {
        let text = std::fs::read_to_string(path).ok()?;
        let mut note = Note::default();
        for line in text.lines() {
            match line.split_once('=') {
                Some(("target", v)) => note.target = v.to_string(),
                Some(("user", v)) if !v.is_empty() => note.user = Some(v.to_string()),
                Some(("persist", v)) => note.persist = v.parse().unwrap_or(0),
                _ => {}
            }
        }
        Some(note)
    }
}

/// What `ssh -G` said about a node's configuration, kept between commands so that a
/// repeated command does not run it again (see [`ConfigAnswer::read`]).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ConfigAnswer {
    /// The configuration sends known hosts to `/dev/null`: lutf refuses the node.
    pub refused: bool,
    /// The user ssh logs in as (names the default work directory).
    pub user: Option<String>,
    /// Every file ssh read for it (`Include`d ones too) and the folders that an `Include`
    /// looks in: a change to any of them (a file edited, added or removed) makes the
    /// answer stale.
    pub sources: Vec<PathBuf>,
}

/// A file's or folder's size, modification time and inode ("-" when there is none): what
/// changes when it is written, replaced, or (a folder) gains or loses an entry.
fn stamp(path: &Path) -> String {
    std::fs::metadata(path)
        .map(|m| format!("{} {} {} {}", m.len(), m.mtime(), m.mtime_nsec(), m.ino()))
        .unwrap_or_else(|_| "-".into())
}

/// Where the answer of `ssh -G` for `target` with `options` is kept:
/// `/tmp/lutf-keep-<uid>/<key>.sshg`, named without the configuration files' stamps so that
/// an edited file rewrites the same entry rather than adding one. The folder is created
/// when needed.
pub fn config_answer_path(target: &SshTarget, options: &SshOptions) -> std::io::Result<PathBuf> {
    let base = base();
    super::local::ensure_private_dir(&base).map_err(|e| std::io::Error::other(e.to_string()))?;
    Ok(base.join(format!("{}.sshg", key_with(target, options, false))))
}

impl ConfigAnswer {
    /// The kept answer for `target` with `options`, if there is one and it was made with
    /// the configuration as it is now (same [`key`]: path, size, time and inode of the
    /// files); `None` otherwise (missing, stale or unreadable: run `ssh -G` again).
    pub fn read(target: &SshTarget, options: &SshOptions) -> Option<ConfigAnswer> {
        let path = config_answer_path(target, options).ok()?;
        let text = std::fs::read_to_string(path).ok()?;
        let mut lines = text.lines();
        if lines.next()? != format!("key={}", key(target, options)) {
            return None;
        }
        let mut answer = ConfigAnswer::default();
        let mut refused = None;
        for line in lines {
            match line.split_once('=') {
                Some(("refused", "0")) => refused = Some(false),
                Some(("refused", "1")) => refused = Some(true),
                Some(("user", v)) if !v.is_empty() => answer.user = Some(v.to_string()),
                Some(("user", _)) => {}
                Some(("source", v)) => {
                    let (was, path) = v.split_once('\t')?;
                    if stamp(Path::new(path)) != was {
                        return None;
                    }
                    answer.sources.push(PathBuf::from(path));
                }
                // Anything else is not ours: do not trust the rest either.
                _ => return None,
            }
        }
        // A half-written entry has no verdict.
        answer.refused = refused?;
        Some(answer)
    }

    /// Keeps this answer for `target` with `options` (written aside, then renamed: a
    /// concurrent reader sees the old entry or the new one, never half of one).
    pub fn write(&self, target: &SshTarget, options: &SshOptions) -> std::io::Result<()> {
        let path = config_answer_path(target, options)?;
        let user = self.user.as_deref().unwrap_or("");
        if user.contains(['\n', '\r']) {
            return Err(std::io::Error::other("a user name with a line break"));
        }
        let mut text = format!(
            "key={}\nrefused={}\nuser={user}\n",
            key(target, options),
            u8::from(self.refused)
        );
        for source in &self.sources {
            let path = source.to_str().filter(|p| !p.contains(['\n', '\t']));
            let Some(path) = path else {
                return Err(std::io::Error::other(
                    "a configuration file name lutf cannot keep",
                ));
            };
            text.push_str(&format!("source={}\t{path}\n", stamp(source)));
        }
        let tmp = path.with_extension(format!("sshg.{}", std::process::id()));
        std::fs::write(&tmp, text)?;
        std::fs::rename(&tmp, &path).inspect_err(|_| {
            let _ = std::fs::remove_file(&tmp);
        })
    }
}

/// The process id of the master serving `socket`, if one answers there.
pub async fn master_pid(socket: &Path) -> Option<u32> {
    if !socket.exists() {
        return None;
    }
    let check = async {
        let mut c = openssh_mux_client::Connection::connect(socket).await.ok()?;
        c.send_alive_check().await.ok().map(|p| p.get())
    };
    tokio::time::timeout(Duration::from_secs(2), check)
        .await
        .ok()
        .flatten()
}

/// A held lock on one key (released on drop).
#[derive(Debug)]
pub struct KeyLock(#[allow(dead_code)] std::fs::File);

/// Takes the lock at `path`, waiting for another lutf that holds it (it is starting or
/// checking the same master).
pub async fn lock(path: &Path) -> std::io::Result<KeyLock> {
    let f = std::fs::OpenOptions::new()
        .create(true)
        .truncate(false)
        .write(true)
        .open(path)?;
    let mut pause = Duration::from_millis(2);
    loop {
        // SAFETY: flock on an open descriptor we own.
        if unsafe { libc::flock(f.as_raw_fd(), libc::LOCK_EX | libc::LOCK_NB) } == 0 {
            return Ok(KeyLock(f));
        }
        let e = std::io::Error::last_os_error();
        if e.raw_os_error() != Some(libc::EWOULDBLOCK) {
            return Err(e);
        }
        tokio::time::sleep(pause).await;
        pause = (pause * 2).min(Duration::from_millis(50));
    }
}

/// One kept connection, as `lutf status` shows it.
#[derive(Debug, Clone, serde::Serialize)]
pub struct Kept {
    /// The node (`user@host:port`, as lutf was given it).
    pub target: String,
    /// The control socket.
    pub socket: PathBuf,
    /// The master's process id; `None` when no master answers (it is gone).
    pub pid: Option<u32>,
    /// Seconds it stays without a channel.
    pub persist: u64,
}

/// Every kept connection of this user (those whose master is gone included, with no pid).
pub async fn list() -> Vec<Kept> {
    let Ok(entries) = std::fs::read_dir(base()) else {
        return Vec::new();
    };
    let mut out = Vec::new();
    for e in entries.filter_map(Result::ok) {
        let name = e.file_name().to_string_lossy().into_owned();
        let Some(key) = name.strip_suffix(".note") else {
            continue;
        };
        let p = KeptPaths::of_key(&base(), key);
        let note = Note::read(&p.note).unwrap_or_default();
        out.push(Kept {
            target: note.target,
            pid: master_pid(&p.socket).await,
            socket: p.socket,
            persist: note.persist,
        });
    }
    out.sort_by(|a, b| a.target.cmp(&b.target));
    out
}

/// Ends the master at `paths` (if one answers) and removes its files; whether one did.
pub async fn close(paths: &KeptPaths) -> bool {
    let pid = master_pid(&paths.socket).await;
    if let Some(pid) = pid {
        // SAFETY: kill has no memory-safety preconditions; the pid is the one the master
        // behind our private socket gave.
        unsafe { libc::kill(pid as libc::pid_t, libc::SIGTERM) };
    }
    paths.remove();
    pid.is_some()
}

/// Ends every kept master of this user; how many were running.
pub async fn close_all() -> usize {
    let Ok(entries) = std::fs::read_dir(base()) else {
        return 0;
    };
    let mut closed = 0;
    for e in entries.filter_map(Result::ok) {
        let name = e.file_name().to_string_lossy().into_owned();
        if let Some(key) = name.strip_suffix(".note") {
            let p = KeptPaths::of_key(&base(), key);
            closed += usize::from(close(&p).await);
            let _ = std::fs::remove_file(&p.lock);
        }
    }
    closed
}

#[cfg(test)]
mod tests {
    use super::*;

    fn target(host: &str, user: Option<&str>, port: Option<u16>) -> SshTarget {
        SshTarget {
            host: host.into(),
            user: user.map(Into::into),
            port,
        }
    }

    #[test]
    fn keys_differ_with_anything_that_changes_the_connection() {
        let dir = tempfile::tempdir().unwrap();
        let cfg = dir.path().join("cfg");
        std::fs::write(&cfg, "Host a\n").unwrap();
        let o = SshOptions {
            config_file: Some(cfg.clone()),
            ..SshOptions::default()
        };
        let base = key(&target("a", None, None), &o);
        assert_eq!(base.len(), 16);
        assert_eq!(base, key(&target("a", None, None), &o));
        let mut others = vec![
            key(&target("b", None, None), &o),
            key(&target("a", Some("u"), None), &o),
            key(&target("a", None, Some(2222)), &o),
            key(&target("a", None, None), &SshOptions::default()),
            key(
                &target("a", None, None),
                &SshOptions {
                    strict_host_keys: true,
                    ..o.clone()
                },
            ),
            key(
                &target("a", None, None),
                &SshOptions {
                    keepalive: Duration::from_secs(1),
                    ..o.clone()
                },
            ),
        ];
        // The same file edited.
        std::fs::write(&cfg, "Host a\n  Port 2\n").unwrap();
        others.push(key(&target("a", None, None), &o));
        for k in &others {
            assert_ne!(*k, base);
        }
        others.sort();
        others.dedup();
        assert_eq!(others.len(), 7);
    }

    #[test]
    fn notes_round_trip() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("n");
        let n = Note {
            target: "root@node1:22".into(),
            user: Some("root".into()),
            persist: 60,
        };
        n.write(&p).unwrap();
        assert_eq!(Note::read(&p), Some(n));
        assert_eq!(Note::read(&dir.path().join("none")), None);
    }
}
