//! The generated loaders against the stand-in library, for each ABI: every bound symbol
//! resolves, and the structures have the same size on both sides of the call.

use lnetconfig_sys::common::cYAML;
use lnetconfig_sys::{abi_2_15, abi_2_16, abi_2_17, abi_double};
use std::path::PathBuf;
use std::sync::Mutex;

/// The double for `abi`, built once per test run.
fn double(abi: &str) -> PathBuf {
    static BUILT: Mutex<Vec<(String, PathBuf)>> = Mutex::new(Vec::new());
    let mut built = BUILT.lock().unwrap();
    if let Some((_, p)) = built.iter().find(|(a, _)| a == abi) {
        return p.clone();
    }
    let dir = PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join("raw-bindings");
    let p = abi_double::build(abi, &dir).expect("build the ABI double");
    built.push((abi.to_owned(), p.clone()));
    p
}

/// Runs `f` with the record file the double appends to, and returns its lines.
fn recorded(lib: &PathBuf, f: impl FnOnce()) -> Vec<String> {
    let dir = tempfile::tempdir().unwrap();
    let record = dir.path().join("record");
    unsafe {
        let l = libloading::Library::new(lib).unwrap();
        let to: libloading::Symbol<unsafe extern "C" fn(*const std::ffi::c_char)> =
            l.get(b"lnetconfig_double_record_to\0").unwrap();
        let path = std::ffi::CString::new(record.to_str().unwrap()).unwrap();
        to(path.as_ptr());
        f();
        to(c"".as_ptr());
    }
    std::fs::read_to_string(&record)
        .unwrap_or_default()
        .lines()
        .map(str::to_owned)
        .collect()
}

fn field<'a>(line: &'a str, key: &str) -> Option<&'a str> {
    line.split('\t')
        .find_map(|kv| kv.strip_prefix(key)?.strip_prefix('='))
}

macro_rules! every_symbol_resolves {
    ($name:ident, $abi:literal, $module:ident, $loader:ident, $routing:ident) => {
        #[test]
        fn $name() {
            let path = double($abi);
            let lib = unsafe { $module::$loader::new(&path) }.expect("load the double");
            // A few symbols of each kind; a missing one would be an Err here.
            lib.lustre_lnet_config_lib_init.as_ref().expect("lib_init");
            lib.lustre_lnet_config_ni.as_ref().expect("config_ni");
            lib.lustre_lnet_config_route.as_ref().expect("config_route");
            lib.$routing.as_ref().expect("routing");
            lib.lustre_yaml_config.as_ref().expect("yaml_config");
            lib.cYAML_free_tree.as_ref().expect("free_tree");
            let size_tunables = std::mem::size_of::<$module::lnet_ioctl_config_lnd_tunables>();
            let size_intf = std::mem::size_of::<$module::lnet_dlc_intf_descr>();
            let lines = recorded(&path, || unsafe {
                let mut err: *mut cYAML = std::ptr::null_mut();
                let rc = lib.lustre_lnet_del_ni(std::ptr::null_mut(), 7, &mut err);
                assert_eq!(rc, 0);
                assert!(!err.is_null(), "the error tree is filled even on success");
                lib.cYAML_free_tree(err);
                let mut err: *mut cYAML = std::ptr::null_mut();
                let mut tun = $module::lnet_ioctl_config_lnd_tunables::default();
                let mut nw = lnetconfig_sys::common::lnet_dlc_network_descr::default();
                let head = std::ptr::addr_of_mut!(nw.nw_intflist);
                nw.nw_intflist.next = head;
                nw.nw_intflist.prev = head;
                config_ni(&lib, &mut nw, &mut tun, &mut err);
                lib.cYAML_free_tree(err);
            });
            assert_eq!(lines.len(), 2, "{lines:?}");
            assert_eq!(field(&lines[0], "call"), Some("lustre_lnet_del_ni"));
            assert_eq!(field(&lines[0], "seq_no"), Some("7"));
            assert_eq!(
                field(&lines[1], "sizeof_tunables"),
                Some(size_tunables.to_string().as_str()),
                "C and Rust disagree on the tunables' size"
            );
            assert_eq!(
                field(&lines[1], "sizeof_intf_descr"),
                Some(size_intf.to_string().as_str())
            );
        }
    };
}

unsafe fn config_ni_215(
    lib: &abi_2_15::LnetconfigAbi215,
    nw: &mut lnetconfig_sys::common::lnet_dlc_network_descr,
    tun: &mut abi_2_15::lnet_ioctl_config_lnd_tunables,
    err: &mut *mut cYAML,
) {
    lib.lustre_lnet_config_ni(
        nw,
        std::ptr::null_mut(),
        std::ptr::null_mut(),
        tun,
        4,
        -1,
        err,
    );
}

unsafe fn config_ni_216(
    lib: &abi_2_16::LnetconfigAbi216,
    nw: &mut lnetconfig_sys::common::lnet_dlc_network_descr,
    tun: &mut abi_2_16::lnet_ioctl_config_lnd_tunables,
    err: &mut *mut cYAML,
) {
    lib.lustre_lnet_config_ni(nw, std::ptr::null_mut(), std::ptr::null_mut(), tun, -1, err);
}

unsafe fn config_ni_217(
    lib: &abi_2_17::LnetconfigAbi217,
    nw: &mut lnetconfig_sys::common::lnet_dlc_network_descr,
    tun: &mut abi_2_17::lnet_ioctl_config_lnd_tunables,
    err: &mut *mut cYAML,
) {
    lib.lustre_lnet_config_ni(nw, std::ptr::null_mut(), std::ptr::null_mut(), tun, -1, err);
}

mod v215 {
    use super::*;
    use config_ni_215 as config_ni;
    every_symbol_resolves!(
        abi_2_15_symbols_and_sizes,
        "2.15",
        abi_2_15,
        LnetconfigAbi215,
        lustre_lnet_enable_routing
    );
}
mod v216 {
    use super::*;
    use config_ni_216 as config_ni;
    every_symbol_resolves!(
        abi_2_16_symbols_and_sizes,
        "2.16",
        abi_2_16,
        LnetconfigAbi216,
        lustre_lnet_enable_routing
    );
}
mod v217 {
    use super::*;
    use config_ni_217 as config_ni;
    every_symbol_resolves!(
        abi_2_17_symbols_and_sizes,
        "2.17",
        abi_2_17,
        LnetconfigAbi217,
        lustre_lnet_config_routing
    );
}

#[test]
fn the_2_17_double_has_no_enable_routing_and_older_ones_no_config_routing() {
    // The ABI check of the safe layer relies on this difference between the libraries.
    for (abi, has, lacks) in [
        (
            "2.15",
            "lustre_lnet_enable_routing",
            "lustre_lnet_config_routing",
        ),
        (
            "2.16",
            "lustre_lnet_enable_routing",
            "lustre_lnet_config_routing",
        ),
        (
            "2.17",
            "lustre_lnet_config_routing",
            "lustre_lnet_enable_routing",
        ),
    ] {
        let lib = unsafe { libloading::Library::new(double(abi)) }.unwrap();
        unsafe {
            assert!(
                lib.get::<*const ()>(format!("{has}\0").as_bytes()).is_ok(),
                "{abi} {has}"
            );
            assert!(
                lib.get::<*const ()>(format!("{lacks}\0").as_bytes())
                    .is_err(),
                "{abi} {lacks}"
            );
        }
    }
}
