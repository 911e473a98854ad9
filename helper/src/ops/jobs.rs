//! `spawn`, `wait`, `kill`, `forget`, `jobs`: background jobs that outlive the helper call.
//!
//! `spawn` starts `lutf-helper --supervise <jobdir>` and waits only until the supervisor
//! says the command runs (or could not start). Every later call works from the job folder
//! (see [`crate::jobs`]).

use std::io::Read;
use std::os::fd::AsRawFd;
use std::path::Path;
use std::process::Stdio;
use std::time::{Duration, Instant};

use lutf_protocol::{
    Captured, ErrorKind, ErrorReply, ExecArgs, Failure, FailureKind, JobArgs, JobInfo, JobsResult,
    KillArgs, KillResult, Redactor, SpawnResult, StepOutcome, StepResult, WaitArgs, WaitResult,
    DEFAULT_OUTPUT_LIMIT,
};

use crate::capture;
use crate::jobs::{file, JobDir, JobSpec, State, Unlocked};
use crate::supervise::Report;
use crate::Env;

/// How long `spawn` waits for the supervisor to start the command.
const START_TIMEOUT: Duration = Duration::from_secs(30);

/// Default time between SIGTERM and SIGKILL for `kill`.
pub const DEFAULT_GRACE: f64 = 2.0;

/// How long `kill` waits for the supervisor to record the end after the group is killed.
const END_TIMEOUT: Duration = Duration::from_secs(10);

/// Starts `args` in the background.
pub fn spawn(env: &Env, args: ExecArgs) -> Result<SpawnResult, ErrorReply> {
    // Refuse bad arguments here, where the caller sees them, not in the supervisor.
    crate::ops::exec::command_spec(&args, &env.workdir)?;
    start(env, JobSpec::Exec { args }, None)
}

/// Starts a job described by `spec` under a supervisor (as job `id` when given); returns
/// once it runs.
pub fn start(env: &Env, spec: JobSpec, id: Option<&str>) -> Result<SpawnResult, ErrorReply> {
    let job = JobDir::create(&env.workdir, &spec, id)?;
    let result = start_supervisor(env, &job);
    if result.is_err() {
        let _ = std::fs::remove_dir_all(&job.path);
    }
    result
}

/// Starts the supervisor of the job already in `job` (its spec written).
pub fn start_existing(env: &Env, job: &JobDir) -> Result<SpawnResult, ErrorReply> {
    start_supervisor(env, job)
}

fn start_supervisor(env: &Env, job: &JobDir) -> Result<SpawnResult, ErrorReply> {
    let io = |what: &str, e: std::io::Error| ErrorReply::new(ErrorKind::Io, format!("{what}: {e}"));
    // Found here: the supervisor, detached, no longer has the caller's ancestry.
    if let Some(owner) = crate::jobs::Owner::of_this_process() {
        job.write(file::OWNER, &owner)?;
    }
    let exe = std::env::current_exe().map_err(|e| io("cannot find lutf-helper itself", e))?;
    let (read_end, write_end) =
        crate::process::pipe().map_err(|e| io("cannot create a pipe", e))?;
    let log = std::fs::File::create(job.file(file::SUPERVISOR_LOG))
        .map_err(|e| io("cannot create the supervisor log", e))?;
    let mut cmd = std::process::Command::new(&exe);
    cmd.arg("--workdir")
        .arg(&env.workdir)
        .arg("--supervise")
        .arg(&job.path)
        .current_dir("/")
        .stdin(Stdio::null())
        .stdout(Stdio::from(write_end))
        .stderr(Stdio::from(log));
    let child = cmd
        .spawn()
        .map_err(|e| io(&format!("cannot start {}", exe.display()), e))?;
    drop(cmd); // our copy of the pipe's write end: the read below must see end of file
    let pid = child.id();
    drop(child); // not waited for: it outlives this call

    let line = read_line(&read_end, START_TIMEOUT);
    match line.as_deref().map(serde_json::from_str::<Report>) {
        Some(Ok(Report::Started(pid))) => Ok(SpawnResult {
            job: job.id.clone(),
            pid,
            ended: None,
        }),
        Some(Ok(Report::Failed(e))) => Err(e),
        _ => {
            let log = std::fs::read_to_string(job.file(file::SUPERVISOR_LOG)).unwrap_or_default();
            // It may be stuck rather than dead: make sure it is neither.
            // SAFETY: kill on the supervisor we just started.
            unsafe { libc::kill(pid as i32, libc::SIGKILL) };
            Err(ErrorReply::new(
                ErrorKind::Spawn,
                format!(
                    "the job supervisor did not report within {} s",
                    START_TIMEOUT.as_secs()
                ),
            )
            .with_detail(log))
        }
    }
}

/// Reads one line from `fd`, giving up at end of file or after `timeout`.
fn read_line(fd: &std::os::fd::OwnedFd, timeout: Duration) -> Option<String> {
    let until = Instant::now() + timeout;
    let mut file = std::fs::File::from(fd.try_clone().ok()?);
    let mut buf = Vec::new();
    loop {
        if let Some(end) = buf.iter().position(|&b| b == b'\n') {
            return String::from_utf8(buf[..end].to_vec()).ok();
        }
        let left = until.saturating_duration_since(Instant::now());
        if left.is_zero() {
            return None;
        }
        let mut p = libc::pollfd {
            fd: fd.as_raw_fd(),
            events: libc::POLLIN,
            revents: 0,
        };
        // SAFETY: one valid pollfd.
        let n = unsafe { libc::poll(&mut p, 1, left.as_millis().min(60_000) as i32 + 1) };
        if n <= 0 {
            continue;
        }
        let mut chunk = [0u8; 4096];
        match file.read(&mut chunk) {
            Ok(0) => return None,
            Ok(n) => buf.extend_from_slice(&chunk[..n]),
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
            Err(_) => return None,
        }
    }
}

fn output_limit(spec: &JobSpec) -> u64 {
    match spec {
        JobSpec::Exec { args } => args.output_limit,
        JobSpec::Step { args } => args.output_limit,
    }
    .unwrap_or(DEFAULT_OUTPUT_LIMIT)
}

fn read_output(path: &Path, limit: u64) -> Result<Captured, ErrorReply> {
    capture::from_file(path, limit)
        .map_err(|e| ErrorReply::new(ErrorKind::Io, format!("{}: {e}", path.display())))
}

/// The job's state as a `wait` answer.
fn wait_result(job: &JobDir, state: &State) -> Result<WaitResult, ErrorReply> {
    let spec = job.spec()?;
    let limit = output_limit(&spec);
    let is_step = matches!(spec, JobSpec::Step { .. });
    let mut r = WaitResult {
        job: job.id.clone(),
        finished: true,
        exit: None,
        duration: 0.0,
        stdout: Captured::default(),
        stderr: Captured::default(),
        timed_out: false,
        step: None,
    };
    let log = || read_output(&job.file(file::LOG), limit);
    match state {
        State::Running(started) => {
            r.finished = false;
            r.duration = (crate::jobs::now() - started.started_at).max(0.0);
        }
        State::Finished(end) => {
            r.exit = Some(end.exit);
            r.duration = end.duration;
            r.timed_out = end.timed_out;
            if let Some(outcome) = &end.step {
                r.step = Some(StepResult {
                    outcome: outcome.clone(),
                    duration: end.duration,
                    log: log()?,
                });
            }
        }
        State::Lost(started) => {
            r.duration = started
                .as_ref()
                .map(|s| (crate::jobs::now() - s.started_at).max(0.0))
                .unwrap_or_default();
            if is_step {
                r.step = Some(StepResult {
                    outcome: StepOutcome::Fail {
                        failure: Failure {
                            kind: FailureKind::Crash,
                            message: "the step's supervisor vanished without recording how \
                                      it ended (killed, or the node rebooted)"
                                .into(),
                            traceback: None,
                        },
                    },
                    duration: r.duration,
                    log: log()?,
                });
            }
        }
    }
    if is_step {
        // A finished step's log travels once, in `step.log`.
        if r.step.is_none() {
            r.stdout = log()?;
        }
    } else {
        r.stdout = read_output(&job.file(file::STDOUT), limit)?;
        r.stderr = read_output(&job.file(file::STDERR), limit)?;
    }
    let secrets = match &spec {
        JobSpec::Exec { args } => &args.secret_env,
        JobSpec::Step { args } => &args.context.secrets,
    };
    Redactor::new(secrets).wait_result(&mut r);
    Ok(r)
}

/// Waits until the job is no longer running or `timeout` has passed: blocked on the
/// supervisor's lock, which the kernel releases the moment the supervisor exits. Polls
/// (5 ms doubling to 100 ms) only where that cannot tell: no lock file, or a command still
/// alive after its supervisor died.
fn wait_state(job: &JobDir, timeout: Duration) -> Result<State, ErrorReply> {
    let until = Instant::now() + timeout;
    let mut pause = Duration::from_millis(5);
    let mut lock_usable = true;
    loop {
        let state = job.state()?;
        let left = until.saturating_duration_since(Instant::now());
        if !matches!(state, State::Running(_)) || left.is_zero() {
            return Ok(state);
        }
        if lock_usable {
            match job.wait_unlocked(left) {
                Unlocked::Yes | Unlocked::Unsupported => lock_usable = false,
                Unlocked::TimedOut => {}
            }
            continue;
        }
        std::thread::sleep(pause.min(left));
        pause = (pause * 2).min(Duration::from_millis(100));
    }
}

/// Waits up to `args.timeout` for the job to end.
pub fn wait(env: &Env, args: &WaitArgs) -> Result<WaitResult, ErrorReply> {
    let job = JobDir::open(&env.workdir, &args.job)?;
    let state = wait_state(&job, Duration::from_secs_f64(args.timeout))?;
    wait_result(&job, &state)
}

/// Stops the job's process group: SIGTERM, `grace`, SIGKILL. Returns the final state.
fn stop(job: &JobDir, started: &crate::jobs::Started, grace: f64) -> Result<State, ErrorReply> {
    // Tell the supervisor why the step is ending before it can notice.
    job.write(file::KILLED, &grace)?;
    // Done when the supervisor recorded the end, or (supervisor gone) the command is gone.
    let done = || {
        job.end().ok().flatten().is_some()
            || !(started.command_alive()
                || lutf_protocol::start_ticks(started.supervisor_pid)
                    == Some(started.supervisor_start))
    };
    crate::pgroup::terminate(started.pid, Duration::from_secs_f64(grace), done);
    let state = wait_state(job, END_TIMEOUT)?;
    if matches!(state, State::Lost(_)) && crate::pgroup::alive(started.pid) {
        // No supervisor to clean up after the command: what is left of its group goes.
        crate::pgroup::signal(started.pid, libc::SIGKILL);
    }
    Ok(state)
}

/// Stops the job if it runs; answers how it ended.
pub fn kill(env: &Env, args: &KillArgs) -> Result<KillResult, ErrorReply> {
    let job = JobDir::open(&env.workdir, &args.job)?;
    let grace = args.grace.unwrap_or(DEFAULT_GRACE);
    let (was_running, state) = match job.state()? {
        State::Running(started) => (true, stop(&job, &started, grace)?),
        other => (false, other),
    };
    Ok(KillResult {
        job: job.id.clone(),
        was_running,
        result: wait_result(&job, &state)?,
    })
}

/// Removes the job's folder, killing the job first (SIGKILL) if it still runs.
pub fn forget(env: &Env, args: &JobArgs) -> Result<(), ErrorReply> {
    let job = JobDir::open(&env.workdir, &args.job)?;
    if let State::Running(started) = job.state()? {
        stop(&job, &started, 0.0)?;
    }
    std::fs::remove_dir_all(&job.path).map_err(|e| {
        ErrorReply::new(
            ErrorKind::Io,
            format!("cannot remove {}: {e}", job.path.display()),
        )
    })
}

/// Lists every job folder in the work directory with where it stands and who started it,
/// oldest first, so that a master can find the jobs a dead master left running. A folder
/// that cannot be read (being created or removed right now, or damaged) is left out.
pub fn list(env: &Env) -> Result<JobsResult, ErrorReply> {
    let root = crate::jobs::jobs_root(&env.workdir);
    let entries = match std::fs::read_dir(&root) {
        Ok(e) => e,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(JobsResult::default()),
        Err(e) => return Err(crate::jobs::io_error(&root, e)),
    };
    let mut jobs = Vec::new();
    for entry in entries.flatten() {
        let id = entry.file_name().to_string_lossy().into_owned();
        let Ok(job) = JobDir::open(&env.workdir, &id) else {
            continue;
        };
        let (Ok(spec), Ok(state)) = (job.spec(), job.state()) else {
            continue;
        };
        let started_at = match &state {
            State::Running(s) => Some(s.started_at),
            State::Lost(s) => s.as_ref().map(|s| s.started_at),
            State::Finished(_) => job.started().ok().flatten().map(|s| s.started_at),
        };
        let (origin, test, step) = match spec {
            JobSpec::Step { args } => (args.origin, Some(args.context.test), Some(args.step)),
            JobSpec::Exec { .. } => (None, None, None),
        };
        jobs.push(JobInfo {
            job: id,
            running: matches!(state, State::Running(_)),
            started_at,
            origin,
            test,
            step,
        });
    }
    jobs.sort_by(|a, b| {
        let t = |j: &JobInfo| j.started_at.unwrap_or(f64::MAX);
        t(a).total_cmp(&t(b)).then_with(|| a.job.cmp(&b.job))
    });
    Ok(JobsResult { jobs })
}
