//! The local transport: this machine, the helper run as a child process, no SSH.

use std::os::unix::fs::{DirBuilderExt, MetadataExt, OpenOptionsExt, PermissionsExt};
use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::sync::Mutex;

use super::deploy::{is_bundle_name, MARKER};
use super::{exchange, BoxFuture, Deployed, RawReply, ReadError, Transport, TransportError};
use crate::bundle::Bundle;

pub use super::deploy::KEEP_BUNDLES;

/// This machine.
#[derive(Debug)]
pub struct Local {
    workdir: PathBuf,
    workdir_str: String,
    bundle_dir: Mutex<Option<PathBuf>>,
}

impl Local {
    /// A local transport using `workdir` (default: [`default_workdir`]).
    pub fn new(workdir: Option<PathBuf>) -> Local {
        let workdir = workdir.unwrap_or_else(default_workdir);
        Local {
            workdir_str: workdir.display().to_string(),
            workdir,
            bundle_dir: Mutex::new(None),
        }
    }
}

/// `/tmp/lutf-<user>`.
pub fn default_workdir() -> PathBuf {
    PathBuf::from(format!("/tmp/lutf-{}", current_user()))
}

/// The user running lutf: `$USER`, else the numeric uid.
pub fn current_user() -> String {
    std::env::var("USER")
        .ok()
        .filter(|u| !u.is_empty() && !u.contains('/'))
        // SAFETY: getuid has no preconditions and cannot fail.
        .unwrap_or_else(|| unsafe { libc::getuid() }.to_string())
}

/// Creates `dir` (mode 0700) or checks that the existing one is ours and not writable by
/// others: a shared or foreign work directory would let another user swap our helper.
pub fn ensure_private_dir(dir: &Path) -> Result<(), TransportError> {
    let bad = |reason: String| TransportError::Workdir {
        dir: dir.display().to_string(),
        reason,
    };
    match std::fs::symlink_metadata(dir) {
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
            std::fs::DirBuilder::new()
                .recursive(true)
                .mode(0o700)
                .create(dir)
                .map_err(|e| bad(format!("cannot create it: {e}")))?;
            Ok(())
        }
        Err(e) => Err(bad(e.to_string())),
        Ok(meta) => {
            // SAFETY: geteuid has no preconditions and cannot fail.
            let me = unsafe { libc::geteuid() };
            if !meta.is_dir() {
                return Err(bad("exists and is not a directory".into()));
            }
            if meta.uid() != me {
                return Err(bad(format!(
                    "owned by uid {}, not by us (uid {me}); remove it or choose another --workdir",
                    meta.uid()
                )));
            }
            if meta.mode() & 0o022 != 0 {
                return Err(bad(format!(
                    "is writable by others (mode {:o}); run `chmod 700 {}`",
                    meta.mode() & 0o777,
                    dir.display()
                )));
            }
            Ok(())
        }
    }
}

/// Installs `bundle` as `<workdir>/<id>/` unless it is already there, atomically
/// (written to a temporary folder, then renamed), and prunes old bundles.
pub fn install_bundle(workdir: &Path, bundle: &Bundle) -> Result<Deployed, TransportError> {
    ensure_private_dir(workdir)?;
    let dest = workdir.join(bundle.id());
    let marker = dest.join(MARKER);
    let deploy_err = |what: &str, e: std::io::Error| {
        TransportError::Deploy(format!("{what} under {}: {e}", workdir.display()))
    };
    let mut bytes_sent = 0;
    let already = std::fs::read_to_string(&marker).is_ok_and(|h| h.trim() == bundle.hash());
    if !already {
        let tmp = workdir.join(format!(".tmp-{}-{}", bundle.id(), std::process::id()));
        let _ = std::fs::remove_dir_all(&tmp);
        for f in bundle.files() {
            let path = tmp.join(&f.path);
            std::fs::create_dir_all(path.parent().expect("bundle paths have a parent"))
                .map_err(|e| deploy_err("mkdir", e))?;
            std::fs::OpenOptions::new()
                .write(true)
                .create_new(true)
                .mode(f.mode)
                .open(&path)
                .and_then(|mut file| std::io::Write::write_all(&mut file, &f.data))
                .map_err(|e| deploy_err("write", e))?;
            bytes_sent += f.data.len() as u64;
        }
        std::fs::write(tmp.join(MARKER), bundle.hash()).map_err(|e| deploy_err("write", e))?;
        // A partial or stale copy under the final name is replaced whole.
        let _ = std::fs::remove_dir_all(&dest);
        std::fs::rename(&tmp, &dest).map_err(|e| deploy_err("rename", e))?;
    }
    // Touch it so pruning keeps the bundle in use.
    let _ = std::fs::set_permissions(&dest, std::fs::Permissions::from_mode(0o700));
    let _ = filetime_now(&marker);
    let pruned = prune_bundles(workdir, bundle.id());
    Ok(Deployed {
        dir: dest.display().to_string(),
        bytes_sent,
        pruned,
    })
}

fn filetime_now(path: &Path) -> std::io::Result<()> {
    let f = std::fs::OpenOptions::new().append(true).open(path)?;
    f.set_modified(std::time::SystemTime::now())
}

/// Removes all but the [`KEEP_BUNDLES`] most recently used bundles (never `keep`).
fn prune_bundles(workdir: &Path, keep: &str) -> usize {
    let Ok(entries) = std::fs::read_dir(workdir) else {
        return 0;
    };
    let mut bundles: Vec<(std::time::SystemTime, PathBuf)> = entries
        .filter_map(Result::ok)
        .filter(|e| {
            let n = e.file_name().to_string_lossy().into_owned();
            is_bundle_name(&n) && n != keep
        })
        .filter_map(|e| {
            let m = std::fs::metadata(e.path().join(MARKER)).ok()?;
            Some((m.modified().ok()?, e.path()))
        })
        .collect();
    bundles.sort();
    let excess = (bundles.len() + 1).saturating_sub(KEEP_BUNDLES);
    bundles
        .into_iter()
        .take(excess)
        .filter(|(_, p)| std::fs::remove_dir_all(p).is_ok())
        .count()
}

/// Starts `command`, retrying briefly while its file is "busy": just after the bundle was
/// written, a child that another thread forked in between may still hold the helper open for
/// writing until it execs (the classic ETXTBSY race of threaded programs), for a moment.
async fn spawn_retrying_busy(
    command: &mut tokio::process::Command,
) -> std::io::Result<tokio::process::Child> {
    let mut tries = 0;
    loop {
        match command.spawn() {
            Err(e) if e.raw_os_error() == Some(libc::ETXTBSY) && tries < 100 => {
                tries += 1;
                tokio::time::sleep(std::time::Duration::from_millis(10)).await;
            }
            other => return other,
        }
    }
}

impl Transport for Local {
    fn deploy<'a>(&'a self, bundle: &'a Bundle) -> BoxFuture<'a, Result<Deployed, TransportError>> {
        Box::pin(async move {
            let workdir = self.workdir.clone();
            let b = bundle.clone();
            let deployed = tokio::task::spawn_blocking(move || install_bundle(&workdir, &b))
                .await
                .map_err(|e| TransportError::Deploy(e.to_string()))??;
            *self.bundle_dir.lock().unwrap() = Some(PathBuf::from(&deployed.dir));
            Ok(deployed)
        })
    }

    fn call<'a>(
        &'a self,
        request: &'a [u8],
        max_reply: usize,
    ) -> BoxFuture<'a, Result<RawReply, TransportError>> {
        Box::pin(async move {
            let dir = self
                .bundle_dir
                .lock()
                .unwrap()
                .clone()
                .ok_or(TransportError::NotDeployed)?;
            let mut command = tokio::process::Command::new(Bundle::helper_path(&dir));
            command
                .arg("--workdir")
                .arg(&self.workdir)
                .stdin(Stdio::piped())
                .stdout(Stdio::piped())
                .stderr(Stdio::piped())
                .kill_on_drop(true);
            let mut child = spawn_retrying_busy(&mut command).await?;
            let (stdout, stderr) = match exchange(
                child.stdin.take(),
                request,
                child.stdout.take(),
                child.stderr.take(),
                max_reply,
            )
            .await
            {
                Ok(both) => both,
                // The child is killed as it is dropped: nothing more is read.
                Err(ReadError::TooLarge) => {
                    return Err(TransportError::ReplyTooLarge { limit: max_reply })
                }
                Err(ReadError::Io(e)) => return Err(TransportError::Io(e)),
            };
            let status = child.wait().await?;
            Ok(RawReply {
                stdout,
                stderr,
                exit_code: status.code(),
            })
        })
    }

    fn workdir(&self) -> &str {
        &self.workdir_str
    }
}
