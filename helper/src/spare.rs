//! Warm runners: the next step's `python3` started ahead of it.
//!
//! A step started cold waits for `python3` to start and import `lutf` (most of a short
//! step's time; seconds in an emulated guest). So each `spawn_step` also leaves a *spare*
//! for the next one: a job supervisor (`lutf-helper --spare DIR`) whose runner
//! (`python3 -m lutf.runner serve`) has started and imported everything, and waits on its
//! stdin for the step it will run. The next `spawn_step` claims it instead of starting a
//! supervisor, and the step starts at once. From the claim on, the spare is a step job
//! like any other (same folder, files, lock, timeout, owner; see [`crate::jobs`]).
//!
//! A spare is a folder in the jobs folder, `.spare-<key>-<name>` (a name no job id can
//! have, so `jobs`, `wait` and `kill` never see it), holding:
//!
//! | file | what |
//! |---|---|
//! | `claim` | a FIFO: the claimer writes the job's id, one line |
//! | `reply` | a FIFO: the supervisor answers as it answers `spawn` (one [`Report`] line) |
//! | `owners.yml` | what its idle life is tied to, written by the call that starts it |
//! | `spare.yml` | the supervisor's identity and those owners, once it runs |
//! | `lock`, `log`, `cwd/`, `supervisor.log` | as in a job |
//!
//! Claiming is renaming the folder to the job's: `rename` is atomic, so of two claimers,
//! or of a claimer and the spare retiring, exactly one wins. The key is a hash of what the
//! runner's process is made of (the `python3` found, its environment): a spare is only
//! claimed by a step whose runner would have been started the same way. A spare waits at
//! most [`IDLE`], and less when the connection it was made for ends; it never listens on
//! anything (FIFOs in the private work directory).

use std::hash::{Hash, Hasher};
use std::io::{Read, Write};
use std::os::fd::{AsRawFd, OwnedFd};
use std::os::unix::ffi::OsStrExt;
use std::os::unix::fs::DirBuilderExt;
use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::time::{Duration, Instant};

use lutf_protocol::{ErrorKind, ErrorReply, SpawnResult, StepArgs};
use serde::{Deserialize, Serialize};

use crate::jobs::{self, file, JobDir, JobSpec, Owner};
use crate::process;
use crate::supervise::{self, Report};
use crate::Env;

/// How long an unclaimed spare waits before it goes.
pub const IDLE: Duration = Duration::from_secs(120);

/// How often an unclaimed spare checks that it is still wanted.
const TICK: Duration = Duration::from_millis(250);

/// How long a claimer waits for the spare's supervisor to answer.
const REPLY_TIMEOUT: Duration = Duration::from_secs(30);

/// How long a claimed spare waits for its claimer's line.
const CLAIM_TIMEOUT: Duration = Duration::from_secs(10);

const CLAIM: &str = "claim";
const REPLY: &str = "reply";
const SPARE: &str = "spare.yml";
const OWNERS: &str = "owners.yml";

/// `spare.yml`.
#[derive(Debug, Serialize, Deserialize)]
struct Record {
    /// The spare's supervisor.
    supervisor: Owner,
    /// What it stays for: the connection that made it and the process that called the
    /// helper (the same over SSH; lutf itself when it runs the helper without SSH, even
    /// from a login over SSH). Either gone, the spare goes.
    owners: Vec<Owner>,
}

/// The key of the runner a step of `env` would start: the `python3` and its environment.
fn key(env: &Env) -> Option<String> {
    let python = crate::step::python(env).ok()?;
    let mut h = std::collections::hash_map::DefaultHasher::new();
    python.as_os_str().as_bytes().hash(&mut h);
    for (k, v) in crate::step::step_env(env) {
        k.as_bytes().hash(&mut h);
        v.as_bytes().hash(&mut h);
    }
    Some(format!("{:016x}", h.finish()))
}

fn prefix(key: &str) -> String {
    format!(".spare-{key}-")
}

fn io(what: impl std::fmt::Display, e: impl std::fmt::Display) -> ErrorReply {
    ErrorReply::new(ErrorKind::Io, format!("{what}: {e}"))
}

/// Whether the spare in `dir` still has its supervisor.
fn alive(dir: &Path) -> bool {
    std::fs::read_to_string(dir.join(SPARE))
        .ok()
        .and_then(|t| serde_yaml::from_str::<Record>(&t).ok())
        .is_some_and(|r| r.supervisor.alive())
}

/// The spares waiting for a step of `key`, oldest first.
fn waiting(root: &Path, key: &str) -> Vec<PathBuf> {
    let prefix = prefix(key);
    let mut found: Vec<PathBuf> = std::fs::read_dir(root)
        .into_iter()
        .flatten()
        .flatten()
        .filter(|e| e.file_name().to_string_lossy().starts_with(&prefix))
        .map(|e| e.path())
        .collect();
    found.sort();
    found
}

/// Starts a spare for the next step of `env`, unless one waits already. Never fails the
/// call: a step without a spare starts cold.
pub fn start(env: &Env) {
    if let Err(e) = try_start(env) {
        // On the call's stderr, which the master logs (`-v`).
        eprintln!("lutf-helper: no spare runner: {}", e.message);
    }
}

fn try_start(env: &Env) -> Result<(), ErrorReply> {
    let Some(key) = key(env) else { return Ok(()) };
    let root = jobs::jobs_root(&env.workdir);
    crate::workdir::ensure_private(&env.workdir)?;
    crate::workdir::ensure_private(&root)?;
    let mut ready = false;
    for dir in waiting(&root, &key) {
        if alive(&dir) {
            ready = true;
        } else {
            // A supervisor that died (SIGKILL) left it: nobody can claim it usefully.
            retire(&root, &dir);
        }
    }
    if ready {
        return Ok(());
    }
    // Made under a name that is neither a job's nor a spare's, published once it runs.
    let name = fresh_id();
    let dir = root.join(format!(".starting-{name}"));
    std::fs::DirBuilder::new()
        .mode(0o700)
        .create(&dir)
        .map_err(|e| io(dir.display(), e))?;
    for fifo in [CLAIM, REPLY] {
        mkfifo(&dir.join(fifo))?;
    }
    let owners: Vec<Owner> = [Owner::of_this_process(), Owner::of_parent()]
        .into_iter()
        .flatten()
        .collect();
    let exe = std::env::current_exe().map_err(|e| io("cannot find lutf-helper itself", e))?;
    let log = std::fs::File::create(dir.join(file::SUPERVISOR_LOG))
        .map_err(|e| io("cannot create the supervisor log", e))?;
    std::fs::write(dir.join(OWNERS), lutf_protocol::to_yaml(&owners))
        .map_err(|e| io(dir.display(), e))?;
    let child = std::process::Command::new(&exe)
        .arg("--workdir")
        .arg(&env.workdir)
        .arg("--spare")
        .arg(&dir)
        .arg(format!("{}{name}", prefix(&key)))
        .current_dir("/")
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::from(log))
        .spawn()
        .map_err(|e| io(format!("cannot start {}", exe.display()), e))?;
    drop(child); // not waited for: it outlives this call
    Ok(())
}

fn mkfifo(path: &Path) -> Result<(), ErrorReply> {
    let c =
        std::ffi::CString::new(path.as_os_str().as_bytes()).map_err(|e| io(path.display(), e))?;
    // SAFETY: a valid NUL-terminated path.
    if unsafe { libc::mkfifo(c.as_ptr(), 0o600) } != 0 {
        return Err(io(path.display(), std::io::Error::last_os_error()));
    }
    Ok(())
}

fn open_fifo(path: &Path, flags: libc::c_int) -> std::io::Result<OwnedFd> {
    use std::os::fd::FromRawFd;
    let c = std::ffi::CString::new(path.as_os_str().as_bytes())?;
    // SAFETY: a valid NUL-terminated path; the descriptor is ours on success.
    let fd = unsafe { libc::open(c.as_ptr(), flags | libc::O_NONBLOCK | libc::O_CLOEXEC) };
    if fd < 0 {
        return Err(std::io::Error::last_os_error());
    }
    // SAFETY: `fd` was just opened and is owned by nobody else.
    Ok(unsafe { OwnedFd::from_raw_fd(fd) })
}

/// Takes `dir` out of the spares (renamed, so that no claimer can take it) and removes it.
/// Answers false when a claimer took it first.
fn retire(root: &Path, dir: &Path) -> bool {
    let name = dir.file_name().unwrap_or_default().to_string_lossy();
    let gone = root.join(format!(".retired-{name}"));
    if std::fs::rename(dir, &gone).is_err() {
        return false;
    }
    let _ = std::fs::remove_dir_all(&gone);
    true
}

/// Starts the step `args` (as job `id` when given) on a waiting spare of `env`, if there
/// is one: `None` when there is none (or it could not be used before the claim), and the
/// step is to start cold.
pub fn claim(
    env: &Env,
    args: &StepArgs,
    id: Option<&str>,
) -> Option<Result<SpawnResult, ErrorReply>> {
    let key = key(env)?;
    let root = jobs::jobs_root(&env.workdir);
    let id = match id {
        Some(id) => id.to_string(),
        None => fresh_id(),
    };
    // The cold path says why an id cannot be used (a path, say) or used twice.
    if !jobs::valid_id(&id) {
        return None;
    }
    let target = root.join(&id);
    if target.exists() {
        return None;
    }
    for dir in waiting(&root, &key) {
        if !alive(&dir) {
            continue;
        }
        if std::fs::rename(&dir, &target).is_ok() {
            let job = JobDir {
                id: id.clone(),
                path: target,
            };
            return Some(hand_over(env, &job, args));
        }
    }
    None
}

/// A new job id, as [`crate::workdir::unique_dir`] names them, without making the folder.
fn fresh_id() -> String {
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_nanos())
        .unwrap_or_default();
    format!("{nanos:x}-{}", std::process::id())
}

/// Gives the claimed spare in `job` its step and waits until it runs.
fn hand_over(env: &Env, job: &JobDir, args: &StepArgs) -> Result<SpawnResult, ErrorReply> {
    let spec = JobSpec::Step {
        args: Box::new(args.clone()),
    };
    job.write(file::SPEC, &spec)?;
    if let Some(owner) = Owner::of_this_process() {
        job.write(file::OWNER, &owner)?;
    }
    let reply = open_fifo(&job.file(REPLY), libc::O_RDONLY).map_err(|e| io("reply", e))?;
    let claim = match open_fifo(&job.file(CLAIM), libc::O_WRONLY) {
        Ok(fd) => fd,
        // Nobody reads it: the supervisor is gone. The folder is a job now; start it
        // the usual way.
        Err(_) => return crate::ops::jobs::start_existing(env, job),
    };
    let line = format!("{}\n", job.id);
    std::fs::File::from(claim)
        .write_all(line.as_bytes())
        .map_err(|e| io("claim", e))?;
    let record = std::fs::read_to_string(job.file(SPARE))
        .ok()
        .and_then(|t| serde_yaml::from_str::<Record>(&t).ok());
    let until = Instant::now() + REPLY_TIMEOUT;
    let mut buf = Vec::new();
    let mut reply = std::fs::File::from(reply);
    loop {
        if let Some(end) = buf.iter().position(|&b| b == b'\n') {
            let text = String::from_utf8_lossy(&buf[..end]).into_owned();
            return match serde_json::from_str::<Report>(&text) {
                Ok(Report::Started(pid)) => Ok(SpawnResult {
                    job: job.id.clone(),
                    pid,
                    ended: None,
                }),
                Ok(Report::Failed(e)) => Err(e),
                Err(e) => Err(io("the spare's answer", e)),
            };
        }
        let gone = record.as_ref().is_some_and(|r| !r.supervisor.alive());
        if gone || Instant::now() >= until {
            let log = std::fs::read_to_string(job.file(file::SUPERVISOR_LOG)).unwrap_or_default();
            return Err(ErrorReply::new(
                ErrorKind::Spawn,
                "the spare runner's supervisor did not start the step".to_string(),
            )
            .with_detail(log));
        }
        let mut p = libc::pollfd {
            fd: reply.as_raw_fd(),
            events: libc::POLLIN,
            revents: 0,
        };
        // SAFETY: one valid pollfd.
        unsafe { libc::poll(&mut p, 1, 200) };
        let mut chunk = [0u8; 4096];
        match reply.read(&mut chunk) {
            Ok(n) => buf.extend_from_slice(&chunk[..n]),
            Err(e) if e.kind() == std::io::ErrorKind::WouldBlock => {}
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
            Err(e) => return Err(io("the spare's answer", e)),
        }
    }
}

/// The spare's supervisor (`lutf-helper --spare DIR NAME`): starts the runner, publishes
/// itself as `NAME`, waits to be claimed (or goes), then follows the step as `--supervise`
/// does. Returns the exit code.
pub fn serve(env: &Env, dir: &Path, name: &str) -> i32 {
    // SAFETY: setsid has no preconditions; failing (already a leader) is harmless.
    unsafe { libc::setsid() };
    crate::reaper::adopt_orphans();
    match run(env, dir, name) {
        Ok(()) => 0,
        Err(e) => {
            eprintln!("lutf-helper --spare {}: {e}", dir.display());
            report_anyway(&e);
            e.kind.exit_code()
        }
    }
}

/// Reports a failure to a claimer, if there is one to hear it.
fn report_anyway(e: &ErrorReply) {
    supervise::report(&Report::Failed(e.clone()));
}

fn run(env: &Env, dir: &Path, name: &str) -> Result<(), ErrorReply> {
    let root = dir
        .parent()
        .ok_or_else(|| io(dir.display(), "no parent"))?
        .to_path_buf();
    let pending = JobDir {
        id: String::new(),
        path: dir.to_path_buf(),
    };
    // Held from now on: once claimed, the folder is a job and waiters block on it.
    let _held = supervise::hold(&pending);
    // Read and written by this process alone (O_RDWR: never end of file, never blocks).
    let claim = open_fifo(&dir.join(CLAIM), libc::O_RDWR).map_err(|e| io("claim", e))?;
    let owners: Vec<Owner> = std::fs::read_to_string(dir.join(OWNERS))
        .ok()
        .and_then(|t| serde_yaml::from_str(&t).ok())
        .unwrap_or_default();
    let me = std::process::id() as i32;
    let record = Record {
        supervisor: Owner {
            pid: me,
            start: lutf_protocol::start_ticks(me).unwrap_or_default(),
        },
        owners: owners.clone(),
    };
    std::fs::write(dir.join(SPARE), lutf_protocol::to_yaml(&record))
        .map_err(|e| io(dir.display(), e))?;
    // Its working folder is the job's once it has its step: until then it must not be
    // in a folder that is renamed under it (a `python3` that is a shell shim follows
    // `$PWD`), so it waits in the work directory.
    std::fs::create_dir_all(dir.join(crate::step::file::CWD)).map_err(|e| io(dir.display(), e))?;
    // Waiting, it yields the CPU to the steps that run: its start and imports must not
    // slow the step before it on a node with little CPU (an emulated guest). Only root
    // can take the priority back at the claim, so only root lowers it.
    let niceness = Niceness::lower();
    let mut runner = {
        let cmd = crate::step::serve_command(env, &env.workdir)?;
        process::start(&cmd, supervise::step_log(&pending)?, true)?
    };
    // Published: from here on a claimer may take it.
    let published = root.join(name);
    std::fs::rename(dir, &published).map_err(|e| io(published.display(), e))?;
    let idle_until = Instant::now() + IDLE;
    let claimed = loop {
        if let Some(line) = read_claim(&claim, TICK) {
            break line;
        }
        let wanted =
            Instant::now() < idle_until && owners.iter().all(Owner::alive) && runner.alive();
        if !wanted && retire(&root, &published) {
            crate::pgroup::signal(runner.pid(), libc::SIGKILL);
            return Ok(());
        }
        if !wanted {
            // A claimer renamed it first: its line is on the way.
            match read_claim(&claim, CLAIM_TIMEOUT) {
                Some(line) => break line,
                None => {
                    crate::pgroup::signal(runner.pid(), libc::SIGKILL);
                    return Ok(());
                }
            }
        }
    };
    let job = JobDir {
        path: root.join(&claimed),
        id: claimed,
    };
    // The claimer reads our report on `reply`: it becomes our stdout.
    let reply = open_fifo(&job.file(REPLY), libc::O_WRONLY).map_err(|e| io("reply", e))?;
    // SAFETY: dup2 onto our own stdout with a descriptor we own.
    unsafe { libc::dup2(reply.as_raw_fd(), 1) };
    drop(reply);
    let spec = job.spec()?;
    let JobSpec::Step { args } = &spec else {
        return Err(io(job.path.display(), "a spare runs steps only"));
    };
    let cmd = crate::step::step_command(env, args, &job.path)?;
    let nice = niceness.restore();
    let running = if runner.alive() {
        // Where to work and the runner's arguments after `-m lutf.runner`, one JSON line.
        let given = serde_json::json!({
            "nice": nice,
            "cwd": cmd.cwd.to_string_lossy(),
            "argv": cmd.argv[3..]
                .iter()
                .map(|a| a.to_string_lossy().into_owned())
                .collect::<Vec<String>>(),
        });
        let mut line = serde_json::to_vec(&given).map_err(|e| io("the step", e))?;
        line.push(b'\n');
        runner.feed(line);
        runner
    } else {
        // It died waiting (killed by hand, say): the step starts cold, as it would have.
        process::start(&cmd, supervise::step_log(&job)?, false)?
    };
    supervise::follow(&job, &spec, running)
}

/// This thread's scheduling priority, lowered while a spare waits (root only).
struct Niceness {
    /// The priority it had, when it was lowered.
    was: Option<i32>,
}

impl Niceness {
    /// Lowers this thread's priority to the lowest (nice 19), as root; children inherit it.
    fn lower() -> Niceness {
        // SAFETY: geteuid, getpriority and setpriority take integers and touch no memory.
        unsafe {
            if libc::geteuid() != 0 {
                return Niceness { was: None };
            }
            let was = libc::getpriority(libc::PRIO_PROCESS, 0);
            let lowered = libc::setpriority(libc::PRIO_PROCESS, 0, 19) == 0;
            Niceness {
                was: lowered.then_some(was),
            }
        }
    }

    /// Takes this thread's priority back; answers the one the runner must take back too
    /// (`None`: it was never lowered).
    fn restore(&self) -> Option<i32> {
        let was = self.was?;
        // SAFETY: as above.
        unsafe { libc::setpriority(libc::PRIO_PROCESS, 0, was) };
        Some(was)
    }
}

/// The claimer's line (the job id) on `claim`, within `timeout`.
fn read_claim(claim: &OwnedFd, timeout: Duration) -> Option<String> {
    let until = Instant::now() + timeout;
    let mut buf = Vec::new();
    loop {
        if let Some(end) = buf.iter().position(|&b| b == b'\n') {
            let id = String::from_utf8_lossy(&buf[..end]).trim().to_string();
            return Some(id).filter(|id| !id.is_empty() && !id.contains('/'));
        }
        let left = until.saturating_duration_since(Instant::now());
        if left.is_zero() && buf.is_empty() {
            return None;
        }
        let mut p = libc::pollfd {
            fd: claim.as_raw_fd(),
            events: libc::POLLIN,
            revents: 0,
        };
        // SAFETY: one valid pollfd.
        let n = unsafe { libc::poll(&mut p, 1, left.as_millis().min(60_000) as i32 + 1) };
        if n <= 0 {
            if left.is_zero() {
                return None;
            }
            continue;
        }
        let mut chunk = [0u8; 256];
        // SAFETY: reading into our own buffer from a descriptor we own.
        let got = unsafe { libc::read(claim.as_raw_fd(), chunk.as_mut_ptr().cast(), chunk.len()) };
        if got > 0 {
            buf.extend_from_slice(&chunk[..got as usize]);
        }
    }
}
