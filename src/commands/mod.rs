//! One module per subcommand. Each takes its parsed arguments and returns the process exit
//! code; errors that stop a command before it can say anything useful are `anyhow` errors.

pub mod auster;
pub mod auster_hook;
pub mod disconnect;
pub mod exec;
pub mod list;

pub mod lnet;
pub mod results;
pub mod run;
pub mod status;

use anyhow::Context as _;

use crate::bundle::Bundle;
use crate::cli::Global;
use crate::cluster::Cluster;
use crate::node::Node;

/// Exit code for usage and configuration errors.
pub const EXIT_USAGE: i32 = 2;

/// The cluster named by the global options (this machine when none is named): `--cluster`
/// FILE, narrowed by `--nodes` when both are given, or `--nodes` alone.
pub fn cluster(global: &Global) -> anyhow::Result<Cluster> {
    let mut cluster = match (&global.cluster, &global.nodes) {
        (Some(file), nodes) => {
            let mut c = Cluster::from_file(file)?;
            if let Some(list) = nodes {
                c.select(list, &file.display().to_string())?;
            }
            c
        }
        (None, Some(list)) => Cluster::from_hostlist(list)?,
        (None, None) => Cluster::default(),
    };
    let from_file = cluster.ssh.config_file.take();
    cluster.ssh = global.ssh_options();
    if cluster.ssh.config_file.is_none() {
        cluster.ssh.config_file = from_file;
    }
    if let Some(dir) = &global.workdir {
        for n in &mut cluster.nodes {
            n.workdir = Some(dir.clone());
        }
    }
    Ok(cluster)
}

/// The cluster narrowed to the node named `--node NAME`, when one is named.
pub fn only_node(mut cluster: Cluster, name: Option<&str>) -> anyhow::Result<Cluster> {
    let Some(name) = name else {
        return Ok(cluster);
    };
    let names: Vec<String> = cluster.nodes.iter().map(|n| n.name.clone()).collect();
    cluster.nodes.retain(|n| n.name == name);
    anyhow::ensure!(
        !cluster.nodes.is_empty(),
        "no node {name:?} in the cluster; its nodes are: {}",
        names.join(", ")
    );
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
