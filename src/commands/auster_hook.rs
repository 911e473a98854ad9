//! `lutf auster-hook`: installs (or prints) the hook scripts auster runs; the scripts
//! themselves are [`crate::auster::hook`]'s.

use anyhow::{bail, Context as _};

use crate::auster::hook::{file_name, Install};
use crate::cli::{AusterHookArgs, Global};

/// Runs `lutf auster-hook`.
pub fn run(global: &Global, args: &AusterHookArgs) -> anyhow::Result<i32> {
    let lutf = match &args.lutf {
        Some(p) => p.clone(),
        None => std::env::current_exe()
            .and_then(std::fs::canonicalize)
            .context("cannot tell where this lutf binary is; give it with --lutf PATH")?,
    };
    let install = Install::resolve(lutf, global.suites.as_deref())?;
    let suites = install.select(&args.suite)?;
    let Some(dir) = &args.install else {
        let hook = match suites.as_slice() {
            _ if args.suite.is_empty() => install.render(None)?,
            [one] => install.render(Some(one))?,
            _ => bail!(
                "print one hook at a time (one --suite), or write them all with --install DIR"
            ),
        };
        crate::reporter::print(&hook);
        return Ok(0);
    };
    let written = install.install(dir, &suites)?;
    let mut text = format!(
        "wrote {} hooks into {} (lutf {}, suites from {}):\n",
        written.len(),
        dir.display(),
        install.lutf.display(),
        install.suites_dir.display()
    );
    text.push_str(&format!("  {}  every suite\n", file_name(None)));
    for s in &suites {
        text.push_str(&format!("  {}  suite {s}\n", file_name(Some(s))));
    }
    text.push_str(
        "run one with auster: auster -N -f <cfg> -d <logdir> lutf-<suite> [--only IDS]\n",
    );
    crate::reporter::print(&text);
    Ok(0)
}
