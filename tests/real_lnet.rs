//! The real-LNet group: lutf against LNet and Lustre built from Lustre's source and booted
//! in emulated guests by `scripts/lnet-vms`, reached over SSH as a real cluster is.
//!
//! `scripts/test` brings the guests up (two testbeds of 4 guests with 2 NICs, one of 2
//! guests with 3 NICs), names their folders in `LUTF_LNET_VMS` (separated by `:`), runs
//! this group on its own with a test thread per testbed (it is not part of `cargo test
//! --workspace`: `test = false` in Cargo.toml; `cargo test --test real_lnet` runs it) and
//! takes the guests down afterwards. Without it
//! every test here SKIPs with that reason; in CI (`CI=true`), which always has the Lustre
//! source, it FAILs instead. A test borrows a whole testbed and changes LNet on its guests,
//! so tests run side by side only as far as there are testbeds; each test starts from LNet
//! unconfigured on every guest.

mod support;

use std::ops::Deref;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::sync::{Condvar, Mutex, OnceLock};
use std::time::{Duration, Instant};

use lutf::outcome::{RunOutcome, Status};
use serde_json::Value;
use support::show;

/// The guests of a testbed, as `scripts/lnet-vms up` described them in `state.json`.
struct Testbed {
    dir: PathBuf,
    /// Per guest: its name and its address on each NIC (eth0, eth1, ...).
    guests: Vec<(String, Vec<String>)>,
}

/// The testbeds of `LUTF_LNET_VMS`, lent to one test at a time each.
struct Pool {
    free: Mutex<Vec<Testbed>>,
    returned: Condvar,
    /// The shape (guests, NICs each) of every testbed, free or lent.
    shapes: Vec<(usize, usize)>,
}

/// A testbed lent to the running test; back to the pool when dropped (a failed test too:
/// the next test resets what it needs).
struct Lease(Option<Testbed>);

impl Deref for Lease {
    type Target = Testbed;
    fn deref(&self) -> &Testbed {
        self.0.as_ref().unwrap()
    }
}

impl Drop for Lease {
    fn drop(&mut self) {
        let pool = POOL.get().and_then(Option::as_ref).unwrap();
        let mut free = pool.free.lock().unwrap_or_else(|e| e.into_inner());
        free.push(self.0.take().unwrap());
        pool.returned.notify_all();
    }
}

static POOL: OnceLock<Option<Pool>> = OnceLock::new();

/// The shape most tests need: four guests (a client, two routers, a server), two NICs each.
const FOUR_BY_TWO: (usize, usize) = (4, 2);

/// A testbed of four guests with two NICs for the calling test; see [`testbed_of`].
fn testbed() -> Option<Lease> {
    testbed_of(FOUR_BY_TWO)
}

/// A testbed of its own for the calling test with exactly `guests` guests and at least
/// `nics` NICs each (waiting for one to be free), or None after printing why the group or
/// the test is skipped (a panic in CI).
fn testbed_of((guests, nics): (usize, usize)) -> Option<Lease> {
    let pool = POOL.get_or_init(|| {
        let dirs = std::env::var("LUTF_LNET_VMS").unwrap_or_default();
        let beds: Vec<Testbed> = std::env::split_paths(&dirs)
            .filter(|d| !d.as_os_str().is_empty())
            .map(|d| Testbed::load(&d))
            .collect();
        (!beds.is_empty()).then(|| Pool {
            shapes: beds.iter().map(Testbed::shape).collect(),
            free: Mutex::new(beds),
            returned: Condvar::new(),
        })
    });
    let fits = |(g, n): (usize, usize)| g == guests && n >= nics;
    let why = match pool {
        None => Some(
            "no LNet testbed: scripts/test boots them from Lustre's source \
             (../shared/lustre or LUSTRE_SRC) and names them in LUTF_LNET_VMS"
                .to_string(),
        ),
        Some(p) if !p.shapes.iter().any(|s| fits(*s)) => Some(format!(
            "no testbed of {guests} guests with {nics} NICs in LUTF_LNET_VMS (scripts/test \
             boots one: `scripts/lnet-vms up {guests} DIR --nics {nics}`)"
        )),
        Some(_) => None,
    };
    if let Some(why) = why {
        assert!(
            std::env::var("CI").as_deref() != Ok("true"),
            "the real-LNet group must run in CI: {why}"
        );
        eprintln!("SKIP: {why}");
        return None;
    }
    let pool = pool.as_ref().unwrap();
    let mut free = pool.free.lock().unwrap_or_else(|e| e.into_inner());
    loop {
        if let Some(i) = free.iter().position(|b| fits(b.shape())) {
            return Some(Lease(Some(free.swap_remove(i))));
        }
        free = pool.returned.wait(free).unwrap_or_else(|e| e.into_inner());
    }
}

impl Testbed {
    /// How many guests, and how many NICs the one with fewest has.
    fn shape(&self) -> (usize, usize) {
        let nics = self.guests.iter().map(|g| g.1.len()).min().unwrap_or(0);
        (self.guests.len(), nics)
    }

    /// The testbed `scripts/lnet-vms up` made in `dir`.
    fn load(dir: &Path) -> Testbed {
        let state: Value = serde_json::from_slice(
            &std::fs::read(dir.join("state.json"))
                .unwrap_or_else(|e| panic!("{}/state.json: {e}", dir.display())),
        )
        .unwrap();
        let guests = state["guests"]
            .as_array()
            .unwrap()
            .iter()
            .map(|g| {
                let nids = g["nids"].as_array().unwrap();
                (
                    g["name"].as_str().unwrap().to_string(),
                    nids.iter()
                        .map(|n| n.as_str().unwrap().to_string())
                        .collect(),
                )
            })
            .collect();
        Testbed {
            dir: dir.to_path_buf(),
            guests,
        }
    }

    fn cluster(&self) -> PathBuf {
        self.dir.join("cluster.yaml")
    }

    /// Guest `i`'s (0-based) address on NIC `nic`.
    fn ip(&self, i: usize, nic: usize) -> &str {
        &self.guests[i].1[nic]
    }

    fn name(&self, i: usize) -> &str {
        &self.guests[i].0
    }

    /// `lutf ARGS --cluster <testbed>`, with the helper's kept connections off.
    fn lutf(&self, args: &[&str]) -> Output {
        // The cluster first: `exec`'s command ends the line.
        Command::new(env!("CARGO_BIN_EXE_lutf"))
            .arg("--cluster")
            .arg(self.cluster())
            .args(args)
            .output()
            .unwrap()
    }

    /// `lutf lnet --node NODE OP ... --format json` on guest `i`; its answer, which must
    /// have succeeded.
    fn lnet(&self, i: usize, args: &[&str]) -> Value {
        let out = self.lnet_output(i, args);
        assert!(out.status.success(), "lutf lnet {args:?}: {}", show(&out));
        let text = String::from_utf8_lossy(&out.stdout);
        if text.trim().is_empty() {
            return Value::Null;
        }
        let v: Value = serde_json::from_str(&text).unwrap_or_else(|e| panic!("{e}: {text}"));
        // With nodes named, the answer is keyed by node.
        v[self.name(i)].clone()
    }

    fn lnet_output(&self, i: usize, args: &[&str]) -> Output {
        let mut all = vec!["lnet", "--node", self.name(i), "--format", "json"];
        all.extend_from_slice(args);
        self.lutf(&all)
    }

    /// A shell command on guest `i` over the testbed's ssh configuration.
    fn sh(&self, i: usize, script: &str) -> Output {
        Command::new("ssh")
            .arg("-F")
            .arg(self.dir.join("ssh_config"))
            .args(["-o", "BatchMode=yes", self.name(i), script])
            .output()
            .unwrap()
    }

    /// Every guest back to LNet loaded and unconfigured (selftest unloaded first: LNet
    /// will not unconfigure under it).
    fn reset(&self) {
        let out = self.lutf(&[
            "exec",
            "--",
            "sh",
            "-c",
            "rmmod lnet_selftest 2>/dev/null; lnetctl lnet unconfigure 2>/dev/null; \
             modprobe lnet && lnetctl lnet configure",
        ]);
        assert!(out.status.success(), "reset: {}", show(&out));
    }

    /// LNet configured on guest `i` with `net` on each of `nics`.
    fn net(&self, i: usize, net: &str, nics: &[usize]) {
        for nic in nics {
            self.lnet(i, &["add-ni", "--net", net, "--if", &format!("eth{nic}")]);
        }
    }
}

/// The NIDs a `show-net` answer lists, `0@lo` left out.
fn nids(shown: &Value) -> Vec<String> {
    let mut out = Vec::new();
    for net in shown["net"].as_array().into_iter().flatten() {
        for ni in net["local NI(s)"].as_array().into_iter().flatten() {
            if let Some(nid) = ni["nid"].as_str().filter(|n| *n != "0@lo") {
                out.push(nid.to_string());
            }
        }
    }
    out.sort();
    out
}

fn stdout(o: &Output) -> String {
    String::from_utf8_lossy(&o.stdout).into_owned()
}

/// Runs `f` until it returns true or `limit` passes (routes come up when the router's
/// first ping is answered); the last attempt's verdict.
fn eventually(limit: Duration, mut f: impl FnMut() -> bool) -> bool {
    let start = Instant::now();
    loop {
        if f() {
            return true;
        }
        if start.elapsed() > limit {
            return false;
        }
        std::thread::sleep(Duration::from_secs(2));
    }
}

#[test]
fn status_shows_the_nids_of_a_configured_lnet() {
    let Some(bed) = testbed() else { return };
    bed.reset();
    bed.net(0, "tcp", &[0]);
    let out = bed.lutf(&["status", "--nodes", bed.name(0)]);
    assert!(out.status.success(), "{}", show(&out));
    let expected = format!("configured: {}@tcp", bed.ip(0, 0));
    assert!(stdout(&out).contains(&expected), "{}", show(&out));
    // Loaded but unconfigured is said so, not taken for an absent LNet.
    let out = bed.lutf(&["status", "--nodes", bed.name(1)]);
    assert!(
        stdout(&out).contains("loaded, not configured"),
        "{}",
        show(&out)
    );
}

#[test]
fn the_lnet_operations_of_the_docs_work_on_a_real_lnet() {
    let Some(bed) = testbed() else { return };
    bed.reset();
    bed.net(0, "tcp", &[0]);
    bed.net(1, "tcp", &[0]);
    let (me, peer) = (
        format!("{}@tcp", bed.ip(0, 0)),
        format!("{}@tcp", bed.ip(1, 0)),
    );

    // show-net: the NI just added, up, on its interface.
    let shown = bed.lnet(0, &["show-net", "-v"]);
    assert_eq!(nids(&shown), vec![me.clone()], "{shown}");
    let tcp = &shown["net"].as_array().unwrap()[1]["local NI(s)"][0];
    assert_eq!(tcp["status"], "up", "{shown}");
    assert_eq!(tcp["interfaces"]["0"], "eth0", "{shown}");

    // ping: both paths answer the same tree for a peer that answers, and the same errno
    // for one that does not.
    let library = bed.lnet(0, &["ping", &peer]);
    let lnetctl = bed.lnet(0, &["lnetctl", "--", "ping", &peer]);
    assert_eq!(library["ping"], lnetctl["ping"], "{library} {lnetctl}");
    assert_eq!(library["ping"][0]["primary nid"], peer.as_str());
    // Each path pings an address of its own that nobody has (a second ping of the same
    // one meets the peer state the first left, and may end otherwise).
    let nobody = |host: u8| format!("{}.{host}@tcp", bed.ip(0, 0).rsplit_once('.').unwrap().0);
    let a = bed.lnet_output(0, &["ping", &nobody(99)]);
    let b = bed.lnet_output(0, &["lnetctl", "--", "ping", &nobody(98)]);
    assert!(!a.status.success() && !b.status.success());
    let (a, b) = (show(&a), show(&b));
    // LNet's errno for a peer that does not answer: no route to host (ARP gave up), or a
    // timeout or I/O error when the ping's own deadline came first (a loaded machine). The
    // library's rc -22 must not be what the user sees.
    let unreachable = |text: &str| {
        ["errno -113", "errno -110", "errno -5"]
            .iter()
            .any(|e| text.contains(e))
    };
    assert!(unreachable(&a) && unreachable(&b), "{a}\n{b}");

    // The ping made vm2 a peer, with counters that moved.
    let peers = bed.lnet(0, &["show-peer", "-v"]);
    assert!(peers.to_string().contains(&peer), "{peers}");
    let stats = bed.lnet(0, &["show-stats"]);
    assert!(
        stats["statistics"]["send_count"].as_u64().unwrap() > 0,
        "{stats}"
    );

    // Global settings, read back through show.
    assert_eq!(bed.lnet(0, &["set", "retry_count", "2"]), Value::Null);
    let g = bed.lnet(0, &["show-global"]);
    assert_eq!(g["global"]["retry_count"], 2, "{g}");

    // Discovery: the peer's NIDs, Multi-Rail as lnetctl says it.
    let d = bed.lnet(0, &["discover", &peer]);
    assert_eq!(d["discover"][0]["primary nid"], peer.as_str(), "{d}");
    assert!(d["discover"][0]["Multi-Rail"].is_boolean(), "{d}");

    // import: a second net from YAML; del-ni takes it away again.
    let yaml = std::env::temp_dir().join(format!("lutf-real-lnet-{}.yaml", std::process::id()));
    std::fs::write(
        &yaml,
        "net:\n    - net type: tcp1\n      local NI(s):\n        - interfaces:\n              0: eth1\n",
    )
    .unwrap();
    bed.lnet(0, &["import", yaml.to_str().unwrap()]);
    let _ = std::fs::remove_file(&yaml);
    let with_tcp1 = nids(&bed.lnet(0, &["show-net"]));
    assert!(
        with_tcp1.contains(&format!("{}@tcp1", bed.ip(0, 1))),
        "{with_tcp1:?}"
    );
    bed.lnet(0, &["del-ni", "--net", "tcp1"]);
    assert_eq!(nids(&bed.lnet(0, &["show-net"])), vec![me]);

    // UDSP: a rule added is shown, deleted is gone.
    bed.lnet(0, &["add-udsp", "--src", "tcp", "--priority", "1"]);
    let rules = bed.lnet(0, &["show-udsp"]);
    assert!(rules.to_string().contains("tcp"), "{rules}");
    bed.lnet(0, &["del-udsp", "--idx", "0"]);
    let rules = bed.lnet(0, &["show-udsp"]);
    assert!(!rules.to_string().contains("\"tcp\""), "{rules}");

    // Any lnetctl command, its output parsed.
    let export = bed.lnet(0, &["lnetctl", "--", "export", "--backup"]);
    assert!(export.to_string().contains("eth0"), "{export}");
}

#[test]
fn routes_through_a_router_guest_carry_pings() {
    let Some(bed) = testbed() else { return };
    bed.reset();
    // vm1 on tcp (eth0), vm3 on tcp1 (eth1), vm2 routes between them.
    bed.net(0, "tcp", &[0]);
    bed.net(1, "tcp", &[0]);
    bed.net(1, "tcp1", &[1]);
    bed.net(2, "tcp1", &[1]);
    bed.lnet(1, &["routing", "on"]);
    let routing = bed.lnet(1, &["show-routing"]);
    assert!(routing.to_string().contains("enable"), "{routing}");
    let gw_tcp = format!("{}@tcp", bed.ip(1, 0));
    let gw_tcp1 = format!("{}@tcp1", bed.ip(1, 1));
    bed.lnet(
        0,
        &[
            "add-route",
            "--net",
            "tcp1",
            "--gateway",
            &gw_tcp,
            "--hops",
            "1",
        ],
    );
    bed.lnet(2, &["add-route", "--net", "tcp", "--gateway", &gw_tcp1]);
    let routes = bed.lnet(0, &["show-route", "-v"]);
    assert_eq!(routes["route"][0]["gateway"], gw_tcp.as_str(), "{routes}");
    assert_eq!(routes["route"][0]["hop"], 1, "{routes}");
    // The far NID answers through the router once the route is up.
    let far = format!("{}@tcp1", bed.ip(2, 1));
    let answered = eventually(Duration::from_secs(180), || {
        bed.lnet_output(0, &["ping", &far]).status.success()
    });
    assert!(answered, "{far} never answered through {gw_tcp}");
    // The route's state follows the router checker's pings of the gateway.
    let up = eventually(Duration::from_secs(180), || {
        bed.lnet(0, &["show-route", "-v"])["route"][0]["state"] == "up"
    });
    assert!(up, "{}", bed.lnet(0, &["show-route", "-v"]));
    bed.lnet(0, &["del-route", "--net", "tcp1", "--gateway", &gw_tcp]);
    let routes = bed.lnet(0, &["show-route"]);
    assert!(
        routes["route"].as_array().is_none_or(|r| r.is_empty()),
        "{routes}"
    );
}

#[test]
fn an_lst_brw_session_between_two_guests_moves_data() {
    let Some(bed) = testbed() else { return };
    bed.reset();
    bed.net(0, "tcp", &[0]);
    bed.net(1, "tcp", &[0]);
    for i in 0..2 {
        let out = bed.sh(i, "modprobe lnet_selftest");
        assert!(out.status.success(), "{}", show(&out));
    }
    let (c, s) = (
        format!("{}@tcp", bed.ip(0, 0)),
        format!("{}@tcp", bed.ip(1, 0)),
    );
    let session = bed.lnet(0, &["lst", "new-session", "--timeout", "100", "rw"]);
    assert!(session.to_string().contains("rw"), "{session}");
    bed.lnet(0, &["lst", "add-group", "clients", &c]);
    bed.lnet(0, &["lst", "add-group", "servers", &s]);
    assert_eq!(bed.lnet(0, &["lst", "add-batch", "bulk_rw"]), Value::Null);
    let added = bed.lnet(
        0,
        &[
            "lst", "add-test", "--batch", "bulk_rw", "--from", "clients", "--to", "servers", "brw",
            "--mode", "write", "--size", "1M",
        ],
    );
    assert_eq!(added, Value::Null, "a checked action prints nothing");
    bed.lnet(0, &["lst", "run", "bulk_rw"]);
    let stat = bed.lnet(
        0,
        &[
            "lst", "stat", "clients", "servers", "--count", "2", "--delay", "3",
        ],
    );
    let text = stat.to_string();
    bed.lnet(0, &["lst", "stop", "bulk_rw"]);
    bed.lnet(0, &["lst", "end-session"]);
    // Some round moved data one way: the servers received, the clients sent.
    let rates: Vec<f64> = stat_numbers(&stat, "avg");
    assert!(rates.iter().any(|r| *r > 0.0), "no traffic: {text}");
}

/// Every number named `key` anywhere in `v`.
fn stat_numbers(v: &Value, key: &str) -> Vec<f64> {
    let mut out = Vec::new();
    match v {
        Value::Object(m) => {
            for (k, v) in m {
                if k == key {
                    if let Some(n) = v.as_f64() {
                        out.push(n);
                    }
                }
                out.extend(stat_numbers(v, key));
            }
        }
        Value::Array(a) => a.iter().for_each(|v| out.extend(stat_numbers(v, key))),
        _ => {}
    }
    out
}

/// `lutf run` of `suite` (from `suites`) on the testbed; its output and run.json (the
/// results folder is kept for a person to read).
fn run_suite(
    bed: &Testbed,
    suites: &Path,
    suite: &str,
    extra: &[&str],
) -> (Output, RunOutcome, PathBuf) {
    let results = tempfile::tempdir().unwrap().keep();
    let mut args = vec![
        "run",
        "--suites",
        suites.to_str().unwrap(),
        "--suite",
        suite,
        "--results",
        results.to_str().unwrap(),
    ];
    args.extend_from_slice(extra);
    let out = bed.lutf(&args);
    eprintln!("{suite}: results in {}", results.display());
    let run = support::run_json(&results);
    (out, run, results.join("latest"))
}

/// (test, verdict, reason) of every test of a run.
fn verdicts(run: &RunOutcome) -> Vec<(String, Status, String)> {
    run.tests()
        .map(|t| {
            (
                format!("{}.{}", t.suite, t.name()),
                t.status,
                t.error.clone(),
            )
        })
        .collect()
}

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

#[test]
fn the_lnet_samples_pass_on_a_real_lnet() {
    let Some(bed) = testbed() else { return };
    bed.reset();
    bed.net(0, "tcp", &[0]);
    let (out, run, _) = run_suite(
        &bed,
        &root().join("suites"),
        "samples",
        &["--only", "09", "--nodes", bed.name(0)],
    );
    let v = verdicts(&run);
    assert_eq!(v.len(), 1, "{}", show(&out));
    assert_eq!(v[0].1, Status::Pass, "{:?}\n{}", v[0], show(&out));
}

#[test]
fn the_toolkit_suite_passes_on_a_real_lnet() {
    let Some(bed) = testbed() else { return };
    let (out, run, _) = run_suite(&bed, &root().join("suites"), "toolkit", &[]);
    let v = verdicts(&run);
    assert_eq!(v.len(), 5, "{}", show(&out));
    let bad: Vec<_> = v.iter().filter(|t| t.1 != Status::Pass).collect();
    assert!(bad.is_empty(), "{bad:#?}\n{}", show(&out));
}

/// The health test shown beside a failed test in one report: it injects faults (drop rules
/// reporting a health status) and must pass.
const HEALTH_FAULT_TEST: &str = "06";

/// Copies into `to` the files of the suite folder `from` that `keep` accepts by name.
fn copy_suite(from: &Path, to: &Path, keep: impl Fn(&str) -> bool) {
    std::fs::create_dir_all(to).unwrap();
    for entry in std::fs::read_dir(from).unwrap() {
        let entry = entry.unwrap();
        let name = entry.file_name().to_string_lossy().into_owned();
        if entry.file_type().unwrap().is_file() && keep(&name) {
            std::fs::copy(entry.path(), to.join(&name)).unwrap();
        }
    }
}

/// One run, one report.html: a health test injecting faults PASSes, and a test failing on
/// purpose after LNet traffic with `+net` debugging brings back each node's Lustre debug
/// log and kernel log, linked from the report.
#[test]
fn a_fault_injecting_health_test_and_a_failed_tests_debug_log_share_one_report() {
    let Some(bed) = testbed() else { return };
    let suites = tempfile::tempdir().unwrap();
    // The health suite's helpers and the one test; --only would pick ids in both suites.
    let health_test = format!("test_{HEALTH_FAULT_TEST}.py");
    copy_suite(
        &root().join("suites/health"),
        &suites.path().join("health"),
        |name| !name.starts_with("test_") || name == health_test,
    );
    copy_suite(
        &root().join("tests/fixtures/suites/toolkit-fail"),
        &suites.path().join("toolkit-fail"),
        |_| true,
    );
    let (out, run, dir) = run_suite(&bed, suites.path(), "health,toolkit-fail", &[]);
    let v = verdicts(&run);
    assert_eq!(v.len(), 2, "{v:?}\n{}", show(&out));
    let health = format!("health.test_{HEALTH_FAULT_TEST}");
    let verdict = |name: &str| {
        v.iter()
            .find(|t| t.0 == name)
            .unwrap_or_else(|| panic!("{name}: {v:?}"))
    };
    assert_eq!(
        verdict(&health).1,
        Status::Pass,
        "{:?}\n{}",
        verdict(&health),
        show(&out)
    );
    let failed = verdict("toolkit-fail.test_01");
    assert_eq!(failed.1, Status::Fail, "{failed:?}");
    assert!(failed.2.contains("on purpose"), "{failed:?}");

    let t = run.tests().find(|t| t.suite == "toolkit-fail").unwrap();
    let kinds: Vec<(&str, &str)> = t
        .node_logs
        .iter()
        .map(|l| (l.node.as_str(), l.kind.as_str()))
        .collect();
    for node in [bed.name(0), bed.name(1)] {
        for kind in ["debug_log", "dmesg"] {
            assert!(kinds.contains(&(node, kind)), "{node} {kind}: {kinds:?}");
        }
    }
    // The files are beside the tests' logs under auster's names, not empty, and linked
    // from the report, which also shows the health test's fault rules in its steps' output.
    let names: Vec<String> = std::fs::read_dir(&dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    let report = std::fs::read_to_string(dir.join("report.html")).unwrap();
    for kind in ["debug_log", "dmesg"] {
        let f = names
            .iter()
            .find(|n| n.starts_with(&format!("toolkit-fail.test_01.{kind}.")))
            .unwrap_or_else(|| panic!("no {kind} file in {names:?}"));
        assert!(
            std::fs::metadata(dir.join(f)).unwrap().len() > 0,
            "{f} is empty"
        );
        assert!(
            report.contains(&format!("href=\"{f}\"")),
            "report.html lacks a link to {f}"
        );
    }
    for shown in ["--health_error", "fault", "failing on purpose"] {
        assert!(
            report.contains(shown),
            "report.html does not show {shown:?}"
        );
    }
    eprintln!(
        "one report with a health fault test and a failed test's debug log: {}",
        dir.join("report.html").display()
    );
}

/// A SKIP the VMs may give: hardware they lack, an LNet bug Lustre's own suites skip (an
/// always-except entry names its LU ticket), or an LNet bug a suite found and describes
/// (`known LNet bug`: no ticket yet; `--param known_bugs=1` runs the test). Any other SKIP
/// on the VMs is a defect.
fn skip_is_allowed(reason: &str) -> bool {
    [
        "o2ib",
        "NUMA",
        "numa",
        "more memory",
        "LU-",
        "known LNet bug",
    ]
    .iter()
    .any(|r| reason.contains(r))
}

/// Every test of an LNet suite PASSes on the VMs, or SKIPs for a reason it may.
fn lnet_suite_passes(suite: &str) {
    lnet_tests_pass(suite, suite, None, FOUR_BY_TWO);
}

/// Whether CI runs only the part of the long suites it has time for: in CI
/// (`CI=true`) unless `LUTF_LNET_FULL=1`. Everywhere else every test runs.
fn ci_subset() -> bool {
    std::env::var("CI").as_deref() == Ok("true")
        && std::env::var("LUTF_LNET_FULL").as_deref() != Ok("1")
}

/// Every test of `suite` PASSes on the VMs (or SKIPs for a reason it may), under `label` in
/// the times; in CI, where `in_ci` names some, those only (CI's time is bounded; `LUTF_LNET_FULL=1` runs
/// them all there too).
fn lnet_tests_pass(label: &str, suite: &str, in_ci: Option<&[u32]>, shape: (usize, usize)) {
    let Some(bed) = testbed_of(shape) else {
        return;
    };
    let wanted = |n: u32| !ci_subset() || in_ci.map_or(true, |ids| ids.contains(&n));
    // The suite's tests chosen (--only refuses an id no test has).
    let mut ids: Vec<String> = std::fs::read_dir(root().join("suites").join(suite))
        .unwrap()
        .filter_map(|e| {
            let name = e.unwrap().file_name().to_string_lossy().into_owned();
            let n: u32 = name
                .strip_prefix("test_")?
                .strip_suffix(".py")?
                .parse()
                .ok()?;
            wanted(n).then(|| format!("{n:02}"))
        })
        .collect();
    ids.sort();
    let label = if ci_subset() && in_ci.is_some() {
        format!("{label} (CI's part: {})", ids.join(","))
    } else {
        label.to_string()
    };
    let only = ["--only".to_string(), ids.join(",")];
    let only: Vec<&str> = only.iter().map(String::as_str).collect();
    let (out, run, _) = run_suite(&bed, &root().join("suites"), suite, &only);
    let v = verdicts(&run);
    assert!(!v.is_empty(), "{}", show(&out));
    let bad: Vec<_> = v
        .iter()
        .filter(|t| !(t.1 == Status::Pass || (t.1 == Status::Skip && skip_is_allowed(&t.2))))
        .collect();
    assert!(bad.is_empty(), "{bad:#?}\n{}", show(&out));
    let passed = v.iter().filter(|t| t.1 == Status::Pass).count();
    // What the suite costs on the VMs, for the docs (shown with --nocapture).
    let mut slowest: Vec<(f64, &str)> = run.tests().map(|t| (t.duration, t.id.as_str())).collect();
    slowest.sort_by(|a, b| b.0.total_cmp(&a.0));
    let slowest: Vec<String> = slowest
        .iter()
        .take(3)
        .map(|(d, id)| format!("test_{id} {d:.0} s"))
        .collect();
    let line = format!(
        "{label}: {passed} of {} passed in {:.0} s; slowest: {}",
        v.len(),
        run.duration,
        slowest.join(", ")
    );
    eprintln!("{line}");
    // scripts/test prints these lines at its end, for the docs' table of suite times.
    use std::io::Write;
    let mut times = std::fs::OpenOptions::new()
        .create(true)
        .append(true)
        .open(Path::new(env!("CARGO_TARGET_TMPDIR")).join("real-lnet-suites.txt"))
        .unwrap();
    writeln!(times, "{line}").unwrap();
}

#[test]
fn the_dlc_suite_passes_on_a_real_lnet() {
    lnet_suite_passes("dlc");
}

#[test]
fn the_routing_suite_passes_on_a_real_lnet() {
    lnet_suite_passes("routing");
}

#[test]
fn the_dynamic_discovery_suite_passes_on_a_real_lnet() {
    lnet_suite_passes("dynamic-discovery");
}

#[test]
fn the_udsp_suite_passes_on_a_real_lnet() {
    lnet_suite_passes("udsp");
}

/// The multi-rail suite's shape: two guests with three NICs each (three NIs a node).
const MULTI_RAIL: (usize, usize) = (2, 3);

/// One test for the whole suite: its testbed is the only one of its shape, so two parts
/// would only wait for each other while a test thread sat idle. Named to sort before the
/// rest (libtest starts tests in name order): the longest test on a testbed of its own
/// starts at once instead of after the four-guest queue.
#[test]
fn multi_rail_suite_passes_on_a_real_lnet() {
    lnet_tests_pass("multi-rail", "multi-rail", None, MULTI_RAIL);
}

/// The health tests CI runs (its time is bounded): a resend that succeeds, local_error
/// and network_timeout on multi-rail, an NI's health at 0 and its recovery, `net set
/// --health`, fault rules removed; test_06 (single-rail network_timeout) runs in the
/// shared-report test; test_15, a router's view of a client's downed NI (4 PASS in a row
/// after its fix). The rest run outside CI, or with `LUTF_LNET_FULL=1`.
const HEALTH_IN_CI: &[u32] = &[3, 7, 8, 9, 11, 15, 16];

#[test]
fn the_health_suite_passes_on_a_real_lnet() {
    lnet_tests_pass("health", "health", Some(HEALTH_IN_CI), FOUR_BY_TWO);
}

/// The dynamic-nids tests CI runs (each moves a mounted OST's NID, 4-6 min on the VMs):
/// the move with dynamic NIDs on for both sides (I/O continues) and off for both (a write
/// does not get through). The toggle alone (01) and one side only (04, 05) run outside CI,
/// or with `LUTF_LNET_FULL=1`.
const DYNAMIC_NIDS_IN_CI: &[u32] = &[2, 3];

#[test]
fn the_dynamic_nids_suite_passes_on_a_real_lnet() {
    lnet_tests_pass(
        "dynamic-nids",
        "dynamic-nids",
        Some(DYNAMIC_NIDS_IN_CI),
        FOUR_BY_TWO,
    );
}

#[test]
fn the_selftest_suite_passes_on_a_real_lnet() {
    lnet_suite_passes("selftest");
}
