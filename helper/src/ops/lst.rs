//! `lst`: one step of an lnet_selftest session, run with the node's `lst`.
//!
//! `lst` ties its commands to a session through the `LST_SESSION` environment variable (a
//! number, the session key). Each helper call is a new process, so `new_session` picks a
//! key and keeps it in the work directory (`lst-session`); every later action runs with
//! it, and `end_session` forgets it. A caller driving a session started by hand passes
//! its key instead.

use std::path::{Path, PathBuf};
use std::time::Duration;

use lutf_lnet::lst;
use lutf_protocol::lnet::DEFAULT_TOOL_TIMEOUT;
use lutf_protocol::{
    lnet::{BrwCheck, BrwMode, LstTest},
    ErrorKind, ErrorReply, LnetFailure, LstAction, LstArgs, LstResult,
};
use serde_yaml::Value;

use super::lnetctl::{run_tool, timed_out, ToolRun};
use crate::Env;

/// The file in the work directory that keeps the session key.
pub const SESSION_FILE: &str = "lst-session";

fn session_file(env: &Env) -> PathBuf {
    env.workdir.join(SESSION_FILE)
}

/// The key kept by `new_session`, if any.
fn kept_key(env: &Env) -> Option<u32> {
    std::fs::read_to_string(session_file(env))
        .ok()?
        .trim()
        .parse()
        .ok()
        .filter(|k| *k != 0)
}

/// A new session key: any non-zero number lst accepts (a positive `int`), different from
/// one call to the next.
fn new_key() -> u32 {
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.subsec_nanos())
        .unwrap_or_default();
    let key = (std::process::id().wrapping_mul(2_654_435_761) ^ nanos) & 0x7fff_ffff;
    key.max(1)
}

/// The argument list after `lst` for `action`.
fn argv(action: &LstAction) -> Vec<String> {
    let s = |x: &str| x.to_owned();
    match action {
        LstAction::NewSession {
            name,
            session_timeout,
            force,
        } => {
            let mut a = vec![s("new_session")];
            if let Some(t) = session_timeout {
                a.extend([s("--timeout"), t.to_string()]);
            }
            if *force {
                a.push(s("--force"));
            }
            a.extend(name.clone());
            a
        }
        LstAction::EndSession {} => vec![s("end_session")],
        LstAction::AddGroup { name, nids } => {
            let mut a = vec![s("add_group"), name.clone()];
            a.extend(nids.iter().cloned());
            a
        }
        LstAction::AddBatch { name } => vec![s("add_batch"), name.clone()],
        LstAction::AddTest {
            batch,
            from,
            to,
            test,
            mode,
            size,
            check,
            concurrency,
            distribute,
            loops,
        } => {
            let mut a = vec![s("add_test"), s("--batch"), batch.clone()];
            if let Some(c) = concurrency {
                a.extend([s("--concurrency"), c.to_string()]);
            }
            if let Some(d) = distribute {
                a.extend([s("--distribute"), d.clone()]);
            }
            if let Some(l) = loops {
                a.extend([s("--loop"), l.to_string()]);
            }
            a.extend([s("--from"), from.clone(), s("--to"), to.clone()]);
            match test {
                LstTest::Ping => a.push(s("ping")),
                LstTest::Brw => {
                    a.push(s("brw"));
                    a.push(s(match mode {
                        Some(BrwMode::Read) => "read",
                        _ => "write",
                    }));
                    if let Some(c) = check {
                        a.push(format!(
                            "check={}",
                            match c {
                                BrwCheck::Simple => "simple",
                                BrwCheck::Full => "full",
                            }
                        ));
                    }
                    if let Some(sz) = size {
                        a.push(format!("size={sz}"));
                    }
                }
            }
            a
        }
        LstAction::Run { batch } => vec![s("run"), batch.clone()],
        LstAction::Stop { batch } => vec![s("stop"), batch.clone()],
        LstAction::Stat {
            groups,
            count,
            delay,
        } => {
            let mut a = vec![
                s("stat"),
                s("--count"),
                count.to_string(),
                s("--delay"),
                delay.to_string(),
            ];
            a.extend(groups.iter().cloned());
            a
        }
        LstAction::ShowError { groups } => {
            let mut a = vec![s("show_error")];
            a.extend(groups.iter().cloned());
            a
        }
        LstAction::Command { argv } => argv.clone(),
    }
}

/// Fails with "lnet_selftest is not loaded" unless its module is there under `root`.
fn check_selftest_loaded(root: &Path, host: &str) -> Result<(), ErrorReply> {
    let module = root.join("sys/module/lnet_selftest");
    if module.exists() {
        return Ok(());
    }
    Err(ErrorReply::new(
        ErrorKind::LnetNotLoaded,
        format!(
            "lnet_selftest is not loaded on {host}: {} does not exist (load it with \
             `modprobe lnet_selftest`)",
            module.display()
        ),
    ))
}

/// Runs one action; answers what lst printed, read.
pub fn lst(env: &Env, args: &LstArgs) -> Result<LstResult, ErrorReply> {
    let host = super::hostname();
    // No lst at all says more than a module that is not loaded.
    super::lnetctl::find_tool("lst")?;
    check_selftest_loaded(&crate::lnet::root(), &host)?;
    let new_session = matches!(args.action, LstAction::NewSession { .. });
    let key = match (args.session, new_session) {
        (Some(k), _) => k,
        (None, true) => new_key(),
        (None, false) => kept_key(env).ok_or_else(|| {
            ErrorReply::new(
                ErrorKind::BadArgs,
                format!(
                    "no lnet_selftest session on {host}: start one with the new_session action \
                     (or pass the key of a session started by hand as `session`)"
                ),
            )
        })?,
    };
    // lst stat prints a round every `delay` seconds: give it time for all of them.
    let own = match &args.action {
        LstAction::Stat { count, delay, .. } => {
            f64::from(*count) * f64::from(*delay) + DEFAULT_TOOL_TIMEOUT
        }
        _ => DEFAULT_TOOL_TIMEOUT,
    };
    let timeout = Duration::from_secs_f64(args.timeout.unwrap_or(own));
    let vars = vec![("LST_SESSION".into(), key.to_string().into())];
    let run = run_tool(env, "lst", &argv(&args.action), vars, None, timeout)?;
    if matches!(args.action, LstAction::EndSession {}) {
        // Whatever lst said, the kept key is of no use any more.
        let _ = std::fs::remove_file(session_file(env));
    }
    if run.timed_out {
        return Err(timed_out(&run, timeout));
    }
    if run.exit_code != 0 {
        return Err(failure(&run, &host, None));
    }
    let result = read(&args.action, &run.text).map_err(|e| failure(&run, &host, Some(e)))?;
    if new_session && args.session.is_none() {
        crate::workdir::ensure_private(&env.workdir)?;
        crate::workdir::write_atomic(&session_file(env), format!("{key}\n").as_bytes()).map_err(
            |e| {
                ErrorReply::new(
                    ErrorKind::Io,
                    format!(
                        "the lst session started but its key cannot be kept in {}: {e}",
                        session_file(env).display()
                    ),
                )
            },
        )?;
    }
    Ok(LstResult {
        command: run.command,
        session: key,
        text: run.text,
        result,
    })
}

/// What the action's output says, read with lutf-lnet's parsers.
fn read(action: &LstAction, text: &str) -> Result<Value, lst::LstError> {
    let value = |v: Result<Value, serde_yaml::Error>| v.unwrap_or(Value::Null);
    Ok(match action {
        LstAction::NewSession { .. } => value(serde_yaml::to_value(lst::parse_new_session(text)?)),
        LstAction::EndSession {} => {
            lst::parse_silent("end_session", text)?;
            Value::Null
        }
        LstAction::AddGroup { .. } => value(serde_yaml::to_value(lst::parse_add_group(text)?)),
        LstAction::AddBatch { .. } => {
            lst::parse_silent("add_batch", text)?;
            Value::Null
        }
        LstAction::AddTest { .. } => {
            lst::parse_add_test(text)?;
            Value::Null
        }
        LstAction::Run { .. } => Value::String(lst::parse_run(text)?),
        LstAction::Stop { .. } => {
            lst::parse_stop(text)?;
            Value::Null
        }
        LstAction::Stat { .. } => value(serde_yaml::to_value(lst::parse_stat(text)?)),
        LstAction::ShowError { .. } => {
            let counts: std::collections::BTreeMap<String, u64> =
                lst::parse_show_error(text)?.into_iter().collect();
            value(serde_yaml::to_value(counts))
        }
        LstAction::Command { .. } => Value::Null,
    })
}

/// The error for an lst that failed, or printed something else than success.
fn failure(run: &ToolRun, host: &str, unexpected: Option<lst::LstError>) -> ErrorReply {
    let description = match &unexpected {
        Some(e) => e.reason.clone(),
        None => run
            .text
            .lines()
            .rev()
            .map(str::trim)
            .find(|l| !l.is_empty())
            .unwrap_or("no output")
            .to_owned(),
    };
    ErrorReply::lnet(
        format!(
            "`{}` failed on {host}: {description} (exit {})",
            run.shown(),
            run.exit_code
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn add_test_spells_lst_options() {
        let a = argv(&LstAction::AddTest {
            batch: "bulk_rw".into(),
            from: "clients".into(),
            to: "servers".into(),
            test: LstTest::Brw,
            mode: Some(BrwMode::Write),
            size: Some("1M".into()),
            check: Some(BrwCheck::Simple),
            concurrency: Some(8),
            distribute: None,
            loops: None,
        });
        assert_eq!(
            a.join(" "),
            "add_test --batch bulk_rw --concurrency 8 --from clients --to servers brw write check=simple size=1M"
        );
        let a = argv(&LstAction::Stat {
            groups: vec!["clients".into(), "servers".into()],
            count: 2,
            delay: 1,
        });
        assert_eq!(a.join(" "), "stat --count 2 --delay 1 clients servers");
    }

    #[test]
    fn keys_are_positive_ints() {
        for _ in 0..100 {
            let k = new_key();
            assert!(k > 0 && k <= i32::MAX as u32, "{k}");
        }
    }
}
