//! An emulator of RDS's Token Storage (layer 3) and of the port service's token lookup
//! (layer 2), in one server.
//!
//! Follows `RDS/layer3_central_services/token_storage/src/api/Service/Service.py` and the
//! RDS common library's `OAuth2Service`/`LoginService` validation:
//! - `POST /service`: 200 `{"success": true}`; a second registration of the same
//!   (lower-cased) servicename: 200 `{"success": false, "message":
//!   "ServiceExistsAlreadyError"}`; a payload the library would not parse: 400
//!   `{"success": false, "message": "BadRequest"}`.
//! - `GET /service`: `{"length": n, "list": [...]}`.
//! - `GET /service/{servicename}`: the stored service, secrets included; an unknown one
//!   is a 500 (see [`service`]).
//! - `GET /user/{user}/service/{servicename}` (the port service,
//!   `USE_CASE_SERVICE_PORT_SERVICE`): `{"type": "OAuth2Token", "data": {...}}`; a user
//!   without a token for the service gets the real pair's 500, whose body dumps every
//!   stored token and client secret (see [`token`]).
//! - [`TokenStorage::restart`]: forgets every service, as the in-memory storage does on a
//!   restart (and Redis when flushed).
//!
//! Fault modes for tests: answer the next N calls with a status, reject every
//! registration, or delay answers.

use std::collections::HashMap;
use std::net::{SocketAddr, TcpListener};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Duration;

use actix_web::{web, App, HttpResponse, HttpServer};
use serde_json::{json, Value};

use crate::server_thread::ServerThread;

#[derive(Default)]
struct State {
    services: Vec<Value>,
    tokens: HashMap<(String, String), String>,
    registration_attempts: usize,
    lookups: usize,
    service_reads: usize,
    /// Answer this many of the next calls (any route) with the status.
    fail_next: Option<(usize, u16)>,
    reject_registrations: bool,
    delay: Option<Duration>,
}

#[derive(Clone, Default)]
struct Shared(Arc<Mutex<State>>);

impl Shared {
    fn lock(&self) -> MutexGuard<'_, State> {
        // A test that panicked while holding the lock must not hide later assertions.
        self.0.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// The injected fault for this call, if any.
    fn fault(&self) -> Option<u16> {
        let mut s = self.lock();
        match s.fail_next.as_mut() {
            Some((n, status)) if *n > 0 => {
                *n -= 1;
                Some(*status)
            }
            _ => None,
        }
    }
}

/// A running emulator. Dropping it stops the server.
pub struct TokenStorage {
    addr: SocketAddr,
    shared: Shared,
    server: ServerThread,
}

impl TokenStorage {
    /// Starts on a free loopback port.
    pub async fn start() -> Self {
        Self::start_on(SocketAddr::from(([127, 0, 0, 1], 0)))
    }

    /// Starts on `addr` (for "the Token Storage comes up later" tests: reserve a port,
    /// point the connector at it, start the emulator there afterwards).
    pub fn start_on(addr: SocketAddr) -> Self {
        let shared = Shared::default();
        let listener = bind_with_retry(addr);
        let addr = listener.local_addr().unwrap_or(addr);
        let state = shared.clone();
        let server = ServerThread::spawn(move || {
            Ok(HttpServer::new(move || {
                App::new()
                    .app_data(web::Data::new(state.clone()))
                    .app_data(web::JsonConfig::default().limit(8 * 1024 * 1024))
                    .route("/service", web::post().to(register))
                    .route("/service", web::get().to(list_services))
                    .route("/service/{servicename}", web::get().to(service))
                    .route("/user/{user}/service/{servicename}", web::get().to(token))
            })
            .workers(1)
            .disable_signals()
            .shutdown_timeout(1)
            .listen(listener)?
            .run())
        })
        .unwrap_or_else(|e| panic!("the Token Storage emulator could not listen on {addr}: {e}"));
        Self {
            addr,
            shared,
            server,
        }
    }

    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    pub fn url(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// The registration payloads accepted so far.
    pub fn services(&self) -> Vec<Value> {
        self.shared.lock().services.clone()
    }

    pub fn registration_attempts(&self) -> usize {
        self.shared.lock().registration_attempts
    }

    /// `GET /service/{servicename}` calls served (a connector checking its registration).
    pub fn service_reads(&self) -> usize {
        self.shared.lock().service_reads
    }

    /// Token lookups served (any answer).
    pub fn lookups(&self) -> usize {
        self.shared.lock().lookups
    }

    /// Stores an access token of `user` for `servicename`, as after an OAuth2 grant.
    pub fn add_token(&self, user: &str, servicename: &str, access_token: &str) {
        self.shared.lock().tokens.insert(
            (user.to_owned(), servicename.to_lowercase()),
            access_token.to_owned(),
        );
    }

    /// Registers a service directly (for "already registered" tests).
    pub fn add_service(&self, payload: Value) {
        self.shared.lock().services.push(payload);
    }

    /// Answers the next `n` calls with `status` (e.g. 503).
    pub fn fail_next(&self, n: usize, status: u16) {
        self.shared.lock().fail_next = Some((n, status));
    }

    /// Rejects every registration with 400, as for an invalid payload.
    pub fn reject_registrations(&self, reject: bool) {
        self.shared.lock().reject_registrations = reject;
    }

    /// Forgets every registered service (users' tokens stay), as a Token Storage with
    /// in-memory storage does when it restarts.
    pub fn restart(&self) {
        self.shared.lock().services.clear();
    }

    /// Delays every answer (a slow Token Storage).
    pub fn set_delay(&self, delay: Option<Duration>) {
        self.shared.lock().delay = delay;
    }

    pub async fn stop(self) {
        self.server.stop().await;
    }
}

/// Binding a port just released by a test may briefly fail; retry a little.
fn bind_with_retry(addr: SocketAddr) -> TcpListener {
    let mut last = None;
    for _ in 0..50 {
        match TcpListener::bind(addr) {
            Ok(l) => return l,
            Err(e) => {
                last = Some(e);
                std::thread::sleep(Duration::from_millis(100));
            }
        }
    }
    panic!("cannot bind {addr}: {last:?}");
}

async fn pre(shared: &Shared) -> Option<HttpResponse> {
    let delay = shared.lock().delay;
    if let Some(d) = delay {
        tokio::time::sleep(d).await;
    }
    shared.fault().map(|status| {
        HttpResponse::build(
            actix_web::http::StatusCode::from_u16(status)
                .unwrap_or(actix_web::http::StatusCode::INTERNAL_SERVER_ERROR),
        )
        .json(json!({"error": "injected fault", "http_code": status.to_string()}))
    })
}

async fn register(shared: web::Data<Shared>, body: web::Bytes) -> HttpResponse {
    shared.lock().registration_attempts += 1;
    if let Some(resp) = pre(&shared).await {
        return resp;
    }
    let bad = || {
        flask_json(
            400,
            json!({"success": false, "message": "BadRequest"}).to_string(),
        )
    };
    let Ok(payload) = serde_json::from_slice::<Value>(&body) else {
        return bad();
    };
    if shared.lock().reject_registrations || validate_service(&payload).is_err() {
        return bad();
    }
    let name = payload["servicename"]
        .as_str()
        .unwrap_or_default()
        .to_lowercase();
    let mut s = shared.lock();
    if s.services.iter().any(|svc| {
        svc["servicename"]
            .as_str()
            .map(str::to_lowercase)
            .as_deref()
            == Some(&name)
    }) {
        return flask_json(
            200,
            json!({"success": false, "message": "ServiceExistsAlreadyError"}).to_string(),
        );
    }
    s.services.push(payload);
    flask_json(200, json!({"success": true}).to_string())
}

/// The checks `OAuth2Service.from_dict` / `LoginService.from_dict` make.
pub fn validate_service(p: &Value) -> Result<(), String> {
    let name = p["servicename"]
        .as_str()
        .ok_or("servicename must be a string")?;
    if name.is_empty() {
        return Err("servicename is empty".into());
    }
    let implements = p["implements"]
        .as_array()
        .ok_or("implements must be a list")?;
    if implements.is_empty() || implements.len() > 2 {
        return Err("implements must hold one or two interfaces".into());
    }
    if implements
        .iter()
        .any(|i| !matches!(i.as_str(), Some("fileStorage" | "metadata")))
    {
        return Err("implements holds an invalid value".into());
    }
    for key in ["fileTransferMode", "fileTransferArchive"] {
        match &p[key] {
            Value::Null => {}
            v => match v.as_u64() {
                Some(0..=2) if key == "fileTransferMode" => {}
                Some(0..=1) if key == "fileTransferArchive" => {}
                _ => return Err(format!("{key} is not a valid enum value")),
            },
        }
    }
    if let Some(icon) = p["icon"].as_str() {
        if !icon.is_empty() && !icon.starts_with("data:") {
            return Err("icon must be a data: URL".into());
        }
    }
    if p.get("authorize_url").is_some() {
        for key in ["authorize_url", "refresh_url", "client_id"] {
            p[key].as_str().ok_or(format!("{key} must be a string"))?;
        }
        for key in ["authorize_url", "refresh_url"] {
            let url = p[key].as_str().unwrap_or_default();
            let has_netloc = url
                .split_once("://")
                .is_some_and(|(_, rest)| !rest.is_empty() && !rest.starts_with('/'));
            if !has_netloc {
                return Err(format!("{key} needs a scheme and host"));
            }
        }
    }
    Ok(())
}

async fn list_services(shared: web::Data<Shared>) -> HttpResponse {
    if let Some(resp) = pre(&shared).await {
        return resp;
    }
    let services = shared.lock().services.clone();
    flask_json(
        200,
        json!({"length": services.len(), "list": services}).to_string(),
    )
}

/// `GET /service/{servicename}` as `token_storage/src/api/Service/Service.py` `get`
/// (lines 28-34) answers: the name lower-cased, the stored service as
/// `{"data": {...}, "type": "OAuth2Service"}` (client secret included; the RDS library
/// stores our payload's fields unchanged). For an unknown name it means to raise
/// `ServiceNotExistsError(BaseService(servicename=...))`, but `BaseService` without
/// `implements` raises first (research-data-services-common 0.54 `RDS/Service.py` line
/// 155), and connexion-plus' default handler renders that as 500 (checked against the
/// real service at c4887367).
async fn service(shared: web::Data<Shared>, path: web::Path<String>) -> HttpResponse {
    if let Some(resp) = pre(&shared).await {
        return resp;
    }
    shared.lock().service_reads += 1;
    let name = path.into_inner().to_lowercase();
    let found = shared
        .lock()
        .services
        .iter()
        .find(|svc| {
            svc["servicename"]
                .as_str()
                .map(str::to_lowercase)
                .as_deref()
                == Some(&name)
        })
        .cloned();
    match found {
        Some(svc) => {
            let kind = if svc.get("authorize_url").is_some() {
                "OAuth2Service"
            } else {
                "LoginService"
            };
            flask_json(200, json!({"data": svc, "type": kind}).to_string())
        }
        None => flask_json(
            500,
            r#"{"description":"implements is empty or over 2 elements. Value: 0, Only valid: ['fileStorage', 'metadata']","error":"ValueError","http_code":500}"#.to_owned(),
        ),
    }
}

/// A JSON answer written byte for byte as Flask's `jsonify` writes it (sorted keys, as
/// `serde_json` writes them too; compact; a trailing newline).
fn flask_json(status: u16, body: String) -> HttpResponse {
    HttpResponse::build(
        actix_web::http::StatusCode::from_u16(status)
            .unwrap_or(actix_web::http::StatusCode::INTERNAL_SERVER_ERROR),
    )
    .content_type("application/json")
    .body(body + "\n")
}

/// The port service's token lookup, `use-case_port/src/api/User/Service/Service.py` `get`:
/// the servicename lower-cased and prefixed `port-` (lines 14-16).
///
/// A user without a token for the service, known or not, gets what the real pair answers
/// (checked against both services at c4887367):
/// 1. the Token Storage's `Storage.getToken` raises `UserNotExistsError(self, user)`
///    (`token_storage/src/lib/Storage.py` lines 210 and 284), whose message is
///    `f"{user} not exist in {storage}"` (`lib/Exceptions/StorageException.py` line 18),
///    and `str(storage)` is `json.dumps` of the whole store, every user's tokens and their
///    services' client secrets included (`Storage.py` line 696);
/// 2. `api/User/Token.py` `get` (line 77) answers `abort(404, description=str(e))`, which
///    connexion-plus 0.48's default handler renders as `{"description": "404 Not Found:
///    ...", "error": "NotFound", "http_code": 404}`;
/// 3. the port service's `TokenService.getTokenForServiceFromUser` (`src/lib/TokenService.py`
///    lines 452-460) knows no error named `NotFound` and raises `Exception(data)`, rendered
///    by the same handler as 500 `{"description": str(data), "error": "Exception",
///    "http_code": 500}`, `str(data)` being Python's repr of the dict.
async fn token(shared: web::Data<Shared>, path: web::Path<(String, String)>) -> HttpResponse {
    shared.lock().lookups += 1;
    if let Some(resp) = pre(&shared).await {
        return resp;
    }
    let (user, servicename) = path.into_inner();
    let mut servicename = servicename.to_lowercase();
    if !servicename.starts_with("port-") {
        servicename = format!("port-{servicename}");
    }
    let access_token = shared
        .lock()
        .tokens
        .get(&(user.clone(), servicename.clone()))
        .cloned();
    match access_token {
        None => {
            let s = shared.lock();
            let message = format!(
                "404 Not Found: {} not exist in {}",
                py_json(&py_user(&user)),
                py_json(&store_dump(&s))
            );
            let data = format!(
                "{{'description': {}, 'error': 'NotFound', 'http_code': 404}}",
                py_repr(&message)
            );
            flask_json(
                500,
                format!(
                    r#"{{"description":{},"error":"Exception","http_code":500}}"#,
                    ascii_json_string(&data)
                ),
            )
        }
        Some(access_token) => HttpResponse::Ok().json(token_json(
            &user,
            &json!({"type": "OAuth2Service", "data": {"servicename": servicename}}),
            &access_token,
        )),
    }
}

fn user_json(user: &str) -> Value {
    json!({"type": "User", "data": {"username": user}})
}

fn token_json(user: &str, service: &Value, access_token: &str) -> Value {
    json!({
        "type": "OAuth2Token",
        "data": {
            "service": service,
            "access_token": access_token,
            "refresh_token": "",
            "expiration_date": 0,
            "user": user_json(user),
        }
    })
}

/// A JSON value in Python's dict order (insertion order), for `json.dumps` output.
enum Py {
    Obj(Vec<(&'static str, Py)>),
    /// An object with keys from the data (user names).
    Dict(Vec<(String, Py)>),
    Arr(Vec<Py>),
    Val(Value),
}

/// `User.to_json()` (research-data-services-common `RDS/User.py`).
fn py_user(user: &str) -> Py {
    Py::Obj(vec![
        ("type", Py::Val(json!("User"))),
        ("data", Py::Obj(vec![("username", Py::Val(json!(user)))])),
    ])
}

/// The order of `OAuth2Service.to_dict()` (`RDS/Service.py`), as the real dump shows it.
const SERVICE_FIELDS: [&str; 15] = [
    "servicename",
    "implements",
    "fileTransferMode",
    "fileTransferArchive",
    "description",
    "icon",
    "infoUrl",
    "helpUrl",
    "displayName",
    "metadataProfile",
    "projectLinkTemplate",
    "authorize_url",
    "refresh_url",
    "client_id",
    "client_secret",
];

/// The Token Storage's store as `json.dumps(self.storage)` shows it (`Storage.py` line
/// 696): per user its `User` and its tokens, each with its whole service, client secret
/// included.
fn store_dump(s: &State) -> Py {
    let mut users: Vec<&String> = s.tokens.keys().map(|(u, _)| u).collect();
    users.sort();
    users.dedup();
    let mut dump = Vec::new();
    for user in users {
        let mut tokens: Vec<(&String, &String)> = s
            .tokens
            .iter()
            .filter(|((u, _), _)| u == user)
            .map(|((_, svc), tok)| (svc, tok))
            .collect();
        tokens.sort();
        let tokens: Vec<Py> = tokens
            .into_iter()
            .map(|(svc, tok)| {
                let stored = s.services.iter().find(|p| {
                    p["servicename"].as_str().map(str::to_lowercase).as_deref() == Some(svc)
                });
                let service: Vec<(&'static str, Py)> = SERVICE_FIELDS
                    .iter()
                    .filter_map(|&k| match stored {
                        Some(p) => p.get(k).map(|v| (k, Py::Val(v.clone()))),
                        None => (k == "servicename").then(|| (k, Py::Val(json!(svc)))),
                    })
                    .collect();
                Py::Obj(vec![
                    ("type", Py::Val(json!("Token"))),
                    (
                        "data",
                        Py::Obj(vec![
                            (
                                "service",
                                Py::Obj(vec![
                                    ("type", Py::Val(json!("OAuth2Service"))),
                                    ("data", Py::Obj(service)),
                                ]),
                            ),
                            ("access_token", Py::Val(json!(tok))),
                            ("user", py_user(user)),
                        ]),
                    ),
                ])
            })
            .collect();
        dump.push((
            user.clone(),
            Py::Obj(vec![("data", py_user(user)), ("tokens", Py::Arr(tokens))]),
        ));
    }
    Py::Dict(dump)
}

/// Python's `json.dumps` with its defaults: `", "` and `": "` separators, ASCII only.
fn py_json(v: &Py) -> String {
    match v {
        Py::Obj(m) => py_object(m.iter().map(|(k, v)| (*k, py_json(v)))),
        Py::Dict(m) => py_object(m.iter().map(|(k, v)| (k.as_str(), py_json(v)))),
        Py::Arr(a) => format!("[{}]", a.iter().map(py_json).collect::<Vec<_>>().join(", ")),
        Py::Val(v) => py_value(v),
    }
}

fn py_object<'a>(items: impl Iterator<Item = (&'a str, String)>) -> String {
    let items: Vec<String> = items
        .map(|(k, v)| format!("{}: {v}", ascii_json_string(k)))
        .collect();
    format!("{{{}}}", items.join(", "))
}

fn py_value(v: &Value) -> String {
    match v {
        Value::Object(m) => py_object(m.iter().map(|(k, v)| (k.as_str(), py_value(v)))),
        Value::Array(a) => format!(
            "[{}]",
            a.iter().map(py_value).collect::<Vec<_>>().join(", ")
        ),
        Value::String(s) => ascii_json_string(s),
        other => other.to_string(),
    }
}

/// A JSON string literal with every non-ASCII character escaped (`ensure_ascii`, also
/// Flask 2's `JSON_AS_ASCII` default).
fn ascii_json_string(s: &str) -> String {
    let mut out = String::with_capacity(s.len() + 2);
    out.push('"');
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            '\u{8}' => out.push_str("\\b"),
            '\u{c}' => out.push_str("\\f"),
            c if c.is_ascii() && !c.is_ascii_control() => out.push(c),
            c => {
                let mut units = [0u16; 2];
                for u in c.encode_utf16(&mut units) {
                    out.push_str(&format!("\\u{u:04x}"));
                }
            }
        }
    }
    out.push('"');
    out
}

/// Python's `repr` of a str: single quotes unless the text holds `'` and no `"`.
fn py_repr(s: &str) -> String {
    let quote = if s.contains('\'') && !s.contains('"') {
        '"'
    } else {
        '\''
    };
    let mut out = String::with_capacity(s.len() + 2);
    out.push(quote);
    for c in s.chars() {
        match c {
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            c if c == quote => {
                out.push('\\');
                out.push(c);
            }
            c if (c as u32) < 0x20 || c as u32 == 0x7f => {
                out.push_str(&format!("\\x{:02x}", c as u32))
            }
            c => out.push(c),
        }
    }
    out.push(quote);
    out
}
