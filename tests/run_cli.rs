//! `lutf run` and `lutf list` refusing bad selections: exit code 2 and close matches.
//! These stop before any node is contacted, so they need no python3.

mod common;

use common::{fixtures, samples, Scratch};

#[test]
fn unknown_suite_exits_2_with_close_matches() {
    let s = Scratch::new();
    let run = s.run(&samples(), &["--suite", "sample"]);
    assert_eq!(run.code, 2, "{run}");
    assert!(run.stderr.contains("unknown suite \"sample\""), "{run}");
    assert!(run.stderr.contains("did you mean: samples?"), "{run}");
    let list = s.lutf(&fixtures(), &["list", "--suite", "brokn"]);
    assert_eq!(list.code, 2, "{list}");
    assert!(list.stderr.contains("did you mean: broken?"), "{list}");
}

#[test]
fn unknown_test_exits_2_with_close_matches() {
    let s = Scratch::new();
    let run = s.run(&fixtures(), &["--suite", "broken", "--only", "4,test_5"]);
    assert_eq!(run.code, 2, "{run}");
    assert!(run.stderr.contains("unknown test \"4\""), "{run}");
    assert!(run.stderr.contains("did you mean: test_04?"), "{run}");
    let run = s.run(&fixtures(), &["--suite", "broken", "--except", "zz"]);
    assert_eq!(run.code, 2, "{run}");
    assert!(run.stderr.contains("--except"), "{run}");
    assert!(
        run.stderr.contains("test_01, test_02, test_03, test_04"),
        "{run}"
    );
}

#[test]
fn bad_options_exit_2() {
    let s = Scratch::new();
    for args in [
        &["--timeout", "-1"][..],
        &["--param", "novalue"],
        &["--repeat", "0"],
    ] {
        let run = s.run(&samples(), args);
        assert_eq!(run.code, 2, "{args:?}: {run}");
    }
    let run = s.lutf(&s.dir.path().join("nowhere"), &["list"]);
    assert_eq!(run.code, 2, "{run}");
    assert!(run.stderr.contains("not a folder"), "{run}");
}
