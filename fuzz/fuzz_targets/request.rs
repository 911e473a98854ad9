//! Arbitrary bytes on the helper's stdin: `Request::parse` never panics, a request that
//! parses round-trips, a refused one gets a proper error (see `lutf_protocol::check`).
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| lutf_protocol::check::request(data));
