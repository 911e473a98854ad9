//! The command line: every subcommand's arguments, with `--help` text and examples.

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::time::Duration;

use clap::{Args, Parser, Subcommand, ValueEnum};

use crate::transport::ssh::SshOptions;

/// lutf: the LNet Unit Test Framework.
///
/// Runs Python test suites for Lustre's LNet across test nodes over SSH and writes results
/// that auster and Maloo read as their own. Nothing is installed on a node: each command
/// pushes a small static helper and the scripts it needs.
#[derive(Debug, Parser)]
#[command(name = "lutf", version, propagate_version = true)]
#[command(after_help = "Examples:
  lutf run --suite samples              run the samples suite on this machine
  lutf status --nodes onyx-[15-18]vm1   facts of four nodes over SSH
  lutf exec -- uname -r                 run a command on every node")]
pub struct Cli {
    /// What to do.
    #[command(subcommand)]
    pub command: Command,

    /// Options shared by every command.
    #[command(flatten)]
    pub global: Global,
}

/// Options every command takes.
#[derive(Debug, Args, Clone)]
pub struct Global {
    /// Cluster description (YAML with `nodes:`). Default: this machine only.
    #[arg(long, global = true, value_name = "FILE")]
    pub cluster: Option<PathBuf>,

    /// Nodes as a pdsh host list, for example `onyx-[15-18]vm1,host7`: the names are the
    /// hosts; `local` is this machine without SSH. With `--cluster`, picks nodes of the file
    /// by name.
    #[arg(long, global = true, value_name = "LIST")]
    pub nodes: Option<String>,

    /// Work directory on the nodes (default `/tmp/lutf-<user>`).
    #[arg(long, global = true, value_name = "DIR")]
    pub workdir: Option<PathBuf>,

    /// The suites folder. Default: `./suites`, else the suites installed beside the
    /// binary (`<bin>/../share/lutf/suites`, then `<bin>/suites`).
    #[arg(long, global = true, value_name = "DIR")]
    pub suites: Option<PathBuf>,

    /// ssh configuration file to use instead of `~/.ssh/config` (`ssh -F`).
    #[arg(long, global = true, value_name = "FILE", help_heading = "SSH")]
    pub ssh_config: Option<PathBuf>,

    /// Refuse nodes whose host key is not in known_hosts yet (by default it is recorded on
    /// first use). A changed host key is always refused.
    #[arg(long, global = true, help_heading = "SSH")]
    pub strict_host_keys: bool,

    /// Seconds a node may take to accept the SSH connection.
    #[arg(long, global = true, value_name = "SECS", default_value_t = 10, help_heading = "SSH",
          value_parser = clap::value_parser!(u64).range(1..=3600))]
    pub connect_timeout: u64,

    /// Seconds between SSH keepalives; a node silent for three of them is lost (15 s by
    /// default).
    #[arg(long, global = true, value_name = "SECS", default_value_t = 5, help_heading = "SSH",
          value_parser = clap::value_parser!(u64).range(1..=3600))]
    pub keepalive: u64,

    /// Most helper calls in flight on one node; more wait their turn (sshd allows 10
    /// sessions per connection by default).
    #[arg(long, global = true, value_name = "N", default_value_t = 8, help_heading = "SSH",
          value_parser = clap::value_parser!(u64).range(1..=64))]
    pub max_sessions: u64,

    /// Seconds each node's SSH connection stays open after this command (while no call uses
    /// it), for the next lutf command to the same node to use, as Ansible keeps its
    /// ControlMaster; 0: close it when lutf ends. `lutf run` and `lutf auster` never keep
    /// theirs. `lutf status` shows it, `lutf disconnect` closes it.
    #[arg(long, global = true, value_name = "SECS", default_value_t = 60, help_heading = "SSH",
          value_parser = clap::value_parser!(u64).range(0..=86400))]
    pub persist: u64,

    /// More output (repeat for more).
    #[arg(short, long, global = true, action = clap::ArgAction::Count)]
    pub verbose: u8,

    /// Only the summary.
    #[arg(short, long, global = true, conflicts_with = "verbose")]
    pub quiet: bool,
}

impl Default for Global {
    fn default() -> Self {
        let ssh = SshOptions::default();
        Global {
            cluster: None,
            nodes: None,
            workdir: None,
            suites: None,
            ssh_config: None,
            strict_host_keys: false,
            connect_timeout: ssh.connect_timeout.as_secs(),
            keepalive: ssh.keepalive.as_secs(),
            max_sessions: ssh.max_sessions as u64,
            persist: 60,
            verbose: 0,
            quiet: false,
        }
    }
}

impl Global {
    /// The SSH options these flags ask for.
    pub fn ssh_options(&self) -> SshOptions {
        SshOptions {
            config_file: self.ssh_config.clone(),
            strict_host_keys: self.strict_host_keys,
            connect_timeout: Duration::from_secs(self.connect_timeout),
            keepalive: Duration::from_secs(self.keepalive),
            max_sessions: self.max_sessions as usize,
            persist: Duration::from_secs(self.persist),
        }
    }
}

/// The subcommands.
#[derive(Debug, Subcommand)]
pub enum Command {
    /// Show the facts of every node: hostname, kernel, OS, Python, interfaces, LNet.
    #[command(after_help = "Examples:
  lutf status                       this machine
  lutf status --format yaml         everything, as YAML
  lutf status --nodes host[1-3]     three nodes over SSH")]
    Status(StatusArgs),

    /// Run a command on every node and print its output; exits with the worst exit code.
    #[command(after_help = "Examples:
  lutf exec -- uname -r
  lutf exec --timeout 5 -- sh -c 'lsmod | grep lnet'
  lutf exec --nodes host[1-4] --gather -- lnetctl net show
  lutf exec --secret-env TOKEN --shell -- 'login --token \"$TOKEN\"'")]
    Exec(ExecArgs),

    /// Show a stored run again: its summary, its failures, one of its files, or an archive.
    ///
    /// DIR is a run's results folder (default `results/latest`); a results root holding a
    /// `latest` link works too. Everything is rendered from the folder's `run.json`.
    #[command(after_help = "Examples:
  lutf results                          summary of the latest run
  lutf results --failed                 failed tests with their reasons (exit 1 if any)
  lutf results --format junit > j.xml   junit.xml rendered again
  lutf results results/20260105-100000-ab12 --archive
                                        results/20260105-100000-ab12.tar.gz, flat, for maloo_upload.sh
  lutf results --archive=/tmp/run.tar.gz")]
    Results(ResultsArgs),

    /// List the suites and their tests: id, needs, description (exit code 1: a test file
    /// does not load, named on stderr).
    #[command(after_help = "Examples:
  lutf list                         every suite
  lutf list --suite samples         one suite
  lutf list --suites ./my-suites    suites from another folder")]
    List(ListArgs),

    /// Run tests and write their results (exit code 0: nothing failed, 1: a test failed,
    /// 2: usage or configuration error, 130: interrupted).
    #[command(after_help = "Examples:
  lutf run --suite samples                  every sample, on this machine
  lutf run --suite samples --only 01,03     two of them
  lutf run --suite dlc --except 18a         all but one
  lutf run --dry-run                        the plans and role bindings, running nothing
  lutf run --param nettype=tcp --param-json count=3
  lutf run --rerun-failed                   the tests that failed in results/latest
  lutf run --secret-env LNET_KEY            ctx.secrets['LNET_KEY'] from $LNET_KEY
Each test is `suites/<suite>/test_<id>.py`; `01` and `test_01` both name it.")]
    Run(RunArgs),

    /// Run as an auster suite: what the hook scripts (`lutf-<suite>.sh`, `lutf.sh`) run.
    /// Reads auster's environment (ONLY, EXCEPT, START_AT, STOP_AT, SUITE, LOGDIR, YAML_LOG,
    /// TF_SKIP, the cfg's host variables, ...), appends one SubTests item per test to
    /// $YAML_LOG, writes the logs into $LOGDIR, and exits 0 (all good), 1 (a test failed), 111 (a test failed
    /// and STOP_ON_ERROR is set: auster stops) or 2 (lutf could not run).
    ///
    /// Secrets: LUTF_SECRET_ENV names environment variables (spaces or commas between
    /// names) whose values every step gets as `ctx.secrets[NAME]`, as `lutf run
    /// --secret-env` does; the hook exports them from the cfg.
    #[command(after_help = "Examples:
  auster -N -f lutfcfg -d /opt/results/ lutf-dlc --only 01
                                    what it is for (see `lutf auster-hook`)
  SUITE=samples ONLY=01 lutf auster --dry-run
                                    what auster's variables select, and the nodes and roles")]
    Auster(AusterArgs),

    /// Install the auster hook scripts into Lustre's tests folder: `lutf-<suite>.sh` per lutf
    /// suite (auster runs `lutf-dlc --only 01`, one Tests entry per suite in results.yml)
    /// and `lutf.sh` for every suite. Each records this lutf binary and the absolute
    /// suites folder (`--suites`, else `./suites`, else the installed ones); no hook is
    /// written when there is none. Without --install, prints one hook.
    #[command(after_help = "Examples:
  lutf auster-hook --install /usr/lib64/lustre/tests
                                    every hook, for Lustre installed from packages
  lutf --suites /opt/lutf/suites auster-hook --install ~/lustre-release/lustre/tests
  auster -N -f lutfcfg -d /opt/results/ lutf-dlc --only 01 lutf-multi-rail
                                    then: two lutf suites, the first one's test 01 only
  lutf auster-hook --suite dlc      print lutf-dlc.sh")]
    AusterHook(AusterHookArgs),

    /// Check or change LNet on this machine or on nodes: liblnetconfig calls, lnetctl, lst.
    ///
    /// Each operation is one call of Lustre's liblnetconfig (what lnetctl itself uses) made
    /// on the node; `lnetctl` runs the node's lnetctl and parses its YAML; `lst` drives an
    /// lnet_selftest session. Output is YAML (JSON, or a table of values, with --format);
    /// with several nodes, keyed by node. Exits 1 when the operation failed on any node.
    /// `-v` asks show operations for more detail, as lnetctl's `-v` does (`-vv` for more).
    #[command(after_help = "Examples:
  lutf lnet show-net -v                    this machine's networks, with details
  lutf lnet add-ni --net tcp --if eth0     add an NI on eth0
  lutf lnet ping 10.0.0.2@tcp              ping a NID from this machine
  lutf lnet show-peer --nodes host[1-2]    the peers of two nodes
  lutf lnet lnetctl -- export --backup     any lnetctl command, its YAML parsed
  lutf lnet lst new-session check          start an lnet_selftest session

See docs/lnet.md for running it on Lustre nodes.")]
    Lnet(LnetArgs),

    /// Close the SSH connections lutf keeps open between commands (`--persist`): those of
    /// the nodes named with `--nodes`/`--cluster`, else all of them.
    #[command(after_help = "Examples:
  lutf disconnect                   every kept connection
  lutf disconnect --nodes host[1-3] those to three nodes")]
    Disconnect,
}

/// Output formats for node facts.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, ValueEnum)]
pub enum Format {
    /// One block per node, for people.
    #[default]
    Table,
    /// YAML, for programs.
    Yaml,
    /// JSON, for programs.
    Json,
}

/// `lutf status`.
#[derive(Debug, Args, Clone)]
pub struct StatusArgs {
    /// Output format.
    #[arg(long, value_enum, default_value_t)]
    pub format: Format,
}

/// What `lutf results --format` prints.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum ResultsFormat {
    /// results.yml, auster's layout.
    Yaml,
    /// junit.xml.
    Junit,
    /// report.html.
    Html,
}

/// `lutf results`.
#[derive(Debug, Args, Clone)]
pub struct ResultsArgs {
    /// The run's results folder.
    #[arg(value_name = "DIR")]
    pub dir: Option<PathBuf>,

    /// List the failed tests with their reasons (exits 1 when there is one).
    #[arg(long, conflicts_with_all = ["format", "archive"])]
    pub failed: bool,

    /// Render this file again from the stored run and print it.
    #[arg(long, value_enum, value_name = "FORMAT", conflicts_with = "archive")]
    pub format: Option<ResultsFormat>,

    /// Write the folder as a flat .tar.gz (files at the archive's root, as maloo_upload.sh
    /// expects). Default: `<run folder>.tar.gz` beside the folder; `--archive=OUT` to choose.
    #[arg(long, value_name = "OUT", num_args = 0..=1, require_equals = true)]
    pub archive: Option<Option<PathBuf>>,
}

/// `lutf exec`.
#[derive(Debug, Args, Clone)]
pub struct ExecArgs {
    /// Seconds before the command's whole process group is killed on a node.
    #[arg(long, default_value_t = 60.0, value_name = "SECS")]
    pub timeout: f64,

    /// Run the command through `/bin/sh -c` (the first word is the script).
    #[arg(long)]
    pub shell: bool,

    /// Group nodes whose output is identical, like `dshbak -c`.
    #[arg(long)]
    pub gather: bool,

    /// Only this node of the cluster (as `lutf lnet --node`).
    #[arg(long, value_name = "NAME")]
    pub node: Option<String>,

    /// Give the command the environment variable NAME, read from lutf's own environment
    /// (never from the command line), as a secret: every occurrence of its value in the
    /// output is replaced by `[secret NAME]`. Repeatable, or a comma list; names in
    /// $LUTF_SECRET_ENV (spaces or commas) are added. An unset NAME is an error.
    #[arg(long, value_name = "NAME")]
    pub secret_env: Vec<String>,

    /// The command and its arguments.
    #[arg(required = true, last = true, value_name = "CMD")]
    pub command: Vec<std::ffi::OsString>,
}

/// `lutf list`.
#[derive(Debug, Args, Clone)]
pub struct ListArgs {
    /// Only these suites (repeatable, or a comma list).
    #[arg(long, value_name = "SUITE")]
    pub suite: Vec<String>,
}

/// `lutf auster`.
#[derive(Debug, Args, Clone)]
pub struct AusterArgs {
    /// Print what auster's environment selects (each test's fate, the nodes and their
    /// roles, where results go) and run nothing.
    #[arg(long)]
    pub dry_run: bool,
}

/// `lutf auster-hook`.
#[derive(Debug, Args, Clone)]
pub struct AusterHookArgs {
    /// The lutf binary the hooks run (default: this one).
    #[arg(long, value_name = "PATH")]
    pub lutf: Option<PathBuf>,

    /// Write the hooks into this folder (Lustre's tests folder, where auster finds its
    /// suites): `lutf.sh` and one `lutf-<suite>.sh` per suite. Only hooks lutf wrote are
    /// replaced.
    #[arg(long, value_name = "DIR")]
    pub install: Option<PathBuf>,

    /// Only these suites' hooks (repeatable, or a comma list); printed, one hook for one
    /// suite, without --install.
    #[arg(long, value_name = "SUITE", value_delimiter = ',')]
    pub suite: Vec<String>,
}

/// `lutf run`.
#[derive(Debug, Args, Clone)]
pub struct RunArgs {
    /// Suites to run (repeatable, or a comma list). Default: every suite.
    #[arg(long, value_name = "SUITE")]
    pub suite: Vec<String>,

    /// Only these tests (comma list of ids: `01`, `test_01`).
    #[arg(long, value_name = "IDS")]
    pub only: Vec<String>,

    /// Leave these tests out; they are reported as SKIP, as auster does.
    #[arg(long, value_name = "IDS")]
    pub except: Vec<String>,

    /// Stop after the first failing test.
    #[arg(long)]
    pub fail_fast: bool,

    /// Do not clean the nodes before each test (no unmounting, no LNet unconfigure, no
    /// module unloading): for debugging on a live setup.
    #[arg(long)]
    pub no_clean: bool,

    /// Seconds a step may run unless it sets its own timeout.
    #[arg(long, value_name = "SECS", default_value_t = crate::runner::DEFAULT_TIMEOUT,
          value_parser = positive_secs)]
    pub timeout: f64,

    /// Run the whole selection this many times.
    #[arg(long, value_name = "N", default_value_t = 1,
          value_parser = clap::value_parser!(u32).range(1..))]
    pub repeat: u32,

    /// Print each test's plan and its role-to-node binding; run nothing.
    #[arg(long)]
    pub dry_run: bool,

    /// Where results folders go (`<DIR>/<time>-<id>/`, and `<DIR>/latest`).
    #[arg(long, value_name = "DIR", default_value = "results")]
    pub results: PathBuf,

    /// A parameter for every step (`ctx.params[KEY]`): VALUE as a string, exactly as given
    /// (`version=2.10` is "2.10"). Repeatable.
    #[arg(long = "param", value_name = "KEY=VALUE", value_parser = parse_param)]
    pub params: Vec<(String, serde_json::Value)>,

    /// A typed parameter for every step: VALUE is JSON (`count=3`, `slow=true`,
    /// `nets=["tcp","o2ib"]`, `version="2.10"`). A number that would lose digits on its way
    /// (beyond 64-bit integers, more precise than a double) is refused: pass it as a
    /// string. Repeatable; a KEY may not be given with --param too.
    #[arg(long = "param-json", value_name = "KEY=JSON", value_parser = parse_param_json)]
    pub params_json: Vec<(String, serde_json::Value)>,

    /// Hand every step the secret `ctx.secrets[NAME]`: the value of the environment variable
    /// NAME, read from lutf's own environment (never from the command line, where `ps` and
    /// shell history would see it). Every occurrence of the value in logs and results is
    /// replaced by `[secret NAME]`. Repeatable, or a comma list; names in $LUTF_SECRET_ENV
    /// (spaces or commas) are added. An unset NAME is an error before anything connects.
    #[arg(long, value_name = "NAME")]
    pub secret_env: Vec<String>,

    /// Run even when some nodes are unreachable: tests needing more nodes than remain are
    /// skipped with the reason.
    #[arg(long)]
    pub allow_missing: bool,

    /// Run again the tests that failed in the latest run (`<--results>/latest`).
    #[arg(long, conflicts_with_all = ["suite", "only", "except"])]
    pub rerun_failed: bool,
}

impl RunArgs {
    /// The parameters of `--param` and `--param-json` by key (the last of a key given twice
    /// with the same option wins); a key given with both options is an error.
    pub fn all_params(&self) -> Result<BTreeMap<String, serde_json::Value>, String> {
        let strings: BTreeMap<_, _> = self.params.iter().cloned().collect();
        let mut all = strings.clone();
        for (key, value) in &self.params_json {
            if strings.contains_key(key) {
                return Err(format!(
                    "parameter {key:?} is given with both --param and --param-json; give it once"
                ));
            }
            all.insert(key.clone(), value.clone());
        }
        Ok(all)
    }
}

fn positive_secs(s: &str) -> Result<f64, String> {
    match s.parse::<f64>() {
        Ok(v) if v.is_finite() && v > 0.0 => Ok(v),
        _ => Err(format!("{s:?} is not a positive number of seconds")),
    }
}

/// Splits `KEY=VALUE` (the key trimmed, never empty).
fn key_value(s: &str) -> Result<(&str, &str), String> {
    let (key, value) = s
        .split_once('=')
        .ok_or_else(|| format!("{s:?} is not KEY=VALUE"))?;
    let key = key.trim();
    if key.is_empty() {
        return Err(format!("{s:?} has an empty KEY"));
    }
    Ok((key, value))
}

/// Reads `--param KEY=VALUE`: the value is a string, as given.
pub fn parse_param(s: &str) -> Result<(String, serde_json::Value), String> {
    let (key, value) = key_value(s)?;
    Ok((
        key.to_string(),
        serde_json::Value::String(value.to_string()),
    ))
}

/// Reads `--param-json KEY=JSON`: the value is JSON, and no number in it may lose digits
/// (see [`lossy_number`]).
pub fn parse_param_json(s: &str) -> Result<(String, serde_json::Value), String> {
    let (key, text) = key_value(s)?;
    let value: serde_json::Value =
        serde_json::from_str(text).map_err(|e| format!("{key}: {text:?} is not JSON: {e}"))?;
    if let Some((number, why)) = lossy_number(text) {
        return Err(format!(
            "{key}: the number {number} {why}; to keep it exactly, pass it as a string \
             (--param {key}={number}, or \"{number}\" in JSON)"
        ));
    }
    Ok((key.to_string(), value))
}

/// The first number of the JSON `text` that would not arrive as written, with why: an
/// integer beyond 64 bits (it would become a float), or a number with more digits than
/// a double holds. Numbers in strings are not numbers.
pub fn lossy_number(text: &str) -> Option<(&str, &'static str)> {
    let bytes = text.as_bytes();
    let mut i = 0;
    let mut in_string = false;
    while i < bytes.len() {
        let c = bytes[i];
        if in_string {
            match c {
                b'\\' => i += 1,
                b'"' => in_string = false,
                _ => {}
            }
            i += 1;
            continue;
        }
        if c == b'"' {
            in_string = true;
            i += 1;
            continue;
        }
        if c == b'-' || c.is_ascii_digit() {
            let start = i;
            while i < bytes.len()
                && matches!(bytes[i], b'0'..=b'9' | b'-' | b'+' | b'.' | b'e' | b'E')
            {
                i += 1;
            }
            let number = &text[start..i];
            if !number.contains(['.', 'e', 'E']) {
                if number.parse::<i64>().is_err() && number.parse::<u64>().is_err() {
                    return Some((number, "does not fit a 64-bit integer"));
                }
            } else {
                let exact = number
                    .parse::<f64>()
                    .is_ok_and(|f| f.is_finite() && decimal(&format!("{f:e}")) == decimal(number));
                if !exact {
                    return Some((number, "has more digits than a double holds"));
                }
            }
            continue;
        }
        i += 1;
    }
    None
}

/// A JSON number's decimal value as (negative, significant digits, power of ten), so that
/// `2.10`, `2.1` and `21e-1` compare equal.
fn decimal(number: &str) -> (bool, String, i64) {
    let (negative, rest) = match number.strip_prefix('-') {
        Some(r) => (true, r),
        None => (false, number),
    };
    let (mantissa, exp) = match rest.split_once(['e', 'E']) {
        Some((m, e)) => (m, e.trim_start_matches('+').parse::<i64>().unwrap_or(0)),
        None => (rest, 0),
    };
    let (int, frac) = mantissa.split_once('.').unwrap_or((mantissa, ""));
    let all = format!("{int}{frac}");
    let mut exp = exp - frac.len() as i64;
    let digits = all.trim_start_matches('0');
    let trimmed = digits.trim_end_matches('0');
    exp += (digits.len() - trimmed.len()) as i64;
    if trimmed.is_empty() {
        return (false, String::new(), 0);
    }
    (negative, trimmed.to_string(), exp)
}

/// `lutf lnet`.
#[derive(Debug, Args, Clone)]
pub struct LnetArgs {
    /// The operation.
    #[command(subcommand)]
    pub op: LnetOp,

    /// Only this node of the cluster.
    #[arg(long, global = true, value_name = "NAME")]
    pub node: Option<String>,

    /// Output format.
    #[arg(long, global = true, value_enum, default_value_t = Format::Yaml)]
    pub format: Format,

    /// Call liblnetconfig with this ABI (2.15, 2.16, 2.17) instead of the one the node's
    /// Lustre version picks.
    #[arg(long, global = true, value_name = "VERSION")]
    pub abi: Option<String>,

    /// Load this liblnetconfig instead of liblnetconfig.so.4 from the loader's path.
    #[arg(long, global = true, value_name = "PATH")]
    pub library: Option<String>,
}

/// On or off.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum Switch {
    /// Enable.
    On,
    /// Disable.
    Off,
}

/// A `lutf lnet` operation.
#[derive(Debug, Subcommand, Clone)]
pub enum LnetOp {
    /// Bring LNet up (`lnetctl lnet configure`).
    Configure {
        /// Also configure the networks of the lnet module parameters.
        #[arg(long)]
        all: bool,
    },
    /// Take LNet down (`lnetctl lnet unconfigure`).
    Unconfigure,
    /// Add a network interface (`lnetctl net add`).
    AddNi(AddNiArgs),
    /// Delete a network's NIs (`lnetctl net del`).
    DelNi {
        /// The network, e.g. tcp1.
        #[arg(long)]
        net: String,
        /// Only the NIs on these interfaces (comma-separated).
        #[arg(long = "if", value_name = "IF[,IF]", value_delimiter = ',')]
        interfaces: Vec<String>,
    },
    /// Show the networks (`lnetctl net show`); -v for details.
    ShowNet {
        /// Only this network.
        #[arg(long)]
        net: Option<String>,
        /// Detail level, 0 to 4 (as `-v`, `-vv`, ...).
        #[arg(long, value_name = "LEVEL")]
        detail: Option<u32>,
    },
    /// Add a route (`lnetctl route add`).
    AddRoute {
        /// The remote network.
        #[arg(long)]
        net: String,
        /// The router's NID.
        #[arg(long)]
        gateway: String,
        /// Hops to the remote network (1-255).
        #[arg(long)]
        hops: Option<u32>,
        /// Priority (0 is highest).
        #[arg(long)]
        priority: Option<u32>,
        /// The gateway's health sensitivity (Lustre 2.15 and 2.16).
        #[arg(long)]
        health_sensitivity: Option<u32>,
    },
    /// Delete a route (`lnetctl route del`).
    DelRoute {
        /// The remote network.
        #[arg(long)]
        net: String,
        /// The router's NID.
        #[arg(long)]
        gateway: String,
    },
    /// Show routes (`lnetctl route show`); -v for details.
    ShowRoute {
        /// Only routes to this network.
        #[arg(long)]
        net: Option<String>,
        /// Only routes through this gateway.
        #[arg(long)]
        gateway: Option<String>,
        /// Only routes with this hop count.
        #[arg(long)]
        hops: Option<u32>,
        /// Only routes with this priority.
        #[arg(long)]
        priority: Option<u32>,
    },
    /// Turn routing on or off (`lnetctl set routing`).
    Routing {
        /// on or off.
        #[arg(value_enum)]
        state: Switch,
    },
    /// Set router buffers (`lnetctl set tiny_buffers ...`); 0 restores a default.
    SetBuffers {
        /// Tiny buffers.
        #[arg(long)]
        tiny: Option<u32>,
        /// Small buffers.
        #[arg(long)]
        small: Option<u32>,
        /// Large buffers.
        #[arg(long)]
        large: Option<u32>,
    },
    /// Show router buffers and whether routing is on (`lnetctl routing show`).
    ShowRouting,
    /// Add a peer (`lnetctl peer add`).
    AddPeer {
        /// The primary NID (default: the first of --nid).
        #[arg(long = "prim-nid", value_name = "NID")]
        primary: Option<String>,
        /// The peer's NIDs (comma-separated).
        #[arg(long = "nid", value_name = "NID[,NID]", value_delimiter = ',')]
        nids: Vec<String>,
        /// Not Multi-Rail.
        #[arg(long)]
        non_mr: bool,
        /// Lock the primary NID.
        #[arg(long)]
        lock_prim: bool,
    },
    /// Delete a peer, or some of its NIDs (`lnetctl peer del`).
    DelPeer {
        /// The peer's primary NID.
        #[arg(long = "prim-nid", value_name = "NID")]
        primary: String,
        /// Only these NIDs (comma-separated).
        #[arg(long = "nid", value_name = "NID[,NID]", value_delimiter = ',')]
        nids: Vec<String>,
        /// Also a locked primary NID.
        #[arg(long)]
        force: bool,
    },
    /// Show peers (`lnetctl peer show`); -v for details.
    ShowPeer {
        /// Only this peer.
        #[arg(long)]
        nid: Option<String>,
        /// Detail level, 0 to 4 (as `-v`, `-vv`, ...).
        #[arg(long, value_name = "LEVEL")]
        detail: Option<u32>,
    },
    /// List the peers' primary NIDs (`lnetctl peer list`).
    ListPeers,
    /// Ping a NID (`lnetctl ping`).
    Ping {
        /// The NID.
        nid: String,
        /// The local NID to send from.
        #[arg(long)]
        source: Option<String>,
        /// Seconds to wait for the answer.
        #[arg(long, default_value_t = 1.0, value_name = "SECS")]
        timeout: f64,
    },
    /// Discover a peer (`lnetctl discover`).
    Discover {
        /// The NID.
        nid: String,
        /// Discover it again even if known.
        #[arg(long)]
        force: bool,
    },
    /// Turn peer discovery on or off (`lnetctl set discovery`).
    Discovery {
        /// on or off.
        #[arg(value_enum)]
        state: Switch,
    },
    /// Change a global setting (`lnetctl set SETTING VALUE`): numa_range, max_interfaces,
    /// discovery, drop_asym_route, retry_count, transaction_timeout, health_sensitivity,
    /// recovery_interval, router_sensitivity, response_tracking, recovery_limit,
    /// max_recovery_ping_interval.
    Set {
        /// The setting.
        setting: String,
        /// Its value.
        #[arg(allow_negative_numbers = true)]
        value: i32,
    },
    /// Show the global settings, or one (`lnetctl global show`).
    ShowGlobal {
        /// Only this setting.
        setting: Option<String>,
    },
    /// Show LNet's counters (`lnetctl stats show`).
    ShowStats,
    /// Reset LNet's counters (`lnetctl stats reset`).
    ResetStats,
    /// Add a selection policy rule (`lnetctl udsp add`).
    AddUdsp {
        /// Local NID or network expression.
        #[arg(long)]
        src: Option<String>,
        /// Remote NID expression.
        #[arg(long)]
        dst: Option<String>,
        /// Router NID expression.
        #[arg(long)]
        rte: Option<String>,
        /// Priority given to matches (0 is highest).
        #[arg(long)]
        priority: Option<u32>,
        /// Position in the rule list.
        #[arg(long)]
        idx: Option<u32>,
    },
    /// Delete a selection policy rule, or all (`lnetctl udsp del`).
    DelUdsp {
        /// The rule (all when absent).
        #[arg(long)]
        idx: Option<u32>,
    },
    /// Show the selection policy rules (`lnetctl udsp show`).
    ShowUdsp {
        /// Only this rule.
        #[arg(long)]
        idx: Option<u32>,
    },
    /// Apply a YAML configuration file, as `lnetctl import` (read here, applied on nodes).
    Import {
        /// The file (`-` for stdin), as `lnetctl export` writes.
        file: PathBuf,
        /// Remove what it describes instead.
        #[arg(long, conflicts_with_all = ["show", "exec"])]
        del: bool,
        /// Show what it names instead.
        #[arg(long, conflicts_with = "exec")]
        show: bool,
        /// Run the commands it holds (ping, discover).
        #[arg(long)]
        exec: bool,
    },
    /// Run any lnetctl command on the nodes and print its output parsed.
    Lnetctl {
        /// A non-zero exit is not an error (the output is printed anyway).
        #[arg(long)]
        no_check: bool,
        /// Seconds before it is killed.
        #[arg(long, value_name = "SECS")]
        timeout: Option<f64>,
        /// The lnetctl arguments.
        #[arg(required = true, last = true, value_name = "ARGS")]
        args: Vec<String>,
    },
    /// Drive an lnet_selftest session (`lst`); the session key is kept on each node.
    Lst(LstCmd),
}

/// `lutf lnet add-ni`.
#[derive(Debug, Args, Clone)]
pub struct AddNiArgs {
    /// The network, e.g. tcp or o2ib1.
    #[arg(long)]
    pub net: Option<String>,
    /// The interfaces (comma-separated).
    #[arg(long = "if", value_name = "IF[,IF]", value_delimiter = ',')]
    pub interfaces: Vec<String>,
    /// An ip2nets rule instead of --net and --if.
    #[arg(long)]
    pub ip2net: Option<String>,
    /// The CPTs to bind the NI to, e.g. "[0,1]".
    #[arg(long = "cpt", value_name = "CPTS")]
    pub cpts: Option<String>,
    /// Seconds before a silent peer is dead.
    #[arg(long)]
    pub peer_timeout: Option<i32>,
    /// Messages in flight to one peer.
    #[arg(long)]
    pub peer_credits: Option<i32>,
    /// Router buffer credits per peer.
    #[arg(long)]
    pub peer_buffer_credits: Option<i32>,
    /// Messages in flight on the NI.
    #[arg(long)]
    pub credits: Option<i32>,
    /// Connections per peer (tcp, o2ib).
    #[arg(long)]
    pub conns_per_peer: Option<u16>,
    /// IP type of service (tcp, o2ib; Lustre 2.16 and later).
    #[arg(long)]
    pub tos: Option<u8>,
    /// Authorization key (kfi).
    #[arg(long)]
    pub auth_key: Option<u32>,
    /// Traffic class (kfi; Lustre 2.16 and later).
    #[arg(long)]
    pub traffic_class: Option<String>,
}

/// `lutf lnet lst`.
#[derive(Debug, Args, Clone)]
pub struct LstCmd {
    /// The step.
    #[command(subcommand)]
    pub action: LstOp,

    /// The session key (LST_SESSION) of a session started by hand, instead of the one kept
    /// by new-session.
    #[arg(long, value_name = "KEY")]
    pub session: Option<u32>,

    /// Seconds before the lst command is killed.
    #[arg(long, value_name = "SECS")]
    pub timeout: Option<f64>,
}

/// An lnet_selftest test type.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum LstTestKind {
    /// Small RPCs.
    Ping,
    /// Bulk reads or writes.
    Brw,
}

/// A brw test's direction.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum BrwModeArg {
    /// Clients read.
    Read,
    /// Clients write.
    Write,
}

/// A brw test's data check.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum BrwCheckArg {
    /// Part of each transfer.
    Simple,
    /// All of it.
    Full,
}

/// A `lutf lnet lst` step.
#[derive(Debug, Subcommand, Clone)]
pub enum LstOp {
    /// Start a session (`lst new_session`).
    NewSession {
        /// Its name (lst's default: user@host).
        name: Option<String>,
        /// Seconds of console silence before it ends itself.
        #[arg(long)]
        timeout: Option<u32>,
        /// End another console's session on the nodes.
        #[arg(long)]
        force: bool,
    },
    /// End the session (`lst end_session`).
    EndSession,
    /// Add a group of nodes (`lst add_group`).
    AddGroup {
        /// The group's name.
        name: String,
        /// Its NIDs (lst ranges allowed: 10.0.0.[1-4]@tcp).
        #[arg(required = true)]
        nids: Vec<String>,
    },
    /// Add a batch (`lst add_batch`).
    AddBatch {
        /// The batch's name.
        name: String,
    },
    /// Add a test to a batch (`lst add_test`).
    AddTest {
        /// The batch.
        #[arg(long)]
        batch: String,
        /// The group that sends.
        #[arg(long)]
        from: String,
        /// The group that answers.
        #[arg(long)]
        to: String,
        /// ping or brw.
        #[arg(value_enum)]
        test: LstTestKind,
        /// brw: read or write.
        #[arg(long, value_enum)]
        mode: Option<BrwModeArg>,
        /// brw: transfer size (4k, 1M).
        #[arg(long)]
        size: Option<String>,
        /// brw: data check.
        #[arg(long, value_enum)]
        check: Option<BrwCheckArg>,
        /// Requests in flight per client.
        #[arg(long)]
        concurrency: Option<u32>,
        /// Clients to servers, N:M.
        #[arg(long)]
        distribute: Option<String>,
        /// Times each client runs the test.
        #[arg(long = "loop")]
        loops: Option<u32>,
    },
    /// Start a batch (`lst run`).
    Run {
        /// The batch.
        batch: String,
    },
    /// Stop a batch (`lst stop`).
    Stop {
        /// The batch.
        batch: String,
    },
    /// Rates and bandwidth of groups (`lst stat`), COUNT rounds DELAY seconds apart.
    Stat {
        /// The groups.
        #[arg(required = true)]
        groups: Vec<String>,
        /// Rounds.
        #[arg(long, default_value_t = 1)]
        count: u32,
        /// Seconds between rounds.
        #[arg(long, default_value_t = 5)]
        delay: u32,
    },
    /// Error nodes of groups (`lst show_error`).
    ShowError {
        /// The groups.
        #[arg(required = true)]
        groups: Vec<String>,
    },
    /// Any other lst command, in the session.
    Command {
        /// The lst arguments.
        #[arg(required = true, last = true, value_name = "ARGS")]
        args: Vec<String>,
    },
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::CommandFactory;

    #[test]
    fn the_command_line_is_consistent() {
        Cli::command().debug_assert();
    }

    #[test]
    fn params_are_strings_as_given() {
        use serde_json::json;
        assert_eq!(parse_param("n=3").unwrap(), ("n".into(), json!("3")));
        assert_eq!(
            parse_param("version=2.10").unwrap(),
            ("version".into(), json!("2.10"))
        );
        assert_eq!(
            parse_param("big=12345678901234567890123").unwrap(),
            ("big".into(), json!("12345678901234567890123"))
        );
        assert_eq!(
            parse_param("l=[1, 2]").unwrap(),
            ("l".into(), json!("[1, 2]"))
        );
        assert_eq!(
            parse_param("s=\"3\"").unwrap(),
            ("s".into(), json!("\"3\""))
        );
        assert_eq!(parse_param("e=").unwrap(), ("e".into(), json!("")));
        assert_eq!(parse_param("x=a=b").unwrap(), ("x".into(), json!("a=b")));
        assert!(parse_param("novalue").is_err());
        assert!(parse_param("=3").is_err());
    }

    #[test]
    fn json_params_are_typed_and_never_lossy() {
        use serde_json::json;
        let p = |s: &str| parse_param_json(s).map(|(_, v)| v);
        assert_eq!(p("n=3").unwrap(), json!(3));
        assert_eq!(p("n=-9223372036854775808").unwrap(), json!(i64::MIN));
        assert_eq!(p("n=18446744073709551615").unwrap(), json!(u64::MAX));
        assert_eq!(p("v=2.10").unwrap(), json!(2.1));
        assert_eq!(p("v=1e3").unwrap(), json!(1000.0));
        assert_eq!(p("v=\"2.10\"").unwrap(), json!("2.10"));
        assert_eq!(p("l=[1, true, null]").unwrap(), json!([1, true, null]));
        // Digits in strings are not numbers.
        assert_eq!(
            p(r#"m={"id": "12345678901234567890123", "a\"1": 2}"#).unwrap(),
            json!({"id": "12345678901234567890123", "a\"1": 2})
        );
        let e = p("big=12345678901234567890123").unwrap_err();
        assert!(
            e.contains("12345678901234567890123 does not fit a 64-bit integer"),
            "{e}"
        );
        assert!(e.contains("--param big=12345678901234567890123"), "{e}");
        let e = p("l=[1, 18446744073709551616]").unwrap_err();
        assert!(e.contains("18446744073709551616"), "{e}");
        let e = p("pi=3.14159265358979323846").unwrap_err();
        assert!(e.contains("more digits than a double holds"), "{e}");
        assert!(p("v=tcp").unwrap_err().contains("is not JSON"));
        assert!(p("novalue").is_err());
    }

    #[test]
    fn run_options_parse() {
        let cli = Cli::try_parse_from([
            "lutf",
            "run",
            "--suite",
            "a,b",
            "--suite",
            "c",
            "--only",
            "01",
            "--timeout",
            "2.5",
            "--param",
            "k=1",
            "--suites",
            "/s",
        ])
        .unwrap();
        let Command::Run(r) = cli.command else {
            panic!()
        };
        assert_eq!(r.suite, ["a,b", "c"]);
        assert_eq!(r.timeout, 2.5);
        assert_eq!(r.repeat, 1);
        assert_eq!(r.params, [("k".to_string(), serde_json::json!("1"))]);
        assert_eq!(
            cli.global.suites.as_deref(),
            Some(std::path::Path::new("/s"))
        );
        assert!(Cli::try_parse_from(["lutf", "run", "--timeout", "0"]).is_err());
        assert!(Cli::try_parse_from(["lutf", "run", "--repeat", "0"]).is_err());
    }
}
