//! A node that stops answering during a test, on the local node: a fixture step moves the
//! deployed helper away, so the next helper call fails in the transport, as a call to a
//! node that went away does. (Loss over real SSH is tested with the SSH transport.)

mod common;

use common::{have_python, root, subtests, Scratch};
use lutf::outcome::Status;
use lutf::protocol::FailureKind;

#[test]
fn a_lost_node_fails_the_step_skips_what_needs_it_and_results_are_written() {
    if !have_python() {
        eprintln!("SKIP: python3 is not installed on this machine");
        return;
    }
    let s = Scratch::new();
    let run = s.run(
        &root().join("tests/fixtures/runner-suites"),
        &["--suite", "loss"],
    );
    assert_eq!(run.code, 1, "{run}");

    let rj = s.run_json();
    let t = rj.tests().next().unwrap();
    assert_eq!(t.status, Status::Fail, "{run}");
    assert!(
        t.error
            .starts_with("step after_it on local: node local lost: "),
        "{}",
        t.error
    );
    let step = |n: &str| t.steps.iter().find(|s| s.name == n).unwrap();
    assert_eq!(step("break_node").status, Status::Pass);
    assert_eq!(
        step("after_it").failure.as_ref().unwrap().kind,
        FailureKind::Lost
    );
    assert_eq!(
        step("then").failure.as_ref().unwrap().message,
        "not run: step after_it failed"
    );
    assert_eq!(
        step("tidy").failure.as_ref().unwrap().message,
        "not run: node local lost"
    );

    let subs = subtests(&s.results_yml(), "loss");
    assert_eq!(subs[1].1, "SKIP");
    assert!(
        subs[1]
            .2
            .starts_with("needs 1 node, have 0 (node local lost: "),
        "{:?}",
        subs[1]
    );
}
