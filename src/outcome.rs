//! What a run produced: the contract between the [runner](crate::runner) that fills it in and
//! the [results](crate::results) writers (results.yml, junit.xml, logs, report) that read it.
//!
//! Everything here is plain data, serialisable, so that `lutf results` can re-render a
//! stored run (`run.json` in the results folder) without running anything again.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use crate::protocol::{Captured, Facts, FailureKind};

/// PASS, FAIL or SKIP, spelled as auster spells them.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "UPPERCASE")]
pub enum Status {
    /// Every step passed.
    Pass,
    /// Something failed; the test's `error` says what.
    Fail,
    /// The test did not run (or asked to skip); `error` says why.
    Skip,
}

impl Status {
    /// `PASS`, `FAIL` or `SKIP`.
    pub fn as_str(self) -> &'static str {
        match self {
            Status::Pass => "PASS",
            Status::Fail => "FAIL",
            Status::Skip => "SKIP",
        }
    }
}

impl std::fmt::Display for Status {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A whole run.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct RunOutcome {
    /// Unique id of the run (also the suffix of its results folder).
    pub id: String,
    /// When it started, RFC 3339, UTC.
    pub started: String,
    /// When it ended, RFC 3339, UTC (empty while running).
    pub finished: String,
    /// Wall-clock seconds.
    pub duration: f64,
    /// The host the master ran on (auster's `testhost`).
    pub testhost: String,
    /// The user who ran it.
    pub user: String,
    /// How the cluster was given (`local`, a file path, a host list).
    pub cluster: String,
    /// Every node of the run, by name.
    pub nodes: BTreeMap<String, NodeRecord>,
    /// Suites in run order.
    pub suites: Vec<SuiteOutcome>,
    /// The run was interrupted (SIGINT/SIGTERM).
    #[serde(default)]
    pub interrupted: bool,
}

impl RunOutcome {
    /// Every test of every suite, in run order.
    pub fn tests(&self) -> impl Iterator<Item = &TestOutcome> {
        self.suites.iter().flat_map(|s| s.tests.iter())
    }

    /// How many tests ended with `status`.
    pub fn count(&self, status: Status) -> usize {
        self.tests().filter(|t| t.status == status).count()
    }
}

/// One node of the run.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct NodeRecord {
    /// The cluster's name for the node.
    pub name: String,
    /// Its hostname, from its facts (used in log file names, as auster does).
    pub hostname: String,
    /// Its facts, when it answered.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub facts: Option<Facts>,
    /// Why it did not, when it did not.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
    /// Lost during the run: what the end-of-run clean-up did about the jobs this run left
    /// there (killed them, or could not reach the node and they may still run).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cleanup: Option<String>,
    /// Jobs an earlier, gone lutf run on this machine had left running there, which this
    /// run killed when it reached the node.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub leftovers: Option<String>,
}

/// One suite of the run (auster's `Tests:` entry).
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct SuiteOutcome {
    /// The suite's name (its folder name), for example `samples`.
    pub name: String,
    /// When it started, RFC 3339.
    pub started: String,
    /// Wall-clock seconds.
    pub duration: f64,
    /// Tests in run order.
    pub tests: Vec<TestOutcome>,
}

impl SuiteOutcome {
    /// FAIL when a test failed, else PASS when one passed, else SKIP.
    pub fn status(&self) -> Status {
        if self.tests.iter().any(|t| t.status == Status::Fail) {
            Status::Fail
        } else if self.tests.iter().any(|t| t.status == Status::Pass) {
            Status::Pass
        } else {
            Status::Skip
        }
    }
}

/// One test (auster's SubTest).
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct TestOutcome {
    /// The suite it belongs to.
    pub suite: String,
    /// The short id, for example `01` or `18a`.
    pub id: String,
    /// The first line of the test's docstring.
    pub description: String,
    /// PASS, FAIL or SKIP.
    pub status: Status,
    /// Empty on PASS; the reason on FAIL and SKIP (one line first, detail after).
    pub error: String,
    /// auster's `return_code`: 0 on PASS and SKIP, non-zero on FAIL.
    pub return_code: i32,
    /// When it started, RFC 3339.
    pub started: String,
    /// Wall-clock seconds.
    pub duration: f64,
    /// Role → node name, as bound (empty when it never ran).
    pub binding: BTreeMap<String, String>,
    /// Its steps, in the order they started (not-run steps last).
    pub steps: Vec<StepRecord>,
    /// Which repetition this is with `--repeat` (1-based).
    #[serde(default = "one")]
    pub repeat: u32,
    /// Logs its nodes gave because it failed (Lustre debug log, kernel log, journal),
    /// stored beside its logs.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub node_logs: Vec<NodeLog>,
}

fn one() -> u32 {
    1
}

/// One log a node gave about a failed test (lutf's `lutf.logs` step collects them).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct NodeLog {
    /// The node.
    pub node: String,
    /// `debug_log` (`lctl dk`), `dmesg` (the kernel log since the test began) or `journal`
    /// (`journalctl -k`), as auster names them.
    pub kind: String,
    /// Its text, until the results are written (run.json keeps only where it is).
    #[serde(skip)]
    pub text: Option<String>,
}

/// The name of the cleanup step that collects a failed test's logs on each node.
const LOGS_STEP: &str = "lutf.logs";

/// The kinds of log `lutf.logs` returns, in the order they are listed.
pub const NODE_LOG_KINDS: &[&str] = &["debug_log", "dmesg", "journal"];

impl TestOutcome {
    /// auster's name for the test: `test_<id>`.
    pub fn name(&self) -> String {
        format!("test_{}", self.id)
    }

    /// Moves the logs the `lutf.logs` steps returned into `node_logs`, leaving in their
    /// values only how long each log was (so that results stay small).
    pub fn take_node_logs(&mut self) {
        for step in &mut self.steps {
            let logs = step.take_node_logs();
            self.node_logs.extend(logs);
        }
    }
}

impl StepRecord {
    /// For a `lutf.logs` step: moves the logs its value holds out of it, leaving in their
    /// place how large each was.
    pub fn take_node_logs(&mut self) -> Vec<NodeLog> {
        let mut taken = Vec::new();
        if !self.name.starts_with(LOGS_STEP) || self.node.is_empty() {
            return taken;
        }
        let Some(logs) = self
            .value
            .as_mut()
            .and_then(|v| v.get_mut("logs"))
            .and_then(|l| l.as_object_mut())
        else {
            return taken;
        };
        for kind in NODE_LOG_KINDS {
            if let Some(serde_json::Value::String(text)) = logs.remove(*kind) {
                logs.insert(
                    (*kind).to_string(),
                    serde_json::Value::String(format!("{} bytes, stored", text.len())),
                );
                taken.push(NodeLog {
                    node: self.node.clone(),
                    kind: (*kind).to_string(),
                    text: Some(text),
                });
            }
        }
        taken
    }
}

/// One step as it ran (or did not).
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct StepRecord {
    /// The step's name.
    pub name: String,
    /// Its role.
    pub role: String,
    /// The node that ran it (empty when it never ran).
    pub node: String,
    /// A cleanup step.
    #[serde(default)]
    pub cleanup: bool,
    /// A background step.
    #[serde(default)]
    pub background: bool,
    /// Seconds from the test's start to the step's start.
    pub start: f64,
    /// Seconds it ran.
    pub duration: f64,
    /// PASS, FAIL or SKIP (SKIP also for steps that did not run because of a failure).
    pub status: Status,
    /// Why it failed, or why it was skipped / not run.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub failure: Option<StepFailure>,
    /// Its return value on PASS, when its JSON is at most [`MAX_SHOWN_VALUE`] bytes.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub value: Option<serde_json::Value>,
    /// A larger return value, as the results show it: the head and tail of its JSON and its
    /// size (the steps after it got it whole).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub large_value: Option<LargeValue>,
    /// Its output (stdout and stderr interleaved), bounded.
    #[serde(default)]
    pub log: Captured,
}

/// The most bytes of a return value's JSON that the results keep: a larger value keeps its
/// first and last [`MAX_SHOWN_VALUE`]` / 2` bytes and its size, as step output does.
pub const MAX_SHOWN_VALUE: usize = 64 * 1024;

/// A return value too large for the results, as they show it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct LargeValue {
    /// The size of its JSON, in bytes.
    pub bytes: u64,
    /// The start of its JSON.
    pub head: String,
    /// The end of its JSON.
    pub tail: String,
}

impl StepRecord {
    /// Sets the return value as the results show it: whole when its JSON is at most
    /// [`MAX_SHOWN_VALUE`] bytes, else as a [`LargeValue`].
    pub fn set_value(&mut self, value: Option<&serde_json::Value>) {
        self.large_value = None;
        self.value = None;
        let Some(v) = value else {
            return;
        };
        let json = v.to_string();
        if json.len() <= MAX_SHOWN_VALUE {
            self.value = Some(v.clone());
            return;
        }
        let half = MAX_SHOWN_VALUE / 2;
        let head_end = (0..=half)
            .rev()
            .find(|&i| json.is_char_boundary(i))
            .unwrap_or(0);
        let tail_start = (json.len() - half..json.len())
            .find(|&i| json.is_char_boundary(i))
            .unwrap_or(json.len());
        self.large_value = Some(LargeValue {
            bytes: json.len() as u64,
            head: json[..head_end].to_string(),
            tail: json[tail_start..].to_string(),
        });
    }

    /// The return value for people: its JSON, or a large value's head and tail around a
    /// line giving its size; `None` without a value (or with `null`).
    pub fn value_text(&self) -> Option<String> {
        if let Some(l) = &self.large_value {
            let left_out = l.bytes - (l.head.len() + l.tail.len()) as u64;
            return Some(format!(
                "{}\n[lutf: {} bytes of JSON; {left_out} bytes left out here, the steps after \
                 it got all of it]\n{}",
                l.head, l.bytes, l.tail
            ));
        }
        self.value
            .as_ref()
            .filter(|v| !v.is_null())
            .map(|v| v.to_string())
    }
}

/// Why a step did not pass.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct StepFailure {
    /// What kind of failure (for skips and not-run steps too: `not_run`).
    pub kind: FailureKind,
    /// One line.
    pub message: String,
    /// A traceback, when there is one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub traceback: Option<String>,
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn record() -> StepRecord {
        StepRecord {
            name: "s".into(),
            role: "r".into(),
            node: "n".into(),
            cleanup: false,
            background: false,
            start: 0.0,
            duration: 0.0,
            status: Status::Pass,
            failure: None,
            value: None,
            large_value: None,
            log: Captured::default(),
        }
    }

    fn record_with(name: &str, node: &str, value: serde_json::Value) -> StepRecord {
        StepRecord {
            name: name.into(),
            role: "node1".into(),
            node: node.into(),
            cleanup: true,
            value: Some(value),
            ..record()
        }
    }

    #[test]
    fn small_values_are_kept_large_ones_bounded_on_char_boundaries() {
        let mut r = record();
        r.set_value(Some(&json!({"a": [1, 2]})));
        assert_eq!(r.value, Some(json!({"a": [1, 2]})));
        assert_eq!(r.value_text().as_deref(), Some(r#"{"a":[1,2]}"#));
        r.set_value(Some(&json!(null)));
        assert_eq!(r.value_text(), None);

        // Three-byte characters: no cut may split one.
        let big = json!("é€".repeat(MAX_SHOWN_VALUE));
        r.set_value(Some(&big));
        assert_eq!(r.value, None);
        let l = r.large_value.clone().unwrap();
        assert_eq!(l.bytes, big.to_string().len() as u64);
        assert!(l.head.len() + l.tail.len() <= MAX_SHOWN_VALUE);
        assert!(l.head.starts_with("\"é€"));
        assert!(l.tail.ends_with("€\""));
        let text = r.value_text().unwrap();
        assert!(
            text.contains(&format!("[lutf: {} bytes of JSON;", l.bytes)),
            "{}",
            &text[..40]
        );
        // A value set again replaces the large one.
        r.set_value(Some(&json!(1)));
        assert_eq!((r.value, r.large_value), (Some(json!(1)), None));
    }

    #[test]
    fn node_logs_leave_the_step_values() {
        let mut t = TestOutcome {
            suite: "s".into(),
            id: "01".into(),
            description: String::new(),
            status: Status::Fail,
            error: "x".into(),
            return_code: 1,
            started: "2026-01-05T10:00:00Z".into(),
            duration: 1.0,
            binding: BTreeMap::new(),
            steps: vec![
                record_with(
                    "lutf.logs@node1",
                    "vm1",
                    serde_json::json!({"logs": {"debug_log": "dk text", "dmesg": "kernel",
                                                "crash_dumps": ["/var/crash/x"]}}),
                ),
                // A test's own step returning the same shape is left alone.
                record_with(
                    "mine",
                    "vm1",
                    serde_json::json!({"logs": {"dmesg": "mine"}}),
                ),
            ],
            repeat: 1,
            node_logs: Vec::new(),
        };
        t.take_node_logs();
        let kinds: Vec<(&str, &str, Option<&str>)> = t
            .node_logs
            .iter()
            .map(|l| (l.node.as_str(), l.kind.as_str(), l.text.as_deref()))
            .collect();
        assert_eq!(
            kinds,
            [
                ("vm1", "debug_log", Some("dk text")),
                ("vm1", "dmesg", Some("kernel"))
            ]
        );
        let v = t.steps[0].value.as_ref().unwrap();
        assert_eq!(v["logs"]["dmesg"], "6 bytes, stored");
        assert_eq!(v["logs"]["crash_dumps"][0], "/var/crash/x");
        assert_eq!(t.steps[1].value.as_ref().unwrap()["logs"]["dmesg"], "mine");
        // run.json keeps where the logs are, not their text.
        let back: TestOutcome = serde_json::from_str(&serde_json::to_string(&t).unwrap()).unwrap();
        assert_eq!(back.node_logs.len(), 2);
        assert!(back.node_logs.iter().all(|l| l.text.is_none()));
    }
}
