//! [`Secret`]: a value that must reach the node but must never come back in a log or a
//! result, and [`Redactor`], which blanks secrets out of what comes back.
//!
//! Secrets travel in requests only: `ExecArgs::secret_env` (environment variables of the
//! command) and `StepContext::secrets` (`ctx.secrets` in the step). The helper redacts every
//! occurrence of their values — in command output, a step's log, its failure message and
//! traceback, its skip reason and the strings of its value — before it replies, so nothing
//! downstream (the master's logs, results.yml, the test logs, run.json) can hold one.
//! `Debug` on a `Secret` prints `Secret(***)`, so logging a request with `{:?}` is safe;
//! its YAML (the request itself) carries the value, and must not be logged.

use serde::{Deserialize, Serialize};

use crate::{Bytes, Captured, StepOutcome, StepResult, WaitResult};

/// A secret value: on the wire as plain [`Bytes`], never shown by `Debug`.
#[derive(Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(transparent)]
pub struct Secret(pub Bytes);

impl std::fmt::Debug for Secret {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Secret(***)")
    }
}

impl<T: Into<Bytes>> From<T> for Secret {
    fn from(value: T) -> Self {
        Secret(value.into())
    }
}

/// What stands in the place of a secret's value: `[secret NAME]`.
pub fn placeholder(name: &str) -> String {
    format!("[secret {name}]")
}

/// Replaces the values of a set of secrets by their [`placeholder`]s.
#[derive(Debug, Clone, Default)]
pub struct Redactor {
    /// (value, placeholder), longest value first, so that a secret containing another is
    /// replaced whole.
    secrets: Vec<(Vec<u8>, Vec<u8>)>,
}

impl Redactor {
    /// A redactor for `secrets` (name → secret). Empty values are ignored: they cannot
    /// leak anything.
    pub fn new<'a>(secrets: impl IntoIterator<Item = (&'a String, &'a Secret)>) -> Redactor {
        let mut list: Vec<(Vec<u8>, Vec<u8>)> = secrets
            .into_iter()
            .filter(|(_, s)| !s.0.is_empty())
            .map(|(name, s)| (s.0 .0.clone(), placeholder(name).into_bytes()))
            .collect();
        list.sort_by(|a, b| b.0.len().cmp(&a.0.len()).then(a.0.cmp(&b.0)));
        Redactor { secrets: list }
    }

    /// Whether there is nothing to redact.
    pub fn is_empty(&self) -> bool {
        self.secrets.is_empty()
    }

    /// `data` with every secret replaced.
    pub fn bytes(&self, data: &[u8]) -> Vec<u8> {
        let mut out = data.to_vec();
        for (value, placeholder) in &self.secrets {
            if out.len() < value.len() {
                continue;
            }
            let mut replaced = Vec::with_capacity(out.len());
            let mut i = 0;
            while i < out.len() {
                if out[i..].starts_with(value) {
                    replaced.extend_from_slice(placeholder);
                    i += value.len();
                } else {
                    replaced.push(out[i]);
                    i += 1;
                }
            }
            out = replaced;
        }
        out
    }

    /// `text` with every secret replaced (a secret that is not UTF-8 may leave invalid
    /// UTF-8 around it, shown as U+FFFD).
    pub fn text(&self, text: &str) -> String {
        if self.is_empty() {
            return text.to_string();
        }
        String::from_utf8_lossy(&self.bytes(text.as_bytes())).into_owned()
    }

    /// Redacts captured output in place.
    pub fn captured(&self, c: &mut Captured) {
        if !self.is_empty() {
            c.data = Bytes(self.bytes(c.data.as_slice()));
        }
    }

    /// Redacts every string (and object key) of a JSON value in place.
    pub fn json(&self, v: &mut serde_json::Value) {
        if self.is_empty() {
            return;
        }
        match v {
            serde_json::Value::String(s) => *s = self.text(s),
            serde_json::Value::Array(items) => items.iter_mut().for_each(|i| self.json(i)),
            serde_json::Value::Object(map) => {
                let old = std::mem::take(map);
                for (k, mut item) in old {
                    self.json(&mut item);
                    map.insert(self.text(&k), item);
                }
            }
            _ => {}
        }
    }

    /// Redacts a step's outcome in place: its value, failure message and traceback, or
    /// skip reason.
    pub fn outcome(&self, o: &mut StepOutcome) {
        match o {
            StepOutcome::Pass { value } => self.json(value),
            StepOutcome::Fail { failure } => {
                failure.message = self.text(&failure.message);
                if let Some(t) = &mut failure.traceback {
                    *t = self.text(t);
                }
            }
            StepOutcome::Skip { reason } => *reason = self.text(reason),
        }
    }

    /// Redacts a step's result in place: outcome and log.
    pub fn step_result(&self, r: &mut StepResult) {
        self.outcome(&mut r.outcome);
        self.captured(&mut r.log);
    }

    /// Redacts a `wait` answer in place: outputs and the step's result.
    pub fn wait_result(&self, r: &mut WaitResult) {
        self.captured(&mut r.stdout);
        self.captured(&mut r.stderr);
        if let Some(s) = &mut r.step {
            self.step_result(s);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::BTreeMap;

    fn redactor(pairs: &[(&str, &[u8])]) -> Redactor {
        let map: BTreeMap<String, Secret> = pairs
            .iter()
            .map(|(k, v)| (k.to_string(), Secret::from(*v)))
            .collect();
        Redactor::new(&map)
    }

    #[test]
    fn every_occurrence_is_replaced_longest_first() {
        let r = redactor(&[
            ("PW", b"hunter2"),
            ("PW_LONG", b"hunter2hunter2"),
            ("E", b""),
        ]);
        assert_eq!(
            r.text("a hunter2hunter2 b hunter2 c hunter"),
            "a [secret PW_LONG] b [secret PW] c hunter"
        );
        let r = redactor(&[("K", b"\xff\xfe")]);
        assert_eq!(r.bytes(b"x\xff\xfey\xff"), b"x[secret K]y\xff");
        assert!(redactor(&[("E", b"")]).is_empty());
    }

    #[test]
    fn json_strings_and_keys_are_redacted() {
        let r = redactor(&[("T", b"s3cr3t")]);
        let mut v = serde_json::json!({"token": "s3cr3t", "s3cr3t": [1, "x s3cr3t y"]});
        r.json(&mut v);
        assert_eq!(
            v,
            serde_json::json!({"token": "[secret T]", "[secret T]": [1, "x [secret T] y"]})
        );
    }

    #[test]
    fn debug_never_shows_the_value_but_the_wire_does() {
        let s = Secret::from("hunter2");
        assert_eq!(format!("{s:?}"), "Secret(***)");
        assert_eq!(crate::to_yaml(&s).trim(), "hunter2");
        let back: Secret = serde_yaml::from_str("{base64: /w==}").unwrap();
        assert_eq!(back.0.as_slice(), b"\xff");
    }
}
