//! What every transport agrees on about installed bundles, and the node-side installer
//! used over SSH.
//!
//! A bundle lives in `<workdir>/<id>/` (`id` = the first 16 hex digits of its sha256) with a
//! marker file [`MARKER`] holding the full hash, written last, inside a folder that is
//! renamed into place: a folder with a good marker is complete. The [`KEEP_BUNDLES`] most
//! recently used bundles stay; older ones are pruned. The local transport applies these
//! rules in Rust (`local.rs`); on an SSH node they are applied by [`INSTALLER`], a small
//! Python program (nodes have `python3`, not necessarily `tar`), which also re-checks the
//! hash of the installed files before each use.

use crate::bundle::Bundle;

/// The marker file inside an installed bundle: its full sha256, in hex.
pub const MARKER: &str = ".lutf-bundle";

/// The fingerprint file inside an installed bundle: its files' stat data when the
/// installer last verified them (`install_bundle.py`; the helper's `--bundle` check reads
/// it too).
pub const FINGERPRINT: &str = ".lutf-stat";

/// How many bundles a work directory keeps (the most recently used ones).
pub const KEEP_BUNDLES: usize = 3;

/// The node-side installer (Python 3.6+, standard library only). See its header.
pub const INSTALLER: &str = include_str!("install_bundle.py");

/// Whether a work directory entry is named like an installed bundle.
pub fn is_bundle_name(name: &str) -> bool {
    name.len() == 16 && name.bytes().all(|b| b.is_ascii_hexdigit())
}

/// Single-quotes `s` for a POSIX shell (the remote login shell parses ssh commands).
pub fn shell_quote(s: &str) -> String {
    if !s.is_empty()
        && s.bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"/._-=:,+@%".contains(&b))
    {
        return s.to_string();
    }
    format!("'{}'", s.replace('\'', r"'\''"))
}

/// The command line that starts [`INSTALLER`] on a node: the program itself follows on
/// stdin, so the command stays short and free of quoting trouble. `workdir` `None` lets the
/// node choose `/tmp/lutf-<its user>`.
pub fn installer_command(workdir: Option<&str>, bundle: &Bundle) -> String {
    format!(
        "exec python3 -I -S -c 'import sys;exec(sys.stdin.buffer.read({}))' {} {} {} {}",
        INSTALLER.len(),
        shell_quote(workdir.unwrap_or("")),
        bundle.id(),
        bundle.hash(),
        KEEP_BUNDLES
    )
}

/// The stream header of one file: `F`, mode, path length, size (little endian).
pub fn file_header(path: &str, mode: u32, size: u64) -> Vec<u8> {
    let mut h = Vec::with_capacity(17 + path.len());
    h.push(b'F');
    h.extend_from_slice(&mode.to_le_bytes());
    h.extend_from_slice(&(path.len() as u32).to_le_bytes());
    h.extend_from_slice(&size.to_le_bytes());
    h.extend_from_slice(path.as_bytes());
    h
}

/// The end of a stream.
pub const STREAM_END: &[u8] = b"E";

/// The whole stream for `bundle` as one buffer (tests; the SSH transport writes it file by
/// file).
pub fn stream(bundle: &Bundle) -> Vec<u8> {
    let mut out = Vec::with_capacity(bundle.size() as usize + 64 * bundle.files().len());
    for f in bundle.files() {
        out.extend(file_header(&f.path, f.mode, f.data.len() as u64));
        out.extend_from_slice(&f.data);
    }
    out.extend_from_slice(STREAM_END);
    out
}

/// One line the installer writes (JSON).
#[derive(Debug, Clone, PartialEq, serde::Deserialize)]
#[serde(untagged)]
pub enum InstallerSays {
    /// After checking the work directory: whether the bundle is already there.
    Checked {
        /// The work directory (resolved on the node when none was given).
        workdir: String,
        /// `have` or `need`.
        state: String,
        /// Why it is needed (or `verified`).
        why: String,
    },
    /// After unpacking a stream.
    Installed {
        /// Bytes read from the stream.
        installed: u64,
    },
    /// At the end.
    Done {
        /// Always true.
        done: bool,
        /// Old bundles removed.
        pruned: usize,
    },
    /// Instead of the above.
    Error {
        /// `workdir` or `deploy`.
        error: String,
        /// The work directory.
        dir: String,
        /// What is wrong.
        message: String,
    },
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::bundle::BundleFile;
    use std::os::unix::fs::{MetadataExt, PermissionsExt};
    use std::path::Path;
    use std::process::{Command, Stdio};

    fn bundle(tag: &str) -> Bundle {
        Bundle::from_files(vec![
            BundleFile {
                path: "lutf-helper".into(),
                mode: 0o755,
                data: format!("#!/bin/sh\necho {tag}\n").into_bytes().into(),
            },
            BundleFile {
                path: "python/lutf/__init__.py".into(),
                mode: 0o644,
                data: b"x = 1\n".to_vec().into(),
            },
            BundleFile {
                path: "suites/s/test_01.py".into(),
                mode: 0o644,
                data: tag.as_bytes().to_vec().into(),
            },
        ])
    }

    struct Run {
        lines: Vec<InstallerSays>,
        code: i32,
        stderr: String,
    }

    /// Runs the installer exactly as a node would (the same command line, through `sh`),
    /// sending the stream when it asks for it.
    fn run_installer(python: &str, workdir: Option<&Path>, b: &Bundle, corrupt: bool) -> Run {
        use std::io::{BufRead, BufReader, Write};
        let cmd = installer_command(workdir.map(|w| w.to_str().unwrap()), b)
            .replacen("python3", python, 1);
        let mut child = Command::new("sh")
            .arg("-c")
            .arg(&cmd)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        let mut stdin = child.stdin.take().unwrap();
        stdin.write_all(INSTALLER.as_bytes()).unwrap();
        let mut out = BufReader::new(child.stdout.take().unwrap());
        let mut lines = Vec::new();
        let mut line = String::new();
        let mut stdin = Some(stdin);
        while out.read_line(&mut line).unwrap() > 0 {
            let said: InstallerSays =
                serde_json::from_str(&line).unwrap_or_else(|e| panic!("{line:?}: {e}"));
            if let InstallerSays::Checked { state, .. } = &said {
                let mut s = stdin.take().unwrap();
                if state == "need" {
                    let mut data = stream(b);
                    if corrupt {
                        let n = data.len();
                        data[n - 3] ^= 1;
                    }
                    s.write_all(&data).unwrap();
                }
            }
            lines.push(said);
            line.clear();
        }
        drop(stdin);
        let o = child.wait_with_output().unwrap();
        Run {
            lines,
            code: o.status.code().unwrap_or(-1),
            stderr: String::from_utf8_lossy(&o.stderr).into(),
        }
    }

    fn pythons() -> Vec<String> {
        let mut v = vec!["python3".to_string()];
        let old = "/root/.pyenv/versions/3.6.15/bin/python3.6";
        if Path::new(old).exists() {
            v.push(old.into());
        } else {
            eprintln!("python 3.6 not found at {old}: the installer is tested with python3 only");
        }
        v
    }

    #[test]
    fn installs_once_then_only_checks() {
        for py in pythons() {
            let tmp = tempfile::tempdir().unwrap();
            let wd = tmp.path().join("wd");
            let b = bundle("one");
            let r = run_installer(&py, Some(&wd), &b, false);
            assert_eq!(r.code, 0, "{py}: {}", r.stderr);
            assert!(
                matches!(&r.lines[0], InstallerSays::Checked { state, why, .. }
                if state == "need" && why == "absent")
            );
            assert_eq!(
                r.lines[1],
                InstallerSays::Installed {
                    installed: stream(&b).len() as u64
                }
            );
            let dir = wd.join(b.id());
            assert_eq!(
                std::fs::read_to_string(dir.join(MARKER)).unwrap().trim(),
                b.hash()
            );
            let helper = std::fs::metadata(dir.join("lutf-helper")).unwrap();
            assert_eq!(helper.permissions().mode() & 0o777, 0o755);
            assert_eq!(
                std::fs::metadata(&wd).unwrap().permissions().mode() & 0o777,
                0o700
            );
            // Again: nothing sent, only the check.
            let r = run_installer(&py, Some(&wd), &b, false);
            assert_eq!(r.code, 0, "{}", r.stderr);
            assert!(matches!(&r.lines[0], InstallerSays::Checked { state, .. } if state == "have"));
            assert!(matches!(r.lines[1], InstallerSays::Done { pruned: 0, .. }));
        }
    }

    #[test]
    fn a_changed_file_is_noticed_and_replaced() {
        let tmp = tempfile::tempdir().unwrap();
        let wd = tmp.path().join("wd");
        let b = bundle("one");
        assert_eq!(run_installer("python3", Some(&wd), &b, false).code, 0);
        let suite = wd.join(b.id()).join("suites/s/test_01.py");
        std::fs::write(&suite, "tampered").unwrap();
        // A byte-code cache beside the modules is not a change.
        std::fs::create_dir_all(wd.join(b.id()).join("python/lutf/__pycache__")).unwrap();
        std::fs::write(wd.join(b.id()).join("python/lutf/__pycache__/x.pyc"), "c").unwrap();
        let r = run_installer("python3", Some(&wd), &b, false);
        assert_eq!(r.code, 0, "{}", r.stderr);
        assert!(
            matches!(&r.lines[0], InstallerSays::Checked { state, why, .. }
            if state == "need" && why.contains("changed"))
        );
        assert_eq!(std::fs::read_to_string(&suite).unwrap(), "one");
    }

    #[test]
    fn an_unchanged_bundle_is_checked_cheaply_and_a_touched_one_by_its_hash() {
        for py in pythons() {
            let tmp = tempfile::tempdir().unwrap();
            let wd = tmp.path().join("wd");
            let b = bundle("one");
            assert_eq!(run_installer(&py, Some(&wd), &b, false).code, 0);
            let r = run_installer(&py, Some(&wd), &b, false);
            assert!(
                matches!(&r.lines[0], InstallerSays::Checked { state, why, .. }
                if state == "have" && why.starts_with("unchanged")),
                "{:?}",
                r.lines
            );
            // Same content, new times: hashed, found good, kept.
            let helper = wd.join(b.id()).join("lutf-helper");
            let data = std::fs::read(&helper).unwrap();
            std::fs::write(&helper, &data).unwrap();
            let r = run_installer(&py, Some(&wd), &b, false);
            assert!(
                matches!(&r.lines[0], InstallerSays::Checked { state, why, .. }
                if state == "have" && why == "verified"),
                "{:?}",
                r.lines
            );
            let r = run_installer(&py, Some(&wd), &b, false);
            assert!(
                matches!(&r.lines[0], InstallerSays::Checked { why, .. }
                if why.starts_with("unchanged")),
                "{:?}",
                r.lines
            );
            // A changed mode is a change.
            std::fs::set_permissions(&helper, std::fs::Permissions::from_mode(0o777)).unwrap();
            let r = run_installer(&py, Some(&wd), &b, false);
            assert!(matches!(&r.lines[0], InstallerSays::Checked { state, .. } if state == "need"));
            let mode = std::fs::metadata(&helper).unwrap().permissions().mode();
            assert_eq!(mode & 0o777, 0o755);
        }
    }

    #[test]
    fn odd_work_directory_names_come_back_intact() {
        for py in pythons() {
            let tmp = tempfile::tempdir().unwrap();
            let wd = tmp.path().join("wd \"quoted\" \\ é 😀 'x'\t");
            let b = bundle("one");
            let r = run_installer(&py, Some(&wd), &b, false);
            assert_eq!(r.code, 0, "{}", r.stderr);
            assert!(
                matches!(&r.lines[0], InstallerSays::Checked { workdir, .. }
                if Path::new(workdir) == wd),
                "{:?}",
                r.lines
            );
        }
    }

    #[test]
    fn a_corrupt_stream_is_refused_and_leaves_nothing() {
        let tmp = tempfile::tempdir().unwrap();
        let wd = tmp.path().join("wd");
        let b = bundle("one");
        let r = run_installer("python3", Some(&wd), &b, true);
        assert_eq!(r.code, 3);
        assert!(
            matches!(r.lines.last(), Some(InstallerSays::Error { error, message, .. })
                if error == "deploy" && message.contains("hash mismatch")),
            "{:?}",
            r.lines
        );
        let left: Vec<_> = std::fs::read_dir(&wd).unwrap().collect();
        assert!(left.is_empty(), "{left:?}");
    }

    #[test]
    fn unsafe_workdirs_are_refused() {
        let tmp = tempfile::tempdir().unwrap();
        let b = bundle("one");
        let open = tmp.path().join("open");
        std::fs::create_dir(&open).unwrap();
        std::fs::set_permissions(&open, std::fs::Permissions::from_mode(0o777)).unwrap();
        let r = run_installer("python3", Some(&open), &b, false);
        assert_eq!(r.code, 3);
        assert!(
            matches!(&r.lines[0], InstallerSays::Error { error, message, .. }
            if error == "workdir" && message.contains("writable by others (mode 777)"))
        );

        let file = tmp.path().join("file");
        std::fs::write(&file, "").unwrap();
        let r = run_installer("python3", Some(&file), &b, false);
        assert!(matches!(&r.lines[0], InstallerSays::Error { message, .. }
            if message.contains("not a directory")));

        let link = tmp.path().join("link");
        std::os::unix::fs::symlink(&open, &link).unwrap();
        let r = run_installer("python3", Some(&link), &b, false);
        assert!(matches!(&r.lines[0], InstallerSays::Error { message, .. }
            if message.contains("symbolic link")));

        // SAFETY: geteuid has no preconditions.
        if unsafe { libc::geteuid() } == 0 {
            let theirs = tmp.path().join("theirs");
            std::fs::create_dir(&theirs).unwrap();
            std::os::unix::fs::chown(&theirs, Some(65534), Some(65534)).unwrap();
            std::fs::set_permissions(&theirs, std::fs::Permissions::from_mode(0o700)).unwrap();
            let r = run_installer("python3", Some(&theirs), &b, false);
            assert!(matches!(&r.lines[0], InstallerSays::Error { message, .. }
                if message.contains("owned by uid 65534")));
            assert_eq!(std::fs::metadata(&theirs).unwrap().uid(), 65534);
        } else {
            eprintln!("not root: the foreign-owner case needs root to chown");
        }
    }

    #[test]
    fn the_shell_runs_only_our_untouched_helper_at_its_place() {
        use std::os::unix::fs::PermissionsExt as _;
        let tmp = tempfile::tempdir().unwrap();
        let wd = tmp.path().join("wd");
        let wd_s = wd.to_str().unwrap();
        let b = bundle("one");
        let check = |wd: &str| {
            let (command, dir) = crate::transport::ssh::check_command(wd, &b);
            let out = Command::new("sh").arg("-c").arg(&command).output().unwrap();
            (
                out.status.code(),
                String::from_utf8_lossy(&out.stdout).into_owned(),
                dir,
            )
        };
        // Nothing there yet.
        assert_eq!(check(wd_s).0, Some(127));
        assert_eq!(run_installer("python3", Some(&wd), &b, false).code, 0);
        // Installed: the helper (here a script that ignores its arguments) runs.
        let (code, out, dir) = check(wd_s);
        assert_eq!((code, out.as_str()), (Some(0), "one\n"));
        assert_eq!(Path::new(&dir), wd.join(b.id()));
        // A helper written after the fingerprint does not run.
        std::thread::sleep(std::time::Duration::from_millis(20));
        std::fs::write(
            wd.join(b.id()).join("lutf-helper"),
            "#!/bin/sh\necho other\n",
        )
        .unwrap();
        assert_eq!(check(wd_s).0, Some(127));
        // Neither does one in a folder of another user (as root, who can make one).
        // SAFETY: geteuid has no preconditions.
        if unsafe { libc::geteuid() } == 0 {
            assert_eq!(run_installer("python3", Some(&wd), &b, false).code, 0);
            assert_eq!(check(wd_s).0, Some(0));
            std::os::unix::fs::chown(wd.join(b.id()), Some(65534), None).unwrap();
            assert_eq!(check(wd_s).0, Some(127));
            std::os::unix::fs::chown(wd.join(b.id()), Some(0), None).unwrap();
        }
        // Not executable: not run either.
        let helper = wd.join(b.id()).join("lutf-helper");
        std::fs::set_permissions(&helper, std::fs::Permissions::from_mode(0o644)).unwrap();
        assert_eq!(check(wd_s).0, Some(127));
    }

    #[test]
    fn old_bundles_are_pruned_to_the_last_few() {
        let tmp = tempfile::tempdir().unwrap();
        let wd = tmp.path().join("wd");
        let mut ids = Vec::new();
        for i in 0..5 {
            let b = bundle(&format!("v{i}"));
            let r = run_installer("python3", Some(&wd), &b, false);
            assert_eq!(r.code, 0, "{}", r.stderr);
            ids.push(b.id().to_string());
            // Marker times must differ for a stable order.
            std::thread::sleep(std::time::Duration::from_millis(20));
        }
        let mut left: Vec<String> = std::fs::read_dir(&wd)
            .unwrap()
            .map(|e| e.unwrap().file_name().into_string().unwrap())
            .collect();
        left.sort();
        let mut want = ids[5 - KEEP_BUNDLES..].to_vec();
        want.sort();
        assert_eq!(left, want);
    }

    #[test]
    fn quoting_survives_a_shell() {
        for s in [
            "plain",
            "",
            "with space",
            "it's",
            "$(x)`y`;z",
            "a\nb",
            "/tmp/lutf-x",
        ] {
            let out = Command::new("sh")
                .arg("-c")
                .arg(format!("printf %s {}", shell_quote(s)))
                .output()
                .unwrap();
            assert_eq!(String::from_utf8(out.stdout).unwrap(), s);
        }
    }

    #[test]
    fn bundle_names() {
        assert!(is_bundle_name("0123456789abcdef"));
        assert!(!is_bundle_name("0123456789abcdeg"));
        assert!(!is_bundle_name(".tmp-0123456789"));
    }
}
