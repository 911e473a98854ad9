//! The cluster: which nodes a run uses and how to reach them. `local` (this machine,
//! no SSH) is the default; `--nodes` and `--cluster FILE` name SSH nodes (issue "SSH").

use std::path::PathBuf;
use std::sync::Arc;

use crate::node::Node;
use crate::transport::local::Local;

/// The name of this machine as a node.
pub const LOCAL: &str = "local";

/// One node as described (before connecting).
#[derive(Debug, Clone, PartialEq)]
pub struct NodeSpec {
    /// Unique name, used in output and result file names.
    pub name: String,
    /// Host to ssh to; `None` for this machine without SSH.
    pub host: Option<String>,
    /// SSH user.
    pub user: Option<String>,
    /// SSH port.
    pub port: Option<u16>,
    /// Roles this node plays, for binding test roles.
    pub roles: Vec<String>,
    /// Work directory on the node (default `/tmp/lutf-<user>`).
    pub workdir: Option<PathBuf>,
}

impl NodeSpec {
    /// This machine, without SSH.
    pub fn local() -> NodeSpec {
        NodeSpec {
            name: LOCAL.into(),
            host: None,
            user: None,
            port: None,
            roles: vec![],
            workdir: None,
        }
    }
}

/// The nodes of a run.
#[derive(Debug, Clone, PartialEq)]
pub struct Cluster {
    /// In the order given.
    pub nodes: Vec<NodeSpec>,
}

impl Default for Cluster {
    fn default() -> Self {
        Cluster {
            nodes: vec![NodeSpec::local()],
        }
    }
}

impl Cluster {
    /// Connects nothing yet: makes a [`Node`] with the right transport for each spec.
    pub fn nodes(&self) -> Vec<Node> {
        self.nodes
            .iter()
            .map(|spec| {
                let transport = Arc::new(Local::new(spec.workdir.clone()));
                Node::new(spec.name.clone(), spec.roles.clone(), transport)
            })
            .collect()
    }
}
