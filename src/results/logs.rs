//! Log files with auster's names.
//!
//! - `<suite>.test_<id>.test_log.<host>.log`: one per test and node it touched. The test's
//!   header (status, duration, error), then each of the node's steps under a header naming
//!   step, node, role, outcome and duration, with its output, its return value or its failure
//!   and traceback. Steps that never ran (no node) are listed in every log of the test. With
//!   `--repeat`, every repetition of the test goes into the same file, one after the other,
//!   as auster does. A test that touched no node (skipped before binding) gets one log under
//!   the master's host, so its reason is on file too.
//! - `<suite>.suite_log.<host>.log`: the suite as the master saw it, `<host>` being the
//!   master's short hostname as in auster (which names it after the host auster runs on).

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::path::{Path, PathBuf};

use super::nodes::master_label;
use super::{human_duration, safe_file_part, write_atomic, ResultsError};
use crate::outcome::{RunOutcome, StepRecord, SuiteOutcome, TestOutcome};

/// `<suite>.test_<id>.test_log.<host>.log`.
pub fn test_log_name(suite: &str, id: &str, host: &str) -> String {
    format!(
        "{}.test_{}.test_log.{}.log",
        safe_file_part(suite),
        safe_file_part(id),
        host
    )
}

/// `<suite>.test_<id>.<kind>.<host>.<epoch>.log`: a log a node gave about a failed test
/// (`kind` `debug_log`, `dmesg` or `journal`), `epoch` the test's start, as auster names them.
pub fn node_log_name(suite: &str, id: &str, kind: &str, host: &str, epoch: i64) -> String {
    format!(
        "{}.test_{}.{}.{host}.{epoch}.log",
        safe_file_part(suite),
        safe_file_part(id),
        safe_file_part(kind)
    )
}

/// The node logs of one test: (node, kind, file name, text when not written yet).
pub fn node_log_files<'a>(
    run: &RunOutcome,
    test: &'a TestOutcome,
    labels: &BTreeMap<String, String>,
) -> Vec<(String, String, String, Option<&'a str>)> {
    let epoch = chrono::DateTime::parse_from_rfc3339(&test.started).map_or(0, |t| t.timestamp());
    test.node_logs
        .iter()
        .map(|l| {
            let host = label_of(run, labels, Some(&l.node));
            let file = node_log_name(&test.suite, &test.id, &l.kind, &host, epoch);
            (l.node.clone(), l.kind.clone(), file, l.text.as_deref())
        })
        .collect()
}

/// `<suite>.suite_log.<host>.log`.
pub fn suite_log_name(suite: &str, host: &str) -> String {
    format!("{}.suite_log.{}.log", safe_file_part(suite), host)
}

/// The node a step belongs to: the one it ran on, else the one its role was bound to.
fn step_node<'a>(test: &'a TestOutcome, step: &'a StepRecord) -> Option<&'a str> {
    if !step.node.is_empty() {
        Some(&step.node)
    } else {
        test.binding.get(&step.role).map(String::as_str)
    }
}

/// The nodes a test touched (its steps' nodes in order, then the other bound nodes); `None`
/// alone when it touched none.
pub fn test_nodes(test: &TestOutcome) -> Vec<Option<String>> {
    let mut out: Vec<Option<String>> = Vec::new();
    let nodes = test
        .steps
        .iter()
        .filter_map(|s| step_node(test, s))
        .chain(test.binding.values().map(String::as_str));
    for n in nodes {
        if !out.iter().any(|o| o.as_deref() == Some(n)) {
            out.push(Some(n.to_string()));
        }
    }
    if out.is_empty() {
        out.push(None);
    }
    out
}

/// The `<host>` label of a node (`None`: the master).
pub fn label_of(run: &RunOutcome, labels: &BTreeMap<String, String>, node: Option<&str>) -> String {
    match node {
        Some(n) => labels.get(n).cloned().unwrap_or_else(|| safe_file_part(n)),
        None => master_label(run),
    }
}

/// The log files of one test: (node, file name) per node it touched.
pub fn test_log_files(
    run: &RunOutcome,
    test: &TestOutcome,
    labels: &BTreeMap<String, String>,
) -> Vec<(Option<String>, String)> {
    test_nodes(test)
        .into_iter()
        .map(|n| {
            let file = test_log_name(&test.suite, &test.id, &label_of(run, labels, n.as_deref()));
            (n, file)
        })
        .collect()
}

/// Every log file of test `<suite>/<id>` (all its repetitions): (file name, text).
pub fn test_logs(
    run: &RunOutcome,
    suite: &str,
    id: &str,
    labels: &BTreeMap<String, String>,
) -> Vec<(String, String)> {
    let mut files: BTreeMap<String, String> = BTreeMap::new();
    for test in run.tests().filter(|t| t.suite == suite && t.id == id) {
        for (node, file) in test_log_files(run, test, labels) {
            let text = files.entry(file).or_default();
            if !text.is_empty() {
                text.push('\n');
            }
            text.push_str(&test_log(test, node.as_deref()));
        }
    }
    files.into_iter().collect()
}

/// Writes every log file of test `<suite>/<id>` into `dir` (atomically, each file whole),
/// and the logs its nodes gave when it failed ([`node_log_files`]):
/// the results folder, or auster's `$LOGDIR` for the hook. Returns the files written.
pub fn write_test_logs(
    dir: &Path,
    run: &RunOutcome,
    suite: &str,
    id: &str,
    labels: &BTreeMap<String, String>,
) -> Result<Vec<PathBuf>, ResultsError> {
    let mut written = Vec::new();
    for (file, text) in test_logs(run, suite, id, labels) {
        let path = dir.join(file);
        write_atomic(&path, text.as_bytes())?;
        written.push(path);
    }
    // The logs its nodes gave when it failed, once (run.json does not keep their text).
    for test in run.tests().filter(|t| t.suite == suite && t.id == id) {
        for (_, _, file, text) in node_log_files(run, test, labels) {
            if let Some(text) = text {
                let path = dir.join(file);
                write_atomic(&path, text.as_bytes())?;
                written.push(path);
            }
        }
    }
    Ok(written)
}

/// One test's log as seen from `node` (`None`: the whole test, every step).
pub fn test_log(test: &TestOutcome, node: Option<&str>) -> String {
    let mut out = String::new();
    let _ = writeln!(
        out,
        "== {} {}: {} in {} ==",
        test.suite,
        test.name(),
        test.status,
        human_duration(test.duration)
    );
    if !test.description.is_empty() {
        let _ = writeln!(out, "description: {}", test.description);
    }
    if test.repeat > 1 {
        let _ = writeln!(out, "repeat: {}", test.repeat);
    }
    let _ = writeln!(out, "started: {}", test.started);
    if let Some(n) = node {
        let roles: Vec<&str> = test
            .binding
            .iter()
            .filter(|(_, v)| v.as_str() == n)
            .map(|(k, _)| k.as_str())
            .collect();
        if roles.is_empty() {
            let _ = writeln!(out, "node: {n}");
        } else {
            let _ = writeln!(out, "node: {n} (roles: {})", roles.join(", "));
        }
    }
    if !test.error.is_empty() {
        let _ = writeln!(out, "error: {}", indent_rest(&test.error));
    }
    for step in &test.steps {
        let mine = match (node, step_node(test, step)) {
            (None, _) | (_, None) => true,
            (Some(n), Some(s)) => n == s,
        };
        if mine {
            out.push('\n');
            write_step(&mut out, step);
        }
    }
    out
}

/// A step's header line: `-- step <name> on <node> (role r, background): PASS in 1.2s at +0.3s --`.
pub fn step_header(step: &StepRecord) -> String {
    let mut what = format!("role {}", step.role);
    if step.background {
        what.push_str(", background");
    }
    if step.cleanup {
        what.push_str(", cleanup");
    }
    let outcome = outcome_word(step);
    if step.node.is_empty() {
        format!("-- step {} ({what}): {outcome} --", step.name)
    } else {
        format!(
            "-- step {} on {} ({what}): {outcome} in {} at +{} --",
            step.name,
            step.node,
            human_duration(step.duration),
            human_duration(step.start)
        )
    }
}

/// PASS, FAIL (kind), SKIP or NOT RUN.
pub fn outcome_word(step: &StepRecord) -> String {
    match &step.failure {
        Some(f) if f.kind == crate::protocol::FailureKind::NotRun => "NOT RUN".to_string(),
        Some(f) if step.status == crate::outcome::Status::Fail => {
            format!("FAIL ({})", kind_name(f.kind))
        }
        _ => step.status.to_string(),
    }
}

/// A failure kind as it is spelled in the protocol (`assertion`, `timeout`, ...).
pub fn kind_name(kind: crate::protocol::FailureKind) -> String {
    serde_json::to_value(kind)
        .ok()
        .and_then(|v| v.as_str().map(str::to_string))
        .unwrap_or_else(|| format!("{kind:?}"))
}

fn write_step(out: &mut String, step: &StepRecord) {
    let _ = writeln!(out, "{}", step_header(step));
    if !step.log.data.is_empty() {
        let text = step.log.data.to_string_lossy();
        out.push_str(&text);
        if !text.ends_with('\n') {
            out.push('\n');
        }
    }
    if step.log.dropped > 0 {
        let _ = writeln!(out, "[{} bytes of output left out]", step.log.dropped);
    }
    if let Some(f) = &step.failure {
        let _ = writeln!(out, "{}: {}", outcome_word(step), indent_rest(&f.message));
        if let Some(tb) = &f.traceback {
            out.push_str(tb);
            if !tb.ends_with('\n') {
                out.push('\n');
            }
        }
    } else if let Some(v) = step.value_text() {
        let _ = writeln!(out, "returned: {v}");
    }
}

/// Indents every line after the first by two spaces, so a multi-line text stays readable
/// under its label.
fn indent_rest(s: &str) -> String {
    s.trim_end_matches('\n').replace('\n', "\n  ")
}

/// The suite log: each test with its status, duration and error, and its steps' outcomes.
pub fn suite_log(run: &RunOutcome, suite: &SuiteOutcome) -> String {
    let mut out = String::new();
    let _ = writeln!(
        out,
        "== lutf suite {} on {} (run {}), started {} ==",
        suite.name, run.testhost, run.id, suite.started
    );
    for test in &suite.tests {
        out.push('\n');
        let _ = write!(
            out,
            "{} {}: {} in {}",
            suite.name,
            test.name(),
            test.status,
            human_duration(test.duration)
        );
        if test.repeat > 1 {
            let _ = write!(out, " (repeat {})", test.repeat);
        }
        out.push('\n');
        if !test.description.is_empty() {
            let _ = writeln!(out, "  {}", test.description);
        }
        if !test.error.is_empty() {
            let _ = writeln!(
                out,
                "  error: {}",
                indent_rest(&test.error).replace('\n', "\n  ")
            );
        }
        for step in &test.steps {
            let _ = writeln!(out, "  {}", step_header(step));
        }
    }
    let _ = writeln!(
        out,
        "\n== {}: {} in {} ==",
        suite.name,
        suite.status(),
        human_duration(suite.duration)
    );
    out
}
