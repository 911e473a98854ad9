//! Starting `lutf-lnetconfig`, the companion that makes liblnetconfig calls, and explaining
//! why it could not start.
//!
//! The helper is static; a static program cannot safely load the node's shared
//! `liblnetconfig.so.4` (it would bring a second C library of another version into the
//! process). The companion is linked dynamically against glibc, so it loads the node's C
//! library and liblnetconfig like any program there. It needs a glibc at least as new as
//! the one it was built against: on an older node the dynamic loader refuses it, and this
//! module says which glibc it needs (read from its ELF version references) and which one
//! the node has.

use std::path::{Path, PathBuf};
use std::time::Duration;

use lutf_protocol::{
    decode_reply, ErrorKind, ErrorReply, ExitStatus, Op, Request, MAX_OUTPUT_LIMIT,
};

use crate::process::{self, CommandSpec, Limits, Output, STANDARD_PATH};
use crate::Env;

/// The companion's file name, beside the helper in the bundle.
pub const NAME: &str = "lutf-lnetconfig";

/// From SIGTERM to SIGKILL when a call outlives its time.
const GRACE: Duration = Duration::from_secs(2);

/// Where the companion is in this helper's bundle.
pub fn path(env: &Env) -> PathBuf {
    env.bundle_dir.join(NAME)
}

/// Sends `op` to the companion and returns its reply's result (or its error, as it gave
/// it). `timeout` bounds the call; `what` names it in messages (`lnet show_net`).
pub fn call(
    env: &Env,
    op: Op,
    timeout: Duration,
    what: &str,
) -> Result<serde_yaml::Value, ErrorReply> {
    let exe = path(env);
    let host = crate::ops::hostname();
    if !exe.is_file() {
        return Err(ErrorReply::new(
            ErrorKind::Unavailable,
            format!(
                "{what}: this bundle has no {NAME} (the helper's companion for liblnetconfig \
                 calls) at {}: build lutf with it (see docs/lnet.md)",
                exe.display()
            ),
        ));
    }
    let spec = CommandSpec {
        argv: vec![exe.clone().into()],
        cwd: env.bundle_dir.clone(),
        stdin: Request::from(op).to_yaml().into_bytes(),
        ..Default::default()
    };
    let f = process::run(
        &spec,
        Output::Separate {
            limit: MAX_OUTPUT_LIMIT,
        },
        Limits {
            timeout: Some(timeout),
            grace: GRACE,
            dump: None,
        },
        |_| {},
    )?;
    let stderr = f.stderr.data.to_string_lossy().trim().to_owned();
    if f.timed_out {
        return Err(ErrorReply::new(
            ErrorKind::Unavailable,
            format!(
                "{what} did not finish within {} s on {host} and was stopped",
                timeout.as_secs_f64()
            ),
        )
        .with_detail(stderr));
    }
    let stdout = f.stdout.data.to_string_lossy();
    if !stdout.trim().is_empty() {
        if let Ok(reply) = decode_reply::<serde_yaml::Value>(&stdout) {
            return reply.into_result();
        }
    }
    Err(cannot_start(&exe, &host, f.exit, &stderr, what))
}

/// Why the companion gave no reply: a glibc too old (the dynamic loader's refusal), another
/// loader failure, or a crash.
fn cannot_start(exe: &Path, host: &str, exit: ExitStatus, stderr: &str, what: &str) -> ErrorReply {
    let detail = if stderr.is_empty() {
        format!("{exit}, nothing on stderr")
    } else {
        format!("{exit}: {stderr}")
    };
    if stderr.contains("version `GLIBC_") {
        let needs = glibc_needed(exe).map_or_else(
            || "a newer glibc".to_owned(),
            |v| format!("glibc {v} or later"),
        );
        let has = node_glibc().map_or_else(|| "an older one".to_owned(), |v| format!("glibc {v}"));
        return ErrorReply::new(
            ErrorKind::Unavailable,
            format!(
                "{what}: {NAME} (the helper's companion for liblnetconfig calls) cannot start on \
                 {host}: it needs {needs}, {host} has {has}. Build lutf with scripts/build-portable \
                 (companion for glibc 2.17 and later), or on a machine whose glibc is not newer \
                 than the nodes'"
            ),
        )
        .with_detail(detail);
    }
    if let Some(signal) = exit.signal {
        return ErrorReply::new(
            ErrorKind::Internal,
            format!(
                "{what}: {NAME} was killed by signal {signal} on {host} (a crash in \
                 liblnetconfig, or in lutf)"
            ),
        )
        .with_detail(detail);
    }
    ErrorReply::new(
        ErrorKind::Unavailable,
        format!("{what}: {NAME} cannot start on {host} or gave no reply"),
    )
    .with_detail(detail)
}

/// The node's glibc version, as `getconf GNU_LIBC_VERSION` tells it ("2.28"). (The
/// helper's own C library is its static copy, which says nothing about the node's.)
pub fn node_glibc() -> Option<String> {
    let path = format!(
        "{}:{STANDARD_PATH}",
        std::env::var("PATH").unwrap_or_default()
    );
    let getconf = process::find_program("getconf".as_ref(), path.as_ref())?;
    let spec = CommandSpec {
        argv: vec![getconf.into(), "GNU_LIBC_VERSION".into()],
        cwd: "/".into(),
        ..Default::default()
    };
    let f = process::run(
        &spec,
        Output::Separate { limit: 4096 },
        Limits {
            timeout: Some(Duration::from_secs(10)),
            grace: Duration::from_secs(1),
            dump: None,
        },
        |_| {},
    )
    .ok()?;
    let out = f.stdout.data.to_string_lossy();
    // "glibc 2.28"
    out.split_whitespace()
        .last()
        .filter(|v| v.starts_with(|c: char| c.is_ascii_digit()))
        .map(str::to_owned)
}

/// The newest `GLIBC_x.y[.z]` version the ELF file at `path` requires ("2.34"), from its
/// version needs (`.gnu.version_r`); `None` when it is not a 64-bit little-endian ELF file
/// or requires none.
pub fn glibc_needed(path: &Path) -> Option<String> {
    let data = std::fs::read(path).ok()?;
    let mut versions = elf_version_needs(&data)?;
    versions.retain(|v| {
        v.strip_prefix("GLIBC_")
            .is_some_and(|n| n.starts_with(|c: char| c.is_ascii_digit()))
    });
    versions
        .iter()
        .filter_map(|v| {
            let nums: Vec<u32> = v["GLIBC_".len()..]
                .split('.')
                .map(|n| n.parse().ok())
                .collect::<Option<_>>()?;
            Some((nums, v))
        })
        .max()
        .map(|(_, v)| v["GLIBC_".len()..].to_owned())
}

/// Every version name an ELF64 little-endian file requires of its libraries.
fn elf_version_needs(data: &[u8]) -> Option<Vec<String>> {
    const SHT_GNU_VERNEED: u32 = 0x6fff_fffe;
    let u16_at = |o: usize| Some(u16::from_le_bytes(data.get(o..o + 2)?.try_into().ok()?));
    let u32_at = |o: usize| Some(u32::from_le_bytes(data.get(o..o + 4)?.try_into().ok()?));
    let u64_at = |o: usize| Some(u64::from_le_bytes(data.get(o..o + 8)?.try_into().ok()?));
    // ELF magic, 64-bit, little-endian.
    if data.get(..6)? != b"\x7fELF\x02\x01" {
        return None;
    }
    let shoff = usize::try_from(u64_at(0x28)?).ok()?;
    let shentsize = usize::from(u16_at(0x3a)?);
    let shnum = usize::from(u16_at(0x3c)?);
    let section = |i: usize| -> Option<(u32, usize, usize, usize, u32)> {
        let h = shoff.checked_add(i.checked_mul(shentsize)?)?;
        Some((
            u32_at(h + 4)?,                           // sh_type
            usize::try_from(u64_at(h + 0x18)?).ok()?, // sh_offset
            usize::try_from(u64_at(h + 0x20)?).ok()?, // sh_size
            usize::try_from(u32_at(h + 0x28)?).ok()?, // sh_link
            u32_at(h + 0x2c)?,                        // sh_info: number of entries
        ))
    };
    let mut names = Vec::new();
    for i in 0..shnum {
        let (kind, offset, _, link, count) = section(i)?;
        if kind != SHT_GNU_VERNEED {
            continue;
        }
        let (_, strings, strings_size, _, _) = section(link)?;
        let name = |off: u32| -> Option<String> {
            let start = strings.checked_add(usize::try_from(off).ok()?)?;
            let end = strings.checked_add(strings_size)?.min(data.len());
            let bytes = data.get(start..end)?;
            let len = bytes.iter().position(|&b| b == 0)?;
            Some(String::from_utf8_lossy(&bytes[..len]).into_owned())
        };
        // Verneed: vn_version u16, vn_cnt u16, vn_file u32, vn_aux u32, vn_next u32.
        // Vernaux: vna_hash u32, vna_flags u16, vna_other u16, vna_name u32, vna_next u32.
        let mut need = offset;
        for _ in 0..count.min(1024) {
            let cnt = u16_at(need + 2)?;
            let mut aux = need.checked_add(usize::try_from(u32_at(need + 8)?).ok()?)?;
            for _ in 0..cnt {
                names.push(name(u32_at(aux + 8)?)?);
                let next = usize::try_from(u32_at(aux + 12)?).ok()?;
                if next == 0 {
                    break;
                }
                aux = aux.checked_add(next)?;
            }
            let next = usize::try_from(u32_at(need + 12)?).ok()?;
            if next == 0 {
                break;
            }
            need = need.checked_add(next)?;
        }
    }
    Some(names)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_dynamic_program_needs_some_glibc_2() {
        // /bin/sh is dynamically linked against glibc on every machine these tests run on.
        let sh = std::fs::canonicalize("/bin/sh").unwrap();
        let v = glibc_needed(&sh).expect("a glibc version need in /bin/sh");
        assert!(v.starts_with("2."), "{v}");
        let node = node_glibc().expect("getconf GNU_LIBC_VERSION");
        let minor = |v: &str| v.split('.').nth(1).unwrap().parse::<u32>().unwrap();
        assert!(
            minor(&v) <= minor(&node),
            "/bin/sh needs {v}, this machine has {node}"
        );
    }

    #[test]
    fn files_that_are_not_elf_need_nothing() {
        let dir = tempfile::tempdir().unwrap();
        let f = dir.path().join("script");
        std::fs::write(&f, "#!/bin/sh\necho hi\n").unwrap();
        assert_eq!(glibc_needed(&f), None);
        std::fs::write(&f, b"\x7fELF\x02\x01\x01").unwrap();
        assert_eq!(glibc_needed(&f), None, "truncated");
        assert_eq!(glibc_needed(&dir.path().join("missing")), None);
    }

    #[test]
    fn the_helper_itself_is_static_and_needs_no_glibc() {
        // In the release (static) build there are no version needs at all; the debug
        // build of the tests is dynamic. Either way the reading must not fail.
        let me = std::env::current_exe().unwrap();
        let needs = elf_version_needs(&std::fs::read(me).unwrap()).unwrap();
        assert!(needs.iter().all(|n| !n.is_empty()));
    }
}
