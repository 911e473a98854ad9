//! The plain reporter: one line per event on stderr, readable in a CI log and free of
//! escape codes. Also the wording of those lines, which the live display reuses for what it
//! prints above its bars.

use std::fmt::Write as _;

use crate::outcome::{Status, StepRecord, TestOutcome};
use crate::protocol::FailureKind;
use crate::runner::{Event, Reporter};

/// Seconds for people: `0.25 s`, `12.3 s`, `2 min 5 s`.
pub fn secs(d: f64) -> String {
    if d < 10.0 {
        format!("{d:.2} s")
    } else if d < 120.0 {
        format!("{d:.1} s")
    } else {
        format!("{} min {} s", (d / 60.0) as u64, (d % 60.0) as u64)
    }
}

pub fn first_line(s: &str) -> &str {
    s.lines().next().unwrap_or("")
}

/// The plain reporter: one line per event on stderr, readable in a CI log.
/// `-q` prints nothing here (the summary only); `-v` adds each step's output.
pub struct Lines {
    /// Print nothing per event.
    pub quiet: bool,
    /// Print each step's output after its line.
    pub verbose: bool,
}

impl Lines {
    /// The line for one event, if it has one.
    pub fn line(&self, event: &Event) -> Option<String> {
        let test = |suite: &str, id: &str| format!("{suite} test_{id}");
        Some(match event {
            Event::RunStarted { tests } => {
                format!(
                    "lutf: running {tests} test{}",
                    if *tests == 1 { "" } else { "s" }
                )
            }
            Event::TestStarted {
                suite,
                id,
                description,
                binding,
                repeat,
            } => {
                let on: Vec<String> = binding.iter().map(|(r, n)| format!("{r}={n}")).collect();
                let round = if *repeat > 1 {
                    format!(" (round {repeat})")
                } else {
                    String::new()
                };
                format!(
                    "{} started{round} [{}]: {description}",
                    test(suite, id),
                    on.join(" ")
                )
            }
            Event::StepStarted { .. } => return None,
            Event::StepFinished { suite, id, record } => step_event(&test(suite, id), record),
            Event::TestFinished { outcome } => test_event(outcome),
        })
    }
}

/// The line of a step that ended (or will not run), `test` naming its test.
pub fn step_event(test: &str, r: &StepRecord) -> String {
    let why = r
        .failure
        .as_ref()
        .map(|f| first_line(&f.message))
        .unwrap_or("");
    match &r.failure {
        Some(f) if f.kind == FailureKind::NotRun && r.node.is_empty() => {
            format!("{test} step {}: {why}", r.name)
        }
        _ if r.status == Status::Pass => {
            format!(
                "{test} step {} on {}: PASS in {}",
                r.name,
                r.node,
                secs(r.duration)
            )
        }
        _ => format!(
            "{test} step {} on {}: {} in {}: {why}",
            r.name,
            r.node,
            r.status,
            secs(r.duration)
        ),
    }
}

/// A step's output, each line led by `    | ` (nothing when it printed nothing).
pub fn step_output(r: &StepRecord) -> String {
    let mut text = String::new();
    for l in r.log.data.to_string_lossy().lines() {
        let _ = writeln!(text, "    | {l}");
    }
    text
}

/// The line of a test that ended.
pub fn test_event(t: &TestOutcome) -> String {
    let name = format!("{} {}", t.suite, t.name());
    match t.status {
        Status::Pass => format!("{name}: PASS in {}", secs(t.duration)),
        // Skipped (or failed to load) before anything ran: no time to tell.
        s if t.steps.is_empty() => format!("{name}: {s}: {}", first_line(&t.error)),
        s => format!(
            "{name}: {s} in {}: {}",
            secs(t.duration),
            first_line(&t.error)
        ),
    }
}

impl Reporter for Lines {
    fn event(&self, event: &Event) {
        if self.quiet {
            return;
        }
        let Some(mut text) = self.line(event) else {
            return;
        };
        text.push('\n');
        if let Event::StepFinished { record, .. } = event {
            if self.verbose {
                text.push_str(&step_output(record));
            }
        }
        // One write per event, so lines from concurrent steps do not interleave.
        super::eprint(&text);
    }
}
