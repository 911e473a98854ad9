//! The LNet operations of the real helper binary, whatever Lustre the machine has: `lnetctl`
//! and `lst` are small scripts in a folder of the test's own (`LUTF_LNET_TOOLS`, so that a
//! real `/usr/sbin/lnetctl` is never used) that print what the real tools print
//! (see tests/fixtures/lnet-2.17.57), the lnet modules are faked under a folder named by
//! `LUTF_TEST_LNET_ROOT`, and `lnet` meets companions that cannot start. (The real companion
//! with the ABI double is driven through `lutf lnet` in the top-level tests/lnet.rs.)

mod common;

use std::path::{Path, PathBuf};

use common::Work;
use lutf_protocol::lnet::{BrwMode, LstTest};
use lutf_protocol::{
    ErrorKind, ErrorReply, LnetArgs, LnetCall, LnetctlArgs, LnetctlResult, LstAction, LstArgs,
    LstResult, Op,
};

/// A bundle folder with a copy of the helper, a bin folder for fake tools, and a fake root.
struct Node {
    work: Work,
    dir: tempfile::TempDir,
    helper: PathBuf,
}

impl Node {
    /// LNet "loaded" (module and device present), no tools yet.
    fn new() -> Node {
        let dir = tempfile::tempdir().unwrap();
        let helper = dir.path().join("bundle/lutf-helper");
        std::fs::create_dir_all(helper.parent().unwrap()).unwrap();
        // A copy: the helper finds its companion beside its own real path.
        common::copy_executable(Path::new(common::HELPER), &helper);
        for d in ["bin", "root/sys/module/lnet", "root/dev"] {
            std::fs::create_dir_all(dir.path().join(d)).unwrap();
        }
        std::fs::write(dir.path().join("root/dev/lnet"), "").unwrap();
        let mut work = Work::new();
        work.env = Some(vec![
            (
                "PATH".into(),
                format!("{}:/usr/bin:/bin", dir.path().join("bin").display()),
            ),
            // The tools of the test only, whatever the machine has installed.
            (
                "LUTF_LNET_TOOLS".into(),
                dir.path().join("bin").display().to_string(),
            ),
            (
                "LUTF_TEST_LNET_ROOT".into(),
                dir.path().join("root").display().to_string(),
            ),
            (
                "TOOL_LOG".into(),
                dir.path().join("tool.log").display().to_string(),
            ),
        ]);
        Node { work, dir, helper }
    }

    fn root(&self) -> PathBuf {
        self.dir.path().join("root")
    }

    /// A fake tool in the PATH: a shell `case` on its arguments. Every call is logged with
    /// its LST_SESSION.
    fn tool(&self, name: &str, cases: &str) {
        let path = self.dir.path().join("bin").join(name);
        common::write_executable(
            &path,
            format!(
                "#!/bin/sh\necho \"LST_SESSION=${{LST_SESSION:-}} $*\" >> \"$TOOL_LOG\"\ncase \"$*\" in\n{cases}\n*) echo \"unexpected: $*\" >&2; exit 99;;\nesac\n"
            )
            .as_bytes(),
            0o755,
        );
    }

    /// A file in the bundle beside the helper.
    fn bundle_file(&self, name: &str, data: &[u8], mode: u32) -> PathBuf {
        let path = self.helper.parent().unwrap().join(name);
        common::write_executable(&path, data, mode);
        path
    }

    fn log(&self) -> Vec<String> {
        std::fs::read_to_string(self.dir.path().join("tool.log"))
            .unwrap_or_default()
            .lines()
            .map(str::to_owned)
            .collect()
    }

    fn call<T: serde::de::DeserializeOwned>(&self, op: Op) -> (Result<T, ErrorReply>, i32) {
        self.work.call_with(&self.helper, op)
    }

    fn ok<T: serde::de::DeserializeOwned>(&self, op: Op) -> T {
        match self.call(op) {
            (Ok(v), 0) => v,
            (r, code) => panic!("exit code {code}: {:?}", r.err()),
        }
    }

    fn err(&self, op: Op) -> ErrorReply {
        match self.call::<serde_yaml::Value>(op) {
            (Err(e), code) => {
                assert_eq!(code, e.kind.exit_code(), "{e}");
                e
            }
            (Ok(v), _) => panic!("expected an error, got {v:?}"),
        }
    }
}

fn lnetctl(argv: &[&str]) -> Op {
    Op::Lnetctl(LnetctlArgs {
        argv: argv.iter().map(|s| (*s).to_owned()).collect(),
        ..Default::default()
    })
}

/// `lnetctl net show` on a 2.17 node, as printed (6-space netlink indentation).
const NET_SHOW: &str = "net:
-     net type: lo
      local NI(s):
      -     nid: 0@lo
            status: up
-     net type: tcp
      local NI(s):
      -     nid: 10.0.2.15@tcp
            status: up
            interfaces:
                  0: eth0";

/// `lnetctl net add` of an NI that exists: the error document and exit 234.
const NET_ADD_EXISTS: &str = "---
add:
-     net:
      errno: -17
      descr: ! \"cannot add LNet NI\"
...";

fn case(args: &str, output: &str, code: i32) -> String {
    format!("\"{args}\") cat <<'EOF'\n{output}\nEOF\nexit {code};;")
}

#[test]
fn lnetctl_output_is_parsed_as_yaml() {
    let node = Node::new();
    node.tool("lnetctl", &case("net show", NET_SHOW, 0));
    let r: LnetctlResult = node.ok(lnetctl(&["net", "show"]));
    assert_eq!(r.command, ["lnetctl", "net", "show"]);
    assert_eq!(r.exit_code, 0);
    assert_eq!(r.output["net"][1]["net type"], "tcp");
    assert_eq!(r.output["net"][1]["local NI(s)"][0]["nid"], "10.0.2.15@tcp");
    assert!(r.errors.is_empty() && r.diagnostics.is_empty(), "{r:?}");
    assert!(r.text.contains("10.0.2.15@tcp"));
}

#[test]
fn a_failing_lnetctl_is_an_lnet_error_with_its_errno() {
    let node = Node::new();
    node.tool(
        "lnetctl",
        &case("net add --net tcp --if eth0", NET_ADD_EXISTS, 234),
    );
    let e = node.err(lnetctl(&["net", "add", "--net", "tcp", "--if", "eth0"]));
    assert_eq!(e.kind, ErrorKind::Lnet, "{e}");
    let failure = e.lnet.as_ref().expect("the LNet failure");
    assert_eq!(failure.errno, Some(-17));
    assert_eq!(failure.description, "cannot add LNet NI");
    assert_eq!(failure.rc, Some(234));
    assert_eq!(failure.command.as_deref(), Some("add"));
    assert_eq!(failure.entity.as_deref(), Some("net"));
    assert!(
        e.message
            .contains("`lnetctl net add --net tcp --if eth0` failed on"),
        "{e}"
    );
    assert!(
        e.message
            .contains("cannot add LNet NI (errno -17, exit 234)"),
        "{e}"
    );

    // Unchecked, the same run is a result.
    let r: LnetctlResult = node.ok(Op::Lnetctl(LnetctlArgs {
        argv: ["net", "add", "--net", "tcp", "--if", "eth0"]
            .map(String::from)
            .to_vec(),
        check: false,
        ..Default::default()
    }));
    assert_eq!(r.exit_code, 234);
    assert_eq!(r.errors[0].errno, -17);
}

#[test]
fn lnetctl_without_the_module_says_lnet_is_not_loaded() {
    let node = Node::new();
    node.tool(
        "lnetctl",
        &case(
            "net show",
            "Writer error: failed to resolve Netlink family id",
            234,
        ),
    );
    std::fs::remove_dir_all(node.root().join("sys/module/lnet")).unwrap();
    let e = node.err(lnetctl(&["net", "show"]));
    assert_eq!(e.kind, ErrorKind::LnetNotLoaded, "{e}");
    assert!(e.message.starts_with("LNet is not loaded on "), "{e}");
    assert!(e.message.contains("`lnetctl net show` exited 234"), "{e}");
    assert!(
        e.detail.as_deref().unwrap_or("").contains("Writer error"),
        "the output is kept: {e:?}"
    );
}

#[test]
fn missing_tools_say_lustre_is_not_installed() {
    let node = Node::new();
    let e = node.err(lnetctl(&["net", "show"]));
    assert_eq!(e.kind, ErrorKind::NoLustre, "{e}");
    assert!(
        e.message
            .starts_with("lnetctl not found: is Lustre installed on "),
        "{e}"
    );
    let e = node.err(Op::Lst(LstArgs::new(LstAction::EndSession {})));
    assert_eq!(e.kind, ErrorKind::NoLustre, "{e}");
    assert!(e.message.starts_with("lst not found"), "{e}");
}

/// `lst` as it answers a session on 2.17 (tests/fixtures/lnet-2.17.57/vm1.lst-*).
fn fake_lst(node: &Node) {
    let stat = "[LNet Rates of clients]
[R] Avg: 462      RPC/s Min: 462      RPC/s Max: 462      RPC/s
[W] Avg: 462      RPC/s Min: 462      RPC/s Max: 462      RPC/s
[LNet Bandwidth of clients]
[R] Avg: 0.07     MiB/s Min: 0.07     MiB/s Max: 0.07     MiB/s
[W] Avg: 11.64    MiB/s Min: 11.64    MiB/s Max: 11.64    MiB/s";
    let cases = [
        case(
            "new_session --timeout 100 rw",
            "SESSION: rw FEATURES: 1 TIMEOUT: 100 FORCE: No",
            0,
        ),
        case(
            "add_group clients 10.10.0.1@tcp",
            "10.10.0.1@tcp are added to session",
            0,
        ),
        "\"add_batch bulk_rw\") exit 0;;".to_owned(),
        case(
            "add_test --batch bulk_rw --from clients --to servers brw write size=1M",
            "Test was added successfully",
            0,
        ),
        case("run bulk_rw", "bulk_rw is running now", 0),
        case("stat --count 1 --delay 1 clients", stat, 0),
        case(
            "show_error clients",
            "clients:\nTotal 0 error nodes in clients",
            0,
        ),
        case("stop bulk_rw", "1 batch in stopping\nBatch is stopped", 0),
        case("add_batch bulk_rw again", "bulk_rw already exists", 1),
        "\"end_session\") exit 0;;".to_owned(),
    ];
    node.tool("lst", &cases.join("\n"));
    std::fs::create_dir_all(node.root().join("sys/module/lnet_selftest")).unwrap();
}

fn lst(action: LstAction) -> Op {
    Op::Lst(LstArgs::new(action))
}

#[test]
fn an_lst_session_keeps_its_key_from_call_to_call() {
    let node = Node::new();
    fake_lst(&node);
    let s: LstResult = node.ok(lst(LstAction::NewSession {
        name: Some("rw".into()),
        session_timeout: Some(100),
        force: false,
    }));
    assert_eq!(s.result["name"], "rw");
    assert_eq!(s.result["timeout"], 100);
    let key = s.session;
    let g: LstResult = node.ok(lst(LstAction::AddGroup {
        name: "clients".into(),
        nids: vec!["10.10.0.1@tcp".into()],
    }));
    assert_eq!(
        g.result,
        serde_yaml::from_str::<serde_yaml::Value>("[10.10.0.1@tcp]").unwrap()
    );
    let _: LstResult = node.ok(lst(LstAction::AddBatch {
        name: "bulk_rw".into(),
    }));
    let _: LstResult = node.ok(lst(LstAction::AddTest {
        batch: "bulk_rw".into(),
        from: "clients".into(),
        to: "servers".into(),
        test: LstTest::Brw,
        mode: Some(BrwMode::Write),
        size: Some("1M".into()),
        check: None,
        concurrency: None,
        distribute: None,
        loops: None,
    }));
    let r: LstResult = node.ok(lst(LstAction::Run {
        batch: "bulk_rw".into(),
    }));
    assert_eq!(r.result, "bulk_rw");
    let st: LstResult = node.ok(lst(LstAction::Stat {
        groups: vec!["clients".into()],
        count: 1,
        delay: 1,
    }));
    let sample = &st.result["samples"][0];
    assert_eq!(sample["group"], "clients");
    assert_eq!(sample["rates"]["read"]["avg"].as_f64(), Some(462.0));
    assert_eq!(sample["bandwidth"]["write"]["max"].as_f64(), Some(11.64));
    assert_eq!(sample["bandwidth"]["write"]["unit"], "MiB/s");
    let errs: LstResult = node.ok(lst(LstAction::ShowError {
        groups: vec!["clients".into()],
    }));
    assert_eq!(errs.result["clients"], 0);
    let _: LstResult = node.ok(lst(LstAction::Stop {
        batch: "bulk_rw".into(),
    }));
    let end: LstResult = node.ok(lst(LstAction::EndSession {}));
    assert_eq!(end.session, key);

    // Every call ran with the key new_session chose.
    let log = node.log();
    assert_eq!(log.len(), 9, "{log:?}");
    for line in &log {
        assert!(line.starts_with(&format!("LST_SESSION={key} ")), "{line}");
    }
    // After end_session there is no session to use.
    let e = node.err(lst(LstAction::Run {
        batch: "bulk_rw".into(),
    }));
    assert_eq!(e.kind, ErrorKind::BadArgs, "{e}");
    assert!(e.message.contains("no lnet_selftest session"), "{e}");
}

#[test]
fn lst_failures_and_a_missing_module_are_said() {
    let node = Node::new();
    fake_lst(&node);
    // A session started by hand, driven with its key.
    let e = node.err(Op::Lst(LstArgs {
        action: LstAction::Command {
            argv: vec!["add_batch".into(), "bulk_rw".into(), "again".into()],
        },
        session: Some(4242),
        timeout: None,
    }));
    assert_eq!(e.kind, ErrorKind::Lnet, "{e}");
    let failure = e.lnet.as_ref().unwrap();
    assert_eq!(failure.description, "bulk_rw already exists");
    assert_eq!((failure.errno, failure.rc), (None, Some(1)));
    assert_eq!(node.log(), ["LST_SESSION=4242 add_batch bulk_rw again"]);

    std::fs::remove_dir_all(node.root().join("sys/module/lnet_selftest")).unwrap();
    let e = node.err(lst(LstAction::EndSession {}));
    assert_eq!(e.kind, ErrorKind::LnetNotLoaded, "{e}");
    assert!(
        e.message.starts_with("lnet_selftest is not loaded on ")
            && e.message.contains("modprobe lnet_selftest"),
        "{e}"
    );
}

fn show_net() -> Op {
    Op::Lnet(LnetArgs::new(LnetCall::ShowNet {
        net: None,
        detail: 0,
    }))
}

#[test]
fn lnet_without_the_companion_names_it() {
    let node = Node::new();
    let e = node.err(show_net());
    assert_eq!(e.kind, ErrorKind::Unavailable, "{e}");
    assert!(
        e.message.contains("this bundle has no lutf-lnetconfig"),
        "{e}"
    );
}

#[test]
fn a_companion_that_crashes_or_says_nothing_is_reported() {
    let node = Node::new();
    node.bundle_file("lutf-lnetconfig", b"#!/bin/sh\nkill -SEGV $$\n", 0o755);
    let e = node.err(show_net());
    assert_eq!(e.kind, ErrorKind::Internal, "{e}");
    assert!(e.message.contains("killed by signal 11"), "{e}");

    node.bundle_file(
        "lutf-lnetconfig",
        b"#!/bin/sh\necho 'cannot open shared object file' >&2\nexit 127\n",
        0o755,
    );
    let e = node.err(show_net());
    assert_eq!(e.kind, ErrorKind::Unavailable, "{e}");
    assert!(e.message.contains("cannot start"), "{e}");
    assert!(
        e.detail
            .as_deref()
            .unwrap_or("")
            .contains("exit code 127: cannot open"),
        "{e:?}"
    );
}

/// A copy of a dynamically linked program whose first glibc version need is made
/// impossible (GLIBC_2.N becomes GLIBC_9.N): the dynamic loader refuses to start it, as it
/// refuses a companion built on a newer glibc than the node's.
fn needing_a_future_glibc(dest: &Path) -> Option<String> {
    let mut data = std::fs::read(std::fs::canonicalize("/bin/true").ok()?).ok()?;
    let at = data.windows(8).position(|w| w == b"GLIBC_2.")?;
    data[at + 6] = b'9';
    let end = at + data[at..].iter().position(|&b| b == 0)?;
    let version = String::from_utf8(data[at + 6..end].to_vec()).ok()?;
    common::write_executable(dest, &data, 0o755);
    Some(version)
}

#[test]
fn a_companion_built_for_a_newer_glibc_says_which_it_needs() {
    let node = Node::new();
    let companion = node.helper.parent().unwrap().join("lutf-lnetconfig");
    let Some(needs) = needing_a_future_glibc(&companion) else {
        eprintln!("SKIP: /bin/true has no glibc version need to patch");
        return;
    };
    let e = node.err(show_net());
    assert_eq!(e.kind, ErrorKind::Unavailable, "{e}");
    assert!(
        e.message
            .contains(&format!("it needs glibc {needs} or later")),
        "{e}"
    );
    let has = std::process::Command::new("getconf")
        .arg("GNU_LIBC_VERSION")
        .output()
        .unwrap();
    let has = String::from_utf8_lossy(&has.stdout)
        .split_whitespace()
        .last()
        .unwrap()
        .to_owned();
    assert!(e.message.contains(&format!("has glibc {has}")), "{e}");
    assert!(e.message.contains("scripts/build-portable"), "{e}");
    assert!(
        e.detail.as_deref().unwrap_or("").contains("not found"),
        "the loader's words are kept: {e:?}"
    );
}

#[test]
fn replies_come_as_json_when_asked() {
    let node = Node::new();
    node.tool("lnetctl", &case("net show", NET_SHOW, 0));
    let out = std::process::Command::new(&node.helper)
        .env_clear()
        .envs(node.work.env.clone().unwrap())
        .arg("--workdir")
        .arg(&node.work.workdir)
        .arg("--json")
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .spawn()
        .and_then(|mut c| {
            use std::io::Write;
            c.stdin.take().unwrap().write_all(
                br#"{"version": 1, "op": "lnetctl", "args": {"argv": ["net", "show"]}}"#,
            )?;
            c.wait_with_output()
        })
        .unwrap();
    assert_eq!(out.status.code(), Some(0));
    let reply: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(
        reply["ok"]["output"]["net"][1]["local NI(s)"][0]["interfaces"]["0"],
        "eth0"
    );
}
