//! `lutf status`: the facts of every node, asked concurrently.

use std::fmt::Write as _;

use crate::cli::{Format, Global, StatusArgs};
use crate::protocol::{Facts, Op};

/// One node's answer.
#[derive(Debug, serde::Serialize)]
pub struct NodeStatus {
    /// The node's name.
    pub node: String,
    /// Whether the helper answered.
    pub reachable: bool,
    /// Milliseconds for the `facts` call.
    pub rtt_ms: u64,
    /// The facts, when reachable.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub facts: Option<Facts>,
    /// What went wrong, when not.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
}

/// Runs `lutf status`.
pub async fn run(global: &Global, args: &StatusArgs) -> anyhow::Result<i32> {
    let cluster = super::cluster(global)?;
    let nodes = cluster.nodes();
    let bundle = crate::bundle::Bundle::new(&[])?;
    let tasks: Vec<_> = nodes
        .into_iter()
        .map(|node| {
            let bundle = bundle.clone();
            tokio::spawn(async move {
                let start = std::time::Instant::now();
                let result = match node.deploy(&bundle).await {
                    Ok(_) => node.call::<Facts>(Op::Facts).await,
                    Err(e) => Err(e),
                };
                let rtt_ms = start.elapsed().as_millis() as u64;
                match result {
                    Ok(facts) => NodeStatus {
                        node: node.name,
                        reachable: true,
                        rtt_ms,
                        facts: Some(facts),
                        error: None,
                    },
                    Err(e) => NodeStatus {
                        node: node.name,
                        reachable: false,
                        rtt_ms,
                        facts: None,
                        error: Some(e.to_string()),
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
        Format::Table => statuses.iter().map(table).collect::<Vec<_>>().join("\n"),
        Format::Yaml => serde_yaml::to_string(&statuses)?,
        Format::Json => serde_json::to_string_pretty(&statuses)? + "\n",
    };
    print!("{out}");
    Ok(if statuses.iter().all(|s| s.reachable) {
        0
    } else {
        1
    })
}

/// One node as a block of `key: value` lines, interfaces indented below.
pub fn table(s: &NodeStatus) -> String {
    let mut o = String::new();
    let Some(f) = &s.facts else {
        let _ = writeln!(
            o,
            "{}: UNREACHABLE ({})",
            s.node,
            s.error.as_deref().unwrap_or("?")
        );
        return o;
    };
    let _ = writeln!(o, "{}: reachable ({} ms)", s.node, s.rtt_ms);
    let row = |o: &mut String, k: &str, v: &str| {
        let _ = writeln!(o, "  {k:<10} {v}");
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
    let lnet = if !f.lnet.module_loaded {
        "not loaded".to_string()
    } else if !f.lnet.configured {
        "loaded, not configured".to_string()
    } else {
        format!("configured: {}", f.lnet.nids.join(" "))
    };
    row(&mut o, "lnet", &lnet);
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
