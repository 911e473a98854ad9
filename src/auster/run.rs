//! `lutf auster`: lutf as one of auster's suites. The hook script (`lutf auster-hook`)
//! runs it with auster's environment; it maps that environment to a run (which suites and
//! tests, which nodes with which roles), runs it as `lutf run` does, and writes each
//! finished test into auster's files at once (SubTests item, logs, `$TF_SKIP`).
//!
//! Exit codes, as auster reads them: 0 all good, 1 a test failed, 111 a test failed and
//! `STOP_ON_ERROR` is set (auster stops at once), 2 lutf could not run (the reason also
//! goes into `$TF_FAIL`, as test-framework's error trap does), 130 interrupted.

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Instant;

use anyhow::{bail, Context as _};
use tokio::sync::watch;

use super::env::AusterEnv;
use super::filter::{auster_id, Candidate, Verdict};
use super::hosts::ThisHost;
use super::record::AusterLog;
use crate::cli::{AusterArgs, Global};
use crate::cluster::Cluster;
use crate::commands::run::{hostname, node_records, prepare_nodes, run_id, watch_signals};
use crate::discovery::{self, close_matches, Selection};
use crate::outcome::{RunOutcome, Status, TestOutcome};
use crate::plan::{self, PlanError};
use crate::reporter::{self, Display};
use crate::runner::{now_rfc3339, NodeExecutor, PlannedSuite, PlannedTest, RunConfig, Runner};

/// Exit code that stops auster at once: a test failed and `STOP_ON_ERROR` is set.
pub const EXIT_STOP: i32 = 111;

/// Runs `lutf auster`. Errors before any test ran are written into `$TF_FAIL` too.
pub async fn run(global: &Global, args: &AusterArgs) -> anyhow::Result<i32> {
    let result = match AusterEnv::from_env() {
        Ok(env) => run_env(global, args, &env).await,
        Err(e) => Err(anyhow::Error::new(e).context("auster's environment")),
    };
    if let Err(e) = &result {
        if !args.dry_run {
            note_failure(&format!("lutf: error: {e:#}"));
        }
    }
    result
}

/// Writes `text` into `$TF_FAIL` (auster marks the suite FAIL while it exists).
fn note_failure(text: &str) {
    if let Some(path) = std::env::var_os("TF_FAIL").filter(|p| !p.is_empty()) {
        let text = crate::secrets::text(text);
        if let Err(e) = std::fs::write(&path, format!("{text}\n")) {
            reporter::eprintln(&format!(
                "lutf: warning: cannot write TF_FAIL {}: {e}",
                Path::new(&path).display()
            ));
        }
    }
}

/// One test of the run with its fate and its name in the auster suite.
struct Chosen {
    test: discovery::TestFile,
    auster_id: String,
    verdict: Verdict,
}

async fn run_env(global: &Global, args: &AusterArgs, env: &AusterEnv) -> anyhow::Result<i32> {
    if global.cluster.is_some() || global.nodes.is_some() {
        bail!(
            "lutf auster takes its nodes from the cfg's host variables (mds_HOST, CLIENTS, ...), \
             not from --cluster or --nodes"
        );
    }
    let t0 = Instant::now();
    // LUTF_SECRET_ENV names them (auster passes no options); an unset one is an error
    // before anything connects.
    let secrets = crate::secrets::from_env(&[])?;
    crate::secrets::install(&secrets);

    // Suites: SUITE, or every suite; an unknown one is an error naming close matches.
    let dir = discovery::suites_dir(global.suites.as_deref())?;
    let all = discovery::discover(&dir)?;
    let selection = Selection {
        suites: env.suites.clone(),
        only: Vec::new(),
        except: Vec::new(),
    };
    let suites = discovery::select(&dir, &all, &selection)
        .with_context(|| format!("SUITE={:?}", env.suites.join(" ")))?;
    let single = suites.len() == 1;

    // Tests: auster's filters over every test of those suites, in run order.
    let tests: Vec<discovery::TestFile> = suites
        .iter()
        .flat_map(|s| s.tests.iter().map(|t| t.test.clone()))
        .collect();
    let candidates: Vec<Candidate> = tests
        .iter()
        .map(|t| Candidate {
            suite: t.suite.clone(),
            id: t.id.clone(),
            auster_id: auster_id(single, &t.suite, &t.id),
        })
        .collect();
    for o in env.filter.unmatched_only(&candidates) {
        let ids: Vec<String> = candidates.iter().map(|c| c.auster_id.clone()).collect();
        let close = close_matches(o.strip_prefix("test_").unwrap_or(&o), &ids);
        reporter::eprintln(&format!(
            "lutf: warning: ONLY names {o:?}, which is no test here{}",
            if close.is_empty() {
                String::new()
            } else {
                format!("; did you mean {}?", close.join(", "))
            }
        ));
    }
    let verdicts = env.filter.decide(&candidates);
    let chosen: Vec<Chosen> = tests
        .into_iter()
        .zip(candidates)
        .zip(verdicts)
        .filter(|(_, v)| *v != Verdict::Omitted)
        .map(|((test, c), verdict)| Chosen {
            test,
            auster_id: c.auster_id,
            verdict,
        })
        .collect();

    // Nodes: the cfg's host variables, this machine alone when there are none.
    let this = ThisHost::get();
    let mut cluster = env.hosts.cluster(&this, env.no_dsh());
    cluster.ssh = global.ssh_options();
    // As for `lutf run`: a run's connections end with it.
    cluster.ssh.persist = std::time::Duration::ZERO;
    if let Some(w) = &global.workdir {
        for n in &mut cluster.nodes {
            n.workdir = Some(w.clone());
        }
    }

    if args.dry_run {
        reporter::print(&dry_run(env, &dir, &chosen, &cluster));
        return Ok(0);
    }

    let to_run: Vec<&Chosen> = chosen
        .iter()
        .filter(|c| c.verdict == Verdict::Run)
        .collect();
    let nodes = cluster.nodes();
    let mut sources = crate::sources::SourcePaths::default();
    let statuses = if to_run.is_empty() {
        Vec::new()
    } else {
        let dirs: Vec<PathBuf> = suites
            .iter()
            .filter(|s| to_run.iter().any(|c| c.test.suite == s.name))
            .map(|s| s.dir.clone())
            .collect();
        let bundle = crate::bundle::Bundle::new(&dirs)?;
        sources = crate::sources::SourcePaths::new(bundle.id(), &dirs);
        let statuses = prepare_nodes(&nodes, &bundle).await;
        let down: Vec<String> = statuses
            .iter()
            .filter_map(|n| n.down.as_ref().map(|why| format!("node {} {why}", n.name)))
            .collect();
        if !down.is_empty() {
            bail!("{}", down.join("; "));
        }
        statuses
    };

    // Plans for the tests that run; an excluded test is never asked for its plan.
    let files: Vec<discovery::TestFile> = to_run.iter().map(|c| c.test.clone()).collect();
    let mut plans = match statuses.first() {
        Some(_) => plan::fetch_plans(&nodes[0], &files).await.into_iter(),
        None => Vec::new().into_iter(),
    };
    let mut planned: Vec<PlannedSuite> = Vec::new();
    for c in &chosen {
        let test = match &c.verdict {
            Verdict::Run => PlannedTest {
                test: c.test.clone(),
                excluded: None,
                plan: plans.next().expect("one plan per test that runs"),
            },
            // Never asked for its plan: the runner reports it with auster's reason.
            Verdict::Excluded(reason) => PlannedTest {
                test: c.test.clone(),
                excluded: Some(reason.clone()),
                plan: Err(PlanError {
                    message: reason.clone(),
                    traceback: None,
                }),
            },
            // Left out before this point.
            Verdict::Omitted => continue,
        };
        match planned.last_mut() {
            Some(s) if s.name == c.test.suite => s.tests.push(test),
            _ => planned.push(PlannedSuite {
                name: c.test.suite.clone(),
                tests: vec![test],
            }),
        }
    }

    let mut run = RunOutcome {
        id: run_id(),
        started: now_rfc3339(),
        finished: String::new(),
        duration: 0.0,
        testhost: hostname(),
        user: crate::transport::local::current_user(),
        cluster: match &env.config {
            Some(c) => format!("auster cfg {}", c.display()),
            None => crate::cluster::LOCAL.to_string(),
        },
        nodes: node_records(&statuses),
        suites: Vec::new(),
        interrupted: false,
    };
    let me = crate::leftovers::this_master(Some(&run.id));
    crate::commands::run::reap_leftovers(&nodes, &statuses, &me, &mut run).await;
    let mut log = AusterLog::open(
        env.yaml_log.as_deref(),
        env.logdir.as_deref(),
        env.tf_skip.as_deref(),
        &env.testsuite,
        &run,
    )?;
    reporter::eprintln(&format!(
        "lutf: auster suite {}: {} test{} to run, {} excluded; SubTests into {}, logs into {}",
        env.testsuite,
        to_run.len(),
        if to_run.len() == 1 { "" } else { "s" },
        chosen.len() - to_run.len(),
        log.yaml_log().display(),
        log.logdir().display()
    ));

    // Each test goes into auster's files as soon as it ends.
    let names: BTreeMap<(String, String), &Chosen> = chosen
        .iter()
        .map(|c| ((c.test.suite.clone(), c.test.id.clone()), c))
        .collect();
    let mut written = 0usize;
    let mut write_error: Option<String> = None;
    let executor = Arc::new(NodeExecutor::new(&nodes).with_origin(me));
    let (tx, rx) = watch::channel(false);
    let signals = tokio::spawn(watch_signals(tx, executor.clone(), || true));
    let config = RunConfig {
        secrets,
        params: env.params(),
        fail_fast: env.stop_on_error || env.fail_on_error,
        clean: !env.no_clean && cluster.clean,
        sources,
        ..RunConfig::default()
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
            for t in run.tests().skip(written) {
                let chosen = names.get(&(t.suite.clone(), t.id.clone()));
                let logs = !matches!(chosen, Some(c) if c.verdict != Verdict::Run);
                let out = as_auster(t, &env.testsuite, chosen);
                if let Err(e) = log.record(run, &out, logs) {
                    reporter::eprintln(&format!(
                        "lutf: error: recording {} {}: {e}",
                        t.suite,
                        t.name()
                    ));
                    write_error.get_or_insert_with(|| e.to_string());
                }
            }
            written = run.tests().count();
        })
        .await;
    executor.settle().await;
    let warnings = crate::commands::run::clean_lost_nodes(
        &executor,
        runner.nodes(),
        &mut run,
        std::time::Duration::from_secs(global.connect_timeout),
    )
    .await;
    display.finish();
    signals.abort();
    run.finished = now_rfc3339();

    let failed = run.count(Status::Fail) > 0;
    let status = if failed || write_error.is_some() {
        Status::Fail
    } else if log.ran() {
        Status::Pass
    } else {
        Status::Skip
    };
    if let Err(e) = log.finish(t0.elapsed().as_secs_f64(), status) {
        reporter::eprintln(&format!("lutf: error: {e}"));
        write_error.get_or_insert_with(|| e.to_string());
    }

    let mut text = crate::results::summary::render(&run, None);
    if end.not_run > 0 {
        let why = match end.stopped {
            Some(crate::runner::Stop::FailFast) if env.stop_on_error => {
                "STOP_ON_ERROR stops at the first failed test"
            }
            Some(crate::runner::Stop::FailFast) => {
                "FAIL_ON_ERROR stops at the first failed test (auster -k runs on)"
            }
            Some(crate::runner::Stop::Interrupted) => "the run was interrupted",
            None => "the run stopped early",
        };
        let _ = writeln!(text, "not run: {}: {why}", end.not_run);
    }
    let _ = writeln!(
        text,
        "results: {} (SubTests), logs in {}",
        log.yaml_log().display(),
        log.logdir().display()
    );
    reporter::eprint(&format!("\n{text}"));
    for w in warnings {
        reporter::eprintln(&w);
    }
    if let Some(e) = &write_error {
        note_failure(&format!("lutf: error: results not recorded: {e}"));
    }

    Ok(if run.interrupted {
        crate::commands::run::EXIT_INTERRUPTED
    } else if failed && env.stop_on_error {
        EXIT_STOP
    } else if failed || write_error.is_some() {
        crate::commands::run::EXIT_FAILED
    } else {
        0
    })
}

/// A test as the auster suite names it: in the suite `testsuite`, with its auster id and
/// its description led by its lutf name.
fn as_auster(t: &TestOutcome, testsuite: &str, chosen: Option<&&Chosen>) -> TestOutcome {
    let mut out = t.clone();
    out.suite = testsuite.to_string();
    let lutf_name = format!("{}/test_{}", t.suite, t.id);
    out.description = if t.description.is_empty() {
        lutf_name
    } else {
        format!("{lutf_name}: {}", t.description)
    };
    if let Some(c) = chosen {
        out.id = c.auster_id.clone();
    }
    out
}

/// `--dry-run`: what auster's environment selects, the nodes, where results would go.
fn dry_run(env: &AusterEnv, dir: &Path, chosen: &[Chosen], cluster: &Cluster) -> String {
    let mut o = String::new();
    let _ = writeln!(o, "auster suite: {}", env.testsuite);
    let _ = writeln!(o, "lutf suites from {}", dir.display());
    let _ = writeln!(o, "tests:");
    if chosen.is_empty() {
        let _ = writeln!(o, "  none selected");
    }
    for c in chosen {
        let fate = match &c.verdict {
            Verdict::Run => "run".to_string(),
            Verdict::Excluded(r) => format!("SKIP: {r}"),
            Verdict::Omitted => continue,
        };
        let _ = writeln!(
            o,
            "  test_{} ({}/test_{}): {fate}",
            c.auster_id, c.test.suite, c.test.id
        );
    }
    let _ = writeln!(o, "nodes:");
    for n in &cluster.nodes {
        let how = match &n.host {
            None => "this machine".to_string(),
            Some(h) => format!("ssh {h}"),
        };
        let roles = if n.roles.is_empty() {
            "any role".to_string()
        } else {
            n.roles.join(" ")
        };
        let _ = writeln!(o, "  {} ({how}): {roles}", n.name);
    }
    let show = |p: &Option<PathBuf>| {
        p.as_ref()
            .map_or("(unset)".to_string(), |p| p.display().to_string())
    };
    let _ = writeln!(o, "YAML_LOG: {}", show(&env.yaml_log));
    let _ = writeln!(o, "LOGDIR: {}", show(&env.logdir));
    let _ = writeln!(o, "TF_SKIP: {}", show(&env.tf_skip));
    let _ = writeln!(
        o,
        "stops at the first failed test: {}",
        match (env.stop_on_error, env.fail_on_error) {
            (true, _) => "yes, and exits 111 (STOP_ON_ERROR)",
            (false, true) => "yes (FAIL_ON_ERROR)",
            (false, false) => "no",
        }
    );
    let params = serde_json::to_string(&env.params()).unwrap_or_default();
    let _ = writeln!(o, "step parameters: {params}");
    o
}
