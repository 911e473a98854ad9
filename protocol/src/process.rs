//! Running commands on a node: `exec` (run to completion) and `spawn` / `wait` / `kill`
//! (background jobs that outlive the helper call that started them).

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use crate::Bytes;

/// Default bound on each of stdout and stderr kept from a command: 1 MiB.
pub const DEFAULT_OUTPUT_LIMIT: u64 = 1024 * 1024;

/// The largest `output_limit` a request may ask for: 64 MiB per stream. The kept output
/// travels back in one YAML reply, so the bound protects both ends.
pub const MAX_OUTPUT_LIMIT: u64 = 64 * 1024 * 1024;

/// A command to run: the arguments of `exec`, and of `spawn`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ExecArgs {
    /// Program and arguments. Run directly, never through a shell, unless `shell` is set.
    pub argv: Vec<Bytes>,
    /// Run `argv[0]` as a `/bin/sh -c` script; further elements become `$1`, `$2`, ...
    #[serde(default)]
    pub shell: bool,
    /// Environment variables to set (on top of the helper's, or alone with `clear_env`).
    #[serde(default)]
    pub env: BTreeMap<String, Bytes>,
    /// Environment variables whose values are secret: set like `env`, and every occurrence
    /// of their values in the command's output is replaced by `[secret NAME]` before the
    /// reply (see [`crate::Redactor`]).
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub secret_env: BTreeMap<String, crate::Secret>,
    /// Start from an empty environment.
    #[serde(default)]
    pub clear_env: bool,
    /// Working directory (default: the helper's work directory).
    #[serde(default)]
    pub cwd: Option<String>,
    /// Bytes fed to the command's stdin, which is then closed. Default: empty stdin.
    #[serde(default)]
    pub stdin: Option<Bytes>,
    /// Seconds before the whole process group is killed. Default: no limit for `spawn`,
    /// and none for `exec` either (the master always sets one).
    #[serde(default)]
    pub timeout: Option<f64>,
    /// Bytes kept of each of stdout and stderr (default [`DEFAULT_OUTPUT_LIMIT`]).
    #[serde(default)]
    pub output_limit: Option<u64>,
}

/// How a command ended: an exit code, or the signal that killed it.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ExitStatus {
    /// The exit code, when it exited.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub code: Option<i32>,
    /// The signal number, when a signal killed it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub signal: Option<i32>,
}

impl ExitStatus {
    /// Whether the command exited 0.
    pub fn success(&self) -> bool {
        self.code == Some(0)
    }

    /// A shell-style code: the exit code, or 128 + signal.
    pub fn shell_code(&self) -> i32 {
        match (self.code, self.signal) {
            (Some(c), _) => c,
            (None, Some(s)) => 128 + s,
            (None, None) => 1,
        }
    }
}

impl std::fmt::Display for ExitStatus {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match (self.code, self.signal) {
            (Some(c), _) => write!(f, "exit code {c}"),
            (None, Some(s)) => write!(f, "killed by signal {s}"),
            (None, None) => f.write_str("unknown status"),
        }
    }
}

/// Captured output, bounded: when the command wrote more than the limit, the head and the
/// tail are kept, a marker line stands between them in `data`, and `dropped` counts the
/// bytes left out.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Captured {
    /// What was kept.
    pub data: Bytes,
    /// How many bytes were left out (0 when nothing was).
    #[serde(default)]
    pub dropped: u64,
}

/// What `exec` answers.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ExecResult {
    /// How the command ended.
    pub exit: ExitStatus,
    /// Its timeout expired and its process group was killed.
    pub timed_out: bool,
    /// Wall-clock seconds from start to end.
    pub duration: f64,
    /// Standard output.
    pub stdout: Captured,
    /// Standard error.
    pub stderr: Captured,
}

/// What `spawn` answers.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SpawnResult {
    /// The job's id, for `wait` and `kill`.
    pub job: String,
    /// The process id of the command (also its process group id).
    pub pid: i32,
    /// `spawn_step` with `wait`: how the step ended, when it ended within the wait.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ended: Option<Box<WaitResult>>,
}

/// Names a background job.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct JobArgs {
    /// The id that `spawn` returned.
    pub job: String,
}

/// The arguments of `wait`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct WaitArgs {
    /// The id that `spawn` returned.
    pub job: String,
    /// Seconds to wait for the job to end; 0 only looks.
    #[serde(default)]
    pub timeout: f64,
}

/// What `wait` answers.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct WaitResult {
    /// The job's id.
    pub job: String,
    /// Whether the job has ended (when false, the fields below are empty).
    pub finished: bool,
    /// How it ended. Absent while it runs, and also for a finished job whose end was never
    /// recorded (its supervisor was killed, the node rebooted): then `finished` is true and
    /// the status is unknown.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub exit: Option<ExitStatus>,
    /// Seconds it ran, or has been running.
    pub duration: f64,
    /// Its standard output so far (bounded as for `exec`). For a job started by
    /// `spawn_step`: its log so far while it runs, empty once finished (the log is then
    /// in `step.log`, so it travels once).
    pub stdout: Captured,
    /// Its standard error so far (always empty for a `spawn_step` job: its log is one
    /// interleaved stream).
    pub stderr: Captured,
    /// Its timeout expired and its process group was killed.
    #[serde(default)]
    pub timed_out: bool,
    /// For a job started by `spawn_step`, once finished: the step's result.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub step: Option<crate::StepResult>,
}

/// The arguments of `kill`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct KillArgs {
    /// The id that `spawn` returned.
    pub job: String,
    /// Seconds between SIGTERM and SIGKILL (default 2; 0 sends SIGKILL at once).
    #[serde(default)]
    pub grace: Option<f64>,
}

/// What `kill` answers.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct KillResult {
    /// The job's id.
    pub job: String,
    /// Whether it was still running when asked.
    pub was_running: bool,
    /// How it ended, and its output.
    pub result: WaitResult,
}
