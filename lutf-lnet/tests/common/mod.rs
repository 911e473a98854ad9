//! Finds the fixtures of real LNet output: `tests/fixtures/lnet-2.17.57` of the repository
//! (its README says where they come from), or the folder `LUTF_FIXTURES` names (that folder,
//! or one holding it) to run the parsers on another capture.
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

/// The fixture folder: `LUTF_FIXTURES` when set, else the repository's copy.
pub fn fixture_dir() -> PathBuf {
    let candidates = match std::env::var_os("LUTF_FIXTURES") {
        Some(env) => {
            let env = PathBuf::from(env);
            vec![env.clone(), env.join(FIXTURE_SET)]
        }
        None => vec![Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("../tests/fixtures")
            .join(FIXTURE_SET)],
    };
    for candidate in &candidates {
        if candidate.join("README.md").is_file() {
            return candidate.clone();
        }
    }
    let looked: Vec<String> = candidates.iter().map(|p| p.display().to_string()).collect();
    panic!(
        "the {FIXTURE_SET} fixtures are missing: no README.md in {}",
        looked.join(" or ")
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
