//! An in-process emulator of the Dataverse 6.x Native API, as strict as the real service,
//! written from Dataverse's own sources and guides (IQSS/dataverse: `api/Datasets.java`,
//! `api/Dataverses.java`, `api/Files.java`, `api/Search.java`, `util/json/JsonParser.java`,
//! `util/json/JsonPrinter.java`, the commands, `citation.tsv`, `Bundle.properties`). Each
//! rule names its source in the doc comment of its handler or check (`handlers.rs`,
//! `validate.rs`, `vocab.rs`); the table is `SOURCES.md` beside this crate's `Cargo.toml`.
//!
//! What it serves:
//! - Datasets: `POST /api/dataverses/{alias}/datasets` (201), `GET`/`DELETE /api/datasets/{id}`,
//!   `GET /api/datasets/{id}/versions`,
//!   `GET`/`PUT`/`DELETE /api/datasets/{id}/versions/{:draft|:latest|:latest-published}`,
//!   `GET /api/datasets/{id}/locks`, `POST /api/datasets/{id}/actions/:publish`, each also
//!   as `/api/datasets/:persistentId/...?persistentId=`.
//! - Files: `POST /api/datasets/{id}/add` (multipart, streamed to disk, or a direct-upload
//!   registration), `GET .../versions/{v}/files`, `DELETE /api/files/{id}`.
//! - Search: `GET /api/search` (the caller's drafts and everyone's published datasets),
//!   `GET /api/mydata/retrieve` (MyData's own envelope).
//! - Users and licenses: `GET /api/users/:me`, `GET /api/licenses`, `GET /api/info/version`.
//! - Direct upload (when [`Options::direct_upload`] is set): `GET .../uploadurls`, the
//!   emulated S3 store (`PUT /s3/...`), `PUT`/`DELETE /api/datasets/mpupload`.
//! - Errors: `{"status":"ERROR","message":...}` with Dataverse's statuses and wording.
//! - Faults for tests: 5xx, Dataverse's rate limiting, hangs, locks held for polls,
//!   publish workflows and asynchronous finishes, corrupted storage, down (503).
//!
//! Not emulated: zip unpacking (zips are stored as uploaded), the real tabular ingest
//! (only its lock), other metadata blocks, `editMetadata`, `/addFiles`, collection
//! creation and publication, quotas (the full list: SOURCES.md §16).
//!
//! Every request is logged ([`DataverseEmulator::requests`]) without header values, so a
//! token never lands in the log.

mod files;
mod handlers;
mod info;
mod render;
mod search;
mod state;
mod store;
mod validate;
mod vocab;

use std::sync::{Arc, Mutex};

use actix_web::dev::Service as _;
use actix_web::HttpMessage as _;
use actix_web::{web, App, HttpServer};
use futures_util::future::{ready, Either};
use futures_util::{FutureExt as _, StreamExt as _};
use serde_json::Value;

use handlers::{lock, Shared};
pub use state::{ChecksumType, LoggedRequest, Options, StoredFile};
use state::{Fault, State};
use test_support::server_thread::ServerThread;

/// A running emulator. Dropping it stops the server; stored files go with it.
pub struct DataverseEmulator {
    url: String,
    state: Shared,
    server: ServerThread,
    _files: tempfile::TempDir,
}

impl DataverseEmulator {
    /// An installation with [`Options::default`] on `127.0.0.1` at a free port.
    pub async fn start() -> std::io::Result<Self> {
        Self::start_with(Options::default()).await
    }

    pub async fn start_with(options: Options) -> std::io::Result<Self> {
        let files = tempfile::Builder::new()
            .prefix("dataverse-emulator-")
            .tempdir()?;
        let state: Shared = Arc::new(Mutex::new(State {
            collections: options.collections.iter().cloned().collect(),
            options,
            // The root collection is DvObject 1; datasets and files follow.
            next_id: 1,
            ingest_polls: 2,
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
            state,
            server,
            _files: files,
        })
    }

    /// The base URL (what `DATAVERSE_ADDRESS` is set to).
    pub fn url(&self) -> &str {
        &self.url
    }

    /// Accepts `token` as the API token of `user` (e-mail `{user}@example.org`).
    pub fn add_token(&self, token: &str, user: &str) {
        let mut st = lock(&self.state);
        st.tokens.insert(token.to_owned(), user.to_owned());
        let next = st.user_ids.len() as u64 + 1;
        st.user_ids.entry(user.to_owned()).or_insert(next);
    }

    /// A dataset as `GET /api/datasets/{id}` renders `data` for its owner.
    pub fn dataset(&self, id: u64) -> Option<Value> {
        let st = lock(&self.state);
        st.datasets.get(&id).map(|d| handlers::dataset_json(&st, d))
    }

    /// Every dataset, oldest first.
    pub fn datasets(&self) -> Vec<Value> {
        let st = lock(&self.state);
        st.datasets
            .values()
            .map(|d| handlers::dataset_json(&st, d))
            .collect()
    }

    /// The files of the dataset's draft, or of its latest version without a draft.
    pub fn files(&self, id: u64) -> Vec<StoredFile> {
        let st = lock(&self.state);
        st.datasets
            .get(&id)
            .and_then(|d| d.latest())
            .map(|v| v.files.iter().map(|f| f.stored.clone()).collect())
            .unwrap_or_default()
    }

    /// Creates a valid draft dataset owned by `user` in the first collection (for the
    /// conformance run); its database id.
    pub fn create_sample_dataset(&self, user: &str) -> Option<u64> {
        let mut st = lock(&self.state);
        handlers::create_sample(&mut st, user)
    }

    /// Puts a `lock_type` lock on the dataset, held for the next `polls` reads of
    /// `GET .../locks`; writes are refused meanwhile as Dataverse refuses them.
    pub fn lock_for_polls(&self, id: u64, lock_type: &str, polls: usize) {
        let mut st = lock(&self.state);
        handlers::add_lock(&mut st, id, lock_type, polls);
    }

    /// The next publishes answer 202 (a `PrePublishDataset` workflow) and hold a
    /// `Workflow` lock for `polls` polls; the version is released when it goes.
    /// `0` turns the workflow off again (publishes release at once, 200).
    pub fn publish_workflow(&self, polls: usize) {
        lock(&self.state).publish_workflow = (polls > 0).then_some(polls);
    }

    /// How many polls of `GET .../locks` an Ingest lock (tabular files) lasts; 2 unless
    /// changed (0: no lock).
    pub fn ingest_lock_polls(&self, polls: usize) {
        lock(&self.state).ingest_polls = polls;
    }

    /// The next publishes answer 200 but finish as Dataverse 5+ does, asynchronously
    /// (`PublishDatasetCommand`: "publishing a dataset is always done asynchronously, with
    /// the dataset locked"): a `finalizePublication` lock for `polls` polls, the version
    /// still a DRAFT until it goes. `0` releases at once again.
    pub fn publish_finalizing(&self, polls: usize) {
        lock(&self.state).publish_finalize = (polls > 0).then_some(polls);
    }

    fn push_fault(&self, filter: Option<(&str, &str)>, n: usize, fault: Fault) {
        let mut st = lock(&self.state);
        let filter = filter.map(|(m, p)| (m.to_ascii_uppercase(), p.to_owned()));
        for _ in 0..n {
            st.faults.push_back((filter.clone(), fault.clone()));
        }
    }

    /// The next `n` calls answer `status`.
    pub fn fail_next(&self, n: usize, status: u16) {
        self.push_fault(None, n, Fault::Status(status));
    }

    /// The next `n` calls with `method` and a path starting with `path_prefix` answer
    /// `status`; other calls pass.
    pub fn fail_next_on(&self, method: &str, path_prefix: &str, n: usize, status: u16) {
        self.push_fault(Some((method, path_prefix)), n, Fault::Status(status));
    }

    /// The next call answers `status` with `{"status":"ERROR","message":message}`.
    pub fn fail_next_saying(&self, status: u16, message: &str) {
        self.push_fault(None, 1, Fault::Saying(status, message.to_owned()));
    }

    /// The next `n` matching calls are rate limited as Dataverse does (SOURCES.md §11):
    /// 429 without headers, or 400 "... Rate limited due to too many requests." on file
    /// add and delete.
    pub fn rate_limit_next_on(&self, method: &str, path_prefix: &str, n: usize) {
        self.push_fault(Some((method, path_prefix)), n, Fault::RateLimited);
    }

    /// The next `n` matching calls hang: the body is not read, no answer comes.
    pub fn hang_next_on(&self, method: &str, path_prefix: &str, n: usize) {
        self.push_fault(Some((method, path_prefix)), n, Fault::Hang);
    }

    /// The next `n` matching calls lose their connection: the request body is not read,
    /// the answer's head goes out and the connection is dropped before any body byte.
    pub fn reset_next_on(&self, method: &str, path_prefix: &str, n: usize) {
        self.push_fault(Some((method, path_prefix)), n, Fault::Reset);
    }

    /// The next `n` uploads are stored with their first byte flipped; the checksum
    /// reported is that of the stored bytes.
    pub fn corrupt_next_uploads(&self, n: usize) {
        lock(&self.state).corrupt_uploads = n;
    }

    /// While down, every call answers 503.
    pub fn set_down(&self, down: bool) {
        lock(&self.state).down = down;
    }

    pub fn clear_faults(&self) {
        lock(&self.state).faults.clear();
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
        // JSON bodies (metadata); files come as streams.
        .app_data(web::PayloadConfig::new(4 * 1024 * 1024))
        .wrap_fn(move |mut req, srv| {
            let (fault, hang, drain) = intercept(&st, &req);
            match fault {
                Some(resp) => {
                    let payload = req.take_payload();
                    let answer = ready(Ok(req.into_response(resp).map_into_right_body()));
                    Either::Left(
                        async move {
                            if hang {
                                // Neither reads the body nor answers, for longer than any test.
                                tokio::time::sleep(std::time::Duration::from_secs(3600)).await;
                            }
                            if drain {
                                // Dataverse's own refusals come after Jersey read the body.
                                let mut payload = payload;
                                while let Some(chunk) = payload.next().await {
                                    if chunk.is_err() {
                                        break;
                                    }
                                }
                            }
                            answer.await
                        }
                        .boxed_local(),
                    )
                }
                None => Either::Right(srv.call(req).map(|res| Ok(res?.map_into_left_body()))),
            }
        })
        .configure(handlers::routes)
        .default_service(web::to(handlers::not_found))
}

/// Logs the request and decides whether a canned fault answers it instead.
fn intercept(
    st: &Shared,
    req: &actix_web::dev::ServiceRequest,
) -> (Option<actix_web::HttpResponse>, bool, bool) {
    let headers = req.headers();
    let header = |n: &str| headers.get(n).and_then(|v| v.to_str().ok());
    let path = match req.query_string() {
        "" => req.path().to_owned(),
        q => format!("{}?{q}", req.path()),
    };
    let entry = LoggedRequest {
        method: req.method().to_string(),
        path: redact_key(&path),
        content_type: header("content-type").map(str::to_owned),
        content_length: header("content-length").and_then(|v| v.parse().ok()),
    };
    let mut g = lock(st);
    g.log.push(entry);
    if g.down {
        return (
            Some(handlers::error(503, "Service Unavailable")),
            false,
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
    let drain = matches!(fault, Some(Fault::RateLimited));
    let resp = fault.map(|fault| match fault {
        Fault::RateLimited => handlers::rate_limited(method, path),
        Fault::Status(s) => handlers::error(s, "Internal Server Error"),
        Fault::Saying(s, message) => handlers::error(s, &message),
        Fault::Hang => handlers::error(504, "Gateway Timeout"),
        Fault::Reset => actix_web::HttpResponse::Ok()
            .content_type("application/json")
            .streaming(futures_util::stream::once(async {
                Err::<actix_web::web::Bytes, _>(std::io::Error::other("connection reset"))
            })),
    });
    (resp, hang, drain)
}

/// The `?key=<token>` query parameter (SOURCES.md §1) is a secret: logged as `key=***`.
fn redact_key(path: &str) -> String {
    let Some((base, query)) = path.split_once('?') else {
        return path.to_owned();
    };
    let query: Vec<String> = query
        .split('&')
        .map(|p| {
            if p.starts_with("key=") {
                "key=***".to_owned()
            } else {
                p.to_owned()
            }
        })
        .collect();
    format!("{base}?{}", query.join("&"))
}

#[cfg(test)]
mod tests;
