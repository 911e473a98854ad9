//! SSH for real: lutf against real sshd test hosts (see `support`).

mod support;

use support::show;

#[test]
fn status_lists_every_host_reachable() {
    let Some(hosts) = support::hosts(3) else {
        return;
    };
    let out = hosts
        .lutf()
        .args(["status", "--format", "json", "--cluster"])
        .arg(&hosts.cluster_file)
        .output()
        .unwrap();
    println!("{}", show(&out));
    assert_eq!(out.status.code(), Some(0), "{}", show(&out));
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
    let hold = std::env::var("LUTF_HOLD")
        .ok()
        .and_then(|n| n.parse().ok())
        .unwrap_or(600);
    let until = std::time::Instant::now() + std::time::Duration::from_secs(hold);
    while std::time::Instant::now() < until && !hosts.dir.path().join("stop").exists() {
        std::thread::sleep(std::time::Duration::from_millis(200));
    }
}
