//! The runner: takes the planned tests of a run and runs them one after the other —
//! each bound to nodes, its steps sequenced by [`sequencer`] — filling the
//! [`RunOutcome`] as it goes and handing it to the results writer after every test.
//!
//! It tells what happens through [`Event`]s to a [`Reporter`] (plain lines on stderr
//! today, live progress later) and never prints itself.

pub mod executor;
pub mod sequencer;

use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::Instant;

use tokio::sync::watch;

use crate::discovery::TestFile;
use crate::outcome::{RunOutcome, Status, StepRecord, SuiteOutcome, TestOutcome};
use crate::plan::{bind, Binding, NodeStatus, PlanError};
use crate::protocol::{NodeInfo, TestPlan};
pub use executor::{ExecError, NodeExecutor, StepExecutor, Stopped};
pub use sequencer::{now_rfc3339, run_test, Ctx, TestEnd, TestSpec};

/// Default seconds a step may run when neither it nor `--timeout` says otherwise.
pub const DEFAULT_TIMEOUT: f64 = 300.0;

/// How a run runs.
#[derive(Debug, Clone, PartialEq)]
pub struct RunConfig {
    /// Seconds a step may run unless it sets its own timeout.
    pub timeout: f64,
    /// Run parameters handed to every step (`--param key=value`).
    pub params: BTreeMap<String, serde_json::Value>,
    /// Stop after the first failing test.
    pub fail_fast: bool,
    /// Run the whole selection this many times.
    pub repeat: u32,
    /// Bytes of each step's log kept (the helper's default when `None`).
    pub output_limit: Option<u64>,
    /// Secrets handed to every step (`ctx.secrets`, from `--secret-env`); their values are
    /// blanked out of every record. `Debug` shows `Secret(***)`.
    pub secrets: BTreeMap<String, crate::protocol::Secret>,
    /// Names the test files of the bundle in the user's suites folders, not the nodes'.
    pub sources: crate::sources::SourcePaths,
    /// Clean the nodes a test binds before it (lutf's `lutf.clean` steps); off with
    /// `--no-clean`, the cluster file's `clean: false` or auster's `LUTF_NO_CLEAN`.
    pub clean: bool,
}

impl Default for RunConfig {
    fn default() -> Self {
        RunConfig {
            timeout: DEFAULT_TIMEOUT,
            params: BTreeMap::new(),
            fail_fast: false,
            repeat: 1,
            output_limit: None,
            secrets: BTreeMap::new(),
            sources: Default::default(),
            clean: true,
        }
    }
}

/// Something that happened during a run.
#[derive(Debug, Clone)]
pub enum Event {
    /// The run begins with this many tests (repetitions included).
    RunStarted {
        /// Tests to run.
        tests: usize,
    },
    /// A test's steps are about to run.
    TestStarted {
        /// Its suite.
        suite: String,
        /// Its id.
        id: String,
        /// Its description.
        description: String,
        /// Role → node.
        binding: Binding,
        /// Which repetition (1-based).
        repeat: u32,
    },
    /// A step was sent to its node.
    StepStarted {
        /// The test's suite.
        suite: String,
        /// The test's id.
        id: String,
        /// The step.
        step: String,
        /// Its node.
        node: String,
    },
    /// A step ended, or will not run.
    StepFinished {
        /// The test's suite.
        suite: String,
        /// The test's id.
        id: String,
        /// How it ended.
        record: StepRecord,
    },
    /// A test ended (ran, skipped, or failed to load).
    TestFinished {
        /// How it ended.
        outcome: TestOutcome,
    },
}

/// Receives a run's events, from any task.
pub trait Reporter: Send + Sync {
    /// One event.
    fn event(&self, event: &Event);
}

/// A reporter that ignores everything.
#[derive(Debug, Default)]
pub struct Silent;

impl Reporter for Silent {
    fn event(&self, _event: &Event) {}
}

/// One test of a run with its plan (or why it has none).
#[derive(Debug, Clone)]
pub struct PlannedTest {
    /// The test file.
    pub test: TestFile,
    /// Left out of the run (by `--except`, or auster's `EXCEPT`): not run, reported as
    /// SKIP with this reason.
    pub excluded: Option<String>,
    /// Its plan, as the node read it.
    pub plan: Result<TestPlan, PlanError>,
}

/// A suite of a run.
#[derive(Debug, Clone)]
pub struct PlannedSuite {
    /// Its name.
    pub name: String,
    /// Its tests, in run order.
    pub tests: Vec<PlannedTest>,
}

/// Why a run stopped before its last test.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Stop {
    /// `--fail-fast` and a test failed.
    FailFast,
    /// SIGINT or SIGTERM.
    Interrupted,
}

/// How a run ended, beyond its outcome.
#[derive(Debug, Clone, PartialEq)]
pub struct RunEnd {
    /// Tests that were not run because the run stopped early.
    pub not_run: usize,
    /// Why it stopped early, if it did.
    pub stopped: Option<Stop>,
}

/// Runs planned tests on the nodes of a run.
pub struct Runner {
    ctx: Ctx,
    nodes: Vec<NodeStatus>,
}

impl Runner {
    /// A runner over `nodes` (their facts asked already).
    pub fn new(
        executor: Arc<dyn StepExecutor>,
        nodes: Vec<NodeStatus>,
        config: RunConfig,
        reporter: Arc<dyn Reporter>,
        interrupt: watch::Receiver<bool>,
    ) -> Runner {
        Runner {
            ctx: Ctx {
                executor,
                config: Arc::new(config),
                reporter,
                interrupt,
            },
            nodes,
        }
    }

    /// The nodes as they stand (lost ones marked).
    pub fn nodes(&self) -> &[NodeStatus] {
        &self.nodes
    }

    /// Runs every test of `suites`, `repeat` times over, adding each outcome to `run`
    /// and calling `record` with the run after each test.
    pub async fn run(
        &mut self,
        suites: &[PlannedSuite],
        run: &mut RunOutcome,
        mut record: impl FnMut(&RunOutcome),
    ) -> RunEnd {
        let t0 = Instant::now();
        let base = run.duration;
        let repeat = self.ctx.config.repeat.max(1);
        let total: usize = suites.iter().map(|s| s.tests.len()).sum::<usize>() * repeat as usize;
        self.ctx.reporter.event(&Event::RunStarted { tests: total });
        let mut end = RunEnd {
            not_run: 0,
            stopped: None,
        };
        for round in 1..=repeat {
            for suite in suites {
                for planned in &suite.tests {
                    if end.stopped.is_none() && *self.ctx.interrupt.borrow() {
                        end.stopped = Some(Stop::Interrupted);
                        run.interrupted = true;
                    }
                    if end.stopped.is_some() {
                        end.not_run += 1;
                        continue;
                    }
                    let test_end = self.run_one(planned, round).await;
                    for (node, error) in &test_end.lost {
                        if let Some(n) = self.nodes.iter_mut().find(|n| &n.name == node) {
                            n.down = Some(format!("lost: {error}"));
                        }
                    }
                    let outcome = test_end.outcome;
                    self.ctx.reporter.event(&Event::TestFinished {
                        outcome: outcome.clone(),
                    });
                    let failed = outcome.status == Status::Fail;
                    let so = match run.suites.iter().position(|s| s.name == suite.name) {
                        Some(i) => &mut run.suites[i],
                        None => {
                            run.suites.push(SuiteOutcome {
                                name: suite.name.clone(),
                                started: outcome.started.clone(),
                                duration: 0.0,
                                tests: Vec::new(),
                            });
                            run.suites.last_mut().expect("just pushed")
                        }
                    };
                    so.duration += outcome.duration;
                    so.tests.push(outcome);
                    run.duration = base + t0.elapsed().as_secs_f64();
                    if test_end.interrupted {
                        run.interrupted = true;
                        end.stopped = Some(Stop::Interrupted);
                    } else if failed && self.ctx.config.fail_fast {
                        end.stopped = Some(Stop::FailFast);
                    }
                    record(run);
                }
            }
        }
        run.duration = base + t0.elapsed().as_secs_f64();
        end
    }

    /// One test: SKIP when excluded or when the cluster cannot run it, FAIL when its plan
    /// could not be read, else its steps run.
    async fn run_one(&self, planned: &PlannedTest, repeat: u32) -> TestEnd {
        let test = &planned.test;
        let description = match &planned.plan {
            Ok(p) => p.description.clone(),
            Err(e) => crate::plan::broken_description(test, e),
        };
        let quick = |status: Status, error: String| TestEnd {
            outcome: TestOutcome {
                suite: test.suite.clone(),
                id: test.id.clone(),
                description: description.clone(),
                status,
                error,
                return_code: i32::from(status == Status::Fail),
                started: now_rfc3339(),
                duration: 0.0,
                binding: Binding::new(),
                steps: Vec::new(),
                repeat,
                node_logs: Vec::new(),
            },
            lost: Vec::new(),
            interrupted: false,
        };
        if let Some(why) = &planned.excluded {
            return quick(Status::Skip, why.clone());
        }
        let plan = match &planned.plan {
            Err(e) => return quick(Status::Fail, self.ctx.config.sources.text(&e.full())),
            Ok(plan) => crate::plan::merge_system(plan, self.ctx.config.clean),
        };
        if let Err(why) = crate::plan::validate(&plan) {
            return quick(
                Status::Fail,
                format!("lutf's own steps do not fit the test's: {why}"),
            );
        }
        let binding = match bind(&plan.needs, &self.nodes) {
            Err(reason) => return quick(Status::Skip, reason),
            Ok(b) => b,
        };
        let nodes = binding
            .iter()
            .filter_map(|(role, name)| {
                let n = self.nodes.iter().find(|n| &n.name == name)?;
                Some((
                    role.clone(),
                    NodeInfo {
                        name: name.clone(),
                        facts: n.facts.clone()?,
                        targets: n.targets.clone(),
                    },
                ))
            })
            .collect();
        self.ctx.reporter.event(&Event::TestStarted {
            suite: test.suite.clone(),
            id: test.id.clone(),
            description: plan.description.clone(),
            binding: binding.clone(),
            repeat,
        });
        let spec = TestSpec {
            test: test.clone(),
            plan,
            binding,
            nodes,
            repeat,
        };
        run_test(&spec, &self.ctx).await
    }
}

#[cfg(test)]
mod tests;
