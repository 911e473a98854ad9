//! `lutf-lnetconfig`: the static helper's companion for liblnetconfig calls.
//!
//! `lutf-helper` is statically linked so that one file runs on every node, but a static
//! program cannot safely load a shared library built against another C library (the node's
//! `liblnetconfig.so.4` needs the node's glibc). This small program is linked dynamically
//! instead: the helper starts it for the `lnet` operation only, and it speaks the same
//! protocol: one YAML request (`op: lnet`) on stdin, one YAML reply on stdout, the
//! helper's exit codes (never 255).
//!
//! Its glibc floor is the one of the machine it was built on; `scripts/build-portable`
//! builds it against glibc 2.17 instead. The helper explains a node whose glibc is too old.
//!
//! Test hook: `LUTF_TEST_LNET_ROOT` makes it look for `sys/module/lnet`, `dev/lnet` and the
//! module's version under that folder instead of `/` (tests fake a loaded LNet there).

mod call;

use std::io::{Read, Write};

use lutf_protocol::{ErrorKind, ErrorReply, Op, Reply, Request, MAX_REQUEST_BYTES};

/// The environment variable naming a fake root for `/sys` and `/dev` (tests only).
pub const TEST_ROOT_VAR: &str = "LUTF_TEST_LNET_ROOT";

fn main() {
    if std::env::args().nth(1).as_deref() == Some("--version") {
        println!("lutf-lnetconfig {}", env!("CARGO_PKG_VERSION"));
        return;
    }
    let code = match serve() {
        Ok(reply) => {
            write_reply(&Reply::ok(reply));
            lutf_protocol::exit::OK
        }
        Err(e) => {
            let code = e.kind.exit_code();
            write_reply(&Reply::<()>::error(e));
            code
        }
    };
    std::process::exit(code);
}

fn serve() -> Result<lutf_protocol::LnetReply, ErrorReply> {
    let mut input = Vec::new();
    std::io::stdin()
        .lock()
        .take(MAX_REQUEST_BYTES as u64 + 1)
        .read_to_end(&mut input)
        .map_err(|e| ErrorReply::new(ErrorKind::Io, format!("cannot read stdin: {e}")))?;
    let request = Request::parse(&input)?;
    let Op::Lnet(args) = request.op else {
        return Err(ErrorReply::new(
            ErrorKind::UnknownOp,
            format!(
                "lutf-lnetconfig makes `lnet` calls only, not `{}`: send it to lutf-helper",
                request.op.name()
            ),
        ));
    };
    let root = std::env::var_os(TEST_ROOT_VAR).map(std::path::PathBuf::from);
    // A panic (a bug, or a library that misbehaves) still gets a structured reply.
    std::panic::catch_unwind(|| call::run(&args, &hostname(), root)).unwrap_or_else(|panic| {
        let what = panic
            .downcast_ref::<&str>()
            .map(|s| s.to_string())
            .or_else(|| panic.downcast_ref::<String>().cloned())
            .unwrap_or_else(|| "unknown panic".into());
        Err(ErrorReply::new(
            ErrorKind::Internal,
            format!("lutf-lnetconfig bug: {what}"),
        ))
    })
}

/// This node's name, for messages ("LNet is not loaded on NAME").
fn hostname() -> String {
    let mut buf = [0u8; 256];
    // SAFETY: the buffer is valid for its length; gethostname NUL-terminates within it
    // when the name fits (the last byte is kept 0 in any case).
    let rc = unsafe { libc::gethostname(buf.as_mut_ptr().cast(), buf.len() - 1) };
    let name = if rc == 0 {
        let end = buf.iter().position(|&b| b == 0).unwrap_or(0);
        String::from_utf8_lossy(&buf[..end]).into_owned()
    } else {
        String::new()
    };
    if name.is_empty() {
        "this node".into()
    } else {
        name
    }
}

fn write_reply<T: serde::Serialize>(reply: &Reply<T>) {
    let text = lutf_protocol::to_yaml(reply);
    let mut out = std::io::stdout().lock();
    // If the helper went away there is nobody to tell; exit with the code anyway.
    let _ = out.write_all(text.as_bytes());
    let _ = out.flush();
}
