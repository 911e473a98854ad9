//! `lutf-helper`: the one-shot helper lutf pushes to every test node.
//!
//! One call is one process: read one YAML request on stdin, do one thing, write one YAML
//! reply on stdout, exit. Nothing stays resident except background jobs the master asked
//! for (`spawn`), whose state lives in the work directory. The exit codes are
//! `lutf_protocol::exit`; it never exits 255, which ssh keeps for its own failures.
//!
//! Usage: `lutf-helper [--workdir DIR] [--json] [--bundle HASH] < request.yml`
//! (`--json`: the reply as JSON, for callers without a YAML parser, like `lutf.lnet`; the
//! request may be JSON either way, JSON being YAML.)
//! (`--bundle HASH`: first check that the bundle this binary runs from is `HASH`, intact
//! (see [`installed`]); exit `exit::BUNDLE` without reading the request when it is not.)
//! (`lutf-helper --workdir DIR --supervise JOBDIR` is how `spawn` runs a job's supervisor.)

mod capture;
mod companion;
mod installed;
mod jobs;
mod lnet;
mod netif;
mod ops;
mod pgroup;
mod process;
mod python;
mod reaper;
mod spare;
mod step;
mod supervise;
mod workdir;

use std::io::{Read, Write};
use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, Ordering};

use lutf_protocol::{ErrorKind, ErrorReply, Reply, Request, MAX_REQUEST_BYTES};

/// Whether replies are written as JSON (`--json`) instead of YAML.
static JSON_REPLIES: AtomicBool = AtomicBool::new(false);

/// Where the helper keeps state and finds its bundle.
pub struct Env {
    /// The work directory (`--workdir`, default `/tmp/lutf-<uid>`): background jobs live here.
    pub workdir: PathBuf,
    /// The folder this binary is in: the bundle, with `python/` and `suites/` beside it.
    pub bundle_dir: PathBuf,
    /// `--bundle HASH`: the bundle the master means, checked before serving.
    pub expect_bundle: Option<String>,
}

fn main() {
    let code = match parse_args() {
        Ok((env, Some(Background::Job(dir)))) => supervise::supervise(&env, &dir),
        Ok((env, Some(Background::Spare(dir, name)))) => spare::serve(&env, &dir, &name),
        Ok((env, None)) => match &env.expect_bundle {
            Some(hash) => match installed::check(&env.workdir, &env.bundle_dir, hash) {
                Ok(()) => serve(&env),
                Err(why) => {
                    eprintln!(
                        "lutf-helper: bundle {hash} at {}: {why}",
                        env.bundle_dir.display()
                    );
                    lutf_protocol::exit::BUNDLE
                }
            },
            None => serve(&env),
        },
        Err(message) => {
            write_reply(&Reply::<()>::error(ErrorReply::new(
                ErrorKind::BadArgs,
                message,
            )));
            lutf_protocol::exit::BAD_REQUEST
        }
    };
    std::process::exit(code);
}

/// What a helper started in the background is for.
enum Background {
    /// `--supervise JOBDIR`: a job's supervisor.
    Job(PathBuf),
    /// `--spare DIR NAME`: a spare runner's supervisor (see [`spare`]).
    Spare(PathBuf, String),
}

/// The environment, and what to do in the background when asked.
fn parse_args() -> Result<(Env, Option<Background>), String> {
    let mut args = std::env::args_os().skip(1);
    let mut workdir = None;
    let mut supervise = None;
    let mut expect_bundle = None;
    while let Some(a) = args.next() {
        match a.to_str() {
            Some("--workdir") => {
                workdir = Some(PathBuf::from(args.next().ok_or("--workdir needs a value")?))
            }
            Some("--supervise") => {
                supervise = Some(Background::Job(PathBuf::from(
                    args.next().ok_or("--supervise needs a job folder")?,
                )))
            }
            Some("--spare") => {
                let dir = args.next().ok_or("--spare needs a folder")?;
                let name = args.next().ok_or("--spare needs a name")?;
                supervise = Some(Background::Spare(
                    PathBuf::from(dir),
                    name.to_string_lossy().into_owned(),
                ))
            }
            Some("--json") => JSON_REPLIES.store(true, Ordering::Relaxed),
            Some("--bundle") => {
                let hash = args.next().ok_or("--bundle needs a hash")?;
                expect_bundle = Some(hash.to_string_lossy().into_owned());
            }
            Some("--version") => {
                println!("lutf-helper {}", env!("CARGO_PKG_VERSION"));
                std::process::exit(0);
            }
            _ => {
                return Err(format!(
                "unknown argument {a:?}; usage: lutf-helper [--workdir DIR] [--json] [--bundle HASH] < request.yml"
            ))
            }
        }
    }
    // SAFETY: getuid has no preconditions and cannot fail. No NSS: the uid number is enough.
    let workdir = workdir
        .unwrap_or_else(|| PathBuf::from(format!("/tmp/lutf-{}", unsafe { libc::getuid() })));
    let bundle_dir = std::env::current_exe()
        .ok()
        .and_then(|p| p.parent().map(PathBuf::from))
        .unwrap_or_else(|| PathBuf::from("."));
    Ok((
        Env {
            workdir,
            bundle_dir,
            expect_bundle,
        },
        supervise,
    ))
}

/// Reads, runs and answers one request; returns the exit code.
fn serve(env: &Env) -> i32 {
    // Whatever a command starts ends with it, even if it left its process group.
    reaper::adopt_orphans();
    let mut input = Vec::new();
    // Read one byte past the limit so an oversized request is told apart from a full one.
    let read = std::io::stdin()
        .lock()
        .take(MAX_REQUEST_BYTES as u64 + 1)
        .read_to_end(&mut input);
    if let Err(e) = read {
        return fail(ErrorReply::new(
            ErrorKind::Io,
            format!("cannot read stdin: {e}"),
        ));
    }
    let request = match Request::parse(&input) {
        Ok(r) => r,
        Err(e) => return fail(e),
    };
    drop(input);
    // A panic is a bug, but it still gets a structured reply and a documented exit code.
    match std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| ops::dispatch(env, request))) {
        // Encoded here, not in write_reply: a value serde_yaml cannot write (one read from
        // a command's YAML output, say) must be an error reply, not a panic.
        Ok(Ok(value)) => match encode(&Reply::ok(value)) {
            Ok(text) => {
                write_text(&text);
                lutf_protocol::exit::OK
            }
            Err(e) => fail(ErrorReply::new(
                ErrorKind::Internal,
                format!("lutf-helper bug: cannot encode the reply: {e}"),
            )),
        },
        Ok(Err(e)) => fail(e),
        Err(panic) => {
            let what = panic
                .downcast_ref::<&str>()
                .map(|s| s.to_string())
                .or_else(|| panic.downcast_ref::<String>().cloned())
                .unwrap_or_else(|| "unknown panic".into());
            fail(ErrorReply::new(
                ErrorKind::Internal,
                format!("lutf-helper bug: {what}"),
            ))
        }
    }
}

fn fail(e: ErrorReply) -> i32 {
    let code = e.kind.exit_code();
    write_reply(&Reply::<()>::error(e));
    code
}

/// Writes a reply that always serialises (an error, or a result already checked).
fn write_reply<T: serde::Serialize>(reply: &Reply<T>) {
    let text = if JSON_REPLIES.load(Ordering::Relaxed) {
        // Our types always serialise; a value JSON cannot hold (a non-string key) is a bug
        // reported as such rather than a reply in the other format.
        serde_json::to_string(reply).unwrap_or_else(|e| {
            format!(
                "{{\"version\": {}, \"error\": {{\"kind\": \"internal\", \"message\": {}}}}}",
                lutf_protocol::PROTOCOL_VERSION,
                serde_json::Value::String(format!("lutf-helper bug: reply not JSON: {e}"))
            )
        }) + "\n"
    } else {
        lutf_protocol::to_yaml(reply)
    };
    write_text(&text);
}

/// A reply in the format asked for (`--json`, else YAML), or why it cannot be written.
fn encode<T: serde::Serialize>(reply: &Reply<T>) -> Result<String, String> {
    if JSON_REPLIES.load(Ordering::Relaxed) {
        serde_json::to_string(reply)
            .map(|t| t + "\n")
            .map_err(|e| e.to_string())
    } else {
        lutf_protocol::try_to_yaml(reply).map_err(|e| e.to_string())
    }
}

fn write_text(text: &str) {
    let mut out = std::io::stdout().lock();
    // If the master went away there is nobody to tell; exit with the code anyway.
    let _ = out.write_all(text.as_bytes());
    let _ = out.flush();
}
