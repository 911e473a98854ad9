//! Interrupting `lutf run` during a step that runs on two real sshd hosts (see `support`):
//!
//! - one SIGINT: the steps are stopped on both hosts, the cleanup runs on both, the test
//!   FAILs with "interrupted", the next test is not run, results.yml is valid, exit 130;
//! - a second SIGINT while the cleanup hangs: lutf kills the jobs on both hosts at once
//!   (with SIGKILL: the cleanup never marks its end, as it would when stopped at its bound
//!   with SIGTERM) and exits 130, results.yml still valid.
//!
//! Either way no process of the test is left on any host: every one of them (the helper's
//! supervisors and the Python runners, through the work directory's name, and the steps'
//! own `sleep`s) carries a marker in its command line, looked for in `/proc` (the hosts
//! have their own network and mount namespaces, not their own process ids).
//!
//! Timing assertions here are generous upper bounds that only prove "it did not hang".

mod support;

use std::os::unix::fs::PermissionsExt;
use std::path::PathBuf;
use std::process::{Child, Output, Stdio};
use std::time::{Duration, Instant};

use lutf::outcome::{RunOutcome, Status};
use lutf::protocol::FailureKind;
use support::{show, Mode, TestHosts};

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

fn unique() -> String {
    format!(
        "{}{}",
        std::process::id(),
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap()
            .subsec_nanos()
    )
}

/// Live (not zombie) processes whose command line contains `needle`.
fn processes_with(needle: &str) -> Vec<(u32, String)> {
    let mut found = Vec::new();
    for entry in std::fs::read_dir("/proc").unwrap().flatten() {
        let Ok(pid) = entry.file_name().to_string_lossy().parse::<u32>() else {
            continue;
        };
        let Ok(cmdline) = std::fs::read(entry.path().join("cmdline")) else {
            continue;
        };
        let cmdline = String::from_utf8_lossy(&cmdline).replace('\0', " ");
        let stat = std::fs::read_to_string(entry.path().join("stat")).unwrap_or_default();
        let zombie = stat
            .rsplit_once(')')
            .is_some_and(|(_, rest)| rest.trim_start().starts_with('Z'));
        if cmdline.contains(needle) && !zombie && pid != std::process::id() {
            found.push((pid, cmdline));
        }
    }
    found
}

/// Waits up to `secs` for no process to carry `needle`; returns those still there.
fn wait_gone(needle: &str, secs: u64) -> Vec<(u32, String)> {
    let until = Instant::now() + Duration::from_secs(secs);
    loop {
        let left = processes_with(needle);
        if left.is_empty() || Instant::now() >= until {
            return left;
        }
        std::thread::sleep(Duration::from_millis(50));
    }
}

/// Where the steps write their marks: the folder as the nodes see it, and as each host's
/// is seen from here. Netns hosts have a private `/tmp` each; loopback hosts share this
/// machine's, so a folder of the test's own serves them all (marks carry the node's name).
fn mark_dirs(hosts: &TestHosts) -> (String, Vec<PathBuf>) {
    match hosts.mode {
        Mode::Netns { .. } => (
            "/tmp".into(),
            hosts.hosts.iter().map(|h| h.tmp.clone()).collect(),
        ),
        Mode::Loopback => {
            let dir = hosts.dir.path().join("marks");
            std::fs::create_dir_all(&dir).unwrap();
            std::fs::set_permissions(&dir, std::fs::Permissions::from_mode(0o1777)).unwrap();
            (
                dir.display().to_string(),
                hosts.hosts.iter().map(|_| dir.clone()).collect(),
            )
        }
    }
}

/// One run of the `hold` fixture suite on the hosts, everything marked with `m`.
struct HoldRun {
    m: String,
    /// Each host's mark folder, seen from here.
    marks: Vec<PathBuf>,
    child: Option<Child>,
}

impl HoldRun {
    fn start(hosts: &TestHosts, extra: &[String]) -> HoldRun {
        let m = unique();
        let (node_marks, marks) = mark_dirs(hosts);
        // Each node's work directory names every helper process after the marker.
        let mut cluster = String::from("nodes:\n");
        for h in &hosts.hosts {
            cluster.push_str(&format!(
                "  - name: {}\n    workdir: {}/lutf-w-{m}\n",
                h.name,
                h.node_tmp.display()
            ));
        }
        let cluster_file = hosts.dir.path().join(format!("cluster-{m}.yml"));
        std::fs::write(&cluster_file, cluster).unwrap();
        let extra: Vec<String> = extra
            .iter()
            .map(|e| e.replace("{m}", &m).replace("{marks}", &node_marks))
            .collect();
        let mut c = hosts.lutf();
        c.arg("run")
            .arg("--cluster")
            .arg(&cluster_file)
            .arg("--suites")
            .arg(root().join("tests/fixtures/runner-suites"))
            .args(["--suite", "hold", "--results"])
            .arg(hosts.dir.path().join("results"))
            // A string, as every --param is: `sleep` gets its digits as written.
            .arg(format!("--param=marker=300.{m}"))
            .arg(format!("--param=held={node_marks}/lutf-held-{m}"))
            .args(extra)
            .current_dir(hosts.dir.path())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped());
        let child = c.spawn().expect("start lutf");
        HoldRun {
            m,
            marks,
            child: Some(child),
        }
    }

    /// Host `i`'s mark `<name>-<m><suffix>.node<i+1>`, seen from here.
    fn mark(&self, i: usize, name: &str, suffix: &str) -> PathBuf {
        self.marks[i].join(format!("{name}-{}{suffix}.node{}", self.m, i + 1))
    }

    fn child(&mut self) -> &mut Child {
        self.child.as_mut().unwrap()
    }

    /// Waits until every host has its mark `<name>-<m>.<node>`.
    fn wait_marks(&mut self, name: &str) {
        let t0 = Instant::now();
        for i in 0..self.marks.len() {
            let mark = self.mark(i, name, "");
            while !mark.exists() {
                if let Some(status) = self.child().try_wait().unwrap() {
                    let out = self.child.take().unwrap().wait_with_output().unwrap();
                    panic!(
                        "lutf ended ({status}) before {}: {}",
                        mark.display(),
                        show(&out)
                    );
                }
                assert!(
                    t0.elapsed() < Duration::from_secs(60),
                    "{} never appeared",
                    mark.display()
                );
                std::thread::sleep(Duration::from_millis(20));
            }
        }
    }

    fn sigint(&mut self) {
        let pid = self.child().id() as i32;
        // SAFETY: plain kill(2) on our own child.
        assert_eq!(unsafe { libc::kill(pid, libc::SIGINT) }, 0);
    }

    fn finish(&mut self) -> Output {
        let t0 = Instant::now();
        while self.child().try_wait().unwrap().is_none() {
            assert!(t0.elapsed() < Duration::from_secs(60), "lutf did not stop");
            std::thread::sleep(Duration::from_millis(20));
        }
        self.child.take().unwrap().wait_with_output().unwrap()
    }
}

impl Drop for HoldRun {
    fn drop(&mut self) {
        if let Some(mut c) = self.child.take() {
            let _ = c.kill();
            let _ = c.wait();
        }
    }
}

fn results_yml(hosts: &TestHosts) -> serde_yaml::Value {
    let path = hosts.dir.path().join("results/latest/results.yml");
    let text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    serde_yaml::from_str(&text).unwrap_or_else(|e| panic!("results.yml is not YAML: {e}\n{text}"))
}

/// The SubTests of suite `hold`, as (name, status, error); none when it has no entry.
fn hold_subtests(yml: &serde_yaml::Value) -> Vec<(String, String, String)> {
    assert!(yml["TestGroup"]["test_group"].is_string(), "{yml:?}");
    // `Tests:` with nothing under it (null) until a test ends, as auster writes it.
    let tests = match &yml["Tests"] {
        serde_yaml::Value::Null => return Vec::new(),
        t => t.as_sequence().expect("Tests is a list"),
    };
    let Some(entry) = tests.iter().find(|t| t["name"].as_str() == Some("hold")) else {
        return Vec::new();
    };
    entry["SubTests"]
        .as_sequence()
        .expect("SubTests is a list")
        .iter()
        .map(|s| {
            let text = |k: &str| s[k].as_str().unwrap_or_default().to_string();
            (text("name"), text("status"), text("error"))
        })
        .collect()
}

fn run_json(hosts: &TestHosts) -> RunOutcome {
    let path = hosts.dir.path().join("results/latest/run.json");
    serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap()
}

#[test]
fn ctrl_c_during_a_two_host_step_stops_it_everywhere_and_cleans_up() {
    let Some(hosts) = support::hosts(2) else {
        return;
    };
    let mut run = HoldRun::start(&hosts, &["--param=tidied={marks}/lutf-tidied-{m}".into()]);
    run.wait_marks("lutf-held");
    let sleeps = processes_with(&format!("sleep 300.{}", run.m));
    assert_eq!(sleeps.len(), 2, "a holding sleep per host: {sleeps:?}");

    run.sigint();
    let out = run.finish();
    assert_eq!(out.status.code(), Some(130), "{}", show(&out));
    let left = wait_gone(&run.m, 20);
    assert!(left.is_empty(), "left running: {left:?}\n{}", show(&out));

    let subs = hold_subtests(&results_yml(&hosts));
    assert_eq!(subs.len(), 1, "test_02 did not run: {subs:?}");
    assert_eq!(
        subs[0],
        ("test_01".into(), "FAIL".into(), "interrupted".into())
    );
    let rj = run_json(&hosts);
    assert!(rj.interrupted);
    let t = rj.tests().next().unwrap();
    for node in ["node1", "node2"] {
        let step = |name: &str| {
            t.steps
                .iter()
                .find(|s| s.name == format!("{name}@{node}"))
                .unwrap_or_else(|| panic!("no step {name}@{node}: {t:?}"))
        };
        assert_eq!(
            step("hold").failure.as_ref().map(|f| f.kind),
            Some(FailureKind::Interrupted)
        );
        assert_eq!(step("tidy").status, Status::Pass, "cleanup ran on {node}");
    }
    for i in 0..hosts.hosts.len() {
        let tidied = run.mark(i, "lutf-tidied", "");
        assert!(tidied.exists(), "{} (cleanup's mark)", tidied.display());
    }
}

fn check_no_leftover(m: &str, out: &Output) {
    let left = wait_gone(m, 20);
    assert!(left.is_empty(), "left running: {left:?}\n{}", show(out));
}

#[test]
fn a_second_ctrl_c_kills_the_hanging_cleanup_on_every_host_and_quits() {
    let Some(hosts) = support::hosts(2) else {
        return;
    };
    let mut run = HoldRun::start(
        &hosts,
        &[
            "--param=hang_cleanup=true".into(),
            "--param=tidying={marks}/lutf-tidying-{m}".into(),
        ],
    );
    run.wait_marks("lutf-held");
    run.sigint();
    // The steps are stopped; the cleanup starts on both hosts, and hangs.
    run.wait_marks("lutf-tidying");
    run.sigint();
    let out = run.finish();
    assert_eq!(out.status.code(), Some(130), "{}", show(&out));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("interrupted again"), "{}", show(&out));
    // Killed by the last kill (grace 0), one cleanup job per host.
    check_no_leftover(&run.m, &out);
    // Killed outright (SIGKILL: the last kill's grace 0) on both hosts: stopped any other
    // way — SIGTERM at the cleanup's bound — the step would have marked its end.
    for (i, h) in hosts.hosts.iter().enumerate() {
        let ended = h
            .tmp
            .join(format!("lutf-tidying-{}-ended.node{}", run.m, i + 1));
        assert!(
            !ended.exists(),
            "{} exists\n{}",
            ended.display(),
            show(&out)
        );
    }
    // The results hold every test that ended before lutf quit: the one cut short is in
    // them, FAIL "interrupted", when killing its cleanup let it end first; else none is.
    let subs = hold_subtests(&results_yml(&hosts));
    assert!(
        subs.is_empty() || subs == [("test_01".into(), "FAIL".into(), "interrupted".into())],
        "{subs:?}"
    );
    assert!(
        err.contains("(interrupted)") && err.contains("not run: "),
        "the summary is printed: {}",
        show(&out)
    );
}
