//! The stable-toolchain stand-in for the cargo fuzz targets, run by `cargo test` (so in CI):
//! it replays every committed input — the fuzz seeds, the crash inputs the fuzzer found
//! (`fuzz/regressions/`) and the helper's malformed-request corpus — and a few thousand
//! inputs generated from them by the kind of mutations libFuzzer makes, through the same
//! checks the fuzz targets call (`lutf_protocol::check`).
//!
//! `LUTF_FUZZ_CASES=N` sets how many inputs are generated per target (default 3000),
//! `LUTF_FUZZ_SEED=N` the generator's seed (default fixed, so a CI failure replays), and
//! `LUTF_FUZZ_CORPUS=DIR[:DIR...]` adds folders to replay (a cargo fuzz corpus, say).
//! A failing input is written under the test's temporary folder and its path printed.

use std::panic::{catch_unwind, AssertUnwindSafe};
use std::path::{Path, PathBuf};

use lutf_protocol::check;

const ROOT: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/..");

/// The files of `dir` (not recursive), sorted; none when it does not exist.
fn files(dir: &Path) -> Vec<PathBuf> {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return Vec::new();
    };
    let mut out: Vec<PathBuf> = entries
        .flatten()
        .map(|e| e.path())
        .filter(|p| p.is_file())
        .collect();
    out.sort();
    out
}

/// The committed inputs for `target` (`request` or `reply`), by name.
fn committed(target: &str) -> Vec<(String, Vec<u8>)> {
    let root = Path::new(ROOT);
    let mut dirs = vec![
        root.join("fuzz/seeds").join(target),
        root.join("fuzz/regressions").join(target),
    ];
    if target == "request" {
        dirs.push(root.join("helper/tests/malformed"));
    }
    if let Some(extra) = std::env::var_os("LUTF_FUZZ_CORPUS") {
        dirs.extend(std::env::split_paths(&extra));
    }
    dirs.iter()
        .flat_map(|d| files(d))
        .filter(|p| p.file_name().is_some_and(|n| n != "EXPECTED"))
        .map(|p| (p.display().to_string(), std::fs::read(&p).unwrap()))
        .collect()
}

/// The tokens of `fuzz/yaml.dict` (libFuzzer's dictionary format: one `"..."` per line,
/// with `\xNN`, `\\` and `\"` escapes).
fn dictionary() -> Vec<Vec<u8>> {
    let text = std::fs::read_to_string(Path::new(ROOT).join("fuzz/yaml.dict")).unwrap();
    let mut tokens = Vec::new();
    for line in text.lines() {
        let Some(body) = line
            .trim()
            .strip_prefix('"')
            .and_then(|l| l.strip_suffix('"'))
        else {
            continue;
        };
        let mut out = Vec::new();
        let mut bytes = body.bytes();
        while let Some(b) = bytes.next() {
            if b != b'\\' {
                out.push(b);
                continue;
            }
            match bytes.next() {
                Some(b'x') => {
                    let hex: Vec<u8> = bytes.by_ref().take(2).collect();
                    let hex = std::str::from_utf8(&hex).unwrap();
                    out.push(u8::from_str_radix(hex, 16).unwrap());
                }
                Some(c) => out.push(c),
                None => out.push(b'\\'),
            }
        }
        tokens.push(out);
    }
    assert!(tokens.len() > 50, "fuzz/yaml.dict lost its tokens");
    tokens
}

/// xorshift64*: a small, deterministic generator (no dependency needed for this).
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_f491_4f6c_dd1d)
    }

    fn below(&mut self, n: usize) -> usize {
        if n == 0 {
            0
        } else {
            (self.next() % n as u64) as usize
        }
    }
}

/// Bytes that matter to YAML and to UTF-8 decoding.
const INTERESTING: &[u8] = b"\0\n\r\t :-{}[],'\"#&*!|>%@`\\\x7f\x80\xc3\xff";

/// One input made from the seeds by one to four libFuzzer-like mutations.
fn mutate(rng: &mut Rng, seeds: &[Vec<u8>], dict: &[Vec<u8>]) -> Vec<u8> {
    let mut d = seeds[rng.below(seeds.len())].clone();
    for _ in 0..1 + rng.below(4) {
        let pos = rng.below(d.len() + 1);
        match rng.below(8) {
            0 if !d.is_empty() => {
                let i = rng.below(d.len());
                d[i] ^= 1 << rng.below(8);
            }
            1 if !d.is_empty() => {
                let i = rng.below(d.len());
                d[i] = INTERESTING[rng.below(INTERESTING.len())];
            }
            2 | 3 => {
                let token = &dict[rng.below(dict.len())];
                d.splice(pos..pos, token.iter().copied());
            }
            4 => {
                let end = (pos + 1 + rng.below(16)).min(d.len());
                d.drain(pos.min(end)..end);
            }
            5 if !d.is_empty() => {
                let start = rng.below(d.len());
                let end = (start + 1 + rng.below(32)).min(d.len());
                let chunk = d[start..end].to_vec();
                let at = rng.below(d.len() + 1);
                d.splice(at..at, chunk);
            }
            6 => {
                let other = &seeds[rng.below(seeds.len())];
                let from = rng.below(other.len() + 1);
                d.truncate(pos);
                d.extend_from_slice(&other[from..]);
            }
            _ => {
                // Replace one dictionary token found in the input by another.
                let old = &dict[rng.below(dict.len())];
                if let Some(at) = d.windows(old.len().max(1)).position(|w| w == &old[..]) {
                    let new = &dict[rng.below(dict.len())];
                    d.splice(at..at + old.len(), new.iter().copied());
                }
            }
        }
    }
    d.truncate(64 * 1024);
    d
}

fn env_number(name: &str, default: u64) -> u64 {
    match std::env::var(name) {
        Ok(v) => v
            .parse()
            .unwrap_or_else(|_| panic!("{name} must be a number, got {v:?}")),
        Err(_) => default,
    }
}

/// Runs `check` on every committed input of `target` and on generated ones; fails with the
/// list of inputs that broke an invariant.
fn replay(target: &str, check: fn(&[u8])) {
    let inputs = committed(target);
    assert!(
        inputs.len() >= 10,
        "{target}: only {} committed inputs",
        inputs.len()
    );
    let dict = dictionary();
    let seeds: Vec<Vec<u8>> = inputs.iter().map(|(_, d)| d.clone()).collect();
    let cases = env_number("LUTF_FUZZ_CASES", 3000);
    let seed = env_number("LUTF_FUZZ_SEED", 0x6c75_7466);
    let mut rng = Rng(seed | 1);

    // Panics are expected to be caught here; keep their messages out of the output.
    let quiet = std::panic::take_hook();
    std::panic::set_hook(Box::new(|_| {}));
    let mut failures = Vec::new();
    let generated = (0..cases).map(|i| {
        (
            format!("generated #{i} (seed {seed})"),
            mutate(&mut rng, &seeds, &dict),
        )
    });
    for (name, data) in inputs.into_iter().chain(generated) {
        if let Err(panic) = catch_unwind(AssertUnwindSafe(|| check(&data))) {
            let why = panic
                .downcast_ref::<String>()
                .cloned()
                .or_else(|| panic.downcast_ref::<&str>().map(|s| s.to_string()))
                .unwrap_or_default();
            let saved = Path::new(env!("CARGO_TARGET_TMPDIR"))
                .join(format!("fuzz-{target}-failure-{}", failures.len()));
            std::fs::write(&saved, &data).unwrap();
            failures.push(format!("{name} (saved as {}): {why}", saved.display()));
        }
    }
    std::panic::set_hook(quiet);
    assert!(
        failures.is_empty(),
        "{target}: {} inputs broke an invariant:\n{}",
        failures.len(),
        failures.join("\n\n")
    );
}

#[test]
fn request_parsing_holds_for_committed_and_generated_inputs() {
    replay("request", check::request);
}

#[test]
fn reply_decoding_holds_for_committed_and_generated_inputs() {
    replay("reply", check::reply);
}

#[test]
fn request_seeds_are_valid_requests() {
    // The seeds show the fuzzer every operation; a seed the protocol no longer accepts
    // would quietly narrow what gets fuzzed.
    for path in files(&Path::new(ROOT).join("fuzz/seeds/request")) {
        let data = std::fs::read(&path).unwrap();
        if let Err(e) = lutf_protocol::Request::parse(&data) {
            panic!("{}: {e}", path.display());
        }
    }
}

#[test]
fn mutations_make_varied_inputs() {
    // The generator is worth something only if it makes different inputs, and refusals
    // as well as acceptances.
    let seeds: Vec<Vec<u8>> = committed("request").into_iter().map(|(_, d)| d).collect();
    let dict = dictionary();
    let mut rng = Rng(1);
    let made: Vec<Vec<u8>> = (0..500).map(|_| mutate(&mut rng, &seeds, &dict)).collect();
    let distinct: std::collections::HashSet<&Vec<u8>> = made.iter().collect();
    assert!(distinct.len() > 400, "only {} distinct", distinct.len());
    let parsed = made
        .iter()
        .filter(|d| lutf_protocol::Request::parse(d).is_ok())
        .count();
    assert!(parsed > 10 && parsed < 490, "{parsed} of 500 parse");
}
