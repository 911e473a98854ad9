//! What auster selects: each test's fate under `ONLY`, `EXCEPT`, `START_AT`, `STOP_AT`,
//! `HONOR_EXCEPT` and `PATTERN`.
//!
//! Selection follows Lustre's `test-framework.sh` (`build_test_filter`, `run_test`,
//! `testslist_filter`):
//!
//! - `ONLY` lists ids; a test runs when its id or its base (`70` for `70b`) is listed, and
//!   `N-M` lists the numbers N to M. Tests it leaves out are not reported at all.
//!   With `ONLY` set, `EXCEPT`, `START_AT` and `STOP_AT` are ignored, unless
//!   `HONOR_EXCEPT` is set (auster `-H`).
//! - `EXCEPT` lists ids (or bases) that are reported as SKIP with duration 0 and
//!   auster's reason, `skipping excluded test 61`.
//! - `START_AT`/`STOP_AT`: the tests before `START_AT` and after `STOP_AT`, in run order,
//!   are added to `EXCEPT` (so reported as SKIP), as `testslist_filter` does.
//! - `PATTERN` (lutf's own, as the earlier LUTF had it): shell-style patterns over test
//!   names; tests matching none are left out like `ONLY` leaves them out.

/// What auster selects, from `ONLY`, `EXCEPT`, `START_AT`, `STOP_AT`, `HONOR_EXCEPT` and
/// `PATTERN`.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Filter {
    /// `ONLY`: ids, bases or `N-M` ranges.
    pub only: Vec<String>,
    /// `EXCEPT`: ids or bases.
    pub except: Vec<String>,
    /// `START_AT`: the first test to run.
    pub start_at: Option<String>,
    /// `STOP_AT`: the last test to run.
    pub stop_at: Option<String>,
    /// `HONOR_EXCEPT`: `EXCEPT` (and `START_AT`/`STOP_AT`) apply even with `ONLY`.
    pub honor_except: bool,
    /// `PATTERN`: shell-style patterns over test names.
    pub patterns: Vec<String>,
}

/// What becomes of one test.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Verdict {
    /// It runs.
    Run,
    /// It is reported as SKIP with this reason and duration 0, not run.
    Excluded(String),
    /// It is left out and not reported (`ONLY`, `PATTERN`).
    Omitted,
}

/// One test as the filter sees it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Candidate {
    /// The lutf suite.
    pub suite: String,
    /// The test's id in its suite (`01`).
    pub id: String,
    /// Its id in the auster suite (`01`, or `samples_01` when several suites run).
    pub auster_id: String,
}

impl Filter {
    /// Decides every test, `tests` being in run order.
    pub fn decide(&self, tests: &[Candidate]) -> Vec<Verdict> {
        // START_AT/STOP_AT add to EXCEPT, over the tests in run order, as testslist_filter
        // does with awk: before START_AT is excepted, START_AT and STOP_AT themselves run,
        // after STOP_AT is excepted. A START_AT of "0" counts as unset there.
        let start = self
            .start_at
            .as_deref()
            .filter(|s| !s.is_empty() && *s != "0");
        let stop = self.stop_at.as_deref().filter(|s| !s.is_empty());
        let mut outside = Vec::with_capacity(tests.len());
        let mut flag = start.is_some();
        for t in tests {
            if start.is_some_and(|s| names(t, s)) {
                flag = false;
            }
            outside.push(flag);
            if stop.is_some_and(|s| names(t, s)) {
                flag = true;
            }
        }

        tests
            .iter()
            .zip(outside)
            .map(|(t, outside)| {
                if !self.patterns.is_empty() && !self.patterns.iter().any(|p| pattern_names(t, p)) {
                    return Verdict::Omitted;
                }
                if !self.only.is_empty() {
                    if !self.only.iter().any(|o| only_names(t, o)) {
                        return Verdict::Omitted;
                    }
                    if !self.honor_except {
                        return Verdict::Run;
                    }
                }
                if let Some(e) = self.except.iter().find(|e| names(t, e) || base_names(t, e)) {
                    let id = &t.auster_id;
                    return Verdict::Excluded(if names(t, e) {
                        format!("skipping excluded test {id}")
                    } else {
                        format!("skipping excluded test {id} (base {})", basetest(id))
                    });
                }
                if outside {
                    return Verdict::Excluded(format!("skipping excluded test {}", t.auster_id));
                }
                Verdict::Run
            })
            .collect()
    }

    /// `ONLY` items that name no test of `tests`, for a warning.
    pub fn unmatched_only(&self, tests: &[Candidate]) -> Vec<String> {
        self.only
            .iter()
            .filter(|o| !tests.iter().any(|t| only_names(t, o)))
            .cloned()
            .collect()
    }
}

/// `given` (`01` or `test_01`) is the test's id or its auster id.
fn names(t: &Candidate, given: &str) -> bool {
    let g = given.strip_prefix("test_").unwrap_or(given);
    g == t.id || g == t.auster_id
}

/// `given` is the base of the test's id (`70` for `70b`), as `EXCEPT_$base`.
fn base_names(t: &Candidate, given: &str) -> bool {
    let g = given.strip_prefix("test_").unwrap_or(given);
    g == basetest(&t.id) || g == basetest(&t.auster_id)
}

/// An `ONLY` item: the id, its base, or an `N-M` range of numbers.
fn only_names(t: &Candidate, given: &str) -> bool {
    if names(t, given) || base_names(t, given) {
        return true;
    }
    // test-framework expands `N-M` with seq; lutf's ids are zero-padded (`01`), so the
    // range is compared by number: `1-3` selects 01, 02, 03 and their lettered siblings.
    let Some((lo, hi)) = given.split_once('-') else {
        return false;
    };
    let (Ok(lo), Ok(hi)) = (lo.parse::<u64>(), hi.parse::<u64>()) else {
        return false;
    };
    basetest(&t.id)
        .parse::<u64>()
        .is_ok_and(|n| lo <= n && n <= hi)
}

/// A `PATTERN` item over `test_<id>`, the id, the auster id and `<suite>/test_<id>`.
fn pattern_names(t: &Candidate, pattern: &str) -> bool {
    [
        format!("test_{}", t.id),
        t.id.clone(),
        t.auster_id.clone(),
        format!("test_{}", t.auster_id),
        format!("{}/test_{}", t.suite, t.id),
    ]
    .iter()
    .any(|name| glob_match(pattern, name))
}

/// test-framework's `basetest`: an id starting with a letter is its own base; otherwise
/// the part before the first lowercase letter (`70b` → `70`).
pub fn basetest(id: &str) -> &str {
    if id.starts_with(|c: char| c.is_ascii_lowercase()) {
        id
    } else {
        id.find(|c: char| c.is_ascii_lowercase())
            .map_or(id, |i| &id[..i])
    }
}

/// Shell-style matching: `*` any run of characters, `?` one character, `[abc]`/`[a-z]`/
/// `[!a]` one of a set; everything else stands for itself.
pub fn glob_match(pattern: &str, text: &str) -> bool {
    let p: Vec<char> = pattern.chars().collect();
    let t: Vec<char> = text.chars().collect();
    // Classic backtracking over the last `*`.
    let (mut pi, mut ti) = (0usize, 0usize);
    let mut star: Option<(usize, usize)> = None;
    while ti < t.len() {
        if pi < p.len() && p[pi] == '*' {
            star = Some((pi, ti));
            pi += 1;
            continue;
        }
        if pi < p.len() {
            if let Some((matched, next)) = one_char(&p, pi, t[ti]) {
                if matched {
                    pi = next;
                    ti += 1;
                    continue;
                }
            }
        }
        match star {
            Some((sp, st)) => {
                pi = sp + 1;
                ti = st + 1;
                star = Some((sp, st + 1));
            }
            None => return false,
        }
    }
    p[pi..].iter().all(|&c| c == '*')
}

/// Whether the pattern element at `p[i]` (not `*`) matches `c`, and where the next element
/// starts. `None` when the element is a malformed set (then it matches nothing).
fn one_char(p: &[char], i: usize, c: char) -> Option<(bool, usize)> {
    match p[i] {
        '?' => Some((true, i + 1)),
        '[' => {
            let mut j = i + 1;
            let negate = j < p.len() && (p[j] == '!' || p[j] == '^');
            if negate {
                j += 1;
            }
            let mut hit = false;
            let mut first = true;
            while j < p.len() && (p[j] != ']' || first) {
                first = false;
                if j + 2 < p.len() && p[j + 1] == '-' && p[j + 2] != ']' {
                    hit |= p[j] <= c && c <= p[j + 2];
                    j += 3;
                } else {
                    hit |= p[j] == c;
                    j += 1;
                }
            }
            if j >= p.len() {
                // No closing bracket: the `[` stands for itself.
                return Some((c == '[', i + 1));
            }
            Some((hit != negate, j + 1))
        }
        other => Some((other == c, i + 1)),
    }
}

/// The name of a test inside the auster suite: its own id when the run is of one lutf
/// suite (`SUITE=dlc`: `test_01`), `<suite>_<id>` otherwise (`test_dlc_01`), so that
/// tests of different suites never share a SubTest name or a log file.
pub fn auster_id(single_suite: bool, suite: &str, id: &str) -> String {
    if single_suite {
        id.to_string()
    } else {
        format!("{suite}_{id}")
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::auster::env::tests::env;

    fn cands(ids: &[&str]) -> Vec<Candidate> {
        ids.iter()
            .map(|id| Candidate {
                suite: "s".into(),
                id: id.to_string(),
                auster_id: id.to_string(),
            })
            .collect()
    }

    fn verdicts(f: &Filter, ids: &[&str]) -> Vec<String> {
        f.decide(&cands(ids))
            .into_iter()
            .map(|v| match v {
                Verdict::Run => "run".to_string(),
                Verdict::Omitted => "-".to_string(),
                Verdict::Excluded(r) => r,
            })
            .collect()
    }

    #[test]
    fn only_matches_id_base_and_ranges() {
        let f = env(&[("ONLY", "61 70 test_02 3-4")]).filter;
        assert_eq!(
            verdicts(
                &f,
                &["01", "02", "03", "04", "05", "61", "61a", "70a", "70b", "700"]
            ),
            ["-", "run", "run", "run", "-", "run", "run", "run", "run", "-"]
        );
    }

    #[test]
    fn only_ignores_except_unless_honored() {
        let f = env(&[("ONLY", "01 02"), ("EXCEPT", "02")]).filter;
        assert_eq!(verdicts(&f, &["01", "02", "03"]), ["run", "run", "-"]);
        let f = env(&[("ONLY", "01 02"), ("EXCEPT", "02"), ("HONOR_EXCEPT", "y")]).filter;
        assert_eq!(
            verdicts(&f, &["01", "02", "03"]),
            ["run", "skipping excluded test 02", "-"]
        );
    }

    #[test]
    fn except_by_id_and_base_with_austers_reasons() {
        let f = env(&[("EXCEPT", "02,70")]).filter;
        assert_eq!(
            verdicts(&f, &["01", "02", "70a", "71"]),
            [
                "run",
                "skipping excluded test 02",
                "skipping excluded test 70a (base 70)",
                "run"
            ]
        );
    }

    #[test]
    fn start_and_stop_at_except_the_tests_outside() {
        let f = env(&[("START_AT", "02"), ("STOP_AT", "03")]).filter;
        assert_eq!(
            verdicts(&f, &["01", "02", "03", "04"]),
            [
                "skipping excluded test 01",
                "run",
                "run",
                "skipping excluded test 04"
            ]
        );
        // A START_AT that names no test excepts everything, as testslist_filter does.
        let f = env(&[("START_AT", "99")]).filter;
        assert_eq!(
            verdicts(&f, &["01", "02"]),
            ["skipping excluded test 01", "skipping excluded test 02"]
        );
        // START_AT=0 counts as unset there.
        let f = env(&[("START_AT", "0"), ("STOP_AT", "01")]).filter;
        assert_eq!(
            verdicts(&f, &["01", "02"]),
            ["run", "skipping excluded test 02"]
        );
        // ONLY wins over START_AT, as EXCEPT is not consulted with ONLY.
        let f = env(&[("START_AT", "02"), ("ONLY", "01")]).filter;
        assert_eq!(verdicts(&f, &["01", "02"]), ["run", "-"]);
    }

    #[test]
    fn pattern_leaves_out_what_it_does_not_match() {
        let f = env(&[("PATTERN", "test_0[13]* 1?")]).filter;
        assert_eq!(
            verdicts(&f, &["01", "02", "03a", "10", "100"]),
            ["run", "-", "run", "run", "-"]
        );
    }

    #[test]
    fn glob_matches_like_the_shell() {
        for (p, t, want) in [
            ("*", "", true),
            ("a*b", "axxb", true),
            ("a*b", "axxc", false),
            ("?", "ab", false),
            ("[a-c]x", "bx", true),
            ("[!a-c]x", "bx", false),
            ("[]]", "]", true),
            ("[ab", "[ab", true),
            ("*.py", "test_01.py", true),
            ("t*_*1", "test_01", true),
        ] {
            assert_eq!(glob_match(p, t), want, "{p} vs {t}");
        }
    }

    #[test]
    fn basetest_is_test_frameworks() {
        assert_eq!(basetest("70b"), "70");
        assert_eq!(basetest("01"), "01");
        assert_eq!(basetest("18a"), "18");
        assert_eq!(basetest("mount"), "mount");
        assert_eq!(basetest("42aa"), "42");
    }

    #[test]
    fn auster_ids_are_plain_for_one_suite() {
        assert_eq!(auster_id(true, "dlc", "01"), "01");
        assert_eq!(auster_id(false, "dlc", "01"), "dlc_01");
    }
}
