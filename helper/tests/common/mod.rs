//! Calling the real `lutf-helper` binary from integration tests, one process per call,
//! exactly as the master does.

#![allow(dead_code)] // each test file uses a different part

pub mod bundle;

use std::io::{Read, Write};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

use lutf_protocol::{decode_reply, ErrorReply, Op, Request};
use serde::de::DeserializeOwned;

/// The helper built for these tests.
pub const HELPER: &str = env!("CARGO_BIN_EXE_lutf-helper");

/// Writes `data` as the executable `path` (mode `mode`) from a child process (`install`),
/// so that this multi-threaded test process never holds a descriptor open for writing on
/// it: a test thread forking at that moment would inherit one, and running the file would
/// fail with ETXTBSY ("Text file busy") until that child execs.
pub fn write_executable(path: &Path, data: &[u8], mode: u32) {
    let part = path.with_extension("part");
    std::fs::write(&part, data).unwrap();
    install(&part, path, mode);
    std::fs::remove_file(&part).unwrap();
}

/// Copies the program `from` to `to` as [`write_executable`] does (mode 0755).
pub fn copy_executable(from: &Path, to: &Path) {
    install(from, to, 0o755);
}

fn install(from: &Path, to: &Path, mode: u32) {
    let status = Command::new("install")
        .arg("-m")
        .arg(format!("{mode:o}"))
        .arg(from)
        .arg(to)
        .status()
        .unwrap();
    assert!(
        status.success(),
        "install {} {}",
        from.display(),
        to.display()
    );
}

/// A private work directory for one test.
pub struct Work {
    _dir: tempfile::TempDir,
    /// `--workdir` for the helper.
    pub workdir: PathBuf,
    /// The helper's whole environment, when not inherited from the test.
    pub env: Option<Vec<(String, String)>>,
}

impl Work {
    /// A fresh work directory.
    pub fn new() -> Work {
        let dir = tempfile::tempdir().unwrap();
        let workdir = dir.path().join("w");
        Work {
            _dir: dir,
            workdir,
            env: None,
        }
    }

    /// Runs `op` with `helper` and reads the reply as a `T`; also returns the exit code.
    pub fn call_with<T: DeserializeOwned>(
        &self,
        helper: &Path,
        op: Op,
    ) -> (Result<T, ErrorReply>, i32) {
        let c = self.call_measured(helper, op);
        (c.reply(), c.code)
    }

    /// Runs `op` with `helper` and returns everything about the call, including the peak
    /// memory of the helper and what it ran.
    pub fn call_measured(&self, helper: &Path, op: Op) -> Called {
        let request = Request::from(op).to_yaml();
        self.call_raw(helper, Input::Bytes(request.as_bytes()))
    }

    /// Runs `helper` on `input` as it is (a request, or anything else) and returns
    /// everything about the call.
    pub fn call_raw(&self, helper: &Path, input: Input) -> Called {
        let (stdin, data) = match input {
            Input::Bytes(b) => (Stdio::piped(), b),
            Input::File(f) => (Stdio::from(f), &[][..]),
        };
        let mut cmd = Command::new(helper);
        if let Some(env) = &self.env {
            cmd.env_clear().envs(env.iter().cloned());
        }
        cmd.arg("--workdir")
            .arg(&self.workdir)
            .stdin(stdin)
            .stdout(Stdio::piped())
            .stderr(Stdio::piped());
        // A bundle's fresh copy of the helper may still be open for writing in a child
        // another test thread is forking right now (ETXTBSY): that passes in a moment.
        let mut tries = 0;
        let mut child = loop {
            match cmd.spawn() {
                Err(e) if e.raw_os_error() == Some(libc::ETXTBSY) && tries < 100 => {
                    tries += 1;
                    std::thread::sleep(std::time::Duration::from_millis(10));
                }
                other => break other.unwrap(),
            }
        };
        let stdin = child.stdin.take();
        let mut stdout = child.stdout.take().unwrap();
        let mut stderr = child.stderr.take().unwrap();
        let (out, stderr) = std::thread::scope(|scope| {
            // The helper may stop reading early (oversized input): a broken pipe is
            // expected then.
            scope.spawn(move || {
                if let Some(mut stdin) = stdin {
                    let _ = stdin.write_all(data);
                }
            });
            let err_reader = scope.spawn(move || {
                let mut buf = Vec::new();
                let _ = stderr.read_to_end(&mut buf);
                buf
            });
            let mut out = Vec::new();
            stdout.read_to_end(&mut out).unwrap();
            (out, err_reader.join().unwrap())
        });
        let (code, max_rss_kib) = wait4(child.id() as i32);
        Called {
            stdout: String::from_utf8(out).expect("replies are UTF-8"),
            stderr: String::from_utf8_lossy(&stderr).into_owned(),
            code,
            max_rss_kib,
        }
    }

    /// Runs `op` with the test helper; panics on an error reply.
    pub fn call<T: DeserializeOwned>(&self, op: Op) -> T {
        match self.call_with(Path::new(HELPER), op) {
            (Ok(v), 0) => v,
            (r, code) => panic!("call failed with exit code {code}: {:?}", r.err()),
        }
    }

    /// Runs `op` with the test helper, expecting an error reply.
    pub fn call_err(&self, op: Op) -> (ErrorReply, i32) {
        match self.call_with::<serde_yaml::Value>(Path::new(HELPER), op) {
            (Err(e), code) => (e, code),
            (Ok(v), _) => panic!("expected an error, got {v:?}"),
        }
    }
}

/// What a helper is given on its stdin.
pub enum Input<'a> {
    /// Written through a pipe.
    Bytes(&'a [u8]),
    /// A file: big requests are spooled to one so that the test process never holds them
    /// (the peak RSS `wait4` reports for a child includes its parent's peak before `exec`).
    File(std::fs::File),
}

/// One finished helper call.
pub struct Called {
    /// The reply, as written.
    pub stdout: String,
    /// The helper's stderr.
    pub stderr: String,
    /// The exit code.
    pub code: i32,
    /// Peak resident memory in KiB of the helper or of anything it waited for (the kernel's
    /// `ru_maxrss` for a waited-for child covers its own waited-for children too).
    pub max_rss_kib: u64,
}

impl Called {
    /// The reply read as a `T`.
    pub fn reply<T: DeserializeOwned>(&self) -> Result<T, ErrorReply> {
        decode_reply::<T>(&self.stdout)
            .unwrap_or_else(|e| {
                panic!(
                    "not a reply ({e}): {}\nstderr: {}",
                    self.stdout, self.stderr
                )
            })
            .into_result()
    }
}

/// Reaps child `pid`: its exit code and its peak RSS in KiB.
fn wait4(pid: i32) -> (i32, u64) {
    let mut status = 0;
    // SAFETY: an all-zero rusage is a valid value for wait4 to overwrite.
    let mut usage: libc::rusage = unsafe { std::mem::zeroed() };
    // SAFETY: `pid` is our own child, not yet reaped; both pointers are valid.
    let rc = unsafe { libc::wait4(pid, &mut status, 0, &mut usage) };
    assert_eq!(rc, pid, "wait4: {}", std::io::Error::last_os_error());
    assert!(
        libc::WIFEXITED(status),
        "the helper was killed (status {status:#x})"
    );
    (libc::WEXITSTATUS(status), usage.ru_maxrss as u64)
}

/// A marker unique to this test run, to find our own processes in /proc.
pub fn marker(tag: &str) -> String {
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .subsec_nanos();
    format!("{}{}{}", tag, std::process::id(), nanos)
}

/// A `sleep` duration that also serves as a unique marker: `300.<digits>`.
pub fn sleep_marker() -> String {
    let m = marker("");
    format!("300.{m}")
}

/// Live (not zombie) processes whose command line contains `needle`.
pub fn processes_with(needle: &str) -> Vec<(u32, String)> {
    let mut found = Vec::new();
    for entry in std::fs::read_dir("/proc").unwrap().flatten() {
        let Ok(pid) = entry.file_name().to_string_lossy().parse::<u32>() else {
            continue;
        };
        let Ok(cmdline) = std::fs::read(entry.path().join("cmdline")) else {
            continue;
        };
        let cmdline = String::from_utf8_lossy(&cmdline).replace('\0', " ");
        let state = std::fs::read_to_string(entry.path().join("stat")).unwrap_or_default();
        let zombie = state
            .rsplit_once(')')
            .is_some_and(|(_, rest)| rest.trim_start().starts_with('Z'));
        if cmdline.contains(needle) && !zombie && pid != std::process::id() {
            found.push((pid, cmdline));
        }
    }
    found
}

/// Waits up to `secs` for no live process to carry `needle` (a killed process may take a
/// moment to be reaped); returns those still there.
pub fn wait_gone(needle: &str, secs: f64) -> Vec<(u32, String)> {
    let until = std::time::Instant::now() + std::time::Duration::from_secs_f64(secs);
    loop {
        let left = processes_with(needle);
        if left.is_empty() || std::time::Instant::now() >= until {
            return left;
        }
        std::thread::sleep(std::time::Duration::from_millis(20));
    }
}

/// Waits up to `secs` for `count` live processes to carry `needle`; returns how many do.
pub fn wait_for(needle: &str, count: usize, secs: f64) -> usize {
    let until = std::time::Instant::now() + std::time::Duration::from_secs_f64(secs);
    loop {
        let n = processes_with(needle).len();
        if n >= count || std::time::Instant::now() >= until {
            return n;
        }
        std::thread::sleep(std::time::Duration::from_millis(20));
    }
}
