//! An in-process emulator of Zenodo's REST deposit API, faithful to what zenodo.org
//! serves today (where the documentation and the live site differ, it does what the live
//! site does; see `shared/reference/provider-notes.md`).
//!
//! What follows which source:
//! - Routes, status codes and JSON shapes of depositions and deposition files:
//!   developers.zenodo.org ("Depositions", "Deposition files", "Actions"), checked against
//!   zenodo-rdm's `site/zenodo_rdm/legacy/` (the code behind the legacy API today).
//!   Create 201, get/update 200, publish 202, delete **204** (live; docs 201), a published
//!   record cannot be deleted: **404** (live; docs 403). Update (`PUT`) replaces the whole
//!   metadata object. The list takes `page`, `size` (≤ 100; more is refused here) and
//!   `status=draft|published`, newest first.
//! - Bucket uploads `PUT {links.bucket}/{key}`: developers.zenodo.org "Quickstart /
//!   upload"; 201 with `checksum: "md5:<hex>"`; same key overwrites; at most 100 files
//!   and 50 GB (all files together, and per file) per record (see `handlers::size_limit`);
//!   a body without `Content-Length` (chunked) is refused with 400 "File is smaller than
//!   expected." (zenodo/zenodo#1986). No folders: a key with `/` is refused.
//! - The legacy multipart upload `POST .../files` (`name`, `file`): 201, 413 above
//!   100 MB (configurable for tests with [`ZenodoEmulator::set_legacy_upload_limit`]).
//! - What the legacy deserializer refuses or rewrites on create/update (license
//!   vocabulary, access right and embargo, upload type, description HTML): `rules`.
//! - Publish validation: the required fields of "Deposit metadata" (upload_type,
//!   publication_date, title, creators, description of 3 characters or more) and at least
//!   one file; errors in the live shape
//!   `{"status": 400, "message": "A validation error occurred.", "errors": [{"field",
//!   "messages": [...]}]}`; an embargo must end in the future.
//! - Authentication: `Authorization: Bearer` or `?access_token=`; no token → **403**
//!   (live; docs 401), an unknown token → 401; another user's deposition → 403.
//! - Rate limiting: 429 with `X-RateLimit-Limit/-Remaining/-Reset` and `Retry-After`,
//!   as zenodo.org sends them ([`ZenodoEmulator::rate_limit_next`]).
//! - Faults for tests: the next calls answer a 5xx ([`ZenodoEmulator::fail_next`]), the
//!   whole site is in maintenance, 503 ([`ZenodoEmulator::set_down`]), or uploads are
//!   stored corrupted ([`ZenodoEmulator::corrupt_next_uploads`]).
//! - `DELETE {bucket}/{key}`: 204 (invenio-files-rest's `ObjectResource.delete`).
//!
//! Every request is logged ([`ZenodoEmulator::requests`]) without query values or header
//! values other than the User-Agent, so a token never lands in the log.

mod handlers;
mod rules;
mod state;

use std::collections::VecDeque;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::{Arc, Mutex};

use actix_web::dev::Service as _;
use actix_web::{web, App, HttpServer};
use futures_util::future::{ready, Either};
use futures_util::FutureExt as _;
use serde_json::{Map, Value};

use state::{now_secs, Fault, State};
pub use state::{LoggedRequest, StoredFile};

use handlers::{lock, Shared};

use test_support::server_thread::ServerThread;

/// The default limit of the legacy multipart upload (Zenodo: 100 MB).
pub const LEGACY_UPLOAD_LIMIT: u64 = 100 * 1024 * 1024;

/// zenodo-rdm `invenio.cfg`: `RDM_FILES_DEFAULT_QUOTA_SIZE = 50 * 10**9` (all files of a
/// record together) and `RDM_FILES_DEFAULT_MAX_FILE_SIZE = 50 * 10**9`.
pub const BUCKET_QUOTA: u64 = 50_000_000_000;
pub const MAX_FILE_SIZE: u64 = 50_000_000_000;

/// invenio-rdm-records `config.py`: `RDM_RECORDS_MAX_FILES_COUNT = 100` (zenodo-rdm keeps it).
pub const MAX_FILES: usize = 100;

/// A running emulator. Dropping it stops the server; stored files go with it.
pub struct ZenodoEmulator {
    url: String,
    addr: SocketAddr,
    state: Shared,
    server: ServerThread,
    _files: tempfile::TempDir,
}

impl ZenodoEmulator {
    /// Starts on `127.0.0.1` at a free port.
    pub async fn start() -> std::io::Result<Self> {
        let files = tempfile::Builder::new()
            .prefix("zenodo-emulator-")
            .tempdir()?;
        let state: Shared = Arc::new(Mutex::new(State {
            next_id: 1000,
            files_dir: files.path().to_path_buf(),
            legacy_upload_limit: LEGACY_UPLOAD_LIMIT,
            bucket_quota: BUCKET_QUOTA,
            max_file_size: MAX_FILE_SIZE,
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

    /// The base URL, e.g. `http://127.0.0.1:41234` (what `ZENODO_ADDRESS` is set to).
    pub fn url(&self) -> &str {
        &self.url
    }

    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// Accepts `token` as an access token of `owner`.
    pub fn add_token(&self, token: &str, owner: &str) {
        lock(&self.state)
            .tokens
            .insert(token.to_owned(), owner.to_owned());
    }

    /// Every deposition, as `GET /api/deposit/depositions/{id}` renders it, oldest first.
    pub fn depositions(&self) -> Vec<Value> {
        let st = lock(&self.state);
        st.depositions
            .values()
            .map(|d| st.deposition_json(d))
            .collect()
    }

    /// One deposition as the API renders it.
    pub fn deposition(&self, id: u64) -> Option<Value> {
        let st = lock(&self.state);
        st.depositions.get(&id).map(|d| st.deposition_json(d))
    }

    /// The metadata exactly as the user set it (without the server's `prereserve_doi`).
    pub fn metadata(&self, id: u64) -> Option<Map<String, Value>> {
        lock(&self.state)
            .depositions
            .get(&id)
            .map(|d| d.metadata.clone())
    }

    /// The files of a deposition, in upload order.
    pub fn files(&self, id: u64) -> Vec<StoredFile> {
        lock(&self.state)
            .depositions
            .get(&id)
            .map(|d| d.files.clone())
            .unwrap_or_default()
    }

    /// Where a stored file's bytes are on disk.
    pub fn file_path(&self, id: u64, key: &str) -> Option<PathBuf> {
        self.files(id)
            .into_iter()
            .find(|f| f.key == key)
            .map(|f| f.path)
    }

    /// The next `n` calls answer 429 with `Retry-After: retry_after_secs`.
    pub fn rate_limit_next(&self, n: usize, retry_after_secs: u64) {
        let mut st = lock(&self.state);
        for _ in 0..n {
            st.faults
                .push_back((None, Fault::RateLimited { retry_after_secs }));
        }
    }

    /// The next `n` calls answer `status` (e.g. 500, 502, 503, 504).
    pub fn fail_next(&self, n: usize, status: u16) {
        let mut st = lock(&self.state);
        for _ in 0..n {
            st.faults.push_back((None, Fault::Status(status)));
        }
    }

    /// The next call answers `status` with `message` in Zenodo's error body (e.g. one
    /// echoing the caller's token, as a proxy or a validation message might).
    pub fn fail_next_saying(&self, status: u16, message: &str) {
        let message = message.to_owned();
        lock(&self.state)
            .faults
            .push_back((None, Fault::Saying(status, message)));
    }

    /// While down, every call answers 503 (Zenodo's maintenance page).
    pub fn set_down(&self, down: bool) {
        lock(&self.state).down = down;
    }

    /// The next `n` calls with this method and a path starting with `path_prefix` (e.g.
    /// `PUT`, `/api/files/`) answer 429 with `Retry-After: retry_after_secs`; other calls
    /// pass.
    pub fn rate_limit_next_on(
        &self,
        method: &str,
        path_prefix: &str,
        n: usize,
        retry_after_secs: u64,
    ) {
        let mut st = lock(&self.state);
        for _ in 0..n {
            st.faults.push_back((
                Some((method.to_ascii_uppercase(), path_prefix.to_owned())),
                Fault::RateLimited { retry_after_secs },
            ));
        }
    }

    /// The next `n` calls matching method and path prefix answer `status`.
    pub fn fail_next_on(&self, method: &str, path_prefix: &str, n: usize, status: u16) {
        let mut st = lock(&self.state);
        for _ in 0..n {
            st.faults.push_back((
                Some((method.to_ascii_uppercase(), path_prefix.to_owned())),
                Fault::Status(status),
            ));
        }
    }

    /// The next `n` bucket uploads are stored with one byte flipped (their checksum is
    /// that of the stored bytes): a provider that corrupts what it receives.
    pub fn corrupt_next_uploads(&self, n: usize) {
        lock(&self.state).corrupt_uploads = n;
    }

    /// Clears pending faults.
    pub fn clear_faults(&self) {
        lock(&self.state).faults = VecDeque::new();
    }

    /// The size above which the legacy multipart upload answers 413.
    pub fn set_legacy_upload_limit(&self, bytes: u64) {
        lock(&self.state).legacy_upload_limit = bytes;
    }

    /// A smaller bucket for tests: the quota of all files of a record together and the
    /// largest file (Zenodo: 50 GB each).
    pub fn set_bucket_limits(&self, quota: u64, max_file_size: u64) {
        let mut st = lock(&self.state);
        st.bucket_quota = quota;
        st.max_file_size = max_file_size;
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
    App::new()
        .app_data(data)
        .wrap_fn(move |req, srv| {
            let (index, fault) = intercept(&st, &req);
            match fault {
                Some(resp) => {
                    set_status(&st, index, resp.status().as_u16());
                    Either::Left(ready(Ok(req.into_response(resp).map_into_right_body())))
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
        .service(
            web::scope("/api/deposit/depositions")
                .route("", web::get().to(handlers::list))
                .route("", web::post().to(handlers::create))
                .route("/{id}", web::get().to(handlers::get))
                .route("/{id}", web::put().to(handlers::update))
                .route("/{id}", web::delete().to(handlers::delete))
                .route("/{id}/actions/publish", web::post().to(handlers::publish))
                .route("/{id}/files", web::get().to(handlers::list_files))
                .route("/{id}/files", web::post().to(handlers::legacy_upload))
                .route("/{id}/files/{file_id}", web::get().to(handlers::get_file))
                .route(
                    "/{id}/files/{file_id}",
                    web::delete().to(handlers::delete_file),
                ),
        )
        .route(
            "/api/files/{bucket}/{key:.*}",
            web::put().to(handlers::bucket_put),
        )
        .route(
            "/api/files/{bucket}/{key:.*}",
            web::get().to(handlers::bucket_get),
        )
        .route(
            "/api/files/{bucket}/{key:.*}",
            web::delete().to(handlers::bucket_delete),
        )
        .default_service(web::to(handlers::not_found))
}

/// Logs the request and decides whether a canned fault answers it instead.
fn intercept(
    st: &Shared,
    req: &actix_web::dev::ServiceRequest,
) -> (usize, Option<actix_web::HttpResponse>) {
    let headers = req.headers();
    let header = |n: &str| headers.get(n).and_then(|v| v.to_str().ok());
    let entry = LoggedRequest {
        method: req.method().to_string(),
        path: req.path().to_owned(),
        query_access_token: req
            .query_string()
            .split('&')
            .any(|p| p.starts_with("access_token=")),
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
            Some(handlers::error(503, "Zenodo is down for maintenance.")),
        );
    }
    let method = req.method().as_str();
    let path = req.path();
    let hit = g.faults.iter().position(|(filter, _)| match filter {
        None => true,
        Some((m, prefix)) => m == method && path.starts_with(prefix.as_str()),
    });
    let fault = hit.and_then(|i| g.faults.remove(i)).map(|(_, f)| f);
    let resp = fault.map(|fault| match fault {
        Fault::RateLimited { retry_after_secs } => {
            let mut resp = handlers::error(429, "Too many requests. Please slow down.");
            let h = resp.headers_mut();
            let pairs = [
                ("x-ratelimit-limit", "100".to_owned()),
                ("x-ratelimit-remaining", "0".to_owned()),
                (
                    "x-ratelimit-reset",
                    (now_secs() + retry_after_secs).to_string(),
                ),
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
    });
    (index, resp)
}

fn set_status(st: &Shared, index: usize, status: u16) {
    if let Some(e) = lock(st).log.get_mut(index) {
        e.status = status;
    }
}

#[cfg(test)]
mod tests;
