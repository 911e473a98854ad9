//! How soon `wait` answers once a job has ended: the real helper binary, one process per
//! call as the master makes them, on short jobs (`sleep 0`, `0.02`, `0.05`, `0.08`, ...,
//! the length of short test steps).
//!
//! For each job: the time from sending `spawn` to receiving the `wait` answer, minus the
//! job's own duration as the helper measured it, is the cost of running it as a job (the
//! two helper calls, the supervisor's start, and how late `wait` noticed the end); and the
//! time from the supervisor writing the job's end record (`end.yml`'s mtime) to the `wait`
//! answer in hand is how late `wait` noticed.
//!
//! `cargo bench -p lutf-helper --bench wait` (`LUTF_BENCH_ROUNDS=N` for more rounds;
//! `LUTF_HELPER=path` to measure another helper binary).

use std::io::Write;
use std::process::{Command, Stdio};
use std::time::Instant;

use lutf_protocol::{
    decode_reply, Bytes, ExecArgs, JobArgs, Op, Request, SpawnResult, WaitArgs, WaitResult,
};
use serde::de::DeserializeOwned;

fn call<T: DeserializeOwned>(helper: &str, workdir: &std::path::Path, op: Op) -> T {
    let mut child = Command::new(helper)
        .arg("--workdir")
        .arg(workdir)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("start the helper");
    child
        .stdin
        .take()
        .unwrap()
        .write_all(Request::from(op).to_yaml().as_bytes())
        .unwrap();
    let out = child.wait_with_output().unwrap();
    let text = String::from_utf8_lossy(&out.stdout);
    decode_reply::<T>(&text)
        .unwrap_or_else(|e| panic!("not a reply ({e}): {text}"))
        .into_result()
        .unwrap_or_else(|e| panic!("helper error: {e:?}"))
}

fn stats(name: &str, mut ms: Vec<f64>) {
    ms.sort_by(f64::total_cmp);
    let mean = ms.iter().sum::<f64>() / ms.len() as f64;
    let pct = |p: f64| ms[((ms.len() - 1) as f64 * p).round() as usize];
    println!(
        "{name:<34} mean {mean:6.1} ms  median {:6.1}  p90 {:6.1}  min {:6.1}  max {:6.1}  (n={})",
        pct(0.5),
        pct(0.9),
        ms[0],
        ms[ms.len() - 1],
        ms.len()
    );
}

fn main() {
    let helper = std::env::var("LUTF_HELPER")
        .unwrap_or_else(|_| env!("CARGO_BIN_EXE_lutf-helper").to_string());
    let rounds: usize = std::env::var("LUTF_BENCH_ROUNDS")
        .ok()
        .and_then(|r| r.parse().ok())
        .unwrap_or(10);
    let dir = tempfile::tempdir().unwrap();
    let workdir = dir.path().join("w");
    let (mut overhead, mut spawn_ms, mut wait_ms, mut late) = (vec![], vec![], vec![], vec![]);
    for round in 0..rounds {
        for secs in ["0", "0.02", "0.05", "0.08", "0.13", "0.21"] {
            let t0 = Instant::now();
            let s: SpawnResult = call(
                &helper,
                &workdir,
                Op::Spawn(ExecArgs {
                    argv: vec![Bytes::from("sleep"), Bytes::from(secs)],
                    ..Default::default()
                }),
            );
            let t1 = Instant::now();
            let w: WaitResult = call(
                &helper,
                &workdir,
                Op::Wait(WaitArgs {
                    job: s.job.clone(),
                    timeout: 10.0,
                }),
            );
            let t2 = Instant::now();
            let answered = std::time::SystemTime::now();
            assert!(w.finished, "the job ended within 10 s");
            let end_written = std::fs::metadata(workdir.join("jobs").join(&s.job).join("end.yml"))
                .and_then(|m| m.modified())
                .expect("the job's end record");
            let total = (t2 - t0).as_secs_f64();
            if round > 0 {
                // The first round warms the page cache.
                overhead.push((total - w.duration) * 1e3);
                spawn_ms.push((t1 - t0).as_secs_f64() * 1e3);
                wait_ms.push((t2 - t1).as_secs_f64() * 1e3);
                // From the supervisor's end record to the answer in hand.
                let after = answered.duration_since(end_written).unwrap_or_default();
                late.push(after.as_secs_f64() * 1e3);
            }
            let () = call(&helper, &workdir, Op::Forget(JobArgs { job: s.job }));
        }
    }
    println!("helper: {helper}");
    stats("spawn + wait - job duration", overhead);
    stats("spawn call", spawn_ms);
    stats("wait call", wait_ms);
    stats("end record written -> wait answered", late);
}
