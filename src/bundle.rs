//! The bundle: everything pushed to a node (the static helper, its companion for
//! liblnetconfig calls, its Python package, the suites being run), content-addressed by
//! sha256 so an unchanged re-run pushes nothing.
//!
//! A bundle's hash is the sha256 of, for each file in path order, its path, a NUL, its mode
//! (u32) and size (u64, both little endian) and the sha256 of its contents. The embedded
//! files' digests are computed when lutf is built (`build.rs`), so assembling a bundle
//! neither copies nor hashes the megabytes of helper it embeds: only the suites' files are
//! read and hashed per run.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use sha2::{Digest, Sha256};

mod embedded {
    include!(concat!(env!("OUT_DIR"), "/python_files.rs"));
    include!(concat!(env!("OUT_DIR"), "/embedded_digests.rs"));
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
    pub data: FileData,
}

/// A file's contents: embedded in lutf (never copied) or read at run time (shared).
#[derive(Debug, Clone)]
pub enum FileData {
    /// Part of the `lutf` binary.
    Embedded(&'static [u8]),
    /// Read when the bundle was assembled.
    Shared(Arc<[u8]>),
}

impl std::ops::Deref for FileData {
    type Target = [u8];

    fn deref(&self) -> &[u8] {
        match self {
            FileData::Embedded(d) => d,
            FileData::Shared(d) => d,
        }
    }
}

impl From<Vec<u8>> for FileData {
    fn from(v: Vec<u8>) -> FileData {
        FileData::Shared(Arc::from(v))
    }
}

/// A set of files with their content hash.
#[derive(Debug, Clone)]
pub struct Bundle {
    files: Vec<BundleFile>,
    hash: String,
}

/// The sha256 of `data`.
fn digest(data: &[u8]) -> [u8; 32] {
    Sha256::digest(data).into()
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
            (
                BundleFile {
                    path: HELPER_NAME.to_string(),
                    mode: 0o755,
                    data: FileData::Embedded(HELPER_BINARY),
                },
                embedded::HELPER_DIGEST,
            ),
            (
                BundleFile {
                    path: LNETCONFIG_NAME.to_string(),
                    mode: 0o755,
                    data: FileData::Embedded(LNETCONFIG_BINARY),
                },
                embedded::LNETCONFIG_DIGEST,
            ),
        ];
        for (path, data, sum) in embedded::PYTHON_FILES {
            files.push((
                BundleFile {
                    path: format!("python/{path}"),
                    mode: 0o644,
                    data: FileData::Embedded(data),
                },
                *sum,
            ));
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
                let sum = digest(&data);
                files.push((
                    BundleFile {
                        path: format!("suites/{suite}/{}", rel.to_string_lossy()),
                        mode: 0o644,
                        data: data.into(),
                    },
                    sum,
                ));
            }
        }
        Ok(Bundle::with_digests(files))
    }

    /// A bundle of exactly these files.
    pub fn from_files(files: Vec<BundleFile>) -> Bundle {
        Bundle::with_digests(
            files
                .into_iter()
                .map(|f| {
                    let sum = digest(&f.data);
                    (f, sum)
                })
                .collect(),
        )
    }

    /// A bundle of these files, whose contents' digests are known.
    fn with_digests(mut files: Vec<(BundleFile, [u8; 32])>) -> Bundle {
        files.sort_by(|a, b| a.0.path.cmp(&b.0.path));
        let mut h = Sha256::new();
        for (f, sum) in &files {
            h.update(f.path.as_bytes());
            h.update([0]);
            h.update(f.mode.to_le_bytes());
            h.update((f.data.len() as u64).to_le_bytes());
            h.update(sum);
        }
        let hash = h
            .finalize()
            .iter()
            .map(|b| format!("{b:02x}"))
            .collect::<String>();
        Bundle {
            files: files.into_iter().map(|(f, _)| f).collect(),
            hash,
        }
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn digests_made_at_build_time_match_the_embedded_files() {
        assert_eq!(digest(HELPER_BINARY), embedded::HELPER_DIGEST);
        assert_eq!(digest(LNETCONFIG_BINARY), embedded::LNETCONFIG_DIGEST);
        for (path, data, sum) in embedded::PYTHON_FILES {
            assert_eq!(digest(data), *sum, "{path}");
        }
        // The same files hashed now give the same bundle.
        let now = Bundle::from_files(Bundle::new(&[]).unwrap().files().to_vec());
        assert_eq!(now.hash(), Bundle::new(&[]).unwrap().hash());
    }

    #[test]
    fn the_hash_covers_path_mode_and_contents() {
        let file = |path: &str, mode, data: &[u8]| BundleFile {
            path: path.into(),
            mode,
            data: data.to_vec().into(),
        };
        let base = Bundle::from_files(vec![file("a", 0o644, b"x"), file("b", 0o644, b"y")]);
        let reordered = Bundle::from_files(vec![file("b", 0o644, b"y"), file("a", 0o644, b"x")]);
        assert_eq!(base.hash(), reordered.hash());
        for other in [
            vec![file("a", 0o644, b"x"), file("c", 0o644, b"y")],
            vec![file("a", 0o755, b"x"), file("b", 0o644, b"y")],
            vec![file("a", 0o644, b"z"), file("b", 0o644, b"y")],
        ] {
            assert_ne!(Bundle::from_files(other).hash(), base.hash());
        }
    }
}
