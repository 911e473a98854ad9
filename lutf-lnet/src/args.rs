//! Typed arguments of the LNet operations: networks, NIDs, CPT sets, tunables, and the
//! configuration of an NI, a route, a peer, a UDSP rule; global settings by name.
//!
//! Each parses from the text `lnetctl` takes (`tcp1`, `10.0.0.1@tcp`, `[0,2-3]`) and
//! (de)serializes as that text, so requests carry them as plain strings.

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};

/// An argument that does not parse or does not fit.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
pub struct ArgError(pub String);

fn bad(msg: impl Into<String>) -> ArgError {
    ArgError(msg.into())
}

/// A network driver (LND) type: the high half of an LNet network number.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Lnd {
    /// `tcp`: socklnd.
    Tcp,
    /// `o2ib`: InfiniBand / RoCE.
    O2ib,
    /// `lo`: the loopback network every node has.
    Lo,
    /// `gni`: Cray Gemini/Aries.
    Gni,
    /// `gip`: Gemini over IP.
    Gip,
    /// `ptlf`: Portals 4.
    Ptlf,
    /// `kfi`: kfabric (HPE Slingshot).
    Kfi,
}

impl Lnd {
    const ALL: [Lnd; 7] = [
        Lnd::Tcp,
        Lnd::O2ib,
        Lnd::Lo,
        Lnd::Gni,
        Lnd::Gip,
        Lnd::Ptlf,
        Lnd::Kfi,
    ];

    /// The name networks of this type start with.
    pub fn name(self) -> &'static str {
        match self {
            Lnd::Tcp => "tcp",
            Lnd::O2ib => "o2ib",
            Lnd::Lo => "lo",
            Lnd::Gni => "gni",
            Lnd::Gip => "gip",
            Lnd::Ptlf => "ptlf",
            Lnd::Kfi => "kfi",
        }
    }

    /// The type number LNet encodes in network numbers (lnet's `SOCKLND`, `O2IBLND`, ...).
    pub fn type_number(self) -> u32 {
        use lnetconfig_sys::common as c;
        match self {
            Lnd::Tcp => c::SOCKLND,
            Lnd::O2ib => c::O2IBLND,
            Lnd::Lo => c::LOLND,
            Lnd::Gni => c::GNILND,
            Lnd::Gip => c::GNIIPLND,
            Lnd::Ptlf => c::PTL4LND,
            Lnd::Kfi => c::KFILND,
        }
    }
}

/// An LNet network: `tcp`, `tcp1`, `o2ib3`, `lo`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct NetId {
    /// Its driver type.
    pub lnd: Lnd,
    /// Its number (`tcp1` is 1; `tcp` and `tcp0` are 0).
    pub number: u16,
}

impl NetId {
    /// The 32-bit network number LNet uses (type in the high half, number in the low).
    pub fn id(self) -> u32 {
        (self.lnd.type_number() << 16) | u32::from(self.number)
    }
}

impl FromStr for NetId {
    type Err = ArgError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let s = s.trim();
        // The number is the trailing digits ("o2ib3" is o2ib number 3).
        let name = s.trim_end_matches(|c: char| c.is_ascii_digit());
        let number = &s[name.len()..];
        let lnd = Lnd::ALL
            .into_iter()
            .find(|l| l.name() == name)
            .ok_or_else(|| {
                bad(format!(
                    "unknown network {s:?}: expected a type ({}) and an optional number, like tcp1",
                    Lnd::ALL.map(Lnd::name).join(", ")
                ))
            })?;
        let number = if number.is_empty() {
            0
        } else {
            number
                .parse::<u16>()
                .map_err(|_| bad(format!("bad network number in {s:?} (0..65535)")))?
        };
        Ok(NetId { lnd, number })
    }
}

impl fmt::Display for NetId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // As LNet prints it: the number only when it is not 0.
        if self.number == 0 {
            f.write_str(self.lnd.name())
        } else {
            write!(f, "{}{}", self.lnd.name(), self.number)
        }
    }
}

impl TryFrom<String> for NetId {
    type Error = ArgError;
    fn try_from(s: String) -> Result<Self, Self::Error> {
        s.parse()
    }
}

impl From<NetId> for String {
    fn from(n: NetId) -> String {
        n.to_string()
    }
}

/// An LNet NID: `10.0.0.1@tcp`, `0@lo`, `192.168.1.2@o2ib1`.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct Nid {
    /// The address part, as given (an IPv4 or IPv6 address, or a number).
    pub address: String,
    /// The network part.
    pub net: NetId,
}

impl FromStr for Nid {
    type Err = ArgError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let s = s.trim();
        let (address, net) = s.rsplit_once('@').ok_or_else(|| {
            bad(format!(
                "bad NID {s:?}: expected ADDRESS@NET, like 10.0.0.1@tcp"
            ))
        })?;
        if address.is_empty()
            || address
                .chars()
                .any(|c| c.is_whitespace() || c == ',' || c == '\0')
        {
            return Err(bad(format!("bad NID {s:?}: bad address {address:?}")));
        }
        let net = net
            .parse()
            .map_err(|e: ArgError| bad(format!("bad NID {s:?}: {}", e.0)))?;
        Ok(Nid {
            address: address.to_owned(),
            net,
        })
    }
}

impl fmt::Display for Nid {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}@{}", self.address, self.net)
    }
}

impl TryFrom<String> for Nid {
    type Error = ArgError;
    fn try_from(s: String) -> Result<Self, Self::Error> {
        s.parse()
    }
}

impl From<Nid> for String {
    fn from(n: Nid) -> String {
        n.to_string()
    }
}

/// One range of a CPT set: `lo` to `hi` every `stride`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct CptRange {
    /// First CPT.
    pub lo: u32,
    /// Last CPT (inclusive).
    pub hi: u32,
    /// Step (1 for every CPT).
    pub stride: u32,
}

/// A set of CPU partitions, as lnetctl's `--cpt`: `[0,2-3]`, `0-7/2`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct CptSet(pub Vec<CptRange>);

impl FromStr for CptSet {
    type Err = ArgError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let inner = s.trim();
        let inner = inner
            .strip_prefix('[')
            .and_then(|i| i.strip_suffix(']'))
            .unwrap_or(inner);
        let number = |t: &str| {
            t.trim()
                .parse::<u32>()
                .map_err(|_| bad(format!("bad CPT set {s:?}: {t:?} is not a number")))
        };
        let mut ranges = Vec::new();
        for part in inner.split(',') {
            let (range, stride) = match part.split_once('/') {
                Some((r, st)) => (r, number(st)?),
                None => (part, 1),
            };
            let (lo, hi) = match range.split_once('-') {
                Some((lo, hi)) => (number(lo)?, number(hi)?),
                None => {
                    let n = number(range)?;
                    (n, n)
                }
            };
            if hi < lo || stride == 0 {
                return Err(bad(format!(
                    "bad CPT set {s:?}: {part:?} is empty (need lo <= hi and stride > 0)"
                )));
            }
            ranges.push(CptRange { lo, hi, stride });
        }
        Ok(CptSet(ranges))
    }
}

impl fmt::Display for CptSet {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("[")?;
        for (i, r) in self.0.iter().enumerate() {
            if i > 0 {
                f.write_str(",")?;
            }
            match (r.lo == r.hi, r.stride) {
                (true, _) => write!(f, "{}", r.lo)?,
                (false, 1) => write!(f, "{}-{}", r.lo, r.hi)?,
                (false, st) => write!(f, "{}-{}/{}", r.lo, r.hi, st)?,
            }
        }
        f.write_str("]")
    }
}

impl TryFrom<String> for CptSet {
    type Error = ArgError;
    fn try_from(s: String) -> Result<Self, Self::Error> {
        s.parse()
    }
}

impl From<CptSet> for String {
    fn from(c: CptSet) -> String {
        c.to_string()
    }
}

/// The tunables every LND has (lnetctl's `tunables:`); `None` keeps the default.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Tunables {
    /// Seconds before a silent peer is declared dead.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub peer_timeout: Option<i32>,
    /// Messages in flight to one peer.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub peer_credits: Option<i32>,
    /// Router buffer credits per peer.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub peer_buffer_credits: Option<i32>,
    /// Messages in flight on the NI.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub credits: Option<i32>,
}

impl Tunables {
    /// True when nothing is set.
    pub fn is_empty(&self) -> bool {
        *self == Tunables::default()
    }
}

/// The LND-specific tunables lnetctl's `net add` takes; which apply depends on the LND.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LndTunables {
    /// Connections per peer (tcp, o2ib).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub conns_per_peer: Option<u16>,
    /// IP type of service, 0..255 (tcp, o2ib; Lustre 2.16 and later).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tos: Option<u8>,
    /// Network authorization key (kfi).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub auth_key: Option<u32>,
    /// Traffic class (kfi; Lustre 2.16 and later).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub traffic_class: Option<String>,
}

impl LndTunables {
    /// True when nothing is set.
    pub fn is_empty(&self) -> bool {
        *self == LndTunables::default()
    }

    /// Checks that every tunable set applies to `lnd`.
    pub fn check_for(&self, lnd: Lnd) -> Result<(), ArgError> {
        let tcp_or_ib = matches!(lnd, Lnd::Tcp | Lnd::O2ib);
        let wrong = |what: &str, applies: &str| {
            Err(bad(format!(
                "{what} applies to {applies} networks only, not {}",
                lnd.name()
            )))
        };
        if self.conns_per_peer.is_some() && !tcp_or_ib {
            return wrong("conns_per_peer", "tcp and o2ib");
        }
        if self.tos.is_some() && !tcp_or_ib {
            return wrong("tos", "tcp and o2ib");
        }
        if self.auth_key.is_some() && lnd != Lnd::Kfi {
            return wrong("auth_key", "kfi");
        }
        if let Some(tc) = &self.traffic_class {
            if lnd != Lnd::Kfi {
                return wrong("traffic_class", "kfi");
            }
            if tc.is_empty() || tc.len() >= lnetconfig_sys::common::LNET_MAX_STR_LEN as usize {
                return Err(bad(format!(
                    "traffic_class must be 1 to {} bytes",
                    lnetconfig_sys::common::LNET_MAX_STR_LEN - 1
                )));
            }
        }
        Ok(())
    }
}

/// A network interface to add (lnetctl `net add`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct NiConfig {
    /// The network, e.g. `tcp`.
    pub net: NetId,
    /// The interfaces, e.g. `eth0`; may be empty with `ip2net`.
    #[serde(default)]
    pub interfaces: Vec<String>,
    /// An ip2nets rule, instead of `net` and `interfaces`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ip2net: Option<String>,
    /// The CPTs the NI is bound to.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cpts: Option<CptSet>,
    /// The common tunables.
    #[serde(default)]
    pub tunables: Tunables,
    /// The LND tunables.
    #[serde(default)]
    pub lnd_tunables: LndTunables,
}

impl NiConfig {
    /// An NI on `net` over `interfaces`, everything else default.
    pub fn new(net: NetId, interfaces: &[&str]) -> NiConfig {
        NiConfig {
            net,
            interfaces: interfaces.iter().map(|s| (*s).to_owned()).collect(),
            ip2net: None,
            cpts: None,
            tunables: Tunables::default(),
            lnd_tunables: LndTunables::default(),
        }
    }
}

/// Checks an interface name against the ABI's limit (`limit` bytes including the NUL).
pub fn check_interface_name(name: &str, limit: usize) -> Result<(), ArgError> {
    if name.is_empty() || name.len() >= limit || name.contains(['\0', ',']) {
        return Err(bad(format!(
            "bad interface name {name:?}: 1 to {} bytes, no ',' or NUL",
            limit - 1
        )));
    }
    Ok(())
}

/// A route to add (lnetctl `route add`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RouteConfig {
    /// The remote network.
    pub net: NetId,
    /// The router's NID on a local network.
    pub gateway: Nid,
    /// Hops to the remote network (1..255).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub hops: Option<u32>,
    /// Priority, 0 highest.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub priority: Option<u32>,
    /// The gateway's health sensitivity (Lustre 2.15 and 2.16 only).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub health_sensitivity: Option<u32>,
}

/// What `route show` lists: everything by default.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RouteFilter {
    /// Only routes to this network.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub net: Option<NetId>,
    /// Only routes through this gateway.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub gateway: Option<Nid>,
    /// Only routes with this hop count.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub hops: Option<u32>,
    /// Only routes with this priority.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub priority: Option<u32>,
}

/// A peer to add (lnetctl `peer add`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PeerConfig {
    /// The primary NID; the first of `nids` when absent.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub primary: Option<Nid>,
    /// The peer's NIDs.
    #[serde(default)]
    pub nids: Vec<Nid>,
    /// Whether the peer is Multi-Rail (lnetctl's `--non_mr` clears it).
    #[serde(default = "yes")]
    pub multi_rail: bool,
    /// Lock the primary NID (lnetctl's `--lock_prim`).
    #[serde(default)]
    pub lock_primary: bool,
}

fn yes() -> bool {
    true
}

/// A user defined selection policy rule (lnetctl `udsp add`).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct UdspRule {
    /// Local NID or network expression to match.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub src: Option<String>,
    /// Remote NID expression to match.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub dst: Option<String>,
    /// Router NID expression to match.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub rte: Option<String>,
    /// Priority given to matches, 0 highest.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub priority: Option<u32>,
    /// Position in the rule list (appended when absent).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub idx: Option<u32>,
}

/// A global LNet setting, named as `lnetctl global show` prints it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub enum Global {
    /// `numa_range`.
    NumaRange,
    /// `max_interfaces`.
    MaxInterfaces,
    /// `discovery` (0 or 1).
    Discovery,
    /// `drop_asym_route` (0 or 1).
    DropAsymRoute,
    /// `retry_count`.
    RetryCount,
    /// `transaction_timeout` (seconds).
    TransactionTimeout,
    /// `health_sensitivity`.
    HealthSensitivity,
    /// `recovery_interval` (seconds).
    RecoveryInterval,
    /// `router_sensitivity` (percent).
    RouterSensitivity,
    /// `response_tracking` (0..3).
    ResponseTracking,
    /// `recovery_limit` (seconds, 0: forever).
    RecoveryLimit,
    /// `max_recovery_ping_interval` (seconds).
    MaxRecoveryPingInterval,
    /// `lnd_timeout` (read only: derived from the transaction timeout and retry count).
    LndTimeout,
}

impl Global {
    /// Every setting, in `lnetctl global show` order.
    pub const ALL: [Global; 13] = [
        Global::NumaRange,
        Global::MaxInterfaces,
        Global::Discovery,
        Global::DropAsymRoute,
        Global::RetryCount,
        Global::TransactionTimeout,
        Global::HealthSensitivity,
        Global::RecoveryInterval,
        Global::RouterSensitivity,
        Global::LndTimeout,
        Global::ResponseTracking,
        Global::RecoveryLimit,
        Global::MaxRecoveryPingInterval,
    ];

    /// Its name in `lnetctl global show` and `lnetctl set`.
    pub fn name(self) -> &'static str {
        match self {
            Global::NumaRange => "numa_range",
            Global::MaxInterfaces => "max_interfaces",
            Global::Discovery => "discovery",
            Global::DropAsymRoute => "drop_asym_route",
            Global::RetryCount => "retry_count",
            Global::TransactionTimeout => "transaction_timeout",
            Global::HealthSensitivity => "health_sensitivity",
            Global::RecoveryInterval => "recovery_interval",
            Global::RouterSensitivity => "router_sensitivity",
            Global::ResponseTracking => "response_tracking",
            Global::RecoveryLimit => "recovery_limit",
            Global::MaxRecoveryPingInterval => "max_recovery_ping_interval",
            Global::LndTimeout => "lnd_timeout",
        }
    }
}

impl FromStr for Global {
    type Err = ArgError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let s = s.trim();
        // lnetctl also accepts max_intf.
        let s = if s == "max_intf" { "max_interfaces" } else { s };
        Global::ALL
            .into_iter()
            .find(|g| g.name() == s)
            .ok_or_else(|| {
                bad(format!(
                    "unknown global setting {s:?}: expected one of {}",
                    Global::ALL.map(Global::name).join(", ")
                ))
            })
    }
}

impl fmt::Display for Global {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

impl TryFrom<String> for Global {
    type Error = ArgError;
    fn try_from(s: String) -> Result<Self, Self::Error> {
        s.parse()
    }
}

impl From<Global> for String {
    fn from(g: Global) -> String {
        g.name().to_owned()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn networks_parse_and_print_as_lnet_does() {
        let tcp: NetId = "tcp".parse().unwrap();
        assert_eq!(tcp, "tcp0".parse().unwrap());
        assert_eq!(tcp.to_string(), "tcp");
        assert_eq!(tcp.id(), 0x0002_0000);
        let ib: NetId = "o2ib3".parse().unwrap();
        assert_eq!((ib.lnd, ib.number, ib.id()), (Lnd::O2ib, 3, 0x0005_0003));
        assert_eq!(ib.to_string(), "o2ib3");
        assert_eq!("lo".parse::<NetId>().unwrap().id(), 0x0009_0000);
        assert_eq!("kfi".parse::<NetId>().unwrap().id(), 0x0010_0000);
        for bad in ["", "eth0", "tcp65536", "tcpx", "TCP", "1tcp"] {
            assert!(bad.parse::<NetId>().is_err(), "{bad:?}");
        }
    }

    #[test]
    fn nids_parse_and_print() {
        let n: Nid = "10.10.0.2@tcp".parse().unwrap();
        assert_eq!(n.address, "10.10.0.2");
        assert_eq!(n.net, "tcp".parse().unwrap());
        assert_eq!(n.to_string(), "10.10.0.2@tcp");
        assert_eq!("0@lo".parse::<Nid>().unwrap().to_string(), "0@lo");
        assert_eq!(
            "10.0.0.1@tcp0".parse::<Nid>().unwrap().to_string(),
            "10.0.0.1@tcp"
        );
        for bad in [
            "10.0.0.1",
            "@tcp",
            "10.0.0.1@",
            "10.0.0.1@eth",
            "a b@tcp",
            "1,2@tcp",
        ] {
            let err = bad.parse::<Nid>().unwrap_err();
            assert!(err.0.contains("NID"), "{bad:?}: {err}");
        }
    }

    #[test]
    fn cpt_sets_parse_and_print() {
        let c: CptSet = "[0,2-3,4-8/2]".parse().unwrap();
        assert_eq!(
            c.0,
            vec![
                CptRange {
                    lo: 0,
                    hi: 0,
                    stride: 1
                },
                CptRange {
                    lo: 2,
                    hi: 3,
                    stride: 1
                },
                CptRange {
                    lo: 4,
                    hi: 8,
                    stride: 2
                }
            ]
        );
        assert_eq!(c.to_string(), "[0,2-3,4-8/2]");
        assert_eq!("1".parse::<CptSet>().unwrap().to_string(), "[1]");
        for bad in ["", "[]", "[a]", "[3-1]", "[0-4/0]", "[0,,1]"] {
            assert!(bad.parse::<CptSet>().is_err(), "{bad:?}");
        }
    }

    #[test]
    fn lnd_tunables_must_fit_the_network() {
        let cpp = LndTunables {
            conns_per_peer: Some(4),
            ..Default::default()
        };
        assert!(cpp.check_for(Lnd::Tcp).is_ok());
        assert!(cpp.check_for(Lnd::O2ib).is_ok());
        assert!(cpp
            .check_for(Lnd::Kfi)
            .unwrap_err()
            .0
            .contains("conns_per_peer"));
        let key = LndTunables {
            auth_key: Some(255),
            ..Default::default()
        };
        assert!(key.check_for(Lnd::Kfi).is_ok());
        assert!(key.check_for(Lnd::Tcp).is_err());
        let tc = LndTunables {
            traffic_class: Some("x".repeat(128)),
            ..Default::default()
        };
        assert!(
            tc.check_for(Lnd::Kfi).is_err(),
            "too long for the 128-byte field"
        );
    }

    #[test]
    fn interface_names_fit_the_abi_field() {
        assert!(check_interface_name("eth0", 16).is_ok());
        assert!(check_interface_name(&"e".repeat(15), 16).is_ok());
        assert!(check_interface_name(&"e".repeat(16), 16).is_err());
        assert!(check_interface_name(&"e".repeat(16), 128).is_ok());
        assert!(check_interface_name("", 16).is_err());
        assert!(check_interface_name("eth0,eth1", 16).is_err());
    }

    #[test]
    fn globals_are_named_as_lnetctl_names_them() {
        for g in Global::ALL {
            assert_eq!(g.name().parse::<Global>(), Ok(g));
        }
        assert_eq!("max_intf".parse::<Global>(), Ok(Global::MaxInterfaces));
        assert!("routing".parse::<Global>().is_err());
    }

    #[test]
    fn arguments_round_trip_through_yaml_as_plain_strings() {
        let ni = NiConfig {
            net: "tcp1".parse().unwrap(),
            interfaces: vec!["eth0".into(), "eth1".into()],
            ip2net: None,
            cpts: Some("[0,1]".parse().unwrap()),
            tunables: Tunables {
                peer_credits: Some(16),
                ..Default::default()
            },
            lnd_tunables: LndTunables {
                conns_per_peer: Some(2),
                ..Default::default()
            },
        };
        let text = serde_yaml::to_string(&ni).unwrap();
        assert!(text.contains("net: tcp1"), "{text}");
        assert!(text.contains("cpts: '[0,1]'"), "{text}");
        assert_eq!(serde_yaml::from_str::<NiConfig>(&text).unwrap(), ni);
        let peer: PeerConfig = serde_yaml::from_str("nids: [10.0.0.2@tcp]").unwrap();
        assert!(peer.multi_rail, "Multi-Rail unless said otherwise");
        assert!(serde_yaml::from_str::<PeerConfig>("nids: [nonsense]").is_err());
        assert!(serde_yaml::from_str::<NiConfig>("net: tcp\nbogus: 1").is_err());
    }
}
