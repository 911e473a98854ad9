//! Secrets on the master: which environment variables hold them (`--secret-env NAME`,
//! `LUTF_SECRET_ENV`), reading their values from lutf's own environment, and the
//! process-wide [`Redactor`] that everything lutf writes goes through.
//!
//! A secret's value is never taken from the command line (where `ps` and shell history
//! would see it): only its name is. The value goes to the nodes inside requests
//! (`ctx.secrets`, `ExecArgs::secret_env`), and the helper replaces it by `[secret NAME]`
//! in everything it sends back. The master redacts as well, in case a value reaches it
//! some other way: step records as they are made (see the sequencer), every results file
//! as it is written ([`crate::results::write_atomic`]), stderr ([`crate::reporter::eprint`],
//! which tracing's log lines go through too), `lutf exec`'s output and lutf's own error
//! messages. Requests themselves are never logged (their `Debug` shows `Secret(***)`).

use std::collections::BTreeMap;
use std::sync::{Arc, RwLock};

use crate::outcome::{RunOutcome, StepRecord, TestOutcome};
use crate::protocol::{Redactor, Secret};

/// The environment variable naming more secret variables (spaces or commas between
/// names): how auster runs, which take no lutf options, supply them.
pub const SECRET_ENV_VAR: &str = "LUTF_SECRET_ENV";

/// Why the secrets could not be read.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum SecretError {
    /// A name that cannot be an environment variable.
    #[error(
        "secret {name:?} ({from}): not a variable name (letters, digits and `_`, not starting \
         with a digit)"
    )]
    BadName {
        /// The name as given.
        name: String,
        /// Where it was given (`--secret-env` or `LUTF_SECRET_ENV`).
        from: &'static str,
    },
    /// The variable is not set in lutf's environment.
    #[error(
        "secret {name} ({from}): the environment variable {name} is not set; export it \
         before running lutf (its value is read from lutf's environment, never from the \
         command line)"
    )]
    Missing {
        /// The variable.
        name: String,
        /// Where it was named.
        from: &'static str,
    },
}

/// The names given on the command line (repeatable, each a comma list) and in
/// [`SECRET_ENV_VAR`] (`env_list`, spaces or commas), each with where it came from, in
/// order, without repeats.
pub fn names(cli: &[String], env_list: Option<&str>) -> Vec<(String, &'static str)> {
    let mut out: Vec<(String, &'static str)> = Vec::new();
    let from_cli = cli.iter().flat_map(|s| s.split(','));
    let from_env = env_list
        .unwrap_or_default()
        .split(|c: char| c == ',' || c.is_whitespace());
    for (name, from) in from_cli
        .map(|n| (n, "--secret-env"))
        .chain(from_env.map(|n| (n, SECRET_ENV_VAR)))
    {
        let name = name.trim();
        if !name.is_empty() && !out.iter().any(|(n, _)| n == name) {
            out.push((name.to_string(), from));
        }
    }
    out
}

/// Whether `name` is a portable environment variable name.
fn valid_name(name: &str) -> bool {
    let mut chars = name.chars();
    chars
        .next()
        .is_some_and(|c| c.is_ascii_alphabetic() || c == '_')
        && chars.all(|c| c.is_ascii_alphanumeric() || c == '_')
}

/// Reads the secrets named by `cli` (`--secret-env`) and by `$LUTF_SECRET_ENV` from this
/// process's environment. A name not set is an error naming it; an empty value is a secret
/// too (there is nothing of it to redact).
pub fn from_env(cli: &[String]) -> Result<BTreeMap<String, Secret>, SecretError> {
    let list = std::env::var(SECRET_ENV_VAR).ok();
    lookup(&names(cli, list.as_deref()), |n| std::env::var_os(n))
}

/// [`from_env`] with the names already listed and the environment given as `get`.
pub fn lookup(
    names: &[(String, &'static str)],
    get: impl Fn(&str) -> Option<std::ffi::OsString>,
) -> Result<BTreeMap<String, Secret>, SecretError> {
    use std::os::unix::ffi::OsStringExt;
    let mut out = BTreeMap::new();
    for (name, from) in names {
        if !valid_name(name) {
            return Err(SecretError::BadName {
                name: name.clone(),
                from,
            });
        }
        let value = get(name).ok_or_else(|| SecretError::Missing {
            name: name.clone(),
            from,
        })?;
        out.insert(name.clone(), Secret::from(value.into_vec()));
    }
    Ok(out)
}

/// Every secret installed so far, and the redactor made of them that every output of this
/// process goes through (none until [`install`]).
static INSTALLED: RwLock<Installed> = RwLock::new(Installed {
    all: BTreeMap::new(),
    redactor: None,
});

struct Installed {
    all: BTreeMap<String, Secret>,
    redactor: Option<Arc<Redactor>>,
}

/// Secrets shorter than this get a warning: redaction replaces every occurrence of their
/// bytes, wherever they appear, so a short one blanks out ordinary words too.
pub const SHORT_SECRET_BYTES: usize = 8;

/// The warning for a secret of `len` bytes, when it is short enough to need one.
pub fn short_warning(name: &str, len: usize) -> Option<String> {
    (len > 0 && len < SHORT_SECRET_BYTES).then(|| {
        format!(
            "lutf: warning: secret {name} is only {len} bytes long: every occurrence of those \
             bytes in what lutf and the steps show or write will read [secret {name}], even \
             where they were not the secret"
        )
    })
}

/// Makes `secrets` redacted from everything this process writes from now on (in addition
/// to those installed before); warns about short ones ([`short_warning`]).
pub fn install(secrets: &BTreeMap<String, Secret>) {
    for (name, secret) in secrets {
        if let Some(w) = short_warning(name, secret.0.len()) {
            crate::reporter::eprintln(&w);
        }
    }
    if secrets.values().all(|s| s.0.is_empty()) {
        return;
    }
    let mut installed = INSTALLED.write().unwrap_or_else(|e| e.into_inner());
    installed
        .all
        .extend(secrets.iter().map(|(k, v)| (k.clone(), v.clone())));
    installed.redactor = Some(Arc::new(Redactor::new(installed.all.iter())));
}

/// The process-wide redactor, when a secret is installed.
fn redactor() -> Option<Arc<Redactor>> {
    INSTALLED
        .read()
        .unwrap_or_else(|e| e.into_inner())
        .redactor
        .clone()
}

/// `text` with every installed secret replaced by `[secret NAME]`.
pub fn text(text: &str) -> std::borrow::Cow<'_, str> {
    match redactor() {
        Some(r) => std::borrow::Cow::Owned(r.text(text)),
        None => std::borrow::Cow::Borrowed(text),
    }
}

/// `data` with every installed secret replaced by `[secret NAME]`.
pub fn bytes(data: &[u8]) -> std::borrow::Cow<'_, [u8]> {
    match redactor() {
        Some(r) => std::borrow::Cow::Owned(r.bytes(data)),
        None => std::borrow::Cow::Borrowed(data),
    }
}

/// Redacts a step record in place: failure message and traceback, value, log.
pub fn redact_record(r: &Redactor, record: &mut StepRecord) {
    if r.is_empty() {
        return;
    }
    if let Some(f) = &mut record.failure {
        f.message = r.text(&f.message);
        if let Some(t) = &mut f.traceback {
            *t = r.text(t);
        }
    }
    if let Some(v) = &mut record.value {
        r.json(v);
    }
    if let Some(l) = &mut record.large_value {
        l.head = r.text(&l.head);
        l.tail = r.text(&l.tail);
    }
    r.captured(&mut record.log);
}

/// Redacts a test's outcome in place: its error and every step.
pub fn redact_test(r: &Redactor, test: &mut TestOutcome) {
    if r.is_empty() {
        return;
    }
    test.error = r.text(&test.error);
    for s in &mut test.steps {
        redact_record(r, s);
    }
}

/// Redacts a whole run in place: every test, and the nodes' errors.
pub fn redact_run(r: &Redactor, run: &mut RunOutcome) {
    if r.is_empty() {
        return;
    }
    for t in run.suites.iter_mut().flat_map(|s| s.tests.iter_mut()) {
        redact_test(r, t);
    }
    for n in run.nodes.values_mut() {
        if let Some(e) = &mut n.error {
            *e = r.text(e);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn short_secrets_are_warned_about_and_long_ones_not() {
        let w = short_warning("TOKEN", 3).unwrap();
        assert!(w.contains("secret TOKEN is only 3 bytes long"), "{w}");
        assert_eq!(short_warning("TOKEN", 0), None);
        assert_eq!(short_warning("TOKEN", SHORT_SECRET_BYTES), None);
        assert!(short_warning("TOKEN", SHORT_SECRET_BYTES - 1).is_some());
    }
    use std::ffi::OsString;

    fn env(pairs: &[(&str, &str)]) -> impl Fn(&str) -> Option<OsString> {
        let map: BTreeMap<String, OsString> = pairs
            .iter()
            .map(|(k, v)| (k.to_string(), OsString::from(v)))
            .collect();
        move |n| map.get(n).cloned()
    }

    #[test]
    fn names_come_from_the_options_and_the_variable_without_repeats() {
        let cli = ["A,B".to_string(), "C".to_string(), "A".to_string()];
        let got = names(&cli, Some(" D, B\tE  "));
        let list: Vec<(&str, &str)> = got.iter().map(|(n, f)| (n.as_str(), *f)).collect();
        assert_eq!(
            list,
            [
                ("A", "--secret-env"),
                ("B", "--secret-env"),
                ("C", "--secret-env"),
                ("D", SECRET_ENV_VAR),
                ("E", SECRET_ENV_VAR)
            ]
        );
        assert!(names(&[], None).is_empty());
        assert!(names(&[",".into()], Some("  ")).is_empty());
    }

    #[test]
    fn values_come_from_the_environment_and_a_missing_one_is_named() {
        let got = lookup(
            &names(&["TOKEN".into()], Some("EMPTY")),
            env(&[("TOKEN", "s3cr3t $(x)\n"), ("EMPTY", "")]),
        )
        .unwrap();
        assert_eq!(got["TOKEN"].0.as_slice(), b"s3cr3t $(x)\n");
        assert_eq!(got["EMPTY"].0.as_slice(), b"");

        let e = lookup(&names(&["TOKEN".into()], None), env(&[])).unwrap_err();
        assert_eq!(
            e,
            SecretError::Missing {
                name: "TOKEN".into(),
                from: "--secret-env"
            }
        );
        assert!(e.to_string().contains("TOKEN is not set"), "{e}");
        let e = lookup(&names(&[], Some("GONE")), env(&[])).unwrap_err();
        assert!(e.to_string().contains("(LUTF_SECRET_ENV)"), "{e}");
        for bad in ["1X", "A-B", "A=B", "É"] {
            let e = lookup(&names(&[bad.into()], None), env(&[])).unwrap_err();
            assert!(matches!(e, SecretError::BadName { .. }), "{bad}: {e}");
        }
    }

    #[test]
    fn a_run_is_redacted_everywhere_it_can_hold_text() {
        let mut run: RunOutcome = serde_json::from_value(serde_json::json!({
            "id": "r", "started": "", "finished": "", "duration": 0.0, "testhost": "h",
            "user": "u", "cluster": "local",
            "nodes": {"n1": {"name": "n1", "hostname": "n1", "error": "lost: pw=hunter2"}},
            "suites": [{"name": "s", "started": "", "duration": 0.0, "tests": [{
                "suite": "s", "id": "01", "description": "d", "status": "FAIL",
                "error": "step a: hunter2", "return_code": 1, "started": "", "duration": 0.0,
                "binding": {}, "steps": [{
                    "name": "a", "role": "r", "node": "n1", "start": 0.0, "duration": 0.0,
                    "status": "FAIL",
                    "failure": {"kind": "exception", "message": "m hunter2",
                                "traceback": "t hunter2"},
                    "value": {"hunter2": ["hunter2"]},
                    "log": {"data": "out hunter2\n"}
                }]
            }]}]
        }))
        .unwrap();
        let secrets: BTreeMap<String, Secret> = [("PW".to_string(), "hunter2".into())].into();
        redact_run(&Redactor::new(&secrets), &mut run);
        let text = serde_json::to_string(&run).unwrap();
        assert!(!text.contains("hunter2"), "{text}");
        assert_eq!(text.matches("[secret PW]").count(), 7, "{text}");
    }

    #[test]
    fn installed_secrets_are_blanked_out_of_results_files_and_stderr_text() {
        // A value no other test writes: the redactor is process-wide.
        let value = format!(
            "unit-secret-{}-{:?}",
            std::process::id(),
            std::time::Instant::now()
        );
        install(&[("LUTF_UNIT_SECRET".to_string(), Secret::from(value.as_str()))].into());
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("f.txt");
        crate::results::write_atomic(&path, format!("a {value} b").as_bytes()).unwrap();
        assert_eq!(
            std::fs::read_to_string(&path).unwrap(),
            "a [secret LUTF_UNIT_SECRET] b"
        );
        assert_eq!(text(&format!("x{value}")), "x[secret LUTF_UNIT_SECRET]");
        assert_eq!(&*bytes(b"nothing"), b"nothing");
    }
}
