//! `lutf auster-hook`: prints the hook script for this installation, to be saved as
//! `$LUSTRE/tests/lutf.sh`.

use anyhow::Context as _;

use crate::cli::{AusterHookArgs, Global};

/// Runs `lutf auster-hook`.
pub fn run(global: &Global, args: &AusterHookArgs) -> anyhow::Result<i32> {
    let lutf = match &args.lutf {
        Some(p) => p.clone(),
        None => std::env::current_exe()
            .and_then(std::fs::canonicalize)
            .context("cannot tell where this lutf binary is; give it with --lutf PATH")?,
    };
    // A relative suites folder would be read from wherever auster happens to run.
    let suites = match &global.suites {
        Some(s) => Some(
            std::fs::canonicalize(s)
                .with_context(|| format!("--suites {}: cannot find it", s.display()))?,
        ),
        None => None,
    };
    crate::reporter::print(&crate::hook::render(&lutf, suites.as_deref())?);
    Ok(0)
}
