//! lutf under Lustre's real auster, end to end. Each test takes `lustre/tests/auster` with
//! its `test-framework.sh`, `functions.sh`, `yaml.sh`, `rpc.sh` and `cfg/local.sh` from the
//! Lustre source (`shared/lustre/lustre-release-*.tar.xz` beside the checkout or in any
//! folder above it, or `LUSTRE_SRC`, a tarball or a tree) into a folder of its own,
//! installs the hooks there with `lutf auster-hook --install`, and runs
//! `auster -N -f lutfcfg -D LOGDIR lutf-<suite> [suite options] ...` as a user would, with
//! stand-ins for `modprobe` and `lsmod` first on PATH (auster runs without Lustre
//! installed when given -N). Then auster's whole results.yml is loaded with a YAML parser
//! and checked: one Tests entry per lutf suite with its SubTests in run order, statuses,
//! whole-second durations, errors, logs under auster's names, auster's exit code.
//!
//! Without the Lustre source the tests SKIP with the reason, except in CI (`CI=true`),
//! where they FAIL. auster keeps its TF_FAIL and TF_SKIP at fixed paths (/tmp/tf.fail,
//! /tmp/tf.skip), so auster runs are taken one at a time, under a lock held across
//! processes.
//!
//! Real parts only: the real auster and test-framework, the real binary, the real helper,
//! real python3, real bash.

mod common;
mod support;

use std::path::{Path, PathBuf};
use std::process::Command;

use common::{fixtures, have_python, root, samples};

/// The tarball's name up to its version.
const TARBALL_PREFIX: &str = "lustre-release-";

/// What each test takes from Lustre, under `lustre-release/`.
const LUSTRE_FILES: &[&str] = &[
    "lustre/tests/auster",
    "lustre/tests/test-framework.sh",
    "lustre/tests/functions.sh",
    "lustre/tests/yaml.sh",
    "lustre/tests/rpc.sh",
    "lustre/tests/cfg/local.sh",
];

/// auster's fixed TF_FAIL.
const TF_FAIL: &str = "/tmp/tf.fail";

/// The Lustre source: `LUSTRE_SRC`, else the tarball in `shared/lustre/` of the checkout's
/// folder or any folder above it; `Err` says where it was looked for.
fn lustre_source() -> Result<PathBuf, String> {
    if let Some(src) = std::env::var_os("LUSTRE_SRC").filter(|s| !s.is_empty()) {
        let src = PathBuf::from(src);
        return if src.exists() {
            Ok(src)
        } else {
            Err(format!("LUSTRE_SRC={} does not exist", src.display()))
        };
    }
    let mut looked = Vec::new();
    for ancestor in root().ancestors() {
        let dir = ancestor.join("shared/lustre");
        let found = std::fs::read_dir(&dir).ok().and_then(|entries| {
            entries.filter_map(Result::ok).map(|e| e.path()).find(|p| {
                p.file_name().is_some_and(|n| {
                    let n = n.to_string_lossy();
                    n.starts_with(TARBALL_PREFIX) && n.ends_with(".tar.xz")
                })
            })
        });
        if let Some(t) = found {
            return Ok(t);
        }
        looked.push(dir.display().to_string());
    }
    Err(format!(
        "no {TARBALL_PREFIX}*.tar.xz in {} and LUSTRE_SRC is not set",
        looked.join(", ")
    ))
}

/// Lustre's source, or `None` after saying why the test skips; in CI a missing source is a
/// failure.
fn need_lustre() -> Option<PathBuf> {
    match lustre_source() {
        Ok(src) => Some(src),
        Err(why) if std::env::var("CI").is_ok_and(|v| v == "true") => {
            panic!("CI=true and the Lustre source for the real auster is missing: {why}")
        }
        Err(why) => {
            eprintln!("SKIP: the real auster is not here: {why}");
            None
        }
    }
}

macro_rules! need_python {
    () => {
        if !have_python() {
            eprintln!("SKIP: python3 is not installed on this machine");
            return;
        }
    };
}

/// Takes auster (its /tmp/tf.fail and /tmp/tf.skip) for one run, across processes.
fn auster_lock() -> std::fs::File {
    let path = Path::new("/tmp/lutf-real-auster.lock");
    let file = std::fs::OpenOptions::new()
        .create(true)
        .append(true)
        .open(path)
        .or_else(|_| std::fs::File::open(path))
        .expect("open the auster lock file");
    use std::os::fd::AsRawFd as _;
    // Held until the file is closed. (std's File::lock is newer than the crate's MSRV.)
    // SAFETY: flock on an open descriptor has no other precondition.
    let rc = unsafe { libc::flock(file.as_raw_fd(), libc::LOCK_EX) };
    assert_eq!(
        rc,
        0,
        "take the auster lock: {}",
        std::io::Error::last_os_error()
    );
    file
}

/// `hostname -s`, as auster and test-framework name log files.
fn short_hostname() -> String {
    let out = Command::new("hostname").arg("-s").output().unwrap();
    String::from_utf8(out.stdout).unwrap().trim().to_string()
}

/// A cfg as users write them: Lustre's cfg/local.sh (auster checks its settings), every
/// facet on this machine, the client under another of this machine's names
/// (`localhost`), so that lutf's node name shows the cfg reached lutf: without it the
/// node is named after the hostname.
const CFG: &str = r#"# lutf test cfg: one machine
. $LUSTRE/tests/cfg/local.sh
mds_HOST=$(hostname)
ost_HOST=$(hostname -s)
CLIENTS=localhost
OSTCOUNT=2
NETTYPE=tcp
"#;

/// One Lustre tests folder with auster and lutf's hooks.
struct Auster {
    dir: tempfile::TempDir,
    /// `LUTF_OPTIONS` for the hooks: a private work directory, so tests never share one.
    options: String,
    /// Extra environment for auster.
    env: Vec<(String, String)>,
}

/// What one auster run left.
struct Outcome {
    /// auster's exit code.
    code: i32,
    /// auster's output.
    output: String,
    /// results.yml, as text.
    text: String,
    /// results.yml, parsed.
    yml: serde_yaml::Value,
    logdir: PathBuf,
    /// /tmp/tf.fail after the run, if auster left one.
    tf_fail: Option<String>,
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

impl Auster {
    /// A tests folder whose hooks run lutf on `suites`, or `None` (the test skips) without
    /// Lustre's source.
    fn new(suites: &Path) -> Option<Auster> {
        let a = Auster::bare()?;
        let out = a.install(&["--suites".as_ref(), suites.as_os_str()], a.dir.path());
        assert!(out.status.success(), "{}", support::show(&out));
        Some(a)
    }

    /// A tests folder with auster and no hook.
    fn bare() -> Option<Auster> {
        let src = need_lustre()?;
        let dir = tempfile::tempdir().expect("a temporary folder");
        extract(&src, dir.path());
        let bin = dir.path().join("bin");
        std::fs::create_dir_all(&bin).unwrap();
        // Stand-ins for the module tools: -N loads no module, nothing here needs them.
        for (tool, text) in [
            ("modprobe", "#!/bin/sh\nexit 0\n"),
            (
                "lsmod",
                "#!/bin/sh\necho 'Module                  Size  Used by'\n",
            ),
        ] {
            let path = bin.join(tool);
            std::fs::write(&path, text).unwrap();
            use std::os::unix::fs::PermissionsExt as _;
            std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o755)).unwrap();
        }
        std::fs::create_dir_all(dir.path().join("tmp")).unwrap();
        let options = format!("--workdir {}", dir.path().join("work").display());
        let a = Auster {
            dir,
            options,
            env: Vec::new(),
        };
        a.cfg(CFG);
        Some(a)
    }

    /// `lutf auster-hook --install <tests folder> ARGS`, run in `cwd`.
    fn install(&self, args: &[&std::ffi::OsStr], cwd: &Path) -> std::process::Output {
        Command::new(support::lutf_bin())
            .arg("auster-hook")
            .arg("--install")
            .arg(self.tests())
            .args(args)
            .current_dir(cwd)
            .output()
            .expect("run lutf auster-hook")
    }

    /// Lustre's tests folder: auster, test-framework and the hooks.
    fn tests(&self) -> PathBuf {
        self.dir.path().join("lustre-release/lustre/tests")
    }

    fn logdir(&self) -> PathBuf {
        self.dir.path().join("logs")
    }

    /// Replaces the cfg, `cfg/lutfcfg.sh`.
    fn cfg(&self, text: &str) {
        std::fs::write(self.tests().join("cfg/lutfcfg.sh"), text).unwrap();
    }

    /// A command with only what a login shell would have (none of auster's variables leak
    /// in from the test's own environment), the stand-ins first on PATH, a TMP of its own.
    fn command(&self, program: impl AsRef<std::ffi::OsStr>) -> Command {
        let mut c = Command::new(program);
        let path = format!(
            "{}:{}",
            self.dir.path().join("bin").display(),
            std::env::var("PATH").unwrap_or_default()
        );
        c.env_clear()
            .env("PATH", path)
            .env("LC_ALL", "C")
            .env("TMP", self.dir.path().join("tmp"))
            .env("LUTF_OPTIONS", &self.options)
            .current_dir(self.dir.path());
        for v in ["HOME", "USER"] {
            if let Some(x) = std::env::var_os(v) {
                c.env(v, x);
            }
        }
        for (k, v) in &self.env {
            c.env(k, v);
        }
        c
    }

    /// `auster -N -f lutfcfg OPTS -D <logdir> ARGS` (ARGS: suites with their options).
    fn run(&self, opts: &[&str], args: &[&str]) -> Outcome {
        let _lock = auster_lock();
        let _ = std::fs::remove_file(TF_FAIL);
        let out = self
            .command("bash")
            .arg(self.tests().join("auster"))
            .args(["-N", "-f", "lutfcfg"])
            .args(opts)
            .arg("-D")
            .arg(self.logdir())
            .args(args)
            .output()
            .expect("run auster");
        let tf_fail = std::fs::read_to_string(TF_FAIL).ok();
        let _ = std::fs::remove_file(TF_FAIL);
        let output = format!(
            "{}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
        let mut o = self.outcome(out.status.code().unwrap_or(-1), output);
        o.tf_fail = tf_fail;
        o
    }

    fn outcome(&self, code: i32, output: String) -> Outcome {
        let logdir = self.logdir();
        let yml_path = logdir.join("results.yml");
        let text = std::fs::read_to_string(&yml_path)
            .unwrap_or_else(|e| panic!("{}: {e}\n{output}", yml_path.display()));
        let yml = serde_yaml::from_str(&text).unwrap_or_else(|e| {
            panic!("results.yml does not load as YAML: {e}\n{text}\n--- output\n{output}")
        });
        Outcome {
            code,
            output,
            text,
            yml,
            logdir,
            tf_fail: None,
        }
    }
}

/// Takes [`LUSTRE_FILES`] from `src` (a tarball, or a tree holding `lustre/` or
/// `lustre-release/lustre/`) into `<dest>/lustre-release/`.
fn extract(src: &Path, dest: &Path) {
    if src.is_dir() {
        let top = if src.join("lustre/tests/auster").is_file() {
            src.to_path_buf()
        } else {
            src.join("lustre-release")
        };
        for f in LUSTRE_FILES {
            let to = dest.join("lustre-release").join(f);
            std::fs::create_dir_all(to.parent().unwrap()).unwrap();
            std::fs::copy(top.join(f), &to)
                .unwrap_or_else(|e| panic!("{}: {e}", top.join(f).display()));
        }
        return;
    }
    let out = Command::new("tar")
        .arg("-xJf")
        .arg(src)
        .arg("-C")
        .arg(dest)
        .args(LUSTRE_FILES.iter().map(|f| format!("lustre-release/{f}")))
        .output()
        .expect("run tar");
    assert!(
        out.status.success(),
        "extracting auster from {}: {}",
        src.display(),
        support::show(&out)
    );
}

impl Outcome {
    /// The names of the Tests entries, in order.
    fn entries(&self) -> Vec<String> {
        self.yml["Tests"]
            .as_sequence()
            .expect("Tests is a list")
            .iter()
            .map(|t| t["name"].as_str().unwrap_or_default().to_string())
            .collect()
    }

    /// The Tests entry of auster suite `suite`.
    fn entry(&self, suite: &str) -> &serde_yaml::Value {
        self.yml["Tests"]
            .as_sequence()
            .expect("Tests is a list")
            .iter()
            .find(|t| t["name"].as_str() == Some(suite))
            .unwrap_or_else(|| panic!("no Tests entry {suite}\n{self}"))
    }

    /// auster's verdict on the suite.
    fn status(&self, suite: &str) -> &str {
        self.entry(suite)["status"].as_str().unwrap_or_default()
    }

    /// The suite's SubTests, each checked for auster's exact keys in auster's order.
    fn subs(&self, suite: &str) -> Vec<Sub> {
        let subs = &self.entry(suite)["SubTests"];
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

    fn names(&self, suite: &str) -> Vec<String> {
        self.subs(suite).into_iter().map(|s| s.name).collect()
    }

    /// The test logs in auster's log folder.
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
        std::fs::read_to_string(self.logdir.join(name))
            .unwrap_or_else(|e| panic!("{name}: {e}\n{self}"))
    }

    /// auster's log of the suite, `<suite>.suite_log.<host>.log`.
    fn suite_log(&self, suite: &str) -> String {
        self.log(&format!("{suite}.suite_log.{}.log", short_hostname()))
    }
}

impl std::fmt::Display for Outcome {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "auster's exit code {}\n--- results.yml\n{}--- auster's output\n{}",
            self.code, self.text, self.output
        )
    }
}

/// test-framework's name for a test's log: `<suite>.test_<id>.test_log.<host>.log`.
fn log_name(suite: &str, id: &str) -> String {
    format!("{suite}.test_{id}.test_log.{}.log", short_hostname())
}

/// The ids of a suite's tests, in run order.
fn ids(suites: &Path, suite: &str) -> Vec<String> {
    let mut ids: Vec<String> = std::fs::read_dir(suites.join(suite))
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
    ids
}

#[test]
fn one_lutf_suite_is_one_tests_entry_with_its_subtests_and_logs() {
    need_python!();
    let Some(a) = Auster::bare() else { return };
    // Installed from the checkout, whose ./suites the hooks record absolutely: auster
    // runs them from its own folder.
    let out = a.install(&[], &root());
    assert!(out.status.success(), "{}", support::show(&out));
    let hook = std::fs::read_to_string(a.tests().join("lutf-samples.sh")).unwrap();
    let abs = std::fs::canonicalize(samples()).unwrap();
    assert!(
        hook.contains(&format!(
            "LUTF_SUITES=${{LUTF_SUITES:-'{}'}}",
            abs.display()
        )),
        "{hook}"
    );

    let o = a.run(&[], &["lutf-samples"]);
    assert_eq!(o.code, 0, "{o}");
    assert_eq!(o.entries(), ["lutf-samples"], "{o}");
    assert_eq!(o.status("lutf-samples"), "PASS", "{o}");
    // auster's header and entry are auster's own.
    assert_eq!(
        o.yml["TestGroup"]["test_group"].as_str(),
        Some(format!("acc-sm-{}", short_hostname()).as_str())
    );
    assert_eq!(
        o.entry("lutf-samples")["description"].as_str(),
        Some("auster lutf-samples")
    );

    // One item per sample, in order, each PASS or SKIP with its reason.
    let ids = ids(&samples(), "samples");
    let want: Vec<String> = ids.iter().map(|i| format!("test_{i}")).collect();
    assert_eq!(o.names("lutf-samples"), want, "{o}");
    for s in o.subs("lutf-samples") {
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
    assert!(o.subs("lutf-samples").iter().any(|s| s.status == "PASS"));

    // Logs in auster's log folder under auster's names; the cfg's client name shows the
    // cfg reached lutf.
    let mut want_logs: Vec<String> = ids.iter().map(|i| log_name("lutf-samples", i)).collect();
    want_logs.sort();
    assert_eq!(o.test_logs(), want_logs, "{o}");
    let first = o.log(&log_name("lutf-samples", &ids[0]));
    assert!(first.contains("on localhost"), "{first}");
    assert!(first.contains("samples/test_01"), "{first}");
    assert!(
        o.suite_log("lutf-samples")
            .contains("lutf: auster suite lutf-samples:"),
        "{o}"
    );
}

#[test]
fn only_two_tests_of_a_suite() {
    need_python!();
    let Some(a) = Auster::new(&samples()) else {
        return;
    };
    let o = a.run(&[], &["lutf-samples", "--only", "01,02"]);
    assert_eq!(o.code, 0, "{o}");
    assert_eq!(o.names("lutf-samples"), ["test_01", "test_02"], "{o}");
    assert_eq!(o.status("lutf-samples"), "PASS", "{o}");
    assert_eq!(
        o.test_logs(),
        [
            log_name("lutf-samples", "01"),
            log_name("lutf-samples", "02")
        ]
    );
}

#[test]
fn except_is_skip_with_duration_0_and_no_log_and_only_ignores_it_unless_honored() {
    need_python!();
    let Some(a) = Auster::new(&fixtures()) else {
        return;
    };
    let o = a.run(&["-k"], &["lutf-broken", "--except", "01,03"]);
    let subs = o.subs("lutf-broken");
    let names: Vec<&str> = subs.iter().map(|s| s.name.as_str()).collect();
    assert_eq!(names, ["test_01", "test_02", "test_03", "test_04"], "{o}");
    for (i, id) in [(0, "01"), (2, "03")] {
        let s = &subs[i];
        assert_eq!(
            (s.status.as_str(), s.duration, s.return_code),
            ("SKIP", 0, 0),
            "{s:?}"
        );
        assert_eq!(s.error, format!("skipping excluded test {id}"));
    }
    assert_eq!(subs[1].status, "FAIL");
    // test-framework writes no log for a test it excludes.
    assert_eq!(
        o.test_logs(),
        [log_name("lutf-broken", "02"), log_name("lutf-broken", "04")],
        "{o}"
    );

    // With --only, --except counts only under auster -H.
    let Some(a) = Auster::new(&samples()) else {
        return;
    };
    let o = a.run(&[], &["lutf-samples", "--only", "01,02", "--except", "02"]);
    assert_eq!(o.names("lutf-samples"), ["test_01", "test_02"], "{o}");
    assert_eq!(o.subs("lutf-samples")[1].status, "PASS", "{o}");
    let Some(a) = Auster::new(&samples()) else {
        return;
    };
    let o = a.run(
        &["-H"],
        &["lutf-samples", "--only", "01,02", "--except", "02"],
    );
    let subs = o.subs("lutf-samples");
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
fn two_lutf_suites_in_one_auster_command_are_two_tests_entries() {
    need_python!();
    let Some(a) = Auster::new(&fixtures()) else {
        return;
    };
    let o = a.run(
        &["-k"],
        &[
            "lutf-needs",
            "--only",
            "01",
            "lutf-broken",
            "--only",
            "02,04",
        ],
    );
    assert_eq!(o.entries(), ["lutf-needs", "lutf-broken"], "{o}");
    // needs/test_01 wants two nodes: SKIP here, and so is its suite.
    let needs = o.subs("lutf-needs");
    assert_eq!(needs.len(), 1, "{o}");
    assert_eq!(
        (needs[0].name.as_str(), needs[0].status.as_str()),
        ("test_01", "SKIP"),
        "{o}"
    );
    assert_eq!(o.status("lutf-needs"), "SKIP", "{o}");
    let broken: Vec<(String, String)> = o
        .subs("lutf-broken")
        .into_iter()
        .map(|s| (s.name, s.status))
        .collect();
    assert_eq!(
        broken,
        [
            ("test_02".to_string(), "FAIL".to_string()),
            ("test_04".to_string(), "SKIP".to_string())
        ],
        "{o}"
    );
    assert_eq!(o.status("lutf-broken"), "FAIL", "{o}");
    // Each suite's logs under its own name.
    let logs = o.test_logs();
    for want in [
        log_name("lutf-needs", "01"),
        log_name("lutf-broken", "02"),
        log_name("lutf-broken", "04"),
    ] {
        assert!(logs.contains(&want), "{want}: {logs:?}");
    }
    assert!(o.suite_log("lutf-needs").contains("lutf-needs"), "{o}");
    assert!(o.suite_log("lutf-broken").contains("lutf-broken"), "{o}");
}

#[test]
fn a_failing_test_fails_its_suite_with_every_error_loading_as_yaml() {
    need_python!();
    let Some(a) = Auster::new(&fixtures()) else {
        return;
    };
    // -k: auster's --no-stop, FAIL_ON_ERROR=false.
    let o = a.run(&["-k"], &["lutf-broken"]);
    // auster itself ends 0 after a failed suite (only STOP_ON_ERROR's 111 stops it); the
    // suite's rc is in its output and its verdict in results.yml.
    assert_eq!(o.code, 0, "{o}");
    assert!(o.output.contains("lutf-broken returned 1"), "{o}");
    assert_eq!(o.status("lutf-broken"), "FAIL", "{o}");
    let subs = o.subs("lutf-broken");
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
    assert!(o
        .log(&log_name("lutf-broken", "03"))
        .contains("LUTF-FIXTURE-HANG-STARTED"));
}

#[test]
fn fail_on_error_from_the_cfg_stops_at_the_first_failure() {
    need_python!();
    let Some(a) = Auster::new(&fixtures()) else {
        return;
    };
    // No -k: cfg/local.sh's FAIL_ON_ERROR=true (not exported by auster) reaches lutf.
    let o = a.run(&[], &["lutf-broken"]);
    assert_eq!(o.names("lutf-broken"), ["test_01"], "{o}");
    assert_eq!(o.status("lutf-broken"), "FAIL", "{o}");
    assert!(
        o.suite_log("lutf-broken")
            .contains("FAIL_ON_ERROR stops at the first failed test"),
        "{o}"
    );
}

#[test]
fn stop_on_error_stops_auster_with_111() {
    need_python!();
    let Some(a) = Auster::new(&fixtures()) else {
        return;
    };
    let o = a.run(
        &["-k"],
        &["lutf-broken", "--stop-on-error", "yes", "lutf-needs"],
    );
    assert_eq!(o.code, 111, "{o}");
    assert_eq!(o.status("lutf-broken"), "FAIL", "{o}");
    assert_eq!(o.names("lutf-broken"), ["test_01"], "{o}");
    // auster stopped: the next suite never ran.
    assert_eq!(o.entries(), ["lutf-broken"], "{o}");
}

#[test]
fn start_and_stop_at_skip_the_tests_outside() {
    need_python!();
    let Some(a) = Auster::new(&fixtures()) else {
        return;
    };
    let o = a.run(
        &["-k"],
        &["lutf-broken", "--start-at", "02", "--stop-at", "02"],
    );
    let got: Vec<(String, String, String)> = o
        .subs("lutf-broken")
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
    assert_eq!(got.len(), 4, "{o}");
    assert_eq!(got[0], skip("01"), "{o}");
    assert_eq!((got[1].0.as_str(), got[1].1.as_str()), ("test_02", "FAIL"));
    assert_eq!(got[2], skip("03"));
    assert_eq!(got[3], skip("04"));
}

#[test]
fn the_hook_for_every_suite_names_subtests_by_suite() {
    need_python!();
    let Some(a) = Auster::new(&fixtures()) else {
        return;
    };
    let o = a.run(&["-k"], &["lutf", "--only", "01"]);
    assert_eq!(o.entries(), ["lutf"], "{o}");
    let mut suites: Vec<String> = std::fs::read_dir(fixtures())
        .unwrap()
        .filter_map(Result::ok)
        .filter(|e| e.path().join("test_01.py").is_file())
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .collect();
    suites.sort();
    let want: Vec<String> = suites.iter().map(|s| format!("test_{s}_01")).collect();
    assert_eq!(o.names("lutf"), want, "{o}");
    let failures = o
        .subs("lutf")
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
    assert!(o.test_logs().contains(&log_name("lutf", "failures_01")));
}

#[test]
fn an_unknown_suite_for_the_every_suite_hook_fails_with_the_reason_in_tf_fail() {
    let Some(mut a) = Auster::new(&fixtures()) else {
        return;
    };
    a.env.push(("SUITE".into(), "brokn".into()));
    let o = a.run(&[], &["lutf"]);
    assert!(o.output.contains("lutf returned 2"), "{o}");
    assert_eq!(o.status("lutf"), "FAIL", "{o}");
    assert!(o.subs("lutf").is_empty(), "{o}");
    let why = o.tf_fail.clone().expect("TF_FAIL written");
    assert!(why.contains("unknown suite \"brokn\""), "{why}");
    assert!(why.contains("did you mean: broken?"), "{why}");
    assert!(o.suite_log("lutf").contains("unknown suite"), "{o}");
}

#[test]
fn remote_hosts_of_the_cfg_are_reached_over_ssh() {
    need_python!();
    let Some(hosts) = support::hosts(1) else {
        return;
    };
    let Some(mut a) = Auster::new(&fixtures()) else {
        return;
    };
    a.options
        .push_str(&format!(" --ssh-config {}", hosts.ssh_config.display()));
    // This machine is the client; the MDS is a real sshd test host, which test-framework
    // reaches with PDSH (lutf with its own ssh).
    a.cfg(&format!(
        "{CFG}mds_HOST={}\nmgs_HOST=$mds_HOST\n\
         PDSH=\"ssh -F {} -o BatchMode=yes -o StrictHostKeyChecking=accept-new\"\n",
        hosts.hosts[0].name,
        hosts.ssh_config.display()
    ));
    // needs/test_01 wants two nodes: SKIP on one, PASS on two.
    let o = a.run(&[], &["lutf-needs", "--only", "01"]);
    assert_eq!(o.code, 0, "{o}");
    let subs = o.subs("lutf-needs");
    assert_eq!(
        (subs[0].name.as_str(), subs[0].status.as_str()),
        ("test_01", "PASS"),
        "{o}"
    );
    assert_eq!(o.status("lutf-needs"), "PASS", "{o}");
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
fn a_hook_run_by_hand_writes_a_whole_results_yml() {
    need_python!();
    let Some(a) = Auster::new(&samples()) else {
        return;
    };
    // As people run a Lustre suite by hand: `bash lutf-samples.sh 01`, no YAML_LOG.
    let out = a
        .command("bash")
        .arg(a.tests().join("lutf-samples.sh"))
        .arg("01")
        .env("NAME", "lutfcfg")
        .env("LOGDIR", a.logdir())
        .output()
        .unwrap();
    let o = a.outcome(out.status.code().unwrap_or(-1), support::show(&out));
    assert_eq!(o.code, 0, "{o}");
    for key in ["test_group", "testhost", "submission", "user_name"] {
        assert!(!o.yml["TestGroup"][key].is_null(), "{key}: {o}");
    }
    assert_eq!(o.entries(), ["lutf-samples"], "{o}");
    assert_eq!(o.names("lutf-samples"), ["test_01"], "{o}");
    assert_eq!(o.status("lutf-samples"), "PASS", "{o}");
    assert!(
        o.entry("lutf-samples")["duration"].as_u64().is_some(),
        "{o}"
    );
    assert_eq!(o.test_logs(), [log_name("lutf-samples", "01")]);
}

#[test]
fn the_cfg_host_variables_reach_lutf_as_nodes_and_roles() {
    let Some(a) = Auster::new(&fixtures()) else {
        return;
    };
    // The hook's own dry run: test-framework and the cfg sourced, nothing run.
    let out = a
        .command("bash")
        .arg(a.tests().join("lutf-broken.sh"))
        .args(["--dry-run", "01", "02"])
        .env("NAME", "lutfcfg")
        .env("EXCEPT", "02")
        // The suite's own hook ignores SUITE.
        .env("SUITE", "needs")
        .env("LOGDIR", a.logdir())
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(out.status.success(), "{}", support::show(&out));
    assert!(
        stdout.contains(
            "  localhost (this machine): client1 client mgs server mds1 mds ost1 ost ost2\n"
        ),
        "{stdout}"
    );
    assert!(stdout.contains("\"nettype\":\"tcp\""), "{stdout}");
    assert!(stdout.contains("auster suite: lutf-broken\n"), "{stdout}");
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
fn an_unreadable_cfg_fails_before_lutf_runs() {
    let Some(a) = Auster::new(&fixtures()) else {
        return;
    };
    let missing = a.dir.path().join("no-such-cfg.sh");
    let tf_fail = a.dir.path().join("tf.fail");
    let out = a
        .command("bash")
        .arg(a.tests().join("lutf-broken.sh"))
        .env("CONFIG", &missing)
        .env("TF_FAIL", &tf_fail)
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2), "{}", support::show(&out));
    let why = std::fs::read_to_string(&tf_fail).unwrap();
    assert!(
        why.starts_with(&format!(
            "lutf-broken.sh: cannot read the cfg {}",
            missing.display()
        )),
        "{why}"
    );
}

#[test]
fn no_hook_is_written_without_a_suites_folder() {
    let Some(a) = Auster::bare() else { return };
    // Run from a folder with no ./suites, by a binary with no suites installed beside it.
    let empty = tempfile::tempdir().unwrap();
    let out = a.install(&[], empty.path());
    assert_eq!(out.status.code(), Some(2), "{}", support::show(&out));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("no hook written: no suites folder found; looked for ./suites"),
        "{err}"
    );
    // A folder with no suite in it is refused too.
    let out = a.install(
        &["--suites".as_ref(), empty.path().as_os_str()],
        empty.path(),
    );
    assert_eq!(out.status.code(), Some(2), "{}", support::show(&out));
    assert!(
        String::from_utf8_lossy(&out.stderr).contains("holds no suite"),
        "{}",
        support::show(&out)
    );
    let hooks: Vec<String> = std::fs::read_dir(a.tests())
        .unwrap()
        .filter_map(Result::ok)
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .filter(|n| n.starts_with("lutf"))
        .collect();
    assert!(hooks.is_empty(), "{hooks:?}");

    // A relative --suites is recorded absolute, and every hook is valid bash.
    let out = a.install(
        &["--suites".as_ref(), "tests/fixtures/suites".as_ref()],
        &root(),
    );
    assert!(out.status.success(), "{}", support::show(&out));
    let exe = std::fs::canonicalize(support::lutf_bin()).unwrap();
    let abs = std::fs::canonicalize(fixtures()).unwrap();
    for suite in ["broken", "deps", "failures", "features", "needs"] {
        let path = a.tests().join(format!("lutf-{suite}.sh"));
        let hook = std::fs::read_to_string(&path).unwrap();
        assert!(hook.contains(&format!("LUTF_SUITE='{suite}'\n")), "{hook}");
        assert!(
            hook.contains(&format!(
                "LUTF_SUITES=${{LUTF_SUITES:-'{}'}}",
                abs.display()
            )),
            "{hook}"
        );
        assert!(
            hook.contains(&format!("LUTF=${{LUTF:-'{}'}}", exe.display())),
            "{hook}"
        );
        let check = Command::new("bash").arg("-n").arg(&path).output().unwrap();
        assert!(check.status.success(), "{}", support::show(&check));
    }

    // Without --install, one hook is printed: the one for --suite, else lutf.sh.
    let print = |args: &[&str]| {
        Command::new(support::lutf_bin())
            .arg("--suites")
            .arg(fixtures())
            .arg("auster-hook")
            .args(args)
            .output()
            .unwrap()
    };
    let out = print(&["--suite", "needs"]);
    assert!(out.status.success(), "{}", support::show(&out));
    assert_eq!(
        out.stdout,
        std::fs::read(a.tests().join("lutf-needs.sh")).unwrap()
    );
    let out = print(&[]);
    assert_eq!(
        out.stdout,
        std::fs::read(a.tests().join("lutf.sh")).unwrap()
    );
    let out = print(&["--suite", "needs,broken"]);
    assert_eq!(out.status.code(), Some(2), "{}", support::show(&out));
    let out = print(&["--suite", "neds"]);
    assert_eq!(out.status.code(), Some(2), "{}", support::show(&out));
    assert!(
        String::from_utf8_lossy(&out.stderr).contains("did you mean: needs?"),
        "{}",
        support::show(&out)
    );
}
