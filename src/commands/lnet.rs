//! `lutf lnet`: one LNet operation on this machine or on nodes, concurrently; each node's
//! answer printed as YAML, JSON or a table; exit 1 when it failed anywhere.

use std::fmt::Write as _;
use std::path::Path;

use anyhow::Context as _;
use serde_yaml::{Mapping, Value};

use crate::cli::{
    AddNiArgs, BrwCheckArg, BrwModeArg, Format, Global, LnetArgs, LnetOp, LstCmd, LstOp,
    LstTestKind, Switch,
};
use crate::node::CallError;
use crate::protocol::lnet::{
    Abi, BrwCheck, BrwMode, Global as Setting, LndTunables, LstTest, NiConfig, Nid, PeerConfig,
    RouteConfig, Tunables, UdspRule,
};
use crate::protocol::{
    LnetArgs as Lnet, LnetCall, LnetReply, LnetctlArgs, LnetctlResult, LstAction, LstArgs,
    LstResult, Op,
};

/// Exit code when the operation failed on at least one node.
pub const EXIT_FAILED: i32 = 1;

/// Runs `lutf lnet`.
pub async fn run(global: &Global, args: &LnetArgs) -> anyhow::Result<i32> {
    let op = request(args, global.verbose)?;
    let cluster = super::only_node(super::cluster(global)?, args.node.as_deref())?;
    // The results are keyed by node whenever nodes were named.
    let keyed = args.node.is_some()
        || global.nodes.is_some()
        || global.cluster.is_some()
        || cluster.nodes.len() > 1;
    let nodes = cluster.nodes();
    let bundle = crate::bundle::Bundle::new(&[])?;
    let tasks: Vec<_> = nodes
        .into_iter()
        .map(|node| {
            let (bundle, op) = (bundle.clone(), op.clone());
            tokio::spawn(async move {
                // The bundle check and the call: one exchange when the node has the bundle.
                let res = node
                    .deploy_and_call::<Value>(&bundle, op)
                    .await
                    .map(|(_, v)| v);
                (node.name, res)
            })
        })
        .collect();
    let mut answers = Vec::new();
    for t in tasks {
        answers.push(t.await.context("an lnet task panicked")?);
    }
    let mut shown = Vec::new();
    let mut failed = false;
    for (name, res) in answers {
        match res {
            Ok(v) => shown.push((name, output(&op, v)?)),
            Err(e) => {
                failed = true;
                crate::reporter::eprintln(&error_text(&e));
            }
        }
    }
    crate::reporter::print(&render(&shown, keyed, args.format)?);
    Ok(if failed { EXIT_FAILED } else { 0 })
}

/// A failure as the operator reads it: the node, the helper's sentence (which says what
/// to do), its kind for scripts, and what the tool printed when there is more to see.
fn error_text(e: &CallError) -> String {
    let mut text = match e {
        CallError::Helper { node, source, .. } => {
            format!("lutf: node {node}: {} [{}]", source.message, source.kind)
        }
        other => format!("lutf: {other}"),
    };
    if let Some(detail) = e.helper_error().and_then(|h| h.detail.as_deref()) {
        for line in detail.trim_end().lines() {
            let _ = write!(text, "\n  | {line}");
        }
    }
    text
}

/// What to print of a node's answer: the tree, without the envelope.
fn output(op: &Op, answer: Value) -> anyhow::Result<Value> {
    Ok(match op {
        Op::Lnet(_) => {
            let r: LnetReply = serde_yaml::from_value(answer).context("unexpected lnet reply")?;
            tracing::info!(abi = %r.abi, version = ?r.lustre_version, "liblnetconfig");
            r.result
        }
        Op::Lnetctl(_) => {
            let r: LnetctlResult =
                serde_yaml::from_value(answer).context("unexpected lnetctl reply")?;
            r.output
        }
        Op::Lst(args) => {
            let r: LstResult = serde_yaml::from_value(answer).context("unexpected lst reply")?;
            // Any lst command (`lutf lnet lst -- ...`) shows what lst printed; the actions lutf
            // reads (`add-test`, `run`, `stop`, ...) checked that text and answer their result.
            if matches!(args.action, LstAction::Command { .. }) && r.result.is_null() {
                Value::String(r.text)
            } else {
                r.result
            }
        }
        _ => answer,
    })
}

/// The answers in `format`; keyed by node name when `keyed`.
fn render(answers: &[(String, Value)], keyed: bool, format: Format) -> anyhow::Result<String> {
    // Operations that only act answer null everywhere: print nothing for them.
    if answers.iter().all(|(_, v)| v.is_null()) {
        return Ok(String::new());
    }
    let value = if keyed {
        Value::Mapping(
            answers
                .iter()
                .map(|(n, v)| (Value::String(n.clone()), v.clone()))
                .collect::<Mapping>(),
        )
    } else {
        match answers.first() {
            Some((_, v)) => v.clone(),
            None => return Ok(String::new()),
        }
    };
    Ok(match format {
        Format::Yaml => serde_yaml::to_string(&value)?,
        Format::Json => serde_json::to_string_pretty(&value)? + "\n",
        Format::Table => table(&value),
    })
}

/// A value as `path  value` rows, one per leaf (`net[1].local NI(s)[0].nid  10.0.0.1@tcp`).
pub fn table(value: &Value) -> String {
    let mut rows = Vec::new();
    leaves(value, String::new(), &mut rows);
    let width = rows
        .iter()
        .map(|(p, _)| p.chars().count())
        .max()
        .unwrap_or(0);
    let mut out = String::new();
    for (path, v) in rows {
        let _ = writeln!(out, "{path:<width$}  {v}");
    }
    out
}

fn leaves(value: &Value, path: String, rows: &mut Vec<(String, String)>) {
    match value {
        Value::Mapping(m) if !m.is_empty() => {
            for (k, v) in m {
                let key = match k {
                    Value::String(s) => s.clone(),
                    other => scalar(other),
                };
                let p = if path.is_empty() {
                    key
                } else {
                    format!("{path}.{key}")
                };
                leaves(v, p, rows);
            }
        }
        Value::Sequence(s) if !s.is_empty() => {
            for (i, v) in s.iter().enumerate() {
                leaves(v, format!("{path}[{i}]"), rows);
            }
        }
        Value::Tagged(t) => leaves(&t.value, path, rows),
        other => rows.push((
            if path.is_empty() { ".".into() } else { path },
            scalar(other),
        )),
    }
}

fn scalar(v: &Value) -> String {
    match v {
        Value::Null => "-".into(),
        Value::String(s) => s.clone(),
        Value::Mapping(_) => "{}".into(),
        Value::Sequence(_) => "[]".into(),
        other => serde_yaml::to_string(other)
            .unwrap_or_default()
            .trim()
            .to_owned(),
    }
}

/// A typed argument from the command line, or a usage error naming the option.
fn parse<T: std::str::FromStr>(what: &str, text: &str) -> anyhow::Result<T>
where
    T::Err: std::fmt::Display,
{
    text.parse()
        .map_err(|e| anyhow::anyhow!("bad {what} {text:?}: {e}"))
}

fn opt<T: std::str::FromStr>(what: &str, text: Option<&str>) -> anyhow::Result<Option<T>>
where
    T::Err: std::fmt::Display,
{
    text.map(|t| parse(what, t)).transpose()
}

fn nids(texts: &[String]) -> anyhow::Result<Vec<Nid>> {
    texts.iter().map(|t| parse("NID", t)).collect()
}

/// The request the command line asks for. `verbose` (the `-v` count) is the detail level
/// of show operations.
pub fn request(args: &LnetArgs, verbose: u8) -> anyhow::Result<Op> {
    let detail = |d: Option<u32>| d.unwrap_or(u32::from(verbose));
    let call = match &args.op {
        LnetOp::Lnetctl {
            no_check,
            timeout,
            args: argv,
        } => {
            return Ok(Op::Lnetctl(LnetctlArgs {
                argv: argv.clone(),
                stdin: None,
                timeout: *timeout,
                check: !no_check,
            }))
        }
        LnetOp::Lst(cmd) => return Ok(Op::Lst(lst_request(cmd)?)),
        LnetOp::Configure { all } => LnetCall::Configure { all: *all },
        LnetOp::Unconfigure => LnetCall::Unconfigure {},
        LnetOp::AddNi(a) => LnetCall::AddNi(ni_config(a)?),
        LnetOp::DelNi { net, interfaces } => LnetCall::DelNi {
            net: parse("network", net)?,
            interfaces: interfaces.clone(),
        },
        LnetOp::ShowNet { net, detail: d } => LnetCall::ShowNet {
            net: opt("network", net.as_deref())?,
            detail: detail(*d),
        },
        LnetOp::AddRoute {
            net,
            gateway,
            hops,
            priority,
            health_sensitivity,
        } => LnetCall::AddRoute(RouteConfig {
            net: parse("network", net)?,
            gateway: parse("gateway NID", gateway)?,
            hops: *hops,
            priority: *priority,
            health_sensitivity: *health_sensitivity,
        }),
        LnetOp::DelRoute { net, gateway } => LnetCall::DelRoute {
            net: parse("network", net)?,
            gateway: parse("gateway NID", gateway)?,
        },
        LnetOp::ShowRoute {
            net,
            gateway,
            hops,
            priority,
        } => LnetCall::ShowRoute {
            net: opt("network", net.as_deref())?,
            gateway: opt("gateway NID", gateway.as_deref())?,
            hops: *hops,
            priority: *priority,
            detail: verbose > 0,
        },
        LnetOp::Routing { state } => LnetCall::SetRouting {
            enable: *state == Switch::On,
        },
        LnetOp::SetBuffers { tiny, small, large } => {
            anyhow::ensure!(
                tiny.is_some() || small.is_some() || large.is_some(),
                "set-buffers needs at least one of --tiny, --small, --large"
            );
            LnetCall::SetBuffers {
                tiny: *tiny,
                small: *small,
                large: *large,
            }
        }
        LnetOp::ShowRouting => LnetCall::ShowRouting {},
        LnetOp::AddPeer {
            primary,
            nids: list,
            non_mr,
            lock_prim,
        } => {
            anyhow::ensure!(
                primary.is_some() || !list.is_empty(),
                "add-peer needs --prim-nid or --nid"
            );
            LnetCall::AddPeer(PeerConfig {
                primary: opt("primary NID", primary.as_deref())?,
                nids: nids(list)?,
                multi_rail: !non_mr,
                lock_primary: *lock_prim,
            })
        }
        LnetOp::DelPeer {
            primary,
            nids: list,
            force,
        } => LnetCall::DelPeer {
            primary: parse("primary NID", primary)?,
            nids: nids(list)?,
            force: *force,
        },
        LnetOp::ShowPeer { nid, detail: d } => LnetCall::ShowPeer {
            nid: opt("NID", nid.as_deref())?,
            detail: detail(*d),
        },
        LnetOp::ListPeers => LnetCall::ListPeers {},
        LnetOp::Ping {
            nid,
            source,
            timeout,
        } => LnetCall::Ping {
            nid: parse("NID", nid)?,
            source: opt("source NID", source.as_deref())?,
            timeout: Some(*timeout),
        },
        LnetOp::Discover { nid, force } => LnetCall::Discover {
            nid: parse("NID", nid)?,
            force: *force,
        },
        LnetOp::Discovery { state } => LnetCall::SetGlobal {
            setting: Setting::Discovery,
            value: i32::from(*state == Switch::On),
        },
        LnetOp::Set { setting, value } => LnetCall::SetGlobal {
            setting: parse("setting", setting)?,
            value: *value,
        },
        LnetOp::ShowGlobal { setting } => LnetCall::ShowGlobal {
            setting: opt("setting", setting.as_deref())?,
        },
        LnetOp::ShowStats => LnetCall::ShowStats {},
        LnetOp::ResetStats => LnetCall::ResetStats {},
        LnetOp::AddUdsp {
            src,
            dst,
            rte,
            priority,
            idx,
        } => LnetCall::AddUdsp(UdspRule {
            src: src.clone(),
            dst: dst.clone(),
            rte: rte.clone(),
            priority: *priority,
            idx: *idx,
        }),
        LnetOp::DelUdsp { idx } => LnetCall::DelUdsp { idx: *idx },
        LnetOp::ShowUdsp { idx } => LnetCall::ShowUdsp { idx: *idx },
        LnetOp::Import {
            file,
            del,
            show,
            exec,
        } => {
            let yaml = read_file(file)?;
            match (del, show, exec) {
                (true, _, _) => LnetCall::YamlDel { yaml },
                (_, true, _) => LnetCall::YamlShow { yaml },
                (_, _, true) => LnetCall::YamlExec { yaml },
                _ => LnetCall::YamlConfig { yaml },
            }
        }
    };
    let call_check = call.check();
    call_check.map_err(|why| anyhow::anyhow!("{why}"))?;
    if let Some(abi) = &args.abi {
        parse::<Abi>("--abi", abi)?;
    }
    Ok(Op::Lnet(Lnet {
        call,
        abi: args.abi.clone(),
        library: args.library.clone(),
    }))
}

fn read_file(file: &Path) -> anyhow::Result<String> {
    if file == Path::new("-") {
        let mut s = String::new();
        std::io::Read::read_to_string(&mut std::io::stdin(), &mut s)
            .context("cannot read the configuration from stdin")?;
        return Ok(s);
    }
    std::fs::read_to_string(file).with_context(|| format!("cannot read {}", file.display()))
}

fn ni_config(a: &AddNiArgs) -> anyhow::Result<NiConfig> {
    let net = match (&a.net, &a.ip2net) {
        (Some(n), _) => parse("network", n)?,
        // An ip2nets rule names its networks itself; the library ignores this one.
        (None, Some(rule)) => {
            let first = rule.split_whitespace().next().unwrap_or_default();
            parse(
                "network of the ip2net rule",
                first.split('(').next().unwrap_or(first),
            )?
        }
        (None, None) => anyhow::bail!("add-ni needs --net (with --if) or --ip2net"),
    };
    anyhow::ensure!(
        !a.interfaces.is_empty() || a.ip2net.is_some(),
        "add-ni needs --if (the interfaces) or --ip2net"
    );
    Ok(NiConfig {
        net,
        interfaces: a.interfaces.clone(),
        ip2net: a.ip2net.clone(),
        cpts: opt("CPT set", a.cpts.as_deref())?,
        tunables: Tunables {
            peer_timeout: a.peer_timeout,
            peer_credits: a.peer_credits,
            peer_buffer_credits: a.peer_buffer_credits,
            credits: a.credits,
        },
        lnd_tunables: LndTunables {
            conns_per_peer: a.conns_per_peer,
            tos: a.tos,
            auth_key: a.auth_key,
            traffic_class: a.traffic_class.clone(),
        },
    })
}

fn lst_request(cmd: &LstCmd) -> anyhow::Result<LstArgs> {
    let action = match &cmd.action {
        LstOp::NewSession {
            name,
            timeout,
            force,
        } => LstAction::NewSession {
            name: name.clone(),
            session_timeout: *timeout,
            force: *force,
        },
        LstOp::EndSession => LstAction::EndSession {},
        LstOp::AddGroup { name, nids } => LstAction::AddGroup {
            name: name.clone(),
            nids: nids.clone(),
        },
        LstOp::AddBatch { name } => LstAction::AddBatch { name: name.clone() },
        LstOp::AddTest {
            batch,
            from,
            to,
            test,
            mode,
            size,
            check,
            concurrency,
            distribute,
            loops,
        } => LstAction::AddTest {
            batch: batch.clone(),
            from: from.clone(),
            to: to.clone(),
            test: match test {
                LstTestKind::Ping => LstTest::Ping,
                LstTestKind::Brw => LstTest::Brw,
            },
            mode: mode.map(|m| match m {
                BrwModeArg::Read => BrwMode::Read,
                BrwModeArg::Write => BrwMode::Write,
            }),
            size: size.clone(),
            check: check.map(|c| match c {
                BrwCheckArg::Simple => BrwCheck::Simple,
                BrwCheckArg::Full => BrwCheck::Full,
            }),
            concurrency: *concurrency,
            distribute: distribute.clone(),
            loops: *loops,
        },
        LstOp::Run { batch } => LstAction::Run {
            batch: batch.clone(),
        },
        LstOp::Stop { batch } => LstAction::Stop {
            batch: batch.clone(),
        },
        LstOp::Stat {
            groups,
            count,
            delay,
        } => LstAction::Stat {
            groups: groups.clone(),
            count: *count,
            delay: *delay,
        },
        LstOp::ShowError { groups } => LstAction::ShowError {
            groups: groups.clone(),
        },
        LstOp::Command { args } => LstAction::Command { argv: args.clone() },
    };
    action.check().map_err(|why| anyhow::anyhow!("{why}"))?;
    Ok(LstArgs {
        action,
        session: cmd.session,
        timeout: cmd.timeout,
    })
}

#[cfg(test)]
mod tests {
    use clap::Parser;

    use super::*;
    use crate::cli::{Cli, Command};

    fn op(line: &str) -> anyhow::Result<Op> {
        let cli =
            Cli::try_parse_from(line.split_whitespace()).map_err(|e| anyhow::anyhow!("{e}"))?;
        let Command::Lnet(args) = &cli.command else {
            panic!("not lnet: {line}")
        };
        request(args, cli.global.verbose)
    }

    fn call(line: &str) -> LnetCall {
        match op(line).unwrap() {
            Op::Lnet(a) => a.call,
            other => panic!("{line}: {other:?}"),
        }
    }

    #[test]
    fn the_help_examples_make_the_calls_they_say() {
        assert_eq!(
            call("lutf lnet show-net -v"),
            LnetCall::ShowNet {
                net: None,
                detail: 1
            }
        );
        assert_eq!(
            call("lutf lnet show-net -vvv --net tcp1"),
            LnetCall::ShowNet {
                net: Some("tcp1".parse().unwrap()),
                detail: 3
            }
        );
        assert_eq!(
            call("lutf lnet add-ni --net tcp --if eth0"),
            LnetCall::AddNi(NiConfig::new("tcp".parse().unwrap(), &["eth0"]))
        );
        assert_eq!(
            call("lutf lnet ping 10.0.0.2@tcp"),
            LnetCall::Ping {
                nid: "10.0.0.2@tcp".parse().unwrap(),
                source: None,
                timeout: Some(1.0)
            }
        );
        assert_eq!(
            call("lutf lnet discovery off"),
            LnetCall::SetGlobal {
                setting: Setting::Discovery,
                value: 0
            }
        );
        assert_eq!(
            call("lutf lnet set retry_count -1"),
            LnetCall::SetGlobal {
                setting: Setting::RetryCount,
                value: -1
            }
        );
    }

    #[test]
    fn options_reach_the_request() {
        let Op::Lnet(a) = op("lutf lnet --abi 2.16 --library /opt/l.so show-stats").unwrap() else {
            panic!()
        };
        assert_eq!(a.abi.as_deref(), Some("2.16"));
        assert_eq!(a.library.as_deref(), Some("/opt/l.so"));
        let Op::Lnetctl(a) = op("lutf lnet lnetctl --no-check -- net show -v").unwrap() else {
            panic!()
        };
        assert_eq!(a.argv, ["net", "show", "-v"]);
        assert!(!a.check);
        let Op::Lst(a) =
            op("lutf lnet lst add-test --batch b --from c --to s brw --mode write --size 1M")
                .unwrap()
        else {
            panic!()
        };
        assert!(matches!(
            a.action,
            LstAction::AddTest {
                test: LstTest::Brw,
                mode: Some(BrwMode::Write),
                ..
            }
        ));
    }

    #[test]
    fn bad_arguments_are_refused_before_any_node_is_asked() {
        for (line, says) in [
            ("lutf lnet ping 10.0.0.2", "NID"),
            ("lutf lnet add-ni --net eth0 --if eth0", "network"),
            ("lutf lnet add-ni --net tcp", "--if"),
            ("lutf lnet show-net --detail 7", "detail"),
            ("lutf lnet set colour 1", "setting"),
            ("lutf lnet --abi 2.12 show-net", "2.12"),
            (
                "lutf lnet lst add-test --batch b --from c --to s brw",
                "mode",
            ),
            ("lutf lnet set-buffers", "at least one"),
        ] {
            let err = op(line).unwrap_err().to_string();
            assert!(err.contains(says), "{line}: {err}");
        }
    }

    #[test]
    fn the_table_lists_every_leaf_with_its_path() {
        let v: Value = serde_yaml::from_str(
            "net:\n- net type: lo\n  local NI(s):\n  - nid: 0@lo\n    status: up\n",
        )
        .unwrap();
        let t = table(&v);
        assert!(t.contains("net[0].net type"), "{t}");
        assert!(t.contains("net[0].local NI(s)[0].nid     0@lo\n"), "{t}");
        assert_eq!(table(&Value::Null), ".  -\n");
    }

    #[test]
    fn answers_are_keyed_by_node_only_when_nodes_were_named() {
        let answers = vec![("n1".to_string(), Value::from(1))];
        assert_eq!(render(&answers, false, Format::Yaml).unwrap(), "1\n");
        assert_eq!(render(&answers, true, Format::Yaml).unwrap(), "n1: 1\n");
        for format in [Format::Yaml, Format::Json, Format::Table] {
            for keyed in [false, true] {
                let nulls = [("n1".into(), Value::Null), ("n2".into(), Value::Null)];
                assert_eq!(render(&nulls, keyed, format).unwrap(), "", "{keyed}");
            }
        }
    }
}
