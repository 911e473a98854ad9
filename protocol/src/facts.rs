//! [`Facts`]: what the `facts` operation tells about a node.

use serde::{Deserialize, Serialize};

/// Everything the master needs to know about a node to bind roles and report on it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Facts {
    /// The node's hostname (from the kernel, no resolver involved).
    pub hostname: String,
    /// Kernel release (`uname -r`).
    pub kernel: String,
    /// Machine architecture (`uname -m`).
    pub arch: String,
    /// The distribution, from `/etc/os-release`.
    pub os: OsInfo,
    /// CPUs this process may run on.
    pub cpus: u32,
    /// Total memory in bytes (`MemTotal`).
    pub memory_bytes: u64,
    /// The node's `python3`, or why there is none.
    pub python: PythonInfo,
    /// Every network interface, in kernel order.
    pub interfaces: Vec<Interface>,
    /// LNet's state. Absent LNet is a normal fact, not an error.
    pub lnet: LnetState,
}

impl Facts {
    /// Interfaces that are up, not loopback and carry at least one IPv4 address:
    /// the ones an LNet test can put a network on.
    pub fn usable_interfaces(&self) -> impl Iterator<Item = &Interface> {
        self.interfaces
            .iter()
            .filter(|i| i.flags.up && !i.flags.loopback && !i.ipv4.is_empty())
    }
}

/// The distribution, from `/etc/os-release` (empty strings when a field is missing).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct OsInfo {
    /// `ID`, for example `debian`, `rhel`, `rocky`.
    pub id: String,
    /// `VERSION_ID`, for example `12`, `8.10`.
    pub version_id: String,
    /// `PRETTY_NAME`.
    pub pretty_name: String,
}

/// The node's `python3`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct PythonInfo {
    /// Absolute path of `python3`, when found.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub path: Option<String>,
    /// Its version, for example `3.6.8`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub version: Option<String>,
    /// Why there is no usable python3 (not found, too old, failed to run).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub missing: Option<String>,
}

/// One network interface.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Interface {
    /// Kernel name, for example `eth0`.
    pub name: String,
    /// MTU in bytes.
    pub mtu: Option<u32>,
    /// Hardware address, when it has one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub mac: Option<String>,
    /// Interface flags.
    pub flags: IfFlags,
    /// IPv4 addresses.
    pub ipv4: Vec<Addr>,
    /// IPv6 addresses.
    pub ipv6: Vec<Addr>,
}

/// The interface flags that matter for tests.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct IfFlags {
    /// Administratively up (`IFF_UP`).
    pub up: bool,
    /// Carrier present (`IFF_RUNNING`).
    pub running: bool,
    /// Loopback (`IFF_LOOPBACK`).
    pub loopback: bool,
    /// Broadcast capable (`IFF_BROADCAST`).
    pub broadcast: bool,
    /// Multicast capable (`IFF_MULTICAST`).
    pub multicast: bool,
}

/// An address with its prefix length.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Addr {
    /// The address, for example `10.0.0.2` or `fe80::1`.
    pub address: String,
    /// Prefix length, for example 24.
    pub prefix: u8,
}

/// LNet's state on a node.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct LnetState {
    /// The `lnet` kernel module is loaded.
    pub module_loaded: bool,
    /// LNet is installed (`lnetctl` is there), loaded or not: lutf can load it.
    #[serde(default)]
    pub installed: bool,
    /// LNet is configured (has at least one network besides `lo`).
    pub configured: bool,
    /// The node's NIDs when configured, `0@lo` excluded.
    pub nids: Vec<String>,
    /// The LNet module version, when loaded.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub version: Option<String>,
    /// Why the NIDs could not be read (the kernel's table exists but reading it failed):
    /// an unreadable table is not an unconfigured LNet.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
}

impl LnetState {
    /// One phrase for people: "not loaded", "loaded, not configured", "configured: NIDs",
    /// or why the NIDs could not be read.
    pub fn describe(&self) -> String {
        if !self.module_loaded {
            "not loaded".to_string()
        } else if let Some(e) = &self.error {
            format!("loaded, NIDs unreadable: {e}")
        } else if !self.configured {
            "loaded, not configured".to_string()
        } else {
            format!("configured: {}", self.nids.join(" "))
        }
    }
}
