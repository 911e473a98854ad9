//! `lutf disconnect`: closes the SSH connections kept between commands (`--persist`, see
//! [`crate::transport::kept`]).

use crate::cli::Global;
use crate::transport::kept;
use crate::transport::ssh::SshTarget;

/// Runs `lutf disconnect`: the kept connections of the named nodes (with the SSH options
/// given, which are part of what names a connection), else every one of this user.
pub async fn run(global: &Global) -> anyhow::Result<i32> {
    let closed = if global.nodes.is_some() || global.cluster.is_some() {
        let cluster = super::cluster(global)?;
        let mut closed = 0;
        for spec in &cluster.nodes {
            let Some(host) = &spec.host else { continue };
            let target = SshTarget {
                host: host.clone(),
                user: spec.user.clone(),
                port: spec.port,
            };
            let paths = kept::paths(&target, &cluster.ssh)?;
            closed += usize::from(kept::close(&paths).await);
        }
        closed
    } else {
        kept::close_all().await
    };
    crate::reporter::print(&format!(
        "closed {closed} kept ssh connection{}\n",
        if closed == 1 { "" } else { "s" }
    ));
    Ok(0)
}
