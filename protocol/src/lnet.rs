//! The LNet operations and their types.
//!
//! - `lnet`: one liblnetconfig call ([`LnetCall`]), made by the `lutf-lnetconfig` companion
//!   that the static helper starts (a static program cannot load the node's shared library
//!   safely). Answers [`LnetReply`].
//! - `lnetctl`: runs the node's `lnetctl` with any arguments and parses the YAML it prints.
//!   Answers [`LnetctlResult`].
//! - `lst`: one step of an lnet_selftest session ([`LstAction`]), the session key
//!   (`LST_SESSION`) kept on the node between calls. Answers [`LstResult`].
//!
//! Networks, NIDs, CPT sets, settings and the NI / route / peer / UDSP configurations are
//! `lutf_lnet`'s typed arguments: they travel as the text lnetctl takes (`tcp1`,
//! `10.0.0.1@tcp`, `[0,1]`), and a bad one is a `bad_args` error when the request is read.
//!
//! ```yaml
//! version: 1
//! op: lnet
//! args: {call: show_net, net: tcp, detail: 1}
//! ```

use serde::{Deserialize, Serialize};
use serde_yaml::Value;

pub use lutf_lnet::lnetctl::LnetctlError;
pub use lutf_lnet::{
    Abi, CptSet, Global, LndTunables, NetId, NiConfig, Nid, PeerConfig, RouteConfig, Tunables,
    UdspRule,
};

/// The highest detail level of `show_net` and `show_peer` (lnetctl's `-v 4`).
pub const MAX_DETAIL: u32 = 4;

/// How long a `ping` waits for its answer when the request does not say: lnetctl's
/// default, one second.
pub const DEFAULT_PING_TIMEOUT: f64 = 1.0;

/// Arguments of `lnet`: one call (its name in `call`, its arguments beside it), and how to
/// reach the library.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct LnetArgs {
    /// The call. (Unknown fields are refused by the call itself.)
    #[serde(flatten)]
    pub call: LnetCall,
    /// The liblnetconfig ABI to call it with ("2.15", "2.16", "2.17"); by default the
    /// node's Lustre version picks it. For installs that report an odd version.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub abi: Option<String>,
    /// The library to load instead of `liblnetconfig.so.4` from the loader's search path
    /// (an install under `/opt`, say).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub library: Option<String>,
}

impl LnetArgs {
    /// `call` with the library and ABI found on the node.
    pub fn new(call: LnetCall) -> LnetArgs {
        LnetArgs {
            call,
            abi: None,
            library: None,
        }
    }
}

/// One liblnetconfig call, named after lnetctl's commands: `call: show_net` on the wire,
/// with its arguments beside it (`detail: 1`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "call", rename_all = "snake_case", deny_unknown_fields)]
pub enum LnetCall {
    /// `lnetctl lnet configure [--all]`: brings LNet up; `all` also configures the networks
    /// of the module parameters.
    Configure {
        /// Configure the module parameters' networks too.
        #[serde(default)]
        all: bool,
    },
    /// `lnetctl lnet unconfigure`.
    Unconfigure {},
    /// `lnetctl net add`.
    AddNi(NiConfig),
    /// `lnetctl net del`: the NIs of `net` on `interfaces` (all of them when empty).
    DelNi {
        /// The network.
        net: NetId,
        /// Only these interfaces.
        #[serde(default)]
        interfaces: Vec<String>,
    },
    /// `lnetctl net show [--net NET] [-v DETAIL]`.
    ShowNet {
        /// Only this network.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        net: Option<NetId>,
        /// 0 (default) to [`MAX_DETAIL`].
        #[serde(default)]
        detail: u32,
    },
    /// `lnetctl route add`.
    AddRoute(RouteConfig),
    /// `lnetctl route del`.
    DelRoute {
        /// The remote network.
        net: NetId,
        /// The gateway.
        gateway: Nid,
    },
    /// `lnetctl route show`: the routes matching every filter given.
    ShowRoute {
        /// Only routes to this network.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        net: Option<NetId>,
        /// Only routes through this gateway.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        gateway: Option<Nid>,
        /// Only routes with this hop count.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        hops: Option<u32>,
        /// Only routes with this priority.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        priority: Option<u32>,
        /// `-v`.
        #[serde(default)]
        detail: bool,
    },
    /// `lnetctl set routing 1|0`.
    SetRouting {
        /// On or off.
        enable: bool,
    },
    /// `lnetctl set tiny_buffers|small_buffers|large_buffers N`: those given (0 resets
    /// one to its default).
    SetBuffers {
        /// Tiny router buffers.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        tiny: Option<u32>,
        /// Small router buffers.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        small: Option<u32>,
        /// Large router buffers.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        large: Option<u32>,
    },
    /// `lnetctl routing show`: router buffers and whether routing is on.
    ShowRouting {},
    /// `lnetctl peer add`.
    AddPeer(PeerConfig),
    /// `lnetctl peer del`: `nids` of the peer, or the whole peer when empty.
    DelPeer {
        /// The peer's primary NID.
        primary: Nid,
        /// Only these NIDs.
        #[serde(default)]
        nids: Vec<Nid>,
        /// Also a locked primary NID.
        #[serde(default)]
        force: bool,
    },
    /// `lnetctl peer show [--nid NID] [-v DETAIL]`.
    ShowPeer {
        /// Only this peer.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        nid: Option<Nid>,
        /// 0 (default) to [`MAX_DETAIL`].
        #[serde(default)]
        detail: u32,
    },
    /// `lnetctl peer list`.
    ListPeers {},
    /// `lnetctl ping [--source SRC] [--timeout S] NID`.
    Ping {
        /// The NID to ping.
        nid: Nid,
        /// The local NID to send from.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        source: Option<Nid>,
        /// Seconds to wait (default [`DEFAULT_PING_TIMEOUT`]).
        #[serde(default, skip_serializing_if = "Option::is_none")]
        timeout: Option<f64>,
    },
    /// `lnetctl discover [--force] NID`.
    Discover {
        /// The NID to discover.
        nid: Nid,
        /// Discover again even if known.
        #[serde(default)]
        force: bool,
    },
    /// `lnetctl set SETTING VALUE` (`discovery 0|1` turns discovery off or on).
    SetGlobal {
        /// The setting.
        setting: Global,
        /// Its new value.
        value: i32,
    },
    /// `lnetctl global show`, or one setting of it.
    ShowGlobal {
        /// Only this setting.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        setting: Option<Global>,
    },
    /// `lnetctl stats show`.
    ShowStats {},
    /// `lnetctl stats reset`.
    ResetStats {},
    /// `lnetctl udsp add`.
    AddUdsp(UdspRule),
    /// `lnetctl udsp del --idx N`, or every rule.
    DelUdsp {
        /// The rule; all of them when absent.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        idx: Option<u32>,
    },
    /// `lnetctl udsp show [--idx N]`.
    ShowUdsp {
        /// Only this rule.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        idx: Option<u32>,
    },
    /// `lnetctl import`: configures what the YAML describes.
    YamlConfig {
        /// The configuration, as `lnetctl export` writes it.
        yaml: String,
    },
    /// `lnetctl import --del`: removes what the YAML describes.
    YamlDel {
        /// The configuration.
        yaml: String,
    },
    /// `lnetctl import --show`: shows what the YAML names.
    YamlShow {
        /// The items to show.
        yaml: String,
    },
    /// `lnetctl import --exec`: runs the commands the YAML holds (ping, discover).
    YamlExec {
        /// The commands.
        yaml: String,
    },
}

impl LnetCall {
    /// The call's name on the wire (`show_net`, ...).
    pub fn name(&self) -> &'static str {
        match self {
            LnetCall::Configure { .. } => "configure",
            LnetCall::Unconfigure {} => "unconfigure",
            LnetCall::AddNi(_) => "add_ni",
            LnetCall::DelNi { .. } => "del_ni",
            LnetCall::ShowNet { .. } => "show_net",
            LnetCall::AddRoute(_) => "add_route",
            LnetCall::DelRoute { .. } => "del_route",
            LnetCall::ShowRoute { .. } => "show_route",
            LnetCall::SetRouting { .. } => "set_routing",
            LnetCall::SetBuffers { .. } => "set_buffers",
            LnetCall::ShowRouting {} => "show_routing",
            LnetCall::AddPeer(_) => "add_peer",
            LnetCall::DelPeer { .. } => "del_peer",
            LnetCall::ShowPeer { .. } => "show_peer",
            LnetCall::ListPeers {} => "list_peers",
            LnetCall::Ping { .. } => "ping",
            LnetCall::Discover { .. } => "discover",
            LnetCall::SetGlobal { .. } => "set_global",
            LnetCall::ShowGlobal { .. } => "show_global",
            LnetCall::ShowStats {} => "show_stats",
            LnetCall::ResetStats {} => "reset_stats",
            LnetCall::AddUdsp(_) => "add_udsp",
            LnetCall::DelUdsp { .. } => "del_udsp",
            LnetCall::ShowUdsp { .. } => "show_udsp",
            LnetCall::YamlConfig { .. } => "yaml_config",
            LnetCall::YamlDel { .. } => "yaml_del",
            LnetCall::YamlShow { .. } => "yaml_show",
            LnetCall::YamlExec { .. } => "yaml_exec",
        }
    }

    /// What is wrong with the call's numbers, if anything (checked when a request is read).
    pub fn check(&self) -> Result<(), String> {
        match self {
            LnetCall::ShowNet { detail, .. } | LnetCall::ShowPeer { detail, .. }
                if *detail > MAX_DETAIL =>
            {
                Err(format!("detail must be 0 to {MAX_DETAIL}, got {detail}"))
            }
            LnetCall::Ping {
                timeout: Some(t), ..
            } if !(t.is_finite() && *t > 0.0 && *t <= crate::MAX_SECONDS) => Err(format!(
                "ping timeout must be a number of seconds above 0, got {t}"
            )),
            LnetCall::AddRoute(RouteConfig { hops: Some(h), .. }) if !(1..=255).contains(h) => {
                Err(format!("hops must be 1 to 255, got {h}"))
            }
            _ => Ok(()),
        }
    }
}

/// What `lnet` answers.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct LnetReply {
    /// The ABI the library was called with: "2.15", "2.16" or "2.17+".
    pub abi: String,
    /// The Lustre version that picked it, and where it was read (absent when forced).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub lustre_version: Option<String>,
    /// The call's result tree, as lnetctl would print it (`null` for calls that only act).
    pub result: Value,
}

/// What the node's LNet tools reported when they failed: carried by `lnet` errors (kind
/// `lnet`) so that callers can tell one failure from another without parsing text.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LnetFailure {
    /// The errno reported (negative, as LNet reports it), when there is one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub errno: Option<i64>,
    /// The description reported (`cannot add LNet NI`), unquoted.
    pub description: String,
    /// The liblnetconfig function, or the tool and its command (`lnetctl net add`).
    pub op: String,
    /// The command of the error tree (`add`, `show`, ...).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub command: Option<String>,
    /// The entity of the error tree (`net`, `peer_ni`, ...).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub entity: Option<String>,
    /// The function's return code, or the tool's exit code.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub rc: Option<i64>,
    /// The whole error tree, or what the tool printed, parsed.
    #[serde(default, skip_serializing_if = "Value::is_null")]
    pub tree: Value,
}

/// Arguments of `lnetctl`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LnetctlArgs {
    /// The arguments after `lnetctl` (`[net, show, -v]`).
    pub argv: Vec<String>,
    /// Text for its stdin (`import` reads the configuration there). Default: none.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub stdin: Option<String>,
    /// Seconds before it is killed (default [`DEFAULT_TOOL_TIMEOUT`]).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub timeout: Option<f64>,
    /// A non-zero exit is an error (kind `lnet`, with the errno lnetctl printed); `false`
    /// returns it as a result instead. Default true.
    #[serde(default = "yes", skip_serializing_if = "is_true")]
    pub check: bool,
}

impl Default for LnetctlArgs {
    /// No arguments yet, no stdin, the default timeout, checked.
    fn default() -> Self {
        LnetctlArgs {
            argv: Vec::new(),
            stdin: None,
            timeout: None,
            check: true,
        }
    }
}

fn yes() -> bool {
    true
}

fn is_true(b: &bool) -> bool {
    *b
}

/// How long `lnetctl` and `lst` commands may run when the request does not say.
pub const DEFAULT_TOOL_TIMEOUT: f64 = 120.0;

/// The environment variable naming the folders (a `:` list) where the helper looks for
/// `lnetctl` and `lst` instead of its `PATH` and the standard folders: a Lustre built but
/// not installed (`lustre/utils`), or a test's own tools whatever the machine has installed.
pub const TOOLS_VAR: &str = "LUTF_LNET_TOOLS";

/// The environment variable naming the library the companion loads when a call names none,
/// instead of `liblnetconfig.so.4` from the loader's search path: a Lustre built but not
/// installed, or a test's own library (or a missing one) whatever the machine has installed.
pub const LIBRARY_VAR: &str = "LUTF_LNET_LIBRARY";

/// What `lnetctl` answers.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct LnetctlResult {
    /// The command run, `lnetctl` first.
    pub command: Vec<String>,
    /// Its exit code (128 + N when killed by signal N).
    pub exit_code: i32,
    /// Everything it printed as YAML, in one mapping (a key printed twice has its
    /// sequences joined).
    pub output: Value,
    /// The error documents it printed (`errno: 0` success entries too).
    #[serde(default)]
    pub errors: Vec<LnetctlError>,
    /// The lines that were not YAML (`Writer error: ...`, `sh: ...: not found`).
    #[serde(default)]
    pub diagnostics: Vec<String>,
    /// What it printed, stdout and stderr together.
    pub text: String,
}

/// Arguments of `lst`: one action (its name in `action`, its arguments beside it).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct LstArgs {
    /// What to do. (Unknown fields are refused by the action itself.)
    #[serde(flatten)]
    pub action: LstAction,
    /// The session key (`LST_SESSION`) to use instead of the one `new_session` kept on the
    /// node: to drive a session started by hand.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub session: Option<u32>,
    /// Seconds before the command is killed (default [`DEFAULT_TOOL_TIMEOUT`], and for
    /// `stat` long enough for its rounds).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub timeout: Option<f64>,
}

impl LstArgs {
    /// `action` in the session kept on the node.
    pub fn new(action: LstAction) -> LstArgs {
        LstArgs {
            action,
            session: None,
            timeout: None,
        }
    }
}

/// One step of an lnet_selftest session, named after `lst`'s commands (`action: stat`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "action", rename_all = "snake_case", deny_unknown_fields)]
pub enum LstAction {
    /// `lst new_session [--timeout S] [--force] NAME`, with a new session key kept on the
    /// node for the following calls. Answers the session ([`lutf_lnet::lst::Session`]).
    NewSession {
        /// The session's name (lst's default: user@host).
        #[serde(default, skip_serializing_if = "Option::is_none")]
        name: Option<String>,
        /// Seconds of console silence before the session ends itself (lst's `--timeout`;
        /// its default: 300). Not `timeout`, which bounds the call.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        session_timeout: Option<u32>,
        /// End another console's session on these nodes.
        #[serde(default)]
        force: bool,
    },
    /// `lst end_session`; the kept key is forgotten.
    EndSession {},
    /// `lst add_group NAME NID...`. Answers the NIDs added.
    AddGroup {
        /// The group's name.
        name: String,
        /// Its NIDs (lst's ranges, like `10.0.0.[1-4]@tcp`, are allowed).
        nids: Vec<String>,
    },
    /// `lst add_batch NAME`.
    AddBatch {
        /// The batch's name.
        name: String,
    },
    /// `lst add_test --batch B --from G --to G ... ping|brw MODE [size=S] [check=C]`.
    AddTest {
        /// The batch.
        batch: String,
        /// The group that sends.
        from: String,
        /// The group that answers.
        to: String,
        /// The test.
        test: LstTest,
        /// `brw`: read or write (required for `brw`).
        #[serde(default, skip_serializing_if = "Option::is_none")]
        mode: Option<BrwMode>,
        /// `brw`: the transfer size as lst takes it (`4k`, `1M`; lst's default 4k).
        #[serde(default, skip_serializing_if = "Option::is_none")]
        size: Option<String>,
        /// `brw`: the data check (lst's default: none).
        #[serde(default, skip_serializing_if = "Option::is_none")]
        check: Option<BrwCheck>,
        /// Requests in flight per client (`--concurrency`).
        #[serde(default, skip_serializing_if = "Option::is_none")]
        concurrency: Option<u32>,
        /// How clients map to servers, `N:M` (`--distribute`).
        #[serde(default, skip_serializing_if = "Option::is_none")]
        distribute: Option<String>,
        /// How many times each client runs the test (`--loop`; default: until stopped).
        #[serde(default, skip_serializing_if = "Option::is_none")]
        loops: Option<u32>,
    },
    /// `lst run BATCH`.
    Run {
        /// The batch.
        batch: String,
    },
    /// `lst stop BATCH`.
    Stop {
        /// The batch.
        batch: String,
    },
    /// `lst stat --count N --delay S GROUP...`: rates and bandwidth, `count` rounds
    /// `delay` seconds apart. Answers [`lutf_lnet::lst::LstStat`].
    Stat {
        /// The groups (or NIDs).
        groups: Vec<String>,
        /// Rounds (default 1).
        #[serde(default = "one")]
        count: u32,
        /// Seconds between rounds (default 5, lst's own).
        #[serde(default = "five")]
        delay: u32,
    },
    /// `lst show_error GROUP...`: error nodes per group.
    ShowError {
        /// The groups.
        groups: Vec<String>,
    },
    /// Any other lst command, in the session (`[list_batch]`). Answers its output.
    Command {
        /// The arguments after `lst`.
        argv: Vec<String>,
    },
}

fn one() -> u32 {
    1
}

fn five() -> u32 {
    5
}

impl LstAction {
    /// The lst command it runs (`new_session`, ...).
    pub fn name(&self) -> &'static str {
        match self {
            LstAction::NewSession { .. } => "new_session",
            LstAction::EndSession {} => "end_session",
            LstAction::AddGroup { .. } => "add_group",
            LstAction::AddBatch { .. } => "add_batch",
            LstAction::AddTest { .. } => "add_test",
            LstAction::Run { .. } => "run",
            LstAction::Stop { .. } => "stop",
            LstAction::Stat { .. } => "stat",
            LstAction::ShowError { .. } => "show_error",
            LstAction::Command { .. } => "command",
        }
    }

    /// What is wrong with the action, if anything (checked when a request is read).
    pub fn check(&self) -> Result<(), String> {
        let word = |what: &str, s: &str| {
            if s.is_empty() || s.starts_with('-') || s.contains(|c: char| c.is_whitespace()) {
                Err(format!(
                    "{what} {s:?} must be one word that does not start with '-'"
                ))
            } else {
                Ok(())
            }
        };
        match self {
            LstAction::NewSession {
                name: Some(name), ..
            } => word("session name", name),
            LstAction::NewSession {
                session_timeout: Some(0),
                ..
            } => Err("the session timeout must be at least 1 second".into()),
            LstAction::AddGroup { name, nids } => {
                word("group name", name)?;
                if nids.is_empty() {
                    return Err("add_group needs at least one NID".into());
                }
                nids.iter().try_for_each(|n| word("NID", n))
            }
            LstAction::AddBatch { name } => word("batch name", name),
            LstAction::AddTest {
                batch,
                from,
                to,
                test,
                mode,
                size,
                check,
                distribute,
                ..
            } => {
                word("batch name", batch)?;
                word("group name", from)?;
                word("group name", to)?;
                if let Some(s) = size {
                    word("size", s)?;
                }
                if let Some(d) = distribute {
                    word("distribute", d)?;
                }
                match (test, mode) {
                    (LstTest::Brw, None) => Err("a brw test needs a mode: read or write".into()),
                    (LstTest::Ping, _) if mode.is_some() || size.is_some() || check.is_some() => {
                        Err("mode, size and check are for brw tests, not ping".into())
                    }
                    _ => Ok(()),
                }
            }
            LstAction::Run { batch } | LstAction::Stop { batch } => word("batch name", batch),
            LstAction::Stat {
                groups,
                count,
                delay,
            } => {
                if groups.is_empty() {
                    return Err("stat needs at least one group".into());
                }
                if *count == 0 || *delay == 0 {
                    return Err("stat count and delay must be at least 1".into());
                }
                groups.iter().try_for_each(|g| word("group", g))
            }
            LstAction::ShowError { groups } => {
                if groups.is_empty() {
                    return Err("show_error needs at least one group".into());
                }
                groups.iter().try_for_each(|g| word("group", g))
            }
            LstAction::Command { argv } if argv.is_empty() => {
                Err("command needs the lst command to run".into())
            }
            _ => Ok(()),
        }
    }
}

/// An lnet_selftest test.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum LstTest {
    /// `ping`: small RPCs.
    Ping,
    /// `brw`: bulk reads or writes.
    Brw,
}

/// The direction of a `brw` test.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum BrwMode {
    /// Clients read from servers.
    Read,
    /// Clients write to servers.
    Write,
}

/// The data check of a `brw` test.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum BrwCheck {
    /// A checksum of part of each transfer.
    Simple,
    /// A checksum of all of it.
    Full,
}

/// What `lst` answers.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct LstResult {
    /// The command run, `lst` first.
    pub command: Vec<String>,
    /// The session key it ran with (`LST_SESSION`).
    pub session: u32,
    /// What it printed, stdout and stderr together.
    pub text: String,
    /// The output, read: the session, the NIDs added, the stat samples, the error counts
    /// per group; `null` for commands that print nothing.
    pub result: Value,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn calls_read_from_the_wire_shape() {
        let a: LnetArgs =
            serde_yaml::from_str("call: show_net\nnet: tcp1\ndetail: 2\nabi: '2.16'\n").unwrap();
        assert_eq!(
            a.call,
            LnetCall::ShowNet {
                net: Some("tcp1".parse().unwrap()),
                detail: 2
            }
        );
        assert_eq!(a.abi.as_deref(), Some("2.16"));
        let a: LnetArgs = serde_yaml::from_str("call: show_stats").unwrap();
        assert_eq!(a.call, LnetCall::ShowStats {});
        let a: LnetArgs = serde_json::from_str(
            r#"{"call": "add_ni", "net": "tcp", "interfaces": ["eth0"], "library": "/x.so"}"#,
        )
        .unwrap();
        assert_eq!(
            a.call,
            LnetCall::AddNi(NiConfig::new("tcp".parse().unwrap(), &["eth0"]))
        );
        assert_eq!(a.library.as_deref(), Some("/x.so"));
        for bad in [
            "call: show_net\nbogus: 1",
            "call: show_stats\nbogus: 1",
            "call: add_ni\nnet: tcp\ncolour: red",
            "call: ping\nnid: nonsense",
            "call: fly",
            "net: tcp",
        ] {
            assert!(serde_yaml::from_str::<LnetArgs>(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn every_call_round_trips_and_names_itself() {
        let calls = vec![
            LnetCall::Configure { all: true },
            LnetCall::Unconfigure {},
            LnetCall::AddNi(NiConfig::new("o2ib1".parse().unwrap(), &["ib0", "ib1"])),
            LnetCall::DelNi {
                net: "tcp".parse().unwrap(),
                interfaces: vec!["eth0".into()],
            },
            LnetCall::ShowNet {
                net: None,
                detail: 3,
            },
            LnetCall::Ping {
                nid: "10.0.0.2@tcp".parse().unwrap(),
                source: None,
                timeout: Some(2.5),
            },
            LnetCall::SetGlobal {
                setting: Global::Discovery,
                value: 0,
            },
            LnetCall::ShowGlobal { setting: None },
            LnetCall::YamlConfig {
                yaml: "net:\n- net type: tcp\n".into(),
            },
        ];
        for call in calls {
            let text = serde_yaml::to_string(&LnetArgs::new(call.clone())).unwrap();
            assert!(text.contains(&format!("call: {}", call.name())), "{text}");
            assert!(!text.contains("abi"), "unset options are left out: {text}");
            let back: LnetArgs = serde_yaml::from_str(&text).unwrap();
            assert_eq!(back.call, call, "{text}");
        }
    }

    #[test]
    fn numbers_out_of_range_are_refused() {
        let show = LnetCall::ShowNet {
            net: None,
            detail: 5,
        };
        assert!(show.check().unwrap_err().contains("detail"));
        let ping = LnetCall::Ping {
            nid: "0@lo".parse().unwrap(),
            source: None,
            timeout: Some(0.0),
        };
        assert!(ping.check().is_err());
        let stat = LstAction::Stat {
            groups: vec![],
            count: 1,
            delay: 1,
        };
        assert!(stat.check().is_err());
        let group = LstAction::AddGroup {
            name: "--force".into(),
            nids: vec!["10.0.0.1@tcp".into()],
        };
        assert!(group.check().unwrap_err().contains("--force"));
    }

    #[test]
    fn lst_actions_read_with_their_defaults() {
        let a: LstArgs = serde_yaml::from_str("action: stat\ngroups: [clients, servers]").unwrap();
        assert_eq!(
            a.action,
            LstAction::Stat {
                groups: vec!["clients".into(), "servers".into()],
                count: 1,
                delay: 5
            }
        );
        let a: LstArgs = serde_yaml::from_str(
            "action: add_test\nbatch: b\nfrom: c\nto: s\ntest: brw\nmode: write\nsize: 1M\ncheck: simple",
        )
        .unwrap();
        a.action.check().unwrap();
        let LstAction::AddTest {
            test, mode, check, ..
        } = a.action
        else {
            panic!("not add_test")
        };
        assert_eq!(
            (test, mode, check),
            (LstTest::Brw, Some(BrwMode::Write), Some(BrwCheck::Simple))
        );
        let no_mode: LstArgs =
            serde_yaml::from_str("action: add_test\nbatch: b\nfrom: c\nto: s\ntest: brw").unwrap();
        assert!(no_mode.action.check().unwrap_err().contains("mode"));
        assert!(serde_yaml::from_str::<LstArgs>("action: run\nbatch: b\nloud: 1").is_err());
    }

    #[test]
    fn the_session_timeout_is_not_the_call_timeout() {
        let a = LstArgs {
            action: LstAction::NewSession {
                name: Some("rw".into()),
                session_timeout: Some(100),
                force: false,
            },
            session: None,
            timeout: Some(30.0),
        };
        let text = serde_yaml::to_string(&a).unwrap();
        let back: LstArgs = serde_yaml::from_str(&text).unwrap();
        assert_eq!(back, a, "{text}");
    }

    #[test]
    fn lnetctl_args_default_to_checking() {
        let a: LnetctlArgs = serde_yaml::from_str("argv: [net, show]").unwrap();
        assert!(a.check);
        let text = serde_yaml::to_string(&a).unwrap();
        assert!(!text.contains("check"), "the default is left out: {text}");
        let a: LnetctlArgs = serde_yaml::from_str("argv: [net, show]\ncheck: false").unwrap();
        assert!(!a.check);
    }
}
