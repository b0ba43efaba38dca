//! The transfer metrics of uploads into a deposition (the metadata interface's upload
//! path): completed, stored wrongly (checksum mismatch), stalled by the caller. One test,
//! its cases in sequence, as the metrics are the process's.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use std::time::{Duration, Instant};

use common::{bytes, local, sample_crate, start_with};
use connector_core::CommonConfig;
use test_support::metrics::Scrape;
use test_support::paced::read_answer;

const LABELS: [(&str, &str); 2] = [("upstream", "zenodo"), ("direction", "upload")];

/// How many uploads ended with each outcome between `before` and now, once none runs.
async fn ended_since(base: &str, before: &Scrape) -> Vec<(&'static str, f64)> {
    let deadline = Instant::now() + Duration::from_secs(20);
    let after = loop {
        let after = Scrape::of(base).await;
        if after.value("connector_transfers_in_flight", &LABELS) == 0.0 {
            break after;
        }
        assert!(Instant::now() < deadline, "an upload never ended");
        tokio::time::sleep(Duration::from_millis(50)).await;
    };
    connector_core::metrics::OUTCOMES
        .iter()
        .map(|&o| {
            let labels = [LABELS[0], LABELS[1], ("outcome", o)];
            let n = after.value("connector_transfers_total", &labels)
                - before.value("connector_transfers_total", &labels);
            (o, n)
        })
        .filter(|(_, n)| *n != 0.0)
        .collect()
}

#[tokio::test]
async fn deposit_uploads_are_counted_by_outcome() {
    let env = start_with(CommonConfig {
        idle_timeout_secs: 1,
        response_timeout_secs: 10,
        ..local()
    })
    .await;
    let base = env.conn.url();
    let id = env.create(sample_crate()).await;

    let before = Scrape::of(&base).await;
    let content = bytes(3 << 20, 1);
    let (status, body) = env.upload(id, "whole.bin", content).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(ended_since(&base, &before).await, [("completed", 1.0)]);
    let after = Scrape::of(&base).await;
    assert_eq!(
        after.value("connector_transfer_bytes_total", &LABELS)
            - before.value("connector_transfer_bytes_total", &LABELS),
        (3 << 20) as f64
    );

    let before = Scrape::of(&base).await;
    env.zenodo.corrupt_next_uploads(1);
    let (status, body) = env.upload(id, "corrupt.bin", bytes(1000, 2)).await;
    assert_eq!(status, 502, "{body}");
    assert_eq!(
        ended_since(&base, &before).await,
        [("checksum_mismatch", 1.0)]
    );

    let before = Scrape::of(&base).await;
    let mut stream = env
        .stall_upload(id, "stalled.bin", 4_000_000, 1_000_000)
        .await;
    let (status, _) = tokio::time::timeout(Duration::from_secs(20), read_answer(&mut stream))
        .await
        .unwrap()
        .unwrap();
    assert_eq!(status, 408);
    assert_eq!(ended_since(&base, &before).await, [("stalled", 1.0)]);
    env.stop().await;
}
