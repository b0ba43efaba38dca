//! What an operator sees of real transfers through the ownCloud connector: the transfer
//! metrics on `GET /metrics` and the progress lines in the log, for transfers that
//! complete, that the caller breaks off or stalls, that the provider stalls or breaks,
//! and whose checksum differs. The idle timeout is 1 s and progress is logged every 1 s,
//! so each case takes seconds; healthy transfers are paced over several of them.
//!
//! One test, its cases in sequence: the metrics are the process's, so no other test in
//! this binary may move them between two scrapes.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use std::time::{Duration, Instant};

use connector_core::server::RunningConnector;
use owncloud_emulator::{Fault, FaultKind, WebDavServer};
use test_support::faulty::{FaultyUpstream, Mode};
use test_support::logs::Logs;
use test_support::metrics::Scrape;
use test_support::paced::{read_answer, PacedForm};

use common::{shrunk_connector, shrunk_user_id, TOKEN, USER};

const WITHIN: Duration = Duration::from_secs(20);

/// The transfer series of the `webdav` upstream in one direction, between two scrapes.
struct Delta<'a> {
    before: &'a Scrape,
    after: Scrape,
    direction: &'static str,
}

impl Delta<'_> {
    fn of(&self, name: &str, extra: &[(&str, &'static str)]) -> f64 {
        let mut labels = vec![("upstream", "webdav"), ("direction", self.direction)];
        labels.extend_from_slice(extra);
        self.after.value(name, &labels) - self.before.value(name, &labels)
    }

    fn outcomes(&self) -> Vec<(&'static str, f64)> {
        connector_core::metrics::OUTCOMES
            .iter()
            .map(|&o| (o, self.of("connector_transfers_total", &[("outcome", o)])))
            .filter(|(_, n)| *n != 0.0)
            .collect()
    }

    fn bytes(&self) -> f64 {
        self.of("connector_transfer_bytes_total", &[])
    }
}

/// Scrapes until no transfer is in flight (a cut transfer ends just after its answer),
/// then returns what changed in `direction` since `before`.
async fn settled<'a>(
    conn: &RunningConnector,
    before: &'a Scrape,
    direction: &'static str,
) -> Delta<'a> {
    let deadline = Instant::now() + WITHIN;
    loop {
        let after = Scrape::of(&conn.url()).await;
        let running = after.value(
            "connector_transfers_in_flight",
            &[("upstream", "webdav"), ("direction", direction)],
        );
        if running == 0.0 {
            return Delta {
                before,
                after,
                direction,
            };
        }
        assert!(Instant::now() < deadline, "{running} transfers never ended");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

/// An upload of `len` pattern bytes to `/<name>`, sent as the test paces it.
fn upload_form(uid: &str, name: &str, len: u64) -> PacedForm {
    PacedForm::new(
        &[("userId", uid), ("filepath", &format!("/{name}"))],
        name,
        len,
    )
}

async fn post(conn: &RunningConnector, form: &PacedForm) -> reqwest::Response {
    form.post(
        &reqwest::Client::new(),
        &format!("{}/storage/file", conn.url()),
    )
    .await
    .unwrap()
}

async fn get_file(conn: &RunningConnector, path: &str) -> reqwest::Response {
    reqwest::Client::new()
        .get(format!("{}/storage/file", conn.url()))
        .json(&serde_json::json!({"userId": shrunk_user_id(), "filepath": path}))
        .send()
        .await
        .unwrap()
}

#[tokio::test]
async fn transfers_are_counted_by_outcome_and_long_ones_log_progress() {
    let logs = Logs::capture();
    let dir = tempfile::tempdir().unwrap();
    common::write_big(&dir.path().join("big.bin"), 64 * 1024 * 1024);
    let dav = WebDavServer::start(dir.path(), USER, TOKEN).await.unwrap();
    let conn = shrunk_connector(dav.base_url()).await;
    let uid = shrunk_user_id();

    // A fresh connector shows every transfer series at 0.
    let fresh = Scrape::of(&conn.url()).await;
    for direction in ["download", "upload"] {
        for outcome in connector_core::metrics::OUTCOMES {
            let labels = [
                ("upstream", "webdav"),
                ("direction", direction),
                ("outcome", outcome),
            ];
            assert!(
                fresh.get("connector_transfers_total", &labels).is_some(),
                "{labels:?}"
            );
        }
    }

    // 1. An upload paced over about 3 s: completed, every byte counted, progress logged.
    let len = 1_500_000;
    let before = Scrape::of(&conn.url()).await;
    let form = upload_form(&uid, "paced.bin", len).pace(50_000, Duration::from_millis(100));
    let resp = post(&conn, &form).await;
    assert_eq!(resp.status(), 200);
    let request_id = resp.headers()["x-request-id"].to_str().unwrap().to_owned();
    let d = settled(&conn, &before, "upload").await;
    assert_eq!(d.outcomes(), [("completed", 1.0)]);
    assert_eq!(d.bytes(), len as f64);
    assert_eq!(d.of("connector_transfer_size_bytes_count", &[]), 1.0);
    assert_eq!(d.of("connector_transfer_size_bytes_sum", &[]), len as f64);
    assert_eq!(
        d.of("connector_transfer_size_bytes_bucket", &[("le", "1000000")]),
        0.0
    );
    assert_eq!(
        d.of(
            "connector_transfer_size_bytes_bucket",
            &[("le", "10000000")]
        ),
        1.0
    );
    assert!(d.of("connector_transfer_duration_seconds_sum", &[]) >= 2.0);
    let text = logs.text();
    let of_request: Vec<&str> = text.lines().filter(|l| l.contains(&request_id)).collect();
    // Shown with --nocapture: the lines docs/operations.md quotes.
    println!("{}", of_request.join("\n"));
    let progress = of_request
        .iter()
        .filter(|l| l.contains("transfer in progress") && l.contains(" INFO "))
        .count();
    assert!(
        progress >= 2,
        "progress lines every second: {of_request:#?}"
    );
    assert!(
        of_request
            .iter()
            .any(|l| l.contains("transfer ended") && l.contains("bytes=1500000")),
        "{of_request:#?}"
    );
    assert!(
        !of_request.iter().any(|l| l.contains(TOKEN)),
        "{of_request:#?}"
    );

    // 2. The same file downloaded whole.
    let before = Scrape::of(&conn.url()).await;
    let body = get_file(&conn, "/paced.bin").await.bytes().await.unwrap();
    assert_eq!(body.len(), len as usize);
    let d = settled(&conn, &before, "download").await;
    assert_eq!(d.outcomes(), [("completed", 1.0)]);
    assert_eq!(d.bytes(), len as f64);

    // 3. A caller that stops sending: 408, stalled.
    let before = Scrape::of(&conn.url()).await;
    let form = upload_form(&uid, "stalled.bin", 4_000_000);
    let mut stream = form
        .send_stalling(conn.addr(), "POST", "/storage/file", 1_000_000)
        .await
        .unwrap();
    let (status, _) = tokio::time::timeout(WITHIN, read_answer(&mut stream))
        .await
        .unwrap()
        .unwrap();
    assert_eq!(status, 408);
    let d = settled(&conn, &before, "upload").await;
    assert_eq!(d.outcomes(), [("stalled", 1.0)]);
    assert_eq!(d.bytes(), 1_000_000.0, "what arrived is counted");

    // 4. A caller that closes the connection mid-upload: broken off.
    let before = Scrape::of(&conn.url()).await;
    let form = upload_form(&uid, "gone.bin", 4_000_000);
    let stream = form
        .send_stalling(conn.addr(), "POST", "/storage/file", 500_000)
        .await
        .unwrap();
    tokio::time::sleep(Duration::from_millis(300)).await;
    drop(stream);
    let d = settled(&conn, &before, "upload").await;
    assert_eq!(d.outcomes(), [("client_broke_off", 1.0)]);

    // 5. A caller that stops reading a download: cut after the idle timeout, stalled.
    let before = Scrape::of(&conn.url()).await;
    let mut resp = get_file(&conn, "/big.bin").await;
    assert_eq!(resp.status(), 200);
    tokio::time::sleep(Duration::from_secs(4)).await;
    let read = tokio::time::timeout(WITHIN, async {
        while let Ok(Some(_)) = resp.chunk().await {}
    })
    .await;
    assert!(read.is_ok(), "the cut download ends");
    let d = settled(&conn, &before, "download").await;
    assert_eq!(d.outcomes(), [("stalled", 1.0)]);
    assert!(d.bytes() > 0.0 && d.bytes() < (64 * 1024 * 1024) as f64);

    // 6. A caller that closes the connection mid-download: broken off.
    let before = Scrape::of(&conn.url()).await;
    let mut resp = get_file(&conn, "/big.bin").await;
    assert!(resp.chunk().await.unwrap().is_some());
    drop(resp);
    let d = settled(&conn, &before, "download").await;
    assert_eq!(d.outcomes(), [("client_broke_off", 1.0)]);

    // 7. A byte flipped on the way down, then one flipped where it is stored.
    let before = Scrape::of(&conn.url()).await;
    dav.inject(Fault::of("GET", FaultKind::FlipBody));
    assert!(get_file(&conn, "/paced.bin").await.bytes().await.is_err());
    let d = settled(&conn, &before, "download").await;
    assert_eq!(d.outcomes(), [("checksum_mismatch", 1.0)]);
    let before = Scrape::of(&conn.url()).await;
    dav.inject(Fault::of("PUT", FaultKind::FlipStored));
    let form = upload_form(&uid, "flipped.bin", 10_000);
    let resp = post(&conn, &form).await;
    assert_eq!(resp.status(), 502);
    let d = settled(&conn, &before, "upload").await;
    assert_eq!(d.outcomes(), [("checksum_mismatch", 1.0)]);
    conn.stop().await;

    // 8. A provider that stalls mid-download, then one that resets.
    let up = FaultyUpstream::start(Mode::StallBody {
        declared: 10_000_000,
        sent: 1_000_000,
    })
    .await
    .unwrap();
    let conn = shrunk_connector(up.url()).await;
    let before = Scrape::of(&conn.url()).await;
    let resp = get_file(&conn, "/s.bin").await;
    assert_eq!(resp.status(), 200);
    assert!(tokio::time::timeout(WITHIN, resp.bytes())
        .await
        .unwrap()
        .is_err());
    let d = settled(&conn, &before, "download").await;
    assert_eq!(d.outcomes(), [("stalled", 1.0)]);
    let before = Scrape::of(&conn.url()).await;
    up.set_mode(Mode::Reset {
        declared: 10_000_000,
        sent: 1_000_000,
    });
    let resp = get_file(&conn, "/r.bin").await;
    assert_eq!(resp.status(), 200);
    assert!(resp.bytes().await.is_err());
    let d = settled(&conn, &before, "download").await;
    assert_eq!(d.outcomes(), [("provider_failed", 1.0)]);
    let text = logs.text();
    let failed: Vec<&str> = text
        .lines()
        .filter(|l| l.contains("transfer failed"))
        .collect();
    assert_eq!(
        failed.len(),
        8,
        "one WARN line per failed transfer: {failed:#?}"
    );
    assert!(failed.iter().all(|l| l.contains(" WARN ")), "{failed:#?}");
    println!("{}", failed.join("\n"));
    // Starts at INFO from LONG_TRANSFER_BYTES declared (the 64 MiB downloads), at DEBUG below.
    let started = |level: &str, declared: &str| {
        text.lines()
            .any(|l| l.contains("transfer started") && l.contains(level) && l.contains(declared))
    };
    assert!(
        started(" INFO ", "declared=67108864"),
        "a large start at INFO"
    );
    assert!(
        started(" DEBUG ", "declared=1500000"),
        "a small start at DEBUG"
    );
    assert!(
        !started(" INFO ", "declared=1500000"),
        "a small start at DEBUG only"
    );
    let end = Scrape::of(&conn.url()).await;
    for direction in ["download", "upload"] {
        assert_eq!(
            end.get(
                "connector_transfers_in_flight",
                &[("upstream", "webdav"), ("direction", direction)]
            ),
            Some(0.0)
        );
    }
    conn.stop().await;
}
