//! `lnetctl`: runs the node's `lnetctl` with any arguments and reads the YAML it prints
//! (stdout and stderr together, as lnetctl interleaves results, errors and diagnostics).

use std::time::Duration;

use lutf_lnet::lnetctl::LnetctlOutput;
use lutf_protocol::lnet::{DEFAULT_TOOL_TIMEOUT, TOOLS_VAR};
use lutf_protocol::{ErrorKind, ErrorReply, LnetFailure, LnetctlArgs, LnetctlResult};
use serde_yaml::Value;

use crate::process::{self, CommandSpec, Limits, Output, STANDARD_PATH};
use crate::Env;

/// How much of a tool's output is kept.
pub const OUTPUT_LIMIT: u64 = 16 * 1024 * 1024;

/// From SIGTERM to SIGKILL when a tool outlives its timeout.
const GRACE: Duration = Duration::from_secs(2);

/// Where `lnetctl` and `lst` are looked for: the folders of [`TOOLS_VAR`] when it is set and
/// not empty, else `path` (the helper's `PATH`) then the standard folders, each once.
fn tool_dirs(tools: Option<&str>, path: &str) -> String {
    if let Some(tools) = tools.filter(|t| !t.is_empty()) {
        return tools.to_owned();
    }
    // The node's PATH may lack the sbin folders lnetctl and lst live in.
    let mut dirs: Vec<&str> = Vec::new();
    for dir in path.split(':').chain(STANDARD_PATH.split(':')) {
        if !dir.is_empty() && !dirs.contains(&dir) {
            dirs.push(dir);
        }
    }
    dirs.join(":")
}

/// A Lustre tool found on the node, or the error saying Lustre is not installed.
pub fn find_tool(name: &str) -> Result<std::path::PathBuf, ErrorReply> {
    let path = tool_dirs(
        std::env::var(TOOLS_VAR).ok().as_deref(),
        &std::env::var("PATH").unwrap_or_default(),
    );
    process::find_program(name.as_ref(), path.as_ref()).ok_or_else(|| {
        ErrorReply::new(
            ErrorKind::NoLustre,
            format!(
                "{name} not found: is Lustre installed on {}?",
                crate::ops::hostname()
            ),
        )
        .with_detail(format!("looked in {path}"))
    })
}

/// What a tool run gave.
pub struct ToolRun {
    /// The command, tool first.
    pub command: Vec<String>,
    /// Its exit code (128 + N for signal N).
    pub exit_code: i32,
    /// What it printed, stdout and stderr together.
    pub text: String,
    /// It was killed at its timeout.
    pub timed_out: bool,
}

impl ToolRun {
    /// The command as a shell would show it, for messages.
    pub fn shown(&self) -> String {
        self.command.join(" ")
    }
}

/// Runs `tool` (found with [`find_tool`]) with `args`, `env` and `stdin`, bounded by
/// `timeout`, its output merged.
pub fn run_tool(
    env: &Env,
    tool: &str,
    args: &[String],
    vars: Vec<(std::ffi::OsString, std::ffi::OsString)>,
    stdin: Option<&str>,
    timeout: Duration,
) -> Result<ToolRun, ErrorReply> {
    let exe = find_tool(tool)?;
    let mut argv: Vec<std::ffi::OsString> = vec![exe.into()];
    argv.extend(args.iter().map(Into::into));
    let spec = CommandSpec {
        argv,
        env: vars,
        cwd: env.bundle_dir.clone(),
        stdin: stdin.map(|s| s.as_bytes().to_vec()).unwrap_or_default(),
        ..Default::default()
    };
    let f = process::run(
        &spec,
        Output::Merged {
            limit: OUTPUT_LIMIT,
        },
        Limits {
            timeout: Some(timeout),
            grace: GRACE,
            dump: None,
        },
        |_| {},
    )?;
    let mut command = vec![tool.to_owned()];
    command.extend(args.iter().cloned());
    Ok(ToolRun {
        command,
        exit_code: f.exit.shell_code(),
        text: f.stdout.data.to_string_lossy(),
        timed_out: f.timed_out,
    })
}

/// The error for a tool that ran out of time.
pub fn timed_out(run: &ToolRun, timeout: Duration) -> ErrorReply {
    let description = format!(
        "did not finish within {} s and was stopped",
        timeout.as_secs_f64()
    );
    ErrorReply::lnet(
        format!(
            "`{}` {description} on {}",
            run.shown(),
            crate::ops::hostname()
        ),
        LnetFailure {
            description,
            op: run.shown(),
            rc: Some(i64::from(run.exit_code)),
            ..Default::default()
        },
    )
    .with_detail(run.text.clone())
}

/// Runs lnetctl; answers its output parsed, or (with `check`) its failure as an error.
pub fn lnetctl(env: &Env, args: &LnetctlArgs) -> Result<LnetctlResult, ErrorReply> {
    let timeout = Duration::from_secs_f64(args.timeout.unwrap_or(DEFAULT_TOOL_TIMEOUT));
    let run = run_tool(
        env,
        "lnetctl",
        &args.argv,
        Vec::new(),
        args.stdin.as_deref(),
        timeout,
    )?;
    if run.timed_out {
        return Err(timed_out(&run, timeout));
    }
    let parsed = LnetctlOutput::parse(&run.text);
    let failed = run.exit_code != 0;
    if failed && args.check {
        return Err(failure(&run, parsed.ok().as_ref()));
    }
    let out = parsed.map_err(|e| {
        ErrorReply::lnet(
            format!(
                "`{}` printed something that is not YAML on {}",
                run.shown(),
                crate::ops::hostname()
            ),
            LnetFailure {
                description: format!("output is not YAML: {}", e.reason),
                op: run.shown(),
                rc: Some(i64::from(run.exit_code)),
                ..Default::default()
            },
        )
        .with_detail(run.text.clone())
    })?;
    Ok(LnetctlResult {
        command: run.command.clone(),
        exit_code: run.exit_code,
        output: out.to_value(),
        errors: out.error_entries(),
        diagnostics: out.diagnostics,
        text: run.text,
    })
}

/// The error for an lnetctl that exited non-zero: "LNet is not loaded" when that is why,
/// else the errno and description of the first error it printed.
fn failure(run: &ToolRun, out: Option<&LnetctlOutput>) -> ErrorReply {
    let host = crate::ops::hostname();
    if let Err(e) = crate::lnet::probe(&host).check_lnet_loaded() {
        return ErrorReply::new(
            ErrorKind::LnetNotLoaded,
            format!("{e} (`{}` exited {})", run.shown(), run.exit_code),
        )
        .with_detail(run.text.clone());
    }
    let first = out.and_then(|o| o.errors().into_iter().next());
    let last_line = run
        .text
        .lines()
        .rev()
        .map(str::trim)
        .find(|l| !l.is_empty())
        .unwrap_or("no output")
        .to_owned();
    let (errno, description, command, entity) = match first {
        Some(e) => (Some(e.errno), e.description, Some(e.command), e.entity),
        None => (None, last_line, None, None),
    };
    let code = match errno {
        Some(n) => format!("errno {n}, exit {}", run.exit_code),
        None => format!("exit {}", run.exit_code),
    };
    ErrorReply::lnet(
        format!("`{}` failed on {host}: {description} ({code})", run.shown()),
        LnetFailure {
            errno,
            description,
            op: run.shown(),
            command,
            entity,
            rc: Some(i64::from(run.exit_code)),
            tree: out.map_or(Value::Null, LnetctlOutput::to_value),
        },
    )
    .with_detail(run.text.clone())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tools_are_looked_for_in_the_override_alone_when_set() {
        assert_eq!(
            tool_dirs(Some("/opt/lustre/utils"), "/usr/bin"),
            "/opt/lustre/utils"
        );
        // Unset or empty: PATH first, then the standard folders it lacks.
        let dirs = tool_dirs(None, "/opt/bin:/usr/bin");
        assert!(
            dirs.starts_with("/opt/bin:/usr/bin:/usr/local/sbin:"),
            "{dirs}"
        );
        assert!(dirs.contains(":/usr/sbin:"), "{dirs}");
        assert_eq!(dirs.matches("/usr/bin").count(), 1, "{dirs}");
        assert_eq!(tool_dirs(Some(""), ""), STANDARD_PATH);
    }
}
