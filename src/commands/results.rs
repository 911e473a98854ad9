//! `lutf results [DIR]`: a stored run again, from its `run.json` — its summary, its
//! failures, any of its files rendered anew, or the folder as the flat `.tar.gz` that
//! `maloo_upload.sh` takes.

use std::path::{Path, PathBuf};

use anyhow::Context as _;

use crate::auster::yaml;
use crate::cli::{Global, ResultsArgs, ResultsFormat};
use crate::outcome::Status;
use crate::results::{self, junit, nodes, report, summary};

/// Where `lutf results` looks when no folder is named.
pub const DEFAULT_DIR: &str = "results/latest";

/// Runs `lutf results`.
pub fn run(_global: &Global, args: &ResultsArgs) -> anyhow::Result<i32> {
    let dir = resolve_dir(args.dir.as_deref().unwrap_or(Path::new(DEFAULT_DIR)));
    let run = results::load_run(&dir)
        .with_context(|| format!("reading the run stored in {}", dir.display()))?;

    if let Some(out) = &args.archive {
        let out = match out {
            Some(out) => out.clone(),
            None => default_archive_path(&dir)?,
        };
        let entries = archive(&dir, &out)?;
        crate::reporter::print(&format!("{} ({} files)\n", out.display(), entries.len()));
        return Ok(0);
    }

    let text = match args.format {
        Some(ResultsFormat::Yaml) => yaml::render(&run),
        Some(ResultsFormat::Junit) => junit::render(&run, &nodes::host_labels(&run)),
        Some(ResultsFormat::Html) => report::render(&run, &nodes::host_labels(&run))?,
        None if args.failed => match summary::failures(&run) {
            failed if failed.is_empty() => format!("no test failed in run {}\n", run.id),
            failed => failed,
        },
        None => summary::render(&run, Some(&dir)),
    };
    crate::reporter::print(&text);
    // The summary is information, not a verdict: it exits 0 whatever the run's outcome,
    // except that `--failed` exits 1 when there are failures, for scripts.
    Ok(if args.failed && run.count(Status::Fail) > 0 {
        1
    } else {
        0
    })
}

/// `DIR`, or `DIR/latest` when `DIR` is a results root rather than a run's folder.
fn resolve_dir(dir: &Path) -> PathBuf {
    if !dir.join(results::RUN_JSON).exists() && dir.join(results::LATEST).exists() {
        dir.join(results::LATEST)
    } else {
        dir.to_path_buf()
    }
}

/// `<run folder>.tar.gz` beside the run's real folder (`latest` resolved, so the archive is
/// named after the run).
fn default_archive_path(dir: &Path) -> anyhow::Result<PathBuf> {
    let real = dir
        .canonicalize()
        .with_context(|| format!("{}: cannot resolve", dir.display()))?;
    let name = real
        .file_name()
        .with_context(|| format!("{}: has no folder name", real.display()))?;
    let mut file = name.to_os_string();
    file.push(".tar.gz");
    Ok(real.with_file_name(file))
}

/// Writes `dir` as a flat gzip'd tar at `out`: every file at the archive's root (no leading
/// folder, no `./`), sub-folders as they are, hidden files left out — what
/// `cd DIR; tar czf upload.tar.gz *` (maloo_upload.sh) makes. Written under a temporary
/// name and renamed, so a half-written archive never carries the final name. Returns the
/// entry names, in archive order.
pub fn archive(dir: &Path, out: &Path) -> anyhow::Result<Vec<String>> {
    let out_abs = std::path::absolute(out).unwrap_or_else(|_| out.to_path_buf());
    let tmp_name = format!(
        ".{}.tmp-{}",
        out.file_name()
            .map(|n| n.to_string_lossy())
            .unwrap_or_default(),
        std::process::id()
    );
    let tmp = out_abs.with_file_name(tmp_name);
    let result = (|| -> anyhow::Result<Vec<String>> {
        let file = std::fs::File::create(&tmp)
            .with_context(|| format!("{}: cannot create", tmp.display()))?;
        let gz = flate2::write::GzEncoder::new(file, flate2::Compression::default());
        let mut tar = tar::Builder::new(gz);
        tar.follow_symlinks(false);
        let mut names = Vec::new();
        let walker = walkdir::WalkDir::new(dir)
            .min_depth(1)
            .follow_links(false)
            .sort_by_file_name()
            .into_iter()
            .filter_entry(|e| !e.file_name().to_string_lossy().starts_with('.'));
        for entry in walker {
            let entry = entry.with_context(|| format!("{}: cannot list", dir.display()))?;
            let path = entry.path();
            if std::path::absolute(path).ok().as_deref() == Some(out_abs.as_path()) {
                continue; // the archive itself, when written inside the folder
            }
            let rel = path
                .strip_prefix(dir)
                .expect("walkdir stays under its root");
            tar.append_path_with_name(path, rel)
                .with_context(|| format!("{}: cannot archive", path.display()))?;
            names.push(rel.to_string_lossy().into_owned());
        }
        let gz = tar
            .into_inner()
            .with_context(|| format!("{}: cannot write", tmp.display()))?;
        let file = gz
            .finish()
            .with_context(|| format!("{}: cannot write", tmp.display()))?;
        file.sync_all()
            .with_context(|| format!("{}: cannot write", tmp.display()))?;
        Ok(names)
    })();
    match result {
        Ok(names) => {
            std::fs::rename(&tmp, &out_abs)
                .with_context(|| format!("{}: cannot write", out_abs.display()))?;
            Ok(names)
        }
        Err(e) => {
            let _ = std::fs::remove_file(&tmp);
            Err(e)
        }
    }
}
