//! Security of what the helper passes on and gives back, with the real helper and the real
//! Python runner: no shell ever re-reads an argument, environment value, stdin or step
//! parameter (they arrive byte for byte), and secret values never come back in a reply.

mod common;

use std::collections::BTreeMap;

use common::bundle::Bundle;
use common::Work;
use lutf_protocol::{
    Bytes, ExecArgs, ExecResult, KillArgs, KillResult, Op, Request, Secret, SpawnResult,
    StepOutcome, StepResult, WaitArgs, WaitResult,
};

/// Arguments a shell would act on, and bytes that are not UTF-8. Each `{m}` is replaced by
/// a per-test marker: if any of them were run by a shell, a file named after it appears.
const NASTY: &[&[u8]] = &[
    b"it's \"quoted\"",
    b"$(touch {m}-dollar)",
    b"`touch {m}-backtick`",
    b"a; touch {m}-semicolon",
    b"a && touch {m}-and || touch {m}-or",
    b"line one\nline two; touch {m}-newline",
    b"> {m}-redirect",
    b"| tee {m}-pipe",
    b"$HOME ${PATH} ~ * ? [a-z] {a,b}",
    b"\\ \\\\ \\n \t tab",
    b"-e --help --",
    b"",
    b"  spaces  ",
    b"\xff\xfe latin-1 \xe9t\xe9 \x80",
    b"\x01\x1b[31m control \x7f",
    "ünïcödé ✓".as_bytes(),
];

fn nasty(marker: &str) -> Vec<Vec<u8>> {
    let m = marker.as_bytes();
    NASTY
        .iter()
        .map(|a| {
            let mut out = Vec::new();
            let mut rest = *a;
            while let Some(i) = rest.windows(3).position(|w| w == b"{m}") {
                out.extend_from_slice(&rest[..i]);
                out.extend_from_slice(m);
                rest = &rest[i + 3..];
            }
            out.extend_from_slice(rest);
            out
        })
        .collect()
}

/// No file named after `marker` exists: nothing was run by a shell.
fn assert_nothing_ran(dir: &std::path::Path, marker: &str) {
    let made: Vec<String> = std::fs::read_dir(dir)
        .unwrap()
        .flatten()
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .filter(|n| n.contains(marker))
        .collect();
    assert!(made.is_empty(), "a shell ran something: {made:?}");
}

/// A Python one-liner that writes its arguments, NUL-separated, raw bytes.
const DUMP_ARGV: &str = "import os, sys; \
    sys.stdout.buffer.write(b'\\0'.join(os.fsencode(a) for a in sys.argv[1:]))";

fn joined(args: &[Vec<u8>]) -> Vec<u8> {
    args.join(&b'\0')
}

#[test]
fn exec_arguments_reach_the_command_byte_for_byte() {
    let work = Work::new();
    let dir = tempfile::tempdir().unwrap();
    let marker = common::marker("lutf-injection-");
    let args = nasty(&marker);
    let mut argv: Vec<Bytes> = vec!["python3".into(), "-c".into(), DUMP_ARGV.into()];
    argv.extend(args.iter().map(|a| Bytes(a.clone())));
    let r: ExecResult = work.call(Op::Exec(ExecArgs {
        argv,
        cwd: Some(dir.path().display().to_string()),
        timeout: Some(30.0),
        ..Default::default()
    }));
    assert_eq!(r.exit.code, Some(0), "{}", r.stderr.data.to_string_lossy());
    assert_eq!(r.stdout.data.as_slice(), joined(&args));
    assert_nothing_ran(dir.path(), &marker);
}

#[test]
fn shell_positional_arguments_are_not_re_read_by_the_shell() {
    // With `shell`, argv[0] is the script and the rest are "$1"...: data, never code.
    let work = Work::new();
    let dir = tempfile::tempdir().unwrap();
    let marker = common::marker("lutf-injection-");
    let args = nasty(&marker);
    let mut argv: Vec<Bytes> = vec![r#"for a in "$@"; do printf '%s\0' "$a"; done"#.into()];
    argv.extend(args.iter().map(|a| Bytes(a.clone())));
    let r: ExecResult = work.call(Op::Exec(ExecArgs {
        argv,
        shell: true,
        cwd: Some(dir.path().display().to_string()),
        timeout: Some(30.0),
        ..Default::default()
    }));
    assert_eq!(r.exit.code, Some(0), "{}", r.stderr.data.to_string_lossy());
    let mut expected = joined(&args);
    expected.push(0);
    assert_eq!(r.stdout.data.as_slice(), expected);
    assert_nothing_ran(dir.path(), &marker);
}

#[test]
fn environment_values_and_stdin_reach_the_command_byte_for_byte() {
    let work = Work::new();
    let dir = tempfile::tempdir().unwrap();
    let marker = common::marker("lutf-injection-");
    let values = nasty(&marker);
    let env: BTreeMap<String, Bytes> = values
        .iter()
        .enumerate()
        .map(|(i, v)| (format!("LUTF_NASTY_{i:02}"), Bytes(v.clone())))
        .collect();
    let script = "import os, sys; \
        names = sorted(k for k in os.environb if k.startswith(b'LUTF_NASTY_')); \
        sys.stdout.buffer.write(b'\\0'.join(os.environb[k] for k in names)); \
        sys.stderr.buffer.write(sys.stdin.buffer.read())";
    let mut stdin = joined(&values);
    stdin.extend_from_slice(b"\0 and a NUL");
    let r: ExecResult = work.call(Op::Exec(ExecArgs {
        argv: vec!["python3".into(), "-c".into(), script.into()],
        env,
        stdin: Some(Bytes(stdin.clone())),
        cwd: Some(dir.path().display().to_string()),
        timeout: Some(30.0),
        ..Default::default()
    }));
    assert_eq!(r.exit.code, Some(0), "{}", r.stderr.data.to_string_lossy());
    assert_eq!(r.stdout.data.as_slice(), joined(&values));
    assert_eq!(r.stderr.data.as_slice(), stdin);
    assert_nothing_ran(dir.path(), &marker);
}

#[test]
fn step_parameters_reach_the_step_unchanged() {
    let b = Bundle::new();
    let marker = common::marker("lutf-injection-");
    let mut args = b.step_args("helper/test_echo.py", "echo_params", Some(30.0));
    // Parameters are JSON: text (any Unicode, control characters and NUL included), not
    // raw bytes; bytes that are not UTF-8 reach commands (above) and secrets (below).
    let params = serde_json::json!({
        "quotes": "it's \"quoted\"",
        "dollar": format!("$(touch /tmp/{marker}-dollar)"),
        "backtick": format!("`touch /tmp/{marker}-backtick`"),
        "semicolon": format!("a; touch /tmp/{marker}-semicolon"),
        "newlines": "line one\nline two\r\n",
        "controls": "\u{0}\u{1}\u{1b}[31m\u{7f}",
        "unicode": "ünïcödé ✓ 🦀",
        "shell words": "$HOME ${PATH} ~ * ? [a-z] {a,b} \\ \t",
        "nested": {"list": ["a'b", "`c`", {"d;e": "$(f)"}], "n": 3, "x": 1.5, "t": true, "z": null},
    });
    args.context.params = serde_json::from_value(params.clone()).unwrap();
    let r: StepResult = b.call(Op::Step(args));
    match &r.outcome {
        StepOutcome::Pass { value } => assert_eq!(value, &params),
        other => panic!("{other:?}: {}", r.log.data.to_string_lossy()),
    }
    assert_nothing_ran(std::path::Path::new("/tmp"), &marker);
}

const TOKEN: &str = "TOKEN";

fn secret_value(marker: &str) -> String {
    format!("hunter2-{marker}")
}

fn secrets(value: &[u8]) -> BTreeMap<String, Secret> {
    BTreeMap::from([(TOKEN.to_string(), Secret::from(value))])
}

/// The reply text never holds the secret (checked on the raw YAML, base64 included).
fn assert_not_in(reply: &str, secret: &str) {
    assert!(!reply.contains(secret), "secret in the reply:\n{reply}");
    let b64 = base64_of(secret.as_bytes());
    assert!(
        !reply.contains(&b64),
        "secret (base64) in the reply:\n{reply}"
    );
}

fn base64_of(data: &[u8]) -> String {
    const ALPHABET: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let mut out = String::new();
    for chunk in data.chunks(3) {
        let n = chunk
            .iter()
            .enumerate()
            .fold(0u32, |n, (i, &b)| n | (b as u32) << (16 - 8 * i));
        for i in 0..=chunk.len() {
            out.push(ALPHABET[(n >> (18 - 6 * i) & 63) as usize] as char);
        }
    }
    out
}

#[test]
fn secret_environment_reaches_the_command_and_never_comes_back() {
    let work = Work::new();
    let dir = tempfile::tempdir().unwrap();
    let marker = common::marker("");
    let secret = secret_value(&marker);
    let copy = dir.path().join("copy");
    // The command writes the secret to a file (proof that it arrived unchanged) and to
    // both of its outputs (which the reply must not carry).
    let args = ExecArgs {
        argv: vec![
            r#"printf '%s' "$TOKEN" > "$1"; echo "out: $TOKEN"; echo "err: $TOKEN" >&2"#.into(),
            copy.display().to_string().into(),
        ],
        shell: true,
        secret_env: secrets(secret.as_bytes()),
        timeout: Some(30.0),
        ..Default::default()
    };
    // Logging a request with {:?} is safe.
    let request = Request::from(Op::Exec(args.clone()));
    assert!(!format!("{request:?}").contains(&secret));

    let called = work.call_measured(std::path::Path::new(common::HELPER), Op::Exec(args.clone()));
    let r: ExecResult = called.reply().unwrap();
    assert_eq!(std::fs::read_to_string(&copy).unwrap(), secret);
    assert_eq!(r.stdout.data.to_string_lossy(), "out: [secret TOKEN]\n");
    assert_eq!(r.stderr.data.to_string_lossy(), "err: [secret TOKEN]\n");
    assert_not_in(&called.stdout, &secret);
    assert_not_in(&called.stderr, &secret);

    // The same as a background job, through `wait` and `kill`.
    let s: SpawnResult = work.call(Op::Spawn(args.clone()));
    let w = work.call_measured(
        std::path::Path::new(common::HELPER),
        Op::Wait(WaitArgs {
            job: s.job.clone(),
            timeout: 30.0,
        }),
    );
    let r: WaitResult = w.reply().unwrap();
    assert!(r.finished);
    assert_eq!(r.stdout.data.to_string_lossy(), "out: [secret TOKEN]\n");
    assert_not_in(&w.stdout, &secret);
    let k = work.call_measured(
        std::path::Path::new(common::HELPER),
        Op::Kill(KillArgs {
            job: s.job,
            grace: Some(0.0),
        }),
    );
    let r: KillResult = k.reply().unwrap();
    assert_eq!(
        r.result.stderr.data.to_string_lossy(),
        "err: [secret TOKEN]\n"
    );
    assert_not_in(&k.stdout, &secret);
}

#[test]
fn secrets_reach_the_step_unchanged_even_when_not_utf8() {
    let b = Bundle::new();
    let marker = common::marker("");
    for value in [
        secret_value(&marker).into_bytes(),
        b"\xff\xfe not utf-8 \x00 \x80".to_vec(),
    ] {
        let mut args = b.step_args("helper/test_echo.py", "secret_seen", Some(30.0));
        args.context.secrets = secrets(&value);
        let r: StepResult = b.call(Op::Step(args));
        let StepOutcome::Pass { value: seen } = &r.outcome else {
            panic!("{:?}: {}", r.outcome, r.log.data.to_string_lossy())
        };
        let utf8 = std::str::from_utf8(&value).is_ok();
        assert_eq!(seen["type"], if utf8 { "str" } else { "bytes" });
        let reversed: Vec<u8> = value.iter().rev().copied().collect();
        assert_eq!(seen["reversed"], serde_json::json!(reversed));
    }
}

#[test]
fn a_step_cannot_leak_its_secrets_into_the_reply() {
    let b = Bundle::new();
    let marker = common::marker("");
    let secret = secret_value(&marker);
    let run = |step: &str| {
        let mut args = b.step_args("helper/test_echo.py", step, Some(30.0));
        args.context.secrets = secrets(secret.as_bytes());
        let called = b.call_measured(Op::Step(args));
        assert_not_in(&called.stdout, &secret);
        called.reply::<StepResult>().unwrap()
    };

    let r = run("secret_leaks");
    let log = r.log.data.to_string_lossy();
    assert!(log.contains("the token is [secret TOKEN]\n"), "{log}");
    assert!(log.contains("again: [secret TOKEN]\n"), "{log}");
    let StepOutcome::Pass { value } = &r.outcome else {
        panic!("{:?}", r.outcome)
    };
    assert_eq!(
        value,
        &serde_json::json!({
            "token": "[secret TOKEN]",
            "[secret TOKEN]": "as a key",
            "nested": ["x[secret TOKEN]y"],
        })
    );

    let r = run("secret_fails");
    let StepOutcome::Fail { failure } = &r.outcome else {
        panic!("{:?}", r.outcome)
    };
    assert!(
        failure.message.contains("bad token '[secret TOKEN]'"),
        "{}",
        failure.message
    );
    assert!(failure
        .traceback
        .as_deref()
        .unwrap()
        .contains("[secret TOKEN]"));

    let r = run("secret_skips");
    assert_eq!(
        r.outcome,
        StepOutcome::Skip {
            reason: "no use for [secret TOKEN]".into()
        }
    );
}

#[test]
fn a_background_step_cannot_leak_its_secrets_either() {
    let b = Bundle::new();
    let marker = common::marker("");
    let secret = secret_value(&marker);
    let mut args = b.step_args("helper/test_echo.py", "secret_leaks", None);
    args.context.secrets = secrets(secret.as_bytes());
    let s: SpawnResult = b.call(Op::SpawnStep(args));
    let w = b.call_measured(Op::Wait(WaitArgs {
        job: s.job,
        timeout: 30.0,
    }));
    assert_not_in(&w.stdout, &secret);
    let r: WaitResult = w.reply().unwrap();
    let step = r.step.expect("finished");
    assert!(step
        .log
        .data
        .to_string_lossy()
        .contains("the token is [secret TOKEN]"));
}
