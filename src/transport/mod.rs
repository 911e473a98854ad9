//! Transports: how a helper call reaches a node. Every transport carries the very same
//! YAML request to `lutf-helper`'s stdin and brings back its stdout, stderr and exit code.
//!
//! - [`local`]: this machine, the helper as a child process.
//! - [`ssh`]: a node over one multiplexed OpenSSH connection.
//!
//! [`deploy`] holds what both agree on about installed bundles.

pub mod deploy;
pub mod local;
pub mod ssh;

use std::future::Future;
use std::pin::Pin;

use crate::bundle::Bundle;

/// A boxed future, so transports can sit behind `dyn Transport`.
pub type BoxFuture<'a, T> = Pin<Box<dyn Future<Output = T> + Send + 'a>>;

/// What came back from one helper call, undecoded.
#[derive(Debug, Clone)]
pub struct RawReply {
    /// The helper's stdout: one YAML reply.
    pub stdout: Vec<u8>,
    /// The helper's stderr (normally empty; diagnostics only).
    pub stderr: Vec<u8>,
    /// The helper's exit code (`None` when killed by a signal).
    pub exit_code: Option<i32>,
}

/// What deploying a bundle to a node did.
#[derive(Debug, Clone)]
pub struct Deployed {
    /// Where the bundle lives on the node.
    pub dir: String,
    /// Bytes sent to the node (0 when it already had the bundle).
    pub bytes_sent: u64,
    /// Old bundles removed.
    pub pruned: usize,
}

/// Why a call did not reach the helper or did not come back.
#[derive(Debug, thiserror::Error)]
pub enum TransportError {
    /// The node cannot be reached (connect failure, lost connection).
    #[error("unreachable: {0}")]
    Unreachable(String),
    /// The work directory is unsafe or cannot be created.
    #[error("work directory {dir}: {reason}")]
    Workdir {
        /// The directory.
        dir: String,
        /// What is wrong with it.
        reason: String,
    },
    /// The bundle could not be installed.
    #[error("deploying the bundle failed: {0}")]
    Deploy(String),
    /// The helper could not be started or talked to.
    #[error("running the helper failed: {0}")]
    Io(#[from] std::io::Error),
    /// `call` before `deploy`.
    #[error("no bundle deployed on this node yet")]
    NotDeployed,
}

/// One way of reaching one node.
pub trait Transport: Send + Sync + std::fmt::Debug {
    /// Makes sure the node has `bundle` (pushing it when it does not) and makes later calls
    /// use that bundle's helper.
    fn deploy<'a>(&'a self, bundle: &'a Bundle) -> BoxFuture<'a, Result<Deployed, TransportError>>;

    /// Runs the deployed helper once with `request` on its stdin.
    fn call<'a>(&'a self, request: &'a [u8]) -> BoxFuture<'a, Result<RawReply, TransportError>>;

    /// The work directory on the node. (Over SSH without `--workdir`, the node names its
    /// own default, `/tmp/lutf-<its user>`, when the bundle is deployed; empty before.)
    fn workdir(&self) -> &str;
}
