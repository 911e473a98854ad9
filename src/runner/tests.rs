//! The sequencer and run loop driven by a scripted [`StepExecutor`]: each step's outcome is
//! set by the test, and every call is logged, so ordering, concurrency (barriers that only
//! open when steps run together) and failure handling are checked without timing. The real
//! helper is exercised by the integration tests in `tests/run_*.rs`.

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::Duration;

use serde_json::json;
use tokio::sync::Barrier;

use super::*;
use crate::protocol::{
    Captured, Facts, Failure, FailureKind, IfFlags, Interface, LnetState, Needs, OsInfo,
    PythonInfo, StepArgs, StepContext, StepOutcome, StepPlan, StepResult,
};
use crate::transport::BoxFuture;

#[derive(Clone)]
enum Act {
    Pass(serde_json::Value),
    Fail(&'static str),
    Skip(&'static str),
    Lost(&'static str),
    /// Waits at the barrier, then passes.
    Meet(Arc<Barrier>),
    /// Never ends by itself.
    Hang,
    /// A background step: runs until stopped, or has ended on its own with this outcome.
    Bg(Option<StepOutcome>),
}

#[derive(Default)]
struct Script {
    acts: HashMap<String, Act>,
    log: Mutex<Vec<String>>,
    contexts: Mutex<HashMap<String, StepArgs>>,
}

impl Script {
    fn new(acts: &[(&str, Act)]) -> Arc<Script> {
        Arc::new(Script {
            acts: acts
                .iter()
                .map(|(n, a)| (n.to_string(), a.clone()))
                .collect(),
            ..Default::default()
        })
    }

    fn log(&self, s: String) {
        self.log.lock().unwrap().push(s);
    }

    fn entries(&self) -> Vec<String> {
        self.log.lock().unwrap().clone()
    }

    fn pos(&self, entry: &str) -> usize {
        self.entries()
            .iter()
            .position(|e| e == entry)
            .unwrap_or_else(|| panic!("{entry:?} not in {:?}", self.entries()))
    }

    fn act(&self, step: &str) -> Act {
        self.acts
            .get(step)
            .cloned()
            .unwrap_or(Act::Pass(json!(step)))
    }
}

fn result(outcome: StepOutcome) -> StepResult {
    StepResult {
        outcome,
        duration: 0.0,
        log: Captured::default(),
    }
}

fn fail(kind: FailureKind, message: &str) -> StepOutcome {
    StepOutcome::Fail {
        failure: Failure {
            kind,
            message: message.into(),
            traceback: None,
        },
    }
}

impl StepExecutor for Script {
    fn step<'a>(
        &'a self,
        node: &'a str,
        args: StepArgs,
        interrupt: executor::Interrupt,
    ) -> BoxFuture<'a, Result<StepResult, ExecError>> {
        Box::pin(async move {
            let name = args.step.clone();
            self.log(format!("start {name}@{node}"));
            self.contexts.lock().unwrap().insert(name.clone(), args);
            let out = match self.act(&name) {
                Act::Pass(v) => Ok(result(StepOutcome::Pass { value: v })),
                Act::Fail(m) => Ok(result(fail(FailureKind::Assertion, m))),
                Act::Skip(r) => Ok(result(StepOutcome::Skip { reason: r.into() })),
                Act::Lost(e) => Err(ExecError::Lost(e.into())),
                Act::Meet(b) => {
                    b.wait().await;
                    Ok(result(StepOutcome::Pass { value: json!(null) }))
                }
                Act::Hang => match interrupt {
                    Some(mut rx) => {
                        executor::wait_true(&mut rx).await;
                        self.log(format!("killed {name}"));
                        Err(ExecError::Interrupted(Some(result(fail(
                            FailureKind::Crash,
                            "killed",
                        )))))
                    }
                    None => std::future::pending().await,
                },
                Act::Bg(_) => panic!("background step {name} run in the foreground"),
            };
            self.log(format!("end {name}"));
            out
        })
    }

    fn spawn_step<'a>(
        &'a self,
        _node: &'a str,
        args: StepArgs,
    ) -> BoxFuture<'a, Result<String, ExecError>> {
        Box::pin(async move {
            let name = args.step.clone();
            assert!(matches!(self.act(&name), Act::Bg(_)), "{name} spawned");
            self.log(format!("spawn {name}"));
            self.contexts.lock().unwrap().insert(name.clone(), args);
            Ok(name)
        })
    }

    fn stop_step<'a>(
        &'a self,
        _node: &'a str,
        job: &'a str,
    ) -> BoxFuture<'a, Result<Stopped, ExecError>> {
        Box::pin(async move {
            self.log(format!("stop {job}"));
            let Act::Bg(ended) = self.act(job) else {
                panic!("stopping {job}")
            };
            Ok(match ended {
                // One that catches the stop and returns a value...
                None if job == "traffic" => Stopped {
                    was_running: true,
                    result: Some(result(StepOutcome::Pass {
                        value: json!({"lines": 3}),
                    })),
                },
                // ... one that ignores it and is killed after the grace period...
                None if job == "deaf" => Stopped {
                    was_running: true,
                    result: Some(result(fail(
                        FailureKind::Killed,
                        "step deaf did not stop within 2 s of SIGTERM and was killed",
                    ))),
                },
                // ... and one that dies of the signal.
                None => Stopped {
                    was_running: true,
                    result: Some(result(fail(FailureKind::Crash, "killed by signal 15"))),
                },
                Some(o) => Stopped {
                    was_running: false,
                    result: Some(result(o)),
                },
            })
        })
    }
}

/// Records every event.
#[derive(Default)]
struct Events(Mutex<Vec<Event>>);

impl Reporter for Events {
    fn event(&self, event: &Event) {
        self.0.lock().unwrap().push(event.clone());
    }
}

fn step(name: &str, role: &str, after: &[&str]) -> StepPlan {
    StepPlan {
        name: name.into(),
        role: role.into(),
        after: after.iter().map(|s| s.to_string()).collect(),
        timeout: None,
        cleanup: false,
        background: false,
        stops: vec![],
        description: String::new(),
    }
}

fn cleanup(name: &str, role: &str, after: &[&str]) -> StepPlan {
    StepPlan {
        cleanup: true,
        ..step(name, role, after)
    }
}

fn background(name: &str, role: &str, after: &[&str]) -> StepPlan {
    StepPlan {
        background: true,
        ..step(name, role, after)
    }
}

fn stops(mut s: StepPlan, bg: &[&str]) -> StepPlan {
    s.stops = bg.iter().map(|b| b.to_string()).collect();
    s
}

fn facts() -> Facts {
    Facts {
        hostname: "host".into(),
        kernel: "6.1".into(),
        arch: "x86_64".into(),
        os: OsInfo::default(),
        cpus: 2,
        memory_bytes: 1 << 30,
        python: PythonInfo {
            path: Some("/usr/bin/python3".into()),
            version: Some("3.11".into()),
            missing: None,
        },
        interfaces: vec![Interface {
            name: "eth0".into(),
            mtu: Some(1500),
            mac: None,
            flags: IfFlags {
                up: true,
                running: true,
                loopback: false,
                broadcast: true,
                multicast: true,
            },
            ipv4: vec![crate::protocol::Addr {
                address: "10.0.0.1".into(),
                prefix: 24,
            }],
            ipv6: vec![],
        }],
        lnet: LnetState::default(),
    }
}

fn nodes(names: &[&str]) -> Vec<NodeStatus> {
    names
        .iter()
        .map(|n| NodeStatus {
            name: n.to_string(),
            roles: vec![],
            facts: Some(facts()),
            down: None,
            targets: None,
        })
        .collect()
}

fn plan(roles: &[&str], steps: Vec<StepPlan>) -> TestPlan {
    let plan = TestPlan {
        description: "a test".into(),
        needs: Needs {
            roles: roles.iter().map(|r| r.to_string()).collect(),
            interfaces: 0,
            lnet: false,
            ..Default::default()
        },
        steps,
        system: vec![],
        setup: vec![],
    };
    crate::plan::validate(&plan).expect("test plans are valid");
    plan
}

fn test_file(id: &str) -> TestFile {
    TestFile {
        suite: "s".into(),
        id: id.into(),
        path: format!("/x/s/test_{id}.py").into(),
    }
}

struct Harness {
    events: Arc<Events>,
    interrupt: watch::Sender<bool>,
    runner: Runner,
}

fn harness(script: Arc<Script>, node_names: &[&str], config: RunConfig) -> Harness {
    let events = Arc::new(Events::default());
    let (tx, rx) = watch::channel(false);
    let runner = Runner::new(script, nodes(node_names), config, events.clone(), rx);
    Harness {
        events,
        interrupt: tx,
        runner,
    }
}

fn empty_run() -> RunOutcome {
    RunOutcome {
        id: "t".into(),
        started: String::new(),
        finished: String::new(),
        duration: 0.0,
        testhost: "h".into(),
        user: "u".into(),
        cluster: "local".into(),
        nodes: BTreeMap::new(),
        suites: vec![],
        interrupted: false,
    }
}

/// Runs tests built from `plans`; the bound proves only that nothing hangs.
async fn run_tests(
    h: &mut Harness,
    plans: Vec<Result<TestPlan, PlanError>>,
) -> (RunOutcome, RunEnd) {
    let suites = vec![PlannedSuite {
        name: "s".into(),
        tests: plans
            .into_iter()
            .enumerate()
            .map(|(i, plan)| PlannedTest {
                test: test_file(&format!("{:02}", i + 1)),
                excluded: None,
                plan,
            })
            .collect(),
    }];
    let mut run = empty_run();
    let mut recorded = 0;
    let end = tokio::time::timeout(
        Duration::from_secs(20),
        h.runner.run(&suites, &mut run, |_| recorded += 1),
    )
    .await
    .expect("the run did not hang");
    assert_eq!(recorded, run.tests().count(), "recorded after every test");
    (run, end)
}

async fn run_one(h: &mut Harness, plan: TestPlan) -> TestOutcome {
    let (run, _) = run_tests(h, vec![Ok(plan)]).await;
    run.suites[0].tests[0].clone()
}

fn rec<'a>(t: &'a TestOutcome, name: &str) -> &'a StepRecord {
    t.steps
        .iter()
        .find(|s| s.name == name)
        .unwrap_or_else(|| panic!("no step {name}"))
}

fn why(r: &StepRecord) -> &str {
    r.failure.as_ref().map(|f| f.message.as_str()).unwrap_or("")
}

#[tokio::test]
async fn steps_run_in_order_and_see_earlier_values() {
    let script = Script::new(&[("a", Act::Pass(json!({"nid": "10.0.0.1@tcp"})))]);
    let mut h = harness(script.clone(), &["n1", "n2"], RunConfig::default());
    let t = run_one(
        &mut h,
        plan(
            &["server", "client"],
            vec![
                step("a", "server", &[]),
                step("b", "client", &["a"]),
                step("c", "server", &["b"]),
            ],
        ),
    )
    .await;
    assert_eq!(t.status, Status::Pass, "{}", t.error);
    assert_eq!(t.error, "");
    assert!(script.pos("end a") < script.pos("start b@n2"));
    assert!(script.pos("end b") < script.pos("start c@n1"));
    let ctx = script.contexts.lock().unwrap();
    let c: &StepContext = &ctx["c"].context;
    // The values of the steps in its `after`, only those.
    assert_eq!(c.results.len(), 1);
    assert_eq!(c.results["b"], json!("b"));
    assert_eq!(
        ctx["b"].context.results["a"],
        json!({"nid": "10.0.0.1@tcp"})
    );
    assert_eq!(c.test, "s/test_01");
    assert_eq!(c.role, "server");
    assert_eq!(c.node_name, "n1");
    assert_eq!(c.nodes["client"].name, "n2");
    assert!(ctx["a"].context.results.is_empty());
    assert_eq!(ctx["a"].file, "s/test_01.py");
    assert_eq!(ctx["a"].timeout, Some(DEFAULT_TIMEOUT));
    assert_eq!(rec(&t, "b").node, "n2");
    assert_eq!(rec(&t, "a").value, Some(json!({"nid": "10.0.0.1@tcp"})));
    assert_eq!(t.binding["client"], "n2");
}

#[tokio::test]
async fn independent_steps_run_at_the_same_time() {
    // Each barrier opens only when all its steps wait at it together: run one after the
    // other, they would never finish (and the run's bound would fail the test).
    let two_nodes = Arc::new(Barrier::new(2));
    let same_node = Arc::new(Barrier::new(3));
    let script = Script::new(&[
        ("a", Act::Meet(two_nodes.clone())),
        ("b", Act::Meet(two_nodes)),
        ("c", Act::Meet(same_node.clone())),
        ("d", Act::Meet(same_node.clone())),
        ("e", Act::Meet(same_node)),
    ]);
    let mut h = harness(script.clone(), &["n1", "n2"], RunConfig::default());
    let t = run_one(
        &mut h,
        plan(
            &["node1", "node2"],
            vec![
                step("a", "node1", &[]),
                step("b", "node2", &[]),
                step("c", "node1", &["a", "b"]),
                step("d", "node1", &["a"]),
                step("e", "node1", &["b"]),
            ],
        ),
    )
    .await;
    assert_eq!(t.status, Status::Pass, "{}", t.error);
}

#[tokio::test]
async fn a_failure_stops_its_dependents_and_cleanup_still_runs() {
    let script = Script::new(&[("a", Act::Fail("AssertionError: 1 != 2"))]);
    let mut h = harness(script.clone(), &["n1"], RunConfig::default());
    let t = run_one(
        &mut h,
        plan(
            &["node1"],
            vec![
                step("a", "node1", &[]),
                step("b", "node1", &["a"]),
                step("c", "node1", &["b"]),
                step("d", "node1", &[]),
                cleanup("undo", "node1", &["a"]),
            ],
        ),
    )
    .await;
    assert_eq!(t.status, Status::Fail);
    assert_eq!(t.return_code, 1);
    assert_eq!(t.error, "step a on n1: AssertionError: 1 != 2");
    for s in ["b", "c"] {
        let r = rec(&t, s);
        assert_eq!(r.status, Status::Skip);
        assert_eq!(r.failure.as_ref().unwrap().kind, FailureKind::NotRun);
        assert_eq!(why(r), "not run: step a failed", "{s}");
        assert_eq!(r.node, "", "never ran");
    }
    assert_eq!(rec(&t, "d").status, Status::Pass, "independent steps go on");
    assert_eq!(rec(&t, "undo").status, Status::Pass);
    assert!(script.pos("end a") < script.pos("start undo@n1"));
    assert!(
        script.pos("end d") < script.pos("start undo@n1"),
        "cleanup runs last"
    );
    assert!(!script.entries().iter().any(|e| e.starts_with("start b")));
    // Not-run steps come last.
    let names: Vec<&str> = t.steps.iter().map(|s| s.name.as_str()).collect();
    assert_eq!(&names[3..], ["b", "c"]);
    assert!(script
        .contexts
        .lock()
        .unwrap()
        .get("undo")
        .unwrap()
        .context
        .results
        .is_empty());
}

#[tokio::test]
async fn a_skip_skips_the_test_and_cleanup_runs() {
    let script = Script::new(&[("check", Act::Skip("no second interface"))]);
    let mut h = harness(script.clone(), &["n1"], RunConfig::default());
    let t = run_one(
        &mut h,
        plan(
            &["node1"],
            vec![
                step("check", "node1", &[]),
                step("b", "node1", &["check"]),
                cleanup("undo", "node1", &[]),
            ],
        ),
    )
    .await;
    assert_eq!(t.status, Status::Skip);
    assert_eq!(t.return_code, 0);
    assert_eq!(t.error, "no second interface");
    assert_eq!(why(rec(&t, "b")), "not run: step check skipped the test");
    assert_eq!(rec(&t, "undo").status, Status::Pass);
}

#[tokio::test]
async fn background_steps_start_then_are_stopped() {
    let script = Script::new(&[("traffic", Act::Bg(None)), ("idle", Act::Bg(None))]);
    let mut h = harness(script.clone(), &["n1", "n2"], RunConfig::default());
    let t = run_one(
        &mut h,
        plan(
            &["node1", "node2"],
            vec![
                background("traffic", "node1", &[]),
                step("change", "node2", &["traffic"]),
                stops(step("check", "node2", &["change"]), &["traffic"]),
                step("after", "node1", &["check", "traffic"]),
                background("idle", "node2", &[]),
                cleanup("undo", "node1", &[]),
            ],
        ),
    )
    .await;
    assert_eq!(t.status, Status::Pass, "{}", t.error);
    assert!(script.pos("spawn traffic") < script.pos("start change@n2"));
    assert!(script.pos("end check") < script.pos("stop traffic"));
    // The step with `stops` is done before later steps start only when they follow it.
    assert!(script.pos("stop traffic") < script.pos("start undo@n1"));
    // `idle` is never stopped by a step: the end of the test stops it, before cleanup.
    assert!(script.pos("end after") < script.pos("stop idle"));
    assert!(script.pos("stop idle") < script.pos("start undo@n1"));
    // `after` comes after `check`, which stops `traffic`, and after `traffic`: it starts
    // once `traffic` is collected, and sees its result.
    assert!(script.pos("stop traffic") < script.pos("start after@n1"));
    assert_eq!(
        script.contexts.lock().unwrap()["after"].context.results["traffic"],
        json!({"lines": 3})
    );
    let r = rec(&t, "traffic");
    assert!(r.background);
    assert_eq!(r.status, Status::Pass, "stopped while running is a pass");
    assert_eq!(r.node, "n1");
}

#[tokio::test]
async fn a_background_step_killed_because_it_would_not_stop_fails_the_test() {
    let script = Script::new(&[("deaf", Act::Bg(None))]);
    let mut h = harness(script.clone(), &["n1"], RunConfig::default());
    let t = run_one(
        &mut h,
        plan(
            &["node1"],
            vec![
                background("deaf", "node1", &[]),
                stops(step("work", "node1", &["deaf"]), &["deaf"]),
            ],
        ),
    )
    .await;
    assert_eq!(t.status, Status::Fail);
    let r = rec(&t, "deaf");
    assert_eq!(r.status, Status::Fail);
    assert_eq!(r.failure.as_ref().unwrap().kind, FailureKind::Killed);
    assert!(
        t.error
            .starts_with("step deaf on n1 did not stop within 2 s of SIGTERM and was killed"),
        "{}",
        t.error
    );
    assert_eq!(rec(&t, "work").status, Status::Pass);
}

#[tokio::test]
async fn a_background_step_that_failed_on_its_own_fails_the_test() {
    let script = Script::new(&[(
        "traffic",
        Act::Bg(Some(fail(FailureKind::Exception, "ConnectionError"))),
    )]);
    let mut h = harness(script.clone(), &["n1"], RunConfig::default());
    let t = run_one(
        &mut h,
        plan(
            &["node1"],
            vec![
                background("traffic", "node1", &[]),
                step("work", "node1", &["traffic"]),
            ],
        ),
    )
    .await;
    assert_eq!(t.status, Status::Fail);
    assert_eq!(t.error, "step traffic on n1: ConnectionError");
    assert_eq!(rec(&t, "work").status, Status::Pass);
}

#[tokio::test]
async fn a_lost_node_fails_the_step_and_is_not_used_again() {
    let script = Script::new(&[("a", Act::Lost("connection reset by peer"))]);
    let mut h = harness(script.clone(), &["n1", "n2"], RunConfig::default());
    let two = plan(
        &["node1", "node2"],
        vec![
            step("a", "node1", &[]),
            step("b", "node2", &["a"]),
            step("c", "node1", &[]),
            cleanup("undo1", "node1", &[]),
            cleanup("undo2", "node2", &[]),
        ],
    );
    let one = plan(&["node1"], vec![step("x", "node1", &[])]);
    let (run, end) = run_tests(&mut h, vec![Ok(two.clone()), Ok(one), Ok(two)]).await;
    assert_eq!(end.stopped, None);
    let tests: Vec<&TestOutcome> = run.tests().collect();
    let t = tests[0];
    assert_eq!(t.status, Status::Fail);
    assert_eq!(
        t.error,
        "step a on n1: node n1 lost: connection reset by peer"
    );
    assert_eq!(
        rec(t, "a").failure.as_ref().unwrap().kind,
        FailureKind::Lost
    );
    assert_eq!(why(rec(t, "b")), "not run: step a failed");
    // `c` may have started before the loss was known; if not, it is not run.
    let c = rec(t, "c");
    assert!(
        c.status == Status::Pass || why(c) == "not run: node n1 lost",
        "{c:?}"
    );
    assert_eq!(why(rec(t, "undo1")), "not run: node n1 lost");
    assert_eq!(
        rec(t, "undo2").status,
        Status::Pass,
        "cleanup on reachable nodes"
    );
    // The next test needing one node runs on the node left.
    assert_eq!(tests[1].status, Status::Pass);
    assert_eq!(tests[1].binding["node1"], "n2");
    // The next needing two is skipped, saying why.
    assert_eq!(tests[2].status, Status::Skip);
    assert_eq!(
        tests[2].error,
        "needs 2 nodes, have 1 (node n1 lost: connection reset by peer)"
    );
    assert!(h.runner.nodes()[0].down.is_some());
}

#[tokio::test]
async fn an_interrupt_stops_the_steps_and_runs_cleanup() {
    let script = Script::new(&[("wait", Act::Hang), ("traffic", Act::Bg(None))]);
    let mut h = harness(script.clone(), &["n1"], RunConfig::default());
    let p = plan(
        &["node1"],
        vec![
            background("traffic", "node1", &[]),
            step("wait", "node1", &["traffic"]),
            step("next", "node1", &["wait"]),
            cleanup("undo", "node1", &[]),
        ],
    );
    let tx = h.interrupt.clone();
    let script2 = script.clone();
    tokio::spawn(async move {
        // Interrupt once the hanging step is running.
        while !script2.entries().iter().any(|e| e == "start wait@n1") {
            tokio::time::sleep(Duration::from_millis(5)).await;
        }
        tx.send(true).unwrap();
    });
    let (run, end) = run_tests(&mut h, vec![Ok(p.clone()), Ok(p)]).await;
    assert_eq!(end.stopped, Some(Stop::Interrupted));
    assert_eq!(end.not_run, 1);
    assert!(run.interrupted);
    let t = run.tests().next().unwrap();
    assert_eq!(run.tests().count(), 1);
    assert_eq!(t.status, Status::Fail);
    assert_eq!(t.error, "interrupted");
    assert_eq!(
        rec(t, "wait").failure.as_ref().unwrap().kind,
        FailureKind::Interrupted
    );
    assert_eq!(why(rec(t, "next")), "not run: interrupted");
    assert_eq!(rec(t, "undo").status, Status::Pass);
    assert!(script.pos("stop traffic") < script.pos("start undo@n1"));
    assert!(script.pos("killed wait") < script.pos("start undo@n1"));
}

#[tokio::test]
async fn fail_fast_stops_after_the_first_failure() {
    let script = Script::new(&[("bad", Act::Fail("no"))]);
    let config = RunConfig {
        fail_fast: true,
        ..Default::default()
    };
    let mut h = harness(script, &["n1"], config);
    let good = plan(&["node1"], vec![step("good", "node1", &[])]);
    let bad = plan(&["node1"], vec![step("bad", "node1", &[])]);
    let (run, end) = run_tests(
        &mut h,
        vec![Ok(good.clone()), Ok(bad), Ok(good.clone()), Ok(good)],
    )
    .await;
    assert_eq!(end.stopped, Some(Stop::FailFast));
    assert_eq!(end.not_run, 2);
    let st: Vec<Status> = run.tests().map(|t| t.status).collect();
    assert_eq!(st, [Status::Pass, Status::Fail]);
}

#[tokio::test]
async fn broken_files_fail_unmet_needs_skip_and_the_run_goes_on() {
    let script = Script::new(&[]);
    let config = RunConfig {
        repeat: 2,
        timeout: 7.0,
        ..Default::default()
    };
    let mut h = harness(script.clone(), &["n1"], config);
    let broken = Err(PlanError {
        message: "s/test_01.py does not load: SyntaxError: invalid syntax".into(),
        traceback: Some(
            "Traceback (most recent call last):\n  File \"test_01.py\", line 3\n".into(),
        ),
    });
    let two = plan(&["node1", "node2"], vec![step("a", "node1", &[])]);
    let ok = plan(&["node1"], vec![step("a", "node1", &[])]);
    let (run, _) = run_tests(&mut h, vec![broken, Ok(two), Ok(ok)]).await;
    let tests: Vec<&TestOutcome> = run.tests().collect();
    assert_eq!(tests.len(), 6, "two rounds of three");
    assert_eq!(run.suites.len(), 1);
    assert_eq!(tests[0].status, Status::Fail);
    assert!(tests[0]
        .error
        .starts_with("s/test_01.py does not load: SyntaxError"));
    assert!(tests[0]
        .error
        .contains("\nTraceback (most recent call last):"));
    assert_eq!(tests[1].status, Status::Skip);
    assert_eq!(tests[1].error, "needs 2 nodes, have 1");
    assert_eq!(tests[2].status, Status::Pass);
    assert_eq!(tests[3].repeat, 2);
    assert_eq!(tests[5].id, "03");
    assert_eq!(
        script.contexts.lock().unwrap()["a"].timeout,
        Some(7.0),
        "--timeout applies to steps without their own"
    );
    // Events: a start for the tests that ran, a finish for every test.
    let events = h.events.0.lock().unwrap();
    let started = events
        .iter()
        .filter(|e| matches!(e, Event::TestStarted { .. }))
        .count();
    let finished = events
        .iter()
        .filter(|e| matches!(e, Event::TestFinished { .. }))
        .count();
    assert_eq!((started, finished), (2, 6));
    assert!(matches!(events[0], Event::RunStarted { tests: 6 }));
}

#[tokio::test]
async fn excluded_tests_are_skipped_without_running() {
    let script = Script::new(&[]);
    let mut h = harness(script.clone(), &["n1"], RunConfig::default());
    let suites = vec![PlannedSuite {
        name: "s".into(),
        tests: vec![PlannedTest {
            test: test_file("01"),
            excluded: Some("excluded by --except".into()),
            plan: Ok(plan(&["node1"], vec![step("a", "node1", &[])])),
        }],
    }];
    let mut run = empty_run();
    h.runner.run(&suites, &mut run, |_| {}).await;
    let t = run.tests().next().unwrap();
    assert_eq!(
        (t.status, t.error.as_str()),
        (Status::Skip, "excluded by --except")
    );
    assert_eq!(t.description, "a test");
    assert!(script.entries().is_empty());
}

#[tokio::test]
async fn secrets_reach_every_step_and_the_master_blanks_them_out_of_its_records() {
    // The scripted "helper" does not redact: the master's own line of defence must.
    let script = Script::new(&[
        ("show", Act::Pass(json!({"t": "x hunter2 y", "hunter2": 1}))),
        ("bad", Act::Fail("token hunter2 refused")),
        ("gone", Act::Lost("ssh said hunter2")),
    ]);
    let secrets: BTreeMap<String, crate::protocol::Secret> =
        [("PW".to_string(), "hunter2".into())].into();
    let config = RunConfig {
        secrets: secrets.clone(),
        ..Default::default()
    };
    let mut h = harness(script.clone(), &["n1", "n2"], config);
    let p = plan(
        &["node1", "node2"],
        vec![
            step("show", "node1", &[]),
            step("next", "node1", &["show"]),
            step("bad", "node1", &["show"]),
            step("gone", "node2", &[]),
        ],
    );
    let (run, _) = run_tests(&mut h, vec![Ok(p)]).await;
    let t = &run.suites[0].tests[0];
    for name in ["show", "next", "bad", "gone"] {
        assert_eq!(
            script.contexts.lock().unwrap()[name].context.secrets,
            secrets,
            "{name}"
        );
    }
    let blanked = json!({"t": "x [secret PW] y", "[secret PW]": 1});
    assert_eq!(rec(t, "show").value.as_ref(), Some(&blanked));
    // What the next step is given as ctx.results, too.
    assert_eq!(
        script.contexts.lock().unwrap()["next"].context.results["show"],
        blanked
    );
    assert_eq!(why(rec(t, "bad")), "token [secret PW] refused");
    assert_eq!(why(rec(t, "gone")), "node n2 lost: ssh said [secret PW]");
    assert!(t.error.contains("[secret PW]"), "{}", t.error);
    // Why the node is down, which the run's record of it takes.
    let n2 = h.runner.nodes().iter().find(|n| n.name == "n2").unwrap();
    assert!(
        n2.down
            .as_deref()
            .unwrap_or_default()
            .contains("[secret PW]"),
        "{:?}",
        n2.down
    );
    let everything = format!(
        "{run:?} {:?} {:?}",
        h.events.0.lock().unwrap(),
        h.runner.nodes()
    );
    assert!(!everything.contains("hunter2"), "{everything}");
}

#[tokio::test]
async fn a_failed_clean_fails_the_test_saying_what_and_cleanups_learn_the_failure() {
    let script = Script::new(&[(
        "lutf.clean@server",
        Act::Fail("setup cleanup failed: umount /mnt/lutf (client) on n1: target is busy"),
    )]);
    let mut h = harness(script.clone(), &["n1", "n2"], RunConfig::default());
    let mut p = plan(&["server", "client"], vec![step("a", "client", &[])]);
    let mut logs = cleanup("lutf.logs@server", "server", &[]);
    logs.after = vec!["lutf.clean@server".into()];
    p.system = vec![
        step("lutf.clean@server", "server", &[]),
        step("lutf.clean@client", "client", &[]),
        logs,
    ];
    let t = run_one(&mut h, p).await;
    assert_eq!(t.status, Status::Fail);
    assert_eq!(
        t.error,
        "setup cleanup failed: umount /mnt/lutf (client) on n1: target is busy"
    );
    // The test's own step waited for the clean and did not run.
    assert_eq!(rec(&t, "a").status, Status::Skip, "{}", why(rec(&t, "a")));
    assert!(why(rec(&t, "a")).contains("lutf.clean@server failed"));
    // lutf's log step ran and was told why the test failed.
    let failed = script.contexts.lock().unwrap()["lutf.logs@server"]
        .context
        .failed
        .clone();
    assert_eq!(
        failed.as_deref(),
        Some("setup cleanup failed: umount /mnt/lutf (client) on n1: target is busy")
    );

    // Without cleaning (--no-clean) the same plan runs its step.
    let script = Script::new(&[]);
    let config = RunConfig {
        clean: false,
        ..RunConfig::default()
    };
    let mut h = harness(script.clone(), &["n1", "n2"], config);
    let mut p = plan(&["server", "client"], vec![step("a", "client", &[])]);
    p.system = vec![step("lutf.clean@server", "server", &[])];
    let t = run_one(&mut h, p).await;
    assert_eq!(t.status, Status::Pass, "{}", t.error);
    assert!(!script.entries().iter().any(|e| e.contains("lutf.clean")));
}
