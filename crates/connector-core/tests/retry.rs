//! The core's retry loop (`retry.rs`) against a server answering a scripted sequence:
//! what is retried, after whose wait, how often, and whose wording a failure carries.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::time::{Duration, SystemTime, UNIX_EPOCH};

use connector_core::http::{BreakerSettings, HttpSettings, Upstream};
use connector_core::retry::{self, Attempt, Idempotency, RetryPolicy};
use connector_core::ConnectorError;
use reqwest::header::HeaderValue;
use test_support::hostile::{full, HostileServer};

/// Answers the n-th request with the n-th entry of `script` (the last one repeated):
/// a status, `r<secs>` adding `Retry-After`, `x<secs>` an `X-RateLimit-Reset` that many
/// seconds ahead, e.g. `429r1`.
async fn scripted(script: &'static [&'static str]) -> HostileServer {
    HostileServer::start(move |_req, counters| async move {
        let n = (counters.requests() as usize).saturating_sub(1);
        let step = script[n.min(script.len() - 1)];
        let status: u16 = step[..3].parse().unwrap();
        let mut resp = full(status, "application/json", r#"{"message":"said so"}"#);
        if let Some(secs) = step.get(3..).and_then(|s| s.strip_prefix('r')) {
            resp.headers_mut()
                .insert("retry-after", HeaderValue::from_str(secs).unwrap());
        }
        if let Some(secs) = step.get(3..).and_then(|s| s.strip_prefix('x')) {
            let now = SystemTime::now().duration_since(UNIX_EPOCH).unwrap();
            let reset = now.as_secs() + secs.parse::<u64>().unwrap();
            resp.headers_mut().insert(
                "x-ratelimit-reset",
                HeaderValue::from_str(&reset.to_string()).unwrap(),
            );
        }
        resp
    })
    .await
    .unwrap()
}

fn upstream() -> Upstream {
    let settings = HttpSettings {
        connect_timeout: Duration::from_secs(2),
        response_timeout: Duration::from_secs(20),
        idle_timeout: Duration::from_secs(5),
        verify_tls: true,
        extra_ca_file: None,
        user_agent: "retry-test".into(),
        breaker: BreakerSettings::OFF,
    };
    Upstream::new("provider", &settings).unwrap()
}

const POLICY: RetryPolicy = RetryPolicy {
    max_tries: 3,
    base_delay: Duration::from_millis(50),
    max_wait: Duration::from_secs(5),
};

async fn call(
    srv: &HostileServer,
    idempotency: Idempotency,
) -> Result<reqwest::Response, ConnectorError> {
    let http = upstream();
    let url = srv.url();
    let make = || Ok(Attempt::Call(http.client().post(&url)));
    retry::send(&http, POLICY, idempotency, "the thing", make).await
}

#[tokio::test]
async fn idempotent_calls_are_retried_on_5xx_up_to_max_tries() {
    let srv = scripted(&["503", "502", "200"]).await;
    assert!(call(&srv, Idempotency::Idempotent).await.is_ok());
    assert_eq!(srv.requests(), 3);

    let srv = scripted(&["504"]).await;
    let err = call(&srv, Idempotency::Idempotent).await.unwrap_err();
    assert_eq!(err.status().as_u16(), 504);
    assert_eq!(srv.requests(), 3, "never more than max_tries");
}

#[tokio::test]
async fn a_call_sent_once_is_retried_on_429_only() {
    let srv = scripted(&["502", "200"]).await;
    let err = call(&srv, Idempotency::Once).await.unwrap_err();
    assert_eq!(err.status().as_u16(), 502);
    assert_eq!(srv.requests(), 1, "a POST may have taken effect");

    let srv = scripted(&["429r1", "200"]).await;
    let started = std::time::Instant::now();
    assert!(call(&srv, Idempotency::Once).await.is_ok());
    assert_eq!(srv.requests(), 2);
    assert!(
        started.elapsed() >= Duration::from_millis(900),
        "waited Retry-After"
    );

    let srv = scripted(&["429", "200"]).await;
    assert!(call(&srv, Idempotency::Single).await.is_err());
    assert_eq!(srv.requests(), 1, "a single body is sent once");
}

#[tokio::test]
async fn a_wait_beyond_max_wait_answers_at_once_with_it() {
    // Retry-After, then X-RateLimit-Reset (read when Retry-After is absent).
    for script in [&["429r60", "200"], &["429x60", "200"]] {
        let srv = scripted(script).await;
        let err = call(&srv, Idempotency::Idempotent).await.unwrap_err();
        assert_eq!(srv.requests(), 1, "{script:?}");
        assert_eq!(err.status().as_u16(), 429, "{script:?}");
        let ConnectorError::RetryLater {
            retry_after_secs, ..
        } = err
        else {
            panic!("{script:?}: {err:?}");
        };
        assert!((55..=60).contains(&retry_after_secs), "{retry_after_secs}");
    }
}

#[tokio::test]
async fn send_with_carries_the_providers_wording() {
    let srv = scripted(&["403"]).await;
    let http = upstream();
    let url = srv.url();
    let make = || Ok(Attempt::Call(http.client().get(&url)));
    let err = retry::send_with(
        &http,
        POLICY,
        Idempotency::Idempotent,
        "record 7",
        make,
        |answer, what| ConnectorError::Forbidden(format!("{what}: {}", answer.text())),
    )
    .await
    .unwrap_err();
    assert_eq!(err.status().as_u16(), 403);
    assert!(
        err.to_string()
            .contains(r#"record 7: {"message":"said so"}"#),
        "{err}"
    );
    assert_eq!(srv.requests(), 1);
}

#[tokio::test]
async fn an_upload_is_sent_again_only_when_its_body_can_be() {
    use connector_core::transfer::upload::UploadBody;
    let send = |srv: &HostileServer, body: UploadBody| {
        let http = upstream();
        let url = srv.url();
        async move {
            let request = || Ok(http.client().put(&url));
            let map = |a: &connector_core::answer::ErrorAnswer, what: &str| a.error(what);
            retry::send_upload_with(&http, POLICY, "the file", body, request, map).await
        }
    };
    let srv = scripted(&["503", "200"]).await;
    let memory = UploadBody::Memory(bytes::Bytes::from_static(b"abc"));
    assert!(send(&srv, memory).await.is_ok());
    assert_eq!(srv.requests(), 2, "a body in memory is sent again");

    let srv = scripted(&["503", "200"]).await;
    let stream = UploadBody::Stream {
        body: Some(Box::pin(futures_util::stream::iter([Ok(
            bytes::Bytes::from_static(b"abc"),
        )]))),
        len: 3,
    };
    let err = send(&srv, stream).await.unwrap_err();
    assert_eq!(err.status().as_u16(), 503);
    assert_eq!(srv.requests(), 1, "a stream is sent once");
}

/// A provider's mapping that reads a rate limit in another status (Dataverse's file
/// routes answer it as 400) gets it retried like a 429, also for a POST sent `Once`;
/// other 400s are not retried.
#[tokio::test]
async fn a_rate_limit_the_mapping_reads_in_a_400_is_retried_like_a_429() {
    let map = |answer: &connector_core::answer::ErrorAnswer, what: &str| {
        if answer.status == 400 && answer.body.ends_with(b"\"said so\"}") {
            ConnectorError::TooManyRequests(format!("{what} was rate-limited"))
        } else {
            ConnectorError::from_upstream(answer.status, None, what)
        }
    };
    let http = upstream();
    let srv = scripted(&["400", "200"]).await;
    let url = srv.url();
    let make = || Ok(Attempt::Call(http.client().post(&url)));
    let sent = retry::send_with(&http, POLICY, Idempotency::Once, "the thing", make, map).await;
    assert!(sent.is_ok());
    assert_eq!(srv.requests(), 2);

    let srv = scripted(&["400"]).await;
    let url = srv.url();
    let make = || Ok(Attempt::Call(http.client().post(&url)));
    let plain = |answer: &connector_core::answer::ErrorAnswer, what: &str| {
        ConnectorError::from_upstream(answer.status, None, what)
    };
    let err = retry::send_with(&http, POLICY, Idempotency::Once, "the thing", make, plain)
        .await
        .unwrap_err();
    assert_eq!(err.status().as_u16(), 400);
    assert_eq!(srv.requests(), 1, "an ordinary 400 is not retried");
}
