//! LNet's state as the kernel shows it, without liblnetconfig: is the module loaded, which
//! version, and which NIDs (the `nis` table in debugfs or `/proc/sys/lnet`); and where the
//! LNet operations look for the modules.

use std::path::{Path, PathBuf};

use lutf_lnet::NodeProbe;
use lutf_protocol::LnetState;

/// Test hook: a folder that stands for `/` when the LNet operations look for
/// `sys/module/lnet`, `sys/module/lnet_selftest` and `dev/lnet` (the companion reads it
/// too). Never set on a real node.
pub const TEST_ROOT_VAR: &str = "LUTF_TEST_LNET_ROOT";

/// `/`, or the test root.
pub fn root() -> PathBuf {
    std::env::var_os(TEST_ROOT_VAR)
        .filter(|v| !v.is_empty())
        .map_or_else(|| PathBuf::from("/"), PathBuf::from)
}

/// Where to look for LNet on this node, named `host` in messages.
pub fn probe(host: &str) -> NodeProbe {
    let mut p = NodeProbe::local(host);
    p.root = root();
    p
}

/// Where the kernel lists LNet's network interfaces, newest location first.
const NIS_FILES: &[&str] = &["/sys/kernel/debug/lnet/nis", "/proc/sys/lnet/nis"];

/// LNet's state on this node. Absent LNet is a normal state, never an error.
pub fn state() -> LnetState {
    let mut state = state_under(Path::new("/"));
    state.installed = state.module_loaded
        || (crate::ops::lnetctl::find_tool("lnetctl").is_ok() && module_available());
    state
}

/// Whether the running kernel has an `lnet` module to load (`modules.dep` lists it): the
/// tools alone may have been installed for another kernel (a VM host's, say).
fn module_available() -> bool {
    let Ok(release) = std::fs::read_to_string("/proc/sys/kernel/osrelease") else {
        return false;
    };
    let dep = Path::new("/lib/modules")
        .join(release.trim())
        .join("modules.dep");
    std::fs::read_to_string(dep).is_ok_and(|t| {
        t.lines().any(|l| {
            l.split(':').next().is_some_and(|m| {
                m.rsplit('/')
                    .next()
                    .is_some_and(|f| f.starts_with("lnet.ko"))
            })
        })
    })
}

/// [`state`] with every path taken under `root` (for tests).
fn state_under(root: &Path) -> LnetState {
    let at = |p: &str| root.join(p.trim_start_matches('/'));
    let module_loaded = at("/sys/module/lnet").is_dir();
    if !module_loaded {
        return LnetState::default();
    }
    let version = std::fs::read_to_string(at("/sys/module/lnet/version"))
        .ok()
        .map(|v| v.trim().to_string())
        .filter(|v| !v.is_empty());
    let mut error = None;
    let mut nids = Vec::new();
    for file in NIS_FILES {
        match read_table(&at(file)) {
            Ok(Some(text)) => {
                nids = parse_nis(&text);
                error = None;
                break;
            }
            Ok(None) => {}
            // Remembered, but a later location may still answer.
            Err(e) => error = Some(format!("{file}: {e}")),
        }
    }
    LnetState {
        module_loaded,
        installed: true,
        configured: !nids.is_empty(),
        nids,
        version,
        error,
    }
}

/// A kernel table's text; `None` when the file does not exist.
///
/// debugfs files report size 0 and LNet's `nis` answers EINVAL to a read shorter than one
/// row, so the read asks for 64 KiB at a time (`read_to_string` starts with a 32-byte probe).
fn read_table(path: &Path) -> std::io::Result<Option<String>> {
    use std::io::Read;
    let mut f = match std::fs::File::open(path) {
        Ok(f) => f,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
        Err(e) => return Err(e),
    };
    let mut text = Vec::new();
    let mut buf = vec![0u8; 64 * 1024];
    loop {
        match f.read(&mut buf) {
            Ok(0) => break,
            Ok(n) => text.extend_from_slice(&buf[..n]),
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
            Err(e) => return Err(e),
        }
        // The table is small; a bound keeps a misbehaving file from filling memory.
        if text.len() > 16 << 20 {
            break;
        }
    }
    Ok(Some(String::from_utf8_lossy(&text).into_owned()))
}

/// The NIDs of a `nis` table: the first column of each row, header skipped, `0@lo`
/// left out, each NID once (the table has a row per CPT partition).
pub fn parse_nis(text: &str) -> Vec<String> {
    let mut nids: Vec<String> = Vec::new();
    for line in text.lines() {
        let Some(first) = line.split_whitespace().next() else {
            continue;
        };
        if first == "nid" || !first.contains('@') || first == "0@lo" {
            continue;
        }
        if !nids.iter().any(|n| n == first) {
            nids.push(first.to_string());
        }
    }
    nids
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The table as `proc_lnet_nis` prints it: `%-24s %6s %5s %4s %4s %4s %5s %5s %5s`,
    /// one row per NI and CPT.
    const SAMPLE: &str = "\
nid                      status alive refs peer  rtr   max    tx   min
0@lo                         up     0    2    0    0     0     0     0
0@lo                         up     0    0    0    0     0     0     0
10.0.2.15@tcp                up    -1    1    8    0   256   256   254
10.0.2.15@tcp                up    -1    1    8    0   256   256   256
192.168.10.4@o2ib1         down    -1    1    8    0   256   256   256
";

    #[test]
    fn nis_table_gives_each_nid_once_without_lo() {
        assert_eq!(
            parse_nis(SAMPLE),
            vec!["10.0.2.15@tcp", "192.168.10.4@o2ib1"]
        );
        assert!(parse_nis("nid status alive\n0@lo up 0\n").is_empty());
        assert!(parse_nis("").is_empty());
    }

    #[test]
    fn state_from_a_fake_sysfs() {
        let root = tempfile::tempdir().unwrap();
        assert_eq!(state_under(root.path()), LnetState::default());

        std::fs::create_dir_all(root.path().join("sys/module/lnet")).unwrap();
        std::fs::write(root.path().join("sys/module/lnet/version"), "2.17.57\n").unwrap();
        let s = state_under(root.path());
        assert!(s.module_loaded && !s.configured);
        assert_eq!(s.version.as_deref(), Some("2.17.57"));

        std::fs::create_dir_all(root.path().join("proc/sys/lnet")).unwrap();
        std::fs::write(root.path().join("proc/sys/lnet/nis"), SAMPLE).unwrap();
        let s = state_under(root.path());
        assert!(s.configured);
        assert_eq!(s.nids, vec!["10.0.2.15@tcp", "192.168.10.4@o2ib1"]);
    }

    #[test]
    fn an_unreadable_table_is_an_error_not_an_unconfigured_lnet() {
        let root = tempfile::tempdir().unwrap();
        std::fs::create_dir_all(root.path().join("sys/module/lnet")).unwrap();
        // A folder where the table should be: open succeeds, read fails (EISDIR), as the
        // real debugfs file fails a short read with EINVAL.
        std::fs::create_dir_all(root.path().join("sys/kernel/debug/lnet/nis")).unwrap();
        let s = state_under(root.path());
        let e = s.error.clone().expect("an error");
        assert!(e.starts_with("/sys/kernel/debug/lnet/nis: "), "{e}");
        assert!(
            s.describe().starts_with("loaded, NIDs unreadable: "),
            "{}",
            s.describe()
        );
        // The older location answering wins over the failed one.
        std::fs::create_dir_all(root.path().join("proc/sys/lnet")).unwrap();
        std::fs::write(root.path().join("proc/sys/lnet/nis"), SAMPLE).unwrap();
        let s = state_under(root.path());
        assert_eq!(s.error, None);
        assert_eq!(s.describe(), "configured: 10.0.2.15@tcp 192.168.10.4@o2ib1");
    }

    #[test]
    fn this_machine_answers_without_error() {
        let s = state();
        assert_eq!(s.configured, !s.nids.is_empty());
        if !s.module_loaded {
            assert!(s.nids.is_empty());
        }
    }
}
