//! The SSH transport: a node over one OpenSSH master connection, every helper call a new
//! channel on it (the `openssh` crate's native multiplexing client).
//!
//! - The master is the system `ssh` (so `~/.ssh/config`, agents and `ProxyJump` apply;
//!   `--ssh-config` names another file), started by lutf in a session of its own with a
//!   parent-death signal: it dies with lutf, even on `SIGKILL`, and a Ctrl-C at the terminal
//!   does not cut the connections the runner still needs for cleanup.
//! - Key or agent authentication only (`BatchMode`); host keys `accept-new`, or `yes` with
//!   `--strict-host-keys`; a changed host key is always refused by ssh itself.
//! - `ConnectTimeout` bounds connecting; `ServerAliveInterval` (`--keepalive`) with
//!   `ServerAliveCountMax=2` makes the master give up on a dead or cut-off node after three
//!   silent intervals (15 s by default). A call in flight then fails with
//!   [`TransportError::Unreachable`] carrying ssh's own words, and the next call reconnects.
//! - At most [`SshOptions::max_sessions`] channels per node at once (sshd's `MaxSessions` is
//!   10 by default); further calls wait their turn.
//! - Control sockets live in a short per-run folder `/tmp/lutf-ssh-<uid>/<pid>.<n>/` (socket
//!   paths are limited to 108 bytes), locked while the run lives and removed when it ends;
//!   folders left by a crashed run are found unlocked and removed by the next one.
//! - With [`SshOptions::persist`] the master is kept after lutf ends instead, and the next
//!   lutf with the same node and options uses it (see [`super::kept`]).
//! - Deploying checks the bundle with one exec of the helper at its content-addressed path
//!   (`lutf-helper --bundle HASH`, see [`check_command`]); only when that does not answer
//!   does the Python installer run. [`SshTransport::deploy_and_call`] makes that check and
//!   the first call one channel: every channel pays the node user's shell start-up files.
//! - With nothing kept (`--persist 0`) that first check and call is not even a channel of
//!   a master: it is one plain `ssh host 'check'` process, as pdsh's `ssh host true`; a
//!   master starts only when the bundle must be installed or more calls follow.
//! - `ssh -G`'s answer (the login user, and whether the configuration turns host key
//!   checking off) is kept in `/tmp/lutf-keep-<uid>/` until the configuration file
//!   changes ([`kept::ConfigAnswer`]): a repeated command does not run it again.

use std::fs::File;
use std::io::Read as _;
use std::os::unix::fs::DirBuilderExt;
use std::os::unix::io::AsRawFd;
use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, OnceLock, Weak};
use std::time::{Duration, Instant};

use openssh::Session;
use tokio::io::{AsyncBufReadExt, AsyncReadExt, AsyncWriteExt, BufReader};
use tokio::sync::Semaphore;

use super::deploy::{file_header, installer_command, shell_quote, InstallerSays, INSTALLER};
use super::kept::{self, KeptPaths};
use super::{
    exchange, read_stderr, BoxFuture, Deployed, RawReply, ReadError, Transport, TransportError,
};
use crate::bundle::{Bundle, HELPER_NAME};
use crate::protocol::{Op, Request, MAX_REPLY_BYTES};

/// The most bytes the node-side installer may say while deploying (a few short JSON
/// lines; more is a broken node, and must not fill the master's memory).
const MAX_INSTALLER_SAYS: u64 = 1 << 20;
/// How long a call waits for sshd to accept a new session when it refuses one.
pub const SESSION_WAIT: Duration = Duration::from_secs(10);
/// How many missed keepalives make a node lost (`ServerAliveCountMax`).
pub const KEEPALIVE_COUNT: u32 = 2;

/// How lutf uses ssh; the same for every node of a run.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SshOptions {
    /// An ssh configuration file to use instead of `~/.ssh/config` (`ssh -F`).
    pub config_file: Option<PathBuf>,
    /// Refuse hosts whose key is not known yet (`StrictHostKeyChecking=yes`) instead of
    /// recording them on first use (`accept-new`).
    pub strict_host_keys: bool,
    /// How long connecting may take (`ConnectTimeout`).
    pub connect_timeout: Duration,
    /// Keepalive interval (`ServerAliveInterval`): a node that stays silent for
    /// `(KEEPALIVE_COUNT + 1) ×` this is lost.
    pub keepalive: Duration,
    /// The most helper calls in flight on one node; more wait.
    pub max_sessions: usize,
    /// Keep the master connection this long without a channel after lutf ends, for the next
    /// lutf to use (`ControlPersist`); zero: it ends with lutf.
    pub persist: Duration,
}

impl Default for SshOptions {
    fn default() -> Self {
        SshOptions {
            config_file: None,
            strict_host_keys: false,
            connect_timeout: Duration::from_secs(10),
            keepalive: Duration::from_secs(5),
            max_sessions: 8,
            persist: Duration::ZERO,
        }
    }
}

impl SshOptions {
    /// The time within which a dead or cut-off node is noticed.
    pub fn loss_bound(&self) -> Duration {
        self.keepalive * (KEEPALIVE_COUNT + 1)
    }

    /// How long connecting and authenticating may take in all, past which lutf gives up
    /// even if ssh has not (a server that accepts TCP and then says nothing).
    fn setup_deadline(&self) -> Duration {
        (self.connect_timeout * 2).max(self.connect_timeout + Duration::from_secs(5))
    }
}

/// Where a node is.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SshTarget {
    /// Host name or address, or a `Host` alias of the ssh configuration.
    pub host: String,
    /// Remote user (else ssh's configuration or the local user).
    pub user: Option<String>,
    /// Port (else ssh's configuration or 22).
    pub port: Option<u16>,
}

impl std::fmt::Display for SshTarget {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        if let Some(u) = &self.user {
            write!(f, "{u}@")?;
        }
        f.write_str(&self.host)?;
        if let Some(p) = self.port {
            write!(f, ":{p}")?;
        }
        Ok(())
    }
}

/// One node over SSH.
#[derive(Debug)]
pub struct SshTransport {
    target: SshTarget,
    options: Arc<SshOptions>,
    /// The work directory asked for (`None`: the node's `/tmp/lutf-<user>`).
    workdir_asked: Option<String>,
    /// The work directory in use: the one asked for, or what the node said at deploy.
    workdir: OnceLock<String>,
    sessions: Semaphore,
    master: tokio::sync::Mutex<Option<Arc<Master>>>,
    bundle_dir: Mutex<Option<String>>,
    /// The first call went over a direct connection (see [`Self::run_direct`]).
    direct: std::sync::atomic::AtomicBool,
}

impl SshTransport {
    /// A node at `target`; nothing is connected until the first deploy or call.
    pub fn new(target: SshTarget, workdir: Option<String>, options: Arc<SshOptions>) -> Self {
        let workdir_lock = OnceLock::new();
        if let Some(w) = &workdir {
            let _ = workdir_lock.set(w.clone());
        }
        SshTransport {
            target,
            sessions: Semaphore::new(options.max_sessions.max(1)),
            options,
            workdir_asked: workdir,
            workdir: workdir_lock,
            master: tokio::sync::Mutex::new(None),
            bundle_dir: Mutex::new(None),
            direct: std::sync::atomic::AtomicBool::new(false),
        }
    }

    /// Where the node is.
    pub fn target(&self) -> &SshTarget {
        &self.target
    }

    /// Connects now (if not connected yet) and returns how long that took (zero when the
    /// connection was already up).
    pub async fn connect(&self) -> Result<Duration, TransportError> {
        let start = Instant::now();
        let mut guard = self.master.lock().await;
        if let Some(m) = guard.as_ref() {
            if !m.exited() {
                return Ok(Duration::ZERO);
            }
        }
        *guard = Some(Arc::new(Master::start(&self.target, &self.options).await?));
        Ok(start.elapsed())
    }

    /// The control socket of the live master connection, if any (for `ssh -S` next to lutf,
    /// as the benchmarks do).
    pub async fn control_socket(&self) -> Option<PathBuf> {
        let guard = self.master.lock().await;
        guard
            .as_ref()
            .filter(|m| !m.exited())
            .map(|m| m.socket.clone())
    }

    /// Closes the connection now: calls in flight fail as if the node were lost, the next
    /// call reconnects.
    pub async fn disconnect(&self) {
        if let Some(m) = self.master.lock().await.take() {
            m.stop();
        }
    }

    /// The live master, started when there is none or the last one died.
    async fn master(&self) -> Result<Arc<Master>, TransportError> {
        let mut guard = self.master.lock().await;
        if let Some(m) = guard.as_ref() {
            if !m.exited() {
                return Ok(m.clone());
            }
            tracing::info!(host = %self.target, "ssh connection gone ({}); reconnecting", m.log_text());
        }
        let m = Arc::new(Master::start(&self.target, &self.options).await?);
        *guard = Some(m.clone());
        Ok(m)
    }

    /// Forgets `dead` so that the next call reconnects.
    async fn forget(&self, dead: &Arc<Master>) {
        let mut guard = self.master.lock().await;
        if guard.as_ref().is_some_and(|m| Arc::ptr_eq(m, dead)) {
            guard.take();
        }
    }

    /// Opens a channel running `command` (a line for the remote user's shell). Nothing ran
    /// when opening fails, so two failures are retried: a dead master (reconnect once),
    /// and sshd refusing the session because the sessions of calls that just ended are
    /// not freed yet (its `MaxSessions`; wait a little, for up to [`SESSION_WAIT`]).
    async fn open(
        &self,
        command: &str,
    ) -> Result<(Arc<Master>, openssh::Child<Arc<Session>>), TransportError> {
        let mut reconnected = false;
        let refused_since = Instant::now();
        let mut pause = Duration::from_millis(5);
        loop {
            let master = self.master().await?;
            let spawned = master
                .session
                .clone()
                .arc_raw_command(command)
                .stdin(openssh::Stdio::piped())
                .stdout(openssh::Stdio::piped())
                .stderr(openssh::Stdio::piped())
                .spawn()
                .await;
            let e = match spawned {
                Ok(child) => return Ok((master, child)),
                Err(e) => e,
            };
            let why = error_chain(&e);
            if master.alive().await {
                if why.contains("open refused") && refused_since.elapsed() < SESSION_WAIT {
                    tracing::debug!(host = %self.target, "{why}; retrying");
                    tokio::time::sleep(pause).await;
                    pause = (pause * 2).min(Duration::from_millis(200));
                    continue;
                }
                let hint = if why.contains("open refused") {
                    " (is sshd's MaxSessions below --max-sessions?)"
                } else {
                    ""
                };
                return Err(TransportError::Io(std::io::Error::other(format!(
                    "ssh could not open a channel to {}: {why}{hint}",
                    self.target
                ))));
            }
            self.forget(&master).await;
            if reconnected {
                let why = master.loss_text(&self.target).await;
                return Err(TransportError::Unreachable(why));
            }
            reconnected = true;
        }
    }

    /// What a failure during a call means: the node is lost when its master connection is
    /// gone, else a local I/O problem.
    async fn failure(&self, master: &Arc<Master>, what: String) -> TransportError {
        if master.alive().await {
            TransportError::Io(std::io::Error::other(what))
        } else {
            self.forget(master).await;
            TransportError::Unreachable(master.loss_text(&self.target).await)
        }
    }

    /// Runs `command` (one line for the remote user's shell) over the shared connection,
    /// with `input` on its stdin; brings back its output and exit code. Helper calls and
    /// deployment go through here; tests and benchmarks use it for plain commands.
    pub async fn run(&self, command: &str, input: &[u8]) -> Result<RawReply, TransportError> {
        self.run_bounded(command, input, MAX_REPLY_BYTES).await
    }

    /// [`Self::run`], failing with [`TransportError::ReplyTooLarge`] past `max_reply` bytes
    /// of stdout.
    async fn run_bounded(
        &self,
        command: &str,
        input: &[u8],
        max_reply: usize,
    ) -> Result<RawReply, TransportError> {
        let _permit = self.sessions.acquire().await.expect("never closed");
        let (master, mut child) = self.open(command).await?;
        let stdin = child.stdin().take();
        let stdout = child.stdout().take();
        let stderr = child.stderr().take();
        let (out, err) = match exchange(stdin, input, stdout, stderr, max_reply).await {
            Ok((out, err)) => (Ok(out), err),
            // Dropping the channel here makes the remote side's next write fail.
            Err(ReadError::TooLarge) => {
                return Err(TransportError::ReplyTooLarge { limit: max_reply })
            }
            Err(ReadError::Io(e)) => (Err(e), Vec::new()),
        };
        let status = child.wait().await;
        self.reply(&master, status, out, err).await
    }

    /// Turns the end of a channel into a reply or an error.
    async fn reply(
        &self,
        master: &Arc<Master>,
        status: Result<std::process::ExitStatus, openssh::Error>,
        out: std::io::Result<Vec<u8>>,
        stderr: Vec<u8>,
    ) -> Result<RawReply, TransportError> {
        let exit_code = match status {
            Ok(s) => s.code(),
            // The remote shell's "command not found": keep it a reply, its stderr says more.
            Err(openssh::Error::Remote(e)) if e.kind() == std::io::ErrorKind::NotFound => Some(127),
            // Killed by a signal, or the connection went: only the master can tell.
            Err(openssh::Error::RemoteProcessTerminated) => {
                if master.alive().await {
                    None
                } else {
                    self.forget(master).await;
                    let why = master.loss_text(&self.target).await;
                    return Err(TransportError::Unreachable(why));
                }
            }
            Err(e) => return Err(self.failure(master, e.to_string()).await),
        };
        let stdout = match out {
            Ok(o) => o,
            Err(e) => {
                return Err(self
                    .failure(master, format!("reading the reply: {e}"))
                    .await)
            }
        };
        Ok(RawReply {
            stdout,
            stderr,
            exit_code,
        })
    }

    /// Deploys `bundle` and, when `request` is given, makes the first call: when the node
    /// has the bundle, both are one exec of its helper (see [`check_command`]); else the
    /// installer runs, then the call.
    ///
    /// With nothing kept ([`SshOptions::persist`] zero) and no master up yet, the check
    /// and the call are one plain `ssh host 'check'` ([`Self::run_direct`]), as pdsh runs
    /// `ssh host true`: no master, no control socket. Only when the bundle is not there
    /// does a master start, for the installer and the call.
    async fn deploy_checked(
        &self,
        bundle: &Bundle,
        request: Option<(&[u8], usize)>,
    ) -> Result<(Deployed, Option<RawReply>), TransportError> {
        // A master to come back to (kept, or up already) is cheaper than a new connection.
        let direct = request.is_some() && self.options.persist.is_zero() && !self.master_up().await;
        let user = if direct {
            // Before connecting: a refused configuration must not reach the node at all.
            ssh_config_check(&self.target, &self.options).await?
        } else {
            self.master().await?.user.clone()
        };
        // The installer's default, from the user ssh logs in as.
        let workdir = self
            .workdir_asked
            .clone()
            .or_else(|| user.map(|u| format!("/tmp/lutf-{u}")));
        if let Some(workdir) = workdir {
            let (command, dir) = check_command(&workdir, bundle);
            let hello;
            let (input, max_reply) = match request {
                Some(r) => r,
                None => {
                    hello = Request::from(Op::Hello).to_yaml();
                    (hello.as_bytes(), Op::Hello.max_reply_bytes())
                }
            };
            let reply = if direct {
                self.run_direct(&command, input, max_reply).await?
            } else {
                self.run_bounded(&command, input, max_reply).await?
            };
            let answered = match reply.exit_code {
                // The shell found no helper of ours there, or the helper no intact bundle:
                // nothing ran.
                Some(126 | 127 | crate::protocol::exit::BUNDLE) => false,
                // Any answer to the caller's request is its reply; a bare check wants a
                // clean one.
                code => request.is_some() || code == Some(0),
            };
            if answered {
                if direct {
                    self.direct.store(true, Ordering::Relaxed);
                }
                let _ = self.workdir.set(workdir);
                *self.bundle_dir.lock().unwrap() = Some(dir.clone());
                let deployed = Deployed {
                    dir,
                    bytes_sent: 0,
                    pruned: 0,
                };
                return Ok((deployed, request.map(|_| reply)));
            }
            tracing::debug!(
                host = %self.target,
                code = ?reply.exit_code,
                "bundle {} not ready at {dir} ({}); running the installer",
                bundle.id(),
                String::from_utf8_lossy(&reply.stderr).trim()
            );
        }
        let deployed = self.deploy_bundle(bundle).await?;
        let reply = match request {
            Some((input, max_reply)) => Some(self.call_helper(input, max_reply).await?),
            None => None,
        };
        Ok((deployed, reply))
    }

    /// Whether a master connection is up.
    async fn master_up(&self) -> bool {
        let guard = self.master.lock().await;
        guard.as_ref().is_some_and(|m| !m.exited())
    }

    /// Runs `command` with `input` on its stdin as one plain `ssh` process, no master: one
    /// connection for one command, as `ssh host true` is. The same options, bounds and
    /// loss detection as a master ([`connection_args`]): connecting and authenticating
    /// must end within [`SshOptions::setup_deadline`] (ssh logs it at `VERBOSE`), a silent
    /// node is lost after the keepalives; an ssh that exits 255 having said why is an
    /// unreachable node, in ssh's words.
    async fn run_direct(
        &self,
        command: &str,
        input: &[u8],
        max_reply: usize,
    ) -> Result<RawReply, TransportError> {
        check_host(&self.target)?;
        let _permit = self.sessions.acquire().await.expect("never closed");
        let dir = ControlDir::get().map_err(|e| {
            TransportError::Io(std::io::Error::other(format!(
                "cannot set up the ssh control folder: {e}"
            )))
        })?;
        let (_, log) = dir.next_paths();
        let mut cmd = std::process::Command::new("ssh");
        // No multiplexing, whatever the user's configuration says: nothing stays.
        cmd.args(["-o", "ControlMaster=no", "-o", "ControlPath=none"])
            .args(connection_args(&self.options, &log, "VERBOSE"))
            .args(target_args(&self.target, &self.options))
            .arg(command)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped());
        let start = Instant::now();
        // As a master's: no terminal's Ctrl-C, and it dies with lutf.
        let mut child = spawn_ssh(cmd, true).await?;
        let pipes = (|| {
            Ok::<_, std::io::Error>((
                child
                    .stdin
                    .take()
                    .map(tokio::process::ChildStdin::from_std)
                    .transpose()?,
                child
                    .stdout
                    .take()
                    .map(tokio::process::ChildStdout::from_std)
                    .transpose()?,
                child
                    .stderr
                    .take()
                    .map(tokio::process::ChildStderr::from_std)
                    .transpose()?,
            ))
        })();
        let (stdin, stdout, stderr) = match pipes {
            Ok(p) => p,
            Err(e) => {
                reap_from_long_lived_thread(child);
                return Err(TransportError::Io(e));
            }
        };
        let deadline = start + self.options.setup_deadline();
        // Resolves only when connecting has not ended by the deadline.
        let setup = async {
            let mut pause = Duration::from_millis(2);
            while Instant::now() < deadline {
                if authenticated(&log) {
                    return std::future::pending().await;
                }
                tokio::time::sleep(pause).await;
                pause = (pause * 2).min(Duration::from_millis(50));
            }
        };
        let io = tokio::select! {
            io = exchange(stdin, input, stdout, stderr, max_reply) => io,
            () = setup => {
                reap_from_long_lived_thread(child);
                let text = direct_text(&log, b"");
                let _ = std::fs::remove_file(&log);
                return Err(TransportError::Unreachable(format!(
                    "no ssh connection to {} after {} s{}{text}",
                    self.target,
                    self.options.setup_deadline().as_secs(),
                    if text.is_empty() { "" } else { ": " }
                )));
            }
        };
        let (stdout, stderr) = match io {
            Ok(o) => o,
            Err(e) => {
                // Ending ssh ends the connection: the remote side's next write fails.
                reap_from_long_lived_thread(child);
                let _ = std::fs::remove_file(&log);
                return Err(match e {
                    ReadError::TooLarge => TransportError::ReplyTooLarge { limit: max_reply },
                    ReadError::Io(e) => {
                        TransportError::Io(std::io::Error::other(format!("reading the reply: {e}")))
                    }
                });
            }
        };
        // Its output has ended: ssh is exiting.
        let status = tokio::task::spawn_blocking(move || child.wait())
            .await
            .map_err(std::io::Error::other)
            .and_then(|s| s)?;
        let text = direct_text(&log, &stderr);
        let _ = std::fs::remove_file(&log);
        let exit_code = match status.code() {
            // ssh's own failure (it said why), or the remote command killed by a signal
            // (it said nothing, as over a master).
            Some(255) if !text.is_empty() => return Err(TransportError::Unreachable(text)),
            Some(255) => None,
            Some(c) => Some(c),
            None => {
                return Err(TransportError::Unreachable(format!(
                    "ssh to {} was killed ({status})",
                    self.target
                )))
            }
        };
        Ok(RawReply {
            stdout,
            stderr,
            exit_code,
        })
    }

    /// One call of the deployed helper.
    async fn call_helper(
        &self,
        request: &[u8],
        max_reply: usize,
    ) -> Result<RawReply, TransportError> {
        let dir = self
            .bundle_dir
            .lock()
            .unwrap()
            .clone()
            .ok_or(TransportError::NotDeployed)?;
        let workdir = self.workdir.get().cloned().unwrap_or_default();
        // By absolute path: no PATH lookup, whatever the remote shell's rc files do.
        let command = format!(
            "exec {} --workdir {}",
            shell_quote(&format!("{dir}/{HELPER_NAME}")),
            shell_quote(&workdir)
        );
        self.run_bounded(&command, request, max_reply).await
    }

    /// Runs the Python installer: checks the bundle by its hash, pushes it when needed.
    async fn deploy_bundle(&self, bundle: &Bundle) -> Result<Deployed, TransportError> {
        let _permit = self.sessions.acquire().await.expect("never closed");
        let command = installer_command(self.workdir_asked.as_deref(), bundle);
        let (master, mut child) = self.open(&command).await?;
        let mut stdin = child.stdin().take().expect("piped");
        let said_bytes = child
            .stdout()
            .take()
            .expect("piped")
            .take(MAX_INSTALLER_SAYS);
        let mut lines = BufReader::new(said_bytes).lines();
        let stderr = tokio::spawn(read_stderr(child.stderr().take()));
        let lost = |e: std::io::Error| format!("talking to the installer: {e}");
        let mut said = Vec::new();
        let mut bytes_sent = 0;
        // A write error means the installer stopped reading: what it said tells why.
        let mut write_error = stdin.write_all(INSTALLER.as_bytes()).await.err();
        if write_error.is_none() {
            while let Some(line) = lines.next_line().await.transpose() {
                let line = match line {
                    Ok(l) => l,
                    Err(e) => return Err(self.failure(&master, lost(e)).await),
                };
                let msg: InstallerSays = serde_json::from_str(&line).map_err(|e| {
                    TransportError::Deploy(format!("the installer said {line:?}: {e}"))
                })?;
                if let InstallerSays::Checked { state, .. } = &msg {
                    if state == "need" {
                        match send_stream(&mut stdin, bundle).await {
                            Ok(n) => bytes_sent = n,
                            Err(e) => write_error = Some(e),
                        }
                    }
                    let _ = stdin.shutdown().await;
                }
                said.push(msg);
            }
        }
        drop(stdin);
        // Past MAX_INSTALLER_SAYS the lines end (the last one cut, so not JSON): closing
        // stdout then stops an installer that would go on talking.
        drop(lines);
        let status = child.wait().await;
        let stderr = stderr.await.unwrap_or_default();
        let reply = self.reply(&master, status, Ok(Vec::new()), stderr).await?;
        let stderr = String::from_utf8_lossy(&reply.stderr).trim().to_string();
        let mut workdir = None;
        let mut pruned = None;
        for msg in said {
            match msg {
                InstallerSays::Checked { workdir: w, .. } => workdir = Some(w),
                InstallerSays::Done { pruned: p, .. } => pruned = Some(p),
                InstallerSays::Error {
                    error,
                    dir,
                    message,
                } => {
                    return Err(if error == "workdir" {
                        TransportError::Workdir {
                            dir,
                            reason: message,
                        }
                    } else {
                        TransportError::Deploy(format!("under {dir}: {message}"))
                    })
                }
                InstallerSays::Installed { .. } => {}
            }
        }
        if let Some(e) = write_error {
            return Err(self.failure(&master, lost(e)).await);
        }
        let (Some(workdir), Some(pruned)) = (workdir, pruned) else {
            return Err(TransportError::Deploy(match reply.exit_code {
                Some(127) => format!(
                    "python3 is not installed on the node (lutf needs python3 3.6 or newer \
                     there): {stderr}"
                ),
                code => format!(
                    "the installer stopped early (exit code {code:?}){}{stderr}",
                    if stderr.is_empty() { "" } else { ": " }
                ),
            }));
        };
        let dir = format!("{}/{}", workdir.trim_end_matches('/'), bundle.id());
        let _ = self.workdir.set(workdir);
        *self.bundle_dir.lock().unwrap() = Some(dir.clone());
        Ok(Deployed {
            dir,
            bytes_sent,
            pruned,
        })
    }
}

/// The command that runs `bundle`'s helper at its content-addressed path under `workdir`
/// with `--bundle HASH` (the helper answers only when the bundle there is that one, intact;
/// else it exits [`crate::protocol::exit::BUNDLE`] having run nothing), and that folder.
/// The shell first makes sure that the work directory, the bundle folder and the helper
/// are ours (`test -O`): nothing another user made there runs; and, since the helper must
/// run before it can check anything, that it was not written after the installer took
/// the files' fingerprint (`-nt`). When any of that fails, or there is no helper, it exits
/// 127, as for a missing command. Plain `test`, `&&`, `||` and `exec`, so that any login
/// shell (sh, bash, zsh, csh) reads it alike.
pub fn check_command(workdir: &str, bundle: &Bundle) -> (String, String) {
    let dir = format!("{}/{}", workdir.trim_end_matches('/'), bundle.id());
    let helper = shell_quote(&format!("{dir}/{HELPER_NAME}"));
    let stamp = shell_quote(&format!("{dir}/{}", super::deploy::FINGERPRINT));
    let (w, d) = (shell_quote(workdir), shell_quote(&dir));
    let command = format!(
        "test -O {w} && test -O {d} && test -O {helper} && test -x {helper} && \
         test ! {helper} -nt {stamp} || exit 127; exec {helper} --workdir {w} --bundle {}",
        bundle.hash()
    );
    (command, dir)
}

/// An error with its sources, `: `-separated.
fn error_chain(e: &dyn std::error::Error) -> String {
    let mut text = e.to_string();
    let mut source = e.source();
    while let Some(s) = source {
        text.push_str(": ");
        text.push_str(&s.to_string());
        source = s.source();
    }
    text
}

/// Writes `bundle` as the installer's stream; returns the bytes written.
async fn send_stream<W: tokio::io::AsyncWrite + Unpin>(
    w: &mut W,
    bundle: &Bundle,
) -> std::io::Result<u64> {
    let mut n = 0;
    for f in bundle.files() {
        let header = file_header(&f.path, f.mode, f.data.len() as u64);
        w.write_all(&header).await?;
        w.write_all(&f.data).await?;
        n += (header.len() + f.data.len()) as u64;
    }
    w.write_all(super::deploy::STREAM_END).await?;
    w.flush().await?;
    Ok(n + super::deploy::STREAM_END.len() as u64)
}

impl Transport for SshTransport {
    fn deploy<'a>(&'a self, bundle: &'a Bundle) -> BoxFuture<'a, Result<Deployed, TransportError>> {
        Box::pin(async move { Ok(self.deploy_checked(bundle, None).await?.0) })
    }

    fn call<'a>(
        &'a self,
        request: &'a [u8],
        max_reply: usize,
    ) -> BoxFuture<'a, Result<RawReply, TransportError>> {
        Box::pin(self.call_helper(request, max_reply))
    }

    fn deploy_and_call<'a>(
        &'a self,
        bundle: &'a Bundle,
        request: &'a [u8],
        max_reply: usize,
    ) -> BoxFuture<'a, Result<(Deployed, RawReply), TransportError>> {
        Box::pin(async move {
            let (deployed, reply) = self
                .deploy_checked(bundle, Some((request, max_reply)))
                .await?;
            Ok((deployed, reply.expect("asked for")))
        })
    }

    fn connection(&self) -> Option<String> {
        let guard = self.master.try_lock().ok()?;
        let Some(m) = guard.as_ref() else {
            return self.direct.load(Ordering::Relaxed).then(|| {
                "direct (--persist 0): one ssh for the check and the call, no master, \
                 nothing left open"
                    .into()
            });
        };
        Some(match &m.kept {
            Some((pid, _)) => format!(
                "kept: ssh master pid {pid} stays {} s after the last call \
                 (`lutf disconnect` closes it)",
                self.options.persist.as_secs()
            ),
            None => "this command's own (--persist 0): closed when lutf ends".into(),
        })
    }

    /// The work directory asked for, else the node's own once deployed (empty before).
    fn workdir(&self) -> &str {
        self.workdir.get().map(String::as_str).unwrap_or("")
    }
}

/// One running `ssh -M` master and the session that multiplexes over it.
#[derive(Debug)]
struct Master {
    /// The master, when it is this lutf's child (else it is kept, see `kept`).
    child: Mutex<Option<std::process::Child>>,
    /// A kept master (`--persist`): its process id and files. It outlives lutf.
    kept: Option<(u32, KeptPaths)>,
    session: Arc<Session>,
    socket: PathBuf,
    log: PathBuf,
    /// Where this use of the log starts (a kept master's log holds earlier runs' lines).
    log_start: u64,
    /// The remote user, as `ssh -G` says (names the default work directory).
    user: Option<String>,
    /// Keeps the control folder alive while this master uses it.
    _dir: Option<Arc<ControlDir>>,
}

impl Master {
    /// Starts `ssh -M` for `target` and waits until its control socket answers; meanwhile
    /// checks that the node's ssh configuration keeps host key checking on. With
    /// [`SshOptions::persist`], uses the kept master when one answers, else starts one that
    /// outlives lutf.
    async fn start(target: &SshTarget, options: &SshOptions) -> Result<Master, TransportError> {
        if !options.persist.is_zero() {
            return Self::start_kept(target, options).await;
        }
        let (master, check) = tokio::join!(
            Self::launch(target, options, None),
            ssh_config_check(target, options)
        );
        // A refused node's master (if it connected) is stopped as it is dropped.
        let user = check?;
        let mut master = master?;
        master.user = user;
        Ok(master)
    }

    async fn start_kept(
        target: &SshTarget,
        options: &SshOptions,
    ) -> Result<Master, TransportError> {
        let folder = |e: std::io::Error| {
            TransportError::Io(std::io::Error::other(format!(
                "cannot set up the folder of kept ssh connections {}: {e}",
                kept::base().display()
            )))
        };
        let paths = kept::paths(target, options).map_err(folder)?;
        // One lutf at a time checks or starts this master.
        let _lock = kept::lock(&paths.lock).await.map_err(folder)?;
        if let Some(pid) = kept::master_pid(&paths.socket).await {
            tracing::debug!(host = %target, pid, "using the kept ssh connection");
            let user = kept::Note::read(&paths.note).and_then(|n| n.user);
            return Ok(Master::of_kept(pid, paths, user));
        }
        // Whatever is left is stale: ssh would not bind its socket over an old one.
        paths.remove();
        // And the notes of other masters that are gone, while at it (a few stats).
        kept::prune_gone();
        let (master, check) = tokio::join!(
            Self::launch(target, options, Some(&paths)),
            ssh_config_check(target, options)
        );
        let user = match check {
            Ok(u) => u,
            Err(e) => {
                if let Ok(m) = master {
                    m.stop();
                }
                return Err(e);
            }
        };
        let mut master = master?;
        master.user.clone_from(&user);
        let note = kept::Note {
            target: target.to_string(),
            user,
            persist: options.persist.as_secs(),
        };
        if let Err(e) = note.write(&paths.note) {
            tracing::debug!("cannot write {}: {e}", paths.note.display());
        }
        Ok(master)
    }

    /// The kept master `pid` serving `paths`.
    fn of_kept(pid: u32, paths: KeptPaths, user: Option<String>) -> Master {
        let log_start = std::fs::metadata(&paths.log).map(|m| m.len()).unwrap_or(0);
        Master {
            child: Mutex::new(None),
            session: Arc::new(Session::resume_mux(
                paths.socket.clone().into_boxed_path(),
                Some(paths.log.clone().into_boxed_path()),
            )),
            socket: paths.socket.clone(),
            log: paths.log.clone(),
            log_start,
            user,
            kept: Some((pid, paths)),
            _dir: None,
        }
    }

    /// Starts the ssh master: this lutf's child, in a per-run folder, dying with lutf; or,
    /// with `keep`, one that goes to the background once connected (`-f`) and stays
    /// [`SshOptions::persist`] after its last channel.
    async fn launch(
        target: &SshTarget,
        options: &SshOptions,
        keep: Option<&KeptPaths>,
    ) -> Result<Master, TransportError> {
        check_host(target)?;
        let (dir, socket, log) = match keep {
            Some(p) => (None, p.socket.clone(), p.log.clone()),
            None => {
                let dir = ControlDir::get().map_err(|e| {
                    TransportError::Io(std::io::Error::other(format!(
                        "cannot set up the ssh control folder: {e}"
                    )))
                })?;
                let (socket, log) = dir.next_paths();
                (Some(dir), socket, log)
            }
        };
        let mut cmd = std::process::Command::new("ssh");
        cmd.args(["-M", "-N"]).arg("-S").arg(&socket);
        match keep {
            Some(_) => cmd.arg("-f").arg("-o").arg(format!(
                "ControlPersist={}s",
                options.persist.as_secs().max(1)
            )),
            None => cmd.args(["-o", "ControlPersist=no"]),
        };
        // INFO: ssh's reasons for losing a node ("Timeout, server ... not responding")
        // are logged at that level; the log is ours whatever the user's config says.
        cmd.args(connection_args(options, &log, "INFO"));
        cmd.args(target_args(target, options));
        // Its stderr goes to the log too: some last words ("Connection to ... closed by
        // remote host.") are printed there, not logged.
        let stderr = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(&log)
            .map_err(|e| {
                TransportError::Io(std::io::Error::other(format!(
                    "cannot create {}: {e}",
                    log.display()
                )))
            })?;
        cmd.stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::from(stderr));
        let start = Instant::now();
        let mut child = spawn_ssh(cmd, keep.is_none()).await?;
        let session = Arc::new(Session::resume_mux(
            socket.clone().into_boxed_path(),
            Some(log.clone().into_boxed_path()),
        ));
        let deadline = start + options.setup_deadline();
        let mut pause = Duration::from_millis(1);
        loop {
            if let Ok(Some(status)) = child.try_wait() {
                // A kept master's foreground ssh exits 0 once the background one serves.
                if let (Some(paths), true) = (keep, status.success()) {
                    if let Some(pid) = kept::master_pid(&socket).await {
                        tracing::debug!(host = %target, ms = start.elapsed().as_millis() as u64, pid, "ssh connected (kept)");
                        return Ok(Master::of_kept(pid, paths.clone(), None));
                    }
                }
                let text = log_text(&log, 0, Some(status));
                let _ = std::fs::remove_file(&log);
                return Err(TransportError::Unreachable(text));
            }
            if keep.is_none()
                && socket.exists()
                && matches!(
                    tokio::time::timeout(Duration::from_secs(2), session.check()).await,
                    Ok(Ok(()))
                )
            {
                tracing::debug!(host = %target, ms = start.elapsed().as_millis() as u64, "ssh connected");
                return Ok(Master {
                    child: Mutex::new(Some(child)),
                    kept: None,
                    session,
                    socket,
                    log,
                    log_start: 0,
                    user: None,
                    _dir: dir,
                });
            }
            if Instant::now() >= deadline {
                let _ = child.kill();
                let _ = child.wait();
                let text = log_text(&log, 0, None);
                let _ = std::fs::remove_file(&log);
                let _ = std::fs::remove_file(&socket);
                return Err(TransportError::Unreachable(format!(
                    "no ssh connection to {target} after {} s{}{text}",
                    options.setup_deadline().as_secs(),
                    if text.is_empty() { "" } else { ": " }
                )));
            }
            tokio::time::sleep(pause).await;
            pause = (pause * 2).min(Duration::from_millis(20));
        }
    }

    /// Whether the ssh process has ended (cheap; no I/O).
    fn exited(&self) -> bool {
        if let Some((pid, _)) = &self.kept {
            // SAFETY: signal 0 only checks that the process exists.
            return unsafe { libc::kill(*pid as libc::pid_t, 0) } != 0
                && std::io::Error::last_os_error().raw_os_error() == Some(libc::ESRCH);
        }
        let mut guard = self.child.lock().unwrap();
        match guard.as_mut() {
            Some(c) => !matches!(c.try_wait(), Ok(None)),
            None => true,
        }
    }

    /// Whether the master still serves its socket: it has not exited and answers an alive
    /// check. A master that lost its node stops answering before it exits.
    async fn alive(&self) -> bool {
        if self.exited() {
            return false;
        }
        let answered = matches!(
            tokio::time::timeout(Duration::from_secs(3), self.session.check()).await,
            Ok(Ok(()))
        );
        answered && !self.exited()
    }

    /// ssh's account of losing the node, once it has had a moment to finish saying it.
    async fn loss_text(&self, target: &SshTarget) -> String {
        let deadline = Instant::now() + Duration::from_secs(2);
        while !self.exited() && Instant::now() < deadline {
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
        let text = self.log_text();
        if text.is_empty() {
            format!("the ssh connection to {target} broke (ssh gave no reason)")
        } else {
            text
        }
    }

    /// ssh's own account of why the connection ended (or failed).
    fn log_text(&self) -> String {
        let status = self
            .child
            .lock()
            .unwrap()
            .as_mut()
            .and_then(|c| c.try_wait().ok().flatten());
        log_text(&self.log, self.log_start, status)
    }
}

impl Master {
    /// Stops the ssh process (from the spawner thread, which also reaps it); a kept one
    /// too, with its files.
    fn stop(&self) {
        if let Some(child) = self.child.lock().unwrap().take() {
            reap_from_long_lived_thread(child);
        }
        if let Some((pid, paths)) = &self.kept {
            // SAFETY: kill has no memory-safety preconditions; the pid is the one the master
            // behind our private socket gave.
            unsafe { libc::kill(*pid as libc::pid_t, libc::SIGTERM) };
            paths.remove();
        }
    }
}

impl Drop for Master {
    fn drop(&mut self) {
        // A kept master stays for the next lutf.
        if self.kept.is_none() {
            self.stop();
            let _ = std::fs::remove_file(&self.socket);
            let _ = std::fs::remove_file(&self.log);
        }
    }
}

/// Refuses a host name ssh would read as an option.
fn check_host(target: &SshTarget) -> Result<(), TransportError> {
    if target.host.starts_with('-') || target.host.is_empty() {
        return Err(TransportError::Unreachable(format!(
            "`{}` is not a host name",
            target.host
        )));
    }
    Ok(())
}

/// ssh's arguments for how lutf connects, the same for a master and a direct connection:
/// no agent, X11 or terminal, keys only, host keys checked, bounded connecting, keepalives,
/// ssh's log in `log` at `level`.
fn connection_args(options: &SshOptions, log: &Path, level: &str) -> Vec<std::ffi::OsString> {
    let mut args: Vec<std::ffi::OsString> = vec!["-T".into(), "-a".into(), "-x".into()];
    args.push("-E".into());
    args.push(log.into());
    let strict = if options.strict_host_keys {
        "StrictHostKeyChecking=yes"
    } else {
        "StrictHostKeyChecking=accept-new"
    };
    for o in [
        "BatchMode=yes".to_string(),
        format!("LogLevel={level}"),
        strict.to_string(),
        format!(
            "ConnectTimeout={}",
            options.connect_timeout.as_secs().max(1)
        ),
        format!("ServerAliveInterval={}", options.keepalive.as_secs().max(1)),
        format!("ServerAliveCountMax={KEEPALIVE_COUNT}"),
        // The user's config is for their own sessions: no forwardings, local or remote
        // commands, or terminals on lutf's connection.
        "ClearAllForwardings=yes".into(),
        "PermitLocalCommand=no".into(),
        "RemoteCommand=none".into(),
        "RequestTTY=no".into(),
    ] {
        args.push("-o".into());
        args.push(o.into());
    }
    args
}

/// What a direct connection's ssh said (its log, then what it printed on stderr, which it
/// shares with the remote command), without its notes and `VERBOSE` chatter: its last
/// three lines.
fn direct_text(log: &Path, stderr: &[u8]) -> String {
    let logged = std::fs::read(log).unwrap_or_default();
    let logged = String::from_utf8_lossy(&logged);
    let printed = String::from_utf8_lossy(stderr);
    let lines: Vec<&str> = logged
        .lines()
        .chain(printed.lines())
        .map(str::trim)
        .filter(|l| {
            !l.is_empty()
                && ![
                    "Warning: Permanently added",
                    "Authenticated to ",
                    "Transferred: ",
                    "Bytes per second: ",
                ]
                .iter()
                .any(|p| l.starts_with(p))
        })
        .collect();
    lines[lines.len().saturating_sub(3)..].join("; ")
}

/// Whether a direct connection's ssh has authenticated (its `VERBOSE` log says so).
fn authenticated(log: &Path) -> bool {
    std::fs::read(log).is_ok_and(|b| {
        b.windows(b"Authenticated to ".len())
            .any(|w| w == b"Authenticated to ")
    })
}

/// Starts `ssh` as `cmd` in a session of its own (as pdsh does for its ssh): a Ctrl-C meant
/// for lutf does not cut the link, no terminal is involved, and with the kernel's autogroup
/// scheduling each connection gets its own share of a busy CPU. With `dies_with_lutf`,
/// it gets SIGTERM whatever ends lutf.
async fn spawn_ssh(
    mut cmd: std::process::Command,
    dies_with_lutf: bool,
) -> Result<std::process::Child, TransportError> {
    // SAFETY: only async-signal-safe calls between fork and exec.
    unsafe {
        cmd.pre_exec(move || {
            libc::setsid();
            if dies_with_lutf {
                libc::prctl(libc::PR_SET_PDEATHSIG, libc::SIGTERM);
            }
            Ok(())
        });
    }
    spawn_from_long_lived_thread(cmd)
        .await
        .map_err(|e| TransportError::Io(std::io::Error::other(format!("cannot run ssh: {e}"))))
}

/// ssh's arguments naming the configuration, user and port for `target`.
fn target_args(target: &SshTarget, options: &SshOptions) -> Vec<std::ffi::OsString> {
    let mut args = Vec::new();
    if let Some(f) = &options.config_file {
        args.push("-F".into());
        args.push(f.into());
    }
    if let Some(u) = &target.user {
        args.push("-l".into());
        args.push(u.into());
    }
    if let Some(p) = target.port {
        args.push("-p".into());
        args.push(p.to_string().into());
    }
    args.push("--".into());
    args.push((&target.host).into());
    args
}

/// Reads the node's ssh configuration (`ssh -G`): refuses a node whose configuration sends
/// known hosts to `/dev/null`, which turns host key checking off behind lutf's back (every
/// key would be "new" and accepted); answers the user ssh logs in as. The answer is kept
/// (see [`kept::ConfigAnswer`]) until the configuration file changes, so that a repeated
/// command does not run `ssh -G` again.
async fn ssh_config_check(
    target: &SshTarget,
    options: &SshOptions,
) -> Result<Option<String>, TransportError> {
    let answer = match kept::ConfigAnswer::read(target, options) {
        Some(a) => a,
        None => {
            let Some(a) = ssh_config_answer(target, options).await else {
                // If ssh cannot even print its configuration, connecting will say why.
                return Ok(None);
            };
            if let Err(e) = a.write(target, options) {
                tracing::debug!(host = %target, "cannot keep ssh -G's answer: {e}");
            }
            a
        }
    };
    if answer.refused {
        return Err(TransportError::Unreachable(format!(
            "lutf refuses to connect to {target}: its ssh configuration sends known hosts to \
             /dev/null (UserKnownHostsFile), which turns host key checking off; point it at \
             a real file"
        )));
    }
    Ok(answer.user)
}

/// Runs `ssh -G` for `target`; `None` when it does not print a configuration.
async fn ssh_config_answer(target: &SshTarget, options: &SshOptions) -> Option<kept::ConfigAnswer> {
    let out = tokio::process::Command::new("ssh")
        // -v: ssh names every file it reads, and every Include that matched none.
        .args(["-G", "-v"])
        .args(target_args(target, options))
        .stdin(Stdio::null())
        .output()
        .await
        .ok()?;
    // A configuration ssh cannot read: nothing to keep, connecting says why.
    if !out.status.success() {
        return None;
    }
    let text = String::from_utf8_lossy(&out.stdout);
    let user = text
        .lines()
        .find_map(|l| l.strip_prefix("user "))
        .map(|u| u.trim().to_string())
        .filter(|u| !u.is_empty());
    let files: Vec<&str> = text
        .lines()
        .filter_map(|l| {
            l.strip_prefix("userknownhostsfile ")
                .or_else(|| l.strip_prefix("globalknownhostsfile "))
        })
        .flat_map(str::split_whitespace)
        .collect();
    Some(kept::ConfigAnswer {
        refused: !files.is_empty() && files.iter().all(|f| *f == "/dev/null"),
        user,
        sources: config_sources(&String::from_utf8_lossy(&out.stderr)),
    })
}

/// The files `ssh -G -v` says it read (`debug1: Reading configuration data FILE`) and the
/// folders their `Include`s look in (a file added there may match): what its answer depends
/// on besides the configuration file itself.
fn config_sources(said: &str) -> Vec<PathBuf> {
    let home = std::env::var_os("HOME")
        .map(PathBuf::from)
        .unwrap_or_default();
    let files: Vec<PathBuf> = said
        .lines()
        .filter_map(|l| l.strip_prefix("debug1: Reading configuration data "))
        .map(|f| PathBuf::from(f.trim()))
        .collect();
    let wild = |p: &Path| p.to_string_lossy().contains(['*', '?', '[']);
    let mut sources = Vec::new();
    for file in &files {
        let text = std::fs::read_to_string(file).unwrap_or_default();
        for line in text.lines() {
            let line = line.trim_start();
            let (word, rest) = line
                .split_once(|c: char| c.is_whitespace() || c == '=')
                .unwrap_or((line, ""));
            if !word.eq_ignore_ascii_case("include") {
                continue;
            }
            let rest = rest.trim_start_matches(|c: char| c.is_whitespace() || c == '=');
            for pattern in rest.split_whitespace().map(|p| p.trim_matches('"')) {
                // As ssh_config(5) says: relative to ~/.ssh in a user's file (or -F's),
                // to /etc/ssh in the system's.
                let path = if let Some(p) = pattern.strip_prefix("~/") {
                    home.join(p)
                } else if pattern.starts_with('/') {
                    PathBuf::from(pattern)
                } else if file.starts_with("/etc/ssh") {
                    Path::new("/etc/ssh").join(pattern)
                } else {
                    home.join(".ssh").join(pattern)
                };
                // A pattern's folder with wildcards names no one folder: its files, if any
                // matched, are among those read.
                if let Some(dir) = path.parent().filter(|d| !wild(d)) {
                    sources.push(dir.to_path_buf());
                }
                if !wild(&path) {
                    sources.push(path);
                }
            }
        }
    }
    sources.extend(files);
    sources.sort();
    sources.dedup();
    sources
}

/// The last lines ssh logged from byte `start` on, without its "Permanently added" notes;
/// or how it exited.
fn log_text(log: &Path, start: u64, status: Option<std::process::ExitStatus>) -> String {
    let mut text = String::new();
    if let Ok(mut f) = File::open(log) {
        use std::io::Seek as _;
        let mut bytes = Vec::new();
        let _ = f.seek(std::io::SeekFrom::Start(start));
        let _ = f.read_to_end(&mut bytes);
        text = String::from_utf8_lossy(&bytes).into_owned();
    }
    let lines: Vec<&str> = text
        .lines()
        .map(str::trim)
        .filter(|l| !l.is_empty() && !l.starts_with("Warning: Permanently added"))
        .collect();
    let tail = lines[lines.len().saturating_sub(3)..].join("; ");
    if !tail.is_empty() {
        return tail;
    }
    match status {
        Some(s) => format!("ssh exited ({s}) without saying why"),
        None => String::new(),
    }
}

enum SpawnerJob {
    Spawn(
        std::process::Command,
        tokio::sync::oneshot::Sender<std::io::Result<std::process::Child>>,
    ),
    Reap(std::process::Child),
}

/// A thread that lives as long as lutf: the parent-death signal fires when the *thread*
/// that forked a child ends, so masters must not be forked by short-lived threads.
fn spawner() -> &'static Mutex<std::sync::mpsc::Sender<SpawnerJob>> {
    static SPAWNER: OnceLock<Mutex<std::sync::mpsc::Sender<SpawnerJob>>> = OnceLock::new();
    SPAWNER.get_or_init(|| {
        let (tx, rx) = std::sync::mpsc::channel::<SpawnerJob>();
        std::thread::Builder::new()
            .name("lutf-ssh".into())
            .spawn(move || {
                for job in rx {
                    match job {
                        SpawnerJob::Spawn(mut cmd, reply) => {
                            let _ = reply.send(cmd.spawn());
                        }
                        SpawnerJob::Reap(mut child) => {
                            // SAFETY: kill has no memory-safety preconditions.
                            unsafe { libc::kill(child.id() as libc::pid_t, libc::SIGTERM) };
                            let _ = child.wait();
                        }
                    }
                }
            })
            .expect("start the ssh spawner thread");
        Mutex::new(tx)
    })
}

async fn spawn_from_long_lived_thread(
    cmd: std::process::Command,
) -> std::io::Result<std::process::Child> {
    let (tx, rx) = tokio::sync::oneshot::channel();
    spawner()
        .lock()
        .unwrap()
        .send(SpawnerJob::Spawn(cmd, tx))
        .map_err(|_| std::io::Error::other("the ssh spawner thread is gone"))?;
    rx.await
        .map_err(|_| std::io::Error::other("the ssh spawner thread is gone"))?
}

fn reap_from_long_lived_thread(child: std::process::Child) {
    let _ = spawner().lock().unwrap().send(SpawnerJob::Reap(child));
}

/// This run's folder of control sockets and master logs: `/tmp/lutf-ssh-<uid>/<pid>.<n>/`,
/// locked (flock) while it lives, removed on drop.
#[derive(Debug)]
pub struct ControlDir {
    path: PathBuf,
    _lock: File,
    next: AtomicU64,
}

impl ControlDir {
    /// The base folder for every run of this user.
    pub fn base() -> PathBuf {
        // SAFETY: geteuid has no preconditions and cannot fail.
        PathBuf::from(format!("/tmp/lutf-ssh-{}", unsafe { libc::geteuid() }))
    }

    /// The folder in use by this process, created (and stale ones cleaned) when none is.
    pub fn get() -> std::io::Result<Arc<ControlDir>> {
        static CURRENT: Mutex<Weak<ControlDir>> = Mutex::new(Weak::new());
        static SERIAL: AtomicU64 = AtomicU64::new(0);
        let mut current = CURRENT.lock().unwrap();
        if let Some(d) = current.upgrade() {
            return Ok(d);
        }
        let base = Self::base();
        super::local::ensure_private_dir(&base)
            .map_err(|e| std::io::Error::other(e.to_string()))?;
        let removed = clean_stale(&base);
        if removed > 0 {
            tracing::info!(
                "removed {removed} stale ssh control folder(s) under {}",
                base.display()
            );
        }
        let path = base.join(format!(
            "{}.{}",
            std::process::id(),
            SERIAL.fetch_add(1, Ordering::Relaxed)
        ));
        let _ = std::fs::remove_dir_all(&path);
        std::fs::DirBuilder::new().mode(0o700).create(&path)?;
        let lock = File::create(path.join("lock"))?;
        // SAFETY: flock on an open descriptor we own.
        if unsafe { libc::flock(lock.as_raw_fd(), libc::LOCK_EX | libc::LOCK_NB) } != 0 {
            return Err(std::io::Error::last_os_error());
        }
        let d = Arc::new(ControlDir {
            path,
            _lock: lock,
            next: AtomicU64::new(0),
        });
        *current = Arc::downgrade(&d);
        Ok(d)
    }

    /// The folder.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// A fresh (socket, log) pair of paths.
    fn next_paths(&self) -> (PathBuf, PathBuf) {
        let n = self.next.fetch_add(1, Ordering::Relaxed);
        (
            self.path.join(n.to_string()),
            self.path.join(format!("{n}.log")),
        )
    }
}

impl Drop for ControlDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.path);
    }
}

/// How old an unlocked run folder must be to count as stale: a run that is just starting
/// has made its folder but not locked it yet.
pub const STALE_AFTER: Duration = Duration::from_secs(10);

/// Removes run folders under `base` whose run is gone (its process has ended and its lock
/// is free, or it never made a lock and is older than [`STALE_AFTER`]); returns how many. Their masters died with their run
/// (parent-death signal).
pub fn clean_stale(base: &Path) -> usize {
    let Ok(entries) = std::fs::read_dir(base) else {
        return 0;
    };
    let mut removed = 0;
    for e in entries.filter_map(Result::ok) {
        let path = e.path();
        if !e.metadata().is_ok_and(|m| m.is_dir()) {
            continue;
        }
        let old = e.metadata().is_ok_and(|m| {
            m.modified()
                .is_ok_and(|t| t.elapsed().unwrap_or_default() > STALE_AFTER)
        });
        // Folders are named `<pid>.<n>`: a run whose process lives is never stale.
        let owner_alive = e
            .file_name()
            .to_str()
            .and_then(|n| n.split('.').next())
            .and_then(|pid| pid.parse::<libc::pid_t>().ok())
            .is_some_and(|pid| {
                // SAFETY: signal 0 only checks that the process exists.
                pid > 0
                    && (unsafe { libc::kill(pid, 0) } == 0
                        || std::io::Error::last_os_error().raw_os_error() == Some(libc::EPERM))
            });
        if owner_alive {
            continue;
        }
        let unlocked = match File::open(path.join("lock")) {
            Ok(f) => {
                // SAFETY: flock on an open descriptor we own; released when `f` closes.
                let got = unsafe { libc::flock(f.as_raw_fd(), libc::LOCK_EX | libc::LOCK_NB) };
                got == 0
            }
            // No lock file: a run that died while making it, or one making it right now
            // (its pid may be reused): only an old folder is taken for dead.
            Err(_) => old,
        };
        if unlocked && std::fs::remove_dir_all(&path).is_ok() {
            removed += 1;
        }
    }
    removed
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stale_control_folders_are_removed_and_live_ones_kept() {
        let base = tempfile::tempdir().unwrap();
        let long_ago = std::time::SystemTime::now() - STALE_AFTER * 2;
        let age = |dir: &Path| File::open(dir).unwrap().set_modified(long_ago).unwrap();
        // Pids of processes that have ended, for the folders of dead runs.
        let dead = || {
            let mut c = std::process::Command::new("true").spawn().unwrap();
            let pid = c.id();
            c.wait().unwrap();
            pid
        };
        let mkdir = |name: String| {
            let d = base.path().join(name);
            std::fs::create_dir(&d).unwrap();
            d
        };
        // A run that died: its lock is free. No need to wait for it to age.
        let stale = mkdir(format!("{}.0", dead()));
        File::create(stale.join("lock")).unwrap();
        std::fs::write(stale.join("0.log"), "x").unwrap();
        // A run that died before making its lock, long ago.
        let half_made = mkdir(format!("{}.0", dead()));
        age(&half_made);
        // A run that holds its lock.
        let live = mkdir(format!("{}.0", dead()));
        let lock = File::create(live.join("lock")).unwrap();
        // SAFETY: flock on an open descriptor we own.
        assert_eq!(unsafe { libc::flock(lock.as_raw_fd(), libc::LOCK_EX) }, 0);
        age(&live);
        // A run making its folder right now.
        let starting = mkdir(format!("{}.0", dead()));
        // A run whose process lives, between creating its lock file and locking it.
        let alive = mkdir(format!("{}.1", std::process::id()));
        File::create(alive.join("lock")).unwrap();
        age(&alive);
        assert_eq!(clean_stale(base.path()), 2);
        assert!(!stale.exists() && !half_made.exists());
        assert!(live.exists(), "locked by its run");
        assert!(starting.exists(), "too young to judge");
        assert!(alive.exists(), "its process lives");
    }

    #[test]
    fn control_dir_is_short_private_and_removed() {
        let d = ControlDir::get().unwrap();
        let path = d.path().to_path_buf();
        let (socket, _) = d.next_paths();
        // ssh appends a 17-character temporary suffix while binding; 108 is the limit.
        assert!(socket.as_os_str().len() + 17 < 100, "{}", socket.display());
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(&path).unwrap().permissions().mode();
        assert_eq!(mode & 0o777, 0o700);
        let again = ControlDir::get().unwrap();
        assert_eq!(again.path(), path);
        drop(d);
        drop(again);
        assert!(!path.exists());
    }

    #[test]
    fn config_sources_are_the_files_read_and_where_their_includes_look() {
        let dir = tempfile::tempdir().unwrap();
        let cfg = dir.path().join("cfg");
        std::fs::write(
            &cfg,
            format!(
                "Include {0}/inc/*.conf {0}/one.conf\n  include=\"sub/x.conf\"\n\
                 Host a\n  User bob\n  # Include /not/this\n",
                dir.path().display()
            ),
        )
        .unwrap();
        let said = format!(
            "OpenSSH_9.2p1\ndebug1: Reading configuration data {}\n\
             debug1: Reading configuration data /etc/ssh/ssh_config\n",
            cfg.display()
        );
        let home = PathBuf::from(std::env::var_os("HOME").unwrap());
        let mut want = vec![
            cfg.clone(),
            PathBuf::from("/etc/ssh/ssh_config"),
            dir.path().to_path_buf(),
            dir.path().join("inc"),
            dir.path().join("one.conf"),
            home.join(".ssh/sub"),
            home.join(".ssh/sub/x.conf"),
        ];
        // The system file's own Includes are relative to /etc/ssh.
        if let Ok(system) = std::fs::read_to_string("/etc/ssh/ssh_config") {
            if system.contains("Include /etc/ssh/ssh_config.d/*.conf") {
                want.push(PathBuf::from("/etc/ssh/ssh_config.d"));
            }
        }
        want.sort();
        want.dedup();
        assert_eq!(config_sources(&said), want);
    }

    #[test]
    fn a_direct_connections_words_are_its_failures_not_its_chatter() {
        let dir = tempfile::tempdir().unwrap();
        let log = dir.path().join("l");
        std::fs::write(
            &log,
            "Warning: Permanently added 'node1' (ED25519) to the list of known hosts.\r\n\
             Authenticated to node1 ([198.18.0.2]:22) using \"publickey\".\r\n\
             Transferred: sent 2980, received 2960 bytes, in 4.1 seconds\r\n\
             Bytes per second: sent 725.3, received 720.4\r\n",
        )
        .unwrap();
        assert!(authenticated(&log));
        assert_eq!(direct_text(&log, b""), "");
        assert_eq!(
            direct_text(&log, b"Connection to node1 closed by remote host.\r\n"),
            "Connection to node1 closed by remote host."
        );
        std::fs::write(
            &log,
            "ssh: connect to host node1 port 22: Connection refused\n",
        )
        .unwrap();
        assert!(!authenticated(&log));
        assert_eq!(
            direct_text(&log, b""),
            "ssh: connect to host node1 port 22: Connection refused"
        );
    }

    #[test]
    fn loss_bound_is_three_keepalives() {
        let o = SshOptions::default();
        assert_eq!(o.loss_bound(), Duration::from_secs(15));
        assert_eq!(o.connect_timeout, Duration::from_secs(10));
        assert!(o.max_sessions < 10);
    }

    #[test]
    fn log_text_keeps_ssh_words_and_drops_notes() {
        let dir = tempfile::tempdir().unwrap();
        let log = dir.path().join("l");
        std::fs::write(
            &log,
            "Warning: Permanently added '198.18.0.2' (ED25519) to the list of known hosts.\r\n\
             Timeout, server 198.18.0.2 not responding.\r\n",
        )
        .unwrap();
        assert_eq!(
            log_text(&log, 0, None),
            "Timeout, server 198.18.0.2 not responding."
        );
        assert_eq!(log_text(&log, 200, None), "");
        assert_eq!(log_text(&dir.path().join("none"), 0, None), "");
    }
}
