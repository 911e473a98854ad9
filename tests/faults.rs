//! Faults on real sshd test hosts (see `support`), each timed and each checked for
//! leftovers: a host whose sshd restarts between tests (lutf reconnects and the later tests
//! pass); the master killed with SIGKILL mid-step and run again (the steps it left on the
//! nodes stop by themselves, its control folder is cleaned by the next run, its
//! results.yml is whole and holds every finished test); SIGINT while the bundle is being
//! deployed (exit 130 at once, and the half-sent bundle is never used: the next run works).
//!
//! Each test prints the time it took lutf (or the node) to notice, as `FAULT-TIMING ...`
//! lines (`cargo test --test faults -- --nocapture`). Timing assertions are generous upper
//! bounds that only prove "it did not hang".

mod support;

use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::time::{Duration, Instant};

use lutf::outcome::Status;
use support::{find_test, process_alive, run_json, show, TestHosts};

fn suites() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/runner-suites")
}

/// Waits for `path` to exist while `child` runs (bounded: 60 s).
fn wait_for(path: &Path, child: &mut std::process::Child, what: &str) {
    let t0 = Instant::now();
    while !path.exists() {
        if let Some(status) = child.try_wait().unwrap() {
            let out = std::mem::replace(child, std::process::Command::new("true").spawn().unwrap())
                .wait_with_output()
                .unwrap();
            panic!("lutf ended ({status}) before {what}: {}", show(&out));
        }
        assert!(t0.elapsed() < Duration::from_secs(60), "never saw {what}");
        std::thread::sleep(Duration::from_millis(10));
    }
}

/// The results.yml of the latest run, parsed (panics when it is not valid YAML).
fn results_yml(hosts: &TestHosts) -> serde_yaml::Value {
    let path = hosts.results().join("latest/results.yml");
    let text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    serde_yaml::from_str(&text).unwrap_or_else(|e| panic!("{}: {e}\n{text}", path.display()))
}

/// (name, status) of every SubTest of the first suite in results.yml.
fn subtests(yml: &serde_yaml::Value) -> Vec<(String, String)> {
    yml["Tests"][0]["SubTests"]
        .as_sequence()
        .unwrap()
        .iter()
        .map(|t| {
            (
                t["name"].as_str().unwrap_or_default().to_string(),
                t["status"].as_str().unwrap_or_default().to_string(),
            )
        })
        .collect()
}

/// This user's control folders of a master with process id `pid`.
fn control_dirs_of(pid: u32) -> Vec<PathBuf> {
    // SAFETY: geteuid has no preconditions and cannot fail.
    let base = PathBuf::from(format!("/tmp/lutf-ssh-{}", unsafe { libc::geteuid() }));
    let prefix = format!("{pid}.");
    std::fs::read_dir(&base)
        .map(|d| {
            d.filter_map(Result::ok)
                .filter(|e| e.file_name().to_string_lossy().starts_with(&prefix))
                .map(|e| e.path())
                .collect()
        })
        .unwrap_or_default()
}

#[test]
fn sshd_restarting_between_tests_lutf_reconnects_and_later_tests_pass() {
    let Some(mut hosts) = support::hosts(2) else {
        return;
    };
    let (marker, go) = ("lutf-faults-gate", "lutf-faults-go");
    let mut child = hosts
        .lutf_run(
            &suites(),
            &[
                "--suite",
                "faults",
                "--only",
                "01,03,04",
                "--param",
                &format!("marker={}/{marker}", hosts.hosts[0].node_tmp.display()),
                "--param",
                &format!("go={}/{go}", hosts.hosts[0].node_tmp.display()),
            ],
        )
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    wait_for(&hosts.hosts[0].tmp.join(marker), &mut child, "the gate");
    // Test 01 used node2's connection; now every process of node2 goes (its sshd and the
    // session serving lutf's connection) and a new sshd starts.
    hosts.kill_host(1);
    hosts.start_sshd(1);
    hosts.wait_listening(1);
    std::fs::write(hosts.hosts[0].tmp.join(go), "go").unwrap();
    let t0 = Instant::now();
    let out = child.wait_with_output().unwrap();
    let after = t0.elapsed();
    assert_eq!(out.status.code(), Some(0), "{}", show(&out));
    let run = run_json(&hosts.results());
    for id in ["01", "03", "04"] {
        let t = find_test(&run, id);
        assert_eq!(t.status, Status::Pass, "{id}: {}\n{}", t.error, show(&out));
    }
    assert!(
        run.nodes["node2"].error.is_none(),
        "{:?}",
        run.nodes["node2"]
    );
    let two = find_test(&run, "04")
        .steps
        .iter()
        .find(|s| s.name.starts_with("two"))
        .unwrap();
    eprintln!(
        "FAULT-TIMING sshd restart: test 04 passed; its node2 step (reconnect included) took {:.3} s; the run ended {:.3} s after the go",
        two.duration,
        after.as_secs_f64()
    );
    // Generous bound (no hang): reconnecting is one ssh handshake.
    assert!(after < Duration::from_secs(60), "{after:?}");
    let subs = subtests(&results_yml(&hosts));
    for i in 0..2 {
        assert_eq!(hosts.test_processes(i), Vec::<String>::new(), "host {i}");
    }
    assert_eq!(subs.len(), 3, "{subs:?}");
    assert!(subs.iter().all(|(_, s)| s == "PASS"), "{subs:?}");
}

#[test]
fn master_killed_mid_step_leaves_no_process_and_the_next_run_cleans_up() {
    let Some(hosts) = support::hosts(2) else {
        return;
    };
    let marker = "lutf-faults-hold";
    let mut child = hosts
        .lutf_run(
            &suites(),
            &[
                "--suite",
                "faults",
                "--only",
                "01,02",
                "--param",
                &format!("marker={}/{marker}", hosts.hosts[1].node_tmp.display()),
            ],
        )
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let seen = hosts.hosts[1].tmp.join(marker);
    wait_for(&seen, &mut child, "node2 held");
    let pids: Vec<i32> = std::fs::read_to_string(&seen)
        .unwrap()
        .split_whitespace()
        .map(|p| p.parse().unwrap())
        .collect();
    assert_eq!(pids.len(), 2);
    assert!(pids.iter().all(|&p| process_alive(p)), "{pids:?}");
    let master = child.id();
    child.kill().unwrap(); // SIGKILL
    child.wait().unwrap();
    let t0 = Instant::now();

    // The step and its grandchild stop by themselves: their owner connection is gone.
    while pids.iter().any(|&p| process_alive(p)) {
        // Generous bound (no hang): the supervisor looks every 250 ms, then 2 s of grace.
        assert!(
            t0.elapsed() < Duration::from_secs(30),
            "step processes {pids:?} still run after the master died"
        );
        std::thread::sleep(Duration::from_millis(20));
    }
    let gone = t0.elapsed();
    eprintln!(
        "FAULT-TIMING master SIGKILL: the step and its grandchild on node2 were gone {:.3} s after the master died",
        gone.as_secs_f64()
    );
    // It was the supervisor that stopped them, seeing lutf's connection gone.
    let jobs = hosts.node_workdir(1).join("jobs");
    let orphaned = std::fs::read_dir(&jobs)
        .unwrap()
        .filter_map(Result::ok)
        .filter(|e| e.path().join("orphaned").exists())
        .count();
    assert_eq!(orphaned, 1, "{}", jobs.display());
    // Soon no test process at all is left on either host (a helper call of the dead
    // master that waited on the step returns once the step ended).
    let left = || {
        (0..2)
            .flat_map(|i| hosts.test_processes(i))
            .collect::<Vec<_>>()
    };
    while !left().is_empty() {
        // Generous bound (no hang).
        assert!(t0.elapsed() < Duration::from_secs(30), "{:?}", left());
        std::thread::sleep(Duration::from_millis(20));
    }
    eprintln!(
        "FAULT-TIMING master SIGKILL: no lutf process on any host {:.3} s after the master died",
        t0.elapsed().as_secs_f64()
    );

    // The dead run's results.yml is whole and holds the finished test.
    let subs = subtests(&results_yml(&hosts));
    assert_eq!(subs, [("test_01".to_string(), "PASS".to_string())]);
    assert_eq!(
        find_test(&run_json(&hosts.results()), "01").status,
        Status::Pass
    );

    // Its control folder is left behind, and the next run removes it.
    let stale = control_dirs_of(master);
    assert!(!stale.is_empty(), "no control folder of pid {master}");
    let out = hosts
        .lutf_run(&suites(), &["--suite", "faults", "--only", "01"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(0), "{}", show(&out));
    for d in &stale {
        assert!(!d.exists(), "{} still there", d.display());
    }
}

#[test]
fn sigint_while_deploying_exits_130_and_the_next_run_works() {
    let Some(hosts) = support::hosts(2) else {
        return;
    };
    // A suite with 64 MiB that does not compress: deploying it takes a while.
    let big = tempfile::tempdir().unwrap();
    let suite = big.path().join("faults");
    std::fs::create_dir(&suite).unwrap();
    std::fs::copy(suites().join("faults/test_01.py"), suite.join("test_01.py")).unwrap();
    let mut data = vec![0u8; 64 << 20];
    let mut x: u64 = 0x9e37_79b9_7f4a_7c15;
    for chunk in data.chunks_mut(8) {
        // xorshift: cheap bytes that do not compress
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        chunk.copy_from_slice(&x.to_le_bytes());
    }
    std::fs::write(suite.join("blob.bin"), &data).unwrap();
    drop(data);

    let mut child = hosts
        .lutf_run(big.path(), &["--suite", "faults"])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    // Deploying: a `.tmp-*` folder is being filled on a node.
    let t0 = Instant::now();
    let deploying = || {
        (0..2).any(|i| {
            std::fs::read_dir(hosts.node_workdir(i)).is_ok_and(|d| {
                d.filter_map(Result::ok)
                    .any(|e| e.file_name().to_string_lossy().starts_with(".tmp-"))
            })
        })
    };
    while !deploying() {
        if let Some(status) = child.try_wait().unwrap() {
            let out = child.wait_with_output().unwrap();
            panic!("lutf ended ({status}) before deploying: {}", show(&out));
        }
        assert!(
            t0.elapsed() < Duration::from_secs(60),
            "never saw a deployment"
        );
        std::thread::sleep(Duration::from_millis(2));
    }
    // SAFETY: kill on our own child.
    unsafe { libc::kill(child.id() as i32, libc::SIGINT) };
    let t1 = Instant::now();
    let out = child.wait_with_output().unwrap();
    let took = t1.elapsed();
    eprintln!(
        "FAULT-TIMING SIGINT while deploying: lutf exited {:?} {:.3} s after the signal",
        out.status.code(),
        took.as_secs_f64()
    );
    assert_eq!(out.status.code(), Some(130), "{}", show(&out));
    assert!(
        String::from_utf8_lossy(&out.stderr).contains("interrupted while setting up the nodes"),
        "{}",
        show(&out)
    );
    // Generous bound (no hang): nothing waits for the nodes.
    assert!(took < Duration::from_secs(10), "{took:?}");

    // The next run deploys again and passes; no half-sent folder is left.
    let out = hosts
        .lutf_run(big.path(), &["--suite", "faults"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(0), "{}", show(&out));
    assert_eq!(
        find_test(&run_json(&hosts.results()), "01").status,
        Status::Pass
    );
    for i in 0..2 {
        let left: Vec<String> = std::fs::read_dir(hosts.node_workdir(i))
            .unwrap()
            .filter_map(Result::ok)
            .map(|e| e.file_name().to_string_lossy().into_owned())
            .filter(|n| n.starts_with(".tmp-"))
            .collect();
        assert!(left.is_empty(), "node{}: {left:?}", i + 1);
        assert_eq!(hosts.test_processes(i), Vec::<String>::new(), "host {i}");
    }
}
