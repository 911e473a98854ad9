//! Running one command to its end, in its own process group, with a timeout that kills the
//! whole group and output captured (bounded) or written to files.
//!
//! The loop waits on the output pipes, the command's stdin and a wake-up pipe that a
//! waiter thread writes to when the command (the group leader) exits. After the leader has
//! exited, whatever is left of its group gets SIGTERM, the pipes are read for at most
//! [`DRAIN`], then the rest of the group gets SIGKILL: a grandchild that keeps the pipes
//! open can never make a call hang. In a process that adopts orphans ([`crate::reaper`]),
//! descendants that left the group get the same treatment.

use std::ffi::{OsStr, OsString};
use std::fs::File;
use std::io::{Read, Write};
use std::os::fd::{AsRawFd, FromRawFd, OwnedFd};
use std::os::unix::ffi::OsStrExt;
use std::os::unix::process::{CommandExt, ExitStatusExt};
use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::sync::mpsc;
use std::time::{Duration, Instant};

use lutf_protocol::{Captured, ErrorKind, ErrorReply, ExitStatus};

use crate::capture::Capture;
use crate::{pgroup, reaper};

/// The `PATH` used when the helper has none (it may run with an empty environment).
pub const STANDARD_PATH: &str = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin";

/// How long output is still read after the command exited, before the rest of its group
/// is killed and reading stops.
pub const DRAIN: Duration = Duration::from_millis(500);

/// A command, ready to run.
#[derive(Debug, Clone, Default)]
pub struct CommandSpec {
    /// Program and arguments (a script and its `$1`... when `shell`).
    pub argv: Vec<OsString>,
    /// Run `argv[0]` with `/bin/sh -c`.
    pub shell: bool,
    /// Variables to set.
    pub env: Vec<(OsString, OsString)>,
    /// Start from an empty environment.
    pub clear_env: bool,
    /// Working directory.
    pub cwd: PathBuf,
    /// Bytes for its stdin (empty: stdin is `/dev/null`).
    pub stdin: Vec<u8>,
}

/// Where the command's output goes.
#[derive(Debug)]
pub enum Output {
    /// stdout and stderr into separate pipes, each captured up to `limit` bytes.
    Separate {
        /// Bytes kept per stream.
        limit: u64,
    },
    /// stdout and stderr into one pipe, interleaved as written, captured up to `limit`.
    Merged {
        /// Bytes kept.
        limit: u64,
    },
    /// stdout and stderr into files (both into `stdout` when `stderr` is `None`).
    Files {
        /// stdout's file.
        stdout: File,
        /// stderr's file.
        stderr: Option<File>,
    },
}

/// Time limits.
#[derive(Debug, Clone)]
pub struct Limits {
    /// When the group gets SIGTERM (`None`: never).
    pub timeout: Option<Duration>,
    /// From SIGTERM to SIGKILL.
    pub grace: Duration,
    /// When the timeout expires, first ask the command where it is (see [`Dump`]).
    pub dump: Option<Dump>,
}

/// Before a command is stopped for its timeout: `signal` goes to the command alone (not
/// its group), which answers by writing where it is (its stack) into `file`; the group
/// gets SIGTERM once that file has stopped growing, or after `wait` at most.
#[derive(Debug, Clone)]
pub struct Dump {
    /// The signal the command writes its stack on.
    pub signal: i32,
    /// Where it writes it.
    pub file: PathBuf,
    /// The longest wait for it.
    pub wait: Duration,
}

/// How long a dump file must keep its size to count as written.
const DUMP_QUIET: Duration = Duration::from_millis(50);

/// A dump being waited for.
struct Dumping {
    file: PathBuf,
    until: Instant,
    /// The file's last size seen, and since when.
    size: Option<(u64, Instant)>,
}

impl Dumping {
    /// Whether to stop waiting: the file has something and kept its size for
    /// [`DUMP_QUIET`], or the wait is over.
    fn done(&mut self, now: Instant) -> bool {
        if now >= self.until {
            return true;
        }
        let len = std::fs::metadata(&self.file).map_or(0, |m| m.len());
        match self.size {
            Some((last, since)) if last == len => len > 0 && now >= since + DUMP_QUIET,
            _ => {
                self.size = Some((len, now));
                false
            }
        }
    }
}

/// SIGTERM (then SIGCONT, for a stopped group) to group `pgid`, or SIGKILL at once when
/// `grace` is zero; answers when SIGKILL is due.
fn stop_group(pgid: i32, grace: Duration, now: Instant) -> Option<Instant> {
    if grace.is_zero() {
        pgroup::signal(pgid, libc::SIGKILL);
        None
    } else {
        pgroup::signal(pgid, libc::SIGTERM);
        pgroup::signal(pgid, libc::SIGCONT);
        Some(now + grace)
    }
}

/// How a command ended.
#[derive(Debug, Clone)]
pub struct Finished {
    /// Exit code or signal.
    pub exit: ExitStatus,
    /// The timeout expired and the group was killed.
    pub timed_out: bool,
    /// Seconds from start to the leader's exit.
    pub duration: f64,
    /// stdout (or the merged output); empty with [`Output::Files`].
    pub stdout: Captured,
    /// stderr; empty with [`Output::Merged`] and [`Output::Files`].
    pub stderr: Captured,
    /// Leftovers killed that would not die, described (see [`reaper::Ended::stuck`]).
    pub left_behind: Vec<String>,
}

fn spawn_error(message: String) -> ErrorReply {
    ErrorReply::new(ErrorKind::Spawn, message)
}

/// The `PATH` the command will see: its own `PATH` if the request sets one, else the
/// helper's, else [`STANDARD_PATH`] (also set in the command's environment then, unless it
/// asked for an empty one).
fn child_path(spec: &CommandSpec) -> (OsString, bool) {
    if let Some((_, v)) = spec.env.iter().rev().find(|(k, _)| k == "PATH") {
        return (v.clone(), false);
    }
    if spec.clear_env {
        return (STANDARD_PATH.into(), false);
    }
    match std::env::var_os("PATH") {
        Some(p) => (p, false),
        None => (STANDARD_PATH.into(), true),
    }
}

/// Finds `program` as `execvp` would, in `path` (a `:` list), so that a missing program is
/// reported clearly before anything is started.
pub fn find_program(program: &OsStr, path: &OsStr) -> Option<PathBuf> {
    if program.as_bytes().contains(&b'/') {
        return Some(PathBuf::from(program));
    }
    path.as_bytes()
        .split(|&b| b == b':')
        .map(|dir| {
            if dir.is_empty() {
                Path::new(".")
            } else {
                Path::new(OsStr::from_bytes(dir))
            }
        })
        .map(|dir| dir.join(program))
        .find(|p| is_executable(p))
}

fn is_executable(path: &Path) -> bool {
    let Ok(c) = std::ffi::CString::new(path.as_os_str().as_bytes()) else {
        return false;
    };
    // SAFETY: `c` is a valid NUL-terminated string for the duration of the call.
    path.is_file() && unsafe { libc::access(c.as_ptr(), libc::X_OK) } == 0
}

/// The std `Command` for `spec`, in its own process group, program looked up.
fn command(spec: &CommandSpec) -> Result<std::process::Command, ErrorReply> {
    match std::fs::metadata(&spec.cwd) {
        Ok(m) if m.is_dir() => {}
        Ok(_) => {
            return Err(spawn_error(format!(
                "working directory {} is not a directory",
                spec.cwd.display()
            )))
        }
        Err(e) => {
            return Err(spawn_error(format!(
                "working directory {}: {e}",
                spec.cwd.display()
            )))
        }
    }
    let (first, rest) = spec
        .argv
        .split_first()
        .ok_or_else(|| spawn_error("empty argv".into()))?;
    let (path, set_path) = child_path(spec);
    let mut cmd = if spec.shell {
        let mut c = std::process::Command::new("/bin/sh");
        c.arg("-c").arg(first).arg("sh").args(rest);
        c
    } else {
        let program = find_program(first, &path).ok_or_else(|| {
            spawn_error(format!(
                "cannot run `{}`: not found in PATH ({})",
                first.to_string_lossy(),
                path.to_string_lossy()
            ))
        })?;
        let mut c = std::process::Command::new(program);
        c.arg0(first).args(rest);
        c
    };
    if spec.clear_env {
        cmd.env_clear();
    }
    if set_path {
        cmd.env("PATH", STANDARD_PATH);
    }
    for (k, v) in &spec.env {
        cmd.env(k, v);
    }
    cmd.current_dir(&spec.cwd).process_group(0);
    Ok(cmd)
}

/// A pipe, both ends close-on-exec.
pub fn pipe() -> std::io::Result<(OwnedFd, OwnedFd)> {
    let mut fds = [0; 2];
    // SAFETY: `fds` has room for the two descriptors pipe2 writes.
    if unsafe { libc::pipe2(fds.as_mut_ptr(), libc::O_CLOEXEC) } != 0 {
        return Err(std::io::Error::last_os_error());
    }
    // SAFETY: pipe2 succeeded, so both are fresh descriptors that we now own.
    Ok(unsafe { (OwnedFd::from_raw_fd(fds[0]), OwnedFd::from_raw_fd(fds[1])) })
}

fn set_nonblocking(fd: &impl AsRawFd) {
    // SAFETY: fcntl on a descriptor we own, with valid flag arguments.
    unsafe {
        let flags = libc::fcntl(fd.as_raw_fd(), libc::F_GETFL);
        libc::fcntl(fd.as_raw_fd(), libc::F_SETFL, flags | libc::O_NONBLOCK);
    }
}

/// One output pipe being read.
struct Reader {
    file: Option<File>,
    capture: Capture,
}

impl Reader {
    fn new(fd: OwnedFd, limit: u64) -> Reader {
        set_nonblocking(&fd);
        Reader {
            file: Some(File::from(fd)),
            capture: Capture::new(limit),
        }
    }

    /// Reads what is there now; closes on end of file or error.
    fn read_available(&mut self) {
        let mut buf = [0u8; 64 * 1024];
        while let Some(f) = &mut self.file {
            match f.read(&mut buf) {
                Ok(0) => self.file = None,
                Ok(n) => self.capture.push(&buf[..n]),
                Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
                Err(e) if e.kind() == std::io::ErrorKind::WouldBlock => return,
                Err(_) => self.file = None,
            }
        }
    }
}

/// The command's stdin, fed without ever blocking the loop.
struct Feeder {
    file: Option<File>,
    data: Vec<u8>,
    pos: usize,
}

impl Feeder {
    fn write_available(&mut self) {
        while let Some(f) = &mut self.file {
            if self.pos >= self.data.len() {
                self.file = None; // closing it is the command's end of input
                return;
            }
            match f.write(&self.data[self.pos..]) {
                Ok(n) => self.pos += n,
                Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
                Err(e) if e.kind() == std::io::ErrorKind::WouldBlock => return,
                Err(_) => self.file = None, // it closed its stdin: fine
            }
        }
    }
}

fn exit_status(status: std::io::Result<std::process::ExitStatus>) -> ExitStatus {
    match status {
        Ok(s) => ExitStatus {
            code: s.code(),
            signal: s.signal(),
        },
        Err(_) => ExitStatus::default(),
    }
}

/// Runs `spec` to its end. `on_start` gets the command's pid (= its process group id) as
/// soon as it runs. Fails only when the command cannot be started.
pub fn run(
    spec: &CommandSpec,
    output: Output,
    limits: Limits,
    on_start: impl FnOnce(i32),
) -> Result<Finished, ErrorReply> {
    start(spec, output, false)?.finish(limits, on_start)
}

/// A command started by [`start`], not yet waited for.
pub struct Running {
    child: std::process::Child,
    pgid: i32,
    readers: Vec<Reader>,
    feeder: Feeder,
    files_mode: bool,
    start: Instant,
}

/// Starts `spec` in its own process group. With `stdin_later`, its stdin is a pipe kept
/// open (whatever `spec.stdin` holds) until [`Running::feed`] gives it its input: a
/// command that starts now and is told what to do later (a warm Python runner).
pub fn start(spec: &CommandSpec, output: Output, stdin_later: bool) -> Result<Running, ErrorReply> {
    let mut cmd = command(spec)?;
    let io_err = |what: &str, e: std::io::Error| spawn_error(format!("{what}: {e}"));
    cmd.stdin(if spec.stdin.is_empty() && !stdin_later {
        Stdio::null()
    } else {
        Stdio::piped()
    });
    let mut merged = None;
    let files_mode = matches!(output, Output::Files { .. });
    let limit = match output {
        Output::Separate { limit } => {
            cmd.stdout(Stdio::piped()).stderr(Stdio::piped());
            limit
        }
        Output::Merged { limit } => {
            let (r, w) = pipe().map_err(|e| io_err("cannot create a pipe", e))?;
            let w2 = w
                .try_clone()
                .map_err(|e| io_err("cannot duplicate a pipe", e))?;
            cmd.stdout(Stdio::from(w)).stderr(Stdio::from(w2));
            merged = Some(r);
            limit
        }
        Output::Files { stdout, stderr } => {
            let err = match stderr {
                Some(f) => f,
                None => stdout
                    .try_clone()
                    .map_err(|e| io_err("cannot duplicate the output file", e))?,
            };
            cmd.stdout(Stdio::from(stdout)).stderr(Stdio::from(err));
            0
        }
    };
    let start = Instant::now();
    let mut child = cmd.spawn().map_err(|e| {
        let what = if spec.shell {
            "/bin/sh".into()
        } else {
            spec.argv[0].to_string_lossy().into_owned()
        };
        spawn_error(format!("cannot run `{what}`: {e}"))
    })?;
    // The Command holds our copies of the pipes' write ends: close them now, or the
    // pipes would never reach end of file.
    drop(cmd);
    let pgid = child.id() as i32;

    let mut readers: Vec<Reader> = Vec::new();
    if let Some(out) = child.stdout.take() {
        readers.push(Reader::new(out.into(), limit));
    }
    if let Some(err) = child.stderr.take() {
        readers.push(Reader::new(err.into(), limit));
    }
    if let Some(m) = merged {
        readers.push(Reader::new(m, limit));
    }
    let feeder = Feeder {
        file: child.stdin.take().map(|s| {
            let fd: OwnedFd = s.into();
            set_nonblocking(&fd);
            File::from(fd)
        }),
        data: spec.stdin.clone(),
        pos: 0,
    };
    Ok(Running {
        child,
        pgid,
        readers,
        feeder,
        files_mode,
        start,
    })
}

impl Running {
    /// The command's pid (= its process group id).
    pub fn pid(&self) -> i32 {
        self.pgid
    }

    /// Whether the command still runs.
    pub fn alive(&mut self) -> bool {
        matches!(self.child.try_wait(), Ok(None))
    }

    /// Gives the command its input (then end of file) and starts its clock now: its
    /// timeout and duration count from here, not from when it was started.
    pub fn feed(&mut self, data: Vec<u8>) {
        self.feeder.data = data;
        self.feeder.pos = 0;
        self.start = Instant::now();
    }

    /// Waits for the command to its end under `limits`; `on_start` gets its pid first.
    pub fn finish(
        self,
        limits: Limits,
        on_start: impl FnOnce(i32),
    ) -> Result<Finished, ErrorReply> {
        let Running {
            mut child,
            pgid,
            mut readers,
            mut feeder,
            files_mode,
            start,
        } = self;
        let io_err = |what: &str, e: std::io::Error| spawn_error(format!("{what}: {e}"));
        on_start(pgid);
        let (wake_r, wake_w) = pipe().map_err(|e| io_err("cannot create a pipe", e))?;

        let (tx, rx) = mpsc::channel();
        let waiter = std::thread::Builder::new()
            .name("wait".into())
            .spawn(move || {
                let status = child.wait();
                let _ = tx.send(status);
                let _ = File::from(wake_w).write_all(b"x");
            });
        if let Err(e) = waiter {
            pgroup::signal(pgid, libc::SIGKILL);
            return Err(io_err("cannot start a waiter thread", e));
        }
        set_nonblocking(&wake_r);
        let wake_raw = wake_r.as_raw_fd();

        let deadline = limits.timeout.map(|t| start + t);
        // Sweeping our children is only right where we run one command at a time.
        let sweep = reaper::adopting();
        let mut next_reap = start + reaper::REAP_EVERY;
        let mut timed_out = false;
        let mut dumping: Option<Dumping> = None;
        let mut kill_at: Option<Instant> = None;
        let mut ended: Option<(ExitStatus, Instant)> = None;
        let mut drain_until = None;

        loop {
            let now = Instant::now();
            if ended.is_none() {
                if !timed_out && deadline.is_some_and(|d| now >= d) {
                    timed_out = true;
                    match &limits.dump {
                        // SAFETY: kill has no memory-safety preconditions; the target is the
                        // command we started (its leader; the group keeps running meanwhile).
                        Some(d) if unsafe { libc::kill(pgid, d.signal) } == 0 => {
                            dumping = Some(Dumping {
                                file: d.file.clone(),
                                until: now + d.wait,
                                size: None,
                            });
                        }
                        _ => kill_at = stop_group(pgid, limits.grace, now),
                    }
                }
                if dumping.as_mut().is_some_and(|d| d.done(now)) {
                    dumping = None;
                    kill_at = stop_group(pgid, limits.grace, now);
                }
                if kill_at.is_some_and(|k| now >= k) {
                    pgroup::signal(pgid, libc::SIGKILL);
                    kill_at = None;
                }
                if sweep && now >= next_reap {
                    // Adopted orphans that exited must not pile up as zombies.
                    reaper::reap_exited(pgid);
                    next_reap = now + reaper::REAP_EVERY;
                }
            } else {
                if sweep && files_mode {
                    // Zombies of ours in the group would keep it "alive" below.
                    reaper::reap_exited(0);
                }
                let all_closed = readers.iter().all(|r| r.file.is_none());
                let group_gone = !files_mode || !pgroup::alive(pgid);
                if (all_closed && group_gone) || drain_until.is_some_and(|d| now >= d) {
                    break;
                }
            }

            // Sleep until something happens or the next timer is due.
            let mut next: Option<Instant> = None;
            for t in [
                deadline.filter(|_| !timed_out && ended.is_none()),
                // A dump being written is looked at often.
                dumping
                    .as_ref()
                    .filter(|_| ended.is_none())
                    .map(|_| now + DUMP_QUIET / 5),
                kill_at,
                drain_until,
                Some(next_reap).filter(|_| sweep && ended.is_none()),
            ]
            .into_iter()
            .flatten()
            {
                next = Some(next.map_or(t, |n| n.min(t)));
            }
            let mut wait_ms = next.map_or(-1, |t| {
                t.saturating_duration_since(now).as_millis().min(60_000) as i32 + 1
            });
            if ended.is_some() && files_mode {
                // Nothing to poll for a group's end: look again shortly.
                wait_ms = 10;
            }
            let mut fds: Vec<libc::pollfd> = Vec::new();
            let mut owners: Vec<usize> = Vec::new(); // index into readers, or MAX: stdin, MAX-1: wake
            for (i, r) in readers.iter().enumerate() {
                if let Some(f) = &r.file {
                    fds.push(libc::pollfd {
                        fd: f.as_raw_fd(),
                        events: libc::POLLIN,
                        revents: 0,
                    });
                    owners.push(i);
                }
            }
            if let Some(f) = &feeder.file {
                fds.push(libc::pollfd {
                    fd: f.as_raw_fd(),
                    events: libc::POLLOUT,
                    revents: 0,
                });
                owners.push(usize::MAX);
            }
            if ended.is_none() {
                fds.push(libc::pollfd {
                    fd: wake_raw,
                    events: libc::POLLIN,
                    revents: 0,
                });
                owners.push(usize::MAX - 1);
            }
            // SAFETY: `fds` is a valid array of pollfd for its length.
            let n = unsafe { libc::poll(fds.as_mut_ptr(), fds.len() as libc::nfds_t, wait_ms) };
            if n < 0 {
                // EINTR: loop; anything else would repeat forever, so wait a little instead.
                std::thread::sleep(Duration::from_millis(5));
                continue;
            }
            for (p, &owner) in fds.iter().zip(&owners) {
                if p.revents == 0 {
                    continue;
                }
                match owner {
                    usize::MAX => feeder.write_available(),
                    o if o == usize::MAX - 1 => {
                        if let Ok(status) = rx.try_recv() {
                            let at = Instant::now();
                            ended = Some((exit_status(status), at));
                            drain_until = Some(at + DRAIN);
                            feeder.file = None;
                            kill_at = None;
                            dumping = None;
                            if pgroup::alive(pgid) {
                                pgroup::signal(pgid, libc::SIGTERM);
                                pgroup::signal(pgid, libc::SIGCONT);
                            }
                            if sweep {
                                // The leader is reaped: every child of ours is its leftover.
                                reaper::signal_adopted(libc::SIGTERM, 0);
                                reaper::signal_adopted(libc::SIGCONT, 0);
                            }
                        }
                    }
                    i => readers[i].read_available(),
                }
            }
        }

        // Whatever is left of the group now goes, and the pipes get one last look.
        if pgroup::alive(pgid) {
            pgroup::signal(pgid, libc::SIGKILL);
        }
        let left_behind = if sweep {
            reaper::end_adopted().stuck
        } else {
            Vec::new()
        };
        for r in &mut readers {
            r.read_available();
        }
        let (exit, end) = ended.expect("the loop ends only after the command exited");
        let mut captured = readers.into_iter().map(|r| r.capture.finish());
        let stdout = captured.next().unwrap_or_default();
        let stderr = captured.next().unwrap_or_default();
        Ok(Finished {
            exit,
            timed_out,
            duration: end.duration_since(start).as_secs_f64(),
            stdout,
            stderr,
            left_behind,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sh(script: &str) -> CommandSpec {
        CommandSpec {
            argv: vec![script.into()],
            shell: true,
            cwd: "/".into(),
            ..Default::default()
        }
    }

    fn limits(timeout: Option<f64>) -> Limits {
        Limits {
            timeout: timeout.map(Duration::from_secs_f64),
            grace: Duration::from_millis(500),
            dump: None,
        }
    }

    #[test]
    fn captures_both_streams_and_exit_code() {
        let f = run(
            &sh("echo out; echo err >&2; exit 3"),
            Output::Separate { limit: 1024 },
            limits(None),
            |_| {},
        )
        .unwrap();
        assert_eq!(f.exit.code, Some(3));
        assert_eq!(f.stdout.data.as_slice(), b"out\n");
        assert_eq!(f.stderr.data.as_slice(), b"err\n");
        assert!(!f.timed_out);
    }

    #[test]
    fn merged_output_keeps_the_order() {
        let f = run(
            &sh("echo 1; echo 2 >&2; echo 3"),
            Output::Merged { limit: 1024 },
            limits(None),
            |_| {},
        )
        .unwrap();
        assert_eq!(f.stdout.data.as_slice(), b"1\n2\n3\n");
    }

    #[test]
    fn stdin_is_fed_even_when_large() {
        let mut spec = sh("wc -c");
        spec.stdin = vec![b'x'; 1 << 20];
        let f = run(
            &spec,
            Output::Separate { limit: 100 },
            limits(Some(20.0)),
            |_| {},
        )
        .unwrap();
        assert_eq!(
            String::from_utf8_lossy(f.stdout.data.as_slice()).trim(),
            "1048576"
        );
    }

    #[test]
    fn timeout_kills_the_group_and_grandchildren_do_not_hold_the_pipes() {
        // "Did not hang" bound: generous, far below the 60 s the sleeps would take.
        let start = Instant::now();
        let f = run(
            &sh("sleep 60 & sleep 60"),
            Output::Separate { limit: 1024 },
            limits(Some(0.3)),
            |_| {},
        )
        .unwrap();
        assert!(f.timed_out);
        assert_eq!(f.exit.signal, Some(libc::SIGTERM));
        assert!(start.elapsed() < Duration::from_secs(10));
    }

    #[test]
    fn leftover_background_process_cannot_hold_the_call() {
        // The leader exits at once; its background child keeps stdout open.
        let start = Instant::now();
        let f = run(
            &sh("sleep 60 & echo started"),
            Output::Separate { limit: 1024 },
            limits(None),
            |_| {},
        )
        .unwrap();
        assert_eq!(f.exit.code, Some(0));
        assert_eq!(f.stdout.data.as_slice(), b"started\n");
        assert!(start.elapsed() < Duration::from_secs(10), "did not hang");
    }

    #[test]
    fn term_ignoring_command_gets_sigkill_after_grace() {
        let f = run(
            &sh("trap '' TERM; sleep 60"),
            Output::Separate { limit: 1024 },
            limits(Some(0.2)),
            |_| {},
        )
        .unwrap();
        assert!(f.timed_out);
        assert_eq!(f.exit.signal, Some(libc::SIGKILL));
    }

    #[test]
    fn missing_program_and_bad_cwd_are_spawn_errors() {
        let spec = CommandSpec {
            argv: vec!["lutf-no-such-program".into()],
            cwd: "/".into(),
            ..Default::default()
        };
        let e = run(&spec, Output::Separate { limit: 1 }, limits(None), |_| {}).unwrap_err();
        assert_eq!(e.kind, ErrorKind::Spawn);
        assert!(e.message.contains("not found in PATH"), "{}", e.message);

        let mut spec = sh("true");
        spec.cwd = "/no/such/dir".into();
        let e = run(&spec, Output::Separate { limit: 1 }, limits(None), |_| {}).unwrap_err();
        assert_eq!(e.kind, ErrorKind::Spawn);
        assert!(e.message.contains("/no/such/dir"), "{}", e.message);
    }

    #[test]
    fn output_to_files() {
        let dir = tempfile::tempdir().unwrap();
        let out = File::create(dir.path().join("log")).unwrap();
        let f = run(
            &sh("echo a; echo b >&2"),
            Output::Files {
                stdout: out,
                stderr: None,
            },
            limits(None),
            |_| {},
        )
        .unwrap();
        assert_eq!(f.exit.code, Some(0));
        assert_eq!(
            std::fs::read_to_string(dir.path().join("log")).unwrap(),
            "a\nb\n"
        );
    }
}
