//! Background jobs' state on disk, so that a later, separate helper call finds them.
//!
//! A job is a folder `<workdir>/jobs/<id>/`:
//!
//! | file | written by | when |
//! |---|---|---|
//! | `spec.yml` | `spawn` | before the supervisor starts: what to run |
//! | `started.yml` | supervisor | once the command runs: its pid, the supervisor's identity |
//! | `stdout`, `stderr` or `log` | the command | as it runs |
//! | `context.json`, `result.json`, `cwd/` | supervisor, runner | step jobs: the runner's files and working folder (`cwd/` removed at the end) |
//! | `killed` | `kill` | before it signals the job |
//! | `end.yml` | supervisor | once the command and its group are gone: how it ended |
//! | `supervisor.log` | supervisor | its own stderr, for post-mortems |
//! | `lock` | supervisor | holds an exclusive `flock` on it from before the command starts until it exits |
//! | `owner.yml` | `spawn` | the master's connection (its `sshd` session process), when there is one |
//! | `orphaned` | supervisor | the owner's connection is gone: the job is being stopped |
//!
//! A step job also records which lutf master started it (`origin` in `spec.yml`; see the
//! `jobs` operation): a later run from the same machine stops the jobs a gone master left.
//!
//! A job belongs to the master's connection that spawned it: the nearest `sshd` among
//! the spawning helper's ancestors (over SSH, the session process that serves the
//! master's connection and all its channels). When that process ends (the master died,
//! even by SIGKILL, and its `ssh` went with it), the supervisor stops the job within a
//! second, so a dead run leaves no test process behind. Jobs started without an `sshd`
//! ancestor (the local transport) have no owner and are never orphaned.
//!
//! Files that others read are written atomically (temporary name, then rename).
//!
//! `wait` blocks on `lock` ([`JobDir::wait_unlocked`]) instead of polling: the kernel drops
//! the supervisor's lock the moment it exits, whether it wrote `end.yml` first or was
//! killed, so a waiter learns either at once.

use std::os::unix::fs::DirBuilderExt;
use std::path::{Path, PathBuf};

use lutf_protocol::{
    parse_start_ticks, start_ticks, ErrorKind, ErrorReply, ExecArgs, ExitStatus, StepArgs,
    StepOutcome,
};
use serde::{Deserialize, Serialize};

use crate::workdir;

/// What the job runs.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum JobSpec {
    /// A command (`spawn`).
    Exec {
        /// As given to `spawn`.
        args: ExecArgs,
    },
    /// One step of a test (`spawn_step`).
    Step {
        /// As given to `spawn_step` (boxed: far bigger than a command's arguments).
        args: Box<StepArgs>,
    },
}

/// Written once the command runs.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Started {
    /// The command's pid, which is also its process group id.
    pub pid: i32,
    /// The command's start time in clock ticks since boot, when it could be read: tells
    /// the command apart from a later process with the same pid.
    #[serde(default)]
    pub pid_start: Option<u64>,
    /// The supervisor's pid.
    pub supervisor_pid: i32,
    /// The supervisor's start time in clock ticks since boot (`/proc/<pid>/stat` field
    /// 22): tells the supervisor apart from a later process that got the same pid.
    pub supervisor_start: u64,
    /// When the command started, in seconds since the Unix epoch.
    pub started_at: f64,
}

impl Started {
    /// Whether the command itself still runs (or is a zombie nobody reaped yet).
    pub fn command_alive(&self) -> bool {
        self.pid_start.is_some() && start_ticks(self.pid) == self.pid_start
    }
}

/// Written once the job has ended.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct End {
    /// How the command ended.
    pub exit: ExitStatus,
    /// Its timeout expired.
    pub timed_out: bool,
    /// Seconds it ran.
    pub duration: f64,
    /// For a step job: the step's outcome.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub step: Option<StepOutcome>,
}

/// Where a job stands.
#[derive(Debug, Clone)]
pub enum State {
    /// Still running (its supervisor is alive, or at least its command is).
    Running(Started),
    /// Ended; here is how.
    Finished(End),
    /// Its supervisor is gone without recording an end (killed, node rebooted).
    Lost(Option<Started>),
}

/// File names inside a job folder.
pub mod file {
    /// What to run.
    pub const SPEC: &str = "spec.yml";
    /// The command runs.
    pub const STARTED: &str = "started.yml";
    /// The job ended.
    pub const END: &str = "end.yml";
    /// `kill` asked it to stop.
    pub const KILLED: &str = "killed";
    /// stdout of a command job.
    pub const STDOUT: &str = "stdout";
    /// stderr of a command job.
    pub const STDERR: &str = "stderr";
    /// The interleaved log of a step job.
    pub const LOG: &str = "log";
    /// The supervisor's own stderr.
    pub const SUPERVISOR_LOG: &str = "supervisor.log";
    /// Locked by the supervisor while it lives.
    pub const LOCK: &str = "lock";
    /// The master's connection the job belongs to.
    pub const OWNER: &str = "owner.yml";
    /// The owner's connection ended before the job: the supervisor stopped it.
    pub const ORPHANED: &str = "orphaned";
}

/// The supervisor's hold on [`file::LOCK`]; dropping it (or the supervisor's exit) lets
/// waiters go.
#[derive(Debug)]
pub struct Held(#[allow(dead_code)] std::fs::File);

/// How [`JobDir::wait_unlocked`] ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Unlocked {
    /// The supervisor has let go: it exited (normally after writing `end.yml`).
    Yes,
    /// Still held when the time was up.
    TimedOut,
    /// Nothing to wait on (no lock file, or locks do not work here): poll instead.
    Unsupported,
}

fn flock(file: &std::fs::File, how: libc::c_int) -> std::io::Result<()> {
    use std::os::fd::AsRawFd;
    loop {
        // SAFETY: flock on a descriptor the File owns.
        if unsafe { libc::flock(file.as_raw_fd(), how) } == 0 {
            return Ok(());
        }
        let e = std::io::Error::last_os_error();
        if e.kind() != std::io::ErrorKind::Interrupted {
            return Err(e);
        }
    }
}

/// A job's folder.
#[derive(Debug, Clone)]
pub struct JobDir {
    /// The job's id (the folder's name).
    pub id: String,
    /// The folder.
    pub path: PathBuf,
}

/// An `io` error naming `path`.
pub(crate) fn io_error(path: &Path, e: impl std::fmt::Display) -> ErrorReply {
    ErrorReply::new(ErrorKind::Io, format!("{}: {e}", path.display()))
}

/// The folder holding every job folder of `workdir`.
pub(crate) fn jobs_root(workdir: &Path) -> PathBuf {
    workdir.join("jobs")
}

/// Whether `id` could be a job id: what [`workdir::unique_dir`] makes, never a path.
pub(crate) fn valid_id(id: &str) -> bool {
    !id.is_empty()
        && id.len() <= 100
        && !id.starts_with('.')
        && id
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
}

impl JobDir {
    /// A new job folder holding `spec`.
    /// `id`: the one the master chose, which must be new; else a fresh one.
    pub fn create(workdir: &Path, spec: &JobSpec, id: Option<&str>) -> Result<JobDir, ErrorReply> {
        workdir::ensure_private(workdir)?;
        let root = jobs_root(workdir);
        workdir::ensure_private(&root)?;
        let (id, path) = match id {
            Some(id) => {
                if !valid_id(id) {
                    return Err(ErrorReply::new(
                        ErrorKind::BadArgs,
                        format!("{id:?} cannot be a job id (letters, digits, - and _)"),
                    ));
                }
                let path = root.join(id);
                std::fs::DirBuilder::new()
                    .mode(0o700)
                    .create(&path)
                    .map_err(|e| io_error(&path, e))?;
                (id.to_string(), path)
            }
            None => workdir::unique_dir(&root)?,
        };
        let job = JobDir { id, path };
        let text = lutf_protocol::to_yaml(spec);
        workdir::write_atomic(&job.file(file::SPEC), text.as_bytes())
            .map_err(|e| io_error(&job.file(file::SPEC), e))?;
        Ok(job)
    }

    /// The existing job `id`.
    pub fn open(workdir: &Path, id: &str) -> Result<JobDir, ErrorReply> {
        let no_such = || {
            ErrorReply::new(
                ErrorKind::NoSuchJob,
                format!("no job {id:?} in {}", jobs_root(workdir).display()),
            )
        };
        if !valid_id(id) {
            return Err(no_such());
        }
        let root = jobs_root(workdir);
        let path = root.join(id);
        if !path.join(file::SPEC).is_file() {
            return Err(no_such());
        }
        // Job records name processes to signal: only trust folders nobody else can write.
        workdir::check_private(workdir)?;
        workdir::check_private(&root)?;
        Ok(JobDir {
            id: id.to_string(),
            path,
        })
    }

    /// A file of the job.
    pub fn file(&self, name: &str) -> PathBuf {
        self.path.join(name)
    }

    /// What the job runs.
    pub fn spec(&self) -> Result<JobSpec, ErrorReply> {
        read_yaml(&self.file(file::SPEC))?.ok_or_else(|| io_error(&self.path, "spec.yml vanished"))
    }

    /// Its start record, once written.
    pub fn started(&self) -> Result<Option<Started>, ErrorReply> {
        read_yaml(&self.file(file::STARTED))
    }

    /// Its end record, once written.
    pub fn end(&self) -> Result<Option<End>, ErrorReply> {
        read_yaml(&self.file(file::END))
    }

    /// Writes a record atomically.
    pub fn write<T: Serialize>(&self, name: &str, value: &T) -> Result<(), ErrorReply> {
        let path = self.file(name);
        workdir::write_atomic(&path, lutf_protocol::to_yaml(value).as_bytes())
            .map_err(|e| io_error(&path, e))
    }

    /// Takes the supervisor's exclusive lock (see [`file::LOCK`]). The file is opened
    /// close-on-exec, so the job's command never holds it.
    pub fn hold(&self) -> Result<Held, ErrorReply> {
        let path = self.file(file::LOCK);
        let f = std::fs::File::create(&path).map_err(|e| io_error(&path, e))?;
        flock(&f, libc::LOCK_EX).map_err(|e| io_error(&path, format!("cannot lock: {e}")))?;
        Ok(Held(f))
    }

    /// Blocks until the supervisor has let go of its lock, at most `timeout`.
    ///
    /// `flock` cannot time out, so a thread blocks in it; when the time is up the thread
    /// is left behind (the helper exits right after answering, which ends it).
    pub fn wait_unlocked(&self, timeout: std::time::Duration) -> Unlocked {
        let Ok(f) = std::fs::File::open(self.file(file::LOCK)) else {
            return Unlocked::Unsupported;
        };
        // Free already (the usual case once a job has ended): no thread needed.
        match flock(&f, libc::LOCK_SH | libc::LOCK_NB) {
            Ok(()) => return Unlocked::Yes,
            Err(e) if e.raw_os_error() == Some(libc::EWOULDBLOCK) => {}
            Err(_) => return Unlocked::Unsupported,
        }
        let (tx, rx) = std::sync::mpsc::channel();
        let spawned = std::thread::Builder::new()
            .name("lock-wait".into())
            .spawn(move || {
                let _ = tx.send(flock(&f, libc::LOCK_SH).is_ok());
            });
        if spawned.is_err() {
            return Unlocked::Unsupported;
        }
        match rx.recv_timeout(timeout) {
            Ok(true) => Unlocked::Yes,
            Ok(false) | Err(std::sync::mpsc::RecvTimeoutError::Disconnected) => {
                Unlocked::Unsupported
            }
            Err(std::sync::mpsc::RecvTimeoutError::Timeout) => Unlocked::TimedOut,
        }
    }

    /// Where the job stands now.
    pub fn state(&self) -> Result<State, ErrorReply> {
        if let Some(end) = self.end()? {
            return Ok(State::Finished(end));
        }
        let started = self.started()?;
        let alive = started.as_ref().is_some_and(|s| {
            start_ticks(s.supervisor_pid) == Some(s.supervisor_start) || s.command_alive()
        });
        if alive {
            return Ok(State::Running(started.expect("checked above")));
        }
        // The supervisor may have written its end record and exited just now.
        match self.end()? {
            Some(end) => Ok(State::Finished(end)),
            None => Ok(State::Lost(started)),
        }
    }
}

fn read_yaml<T: serde::de::DeserializeOwned>(path: &Path) -> Result<Option<T>, ErrorReply> {
    match std::fs::read_to_string(path) {
        Ok(text) => serde_yaml::from_str(&text)
            .map(Some)
            .map_err(|e| io_error(path, format!("unreadable job record: {e}"))),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
        Err(e) => Err(io_error(path, e)),
    }
}

/// The process whose life a job is tied to: the `sshd` session serving the master's
/// connection.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Owner {
    /// Its pid.
    pub pid: i32,
    /// Its start time in clock ticks since boot (tells it apart from a reused pid).
    pub start: u64,
}

impl Owner {
    /// The nearest `sshd` ancestor of this process (`sshd`, `sshd-session`, ...), if any.
    pub fn of_this_process() -> Option<Owner> {
        // SAFETY: getppid has no preconditions and cannot fail.
        let mut pid = unsafe { libc::getppid() };
        // A few levels are enough: sshd -> shell -> installer or helper.
        for _ in 0..16 {
            if pid <= 1 {
                return None;
            }
            let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
            let comm = &stat[stat.find('(')? + 1..stat.rfind(')')?];
            if comm.starts_with("sshd") {
                return Some(Owner {
                    pid,
                    start: parse_start_ticks(&stat)?,
                });
            }
            pid = parse_ppid(&stat)?;
        }
        None
    }

    /// The process that started this one: the master itself, when it runs the helper
    /// without SSH.
    pub fn of_parent() -> Option<Owner> {
        // SAFETY: getppid has no preconditions and cannot fail.
        let pid = unsafe { libc::getppid() };
        Some(Owner {
            pid,
            start: start_ticks(pid)?,
        })
    }

    /// Whether the owner still runs.
    pub fn alive(&self) -> bool {
        start_ticks(self.pid) == Some(self.start)
    }
}

/// Field 4 (parent pid) of a `/proc/<pid>/stat` line.
fn parse_ppid(stat: &str) -> Option<i32> {
    let after = &stat[stat.rfind(')')? + 1..];
    after.split_whitespace().nth(1)?.parse().ok()
}

/// Seconds since the Unix epoch.
pub fn now() -> f64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_secs_f64())
        .unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parent_pid_is_field_four() {
        let stat = "42 (a (b) c) S 7 42 42 0 -1 4194560 1 0 0 0 0 0 0 0 20 0 1 0 123 0";
        assert_eq!(parse_ppid(stat), Some(7));
        // SAFETY: getppid cannot fail.
        let ppid = unsafe { libc::getppid() };
        let own = std::fs::read_to_string("/proc/self/stat").unwrap();
        assert_eq!(parse_ppid(&own), Some(ppid));
    }

    #[test]
    fn an_owner_that_ended_is_not_alive() {
        let mut child = std::process::Command::new("true").spawn().unwrap();
        let pid = child.id() as i32;
        let start = start_ticks(pid).unwrap_or(1);
        child.wait().unwrap();
        assert!(!Owner { pid, start }.alive());
        let me = std::process::id() as i32;
        let start = start_ticks(me).unwrap();
        assert!(Owner { pid: me, start }.alive());
        assert!(!Owner {
            pid: me,
            start: start + 1
        }
        .alive());
    }

    #[test]
    fn ids_are_never_paths() {
        assert!(valid_id("18f3a-123"));
        for bad in ["", "..", "../x", "a/b", ".hidden", "a b", "x\0"] {
            assert!(!valid_id(bad), "{bad:?}");
        }
        let dir = tempfile::tempdir().unwrap();
        let e = JobDir::open(dir.path(), "../etc").unwrap_err();
        assert_eq!(e.kind, ErrorKind::NoSuchJob);
    }

    #[test]
    fn a_job_without_supervisor_is_lost() {
        let dir = tempfile::tempdir().unwrap();
        let spec = JobSpec::Exec {
            args: ExecArgs {
                argv: vec!["true".into()],
                ..Default::default()
            },
        };
        let job = JobDir::create(&dir.path().join("w"), &spec, None).unwrap();
        let again = JobDir::open(&dir.path().join("w"), &job.id).unwrap();
        assert!(matches!(again.spec().unwrap(), JobSpec::Exec { .. }));
        assert!(matches!(again.state().unwrap(), State::Lost(None)));
        job.write(
            file::END,
            &End {
                exit: ExitStatus {
                    code: Some(0),
                    signal: None,
                },
                timed_out: false,
                duration: 0.5,
                step: None,
            },
        )
        .unwrap();
        assert!(matches!(again.state().unwrap(), State::Finished(_)));
    }

    #[test]
    fn waiters_block_on_the_lock_until_it_is_let_go() {
        use std::time::{Duration, Instant};
        let dir = tempfile::tempdir().unwrap();
        let spec = JobSpec::Exec {
            args: ExecArgs {
                argv: vec!["true".into()],
                ..Default::default()
            },
        };
        let job = JobDir::create(&dir.path().join("w"), &spec, None).unwrap();
        assert_eq!(
            job.wait_unlocked(Duration::from_secs(5)),
            Unlocked::Unsupported,
            "no lock file: the caller polls"
        );
        let held = job.hold().unwrap();
        assert_eq!(
            job.wait_unlocked(Duration::from_millis(50)),
            Unlocked::TimedOut
        );
        let t0 = Instant::now();
        let letting_go = std::thread::spawn(move || {
            std::thread::sleep(Duration::from_millis(100));
            drop(held);
        });
        assert_eq!(job.wait_unlocked(Duration::from_secs(60)), Unlocked::Yes);
        // A generous bound: only proves that the waiter did not sit out its whole time.
        assert!(t0.elapsed() < Duration::from_secs(30));
        letting_go.join().unwrap();
        assert_eq!(job.wait_unlocked(Duration::ZERO), Unlocked::Yes, "free now");
    }
}
