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
    let mut plans = fetch_plans(node, &tests).await.into_iter();
    let mut out = String::new();
    for suite in &suites {
        let n = suite.tests.len();
        let _ = writeln!(
            out,
            "{} ({n} test{})",
            suite.name,
            if n == 1 { "" } else { "s" }
        );
        for t in &suite.tests {
            let plan = plans.next().expect("one plan per test");
            let _ = writeln!(out, "  {}", line(&t.test.name(), &plan));
        }
    }
    crate::reporter::print(&out);
    Ok(0)
}

/// One test as a line: name, needs, description — or why it does not load; then what
/// lutf sets up for it (its LNet, file system), a line each.
fn line(name: &str, plan: &Result<TestPlan, crate::plan::PlanError>) -> String {
    match plan {
        Ok(p) => {
            let mut l = format!(
                "{name:<10} {:<28} {}",
                describe_needs(&p.needs),
                p.description
            )
            .trim_end()
            .to_string();
            for s in &p.setup {
                l.push_str(&format!("\n{:<10} sets up: {s}", ""));
            }
            l
        }
        Err(e) => format!("{name:<10} FAILS TO LOAD: {}", e.message),
    }
}
