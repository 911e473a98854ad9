//! The job supervisor: `lutf-helper --supervise <jobdir>`, started by `spawn` and
//! `spawn_step`, detached from the caller (its own session, no terminal, none of the
//! caller's stdio) so that it outlives the helper call.
//!
//! It runs the job's command in its own process group with output to files in the job
//! folder, tells the spawning call the pid (one JSON line on its stdout, the only thing it
//! ever writes there), waits for the command and writes `end.yml`. It holds the job's lock
//! the whole time, so that `wait` learns of its end from the kernel without polling.

use std::io::Write;
use std::path::Path;

use lutf_protocol::{ErrorKind, ErrorReply};
use serde::{Deserialize, Serialize};

use std::sync::atomic::{AtomicI32, Ordering};
use std::sync::Arc;
use std::time::Duration;

use crate::jobs::{file, End, JobDir, JobSpec, Owner, Started};
use crate::process::{self, Output};
use crate::Env;

/// The one line the supervisor writes to the spawning call.
#[derive(Debug, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Report {
    /// The command runs with this pid.
    Started(i32),
    /// The command could not be started.
    Failed(ErrorReply),
}

pub(crate) fn report(r: &Report) {
    let mut line = serde_json::to_string(r).unwrap_or_else(|_| "{}".into());
    line.push('\n');
    let mut out = std::io::stdout().lock();
    let _ = out.write_all(line.as_bytes());
    let _ = out.flush();
    // Let go of the pipe: nothing more goes there, and the caller may be gone.
    if let Ok(null) = std::fs::OpenOptions::new().write(true).open("/dev/null") {
        use std::os::fd::AsRawFd;
        // SAFETY: dup2 onto our own stdout with a descriptor we own.
        unsafe { libc::dup2(null.as_raw_fd(), 1) };
    }
}

fn create(path: &Path) -> Result<std::fs::File, ErrorReply> {
    std::fs::File::create(path)
        .map_err(|e| ErrorReply::new(ErrorKind::Io, format!("{}: {e}", path.display())))
}

/// Runs the job in `dir` to its end; returns the supervisor's exit code.
pub fn supervise(env: &Env, dir: &Path) -> i32 {
    // SAFETY: setsid has no preconditions; failing (already a leader) is harmless.
    unsafe { libc::setsid() };
    // Whatever the job starts ends with it, even if it left its process group.
    crate::reaper::adopt_orphans();
    match run(env, dir) {
        Ok(()) => 0,
        Err(e) => {
            eprintln!("lutf-helper --supervise {}: {e}", dir.display());
            report(&Report::Failed(e.clone()));
            e.kind.exit_code()
        }
    }
}

fn run(env: &Env, dir: &Path) -> Result<(), ErrorReply> {
    let id = dir
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    let job = JobDir {
        id,
        path: dir.to_path_buf(),
    };
    let spec = job.spec()?;
    // Held until this function returns, after `end.yml` is written: waiters block on it.
    let _held = hold(&job);
    let running = match &spec {
        JobSpec::Exec { args } => {
            let cmd = crate::ops::exec::command_spec(args, &env.workdir)?;
            let output = Output::Files {
                stdout: create(&job.file(file::STDOUT))?,
                stderr: Some(create(&job.file(file::STDERR))?),
            };
            process::start(&cmd, output, false)?
        }
        JobSpec::Step { args } => {
            let cmd = crate::step::step_command(env, args, dir)?;
            process::start(&cmd, step_log(&job)?, false)?
        }
    };
    follow(&job, &spec, running)
}

/// Takes the job's lock (see [`JobDir::hold`]), or says why it cannot.
pub(crate) fn hold(job: &JobDir) -> Option<crate::jobs::Held> {
    match job.hold() {
        Ok(h) => Some(h),
        Err(e) => {
            // Waiters poll instead; slower, not wrong.
            eprintln!("lutf-helper --supervise: {e}");
            None
        }
    }
}

/// Where a step's runner writes: stdout and stderr both into the job's `log`.
pub(crate) fn step_log(job: &JobDir) -> Result<Output, ErrorReply> {
    Ok(Output::Files {
        stdout: create(&job.file(file::LOG))?,
        stderr: None,
    })
}

/// Follows the job's command, started as `running`, to its end: stops it when its owner's
/// connection goes, reports its pid (then writes nothing more on stdout), and records how
/// it ended (`end.yml`).
pub(crate) fn follow(
    job: &JobDir,
    spec: &JobSpec,
    running: process::Running,
) -> Result<(), ErrorReply> {
    let command_pid = Arc::new(AtomicI32::new(0));
    if let Ok(Some(owner)) = read_owner(job) {
        watch_owner(job.clone(), owner, command_pid.clone());
    }
    let supervisor_pid = std::process::id() as i32;
    let supervisor_start = lutf_protocol::start_ticks(supervisor_pid).unwrap_or_default();
    let on_start = |pid: i32| {
        command_pid.store(pid, Ordering::SeqCst);
        let started = Started {
            pid,
            pid_start: lutf_protocol::start_ticks(pid),
            supervisor_pid,
            supervisor_start,
            started_at: crate::jobs::now(),
        };
        match job.write(file::STARTED, &started) {
            Ok(()) => report(&Report::Started(pid)),
            Err(e) => {
                // Without a start record no later call could find the job: give up on it.
                crate::pgroup::signal(pid, libc::SIGKILL);
                report(&Report::Failed(e));
            }
        }
    };
    let end = match spec {
        JobSpec::Exec { args } => {
            let f = running.finish(crate::ops::exec::limits(args), on_start)?;
            note_left_behind(&job.file(file::STDERR), &f.left_behind);
            End {
                exit: f.exit,
                timed_out: f.timed_out,
                duration: f.duration,
                step: None,
            }
        }
        JobSpec::Step { args } => {
            let f = running.finish(crate::step::limits(args, &job.path), on_start)?;
            note_left_behind(&job.file(file::LOG), &f.left_behind);
            let killed_after = std::fs::read_to_string(job.file(file::KILLED))
                .ok()
                .and_then(|t| t.trim().parse().ok());
            let outcome = crate::step::step_outcome(args, &job.path, &f, killed_after);
            let _ = std::fs::remove_dir_all(job.file(crate::step::file::CWD));
            End {
                exit: f.exit,
                timed_out: f.timed_out,
                duration: f.duration,
                step: Some(outcome),
            }
        }
    };
    // The command and its group are gone: nothing for the watcher to stop any more.
    command_pid.store(-1, Ordering::SeqCst);
    job.write(file::END, &end)
}

/// Says in the job's output (`log`, or `stderr` of a command) which of its leftovers
/// would not die: the step has ended, and its log reaches the master, but they remain.
fn note_left_behind(output: &Path, stuck: &[String]) {
    if stuck.is_empty() {
        return;
    }
    let mut text = format!(
        "lutf-helper: {} process(es) the job left were killed but did not die within {} s \
         (uninterruptible sleep: only the kernel can end it), left behind:\n",
        stuck.len(),
        crate::reaper::END_WAIT.as_secs()
    );
    for s in stuck {
        text.push_str(&format!("lutf-helper:   {s}\n"));
    }
    eprint!("{text}");
    if let Ok(mut f) = std::fs::OpenOptions::new().append(true).open(output) {
        let _ = f.write_all(text.as_bytes());
    }
}

/// How often the supervisor checks that the master's connection still lives.
const OWNER_POLL: Duration = Duration::from_millis(250);

/// Time between SIGTERM and SIGKILL for an orphaned job.
const ORPHAN_GRACE: Duration = Duration::from_secs(2);

fn read_owner(job: &JobDir) -> Result<Option<Owner>, ErrorReply> {
    match std::fs::read_to_string(job.file(file::OWNER)) {
        Ok(text) => serde_yaml::from_str(&text)
            .map(Some)
            .map_err(|e| ErrorReply::new(ErrorKind::Io, format!("owner.yml: {e}"))),
        Err(_) => Ok(None),
    }
}

/// Stops the job once `owner` (the master's connection) is gone: a master that died
/// (SIGKILL included) leaves no test process running on the node. The job then ends as
/// killed (`killed` written as `kill` does), so its end is recorded as usual.
fn watch_owner(job: JobDir, owner: Owner, command_pid: Arc<AtomicI32>) {
    std::thread::spawn(move || loop {
        std::thread::sleep(OWNER_POLL);
        if owner.alive() {
            continue;
        }
        let pid = command_pid.load(Ordering::SeqCst);
        if pid < 0 {
            return;
        }
        if pid <= 1 {
            // Not started yet: look again once it is.
            continue;
        }
        let _ = std::fs::write(
            job.file(file::ORPHANED),
            format!("the master's connection (sshd pid {}) ended\n", owner.pid),
        );
        eprintln!(
            "owner sshd pid {} is gone: stopping the job (group {pid})",
            owner.pid
        );
        let _ = job.write(file::KILLED, &ORPHAN_GRACE.as_secs_f64());
        crate::pgroup::terminate(pid, ORPHAN_GRACE, || !crate::pgroup::alive(pid));
        return;
    });
}
