//! The run's summary as text, for the end of `lutf run` and for `lutf results`: counts,
//! duration, failed tests with their reasons, and where the files are.

use std::fmt::Write as _;
use std::path::Path;

use super::{human_duration, JUNIT_XML, REPORT_HTML, RESULTS_YML};
use crate::outcome::{RunOutcome, Status};

/// `lutf run <id>: 5 tests, 3 PASS, 1 FAIL, 1 SKIP in 12.3s`, then when, where, who.
pub fn headline(run: &RunOutcome) -> String {
    let mut out = format!(
        "lutf run {}: {} tests, {} PASS, {} FAIL, {} SKIP in {}",
        run.id,
        run.tests().count(),
        run.count(Status::Pass),
        run.count(Status::Fail),
        run.count(Status::Skip),
        human_duration(run.duration)
    );
    if run.interrupted {
        out.push_str(" (interrupted)");
    } else if run.finished.is_empty() {
        out.push_str(" (not finished)");
    }
    out
}

/// Every failed test, one per line: `  <suite> test_<id>: <first line of the reason>`,
/// the rest of the reason indented below.
pub fn failures(run: &RunOutcome) -> String {
    let mut out = String::new();
    for t in run.tests().filter(|t| t.status == Status::Fail) {
        let mut lines = t.error.lines();
        let _ = write!(out, "  {} {}", t.suite, t.name());
        if t.repeat > 1 {
            let _ = write!(out, " (repeat {})", t.repeat);
        }
        let _ = writeln!(out, ": {}", lines.next().unwrap_or("(no reason given)"));
        for l in lines {
            let _ = writeln!(out, "      {l}");
        }
    }
    out
}

/// The whole summary; `dir` is the results folder, when there is one, named absolutely so
/// that the paths can be pasted from any folder.
pub fn render(run: &RunOutcome, dir: Option<&Path>) -> String {
    let mut out = headline(run);
    out.push('\n');
    let _ = writeln!(
        out,
        "started {} on {} by {}, cluster {} ({} node{})",
        run.started,
        run.testhost,
        run.user,
        run.cluster,
        run.nodes.len(),
        if run.nodes.len() == 1 { "" } else { "s" }
    );
    let failed = failures(run);
    if !failed.is_empty() {
        out.push_str("failed:\n");
        out.push_str(&failed);
    }
    if let Some(dir) = dir {
        let dir = std::path::absolute(dir).unwrap_or_else(|_| dir.to_path_buf());
        let _ = writeln!(out, "results: {}", dir.display());
        let _ = writeln!(out, "  {}", dir.join(REPORT_HTML).display());
        let _ = writeln!(out, "  {}", dir.join(RESULTS_YML).display());
        let _ = writeln!(out, "  {}", dir.join(JUNIT_XML).display());
    }
    out
}
