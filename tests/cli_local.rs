//! `lutf status` and `lutf exec` on this machine, through the real `lutf` binary and the
//! helper it embeds (the local transport).

use std::collections::BTreeSet;
use std::ffi::OsStr;
use std::os::unix::ffi::OsStrExt;
use std::process::{Command, Output};
use std::time::{Duration, Instant};

const LUTF: &str = env!("CARGO_BIN_EXE_lutf");

fn lutf(workdir: &std::path::Path, args: &[&OsStr]) -> Output {
    Command::new(LUTF)
        .arg("--workdir")
        .arg(workdir)
        .args(args)
        .output()
        .unwrap()
}

fn os(s: &str) -> &OsStr {
    OsStr::new(s)
}

/// Live (not zombie) processes whose command line contains `needle`.
fn processes_with(needle: &str) -> Vec<String> {
    let mut found = Vec::new();
    for entry in std::fs::read_dir("/proc").unwrap().flatten() {
        if entry.file_name().to_string_lossy().parse::<u32>().is_err() {
            continue;
        }
        let cmdline = std::fs::read(entry.path().join("cmdline")).unwrap_or_default();
        let cmdline = String::from_utf8_lossy(&cmdline).replace('\0', " ");
        if cmdline.contains(needle) {
            found.push(cmdline);
        }
    }
    found
}

#[test]
fn status_shows_the_real_hostname_and_interfaces() {
    let dir = tempfile::tempdir().unwrap();
    let out = lutf(dir.path(), &[os("status"), os("--format"), os("json")]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let nodes: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let facts = &nodes[0]["facts"];
    let hostname = std::fs::read_to_string("/proc/sys/kernel/hostname").unwrap();
    assert_eq!(facts["hostname"], hostname.trim());
    let expected: BTreeSet<String> = std::fs::read_dir("/sys/class/net")
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    let got: BTreeSet<String> = facts["interfaces"]
        .as_array()
        .unwrap()
        .iter()
        .map(|i| i["name"].as_str().unwrap().to_string())
        .collect();
    assert_eq!(got, expected);
    for i in facts["interfaces"].as_array().unwrap() {
        let name = i["name"].as_str().unwrap();
        let mtu = std::fs::read_to_string(format!("/sys/class/net/{name}/mtu")).unwrap();
        assert_eq!(i["mtu"].as_u64().unwrap().to_string(), mtu.trim(), "{name}");
    }

    let table = lutf(dir.path(), &[os("status")]);
    assert!(table.status.success());
    let text = String::from_utf8_lossy(&table.stdout);
    assert!(text.contains(hostname.trim()), "{text}");
    for name in &expected {
        assert!(text.contains(name.as_str()), "{name} missing from\n{text}");
    }
}

#[test]
fn exec_exits_with_the_commands_code() {
    let dir = tempfile::tempdir().unwrap();
    assert_eq!(
        lutf(dir.path(), &[os("exec"), os("--"), os("false")])
            .status
            .code(),
        Some(1)
    );
    let out = lutf(dir.path(), &[os("exec"), os("--"), os("echo"), os("hi")]);
    assert_eq!(out.status.code(), Some(0));
    assert_eq!(out.stdout, b"hi\n");
}

#[test]
fn exec_timeout_kills_everything_and_returns_promptly() {
    let dir = tempfile::tempdir().unwrap();
    let marker = format!(
        "300.{}{}",
        std::process::id(),
        Instant::now().elapsed().subsec_nanos()
    );
    let script = format!("sleep {marker} & sleep {marker}");
    let start = Instant::now();
    let out = lutf(
        dir.path(),
        &[
            os("exec"),
            os("--timeout"),
            os("1"),
            os("--"),
            os("sh"),
            os("-c"),
            os(&script),
        ],
    );
    // "Did not hang": the bound; the command alone would run 300 s.
    assert!(
        start.elapsed() < Duration::from_secs(3),
        "{:?}",
        start.elapsed()
    );
    assert_eq!(out.status.code(), Some(124));
    assert!(String::from_utf8_lossy(&out.stderr).contains("timed out"));
    let until = Instant::now() + Duration::from_secs(2);
    while !processes_with(&format!("sleep {marker}")).is_empty() && Instant::now() < until {
        std::thread::sleep(Duration::from_millis(20));
    }
    assert_eq!(
        processes_with(&format!("sleep {marker}")),
        Vec::<String>::new()
    );
}

#[test]
fn exec_passes_arguments_through_unchanged() {
    let dir = tempfile::tempdir().unwrap();
    let tricky: Vec<&[u8]> = vec![
        b"\xff\xfe\x80 not utf-8",
        b"$(touch /tmp/lutf-cli-pwned) `id` ; | & > <",
        b"'single' \"double\" \\back",
        b"*?[a]",
        b"",
        b"line\nbreak",
    ];
    let mut args: Vec<&OsStr> = vec![os("exec"), os("--"), os("printf"), os("%s\\0")];
    args.extend(tricky.iter().map(|t| OsStr::from_bytes(t)));
    let out = lutf(dir.path(), &args);
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let expected: Vec<u8> = tricky
        .iter()
        .flat_map(|t| t.iter().copied().chain([0]))
        .collect();
    assert_eq!(out.stdout, expected);
    assert!(!std::path::Path::new("/tmp/lutf-cli-pwned").exists());
}

#[test]
fn exec_node_picks_one_node_and_names_the_others_when_it_is_not_there() {
    let dir = tempfile::tempdir().unwrap();
    let out = lutf(
        dir.path(),
        &[
            os("exec"),
            os("--node"),
            os("local"),
            os("--"),
            os("echo"),
            os("hi"),
        ],
    );
    assert!(out.status.success(), "{out:?}");
    assert_eq!(String::from_utf8_lossy(&out.stdout).trim_end(), "hi");
    let out = lutf(
        dir.path(),
        &[os("exec"), os("--node"), os("vm9"), os("--"), os("true")],
    );
    assert_eq!(out.status.code(), Some(2), "{out:?}");
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("no node \"vm9\" in the cluster; its nodes are: local"),
        "{err}"
    );
}
