//! Planning: asks a node for each test's plan, checks the plan is runnable, and binds the
//! test's roles to the cluster's nodes — or says, in words, why the cluster cannot run it.
//!
//! Roles bind by name first (a node whose cluster description lists the role), then in
//! cluster order; each role takes a distinct node. Among free nodes, ones that meet the
//! role's needs are preferred, so a role needing two interfaces (a router) lands on a node
//! that has them when there is one; the roles needing the most interfaces pick first.

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::fmt::Write as _;
use std::sync::Arc;

use crate::discovery::TestFile;
use crate::node::{CallError, Node};
use crate::protocol::{ErrorKind, Facts, Needs, Op, PlanArgs, StepPlan, TestPlan};

/// Role name → node name.
pub type Binding = BTreeMap<String, String>;

/// A node as binding sees it.
#[derive(Debug, Clone, PartialEq)]
pub struct NodeStatus {
    /// The cluster's name for it.
    pub name: String,
    /// Roles the cluster description gives it.
    pub roles: Vec<String>,
    /// Its facts, asked once per run; `None` when it did not answer.
    pub facts: Option<Facts>,
    /// Why it cannot be used, as a phrase following "node NAME": `lost: <error>` or
    /// `unreachable: <error>`. `None` while it is usable.
    pub down: Option<String>,
    /// Block devices for Lustre targets (the cluster file's `targets:`), given to steps.
    pub targets: Option<crate::protocol::Targets>,
}

impl NodeStatus {
    fn usable(&self) -> bool {
        self.down.is_none() && self.facts.is_some()
    }

    /// Why this node cannot be `role`'s in a test with `needs`, or `None` when it can.
    fn unmet(&self, needs: &Needs, role: &str) -> Option<String> {
        let name = &self.name;
        if let Some(why) = &self.down {
            return Some(format!("node {name} {why}"));
        }
        let Some(facts) = &self.facts else {
            return Some(format!("node {name} has no facts"));
        };
        if let Some(why) = &facts.python.missing {
            return Some(format!("needs python3 on node {name}: {why}"));
        }
        let have = facts.usable_interfaces().count();
        let want = needs.interfaces_of(role);
        if (have as u64) < u64::from(want) {
            let s = if want == 1 { "" } else { "s" };
            // A need of this role's own names the role; one of every node does not.
            let who = if want > needs.interfaces {
                format!("role {role} ")
            } else {
                String::new()
            };
            return Some(format!(
                "{who}needs {want} usable interface{s} on node {name}, has {have}"
            ));
        }
        // lutf loads LNet where it is installed (the test's set-up step).
        if needs.lnet && !facts.lnet.module_loaded && !facts.lnet.installed {
            return Some(format!("needs LNet, not installed on node {name}"));
        }
        None
    }
}

/// Binds the roles of `needs` to distinct nodes, or says why the cluster cannot meet them
/// (the test is then SKIP with that reason).
pub fn bind(needs: &Needs, nodes: &[NodeStatus]) -> Result<Binding, String> {
    let usable = nodes.iter().filter(|n| n.usable()).count();
    if needs.roles.len() > usable {
        let n = needs.roles.len();
        let mut reason = format!(
            "needs {n} node{}, have {usable}",
            if n == 1 { "" } else { "s" }
        );
        let down: Vec<String> = nodes
            .iter()
            .filter_map(|n| n.down.as_ref().map(|why| format!("node {} {why}", n.name)))
            .collect();
        if !down.is_empty() {
            let _ = write!(reason, " ({})", down.join("; "));
        }
        return Err(reason);
    }

    let mut binding = Binding::new();
    let mut used: BTreeSet<usize> = BTreeSet::new();
    // Picks, among `candidates` not used yet, a usable node meeting `role`'s needs, else
    // any usable one.
    let pick = |candidates: &mut dyn Iterator<Item = usize>, used: &BTreeSet<usize>, role: &str| {
        let free: Vec<usize> = candidates
            .filter(|i| !used.contains(i) && nodes[*i].usable())
            .collect();
        free.iter()
            .copied()
            .find(|&i| nodes[i].unmet(needs, role).is_none())
            .or_else(|| free.first().copied())
    };

    // By name: a role the cluster assigns to a node goes to that node, and only there.
    for role in &needs.roles {
        let named: Vec<usize> = (0..nodes.len())
            .filter(|&i| nodes[i].roles.contains(role))
            .collect();
        if named.is_empty() {
            continue;
        }
        match pick(&mut named.iter().copied(), &used, role) {
            Some(i) => {
                used.insert(i);
                binding.insert(role.clone(), nodes[i].name.clone());
            }
            None => {
                // Every node given this role is down or taken by another role.
                if let Some(n) = named.iter().map(|&i| &nodes[i]).find(|n| !n.usable()) {
                    return Err(format!(
                        "role {role}: {}",
                        n.unmet(needs, role).unwrap_or_default()
                    ));
                }
            }
        }
    }
    // In order: the rest take the first free nodes, the roles needing the most interfaces
    // first (a node with enough for the router serves an end too, not the reverse).
    let mut rest: Vec<&String> = needs
        .roles
        .iter()
        .filter(|r| !binding.contains_key(*r))
        .collect();
    rest.sort_by_key(|r| std::cmp::Reverse(needs.interfaces_of(r)));
    for role in rest {
        let Some(i) = pick(&mut (0..nodes.len()), &used, role) else {
            return Err(format!(
                "needs {} nodes, have {usable} for roles {}",
                needs.roles.len(),
                needs.roles.join(", ")
            ));
        };
        used.insert(i);
        binding.insert(role.clone(), nodes[i].name.clone());
    }

    // Every bound node must meet the needs; the first that does not names the reason.
    for role in &needs.roles {
        let node = nodes
            .iter()
            .find(|n| n.name == binding[role])
            .expect("bound to a known node");
        if let Some(why) = node.unmet(needs, role) {
            return Err(why);
        }
    }
    Ok(binding)
}

/// The name of lutf's own clean step (`lutf.clean@ROLE` on each node).
pub const CLEAN_STEP: &str = "lutf.clean";

/// The name of lutf's own first cleanup (logs, fault rules, debug mask), which comes after
/// the test's own cleanups.
pub const LOGS_STEP: &str = "lutf.logs";

/// The step's name without its `@role`.
fn base_name(step: &str) -> &str {
    step.split_once('@').map_or(step, |(base, _)| base)
}

/// Whether `step` is one of the steps lutf adds to a test (named `lutf.*`).
pub fn is_system_step(step: &str) -> bool {
    step.starts_with("lutf.")
}

/// The plan to run: the test's steps with lutf's own (`plan.system`) merged in — its
/// set-up steps before every step of the test, its cleanups after the test's cleanups —
/// and without the clean steps when `clean` is off (`--no-clean`).
pub fn merge_system(plan: &TestPlan, clean: bool) -> TestPlan {
    let dropped = |name: &str| !clean && base_name(name) == CLEAN_STEP;
    let system: Vec<StepPlan> = plan
        .system
        .iter()
        .filter(|s| !dropped(&s.name))
        .map(|s| {
            let mut s = s.clone();
            s.after.retain(|a| !dropped(a));
            s
        })
        .collect();
    let setup: Vec<String> = system
        .iter()
        .filter(|s| !s.cleanup)
        .map(|s| s.name.clone())
        .collect();
    let own_cleanups: Vec<String> = plan
        .steps
        .iter()
        .filter(|s| s.cleanup)
        .map(|s| s.name.clone())
        .collect();
    let mut steps: Vec<StepPlan> = system.iter().filter(|s| !s.cleanup).cloned().collect();
    for s in &plan.steps {
        let mut s = s.clone();
        if !s.cleanup {
            let mut after = setup.clone();
            after.append(&mut s.after);
            s.after = after;
        }
        steps.push(s);
    }
    for s in system.iter().filter(|s| s.cleanup) {
        let mut s = s.clone();
        if base_name(&s.name) == LOGS_STEP {
            let mut after = own_cleanups.clone();
            after.append(&mut s.after);
            s.after = after;
        }
        steps.push(s);
    }
    TestPlan {
        description: plan.description.clone(),
        needs: plan.needs.clone(),
        steps,
        system: Vec::new(),
        setup: plan.setup.clone(),
    }
}

/// Checks that a plan can be sequenced: unique step names, known roles and steps,
/// no cycles, `stops` naming background steps, cleanup steps neither in the background
/// nor depended on by ordinary steps (those run first).
pub fn validate(plan: &TestPlan) -> Result<(), String> {
    let mut index: HashMap<&str, usize> = HashMap::new();
    for (i, s) in plan.steps.iter().enumerate() {
        if index.insert(s.name.as_str(), i).is_some() {
            return Err(format!("two steps are named {:?}", s.name));
        }
    }
    for s in &plan.steps {
        if !plan.needs.roles.contains(&s.role) {
            return Err(format!(
                "step {} runs as role {:?}, which the test does not declare (roles: {})",
                s.name,
                s.role,
                plan.needs.roles.join(", ")
            ));
        }
        for a in &s.after {
            let Some(&j) = index.get(a.as_str()) else {
                return Err(format!("step {} comes after unknown step {a:?}", s.name));
            };
            if plan.steps[j].cleanup && !s.cleanup {
                return Err(format!(
                    "step {} comes after cleanup step {a}, but cleanup steps run last",
                    s.name
                ));
            }
        }
        for b in &s.stops {
            match index.get(b.as_str()) {
                Some(&j) if plan.steps[j].background => {}
                Some(_) => {
                    return Err(format!(
                        "step {} stops {b}, which is not a background step",
                        s.name
                    ))
                }
                None => return Err(format!("step {} stops unknown step {b:?}", s.name)),
            }
        }
        if s.cleanup && s.background {
            return Err(format!(
                "cleanup step {} cannot run in the background",
                s.name
            ));
        }
        if let Some(t) = s.timeout {
            if !(t.is_finite() && t > 0.0) {
                return Err(format!(
                    "step {} has timeout {t}: it must be a positive number of seconds",
                    s.name
                ));
            }
        }
    }
    // Cycles: depth-first search with colours.
    fn visit(
        i: usize,
        plan: &TestPlan,
        index: &HashMap<&str, usize>,
        colour: &mut [u8],
        path: &mut Vec<usize>,
    ) -> Result<(), String> {
        match colour[i] {
            2 => return Ok(()),
            1 => {
                let start = path.iter().position(|&p| p == i).unwrap_or(0);
                let mut names: Vec<&str> = path[start..]
                    .iter()
                    .map(|&p| plan.steps[p].name.as_str())
                    .collect();
                names.push(&plan.steps[i].name);
                return Err(format!(
                    "steps depend on each other in a circle: {}",
                    names.join(" -> ")
                ));
            }
            _ => {}
        }
        colour[i] = 1;
        path.push(i);
        for a in &plan.steps[i].after {
            visit(index[a.as_str()], plan, index, colour, path)?;
        }
        path.pop();
        colour[i] = 2;
        Ok(())
    }
    let mut colour = vec![0u8; plan.steps.len()];
    for i in 0..plan.steps.len() {
        visit(i, plan, &index, &mut colour, &mut Vec::new())?;
    }
    Ok(())
}

/// Why a test's plan could not be had: the file does not import, declares an invalid
/// test, or the node could not be asked.
#[derive(Debug, Clone, PartialEq)]
pub struct PlanError {
    /// One line.
    pub message: String,
    /// The Python traceback, when the file failed to import.
    pub traceback: Option<String>,
}

impl PlanError {
    fn from_call(test: &TestFile, e: &CallError) -> PlanError {
        match e.helper_error() {
            Some(h) if h.kind == ErrorKind::TestFile => PlanError {
                message: load_error(&test.bundle_path(), &h.message),
                traceback: h.detail.clone(),
            },
            _ => PlanError {
                message: format!("cannot read the plan of {}: {e}", test.bundle_path()),
                traceback: None,
            },
        }
    }

    /// The message, then the traceback on the following lines.
    pub fn full(&self) -> String {
        match &self.traceback {
            Some(tb) if !tb.trim().is_empty() => format!("{}\n{}", self.message, tb.trim_end()),
            _ => self.message.clone(),
        }
    }
}

/// A load error as one line that names the file once, relative to the suites folder: the
/// helper may lead with the file's absolute path on the node, which says nothing here.
fn load_error(file: &str, message: &str) -> String {
    let message = match message.split_once(": ") {
        Some((path, rest)) if path.starts_with('/') && path.ends_with(file) => rest,
        _ => message,
    };
    if message.contains(file) {
        message.to_string()
    } else {
        format!("{file}: {message}")
    }
}

/// What to call a test whose file does not load: the first line of its module docstring
/// when the file (read here, on this machine) starts with one, else the load error's first
/// line.
pub fn broken_description(test: &TestFile, e: &PlanError) -> String {
    std::fs::read_to_string(&test.path)
        .ok()
        .and_then(|source| docstring_summary(&source))
        .unwrap_or_else(|| e.message.lines().next().unwrap_or_default().to_string())
}

/// The first non-blank line of the docstring `source` opens with (after blank and comment
/// lines), if it does.
fn docstring_summary(source: &str) -> Option<String> {
    let rest = source
        .trim_start_matches('\u{feff}')
        .lines()
        .skip_while(|l| l.trim().is_empty() || l.trim_start().starts_with('#'))
        .collect::<Vec<_>>()
        .join("\n");
    let rest = rest.trim_start_matches(['r', 'R', 'u', 'U']);
    let quote = ["\"\"\"", "'''", "\"", "'"]
        .into_iter()
        .find(|q| rest.starts_with(q))?;
    let body = &rest[quote.len()..];
    let body = body.find(quote).map_or(body, |end| &body[..end]);
    let first = body.lines().map(str::trim).find(|l| !l.is_empty())?;
    Some(first.to_string())
}

/// How many `plan` calls one node answers at once, at most.
pub const PLAN_CONCURRENCY: usize = 4;

/// Asks `node` for the plan of every test, a few at a time, and validates each.
/// The answers come back in the order of `tests`.
pub async fn fetch_plans(node: &Node, tests: &[TestFile]) -> Vec<Result<TestPlan, PlanError>> {
    fetch_plans_from(&[(node.clone(), PLAN_CONCURRENCY)], tests).await
}

/// How many plans a node reads at once: one per CPU, up to [`PLAN_CONCURRENCY`]. Reading
/// a plan is an interpreter start and imports, all CPU: more at once than the node has
/// CPUs only makes each slower (four at once on a one-CPU emulated guest took past the
/// helper's 60 s for one plan).
pub fn plan_readers(cpus: u32) -> usize {
    (cpus as usize).clamp(1, PLAN_CONCURRENCY)
}

/// Asks for the plan of every test, the tests dealt in turn to `readers` (a node and how
/// many plans it reads at once), and validates each. The plans are the same on every node
/// (one bundle), so reading them on all nodes at once only spreads the work. The answers
/// come back in the order of `tests`.
pub async fn fetch_plans_from(
    readers: &[(Node, usize)],
    tests: &[TestFile],
) -> Vec<Result<TestPlan, PlanError>> {
    let limits: Vec<_> = readers
        .iter()
        .map(|(_, n)| Arc::new(tokio::sync::Semaphore::new((*n).max(1))))
        .collect();
    let mut set = tokio::task::JoinSet::new();
    for (i, test) in tests.iter().enumerate() {
        let r = i % readers.len();
        let (node, test, limit) = (readers[r].0.clone(), test.clone(), limits[r].clone());
        set.spawn(async move {
            let _permit = limit.acquire().await.expect("never closed");
            let res = node
                .call::<TestPlan>(Op::Plan(PlanArgs {
                    file: test.bundle_path(),
                }))
                .await
                .map_err(|e| PlanError::from_call(&test, &e))
                .and_then(|plan| {
                    validate(&plan).map(|()| plan).map_err(|why| PlanError {
                        message: format!("{} declares an invalid test: {why}", test.bundle_path()),
                        traceback: None,
                    })
                });
            (i, res)
        });
    }
    let mut out: Vec<Option<Result<TestPlan, PlanError>>> = vec![None; tests.len()];
    while let Some(joined) = set.join_next().await {
        match joined {
            Ok((i, res)) => out[i] = Some(res),
            Err(e) => {
                crate::reporter::eprintln(&format!("lutf: error: planning a test failed: {e}"))
            }
        }
    }
    out.into_iter()
        .zip(tests)
        .map(|(r, t)| {
            r.unwrap_or_else(|| {
                Err(PlanError {
                    message: format!("asking the plan of {} failed", t.bundle_path()),
                    traceback: None,
                })
            })
        })
        .collect()
}

/// What a test needs, in a few words: `1 node`, `2 nodes (server, client), 2 interfaces
/// each, LNet`, `3 nodes (client, router, server), router: 2 interfaces`.
pub fn describe_needs(needs: &Needs) -> String {
    let n = needs.roles.len();
    let mut s = format!("{n} node{}", if n == 1 { "" } else { "s" });
    let generic = needs
        .roles
        .iter()
        .enumerate()
        .all(|(i, r)| *r == format!("node{}", i + 1));
    if !generic && n > 0 {
        let _ = write!(s, " ({})", needs.roles.join(", "));
    }
    let plural = |k: u32| if k == 1 { "" } else { "s" };
    // What every role needs (at least `interfaces`: the least of the roles' own), then the
    // roles needing more, in the test's order of roles.
    let each = needs
        .roles
        .iter()
        .map(|r| needs.interfaces_of(r))
        .min()
        .unwrap_or(needs.interfaces);
    if each > 0 {
        let _ = write!(
            s,
            ", {each} interface{}{}",
            plural(each),
            if n > 1 { " each" } else { "" }
        );
    }
    for role in &needs.roles {
        let k = needs.interfaces_of(role);
        if k > each {
            let _ = write!(s, ", {role}: {k} interface{}", plural(k));
        }
    }
    if needs.lnet {
        s.push_str(", LNet");
    }
    s
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::protocol::{Addr, IfFlags, Interface, LnetState, OsInfo, PythonInfo};

    fn iface(name: &str, up: bool, lo: bool, ip: Option<&str>) -> Interface {
        Interface {
            name: name.into(),
            mtu: Some(1500),
            mac: None,
            flags: IfFlags {
                up,
                running: up,
                loopback: lo,
                broadcast: !lo,
                multicast: !lo,
            },
            ipv4: ip
                .map(|a| {
                    vec![Addr {
                        address: a.into(),
                        prefix: 24,
                    }]
                })
                .unwrap_or_default(),
            ipv6: vec![],
        }
    }

    fn facts(ifaces: usize, lnet: bool) -> Facts {
        let mut interfaces = vec![iface("lo", true, true, Some("127.0.0.1"))];
        for i in 0..ifaces {
            interfaces.push(iface(&format!("eth{i}"), true, false, Some("10.0.0.1")));
        }
        // Down, or without IPv4: not usable.
        interfaces.push(iface("eth8", false, false, Some("10.0.1.1")));
        interfaces.push(iface("eth9", true, false, None));
        Facts {
            hostname: "h".into(),
            kernel: "6.1".into(),
            arch: "x86_64".into(),
            os: OsInfo::default(),
            cpus: 2,
            memory_bytes: 1 << 30,
            python: PythonInfo {
                path: Some("/usr/bin/python3".into()),
                version: Some("3.11.2".into()),
                missing: None,
            },
            interfaces,
            lnet: LnetState {
                module_loaded: lnet,
                ..Default::default()
            },
        }
    }

    fn node(name: &str, roles: &[&str], ifaces: usize, lnet: bool) -> NodeStatus {
        NodeStatus {
            name: name.into(),
            roles: roles.iter().map(|r| r.to_string()).collect(),
            facts: Some(facts(ifaces, lnet)),
            down: None,
            targets: None,
        }
    }

    fn needs(roles: &[&str], interfaces: u32, lnet: bool) -> Needs {
        Needs {
            roles: roles.iter().map(|r| r.to_string()).collect(),
            interfaces,
            lnet,
            ..Default::default()
        }
    }

    /// `needs` with role → interfaces needs of its own.
    fn per_role(roles: &[&str], interfaces: u32, own: &[(&str, u32)]) -> Needs {
        Needs {
            role_interfaces: own.iter().map(|(r, k)| (r.to_string(), *k)).collect(),
            ..needs(roles, interfaces, false)
        }
    }

    fn b(pairs: &[(&str, &str)]) -> Binding {
        pairs
            .iter()
            .map(|(r, n)| (r.to_string(), n.to_string()))
            .collect()
    }

    #[test]
    fn binds_in_order_and_by_name() {
        let nodes = [
            node("a", &[], 1, false),
            node("b", &["server"], 1, false),
            node("c", &[], 1, false),
        ];
        assert_eq!(
            bind(&needs(&["node1", "node2"], 0, false), &nodes).unwrap(),
            b(&[("node1", "a"), ("node2", "b")])
        );
        assert_eq!(
            bind(&needs(&["client", "server"], 0, false), &nodes).unwrap(),
            b(&[("client", "a"), ("server", "b")])
        );
        assert_eq!(
            bind(&needs(&["server", "client", "router"], 0, false), &nodes).unwrap(),
            b(&[("server", "b"), ("client", "a"), ("router", "c")])
        );
    }

    #[test]
    fn prefers_nodes_meeting_the_needs() {
        let nodes = [node("a", &[], 1, false), node("b", &[], 2, true)];
        assert_eq!(
            bind(&needs(&["node1"], 2, false), &nodes).unwrap(),
            b(&[("node1", "b")])
        );
        assert_eq!(
            bind(&needs(&["node1"], 0, true), &nodes).unwrap(),
            b(&[("node1", "b")])
        );
    }

    #[test]
    fn says_what_is_missing() {
        let one = [node("a", &[], 1, false)];
        assert_eq!(
            bind(&needs(&["node1", "node2"], 0, false), &one).unwrap_err(),
            "needs 2 nodes, have 1"
        );
        assert_eq!(
            bind(&needs(&["node1"], 2, false), &one).unwrap_err(),
            "needs 2 usable interfaces on node a, has 1"
        );
        assert_eq!(
            bind(&needs(&["node1"], 0, true), &one).unwrap_err(),
            "needs LNet, not installed on node a"
        );
        let mut nopy = node("a", &[], 1, false);
        nopy.facts.as_mut().unwrap().python = PythonInfo {
            missing: Some("python3 not found".into()),
            ..Default::default()
        };
        assert_eq!(
            bind(&needs(&["node1"], 0, false), &[nopy]).unwrap_err(),
            "needs python3 on node a: python3 not found"
        );
    }

    #[test]
    fn interfaces_are_needed_per_role() {
        let routed = per_role(&["client", "router", "server"], 0, &[("router", 2)]);
        // Only the router needs two: the ends bind to one-interface nodes.
        let nodes = [
            node("a", &[], 1, false),
            node("b", &[], 1, false),
            node("c", &[], 2, false),
        ];
        assert_eq!(
            bind(&routed, &nodes).unwrap(),
            b(&[("client", "a"), ("router", "c"), ("server", "b")])
        );
        // The router picks first, so an end does not take the only node with two.
        let nodes = [
            node("a", &[], 2, false),
            node("b", &[], 1, false),
            node("c", &[], 1, false),
        ];
        assert_eq!(
            bind(&routed, &nodes).unwrap(),
            b(&[("client", "b"), ("router", "a"), ("server", "c")])
        );
        // A role named on a node keeps it; its need is checked there.
        let nodes = [
            node("a", &[], 2, false),
            node("b", &["router"], 1, false),
            node("c", &[], 1, false),
        ];
        assert_eq!(
            bind(&routed, &nodes).unwrap_err(),
            "role router needs 2 usable interfaces on node b, has 1"
        );
        // None has two: the SKIP names the role, the node and the count.
        let ones = [
            node("a", &[], 1, false),
            node("b", &[], 1, false),
            node("c", &[], 1, false),
        ];
        assert_eq!(
            bind(&routed, &ones).unwrap_err(),
            "role router needs 2 usable interfaces on node a, has 1"
        );
        // The need of every role still holds beside a role's own.
        let both = per_role(&["client", "router"], 2, &[("router", 3)]);
        let nodes = [node("a", &[], 3, false), node("b", &[], 1, false)];
        assert_eq!(
            bind(&both, &nodes).unwrap_err(),
            "needs 2 usable interfaces on node b, has 1"
        );
        assert_eq!(both.interfaces_of("client"), 2);
        assert_eq!(both.interfaces_of("router"), 3);
        // A role's own need below every role's is no less than every role's.
        assert_eq!(per_role(&["x"], 2, &[("x", 1)]).interfaces_of("x"), 2);
    }

    #[test]
    fn lost_nodes_are_avoided_then_named() {
        let mut nodes = vec![
            node("a", &[], 1, false),
            node("b", &["server"], 1, false),
            node("c", &[], 1, false),
        ];
        nodes[0].down = Some("lost: connection reset".into());
        // One role: the next node takes it.
        assert_eq!(
            bind(&needs(&["node1"], 0, false), &nodes).unwrap(),
            b(&[("node1", "b")])
        );
        // Three roles, two nodes left.
        assert_eq!(
            bind(&needs(&["x", "y", "z"], 0, false), &nodes).unwrap_err(),
            "needs 3 nodes, have 2 (node a lost: connection reset)"
        );
        // A role the cluster pins to a lost node is not moved elsewhere.
        nodes[0].down = None;
        nodes[1].down = Some("lost: timeout".into());
        assert_eq!(
            bind(&needs(&["server"], 0, false), &nodes).unwrap_err(),
            "role server: node b lost: timeout"
        );
    }

    fn step(name: &str, role: &str, after: &[&str]) -> StepPlan {
        StepPlan {
            name: name.into(),
            role: role.into(),
            after: after.iter().map(|s| s.to_string()).collect(),
            timeout: None,
            cleanup: false,
            background: false,
            stops: vec![],
            description: String::new(),
        }
    }

    fn plan(steps: Vec<StepPlan>) -> TestPlan {
        TestPlan {
            description: "d".into(),
            needs: needs(&["node1"], 0, false),
            steps,
            system: vec![],
            setup: vec![],
        }
    }

    #[test]
    fn system_steps_frame_the_test() {
        let mut p = plan(vec![step("a", "node1", &[]), step("b", "node1", &["a"]), {
            let mut c = step("tidy", "node1", &[]);
            c.cleanup = true;
            c
        }]);
        let mut logs = step("lutf.logs@node1", "node1", &["lutf.clean@node1"]);
        logs.cleanup = true;
        let mut undo = step("lutf.undo@node1", "node1", &["lutf.logs@node1"]);
        undo.cleanup = true;
        p.system = vec![
            step("lutf.clean@node1", "node1", &[]),
            step("lutf.setup@node1", "node1", &["lutf.clean@node1"]),
            logs,
            undo,
        ];
        let names = |p: &TestPlan| p.steps.iter().map(|s| s.name.clone()).collect::<Vec<_>>();
        let after =
            |p: &TestPlan, n: &str| p.steps.iter().find(|s| s.name == n).unwrap().after.clone();
        let m = merge_system(&p, true);
        validate(&m).unwrap();
        assert_eq!(
            names(&m),
            [
                "lutf.clean@node1",
                "lutf.setup@node1",
                "a",
                "b",
                "tidy",
                "lutf.logs@node1",
                "lutf.undo@node1"
            ]
        );
        assert_eq!(after(&m, "a"), ["lutf.clean@node1", "lutf.setup@node1"]);
        assert_eq!(
            after(&m, "b"),
            ["lutf.clean@node1", "lutf.setup@node1", "a"]
        );
        assert!(after(&m, "tidy").is_empty());
        assert_eq!(after(&m, "lutf.logs@node1"), ["tidy", "lutf.clean@node1"]);
        // --no-clean: the clean steps and every mention of them are gone.
        let m = merge_system(&p, false);
        validate(&m).unwrap();
        assert!(!names(&m).iter().any(|n| n.starts_with("lutf.clean")));
        assert_eq!(after(&m, "a"), ["lutf.setup@node1"]);
        assert_eq!(after(&m, "lutf.setup@node1"), Vec::<String>::new());
        assert_eq!(after(&m, "lutf.logs@node1"), ["tidy"]);
    }

    #[test]
    fn validation_names_the_problem() {
        assert!(validate(&plan(vec![
            step("a", "node1", &[]),
            step("b", "node1", &["a"])
        ]))
        .is_ok());
        let e = validate(&plan(vec![step("a", "node1", &["c"])])).unwrap_err();
        assert!(e.contains("unknown step \"c\""), "{e}");
        let e = validate(&plan(vec![step("a", "server", &[])])).unwrap_err();
        assert!(e.contains("role \"server\""), "{e}");
        let e = validate(&plan(vec![
            step("a", "node1", &["c"]),
            step("b", "node1", &["a"]),
            step("c", "node1", &["b"]),
        ]))
        .unwrap_err();
        assert!(e.contains("a -> c -> b -> a"), "{e}");
        let e = validate(&plan(vec![
            step("a", "node1", &[]),
            step("a", "node1", &[]),
        ]))
        .unwrap_err();
        assert!(e.contains("two steps"), "{e}");
        let mut c = step("c", "node1", &[]);
        c.cleanup = true;
        let e = validate(&plan(vec![c.clone(), step("a", "node1", &["c"])])).unwrap_err();
        assert!(e.contains("cleanup steps run last"), "{e}");
        let mut s = step("s", "node1", &[]);
        s.stops = vec!["a".into()];
        let e = validate(&plan(vec![step("a", "node1", &[]), s])).unwrap_err();
        assert!(e.contains("not a background step"), "{e}");
    }

    #[test]
    fn load_errors_name_the_file_once() {
        let f = "broken/test_02.py";
        assert_eq!(
            load_error(
                f,
                "/tmp/w/abc/suites/broken/test_02.py: broken/test_02.py:12: SyntaxError: x"
            ),
            "broken/test_02.py:12: SyntaxError: x"
        );
        assert_eq!(
            load_error(f, "python wrote no plan"),
            "broken/test_02.py: python wrote no plan"
        );
    }

    #[test]
    fn needs_in_words() {
        assert_eq!(describe_needs(&needs(&["node1"], 0, false)), "1 node");
        assert_eq!(
            describe_needs(&needs(&["node1", "node2"], 2, true)),
            "2 nodes, 2 interfaces each, LNet"
        );
        assert_eq!(
            describe_needs(&needs(&["server", "client"], 1, false)),
            "2 nodes (server, client), 1 interface each"
        );
        assert_eq!(
            describe_needs(&per_role(
                &["client", "router", "server"],
                0,
                &[("router", 2)]
            )),
            "3 nodes (client, router, server), router: 2 interfaces"
        );
        assert_eq!(
            describe_needs(&per_role(
                &["client", "router", "server"],
                1,
                &[("router", 2), ("server", 1)]
            )),
            "3 nodes (client, router, server), 1 interface each, router: 2 interfaces"
        );
        // Every role needing one of its own reads as one each.
        assert_eq!(
            describe_needs(&per_role(
                &["client", "router", "server"],
                0,
                &[("client", 1), ("router", 2), ("server", 1)]
            )),
            "3 nodes (client, router, server), 1 interface each, router: 2 interfaces"
        );
        assert_eq!(
            describe_needs(&per_role(&["node1"], 0, &[("node1", 2)])),
            "1 node, 2 interfaces"
        );
    }

    #[test]
    fn a_broken_files_docstring_is_read_here() {
        assert_eq!(
            docstring_summary(
                "\n# a comment\n\"\"\"\n  Broken: imports nothing.\n\nMore.\n\"\"\"\nimport x y\n"
            ),
            Some("Broken: imports nothing.".into())
        );
        assert_eq!(
            docstring_summary("r'''One line.'''"),
            Some("One line.".into())
        );
        assert_eq!(docstring_summary("\"Short.\"\n"), Some("Short.".into()));
        assert_eq!(docstring_summary("import x\n\"\"\"Late.\"\"\""), None);
        assert_eq!(docstring_summary("\"\"\"   \"\"\""), None);
        assert_eq!(docstring_summary(""), None);
    }
}
