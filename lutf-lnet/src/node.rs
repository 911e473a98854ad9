//! What a node says about its LNet: whether the module is loaded, and which Lustre version
//! (hence which liblnetconfig ABI) it runs.
//!
//! The paths are taken under a root folder (`/` on a node) so that tests can fake `/sys`
//! and `/dev`; the commands (`lnetctl`, `rpm`, `dpkg-query`) are looked up in a PATH that
//! tests can point at folders of their own.

use std::ffi::OsString;
use std::fmt;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

use crate::error::Error;
use crate::version::{Abi, LustreVersion, UnsupportedVersion};

/// Where to look on one node.
#[derive(Debug, Clone)]
pub struct NodeProbe {
    /// The node's name, for messages.
    pub node: String,
    /// The filesystem root `sys/module/lnet` and `dev/lnet` are under (`/` on a node).
    pub root: PathBuf,
    /// The PATH to find `lnetctl`, `rpm` and `dpkg-query` in; `None` inherits ours, an
    /// empty one disables the commands.
    pub path: Option<OsString>,
}

/// Packages whose version is Lustre's, in the order they are asked about.
const RPM_PACKAGES: [&str; 3] = ["lustre-client", "lustre", "kmod-lustre-client"];
const DEB_PACKAGES: [&str; 3] = ["lustre-client-utils", "lustre-server-utils", "lustre-utils"];

/// Where a version was read.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum VersionSource {
    /// The loaded module's version file.
    Sysfs(PathBuf),
    /// `lnetctl --version`.
    Lnetctl,
    /// An installed package.
    Package(String),
}

impl fmt::Display for VersionSource {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            VersionSource::Sysfs(p) => write!(f, "{}", p.display()),
            VersionSource::Lnetctl => f.write_str("`lnetctl --version`"),
            VersionSource::Package(p) => write!(f, "package {p}"),
        }
    }
}

/// The ABI a node's Lustre version picked.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Detected {
    /// The ABI.
    pub abi: Abi,
    /// The version it was picked from.
    pub version: LustreVersion,
    /// Where the version was read.
    pub source: VersionSource,
}

impl NodeProbe {
    /// This machine, as `node`.
    pub fn local(node: impl Into<String>) -> NodeProbe {
        NodeProbe {
            node: node.into(),
            root: PathBuf::from("/"),
            path: None,
        }
    }

    /// `sys/module/lnet` under the root: present while the lnet module is loaded.
    pub fn lnet_module_dir(&self) -> PathBuf {
        self.root.join("sys/module/lnet")
    }

    /// `dev/lnet` under the root: the device liblnetconfig's ioctls go through.
    pub fn lnet_device(&self) -> PathBuf {
        self.root.join("dev/lnet")
    }

    /// Fails with "LNet is not loaded on NODE" unless the module and its device are there.
    ///
    /// Without the module, liblnetconfig's `show_net`, `show_route` and `show_routing`
    /// return success and an empty result, so this is checked before every call.
    pub fn check_lnet_loaded(&self) -> Result<(), Error> {
        for path in [self.lnet_module_dir(), self.lnet_device()] {
            if !path.exists() {
                return Err(Error::NotLoaded {
                    node: self.node.clone(),
                    missing: path,
                });
            }
        }
        Ok(())
    }

    /// The Lustre version: from the loaded module, else `lnetctl --version`, else the
    /// installed packages. Each source that answered with something that is not a version
    /// is reported in the error if none gives one.
    pub fn lustre_version(&self) -> Result<(LustreVersion, VersionSource), Error> {
        let mut tried = Vec::new();
        let sysfs = self.lnet_module_dir().join("version");
        match std::fs::read_to_string(&sysfs) {
            Ok(text) => match text.parse() {
                Ok(v) => return Ok((v, VersionSource::Sysfs(sysfs))),
                Err(_) => return Err(self.unknown(text.trim(), &VersionSource::Sysfs(sysfs))),
            },
            Err(e) => tried.push(format!("{}: {}", sysfs.display(), e.kind())),
        }
        if self.commands_enabled() {
            match self.run("lnetctl", &["--version"]) {
                Some(out) => match out.parse() {
                    Ok(v) => return Ok((v, VersionSource::Lnetctl)),
                    Err(_) => tried.push(format!("`lnetctl --version` printed {:?}", out.trim())),
                },
                None => tried.push("lnetctl: not found or failed".into()),
            }
            for pkg in RPM_PACKAGES {
                if let Some(out) = self.run("rpm", &["-q", "--qf", "%{VERSION}\n", pkg]) {
                    if let Ok(v) = out.parse() {
                        return Ok((v, VersionSource::Package(pkg.into())));
                    }
                }
            }
            for pkg in DEB_PACKAGES {
                if let Some(out) = self.run("dpkg-query", &["-W", "-f", "${Version}\n", pkg]) {
                    if let Ok(v) = out.parse() {
                        return Ok((v, VersionSource::Package(pkg.into())));
                    }
                }
            }
            tried.push(format!(
                "no package installed of {}",
                RPM_PACKAGES
                    .iter()
                    .chain(&DEB_PACKAGES)
                    .copied()
                    .collect::<Vec<_>>()
                    .join(", ")
            ));
        } else {
            tried.push("commands disabled (empty PATH)".into());
        }
        Err(Error::NoVersion {
            node: self.node.clone(),
            tried: tried.join("; "),
        })
    }

    /// The ABI the node's Lustre version ships.
    pub fn detect_abi(&self) -> Result<Detected, Error> {
        let (version, source) = self.lustre_version()?;
        match Abi::for_version(&version) {
            Ok(abi) => Ok(Detected {
                abi,
                version,
                source,
            }),
            Err(why) => {
                let what = match why {
                    UnsupportedVersion::TooOld => "older than 2.15",
                    UnsupportedVersion::UnknownMajor => "not Lustre 2.x",
                };
                Err(self.unknown(&format!("{} ({what})", version.raw), &source))
            }
        }
    }

    fn unknown(&self, found: &str, source: &VersionSource) -> Error {
        Error::UnknownVersion {
            node: self.node.clone(),
            found: format!("{found:?} from {source}"),
        }
    }

    fn commands_enabled(&self) -> bool {
        self.path.as_ref().map_or(true, |p| !p.is_empty())
    }

    /// Runs a program found in our PATH; its stdout when it exits 0.
    fn run(&self, program: &str, args: &[&str]) -> Option<String> {
        let exe = self.find(program)?;
        let mut tries = 0;
        let out = loop {
            match Command::new(&exe)
                .args(args)
                .stdin(Stdio::null())
                .stderr(Stdio::null())
                .output()
            {
                // A program being written (installed) right now: try again shortly.
                Err(e) if e.raw_os_error() == Some(libc::ETXTBSY) && tries < 5 => {
                    tries += 1;
                    std::thread::sleep(std::time::Duration::from_millis(20));
                }
                other => break other.ok()?,
            }
        };
        out.status
            .success()
            .then(|| String::from_utf8_lossy(&out.stdout).into_owned())
    }

    fn find(&self, program: &str) -> Option<PathBuf> {
        let path = self
            .path
            .clone()
            .or_else(|| std::env::var_os("PATH"))
            .unwrap_or_else(|| "/usr/sbin:/usr/bin:/sbin:/bin".into());
        std::env::split_paths(&path)
            .map(|dir| dir.join(program))
            .find(|p| is_executable(p))
    }
}

fn is_executable(p: &Path) -> bool {
    use std::os::unix::fs::PermissionsExt;
    p.metadata()
        .is_ok_and(|m| m.is_file() && m.permissions().mode() & 0o111 != 0)
}
