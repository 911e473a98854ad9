//! `lutf exec`: one command on every node, concurrently; output per node; worst exit code.

use std::os::unix::ffi::OsStrExt;

use crate::cli::{ExecArgs, Global};
use crate::protocol::{Bytes, ExecArgs as Exec, ExecResult, Op};

/// Runs `lutf exec`.
pub async fn run(global: &Global, args: &ExecArgs) -> anyhow::Result<i32> {
    let cluster = super::cluster(global)?;
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
        ..Default::default()
    };
    let tasks: Vec<_> = nodes
        .into_iter()
        .map(|node| {
            let (bundle, request) = (bundle.clone(), request.clone());
            tokio::spawn(async move {
                let res = match node.deploy(&bundle).await {
                    Ok(_) => node.call::<ExecResult>(Op::Exec(request)).await,
                    Err(e) => Err(e),
                };
                (node.name, res)
            })
        })
        .collect();
    let mut results = Vec::new();
    for t in tasks {
        results.push(t.await?);
    }
    let prefix = results.len() > 1;
    let mut worst = 0;
    let mut groups: Vec<(Vec<String>, Vec<u8>)> = Vec::new();
    for (name, res) in results {
        let (code, out, err) = match res {
            Ok(r) => {
                let mut note = Vec::new();
                if r.timed_out {
                    note.extend_from_slice(
                        format!(
                            "lutf: timed out after {}s, process group killed\n",
                            args.timeout
                        )
                        .as_bytes(),
                    );
                }
                for (what, c) in [("stdout", &r.stdout), ("stderr", &r.stderr)] {
                    if c.dropped > 0 {
                        note.extend_from_slice(
                            format!("lutf: {} bytes of {what} dropped\n", c.dropped).as_bytes(),
                        );
                    }
                }
                let mut err = r.stderr.data.0;
                err.extend(note);
                let code = if r.timed_out {
                    124
                } else {
                    r.exit.shell_code()
                };
                (code, r.stdout.data.0, err)
            }
            Err(e) => (255, Vec::new(), format!("lutf: {e}\n").into_bytes()),
        };
        worst = worst.max(code);
        if args.gather {
            let mut all = out;
            all.extend(err);
            match groups.iter_mut().find(|(_, o)| *o == all) {
                Some((names, _)) => names.push(name),
                None => groups.push((vec![name], all)),
            }
        } else {
            emit(&name, prefix, &out, false);
            emit(&name, prefix, &err, true);
        }
    }
    for (names, out) in groups {
        println!("----------------\n{}\n----------------", names.join(","));
        emit("", false, &out, false);
    }
    Ok(worst)
}

fn emit(name: &str, prefix: bool, data: &[u8], to_stderr: bool) {
    use std::io::Write;
    let mut buf = Vec::new();
    if prefix {
        for line in data.split_inclusive(|&b| b == b'\n') {
            buf.extend_from_slice(name.as_bytes());
            buf.extend_from_slice(b": ");
            buf.extend_from_slice(line);
            if !line.ends_with(b"\n") {
                buf.push(b'\n');
            }
        }
    } else {
        buf.extend_from_slice(data);
    }
    let _ = if to_stderr {
        std::io::stderr().write_all(&buf)
    } else {
        std::io::stdout().write_all(&buf)
    };
}
