//! One module per scenario of issue 7; each measures the same work directly against the
//! provider and through a connector, in one run, and reports the ratio.

mod download;
mod export;
mod footprint;
mod listing;
mod small;
mod soak;
mod upload;

use anyhow::{bail, Result};

use crate::report::Results;
use crate::Ctx;

pub async fn run(n: u32, ctx: &Ctx, results: &mut Results) -> Result<()> {
    match n {
        1 => download::run(ctx, results).await,
        2 => upload::run(ctx, results).await,
        3 => listing::run(ctx, results).await,
        4 => small::run(ctx, results).await,
        5 => export::run(ctx, results).await,
        6 => footprint::run(ctx, results).await,
        7 => soak::run(ctx, results).await,
        _ => bail!("there is no scenario {n}"),
    }
}

/// `0.93` → `93 %`.
pub fn pct(ratio: f64) -> String {
    format!("{:.0} %", ratio * 100.0)
}

/// Fails unless a transfer moved exactly `want` bytes.
pub fn check_bytes(what: &str, got: u64, want: u64) -> Result<()> {
    if got != want {
        bail!("{what} moved {got} bytes, expected {want}");
    }
    Ok(())
}
