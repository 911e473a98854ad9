//! `lutf exec`: one command on every node, concurrently, like pdsh. Each node's output is
//! printed as soon as that node is done, every line prefixed with the node's name (stdout
//! to stdout, stderr to stderr); `--gather` waits for all and prints each distinct output
//! once under the nodes that gave it, like `dshbak -c`. The exit code is the worst one:
//! a node that could not run the command counts as 255 (ssh's code for its own failures),
//! a timeout as 124.

use std::io::Write as _;
use std::os::unix::ffi::OsStrExt;

use crate::cli::{ExecArgs, Global};
use crate::hostlist;
use crate::node::Node;
use crate::protocol::{Bytes, ExecArgs as Exec, ExecResult, Op, Redactor};

/// The exit code of a node that could not run the command at all.
pub const EXIT_NODE_FAILED: i32 = 255;
/// The exit code of a command killed by its timeout (as `timeout(1)` has it).
pub const EXIT_TIMED_OUT: i32 = 124;

/// What one node gave.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct NodeOutput {
    /// Shell-style exit code (see the module doc).
    pub code: i32,
    /// The command's stdout.
    pub stdout: Vec<u8>,
    /// The command's stderr, plus lutf's notes (timeout, truncation, errors).
    pub stderr: Vec<u8>,
}

/// Runs the command on one node (deploying first) and never fails: failures become
/// output and an exit code. The values of the request's secrets are blanked out of both
/// (the helper did for the command's output; lutf's own notes and errors too).
pub async fn exec_on(
    node: &Node,
    bundle: &crate::bundle::Bundle,
    request: Exec,
    timeout: f64,
) -> NodeOutput {
    let redactor = Redactor::new(&request.secret_env);
    let mut out = exec_unredacted(node, bundle, request, timeout).await;
    if !redactor.is_empty() {
        out.stdout = redactor.bytes(&out.stdout);
        out.stderr = redactor.bytes(&out.stderr);
    }
    out
}

async fn exec_unredacted(
    node: &Node,
    bundle: &crate::bundle::Bundle,
    request: Exec,
    timeout: f64,
) -> NodeOutput {
    // The bundle check and the command: one exchange when the node has the bundle.
    let result = node
        .deploy_and_call::<ExecResult>(bundle, Op::Exec(request))
        .await
        .map(|(d, r)| {
            tracing::info!(
                "{}: bundle {} at {} ({} bytes sent, {} old removed)",
                node.name,
                bundle.id(),
                d.dir,
                d.bytes_sent,
                d.pruned
            );
            r
        });
    match result {
        Ok(r) => {
            let mut notes = Vec::new();
            if r.timed_out {
                notes.push(format!(
                    "lutf: timed out after {timeout}s, process group killed\n"
                ));
            }
            for (what, c) in [("stdout", &r.stdout), ("stderr", &r.stderr)] {
                if c.dropped > 0 {
                    notes.push(format!("lutf: {} bytes of {what} dropped\n", c.dropped));
                }
            }
            let mut stderr = r.stderr.data.0;
            end_line(&mut stderr);
            for n in notes {
                stderr.extend_from_slice(n.as_bytes());
            }
            NodeOutput {
                code: if r.timed_out {
                    EXIT_TIMED_OUT
                } else {
                    r.exit.shell_code()
                },
                stdout: r.stdout.data.0,
                stderr,
            }
        }
        Err(e) => {
            // The error names the node already; the prefix will too.
            let text = e.to_string();
            let text = text
                .strip_prefix(&format!("node {}: ", node.name))
                .unwrap_or(&text);
            NodeOutput {
                code: EXIT_NODE_FAILED,
                stdout: Vec::new(),
                stderr: format!("lutf: {text}\n").into_bytes(),
            }
        }
    }
}

/// Runs `lutf exec`.
pub async fn run(global: &Global, args: &ExecArgs) -> anyhow::Result<i32> {
    // Before anything connects: a secret that is not set is a usage error.
    let secrets = crate::secrets::from_env(&args.secret_env)?;
    crate::secrets::install(&secrets);
    let cluster = super::only_node(super::cluster(global)?, args.node.as_deref())?;
    let nodes = cluster.nodes();
    let bundle = crate::bundle::Bundle::new(&[])?;
    let request = Exec {
        argv: args
            .command
            .iter()
            .map(|a| Bytes(a.as_bytes().to_vec()))
            .collect(),
        shell: args.shell,
        timeout: Some(args.timeout),
        secret_env: secrets,
        ..Default::default()
    };
    // Only this machine: print as the command would, no prefixes.
    let prefix = !(nodes.len() == 1 && nodes[0].name == crate::cluster::LOCAL);
    let names: Vec<String> = nodes.iter().map(|n| n.name.clone()).collect();
    let (tx, mut rx) = tokio::sync::mpsc::unbounded_channel();
    for (i, node) in nodes.into_iter().enumerate() {
        let (bundle, request, tx, timeout) =
            (bundle.clone(), request.clone(), tx.clone(), args.timeout);
        tokio::spawn(async move {
            let out = exec_on(&node, &bundle, request, timeout).await;
            let _ = tx.send((i, out));
        });
    }
    drop(tx);
    let mut worst = 0;
    let mut all: Vec<Option<NodeOutput>> = vec![None; names.len()];
    while let Some((i, out)) = rx.recv().await {
        worst = worst.max(out.code);
        if !args.gather {
            print_prefixed(&names[i], prefix, &out);
        }
        all[i] = Some(out);
    }
    if all.iter().any(Option::is_none) {
        anyhow::bail!("a node's task ended without an answer (a bug)");
    }
    if args.gather {
        let outputs: Vec<NodeOutput> = all.into_iter().map(Option::unwrap).collect();
        let mut text = Vec::new();
        for (group, out) in gather(&names, &outputs) {
            text.extend(format!("----------------\n{group}\n----------------\n").into_bytes());
            text.extend_from_slice(&out.stdout);
            end_line(&mut text);
            text.extend_from_slice(&out.stderr);
            end_line(&mut text);
            if out.code != 0 {
                text.extend(format!("(exit code {})\n", out.code).into_bytes());
            }
        }
        let _ = std::io::stdout().write_all(&text);
    }
    Ok(worst)
}

/// Groups nodes with identical output (stdout, stderr and exit code), in the order of
/// each group's first node; each group named by a compressed host list.
pub fn gather<'a>(names: &[String], outputs: &'a [NodeOutput]) -> Vec<(String, &'a NodeOutput)> {
    let mut groups: Vec<(Vec<&str>, &NodeOutput)> = Vec::new();
    for (name, out) in names.iter().zip(outputs) {
        match groups.iter_mut().find(|(_, o)| *o == out) {
            Some((members, _)) => members.push(name),
            None => groups.push((vec![name], out)),
        }
    }
    groups
        .into_iter()
        .map(|(members, out)| (hostlist::compress(&members), out))
        .collect()
}

fn end_line(buf: &mut Vec<u8>) {
    if buf.last().is_some_and(|&b| b != b'\n') {
        buf.push(b'\n');
    }
}

/// `name: line` for every line (a last line without newline gets one).
pub fn prefix_lines(name: &str, data: &[u8]) -> Vec<u8> {
    let mut buf = Vec::with_capacity(data.len() + 16);
    for line in data.split_inclusive(|&b| b == b'\n') {
        buf.extend_from_slice(name.as_bytes());
        buf.extend_from_slice(b": ");
        buf.extend_from_slice(line);
        if !line.ends_with(b"\n") {
            buf.push(b'\n');
        }
    }
    buf
}

fn print_prefixed(name: &str, prefix: bool, out: &NodeOutput) {
    let (o, e) = if prefix {
        (
            prefix_lines(name, &out.stdout),
            prefix_lines(name, &out.stderr),
        )
    } else {
        (out.stdout.clone(), out.stderr.clone())
    };
    // One write per stream per node, so nodes' lines do not interleave mid-line.
    let _ = std::io::stdout().lock().write_all(&o);
    let _ = std::io::stdout().flush();
    let _ = std::io::stderr().lock().write_all(&e);
}

#[cfg(test)]
mod tests {
    use super::*;

    fn out(code: i32, stdout: &str) -> NodeOutput {
        NodeOutput {
            code,
            stdout: stdout.as_bytes().to_vec(),
            stderr: vec![],
        }
    }

    #[test]
    fn every_line_gets_the_prefix() {
        assert_eq!(prefix_lines("n1", b"a\nb\n"), b"n1: a\nn1: b\n");
        assert_eq!(
            prefix_lines("n1", b"a\nno newline"),
            b"n1: a\nn1: no newline\n"
        );
        assert_eq!(prefix_lines("n1", b""), b"");
        assert_eq!(prefix_lines("n1", b"\n"), b"n1: \n");
        assert_eq!(prefix_lines("n1", b"\xff\n"), b"n1: \xff\n");
    }

    #[test]
    fn gather_groups_identical_outputs_under_a_host_list() {
        let names: Vec<String> = ["n1", "n2", "n3", "n4"]
            .iter()
            .map(|s| s.to_string())
            .collect();
        let outs = vec![out(0, "a\n"), out(0, "b\n"), out(0, "a\n"), out(1, "a\n")];
        let g = gather(&names, &outs);
        assert_eq!(g.len(), 3);
        assert_eq!(g[0].0, "n[1,3]");
        assert_eq!(g[0].1.stdout, b"a\n");
        assert_eq!(g[1].0, "n2");
        assert_eq!(g[2].0, "n4");
        assert_eq!(g[2].1.code, 1);
    }
}
