//! `lutf run`, `lutf list` and `--dry-run` on the shipped samples, on this machine: the
//! real binary, the real helper, real python3.

mod common;

use common::{have_python, samples, subtests, Scratch};

macro_rules! need_python {
    () => {
        if !have_python() {
            eprintln!("SKIP: python3 is not installed on this machine");
            return;
        }
    };
}

#[test]
fn samples_pass_on_one_machine_with_auster_results() {
    need_python!();
    let s = Scratch::new();
    let run = s.run(&samples(), &["--suite", "samples"]);
    assert_eq!(run.code, 0, "{run}");
    assert!(run.stderr.contains("results: "), "{run}");

    let yml = s.results_yml();
    for key in ["test_group", "testhost", "submission", "user_name"] {
        assert!(
            yml["TestGroup"][key].is_string(),
            "TestGroup.{key} missing: {yml:?}"
        );
    }
    let suite = &yml["Tests"][0];
    for key in [
        "name",
        "description",
        "submission",
        "report_version",
        "SubTests",
        "duration",
        "status",
    ] {
        assert!(!suite[key].is_null(), "Tests[0].{key} missing: {suite:?}");
    }
    assert_eq!(suite["name"].as_str(), Some("samples"));
    assert_eq!(suite["report_version"].as_u64(), Some(2));
    for sub in suite["SubTests"].as_sequence().unwrap() {
        let keys: Vec<&str> = sub
            .as_mapping()
            .unwrap()
            .keys()
            .map(|k| k.as_str().unwrap())
            .collect();
        assert_eq!(keys, ["name", "status", "duration", "return_code", "error"]);
    }

    let subs = subtests(&yml, "samples");
    let ids: Vec<&str> = subs.iter().map(|(n, _, _)| n.as_str()).collect();
    let files = std::fs::read_dir(samples().join("samples"))
        .unwrap()
        .count();
    assert!(ids.len() >= 6, "six samples or more: {ids:?}");
    assert!(ids.len() <= files);
    assert_eq!(ids[0], "test_01");
    for (name, status, error) in &subs {
        match status.as_str() {
            "PASS" => assert_eq!(error, "", "{name}"),
            // On one machine, a sample may only skip for what one machine lacks.
            "SKIP" => assert!(
                error.starts_with("needs 2 nodes, have 1")
                    || error.starts_with("needs LNet")
                    || error.contains("usable interface"),
                "{name} skipped: {error}"
            ),
            _ => panic!("{name}: {status}: {error}\n{run}"),
        }
    }
    let multi: Vec<&(String, String, String)> = subs
        .iter()
        .filter(|(_, _, e)| e.starts_with("needs 2 nodes, have 1"))
        .collect();
    assert!(
        !multi.is_empty(),
        "the multi-node samples skip here, saying why: {subs:?}"
    );

    // Each test's log, per auster's naming, for the tests that ran.
    let run_json = s.run_json();
    let host = &run_json.nodes["local"].hostname;
    let log = s
        .latest()
        .join(format!("samples.test_01.test_log.{host}.log"));
    assert!(log.is_file(), "{} missing", log.display());
    let t1 = run_json.tests().next().unwrap();
    assert_eq!(t1.binding["node1"], "local");
    assert_eq!(t1.steps[0].node, "local");
}

#[test]
fn only_runs_the_tests_named() {
    need_python!();
    let s = Scratch::new();
    let run = s.run(&samples(), &["--suite", "samples", "--only", "01"]);
    assert_eq!(run.code, 0, "{run}");
    let subs = subtests(&s.results_yml(), "samples");
    assert_eq!(subs.len(), 1, "{subs:?}");
    assert_eq!(subs[0].0, "test_01");
    assert_eq!(subs[0].1, "PASS");
    // The plain event lines: test started, step finished, test finished, summary.
    assert!(run.stderr.contains("samples test_01 started"), "{run}");
    assert!(
        run.stderr
            .contains("samples test_01 step whoami on local: PASS"),
        "{run}"
    );
    assert!(run.stderr.contains("samples test_01: PASS"), "{run}");
    assert!(
        run.stderr.contains(": 1 tests, 1 PASS, 0 FAIL, 0 SKIP"),
        "{run}"
    );
}

#[test]
fn list_shows_every_sample() {
    need_python!();
    let s = Scratch::new();
    let run = s.lutf(&samples(), &["list", "--suite", "samples"]);
    assert_eq!(run.code, 0, "{run}");
    let dir = samples().join("samples");
    let mut n = 0;
    for entry in std::fs::read_dir(&dir).unwrap() {
        let name = entry.unwrap().file_name().to_string_lossy().into_owned();
        let Some(id) = name
            .strip_prefix("test_")
            .and_then(|n| n.strip_suffix(".py"))
        else {
            continue;
        };
        let text = std::fs::read_to_string(dir.join(&name)).unwrap();
        let first = text
            .trim_start_matches("\"\"\"")
            .lines()
            .next()
            .unwrap()
            .trim_end_matches("\"\"\"")
            .to_string();
        // The test's line and its continuation lines (an empty name column).
        let block: Vec<&str> = run
            .stdout
            .lines()
            .skip_while(|l| !l.trim_start().starts_with(&format!("test_{id} ")))
            .enumerate()
            .take_while(|(i, l)| *i == 0 || l.starts_with("   "))
            .map(|(_, l)| l)
            .collect();
        assert!(!block.is_empty(), "test_{id} not listed\n{run}");
        assert!(block[0].contains(" node"), "{block:?} says its needs");
        // Wrapped in its column, the description's words come in order.
        let words: Vec<&str> = block.iter().flat_map(|l| l.split_whitespace()).collect();
        let mut rest = words.iter();
        for w in first.split_whitespace() {
            assert!(
                rest.any(|x| x == &w),
                "{block:?} lacks {first:?} (at {w:?})"
            );
        }
        n += 1;
    }
    // Laid out for 80 columns when not on a terminal: nothing runs past them.
    for l in run.stdout.lines() {
        assert!(
            l.chars().count() <= 80,
            "{l:?} is wider than 80 columns\n{run}"
        );
    }
    assert!(n >= 6);
    assert!(
        run.stdout.starts_with(&format!("samples ({n} tests)")),
        "{run}"
    );
}

#[test]
fn dry_run_prints_plans_and_runs_nothing() {
    need_python!();
    let s = Scratch::new();
    let run = s.run(&samples(), &["--suite", "samples", "--dry-run"]);
    assert_eq!(run.code, 0, "{run}");
    assert!(run.stdout.contains("samples test_01:"), "{run}");
    assert!(run.stdout.contains("binding: node1 -> local"), "{run}");
    assert!(run.stdout.contains("whoami on node1 (local)"), "{run}");
    assert!(
        run.stdout.contains("would SKIP: needs 2 nodes, have 1"),
        "{run}"
    );
    assert!(!s.results().exists(), "a dry run writes no results");
    assert!(!run.stderr.contains("started"), "{run}");
}

#[test]
fn the_summary_names_the_results_folder_absolutely() {
    need_python!();
    let s = Scratch::new();
    // The default `--results results`, relative to the folder lutf runs in.
    let run = s.lutf(&samples(), &["run", "--suite", "samples", "--only", "01"]);
    assert_eq!(run.code, 0, "{run}");
    let folder = std::fs::canonicalize(s.dir.path().join("results/latest")).unwrap();
    let named = run
        .stderr
        .lines()
        .find_map(|l| l.strip_prefix("results: "))
        .unwrap_or_else(|| panic!("no results line: {run}"));
    assert!(named.starts_with('/'), "{run}");
    assert_eq!(std::fs::canonicalize(named).unwrap(), folder, "{run}");
    assert!(
        run.stderr.contains(&format!("  {named}/report.html")),
        "{run}"
    );
}
