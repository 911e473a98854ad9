//! Signals to whole process groups: how the helper stops a command with everything it
//! started (grandchildren included), the group being the command's own (`setpgid`).

use std::time::{Duration, Instant};

/// Sends `signal` to every process of group `pgid`. Returns whether any process got it.
///
/// Refuses group ids 0 and 1 (and negatives): `kill(0)` would hit our own group and
/// `kill(-1)` every process we may signal.
pub fn signal(pgid: i32, signal: i32) -> bool {
    if pgid <= 1 {
        return false;
    }
    // SAFETY: kill has no memory-safety preconditions; the target is a group we started.
    unsafe { libc::kill(-pgid, signal) == 0 }
}

/// Whether group `pgid` still has a process (zombies not yet reaped count).
pub fn alive(pgid: i32) -> bool {
    if pgid <= 1 {
        return false;
    }
    // SAFETY: signal 0 only checks existence and permission.
    let rc = unsafe { libc::kill(-pgid, 0) };
    rc == 0 || std::io::Error::last_os_error().raw_os_error() == Some(libc::EPERM)
}

/// Stops group `pgid`: SIGTERM, then up to `grace` for `done()` to become true, then
/// SIGKILL. Returns whether SIGKILL was needed. `done` is asked every few milliseconds.
pub fn terminate(pgid: i32, grace: Duration, mut done: impl FnMut() -> bool) -> bool {
    if grace.is_zero() {
        signal(pgid, libc::SIGKILL);
        return true;
    }
    signal(pgid, libc::SIGTERM);
    // A stopped process would not act on SIGTERM before SIGCONT.
    signal(pgid, libc::SIGCONT);
    let until = Instant::now() + grace;
    let mut pause = Duration::from_millis(2);
    while Instant::now() < until {
        if done() {
            return false;
        }
        std::thread::sleep(pause.min(until.saturating_duration_since(Instant::now())));
        pause = (pause * 2).min(Duration::from_millis(50));
    }
    if done() {
        return false;
    }
    signal(pgid, libc::SIGKILL);
    true
}
