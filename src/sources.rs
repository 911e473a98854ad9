//! Names a test file as the user knows it. On a node, Python names a test file by its path
//! in the deployed bundle (`/tmp/lutf-0/<bundle id>/suites/<suite>/test_01.py`), which
//! says nothing on this machine; tracebacks, failure messages and step logs name the file
//! in the user's suites folder instead.
//!
//! A bundle's folder on a node always ends with the bundle's id (16 hex digits of its
//! content hash), whatever the node's work directory, so `/<id>/suites/<suite>/` marks a
//! node-side path on every node without knowing where each node keeps its bundles.

use std::path::PathBuf;

use crate::outcome::StepRecord;

/// The rewriting of one bundle's node-side suite paths into the user's suite folders.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct SourcePaths {
    /// `/<bundle id>/suites/<suite>/` and the user's folder for it, ending in `/`.
    suites: Vec<(String, String)>,
}

impl SourcePaths {
    /// For the bundle `bundle_id` made of `suite_dirs` (as [`crate::bundle::Bundle::new`]
    /// stores them: by folder name). Relative folders are made absolute.
    pub fn new(bundle_id: &str, suite_dirs: &[PathBuf]) -> SourcePaths {
        let suites = suite_dirs
            .iter()
            .filter_map(|dir| {
                let name = dir.file_name()?.to_string_lossy().into_owned();
                let local = std::path::absolute(dir).unwrap_or_else(|_| dir.clone());
                Some((
                    format!("/{bundle_id}/suites/{name}/"),
                    format!("{}/", local.display()),
                ))
            })
            .collect();
        SourcePaths { suites }
    }

    /// `data` with every node-side suite path replaced by the user's; `None` when it holds
    /// none.
    pub fn bytes(&self, data: &[u8]) -> Option<Vec<u8>> {
        let mut out: Option<Vec<u8>> = None;
        for (marker, local) in &self.suites {
            let current = out.as_deref().unwrap_or(data);
            if let Some(replaced) = replace_paths(current, marker.as_bytes(), local.as_bytes()) {
                out = Some(replaced);
            }
        }
        out
    }

    /// [`SourcePaths::bytes`] on text.
    pub fn text(&self, text: &str) -> String {
        match self.bytes(text.as_bytes()) {
            // Only whole paths are replaced by valid UTF-8: still valid UTF-8.
            Some(b) => String::from_utf8_lossy(&b).into_owned(),
            None => text.to_owned(),
        }
    }

    /// Rewrites a step record in place: its failure message, traceback and log.
    pub fn record(&self, record: &mut StepRecord) {
        if self.suites.is_empty() {
            return;
        }
        if let Some(f) = &mut record.failure {
            f.message = self.text(&f.message);
            if let Some(t) = &mut f.traceback {
                *t = self.text(t);
            }
        }
        if let Some(b) = self.bytes(&record.log.data.0) {
            record.log.data.0 = b;
        }
    }
}

/// Replaces each path holding `marker` (from the path's start: the byte after the last
/// blank, quote or `(` before it) up to the end of `marker` with `local`.
fn replace_paths(data: &[u8], marker: &[u8], local: &[u8]) -> Option<Vec<u8>> {
    let first = find(data, marker)?;
    let mut out = Vec::with_capacity(data.len());
    let mut done = 0;
    let mut at = Some(first);
    while let Some(i) = at {
        let start = data[done..i]
            .iter()
            .rposition(|b| b.is_ascii_whitespace() || matches!(b, b'"' | b'\'' | b'(' | b'='))
            .map_or(done, |p| done + p + 1);
        out.extend_from_slice(&data[done..start]);
        out.extend_from_slice(local);
        done = i + marker.len();
        at = find(&data[done..], marker).map(|j| done + j);
    }
    out.extend_from_slice(&data[done..]);
    Some(out)
}

fn find(haystack: &[u8], needle: &[u8]) -> Option<usize> {
    haystack.windows(needle.len()).position(|w| w == needle)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn paths() -> SourcePaths {
        SourcePaths::new(
            "e11adb937efe82d6",
            &[
                PathBuf::from("/home/me/suites/samples"),
                PathBuf::from("/home/me/my suites/dlc"),
            ],
        )
    }

    #[test]
    fn traceback_paths_name_the_users_files() {
        let tb = "Traceback (most recent call last):\n  File \"/tmp/lutf-0/e11adb937efe82d6/suites/samples/test_02.py\", line 17, in parse\n    x()\n  File \"/var/tmp/lutf/e11adb937efe82d6/suites/dlc/test_01.py\", line 3, in x\nValueError: no\n";
        assert_eq!(
            paths().text(tb),
            "Traceback (most recent call last):\n  File \"/home/me/suites/samples/test_02.py\", line 17, in parse\n    x()\n  File \"/home/me/my suites/dlc/test_01.py\", line 3, in x\nValueError: no\n"
        );
    }

    #[test]
    fn other_text_and_other_bundles_are_left_alone() {
        let p = paths();
        let text =
            "/tmp/lutf-0/0000000000000000/suites/samples/test_02.py and samples/test_02.py:12";
        assert_eq!(p.text(text), text);
        assert_eq!(p.bytes(text.as_bytes()), None);
        assert_eq!(
            p.text("(/w/e11adb937efe82d6/suites/samples/a.py:3) at start: /x/e11adb937efe82d6/suites/samples/"),
            "(/home/me/suites/samples/a.py:3) at start: /home/me/suites/samples/"
        );
    }
}
