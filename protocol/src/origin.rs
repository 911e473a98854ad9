//! Who started a job, and the `jobs` operation's answer.
//!
//! Every step job a run starts carries the [`Origin`] of the lutf master that started it
//! (in `spawn_step`'s [`crate::StepArgs::origin`], kept in the job's `spec.yml`). A node
//! cut off mid-step may keep such a job running after the master has given up on it (its
//! `sshd` never learns that the connection died), so when a later lutf run on the same
//! machine reaches the node it lists the jobs there (`jobs`, answering [`JobsResult`]) and
//! stops those whose master is gone. Jobs of masters on other machines are never touched:
//! other people may share the nodes.

use serde::{Deserialize, Serialize};

/// The lutf master process that started a job.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Origin {
    /// The master machine's hostname.
    pub host: String,
    /// The master machine's `/etc/machine-id` (empty when it has none): with the hostname,
    /// tells the machine apart from others of the same name.
    #[serde(default)]
    pub machine_id: String,
    /// The master machine's `/proc/sys/kernel/random/boot_id`, new at every boot: a job
    /// from an earlier boot has a dead master whatever its pid says.
    pub boot_id: String,
    /// The master's process id.
    pub pid: u32,
    /// The master's start time in clock ticks since boot (`/proc/<pid>/stat` field 22):
    /// tells the master apart from a later process that got the same pid.
    #[serde(default)]
    pub pid_start: Option<u64>,
    /// The run's id, as in `run.json`.
    #[serde(default)]
    pub run: Option<String>,
}

impl Origin {
    /// Whether `other` was started on the same machine as this one (same hostname and
    /// machine id). Only then can this side tell whether the other master still lives.
    pub fn same_machine(&self, other: &Origin) -> bool {
        self.host == other.host && self.machine_id == other.machine_id
    }
}

/// One job on a node, as `jobs` lists it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct JobInfo {
    /// Its id, for `kill` and `forget`.
    pub job: String,
    /// It still runs (else it ended, or its supervisor vanished).
    pub running: bool,
    /// When its command started, in seconds since the Unix epoch, once it did.
    #[serde(default)]
    pub started_at: Option<f64>,
    /// Who started it, when the master said (step jobs of a run).
    #[serde(default)]
    pub origin: Option<Origin>,
    /// For a step job: `<suite>/test_<id>`.
    #[serde(default)]
    pub test: Option<String>,
    /// For a step job: the step's name.
    #[serde(default)]
    pub step: Option<String>,
}

impl JobInfo {
    /// `suite/test_id step` for a step job, else the job id: what a person reads.
    pub fn label(&self) -> String {
        match (&self.test, &self.step) {
            (Some(t), Some(s)) => format!("{t} {s}"),
            _ => format!("job {}", self.job),
        }
    }
}

/// What `jobs` answers: every job folder on the node, oldest first.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct JobsResult {
    /// The jobs.
    pub jobs: Vec<JobInfo>,
}

/// The start time of process `pid` in clock ticks since boot (`/proc/<pid>/stat` field 22),
/// `None` when there is no such process or it is a zombie (a dead process that nobody
/// reaped does not count as running). Used with a pid to tell a process apart from a later
/// one that got the same pid: the master's [`Origin`], the helper's job owners.
pub fn start_ticks(pid: i32) -> Option<u64> {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    parse_start_ticks(&stat)
}

/// Field 22 of a `/proc/<pid>/stat` line, `None` for a zombie or dead process (field 3
/// `Z` or `X`); the command name (field 2) may hold spaces and parentheses, so fields are
/// counted after its last `)`.
pub fn parse_start_ticks(stat: &str) -> Option<u64> {
    let after = &stat[stat.rfind(')')? + 1..];
    let mut fields = after.split_whitespace();
    // After `)`: field 3 (state) is the first; field 22 is the 20th.
    if matches!(fields.next()?, "Z" | "X" | "x") {
        return None;
    }
    fields.nth(18)?.parse().ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn start_ticks_of_this_process() {
        let me = std::process::id() as i32;
        assert!(start_ticks(me).is_some());
        let odd = "12 (a) b (c)) S 1 2 3 4 5 6 7 8 9 10 11 12 13 14 15 16 17 18 424242 19";
        assert_eq!(parse_start_ticks(odd), Some(424242));
        let zombie = odd.replace(") S ", ") Z ");
        assert_eq!(parse_start_ticks(&zombie), None);
    }

    fn origin() -> Origin {
        Origin {
            host: "master".into(),
            machine_id: "0123abcd".into(),
            boot_id: "b00t".into(),
            pid: 42,
            pid_start: Some(4242),
            run: Some("deadbeef".into()),
        }
    }

    #[test]
    fn jobs_result_round_trips() {
        let r = JobsResult {
            jobs: vec![
                JobInfo {
                    job: "j1".into(),
                    running: true,
                    started_at: Some(1.5),
                    origin: Some(origin()),
                    test: Some("lost/test_01".into()),
                    step: Some("hold".into()),
                },
                JobInfo {
                    job: "j2".into(),
                    running: false,
                    started_at: None,
                    origin: None,
                    test: None,
                    step: None,
                },
            ],
        };
        let back: JobsResult = serde_yaml::from_str(&crate::to_yaml(&r)).unwrap();
        assert_eq!(back, r);
        assert_eq!(r.jobs[0].label(), "lost/test_01 hold");
        assert_eq!(r.jobs[1].label(), "job j2");
    }

    #[test]
    fn an_origin_without_optional_fields_reads() {
        let o: Origin = serde_yaml::from_str("host: m\nboot_id: b\npid: 7\n").unwrap();
        assert_eq!(
            (o.machine_id.as_str(), o.pid_start, o.run),
            ("", None, None)
        );
        assert!(serde_yaml::from_str::<Origin>("host: m\nboot_id: b\npid: 7\nx: 1\n").is_err());
    }

    #[test]
    fn same_machine_needs_hostname_and_machine_id() {
        let a = origin();
        let mut b = origin();
        b.pid = 1;
        b.boot_id = "other boot".into();
        assert!(
            a.same_machine(&b),
            "another process, another boot: same machine"
        );
        b.machine_id = "ffff".into();
        assert!(!a.same_machine(&b));
        let mut c = origin();
        c.host = "laptop".into();
        assert!(!a.same_machine(&c));
    }
}
