//! `spawn` / `wait` / `kill` / `forget` through the real helper binary, each a separate
//! process: a job outlives the call that started it and later calls find it.

mod common;

use std::time::{Duration, Instant};

use common::{sleep_marker, wait_for, wait_gone, Work};
use lutf_protocol::{
    Bytes, ErrorKind, ExecArgs, JobArgs, KillArgs, KillResult, Op, SpawnResult, WaitArgs,
    WaitResult,
};

fn sh(script: &str) -> ExecArgs {
    ExecArgs {
        argv: vec![Bytes::from(script)],
        shell: true,
        ..Default::default()
    }
}

fn wait(work: &Work, job: &str, timeout: f64) -> WaitResult {
    work.call(Op::Wait(WaitArgs {
        job: job.into(),
        timeout,
    }))
}

#[test]
fn a_job_outlives_the_call_and_a_later_call_collects_it() {
    let work = Work::new();
    let s: SpawnResult = work.call(Op::Spawn(sh("echo out; echo err >&2; sleep 0.5; exit 7")));
    assert!(s.pid > 1);
    let early = wait(&work, &s.job, 0.0);
    assert!(!early.finished);
    assert_eq!(early.exit, None);
    let done = wait(&work, &s.job, 20.0);
    assert!(done.finished);
    assert_eq!(done.exit.unwrap().code, Some(7));
    assert_eq!(done.stdout.data.as_slice(), b"out\n");
    assert_eq!(done.stderr.data.as_slice(), b"err\n");
    assert!(done.duration >= 0.5);
    // Waiting again gives the same answer.
    assert_eq!(wait(&work, &s.job, 0.0).exit, done.exit);

    let () = work.call(Op::Forget(JobArgs { job: s.job.clone() }));
    let (e, code) = work.call_err(Op::Wait(WaitArgs {
        job: s.job,
        timeout: 0.0,
    }));
    assert_eq!(e.kind, ErrorKind::NoSuchJob);
    assert_eq!(code, 3);
}

#[test]
fn kill_stops_the_whole_group_and_reports_the_end() {
    let work = Work::new();
    let marker = sleep_marker();
    let s: SpawnResult = work.call(Op::Spawn(sh(&format!(
        "trap 'echo stopping; exit 3' TERM; sleep {marker} & sleep {marker} & wait"
    ))));
    assert_eq!(
        wait_for(&marker, 3, 5.0),
        3,
        "the shell and both sleeps run"
    );
    let k: KillResult = work.call(Op::Kill(KillArgs {
        job: s.job.clone(),
        grace: Some(5.0),
    }));
    assert!(k.was_running);
    assert!(k.result.finished);
    assert_eq!(k.result.exit.unwrap().code, Some(3), "the trap ran");
    assert_eq!(k.result.stdout.data.as_slice(), b"stopping\n");
    assert_eq!(wait_gone(&marker, 2.0), vec![], "grandchildren left behind");

    // Killing a finished job only reports it.
    let again: KillResult = work.call(Op::Kill(KillArgs {
        job: s.job,
        grace: None,
    }));
    assert!(!again.was_running);
    assert_eq!(again.result.exit, k.result.exit);
}

#[test]
fn a_job_ignoring_sigterm_gets_sigkill_after_the_grace() {
    let work = Work::new();
    let marker = sleep_marker();
    let s: SpawnResult = work.call(Op::Spawn(sh(&format!("trap '' TERM; sleep {marker}"))));
    let start = Instant::now();
    let k: KillResult = work.call(Op::Kill(KillArgs {
        job: s.job,
        grace: Some(0.3),
    }));
    // "Did not hang": generous bound over the 0.3 s grace.
    assert!(start.elapsed() < Duration::from_secs(5));
    assert_eq!(k.result.exit.unwrap().signal, Some(9));
    assert_eq!(wait_gone(&marker, 2.0), vec![]);
}

#[test]
fn a_job_timeout_kills_it() {
    let work = Work::new();
    let marker = sleep_marker();
    let mut args = sh(&format!("sleep {marker}"));
    args.timeout = Some(0.3);
    let s: SpawnResult = work.call(Op::Spawn(args));
    let w = wait(&work, &s.job, 20.0);
    assert!(w.finished && w.timed_out);
    assert_eq!(w.exit.unwrap().signal, Some(15));
    assert_eq!(wait_gone(&marker, 2.0), vec![]);
}

#[test]
fn job_output_is_bounded_like_exec() {
    let work = Work::new();
    let mut args = sh("head -c 100000 /dev/zero | tr '\\0' y");
    args.output_limit = Some(100);
    let s: SpawnResult = work.call(Op::Spawn(args));
    let w = wait(&work, &s.job, 20.0);
    assert_eq!(w.stdout.dropped, 100_000 - 100);
    assert!(w
        .stdout
        .data
        .to_string_lossy()
        .contains("[lutf: 99900 bytes dropped]"));
}

#[test]
fn spawn_failures_and_unknown_jobs_are_errors() {
    let work = Work::new();
    let (e, code) = work.call_err(Op::Spawn(ExecArgs {
        argv: vec![Bytes::from("lutf-no-such-program")],
        ..Default::default()
    }));
    assert_eq!(e.kind, ErrorKind::Spawn);
    assert_eq!(code, 3);
    // The failed job left nothing behind.
    let jobs = work.workdir.join("jobs");
    assert_eq!(std::fs::read_dir(jobs).unwrap().count(), 0);
    for job in ["nope", "../../etc", ""] {
        let (e, _) = work.call_err(Op::Kill(KillArgs {
            job: job.into(),
            grace: None,
        }));
        assert_eq!(e.kind, ErrorKind::NoSuchJob, "{job:?}");
    }
}

#[test]
fn forget_kills_a_running_job() {
    let work = Work::new();
    let marker = sleep_marker();
    let s: SpawnResult = work.call(Op::Spawn(sh(&format!("exec sleep {marker}"))));
    let () = work.call(Op::Forget(JobArgs { job: s.job.clone() }));
    assert_eq!(wait_gone(&marker, 2.0), vec![]);
    assert!(!work.workdir.join("jobs").join(&s.job).exists());
}

#[test]
fn a_job_whose_supervisor_died_can_still_be_killed() {
    let work = Work::new();
    let marker = sleep_marker();
    let s: SpawnResult = work.call(Op::Spawn(sh(&format!("sleep {marker}; true"))));
    // The supervisor's pid is in the job's documented start record.
    let started =
        std::fs::read_to_string(work.workdir.join("jobs").join(&s.job).join("started.yml"))
            .unwrap();
    let record: serde_yaml::Value = serde_yaml::from_str(&started).unwrap();
    let supervisor = record["supervisor_pid"].as_i64().unwrap() as i32;
    // SAFETY: signalling the supervisor this test started.
    assert_eq!(unsafe { libc::kill(supervisor, libc::SIGKILL) }, 0);
    std::thread::sleep(Duration::from_millis(100));

    let w = wait(&work, &s.job, 0.0);
    assert!(!w.finished, "the command still runs without its supervisor");
    let k: KillResult = work.call(Op::Kill(KillArgs {
        job: s.job.clone(),
        grace: Some(1.0),
    }));
    assert!(k.was_running);
    assert!(k.result.finished);
    assert_eq!(k.result.exit, None, "nobody recorded how it ended");
    assert_eq!(wait_gone(&marker, 2.0), vec![]);
}

/// A job belongs to the connection that spawned it (the nearest `sshd` among the spawning
/// helper's ancestors): it keeps running while that process lives and is stopped soon after
/// it ends, as when a master dies and its connection goes. The "connection" here is a copy
/// of `/bin/sh` named `sshd-owner`, which runs the helper as a child, then lives 1.5 s more.
#[test]
fn a_job_is_stopped_once_the_sshd_that_spawned_it_is_gone() {
    let work = Work::new();
    let dir = tempfile::tempdir().unwrap();
    let owner = dir.path().join("sshd-owner");
    common::copy_executable(std::path::Path::new("/bin/sh"), &owner);
    let marker = sleep_marker();
    let request = dir.path().join("request.yml");
    std::fs::write(
        &request,
        lutf_protocol::Request::from(Op::Spawn(sh(&format!("exec sleep {marker}")))).to_yaml(),
    )
    .unwrap();
    let mut shell = std::process::Command::new(&owner)
        .arg("-c")
        .arg(r#""$0" --workdir "$1" < "$2"; sleep 1.5"#)
        .arg(common::HELPER)
        .arg(&work.workdir)
        .arg(&request)
        .stdout(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    assert_eq!(wait_for(&marker, 1, 10.0), 1, "the job never ran");
    std::thread::sleep(Duration::from_millis(600));
    assert_eq!(
        common::processes_with(&marker).len(),
        1,
        "stopped while its owner lives"
    );
    let out = std::io::read_to_string(shell.stdout.take().unwrap()).unwrap();
    shell.wait().unwrap();
    let t0 = Instant::now();
    let s: SpawnResult = lutf_protocol::decode_reply::<SpawnResult>(&out)
        .unwrap()
        .into_result()
        .unwrap();
    // Generous bound (no hang): the supervisor looks every 250 ms, then 2 s of grace.
    assert!(wait_gone(&marker, 10.0).is_empty(), "left running");
    eprintln!(
        "orphaned job stopped {:?} after its owner ended",
        t0.elapsed()
    );
    let done = wait(&work, &s.job, 10.0);
    assert!(done.finished);
    assert_eq!(done.exit.unwrap().signal, Some(libc::SIGTERM));
    assert!(work
        .workdir
        .join("jobs")
        .join(&s.job)
        .join("orphaned")
        .exists());
}
