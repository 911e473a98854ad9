//! A deployed bundle for tests that run test files: the real helper beside the real Python
//! package and the fixture suites, exactly as `lutf` lays them out on a node.

use std::collections::BTreeMap;
use std::os::unix::fs::symlink;
use std::path::{Path, PathBuf};

use lutf_protocol::{
    Facts, Failure, NodeInfo, Op, PlanArgs, StepArgs, StepContext, StepOutcome, StepResult,
    TestPlan,
};

use super::{Called, Work, HELPER};

/// The repository root.
pub const ROOT: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/..");

/// A bundle as deployed: `lutf-helper`, `python/`, `suites/` side by side. `suites/` holds
/// `samples`, the fixture suites `broken`, `failures`, `deps`, and the helper's own
/// fixtures (`helper/tests/fixtures`) as suite `helper`.
pub struct Bundle {
    /// The work directory and environment of the calls.
    pub work: Work,
    _dir: tempfile::TempDir,
    /// The bundle's copy of the helper.
    pub helper: PathBuf,
}

impl Bundle {
    /// A fresh bundle with its own work directory.
    pub fn new() -> Bundle {
        let dir = tempfile::tempdir().unwrap();
        let helper = dir.path().join("lutf-helper");
        // A copy, not a link: the helper finds its bundle from its own real path.
        super::copy_executable(Path::new(HELPER), &helper);
        symlink(
            Path::new(ROOT).join("helper/python"),
            dir.path().join("python"),
        )
        .unwrap();
        let suites = dir.path().join("suites");
        std::fs::create_dir(&suites).unwrap();
        symlink(
            Path::new(ROOT).join("suites/samples"),
            suites.join("samples"),
        )
        .unwrap();
        for s in ["broken", "failures", "deps"] {
            symlink(
                Path::new(ROOT).join("tests/fixtures/suites").join(s),
                suites.join(s),
            )
            .unwrap();
        }
        symlink(
            Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures"),
            suites.join("helper"),
        )
        .unwrap();
        Bundle {
            work: Work::new(),
            _dir: dir,
            helper,
        }
    }

    /// Runs `op`; panics on an error reply or a non-zero exit.
    pub fn call<T: serde::de::DeserializeOwned>(&self, op: Op) -> T {
        match self.work.call_with(&self.helper, op) {
            (Ok(v), 0) => v,
            (r, code) => panic!("exit code {code}: {:?}", r.err()),
        }
    }

    /// Runs `op` and returns the whole call (reply text, exit code, peak memory).
    pub fn call_measured(&self, op: Op) -> Called {
        self.work.call_measured(&self.helper, op)
    }

    /// The plan of `file` (relative to `suites/`).
    pub fn plan(&self, file: &str) -> TestPlan {
        self.call(Op::Plan(PlanArgs { file: file.into() }))
    }

    /// The arguments for running `step` of `file` on this machine as its test's first role.
    pub fn step_args(&self, file: &str, step: &str, timeout: Option<f64>) -> StepArgs {
        let plan = self.plan(file);
        let role = plan
            .steps
            .iter()
            .find(|s| s.name == step)
            .map(|s| s.role.clone())
            .unwrap_or_else(|| panic!("no step {step} in {plan:?}"));
        let facts: Facts = self.call(Op::Facts);
        let nodes = plan
            .needs
            .roles
            .iter()
            .map(|r| {
                (
                    r.clone(),
                    NodeInfo {
                        name: "local".into(),
                        facts: facts.clone(),
                        targets: None,
                    },
                )
            })
            .collect();
        StepArgs {
            file: file.into(),
            step: step.into(),
            context: StepContext {
                test: file.trim_end_matches(".py").into(),
                role,
                node_name: "local".into(),
                nodes,
                results: BTreeMap::new(),
                params: BTreeMap::new(),
                secrets: BTreeMap::new(),
                failed: None,
            },
            timeout,
            output_limit: None,
            origin: None,
            wait: None,
            job: None,
        }
    }

    /// Runs `step` of `file` to its end.
    pub fn step(&self, file: &str, step: &str, timeout: Option<f64>) -> StepResult {
        self.call(Op::Step(self.step_args(file, step, timeout)))
    }
}

/// The failure of a FAIL outcome; panics on any other outcome.
pub fn failure(o: &StepOutcome) -> &Failure {
    match o {
        StepOutcome::Fail { failure } => failure,
        other => {
            // Shortened: a hostile step's value may be megabytes.
            let shown: String = format!("{other:?}").chars().take(500).collect();
            panic!("expected FAIL, got {shown}")
        }
    }
}
