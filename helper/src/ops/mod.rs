//! The operations, one module each; [`dispatch`] picks one for a request.

mod hello;

use lutf_protocol::{ErrorKind, ErrorReply, Op, Request};
use serde::Serialize;

use crate::Env;

/// Any operation's result, as a YAML value for the reply.
pub type OpResult = Result<serde_yaml::Value, ErrorReply>;

fn value<T: Serialize>(v: T) -> OpResult {
    serde_yaml::to_value(v)
        .map_err(|e| ErrorReply::new(ErrorKind::Internal, format!("cannot encode result: {e}")))
}

/// Runs the request's operation.
pub fn dispatch(_env: &Env, request: Request) -> OpResult {
    match request.op {
        Op::Hello => value(hello::hello()),
        other => Err(ErrorReply::new(
            ErrorKind::Unavailable,
            format!("operation `{}` is not implemented yet", other.name()),
        )),
    }
}
