//! One module per subcommand. Each takes its parsed arguments and returns the process exit
//! code; errors that stop a command before it can say anything useful are `anyhow` errors.

pub mod exec;
pub mod lnet;
pub mod results;
pub mod status;

use anyhow::Context as _;

use crate::bundle::Bundle;
use crate::cli::Global;
use crate::cluster::Cluster;
use crate::node::Node;

/// Exit code for usage and configuration errors.
pub const EXIT_USAGE: i32 = 2;

/// The cluster named by the global options (this machine when none is named).
pub fn cluster(global: &Global) -> anyhow::Result<Cluster> {
    let mut cluster = Cluster::default();
    if global.cluster.is_some() || global.nodes.is_some() {
        anyhow::bail!("--cluster and --nodes need the SSH transport, which is not built yet");
    }
    if let Some(dir) = &global.workdir {
        for n in &mut cluster.nodes {
            n.workdir = Some(dir.clone());
        }
    }
    Ok(cluster)
}

/// Deploys `bundle` on every node, concurrently. Returns the nodes in order.
pub async fn deploy_all(nodes: &[Node], bundle: &Bundle) -> anyhow::Result<()> {
    let tasks: Vec<_> = nodes
        .iter()
        .map(|n| {
            let n = n.clone();
            let b = bundle.clone();
            tokio::spawn(async move { (n.deploy(&b).await, n.name.clone()) })
        })
        .collect();
    for t in tasks {
        let (res, name) = t.await.context("deploy task panicked")?;
        let d = res?;
        tracing::info!(node = %name, dir = %d.dir, bytes = d.bytes_sent, pruned = d.pruned, "bundle deployed");
    }
    Ok(())
}
