//! `junit.xml`: the run for CI systems (Jenkins, GitLab, GitHub annotations).
//!
//! One `<testsuite>` per suite (name, tests, failures, errors, skipped, time, timestamp),
//! one `<testcase>` per test (`classname` = suite, `name` = `test_<id>`, time), a
//! `<failure message=... type=...>` holding the error and every failed step's traceback, a
//! `<skipped message=...>`, and `<system-out>` with the test's log.
//!
//! Written by hand rather than from a template: XML escaping is the whole difficulty, and
//! [`escape`] handles it, including the control characters that XML 1.0 forbids even as
//! character references (they become a visible `\xNN`).

use std::collections::BTreeMap;
use std::fmt::Write as _;

use super::logs::{kind_name, test_log};
use crate::outcome::{RunOutcome, Status, TestOutcome};

/// The whole `junit.xml` of a run.
pub fn render(run: &RunOutcome, _labels: &BTreeMap<String, String>) -> String {
    let mut out = String::from("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n");
    let _ = writeln!(
        out,
        "<testsuites name=\"lutf\" tests=\"{}\" failures=\"{}\" errors=\"0\" skipped=\"{}\" time=\"{:.3}\" timestamp=\"{}\">",
        run.tests().count(),
        run.count(Status::Fail),
        run.count(Status::Skip),
        secs(run.duration),
        attr(&run.started)
    );
    for suite in &run.suites {
        let count = |s| suite.tests.iter().filter(|t| t.status == s).count();
        let _ = writeln!(
            out,
            "  <testsuite name=\"{}\" tests=\"{}\" failures=\"{}\" errors=\"0\" skipped=\"{}\" time=\"{:.3}\" timestamp=\"{}\" hostname=\"{}\">",
            attr(&suite.name),
            suite.tests.len(),
            count(Status::Fail),
            count(Status::Skip),
            secs(suite.duration),
            attr(&suite.started),
            attr(&run.testhost)
        );
        for test in &suite.tests {
            write_case(&mut out, test);
        }
        out.push_str("  </testsuite>\n");
    }
    out.push_str("</testsuites>\n");
    out
}

fn write_case(out: &mut String, test: &TestOutcome) {
    let _ = writeln!(
        out,
        "    <testcase classname=\"{}\" name=\"{}\" time=\"{:.3}\">",
        attr(&test.suite),
        attr(&test.name()),
        secs(test.duration)
    );
    let first_line = test.error.lines().next().unwrap_or("");
    match test.status {
        Status::Pass => {}
        Status::Skip => {
            let _ = writeln!(out, "      <skipped message=\"{}\"/>", attr(first_line));
        }
        Status::Fail => {
            let failed = test
                .steps
                .iter()
                .filter(|s| s.status == Status::Fail)
                .filter_map(|s| s.failure.as_ref().map(|f| (s, f)));
            let kind = failed
                .clone()
                .next()
                .map(|(_, f)| kind_name(f.kind))
                .unwrap_or_else(|| "failure".to_string());
            let mut detail = test.error.clone();
            for (step, f) in failed {
                let _ = write!(
                    detail,
                    "\n\nstep {} on {} ({}): {}",
                    step.name,
                    step.node,
                    kind_name(f.kind),
                    f.message
                );
                if let Some(tb) = &f.traceback {
                    detail.push('\n');
                    detail.push_str(tb);
                }
            }
            let _ = writeln!(
                out,
                "      <failure message=\"{}\" type=\"{}\">{}</failure>",
                attr(first_line),
                attr(&kind),
                text(&detail)
            );
        }
    }
    let _ = writeln!(
        out,
        "      <system-out>{}</system-out>",
        text(&test_log(test, None))
    );
    out.push_str("    </testcase>\n");
}

fn secs(s: f64) -> f64 {
    if s.is_finite() {
        s.max(0.0)
    } else {
        0.0
    }
}

/// `s` escaped for an attribute value in double quotes.
pub fn attr(s: &str) -> String {
    escape(s, true)
}

/// `s` escaped for element content.
pub fn text(s: &str) -> String {
    escape(s, false)
}

/// XML 1.0 escaping. `&`, `<`, `>` always; `"` and `'` in attributes; `\r` always and `\n`,
/// `\t` in attributes as character references (a parser would otherwise normalise them
/// away); characters XML 1.0 forbids outright (C0 controls but tab, line feed and carriage
/// return; U+FFFE, U+FFFF) as the visible text `\xNN` / `\uFFFE`.
pub fn escape(s: &str, attribute: bool) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' if attribute => out.push_str("&quot;"),
            '\'' if attribute => out.push_str("&apos;"),
            '\n' if attribute => out.push_str("&#10;"),
            '\t' if attribute => out.push_str("&#9;"),
            '\r' => out.push_str("&#13;"),
            '\n' | '\t' => out.push(c),
            c if (c as u32) < 0x20 => {
                let _ = write!(out, "\\x{:02X}", c as u32);
            }
            '\u{FFFE}' | '\u{FFFF}' => {
                let _ = write!(out, "\\u{:04X}", c as u32);
            }
            c => out.push(c),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn escaped_text_parses_back() {
        for s in [
            "a < b && c > d",
            "\"quotes\" and 'apostrophes'",
            "]]> cdata end",
            "line\nbreak\r\nwindows\ttab",
            "nul\0 bell\x07 esc\x1b[0m",
            "\u{FFFE}\u{FFFF} nonchars",
            "ünïcödé 🦀",
            "",
        ] {
            let doc = format!("<r a=\"{}\">{}</r>", attr(s), text(s));
            let parsed = roxmltree::Document::parse(&doc)
                .unwrap_or_else(|e| panic!("{s:?} gave bad XML {doc:?}: {e}"));
            let root = parsed.root_element();
            let keep = |t: &str| {
                !t.chars().any(|c| {
                    ((c as u32) < 0x20 && !matches!(c, '\n' | '\r' | '\t'))
                        || c == '\u{FFFE}'
                        || c == '\u{FFFF}'
                })
            };
            if keep(s) {
                assert_eq!(root.attribute("a"), Some(s), "attribute of {doc:?}");
                assert_eq!(root.text().unwrap_or(""), s, "text of {doc:?}");
            }
        }
    }
}
