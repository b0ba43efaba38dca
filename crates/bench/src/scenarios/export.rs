//! Scenario 5: RDS's export flow of the demo (list the folder, create a deposit, stream
//! every file from ownCloud to Zenodo, publish) through the connectors, vs the same
//! transfers done directly (Depth-1 walk, deposition, WebDAV GET piped into bucket PUT).

use std::time::Instant;

use anyhow::{bail, Context, Result};
use serde_json::{json, Value};

use super::pct;
use crate::http::Sizing;
use crate::report::{mib, Results, Section, Target, Throughput};
use crate::stats::{ratios, Samples, MIB};
use crate::{data, Ctx};

/// Zenodo accepts at most 100 files per record.
const FILES_PER_DEPOSIT: usize = 100;

fn ro_crate(part: usize) -> Value {
    json!({
        "@context": "https://w3id.org/ro/crate/1.1/context",
        "@graph": [
            {"@id": "ro-crate-metadata.json", "@type": "CreativeWork", "about": {"@id": "./"}},
            {"@id": "./", "@type": "Dataset", "name": format!("Benchmark export, part {part}"),
             "description": "Files exported by the benchmark.", "datePublished": "2026-11-28",
             "author": [{"@id": "#carberry"}]},
            {"@id": "#carberry", "@type": "Person", "givenName": "Josiah", "familyName": "Carberry"}
        ]
    })
}

/// `/export/part1/file-003.bin` (or its server path) → `part1_file-003.bin`.
fn zenodo_name(path: &str) -> String {
    let tail = path.rsplit("/export/").next().unwrap_or(path);
    tail.replace('/', "_")
}

fn body_of(resp: reqwest::Response) -> Result<(reqwest::Body, u64)> {
    let len = resp
        .content_length()
        .context("the download has no Content-Length")?;
    Ok((reqwest::Body::wrap_stream(resp.bytes_stream()), len))
}

/// The flow done directly: returns (wall seconds, sum of per-file transfer seconds).
async fn direct_flow(ctx: &Ctx, total: u64) -> Result<(f64, f64)> {
    let d = &ctx.direct;
    let started = Instant::now();
    let (mut files, _) = d.walk("/export").await?;
    files.sort();
    let (mut moved, mut transfers) = (0u64, 0.0);
    for (part, chunk) in files.chunks(FILES_PER_DEPOSIT).enumerate() {
        let (id, bucket) = d
            .create_deposition(&format!("direct export {part}"))
            .await?;
        for f in chunk {
            let t = Instant::now();
            let (body, len) = body_of(d.open(f).await?)?;
            moved += d
                .bucket_put(&bucket, &zenodo_name(f), body, len)
                .await?
                .bytes;
            transfers += t.elapsed().as_secs_f64();
        }
        d.publish(id).await?;
    }
    if moved != total {
        bail!("the direct flow moved {moved} bytes, expected {total}");
    }
    Ok((started.elapsed().as_secs_f64(), transfers))
}

/// The flow through both connectors, as RDS's exporter and metadata service call them.
async fn connector_flow(ctx: &Ctx, total: u64) -> Result<f64> {
    let v = &ctx.via;
    let started = Instant::now();
    let listed = v.list_folder("/export").await?;
    let mut moved = 0u64;
    for (part, chunk) in listed.chunks(FILES_PER_DEPOSIT).enumerate() {
        let project = v.create_project(ro_crate(part)).await?;
        for f in chunk {
            let (body, len) = body_of(v.open_file(f).await?)?;
            moved += v
                .upload(&project, &zenodo_name(f), body, len, Sizing::ContentLength)
                .await?
                .bytes;
        }
        v.publish(&project).await?;
    }
    if moved != total {
        bail!("the connector flow moved {moved} bytes, expected {total}");
    }
    Ok(started.elapsed().as_secs_f64())
}

pub async fn run(ctx: &Ctx, r: &mut Results) -> Result<()> {
    let (n, total) = (ctx.opts.export_files, ctx.opts.export_bytes);
    for (i, size) in data::varied_sizes(n, total).into_iter().enumerate() {
        let path = ctx
            .cloud
            .join(format!("export/part{}/file-{i:03}.bin", i % 4));
        data::write_random(&path, size, 1000 + i as u64)?;
    }
    let (oc, zc) = (&ctx.stack.owncloud, &ctx.stack.zenodo);
    let [mut direct, mut sum, mut via, mut oc_hwm, mut zc_hwm] =
        std::array::from_fn(|_| Samples::default());
    for _ in 0..ctx.opts.export_reps {
        let (wall, transfers) = direct_flow(ctx, total).await?;
        direct.push(wall);
        sum.push(transfers);
        oc.reset_peak()?;
        zc.reset_peak()?;
        via.push(connector_flow(ctx, total).await?);
        oc_hwm.push(oc.memory()?.hwm as f64 / MIB);
        zc_hwm.push(zc.memory()?.hwm as f64 / MIB);
    }
    let _ = std::fs::remove_dir_all(ctx.cloud.join("export"));
    let ratio = ratios(&direct, &via);
    let rate = |s: &Samples| Samples(s.0.iter().map(|t| total as f64 / MIB / t).collect());
    let deposits = n.div_ceil(FILES_PER_DEPOSIT);
    let mut s = Section::new(
        &format!("5. The RDS export flow: {n} files, {} in total", mib(total)),
        &format!(
            "{} repetitions. Through the connectors: `GET /storage/folder`, then per deposit \
             `POST /metadata/project` (RO-Crate), per file `GET /storage/file` piped into `POST \
             /metadata/project/{{id}}/files` (userId, filename, file, as RDS sends them), `PUT \
             /metadata/project/{{id}}`. Directly: a Depth-1 walk, then per deposit a deposition, per \
             file a WebDAV GET piped into a bucket PUT with Content-Length, publish. Zenodo takes \
             at most {FILES_PER_DEPOSIT} files per record, so {deposits} deposit(s). Median (min–max).",
            ctx.opts.export_reps
        ),
        &["path", "wall time (s)", "MiB/s", "direct / connector time", "peak RSS (MiB)"],
    );
    s.row(vec![
        "direct, sum of the per-file transfers".into(),
        sum.show(2),
        rate(&sum).show(0),
        "".into(),
        "".into(),
    ]);
    s.row(vec![
        "direct, whole flow".into(),
        direct.show(2),
        rate(&direct).show(0),
        "1".into(),
        "".into(),
    ]);
    s.row(vec![
        "through the connectors".into(),
        via.show(2),
        rate(&via).show(0),
        ratio.show(2),
        format!("ownCloud {}, Zenodo {}", oc_hwm.show(1), zc_hwm.show(1)),
    ]);
    r.sections.push(s);
    r.targets.push(Target::new(
        &format!("export flow, {n} files, {}", mib(total)),
        "–",
        format!(
            "{:.1} s, {} of direct speed",
            via.median(),
            pct(ratio.median())
        ),
        "≥ 90 % of direct",
        Some(ratio.median() >= 0.9),
    ));
    r.throughput.push(Throughput {
        label: "export flow".into(),
        direct: rate(&direct),
        connector: rate(&via),
    });
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names() {
        assert_eq!(
            zenodo_name("/export/part1/file-003.bin"),
            "part1_file-003.bin"
        );
        assert_eq!(
            zenodo_name("/remote.php/webdav/export/part0/f.bin"),
            "part0_f.bin"
        );
    }
}
