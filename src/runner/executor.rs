//! How the sequencer reaches a node: [`StepExecutor`] runs, starts and stops steps.
//! [`NodeExecutor`] is the real one (helper calls `step`, `spawn_step`, `kill`, `forget`
//! through each node's transport); the sequencer's own unit tests drive the same trait
//! with scripted outcomes, so that ordering and failure handling are tested without timing
//! races, while the integration tests run the real helper.

use std::collections::BTreeMap;
use std::time::Duration;

use crate::node::{CallError, Node};
use crate::protocol::{
    Failure, FailureKind, JobArgs, KillArgs, KillResult, Op, SpawnResult, StepArgs, StepResult,
};
use crate::transport::BoxFuture;

/// Why a step call did not give a step result.
#[derive(Debug, Clone, PartialEq)]
pub enum ExecError {
    /// The node could not be reached or stopped answering: the step fails with
    /// "node NAME lost: <error>" and the node is not used again in this run.
    Lost(String),
    /// The helper answered, but with an error instead of a step result.
    Failed(Failure),
}

/// A background step after `kill`.
#[derive(Debug, Clone, PartialEq)]
pub struct Stopped {
    /// It was still running when asked to stop (else it had ended on its own).
    pub was_running: bool,
    /// Its result, as the helper reports it.
    pub result: Option<StepResult>,
}

/// Runs steps on nodes, by node name.
pub trait StepExecutor: Send + Sync + 'static {
    /// Runs one step to completion.
    fn step<'a>(
        &'a self,
        node: &'a str,
        args: StepArgs,
    ) -> BoxFuture<'a, Result<StepResult, ExecError>>;

    /// Starts one step in the background; answers the job id.
    fn spawn_step<'a>(
        &'a self,
        node: &'a str,
        args: StepArgs,
    ) -> BoxFuture<'a, Result<String, ExecError>>;

    /// Stops a background step (its whole process group) and forgets the job.
    fn stop_step<'a>(
        &'a self,
        node: &'a str,
        job: &'a str,
    ) -> BoxFuture<'a, Result<Stopped, ExecError>>;
}

/// Extra seconds the master waits for a helper beyond the step's own timeout (which the
/// helper enforces on the node) before it gives up on the node.
pub const ANSWER_GRACE: f64 = 30.0;

/// Seconds a `kill` may take before the node is given up.
pub const STOP_BOUND: f64 = 30.0;

/// Seconds between SIGTERM and SIGKILL when stopping a background step.
pub const STOP_GRACE: f64 = 2.0;

/// The real executor: helper calls on the run's nodes.
#[derive(Debug, Clone)]
pub struct NodeExecutor {
    nodes: BTreeMap<String, Node>,
}

impl NodeExecutor {
    /// An executor over `nodes` (already deployed).
    pub fn new(nodes: &[Node]) -> NodeExecutor {
        NodeExecutor {
            nodes: nodes.iter().map(|n| (n.name.clone(), n.clone())).collect(),
        }
    }

    fn node(&self, name: &str) -> Result<&Node, ExecError> {
        self.nodes
            .get(name)
            .ok_or_else(|| ExecError::Lost(format!("no node named {name} in this run")))
    }
}

/// Sorts a failed helper call: no answer from the node is a lost node, an answer with an
/// error is a failed step.
pub fn classify(e: CallError) -> ExecError {
    match e {
        CallError::Transport { source, .. } => ExecError::Lost(source.to_string()),
        // ssh exits 255 when the connection fails; the helper never does.
        CallError::Garbled {
            exit_code: None | Some(255),
            message,
            stderr,
            ..
        } => ExecError::Lost(format!("{message}{stderr}")),
        CallError::Garbled { .. } => ExecError::Failed(Failure {
            kind: FailureKind::Crash,
            message: e.to_string(),
            traceback: None,
        }),
        CallError::Helper { source, .. } => ExecError::Failed(Failure {
            kind: if source.kind == crate::protocol::ErrorKind::TestFile {
                FailureKind::TestFile
            } else {
                FailureKind::Crash
            },
            message: format!("helper: {}: {}", source.kind, source.message),
            traceback: source.detail,
        }),
    }
}

async fn bounded<T>(
    secs: f64,
    what: &str,
    fut: impl std::future::Future<Output = Result<T, CallError>>,
) -> Result<T, ExecError> {
    match tokio::time::timeout(Duration::from_secs_f64(secs), fut).await {
        Ok(r) => r.map_err(classify),
        Err(_) => Err(ExecError::Lost(format!(
            "no answer to {what} within {secs:.0} s"
        ))),
    }
}

impl StepExecutor for NodeExecutor {
    fn step<'a>(
        &'a self,
        node: &'a str,
        args: StepArgs,
    ) -> BoxFuture<'a, Result<StepResult, ExecError>> {
        Box::pin(async move {
            let n = self.node(node)?;
            let bound = args.timeout.unwrap_or(0.0) + ANSWER_GRACE;
            bounded(bound, "step", n.call::<StepResult>(Op::Step(args))).await
        })
    }

    fn spawn_step<'a>(
        &'a self,
        node: &'a str,
        args: StepArgs,
    ) -> BoxFuture<'a, Result<String, ExecError>> {
        Box::pin(async move {
            let n = self.node(node)?;
            bounded(
                ANSWER_GRACE,
                "spawn_step",
                n.call::<SpawnResult>(Op::SpawnStep(args)),
            )
            .await
            .map(|s| s.job)
        })
    }

    fn stop_step<'a>(
        &'a self,
        node: &'a str,
        job: &'a str,
    ) -> BoxFuture<'a, Result<Stopped, ExecError>> {
        Box::pin(async move {
            let n = self.node(node)?;
            let killed = bounded(
                STOP_BOUND,
                "kill",
                n.call::<KillResult>(Op::Kill(KillArgs {
                    job: job.to_string(),
                    grace: Some(STOP_GRACE),
                })),
            )
            .await?;
            // The job's files are of no use once its result is here.
            if let Err(e) = n
                .call::<serde_yaml::Value>(Op::Forget(JobArgs {
                    job: job.to_string(),
                }))
                .await
            {
                tracing::warn!(node, job, "forget failed: {e}");
            }
            Ok(Stopped {
                was_running: killed.was_running,
                result: killed.result.step,
            })
        })
    }
}
