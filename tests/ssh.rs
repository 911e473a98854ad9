//! SSH for real: lutf against real sshd test hosts (see `support`): status, exec, deploy,
//! node loss, host keys, unsafe work directories, cluster files, control sockets.
//!
//! Timing assertions here are generous upper bounds that only prove "it did not hang";
//! speed is measured by `benches/ssh.rs`.

mod support;

use std::io::Write as _;
use std::net::TcpListener;
use std::os::unix::fs::PermissionsExt;
use std::path::PathBuf;
use std::process::{Command, Output, Stdio};
use std::time::{Duration, Instant};

use support::{show, TestHosts};

fn json(out: &Output) -> serde_json::Value {
    serde_json::from_slice(&out.stdout).unwrap_or_else(|e| panic!("{e}: {}", show(out)))
}

fn status(hosts: &TestHosts, extra: &[&str]) -> Output {
    hosts
        .lutf()
        .args(["status", "--format", "json", "--cluster"])
        .arg(&hosts.cluster_file)
        .args(extra)
        .output()
        .unwrap()
}

fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

/// Whether the helper built into lutf runs commands (`exec`); says why not otherwise.
fn helper_can_exec() -> bool {
    let out = Command::new(support::lutf_bin())
        .args(["exec", "--", "true"])
        .output()
        .unwrap();
    if text(&out.stderr).contains("not implemented yet") {
        eprintln!("SKIP: the helper in this build has no `exec` operation yet");
        return false;
    }
    true
}

/// The bundle folder named in a status entry, as seen from outside the host.
fn bundle_on_host(hosts: &TestHosts, i: usize, entry: &serde_json::Value) -> PathBuf {
    let dir = entry["helper_dir"].as_str().unwrap();
    let rel = dir
        .strip_prefix("/tmp/")
        .expect("default workdir under /tmp");
    hosts.hosts[i].tmp.join(rel)
}

#[test]
fn status_lists_every_host_reachable_and_deploys_once() {
    let Some(hosts) = support::hosts(3) else {
        return;
    };
    let out = status(&hosts, &["-v"]);
    assert_eq!(out.status.code(), Some(0), "{}", show(&out));
    let v = json(&out);
    let nodes = v.as_array().unwrap();
    assert_eq!(nodes.len(), 3);
    for (i, n) in nodes.iter().enumerate() {
        assert_eq!(n["node"], format!("node{}", i + 1));
        assert_eq!(n["reachable"], true, "{n}");
        assert!(n["rtt_ms"].as_f64().unwrap() > 0.0);
        assert!(n["bytes_sent"].as_u64().unwrap() > 1000, "{n}");
        let dir = bundle_on_host(&hosts, i, n);
        assert!(dir.join("lutf-helper").is_file(), "{}", dir.display());
        assert!(dir.join(".lutf-bundle").is_file());
        let mode = std::fs::metadata(dir.parent().unwrap())
            .unwrap()
            .permissions()
            .mode();
        assert_eq!(mode & 0o777, 0o700, "the workdir is private");
    }
    // -v says how many bytes went to each node.
    let err = text(&out.stderr);
    for i in 1..=3 {
        assert!(
            err.lines()
                .any(|l| l.contains(&format!("node{i}: bundle")) && l.contains("bytes sent")),
            "{err}"
        );
    }

    // Again: nothing but the hash check.
    let out = status(&hosts, &["-v"]);
    assert_eq!(out.status.code(), Some(0), "{}", show(&out));
    for n in json(&out).as_array().unwrap() {
        assert_eq!(n["bytes_sent"], 0, "{n}");
    }
    assert_eq!(
        text(&out.stderr).matches("(0 bytes sent").count(),
        3,
        "{}",
        show(&out)
    );

    // The table names every node.
    let out = hosts
        .lutf()
        .args(["status", "--cluster"])
        .arg(&hosts.cluster_file)
        .output()
        .unwrap();
    let table = text(&out.stdout);
    assert!(table.contains("3 of 3 nodes reachable"), "{table}");
    for i in 1..=3 {
        assert!(table.contains(&format!("node{i}: reachable")), "{table}");
    }
}

#[test]
fn nodes_by_host_list_on_the_command_line() {
    let Some(hosts) = support::hosts(3) else {
        return;
    };
    let out = hosts
        .lutf()
        .args(["status", "--format", "json", "--nodes", "node[1-2]"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(0), "{}", show(&out));
    let v = json(&out);
    let names: Vec<_> = v
        .as_array()
        .unwrap()
        .iter()
        .map(|n| n["node"].clone())
        .collect();
    assert_eq!(names, ["node1", "node2"]);
    // --nodes picks from --cluster by name.
    let out = status(&hosts, &["--nodes", "node3"]);
    assert_eq!(json(&out).as_array().unwrap().len(), 1, "{}", show(&out));
    let out = status(&hosts, &["--nodes", "node4"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(
        text(&out.stderr).contains("no node `node4`"),
        "{}",
        show(&out)
    );
}

#[test]
fn a_tampered_bundle_is_replaced_before_use() {
    let Some(hosts) = support::netns_hosts(1) else {
        return;
    };
    let out = status(&hosts, &[]);
    assert_eq!(out.status.code(), Some(0), "{}", show(&out));
    let dir = bundle_on_host(&hosts, 0, &json(&out)[0]);
    let helper = dir.join("lutf-helper");
    let good = std::fs::read(&helper).unwrap();
    std::fs::write(&helper, b"#!/bin/sh\necho pwned\n").unwrap();
    let out = status(&hosts, &[]);
    assert_eq!(out.status.code(), Some(0), "{}", show(&out));
    assert!(json(&out)[0]["bytes_sent"].as_u64().unwrap() > 0);
    assert_eq!(std::fs::read(&helper).unwrap(), good);
}

#[test]
fn exec_on_every_host_prefixes_lines_and_returns_the_worst_code() {
    if !helper_can_exec() {
        return;
    }
    let Some(hosts) = support::hosts(3) else {
        return;
    };
    // node2 exits 3: it is told apart by its end of $SSH_CONNECTION (address and port).
    let h2 = &hosts.hosts[1];
    let script = format!(
        "echo out one; echo out two; echo err >&2; \
         case \"$SSH_CONNECTION\" in *' {} {}') exit 3;; esac",
        h2.addr, h2.port
    );
    let out = hosts
        .lutf()
        .args(["exec", "--shell", "--cluster"])
        .arg(&hosts.cluster_file)
        .args(["--", &script])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(3), "{}", show(&out));
    let stdout = text(&out.stdout);
    let stderr = text(&out.stderr);
    for i in 1..=3 {
        assert!(
            stdout.contains(&format!("node{i}: out one\nnode{i}: out two\n")),
            "{stdout}"
        );
        assert!(stderr.contains(&format!("node{i}: err\n")), "{stderr}");
    }
    assert!(stdout.lines().all(|l| l.starts_with("node")), "{stdout}");
}

#[test]
fn exec_gather_groups_identical_outputs() {
    if !helper_can_exec() {
        return;
    }
    let Some(hosts) = support::hosts(3) else {
        return;
    };
    let out = hosts
        .lutf()
        .args(["exec", "--gather", "--cluster"])
        .arg(&hosts.cluster_file)
        .args(["--", "echo", "same everywhere"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(0), "{}", show(&out));
    assert_eq!(
        text(&out.stdout),
        "----------------\nnode[1-3]\n----------------\nsame everywhere\n",
        "{}",
        show(&out)
    );
}

/// Runs `lutf exec` on every host with `sleep`, does `harm` to host 2 a second in, and
/// checks that host 2 is reported lost (with ssh's words) within `bound` while the others
/// finish normally.
fn exec_survives(hosts: &mut TestHosts, harm: impl FnOnce(&mut TestHosts), lost_words: &str) {
    // The bundles first: the exec then runs over a direct connection (`--persist 0`).
    let out = hosts
        .lutf()
        .args(["exec", "--cluster"])
        .arg(&hosts.cluster_file)
        .args(["--", "true"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(0), "{}", show(&out));
    let child = hosts
        .lutf()
        .args(["--keepalive", "1", "exec", "--cluster"])
        .arg(&hosts.cluster_file)
        .args(["--", "sh", "-c", "sleep 4; echo finished"])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    std::thread::sleep(Duration::from_millis(1500));
    let harmed = Instant::now();
    harm(hosts);
    let out = child.wait_with_output().unwrap();
    let took = harmed.elapsed();
    // Generous: proves the loss did not hang lutf (keepalive 1 s: noticed within ~3 s).
    assert!(
        took < Duration::from_secs(20),
        "took {took:?}: {}",
        show(&out)
    );
    assert_eq!(out.status.code(), Some(255), "{}", show(&out));
    let stdout = text(&out.stdout);
    let stderr = text(&out.stderr);
    assert!(stdout.contains("node1: finished\n"), "{}", show(&out));
    assert!(stdout.contains("node3: finished\n"), "{}", show(&out));
    assert!(!stdout.contains("node2:"), "{}", show(&out));
    let lost = stderr
        .lines()
        .find(|l| l.starts_with("node2: lutf: unreachable: "))
        .unwrap_or_else(|| panic!("{}", show(&out)));
    assert!(lost.contains(lost_words), "{lost}");
}

#[test]
fn a_host_killed_mid_exec_is_lost_and_the_others_finish() {
    if !helper_can_exec() {
        return;
    }
    let Some(mut hosts) = support::hosts(3) else {
        return;
    };
    exec_survives(&mut hosts, |h| h.kill_host(1), "closed by remote host");
}

#[test]
fn a_host_cut_off_mid_exec_is_lost_and_the_others_finish() {
    if !helper_can_exec() {
        return;
    }
    let Some(mut hosts) = support::netns_hosts(3) else {
        return;
    };
    exec_survives(&mut hosts, |h| h.cut(1), "not responding");
    hosts.restore(1);
}

#[test]
fn strict_host_keys_refuse_unknown_hosts_until_known() {
    let Some(hosts) = support::hosts(2) else {
        return;
    };
    let out = status(&hosts, &["--strict-host-keys"]);
    assert_eq!(out.status.code(), Some(1), "{}", show(&out));
    for n in json(&out).as_array().unwrap() {
        assert_eq!(n["reachable"], false);
        let e = n["error"].as_str().unwrap();
        assert!(e.contains("Host key verification failed"), "{e}");
    }
    assert_eq!(std::fs::read_to_string(&hosts.known_hosts).unwrap(), "");
    // The default records them on first use; then strict is happy.
    let out = status(&hosts, &[]);
    assert_eq!(out.status.code(), Some(0), "{}", show(&out));
    let out = status(&hosts, &["--strict-host-keys"]);
    assert_eq!(out.status.code(), Some(0), "{}", show(&out));
}

#[test]
fn a_changed_host_key_is_always_refused() {
    let Some(hosts) = support::hosts(2) else {
        return;
    };
    // node1 is "known" with node2's key: to ssh, node1's key has changed.
    let forged = hosts
        .known_hosts_line(0)
        .replace(&hosts.hosts[0].host_key, &hosts.hosts[1].host_key);
    std::fs::write(&hosts.known_hosts, forged).unwrap();
    for extra in [&[][..], &["--strict-host-keys"][..]] {
        let out = status(&hosts, extra);
        assert_eq!(out.status.code(), Some(1), "{}", show(&out));
        let v = json(&out);
        assert_eq!(v[0]["reachable"], false, "{}", show(&out));
        let e = v[0]["error"].as_str().unwrap();
        assert!(e.contains("Host key verification failed"), "{e}");
        if extra.is_empty() {
            assert_eq!(v[1]["reachable"], true, "{}", show(&out));
        }
    }
}

#[test]
fn a_full_disk_on_a_node_is_reported_in_its_words() {
    let Some(hosts) = support::netns_hosts(1) else {
        return;
    };
    // A 256 KiB filesystem in the host: the bundle (megabytes) cannot fit.
    let out = hosts.on_host(
        0,
        "mkdir -p /tmp/small && mount -t tmpfs -o size=256k tmpfs /tmp/small",
    );
    assert!(out.status.success(), "{}", show(&out));
    let cluster = hosts.dir.path().join("small.yml");
    std::fs::write(
        &cluster,
        "nodes:\n  - name: node1\n    workdir: /tmp/small/wd\n",
    )
    .unwrap();
    let out = hosts
        .lutf()
        .args(["status", "--format", "json", "--cluster"])
        .arg(&cluster)
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1), "{}", show(&out));
    let e = json(&out)[0]["error"].as_str().unwrap().to_string();
    assert!(e.contains("No space left on device"), "{e}");
    // Nothing half-made is left behind.
    let left = hosts.on_host(0, "ls -A /tmp/small/wd");
    assert_eq!(text(&left.stdout), "", "{}", show(&left));
}

#[test]
fn a_users_own_ssh_habits_do_not_change_lutfs_connection() {
    let Some(hosts) = support::hosts(1) else {
        return;
    };
    let config = hosts.dir.path().join("habits_config");
    let mine = std::fs::read_to_string(&hosts.ssh_config).unwrap();
    let sockets = hosts.dir.path().join("theirs-%C");
    std::fs::write(
        &config,
        format!(
            "Host *\n  ControlMaster auto\n  ControlPersist yes\n  ControlPath {}\n  \
             RemoteCommand echo surprise\n  RequestTTY force\n  LocalForward 127.0.0.1:1 127.0.0.1:1\n  \
             LogLevel QUIET\n  ServerAliveInterval 600\n{mine}",
            sockets.display()
        ),
    )
    .unwrap();
    let out = Command::new(support::lutf_bin())
        .arg("--ssh-config")
        .arg(&config)
        .args(["--persist", "0"])
        .args(["status", "--format", "json", "--nodes", "node1"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(0), "{}", show(&out));
    assert_eq!(json(&out)[0]["reachable"], true);
    // `lutf exec`'s direct connection too (the bundle is there now).
    let out = hosts
        .lutf_keeping(0, &config)
        .args(["exec", "--cluster"])
        .arg(&hosts.cluster_file)
        .args(["--", "echo", "mine"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(0), "{}", show(&out));
    assert_eq!(text(&out.stdout), "node1: mine\n", "{}", show(&out));
    // No lingering master of its own (ControlPersist) in the user's socket place.
    let theirs: Vec<_> = std::fs::read_dir(hosts.dir.path())
        .unwrap()
        .filter_map(Result::ok)
        .filter(|e| e.file_name().to_string_lossy().starts_with("theirs-"))
        .collect();
    assert!(theirs.is_empty(), "{theirs:?}");
}

/// How many connections host `i`'s sshd has let in so far (its log says each).
fn accepted(hosts: &TestHosts, i: usize) -> usize {
    std::fs::read_to_string(hosts.hosts[i].dir.join("sshd.log"))
        .unwrap_or_default()
        .matches("Accepted publickey for ")
        .count()
}

#[test]
fn exec_not_keeping_is_one_connection_once_the_bundle_is_there() {
    if !helper_can_exec() {
        return;
    }
    let Some(hosts) = support::hosts(1) else {
        return;
    };
    // The real ssh, each run of it noted (`ssh -G`, a master `-M`, a direct one).
    let bin = hosts.dir.path().join("bin");
    std::fs::create_dir(&bin).unwrap();
    let runs = hosts.dir.path().join("ssh-runs");
    let real = String::from_utf8(
        Command::new("sh")
            .args(["-c", "command -v ssh"])
            .output()
            .unwrap()
            .stdout,
    )
    .unwrap();
    std::fs::write(
        bin.join("ssh"),
        format!(
            "#!/bin/sh\necho \"$*\" >> '{}'\nexec {} \"$@\"\n",
            runs.display(),
            real.trim()
        ),
    )
    .unwrap();
    std::fs::set_permissions(bin.join("ssh"), std::fs::Permissions::from_mode(0o755)).unwrap();
    let path = format!(
        "{}:{}",
        bin.display(),
        std::env::var("PATH").unwrap_or_default()
    );
    // Runs `lutf exec`; how many connections the node let in, and the ssh processes run.
    let exec = || {
        let before = accepted(&hosts, 0);
        let _ = std::fs::remove_file(&runs);
        let out = hosts
            .lutf()
            .env("PATH", &path)
            .args(["exec", "--cluster"])
            .arg(&hosts.cluster_file)
            .args(["--", "echo", "hi"])
            .output()
            .unwrap();
        assert_eq!(out.status.code(), Some(0), "{}", show(&out));
        assert!(text(&out.stdout).contains("hi\n"), "{}", show(&out));
        let ssh: Vec<String> = std::fs::read_to_string(&runs)
            .unwrap_or_default()
            .lines()
            .map(|l| {
                // Only what tells them apart.
                ["-G", "-M"]
                    .into_iter()
                    .find(|o| l.split(' ').any(|w| w == *o))
                    .unwrap_or("direct")
                    .to_string()
            })
            .collect();
        (accepted(&hosts, 0) - before, ssh.join(" "))
    };
    // No bundle yet: the direct check finds none; a master installs it and calls.
    let (connections, ssh) = exec();
    assert_eq!(connections, 2, "the direct check, then the master");
    assert_eq!(ssh, "-G direct -M");
    // From then on: one ssh, one connection, as `ssh host true`; ssh -G's answer is kept.
    assert_eq!(exec(), (1, "direct".to_string()));
    assert_eq!(exec(), (1, "direct".to_string()));
    // A bundle that is no longer intact is not used: the installer repairs it.
    let helper = std::fs::read_dir(hosts.node_workdir(0))
        .unwrap()
        .filter_map(Result::ok)
        .map(|e| e.path().join("lutf-helper"))
        .find(|p| p.exists())
        .expect("an installed helper");
    std::fs::remove_file(&helper).unwrap();
    assert_eq!(exec(), (2, "direct -M".to_string()));
    assert!(helper.exists(), "installed again");
    assert_eq!(exec(), (1, "direct".to_string()));
}

#[test]
fn exec_not_keeping_reports_an_unreachable_node_in_ssh_words() {
    let Some(mut hosts) = support::hosts(2) else {
        return;
    };
    hosts.kill_host(1);
    // One that answers TCP and says nothing, one that says it is an ssh server and then
    // nothing (a hung sshd after its banner: only lutf's own bound ends that wait).
    let (silent, silent_port) = silent_server();
    let stalled = TcpListener::bind("127.0.0.1:0").unwrap();
    let stalled_port = stalled.local_addr().unwrap().port();
    let banner = std::thread::spawn(move || {
        let (mut c, _) = stalled.accept().unwrap();
        c.write_all(b"SSH-2.0-OpenSSH_9.2p1 stalled\r\n").unwrap();
        std::thread::sleep(Duration::from_secs(15));
    });
    let cluster = hosts.dir.path().join("unreachable.yml");
    std::fs::write(
        &cluster,
        format!(
            "{}  - name: silent\n    host: 127.0.0.1\n    port: {silent_port}\n  \
             - name: stalled\n    host: 127.0.0.1\n    port: {stalled_port}\n",
            hosts.cluster_yaml()
        ),
    )
    .unwrap();
    let start = Instant::now();
    let out = hosts
        .lutf()
        .args(["--connect-timeout", "1", "exec", "--cluster"])
        .arg(&cluster)
        .args(["--", "echo", "hi"])
        .output()
        .unwrap();
    // Generous: proves nothing waited past its bounds (connecting: 6 s here).
    assert!(
        start.elapsed() < Duration::from_secs(12),
        "{:?}",
        start.elapsed()
    );
    drop(silent);
    assert_eq!(out.status.code(), Some(255), "{}", show(&out));
    assert!(text(&out.stdout).contains("node1: hi\n"), "{}", show(&out));
    let lost = |name: &str| {
        text(&out.stderr)
            .lines()
            .find(|l| l.starts_with(&format!("{name}: lutf: unreachable: ")))
            .unwrap_or_else(|| panic!("{}", show(&out)))
            .to_string()
    };
    assert!(
        lost("node2").contains("Connection refused"),
        "{}",
        show(&out)
    );
    assert!(lost("silent").contains("timed out"), "{}", show(&out));
    assert!(
        lost("stalled").contains("no ssh connection"),
        "{}",
        show(&out)
    );
    let _ = banner.join();
}

#[test]
fn ssh_g_answers_are_kept_until_the_configuration_changes() {
    use lutf::transport::kept::ConfigAnswer;
    use lutf::transport::ssh::{SshOptions, SshTarget};
    let Some(hosts) = support::hosts(1) else {
        return;
    };
    // A configuration file of its own: an entry of its own.
    let config = hosts.dir.path().join("answered_config");
    std::fs::copy(&hosts.ssh_config, &config).unwrap();
    let target = SshTarget {
        host: "node1".into(),
        user: None,
        port: None,
    };
    let options = SshOptions {
        config_file: Some(config.clone()),
        ..SshOptions::default()
    };
    let exec = || {
        hosts
            .lutf_keeping(0, &config)
            .args(["exec", "--cluster"])
            .arg(&hosts.cluster_file)
            .args(["--", "true"])
            .output()
            .unwrap()
    };
    assert_eq!(ConfigAnswer::read(&target, &options), None);
    let out = exec();
    assert_eq!(out.status.code(), Some(0), "{}", show(&out));
    let answer = ConfigAnswer::read(&target, &options).expect("ssh -G's answer kept");
    assert!(!answer.refused);
    assert_eq!(answer.user.as_deref(), Some(hosts.user.as_str()));
    assert!(answer.sources.contains(&config), "{answer:?}");
    // The next command believes the kept answer without asking ssh: one that says
    // "refused" (the file itself is fine) refuses the node.
    ConfigAnswer {
        refused: true,
        ..answer.clone()
    }
    .write(&target, &options)
    .unwrap();
    let out = exec();
    assert_eq!(out.status.code(), Some(255), "{}", show(&out));
    assert!(
        text(&out.stderr).contains("turns host key checking off"),
        "{}",
        show(&out)
    );
    // An edited file makes the answer stale: ssh -G runs again and its answer is kept.
    let mut f = std::fs::OpenOptions::new()
        .append(true)
        .open(&config)
        .unwrap();
    writeln!(f, "# edited").unwrap();
    drop(f);
    assert_eq!(ConfigAnswer::read(&target, &options), None);
    let out = exec();
    assert_eq!(out.status.code(), Some(0), "{}", show(&out));
    assert_eq!(ConfigAnswer::read(&target, &options), Some(answer.clone()));
    // An entry that is not one (cut short, or someone else's words) is ignored and rewritten.
    let path = lutf::transport::kept::config_answer_path(&target, &options).unwrap();
    let whole = std::fs::read_to_string(&path).unwrap();
    std::fs::write(&path, whole.lines().next().unwrap()).unwrap();
    assert_eq!(ConfigAnswer::read(&target, &options), None);
    let out = exec();
    assert_eq!(out.status.code(), Some(0), "{}", show(&out));
    assert_eq!(ConfigAnswer::read(&target, &options), Some(answer));
    // What the file includes counts too: a file that appears where an Include looks, or
    // an included file edited in place, makes the answer stale.
    let inc = hosts.dir.path().join("inc");
    std::fs::create_dir(&inc).unwrap();
    let mine = std::fs::read_to_string(&config).unwrap();
    std::fs::write(&config, format!("Include {}/*.conf\n{mine}", inc.display())).unwrap();
    let careless = "Host *\n  UserKnownHostsFile /dev/null\n";
    for (file, content) in [("a.conf", "# nothing\n"), ("a.conf", careless)] {
        let out = exec();
        assert_eq!(out.status.code(), Some(0), "{}", show(&out));
        assert!(ConfigAnswer::read(&target, &options).is_some_and(|a| !a.refused));
        let mut f = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(inc.join(file))
            .unwrap();
        f.write_all(content.as_bytes()).unwrap();
    }
    let out = exec();
    assert_eq!(out.status.code(), Some(255), "{}", show(&out));
    assert!(
        text(&out.stderr).contains("turns host key checking off"),
        "{}",
        show(&out)
    );
}

#[test]
fn known_hosts_in_dev_null_is_refused() {
    let Some(hosts) = support::hosts(1) else {
        return;
    };
    let config = hosts.dir.path().join("careless_config");
    let mine = std::fs::read_to_string(&hosts.ssh_config).unwrap();
    std::fs::write(
        &config,
        format!("Host *\n  UserKnownHostsFile /dev/null\n{mine}"),
    )
    .unwrap();
    let target = lutf::transport::ssh::SshTarget {
        host: "node1".into(),
        user: None,
        port: None,
    };
    let options = lutf::transport::ssh::SshOptions {
        config_file: Some(config.clone()),
        ..Default::default()
    };
    let kept = || lutf::transport::kept::ConfigAnswer::read(&target, &options);
    // Twice: the second time from ssh -G's kept answer.
    for _ in 0..2 {
        let out = hosts
            .lutf_keeping(0, &config)
            .args(["status", "--format", "json", "--nodes", "node1"])
            .output()
            .unwrap();
        assert_eq!(out.status.code(), Some(1), "{}", show(&out));
        let e = json(&out)[0]["error"].as_str().unwrap().to_string();
        assert!(e.contains("turns host key checking off"), "{e}");
        assert!(kept().expect("kept").refused);
    }
    // And `lutf exec`'s direct connection, kept answer and all; nothing reached the node.
    let before = accepted(&hosts, 0);
    let out = hosts
        .lutf_keeping(0, &config)
        .args(["exec", "--nodes", "node1", "--", "true"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(255), "{}", show(&out));
    assert!(
        text(&out.stderr).contains("turns host key checking off"),
        "{}",
        show(&out)
    );
    assert_eq!(accepted(&hosts, 0), before);
}

#[test]
fn unsafe_work_directories_are_refused() {
    let Some(hosts) = support::hosts(2) else {
        return;
    };
    // Per-node workdirs: a folder of another user, and one everybody may write.
    let unique = format!(
        "lutf-wd-test-{}-{}",
        std::process::id(),
        hosts.hosts[0].port
    );
    let theirs_rel = format!("{unique}/theirs");
    let open_rel = format!("{unique}/open");
    let theirs = hosts.hosts[0].tmp.join(&theirs_rel);
    let open = hosts.hosts[1].tmp.join(&open_rel);
    std::fs::create_dir_all(&theirs).unwrap();
    std::fs::create_dir_all(&open).unwrap();
    std::fs::set_permissions(&open, std::fs::Permissions::from_mode(0o777)).unwrap();
    let chowned =
        support::is_root() && std::os::unix::fs::chown(&theirs, Some(65534), Some(65534)).is_ok();
    let cluster = hosts.dir.path().join("workdirs.yml");
    std::fs::write(
        &cluster,
        format!(
            "nodes:\n  - name: node1\n    workdir: /tmp/{theirs_rel}\n  - name: node2\n    workdir: /tmp/{open_rel}\n"
        ),
    )
    .unwrap();
    let out = hosts
        .lutf()
        .args(["status", "--format", "json", "--cluster"])
        .arg(&cluster)
        .output()
        .unwrap();
    let _ = std::fs::remove_dir_all(hosts.hosts[0].tmp.join(&unique));
    let _ = std::fs::remove_dir_all(hosts.hosts[1].tmp.join(&unique));
    assert_eq!(out.status.code(), Some(1), "{}", show(&out));
    let v = json(&out);
    let e2 = v[1]["error"].as_str().unwrap();
    assert!(
        e2.contains(&format!(
            "work directory {}/{open_rel}: is writable by others (mode 777)",
            hosts.hosts[1].node_tmp.display()
        )),
        "{e2}"
    );
    if chowned {
        let e1 = v[0]["error"].as_str().unwrap();
        assert!(e1.contains("owned by uid 65534, not by us"), "{e1}");
    } else {
        eprintln!("not root: the foreign-owner case needs root to chown");
    }
}

#[test]
fn bad_cluster_files_give_file_line_and_column() {
    let dir = tempfile::tempdir().unwrap();
    for (body, want) in [
        (
            "nodes:\n  - name: a\n   host: b\n",
            ":3:4: did not find expected '-' indicator",
        ),
        (
            "nodes:\n  - name: a\n    hots: b\n",
            ":3:5: nodes[0]: unknown field `hots`",
        ),
        (
            "nodes:\n  - name: a\n    port: 70000\n",
            ":3:11: nodes[0].port: invalid value",
        ),
        (
            "nodes:\n  - name: n[4-2]\n",
            ":2:5: nodes[0]: bad host list `n[4-2]`",
        ),
        (
            "nodes:\n  - a\n  - a\n",
            ":2:3: nodes: node name `a` is used twice",
        ),
    ] {
        let f = dir.path().join("c.yml");
        std::fs::write(&f, body).unwrap();
        let out = Command::new(support::lutf_bin())
            .args(["status", "--cluster"])
            .arg(&f)
            .output()
            .unwrap();
        assert_eq!(out.status.code(), Some(2), "{}", show(&out));
        let err = text(&out.stderr);
        let want = format!("lutf: error: {}{want}", f.display());
        assert!(err.starts_with(&want), "want {want:?}\ngot {err:?}");
    }
    let out = Command::new(support::lutf_bin())
        .args(["status", "--nodes", "h[1-"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(
        text(&out.stderr).contains("--nodes: bad host list `h[1-`"),
        "{}",
        show(&out)
    );
}

/// A TCP port that accepts connections and never says a word (a hung sshd).
fn silent_server() -> (TcpListener, u16) {
    let l = TcpListener::bind("127.0.0.1:0").unwrap();
    let port = l.local_addr().unwrap().port();
    (l, port)
}

#[test]
fn unreachable_nodes_never_hang_status() {
    let Some(hosts) = support::hosts(1) else {
        return;
    };
    let (silent, silent_port) = silent_server();
    let refused_port = TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let cluster = hosts.dir.path().join("mixed.yml");
    std::fs::write(
        &cluster,
        format!(
            "nodes:\n  - name: node1\n  - name: silent\n    host: 127.0.0.1\n    port: {silent_port}\n  \
             - name: refused\n    host: 127.0.0.1\n    port: {refused_port}\n  \
             - name: nowhere\n    host: nowhere.invalid\n"
        ),
    )
    .unwrap();
    let start = Instant::now();
    let out = hosts
        .lutf()
        .args([
            "--connect-timeout",
            "1",
            "status",
            "--format",
            "json",
            "--cluster",
        ])
        .arg(&cluster)
        .output()
        .unwrap();
    // Generous: proves nothing waited on the silent node past its bounds.
    assert!(
        start.elapsed() < Duration::from_secs(20),
        "{:?}",
        start.elapsed()
    );
    drop(silent);
    assert_eq!(out.status.code(), Some(1), "{}", show(&out));
    let v = json(&out);
    assert_eq!(v[0]["reachable"], true, "{}", show(&out));
    let err = |i: usize| v[i]["error"].as_str().unwrap().to_string();
    assert!(err(1).contains("timed out"), "{}", err(1));
    assert!(err(2).contains("Connection refused"), "{}", err(2));
    assert!(err(3).contains("Could not resolve hostname"), "{}", err(3));
}

/// Processes whose command line mentions `needle`.
fn processes_mentioning(needle: &str) -> Vec<i32> {
    std::fs::read_dir("/proc")
        .unwrap()
        .filter_map(Result::ok)
        .filter_map(|e| e.file_name().to_string_lossy().parse::<i32>().ok())
        .filter(|pid| {
            std::fs::read(format!("/proc/{pid}/cmdline"))
                .map(|c| String::from_utf8_lossy(&c).contains(needle))
                .unwrap_or(false)
        })
        .collect()
}

#[test]
fn control_sockets_go_with_lutf_even_when_it_is_killed() {
    let Some(hosts) = support::hosts(1) else {
        return;
    };
    let base = lutf::transport::ssh::ControlDir::base();
    // A clean run leaves no folder behind.
    let child = hosts
        .lutf()
        .args(["status", "--cluster"])
        .arg(&hosts.cluster_file)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let its_dir = base.join(format!("{}.0", child.id()));
    let out = child.wait_with_output().unwrap();
    assert_eq!(out.status.code(), Some(0), "{}", show(&out));
    assert!(!its_dir.exists(), "{} is left", its_dir.display());

    // A run killed while it waits on a silent node: its ssh master dies with it, its folder
    // stays until the next run removes it.
    let (silent, port) = silent_server();
    let cluster = hosts.dir.path().join("silent.yml");
    std::fs::write(
        &cluster,
        format!("nodes:\n  - name: silent\n    host: 127.0.0.1\n    port: {port}\n"),
    )
    .unwrap();
    let mut child = hosts
        .lutf()
        .args(["--connect-timeout", "60", "status", "--cluster"])
        .arg(&cluster)
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let dir = base.join(format!("{}.0", child.id()));
    // Wait until its master runs.
    let deadline = Instant::now() + Duration::from_secs(10);
    while processes_mentioning(&dir.display().to_string()).is_empty() {
        assert!(Instant::now() < deadline, "lutf never started ssh");
        std::thread::sleep(Duration::from_millis(20));
    }
    child.kill().unwrap();
    child.wait().unwrap();
    let deadline = Instant::now() + Duration::from_secs(5);
    while !processes_mentioning(&dir.display().to_string()).is_empty() {
        assert!(Instant::now() < deadline, "ssh master outlived lutf");
        std::thread::sleep(Duration::from_millis(20));
    }
    // Its folder is left for a later run (any lutf run, parallel tests' too, removes it
    // once it is old enough not to be a run just starting): age it.
    if let Ok(f) = std::fs::File::open(&dir) {
        let long_ago = std::time::SystemTime::now() - lutf::transport::ssh::STALE_AFTER * 2;
        f.set_modified(long_ago).unwrap();
    }
    drop(silent);
    let out = status(&hosts, &[]);
    assert_eq!(out.status.code(), Some(0), "{}", show(&out));
    assert!(!dir.exists(), "the next run removed the stale folder");
}

/// The pid of the kept ssh master `lutf status` names for the only node, if any.
fn kept_pid(out: &Output) -> Option<i32> {
    let v = json(out);
    let c = v[0]["connection"].as_str()?.to_string();
    c.strip_prefix("kept: ssh master pid ")?
        .split_whitespace()
        .next()?
        .parse()
        .ok()
}

/// Whether `pid` runs: it exists and has not exited (a zombie is a process that ended and
/// that its parent, init here once ssh has daemonized, has not reaped yet).
fn alive(pid: i32) -> bool {
    // SAFETY: signal 0 only checks that the process exists.
    let exists = unsafe { libc::kill(pid, 0) == 0 };
    exists
        && !std::fs::read_to_string(format!("/proc/{pid}/stat"))
            .unwrap_or_default()
            .rsplit_once(')')
            .is_some_and(|(_, rest)| rest.trim_start().starts_with('Z'))
}

/// What `/proc` says of `pid`, for a failure message.
fn proc_stat(pid: i32) -> String {
    std::fs::read_to_string(format!("/proc/{pid}/stat")).unwrap_or_else(|e| e.to_string())
}

#[test]
fn connections_are_kept_between_commands_until_closed() {
    let Some(hosts) = support::hosts(1) else {
        return;
    };
    let keep = |cfg: &std::path::Path, extra: &[&str]| {
        hosts.lutf_keeping(30, cfg).args(extra).output().unwrap()
    };
    let status_kept = |cfg: &std::path::Path| {
        let out = keep(cfg, &["status", "--format", "json", "--nodes", "node1"]);
        assert_eq!(out.status.code(), Some(0), "{}", show(&out));
        out
    };
    let out = keep(
        &hosts.ssh_config,
        &["exec", "--nodes", "node1", "--", "true"],
    );
    assert_eq!(out.status.code(), Some(0), "{}", show(&out));
    let first = kept_pid(&status_kept(&hosts.ssh_config)).expect("a kept master");
    assert!(alive(first));
    // The next command uses it.
    let again = kept_pid(&status_kept(&hosts.ssh_config)).unwrap();
    assert_eq!(again, first);
    // Another configuration file, even with the same content, gets a master of its own.
    let other_cfg = hosts.dir.path().join("ssh_config.other");
    std::fs::copy(&hosts.ssh_config, &other_cfg).unwrap();
    let other = kept_pid(&status_kept(&other_cfg)).unwrap();
    assert_ne!(other, first);
    // Closing the node's connections with one configuration leaves the other's.
    let out = keep(&hosts.ssh_config, &["disconnect", "--nodes", "node1"]);
    assert_eq!(out.status.code(), Some(0), "{}", show(&out));
    assert!(
        text(&out.stdout).contains("closed 1 kept ssh connection"),
        "{}",
        show(&out)
    );
    let deadline = Instant::now() + Duration::from_secs(5);
    while alive(first) {
        assert!(
            Instant::now() < deadline,
            "the closed master still runs: {}",
            proc_stat(first)
        );
        std::thread::sleep(Duration::from_millis(20));
    }
    assert!(alive(other));
    let out = keep(&other_cfg, &["disconnect", "--nodes", "node1"]);
    assert_eq!(out.status.code(), Some(0), "{}", show(&out));
    let deadline = Instant::now() + Duration::from_secs(5);
    while alive(other) {
        assert!(
            Instant::now() < deadline,
            "the closed master still runs: {}",
            proc_stat(other)
        );
        std::thread::sleep(Duration::from_millis(20));
    }
    // With --persist 0 nothing is kept.
    let out = hosts
        .lutf()
        .args(["status", "--format", "json", "--nodes", "node1"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(0), "{}", show(&out));
    assert_eq!(kept_pid(&out), None, "{}", show(&out));
}

mod transport {
    use super::support;
    use lutf::transport::ssh::{SshOptions, SshTarget, SshTransport};
    use lutf::transport::{Transport, TransportError};
    use std::sync::Arc;
    use std::time::{Duration, Instant};

    fn options(hosts: &support::TestHosts, keepalive: u64, max_sessions: usize) -> Arc<SshOptions> {
        Arc::new(SshOptions {
            config_file: Some(hosts.ssh_config.clone()),
            keepalive: Duration::from_secs(keepalive),
            connect_timeout: Duration::from_secs(2),
            max_sessions,
            ..SshOptions::default()
        })
    }

    fn transports(hosts: &support::TestHosts, options: Arc<SshOptions>) -> Vec<Arc<SshTransport>> {
        hosts
            .hosts
            .iter()
            .enumerate()
            .map(|(i, h)| {
                Arc::new(SshTransport::new(
                    SshTarget {
                        host: h.name.clone(),
                        user: None,
                        port: None,
                    },
                    hosts.workdir(i),
                    options.clone(),
                ))
            })
            .collect()
    }

    /// Runs `command` on every transport at once, harms host 2 half a second in, and
    /// returns host 2's result with the time it took to notice.
    async fn run_and_harm(
        ts: &[Arc<SshTransport>],
        command: &'static str,
        harm: impl FnOnce(),
    ) -> (Result<lutf::transport::RawReply, TransportError>, Duration) {
        for t in ts {
            t.connect().await.unwrap();
        }
        let mut calls: Vec<_> = ts
            .iter()
            .map(|t| {
                let t = t.clone();
                tokio::spawn(async move { t.run(command, b"").await })
            })
            .collect();
        tokio::time::sleep(Duration::from_millis(500)).await;
        harm();
        let harmed = Instant::now();
        let r = calls.remove(1).await.unwrap();
        (r, harmed.elapsed())
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn a_killed_host_is_lost_mid_call_with_ssh_words_and_the_others_finish() {
        let Some(mut hosts) = support::hosts(3) else {
            return;
        };
        let ts = transports(&hosts, options(&hosts, 1, 8));
        for t in &ts {
            t.connect().await.unwrap();
        }
        let calls: Vec<_> = ts
            .iter()
            .map(|t| {
                let t = t.clone();
                tokio::spawn(async move { t.run("sleep 2; echo done", b"").await })
            })
            .collect();
        tokio::time::sleep(Duration::from_millis(500)).await;
        hosts.kill_host(1);
        let mut results = Vec::new();
        for c in calls {
            results.push(c.await.unwrap());
        }
        match &results[1] {
            Err(TransportError::Unreachable(why)) => {
                assert!(why.contains("closed by remote host"), "{why}")
            }
            other => panic!("node2 should be lost: {other:?}"),
        }
        for i in [0, 2] {
            let r = results[i].as_ref().unwrap();
            assert_eq!(
                (r.exit_code, r.stdout.as_slice()),
                (Some(0), &b"done\n"[..])
            );
        }
        // Calls to the lost node fail fast (it is gone), the others still work.
        let again = ts[1].run("true", b"").await;
        assert!(
            matches!(again, Err(TransportError::Unreachable(_))),
            "{again:?}"
        );
        assert_eq!(ts[0].run("echo ok", b"").await.unwrap().stdout, b"ok\n");
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn a_cut_off_host_is_lost_within_the_keepalive_bound() {
        let Some(hosts) = support::netns_hosts(2) else {
            return;
        };
        let options = options(&hosts, 1, 8);
        let bound = options.loss_bound();
        let ts = transports(&hosts, options);
        let (result, noticed) = run_and_harm(&ts, "sleep 30", || hosts.cut(1)).await;
        match &result {
            Err(TransportError::Unreachable(why)) => {
                assert!(why.contains("not responding"), "{why}")
            }
            other => panic!("node2 should be lost: {other:?}"),
        }
        // Within the bound, with slack for a loaded machine.
        assert!(
            noticed < bound + Duration::from_secs(5),
            "noticed after {noticed:?}"
        );
        assert_eq!(ts[0].run("echo ok", b"").await.unwrap().stdout, b"ok\n");
        hosts.restore(1);
        // Back on the network: the next call reconnects.
        assert_eq!(ts[1].run("echo back", b"").await.unwrap().stdout, b"back\n");
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn a_restarted_sshd_is_reconnected_to() {
        let Some(mut hosts) = support::hosts(1) else {
            return;
        };
        let ts = transports(&hosts, options(&hosts, 1, 8));
        assert_eq!(ts[0].run("echo one", b"").await.unwrap().stdout, b"one\n");
        hosts.kill_host(0);
        hosts.start_sshd(0);
        hosts.wait_listening(0);
        // The old master may still be noticing; the call must not fail because of it.
        tokio::time::sleep(Duration::from_millis(200)).await;
        let r = ts[0].run("echo two", b"").await;
        assert_eq!(r.unwrap().stdout, b"two\n");
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn calls_beyond_max_sessions_wait_their_turn() {
        let Some(hosts) = support::hosts(1) else {
            return;
        };
        let ts = transports(&hosts, options(&hosts, 5, 3));
        let dir = format!("/tmp/lutf-sessions-{}", std::process::id());
        ts[0]
            .run(&format!("rm -rf {dir}; mkdir {dir}"), b"")
            .await
            .unwrap();
        // Each call counts the calls running beside it.
        let script: &'static str = Box::leak(
            format!("touch {dir}/$$; sleep 0.3; ls {dir} | wc -l; rm {dir}/$$").into_boxed_str(),
        );
        let calls: Vec<_> = (0..12)
            .map(|_| {
                let t = ts[0].clone();
                tokio::spawn(async move { t.run(script, b"").await })
            })
            .collect();
        let mut most = 0;
        for c in calls {
            let r = c.await.unwrap().unwrap();
            assert_eq!(
                r.exit_code,
                Some(0),
                "{}",
                String::from_utf8_lossy(&r.stderr)
            );
            let n: usize = String::from_utf8_lossy(&r.stdout).trim().parse().unwrap();
            most = most.max(n);
        }
        assert!((1..=3).contains(&most), "{most} calls ran at once");
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn more_calls_than_sshd_sessions_all_succeed() {
        let Some(hosts) = support::hosts(1) else {
            return;
        };
        // sshd allows 10 sessions per connection; 8 in flight, the rest queued.
        let ts = transports(&hosts, options(&hosts, 5, 8));
        let calls: Vec<_> = (0..30)
            .map(|i| {
                let t = ts[0].clone();
                tokio::spawn(async move {
                    let cmd = format!("sleep 0.2; echo {i}");
                    t.run(&cmd, b"").await
                })
            })
            .collect();
        for (i, c) in calls.into_iter().enumerate() {
            let r = c.await.unwrap().unwrap();
            assert_eq!(r.stdout, format!("{i}\n").into_bytes());
        }
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn stdin_and_output_pass_unchanged() {
        let Some(hosts) = support::hosts(1) else {
            return;
        };
        let ts = transports(&hosts, options(&hosts, 5, 8));
        let input: Vec<u8> = (0..=255u8).cycle().take(3 << 20).collect();
        let r = ts[0]
            .run("cat; echo err >&2; exit 7", &input)
            .await
            .unwrap();
        assert_eq!(r.exit_code, Some(7));
        assert!(
            r.stdout == input,
            "3 MiB of every byte value come back as sent"
        );
        // (Ends with: a user's rc files may talk on stderr first, as pyenv's do.)
        assert!(
            r.stderr.ends_with(b"err\n"),
            "{}",
            String::from_utf8_lossy(&r.stderr)
        );
        // Too much stderr is cut, and drained so the command does not block on it.
        let r = ts[0]
            .run("head -c 3000000 /dev/zero >&2; echo ok", b"")
            .await
            .unwrap();
        assert_eq!(r.stdout, b"ok\n");
        assert_eq!(r.stderr.len(), lutf::transport::MAX_STDERR);
        let r = ts[0].run("kill -9 $$", b"").await.unwrap();
        assert_eq!(
            r.exit_code, None,
            "killed by a signal: no exit code, node not lost"
        );
        let r = ts[0].run("no-such-command-lutf", b"").await.unwrap();
        assert_eq!(r.exit_code, Some(127));
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn deploy_pushes_once_and_helper_calls_answer() {
        let Some(hosts) = support::hosts(1) else {
            return;
        };
        let ts = transports(&hosts, options(&hosts, 5, 8));
        let node = lutf::node::Node::new("node1", vec![], ts[0].clone() as Arc<dyn Transport>);
        let bundle = lutf::bundle::Bundle::new(&[]).unwrap();
        let d = node.deploy(&bundle).await.unwrap();
        assert!(d.bytes_sent > bundle.size(), "{d:?}");
        let want = hosts
            .workdir(0)
            .unwrap_or(format!("/tmp/lutf-{}", hosts.user));
        assert_eq!(ts[0].workdir(), want);
        assert!(d.dir.ends_with(bundle.id()));
        let hello: lutf::protocol::Hello = node.call(lutf::protocol::Op::Hello).await.unwrap();
        assert_eq!(hello.protocol_version, lutf::protocol::PROTOCOL_VERSION);
        let d = node.deploy(&bundle).await.unwrap();
        assert_eq!(d.bytes_sent, 0);
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn disconnect_ends_calls_in_flight_and_the_next_call_reconnects() {
        let Some(hosts) = support::hosts(1) else {
            return;
        };
        let ts = transports(&hosts, options(&hosts, 5, 8));
        ts[0].connect().await.unwrap();
        let t = ts[0].clone();
        let call = tokio::spawn(async move { t.run("sleep 30", b"").await });
        tokio::time::sleep(Duration::from_millis(300)).await;
        let start = Instant::now();
        ts[0].disconnect().await;
        let r = call.await.unwrap();
        assert!(matches!(r, Err(TransportError::Unreachable(_))), "{r:?}");
        // Generous: proves the call did not wait for its command.
        assert!(start.elapsed() < Duration::from_secs(10));
        assert_eq!(
            ts[0].run("echo again", b"").await.unwrap().stdout,
            b"again\n"
        );
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn an_endless_reply_is_cut_at_the_limit_and_the_connection_serves_on() {
        use lutf::bundle::{Bundle, BundleFile, HELPER_NAME};
        let Some(hosts) = support::hosts(1) else {
            return;
        };
        let ts = transports(&hosts, options(&hosts, 5, 8));
        // A node whose helper is broken: it never stops writing.
        let marker = format!("endless-{}", std::process::id());
        let bundle = Bundle::from_files(vec![BundleFile {
            path: HELPER_NAME.into(),
            mode: 0o755,
            data: format!("#!/bin/sh\nexec yes 'version: 1 {marker}'\n")
                .into_bytes()
                .into(),
        }]);
        ts[0].deploy(&bundle).await.unwrap();
        let start = Instant::now();
        let e = ts[0].call(b"version: 1\nop: hello\n", 4 << 20).await;
        // Did-not-hang bound: it stops at 4 MiB.
        assert!(start.elapsed() < Duration::from_secs(30));
        assert!(
            matches!(e, Err(TransportError::ReplyTooLarge { limit }) if limit == 4 << 20),
            "{e:?}"
        );
        // The channel went, not the connection; and the writer went with the channel.
        assert_eq!(ts[0].run("echo ok", b"").await.unwrap().stdout, b"ok\n");
        let deadline = Instant::now() + Duration::from_secs(10);
        while !super::processes_mentioning(&marker).is_empty() {
            // Did-not-hang bound: sshd closes the session, `yes` gets EPIPE.
            assert!(Instant::now() < deadline, "the endless writer lives on");
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    }

    #[tokio::test]
    async fn calls_before_deploy_are_refused() {
        let t = SshTransport::new(
            SshTarget {
                host: "node1".into(),
                user: None,
                port: None,
            },
            None,
            Arc::new(SshOptions::default()),
        );
        assert!(matches!(
            t.call(b"", lutf::protocol::MAX_REPLY_BYTES).await,
            Err(TransportError::NotDeployed)
        ));
    }
}

/// For trying things by hand: `LUTF_HOSTS=4 cargo test --test ssh -- --ignored
/// hosts_for_a_while --nocapture` keeps hosts up for `LUTF_HOLD` seconds (default 600) or
/// until the file `stop` appears in their folder, and prints how to reach them.
#[test]
#[ignore = "manual: keeps test hosts up for experiments"]
fn hosts_for_a_while() {
    let n = std::env::var("LUTF_HOSTS")
        .ok()
        .and_then(|n| n.parse().ok())
        .unwrap_or(3);
    let Some(hosts) = support::hosts(n) else {
        return;
    };
    println!(
        "hosts up: --ssh-config {} --cluster {}\nstop: touch {}",
        hosts.ssh_config.display(),
        hosts.cluster_file.display(),
        hosts.dir.path().join("stop").display()
    );
    let _ = std::io::stdout().flush();
    let hold = std::env::var("LUTF_HOLD")
        .ok()
        .and_then(|n| n.parse().ok())
        .unwrap_or(600);
    let until = Instant::now() + Duration::from_secs(hold);
    while Instant::now() < until && !hosts.dir.path().join("stop").exists() {
        std::thread::sleep(Duration::from_millis(200));
    }
}

#[test]
fn test_hosts_are_separate_machines() {
    let Some(hosts) = support::netns_hosts(2) else {
        return;
    };
    for (i, h) in hosts.hosts.iter().enumerate() {
        let out = hosts.on_host(
            i,
            "hostname; ip -4 -o addr show eth0; echo x > /tmp/mine; ls /tmp",
        );
        let t = text(&out.stdout);
        assert!(t.starts_with(&format!("{}\n", h.name)), "{}", show(&out));
        assert!(t.contains(&format!("{}/24", h.addr)), "{}", show(&out));
        assert!(h.tmp.join("mine").exists(), "its /tmp is its own folder");
    }
    // Over SSH too: the login lands in the host's namespaces.
    let out = hosts
        .ssh(1)
        .arg("hostname; cat /tmp/mine")
        .output()
        .unwrap();
    assert_eq!(text(&out.stdout), "node2\nx\n", "{}", show(&out));
}
