//! Jobs a run leaves behind on nodes it lost, and how lutf stops them.
//!
//! A node cut off mid-step (link down, then back) keeps its step running: the master gave
//! up on the connection, but the node's `sshd` never learns that it died (nothing is sent
//! on it, and `ClientAliveInterval` is off by default, which lutf may not change), so the
//! helper's owner watch, which stops a job when the `sshd` session above it ends, never
//! fires. Two things stop such a job:
//!
//! - **End of run** ([`crate::runner::NodeExecutor::clean_lost`]): for each node lost
//!   during the run, the master reconnects once, bounded by [`lost_cleanup_bound`] (one
//!   connect timeout plus the kill's grace), and kills the jobs this run started there. The
//!   outcome, [`LostCleanup`], goes into the node's record in `run.json` and, when the node
//!   is still unreachable, into one warning line naming the jobs.
//! - **Next contact** ([`reap`]): every step job records the [`Origin`] of the master that
//!   started it. When a later run reaches the node, it lists the jobs there and kills the
//!   running ones started by a lutf master on this same machine (same hostname and machine
//!   id) that is gone: another boot, no process with its pid, or one that started at
//!   another time (the pid was reused). Jobs of masters on other machines are never
//!   touched (other people may share the nodes); they are only logged. `lutf status` lists
//!   leftovers ([`is_leftover`]) without killing them.

use std::collections::BTreeMap;
use std::time::Duration;

use crate::node::Node;
use crate::protocol::{start_ticks, JobInfo, JobsResult, KillArgs, KillResult, Op, Origin};
use crate::runner::executor::STOP_GRACE;

/// Seconds the next-contact clean-up may take per node, all of its jobs together.
pub const REAP_BOUND: f64 = 15.0;

/// How long the end-of-run clean-up of lost nodes may take in all (the nodes are tried at
/// once): one connect timeout, the kill's grace, and 3 s for the helper calls. A node still
/// cut off costs the run this much once, at its end, and never more.
pub fn lost_cleanup_bound(connect_timeout: Duration) -> Duration {
    connect_timeout + Duration::from_secs_f64(STOP_GRACE + 3.0)
}

/// This master process, as jobs record it.
pub fn this_master(run: Option<&str>) -> Origin {
    let read = |path: &str| {
        std::fs::read_to_string(path)
            .map(|s| s.trim().to_string())
            .unwrap_or_default()
    };
    let pid = std::process::id();
    Origin {
        host: crate::commands::run::hostname(),
        machine_id: read("/etc/machine-id"),
        boot_id: read("/proc/sys/kernel/random/boot_id"),
        pid,
        pid_start: start_ticks(pid as i32),
        run: run.map(str::to_string),
    }
}

/// Whether the master `origin`, started on this machine (see [`Origin::same_machine`]),
/// has ended. `me` is this process, for the machine's boot id.
pub fn master_gone(origin: &Origin, me: &Origin) -> bool {
    if origin.boot_id != me.boot_id {
        // Another boot of this machine: every process of that boot is gone.
        return true;
    }
    match (start_ticks(origin.pid as i32), origin.pid_start) {
        (None, _) => true,
        // Another process got the pid since.
        (Some(now), Some(then)) => now != then,
        // No start time recorded: the pid alone says it lives.
        (Some(_), None) => false,
    }
}

/// What the end-of-run clean-up of one lost node found.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct LostCleanup {
    /// Jobs that still ran and were killed (`suite/test_id step (job ID)`).
    pub killed: Vec<String>,
    /// Jobs that had ended by themselves meanwhile.
    pub ended: Vec<String>,
    /// Jobs that may still run: the node could not be reached in time.
    pub left: Vec<String>,
    /// Why the node could not be reached, when it could not.
    pub unreachable: Option<String>,
}

impl LostCleanup {
    /// One line for the node's record in `run.json`.
    pub fn note(&self) -> String {
        let mut parts = Vec::new();
        if !self.killed.is_empty() {
            parts.push(format!(
                "reconnected and killed {}: {}",
                jobs(self.killed.len()),
                self.killed.join(", ")
            ));
        }
        if !self.ended.is_empty() {
            parts.push(format!(
                "reconnected; {} had ended: {}",
                jobs(self.ended.len()),
                self.ended.join(", ")
            ));
        }
        if !self.left.is_empty() {
            let why = match &self.unreachable {
                Some(why) => format!("unreachable at the end of the run ({why})"),
                None => "could not kill them".into(),
            };
            parts.push(format!(
                "{why}: {} may still run there: {}",
                jobs(self.left.len()),
                self.left.join(", ")
            ));
        }
        if parts.is_empty() {
            return "no job of this run was left there".into();
        }
        parts.join("; ")
    }

    /// The warning to print when jobs may still run on `node`.
    pub fn warning(&self, node: &str) -> Option<String> {
        if self.left.is_empty() {
            return None;
        }
        let them = them(self.left.len());
        Some(format!(
            "lutf: warning: node {node} was lost and {}: {} of this run may still run there ({}); the next `lutf run` from this machine that reaches {node} kills {them}, or kill {them} by hand",
            if self.unreachable.is_some() {
                "is still unreachable"
            } else {
                "did not stop them"
            },
            jobs(self.left.len()),
            self.left.join(", "),
        ))
    }
}

/// "1 job", "2 jobs".
pub fn jobs(n: usize) -> String {
    format!("{n} job{}", if n == 1 { "" } else { "s" })
}

/// "it" for one job, "them" for more.
pub fn them(n: usize) -> &'static str {
    if n == 1 {
        "it"
    } else {
        "them"
    }
}

/// What the next-contact clean-up did on one node.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Reaped {
    /// Jobs left running by a dead lutf master on this machine, now killed.
    pub killed: Vec<JobInfo>,
    /// Such jobs that could not be killed, with why.
    pub failed: Vec<(JobInfo, String)>,
    /// Running jobs of lutf masters on other machines, or of live masters here: not ours to
    /// touch, only logged.
    pub others: Vec<JobInfo>,
}

impl Reaped {
    /// One line for the node's record in `run.json` and the run's output (`None` when
    /// nothing was left).
    pub fn note(&self) -> Option<String> {
        let describe = |j: &JobInfo| {
            let from = j.origin.as_ref().map_or(String::new(), |o| {
                format!(
                    ", lutf run {} pid {}",
                    o.run.as_deref().unwrap_or("?"),
                    o.pid
                )
            });
            format!("{} (job {}{from})", j.label(), j.job)
        };
        let mut parts = Vec::new();
        if !self.killed.is_empty() {
            parts.push(format!(
                "killed {} left running by an earlier lutf run on this machine: {}",
                jobs(self.killed.len()),
                self.killed
                    .iter()
                    .map(describe)
                    .collect::<Vec<_>>()
                    .join(", ")
            ));
        }
        if !self.failed.is_empty() {
            parts.push(format!(
                "could not kill {} left by an earlier lutf run on this machine: {}",
                jobs(self.failed.len()),
                self.failed
                    .iter()
                    .map(|(j, e)| format!("{} ({e})", describe(j)))
                    .collect::<Vec<_>>()
                    .join(", ")
            ));
        }
        (!parts.is_empty()).then(|| parts.join("; "))
    }
}

/// Whether `job` is a leftover: still running, and started by a lutf master on this
/// machine (`me`'s) that is gone.
pub fn is_leftover(job: &JobInfo, me: &Origin) -> bool {
    job.running
        && job
            .origin
            .as_ref()
            .is_some_and(|o| o.same_machine(me) && master_gone(o, me))
}

/// Lists the jobs on `node` and kills the running ones that a gone lutf master on this
/// machine left there (see the module's doc), at most [`REAP_BOUND`] seconds.
pub async fn reap(node: &Node, me: &Origin) -> Result<Reaped, String> {
    let work = async {
        let listed: JobsResult = node.call(Op::Jobs).await.map_err(|e| e.to_string())?;
        let mut out = Reaped::default();
        for job in listed.jobs.into_iter().filter(|j| j.running) {
            if !is_leftover(&job, me) {
                out.others.push(job);
                continue;
            }
            let killed = node
                .call::<KillResult>(Op::Kill(KillArgs {
                    job: job.job.clone(),
                    grace: Some(STOP_GRACE),
                }))
                .await;
            match killed {
                Ok(_) => {
                    // Its files only cost disk space: a failed forget is not worth a word.
                    let _ = node
                        .call::<serde_yaml::Value>(Op::Forget(crate::protocol::JobArgs {
                            job: job.job.clone(),
                        }))
                        .await;
                    // The run's output says so too (see `reap_all`): info, not a warning.
                    tracing::info!(node = %node.name, job = %job.job, what = %job.label(),
                        "killed a job left running by a gone lutf master on this machine");
                    out.killed.push(job);
                }
                Err(e) => out.failed.push((job, e.to_string())),
            }
        }
        for j in &out.others {
            let by = j.origin.as_ref().map_or_else(
                || "an unknown master".to_string(),
                |o| format!("lutf pid {} on {}", o.pid, o.host),
            );
            crate::reporter::eprintln(&format!(
                "lutf: node {}: {} (job {}) was started by {by} and still runs; left alone",
                node.name,
                j.label(),
                j.job
            ));
        }
        Ok(out)
    };
    match tokio::time::timeout(Duration::from_secs_f64(REAP_BOUND), work).await {
        Ok(r) => r,
        Err(_) => Err(format!(
            "listing and killing leftover jobs took over {REAP_BOUND:.0} s"
        )),
    }
}

/// [`reap`] on every node of `nodes` at once; answers a note per node that had leftovers
/// (or could not be checked), and prints each as a line.
pub async fn reap_all(nodes: &[Node], me: &Origin) -> BTreeMap<String, String> {
    let mut set = tokio::task::JoinSet::new();
    for n in nodes {
        let (n, me) = (n.clone(), me.clone());
        set.spawn(async move {
            let r = reap(&n, &me).await;
            (n.name, r)
        });
    }
    let mut notes = BTreeMap::new();
    while let Some(done) = set.join_next().await {
        let Ok((name, r)) = done else { continue };
        match r {
            Ok(reaped) => {
                if let Some(note) = reaped.note() {
                    crate::reporter::eprintln(&format!("lutf: node {name}: {note}"));
                    notes.insert(name, note);
                }
            }
            // Not worth failing the run: its own calls will say what is wrong with the node.
            Err(e) => crate::reporter::eprintln(&format!(
                "lutf: node {name}: could not check for jobs left by earlier runs: {e}"
            )),
        }
    }
    notes
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn this_master_lives_and_a_gone_one_is_told_apart() {
        let me = this_master(Some("r1"));
        assert!(!me.boot_id.is_empty(), "{me:?}");
        assert!(!master_gone(&me, &me), "this process is alive");
        // A pid reused by another process: same pid, another start time.
        let mut reused = me.clone();
        reused.pid_start = me.pid_start.map(|t| t + 1);
        assert!(master_gone(&reused, &me));
        // Another boot.
        let mut earlier = me.clone();
        earlier.boot_id = "another boot".into();
        assert!(master_gone(&earlier, &me));
        // A process that ended.
        let mut child = std::process::Command::new("true").spawn().unwrap();
        let pid = child.id();
        child.wait().unwrap();
        let mut ended = me.clone();
        ended.pid = pid;
        ended.pid_start = Some(1);
        assert!(master_gone(&ended, &me));
    }

    #[test]
    fn only_running_jobs_of_gone_masters_here_are_leftovers() {
        let me = this_master(None);
        let job = |origin: Option<Origin>, running: bool| JobInfo {
            job: "j1".into(),
            running,
            started_at: Some(1.0),
            origin,
            test: Some("lost/test_01".into()),
            step: Some("hold".into()),
        };
        let mut gone = me.clone();
        gone.boot_id = "an earlier boot".into();
        assert!(is_leftover(&job(Some(gone.clone()), true), &me));
        assert!(!is_leftover(&job(Some(gone.clone()), false), &me), "ended");
        assert!(!is_leftover(&job(Some(me.clone()), true), &me), "alive");
        assert!(!is_leftover(&job(None, true), &me), "no origin");
        let mut elsewhere = gone.clone();
        elsewhere.host = "another-machine".into();
        assert!(!is_leftover(&job(Some(elsewhere), true), &me));
        let mut other_id = gone;
        other_id.machine_id = "another machine id".into();
        assert!(!is_leftover(&job(Some(other_id), true), &me));
    }

    #[test]
    fn notes_name_the_jobs_and_what_to_do() {
        let c = LostCleanup {
            killed: vec!["lost/test_01 hold (job j1)".into()],
            ..Default::default()
        };
        assert_eq!(
            c.note(),
            "reconnected and killed 1 job: lost/test_01 hold (job j1)"
        );
        assert_eq!(c.warning("node2"), None);
        let c = LostCleanup {
            left: vec!["lost/test_01 hold (job j1)".into()],
            unreachable: Some("timed out".into()),
            ..Default::default()
        };
        assert!(c.note().starts_with("unreachable at the end of the run (timed out): 1 job may still run there: lost/test_01 hold (job j1)"), "{}", c.note());
        let w = c.warning("node2").unwrap();
        assert!(
            w.contains("node node2") && w.contains("job j1") && w.contains("lutf run"),
            "{w}"
        );
        assert_eq!(Reaped::default().note(), None);
    }
}
