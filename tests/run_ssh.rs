//! `lutf run` over real sshd test hosts (see `support`): the multi-node samples pass with
//! their steps overlapping across nodes, roles bind to real nodes, and a node lost in the
//! middle of a step (killed, or cut off) fails that step while the rest of the run goes on.
//!
//! Timing assertions here are generous upper bounds that only prove "it did not hang".

mod support;

use std::path::{Path, PathBuf};
use std::process::{Child, Output, Stdio};
use std::time::{Duration, Instant};

use lutf::outcome::{RunOutcome, Status, TestOutcome};
use lutf::protocol::FailureKind;
use support::{show, Mode, TestHosts};

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

fn run_json(results: &Path) -> RunOutcome {
    support::run_json(results)
}

fn test<'a>(run: &'a RunOutcome, id: &str) -> &'a TestOutcome {
    support::find_test(run, id)
}

fn lutf_run(hosts: &TestHosts, suites: &Path, args: &[&str]) -> std::process::Command {
    hosts.lutf_run(suites, args)
}

#[test]
fn samples_pass_on_three_hosts_with_steps_overlapping() {
    let Some(hosts) = support::hosts(3) else {
        return;
    };
    let out = lutf_run(&hosts, &root().join("suites"), &["--suite", "samples"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(0), "{}", show(&out));
    let run = run_json(&hosts.dir.path().join("results"));
    for t in run.tests() {
        match t.status {
            Status::Pass => {}
            Status::Skip if t.error.starts_with("needs LNet") => {}
            _ => panic!(
                "{} {}: {} {}\n{}",
                t.suite,
                t.id,
                t.status,
                t.error,
                show(&out)
            ),
        }
    }
    // Two nodes napping at the same time: their steps overlap as the master saw them.
    let naps = test(&run, "03");
    let nap = |role: &str| {
        naps.steps
            .iter()
            .find(|s| s.name == format!("nap@{role}"))
            .unwrap()
    };
    let (one, two) = (nap("node1"), nap("node2"));
    assert_eq!((one.node.as_str(), two.node.as_str()), ("node1", "node2"));
    let overlap =
        (one.start + one.duration).min(two.start + two.duration) - one.start.max(two.start);
    assert!(overlap > 0.0, "{one:?}\n{two:?}");
    // Named roles bind to distinct nodes.
    let tcp = test(&run, "07");
    assert_ne!(tcp.binding["server"], tcp.binding["client"]);
    assert_eq!(run.nodes.len(), 3);
}

/// Starts the `lost` fixture suite and returns once node2 runs its holding step.
fn start_lost_run(hosts: &TestHosts, marker_name: &str) -> Child {
    let marker = format!("/tmp/{marker_name}");
    let mut child = lutf_run(
        hosts,
        &root().join("tests/fixtures/runner-suites"),
        &[
            "--suite",
            "lost",
            "--keepalive",
            "1",
            "--param",
            &format!("marker={marker}"),
        ],
    )
    .stdout(Stdio::piped())
    .stderr(Stdio::piped())
    .spawn()
    .unwrap();
    let seen = hosts.hosts[1].tmp.join(marker_name);
    let t0 = Instant::now();
    while !seen.exists() {
        if let Some(status) = child.try_wait().unwrap() {
            let out = child.wait_with_output().unwrap();
            panic!("lutf ended ({status}) before node2 held: {}", show(&out));
        }
        assert!(
            t0.elapsed() < Duration::from_secs(60),
            "node2 never started holding"
        );
        std::thread::sleep(Duration::from_millis(20));
    }
    child
}

/// Waits for lutf to end (bounded: it must notice the loss and go on).
fn finish(mut child: Child) -> Output {
    let t0 = Instant::now();
    while child.try_wait().unwrap().is_none() {
        assert!(
            t0.elapsed() < Duration::from_secs(90),
            "lutf did not notice the lost node"
        );
        std::thread::sleep(Duration::from_millis(50));
    }
    child.wait_with_output().unwrap()
}

/// Checks the run that lost node2 mid-step; `node2_clean`: node2's processes are gone
/// too (it was killed; one cut off keeps its step until its sshd notices).
fn check_lost_run(hosts: &TestHosts, out: &Output, node2_clean: bool) {
    assert_eq!(out.status.code(), Some(1), "{}", show(out));
    let run = run_json(&hosts.dir.path().join("results"));
    let t = test(&run, "01");
    assert_eq!(t.status, Status::Fail);
    assert!(
        t.error.starts_with("step hold on node2: node node2 lost: "),
        "{}\n{}",
        t.error,
        show(out)
    );
    let step = |n: &str| t.steps.iter().find(|s| s.name == n).unwrap();
    assert_eq!(
        step("hold").failure.as_ref().unwrap().kind,
        FailureKind::Lost
    );
    assert_eq!(
        step("after_hold").failure.as_ref().unwrap().message,
        "not run: step hold failed"
    );
    assert_eq!(step("meanwhile").status, Status::Pass);
    assert_eq!(
        step("tidy1").status,
        Status::Pass,
        "cleanup on the node still there"
    );
    assert_eq!(
        step("tidy2").failure.as_ref().unwrap().message,
        "not run: node node2 lost"
    );
    let three = test(&run, "02");
    assert_eq!(three.status, Status::Skip);
    assert!(
        three
            .error
            .starts_with("needs 3 nodes, have 2 (node node2 lost: "),
        "{}",
        three.error
    );
    assert!(run.nodes["node2"]
        .error
        .as_deref()
        .unwrap()
        .starts_with("lost: "));
    assert!(run.nodes["node1"].error.is_none());
    let two = test(&run, "03");
    assert_eq!(two.status, Status::Pass, "{}", two.error);
    assert!(
        !two.binding.values().any(|n| n == "node2"),
        "{:?}",
        two.binding
    );
    // The results folder holds every test.
    let yml = std::fs::read_to_string(hosts.dir.path().join("results/latest/results.yml")).unwrap();
    let yml: serde_yaml::Value = serde_yaml::from_str(&yml).unwrap();
    assert_eq!(yml["Tests"][0]["SubTests"].as_sequence().unwrap().len(), 3);
    // No test process is left on the hosts lutf could still reach.
    for i in 0..3 {
        if i != 1 || node2_clean {
            assert_eq!(hosts.test_processes(i), Vec::<String>::new(), "host {i}");
        }
    }
}

#[test]
fn a_node_killed_mid_step_fails_the_step_and_the_run_goes_on() {
    let Some(mut hosts) = support::hosts(3) else {
        return;
    };
    let child = start_lost_run(&hosts, "lutf-run-ssh-killed");
    hosts.kill_host(1);
    let out = finish(child);
    check_lost_run(&hosts, &out, true);
}

#[test]
fn a_node_cut_off_mid_step_fails_the_step_and_the_run_goes_on() {
    let Some(hosts) = support::hosts(3) else {
        return;
    };
    if !matches!(hosts.mode, Mode::Netns { .. }) {
        eprintln!("SKIP: cutting a host off needs network namespaces (root)");
        return;
    }
    let child = start_lost_run(&hosts, "lutf-run-ssh-cut");
    hosts.cut(1);
    let out = finish(child);
    // node2's step still runs: its sshd has not noticed that lutf's connection is gone
    // (nothing is sent on it while the link is down), so the supervisor keeps the job.
    check_lost_run(&hosts, &out, false);
}

#[test]
fn an_unreachable_node_stops_the_run_unless_allowed_missing() {
    let Some(mut hosts) = support::hosts(3) else {
        return;
    };
    hosts.kill_host(2);
    let suites = root().join("tests/fixtures/runner-suites");
    let out = lutf_run(&hosts, &suites, &["--suite", "lost", "--only", "02,03"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2), "{}", show(&out));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("node node3 unreachable: "), "{err}");
    assert!(err.contains("--allow-missing"), "{err}");

    let out = lutf_run(
        &hosts,
        &suites,
        &["--suite", "lost", "--only", "02,03", "--allow-missing"],
    )
    .output()
    .unwrap();
    assert_eq!(out.status.code(), Some(0), "{}", show(&out));
    let run = run_json(&hosts.dir.path().join("results"));
    let three = test(&run, "02");
    assert_eq!(three.status, Status::Skip);
    assert!(
        three
            .error
            .starts_with("needs 3 nodes, have 2 (node node3 unreachable: "),
        "{}",
        three.error
    );
    assert_eq!(test(&run, "03").status, Status::Pass);
    assert!(run.nodes["node3"].error.is_some());
}
