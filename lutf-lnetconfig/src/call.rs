//! One `lnet` call: open liblnetconfig for the node, make the call, and turn the answer or
//! the failure into the protocol's terms.

use std::path::PathBuf;
use std::time::Duration;

use lutf_lnet::{Abi, Error, Lnetconfig, NodeProbe, Options, RouteFilter};
use lutf_protocol::lnet::{DEFAULT_PING_TIMEOUT, LIBRARY_VAR};
use lutf_protocol::{ErrorKind, ErrorReply, LnetArgs, LnetCall, LnetFailure, LnetReply};
use serde_yaml::Value;

/// The library a call names, else the one of [`LIBRARY_VAR`] when set and not empty.
fn library(args: &LnetArgs) -> Option<PathBuf> {
    args.library.as_ref().map(PathBuf::from).or_else(|| {
        std::env::var_os(LIBRARY_VAR)
            .filter(|v| !v.is_empty())
            .map(PathBuf::from)
    })
}

/// Opens the library as `args` say and makes the call. `node` names this node in messages;
/// `root` replaces `/` for the module and device checks (tests only).
pub fn run(args: &LnetArgs, node: &str, root: Option<PathBuf>) -> Result<LnetReply, ErrorReply> {
    let abi = match &args.abi {
        Some(a) => Some(a.parse::<Abi>().map_err(|e| {
            ErrorReply::new(ErrorKind::BadArgs, format!("bad arguments for `lnet`: {e}"))
        })?),
        None => None,
    };
    let mut probe = NodeProbe::local(node);
    if let Some(root) = root {
        probe.root = root;
    }
    let lib = Lnetconfig::open(Options {
        probe,
        library: library(args),
        abi,
    })
    .map_err(|e| error(&e))?;
    let result = call(&lib, &args.call).map_err(|e| error(&e))?;
    Ok(LnetReply {
        abi: lib.abi().to_string(),
        lustre_version: lib
            .detected()
            .map(|d| format!("{} (from {})", d.version.raw, d.source)),
        result,
    })
}

/// Makes one call; the calls that only act answer `null`.
fn call(lib: &Lnetconfig, call: &LnetCall) -> Result<Value, Error> {
    let done = |r: Result<(), Error>| r.map(|()| Value::Null);
    match call {
        LnetCall::Configure { all } => done(lib.configure(*all)),
        LnetCall::Unconfigure {} => done(lib.unconfigure()),
        LnetCall::AddNi(ni) => done(lib.add_ni(ni)),
        LnetCall::DelNi { net, interfaces } => done(lib.del_ni(*net, interfaces)),
        LnetCall::ShowNet { net, detail } => lib.show_net(*net, *detail),
        LnetCall::AddRoute(route) => done(lib.add_route(route)),
        LnetCall::DelRoute { net, gateway } => done(lib.del_route(*net, gateway)),
        LnetCall::ShowRoute {
            net,
            gateway,
            hops,
            priority,
            detail,
        } => {
            let filter = RouteFilter {
                net: *net,
                gateway: gateway.clone(),
                hops: *hops,
                priority: *priority,
            };
            lib.show_route(&filter, *detail)
        }
        LnetCall::SetRouting { enable } => done(lib.set_routing(*enable)),
        LnetCall::SetBuffers { tiny, small, large } => done(lib.set_buffers(*tiny, *small, *large)),
        LnetCall::ShowRouting {} => lib.show_routing(),
        LnetCall::AddPeer(peer) => done(lib.add_peer(peer)),
        LnetCall::DelPeer {
            primary,
            nids,
            force,
        } => done(lib.del_peer(primary, nids, *force)),
        LnetCall::ShowPeer { nid, detail } => lib.show_peer(nid.as_ref(), *detail),
        LnetCall::ListPeers {} => lib.list_peers(),
        LnetCall::Ping {
            nid,
            source,
            timeout,
        } => {
            let timeout = Duration::from_secs_f64(timeout.unwrap_or(DEFAULT_PING_TIMEOUT));
            lib.ping(nid, source.as_ref(), timeout)
        }
        LnetCall::Discover { nid, force } => lib.discover(nid, *force),
        LnetCall::SetGlobal { setting, value } => done(lib.set_global(*setting, *value)),
        LnetCall::ShowGlobal { setting: Some(s) } => lib.show_global(*s),
        LnetCall::ShowGlobal { setting: None } => lib.show_globals(),
        LnetCall::ShowStats {} => lib.show_stats(),
        LnetCall::ResetStats {} => done(lib.reset_stats()),
        LnetCall::AddUdsp(rule) => done(lib.add_udsp(rule)),
        LnetCall::DelUdsp { idx } => done(lib.del_udsp(*idx)),
        LnetCall::ShowUdsp { idx } => lib.show_udsp(*idx),
        LnetCall::YamlConfig { yaml } => done(lib.yaml_config(yaml)),
        LnetCall::YamlDel { yaml } => done(lib.yaml_del(yaml)),
        LnetCall::YamlShow { yaml } => lib.yaml_show(yaml),
        LnetCall::YamlExec { yaml } => lib.yaml_exec(yaml),
    }
}

/// The protocol's error for a failure of the safe layer: a kind a program can match on,
/// the layer's sentence (which names the node and says what to do), and for failures
/// liblnetconfig reported, its errno and description.
pub fn error(e: &Error) -> ErrorReply {
    let kind = match e {
        Error::LibraryMissing { .. } => ErrorKind::NoLustre,
        Error::LibraryUnloadable { .. } | Error::MissingSymbol { .. } => ErrorKind::Unavailable,
        Error::Unsupported { .. } => ErrorKind::Unavailable,
        Error::NotLoaded { .. } => ErrorKind::LnetNotLoaded,
        Error::UnknownVersion { .. } | Error::NoVersion { .. } | Error::AbiMismatch { .. } => {
            ErrorKind::UnknownVersion
        }
        Error::InvalidArgument { .. } => ErrorKind::BadArgs,
        Error::Io { .. } => ErrorKind::Io,
        Error::BadTree { .. } => ErrorKind::Internal,
        Error::Lnet(l) => {
            return ErrorReply::lnet(
                e.to_string(),
                LnetFailure {
                    errno: Some(l.errno),
                    description: l.description.clone(),
                    op: l.op.clone(),
                    command: l.command.clone(),
                    entity: l.entity.clone(),
                    rc: Some(i64::from(l.rc)),
                    tree: l.tree.clone(),
                },
            )
        }
    };
    ErrorReply::new(kind, e.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_failure_gets_the_kind_a_caller_can_match() {
        let node = || "n1".to_owned();
        let cases = [
            (
                Error::LibraryMissing {
                    node: node(),
                    library: "liblnetconfig.so.4".into(),
                    detail: "not found".into(),
                },
                ErrorKind::NoLustre,
            ),
            (
                Error::NotLoaded {
                    node: node(),
                    missing: "/sys/module/lnet".into(),
                },
                ErrorKind::LnetNotLoaded,
            ),
            (
                Error::UnknownVersion {
                    node: node(),
                    found: "\"2.12.9\"".into(),
                },
                ErrorKind::UnknownVersion,
            ),
            (
                Error::NoVersion {
                    node: node(),
                    tried: "everything".into(),
                },
                ErrorKind::UnknownVersion,
            ),
            (
                Error::InvalidArgument {
                    node: node(),
                    op: "add_ni".into(),
                    reason: "bad".into(),
                },
                ErrorKind::BadArgs,
            ),
        ];
        for (e, kind) in cases {
            let reply = error(&e);
            assert_eq!(reply.kind, kind, "{e}");
            assert_eq!(reply.message, e.to_string());
            assert!(reply.message.contains("n1"), "names the node: {e}");
            assert!(reply.lnet.is_none());
        }
    }

    #[test]
    fn a_library_that_is_not_liblnetconfig_is_unavailable() {
        let root = tempfile::tempdir().unwrap();
        let args = LnetArgs {
            call: LnetCall::ShowStats {},
            abi: Some("2.17".into()),
            // A library that loads but is not liblnetconfig.
            library: Some("libc.so.6".into()),
        };
        let e = run(&args, "n1", Some(root.path().to_path_buf())).unwrap_err();
        assert_eq!(e.kind, ErrorKind::Unavailable, "{e}");
        // libc has no lustre_lnet_config_lib_init: the library is not liblnetconfig.
        assert!(e.message.contains("lustre_lnet_config_lib_init"), "{e}");
    }
}
