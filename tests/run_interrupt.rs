//! SIGINT during a step: the step is stopped on its node, cleanup runs, the test FAILs with
//! "interrupted", the results are written, later tests are not run, and lutf exits 130.
//! A second SIGINT (while a cleanup hangs) quits at once, still writing the results of
//! every finished test, atomically, and the summary.

mod common;

use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use common::{have_python, root, subtests, Scratch};
use lutf::outcome::Status;

#[test]
fn sigint_stops_the_step_runs_cleanup_and_exits_130() {
    if !have_python() {
        eprintln!("SKIP: python3 is not installed on this machine");
        return;
    }
    let s = Scratch::new();
    let started = s.dir.path().join("started");
    let cleaned = s.dir.path().join("cleaned");
    let mut child = Command::new(env!("CARGO_BIN_EXE_lutf"))
        .arg("run")
        .arg("--suites")
        .arg(root().join("tests/fixtures/runner-suites"))
        .arg("--suite=interrupt")
        .arg("--results")
        .arg(s.results())
        .arg("--workdir")
        .arg(s.dir.path().join("work"))
        .arg(format!("--param=started={}", started.display()))
        .arg(format!("--param=cleaned={}", cleaned.display()))
        .current_dir(s.dir.path())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("start lutf");

    // Generous bounds below only prove that nothing hangs.
    let t0 = Instant::now();
    while !started.exists() {
        assert!(
            t0.elapsed() < Duration::from_secs(60),
            "the step never started"
        );
        if let Some(status) = child.try_wait().unwrap() {
            panic!("lutf ended early: {status}");
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    let step_pid: i32 = std::fs::read_to_string(&started).unwrap().parse().unwrap();
    // SAFETY: plain kill(2) on our own child.
    assert_eq!(unsafe { libc::kill(child.id() as i32, libc::SIGINT) }, 0);
    let t1 = Instant::now();
    let out = loop {
        if child.try_wait().unwrap().is_some() {
            break child.wait_with_output().unwrap();
        }
        assert!(t1.elapsed() < Duration::from_secs(60), "lutf did not stop");
        std::thread::sleep(Duration::from_millis(20));
    };
    let run = common::Run::from(out);
    assert_eq!(run.code, 130, "{run}");
    assert!(cleaned.exists(), "the cleanup step ran: {run}");
    // SAFETY: kill with signal 0 only checks whether the process exists.
    let alive = unsafe { libc::kill(step_pid, 0) } == 0;
    assert!(
        !alive,
        "the interrupted step's process {step_pid} is still there"
    );

    let subs = subtests(&s.results_yml(), "interrupt");
    assert_eq!(subs.len(), 1, "test_02 never ran: {subs:?}");
    assert_eq!(subs[0].1, "FAIL");
    assert_eq!(subs[0].2, "interrupted");
    let rj = s.run_json();
    assert!(rj.interrupted);
    let t = rj.tests().next().unwrap();
    let step = |n: &str| t.steps.iter().find(|s| s.name == n).unwrap();
    assert_eq!(
        step("wait").failure.as_ref().unwrap().kind,
        lutf::protocol::FailureKind::Interrupted
    );
    assert!(step("wait")
        .log
        .data
        .to_string_lossy()
        .contains("LUTF-FIXTURE-WAITING"));
    assert_eq!(
        step("never").failure.as_ref().unwrap().message,
        "not run: interrupted"
    );
    assert_eq!(step("mark").status, lutf::outcome::Status::Pass);
    assert!(
        run.stderr
            .contains("not run: 1 test: the run was interrupted"),
        "{run}"
    );
}

/// Waits until `path` exists (generous bound: it only proves nothing hangs).
fn wait_for(child: &mut Child, path: &Path, what: &str) {
    let t0 = Instant::now();
    while !path.exists() {
        assert!(
            t0.elapsed() < Duration::from_secs(60),
            "{what} never happened"
        );
        if let Some(status) = child.try_wait().unwrap() {
            panic!("lutf ended early: {status}");
        }
        std::thread::sleep(Duration::from_millis(20));
    }
}

fn sigint(child: &Child) {
    // SAFETY: plain kill(2) on our own child.
    assert_eq!(unsafe { libc::kill(child.id() as i32, libc::SIGINT) }, 0);
}

#[test]
fn a_second_sigint_still_writes_every_finished_test_and_the_summary() {
    if !have_python() {
        eprintln!("SKIP: python3 is not installed on this machine");
        return;
    }
    let s = Scratch::new();
    let started = s.dir.path().join("started");
    let tidying = s.dir.path().join("tidying");
    let late = s.dir.path().join("late");
    let mut child = Command::new(env!("CARGO_BIN_EXE_lutf"))
        .arg("run")
        .arg("--suites")
        .arg(root().join("tests/fixtures/runner-suites"))
        .arg("--suite=quit")
        .arg("--results")
        .arg(s.results())
        .arg("--workdir")
        .arg(s.dir.path().join("work"))
        .arg(format!("--param=started={}", started.display()))
        .arg(format!("--param=tidying={}", tidying.display()))
        .arg(format!("--param=late={}", late.display()))
        .current_dir(s.dir.path())
        .env("NO_COLOR", "1")
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("start lutf");
    // test_01 has ended (PASS) once test_02's step runs.
    wait_for(&mut child, &started, "test_02's step");
    sigint(&child);
    // The cleanup now holds, and will not stop on its own.
    wait_for(&mut child, &tidying, "test_02's cleanup");
    sigint(&child);
    let t1 = Instant::now();
    let out = loop {
        if child.try_wait().unwrap().is_some() {
            break child.wait_with_output().unwrap();
        }
        if t1.elapsed() > Duration::from_secs(60) {
            child.kill().unwrap();
            panic!(
                "lutf did not quit: {}",
                common::Run::from(child.wait_with_output().unwrap())
            );
        }
        std::thread::sleep(Duration::from_millis(20));
    };
    let run = common::Run::from(out);
    assert_eq!(run.code, 130, "{run}");
    assert!(
        run.stderr.contains("interrupted again"),
        "the second SIGINT was seen: {run}"
    );

    // No step starts once lutf quits: the cleanup after the killed one never runs (a job
    // of the local transport has no owner to outlive, so it would run on for its timeout).
    // Its mark would come within a second of its start; none comes.
    let t2 = Instant::now();
    while t2.elapsed() < Duration::from_secs(3) && !late.exists() {
        std::thread::sleep(Duration::from_millis(50));
    }
    if let Ok(pid) = std::fs::read_to_string(&late) {
        if let Ok(pid) = pid.trim().parse::<i32>() {
            if pid > 1 {
                // SAFETY: plain kill(2) of the step lutf left behind, so the test leaves
                // nothing running.
                unsafe { libc::kill(pid, libc::SIGKILL) };
            }
        }
        panic!("cleanup `late` started after the second SIGINT: {run}");
    }

    // Every finished test is in run.json, marked as an interrupted run: test_01, and
    // test_02 when killing its cleanup let it end before lutf quit.
    let rj = s.run_json();
    assert!(rj.interrupted, "run.json says the run was interrupted");
    assert!(!rj.finished.is_empty(), "run.json says when it ended");
    let tests: Vec<(String, Status)> = rj.tests().map(|t| (t.id.clone(), t.status)).collect();
    assert!(
        tests[..] == [("01".to_string(), Status::Pass)]
            || tests[..] == [("01".into(), Status::Pass), ("02".into(), Status::Fail)],
        "{tests:?}"
    );
    let subs = subtests(&s.results_yml(), "quit");
    assert_eq!(subs.len(), tests.len(), "{subs:?}");
    assert_eq!(subs[0].1, "PASS");

    // The summary, with the finished tests and what was not run.
    let n = tests.len();
    assert!(
        run.stderr
            .contains(&format!("lutf run {}: {n} tests", rj.id)),
        "the summary is printed: {run}"
    );
    assert!(run.stderr.contains("(interrupted)"), "{run}");
    assert!(
        run.stderr.contains(&format!("not run: {} test", 3 - n)),
        "{run}"
    );
    assert!(run.stderr.contains("results: "), "{run}");

    // Each file was written whole: no temporary file is left beside them.
    let left: Vec<String> = std::fs::read_dir(s.latest())
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .filter(|n| n.starts_with('.') || n.contains(".tmp"))
        .collect();
    assert!(left.is_empty(), "temporary files left: {left:?}");

    // What `lutf results` reads back agrees.
    let again = Command::new(env!("CARGO_BIN_EXE_lutf"))
        .arg("results")
        .arg(s.latest())
        .output()
        .unwrap();
    let again = common::Run::from(again);
    assert_eq!(again.code, 0, "{again}");
    assert!(
        format!("{}{}", again.stdout, again.stderr).contains(&format!("{n} tests")),
        "{again}"
    );
}
