//! The lnetctl and lst parsers against what real LNet printed (Lustre 2.17.57, one and two
//! nodes, and a machine without the module): every fixture file is read by its parser, and
//! the values that matter are checked.

mod common;

use common::{fixture_dir, names, read, Fixture};
use lutf_lnet::lnetctl::{LnetctlError, LnetctlOutput};
use lutf_lnet::lst;
use std::path::Path;

/// The parser a fixture's command calls for; `None`: no parser claims it.
fn check(dir: &Path, name: &str) -> Option<Result<(), String>> {
    if name == "no-module.all-commands.txt" {
        return Some(check_no_module(dir));
    }
    let f = read(dir, name);
    let words: Vec<&str> = f.command.split_whitespace().collect();
    let r = match words.as_slice() {
        ["lnetctl", ..] => check_lnetctl(&f),
        ["lst", "stat", ..] => lst::parse_stat(&f.output)
            .map_err(|e| e.to_string())
            .and_then(|s| nonempty(s.samples.len(), "stat samples")),
        ["lst", "new_session", ..] => lst::parse_new_session(&f.output)
            .map(drop)
            .map_err(|e| e.to_string()),
        ["lst", "add_group", ..] => lst::parse_add_group(&f.output)
            .map(drop)
            .map_err(|e| e.to_string()),
        ["lst", "add_test", ..] => lst::parse_add_test(&f.output).map_err(|e| e.to_string()),
        ["lst", "run", ..] => lst::parse_run(&f.output)
            .map(drop)
            .map_err(|e| e.to_string()),
        ["lst", "stop", ..] => lst::parse_stop(&f.output).map_err(|e| e.to_string()),
        ["lst", "show_error", ..] => lst::parse_show_error(&f.output)
            .map(drop)
            .map_err(|e| e.to_string()),
        ["lst", cmd @ ("add_batch" | "end_session"), ..] => {
            lst::parse_silent(cmd, &f.output).map_err(|e| e.to_string())
        }
        _ => return None,
    };
    Some(r)
}

fn nonempty(n: usize, what: &str) -> Result<(), String> {
    if n == 0 {
        Err(format!("no {what}"))
    } else {
        Ok(())
    }
}

/// Every lnetctl fixture parses; the typed view its command calls for reads it.
fn check_lnetctl(f: &Fixture) -> Result<(), String> {
    let out = LnetctlOutput::parse(&f.output).map_err(|e| e.to_string())?;
    let sub: Vec<&str> = f.command.split_whitespace().skip(1).take(2).collect();
    match sub.as_slice() {
        ["net", "show"] => nonempty(out.net_show().map_err(|e| e.to_string())?.nets.len(), "net"),
        ["peer", "show"] => nonempty(
            out.peer_show().map_err(|e| e.to_string())?.peers.len(),
            "peer",
        ),
        ["ping", ..] => nonempty(
            out.ping().map_err(|e| e.to_string())?.replies.len(),
            "reply",
        ),
        ["stats", "show"] => nonempty(
            out.statistics().map_err(|e| e.to_string())?.counters.len(),
            "counter",
        ),
        ["global", "show"] => nonempty(
            out.global().map_err(|e| e.to_string())?.settings.len(),
            "setting",
        ),
        ["export", ..] => {
            out.net_show().map_err(|e| e.to_string())?;
            out.peer_show().map_err(|e| e.to_string())?;
            out.global().map_err(|e| e.to_string()).map(drop)
        }
        // configure, net add, net del print nothing, an error document, or a diagnostic.
        _ if f.exit == 0 => match out.errors().as_slice() {
            [] => Ok(()),
            errs => Err(format!("exit 0 but errors {errs:?}")),
        },
        _ => nonempty(out.errors().len(), "error for a failed command"),
    }
}

#[test]
fn every_fixture_file_is_read_by_its_parser() {
    let dir = fixture_dir();
    let all = names(&dir);
    assert!(
        all.len() >= 49,
        "expected the whole fixture set, found {}",
        all.len()
    );
    let mut unclaimed = Vec::new();
    let mut failed = Vec::new();
    for name in &all {
        match check(&dir, name) {
            None => unclaimed.push(name.clone()),
            Some(Err(e)) => failed.push(format!("{name}: {e}")),
            Some(Ok(())) => {}
        }
    }
    assert!(
        unclaimed.is_empty(),
        "no parser claims {unclaimed:?}: add one or a rule here"
    );
    assert!(
        failed.is_empty(),
        "fixtures that do not parse:\n{}",
        failed.join("\n")
    );
}

fn lnetctl(dir: &Path, name: &str) -> (Fixture, LnetctlOutput) {
    let f = read(dir, name);
    let out = LnetctlOutput::parse(&f.output).unwrap_or_else(|e| panic!("{name}: {e}"));
    (f, out)
}

#[test]
fn net_show_verbose_gives_every_field() {
    let dir = fixture_dir();
    let (_, out) = lnetctl(&dir, "single.lnetctl-net-show-v.txt");
    let nets = out.net_show().unwrap().nets;
    assert_eq!(
        nets.iter().map(|n| n.net_type.as_str()).collect::<Vec<_>>(),
        ["lo", "tcp"]
    );
    let ni = &nets[1].local_nis[0];
    assert_eq!(ni.nid.as_deref(), Some("10.0.2.15@tcp"));
    assert_eq!(ni.status.as_deref(), Some("up"));
    assert_eq!(ni.interfaces, ["eth0"]);
    assert_eq!(ni.cpts.as_deref(), Some(&[0][..]));
    assert_eq!(ni.dev_cpt, Some(-1));
    let tun = ni.tunables.as_ref().unwrap();
    assert_eq!(
        (tun["peer_timeout"], tun["peer_credits"], tun["credits"]),
        (180, 8, 256)
    );
    let lnd = ni.lnd_tunables.as_ref().unwrap();
    assert_eq!(lnd["conns_per_peer"].as_i64(), Some(1));
    assert_eq!(lnd["tos"].as_i64(), Some(-1));
    assert_eq!(ni.statistics.as_ref().unwrap()["send_count"], 0);
    let lo = &nets[0].local_nis[0];
    assert_eq!((lo.nid.as_deref(), lo.interfaces.len()), (Some("0@lo"), 0));
}

#[test]
fn net_show_follows_adding_and_deleting_a_network() {
    let dir = fixture_dir();
    for (node, nid) in [("vm1", "10.10.0.1@tcp"), ("vm2", "10.10.0.2@tcp")] {
        let (_, before) = lnetctl(&dir, &format!("{node}.lnetctl-net-show.txt"));
        let nets = before.net_show().unwrap().nets;
        assert_eq!(nets[1].local_nis[0].nid.as_deref(), Some(nid));
        assert_eq!(nets[1].local_nis[0].interfaces, ["enp0s10"]);
        let (_, after) = lnetctl(&dir, &format!("{node}.lnetctl-net-show.2.txt"));
        let nets = after.net_show().unwrap().nets;
        assert_eq!(nets.len(), 1, "only lo is left after net del");
        assert_eq!(nets[0].net_type, "lo");
    }
}

#[test]
fn peers_and_pings_read_the_same_in_both_indentations() {
    let dir = fixture_dir();
    let (_, out) = lnetctl(&dir, "vm1.lnetctl-peer-show-v.txt");
    let peer = &out.peer_show().unwrap().peers[0];
    assert_eq!(peer.primary_nid, "10.10.0.2@tcp");
    assert_eq!(peer.multi_rail, Some(false));
    let pni = &peer.peer_nis[0];
    assert_eq!(pni.state.as_deref(), Some("NA"));
    assert_eq!(
        pni.statistics.as_ref().unwrap()["get_rtt_max_nsec"],
        152_119_217
    );
    assert_eq!(pni.other["max_ni_tx_credits"].as_i64(), Some(8));
    for name in [
        "single.lnetctl-ping-10-0-2-15-tcp.txt",
        "vm1.lnetctl-ping-10-10-0-2-tcp.txt",
        "vm2.lnetctl-ping-10-10-0-1-tcp.txt",
    ] {
        let (f, out) = lnetctl(&dir, name);
        let target = f.command.split_whitespace().last().unwrap();
        let reply = &out.ping().unwrap().replies[0];
        assert_eq!(reply.primary_nid, target, "{name}");
        assert_eq!(reply.multi_rail, Some(false), "{name}");
        assert_eq!(
            reply.peer_nis[0].nid, target,
            "{name}: peer_ni of the 2-space layout"
        );
    }
    // Pinging 0@lo answers with the node's own primary NID.
    let (_, out) = lnetctl(&dir, "single.lnetctl-ping-0-lo.txt");
    assert_eq!(
        out.ping().unwrap().replies[0].peer_nis[0].nid,
        "10.0.2.15@tcp"
    );
}

#[test]
fn statistics_and_globals_are_numbers() {
    let dir = fixture_dir();
    let (_, out) = lnetctl(&dir, "vm1.lnetctl-stats-show.2.txt");
    let stats = out.statistics().unwrap().counters;
    assert_eq!(stats.len(), 26);
    assert_eq!(
        (stats["send_count"], stats["send_length"]),
        (3303, 148_353_000)
    );
    let (_, out) = lnetctl(&dir, "vm2.lnetctl-stats-show.2.txt");
    assert_eq!(
        out.statistics().unwrap().counters["recv_length"],
        148_347_440
    );
    let (_, out) = lnetctl(&dir, "single.lnetctl-global-show.txt");
    let g = out.global().unwrap().settings;
    assert_eq!(g.len(), 13);
    assert_eq!(
        (g["discovery"], g["max_interfaces"], g["lnd_timeout"]),
        (1, 4096, 49)
    );
    // Every name is one lutf's Global knows.
    for k in g.keys() {
        k.parse::<lutf_lnet::Global>()
            .unwrap_or_else(|e| panic!("{e}"));
    }
}

#[test]
fn export_holds_nets_peers_and_globals_and_backup_leaves_out_nids() {
    let dir = fixture_dir();
    for name in [
        "single.lnetctl-export.txt",
        "vm1.lnetctl-export.txt",
        "vm2.lnetctl-export.txt",
    ] {
        let (_, out) = lnetctl(&dir, name);
        let nets = out.net_show().unwrap().nets;
        assert_eq!(nets.len(), 2, "{name}");
        assert!(
            nets[1].local_nis[0].other.contains_key("health stats"),
            "{name}"
        );
        assert_eq!(out.peer_show().unwrap().peers.len(), 1, "{name}");
        assert_eq!(out.global().unwrap().settings.len(), 13, "{name}");
    }
    let (_, out) = lnetctl(&dir, "single.lnetctl-export-backup.txt");
    let ni = &out.net_show().unwrap().nets[0].local_nis[0];
    assert_eq!(ni.nid, None, "--backup prints no NID");
    assert_eq!(ni.interfaces, ["eth0"]);
    assert_eq!(
        out.peer_show().unwrap().peers[0].peer_nis[0].nid,
        "10.0.2.15@tcp"
    );
}

#[test]
fn adding_an_existing_network_is_a_typed_error_and_a_stray_line_a_diagnostic() {
    let dir = fixture_dir();
    let (f, out) = lnetctl(&dir, "single.lnetctl-net-add-net-tcp-if-eth0.txt");
    assert_eq!(f.exit, 234);
    assert_eq!(
        out.errors(),
        [LnetctlError {
            command: "add".into(),
            entity: Some("net".into()),
            errno: -17,
            description: "cannot add LNet NI".into(),
        }]
    );
    for node in ["vm1", "vm2"] {
        let (f, out) = lnetctl(
            &dir,
            &format!("{node}.lnetctl-net-add-net-tcp-if-enp0s10.txt"),
        );
        assert_eq!(f.exit, 0);
        assert!(out.entries.is_empty());
        assert_eq!(
            out.diagnostics,
            ["sh: 1: /usr/sbin/ksocklnd-config: not found"]
        );
    }
}

/// The blocks of `no-module.all-commands.txt`: `=== host (...): COMMAND`, output, `rc=N`.
fn no_module_blocks(dir: &Path) -> Vec<(String, String, i32)> {
    let text = std::fs::read_to_string(dir.join("no-module.all-commands.txt")).unwrap();
    let mut blocks = Vec::new();
    let mut current: Option<(String, String)> = None;
    for line in text.lines() {
        if let Some(header) = line.strip_prefix("=== ") {
            let command = header.split_once("): ").map(|(_, c)| c).unwrap_or(header);
            current = Some((command.to_owned(), String::new()));
        } else if let Some(rc) = line.strip_prefix("rc=") {
            let (command, output) = current.take().expect("rc= without a block");
            blocks.push((command, output, rc.trim().parse().unwrap()));
        } else if let Some((_, output)) = current.as_mut() {
            output.push_str(line);
            output.push('\n');
        }
    }
    blocks
}

fn check_no_module(dir: &Path) -> Result<(), String> {
    let blocks = no_module_blocks(dir);
    if blocks.len() != 10 {
        return Err(format!("expected 10 commands, found {}", blocks.len()));
    }
    for (command, output, _) in &blocks {
        LnetctlOutput::parse(output).map_err(|e| format!("{command}: {e}"))?;
    }
    Ok(())
}

#[test]
fn without_the_module_the_failures_are_read_not_mistaken_for_results() {
    let dir = fixture_dir();
    for (command, output, rc) in no_module_blocks(&dir) {
        let out = LnetctlOutput::parse(&output).unwrap();
        match command.as_str() {
            "lnetctl export" => {
                assert_eq!(rc, 0, "export exits 0 even then");
                let errors = out.errors();
                assert_eq!(errors.len(), 13, "{errors:?}");
                assert!(errors
                    .iter()
                    .all(|e| e.errno == -2 && e.entity.as_deref() == Some("global")));
                assert_eq!(
                    out.error_entries().len(),
                    14,
                    "plus routing's success entry"
                );
                assert!(out
                    .diagnostics
                    .iter()
                    .any(|d| d.starts_with("opening /dev/lnet failed")));
                assert!(
                    out.net_show().is_err(),
                    "no net section: nothing to mistake for 'no NIs'"
                );
            }
            "lnetctl stats show" => {
                assert_eq!(rc, 254);
                let e = &out.errors()[0];
                assert_eq!(
                    (e.errno, e.description.as_str()),
                    (-2, "cannot get lnet statistics: No such file or directory")
                );
            }
            "lnetctl lnet configure" | "lnetctl lnet unconfigure" => {
                assert_eq!(rc, 234);
                assert_eq!(
                    out.diagnostics,
                    ["Writer error: failed to resolve Netlink family id"]
                );
                // The document says errno 0: only the exit code tells the failure.
                let e = &out.error_entries()[0];
                assert_eq!(
                    (e.errno, e.description.as_str()),
                    (0, "LNet configure error: (null)")
                );
            }
            other => {
                assert!(rc != 0, "{other}");
                assert!(
                    out.diagnostics.iter().any(
                        |d| d.starts_with("Writer error") || d.starts_with("opening /dev/lnet")
                    ),
                    "{other}: {:?}",
                    out.diagnostics
                );
            }
        }
    }
}

#[test]
fn lst_stat_gives_rates_and_bandwidth_per_group_and_round() {
    let dir = fixture_dir();
    let f = read(&dir, "vm1.lst-stat-clients-servers.txt");
    assert_eq!(f.exit, 124, "lst stat runs until killed");
    let s = lst::parse_stat(&f.output).unwrap();
    assert_eq!(s.samples.len(), 4);
    assert_eq!(s.rounds(), 2);
    assert!(s.other_lines.is_empty(), "{:?}", s.other_lines);
    let first = &s.samples[0];
    assert_eq!((first.group.as_str(), first.round), ("clients", 0));
    let rates = first.rates.as_ref().unwrap();
    assert_eq!(
        (rates.read.avg, rates.write.max, rates.read.unit.as_str()),
        (24.0, 24.0, "RPC/s")
    );
    let bw = first.bandwidth.as_ref().unwrap();
    assert_eq!(
        (bw.read.avg, bw.write.avg, bw.write.unit.as_str()),
        (0.0, 11.64, "MiB/s")
    );
    let servers = &s.samples[1];
    assert_eq!(servers.bandwidth.as_ref().unwrap().read.avg, 11.68);
    let latest = s.latest();
    assert_eq!(latest.len(), 2);
    assert_eq!((latest[0].group.as_str(), latest[0].round), ("clients", 1));
    assert_eq!(latest[0].bandwidth.as_ref().unwrap().write.avg, 11.25);
    assert_eq!(latest[1].bandwidth.as_ref().unwrap().read.avg, 11.27);

    let s = lst::parse_stat(&read(&dir, "vm1.lst-stat-clients-servers.2.txt").output).unwrap();
    assert_eq!((s.samples.len(), s.rounds()), (2, 1));
    assert_eq!(s.samples[1].rates.as_ref().unwrap().write.min, 462.0);
    assert_eq!(s.samples[1].bandwidth.as_ref().unwrap().write.max, 0.07);
}

#[test]
fn lst_session_commands_read_their_answers() {
    let dir = fixture_dir();
    let s = lst::parse_new_session(&read(&dir, "vm1.lst-new-session-timeout-100-rw.txt").output)
        .unwrap();
    assert_eq!(
        s,
        lst::Session {
            name: "rw".into(),
            features: 1,
            timeout: 100,
            force: false
        }
    );
    let added =
        lst::parse_add_group(&read(&dir, "vm1.lst-add-group-servers-10-10-0-2-tcp.txt").output)
            .unwrap();
    assert_eq!(added, ["10.10.0.2@tcp"]);
    let errors =
        lst::parse_show_error(&read(&dir, "vm1.lst-show-error-clients-servers.txt").output)
            .unwrap();
    assert_eq!(
        errors,
        [("clients".to_owned(), 0), ("servers".to_owned(), 0)]
    );
    for (name, batch) in [
        ("vm1.lst-run-bulk-rw.txt", "bulk_rw"),
        ("vm1.lst-run-ping-b.txt", "ping_b"),
    ] {
        assert_eq!(lst::parse_run(&read(&dir, name).output).unwrap(), batch);
    }
    lst::parse_stop(&read(&dir, "vm1.lst-stop-bulk-rw.txt").output).unwrap();
    lst::parse_add_test(
        &read(
            &dir,
            "vm1.lst-add-test-batch-ping-b-from-clients-to-servers-ping.txt",
        )
        .output,
    )
    .unwrap();
    lst::parse_silent("end_session", &read(&dir, "vm1.lst-end-session.txt").output).unwrap();
    // What a failing command prints is not mistaken for success.
    assert!(lst::parse_run(&read(&dir, "vm1.lst-stop-bulk-rw.txt").output).is_err());
    assert!(lst::parse_silent("add_batch", &read(&dir, "vm1.lst-run-bulk-rw.txt").output).is_err());
}
