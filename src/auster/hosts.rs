//! The cfg's host variables (`mds_HOST`, `CLIENTS`, ...) as lutf's nodes and roles:
//! [`Hosts::cluster`].

use std::collections::BTreeMap;

use crate::cluster::{Cluster, NodeSpec};
use crate::hostlist;

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
                        targets: None,
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::auster::env::tests::env;
    use crate::auster::env::AusterEnv;

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
}
