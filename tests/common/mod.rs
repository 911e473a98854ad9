//! Shared by the `run_*` integration tests: runs the real `lutf` binary on this machine
//! (the local transport, the real helper, real `python3`) with its own work directory and
//! results folder, so tests never share state.

#![allow(dead_code)]

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

/// The project's folder.
pub fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// The shipped suites.
pub fn samples() -> PathBuf {
    root().join("suites")
}

/// The fixture suites (failing, broken, hanging, skipping tests).
pub fn fixtures() -> PathBuf {
    root().join("tests/fixtures/suites")
}

/// A scratch place for one test: a work directory for the helper and a results root.
pub struct Scratch {
    /// Holds everything; removed when dropped.
    pub dir: tempfile::TempDir,
}

impl Scratch {
    pub fn new() -> Scratch {
        Scratch {
            dir: tempfile::tempdir().expect("a temporary folder"),
        }
    }

    /// Where results folders go.
    pub fn results(&self) -> PathBuf {
        self.dir.path().join("results")
    }

    /// Runs `lutf ARGS --suites SUITES` with this scratch's work directory, in its folder.
    pub fn lutf(&self, suites: &Path, args: &[&str]) -> Run {
        let out = Command::new(env!("CARGO_BIN_EXE_lutf"))
            .args(args)
            .arg("--suites")
            .arg(suites)
            .arg("--workdir")
            .arg(self.dir.path().join("work"))
            .current_dir(self.dir.path())
            .env_remove("LUTF_LOG")
            .env("NO_COLOR", "1")
            .output()
            .expect("run lutf");
        Run::from(out)
    }

    /// `lutf run ARGS --results <scratch>/results`.
    pub fn run(&self, suites: &Path, args: &[&str]) -> Run {
        let results = self.results();
        let mut all = vec!["run", "--results", results.to_str().unwrap()];
        all.extend_from_slice(args);
        self.lutf(suites, &all)
    }

    /// The results folder of the latest run.
    pub fn latest(&self) -> PathBuf {
        let latest = self.results().join("latest");
        std::fs::canonicalize(&latest).unwrap_or_else(|e| panic!("{}: {e}", latest.display()))
    }

    /// The latest run's `results.yml`, parsed.
    pub fn results_yml(&self) -> serde_yaml::Value {
        let path = self.latest().join("results.yml");
        let text =
            std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
        serde_yaml::from_str(&text)
            .unwrap_or_else(|e| panic!("results.yml is not YAML: {e}\n{text}"))
    }

    /// The latest run's `run.json`, parsed.
    pub fn run_json(&self) -> lutf::outcome::RunOutcome {
        let path = self.latest().join("run.json");
        let text =
            std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
        serde_json::from_str(&text).unwrap_or_else(|e| panic!("run.json: {e}"))
    }
}

/// What one `lutf` invocation did.
pub struct Run {
    pub code: i32,
    pub stdout: String,
    pub stderr: String,
}

impl From<Output> for Run {
    fn from(o: Output) -> Run {
        Run {
            code: o.status.code().unwrap_or(-1),
            stdout: String::from_utf8_lossy(&o.stdout).into_owned(),
            stderr: String::from_utf8_lossy(&o.stderr).into_owned(),
        }
    }
}

impl std::fmt::Display for Run {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "exit code {}\n--- stdout\n{}--- stderr\n{}",
            self.code, self.stdout, self.stderr
        )
    }
}

/// The SubTests of suite `suite` in a results.yml, as (name, status, error).
pub fn subtests(yml: &serde_yaml::Value, suite: &str) -> Vec<(String, String, String)> {
    let tests = yml["Tests"].as_sequence().expect("Tests is a list");
    let entry = tests
        .iter()
        .find(|t| t["name"].as_str() == Some(suite))
        .unwrap_or_else(|| panic!("no suite {suite} in {yml:?}"));
    entry["SubTests"]
        .as_sequence()
        .expect("SubTests is a list")
        .iter()
        .map(|s| {
            (
                s["name"].as_str().unwrap_or_default().to_string(),
                s["status"].as_str().unwrap_or_default().to_string(),
                match &s["error"] {
                    serde_yaml::Value::String(e) => e.clone(),
                    serde_yaml::Value::Null => String::new(),
                    other => format!("{other:?}"),
                },
            )
        })
        .collect()
}

/// The python3 on this machine, if any (the integration tests need it).
pub fn have_python() -> bool {
    Command::new("python3")
        .arg("--version")
        .output()
        .is_ok_and(|o| o.status.success())
}
