//! The contract between the lutf master and `lutf-helper`.
//!
//! One helper call is one process: the master writes one YAML [`Request`] on the helper's
//! stdin, the helper writes one YAML [`Reply`] on its stdout and exits with one of the
//! [`exit`] codes. Both sides use only the types in this crate, so a change to the protocol
//! is a change here, and [`PROTOCOL_VERSION`] says which one a peer speaks.
//!
//! ```yaml
//! # request                       # reply
//! version: 1                      version: 1
//! op: exec                        ok:
//! args:                             exit: {code: 0}
//!   argv: [uname, -r]               stdout: {data: "6.1.0\n", dropped: 0}
//!   timeout: 5                      ...
//! ```

mod bytes;
pub mod check;
mod facts;
pub mod guard;
pub mod lnet;
mod origin;
mod process;
mod request;
mod secret;
mod test;

pub use bytes::Bytes;
pub use facts::{Addr, Facts, IfFlags, Interface, LnetState, OsInfo, PythonInfo};
pub use guard::{Refusal, MAX_DEPTH};
pub use lnet::{
    LnetArgs, LnetCall, LnetFailure, LnetReply, LnetctlArgs, LnetctlResult, LstAction, LstArgs,
    LstResult,
};
pub use origin::{parse_start_ticks, start_ticks, JobInfo, JobsResult, Origin};
pub use process::{
    Captured, ExecArgs, ExecResult, ExitStatus, JobArgs, KillArgs, KillResult, SpawnResult,
    WaitArgs, WaitResult, DEFAULT_OUTPUT_LIMIT, MAX_OUTPUT_LIMIT,
};
pub use request::{Op, Request, MAX_SECONDS};
pub use secret::{placeholder, Redactor, Secret};
pub use test::{
    Backfs, Failure, FailureKind, Needs, NodeInfo, PlanArgs, StepArgs, StepContext, StepOutcome,
    StepPlan, StepResult, StepStatus, Targets, TestPlan,
};

use serde::{de::DeserializeOwned, Deserialize, Serialize};

/// The protocol version this build speaks. Every request and reply carries it.
pub const PROTOCOL_VERSION: u32 = 1;

/// The largest request the helper reads, in bytes: 16 MiB. Larger ones get a `too_large`
/// error. The largest requests lutf writes are steps whose context carries an earlier
/// step's value (at most 8 MiB of JSON, a little more as YAML). Parsing costs about three
/// times the size of a long scalar (the input, libyaml's event, the value), so this bounds
/// the helper's memory to ~50 MiB for big scalars; [`MAX_REQUEST_ITEMS`] bounds it for
/// many small ones. (It was 32 MiB: 110 MiB for one scalar, 3.7 GB for tiny items.)
pub const MAX_REQUEST_BYTES: usize = 16 * 1024 * 1024;

/// The most YAML items (scalars, lists and mappings; a mapping entry counts two) a request
/// may hold: 100,000. More get a `too_large` error before anything is parsed. Parsing costs
/// ~235 bytes per item, so this bounds the helper's memory to ~25 MiB for tiny items. A
/// step's value is at most 50,000 items (the Python runner's `MAX_VALUE_ITEMS`), so a step
/// can take the values of two such steps before it, with room for its context; an `exec`
/// with 100,000 arguments would not fit the kernel's default `ARG_MAX` anyway.
pub const MAX_REQUEST_ITEMS: usize = 100_000;

/// The largest reply the master reads from a node, in bytes: 256 MiB. A call whose reply
/// is larger fails (the master stops reading there). Most operations have a lower bound
/// ([`Op::max_reply_bytes`]: 9 MiB for an `exec` with the default output limit). The
/// largest replies are `exec`'s with both streams at [`MAX_OUTPUT_LIMIT`] (which lutf
/// itself never asks for): 2 × 64 MiB, ~171 MiB as base64; text of very short lines grows
/// up to 4 times as YAML, and fails at this bound past a 32 MiB output limit.
pub const MAX_REPLY_BYTES: usize = 256 * 1024 * 1024;

/// The most YAML items a reply may hold: 1,000,000 (~235 MB to parse); more is refused
/// unparsed. Replies carry more structure than requests: `lnetctl` output parsed into a
/// tree (up to 16 MiB of it, a big cluster's peer list), step values (at most 50,000 items).
pub const MAX_REPLY_ITEMS: usize = 1_000_000;

/// Exit codes of `lutf-helper`. It never exits 255: ssh uses that for its own failures,
/// so a 255 always means "the connection failed", never "the helper said no".
pub mod exit {
    /// The operation ran; the reply holds its result (a command that exited non-zero
    /// is still a successful `exec`: its exit code is in the result).
    pub const OK: i32 = 0;
    /// The request was unusable: empty, not YAML, wrong shape, unknown operation,
    /// wrong argument types, too large, or another protocol version.
    pub const BAD_REQUEST: i32 = 2;
    /// The request was understood but the operation failed (a command that could not be
    /// started, an unknown job, a test file that does not import, ...).
    pub const OP_FAILED: i32 = 3;
    /// A bug in the helper (it caught a panic). The reply says where.
    pub const INTERNAL: i32 = 4;
    /// `lutf-helper --bundle HASH`: the bundle it runs from is not `HASH`, or has changed
    /// since it was installed, or sits in a folder others may write to. Nothing was read
    /// or run and nothing is on stdout (why is on stderr): the master runs the installer,
    /// then asks again.
    pub const BUNDLE: i32 = 5;
}

/// What went wrong, in a word a program can match on.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ErrorKind {
    /// Nothing on stdin.
    Empty,
    /// Stdin is not YAML (or not UTF-8).
    Syntax,
    /// YAML, but not a mapping with `version`, `op` and `args`.
    Shape,
    /// The request speaks another protocol version.
    Version,
    /// `op` names no operation this helper knows.
    UnknownOp,
    /// The arguments do not fit the operation (missing, unknown or mistyped fields).
    BadArgs,
    /// The request is larger than [`MAX_REQUEST_BYTES`] or holds more than
    /// [`MAX_REQUEST_ITEMS`] YAML items.
    TooLarge,
    /// A command could not be started (no such program, permission denied, bad cwd).
    Spawn,
    /// No background job of that id in the work directory.
    NoSuchJob,
    /// `python3` is missing or too old on the node.
    NoPython,
    /// A test file could not be imported or declares an invalid test.
    TestFile,
    /// The operation is not available on this node (a tool or library that cannot start,
    /// a call this Lustre does not have).
    Unavailable,
    /// Lustre is not installed on the node: no liblnetconfig, lnetctl or lst.
    NoLustre,
    /// The lnet (or lnet_selftest) kernel module is not loaded on the node.
    LnetNotLoaded,
    /// The node's Lustre version is one lutf cannot call (or cannot be told).
    UnknownVersion,
    /// liblnetconfig, lnetctl or lst reported a failure; the reply's `lnet` field says
    /// which errno and description.
    Lnet,
    /// An I/O error on the node (work directory, files).
    Io,
    /// A bug in the helper.
    Internal,
}

impl ErrorKind {
    /// The helper's exit code for a reply carrying this error.
    pub fn exit_code(self) -> i32 {
        match self {
            ErrorKind::Empty
            | ErrorKind::Syntax
            | ErrorKind::Shape
            | ErrorKind::Version
            | ErrorKind::UnknownOp
            | ErrorKind::BadArgs
            | ErrorKind::TooLarge => exit::BAD_REQUEST,
            ErrorKind::Internal => exit::INTERNAL,
            _ => exit::OP_FAILED,
        }
    }
}

impl std::fmt::Display for ErrorKind {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let s = serde_yaml::to_string(self).unwrap_or_default();
        f.write_str(s.trim())
    }
}

/// A structured error from the helper.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, thiserror::Error)]
#[serde(deny_unknown_fields)]
#[error("{kind}: {message}")]
pub struct ErrorReply {
    /// What kind of failure.
    pub kind: ErrorKind,
    /// One human sentence.
    pub message: String,
    /// More: a traceback, the offending field, the list of known operations...
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub detail: Option<String>,
    /// For kind `lnet`: the errno and description LNet reported (boxed: errors stay small).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub lnet: Option<Box<LnetFailure>>,
}

impl ErrorReply {
    /// An error of `kind` saying `message`.
    pub fn new(kind: ErrorKind, message: impl Into<String>) -> Self {
        ErrorReply {
            kind,
            message: message.into(),
            detail: None,
            lnet: None,
        }
    }

    /// An error of kind `lnet` carrying what LNet reported.
    pub fn lnet(message: impl Into<String>, failure: LnetFailure) -> Self {
        ErrorReply {
            lnet: Some(Box::new(failure)),
            ..ErrorReply::new(ErrorKind::Lnet, message)
        }
    }

    /// The same error with `detail` attached.
    pub fn with_detail(mut self, detail: impl Into<String>) -> Self {
        self.detail = Some(detail.into());
        self
    }
}

/// One reply: exactly one of `ok` and `error` is set.
///
/// `T` is the operation's result type; the helper writes a `Reply<T>` for the operation it
/// ran, the master reads it back as the type it expects for the operation it asked for.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, bound(deserialize = "T: Deserialize<'de>"))]
pub struct Reply<T = serde_yaml::Value> {
    /// The protocol version of the helper that answered.
    pub version: u32,
    /// The operation's result. Present-but-null (`ok: null`, what `forget` answers) is
    /// `Some(())`-like, not absent: only a missing key means "no result".
    #[serde(
        default,
        skip_serializing_if = "Option::is_none",
        deserialize_with = "present"
    )]
    pub ok: Option<T>,
    /// Why the operation did not happen.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub error: Option<ErrorReply>,
}

/// Deserializes a field that is there (even as `null`) as `Some`.
fn present<'de, D, T>(d: D) -> Result<Option<T>, D::Error>
where
    D: serde::Deserializer<'de>,
    T: Deserialize<'de>,
{
    T::deserialize(d).map(Some)
}

impl<T> Reply<T> {
    /// A successful reply.
    pub fn ok(value: T) -> Self {
        Reply {
            version: PROTOCOL_VERSION,
            ok: Some(value),
            error: None,
        }
    }

    /// A failed reply.
    pub fn error(error: ErrorReply) -> Self {
        Reply {
            version: PROTOCOL_VERSION,
            ok: None,
            error: Some(error),
        }
    }

    /// The result, or the helper's error.
    pub fn into_result(self) -> Result<T, ErrorReply> {
        match (self.ok, self.error) {
            (_, Some(e)) => Err(e),
            (Some(v), None) => Ok(v),
            (None, None) => Err(ErrorReply::new(
                ErrorKind::Shape,
                "reply has neither `ok` nor `error`",
            )),
        }
    }
}

/// Why a reply from the helper could not be read.
#[derive(Debug, thiserror::Error)]
pub enum DecodeError {
    /// The text is not a reply at all.
    #[error("helper reply is not valid YAML of the expected shape: {0}")]
    Yaml(#[from] serde_yaml::Error),
    /// The reply has a shape no helper writes and that would be costly to parse (see
    /// `guard.rs`); it was refused before being parsed.
    #[error("helper reply refused: {0}")]
    Refused(guard::Refusal),
    /// The helper speaks another protocol version.
    #[error("helper speaks protocol version {found}, this lutf speaks {expected}: redeploy")]
    Version {
        /// The version in the reply.
        found: u32,
        /// [`PROTOCOL_VERSION`].
        expected: u32,
    },
}

/// Reads a reply whose `ok` is a `T`.
pub fn decode_reply<T: DeserializeOwned>(text: &str) -> Result<Reply<T>, DecodeError> {
    guard::check(text, MAX_REPLY_ITEMS).map_err(DecodeError::Refused)?;
    let reply: Reply<T> = serde_yaml::from_str(text)?;
    if reply.version != PROTOCOL_VERSION {
        return Err(DecodeError::Version {
            found: reply.version,
            expected: PROTOCOL_VERSION,
        });
    }
    Ok(reply)
}

/// What `hello` answers.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Hello {
    /// The helper's own version (the lutf release it was built from).
    pub helper_version: String,
    /// [`PROTOCOL_VERSION`] of the helper.
    pub protocol_version: u32,
    /// The operations it supports, by their `op` names.
    pub operations: Vec<String>,
}

/// Renders a protocol value as YAML, for replies and requests alike.
///
/// Panics if `serde_yaml` cannot write it, which cannot happen for the protocol's own types
/// (they hold no maps with non-string keys), nor for values read by [`decode_reply`] or
/// [`Request::parse`] (they refuse the tags and collection keys it cannot write back). For
/// any other value, use [`try_to_yaml`].
pub fn to_yaml<T: Serialize>(value: &T) -> String {
    try_to_yaml(value).expect("protocol types always serialise")
}

/// Renders any serialisable value as YAML, or says why `serde_yaml` cannot.
pub fn try_to_yaml<T: Serialize>(value: &T) -> Result<String, serde_yaml::Error> {
    serde_yaml::to_string(value)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reply_round_trips_and_checks_version() {
        let text = to_yaml(&Reply::ok(Hello {
            helper_version: "0.1.0".into(),
            protocol_version: PROTOCOL_VERSION,
            operations: vec!["hello".into()],
        }));
        let back: Reply<Hello> = decode_reply(&text).unwrap();
        assert_eq!(back.into_result().unwrap().operations, vec!["hello"]);

        let old = text.replace("version: 1", "version: 99");
        assert!(matches!(
            decode_reply::<Hello>(&old),
            Err(DecodeError::Version { found: 99, .. })
        ));
    }

    #[test]
    fn costly_replies_are_refused_unparsed() {
        let alias = "version: 1\nok: {a: &x [1, 2], b: *x}\n";
        assert!(matches!(
            decode_reply::<serde_yaml::Value>(alias),
            Err(DecodeError::Refused(Refusal::Alias))
        ));
        let deep = format!("version: 1\nok: {}\n", "[".repeat(100_000));
        assert!(matches!(
            decode_reply::<serde_yaml::Value>(&deep),
            Err(DecodeError::Refused(Refusal::TooDeep))
        ));
        // Right at the item budget (the mapping, 2 keys, `1`, the list): parsed.
        let list = |n: usize| format!("version: 1\nok: [{}]\n", vec!["0"; n].join(","));
        let at = list(MAX_REPLY_ITEMS - 5);
        decode_reply::<Vec<u8>>(&at).unwrap().into_result().unwrap();
        let over = list(MAX_REPLY_ITEMS - 4);
        let e = decode_reply::<Vec<u8>>(&over).unwrap_err();
        assert!(
            matches!(
                e,
                DecodeError::Refused(Refusal::TooManyItems(MAX_REPLY_ITEMS))
            ),
            "{e}"
        );
        assert!(
            e.to_string().contains("more than 1000000 YAML items"),
            "{e}"
        );
    }

    #[test]
    fn null_result_is_a_result() {
        let text = to_yaml(&Reply::ok(()));
        assert!(text.contains("ok: null"), "{text}");
        decode_reply::<()>(&text).unwrap().into_result().unwrap();
        let none = decode_reply::<()>("version: 1\n").unwrap();
        assert!(none.into_result().is_err());
    }

    #[test]
    fn error_reply_carries_kind_and_exit_code() {
        let r: Reply<Hello> = Reply::error(ErrorReply::new(ErrorKind::UnknownOp, "no op 'x'"));
        let text = to_yaml(&r);
        assert!(text.contains("kind: unknown_op"), "{text}");
        let e = decode_reply::<Hello>(&text)
            .unwrap()
            .into_result()
            .unwrap_err();
        assert_eq!(e.kind.exit_code(), exit::BAD_REQUEST);
        assert_eq!(e.kind.to_string(), "unknown_op");
    }
}
