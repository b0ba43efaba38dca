//! Scenario 1: a large file through `GET /storage/file` vs a direct WebDAV GET.

use anyhow::Result;

use super::{check_bytes, pct};
use crate::procfs::own_cpu_secs;
use crate::report::{mib, Results, Section, Target, Throughput};
use crate::stats::{ratios, Samples, GIB, MIB};
use crate::{data, Ctx};

pub async fn run(ctx: &Ctx, r: &mut Results) -> Result<()> {
    let size = ctx.opts.transfer_bytes;
    let path = "/big/download.bin";
    data::write_random(&ctx.cloud.join("big/download.bin"), size, 1)?;
    let oc = &ctx.stack.owncloud;
    // Warm-up: the token lookup and the connections.
    ctx.via.list_folder("/big").await?;
    let [mut direct, mut via, mut d_first, mut v_first, mut hwm, mut cpu, mut d_own, mut v_own] =
        std::array::from_fn(|_| Samples::default());
    let gib = size as f64 / GIB;
    for _ in 0..ctx.opts.transfer_reps {
        let own0 = own_cpu_secs()?;
        let d = ctx.direct.get(path).await?;
        d_own.push((own_cpu_secs()? - own0) / gib);
        check_bytes("direct GET", d.bytes, size)?;
        oc.reset_peak()?;
        let (cpu0, own0) = (oc.cpu()?, own_cpu_secs()?);
        let v = ctx.via.get_file(path).await?;
        cpu.push((oc.cpu()? - cpu0) / gib);
        v_own.push((own_cpu_secs()? - own0) / gib);
        check_bytes("GET /storage/file", v.bytes, size)?;
        hwm.push(oc.memory()?.hwm as f64 / MIB);
        direct.push(d.mib_per_s());
        via.push(v.mib_per_s());
        d_first.push(d.first_byte.as_secs_f64() * 1e3);
        v_first.push(v.first_byte.as_secs_f64() * 1e3);
    }
    let ratio = ratios(&via, &direct);
    let mut s = Section::new(
        &format!("1. Download {} through `GET /storage/file`", mib(size)),
        &format!(
            "{} repetitions; each: a direct WebDAV GET, then the same file through the connector. \
             Median (min–max).",
            ctx.opts.transfer_reps
        ),
        &[
            "path",
            "MiB/s",
            "first byte (ms)",
            "connector / direct",
            "connector peak RSS (MiB)",
            "connector CPU (s/GiB)",
            "provider + client CPU (s/GiB)",
        ],
    );
    s.row(vec![
        "direct WebDAV GET".into(),
        direct.show(0),
        d_first.show(1),
        "".into(),
        "".into(),
        "".into(),
        d_own.show(2),
    ]);
    s.row(vec![
        "`GET /storage/file`".into(),
        via.show(0),
        v_first.show(1),
        ratio.show(2),
        hwm.show(1),
        cpu.show(2),
        v_own.show(2),
    ]);
    s.note(
        "Original Python port: 34 MiB/s for 100 MiB, first byte after 2.8 s, 741 MiB peak memory.",
    );
    r.sections.push(s);
    r.targets.push(Target::new(
        &format!("`GET /storage/file` {} throughput", mib(size)),
        "34 MiB/s",
        format!(
            "{:.0} MiB/s, {} of direct",
            via.median(),
            pct(ratio.median())
        ),
        "≥ 90 % of direct",
        Some(ratio.median() >= 0.9),
    ));
    r.targets.push(Target::new(
        &format!("peak RSS, {} download", mib(size)),
        "741 MiB (100 MiB file)",
        format!("{:.1} MiB", hwm.max()),
        "< 64 MiB",
        Some(hwm.max() < 64.0),
    ));
    r.targets.push(Target::new(
        "first byte of a download",
        "2.8 s",
        format!("{:.1} ms", v_first.median()),
        "–",
        None,
    ));
    r.throughput.push(Throughput {
        label: "download (ownCloud)".into(),
        direct,
        connector: via,
    });
    Ok(())
}
