//! `lnet`: one liblnetconfig call, made by the companion `lutf-lnetconfig` (see
//! [`crate::companion`] for why the static helper does not load the library itself).

use std::time::Duration;

use lutf_protocol::lnet::DEFAULT_PING_TIMEOUT;
use lutf_protocol::{ErrorReply, LnetArgs, LnetCall, Op};

use crate::Env;

/// How long a call may take besides its own timeout (a ping's): liblnetconfig's calls are
/// quick, but a call into a busy kernel may wait.
const CALL_TIMEOUT: Duration = Duration::from_secs(120);

/// Makes the call through the companion; answers its `LnetReply`.
pub fn lnet(env: &Env, args: LnetArgs) -> Result<serde_yaml::Value, ErrorReply> {
    let what = format!("lnet {}", args.call.name());
    let timeout = match &args.call {
        LnetCall::Ping { timeout, .. } => {
            CALL_TIMEOUT + Duration::from_secs_f64(timeout.unwrap_or(DEFAULT_PING_TIMEOUT))
        }
        _ => CALL_TIMEOUT,
    };
    crate::companion::call(env, Op::Lnet(args), timeout, &what)
}
