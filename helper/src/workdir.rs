//! The work directory on the node: private folders, fresh unique folders, atomic writes.
//!
//! Jobs and scratch folders live under the work directory, so it must be ours alone: a
//! folder another user owns or may write to could hand us their files as job state.

use std::io::Write;
use std::os::unix::fs::{DirBuilderExt, MetadataExt};
use std::path::{Path, PathBuf};

use lutf_protocol::{ErrorKind, ErrorReply};

fn io_error(path: &Path, what: impl std::fmt::Display) -> ErrorReply {
    ErrorReply::new(ErrorKind::Io, format!("{}: {what}", path.display()))
}

/// Creates `dir` (mode 0700, parents as needed) or checks that the existing one is a
/// directory we own that nobody else may write to.
pub fn ensure_private(dir: &Path) -> Result<(), ErrorReply> {
    match std::fs::symlink_metadata(dir) {
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
            std::fs::DirBuilder::new()
                .recursive(true)
                .mode(0o700)
                .create(dir)
                .map_err(|e| io_error(dir, format!("cannot create it: {e}")))?;
            // Check what we made: a racing creator may have won.
            check_private(dir)
        }
        Err(e) => Err(io_error(dir, e)),
        Ok(_) => check_private(dir),
    }
}

/// Checks that the existing `dir` is a directory we own that nobody else may write to.
pub fn check_private(dir: &Path) -> Result<(), ErrorReply> {
    let meta = std::fs::symlink_metadata(dir).map_err(|e| io_error(dir, e))?;
    // SAFETY: geteuid has no preconditions and cannot fail.
    let me = unsafe { libc::geteuid() };
    if !meta.is_dir() {
        return Err(io_error(dir, "exists and is not a directory"));
    }
    if meta.uid() != me {
        return Err(io_error(
            dir,
            format!(
                "owned by uid {}, not by us (uid {me}); refusing to use it",
                meta.uid()
            ),
        ));
    }
    if meta.mode() & 0o022 != 0 {
        return Err(io_error(
            dir,
            format!(
                "is writable by others (mode {:o}); refusing to use it",
                meta.mode() & 0o777
            ),
        ));
    }
    Ok(())
}

/// Creates a new, empty folder under `parent` (which must exist) with a name nobody has
/// used yet; returns its name and path.
pub fn unique_dir(parent: &Path) -> Result<(String, PathBuf), ErrorReply> {
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_nanos())
        .unwrap_or_default();
    let pid = std::process::id();
    for n in 0..1000u32 {
        let name = if n == 0 {
            format!("{nanos:x}-{pid}")
        } else {
            format!("{nanos:x}-{pid}-{n}")
        };
        let path = parent.join(&name);
        match std::fs::DirBuilder::new().mode(0o700).create(&path) {
            Ok(()) => return Ok((name, path)),
            Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => continue,
            Err(e) => return Err(io_error(&path, format!("cannot create it: {e}"))),
        }
    }
    Err(io_error(parent, "cannot find an unused name"))
}

/// Writes `data` to `path` so that readers see either nothing or all of it.
pub fn write_atomic(path: &Path, data: &[u8]) -> std::io::Result<()> {
    let mut tmp = path.as_os_str().to_owned();
    tmp.push(format!(".tmp{}", std::process::id()));
    let tmp = PathBuf::from(tmp);
    let mut f = std::fs::File::create(&tmp)?;
    f.write_all(data)?;
    f.sync_all()?;
    drop(f);
    std::fs::rename(&tmp, path)
}

/// A folder removed when dropped: the per-call scratch space under `<workdir>/scratch/`.
#[derive(Debug)]
pub struct Scratch {
    path: PathBuf,
}

impl Scratch {
    /// A fresh folder under `<workdir>/scratch/`.
    pub fn new(workdir: &Path) -> Result<Scratch, ErrorReply> {
        ensure_private(workdir)?;
        let parent = workdir.join("scratch");
        ensure_private(&parent)?;
        let (_, path) = unique_dir(&parent)?;
        Ok(Scratch { path })
    }

    /// Where it is.
    pub fn path(&self) -> &Path {
        &self.path
    }
}

impl Drop for Scratch {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.path);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::os::unix::fs::PermissionsExt;

    #[test]
    fn creates_private_and_refuses_shared() {
        let base = tempfile::tempdir().unwrap();
        let dir = base.path().join("a/b");
        ensure_private(&dir).unwrap();
        assert_eq!(
            std::fs::metadata(&dir).unwrap().permissions().mode() & 0o777,
            0o700
        );
        std::fs::set_permissions(&dir, std::fs::Permissions::from_mode(0o777)).unwrap();
        let e = ensure_private(&dir).unwrap_err();
        assert_eq!(e.kind, ErrorKind::Io);
        assert!(e.message.contains("writable by others"), "{}", e.message);
        let file = base.path().join("f");
        std::fs::write(&file, "").unwrap();
        assert!(ensure_private(&file).is_err());
    }

    #[test]
    fn unique_dirs_differ_and_scratch_goes_away() {
        let base = tempfile::tempdir().unwrap();
        let (a, _) = unique_dir(base.path()).unwrap();
        let (b, _) = unique_dir(base.path()).unwrap();
        assert_ne!(a, b);
        let path = {
            let s = Scratch::new(base.path()).unwrap();
            std::fs::write(s.path().join("x"), "y").unwrap();
            s.path().to_path_buf()
        };
        assert!(!path.exists());
    }
}
