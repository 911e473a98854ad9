//! The command line: every subcommand's arguments, with `--help` text and examples.

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

    /// Nodes as a pdsh host list, for example `onyx-[15-18]vm1,host7`. `local` is this
    /// machine without SSH.
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
  lutf exec --nodes host[1-4] --gather -- lnetctl net show")]
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

    /// List the suites and their tests: id, needs, description.
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
  lutf run --param nettype=tcp --param count=3
  lutf run --rerun-failed                   the tests that failed in results/latest
Each test is `suites/<suite>/test_<id>.py`; `01` and `test_01` both name it.")]
    Run(RunArgs),

    /// Run as an auster suite: what the hook script `lutf.sh` runs. Reads auster's
    /// environment (ONLY, EXCEPT, START_AT, STOP_AT, SUITE, LOGDIR, YAML_LOG, TF_SKIP, the
    /// cfg's host variables, ...), appends one SubTests item per test to $YAML_LOG, writes
    /// the logs into $LOGDIR, and exits 0 (all good), 1 (a test failed), 111 (a test failed
    /// and STOP_ON_ERROR is set: auster stops) or 2 (lutf could not run).
    #[command(after_help = "Examples:
  auster -f lutfcfg -rsv -d /opt/results/ lutf --suite dlc --only 01
                                    what it is for (see `lutf auster-hook`)
  SUITE=samples ONLY=01 lutf auster --dry-run
                                    what auster's variables select, and the nodes and roles")]
    Auster(AusterArgs),

    /// Print the auster hook script for this installation, to be saved as
    /// $LUSTRE/tests/lutf.sh.
    #[command(after_help = "Examples:
  lutf auster-hook > /usr/lib64/lustre/tests/lutf.sh
  lutf auster-hook --lutf /opt/lutf/bin/lutf --suites /opt/lutf/suites > lutf.sh")]
    AusterHook(AusterHookArgs),
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
    /// The lutf binary the hook runs (default: this one).
    #[arg(long, value_name = "PATH")]
    pub lutf: Option<PathBuf>,
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

    /// A parameter for every step (`ctx.params`); VALUE is read as JSON when it parses
    /// (`3`, `true`, `[1,2]`), else taken as a string. Repeatable.
    #[arg(long = "param", value_name = "KEY=VALUE", value_parser = parse_param)]
    pub params: Vec<(String, serde_json::Value)>,

    /// Run even when some nodes are unreachable: tests needing more nodes than remain are
    /// skipped with the reason.
    #[arg(long)]
    pub allow_missing: bool,

    /// Run again the tests that failed in the latest run (`<--results>/latest`).
    #[arg(long, conflicts_with_all = ["suite", "only", "except"])]
    pub rerun_failed: bool,
}

fn positive_secs(s: &str) -> Result<f64, String> {
    match s.parse::<f64>() {
        Ok(v) if v.is_finite() && v > 0.0 => Ok(v),
        _ => Err(format!("{s:?} is not a positive number of seconds")),
    }
}

/// Reads `KEY=VALUE`: the value as JSON when it is JSON, else as a string.
pub fn parse_param(s: &str) -> Result<(String, serde_json::Value), String> {
    let (key, value) = s
        .split_once('=')
        .ok_or_else(|| format!("{s:?} is not KEY=VALUE"))?;
    let key = key.trim();
    if key.is_empty() {
        return Err(format!("{s:?} has an empty KEY"));
    }
    let value = serde_json::from_str(value)
        .unwrap_or_else(|_| serde_json::Value::String(value.to_string()));
    Ok((key.to_string(), value))
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
    fn params_are_json_when_they_parse() {
        use serde_json::json;
        assert_eq!(parse_param("n=3").unwrap(), ("n".into(), json!(3)));
        assert_eq!(
            parse_param("net=tcp").unwrap(),
            ("net".into(), json!("tcp"))
        );
        assert_eq!(
            parse_param("l=[1, 2]").unwrap(),
            ("l".into(), json!([1, 2]))
        );
        assert_eq!(parse_param("s=\"3\"").unwrap(), ("s".into(), json!("3")));
        assert_eq!(parse_param("e=").unwrap(), ("e".into(), json!("")));
        assert_eq!(parse_param("x=a=b").unwrap(), ("x".into(), json!("a=b")));
        assert!(parse_param("novalue").is_err());
        assert!(parse_param("=3").is_err());
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
        assert_eq!(r.params, [("k".to_string(), serde_json::json!(1))]);
        assert_eq!(
            cli.global.suites.as_deref(),
            Some(std::path::Path::new("/s"))
        );
        assert!(Cli::try_parse_from(["lutf", "run", "--timeout", "0"]).is_err());
        assert!(Cli::try_parse_from(["lutf", "run", "--repeat", "0"]).is_err());
    }
}
