//! The safe layer against `liblnetconfig-abi-double` (a stand-in built from C, one per
//! ABI, see lnetconfig-sys/tests/liblnetconfig-abi-double.c), for 2.15, 2.16 and 2.17+:
//! arguments reach the library intact, result and error trees come back intact, the
//! version picks the ABI, calls are serialised, trees are freed.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, MutexGuard, OnceLock};
use std::time::Duration;

use lnetconfig_sys::libloading;
use lutf_lnet::{
    Abi, Error, Global, LndTunables, Lnetconfig, NiConfig, Nid, NodeProbe, Options, PeerConfig,
    RouteConfig, RouteFilter, Tunables, UdspRule,
};
use serde_yaml::Value;

/// The doubles are one library instance per ABI in this process, with one record file:
/// the tests take turns.
static TURN: Mutex<()> = Mutex::new(());

fn turn() -> MutexGuard<'static, ()> {
    TURN.lock().unwrap_or_else(|p| p.into_inner())
}

fn double(abi: Abi) -> PathBuf {
    static BUILT: OnceLock<Mutex<BTreeMap<&'static str, PathBuf>>> = OnceLock::new();
    let mut built = BUILT.get_or_init(Default::default).lock().unwrap();
    built
        .entry(abi.header_name())
        .or_insert_with(|| {
            let dir = PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join("abi-double");
            lnetconfig_sys::abi_double::build(abi.header_name(), &dir).expect("build the double")
        })
        .clone()
}

/// The double's test controls, through a handle of our own on the same instance.
struct Controls {
    lib: libloading::Library,
}

impl Controls {
    fn new(abi: Abi) -> Controls {
        Controls {
            lib: unsafe { libloading::Library::new(double(abi)) }.unwrap(),
        }
    }
    fn record_to(&self, path: &Path) {
        let c = std::ffi::CString::new(path.to_str().unwrap()).unwrap();
        unsafe {
            let f: libloading::Symbol<unsafe extern "C" fn(*const std::ffi::c_char)> =
                self.lib.get(b"lnetconfig_double_record_to\0").unwrap();
            f(c.as_ptr());
        }
    }
    fn fail_next(&self, rc: i32, descr: &str) {
        let c = std::ffi::CString::new(descr).unwrap();
        unsafe {
            let f: libloading::Symbol<unsafe extern "C" fn(i32, *const std::ffi::c_char)> =
                self.lib.get(b"lnetconfig_double_fail_next\0").unwrap();
            f(rc, c.as_ptr());
        }
    }
    fn counter(&self, name: &[u8]) -> i64 {
        unsafe {
            let f: libloading::Symbol<unsafe extern "C" fn() -> i64> = self.lib.get(name).unwrap();
            f()
        }
    }
    fn live_nodes(&self) -> i64 {
        self.counter(b"lnetconfig_double_live_nodes\0")
    }
    fn freed_intf_descrs(&self) -> i64 {
        self.counter(b"lnetconfig_double_freed_intf_descrs\0")
    }
    fn overlaps(&self) -> i64 {
        self.counter(b"lnetconfig_double_overlaps\0")
    }
}

/// A node: a fake root with the lnet module "loaded", the double of one ABI, a record file.
struct Node {
    dir: tempfile::TempDir,
    abi: Abi,
    controls: Controls,
}

impl Node {
    fn new(abi: Abi) -> Node {
        let dir = tempfile::tempdir().unwrap();
        std::fs::create_dir_all(dir.path().join("root/sys/module/lnet")).unwrap();
        std::fs::create_dir_all(dir.path().join("root/dev")).unwrap();
        std::fs::write(dir.path().join("root/dev/lnet"), "").unwrap();
        let controls = Controls::new(abi);
        controls.record_to(&dir.path().join("record"));
        Node { dir, abi, controls }
    }

    fn probe(&self) -> NodeProbe {
        NodeProbe {
            node: format!("node-{}", self.abi),
            root: self.dir.path().join("root"),
            path: Some("".into()),
        }
    }

    fn open(&self) -> Lnetconfig {
        Lnetconfig::open(Options {
            probe: self.probe(),
            library: Some(double(self.abi)),
            abi: Some(self.abi),
        })
        .unwrap_or_else(|e| panic!("open the {} double: {e}", self.abi))
    }

    /// The calls recorded since the last look, each as its key=value fields.
    fn calls(&self) -> Vec<BTreeMap<String, String>> {
        let path = self.dir.path().join("record");
        let text = std::fs::read_to_string(&path).unwrap_or_default();
        std::fs::write(&path, "").unwrap();
        text.lines()
            .map(|l| {
                l.split('\t')
                    .filter_map(|kv| kv.split_once('='))
                    .map(|(k, v)| (k.to_owned(), v.to_owned()))
                    .collect()
            })
            .collect()
    }

    /// The one call recorded since the last look.
    fn call(&self) -> BTreeMap<String, String> {
        let mut calls = self.calls();
        assert_eq!(calls.len(), 1, "expected one call, got {calls:?}");
        calls.remove(0)
    }
}

impl Drop for Node {
    fn drop(&mut self) {
        self.controls.record_to(Path::new(""));
    }
}

fn yaml(text: &str) -> Value {
    serde_yaml::from_str(text).unwrap()
}

fn assert_fields(call: &BTreeMap<String, String>, want: &[(&str, &str)]) {
    for (k, v) in want {
        assert_eq!(
            call.get(*k).map(String::as_str),
            Some(*v),
            "field {k} of {call:?}"
        );
    }
}

#[test]
fn opening_initialises_the_library_before_any_call() {
    let _t = turn();
    for abi in Abi::ALL {
        let node = Node::new(abi);
        let lnet = node.open();
        assert_eq!(lnet.abi(), abi);
        lnet.show_stats().unwrap();
        let calls = node.calls();
        assert_eq!(calls[0]["call"], "lustre_lnet_config_lib_init", "{abi}");
        assert_eq!(calls[1]["call"], "lustre_lnet_show_stats");
        assert_eq!(
            calls[1]["lib_init"], "1",
            "{abi}: initialised before the call"
        );
    }
}

#[test]
fn strings_and_integers_reach_the_library() {
    let _t = turn();
    for abi in Abi::ALL {
        let node = Node::new(abi);
        let lnet = node.open();
        node.calls();
        let gw: Nid = "10.0.0.254@tcp".parse().unwrap();

        lnet.add_route(&RouteConfig {
            net: "tcp2".parse().unwrap(),
            gateway: gw.clone(),
            hops: Some(3),
            priority: Some(7),
            health_sensitivity: None,
        })
        .unwrap();
        let c = node.call();
        assert_fields(
            &c,
            &[
                ("call", "lustre_lnet_config_route"),
                ("nw", "tcp2"),
                ("gw", "10.0.0.254@tcp"),
                ("hops", "3"),
                ("prio", "7"),
                ("seq_no", "-1"),
            ],
        );
        assert_eq!(
            c.get("sen").map(String::as_str),
            (abi != Abi::V2_17Plus).then_some("-1"),
            "{abi}"
        );

        lnet.del_route("tcp2".parse().unwrap(), &gw).unwrap();
        assert_fields(
            &node.call(),
            &[
                ("call", "lustre_lnet_del_route"),
                ("nw", "tcp2"),
                ("gw", "10.0.0.254@tcp"),
            ],
        );

        lnet.show_route(
            &RouteFilter {
                net: Some("tcp2".parse().unwrap()),
                gateway: None,
                hops: None,
                priority: Some(1),
            },
            true,
        )
        .unwrap();
        assert_fields(
            &node.call(),
            &[
                ("nw", "tcp2"),
                ("gw", "(null)"),
                ("hops", "-1"),
                ("prio", "1"),
                ("detail", "1"),
                ("backup", "0"),
            ],
        );

        lnet.show_net(Some("o2ib3".parse().unwrap()), 2).unwrap();
        assert_fields(
            &node.call(),
            &[
                ("call", "lustre_lnet_show_net"),
                ("nw", "o2ib3"),
                ("detail", "2"),
            ],
        );
        lnet.show_net(None, 0).unwrap();
        assert_fields(&node.call(), &[("nw", "(null)"), ("detail", "0")]);

        let peer = PeerConfig {
            primary: Some("10.0.0.2@tcp".parse().unwrap()),
            nids: vec![
                "10.0.0.3@tcp".parse().unwrap(),
                "10.1.0.3@tcp1".parse().unwrap(),
            ],
            multi_rail: false,
            lock_primary: true,
        };
        lnet.add_peer(&peer).unwrap();
        assert_fields(
            &node.call(),
            &[
                ("call", "lustre_lnet_modify_peer"),
                ("prim_nid", "10.0.0.2@tcp"),
                ("nids", "10.0.0.3@tcp,10.1.0.3@tcp1"),
                ("is_mr", "0"),
                ("cmd", "3"),
                ("force_lock", "1"),
            ],
        );
        lnet.del_peer(&"10.0.0.2@tcp".parse().unwrap(), &[], true)
            .unwrap();
        assert_fields(
            &node.call(),
            &[
                ("prim_nid", "10.0.0.2@tcp"),
                ("nids", "(null)"),
                ("cmd", "4"),
                ("force_lock", "1"),
            ],
        );

        lnet.ping(
            &gw,
            Some(&"10.0.0.1@tcp".parse().unwrap()),
            Duration::from_secs(3),
        )
        .unwrap();
        assert_fields(
            &node.call(),
            &[
                ("call", "lustre_lnet_ping_nid"),
                ("pnid", "10.0.0.254@tcp"),
                ("src_nidstr", "10.0.0.1@tcp"),
                ("timeout", "3000"),
            ],
        );
        lnet.discover(&gw, true).unwrap();
        assert_fields(
            &node.call(),
            &[
                ("call", "lustre_lnet_discover_nid"),
                ("pnid", "10.0.0.254@tcp"),
                ("force", "1"),
            ],
        );

        lnet.set_buffers(Some(1024), None, Some(0)).unwrap();
        assert_fields(
            &node.call(),
            &[("tiny", "1024"), ("small", "-1"), ("large", "0")],
        );

        for (g, symbol) in [
            (Global::NumaRange, "lustre_lnet_config_numa_range"),
            (Global::RetryCount, "lustre_lnet_config_retry_count"),
            (
                Global::MaxRecoveryPingInterval,
                "lustre_lnet_config_max_recovery_ping_interval",
            ),
        ] {
            lnet.set_global(g, 42).unwrap();
            assert_fields(&node.call(), &[("call", symbol), ("value", "42")]);
        }
        assert!(matches!(
            lnet.set_global(Global::LndTimeout, 1),
            Err(Error::InvalidArgument { .. })
        ));

        lnet.add_udsp(&UdspRule {
            src: Some("tcp".into()),
            dst: None,
            rte: Some("o2ib".into()),
            priority: Some(2),
            idx: Some(5),
        })
        .unwrap();
        assert_fields(
            &node.call(),
            &[
                ("src", "tcp"),
                ("dst", "(null)"),
                ("rte", "o2ib"),
                ("type", "priority"),
                ("priority", "2"),
                ("idx", "5"),
            ],
        );
        // No priority: a "pref" rule, as lnetctl passes it (a NID pair rule here).
        lnet.add_udsp(&UdspRule {
            src: Some("10.0.0.1@tcp".into()),
            dst: Some("10.0.0.2@tcp".into()),
            ..UdspRule::default()
        })
        .unwrap();
        assert_fields(
            &node.call(),
            &[
                ("src", "10.0.0.1@tcp"),
                ("dst", "10.0.0.2@tcp"),
                ("rte", "(null)"),
                ("type", "pref"),
                ("idx", "-1"),
            ],
        );
        lnet.del_udsp(None).unwrap();
        assert_fields(
            &node.call(),
            &[("call", "lustre_lnet_del_udsp"), ("idx", "4294967295")],
        );
        lnet.configure(true).unwrap();
        assert_fields(
            &node.call(),
            &[
                ("call", "lustre_lnet_config_ni_system"),
                ("up", "1"),
                ("load_ni_from_mod", "1"),
            ],
        );
        lnet.unconfigure().unwrap();
        assert_fields(&node.call(), &[("up", "0"), ("load_ni_from_mod", "0")]);
        lnet.reset_stats().unwrap();
        assert_fields(&node.call(), &[("call", "lustre_lnet_reset_stats")]);
        assert_eq!(node.controls.live_nodes(), 0, "{abi}: every tree was freed");
    }
}

#[test]
fn the_interface_list_cpts_and_tunables_reach_the_library_intact() {
    let _t = turn();
    for abi in Abi::ALL {
        let node = Node::new(abi);
        let lnet = node.open();
        node.calls();
        let freed_before = node.controls.freed_intf_descrs();
        let mut ni = NiConfig::new("tcp1".parse().unwrap(), &["eth0", &"e".repeat(15)]);
        ni.cpts = Some("[0,2-3,4-8/2]".parse().unwrap());
        ni.tunables = Tunables {
            peer_timeout: Some(180),
            peer_credits: Some(8),
            peer_buffer_credits: Some(0),
            credits: Some(256),
        };
        ni.lnd_tunables.conns_per_peer = Some(4);
        if abi != Abi::V2_15 {
            ni.lnd_tunables.tos = Some(104);
        }
        lnet.add_ni(&ni).unwrap();
        let c = node.call();
        let sizeof_tunables = match abi {
            Abi::V2_15 => {
                std::mem::size_of::<lnetconfig_sys::abi_2_15::lnet_ioctl_config_lnd_tunables>()
            }
            Abi::V2_16 => {
                std::mem::size_of::<lnetconfig_sys::abi_2_16::lnet_ioctl_config_lnd_tunables>()
            }
            Abi::V2_17Plus => {
                std::mem::size_of::<lnetconfig_sys::abi_2_17::lnet_ioctl_config_lnd_tunables>()
            }
        };
        assert_fields(
            &c,
            &[
                ("call", "lustre_lnet_config_ni"),
                ("nw_id", "0x20001"),
                ("intfs", &format!("eth0,{}", "e".repeat(15))),
                ("global_cpts", "0-0/1,2-3/1,4-8/2"),
                ("ip2net", "(null)"),
                ("peer_timeout", "180"),
                ("peer_credits", "8"),
                ("peer_buffer_credits", "0"),
                ("credits", "256"),
                ("sizeof_tunables", &sizeof_tunables.to_string()),
                ("seq_no", "-1"),
            ],
        );
        if abi == Abi::V2_15 {
            // conns_per_peer is an argument of its own in 2.15.
            assert_fields(&c, &[("cpp", "4"), ("sock_conns_per_peer", "0")]);
            assert!(!c.contains_key("sock_tos"));
        } else {
            assert_fields(&c, &[("sock_conns_per_peer", "4"), ("sock_tos", "104")]);
            assert!(!c.contains_key("cpp"));
        }
        assert_eq!(
            node.controls.freed_intf_descrs() - freed_before,
            2,
            "{abi}: the library freed what it was given"
        );

        // o2ib: map_on_demand is passed as "not set", as lnetctl does.
        let mut ib = NiConfig::new("o2ib".parse().unwrap(), &["ib0"]);
        ib.tunables.credits = Some(512);
        lnet.add_ni(&ib).unwrap();
        assert_fields(
            &node.call(),
            &[
                ("nw_id", "0x50000"),
                ("intfs", "ib0"),
                ("credits", "512"),
                ("peer_timeout", "-1"),
                ("o2ib_map_on_demand", "4294967295"),
                ("global_cpts", "(null)"),
            ],
        );

        // kfi: the authorization key, and the traffic class from 2.16.
        let mut kfi = NiConfig::new("kfi".parse().unwrap(), &["cxi0"]);
        kfi.lnd_tunables = LndTunables {
            auth_key: Some(255),
            ..Default::default()
        };
        if abi != Abi::V2_15 {
            kfi.lnd_tunables.traffic_class = Some("low_latency".into());
        }
        lnet.add_ni(&kfi).unwrap();
        let c = node.call();
        assert_fields(&c, &[("nw_id", "0x100000"), ("kfi_auth_key", "255")]);
        if abi != Abi::V2_15 {
            assert_fields(&c, &[("kfi_traffic_class", "low_latency")]);
        }

        // Without tunables, none are passed.
        lnet.add_ni(&NiConfig::new("tcp".parse().unwrap(), &["eth1"]))
            .unwrap();
        assert_fields(
            &node.call(),
            &[("tunables", "(null)"), ("nw_id", "0x20000")],
        );

        // Deleting: the interfaces reach the library, which frees them.
        let before = node.controls.freed_intf_descrs();
        lnet.del_ni("tcp1".parse().unwrap(), &["eth0".into(), "eth2".into()])
            .unwrap();
        assert_fields(
            &node.call(),
            &[
                ("call", "lustre_lnet_del_ni"),
                ("nw_id", "0x20001"),
                ("intfs", "eth0,eth2"),
            ],
        );
        assert_eq!(node.controls.freed_intf_descrs() - before, 2);
        lnet.del_ni("tcp1".parse().unwrap(), &[]).unwrap();
        assert_fields(&node.call(), &[("intfs", "")]);

        // Names are checked against the ABI's field: IFNAMSIZ (16) in 2.15, 128 after.
        let long = NiConfig::new("tcp".parse().unwrap(), &["eth0", &"x".repeat(16)]);
        match (abi, lnet.add_ni(&long)) {
            (Abi::V2_15, Err(Error::InvalidArgument { reason, .. })) => {
                assert!(reason.contains("interface name"), "{reason}")
            }
            (Abi::V2_15, other) => panic!("2.15 must refuse a 16-byte name: {other:?}"),
            (_, r) => r.unwrap(),
        }
        node.calls();
        assert_eq!(node.controls.live_nodes(), 0);
    }
}

#[test]
fn result_trees_come_back_as_yaml_values() {
    let _t = turn();
    for abi in Abi::ALL {
        let node = Node::new(abi);
        let lnet = node.open();
        let v = lnet.show_net(Some("tcp".parse().unwrap()), 1).unwrap();
        let want = yaml(
            r#"
received: {nw: tcp, detail: 1, seq_no: -1, backup: false}
net:
  - net type: lo
    local NI(s):
      - {nid: 0@lo, status: up}
  - net type: tcp
    local NI(s):
      - nid: 10.0.0.1@tcp
        status: up
        interfaces: {"0": eth0}
        CPT: "[0,1]"
types:
  "true": true
  "false": false
  "null": null
  negative: -17
  half: 0.5
  big: 4294967296
  quoted: with quotes
  plain: "no quotes: here"
  empty seq: []
  empty map: {}
"#,
        );
        assert_eq!(v, want, "{abi}");
        // The typed view of lnetctl's output reads the library's tree as well.
        let out = lutf_lnet::lnetctl::LnetctlOutput {
            entries: vec![("net".into(), v["net"].clone())],
            diagnostics: vec![],
        };
        let nets = out.net_show().unwrap().nets;
        assert_eq!(nets[1].local_nis[0].interfaces, ["eth0"]);
        assert_eq!(nets[1].local_nis[0].cpts.as_deref(), Some(&[0, 1][..]));

        let peers = lnet
            .show_peer(Some(&"10.0.0.9@tcp".parse().unwrap()), 1)
            .unwrap();
        assert_eq!(
            peers["peer"][0]["primary nid"].as_str(),
            Some("10.0.0.9@tcp")
        );
        assert_eq!(peers["received"]["detail"].as_i64(), Some(1));
        let list = lnet.list_peers().unwrap();
        assert_eq!(list["peer list"].as_sequence().map(Vec::len), Some(2));
        let stats = lnet.show_stats().unwrap();
        assert_eq!(
            stats["statistics"]["send_length"].as_i64(),
            Some(148_353_000)
        );
        let routing = lnet.show_routing().unwrap();
        assert_eq!(routing["buffers"]["small"].as_i64(), Some(4096));
        let ping = lnet
            .ping(
                &"10.0.0.2@tcp".parse().unwrap(),
                None,
                Duration::from_secs(1),
            )
            .unwrap();
        // In lnetctl's shape (`peer_ni`), whichever path answered.
        assert_eq!(
            ping["ping"][0]["peer_ni"][0]["nid"].as_str(),
            Some("10.0.0.2@tcp")
        );
        assert_eq!(ping["ping"][0].get("peer ni"), None);
        assert_eq!(ping["received"]["src"], Value::Null);
        let udsp = lnet.show_udsp(Some(3)).unwrap();
        assert_eq!(udsp["udsp"][0]["idx"].as_i64(), Some(3));

        // Every global setting, merged as `lnetctl global show` prints them.
        lnet.set_global(Global::TransactionTimeout, 77).unwrap();
        let globals = lnet.show_globals().unwrap();
        let g = globals["global"].as_mapping().unwrap();
        assert_eq!(g.len(), 13, "{g:?}");
        assert_eq!(globals["global"]["transaction_timeout"].as_i64(), Some(77));
        assert_eq!(globals["global"]["lnd_timeout"].as_i64(), Some(49));
        assert_eq!(node.controls.live_nodes(), 0, "{abi}: every tree was freed");
    }
}

#[test]
fn error_trees_come_back_as_typed_errors_with_errno_and_description() {
    let _t = turn();
    for abi in Abi::ALL {
        let node = Node::new(abi);
        let lnet = node.open();
        node.controls.fail_next(-17, "cannot add LNet NI");
        let err = lnet
            .add_ni(&NiConfig::new("tcp".parse().unwrap(), &["eth0"]))
            .unwrap_err();
        let Error::Lnet(e) = &err else {
            panic!("{abi}: {err}")
        };
        assert_eq!((e.rc, e.errno), (-17, -17));
        assert_eq!(e.description, "cannot add LNet NI");
        assert_eq!(
            (e.command.as_deref(), e.entity.as_deref()),
            (Some("add"), Some("net"))
        );
        assert_eq!(e.node, format!("node-{abi}"));
        assert_eq!(e.abi, abi);
        let text = err.to_string();
        assert!(
            text.contains("cannot add LNet NI")
                && text.contains("File exists")
                && text.contains(&e.node),
            "{text}"
        );
        assert_eq!(e.tree["add"][0]["net"]["errno"].as_i64(), Some(-17));

        // A failing show: the error, not an empty result.
        node.controls
            .fail_next(-2, "cannot get lnet statistics: No such file or directory");
        let Err(Error::Lnet(e)) = lnet.show_stats() else {
            panic!("{abi}: show_stats must fail")
        };
        assert_eq!((e.errno, e.entity.as_deref()), (-2, Some("statistics")));

        // 2.15's own codes are named.
        node.controls.fail_next(-1, "bad parameter");
        let Err(Error::Lnet(e)) = lnet.set_routing(true) else {
            panic!("{abi}: must fail")
        };
        if abi == Abi::V2_15 {
            assert_eq!(e.cfg_code(), Some("LUSTRE_CFG_RC_BAD_PARAM"));
        } else {
            assert_eq!(e.cfg_code(), None);
        }
        // The next call succeeds again.
        lnet.set_routing(false).unwrap();
        assert_eq!(
            node.controls.live_nodes(),
            0,
            "{abi}: error trees are freed too"
        );
    }
}

#[test]
fn each_abi_calls_its_own_functions() {
    let _t = turn();
    for abi in Abi::ALL {
        let node = Node::new(abi);
        let lnet = node.open();
        node.calls();
        lnet.set_routing(true).unwrap();
        let routing = if abi == Abi::V2_17Plus {
            "lustre_lnet_config_routing"
        } else {
            "lustre_lnet_enable_routing"
        };
        assert_fields(&node.call(), &[("call", routing), ("enable", "1")]);

        let route = RouteConfig {
            net: "tcp2".parse().unwrap(),
            gateway: "10.0.0.254@tcp".parse().unwrap(),
            hops: None,
            priority: None,
            health_sensitivity: Some(2),
        };
        match (abi, lnet.add_route(&route)) {
            (Abi::V2_17Plus, Err(Error::Unsupported { abi: a, .. })) => assert_eq!(a, abi),
            (Abi::V2_17Plus, other) => panic!("2.17 has no sen: {other:?}"),
            (_, r) => {
                r.unwrap();
                assert_fields(&node.call(), &[("sen", "2"), ("hops", "-1")]);
            }
        }
        node.calls();
        let mut ni = NiConfig::new("tcp".parse().unwrap(), &["eth0"]);
        ni.lnd_tunables.tos = Some(1);
        match (abi, lnet.add_ni(&ni)) {
            (Abi::V2_15, Err(Error::Unsupported { .. })) => {}
            (Abi::V2_15, other) => panic!("2.15 has no tos: {other:?}"),
            (_, r) => r.unwrap(),
        }
        node.calls();

        let doc = "net:\n    - net type: tcp\n      local NI(s):\n        - interfaces:\n              0: eth0\n";
        lnet.yaml_config(doc).unwrap();
        let c = node.call();
        assert_eq!(c["call"], "lustre_yaml_config");
        assert_eq!(
            c["yaml"],
            doc.replace('\n', "|"),
            "{abi}: the YAML reached the library"
        );
        if abi == Abi::V2_15 {
            assert!(c["path"].ends_with(".yaml"), "2.15 reads a file: {c:?}");
            assert!(
                !Path::new(&c["path"]).exists(),
                "the file is removed afterwards"
            );
        } else {
            assert_eq!(c["len"], doc.len().to_string());
        }
        lnet.yaml_del(doc).unwrap();
        assert_eq!(node.call()["call"], "lustre_yaml_del");
        let shown = lnet.yaml_show(doc).unwrap();
        assert_eq!(shown["received"]["call"].as_str(), Some("lustre_yaml_show"));
        assert_eq!(node.call()["call"], "lustre_yaml_show");
        let ran = lnet
            .yaml_exec("ping:\n  - primary nid: 10.0.0.1@tcp\n")
            .unwrap();
        assert_eq!(ran["received"]["call"].as_str(), Some("lustre_yaml_exec"));
        node.calls();
    }
}

#[test]
fn the_lustre_version_picks_the_abi_and_a_mismatch_is_refused() {
    let _t = turn();
    for (version, abi) in [
        ("2.15.4", Abi::V2_15),
        ("2.16.1", Abi::V2_16),
        ("2.17.57", Abi::V2_17Plus),
        ("2.16.55", Abi::V2_17Plus),
    ] {
        let node = Node::new(abi);
        std::fs::write(
            node.probe().lnet_module_dir().join("version"),
            format!("{version}\n"),
        )
        .unwrap();
        let lnet = Lnetconfig::open(Options {
            probe: node.probe(),
            library: Some(double(abi)),
            abi: None,
        })
        .unwrap();
        assert_eq!(lnet.abi(), abi, "{version}");
        let d = lnet.detected().unwrap();
        assert_eq!(d.version.raw, version);
        assert!(matches!(d.source, lutf_lnet::VersionSource::Sysfs(_)));
        lnet.set_routing(true).unwrap();
        let routing = if abi == Abi::V2_17Plus {
            "lustre_lnet_config_routing"
        } else {
            "lustre_lnet_enable_routing"
        };
        assert_eq!(node.calls().last().unwrap()["call"], routing, "{version}");
    }
    // A library of the other family than the version says is refused, not called.
    for (version, lib_abi) in [("2.17.0", Abi::V2_15), ("2.16.1", Abi::V2_17Plus)] {
        let node = Node::new(lib_abi);
        std::fs::write(node.probe().lnet_module_dir().join("version"), version).unwrap();
        let err = Lnetconfig::open(Options {
            probe: node.probe(),
            library: Some(double(lib_abi)),
            abi: None,
        })
        .unwrap_err();
        let Error::AbiMismatch { detail, .. } = &err else {
            panic!("{version}: {err}")
        };
        assert!(detail.contains("routing"), "{err}");
        assert!(err.to_string().contains("ABI override"), "{err}");
        assert!(node.calls().is_empty(), "nothing was called: {version}");
    }
    // The override wins over the version.
    let node = Node::new(Abi::V2_16);
    std::fs::write(node.probe().lnet_module_dir().join("version"), "2.15.0").unwrap();
    let lnet = Lnetconfig::open(Options {
        probe: node.probe(),
        library: Some(double(Abi::V2_16)),
        abi: Some("2.16".parse().unwrap()),
    })
    .unwrap();
    assert_eq!((lnet.abi(), lnet.detected()), (Abi::V2_16, None));
}

#[test]
fn lnet_not_loaded_is_reported_before_any_call() {
    let _t = turn();
    for abi in Abi::ALL {
        let node = Node::new(abi);
        let lnet = node.open();
        node.calls();
        std::fs::remove_file(node.probe().lnet_device()).unwrap();
        let err = lnet.show_net(None, 0).unwrap_err();
        assert!(matches!(err, Error::NotLoaded { .. }), "{err}");
        let text = err.to_string();
        assert!(
            text.starts_with(&format!("LNet is not loaded on node-{abi}")),
            "{text}"
        );
        assert!(text.contains("dev/lnet"), "{text}");
        std::fs::remove_dir_all(node.probe().lnet_module_dir()).unwrap();
        for err in [
            lnet.show_route(&RouteFilter::default(), false).unwrap_err(),
            lnet.show_routing().unwrap_err(),
            lnet.configure(false).unwrap_err(),
        ] {
            assert!(
                err.to_string().contains("sys/module/lnet does not exist"),
                "{err}"
            );
        }
        assert!(node.calls().is_empty(), "{abi}: the library was not called");
    }
}

#[test]
fn calls_are_serialised_across_threads() {
    let _t = turn();
    let node = Node::new(Abi::V2_17Plus);
    let lnet = Arc::new(node.open());
    node.calls();
    let before = node.controls.overlaps();
    let threads: Vec<_> = (0..4)
        .map(|_| {
            let lnet = Arc::clone(&lnet);
            std::thread::spawn(move || {
                for _ in 0..25 {
                    lnet.show_stats().unwrap();
                }
            })
        })
        .collect();
    for t in threads {
        t.join().unwrap();
    }
    assert_eq!(node.calls().len(), 100);
    assert_eq!(
        node.controls.overlaps() - before,
        0,
        "calls overlapped in the library"
    );

    // The detector works: the same calls straight into the library, unserialised, overlap.
    let raw =
        unsafe { lnetconfig_sys::abi_2_17::LnetconfigAbi217::new(double(Abi::V2_17Plus)) }.unwrap();
    let raw = Arc::new(raw);
    let threads: Vec<_> = (0..4)
        .map(|_| {
            let raw = Arc::clone(&raw);
            std::thread::spawn(move || {
                for _ in 0..25 {
                    unsafe { raw.lustre_lnet_reset_stats(-1, std::ptr::null_mut()) };
                }
            })
        })
        .collect();
    for t in threads {
        t.join().unwrap();
    }
    node.calls();
    assert!(
        node.controls.overlaps() - before > 0,
        "the overlap detector saw nothing"
    );
}

/// Turns every mapping key into its text, as the tree walk gives them (`0` -> `"0"`).
fn string_keys(v: Value) -> Value {
    match v {
        Value::Mapping(m) => Value::Mapping(
            m.into_iter()
                .map(|(k, v)| {
                    let k = match k {
                        Value::String(s) => s,
                        other => serde_yaml::to_string(&other).unwrap().trim().to_owned(),
                    };
                    (Value::String(k), string_keys(v))
                })
                .collect(),
        ),
        Value::Sequence(s) => Value::Sequence(s.into_iter().map(string_keys).collect()),
        other => other,
    }
}

#[test]
fn the_tree_walk_agrees_with_the_library_s_own_text() {
    let _t = turn();
    let node = Node::new(Abi::V2_16);
    let lib =
        unsafe { lnetconfig_sys::abi_2_16::LnetconfigAbi216::new(double(Abi::V2_16)) }.unwrap();
    let (walked, text) = unsafe {
        let mut show = std::ptr::null_mut();
        let mut err = std::ptr::null_mut();
        let rc = lib.lustre_lnet_show_net(std::ptr::null_mut(), 1, 5, &mut show, &mut err, false);
        assert_eq!(rc, 0);
        let walked = lutf_lnet::cyaml::to_value(show).unwrap().unwrap();
        let mut buf: *mut std::ffi::c_char = std::ptr::null_mut();
        lib.cYAML_dump(show, &mut buf);
        let text = std::ffi::CStr::from_ptr(buf).to_string_lossy().into_owned();
        libc::free(buf.cast());
        lib.cYAML_free_tree(show);
        lib.cYAML_free_tree(err);
        (walked, text)
    };
    let parsed = lutf_lnet::lnetctl::LnetctlOutput::parse(&text).unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(string_keys(parsed.to_value()), walked, "text:\n{text}");
    assert_eq!(node.controls.live_nodes(), 0);
    node.calls();
}
