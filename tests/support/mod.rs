//! Real test hosts for integration tests and benchmarks: each host is a real `sshd` with
//! generated keys and no password.
//!
//! As root, each host has its own network namespace with an address on a private bridge
//! (`198.18.<set>.0/24`, inside the 198.18.0.0/15 benchmarking range, one /24 per set of
//! hosts so parallel tests never share one), its own private `/tmp` (a per-host folder bound
//! over `/tmp` in the host's mount namespace) and its own `sshd`. Hosts can be killed
//! (every process in the namespace) and cut off (link down) and restored. Without root,
//! hosts are several `sshd` on 127.0.0.1 ports sharing this machine's `/tmp` (so each node
//! gets its own work directory instead, see [`TestHosts::workdir`]), and tests that need
//! namespaces skip with the reason. `LUTF_TEST_LOOPBACK=1` asks for loopback hosts
//! even as root.
//!
//! Everything is torn down on drop (sshd killed, namespaces, links and bridge deleted, keys
//! removed), also when a test panics; every sshd also gets a parent-death signal, and a set
//! left by a killed test process is recognised by its bridge's alias and cleaned by the
//! next one. The client side is a generated ssh_config (`Host nodeN` aliases, the client
//! key, a private known_hosts); pass it as `--ssh-config`.

#![allow(dead_code)]

use std::fmt::Write as _;
use std::net::{SocketAddr, TcpStream};
use std::os::unix::fs::PermissionsExt;
use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

/// The `lutf` binary under test.
pub fn lutf_bin() -> &'static str {
    env!("CARGO_BIN_EXE_lutf")
}

const SSHD: &str = "/usr/sbin/sshd";

/// Whether this process runs as root (namespaces need it).
pub fn is_root() -> bool {
    // SAFETY: geteuid has no preconditions and cannot fail.
    unsafe { libc::geteuid() == 0 }
}

/// Why real hosts cannot be started here, if they cannot.
pub fn missing_tools() -> Option<String> {
    for (tool, package) in [
        (SSHD, "openssh-server"),
        ("/usr/bin/ssh", "openssh-client"),
        ("/usr/bin/ssh-keygen", "openssh-client"),
    ] {
        if !Path::new(tool).exists() {
            return Some(format!(
                "{tool} is missing (install {package}: scripts/install-deps test)"
            ));
        }
    }
    if which("python3").is_none() {
        return Some("python3 is missing".into());
    }
    None
}

fn which(program: &str) -> Option<PathBuf> {
    std::env::var_os("PATH").and_then(|paths| {
        std::env::split_paths(&paths)
            .map(|p| p.join(program))
            .find(|p| p.is_file())
    })
}

/// How the hosts are isolated.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Mode {
    /// One network namespace per host on bridge `lutfb<set>`, subnet `198.18.<set>.0/24`.
    Netns {
        /// The set's number (third octet).
        set: u8,
    },
    /// Several sshd on 127.0.0.1.
    Loopback,
}

/// One test host.
#[derive(Debug)]
pub struct TestHost {
    /// Its name: a `Host` alias in [`TestHosts::ssh_config`].
    pub name: String,
    /// Its address.
    pub addr: String,
    /// Its sshd port.
    pub port: u16,
    /// Its network namespace (netns mode).
    pub netns: Option<String>,
    /// The host end of its link, in the root namespace (netns mode).
    pub link: Option<String>,
    /// Its private temporary folder, seen from here (netns mode: bound over the host's
    /// `/tmp`; loopback: a folder of its own).
    pub tmp: PathBuf,
    /// The same folder as the host sees it (`/tmp` in netns mode).
    pub node_tmp: PathBuf,
    /// Its own folder: keys, sshd log and pid file.
    pub dir: PathBuf,
    /// Its user's home (netns mode: an empty folder bound over `$HOME`).
    pub home: PathBuf,
    /// Its host public key (`ssh-ed25519 AAAA...`).
    pub host_key: String,
    sshd: Option<Child>,
}

/// A set of running test hosts, torn down on drop.
#[derive(Debug)]
pub struct TestHosts {
    /// The hosts.
    pub hosts: Vec<TestHost>,
    /// How they are isolated.
    pub mode: Mode,
    /// Temporary folder with keys and configuration (removed on drop).
    pub dir: tempfile::TempDir,
    /// The client's ssh_config (`--ssh-config`).
    pub ssh_config: PathBuf,
    /// The client's known_hosts (starts empty).
    pub known_hosts: PathBuf,
    /// A cluster file naming every host.
    pub cluster_file: PathBuf,
    /// The user the hosts let in.
    pub user: String,
    bridge: Option<String>,
}

static SERIAL: AtomicUsize = AtomicUsize::new(0);

/// Starts `n` hosts, or says why it cannot and returns `None` (the caller skips).
pub fn hosts(n: usize) -> Option<TestHosts> {
    if let Some(why) = missing_tools() {
        eprintln!("SKIP: no real sshd hosts: {why}");
        return None;
    }
    Some(TestHosts::start(n))
}

/// Starts `n` hosts in network namespaces, or says why not and returns `None`.
pub fn netns_hosts(n: usize) -> Option<TestHosts> {
    if let Err(why) = netns_usable() {
        eprintln!("SKIP: needs network namespaces: {why}");
        return None;
    }
    hosts(n)
}

/// Whether hosts can have network namespaces here (root, `ip`, `unshare`, `nsenter`, and a
/// kernel that lets us make one), else why not. Probed once per process.
pub fn netns_usable() -> Result<(), String> {
    static PROBE: std::sync::OnceLock<Result<(), String>> = std::sync::OnceLock::new();
    PROBE
        .get_or_init(|| {
            if std::env::var_os("LUTF_TEST_LOOPBACK").is_some() {
                return Err("LUTF_TEST_LOOPBACK is set".into());
            }
            if !is_root() {
                return Err("not root".into());
            }
            for tool in ["ip", "unshare", "nsenter", "mount"] {
                if which(tool).is_none() {
                    return Err(format!("{tool} is missing"));
                }
            }
            let probe = format!("lutf-probe-{}", std::process::id());
            let out = ip(&["netns", "add", &probe]);
            if !out.status.success() {
                return Err(format!(
                    "`ip netns add` failed: {}",
                    String::from_utf8_lossy(&out.stderr).trim()
                ));
            }
            ip(&["netns", "del", &probe]);
            Ok(())
        })
        .clone()
}

fn run(cmd: &mut Command) -> Output {
    let out = cmd
        .output()
        .unwrap_or_else(|e| panic!("cannot run {cmd:?}: {e}"));
    out
}

fn must(cmd: &mut Command) {
    let out = run(cmd);
    assert!(
        out.status.success(),
        "{cmd:?} failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
}

fn ip(args: &[&str]) -> Output {
    run(Command::new("ip").args(args))
}

fn ip_ok(args: &[&str]) {
    must(Command::new("ip").args(args));
}

fn keygen(path: &Path) -> String {
    must(
        Command::new("ssh-keygen")
            .args(["-q", "-t", "ed25519", "-N", "", "-C", "lutf-test", "-f"])
            .arg(path),
    );
    std::fs::read_to_string(path.with_extension("pub"))
        .unwrap()
        .trim()
        .to_string()
}

fn pid_alive(pid: i32) -> bool {
    // SAFETY: signal 0 only checks that the process exists.
    unsafe { libc::kill(pid, 0) == 0 || *libc::__errno_location() == libc::EPERM }
}

/// Every process in network namespace `ns`.
fn netns_pids(ns: &str) -> Vec<i32> {
    let out = ip(&["netns", "pids", ns]);
    String::from_utf8_lossy(&out.stdout)
        .split_whitespace()
        .filter_map(|p| p.parse().ok())
        .collect()
}

/// Kills every process of `ns` until none is left (new ones may be forked meanwhile).
fn kill_netns(ns: &str) {
    for _ in 0..50 {
        let pids = netns_pids(ns);
        if pids.is_empty() {
            return;
        }
        for p in pids {
            // SAFETY: kill has no memory-safety preconditions.
            unsafe { libc::kill(p, libc::SIGKILL) };
        }
        std::thread::sleep(Duration::from_millis(10));
    }
}

/// Removes a set of hosts left behind by a test process that died: its namespaces and
/// bridge.
fn remove_set(set: u8) {
    let prefix = format!("lutf{set}h");
    let list = ip(&["netns", "list"]);
    for line in String::from_utf8_lossy(&list.stdout).lines() {
        let ns = line.split_whitespace().next().unwrap_or("");
        if ns.starts_with(&prefix) {
            kill_netns(ns);
            ip(&["netns", "del", ns]);
        }
    }
    ip(&["link", "del", &format!("lutfb{set}")]);
}

/// The process that owns set `set` (from its bridge's alias), if the bridge exists.
fn set_owner(set: u8) -> Option<i32> {
    let show = ip(&["-o", "link", "show", "dev", &format!("lutfb{set}")]);
    let text = String::from_utf8_lossy(&show.stdout);
    text.split("alias lutf-test:")
        .nth(1)
        .and_then(|s| s.split_whitespace().next())
        .and_then(|p| p.parse::<i32>().ok())
}

/// Removes every set whose test process is gone (killed before it could tear down).
fn remove_dead_sets() {
    let out = ip(&["-o", "link", "show", "type", "bridge"]);
    for line in String::from_utf8_lossy(&out.stdout).lines() {
        let Some(name) = line.split(": ").nth(1) else {
            continue;
        };
        let Some(set) = name
            .strip_prefix("lutfb")
            .and_then(|n| n.parse::<u8>().ok())
        else {
            continue;
        };
        if set_owner(set).is_some_and(|pid| !pid_alive(pid)) {
            remove_set(set);
        }
    }
}

/// Claims a free set number by creating its bridge (creation is atomic across processes).
fn claim_set() -> u8 {
    remove_dead_sets();
    let me = std::process::id();
    let start = (me as usize * 7 + SERIAL.fetch_add(1, Ordering::Relaxed) * 13) % 254;
    for k in 0..254 {
        let set = ((start + k) % 254 + 1) as u8;
        let bridge = format!("lutfb{set}");
        let added = ip(&["link", "add", &bridge, "type", "bridge"]);
        if added.status.success() {
            ip_ok(&[
                "link",
                "set",
                "dev",
                &bridge,
                "alias",
                &format!("lutf-test:{me}"),
            ]);
            return set;
        }
        // Taken: by a live test process, or left by a dead one (then clean and take it).
        if let Some(pid) = set_owner(set) {
            if pid != me as i32 && !pid_alive(pid) {
                remove_set(set);
                if ip(&["link", "add", &bridge, "type", "bridge"])
                    .status
                    .success()
                {
                    ip_ok(&[
                        "link",
                        "set",
                        "dev",
                        &bridge,
                        "alias",
                        &format!("lutf-test:{me}"),
                    ]);
                    return set;
                }
            }
        }
    }
    panic!("no free test host set (bridges lutfb1..lutfb254 are all in use)");
}

/// This user's home as sshd sees it (the password database, not `$HOME`).
pub fn user_home() -> PathBuf {
    // SAFETY: getpwuid returns a pointer to static storage or null; read at once.
    unsafe {
        let pw = libc::getpwuid(libc::geteuid());
        if pw.is_null() || (*pw).pw_dir.is_null() {
            return PathBuf::from("/");
        }
        let dir = std::ffi::CStr::from_ptr((*pw).pw_dir);
        PathBuf::from(std::ffi::OsStr::from_encoded_bytes_unchecked(
            dir.to_bytes(),
        ))
    }
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

impl TestHosts {
    /// Starts `n` hosts (namespaces as root, loopback otherwise). Panics with the reason
    /// when a host does not come up.
    pub fn start(n: usize) -> TestHosts {
        let loopback = match netns_usable() {
            Ok(()) => false,
            Err(why) => {
                eprintln!("test hosts on loopback, not in namespaces: {why}");
                true
            }
        };
        // Not under /tmp: inside a host's namespace /tmp is the host's own, and sshd must
        // still see its keys there. A checkout under /tmp (as CI may have) uses /var/tmp.
        let base = Path::new(env!("CARGO_TARGET_TMPDIR"));
        let base = if base.starts_with("/tmp") {
            Path::new("/var/tmp")
        } else {
            base
        };
        let dir = tempfile::Builder::new()
            .prefix("lutf-hosts-")
            .tempdir_in(base)
            .unwrap();
        let user = if is_root() {
            "root".to_string()
        } else {
            std::env::var("USER").unwrap_or_else(|_| "nobody".into())
        };
        let client_key = dir.path().join("client_key");
        let client_pub = keygen(&client_key);
        let authorized = dir.path().join("authorized_keys");
        std::fs::write(&authorized, format!("{client_pub}\n")).unwrap();
        let known_hosts = dir.path().join("known_hosts");
        std::fs::write(&known_hosts, "").unwrap();
        if !loopback {
            // sshd's privilege separation folder; Debian makes it at boot, a container may not.
            let _ = std::fs::create_dir_all("/run/sshd");
        }
        let mode = if loopback {
            Mode::Loopback
        } else {
            Mode::Netns { set: claim_set() }
        };
        let mut set = TestHosts {
            hosts: Vec::new(),
            mode: mode.clone(),
            ssh_config: dir.path().join("ssh_config"),
            cluster_file: dir.path().join("cluster.yml"),
            known_hosts,
            user,
            bridge: None,
            dir,
        };
        if let Mode::Netns { set: s } = mode {
            let bridge = format!("lutfb{s}");
            ip_ok(&["addr", "add", &format!("198.18.{s}.1/24"), "dev", &bridge]);
            ip_ok(&["link", "set", "dev", &bridge, "up"]);
            set.bridge = Some(bridge);
        }
        for i in 1..=n {
            let host = set.make_host(i, &authorized);
            set.hosts.push(host);
        }
        for i in 0..n {
            set.start_sshd(i);
        }
        for i in 0..n {
            set.wait_listening(i);
        }
        set.write_client_files(&client_key);
        set
    }

    fn make_host(&self, i: usize, authorized: &Path) -> TestHost {
        let name = format!("node{i}");
        let dir = self.dir.path().join(&name);
        std::fs::create_dir(&dir).unwrap();
        let host_key = keygen(&dir.join("host_key"));
        std::fs::write(
            dir.join("authorized_keys"),
            std::fs::read(authorized).unwrap(),
        )
        .unwrap();
        match self.mode {
            Mode::Netns { set } => {
                let ns = format!("lutf{set}h{i}");
                let link = format!("lv{set}h{i}");
                let addr = format!("198.18.{set}.{}", 9 + i);
                let tmp = dir.join("tmp");
                std::fs::create_dir(&tmp).unwrap();
                std::fs::set_permissions(&tmp, std::fs::Permissions::from_mode(0o1777)).unwrap();
                let home = dir.join("home");
                std::fs::create_dir(&home).unwrap();
                std::fs::set_permissions(&home, std::fs::Permissions::from_mode(0o700)).unwrap();
                ip_ok(&["netns", "add", &ns]);
                ip_ok(&[
                    "link", "add", &link, "type", "veth", "peer", "name", "eth0", "netns", &ns,
                ]);
                ip_ok(&[
                    "link",
                    "set",
                    "dev",
                    &link,
                    "master",
                    self.bridge.as_ref().unwrap(),
                ]);
                ip_ok(&["link", "set", "dev", &link, "up"]);
                ip_ok(&[
                    "-n",
                    &ns,
                    "addr",
                    "add",
                    &format!("{addr}/24"),
                    "dev",
                    "eth0",
                ]);
                ip_ok(&["-n", &ns, "link", "set", "dev", "eth0", "up"]);
                ip_ok(&["-n", &ns, "link", "set", "dev", "lo", "up"]);
                TestHost {
                    name,
                    addr,
                    port: 22,
                    netns: Some(ns),
                    link: Some(link),
                    tmp,
                    node_tmp: PathBuf::from("/tmp"),
                    home,
                    dir,
                    host_key,
                    sshd: None,
                }
            }
            Mode::Loopback => TestHost {
                name,
                addr: "127.0.0.1".into(),
                port: free_port(),
                netns: None,
                link: None,
                node_tmp: dir.join("tmp"),
                tmp: {
                    let tmp = dir.join("tmp");
                    std::fs::create_dir(&tmp).unwrap();
                    std::fs::set_permissions(&tmp, std::fs::Permissions::from_mode(0o1777))
                        .unwrap();
                    tmp
                },
                home: user_home(),
                dir,
                host_key,
                sshd: None,
            },
        }
    }

    /// Starts (or restarts) host `i`'s sshd.
    pub fn start_sshd(&mut self, i: usize) {
        let h = &self.hosts[i];
        let options = [
            format!("ListenAddress={}:{}", h.addr, h.port),
            format!("HostKey={}", h.dir.join("host_key").display()),
            format!("PidFile={}", h.dir.join("sshd.pid").display()),
            format!(
                "AuthorizedKeysFile={}",
                h.dir.join("authorized_keys").display()
            ),
            "StrictModes=no".into(),
            "UsePAM=no".into(),
            "PermitRootLogin=prohibit-password".into(),
            "PasswordAuthentication=no".into(),
            "KbdInteractiveAuthentication=no".into(),
            "PubkeyAuthentication=yes".into(),
            "UseDNS=no".into(),
            "PrintMotd=no".into(),
            "MaxStartups=100".into(),
            "LogLevel=INFO".into(),
        ];
        let mut sshd_args: Vec<String> = vec![SSHD.into(), "-D".into(), "-e".into()];
        sshd_args.extend(["-f".into(), "/dev/null".into()]);
        for o in options {
            sshd_args.push("-o".into());
            sshd_args.push(o);
        }
        let mut cmd = match &h.netns {
            Some(ns) => {
                // `ip netns exec` gives a private mount namespace: bind the host's own /tmp
                // and an empty home there (a fresh node's home; this machine's rc files may
                // be slow, like pyenv's); `unshare --uts` gives it its own host name.
                let mut c = Command::new("ip");
                c.args(["netns", "exec", ns, "unshare", "--uts", "--", "sh", "-c"])
                    .arg(
                        r#"hostname "$3" && mount --bind "$0" /tmp && mount --bind "$1" "$2" && shift 3 && exec "$@""#,
                    )
                    .arg(&h.tmp)
                    .arg(&h.home)
                    .arg(user_home())
                    .arg(&h.name)
                    .args(&sshd_args);
                c
            }
            None => {
                let mut c = Command::new(&sshd_args[0]);
                c.args(&sshd_args[1..]);
                c
            }
        };
        let log = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(h.dir.join("sshd.log"))
            .unwrap();
        cmd.stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::from(log));
        // SAFETY: only async-signal-safe calls between fork and exec.
        unsafe {
            cmd.pre_exec(|| {
                // Gone with the test process, however it ends.
                libc::prctl(libc::PR_SET_PDEATHSIG, libc::SIGKILL);
                Ok(())
            });
        }
        let child = cmd.spawn().expect("start sshd");
        self.hosts[i].sshd = Some(child);
    }

    /// Waits until host `i`'s sshd accepts connections.
    pub fn wait_listening(&mut self, i: usize) {
        let h = &mut self.hosts[i];
        let addr: SocketAddr = format!("{}:{}", h.addr, h.port).parse().unwrap();
        let deadline = Instant::now() + Duration::from_secs(10);
        loop {
            if TcpStream::connect_timeout(&addr, Duration::from_millis(200)).is_ok() {
                return;
            }
            if let Some(Ok(Some(status))) = h.sshd.as_mut().map(|c| c.try_wait()) {
                panic!(
                    "sshd of {} exited ({status}): {}",
                    h.name,
                    std::fs::read_to_string(h.dir.join("sshd.log")).unwrap_or_default()
                );
            }
            assert!(
                Instant::now() < deadline,
                "sshd of {} does not listen on {addr}: {}",
                h.name,
                std::fs::read_to_string(h.dir.join("sshd.log")).unwrap_or_default()
            );
            std::thread::sleep(Duration::from_millis(5));
        }
    }

    fn write_client_files(&self, client_key: &Path) {
        let mut cfg = String::new();
        for h in &self.hosts {
            writeln!(
                cfg,
                "Host {}\n  HostName {}\n  Port {}",
                h.name, h.addr, h.port
            )
            .unwrap();
            if self.mode == Mode::Loopback {
                // Every loopback host has the same address: tell their keys apart by name.
                writeln!(cfg, "  HostKeyAlias {}", h.name).unwrap();
            }
        }
        writeln!(
            cfg,
            "Host *\n  User {}\n  IdentityFile {}\n  IdentitiesOnly yes\n  IdentityAgent none\n  \
             UserKnownHostsFile {}\n  GlobalKnownHostsFile /dev/null\n  LogLevel ERROR",
            self.user,
            client_key.display(),
            self.known_hosts.display()
        )
        .unwrap();
        std::fs::write(&self.ssh_config, cfg).unwrap();
        std::fs::write(&self.cluster_file, self.cluster_yaml()).unwrap();
    }

    /// A cluster file naming every host (with its own work directory in loopback mode).
    pub fn cluster_yaml(&self) -> String {
        let mut y = String::from("nodes:\n");
        for (i, h) in self.hosts.iter().enumerate() {
            writeln!(y, "  - name: {}", h.name).unwrap();
            if let Some(w) = self.workdir(i) {
                writeln!(y, "    workdir: {w}").unwrap();
            }
        }
        y
    }

    /// The work directory to give node `i`: `None` (the default, `/tmp/lutf-<user>`, in the
    /// host's private `/tmp`) in netns mode; one of its own in loopback mode, where every
    /// host shares this machine's `/tmp`.
    pub fn workdir(&self, i: usize) -> Option<String> {
        match self.mode {
            Mode::Netns { .. } => None,
            Mode::Loopback => Some(format!(
                "{}/lutf-{}",
                self.hosts[i].node_tmp.display(),
                self.user
            )),
        }
    }

    /// Where a path that host `i` sees under its temporary folder is, seen from here.
    pub fn outside(&self, i: usize, node_path: &str) -> PathBuf {
        let h = &self.hosts[i];
        let rel = Path::new(node_path)
            .strip_prefix(&h.node_tmp)
            .unwrap_or_else(|_| panic!("{node_path} is not under {}", h.node_tmp.display()));
        h.tmp.join(rel)
    }

    /// The names of the hosts as a pdsh host list (`node[1-3]`).
    pub fn hostlist(&self) -> String {
        format!("node[1-{}]", self.hosts.len())
    }

    /// The known_hosts line of host `i` (as ssh records it).
    pub fn known_hosts_line(&self, i: usize) -> String {
        let h = &self.hosts[i];
        let key_name = match self.mode {
            Mode::Loopback => h.name.clone(),
            Mode::Netns { .. } => h.addr.clone(),
        };
        format!("{key_name} {}\n", h.host_key)
    }

    /// `lutf` with this set's ssh_config; add the subcommand and more arguments. Its
    /// connections end with it (`--persist 0`): hosts come and go with their tests, and a
    /// test that wants kept connections says so with a later `--persist`.
    pub fn lutf(&self) -> Command {
        let mut c = Command::new(lutf_bin());
        c.arg("--ssh-config").arg(&self.ssh_config);
        c.args(["--persist", "0"]);
        c.env_remove("SSH_AUTH_SOCK");
        c.env_remove("LUTF_LOG");
        c
    }

    /// `lutf` with this set's ssh_config, keeping its connections `secs` seconds after it
    /// ends (`--persist`); add the subcommand and more arguments.
    pub fn lutf_keeping(&self, secs: u64, ssh_config: &Path) -> Command {
        let mut c = Command::new(lutf_bin());
        c.arg("--ssh-config").arg(ssh_config);
        c.args(["--persist", &secs.to_string()]);
        c.env_remove("SSH_AUTH_SOCK");
        c.env_remove("LUTF_LOG");
        c
    }

    /// `lutf run --cluster <the hosts> --suites SUITES ARGS --results <hosts dir>/results`,
    /// run from the hosts' folder.
    pub fn lutf_run(&self, suites: &Path, args: &[&str]) -> Command {
        let mut c = self.lutf();
        c.arg("run")
            .arg("--cluster")
            .arg(&self.cluster_file)
            .arg("--suites")
            .arg(suites)
            .arg("--results")
            .arg(self.results())
            .args(args)
            .current_dir(self.dir.path());
        c
    }

    /// The results folder of [`TestHosts::lutf_run`].
    pub fn results(&self) -> PathBuf {
        self.dir.path().join("results")
    }

    /// Node `i`'s work directory, seen from here.
    pub fn node_workdir(&self, i: usize) -> PathBuf {
        match self.workdir(i) {
            Some(w) => PathBuf::from(w),
            None => self.hosts[i].tmp.join(format!("lutf-{}", self.user)),
        }
    }

    /// The command lines of host `i`'s processes that lutf started (helper calls, job
    /// supervisors, steps and what they started): netns mode, every process in its
    /// namespace but its sshd and their sessions; loopback mode, the processes whose command
    /// line names the host's own work directory or temporary folder (hosts share this
    /// machine there, so a step's children that name neither are not seen).
    ///
    /// A spare runner (`lutf.runner serve` and its `--spare` supervisor) ends within a second of the connection it was
    /// left for: those are waited for, up to 3 s, before they count.
    pub fn test_processes(&self, i: usize) -> Vec<String> {
        let until = Instant::now() + Duration::from_secs(3);
        loop {
            let found = self.test_processes_now(i);
            let spares_only = found
                .iter()
                .all(|c| c.contains("lutf.runner serve") || c.contains(" --spare "));
            if found.is_empty() || !spares_only || Instant::now() >= until {
                return found;
            }
            std::thread::sleep(Duration::from_millis(100));
        }
    }

    fn test_processes_now(&self, i: usize) -> Vec<String> {
        let h = &self.hosts[i];
        let cmdline = |pid: i32| {
            std::fs::read(format!("/proc/{pid}/cmdline"))
                .map(|b| {
                    String::from_utf8_lossy(&b)
                        .replace('\0', " ")
                        .trim_end()
                        .to_string()
                })
                .unwrap_or_default()
        };
        let pids: Vec<i32> = match &h.netns {
            Some(ns) => netns_pids(ns),
            None => std::fs::read_dir("/proc")
                .map(|d| {
                    d.filter_map(Result::ok)
                        .filter_map(|e| e.file_name().to_string_lossy().parse().ok())
                        .collect()
                })
                .unwrap_or_default(),
        };
        let workdir = self.workdir(i);
        let tmp = h.tmp.display().to_string();
        pids.into_iter()
            .filter(|&p| process_alive(p))
            .map(cmdline)
            .filter(|c| !c.is_empty() && !c.starts_with("sshd") && !c.starts_with(SSHD))
            .filter(|c| match (&h.netns, &workdir) {
                (Some(_), _) => true,
                (None, Some(w)) => c.contains(w.as_str()) || c.contains(&tmp),
                (None, None) => false,
            })
            .collect()
    }

    /// `ssh` to host `i` with this set's ssh_config.
    pub fn ssh(&self, i: usize) -> Command {
        let mut c = Command::new("ssh");
        c.arg("-F")
            .arg(&self.ssh_config)
            .args([
                "-o",
                "BatchMode=yes",
                "-o",
                "StrictHostKeyChecking=accept-new",
            ])
            .arg(&self.hosts[i].name);
        c
    }

    /// Kills every process of host `i` (its sshd, sessions and whatever they started), as a
    /// crash would.
    pub fn kill_host(&mut self, i: usize) {
        let h = &mut self.hosts[i];
        match &h.netns {
            Some(ns) => kill_netns(ns),
            None => {
                if let Some(c) = &h.sshd {
                    kill_tree(c.id() as i32);
                }
            }
        }
        if let Some(mut c) = h.sshd.take() {
            let _ = c.kill();
            let _ = c.wait();
        }
    }

    /// Cuts host `i` off the network (its link goes down): packets are dropped silently.
    /// Panics outside netns mode (check [`TestHosts::mode`] first).
    pub fn cut(&self, i: usize) {
        let link = self.hosts[i]
            .link
            .as_ref()
            .expect("cutting a link needs netns mode");
        ip_ok(&["link", "set", "dev", link, "down"]);
    }

    /// Puts host `i` back on the network.
    pub fn restore(&self, i: usize) {
        let link = self.hosts[i]
            .link
            .as_ref()
            .expect("restoring a link needs netns mode");
        ip_ok(&["link", "set", "dev", link, "up"]);
    }

    /// Runs `sh -c script` on host `i` without SSH: inside its namespaces (those of its
    /// sshd) in netns mode, here in loopback mode.
    pub fn on_host(&self, i: usize, script: &str) -> Output {
        let h = &self.hosts[i];
        match (&h.netns, &h.sshd) {
            (Some(_), Some(sshd)) => run(Command::new("nsenter")
                .args([
                    "-t",
                    &sshd.id().to_string(),
                    "-n",
                    "-m",
                    "-u",
                    "--",
                    "sh",
                    "-c",
                ])
                .arg(script)),
            (Some(_), None) => panic!("host {} is down", h.name),
            (None, _) => run(Command::new("sh").arg("-c").arg(script)),
        }
    }
}

/// The `run.json` of the latest run under `results`.
pub fn run_json(results: &Path) -> lutf::outcome::RunOutcome {
    let path = results.join("latest/run.json");
    let text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    serde_json::from_str(&text).unwrap()
}

/// Test `id` of `run`.
pub fn find_test<'a>(
    run: &'a lutf::outcome::RunOutcome,
    id: &str,
) -> &'a lutf::outcome::TestOutcome {
    run.tests()
        .find(|t| t.id == id)
        .unwrap_or_else(|| panic!("no test {id}"))
}

/// Whether process `pid` exists and is not a zombie.
pub fn process_alive(pid: i32) -> bool {
    std::fs::read_to_string(format!("/proc/{pid}/stat"))
        .ok()
        .and_then(|s| s.rsplit_once(')').map(|(_, r)| r.trim_start().to_string()))
        .is_some_and(|r| !(r.starts_with('Z') || r.starts_with('X')))
}

/// Kills `pid` and its descendants (loopback mode: a host is an sshd process tree).
fn kill_tree(pid: i32) {
    let mut victims = vec![pid];
    let mut k = 0;
    while k < victims.len() {
        let parent = victims[k];
        if let Ok(entries) = std::fs::read_dir("/proc") {
            for e in entries.filter_map(Result::ok) {
                let Ok(child) = e.file_name().to_string_lossy().parse::<i32>() else {
                    continue;
                };
                let stat =
                    std::fs::read_to_string(format!("/proc/{child}/stat")).unwrap_or_default();
                // Fields after the command (which may hold spaces) end with ')'.
                let ppid = stat
                    .rsplit_once(')')
                    .and_then(|(_, rest)| rest.split_whitespace().nth(1))
                    .and_then(|p| p.parse::<i32>().ok());
                if ppid == Some(parent) && !victims.contains(&child) {
                    victims.push(child);
                }
            }
        }
        k += 1;
    }
    for v in victims {
        // SAFETY: kill has no memory-safety preconditions.
        unsafe { libc::kill(v, libc::SIGKILL) };
    }
}

impl Drop for TestHosts {
    fn drop(&mut self) {
        for h in &mut self.hosts {
            match &h.netns {
                Some(ns) => {
                    kill_netns(ns);
                    ip(&["netns", "del", ns]);
                }
                None => {
                    if let Some(c) = &h.sshd {
                        kill_tree(c.id() as i32);
                    }
                }
            }
            if let Some(mut c) = h.sshd.take() {
                let _ = c.kill();
                let _ = c.wait();
            }
            if let Some(link) = &h.link {
                // Gone with the namespace normally; make sure.
                let _ = ip(&["link", "del", link]);
            }
        }
        if let Some(b) = &self.bridge {
            ip(&["link", "del", b]);
        }
    }
}

/// Output of a finished command as text, for assertion messages.
pub fn show(o: &Output) -> String {
    format!(
        "exit {:?}\n--- stdout\n{}--- stderr\n{}",
        o.status.code(),
        String::from_utf8_lossy(&o.stdout),
        String::from_utf8_lossy(&o.stderr)
    )
}

/// The job folders in `jobs` (a work directory's `jobs/`), without the spare runners
/// waiting there (hidden folders, which `jobs` never lists), once the spares have gone:
/// they end within a second of the connection or lutf they were left for, so up to 3 s
/// is waited for them.
pub fn job_folders_after_run(jobs: &Path) -> Vec<PathBuf> {
    let until = Instant::now() + Duration::from_secs(3);
    loop {
        let all: Vec<PathBuf> = std::fs::read_dir(jobs)
            .map(|d| d.flatten().map(|e| e.path()).collect())
            .unwrap_or_default();
        let spare = |p: &PathBuf| {
            p.file_name()
                .is_some_and(|n| n.to_string_lossy().starts_with('.'))
        };
        if !all.iter().any(spare) || Instant::now() >= until {
            return all;
        }
        std::thread::sleep(Duration::from_millis(50));
    }
}
