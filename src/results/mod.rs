//! Turns a [`RunOutcome`] into the files of a results folder, the way auster and Maloo
//! expect them, and keeps them valid while the run goes on.
//!
//! One folder per run, `<root>/<YYYYmmdd-HHMMSS>-<run id>/`, with `<root>/latest` pointing at
//! it. [`ResultsDir::record`] is called after every test: it writes the logs of the tests it
//! has not written yet and rewrites the whole-run files, each atomically (a temporary file in
//! the same folder, then a rename), so a master killed at any moment leaves valid files that
//! hold every finished test.
//!
//! | file | module |
//! |---|---|
//! | `results.yml` (auster's layout) | [`crate::auster::yaml`] |
//! | `junit.xml` | [`junit`] |
//! | `<suite>.test_<id>.test_log.<host>.log`, `<suite>.suite_log.<host>.log` | [`logs`] |
//! | `node.<host>.yml` | [`nodes`] |
//! | `report.html` | [`report`] |
//! | `run.json` (the [`RunOutcome`] itself, for `lutf results`) | this module |

pub mod junit;
pub mod logs;
pub mod nodes;
pub mod report;
pub mod summary;

use std::collections::{BTreeMap, BTreeSet};
use std::io::Write as _;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};

use crate::outcome::RunOutcome;

/// The machine-readable copy of the run, from which every other file can be rendered again.
pub const RUN_JSON: &str = "run.json";
/// auster's results file.
pub const RESULTS_YML: &str = "results.yml";
/// The JUnit XML file.
pub const JUNIT_XML: &str = "junit.xml";
/// The HTML report.
pub const REPORT_HTML: &str = "report.html";
/// The symlink in the results root that points at the newest run.
pub const LATEST: &str = "latest";

/// What can go wrong while writing or reading results; every variant names its file.
#[derive(Debug, thiserror::Error)]
pub enum ResultsError {
    // The cause is in the message and deliberately not a `source`, so that a chain printer
    // (anyhow's `{:#}`) does not say it twice.
    /// Reading, writing, renaming or linking a file failed.
    #[error("{}: {error}", path.display())]
    Io {
        /// The file or folder.
        path: PathBuf,
        /// Why.
        error: std::io::Error,
    },
    /// `run.json` could not be written or read back.
    #[error("{}: {error}", path.display())]
    Json {
        /// The file.
        path: PathBuf,
        /// Why.
        error: serde_json::Error,
    },
    /// A template failed to render (a bug in the template or its context).
    #[error("{file}: rendering the template failed: {message}")]
    Template {
        /// The file it was rendering.
        file: String,
        /// Tera's error with its causes.
        message: String,
    },
    /// `<root>/latest` exists and is not a symlink: lutf will not replace it.
    #[error("{}: exists and is not a symbolic link; move it away (lutf points it at the newest run)", path.display())]
    NotALink {
        /// The path.
        path: PathBuf,
    },
    /// The run's folder already exists (two runs with the same id in the same second).
    #[error("{}: already exists; not overwriting an earlier run", path.display())]
    Exists {
        /// The folder.
        path: PathBuf,
    },
}

impl ResultsError {
    pub(crate) fn io(path: impl Into<PathBuf>, error: std::io::Error) -> Self {
        ResultsError::Io {
            path: path.into(),
            error,
        }
    }
}

/// Identifies one test of a run across calls to [`ResultsDir::record`].
type TestKey = (String, String, u32);

/// A run's results folder, being written.
#[derive(Debug)]
pub struct ResultsDir {
    path: PathBuf,
    /// Tests whose logs are written.
    written_tests: BTreeSet<TestKey>,
    /// Nodes whose `node.<host>.yml` is written, with the content written (rewritten if the
    /// record changes, say when facts arrive late).
    written_nodes: BTreeMap<String, String>,
}

impl ResultsDir {
    /// Creates `<root>/<YYYYmmdd-HHMMSS>-<run id>/` and points `<root>/latest` at it (symlink,
    /// replaced atomically). Writes every file at once, so that the folder is valid from the
    /// start (a results.yml with its header and no tests yet).
    pub fn create(root: &Path, run: &RunOutcome) -> Result<ResultsDir, ResultsError> {
        std::fs::create_dir_all(root).map_err(|e| ResultsError::io(root, e))?;
        // Refuse before creating anything when `latest` is not ours to replace.
        let latest = root.join(LATEST);
        if let Ok(meta) = std::fs::symlink_metadata(&latest) {
            if !meta.file_type().is_symlink() {
                return Err(ResultsError::NotALink { path: latest });
            }
        }
        let name = folder_name(run);
        let path = root.join(&name);
        match std::fs::create_dir(&path) {
            Ok(()) => {}
            Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => {
                return Err(ResultsError::Exists { path });
            }
            Err(e) => return Err(ResultsError::io(&path, e)),
        }
        point_latest(root, &name)?;
        let mut dir = ResultsDir {
            path,
            written_tests: BTreeSet::new(),
            written_nodes: BTreeMap::new(),
        };
        dir.record(run)?;
        Ok(dir)
    }

    /// The run's folder.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Called after every test ends (and once at the end): writes the logs of tests not yet
    /// written, node files for nodes not yet written (or whose record changed), and rewrites
    /// results.yml, junit.xml, run.json, report.html atomically, so a master killed at any
    /// moment leaves valid files holding every finished test.
    pub fn record(&mut self, run: &RunOutcome) -> Result<(), ResultsError> {
        let labels = nodes::host_labels(run);

        for (name, node) in &run.nodes {
            let label = labels.get(name).cloned().unwrap_or_else(|| name.clone());
            let text = nodes::render(node, &label);
            if self.written_nodes.get(name) != Some(&text) {
                write_atomic(&self.path.join(nodes::file_name(&label)), text.as_bytes())?;
                self.written_nodes.insert(name.clone(), text);
            }
        }

        // A test's log file holds every repetition of it, so a new repetition rewrites it.
        let mut new_tests = BTreeSet::new();
        let mut new_suites = BTreeSet::new();
        for test in run.tests() {
            let key = (test.suite.clone(), test.id.clone(), test.repeat);
            if !self.written_tests.contains(&key) {
                new_tests.insert((test.suite.clone(), test.id.clone()));
                new_suites.insert(test.suite.clone());
                self.written_tests.insert(key);
            }
        }
        for (suite, id) in &new_tests {
            logs::write_test_logs(&self.path, run, suite, id, &labels)?;
        }
        for suite in run.suites.iter().filter(|s| new_suites.contains(&s.name)) {
            let file = logs::suite_log_name(&suite.name, &nodes::master_label(run));
            write_atomic(
                &self.path.join(file),
                logs::suite_log(run, suite).as_bytes(),
            )?;
        }

        write_run_json(&self.path, run)?;
        write_atomic(
            &self.path.join(RESULTS_YML),
            crate::auster::yaml::render(run).as_bytes(),
        )?;
        write_atomic(
            &self.path.join(JUNIT_XML),
            junit::render(run, &labels).as_bytes(),
        )?;
        write_atomic(
            &self.path.join(REPORT_HTML),
            report::render(run, &labels)?.as_bytes(),
        )?;
        Ok(())
    }
}

/// A run's results folder shared by the run, which records it after every test, and by
/// the signal watcher, which writes it one last time when lutf must quit at once (a second
/// Ctrl-C). One write at a time: quitting waits for a write under way instead of cutting it
/// short (which left a `.run.json.tmp-*` beside a stale `run.json`), and nothing is written
/// after the last one.
#[derive(Debug, Clone)]
pub struct SharedResults(Arc<Mutex<Shared>>);

#[derive(Debug)]
struct Shared {
    dir: ResultsDir,
    /// The run as last recorded: every finished test.
    last: RunOutcome,
    /// The last write is done: record nothing more.
    closed: bool,
}

impl SharedResults {
    /// Shares `dir`, whose files hold `run`.
    pub fn new(dir: ResultsDir, run: &RunOutcome) -> SharedResults {
        SharedResults(Arc::new(Mutex::new(Shared {
            dir,
            last: run.clone(),
            closed: false,
        })))
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Shared> {
        self.0.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// The run's folder.
    pub fn path(&self) -> PathBuf {
        self.lock().dir.path().to_path_buf()
    }

    /// [`ResultsDir::record`], and keeps `run` for the last write; nothing once closed.
    pub fn record(&self, run: &RunOutcome) -> Result<(), ResultsError> {
        let mut shared = self.lock();
        if shared.closed {
            return Ok(());
        }
        shared.last = run.clone();
        shared.dir.record(run)
    }

    /// The last write: `finish` completes the run as last recorded, which is written and
    /// answered with how writing went. `None` when the last write was done already (by the
    /// other side).
    pub fn close(
        &self,
        finish: impl FnOnce(&mut RunOutcome),
    ) -> Option<(RunOutcome, Result<(), ResultsError>)> {
        let mut shared = self.lock();
        if shared.closed {
            return None;
        }
        shared.closed = true;
        let Shared { dir, last, .. } = &mut *shared;
        finish(last);
        let written = dir.record(last);
        Some((last.clone(), written))
    }
}

/// `<YYYYmmdd-HHMMSS>-<run id>`, the time being the run's start in UTC (now, when the start
/// does not parse).
pub fn folder_name(run: &RunOutcome) -> String {
    let when = parse_time(&run.started).unwrap_or_else(chrono::Utc::now);
    format!(
        "{}-{}",
        when.format("%Y%m%d-%H%M%S"),
        safe_file_part(&run.id)
    )
}

/// Points `<root>/latest` at `name` (a relative link, so the root can be moved): a new link
/// under a temporary name, renamed over the old one, so `latest` is never missing.
fn point_latest(root: &Path, name: &str) -> Result<(), ResultsError> {
    let latest = root.join(LATEST);
    let tmp = root.join(format!(".{LATEST}.tmp-{}", std::process::id()));
    let _ = std::fs::remove_file(&tmp);
    std::os::unix::fs::symlink(name, &tmp).map_err(|e| ResultsError::io(&tmp, e))?;
    std::fs::rename(&tmp, &latest).map_err(|e| {
        let _ = std::fs::remove_file(&tmp);
        ResultsError::io(&latest, e)
    })
}

/// Writes `data` to `path` atomically: a temporary file in the same folder (hidden, so that
/// `tar czf upload.tar.gz *` never picks one up), flushed to disk, then renamed over `path`.
///
/// Every results file goes through here, so the last line of defence against secrets is
/// here too: their values ([`crate::secrets`]) are replaced by `[secret NAME]`.
pub fn write_atomic(path: &Path, data: &[u8]) -> Result<(), ResultsError> {
    let data = crate::secrets::bytes(data);
    let dir = path.parent().unwrap_or(Path::new("."));
    let name = path
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    let tmp = dir.join(format!(".{name}.tmp-{}", std::process::id()));
    let result = (|| {
        let mut f = std::fs::File::create(&tmp)?;
        f.write_all(&data)?;
        f.sync_all()
    })();
    if let Err(e) = result {
        let _ = std::fs::remove_file(&tmp);
        return Err(ResultsError::io(&tmp, e));
    }
    std::fs::rename(&tmp, path).map_err(|e| {
        let _ = std::fs::remove_file(&tmp);
        ResultsError::io(path, e)
    })
}

/// Writes `<dir>/run.json` atomically.
pub fn write_run_json(dir: &Path, run: &RunOutcome) -> Result<(), ResultsError> {
    let path = dir.join(RUN_JSON);
    let json = serde_json::to_vec_pretty(run).map_err(|error| ResultsError::Json {
        path: path.clone(),
        error,
    })?;
    write_atomic(&path, &json)
}

/// Reads `<dir>/run.json` back.
pub fn load_run(dir: &Path) -> Result<RunOutcome, ResultsError> {
    let path = dir.join(RUN_JSON);
    let data = std::fs::read(&path).map_err(|e| ResultsError::io(&path, e))?;
    serde_json::from_slice(&data).map_err(|error| ResultsError::Json { path, error })
}

/// Parses an RFC 3339 time, as the outcome types carry them.
pub(crate) fn parse_time(s: &str) -> Option<chrono::DateTime<chrono::Utc>> {
    chrono::DateTime::parse_from_rfc3339(s)
        .ok()
        .map(|t| t.with_timezone(&chrono::Utc))
}

/// A string made safe to be part of a file name: anything but ASCII letters, digits, `.`,
/// `_` and `-` becomes `_`, and it never starts with a dot (hidden files are skipped by
/// `tar czf upload.tar.gz *`).
pub fn safe_file_part(s: &str) -> String {
    let mut out: String = s
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | '-') {
                c
            } else {
                '_'
            }
        })
        .collect();
    if out.is_empty() || out.starts_with('.') {
        out.insert(0, '_');
    }
    out
}

/// Seconds for people: `0.42s`, `12.3s`, `2m 03s`, `1h 02m`.
pub fn human_duration(secs: f64) -> String {
    let secs = if secs.is_finite() { secs.max(0.0) } else { 0.0 };
    if secs < 10.0 {
        format!("{secs:.2}s")
    } else if secs < 60.0 {
        format!("{secs:.1}s")
    } else if secs < 3600.0 {
        let s = secs.round() as u64;
        format!("{}m {:02}s", s / 60, s % 60)
    } else {
        let m = (secs / 60.0).round() as u64;
        format!("{}h {:02}m", m / 60, m % 60)
    }
}

/// auster's whole seconds: rounded to the nearest, never negative.
pub fn whole_seconds(secs: f64) -> u64 {
    if secs.is_finite() && secs > 0.0 {
        secs.round() as u64
    } else {
        0
    }
}
