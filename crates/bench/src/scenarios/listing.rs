//! Scenario 3: listing a tree of 2,000 files in 100 nested folders through
//! `GET /storage/folder` vs a sequential Depth-1 PROPFIND walk done directly: on plain
//! loopback, and with a fixed delay per WebDAV answer, standing in for the network round
//! trip and server time of a real ownCloud (which loopback does not have).

use std::time::{Duration, Instant};

use anyhow::{bail, Result};

use crate::procfs::own_cpu_secs;
use crate::report::{Results, Section, Target};
use crate::stats::{ratios, Samples};
use crate::{data, Ctx};

const FOLDERS: usize = 100;
const FILES_PER_FOLDER: usize = 20;
/// The delay per WebDAV answer of the second run: a short round trip to a nearby server.
const DELAY: Duration = Duration::from_millis(5);

/// One run's samples: times and CPU in ms.
#[derive(Default)]
struct Run {
    direct: Samples,
    via: Samples,
    d_req: Samples,
    v_req: Samples,
    cpu: Samples,
    d_own: Samples,
    v_own: Samples,
}

async fn measure(ctx: &Ctx, files: usize, delay: Option<Duration>) -> Result<Run> {
    let dav = &ctx.stack.p.webdav;
    let oc = &ctx.stack.owncloud;
    dav.set_delay(delay);
    // Warm-up (token lookup, connections, the file system's caches): not counted.
    ctx.direct.walk("/tree").await?;
    ctx.via.list_folder("/tree").await?;
    let mut run = Run::default();
    for _ in 0..ctx.opts.listing_reps {
        dav.reset_counters();
        let (t, own0) = (Instant::now(), own_cpu_secs()?);
        let (found, requests) = ctx.direct.walk("/tree").await?;
        run.direct.push(t.elapsed().as_secs_f64() * 1e3);
        run.d_own.push((own_cpu_secs()? - own0) * 1e3);
        run.d_req.push(requests as f64);
        if found.len() != files {
            bail!(
                "the direct walk found {} files, expected {files}",
                found.len()
            );
        }

        dav.reset_counters();
        let (t, cpu0, own0) = (Instant::now(), oc.cpu()?, own_cpu_secs()?);
        let listed = ctx.via.list_folder("/tree").await?;
        run.via.push(t.elapsed().as_secs_f64() * 1e3);
        run.cpu.push((oc.cpu()? - cpu0) * 1e3);
        run.v_own.push((own_cpu_secs()? - own0) * 1e3);
        run.v_req.push(dav.requests("PROPFIND") as f64);
        if listed.len() != files {
            bail!(
                "GET /storage/folder listed {} files, expected {files}",
                listed.len()
            );
        }
    }
    dav.set_delay(None);
    Ok(run)
}

pub async fn run(ctx: &Ctx, r: &mut Results) -> Result<()> {
    let (folders, files) = data::write_tree(&ctx.cloud.join("tree"), FOLDERS, FILES_PER_FOLDER)?;
    let mut s = Section::new(
        &format!("3. Listing {files} files in {folders} nested folders"),
        &format!(
            "{} repetitions; `GET /storage/folder` (recursive, the default) vs a sequential \
             Depth-1 PROPFIND walk done directly; on loopback, then with the WebDAV server \
             answering each request {} ms late (a network round trip and server time, which \
             a real ownCloud has and loopback does not). Upstream requests are the WebDAV \
             server's PROPFIND counter. Median (min–max).",
            ctx.opts.listing_reps,
            DELAY.as_millis()
        ),
        &[
            "path",
            "time (ms)",
            "upstream PROPFINDs",
            "speed-up vs direct walk",
            "connector CPU (ms)",
            "provider + client CPU (ms)",
        ],
    );
    for delay in [None, Some(DELAY)] {
        let run = measure(ctx, files, delay).await?;
        let speedup = ratios(&run.direct, &run.via);
        let setting = match delay {
            None => "loopback".to_owned(),
            Some(d) => format!("{} ms per answer", d.as_millis()),
        };
        s.row(vec![
            format!("sequential direct walk, {setting}"),
            run.direct.show(1),
            run.d_req.show(0),
            "1".into(),
            "".into(),
            run.d_own.show(1),
        ]);
        s.row(vec![
            format!("`GET /storage/folder`, {setting}"),
            run.via.show(1),
            run.v_req.show(0),
            speedup.show(1),
            run.cpu.show(1),
            run.v_own.show(1),
        ]);
        let max_req = run.v_req.max();
        r.targets.push(Target::new(
            &format!("listing {files} files in {folders} folders, {setting}"),
            "0.22 s, 202 PROPFINDs",
            format!(
                "{:.1} ms, {:.0} PROPFINDs, {:.1}× the direct walk",
                run.via.median(),
                max_req,
                speedup.median()
            ),
            &format!(
                "≥ 5× faster than the sequential walk, ≤ {} requests",
                folders + 1
            ),
            Some(speedup.median() >= 5.0 && max_req <= (folders + 1) as f64),
        ));
    }
    s.note(format!(
        "{} folders below the listed one, so {} is the least number of Depth-1 PROPFINDs. \
         Original Python port: 0.22 s with 202 sequential PROPFINDs (loopback).",
        folders,
        folders + 1
    ));
    r.sections.push(s);
    Ok(())
}
