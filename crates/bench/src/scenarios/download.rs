//! Scenario 1: a large file through `GET /storage/file` vs a direct WebDAV GET, on the
//! in-process WebDAV server and, when installed, on Apache `mod_dav` (sendfile) directly,
//! through nginx and through a connector in front of Apache.

use anyhow::Result;

use super::{check_bytes, pct};
use crate::http::{dav_get, Transfer};
use crate::procfs::own_cpu_secs;
use crate::report::{mib, Results, Section, Target, Throughput};
use crate::stats::{ratios, Samples, GIB, MIB};
use crate::{data, Ctx};

/// One route's figures over the repetitions.
#[derive(Default)]
struct Route {
    rate: Samples,
    first: Samples,
    /// Middle hop CPU seconds per GiB (connector, nginx worker).
    hop_cpu: Samples,
    /// This process (provider and client) plus Apache's serving child, per GiB.
    provider_cpu: Samples,
    hwm: Samples,
}

impl Route {
    fn add(&mut self, t: &Transfer, size: u64) -> Result<()> {
        check_bytes("download", t.bytes, size)?;
        self.rate.push(t.mib_per_s());
        self.first.push(t.first_byte.as_secs_f64() * 1e3);
        Ok(())
    }

    fn row(&self, label: &str, direct: &Route, nginx: Option<&Route>) -> Vec<String> {
        let vs = |other: Option<&Route>| {
            other.map_or(String::new(), |o| ratios(&self.rate, &o.rate).show(2))
        };
        let same = std::ptr::eq(self, direct);
        vec![
            label.into(),
            self.rate.show(0),
            self.first.show(1),
            if same {
                String::new()
            } else {
                vs(Some(direct))
            },
            vs(nginx.filter(|n| !std::ptr::eq(*n, self))),
            self.hwm.show(1),
            self.hop_cpu.show(2),
            self.provider_cpu.show(2),
        ]
    }
}

pub async fn run(ctx: &Ctx, r: &mut Results) -> Result<()> {
    let size = ctx.opts.transfer_bytes;
    let path = "/big/download.bin";
    data::write_random(&ctx.cloud.join("big/download.bin"), size, 1)?;
    let oc = &ctx.stack.owncloud;
    let refs = &ctx.stack.refs;
    let apache = refs.apache.as_ref();
    let via_apache = apache.map(|a| ctx.via.owncloud_at(&a.connector.url));
    let nginx_url = refs.nginx_dav();
    // Warm-up: the token lookup and the connections.
    ctx.via.list_folder("/big").await?;
    if let Some(v) = &via_apache {
        v.list_folder("/big").await?;
    }
    let gib = size as f64 / GIB;
    let [mut direct, mut via, mut a_direct, mut a_nginx, mut a_via] =
        std::array::from_fn(|_| Route::default());
    for _ in 0..ctx.opts.transfer_reps {
        let own0 = own_cpu_secs()?;
        let d = ctx.direct.get(path).await?;
        direct.provider_cpu.push((own_cpu_secs()? - own0) / gib);
        direct.add(&d, size)?;
        oc.reset_peak()?;
        let (cpu0, own0) = (oc.cpu()?, own_cpu_secs()?);
        let v = ctx.via.get_file(path).await?;
        via.hop_cpu.push((oc.cpu()? - cpu0) / gib);
        via.provider_cpu.push((own_cpu_secs()? - own0) / gib);
        via.hwm.push(oc.memory()?.hwm as f64 / MIB);
        via.add(&v, size)?;

        let (Some(a), Some(va)) = (apache, &via_apache) else {
            continue;
        };
        let server = &a.apache.server;
        let provider = || -> Result<f64> { Ok(own_cpu_secs()? + server.worker_cpu()?) };
        let p0 = provider()?;
        let t = dav_get(&ctx.direct.http, &format!("{}{path}", a.dav_root)).await?;
        a_direct.provider_cpu.push((provider()? - p0) / gib);
        a_direct.add(&t, size)?;
        if let Some((root, nginx)) = nginx_url {
            let (n0, p0) = (nginx.worker_cpu()?, provider()?);
            let t = dav_get(&ctx.direct.http, &format!("{root}{path}")).await?;
            a_nginx.hop_cpu.push((nginx.worker_cpu()? - n0) / gib);
            a_nginx.provider_cpu.push((provider()? - p0) / gib);
            a_nginx.add(&t, size)?;
        }
        let c = &a.connector;
        c.reset_peak()?;
        let (c0, p0) = (c.cpu()?, provider()?);
        let t = va.get_file(path).await?;
        a_via.hop_cpu.push((c.cpu()? - c0) / gib);
        a_via.provider_cpu.push((provider()? - p0) / gib);
        a_via.hwm.push(c.memory()?.hwm as f64 / MIB);
        a_via.add(&t, size)?;
    }
    let ratio = ratios(&via.rate, &direct.rate);
    let mut s = Section::new(
        &format!("1. Download {} through `GET /storage/file`", mib(size)),
        &format!(
            "{} repetitions; each: a direct WebDAV GET from the in-process WebDAV server \
             (dav-server: no sendfile), the same file through the connector; then, on Apache \
             `mod_dav` serving the same folder with sendfile on: a direct GET, a GET through \
             nginx (buffered, 8 × 64 KiB, never spooled to disk) and through a second connector \
             in front of Apache. Median (min–max).",
            ctx.opts.transfer_reps
        ),
        &[
            "path",
            "MiB/s",
            "first byte (ms)",
            "/ direct",
            "/ nginx",
            "connector peak RSS (MiB)",
            "hop CPU (s/GiB)",
            "provider + client CPU (s/GiB)",
        ],
    );
    s.row(direct.row("direct WebDAV GET (dav-server)", &direct, None));
    s.row(via.row("`GET /storage/file` → dav-server", &direct, None));
    if apache.is_some() {
        let n = (!a_nginx.rate.0.is_empty()).then_some(&a_nginx);
        s.row(a_direct.row("direct GET from Apache (sendfile)", &a_direct, None));
        if let Some(n) = n {
            s.row(n.row("nginx → Apache", &a_direct, None));
        }
        s.row(a_via.row("`GET /storage/file` → Apache", &a_direct, n));
    }
    s.note(
        "Original Python port: 34 MiB/s for 100 MiB, first byte after 2.8 s, 741 MiB peak memory.",
    );
    s.note(
        "Apache's direct GET uses sendfile (the file goes from the page cache to the socket in \
         the kernel), which no proxy can: the hop's target there is nginx's rate, not 90 % of \
         direct. Apache's CPU is counted under provider + client.",
    );
    for n in &refs.notes {
        s.note(n.clone());
    }
    r.sections.push(s);
    r.targets.push(Target::new(
        &format!("`GET /storage/file` {} throughput", mib(size)),
        "34 MiB/s",
        format!(
            "{:.0} MiB/s, {} of direct",
            via.rate.median(),
            pct(ratio.median())
        ),
        "≥ 90 % of direct",
        Some(ratio.median() >= 0.9),
    ));
    if !a_nginx.rate.0.is_empty() && !a_via.rate.0.is_empty() {
        let vs = ratios(&a_via.rate, &a_nginx.rate);
        r.targets.push(Target::new(
            &format!(
                "`GET /storage/file` {} → Apache vs nginx → Apache",
                mib(size)
            ),
            "–",
            format!(
                "{:.0} MiB/s, {} of nginx's {:.0} MiB/s",
                a_via.rate.median(),
                pct(vs.median()),
                a_nginx.rate.median()
            ),
            "≥ nginx's throughput",
            Some(vs.median() >= 1.0),
        ));
    }
    let hwm = Samples(via.hwm.0.iter().chain(&a_via.hwm.0).copied().collect());
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
        format!("{:.1} ms", via.first.median()),
        "–",
        None,
    ));
    r.throughput.push(Throughput {
        label: "download (ownCloud)".into(),
        direct: direct.rate,
        connector: via.rate,
    });
    if !a_via.rate.0.is_empty() {
        r.throughput.push(Throughput {
            label: "download (Apache)".into(),
            direct: a_direct.rate,
            connector: a_via.rate,
        });
    }
    Ok(())
}
