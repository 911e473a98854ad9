//! SIGINT during a step: the step is stopped on its node, cleanup runs, the test FAILs with
//! "interrupted", the results are written, later tests are not run, and lutf exits 130.

mod common;

use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use common::{have_python, root, subtests, Scratch};

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
