//! The `lutf` command: parses the command line, sets up logging, runs one subcommand and
//! exits with its code.

// Output goes through `lutf::reporter::{print, eprint}`, which survive a closed pipe.
#![deny(clippy::print_stdout, clippy::print_stderr)]

use clap::Parser;
use lutf::cli::{Cli, Command};
use lutf::commands;

fn main() {
    let cli = Cli::parse();
    // Under `lnet`, -v is lnetctl's: more detail in what is shown, not more logging
    // (LUTF_LOG still sets that).
    let verbose = match cli.command {
        Command::Lnet(_) => 0,
        _ => cli.global.verbose,
    };
    let level = match (cli.global.quiet, verbose) {
        (true, _) => "error",
        (false, 0) => "warn",
        (false, 1) => "info",
        (false, _) => "debug",
    };
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_env("LUTF_LOG")
                .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new(level)),
        )
        // Above the progress bars while they show; colours only where bars would show.
        .with_writer(lutf::reporter::LogWriter)
        .with_ansi(lutf::reporter::style(false) == lutf::reporter::Style::Live)
        .with_target(false)
        .init();
    let runtime = tokio::runtime::Runtime::new().expect("start the tokio runtime");
    let code = runtime.block_on(async {
        let result = match &cli.command {
            Command::Status(a) => commands::status::run(&cli.global, a).await,
            Command::Exec(a) => commands::exec::run(&cli.global, a).await,
            Command::List(a) => commands::list::run(&cli.global, a).await,
            Command::Run(a) => commands::run::run(&cli.global, a).await,
            Command::Auster(a) => commands::auster::run(&cli.global, a).await,
            Command::AusterHook(a) => commands::auster_hook::run(&cli.global, a),
            Command::Results(a) => commands::results::run(&cli.global, a),
            Command::Lnet(a) => commands::lnet::run(&cli.global, a).await,
            Command::Disconnect => commands::disconnect::run(&cli.global).await,
        };
        result.unwrap_or_else(|e| {
            // Through the reporter: no secret in it even when it quotes what a node said.
            lutf::reporter::eprintln(&format!("lutf: error: {e:#}"));
            commands::EXIT_USAGE
        })
    });
    std::process::exit(code);
}
