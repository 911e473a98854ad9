//! SSH benchmarks on real sshd test hosts, each figure next to its reference, measured in
//! one run (medians of repeated runs). Not run in CI:
//!
//! ```sh
//! scripts/install-deps bench
//! cargo bench --bench ssh                       # 16 hosts
//! LUTF_BENCH_HOSTS=32 LUTF_BENCH_RUNS=20 cargo bench --bench ssh
//! ```
//!
//! - one helper call (`hello`) over the warm connection, and a bare `true` on a new channel
//!   of it, vs `ssh -S <control socket> host true` on the same connection;
//! - `lutf exec` on every host vs `pdsh -R ssh` (both start from nothing: new process, new
//!   connections);
//! - first and unchanged second deployment to every host (time and bytes), each from new
//!   connections like a new lutf run, next to connecting alone.
//!
//! Prints a Markdown table.

#[path = "../tests/support/mod.rs"]
mod support;

use std::process::{Command, Stdio};
use std::sync::Arc;
use std::time::{Duration, Instant};

use lutf::bundle::Bundle;
use lutf::node::Node;
use lutf::protocol::{Hello, Op};
use lutf::transport::ssh::{SshOptions, SshTarget, SshTransport};
use lutf::transport::Transport;

fn env_usize(name: &str, default: usize) -> usize {
    std::env::var(name)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

fn median(mut v: Vec<Duration>) -> Duration {
    v.sort();
    v[v.len() / 2]
}

fn ms(d: Duration) -> String {
    format!("{:.1} ms", d.as_secs_f64() * 1000.0)
}

fn timed(cmd: &mut Command) -> Duration {
    let start = Instant::now();
    let out = cmd
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .output()
        .unwrap();
    let took = start.elapsed();
    assert!(
        out.status.success(),
        "{cmd:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    took
}

fn transports(hosts: &support::TestHosts, options: &Arc<SshOptions>) -> Vec<Arc<SshTransport>> {
    hosts
        .hosts
        .iter()
        .enumerate()
        .map(|(i, h)| {
            Arc::new(SshTransport::new(
                SshTarget {
                    host: h.name.clone(),
                    user: None,
                    port: None,
                },
                hosts.workdir(i),
                options.clone(),
            ))
        })
        .collect()
}

fn nodes(ts: &[Arc<SshTransport>]) -> Vec<Node> {
    ts.iter()
        .map(|t| Node::new("node", vec![], t.clone() as Arc<dyn Transport>))
        .collect()
}

/// Deploys `bundle` to every node at once: (time, bytes sent per node).
async fn deploy_all(nodes: &[Node], bundle: &Bundle) -> (Duration, u64) {
    let start = Instant::now();
    let tasks: Vec<_> = nodes
        .iter()
        .map(|n| {
            let (n, b) = (n.clone(), bundle.clone());
            tokio::spawn(async move { n.deploy(&b).await.unwrap().bytes_sent })
        })
        .collect();
    let mut bytes = Vec::new();
    for t in tasks {
        bytes.push(t.await.unwrap());
    }
    let took = start.elapsed();
    assert!(bytes.iter().all(|b| *b == bytes[0]), "{bytes:?}");
    (took, bytes[0])
}

/// Connects to every host at once.
async fn connect_all(ts: &[Arc<SshTransport>]) -> Duration {
    let start = Instant::now();
    let tasks: Vec<_> = ts
        .iter()
        .map(|t| {
            let t = t.clone();
            tokio::spawn(async move { t.connect().await.unwrap() })
        })
        .collect();
    for t in tasks {
        t.await.unwrap();
    }
    start.elapsed()
}

/// Whether the helper built into lutf can run commands.
fn helper_can_exec() -> bool {
    let out = Command::new(support::lutf_bin())
        .args(["exec", "--", "true"])
        .output()
        .unwrap();
    out.status.success()
}

fn main() {
    let n = env_usize("LUTF_BENCH_HOSTS", 16);
    let runs = env_usize("LUTF_BENCH_RUNS", 10).max(1);
    let Some(hosts) = support::hosts(n) else {
        return;
    };
    let rt = tokio::runtime::Runtime::new().unwrap();
    let mode = match hosts.mode {
        support::Mode::Netns { .. } => "network namespaces",
        support::Mode::Loopback => "loopback",
    };
    eprintln!("{n} hosts ({mode}), {runs} runs per figure");
    let options = Arc::new(SshOptions {
        config_file: Some(hosts.ssh_config.clone()),
        ..SshOptions::default()
    });
    let bundle = Bundle::new(&[]).unwrap();
    let mut rows: Vec<(String, String, String)> = Vec::new();

    // Deployment, from fresh connections each time (as a new lutf run would).
    let (mut first, mut second, mut connect) = (Vec::new(), Vec::new(), Vec::new());
    let (mut first_bytes, mut second_bytes) = (0, 0);
    for _ in 0..runs {
        for i in 0..hosts.hosts.len() {
            let wd = hosts
                .workdir(i)
                .unwrap_or_else(|| format!("/tmp/lutf-{}", hosts.user));
            let _ = std::fs::remove_dir_all(hosts.outside(i, &wd));
        }
        connect.push(rt.block_on(connect_all(&transports(&hosts, &options))));
        let (t, b) = rt.block_on(deploy_all(&nodes(&transports(&hosts, &options)), &bundle));
        first.push(t);
        first_bytes = b;
        let (t, b) = rt.block_on(deploy_all(&nodes(&transports(&hosts, &options)), &bundle));
        second.push(t);
        second_bytes = b;
    }
    let connect = median(connect);
    rows.push((
        format!("first deployment to {n} hosts (connect + push)"),
        format!("{} ({first_bytes} bytes/host)", ms(median(first))),
        format!("connecting alone: {}", ms(connect)),
    ));
    rows.push((
        format!("unchanged second deployment to {n} hosts (connect + hash check)"),
        format!("{} ({second_bytes} bytes/host)", ms(median(second))),
        format!("connecting alone: {}", ms(connect)),
    ));

    // One call over a warm connection, next to ssh on the same connection.
    let ts = transports(&hosts, &options);
    let node = nodes(&ts[..1]).remove(0);
    rt.block_on(node.deploy(&bundle)).unwrap();
    let socket = rt.block_on(ts[0].control_socket()).expect("connected");
    let (mut call, mut channel, mut ssh) = (Vec::new(), Vec::new(), Vec::new());
    for _ in 0..runs * 5 {
        let start = Instant::now();
        rt.block_on(node.call::<Hello>(Op::Hello)).unwrap();
        call.push(start.elapsed());
        let start = Instant::now();
        let r = rt.block_on(ts[0].run("true", b"")).unwrap();
        assert_eq!(r.exit_code, Some(0));
        channel.push(start.elapsed());
        ssh.push(timed(
            Command::new("ssh")
                .arg("-F")
                .arg(&hosts.ssh_config)
                .arg("-S")
                .arg(&socket)
                .args(["-o", "ControlMaster=no", "node1", "true"]),
        ));
    }
    rows.push((
        "one helper call (`hello`) over the warm connection".into(),
        ms(median(call)),
        format!("`ssh -S <socket> node1 true`: {}", ms(median(ssh.clone()))),
    ));
    rows.push((
        "a bare `true` on a new channel of it (no helper)".into(),
        ms(median(channel)),
        format!("`ssh -S <socket> node1 true`: {}", ms(median(ssh))),
    ));
    drop(node);
    drop(ts);

    // lutf exec vs pdsh, both from nothing.
    let list = hosts.hostlist();
    let pdsh = Command::new("pdsh").arg("-V").output().is_ok();
    if helper_can_exec() {
        let (mut lutf, mut reference) = (Vec::new(), Vec::new());
        for _ in 0..runs {
            lutf.push(timed(
                hosts.lutf().args(["exec", "--nodes", &list, "--", "true"]),
            ));
            if pdsh {
                reference.push(timed(
                    Command::new("pdsh")
                        .args(["-R", "ssh", "-f", "64", "-w", &list, "true"])
                        .env(
                            "PDSH_SSH_ARGS_APPEND",
                            format!("-F {} -o BatchMode=yes", hosts.ssh_config.display()),
                        ),
                ));
            }
        }
        rows.push((
            format!("`lutf exec --nodes {list} -- true`"),
            ms(median(lutf)),
            if pdsh {
                format!("`pdsh -R ssh -w {list} true`: {}", ms(median(reference)))
            } else {
                "pdsh not installed (scripts/install-deps bench)".into()
            },
        ));
    } else {
        rows.push((
            "`lutf exec`".into(),
            "n/a: the helper in this build has no `exec`".into(),
            String::new(),
        ));
    }
    print_table(n, mode, runs, &rows);
}

fn print_table(n: usize, mode: &str, runs: usize, rows: &[(String, String, String)]) {
    println!(
        "\n{n} hosts ({mode}); medians of {runs} runs (helper calls: {})\n",
        runs * 5
    );
    println!("| measure | lutf | reference |");
    println!("|---|---|---|");
    for (what, lutf, reference) in rows {
        println!("| {what} | {lutf} | {reference} |");
    }
}
