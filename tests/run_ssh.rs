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

#[test]
fn steps_after_a_nodes_first_start_warm_and_the_spare_runner_goes_with_the_run() {
    let Some(hosts) = support::hosts(1) else {
        return;
    };
    let fixtures = root().join("tests/fixtures/suites");
    let out = lutf_run(&hosts, &fixtures, &["--suite", "warm"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1), "{}", show(&out));
    let run = run_json(&hosts.dir.path().join("results"));
    let warm = test(&run, "01");
    assert_eq!(warm.status, Status::Pass, "{}\n{}", warm.error, show(&out));
    let value = |name: &str| {
        let step = warm.steps.iter().find(|s| s.name == name).unwrap();
        step.value.clone().unwrap()
    };
    // The first step of the run may start cold; the ones after it find a runner waiting.
    for name in ["second", "third"] {
        assert_eq!(value(name)["warm"], true, "{name}: {}", show(&out));
        // It waited at a lower priority, and runs the step at the one a cold step has.
        assert_eq!(value(name)["nice"], value("first")["nice"], "{name}");
    }
    let pids: std::collections::BTreeSet<String> = ["first", "second", "third"]
        .iter()
        .map(|n| value(n)["pid"].to_string())
        .collect();
    assert_eq!(
        pids.len(),
        3,
        "each step has a process of its own: {pids:?}"
    );
    // A warm runner's step is timed out, and says where, as a cold one is.
    let hung = test(&run, "02");
    let hang = hung.steps.iter().find(|s| s.name == "hang").unwrap();
    let failure = hang.failure.as_ref().unwrap();
    assert_eq!(failure.kind, FailureKind::Timeout, "{failure:?}");
    assert_eq!(
        failure.message,
        "step hang timed out after 2 s in hang (warm/test_02.py:21)"
    );
    assert!(hang
        .log
        .data
        .to_string_lossy()
        .contains("LUTF-FIXTURE-WARM-HANG"));
    // The spare left for a step that never came ends with the run's connection.
    assert_eq!(hosts.test_processes(0), Vec::<String>::new());
}

/// Starts the `lost` fixture suite and returns once node2 runs its holding step.
fn start_lost_run(hosts: &TestHosts, marker_name: &str, extra: &[&str]) -> Child {
    let marker = format!("/tmp/{marker_name}");
    let marker = format!("marker={marker}");
    let mut args = vec!["--suite", "lost", "--keepalive", "1", "--param", &marker];
    args.extend_from_slice(extra);
    let mut child = lutf_run(hosts, &root().join("tests/fixtures/runner-suites"), &args)
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
/// too (it was killed, or cut off and back before the run's end; one still cut off at the
/// end keeps its step until a later run reaches it).
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
    // No test process is left on the hosts lutf could reach at the end.
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
    let child = start_lost_run(&hosts, "lutf-run-ssh-killed", &[]);
    hosts.kill_host(1);
    let out = finish(child);
    check_lost_run(&hosts, &out, true);
}

/// Waits (bounded) until the running lutf has recorded test 01, which fails once node2 is
/// lost; answers how long after `since` that was.
fn wait_for_loss(hosts: &TestHosts, child: &mut Child, since: Instant) -> Duration {
    let path = hosts.dir.path().join("results/latest/run.json");
    loop {
        let text = std::fs::read_to_string(&path).unwrap_or_default();
        if let Ok(run) = serde_json::from_str::<RunOutcome>(&text) {
            if run.tests().any(|t| t.id == "01") {
                return since.elapsed();
            }
        }
        if child.try_wait().unwrap().is_some() {
            panic!("lutf ended before it recorded test 01");
        }
        // Generous: only proves that losing the node did not hang the run.
        assert!(
            since.elapsed() < Duration::from_secs(60),
            "lutf did not notice the lost node"
        );
        std::thread::sleep(Duration::from_millis(20));
    }
}

/// Bytes that host `i` has sent on its SSH connections and not seen acknowledged.
fn unacked(hosts: &TestHosts, i: usize) -> u64 {
    let port = hosts.hosts[i].port;
    let out = hosts.on_host(
        i,
        &format!("ss -tnH state established '( sport = :{port} )'"),
    );
    assert!(out.status.success(), "{}", show(&out));
    // With a state filter, ss prints Recv-Q Send-Q Local Peer.
    String::from_utf8_lossy(&out.stdout)
        .lines()
        .filter_map(|l| l.split_whitespace().nth(1)?.parse::<u64>().ok())
        .sum()
}

/// Cuts host `i` off at a moment when its end of lutf's connection has nothing left to
/// send (answers when). Whether a node's sshd ever learns that the connection died depends
/// on that: data it sent just before the cut (a keepalive's answer, say) goes unacknowledged
/// and is retransmitted once the link is back; the master, which closed the connection,
/// answers with a reset, the session ends, and the helper's owner watch stops the job by
/// itself. A node idle at the cut (the usual case: a long step, the master waiting) never
/// learns, which is what the end-of-run and next-run clean-ups are for. So: cut, look, and
/// if the node had something in flight put the link back at once (a moment off the link is
/// no loss, ssh waits three keepalives) and try again.
fn cut_idle(hosts: &TestHosts, i: usize) -> Instant {
    for _ in 0..50 {
        let t = Instant::now();
        while unacked(hosts, i) > 0 && t.elapsed() < Duration::from_secs(2) {
            std::thread::sleep(Duration::from_millis(5));
        }
        hosts.cut(i);
        let cut = Instant::now();
        // Whatever was in flight has arrived or been dropped by now.
        std::thread::sleep(Duration::from_millis(50));
        if unacked(hosts, i) == 0 {
            return cut;
        }
        hosts.restore(i);
        std::thread::sleep(Duration::from_millis(300));
    }
    panic!("host {i} never had an idle moment to be cut off in");
}

/// Makes the master machine forget its TCP connection to host `i` (`ss -K`), as its
/// kernel does by itself after minutes of retransmissions, and drops the packets still
/// queued for the host (`ip neigh flush`: with the link down, the host's neighbour entry
/// fails and what is sent to it waits for the address to resolve). Otherwise, once the link
/// is back, the connection lutf gave up on could still reach the host's sshd (its
/// retransmitted FIN and goodbye), end the session there, and the helper's owner watch, not
/// lutf, would stop the job. This is the case the clean-ups are for: an outage longer than
/// the master's TCP retransmissions.
fn drop_connections(hosts: &TestHosts, i: usize) {
    let addr = &hosts.hosts[i].addr;
    for args in [
        &["ss", "-K", "-t", "dst", addr][..],
        &["ip", "neigh", "flush", "to", addr][..],
    ] {
        let out = std::process::Command::new(args[0])
            .args(&args[1..])
            .output()
            .unwrap_or_else(|e| panic!("{args:?}: {e}"));
        assert!(out.status.success(), "{args:?}: {}", show(&out));
    }
}

fn lost_node_record(hosts: &TestHosts) -> lutf::outcome::NodeRecord {
    let run = run_json(&hosts.dir.path().join("results"));
    run.nodes["node2"].clone()
}

#[test]
fn a_node_cut_off_mid_step_and_back_before_the_end_has_its_step_killed() {
    let Some(hosts) = support::hosts(3) else {
        return;
    };
    if !matches!(hosts.mode, Mode::Netns { .. }) {
        eprintln!("SKIP: cutting a host off needs network namespaces (root)");
        return;
    }
    let mut child = start_lost_run(&hosts, "lutf-run-ssh-cut", &["--connect-timeout", "5"]);
    let cut = cut_idle(&hosts, 1);
    let noticed = wait_for_loss(&hosts, &mut child, cut);
    drop_connections(&hosts, 1);
    hosts.restore(1);
    let out = finish(child);
    let ended = cut.elapsed();
    println!(
        "FAULT-TIMING cut off and back: node2 lost (test 01 recorded) {:.3} s after the cut; the run, its end-of-run clean-up included, ended {:.3} s after the cut",
        noticed.as_secs_f64(),
        ended.as_secs_f64()
    );
    // The link came back before the run ended: lutf reconnected and killed node2's step.
    check_lost_run(&hosts, &out, true);
    let record = lost_node_record(&hosts);
    let cleanup = record.cleanup.as_deref().unwrap_or_default();
    assert!(
        cleanup.starts_with("reconnected and killed 1 job: lost/test_01 hold (job "),
        "{cleanup}\n{}",
        show(&out)
    );
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("lutf: node node2 was lost: reconnected and killed 1 job: lost/test_01 hold"),
        "{err}"
    );
    assert!(!err.contains("warning: node node2"), "{err}");
}

#[test]
fn a_node_still_cut_off_at_the_end_has_its_step_killed_by_the_next_run() {
    let Some(hosts) = support::hosts(3) else {
        return;
    };
    if !matches!(hosts.mode, Mode::Netns { .. }) {
        eprintln!("SKIP: cutting a host off needs network namespaces (root)");
        return;
    }
    let mut child = start_lost_run(&hosts, "lutf-run-ssh-cut-long", &["--connect-timeout", "2"]);
    let cut = cut_idle(&hosts, 1);
    let noticed = wait_for_loss(&hosts, &mut child, cut);
    let out = finish(child);
    let ended = cut.elapsed();
    println!(
        "FAULT-TIMING cut off through the end: node2 lost {:.3} s after the cut; the run ended {:.3} s after the cut, its bounded clean-up of node2 (--connect-timeout 2) included",
        noticed.as_secs_f64(),
        ended.as_secs_f64()
    );
    // node2's step still runs: its sshd has not noticed that lutf's connection is gone
    // (nothing is sent on it while the link is down), so the supervisor keeps the job.
    check_lost_run(&hosts, &out, false);
    let err = String::from_utf8_lossy(&out.stderr);
    let warning = err
        .lines()
        .find(|l| l.starts_with("lutf: warning: node node2 was lost and is still unreachable: "))
        .unwrap_or_else(|| panic!("no warning about node2\n{err}"));
    assert!(
        warning.contains("1 job of this run may still run there (lost/test_01 hold (job ")
            && warning
                .contains("the next `lutf run` from this machine that reaches node2 kills it"),
        "{warning}"
    );
    let record = lost_node_record(&hosts);
    let cleanup = record.cleanup.as_deref().unwrap_or_default();
    assert!(
        cleanup.starts_with("unreachable at the end of the run (")
            && cleanup.contains("1 job may still run there: lost/test_01 hold (job "),
        "{cleanup}"
    );
    let job = cleanup
        .rsplit_once("(job ")
        .and_then(|(_, r)| r.strip_suffix(')'))
        .unwrap()
        .to_string();
    assert!(
        !hosts.test_processes(1).is_empty(),
        "node2's step still runs while node2 is cut off"
    );

    // The link comes back; the next run from this machine kills the job the dead one left.
    drop_connections(&hosts, 1);
    hosts.restore(1);
    let back = Instant::now();
    // `lutf status` lists the leftover job and leaves it alone.
    let status = hosts
        .lutf()
        .args(["status", "--format", "json", "--cluster"])
        .arg(&hosts.cluster_file)
        .output()
        .unwrap();
    assert_eq!(status.status.code(), Some(0), "{}", show(&status));
    let nodes: serde_json::Value = serde_json::from_slice(&status.stdout).unwrap();
    assert_eq!(
        nodes[1]["leftovers"],
        serde_json::json!([format!("lost/test_01 hold (job {job})")]),
        "{nodes}"
    );
    assert!(nodes[0].get("leftovers").is_none(), "{nodes}");
    assert!(
        !hosts.test_processes(1).is_empty(),
        "status only lists leftovers"
    );
    let out = lutf_run(
        &hosts,
        &root().join("tests/fixtures/runner-suites"),
        &["--suite", "lost", "--only", "03"],
    )
    .output()
    .unwrap();
    println!(
        "FAULT-TIMING cut off through the end: the next run, which killed the leftover step on node2, ended {:.3} s after the link came back",
        back.elapsed().as_secs_f64()
    );
    assert_eq!(out.status.code(), Some(0), "{}", show(&out));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains(&format!(
            "lutf: node node2: killed 1 job left running by an earlier lutf run on this machine: lost/test_01 hold (job {job}, lutf run "
        )),
        "{err}"
    );
    let record = lost_node_record(&hosts);
    assert!(
        record
            .leftovers
            .as_deref()
            .unwrap_or_default()
            .starts_with("killed 1 job left running by an earlier lutf run on this machine: "),
        "{record:?}"
    );
    for i in 0..3 {
        assert_eq!(hosts.test_processes(i), Vec::<String>::new(), "host {i}");
    }
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
