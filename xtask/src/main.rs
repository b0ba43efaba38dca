//! Project automation for rds-connectors, run as `cargo xtask <command>`.
//!
//! - `demo`: the whole RDS export flow on loopback (emulators, a WebDAV server, both connectors).
//! - `bench`: throughput, memory, listing, request-rate and start-up benchmarks.
//! - `build-images`: one container image per connector crate under `connectors/`.
//! - `new-connector`: scaffolds a new connector crate (with its emulator and its chart)
//!   that compiles and passes its test.
//! - `registration-payloads`: the registration body each connector really sends, for CI.

mod cmd;
mod elf;
mod images;
mod registration;
mod run;
mod scaffold;
mod workspace;

use std::process::ExitCode;

use clap::{Parser, Subcommand};

#[derive(Parser)]
#[command(
    name = "cargo xtask",
    bin_name = "cargo xtask",
    about = "rds-connectors project automation"
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Run the RDS export flow end to end on loopback, with no external service.
    Demo(run::Demo),
    /// Run the benchmarks (release builds) and write docs/benchmarks.md.
    Bench(run::Bench),
    /// Build a container image for each connector (every binary crate under connectors/).
    BuildImages(images::BuildImages),
    /// Scaffold a new connector crate under connectors/NAME.
    NewConnector(scaffold::NewConnector),
    /// Write the POST /service body each connector sends (built from its sample env) to DIR.
    RegistrationPayloads(registration::RegistrationPayloads),
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let result = match cli.command {
        Command::Demo(args) => run::demo(&args),
        Command::Bench(args) => run::bench(&args),
        Command::BuildImages(args) => images::run(&args),
        Command::NewConnector(args) => scaffold::run(&args),
        Command::RegistrationPayloads(args) => registration::run(&args),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("xtask: error: {e:#}");
            ExitCode::FAILURE
        }
    }
}
