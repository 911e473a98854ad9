//! auster's environment, read and mapped to a lutf run.
//!
//! auster runs a suite as `bash $LUSTRE/tests/<name>.sh` with no arguments and passes
//! everything through the environment; the hook script (`lutf auster-hook`) sources the cfg
//! and exports what this module reads. Nothing here runs anything: [`AusterEnv::from_vars`]
//! reads the variables, [`Filter::decide`] says what becomes of each test, and
//! [`Hosts::cluster`] turns the host variables into lutf's nodes and roles.
//!
//! Selection follows Lustre's `test-framework.sh` (`build_test_filter`, `run_test`,
//! `testslist_filter`):
//!
//! - `ONLY` lists ids; a test runs when its id or its base (`70` for `70b`) is listed, and
//!   `N-M` lists the numbers N to M. Tests it leaves out are not reported at all.
//!   With `ONLY` set, `EXCEPT`, `START_AT` and `STOP_AT` are ignored, unless
//!   `HONOR_EXCEPT` is set (auster `-H`).
//! - `EXCEPT` lists ids (or bases) that are reported as SKIP with duration 0 and
//!   auster's reason, `skipping excluded test 61`.
//! - `START_AT`/`STOP_AT`: the tests before `START_AT` and after `STOP_AT`, in run order,
//!   are added to `EXCEPT` (so reported as SKIP), as `testslist_filter` does.
//! - `PATTERN` (lutf's own, as the earlier LUTF had it): shell-style patterns over test
//!   names; tests matching none are left out like `ONLY` leaves them out.
//! - `SUITE` names the lutf suites to run (every suite when empty).

use std::collections::BTreeMap;
use std::path::PathBuf;

use crate::cluster::{Cluster, NodeSpec};
use crate::hostlist;

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

/// The auster suite name when `TESTSUITE` is not set: the hook is `lutf.sh`.
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

/// What auster selects, from `ONLY`, `EXCEPT`, `START_AT`, `STOP_AT`, `HONOR_EXCEPT` and
/// `PATTERN`.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Filter {
    /// `ONLY`: ids, bases or `N-M` ranges.
    pub only: Vec<String>,
    /// `EXCEPT`: ids or bases.
    pub except: Vec<String>,
    /// `START_AT`: the first test to run.
    pub start_at: Option<String>,
    /// `STOP_AT`: the last test to run.
    pub stop_at: Option<String>,
    /// `HONOR_EXCEPT`: `EXCEPT` (and `START_AT`/`STOP_AT`) apply even with `ONLY`.
    pub honor_except: bool,
    /// `PATTERN`: shell-style patterns over test names.
    pub patterns: Vec<String>,
}

/// What becomes of one test.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Verdict {
    /// It runs.
    Run,
    /// It is reported as SKIP with this reason and duration 0, not run.
    Excluded(String),
    /// It is left out and not reported (`ONLY`, `PATTERN`).
    Omitted,
}

/// One test as the filter sees it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Candidate {
    /// The lutf suite.
    pub suite: String,
    /// The test's id in its suite (`01`).
    pub id: String,
    /// Its id in the auster suite (`01`, or `samples_01` when several suites run).
    pub auster_id: String,
}

impl Filter {
    /// Decides every test, `tests` being in run order.
    pub fn decide(&self, tests: &[Candidate]) -> Vec<Verdict> {
        // START_AT/STOP_AT add to EXCEPT, over the tests in run order, as testslist_filter
        // does with awk: before START_AT is excepted, START_AT and STOP_AT themselves run,
        // after STOP_AT is excepted. A START_AT of "0" counts as unset there.
        let start = self
            .start_at
            .as_deref()
            .filter(|s| !s.is_empty() && *s != "0");
        let stop = self.stop_at.as_deref().filter(|s| !s.is_empty());
        let mut outside = Vec::with_capacity(tests.len());
        let mut flag = start.is_some();
        for t in tests {
            if start.is_some_and(|s| names(t, s)) {
                flag = false;
            }
            outside.push(flag);
            if stop.is_some_and(|s| names(t, s)) {
                flag = true;
            }
        }

        tests
            .iter()
            .zip(outside)
            .map(|(t, outside)| {
                if !self.patterns.is_empty() && !self.patterns.iter().any(|p| pattern_names(t, p)) {
                    return Verdict::Omitted;
                }
                if !self.only.is_empty() {
                    if !self.only.iter().any(|o| only_names(t, o)) {
                        return Verdict::Omitted;
                    }
                    if !self.honor_except {
                        return Verdict::Run;
                    }
                }
                if let Some(e) = self.except.iter().find(|e| names(t, e) || base_names(t, e)) {
                    let id = &t.auster_id;
                    return Verdict::Excluded(if names(t, e) {
                        format!("skipping excluded test {id}")
                    } else {
                        format!("skipping excluded test {id} (base {})", basetest(id))
                    });
                }
                if outside {
                    return Verdict::Excluded(format!("skipping excluded test {}", t.auster_id));
                }
                Verdict::Run
            })
            .collect()
    }

    /// `ONLY` items that name no test of `tests`, for a warning.
    pub fn unmatched_only(&self, tests: &[Candidate]) -> Vec<String> {
        self.only
            .iter()
            .filter(|o| !tests.iter().any(|t| only_names(t, o)))
            .cloned()
            .collect()
    }
}

/// `given` (`01` or `test_01`) is the test's id or its auster id.
fn names(t: &Candidate, given: &str) -> bool {
    let g = given.strip_prefix("test_").unwrap_or(given);
    g == t.id || g == t.auster_id
}

/// `given` is the base of the test's id (`70` for `70b`), as `EXCEPT_$base`.
fn base_names(t: &Candidate, given: &str) -> bool {
    let g = given.strip_prefix("test_").unwrap_or(given);
    g == basetest(&t.id) || g == basetest(&t.auster_id)
}

/// An `ONLY` item: the id, its base, or an `N-M` range of numbers.
fn only_names(t: &Candidate, given: &str) -> bool {
    if names(t, given) || base_names(t, given) {
        return true;
    }
    // test-framework expands `N-M` with seq; lutf's ids are zero-padded (`01`), so the
    // range is compared by number: `1-3` selects 01, 02, 03 and their lettered siblings.
    let Some((lo, hi)) = given.split_once('-') else {
        return false;
    };
    let (Ok(lo), Ok(hi)) = (lo.parse::<u64>(), hi.parse::<u64>()) else {
        return false;
    };
    basetest(&t.id)
        .parse::<u64>()
        .is_ok_and(|n| lo <= n && n <= hi)
}

/// A `PATTERN` item over `test_<id>`, the id, the auster id and `<suite>/test_<id>`.
fn pattern_names(t: &Candidate, pattern: &str) -> bool {
    [
        format!("test_{}", t.id),
        t.id.clone(),
        t.auster_id.clone(),
        format!("test_{}", t.auster_id),
        format!("{}/test_{}", t.suite, t.id),
    ]
    .iter()
    .any(|name| glob_match(pattern, name))
}

/// test-framework's `basetest`: an id starting with a letter is its own base; otherwise
/// the part before the first lowercase letter (`70b` → `70`).
pub fn basetest(id: &str) -> &str {
    if id.starts_with(|c: char| c.is_ascii_lowercase()) {
        id
    } else {
        id.find(|c: char| c.is_ascii_lowercase())
            .map_or(id, |i| &id[..i])
    }
}

/// Shell-style matching: `*` any run of characters, `?` one character, `[abc]`/`[a-z]`/
/// `[!a]` one of a set; everything else stands for itself.
pub fn glob_match(pattern: &str, text: &str) -> bool {
    let p: Vec<char> = pattern.chars().collect();
    let t: Vec<char> = text.chars().collect();
    // Classic backtracking over the last `*`.
    let (mut pi, mut ti) = (0usize, 0usize);
    let mut star: Option<(usize, usize)> = None;
    while ti < t.len() {
        if pi < p.len() && p[pi] == '*' {
            star = Some((pi, ti));
            pi += 1;
            continue;
        }
        if pi < p.len() {
            if let Some((matched, next)) = one_char(&p, pi, t[ti]) {
                if matched {
                    pi = next;
                    ti += 1;
                    continue;
                }
            }
        }
        match star {
            Some((sp, st)) => {
                pi = sp + 1;
                ti = st + 1;
                star = Some((sp, st + 1));
            }
            None => return false,
        }
    }
    p[pi..].iter().all(|&c| c == '*')
}

/// Whether the pattern element at `p[i]` (not `*`) matches `c`, and where the next element
/// starts. `None` when the element is a malformed set (then it matches nothing).
fn one_char(p: &[char], i: usize, c: char) -> Option<(bool, usize)> {
    match p[i] {
        '?' => Some((true, i + 1)),
        '[' => {
            let mut j = i + 1;
            let negate = j < p.len() && (p[j] == '!' || p[j] == '^');
            if negate {
                j += 1;
            }
            let mut hit = false;
            let mut first = true;
            while j < p.len() && (p[j] != ']' || first) {
                first = false;
                if j + 2 < p.len() && p[j + 1] == '-' && p[j + 2] != ']' {
                    hit |= p[j] <= c && c <= p[j + 2];
                    j += 3;
                } else {
                    hit |= p[j] == c;
                    j += 1;
                }
            }
            if j >= p.len() {
                // No closing bracket: the `[` stands for itself.
                return Some((c == '[', i + 1));
            }
            Some((hit != negate, j + 1))
        }
        other => Some((other == c, i + 1)),
    }
}

/// The host variables of the cfg.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Hosts {
    /// `mds_HOST`: the default host of every MDS.
    pub mds: Option<String>,
    /// `mdsN_HOST`, by N.
    pub mds_n: BTreeMap<u32, String>,
    /// `mgs_HOST` (default: the host of mds1).
    pub mgs: Option<String>,
    /// `ost_HOST`: the default host of every OST.
    pub ost: Option<String>,
    /// `ostN_HOST`, by N.
    pub ost_n: BTreeMap<u32, String>,
    /// `CLIENTS`, expanded.
    pub clients: Vec<String>,
    /// `RCLIENTS`, expanded.
    pub rclients: Vec<String>,
    /// `rtrN_HOST`, by N.
    pub rtr_n: BTreeMap<u32, String>,
    /// `MDSCOUNT`.
    pub mdscount: Option<u32>,
    /// `OSTCOUNT`.
    pub ostcount: Option<u32>,
}

/// How this machine is named, to tell local hosts from remote ones.
#[derive(Debug, Clone, PartialEq)]
pub struct ThisHost {
    /// `gethostname()`, short or long as the machine is set up.
    pub hostname: String,
}

impl ThisHost {
    /// This machine.
    pub fn get() -> ThisHost {
        ThisHost {
            hostname: crate::commands::run::hostname(),
        }
    }

    /// Whether `host` names this machine: `localhost`, a loopback address, the hostname,
    /// or the same short name (`node1` and `node1.example.com`).
    pub fn is(&self, host: &str) -> bool {
        let h = host.to_ascii_lowercase();
        if matches!(h.as_str(), "localhost" | "127.0.0.1" | "::1") {
            return true;
        }
        let me = self.hostname.to_ascii_lowercase();
        h == me || (!short(&h).is_empty() && short(&h) == short(&me))
    }
}

fn short(host: &str) -> &str {
    host.split('.').next().unwrap_or("")
}

impl Hosts {
    /// Whether no host variable is set: lutf then runs on this machine alone.
    pub fn is_empty(&self) -> bool {
        self.mds.is_none()
            && self.mds_n.is_empty()
            && self.mgs.is_none()
            && self.ost.is_none()
            && self.ost_n.is_empty()
            && self.clients.is_empty()
            && self.rclients.is_empty()
            && self.rtr_n.is_empty()
    }

    /// Every facet as test-framework sees it, in lutf's node order (clients first, the
    /// machine the tests are driven from being client1 when `CLIENTS` is not set; then
    /// mgs, MDSs, OSTs, routers): (facet role, kind roles, host).
    pub fn facets(&self, this: &ThisHost) -> Vec<(String, &'static [&'static str], String)> {
        let mut out: Vec<(String, &'static [&'static str], String)> = Vec::new();
        // Clients: CLIENTS as given, else this machine then RCLIENTS (test-framework's
        // init_clients_lists), and RCLIENTS not already in CLIENTS.
        let mut clients: Vec<String> = if self.clients.is_empty() {
            vec![this.hostname.clone()]
        } else {
            self.clients.clone()
        };
        for r in &self.rclients {
            if !clients.contains(r) {
                clients.push(r.clone());
            }
        }
        for (i, c) in clients.into_iter().enumerate() {
            out.push((format!("client{}", i + 1), &["client"], c));
        }

        // MDSs: mdsN_HOST defaults to mds_HOST for N up to MDSCOUNT (1 when unset).
        let mds = facet_hosts(self.mds.as_deref(), &self.mds_n, self.mdscount);
        let mgs = self
            .mgs
            .clone()
            .or_else(|| mds.first().map(|(_, h)| h.clone()));
        if let Some(h) = mgs {
            out.push(("mgs".into(), &["server"], h));
        }
        for (n, h) in mds {
            out.push((format!("mds{n}"), &["mds", "server"], h));
        }
        for (n, h) in facet_hosts(self.ost.as_deref(), &self.ost_n, self.ostcount) {
            out.push((format!("ost{n}"), &["ost", "server"], h));
        }
        for (n, h) in &self.rtr_n {
            out.push((format!("rtr{n}"), &["rtr", "router"], h.clone()));
        }
        out
    }

    /// The nodes of the run: one per distinct host, in [`facets`](Hosts::facets) order,
    /// with every role the host plays (`mds1`, `mds`, `server`, `client2`, `client`, ...).
    /// A host that is this machine runs locally (no SSH), as does every host when `PDSH`
    /// is `no_dsh`; with no host variable at all, this machine alone.
    pub fn cluster(&self, this: &ThisHost, no_dsh: bool) -> Cluster {
        if self.is_empty() {
            return Cluster::default();
        }
        let mut nodes: Vec<NodeSpec> = Vec::new();
        for (facet, kinds, host) in self.facets(this) {
            let local = no_dsh || this.is(&host);
            // Every spelling of this machine is one node; remote hosts by their name.
            let idx = nodes.iter().position(|n| {
                if local {
                    n.host.is_none()
                } else {
                    n.host.as_deref() == Some(host.as_str())
                }
            });
            let node = match idx {
                Some(i) => &mut nodes[i],
                None => {
                    nodes.push(NodeSpec {
                        name: host.clone(),
                        host: if local { None } else { Some(host.clone()) },
                        user: None,
                        port: None,
                        roles: Vec::new(),
                        workdir: None,
                    });
                    nodes.last_mut().expect("just pushed")
                }
            };
            for role in std::iter::once(facet.as_str()).chain(kinds.iter().copied()) {
                if !node.roles.iter().any(|r| r == role) {
                    node.roles.push(role.to_string());
                }
            }
        }
        Cluster {
            nodes,
            ssh: Default::default(),
            clean: true,
        }
    }
}

/// `(N, host)` for N in 1..=max(COUNT, highest N given): `prefixN_HOST`, else the default
/// host. COUNT defaults to 1 when a default host is set.
fn facet_hosts(
    default: Option<&str>,
    numbered: &BTreeMap<u32, String>,
    count: Option<u32>,
) -> Vec<(u32, String)> {
    let count = count.unwrap_or(u32::from(default.is_some()));
    let highest = numbered.keys().copied().max().unwrap_or(0).max(count);
    (1..=highest)
        .filter_map(|n| {
            numbered
                .get(&n)
                .cloned()
                .or_else(|| default.map(str::to_string))
                .map(|h| (n, h))
        })
        .collect()
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

/// Expands a host list as cfg files write them: pdsh lists (`onyx-[15-18]vm1,host7`)
/// separated by commas or blanks (`RCLIENTS="c2 c3"`); a host named twice counts once.
pub fn expand_hosts(list: &str) -> Result<Vec<String>, hostlist::HostlistError> {
    let mut out: Vec<String> = Vec::new();
    for chunk in list.split_whitespace() {
        for host in hostlist::expand(chunk)? {
            if !out.contains(&host) {
                out.push(host);
            }
        }
    }
    Ok(out)
}

/// The name of a test inside the auster suite: its own id when the run is of one lutf
/// suite (`SUITE=dlc`: `test_01`), `<suite>_<id>` otherwise (`test_dlc_01`), so that
/// tests of different suites never share a SubTest name or a log file.
pub fn auster_id(single_suite: bool, suite: &str, id: &str) -> String {
    if single_suite {
        id.to_string()
    } else {
        format!("{suite}_{id}")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn env(pairs: &[(&str, &str)]) -> AusterEnv {
        AusterEnv::from_vars(pairs.iter().map(|(k, v)| (k.to_string(), v.to_string()))).unwrap()
    }

    fn cands(ids: &[&str]) -> Vec<Candidate> {
        ids.iter()
            .map(|id| Candidate {
                suite: "s".into(),
                id: id.to_string(),
                auster_id: id.to_string(),
            })
            .collect()
    }

    fn verdicts(f: &Filter, ids: &[&str]) -> Vec<String> {
        f.decide(&cands(ids))
            .into_iter()
            .map(|v| match v {
                Verdict::Run => "run".to_string(),
                Verdict::Omitted => "-".to_string(),
                Verdict::Excluded(r) => r,
            })
            .collect()
    }

    #[test]
    fn only_matches_id_base_and_ranges() {
        let f = env(&[("ONLY", "61 70 test_02 3-4")]).filter;
        assert_eq!(
            verdicts(
                &f,
                &["01", "02", "03", "04", "05", "61", "61a", "70a", "70b", "700"]
            ),
            ["-", "run", "run", "run", "-", "run", "run", "run", "run", "-"]
        );
    }

    #[test]
    fn only_ignores_except_unless_honored() {
        let f = env(&[("ONLY", "01 02"), ("EXCEPT", "02")]).filter;
        assert_eq!(verdicts(&f, &["01", "02", "03"]), ["run", "run", "-"]);
        let f = env(&[("ONLY", "01 02"), ("EXCEPT", "02"), ("HONOR_EXCEPT", "y")]).filter;
        assert_eq!(
            verdicts(&f, &["01", "02", "03"]),
            ["run", "skipping excluded test 02", "-"]
        );
    }

    #[test]
    fn except_by_id_and_base_with_austers_reasons() {
        let f = env(&[("EXCEPT", "02,70")]).filter;
        assert_eq!(
            verdicts(&f, &["01", "02", "70a", "71"]),
            [
                "run",
                "skipping excluded test 02",
                "skipping excluded test 70a (base 70)",
                "run"
            ]
        );
    }

    #[test]
    fn start_and_stop_at_except_the_tests_outside() {
        let f = env(&[("START_AT", "02"), ("STOP_AT", "03")]).filter;
        assert_eq!(
            verdicts(&f, &["01", "02", "03", "04"]),
            [
                "skipping excluded test 01",
                "run",
                "run",
                "skipping excluded test 04"
            ]
        );
        // A START_AT that names no test excepts everything, as testslist_filter does.
        let f = env(&[("START_AT", "99")]).filter;
        assert_eq!(
            verdicts(&f, &["01", "02"]),
            ["skipping excluded test 01", "skipping excluded test 02"]
        );
        // START_AT=0 counts as unset there.
        let f = env(&[("START_AT", "0"), ("STOP_AT", "01")]).filter;
        assert_eq!(
            verdicts(&f, &["01", "02"]),
            ["run", "skipping excluded test 02"]
        );
        // ONLY wins over START_AT, as EXCEPT is not consulted with ONLY.
        let f = env(&[("START_AT", "02"), ("ONLY", "01")]).filter;
        assert_eq!(verdicts(&f, &["01", "02"]), ["run", "-"]);
    }

    #[test]
    fn pattern_leaves_out_what_it_does_not_match() {
        let f = env(&[("PATTERN", "test_0[13]* 1?")]).filter;
        assert_eq!(
            verdicts(&f, &["01", "02", "03a", "10", "100"]),
            ["run", "-", "run", "run", "-"]
        );
    }

    #[test]
    fn glob_matches_like_the_shell() {
        for (p, t, want) in [
            ("*", "", true),
            ("a*b", "axxb", true),
            ("a*b", "axxc", false),
            ("?", "ab", false),
            ("[a-c]x", "bx", true),
            ("[!a-c]x", "bx", false),
            ("[]]", "]", true),
            ("[ab", "[ab", true),
            ("*.py", "test_01.py", true),
            ("t*_*1", "test_01", true),
        ] {
            assert_eq!(glob_match(p, t), want, "{p} vs {t}");
        }
    }

    #[test]
    fn basetest_is_test_frameworks() {
        assert_eq!(basetest("70b"), "70");
        assert_eq!(basetest("01"), "01");
        assert_eq!(basetest("18a"), "18");
        assert_eq!(basetest("mount"), "mount");
        assert_eq!(basetest("42aa"), "42");
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
    fn host_lists_expand_pdsh_ranges_split_on_blanks_too() {
        assert_eq!(
            expand_hosts("onyx-[08-10]vm1,h7 h8 h7").unwrap(),
            ["onyx-08vm1", "onyx-09vm1", "onyx-10vm1", "h7", "h8"]
        );
        let e = AusterEnv::from_vars([("RCLIENTS".to_string(), "n[1-2".to_string())]).unwrap_err();
        assert!(
            e.to_string()
                .starts_with("RCLIENTS=\"n[1-2\": bad host list"),
            "{e}"
        );
    }

    fn me() -> ThisHost {
        ThisHost {
            hostname: "drv.example.com".into(),
        }
    }

    fn nodes(c: &Cluster) -> Vec<(String, bool, String)> {
        c.nodes
            .iter()
            .map(|n| (n.name.clone(), n.host.is_none(), n.roles.join(" ")))
            .collect()
    }

    #[test]
    fn no_host_variables_is_this_machine_alone() {
        let c = env(&[("ONLY", "01")]).hosts.cluster(&me(), false);
        assert_eq!(c, Cluster::default());
    }

    #[test]
    fn roles_come_from_the_variable_names() {
        let e = env(&[
            ("mds_HOST", "m1"),
            ("MDSCOUNT", "2"),
            ("mds2_HOST", "m2"),
            ("ost_HOST", "o1"),
            ("OSTCOUNT", "2"),
            ("CLIENTS", "drv,c2"),
            ("RCLIENTS", "c2 c3"),
            ("rtr1_HOST", "r1"),
        ]);
        let c = e.hosts.cluster(&me(), false);
        assert_eq!(
            nodes(&c),
            [
                ("drv".to_string(), true, "client1 client".to_string()),
                ("c2".to_string(), false, "client2 client".to_string()),
                ("c3".to_string(), false, "client3 client".to_string()),
                ("m1".to_string(), false, "mgs server mds1 mds".to_string()),
                ("m2".to_string(), false, "mds2 mds server".to_string()),
                ("o1".to_string(), false, "ost1 ost server ost2".to_string()),
                ("r1".to_string(), false, "rtr1 rtr router".to_string()),
            ]
        );
        assert_eq!(c.nodes[1].host.as_deref(), Some("c2"));
    }

    #[test]
    fn this_machine_is_local_by_short_or_long_name() {
        // A single-node cfg (cfg/local.sh): every facet on this machine, one local node.
        let e = env(&[
            ("mds_HOST", "drv"),
            ("ost_HOST", "drv.example.com"),
            ("mgs_HOST", "localhost"),
        ]);
        let c = e.hosts.cluster(&me(), false);
        assert_eq!(
            nodes(&c),
            [(
                "drv.example.com".to_string(),
                true,
                "client1 client mgs server mds1 mds ost1 ost".to_string()
            )]
        );
        assert!(me().is("DRV"));
        assert!(!me().is("drv2"));
    }

    #[test]
    fn no_dsh_puts_every_host_on_this_machine() {
        let e = env(&[("mds_HOST", "m1"), ("ost_HOST", "o1"), ("PDSH", "no_dsh")]);
        assert!(e.no_dsh());
        let c = e.hosts.cluster(&me(), e.no_dsh());
        assert_eq!(c.nodes.len(), 1);
        assert!(c.nodes[0].host.is_none());
        assert!(c.nodes[0].roles.contains(&"ost1".to_string()));
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

    #[test]
    fn auster_ids_are_plain_for_one_suite() {
        assert_eq!(auster_id(true, "dlc", "01"), "01");
        assert_eq!(auster_id(false, "dlc", "01"), "dlc_01");
    }
}
