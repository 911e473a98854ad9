//! The operations, one module each; [`dispatch`] picks one for a request.

pub mod exec;
mod facts;
mod hello;
pub mod jobs;
mod lnet;
pub mod lnetctl;
mod lst;
mod test;

pub use facts::hostname;

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
pub fn dispatch(env: &Env, request: Request) -> OpResult {
    match request.op {
        Op::Hello => value(hello::hello()),
        Op::Facts => value(facts::facts(env)?),
        Op::Exec(a) => value(exec::exec(env, &a)?),
        Op::Spawn(a) => value(jobs::spawn(env, a)?),
        Op::Wait(a) => value(jobs::wait(env, &a)?),
        Op::Kill(a) => value(jobs::kill(env, &a)?),
        Op::Forget(a) => value(jobs::forget(env, &a)?),
        Op::Jobs => value(jobs::list(env)?),
        Op::Plan(a) => value(test::plan(env, &a)?),
        Op::Step(a) => value(test::step(env, &a)?),
        Op::SpawnStep(a) => value(test::spawn_step(env, a)?),
        Op::Lnet(a) => lnet::lnet(env, a),
        Op::Lnetctl(a) => value(lnetctl::lnetctl(env, &a)?),
        Op::Lst(a) => value(lst::lst(env, &a)?),
    }
}
