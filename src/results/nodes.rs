//! Which name each node goes by in file names, and its `node.<host>.yml`.
//!
//! auster names files after a node's short hostname (`hostname -s`). Several lutf nodes can
//! share one hostname (several `sshd` on one machine, or `local` beside a node that is this
//! machine), so [`host_labels`] keeps the short hostname where it is unique and falls back
//! to the node's cluster name where it is not.
//!
//! `node.<host>.yml` follows yaml.sh's `yml_node`: a `Build:` block, a `Node:` block
//! (`node_name`, `mem_size` as `N kB`, `architecture`, `networks` as LNet network types),
//! and `LustreEntities:`, each with the keys the node's facts can fill; then `Facts:`, every
//! fact the helper reported, for people and programs that want more.

use std::collections::{BTreeMap, BTreeSet};
use std::fmt::Write as _;

use super::safe_file_part;
use crate::auster::yaml::{quoted, scalar};
use crate::outcome::{NodeRecord, RunOutcome};

/// The short form of a hostname: up to the first dot.
pub fn short_host(hostname: &str) -> &str {
    hostname.split('.').next().unwrap_or("").trim()
}

/// The short hostname a node record gives: its facts' hostname, else the record's, else "".
fn node_short_host(node: &NodeRecord) -> &str {
    node.facts
        .as_ref()
        .map(|f| short_host(&f.hostname))
        .filter(|h| !h.is_empty())
        .unwrap_or_else(|| short_host(&node.hostname))
}

/// Node name → the `<host>` part of its file names: its short hostname when no other node of
/// the run has the same one, else its cluster name; always safe in a file name.
pub fn host_labels(run: &RunOutcome) -> BTreeMap<String, String> {
    let mut by_host: BTreeMap<String, usize> = BTreeMap::new();
    for node in run.nodes.values() {
        *by_host
            .entry(safe_file_part(node_short_host(node)))
            .or_default() += 1;
    }
    let mut labels = BTreeMap::new();
    let mut taken = BTreeSet::new();
    for (name, node) in &run.nodes {
        let short = node_short_host(node);
        let host = safe_file_part(short);
        let mut label = if !short.is_empty() && by_host[&host] == 1 {
            host
        } else {
            safe_file_part(name)
        };
        // A node named like another node's hostname: keep both apart.
        if taken.contains(&label) {
            label = format!("{}-{}", safe_file_part(short), safe_file_part(name));
        }
        taken.insert(label.clone());
        labels.insert(name.clone(), label);
    }
    labels
}

/// The `<host>` of files about the master itself (suite logs): its short hostname.
pub fn master_label(run: &RunOutcome) -> String {
    let short = short_host(&run.testhost);
    if short.is_empty() {
        "localhost".to_string()
    } else {
        safe_file_part(short)
    }
}

/// `node.<host>.yml`.
pub fn file_name(label: &str) -> String {
    format!("node.{label}.yml")
}

/// The `node.<host>.yml` of one node.
pub fn render(node: &NodeRecord, label: &str) -> String {
    let mut out = String::new();
    let kv = |out: &mut String, indent: usize, key: &str, value: &str| {
        let _ = writeln!(out, "{:indent$}{key}: {}", "", scalar(value));
    };
    let short = node_short_host(node);
    let node_name = if short.is_empty() { label } else { short };
    match &node.facts {
        Some(f) => {
            out.push_str("Build:\n");
            kv(&mut out, 4, "architecture", &f.arch);
            let distro = if f.os.pretty_name.is_empty() {
                format!("{} {}", f.os.id, f.os.version_id)
                    .trim()
                    .to_string()
            } else {
                f.os.pretty_name.clone()
            };
            kv(&mut out, 4, "os_distribution", &distro);
            if let Some(v) = &f.lnet.version {
                kv(&mut out, 4, "lustre_version", v);
            }
            kv(&mut out, 4, "kernel_version", &f.kernel);
            out.push('\n');
            out.push_str("Node:\n");
            kv(&mut out, 4, "node_name", node_name);
            let _ = writeln!(out, "    mem_size: {} kB", f.memory_bytes / 1024);
            kv(&mut out, 4, "architecture", &f.arch);
            out.push_str("    networks:\n");
            for net in networks(&f.lnet.nids) {
                let _ = writeln!(out, "        - {}", scalar(&net));
            }
            out.push('\n');
            out.push_str("LustreEntities:\n");
            out.push('\n');
            // serde_yaml writes the facts in its own (valid) style under their own key.
            let facts = BTreeMap::from([("Facts", f)]);
            match serde_yaml::to_string(&facts) {
                Ok(text) => out.push_str(&text),
                Err(e) => {
                    let _ = writeln!(
                        out,
                        "# facts could not be written: {}",
                        quoted(&e.to_string())
                    );
                }
            }
        }
        None => {
            out.push_str("Node:\n");
            kv(&mut out, 4, "node_name", node_name);
            out.push('\n');
            out.push_str("LustreEntities:\n");
        }
    }
    out.push('\n');
    out.push_str("lutf:\n");
    kv(&mut out, 4, "name", &node.name);
    kv(&mut out, 4, "hostname", &node.hostname);
    if let Some(e) = &node.error {
        let _ = writeln!(out, "    error: {}", quoted(e));
    }
    out
}

/// LNet network names of a node's NIDs, as yaml.sh lists them (`lctl list_nids | grep -v @lo
/// | cut -f 2 -d @ | uniq`): `10.0.0.1@tcp` → `tcp`.
fn networks(nids: &[String]) -> Vec<String> {
    let mut out: Vec<String> = Vec::new();
    for nid in nids {
        let Some((_, net)) = nid.split_once('@') else {
            continue;
        };
        if net == "lo" || out.last().map(String::as_str) == Some(net) {
            continue;
        }
        out.push(net.to_string());
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn networks_like_yaml_sh() {
        let nids = ["0@lo", "10.0.0.1@tcp", "10.0.1.1@tcp", "192.168.1.2@o2ib1"]
            .map(String::from)
            .to_vec();
        assert_eq!(networks(&nids), vec!["tcp", "o2ib1"]);
    }

    #[test]
    fn short_hosts() {
        assert_eq!(short_host("onyx-15vm1.example.com"), "onyx-15vm1");
        assert_eq!(short_host("plain"), "plain");
        assert_eq!(short_host(""), "");
    }
}
