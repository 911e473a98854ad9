//! `results.yml` in auster's exact layout, as Lustre's `lustre/tests/yaml.sh` writes it, so
//! that Maloo takes a lutf run as one of auster's:
//!
//! ```yaml
//! TestGroup:
//!     test_group: lutf-node1
//!     testhost: node1
//!     submission: Mon Jan  5 10:00:00 UTC 2026
//!     user_name: root
//! project: lutf
//! Tests:
//! -
//!         name: samples
//!         description: lutf samples
//!         submission: Mon Jan  5 10:00:00 UTC 2026
//!         report_version: 2
//!         SubTests:
//!         -
//!             name: test_01
//!             status: PASS
//!             duration: 1
//!             return_code: 0
//!             error:
//!         duration: 1
//!         status: PASS
//! ```
//!
//! - The indentation, key order and the lone `-` lines are yaml.sh's (`yml_test_group`,
//!   `yml_log_test`, `yml_log_sub_test_begin/_end`, `yml_log_test_status`).
//! - An empty error is written as yaml.sh writes it, a bare `error:` (it loads as null: no
//!   error). Any other error is written double-quoted with YAML escapes by [`quoted`], so
//!   that every text (quotes, colons, newlines, `#`, tabs, control and non-ASCII characters)
//!   loads back unchanged; yaml.sh's bash `%q` quoting does not manage that.
//! - `project` is not one of auster's keys: yaml.sh writes only `TestGroup`, the
//!   `$CODE_REVIEW_YAML` block (top level, where CI puts its Gerrit details, which carry the
//!   Gerrit project) and `Tests`. lutf writes `project` at the top level in that slot,
//!   between `TestGroup` and `Tests`, so that the four-key `TestGroup` header stays exactly
//!   auster's and a reader that only knows auster's keys never trips on it.
//! - The auster hook (`lutf auster`) does not write this file: auster has written its header
//!   and the suite's entry already, so the hook appends SubTests items with
//!   [`append_subtests`], which uses the same item writer.

use std::fmt::Write as _;
use std::io::{Read as _, Seek as _, SeekFrom, Write as _};
use std::path::Path;

use crate::outcome::{RunOutcome, SuiteOutcome, TestOutcome};
use crate::results::{parse_time, whole_seconds, ResultsError};

/// The value of the top-level `project` key.
pub const PROJECT: &str = "lutf";

/// The whole `results.yml` of a run.
pub fn render(run: &RunOutcome) -> String {
    let mut out = String::new();
    let host = crate::results::nodes::short_host(&run.testhost);
    let host = if host.is_empty() { "localhost" } else { host };
    out.push_str("TestGroup:\n");
    line(&mut out, 4, "test_group", &scalar(&format!("lutf-{host}")));
    line(&mut out, 4, "testhost", &scalar(host));
    line(
        &mut out,
        4,
        "submission",
        &scalar(&submission(&run.started)),
    );
    line(&mut out, 4, "user_name", &scalar(&run.user));
    line(&mut out, 0, "project", &scalar(PROJECT));
    out.push_str("Tests:\n");
    for suite in &run.suites {
        write_suite(&mut out, suite);
    }
    out
}

/// One `Tests:` entry: the suite's header (as `yml_log_test`), its SubTests, then its
/// duration and status (as `yml_log_test_status`).
pub fn write_suite(out: &mut String, suite: &SuiteOutcome) {
    out.push_str("-\n");
    line(out, 8, "name", &scalar(&suite.name));
    line(
        out,
        8,
        "description",
        &scalar(&format!("lutf {}", suite.name)),
    );
    line(out, 8, "submission", &scalar(&submission(&suite.started)));
    line(out, 8, "report_version", "2");
    out.push_str("        SubTests:\n");
    for test in &suite.tests {
        write_subtest(out, test);
    }
    line(
        out,
        8,
        "duration",
        &whole_seconds(suite.duration).to_string(),
    );
    line(out, 8, "status", suite.status().as_str());
}

/// One SubTests item, exactly as yaml.sh's `yml_log_sub_test_begin` + `_end` write it:
/// `        -` then `name`, `status`, `duration` (whole seconds), `return_code`, `error` at 12
/// spaces.
pub fn write_subtest(out: &mut String, test: &TestOutcome) {
    out.push_str("        -\n");
    line(out, 12, "name", &scalar(&test.name()));
    line(out, 12, "status", test.status.as_str());
    line(
        out,
        12,
        "duration",
        &whole_seconds(test.duration).to_string(),
    );
    line(out, 12, "return_code", &test.return_code.to_string());
    if test.error.is_empty() {
        out.push_str("            error:\n");
    } else {
        line(out, 12, "error", &quoted(&test.error));
    }
}

/// SubTests items for `tests`, in order.
pub fn subtests<'a>(tests: impl IntoIterator<Item = &'a TestOutcome>) -> String {
    let mut out = String::new();
    for t in tests {
        write_subtest(&mut out, t);
    }
    out
}

/// Appends SubTests items for `tests` to an existing results.yml (auster's `$YAML_LOG`, whose
/// header and suite entry auster wrote), in one write. The file must exist: appending items
/// to nothing would not be a results.yml. A missing final newline is added first.
pub fn append_subtests<'a>(
    path: &Path,
    tests: impl IntoIterator<Item = &'a TestOutcome>,
) -> Result<(), ResultsError> {
    let err = |e| ResultsError::io(path, e);
    let mut file = std::fs::OpenOptions::new()
        .read(true)
        .append(true)
        .open(path)
        .map_err(err)?;
    let len = file.seek(SeekFrom::End(0)).map_err(err)?;
    let mut text = String::new();
    if len > 0 {
        let mut last = [0u8; 1];
        file.seek(SeekFrom::End(-1)).map_err(err)?;
        file.read_exact(&mut last).map_err(err)?;
        if last[0] != b'\n' {
            text.push('\n');
        }
    }
    text.push_str(&subtests(tests));
    // Secrets are blanked out of the records already; this is the last line of defence.
    file.write_all(&crate::secrets::bytes(text.as_bytes()))
        .map_err(err)?;
    file.flush().map_err(err)
}

/// `<indent><key>: <value>` (or `<key>:` when the value is empty).
fn line(out: &mut String, indent: usize, key: &str, value: &str) {
    let _ = if value.is_empty() {
        writeln!(out, "{:indent$}{key}:", "")
    } else {
        writeln!(out, "{:indent$}{key}: {value}", "")
    };
}

/// A time as `date` prints it in the C locale (`Mon Jan  5 10:00:00 UTC 2026`), in UTC;
/// the text itself when it is not RFC 3339.
pub fn submission(rfc3339: &str) -> String {
    match parse_time(rfc3339) {
        Some(t) => t.format("%a %b %e %H:%M:%S UTC %Y").to_string(),
        None => rfc3339.to_string(),
    }
}

/// A string as a YAML scalar: plain when that is unambiguous ([`is_plain_safe`]), the way
/// auster writes names, hosts and dates; double-quoted ([`quoted`]) otherwise.
pub fn scalar(s: &str) -> String {
    if is_plain_safe(s) {
        s.to_string()
    } else {
        quoted(s)
    }
}

/// Whether `s` reads back as the same string when written plain, under YAML 1.1 (Ruby's
/// Psych, which Maloo uses) as well as 1.2: it starts with an ASCII letter (so it is never a
/// number, a 1.1 sexagesimal like `1:20`, an indicator or an anchor), holds only letters,
/// digits, spaces and `._-/:@+`, has no `: `/` #` and no leading or trailing space, and is
/// not one of 1.1's booleans or null words.
pub fn is_plain_safe(s: &str) -> bool {
    let Some(first) = s.chars().next() else {
        return false;
    };
    first.is_ascii_alphabetic()
        && s.chars().all(|c| {
            c.is_ascii_alphanumeric() || matches!(c, ' ' | '.' | '_' | '-' | '/' | ':' | '@' | '+')
        })
        && !s.ends_with(' ')
        && !s.ends_with(':')
        && !s.contains(": ")
        && !s.contains(" #")
        && !matches!(
            s.to_ascii_lowercase().as_str(),
            "y" | "n" | "yes" | "no" | "on" | "off" | "true" | "false" | "null"
        )
}

/// `s` as a double-quoted YAML scalar that loads back to exactly `s`: `"` and `\` escaped,
/// line breaks and tabs as `\n`, `\r`, `\t`, and every character YAML does not allow
/// unescaped or reads as a line break (C0 and C1 controls, DEL, U+2028, U+2029, BOM,
/// U+FFFE, U+FFFF) as `\uXXXX`. Everything else, non-ASCII letters included, stays as it is.
pub fn quoted(s: &str) -> String {
    let mut out = String::with_capacity(s.len() + 2);
    out.push('"');
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            c if needs_escape(c) => {
                let _ = write!(out, "\\u{:04X}", c as u32);
            }
            c => out.push(c),
        }
    }
    out.push('"');
    out
}

fn needs_escape(c: char) -> bool {
    let u = c as u32;
    u < 0x20
        || (0x7F..=0x9F).contains(&u)
        || matches!(u, 0x2028 | 0x2029 | 0xFEFF | 0xFFFE | 0xFFFF)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Strings that break naive YAML writers.
    pub(crate) fn nasty() -> Vec<String> {
        let mut v: Vec<String> = [
            "",
            " ",
            "plain",
            "it's \"quoted\"",
            "key: value",
            "a:b",
            "trailing colon:",
            "# comment",
            "value # not a comment",
            "- leading dash",
            "* star",
            "& anchor",
            "! tag",
            "% directive",
            "@at",
            "`backtick`",
            "| literal",
            "> folded",
            "{flow: map}",
            "[flow, seq]",
            "? question",
            "line one\nline two\n",
            "\n",
            "\r\n windows \r\n",
            "tab\tseparated\t",
            "  leading and trailing spaces  ",
            "back\\slash \\n not a newline",
            "ünïcödé 日本語 emoji 🦀",
            "NUL\0inside",
            "bell\x07 esc\x1b[31m red\x1b[0m",
            "del\x7f c1\u{85}\u{9f}",
            "line\u{2028}sep\u{2029}para",
            "\u{feff}bom",
            "nonchar \u{fffe}\u{ffff}",
            "true",
            "no",
            "Yes",
            "~",
            "null",
            "1:20",
            "0x1F",
            "1e3",
            ".inf",
            "-.NaN",
            "42",
            "...",
            "---",
            "--- document\n...",
            "\"",
            "'",
            "\\",
            "\"unterminated",
            "Traceback (most recent call last):\n  File \"t.py\", line 3, in step\n    assert x == 1, 'x: %r' % x\nAssertionError: x: 2",
        ]
        .iter()
        .map(|s| s.to_string())
        .collect();
        v.push("long ".repeat(2000));
        v
    }

    #[test]
    fn quoted_scalars_load_back_unchanged() {
        for s in nasty() {
            let doc = format!("v: {}\n", quoted(&s));
            let back: std::collections::BTreeMap<String, String> = serde_yaml::from_str(&doc)
                .unwrap_or_else(|e| panic!("{s:?} gave invalid YAML {doc:?}: {e}"));
            assert_eq!(back["v"], s, "through {doc:?}");
            assert!(
                !doc.trim_end_matches('\n').contains('\n'),
                "one line: {doc:?}"
            );
        }
    }

    #[test]
    fn scalar_is_plain_only_when_safe() {
        for s in nasty() {
            let doc = format!("v: {}\n", scalar(&s));
            let back: serde_yaml::Value = serde_yaml::from_str(&doc).unwrap();
            assert_eq!(back["v"].as_str(), Some(s.as_str()), "through {doc:?}");
        }
        for plain in [
            "samples",
            "test_01",
            "node-1.example.com",
            "Mon Jan  5 10:00:00 UTC 2026",
        ] {
            assert_eq!(scalar(plain), plain);
        }
        for q in ["1:20", "yes", "y", "", "a: b", "01", "x ", "#x"] {
            assert!(scalar(q).starts_with('"'), "{q:?} must be quoted");
        }
    }

    #[test]
    fn submission_is_date_format() {
        assert_eq!(
            submission("2026-01-05T10:00:00Z"),
            "Mon Jan  5 10:00:00 UTC 2026"
        );
        assert_eq!(
            submission("2026-03-15T02:04:05+02:00"),
            "Sun Mar 15 00:04:05 UTC 2026"
        );
        assert_eq!(submission("garbage"), "garbage");
    }
}
