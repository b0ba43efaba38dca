//! Outbound HTTP: a reqwest client per upstream (one per thread, see [`PerThread`]),
//! with timeouts and metrics.
//!
//! Timeouts come in two kinds because transfers can be huge: a *response* deadline (the
//! whole of a small call; the head of a download; the answer after an upload's last
//! byte), and an *idle* timeout on the bytes of a transfer ([`crate::transfer::watchdog`])
//! that cuts a stalled stream without limiting how long a healthy 20 GB one may take.
//! reqwest's own `read_timeout` is not used: for an upload it runs from the request's
//! start until the answer's head, so it would cap the whole transfer.

use std::cell::RefCell;
use std::path::PathBuf;
use std::sync::{Arc, Weak};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use base64::engine::general_purpose::STANDARD as B64;
use base64::Engine as _;
use futures_util::TryStreamExt as _;
use percent_encoding::{utf8_percent_encode, AsciiSet, PercentEncode, NON_ALPHANUMERIC};
use reqwest::header::{HeaderMap, HeaderValue, AUTHORIZATION, CONTENT_LENGTH, RETRY_AFTER};
use reqwest::{Certificate, Client, RequestBuilder, Response};
use secrecy::ExposeSecret;

use crate::breaker::Breaker;
pub use crate::breaker::{BreakerSettings, UpstreamError};
use crate::credentials::Credentials;
use crate::error::ConnectorError;
use crate::interface::ByteStream;
use crate::metrics;
use crate::transfer::watchdog::{self, Progress};

/// Settings shared by every outbound client of a connector (from the common config).
#[derive(Debug, Clone)]
pub struct HttpSettings {
    pub connect_timeout: Duration,
    /// Deadline for the answer's headers on [`Upstream::send`].
    pub response_timeout: Duration,
    /// A stream that delivers nothing for this long is cut.
    pub idle_timeout: Duration,
    pub verify_tls: bool,
    pub extra_ca_file: Option<PathBuf>,
    pub user_agent: String,
    pub breaker: BreakerSettings,
}

#[derive(Debug, thiserror::Error)]
pub enum HttpSetupError {
    #[error("cannot read the CA file {path}: {source}")]
    CaFile {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("the CA file {0} holds no usable PEM certificate")]
    CaPem(PathBuf),
    #[error("cannot build the HTTP client: {0}")]
    Build(String),
}

/// A client for one upstream (a provider, the Token Storage, the port service), labelled
/// for the metrics. Cheap to clone: the clones share their pools and breaker.
#[derive(Clone, Debug)]
pub struct Upstream {
    clients: PerThread,
    name: &'static str,
    response_timeout: Duration,
    idle_timeout: Duration,
    breaker: Arc<Breaker>,
}

impl Upstream {
    pub fn new(name: &'static str, settings: &HttpSettings) -> Result<Self, HttpSetupError> {
        let extra_roots = match &settings.extra_ca_file {
            Some(path) => {
                let pem = std::fs::read(path).map_err(|source| HttpSetupError::CaFile {
                    path: path.clone(),
                    source,
                })?;
                let certs = Certificate::from_pem_bundle(&pem)
                    .map_err(|_| HttpSetupError::CaPem(path.clone()))?;
                if certs.is_empty() {
                    return Err(HttpSetupError::CaPem(path.clone()));
                }
                certs
            }
            None => Vec::new(),
        };
        let recipe = Recipe {
            user_agent: settings.user_agent.clone(),
            connect_timeout: settings.connect_timeout,
            verify_tls: settings.verify_tls,
            extra_roots,
        };
        let clients = PerThread::new(recipe)?;
        metrics::init_upstream(name);
        Ok(Self {
            clients,
            name,
            response_timeout: settings.response_timeout,
            idle_timeout: settings.idle_timeout,
            breaker: Breaker::new(name, settings.breaker),
        })
    }

    /// This thread's client for the upstream, to build a request with.
    pub fn client(&self) -> Client {
        self.clients.get()
    }

    pub fn name(&self) -> &'static str {
        self.name
    }

    /// The response deadline, also the budget of a whole retried call.
    pub fn response_timeout(&self) -> Duration {
        self.response_timeout
    }

    /// This client without a circuit breaker, for background work that retries anyway
    /// (registration) and must not keep callers' calls waiting on a breaker.
    pub fn unguarded(mut self) -> Self {
        self.breaker = Breaker::new(self.name, BreakerSettings::OFF);
        self
    }

    /// Sends a request whose answer headers must arrive within the response deadline.
    pub async fn send(&self, req: RequestBuilder) -> Result<Response, UpstreamError> {
        self.send_by(req, Instant::now() + self.response_timeout)
            .await
    }

    /// [`Upstream::send`] with a deadline of the caller's (a retried call's overall one).
    pub async fn send_by(
        &self,
        req: RequestBuilder,
        deadline: Instant,
    ) -> Result<Response, UpstreamError> {
        let left = deadline.saturating_duration_since(Instant::now());
        self.observe(req.timeout(left).send()).await
    }

    /// A transfer that moves no byte for this long is cut.
    pub fn idle_timeout(&self) -> Duration {
        self.idle_timeout
    }

    /// Sends a streamed upload of `body` (`len` bytes when known, sent as Content-Length).
    /// No overall deadline: while the body flows, the idle timeout applies (the provider
    /// must take, and the caller deliver, a byte at least that often); once it has all
    /// gone out, the answer's head must come within the response deadline.
    pub async fn send_transfer(
        &self,
        req: RequestBuilder,
        body: ByteStream,
        len: Option<u64>,
    ) -> Result<Response, ConnectorError> {
        let progress = Progress::new();
        let mut req = req.body(reqwest::Body::wrap_stream(progress.track(body, len)));
        if let Some(len) = len {
            req = req.header(CONTENT_LENGTH, len);
        }
        let started = Instant::now();
        tokio::select! {
            result = self.observe(req.send()) => result.map_err(ConnectorError::from),
            stall = watchdog::stalled(&progress, self.idle_timeout, self.response_timeout) => {
                metrics::record_upstream(self.name, "stalled", started.elapsed());
                // A provider that took the whole body and never answered is a dead one.
                if matches!(stall, watchdog::TransferStall::Answer(_)) {
                    self.breaker.record_timeout();
                }
                tracing::warn!(upstream = self.name, "{stall}; the upload is cut");
                Err(ConnectorError::GatewayTimeout(stall.to_string()))
            }
        }
    }

    /// Sends a request whose answer is a streamed download: its headers must arrive within
    /// the response deadline; the body then has only the idle timeout.
    pub async fn send_download(&self, req: RequestBuilder) -> Result<Response, ConnectorError> {
        match tokio::time::timeout(self.response_timeout, self.observe(req.send())).await {
            Ok(result) => result.map_err(ConnectorError::from),
            Err(_) => {
                self.breaker.record_timeout();
                metrics::record_upstream(self.name, "timeout", self.response_timeout);
                Err(ConnectorError::GatewayTimeout(
                    "the provider did not answer in time".into(),
                ))
            }
        }
    }

    /// A download's body as a [`ByteStream`], its errors without URLs. The idle timeout
    /// is the core's to apply, once, where it hands any provider's download to the
    /// caller (`transfer::watchdog::to_caller`).
    pub fn download_body(&self, resp: Response) -> ByteStream {
        Box::pin(
            resp.bytes_stream()
                .map_err(|e| std::io::Error::other(e.without_url())),
        )
    }

    async fn observe(
        &self,
        fut: impl std::future::Future<Output = Result<Response, reqwest::Error>>,
    ) -> Result<Response, UpstreamError> {
        let permit = self.breaker.admit().map_err(UpstreamError::CircuitOpen)?;
        let started = Instant::now();
        let result = fut.await;
        permit.record(UpstreamError::outcome(&result));
        let outcome = match &result {
            Ok(r) if r.status().is_server_error() => "server_error",
            Ok(r) if r.status().is_client_error() => "client_error",
            Ok(_) => "ok",
            Err(e) if e.is_timeout() => "timeout",
            Err(e) if e.is_connect() => "connect_error",
            Err(_) => "error",
        };
        metrics::record_upstream(self.name, outcome, started.elapsed());
        if let Err(e) = &result {
            tracing::debug!(upstream = self.name, error = %DisplayNoUrl(e), "upstream call failed");
        }
        result.map_err(UpstreamError::Http)
    }
}

/// How a provider takes the user's credentials in `Authorization`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AuthScheme<'a> {
    /// `Bearer <token>` (an OAuth2 access token).
    Bearer,
    /// `Basic base64(<user>:<token>)`, the token slot holding a password. `user` is the
    /// name the provider knows (the provider strips what it must, e.g. `@institution`).
    Basic { user: &'a str },
    /// The bare token in a provider's own header (Dataverse's `X-Dataverse-key`).
    Header(&'static str),
}

/// The `Authorization` value for `creds`, marked sensitive so that no log or debug output
/// of a request shows it. A token no header can carry (control characters) is
/// the caller's mistake: a 400 now, rather than a request that fails to build (reqwest's
/// `bearer_auth` defers that to `send`, a 502) or goes out without credentials.
pub fn auth_header(
    creds: &Credentials,
    scheme: AuthScheme<'_>,
) -> Result<HeaderValue, ConnectorError> {
    let token = creds.token().expose_secret();
    let value = match scheme {
        AuthScheme::Bearer => format!("Bearer {token}"),
        AuthScheme::Basic { user } => format!("Basic {}", B64.encode(format!("{user}:{token}"))),
        AuthScheme::Header(_) => token.to_owned(),
    };
    let mut value = HeaderValue::from_str(&value).map_err(|_| {
        ConnectorError::BadRequest(
            "the token in userId holds characters that no HTTP header can carry".into(),
        )
    })?;
    value.set_sensitive(true);
    Ok(value)
}

/// `req` with the user's credentials ([`auth_header`]): in `Authorization`, or in the
/// provider's own header for [`AuthScheme::Header`].
pub fn authorized(
    req: RequestBuilder,
    creds: &Credentials,
    scheme: AuthScheme<'_>,
) -> Result<RequestBuilder, ConnectorError> {
    let value = auth_header(creds, scheme)?;
    Ok(match scheme {
        AuthScheme::Header(name) => req.header(name, value),
        _ => req.header(AUTHORIZATION, value),
    })
}

/// One path segment's encoding: RFC 3986 unreserved characters (`A-Z a-z 0-9 - . _ ~`)
/// stay, everything else (`/`, `#`, `%`, `?`, `+`, spaces, unicode) is percent-encoded.
pub const PATH_SEGMENT: &AsciiSet = &NON_ALPHANUMERIC
    .remove(b'-')
    .remove(b'.')
    .remove(b'_')
    .remove(b'~');

/// `s` encoded as one URL path segment ([`PATH_SEGMENT`]).
pub fn path_segment(s: &str) -> PercentEncode<'_> {
    utf8_percent_encode(s, PATH_SEGMENT)
}

/// The longest wait passed on from a provider's `Retry-After`: a provider asking for
/// hours (or a date years ahead) is not worth a caller's wait; it can ask again later.
pub const MAX_RETRY_AFTER: Duration = Duration::from_secs(600);

/// The wait a provider asked for in `Retry-After` (RFC 9110 §10.2.3): delta-seconds or an
/// HTTP-date (a date in the past waits zero), capped at [`MAX_RETRY_AFTER`]. `None` when
/// the header is absent or unreadable.
pub fn retry_after(headers: &HeaderMap) -> Option<Duration> {
    let value = headers.get(RETRY_AFTER)?.to_str().ok()?.trim();
    let wait = match value.parse::<u64>() {
        Ok(secs) => Duration::from_secs(secs),
        Err(_) => httpdate::parse_http_date(value)
            .ok()?
            .duration_since(SystemTime::now())
            .unwrap_or(Duration::ZERO),
    };
    Some(wait.min(MAX_RETRY_AFTER))
}

/// The wait in `X-RateLimit-Reset` (epoch seconds; Flask-Limiter's header, which Zenodo
/// sends): at least 1 s (a reset in the past), at most [`MAX_RETRY_AFTER`].
pub fn rate_limit_reset(headers: &HeaderMap) -> Option<Duration> {
    let reset = headers
        .get("x-ratelimit-reset")
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.trim().parse::<u64>().ok())?;
    let now = SystemTime::now().duration_since(UNIX_EPOCH).ok()?.as_secs();
    let wait = Duration::from_secs(reset.saturating_sub(now).max(1));
    Some(wait.min(MAX_RETRY_AFTER))
}

/// The wait a provider asks for on a 429 or 503: [`retry_after`], else
/// [`rate_limit_reset`].
pub fn server_wait(headers: &HeaderMap) -> Option<Duration> {
    retry_after(headers).or_else(|| rate_limit_reset(headers))
}

/// Displays a reqwest error without its URL (URLs may carry names or tokens).
pub(crate) struct DisplayNoUrl<'a>(pub(crate) &'a reqwest::Error);

impl std::fmt::Display for DisplayNoUrl<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        use std::error::Error as _;
        let mut msg = self.0.to_string();
        if let Some(url) = self.0.url() {
            msg = msg.replace(url.as_str(), "<url>");
        }
        write!(f, "{msg}")?;
        let mut source = self.0.source();
        while let Some(s) = source {
            write!(f, ": {s}")?;
            source = s.source();
        }
        Ok(())
    }
}

/// How to build an upstream's client, kept to build one per thread.
#[derive(Debug)]
struct Recipe {
    user_agent: String,
    connect_timeout: Duration,
    verify_tls: bool,
    extra_roots: Vec<Certificate>,
}

impl Recipe {
    fn build(&self) -> Result<Client, HttpSetupError> {
        let mut builder = Client::builder()
            .user_agent(self.user_agent.clone())
            .connect_timeout(self.connect_timeout)
            .pool_idle_timeout(Duration::from_secs(60))
            .tcp_nodelay(true)
            // Redirects could carry our Authorization header to another host.
            .redirect(reqwest::redirect::Policy::none())
            .use_rustls_tls();
        if !self.verify_tls {
            builder = builder.danger_accept_invalid_certs(true);
        }
        for cert in &self.extra_roots {
            builder = builder.add_root_certificate(cert.clone());
        }
        builder
            .build()
            .map_err(|e| HttpSetupError::Build(e.without_url().to_string()))
    }
}

/// One client, so one connection pool, per thread that calls the upstream.
///
/// Why: hyper drives a pooled connection on the runtime that opened it, and every actix
/// worker is a runtime of its own thread. With one client shared by all workers, a
/// request served by one worker over a connection another opened hands its writes and
/// its answer across threads: eventfd wake-ups and context switches both ways (issue 15:
/// a pool per thread took 10-30 % off a small listing's CPU). Each thread's pool keeps a
/// request's I/O on its worker. The client built at start serves the thread that built
/// it, and any thread whose own build fails or whose locals are gone. The count is bounded
/// by the threads that call: the actix workers and the main thread (no call runs on a
/// blocking pool).
#[derive(Clone, Debug)]
struct PerThread {
    recipe: Arc<Recipe>,
    shared: Client,
}

thread_local! {
    /// This thread's clients, by the recipe they were built from. An entry outlives its
    /// upstream until the thread next builds a client.
    static CLIENTS: RefCell<Vec<(Weak<Recipe>, Client)>> = const { RefCell::new(Vec::new()) };
}

impl PerThread {
    fn new(recipe: Recipe) -> Result<Self, HttpSetupError> {
        let shared = recipe.build()?;
        let recipe = Arc::new(recipe);
        // Each build reads the system's CA store again: the building thread keeps this one.
        let _ = CLIENTS.try_with(|clients| {
            clients
                .borrow_mut()
                .push((Arc::downgrade(&recipe), shared.clone()))
        });
        Ok(Self { recipe, shared })
    }

    fn get(&self) -> Client {
        CLIENTS
            .try_with(|clients| {
                let mut clients = clients.borrow_mut();
                if let Some((_, c)) = clients
                    .iter()
                    .find(|(r, _)| std::ptr::eq(r.as_ptr(), Arc::as_ptr(&self.recipe)))
                {
                    return c.clone();
                }
                clients.retain(|(r, _)| r.strong_count() > 0);
                let client = self.recipe.build().unwrap_or_else(|e| {
                    tracing::warn!("{e}; this thread shares the first client");
                    self.shared.clone()
                });
                clients.push((Arc::downgrade(&self.recipe), client.clone()));
                client
            })
            // The thread is ending (its locals are gone): the shared client still works.
            .unwrap_or_else(|_| self.shared.clone())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn settings(ca: Option<PathBuf>) -> HttpSettings {
        HttpSettings {
            connect_timeout: Duration::from_secs(1),
            response_timeout: Duration::from_secs(1),
            idle_timeout: Duration::from_secs(1),
            verify_tls: true,
            extra_ca_file: ca,
            user_agent: "test".into(),
            breaker: BreakerSettings::OFF,
        }
    }

    /// Answers every request on a connection with an empty 200 and counts connections.
    async fn counting_server() -> (String, Arc<std::sync::atomic::AtomicUsize>) {
        use std::sync::atomic::{AtomicUsize, Ordering};
        use tokio::io::{AsyncReadExt, AsyncWriteExt};
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let url = format!("http://{}/", listener.local_addr().unwrap());
        let accepted = Arc::new(AtomicUsize::new(0));
        let count = accepted.clone();
        tokio::spawn(async move {
            while let Ok((mut conn, _)) = listener.accept().await {
                count.fetch_add(1, Ordering::SeqCst);
                tokio::spawn(async move {
                    let mut buf = vec![0u8; 4096];
                    let mut seen = Vec::new();
                    while let Ok(n @ 1..) = conn.read(&mut buf).await {
                        seen.extend_from_slice(&buf[..n]);
                        while let Some(end) = seen.windows(4).position(|w| w == b"\r\n\r\n") {
                            seen.drain(..end + 4);
                            let ok = b"HTTP/1.1 200 OK\r\ncontent-length: 0\r\n\r\n";
                            if conn.write_all(ok).await.is_err() {
                                return;
                            }
                        }
                    }
                });
            }
        });
        (url, accepted)
    }

    #[test]
    fn each_thread_calls_over_its_own_pool() {
        use std::sync::atomic::Ordering;
        let server = tokio::runtime::Runtime::new().unwrap();
        let (url, accepted) = server.block_on(counting_server());
        let upstream = Upstream::new("test", &settings(None)).unwrap();
        // Two threads, each a one-thread runtime like an actix worker, both alive
        // throughout: with one shared pool the second would reuse the first's connection.
        let call = |up: &Upstream, url: &str| {
            let rt = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
                .unwrap();
            for _ in 0..3 {
                let status = rt.block_on(up.send(up.client().get(url))).unwrap().status();
                assert_eq!(status, 200);
            }
            rt
        };
        std::thread::scope(|s| {
            let first = s.spawn(|| call(&upstream, &url)).join().unwrap();
            assert_eq!(
                accepted.load(Ordering::SeqCst),
                1,
                "one thread, one connection"
            );
            let second = s.spawn(|| call(&upstream, &url)).join().unwrap();
            assert_eq!(
                accepted.load(Ordering::SeqCst),
                2,
                "a second thread, its own"
            );
            drop((first, second));
        });
    }

    fn sent_authorization(scheme: AuthScheme<'_>, token: &str) -> HeaderValue {
        let creds = Credentials::new(Some("alice@uni-a.de".into()), token.to_owned().into());
        let req = authorized(Client::new().get("http://x.invalid/"), &creds, scheme)
            .and_then(|r| r.build().map_err(ConnectorError::from));
        match req {
            Ok(req) => req.headers().get(AUTHORIZATION).cloned(),
            Err(e) => panic!("{e}"),
        }
        .unwrap_or_else(|| panic!("no Authorization sent"))
    }

    #[test]
    fn authorization_is_built_per_scheme_and_sensitive() {
        let bearer = sent_authorization(AuthScheme::Bearer, "t0k:en");
        assert_eq!(bearer.as_bytes(), b"Bearer t0k:en");
        assert!(bearer.is_sensitive());
        let basic = sent_authorization(AuthScheme::Basic { user: "alice" }, "app pass");
        // base64("alice:app pass")
        assert_eq!(basic.as_bytes(), b"Basic YWxpY2U6YXBwIHBhc3M=");
        assert!(basic.is_sensitive());
        assert!(!format!("{basic:?}").contains("YWxp"), "Debug hides it");
        for bad in ["line\r\nX-Injected: 1", "t\u{0}k", "t\u{7f}k"] {
            let creds = Credentials::new(None, bad.to_owned().into());
            let err = auth_header(&creds, AuthScheme::Bearer).err();
            assert_eq!(err.map(|e| e.status().as_u16()), Some(400), "{bad:?}");
        }
    }

    #[test]
    fn a_providers_own_header_carries_the_bare_token_sensitive() {
        let creds = Credentials::new(Some("alice".into()), "6f1c-uuid".to_owned().into());
        let req = authorized(
            Client::new().get("http://x.invalid/"),
            &creds,
            AuthScheme::Header("X-Dataverse-key"),
        )
        .and_then(|r| r.build().map_err(ConnectorError::from))
        .unwrap_or_else(|e| panic!("{e}"));
        assert!(req.headers().get(AUTHORIZATION).is_none());
        let sent = req
            .headers()
            .get("x-dataverse-key")
            .unwrap_or_else(|| panic!("no X-Dataverse-key sent"));
        assert_eq!(sent.as_bytes(), b"6f1c-uuid");
        assert!(sent.is_sensitive());
        assert!(!req.url().as_str().contains("6f1c"), "never in the URL");
    }

    #[test]
    fn retry_after_in_both_forms() {
        let with = |v: &str| {
            let mut h = HeaderMap::new();
            h.insert(
                RETRY_AFTER,
                HeaderValue::from_str(v).unwrap_or_else(|e| panic!("{e}")),
            );
            retry_after(&h)
        };
        assert_eq!(retry_after(&HeaderMap::new()), None);
        assert_eq!(with("60"), Some(Duration::from_secs(60)));
        assert_eq!(with(" 0 "), Some(Duration::ZERO));
        assert_eq!(with("99999999"), Some(MAX_RETRY_AFTER));
        assert_eq!(with("soon"), None);
        assert_eq!(with("-5"), None);
        let at = |d: Duration| httpdate::fmt_http_date(std::time::SystemTime::now() + d);
        let in_two_minutes = with(&at(Duration::from_secs(120))).unwrap_or_default();
        // The date has whole seconds and the clock moves on: 118-120 s.
        assert!(
            (118..=120).contains(&in_two_minutes.as_secs()),
            "{in_two_minutes:?}"
        );
        assert_eq!(
            with(&at(Duration::from_secs(86_400))),
            Some(MAX_RETRY_AFTER)
        );
        assert_eq!(with("Sun, 06 Nov 1994 08:49:37 GMT"), Some(Duration::ZERO));
        // RFC 850 and asctime forms, which RFC 9110 says recipients must accept.
        assert_eq!(with("Sunday, 06-Nov-94 08:49:37 GMT"), Some(Duration::ZERO));
        assert_eq!(with("Sun Nov  6 08:49:37 1994"), Some(Duration::ZERO));
    }

    #[test]
    fn waits_from_headers() {
        let mut h = HeaderMap::new();
        assert_eq!(server_wait(&h), None);
        h.insert("x-ratelimit-reset", HeaderValue::from_static("1"));
        assert_eq!(
            server_wait(&h),
            Some(Duration::from_secs(1)),
            "a reset in the past waits 1 s"
        );
        h.insert("retry-after", HeaderValue::from_static("7"));
        assert_eq!(server_wait(&h), Some(Duration::from_secs(7)));
    }

    #[test]
    fn path_segments_keep_only_unreserved_characters() {
        assert_eq!(
            path_segment("a b#?%/+&ü-._~.txt").to_string(),
            "a%20b%23%3F%25%2F%2B%26%C3%BC-._~.txt"
        );
    }

    #[test]
    fn ca_file_problems_are_reported() {
        assert!(Upstream::new("x", &settings(None)).is_ok());
        let missing = Upstream::new("x", &settings(Some("/nonexistent/ca.pem".into())));
        assert!(matches!(missing, Err(HttpSetupError::CaFile { .. })));
        let dir = tempfile::tempdir().unwrap();
        let not_pem = dir.path().join("not.pem");
        std::fs::write(&not_pem, "hello").unwrap();
        let bad = Upstream::new("x", &settings(Some(not_pem)));
        assert!(matches!(bad, Err(HttpSetupError::CaPem(_))));
    }
}
