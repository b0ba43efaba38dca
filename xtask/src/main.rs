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
    /// Run the benchmarks (release builds; `--quick`: a smoke run on the dev build) and
    /// write docs/benchmarks.md.
    Bench(run::Bench),
    /// Build a container image for each connector (every binary crate under connectors/).
    BuildImages(images::BuildImages),
    /// Scaffold a new connector crate under connectors/NAME.
    NewConnector(scaffold::NewConnector),
    /// Write the POST /service body each connector sends (built from its sample env) to DIR.
    RegistrationPayloads(registration::RegistrationPayloads),
}

fn main() -> ExitCode {
    forget_cargo_run_env();
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

/// `cargo run` gave this process the xtask package's `CARGO_MANIFEST_DIR` and friends. A
/// cargo started from here would hand them on to build scripts that watch them (ring's
/// watches `CARGO_MANIFEST_DIR`), so every xtask build, and the next plain `cargo` after
/// it, rebuilt ring and all that depends on it: minutes of each CI run.
fn forget_cargo_run_env() {
    for (key, _) in std::env::vars_os() {
        if key.to_str().is_some_and(set_by_cargo_run) {
            // Single-threaded still: nothing reads the environment concurrently.
            std::env::remove_var(key);
        }
    }
}

/// The variables `cargo run` sets for the package it runs; `CARGO` (which cargo) stays.
fn set_by_cargo_run(key: &str) -> bool {
    key.starts_with("CARGO_PKG_")
        || key.starts_with("CARGO_MANIFEST_")
        || matches!(
            key,
            "CARGO_CRATE_NAME" | "CARGO_BIN_NAME" | "CARGO_PRIMARY_PACKAGE"
        )
}

#[cfg(test)]
mod tests {
    use super::set_by_cargo_run;

    #[test]
    fn nested_cargo_loses_the_packages_variables_but_not_cargo_itself() {
        for key in [
            "CARGO_MANIFEST_DIR",
            "CARGO_MANIFEST_PATH",
            "CARGO_PKG_NAME",
            "CARGO_CRATE_NAME",
        ] {
            assert!(set_by_cargo_run(key), "{key}");
        }
        for key in ["CARGO", "CARGO_HOME", "CARGO_TARGET_DIR", "RUSTFLAGS"] {
            assert!(!set_by_cargo_run(key), "{key}");
        }
    }
}
