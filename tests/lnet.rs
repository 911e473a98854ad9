//! `lutf lnet` end to end, whatever Lustre the machine has: the real `lutf` binary, the
//! static helper and its companion `lutf-lnetconfig` it embeds, deployed by the local
//! transport.
//!
//! - Without the library (`LUTF_LNET_LIBRARY` naming none), `lutf lnet show-net` says
//!   Lustre is missing and exits 1.
//! - With `liblnetconfig-abi-double` (the C stand-in, built once per ABI) as `--library`
//!   and a fake `/sys` under `LUTF_TEST_LNET_ROOT`, every supported ABI is picked from the
//!   version the node reports, and arguments and results travel the whole way: command line
//!   → request → static helper → companion → library, and back.
//! - A Python step using `lutf.lnet` gets the typed errors.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::sync::{Mutex, OnceLock};

use lutf::bundle::Bundle;
use lutf::protocol::{
    decode_reply, Facts, NodeInfo, Op, Request, StepArgs, StepContext, StepOutcome, StepResult,
};

const LUTF: &str = env!("CARGO_BIN_EXE_lutf");

/// The stand-in library for `abi` ("2.15", "2.16", "2.17"), built once per test run.
fn double(abi: &str) -> PathBuf {
    static BUILT: OnceLock<Mutex<BTreeMap<String, PathBuf>>> = OnceLock::new();
    let mut built = BUILT.get_or_init(Default::default).lock().unwrap();
    built
        .entry(abi.to_owned())
        .or_insert_with(|| {
            let dir = PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join("lnet-abi-double");
            lnetconfig_sys::abi_double::build(abi, &dir).expect("build the ABI double")
        })
        .clone()
}

/// A work directory, a fake root and a record file for one test.
struct Place {
    dir: tempfile::TempDir,
}

impl Place {
    fn new() -> Place {
        Place {
            dir: tempfile::tempdir().unwrap(),
        }
    }

    fn path(&self, rel: &str) -> PathBuf {
        self.dir.path().join(rel)
    }

    /// A root where the lnet module of `version` is loaded (`None`: no version file).
    fn loaded(&self, version: Option<&str>) -> PathBuf {
        let root = self.path("root");
        std::fs::create_dir_all(root.join("sys/module/lnet")).unwrap();
        std::fs::create_dir_all(root.join("dev")).unwrap();
        std::fs::write(root.join("dev/lnet"), "").unwrap();
        if let Some(v) = version {
            std::fs::write(root.join("sys/module/lnet/version"), format!("{v}\n")).unwrap();
        }
        root
    }

    /// `lutf --workdir W ARGS...` with `env` added.
    fn lutf(&self, args: &[&str], env: &[(&str, &Path)]) -> Output {
        let mut cmd = Command::new(LUTF);
        cmd.arg("--workdir").arg(self.path("work")).args(args);
        for (k, v) in env {
            cmd.env(k, v);
        }
        cmd.output().unwrap()
    }

    /// The calls the double recorded, each as its key=value fields.
    fn recorded(&self) -> Vec<BTreeMap<String, String>> {
        std::fs::read_to_string(self.path("record"))
            .unwrap_or_default()
            .lines()
            .map(|l| {
                l.split('\t')
                    .filter_map(|kv| kv.split_once('='))
                    .map(|(k, v)| (k.to_owned(), v.to_owned()))
                    .collect()
            })
            .collect()
    }
}

/// Output as text, terminal colour codes removed.
fn text(b: &[u8]) -> String {
    let s = String::from_utf8_lossy(b);
    let mut out = String::with_capacity(s.len());
    let mut chars = s.chars();
    while let Some(c) = chars.next() {
        if c == '\x1b' {
            // ESC [ ... m
            for c in chars.by_ref() {
                if c == 'm' {
                    break;
                }
            }
        } else {
            out.push(c);
        }
    }
    out
}

/// A library path where there is none: Lustre "not installed", whatever the machine has
/// (`LUTF_LNET_LIBRARY` replaces the loader's search for `liblnetconfig.so.4`).
fn no_library(place: &Place) -> PathBuf {
    place.path("no-lustre/liblnetconfig.so.4")
}

#[test]
fn show_net_without_lustre_says_so_and_exits_1() {
    let place = Place::new();
    let missing = no_library(&place);
    let out = place.lutf(
        &["lnet", "show-net"],
        &[("LUTF_LNET_LIBRARY", missing.as_path())],
    );
    let err = text(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{err}");
    assert!(
        err.contains(&format!(
            "lutf: node local: {} not found: is Lustre installed on ",
            missing.display()
        )),
        "{err}"
    );
    assert!(err.trim_end().ends_with("[no_lustre]"), "{err}");
    assert!(out.stdout.is_empty(), "{}", text(&out.stdout));
}

#[test]
fn every_abi_is_picked_from_the_version_and_called_through_the_companion() {
    for (version, abi, shown) in [
        ("2.15.7", "2.15", "2.15"),
        ("2.16.1", "2.16", "2.16"),
        ("2.17.57", "2.17", "2.17+"),
    ] {
        let place = Place::new();
        let root = place.loaded(Some(version));
        let lib = double(abi);
        let record = place.path("record");
        let env = [
            ("LUTF_TEST_LNET_ROOT", root.as_path()),
            ("LNETCONFIG_DOUBLE_RECORD", record.as_path()),
            // Shows the ABI and version the companion reported.
            ("LUTF_LOG", Path::new("info")),
        ];
        let lib_arg = lib.to_str().unwrap();

        let out = place.lutf(&["lnet", "--library", lib_arg, "show-net", "-vv"], &env);
        let (stdout, stderr) = (text(&out.stdout), text(&out.stderr));
        assert_eq!(out.status.code(), Some(0), "{version}: {stderr}");
        let shown_tree: serde_yaml::Value = serde_yaml::from_str(&stdout).unwrap();
        assert_eq!(shown_tree["received"]["detail"], 2, "{stdout}");
        assert_eq!(
            shown_tree["net"][1]["local NI(s)"][0]["nid"],
            "10.0.0.1@tcp"
        );
        assert!(
            stderr.contains(&format!("abi={shown}")) && stderr.contains(version),
            "{version}: {stderr}"
        );

        let out = place.lutf(
            &[
                "lnet",
                "--library",
                lib_arg,
                "add-ni",
                "--net",
                "tcp1",
                "--if",
                "eth0,eth1",
                "--peer-credits",
                "16",
                "--cpt",
                "[0,2-3]",
            ],
            &env,
        );
        assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
        assert!(out.stdout.is_empty(), "add-ni prints nothing");
        let calls = place.recorded();
        let add = calls
            .iter()
            .find(|c| c["call"] == "lustre_lnet_config_ni")
            .unwrap_or_else(|| panic!("{version}: no config_ni in {calls:?}"));
        assert_eq!(add["lib_init"], "1", "initialised first");
        assert_eq!(add["intfs"], "eth0,eth1");
        assert_eq!(add["nw_id"], "0x20001", "tcp1");
        assert_eq!(add["peer_credits"], "16");
        assert_eq!(add["global_cpts"], "0-0/1,2-3/1");
        assert_eq!(
            add.contains_key("cpp"),
            abi == "2.15",
            "only 2.15 takes cpp"
        );

        // JSON output of the same tree.
        let out = place.lutf(
            &[
                "lnet",
                "--library",
                lib_arg,
                "--format",
                "json",
                "show-stats",
            ],
            &env,
        );
        assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
        let _: serde_json::Value = serde_json::from_slice(&out.stdout)
            .unwrap_or_else(|e| panic!("{e}: {}", text(&out.stdout)));
    }
}

#[test]
fn what_the_library_refuses_comes_back_with_its_errno() {
    let place = Place::new();
    let root = place.loaded(Some("2.17.57"));
    let lib = double("2.17");
    let out = place.lutf(
        &[
            "lnet",
            "--library",
            lib.to_str().unwrap(),
            "add-ni",
            "--net",
            "tcp",
            "--if",
            "eth0",
        ],
        &[
            ("LUTF_TEST_LNET_ROOT", root.as_path()),
            (
                "LNETCONFIG_DOUBLE_FAIL",
                Path::new("-17:cannot add LNet NI"),
            ),
        ],
    );
    let err = text(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{err}");
    assert!(err.contains("lutf: node local: add_ni failed on "), "{err}");
    assert!(
        err.contains("cannot add LNet NI (errno -17: File exists) [lnet]"),
        "{err}"
    );
}

#[test]
fn lnet_not_loaded_and_unknown_versions_are_said_plainly() {
    let place = Place::new();
    let lib = double("2.17");
    let lib_arg = lib.to_str().unwrap();
    // Nothing loaded (an empty root), the ABI forced so that no version is needed.
    let empty = place.path("empty");
    std::fs::create_dir_all(&empty).unwrap();
    let out = place.lutf(
        &["lnet", "--library", lib_arg, "--abi", "2.17", "show-net"],
        &[("LUTF_TEST_LNET_ROOT", empty.as_path())],
    );
    let err = text(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{err}");
    assert!(
        err.contains("lutf: node local: LNet is not loaded on "),
        "{err}"
    );
    assert!(err.contains("[lnet_not_loaded]"), "{err}");
    assert!(err.contains("modprobe lnet"), "{err}");

    // A version no ABI covers, named with where it was read.
    let root = place.loaded(Some("2.12.9"));
    let out = place.lutf(
        &["lnet", "--library", lib_arg, "show-net"],
        &[("LUTF_TEST_LNET_ROOT", root.as_path())],
    );
    let err = text(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{err}");
    assert!(
        err.contains("node local: unknown Lustre version on "),
        "{err}"
    );
    assert!(err.contains("[unknown_version]"), "{err}");
    assert!(err.contains("2.12.9 (older than 2.15)"), "{err}");

    // A bad argument never reaches a node: a usage error.
    let out = place.lutf(&["lnet", "ping", "10.0.0.2"], &[]);
    assert_eq!(out.status.code(), Some(2));
    assert!(
        text(&out.stderr).contains("bad NID"),
        "{}",
        text(&out.stderr)
    );
}

/// A test file whose one step meets lutf.lnet's errors and returns what it saw.
const STEP: &str = r#""""lutf.lnet's errors reach a step typed."""
from lutf import Skipped, Test, lnet

test = Test()


@test.step
def errors(ctx):
    seen = {}
    try:
        lnet.show_net()
    except lnet.LnetError as e:
        seen["show_net"] = [e.kind, e.errno]
    try:
        lnet.lnetctl("net", "add", "--net", "tcp", "--if", "eth0")
    except lnet.LnetError as e:
        seen["net_add"] = [e.kind, e.errno, e.description, e.rc]
    seen["unchecked"] = lnet.lnetctl("net", "add", "--net", "tcp", "--if", "eth0", check=False)["exit_code"]
    try:
        lnet.require()
    except Skipped as e:
        seen["require"] = str(e)
    return seen
"#;

/// lnetctl failing as it does for an NI that exists (tests/fixtures/lnet-2.17.57).
const FAKE_LNETCTL: &str = "#!/bin/sh
cat <<'EOF'
add:
-     net:
      errno: -17
      descr: ! \"cannot add LNet NI\"
EOF
exit 234
";

/// Runs the step with the helper of a deployed bundle, `python3` being `python`.
fn run_step(place: &Place, bundle_dir: &Path, python: &Path) -> StepResult {
    let bin = place.path("bin");
    std::fs::create_dir_all(&bin).unwrap();
    let lnetctl = bin.join("lnetctl");
    // Written by a child process (`install`): a write descriptor of it in this
    // multi-threaded process could leak into a concurrent fork and make it ETXTBSY.
    let part = bin.join("lnetctl.part");
    std::fs::write(&part, FAKE_LNETCTL).unwrap();
    let installed = Command::new("install")
        .args(["-m", "755"])
        .arg(&part)
        .arg(&lnetctl)
        .status()
        .unwrap();
    assert!(installed.success());
    std::fs::remove_file(&part).unwrap();
    let _ = std::fs::remove_file(bin.join("python3"));
    std::os::unix::fs::symlink(python, bin.join("python3")).unwrap();
    let root = place.loaded(Some("2.17.57"));
    let helper = Bundle::helper_path(bundle_dir);
    let call = |op: Op| -> String {
        let mut child = Command::new(&helper)
            .env_clear()
            .env("PATH", format!("{}:/usr/bin:/bin", bin.display()))
            .env("LUTF_TEST_LNET_ROOT", &root)
            // This test's lnetctl and no library, whatever the machine has installed.
            .env("LUTF_LNET_TOOLS", &bin)
            .env("LUTF_LNET_LIBRARY", no_library(place))
            .arg("--workdir")
            .arg(place.path("work"))
            .stdin(std::process::Stdio::piped())
            .stdout(std::process::Stdio::piped())
            .spawn()
            .unwrap();
        use std::io::Write;
        child
            .stdin
            .take()
            .unwrap()
            .write_all(Request::from(op).to_yaml().as_bytes())
            .unwrap();
        text(&child.wait_with_output().unwrap().stdout)
    };
    let facts: Facts = decode_reply(&call(Op::Facts))
        .unwrap()
        .into_result()
        .unwrap();
    let context = StepContext {
        test: "lnetcheck/test_01".into(),
        role: "node1".into(),
        node_name: "local".into(),
        nodes: [(
            "node1".to_string(),
            NodeInfo {
                name: "local".into(),
                facts,
                targets: None,
            },
        )]
        .into(),
        results: BTreeMap::new(),
        params: BTreeMap::new(),
        secrets: BTreeMap::new(),
        failed: None,
    };
    let step = Op::Step(StepArgs {
        file: "lnetcheck/test_01.py".into(),
        step: "errors".into(),
        context,
        timeout: Some(60.0), // generous: proves only that it did not hang
        output_limit: None,
        origin: None,
        wait: None,
        job: None,
    });
    decode_reply(&call(step)).unwrap().into_result().unwrap()
}

#[test]
fn a_python_step_gets_lnet_errors_typed() {
    let place = Place::new();
    let suite = place.path("lnetcheck");
    std::fs::create_dir_all(&suite).unwrap();
    std::fs::write(suite.join("test_01.py"), STEP).unwrap();
    let bundle = Bundle::new(&[suite]).unwrap();
    let deployed = lutf::transport::local::install_bundle(&place.path("work"), &bundle).unwrap();
    let mut pythons = vec![PathBuf::from("/usr/bin/python3")];
    let py36 = Path::new("/root/.pyenv/versions/3.6.15/bin/python3.6");
    if py36.exists() {
        pythons.push(py36.to_path_buf());
    } else {
        eprintln!("SKIP (3.6 part): {} is not here", py36.display());
    }
    for python in pythons {
        let r = run_step(&place, Path::new(&deployed.dir), &python);
        let StepOutcome::Pass { value } = &r.outcome else {
            panic!(
                "{python:?}: {:?}\n{}",
                r.outcome,
                r.log.data.to_string_lossy()
            )
        };
        assert_eq!(value["show_net"][0], "no_lustre", "{python:?}: {value}");
        assert_eq!(value["show_net"][1], serde_json::Value::Null);
        let why = value["require"].as_str().unwrap_or_default();
        assert!(why.contains("is Lustre installed on"), "{why}");
        assert_eq!(
            value["net_add"],
            serde_json::json!(["lnet", -17, "cannot add LNet NI", 234]),
            "{python:?}"
        );
        assert_eq!(value["unchecked"], 234);
        let log = r.log.data.to_string_lossy();
        assert!(
            log.contains("lnet: lnetctl argv="),
            "the calls are logged: {log}"
        );
    }
}
