//! Test files that misbehave on purpose, run by the real helper with the real Python runner
//! (`fixtures/test_hostile.py`, plus the broken fixture suites): each gets the right FAIL
//! with its reason, nothing it started outlives it, and the helper's memory stays bounded.

mod common;

use std::time::{Duration, Instant};

use common::bundle::{failure, Bundle};
use lutf_protocol::{
    ErrorKind, ExecArgs, ExecResult, FailureKind, KillArgs, KillResult, Op, PlanArgs, SpawnResult,
    StepArgs, StepOutcome, StepResult, TestPlan, DEFAULT_OUTPUT_LIMIT,
};

const HOSTILE: &str = "helper/test_hostile.py";

/// The helper's memory bound in these tests. The helper keeps at most the output limit
/// (1 MiB per stream) plus the reply built from it (a few copies of that MiB as YAML), on
/// top of its ~4 MiB baseline: 64 MiB is generous for that, and far below the 100 MiB a
/// helper that buffered the whole output would need. `ru_maxrss` also covers the helper's
/// children (Python, ~10-30 MiB here), so the bound holds for them too.
const MAX_RSS_KIB: u64 = 64 * 1024;

/// Runs `step` of the hostile test with `params`.
fn run(b: &Bundle, step: &str, timeout: f64, params: &[(&str, serde_json::Value)]) -> StepResult {
    b.call(Op::Step(args(b, step, timeout, params)))
}

fn args(b: &Bundle, step: &str, timeout: f64, params: &[(&str, serde_json::Value)]) -> StepArgs {
    let mut args = b.step_args(HOSTILE, step, Some(timeout));
    for (k, v) in params {
        args.context.params.insert(k.to_string(), v.clone());
    }
    args
}

fn log(r: &StepResult) -> String {
    r.log.data.to_string_lossy()
}

#[test]
fn a_step_printing_100_mib_keeps_a_bounded_log_in_bounded_memory() {
    let b = Bundle::new();
    let start = Instant::now();
    let called = b.call_measured(Op::Step(args(&b, "flood", 60.0, &[])));
    let elapsed = start.elapsed();
    let r: StepResult = called.reply().unwrap();
    assert!(
        matches!(r.outcome, StepOutcome::Pass { .. }),
        "{:?}",
        r.outcome
    );
    let text = log(&r);
    // Head and tail kept, the middle dropped and counted.
    assert!(text.starts_with("FLOOD-START\n"), "{}", &text[..40]);
    assert!(text.ends_with("\nFLOOD-END\n"));
    assert!(text.contains("bytes dropped]"));
    let total = 100 * 1024 * 1024 + "FLOOD-START\n\nFLOOD-END\n".len() as u64;
    assert_eq!(r.log.dropped, total - DEFAULT_OUTPUT_LIMIT);
    assert!(r.log.data.len() < DEFAULT_OUTPUT_LIMIT as usize + 100);
    assert!(
        called.max_rss_kib < MAX_RSS_KIB,
        "peak RSS {} KiB",
        called.max_rss_kib
    );
    eprintln!(
        "flood: 100 MiB through the step log in {elapsed:?}, peak RSS {} KiB",
        called.max_rss_kib
    );
}

#[test]
fn a_command_printing_100_mib_on_both_streams_keeps_memory_bounded() {
    // The same for `exec`, where nothing but the helper is big (head and sh are tiny).
    let b = Bundle::new();
    let called = b.call_measured(Op::Exec(ExecArgs {
        argv: vec!["head -c 104857600 /dev/zero; head -c 104857600 /dev/zero >&2".into()],
        shell: true,
        timeout: Some(60.0),
        ..Default::default()
    }));
    let r: ExecResult = called.reply().unwrap();
    assert_eq!(r.exit.code, Some(0));
    assert_eq!(r.stdout.dropped, 100 * 1024 * 1024 - DEFAULT_OUTPUT_LIMIT);
    assert_eq!(r.stderr.dropped, 100 * 1024 * 1024 - DEFAULT_OUTPUT_LIMIT);
    assert!(
        called.max_rss_kib < MAX_RSS_KIB,
        "peak RSS {} KiB",
        called.max_rss_kib
    );
    eprintln!("exec 2 x 100 MiB: peak RSS {} KiB", called.max_rss_kib);
}

#[test]
fn output_growing_the_most_as_yaml_still_fits_the_masters_reply_bound() {
    // One-character lines grow the most (4 times, as an indented YAML block), bytes that
    // are not text 4/3 (base64): with each stream full, the reply stays within what the
    // master reads for the call (`Op::max_reply_bytes`), and not far below it.
    let b = Bundle::new();
    for (script, limit) in [
        ("yes a | head -c 9000000; yes b | head -c 9000000 >&2", None),
        (
            "yes a | head -c 9000000; yes b | head -c 9000000 >&2",
            Some(3 << 20),
        ),
        (
            "head -c 9000000 /dev/zero; head -c 9000000 /dev/zero >&2",
            None,
        ),
    ] {
        let op = Op::Exec(ExecArgs {
            argv: vec![script.into()],
            shell: true,
            timeout: Some(60.0),
            output_limit: limit,
            ..Default::default()
        });
        let max = op.max_reply_bytes();
        let called = b.call_measured(op);
        let r: ExecResult = called.reply().unwrap();
        let kept = limit.unwrap_or(DEFAULT_OUTPUT_LIMIT);
        assert!(r.stdout.data.len() as u64 >= kept, "{script}");
        assert!(r.stderr.data.len() as u64 >= kept, "{script}");
        let len = called.stdout.len();
        assert!(len <= max, "{script}: a {len}-byte reply, over {max}");
        eprintln!("{script} (limit {kept}): reply {len} bytes, bound {max}");
    }
}

#[test]
fn children_of_a_step_are_gone_when_it_returns() {
    let b = Bundle::new();
    let marker = common::sleep_marker();
    let r = run(&b, "fork_many", 60.0, &[("marker", marker.clone().into())]);
    match &r.outcome {
        StepOutcome::Pass { value } => assert_eq!(value, &serde_json::json!(100)),
        other => panic!("{other:?}: {}", log(&r)),
    }
    let left = common::wait_gone(&marker, 5.0);
    assert!(left.is_empty(), "still running: {left:?}");
}

#[test]
fn children_of_a_step_are_gone_after_its_timeout() {
    let b = Bundle::new();
    let marker = common::sleep_marker();
    let params = [("marker", marker.clone().into()), ("hang", true.into())];
    let r = run(&b, "fork_many", 5.0, &params);
    assert_eq!(failure(&r.outcome).kind, FailureKind::Timeout);
    assert!(log(&r).contains("FORKED 100"), "{}", log(&r));
    let left = common::wait_gone(&marker, 5.0);
    assert!(left.is_empty(), "still running: {left:?}");
}

/// A step's children that left its process group — a new session (setsid), a new process
/// group (setpgid), a double-forked daemon — are found and ended too: the helper adopts
/// orphans (it is a child subreaper) and ends every descendant once the step is over.
fn escaped_children_are_ended(hang: bool) {
    let b = Bundle::new();
    let marker = common::sleep_marker();
    let params = [("marker", marker.clone().into()), ("hang", hang.into())];
    let r = run(&b, "escape", 3.0, &params);
    assert!(log(&r).contains("ESCAPED"), "{}", log(&r));
    if hang {
        assert_eq!(failure(&r.outcome).kind, FailureKind::Timeout);
    } else {
        assert!(
            matches!(r.outcome, StepOutcome::Pass { .. }),
            "{:?}",
            r.outcome
        );
    }
    let left = common::wait_gone(&marker, 5.0);
    assert!(left.is_empty(), "survived the step: {left:?}");
}

#[test]
fn children_that_leave_the_process_group_are_ended_when_the_step_returns() {
    escaped_children_are_ended(false);
}

#[test]
fn children_that_leave_the_process_group_are_ended_at_the_timeout() {
    escaped_children_are_ended(true);
}

#[test]
fn children_that_leave_the_process_group_end_with_a_background_step() {
    // The same through a job's supervisor: `kill` stops the step, the supervisor ends
    // what it left behind.
    let b = Bundle::new();
    let marker = common::sleep_marker();
    let params = [("marker", marker.clone().into()), ("hang", true.into())];
    let mut step = args(&b, "escape", 60.0, &params);
    step.timeout = None;
    let s: SpawnResult = b.call(Op::SpawnStep(step));
    assert_eq!(
        common::wait_for(&marker, 3, 20.0),
        3,
        "the step never started them"
    );
    let k: KillResult = b.call(Op::Kill(KillArgs {
        job: s.job,
        grace: Some(2.0),
    }));
    assert!(k.was_running);
    let left = common::wait_gone(&marker, 5.0);
    assert!(left.is_empty(), "survived the job: {left:?}");
}

#[test]
fn returns_json_cannot_carry_fail_saying_why() {
    let b = Bundle::new();
    for (step, says) in [
        ("not_json_object", "an object at value['ok'][2]"),
        ("not_json_cycle", "a cycle"),
        ("not_json_nan", "the float nan at value['ratio']"),
    ] {
        let r = run(&b, step, 30.0, &[]);
        let f = failure(&r.outcome);
        assert_eq!(f.kind, FailureKind::NotSerializable, "{step}: {f:?}");
        assert!(f.message.contains(says), "{step}: {}", f.message);
    }
}

#[test]
fn a_50_mib_return_fails_as_too_large() {
    let b = Bundle::new();
    let called = b.call_measured(Op::Step(args(&b, "huge_return", 60.0, &[])));
    let r: StepResult = called.reply().unwrap();
    let f = failure(&r.outcome);
    assert_eq!(f.kind, FailureKind::NotSerializable);
    assert!(f.message.contains("50.0 MiB of JSON"), "{}", f.message);
    assert!(f.message.contains("more than the 8 MiB"), "{}", f.message);
    assert!(called.stdout.len() < 64 * 1024, "the reply stays small");
}

#[test]
fn a_forged_50_mib_result_file_is_refused_without_reading_it() {
    let b = Bundle::new();
    let called = b.call_measured(Op::Step(args(&b, "forged_result", 60.0, &[])));
    let r: StepResult = called.reply().unwrap();
    let f = failure(&r.outcome);
    assert_eq!(f.kind, FailureKind::Crash);
    assert!(
        f.message.contains("is 52428844 bytes") && f.message.contains("was not read"),
        "{}",
        f.message
    );
    assert!(called.stdout.len() < 64 * 1024, "the reply stays small");
    assert!(
        called.max_rss_kib < MAX_RSS_KIB + 128 * 1024,
        "peak RSS {} KiB (python's own 100 MiB for writing the file included)",
        called.max_rss_kib
    );
}

#[test]
fn infinite_loops_time_out_even_when_they_swallow_sigterm() {
    let b = Bundle::new();
    for (step, marker) in [("busy_loop", "BUSY"), ("stubborn_loop", "STUBBORN")] {
        let start = Instant::now();
        let r = run(&b, step, 2.0, &[]);
        // Did-not-hang bound: 2 s timeout + 2 s grace + python start, generously.
        assert!(start.elapsed() < Duration::from_secs(30), "{step}");
        let f = failure(&r.outcome);
        assert_eq!(f.kind, FailureKind::Timeout, "{step}: {f:?}");
        // Where it was when the timeout expired, from its stack (taken before the kill).
        assert!(
            f.message
                .starts_with(&format!("step {step} timed out after 2 s in {step} (")),
            "{}",
            f.message
        );
        assert!(f.message.contains("test_hostile.py:"), "{}", f.message);
        let tb = f.traceback.as_deref().unwrap_or_default();
        assert!(tb.contains(&format!(" in {step}\n")), "{tb}");
        assert!(log(&r).contains(marker), "{step}: {}", log(&r));
    }
}

#[test]
fn syntax_and_import_errors_are_plan_errors_with_tracebacks() {
    let b = Bundle::new();
    for (file, says) in [
        ("broken/test_02.py", "broken/test_02.py:12: SyntaxError"),
        (
            "failures/test_01.py",
            "failures/test_01.py:7: ModuleNotFoundError: No module named 'lutf_no_such_module'",
        ),
    ] {
        let (r, code) = b
            .work
            .call_with::<TestPlan>(&b.helper, Op::Plan(PlanArgs { file: file.into() }));
        let e = r.unwrap_err();
        assert_eq!((e.kind, code), (ErrorKind::TestFile, 3), "{file}");
        assert!(e.message.contains(says), "{file}: {}", e.message);
        let tb = e.detail.unwrap_or_default();
        assert!(
            tb.contains("Traceback") || tb.contains("SyntaxError"),
            "{tb}"
        );

        // Running a step of such a file says the same, as a FAIL.
        let mut args = b.step_args("samples/test_01.py", "whoami", Some(30.0));
        args.file = file.into();
        let r: StepResult = b.call(Op::Step(args));
        let f = failure(&r.outcome);
        assert_eq!(f.kind, FailureKind::TestFile, "{file}");
        assert!(f.message.contains(says), "{file}: {}", f.message);
        assert!(f.traceback.is_some(), "{file}");
    }
}

#[test]
fn a_step_that_closes_its_output_still_returns_its_value() {
    let b = Bundle::new();
    let r = run(&b, "close_streams", 30.0, &[]);
    match &r.outcome {
        StepOutcome::Pass { value } => assert_eq!(value, "closed"),
        other => panic!("{other:?}: {}", log(&r)),
    }
    assert_eq!(log(&r), "BEFORE-CLOSE\n");
    // It lingered 0.5 s after closing: the helper waited for the process, not the pipe.
    assert!(r.duration >= 0.5, "{}", r.duration);
}

#[test]
fn hard_exits_are_crashes_saying_how() {
    let b = Bundle::new();
    let r = run(&b, "exit_hard", 30.0, &[]);
    let f = failure(&r.outcome);
    assert_eq!(f.kind, FailureKind::Crash);
    assert_eq!(
        f.message,
        "step exit_hard: python exited with code 3 without a result"
    );
    assert!(log(&r).contains("EXITING"));

    let r = run(&b, "kill_self", 30.0, &[]);
    let f = failure(&r.outcome);
    assert_eq!(f.kind, FailureKind::Crash);
    assert_eq!(
        f.message,
        "step kill_self: python was killed by signal 9 without a result"
    );
    assert!(log(&r).contains("KILLING-MYSELF"));
}
