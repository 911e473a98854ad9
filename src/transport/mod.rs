//! Transports: how a helper call reaches a node. Every transport carries the very same
//! YAML request to `lutf-helper`'s stdin and brings back its stdout, stderr and exit code.
//!
//! - [`local`]: this machine, the helper as a child process.
//! - [`ssh`]: a node over one multiplexed OpenSSH connection ([`kept`]: connections kept
//!   between lutf invocations).
//!
//! [`deploy`] holds what both agree on about installed bundles.

pub mod deploy;
pub mod kept;
pub mod local;
pub mod ssh;

use std::future::Future;
use std::pin::Pin;

use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt};

use crate::bundle::Bundle;

/// The most bytes of stderr kept from one call (diagnostics only).
pub const MAX_STDERR: usize = 1 << 20;

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
    /// The reply passed the call's limit (at most [`crate::protocol::MAX_REPLY_BYTES`]): no
    /// helper writes that much for it, so the helper is broken or not ours. Nothing past
    /// the limit was read.
    #[error(
        "the helper's reply is larger than {}, the most lutf reads for this call: stopped \
         reading it there (a broken or foreign lutf-helper on the node?)",
        size(*limit)
    )]
    ReplyTooLarge {
        /// The limit, in bytes.
        limit: usize,
    },
}

/// One way of reaching one node.
pub trait Transport: Send + Sync + std::fmt::Debug {
    /// Makes sure the node has `bundle` (pushing it when it does not) and makes later calls
    /// use that bundle's helper.
    fn deploy<'a>(&'a self, bundle: &'a Bundle) -> BoxFuture<'a, Result<Deployed, TransportError>>;

    /// Runs the deployed helper once with `request` on its stdin, reading at most
    /// `max_reply` bytes of reply (more fails the call with
    /// [`TransportError::ReplyTooLarge`]; see [`crate::protocol::Op::max_reply_bytes`]).
    fn call<'a>(
        &'a self,
        request: &'a [u8],
        max_reply: usize,
    ) -> BoxFuture<'a, Result<RawReply, TransportError>>;

    /// [`Self::deploy`], then [`Self::call`] with `request`. A transport may do both in one
    /// exchange: over SSH, one channel when the node has the bundle already.
    fn deploy_and_call<'a>(
        &'a self,
        bundle: &'a Bundle,
        request: &'a [u8],
        max_reply: usize,
    ) -> BoxFuture<'a, Result<(Deployed, RawReply), TransportError>> {
        Box::pin(async move {
            let deployed = self.deploy(bundle).await?;
            Ok((deployed, self.call(request, max_reply).await?))
        })
    }

    /// How the node is connected, for `lutf status` (`None`: nothing to say).
    fn connection(&self) -> Option<String> {
        None
    }

    /// The work directory on the node. (Over SSH without `--workdir`, the node names its
    /// own default, `/tmp/lutf-<its user>`, when the bundle is deployed; empty before.)
    fn workdir(&self) -> &str;
}

/// `n` bytes for people: in MiB when it is a whole number of them.
fn size(n: usize) -> String {
    if n >= 1 << 20 && n % (1 << 20) == 0 {
        format!("{} MiB", n >> 20)
    } else {
        format!("{n} bytes")
    }
}

/// Why reading a reply stopped.
#[derive(Debug)]
pub(crate) enum ReadError {
    /// Reading failed.
    Io(std::io::Error),
    /// More than the limit came.
    TooLarge,
}

/// Reads a whole reply, failing as soon as it passes `limit` bytes, without reading
/// further: the caller then drops the pipe, and the writer gets `EPIPE` rather than
/// filling the master's memory or keeping it reading for ever.
pub(crate) async fn read_reply<R: AsyncRead + Unpin>(
    r: Option<R>,
    limit: usize,
) -> Result<Vec<u8>, ReadError> {
    let mut out = Vec::new();
    if let Some(r) = r {
        // One byte past the limit tells "more came" from "exactly the limit".
        r.take(limit as u64 + 1)
            .read_to_end(&mut out)
            .await
            .map_err(ReadError::Io)?;
    }
    if out.len() > limit {
        return Err(ReadError::TooLarge);
    }
    Ok(out)
}

/// Reads diagnostics (stderr) to their end, keeping the first [`MAX_STDERR`] bytes; the
/// rest is read and dropped, so the other side never blocks on a full pipe. A failure to
/// read them loses nothing that matters: what came before it is kept.
pub(crate) async fn read_stderr<R: AsyncRead + Unpin>(r: Option<R>) -> Vec<u8> {
    let mut out = Vec::new();
    if let Some(mut r) = r {
        if (&mut r)
            .take(MAX_STDERR as u64)
            .read_to_end(&mut out)
            .await
            .is_ok()
        {
            let _ = tokio::io::copy(&mut r, &mut tokio::io::sink()).await;
        }
    }
    out
}

/// One call's I/O: feeds `input` to `stdin` (then closes it) while reading `stdout` as a
/// reply of at most `max_reply` bytes ([`read_reply`]) and `stderr` ([`read_stderr`]).
/// The first error ends all three: a reply over its limit is not read any further.
pub(crate) async fn exchange<W, O, E>(
    stdin: Option<W>,
    input: &[u8],
    stdout: Option<O>,
    stderr: Option<E>,
    max_reply: usize,
) -> Result<(Vec<u8>, Vec<u8>), ReadError>
where
    W: AsyncWrite + Unpin,
    O: AsyncRead + Unpin,
    E: AsyncRead + Unpin,
{
    let write = async move {
        if let Some(mut s) = stdin {
            // A command that exits without reading its input is not our error.
            let _ = s.write_all(input).await;
            let _ = s.shutdown().await;
        }
        Ok(())
    };
    let read_err = async { Ok(read_stderr(stderr).await) };
    let ((), out, err) = tokio::try_join!(write, read_reply(stdout, max_reply), read_err)?;
    Ok((out, err))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn a_reply_over_the_limit_stops_the_reading_there() {
        // An endless writer: the read must end, having read just past the limit.
        let (mut w, r) = tokio::io::duplex(1 << 16);
        let writer = tokio::spawn(async move {
            use tokio::io::AsyncWriteExt;
            let block = vec![b'x'; 1 << 16];
            let mut sent = 0usize;
            while w.write_all(&block).await.is_ok() {
                sent += block.len();
            }
            sent
        });
        let got = read_reply(Some(r), 1 << 20).await;
        assert!(matches!(got, Err(ReadError::TooLarge)), "{got:?}");
        // The reader is gone: the writer stopped, having sent at most a pipe's worth more.
        let sent = writer.await.unwrap();
        assert!(sent <= (1 << 20) + (3 << 16), "{sent}");
        // At the limit exactly: the whole reply.
        let (mut w, r) = tokio::io::duplex(1 << 16);
        tokio::spawn(async move {
            use tokio::io::AsyncWriteExt;
            w.write_all(&vec![b'y'; 1 << 20]).await.unwrap();
        });
        assert_eq!(read_reply(Some(r), 1 << 20).await.unwrap().len(), 1 << 20);
    }
}
