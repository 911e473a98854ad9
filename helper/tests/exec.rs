//! `exec` through the real helper binary: arguments reach the command byte for byte,
//! output is bounded with a marker, timeouts kill the whole group, start failures are
//! `spawn` errors.

mod common;

use std::time::{Duration, Instant};

use common::{processes_with, sleep_marker, wait_gone, Work};
use lutf_protocol::{Bytes, ErrorKind, ExecArgs, ExecResult, Op};

fn exec(work: &Work, args: ExecArgs) -> ExecResult {
    work.call(Op::Exec(args))
}

fn argv(words: &[&[u8]]) -> Vec<Bytes> {
    words.iter().map(|w| Bytes(w.to_vec())).collect()
}

#[test]
fn arguments_reach_the_command_unchanged() {
    let work = Work::new();
    let tricky: Vec<&[u8]> = vec![
        b"\xff\xfe not utf-8",
        b"$(touch /tmp/lutf-pwned)",
        b"`id`; rm -rf /nonexistent; echo",
        b"a  b\tc\nd",
        b"'\"\\",
        b"*",
        b"~",
        b"",
        "ünïcödé".as_bytes(),
        b"--",
    ];
    // printf gets each argument back out, NUL-terminated, with no shell in between.
    let mut words: Vec<&[u8]> = vec![b"printf", b"%s\\0"];
    words.extend(&tricky);
    let r = exec(
        &work,
        ExecArgs {
            argv: argv(&words),
            timeout: Some(10.0),
            ..Default::default()
        },
    );
    assert_eq!(r.exit.code, Some(0), "{:?}", r.stderr);
    let mut expected = Vec::new();
    for t in &tricky {
        expected.extend_from_slice(t);
        expected.push(0);
    }
    assert_eq!(r.stdout.data.as_slice(), expected.as_slice());
    assert!(!std::path::Path::new("/tmp/lutf-pwned").exists());
}

#[test]
fn shell_scripts_get_their_arguments_as_positional_parameters() {
    let work = Work::new();
    let r = exec(
        &work,
        ExecArgs {
            argv: argv(&[b"printf '%s|' \"$0\" \"$@\"", b"a b", b"$HOME"]),
            shell: true,
            timeout: Some(10.0),
            ..Default::default()
        },
    );
    assert_eq!(r.stdout.data.as_slice(), b"sh|a b|$HOME|");
}

#[test]
fn exit_codes_signals_stdin_and_env() {
    let work = Work::new();
    let r = exec(
        &work,
        ExecArgs {
            argv: argv(&[b"false"]),
            ..Default::default()
        },
    );
    assert_eq!(r.exit.code, Some(1));
    let r = exec(
        &work,
        ExecArgs {
            argv: argv(&[b"kill -9 $$"]),
            shell: true,
            ..Default::default()
        },
    );
    assert_eq!((r.exit.code, r.exit.signal), (None, Some(9)));
    let mut args = ExecArgs {
        argv: argv(&[b"cat"]),
        stdin: Some(Bytes(b"in\x00put\xff".to_vec())),
        ..Default::default()
    };
    let r = exec(&work, args.clone());
    assert_eq!(r.stdout.data.as_slice(), b"in\x00put\xff");
    args.argv = argv(&[b"env"]);
    args.stdin = None;
    args.clear_env = true;
    args.env.insert("ONLY".into(), Bytes(b"this\xff".to_vec()));
    let r = exec(&work, args);
    assert_eq!(r.stdout.data.as_slice(), b"ONLY=this\xff\n");
}

#[test]
fn output_is_bounded_with_a_marker() {
    let work = Work::new();
    let r = exec(
        &work,
        ExecArgs {
            argv: argv(&[b"head -c 3000000 /dev/zero | tr '\\0' x; echo END"]),
            shell: true,
            output_limit: Some(1000),
            timeout: Some(30.0),
            ..Default::default()
        },
    );
    assert_eq!(r.stdout.dropped, 3_000_004 - 1000);
    let text = r.stdout.data.to_string_lossy();
    assert!(text.starts_with(&"x".repeat(500)), "head kept");
    assert!(text.ends_with("xxEND\n"), "tail kept");
    assert!(text.contains(&format!("\n[lutf: {} bytes dropped]\n", r.stdout.dropped)));
    assert_eq!(r.stderr.dropped, 0);
}

#[test]
fn timeout_kills_the_whole_group() {
    let work = Work::new();
    let marker = sleep_marker();
    let start = Instant::now();
    let r = exec(
        &work,
        ExecArgs {
            argv: argv(&[
                b"sh",
                b"-c",
                format!("sleep {marker} & sleep {marker}").as_bytes(),
            ]),
            timeout: Some(1.0),
            ..Default::default()
        },
    );
    // "Did not hang": a generous bound; the command alone would take 300 s.
    assert!(
        start.elapsed() < Duration::from_secs(3),
        "{:?}",
        start.elapsed()
    );
    assert!(r.timed_out);
    assert!(r.duration >= 1.0);
    assert_eq!(wait_gone(&marker, 2.0), vec![], "grandchildren left behind");
}

#[test]
fn a_background_grandchild_holding_the_pipes_cannot_hang_the_call() {
    let work = Work::new();
    let marker = sleep_marker();
    let start = Instant::now();
    let r = exec(
        &work,
        ExecArgs {
            argv: argv(&[format!("sleep {marker} & echo started").as_bytes()]),
            shell: true,
            timeout: Some(60.0),
            ..Default::default()
        },
    );
    assert!(start.elapsed() < Duration::from_secs(5), "did not hang");
    assert_eq!(r.exit.code, Some(0));
    assert!(!r.timed_out);
    assert_eq!(r.stdout.data.as_slice(), b"started\n");
    assert_eq!(wait_gone(&marker, 2.0), vec![]);
    assert!(processes_with(&marker).is_empty());
}

#[test]
fn start_failures_are_spawn_errors() {
    let work = Work::new();
    let (e, code) = work.call_err(Op::Exec(ExecArgs {
        argv: argv(&[b"lutf-no-such-program"]),
        ..Default::default()
    }));
    assert_eq!(e.kind, ErrorKind::Spawn);
    assert!(e.message.contains("lutf-no-such-program"), "{}", e.message);
    assert_eq!(code, 3);
    let (e, _) = work.call_err(Op::Exec(ExecArgs {
        argv: argv(&[b"true"]),
        cwd: Some("/no/such/folder".into()),
        ..Default::default()
    }));
    assert_eq!(e.kind, ErrorKind::Spawn);
    assert!(e.message.contains("/no/such/folder"), "{}", e.message);
    let (e, _) = work.call_err(Op::Exec(ExecArgs {
        argv: argv(&[b"/etc/hostname"]),
        ..Default::default()
    }));
    assert_eq!(e.kind, ErrorKind::Spawn);
}
