//! `rds-bench [--quick] [--out DIR] [--only 1,3,...]`: benchmarks of the connectors on
//! loopback against the real WebDAV server and the Zenodo emulator, the connector
//! binaries (release builds) started as separate processes as deployed. Writes
//! `benchmarks.md` and SVG plots under `bench/` in the output folder (default `docs/`;
//! with `--quick`, `target/bench-quick/`). Nothing is asserted: it measures and reports.

mod data;
mod http;
mod loadgen;
mod machine;
mod markdown;
mod plot;
mod procfs;
mod refservers;
mod report;
mod scenarios;
mod stack;
mod stats;

use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Instant;

use anyhow::{bail, Context, Result};

use crate::http::{Direct, Via};
use crate::report::{Results, Section};
use crate::stack::Stack;

const USAGE: &str = "usage: rds-bench [--quick] [--out DIR] [--only 1,2,3,4,5,6,7] [--reps N]\n\
                     [--conc 1,16,64]\n\
  --quick   small sizes, one or two repetitions (a smoke run); writes to target/bench-quick/\n\
  --reps    repetitions of each transfer and load point (default 5 and 3; quick 2 and 1)\n\
  --out     where benchmarks.md and bench/*.svg go (default docs/)\n\
  --only    run only these scenarios (1 download, 2 upload, 3 listing, 4 small requests,\n\
            5 export flow, 6 footprint, 7 soak: RDS_SOAK_GIB GiB per transfer, default 20)\n\
  --conc    only these load points of scenario 4 (default 1,16,64), to profile one quickly";

/// Sizes and repetitions of one run.
#[derive(Debug, Clone)]
pub struct Opts {
    pub quick: bool,
    pub out: PathBuf,
    pub only: Option<Vec<u32>>,
    /// Scenario 4's load points, if not all.
    pub concurrency: Option<Vec<u32>>,
    pub transfer_bytes: u64,
    pub transfer_reps: usize,
    pub listing_reps: usize,
    pub load_secs: u32,
    pub load_reps: usize,
    pub export_files: usize,
    pub export_bytes: u64,
    pub export_reps: usize,
    pub starts: usize,
}

impl Opts {
    /// The options in `args` (the program's name already taken off).
    fn parse(mut args: impl Iterator<Item = String>) -> Result<Self> {
        let (mut quick, mut out, mut only, mut reps, mut concurrency) =
            (false, None, None, None, None);
        while let Some(arg) = args.next() {
            match arg.as_str() {
                "--quick" => quick = true,
                "--out" => out = Some(PathBuf::from(args.next().context("--out takes a folder")?)),
                "--only" => only = Some(numbers(args.next(), "--only takes a list like 1,3")?),
                "--conc" => {
                    concurrency = Some(numbers(args.next(), "--conc takes a list like 16,64")?)
                }
                "--reps" => {
                    let n = args.next().context("--reps takes a number")?;
                    reps = Some(n.parse::<usize>().context("--reps takes a number")?.max(1));
                }
                "-h" | "--help" => bail!("{USAGE}"),
                other => bail!("unknown argument {other}\n{USAGE}"),
            }
        }
        let root = machine::workspace_root();
        let out = out.unwrap_or_else(|| {
            if quick {
                root.join("target/bench-quick")
            } else {
                root.join("docs")
            }
        });
        const GIB: u64 = 1 << 30;
        let mut opts = if quick {
            Self {
                quick,
                out,
                only,
                concurrency,
                transfer_bytes: 32 << 20,
                transfer_reps: 2,
                listing_reps: 2,
                load_secs: 1,
                load_reps: 1,
                export_files: 20,
                export_bytes: 32 << 20,
                export_reps: 1,
                starts: 2,
            }
        } else {
            Self {
                quick,
                out,
                only,
                concurrency,
                transfer_bytes: GIB,
                transfer_reps: 5,
                listing_reps: 7,
                load_secs: 5,
                load_reps: 3,
                export_files: 200,
                export_bytes: 2 * GIB,
                export_reps: 2,
                starts: 5,
            }
        };
        if let Some(n) = reps {
            (opts.transfer_reps, opts.load_reps) = (n, n);
        }
        Ok(opts)
    }

    fn wants(&self, n: u32) -> bool {
        self.only.as_ref().is_none_or(|o| o.contains(&n))
    }

    /// Whether scenario 4 runs its load point at concurrency `c`.
    pub fn wants_load_point(&self, c: u32) -> bool {
        self.concurrency.as_ref().is_none_or(|o| o.contains(&c))
    }
}

/// `1,3` → `[1, 3]`; `usage` when the list is missing or holds a non-number.
fn numbers(list: Option<String>, usage: &'static str) -> Result<Vec<u32>> {
    list.context(usage)?
        .split(',')
        .map(|n| n.trim().parse().context(usage))
        .collect()
}

/// What every scenario works with.
pub struct Ctx {
    pub opts: Opts,
    pub stack: Stack,
    pub direct: Direct,
    pub via: Via,
    /// Served by the WebDAV server.
    pub cloud: PathBuf,
    /// Local files to upload from.
    pub local: PathBuf,
}

async fn run(opts: Opts) -> Result<()> {
    let started = Instant::now();
    let work = tempfile::Builder::new()
        .prefix("rds-bench-")
        .tempdir()
        .context("no temporary folder")?;
    let (cloud, local, logs) = (
        work.path().join("cloud"),
        work.path().join("local"),
        work.path().join("logs"),
    );
    for d in [&cloud, &local, &logs] {
        std::fs::create_dir_all(d).with_context(|| format!("creating {}", d.display()))?;
    }
    println!(
        "rds-bench: {} run, data in {}",
        if opts.quick { "quick" } else { "full" },
        work.path().display()
    );
    let stack = Stack::start(&cloud, &logs).await?;
    let http = http::client()?;
    let direct = Direct::new(&http, &stack.p);
    let via = Via {
        http,
        owncloud: stack.owncloud.url.clone(),
        zenodo: stack.zenodo.url.clone(),
    };
    let ctx = Ctx {
        opts,
        stack,
        direct,
        via,
        cloud,
        local,
    };
    let mut results = Results::default();
    for n in [6, 3, 4, 1, 2, 5, 7] {
        if !ctx.opts.wants(n) {
            continue;
        }
        let t = Instant::now();
        println!("scenario {n} ...");
        if let Err(e) = scenarios::run(n, &ctx, &mut results).await {
            eprintln!("scenario {n} failed: {e:#}");
            let mut s = Section::new(&format!("Scenario {n}: failed"), "", &["error"]);
            s.row(vec![format!("{e:#}")
                .replace('|', "\\|")
                .replace('\n', " ")]);
            results.sections.push(s);
        }
        println!("scenario {n} done in {:.1} s", t.elapsed().as_secs_f64());
    }
    let Ctx { opts, stack, .. } = ctx;
    stack.stop().await;
    let elapsed = started.elapsed();
    markdown::write(&opts, &results, elapsed)?;
    plot::write(&opts.out.join("bench"), &results)?;
    println!(
        "wrote {} and plots under {} in {:.0} s",
        opts.out.join("benchmarks.md").display(),
        opts.out.join("bench").display(),
        elapsed.as_secs_f64()
    );
    drop(work);
    Ok(())
}

#[tokio::main]
async fn main() -> ExitCode {
    let opts = match Opts::parse(std::env::args().skip(1)) {
        Ok(o) => o,
        Err(e) => {
            eprintln!("{e:#}");
            return ExitCode::from(2);
        }
    };
    match run(opts).await {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("rds-bench: {e:#}");
            ExitCode::FAILURE
        }
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    fn parse(args: &[&str]) -> Result<Opts> {
        Opts::parse(args.iter().map(|a| a.to_string()))
    }

    #[test]
    fn scenarios_and_load_points_are_chosen_by_lists() {
        let opts = parse(&["--quick", "--only", "4, 6", "--conc", "16"]).unwrap();
        assert!(opts.wants(4) && opts.wants(6) && !opts.wants(1));
        assert!(opts.wants_load_point(16) && !opts.wants_load_point(1));
        let all = parse(&["--quick"]).unwrap();
        assert!(all.wants(7) && all.wants_load_point(64));
        for bad in [&["--conc"][..], &["--conc", "16,x"], &["--only", ""]] {
            assert!(parse(bad).is_err(), "{bad:?}");
        }
    }
}
