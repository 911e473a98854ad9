//! `lutf run --rerun-failed`: runs exactly the tests that failed in `results/latest` (per
//! suite, even when another suite has a test of the same id), says so clearly when there is
//! no previous run, and has nothing to do when nothing failed.

mod common;

use common::{fixtures, have_python, Scratch};
use lutf::outcome::Status;

fn ran(s: &Scratch) -> Vec<(String, String, Status)> {
    s.run_json()
        .tests()
        .map(|t| (t.suite.clone(), t.id.clone(), t.status))
        .collect()
}

#[test]
fn rerun_failed_runs_the_failures_of_the_latest_run_only() {
    if !have_python() {
        eprintln!("SKIP: python3 is not installed on this machine");
        return;
    }
    let s = Scratch::new();
    let none = s.run(&fixtures(), &["--rerun-failed"]);
    assert_eq!(none.code, 2, "{none}");
    assert!(
        none.stderr
            .contains("--rerun-failed: no previous run under"),
        "{none}"
    );

    let first = s.run(&fixtures(), &["--suite", "broken,deps", "--only", "01,02"]);
    assert_eq!(first.code, 1, "{first}");
    let fail = |suite: &str, id: &str| (suite.to_string(), id.to_string(), Status::Fail);
    let before = ran(&s);
    assert!(before.contains(&fail("broken", "01")), "{before:?}");
    assert!(before.contains(&fail("broken", "02")), "{before:?}");
    assert!(before.contains(&fail("deps", "01")), "{before:?}");
    assert!(before.contains(&("deps".into(), "02".into(), Status::Pass)));

    // deps test_02 passed, although broken test_02 failed: it is not run again.
    let again = s.run(&fixtures(), &["--rerun-failed"]);
    assert_eq!(again.code, 1, "{again}");
    assert_eq!(
        ran(&s),
        vec![
            fail("broken", "01"),
            fail("broken", "02"),
            fail("deps", "01")
        ]
    );

    let clash = s.run(&fixtures(), &["--rerun-failed", "--only", "01"]);
    assert_eq!(clash.code, 2, "{clash}");

    // A run where nothing failed leaves nothing to rerun.
    let pass = s.run(&fixtures(), &["--suite", "deps", "--only", "02"]);
    assert_eq!(pass.code, 0, "{pass}");
    let nothing = s.run(&fixtures(), &["--rerun-failed"]);
    assert_eq!(nothing.code, 0, "{nothing}");
    assert!(nothing.stderr.contains("nothing to rerun"), "{nothing}");
}
