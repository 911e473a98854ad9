//! Hostile or broken replies reaching the master: a node whose `lutf-helper` is not ours
//! (here a script installed as the helper by the local transport, the same code path as any
//! node's reply) must fail the call with a clear error naming the node, never fill the
//! master's memory, never hang. Over SSH, the same limit is tested in `tests/ssh.rs`.
//!
//! A test binary of its own: reading 256 MiB raises this process's peak RSS, which would
//! distort the figures other test files take of the processes they spawn (`wait4`'s peak
//! RSS includes the parent's before `exec`).

mod support;

use std::path::Path;
use std::sync::Arc;
use std::time::{Duration, Instant};

use lutf::bundle::{Bundle, BundleFile, HELPER_NAME};
use lutf::node::{CallError, Node};
use lutf::protocol::{
    ExecArgs, ExecResult, Op, DEFAULT_OUTPUT_LIMIT, MAX_REPLY_BYTES, MAX_REPLY_ITEMS,
};
use lutf::transport::local::Local;
use lutf::transport::TransportError;

/// A node called `broken` whose helper is the shell `script`.
async fn node_with_helper(work: &Path, script: &str) -> Node {
    let bundle = Bundle::from_files(vec![BundleFile {
        path: HELPER_NAME.into(),
        mode: 0o755,
        data: format!("#!/bin/sh\n{script}\n").into_bytes().into(),
    }]);
    let node = Node::new(
        "broken",
        Vec::new(),
        Arc::new(Local::new(Some(work.join("w")))),
    );
    node.deploy(&bundle).await.unwrap();
    node
}

/// Calls `op` on a node whose helper writes `version: 1` lines for ever: the call must
/// fail at `op`'s reply limit, naming the node and the limit, and stop the writer.
async fn endless_reply(op: Op, limit: &str) {
    let work = tempfile::tempdir().unwrap();
    let pidfile = work.path().join("pid");
    let script = format!("echo $$ > {}; exec yes 'version: 1'", pidfile.display());
    let node = node_with_helper(work.path(), &script).await;
    let max = op.max_reply_bytes();
    let start = Instant::now();
    let e = node.call::<serde_yaml::Value>(op).await.unwrap_err();
    // Did-not-hang bound (reading 256 MiB from a pipe takes well under a second).
    assert!(start.elapsed() < Duration::from_secs(60));
    assert!(
        matches!(
            e,
            CallError::Transport {
                source: TransportError::ReplyTooLarge { limit },
                ..
            } if limit == max
        ),
        "{e:?}"
    );
    let text = e.to_string();
    assert!(text.starts_with("node broken: "), "{text}");
    assert!(text.contains(&format!("larger than {limit}, ")), "{text}");
    // The writer was stopped, not left writing into a pipe nobody reads.
    let pid: i32 = std::fs::read_to_string(&pidfile)
        .unwrap()
        .trim()
        .parse()
        .unwrap();
    let t0 = Instant::now();
    while support::process_alive(pid) {
        // Did-not-hang bound: it is killed as the call ends.
        assert!(
            t0.elapsed() < Duration::from_secs(10),
            "the writer lives on"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_endless_reply_fails_the_call_at_the_reply_limit() {
    // `facts` has no bound of its own: the protocol's.
    assert_eq!(Op::Facts.max_reply_bytes(), MAX_REPLY_BYTES);
    endless_reply(Op::Facts, &format!("{} MiB", MAX_REPLY_BYTES >> 20)).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_endless_reply_to_a_small_call_fails_at_its_own_limit() {
    // `hello` answers a few lines: 1 MiB is read at most. An `exec` with the default
    // output limit: 2 streams of 1 MiB, grown at most 4 times as YAML, and 1 MiB of room.
    endless_reply(Op::Hello, "1 MiB").await;
    let exec = Op::Exec(ExecArgs {
        argv: vec!["true".into()],
        ..Default::default()
    });
    assert_eq!(exec.max_reply_bytes(), 9 << 20);
    endless_reply(exec, "9 MiB").await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_largest_exec_reply_of_the_real_helper_is_read() {
    // Both streams full of one-character lines, the output that grows the most as YAML
    // (4 times): the reply, ~8 MiB, is within the call's 9 MiB and is read whole.
    let work = tempfile::tempdir().unwrap();
    let node = Node::new(
        "local",
        Vec::new(),
        Arc::new(Local::new(Some(work.path().join("w")))),
    );
    node.deploy(&Bundle::new(&[]).unwrap()).await.unwrap();
    let r: ExecResult = node
        .call(Op::Exec(ExecArgs {
            argv: vec!["yes a | head -c 3000000; yes b | head -c 3000000 >&2".into()],
            shell: true,
            timeout: Some(60.0),
            ..Default::default()
        }))
        .await
        .unwrap();
    for stream in [&r.stdout, &r.stderr] {
        // The limit's worth and the marker line where the middle was dropped.
        assert!(stream.data.len() as u64 > DEFAULT_OUTPUT_LIMIT);
        assert_eq!(stream.dropped, 3_000_000 - DEFAULT_OUTPUT_LIMIT);
    }
}

/// A reply of `version: 1` and a list of `n` zeros (`n + 5` items: the mapping, its two
/// keys, `1`, the list), written to a file a helper script then prints.
fn reply_of_items(dir: &Path, n: usize) -> String {
    let path = dir.join(format!("reply-{n}.yml"));
    let mut text = String::with_capacity(2 * n + 20);
    text.push_str("version: 1\nok: [");
    text.push('0');
    text.push_str(&",0".repeat(n - 1));
    text.push_str("]\n");
    std::fs::write(&path, text).unwrap();
    format!("cat > /dev/null; exec cat {}", path.display())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_reply_over_the_item_budget_is_refused_unparsed() {
    let work = tempfile::tempdir().unwrap();
    // At the budget: read.
    let node = node_with_helper(
        work.path(),
        &reply_of_items(work.path(), MAX_REPLY_ITEMS - 5),
    )
    .await;
    let zeros: Vec<u8> = node.call(Op::Facts).await.unwrap();
    assert_eq!(zeros.len(), MAX_REPLY_ITEMS - 5);
    // One more: refused before parsing, naming the node and the budget.
    let other = tempfile::tempdir().unwrap();
    let node = node_with_helper(
        other.path(),
        &reply_of_items(other.path(), MAX_REPLY_ITEMS - 4),
    )
    .await;
    let e = node.call::<Vec<u8>>(Op::Facts).await.unwrap_err();
    let text = e.to_string();
    assert!(matches!(e, CallError::Garbled { .. }), "{e:?}");
    assert!(text.starts_with("node broken: facts: "), "{text}");
    assert!(
        text.contains(&format!("more than {MAX_REPLY_ITEMS} YAML items")),
        "{text}"
    );
}
