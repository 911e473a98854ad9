//! lutf as an auster suite, end to end: `tests/auster/fake-auster.sh` plays auster's part
//! exactly as auster and yaml.sh do it (results.yml header and Tests entry, TF_SKIP,
//! exported variables, a cfg whose host variables are not exported, `bash lutf.sh` with no
//! arguments, the suite's duration and status after), around the hook script that
//! `lutf auster-hook` generates. Then the whole results.yml is loaded with a YAML parser
//! and lutf's part is checked: one SubTests item per selected test in run order, statuses,
//! whole-second durations, errors, TF_SKIP, exit codes and log names.
//!
//! Real parts only: the real binary, the real helper, real python3, real bash.

mod common;
mod support;

use std::path::{Path, PathBuf};
use std::process::Command;

use common::{fixtures, have_python, root, samples};

macro_rules! need_python {
    () => {
        if !have_python() {
            eprintln!("SKIP: python3 is not installed on this machine");
            return;
        }
    };
}

/// This machine's short hostname, as lutf labels its log files.
fn host_label() -> String {
    let h = lutf::commands::run::hostname();
    lutf::results::safe_file_part(lutf::results::nodes::short_host(&h))
}

/// A cfg like Lustre's cfg/local.sh for one machine: every facet here, the client under
/// another of this machine's names (`localhost`), so that lutf's node name shows the cfg
/// was read: without it the node is called `local`.
const CFG: &str = r#"# lutf test cfg: one machine
mds_HOST=$(hostname)
mgs_HOST=${mgs_HOST:-$mds_HOST}
ost_HOST=$(hostname -s)
CLIENTS=localhost
MDSCOUNT=1
OSTCOUNT=2
NETTYPE=tcp
FAIL_ON_ERROR=${FAIL_ON_ERROR:-true}
"#;

/// One auster installation: `<dir>/lustre/tests/lutf.sh` (the hook `lutf auster-hook`
/// generates, running this binary) and `<dir>/lustre/tests/cfg/lutfcfg.sh`.
struct Auster {
    dir: tempfile::TempDir,
    /// `LUTF_OPTIONS` for the hook: a private work directory, so tests never share one.
    options: String,
}

/// What one auster run left.
struct Outcome {
    code: i32,
    /// results.yml, as text.
    text: String,
    /// results.yml, parsed.
    yml: serde_yaml::Value,
    /// auster's suite log (the hook's output).
    suite_log: String,
    logdir: PathBuf,
}

impl Auster {
    /// An installation whose hook runs lutf on `suites`.
    fn new(suites: &Path) -> Auster {
        let dir = tempfile::tempdir().expect("a temporary folder");
        let options = format!("--workdir {}", dir.path().join("work").display());
        let a = Auster { dir, options };
        std::fs::create_dir_all(a.lustre().join("tests/cfg")).unwrap();
        let out = Command::new(env!("CARGO_BIN_EXE_lutf"))
            .arg("auster-hook")
            .arg("--suites")
            .arg(suites)
            .output()
            .expect("run lutf auster-hook");
        assert!(out.status.success(), "{out:?}");
        std::fs::write(a.lustre().join("tests/lutf.sh"), &out.stdout).unwrap();
        a.cfg(CFG);
        a
    }

    fn lustre(&self) -> PathBuf {
        self.dir.path().join("lustre")
    }

    fn logdir(&self) -> PathBuf {
        self.dir.path().join("logs")
    }

    fn tf_skip(&self) -> PathBuf {
        self.dir.path().join("tf.skip")
    }

    fn tf_fail(&self) -> PathBuf {
        self.dir.path().join("tf.fail")
    }

    /// Replaces the cfg.
    fn cfg(&self, text: &str) {
        std::fs::write(self.lustre().join("tests/cfg/lutfcfg.sh"), text).unwrap();
    }

    /// A command with only what a login shell would have: none of auster's variables
    /// leak in from the test's own environment.
    fn command(&self, program: &str) -> Command {
        let mut c = Command::new(program);
        c.env_clear()
            .env("PATH", std::env::var_os("PATH").unwrap_or_default())
            .env("LC_ALL", "C")
            .env("LUSTRE", self.lustre())
            .env("LUTF_OPTIONS", &self.options)
            .current_dir(self.dir.path());
        for v in ["HOME", "USER"] {
            if let Some(x) = std::env::var_os(v) {
                c.env(v, x);
            }
        }
        c
    }

    /// `auster -f lutfcfg <opts> -D <logdir> lutf <suite opts>`.
    fn run(&self, opts: &[&str], suite_opts: &[&str]) -> Outcome {
        let out = self
            .command("bash")
            .arg(root().join("tests/auster/fake-auster.sh"))
            .args(["-f", "lutfcfg"])
            .args(opts)
            .arg("-D")
            .arg(self.logdir())
            .arg("lutf")
            .args(suite_opts)
            .env("FAKE_TF_SKIP", self.tf_skip())
            .env("FAKE_TF_FAIL", self.tf_fail())
            .output()
            .expect("run fake auster");
        let code = out.status.code().unwrap_or(-1);
        self.outcome(code, &String::from_utf8_lossy(&out.stderr))
    }

    fn outcome(&self, code: i32, stderr: &str) -> Outcome {
        let logdir = self.logdir();
        let yml_path = logdir.join("results.yml");
        let text = std::fs::read_to_string(&yml_path)
            .unwrap_or_else(|e| panic!("{}: {e}\n{stderr}", yml_path.display()));
        let suite_log = std::fs::read_dir(&logdir)
            .unwrap()
            .filter_map(Result::ok)
            .find(|e| {
                e.file_name()
                    .to_string_lossy()
                    .starts_with("lutf.suite_log.")
            })
            .map(|e| std::fs::read_to_string(e.path()).unwrap())
            .unwrap_or_default();
        let yml = serde_yaml::from_str(&text).unwrap_or_else(|e| {
            panic!("results.yml does not load as YAML: {e}\n{text}\n--- suite log\n{suite_log}")
        });
        Outcome {
            code,
            text,
            yml,
            suite_log,
            logdir,
        }
    }
}

/// One SubTests item.
#[derive(Debug)]
struct Sub {
    name: String,
    status: String,
    duration: u64,
    return_code: i64,
    error: String,
}

impl Outcome {
    /// The Tests entry auster wrote for the lutf suite.
    fn entry(&self) -> &serde_yaml::Value {
        let tests = self.yml["Tests"].as_sequence().expect("Tests is a list");
        assert_eq!(tests.len(), 1, "{}", self.text);
        &tests[0]
    }

    /// auster's verdict on the suite.
    fn status(&self) -> &str {
        self.entry()["status"].as_str().unwrap_or_default()
    }

    /// lutf's SubTests, each checked for auster's exact keys in auster's order.
    fn subs(&self) -> Vec<Sub> {
        let subs = &self.entry()["SubTests"];
        if subs.is_null() {
            return Vec::new();
        }
        subs.as_sequence()
            .expect("SubTests is a list")
            .iter()
            .map(|s| {
                let keys: Vec<&str> = s
                    .as_mapping()
                    .unwrap()
                    .keys()
                    .map(|k| k.as_str().unwrap())
                    .collect();
                assert_eq!(keys, ["name", "status", "duration", "return_code", "error"]);
                Sub {
                    name: s["name"].as_str().expect("name").to_string(),
                    status: s["status"].as_str().expect("status").to_string(),
                    duration: s["duration"]
                        .as_u64()
                        .unwrap_or_else(|| panic!("duration is whole seconds: {s:?}")),
                    return_code: s["return_code"].as_i64().expect("return_code"),
                    error: match &s["error"] {
                        serde_yaml::Value::Null => String::new(),
                        serde_yaml::Value::String(e) => e.clone(),
                        other => panic!("error is text or empty: {other:?}"),
                    },
                }
            })
            .collect()
    }

    fn names(&self) -> Vec<String> {
        self.subs().into_iter().map(|s| s.name).collect()
    }

    /// The test logs in LOGDIR.
    fn test_logs(&self) -> Vec<String> {
        let mut v: Vec<String> = std::fs::read_dir(&self.logdir)
            .unwrap()
            .filter_map(Result::ok)
            .map(|e| e.file_name().to_string_lossy().into_owned())
            .filter(|n| n.contains(".test_log."))
            .collect();
        v.sort();
        v
    }

    fn log(&self, name: &str) -> String {
        std::fs::read_to_string(self.logdir.join(name)).unwrap_or_else(|e| panic!("{name}: {e}"))
    }
}

impl std::fmt::Display for Outcome {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "exit code {}\n--- results.yml\n{}--- suite log\n{}",
            self.code, self.text, self.suite_log
        )
    }
}

/// `lutf.test_<id>.test_log.<host>.log`.
fn log_name(id: &str) -> String {
    format!("lutf.test_{id}.test_log.{}.log", host_label())
}

#[test]
fn samples_pass_with_one_subtest_per_test_and_logs_in_logdir() {
    need_python!();
    let a = Auster::new(&samples());
    let o = a.run(&[], &["--suite", "samples"]);
    assert_eq!(o.code, 0, "{o}");
    assert_eq!(o.status(), "PASS", "{o}");
    // auster's header and entry are untouched.
    assert_eq!(
        o.yml["TestGroup"]["test_group"]
            .as_str()
            .map(|s| s.starts_with("acc-sm-")),
        Some(true)
    );
    assert_eq!(o.entry()["name"].as_str(), Some("lutf"));
    assert_eq!(o.entry()["description"].as_str(), Some("auster lutf"));
    assert_eq!(o.entry()["report_version"].as_u64(), Some(2));

    // One item per sample, in order.
    let mut ids: Vec<String> = std::fs::read_dir(samples().join("samples"))
        .unwrap()
        .filter_map(Result::ok)
        .filter_map(|e| {
            let n = e.file_name().to_string_lossy().into_owned();
            n.strip_prefix("test_")?
                .strip_suffix(".py")
                .map(str::to_string)
        })
        .collect();
    ids.sort_by(|a, b| lutf::discovery::natural_cmp(a, b));
    let want: Vec<String> = ids.iter().map(|i| format!("test_{i}")).collect();
    assert_eq!(o.names(), want, "{o}");
    for s in o.subs() {
        match s.status.as_str() {
            "PASS" => assert!(s.error.is_empty() && s.return_code == 0, "{s:?}"),
            "SKIP" => assert!(
                s.error.starts_with("needs 2 nodes, have 1")
                    || s.error.starts_with("needs LNet")
                    || s.error.contains("usable interface"),
                "{s:?}"
            ),
            _ => panic!("{s:?}\n{o}"),
        }
    }
    assert!(o.subs().iter().any(|s| s.status == "PASS"));

    // TF_SKIP was removed by lutf (auster says PASS, not SKIP); nothing in TF_FAIL.
    assert!(!a.tf_skip().exists() && !a.tf_fail().exists());

    // A log per test, auster's names; the cfg's client name shows the cfg reached lutf.
    let want_logs: Vec<String> = ids.iter().map(|i| log_name(i)).collect();
    let mut want_sorted = want_logs.clone();
    want_sorted.sort();
    assert_eq!(o.test_logs(), want_sorted, "{o}");
    let first = o.log(&log_name(&ids[0]));
    assert!(first.contains("on localhost"), "{first}");
    assert!(first.contains("samples/test_01"), "{first}");
    assert!(o.suite_log.contains("lutf: auster suite lutf:"), "{o}");
}

#[test]
fn failures_exit_1_with_every_error_loading_as_yaml() {
    need_python!();
    let a = Auster::new(&fixtures());
    // -k: auster's --no-stop, FAIL_ON_ERROR=false.
    let o = a.run(&["-k"], &["--suite", "broken"]);
    assert_eq!(o.code, 1, "{o}");
    assert_eq!(o.status(), "FAIL", "{o}");
    let subs = o.subs();
    let got: Vec<(&str, &str)> = subs
        .iter()
        .map(|s| (s.name.as_str(), s.status.as_str()))
        .collect();
    assert_eq!(
        got,
        [
            ("test_01", "FAIL"),
            ("test_02", "FAIL"),
            ("test_03", "FAIL"),
            ("test_04", "SKIP")
        ],
        "{o}"
    );
    assert!(subs[0].error.contains("expected 2 widgets, found 1"), "{o}");
    assert!(subs[0].error.contains("Traceback"), "{o}");
    assert!(subs[1].error.contains("SyntaxError"), "{o}");
    assert!(
        subs[2].error.contains("timeout") || subs[2].error.contains("timed out"),
        "{o}"
    );
    assert!(
        subs[2].duration >= 1,
        "the hang ran into its 1 s timeout: {o}"
    );
    assert_eq!(subs[3].error, "this fixture always skips");
    for s in &subs[..3] {
        assert_ne!(s.return_code, 0, "{s:?}");
    }
    assert_eq!(subs[3].return_code, 0);
    // A test ran (and failed): TF_SKIP is gone.
    assert!(!a.tf_skip().exists());
    let logs = o.test_logs();
    for id in ["01", "02", "03", "04"] {
        assert!(logs.contains(&log_name(id)), "{id}: {logs:?}");
    }
    assert!(o.log(&log_name("03")).contains("LUTF-FIXTURE-HANG-STARTED"));
}

#[test]
fn fail_on_error_from_the_cfg_stops_at_the_first_failure() {
    need_python!();
    let a = Auster::new(&fixtures());
    // No -k: the cfg's FAIL_ON_ERROR=true (not exported by auster) reaches lutf.
    let o = a.run(&[], &["--suite", "broken"]);
    assert_eq!(o.code, 1, "{o}");
    assert_eq!(o.names(), ["test_01"], "{o}");
    assert!(
        o.suite_log
            .contains("FAIL_ON_ERROR stops at the first failed test"),
        "{o}"
    );
}

#[test]
fn stop_on_error_exits_111() {
    need_python!();
    let a = Auster::new(&fixtures());
    a.cfg(&format!("{CFG}STOP_ON_ERROR=yes\n"));
    let o = a.run(&["-k"], &["--suite", "broken"]);
    assert_eq!(o.code, 111, "{o}");
    assert_eq!(o.status(), "FAIL", "{o}");
    assert_eq!(o.names(), ["test_01"], "{o}");

    // STOP_ON_ERROR with nothing failing: an ordinary 0.
    let a = Auster::new(&fixtures());
    a.cfg(&format!("{CFG}STOP_ON_ERROR=yes\n"));
    let o = a.run(&[], &["--suite", "broken", "--only", "04"]);
    assert_eq!(o.code, 0, "{o}");
}

#[test]
fn excepted_tests_are_skip_with_duration_0_and_no_log() {
    need_python!();
    let a = Auster::new(&fixtures());
    let o = a.run(&["-k"], &["--suite", "broken", "--except", "01,03"]);
    assert_eq!(o.code, 1, "{o}");
    let subs = o.subs();
    let names: Vec<&str> = subs.iter().map(|s| s.name.as_str()).collect();
    assert_eq!(names, ["test_01", "test_02", "test_03", "test_04"], "{o}");
    for (i, id) in [(0, "01"), (2, "03")] {
        let s = &subs[i];
        assert_eq!(s.status, "SKIP", "{s:?}");
        assert_eq!(s.duration, 0, "{s:?}");
        assert_eq!(s.return_code, 0, "{s:?}");
        assert_eq!(s.error, format!("skipping excluded test {id}"));
    }
    assert_eq!(subs[1].status, "FAIL");
    // test-framework writes no log for a test it excludes.
    assert_eq!(o.test_logs(), [log_name("02"), log_name("04")], "{o}");
}

#[test]
fn only_leaves_tests_out_and_honor_except_keeps_except() {
    need_python!();
    let a = Auster::new(&samples());
    let o = a.run(&[], &["--suite", "samples", "--only", "01,03"]);
    assert_eq!(o.code, 0, "{o}");
    assert_eq!(o.names(), ["test_01", "test_03"], "{o}");
    assert_eq!(o.test_logs(), [log_name("01"), log_name("03")]);

    // With ONLY, EXCEPT counts only under auster -H (HONOR_EXCEPT).
    let a = Auster::new(&samples());
    let o = a.run(
        &[],
        &["--suite", "samples", "--only", "01,02", "--except", "02"],
    );
    assert_eq!(o.names(), ["test_01", "test_02"], "{o}");
    assert_eq!(o.subs()[1].status, "PASS", "{o}");
    let a = Auster::new(&samples());
    let o = a.run(
        &["-H"],
        &["--suite", "samples", "--only", "01,02", "--except", "02"],
    );
    let subs = o.subs();
    assert_eq!(o.names(), ["test_01", "test_02"], "{o}");
    assert_eq!(
        (
            subs[1].status.as_str(),
            subs[1].duration,
            subs[1].error.as_str()
        ),
        ("SKIP", 0, "skipping excluded test 02"),
        "{o}"
    );
}

#[test]
fn start_and_stop_at_skip_the_tests_outside() {
    need_python!();
    let a = Auster::new(&fixtures());
    let o = a.run(
        &["-k"],
        &["--suite", "broken", "--start-at", "02", "--stop-at", "02"],
    );
    assert_eq!(o.code, 1, "{o}");
    let got: Vec<(String, String, String)> = o
        .subs()
        .into_iter()
        .map(|s| (s.name, s.status, s.error))
        .collect();
    let skip = |id: &str| {
        (
            format!("test_{id}"),
            "SKIP".to_string(),
            format!("skipping excluded test {id}"),
        )
    };
    assert_eq!(got[0], skip("01"), "{o}");
    assert_eq!((got[1].0.as_str(), got[1].1.as_str()), ("test_02", "FAIL"));
    assert_eq!(got[2], skip("03"));
    assert_eq!(got[3], skip("04"));
}

#[test]
fn a_suite_that_only_skips_is_skip_for_auster() {
    need_python!();
    let a = Auster::new(&fixtures());
    let o = a.run(&[], &["--suite", "broken", "--only", "04"]);
    assert_eq!(o.code, 0, "{o}");
    assert_eq!(o.names(), ["test_04"]);
    // TF_SKIP was still there when the hook ended: auster calls the suite SKIP.
    assert_eq!(o.status(), "SKIP", "{o}");
}

#[test]
fn several_suites_name_subtests_by_suite() {
    need_python!();
    let a = Auster::new(&fixtures());
    let o = a.run(&["-k"], &["--only", "01"]);
    assert_eq!(o.code, 1, "{o}");
    let mut suites: Vec<String> = std::fs::read_dir(fixtures())
        .unwrap()
        .filter_map(Result::ok)
        .filter(|e| e.path().join("test_01.py").is_file())
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .collect();
    suites.sort();
    let want: Vec<String> = suites.iter().map(|s| format!("test_{s}_01")).collect();
    assert_eq!(o.names(), want, "{o}");
    let failures = o
        .subs()
        .into_iter()
        .find(|s| s.name == "test_failures_01")
        .unwrap();
    assert_eq!(failures.status, "FAIL");
    assert!(
        failures
            .error
            .contains("No module named 'lutf_no_such_module'"),
        "{failures:?}"
    );
    assert!(
        o.test_logs().contains(&log_name("failures_01")),
        "{:?}",
        o.test_logs()
    );
}

#[test]
fn remote_hosts_of_the_cfg_are_reached_over_ssh() {
    need_python!();
    let Some(hosts) = support::hosts(1) else {
        return;
    };
    let mut a = Auster::new(&fixtures());
    a.options
        .push_str(&format!(" --ssh-config {}", hosts.ssh_config.display()));
    // This machine is the client; the MDS is a real sshd test host.
    a.cfg(&format!(
        "mds_HOST={}\nCLIENTS=localhost\n",
        hosts.hosts[0].name
    ));
    // needs/test_01 wants two nodes: SKIP on one, PASS on two.
    let o = a.run(&[], &["--suite", "needs", "--only", "01"]);
    assert_eq!(o.code, 0, "{o}");
    let subs = o.subs();
    assert_eq!(
        (subs[0].name.as_str(), subs[0].status.as_str()),
        ("test_01", "PASS"),
        "{o}"
    );
    assert_eq!(o.status(), "PASS", "{o}");
    // One log per node the test ran on.
    let logs = o.test_logs();
    assert_eq!(logs.len(), 2, "{logs:?}");
    let text: String = logs.iter().map(|l| o.log(l)).collect();
    assert!(
        text.contains(&format!("on {}", hosts.hosts[0].name)),
        "{text}"
    );
    assert!(text.contains("on localhost"), "{text}");
}

#[test]
fn an_unknown_suite_fails_with_the_reason_in_tf_fail() {
    let a = Auster::new(&fixtures());
    let o = a.run(&[], &["--suite", "brokn"]);
    assert_eq!(o.code, 2, "{o}");
    assert_eq!(o.status(), "FAIL", "{o}");
    assert!(o.subs().is_empty(), "{o}");
    let why = std::fs::read_to_string(a.tf_fail()).expect("TF_FAIL written");
    assert!(why.contains("unknown suite \"brokn\""), "{why}");
    assert!(why.contains("did you mean: broken?"), "{why}");
    assert!(o.suite_log.contains("unknown suite"), "{o}");
}

#[test]
fn an_unreadable_cfg_fails_before_lutf_runs() {
    let a = Auster::new(&fixtures());
    let missing = a.dir.path().join("no-such-cfg.sh");
    // auster itself sources the cfg first: give it one, then point the hook at another.
    let out = a
        .command("bash")
        .arg(a.lustre().join("tests/lutf.sh"))
        .env("CONFIG", &missing)
        .env("TF_FAIL", a.tf_fail())
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2), "{out:?}");
    let why = std::fs::read_to_string(a.tf_fail()).unwrap();
    assert!(why.contains("cannot read the cfg"), "{why}");
}

#[test]
fn run_by_hand_the_hook_writes_a_whole_results_yml() {
    need_python!();
    let a = Auster::new(&samples());
    // As people run a Lustre suite by hand: `bash lutf.sh 01`, no YAML_LOG.
    let out = a
        .command("bash")
        .arg(a.lustre().join("tests/lutf.sh"))
        .arg("01")
        .env("NAME", "lutfcfg")
        .env("SUITE", "samples")
        .env("LOGDIR", a.logdir())
        .output()
        .unwrap();
    let o = a.outcome(
        out.status.code().unwrap_or(-1),
        &String::from_utf8_lossy(&out.stderr),
    );
    assert_eq!(o.code, 0, "{o}");
    for key in ["test_group", "testhost", "submission", "user_name"] {
        assert!(!o.yml["TestGroup"][key].is_null(), "{key}: {o}");
    }
    assert_eq!(o.entry()["name"].as_str(), Some("lutf"));
    assert_eq!(o.names(), ["test_01"], "{o}");
    assert_eq!(o.status(), "PASS", "{o}");
    assert!(o.entry()["duration"].as_u64().is_some(), "{o}");
    assert_eq!(o.test_logs(), [log_name("01")]);
}

#[test]
fn the_cfg_host_variables_reach_lutf_as_nodes_and_roles() {
    let a = Auster::new(&fixtures());
    // The hook's own dry run: the cfg sourced, its variables exported, nothing run.
    let out = a
        .command("bash")
        .arg(a.lustre().join("tests/lutf.sh"))
        .args(["--dry-run", "01", "02"])
        .env("NAME", "lutfcfg")
        .env("SUITE", "broken")
        .env("EXCEPT", "02")
        .env("LOGDIR", a.logdir())
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(out.status.success(), "{out:?}");
    assert!(
        stdout.contains(
            "  localhost (this machine): client1 client mgs server mds1 mds ost1 ost ost2\n"
        ),
        "{stdout}"
    );
    assert!(stdout.contains("\"nettype\":\"tcp\""), "{stdout}");
    assert!(stdout.contains("auster suite: lutf\n"), "{stdout}");
    // Ids given to the script are ONLY, which ignores EXCEPT as in every suite.
    assert!(
        stdout.contains("  test_01 (broken/test_01): run\n"),
        "{stdout}"
    );
    assert!(
        stdout.contains("  test_02 (broken/test_02): run\n"),
        "{stdout}"
    );
    assert!(!stdout.contains("test_03"), "{stdout}");
    assert!(!a.logdir().exists(), "a dry run writes nothing");
}

#[test]
fn test_framework_is_sourced_when_lustre_has_it() {
    need_python!();
    let a = Auster::new(&samples());
    // A stand-in for Lustre's test-framework.sh with its habits: `set -e`, an ERR trap,
    // init_test_env exporting TESTSUITE. The cfg checks it was sourced after
    // init_test_env, as Lustre's suites do it.
    std::fs::write(
        a.lustre().join("tests/test-framework.sh"),
        "set -e\ntrap 'echo \"stand-in test-framework: exiting on error\" >&2' ERR\n\
         init_test_env() {\n\texport TESTSUITE=$(basename $0 .sh)\n\tSTANDIN_INIT=done\n}\n",
    )
    .unwrap();
    // (auster sources the cfg too, in its own shell: the check is for the hook's turn.)
    a.cfg(&format!(
        "case $0 in *lutf.sh) [ \"$STANDIN_INIT\" = done ] ||\n\
         \t{{ echo 'cfg sourced before init_test_env' >&2; exit 3; }} ;; esac\n{CFG}"
    ));
    let o = a.run(&["-k"], &["--suite", "samples", "--only", "01"]);
    assert_eq!(o.code, 0, "{o}");
    assert_eq!(o.names(), ["test_01"], "{o}");
    assert!(o.log(&log_name("01")).contains("on localhost"), "{o}");
}

#[test]
fn the_hook_runs_this_binary_by_default_and_is_valid_bash() {
    let out = Command::new(env!("CARGO_BIN_EXE_lutf"))
        .arg("auster-hook")
        .output()
        .unwrap();
    assert!(out.status.success(), "{out:?}");
    let script = String::from_utf8(out.stdout).unwrap();
    let exe = std::fs::canonicalize(env!("CARGO_BIN_EXE_lutf")).unwrap();
    assert!(
        script.contains(&format!("LUTF=${{LUTF:-'{}'}}", exe.display())),
        "{script}"
    );
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("lutf.sh");
    std::fs::write(&path, &script).unwrap();
    let check = Command::new("bash").arg("-n").arg(&path).output().unwrap();
    assert!(check.status.success(), "{check:?}");
}
