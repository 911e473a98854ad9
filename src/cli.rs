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

    /// Nodes as a pdsh host list, for example `onyx-[15-18]vm1,host7`: the names are the
    /// hosts; `local` is this machine without SSH. With `--cluster`, picks nodes of the file
    /// by name.
    #[arg(long, global = true, value_name = "LIST")]
    pub nodes: Option<String>,

    /// Work directory on the nodes (default `/tmp/lutf-<user>`).
    #[arg(long, global = true, value_name = "DIR")]
    pub workdir: Option<PathBuf>,

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
