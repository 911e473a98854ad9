//! `report.html`: the run for people, one self-contained file (inline CSS and SVG, no
//! script, no font, nothing fetched) that opens in any browser.
//!
//! It shows the summary (counts, duration, when, which cluster, the nodes), failures first,
//! a table per suite (test, description, status, duration, reason), per test its steps
//! (node, duration, outcome, error or traceback, links to its log files) and timelines as
//! inline SVG: one lane per node, each step a bar from its start to its end coloured by its
//! outcome, for the whole run and for each test, so that parallel steps show as bars one
//! above the other and long steps as long bars.
//!
//! The page is `templates/report.html.tera`, each timeline `templates/timeline.svg.tera`,
//! both embedded in the binary. This module computes everything (geometry included) and
//! the templates only lay it out; tera escapes every value.

use std::collections::BTreeMap;

use serde::Serialize;

use super::logs::{
    kind_name, label_of, node_log_files, outcome_word, test_log_files, test_log_name,
};
use super::{human_duration, parse_time, ResultsError, REPORT_HTML};
use crate::outcome::{RunOutcome, Status, StepRecord, TestOutcome};
use crate::protocol::FailureKind;

const REPORT_TEMPLATE: &str = include_str!("../../templates/report.html.tera");
const TIMELINE_TEMPLATE: &str = include_str!("../../templates/timeline.svg.tera");

/// The whole `report.html` of a run.
pub fn render(run: &RunOutcome, labels: &BTreeMap<String, String>) -> Result<String, ResultsError> {
    let mut tera = tera::Tera::default();
    tera.autoescape_on(vec![".html", ".svg"]);
    let err = |e: tera::Error| ResultsError::Template {
        file: REPORT_HTML.to_string(),
        message: error_chain(&e),
    };
    tera.add_raw_template("report.html", REPORT_TEMPLATE)
        .map_err(err)?;
    tera.add_raw_template("timeline.svg", TIMELINE_TEMPLATE)
        .map_err(err)?;
    let svg = |t: &Timeline| -> Result<String, ResultsError> {
        let ctx = tera::Context::from_serialize(t).map_err(err)?;
        tera.render("timeline.svg", &ctx).map_err(err)
    };
    let mut page = page(run, labels);
    page.run_timeline_svg = svg(&run_timeline(run))?;
    for s in &mut page.suites {
        for t in &mut s.tests {
            if let Some(tl) = &t.timeline {
                t.timeline_svg = svg(tl)?;
            }
        }
    }
    let ctx = tera::Context::from_serialize(&page).map_err(err)?;
    tera.render("report.html", &ctx).map_err(err)
}

/// Tera's error with its causes, which hold the useful part.
fn error_chain(e: &tera::Error) -> String {
    let mut msg = e.to_string();
    let mut source = std::error::Error::source(e);
    while let Some(s) = source {
        msg.push_str(": ");
        msg.push_str(&s.to_string());
        source = s.source();
    }
    msg
}

#[derive(Serialize)]
struct Page {
    run_id: String,
    started: String,
    finished: String,
    running: bool,
    interrupted: bool,
    duration: String,
    cluster: String,
    testhost: String,
    user: String,
    total: usize,
    pass: usize,
    fail: usize,
    skip: usize,
    status_class: &'static str,
    nodes: Vec<NodeRow>,
    failed: Vec<FailedRow>,
    suites: Vec<SuiteView>,
    version: &'static str,
    /// The rendered run timeline (trusted SVG, inserted unescaped).
    run_timeline_svg: String,
}

#[derive(Serialize)]
struct NodeRow {
    name: String,
    hostname: String,
    file: String,
    os: String,
    kernel: String,
    arch: String,
    lnet: String,
    error: String,
}

#[derive(Serialize)]
struct FailedRow {
    anchor: String,
    suite: String,
    name: String,
    reason: String,
}

#[derive(Serialize)]
struct SuiteView {
    name: String,
    status: &'static str,
    class: &'static str,
    duration: String,
    counts: String,
    tests: Vec<TestView>,
}

#[derive(Serialize)]
struct TestView {
    anchor: String,
    name: String,
    description: String,
    status: &'static str,
    class: &'static str,
    duration: String,
    reason: String,
    error: String,
    repeat: u32,
    started: String,
    binding: Vec<RoleNode>,
    logs: Vec<LogLink>,
    steps: Vec<StepView>,
    #[serde(skip)]
    timeline: Option<Timeline>,
    /// The rendered test timeline (trusted SVG, inserted unescaped); empty when no step ran.
    timeline_svg: String,
}

#[derive(Serialize)]
struct RoleNode {
    role: String,
    node: String,
}

#[derive(Serialize)]
struct LogLink {
    node: String,
    file: String,
}

#[derive(Serialize)]
struct StepView {
    name: String,
    role: String,
    node: String,
    flags: String,
    start: String,
    duration: String,
    outcome: String,
    class: &'static str,
    message: String,
    traceback: String,
    value: String,
    log: String,
    log_file: String,
}

fn status_class(s: Status) -> &'static str {
    match s {
        Status::Pass => "pass",
        Status::Fail => "fail",
        Status::Skip => "skip",
    }
}

fn step_class(step: &StepRecord) -> &'static str {
    match &step.failure {
        Some(f) if f.kind == FailureKind::NotRun => "notrun",
        _ => status_class(step.status),
    }
}

/// `samples-test_01`, or `samples-test_01-r2` for a repetition: a unique HTML id.
fn anchor(test: &TestOutcome) -> String {
    let mut a = format!("{}-{}", test.suite, test.name());
    if test.repeat > 1 {
        a.push_str(&format!("-r{}", test.repeat));
    }
    a.chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || c == '-' || c == '_' {
                c
            } else {
                '_'
            }
        })
        .collect()
}

fn when(rfc3339: &str) -> String {
    match parse_time(rfc3339) {
        Some(t) => t.format("%Y-%m-%d %H:%M:%S UTC").to_string(),
        None => rfc3339.to_string(),
    }
}

fn page(run: &RunOutcome, labels: &BTreeMap<String, String>) -> Page {
    let nodes = run
        .nodes
        .values()
        .map(|n| {
            let label = labels.get(&n.name).cloned().unwrap_or_default();
            let f = n.facts.as_ref();
            NodeRow {
                name: n.name.clone(),
                hostname: f
                    .map(|f| f.hostname.clone())
                    .unwrap_or_else(|| n.hostname.clone()),
                file: super::nodes::file_name(&label),
                os: f.map(|f| f.os.pretty_name.clone()).unwrap_or_default(),
                kernel: f.map(|f| f.kernel.clone()).unwrap_or_default(),
                arch: f.map(|f| f.arch.clone()).unwrap_or_default(),
                lnet: f.map(|f| f.lnet.describe()).unwrap_or_default(),
                error: n.error.clone().unwrap_or_default(),
            }
        })
        .collect();
    let failed = run
        .tests()
        .filter(|t| t.status == Status::Fail)
        .map(|t| FailedRow {
            anchor: anchor(t),
            suite: t.suite.clone(),
            name: t.name(),
            reason: t.error.lines().next().unwrap_or("").to_string(),
        })
        .collect();
    let suites = run
        .suites
        .iter()
        .map(|s| {
            let c = |st| s.tests.iter().filter(|t| t.status == st).count();
            SuiteView {
                name: s.name.clone(),
                status: s.status().as_str(),
                class: status_class(s.status()),
                duration: human_duration(s.duration),
                counts: format!(
                    "{} tests: {} PASS, {} FAIL, {} SKIP",
                    s.tests.len(),
                    c(Status::Pass),
                    c(Status::Fail),
                    c(Status::Skip)
                ),
                tests: s.tests.iter().map(|t| test_view(run, t, labels)).collect(),
            }
        })
        .collect();
    let fail = run.count(Status::Fail);
    let pass = run.count(Status::Pass);
    Page {
        run_id: run.id.clone(),
        started: when(&run.started),
        finished: when(&run.finished),
        running: run.finished.is_empty(),
        interrupted: run.interrupted,
        duration: human_duration(run.duration),
        cluster: run.cluster.clone(),
        testhost: run.testhost.clone(),
        user: run.user.clone(),
        total: run.tests().count(),
        pass,
        fail,
        skip: run.count(Status::Skip),
        status_class: if fail > 0 || run.interrupted {
            "fail"
        } else if pass > 0 {
            "pass"
        } else {
            "skip"
        },
        nodes,
        failed,
        suites,
        version: env!("CARGO_PKG_VERSION"),
        run_timeline_svg: String::new(),
    }
}

fn test_view(run: &RunOutcome, t: &TestOutcome, labels: &BTreeMap<String, String>) -> TestView {
    let steps = t
        .steps
        .iter()
        .map(|s| {
            let (message, traceback) = match &s.failure {
                Some(f) => (f.message.clone(), f.traceback.clone().unwrap_or_default()),
                None => Default::default(),
            };
            let mut flags = Vec::new();
            if s.background {
                flags.push("background");
            }
            if s.cleanup {
                flags.push("cleanup");
            }
            let node = if s.node.is_empty() {
                t.binding.get(&s.role).cloned()
            } else {
                Some(s.node.clone())
            };
            let log_file = node
                .as_deref()
                .map(|n| test_log_name(&t.suite, &t.id, &label_of(run, labels, Some(n))))
                .unwrap_or_default();
            let mut log = s.log.data.to_string_lossy();
            if s.log.dropped > 0 {
                log.push_str(&format!("\n[{} bytes of output left out]", s.log.dropped));
            }
            StepView {
                name: s.name.clone(),
                role: s.role.clone(),
                node: s.node.clone(),
                flags: flags.join(", "),
                start: if s.node.is_empty() {
                    String::new()
                } else {
                    format!("+{}", human_duration(s.start))
                },
                duration: if s.node.is_empty() {
                    String::new()
                } else {
                    human_duration(s.duration)
                },
                outcome: match &s.failure {
                    Some(f) if s.status == Status::Fail => {
                        format!("FAIL ({})", kind_name(f.kind))
                    }
                    _ => outcome_word(s),
                },
                class: step_class(s),
                message,
                traceback,
                value: match (s.value_text(), &s.large_value) {
                    (Some(mut text), large) if text.len() > 400 => {
                        let cut = (0..=400)
                            .rev()
                            .find(|&i| text.is_char_boundary(i))
                            .unwrap_or(0);
                        text.truncate(cut);
                        text.push('…');
                        if let Some(l) = large {
                            text.push_str(&format!(" ({} bytes of JSON)", l.bytes));
                        }
                        text
                    }
                    (Some(text), _) => text,
                    (None, _) => String::new(),
                },
                log,
                log_file,
            }
        })
        .collect();
    TestView {
        anchor: anchor(t),
        name: t.name(),
        description: t.description.clone(),
        status: t.status.as_str(),
        class: status_class(t.status),
        duration: human_duration(t.duration),
        reason: t.error.lines().next().unwrap_or("").to_string(),
        error: t.error.clone(),
        repeat: t.repeat,
        started: when(&t.started),
        binding: t
            .binding
            .iter()
            .map(|(role, node)| RoleNode {
                role: role.clone(),
                node: node.clone(),
            })
            .collect(),
        logs: test_log_files(run, t, labels)
            .into_iter()
            .map(|(n, file)| LogLink {
                node: n.unwrap_or_else(|| run.testhost.clone()),
                file,
            })
            .chain(
                node_log_files(run, t, labels)
                    .into_iter()
                    .map(|(node, kind, file, _)| LogLink {
                        node: format!("{node} {kind}"),
                        file,
                    }),
            )
            .collect(),
        steps,
        timeline: test_timeline(t),
        timeline_svg: String::new(),
    }
}

/// A timeline picture, laid out: every coordinate in SVG user units.
#[derive(Debug, Clone, Serialize)]
pub struct Timeline {
    /// Total width.
    pub width: f64,
    /// Total height.
    pub height: f64,
    /// Where the plot starts (left of it: the lane names).
    pub plot_x: f64,
    /// Where the plot ends.
    pub plot_end: f64,
    /// Top of the first lane (above it: the time axis).
    pub top: f64,
    /// One per node.
    pub lanes: Vec<Lane>,
    /// One per step that ran.
    pub bars: Vec<Bar>,
    /// Time axis marks.
    pub ticks: Vec<Tick>,
    /// Test boundaries (run timeline only).
    pub marks: Vec<Tick>,
    /// What the picture shows, for screen readers.
    pub title: String,
}

/// A node's lane.
#[derive(Debug, Clone, Serialize)]
pub struct Lane {
    /// The node's name.
    pub name: String,
    /// Top.
    pub y: f64,
    /// Height.
    pub h: f64,
    /// Baseline of its name.
    pub text_y: f64,
    /// Every other lane is shaded.
    pub shaded: bool,
}

/// A step's bar.
#[derive(Debug, Clone, Serialize)]
pub struct Bar {
    /// Left.
    pub x: f64,
    /// Top.
    pub y: f64,
    /// Width (at least 2, so that short steps show).
    pub w: f64,
    /// Height.
    pub h: f64,
    /// `pass`, `fail`, `skip`, `notrun`, plus ` background`.
    pub class: String,
    /// Tooltip: test, step, node, outcome, times.
    pub title: String,
}

/// A vertical mark with a label.
#[derive(Debug, Clone, Serialize)]
pub struct Tick {
    /// Where.
    pub x: f64,
    /// What.
    pub label: String,
}

struct Span {
    lane: String,
    start: f64,
    end: f64,
    class: String,
    title: String,
}

const LABEL_W: f64 = 160.0;
const PLOT_W: f64 = 960.0;
const AXIS_H: f64 = 24.0;
const ROW_H: f64 = 14.0;
const ROW_GAP: f64 = 4.0;
const LANE_PAD: f64 = 6.0;

fn span_of(step: &StepRecord, offset: f64, what: &str) -> Option<Span> {
    if step.node.is_empty() {
        return None;
    }
    let start = offset + step.start.max(0.0);
    let end = start + step.duration.max(0.0);
    let mut class = step_class(step).to_string();
    if step.background {
        class.push_str(" background");
    }
    Some(Span {
        lane: step.node.clone(),
        start,
        end,
        class,
        title: format!(
            "{what} step {} on {}: {} — from +{} to +{} ({})",
            step.name,
            step.node,
            outcome_word(step),
            human_duration(start),
            human_duration(end),
            human_duration(step.duration)
        ),
    })
}

/// The whole run: every step of every test at its time since the run's start.
fn run_timeline(run: &RunOutcome) -> Timeline {
    let run_start = parse_time(&run.started);
    let mut cursor = 0.0;
    let mut spans = Vec::new();
    let mut marks = Vec::new();
    for test in run.tests() {
        let offset = match (run_start, parse_time(&test.started)) {
            (Some(r), Some(t)) => (t - r).num_milliseconds() as f64 / 1000.0,
            _ => cursor,
        }
        .max(0.0);
        cursor = offset + test.duration.max(0.0);
        let what = format!("{} {}", test.suite, test.name());
        if !test.steps.iter().all(|s| s.node.is_empty()) {
            marks.push((offset, what.clone()));
        }
        spans.extend(test.steps.iter().filter_map(|s| span_of(s, offset, &what)));
    }
    let lanes: Vec<String> = run.nodes.keys().cloned().collect();
    layout(
        spans,
        lanes,
        run.duration.max(cursor),
        marks,
        format!(
            "Timeline of run {}: one lane per node, one bar per step",
            run.id
        ),
    )
}

/// One test: its steps at their time since the test's start. None when no step ran.
fn test_timeline(test: &TestOutcome) -> Option<Timeline> {
    let what = format!("{} {}", test.suite, test.name());
    let spans: Vec<Span> = test
        .steps
        .iter()
        .filter_map(|s| span_of(s, 0.0, &what))
        .collect();
    if spans.is_empty() {
        return None;
    }
    let mut lanes: Vec<String> = test.binding.values().cloned().collect();
    lanes.sort();
    lanes.dedup();
    Some(layout(
        spans,
        lanes,
        test.duration,
        Vec::new(),
        format!("Timeline of {what}: one lane per node, one bar per step"),
    ))
}

/// Lays spans out in lanes: within a lane, a span goes on the first row that is free at
/// its start, so overlapping steps on one node stack instead of hiding each other.
fn layout(
    spans: Vec<Span>,
    mut lanes: Vec<String>,
    total: f64,
    marks: Vec<(f64, String)>,
    title: String,
) -> Timeline {
    for s in &spans {
        if !lanes.contains(&s.lane) {
            lanes.push(s.lane.clone());
        }
    }
    let total = spans
        .iter()
        .map(|s| s.end)
        .fold(if total.is_finite() { total } else { 0.0 }, f64::max)
        .max(0.001);
    let scale = PLOT_W / total;
    // Rows per lane: each row remembers where its last span ends.
    let mut rows: BTreeMap<&str, Vec<f64>> = BTreeMap::new();
    let mut placed: Vec<(usize, &Span)> = Vec::new();
    let mut order: Vec<&Span> = spans.iter().collect();
    order.sort_by(|a, b| a.start.total_cmp(&b.start));
    for s in order {
        let lane_rows = rows.entry(s.lane.as_str()).or_default();
        // Bars shorter than 2 units are drawn 2 wide: keep a row free for that too.
        let drawn_end = s.end.max(s.start + 2.0 / scale);
        let row = match lane_rows.iter().position(|&end| end <= s.start) {
            Some(r) => {
                lane_rows[r] = drawn_end;
                r
            }
            None => {
                lane_rows.push(drawn_end);
                lane_rows.len() - 1
            }
        };
        placed.push((row, s));
    }
    let mut y = AXIS_H;
    let mut lane_views = Vec::new();
    let mut lane_top: BTreeMap<&str, f64> = BTreeMap::new();
    for (i, name) in lanes.iter().enumerate() {
        let n = rows.get(name.as_str()).map_or(1, |r| r.len().max(1)) as f64;
        let h = LANE_PAD * 2.0 + n * ROW_H + (n - 1.0) * ROW_GAP;
        lane_top.insert(name.as_str(), y);
        lane_views.push(Lane {
            name: name.clone(),
            y,
            h,
            text_y: y + h / 2.0 + 4.0,
            shaded: i % 2 == 0,
        });
        y += h;
    }
    let bars = placed
        .into_iter()
        .map(|(row, s)| Bar {
            x: round(LABEL_W + s.start * scale),
            y: round(lane_top[s.lane.as_str()] + LANE_PAD + row as f64 * (ROW_H + ROW_GAP)),
            w: round(((s.end - s.start) * scale).max(2.0)),
            h: ROW_H,
            class: s.class.clone(),
            title: s.title.clone(),
        })
        .collect();
    let step = nice_step(total / 8.0);
    let ticks = (0..)
        .map(|i| i as f64 * step)
        .take_while(|t| *t <= total + 1e-9)
        .map(|t| Tick {
            x: round(LABEL_W + t * scale),
            label: tick_label(t, step),
        })
        .collect();
    Timeline {
        width: LABEL_W + PLOT_W + 20.0,
        height: y + 4.0,
        plot_x: LABEL_W,
        plot_end: LABEL_W + PLOT_W,
        top: AXIS_H,
        lanes: lane_views,
        bars,
        ticks,
        marks: marks
            .into_iter()
            .map(|(t, label)| Tick {
                x: round(LABEL_W + t * scale),
                label,
            })
            .collect(),
        title,
    }
}

fn round(v: f64) -> f64 {
    (v * 10.0).round() / 10.0
}

/// The smallest of 1, 2, 5 × 10ⁿ seconds that is at least `raw`.
fn nice_step(raw: f64) -> f64 {
    let raw = raw.max(0.001);
    let pow = 10f64.powf(raw.log10().floor());
    [1.0, 2.0, 5.0, 10.0]
        .into_iter()
        .map(|m| m * pow)
        .find(|s| *s >= raw - 1e-12)
        .unwrap_or(10.0 * pow)
}

fn tick_label(t: f64, step: f64) -> String {
    if step < 1.0 {
        let decimals = (-step.log10().floor()) as usize;
        format!("{t:.decimals$}s")
    } else if t < 60.0 || step < 60.0 && t < 600.0 {
        format!("{}s", t.round())
    } else if t < 3600.0 {
        let s = t.round() as u64;
        format!("{}m{:02}", s / 60, s % 60)
    } else {
        let m = (t / 60.0).round() as u64;
        format!("{}h{:02}", m / 60, m % 60)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn nice_steps() {
        assert_eq!(nice_step(0.7), 1.0);
        assert_eq!(nice_step(1.2), 2.0);
        assert_eq!(nice_step(3.0), 5.0);
        assert_eq!(nice_step(12.0), 20.0);
        assert!((nice_step(0.03) - 0.05).abs() < 1e-12);
    }

    #[test]
    fn overlapping_spans_stack_in_one_lane() {
        let span = |start: f64, end: f64| Span {
            lane: "n1".into(),
            start,
            end,
            class: "pass".into(),
            title: String::new(),
        };
        let t = layout(
            vec![span(0.0, 5.0), span(1.0, 3.0), span(6.0, 8.0)],
            vec!["n1".into(), "n2".into()],
            10.0,
            Vec::new(),
            String::new(),
        );
        assert_eq!(t.lanes.len(), 2);
        let ys: Vec<f64> = t.bars.iter().map(|b| b.y).collect();
        assert_eq!(ys[0], ys[2], "a later step reuses the first row");
        assert!(ys[1] > ys[0], "the overlapping step goes on a second row");
        assert_eq!(t.bars[0].x, LABEL_W);
        assert_eq!(t.bars[0].w, PLOT_W / 2.0);
    }
}
