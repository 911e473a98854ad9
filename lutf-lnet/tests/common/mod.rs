//! Finds the shared fixtures of real LNet output (`shared/fixtures/lnet-2.17.57`).
//!
//! CI clones the repository with `shared/` beside it; worktrees sit deeper. So the folder is
//! looked for as `shared/fixtures/lnet-2.17.57` under every ancestor of the workspace, or
//! taken from `LUTF_FIXTURES` (that folder, or one holding it). When it is not found the
//! tests FAIL, listing where they looked, unless `LUTF_FIXTURES_OPTIONAL=1` says a checkout
//! without fixtures is expected: then they print why and skip.
#![allow(dead_code)]

use std::path::{Path, PathBuf};

/// The fixture set these tests are written against.
pub const FIXTURE_SET: &str = "lnet-2.17.57";

/// One captured command: its command line, exit code and output.
#[derive(Debug, Clone)]
pub struct Fixture {
    /// The file name.
    pub name: String,
    /// `# command:` of the file.
    pub command: String,
    /// `# exit:` of the file.
    pub exit: i32,
    /// Everything after the two header lines (stdout and stderr together).
    pub output: String,
}

/// The fixture folder, or `None` (after saying why) when it is allowed to be missing.
pub fn fixture_dir() -> Option<PathBuf> {
    let mut looked = Vec::new();
    if let Some(env) = std::env::var_os("LUTF_FIXTURES") {
        let env = PathBuf::from(env);
        for candidate in [env.clone(), env.join(FIXTURE_SET)] {
            if candidate.join("README.md").is_file() {
                return Some(candidate);
            }
            looked.push(candidate);
        }
    }
    let workspace = Path::new(env!("CARGO_MANIFEST_DIR")).parent().unwrap();
    for ancestor in workspace.ancestors() {
        let candidate = ancestor.join("shared/fixtures").join(FIXTURE_SET);
        if candidate.join("README.md").is_file() {
            return Some(candidate);
        }
        looked.push(candidate);
    }
    let looked: Vec<String> = looked.iter().map(|p| p.display().to_string()).collect();
    if std::env::var_os("LUTF_FIXTURES_OPTIONAL").is_some_and(|v| v == "1") {
        eprintln!(
            "SKIP: LUTF_FIXTURES_OPTIONAL=1 and the {FIXTURE_SET} fixtures are not here (looked in {})",
            looked.join(", ")
        );
        return None;
    }
    panic!(
        "the {FIXTURE_SET} fixtures are missing: looked in {}. Clone the shared folder beside \
         the repository, set LUTF_FIXTURES to it, or set LUTF_FIXTURES_OPTIONAL=1 to skip",
        looked.join(", ")
    );
}

/// Reads a fixture file with its `# command:` and `# exit:` header.
pub fn read(dir: &Path, name: &str) -> Fixture {
    let text = std::fs::read_to_string(dir.join(name))
        .unwrap_or_else(|e| panic!("read fixture {name}: {e}"));
    let mut lines = text.splitn(3, '\n');
    let command = lines
        .next()
        .and_then(|l| l.strip_prefix("# command: "))
        .unwrap_or_else(|| panic!("{name}: no '# command:' line"))
        .to_owned();
    let exit = lines
        .next()
        .and_then(|l| l.strip_prefix("# exit: "))
        .and_then(|n| n.trim().parse().ok())
        .unwrap_or_else(|| panic!("{name}: no '# exit:' line"));
    Fixture {
        name: name.to_owned(),
        command,
        exit,
        output: lines.next().unwrap_or("").to_owned(),
    }
}

/// The names of the fixture files (not the README), sorted.
pub fn names(dir: &Path) -> Vec<String> {
    let mut names: Vec<String> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .filter(|n| n.ends_with(".txt"))
        .collect();
    names.sort();
    names
}
