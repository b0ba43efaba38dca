//! Scenario 7: a soak at research-data size (20 GiB by default, `RDS_SOAK_GIB` to
//! change; 256 MiB in quick mode) through `GET /storage/file`, `POST /storage/file`
//! (chunked above the connector's threshold) and the Zenodo upload, each beside the same
//! transfer made directly, every byte verified by SHA-256 at the far end; then four
//! concurrent 1 GiB uploads through each connector. Peak RSS is the connector's VmHWM.

use std::path::Path;

use anyhow::{bail, Context, Result};
use futures_util::StreamExt as _;
use serde_json::Value;
use sha2::{Digest as _, Sha256};
use tokio::io::AsyncReadExt as _;

use super::pct;
use crate::http::{file_body, Sizing, Transfer};
use crate::report::{mib, Results, Section, Target};
use crate::stack::Connector;
use crate::stats::{GIB, MIB};
use crate::{data, Ctx};

const CONCURRENT: usize = 4;

fn soak_bytes(quick: bool) -> u64 {
    if quick {
        return 256 << 20;
    }
    let gib = std::env::var("RDS_SOAK_GIB")
        .ok()
        .and_then(|v| v.parse::<u64>().ok())
        .unwrap_or(20);
    gib << 30
}

async fn sha256_file(path: &Path) -> Result<String> {
    let mut f = tokio::fs::File::open(path)
        .await
        .with_context(|| format!("opening {}", path.display()))?;
    let mut h = Sha256::new();
    let mut buf = vec![0u8; 1 << 20];
    loop {
        let n = f.read(&mut buf).await?;
        if n == 0 {
            break;
        }
        h.update(&buf[..n]);
    }
    Ok(hex::encode(h.finalize()))
}

/// Reads a download to the end, hashing it.
async fn drain_hashed(
    resp: reqwest::Response,
    started: std::time::Instant,
) -> Result<(Transfer, String)> {
    let mut h = Sha256::new();
    let mut bytes = 0u64;
    let mut first = None;
    let mut body = resp.bytes_stream();
    while let Some(chunk) = body.next().await {
        let chunk = chunk.context("the download broke off")?;
        first.get_or_insert_with(|| started.elapsed());
        bytes += chunk.len() as u64;
        h.update(&chunk);
    }
    let elapsed = started.elapsed();
    Ok((
        Transfer {
            bytes,
            elapsed,
            first_byte: first.unwrap_or(elapsed),
        },
        hex::encode(h.finalize()),
    ))
}

fn verified(what: &str, got: &str, want: &str) -> Result<()> {
    if got != want {
        bail!("{what}: sha256 {got}, expected {want}");
    }
    Ok(())
}

/// One measured path: the direct rate, the connector's rate, its peak RSS and CPU.
struct Row {
    label: &'static str,
    direct: f64,
    via: f64,
    hwm_mib: f64,
    cpu_per_gib: f64,
}

async fn measured<F>(c: &Connector, bytes: u64, f: F) -> Result<(f64, f64, f64)>
where
    F: std::future::Future<Output = Result<Transfer>>,
{
    c.reset_peak()?;
    let cpu0 = c.cpu()?;
    let t = f.await?;
    let cpu = (c.cpu()? - cpu0) / (bytes as f64 / GIB);
    Ok((t.mib_per_s(), c.memory()?.hwm as f64 / MIB, cpu))
}

pub async fn run(ctx: &Ctx, r: &mut Results) -> Result<()> {
    let size = soak_bytes(ctx.opts.quick);
    let (d, v) = (&ctx.direct, &ctx.via);
    let (oc, zc) = (&ctx.stack.owncloud, &ctx.stack.zenodo);
    let src = ctx.cloud.join("soak/source.bin");
    data::write_random(&src, size, 7)?;
    let want = sha256_file(&src).await?;
    let mut rows = Vec::new();

    // Downloads.
    let started = std::time::Instant::now();
    let (t, sha) =
        drain_hashed(d.open("/remote.php/webdav/soak/source.bin").await?, started).await?;
    verified("direct GET", &sha, &want)?;
    let direct = t.mib_per_s();
    let (via, hwm, cpu) = measured(oc, size, async {
        let started = std::time::Instant::now();
        let (t, sha) = drain_hashed(v.open_file("/soak/source.bin").await?, started).await?;
        verified("GET /storage/file", &sha, &want)?;
        Ok(t)
    })
    .await?;
    rows.push(Row {
        label: "`GET /storage/file` vs WebDAV GET",
        direct,
        via,
        hwm_mib: hwm,
        cpu_per_gib: cpu,
    });

    // ownCloud uploads: each copy is checked on disk, then removed.
    let direct = d.put("/soak/direct.bin", &src).await?.mib_per_s();
    let copy = ctx.cloud.join("soak/direct.bin");
    verified("WebDAV PUT", &sha256_file(&copy).await?, &want)?;
    std::fs::remove_file(&copy)?;
    let (via, hwm, cpu) = measured(oc, size, v.post_file("/soak/via.bin", &src)).await?;
    let copy = ctx.cloud.join("soak/via.bin");
    verified("POST /storage/file", &sha256_file(&copy).await?, &want)?;
    std::fs::remove_file(&copy)?;
    rows.push(Row {
        label: "`POST /storage/file` vs WebDAV PUT",
        direct,
        via,
        hwm_mib: hwm,
        cpu_per_gib: cpu,
    });
    // The same chunked protocol driven directly (8 MiB chunks, the connector's default):
    // what the server's chunk handling and assembly cost by themselves.
    let chunked = d
        .chunked_put("/soak/direct.bin", &src, 8 << 20)
        .await?
        .mib_per_s();
    let copy = ctx.cloud.join("soak/direct.bin");
    verified("direct chunked upload", &sha256_file(&copy).await?, &want)?;
    std::fs::remove_file(&copy)?;
    rows.push(Row {
        label: "`POST /storage/file` vs a direct chunked upload",
        direct: chunked,
        via,
        hwm_mib: hwm,
        cpu_per_gib: cpu,
    });

    // Zenodo uploads, as RDS sends them.
    let (dep, bucket) = d.create_deposition("soak").await?;
    let (body, len) = file_body(&src).await?;
    let direct = d
        .bucket_put(&bucket, "direct.bin", body, len)
        .await?
        .mib_per_s();
    // Each copy is checked and removed before the next (disk space: two copies at most).
    for f in ctx.stack.p.zenodo.files(dep) {
        verified(&format!("Zenodo {}", f.key), &f.sha256, &want)?;
    }
    delete_objects(ctx, &bucket, &["direct.bin"]).await?;
    let (body, len) = file_body(&src).await?;
    let project = dep.to_string();
    let (via, hwm, cpu) = measured(
        zc,
        size,
        v.upload(&project, "via.bin", body, len, Sizing::ContentLength),
    )
    .await?;
    for f in ctx.stack.p.zenodo.files(dep) {
        verified(&format!("Zenodo {}", f.key), &f.sha256, &want)?;
    }
    delete_objects(ctx, &bucket, &["via.bin"]).await?;
    rows.push(Row {
        label: "`POST .../files` vs bucket PUT",
        direct,
        via,
        hwm_mib: hwm,
        cpu_per_gib: cpu,
    });
    std::fs::remove_file(&src)?;

    let mut s = Section::new(
        &format!("7. Soak: {} per transfer", mib(size)),
        "Each path once, the direct transfer first; every copy verified by SHA-256 where it \
         landed (on the WebDAV server's disk, in the Zenodo emulator's store, or as the \
         client received it). Uploads of this size go through the ownCloud connector's \
         chunked, retryable upload.",
        &[
            "path",
            "direct MiB/s",
            "connector MiB/s",
            "connector / direct",
            "connector peak RSS (MiB)",
            "connector CPU (s/GiB)",
        ],
    );
    for row in &rows {
        s.row(vec![
            row.label.into(),
            format!("{:.0}", row.direct),
            format!("{:.0}", row.via),
            pct(row.via / row.direct),
            format!("{:.1}", row.hwm_mib),
            format!("{:.2}", row.cpu_per_gib),
        ]);
        r.targets.push(Target::new(
            &format!("soak {}: {}", mib(size), row.label),
            "–",
            format!(
                "{:.0} MiB/s, {} of direct, peak RSS {:.1} MiB, sha256 verified",
                row.via,
                pct(row.via / row.direct),
                row.hwm_mib
            ),
            "peak RSS < 64 MiB, verified",
            Some(row.hwm_mib < 64.0),
        ));
    }

    // Four concurrent uploads of 1 GiB (32 MiB in quick mode) through each connector.
    let each: u64 = if ctx.opts.quick { 32 << 20 } else { 1 << 30 };
    let local = ctx.local.join("concurrent.bin");
    data::write_random(&local, each, 8)?;
    let want = sha256_file(&local).await?;
    oc.reset_peak()?;
    let started = std::time::Instant::now();
    let uploads = (0..CONCURRENT).map(|i| {
        let local = local.clone();
        async move { v.post_file(&format!("/soak/c{i}.bin"), &local).await }
    });
    for t in futures_util::future::join_all(uploads).await {
        t?;
    }
    let oc_rate = (CONCURRENT as u64 * each) as f64 / MIB / started.elapsed().as_secs_f64();
    let oc_hwm = oc.memory()?.hwm as f64 / MIB;
    for i in 0..CONCURRENT {
        let copy = ctx.cloud.join(format!("soak/c{i}.bin"));
        verified(
            &format!("concurrent upload {i}"),
            &sha256_file(&copy).await?,
            &want,
        )?;
        std::fs::remove_file(&copy)?;
    }
    zc.reset_peak()?;
    let started = std::time::Instant::now();
    let uploads = (0..CONCURRENT).map(|i| {
        let (local, project) = (local.clone(), project.clone());
        async move {
            let (body, len) = file_body(&local).await?;
            v.upload(
                &project,
                &format!("c{i}.bin"),
                body,
                len,
                Sizing::ContentLength,
            )
            .await
        }
    });
    for t in futures_util::future::join_all(uploads).await {
        t?;
    }
    let zc_rate = (CONCURRENT as u64 * each) as f64 / MIB / started.elapsed().as_secs_f64();
    let zc_hwm = zc.memory()?.hwm as f64 / MIB;
    let keys: Vec<String> = (0..CONCURRENT).map(|i| format!("c{i}.bin")).collect();
    for f in ctx.stack.p.zenodo.files(dep) {
        verified(&format!("Zenodo {}", f.key), &f.sha256, &want)?;
    }
    let keys: Vec<&str> = keys.iter().map(String::as_str).collect();
    delete_objects(ctx, &bucket, &keys).await?;
    std::fs::remove_file(&local)?;
    for (label, rate, hwm) in [
        ("`POST /storage/file`", oc_rate, oc_hwm),
        ("`POST .../files` (Zenodo)", zc_rate, zc_hwm),
    ] {
        s.row(vec![
            format!("{CONCURRENT} × {} at once, {label}", mib(each)),
            "".into(),
            format!("{rate:.0} (all together)"),
            "".into(),
            format!("{hwm:.1}"),
            "".into(),
        ]);
        r.targets.push(Target::new(
            &format!("{CONCURRENT} concurrent {} uploads, {label}", mib(each)),
            "–",
            format!("peak RSS {hwm:.1} MiB, sha256 verified"),
            "< 64 MiB",
            Some(hwm < 64.0),
        ));
    }
    r.sections.push(s);
    Ok(())
}

/// Removes bucket objects (the emulator keeps them on disk).
async fn delete_objects(ctx: &Ctx, bucket: &str, keys: &[&str]) -> Result<()> {
    for key in keys {
        let resp = ctx
            .direct
            .http
            .delete(format!("{bucket}/{key}"))
            .bearer_auth(crate::stack::ZENODO_TOKEN)
            .send()
            .await?;
        if !resp.status().is_success() {
            let body: Value = resp.json().await.unwrap_or_default();
            bail!("removing {key}: {body}");
        }
    }
    Ok(())
}
