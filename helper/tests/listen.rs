//! Nothing listens: while the real helper serves every kind of operation (facts, exec, a
//! step, background jobs and steps), no process of the helper's — the helper, its job
//! supervisors, Python, the commands — holds a listening TCP socket, a bound UDP socket or
//! a listening Unix socket. A control command that does listen proves the check sees one.

mod common;

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::path::Path;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use common::bundle::Bundle;
use lutf_protocol::{ExecArgs, ExecResult, Facts, KillArgs, KillResult, Op, SpawnResult};

/// Sockets that accept from others, in this network namespace: inode -> description.
/// TCP in LISTEN (state 0A), UDP bound and unconnected (state 07), Unix sockets with
/// `__SO_ACCEPTCON` (listening stream or seqpacket).
fn listening() -> BTreeMap<u64, String> {
    let mut out = BTreeMap::new();
    for (file, state) in [("tcp", "0A"), ("tcp6", "0A"), ("udp", "07"), ("udp6", "07")] {
        let text = std::fs::read_to_string(format!("/proc/net/{file}")).unwrap_or_default();
        for line in text.lines().skip(1) {
            let f: Vec<&str> = line.split_whitespace().collect();
            if f.len() > 9 && f[3] == state {
                if let Ok(inode) = f[9].parse() {
                    out.insert(inode, format!("{file} {}", f[1]));
                }
            }
        }
    }
    let text = std::fs::read_to_string("/proc/net/unix").unwrap_or_default();
    for line in text.lines().skip(1) {
        let f: Vec<&str> = line.split_whitespace().collect();
        let flags = f
            .get(3)
            .and_then(|x| u64::from_str_radix(x, 16).ok())
            .unwrap_or(0);
        if flags & 0x10000 != 0 {
            if let Some(inode) = f.get(6).and_then(|x| x.parse().ok()) {
                out.insert(inode, format!("unix {}", f.get(7).unwrap_or(&"(unnamed)")));
            }
        }
    }
    out
}

/// Every process: pid -> (ppid, command line).
fn processes() -> HashMap<i32, (i32, String)> {
    let mut out = HashMap::new();
    for entry in std::fs::read_dir("/proc").unwrap().flatten() {
        let Ok(pid) = entry.file_name().to_string_lossy().parse::<i32>() else {
            continue;
        };
        let Ok(stat) = std::fs::read_to_string(entry.path().join("stat")) else {
            continue;
        };
        let Some(ppid) = stat
            .rsplit_once(')')
            .and_then(|(_, rest)| rest.split_whitespace().nth(1))
            .and_then(|p| p.parse().ok())
        else {
            continue;
        };
        let cmdline = std::fs::read(entry.path().join("cmdline")).unwrap_or_default();
        out.insert(
            pid,
            (ppid, String::from_utf8_lossy(&cmdline).replace('\0', " ")),
        );
    }
    out
}

/// The processes of this bundle: those whose command line names its folder or work
/// directory (the helper, supervisors, Python), and all their descendants.
fn ours(procs: &HashMap<i32, (i32, String)>, needles: &[String]) -> BTreeSet<i32> {
    let mut set: BTreeSet<i32> = procs
        .iter()
        .filter(|(_, (_, cmd))| needles.iter().any(|n| cmd.contains(n.as_str())))
        .map(|(&pid, _)| pid)
        .collect();
    loop {
        let more: Vec<i32> = procs
            .iter()
            .filter(|(pid, (ppid, _))| set.contains(ppid) && !set.contains(pid))
            .map(|(&pid, _)| pid)
            .collect();
        if more.is_empty() {
            return set;
        }
        set.extend(more);
    }
}

/// Listening sockets held by `pids`: (pid, command, socket).
fn listeners(
    pids: &BTreeSet<i32>,
    procs: &HashMap<i32, (i32, String)>,
) -> Vec<(i32, String, String)> {
    let open = listening();
    let mut found = Vec::new();
    for &pid in pids {
        let Ok(fds) = std::fs::read_dir(format!("/proc/{pid}/fd")) else {
            continue;
        };
        for fd in fds.flatten() {
            let Ok(target) = std::fs::read_link(fd.path()) else {
                continue;
            };
            let target = target.to_string_lossy();
            let Some(inode) = target
                .strip_prefix("socket:[")
                .and_then(|t| t.strip_suffix(']'))
                .and_then(|t| t.parse::<u64>().ok())
            else {
                continue;
            };
            if let Some(what) = open.get(&inode) {
                let cmd = procs.get(&pid).map(|p| p.1.clone()).unwrap_or_default();
                found.push((pid, cmd, what.clone()));
            }
        }
    }
    found
}

/// What sampling saw while the calls ran.
#[derive(Default)]
struct Seen {
    /// Command lines of our processes, each seen at least once.
    commands: BTreeSet<String>,
    /// Listening sockets found on our processes.
    listeners: Vec<(i32, String, String)>,
}

/// Runs `calls` in a thread while sampling our processes every few milliseconds.
fn watch(needles: Vec<String>, calls: impl FnOnce() + Send + 'static) -> Seen {
    let done = Arc::new(AtomicBool::new(false));
    let flag = done.clone();
    let worker = std::thread::spawn(move || {
        calls();
        flag.store(true, Ordering::SeqCst);
    });
    let mut seen = Seen::default();
    while !done.load(Ordering::SeqCst) {
        let procs = processes();
        let pids = ours(&procs, &needles);
        for pid in &pids {
            seen.commands.insert(procs[pid].1.clone());
        }
        seen.listeners.extend(listeners(&pids, &procs));
        std::thread::sleep(Duration::from_millis(5));
    }
    worker.join().unwrap();
    seen
}

#[test]
fn no_helper_process_listens_on_anything() {
    let b = Arc::new(Bundle::new());
    let bundle_dir = b.helper.parent().unwrap().display().to_string();
    let needles = vec![bundle_dir, b.work.workdir.display().to_string()];
    let marker = common::sleep_marker();
    let calls = {
        let b = b.clone();
        let marker = marker.clone();
        move || {
            let _: Facts = b.call(Op::Facts);
            let r: ExecResult = b.call(Op::Exec(ExecArgs {
                argv: vec!["sleep 0.3; echo done".into()],
                shell: true,
                timeout: Some(30.0),
                ..Default::default()
            }));
            assert_eq!(r.exit.code, Some(0));
            // Background work going on while a step runs.
            let job: SpawnResult = b.call(Op::Spawn(ExecArgs {
                argv: vec!["sleep".into(), marker.as_str().into()],
                ..Default::default()
            }));
            let step_job: SpawnResult = b.call(Op::SpawnStep(b.step_args(
                "helper/test_background.py",
                "ticker",
                None,
            )));
            let r = b.step("samples/test_01.py", "whoami", Some(30.0));
            assert!(matches!(r.outcome, lutf_protocol::StepOutcome::Pass { .. }));
            for job in [job.job, step_job.job] {
                let _: KillResult = b.call(Op::Kill(KillArgs {
                    job,
                    grace: Some(2.0),
                }));
            }
        }
    };
    let seen = watch(needles.clone(), calls);
    assert!(
        seen.listeners.is_empty(),
        "listening sockets: {:?}",
        seen.listeners
    );
    // The check saw what it was meant to check: the helper, a supervisor, Python running
    // a step, and a command.
    let saw = |what: &str| seen.commands.iter().any(|c| c.contains(what));
    for what in [
        "--workdir",
        "--supervise",
        "lutf.runner step",
        marker.as_str(),
    ] {
        assert!(
            saw(what),
            "never saw a process with {what:?}: {:?}",
            seen.commands
        );
    }

    // Control: a command of ours that does listen (TCP, UDP and Unix) is seen.
    let sock = tempfile::tempdir().unwrap();
    let script = format!(
        "import socket, time; \
         t = socket.socket(); t.bind(('127.0.0.1', 0)); t.listen(1); \
         u = socket.socket(socket.AF_INET, socket.SOCK_DGRAM); u.bind(('127.0.0.1', 0)); \
         x = socket.socket(socket.AF_UNIX); x.bind('{}/s'); x.listen(1); \
         print('LISTENING', flush=True); time.sleep(30)",
        sock.path().display()
    );
    let job: SpawnResult = b.call(Op::Spawn(ExecArgs {
        argv: vec!["python3".into(), "-c".into(), script.into()],
        ..Default::default()
    }));
    let until = Instant::now() + Duration::from_secs(20);
    let found = loop {
        let procs = processes();
        let found = listeners(&ours(&procs, &needles), &procs);
        if found.len() >= 3 || Instant::now() > until {
            break found;
        }
        std::thread::sleep(Duration::from_millis(20));
    };
    let _: KillResult = b.call(Op::Kill(KillArgs {
        job: job.job,
        grace: Some(0.0),
    }));
    let kinds: BTreeSet<&str> = found
        .iter()
        .map(|(_, _, s)| s.split(' ').next().unwrap())
        .collect();
    assert_eq!(
        kinds,
        BTreeSet::from(["tcp", "udp", "unix"]),
        "the control listener was not seen: {found:?}"
    );
    assert!(Path::new(&sock.path().join("s")).exists());
}
