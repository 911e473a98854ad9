//! The bundle: everything pushed to a node (the static helper, its companion for
//! liblnetconfig calls, its Python package, the suites being run), content-addressed by
//! sha256 so an unchanged re-run pushes nothing.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use sha2::{Digest, Sha256};

mod embedded {
    include!(concat!(env!("OUT_DIR"), "/python_files.rs"));
}

/// The static `lutf-helper` built alongside this binary.
pub static HELPER_BINARY: &[u8] = include_bytes!(env!("LUTF_HELPER_PATH"));

/// The helper's file name inside a bundle.
pub const HELPER_NAME: &str = "lutf-helper";

/// `lutf-lnetconfig`, the dynamically linked companion the helper starts for liblnetconfig
/// calls, built alongside this binary (or taken from `LUTF_LNETCONFIG_BIN` at build time).
pub static LNETCONFIG_BINARY: &[u8] = include_bytes!(env!("LUTF_LNETCONFIG_PATH"));

/// The companion's file name inside a bundle, beside the helper.
pub const LNETCONFIG_NAME: &str = "lutf-lnetconfig";

/// One file of a bundle.
#[derive(Debug, Clone)]
pub struct BundleFile {
    /// Path inside the bundle, `/`-separated, relative (for example `python/lutf/__init__.py`).
    pub path: String,
    /// Unix permission bits.
    pub mode: u32,
    /// Contents.
    pub data: Arc<[u8]>,
}

/// A set of files with their content hash.
#[derive(Debug, Clone)]
pub struct Bundle {
    files: Vec<BundleFile>,
    hash: String,
}

/// Why a bundle could not be assembled.
#[derive(Debug, thiserror::Error)]
pub enum BundleError {
    /// A suite file could not be read.
    #[error("cannot read {path}: {source}")]
    Read {
        /// The file.
        path: PathBuf,
        /// Why.
        source: std::io::Error,
    },
}

impl Bundle {
    /// The helper, its companion and its Python package, plus every regular file under
    /// each of `suite_dirs` (stored as `suites/<suite folder name>/...`; hidden entries and
    /// `__pycache__` skipped).
    pub fn new(suite_dirs: &[PathBuf]) -> Result<Bundle, BundleError> {
        let mut files = vec![
            BundleFile {
                path: HELPER_NAME.to_string(),
                mode: 0o755,
                data: Arc::from(HELPER_BINARY),
            },
            BundleFile {
                path: LNETCONFIG_NAME.to_string(),
                mode: 0o755,
                data: Arc::from(LNETCONFIG_BINARY),
            },
        ];
        for (path, data) in embedded::PYTHON_FILES {
            files.push(BundleFile {
                path: format!("python/{path}"),
                mode: 0o644,
                data: Arc::from(*data),
            });
        }
        for dir in suite_dirs {
            let suite = dir
                .file_name()
                .map(|n| n.to_string_lossy().into_owned())
                .unwrap_or_default();
            for entry in walkdir::WalkDir::new(dir)
                .sort_by_file_name()
                .into_iter()
                .filter_entry(|e| {
                    let name = e.file_name().to_string_lossy();
                    e.depth() == 0 || !(name.starts_with('.') || name == "__pycache__")
                })
                .filter_map(Result::ok)
                .filter(|e| e.file_type().is_file())
            {
                let rel = entry
                    .path()
                    .strip_prefix(dir)
                    .expect("walkdir stays under its root");
                let data = std::fs::read(entry.path()).map_err(|source| BundleError::Read {
                    path: entry.path().to_path_buf(),
                    source,
                })?;
                files.push(BundleFile {
                    path: format!("suites/{suite}/{}", rel.to_string_lossy()),
                    mode: 0o644,
                    data: Arc::from(data),
                });
            }
        }
        Ok(Bundle::from_files(files))
    }

    /// A bundle of exactly these files.
    pub fn from_files(mut files: Vec<BundleFile>) -> Bundle {
        files.sort_by(|a, b| a.path.cmp(&b.path));
        let mut h = Sha256::new();
        for f in &files {
            h.update(f.path.as_bytes());
            h.update([0]);
            h.update(f.mode.to_le_bytes());
            h.update((f.data.len() as u64).to_le_bytes());
            h.update(&f.data);
        }
        let hash = h
            .finalize()
            .iter()
            .map(|b| format!("{b:02x}"))
            .collect::<String>();
        Bundle { files, hash }
    }

    /// The files, sorted by path.
    pub fn files(&self) -> &[BundleFile] {
        &self.files
    }

    /// The sha256 of the whole bundle, in hex. Also the name of its folder on a node.
    pub fn hash(&self) -> &str {
        &self.hash
    }

    /// The short form of the hash used in folder names (16 hex digits).
    pub fn id(&self) -> &str {
        &self.hash[..16]
    }

    /// Total bytes of all files.
    pub fn size(&self) -> u64 {
        self.files.iter().map(|f| f.data.len() as u64).sum()
    }

    /// Where the helper is inside a bundle unpacked at `dir`.
    pub fn helper_path(dir: &Path) -> PathBuf {
        dir.join(HELPER_NAME)
    }
}
