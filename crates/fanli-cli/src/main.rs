//! `fanli`: the command line. Thin glue over `fanli-format` (text in and out) and
//! `fanli-engine` (the rules); it owns files, flags, exit codes and the human-readable output.

mod run;
mod text;

use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Parser, Subcommand};

/// fanli (返利): run consumer rebate schemes exactly, solvently and in the open.
#[derive(Parser)]
#[command(name = "fanli", version, about, long_about = None)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Apply a plan to an event stream and print the end state.
    ///
    /// Exit status: 0 when every line applied, 2 when any line was rejected (the others still
    /// apply), 1 when the plan or a file could not be read.
    Run(RunArgs),
}

/// The `run` command's flags.
#[derive(clap::Args)]
struct RunArgs {
    /// The plan (TOML).
    #[arg(required_unless_present = "example")]
    plan: Option<PathBuf>,
    /// The events (JSON Lines, one event a line; `-` reads standard input).
    #[arg(required_unless_present = "example")]
    events: Option<PathBuf>,
    /// Run the bundled example plan and stream instead of files.
    #[arg(long, conflicts_with_all = ["plan", "events"])]
    example: bool,
    /// Print the end state as one JSON document.
    #[arg(long)]
    json: bool,
    /// With --json: add one entry per input line with its postings and effects.
    #[arg(long, requires = "json", conflicts_with = "member")]
    trace: bool,
    /// Print one member's view: balances, points value, progress, queue position (with --json,
    /// their object as in the state's `members`).
    #[arg(long, value_name = "ID")]
    member: Option<String>,
}

fn main() -> ExitCode {
    let cli = match Cli::try_parse() {
        Ok(cli) => cli,
        Err(e) => {
            let _ = e.print();
            // Usage mistakes exit 1: status 2 means "some lines were rejected".
            return if e.use_stderr() { ExitCode::from(1) } else { ExitCode::SUCCESS };
        }
    };
    match cli.command {
        Command::Run(args) => run::run(args),
    }
}
