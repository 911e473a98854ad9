//! [`Node`]: a named node and its transport, with typed helper calls.

use std::sync::Arc;

use serde::de::DeserializeOwned;

use crate::protocol::{decode_reply, ErrorReply, Op, Request};
use crate::transport::{Deployed, RawReply, Transport, TransportError};

/// One node of the cluster, ready to take helper calls.
#[derive(Debug, Clone)]
pub struct Node {
    /// The cluster's name for it.
    pub name: String,
    /// Roles the cluster description gives it (used first when binding test roles).
    pub roles: Vec<String>,
    /// How to reach it.
    pub transport: Arc<dyn Transport>,
    /// Block devices for Lustre targets (the cluster file's `targets:`).
    pub targets: Option<crate::protocol::Targets>,
}

/// Why a helper call failed, naming the node.
#[derive(Debug, thiserror::Error)]
pub enum CallError {
    /// The call did not reach the helper or did not come back.
    #[error("node {node}: {source}")]
    Transport {
        /// The node.
        node: String,
        /// Why.
        source: TransportError,
    },
    /// The helper answered with an error.
    #[error("node {node}: {op}: {source}")]
    Helper {
        /// The node.
        node: String,
        /// The operation.
        op: &'static str,
        /// The helper's error.
        source: ErrorReply,
    },
    /// The helper's answer was not a reply.
    #[error("node {node}: {op}: {message} (exit code {exit_code:?}){stderr}")]
    Garbled {
        /// The node.
        node: String,
        /// The operation.
        op: &'static str,
        /// What was wrong.
        message: String,
        /// The helper's exit code.
        exit_code: Option<i32>,
        /// Its stderr, if any, prefixed for display.
        stderr: String,
    },
}

impl CallError {
    /// The helper's structured error, when that is what this is.
    pub fn helper_error(&self) -> Option<&ErrorReply> {
        match self {
            CallError::Helper { source, .. } => Some(source),
            _ => None,
        }
    }

    /// Whether the node itself could not be reached.
    pub fn is_unreachable(&self) -> bool {
        matches!(
            self,
            CallError::Transport {
                source: TransportError::Unreachable(_),
                ..
            }
        )
    }
}

impl Node {
    /// A node called `name` reached through `transport`.
    pub fn new(name: impl Into<String>, roles: Vec<String>, transport: Arc<dyn Transport>) -> Node {
        Node {
            name: name.into(),
            roles,
            transport,
            targets: None,
        }
    }

    /// The node with block devices for Lustre targets.
    pub fn with_targets(mut self, targets: Option<crate::protocol::Targets>) -> Node {
        self.targets = targets;
        self
    }

    /// Pushes `bundle` to the node when it lacks it.
    pub async fn deploy(&self, bundle: &crate::bundle::Bundle) -> Result<Deployed, CallError> {
        self.transport
            .deploy(bundle)
            .await
            .map_err(|e| self.transport_error(e))
    }

    /// Runs `op` on the node and reads the reply as a `T`.
    pub async fn call<T: DeserializeOwned>(&self, op: Op) -> Result<T, CallError> {
        let name = op.name();
        let max_reply = op.max_reply_bytes();
        let request = Request::from(op).to_yaml();
        let raw = self
            .transport
            .call(request.as_bytes(), max_reply)
            .await
            .map_err(|e| self.transport_error(e))?;
        self.decode(name, raw)
    }

    /// [`Node::deploy`], then [`Node::call`]: one exchange with the node when it has the
    /// bundle already (see [`Transport::deploy_and_call`]).
    pub async fn deploy_and_call<T: DeserializeOwned>(
        &self,
        bundle: &crate::bundle::Bundle,
        op: Op,
    ) -> Result<(Deployed, T), CallError> {
        let name = op.name();
        let max_reply = op.max_reply_bytes();
        let request = Request::from(op).to_yaml();
        let (deployed, raw) = self
            .transport
            .deploy_and_call(bundle, request.as_bytes(), max_reply)
            .await
            .map_err(|e| self.transport_error(e))?;
        Ok((deployed, self.decode(name, raw)?))
    }

    fn transport_error(&self, source: TransportError) -> CallError {
        CallError::Transport {
            node: self.name.clone(),
            source,
        }
    }

    /// Reads the helper's answer to operation `name` as a `T`.
    fn decode<T: DeserializeOwned>(
        &self,
        name: &'static str,
        raw: RawReply,
    ) -> Result<T, CallError> {
        let garbled = |message: String| CallError::Garbled {
            node: self.name.clone(),
            op: name,
            message,
            exit_code: raw.exit_code,
            stderr: if raw.stderr.is_empty() {
                String::new()
            } else {
                format!(": {}", String::from_utf8_lossy(&raw.stderr).trim())
            },
        };
        let text =
            std::str::from_utf8(&raw.stdout).map_err(|_| garbled("reply is not UTF-8".into()))?;
        if text.trim().is_empty() {
            return Err(garbled("the helper wrote no reply".into()));
        }
        let reply = decode_reply::<T>(text).map_err(|e| garbled(e.to_string()))?;
        reply.into_result().map_err(|source| CallError::Helper {
            node: self.name.clone(),
            op: name,
            source,
        })
    }
}
