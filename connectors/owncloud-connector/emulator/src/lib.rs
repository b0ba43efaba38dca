//! A real WebDAV server (the `dav-server` crate, not written by us) laid out like ownCloud
//! and Nextcloud, for the connector's tests, the benchmarks and the demo.
//!
//! - A local folder is served at both `/remote.php/webdav` (ownCloud, and Nextcloud's
//!   legacy root) and `/remote.php/dav/files/{user}` (Nextcloud).
//! - Every request must authenticate like at a real EFSS: `Authorization: Bearer <token>`
//!   and/or `Basic user:<app password>` depending on [`ServerAuth`]; anything else gets
//!   Sabre's 401 XML error.
//! - PROPFIND reports ownCloud's `oc:fileid` and `oc:checksums`, GET sends `OC-Checksum`
//!   ([`props`]); the chunked-upload endpoint `/remote.php/dav/uploads/{user}/...` follows
//!   ownCloud's or Nextcloud's rules ([`chunking`]).
//! - Requests are counted per method (the benchmarks count upstream PROPFINDs), and
//!   [`Fault`]s make the next matching requests fail with a chosen status (423, 507, 5xx
//!   happen on real servers and must map correctly), drop the connection, or flip a byte
//!   of a download or of a stored upload.
//!
//! ```no_run
//! # async fn demo() -> std::io::Result<()> {
//! let dir = tempfile::tempdir()?;
//! let dav = owncloud_emulator::WebDavServer::start(dir.path(), "alice", "tok").await?;
//! println!("OWNCLOUD_INSTALLATION_URL={}", dav.base_url());
//! # Ok(()) }
//! ```

use std::collections::HashMap;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use base64::engine::general_purpose::STANDARD as B64;
use base64::Engine as _;
use bytes::Bytes;
use dav_server::davpath::DavPath;
use dav_server::fakels::FakeLs;
use dav_server::DavHandler;
use futures_util::TryStreamExt as _;
use http::{Request, Response, StatusCode};
use http_body_util::combinators::UnsyncBoxBody;
use http_body_util::{BodyExt as _, Full, StreamBody};
use hyper::server::conn::http1;
use hyper::service::service_fn;
use hyper_util::rt::TokioIo;
use tokio::net::TcpListener;
use tokio::task::{JoinHandle, JoinSet};

mod chunking;
mod props;

pub mod hostile_dav;

pub use chunking::{Chunking, UPLOADS_ROOT};
pub use props::{Reported, Sums};

/// The ownCloud (and Nextcloud legacy) WebDAV root.
pub const OWNCLOUD_ROOT: &str = "/remote.php/webdav";
/// Nextcloud's WebDAV root, followed by `/{user}`.
pub const NEXTCLOUD_FILES: &str = "/remote.php/dav/files";

/// Which `Authorization` schemes the server accepts.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum ServerAuth {
    /// `Bearer <token>` only (an OAuth2 access token).
    #[default]
    Bearer,
    /// `Basic <user>:<token>` only (an app password).
    Basic,
    /// Either.
    Both,
}

/// What a [`Fault`] does to the request it hits.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FaultKind {
    /// Answer with this status and a Sabre error body.
    Status(u16),
    /// Drop the connection without an answer, after the first piece of the request body
    /// (if it has one): what a client sees as a connection reset mid-upload.
    Reset,
    /// Do the request's work, then drop the connection instead of answering: an answer
    /// lost on the way (the client cannot tell it from [`FaultKind::Reset`]).
    ResetAfter,
    /// A GET whose body has its first byte changed (the `OC-Checksum` header stays true).
    FlipBody,
    /// A PUT, or the final MOVE of a chunked upload, that succeeds but stores the content
    /// with one byte changed, so the reported checksums differ from what was sent.
    FlipStored,
}

/// Makes the next `times` requests whose method is `method` (e.g. `"MOVE"`), and whose
/// path contains `path_contains` when set, misbehave as `kind` says.
#[derive(Debug, Clone)]
pub struct Fault {
    pub method: String,
    pub path_contains: Option<String>,
    pub kind: FaultKind,
    pub times: u32,
    /// The Sabre `<s:message>` (default `injected fault`), e.g. one echoing the token.
    pub message: Option<String>,
}

impl Fault {
    /// Answers `status` (with a Sabre error body).
    pub fn new(method: &str, status: u16) -> Self {
        Self::of(method, FaultKind::Status(status))
    }

    pub fn of(method: &str, kind: FaultKind) -> Self {
        Self {
            method: method.to_ascii_uppercase(),
            path_contains: None,
            kind,
            times: 1,
            message: None,
        }
    }

    /// Drops the connection (see [`FaultKind::Reset`]).
    pub fn reset(method: &str) -> Self {
        Self::of(method, FaultKind::Reset)
    }

    /// The Sabre message of a status fault.
    pub fn message(mut self, message: &str) -> Self {
        self.message = Some(message.to_owned());
        self
    }

    pub fn on_path(mut self, fragment: &str) -> Self {
        self.path_contains = Some(fragment.to_owned());
        self
    }

    pub fn times(mut self, times: u32) -> Self {
        self.times = times;
        self
    }
}

/// Everything a server is started with.
#[derive(Debug, Clone)]
pub struct WebDavOptions {
    pub root: PathBuf,
    pub user: String,
    pub token: String,
    pub auth: ServerAuth,
    /// Listen address; port 0 picks a free one.
    pub addr: SocketAddr,
    /// Whose chunked-upload rules `/remote.php/dav/uploads` follows.
    pub chunking: Chunking,
    /// Which checksums PROPFIND and GET report.
    pub reported: Reported,
}

impl WebDavOptions {
    pub fn new(root: &Path, user: &str, token: &str) -> Self {
        Self {
            root: root.to_path_buf(),
            user: user.to_owned(),
            token: token.to_owned(),
            auth: ServerAuth::Bearer,
            addr: SocketAddr::from(([127, 0, 0, 1], 0)),
            chunking: Chunking::default(),
            reported: Reported::default(),
        }
    }

    pub fn reported(mut self, reported: Reported) -> Self {
        self.reported = reported;
        self
    }

    pub fn chunking(mut self, chunking: Chunking) -> Self {
        self.chunking = chunking;
        self
    }

    pub fn auth(mut self, auth: ServerAuth) -> Self {
        self.auth = auth;
        self
    }

    pub fn addr(mut self, addr: SocketAddr) -> Self {
        self.addr = addr;
        self
    }
}

#[derive(Default)]
struct Stats {
    total: AtomicU64,
    unauthorized: AtomicU64,
    owncloud_root: AtomicU64,
    nextcloud_root: AtomicU64,
    in_flight: AtomicU64,
    max_in_flight: AtomicU64,
    by_method: Mutex<HashMap<String, u64>>,
}

struct State {
    owncloud: DavHandler,
    nextcloud: DavHandler,
    nextcloud_prefix: String,
    root: PathBuf,
    user: String,
    chunking: Chunking,
    uploads: chunking::Uploads,
    /// Where PUT bodies are received before they replace the target (see [`put`]).
    parts: tempfile::TempDir,
    next_part: AtomicU64,
    checksums: props::Checksums,
    expected_bearer: String,
    expected_basic: String,
    auth: ServerAuth,
    stats: Stats,
    faults: Mutex<Vec<Fault>>,
    /// Added before every authenticated answer (a slow server).
    delay: Mutex<Option<Duration>>,
}

/// Counts a request as in flight until its answer's head is ready.
struct InFlight<'a>(&'a Stats);

impl<'a> InFlight<'a> {
    fn enter(stats: &'a Stats) -> Self {
        let now = stats.in_flight.fetch_add(1, Ordering::SeqCst) + 1;
        stats.max_in_flight.fetch_max(now, Ordering::SeqCst);
        Self(stats)
    }
}

impl Drop for InFlight<'_> {
    fn drop(&mut self) {
        self.0.in_flight.fetch_sub(1, Ordering::SeqCst);
    }
}

/// A running server; stopped by [`WebDavServer::stop`] or when dropped.
pub struct WebDavServer {
    addr: SocketAddr,
    user: String,
    root: PathBuf,
    state: Arc<State>,
    task: JoinHandle<()>,
}

impl WebDavServer {
    /// Serves `root` for `user`, accepting `Bearer <token>`, on 127.0.0.1 (a free port).
    pub async fn start(root: &Path, user: &str, token: &str) -> std::io::Result<Self> {
        Self::start_with(WebDavOptions::new(root, user, token)).await
    }

    pub async fn start_with(opts: WebDavOptions) -> std::io::Result<Self> {
        let nextcloud_prefix = format!("{NEXTCLOUD_FILES}/{}", encode_segment(&opts.user));
        let checksums = props::Checksums::new(opts.reported);
        let handler = |prefix: &str| {
            DavHandler::builder()
                .filesystem(props::OcFs::new(&opts.root, checksums.clone()))
                .locksystem(FakeLs::new())
                .strip_prefix(prefix.to_owned())
                .build_handler()
        };
        let state = Arc::new(State {
            owncloud: handler(OWNCLOUD_ROOT),
            nextcloud: handler(&nextcloud_prefix),
            nextcloud_prefix,
            root: opts.root.clone(),
            user: opts.user.clone(),
            chunking: opts.chunking,
            uploads: chunking::Uploads::new()?,
            parts: tempfile::tempdir()?,
            next_part: AtomicU64::new(0),
            checksums,
            expected_bearer: format!("Bearer {}", opts.token),
            expected_basic: format!(
                "Basic {}",
                B64.encode(format!("{}:{}", opts.user, opts.token))
            ),
            auth: opts.auth,
            stats: Stats::default(),
            faults: Mutex::new(Vec::new()),
            delay: Mutex::new(None),
        });
        let listener = TcpListener::bind(opts.addr).await?;
        let addr = listener.local_addr()?;
        let task = tokio::spawn(accept_loop(listener, Arc::clone(&state)));
        Ok(Self {
            addr,
            user: opts.user,
            root: opts.root,
            state,
            task,
        })
    }

    /// `http://127.0.0.1:<port>`: what `OWNCLOUD_INSTALLATION_URL` is set to.
    pub fn base_url(&self) -> String {
        format!("http://{}", self.addr)
    }

    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// The ownCloud-style WebDAV root URL.
    pub fn owncloud_url(&self) -> String {
        format!("{}{OWNCLOUD_ROOT}", self.base_url())
    }

    /// The Nextcloud-style WebDAV root URL of the user.
    pub fn nextcloud_url(&self) -> String {
        format!("{}{}", self.base_url(), self.state.nextcloud_prefix)
    }

    pub fn user(&self) -> &str {
        &self.user
    }

    /// The served folder.
    pub fn root(&self) -> &Path {
        &self.root
    }

    /// All requests so far (authenticated or not).
    pub fn total_requests(&self) -> u64 {
        self.state.stats.total.load(Ordering::Relaxed)
    }

    /// Requests of one method so far, e.g. `requests("PROPFIND")`.
    pub fn requests(&self, method: &str) -> u64 {
        self.state
            .stats
            .by_method
            .lock()
            .map(|m| m.get(&method.to_ascii_uppercase()).copied().unwrap_or(0))
            .unwrap_or(0)
    }

    /// Authenticated requests under `/remote.php/webdav`.
    pub fn owncloud_root_requests(&self) -> u64 {
        self.state.stats.owncloud_root.load(Ordering::Relaxed)
    }

    /// Authenticated requests under `/remote.php/dav/files/{user}`.
    pub fn nextcloud_root_requests(&self) -> u64 {
        self.state.stats.nextcloud_root.load(Ordering::Relaxed)
    }

    /// Requests refused with 401.
    pub fn unauthorized_requests(&self) -> u64 {
        self.state.stats.unauthorized.load(Ordering::Relaxed)
    }

    /// The most requests that were being answered at the same time.
    pub fn max_in_flight(&self) -> u64 {
        self.state.stats.max_in_flight.load(Ordering::SeqCst)
    }

    /// Delays every authenticated answer by `delay` (`None`: answer at once).
    pub fn set_delay(&self, delay: Option<Duration>) {
        if let Ok(mut d) = self.state.delay.lock() {
            *d = delay;
        }
    }

    pub fn reset_counters(&self) {
        self.state.stats.total.store(0, Ordering::Relaxed);
        self.state.stats.unauthorized.store(0, Ordering::Relaxed);
        self.state.stats.owncloud_root.store(0, Ordering::Relaxed);
        self.state.stats.nextcloud_root.store(0, Ordering::Relaxed);
        self.state.stats.max_in_flight.store(0, Ordering::SeqCst);
        if let Ok(mut m) = self.state.stats.by_method.lock() {
            m.clear();
        }
    }

    /// Queues a fault (see [`Fault`]).
    pub fn inject(&self, fault: Fault) {
        if let Ok(mut f) = self.state.faults.lock() {
            f.push(fault);
        }
    }

    /// PUT bodies being received right now (each in its server-side part file).
    pub fn part_files(&self) -> usize {
        std::fs::read_dir(self.state.parts.path()).map_or(0, |rd| rd.count())
    }

    /// The transfer ids of chunked uploads whose upload folder still exists.
    pub fn upload_folders(&self) -> Vec<String> {
        self.state.uploads.folders()
    }

    /// Stops listening and closes every open connection: later calls are refused.
    pub async fn stop(mut self) {
        self.task.abort();
        let _ = (&mut self.task).await;
    }
}

impl Drop for WebDavServer {
    fn drop(&mut self) {
        self.task.abort();
    }
}

/// Accepts connections; aborting this task drops the JoinSet and so every connection.
async fn accept_loop(listener: TcpListener, state: Arc<State>) {
    let mut conns = JoinSet::new();
    loop {
        tokio::select! {
            accepted = listener.accept() => {
                let Ok((stream, _)) = accepted else { continue };
                // As real servers do: no Nagle delay between a response's head and body.
                let _ = stream.set_nodelay(true);
                let state = Arc::clone(&state);
                conns.spawn(async move {
                    // An `Err` makes hyper drop the connection without an answer.
                    let service = service_fn(move |req| {
                        let state = Arc::clone(&state);
                        async move { handle(&state, req).await }
                    });
                    let _ = http1::Builder::new()
                        .serve_connection(TokioIo::new(stream), service)
                        .await;
                });
            }
            // Reap finished connections so the set does not grow forever.
            Some(_) = conns.join_next(), if !conns.is_empty() => {}
        }
    }
}

/// An answer of any of our handlers.
type Resp = Response<UnsyncBoxBody<Bytes, std::io::Error>>;

/// A request answered by dropping its connection (a fault, or a broken request body).
#[derive(Debug)]
struct Dropped(String);

impl std::fmt::Display for Dropped {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "connection dropped: {}", self.0)
    }
}

impl std::error::Error for Dropped {}

impl From<std::io::Error> for Dropped {
    fn from(e: std::io::Error) -> Self {
        Self(e.to_string())
    }
}

fn empty() -> Resp {
    Response::new(
        Full::new(Bytes::new())
            .map_err(|e| match e {})
            .boxed_unsync(),
    )
}

/// Changes one byte in the middle of a stored file, in place (its fileid stays).
fn flip_byte(path: &Path) -> std::io::Result<()> {
    use std::io::{Read, Seek, SeekFrom, Write};
    let mut f = std::fs::OpenOptions::new()
        .read(true)
        .write(true)
        .open(path)?;
    let at = f.metadata()?.len() / 2;
    let mut b = [0u8; 1];
    f.seek(SeekFrom::Start(at))?;
    if f.read(&mut b)? == 1 {
        f.seek(SeekFrom::Start(at))?;
        f.write_all(&[b[0] ^ 0x01])?;
    }
    Ok(())
}

impl State {
    /// The local path of a URL (or URL path) under one of the files roots.
    fn local_target(&self, url: &str) -> Option<PathBuf> {
        let path = match url.split_once("://") {
            Some((_, rest)) => &rest[rest.find('/')?..],
            None => url,
        };
        let path = path.split(['?', '#']).next()?;
        let mut dav = DavPath::new(path).ok()?;
        let under = |prefix: &str| path == prefix || path.starts_with(&format!("{prefix}/"));
        if under(OWNCLOUD_ROOT) {
            dav.set_prefix(OWNCLOUD_ROOT).ok()?;
        } else if under(&self.nextcloud_prefix) {
            dav.set_prefix(&self.nextcloud_prefix).ok()?;
        } else {
            return None;
        }
        Some(self.root.join(dav.as_rel_ospath()))
    }
}

async fn handle(state: &State, req: Request<hyper::body::Incoming>) -> Result<Resp, Dropped> {
    let method = req.method().as_str().to_owned();
    state.stats.total.fetch_add(1, Ordering::Relaxed);
    if let Ok(mut m) = state.stats.by_method.lock() {
        *m.entry(method.clone()).or_insert(0) += 1;
    }

    if !authorized(state, &req) {
        state.stats.unauthorized.fetch_add(1, Ordering::Relaxed);
        let challenge = match state.auth {
            ServerAuth::Basic => "Basic realm=\"ownCloud\"",
            _ => "Bearer realm=\"ownCloud\"",
        };
        let mut resp = sabre_error(
            401,
            "Sabre\\DAV\\Exception\\NotAuthenticated",
            "No public access to this resource.",
        );
        if let Ok(v) = challenge.parse() {
            resp.headers_mut().insert("WWW-Authenticate", v);
        }
        return Ok(resp);
    }

    let _in_flight = InFlight::enter(&state.stats);
    let delay = state.delay.lock().ok().and_then(|d| *d);
    if let Some(delay) = delay {
        tokio::time::sleep(delay).await;
    }
    let path = req.uri().path().to_owned();
    let (fault, message) = take_fault(state, &method, &path).unzip();
    let resp = serve(state, req, &method, &path, fault, message.flatten()).await?;
    if fault == Some(FaultKind::ResetAfter) {
        return Err(Dropped("injected reset after the work".into()));
    }
    Ok(resp)
}

/// Answers an authenticated request, with its fault.
async fn serve(
    state: &State,
    req: Request<hyper::body::Incoming>,
    method: &str,
    path: &str,
    fault: Option<FaultKind>,
    message: Option<String>,
) -> Result<Resp, Dropped> {
    match fault {
        Some(FaultKind::Status(status)) => {
            let message = message.as_deref().unwrap_or("injected fault");
            return Ok(sabre_error(status, "Sabre\\DAV\\Exception", message));
        }
        Some(FaultKind::Reset) => {
            // Take in the first piece of the body (the upload has begun), then drop it all.
            let _ = req.into_body().frame().await;
            return Err(Dropped("injected reset".into()));
        }
        _ => {}
    }

    let under = |prefix: &str| path == prefix || path.starts_with(&format!("{prefix}/"));
    if let Some(rest) = path.strip_prefix(UPLOADS_ROOT) {
        if rest.is_empty() || rest.starts_with('/') {
            return chunking::handle(state, req, rest, fault).await;
        }
    }
    let handler = if under(OWNCLOUD_ROOT) {
        state.stats.owncloud_root.fetch_add(1, Ordering::Relaxed);
        &state.owncloud
    } else if under(&state.nextcloud_prefix) {
        state.stats.nextcloud_root.fetch_add(1, Ordering::Relaxed);
        &state.nextcloud
    } else {
        return Ok(sabre_error(
            404,
            "Sabre\\DAV\\Exception\\NotFound",
            "File not found",
        ));
    };
    let local = state.local_target(path);
    let client_checksum = chunking::header(&req, "OC-Checksum").map(str::to_owned);
    let mut resp = if method == "PUT" {
        put(state, handler, req).await?
    } else {
        handler.handle(req).await.map(|b| b.boxed_unsync())
    };
    let ok = resp.status().is_success();
    match method {
        // ownCloud FilesPlugin::httpGet: `OC-Checksum` carries the file's SHA1 checksum.
        "GET" | "HEAD" if ok => {
            let sha1 = match local {
                Some(l) => state.checksums.sha1_header(l).await,
                None => None,
            };
            if let Some(v) = sha1.and_then(|v| v.parse().ok()) {
                resp.headers_mut().insert("OC-Checksum", v);
            }
            if fault == Some(FaultKind::FlipBody) {
                resp = resp.map(flip_first_byte);
            }
        }
        "PUT" if ok => {
            if let Some(l) = local {
                state
                    .checksums
                    .uploaded(&l, client_checksum.as_deref())
                    .await;
                if fault == Some(FaultKind::FlipStored) {
                    flip_byte(&l)?;
                }
            }
        }
        _ => {}
    }
    Ok(resp)
}

/// A PUT as ownCloud and Nextcloud do it: the body goes to a part file first and
/// replaces the target only once complete (owncloud/core and nextcloud/server
/// `apps/dav/lib/Connector/Sabre/File.php::put`, `.ocTransferId….part`), so a broken-off
/// upload leaves the old content. The content is then written into the target in place
/// (by dav-server's PUT), which keeps its fileid as ownCloud's file cache does. Our part
/// files live outside the served folder, so listings never show them.
async fn put(
    state: &State,
    handler: &DavHandler,
    req: Request<hyper::body::Incoming>,
) -> Result<Resp, Dropped> {
    let n = state.next_part.fetch_add(1, Ordering::Relaxed);
    let part = state.parts.path().join(format!("{n}.part"));
    let (head, body) = req.into_parts();
    if let Err(e) = receive_into(body, &part).await {
        let _ = tokio::fs::remove_file(&part).await;
        return Err(e);
    }
    let file = tokio::fs::File::open(&part).await?;
    let chunks = futures_util::stream::try_unfold(file, |mut file| async move {
        use tokio::io::AsyncReadExt;
        let mut buf = vec![0u8; 256 * 1024];
        let n = file.read(&mut buf).await?;
        buf.truncate(n);
        Ok::<_, std::io::Error>((n > 0).then(|| (http_body::Frame::data(Bytes::from(buf)), file)))
    });
    let resp = handler
        .handle(Request::from_parts(head, StreamBody::new(chunks)))
        .await;
    let _ = tokio::fs::remove_file(&part).await;
    Ok(resp.map(|b| b.boxed_unsync()))
}

/// Writes a request body into `path`; an error when the body breaks off.
async fn receive_into(mut body: hyper::body::Incoming, path: &Path) -> Result<(), Dropped> {
    use tokio::io::AsyncWriteExt;
    let mut file = tokio::fs::File::create(path).await?;
    while let Some(frame) = body.frame().await {
        let frame = frame.map_err(|e| Dropped(format!("request body: {e}")))?;
        if let Ok(data) = frame.into_data() {
            file.write_all(&data).await?;
        }
    }
    file.flush().await?;
    Ok(())
}

/// The body with the first byte of its first non-empty piece changed.
fn flip_first_byte(
    body: UnsyncBoxBody<Bytes, std::io::Error>,
) -> UnsyncBoxBody<Bytes, std::io::Error> {
    let mut done = false;
    let frames = body.into_data_stream().map_ok(move |data| {
        if done || data.is_empty() {
            return http_body::Frame::data(data);
        }
        done = true;
        let mut v = data.to_vec();
        v[0] ^= 0x01;
        http_body::Frame::data(Bytes::from(v))
    });
    StreamBody::new(frames).boxed_unsync()
}

fn authorized(state: &State, req: &Request<hyper::body::Incoming>) -> bool {
    let Some(given) = req
        .headers()
        .get("authorization")
        .and_then(|v| v.to_str().ok())
    else {
        return false;
    };
    let bearer_ok = given == state.expected_bearer;
    let basic_ok = given == state.expected_basic;
    match state.auth {
        ServerAuth::Bearer => bearer_ok,
        ServerAuth::Basic => basic_ok,
        ServerAuth::Both => bearer_ok || basic_ok,
    }
}

fn take_fault(state: &State, method: &str, path: &str) -> Option<(FaultKind, Option<String>)> {
    let mut faults = state.faults.lock().ok()?;
    let idx = faults.iter().position(|f| {
        f.method == method && f.path_contains.as_deref().is_none_or(|p| path.contains(p))
    })?;
    let fault = (faults[idx].kind, faults[idx].message.clone());
    faults[idx].times = faults[idx].times.saturating_sub(1);
    if faults[idx].times == 0 {
        faults.remove(idx);
    }
    Some(fault)
}

/// An error answer in SabreDAV's format, as ownCloud and Nextcloud send them.
fn sabre_error(status: u16, exception: &str, message: &str) -> Resp {
    let body = format!(
        "<?xml version=\"1.0\" encoding=\"utf-8\"?>\n\
         <d:error xmlns:d=\"DAV:\" xmlns:s=\"http://sabredav.org/ns\">\n  \
         <s:exception>{exception}</s:exception>\n  <s:message>{message}</s:message>\n</d:error>\n"
    );
    let mut resp = Response::new(
        Full::new(Bytes::from(body))
            .map_err(|e| match e {})
            .boxed_unsync(),
    );
    *resp.status_mut() = StatusCode::from_u16(status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
    if let Ok(v) = "application/xml; charset=utf-8".parse() {
        resp.headers_mut().insert("Content-Type", v);
    }
    resp
}

/// Percent-encodes one path segment (RFC 3986 unreserved characters kept).
fn encode_segment(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for b in s.bytes() {
        if b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.' | b'~') {
            out.push(b as char);
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

#[cfg(test)]
mod tests;

#[cfg(test)]
mod basic_tests {
    #![allow(clippy::unwrap_used, clippy::expect_used)]
    use super::*;

    #[tokio::test]
    async fn serves_both_layouts_behind_auth() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("hello.txt"), b"hi").unwrap();
        let dav = WebDavServer::start(dir.path(), "alice", "tok")
            .await
            .unwrap();
        let client = reqwest::Client::new();
        for root in [dav.owncloud_url(), dav.nextcloud_url()] {
            let resp = client
                .get(format!("{root}/hello.txt"))
                .bearer_auth("tok")
                .send()
                .await
                .unwrap();
            assert_eq!(resp.status(), 200);
            assert_eq!(resp.bytes().await.unwrap().as_ref(), b"hi");
            let resp = client
                .get(format!("{root}/hello.txt"))
                .bearer_auth("bad")
                .send()
                .await
                .unwrap();
            assert_eq!(resp.status(), 401);
        }
        assert_eq!(dav.requests("GET"), 4);
        assert_eq!(dav.unauthorized_requests(), 2);
        dav.inject(Fault::new("GET", 507));
        let resp = client
            .get(format!("{}/hello.txt", dav.owncloud_url()))
            .bearer_auth("tok")
            .send()
            .await
            .unwrap();
        assert_eq!(resp.status(), 507);
        let url = dav.owncloud_url();
        dav.stop().await;
        assert!(client.get(url).bearer_auth("tok").send().await.is_err());
    }
}
