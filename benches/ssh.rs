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
//! - first, the figures of issue 18, each next to its reference and with the ratio of the
//!   two from alternating runs (median and spread): `lutf exec -- true` on one host cold
//!   and again a moment later, fan-out vs `pdsh -R ssh`, one Python step run as a run runs
//!   it (the executor's `step`), and the bytes sent to a node on an unchanged re-run
//!   beyond what `ssh host true` sends (netns mode: the host link's counters).
//!
//! Prints Markdown tables. `LUTF_BENCH_ONLY=figures` stops after the first.

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
    issue_figures(&hosts, &rt, &options, &bundle, runs);
    if std::env::var("LUTF_BENCH_ONLY").as_deref() == Ok("figures") {
        return;
    }
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
    let step = Op::Step(noop_step());
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

/// The bench suite's one `pass` step, on node1.
fn noop_step() -> StepArgs {
    StepArgs {
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
        wait: None,
        job: None,
    }
}

/// Whether this lutf keeps ssh connections between invocations (`--persist`).
fn lutf_persists() -> bool {
    let out = Command::new(support::lutf_bin())
        .arg("--help")
        .output()
        .unwrap();
    String::from_utf8_lossy(&out.stdout).contains("--persist")
}

/// Closes the connection lutf keeps to node1 (nothing when it keeps none).
fn close_kept(hosts: &support::TestHosts, persists: bool) {
    if persists {
        let out = hosts
            .lutf()
            .args(["disconnect", "--nodes", "node1"])
            .output()
            .unwrap();
        assert!(out.status.success(), "{out:?}");
    }
}

/// `lutf` as a user types it: connections kept for 60 s (the default) when this lutf can.
fn lutf_kept(hosts: &support::TestHosts, persists: bool) -> Command {
    if persists {
        hosts.lutf_keeping(60, &hosts.ssh_config)
    } else {
        hosts.lutf()
    }
}

/// Bytes the master side has sent to host `i` so far (netns mode: its link's counter).
fn tx_bytes(hosts: &support::TestHosts, i: usize) -> Option<u64> {
    let link = hosts.hosts[i].link.as_ref()?;
    std::fs::read_to_string(format!("/sys/class/net/{link}/statistics/tx_bytes"))
        .ok()?
        .trim()
        .parse()
        .ok()
}

/// Median and spread (min–max) of `v`, in ms.
fn spread(v: &[Duration]) -> String {
    let mut v = v.to_vec();
    v.sort();
    format!(
        "{} [{:.1}–{:.1}]",
        ms(v[v.len() / 2]),
        v[0].as_secs_f64() * 1000.0,
        v[v.len() - 1].as_secs_f64() * 1000.0
    )
}

/// The median of the per-run ratios `a[i] / b[i]` (the runs alternate), with their spread.
fn ratio(a: &[Duration], b: &[Duration]) -> String {
    let mut r: Vec<f64> = a
        .iter()
        .zip(b)
        .map(|(x, y)| x.as_secs_f64() / y.as_secs_f64())
        .collect();
    r.sort_by(f64::total_cmp);
    format!("{:.2} [{:.2}–{:.2}]", r[r.len() / 2], r[0], r[r.len() - 1])
}

/// The figures of issue 18, each next to its reference, from alternating runs.
fn issue_figures(
    hosts: &support::TestHosts,
    rt: &tokio::runtime::Runtime,
    options: &Arc<SshOptions>,
    bundle: &Bundle,
    runs: usize,
) {
    let persists = lutf_persists();
    let n = hosts.hosts.len();
    let ssh = |args: &[&str]| {
        let mut c = Command::new("ssh");
        c.arg("-F")
            .arg(&hosts.ssh_config)
            .args([
                "-o",
                "BatchMode=yes",
                "-o",
                "StrictHostKeyChecking=accept-new",
            ])
            .args(args);
        c
    };
    // The reference's warm connection: a master of its own, as a user would keep.
    let ref_dir = tempfile::tempdir().unwrap();
    let ref_socket = ref_dir.path().join("ctl");
    let ref_socket_s = ref_socket.to_str().unwrap().to_string();
    let mut ref_master = ssh(&["-M", "-N", "-S", &ref_socket_s, "node1"])
        .stdin(Stdio::null())
        .spawn()
        .unwrap();
    while !ref_socket.exists() {
        assert!(
            matches!(ref_master.try_wait(), Ok(None)),
            "the reference ssh master ended"
        );
        std::thread::sleep(Duration::from_millis(10));
    }
    // Install the bundle once: every figure below is an unchanged re-run.
    assert!(lutf_kept(hosts, persists)
        .args(["exec", "--nodes", "node1", "--", "true"])
        .status()
        .unwrap()
        .success());
    let exec1 = ["exec", "--nodes", "node1", "--", "true"];
    let (mut cold, mut warm, mut fresh, mut reused) = (vec![], vec![], vec![], vec![]);
    let (mut lutf_bytes, mut ssh_bytes) = (vec![], vec![]);
    for _ in 0..runs {
        close_kept(hosts, persists);
        let before = tx_bytes(hosts, 0);
        cold.push(timed(lutf_kept(hosts, persists).args(exec1)));
        if let (Some(a), Some(b)) = (before, tx_bytes(hosts, 0)) {
            lutf_bytes.push(b - a);
        }
        // "A few seconds later", shortened: the machine is what it is.
        std::thread::sleep(Duration::from_millis(200));
        warm.push(timed(lutf_kept(hosts, persists).args(exec1)));
        let before = tx_bytes(hosts, 0);
        fresh.push(timed(&mut ssh(&["node1", "true"])));
        if let (Some(a), Some(b)) = (before, tx_bytes(hosts, 0)) {
            ssh_bytes.push(b - a);
        }
        reused.push(timed(&mut ssh(&[
            "-S",
            &ref_socket_s,
            "-o",
            "ControlMaster=no",
            "node1",
            "true",
        ])));
    }
    close_kept(hosts, persists);
    let mut rows: Vec<[String; 5]> = vec![
        [
            "`lutf exec -- true`, 1 host / a fresh `ssh host true`".into(),
            spread(&cold),
            spread(&fresh),
            ratio(&cold, &fresh),
            "≤ 1.1".into(),
        ],
        [
            "the same run again 0.2 s later / warm `ssh -S ctl host true`".into(),
            spread(&warm),
            spread(&reused),
            ratio(&warm, &reused),
            "≤ 2".into(),
        ],
    ];

    // Fan-out from nothing (no kept connection) vs pdsh.
    if Command::new("pdsh").arg("-V").output().is_ok() {
        let ssh_opts = format!("-F {} -o BatchMode=yes", hosts.ssh_config.display());
        let mut sizes = vec![n];
        if n > 16 {
            sizes.insert(0, 16);
        }
        // Every host has the bundle first: the figure is a re-run's, as the other rows
        // are (a first deployment is measured below, next to connecting alone).
        assert!(hosts
            .lutf()
            .args(["exec", "--nodes", &format!("node[1-{n}]"), "--", "true"])
            .status()
            .unwrap()
            .success());
        for size in sizes {
            let list = format!("node[1-{size}]");
            let (mut l, mut p) = (vec![], vec![]);
            for _ in 0..runs {
                // From nothing: `hosts.lutf()` keeps no connection (`--persist 0`).
                l.push(timed(
                    hosts.lutf().args(["exec", "--nodes", &list, "--", "true"]),
                ));
                p.push(timed(
                    Command::new("pdsh")
                        .args(["-R", "ssh", "-f", "64", "-w", &list, "true"])
                        .env("PDSH_SSH_ARGS_APPEND", &ssh_opts),
                ));
            }
            rows.push([
                format!("`lutf exec` fan-out, {size} hosts / `pdsh -R ssh`"),
                spread(&l),
                spread(&p),
                ratio(&l, &p),
                "≤ 1.0".into(),
            ]);
        }
    } else {
        eprintln!("pdsh not installed (scripts/install-deps bench): no fan-out figure");
    }

    // One Python step as a run runs it, vs python3 over a warm connection.
    let ts = transports(hosts, options);
    let node = nodes(&ts[..1]).remove(0);
    rt.block_on(node.deploy(bundle)).unwrap();
    let socket = rt.block_on(ts[0].control_socket()).expect("connected");
    let socket = socket.to_str().unwrap().to_string();
    let mut named = node.clone();
    named.name = "node1".into();
    let executor = lutf::runner::NodeExecutor::new(&[named]);
    let args = noop_step();
    use lutf::runner::StepExecutor as _;
    let (mut step, mut py) = (vec![], vec![]);
    for _ in 0..runs * 2 {
        let start = Instant::now();
        let r = rt
            .block_on(executor.step("node1", args.clone(), None))
            .unwrap();
        assert!(
            matches!(r.outcome, lutf::protocol::StepOutcome::Pass { .. }),
            "{r:?}"
        );
        step.push(start.elapsed());
        py.push(timed(&mut ssh(&[
            "-S",
            &socket,
            "-o",
            "ControlMaster=no",
            "node1",
            "python3",
            "-c",
            "pass",
        ])));
    }
    rows.push([
        "a one-step Python test, the step alone / `ssh -S ctl host python3 -c pass`".into(),
        spread(&step),
        spread(&py),
        ratio(&step, &py),
        "≤ 1.3".into(),
    ]);
    drop(node);
    drop(ts);

    let median_u = |mut v: Vec<u64>| {
        v.sort();
        v[v.len() / 2]
    };
    if lutf_bytes.is_empty() || ssh_bytes.is_empty() {
        rows.push([
            "bytes sent to a node on an unchanged re-run, beyond `ssh host true`".into(),
            "n/a: loopback hosts have no link of their own to count on".into(),
            String::new(),
            String::new(),
            "≤ 1 kB".into(),
        ]);
    } else {
        let (l, s) = (median_u(lutf_bytes.clone()), median_u(ssh_bytes.clone()));
        let range =
            |v: &[u64]| format!("[{}–{}]", v.iter().min().unwrap(), v.iter().max().unwrap());
        rows.push([
            "bytes sent to a node on an unchanged re-run (`lutf exec -- true`, cold), beyond `ssh host true`".into(),
            format!("{l} B {}", range(&lutf_bytes)),
            format!("{s} B {}", range(&ssh_bytes)),
            format!("{:+} B", l as i64 - s as i64),
            "≤ 1 kB".into(),
        ]);
    }
    let _ = ref_master.kill();
    let _ = ref_master.wait();

    println!(
        "\nIssue 18 figures: {n} hosts; medians of {runs} alternating runs [min–max] \
         (the step: {} runs){}\n",
        runs * 2,
        if persists {
            ""
        } else {
            "; this lutf keeps no connection between runs"
        }
    );
    println!("| figure | lutf | reference | lutf / reference | goal |");
    println!("|---|---|---|---|---|");
    for [a, b, c, d, e] in &rows {
        println!("| {a} | {b} | {c} | {d} | {e} |");
    }
}
