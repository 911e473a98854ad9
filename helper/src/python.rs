//! The node's `python3`: where it is, which version, and the environment the helper runs
//! it in (clean and predictable, whatever the helper's own environment is).

use std::ffi::OsString;
use std::path::{Path, PathBuf};
use std::time::Duration;

use lutf_protocol::PythonInfo;

use crate::process::{self, CommandSpec, Limits, Output, STANDARD_PATH};

/// The oldest Python the shipped package supports.
pub const MIN_VERSION: (u32, u32) = (3, 6);

/// How long `python3 --version`-like probes may take.
const PROBE_TIMEOUT: Duration = Duration::from_secs(10);

/// The `PATH` to search: the helper's own, else [`STANDARD_PATH`].
pub fn search_path() -> OsString {
    std::env::var_os("PATH")
        .filter(|p| !p.is_empty())
        .unwrap_or_else(|| STANDARD_PATH.into())
}

/// The absolute path of `python3`, searched in [`search_path`].
pub fn find() -> Option<PathBuf> {
    process::find_program("python3".as_ref(), &search_path())
}

/// The environment Python runs in: nothing but what is listed here, so that a stray
/// `PYTHONHOME` or `PYTHONSTARTUP` on the node cannot change a test.
///
/// Bytecode is written (`__pycache__` beside the bundle's files, which the bundle's
/// fingerprint leaves out): every step is a new interpreter, and compiling the `lutf`
/// package and the suite's modules again for each one was a large share of a step on a
/// slow node (an emulated guest).
pub fn env(bundle_dir: &Path) -> Vec<(OsString, OsString)> {
    let mut env: Vec<(OsString, OsString)> = vec![
        ("PYTHONPATH".into(), bundle_dir.join("python").into()),
        ("PYTHONUNBUFFERED".into(), "1".into()),
        ("PATH".into(), search_path()),
    ];
    for var in ["HOME", "USER", "LANG"] {
        if let Some(v) = std::env::var_os(var) {
            env.push((var.into(), v));
        }
    }
    env
}

/// Parses `3.11.7` into `(3, 11)`.
fn major_minor(version: &str) -> Option<(u32, u32)> {
    let mut parts = version.trim().split('.');
    let major = parts.next()?.parse().ok()?;
    let minor = parts.next()?.parse().ok()?;
    Some((major, minor))
}

/// What `facts` says about Python: found where, which version, or why it is unusable.
pub fn info(bundle_dir: &Path) -> PythonInfo {
    let Some(path) = find() else {
        return PythonInfo {
            missing: Some(format!(
                "python3 not found in PATH ({})",
                search_path().to_string_lossy()
            )),
            ..Default::default()
        };
    };
    let spec = CommandSpec {
        argv: vec![
            path.clone().into(),
            "-c".into(),
            "import sys; print('%d.%d.%d' % tuple(sys.version_info[:3]))".into(),
        ],
        env: env(bundle_dir),
        clear_env: true,
        cwd: "/".into(),
        ..Default::default()
    };
    let limits = Limits {
        timeout: Some(PROBE_TIMEOUT),
        grace: Duration::from_secs(1),
        dump: None,
    };
    let mut info = PythonInfo {
        path: Some(path.display().to_string()),
        ..Default::default()
    };
    match process::run(&spec, Output::Separate { limit: 4096 }, limits, |_| {}) {
        Err(e) => info.missing = Some(format!("python3 cannot run: {}", e.message)),
        Ok(f) if f.timed_out => {
            info.missing = Some(format!(
                "python3 did not answer within {} s",
                PROBE_TIMEOUT.as_secs()
            ))
        }
        Ok(f) if !f.exit.success() => {
            let err = f.stderr.data.to_string_lossy();
            info.missing = Some(format!(
                "python3 failed ({}): {}",
                f.exit,
                err.lines().last().unwrap_or("").trim()
            ));
        }
        Ok(f) => {
            let version = f.stdout.data.to_string_lossy().trim().to_string();
            match major_minor(&version) {
                Some(v) if v >= MIN_VERSION => {}
                Some(_) => {
                    info.missing = Some(format!(
                        "python3 {version} is too old: lutf needs {}.{} or newer",
                        MIN_VERSION.0, MIN_VERSION.1
                    ))
                }
                None => info.missing = Some(format!("python3 printed no version: {version:?}")),
            }
            info.version = Some(version);
        }
    }
    info
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn versions_compare_numerically() {
        assert_eq!(major_minor("3.6.15"), Some((3, 6)));
        assert!(major_minor("3.10.1").unwrap() >= MIN_VERSION);
        assert!(major_minor("3.5.9").unwrap() < MIN_VERSION);
        assert_eq!(major_minor("garbage"), None);
    }

    #[test]
    fn env_is_minimal_and_points_at_the_bundle() {
        let env = env(Path::new("/b"));
        let get = |k: &str| env.iter().find(|(n, _)| n == k).map(|(_, v)| v.clone());
        assert_eq!(get("PYTHONPATH"), Some("/b/python".into()));
        assert_eq!(get("PYTHONDONTWRITEBYTECODE"), None, "bytecode is cached");
        assert!(get("PATH").is_some());
        assert!(env.iter().all(|(k, _)| [
            "PYTHONPATH",
            "PYTHONUNBUFFERED",
            "PATH",
            "HOME",
            "USER",
            "LANG"
        ]
        .contains(&k.to_str().unwrap())));
    }
}
