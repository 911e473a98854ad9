//! Every malformed request of `tests/malformed/` (and one oversized request made here) fed
//! to the real `lutf-helper`: each must get a structured error reply of the expected kind
//! and the documented exit code: never a panic, never 0, never 255.

use std::io::Write;
use std::path::Path;
use std::process::{Command, Stdio};

use lutf_protocol::{decode_reply, ErrorKind, MAX_REQUEST_BYTES};

const HELPER: &str = env!("CARGO_BIN_EXE_lutf-helper");

/// Runs the helper on `input`; returns its exit code, stdout and stderr.
fn call(workdir: &Path, input: &[u8]) -> (i32, String, String) {
    let mut child = Command::new(HELPER)
        .arg("--workdir")
        .arg(workdir)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut stdin = child.stdin.take().unwrap();
    let data = input.to_vec();
    // The helper may stop reading early (oversized input): a broken pipe is expected then.
    let writer = std::thread::spawn(move || {
        let _ = stdin.write_all(&data);
    });
    let out = child.wait_with_output().unwrap();
    writer.join().unwrap();
    (
        out.status
            .code()
            .expect("the helper exits, it is not killed"),
        String::from_utf8(out.stdout).expect("replies are UTF-8"),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

fn kind(name: &str) -> ErrorKind {
    serde_yaml::from_str(name).unwrap_or_else(|e| panic!("unknown kind {name}: {e}"))
}

fn check(what: &str, input: &[u8], expected: ErrorKind) {
    let dir = tempfile::tempdir().unwrap();
    let (code, stdout, stderr) = call(&dir.path().join("w"), input);
    assert!(
        !stderr.contains("panicked"),
        "{what}: helper panicked: {stderr}"
    );
    let reply = decode_reply::<serde_yaml::Value>(&stdout)
        .unwrap_or_else(|e| panic!("{what}: reply is not a reply ({e}):\n{stdout}"));
    let error = reply
        .into_result()
        .expect_err(&format!("{what}: expected an error reply"));
    assert_eq!(error.kind, expected, "{what}: {error}");
    assert!(!error.message.trim().is_empty(), "{what}: empty message");
    assert_eq!(code, expected.exit_code(), "{what}: exit code");
    assert!(code != 0 && code != 255, "{what}: exit code {code}");
}

#[test]
fn every_malformed_request_gets_a_structured_error() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/malformed");
    let listing = std::fs::read_to_string(dir.join("EXPECTED")).unwrap();
    let mut cases = Vec::new();
    for line in listing.lines() {
        if line.starts_with('#') || line.trim().is_empty() {
            continue;
        }
        let (file, kind_name) = line.split_once(' ').expect("`<file> <kind>` lines");
        cases.push((file.to_string(), kind(kind_name.trim())));
    }
    // Every file in the folder is a case, and every case has its file.
    let mut files: Vec<String> = std::fs::read_dir(&dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .filter(|n| n != "EXPECTED")
        .collect();
    files.sort();
    let mut listed: Vec<String> = cases.iter().map(|(f, _)| f.clone()).collect();
    listed.sort();
    assert_eq!(files, listed, "tests/malformed/ and EXPECTED disagree");
    assert!(cases.len() >= 20, "the corpus keeps at least 20 cases");

    for (file, expected) in &cases {
        let input = std::fs::read(dir.join(file)).unwrap();
        check(file, &input, *expected);
    }
}

#[test]
fn oversized_request_is_refused_without_reading_it_all() {
    let mut big = b"version: 1\nop: exec\nargs: {argv: [echo, '".to_vec();
    big.resize(MAX_REQUEST_BYTES + 4096, b'x');
    big.extend_from_slice(b"']}\n");
    check("oversized request", &big, ErrorKind::TooLarge);
}

#[test]
fn bad_command_line_is_a_structured_error_too() {
    let out = Command::new(HELPER).arg("--frobnicate").output().unwrap();
    let reply = decode_reply::<serde_yaml::Value>(&String::from_utf8_lossy(&out.stdout)).unwrap();
    assert_eq!(reply.into_result().unwrap_err().kind, ErrorKind::BadArgs);
    assert_eq!(out.status.code(), Some(2));
}
