//! An in-process emulator of InvenioRDM's REST API (v12 and later), as strict as the
//! real service, written from its sources: invenio-rdm-records (schemas, vocabularies,
//! serialisers), invenio-drafts-resources (draft routes, publish checks),
//! invenio-records-resources (the three-step file upload, multipart transfers, the error
//! format) and zenodo-rdm (what zenodo.org changes). Each rule names its source in the
//! doc comment of its handler (`handlers.rs`, `validate.rs`, `vocab.rs`); the table with
//! commits is in `SOURCES.md` beside this crate's `Cargo.toml`.
//!
//! What it serves:
//! - Drafts: `POST /api/records` (201), `GET`/`PUT`/`DELETE /api/records/{id}/draft`
//!   (200/200/204), `POST .../draft/actions/publish` (202, the DOI in
//!   `pids.doi.identifier`), `GET /api/records/{id}` (published only),
//!   `GET /api/user/records` (paginated; `q=is_published:false` for drafts).
//! - Files: `GET`/`POST`/`DELETE .../draft/files`, `GET`/`DELETE .../files/{key}`,
//!   `PUT`/`GET .../files/{key}/content`, `POST .../files/{key}/commit`: init → content →
//!   commit, `pending` until committed, `checksum: "md5:<hex>"` on commit. Multipart
//!   (`transfer.type "M"`, `PUT .../content/{part}`) only after
//!   [`InvenioEmulator::offer_multipart`]; its checksum appears after the commit.
//! - Errors: `{"status", "message"}`, validation `{"status": 400, "message": "A
//!   validation error occurred.", "errors": [{"field", "messages"}]}`.
//! - Accept: `application/vnd.inveniordm.v1+json` (RDM shape plus `ui`); `application/json`
//!   the RDM shape on a stock instance, the legacy shape on [`Flavour::Zenodo`].
//! - Faults for tests: 5xx, 429 with `Retry-After` and `X-RateLimit-*`, down (503),
//!   corrupted storage.
//!
//! Every request is logged ([`InvenioEmulator::requests`]) without header values other
//! than the User-Agent, Accept and Content-Type, so a token never lands in the log.

mod handlers;
mod state;
mod validate;
pub mod vocab;

use std::collections::VecDeque;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex};

use actix_web::dev::Service as _;
use actix_web::{web, App, HttpServer};
use futures_util::future::{ready, Either};
use futures_util::FutureExt as _;
use serde_json::Value;

use handlers::{lock, Shared};
use state::{Fault, State};
pub use state::{FileStatus, Flavour, Limits, LoggedRequest, Multipart, StoredFile};
use test_support::server_thread::ServerThread;
pub use validate::is_edtf;

/// A running emulator. Dropping it stops the server; stored files go with it.
pub struct InvenioEmulator {
    url: String,
    addr: SocketAddr,
    state: Shared,
    server: ServerThread,
    _files: tempfile::TempDir,
}

impl InvenioEmulator {
    /// A stock instance on `127.0.0.1` at a free port.
    pub async fn start() -> std::io::Result<Self> {
        Self::start_as(Flavour::Stock, Limits::default()).await
    }

    /// An instance of `flavour` with `limits`.
    pub async fn start_as(flavour: Flavour, limits: Limits) -> std::io::Result<Self> {
        let files = tempfile::Builder::new()
            .prefix("inveniordm-emulator-")
            .tempdir()?;
        let state: Shared = Arc::new(Mutex::new(State {
            flavour: Some(flavour),
            limits,
            next: if flavour == Flavour::Zenodo {
                10_000
            } else {
                0
            },
            files_dir: files.path().to_path_buf(),
            ..State::default()
        }));
        let listener = std::net::TcpListener::bind(("127.0.0.1", 0))?;
        let addr = listener.local_addr()?;
        let data = web::Data::new(state.clone());
        let server = ServerThread::spawn(move || {
            Ok(HttpServer::new(move || app(data.clone()))
                .workers(2)
                .disable_signals()
                .shutdown_timeout(1)
                .listen(listener)?
                .run())
        })?;
        let url = format!("http://{addr}");
        lock(&state).base_url = url.clone();
        Ok(Self {
            url,
            addr,
            state,
            server,
            _files: files,
        })
    }

    /// The base URL (what `INVENIORDM_ADDRESS` is set to).
    pub fn url(&self) -> &str {
        &self.url
    }

    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// Accepts `token` as a personal access token of `owner`.
    pub fn add_token(&self, token: &str, owner: &str) {
        lock(&self.state)
            .tokens
            .insert(token.to_owned(), owner.to_owned());
    }

    /// A draft or record as `GET` renders it in the RDM shape (`None`: no such id).
    pub fn record(&self, id: &str) -> Option<Value> {
        let st = lock(&self.state);
        let key = st.find_key(id)?;
        st.drafts.get(&key).map(|d| st.rdm_json(d))
    }

    /// Every draft and record, oldest first, in the RDM shape.
    pub fn records(&self) -> Vec<Value> {
        let st = lock(&self.state);
        st.drafts.values().map(|d| st.rdm_json(d)).collect()
    }

    /// The files of a draft, in init order.
    pub fn files(&self, id: &str) -> Vec<StoredFile> {
        let st = lock(&self.state);
        st.find_key(id)
            .and_then(|k| st.drafts.get(&k))
            .map(|d| d.files.clone())
            .unwrap_or_default()
    }

    fn push_fault(&self, filter: Option<(&str, &str)>, n: usize, fault: Fault) {
        let mut st = lock(&self.state);
        let filter = filter.map(|(m, p)| (m.to_ascii_uppercase(), p.to_owned()));
        for _ in 0..n {
            st.faults.push_back((filter.clone(), fault.clone()));
        }
    }

    /// The next `n` calls answer 429 with `Retry-After: retry_after_secs` and the
    /// `X-RateLimit-*` headers Flask-Limiter sends.
    pub fn rate_limit_next(&self, n: usize, retry_after_secs: u64) {
        self.push_fault(None, n, Fault::RateLimited { retry_after_secs });
    }

    /// The next `n` calls answer `status` (e.g. 500, 502, 503, 504).
    pub fn fail_next(&self, n: usize, status: u16) {
        self.push_fault(None, n, Fault::Status(status));
    }

    /// The next `n` calls with `method` and a path starting with `path_prefix` answer
    /// `status`; other calls pass.
    pub fn fail_next_on(&self, method: &str, path_prefix: &str, n: usize, status: u16) {
        self.push_fault(Some((method, path_prefix)), n, Fault::Status(status));
    }

    /// The next `n` matching calls answer 429 with `Retry-After`.
    pub fn rate_limit_next_on(&self, method: &str, path_prefix: &str, n: usize, secs: u64) {
        let fault = Fault::RateLimited {
            retry_after_secs: secs,
        };
        self.push_fault(Some((method, path_prefix)), n, fault);
    }

    /// The next call answers `status` with `message` in Invenio's error body (e.g. one
    /// echoing the caller's token).
    pub fn fail_next_saying(&self, status: u16, message: &str) {
        self.push_fault(None, 1, Fault::Saying(status, message.to_owned()));
    }

    /// The next `n` calls with `method` and a path starting with `path_prefix` hang: the
    /// server reads nothing of the body and never answers.
    pub fn hang_next_on(&self, method: &str, path_prefix: &str, n: usize) {
        self.push_fault(Some((method, path_prefix)), n, Fault::Hang);
    }

    /// The next `n` content uploads are stored with their first byte flipped (the
    /// commit's checksum is that of the stored bytes).
    pub fn corrupt_next_uploads(&self, n: usize) {
        lock(&self.state).corrupt_uploads = n;
    }

    /// Offers multipart transfers (`"M"`); without, their init answers 403 as an
    /// instance whose permissions allow only local transfers.
    pub fn offer_multipart(&self, offered: bool) {
        lock(&self.state).multipart = offered;
    }

    /// While down, every call answers 503.
    pub fn set_down(&self, down: bool) {
        lock(&self.state).down = down;
    }

    pub fn clear_faults(&self) {
        lock(&self.state).faults = VecDeque::new();
    }

    /// Every request received so far.
    pub fn requests(&self) -> Vec<LoggedRequest> {
        lock(&self.state).log.clone()
    }

    pub fn clear_requests(&self) {
        lock(&self.state).log.clear();
    }

    /// Stops the server and waits for it.
    pub async fn stop(self) {
        self.server.stop().await;
    }
}

/// The emulated site: the request log and faults around every route.
fn app(
    data: web::Data<Shared>,
) -> App<
    impl actix_web::dev::ServiceFactory<
        actix_web::dev::ServiceRequest,
        Config = (),
        Response = actix_web::dev::ServiceResponse<impl actix_web::body::MessageBody>,
        Error = actix_web::Error,
        InitError = (),
    >,
> {
    let st = data.get_ref().clone();
    let files = "/{id}/draft/files";
    let file = "/{id}/draft/files/{key}";
    App::new()
        .app_data(data)
        // Draft bodies as JSON (invenio answers 413 above its MAX_CONTENT_LENGTH).
        .app_data(web::PayloadConfig::new(1024 * 1024))
        .wrap_fn(move |req, srv| {
            let (index, fault, hang) = intercept(&st, &req);
            match fault {
                Some(resp) => {
                    set_status(&st, index, resp.status().as_u16());
                    let answer = ready(Ok(req.into_response(resp).map_into_right_body()));
                    Either::Left(
                        async move {
                            if hang {
                                // Neither reads the body nor answers, for longer than any test.
                                tokio::time::sleep(std::time::Duration::from_secs(3600)).await;
                            }
                            answer.await
                        }
                        .boxed_local(),
                    )
                }
                None => {
                    let st = st.clone();
                    Either::Right(srv.call(req).map(move |res| {
                        let res = res?;
                        set_status(&st, index, res.status().as_u16());
                        Ok(res.map_into_left_body())
                    }))
                }
            }
        })
        .route("/api/user/records", web::get().to(handlers::user_records))
        .route(
            "/api/vocabularies/licenses/{id}",
            web::get().to(handlers::license),
        )
        .service(
            web::scope("/api/records")
                .route("", web::post().to(handlers::create))
                .route("/{id}", web::get().to(handlers::get_record))
                .route("/{id}/draft", web::get().to(handlers::get_draft))
                .route("/{id}/draft", web::put().to(handlers::update_draft))
                .route("/{id}/draft", web::delete().to(handlers::delete_draft))
                .route(
                    "/{id}/draft/actions/publish",
                    web::post().to(handlers::publish),
                )
                .route(files, web::get().to(handlers::list_files))
                .route(files, web::post().to(handlers::init_files))
                .route(files, web::delete().to(handlers::delete_all_files))
                .route(
                    &format!("{file}/content"),
                    web::put().to(handlers::put_content),
                )
                .route(
                    &format!("{file}/content"),
                    web::get().to(handlers::get_content),
                )
                .route(
                    &format!("{file}/content/{{part}}"),
                    web::put().to(handlers::put_part),
                )
                .route(&format!("{file}/commit"), web::post().to(handlers::commit))
                .route(file, web::get().to(handlers::get_file))
                .route(file, web::delete().to(handlers::delete_file)),
        )
        .default_service(web::to(handlers::not_found))
}

/// Logs the request and decides whether a canned fault answers it instead.
fn intercept(
    st: &Shared,
    req: &actix_web::dev::ServiceRequest,
) -> (usize, Option<actix_web::HttpResponse>, bool) {
    let headers = req.headers();
    let header = |n: &str| headers.get(n).and_then(|v| v.to_str().ok());
    let entry = LoggedRequest {
        method: req.method().to_string(),
        path: req.path().to_owned(),
        query: req.query_string().to_owned(),
        accept: header("accept").map(str::to_owned),
        content_type: header("content-type").map(str::to_owned),
        authorization: headers.contains_key("authorization"),
        content_length: header("content-length").and_then(|v| v.parse().ok()),
        chunked: header("transfer-encoding").is_some_and(|v| v.contains("chunked")),
        user_agent: header("user-agent").map(str::to_owned),
        status: 0,
    };
    let mut g = lock(st);
    g.log.push(entry);
    let index = g.log.len() - 1;
    if g.down {
        return (
            index,
            Some(handlers::error(503, "Service Unavailable.")),
            false,
        );
    }
    let method = req.method().as_str();
    let path = req.path();
    let hit = g.faults.iter().position(|(filter, _)| match filter {
        None => true,
        Some((m, prefix)) => m == method && path.starts_with(prefix.as_str()),
    });
    let fault = hit.and_then(|i| g.faults.remove(i)).map(|(_, f)| f);
    let hang = matches!(fault, Some(Fault::Hang));
    let resp = fault.map(|fault| match fault {
        Fault::RateLimited { retry_after_secs } => {
            let mut resp = handlers::error(429, "Too Many Requests: 133 per 1 minute");
            let reset = time::OffsetDateTime::now_utc().unix_timestamp() as u64 + retry_after_secs;
            let h = resp.headers_mut();
            let pairs = [
                ("x-ratelimit-limit", "133".to_owned()),
                ("x-ratelimit-remaining", "0".to_owned()),
                ("x-ratelimit-reset", reset.to_string()),
                ("retry-after", retry_after_secs.to_string()),
            ];
            for (k, v) in pairs {
                if let Ok(v) = actix_web::http::header::HeaderValue::from_str(&v) {
                    h.insert(actix_web::http::header::HeaderName::from_static(k), v);
                }
            }
            resp
        }
        Fault::Status(s) => handlers::error(s, "Internal server error."),
        Fault::Saying(s, message) => handlers::error(s, &message),
        Fault::Hang => handlers::error(504, "Gateway Timeout."),
    });
    (index, resp, hang)
}

fn set_status(st: &Shared, index: usize, status: u16) {
    if let Some(e) = lock(st).log.get_mut(index) {
        e.status = status;
    }
}

#[cfg(test)]
mod tests;
