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
//! - `GET /user/{user}/service/{servicename}` (the port service,
//!   `USE_CASE_SERVICE_PORT_SERVICE`): `{"type": "OAuth2Token", "data": {...}}`, 404 when
//!   the user has no token for the service.
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
    let bad =
        || HttpResponse::BadRequest().json(json!({"success": false, "message": "BadRequest"}));
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
        return HttpResponse::Ok()
            .json(json!({"success": false, "message": "ServiceExistsAlreadyError"}));
    }
    s.services.push(payload);
    HttpResponse::Ok().json(json!({"success": true}))
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
    HttpResponse::Ok().json(json!({"length": services.len(), "list": services}))
}

async fn token(shared: web::Data<Shared>, path: web::Path<(String, String)>) -> HttpResponse {
    shared.lock().lookups += 1;
    if let Some(resp) = pre(&shared).await {
        return resp;
    }
    let (user, servicename) = path.into_inner();
    let servicename = servicename.to_lowercase();
    let access_token = shared
        .lock()
        .tokens
        .get(&(user.clone(), servicename.clone()))
        .cloned();
    match access_token {
        None => HttpResponse::NotFound().json(json!({
            "error": "TokenNotExistsError",
            "http_code": "404",
            "description": format!("no token for user {user} and service {servicename}"),
        })),
        Some(access_token) => HttpResponse::Ok().json(json!({
            "type": "OAuth2Token",
            "data": {
                "service": {"type": "OAuth2Service", "data": {"servicename": servicename}},
                "access_token": access_token,
                "refresh_token": "",
                "expiration_date": 0,
                "user": {"type": "User", "data": {"username": user}},
            }
        })),
    }
}
