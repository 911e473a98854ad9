//! Reads what `lnetctl` prints: YAML, parsed with a YAML parser (never by indentation:
//! 2.15 indents sequences by 4, 2.17's netlink path by 6, and both are valid YAML).
//!
//! What lnetctl really prints needs a few allowances, all kept visible to the caller:
//! - several top-level mappings with the same key, one after the other (`lnetctl export`
//!   without the module prints a `show:` per setting): kept as separate entries;
//! - documents separated by `---` / `...`: read one after the other;
//! - the non-specific tag `!` on error descriptions (`descr: ! "cannot add LNet NI"`): dropped;
//! - lines that are not YAML (`sh: 1: /usr/sbin/ksocklnd-config: not found`) and known
//!   diagnostics (`Writer error: ...`, `opening /dev/lnet failed: ...`, `hint: ...`), which
//!   appear when stdout and stderr are read together: returned as `diagnostics`.
//!
//! The typed views ([`NetShow`], [`PeerShow`], [`PingReply`], [`Statistics`],
//! [`GlobalSettings`]) accept both `Multi-Rail: False` and `false`, and keep every field
//! they do not name in `other`.

use std::collections::BTreeMap;
use std::fmt;

use serde::de::{self, MapAccess, Visitor};
use serde::{Deserialize, Serialize};
use serde_yaml::{Mapping, Value};

use crate::cyaml::insert_merging;
use crate::error::error_entries;

/// Lines lnetctl (or its libraries) print on stderr that happen to be valid YAML; they are
/// diagnostics, not results.
const DIAGNOSTIC_PREFIXES: [&str; 4] = [
    "Writer error:",
    "opening /dev/lnet failed:",
    "hint:",
    "lnetctl:",
];

/// The most non-YAML lines set aside before giving up (each costs a reparse).
const MAX_SKIPPED_LINES: usize = 64;

/// What an lnetctl run printed, read.
#[derive(Debug, Clone, PartialEq, Default, Serialize)]
pub struct LnetctlOutput {
    /// The top-level entries of every document, in order; a key may repeat.
    pub entries: Vec<(String, Value)>,
    /// The lines that were not results (see the module documentation), in order.
    pub diagnostics: Vec<String>,
}

/// Output that is not YAML even after setting aside the lines that are not.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("lnetctl output is not YAML: {reason}\n--- output ---\n{text}")]
pub struct ParseError {
    /// What the YAML parser said.
    pub reason: String,
    /// The whole output, for the record.
    pub text: String,
}

/// An error document lnetctl printed (`CMD: [ENTITY: {errno, descr}]`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct LnetctlError {
    /// `add`, `del`, `show`, `configure`, ...
    pub command: String,
    /// `net`, `route`, `global`, `statistics`, ...
    pub entity: Option<String>,
    /// The errno lnetctl reported (negative; 0 for success entries).
    pub errno: i64,
    /// The description, unquoted.
    pub description: String,
}

impl LnetctlOutput {
    /// Reads lnetctl's output (stdout, stderr, or both together).
    pub fn parse(text: &str) -> Result<LnetctlOutput, ParseError> {
        let mut lines: Vec<&str> = text.lines().collect();
        let mut diagnostics = Vec::new();
        lines.retain(|l| {
            let is_diag = DIAGNOSTIC_PREFIXES.iter().any(|p| l.starts_with(p));
            if is_diag {
                diagnostics.push((*l).to_owned());
            }
            !is_diag
        });
        for _ in 0..MAX_SKIPPED_LINES {
            let yaml = lines.join("\n");
            match parse_documents(&yaml) {
                Ok(entries) => {
                    // Keep the original order of the diagnostics.
                    let order = |d: &String| text.lines().position(|l| l == d);
                    diagnostics.sort_by_key(order);
                    return Ok(LnetctlOutput {
                        entries,
                        diagnostics,
                    });
                }
                Err(e) => {
                    // Set aside the line the parser stopped at, if it is a line of its own
                    // at the left margin that is not YAML structure; otherwise give up.
                    let at = e.location().map(|l| l.line().saturating_sub(1));
                    let skippable = at.filter(|&i| {
                        lines.get(i).is_some_and(|l| {
                            !l.starts_with([' ', '\t', '-', '#'])
                                && !l.starts_with("...")
                                && !l.trim().is_empty()
                        })
                    });
                    match skippable {
                        Some(i) => diagnostics.push(lines.remove(i).to_owned()),
                        None => {
                            return Err(ParseError {
                                reason: e.to_string(),
                                text: text.to_owned(),
                            })
                        }
                    }
                }
            }
        }
        Err(ParseError {
            reason: format!("more than {MAX_SKIPPED_LINES} lines are not YAML"),
            text: text.to_owned(),
        })
    }

    /// The value of the first entry named `key`.
    pub fn get(&self, key: &str) -> Option<&Value> {
        self.entries.iter().find(|(k, _)| k == key).map(|(_, v)| v)
    }

    /// Every entry in one mapping; a repeated key's sequences are concatenated (other
    /// repeated values become a sequence).
    pub fn to_value(&self) -> Value {
        let mut map = Mapping::new();
        for (k, v) in &self.entries {
            insert_merging(&mut map, Value::String(k.clone()), v.clone());
        }
        Value::Mapping(map)
    }

    /// Every error document entry, success entries (`errno: 0`) included.
    pub fn error_entries(&self) -> Vec<LnetctlError> {
        self.entries
            .iter()
            .flat_map(|(k, v)| {
                let mut one = Mapping::new();
                one.insert(Value::String(k.clone()), v.clone());
                error_entries(&Value::Mapping(one))
            })
            .map(|e| LnetctlError {
                command: e.command,
                entity: e.entity,
                errno: e.errno.unwrap_or(0),
                description: e.description.unwrap_or_default(),
            })
            .collect()
    }

    /// The error entries that report a failure (errno other than 0).
    pub fn errors(&self) -> Vec<LnetctlError> {
        self.error_entries()
            .into_iter()
            .filter(|e| e.errno != 0)
            .collect()
    }

    /// `net show`'s networks.
    pub fn net_show(&self) -> Result<NetShow, ViewError> {
        self.view("net")
    }

    /// `peer show`'s peers.
    pub fn peer_show(&self) -> Result<PeerShow, ViewError> {
        self.view("peer")
    }

    /// `ping`'s replies.
    pub fn ping(&self) -> Result<PingReply, ViewError> {
        self.view("ping")
    }

    /// `stats show`'s counters.
    pub fn statistics(&self) -> Result<Statistics, ViewError> {
        self.view("statistics")
    }

    /// `global show`'s settings.
    pub fn global(&self) -> Result<GlobalSettings, ViewError> {
        self.view("global")
    }

    fn view<T: serde::de::DeserializeOwned>(&self, key: &'static str) -> Result<T, ViewError> {
        let value = self.get(key).ok_or(ViewError::Missing(key))?;
        let mut one = Mapping::new();
        one.insert(Value::String(key.to_owned()), value.clone());
        serde_yaml::from_value(Value::Mapping(one)).map_err(|e| ViewError::Shape {
            key,
            reason: e.to_string(),
        })
    }
}

/// A typed view that does not fit the output.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ViewError {
    /// The output has no such section.
    #[error("lnetctl printed no {0:?} section")]
    Missing(&'static str),
    /// The section is not shaped as expected.
    #[error("lnetctl's {key:?} section is not as expected: {reason}")]
    Shape {
        /// The section.
        key: &'static str,
        /// What did not fit.
        reason: String,
    },
}

/// Parses every document of a YAML stream into top-level entries, keys repeating freely.
fn parse_documents(yaml: &str) -> Result<Vec<(String, Value)>, serde_yaml::Error> {
    let mut entries = Vec::new();
    for doc in serde_yaml::Deserializer::from_str(yaml) {
        let TopLevel(items) = TopLevel::deserialize(doc)?;
        entries.extend(items.into_iter().map(|(k, v)| (k, untag(v))));
    }
    Ok(entries)
}

/// A document's top-level mapping, in order, duplicates kept (an empty document is empty).
struct TopLevel(Vec<(String, Value)>);

impl<'de> Deserialize<'de> for TopLevel {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl<'de> Visitor<'de> for V {
            type Value = TopLevel;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a mapping at the top of the document")
            }
            fn visit_unit<E: de::Error>(self) -> Result<TopLevel, E> {
                Ok(TopLevel(Vec::new()))
            }
            fn visit_none<E: de::Error>(self) -> Result<TopLevel, E> {
                Ok(TopLevel(Vec::new()))
            }
            fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<TopLevel, A::Error> {
                let mut out = Vec::new();
                while let Some((k, v)) = map.next_entry::<Value, Value>()? {
                    let key = match k {
                        Value::String(s) => s,
                        other => serde_yaml::to_string(&other)
                            .unwrap_or_default()
                            .trim()
                            .to_owned(),
                    };
                    out.push((key, v));
                }
                Ok(TopLevel(out))
            }
        }
        d.deserialize_any(V)
    }
}

/// Drops the YAML tags lnetctl writes (only the non-specific `!`, in practice).
fn untag(v: Value) -> Value {
    match v {
        Value::Tagged(t) => untag(t.value),
        Value::Sequence(s) => Value::Sequence(s.into_iter().map(untag).collect()),
        Value::Mapping(m) => {
            Value::Mapping(m.into_iter().map(|(k, v)| (untag(k), untag(v))).collect())
        }
        other => other,
    }
}

/// `Multi-Rail: False` (2.15), `false` (2.17) or `"True"` (liblnetconfig's trees).
fn lenient_bool<'de, D: serde::Deserializer<'de>>(d: D) -> Result<Option<bool>, D::Error> {
    Ok(match Option::<Value>::deserialize(d)? {
        None | Some(Value::Null) => None,
        Some(Value::Bool(b)) => Some(b),
        Some(Value::String(s)) => match s.to_ascii_lowercase().as_str() {
            "true" | "yes" | "1" => Some(true),
            "false" | "no" | "0" => Some(false),
            _ => return Err(de::Error::custom(format!("not a boolean: {s:?}"))),
        },
        Some(Value::Number(n)) => Some(n.as_i64() != Some(0)),
        Some(other) => return Err(de::Error::custom(format!("not a boolean: {other:?}"))),
    })
}

/// `interfaces: {0: eth0, 1: eth1}` as the list of names, in key order.
fn interface_list<'de, D: serde::Deserializer<'de>>(d: D) -> Result<Vec<String>, D::Error> {
    let v = Option::<Value>::deserialize(d)?;
    let mut named: Vec<(i64, String)> = Vec::new();
    match v {
        None | Some(Value::Null) => {}
        Some(Value::Mapping(m)) => {
            for (k, v) in m {
                let idx = k
                    .as_i64()
                    .or_else(|| k.as_str().and_then(|s| s.parse().ok()))
                    .unwrap_or(i64::MAX);
                let name = v
                    .as_str()
                    .ok_or_else(|| de::Error::custom("an interface name is not a string"))?;
                named.push((idx, name.to_owned()));
            }
        }
        Some(Value::Sequence(s)) => {
            for (i, v) in s.into_iter().enumerate() {
                let name = v
                    .as_str()
                    .ok_or_else(|| de::Error::custom("an interface name is not a string"))?;
                named.push((i as i64, name.to_owned()));
            }
        }
        Some(other) => return Err(de::Error::custom(format!("bad interfaces: {other:?}"))),
    }
    named.sort_by_key(|(i, _)| *i);
    Ok(named.into_iter().map(|(_, n)| n).collect())
}

/// `CPT: "[0,1]"` as the list of CPT numbers.
fn cpt_list<'de, D: serde::Deserializer<'de>>(d: D) -> Result<Option<Vec<u32>>, D::Error> {
    let Some(v) = Option::<Value>::deserialize(d)? else {
        return Ok(None);
    };
    let text = match &v {
        Value::String(s) => s.clone(),
        Value::Number(n) => n.to_string(),
        Value::Sequence(s) => {
            return s
                .iter()
                .map(|x| x.as_u64().and_then(|n| u32::try_from(n).ok()))
                .collect::<Option<Vec<u32>>>()
                .map(Some)
                .ok_or_else(|| de::Error::custom(format!("bad CPT list {v:?}")))
        }
        Value::Null => return Ok(None),
        other => return Err(de::Error::custom(format!("bad CPT list {other:?}"))),
    };
    let inner = text.trim().trim_start_matches('[').trim_end_matches(']');
    if inner.trim().is_empty() {
        return Ok(Some(Vec::new()));
    }
    inner
        .split(',')
        .map(|n| n.trim().parse::<u32>())
        .collect::<Result<Vec<_>, _>>()
        .map(Some)
        .map_err(|_| de::Error::custom(format!("bad CPT list {text:?}")))
}

/// `lnetctl net show [-v]`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct NetShow {
    /// The networks (`lo` first, as LNet lists them).
    #[serde(rename = "net", default)]
    pub nets: Vec<Net>,
}

/// One network of `net show`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Net {
    /// `tcp`, `lo`, `o2ib1`, ...
    #[serde(rename = "net type")]
    pub net_type: String,
    /// Its NIs.
    #[serde(rename = "local NI(s)", default)]
    pub local_nis: Vec<LocalNi>,
    /// Everything else.
    #[serde(flatten)]
    pub other: BTreeMap<String, Value>,
}

/// One local NI of `net show`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct LocalNi {
    /// The NI's NID (absent from `export --backup`).
    #[serde(default)]
    pub nid: Option<String>,
    /// `up` or `down`.
    #[serde(default)]
    pub status: Option<String>,
    /// Its interfaces, in order.
    #[serde(default, deserialize_with = "interface_list")]
    pub interfaces: Vec<String>,
    /// `statistics:` (with `-v`).
    #[serde(default)]
    pub statistics: Option<BTreeMap<String, i64>>,
    /// `tunables:` (with `-v`).
    #[serde(default)]
    pub tunables: Option<BTreeMap<String, i64>>,
    /// `lnd tunables:` (with `-v`).
    #[serde(rename = "lnd tunables", default)]
    pub lnd_tunables: Option<BTreeMap<String, Value>>,
    /// `dev cpt:`.
    #[serde(rename = "dev cpt", default)]
    pub dev_cpt: Option<i64>,
    /// `CPT: "[0]"`, as numbers.
    #[serde(rename = "CPT", default, deserialize_with = "cpt_list")]
    pub cpts: Option<Vec<u32>>,
    /// Everything else (`sent_stats`, `health stats`, ...).
    #[serde(flatten)]
    pub other: BTreeMap<String, Value>,
}

/// `lnetctl peer show [-v]`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PeerShow {
    /// The peers.
    #[serde(rename = "peer", default)]
    pub peers: Vec<Peer>,
}

/// One peer of `peer show` or of a `ping` reply.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Peer {
    /// Its primary NID.
    #[serde(rename = "primary nid")]
    pub primary_nid: String,
    /// Whether it is Multi-Rail.
    #[serde(rename = "Multi-Rail", default, deserialize_with = "lenient_bool")]
    pub multi_rail: Option<bool>,
    /// `peer state:` (with `-v`, 2.17).
    #[serde(rename = "peer state", default)]
    pub peer_state: Option<i64>,
    /// Its NIs (`peer ni:` in `peer show`, `peer_ni:` in a 2.17 ping reply).
    #[serde(rename = "peer ni", alias = "peer_ni", default)]
    pub peer_nis: Vec<PeerNi>,
    /// Everything else.
    #[serde(flatten)]
    pub other: BTreeMap<String, Value>,
}

/// One NI of a peer.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PeerNi {
    /// Its NID.
    pub nid: String,
    /// `NA`, `up`, `down`.
    #[serde(default)]
    pub state: Option<String>,
    /// `statistics:` (with `-v`).
    #[serde(default)]
    pub statistics: Option<BTreeMap<String, i64>>,
    /// Everything else (credits, `health stats`, ...).
    #[serde(flatten)]
    pub other: BTreeMap<String, Value>,
}

/// `lnetctl ping NID`: the peers that answered.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PingReply {
    /// One per NID pinged that answered.
    #[serde(rename = "ping", default)]
    pub replies: Vec<Peer>,
}

/// `lnetctl stats show`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Statistics {
    /// Every counter by name (`send_count`, `recv_length`, ...).
    #[serde(rename = "statistics")]
    pub counters: BTreeMap<String, u64>,
}

/// `lnetctl global show`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct GlobalSettings {
    /// Every setting by name (`numa_range`, `discovery`, ...).
    #[serde(rename = "global")]
    pub settings: BTreeMap<String, i64>,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn both_indentations_give_the_same_values() {
        let v215 = "peer:\n    - primary nid: 10.0.0.2@tcp\n      Multi-Rail: False\n      peer ni:\n        - nid: 10.0.0.2@tcp\n";
        let v217 = "peer:\n-     primary nid: 10.0.0.2@tcp\n      Multi-Rail: false\n      peer ni:\n      -     nid: 10.0.0.2@tcp\n";
        let a = LnetctlOutput::parse(v215).unwrap();
        let b = LnetctlOutput::parse(v217).unwrap();
        assert_eq!(a, b);
        let peers = a.peer_show().unwrap().peers;
        assert_eq!(peers[0].multi_rail, Some(false));
        assert_eq!(peers[0].peer_nis[0].nid, "10.0.0.2@tcp");
    }

    #[test]
    fn repeated_keys_and_documents_are_all_kept() {
        let out =
            LnetctlOutput::parse("show:\n  - a: 1\nshow:\n  - b: 2\n---\nx: 1\n...\n").unwrap();
        assert_eq!(out.entries.len(), 3);
        assert_eq!(
            out.to_value(),
            serde_yaml::from_str::<Value>("show: [{a: 1}, {b: 2}]\nx: 1").unwrap()
        );
    }

    #[test]
    fn stray_lines_become_diagnostics_and_real_garbage_is_an_error() {
        let out =
            LnetctlOutput::parse("sh: 1: /usr/sbin/x: not found\nnet:\n- net type: lo\n").unwrap();
        assert_eq!(out.diagnostics, vec!["sh: 1: /usr/sbin/x: not found"]);
        assert_eq!(out.net_show().unwrap().nets[0].net_type, "lo");
        let err = LnetctlOutput::parse("net:\n  - a: [1,\n  b: }\n").unwrap_err();
        assert!(err.text.contains("b: }"), "the text is kept: {err}");
    }

    #[test]
    fn empty_output_is_empty() {
        let out = LnetctlOutput::parse("").unwrap();
        assert!(out.entries.is_empty() && out.diagnostics.is_empty());
        assert_eq!(out.net_show(), Err(ViewError::Missing("net")));
    }
}
