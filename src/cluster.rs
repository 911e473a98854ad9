//! The cluster: which nodes a run uses and how to reach them.
//!
//! `local` (this machine, no SSH) is the default. `--nodes LIST` names SSH nodes with a pdsh
//! host list (the names are the hosts). `--cluster FILE` describes them in YAML:
//!
//! ```yaml
//! clean: false            # optional: do not clean the nodes before each test
//! defaults:              # optional: user, port, roles, workdir for every node
//!   user: lustre
//! ssh_config: ssh_config # optional: `ssh -F` file, relative to this file
//! nodes:
//!   - name: mds1         # unique; used in output and result file names
//!     host: 10.0.0.11    # optional: defaults to the name; may be a `Host` alias of ssh_config
//!     roles: [server]    # optional
//!   - name: onyx-[15-18]vm1   # a host list gives one node per name
//!     port: 2222
//!   - client7            # a bare name: name and host
//!   - name: oss1
//!     targets: {ost: /dev/sdc}          # block devices for Lustre targets (below)
//! ```
//!
//! `targets:` (per node, or in `defaults:`) names the block devices a test's file system
//! (`lutf.fs`) formats with `mkfs.lustre` for the targets it puts on the node: `mgs:` (when
//! the MGS is apart from the MDT), `mdt:`, `ost:`, one device each, and `backfs: ldiskfs`
//! (the default) or `zfs`. With ZFS a device is a block device (a pool is made on it) or
//! `pool/dataset` of a pool that exists. A node without `targets:` gets memory-backed
//! `osd-wbcfs` targets.
//!
//! With both, `--nodes` picks nodes of the file by name. Mistakes are errors, never guesses:
//! a malformed file names file, line and column; unknown keys, duplicate names and bad host
//! lists are refused.

use std::collections::HashMap;
use std::fmt;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use serde::de::{self, Deserializer, MapAccess, SeqAccess, Visitor};
use serde::Deserialize;

use crate::hostlist;
use crate::node::Node;
use crate::protocol::{Backfs, Targets};
use crate::transport::local::Local;
use crate::transport::ssh::{SshOptions, SshTarget, SshTransport};
use crate::transport::Transport;

/// The name of this machine as a node.
pub const LOCAL: &str = "local";

/// One node as described (before connecting).
#[derive(Debug, Clone, PartialEq)]
pub struct NodeSpec {
    /// Unique name, used in output and result file names.
    pub name: String,
    /// Host to ssh to; `None` for this machine without SSH.
    pub host: Option<String>,
    /// SSH user.
    pub user: Option<String>,
    /// SSH port.
    pub port: Option<u16>,
    /// Roles this node plays, for binding test roles.
    pub roles: Vec<String>,
    /// Work directory on the node (default `/tmp/lutf-<user>`).
    pub workdir: Option<PathBuf>,
    /// Block devices for Lustre targets (`targets:`); `None`: memory-backed targets.
    pub targets: Option<Targets>,
}

impl NodeSpec {
    /// This machine, without SSH.
    pub fn local() -> NodeSpec {
        NodeSpec {
            name: LOCAL.into(),
            host: None,
            user: None,
            port: None,
            roles: vec![],
            workdir: None,
            targets: None,
        }
    }

    /// An SSH node whose name is its host.
    pub fn ssh(host: &str) -> NodeSpec {
        NodeSpec {
            name: host.into(),
            host: Some(host.into()),
            ..NodeSpec::local()
        }
    }

    /// Whether this is this machine (no SSH).
    pub fn is_local(&self) -> bool {
        self.host.is_none()
    }
}

/// The nodes of a run and how to reach them.
#[derive(Debug, Clone, PartialEq)]
pub struct Cluster {
    /// In the order given.
    pub nodes: Vec<NodeSpec>,
    /// How SSH nodes are reached (the same for all).
    pub ssh: SshOptions,
    /// Clean the nodes before each test (the file's `clean: false` turns it off).
    pub clean: bool,
}

impl Default for Cluster {
    fn default() -> Self {
        Cluster {
            nodes: vec![NodeSpec::local()],
            ssh: SshOptions::default(),
            clean: true,
        }
    }
}

/// Why a cluster could not be described.
#[derive(Debug, thiserror::Error)]
pub enum ClusterError {
    /// The file could not be read.
    // Not `#[source]`: the message already says why, and the CLI prints the chain.
    #[error("{path}: {error}")]
    Read {
        /// The file.
        path: String,
        /// Why.
        error: std::io::Error,
    },
    /// The file is not a valid description; the place is 1-based.
    #[error("{origin}:{line}:{column}: {message}")]
    At {
        /// The file.
        origin: String,
        /// Line.
        line: usize,
        /// Column.
        column: usize,
        /// What is wrong.
        message: String,
    },
    /// The description is wrong as a whole (no place to point at).
    #[error("{origin}: {message}")]
    Invalid {
        /// The file, or `--nodes`.
        origin: String,
        /// What is wrong.
        message: String,
    },
}

impl Cluster {
    /// Reads a cluster file.
    pub fn from_file(path: &Path) -> Result<Cluster, ClusterError> {
        let origin = path.display().to_string();
        let text = std::fs::read(path).map_err(|error| ClusterError::Read {
            path: origin.clone(),
            error,
        })?;
        let text = String::from_utf8(text).map_err(|e| ClusterError::Invalid {
            origin: origin.clone(),
            message: format!("not UTF-8 text (byte {})", e.utf8_error().valid_up_to()),
        })?;
        let mut cluster = Cluster::parse(&text, &origin)?;
        // `ssh_config:` is relative to the cluster file, like a testbed's own ssh_config.
        if let Some(file) = cluster.ssh.config_file.take() {
            let file = path.parent().unwrap_or(Path::new(".")).join(file);
            if !file.is_file() {
                return Err(ClusterError::Invalid {
                    origin,
                    message: format!("ssh_config: {} is not a file", file.display()),
                });
            }
            cluster.ssh.config_file = Some(file);
        }
        Ok(cluster)
    }

    /// Parses a cluster description; `origin` names it in errors.
    pub fn parse(text: &str, origin: &str) -> Result<Cluster, ClusterError> {
        let invalid = |message: String| ClusterError::Invalid {
            origin: origin.to_string(),
            message,
        };
        if text.trim().is_empty() {
            return Err(invalid(
                "the file is empty; it needs `nodes:`, a list of nodes".into(),
            ));
        }
        let doc: FileDoc = serde_yaml::from_str(text).map_err(|e| located(e, origin))?;
        let d = doc.defaults.unwrap_or_default();
        let mut nodes = Vec::new();
        for entry in doc.nodes.0 {
            let spec = |name: String, host: Option<String>| NodeSpec {
                name,
                host,
                user: entry.user.clone().or_else(|| d.user.clone()),
                port: entry.port.or(d.port),
                roles: entry
                    .roles
                    .clone()
                    .or_else(|| d.roles.clone())
                    .unwrap_or_default(),
                workdir: entry.workdir.clone().or_else(|| d.workdir.clone()),
                targets: entry.targets.clone().or_else(|| d.targets.clone()),
            };
            for (name, host) in entry.names {
                nodes.push(spec(name, host));
            }
        }
        if nodes.is_empty() {
            return Err(invalid("`nodes:` is empty; list at least one node".into()));
        }
        Ok(Cluster {
            nodes,
            ssh: SshOptions {
                config_file: doc.ssh_config,
                ..SshOptions::default()
            },
            clean: doc.clean.unwrap_or(true),
        })
    }

    /// The nodes of a `--nodes` host list: each name is its host; `local` is this machine.
    pub fn from_hostlist(list: &str) -> Result<Cluster, ClusterError> {
        let invalid = |message: String| ClusterError::Invalid {
            origin: "--nodes".into(),
            message,
        };
        let names = hostlist::expand(list).map_err(|e| invalid(e.to_string()))?;
        let mut seen = HashMap::new();
        let mut nodes = Vec::new();
        for name in names {
            if seen.insert(name.clone(), ()).is_some() {
                return Err(invalid(format!("`{name}` is listed twice")));
            }
            if name == LOCAL {
                nodes.push(NodeSpec::local());
                continue;
            }
            check_name(&name).map_err(&invalid)?;
            nodes.push(NodeSpec::ssh(&name));
        }
        Ok(Cluster {
            nodes,
            ssh: SshOptions::default(),
            clean: true,
        })
    }

    /// Keeps only the nodes named by the host list `list`, in its order (`--nodes` with
    /// `--cluster`).
    pub fn select(&mut self, list: &str, origin: &str) -> Result<(), ClusterError> {
        let invalid = |message: String| ClusterError::Invalid {
            origin: "--nodes".into(),
            message,
        };
        let names = hostlist::expand(list).map_err(|e| invalid(e.to_string()))?;
        let mut picked = Vec::new();
        for name in names {
            let Some(n) = self.nodes.iter().find(|n| n.name == name) else {
                let best = self
                    .nodes
                    .iter()
                    .map(|n| (strsim::jaro_winkler(&n.name, &name), &n.name))
                    .filter(|(score, _)| *score > 0.8)
                    .max_by(|a, b| a.0.total_cmp(&b.0));
                return Err(invalid(format!(
                    "no node `{name}` in {origin}{}",
                    best.map(|(_, n)| format!(" (did you mean `{n}`?)"))
                        .unwrap_or_default()
                )));
            };
            if picked.iter().any(|p: &NodeSpec| p.name == name) {
                return Err(invalid(format!("`{name}` is listed twice")));
            }
            picked.push(n.clone());
        }
        self.nodes = picked;
        Ok(())
    }

    /// Connects nothing yet: makes a [`Node`] with the right transport for each spec. SSH
    /// nodes share [`Cluster::ssh`].
    pub fn nodes(&self) -> Vec<Node> {
        let options = Arc::new(self.ssh.clone());
        self.nodes
            .iter()
            .map(|spec| {
                let workdir = spec.workdir.clone();
                let transport: Arc<dyn Transport> = match &spec.host {
                    None => Arc::new(Local::new(workdir)),
                    Some(host) => Arc::new(SshTransport::new(
                        SshTarget {
                            host: host.clone(),
                            user: spec.user.clone(),
                            port: spec.port,
                        },
                        workdir.map(|w| w.display().to_string()),
                        options.clone(),
                    )),
                };
                Node::new(spec.name.clone(), spec.roles.clone(), transport)
                    .with_targets(spec.targets.clone())
            })
            .collect()
    }
}

/// A serde_yaml error as `origin:line:column: message`.
fn located(e: serde_yaml::Error, origin: &str) -> ClusterError {
    let message = e.to_string();
    match e.location() {
        Some(loc) => {
            // The message repeats the place at its end; it is in front already.
            let suffix = format!(" at line {} column {}", loc.line(), loc.column());
            let message = match message.find(&suffix) {
                Some(i) => format!("{}{}", &message[..i], &message[i + suffix.len()..]),
                None => message,
            };
            ClusterError::At {
                origin: origin.into(),
                line: loc.line(),
                column: loc.column(),
                message,
            }
        }
        None => ClusterError::Invalid {
            origin: origin.into(),
            message,
        },
    }
}

/// A node name: it becomes part of file names and output prefixes.
fn check_name(name: &str) -> Result<(), String> {
    let ok = name.len() <= 253
        && name
            .bytes()
            .next()
            .is_some_and(|b| b.is_ascii_alphanumeric())
        && name
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"._-".contains(&b));
    if ok {
        Ok(())
    } else {
        Err(format!(
            "`{name}` is not a usable node name: use letters, digits, `.`, `_` and `-`, \
             starting with a letter or digit"
        ))
    }
}

/// A host: anything ssh takes as a destination, but never an option.
fn check_host(host: &str) -> Result<(), String> {
    if host.is_empty() {
        return Err("the host is empty".into());
    }
    if host.starts_with('-') {
        return Err(format!("host `{host}` starts with `-`"));
    }
    if host.contains('@') {
        return Err(format!(
            "host `{host}` contains `@`: give the user as `user:`"
        ));
    }
    if host.chars().any(|c| c.is_whitespace() || c.is_control()) {
        return Err(format!(
            "host `{host:?}` contains blanks or control characters"
        ));
    }
    Ok(())
}

/// The file's top level.
#[derive(Deserialize)]
#[serde(
    deny_unknown_fields,
    expecting = "a mapping with `nodes:` (and optionally `defaults:`, `ssh_config:`)"
)]
struct FileDoc {
    nodes: NodeList,
    #[serde(default)]
    defaults: Option<Defaults>,
    /// The ssh configuration file for these nodes (`ssh -F`), relative to the cluster file;
    /// `--ssh-config` overrides it.
    #[serde(default)]
    ssh_config: Option<PathBuf>,
    /// `clean: false`: do not clean the nodes before each test (as `lutf run --no-clean`).
    #[serde(default)]
    clean: Option<bool>,
}

/// Fields every node gets unless it says otherwise.
#[derive(Deserialize, Default)]
#[serde(deny_unknown_fields)]
struct Defaults {
    #[serde(default, deserialize_with = "user")]
    user: Option<String>,
    #[serde(default, deserialize_with = "port")]
    port: Option<u16>,
    #[serde(default, deserialize_with = "roles")]
    roles: Option<Vec<String>>,
    #[serde(default, deserialize_with = "workdir")]
    workdir: Option<PathBuf>,
    #[serde(default, deserialize_with = "targets")]
    targets: Option<Targets>,
}

/// One entry of `nodes:` (a name may be a host list: one node per name).
struct Entry {
    /// (name, host) per node; host `None` for `local`.
    names: Vec<(String, Option<String>)>,
    user: Option<String>,
    port: Option<u16>,
    roles: Option<Vec<String>>,
    workdir: Option<PathBuf>,
    targets: Option<Targets>,
}

/// An entry as written (a mapping).
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawEntry {
    name: String,
    #[serde(default)]
    host: Option<String>,
    #[serde(default, deserialize_with = "user")]
    user: Option<String>,
    #[serde(default, deserialize_with = "port")]
    port: Option<u16>,
    #[serde(default, deserialize_with = "roles")]
    roles: Option<Vec<String>>,
    #[serde(default, deserialize_with = "workdir")]
    workdir: Option<PathBuf>,
    #[serde(default, deserialize_with = "targets")]
    targets: Option<Targets>,
}

fn user<'de, D: Deserializer<'de>>(d: D) -> Result<Option<String>, D::Error> {
    let u = String::deserialize(d)?;
    if u.is_empty() || u.starts_with('-') || u.chars().any(|c| c.is_whitespace() || c == '@') {
        return Err(de::Error::custom(format!("`{u}` is not a user name")));
    }
    Ok(Some(u))
}

fn port<'de, D: Deserializer<'de>>(d: D) -> Result<Option<u16>, D::Error> {
    let p = u16::deserialize(d)?;
    if p == 0 {
        return Err(de::Error::custom("port 0 is not a port"));
    }
    Ok(Some(p))
}

fn roles<'de, D: Deserializer<'de>>(d: D) -> Result<Option<Vec<String>>, D::Error> {
    let r = Vec::<String>::deserialize(d)?;
    if let Some(bad) = r
        .iter()
        .find(|r| r.is_empty() || r.chars().any(|c| c.is_whitespace() || c.is_control()))
    {
        return Err(de::Error::custom(format!("`{bad}` is not a role name")));
    }
    Ok(Some(r))
}

fn workdir<'de, D: Deserializer<'de>>(d: D) -> Result<Option<PathBuf>, D::Error> {
    let w = String::deserialize(d)?;
    if !w.starts_with('/') || w.contains('\0') || w.contains('\n') {
        return Err(de::Error::custom(format!(
            "workdir `{w}` must be an absolute path"
        )));
    }
    Ok(Some(PathBuf::from(w)))
}

fn targets<'de, D: Deserializer<'de>>(d: D) -> Result<Option<Targets>, D::Error> {
    let t = Targets::deserialize(d)?;
    check_targets(&t).map_err(de::Error::custom)?;
    Ok(Some(t))
}

/// A `targets:` entry: at least one device, each a path (or, with ZFS, `pool/dataset`),
/// none given twice.
fn check_targets(t: &Targets) -> Result<(), String> {
    let given: Vec<(&str, &str)> = [("mgs", &t.mgs), ("mdt", &t.mdt), ("ost", &t.ost)]
        .into_iter()
        .filter_map(|(kind, dev)| dev.as_deref().map(|d| (kind, d)))
        .collect();
    if given.is_empty() {
        return Err("targets: give a device for `mgs:`, `mdt:` or `ost:` \
                    (a block device such as /dev/sdb)"
            .into());
    }
    for (i, (kind, dev)) in given.iter().enumerate() {
        if dev.is_empty()
            || dev.starts_with('-')
            || dev.chars().any(|c| c.is_whitespace() || c.is_control())
        {
            return Err(format!("targets: {kind} `{dev}` is not a device"));
        }
        let dataset = |d: &str| {
            d.split_once('/')
                .is_some_and(|(pool, set)| !pool.is_empty() && !set.is_empty())
        };
        match t.backfs {
            Backfs::Ldiskfs if !dev.starts_with('/') => {
                return Err(format!(
                    "targets: {kind} `{dev}` must be a block device path such as /dev/sdb \
                     (ldiskfs)"
                ))
            }
            Backfs::Zfs if !dev.starts_with('/') && !dataset(dev) => {
                return Err(format!(
                    "targets: {kind} `{dev}` must be a block device (/dev/sdc) or a ZFS \
                     pool/dataset (tank/ost0)"
                ))
            }
            _ => {}
        }
        if let Some((other, _)) = given[..i].iter().find(|(_, d)| d == dev) {
            return Err(format!(
                "targets: {kind} and {other} are both on `{dev}`; a target needs a device \
                 of its own"
            ));
        }
    }
    Ok(())
}

impl Entry {
    /// Checks an entry and expands its host lists.
    fn new(raw: RawEntry) -> Result<Entry, String> {
        let names = hostlist::expand(&raw.name).map_err(|e| e.to_string())?;
        let names = match raw.host.as_deref() {
            _ if names == [LOCAL] => {
                if let Some(h) = &raw.host {
                    return Err(format!(
                        "`local` is this machine without SSH and takes no host (got `{h}`); \
                         give the node another name"
                    ));
                }
                vec![(LOCAL.to_string(), None)]
            }
            None => names.into_iter().map(|n| (n.clone(), Some(n))).collect(),
            Some(h) if names.len() == 1 => vec![(names[0].clone(), Some(h.to_string()))],
            Some(h) => {
                let hosts = hostlist::expand(h).map_err(|e| e.to_string())?;
                if hosts.len() != names.len() {
                    return Err(format!(
                        "name `{}` gives {} nodes but host `{h}` gives {} hosts",
                        raw.name,
                        names.len(),
                        hosts.len()
                    ));
                }
                names.into_iter().zip(hosts.into_iter().map(Some)).collect()
            }
        };
        for (name, host) in &names {
            if name != LOCAL {
                check_name(name)?;
            }
            if let Some(h) = host {
                check_host(h)?;
            }
        }
        Ok(Entry {
            names,
            user: raw.user,
            port: raw.port,
            roles: raw.roles,
            workdir: raw.workdir,
            targets: raw.targets,
        })
    }
}

impl<'de> Deserialize<'de> for Entry {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl<'de> Visitor<'de> for V {
            type Value = Entry;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("a node: a name, or a mapping with `name:` and optional `host:`, `user:`, `port:`, `roles:`, `workdir:`, `targets:`")
            }
            fn visit_str<E: de::Error>(self, name: &str) -> Result<Entry, E> {
                Entry::new(RawEntry {
                    name: name.into(),
                    host: None,
                    user: None,
                    port: None,
                    roles: None,
                    workdir: None,
                    targets: None,
                })
                .map_err(E::custom)
            }
            fn visit_map<A: MapAccess<'de>>(self, map: A) -> Result<Entry, A::Error> {
                let raw = RawEntry::deserialize(de::value::MapAccessDeserializer::new(map))?;
                Entry::new(raw).map_err(de::Error::custom)
            }
        }
        d.deserialize_any(V)
    }
}

/// `nodes:`: a list of entries (or one host list string), with names unique.
struct NodeList(Vec<Entry>);

impl<'de> Deserialize<'de> for NodeList {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl<'de> Visitor<'de> for V {
            type Value = NodeList;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("a list of nodes, or a host list such as `onyx-[1-4]`")
            }
            fn visit_str<E: de::Error>(self, list: &str) -> Result<NodeList, E> {
                let names = hostlist::expand(list).map_err(E::custom)?;
                let mut entries = Vec::new();
                let mut seen = HashMap::new();
                for n in names {
                    if seen.insert(n.clone(), ()).is_some() {
                        return Err(E::custom(format!("node name `{n}` is used twice")));
                    }
                    entries.push(
                        Entry::new(RawEntry {
                            name: n,
                            host: None,
                            user: None,
                            port: None,
                            roles: None,
                            workdir: None,
                            targets: None,
                        })
                        .map_err(E::custom)?,
                    );
                }
                Ok(NodeList(entries))
            }
            fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<NodeList, A::Error> {
                let mut entries = Vec::new();
                // name -> 1-based index of the entry that has it
                let mut seen: HashMap<String, usize> = HashMap::new();
                while let Some(entry) = seq.next_element::<Entry>()? {
                    let index = entries.len() + 1;
                    for (name, _) in &entry.names {
                        if let Some(first) = seen.insert(name.clone(), index) {
                            return Err(de::Error::custom(format!(
                                "node name `{name}` is used twice (entries {first} and {index})"
                            )));
                        }
                    }
                    entries.push(entry);
                }
                Ok(NodeList(entries))
            }
        }
        d.deserialize_any(V)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(text: &str) -> Cluster {
        Cluster::parse(text, "c.yml").unwrap_or_else(|e| panic!("{text}\n{e}"))
    }

    fn bad(text: &str) -> String {
        match Cluster::parse(text, "c.yml") {
            Ok(c) => panic!("should be refused:\n{text}\ngave {c:?}"),
            Err(e) => e.to_string(),
        }
    }

    #[test]
    fn cleaning_can_be_turned_off() {
        assert!(parse("nodes: [a]\n").clean);
        assert!(!parse("clean: false\nnodes: [a]\n").clean);
        assert!(bad("clean: sometimes\nnodes: [a]\n").contains("clean"));
    }

    #[test]
    fn a_full_file() {
        let c = parse(
            "defaults:\n  user: lustre\n  roles: [any]\n  workdir: /var/tmp/lutf\n\
             nodes:\n\
             \x20 - name: mds1\n    host: 10.0.0.11\n    roles: [server]\n    port: 2222\n\
             \x20 - name: onyx-[15-16]vm1\n    user: root\n\
             \x20 - client7\n",
        );
        let names: Vec<_> = c.nodes.iter().map(|n| n.name.as_str()).collect();
        assert_eq!(names, ["mds1", "onyx-15vm1", "onyx-16vm1", "client7"]);
        let mds = &c.nodes[0];
        assert_eq!(mds.host.as_deref(), Some("10.0.0.11"));
        assert_eq!(mds.user.as_deref(), Some("lustre"));
        assert_eq!(mds.port, Some(2222));
        assert_eq!(mds.roles, ["server"]);
        assert_eq!(mds.workdir.as_deref(), Some(Path::new("/var/tmp/lutf")));
        let onyx = &c.nodes[2];
        assert_eq!(onyx.host.as_deref(), Some("onyx-16vm1"));
        assert_eq!(onyx.user.as_deref(), Some("root"));
        assert_eq!(onyx.roles, ["any"]);
        assert_eq!(onyx.port, None);
        assert_eq!(c.nodes[3].host.as_deref(), Some("client7"));
    }

    #[test]
    fn block_device_targets() {
        let c = parse(
            "defaults:\n  targets: {ost: /dev/sdc}\n\
             nodes:\n\
             \x20 - name: mds1\n    targets: {mgs: /dev/sdd, mdt: /dev/sdb}\n\
             \x20 - oss1\n\
             \x20 - name: zfs1\n    targets:\n      ost: /dev/sde\n      mdt: tank/mdt0\n\
             \x20     backfs: zfs\n",
        );
        let t = c.nodes[0].targets.as_ref().unwrap();
        assert_eq!(
            (t.mgs.as_deref(), t.mdt.as_deref(), t.ost.as_deref()),
            (Some("/dev/sdd"), Some("/dev/sdb"), None)
        );
        assert_eq!(t.backfs, Backfs::Ldiskfs);
        // As a step's `ctx.node.targets` reads them.
        assert_eq!(
            serde_json::to_value(t).unwrap(),
            serde_json::json!({"mgs": "/dev/sdd", "mdt": "/dev/sdb", "backfs": "ldiskfs"})
        );
        // From `defaults:`.
        let t = c.nodes[1].targets.as_ref().unwrap();
        assert_eq!(t.ost.as_deref(), Some("/dev/sdc"));
        let t = c.nodes[2].targets.as_ref().unwrap();
        assert_eq!(t.backfs, Backfs::Zfs);
        assert_eq!(t.mdt.as_deref(), Some("tank/mdt0"));
        // They reach the nodes (and from there the steps).
        assert_eq!(c.nodes()[0].targets, c.nodes[0].targets);
        assert_eq!(parse("nodes: [a]\n").nodes[0].targets, None);
    }

    #[test]
    fn bad_targets_are_errors_with_their_place() {
        let e = bad("nodes:\n  - name: a\n    targets: {ost: sdc}\n");
        assert!(
            e.starts_with("c.yml:2:5: ") && e.contains("`sdc` must be a block device path"),
            "{e}"
        );
        let e = bad("nodes:\n  - name: a\n    targets: {ost: /dev/sdc, backfs: xfs}\n");
        assert!(
            e.starts_with("c.yml:3:") && e.contains("unknown variant `xfs`"),
            "{e}"
        );
        let e = bad("nodes:\n  - name: a\n    targets:\n      osts: [/dev/sdc]\n");
        assert!(
            e.starts_with("c.yml:4:7:") && e.contains("unknown field `osts`"),
            "{e}"
        );
        let e = bad("nodes:\n  - name: a\n    targets: {ost: [/dev/sdc, /dev/sdd]}\n");
        assert!(
            e.starts_with("c.yml:3:") && e.contains("invalid type"),
            "{e}"
        );
        let e = bad("nodes:\n  - name: a\n    targets: {}\n");
        assert!(e.contains("give a device for"), "{e}");
        let e = bad("nodes:\n  - name: a\n    targets: {mdt: /dev/sdb, ost: /dev/sdb}\n");
        assert!(e.contains("ost and mdt are both on `/dev/sdb`"), "{e}");
        let e = bad("nodes:\n  - name: a\n    targets: {ost: tank, backfs: zfs}\n");
        assert!(e.contains("or a ZFS pool/dataset"), "{e}");
        let e = bad("defaults:\n  targets: {ost: -o}\nnodes: [a]\n");
        assert!(
            e.starts_with("c.yml:") && e.contains("is not a device"),
            "{e}"
        );
    }

    #[test]
    fn host_lists_for_names_and_hosts() {
        let c = parse("nodes:\n  - name: n[1-2]\n    host: 10.0.0.[11-12]\n");
        assert_eq!(c.nodes[1].name, "n2");
        assert_eq!(c.nodes[1].host.as_deref(), Some("10.0.0.12"));
        let c = parse("nodes: h[01-03]\n");
        assert_eq!(c.nodes.len(), 3);
        assert_eq!(c.nodes[0].host.as_deref(), Some("h01"));
    }

    #[test]
    fn local_is_this_machine() {
        let c = parse("nodes:\n  - local\n  - name: x\n");
        assert!(c.nodes[0].is_local());
        assert!(!c.nodes[1].is_local());
        assert!(bad("nodes:\n  - name: local\n    host: h\n").contains("takes no host"));
    }

    #[test]
    fn syntax_errors_name_file_line_and_column() {
        let e = bad("nodes:\n  - name: a\n   host: b\n");
        assert!(e.starts_with("c.yml:3:"), "{e}");
        let e = bad("nodes: [a, b\n");
        assert!(e.starts_with("c.yml:"), "{e}");
        let e = bad("nodes:\n  - name: \"a\n");
        assert!(e.starts_with("c.yml:"), "{e}");
        let e = bad("\tnodes: []\n");
        assert!(e.starts_with("c.yml:1:"), "{e}");
        // the place is not repeated at the end
        assert!(!e.contains(" at line "), "{e}");
    }

    #[test]
    fn unknown_keys_are_errors_with_their_place() {
        let e = bad("nodes:\n  - name: a\n    hots: b\n");
        assert!(e.starts_with("c.yml:3:5:"), "{e}");
        assert!(e.contains("unknown field `hots`"), "{e}");
        let e = bad("nodes: [a]\nssh_options: {}\n");
        assert!(
            e.starts_with("c.yml:2:1:") && e.contains("unknown field `ssh_options`"),
            "{e}"
        );
        let e = bad("defaults:\n  hots: x\nnodes: [a]\n");
        assert!(
            e.starts_with("c.yml:2:3:") && e.contains("unknown field `hots`"),
            "{e}"
        );
        let e = bad("defaults:\n  host: x\nnodes: [a]\n");
        assert!(e.contains("unknown field `host`"), "{e}");
    }

    #[test]
    fn wrong_types_are_errors_with_their_place() {
        let e = bad("nodes:\n  - name: a\n    port: twenty-two\n");
        assert!(
            e.starts_with("c.yml:3:11:") && e.contains("invalid type"),
            "{e}"
        );
        let e = bad("nodes:\n  - name: a\n    port: 70000\n");
        assert!(e.starts_with("c.yml:3:11:"), "{e}");
        let e = bad("nodes:\n  - name: a\n    port: 0\n");
        assert!(e.contains("port 0"), "{e}");
        let e = bad("nodes:\n  - name: a\n    roles: server\n");
        assert!(
            e.starts_with("c.yml:3:12:") && e.contains("invalid type"),
            "{e}"
        );
        let e = bad("nodes:\n  - name: [a]\n");
        assert!(e.starts_with("c.yml:2:"), "{e}");
        let e = bad("nodes: 7\n");
        assert!(e.contains("invalid type"), "{e}");
        let e = bad("nodes:\n  - name: a\n    workdir: relative/dir\n");
        assert!(
            e.contains("absolute path") && e.starts_with("c.yml:2:5: nodes[0]: "),
            "{e}"
        );
        let e = bad("nodes:\n  - name: a\n    user: -oProxyCommand=x\n");
        assert!(e.contains("not a user name"), "{e}");
        let e = bad("nodes:\n  - {host: b}\n");
        assert!(e.contains("missing field `name`"), "{e}");
        let e = bad("- a\n- b\n");
        assert!(e.contains("invalid type"), "{e}");
    }

    #[test]
    fn duplicate_names_are_errors() {
        let e = bad("nodes:\n  - name: a\n  - name: b\n  - name: a\n");
        assert!(
            e.contains("node name `a` is used twice (entries 1 and 3)"),
            "{e}"
        );
        assert!(e.starts_with("c.yml:"), "{e}");
        let e = bad("nodes:\n  - n[1-3]\n  - n2\n");
        assert!(e.contains("`n2` is used twice"), "{e}");
        let e = bad("nodes: a,a\n");
        assert!(e.contains("`a` is used twice"), "{e}");
        let e = bad("nodes:\n  - name: a\n    name: b\n");
        assert!(e.contains("duplicate"), "{e}");
    }

    #[test]
    fn bad_names_hosts_and_host_lists() {
        let e = bad("nodes:\n  - name: n[1-3\n");
        assert!(
            e.contains("never closed") && e.starts_with("c.yml:2:"),
            "{e}"
        );
        let e = bad("nodes:\n  - name: n[3-1]\n");
        assert!(e.contains("backwards"), "{e}");
        let e = bad("nodes:\n  - name: n[1-2]\n    host: h[1-3]\n");
        assert!(
            e.contains("gives 2 nodes but host `h[1-3]` gives 3 hosts"),
            "{e}"
        );
        let e = bad("nodes:\n  - name: a/b\n");
        assert!(e.contains("not a usable node name"), "{e}");
        let e = bad("nodes:\n  - name: a\n    host: -oProxyCommand=touch\n");
        assert!(e.contains("starts with `-`"), "{e}");
        let e = bad("nodes:\n  - name: a\n    host: root@b\n");
        assert!(e.contains("`user:`"), "{e}");
        let e = bad("nodes:\n  - name: a\n    host: \"b c\"\n");
        assert!(e.contains("blanks"), "{e}");
        let e = bad("nodes: \"n[1-100000]\"\n");
        assert!(e.contains("more than 65536"), "{e}");
    }

    #[test]
    fn empty_files_and_lists() {
        assert!(bad("").contains("empty"));
        assert!(
            bad("# nothing\n").contains("missing field `nodes`")
                || bad("# nothing\n").contains("empty")
        );
        assert!(bad("nodes: []\n").contains("at least one node"));
        assert!(bad("defaults: {user: x}\n").contains("missing field `nodes`"));
        let e = bad("nodes: [a]\n---\nnodes: [b]\n");
        assert!(e.contains("more than one document"), "{e}");
    }

    #[test]
    fn hostlist_nodes_and_selection() {
        let c = Cluster::from_hostlist("local,h[1-2]").unwrap();
        assert!(c.nodes[0].is_local());
        assert_eq!(c.nodes[2].host.as_deref(), Some("h2"));
        let e = Cluster::from_hostlist("h1,h1").unwrap_err().to_string();
        assert!(e.contains("listed twice"), "{e}");
        let e = Cluster::from_hostlist("h[1-").unwrap_err().to_string();
        assert!(e.starts_with("--nodes: bad host list"), "{e}");
        let e = Cluster::from_hostlist("-oProxyCommand=x")
            .unwrap_err()
            .to_string();
        assert!(e.contains("not a usable node name"), "{e}");

        let mut c = parse("nodes: [mds1, oss1, oss2, client1]\n");
        c.select("oss[1-2]", "c.yml").unwrap();
        assert_eq!(c.nodes.len(), 2);
        let mut c = parse("nodes: [mds1, oss1]\n");
        let e = c.select("mds2", "c.yml").unwrap_err().to_string();
        assert!(
            e.contains("no node `mds2` in c.yml (did you mean `mds1`?)"),
            "{e}"
        );
    }

    #[test]
    fn files_that_cannot_be_read() {
        let e = Cluster::from_file(Path::new("/nonexistent/c.yml"))
            .unwrap_err()
            .to_string();
        assert!(e.starts_with("/nonexistent/c.yml: "), "{e}");
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("c.yml");
        std::fs::write(&p, b"nodes: [\xff]\n").unwrap();
        let e = Cluster::from_file(&p).unwrap_err().to_string();
        assert!(e.contains("not UTF-8"), "{e}");
    }

    #[test]
    fn ssh_config_is_relative_to_the_cluster_file_and_must_exist() {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("cluster.yaml");
        std::fs::write(&file, "ssh_config: ssh_config\nnodes: [vm1]\n").unwrap();
        let e = Cluster::from_file(&file).unwrap_err().to_string();
        assert!(
            e.contains("ssh_config:") && e.contains("is not a file"),
            "{e}"
        );
        std::fs::write(dir.path().join("ssh_config"), "Host vm1\n").unwrap();
        let c = Cluster::from_file(&file).unwrap();
        assert_eq!(c.ssh.config_file, Some(dir.path().join("ssh_config")));
    }
}
