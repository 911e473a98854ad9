//! The step sequencer: runs one test's steps as a dependency graph.
//!
//! A step starts as soon as every step it comes after has finished (or, for a background
//! step, has started), so independent steps run at the same time, on one node or several.
//! A step whose dependency failed, skipped or did not run is not run, and says which step
//! caused it. Then every background step still running is stopped, and the cleanup steps
//! run, always, in their own order. The test ends FAIL with the first failure's reason,
//! else SKIP with the first skip's reason, else PASS.

use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::Instant;

use tokio::sync::watch;
use tokio::task::JoinSet;

use super::executor::{ExecError, StepExecutor, Stopped};
use super::{Event, Reporter, RunConfig};
use crate::discovery::TestFile;
use crate::outcome::{Status, StepFailure, StepRecord, TestOutcome};
use crate::plan::Binding;
use crate::protocol::{
    guard, to_yaml, Captured, Failure, FailureKind, NodeInfo, Op, Redactor, Request, StepArgs,
    StepContext, StepOutcome, StepPlan, StepResult, TestPlan, MAX_REQUEST_BYTES, MAX_REQUEST_ITEMS,
};

/// Why the helper would refuse the request for this step for its size, if it would: the
/// values handed on from earlier steps (`ctx.results`) are what can make a request grow past
/// [`MAX_REQUEST_BYTES`] or [`MAX_REQUEST_ITEMS`], so the failure names them.
fn too_large(args: &StepArgs) -> Option<Failure> {
    if args.context.results.is_empty() {
        // The rest of a step's request (facts, params) stays small.
        return None;
    }
    let text = to_yaml(&Request::from(Op::Step(args.clone())));
    let over = if text.len() > MAX_REQUEST_BYTES {
        format!("{} bytes", text.len())
    } else if text.len() <= MAX_REQUEST_ITEMS {
        // Every YAML item takes at least a byte: too few bytes for too many items.
        return None;
    } else {
        match guard::check(&text, MAX_REQUEST_ITEMS) {
            Err(guard::Refusal::TooManyItems(_)) => format!("more than {MAX_REQUEST_ITEMS} items"),
            _ => return None,
        }
    };
    let mut handed: Vec<(usize, &String)> = args
        .context
        .results
        .iter()
        .map(|(name, v)| (serde_json::to_string(v).map_or(0, |j| j.len()), name))
        .collect();
    handed.sort_by(|a, b| b.cmp(a));
    let handed: Vec<String> = handed
        .iter()
        .map(|(len, name)| format!("{name} ({len} bytes as JSON)"))
        .collect();
    let from = if handed.is_empty() {
        String::new()
    } else {
        format!(": the values it gets from {}", handed.join(", "))
    };
    Some(Failure {
        kind: FailureKind::NotRun,
        message: format!(
            "not run: its request would be too large for the helper ({over}; the limit is \
             {} MiB and {MAX_REQUEST_ITEMS} YAML items){from}; hand on less, e.g. write \
             large data to a file on the node and return its path",
            MAX_REQUEST_BYTES >> 20
        ),
        traceback: None,
    })
}

/// Seconds a cleanup step may run once the run has been interrupted.
pub const CLEANUP_AFTER_INTERRUPT: f64 = 10.0;

/// One test, ready to run: its plan and where its roles are.
#[derive(Debug, Clone)]
pub struct TestSpec {
    /// The test file.
    pub test: TestFile,
    /// Its plan (validated).
    pub plan: TestPlan,
    /// Role → node name.
    pub binding: Binding,
    /// Role → node name and facts, as steps see them.
    pub nodes: BTreeMap<String, NodeInfo>,
    /// Which repetition (1-based).
    pub repeat: u32,
}

/// What the sequencer shares across tests.
#[derive(Clone)]
pub struct Ctx {
    /// Runs the steps.
    pub executor: Arc<dyn StepExecutor>,
    /// Timeouts and parameters.
    pub config: Arc<RunConfig>,
    /// Receives the events.
    pub reporter: Arc<dyn Reporter>,
    /// Becomes `true` on SIGINT/SIGTERM.
    pub interrupt: watch::Receiver<bool>,
}

/// How a test ended, with what the run must learn from it.
#[derive(Debug, Clone)]
pub struct TestEnd {
    /// The outcome, steps included.
    pub outcome: TestOutcome,
    /// Nodes that stopped answering during the test: name and error.
    pub lost: Vec<(String, String)>,
    /// The run was interrupted during the test.
    pub interrupted: bool,
}

#[derive(Debug, Clone, PartialEq)]
enum St {
    Waiting,
    /// A call is in flight (for a background step: being started).
    Running,
    /// A background step that has started and not been stopped.
    Started(String),
    /// A background step being stopped.
    Stopping,
    Done,
    NotRun,
}

struct StepState {
    plan: StepPlan,
    node: String,
    st: St,
    started: Option<Instant>,
    record: Option<StepRecord>,
    passed: bool,
    value: Option<serde_json::Value>,
    /// For a step not run: why, naming the step (or node) that caused it.
    not_run: Option<String>,
}

enum Msg {
    Ran(usize, Result<StepResult, ExecError>),
    Spawned(usize, Result<String, ExecError>),
    Stopped(usize, Result<Stopped, ExecError>),
}

#[derive(Clone, Copy, PartialEq)]
enum Phase {
    Main,
    Cleanup,
}

enum Readiness {
    Ready,
    Wait,
    Blocked(String),
}

struct Sequencer<'a> {
    spec: &'a TestSpec,
    ctx: &'a Ctx,
    t0: Instant,
    steps: Vec<StepState>,
    index: BTreeMap<String, usize>,
    set: JoinSet<Msg>,
    /// Indices of failed steps (not-run excluded), in the order they failed.
    failures: Vec<usize>,
    /// The logs `lutf.logs` steps returned, taken out of their values before those are
    /// bounded for the results.
    node_logs: Vec<crate::outcome::NodeLog>,
    /// The first step that skipped the test, and its reason.
    skip: Option<(String, String)>,
    lost: Vec<(String, String)>,
    interrupted: bool,
    /// The run's secrets, blanked out of every record (the helper did already; this is
    /// the master's own line of defence).
    redactor: Redactor,
}

/// Runs one test to its end. Never fails: every problem becomes part of the outcome.
pub async fn run_test(spec: &TestSpec, ctx: &Ctx) -> TestEnd {
    let started = now_rfc3339();
    let mut seq = Sequencer {
        spec,
        ctx,
        t0: Instant::now(),
        steps: spec
            .plan
            .steps
            .iter()
            .map(|p| StepState {
                plan: p.clone(),
                node: spec.binding.get(&p.role).cloned().unwrap_or_default(),
                st: St::Waiting,
                started: None,
                record: None,
                passed: false,
                value: None,
                not_run: None,
            })
            .collect(),
        index: spec
            .plan
            .steps
            .iter()
            .enumerate()
            .map(|(i, s)| (s.name.clone(), i))
            .collect(),
        set: JoinSet::new(),
        failures: Vec::new(),
        node_logs: Vec::new(),
        skip: None,
        lost: Vec::new(),
        interrupted: false,
        redactor: Redactor::new(&ctx.config.secrets),
    };
    seq.pump(Some(Phase::Main)).await;
    seq.stop_background(None);
    seq.pump(None).await;
    seq.pump(Some(Phase::Cleanup)).await;
    seq.finish(started)
}

impl Sequencer<'_> {
    fn is_interrupted(&mut self) -> bool {
        if !self.interrupted && *self.ctx.interrupt.borrow() {
            self.interrupted = true;
        }
        self.interrupted
    }

    fn node_lost(&self, node: &str) -> bool {
        self.lost.iter().any(|(n, _)| n == node)
    }

    /// Starts what can start, marks what never will, and handles answers until nothing
    /// is in flight and nothing more can start.
    async fn pump(&mut self, phase: Option<Phase>) {
        loop {
            if let Some(p) = phase {
                self.schedule(p);
            }
            match self.set.join_next().await {
                None => break,
                Some(Ok(msg)) => self.handle(msg),
                Some(Err(e)) => crate::reporter::eprintln(&format!(
                    "lutf: error: test {}: a step's task failed: {e}",
                    self.spec.test.full_name()
                )),
            }
        }
    }

    fn schedule(&mut self, phase: Phase) {
        loop {
            let mut changed = false;
            for i in 0..self.steps.len() {
                let s = &self.steps[i];
                if s.st != St::Waiting || s.plan.cleanup != (phase == Phase::Cleanup) {
                    continue;
                }
                match self.readiness(i, phase) {
                    Readiness::Wait => continue,
                    Readiness::Ready => self.start(i, phase),
                    Readiness::Blocked(why) => self.not_run(i, why),
                }
                changed = true;
            }
            if !changed {
                break;
            }
        }
    }

    fn readiness(&mut self, i: usize, phase: Phase) -> Readiness {
        let node = self.steps[i].node.clone();
        if phase == Phase::Main {
            if self.is_interrupted() {
                return Readiness::Blocked("not run: interrupted".into());
            }
            if let Some((step, _)) = &self.skip {
                return Readiness::Blocked(format!("not run: step {step} skipped the test"));
            }
        }
        for dep in &self.steps[i].plan.after {
            let d = &self.steps[self.index[dep]];
            if phase == Phase::Cleanup && !d.plan.cleanup {
                // Ordinary steps are all over by now; their values are passed when they
                // passed, and a cleanup runs whatever became of them.
                continue;
            }
            let settled = match (&d.st, phase) {
                (St::Done | St::NotRun, Phase::Cleanup) => true,
                // A step that stops background steps ends once they are stopped and their
                // results are in, so that the steps after it see those results.
                (St::Done, _) if d.passed => !self.stopping_for(d),
                (St::Started(_) | St::Stopping, _) if d.plan.background => true,
                (St::Done, _) => {
                    let how = match d.record.as_ref().map(|r| r.status) {
                        Some(Status::Skip) => "skipped",
                        _ => "failed",
                    };
                    return Readiness::Blocked(format!("not run: step {dep} {how}"));
                }
                (St::NotRun, _) => {
                    return Readiness::Blocked(
                        d.not_run
                            .clone()
                            .unwrap_or_else(|| format!("not run: step {dep} did not run")),
                    )
                }
                _ => false,
            };
            if !settled {
                return Readiness::Wait;
            }
        }
        // After the dependencies, so that a step after a failed one names that step.
        if self.node_lost(&node) {
            return Readiness::Blocked(format!("not run: node {node} lost"));
        }
        Readiness::Ready
    }

    /// Whether a background step that `d` stops has not been collected yet.
    fn stopping_for(&self, d: &StepState) -> bool {
        d.plan.stops.iter().any(|b| {
            matches!(
                self.steps[self.index[b]].st,
                St::Running | St::Started(_) | St::Stopping
            )
        })
    }

    /// The values of the steps in `i`'s `after` that passed (what `ctx.results` holds).
    fn results_for(&self, i: usize) -> BTreeMap<String, serde_json::Value> {
        self.steps[i]
            .plan
            .after
            .iter()
            .filter_map(|dep| {
                let v = self.steps[self.index[dep]].value.as_ref()?;
                Some((dep.clone(), v.clone()))
            })
            .collect()
    }

    fn start(&mut self, i: usize, phase: Phase) {
        let config = &self.ctx.config;
        let mut timeout = self.steps[i].plan.timeout.unwrap_or(config.timeout);
        if phase == Phase::Cleanup && self.is_interrupted() {
            timeout = timeout.min(CLEANUP_AFTER_INTERRUPT);
        }
        // A cleanup learns that the test failed (lutf's own then collects the node's logs).
        let failed = (phase == Phase::Cleanup)
            .then(|| self.first_failure())
            .flatten();
        let s = &self.steps[i];
        let args = StepArgs {
            file: self.spec.test.bundle_path(),
            step: s.plan.name.clone(),
            context: StepContext {
                test: self.spec.test.full_name(),
                role: s.plan.role.clone(),
                node_name: s.node.clone(),
                nodes: self.spec.nodes.clone(),
                results: self.results_for(i),
                params: config.params.clone(),
                // `--secret-env`: the helper blanks their values out of what it answers.
                secrets: config.secrets.clone(),
                failed,
            },
            timeout: Some(timeout),
            output_limit: config.output_limit,
            // The executor says which master starts the step.
            origin: None,
            wait: None,
            job: None,
        };
        self.ctx.reporter.event(&Event::StepStarted {
            suite: self.spec.test.suite.clone(),
            id: self.spec.test.id.clone(),
            step: s.plan.name.clone(),
            node: s.node.clone(),
        });
        let ex = self.ctx.executor.clone();
        let node = s.node.clone();
        let background = s.plan.background;
        // The helper would refuse it unread: say why in the step's own terms instead.
        let refused = too_large(&args);
        // Ordinary steps stop at an interrupt; cleanup steps run on (bounded above), and
        // background starts finish so that their jobs are known and can be stopped.
        let interrupt = (phase == Phase::Main).then(|| self.ctx.interrupt.clone());
        self.set.spawn(async move {
            if let Some(failure) = refused {
                Msg::Ran(i, Err(ExecError::Failed(failure)))
            } else if background {
                Msg::Spawned(i, ex.spawn_step(&node, args).await)
            } else {
                Msg::Ran(i, ex.step(&node, args, interrupt).await)
            }
        });
        let s = &mut self.steps[i];
        s.started = Some(Instant::now());
        s.st = St::Running;
    }

    fn stop(&mut self, i: usize) {
        let St::Started(job) = &self.steps[i].st else {
            return;
        };
        let job = job.clone();
        self.steps[i].st = St::Stopping;
        let ex = self.ctx.executor.clone();
        let node = self.steps[i].node.clone();
        self.set
            .spawn(async move { Msg::Stopped(i, ex.stop_step(&node, &job).await) });
    }

    /// Stops the background steps `only` names, or every one still running.
    fn stop_background(&mut self, only: Option<&[String]>) {
        let targets: Vec<usize> = match only {
            Some(names) => names
                .iter()
                .filter_map(|n| self.index.get(n))
                .copied()
                .collect(),
            None => (0..self.steps.len()).collect(),
        };
        for i in targets {
            self.stop(i);
        }
    }

    fn handle(&mut self, msg: Msg) {
        match msg {
            Msg::Ran(i, res) => {
                self.settle(i, res.map(Ended::Result));
                let stops = self.steps[i].plan.stops.clone();
                self.stop_background(Some(&stops));
            }
            Msg::Spawned(i, Ok(job)) => {
                self.steps[i].st = St::Started(job);
                // A step meant to stop it may have ended already.
                let name = &self.steps[i].plan.name;
                if self
                    .steps
                    .iter()
                    .any(|s| s.st == St::Done && s.plan.stops.contains(name))
                {
                    self.stop(i);
                }
            }
            Msg::Spawned(i, Err(e)) => self.settle(i, Err(e)),
            Msg::Stopped(i, res) => self.settle(
                i,
                res.map(|stopped| match stopped.result {
                    Some(r) if stopped.was_running => Ended::StoppedRunning(r),
                    Some(r) => Ended::Result(r),
                    None => Ended::NoResult,
                }),
            ),
        }
    }

    fn settle(&mut self, i: usize, res: Result<Ended, ExecError>) {
        let node = self.steps[i].node.clone();
        let (status, failure, value, log) = match res {
            Ok(Ended::Result(r)) => match r.outcome {
                StepOutcome::Pass { value } => (Status::Pass, None, Some(value), r.log),
                StepOutcome::Fail { failure } => (Status::Fail, Some(failure), None, r.log),
                StepOutcome::Skip { reason } => (
                    Status::Skip,
                    Some(Failure {
                        kind: FailureKind::NotRun,
                        message: reason,
                        traceback: None,
                    }),
                    None,
                    r.log,
                ),
            },
            // Stopped as planned: whatever the signal did to it, it did its job, unless it
            // would not stop and had to be killed, which fails any step.
            Ok(Ended::StoppedRunning(r)) => match r.outcome {
                StepOutcome::Fail { failure } if failure.kind == FailureKind::Killed => {
                    (Status::Fail, Some(failure), None, r.log)
                }
                StepOutcome::Pass { value } => (Status::Pass, None, Some(value), r.log),
                _ => (Status::Pass, None, None, r.log),
            },
            Ok(Ended::NoResult) => (
                Status::Fail,
                Some(Failure {
                    kind: FailureKind::Crash,
                    message: "the helper returned no step result for this background step".into(),
                    traceback: None,
                }),
                None,
                Captured::default(),
            ),
            Err(ExecError::Lost(e)) => {
                let e = self.redactor.text(&e);
                if !self.node_lost(&node) {
                    self.lost.push((node.clone(), e.clone()));
                }
                (
                    Status::Fail,
                    Some(Failure {
                        kind: FailureKind::Lost,
                        message: format!("node {node} lost: {e}"),
                        traceback: None,
                    }),
                    None,
                    Captured::default(),
                )
            }
            Err(ExecError::Failed(f)) => (Status::Fail, Some(f), None, Captured::default()),
            Err(ExecError::Interrupted(r)) => {
                self.interrupted = true;
                (
                    Status::Fail,
                    Some(Failure {
                        kind: FailureKind::Interrupted,
                        message: "interrupted".into(),
                        traceback: None,
                    }),
                    None,
                    r.map(|r| r.log).unwrap_or_default(),
                )
            }
        };
        self.record(i, status, failure, value, log);
    }

    fn record(
        &mut self,
        i: usize,
        status: Status,
        failure: Option<Failure>,
        value: Option<serde_json::Value>,
        log: Captured,
    ) {
        let now = Instant::now();
        let s = &mut self.steps[i];
        let started = s.started.unwrap_or(now);
        let mut record = StepRecord {
            name: s.plan.name.clone(),
            role: s.plan.role.clone(),
            node: s.node.clone(),
            cleanup: s.plan.cleanup,
            background: s.plan.background,
            start: started.duration_since(self.t0).as_secs_f64(),
            duration: now.duration_since(started).as_secs_f64(),
            status,
            failure: failure.map(|f| StepFailure {
                kind: f.kind,
                message: f.message,
                traceback: f.traceback,
            }),
            value,
            large_value: None,
            log,
        };
        crate::secrets::redact_record(&self.redactor, &mut record);
        self.ctx.config.sources.record(&mut record);
        s.st = St::Done;
        s.passed = status == Status::Pass;
        self.node_logs.extend(record.take_node_logs());
        // The steps after it get the value whole; the results show a bounded one.
        s.value = record.value.take();
        record.set_value(s.value.as_ref());
        match status {
            Status::Fail => self.failures.push(i),
            Status::Skip if !s.plan.cleanup && self.skip.is_none() => {
                let reason = record
                    .failure
                    .as_ref()
                    .map(|f| f.message.clone())
                    .unwrap_or_default();
                self.skip = Some((s.plan.name.clone(), reason));
            }
            _ => {}
        }
        self.ctx.reporter.event(&Event::StepFinished {
            suite: self.spec.test.suite.clone(),
            id: self.spec.test.id.clone(),
            record: record.clone(),
        });
        s.record = Some(record);
    }

    /// The test's failure so far, as its error will say it, or `None`.
    fn first_failure(&mut self) -> Option<String> {
        if self.is_interrupted() {
            return Some("interrupted".into());
        }
        let &i = self.failures.first()?;
        let s = &self.steps[i];
        let f = s.record.as_ref()?.failure.as_ref()?;
        Some(failure_line(&s.plan.name, &s.node, &f.message))
    }

    fn not_run(&mut self, i: usize, why: String) {
        let s = &mut self.steps[i];
        s.st = St::NotRun;
        s.not_run = Some(why.clone());
        let record = StepRecord {
            name: s.plan.name.clone(),
            role: s.plan.role.clone(),
            node: String::new(),
            cleanup: s.plan.cleanup,
            background: s.plan.background,
            start: 0.0,
            duration: 0.0,
            status: Status::Skip,
            failure: Some(StepFailure {
                kind: FailureKind::NotRun,
                message: why,
                traceback: None,
            }),
            value: None,
            large_value: None,
            log: Captured::default(),
        };
        self.ctx.reporter.event(&Event::StepFinished {
            suite: self.spec.test.suite.clone(),
            id: self.spec.test.id.clone(),
            record: record.clone(),
        });
        s.record = Some(record);
    }

    fn finish(mut self, started: String) -> TestEnd {
        let interrupted = self.is_interrupted();
        let (status, error) = if interrupted {
            (Status::Fail, "interrupted".to_string())
        } else if let Some(&i) = self.failures.first() {
            let s = &self.steps[i];
            let f = s
                .record
                .as_ref()
                .and_then(|r| r.failure.as_ref())
                .expect("a failed step has a failure");
            let mut error = failure_line(&s.plan.name, &s.node, &f.message);
            if let Some(tb) = f.traceback.as_deref().filter(|t| !t.trim().is_empty()) {
                error.push('\n');
                error.push_str(tb.trim_end());
            }
            (Status::Fail, error)
        } else if let Some((_, reason)) = &self.skip {
            (Status::Skip, reason.clone())
        } else {
            (Status::Pass, String::new())
        };
        let mut ran: Vec<StepRecord> = Vec::new();
        let mut not_run: Vec<StepRecord> = Vec::new();
        for s in self.steps {
            match (s.record, s.st) {
                (Some(r), St::NotRun) => not_run.push(r),
                (Some(r), _) => ran.push(r),
                // A step task that vanished (it panicked): say so rather than drop it.
                (None, _) => not_run.push(StepRecord {
                    name: s.plan.name,
                    role: s.plan.role,
                    node: s.node,
                    cleanup: s.plan.cleanup,
                    background: s.plan.background,
                    start: 0.0,
                    duration: 0.0,
                    status: Status::Skip,
                    failure: Some(StepFailure {
                        kind: FailureKind::NotRun,
                        message: "not run: lost track of the step (internal error)".into(),
                        traceback: None,
                    }),
                    value: None,
                    large_value: None,
                    log: Captured::default(),
                }),
            }
        }
        ran.sort_by(|a, b| a.start.total_cmp(&b.start));
        ran.extend(not_run);
        let mut outcome = TestOutcome {
            suite: self.spec.test.suite.clone(),
            id: self.spec.test.id.clone(),
            description: self.spec.plan.description.clone(),
            status,
            error,
            return_code: i32::from(status == Status::Fail),
            started,
            duration: self.t0.elapsed().as_secs_f64(),
            binding: self.spec.binding.clone(),
            steps: ran,
            repeat: self.spec.repeat,
            node_logs: std::mem::take(&mut self.node_logs),
        };
        crate::secrets::redact_test(&self.redactor, &mut outcome);
        TestEnd {
            outcome,
            lost: self.lost,
            interrupted,
        }
    }
}

/// How a step call ended, before it becomes a record.
enum Ended {
    /// The step's own result.
    Result(StepResult),
    /// A background step that was still running when stopped.
    StoppedRunning(StepResult),
    /// The helper gave no step result.
    NoResult,
}

/// The first line of a failed test's error: `step NAME on NODE: MESSAGE`, or, when the
/// message already starts with `step NAME` (as the helper's timeouts do), the node put
/// in after the name.
fn failure_line(step: &str, node: &str, message: &str) -> String {
    // lutf's clean step says what failed on which node itself.
    if step.starts_with(crate::plan::CLEAN_STEP) && message.starts_with("setup cleanup failed") {
        return message.to_string();
    }
    let prefix = format!("step {step} ");
    match message.strip_prefix(&prefix) {
        Some(rest) => format!("step {step} on {node} {rest}"),
        None => format!("step {step} on {node}: {message}"),
    }
}

/// The time now, RFC 3339, UTC, whole seconds.
pub fn now_rfc3339() -> String {
    chrono::Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Secs, true)
}
