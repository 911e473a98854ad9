//! `hello`: who this helper is and what it can do.

use lutf_protocol::{Hello, Op, PROTOCOL_VERSION};

/// The helper's version, protocol version and operations.
pub fn hello() -> Hello {
    Hello {
        helper_version: env!("CARGO_PKG_VERSION").to_string(),
        protocol_version: PROTOCOL_VERSION,
        operations: Op::all().iter().map(|s| s.to_string()).collect(),
    }
}
