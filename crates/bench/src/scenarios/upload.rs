//! Scenario 2: a large upload through `POST /storage/file` vs a direct WebDAV PUT, and
//! through the Zenodo connector's file upload vs a direct bucket PUT (with Content-Length):
//! as RDS sends it, with the `size` field, and chunked (spooled). With Apache `mod_dav`
//! installed, also a direct PUT to Apache, one through nginx and one through a connector
//! in front of Apache.

use anyhow::Result;

use super::pct;
use crate::http::{dav_put, file_body, Sizing, Transfer};
use crate::refservers::writable_by_servers;
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

impl Pair {
    /// The peak-RSS target and the throughput plot's bars, alike for every upload row.
    fn report_memory_and_plot(&self, r: &mut Results, label: &str, plot_label: &str) {
        r.targets.push(Target::new(
            &format!("peak RSS, {label}"),
            "–",
            format!("{:.1} MiB", self.hwm.max()),
            "< 64 MiB",
            Some(self.hwm.max() < 64.0),
        ));
        r.throughput.push(Throughput {
            label: plot_label.into(),
            direct: self.direct.clone(),
            connector: self.via.clone(),
        });
    }
}

pub async fn run(ctx: &Ctx, r: &mut Results) -> Result<()> {
    let size = ctx.opts.transfer_bytes;
    let local = ctx.local.join("upload.bin");
    data::write_random(&local, size, 2)?;
    std::fs::create_dir_all(ctx.cloud.join("up"))?;
    writable_by_servers(&ctx.cloud.join("up"))?;
    let refs = &ctx.stack.refs;
    let apache = refs.apache.as_ref();
    let via_apache = apache.map(|a| ctx.via.owncloud_at(&a.connector.url));
    let nginx = refs.nginx_dav();
    let (mut on_apache, mut nginx_apache) = (Pair::default(), Pair::default());
    let (d, v) = (&ctx.direct, &ctx.via);
    let (oc, zc) = (&ctx.stack.owncloud, &ctx.stack.zenodo);
    let (dep, bucket) = d.create_deposition("upload benchmark").await?;
    let project = dep.to_string();
    v.list_folder("/up").await?;
    if let Some(va) = &via_apache {
        va.list_folder("/up").await?;
    }
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

        let (Some(a), Some(va)) = (apache, &via_apache) else {
            continue;
        };
        let url = |root: &str, name: &str| format!("{root}/up/{name}");
        on_apache.direct.push(
            dav_put(&d.http, &url(&a.dav_root, "direct-apache.bin"), &local)
                .await?
                .mib_per_s(),
        );
        if let Some((root, server)) = nginx {
            let cpu0 = server.worker_cpu()?;
            let t = dav_put(&d.http, &url(root, "nginx-apache.bin"), &local).await?;
            nginx_apache
                .cpu
                .push((server.worker_cpu()? - cpu0) / (t.bytes as f64 / GIB));
            nginx_apache.via.push(t.mib_per_s());
        }
        on_apache
            .via(&a.connector, va.post_file("/up/via-apache.bin", &local))
            .await?;
    }
    nginx_apache.direct = on_apache.direct.clone();
    for pair in &mut zen {
        pair.direct = bucket_direct.clone();
    }
    let _ = std::fs::remove_file(&local);

    let mut s = Section::new(
        &format!("2. Upload {}", mib(size)),
        &format!(
            "{} repetitions, interleaved. ownCloud: multipart `POST /storage/file` (userId, filepath, file) \
             vs a direct WebDAV PUT, to the in-process WebDAV server and to Apache `mod_dav` \
             (sendfile plays no part in an upload), and a PUT through nginx to Apache \
             (request bodies streamed: `proxy_request_buffering off`). Zenodo: multipart `POST /metadata/project/{{id}}/files` (userId, \
             filename, file: as RDS sends it, with a request Content-Length; with the optional `size` \
             field as well; chunked, with no length at all) vs a direct bucket PUT with \
             Content-Length. Median (min–max).",
            ctx.opts.transfer_reps
        ),
        &["path", "direct MiB/s", "through the hop MiB/s", "/ direct", "/ nginx", "connector peak RSS (MiB)", "hop CPU (s/GiB)"],
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
            String::new(),
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
        p.report_memory_and_plot(r, label, plot_label);
    }
    if !on_apache.via.0.is_empty() {
        apache_rows(&mut s, r, &on_apache, &nginx_apache, size);
    }
    for n in &refs.notes {
        s.note(n.clone());
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

/// The Apache rows: nginx → Apache and connector → Apache against a direct PUT to Apache,
/// and the connector against nginx (issue 15: ≥ nginx's throughput, ≥ 90 % of direct).
fn apache_rows(s: &mut Section, r: &mut Results, via: &Pair, nginx: &Pair, size: u64) {
    let has_nginx = !nginx.via.0.is_empty();
    if has_nginx {
        s.row(vec![
            "nginx → Apache PUT vs Apache PUT".into(),
            nginx.direct.show(0),
            nginx.via.show(0),
            ratios(&nginx.via, &nginx.direct).show(2),
            String::new(),
            String::new(),
            nginx.cpu.show(2),
        ]);
    }
    let ratio = ratios(&via.via, &via.direct);
    let vs_nginx = ratios(&via.via, &nginx.via);
    s.row(vec![
        "`POST /storage/file` → Apache vs Apache PUT".into(),
        via.direct.show(0),
        via.via.show(0),
        ratio.show(2),
        if has_nginx {
            vs_nginx.show(2)
        } else {
            String::new()
        },
        via.hwm.show(1),
        via.cpu.show(2),
    ]);
    let label = format!("`POST /storage/file` → Apache, {}", mib(size));
    let (ours, met) = if has_nginx {
        (
            format!(
                "{:.0} MiB/s, {} of direct, {} of nginx's {:.0} MiB/s",
                via.via.median(),
                pct(ratio.median()),
                pct(vs_nginx.median()),
                nginx.via.median()
            ),
            ratio.median() >= 0.9 && vs_nginx.median() >= 1.0,
        )
    } else {
        (
            format!(
                "{:.0} MiB/s, {} of direct (nginx not installed)",
                via.via.median(),
                pct(ratio.median())
            ),
            ratio.median() >= 0.9,
        )
    };
    r.targets.push(Target::new(
        &label,
        "–",
        ours,
        "≥ 90 % of direct and ≥ nginx's throughput",
        Some(met),
    ));
    via.report_memory_and_plot(r, &label, "upload (Apache)");
}
