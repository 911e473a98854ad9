//! Tests on a node: `plan` reads a test file's declaration, `step` runs one of its steps.
//!
//! The Python side (`lutf` package shipped with the helper) produces [`TestPlan`] and
//! [`StepResult`] as JSON; these types are their shape.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use crate::{Captured, Facts};

/// The arguments of `plan`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PlanArgs {
    /// The test file: absolute, or relative to the bundle's `suites/` folder
    /// (for example `samples/test_01.py`).
    pub file: String,
}

/// What a test file declares: what it needs and its steps. Nothing has run yet.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TestPlan {
    /// The first line of the module docstring.
    pub description: String,
    /// What the cluster must offer.
    pub needs: Needs,
    /// The steps, in declaration order.
    pub steps: Vec<StepPlan>,
    /// The steps lutf adds to the test (named `lutf.*`: clean, set-up, logs, tear-down):
    /// the master merges them in, the set-up ones before every step of the test, the
    /// cleanups after its cleanups (see `lutf.system` in the Python package).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub system: Vec<StepPlan>,
    /// What lutf sets up for the test (its LNet, file system, debug mask), a line each,
    /// for `lutf list` and `--dry-run`.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub setup: Vec<String>,
}

/// What a test needs from the cluster.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Needs {
    /// The roles, each bound to a distinct node (`Test(nodes=2)` gives `node1`, `node2`).
    pub roles: Vec<String>,
    /// Usable interfaces (up, not loopback, with IPv4) every role's node must have.
    #[serde(default)]
    pub interfaces: u32,
    /// Role → usable interfaces its node must have, where a role needs more than
    /// `interfaces` (`Test(interfaces={"router": 2})`, or what its LNet nets use): a routed
    /// test needs two on the router, one on each end.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub role_interfaces: BTreeMap<String, u32>,
    /// LNet must be loaded on every node.
    #[serde(default)]
    pub lnet: bool,
}

impl Needs {
    /// The usable interfaces `role`'s node must have: the most of `interfaces` and the
    /// role's own need.
    pub fn interfaces_of(&self, role: &str) -> u32 {
        self.role_interfaces
            .get(role)
            .map_or(self.interfaces, |&n| n.max(self.interfaces))
    }
}

/// One step as declared.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct StepPlan {
    /// The step's name: its function's name, unique in the test.
    pub name: String,
    /// The role whose node runs it.
    pub role: String,
    /// Steps that must have finished (or, for background steps, started) first.
    #[serde(default)]
    pub after: Vec<String>,
    /// Seconds before it is killed; `None` takes the run's default.
    #[serde(default)]
    pub timeout: Option<f64>,
    /// A cleanup step: runs at the end of the test whatever happened before.
    #[serde(default)]
    pub cleanup: bool,
    /// Runs in the background: later steps start while it goes on.
    #[serde(default)]
    pub background: bool,
    /// Background steps this step stops once it has finished.
    #[serde(default)]
    pub stops: Vec<String>,
    /// The first line of the function's docstring, if any.
    #[serde(default)]
    pub description: String,
}

/// The arguments of `step` and `spawn_step`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct StepArgs {
    /// The test file, as for [`PlanArgs::file`].
    pub file: String,
    /// The step's name.
    pub step: String,
    /// What the step gets to see.
    pub context: StepContext,
    /// Seconds before the step's process group is killed.
    #[serde(default)]
    pub timeout: Option<f64>,
    /// Bytes of the step's log kept (default [`crate::DEFAULT_OUTPUT_LIMIT`]).
    #[serde(default)]
    pub output_limit: Option<u64>,
    /// The master that starts the step (`spawn_step`): kept with the job, so that a later
    /// run from the same machine can stop it if that master is gone (see [`crate::Origin`]).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub origin: Option<crate::Origin>,
    /// `spawn_step`: seconds to wait for the step to end before answering. A step that
    /// ends within them is answered with its result (`SpawnResult::ended`), so a short step
    /// is one call (and a `forget` that needs no waiting for). Absent or 0: answer as soon
    /// as it runs.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub wait: Option<f64>,
    /// `spawn_step`: the job's id, chosen by the master so that it can stop the step even
    /// when the answer never comes; the helper makes one when absent. Letters, digits,
    /// `-` and `_` only.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub job: Option<String>,
}

/// What a step sees: its node, the cluster, earlier results, the run's parameters.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct StepContext {
    /// `<suite>/test_<id>`.
    pub test: String,
    /// The role this step runs as.
    pub role: String,
    /// The name of the node it runs on (as the cluster names it).
    pub node_name: String,
    /// Role name → node name and facts, for every role of the test.
    pub nodes: BTreeMap<String, NodeInfo>,
    /// Step name → return value, for the steps this one comes after.
    pub results: BTreeMap<String, serde_json::Value>,
    /// Run parameters (`--param key=value`).
    pub params: BTreeMap<String, serde_json::Value>,
    /// Secret values (`ctx.secrets` in the step): every occurrence of them in the step's
    /// log, failure, skip reason and value is replaced by `[secret NAME]` before the reply
    /// (see [`crate::Redactor`]).
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub secrets: BTreeMap<String, crate::Secret>,
    /// For a cleanup step of a test that failed: why (the first failure), so that lutf's
    /// own cleanup collects the node's logs (`ctx.failed` in the step).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub failed: Option<String>,
}

/// A node as a step sees it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct NodeInfo {
    /// The cluster's name for the node.
    pub name: String,
    /// The node's facts.
    pub facts: Facts,
    /// The block devices the cluster file gives the node's Lustre targets (`lutf.fs`
    /// formats them with `mkfs.lustre`); none: memory-backed `osd-wbcfs` targets.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub targets: Option<Targets>,
}

/// Block devices for the Lustre targets a node may hold (the cluster file's `targets:`),
/// one per kind: a test's file system puts at most one MGS, MDT and OST on a node.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Targets {
    /// The MGS's own device, when the MGS is apart from the MDT (else it shares the MDT's).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub mgs: Option<String>,
    /// The MDT's device.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub mdt: Option<String>,
    /// The OST's device.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ost: Option<String>,
    /// What `mkfs.lustre` formats them as.
    #[serde(default)]
    pub backfs: Backfs,
}

/// The back-end file system of block-device targets (`mkfs.lustre --backfstype`).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Backfs {
    /// ext4-based: each device is a block device (`/dev/sdb`).
    #[default]
    Ldiskfs,
    /// ZFS: a device is a block device (a pool is made on it) or `pool/dataset` of a pool
    /// that exists.
    Zfs,
}

/// PASS, FAIL or SKIP, as auster spells them.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "UPPERCASE")]
pub enum StepStatus {
    /// It returned a value.
    Pass,
    /// It failed; see [`Failure`].
    Fail,
    /// It skipped the test, with a reason.
    Skip,
}

/// Why a step failed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum FailureKind {
    /// An `assert` or `lutf.fail()`; the message is the assertion's.
    Assertion,
    /// Any other exception; the traceback is kept.
    Exception,
    /// It returned something JSON cannot carry.
    NotSerializable,
    /// Its timeout expired; its process group was killed.
    Timeout,
    /// Its Python process died without a result (killed, crashed, out of memory).
    Crash,
    /// Asked to stop (SIGTERM), it did not within the grace period and was killed
    /// (SIGKILL): a step that will not stop fails, background or not.
    Killed,
    /// Its node stopped answering.
    Lost,
    /// A step it depends on failed, so it did not run.
    NotRun,
    /// The run was interrupted.
    Interrupted,
    /// The test file could not be loaded.
    TestFile,
}

/// A failure, as reported.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Failure {
    /// What kind.
    pub kind: FailureKind,
    /// One line, for the results table.
    pub message: String,
    /// The Python traceback, for exceptions.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub traceback: Option<String>,
}

/// How a step ended.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "status")]
pub enum StepOutcome {
    /// It returned `value`.
    #[serde(rename = "PASS")]
    Pass {
        /// The JSON value it returned.
        value: serde_json::Value,
    },
    /// It failed.
    #[serde(rename = "FAIL")]
    Fail {
        /// Why.
        failure: Failure,
    },
    /// It asked to skip the test.
    #[serde(rename = "SKIP")]
    Skip {
        /// Why.
        reason: String,
    },
}

impl StepOutcome {
    /// PASS, FAIL or SKIP.
    pub fn status(&self) -> StepStatus {
        match self {
            StepOutcome::Pass { .. } => StepStatus::Pass,
            StepOutcome::Fail { .. } => StepStatus::Fail,
            StepOutcome::Skip { .. } => StepStatus::Skip,
        }
    }
}

/// What `step` answers (and `wait` / `kill` for a step started by `spawn_step`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct StepResult {
    /// How it ended.
    pub outcome: StepOutcome,
    /// Wall-clock seconds.
    pub duration: f64,
    /// Its stdout and stderr, interleaved as written, bounded.
    pub log: Captured,
}
