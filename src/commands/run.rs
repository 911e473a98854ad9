//! `lutf run`: select tests, push the bundle, ask the nodes' facts and the tests' plans,
//! bind roles, run, write results after every test, print a summary, and exit with a code
//! that tells the truth (0 nothing failed, 1 a test failed, 2 usage or configuration
//! error, 130 interrupted).

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::io::Write as _;
use std::path::PathBuf;
use std::sync::Arc;

use anyhow::Context as _;
use tokio::sync::watch;

use crate::cli::{Global, RunArgs};
use crate::discovery::{self, SelectedSuite, Selection};
use crate::node::Node;
use crate::outcome::{NodeRecord, RunOutcome, Status, StepRecord, TestOutcome};
use crate::plan::{self, bind, describe_needs, NodeStatus};
use crate::protocol::{Facts, FailureKind, Op, StepPlan};
use crate::results::ResultsDir;
use crate::runner::{
    now_rfc3339, Event, NodeExecutor, PlannedSuite, PlannedTest, Reporter, RunConfig, Runner, Stop,
};

/// The SKIP reason of a test left out by `--except`.
pub const EXCLUDED_BY_EXCEPT: &str = "excluded by --except";

/// Exit code when a test failed.
pub const EXIT_FAILED: i32 = 1;
/// Exit code after SIGINT or SIGTERM.
pub const EXIT_INTERRUPTED: i32 = 130;

/// The suites folder and the suites and tests `selection` keeps. Errors are usage errors.
pub fn select_tests(
    global: &Global,
    selection: &Selection,
) -> anyhow::Result<(PathBuf, Vec<SelectedSuite>)> {
    let dir = discovery::suites_dir(global.suites.as_deref())?;
    let suites = discovery::discover(&dir)?;
    let selected = discovery::select(&dir, &suites, selection)?;
    Ok((dir, selected))
}

/// Runs `lutf run`.
pub async fn run(global: &Global, args: &RunArgs) -> anyhow::Result<i32> {
    let t0 = std::time::Instant::now();
    let started = now_rfc3339();
    let cluster = super::cluster(global)?;
    let selection = Selection::from_lists(&args.suite, &args.only, &args.except);
    let (dir, suites) = select_tests(global, &selection)?;
    let count: usize = suites.iter().map(|s| s.tests.len()).sum();
    if count == 0 {
        anyhow::bail!("no tests selected in {}", dir.display());
    }

    // The bundle holds the selected suites only, and goes to every node once.
    let dirs: Vec<PathBuf> = suites.iter().map(|s| s.dir.clone()).collect();
    let bundle = crate::bundle::Bundle::new(&dirs)?;
    let nodes = cluster.nodes();
    // Ctrl-C while deploying or planning: nothing ran, nothing to clean up on the nodes
    // (a bundle cut off mid-transfer is a `.tmp-*` folder that is never used and is pruned
    // by the next deployment), so stop at once with the interrupted code.
    let mut interrupt = std::pin::pin!(interrupted());
    let statuses = tokio::select! {
        s = prepare_nodes(&nodes, &bundle) => s,
        _ = &mut interrupt => return Ok(interrupted_in_setup()),
    };
    let down: Vec<&NodeStatus> = statuses.iter().filter(|n| n.down.is_some()).collect();
    if !down.is_empty() {
        for n in &down {
            eprintln!(
                "lutf: node {} {}",
                n.name,
                n.down.as_deref().unwrap_or_default()
            );
        }
        if !args.allow_missing {
            anyhow::bail!(
                "{} of {} nodes cannot be used; fix them or pass --allow-missing to run without them",
                down.len(),
                statuses.len()
            );
        }
    }
    let Some(first) = statuses
        .iter()
        .position(|n| n.down.is_none())
        .map(|i| &nodes[i])
    else {
        anyhow::bail!("no node can be used");
    };

    let tests: Vec<_> = suites
        .iter()
        .flat_map(|s| s.tests.iter().map(|t| t.test.clone()))
        .collect();
    let mut plans = tokio::select! {
        p = plan::fetch_plans(first, &tests) => p.into_iter(),
        _ = &mut interrupt => return Ok(interrupted_in_setup()),
    };
    let planned: Vec<PlannedSuite> = suites
        .iter()
        .map(|s| PlannedSuite {
            name: s.name.clone(),
            tests: s
                .tests
                .iter()
                .map(|t| PlannedTest {
                    test: t.test.clone(),
                    excluded: t.excepted.then(|| EXCLUDED_BY_EXCEPT.to_string()),
                    plan: plans.next().expect("one plan per test"),
                })
                .collect(),
        })
        .collect();

    if args.dry_run {
        print!("{}", dry_run(&planned, &statuses));
        return Ok(0);
    }

    let mut run = RunOutcome {
        id: run_id(),
        started,
        finished: String::new(),
        // Setting up (deploying, facts, plans) is part of the run's time.
        duration: t0.elapsed().as_secs_f64(),
        testhost: hostname(),
        user: user_name(),
        cluster: match (&global.cluster, &global.nodes) {
            (Some(f), _) => f.display().to_string(),
            (None, Some(list)) => list.clone(),
            (None, None) => crate::cluster::LOCAL.to_string(),
        },
        nodes: statuses
            .iter()
            .map(|n| {
                (
                    n.name.clone(),
                    NodeRecord {
                        name: n.name.clone(),
                        hostname: n
                            .facts
                            .as_ref()
                            .map_or_else(|| n.name.clone(), |f| f.hostname.clone()),
                        facts: n.facts.clone(),
                        error: n.down.clone(),
                    },
                )
            })
            .collect(),
        suites: Vec::new(),
        interrupted: false,
    };
    let mut results = ResultsDir::create(&args.results, &run).with_context(|| {
        format!(
            "cannot create a results folder under {}",
            args.results.display()
        )
    })?;

    let (tx, rx) = watch::channel(false);
    let signals = tokio::spawn(watch_signals(tx));
    let config = RunConfig {
        timeout: args.timeout,
        params: args.params.iter().cloned().collect::<BTreeMap<_, _>>(),
        fail_fast: args.fail_fast,
        repeat: args.repeat,
        output_limit: None,
    };
    let reporter = Arc::new(Lines {
        quiet: global.quiet,
        verbose: global.verbose > 0,
    });
    let mut runner = Runner::new(
        Arc::new(NodeExecutor::new(&nodes)),
        statuses,
        config,
        reporter,
        rx,
    );
    let end = runner
        .run(&planned, &mut run, |run| {
            if let Err(e) = results.record(run) {
                eprintln!("lutf: warning: writing results failed: {e}");
            }
        })
        .await;
    signals.abort();
    // Nodes lost during the run say so in the results.
    for n in runner.nodes() {
        if let (Some(why), Some(record)) = (&n.down, run.nodes.get_mut(&n.name)) {
            record.error.get_or_insert_with(|| why.clone());
        }
    }
    run.finished = now_rfc3339();
    if let Err(e) = results.record(&run) {
        eprintln!("lutf: warning: writing results failed: {e}");
    }

    eprint!(
        "{}",
        summary(&run, end.not_run, end.stopped, results.path())
    );
    Ok(if run.interrupted {
        EXIT_INTERRUPTED
    } else if run.count(Status::Fail) > 0 {
        EXIT_FAILED
    } else {
        0
    })
}

/// Deploys the bundle on every node and asks its facts, all nodes at once. A node that
/// fails either is marked down with the reason.
pub async fn prepare_nodes(nodes: &[Node], bundle: &crate::bundle::Bundle) -> Vec<NodeStatus> {
    let tasks: Vec<_> = nodes
        .iter()
        .map(|n| {
            let (n, b) = (n.clone(), bundle.clone());
            tokio::spawn(async move {
                let d = n.deploy(&b).await?;
                tracing::info!(node = %n.name, dir = %d.dir, bytes = d.bytes_sent, "bundle deployed");
                n.call::<Facts>(Op::Facts).await
            })
        })
        .collect();
    let mut out = Vec::new();
    for (node, task) in nodes.iter().zip(tasks) {
        let (facts, down) = match task.await {
            Ok(Ok(f)) => (Some(f), None),
            Ok(Err(crate::node::CallError::Transport {
                source: crate::transport::TransportError::Unreachable(why),
                ..
            })) => (None, Some(format!("unreachable: {why}"))),
            Ok(Err(e)) => (
                None,
                Some(format!("unusable: {}", strip_node(&e.to_string()))),
            ),
            Err(e) => (None, Some(format!("unreachable: {e}"))),
        };
        out.push(NodeStatus {
            name: node.name.clone(),
            roles: node.roles.clone(),
            facts,
            down,
        });
    }
    out
}

/// Call errors start with "node NAME: "; the caller names the node already.
fn strip_node(s: &str) -> &str {
    s.strip_prefix("node ")
        .and_then(|r| r.split_once(": "))
        .map_or(s, |(_, rest)| rest)
}

/// Resolves on the first SIGINT or SIGTERM (never, when they cannot be watched).
async fn interrupted() {
    use tokio::signal::unix::{signal, SignalKind};
    match (
        signal(SignalKind::interrupt()),
        signal(SignalKind::terminate()),
    ) {
        (Ok(mut int), Ok(mut term)) => {
            tokio::select! {
                _ = int.recv() => {}
                _ = term.recv() => {}
            }
        }
        _ => std::future::pending().await,
    }
}

/// Says that the run stopped before any test ran; the exit code for it.
fn interrupted_in_setup() -> i32 {
    eprintln!("lutf: interrupted while setting up the nodes: no test was run");
    EXIT_INTERRUPTED
}

/// Waits for SIGINT or SIGTERM: the first asks the run to stop cleanly, the second quits
/// at once.
pub async fn watch_signals(tx: watch::Sender<bool>) {
    use tokio::signal::unix::{signal, SignalKind};
    let (Ok(mut int), Ok(mut term)) = (
        signal(SignalKind::interrupt()),
        signal(SignalKind::terminate()),
    ) else {
        tracing::warn!("cannot watch for signals; Ctrl-C will stop lutf without cleanup");
        return;
    };
    let mut seen = 0;
    loop {
        tokio::select! {
            _ = int.recv() => {}
            _ = term.recv() => {}
        }
        seen += 1;
        if seen == 1 {
            eprintln!("lutf: interrupted: stopping the running steps, then cleanup (again to quit at once)");
            let _ = tx.send(true);
        } else {
            eprintln!("lutf: interrupted again: quitting");
            std::process::exit(EXIT_INTERRUPTED);
        }
    }
}

/// A short unique id for the run: 8 hex digits from the time and the process id.
pub fn run_id() -> String {
    use sha2::{Digest, Sha256};
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap_or_default();
    let mut h = Sha256::new();
    h.update(now.as_nanos().to_le_bytes());
    h.update(std::process::id().to_le_bytes());
    h.finalize()[..4]
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

/// The name of the user running lutf: `$USER`, else `$LOGNAME`, else the password
/// database's name for the uid, else the uid.
fn user_name() -> String {
    for var in ["USER", "LOGNAME"] {
        if let Ok(u) = std::env::var(var) {
            if !u.is_empty() {
                return u;
            }
        }
    }
    // SAFETY: getuid cannot fail; getpwuid_r writes only into the buffers given, and the
    // name is read only when it reports success.
    unsafe {
        let uid = libc::getuid();
        let mut pw: libc::passwd = std::mem::zeroed();
        let mut buf = vec![0 as libc::c_char; 4096];
        let mut out: *mut libc::passwd = std::ptr::null_mut();
        if libc::getpwuid_r(uid, &mut pw, buf.as_mut_ptr(), buf.len(), &mut out) == 0
            && !out.is_null()
            && !pw.pw_name.is_null()
        {
            return std::ffi::CStr::from_ptr(pw.pw_name)
                .to_string_lossy()
                .into_owned();
        }
        uid.to_string()
    }
}

/// This machine's hostname.
pub fn hostname() -> String {
    let mut buf = [0u8; 256];
    // SAFETY: the buffer is valid for its length; gethostname writes at most that much.
    let rc = unsafe { libc::gethostname(buf.as_mut_ptr().cast(), buf.len()) };
    if rc != 0 {
        return "localhost".into();
    }
    let end = buf.iter().position(|&b| b == 0).unwrap_or(buf.len());
    String::from_utf8_lossy(&buf[..end]).into_owned()
}

/// `--dry-run`: each test's plan and binding, or why it would not run.
pub fn dry_run(suites: &[PlannedSuite], nodes: &[NodeStatus]) -> String {
    let mut o = String::new();
    for suite in suites {
        for t in &suite.tests {
            let name = format!("{} {}", suite.name, t.test.name());
            let plan = match &t.plan {
                Err(e) => {
                    let _ = writeln!(o, "{name}: would FAIL: {}", e.message);
                    continue;
                }
                Ok(p) => p,
            };
            let _ = writeln!(o, "{name}: {}", plan.description);
            let _ = writeln!(o, "  needs: {}", describe_needs(&plan.needs));
            if let Some(why) = &t.excluded {
                let _ = writeln!(o, "  would SKIP: {why}");
                continue;
            }
            let binding = match bind(&plan.needs, nodes) {
                Err(reason) => {
                    let _ = writeln!(o, "  would SKIP: {reason}");
                    continue;
                }
                Ok(b) => b,
            };
            let pairs: Vec<String> = plan
                .needs
                .roles
                .iter()
                .map(|r| format!("{r} -> {}", binding[r]))
                .collect();
            let _ = writeln!(o, "  binding: {}", pairs.join(", "));
            let _ = writeln!(o, "  steps:");
            for s in &plan.steps {
                let _ = writeln!(o, "    {}", step_line(s, &binding[&s.role]));
            }
        }
    }
    o
}

fn step_line(s: &StepPlan, node: &str) -> String {
    let mut l = format!("{} on {} ({node})", s.name, s.role);
    if !s.after.is_empty() {
        let _ = write!(l, ", after {}", s.after.join(", "));
    }
    if let Some(t) = s.timeout {
        let _ = write!(l, ", timeout {t} s");
    }
    if s.background {
        l.push_str(", background");
    }
    if !s.stops.is_empty() {
        let _ = write!(l, ", stops {}", s.stops.join(", "));
    }
    if s.cleanup {
        l.push_str(", cleanup");
    }
    l
}

/// Seconds for people: `0.25 s`, `12.3 s`, `2 min 5 s`.
fn secs(d: f64) -> String {
    if d < 10.0 {
        format!("{d:.2} s")
    } else if d < 120.0 {
        format!("{d:.1} s")
    } else {
        format!("{} min {} s", (d / 60.0) as u64, (d % 60.0) as u64)
    }
}

fn first_line(s: &str) -> &str {
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

fn step_event(test: &str, r: &StepRecord) -> String {
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

fn test_event(t: &TestOutcome) -> String {
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
            if self.verbose && !record.log.data.is_empty() {
                for l in record.log.data.to_string_lossy().lines() {
                    let _ = writeln!(text, "    | {l}");
                }
            }
        }
        // One write per event, so lines from concurrent steps do not interleave.
        let _ = std::io::stderr().lock().write_all(text.as_bytes());
    }
}

/// The end-of-run summary: the results writer's (counts, duration, failures with their
/// reasons, the files), with the tests a stopped run did not get to.
pub fn summary(
    run: &RunOutcome,
    not_run: usize,
    stopped: Option<Stop>,
    folder: &std::path::Path,
) -> String {
    let text = crate::results::summary::render(run, Some(folder));
    let note = match (not_run, stopped) {
        (0, _) => return format!("\n{text}"),
        (_, Some(Stop::FailFast)) => "stopped after the first failure (--fail-fast)",
        (_, Some(Stop::Interrupted)) => "the run was interrupted",
        (_, None) => "the run stopped early",
    };
    let line = format!(
        "not run: {not_run} test{}: {note}\n",
        if not_run == 1 { "" } else { "s" }
    );
    match text.find("\nresults: ") {
        Some(i) => format!("\n{}\n{line}{}", &text[..i], &text[i + 1..]),
        None => format!("\n{text}{line}"),
    }
}
