//! Invariants of the protocol's parsing that must hold for *any* input: the one place the
//! fuzz targets (`fuzz/`, cargo fuzz on nightly) and the stable replay test
//! (`protocol/tests/fuzz_replay.rs`, run in CI) both call.
//!
//! Each function takes arbitrary bytes and panics when an invariant breaks; returning means
//! the input was handled correctly (accepted or refused with a proper error).

use serde::de::DeserializeOwned;
use serde::Serialize;

use crate::{
    decode_reply, exit, to_yaml, DecodeError, ErrorKind, ErrorReply, ExecResult, Facts, Hello,
    JobsResult, KillResult, Refusal, Reply, Request, SpawnResult, StepResult, TestPlan, WaitResult,
    PROTOCOL_VERSION,
};

/// What the helper does with its stdin, minus running anything.
///
/// - A request that parses survives re-serialising: `parse(to_yaml(r)) == r` (what the
///   master sends is what the helper reads).
/// - A request that does not parse gets an error that says something, maps to a documented
///   exit code (never 0, never 255), and whose reply the master reads back unchanged.
pub fn request(data: &[u8]) {
    match Request::parse(data) {
        Ok(request) => {
            let yaml = request.to_yaml();
            let again = match Request::parse(yaml.as_bytes()) {
                // Written out, a request gains its defaulted fields (`shell: false`, ...):
                // one right at a size limit can pass it, and is then refused as too large
                // like any other, which is what the master is told if it sends one.
                Err(e) if e.kind == ErrorKind::TooLarge => return,
                again => again.unwrap_or_else(|e| {
                    panic!("re-serialised request does not parse: {e}\n--- request:\n{yaml}")
                }),
            };
            assert_eq!(
                again, request,
                "request changed on a round trip\n--- yaml:\n{yaml}"
            );
        }
        Err(error) => error_reply(error),
    }
}

/// An error reply as the helper writes it must read back as the same error, with a
/// documented exit code.
fn error_reply(error: ErrorReply) {
    assert!(
        !error.message.trim().is_empty(),
        "error without a message: {error:?}"
    );
    let code = error.kind.exit_code();
    assert!(
        [exit::BAD_REQUEST, exit::OP_FAILED, exit::INTERNAL].contains(&code),
        "undocumented exit code {code} for {error:?}"
    );
    let text = to_yaml(&Reply::<()>::error(error.clone()));
    let back = decode_reply::<serde_yaml::Value>(&text)
        .unwrap_or_else(|e| panic!("error reply does not decode: {e}\n--- reply:\n{text}"));
    assert_eq!(back.version, PROTOCOL_VERSION);
    assert_eq!(
        back.into_result().err(),
        Some(error),
        "error changed on a round trip\n--- reply:\n{text}"
    );
}

/// What the master does with a helper's stdout: decode it as the reply of each operation.
///
/// Decoding never panics; a reply that decodes re-encodes to text that decodes to the same
/// reply (compared as re-encoded text, so that values without equality, such as a NaN
/// inside a YAML value, still compare).
pub fn reply(data: &[u8]) {
    // The master reads the helper's stdout as UTF-8 first; anything else is refused there.
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    reply_as::<serde_yaml::Value>(text);
    reply_as::<()>(text);
    reply_as::<Hello>(text);
    reply_as::<Facts>(text);
    reply_as::<ExecResult>(text);
    reply_as::<SpawnResult>(text);
    reply_as::<WaitResult>(text);
    reply_as::<KillResult>(text);
    reply_as::<JobsResult>(text);
    reply_as::<TestPlan>(text);
    reply_as::<StepResult>(text);
}

fn reply_as<T: Serialize + DeserializeOwned>(text: &str) {
    let Ok(reply) = decode_reply::<T>(text) else {
        return;
    };
    let name = std::any::type_name::<T>();
    let once = to_yaml(&reply);
    let again = match decode_reply::<T>(&once) {
        // Re-encoded, a reply gains its defaulted fields: one right at the item budget can
        // pass it, and is then refused like any other.
        Err(DecodeError::Refused(Refusal::TooManyItems(_))) => return,
        again => again.unwrap_or_else(|e| {
            panic!("re-encoded {name} reply does not decode: {e}\n--- reply:\n{once}")
        }),
    };
    let twice = to_yaml(&again);
    assert_eq!(
        once, twice,
        "{name} reply changed on a round trip\n--- input:\n{text}"
    );
    // Whatever it holds, it is either a result or an error for the caller.
    let _ = reply.into_result();
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn valid_and_invalid_inputs_pass_the_checks() {
        request(b"version: 1\nop: hello\n");
        request(b"version: 1\nop: exec\nargs: {argv: [echo, {base64: /w==}]}\n");
        request(b"\xff");
        request(b"");
        reply(b"version: 1\nok: {job: j1, pid: 42}\n");
        reply(b"version: 1\nerror: {kind: empty, message: nothing}\n");
        reply(b"\xff");
    }
}
