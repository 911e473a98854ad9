//! The Python side shipped with the helper (`helper/python/lutf`): its unit tests under the
//! machine's `python3` and under Python 3.6 (the oldest a node may have), every shipped or
//! test `.py` file parsed as Python 3.6, and the runner's JSON read back through the
//! protocol's own types (`TestPlan`, `StepOutcome`), so both sides agree on every field.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use std::time::{Duration, Instant};

use lutf::protocol::{
    Addr, Facts, FailureKind, IfFlags, Interface, LnetState, NodeInfo, OsInfo, PythonInfo,
    StepContext, StepOutcome, TestPlan,
};
use serde::Deserialize;
use serde_json::{json, Value};

/// Where CI (and this project's dev machines) keep Python 3.6.
const PYTHON36: &str = "/root/.pyenv/versions/3.6.15/bin/python3.6";

/// Files that are deliberately not Python (they carry this marker): they must fail to parse.
const SYNTAX_ERROR_MARKER: &str = "# lutf: deliberate syntax error";

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

fn package_dir() -> PathBuf {
    root().join("helper/python")
}

/// `LUTF_PYTHON36` overrides where Python 3.6 is; None when it is not installed.
fn python36() -> Option<PathBuf> {
    let path = std::env::var_os("LUTF_PYTHON36")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from(PYTHON36));
    path.is_file().then_some(path)
}

fn python(interpreter: &Path) -> Command {
    let mut cmd = Command::new(interpreter);
    cmd.current_dir(root())
        .env("PYTHONPATH", package_dir())
        .env("PYTHONDONTWRITEBYTECODE", "1")
        .env_remove("PYTHONHOME");
    cmd
}

fn text(output: &Output) -> String {
    format!(
        "exit: {}\n--- stdout\n{}\n--- stderr\n{}",
        output.status,
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    )
}

fn run_unit_tests(interpreter: &Path) {
    let output = python(interpreter)
        .args([
            "-m",
            "unittest",
            "discover",
            "-s",
            "tests/python",
            "-t",
            "tests/python",
        ])
        .output()
        .unwrap_or_else(|e| panic!("cannot run {}: {e}", interpreter.display()));
    assert!(
        output.status.success(),
        "Python unit tests failed under {}:\n{}",
        interpreter.display(),
        text(&output)
    );
    let stderr = String::from_utf8_lossy(&output.stderr);
    // unittest reports "Ran N tests" then "OK": make sure tests were found and ran.
    assert!(
        stderr.contains("OK") && !stderr.contains("Ran 0 tests"),
        "{stderr}"
    );
}

#[test]
fn python_unit_tests_pass_under_python3() {
    run_unit_tests(Path::new("python3"));
}

#[test]
fn python_unit_tests_pass_under_python36() {
    let Some(py36) = python36() else {
        println!("SKIP: Python 3.6 is not installed at {PYTHON36} (set LUTF_PYTHON36)");
        return;
    };
    run_unit_tests(&py36);
}

/// Every `.py` the project ships or runs as a test, sorted.
fn python_files() -> Vec<PathBuf> {
    let mut files = Vec::new();
    for dir in ["helper/python", "suites", "tests/fixtures", "tests/python"] {
        for entry in walkdir::WalkDir::new(root().join(dir))
            .into_iter()
            .filter_map(Result::ok)
        {
            if entry.file_type().is_file() && entry.path().extension().is_some_and(|x| x == "py") {
                files.push(entry.into_path());
            }
        }
    }
    files.sort();
    files
}

#[test]
fn python_sources_parse_as_python36() {
    // With 3.6 itself the check is exact; otherwise `ast.parse(feature_version=(3, 6))`
    // (Python 3.8+) is the best approximation and says so.
    let (interpreter, check) = match python36() {
        Some(p) => (p, "compile(source, path, 'exec', dont_inherit=True)"),
        None => {
            println!("NOTE: Python 3.6 absent; approximating with ast feature_version=(3, 6)");
            (
                PathBuf::from("python3"),
                "ast.parse(source, path, feature_version=(3, 6))",
            )
        }
    };
    let script = format!(
        "import ast, sys\n\
         for path in sys.argv[1:]:\n\
         \x20   source = open(path, 'rb').read()\n\
         \x20   try:\n\
         \x20       {check}\n\
         \x20       print('ok', path)\n\
         \x20   except SyntaxError as e:\n\
         \x20       print('bad', path, e)\n"
    );
    let files = python_files();
    assert!(files.len() > 20, "found only {} .py files", files.len());
    let output = python(&interpreter)
        .arg("-c")
        .arg(script)
        .args(&files)
        .output()
        .unwrap();
    assert!(output.status.success(), "{}", text(&output));
    let report = String::from_utf8_lossy(&output.stdout);
    let mut deliberate = 0;
    for file in &files {
        let line = report
            .lines()
            .find(|l| l.split(' ').nth(1) == Some(&*file.to_string_lossy()))
            .unwrap_or_else(|| panic!("no verdict for {}: {report}", file.display()));
        let source = std::fs::read_to_string(file).unwrap();
        if source.contains(SYNTAX_ERROR_MARKER) {
            deliberate += 1;
            assert!(
                line.starts_with("bad "),
                "{} should not parse: {line}",
                file.display()
            );
        } else {
            assert!(line.starts_with("ok "), "not Python 3.6: {line}");
        }
    }
    // The broken fixture suites (runner and hostile input) each have one.
    assert_eq!(deliberate, 2, "the deliberate syntax-error fixtures");
}

/// Runs `python3 -m lutf.runner <args...> <result-file>` and returns the result document.
fn runner(args: &[&str]) -> Value {
    let dir = tempfile::tempdir().unwrap();
    let result = dir.path().join("result.json");
    let output = python(Path::new("python3"))
        .args(["-m", "lutf.runner"])
        .args(args)
        .arg(&result)
        .output()
        .unwrap();
    assert!(output.status.success(), "{args:?}: {}", text(&output));
    let data = std::fs::read_to_string(&result)
        .unwrap_or_else(|e| panic!("{args:?} wrote no result ({e}): {}", text(&output)));
    serde_json::from_str(&data).unwrap()
}

/// What `plan` writes.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "snake_case")]
enum PlanFile {
    Plan(TestPlan),
    Error(PlanError),
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct PlanError {
    message: String,
    traceback: String,
}

/// What `step` writes.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct OutcomeFile {
    outcome: StepOutcome,
}

fn test_files(dir: &str) -> Vec<PathBuf> {
    let mut files: Vec<PathBuf> = walkdir::WalkDir::new(root().join(dir))
        .into_iter()
        .filter_map(Result::ok)
        .map(|e| e.into_path())
        .filter(|p| {
            let name = p.file_name().unwrap().to_string_lossy();
            name.starts_with("test_") && name.ends_with(".py")
        })
        .collect();
    files.sort();
    files
}

/// Reads a plan document through the protocol types and checks nothing was lost or added.
fn read_plan(file: &Path) -> PlanFile {
    let doc = runner(&["plan", &file.to_string_lossy()]);
    let parsed: PlanFile = serde_json::from_value(doc.clone())
        .unwrap_or_else(|e| panic!("{}: {e}: {doc}", file.display()));
    if let PlanFile::Plan(plan) = &parsed {
        assert_eq!(
            serde_json::to_value(plan).unwrap(),
            doc["plan"],
            "{}: fields differ from TestPlan's",
            file.display()
        );
    }
    parsed
}

#[test]
fn every_plan_reads_as_the_protocol_test_plan() {
    let samples = test_files("suites/samples");
    assert!(samples.len() >= 6, "only {} samples", samples.len());
    let mut all = samples.clone();
    all.extend(test_files("tests/fixtures/suites"));
    for file in all {
        match read_plan(&file) {
            PlanFile::Plan(plan) => {
                assert!(!plan.description.is_empty(), "{}", file.display());
                assert!(!plan.steps.is_empty());
                let names: Vec<&str> = plan.steps.iter().map(|s| s.name.as_str()).collect();
                for step in &plan.steps {
                    assert!(plan.needs.roles.contains(&step.role), "{step:?}");
                    for dep in step.after.iter().chain(&step.stops) {
                        assert!(names.contains(&dep.as_str()), "{step:?}");
                    }
                }
            }
            PlanFile::Error(error) => {
                // Only the fixtures that are broken on purpose may fail to plan.
                let name = file.strip_prefix(root()).unwrap().to_string_lossy();
                let expected = match &*name {
                    "tests/fixtures/suites/broken/test_02.py" => "SyntaxError",
                    "tests/fixtures/suites/failures/test_01.py" => "ModuleNotFoundError",
                    "tests/fixtures/suites/failures/test_05.py" => "unknown role 'clinet'",
                    _ => panic!("{name} failed to plan: {error:?}"),
                };
                assert!(error.message.contains(expected), "{error:?}");
                assert!(!error.message.contains('\n'));
                assert!(error.traceback.contains(".py"), "{error:?}");
            }
        }
    }
}

/// This machine's facts, enough for the samples (the real ones come from `lutf-helper`).
fn facts() -> Facts {
    let read = |p: &str| std::fs::read_to_string(p).unwrap().trim().to_string();
    Facts {
        hostname: read("/proc/sys/kernel/hostname"),
        kernel: read("/proc/sys/kernel/osrelease"),
        arch: std::env::consts::ARCH.into(),
        os: OsInfo::default(),
        cpus: 1,
        memory_bytes: 0,
        python: PythonInfo::default(),
        interfaces: vec![Interface {
            name: "eth9".into(),
            mtu: Some(9000),
            mac: None,
            flags: IfFlags {
                up: true,
                running: true,
                broadcast: true,
                multicast: true,
                loopback: false,
            },
            ipv4: vec![Addr {
                address: "10.9.9.9".into(),
                prefix: 24,
            }],
            ipv6: vec![],
        }],
        lnet: LnetState::default(),
    }
}

fn context(test: &str, roles: &[&str], role: &str, results: Value, params: Value) -> StepContext {
    let nodes = roles
        .iter()
        .map(|r| {
            let info = NodeInfo {
                name: format!("n-{r}"),
                facts: facts(),
                targets: None,
            };
            (r.to_string(), info)
        })
        .collect();
    StepContext {
        test: test.into(),
        role: role.into(),
        node_name: format!("n-{role}"),
        nodes,
        results: serde_json::from_value(results).unwrap(),
        params: serde_json::from_value(params).unwrap(),
        secrets: Default::default(),
        failed: None,
    }
}

/// Runs one step through the runner with `ctx` (written by the protocol type) and reads the
/// outcome back through `StepOutcome`, checking the round trip loses nothing.
fn step(file: &str, name: &str, ctx: &StepContext) -> StepOutcome {
    let dir = tempfile::tempdir().unwrap();
    let ctx_file = dir.path().join("context.json");
    std::fs::write(&ctx_file, serde_json::to_vec(ctx).unwrap()).unwrap();
    let path = root().join(file);
    let doc = runner(&[
        "step",
        &path.to_string_lossy(),
        name,
        &ctx_file.to_string_lossy(),
    ]);
    let parsed: OutcomeFile =
        serde_json::from_value(doc.clone()).unwrap_or_else(|e| panic!("{file}: {e}: {doc}"));
    assert_eq!(
        serde_json::to_value(&parsed.outcome).unwrap(),
        doc["outcome"]
    );
    parsed.outcome
}

fn failure(outcome: StepOutcome) -> (FailureKind, String) {
    match outcome {
        StepOutcome::Fail { failure } => (failure.kind, failure.message),
        other => panic!("expected FAIL, got {other:?}"),
    }
}

#[test]
fn step_outcomes_read_as_the_protocol_step_outcome() {
    let one = |test| context(test, &["node1"], "node1", json!({}), json!({}));

    // PASS: a sample checking the facts it was handed against the machine.
    let outcome = step(
        "suites/samples/test_01.py",
        "whoami",
        &one("samples/test_01"),
    );
    let StepOutcome::Pass { value } = outcome else {
        panic!("{outcome:?}")
    };
    assert_eq!(value["hostname"], json!(facts().hostname));

    // PASS: results and params in, role fan-out by name, node facts as attributes.
    let ctx = context(
        "features/test_02",
        &["node1", "node2"],
        "node1",
        json!({"name@node1": "a", "name@node2": "b"}),
        json!({}),
    );
    let outcome = step("tests/fixtures/suites/features/test_02.py", "collect", &ctx);
    assert_eq!(
        outcome,
        StepOutcome::Pass {
            value: json!({"node1": "a", "node2": "b"})
        }
    );
    let ctx = context(
        "features/test_01",
        &["node1"],
        "node1",
        json!({}),
        json!({"who": "me"}),
    );
    let outcome = step(
        "tests/fixtures/suites/features/test_01.py",
        "use_helper",
        &ctx,
    );
    assert_eq!(
        outcome,
        StepOutcome::Pass {
            value: json!({"shout": "HELLO!", "params": {"who": "me"}})
        }
    );

    // FAIL of each kind the runner itself reports.
    let cases = [
        (
            "broken/test_01.py",
            "count_widgets",
            FailureKind::Assertion,
            "expected 2 widgets, found 1",
        ),
        (
            "failures/test_02.py",
            "parse",
            FailureKind::Exception,
            "ValueError: invalid literal",
        ),
        (
            "failures/test_03.py",
            "peers",
            FailureKind::NotSerializable,
            "a set at value['peers']",
        ),
        (
            "failures/test_06.py",
            "list_missing",
            FailureKind::Assertion,
            "`ls /lutf-no-such-path` exited 2",
        ),
        (
            "broken/test_02.py",
            "oops",
            FailureKind::TestFile,
            "SyntaxError",
        ),
        (
            "broken/test_01.py",
            "no_such_step",
            FailureKind::TestFile,
            "has no step 'no_such_step'",
        ),
    ];
    for (file, name, kind, message) in cases {
        let (got_kind, got_message) = failure(step(
            &format!("tests/fixtures/suites/{file}"),
            name,
            &one("fixtures/test"),
        ));
        assert_eq!(got_kind, kind, "{file} {name}: {got_message}");
        assert!(got_message.contains(message), "{file}: {got_message}");
    }

    // SKIP with its reason.
    assert_eq!(
        step(
            "tests/fixtures/suites/broken/test_04.py",
            "nothing_to_do",
            &one("broken/test_04")
        ),
        StepOutcome::Skip {
            reason: "this fixture always skips".into()
        }
    );
}

#[test]
fn sigterm_stops_a_background_step_which_passes_with_its_value() {
    let dir = tempfile::tempdir().unwrap();
    let test = dir.path().join("test_01.py");
    std::fs::write(
        &test,
        "\"\"\"Counts until stopped.\"\"\"\n\
         import time\n\
         from lutf import Stopped, Test\n\
         test = Test()\n\
         @test.step(background=True)\n\
         def count(ctx):\n\
         \x20   n = 0\n\
         \x20   try:\n\
         \x20       while True:\n\
         \x20           n += 1\n\
         \x20           if n == 1:\n\
         \x20               print('running', flush=True)\n\
         \x20           time.sleep(0.01)\n\
         \x20   except Stopped:\n\
         \x20       return {'rounds': n}\n",
    )
    .unwrap();
    let ctx_file = dir.path().join("context.json");
    let ctx = context("t/test_01", &["node1"], "node1", json!({}), json!({}));
    std::fs::write(&ctx_file, serde_json::to_vec(&ctx).unwrap()).unwrap();
    let result = dir.path().join("result.json");
    let mut child = python(Path::new("python3"))
        .args(["-m", "lutf.runner", "step"])
        .args([&test, Path::new("count"), &ctx_file, &result])
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    // Wait for the step to be running, so the stop lands inside it.
    let mut stdout = child.stdout.take().unwrap();
    let mut first = [0u8; 8];
    std::io::Read::read_exact(&mut stdout, &mut first).unwrap();
    assert_eq!(&first, b"running\n");
    // SAFETY: kill() on a child we spawned and have not reaped.
    assert_eq!(unsafe { libc::kill(child.id() as i32, libc::SIGTERM) }, 0);
    // Generous bound: proves the runner ended on SIGTERM instead of hanging.
    let deadline = Instant::now() + Duration::from_secs(60);
    let status = loop {
        if let Some(status) = child.try_wait().unwrap() {
            break status;
        }
        assert!(
            Instant::now() < deadline,
            "runner still running after SIGTERM"
        );
        std::thread::sleep(Duration::from_millis(10));
    };
    assert!(status.success(), "{status}");
    let doc: Value = serde_json::from_slice(&std::fs::read(&result).unwrap()).unwrap();
    let parsed: OutcomeFile = serde_json::from_value(doc).unwrap();
    let StepOutcome::Pass { value } = parsed.outcome else {
        panic!("{:?}", parsed.outcome)
    };
    assert!(value["rounds"].as_u64().unwrap() > 0, "{value}");
}

#[test]
fn the_python_package_is_embedded_in_lutf() {
    // build.rs embeds every helper/python/**/*.py; the bundle must carry the runner.
    let bundle = lutf::bundle::Bundle::new(&[]).unwrap();
    let names: BTreeMap<&str, usize> = bundle
        .files()
        .iter()
        .map(|f| (f.path.as_str(), f.data.len()))
        .collect();
    for module in ["__init__", "runner", "test", "context", "process", "errors"] {
        let path = format!("python/lutf/{module}.py");
        assert!(
            names.get(path.as_str()).is_some_and(|&n| n > 0),
            "{path} missing: {names:?}"
        );
    }
}
