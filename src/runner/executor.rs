//! How the sequencer reaches a node: [`StepExecutor`] runs, starts and stops steps.
//! [`NodeExecutor`] is the real one (helper calls `spawn_step`, `wait`, `kill`, `forget`
//! through each node's transport); the sequencer's own unit tests drive the same trait
//! with scripted outcomes, so that ordering and failure handling are tested without timing
//! races, while the integration tests run the real helper.
//!
//! Every step, foreground ones included, runs as a job on its node (`spawn_step`, then
//! `wait` until it ends): a job has an id, so an interrupted step can be stopped on its
//! node (`kill`), and a dropped connection or a killed helper call never leaves a step
//! running without the helper's supervisor enforcing its timeout. A foreground step's
//! `spawn_step` waits for it too and, when it ends in that time, answers its result: one
//! call (one channel, one start of the node's login shell) until the result, the job's
//! `forget` after it in the background. The master names the job, so it can stop it even
//! before that answer.

use std::collections::BTreeMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use tokio::sync::watch;

use crate::leftovers::LostCleanup;
use crate::node::{CallError, Node};
use crate::protocol::{
    Failure, FailureKind, JobArgs, KillArgs, KillResult, Op, Origin, SpawnResult, StepArgs,
    StepResult, WaitArgs, WaitResult,
};
use crate::transport::{BoxFuture, TransportError};

/// Why a step call did not give a step result.
#[derive(Debug, Clone, PartialEq)]
pub enum ExecError {
    /// The node could not be reached or stopped answering: the step fails with
    /// "node NAME lost: <error>" and the node is not used again in this run.
    Lost(String),
    /// The helper answered, but with an error instead of a step result.
    Failed(Failure),
    /// The run was interrupted and the step stopped; its result so far, when the node
    /// gave one.
    Interrupted(Option<StepResult>),
}

/// Becomes `true` when the run is interrupted; `None` for calls that must not stop.
pub type Interrupt = Option<watch::Receiver<bool>>;

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
    /// Runs one step to completion; when `interrupt` turns `true` first, stops it and
    /// answers [`ExecError::Interrupted`].
    fn step<'a>(
        &'a self,
        node: &'a str,
        args: StepArgs,
        interrupt: Interrupt,
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

/// Seconds between SIGTERM and SIGKILL when stopping a step.
pub const STOP_GRACE: f64 = 2.0;

/// Longest single `wait` call, in seconds: a long wait holds one of the node's call slots,
/// so it is renewed rather than held for a whole long step.
pub const WAIT_POLL: f64 = 30.0;

/// Seconds a `kill` may take on a second interrupt, when lutf quits at once.
pub const LAST_KILL_BOUND: f64 = 5.0;

/// The real executor: helper calls on the run's nodes.
#[derive(Debug, Clone)]
pub struct NodeExecutor {
    nodes: BTreeMap<String, Node>,
    /// Jobs started and not forgotten yet, as (node, job) → `suite/test_id step`: what
    /// [`NodeExecutor::kill_all`] stops when lutf must quit at once, and what
    /// [`NodeExecutor::clean_lost`] stops on nodes lost during the run.
    jobs: Arc<Mutex<BTreeMap<(String, String), String>>>,
    /// This master, recorded with every step job it starts (see [`crate::leftovers`]).
    origin: Option<Origin>,
    /// `forget` calls still under way (see [`NodeExecutor::settle`]).
    forgetting: Arc<Mutex<tokio::task::JoinSet<()>>>,
    /// Set by [`NodeExecutor::kill_all`]: lutf quits, no step may start any more (a
    /// cleanup starting after the last kill would be left running).
    quitting: Arc<std::sync::atomic::AtomicBool>,
}

impl NodeExecutor {
    /// An executor over `nodes` (already deployed).
    pub fn new(nodes: &[Node]) -> NodeExecutor {
        NodeExecutor {
            nodes: nodes.iter().map(|n| (n.name.clone(), n.clone())).collect(),
            jobs: Arc::default(),
            origin: None,
            forgetting: Arc::default(),
            quitting: Arc::default(),
        }
    }

    /// Records `origin` with every step job started from now on.
    pub fn with_origin(mut self, origin: Origin) -> NodeExecutor {
        self.origin = Some(origin);
        self
    }

    /// Notes a started job with its `suite/test_id step` label.
    fn started(&self, node: &str, job: &str, label: String) {
        self.jobs()
            .insert((node.to_string(), job.to_string()), label);
    }

    /// Kills the jobs this run started on each of the `lost` nodes and has not seen end,
    /// once the run is over: the master reconnects to each (all at once) and kills them,
    /// at most `bound` in all (see [`crate::leftovers::lost_cleanup_bound`]). Answers, per
    /// node, what was killed and what may still run.
    pub async fn clean_lost(
        &self,
        lost: &[String],
        bound: Duration,
    ) -> BTreeMap<String, LostCleanup> {
        let mut set = tokio::task::JoinSet::new();
        let mut out = BTreeMap::new();
        for name in lost {
            let jobs: Vec<(String, String)> = self
                .jobs()
                .iter()
                .filter(|((node, _), _)| node == name)
                .map(|((_, job), label)| (job.clone(), label.clone()))
                .collect();
            let Some(n) = self.nodes.get(name).cloned() else {
                continue;
            };
            if jobs.is_empty() {
                out.insert(name.clone(), LostCleanup::default());
                continue;
            }
            let this = self.clone();
            set.spawn(async move {
                let c = this.clean_node(&n, jobs, bound).await;
                (n.name.clone(), c)
            });
        }
        while let Some(done) = set.join_next().await {
            if let Ok((name, c)) = done {
                out.insert(name, c);
            }
        }
        out
    }

    /// [`NodeExecutor::clean_lost`] on one node: kills `jobs` (id, label) one after the
    /// other until `bound` is up or the node proves unreachable.
    async fn clean_node(
        &self,
        n: &Node,
        jobs: Vec<(String, String)>,
        bound: Duration,
    ) -> LostCleanup {
        let mut c = LostCleanup::default();
        let deadline = tokio::time::Instant::now() + bound;
        for (job, label) in jobs {
            let what = format!("{label} (job {job})");
            if c.unreachable.is_some() {
                c.left.push(what);
                continue;
            }
            let kill = n.call::<KillResult>(Op::Kill(KillArgs {
                job: job.clone(),
                grace: Some(STOP_GRACE),
            }));
            let e = match tokio::time::timeout_at(deadline, kill).await {
                Ok(Ok(k)) => {
                    // Only disk space if it does not get through in time.
                    let _ = tokio::time::timeout_at(deadline, self.forget(n, &job)).await;
                    if k.was_running {
                        c.killed.push(what);
                    } else {
                        c.ended.push(what);
                    }
                    continue;
                }
                Ok(Err(e)) => e,
                Err(_) => {
                    c.unreachable = Some(format!("no answer within {:.0} s", bound.as_secs_f64()));
                    c.left.push(what);
                    continue;
                }
            };
            match e.helper_error() {
                // The helper answered: the job is gone (forgotten, or the node's work
                // folder was cleaned), or it could not be killed; a retry would not
                // change either.
                Some(h) => {
                    self.jobs().remove(&(n.name.clone(), job.clone()));
                    if h.kind == crate::protocol::ErrorKind::NoSuchJob {
                        c.ended.push(format!("{what}: no such job any more"));
                    } else {
                        // Said to the user in the node's warning (`c.left`).
                        tracing::info!(node = %n.name, job, "cannot kill a job of the lost node: {e}");
                        c.left.push(format!("{what}: {}", h.message));
                    }
                }
                None => {
                    c.unreachable = Some(match classify(e) {
                        ExecError::Lost(why) => why,
                        ExecError::Failed(f) => f.message,
                        ExecError::Interrupted(_) => "interrupted".into(),
                    });
                    c.left.push(what);
                }
            }
        }
        c
    }

    /// Forgets an ended job in the background, so that the step's result is not held up
    /// by one more call to its node.
    fn forget_later(&self, n: &Node, job: &str) {
        let (this, n, job) = (self.clone(), n.clone(), job.to_string());
        let mut set = self.forgetting.lock().unwrap_or_else(|e| e.into_inner());
        // Reap the ones done, so the set stays small over a long run.
        while set.try_join_next().is_some() {}
        set.spawn(async move { this.forget(&n, &job).await });
    }

    /// Waits for the background `forget` calls (at most [`STOP_BOUND`] seconds): call once
    /// the run is over, before lutf exits, so that no job folder is left on the nodes.
    pub async fn settle(&self) {
        let mut set =
            std::mem::take(&mut *self.forgetting.lock().unwrap_or_else(|e| e.into_inner()));
        let all = async { while set.join_next().await.is_some() {} };
        if tokio::time::timeout(Duration::from_secs_f64(STOP_BOUND), all)
            .await
            .is_err()
        {
            tracing::debug!("some job folders were not removed on the nodes in time");
        }
    }

    fn jobs(&self) -> std::sync::MutexGuard<'_, BTreeMap<(String, String), String>> {
        self.jobs.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Kills every job this executor started and has not forgotten, on every node at
    /// once, at most [`LAST_KILL_BOUND`] seconds in all: a best effort before lutf quits
    /// without cleanup (a second Ctrl-C). Answers how many jobs the nodes said they
    /// stopped or found ended.
    pub async fn kill_all(&self) -> usize {
        self.quitting
            .store(true, std::sync::atomic::Ordering::SeqCst);
        let jobs: Vec<(String, String)> = self.jobs().keys().cloned().collect();
        let mut set = tokio::task::JoinSet::new();
        for (node, job) in jobs {
            let Some(n) = self.nodes.get(&node).cloned() else {
                continue;
            };
            set.spawn(async move {
                let killed = n.call::<KillResult>(Op::Kill(KillArgs {
                    job: job.clone(),
                    grace: Some(0.0),
                }));
                match killed.await {
                    Ok(_) => true,
                    Err(e) => {
                        tracing::debug!(node = %n.name, job, "last kill failed: {e}");
                        false
                    }
                }
            });
        }
        let mut stopped = 0;
        let all = async {
            while let Some(r) = set.join_next().await {
                if matches!(r, Ok(true)) {
                    stopped += 1;
                }
            }
        };
        let _ = tokio::time::timeout(Duration::from_secs_f64(LAST_KILL_BOUND), all).await;
        stopped
    }

    fn node(&self, name: &str) -> Result<&Node, ExecError> {
        self.nodes
            .get(name)
            .ok_or_else(|| ExecError::Lost(format!("no node named {name} in this run")))
    }

    /// `spawn_step` with `args` (whose `job` is set): notes the job first, so that it can be
    /// stopped (`kill_all`, `clean_lost`) even if the answer never comes. Once `kill_all`
    /// has begun (a second Ctrl-C), no step starts.
    async fn start_step(
        &self,
        n: &Node,
        node: &str,
        mut args: StepArgs,
    ) -> Result<SpawnResult, ExecError> {
        args.origin.clone_from(&self.origin);
        let job = args.job.clone().unwrap_or_default();
        self.started(node, &job, format!("{} {}", args.context.test, args.step));
        // Checked after the job is noted: a `kill_all` that began earlier sees it.
        if self.quitting.load(std::sync::atomic::Ordering::SeqCst) {
            self.jobs().remove(&(node.to_string(), job));
            return Err(ExecError::Failed(Failure {
                kind: FailureKind::Interrupted,
                message: "not started: lutf was interrupted again and quits".into(),
                traceback: None,
            }));
        }
        let answer = args.wait.unwrap_or(0.0) + ANSWER_GRACE;
        let spawned = bounded(
            answer,
            "spawn_step",
            n.call::<SpawnResult>(Op::SpawnStep(args)),
        )
        .await;
        if let Err(ExecError::Failed(_)) = &spawned {
            // The helper refused it: nothing started.
            self.jobs().remove(&(node.to_string(), job));
        }
        spawned
    }

    /// Stops a step whose `spawn_step` call (`call`) is still under way: kills its job as
    /// soon as the node has it (the call may not have made it yet), or takes the step's
    /// end from the call's answer. Its result, when the node gives one.
    async fn stop_starting(
        &self,
        n: &Node,
        job: &str,
        mut call: std::pin::Pin<
            &mut impl std::future::Future<Output = Result<SpawnResult, ExecError>>,
        >,
    ) -> Option<StepResult> {
        let deadline = tokio::time::Instant::now() + Duration::from_secs_f64(STOP_BOUND);
        let mut call_done = false;
        loop {
            let kill = n.call::<KillResult>(Op::Kill(KillArgs {
                job: job.to_string(),
                grace: Some(STOP_GRACE),
            }));
            match tokio::time::timeout_at(deadline, kill).await {
                Ok(Ok(k)) => {
                    self.forget(n, job).await;
                    return k.result.step;
                }
                Ok(Err(e))
                    if e.helper_error().map(|h| h.kind)
                        == Some(crate::protocol::ErrorKind::NoSuchJob)
                        && !call_done => {}
                _ => return None,
            }
            // Not there yet: give the call a moment to make it (or to end).
            match tokio::time::timeout(Duration::from_millis(50), call.as_mut()).await {
                Ok(Ok(s)) => {
                    call_done = true;
                    if let Some(ended) = s.ended {
                        self.forget(n, job).await;
                        return ended.step;
                    }
                }
                // Refused or lost: nothing to stop, or no way to.
                Ok(Err(_)) => return None,
                Err(_) => {}
            }
            if tokio::time::Instant::now() >= deadline {
                return None;
            }
        }
    }

    /// Stops `job` and forgets it.
    async fn kill_and_forget(&self, n: &Node, job: &str) -> Result<KillResult, ExecError> {
        let killed = bounded(
            STOP_BOUND,
            "kill",
            n.call::<KillResult>(Op::Kill(KillArgs {
                job: job.to_string(),
                grace: Some(STOP_GRACE),
            })),
        )
        .await;
        if killed.is_ok() {
            self.forget(n, job).await;
        }
        killed
    }

    /// Removes an ended job's files on the node; a failure only costs disk space.
    async fn forget(&self, n: &Node, job: &str) {
        self.jobs().remove(&(n.name.clone(), job.to_string()));
        if let Err(e) = n
            .call::<serde_yaml::Value>(Op::Forget(JobArgs {
                job: job.to_string(),
            }))
            .await
        {
            tracing::debug!(node = %n.name, job, "forget failed: {e}");
        }
    }
}

/// Sorts a failed helper call: no answer from the node is a lost node, an answer with an
/// error is a failed step.
pub fn classify(e: CallError) -> ExecError {
    match e {
        // "node X lost: unreachable: ..." would say it twice.
        CallError::Transport {
            source: TransportError::Unreachable(why),
            ..
        } => ExecError::Lost(why),
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
        mut interrupt: Interrupt,
    ) -> BoxFuture<'a, Result<StepResult, ExecError>> {
        Box::pin(async move {
            let n = self.node(node)?;
            // The helper enforces the step's timeout; the master only makes sure that a
            // step whose node stops ending it cannot hold the run forever.
            let limit = args.timeout.unwrap_or(0.0) + ANSWER_GRACE;
            let start = std::time::Instant::now();
            let mut args = args;
            args.wait = Some(limit.min(WAIT_POLL));
            let job = new_job_id();
            args.job = Some(job.clone());
            let call = self.start_step(n, node, args);
            tokio::pin!(call);
            let spawned = match &mut interrupt {
                None => call.await,
                Some(rx) => tokio::select! {
                    s = &mut call => s,
                    () = wait_true(rx) => {
                        let stopped = self.stop_starting(n, &job, call).await;
                        return Err(ExecError::Interrupted(stopped));
                    }
                },
            }?;
            if let Some(ended) = spawned.ended {
                self.forget_later(n, &job);
                return step_result(*ended);
            }
            loop {
                let left = limit - start.elapsed().as_secs_f64();
                if left <= 0.0 {
                    let killed = self.kill_and_forget(n, &job).await?;
                    return Err(ExecError::Failed(Failure {
                        kind: FailureKind::Timeout,
                        message: format!(
                            "the step did not end within {limit:.0} s, although its node answers; it was killed"
                        ),
                        traceback: killed.result.step.map(|r| r.log.data.to_string_lossy()),
                    }));
                }
                let poll = left.min(WAIT_POLL);
                let wait = bounded(
                    poll + ANSWER_GRACE,
                    "wait",
                    n.call::<WaitResult>(Op::Wait(WaitArgs {
                        job: job.clone(),
                        timeout: poll,
                    })),
                );
                let waited = match &mut interrupt {
                    None => wait.await,
                    Some(rx) => tokio::select! {
                        w = wait => w,
                        () = wait_true(rx) => {
                            let killed = self.kill_and_forget(n, &job).await.ok();
                            return Err(ExecError::Interrupted(
                                killed.and_then(|k| k.result.step),
                            ));
                        }
                    },
                }?;
                if waited.finished {
                    // The files are not needed for the result: remove them meanwhile.
                    self.forget_later(n, &job);
                    return step_result(waited);
                }
            }
        })
    }

    fn spawn_step<'a>(
        &'a self,
        node: &'a str,
        args: StepArgs,
    ) -> BoxFuture<'a, Result<String, ExecError>> {
        Box::pin(async move {
            let n = self.node(node)?;
            let mut args = args;
            args.job = Some(new_job_id());
            Ok(self.start_step(n, node, args).await?.job)
        })
    }

    fn stop_step<'a>(
        &'a self,
        node: &'a str,
        job: &'a str,
    ) -> BoxFuture<'a, Result<Stopped, ExecError>> {
        Box::pin(async move {
            let n = self.node(node)?;
            let killed = self.kill_and_forget(n, job).await?;
            Ok(Stopped {
                was_running: killed.was_running,
                result: killed.result.step,
            })
        })
    }
}

/// A step's result from its job's end.
fn step_result(waited: WaitResult) -> Result<StepResult, ExecError> {
    waited.step.ok_or_else(|| {
        ExecError::Failed(Failure {
            kind: FailureKind::Crash,
            message: "the helper gave no step result for the step's job".into(),
            traceback: None,
        })
    })
}

/// A job id no other step of any master has: this master's pid, the time, a counter.
fn new_job_id() -> String {
    static SERIAL: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(0);
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_nanos())
        .unwrap_or_default();
    let n = SERIAL.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
    format!("m{:x}-{}-{n}", nanos, std::process::id())
}

/// Resolves once the flag is `true`; never when its sender is gone without setting it.
pub async fn wait_true(rx: &mut watch::Receiver<bool>) {
    if rx.wait_for(|v| *v).await.is_err() {
        std::future::pending::<()>().await;
    }
}
