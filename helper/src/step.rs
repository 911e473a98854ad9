//! The helper's half of the contract with the Python runner (`python3 -m lutf.runner`):
//! how a plan or a step is started, and how its result file (or the lack of one) becomes
//! a plan, an error or a step outcome.
//!
//! - `lutf.runner plan <test-file> <result-file>` writes `{"plan": TestPlan}` or
//!   `{"error": {"message", "traceback"}}`.
//! - `lutf.runner step <test-file> <step> <context-file> <result-file>` reads the
//!   [`StepContext`](lutf_protocol::StepContext) as JSON and writes `{"outcome": StepOutcome}`.
//!
//! Python runs with [`crate::python::env`] only (plus the way back to this helper for
//! `lutf.lnet`), in a fresh scratch folder, its stdout and stderr interleaved in one log.

use std::ffi::OsString;
use std::path::{Path, PathBuf};
use std::time::Duration;

use lutf_protocol::{ErrorKind, ErrorReply, Failure, FailureKind, StepArgs, StepOutcome, TestPlan};
use serde::Deserialize;

use crate::process::{CommandSpec, Dump, Finished, Limits};
use crate::Env;

/// How long reading a test's plan may take.
pub const PLAN_TIMEOUT: Duration = Duration::from_secs(60);

/// From SIGTERM to SIGKILL for a step: time for the runner to turn SIGTERM into a
/// `Stopped` exception, run the step's `finally` blocks and write its result.
pub const GRACE: Duration = Duration::from_secs(2);

/// The signal on which the runner writes every thread's Python stack (`faulthandler`) into
/// [`file::STACK`]: sent to it when the step's timeout expires, before it is stopped.
pub const DUMP_SIGNAL: i32 = libc::SIGUSR2;

/// The longest wait for that stack before the step is stopped anyway (a process that
/// cannot take signals, say in uninterruptible sleep).
pub const DUMP_WAIT: Duration = Duration::from_secs(1);

/// The most of a stack dump kept (head and tail) in the failure: a step with hundreds of
/// threads must not make its result large.
const MAX_STACK_BYTES: usize = 64 * 1024;

/// File names in a step's folder (a scratch folder, or the job folder for `spawn_step`).
pub mod file {
    /// The step's context, JSON.
    pub const CONTEXT: &str = "context.json";
    /// The runner's result, JSON.
    pub const RESULT: &str = "result.json";
    /// Where the runner writes its stack on [`super::DUMP_SIGNAL`], beside the result.
    pub const STACK: &str = "stack.txt";
    /// The step's working directory.
    pub const CWD: &str = "cwd";
}

/// The largest result file the helper reads. The runner keeps a step's value under 8 MiB
/// of JSON and its traceback under 64 KiB; anything bigger was not written by the runner
/// (a step that wrote the file itself) and is refused without being read.
pub const MAX_RESULT_BYTES: u64 = 16 * 1024 * 1024;

/// How much of an unreadable result file is kept, to show what was there.
const SHOWN_RESULT_BYTES: usize = 4096;

/// Why a result file could not be read.
enum Unread {
    /// There is none.
    Missing,
    /// It is larger than [`MAX_RESULT_BYTES`]: its size.
    TooLarge(u64),
}

/// The result file in `dir`, read only when it is not too large.
fn read_result(dir: &Path) -> Result<String, Unread> {
    use std::io::Read;
    let path = dir.join(file::RESULT);
    let Ok(f) = std::fs::File::open(&path) else {
        return Err(Unread::Missing);
    };
    let mut text = String::new();
    // Read one byte past the bound, so that a file growing as we read is caught too.
    match f.take(MAX_RESULT_BYTES + 1).read_to_string(&mut text) {
        Ok(n) if n as u64 > MAX_RESULT_BYTES => Err(Unread::TooLarge(
            std::fs::metadata(&path).map_or(n as u64, |m| m.len()),
        )),
        Ok(_) => Ok(text),
        // Not UTF-8 is unreadable as JSON anyway: show its start.
        Err(_) => Ok(String::from_utf8_lossy(
            &std::fs::read(&path)
                .unwrap_or_default()
                .into_iter()
                .take(SHOWN_RESULT_BYTES)
                .collect::<Vec<u8>>(),
        )
        .into_owned()),
    }
}

/// The start of `text`, for a message.
fn shown(text: &str) -> String {
    match text.char_indices().nth(SHOWN_RESULT_BYTES) {
        Some((i, _)) => format!("{}\n[lutf: {} bytes more]", &text[..i], text.len() - i),
        None => text.to_string(),
    }
}

/// The test file `file` names: absolute, or relative to the bundle's `suites/`.
pub fn test_file(env: &Env, file: &str) -> Result<PathBuf, ErrorReply> {
    let path = Path::new(file);
    let path = if path.is_absolute() {
        path.to_path_buf()
    } else {
        env.bundle_dir.join("suites").join(path)
    };
    if !path.is_file() {
        return Err(ErrorReply::new(
            ErrorKind::TestFile,
            format!("no test file {}", path.display()),
        ));
    }
    Ok(path)
}

/// The `python3` to run the runner with, or a `no_python` error.
pub fn python(env: &Env) -> Result<PathBuf, ErrorReply> {
    crate::python::find().ok_or_else(|| {
        ErrorReply::new(
            ErrorKind::NoPython,
            format!(
                "python3 not found in PATH ({}) under bundle {}",
                crate::python::search_path().to_string_lossy(),
                env.bundle_dir.display()
            ),
        )
    })
}

fn runner(env: &Env, dir: &Path, args: Vec<OsString>) -> Result<CommandSpec, ErrorReply> {
    let cwd = dir.join(file::CWD);
    std::fs::create_dir_all(&cwd).map_err(|e| {
        ErrorReply::new(
            ErrorKind::Io,
            format!("cannot create {}: {e}", cwd.display()),
        )
    })?;
    let mut argv: Vec<OsString> = vec![python(env)?.into(), "-m".into(), "lutf.runner".into()];
    argv.extend(args);
    Ok(CommandSpec {
        argv,
        shell: false,
        env: step_env(env),
        clear_env: true,
        cwd,
        stdin: Vec::new(),
    })
}

/// Python's environment ([`crate::python::env`]) plus what `lutf.lnet` needs to call this
/// helper back: `LUTF_HELPER` (this binary) and `LUTF_WORKDIR` (its work directory, where
/// the lst session key is kept). Where Lustre is (the LNet tools and library) and the LNet
/// test hook are passed on when set, so that the helper called back finds the same.
pub(crate) fn step_env(env: &Env) -> Vec<(OsString, OsString)> {
    let mut vars = crate::python::env(&env.bundle_dir);
    let helper = std::env::current_exe().unwrap_or_else(|_| env.bundle_dir.join("lutf-helper"));
    vars.push(("LUTF_HELPER".into(), helper.into()));
    vars.push(("LUTF_WORKDIR".into(), env.workdir.clone().into()));
    for name in [
        crate::lnet::TEST_ROOT_VAR,
        lutf_protocol::lnet::TOOLS_VAR,
        lutf_protocol::lnet::LIBRARY_VAR,
    ] {
        if let Some(value) = std::env::var_os(name) {
            vars.push((name.into(), value));
        }
    }
    vars
}

/// The runner command that starts now and is given its step later (`lutf.runner serve`,
/// see [`crate::spare`]), in `cwd`.
pub fn serve_command(env: &Env, cwd: &Path) -> Result<CommandSpec, ErrorReply> {
    Ok(CommandSpec {
        argv: vec![
            python(env)?.into(),
            "-m".into(),
            "lutf.runner".into(),
            "serve".into(),
        ],
        shell: false,
        env: step_env(env),
        clear_env: true,
        cwd: cwd.to_path_buf(),
        stdin: Vec::new(),
    })
}

/// The runner command reading `file`'s plan, with its result going into `dir`.
pub fn plan_command(env: &Env, file: &Path, dir: &Path) -> Result<CommandSpec, ErrorReply> {
    runner(
        env,
        dir,
        vec!["plan".into(), file.into(), dir.join(file::RESULT).into()],
    )
}

/// What the runner wrote for `plan`.
#[derive(Deserialize)]
#[serde(rename_all = "snake_case")]
enum PlanFile {
    Plan(TestPlan),
    Error {
        message: String,
        #[serde(default)]
        traceback: Option<String>,
    },
}

/// The plan the runner wrote into `dir`, or the error it reported, or why there is none.
pub fn plan_result(file: &Path, dir: &Path, f: &Finished) -> Result<TestPlan, ErrorReply> {
    let log = f.stdout.data.to_string_lossy();
    let err = |message: String| ErrorReply::new(ErrorKind::TestFile, message);
    if f.timed_out {
        return Err(err(format!(
            "reading the plan of {} took longer than {} s",
            file.display(),
            PLAN_TIMEOUT.as_secs()
        ))
        .with_detail(log));
    }
    let text = match read_result(dir) {
        Ok(t) => t,
        Err(Unread::Missing) => {
            return Err(err(format!(
                "python ({}) wrote no plan for {}",
                f.exit,
                file.display()
            ))
            .with_detail(log))
        }
        Err(Unread::TooLarge(size)) => {
            return Err(err(format!(
                "the plan of {} is too large: {size} bytes, more than the {MAX_RESULT_BYTES} \
                 a result may be",
                file.display()
            ))
            .with_detail(log))
        }
    };
    match serde_json::from_str::<PlanFile>(&text) {
        Ok(PlanFile::Plan(plan)) => Ok(plan),
        Ok(PlanFile::Error { message, traceback }) => {
            // The runner's message already names the file and line.
            let e = err(message);
            Err(match traceback {
                Some(t) => e.with_detail(t),
                None => e,
            })
        }
        Err(e) => Err(ErrorReply::new(
            ErrorKind::Internal,
            format!(
                "the runner wrote an unreadable plan for {}: {e}",
                file.display()
            ),
        )
        .with_detail(shown(&text))),
    }
}

/// Writes the step's context into `dir` and returns the runner command for it.
pub fn step_command(env: &Env, args: &StepArgs, dir: &Path) -> Result<CommandSpec, ErrorReply> {
    let file = test_file(env, &args.file)?;
    let context = dir.join(file::CONTEXT);
    let json = serde_json::to_vec(&args.context).map_err(|e| {
        ErrorReply::new(
            ErrorKind::Internal,
            format!("cannot encode the context: {e}"),
        )
    })?;
    std::fs::write(&context, json).map_err(|e| {
        ErrorReply::new(
            ErrorKind::Io,
            format!("cannot write {}: {e}", context.display()),
        )
    })?;
    runner(
        env,
        dir,
        vec![
            "step".into(),
            file.into(),
            args.step.clone().into(),
            context.into(),
            dir.join(file::RESULT).into(),
        ],
    )
}

/// The step's time limits, for a step whose folder is `dir`: at its timeout its stack is
/// asked for first, so that the failure says where it hung.
pub fn limits(args: &StepArgs, dir: &Path) -> Limits {
    Limits {
        timeout: args.timeout.map(Duration::from_secs_f64),
        grace: GRACE,
        dump: Some(Dump {
            signal: DUMP_SIGNAL,
            file: dir.join(file::STACK),
            wait: DUMP_WAIT,
        }),
    }
}

/// Where the step's own thread was in its test file, from a `faulthandler` dump: `in FUNC
/// (suite/test_01.py:LINE)`, for the innermost frame of `test_file` in the thread that runs
/// the step (the one whose stack goes through the runner's `run_step`).
fn hung_at(stack: &str, test_file: &Path) -> Option<String> {
    let name = test_file.file_name()?.to_string_lossy().into_owned();
    let shown = match test_file.parent().and_then(Path::file_name) {
        Some(suite) => format!("{}/{name}", suite.to_string_lossy()),
        None => name.clone(),
    };
    let suffix = format!("/{shown}\"");
    // Threads are blocks of lines, separated by blank lines.
    let step_thread = stack.split("\n\n").find(|block| {
        block
            .lines()
            .any(|l| l.trim_end().ends_with(" in run_step"))
    })?;
    step_thread.lines().find_map(|l| {
        // `  File "/path/suite/test_01.py", line 17 in wait_for_peer`
        let rest = l.trim().strip_prefix("File \"")?;
        let (path, rest) = rest.split_once("\", line ")?;
        if !format!("/{path}\"").ends_with(&suffix) {
            return None;
        }
        let (line, func) = rest.split_once(" in ")?;
        Some(format!("in {func} ({shown}:{line})"))
    })
}

/// The stack the runner wrote into `dir` when its timeout expired, bounded (head and tail),
/// or `None` when it wrote none.
fn stack_dump(dir: &Path) -> Option<String> {
    let data = std::fs::read(dir.join(file::STACK)).ok()?;
    let text = String::from_utf8_lossy(&data);
    let text = text.trim_end();
    if text.is_empty() {
        return None;
    }
    let mut capture = crate::capture::Capture::new(MAX_STACK_BYTES as u64);
    capture.push(text.as_bytes());
    Some(capture.finish().data.to_string_lossy())
}

/// What the runner wrote for `step`.
#[derive(Deserialize)]
struct StepFile {
    outcome: StepOutcome,
}

fn fail(kind: FailureKind, message: String, traceback: Option<String>) -> StepOutcome {
    StepOutcome::Fail {
        failure: Failure {
            kind,
            message,
            traceback,
        },
    }
}

/// How the step ended, from the runner's result file in `dir` and how its process ended.
/// `killed_after` is the grace period when `kill` stopped the step.
pub fn step_outcome(
    args: &StepArgs,
    dir: &Path,
    f: &Finished,
    killed_after: Option<f64>,
) -> StepOutcome {
    let written = match read_result(dir) {
        Ok(t) => Some(
            serde_json::from_str::<StepFile>(&t)
                .map_err(|e| {
                    format!(
                        "the runner wrote an unreadable result for step {}: {e}",
                        args.step
                    )
                })
                .map_err(|message| (message, Some(shown(&t)))),
        ),
        Err(Unread::Missing) => None,
        Err(Unread::TooLarge(size)) => Some(Err((
            format!(
                "step {}: its result file is {size} bytes, more than the {MAX_RESULT_BYTES} \
                 a result may be, and was not read (the runner keeps values under 8 MiB: \
                 did the step write the file itself?)",
                args.step
            ),
            None,
        ))),
    };
    if f.timed_out {
        // Whatever the runner managed to write, the verdict is the timeout. Where the step
        // hung is the stack it dumped when the timeout expired; the traceback of its
        // failure once stopped (its `finally` blocks, say) is worth keeping too.
        let stack = stack_dump(dir);
        let shown = stack.as_deref().map(|s| {
            format!(
                "Every thread's stack when the timeout expired (most recent call first):\n{s}\n"
            )
        });
        let stopped = match &written {
            Some(Ok(StepFile {
                outcome: StepOutcome::Fail { failure },
            })) => failure.traceback.clone(),
            _ => None,
        };
        let traceback = match (shown, stopped) {
            (Some(s), Some(t)) => Some(format!("{s}\nOnce stopped, the step failed:\n{t}")),
            (s, t) => s.or(t),
        };
        let secs = args.timeout.unwrap_or_default();
        let at = stack
            .as_deref()
            .and_then(|s| hung_at(s, Path::new(&args.file)))
            .map(|at| format!(" {at}"))
            .unwrap_or_default();
        return fail(
            FailureKind::Timeout,
            format!("step {} timed out after {secs} s{at}", args.step),
            traceback,
        );
    }
    match written {
        Some(Ok(s)) => s.outcome,
        Some(Err((message, shown))) => fail(FailureKind::Crash, message, shown),
        None => {
            let how = match (f.exit.code, f.exit.signal) {
                (Some(c), _) => format!("python exited with code {c} without a result"),
                (None, Some(s)) => format!("python was killed by signal {s} without a result"),
                _ => "python ended without a result".to_string(),
            };
            let (kind, message) = match killed_after {
                Some(g) if f.exit.signal == Some(libc::SIGKILL) => (
                    FailureKind::Killed,
                    format!(
                        "step {} did not stop within {g} s of SIGTERM and was killed",
                        args.step
                    ),
                ),
                Some(_) => (
                    FailureKind::Crash,
                    format!("step {} was stopped: {how}", args.step),
                ),
                None => (FailureKind::Crash, format!("step {}: {how}", args.step)),
            };
            fail(kind, message, None)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use lutf_protocol::{Captured, ExitStatus, StepContext};

    fn finished(code: Option<i32>, signal: Option<i32>, timed_out: bool) -> Finished {
        Finished {
            exit: ExitStatus { code, signal },
            timed_out,
            duration: 1.0,
            stdout: Captured::default(),
            stderr: Captured::default(),
            left_behind: Vec::new(),
        }
    }

    fn args() -> StepArgs {
        StepArgs {
            file: "t.py".into(),
            step: "setup".into(),
            context: StepContext::default(),
            timeout: Some(5.0),
            output_limit: None,
            origin: None,
            wait: None,
            job: None,
        }
    }

    #[test]
    fn result_file_decides_unless_timed_out() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(
            dir.path().join(file::RESULT),
            r#"{"outcome": {"status": "PASS", "value": {"a": [1, 2]}}}"#,
        )
        .unwrap();
        let o = step_outcome(&args(), dir.path(), &finished(Some(0), None, false), None);
        assert_eq!(
            o,
            StepOutcome::Pass {
                value: serde_json::json!({"a": [1, 2]})
            }
        );
        let o = step_outcome(&args(), dir.path(), &finished(None, Some(15), true), None);
        let StepOutcome::Fail { failure } = o else {
            panic!("{o:?}")
        };
        assert_eq!(failure.kind, FailureKind::Timeout);
        assert_eq!(failure.message, "step setup timed out after 5 s");
    }

    #[test]
    fn a_timeout_names_where_the_step_hung_from_its_stack() {
        let stack = "Thread 0x00007f8475bdd6c0 (most recent call first):
  File \"/w/suites/broken/test_05.py\", line 22 in spin
  File \"/usr/lib/python3.11/threading.py\", line 982 in run

Current thread 0x00007f8476c66b80 (most recent call first):
  File \"/usr/lib/python3.11/socket.py\", line 300 in recv
  File \"/w/suites/broken/test_05.py\", line 17 in wait_for_peer
  File \"/w/suites/broken/test_05.py\", line 29 in hang
  File \"/w/python/lutf/runner.py\", line 398 in run_step
  File \"/w/python/lutf/runner.py\", line 441 in _step";
        assert_eq!(
            hung_at(stack, Path::new("broken/test_05.py")).as_deref(),
            Some("in wait_for_peer (broken/test_05.py:17)")
        );
        // Not the same file name in another suite; no step thread: nothing said.
        assert_eq!(hung_at(stack, Path::new("other/test_05.py")), None);
        assert_eq!(
            hung_at(
                "Current thread 0x1:\n  File \"x\", line 1 in f",
                Path::new("broken/test_05.py")
            ),
            None
        );

        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join(file::STACK), stack).unwrap();
        let mut a = args();
        a.file = "broken/test_05.py".into();
        let StepOutcome::Fail { failure } =
            step_outcome(&a, dir.path(), &finished(None, Some(15), true), None)
        else {
            panic!()
        };
        assert_eq!(failure.kind, FailureKind::Timeout);
        assert_eq!(
            failure.message,
            "step setup timed out after 5 s in wait_for_peer (broken/test_05.py:17)"
        );
        let tb = failure.traceback.unwrap();
        assert!(
            tb.starts_with("Every thread's stack when the timeout expired"),
            "{tb}"
        );
        assert!(tb.contains("line 22 in spin"), "{tb}");
    }

    #[test]
    fn no_result_is_a_crash_saying_how() {
        let dir = tempfile::tempdir().unwrap();
        let msg = |f: Finished, k: Option<f64>| match step_outcome(&args(), dir.path(), &f, k) {
            StepOutcome::Fail { failure } if failure.kind == FailureKind::Crash => failure.message,
            // Killed because it would not stop: a kind of its own.
            StepOutcome::Fail { failure } if failure.kind == FailureKind::Killed => failure.message,
            o => panic!("{o:?}"),
        };
        assert_eq!(
            msg(finished(Some(1), None, false), None),
            "step setup: python exited with code 1 without a result"
        );
        assert_eq!(
            msg(finished(None, Some(9), false), None),
            "step setup: python was killed by signal 9 without a result"
        );
        assert_eq!(
            msg(finished(None, Some(9), false), Some(2.0)),
            "step setup did not stop within 2 s of SIGTERM and was killed"
        );
        std::fs::write(dir.path().join(file::RESULT), "{not json").unwrap();
        assert!(msg(finished(Some(0), None, false), None).contains("unreadable result"));
    }

    #[test]
    fn an_oversized_result_is_refused_unread() {
        let dir = tempfile::tempdir().unwrap();
        // Sparse: the size is what matters, and it must not be read.
        let f = std::fs::File::create(dir.path().join(file::RESULT)).unwrap();
        f.set_len(MAX_RESULT_BYTES + 1).unwrap();
        let o = step_outcome(&args(), dir.path(), &finished(Some(0), None, false), None);
        let StepOutcome::Fail { failure } = o else {
            panic!("{o:?}")
        };
        assert_eq!(failure.kind, FailureKind::Crash);
        assert!(
            failure.message.contains("16777217 bytes"),
            "{}",
            failure.message
        );
        assert_eq!(failure.traceback, None);

        // An unreadable one is shown, shortened.
        std::fs::write(dir.path().join(file::RESULT), "x".repeat(100_000)).unwrap();
        let o = step_outcome(&args(), dir.path(), &finished(Some(0), None, false), None);
        let StepOutcome::Fail { failure } = o else {
            panic!("{o:?}")
        };
        assert!(failure.traceback.unwrap().len() < 5000);
    }

    #[test]
    fn plan_file_error_carries_the_traceback() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(
            dir.path().join(file::RESULT),
            r#"{"error": {"message": "SyntaxError: invalid syntax", "traceback": "Traceback..."}}"#,
        )
        .unwrap();
        let e = plan_result(
            Path::new("t.py"),
            dir.path(),
            &finished(Some(0), None, false),
        )
        .unwrap_err();
        assert_eq!(e.kind, ErrorKind::TestFile);
        assert!(e.message.contains("SyntaxError"));
        assert_eq!(e.detail.as_deref(), Some("Traceback..."));
    }
}
