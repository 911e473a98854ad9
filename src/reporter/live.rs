//! Live progress on a terminal (indicatif): one line per node — the test it is in, the
//! steps it runs, for how long — and below them an overall bar: tests done of the total,
//! PASS/FAIL/SKIP counts, time so far and an estimate of the time left.
//!
//! Above the bars, lines that stay in the scrollback: each test as it ends, and each step
//! that did not pass (every step, with its output, under `-v`).

use std::collections::BTreeMap;
use std::sync::Mutex;
use std::time::Duration;

use indicatif::{HumanDuration, MultiProgress, ProgressBar, ProgressState, ProgressStyle};

use super::lines::{step_event, step_output, test_event};
use crate::outcome::Status;
use crate::protocol::FailureKind;
use crate::runner::{Event, Reporter};

/// How often the spinners and clocks move.
const TICK: Duration = Duration::from_millis(120);

/// The live display of one run.
pub struct Live {
    multi: MultiProgress,
    overall: ProgressBar,
    state: Mutex<State>,
    verbose: bool,
}

struct NodeLine {
    bar: ProgressBar,
    /// The test it is bound to now.
    test: Option<String>,
    /// The steps it runs now, in the order they started.
    steps: Vec<String>,
    /// Why it was lost, once it was.
    lost: Option<String>,
}

#[derive(Default)]
struct State {
    nodes: BTreeMap<String, NodeLine>,
    pass: u64,
    fail: u64,
    skip: u64,
}

// Messages and the bar take the width that is left (`wide_*`), so that a line never wraps
// on a narrow terminal, which would tear the display.
fn busy_style() -> ProgressStyle {
    ProgressStyle::with_template("{spinner:.cyan} {prefix:.bold} {wide_msg} {elapsed:.dim}")
        .expect("a valid template")
        .tick_chars("⠋⠙⠹⠸⠼⠴⠦⠧⠇⠏ ")
}

fn idle_style() -> ProgressStyle {
    ProgressStyle::with_template("  {prefix:.bold} {wide_msg:.dim}").expect("a valid template")
}

fn lost_style() -> ProgressStyle {
    ProgressStyle::with_template("  {prefix:.bold} {wide_msg:.red}").expect("a valid template")
}

/// Time left: the mean time per finished test times the tests still to run.
fn eta_left(state: &ProgressState, w: &mut dyn std::fmt::Write) {
    let (done, total) = (state.pos(), state.len().unwrap_or(0));
    if done == 0 || done >= total {
        let _ = write!(w, "?");
        return;
    }
    let per_test = state.elapsed().as_secs_f64() / done as f64;
    let left = Duration::from_secs_f64(per_test * (total - done) as f64);
    let _ = write!(w, "~{:#}", HumanDuration(left));
}

fn overall_style() -> ProgressStyle {
    ProgressStyle::with_template(
        "{wide_bar:.cyan/blue} {pos}/{len} tests · {msg} · {elapsed} elapsed · {eta_left} left",
    )
    .expect("a valid template")
    .with_key("eta_left", eta_left)
    .progress_chars("━╸─")
}

impl Live {
    /// Bars for a run on `nodes`; `verbose` prints every step with its output.
    pub fn new(nodes: &[String], verbose: bool) -> Live {
        let multi = MultiProgress::new();
        let width = nodes.iter().map(|n| n.chars().count()).max().unwrap_or(0);
        let mut state = State::default();
        for name in nodes {
            let bar = multi.add(ProgressBar::new_spinner());
            bar.set_prefix(format!("{name:<width$}"));
            bar.enable_steady_tick(TICK);
            let line = NodeLine {
                bar,
                test: None,
                steps: Vec::new(),
                lost: None,
            };
            show(&line);
            state.nodes.insert(name.clone(), line);
        }
        let overall = multi.add(ProgressBar::new(0));
        overall.set_style(overall_style());
        overall.set_message(counts(&state));
        overall.enable_steady_tick(TICK);
        Live {
            multi,
            overall,
            state: Mutex::new(state),
            verbose,
        }
    }

    /// The bars, for printing around them.
    pub fn multi(&self) -> &MultiProgress {
        &self.multi
    }

    /// Takes every bar away.
    pub fn finish(&self) {
        let state = self.state.lock().unwrap_or_else(|e| e.into_inner());
        for line in state.nodes.values() {
            line.bar.finish_and_clear();
        }
        self.overall.finish_and_clear();
        let _ = self.multi.clear();
    }

    fn print(&self, text: &str) {
        let text = crate::secrets::text(text);
        let text = text.strip_suffix('\n').unwrap_or(&text);
        if !text.is_empty() {
            let _ = self.multi.println(text);
        }
    }
}

fn counts(s: &State) -> String {
    format!("{} PASS {} FAIL {} SKIP", s.pass, s.fail, s.skip)
}

/// Sets a node's line from its state.
fn show(line: &NodeLine) {
    if let Some(why) = &line.lost {
        line.bar.set_style(lost_style());
        line.bar.set_message(format!("lost: {why}"));
        return;
    }
    match &line.test {
        None => {
            line.bar.set_style(idle_style());
            line.bar.set_message("idle");
        }
        Some(test) => {
            line.bar.set_style(busy_style());
            let doing = if line.steps.is_empty() {
                "waiting".to_string()
            } else {
                line.steps.join(", ")
            };
            line.bar.set_message(format!("{test} · {doing}"));
        }
    }
}

impl Reporter for Live {
    fn event(&self, event: &Event) {
        let mut state = self.state.lock().unwrap_or_else(|e| e.into_inner());
        match event {
            Event::RunStarted { tests } => self.overall.set_length(*tests as u64),
            Event::TestStarted {
                suite, id, binding, ..
            } => {
                for node in binding.values() {
                    if let Some(line) = state.nodes.get_mut(node) {
                        line.test = Some(format!("{suite} test_{id}"));
                        line.steps.clear();
                        line.bar.reset_elapsed();
                        show(line);
                    }
                }
            }
            Event::StepStarted { node, step, .. } => {
                if let Some(line) = state.nodes.get_mut(node) {
                    if line.steps.is_empty() {
                        line.bar.reset_elapsed();
                    }
                    line.steps.push(step.clone());
                    show(line);
                }
            }
            Event::StepFinished { suite, id, record } => {
                if let Some(line) = state.nodes.get_mut(&record.node) {
                    if let Some(i) = line.steps.iter().position(|s| s == &record.name) {
                        line.steps.remove(i);
                    }
                    if let Some(f) = record
                        .failure
                        .as_ref()
                        .filter(|f| f.kind == FailureKind::Lost)
                    {
                        let why = f.message.lines().next().unwrap_or("").to_string();
                        line.lost = Some(
                            why.strip_prefix(&format!("node {} lost: ", record.node))
                                .map(str::to_string)
                                .unwrap_or(why),
                        );
                    }
                    show(line);
                }
                if self.verbose || record.status != Status::Pass {
                    let mut text = step_event(&format!("{suite} test_{id}"), record);
                    text.push('\n');
                    if self.verbose {
                        text.push_str(&step_output(record));
                    }
                    self.print(&text);
                }
            }
            Event::TestFinished { outcome } => {
                match outcome.status {
                    Status::Pass => state.pass += 1,
                    Status::Fail => state.fail += 1,
                    Status::Skip => state.skip += 1,
                }
                for node in outcome.binding.values() {
                    if let Some(line) = state.nodes.get_mut(node) {
                        line.test = None;
                        line.steps.clear();
                        show(line);
                    }
                }
                self.overall.inc(1);
                self.overall.set_message(counts(&state));
                self.print(&test_event(outcome));
            }
        }
    }
}
