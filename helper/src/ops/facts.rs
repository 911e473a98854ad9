//! `facts`: what the master needs to know about this node. Every fact comes from the
//! kernel or a file (no resolver, no NSS); a fact that cannot be read is left empty
//! rather than failing the call.

use std::ffi::CStr;

use lutf_protocol::{ErrorKind, ErrorReply, Facts, OsInfo};

use crate::Env;

/// The node's facts.
pub fn facts(env: &Env) -> Result<Facts, ErrorReply> {
    let uts = uname();
    let interfaces = crate::netif::interfaces().map_err(|e| {
        ErrorReply::new(
            ErrorKind::Io,
            format!("cannot list network interfaces: {e}"),
        )
    })?;
    Ok(Facts {
        hostname: uts.nodename,
        kernel: uts.release,
        arch: uts.machine,
        os: std::fs::read_to_string("/etc/os-release")
            .or_else(|_| std::fs::read_to_string("/usr/lib/os-release"))
            .map(|t| parse_os_release(&t))
            .unwrap_or_default(),
        cpus: cpus(),
        memory_bytes: std::fs::read_to_string("/proc/meminfo")
            .ok()
            .and_then(|t| mem_total(&t))
            .unwrap_or(0),
        python: crate::python::info(&env.bundle_dir),
        interfaces,
        lnet: crate::lnet::state(),
    })
}

/// This node's name (the kernel's), for messages; "this node" when it has none.
pub fn hostname() -> String {
    let name = uname().nodename;
    if name.is_empty() {
        "this node".into()
    } else {
        name
    }
}

struct Uname {
    nodename: String,
    release: String,
    machine: String,
}

fn uname() -> Uname {
    // SAFETY: utsname is plain data; uname fills it with NUL-terminated strings.
    let mut u: libc::utsname = unsafe { std::mem::zeroed() };
    // SAFETY: `u` is a valid, writable utsname.
    if unsafe { libc::uname(&mut u) } != 0 {
        return Uname {
            nodename: String::new(),
            release: String::new(),
            machine: String::new(),
        };
    }
    // SAFETY: each field is NUL-terminated within its array (zeroed, filled by uname).
    let field = |f: &[libc::c_char]| {
        unsafe { CStr::from_ptr(f.as_ptr()) }
            .to_string_lossy()
            .into_owned()
    };
    Uname {
        nodename: field(&u.nodename),
        release: field(&u.release),
        machine: field(&u.machine),
    }
}

/// CPUs this process may run on (its affinity mask), else the CPUs online.
fn cpus() -> u32 {
    // SAFETY: cpu_set_t is plain data; sched_getaffinity fills it.
    let mut set: libc::cpu_set_t = unsafe { std::mem::zeroed() };
    // SAFETY: `set` is valid and its size is passed.
    let rc =
        unsafe { libc::sched_getaffinity(0, std::mem::size_of::<libc::cpu_set_t>(), &mut set) };
    if rc == 0 {
        // SAFETY: `set` was filled by sched_getaffinity.
        let n = unsafe { libc::CPU_COUNT(&set) };
        if n > 0 {
            return n as u32;
        }
    }
    // SAFETY: sysconf has no preconditions.
    let n = unsafe { libc::sysconf(libc::_SC_NPROCESSORS_ONLN) };
    n.max(1) as u32
}

/// `MemTotal` of `/proc/meminfo`, in bytes.
fn mem_total(meminfo: &str) -> Option<u64> {
    let line = meminfo.lines().find(|l| l.starts_with("MemTotal:"))?;
    let mut words = line["MemTotal:".len()..].split_whitespace();
    let n: u64 = words.next()?.parse().ok()?;
    let unit = match words.next() {
        Some("kB") | Some("KB") | Some("kb") => 1024,
        None => 1,
        Some(_) => return None,
    };
    Some(n * unit)
}

/// `ID`, `VERSION_ID` and `PRETTY_NAME` of an os-release file (shell-style quoting).
fn parse_os_release(text: &str) -> OsInfo {
    let mut os = OsInfo::default();
    for line in text.lines() {
        let Some((key, value)) = line.trim().split_once('=') else {
            continue;
        };
        let value = unquote(value.trim());
        match key.trim() {
            "ID" => os.id = value,
            "VERSION_ID" => os.version_id = value,
            "PRETTY_NAME" => os.pretty_name = value,
            _ => {}
        }
    }
    os
}

fn unquote(v: &str) -> String {
    let bytes = v.as_bytes();
    if bytes.len() >= 2
        && (bytes[0] == b'"' || bytes[0] == b'\'')
        && bytes[bytes.len() - 1] == bytes[0]
    {
        let inner = &v[1..v.len() - 1];
        if bytes[0] == b'"' {
            let mut out = String::new();
            let mut chars = inner.chars();
            while let Some(c) = chars.next() {
                if c == '\\' {
                    if let Some(n) = chars.next() {
                        out.push(n);
                    }
                } else {
                    out.push(c);
                }
            }
            return out;
        }
        return inner.to_string();
    }
    v.to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn os_release_with_quotes() {
        let os = parse_os_release(
            "PRETTY_NAME=\"Debian GNU/Linux 12 (bookworm)\"\nNAME=\"Debian\"\n\
             VERSION_ID=\"12\"\nID=debian\n# comment\nBAD LINE\nX='a b'\n",
        );
        assert_eq!(os.id, "debian");
        assert_eq!(os.version_id, "12");
        assert_eq!(os.pretty_name, "Debian GNU/Linux 12 (bookworm)");
        assert_eq!(unquote(r#""a \"q\" \\ b""#), r#"a "q" \ b"#);
        assert_eq!(unquote("'x y'"), "x y");
    }

    #[test]
    fn meminfo_total() {
        assert_eq!(
            mem_total("MemTotal:       16337280 kB\nMemFree: 1 kB\n"),
            Some(16337280 * 1024)
        );
        assert_eq!(mem_total("MemFree: 1 kB\n"), None);
    }

    #[test]
    fn uname_and_cpus_are_real() {
        let u = uname();
        let hostname = std::fs::read_to_string("/proc/sys/kernel/hostname").unwrap();
        assert_eq!(u.nodename, hostname.trim());
        assert!(!u.release.is_empty());
        assert!(cpus() >= 1);
    }
}
