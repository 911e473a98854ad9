//! The safe layer over `liblnetconfig.so.4`: open it for the node's ABI, call it with typed
//! arguments, get its result trees as YAML values and its error trees as typed errors.
//!
//! - The library is loaded at run time; a node without Lustre gets a clear error.
//! - The ABI comes from the node's Lustre version, or is forced by the caller.
//! - `lustre_lnet_config_lib_init()` is called when the library is opened.
//! - The library is not thread-safe: every call, and the freeing of its trees, holds one
//!   process-wide lock.
//! - Every call first checks that the lnet module and `/dev/lnet` are there: without them
//!   some calls (`show_net`, `show_route`, `show_routing`) "succeed" with an empty result.
//! - Interface descriptors are allocated with the `calloc` of the C library liblnetconfig
//!   uses, because the library frees the ones it is given (as `lnetctl` relies on); any it
//!   leaves are freed here. (In a statically linked program the loaded library brings a
//!   second C library with its own heap: see `Allocator`.)

use std::ffi::{c_char, c_int, c_long};
use std::marker::PhantomData;
use std::path::PathBuf;
use std::ptr::null_mut;
use std::sync::{Mutex, MutexGuard};
use std::time::Duration;

use lnetconfig_sys::common::{
    cYAML, cfs_expr_list, cfs_range_expr, list_head, lnet_dlc_network_descr, lnet_udsp_action,
};
use lnetconfig_sys::{abi_2_15, abi_2_16, abi_2_17, libloading, LIBRARY_SONAME};
use serde_yaml::{Mapping, Value};

use crate::args::{
    check_interface_name, CptSet, Global, Lnd, NetId, NiConfig, Nid, PeerConfig, RouteConfig,
    RouteFilter, UdspRule,
};
use crate::cyaml;
use crate::error::{Error, LnetError};
use crate::node::{Detected, NodeProbe};
use crate::version::Abi;

/// The lock every call into the library holds.
static CALLS: Mutex<()> = Mutex::new(());

fn serialised() -> MutexGuard<'static, ()> {
    // A panic while holding it leaves nothing to repair: the lock guards no data.
    CALLS
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner())
}

/// `lustre_lnet_modify_peer`'s commands (lnetctl's `LNETCTL_ADD_CMD`, `LNETCTL_DEL_CMD`).
const LNETCTL_ADD_CMD: c_int = 3;
const LNETCTL_DEL_CMD: c_int = 4;

/// How to open the library.
#[derive(Debug, Clone)]
pub struct Options {
    /// The node: its name, and where its `/sys`, `/dev` and commands are.
    pub probe: NodeProbe,
    /// The library to load; `liblnetconfig.so.4` from the loader's search path by default.
    pub library: Option<PathBuf>,
    /// The ABI to call it with; read from the node's Lustre version by default.
    pub abi: Option<Abi>,
}

impl Options {
    /// This machine, as `node`, with the installed library and the detected ABI.
    pub fn local(node: impl Into<String>) -> Options {
        Options {
            probe: NodeProbe::local(node),
            library: None,
            abi: None,
        }
    }
}

/// The loaded library, with the loader of its ABI.
enum Loaded {
    V215(abi_2_15::LnetconfigAbi215),
    V216(abi_2_16::LnetconfigAbi216),
    V217(abi_2_17::LnetconfigAbi217),
}

/// Runs `$body` with `$l` bound to the loader, whatever the ABI (for calls whose
/// signature is the same in every ABI).
macro_rules! on_lib {
    ($self:ident, $l:ident => $body:expr) => {
        match &$self.lib {
            Loaded::V215($l) => $body,
            Loaded::V216($l) => $body,
            Loaded::V217($l) => $body,
        }
    };
}

/// The function `$name` of loader `$l`, or an error naming it.
macro_rules! sym {
    ($self:ident, $op:expr, $l:ident . $name:ident) => {
        $self.sym($op, &$l.$name, stringify!($name))
    };
}

/// The four `lustre_yaml_*` calls of the 2.16+ ABIs (which take a buffer and its length).
macro_rules! yaml_buffer_call {
    ($self:ident, $l:ident, $which:expr, $op:expr, $ptr:expr, $len:expr) => {{
        let (p, len) = ($ptr, $len);
        match $which {
            YamlCall::Config => {
                let f = sym!($self, $op, $l.lustre_yaml_config)?;
                $self.call($op, |_, err| unsafe { f(p, len, err) })
            }
            YamlCall::Del => {
                let f = sym!($self, $op, $l.lustre_yaml_del)?;
                $self.call($op, |_, err| unsafe { f(p, len, err) })
            }
            YamlCall::Show => {
                let f = sym!($self, $op, $l.lustre_yaml_show)?;
                $self.call($op, |show, err| unsafe { f(p, len, show, err) })
            }
            YamlCall::Exec => {
                let f = sym!($self, $op, $l.lustre_yaml_exec)?;
                $self.call($op, |show, err| unsafe { f(p, len, show, err) })
            }
        }
    }};
}

/// liblnetconfig, opened for one node and one ABI.
pub struct Lnetconfig {
    probe: NodeProbe,
    library: String,
    abi: Abi,
    detected: Option<Detected>,
    lib: Loaded,
    alloc: Allocator,
    /// A plain handle on the same library, kept for the allocator's symbols.
    _raw: libloading::Library,
}

/// The `calloc` and `free` of the C library the loaded liblnetconfig uses.
///
/// Memory the library frees (interface descriptors) must come from its own allocator. In a
/// dynamically linked program that is the one C library there is; a statically linked
/// program that loads liblnetconfig has a second, shared C library in the process, with a
/// heap of its own, and freeing our memory there would corrupt it.
#[derive(Clone, Copy)]
struct Allocator {
    calloc: unsafe extern "C" fn(usize, usize) -> *mut std::ffi::c_void,
    free: unsafe extern "C" fn(*mut std::ffi::c_void),
}

impl Allocator {
    /// Looks both up through the library's handle (which searches its dependencies).
    fn of(raw: &libloading::Library) -> Option<Allocator> {
        unsafe {
            let calloc = raw
                .get::<unsafe extern "C" fn(usize, usize) -> *mut std::ffi::c_void>(b"calloc\0")
                .ok()?;
            let free = raw
                .get::<unsafe extern "C" fn(*mut std::ffi::c_void)>(b"free\0")
                .ok()?;
            Some(Allocator {
                calloc: *calloc,
                free: *free,
            })
        }
    }
}

impl std::fmt::Debug for Lnetconfig {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Lnetconfig")
            .field("node", &self.probe.node)
            .field("library", &self.library)
            .field("abi", &self.abi)
            .finish_non_exhaustive()
    }
}

impl Lnetconfig {
    /// Loads the library, picks the ABI (the forced one, else the node's version's), checks
    /// the library matches it, and initialises it.
    pub fn open(options: Options) -> Result<Lnetconfig, Error> {
        let Options {
            probe,
            library,
            abi,
        } = options;
        let path = library.unwrap_or_else(|| PathBuf::from(LIBRARY_SONAME));
        let name = path.display().to_string();
        // The library first: on a node without Lustre, "not found: is Lustre installed?"
        // says more than any version probe. A plain handle, kept for symbol look-ups.
        // SAFETY: loading runs the library's initialisers; liblnetconfig's are benign.
        let raw = unsafe { libloading::Library::new(&path) }
            .map_err(|e| load_error(&probe.node, &path, &e))?;
        let (abi, detected) = match abi {
            Some(abi) => (abi, None),
            None => {
                let d = probe.detect_abi()?;
                (d.abi, Some(d))
            }
        };
        // SAFETY: loading runs the library's initialisers; liblnetconfig's are benign.
        let loaded = unsafe {
            match abi {
                Abi::V2_15 => abi_2_15::LnetconfigAbi215::new(&path).map(Loaded::V215),
                Abi::V2_16 => abi_2_16::LnetconfigAbi216::new(&path).map(Loaded::V216),
                Abi::V2_17Plus => abi_2_17::LnetconfigAbi217::new(&path).map(Loaded::V217),
            }
        };
        let lib = loaded.map_err(|e| load_error(&probe.node, &path, &e))?;
        let alloc = Allocator::of(&raw).ok_or_else(|| Error::LibraryUnloadable {
            node: probe.node.clone(),
            library: name.clone(),
            detail: "neither it nor its dependencies provide calloc and free".into(),
        })?;
        let this = Lnetconfig {
            probe,
            library: name,
            abi,
            detected,
            lib,
            alloc,
            _raw: raw,
        };
        this.check_abi()?;
        this.init()?;
        Ok(this)
    }

    /// The ABI the library is called with.
    pub fn abi(&self) -> Abi {
        self.abi
    }

    /// How the ABI was detected (`None` when it was forced).
    pub fn detected(&self) -> Option<&Detected> {
        self.detected.as_ref()
    }

    /// The node's name.
    pub fn node(&self) -> &str {
        &self.probe.node
    }

    /// The library loaded.
    pub fn library(&self) -> &str {
        &self.library
    }

    /// Fails unless the lnet module and `/dev/lnet` are there (done before every call).
    pub fn check_loaded(&self) -> Result<(), Error> {
        self.probe.check_lnet_loaded()
    }

    /// The routing switch is the one call whose name tells 2.17+ from older libraries.
    fn check_abi(&self) -> Result<(), Error> {
        let has = |s: &str| unsafe {
            self._raw
                .get::<*const ()>(format!("{s}\0").as_bytes())
                .is_ok()
        };
        let (enable, config) = (
            has("lustre_lnet_enable_routing"),
            has("lustre_lnet_config_routing"),
        );
        let detail = match self.abi {
            Abi::V2_17Plus if enable && !config => {
                "it has lustre_lnet_enable_routing and no lustre_lnet_config_routing, like Lustre 2.15 and 2.16"
            }
            Abi::V2_15 | Abi::V2_16 if config && !enable => {
                "it has lustre_lnet_config_routing and no lustre_lnet_enable_routing, like Lustre 2.17 and later"
            }
            _ => return Ok(()),
        };
        Err(Error::AbiMismatch {
            node: self.probe.node.clone(),
            library: self.library.clone(),
            abi: self.abi,
            detail: detail.to_owned(),
        })
    }

    fn init(&self) -> Result<(), Error> {
        const OP: &str = "open";
        let f = on_lib!(self, l => sym!(self, OP, l.lustre_lnet_config_lib_init))?;
        let rc = {
            let _guard = serialised();
            unsafe { f() }
        };
        if rc < 0 {
            return Err(LnetError {
                node: self.probe.node.clone(),
                op: "lustre_lnet_config_lib_init".into(),
                abi: self.abi,
                rc,
                errno: i64::from(rc),
                description: "cannot register /dev/lnet with liblnetconfig".into(),
                command: None,
                entity: None,
                tree: Value::Null,
            }
            .into());
        }
        Ok(())
    }

    fn sym<T: Copy>(
        &self,
        op: &str,
        f: &Result<T, libloading::Error>,
        name: &str,
    ) -> Result<T, Error> {
        f.as_ref().copied().map_err(|_| Error::MissingSymbol {
            node: self.probe.node.clone(),
            op: op.to_owned(),
            library: self.library.clone(),
            symbol: name.to_owned(),
        })
    }

    fn invalid(&self, op: &str, reason: impl Into<String>) -> Error {
        Error::InvalidArgument {
            node: self.probe.node.clone(),
            op: op.to_owned(),
            reason: reason.into(),
        }
    }

    fn unsupported(&self, op: &str, reason: impl Into<String>) -> Error {
        Error::Unsupported {
            node: self.probe.node.clone(),
            op: op.to_owned(),
            abi: self.abi,
            reason: reason.into(),
        }
    }

    fn cstr(&self, op: &str, s: &str) -> Result<CBuf, Error> {
        CBuf::new(s).ok_or_else(|| self.invalid(op, format!("{s:?} contains a NUL byte")))
    }

    fn opt_cstr(&self, op: &str, s: Option<&str>) -> Result<Option<CBuf>, Error> {
        s.map(|s| self.cstr(op, s)).transpose()
    }

    /// Makes one call: `f` gets the addresses of the result and error trees. Returns the
    /// result tree as a value (`Null` when the call gives none).
    fn call(
        &self,
        op: &str,
        f: impl FnOnce(*mut *mut cYAML, *mut *mut cYAML) -> c_int,
    ) -> Result<Value, Error> {
        self.check_loaded()?;
        let free = on_lib!(self, l => sym!(self, op, l.cYAML_free_tree))?;
        let mut show: *mut cYAML = null_mut();
        let mut err: *mut cYAML = null_mut();
        let (rc, show_v, err_v) = {
            let _guard = serialised();
            let rc = f(&mut show, &mut err);
            // SAFETY: the trees were just returned by the library and are freed only below.
            let show_v = unsafe { cyaml::to_value(show) };
            let err_v = unsafe { cyaml::to_value(err) };
            unsafe {
                if !show.is_null() {
                    free(show);
                }
                if !err.is_null() {
                    free(err);
                }
            }
            (rc, show_v, err_v)
        };
        if rc != 0 {
            let tree = err_v.ok().flatten();
            return Err(LnetError::from_tree(&self.probe.node, op, self.abi, rc, tree).into());
        }
        show_v
            .map(Option::unwrap_or_default)
            .map_err(|e| Error::BadTree {
                node: self.probe.node.clone(),
                op: op.to_owned(),
                reason: e.to_string(),
            })
    }

    // ---- LNet as a whole ---------------------------------------------------------------

    /// `lnetctl lnet configure [--all]`: brings LNet up; with `load_ni_from_mod`, with the
    /// networks of the module parameters.
    pub fn configure(&self, load_ni_from_mod: bool) -> Result<(), Error> {
        const OP: &str = "configure";
        let f = on_lib!(self, l => sym!(self, OP, l.lustre_lnet_config_ni_system))?;
        self.call(OP, |_, err| unsafe { f(true, load_ni_from_mod, -1, err) })
            .map(drop)
    }

    /// `lnetctl lnet unconfigure`: takes LNet down.
    pub fn unconfigure(&self) -> Result<(), Error> {
        const OP: &str = "unconfigure";
        let f = on_lib!(self, l => sym!(self, OP, l.lustre_lnet_config_ni_system))?;
        self.call(OP, |_, err| unsafe { f(false, false, -1, err) })
            .map(drop)
    }

    // ---- networks ----------------------------------------------------------------------

    /// `lnetctl net add`: adds an NI.
    pub fn add_ni(&self, ni: &NiConfig) -> Result<(), Error> {
        const OP: &str = "add_ni";
        ni.lnd_tunables
            .check_for(ni.net.lnd)
            .map_err(|e| self.invalid(OP, e.0))?;
        if ni.interfaces.is_empty() && ni.ip2net.is_none() {
            return Err(self.invalid(OP, "give interfaces or an ip2net rule"));
        }
        if self.abi == Abi::V2_15
            && (ni.lnd_tunables.tos.is_some() || ni.lnd_tunables.traffic_class.is_some())
        {
            return Err(self.unsupported(OP, "tos and traffic_class came with Lustre 2.16"));
        }
        let mut cpts = ni.cpts.as_ref().map(CptList::new);
        let cpts_ptr = cpts.as_mut().map_or(null_mut(), CptList::as_mut_ptr);
        let mut ip2net = self.opt_cstr(OP, ni.ip2net.as_deref())?;
        let ip2net_ptr = CBuf::opt_ptr(&mut ip2net);
        match &self.lib {
            Loaded::V215(l) => {
                let f = sym!(self, OP, l.lustre_lnet_config_ni)?;
                let mut nw =
                    self.net_descr::<abi_2_15::lnet_dlc_intf_descr>(OP, ni.net, &ni.interfaces)?;
                let mut tun = tunables_2_15(ni);
                let tun_ptr = tun.as_mut().map_or(null_mut(), |t| t as *mut _);
                // 2.15 takes conns_per_peer as an argument of its own.
                let cpp = ni.lnd_tunables.conns_per_peer.map_or(-1, c_long::from);
                self.call(OP, |_, err| unsafe {
                    f(nw.as_mut_ptr(), cpts_ptr, ip2net_ptr, tun_ptr, cpp, -1, err)
                })?;
            }
            Loaded::V216(l) => {
                let f = sym!(self, OP, l.lustre_lnet_config_ni)?;
                let mut nw =
                    self.net_descr::<abi_2_16::lnet_dlc_intf_descr>(OP, ni.net, &ni.interfaces)?;
                let mut tun = tunables_2_16(ni);
                let tun_ptr = tun.as_mut().map_or(null_mut(), |t| t as *mut _);
                self.call(OP, |_, err| unsafe {
                    f(nw.as_mut_ptr(), cpts_ptr, ip2net_ptr, tun_ptr, -1, err)
                })?;
            }
            Loaded::V217(l) => {
                let f = sym!(self, OP, l.lustre_lnet_config_ni)?;
                let mut nw =
                    self.net_descr::<abi_2_17::lnet_dlc_intf_descr>(OP, ni.net, &ni.interfaces)?;
                let mut tun = tunables_2_17(ni);
                let tun_ptr = tun.as_mut().map_or(null_mut(), |t| t as *mut _);
                self.call(OP, |_, err| unsafe {
                    f(nw.as_mut_ptr(), cpts_ptr, ip2net_ptr, tun_ptr, -1, err)
                })?;
            }
        }
        Ok(())
    }

    /// `lnetctl net del`: removes the NIs of `net` on `interfaces` (all of them when empty).
    pub fn del_ni(&self, net: NetId, interfaces: &[String]) -> Result<(), Error> {
        const OP: &str = "del_ni";
        match &self.lib {
            Loaded::V215(l) => {
                let f = sym!(self, OP, l.lustre_lnet_del_ni)?;
                let mut nw =
                    self.net_descr::<abi_2_15::lnet_dlc_intf_descr>(OP, net, interfaces)?;
                self.call(OP, |_, err| unsafe { f(nw.as_mut_ptr(), -1, err) })?;
            }
            Loaded::V216(l) => {
                let f = sym!(self, OP, l.lustre_lnet_del_ni)?;
                let mut nw =
                    self.net_descr::<abi_2_16::lnet_dlc_intf_descr>(OP, net, interfaces)?;
                self.call(OP, |_, err| unsafe { f(nw.as_mut_ptr(), -1, err) })?;
            }
            Loaded::V217(l) => {
                let f = sym!(self, OP, l.lustre_lnet_del_ni)?;
                let mut nw =
                    self.net_descr::<abi_2_17::lnet_dlc_intf_descr>(OP, net, interfaces)?;
                self.call(OP, |_, err| unsafe { f(nw.as_mut_ptr(), -1, err) })?;
            }
        }
        Ok(())
    }

    fn net_descr<D: IntfDescr>(
        &self,
        op: &str,
        net: NetId,
        interfaces: &[String],
    ) -> Result<NetDescr<D>, Error> {
        let mut nw = NetDescr::<D>::new(net.id(), self.alloc);
        for name in interfaces {
            check_interface_name(name, D::name_len())
                .map_err(|e| self.invalid(op, format!("{} (ABI {})", e.0, self.abi)))?;
            nw.push(name);
        }
        Ok(nw)
    }

    /// `lnetctl net show [--net NET] [-v DETAIL]`: the networks, as lnetctl prints them.
    pub fn show_net(&self, net: Option<NetId>, detail: u32) -> Result<Value, Error> {
        const OP: &str = "show_net";
        let mut nw = self.opt_cstr(OP, net.map(|n| n.to_string()).as_deref())?;
        let nw_ptr = CBuf::opt_ptr(&mut nw);
        let detail = clamp(detail);
        let f = on_lib!(self, l => sym!(self, OP, l.lustre_lnet_show_net))?;
        self.call(OP, |show, err| unsafe {
            f(nw_ptr, detail, -1, show, err, false)
        })
    }

    // ---- routes and routing ------------------------------------------------------------

    /// `lnetctl route add`.
    pub fn add_route(&self, route: &RouteConfig) -> Result<(), Error> {
        const OP: &str = "add_route";
        if let Some(h) = route.hops {
            if !(1..=255).contains(&h) {
                return Err(self.invalid(OP, format!("hops must be 1 to 255, not {h}")));
            }
        }
        let mut nw = self.cstr(OP, &route.net.to_string())?;
        let mut gw = self.cstr(OP, &route.gateway.to_string())?;
        let hops = route.hops.map_or(-1, clamp);
        let prio = route.priority.map_or(-1, clamp);
        let sen = route.health_sensitivity.map_or(-1, clamp);
        match &self.lib {
            Loaded::V215(l) => {
                let f = sym!(self, OP, l.lustre_lnet_config_route)?;
                self.call(OP, |_, err| unsafe {
                    f(nw.ptr(), gw.ptr(), hops, prio, sen, -1, err)
                })?;
            }
            Loaded::V216(l) => {
                let f = sym!(self, OP, l.lustre_lnet_config_route)?;
                self.call(OP, |_, err| unsafe {
                    f(nw.ptr(), gw.ptr(), hops, prio, sen, -1, err)
                })?;
            }
            Loaded::V217(l) => {
                if route.health_sensitivity.is_some() {
                    return Err(self.unsupported(
                        OP,
                        "lustre_lnet_config_route lost its health sensitivity argument in 2.17",
                    ));
                }
                let f = sym!(self, OP, l.lustre_lnet_config_route)?;
                self.call(OP, |_, err| unsafe {
                    f(nw.ptr(), gw.ptr(), hops, prio, -1, err)
                })?;
            }
        }
        Ok(())
    }

    /// `lnetctl route del`.
    pub fn del_route(&self, net: NetId, gateway: &Nid) -> Result<(), Error> {
        const OP: &str = "del_route";
        let mut nw = self.cstr(OP, &net.to_string())?;
        let mut gw = self.cstr(OP, &gateway.to_string())?;
        let f = on_lib!(self, l => sym!(self, OP, l.lustre_lnet_del_route))?;
        self.call(OP, |_, err| unsafe { f(nw.ptr(), gw.ptr(), -1, err) })
            .map(drop)
    }

    /// `lnetctl route show [-v]`: the routes matching `filter`.
    pub fn show_route(&self, filter: &RouteFilter, detail: bool) -> Result<Value, Error> {
        const OP: &str = "show_route";
        let mut nw = self.opt_cstr(OP, filter.net.map(|n| n.to_string()).as_deref())?;
        let mut gw = self.opt_cstr(OP, filter.gateway.as_ref().map(Nid::to_string).as_deref())?;
        let (nw_ptr, gw_ptr) = (CBuf::opt_ptr(&mut nw), CBuf::opt_ptr(&mut gw));
        let hops = filter.hops.map_or(-1, clamp);
        let prio = filter.priority.map_or(-1, clamp);
        let f = on_lib!(self, l => sym!(self, OP, l.lustre_lnet_show_route))?;
        self.call(OP, |show, err| unsafe {
            f(
                nw_ptr,
                gw_ptr,
                hops,
                prio,
                c_int::from(detail),
                -1,
                show,
                err,
                false,
            )
        })
    }

    /// `lnetctl set routing 0|1`.
    pub fn set_routing(&self, enable: bool) -> Result<(), Error> {
        const OP: &str = "set_routing";
        let enable = c_int::from(enable);
        match &self.lib {
            Loaded::V215(l) => {
                let f = sym!(self, OP, l.lustre_lnet_enable_routing)?;
                self.call(OP, |_, err| unsafe { f(enable, -1, err) })?;
            }
            Loaded::V216(l) => {
                let f = sym!(self, OP, l.lustre_lnet_enable_routing)?;
                self.call(OP, |_, err| unsafe { f(enable, -1, err) })?;
            }
            Loaded::V217(l) => {
                let f = sym!(self, OP, l.lustre_lnet_config_routing)?;
                self.call(OP, |_, err| unsafe { f(enable, -1, err) })?;
            }
        }
        Ok(())
    }

    /// `lnetctl set tiny_buffers/small_buffers/large_buffers`: `None` leaves one as it is,
    /// 0 resets it to its default.
    pub fn set_buffers(
        &self,
        tiny: Option<u32>,
        small: Option<u32>,
        large: Option<u32>,
    ) -> Result<(), Error> {
        const OP: &str = "set_buffers";
        let v = |n: Option<u32>| n.map_or(-1, clamp);
        let f = on_lib!(self, l => sym!(self, OP, l.lustre_lnet_config_buffers))?;
        self.call(OP, |_, err| unsafe {
            f(v(tiny), v(small), v(large), -1, err)
        })
        .map(drop)
    }

    /// `lnetctl routing show`: router buffers and whether routing is on.
    pub fn show_routing(&self) -> Result<Value, Error> {
        const OP: &str = "show_routing";
        let f = on_lib!(self, l => sym!(self, OP, l.lustre_lnet_show_routing))?;
        self.call(OP, |show, err| unsafe { f(-1, show, err, false) })
    }

    // ---- peers -------------------------------------------------------------------------

    /// `lnetctl peer add`.
    pub fn add_peer(&self, peer: &PeerConfig) -> Result<(), Error> {
        const OP: &str = "add_peer";
        if peer.nids.is_empty() && peer.primary.is_none() {
            return Err(self.invalid(OP, "give a primary NID or NIDs"));
        }
        let prim = peer.primary.as_ref().map(Nid::to_string);
        let nids = join_nids(&peer.nids);
        let mut prim = self.opt_cstr(OP, prim.as_deref())?;
        let mut nids = self.opt_cstr(OP, nids.as_deref())?;
        let (prim_ptr, nids_ptr) = (CBuf::opt_ptr(&mut prim), CBuf::opt_ptr(&mut nids));
        let lock = c_int::from(peer.lock_primary);
        let f = on_lib!(self, l => sym!(self, OP, l.lustre_lnet_modify_peer))?;
        self.call(OP, |_, err| unsafe {
            f(
                prim_ptr,
                nids_ptr,
                peer.multi_rail,
                LNETCTL_ADD_CMD,
                lock,
                -1,
                err,
            )
        })
        .map(drop)
    }

    /// `lnetctl peer del`: removes `nids` from the peer, or the whole peer when empty;
    /// `force` also removes a locked primary NID.
    pub fn del_peer(&self, primary: &Nid, nids: &[Nid], force: bool) -> Result<(), Error> {
        const OP: &str = "del_peer";
        let mut prim = self.cstr(OP, &primary.to_string())?;
        let mut nids = self.opt_cstr(OP, join_nids(nids).as_deref())?;
        let nids_ptr = CBuf::opt_ptr(&mut nids);
        let f = on_lib!(self, l => sym!(self, OP, l.lustre_lnet_modify_peer))?;
        self.call(OP, |_, err| unsafe {
            f(
                prim.ptr(),
                nids_ptr,
                true,
                LNETCTL_DEL_CMD,
                c_int::from(force),
                -1,
                err,
            )
        })
        .map(drop)
    }

    /// `lnetctl peer show [--nid NID] [-v DETAIL]`.
    pub fn show_peer(&self, nid: Option<&Nid>, detail: u32) -> Result<Value, Error> {
        const OP: &str = "show_peer";
        let mut knid = self.opt_cstr(OP, nid.map(Nid::to_string).as_deref())?;
        let knid_ptr = CBuf::opt_ptr(&mut knid);
        let detail = clamp(detail);
        let f = on_lib!(self, l => sym!(self, OP, l.lustre_lnet_show_peer))?;
        self.call(OP, |show, err| unsafe {
            f(knid_ptr, detail, -1, show, err, false)
        })
    }

    /// `lnetctl peer list`.
    pub fn list_peers(&self) -> Result<Value, Error> {
        const OP: &str = "list_peers";
        let f = on_lib!(self, l => sym!(self, OP, l.lustre_lnet_list_peer))?;
        self.call(OP, |show, err| unsafe { f(-1, show, err) })
    }

    /// `lnetctl ping [--source SRC] [--timeout S] NID`.
    pub fn ping(&self, nid: &Nid, source: Option<&Nid>, timeout: Duration) -> Result<Value, Error> {
        const OP: &str = "ping";
        let mut pnid = self.cstr(OP, &nid.to_string())?;
        let mut src = self.opt_cstr(OP, source.map(Nid::to_string).as_deref())?;
        let src_ptr = CBuf::opt_ptr(&mut src);
        let ms = c_int::try_from(timeout.as_millis()).unwrap_or(c_int::MAX);
        let f = on_lib!(self, l => sym!(self, OP, l.lustre_lnet_ping_nid))?;
        self.call(OP, |show, err| unsafe {
            f(pnid.ptr(), src_ptr, ms, -1, show, err)
        })
        .map(lnetctl_shape)
    }

    /// `lnetctl discover [--force] NID`.
    pub fn discover(&self, nid: &Nid, force: bool) -> Result<Value, Error> {
        const OP: &str = "discover";
        let mut pnid = self.cstr(OP, &nid.to_string())?;
        let f = on_lib!(self, l => sym!(self, OP, l.lustre_lnet_discover_nid))?;
        self.call(OP, |show, err| unsafe {
            f(pnid.ptr(), c_int::from(force), -1, show, err)
        })
        .map(lnetctl_shape)
    }

    // ---- global settings ---------------------------------------------------------------

    /// `lnetctl set SETTING VALUE`.
    pub fn set_global(&self, setting: Global, value: i32) -> Result<(), Error> {
        let op = format!("set {setting}");
        type Setter = unsafe extern "C" fn(c_int, c_int, *mut *mut cYAML) -> c_int;
        let f: Setter = on_lib!(self, l => match setting {
            Global::NumaRange => sym!(self, &op, l.lustre_lnet_config_numa_range),
            Global::MaxInterfaces => sym!(self, &op, l.lustre_lnet_config_max_intf),
            Global::Discovery => sym!(self, &op, l.lustre_lnet_config_discovery),
            Global::DropAsymRoute => sym!(self, &op, l.lustre_lnet_config_drop_asym_route),
            Global::RetryCount => sym!(self, &op, l.lustre_lnet_config_retry_count),
            Global::TransactionTimeout => sym!(self, &op, l.lustre_lnet_config_transaction_to),
            Global::HealthSensitivity => sym!(self, &op, l.lustre_lnet_config_hsensitivity),
            Global::RecoveryInterval => sym!(self, &op, l.lustre_lnet_config_recov_intrv),
            Global::RouterSensitivity => sym!(self, &op, l.lustre_lnet_config_rtr_sensitivity),
            Global::ResponseTracking => sym!(self, &op, l.lustre_lnet_config_response_tracking),
            Global::RecoveryLimit => sym!(self, &op, l.lustre_lnet_config_recovery_limit),
            Global::MaxRecoveryPingInterval => {
                sym!(self, &op, l.lustre_lnet_config_max_recovery_ping_interval)
            }
            Global::LndTimeout => Err(self.invalid(
                &op,
                "lnd_timeout is read only (it follows transaction_timeout and retry_count)",
            )),
        })?;
        self.call(&op, |_, err| unsafe { f(value, -1, err) })
            .map(drop)
    }

    /// One global setting, as `{global: {SETTING: VALUE}}`.
    pub fn show_global(&self, setting: Global) -> Result<Value, Error> {
        let op = format!("show {setting}");
        type Getter = unsafe extern "C" fn(c_int, *mut *mut cYAML, *mut *mut cYAML) -> c_int;
        let f: Getter = on_lib!(self, l => match setting {
            Global::NumaRange => sym!(self, &op, l.lustre_lnet_show_numa_range),
            Global::MaxInterfaces => sym!(self, &op, l.lustre_lnet_show_max_intf),
            Global::Discovery => sym!(self, &op, l.lustre_lnet_show_discovery),
            Global::DropAsymRoute => sym!(self, &op, l.lustre_lnet_show_drop_asym_route),
            Global::RetryCount => sym!(self, &op, l.lustre_lnet_show_retry_count),
            Global::TransactionTimeout => sym!(self, &op, l.lustre_lnet_show_transaction_to),
            Global::HealthSensitivity => sym!(self, &op, l.lustre_lnet_show_hsensitivity),
            Global::RecoveryInterval => sym!(self, &op, l.lustre_lnet_show_recov_intrv),
            Global::RouterSensitivity => sym!(self, &op, l.lustre_lnet_show_rtr_sensitivity),
            Global::ResponseTracking => sym!(self, &op, l.lustre_lnet_show_response_tracking),
            Global::RecoveryLimit => sym!(self, &op, l.lustre_lnet_show_recovery_limit),
            Global::MaxRecoveryPingInterval => {
                sym!(self, &op, l.lustre_lnet_show_max_recovery_ping_interval)
            }
            Global::LndTimeout => sym!(self, &op, l.lustre_lnet_show_lnd_timeout),
        })?;
        self.call(&op, |show, err| unsafe { f(-1, show, err) })
    }

    /// `lnetctl global show`: every setting this library has, as `{global: {...}}`.
    /// Settings the library does not export are left out; the first failure is returned.
    pub fn show_globals(&self) -> Result<Value, Error> {
        let mut global = Mapping::new();
        for setting in Global::ALL {
            let v = match self.show_global(setting) {
                Err(Error::MissingSymbol { .. }) => continue,
                other => other?,
            };
            if let Some(m) = v.get("global").and_then(Value::as_mapping) {
                for (k, v) in m {
                    global.insert(k.clone(), v.clone());
                }
            }
        }
        let mut root = Mapping::new();
        root.insert("global".into(), Value::Mapping(global));
        Ok(Value::Mapping(root))
    }

    // ---- statistics --------------------------------------------------------------------

    /// `lnetctl stats show`.
    pub fn show_stats(&self) -> Result<Value, Error> {
        const OP: &str = "show_stats";
        let f = on_lib!(self, l => sym!(self, OP, l.lustre_lnet_show_stats))?;
        self.call(OP, |show, err| unsafe { f(-1, show, err) })
    }

    /// `lnetctl stats reset`.
    pub fn reset_stats(&self) -> Result<(), Error> {
        const OP: &str = "reset_stats";
        let f = on_lib!(self, l => sym!(self, OP, l.lustre_lnet_reset_stats))?;
        self.call(OP, |_, err| unsafe { f(-1, err) }).map(drop)
    }

    // ---- user defined selection policies ------------------------------------------------

    /// `lnetctl udsp add`.
    pub fn add_udsp(&self, rule: &UdspRule) -> Result<(), Error> {
        const OP: &str = "add_udsp";
        let mut src = self.opt_cstr(OP, rule.src.as_deref())?;
        let mut dst = self.opt_cstr(OP, rule.dst.as_deref())?;
        let mut rte = self.opt_cstr(OP, rule.rte.as_deref())?;
        // As lnetctl: a rule with a priority ranks what it matches; one without is a
        // "pref" rule (a NID pair or router rule, or priority 0 for a src or dst rule alone,
        // which liblnetconfig turns into one). No type at all is refused by the library.
        let mut kind = self.opt_cstr(
            OP,
            Some(if rule.priority.is_some() {
                "priority"
            } else {
                "pref"
            }),
        )?;
        let mut action = lnet_udsp_action {
            udsp_priority: rule.priority.map_or(-1, clamp),
        };
        let idx = rule.idx.map_or(-1, clamp);
        let ptrs = [
            CBuf::opt_ptr(&mut src),
            CBuf::opt_ptr(&mut dst),
            CBuf::opt_ptr(&mut rte),
            CBuf::opt_ptr(&mut kind),
        ];
        let f = on_lib!(self, l => sym!(self, OP, l.lustre_lnet_add_udsp))?;
        self.call(OP, |_, err| unsafe {
            f(
                ptrs[0],
                ptrs[1],
                ptrs[2],
                ptrs[3],
                &mut action,
                idx,
                -1,
                err,
            )
        })
        .map(drop)
    }

    /// `lnetctl udsp del --idx N`, or every rule when `idx` is `None`.
    pub fn del_udsp(&self, idx: Option<u32>) -> Result<(), Error> {
        const OP: &str = "del_udsp";
        // The library takes an unsigned index; lnetctl's --all passes -1.
        let idx = idx.unwrap_or(u32::MAX);
        let f = on_lib!(self, l => sym!(self, OP, l.lustre_lnet_del_udsp))?;
        self.call(OP, |_, err| unsafe { f(idx, -1, err) }).map(drop)
    }

    /// `lnetctl udsp show [--idx N]`.
    pub fn show_udsp(&self, idx: Option<u32>) -> Result<Value, Error> {
        const OP: &str = "show_udsp";
        let idx = idx.map_or(-1, clamp);
        let f = on_lib!(self, l => sym!(self, OP, l.lustre_lnet_show_udsp))?;
        self.call(OP, |show, err| unsafe { f(idx, -1, show, err) })
    }

    // ---- YAML configuration ------------------------------------------------------------

    /// `lnetctl import FILE`: configures what the YAML describes.
    pub fn yaml_config(&self, yaml: &str) -> Result<(), Error> {
        self.yaml(YamlCall::Config, yaml).map(drop)
    }

    /// `lnetctl import --del FILE`: removes what the YAML describes.
    pub fn yaml_del(&self, yaml: &str) -> Result<(), Error> {
        self.yaml(YamlCall::Del, yaml).map(drop)
    }

    /// `lnetctl import --show FILE`: shows what the YAML names.
    pub fn yaml_show(&self, yaml: &str) -> Result<Value, Error> {
        self.yaml(YamlCall::Show, yaml)
    }

    /// `lnetctl import --exec FILE`: runs the commands the YAML holds (ping, discover).
    pub fn yaml_exec(&self, yaml: &str) -> Result<Value, Error> {
        self.yaml(YamlCall::Exec, yaml)
    }

    fn yaml(&self, which: YamlCall, yaml: &str) -> Result<Value, Error> {
        let op = which.op();
        let mut text = self.cstr(op, yaml)?;
        let len = yaml.len();
        match &self.lib {
            Loaded::V215(l) => {
                // 2.15 reads the YAML from a file.
                let file = self.yaml_file(op, yaml)?;
                let mut path = self.cstr(op, &file.path().to_string_lossy())?;
                let p = path.ptr();
                match which {
                    YamlCall::Config => {
                        let f = sym!(self, op, l.lustre_yaml_config)?;
                        self.call(op, |_, err| unsafe { f(p, err) })
                    }
                    YamlCall::Del => {
                        let f = sym!(self, op, l.lustre_yaml_del)?;
                        self.call(op, |_, err| unsafe { f(p, err) })
                    }
                    YamlCall::Show => {
                        let f = sym!(self, op, l.lustre_yaml_show)?;
                        self.call(op, |show, err| unsafe { f(p, show, err) })
                    }
                    YamlCall::Exec => {
                        let f = sym!(self, op, l.lustre_yaml_exec)?;
                        self.call(op, |show, err| unsafe { f(p, show, err) })
                    }
                }
            }
            Loaded::V216(l) => yaml_buffer_call!(self, l, which, op, text.ptr(), len),
            Loaded::V217(l) => yaml_buffer_call!(self, l, which, op, text.ptr(), len),
        }
    }

    fn yaml_file(&self, op: &str, yaml: &str) -> Result<tempfile::NamedTempFile, Error> {
        use std::io::Write;
        let io = |source| Error::Io {
            node: self.probe.node.clone(),
            op: op.to_owned(),
            source,
        };
        let mut file = tempfile::Builder::new()
            .prefix("lutf-lnet-")
            .suffix(".yaml")
            .tempfile()
            .map_err(io)?;
        file.write_all(yaml.as_bytes()).map_err(io)?;
        file.flush().map_err(io)?;
        Ok(file)
    }
}

#[derive(Debug, Clone, Copy)]
enum YamlCall {
    Config,
    Del,
    Show,
    Exec,
}

impl YamlCall {
    fn op(self) -> &'static str {
        match self {
            YamlCall::Config => "yaml_config",
            YamlCall::Del => "yaml_del",
            YamlCall::Show => "yaml_show",
            YamlCall::Exec => "yaml_exec",
        }
    }
}

fn load_error(node: &str, path: &std::path::Path, e: &libloading::Error) -> Error {
    let detail = e.to_string();
    let file = path
        .file_name()
        .map(|f| f.to_string_lossy().into_owned())
        .unwrap_or_default();
    // "liblnetconfig.so.4: cannot open shared object file: No such file or directory" is
    // the library itself missing; any other file named is a missing dependency.
    let missing_itself = detail.contains(&format!("{file}: cannot open shared object file"))
        && detail.contains("No such file");
    if missing_itself {
        Error::LibraryMissing {
            node: node.to_owned(),
            library: path.display().to_string(),
            detail,
        }
    } else {
        Error::LibraryUnloadable {
            node: node.to_owned(),
            library: path.display().to_string(),
            detail,
        }
    }
}

/// A number for an `int` argument (values above `i32::MAX` are clamped).
fn clamp(n: u32) -> c_int {
    c_int::try_from(n).unwrap_or(c_int::MAX)
}

fn join_nids(nids: &[Nid]) -> Option<String> {
    (!nids.is_empty()).then(|| {
        nids.iter()
            .map(Nid::to_string)
            .collect::<Vec<_>>()
            .join(",")
    })
}

/// A NUL-terminated string the library may write into (`lustre_lnet_modify_peer` does).
struct CBuf(Vec<u8>);

impl CBuf {
    fn new(s: &str) -> Option<CBuf> {
        if s.contains('\0') {
            return None;
        }
        let mut v = Vec::with_capacity(s.len() + 1);
        v.extend_from_slice(s.as_bytes());
        v.push(0);
        Some(CBuf(v))
    }

    fn ptr(&mut self) -> *mut c_char {
        self.0.as_mut_ptr().cast()
    }

    fn opt_ptr(b: &mut Option<CBuf>) -> *mut c_char {
        b.as_mut().map_or(null_mut(), CBuf::ptr)
    }
}

/// Appends `new` to the circular list at `head`.
///
/// # Safety
/// Both must be valid, `head` a properly linked list.
unsafe fn list_add_tail(head: *mut list_head, new: *mut list_head) {
    (*new).next = head;
    (*new).prev = (*head).prev;
    (*(*head).prev).next = new;
    (*head).prev = new;
}

fn list_init(head: &mut list_head) {
    let p: *mut list_head = head;
    head.next = p;
    head.prev = p;
}

/// A CPT set as liblnetconfig reads it: a `cfs_expr_list` of `cfs_range_expr`, in Rust
/// memory (the library only reads it). The ranges are linked once they are in their final
/// place in the vector, which is never resized afterwards.
struct CptList {
    head: Box<cfs_expr_list>,
    _ranges: Vec<cfs_range_expr>,
}

impl CptList {
    fn new(set: &CptSet) -> CptList {
        let mut head = Box::<cfs_expr_list>::default();
        list_init(&mut head.el_link);
        list_init(&mut head.el_exprs);
        let mut ranges: Vec<cfs_range_expr> = set
            .0
            .iter()
            .map(|r| cfs_range_expr {
                re_lo: r.lo,
                re_hi: r.hi,
                re_stride: r.stride,
                ..Default::default()
            })
            .collect();
        for re in &mut ranges {
            // SAFETY: the head is boxed and the vector is not resized while linked.
            unsafe { list_add_tail(&mut head.el_exprs, &mut re.re_link) };
        }
        CptList {
            head,
            _ranges: ranges,
        }
    }

    fn as_mut_ptr(&mut self) -> *mut cfs_expr_list {
        &mut *self.head
    }
}

/// An ABI's interface descriptor type.
trait IntfDescr {
    /// Size of the name field (including the NUL).
    fn name_len() -> usize;
    /// Offset of the list link in the structure.
    fn link_offset() -> usize;
    /// Fills a zeroed descriptor's name.
    fn set_name(&mut self, name: &str);
    /// The descriptor's list link.
    fn link(&mut self) -> *mut list_head;
}

macro_rules! intf_descr {
    ($m:ident) => {
        impl IntfDescr for $m::lnet_dlc_intf_descr {
            fn name_len() -> usize {
                $m::lnet_dlc_intf_descr::default().intf_name.len()
            }
            fn link_offset() -> usize {
                std::mem::offset_of!($m::lnet_dlc_intf_descr, intf_on_network)
            }
            fn set_name(&mut self, name: &str) {
                for (dst, src) in self.intf_name.iter_mut().zip(name.bytes()) {
                    *dst = src as c_char;
                }
            }
            fn link(&mut self) -> *mut list_head {
                &mut self.intf_on_network
            }
        }
    };
}
intf_descr!(abi_2_15);
intf_descr!(abi_2_16);
intf_descr!(abi_2_17);

/// A network descriptor with its interfaces chained on it. The descriptors come from the
/// library's C allocator: it frees those it is given; whatever is still chained on drop is
/// freed here.
struct NetDescr<D: IntfDescr> {
    descr: Box<lnet_dlc_network_descr>,
    alloc: Allocator,
    _d: PhantomData<D>,
}

impl<D: IntfDescr> NetDescr<D> {
    fn new(net_id: u32, alloc: Allocator) -> Self {
        let mut descr = Box::<lnet_dlc_network_descr>::default();
        list_init(&mut descr.network_on_rule);
        list_init(&mut descr.nw_intflist);
        descr.nw_id = net_id;
        NetDescr {
            descr,
            alloc,
            _d: PhantomData,
        }
    }

    /// Chains an interface (its name already checked against `D::name_len()`).
    fn push(&mut self, name: &str) {
        // SAFETY: calloc gives zeroed memory of D's size, a valid all-zero D (pointers
        // null, names empty); it is linked into our list and freed with the same C
        // library's free(), by liblnetconfig or by our Drop.
        unsafe {
            let d = (self.alloc.calloc)(1, std::mem::size_of::<D>()).cast::<D>();
            assert!(
                !d.is_null(),
                "out of memory allocating an interface descriptor"
            );
            (*d).set_name(name);
            list_add_tail(&mut self.descr.nw_intflist, (*d).link());
        }
    }

    fn as_mut_ptr(&mut self) -> *mut lnet_dlc_network_descr {
        &mut *self.descr
    }
}

impl<D: IntfDescr> Drop for NetDescr<D> {
    fn drop(&mut self) {
        let head: *mut list_head = &mut self.descr.nw_intflist;
        // SAFETY: every node still chained is one of our calloc'ed descriptors (the
        // library unlinks the ones it frees).
        unsafe {
            let mut p = (*head).next;
            while !p.is_null() && p != head {
                let next = (*p).next;
                (self.alloc.free)(p.cast::<u8>().sub(D::link_offset()).cast());
                p = next;
            }
        }
        list_init(&mut self.descr.nw_intflist);
    }
}

/// The common tunables, -1 meaning "default" as lnetctl passes them.
macro_rules! common_tunables {
    ($t:expr, $ni:expr) => {{
        let c = &$ni.tunables;
        $t.lt_cmn.lct_peer_timeout = c.peer_timeout.unwrap_or(-1);
        $t.lt_cmn.lct_peer_tx_credits = c.peer_credits.unwrap_or(-1);
        $t.lt_cmn.lct_peer_rtr_credits = c.peer_buffer_credits.unwrap_or(-1);
        $t.lt_cmn.lct_max_tx_credits = c.credits.unwrap_or(-1);
    }};
}

fn tunables_2_15(ni: &NiConfig) -> Option<abi_2_15::lnet_ioctl_config_lnd_tunables> {
    // conns_per_peer is an argument of its own in 2.15; tos and traffic_class do not exist.
    let lnd = &ni.lnd_tunables;
    if ni.tunables.is_empty() && lnd.auth_key.is_none() {
        return None;
    }
    let mut t = abi_2_15::lnet_ioctl_config_lnd_tunables::default();
    common_tunables!(t, ni);
    match ni.net.lnd {
        Lnd::O2ib => t.lt_tun.lnd_tun_u.lnd_o2ib.lnd_map_on_demand = u32::MAX,
        Lnd::Kfi => t.lt_tun.lnd_tun_u.lnd_kfi.lnd_auth_key = lnd.auth_key.unwrap_or(0),
        _ => {}
    }
    Some(t)
}

macro_rules! tunables_2_16_plus {
    ($name:ident, $m:ident) => {
        fn $name(ni: &NiConfig) -> Option<$m::lnet_ioctl_config_lnd_tunables> {
            let lnd = &ni.lnd_tunables;
            if ni.tunables.is_empty() && lnd.is_empty() {
                return None;
            }
            let mut t = $m::lnet_ioctl_config_lnd_tunables::default();
            common_tunables!(t, ni);
            let tos = lnd.tos.map_or(-1, i16::from);
            let u = &mut t.lt_tun.lnd_tun_u;
            match ni.net.lnd {
                Lnd::Tcp => {
                    u.lnd_sock.lnd_conns_per_peer = lnd.conns_per_peer.unwrap_or(0);
                    u.lnd_sock.lnd_tos = tos;
                }
                Lnd::O2ib => {
                    u.lnd_o2ib.lnd_conns_per_peer = lnd.conns_per_peer.unwrap_or(0);
                    u.lnd_o2ib.lnd_tos = i32::from(tos);
                    // "not set", as lnetctl passes it
                    u.lnd_o2ib.lnd_map_on_demand = u32::MAX;
                }
                Lnd::Kfi => {
                    u.lnd_kfi.lnd_auth_key = lnd.auth_key.unwrap_or(0);
                    if let Some(tc) = &lnd.traffic_class {
                        // SAFETY: the union was zeroed and only its kfi member is used.
                        let field = unsafe { &mut u.lnd_kfi.lnd_traffic_class_str };
                        for (dst, src) in field.iter_mut().zip(tc.bytes()) {
                            *dst = src as c_char;
                        }
                    }
                }
                _ => {}
            }
            Some(t)
        }
    };
}
tunables_2_16_plus!(tunables_2_16, abi_2_16);
tunables_2_16_plus!(tunables_2_17, abi_2_17);

/// A ping or discover tree in the shape lnetctl prints it (netlink, 2.17): liblnetconfig's
/// ioctl path builds `peer ni` and `Multi-Rail: "True"`, lnetctl prints `peer_ni` and a
/// boolean. A test must not care which path answered.
pub fn lnetctl_shape(v: Value) -> Value {
    match v {
        Value::Mapping(m) => Value::Mapping(
            m.into_iter()
                .map(|(k, v)| {
                    let v = match (k.as_str(), v) {
                        (Some("Multi-Rail"), Value::String(s)) if s == "True" => Value::Bool(true),
                        (Some("Multi-Rail"), Value::String(s)) if s == "False" => {
                            Value::Bool(false)
                        }
                        (_, v) => lnetctl_shape(v),
                    };
                    let k = match k.as_str() {
                        Some("peer ni") => Value::String("peer_ni".into()),
                        _ => k,
                    };
                    (k, v)
                })
                .collect::<Mapping>(),
        ),
        Value::Sequence(s) => Value::Sequence(s.into_iter().map(lnetctl_shape).collect()),
        v => v,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn library_ping_trees_take_lnetctls_shape() {
        // liblnetconfig 2.17.57's ping of a peer in the VMs, and lnetctl's for the same ping.
        let library: Value = serde_yaml::from_str(
            "ping:\n- primary nid: 198.19.4.12@tcp\n  Multi-Rail: 'False'\n  peer ni:\n  - nid: 198.19.4.12@tcp\n",
        )
        .unwrap();
        let lnetctl: Value = serde_yaml::from_str(
            "ping:\n- primary nid: 198.19.4.12@tcp\n  Multi-Rail: false\n  peer_ni:\n  - nid: 198.19.4.12@tcp\n",
        )
        .unwrap();
        assert_eq!(lnetctl_shape(library), lnetctl);
        let mr: Value = serde_yaml::from_str("discover:\n- Multi-Rail: 'True'\n").unwrap();
        assert_eq!(
            mr["discover"][0]["Multi-Rail"],
            Value::String("True".into())
        );
        assert_eq!(
            lnetctl_shape(mr)["discover"][0]["Multi-Rail"],
            Value::Bool(true)
        );
    }
}
