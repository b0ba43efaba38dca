//! Scenario 6: idle resident memory, start-to-ready time, binary and image sizes.

use std::time::Duration;

use anyhow::Result;

use crate::report::{mib, Results, Section, Target};
use crate::stack::{binary_dir, Connector, OWNCLOUD, ZENODO};
use crate::stats::{Samples, MIB};
use crate::{machine, Ctx};

/// How long a started connector idles before its RSS is read.
const SETTLE: Duration = Duration::from_millis(500);

fn image_sizes() -> Vec<(String, u64)> {
    let out = machine::workspace_root().join("out");
    let Ok(dir) = std::fs::read_dir(&out) else {
        return Vec::new();
    };
    let mut images: Vec<(String, u64)> = dir
        .flatten()
        .filter(|e| e.path().extension().is_some_and(|x| x == "tar"))
        .filter_map(|e| {
            Some((
                e.file_name().to_string_lossy().into_owned(),
                e.metadata().ok()?.len(),
            ))
        })
        .collect();
    images.sort();
    images
}

pub async fn run(ctx: &Ctx, r: &mut Results) -> Result<()> {
    let p = &ctx.stack.p;
    let logs = &ctx.stack.log_dir;
    let images = image_sizes();
    let mut s = Section::new(
        "6. Footprint",
        &format!(
            "{} fresh starts per connector, with the Token Storage up (registration included). \
             Start-to-ready: spawn → first `/ready` 200 (polled every 2 ms). Idle RSS: VmRSS {} ms \
             after ready. Median (min–max).",
            ctx.opts.starts,
            SETTLE.as_millis()
        ),
        &[
            "connector",
            "start-to-ready (ms)",
            "idle RSS (MiB)",
            "binary",
            "image",
        ],
    );
    let (mut all_ready, mut all_rss) = (Samples::default(), Samples::default());
    for (name, env) in [(OWNCLOUD, p.owncloud_env()), (ZENODO, p.zenodo_env())] {
        let (mut ready, mut rss) = (Samples::default(), Samples::default());
        for _ in 0..ctx.opts.starts {
            let c = Connector::start(name, &env, logs).await?;
            tokio::time::sleep(SETTLE).await;
            let m = c.memory()?;
            ready.push(c.start_to_ready.as_secs_f64() * 1e3);
            rss.push(m.rss as f64 / MIB);
            c.stop().await;
        }
        let binary = std::fs::metadata(binary_dir()?.join(name))
            .map(|m| mib(m.len()))
            .unwrap_or_else(|_| "missing".into());
        let image = images
            .iter()
            .find(|(file, _)| file.contains(name.trim_end_matches("-connector")))
            .map(|(file, len)| format!("{} (`out/{file}`)", mib(*len)))
            .unwrap_or_else(|| "not built".into());
        s.row(vec![
            format!("`{name}`"),
            ready.show(1),
            rss.show(1),
            binary,
            image,
        ]);
        all_ready.0.extend(&ready.0);
        all_rss.0.extend(&rss.0);
    }
    s.note("Original Python ports: ~65 MiB idle, ~0.4 s to the first answer.");
    r.sections.push(s);
    r.targets.push(Target::new(
        "idle RSS",
        "~65 MiB",
        format!("{:.1} MiB (worst {:.1})", all_rss.median(), all_rss.max()),
        "< 16 MiB",
        Some(all_rss.max() < 16.0),
    ));
    r.targets.push(Target::new(
        "start-to-ready",
        "~0.4 s",
        format!(
            "{:.0} ms (worst {:.0})",
            all_ready.median(),
            all_ready.max()
        ),
        "< 200 ms",
        Some(all_ready.median() < 200.0),
    ));
    Ok(())
}
