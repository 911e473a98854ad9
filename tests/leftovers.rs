//! Jobs left by a gone master, on this machine through the local transport (where a job
//! has no sshd session to watch, so only a later run stops it): the next run kills the
//! ones a dead lutf master on this machine left, and never those of a master that still
//! runs or of one on another machine. The cut-off node cases over SSH are in
//! `tests/run_ssh.rs`.

mod support;

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use support::{process_alive as alive, run_json, show};

fn suites() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/runner-suites")
}

fn lutf_run(dir: &Path, only: &str, marker: &Path) -> Command {
    let mut c = Command::new(support::lutf_bin());
    c.arg("--workdir")
        .arg(dir.join("work"))
        .arg("--suites")
        .arg(suites())
        .args(["run", "--suite", "leftover", "--only", only, "--param"])
        .arg(format!("marker={}", marker.display()))
        .arg("--results")
        .arg(dir.join("results"))
        .env_remove("LUTF_LOG")
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    c
}

/// Starts a run of `leftover/test_01` and returns once its step holds.
fn start_holding(dir: &Path, marker: &Path) -> Child {
    let mut child = lutf_run(dir, "01", marker).spawn().unwrap();
    let t0 = Instant::now();
    while !marker.exists() {
        if child.try_wait().unwrap().is_some() {
            panic!(
                "lutf ended early: {}",
                show(&child.wait_with_output().unwrap())
            );
        }
        // Generous: only proves that starting the step did not hang.
        assert!(
            t0.elapsed() < Duration::from_secs(60),
            "the step never held"
        );
        std::thread::sleep(Duration::from_millis(20));
    }
    child
}

/// The job folders under the work directory, with their command's pid once started
/// (hidden folders are spare runners, not jobs).
fn jobs(dir: &Path) -> Vec<(PathBuf, Option<i32>)> {
    let Ok(entries) = std::fs::read_dir(dir.join("work/jobs")) else {
        return Vec::new();
    };
    entries
        .flatten()
        .filter(|e| !e.file_name().to_string_lossy().starts_with('.'))
        .map(|e| {
            let started = std::fs::read_to_string(e.path().join("started.yml")).ok();
            let pid = started.and_then(|s| {
                let v: serde_yaml::Value = serde_yaml::from_str(&s).ok()?;
                v["pid"].as_i64().map(|p| p as i32)
            });
            (e.path(), pid)
        })
        .collect()
}

/// Sets the `origin.host` recorded in a job's spec (as if another machine's master had
/// started it).
fn set_origin_host(job: &Path, host: &str) -> String {
    let path = job.join("spec.yml");
    let mut spec: serde_yaml::Value =
        serde_yaml::from_str(&std::fs::read_to_string(&path).unwrap()).unwrap();
    let was = spec["args"]["origin"]["host"].as_str().unwrap().to_string();
    spec["args"]["origin"]["host"] = host.into();
    std::fs::write(&path, serde_yaml::to_string(&spec).unwrap()).unwrap();
    was
}

#[test]
fn the_next_run_kills_only_what_a_gone_master_here_left() {
    let dir = tempfile::tempdir().unwrap();
    let dir = dir.path();
    let marker = dir.join("holding");

    // A run holds; a second run meanwhile leaves its job alone: its master lives.
    let mut first = start_holding(dir, &marker);
    let held = jobs(dir);
    assert_eq!(held.len(), 1, "{held:?}");
    let (job, pid) = held[0].clone();
    let pid = pid.expect("the job started");
    let out = lutf_run(dir, "02", &marker).output().unwrap();
    assert_eq!(out.status.code(), Some(0), "{}", show(&out));
    assert!(
        alive(pid),
        "a live master's job is left alone\n{}",
        show(&out)
    );
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(!err.contains("killed"), "{}", show(&out));
    // Said in a plain sentence, not as a tracing line.
    let id = job.file_name().unwrap().to_string_lossy().into_owned();
    assert!(
        err.contains(&format!(
            "lutf: node local: leftover/test_01 hold (job {id}) was started by lutf pid {} on ",
            first.id()
        )) && err.contains("still runs; left alone"),
        "{}",
        show(&out)
    );
    assert!(!err.contains("WARN"), "{}", show(&out));

    // The master dies; the local transport has no sshd session for the job to watch.
    first.kill().unwrap();
    first.wait().unwrap();
    std::thread::sleep(Duration::from_millis(300));
    assert!(
        alive(pid),
        "nothing stops the job of a dead master by itself here"
    );

    // Another machine's master started it (as its origin says): never touched.
    let host = set_origin_host(&job, "another-machine");
    let out = lutf_run(dir, "02", &marker).output().unwrap();
    assert_eq!(out.status.code(), Some(0), "{}", show(&out));
    assert!(
        alive(pid),
        "another machine's job is left alone\n{}",
        show(&out)
    );
    assert!(run_json(&dir.join("results")).nodes["local"]
        .leftovers
        .is_none());

    // This machine's dead master left it: the next run kills it and says so.
    set_origin_host(&job, &host);
    let t0 = Instant::now();
    let out = lutf_run(dir, "02", &marker).output().unwrap();
    println!(
        "FAULT-TIMING leftover job: the next run (killing it included) took {:.3} s",
        t0.elapsed().as_secs_f64()
    );
    assert_eq!(out.status.code(), Some(0), "{}", show(&out));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains(&format!(
            "lutf: node local: killed 1 job left running by an earlier lutf run on this machine: leftover/test_01 hold (job {id}, lutf run "
        )),
        "{err}"
    );
    assert!(!alive(pid), "the leftover job was killed");
    assert!(!job.exists(), "and its folder removed");
    let leftovers = run_json(&dir.join("results")).nodes["local"]
        .leftovers
        .clone()
        .unwrap_or_default();
    assert!(
        leftovers.starts_with("killed 1 job left running by an earlier lutf run on this machine: "),
        "{leftovers}"
    );
}
