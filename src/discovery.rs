//! Discovery: finds the suites folder, the suites in it and their tests, and applies the
//! command line's selection (`--suite`, `--only`, `--except`).
//!
//! A test is a file `suites/<suite>/test_<id>.py`; its id is the part after `test_` (`01`,
//! `18a`), its auster name is `test_<id>`. Tests are sorted naturally (`2` before `10`,
//! `18a` before `18b`); hidden folders and `__pycache__` are never looked into.

use std::cmp::Ordering;
use std::path::{Path, PathBuf};

/// A suite: a folder of test files.
#[derive(Debug, Clone, PartialEq)]
pub struct Suite {
    /// The folder's name, for example `samples`.
    pub name: String,
    /// The folder.
    pub dir: PathBuf,
    /// Its tests, sorted naturally by id.
    pub tests: Vec<TestFile>,
}

/// One test file.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct TestFile {
    /// The suite it belongs to.
    pub suite: String,
    /// The short id (`01`, `18a`): the file name without `test_` and `.py`.
    pub id: String,
    /// The file on this machine.
    pub path: PathBuf,
}

impl TestFile {
    /// auster's name for it: `test_<id>`.
    pub fn name(&self) -> String {
        format!("test_{}", self.id)
    }

    /// The file relative to a bundle's `suites/` folder (`samples/test_01.py`), as the
    /// helper's `plan` and `step` take it.
    pub fn bundle_path(&self) -> String {
        format!("{}/test_{}.py", self.suite, self.id)
    }

    /// `<suite>/test_<id>`, the name a step's context carries.
    pub fn full_name(&self) -> String {
        format!("{}/test_{}", self.suite, self.id)
    }
}

/// Why discovery or selection failed. All of these are usage errors (exit code 2).
#[derive(Debug, thiserror::Error)]
pub enum DiscoveryError {
    /// No suites folder was found anywhere it is looked for.
    #[error("no suites folder found; looked for {}; name one with --suites DIR", list_paths(.looked))]
    NoSuitesDir {
        /// Every place looked at, in order.
        looked: Vec<PathBuf>,
    },
    /// `--suites DIR` names something that is not a folder.
    #[error("--suites {}: not a folder", .0.display())]
    NotAFolder(PathBuf),
    /// The folder could not be read.
    #[error("cannot read {}: {source}", .path.display())]
    Read {
        /// Where.
        path: PathBuf,
        /// Why.
        source: walkdir::Error,
    },
    /// `--suite` names a suite that does not exist.
    #[error("unknown suite {name:?} in {}{}", .dir.display(), suggest(.close, .available))]
    UnknownSuite {
        /// The name given.
        name: String,
        /// The suites folder.
        dir: PathBuf,
        /// Suite names close to it, best first.
        close: Vec<String>,
        /// Every suite.
        available: Vec<String>,
    },
    /// `--only` or `--except` names a test that no selected suite has.
    #[error("unknown test {name:?} (given to --{option}) in suite{} {}{}",
        if .suites.len() == 1 { "" } else { "s" }, .suites.join(", "), suggest(.close, .available))]
    UnknownTest {
        /// The option: `only` or `except`.
        option: &'static str,
        /// The id given.
        name: String,
        /// The selected suites.
        suites: Vec<String>,
        /// Test names close to it, best first.
        close: Vec<String>,
        /// Every selected test.
        available: Vec<String>,
    },
}

fn list_paths(paths: &[PathBuf]) -> String {
    paths
        .iter()
        .map(|p| p.display().to_string())
        .collect::<Vec<_>>()
        .join(", ")
}

fn suggest(close: &[String], available: &[String]) -> String {
    if !close.is_empty() {
        format!("; did you mean: {}?", close.join(", "))
    } else if available.is_empty() {
        "; there are none".to_string()
    } else if available.len() <= 20 {
        format!("; there are: {}", available.join(", "))
    } else {
        format!("; there are {} (see `lutf list`)", available.len())
    }
}

/// Where the suites are: `explicit` (from `--suites`) when given, else `./suites`, else the
/// suites installed beside the binary — `<exe dir>/../share/lutf/suites` (an install under
/// a prefix such as `/usr/local`), then `<exe dir>/suites` (an unpacked release folder).
pub fn suites_dir(explicit: Option<&Path>) -> Result<PathBuf, DiscoveryError> {
    if let Some(dir) = explicit {
        return if dir.is_dir() {
            Ok(dir.to_path_buf())
        } else {
            Err(DiscoveryError::NotAFolder(dir.to_path_buf()))
        };
    }
    let mut looked = vec![PathBuf::from("./suites")];
    if let Ok(exe) = std::env::current_exe() {
        if let Some(bin) = exe.parent() {
            looked.push(bin.join("../share/lutf/suites"));
            looked.push(bin.join("suites"));
        }
    }
    looked
        .iter()
        .find(|d| d.is_dir())
        .cloned()
        .ok_or(DiscoveryError::NoSuitesDir { looked })
}

fn hidden_or_cache(name: &str) -> bool {
    name.starts_with('.') || name == "__pycache__"
}

/// Every suite under `dir` (folders holding at least one `test_<id>.py`), sorted by name,
/// each with its tests sorted naturally by id.
pub fn discover(dir: &Path) -> Result<Vec<Suite>, DiscoveryError> {
    let mut suites: Vec<Suite> = Vec::new();
    // No `min_depth`: walkdir would not apply the filter to the suite folders above it.
    let walk = walkdir::WalkDir::new(dir)
        .max_depth(2)
        .follow_links(true)
        .into_iter()
        .filter_entry(|e| e.depth() == 0 || !hidden_or_cache(&e.file_name().to_string_lossy()));
    for entry in walk {
        let entry = entry.map_err(|source| DiscoveryError::Read {
            path: dir.to_path_buf(),
            source,
        })?;
        if entry.depth() != 2 || !entry.file_type().is_file() {
            continue;
        }
        let file = entry.file_name().to_string_lossy();
        let Some(id) = file
            .strip_prefix("test_")
            .and_then(|f| f.strip_suffix(".py"))
            .filter(|id| !id.is_empty())
        else {
            continue;
        };
        let suite_dir = entry.path().parent().expect("depth 2 has a parent");
        let suite = suite_dir
            .file_name()
            .expect("depth 2 has a name")
            .to_string_lossy()
            .into_owned();
        let test = TestFile {
            suite: suite.clone(),
            id: id.to_string(),
            path: entry.path().to_path_buf(),
        };
        match suites.iter_mut().find(|s| s.name == suite) {
            Some(s) => s.tests.push(test),
            None => suites.push(Suite {
                name: suite,
                dir: suite_dir.to_path_buf(),
                tests: vec![test],
            }),
        }
    }
    suites.sort_by(|a, b| natural_cmp(&a.name, &b.name));
    for s in &mut suites {
        s.tests.sort_by(|a, b| natural_cmp(&a.id, &b.id));
    }
    Ok(suites)
}

/// Compares names the way people count: runs of digits by their value (`2` < `10`), the
/// rest as text (`18a` < `18b`); ties broken by plain text so that `1` and `01` differ.
pub fn natural_cmp(a: &str, b: &str) -> Ordering {
    fn chunks(s: &str) -> Vec<(bool, &str)> {
        let mut out = Vec::new();
        let mut start = 0;
        let bytes = s.as_bytes();
        for i in 1..=bytes.len() {
            if i == bytes.len() || bytes[i].is_ascii_digit() != bytes[start].is_ascii_digit() {
                out.push((bytes[start].is_ascii_digit(), &s[start..i]));
                start = i;
            }
        }
        out
    }
    let (ca, cb) = (chunks(a), chunks(b));
    for ((da, xa), (db, xb)) in ca.iter().zip(cb.iter()) {
        let ord = match (da, db) {
            (true, true) => {
                let (ta, tb) = (xa.trim_start_matches('0'), xb.trim_start_matches('0'));
                ta.len().cmp(&tb.len()).then_with(|| ta.cmp(tb))
            }
            // A number sorts before text, as `18` before `18a`.
            (true, false) => Ordering::Less,
            (false, true) => Ordering::Greater,
            (false, false) => xa.cmp(xb),
        };
        if ord != Ordering::Equal {
            return ord;
        }
    }
    ca.len().cmp(&cb.len()).then_with(|| a.cmp(b))
}

/// What the command line selects.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Selection {
    /// Suite names; every suite when empty.
    pub suites: Vec<String>,
    /// Test ids to run (`01` or `test_01`); every test when empty.
    pub only: Vec<String>,
    /// Test ids to leave out.
    pub except: Vec<String>,
}

impl Selection {
    /// A selection from repeatable, comma-separated option values
    /// (`--suite a,b --suite c`), empties dropped: test ids are split on commas and blanks,
    /// suites on commas only, since a suite folder's name may hold a blank.
    pub fn from_lists(suites: &[String], only: &[String], except: &[String]) -> Selection {
        Selection {
            suites: split_names(suites),
            only: split_list(only),
            except: split_list(except),
        }
    }
}

/// Splits every value on commas and whitespace, dropping empty items.
pub fn split_list(values: &[String]) -> Vec<String> {
    values
        .iter()
        .flat_map(|v| v.split(|c: char| c == ',' || c.is_whitespace()))
        .filter(|s| !s.is_empty())
        .map(str::to_string)
        .collect()
}

/// Splits every value on commas, trimming blanks around each item and dropping empty ones.
pub fn split_names(values: &[String]) -> Vec<String> {
    values
        .iter()
        .flat_map(|v| v.split(','))
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .map(str::to_string)
        .collect()
}

/// The bare id of a test given as `01` or `test_01`.
pub fn normalize_id(given: &str) -> &str {
    given.strip_prefix("test_").unwrap_or(given)
}

/// One selected test.
#[derive(Debug, Clone, PartialEq)]
pub struct Selected {
    /// The test.
    pub test: TestFile,
    /// It is left out by `--except`: not run, reported as SKIP (as auster does).
    pub excepted: bool,
}

/// The suites a selection keeps, with the tests it keeps (in order), and the folders of
/// those suites (for the bundle).
#[derive(Debug, Clone, PartialEq)]
pub struct SelectedSuite {
    /// The suite's name.
    pub name: String,
    /// Its folder.
    pub dir: PathBuf,
    /// Tests kept by `--only` (all when none), those left out by `--except` flagged.
    pub tests: Vec<Selected>,
}

/// Applies `selection` to `suites` (from [`discover`]); `dir` is the suites folder, for
/// messages. A suite or test id that matches nothing is an error listing close matches.
pub fn select(
    dir: &Path,
    suites: &[Suite],
    selection: &Selection,
) -> Result<Vec<SelectedSuite>, DiscoveryError> {
    let names: Vec<String> = suites.iter().map(|s| s.name.clone()).collect();
    let mut chosen: Vec<&Suite> = Vec::new();
    if selection.suites.is_empty() {
        chosen.extend(suites);
    } else {
        for name in &selection.suites {
            let Some(s) = suites.iter().find(|s| &s.name == name) else {
                return Err(DiscoveryError::UnknownSuite {
                    name: name.clone(),
                    dir: dir.to_path_buf(),
                    close: close_matches(name, &names),
                    available: names,
                });
            };
            if !chosen.iter().any(|c| c.name == s.name) {
                chosen.push(s);
            }
        }
    }

    // Every id given must name a test of at least one chosen suite.
    let ids: Vec<String> = {
        let mut ids: Vec<String> = chosen
            .iter()
            .flat_map(|s| s.tests.iter().map(|t| t.id.clone()))
            .collect();
        ids.sort_by(|a, b| natural_cmp(a, b));
        ids.dedup();
        ids
    };
    for (option, list) in [("only", &selection.only), ("except", &selection.except)] {
        for given in list {
            let id = normalize_id(given);
            if !ids.iter().any(|i| i == id) {
                let names: Vec<String> = ids.iter().map(|i| format!("test_{i}")).collect();
                let close = close_matches(id, &ids)
                    .into_iter()
                    .map(|i| format!("test_{i}"))
                    .collect();
                return Err(DiscoveryError::UnknownTest {
                    option,
                    name: given.clone(),
                    suites: chosen.iter().map(|s| s.name.clone()).collect(),
                    close,
                    available: names,
                });
            }
        }
    }

    let only: Vec<&str> = selection.only.iter().map(|s| normalize_id(s)).collect();
    let except: Vec<&str> = selection.except.iter().map(|s| normalize_id(s)).collect();
    Ok(chosen
        .into_iter()
        .map(|s| SelectedSuite {
            name: s.name.clone(),
            dir: s.dir.clone(),
            tests: s
                .tests
                .iter()
                .filter(|t| only.is_empty() || only.contains(&t.id.as_str()))
                .map(|t| Selected {
                    test: t.clone(),
                    excepted: except.contains(&t.id.as_str()),
                })
                .collect(),
        })
        .filter(|s| selection.only.is_empty() || !s.tests.is_empty())
        .collect())
}

/// Up to five of `candidates` that look like `given`, best first: the same number
/// written differently (`4` for `04`), one edit away (`18` for `18a`), or similar by
/// Jaro-Winkler (for longer names such as suites).
pub fn close_matches(given: &str, candidates: &[String]) -> Vec<String> {
    let same_number = |c: &str| {
        let t = |s: &str| s.trim_start_matches('0').to_string();
        !given.is_empty() && t(given) == t(c)
    };
    let mut scored: Vec<(f64, &String)> = candidates
        .iter()
        .map(|c| {
            let score = if same_number(c) {
                2.0
            } else if strsim::levenshtein(given, c) <= 1 {
                1.5
            } else {
                strsim::jaro_winkler(given, c)
            };
            (score, c)
        })
        .filter(|(score, _)| *score >= 0.7)
        .collect();
    scored.sort_by(|a, b| b.0.total_cmp(&a.0).then_with(|| natural_cmp(a.1, b.1)));
    scored.into_iter().take(5).map(|(_, c)| c.clone()).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn tree(files: &[&str]) -> tempfile::TempDir {
        let dir = tempfile::tempdir().unwrap();
        for f in files {
            let p = dir.path().join(f);
            std::fs::create_dir_all(p.parent().unwrap()).unwrap();
            std::fs::write(&p, "").unwrap();
        }
        dir
    }

    fn ids(s: &Suite) -> Vec<&str> {
        s.tests.iter().map(|t| t.id.as_str()).collect()
    }

    #[test]
    fn natural_order_counts_numbers() {
        let mut v = vec!["10", "18b", "02", "2", "18a", "01", "18", "100", "9"];
        v.sort_by(|a, b| natural_cmp(a, b));
        assert_eq!(v, ["01", "02", "2", "9", "10", "18", "18a", "18b", "100"]);
        assert_eq!(natural_cmp("dlc", "dlc"), Ordering::Equal);
        assert_eq!(natural_cmp("a2", "a10"), Ordering::Less);
    }

    #[test]
    fn discovers_suites_and_tests_skipping_hidden_and_caches() {
        let dir = tree(&[
            "samples/test_10.py",
            "samples/test_02.py",
            "samples/test_18b.py",
            "samples/test_18a.py",
            "samples/test_01.py",
            "samples/helpers.py",
            "samples/test_.py",
            "samples/test_03.txt",
            "samples/__pycache__/test_99.py",
            "samples/.hidden/test_98.py",
            ".git/test_97.py",
            "__pycache__/test_96.py",
            "dlc/test_01.py",
            "empty/README",
            "test_00.py",
        ]);
        let suites = discover(dir.path()).unwrap();
        let names: Vec<&str> = suites.iter().map(|s| s.name.as_str()).collect();
        assert_eq!(names, ["dlc", "samples"]);
        assert_eq!(ids(&suites[1]), ["01", "02", "10", "18a", "18b"]);
        let t = &suites[1].tests[3];
        assert_eq!(t.name(), "test_18a");
        assert_eq!(t.bundle_path(), "samples/test_18a.py");
        assert_eq!(t.full_name(), "samples/test_18a");
        assert!(t.path.ends_with("samples/test_18a.py"));
    }

    #[test]
    fn selection_by_suite_only_and_except() {
        let dir = tree(&[
            "a/test_01.py",
            "a/test_02.py",
            "a/test_03.py",
            "b/test_01.py",
            "b/test_07.py",
        ]);
        let suites = discover(dir.path()).unwrap();
        let sel = |s: &[&str], o: &[&str], e: &[&str]| {
            let v = |x: &[&str]| x.iter().map(|s| s.to_string()).collect::<Vec<_>>();
            select(
                dir.path(),
                &suites,
                &Selection::from_lists(&v(s), &v(o), &v(e)),
            )
        };
        let all = sel(&[], &[], &[]).unwrap();
        assert_eq!(all.len(), 2);
        assert_eq!(all[0].tests.len(), 3);

        let only = sel(&["a"], &["01,test_03"], &[]).unwrap();
        assert_eq!(only.len(), 1);
        let got: Vec<&str> = only[0].tests.iter().map(|t| t.test.id.as_str()).collect();
        assert_eq!(got, ["01", "03"]);

        // --only across suites keeps only the suites that have the test.
        let seven = sel(&[], &["07"], &[]).unwrap();
        assert_eq!(seven.len(), 1);
        assert_eq!(seven[0].name, "b");

        let except = sel(&["b", "a"], &[], &["test_01"]).unwrap();
        assert_eq!(except[0].name, "b", "suites run in the order given");
        assert!(except[0].tests[0].excepted);
        assert!(!except[0].tests[1].excepted);
    }

    #[test]
    fn unknown_suite_and_test_list_close_matches() {
        let dir = tree(&[
            "samples/test_01.py",
            "samples/test_18a.py",
            "dlc/test_01.py",
        ]);
        let suites = discover(dir.path()).unwrap();
        let e = select(
            dir.path(),
            &suites,
            &Selection::from_lists(&["sample".into()], &[], &[]),
        )
        .unwrap_err();
        let msg = e.to_string();
        assert!(msg.contains("unknown suite \"sample\""), "{msg}");
        assert!(msg.contains("did you mean: samples?"), "{msg}");

        let e = select(
            dir.path(),
            &suites,
            &Selection::from_lists(&["samples".into()], &["18".into()], &[]),
        )
        .unwrap_err();
        let msg = e.to_string();
        assert!(msg.contains("unknown test \"18\""), "{msg}");
        assert!(msg.contains("test_18a"), "{msg}");

        let e = select(
            dir.path(),
            &suites,
            &Selection::from_lists(&[], &[], &["zz".into()]),
        )
        .unwrap_err();
        assert!(e.to_string().contains("--except"), "{e}");
        assert!(
            e.to_string().contains("there are: test_01, test_18a"),
            "{e}"
        );
    }

    #[test]
    fn explicit_suites_dir_must_be_a_folder() {
        let dir = tree(&["x/test_01.py"]);
        assert_eq!(suites_dir(Some(dir.path())).unwrap(), dir.path());
        let file = dir.path().join("x/test_01.py");
        assert!(matches!(
            suites_dir(Some(&file)),
            Err(DiscoveryError::NotAFolder(_))
        ));
    }

    #[test]
    fn lists_split_on_commas_and_blanks() {
        let v = split_list(&["a,b".into(), " c  d ".into(), ",".into()]);
        assert_eq!(v, ["a", "b", "c", "d"]);
        let v = split_names(&["a, my suite".into(), " c ".into(), ",".into()]);
        assert_eq!(v, ["a", "my suite", "c"]);
    }

    #[test]
    fn a_suite_whose_name_has_a_blank_is_selected() {
        let dir = tree(&["my suite/test_01.py", "my/test_01.py", "other/test_01.py"]);
        let suites = discover(dir.path()).unwrap();
        let chosen = select(
            dir.path(),
            &suites,
            &Selection::from_lists(&["my suite,other".into()], &[], &[]),
        )
        .unwrap();
        let names: Vec<&str> = chosen.iter().map(|s| s.name.as_str()).collect();
        assert_eq!(names, ["my suite", "other"]);
    }
}
