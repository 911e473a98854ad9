//! `plan`, `step` and `spawn_step` end to end: the real helper binary in a bundle folder
//! beside the real Python package and the fixture suites, running real `python3`.

mod common;

use std::os::unix::fs::symlink;
use std::path::Path;
use std::time::{Duration, Instant};

use common::bundle::{failure, Bundle};
use lutf_protocol::{
    ErrorKind, Facts, FailureKind, KillArgs, KillResult, Op, PlanArgs, SpawnResult, StepOutcome,
    StepResult, TestPlan, WaitArgs, WaitResult,
};

const PYTHON36: &str = "/root/.pyenv/versions/3.6.15/bin/python3.6";

#[test]
fn plan_of_a_sample() {
    let b = Bundle::new();
    let plan = b.plan("samples/test_01.py");
    assert!(plan.description.starts_with("One step"), "{plan:?}");
    assert_eq!(plan.steps.len(), 1);
    assert_eq!(plan.steps[0].name, "whoami");
    assert_eq!(plan.needs.roles.len(), 1);
}

#[test]
fn plan_errors_carry_the_traceback() {
    let b = Bundle::new();
    let (r, code) = b.work.call_with::<TestPlan>(
        &b.helper,
        Op::Plan(PlanArgs {
            file: "broken/test_02.py".into(),
        }),
    );
    let e = r.unwrap_err();
    assert_eq!(e.kind, ErrorKind::TestFile);
    assert_eq!(code, 3);
    assert!(e.message.contains("SyntaxError"), "{}", e.message);
    assert!(e.message.contains("broken/test_02.py:12"), "{}", e.message);
    assert!(e.detail.unwrap_or_default().contains("SyntaxError"));

    let (r, _) = b.work.call_with::<TestPlan>(
        &b.helper,
        Op::Plan(PlanArgs {
            file: "samples/test_99.py".into(),
        }),
    );
    let e = r.unwrap_err();
    assert_eq!(e.kind, ErrorKind::TestFile);
    assert!(e.message.contains("no test file"), "{}", e.message);
}

#[test]
fn a_passing_step_returns_its_value_and_log() {
    let b = Bundle::new();
    let r = b.step("samples/test_01.py", "whoami", Some(30.0));
    let hostname = std::fs::read_to_string("/proc/sys/kernel/hostname").unwrap();
    match &r.outcome {
        StepOutcome::Pass { value } => assert_eq!(value["hostname"], hostname.trim()),
        other => panic!("{other:?}: {}", r.log.data.to_string_lossy()),
    }
    assert!(r.log.data.to_string_lossy().contains("local is"));
    assert!(r.duration > 0.0);
    // The scratch folder is gone.
    let scratch = b.work.workdir.join("scratch");
    assert_eq!(std::fs::read_dir(scratch).unwrap().count(), 0);
}

#[test]
fn a_hanging_step_is_killed_at_its_timeout() {
    let b = Bundle::new();
    // 3 s rather than the file's 1 s: the clock starts with python, and a loaded machine
    // can take a second to start it before the step prints its marker.
    let args = b.step_args("broken/test_03.py", "hang", Some(3.0));
    let start = Instant::now();
    let r: StepResult = b.call(Op::Step(args));
    // "Did not hang": generous bound over 3 s timeout + 2 s grace + python start.
    assert!(start.elapsed() < Duration::from_secs(20));
    let f = failure(&r.outcome);
    assert_eq!(f.kind, FailureKind::Timeout);
    // broken/test_03.py sleeps in `hang`, at line 16.
    assert_eq!(
        f.message,
        "step hang timed out after 3 s in hang (broken/test_03.py:16)"
    );
    assert!(r
        .log
        .data
        .to_string_lossy()
        .contains("LUTF-FIXTURE-HANG-STARTED"));
}

#[test]
fn a_step_killed_without_a_result_is_a_crash() {
    let b = Bundle::new();
    let r = b.step("failures/test_07.py", "die", Some(30.0));
    let f = failure(&r.outcome);
    assert_eq!(f.kind, FailureKind::Crash);
    assert_eq!(
        f.message,
        "step die: python was killed by signal 9 without a result"
    );
    assert!(r
        .log
        .data
        .to_string_lossy()
        .contains("LUTF-FIXTURE-ABOUT-TO-DIE"));
}

#[test]
fn an_exception_keeps_its_traceback() {
    let b = Bundle::new();
    let r = b.step("failures/test_02.py", "parse", Some(30.0));
    let f = failure(&r.outcome);
    assert_eq!(f.kind, FailureKind::Exception);
    assert!(f.message.contains("ValueError"), "{}", f.message);
    assert!(f.traceback.as_deref().unwrap_or("").contains("Traceback"));
}

fn python3_in(dir: &Path, target: &Path) -> String {
    let bin = dir.join("bin");
    std::fs::create_dir_all(&bin).unwrap();
    symlink(target, bin.join("python3")).unwrap();
    format!("{}:/usr/bin:/bin", bin.display())
}

#[test]
fn python_gets_a_clean_environment_and_one_interleaved_log() {
    let mut b = Bundle::new();
    let tmp = tempfile::tempdir().unwrap();
    let path = python3_in(tmp.path(), Path::new("/usr/bin/python3"));
    b.work.env = Some(vec![
        ("PATH".into(), path.clone()),
        ("HOME".into(), "/root".into()),
        ("PYTHONSTARTUP".into(), "/nonexistent".into()),
        ("LUTF_JUNK".into(), "1".into()),
    ]);
    let r = b.step("helper/test_env.py", "report", Some(30.0));
    let StepOutcome::Pass { value } = &r.outcome else {
        panic!("{:?}: {}", r.outcome, r.log.data.to_string_lossy())
    };
    let env: Vec<String> = serde_json::from_value(value["env"].clone()).unwrap();
    for must in [
        "PATH",
        "HOME",
        "PYTHONPATH",
        "PYTHONUNBUFFERED",
        "LUTF_HELPER",  // lutf.lnet calls the helper back
        "LUTF_WORKDIR", // with the same work directory
    ] {
        assert!(env.iter().any(|e| e == must), "{must} missing: {env:?}");
    }
    for extra in &env {
        assert!(
            [
                "PATH",
                "HOME",
                "PYTHONPATH",
                "PYTHONUNBUFFERED",
                "LUTF_HELPER",
                "LUTF_WORKDIR",
                "LC_CTYPE", // Python's own C-locale coercion (PEP 538)
            ]
            .contains(&extra.as_str()),
            "unexpected variable {extra}"
        );
    }
    assert!(value["pythonpath"].as_str().unwrap().ends_with("/python"));
    let cwd = value["cwd"].as_str().unwrap();
    let scratch = std::fs::canonicalize(b.work.workdir.join("scratch")).unwrap();
    assert!(cwd.starts_with(scratch.to_str().unwrap()), "{cwd}");
    assert_eq!(value["cwd_entries"], serde_json::json!([]));
    assert_eq!(
        r.log.data.to_string_lossy(),
        "to stdout\nto stderr\nto stdout again\n"
    );
}

#[test]
fn steps_run_on_python_3_6() {
    if !Path::new(PYTHON36).exists() {
        eprintln!("skipped: no Python 3.6 at {PYTHON36}");
        return;
    }
    let mut b = Bundle::new();
    let tmp = tempfile::tempdir().unwrap();
    let path = python3_in(tmp.path(), Path::new(PYTHON36));
    b.work.env = Some(vec![("PATH".into(), path)]);
    let r = b.step("helper/test_env.py", "report", Some(30.0));
    let StepOutcome::Pass { value } = &r.outcome else {
        panic!("{:?}: {}", r.outcome, r.log.data.to_string_lossy())
    };
    assert_eq!(value["python"], serde_json::json!([3, 6]));
}

#[test]
fn no_python_is_a_structured_error() {
    let mut b = Bundle::new();
    let empty = tempfile::tempdir().unwrap();
    let args = b.step_args("samples/test_01.py", "whoami", Some(5.0));
    b.work.env = Some(vec![("PATH".into(), empty.path().display().to_string())]);
    let (r, code) = b.work.call_with::<StepResult>(&b.helper, Op::Step(args));
    assert_eq!(r.unwrap_err().kind, ErrorKind::NoPython);
    assert_eq!(code, 3);
    let facts: Facts = b.call(Op::Facts);
    assert!(facts.python.path.is_none());
    assert!(facts.python.missing.unwrap().contains("python3 not found"));
}

#[test]
fn a_background_step_is_stopped_by_kill_and_keeps_its_value() {
    let b = Bundle::new();
    let args = b.step_args("helper/test_background.py", "ticker", None);
    let s: SpawnResult = b.call(Op::SpawnStep(args));
    // While it runs, `wait` shows its log so far: wait for the step to announce itself.
    let until = Instant::now() + Duration::from_secs(20);
    loop {
        let w: WaitResult = b.call(Op::Wait(WaitArgs {
            job: s.job.clone(),
            timeout: 0.0,
        }));
        assert!(!w.finished && w.step.is_none(), "{w:?}");
        if w.stdout.data.to_string_lossy().contains("TICKER-STARTED") {
            break;
        }
        assert!(Instant::now() < until, "the step never started");
        std::thread::sleep(Duration::from_millis(50));
    }
    let k: KillResult = b.call(Op::Kill(KillArgs {
        job: s.job.clone(),
        grace: Some(5.0),
    }));
    assert!(k.was_running);
    let step = k.result.step.expect("a step job reports its step");
    match &step.outcome {
        StepOutcome::Pass { value } => assert!(value["ticks"].as_u64().unwrap() > 0),
        other => panic!("{other:?}: {}", step.log.data.to_string_lossy()),
    }
    assert_eq!(
        step.log.data.to_string_lossy(),
        "TICKER-STARTED\nTICKER-STOPPED\n"
    );
    assert!(
        k.result.stdout.data.is_empty(),
        "the log travels once, in step.log"
    );
    // The step's working folder went with it; the job folder stays until `forget`.
    let job_dir = b.work.workdir.join("jobs").join(&s.job);
    assert!(!job_dir.join("cwd").exists());
    let () = b.call(Op::Forget(lutf_protocol::JobArgs { job: s.job }));
    assert!(!job_dir.exists());
}

#[test]
fn a_background_step_times_out_on_the_node() {
    let b = Bundle::new();
    let args = b.step_args("broken/test_03.py", "hang", Some(3.0));
    let s: SpawnResult = b.call(Op::SpawnStep(args));
    let w: WaitResult = b.call(Op::Wait(WaitArgs {
        job: s.job,
        timeout: 30.0,
    }));
    assert!(w.finished && w.timed_out);
    let step = w.step.unwrap();
    assert_eq!(failure(&step.outcome).kind, FailureKind::Timeout);
    assert!(step
        .log
        .data
        .to_string_lossy()
        .contains("LUTF-FIXTURE-HANG-STARTED"));
}

#[test]
fn spawn_step_with_wait_answers_a_short_steps_end_under_the_masters_job_id() {
    let b = Bundle::new();
    let mut args = b.step_args("samples/test_01.py", "whoami", Some(30.0));
    args.wait = Some(30.0);
    args.job = Some("m-chosen-1".into());
    let s: SpawnResult = b.call(Op::SpawnStep(args.clone()));
    assert_eq!(s.job, "m-chosen-1");
    let ended = s.ended.expect("a short step ends within the wait");
    assert!(ended.finished);
    let step = ended.step.expect("its result");
    assert!(
        matches!(step.outcome, StepOutcome::Pass { .. }),
        "{:?}",
        step.outcome
    );
    // The job stays until the master forgets it; its id cannot be taken again meanwhile.
    let job_dir = b.work.workdir.join("jobs").join("m-chosen-1");
    assert!(job_dir.is_dir());
    let (again, _) = b
        .work
        .call_with::<SpawnResult>(&b.helper, Op::SpawnStep(args.clone()));
    assert!(again.is_err(), "{again:?}");
    let () = b.call(Op::Forget(lutf_protocol::JobArgs {
        job: "m-chosen-1".into(),
    }));
    // A step longer than the wait: answered as soon as the wait is over, still running.
    let mut args = b.step_args("helper/test_background.py", "ticker", None);
    args.wait = Some(0.5);
    let start = Instant::now();
    let s: SpawnResult = b.call(Op::SpawnStep(args.clone()));
    assert!(s.ended.is_none(), "{s:?}");
    assert!(start.elapsed() >= Duration::from_millis(500));
    let k: KillResult = b.call(Op::Kill(KillArgs {
        job: s.job,
        grace: Some(5.0),
    }));
    assert!(k.was_running);
    // A job id that could be a path is refused.
    args.job = Some("../x".into());
    let (r, _) = b
        .work
        .call_with::<SpawnResult>(&b.helper, Op::SpawnStep(args));
    assert_eq!(r.unwrap_err().kind, ErrorKind::BadArgs);
}

#[test]
fn spawn_step_of_a_missing_file_fails_at_once() {
    let b = Bundle::new();
    let mut args = b.step_args("samples/test_01.py", "whoami", None);
    args.file = "samples/test_99.py".into();
    let (r, _) = b
        .work
        .call_with::<SpawnResult>(&b.helper, Op::SpawnStep(args));
    assert_eq!(r.unwrap_err().kind, ErrorKind::TestFile);
}

#[test]
fn jobs_lists_each_job_with_the_master_that_started_it() {
    let b = Bundle::new();
    let listed = |b: &Bundle| -> lutf_protocol::JobsResult { b.call(Op::Jobs) };
    assert_eq!(listed(&b).jobs, Vec::new(), "no job folder yet");
    let origin = lutf_protocol::Origin {
        host: "master".into(),
        machine_id: "0123".into(),
        boot_id: "b00t".into(),
        pid: 4242,
        pid_start: Some(7),
        run: Some("deadbeef".into()),
    };
    let mut args = b.step_args("helper/test_background.py", "ticker", None);
    args.origin = Some(origin.clone());
    let step: SpawnResult = b.call(Op::SpawnStep(args));
    let exec: SpawnResult = b.call(Op::Spawn(lutf_protocol::ExecArgs {
        argv: vec!["true".into()],
        ..Default::default()
    }));
    let jobs = listed(&b).jobs;
    assert_eq!(jobs.len(), 2, "{jobs:?}");
    let find = |id: &str| jobs.iter().find(|j| j.job == id).unwrap().clone();
    let s = find(&step.job);
    assert!(s.running, "{s:?}");
    assert!(s.started_at.is_some());
    assert_eq!(s.origin.as_ref(), Some(&origin));
    assert_eq!(s.test.as_deref(), Some("helper/test_background"));
    assert_eq!(s.step.as_deref(), Some("ticker"));
    let e = find(&exec.job);
    assert_eq!((e.origin, e.test, e.step), (None, None, None));
    // Once killed, it is listed as ended until forgotten.
    let k: KillResult = b.call(Op::Kill(KillArgs {
        job: step.job.clone(),
        grace: Some(0.0),
    }));
    assert!(k.was_running);
    assert!(!listed(&b)
        .jobs
        .iter()
        .any(|j| j.job == step.job && j.running));
    let () = b.call(Op::Forget(lutf_protocol::JobArgs { job: step.job }));
    let () = b.call(Op::Forget(lutf_protocol::JobArgs { job: exec.job }));
    assert_eq!(listed(&b).jobs, Vec::new());
}

/// A cgroup v1 freezer of our own (a process frozen there is in state D and does not die
/// of SIGKILL until thawed), or why there is none here.
fn freezer() -> Result<std::path::PathBuf, String> {
    let mounts = std::fs::read_to_string("/proc/mounts").unwrap_or_default();
    let root = mounts
        .lines()
        .map(|l| l.split_whitespace().collect::<Vec<_>>())
        .find(|f| f.len() > 3 && f[2] == "cgroup" && f[3].split(',').any(|o| o == "freezer"))
        .map(|f| std::path::PathBuf::from(f[1]))
        .ok_or("no cgroup v1 freezer is mounted")?;
    let dir = root.join(format!("lutf-test-{}", std::process::id()));
    std::fs::create_dir(&dir).map_err(|e| format!("cannot make {}: {e}", dir.display()))?;
    Ok(dir)
}

#[test]
fn a_leftover_that_cannot_be_killed_is_named_and_does_not_hold_the_steps_end() {
    let dir = match freezer() {
        Ok(d) => d,
        Err(why) => {
            eprintln!("SKIP: {why} (needs root and cgroup v1's freezer)");
            return;
        }
    };
    let thaw = |dir: &Path| {
        let _ = std::fs::write(dir.join("freezer.state"), "THAWED");
    };
    let b = Bundle::new();
    let mut args = b.step_args("helper/test_unkillable.py", "leave", Some(60.0));
    args.context
        .params
        .insert("freezer".into(), dir.to_string_lossy().into_owned().into());
    args.wait = Some(30.0);
    let start = Instant::now();
    let s: SpawnResult = b.call(Op::SpawnStep(args));
    let took = start.elapsed();
    let ended = s.ended.map(|e| *e);
    thaw(&dir);
    let ended = ended.expect("the step's end, although its leftover would not die");
    // Generous: the leftover is given up on after 5 s, not after the step's 60 s timeout.
    assert!(took < Duration::from_secs(25), "{took:?}");
    let step = ended.step.expect("its result");
    let pid = match &step.outcome {
        StepOutcome::Pass { value } => value.as_i64().unwrap(),
        other => panic!("{other:?}"),
    };
    let log = step.log.data.to_string_lossy();
    assert!(log.contains(&format!("LEFT {pid}")), "{log}");
    assert!(
        log.contains("were killed but did not die within 5 s"),
        "{log}"
    );
    assert!(
        log.contains(&format!("pid {pid} (sleep), state D")),
        "{log}"
    );
    // Thawed, it dies of the SIGKILL it got.
    let until = Instant::now() + Duration::from_secs(10);
    while Path::new(&format!("/proc/{pid}")).exists()
        && !std::fs::read_to_string(format!("/proc/{pid}/stat"))
            .unwrap_or_default()
            .contains(") Z ")
    {
        assert!(Instant::now() < until, "pid {pid} still runs once thawed");
        std::thread::sleep(Duration::from_millis(20));
    }
    let _ = std::fs::remove_dir(&dir);
}
