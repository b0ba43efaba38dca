//! Scenario 2: a large upload through `POST /storage/file` vs a direct WebDAV PUT, and
//! through the Zenodo connector's file upload vs a direct bucket PUT (with Content-Length):
//! as RDS sends it, with the `size` field, and chunked (spooled).

use anyhow::Result;

use super::pct;
use crate::http::{file_body, Sizing, Transfer};
use crate::report::{mib, Results, Section, Target, Throughput};
use crate::stack::Connector;
use crate::stats::{ratios, Samples, GIB, MIB};
use crate::{data, Ctx};

#[derive(Default)]
struct Pair {
    direct: Samples,
    via: Samples,
    hwm: Samples,
    /// Connector CPU seconds per GiB.
    cpu: Samples,
}

impl Pair {
    /// Runs `f` through connector `c`, recording its rate, peak RSS and CPU.
    async fn via<F>(&mut self, c: &Connector, f: F) -> Result<()>
    where
        F: std::future::Future<Output = Result<Transfer>>,
    {
        c.reset_peak()?;
        let cpu0 = c.cpu()?;
        let t = f.await?;
        self.cpu.push((c.cpu()? - cpu0) / (t.bytes as f64 / GIB));
        self.hwm.push(c.memory()?.hwm as f64 / MIB);
        self.via.push(t.mib_per_s());
        Ok(())
    }
}

pub async fn run(ctx: &Ctx, r: &mut Results) -> Result<()> {
    let size = ctx.opts.transfer_bytes;
    let local = ctx.local.join("upload.bin");
    data::write_random(&local, size, 2)?;
    std::fs::create_dir_all(ctx.cloud.join("up"))?;
    let (d, v) = (&ctx.direct, &ctx.via);
    let (oc, zc) = (&ctx.stack.owncloud, &ctx.stack.zenodo);
    let (dep, bucket) = d.create_deposition("upload benchmark").await?;
    let project = dep.to_string();
    v.list_folder("/up").await?;
    let mut dav = Pair::default();
    let sizings = [Sizing::ContentLength, Sizing::SizeField, Sizing::Chunked];
    let mut zen: [Pair; 3] = Default::default();
    let mut bucket_direct = Samples::default();
    for _ in 0..ctx.opts.transfer_reps {
        dav.direct
            .push(d.put("/up/direct.bin", &local).await?.mib_per_s());
        dav.via(oc, v.post_file("/up/via.bin", &local)).await?;

        let (body, len) = file_body(&local).await?;
        bucket_direct.push(
            d.bucket_put(&bucket, "direct.bin", body, len)
                .await?
                .mib_per_s(),
        );
        for (pair, sizing) in zen.iter_mut().zip(sizings) {
            let (body, len) = file_body(&local).await?;
            pair.via(zc, v.upload(&project, "via.bin", body, len, sizing))
                .await?;
        }
    }
    for pair in &mut zen {
        pair.direct = bucket_direct.clone();
    }
    let _ = std::fs::remove_file(&local);

    let mut s = Section::new(
        &format!("2. Upload {}", mib(size)),
        &format!(
            "{} repetitions, interleaved. ownCloud: multipart `POST /storage/file` (userId, filepath, file) \
             vs a direct WebDAV PUT. Zenodo: multipart `POST /metadata/project/{{id}}/files` (userId, \
             filename, file: as RDS sends it, with a request Content-Length; with the optional `size` \
             field as well; chunked, with no length at all) vs a direct bucket PUT with \
             Content-Length. Median (min–max).",
            ctx.opts.transfer_reps
        ),
        &["path", "direct MiB/s", "connector MiB/s", "connector / direct", "connector peak RSS (MiB)", "connector CPU (s/GiB)"],
    );
    let rows = [
        (
            "`POST /storage/file` vs WebDAV PUT",
            &dav,
            "upload (ownCloud)",
            true,
        ),
        (
            "`POST .../files` vs bucket PUT",
            &zen[0],
            "upload (Zenodo)",
            true,
        ),
        (
            "`POST .../files` with `size` vs bucket PUT",
            &zen[1],
            "upload (Zenodo, size given)",
            true,
        ),
        (
            "`POST .../files` chunked vs bucket PUT",
            &zen[2],
            "upload (Zenodo, chunked)",
            false,
        ),
    ];
    for (label, p, plot_label, is_target) in rows {
        let ratio = ratios(&p.via, &p.direct);
        s.row(vec![
            label.into(),
            p.direct.show(0),
            p.via.show(0),
            ratio.show(2),
            p.hwm.show(1),
            p.cpu.show(2),
        ]);
        // The chunked row shows what spooling costs; RDS does not send that way.
        if is_target {
            r.targets.push(Target::new(
                &format!("{label}, {}", mib(size)),
                "–",
                format!(
                    "{:.0} MiB/s, {} of direct",
                    p.via.median(),
                    pct(ratio.median())
                ),
                "≥ 90 % of direct",
                Some(ratio.median() >= 0.9),
            ));
        }
        r.targets.push(Target::new(
            &format!("peak RSS, {label}"),
            "–",
            format!("{:.1} MiB", p.hwm.max()),
            "< 64 MiB",
            Some(p.hwm.max() < 64.0),
        ));
        r.throughput.push(Throughput {
            label: plot_label.into(),
            direct: p.direct.clone(),
            connector: p.via.clone(),
        });
    }
    s.note(
        "A bucket PUT needs a length. The Zenodo connector takes it from the `size` field, or \
         derives it from the request's Content-Length (the file part comes last), and streams; \
         only a chunked request has no length at all, and then the connector spools the file \
         to its temporary folder before sending it.",
    );
    r.sections.push(s);
    Ok(())
}
