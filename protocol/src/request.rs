//! [`Request`] and [`Op`]: what the master asks, and how a request is read.
//!
//! On the wire a request is `{version, op, args}`. Reading one is done in stages so that
//! each way of being wrong gets its own [`ErrorKind`] and a message that names the field.

use serde::de::DeserializeOwned;
use serde::{Serialize, Serializer};

use crate::{
    ErrorKind, ErrorReply, ExecArgs, JobArgs, KillArgs, LnetArgs, LnetctlArgs, LstArgs, PlanArgs,
    StepArgs, WaitArgs, DEFAULT_OUTPUT_LIMIT, MAX_OUTPUT_LIMIT, MAX_REPLY_BYTES, MAX_REQUEST_BYTES,
    MAX_REQUEST_ITEMS, PROTOCOL_VERSION,
};

/// The longest duration a request may carry, in seconds (about 31 years): bigger numbers
/// are typos, and every one below it converts to a `Duration` safely.
pub const MAX_SECONDS: f64 = 1e9;

/// One operation with its arguments.
#[derive(Debug, Clone, PartialEq)]
pub enum Op {
    /// Helper version, protocol version, operations. Answers [`crate::Hello`].
    Hello,
    /// Facts about the node. Answers [`crate::Facts`].
    Facts,
    /// Run a command to completion. Answers [`crate::ExecResult`].
    Exec(ExecArgs),
    /// Start a command in the background. Answers [`crate::SpawnResult`].
    Spawn(ExecArgs),
    /// Wait for a background job. Answers [`crate::WaitResult`].
    Wait(WaitArgs),
    /// Stop a background job with its process group. Answers [`crate::KillResult`].
    Kill(KillArgs),
    /// Forget a finished background job and remove its files. Answers `null`.
    Forget(JobArgs),
    /// List the background jobs on the node, with who started them. Answers
    /// [`crate::JobsResult`].
    Jobs,
    /// Read a test file's plan. Answers [`crate::TestPlan`].
    Plan(PlanArgs),
    /// Run one step of a test to completion. Answers [`crate::StepResult`].
    Step(StepArgs),
    /// Start one step of a test in the background. Answers [`crate::SpawnResult`];
    /// `wait` and `kill` then answer with the step's result.
    SpawnStep(StepArgs),
    /// One liblnetconfig call. Answers [`crate::LnetReply`].
    Lnet(LnetArgs),
    /// Run `lnetctl` and parse what it prints. Answers [`crate::LnetctlResult`].
    Lnetctl(LnetctlArgs),
    /// One step of an lnet_selftest session. Answers [`crate::LstResult`].
    Lst(LstArgs),
}

/// Every operation name, as `hello` lists them.
pub const OPERATIONS: &[&str] = &[
    "hello",
    "facts",
    "exec",
    "spawn",
    "wait",
    "kill",
    "forget",
    "jobs",
    "plan",
    "step",
    "spawn_step",
    "lnet",
    "lnetctl",
    "lst",
];

impl Op {
    /// The operation's name on the wire.
    pub fn name(&self) -> &'static str {
        match self {
            Op::Hello => "hello",
            Op::Facts => "facts",
            Op::Exec(_) => "exec",
            Op::Spawn(_) => "spawn",
            Op::Wait(_) => "wait",
            Op::Kill(_) => "kill",
            Op::Forget(_) => "forget",
            Op::Jobs => "jobs",
            Op::Plan(_) => "plan",
            Op::Step(_) => "step",
            Op::SpawnStep(_) => "spawn_step",
            Op::Lnet(_) => "lnet",
            Op::Lnetctl(_) => "lnetctl",
            Op::Lst(_) => "lst",
        }
    }

    /// Every operation name.
    pub fn all() -> &'static [&'static str] {
        OPERATIONS
    }

    /// The most bytes of reply the master reads for this operation: above the largest reply
    /// a helper writes for it, so that a bigger one is a broken or foreign helper, and
    /// at most [`MAX_REPLY_BYTES`]. Tighter than that where the request tells: `exec` and
    /// `step` replies grow with their output limit, a few operations answer a few lines.
    pub fn max_reply_bytes(&self) -> usize {
        let kept = |limit: Option<u64>| {
            usize::try_from(limit.unwrap_or(DEFAULT_OUTPUT_LIMIT)).unwrap_or(usize::MAX)
        };
        let step = |a: &StepArgs| {
            kept(a.output_limit)
                .saturating_mul(CAPTURE_GROWTH)
                .saturating_add(STEP_VALUE_ROOM + REPLY_ROOM)
        };
        let bound = match self {
            // Waiting, it may answer the step's end as `step` does.
            Op::SpawnStep(a) if a.wait.is_some_and(|w| w > 0.0) => step(a),
            Op::Hello | Op::Spawn(_) | Op::Forget(_) | Op::SpawnStep(_) => REPLY_ROOM,
            Op::Exec(a) => kept(a.output_limit)
                .saturating_mul(2 * CAPTURE_GROWTH)
                .saturating_add(REPLY_ROOM),
            Op::Step(a) => step(a),
            // A job's output limit is not in `wait`/`kill`; facts, plans, LNet results and job
            // lists have no limit of their own below the protocol's.
            Op::Facts
            | Op::Wait(_)
            | Op::Kill(_)
            | Op::Plan(_)
            | Op::Lnet(_)
            | Op::Lnetctl(_)
            | Op::Lst(_)
            | Op::Jobs => MAX_REPLY_BYTES,
        };
        bound.min(MAX_REPLY_BYTES)
    }
}

/// How much captured output can grow in a reply: text of one-character lines is written as
/// a YAML block indented by 6 spaces (`"a\n"` becomes `"      a\n"`, 4 times as long); text
/// with control characters travels as base64 (4/3); anything else grows less.
const CAPTURE_GROWTH: usize = 4;

/// Room in a reply for everything but captured output and a step's value (exit status,
/// durations, a failure's message and its traceback of at most 64 KiB, an error reply).
const REPLY_ROOM: usize = 1 << 20;

/// Room for a step's value: at most 8 MiB of JSON and 50,000 items (the Python runner's
/// limits), as YAML: block indentation and multi-line strings grow it, 6 times is ample.
const STEP_VALUE_ROOM: usize = 48 << 20;

/// One request: an operation and the protocol version of the master that sent it.
#[derive(Debug, Clone, PartialEq)]
pub struct Request {
    /// [`PROTOCOL_VERSION`] of the sender.
    pub version: u32,
    /// What to do.
    pub op: Op,
}

impl From<Op> for Request {
    fn from(op: Op) -> Self {
        Request {
            version: PROTOCOL_VERSION,
            op,
        }
    }
}

impl Request {
    /// The request as YAML, ready for the helper's stdin.
    pub fn to_yaml(&self) -> String {
        crate::to_yaml(self)
    }

    /// Reads a request from the bytes on the helper's stdin, or says exactly what is wrong.
    pub fn parse(input: &[u8]) -> Result<Request, ErrorReply> {
        if input.len() > MAX_REQUEST_BYTES {
            return Err(ErrorReply::new(
                ErrorKind::TooLarge,
                format!(
                    "request is {} bytes, the limit is {MAX_REQUEST_BYTES}",
                    input.len()
                ),
            ));
        }
        let text = std::str::from_utf8(input).map_err(|e| {
            ErrorReply::new(
                ErrorKind::Syntax,
                format!(
                    "request is not UTF-8 (bad byte at offset {})",
                    e.valid_up_to()
                ),
            )
        })?;
        if text.trim().is_empty() {
            return Err(ErrorReply::new(
                ErrorKind::Empty,
                "empty request: expected one YAML mapping with `version`, `op` and `args`",
            ));
        }
        if let Err(why) = crate::guard::check(text, MAX_REQUEST_ITEMS) {
            // Too many items is a size limit, like too many bytes; the rest are shapes.
            let kind = match why {
                crate::guard::Refusal::TooManyItems(_) => ErrorKind::TooLarge,
                _ => ErrorKind::Syntax,
            };
            return Err(ErrorReply::new(
                kind,
                format!("request refused before parsing: {why}"),
            ));
        }
        let value: serde_yaml::Value = serde_yaml::from_str(text)
            .map_err(|e| ErrorReply::new(ErrorKind::Syntax, format!("request is not YAML: {e}")))?;
        let serde_yaml::Value::Mapping(map) = value else {
            return Err(ErrorReply::new(
                ErrorKind::Shape,
                format!(
                    "request must be a mapping with `version`, `op` and `args`, got {}",
                    kind_of(&value)
                ),
            ));
        };

        let mut version = None;
        let mut op = None;
        let mut args = serde_yaml::Value::Null;
        for (key, value) in map {
            match key.as_str() {
                Some("version") => version = Some(value),
                Some("op") => op = Some(value),
                Some("args") => args = value,
                _ => {
                    return Err(ErrorReply::new(
                        ErrorKind::Shape,
                        format!(
                        "unknown key {} in request: only `version`, `op` and `args` are allowed",
                        short(&key)
                    ),
                    ))
                }
            }
        }

        let version = match version {
            None => {
                return Err(ErrorReply::new(
                    ErrorKind::Shape,
                    "request has no `version`",
                ))
            }
            Some(v) => v.as_u64().ok_or_else(|| {
                ErrorReply::new(
                    ErrorKind::Shape,
                    format!("`version` must be a whole number, got {}", short(&v)),
                )
            })?,
        };
        if version != u64::from(PROTOCOL_VERSION) {
            return Err(ErrorReply::new(
                ErrorKind::Version,
                format!(
                    "request speaks protocol version {version}, this helper speaks {PROTOCOL_VERSION}"
                ),
            ));
        }

        let name = match op {
            None => return Err(ErrorReply::new(ErrorKind::Shape, "request has no `op`")),
            Some(serde_yaml::Value::String(s)) => s,
            Some(v) => {
                return Err(ErrorReply::new(
                    ErrorKind::Shape,
                    format!("`op` must be a string, got {}", short(&v)),
                ))
            }
        };

        let op = match name.as_str() {
            "hello" => no_args(&name, args).map(|()| Op::Hello)?,
            "facts" => no_args(&name, args).map(|()| Op::Facts)?,
            "exec" => Op::Exec(exec_args(&name, args)?),
            "spawn" => Op::Spawn(exec_args(&name, args)?),
            "wait" => {
                let a: WaitArgs = typed(&name, args)?;
                seconds(&name, "timeout", Some(a.timeout))?;
                Op::Wait(a)
            }
            "kill" => {
                let a: KillArgs = typed(&name, args)?;
                seconds(&name, "grace", a.grace)?;
                Op::Kill(a)
            }
            "forget" => Op::Forget(typed(&name, args)?),
            "jobs" => no_args(&name, args).map(|()| Op::Jobs)?,
            "plan" => Op::Plan(typed(&name, args)?),
            "step" => Op::Step(step_args(&name, args)?),
            "spawn_step" => Op::SpawnStep(step_args(&name, args)?),
            "lnet" => {
                let a: LnetArgs = typed(&name, args)?;
                checked(&name, a.call.check())?;
                if let Some(abi) = &a.abi {
                    let known = abi.parse::<lutf_lnet::Abi>().map(drop);
                    checked(&name, known.map_err(|e| e.to_string()))?;
                }
                Op::Lnet(a)
            }
            "lnetctl" => {
                let a: LnetctlArgs = typed(&name, args)?;
                if a.argv.is_empty() {
                    return Err(ErrorReply::new(
                        ErrorKind::BadArgs,
                        "`lnetctl` needs `argv`: the arguments after `lnetctl`, like [net, show]",
                    ));
                }
                if a.argv.iter().any(|s| s.contains('\0')) {
                    return Err(ErrorReply::new(
                        ErrorKind::BadArgs,
                        "`lnetctl` argv contains a NUL byte",
                    ));
                }
                seconds(&name, "timeout", a.timeout)?;
                Op::Lnetctl(a)
            }
            "lst" => {
                let a: LstArgs = typed(&name, args)?;
                checked(&name, a.action.check())?;
                seconds(&name, "timeout", a.timeout)?;
                Op::Lst(a)
            }
            other => {
                return Err(ErrorReply::new(
                    ErrorKind::UnknownOp,
                    format!("unknown operation {other:?}"),
                )
                .with_detail(format!("known operations: {}", OPERATIONS.join(", "))))
            }
        };
        Ok(Request {
            version: version as u32,
            op,
        })
    }
}

fn kind_of(v: &serde_yaml::Value) -> &'static str {
    match v {
        serde_yaml::Value::Null => "nothing (null)",
        serde_yaml::Value::Bool(_) => "a boolean",
        serde_yaml::Value::Number(_) => "a number",
        serde_yaml::Value::String(_) => "a string",
        serde_yaml::Value::Sequence(_) => "a list",
        serde_yaml::Value::Mapping(_) => "a mapping",
        serde_yaml::Value::Tagged(_) => "a tagged value",
    }
}

/// A value, shortened for an error message.
fn short(v: &serde_yaml::Value) -> String {
    let text = serde_yaml::to_string(v).unwrap_or_default();
    let text = text.trim();
    if text.chars().count() > 60 {
        format!("{}...", text.chars().take(60).collect::<String>())
    } else {
        text.to_string()
    }
}

fn no_args(op: &str, args: serde_yaml::Value) -> Result<(), ErrorReply> {
    match args {
        serde_yaml::Value::Null => Ok(()),
        serde_yaml::Value::Mapping(m) if m.is_empty() => Ok(()),
        other => Err(ErrorReply::new(
            ErrorKind::BadArgs,
            format!("`{op}` takes no arguments, got {}", short(&other)),
        )),
    }
}

fn typed<T: DeserializeOwned>(op: &str, args: serde_yaml::Value) -> Result<T, ErrorReply> {
    if args.is_null() {
        return Err(ErrorReply::new(
            ErrorKind::BadArgs,
            format!("`{op}` needs `args`"),
        ));
    }
    serde_yaml::from_value(args)
        .map_err(|e| ErrorReply::new(ErrorKind::BadArgs, format!("bad arguments for `{op}`: {e}")))
}

/// A check's complaint as a `bad_args` error.
fn checked(op: &str, check: Result<(), String>) -> Result<(), ErrorReply> {
    check.map_err(|why| {
        ErrorReply::new(
            ErrorKind::BadArgs,
            format!("bad arguments for `{op}`: {why}"),
        )
    })
}

fn exec_args(op: &str, args: serde_yaml::Value) -> Result<ExecArgs, ErrorReply> {
    let a: ExecArgs = typed(op, args)?;
    if a.argv.is_empty() {
        return Err(ErrorReply::new(
            ErrorKind::BadArgs,
            format!("`{op}` needs a non-empty `argv`"),
        ));
    }
    seconds(op, "timeout", a.timeout)?;
    output_limit(op, a.output_limit)?;
    Ok(a)
}

fn step_args(op: &str, args: serde_yaml::Value) -> Result<StepArgs, ErrorReply> {
    let a: StepArgs = typed(op, args)?;
    seconds(op, "timeout", a.timeout)?;
    seconds(op, "wait", a.wait)?;
    output_limit(op, a.output_limit)?;
    Ok(a)
}

/// A duration in seconds must be a finite, non-negative number (and fit a `Duration`).
fn seconds(op: &str, field: &str, value: Option<f64>) -> Result<(), ErrorReply> {
    match value {
        Some(t) if !(t.is_finite() && (0.0..=MAX_SECONDS).contains(&t)) => Err(ErrorReply::new(
            ErrorKind::BadArgs,
            format!("`{op}` {field} must be a number of seconds from 0 to {MAX_SECONDS}, got {t}"),
        )),
        _ => Ok(()),
    }
}

fn output_limit(op: &str, value: Option<u64>) -> Result<(), ErrorReply> {
    match value {
        Some(n) if n > MAX_OUTPUT_LIMIT => Err(ErrorReply::new(
            ErrorKind::BadArgs,
            format!("`{op}` output_limit must be at most {MAX_OUTPUT_LIMIT} bytes, got {n}"),
        )),
        _ => Ok(()),
    }
}

impl Serialize for Request {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        use serde::ser::SerializeMap;
        let mut m = s.serialize_map(Some(3))?;
        m.serialize_entry("version", &self.version)?;
        m.serialize_entry("op", self.op.name())?;
        match &self.op {
            Op::Hello | Op::Facts | Op::Jobs => {}
            Op::Exec(a) | Op::Spawn(a) => m.serialize_entry("args", a)?,
            Op::Wait(a) => m.serialize_entry("args", a)?,
            Op::Kill(a) => m.serialize_entry("args", a)?,
            Op::Forget(a) => m.serialize_entry("args", a)?,
            Op::Plan(a) => m.serialize_entry("args", a)?,
            Op::Step(a) | Op::SpawnStep(a) => m.serialize_entry("args", a)?,
            Op::Lnet(a) => m.serialize_entry("args", a)?,
            Op::Lnetctl(a) => m.serialize_entry("args", a)?,
            Op::Lst(a) => m.serialize_entry("args", a)?,
        }
        m.end()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_op_round_trips() {
        let ops = vec![
            Op::Hello,
            Op::Facts,
            Op::Jobs,
            Op::SpawnStep(StepArgs {
                file: "lost/test_01.py".into(),
                step: "hold".into(),
                context: Default::default(),
                timeout: Some(120.0),
                output_limit: None,
                origin: Some(crate::Origin {
                    host: "master".into(),
                    machine_id: "0123".into(),
                    boot_id: "b00t".into(),
                    pid: 42,
                    pid_start: Some(7),
                    run: Some("deadbeef".into()),
                }),
                wait: Some(30.0),
                job: Some("m1-2".into()),
            }),
            Op::Exec(ExecArgs {
                argv: vec!["echo".into(), b"\xff".as_slice().into()],
                timeout: Some(1.5),
                ..Default::default()
            }),
            Op::Wait(WaitArgs {
                job: "j1".into(),
                timeout: 2.0,
            }),
            Op::Plan(PlanArgs {
                file: "samples/test_01.py".into(),
            }),
            Op::Lnet(LnetArgs {
                call: crate::LnetCall::ShowNet {
                    net: Some("tcp".parse().unwrap()),
                    detail: 1,
                },
                abi: Some("2.16".into()),
                library: Some("/opt/lustre/lib64/liblnetconfig.so.4".into()),
            }),
            Op::Lnet(LnetArgs::new(crate::LnetCall::Unconfigure {})),
            Op::Lnetctl(LnetctlArgs {
                argv: vec!["net".into(), "show".into()],
                check: false,
                ..Default::default()
            }),
            Op::Lst(LstArgs::new(crate::LstAction::Stat {
                groups: vec!["clients".into()],
                count: 2,
                delay: 1,
            })),
        ];
        for op in ops {
            let req = Request::from(op);
            let back = Request::parse(req.to_yaml().as_bytes()).unwrap();
            assert_eq!(back, req);
        }
    }

    #[test]
    fn bad_requests_get_the_right_kind() {
        let cases: &[(&[u8], ErrorKind)] = &[
            (b"", ErrorKind::Empty),
            (b"  \n", ErrorKind::Empty),
            (b"\xff\xfe", ErrorKind::Syntax),
            (b"{version: 1, op: [", ErrorKind::Syntax),
            (b"- a\n- b\n", ErrorKind::Shape),
            (b"version: 1\n", ErrorKind::Shape),
            (b"op: hello\n", ErrorKind::Shape),
            (b"version: 2\nop: hello\n", ErrorKind::Version),
            (b"version: one\nop: hello\n", ErrorKind::Shape),
            (b"version: 1\nop: fly\n", ErrorKind::UnknownOp),
            (
                b"version: 1\nop: exec\nargs: {argv: []}\n",
                ErrorKind::BadArgs,
            ),
            (
                b"version: 1\nop: exec\nargs: {argv: ls}\n",
                ErrorKind::BadArgs,
            ),
            (b"version: 1\nop: hello\nargs: [1]\n", ErrorKind::BadArgs),
            (b"version: 1\nop: hello\nextra: 1\n", ErrorKind::Shape),
            (
                b"version: 1\nop: exec\nargs: {argv: [ls], timeout: -1}\n",
                ErrorKind::BadArgs,
            ),
            (
                b"version: 1\nop: wait\nargs: {job: j, timeout: -0.5}\n",
                ErrorKind::BadArgs,
            ),
            (
                b"version: 1\nop: kill\nargs: {job: j, grace: .nan}\n",
                ErrorKind::BadArgs,
            ),
            (
                b"version: 1\nop: exec\nargs: {argv: [ls], output_limit: 99999999999}\n",
                ErrorKind::BadArgs,
            ),
            (
                b"version: 1\nop: exec\nargs: {argv: [ls], timeout: 1e300}\n",
                ErrorKind::BadArgs,
            ),
            (b"version: 1\nop: lnet\n", ErrorKind::BadArgs),
            (
                b"version: 1\nop: lnet\nargs: {call: ping, nid: 10.0.0.1}\n",
                ErrorKind::BadArgs,
            ),
            (
                b"version: 1\nop: lnet\nargs: {call: show_net, detail: 9}\n",
                ErrorKind::BadArgs,
            ),
            (
                b"version: 1\nop: lnet\nargs: {call: show_stats, abi: '2.12'}\n",
                ErrorKind::BadArgs,
            ),
            (
                b"version: 1\nop: lnetctl\nargs: {argv: []}\n",
                ErrorKind::BadArgs,
            ),
            (
                b"version: 1\nop: lnetctl\nargs: {argv: [net], timeout: -1}\n",
                ErrorKind::BadArgs,
            ),
            (
                b"version: 1\nop: lst\nargs: {action: add_group, name: g, nids: []}\n",
                ErrorKind::BadArgs,
            ),
        ];
        for (input, kind) in cases {
            let e = Request::parse(input).unwrap_err();
            assert_eq!(e.kind, *kind, "{:?} -> {e}", String::from_utf8_lossy(input));
        }
    }

    #[test]
    fn requests_over_the_item_budget_are_too_large() {
        // `exec` with n arguments: the top mapping, its 3 keys, `1`, `exec`, the args
        // mapping, its key `argv`, the list: 9 items and the arguments.
        let exec = |n: usize| {
            format!(
                "version: 1\nop: exec\nargs:\n  argv: [{}]\n",
                vec!["a"; n].join(",")
            )
        };
        let at = exec(MAX_REQUEST_ITEMS - 9);
        match Request::parse(at.as_bytes()).unwrap().op {
            Op::Exec(a) => assert_eq!(a.argv.len(), MAX_REQUEST_ITEMS - 9),
            other => panic!("{other:?}"),
        }
        let over = exec(MAX_REQUEST_ITEMS - 8);
        let e = Request::parse(over.as_bytes()).unwrap_err();
        assert_eq!(e.kind, ErrorKind::TooLarge, "{e}");
        assert_eq!(e.kind.exit_code(), crate::exit::BAD_REQUEST);
        assert!(
            e.message
                .contains(&format!("more than {MAX_REQUEST_ITEMS} YAML items")),
            "{e}"
        );
        // The byte limit is checked first, and tells the size.
        let big = format!(
            "version: 1\nop: exec\nargs:\n  argv: [a]\n  stdin: '{}'\n",
            "x".repeat(MAX_REQUEST_BYTES)
        );
        let e = Request::parse(big.as_bytes()).unwrap_err();
        assert_eq!(e.kind, ErrorKind::TooLarge, "{e}");
        assert!(e.message.contains("bytes, the limit is 16777216"), "{e}");
    }
}
