//! `lutf run` on the fixture suites: failing, broken, hanging and skipping tests end with
//! the right verdict and reason, the run goes on, and the exit code tells the truth.

mod common;

use common::{fixtures, have_python, subtests, Scratch};
use lutf::outcome::{Status, TestOutcome};
use lutf::protocol::FailureKind;

macro_rules! need_python {
    () => {
        if !have_python() {
            eprintln!("SKIP: python3 is not installed on this machine");
            return;
        }
    };
}

fn test<'a>(run: &'a lutf::outcome::RunOutcome, suite: &str, id: &str) -> &'a TestOutcome {
    run.tests()
        .find(|t| t.suite == suite && t.id == id)
        .unwrap_or_else(|| panic!("no {suite}/test_{id}"))
}

#[test]
fn failing_broken_hanging_and_skipping_tests() {
    need_python!();
    let s = Scratch::new();
    let run = s.run(&fixtures(), &["--suite", "broken"]);
    assert_eq!(run.code, 1, "{run}");
    let subs = subtests(&s.results_yml(), "broken");
    let verdicts: Vec<(&str, &str)> = subs
        .iter()
        .map(|(n, st, _)| (n.as_str(), st.as_str()))
        .collect();
    assert_eq!(
        verdicts,
        [
            ("test_01", "FAIL"),
            ("test_02", "FAIL"),
            ("test_03", "FAIL"),
            ("test_04", "SKIP")
        ],
        "{run}"
    );
    // The assertion's message.
    assert!(
        subs[0].2.contains("expected 2 widgets, found 1"),
        "{:?}",
        subs[0]
    );
    assert!(
        subs[0].2.starts_with("step count_widgets on local"),
        "{:?}",
        subs[0]
    );
    // The syntax error, with its traceback.
    assert!(subs[1].2.contains("SyntaxError"), "{:?}", subs[1]);
    assert!(subs[1].2.contains("test_02.py"), "{:?}", subs[1]);
    assert!(
        subs[1].2.lines().count() > 1,
        "traceback after the first line: {:?}",
        subs[1]
    );
    // The timeout.
    assert!(subs[2].2.contains("timed out"), "{:?}", subs[2]);
    // The skip's reason.
    assert_eq!(subs[3].2, "this fixture always skips");

    let rj = s.run_json();
    let hang = test(&rj, "broken", "03");
    let step = hang
        .steps
        .iter()
        .find(|s| !s.name.starts_with("lutf."))
        .unwrap();
    assert_eq!(step.failure.as_ref().unwrap().kind, FailureKind::Timeout);
    // Generous upper bound: only proves the 1 s timeout was enforced, not how fast.
    assert!(hang.duration < 30.0, "{}", hang.duration);
    assert!(step
        .log
        .data
        .to_string_lossy()
        .contains("LUTF-FIXTURE-HANG-STARTED"));
    // The summary names the failures.
    assert!(run.stderr.contains("3 FAIL, 1 SKIP"), "{run}");
    assert!(run.stderr.contains("  broken test_02: "), "{run}");
}

#[test]
fn dependents_of_a_failure_are_not_run_and_cleanup_runs() {
    need_python!();
    let s = Scratch::new();
    let run = s.run(&fixtures(), &["--suite", "deps"]);
    assert_eq!(run.code, 1, "{run}");
    let rj = s.run_json();
    let t = test(&rj, "deps", "01");
    assert_eq!(t.status, Status::Fail);
    assert!(t.error.starts_with("step first on local: "), "{}", t.error);
    assert!(t.error.contains("first fails on purpose"), "{}", t.error);
    let step = |n: &str| t.steps.iter().find(|s| s.name == n).unwrap();
    for n in ["second", "third"] {
        let f = step(n).failure.as_ref().unwrap();
        assert_eq!(f.kind, FailureKind::NotRun, "{n}");
        assert_eq!(f.message, "not run: step first failed", "{n}");
    }
    assert_eq!(step("independent").status, Status::Pass);
    let cleanup = step("cleanup");
    assert_eq!(cleanup.status, Status::Pass);
    assert!(cleanup.cleanup);
    assert!(cleanup
        .log
        .data
        .to_string_lossy()
        .contains("LUTF-FIXTURE-CLEANUP-RAN"));
    assert!(
        run.stderr
            .contains("deps test_01 step second: not run: step first failed"),
        "{run}"
    );
    // Same-node parallel steps, and a background step stopped by a later step whose
    // result the steps after see.
    assert_eq!(test(&rj, "deps", "02").status, Status::Pass, "{run}");
    let t3 = test(&rj, "deps", "03");
    assert_eq!(t3.status, Status::Pass, "{}", t3.error);
    let ticker = t3.steps.iter().find(|s| s.name == "ticker").unwrap();
    assert!(ticker.background);
    assert!(ticker.value.as_ref().unwrap()["ticks"].as_u64().unwrap() > 0);
}

#[test]
fn unmet_needs_skip_with_their_reason() {
    need_python!();
    let s = Scratch::new();
    let run = s.run(&fixtures(), &["--suite", "needs"]);
    let rj = s.run_json();
    assert_eq!(test(&rj, "needs", "01").error, "needs 2 nodes, have 1");
    assert_eq!(
        test(&rj, "needs", "02").error,
        format!(
            "needs 64 usable interfaces on node local, has {}",
            rj.nodes["local"]
                .facts
                .as_ref()
                .unwrap()
                .usable_interfaces()
                .count()
        )
    );
    let lnet = test(&rj, "needs", "03");
    if rj.nodes["local"].facts.as_ref().unwrap().lnet.module_loaded {
        eprintln!("note: LNet is loaded here; needs/test_03 ran");
    } else {
        assert_eq!(lnet.error, "needs LNet, not installed on node local");
    }
    assert!(
        rj.tests().all(|t| t.status == Status::Skip || t.id == "03"),
        "{run}"
    );
    assert_eq!(run.code, 0, "skips are not failures: {run}");
}

#[test]
fn params_reach_steps_and_broken_imports_fail_with_the_run_going_on() {
    need_python!();
    let s = Scratch::new();
    let run = s.run(
        &fixtures(),
        &[
            "--suite",
            "features,failures",
            "--only",
            "01,04",
            "--param",
            "count=3",
            "--param",
            "net=tcp",
        ],
    );
    assert_eq!(run.code, 1, "{run}");
    let rj = s.run_json();
    let f = test(&rj, "features", "01");
    assert_eq!(f.status, Status::Pass, "{}", f.error);
    let value = f
        .steps
        .iter()
        .find(|s| !s.name.starts_with("lutf."))
        .and_then(|s| s.value.as_ref())
        .unwrap();
    assert_eq!(value["params"]["count"], 3);
    assert_eq!(value["params"]["net"], "tcp");
    let broken = test(&rj, "failures", "01");
    assert_eq!(broken.status, Status::Fail);
    assert!(
        broken.error.contains("ModuleNotFoundError"),
        "{}",
        broken.error
    );
    let cleaned = test(&rj, "failures", "04");
    assert_eq!(cleaned.status, Status::Fail);
    let tidy = cleaned.steps.iter().find(|s| s.name == "tidy_up").unwrap();
    assert_eq!(tidy.status, Status::Pass);
}

#[test]
fn fail_fast_stops_and_says_so_and_repeat_runs_again() {
    need_python!();
    let s = Scratch::new();
    let run = s.run(&fixtures(), &["--suite", "broken", "--fail-fast"]);
    assert_eq!(run.code, 1, "{run}");
    assert_eq!(s.run_json().tests().count(), 1);
    assert!(run.stderr.contains("not run: 3 tests"), "{run}");
    assert!(run.stderr.contains("--fail-fast"), "{run}");

    let run = s.run(
        &fixtures(),
        &["--suite", "broken", "--only", "04", "--repeat", "2"],
    );
    assert_eq!(run.code, 0, "{run}");
    let rj = s.run_json();
    let repeats: Vec<u32> = rj.tests().map(|t| t.repeat).collect();
    assert_eq!(repeats, [1, 2]);
}

#[test]
fn excepted_tests_are_reported_skipped() {
    need_python!();
    let s = Scratch::new();
    let run = s.run(&fixtures(), &["--suite", "broken", "--except", "01,02,03"]);
    assert_eq!(run.code, 0, "{run}");
    let subs = subtests(&s.results_yml(), "broken");
    assert_eq!(subs.len(), 4);
    assert_eq!(subs[0].1, "SKIP");
    assert_eq!(subs[0].2, "excluded by --except");
    assert_eq!(subs[3].2, "this fixture always skips");
}

#[test]
fn a_failed_test_brings_back_its_nodes_logs_and_clean_steps_frame_every_test() {
    need_python!();
    let s = Scratch::new();
    let run = s.run(&fixtures(), &["--suite", "failing-logs"]);
    assert_eq!(run.code, 1, "{run}");
    let rj = s.run_json();
    let t = test(&rj, "failing-logs", "01");
    let names: Vec<&str> = t.steps.iter().map(|s| s.name.as_str()).collect();
    assert_eq!(
        names,
        ["lutf.clean@node1", "fail", "lutf.logs@node1"],
        "{run}"
    );
    // The kernel log since the test began, under auster's name, linked from the report.
    let kinds: Vec<&str> = t.node_logs.iter().map(|l| l.kind.as_str()).collect();
    assert!(kinds.contains(&"dmesg"), "{kinds:?} {run}");
    let files: Vec<String> = std::fs::read_dir(s.latest())
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    let dmesg = files
        .iter()
        .find(|f| f.starts_with("failing-logs.test_01.dmesg.") && f.ends_with(".log"))
        .unwrap_or_else(|| panic!("no dmesg file in {files:?}"));
    let report = std::fs::read_to_string(s.latest().join("report.html")).unwrap();
    assert!(
        report.contains(&format!("href=\"{dmesg}\"")),
        "report.html links {dmesg}"
    );
    // Where the kernel log is readable, the test's own marker is in it.
    let text = std::fs::read_to_string(s.latest().join(dmesg)).unwrap();
    if nix_root() {
        assert!(text.contains("lutf failing-logs: marker"), "{text}");
    }

    // --no-clean leaves the clean step out; a passing test collects no logs.
    let s = Scratch::new();
    let run = s.run(&fixtures(), &["--suite", "failing-logs", "--no-clean"]);
    let rj = s.run_json();
    let t = test(&rj, "failing-logs", "01");
    assert!(
        !t.steps.iter().any(|s| s.name.starts_with("lutf.clean")),
        "{run}"
    );
}

/// Whether this runs as root (the kernel log can be written and read).
fn nix_root() -> bool {
    std::fs::read_to_string("/proc/self/status")
        .map(|s| {
            s.lines()
                .any(|l| l.starts_with("Uid:") && l.split_whitespace().nth(1) == Some("0"))
        })
        .unwrap_or(false)
}
