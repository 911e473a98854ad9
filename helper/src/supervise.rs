//! The job supervisor: `lutf-helper --supervise <jobdir>`, started by `spawn` and
//! `spawn_step`, detached from the caller (its own session, no terminal, none of the
//! caller's stdio) so that it outlives the helper call.
//!
//! It runs the job's command in its own process group with output to files in the job
//! folder, tells the spawning call the pid (one JSON line on its stdout, the only thing it
//! ever writes there), waits for the command and writes `end.yml`.

use std::io::Write;
use std::path::Path;

use lutf_protocol::{ErrorKind, ErrorReply};
use serde::{Deserialize, Serialize};

use crate::jobs::{file, End, JobDir, JobSpec, Started};
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

fn report(r: &Report) {
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
    let supervisor_pid = std::process::id() as i32;
    let supervisor_start = crate::jobs::start_ticks(supervisor_pid).unwrap_or_default();
    let on_start = |pid: i32| {
        let started = Started {
            pid,
            pid_start: crate::jobs::start_ticks(pid),
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
    let end = match &spec {
        JobSpec::Exec { args } => {
            let cmd = crate::ops::exec::command_spec(args, &env.workdir)?;
            let output = Output::Files {
                stdout: create(&job.file(file::STDOUT))?,
                stderr: Some(create(&job.file(file::STDERR))?),
            };
            let f = process::run(&cmd, output, crate::ops::exec::limits(args), on_start)?;
            End {
                exit: f.exit,
                timed_out: f.timed_out,
                duration: f.duration,
                step: None,
            }
        }
        JobSpec::Step { args } => {
            let cmd = crate::step::step_command(env, args, dir)?;
            let output = Output::Files {
                stdout: create(&job.file(file::LOG))?,
                stderr: None,
            };
            let f = process::run(&cmd, output, crate::step::limits(args), on_start)?;
            let killed_after = std::fs::read_to_string(job.file(file::KILLED))
                .ok()
                .and_then(|t| t.trim().parse().ok());
            let outcome = crate::step::step_outcome(args, dir, &f, killed_after);
            let _ = std::fs::remove_dir_all(dir.join(crate::step::file::CWD));
            End {
                exit: f.exit,
                timed_out: f.timed_out,
                duration: f.duration,
                step: Some(outcome),
            }
        }
    };
    job.write(file::END, &end)
}
