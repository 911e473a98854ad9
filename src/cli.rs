//! The command line: every subcommand's arguments, with `--help` text and examples.

use std::path::PathBuf;

use clap::{Args, Parser, Subcommand, ValueEnum};

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
#[derive(Debug, Args, Clone, Default)]
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

    /// More output (repeat for more).
    #[arg(short, long, global = true, action = clap::ArgAction::Count)]
    pub verbose: u8,

    /// Only the summary.
    #[arg(short, long, global = true, conflicts_with = "verbose")]
    pub quiet: bool,
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
