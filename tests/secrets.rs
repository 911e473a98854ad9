//! Secrets end to end: `lutf run --secret-env`, `lutf exec --secret-env` and the auster
//! hook's `LUTF_SECRET_ENV` hand a value from lutf's environment to the steps and commands
//! on real sshd test hosts (see `support`) or this machine, intact — quotes, `$(...)`,
//! a newline and non-ASCII included — and the value is found nowhere afterwards: not in
//! any file of the results folder (archives unpacked), not in lutf's stdout or stderr at
//! the most verbose logging, not in the nodes' work directories. Where a step printed it,
//! `[secret LUTF_TEST_TOKEN]` stands instead. A secret variable that is not set stops lutf
//! before it connects to anything.
//!
//! A leak is looked for as the raw value, as a unique marker inside it (which survives any
//! escaping: YAML, JSON, HTML) and as its base64.

mod support;

use std::io::Read as _;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use lutf::outcome::Status;
use sha2::{Digest, Sha256};

const NAME: &str = "LUTF_TEST_TOKEN";
const PLACEHOLDER: &str = "[secret LUTF_TEST_TOKEN]";

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

fn secret_suites() -> PathBuf {
    root().join("tests/fixtures/secret-suites")
}

/// A secret for one test: a marker unique to it, and everything a shell or a quoting
/// routine could trip on.
struct TestSecret {
    value: String,
    marker: String,
}

impl TestSecret {
    fn new(test: &str) -> TestSecret {
        let now = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap()
            .as_nanos();
        let marker = format!(
            "mk{:x}",
            Sha256::digest(format!("{test} {now} {}", std::process::id()))
                .iter()
                .take(8)
                .fold(0u64, |a, b| a << 8 | u64::from(*b))
        );
        let value = format!(
            "tok-{marker} \"dq\" 'sq' $(touch /tmp/pwned-{marker}) `id` ;&| \\n\nsecond line ünïcødé €"
        );
        TestSecret { value, marker }
    }

    fn sha256(&self) -> String {
        hex(&Sha256::digest(self.value.as_bytes()))
    }

    /// How `data` holds the secret, if it does.
    fn leak(&self, data: &[u8]) -> Option<&'static str> {
        let b64 = base64(self.value.as_bytes());
        if contains(data, self.value.as_bytes()) {
            Some("the value")
        } else if contains(data, self.marker.as_bytes()) {
            Some("the value's marker (an escaped or partial copy)")
        } else if contains(data, b64.as_bytes()) {
            Some("the value in base64")
        } else {
            None
        }
    }

    /// Panics when `data` (named `what`) holds the secret.
    fn assert_absent(&self, what: &str, data: &[u8]) {
        if let Some(how) = self.leak(data) {
            panic!("{what} holds {how}:\n{}", String::from_utf8_lossy(data));
        }
    }
}

/// Standard base64 with padding (how `Bytes` that are not UTF-8 travel in YAML).
fn base64(data: &[u8]) -> String {
    use ::base64::Engine as _;
    ::base64::engine::general_purpose::STANDARD.encode(data)
}

fn hex(data: &[u8]) -> String {
    data.iter().map(|b| format!("{b:02x}")).collect()
}

fn contains(haystack: &[u8], needle: &[u8]) -> bool {
    haystack.windows(needle.len()).any(|w| w == needle)
}

/// Every file under `dir` (symbolic links not followed) with its bytes; a `.tar.gz` also
/// gives each of its members, named `archive!member`.
fn every_file(dir: &Path) -> Vec<(String, Vec<u8>)> {
    let mut out = Vec::new();
    for e in walkdir::WalkDir::new(dir).follow_links(false) {
        let e = e.unwrap();
        if !e.file_type().is_file() {
            continue;
        }
        let path = e.path().display().to_string();
        let data = std::fs::read(e.path()).unwrap();
        if path.ends_with(".tar.gz") {
            let mut archive = tar::Archive::new(flate2::read::GzDecoder::new(&data[..]));
            for member in archive.entries().unwrap() {
                let mut member = member.unwrap();
                let name = member.path().unwrap().display().to_string();
                let mut bytes = Vec::new();
                member.read_to_end(&mut bytes).unwrap();
                out.push((format!("{path}!{name}"), bytes));
            }
        }
        out.push((path, data));
    }
    out
}

/// Scans every file under `dir` (archives unpacked); returns how many files it read.
fn assert_no_file_holds(secret: &TestSecret, dir: &Path) -> usize {
    let files = every_file(dir);
    for (name, data) in &files {
        secret.assert_absent(name, data);
    }
    files.len()
}

/// Panics unless lutf's output is free of the secret.
fn assert_output_clean(secret: &TestSecret, out: &Output) {
    secret.assert_absent("lutf's stdout", &out.stdout);
    secret.assert_absent("lutf's stderr", &out.stderr);
}

/// The most verbose logging there is: `-vv` and `LUTF_LOG=trace` (every crate's trace
/// events, the transports' included).
fn most_verbose(c: &mut Command) -> &mut Command {
    c.arg("-vv").env("LUTF_LOG", "trace").env("NO_COLOR", "1")
}

#[test]
fn run_hands_the_secret_to_steps_intact_and_writes_it_nowhere() {
    let Some(hosts) = support::hosts(2) else {
        return;
    };
    let secret = TestSecret::new("run");
    let param = format!("token_sha256={}", secret.sha256());
    let mut cmd = hosts.lutf_run(
        &secret_suites(),
        &[
            "--suite",
            "secrets",
            "--secret-env",
            NAME,
            "--param",
            &param,
        ],
    );
    let out = most_verbose(&mut cmd)
        .env(NAME, &secret.value)
        .output()
        .unwrap();
    let shown = support::show(&out);
    assert_eq!(out.status.code(), Some(1), "{shown}");

    // It arrived intact: the step compared its sha256 (and would FAIL otherwise).
    let run = support::run_json(&hosts.results());
    let t1 = support::find_test(&run, "01");
    assert_eq!(t1.status, Status::Pass, "{}\n{shown}", t1.error);
    // lutf's own steps (named lutf.*) frame the test's.
    let own: Vec<_> = t1
        .steps
        .iter()
        .filter(|s| !s.name.starts_with("lutf."))
        .collect();
    let leak = own[0];
    assert_eq!(leak.name, "check_and_leak");
    let log = leak.log.data.to_string_lossy();
    assert!(
        log.contains(&format!("sha256 of the token: {}", secret.sha256())),
        "{log}"
    );
    for line in ["stdout: ", "stderr: ", "ctx.log: ", "logging: "] {
        assert!(
            log.contains(&format!("{line}{PLACEHOLDER}")),
            "{line}: {log}"
        );
    }
    let value = serde_json::json!({
        "token": PLACEHOLDER,
        PLACEHOLDER: "as a key",
        "nested": [format!("x{PLACEHOLDER}y")],
        "len": secret.value.len(),
    });
    assert_eq!(leak.value.as_ref(), Some(&value));
    // The next step got the (redacted) value as ctx.results.
    assert_eq!(own[1].value.as_ref(), Some(&value));

    // In a failure message, its traceback and a failing cleanup step.
    let t2 = support::find_test(&run, "02");
    assert_eq!(t2.status, Status::Fail);
    assert!(
        t2.error.contains(&format!("bad token {PLACEHOLDER}")),
        "{}",
        t2.error
    );
    assert!(t2.error.contains("Traceback"), "{}", t2.error);
    let tidy = t2.steps.iter().find(|s| s.name == "tidy").unwrap();
    let f = tidy.failure.as_ref().unwrap();
    assert!(f.message.contains(&format!("token {PLACEHOLDER}")), "{f:?}");
    assert!(tidy
        .log
        .data
        .to_string_lossy()
        .contains(&format!("cleanup: {PLACEHOLDER}")));

    // The archive for Maloo too.
    let latest = std::fs::canonicalize(hosts.results().join("latest")).unwrap();
    let mut archive = hosts.lutf();
    archive.arg("results").arg(&latest).arg("--archive");
    let archived = most_verbose(&mut archive).output().unwrap();
    assert_eq!(
        archived.status.code(),
        Some(0),
        "{}",
        support::show(&archived)
    );
    assert_output_clean(&secret, &archived);

    // Nothing anywhere: every file of the results (and the archive's members), lutf's
    // output at trace level, what is left in the nodes' work directories.
    let files = assert_no_file_holds(&secret, &hosts.results());
    assert!(files >= 8, "only {files} files under the results folder");
    let archive_members = every_file(&hosts.results())
        .iter()
        .filter(|(n, _)| n.contains(".tar.gz!"))
        .count();
    assert!(archive_members >= 5, "{archive_members} archive members");
    let junit = std::fs::read_to_string(latest.join("junit.xml")).unwrap();
    assert!(junit.contains(PLACEHOLDER), "{junit}");
    assert_output_clean(&secret, &out);
    let stderr = String::from_utf8_lossy(&out.stderr);
    // The logging was on, and -v showed the steps' output, placeholders and all.
    assert!(stderr.contains("DEBUG"), "{shown}");
    assert!(
        stderr.contains(&format!("stdout: {PLACEHOLDER}")),
        "{shown}"
    );
    for i in 0..2 {
        assert_no_file_holds(&secret, &hosts.node_workdir(i));
    }
}

#[test]
fn exec_gives_the_command_the_secret_and_never_prints_it() {
    let Some(hosts) = support::hosts(2) else {
        return;
    };
    let secret = TestSecret::new("exec");
    // printf, not echo: dash's echo would turn the value's `\n` into a newline, a copy
    // that is not the value any more (and that no redaction can recognise).
    let script = format!(
        "printf %s \"${NAME}\" | sha256sum; printf 'out:%s\\n' \"${NAME}\"; \
         printf 'err:%s\\n' \"${NAME}\" >&2; exit 3"
    );
    let mut cmd = hosts.lutf();
    cmd.arg("exec")
        .arg("--cluster")
        .arg(&hosts.cluster_file)
        .args(["--secret-env", NAME, "--shell", "--"])
        .arg(&script)
        .current_dir(hosts.dir.path());
    let out = most_verbose(&mut cmd)
        .env(NAME, &secret.value)
        .output()
        .unwrap();
    let shown = support::show(&out);
    assert_eq!(out.status.code(), Some(3), "{shown}");
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    for node in ["node1", "node2"] {
        // Intact on every node: the command hashed what it got.
        assert!(
            stdout.contains(&format!("{node}: {}  -", secret.sha256())),
            "{shown}"
        );
        assert!(
            stdout.contains(&format!("{node}: out:{PLACEHOLDER}")),
            "{shown}"
        );
        assert!(
            stderr.contains(&format!("{node}: err:{PLACEHOLDER}")),
            "{shown}"
        );
    }
    assert!(stderr.contains("DEBUG"), "{shown}");
    assert_output_clean(&secret, &out);
}

#[test]
fn the_master_blanks_out_a_secret_that_reaches_it_in_an_error() {
    // The user put the value on the command line (what --secret-env is there to avoid),
    // so the helper's error quotes it: the helper redacts what commands print, not its own
    // error replies, so this is the master's own redaction at work.
    let secret = TestSecret::new("error");
    let work = tempfile::tempdir().unwrap();
    let mut cmd = Command::new(support::lutf_bin());
    cmd.args(["exec", "--nodes", "local", "--secret-env", NAME])
        .arg("--workdir")
        .arg(work.path().join("work"))
        .arg("--")
        .arg(format!("/nonexistent/{}", secret.value))
        .current_dir(work.path());
    let out = most_verbose(&mut cmd)
        .env(NAME, &secret.value)
        .output()
        .unwrap();
    let shown = support::show(&out);
    assert_eq!(out.status.code(), Some(255), "{shown}");
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains(&format!("cannot run `/nonexistent/{PLACEHOLDER}`")),
        "{shown}"
    );
    assert_output_clean(&secret, &out);
}

#[test]
fn a_short_secret_is_warned_about_and_still_redacted() {
    let work = tempfile::tempdir().unwrap();
    let out = Command::new(support::lutf_bin())
        .args(["exec", "--nodes", "local", "--secret-env", NAME])
        .arg("--workdir")
        .arg(work.path().join("work"))
        .args(["--", "sh", "-c", "printf 'zq9x\\n'"])
        .env(NAME, "zq9")
        .output()
        .unwrap();
    let shown = support::show(&out);
    assert_eq!(out.status.code(), Some(0), "{shown}");
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains(&format!("warning: secret {NAME} is only 3 bytes long")),
        "{shown}"
    );
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(stdout.contains(&format!("{PLACEHOLDER}x")), "{shown}");
    assert!(!stdout.contains("zq9"), "{shown}");
}

/// lutf with a secret variable that is not set: exit 2 naming it, at once.
fn assert_refused(mut cmd: Command, name: &str, from: &str) {
    let scratch = tempfile::tempdir().unwrap();
    let t0 = std::time::Instant::now();
    let out = cmd
        .current_dir(scratch.path())
        .env_remove(name)
        .env_remove("LUTF_LOG")
        .output()
        .unwrap();
    let shown = support::show(&out);
    assert_eq!(out.status.code(), Some(2), "{shown}");
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains(&format!("the environment variable {name} is not set")),
        "{shown}"
    );
    assert!(stderr.contains(from), "{shown}");
    // Nothing was tried: 192.0.2.1 (TEST-NET-1) would have been unreachable, slowly, and
    // no results folder was started. (The bound only proves it did not wait for ssh.)
    assert!(!stderr.contains("unreachable"), "{shown}");
    assert!(t0.elapsed() < std::time::Duration::from_secs(8), "{shown}");
    assert!(
        std::fs::read_dir(scratch.path()).unwrap().next().is_none(),
        "lutf left files: {shown}"
    );
}

#[test]
fn a_secret_variable_that_is_not_set_stops_lutf_before_it_connects() {
    let lutf = || {
        let mut c = Command::new(support::lutf_bin());
        c.args(["--nodes", "192.0.2.1", "--connect-timeout", "30"])
            .arg("--suites")
            .arg(secret_suites())
            .env_remove("LUTF_SECRET_ENV");
        c
    };
    let missing = "LUTF_TEST_NO_SUCH_SECRET";

    let mut run = lutf();
    run.args(["run", "--secret-env", &format!("{NAME},{missing}")])
        .env(NAME, "set");
    assert_refused(run, missing, "(--secret-env)");

    let mut exec = lutf();
    exec.args(["exec", "--secret-env", missing, "--", "true"]);
    assert_refused(exec, missing, "(--secret-env)");

    let mut from_env = lutf();
    from_env
        .args(["run", "--suite", "secrets"])
        .env("LUTF_SECRET_ENV", format!("{NAME} {missing}"))
        .env(NAME, "set");
    assert_refused(from_env, missing, "(LUTF_SECRET_ENV)");

    // Not a variable name at all.
    let mut bad = lutf();
    bad.args(["run", "--secret-env", "NOT-A-NAME"]);
    let out = bad.output().unwrap();
    assert_eq!(out.status.code(), Some(2), "{}", support::show(&out));
    assert!(String::from_utf8_lossy(&out.stderr)
        .contains("\"NOT-A-NAME\" (--secret-env): not a variable name"));
}

#[test]
fn auster_runs_take_secrets_from_lutf_secret_env_in_the_cfg() {
    if support::missing_tools().is_some() {
        eprintln!("SKIP: python3 is missing");
        return;
    }
    let secret = TestSecret::new("auster");
    let dir = tempfile::tempdir().unwrap();
    let lustre = dir.path().join("lustre");
    std::fs::create_dir_all(lustre.join("tests/cfg")).unwrap();
    let hook = Command::new(support::lutf_bin())
        .arg("auster-hook")
        .arg("--suites")
        .arg(secret_suites())
        .output()
        .unwrap();
    assert!(hook.status.success(), "{}", support::show(&hook));
    std::fs::write(lustre.join("tests/lutf.sh"), &hook.stdout).unwrap();
    // The cfg sets the secret without exporting it; the hook exports what LUTF_SECRET_ENV
    // names.
    std::fs::write(
        lustre.join("tests/cfg/secretcfg.sh"),
        format!(
            "LUTF_SECRET_ENV=\"{NAME}\"\n{NAME}={}\n",
            lutf::auster::hook::shell_quote(&secret.value)
        ),
    )
    .unwrap();
    let logdir = dir.path().join("logs");
    let mut cmd = Command::new("bash");
    cmd.arg(lustre.join("tests/lutf.sh"))
        .env_clear()
        .env("PATH", std::env::var_os("PATH").unwrap_or_default())
        .env("LC_ALL", "C")
        .env("LUSTRE", &lustre)
        .env("NAME", "secretcfg")
        .env("SUITE", "secrets")
        .env("LOGDIR", &logdir)
        .env(
            "LUTF_OPTIONS",
            format!("--workdir {} -vv", dir.path().join("work").display()),
        )
        .env("LUTF_LOG", "trace")
        .current_dir(dir.path());
    for v in ["HOME", "USER"] {
        if let Some(x) = std::env::var_os(v) {
            cmd.env(v, x);
        }
    }
    let out = cmd.output().unwrap();
    let shown = support::show(&out);
    assert_eq!(out.status.code(), Some(1), "{shown}");
    let yml = std::fs::read_to_string(logdir.join("results.yml")).unwrap();
    assert!(yml.contains(&format!("bad token {PLACEHOLDER}")), "{yml}");
    // test_01 passed: the secret arrived (no expected hash here; its log says which).
    let subtests: serde_yaml::Value = serde_yaml::from_str(&yml).unwrap();
    let first = &subtests["Tests"][0]["SubTests"][0];
    assert_eq!(first["status"].as_str(), Some("PASS"), "{yml}");
    let logs: String = every_file(&logdir)
        .into_iter()
        .map(|(_, d)| String::from_utf8_lossy(&d).into_owned())
        .collect();
    assert!(
        logs.contains(&format!("sha256 of the token: {}", secret.sha256())),
        "{logs}"
    );
    assert!(logs.contains(&format!("stdout: {PLACEHOLDER}")), "{logs}");
    assert_no_file_holds(&secret, &logdir);
    assert_no_file_holds(&secret, &dir.path().join("work"));
    assert_output_clean(&secret, &out);
}
