//! `demo` and `bench`: build what a program needs, then become that program.

use std::process::Command;

use anyhow::{Context, Result};
use clap::Args;

use crate::cmd::Runner;
use crate::workspace::{cargo, Workspace};

#[derive(Args)]
pub struct Demo {
    /// Arguments for the demo, e.g. `--keep-running`, `--large-mib 200`, `--no-progress`.
    #[arg(trailing_var_arg = true, allow_hyphen_values = true)]
    args: Vec<String>,
}

#[derive(Args)]
pub struct Bench {
    /// Arguments for the benchmark, e.g. `--quick`, `--out DIR`.
    #[arg(trailing_var_arg = true, allow_hyphen_values = true)]
    args: Vec<String>,
}

/// The RDS export flow on loopback, built in the `demo` profile (Cargo.toml says why).
pub fn demo(args: &Demo) -> Result<()> {
    build_and_exec(
        "demo",
        &["--profile", "demo"],
        "rds-demo",
        "rds-demo",
        &args.args,
    )
}

/// The benchmarks, on release builds as deployed. `--quick` is a smoke run whose numbers
/// are not judged: it takes the dev build the tests already made, sparing CI a release
/// build of the whole workspace.
pub fn bench(args: &Bench) -> Result<()> {
    if args.args.iter().any(|a| a == "--quick") {
        build_and_exec("debug", &[], "bench", "rds-bench", &args.args)
    } else {
        build_and_exec("release", &["--release"], "bench", "rds-bench", &args.args)
    }
}

/// Builds `package` and every connector (the programs start the connector binaries).
fn build_and_exec(
    profile: &str,
    flags: &[&str],
    package: &str,
    binary: &str,
    args: &[String],
) -> Result<()> {
    let ws = Workspace::load()?;
    let mut build = Command::new(cargo());
    build.arg("build").args(flags).args(["-p", package]);
    for c in &ws.connectors {
        build.args(["-p", &c.package]);
    }
    Runner { dry_run: false }.run(&mut build)?;
    let bin = ws.target_dir.join(profile).join(binary);
    let mut program = Command::new(&bin);
    program.args(args).current_dir(&ws.root);
    exec(program).with_context(|| format!("running {}", bin.display()))
}

/// Becomes the program (Unix), so Ctrl-C reaches it alone and it can stop cleanly.
#[cfg(unix)]
fn exec(mut program: Command) -> Result<()> {
    use std::os::unix::process::CommandExt;
    Err(program.exec().into())
}

#[cfg(not(unix))]
fn exec(mut program: Command) -> Result<()> {
    let status = program.status()?;
    anyhow::ensure!(status.success(), "exited with {status}");
    Ok(())
}
