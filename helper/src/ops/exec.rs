//! `exec`: run a command to its end and answer with its exit, duration and output.

use std::ffi::OsString;
use std::os::unix::ffi::OsStringExt;
use std::path::Path;
use std::time::Duration;

use lutf_protocol::{
    Bytes, ErrorKind, ErrorReply, ExecArgs, ExecResult, Redactor, DEFAULT_OUTPUT_LIMIT,
};

use crate::process::{self, CommandSpec, Limits, Output};
use crate::Env;

/// From SIGTERM to SIGKILL when a command's timeout expires.
pub const GRACE: Duration = Duration::from_secs(1);

fn bad(message: String) -> ErrorReply {
    ErrorReply::new(ErrorKind::BadArgs, message)
}

fn os(b: &Bytes, what: &str) -> Result<OsString, ErrorReply> {
    if b.as_slice().contains(&0) {
        return Err(bad(format!(
            "{what} contains a NUL byte, which no command can receive"
        )));
    }
    Ok(OsString::from_vec(b.as_slice().to_vec()))
}

/// The command `args` describe, run in `args.cwd` or else `default_cwd`.
pub fn command_spec(args: &ExecArgs, default_cwd: &Path) -> Result<CommandSpec, ErrorReply> {
    let argv = args
        .argv
        .iter()
        .enumerate()
        .map(|(i, a)| os(a, &format!("argv[{i}]")))
        .collect::<Result<Vec<_>, _>>()?;
    if argv.is_empty() {
        return Err(bad("`argv` must not be empty".into()));
    }
    let mut env = Vec::new();
    let secrets = args.secret_env.iter().map(|(k, v)| (k, &v.0));
    for (k, v) in args.env.iter().chain(secrets) {
        if k.is_empty() || k.contains('=') || k.contains('\0') {
            return Err(bad(format!(
                "environment variable name {k:?} is not valid (empty, or contains `=` or NUL)"
            )));
        }
        // The value is not named: it may be a secret.
        env.push((OsString::from(k), os(v, &format!("env {k}"))?));
    }
    let cwd = match &args.cwd {
        Some(c) if c.contains('\0') => return Err(bad("`cwd` contains a NUL byte".into())),
        Some(c) => c.into(),
        None => default_cwd.to_path_buf(),
    };
    Ok(CommandSpec {
        argv,
        shell: args.shell,
        env,
        clear_env: args.clear_env,
        cwd,
        stdin: args.stdin.as_ref().map(|s| s.0.clone()).unwrap_or_default(),
    })
}

/// The timeout of `args` as limits.
pub fn limits(args: &ExecArgs) -> Limits {
    Limits {
        timeout: args.timeout.map(Duration::from_secs_f64),
        grace: GRACE,
        dump: None,
    }
}

/// Runs the command.
pub fn exec(env: &Env, args: &ExecArgs) -> Result<ExecResult, ErrorReply> {
    let spec = command_spec(args, &env.workdir)?;
    if args.cwd.is_none() {
        crate::workdir::ensure_private(&env.workdir)?;
    }
    let limit = args.output_limit.unwrap_or(DEFAULT_OUTPUT_LIMIT);
    let f = process::run(&spec, Output::Separate { limit }, limits(args), |_| {})?;
    let mut r = ExecResult {
        exit: f.exit,
        timed_out: f.timed_out,
        duration: f.duration,
        stdout: f.stdout,
        stderr: f.stderr,
    };
    let secrets = Redactor::new(&args.secret_env);
    secrets.captured(&mut r.stdout);
    secrets.captured(&mut r.stderr);
    Ok(r)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn nul_bytes_and_bad_env_names_are_refused() {
        let args = ExecArgs {
            argv: vec![Bytes(b"a\0b".to_vec())],
            ..Default::default()
        };
        let e = command_spec(&args, Path::new("/")).unwrap_err();
        assert_eq!(e.kind, ErrorKind::BadArgs);
        let mut args = ExecArgs {
            argv: vec!["true".into()],
            ..Default::default()
        };
        args.env.insert("A=B".into(), "x".into());
        assert!(command_spec(&args, Path::new("/")).is_err());
    }

    #[test]
    fn exec_reports_output_env_and_cwd() {
        let dir = tempfile::tempdir().unwrap();
        let env = Env {
            workdir: dir.path().join("w"),
            bundle_dir: dir.path().into(),
            expect_bundle: None,
        };
        let mut args = ExecArgs {
            argv: vec!["echo \"$X\" \"$1\"; pwd; exit 4".into(), "arg1".into()],
            shell: true,
            clear_env: true,
            ..Default::default()
        };
        args.env.insert("X".into(), "x-value".into());
        let r = exec(&env, &args).unwrap();
        assert_eq!(r.exit.code, Some(4));
        let out = r.stdout.data.to_string_lossy();
        let real = std::fs::canonicalize(&env.workdir).unwrap();
        assert_eq!(out, format!("x-value arg1\n{}\n", real.display()));
    }
}
