//! `lutf run`: select tests, push the bundle, ask the nodes' facts and the tests' plans,
//! bind roles, run, write results after every test, print a summary, and exit with a code
//! that tells the truth (0 nothing failed, 1 a test failed, 2 usage or configuration
//! error, 130 interrupted).

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::path::PathBuf;
use std::sync::Arc;

use anyhow::Context as _;
use tokio::sync::watch;

use crate::cli::{Global, RunArgs};
use crate::discovery::{self, SelectedSuite, Selection};
use crate::node::Node;
use crate::outcome::{NodeRecord, RunOutcome, Status};
use crate::plan::{self, bind, describe_needs, NodeStatus};
use crate::protocol::{Facts, Op, StepPlan};
use crate::reporter::{self, Display};
use crate::results::{ResultsDir, SharedResults};
use crate::runner::{
    now_rfc3339, NodeExecutor, PlannedSuite, PlannedTest, RunConfig, Runner, Stop,
};

pub use crate::reporter::Lines;

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

/// What `--rerun-failed` found in the latest run.
pub enum Rerun {
    /// The suites folder and the failed tests, as a selection.
    Tests(PathBuf, Vec<SelectedSuite>),
    /// No test failed: the message saying so.
    NoneFailed(String),
}

/// The tests that failed in `<results>/latest`, selected from the suites folder. No
/// latest run, or a failed test that no longer exists, is an error.
pub fn select_failed(global: &Global, results: &std::path::Path) -> anyhow::Result<Rerun> {
    let latest = results.join(crate::results::LATEST);
    if !latest.exists() {
        anyhow::bail!(
            "--rerun-failed: no previous run under {} ({} does not exist); run some tests first, \
             or name their results root with --results",
            results.display(),
            latest.display()
        );
    }
    let last = crate::results::load_run(&latest)
        .with_context(|| format!("--rerun-failed: reading the run in {}", latest.display()))?;
    let mut failed: Vec<(String, String)> = Vec::new();
    for t in last.tests().filter(|t| t.status == Status::Fail) {
        let key = (t.suite.clone(), t.id.clone());
        if !failed.contains(&key) {
            failed.push(key);
        }
    }
    if failed.is_empty() {
        return Ok(Rerun::NoneFailed(format!(
            "no test failed in run {} ({}): nothing to rerun",
            last.id,
            latest.display()
        )));
    }
    let mut suites: Vec<String> = Vec::new();
    for (s, _) in &failed {
        if !suites.contains(s) {
            suites.push(s.clone());
        }
    }
    let mut ids: Vec<String> = failed.iter().map(|(_, i)| i.clone()).collect();
    ids.sort();
    ids.dedup();
    let selection = Selection {
        suites,
        only: ids,
        except: Vec::new(),
    };
    let (dir, mut selected) = select_tests(global, &selection).with_context(|| {
        format!(
            "--rerun-failed: the failed tests of run {} ({})",
            last.id,
            latest.display()
        )
    })?;
    // `--only` ids apply to every suite chosen: keep each suite's own failures only.
    for s in &mut selected {
        s.tests
            .retain(|t| failed.contains(&(s.name.clone(), t.test.id.clone())));
    }
    selected.retain(|s| !s.tests.is_empty());
    Ok(Rerun::Tests(dir, selected))
}

/// Runs `lutf run`.
pub async fn run(global: &Global, args: &RunArgs) -> anyhow::Result<i32> {
    let t0 = std::time::Instant::now();
    let started = now_rfc3339();
    // Before anything connects: a secret that is not set is a usage error.
    let secrets = crate::secrets::from_env(&args.secret_env)?;
    let params = args.all_params().map_err(anyhow::Error::msg)?;
    crate::secrets::install(&secrets);
    let mut cluster = super::cluster(global)?;
    // A run's connections end with it: the steps' supervisors on the nodes stop the steps
    // of a master whose connection is gone, which must happen when this lutf dies.
    cluster.ssh.persist = std::time::Duration::ZERO;
    let (dir, suites) = if args.rerun_failed {
        match select_failed(global, &args.results)? {
            Rerun::Tests(dir, suites) => (dir, suites),
            Rerun::NoneFailed(message) => {
                reporter::eprintln(&format!("lutf: {message}"));
                return Ok(0);
            }
        }
    } else {
        let selection = Selection::from_lists(&args.suite, &args.only, &args.except);
        select_tests(global, &selection)?
    };
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
            reporter::eprintln(&format!(
                "lutf: node {} {}",
                n.name,
                n.down.as_deref().unwrap_or_default()
            ));
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
    // Every usable node with Python reads some of the plans (a plan reads the same
    // everywhere); the first usable node alone where none says it has Python.
    let mut readers: Vec<(crate::node::Node, usize)> = statuses
        .iter()
        .zip(&nodes)
        .filter(|(s, _)| s.down.is_none())
        .filter_map(|(s, n)| {
            let f = s.facts.as_ref()?;
            f.python
                .missing
                .is_none()
                .then(|| (n.clone(), plan::plan_readers(f.cpus)))
        })
        .collect();
    if readers.is_empty() {
        readers.push((first.clone(), plan::PLAN_CONCURRENCY));
    }
    let mut plans = tokio::select! {
        p = plan::fetch_plans_from(&readers, &tests) => p.into_iter(),
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
        reporter::print(&dry_run(
            &planned,
            &statuses,
            !args.no_clean && cluster.clean,
        ));
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
        nodes: node_records(&statuses),
        suites: Vec::new(),
        interrupted: false,
    };
    let me = crate::leftovers::this_master(Some(&run.id));
    reap_leftovers(&nodes, &statuses, &me, &mut run).await;
    let dir = ResultsDir::create(&args.results, &run).with_context(|| {
        format!(
            "cannot create a results folder under {}",
            args.results.display()
        )
    })?;
    let results = SharedResults::new(dir, &run);

    let executor = Arc::new(NodeExecutor::new(&nodes).with_origin(me));
    let (tx, rx) = watch::channel(false);
    let total = count * args.repeat.max(1) as usize;
    let signals = tokio::spawn(watch_signals(
        tx,
        executor.clone(),
        quit_results(results.clone(), total, t0),
    ));
    let config = RunConfig {
        timeout: args.timeout,
        params,
        fail_fast: args.fail_fast,
        repeat: args.repeat,
        output_limit: None,
        secrets,
        sources: crate::sources::SourcePaths::new(bundle.id(), &dirs),
        clean: !args.no_clean && cluster.clean,
    };
    let usable: Vec<String> = statuses
        .iter()
        .filter(|n| n.down.is_none())
        .map(|n| n.name.clone())
        .collect();
    let mut display = Display::new(reporter::style(global.quiet), &usable, global.verbose > 0);
    let mut runner = Runner::new(executor.clone(), statuses, config, display.reporter(), rx);
    let end = runner
        .run(&planned, &mut run, |run| {
            if let Err(e) = results.record(run) {
                reporter::eprintln(&format!("lutf: warning: writing results failed: {e}"));
            }
        })
        .await;
    executor.settle().await;
    let warnings = clean_lost_nodes(
        &executor,
        runner.nodes(),
        &mut run,
        std::time::Duration::from_secs(global.connect_timeout),
    )
    .await;
    display.finish();
    signals.abort();
    // Nodes lost during the run say so in the results.
    for n in runner.nodes() {
        if let (Some(why), Some(record)) = (&n.down, run.nodes.get_mut(&n.name)) {
            record.error.get_or_insert_with(|| why.clone());
        }
    }
    run.finished = now_rfc3339();
    let Some((_, written)) = results.close(|last| *last = run.clone()) else {
        // A second Ctrl-C came first: the signal watcher writes the results and quits.
        return std::future::pending().await;
    };
    if let Err(e) = written {
        reporter::eprintln(&format!("lutf: warning: writing results failed: {e}"));
    }

    reporter::eprint(&summary(&run, end.not_run, end.stopped, &results.path()));
    for w in warnings {
        reporter::eprintln(&w);
    }
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
            targets: node.targets.clone(),
        });
    }
    out
}

/// Next contact: on every usable node, kills the jobs that a gone lutf master on this
/// machine left running (see [`crate::leftovers`]), says so on stderr and in the nodes'
/// records.
pub async fn reap_leftovers(
    nodes: &[Node],
    statuses: &[NodeStatus],
    me: &crate::protocol::Origin,
    run: &mut RunOutcome,
) {
    let up: Vec<Node> = nodes
        .iter()
        .zip(statuses)
        .filter(|(_, s)| s.down.is_none())
        .map(|(n, _)| n.clone())
        .collect();
    for (name, note) in crate::leftovers::reap_all(&up, me).await {
        if let Some(record) = run.nodes.get_mut(&name) {
            record.leftovers = Some(note);
        }
    }
}

/// End of run: for every node lost during it, reconnects and kills the jobs the run left
/// there, bounded by [`crate::leftovers::lost_cleanup_bound`] of `connect_timeout`; notes
/// the outcome in the nodes' records and prints what was killed. Answers the warnings to
/// print last (jobs that may still run on a node still unreachable).
pub async fn clean_lost_nodes(
    executor: &NodeExecutor,
    nodes: &[NodeStatus],
    run: &mut RunOutcome,
    connect_timeout: std::time::Duration,
) -> Vec<String> {
    let lost: Vec<String> = nodes
        .iter()
        .filter(|n| n.down.as_deref().is_some_and(|d| d.starts_with("lost: ")))
        .map(|n| n.name.clone())
        .collect();
    if lost.is_empty() {
        return Vec::new();
    }
    let bound = crate::leftovers::lost_cleanup_bound(connect_timeout);
    let t0 = std::time::Instant::now();
    let mut warnings = Vec::new();
    for (name, c) in executor.clean_lost(&lost, bound).await {
        let note = c.note();
        tracing::info!(node = %name, ms = t0.elapsed().as_millis() as u64, "lost node clean-up: {note}");
        if c.left.is_empty() && !(c.killed.is_empty() && c.ended.is_empty()) {
            reporter::eprintln(&format!("lutf: node {name} was lost: {note}"));
        }
        warnings.extend(c.warning(&name));
        if let Some(record) = run.nodes.get_mut(&name) {
            record.cleanup = Some(note);
        }
    }
    warnings
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
    reporter::eprintln("lutf: interrupted while setting up the nodes: no test was run");
    EXIT_INTERRUPTED
}

/// What a second Ctrl-C does for `lutf run` before it quits: writes the results of every
/// finished test (`results` as last recorded, marked interrupted) and prints the summary,
/// `total` being the tests of the run and `t0` its start. `false` when the run had ended
/// and written them itself.
fn quit_results(
    results: SharedResults,
    total: usize,
    t0: std::time::Instant,
) -> impl FnOnce() -> bool + Send + 'static {
    move || {
        let Some((run, written)) = results.close(|last| {
            last.interrupted = true;
            last.finished = now_rfc3339();
            last.duration = t0.elapsed().as_secs_f64();
        }) else {
            return false;
        };
        if let Err(e) = written {
            reporter::eprintln(&format!("lutf: warning: writing results failed: {e}"));
        }
        let not_run = total.saturating_sub(run.tests().count());
        reporter::eprint(&summary(
            &run,
            not_run,
            Some(Stop::Interrupted),
            &results.path(),
        ));
        true
    }
}

/// Waits for SIGINT or SIGTERM. The first asks the run to stop cleanly (the runner stops
/// the running steps, runs cleanup with a short bound and writes the results). The second
/// quits at once, after a last, bounded kill of every job `executor` still has on the
/// nodes, so that no step is left running there, and after `last_words` (writing what
/// the run has, on a blocking thread; a third signal does not wait for it), which answers
/// whether to quit (`false`: the run has ended meanwhile, and quits by itself).
pub async fn watch_signals(
    tx: watch::Sender<bool>,
    executor: Arc<NodeExecutor>,
    last_words: impl FnOnce() -> bool + Send + 'static,
) {
    use tokio::signal::unix::{signal, SignalKind};
    let (Ok(mut int), Ok(mut term)) = (
        signal(SignalKind::interrupt()),
        signal(SignalKind::terminate()),
    ) else {
        reporter::eprintln(
            "lutf: warning: cannot watch for signals; Ctrl-C will stop lutf without cleanup",
        );
        return;
    };
    let mut seen = 0;
    let mut last_words = Some(last_words);
    loop {
        tokio::select! {
            _ = int.recv() => {}
            _ = term.recv() => {}
        }
        seen += 1;
        if seen == 1 {
            reporter::eprintln(
                "lutf: interrupted: stopping the running steps, then cleanup (again to quit at once)",
            );
            let _ = tx.send(true);
        } else {
            reporter::eprintln(
                "lutf: interrupted again: killing the steps still running, then quitting",
            );
            // A third signal while the nodes are asked: quit without waiting for them.
            tokio::select! {
                _ = executor.kill_all() => {}
                _ = int.recv() => {}
                _ = term.recv() => {}
            }
            reporter::abandon();
            let Some(words) = last_words.take() else {
                continue;
            };
            // On a thread of its own, which quits even if the run ends meanwhile and aborts
            // this task. Local writes, short; a third signal does not wait for them.
            let words = tokio::task::spawn_blocking(move || {
                if words() {
                    std::process::exit(EXIT_INTERRUPTED);
                }
            });
            tokio::select! {
                done = words => {
                    if done.is_ok() {
                        return; // the run had ended: it quits by itself
                    }
                }
                _ = int.recv() => {}
                _ = term.recv() => {}
            }
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
pub fn dry_run(suites: &[PlannedSuite], nodes: &[NodeStatus], clean: bool) -> String {
    let mut o = String::new();
    for suite in suites {
        for t in &suite.tests {
            let name = format!("{} {}", suite.name, t.test.name());
            let plan = match &t.plan {
                Err(e) => {
                    let _ = writeln!(o, "{name}: would FAIL: {}", e.message);
                    continue;
                }
                Ok(p) => crate::plan::merge_system(p, clean),
            };
            let plan = &plan;
            let _ = writeln!(o, "{name}: {}", plan.description);
            let _ = writeln!(o, "  needs: {}", describe_needs(&plan.needs));
            for line in &plan.setup {
                let _ = writeln!(o, "  sets up: {line}");
            }
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

/// The run's record of each node: its facts, or why it is down.
pub fn node_records(statuses: &[NodeStatus]) -> BTreeMap<String, NodeRecord> {
    statuses
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
                    cleanup: None,
                    leftovers: None,
                },
            )
        })
        .collect()
}
