//! auster's environment, read: [`AusterEnv::from_vars`] reads the variables auster and the
//! hook export (the selection into a [`Filter`], the cfg's hosts into [`Hosts`]). Nothing
//! here runs anything.

use std::collections::BTreeMap;
use std::path::PathBuf;

use super::filter::Filter;
use super::hosts::{expand_hosts, Hosts};

/// The variables this module reads, in the order the hook exports them.
pub const VARIABLES: &[&str] = &[
    "ONLY",
    "EXCEPT",
    "START_AT",
    "STOP_AT",
    "STOP_ON_ERROR",
    "SUITE",
    "PATTERN",
    "SLOW",
    "FAIL_ON_ERROR",
    "HONOR_EXCEPT",
    "LUSTRE",
    "LOGDIR",
    "YAML_LOG",
    "TF_SKIP",
    "TF_FAIL",
    "CONFIG",
    "TESTSUITE",
    "mds_HOST",
    "mgs_HOST",
    "ost_HOST",
    "CLIENTS",
    "RCLIENTS",
    "MDSCOUNT",
    "OSTCOUNT",
    "NETTYPE",
    "PDSH",
];

/// The auster suite name when `TESTSUITE` is not set: the hook for every suite, `lutf.sh`.
pub const DEFAULT_TESTSUITE: &str = "lutf";

/// A variable that cannot be read.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum EnvError {
    /// A count that is not a whole number.
    #[error("{name}={value:?} is not a whole number")]
    NotANumber {
        /// The variable.
        name: String,
        /// Its value.
        value: String,
    },
    /// A switch that is neither true nor false.
    #[error("{name}={value:?} is neither true nor false (use true/false, yes/no, 1/0)")]
    NotABoolean {
        /// The variable.
        name: String,
        /// Its value.
        value: String,
    },
    /// A host list with an unbalanced or malformed `[...]` range.
    #[error("{name}={value:?}: {why}")]
    BadHostList {
        /// The variable.
        name: String,
        /// Its value.
        value: String,
        /// What is wrong.
        why: String,
    },
}

/// Everything `lutf auster` reads from auster's environment.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct AusterEnv {
    /// What to run and what to leave out.
    pub filter: Filter,
    /// `SUITE`: lutf suites to run (every suite when empty).
    pub suites: Vec<String>,
    /// `STOP_ON_ERROR`: stop at the first failed test and exit 111, which stops auster.
    pub stop_on_error: bool,
    /// `LUTF_NO_CLEAN`: do not clean the nodes before each test (`lutf run --no-clean`).
    pub no_clean: bool,
    /// `FAIL_ON_ERROR`: stop the suite at the first failed test (test-framework's
    /// `$FAIL_ON_ERROR && exit`; true unless set to false, as an unset variable is true
    /// there too; auster `-k` sets it false).
    pub fail_on_error: bool,
    /// `SLOW=yes` (auster `-s`): handed to every step as the `slow` parameter.
    pub slow: bool,
    /// `LUSTRE`: the Lustre tree (handed to steps as the `lustre` parameter).
    pub lustre: Option<PathBuf>,
    /// `LOGDIR`: where logs go.
    pub logdir: Option<PathBuf>,
    /// `YAML_LOG`: the results.yml that auster started.
    pub yaml_log: Option<PathBuf>,
    /// `TF_SKIP`: removed once a test ran with a status other than SKIP.
    pub tf_skip: Option<PathBuf>,
    /// `TF_FAIL`: written when lutf itself fails (not a test), as test-framework's error
    /// trap does.
    pub tf_fail: Option<PathBuf>,
    /// `CONFIG`: the cfg file the hook sourced (for messages).
    pub config: Option<PathBuf>,
    /// `TESTSUITE`: the auster suite's name, the hook's file name without `.sh`
    /// (`lutf`): the name of the Tests entry and the first part of log names.
    pub testsuite: String,
    /// `NETTYPE`: handed to steps as the `nettype` parameter.
    pub nettype: Option<String>,
    /// `PDSH`: `no_dsh` means every host is this machine, as in test-framework.
    pub pdsh: Option<String>,
    /// The host variables.
    pub hosts: Hosts,
}
impl AusterEnv {
    /// Reads the process environment.
    pub fn from_env() -> Result<AusterEnv, EnvError> {
        AusterEnv::from_vars(std::env::vars())
    }

    /// Reads `vars` (name, value); empty values count as unset, as they do in bash tests.
    pub fn from_vars(
        vars: impl IntoIterator<Item = (String, String)>,
    ) -> Result<AusterEnv, EnvError> {
        let vars: BTreeMap<String, String> = vars
            .into_iter()
            .filter(|(_, v)| !v.trim().is_empty())
            .collect();
        let get = |name: &str| vars.get(name).map(|v| v.trim().to_string());
        let path = |name: &str| get(name).map(PathBuf::from);
        let list = |name: &str| get(name).map(|v| split_list(&v)).unwrap_or_default();
        let flag = |name: &str, default: bool| match get(name) {
            None => Ok(default),
            Some(v) => parse_bool(&v).ok_or(EnvError::NotABoolean {
                name: name.into(),
                value: v,
            }),
        };
        let count = |name: &str| {
            get(name)
                .map(|v| {
                    v.parse::<u32>().map_err(|_| EnvError::NotANumber {
                        name: name.into(),
                        value: v.clone(),
                    })
                })
                .transpose()
        };
        let hosts = |name: &str| match get(name) {
            None => Ok(Vec::new()),
            Some(v) => expand_hosts(&v).map_err(|e| EnvError::BadHostList {
                name: name.into(),
                value: v,
                why: e.to_string(),
            }),
        };
        // `mds3_HOST` and the like.
        let numbered = |prefix: &str| {
            let mut out = BTreeMap::new();
            for (k, v) in &vars {
                let Some(n) = k
                    .strip_prefix(prefix)
                    .and_then(|r| r.strip_suffix("_HOST"))
                    .and_then(|n| n.parse::<u32>().ok())
                else {
                    continue;
                };
                out.insert(n, v.trim().to_string());
            }
            out
        };

        Ok(AusterEnv {
            filter: Filter {
                only: list("ONLY"),
                except: list("EXCEPT"),
                start_at: get("START_AT"),
                stop_at: get("STOP_AT"),
                honor_except: flag("HONOR_EXCEPT", false)?,
                patterns: list("PATTERN"),
            },
            suites: list("SUITE"),
            stop_on_error: flag("STOP_ON_ERROR", false)?,
            no_clean: flag("LUTF_NO_CLEAN", false)?,
            fail_on_error: flag("FAIL_ON_ERROR", true)?,
            slow: flag("SLOW", false)?,
            lustre: path("LUSTRE"),
            logdir: path("LOGDIR"),
            yaml_log: path("YAML_LOG"),
            tf_skip: path("TF_SKIP"),
            tf_fail: path("TF_FAIL"),
            config: path("CONFIG"),
            testsuite: get("TESTSUITE").unwrap_or_else(|| DEFAULT_TESTSUITE.to_string()),
            nettype: get("NETTYPE"),
            pdsh: get("PDSH"),
            hosts: Hosts {
                mds: get("mds_HOST"),
                mds_n: numbered("mds"),
                mgs: get("mgs_HOST"),
                ost: get("ost_HOST"),
                ost_n: numbered("ost"),
                clients: hosts("CLIENTS")?,
                rclients: hosts("RCLIENTS")?,
                rtr_n: numbered("rtr"),
                mdscount: count("MDSCOUNT")?,
                ostcount: count("OSTCOUNT")?,
            },
        })
    }

    /// `PDSH=no_dsh`: test-framework runs every node's commands on this machine.
    pub fn no_dsh(&self) -> bool {
        self.pdsh.as_deref() == Some("no_dsh")
    }

    /// Parameters handed to every step (`ctx.params`): `slow`, and `nettype` and `lustre`
    /// when set.
    pub fn params(&self) -> BTreeMap<String, serde_json::Value> {
        let mut p = BTreeMap::new();
        p.insert("slow".to_string(), serde_json::Value::Bool(self.slow));
        if let Some(n) = &self.nettype {
            p.insert("nettype".to_string(), n.clone().into());
        }
        if let Some(l) = &self.lustre {
            p.insert("lustre".to_string(), l.display().to_string().into());
        }
        p
    }
}

/// Splits on blanks and commas (auster turns commas into spaces; cfg files use either).
pub fn split_list(v: &str) -> Vec<String> {
    v.split(|c: char| c == ',' || c.is_whitespace())
        .filter(|s| !s.is_empty())
        .map(str::to_string)
        .collect()
}

/// `true`/`false` as bash scripts spell them (`true`, `yes`, `y`, `1`, `on` and their
/// opposites), case-insensitively.
pub fn parse_bool(v: &str) -> Option<bool> {
    match v.trim().to_ascii_lowercase().as_str() {
        "true" | "yes" | "y" | "1" | "on" => Some(true),
        "false" | "no" | "n" | "0" | "off" => Some(false),
        _ => None,
    }
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;

    /// `AusterEnv::from_vars` over `(name, value)` pairs that must read; the other
    /// modules' tests use it too.
    pub(crate) fn env(pairs: &[(&str, &str)]) -> AusterEnv {
        AusterEnv::from_vars(pairs.iter().map(|(k, v)| (k.to_string(), v.to_string()))).unwrap()
    }

    #[test]
    fn switches_and_defaults() {
        let e = env(&[]);
        assert!(
            e.fail_on_error,
            "unset FAIL_ON_ERROR stops like test-framework"
        );
        assert!(!e.stop_on_error && !e.slow && !e.filter.honor_except && !e.no_clean);
        assert_eq!(e.testsuite, "lutf");
        assert!(env(&[("LUTF_NO_CLEAN", "yes")]).no_clean);
        let e = env(&[
            ("FAIL_ON_ERROR", "false"),
            ("STOP_ON_ERROR", "yes"),
            ("SLOW", "yes"),
            ("TESTSUITE", "lutf-lnet"),
        ]);
        assert!(!e.fail_on_error && e.stop_on_error && e.slow);
        assert_eq!(e.testsuite, "lutf-lnet");
        let err = AusterEnv::from_vars([("SLOW".to_string(), "maybe".to_string())]).unwrap_err();
        assert_eq!(
            err.to_string(),
            "SLOW=\"maybe\" is neither true nor false (use true/false, yes/no, 1/0)"
        );
        let err = AusterEnv::from_vars([("OSTCOUNT".to_string(), "two".to_string())]).unwrap_err();
        assert_eq!(err.to_string(), "OSTCOUNT=\"two\" is not a whole number");
    }

    #[test]
    fn lists_split_on_blanks_and_commas() {
        let e = env(&[("ONLY", " 61  70b,71 "), ("SUITE", "dlc,samples")]);
        assert_eq!(e.filter.only, ["61", "70b", "71"]);
        assert_eq!(e.suites, ["dlc", "samples"]);
    }

    #[test]
    fn params_carry_slow_nettype_and_lustre() {
        let e = env(&[
            ("SLOW", "no"),
            ("NETTYPE", "o2ib"),
            ("LUSTRE", "/usr/lib64/lustre"),
        ]);
        let p = e.params();
        assert_eq!(p["slow"], serde_json::json!(false));
        assert_eq!(p["nettype"], serde_json::json!("o2ib"));
        assert_eq!(p["lustre"], serde_json::json!("/usr/lib64/lustre"));
    }
}
