//! `lutf status`: every node asked concurrently: reachable or not (with ssh's own error),
//! round-trip time of a helper call, where the helper is deployed, and the node's facts
//! (Python, interfaces, LNet). An unreachable node costs at most the connect timeout.

use std::fmt::Write as _;
use std::time::{Duration, Instant};

use crate::cli::{Format, Global, StatusArgs};
use crate::node::Node;
use crate::protocol::{Facts, Hello, JobsResult, Op};

/// One node's answer.
#[derive(Debug, serde::Serialize)]
pub struct NodeStatus {
    /// The node's name.
    pub node: String,
    /// Whether the helper answered.
    pub reachable: bool,
    /// Milliseconds to connect and deploy (or to fail doing so).
    pub setup_ms: f64,
    /// Milliseconds for one helper call (`hello`) over the warm connection.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub rtt_ms: Option<f64>,
    /// The SSH connection: kept between commands (`--persist`) or this command's own.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub connection: Option<String>,
    /// Where the helper is on the node.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub helper_dir: Option<String>,
    /// Bytes pushed to deploy it (0 when the node had it).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub bytes_sent: Option<u64>,
    /// The helper's version.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub helper_version: Option<String>,
    /// The facts, when the helper gave them.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub facts: Option<Facts>,
    /// What went wrong: why the node is unreachable, or why it gave no facts.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
    /// Jobs still running there that a gone lutf master on this machine left (a node lost
    /// mid-step): `suite/test_id step (job ID)`. Listed, not killed: the next `lutf run`
    /// kills them.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub leftovers: Vec<String>,
}

fn ms(d: Duration) -> f64 {
    (d.as_secs_f64() * 10_000.0).round() / 10.0
}

/// Asks one node; never fails, never hangs longer than the transport's bounds. `me` is this
/// master ([`crate::leftovers::this_master`]), to tell which of the node's jobs are leftovers.
pub async fn ask(
    node: &Node,
    bundle: &crate::bundle::Bundle,
    me: &crate::protocol::Origin,
) -> NodeStatus {
    let mut s = NodeStatus {
        node: node.name.clone(),
        reachable: false,
        setup_ms: 0.0,
        rtt_ms: None,
        connection: None,
        helper_dir: None,
        bytes_sent: None,
        helper_version: None,
        facts: None,
        error: None,
        leftovers: Vec::new(),
    };
    let start = Instant::now();
    let deployed = node.deploy(bundle).await;
    s.setup_ms = ms(start.elapsed());
    match deployed {
        Ok(d) => {
            tracing::info!(
                "{}: bundle {} at {} ({} bytes sent, {} old removed)",
                node.name,
                bundle.id(),
                d.dir,
                d.bytes_sent,
                d.pruned
            );
            s.helper_dir = Some(d.dir);
            s.bytes_sent = Some(d.bytes_sent);
            s.connection = node.transport.connection();
        }
        Err(e) => {
            s.error = Some(e.to_string());
            return s;
        }
    }
    let start = Instant::now();
    match node.call::<Hello>(Op::Hello).await {
        Ok(h) => {
            s.rtt_ms = Some(ms(start.elapsed()));
            s.reachable = true;
            s.helper_version = Some(h.helper_version);
        }
        Err(e) => {
            s.error = Some(e.to_string());
            return s;
        }
    }
    match node.call::<Facts>(Op::Facts).await {
        Ok(f) => s.facts = Some(f),
        Err(e) => {
            // Still reachable if only the facts failed.
            s.reachable = !e.is_unreachable();
            s.error = Some(e.to_string());
        }
    }
    if !s.reachable {
        return s;
    }
    match node.call::<JobsResult>(Op::Jobs).await {
        Ok(listed) => {
            s.leftovers = listed
                .jobs
                .iter()
                .filter(|j| crate::leftovers::is_leftover(j, me))
                .map(|j| format!("{} (job {})", j.label(), j.job))
                .collect();
        }
        Err(e) => crate::reporter::eprintln(&format!(
            "lutf: node {}: cannot list the jobs there: {e}",
            node.name
        )),
    }
    s
}

/// How long one node may take to answer `status` in all: connecting (bounded by the
/// transport) plus a minute for the helper; a node past it is reported, not waited for.
pub fn node_deadline(global: &Global) -> Duration {
    Duration::from_secs(2 * global.connect_timeout + 60)
}

/// Runs `lutf status`.
pub async fn run(global: &Global, args: &StatusArgs) -> anyhow::Result<i32> {
    let cluster = super::cluster(global)?;
    let nodes = cluster.nodes();
    let bundle = crate::bundle::Bundle::new(&[])?;
    let deadline = node_deadline(global);
    let me = crate::leftovers::this_master(None);
    let tasks: Vec<_> = nodes
        .into_iter()
        .map(|node| {
            let bundle = bundle.clone();
            let me = me.clone();
            tokio::spawn(async move {
                match tokio::time::timeout(deadline, ask(&node, &bundle, &me)).await {
                    Ok(s) => s,
                    Err(_) => NodeStatus {
                        node: node.name.clone(),
                        reachable: false,
                        setup_ms: ms(deadline),
                        rtt_ms: None,
                        connection: None,
                        helper_dir: None,
                        bytes_sent: None,
                        helper_version: None,
                        facts: None,
                        error: Some(format!("no answer within {} s", deadline.as_secs())),
                        leftovers: Vec::new(),
                    },
                }
            })
        })
        .collect();
    let mut statuses = Vec::new();
    for t in tasks {
        statuses.push(t.await?);
    }
    let out = match args.format {
        Format::Table => {
            let mut o = statuses.iter().map(table).collect::<Vec<_>>().join("\n");
            let up = statuses.iter().filter(|s| s.reachable).count();
            let _ = writeln!(o, "\n{up} of {} nodes reachable", statuses.len());
            o
        }
        Format::Yaml => serde_yaml::to_string(&statuses)?,
        Format::Json => serde_json::to_string_pretty(&statuses)? + "\n",
    };
    crate::reporter::print(&out);
    Ok(if statuses.iter().all(|s| s.reachable) {
        0
    } else {
        1
    })
}

/// One node as a block of `key: value` lines, interfaces indented below.
pub fn table(s: &NodeStatus) -> String {
    let mut o = String::new();
    if !s.reachable {
        let _ = writeln!(
            o,
            "{}: UNREACHABLE after {} ms: {}",
            s.node,
            s.setup_ms,
            s.error.as_deref().unwrap_or("?")
        );
        return o;
    }
    let _ = writeln!(
        o,
        "{}: reachable (call {} ms, setup {} ms)",
        s.node,
        s.rtt_ms.unwrap_or_default(),
        s.setup_ms
    );
    let row = |o: &mut String, k: &str, v: &str| {
        let _ = writeln!(o, "  {k:<10} {v}");
    };
    if let Some(c) = &s.connection {
        row(&mut o, "ssh", c);
    }
    row(
        &mut o,
        "helper",
        &format!(
            "{} in {} ({} bytes sent)",
            s.helper_version.as_deref().unwrap_or("?"),
            s.helper_dir.as_deref().unwrap_or("?"),
            s.bytes_sent.unwrap_or_default()
        ),
    );
    let Some(f) = &s.facts else {
        row(
            &mut o,
            "facts",
            &format!("unavailable: {}", s.error.as_deref().unwrap_or("?")),
        );
        return o;
    };
    row(&mut o, "hostname", &f.hostname);
    row(
        &mut o,
        "os",
        &format!("{} ({} {})", f.os.pretty_name, f.os.id, f.os.version_id),
    );
    row(&mut o, "kernel", &format!("{} {}", f.kernel, f.arch));
    row(&mut o, "cpus", &f.cpus.to_string());
    row(
        &mut o,
        "memory",
        &format!("{:.1} GiB", f.memory_bytes as f64 / (1u64 << 30) as f64),
    );
    let py = match (&f.python.path, &f.python.version, &f.python.missing) {
        (Some(p), Some(v), _) => format!("{v} ({p})"),
        (_, _, Some(why)) => format!("missing: {why}"),
        _ => "unknown".into(),
    };
    row(&mut o, "python3", &py);
    row(&mut o, "lnet", &f.lnet.describe());
    if !s.leftovers.is_empty() {
        row(
            &mut o,
            "leftovers",
            &format!(
                "{} left running by a gone lutf run on this machine (the next `lutf run` kills {}): {}",
                crate::leftovers::jobs(s.leftovers.len()),
                crate::leftovers::them(s.leftovers.len()),
                s.leftovers.join(", ")
            ),
        );
    }
    let _ = writeln!(o, "  interfaces:");
    for i in &f.interfaces {
        let mut flags = vec![if i.flags.up { "up" } else { "down" }];
        for (set, name) in [
            (i.flags.running, "running"),
            (i.flags.loopback, "loopback"),
            (i.flags.broadcast, "broadcast"),
            (i.flags.multicast, "multicast"),
        ] {
            if set {
                flags.push(name);
            }
        }
        let addrs: Vec<String> = i
            .ipv4
            .iter()
            .chain(&i.ipv6)
            .map(|a| format!("{}/{}", a.address, a.prefix))
            .collect();
        let mtu = i.mtu.map(|m| format!("mtu {m}")).unwrap_or_default();
        let _ = writeln!(
            o,
            "    {:<12} {:<30} {:<9} {}",
            i.name,
            flags.join(","),
            mtu,
            addrs.join(" ")
        );
    }
    o
}
