//! `--bundle HASH`: the check that the bundle this helper runs from is the one the master
//! means and unchanged since it was installed, made before serving the request, so that
//! an unchanged re-run needs no installer (and no Python) on the node.
//!
//! The installer (`src/transport/install_bundle.py` in lutf) writes two files into an
//! installed bundle: the marker, holding the bundle's full hash, and the fingerprint, one
//! line per file with its stat data at install time. The bundle is intact when the marker
//! holds `HASH` and the files' stat data still match the fingerprint line for line (any
//! write or `chmod` changes a file's ctime, which cannot be set back). Otherwise the helper
//! exits [`lutf_protocol::exit::BUNDLE`] having read and run nothing, and the master runs
//! the installer, which hashes the files, repairs or reinstalls, and writes a new
//! fingerprint.

use std::os::unix::ffi::OsStrExt;
use std::os::unix::fs::MetadataExt;
use std::path::Path;

/// The marker file: the bundle's full sha256 in hex.
const MARKER: &str = ".lutf-bundle";
/// The fingerprint file: the files' stat data when last verified.
const FINGERPRINT: &str = ".lutf-stat";

/// Whether `bundle_dir` (inside `workdir`) holds the bundle `hash`, intact; else why not.
/// Also refuses a work directory or bundle folder that another user could have written
/// to, as the installer does. Touches the marker when intact: the installer prunes the
/// bundles used longest ago.
pub fn check(workdir: &Path, bundle_dir: &Path, hash: &str) -> Result<(), String> {
    for dir in [workdir, bundle_dir] {
        crate::workdir::check_private(dir).map_err(|e| e.message)?;
    }
    let marker = bundle_dir.join(MARKER);
    let have = std::fs::read_to_string(&marker).map_err(|e| format!("no marker: {e}"))?;
    if have.trim() != hash {
        return Err("another bundle, or an incomplete one, is under its name".into());
    }
    let recorded =
        std::fs::read(bundle_dir.join(FINGERPRINT)).map_err(|e| format!("no fingerprint: {e}"))?;
    if recorded != fingerprint(bundle_dir)?.into_bytes() {
        return Err("its files changed since they were verified".into());
    }
    // Best effort: a marker that cannot be touched only makes pruning less exact.
    if let Ok(f) = std::fs::File::open(&marker) {
        let _ = f.set_modified(std::time::SystemTime::now());
    }
    Ok(())
}

/// The installer's fingerprint of the files under `root`: for each file in path order
/// (`__pycache__` folders, the marker and the fingerprint left out), `hex(path) size
/// octal(mode) mtime_ns ctime_ns inode`. Links and special files make it fail, as they
/// make the installer's check fail.
pub fn fingerprint(root: &Path) -> Result<String, String> {
    let mut files = Vec::new();
    walk(root, root, &mut files)?;
    files.sort_by(|a, b| a.0.cmp(&b.0));
    let mut text = String::new();
    for (rel, m) in files {
        let ns = |s: i64, n: i64| i128::from(s) * 1_000_000_000 + i128::from(n);
        let hex: String = rel.iter().map(|b| format!("{b:02x}")).collect();
        text.push_str(&format!(
            "{hex} {} {:o} {} {} {}\n",
            m.size(),
            m.mode(),
            ns(m.mtime(), m.mtime_nsec()),
            ns(m.ctime(), m.ctime_nsec()),
            m.ino()
        ));
    }
    Ok(text)
}

fn walk(
    root: &Path,
    dir: &Path,
    files: &mut Vec<(Vec<u8>, std::fs::Metadata)>,
) -> Result<(), String> {
    let entries = std::fs::read_dir(dir).map_err(|e| format!("{}: {e}", dir.display()))?;
    for entry in entries {
        let entry = entry.map_err(|e| format!("{}: {e}", dir.display()))?;
        let path = entry.path();
        let meta =
            std::fs::symlink_metadata(&path).map_err(|e| format!("{}: {e}", path.display()))?;
        let rel = path
            .strip_prefix(root)
            .expect("under its root")
            .as_os_str()
            .as_bytes()
            .to_vec();
        if meta.is_dir() {
            if entry.file_name() != "__pycache__" {
                walk(root, &path, files)?;
            }
        } else if meta.is_file() {
            if rel != MARKER.as_bytes() && rel != FINGERPRINT.as_bytes() {
                files.push((rel, meta));
            }
        } else {
            return Err(format!("{} is a link or a special file", path.display()));
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::os::unix::fs::PermissionsExt;
    use std::process::Command;

    /// The installer's own fingerprint of `root`, by its own code.
    fn python_fingerprint(root: &Path) -> String {
        let installer = concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/../src/transport/install_bundle.py"
        );
        let source = std::fs::read_to_string(installer).unwrap();
        // Everything but the last line (`sys.exit(main(...))`), then the two calls.
        let body = &source[..source.rfind("sys.exit(").unwrap()];
        let script = format!("{body}\nsys.stdout.write(fingerprint(bundle_files(sys.argv[1])))\n");
        let out = Command::new("python3")
            .args(["-I", "-S", "-c", &script])
            .arg(root)
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8(out.stdout).unwrap()
    }

    #[test]
    fn the_fingerprint_is_the_installers() {
        let tmp = tempfile::tempdir().unwrap();
        let root = tmp.path();
        std::fs::create_dir_all(root.join("python/lutf/__pycache__")).unwrap();
        std::fs::create_dir_all(root.join("suites/s p'q")).unwrap();
        std::fs::write(root.join("lutf-helper"), "x").unwrap();
        std::fs::set_permissions(
            root.join("lutf-helper"),
            std::fs::Permissions::from_mode(0o755),
        )
        .unwrap();
        std::fs::write(root.join("python/lutf/__init__.py"), "y = 1\n").unwrap();
        std::fs::write(root.join("python/lutf/__pycache__/x.pyc"), "c").unwrap();
        std::fs::write(root.join("suites/s p'q/t é.py"), "z").unwrap();
        std::fs::write(root.join(MARKER), "h\n").unwrap();
        let ours = fingerprint(root).unwrap();
        assert_eq!(ours.lines().count(), 3, "{ours}");
        assert_eq!(ours, python_fingerprint(root));
    }

    #[test]
    fn only_an_untouched_bundle_passes() {
        let tmp = tempfile::tempdir().unwrap();
        let wd = tmp.path().join("wd");
        let dir = wd.join("0123456789abcdef");
        std::fs::create_dir_all(dir.join("python")).unwrap();
        std::fs::set_permissions(&wd, std::fs::Permissions::from_mode(0o700)).unwrap();
        std::fs::write(dir.join("lutf-helper"), "x").unwrap();
        std::fs::write(dir.join("python/a.py"), "a").unwrap();
        let err = check(&wd, &dir, "full").unwrap_err();
        assert!(err.starts_with("no marker"), "{err}");
        std::fs::write(dir.join(MARKER), "full\n").unwrap();
        let err = check(&wd, &dir, "full").unwrap_err();
        assert!(err.starts_with("no fingerprint"), "{err}");
        std::fs::write(dir.join(FINGERPRINT), fingerprint(&dir).unwrap()).unwrap();
        check(&wd, &dir, "full").unwrap();
        assert!(check(&wd, &dir, "other")
            .unwrap_err()
            .contains("another bundle"));
        // A rewrite with the same bytes still changes the ctime (a clock tick later): caught.
        std::thread::sleep(std::time::Duration::from_millis(20));
        std::fs::write(dir.join("python/a.py"), "a").unwrap();
        assert!(check(&wd, &dir, "full").unwrap_err().contains("changed"));
        std::fs::write(dir.join(FINGERPRINT), fingerprint(&dir).unwrap()).unwrap();
        check(&wd, &dir, "full").unwrap();
        std::os::unix::fs::symlink("a.py", dir.join("python/b.py")).unwrap();
        assert!(check(&wd, &dir, "full").unwrap_err().contains("link"));
        std::fs::remove_file(dir.join("python/b.py")).unwrap();
        std::fs::set_permissions(&wd, std::fs::Permissions::from_mode(0o777)).unwrap();
        assert!(check(&wd, &dir, "full")
            .unwrap_err()
            .contains("writable by others"));
    }
}
