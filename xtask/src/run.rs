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
    let (profile, flags) = bench_build(&args.args);
    build_and_exec(profile, flags, "bench", "rds-bench", &args.args)
}

/// The target folder and cargo flags of the benchmark's build.
fn bench_build(args: &[String]) -> (&'static str, &'static [&'static str]) {
    if args.iter().any(|a| a == "--quick") {
        ("debug", &[])
    } else {
        ("release", &["--release"])
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

#[cfg(test)]
mod tests {
    use super::bench_build;

    #[test]
    fn only_the_quick_bench_runs_on_the_dev_build() {
        let args = |a: &[&str]| a.iter().map(|s| s.to_string()).collect::<Vec<_>>();
        assert_eq!(bench_build(&args(&["--quick"])), ("debug", &[][..]));
        assert_eq!(
            bench_build(&args(&["--only", "4"])),
            ("release", &["--release"][..])
        );
    }
}
