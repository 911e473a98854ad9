//! lutf with its output going into a pipe nobody reads (`lutf run 2>&1 | head -1`, once
//! `head` has quit): no panic (exit 101 before), the run goes on and its results are all
//! written. The pipes here have their reading end closed before lutf starts, so every write
//! fails with EPIPE.

use std::os::fd::{FromRawFd, OwnedFd};
use std::path::PathBuf;
use std::process::{Command, Stdio};

const LUTF: &str = env!("CARGO_BIN_EXE_lutf");

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// The writing end of a pipe whose reading end is already closed.
fn broken_pipe() -> Stdio {
    let mut fds = [0; 2];
    // SAFETY: `fds` has room for the two descriptors pipe(2) writes.
    assert_eq!(unsafe { libc::pipe(fds.as_mut_ptr()) }, 0);
    // SAFETY: both descriptors were just created and are owned by nobody else.
    let (read, write) = unsafe { (OwnedFd::from_raw_fd(fds[0]), OwnedFd::from_raw_fd(fds[1])) };
    drop(read);
    Stdio::from(write)
}

#[test]
fn a_run_whose_output_pipe_is_closed_finishes_and_writes_every_result() {
    let dir = tempfile::tempdir().unwrap();
    let results = dir.path().join("results");
    let out = Command::new(LUTF)
        .arg("--workdir")
        .arg(dir.path().join("work"))
        .args(["run", "--suite", "samples", "--suites"])
        .arg(root().join("suites"))
        .arg("--results")
        .arg(&results)
        .stdout(broken_pipe())
        .stderr(broken_pipe())
        .status()
        .unwrap();
    // samples on one node: every test passes or skips.
    assert_eq!(out.code(), Some(0), "{out}");
    let text = std::fs::read_to_string(results.join("latest/results.yml")).unwrap();
    let yml: serde_yaml::Value = serde_yaml::from_str(&text).unwrap();
    let subtests = yml["Tests"][0]["SubTests"].as_sequence().unwrap();
    assert_eq!(subtests.len(), 9, "{text}");
    assert!(results.join("latest/report.html").exists());
    // Showing it again into the closed pipe (was: "lutf: error: Broken pipe", exit 2).
    for format in [None, Some("html")] {
        let mut cmd = Command::new(LUTF);
        cmd.arg("results").arg(results.join("latest"));
        if let Some(f) = format {
            cmd.args(["--format", f]);
        }
        let shown = cmd
            .stdout(broken_pipe())
            .stderr(Stdio::piped())
            .output()
            .unwrap();
        assert_eq!(
            shown.status.code(),
            Some(0),
            "{format:?}: {}",
            String::from_utf8_lossy(&shown.stderr)
        );
        assert!(
            shown.stderr.is_empty(),
            "{}",
            String::from_utf8_lossy(&shown.stderr)
        );
    }
}

#[test]
fn list_and_errors_into_a_closed_pipe_exit_with_their_own_code() {
    let dir = tempfile::tempdir().unwrap();
    let list = Command::new(LUTF)
        .arg("--workdir")
        .arg(dir.path())
        .args(["list", "--suites"])
        .arg(root().join("suites"))
        .stdout(broken_pipe())
        .stderr(Stdio::piped())
        .output()
        .unwrap();
    assert_eq!(
        list.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&list.stderr)
    );
    // A usage error whose message cannot be shown still exits 2, not 101.
    let bad = Command::new(LUTF)
        .arg("--workdir")
        .arg(dir.path())
        .args(["run", "--suite", "no-such-suite", "--suites"])
        .arg(root().join("suites"))
        .stdout(broken_pipe())
        .stderr(broken_pipe())
        .status()
        .unwrap();
    assert_eq!(bad.code(), Some(2));
}
