//! The results folder, end to end: hand-built `RunOutcome`s (two suites, PASS/FAIL/SKIP,
//! nasty error strings, several nodes, background, cleanup and not-run steps) written with
//! `ResultsDir`, and every file checked: results.yml loaded as YAML and compared line by line
//! with auster's layout, junit.xml parsed, logs and node files by name and content, the
//! `latest` link, the archive's entries, `lutf results`, and report.html in headless
//! Chromium when it is installed.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::Command;

use lutf::auster::yaml as auster;
use lutf::outcome::{
    NodeRecord, RunOutcome, Status, StepFailure, StepRecord, SuiteOutcome, TestOutcome,
};
use lutf::protocol::{
    Addr, Bytes, Captured, Facts, FailureKind, IfFlags, Interface, LnetState, OsInfo, PythonInfo,
};
use lutf::results::{self, ResultsDir};

// ---------------------------------------------------------------------------------------
// Building outcomes by hand

fn facts(hostname: &str, nids: &[&str]) -> Facts {
    Facts {
        hostname: hostname.to_string(),
        kernel: "6.1.0-18-amd64".into(),
        arch: "x86_64".into(),
        os: OsInfo {
            id: "debian".into(),
            version_id: "12".into(),
            pretty_name: "Debian GNU/Linux 12 (bookworm)".into(),
        },
        cpus: 2,
        memory_bytes: 2 * 1024 * 1024 * 1024,
        python: PythonInfo {
            path: Some("/usr/bin/python3".into()),
            version: Some("3.11.2".into()),
            missing: None,
        },
        interfaces: vec![Interface {
            name: "eth0".into(),
            mtu: Some(1500),
            mac: Some("52:54:00:12:34:56".into()),
            flags: IfFlags {
                up: true,
                running: true,
                loopback: false,
                broadcast: true,
                multicast: true,
            },
            ipv4: vec![Addr {
                address: "10.0.0.1".into(),
                prefix: 24,
            }],
            ipv6: vec![],
        }],
        lnet: LnetState {
            module_loaded: !nids.is_empty(),
            installed: !nids.is_empty(),
            configured: !nids.is_empty(),
            nids: nids.iter().map(|s| s.to_string()).collect(),
            version: (!nids.is_empty()).then(|| "2.17.57".to_string()),
            error: None,
        },
    }
}

fn node(name: &str, hostname: &str, nids: &[&str]) -> NodeRecord {
    NodeRecord {
        name: name.into(),
        hostname: hostname.into(),
        facts: Some(facts(hostname, nids)),
        error: None,
        cleanup: None,
        leftovers: None,
    }
}

fn step(
    name: &str,
    role: &str,
    node: &str,
    start: f64,
    duration: f64,
    status: Status,
) -> StepRecord {
    StepRecord {
        name: name.into(),
        role: role.into(),
        node: node.into(),
        cleanup: false,
        background: false,
        start,
        duration,
        status,
        failure: None,
        value: None,
        large_value: None,
        log: Captured::default(),
    }
}

fn failure(kind: FailureKind, message: &str, traceback: Option<&str>) -> Option<StepFailure> {
    Some(StepFailure {
        kind,
        message: message.into(),
        traceback: traceback.map(String::from),
    })
}

fn test(suite: &str, id: &str, status: Status, duration: f64, error: &str) -> TestOutcome {
    TestOutcome {
        suite: suite.into(),
        id: id.into(),
        description: format!("test {id} of {suite}"),
        status,
        error: error.into(),
        return_code: if status == Status::Fail { 1 } else { 0 },
        started: "2026-01-05T10:00:00Z".into(),
        duration,
        binding: BTreeMap::new(),
        steps: Vec::new(),
        repeat: 1,
        node_logs: Vec::new(),
    }
}

const NASTY_ERROR: &str = "assertion failed: x: 'a' \"b\" # c\n- detail\tü\n  * more: & done";
const TRACEBACK: &str = "Traceback (most recent call last):\n  File \"suites/samples/test_02.py\", line 12, in check\n    assert ctx.value == 2, 'x: %r' % ctx.value\nAssertionError: x: 1";

/// A finished run: suite `samples` (01 PASS, 02 FAIL with background, cleanup and not-run
/// steps, 03 SKIP) and suite `dlc` (18a FAIL by timeout with control bytes in its output,
/// 02 PASS twice with --repeat), on three nodes (one of which never answered).
fn sample_run() -> RunOutcome {
    let mut t01 = test("samples", "01", Status::Pass, 0.6, "");
    t01.binding.insert("node".into(), "n1".into());
    let mut s = step("hello", "node", "n1", 0.01, 0.4, Status::Pass);
    s.value = Some(serde_json::json!({"x": 1}));
    s.log.data = Bytes::from("hello from n1\n");
    t01.steps.push(s);

    let mut t02 = test("samples", "02", Status::Fail, 2.5, NASTY_ERROR);
    t02.started = "2026-01-05T10:00:01Z".into();
    t02.binding.insert("server".into(), "n1".into());
    t02.binding.insert("client".into(), "n2".into());
    let mut setup = step("setup", "server", "n1", 0.0, 0.2, Status::Pass);
    setup.log.data = Bytes::from("configured\n");
    let mut traffic = step("traffic", "client", "n2", 0.1, 2.0, Status::Pass);
    traffic.background = true;
    traffic.log.data = Bytes::from("sent 100 messages\n");
    let mut check = step("check", "server", "n1", 0.3, 0.5, Status::Fail);
    check.failure = failure(FailureKind::Assertion, "x: 1", Some(TRACEBACK));
    check.log.data = Bytes::from("checking <x> & \"y\"\n");
    let mut after = step("after", "client", "", 0.0, 0.0, Status::Skip);
    after.failure = failure(FailureKind::NotRun, "step check failed", None);
    let mut cleanup = step("cleanup", "server", "n1", 0.9, 0.3, Status::Pass);
    cleanup.cleanup = true;
    t02.steps.extend([setup, traffic, check, cleanup, after]);

    let t03 = test("samples", "03", Status::Skip, 0.0, "needs 4 nodes, have 3");

    let mut t18a = test(
        "dlc",
        "18a",
        Status::Fail,
        5.2,
        "step 'configure' timed out after 5s",
    );
    t18a.started = "2026-01-05T10:00:05Z".into();
    t18a.binding.insert("node".into(), "n2".into());
    let mut conf = step("configure", "node", "n2", 0.0, 5.1, Status::Fail);
    conf.failure = failure(FailureKind::Timeout, "timed out after 5s", None);
    conf.log = Captured {
        data: Bytes(b"\x1b[31mred\x1b[0m nul\0 bad\xff utf8\n".to_vec()),
        dropped: 4096,
    };
    t18a.steps.push(conf);

    let mut rep = Vec::new();
    for r in 1..=2 {
        let mut t = test("dlc", "02", Status::Pass, 1.49, "");
        t.started = format!("2026-01-05T10:00:1{r}Z");
        t.repeat = r;
        t.binding.insert("node".into(), "n1".into());
        let mut s = step("show", "node", "n1", 0.0, 1.0, Status::Pass);
        s.log.data = Bytes::from(format!("repetition {r}\n"));
        t.steps.push(s);
        rep.push(t);
    }

    let mut nodes = BTreeMap::new();
    nodes.insert(
        "n1".into(),
        node(
            "n1",
            "alpha.example.com",
            &["10.0.0.1@tcp", "10.0.1.1@tcp", "0@lo"],
        ),
    );
    nodes.insert("n2".into(), node("n2", "beta", &[]));
    nodes.insert(
        "n3".into(),
        NodeRecord {
            name: "n3".into(),
            hostname: String::new(),
            facts: None,
            error: Some("ssh: connect to host n3 port 22: Connection refused".into()),
            cleanup: None,
            leftovers: None,
        },
    );

    RunOutcome {
        id: "ab12".into(),
        started: "2026-01-05T10:00:00Z".into(),
        finished: "2026-01-05T10:00:14Z".into(),
        duration: 14.2,
        testhost: "master.example.com".into(),
        user: "tester".into(),
        cluster: "cluster.yml".into(),
        nodes,
        suites: vec![
            SuiteOutcome {
                name: "samples".into(),
                started: "2026-01-05T10:00:00Z".into(),
                duration: 3.4,
                tests: vec![t01, t02, t03],
            },
            SuiteOutcome {
                name: "dlc".into(),
                started: "2026-01-05T10:00:05Z".into(),
                duration: 8.5,
                tests: vec![t18a, rep.remove(0), rep.remove(0)],
            },
        ],
        interrupted: false,
    }
}

/// The same run with no test yet: what the runner has when it creates the folder.
fn empty_like(run: &RunOutcome) -> RunOutcome {
    let mut r = run.clone();
    r.suites.clear();
    r.finished.clear();
    r
}

fn read(path: &Path) -> String {
    std::fs::read_to_string(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

fn files(dir: &Path) -> Vec<String> {
    let mut v: Vec<String> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    v.sort();
    v
}

fn write_all(root: &Path, run: &RunOutcome) -> PathBuf {
    let mut dir = ResultsDir::create(root, &empty_like(run)).unwrap();
    dir.record(run).unwrap();
    dir.path().to_path_buf()
}

fn yaml(path: &Path) -> serde_yaml::Value {
    serde_yaml::from_str(&read(path))
        .unwrap_or_else(|e| panic!("{} is not YAML: {e}", path.display()))
}

// ---------------------------------------------------------------------------------------
// results.yml

#[test]
fn results_yml_is_auster_layout_line_by_line() {
    let root = tempfile::tempdir().unwrap();
    let dir = write_all(root.path(), &sample_run());
    let text = read(&dir.join("results.yml"));
    let expected = r#"TestGroup:
    test_group: lutf-master
    testhost: master
    submission: Mon Jan  5 10:00:00 UTC 2026
    user_name: tester
project: lutf
Tests:
-
        name: samples
        description: lutf samples
        submission: Mon Jan  5 10:00:00 UTC 2026
        report_version: 2
        SubTests:
        -
            name: test_01
            status: PASS
            duration: 1
            return_code: 0
            error:
        -
            name: test_02
            status: FAIL
            duration: 3
            return_code: 1
            error: "assertion failed: x: 'a' \"b\" # c\n- detail\tü\n  * more: & done"
        -
            name: test_03
            status: SKIP
            duration: 0
            return_code: 0
            error: "needs 4 nodes, have 3"
        duration: 3
        status: FAIL
-
        name: dlc
        description: lutf dlc
        submission: Mon Jan  5 10:00:05 UTC 2026
        report_version: 2
        SubTests:
        -
            name: test_18a
            status: FAIL
            duration: 5
            return_code: 1
            error: "step 'configure' timed out after 5s"
        -
            name: test_02
            status: PASS
            duration: 1
            return_code: 0
            error:
        -
            name: test_02
            status: PASS
            duration: 1
            return_code: 0
            error:
        duration: 9
        status: FAIL
"#;
    for (i, (got, want)) in text.lines().zip(expected.lines()).enumerate() {
        assert_eq!(got, want, "results.yml line {}", i + 1);
    }
    assert_eq!(text, expected);
}

#[test]
fn results_yml_loads_with_the_right_values() {
    let root = tempfile::tempdir().unwrap();
    let run = sample_run();
    let dir = write_all(root.path(), &run);
    let doc = yaml(&dir.join("results.yml"));
    let group = &doc["TestGroup"];
    let keys: Vec<&str> = group
        .as_mapping()
        .unwrap()
        .keys()
        .map(|k| k.as_str().unwrap())
        .collect();
    assert_eq!(keys, ["test_group", "testhost", "submission", "user_name"]);
    let suites = doc["Tests"].as_sequence().unwrap();
    assert_eq!(suites.len(), 2);
    for (suite, want) in suites.iter().zip(&run.suites) {
        let keys: Vec<&str> = suite
            .as_mapping()
            .unwrap()
            .keys()
            .map(|k| k.as_str().unwrap())
            .collect();
        assert_eq!(
            keys,
            [
                "name",
                "description",
                "submission",
                "report_version",
                "SubTests",
                "duration",
                "status"
            ]
        );
        assert_eq!(suite["name"].as_str(), Some(want.name.as_str()));
        assert_eq!(suite["report_version"].as_u64(), Some(2));
        assert_eq!(suite["status"].as_str(), Some(want.status().as_str()));
        let subs = suite["SubTests"].as_sequence().unwrap();
        assert_eq!(subs.len(), want.tests.len());
        for (sub, t) in subs.iter().zip(&want.tests) {
            let keys: Vec<&str> = sub
                .as_mapping()
                .unwrap()
                .keys()
                .map(|k| k.as_str().unwrap())
                .collect();
            assert_eq!(keys, ["name", "status", "duration", "return_code", "error"]);
            assert_eq!(sub["name"].as_str(), Some(t.name().as_str()));
            assert_eq!(sub["status"].as_str(), Some(t.status.as_str()));
            assert!(
                sub["duration"].is_u64(),
                "whole seconds, an integer: {:?}",
                sub["duration"]
            );
            assert_eq!(sub["duration"].as_u64(), Some(t.duration.round() as u64));
            assert_eq!(sub["return_code"].as_i64(), Some(t.return_code as i64));
            if t.error.is_empty() {
                assert!(
                    sub["error"].is_null(),
                    "an empty error is auster's bare `error:`"
                );
            } else {
                assert_eq!(sub["error"].as_str(), Some(t.error.as_str()));
            }
        }
    }
}

/// Errors that break naive YAML writers, each the error of one test: the file must load
/// and give every one back unchanged.
fn nasty_strings() -> Vec<String> {
    let mut v: Vec<String> = [
        " ",
        "it's \"quoted\"",
        "key: value",
        "a:b",
        "ends with colon:",
        "# comment",
        "x # not a comment",
        "- dash",
        "-",
        "* star",
        "& anchor",
        "*alias",
        "! tag",
        "% directive",
        "@at",
        "`tick`",
        "| literal",
        "> folded",
        "{a: b}",
        "[a, b]",
        "? q",
        "line one\nline two\n",
        "\n\n",
        "\r\n crlf \r",
        "tab\there\t",
        "  spaced  ",
        "back\\slash \\n",
        "ünïcödé 日本語 🦀",
        "nul\0inside",
        "esc\x1b[31m bell\x07",
        "del\x7f c1\u{85}\u{9f}",
        "ls\u{2028}ps\u{2029}",
        "\u{feff}bom",
        "nonchar\u{fffe}\u{ffff}",
        "true",
        "No",
        "~",
        "null",
        "1:20",
        "0x1F",
        "1e3",
        ".inf",
        "42",
        "...",
        "---",
        "--- doc\n...\n",
        "\"",
        "'",
        "\\",
        "\"open",
        "'open",
        TRACEBACK,
    ]
    .iter()
    .map(|s| s.to_string())
    .collect();
    v.push("very long ".repeat(1000));
    v
}

#[test]
fn nasty_errors_load_back_unchanged() {
    let mut run = sample_run();
    let nasty = nasty_strings();
    run.suites = vec![SuiteOutcome {
        name: "nasty".into(),
        started: run.started.clone(),
        duration: 1.0,
        tests: nasty
            .iter()
            .enumerate()
            .map(|(i, e)| test("nasty", &format!("{i:02}"), Status::Fail, 0.1, e))
            .collect(),
    }];
    let root = tempfile::tempdir().unwrap();
    let dir = write_all(root.path(), &run);
    let doc = yaml(&dir.join("results.yml"));
    let subs = doc["Tests"][0]["SubTests"].as_sequence().unwrap();
    assert_eq!(subs.len(), nasty.len());
    for (sub, want) in subs.iter().zip(&nasty) {
        assert_eq!(sub["error"].as_str(), Some(want.as_str()));
    }
    // Also through Python's PyYAML (YAML 1.1, like Maloo's Ruby), when it is there.
    let script = "import sys, yaml, json\nd = yaml.safe_load(open(sys.argv[1], encoding='utf-8'))\nprint(json.dumps([s['error'] for s in d['Tests'][0]['SubTests']]))";
    match Command::new("python3")
        .args(["-c", script])
        .arg(dir.join("results.yml"))
        .output()
    {
        Ok(out) if out.status.success() => {
            let got: Vec<String> = serde_json::from_slice(&out.stdout).unwrap();
            assert_eq!(got, nasty, "PyYAML reads the same strings");
        }
        Ok(out) if String::from_utf8_lossy(&out.stderr).contains("No module named 'yaml'") => {
            eprintln!("skipping the PyYAML check: python3 has no yaml module");
        }
        Ok(out) => panic!("PyYAML failed: {}", String::from_utf8_lossy(&out.stderr)),
        Err(e) => eprintln!("skipping the PyYAML check: no python3 ({e})"),
    }
}

#[test]
fn subtests_append_to_an_auster_yaml_log() {
    // What auster writes before and after running a suite script (yaml.sh's
    // yml_results_file, yml_log_test, yml_log_test_status), with lutf's items in between.
    let tmp = tempfile::tempdir().unwrap();
    let log = tmp.path().join("results.yml");
    std::fs::write(
        &log,
        "TestGroup:\n    test_group: acc-sm-onyx\n    testhost: onyx\n    submission: Mon Jan  5 10:00:00 UTC 2026\n    user_name: root\n\nTests:\n-\n        name: lutf\n        description: auster lutf\n        submission: Mon Jan  5 10:00:00 UTC 2026\n        report_version: 2\n        SubTests:\n",
    )
    .unwrap();
    let run = sample_run();
    let tests: Vec<&TestOutcome> = run.tests().collect();
    auster::append_subtests(&log, tests[..2].iter().copied()).unwrap();
    auster::append_subtests(&log, tests[2..].iter().copied()).unwrap();
    let mut f = std::fs::OpenOptions::new().append(true).open(&log).unwrap();
    std::io::Write::write_all(&mut f, b"        duration: 14\n        status: FAIL\n").unwrap();
    let doc = yaml(&log);
    let subs = doc["Tests"][0]["SubTests"].as_sequence().unwrap();
    assert_eq!(subs.len(), tests.len());
    for (sub, t) in subs.iter().zip(&tests) {
        assert_eq!(sub["name"].as_str(), Some(t.name().as_str()));
        assert_eq!(sub["status"].as_str(), Some(t.status.as_str()));
    }
    assert_eq!(doc["Tests"][0]["status"].as_str(), Some("FAIL"));

    // The items are exactly those of lutf's own results.yml.
    let text = read(&log);
    assert!(text.contains(&auster::subtests(tests.iter().copied())));

    // A file that does not end its last line gets one first; a missing file is an error.
    let partial = tmp.path().join("partial.yml");
    std::fs::write(&partial, "Tests:\n-\n        name: lutf\n        SubTests:").unwrap();
    auster::append_subtests(&partial, tests[..1].iter().copied()).unwrap();
    assert_eq!(
        yaml(&partial)["Tests"][0]["SubTests"][0]["name"].as_str(),
        Some("test_01")
    );
    let missing = tmp.path().join("missing.yml");
    let err = auster::append_subtests(&missing, tests.iter().copied()).unwrap_err();
    assert!(err.to_string().contains("missing.yml"), "{err}");
    assert!(!missing.exists());
}

// ---------------------------------------------------------------------------------------
// The folder: incremental writes, latest, logs, node files

#[test]
fn every_record_keeps_the_tests_before_it_and_latest_points_at_the_run() {
    let root = tempfile::tempdir().unwrap();
    let full = sample_run();
    let mut run = empty_like(&full);
    let mut dir = ResultsDir::create(root.path(), &run).unwrap();
    let path = dir.path().to_path_buf();

    // The folder's name and the latest link.
    let name = path.file_name().unwrap().to_string_lossy().into_owned();
    assert_eq!(name, "20260105-100000-ab12");
    let latest = root.path().join("latest");
    assert_eq!(std::fs::read_link(&latest).unwrap(), PathBuf::from(&name));
    assert_eq!(latest.canonicalize().unwrap(), path.canonicalize().unwrap());

    // Valid from the start: a results.yml with its header and no test.
    let doc = yaml(&path.join("results.yml"));
    assert!(doc["Tests"].is_null() || doc["Tests"].as_sequence().unwrap().is_empty());
    for f in [
        "junit.xml",
        "report.html",
        "run.json",
        "node.alpha.yml",
        "node.beta.yml",
        "node.n3.yml",
    ] {
        assert!(path.join(f).exists(), "{f} written at creation");
    }

    // Tests arrive one by one.
    let mut seen = 0;
    let mut earlier_logs: BTreeMap<String, String> = BTreeMap::new();
    for suite in &full.suites {
        let mut s = suite.clone();
        s.tests.clear();
        run.suites.push(s);
        for t in &suite.tests {
            run.suites.last_mut().unwrap().tests.push(t.clone());
            seen += 1;
            dir.record(&run).unwrap();
            let doc = yaml(&path.join("results.yml"));
            let n: usize = doc["Tests"]
                .as_sequence()
                .unwrap()
                .iter()
                .map(|s| s["SubTests"].as_sequence().map_or(0, |v| v.len()))
                .sum();
            assert_eq!(n, seen, "results.yml holds every finished test");
            let junit = read(&path.join("junit.xml"));
            let xml = roxmltree::Document::parse(&junit).unwrap();
            assert_eq!(
                xml.descendants()
                    .filter(|n| n.has_tag_name("testcase"))
                    .count(),
                seen
            );
            assert_eq!(
                lutf::results::load_run(&path).unwrap().tests().count(),
                seen
            );
            // Earlier logs are still there, unchanged (repetitions add to their own file).
            for (f, text) in &earlier_logs {
                if !f.starts_with("dlc.test_02.") && !f.contains("suite_log") {
                    assert_eq!(&read(&path.join(f)), text, "{f} unchanged");
                }
            }
            for f in files(&path).into_iter().filter(|f| f.ends_with(".log")) {
                earlier_logs.insert(f.clone(), read(&path.join(&f)));
            }
        }
    }
    run.finished = full.finished.clone();
    dir.record(&run).unwrap();
    assert!(
        files(&path).iter().all(|f| !f.starts_with('.')),
        "no temporary file left: {:?}",
        files(&path)
    );

    // A second run moves latest; the first run's folder stays.
    let mut second = empty_like(&full);
    second.id = "cd34".into();
    second.started = "2026-01-06T09:00:00Z".into();
    let dir2 = ResultsDir::create(root.path(), &second).unwrap();
    assert_eq!(
        std::fs::read_link(&latest).unwrap(),
        PathBuf::from("20260106-090000-cd34")
    );
    assert!(path.join("results.yml").exists());
    assert!(dir2.path().join("results.yml").exists());

    // A `latest` that is a real folder is left alone, with a clear error.
    let other = tempfile::tempdir().unwrap();
    std::fs::create_dir(other.path().join("latest")).unwrap();
    let err = ResultsDir::create(other.path(), &second).unwrap_err();
    assert!(
        err.to_string()
            .contains("latest: exists and is not a symbolic link"),
        "{err}"
    );
    assert_eq!(files(other.path()), ["latest"], "nothing created");

    // The same run twice is refused rather than overwritten.
    let err = ResultsDir::create(root.path(), &second).unwrap_err();
    assert!(err.to_string().contains("20260106-090000-cd34"), "{err}");
}

#[test]
fn logs_have_auster_names_and_every_step() {
    let root = tempfile::tempdir().unwrap();
    let dir = write_all(root.path(), &sample_run());
    let logs: Vec<String> = files(&dir)
        .into_iter()
        .filter(|f| f.ends_with(".log"))
        .collect();
    assert_eq!(
        logs,
        [
            "dlc.suite_log.master.log",
            "dlc.test_02.test_log.alpha.log",
            "dlc.test_18a.test_log.beta.log",
            "samples.suite_log.master.log",
            "samples.test_01.test_log.alpha.log",
            "samples.test_02.test_log.alpha.log",
            "samples.test_02.test_log.beta.log",
            "samples.test_03.test_log.master.log",
        ]
    );

    let server = read(&dir.join("samples.test_02.test_log.alpha.log"));
    assert!(
        server.starts_with("== samples test_02: FAIL in 2.50s =="),
        "{server}"
    );
    assert!(server.contains("node: n1 (roles: server)"));
    assert!(server
        .contains("-- step setup on n1 (role server): PASS in 0.20s at +0.00s --\nconfigured\n"));
    assert!(server
        .contains("-- step check on n1 (role server): FAIL (assertion) in 0.50s at +0.30s --"));
    assert!(server.contains(TRACEBACK));
    assert!(server.contains("-- step cleanup on n1 (role server, cleanup): PASS"));
    assert!(
        !server.contains("traffic"),
        "the client's step is in the client's log"
    );
    let client = read(&dir.join("samples.test_02.test_log.beta.log"));
    assert!(client.contains("-- step traffic on n2 (role client, background): PASS in 2.00s at +0.10s --\nsent 100 messages\n"));
    assert!(
        client.contains("-- step after (role client): NOT RUN --\nNOT RUN: step check failed\n")
    );

    let timeout = read(&dir.join("dlc.test_18a.test_log.beta.log"));
    assert!(timeout.contains("FAIL (timeout)"));
    assert!(timeout.contains("[4096 bytes of output left out]"));

    let repeated = read(&dir.join("dlc.test_02.test_log.alpha.log"));
    assert!(repeated.contains("repetition 1") && repeated.contains("repetition 2"));
    assert!(repeated.contains("repeat: 2"));

    let skipped = read(&dir.join("samples.test_03.test_log.master.log"));
    assert!(skipped.contains("SKIP") && skipped.contains("needs 4 nodes, have 3"));

    let suite = read(&dir.join("samples.suite_log.master.log"));
    for want in [
        "samples test_01: PASS",
        "samples test_02: FAIL",
        "samples test_03: SKIP",
        "== samples: FAIL",
    ] {
        assert!(suite.contains(want), "{want:?} in {suite}");
    }
}

#[test]
fn node_files_have_auster_node_keys() {
    let root = tempfile::tempdir().unwrap();
    let dir = write_all(root.path(), &sample_run());
    let alpha = yaml(&dir.join("node.alpha.yml"));
    let node = &alpha["Node"];
    let keys: Vec<&str> = node
        .as_mapping()
        .unwrap()
        .keys()
        .map(|k| k.as_str().unwrap())
        .collect();
    assert_eq!(keys, ["node_name", "mem_size", "architecture", "networks"]);
    assert_eq!(node["node_name"].as_str(), Some("alpha"));
    assert_eq!(node["mem_size"].as_str(), Some("2097152 kB"));
    assert_eq!(node["architecture"].as_str(), Some("x86_64"));
    assert_eq!(node["networks"].as_sequence().unwrap().len(), 1);
    assert_eq!(node["networks"][0].as_str(), Some("tcp"));
    assert_eq!(
        alpha["Build"]["kernel_version"].as_str(),
        Some("6.1.0-18-amd64")
    );
    assert_eq!(alpha["Build"]["lustre_version"].as_str(), Some("2.17.57"));
    assert_eq!(
        alpha["Facts"]["interfaces"][0]["name"].as_str(),
        Some("eth0")
    );
    assert_eq!(alpha["lutf"]["name"].as_str(), Some("n1"));

    let beta = yaml(&dir.join("node.beta.yml"));
    assert!(beta["Node"]["networks"].is_null(), "no NID, no network");
    let down = yaml(&dir.join("node.n3.yml"));
    assert_eq!(
        down["Node"]["node_name"].as_str(),
        Some("n3"),
        "the node's name when it has no hostname"
    );
    assert!(down["lutf"]["error"]
        .as_str()
        .unwrap()
        .contains("Connection refused"));
}

#[test]
fn nodes_sharing_a_hostname_get_their_own_files() {
    let mut run = sample_run();
    for n in ["n1", "n2"] {
        run.nodes.insert(n.into(), node(n, "same.example.com", &[]));
    }
    run.nodes.remove("n3");
    let root = tempfile::tempdir().unwrap();
    let dir = write_all(root.path(), &run);
    let names = files(&dir);
    for want in [
        "node.n1.yml",
        "node.n2.yml",
        "samples.test_02.test_log.n1.log",
        "samples.test_02.test_log.n2.log",
    ] {
        assert!(names.contains(&want.to_string()), "{want} in {names:?}");
    }
}

// ---------------------------------------------------------------------------------------
// junit.xml

#[test]
fn junit_parses_with_suites_cases_failures_and_skips() {
    let root = tempfile::tempdir().unwrap();
    let dir = write_all(root.path(), &sample_run());
    let text = read(&dir.join("junit.xml"));
    let doc =
        roxmltree::Document::parse(&text).unwrap_or_else(|e| panic!("junit.xml: {e}\n{text}"));
    let top = doc.root_element();
    assert_eq!(top.tag_name().name(), "testsuites");
    assert_eq!(top.attribute("tests"), Some("6"));
    assert_eq!(top.attribute("failures"), Some("2"));
    assert_eq!(top.attribute("skipped"), Some("1"));
    let suites: Vec<_> = top
        .children()
        .filter(|n| n.has_tag_name("testsuite"))
        .collect();
    assert_eq!(suites.len(), 2);
    let samples = suites[0];
    assert_eq!(samples.attribute("name"), Some("samples"));
    assert_eq!(samples.attribute("tests"), Some("3"));
    assert_eq!(samples.attribute("failures"), Some("1"));
    assert_eq!(samples.attribute("skipped"), Some("1"));
    assert_eq!(samples.attribute("time"), Some("3.400"));
    assert_eq!(samples.attribute("timestamp"), Some("2026-01-05T10:00:00Z"));
    let cases: Vec<_> = samples
        .children()
        .filter(|n| n.has_tag_name("testcase"))
        .collect();
    assert_eq!(cases.len(), 3);
    assert_eq!(cases[0].attribute("classname"), Some("samples"));
    assert_eq!(cases[0].attribute("name"), Some("test_01"));
    assert_eq!(cases[0].attribute("time"), Some("0.600"));
    assert!(cases[0]
        .children()
        .all(|c| !c.has_tag_name("failure") && !c.has_tag_name("skipped")));

    let fail = cases[1]
        .children()
        .find(|c| c.has_tag_name("failure"))
        .unwrap();
    assert_eq!(
        fail.attribute("message"),
        Some("assertion failed: x: 'a' \"b\" # c")
    );
    assert_eq!(fail.attribute("type"), Some("assertion"));
    let detail = fail.text().unwrap();
    assert!(detail.starts_with(NASTY_ERROR), "{detail}");
    assert!(detail.contains(TRACEBACK));
    let out = cases[1]
        .children()
        .find(|c| c.has_tag_name("system-out"))
        .unwrap();
    assert!(out.text().unwrap().contains("checking <x> & \"y\""));

    let skip = cases[2]
        .children()
        .find(|c| c.has_tag_name("skipped"))
        .unwrap();
    assert_eq!(skip.attribute("message"), Some("needs 4 nodes, have 3"));

    // Control characters XML forbids come out visible, not raw.
    let timeout_case = suites[1]
        .children()
        .find(|n| n.has_tag_name("testcase"))
        .unwrap();
    let out = timeout_case
        .children()
        .find(|c| c.has_tag_name("system-out"))
        .unwrap()
        .text()
        .unwrap();
    assert!(
        out.contains("\\x1B[31mred\\x1B[0m nul\\x00 bad\u{FFFD} utf8"),
        "{out}"
    );
}

// ---------------------------------------------------------------------------------------
// report.html

#[test]
fn report_is_self_contained_with_summary_tables_steps_and_timelines() {
    let root = tempfile::tempdir().unwrap();
    let run = sample_run();
    let dir = write_all(root.path(), &run);
    let html = read(&dir.join("report.html"));
    // Nothing from the network: the only URL is the SVG namespace.
    assert_eq!(
        html.matches("http").count(),
        html.matches("http://www.w3.org/2000/svg").count()
    );
    assert!(!html.contains("<script") && !html.contains("<link") && !html.contains("@import"));
    assert!(!html.contains("src="));
    // Summary, tables, steps, links to logs.
    assert!(html.contains("lutf run ab12"));
    for want in [
        "<span class=\"n\">6</span>tests",
        "<span class=\"n\">3</span>PASS",
        "<span class=\"n\">2</span>FAIL",
        "<span class=\"n\">1</span>SKIP",
        "cluster.yml",
        "needs 4 nodes, have 3",
        "href=\"samples.test_02.test_log.beta.log\"",
        "href=\"node.alpha.yml\"",
        "FAIL (assertion)",
        "FAIL (timeout)",
        "NOT RUN",
        "(background)",
        "(cleanup)",
    ] {
        assert!(html.contains(want), "{want:?} in report.html");
    }
    // Values are escaped: the step output with <x> & "y" shows as text.
    assert!(html.contains("checking &lt;x&gt; &amp; &quot;y&quot;"));
    assert!(!html.contains("<x>"));
    // Timelines: the run's and one per test whose steps ran, a bar per step that ran.
    let with_steps = run
        .tests()
        .filter(|t| t.steps.iter().any(|s| !s.node.is_empty()))
        .count();
    assert_eq!(with_steps, 5);
    assert_eq!(html.matches("<svg").count(), 1 + with_steps);
    let ran = run
        .tests()
        .flat_map(|t| &t.steps)
        .filter(|s| !s.node.is_empty())
        .count();
    assert_eq!(html.matches("<rect class=\"bar").count(), 2 * ran);
    assert!(html.contains("<rect class=\"bar pass background\""));
    assert!(html.contains("<rect class=\"bar fail\""));
}

fn chromium() -> Option<PathBuf> {
    [
        "chromium",
        "chromium-browser",
        "google-chrome",
        "google-chrome-stable",
    ]
    .iter()
    .find_map(|name| {
        std::env::var_os("PATH").and_then(|paths| {
            std::env::split_paths(&paths)
                .map(|p| p.join(name))
                .find(|p| p.is_file())
        })
    })
}

/// Runs headless Chromium on `url` with `extra` arguments, killing it after a generous
/// bound (it proves the page did not hang the browser, not how fast it is).
fn run_chromium(
    browser: &Path,
    profile: &Path,
    extra: &[String],
    url: &str,
) -> std::process::Output {
    let child = Command::new("timeout")
        .arg("120")
        .arg(browser)
        .args([
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--no-first-run",
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-sync",
            "--disable-dev-shm-usage",
        ])
        .arg(format!("--user-data-dir={}", profile.display()))
        .args(extra)
        .arg(url)
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .expect("start chromium");
    child.wait_with_output().expect("chromium ran")
}

#[test]
fn report_renders_in_headless_chromium() {
    let Some(browser) = chromium() else {
        eprintln!("skipping: no chromium on PATH (apt-get install chromium to run this test)");
        return;
    };
    let root = tempfile::tempdir().unwrap();
    let dir = write_all(root.path(), &sample_run());
    let report = dir.join("report.html");
    let url = format!("file://{}", report.display());
    let profile = tempfile::tempdir().unwrap();

    // The DOM after parsing: the summary and the timelines are there.
    let dom = run_chromium(&browser, profile.path(), &["--dump-dom".into()], &url);
    assert!(
        dom.status.success(),
        "chromium --dump-dom failed: {}",
        String::from_utf8_lossy(&dom.stderr)
    );
    let dom = String::from_utf8_lossy(&dom.stdout);
    assert!(dom.contains("id=\"summary\""), "summary in the DOM");
    assert!(
        dom.contains("<span class=\"n\">6</span>tests"),
        "the summary's counts in the DOM"
    );
    assert!(dom.contains("<svg"), "timeline in the DOM");
    assert!(
        dom.contains("<rect class=\"bar pass"),
        "the timeline's step bars in the DOM"
    );

    // A screenshot: a real PNG of a real size. Kept beside the report for people to look at.
    let shot = dir.join(".screenshot.png");
    let out = run_chromium(
        &browser,
        profile.path(),
        &[
            format!("--screenshot={}", shot.display()),
            "--window-size=1280,1600".into(),
        ],
        &url,
    );
    assert!(
        out.status.success(),
        "chromium --screenshot failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    let png = std::fs::read(&shot).expect("the screenshot was written");
    assert_eq!(&png[..8], b"\x89PNG\r\n\x1a\n");
    let (w, h) = (
        u32::from_be_bytes(png[16..20].try_into().unwrap()),
        u32::from_be_bytes(png[20..24].try_into().unwrap()),
    );
    assert_eq!((w, h), (1280, 1600));
    assert!(
        png.len() > 20_000,
        "a page with content, not a blank one ({} bytes)",
        png.len()
    );
    // LUTF_KEEP_SCREENSHOT=/tmp/shot.png keeps the screenshot, and the page as shot.png.html.
    if let Some(keep) = std::env::var_os("LUTF_KEEP_SCREENSHOT") {
        std::fs::copy(&shot, &keep).unwrap();
        let mut page = keep;
        page.push(".html");
        std::fs::copy(&report, page).unwrap();
    }
}

// ---------------------------------------------------------------------------------------
// lutf results

fn lutf(args: &[&str], cwd: &Path) -> std::process::Output {
    Command::new(env!("CARGO_BIN_EXE_lutf"))
        .args(args)
        .current_dir(cwd)
        .env("NO_COLOR", "1")
        .output()
        .expect("run lutf")
}

#[test]
fn lutf_results_summary_failed_and_formats() {
    let work = tempfile::tempdir().unwrap();
    let run = sample_run();
    let dir = write_all(&work.path().join("results"), &run);

    // Default folder: results/latest.
    let out = lutf(&["results"], work.path());
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(
        text.starts_with("lutf run ab12: 6 tests, 3 PASS, 2 FAIL, 1 SKIP in 14.2s\n"),
        "{text}"
    );
    assert!(text.contains("  samples test_02: assertion failed: x: 'a' \"b\" # c\n"));
    assert!(text.contains("  dlc test_18a: step 'configure' timed out after 5s\n"));
    assert!(text.contains("results/latest/report.html"));

    // --failed: only failures, exit 1.
    let out = lutf(&["results", "--failed"], work.path());
    assert_eq!(out.status.code(), Some(1));
    let text = String::from_utf8_lossy(&out.stdout);
    let firsts = text
        .lines()
        .filter(|l| l.starts_with("  ") && !l.starts_with("   "));
    assert_eq!(
        firsts.count(),
        2,
        "one line per failed test, then its detail: {text}"
    );
    assert!(!text.contains("test_01"));

    // --format: re-rendered from run.json, the same as the files.
    let root = work.path().join("results");
    let root_arg = root.to_str().unwrap();
    let out = lutf(&["results", root_arg, "--format", "yaml"], work.path());
    assert_eq!(
        String::from_utf8_lossy(&out.stdout),
        read(&dir.join("results.yml"))
    );
    let out = lutf(&["results", "--format", "junit"], work.path());
    assert_eq!(
        String::from_utf8_lossy(&out.stdout),
        read(&dir.join("junit.xml"))
    );
    let out = lutf(&["results", "--format", "html"], work.path());
    assert_eq!(
        String::from_utf8_lossy(&out.stdout),
        read(&dir.join("report.html"))
    );

    // A folder that is not a run: exit 2, naming the file.
    let out = lutf(&["results", "/nonexistent/run"], work.path());
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("/nonexistent/run/run.json"));
}

#[test]
fn lutf_results_archive_is_flat() {
    let work = tempfile::tempdir().unwrap();
    let dir = write_all(&work.path().join("results"), &sample_run());
    // A leftover hidden file (an interrupted write) is not archived.
    std::fs::write(dir.join(".results.yml.tmp-1"), "partial").unwrap();

    let out = lutf(&["results", "--archive"], work.path());
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let archive = work.path().join("results/20260105-100000-ab12.tar.gz");
    assert!(String::from_utf8_lossy(&out.stdout).contains("20260105-100000-ab12.tar.gz"));

    let mut entries = Vec::new();
    let gz = flate2::read::GzDecoder::new(std::fs::File::open(&archive).unwrap());
    for e in tar::Archive::new(gz).entries().unwrap() {
        let mut e = e.unwrap();
        let path = e.path().unwrap().to_string_lossy().into_owned();
        if path == "results.yml" {
            let mut text = String::new();
            std::io::Read::read_to_string(&mut e, &mut text).unwrap();
            assert_eq!(text, read(&dir.join("results.yml")));
        }
        entries.push(path);
    }
    let mut expected = files(&dir);
    expected.retain(|f| !f.starts_with('.'));
    let mut sorted = entries.clone();
    sorted.sort();
    assert_eq!(sorted, expected, "every file, at the archive's root");
    assert!(
        entries
            .iter()
            .all(|e| !e.contains('/') && !e.starts_with('.')),
        "{entries:?}"
    );
    assert!(entries.contains(&"node.alpha.yml".to_string()));

    // --archive=OUT names it.
    let out_path = work.path().join("upload.tar.gz");
    let out = lutf(
        &[
            "results",
            dir.to_str().unwrap(),
            &format!("--archive={}", out_path.display()),
        ],
        work.path(),
    );
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(out_path.exists());
}

#[test]
fn run_json_round_trips() {
    let root = tempfile::tempdir().unwrap();
    let run = sample_run();
    let dir = write_all(root.path(), &run);
    let back = results::load_run(&dir).unwrap();
    assert_eq!(
        serde_json::to_value(&back).unwrap(),
        serde_json::to_value(&run).unwrap()
    );
    // Non-UTF-8 output survives.
    let conf = &back.suites[1].tests[0].steps[0];
    assert_eq!(
        conf.log.data.as_slice(),
        b"\x1b[31mred\x1b[0m nul\0 bad\xff utf8\n"
    );
}

#[test]
fn shared_results_take_one_last_write_and_nothing_after_it() {
    let root = tempfile::tempdir().unwrap();
    let run = sample_run();
    let empty = empty_like(&run);
    let dir = ResultsDir::create(root.path(), &empty).unwrap();
    let shared = results::SharedResults::new(dir, &empty);
    shared.record(&run).unwrap();
    // The quitting side completes the run as last recorded.
    let (last, written) = shared
        .close(|last| {
            last.interrupted = true;
            last.finished = "2026-01-05T10:00:09Z".into();
        })
        .unwrap();
    written.unwrap();
    assert!(last.interrupted);
    assert_eq!(last.tests().count(), run.tests().count());
    // The other side finds it closed, and writes nothing more.
    assert!(shared.close(|_| panic!("closed")).is_none());
    shared.record(&empty).unwrap();
    let stored = results::load_run(&shared.path()).unwrap();
    assert!(stored.interrupted);
    assert_eq!(stored.finished, "2026-01-05T10:00:09Z");
    assert_eq!(stored.tests().count(), run.tests().count());
    assert!(
        files(&shared.path()).iter().all(|f| !f.starts_with('.')),
        "{:?}",
        files(&shared.path())
    );
}
