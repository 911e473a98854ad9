//! `lutf list`: every selected suite and test, with its needs and description. The plans
//! are asked of the cluster's first node, so what is listed is what would run.

use std::fmt::Write as _;

use crate::cli::{Global, ListArgs};
use crate::discovery::Selection;
use crate::plan::{describe_needs, fetch_plans};
use crate::protocol::TestPlan;

/// Runs `lutf list`.
pub async fn run(global: &Global, args: &ListArgs) -> anyhow::Result<i32> {
    let cluster = super::cluster(global)?;
    let selection = Selection::from_lists(&args.suite, &[], &[]);
    let (_, suites) = super::run::select_tests(global, &selection)?;
    let nodes = cluster.nodes();
    let node = nodes
        .first()
        .ok_or_else(|| anyhow::anyhow!("the cluster has no nodes"))?;
    let dirs: Vec<_> = suites.iter().map(|s| s.dir.clone()).collect();
    let bundle = crate::bundle::Bundle::new(&dirs)?;
    node.deploy(&bundle).await?;
    let tests: Vec<_> = suites
        .iter()
        .flat_map(|s| s.tests.iter().map(|t| t.test.clone()))
        .collect();
    let plans = fetch_plans(node, &tests).await;
    // The needs column as wide as the longest needs, up to NEEDS_WIDTH.
    let needs_width = plans
        .iter()
        .filter_map(|p| p.as_ref().ok())
        .map(|p| describe_needs(&p.needs).chars().count())
        .max()
        .unwrap_or(0)
        .min(NEEDS_WIDTH);
    let layout = Layout {
        width: width(),
        name: 0,
        needs: needs_width,
    };
    let mut plans = plans.into_iter();
    let mut out = String::new();
    let mut broken = Vec::new();
    for suite in &suites {
        let n = suite.tests.len();
        let _ = writeln!(
            out,
            "{} ({n} test{})",
            suite.name,
            if n == 1 { "" } else { "s" }
        );
        let layout = Layout {
            name: suite
                .tests
                .iter()
                .map(|t| t.test.name().chars().count())
                .max()
                .unwrap_or(0),
            ..layout
        };
        for t in &suite.tests {
            let plan = plans.next().expect("one plan per test");
            if plan.is_err() {
                broken.push(t.test.full_name());
            }
            out.push_str(&lines(&t.test.name(), &plan, layout));
        }
    }
    crate::reporter::print(&out);
    if broken.is_empty() {
        return Ok(0);
    }
    crate::reporter::eprintln(&format!(
        "lutf: {} test{} {} to load: {}",
        broken.len(),
        if broken.len() == 1 { "" } else { "s" },
        if broken.len() == 1 { "fails" } else { "fail" },
        broken.join(", ")
    ));
    Ok(1)
}

/// The widest the needs column gets; longer needs wrap within it.
const NEEDS_WIDTH: usize = 26;

/// The widths the list is laid out for.
#[derive(Debug, Clone, Copy)]
struct Layout {
    /// The whole line: the terminal's, else 80.
    width: usize,
    /// The name column.
    name: usize,
    /// The needs column.
    needs: usize,
}

/// The terminal's width when stdout is one, else 80 (a pipe, a file).
fn width() -> usize {
    // SAFETY: a plain C struct of integers; all zero is a valid value.
    let mut size: libc::winsize = unsafe { std::mem::zeroed() };
    // SAFETY: TIOCGWINSZ writes a `winsize` into `size`, which lives across the call.
    let got = unsafe { libc::ioctl(libc::STDOUT_FILENO, libc::TIOCGWINSZ, &mut size) } == 0;
    if got && size.ws_col >= 40 {
        usize::from(size.ws_col)
    } else {
        80
    }
}

/// The narrowest a description column gets, however long the names.
const MIN_DESCRIPTION_WIDTH: usize = 24;

/// One test as lines of `layout.width` columns (a longer word overflows alone): name,
/// needs and description in columns, each wrapped within its own — or why it does not load.
fn lines(name: &str, plan: &Result<TestPlan, crate::plan::PlanError>, layout: Layout) -> String {
    let Layout {
        width,
        name: name_width,
        needs: needs_width,
    } = layout;
    let indent = 2 + name_width + 1;
    let (needs, description) = match plan {
        Ok(p) => (
            wrap(&describe_needs(&p.needs), ", ", needs_width),
            wrap(
                &p.description,
                " ",
                width
                    .saturating_sub(indent + needs_width + 1)
                    .max(MIN_DESCRIPTION_WIDTH),
            ),
        ),
        Err(e) => {
            let first = e.message.lines().next().unwrap_or_default();
            let why = format!("FAILS TO LOAD: {first}");
            (
                wrap(
                    &why,
                    " ",
                    width.saturating_sub(indent).max(MIN_DESCRIPTION_WIDTH),
                ),
                Vec::new(),
            )
        }
    };
    let rows = needs.len().max(description.len()).max(1);
    let mut out = String::new();
    for i in 0..rows {
        let first = if i == 0 { name } else { "" };
        let need = needs.get(i).map_or("", String::as_str);
        let line = match description.get(i) {
            Some(d) => format!("  {first:<name_width$} {need:<needs_width$} {d}"),
            None => format!("  {first:<name_width$} {need}"),
        };
        out.push_str(line.trim_end());
        out.push('\n');
    }
    // What lutf sets up for the test (its LNet, its file system), a line each.
    if let Ok(p) = plan {
        for s in &p.setup {
            let width = width.saturating_sub(indent + 9).max(MIN_DESCRIPTION_WIDTH);
            for (i, l) in wrap(s, " ", width).iter().enumerate() {
                let head = if i == 0 { "sets up: " } else { "         " };
                out.push_str(&format!("{:indent$}{head}{l}\n", ""));
            }
        }
    }
    out
}

/// `text` cut into lines of at most `width` characters at `sep` (kept at the end of a
/// line, its trailing space dropped); a piece longer than `width` is a line of its own.
fn wrap(text: &str, sep: &str, width: usize) -> Vec<String> {
    let mut lines: Vec<String> = Vec::new();
    let mut current = String::new();
    let pieces: Vec<&str> = text.split_inclusive(sep).collect();
    for piece in pieces {
        let joined = current.chars().count() + piece.trim_end().chars().count();
        if !current.is_empty() && joined > width {
            lines.push(current.trim_end().to_string());
            current.clear();
        }
        current.push_str(piece);
    }
    if !current.trim_end().is_empty() {
        lines.push(current.trim_end().to_string());
    }
    lines
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::protocol::Needs;

    fn plan(roles: &[&str], interfaces: u32, lnet: bool, description: &str) -> TestPlan {
        TestPlan {
            description: description.into(),
            needs: Needs {
                roles: roles.iter().map(|r| (*r).to_owned()).collect(),
                interfaces,
                lnet,
                ..Default::default()
            },
            steps: Vec::new(),
            system: Vec::new(),
            setup: Vec::new(),
        }
    }

    #[test]
    fn long_needs_and_descriptions_wrap_in_their_columns() {
        let p = plan(
            &["server", "client", "router"],
            2,
            true,
            "Three nodes: the client reaches the server through the router, on both networks.",
        );
        let layout = Layout {
            width: 80,
            name: 7,
            needs: NEEDS_WIDTH,
        };
        let shown = lines("test_05", &Ok(p), layout);
        assert_eq!(
            shown,
            "  test_05 3 nodes (server, client,   Three nodes: the client reaches the server
          router),                   through the router, on both networks.
          2 interfaces each, LNet
"
        );
        for l in shown.lines() {
            assert!(l.chars().count() <= 80, "{l:?}");
        }
    }

    #[test]
    fn a_test_that_fails_to_load_says_so_in_one_wrapped_column() {
        let e = crate::plan::PlanError {
            message: "broken/test_02.py:12: SyntaxError: invalid syntax (a long explanation \
                      that goes on past the edge)\nsecond line"
                .into(),
            traceback: None,
        };
        let layout = Layout {
            width: 60,
            name: 7,
            needs: 6,
        };
        let shown = lines("test_02", &Err(e), layout);
        assert_eq!(
            shown,
            "  test_02 FAILS TO LOAD: broken/test_02.py:12: SyntaxError:
          invalid syntax (a long explanation that goes on
          past the edge)
"
        );
    }

    #[test]
    fn wrap_cuts_at_separators_and_keeps_long_pieces_whole() {
        assert_eq!(wrap("a b c", " ", 3), ["a b", "c"]);
        assert_eq!(wrap("averylongword b", " ", 4), ["averylongword", "b"]);
        assert_eq!(wrap("1 node, LNet", ", ", 7), ["1 node,", "LNet"]);
        assert!(wrap("", " ", 10).is_empty());
    }
}
