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
            "--param-json",
            "count=3",
            "--param",
            "net=tcp",
            // Strings as given: a version is not the float 2.1, a long number loses nothing.
            "--param",
            "version=2.10",
            "--param",
            "serial=12345678901234567890123",
            "--param-json",
            r#"nets=["tcp", "o2ib"]"#,
            "--param-json",
            "ratio=2.50",
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
    assert_eq!(value["params"]["version"], "2.10");
    assert_eq!(value["params"]["serial"], "12345678901234567890123");
    assert_eq!(value["params"]["nets"], serde_json::json!(["tcp", "o2ib"]));
    assert_eq!(value["params"]["ratio"], 2.5);
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
fn a_background_step_that_will_not_stop_is_killed_and_fails() {
    need_python!();
    let s = Scratch::new();
    let run = s.run(&fixtures(), &["--suite", "failures", "--only", "08"]);
    assert_eq!(run.code, 1, "{run}");
    let rj = s.run_json();
    let t = test(&rj, "failures", "08");
    assert_eq!(t.status, Status::Fail, "{run}");
    let deaf = t.steps.iter().find(|s| s.name == "deaf").unwrap();
    assert_eq!(deaf.status, Status::Fail, "{deaf:?}");
    let f = deaf.failure.as_ref().unwrap();
    assert_eq!(f.kind, FailureKind::Killed);
    assert_eq!(
        f.message,
        "step deaf did not stop within 2 s of SIGTERM and was killed"
    );
    assert!(deaf
        .log
        .data
        .to_string_lossy()
        .contains("LUTF-FIXTURE-DEAF-STARTED"));
    assert_eq!(deaf.value, None);
    let go = t.steps.iter().find(|s| s.name == "go").unwrap();
    assert_eq!(go.status, Status::Pass);
    assert!(
        t.error
            .starts_with("step deaf on local did not stop within 2 s of SIGTERM"),
        "{}",
        t.error
    );
    let subs = subtests(&s.results_yml(), "failures");
    assert_eq!(subs[0].1, "FAIL", "{subs:?}");
}

#[test]
fn a_timeout_says_where_the_step_hung_in_every_thread() {
    need_python!();
    let s = Scratch::new();
    let run = s.run(&fixtures(), &["--suite", "failures", "--only", "09"]);
    assert_eq!(run.code, 1, "{run}");
    let rj = s.run_json();
    let t = test(&rj, "failures", "09");
    let hang = &t.steps[0];
    let f = hang.failure.as_ref().unwrap();
    assert_eq!(f.kind, FailureKind::Timeout);
    assert_eq!(
        f.message,
        "step hang timed out after 2 s in wait_for_peer (failures/test_09.py:17)"
    );
    // Every thread: the step's own, and the one it started.
    let tb = f.traceback.as_deref().unwrap_or_default();
    assert!(
        tb.contains("test_09.py\", line 17 in wait_for_peer"),
        "{tb}"
    );
    assert!(tb.contains("test_09.py\", line 29 in hang"), "{tb}");
    assert!(tb.contains("test_09.py\", line 22 in spin"), "{tb}");
    // The test's error, results.yml and the test log say so too.
    assert!(
        t.error.starts_with(
            "step hang on local timed out after 2 s in wait_for_peer (failures/test_09.py:17)"
        ),
        "{}",
        t.error
    );
    assert!(t.error.contains("line 22 in spin"), "{}", t.error);
    let subs = subtests(&s.results_yml(), "failures");
    assert!(subs[0].2.contains("in wait_for_peer"), "{subs:?}");
    let log = std::fs::read_dir(s.latest())
        .unwrap()
        .map(|e| e.unwrap().path())
        .find(|p| p.to_string_lossy().contains("failures.test_09.test_log."))
        .expect("the test log");
    let log = std::fs::read_to_string(log).unwrap();
    assert!(log.contains("LUTF-FIXTURE-HANG-STARTED"), "{log}");
    assert!(log.contains("line 17 in wait_for_peer"), "{log}");
    assert!(log.contains("line 22 in spin"), "{log}");
}

#[test]
fn a_typed_param_that_would_lose_digits_is_refused_before_anything_runs() {
    need_python!();
    let s = Scratch::new();
    let run = s.run(
        &fixtures(),
        &[
            "--suite",
            "features",
            "--only",
            "01",
            "--param-json",
            "serial=12345678901234567890123",
        ],
    );
    assert_eq!(run.code, 2, "{run}");
    assert!(
        run.stderr
            .contains("the number 12345678901234567890123 does not fit a 64-bit integer"),
        "{run}"
    );
    assert!(
        run.stderr
            .contains("--param serial=12345678901234567890123"),
        "{run}"
    );
    assert!(!s.results().exists(), "nothing ran: {run}");
    // One key, two options: which one was meant is not guessed.
    let run = s.run(
        &fixtures(),
        &[
            "--suite",
            "features",
            "--param",
            "n=1",
            "--param-json",
            "n=1",
        ],
    );
    assert_eq!(run.code, 2, "{run}");
    assert!(
        run.stderr
            .contains("\"n\" is given with both --param and --param-json"),
        "{run}"
    );
}

#[test]
fn a_large_value_reaches_the_next_step_whole_and_the_results_show_it_bounded() {
    need_python!();
    let s = Scratch::new();
    let run = s.run(&fixtures(), &["--suite", "features", "--only", "03"]);
    assert_eq!(run.code, 0, "{run}");
    // What `big` returned, as the fixture builds it.
    let whole = format!(
        "LUTF-HEAD-{}-LUTF-TAIL",
        "0123456789abcdef".repeat(7 * 65536)
    );
    let rj = s.run_json();
    let t = test(&rj, "features", "03");
    assert_eq!(t.status, Status::Pass, "{}", t.error);
    let step = |n: &str| t.steps.iter().find(|s| s.name == n).unwrap();

    // The step after it got it whole.
    let checked = step("check").value.clone().unwrap();
    assert_eq!(checked["length"], whole.len());
    let sha = {
        use sha2::Digest;
        sha2::Sha256::digest(whole.as_bytes())
            .iter()
            .map(|b| format!("{b:02x}"))
            .collect::<String>()
    };
    assert_eq!(checked["sha256"], sha);

    // The results keep its head, its tail and its size, not the value.
    let big = step("big");
    assert_eq!(big.value, None);
    let large = big.large_value.as_ref().expect("a bounded value");
    let json_len = whole.len() as u64 + 2; // the JSON string's quotes
    assert_eq!(large.bytes, json_len);
    assert!(
        large.head.starts_with("\"LUTF-HEAD-0123"),
        "{}",
        &large.head[..20]
    );
    assert!(
        large.tail.ends_with("cdef-LUTF-TAIL\""),
        "{}",
        &large.tail[large.tail.len() - 20..]
    );
    let bound = lutf::outcome::MAX_SHOWN_VALUE;
    assert!(large.head.len() + large.tail.len() <= bound);

    // Every file stays small: well under the value's 7 MiB.
    let dir = s.latest();
    let log = std::fs::read_dir(&dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .find(|p| p.to_string_lossy().contains("features.test_03.test_log."))
        .expect("the test log");
    for file in [
        log.clone(),
        dir.join("junit.xml"),
        dir.join("run.json"),
        dir.join("report.html"),
    ] {
        let size = std::fs::metadata(&file).unwrap().len();
        assert!(
            size < 4 * bound as u64 + 64 * 1024,
            "{}: {size} bytes",
            file.display()
        );
    }
    // The test log says how large it was, with both ends.
    let text = std::fs::read_to_string(&log).unwrap();
    assert!(text.contains("returned: \"LUTF-HEAD-"), "{}", &text[..500]);
    assert!(
        text.contains(&format!("[lutf: {json_len} bytes of JSON;")),
        "no size"
    );
    assert!(text.contains("-LUTF-TAIL\""), "no tail");
    let report = std::fs::read_to_string(dir.join("report.html")).unwrap();
    assert!(
        report.contains(&format!("({json_len} bytes of JSON)")),
        "no size in the report"
    );
}

#[test]
fn list_exits_1_naming_the_tests_that_fail_to_load() {
    need_python!();
    let s = Scratch::new();
    let list = s.lutf(&fixtures(), &["list", "--suite", "failures"]);
    assert_eq!(list.code, 1, "{list}");
    assert!(
        list.stdout
            .contains("  test_01 FAILS TO LOAD: failures/test_01.py:7: ModuleNotFoundError"),
        "{list}"
    );
    assert!(
        list.stderr
            .contains("lutf: 2 tests fail to load: failures/test_01, failures/test_05"),
        "{list}"
    );
    // Every test is still listed, the loading ones with their needs.
    assert!(list.stdout.contains("  test_02 1 node "), "{list}");
    let list = s.lutf(&fixtures(), &["list", "--suite", "deps"]);
    assert_eq!(list.code, 0, "{list}");
}

#[test]
fn tracebacks_name_the_users_files_and_broken_tests_keep_a_description() {
    need_python!();
    let s = Scratch::new();
    let run = s.run(&fixtures(), &["--suite", "failures", "--only", "01,02"]);
    assert_eq!(run.code, 1, "{run}");
    let rj = s.run_json();
    let here = fixtures().join("failures");
    // A step's traceback and a file that fails to import, in run.json and on the terminal.
    let parse = test(&rj, "failures", "02");
    let tb = parse.steps[0]
        .failure
        .as_ref()
        .and_then(|f| f.traceback.as_deref())
        .unwrap_or_default();
    let file = format!("File \"{}\", line ", here.join("test_02.py").display());
    assert!(tb.contains(&file), "{tb}");
    assert!(parse.error.contains(&file), "{}", parse.error);
    let broken = test(&rj, "failures", "01");
    let file = format!("File \"{}\", line 7", here.join("test_01.py").display());
    assert!(broken.error.contains(&file), "{}", broken.error);
    assert!(run.stderr.contains(&file), "{run}");
    // Nothing anywhere names the node-side copy under the work directory.
    let work = s.dir.path().join("work").display().to_string();
    assert!(!run.stderr.contains(&work), "{run}");
    for entry in std::fs::read_dir(s.latest()).unwrap() {
        let path = entry.unwrap().path();
        let text = String::from_utf8_lossy(&std::fs::read(&path).unwrap()).into_owned();
        assert!(!text.contains(&work), "{} names {work}", path.display());
    }
    // The test that does not load is described by its docstring.
    assert_eq!(
        broken.description,
        "Broken: imports a module that does not exist."
    );
    let html = std::fs::read_to_string(s.latest().join("report.html")).unwrap();
    assert!(
        html.contains("Broken: imports a module that does not exist."),
        "report.html describes the broken test"
    );
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
