//! The auster hook script, `$LUSTRE/tests/lutf.sh`, rendered from
//! `templates/lutf.sh.tera` for one installation: which `lutf` binary to run and, when
//! given, which suites folder.

use std::path::Path;

use crate::auster::VARIABLES;

const TEMPLATE: &str = include_str!("../templates/lutf.sh.tera");

/// Why the hook could not be rendered.
#[derive(Debug, thiserror::Error)]
pub enum HookError {
    /// The template did not render (a bug in the template).
    #[error("the hook template does not render: {0}")]
    Template(#[from] tera::Error),
    /// A path that bash cannot be given safely.
    #[error("{}: a path with a NUL byte or a newline cannot go into a shell script", .0.display())]
    BadPath(std::path::PathBuf),
}

/// The hook script running `lutf` (an absolute path, or a name looked up in `PATH`) with
/// the suites in `suites` (the installed ones when `None`).
pub fn render(lutf: &Path, suites: Option<&Path>) -> Result<String, HookError> {
    let mut tera = tera::Tera::default();
    tera.autoescape_on(vec![]);
    tera.add_raw_template("lutf.sh", TEMPLATE)?;
    let mut ctx = tera::Context::new();
    ctx.insert("version", env!("CARGO_PKG_VERSION"));
    ctx.insert("lutf", &shell_quote_path(lutf)?);
    ctx.insert(
        "suites",
        &match suites {
            Some(s) => shell_quote_path(s)?,
            None => "''".to_string(),
        },
    );
    ctx.insert("variables", &VARIABLES.join(" "));
    Ok(tera.render("lutf.sh", &ctx)?)
}

fn shell_quote_path(p: &Path) -> Result<String, HookError> {
    let s = p
        .to_str()
        .ok_or_else(|| HookError::BadPath(p.to_path_buf()))?;
    if s.contains(['\0', '\n']) {
        return Err(HookError::BadPath(p.to_path_buf()));
    }
    Ok(shell_quote(s))
}

/// `s` as one bash word: single-quoted, each `'` written as `'\''`.
pub fn shell_quote(s: &str) -> String {
    format!("'{}'", s.replace('\'', r"'\''"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn renders_paths_quoted_and_every_variable_exported() {
        let s = render(
            Path::new("/opt/it's lutf/lutf"),
            Some(Path::new("/srv/suites")),
        )
        .unwrap();
        assert!(s.starts_with("#!/bin/bash\n"), "{s}");
        assert!(s.contains(r"LUTF=${LUTF:-'/opt/it'\''s lutf/lutf'}"), "{s}");
        assert!(
            s.contains("LUTF_SUITES=${LUTF_SUITES:-'/srv/suites'}"),
            "{s}"
        );
        let export = s
            .lines()
            .find(|l| l.starts_with("export "))
            .expect("an export line");
        for v in VARIABLES {
            assert!(export.split(' ').any(|w| w == *v), "{v} not exported");
        }
        assert!(s.contains("exec \"$LUTF\""), "{s}");
        assert!(!s.contains("{{") && !s.contains("{%"), "{s}");
    }

    #[test]
    fn no_suites_means_the_installed_ones() {
        let s = render(Path::new("lutf"), None).unwrap();
        assert!(s.contains("LUTF_SUITES=${LUTF_SUITES:-''}"), "{s}");
    }

    #[test]
    fn refuses_a_newline_in_a_path() {
        assert!(matches!(
            render(Path::new("/a\nb"), None),
            Err(HookError::BadPath(_))
        ));
    }
}
