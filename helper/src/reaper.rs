//! Descendants that leave their command's process group: adopted, then ended.
//!
//! Killing a command's process group ends everything it started, except descendants that
//! moved to another group or session (`setsid`, `setpgid`, a double-forked daemon): those
//! would outlive the command's timeout and the end of the call. So the process that runs
//! commands marks itself a *child subreaper* (`PR_SET_CHILD_SUBREAPER`, Linux 3.4+): orphaned
//! descendants are then reparented to it rather than to init, and once a command has ended,
//! every child of ours is a leftover of that command, to be killed and reaped.
//!
//! The helper (one request) and a job's supervisor (one job) each run one command at a
//! time, so they opt in with [`adopt_orphans`] when they start, and [`crate::process::run`]
//! sweeps only in a process that did ([`adopting`]): [`end_adopted`] takes every child of
//! the process, which would be wrong where several commands run at once (the unit tests).
//! Processes that were orphaned before [`adopt_orphans`] was called, or whose parent was
//! not ours, are out of reach, as are processes that another subreaper between us adopted.

use std::time::Duration;

/// Marks this process a child subreaper. Returns whether the kernel agreed.
pub fn adopt_orphans() -> bool {
    // SAFETY: prctl with PR_SET_CHILD_SUBREAPER takes an integer flag and touches no memory.
    unsafe { libc::prctl(libc::PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0) == 0 }
}

/// Whether this process is a child subreaper (called [`adopt_orphans`]).
pub fn adopting() -> bool {
    let mut flag: libc::c_int = 0;
    // SAFETY: PR_GET_CHILD_SUBREAPER writes one int through the pointer we pass.
    let rc = unsafe {
        libc::prctl(
            libc::PR_GET_CHILD_SUBREAPER,
            &mut flag as *mut libc::c_int,
            0,
            0,
            0,
        )
    };
    rc == 0 && flag != 0
}

/// Our children (from `/proc/<pid>/stat`), with whether each is a zombie.
fn children() -> Vec<(i32, bool)> {
    // SAFETY: getpid has no preconditions.
    let me = unsafe { libc::getpid() };
    let Ok(dir) = std::fs::read_dir("/proc") else {
        return Vec::new();
    };
    let mut out = Vec::new();
    for entry in dir.flatten() {
        let Some(pid) = entry
            .file_name()
            .to_str()
            .and_then(|n| n.parse::<i32>().ok())
        else {
            continue;
        };
        let Ok(stat) = std::fs::read_to_string(format!("/proc/{pid}/stat")) else {
            continue; // gone meanwhile
        };
        // `pid (comm) state ppid ...`; comm may hold spaces and parentheses.
        let Some((_, rest)) = stat.rsplit_once(')') else {
            continue;
        };
        let mut fields = rest.split_whitespace();
        let state = fields.next().unwrap_or("");
        let ppid = fields.next().and_then(|p| p.parse::<i32>().ok());
        if ppid == Some(me) {
            out.push((pid, state == "Z"));
        }
    }
    out
}

/// Reaps children of ours that have exited, sparing `spare` (a command still being waited
/// for elsewhere), so that adopted orphans do not pile up as zombies during a long command.
pub fn reap_exited(spare: i32) {
    for (pid, zombie) in children() {
        if zombie && pid != spare {
            // SAFETY: waitpid on a specific child of ours, no status wanted.
            unsafe { libc::waitpid(pid, std::ptr::null_mut(), libc::WNOHANG) };
        }
    }
}

/// Sends `signal` to every child of ours but `spare`. Returns how many got it.
pub fn signal_adopted(signal: i32, spare: i32) -> usize {
    let mut n = 0;
    for (pid, zombie) in children() {
        // SAFETY: kill on a specific child of ours.
        if !zombie && pid != spare && unsafe { libc::kill(pid, signal) } == 0 {
            n += 1;
        }
    }
    n
}

/// How long [`end_adopted`] waits for killed leftovers to be gone.
pub const END_WAIT: Duration = Duration::from_secs(5);

/// What [`end_adopted`] did.
#[derive(Debug, Default)]
pub struct Ended {
    /// How many processes it killed.
    pub killed: usize,
    /// Those still there after [`END_WAIT`], described (pid, name, state, where in the
    /// kernel they wait): killed but not dying, in an uninterruptible sleep that only the
    /// kernel can end (a write to an unreachable server, say). They are left behind.
    pub stuck: Vec<String>,
}

/// Kills and reaps every child of ours, and the children they leave behind in turn, for
/// up to [`END_WAIT`]: a killed process in uninterruptible sleep dies only when it wakes,
/// which may be never, and waiting for it would keep the step's end (and its log) from
/// the master until its timeout. Those are named in [`Ended::stuck`] instead.
pub fn end_adopted() -> Ended {
    let until = std::time::Instant::now() + END_WAIT;
    let mut ended = Ended::default();
    let mut killed = std::collections::HashSet::new();
    loop {
        let kids = children();
        if kids.is_empty() {
            return ended;
        }
        for &(pid, zombie) in &kids {
            if zombie {
                // SAFETY: waitpid on a specific child of ours that has exited.
                unsafe { libc::waitpid(pid, std::ptr::null_mut(), libc::WNOHANG) };
            } else if killed.insert(pid) {
                // SAFETY: kill on a specific child of ours. Its own children are then
                // reparented to us and found by the next round.
                unsafe { libc::kill(pid, libc::SIGKILL) };
                ended.killed += 1;
            }
        }
        if std::time::Instant::now() >= until {
            ended.stuck = kids
                .iter()
                .filter(|(_, zombie)| !zombie)
                .map(|&(pid, _)| describe(pid))
                .collect();
            return ended;
        }
        std::thread::sleep(Duration::from_millis(10));
    }
}

/// `pid 1234 (dd), state D, waiting in cl_sync_io_wait`, from `/proc`.
pub fn describe(pid: i32) -> String {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).unwrap_or_default();
    let name = match (stat.find('('), stat.rfind(')')) {
        (Some(a), Some(b)) if a < b => stat[a + 1..b].to_string(),
        _ => "?".into(),
    };
    let state = stat
        .rsplit_once(')')
        .and_then(|(_, rest)| rest.split_whitespace().next())
        .unwrap_or("?")
        .to_string();
    let wchan = std::fs::read_to_string(format!("/proc/{pid}/wchan")).unwrap_or_default();
    let wchan = wchan.trim();
    if wchan.is_empty() || wchan == "0" {
        format!("pid {pid} ({name}), state {state}")
    } else {
        format!("pid {pid} ({name}), state {state}, waiting in {wchan}")
    }
}

/// How often adopted orphans that exited are reaped while a command runs.
pub const REAP_EVERY: Duration = Duration::from_secs(1);

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_our_children_are_listed() {
        let mut child = std::process::Command::new("sleep")
            .arg("30")
            .spawn()
            .unwrap();
        let pid = child.id() as i32;
        assert!(children().iter().any(|&(p, _)| p == pid));
        assert!(children().iter().all(|&(p, _)| p != 1));
        child.kill().unwrap();
        child.wait().unwrap();
        assert!(children().iter().all(|&(p, _)| p != pid));
    }
}
