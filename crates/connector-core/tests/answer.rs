//! Small-call answers are read with a byte cap (`answer.rs`), whether the provider
//! declares the length or streams the answer without one.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use bytes::Bytes;
use connector_core::answer::{json_capped, read_capped};
use connector_core::ConnectorError;
use futures_util::stream;
use serde_json::Value;
use test_support::hostile::{full, streamed, HostileServer};

const CAP: usize = 64 * 1024;

/// `/full/<n>`: n bytes with a Content-Length; `/streamed/<n>`: n bytes chunked (the
/// form of a provider that generates its answer as it goes); both JSON strings.
async fn server() -> HostileServer {
    HostileServer::start(|req, counters| async move {
        let path = req.uri().path().to_owned();
        let (kind, n) = path[1..].split_once('/').unwrap();
        let n: usize = n.parse().unwrap();
        if kind == "full" {
            return full(
                200,
                "application/json",
                format!("\"{}\"", "x".repeat(n - 2)),
            );
        }
        let inner = n - 2;
        let pieces = (0..inner)
            .step_by(4096)
            .map(move |at| Bytes::from(vec![b'x'; (inner - at).min(4096)]));
        let chunks = stream::iter(
            std::iter::once(Bytes::from_static(b"\""))
                .chain(pieces)
                .chain(std::iter::once(Bytes::from_static(b"\""))),
        );
        streamed(&counters, 200, "application/json", chunks)
    })
    .await
    .unwrap()
}

#[tokio::test]
async fn answers_up_to_the_cap_are_read_and_larger_ones_refused() {
    let srv = server().await;
    let http = reqwest::Client::new();
    for kind in ["full", "streamed"] {
        let get = |n: usize| http.get(format!("{}/{kind}/{n}", srv.url())).send();
        let body = read_capped(get(CAP).await.unwrap(), CAP, "x")
            .await
            .unwrap();
        assert_eq!(body.len(), CAP, "{kind}");
        let v: Value = json_capped(get(100).await.unwrap(), CAP, "x")
            .await
            .unwrap();
        assert_eq!(v.as_str().map(str::len), Some(98), "{kind}");
        let err = read_capped(get(CAP + 1).await.unwrap(), CAP, "the list")
            .await
            .unwrap_err();
        assert!(
            matches!(err, ConnectorError::BadGateway(_)),
            "{kind}: {err:?}"
        );
        let detail = err.to_string();
        assert!(
            detail.contains("MAX_UPSTREAM_ANSWER_BYTES") && detail.contains("the list"),
            "{kind}: {detail}"
        );
    }
}

/// A provider's error answer that never ends (a proxy streaming garbage): the core reads
/// `MAX_ERROR_BODY_BYTES` of it and maps the status with the provider's `Retry-After`.
#[tokio::test]
async fn error_answers_are_read_bounded_and_keep_the_wait() {
    use connector_core::answer::{ErrorAnswer, MAX_ERROR_BODY_BYTES};
    use reqwest::header::{HeaderValue, RETRY_AFTER};
    let srv = HostileServer::start(|_req, counters| async move {
        let endless = stream::repeat(Bytes::from(vec![b'x'; 4096]));
        let mut resp = streamed(&counters, 503, "text/html", endless);
        resp.headers_mut()
            .insert(RETRY_AFTER, HeaderValue::from_static("60"));
        resp
    })
    .await
    .unwrap();
    let resp = reqwest::get(srv.url()).await.unwrap();
    let answer = tokio::time::timeout(std::time::Duration::from_secs(20), ErrorAnswer::read(resp))
        .await
        .expect("an endless error body is not read to its end");
    assert_eq!(answer.status, 503);
    assert_eq!(answer.body.len(), MAX_ERROR_BODY_BYTES);
    let err = answer.error("file \"/a\"");
    assert_eq!(err.status().as_u16(), 503);
    assert!(
        matches!(
            err,
            ConnectorError::RetryLater {
                retry_after_secs: 60,
                rate_limited: false,
                ..
            }
        ),
        "{err:?}"
    );
    // Reading stopped: at most a few socket buffers beyond the cap were sent.
    assert!(srv.counters().body_bytes_sent() < 16 << 20);
}
