//! Arbitrary bytes as a helper's reply: the master's `decode_reply` never panics, for any
//! operation's result type, and a reply that decodes round-trips (see
//! `lutf_protocol::check`).
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| lutf_protocol::check::reply(data));
