//! SSH benchmarks on real sshd test hosts, each figure next to its reference, measured in
//! one run (medians of repeated runs). Not run in CI:
//!
//! ```sh
//! scripts/install-deps bench
//! cargo bench --bench ssh                       # 32 hosts, exec also on the first 16
//! LUTF_BENCH_HOSTS=16 LUTF_BENCH_RUNS=20 cargo bench --bench ssh
//! ```
//!
//! - one helper call (`hello`) over the warm connection, and a bare `true` on a new channel
//!   of it, vs `ssh -S <control socket> host true` on the same connection;
//! - one Python step (a `pass` step of a one-step test) vs
//!   `ssh -S <control socket> host python3 -c pass`;
//! - `lutf exec` on 16 and on every host vs `pdsh -R ssh` and ClusterShell's `clush` (all
//!   start from nothing: new process, new connections), and the master's peak RSS there
//!   (`wait4`: the largest of lutf and the processes it waited for, its `ssh` masters);
//! - the helper binary's size;
//! - first and unchanged second deployment to 16 and to every host (time and bytes), each
//!   from new connections like a new lutf run, next to connecting alone.
//!
//! Prints a Markdown table.

#[path = "../tests/support/mod.rs"]
mod support;

use std::process::{Command, Stdio};
use std::sync::Arc;
use std::time::{Duration, Instant};

use lutf::bundle::Bundle;
use lutf::node::Node;
use lutf::protocol::{Hello, Op, StepArgs, StepContext, StepResult};
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

/// Runs `cmd` to its end: (time, peak RSS in KiB of it or a process it waited for).
fn timed_rss(cmd: &mut Command) -> (Duration, i64) {
    let start = Instant::now();
    let child = cmd
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let pid = child.id() as i32;
    let mut status = 0;
    // SAFETY: a zeroed rusage is valid; wait4 on our own child, reaped only here.
    let mut usage: libc::rusage = unsafe { std::mem::zeroed() };
    assert_eq!(unsafe { libc::wait4(pid, &mut status, 0, &mut usage) }, pid);
    let took = start.elapsed();
    std::mem::forget(child);
    assert_eq!(status, 0, "{cmd:?}");
    (took, usage.ru_maxrss)
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
    let n = env_usize("LUTF_BENCH_HOSTS", 32);
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
    // One suite with one test of one `pass` step, for the Python step figure.
    let suite_root = tempfile::tempdir().unwrap();
    let suite = suite_root.path().join("bench");
    std::fs::create_dir(&suite).unwrap();
    std::fs::write(
        suite.join("test_01.py"),
        "\"\"\"One step that does nothing (benchmark).\"\"\"\nfrom lutf import Test\n\ntest = Test()\n\n\n@test.step()\ndef noop(ctx):\n    pass\n",
    )
    .unwrap();
    let bundle = Bundle::new(&[suite]).unwrap();
    let mut rows: Vec<(String, String, String)> = Vec::new();

    // Deployment, from fresh connections each time (as a new lutf run would), to the first
    // 16 hosts (the issue's figure) and to all of them.
    let mut sizes = vec![n];
    if n > 16 {
        sizes.insert(0, 16);
    }
    for size in sizes {
        let (mut first, mut second, mut connect) = (Vec::new(), Vec::new(), Vec::new());
        let (mut first_bytes, mut second_bytes) = (0, 0);
        for _ in 0..runs {
            for i in 0..size {
                let wd = hosts
                    .workdir(i)
                    .unwrap_or_else(|| format!("/tmp/lutf-{}", hosts.user));
                let _ = std::fs::remove_dir_all(hosts.outside(i, &wd));
            }
            connect.push(rt.block_on(connect_all(&transports(&hosts, &options)[..size])));
            let fresh = transports(&hosts, &options);
            let (t, b) = rt.block_on(deploy_all(&nodes(&fresh[..size]), &bundle));
            first.push(t);
            first_bytes = b;
            let fresh = transports(&hosts, &options);
            let (t, b) = rt.block_on(deploy_all(&nodes(&fresh[..size]), &bundle));
            second.push(t);
            second_bytes = b;
        }
        let connect = median(connect);
        rows.push((
            format!("first deployment to {size} hosts (connect + push)"),
            format!("{} ({first_bytes} bytes/host)", ms(median(first))),
            format!("connecting alone: {}", ms(connect)),
        ));
        rows.push((
            format!("unchanged second deployment to {size} hosts (connect + hash check)"),
            format!("{} ({second_bytes} bytes/host)", ms(median(second))),
            format!("connecting alone: {}", ms(connect)),
        ));
    }

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
    // One Python step vs python3 on the same connection.
    let step = Op::Step(StepArgs {
        file: "bench/test_01.py".into(),
        step: "noop".into(),
        context: StepContext {
            test: "bench/test_01".into(),
            role: "node1".into(),
            node_name: "node1".into(),
            ..StepContext::default()
        },
        timeout: Some(60.0),
        output_limit: None,
        origin: None,
    });
    let (mut py_step, mut py_ssh) = (Vec::new(), Vec::new());
    for _ in 0..runs * 2 {
        let start = Instant::now();
        let r: StepResult = rt.block_on(node.call(step.clone())).unwrap();
        assert!(
            matches!(r.outcome, lutf::protocol::StepOutcome::Pass { .. }),
            "{r:?}"
        );
        py_step.push(start.elapsed());
        py_ssh.push(timed(
            Command::new("ssh")
                .arg("-F")
                .arg(&hosts.ssh_config)
                .arg("-S")
                .arg(&socket)
                .args(["-o", "ControlMaster=no", "node1", "python3", "-c", "pass"]),
        ));
    }
    rows.push((
        "one Python step (`pass`) over the warm connection".into(),
        ms(median(py_step)),
        format!(
            "`ssh -S <socket> node1 python3 -c pass`: {}",
            ms(median(py_ssh))
        ),
    ));
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

    // lutf exec vs pdsh and clush, all from nothing, on 16 hosts and on all of them.
    let pdsh = Command::new("pdsh").arg("-V").output().is_ok();
    let clush = Command::new("clush").arg("--version").output().is_ok();
    // clush reads ssh options from its own config; -o passes them to every ssh.
    let ssh_opts = format!("-F {} -o BatchMode=yes", hosts.ssh_config.display());
    if helper_can_exec() {
        let mut sizes = vec![n];
        if n > 16 {
            sizes.insert(0, 16);
        }
        for size in sizes {
            let list = format!("node[1-{size}]");
            let (mut lutf, mut rss, mut p, mut c) =
                (Vec::new(), Vec::new(), Vec::new(), Vec::new());
            for _ in 0..runs {
                let (t, r) = timed_rss(hosts.lutf().args(["exec", "--nodes", &list, "--", "true"]));
                lutf.push(t);
                rss.push(r);
                if pdsh {
                    p.push(timed(
                        Command::new("pdsh")
                            .args(["-R", "ssh", "-f", "64", "-w", &list, "true"])
                            .env("PDSH_SSH_ARGS_APPEND", &ssh_opts),
                    ));
                }
                if clush {
                    c.push(timed(
                        Command::new("clush")
                            .args(["-f", "64", "-w", &list, "-o", &ssh_opts, "true"]),
                    ));
                }
            }
            let mut reference = Vec::new();
            reference.push(if pdsh {
                format!("`pdsh -R ssh -f 64 -w {list} true`: {}", ms(median(p)))
            } else {
                "pdsh not installed (scripts/install-deps bench)".into()
            });
            reference.push(if clush {
                format!("`clush -f 64 -w {list} true`: {}", ms(median(c)))
            } else {
                "clush not installed (scripts/install-deps bench)".into()
            });
            rows.push((
                format!("`lutf exec --nodes {list} -- true`"),
                ms(median(lutf)),
                reference.join("; "),
            ));
            rss.sort();
            rows.push((
                format!("master peak RSS, `lutf exec` on {size} hosts"),
                format!("{:.1} MiB", rss[rss.len() / 2] as f64 / 1024.0),
                "largest of lutf and the ssh masters it waited for (wait4)".into(),
            ));
        }
    } else {
        rows.push((
            "`lutf exec`".into(),
            "n/a: the helper in this build has no `exec`".into(),
            String::new(),
        ));
    }
    let helper = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("target/helper/x86_64-unknown-linux-gnu/release/lutf-helper");
    if let Ok(m) = std::fs::metadata(&helper) {
        rows.push((
            "helper binary size (static, release)".into(),
            format!("{:.2} MiB ({} bytes)", m.len() as f64 / 1048576.0, m.len()),
            format!("bundle: {} bytes", bundle.size()),
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
