//! The `userId` field and the credentials it leads to.
//!
//! Two formats reach a connector (see the contract):
//! - session `<port-name>://<username>:<password>`: RDS's `Util.parseToken` puts the
//!   access token in the password slot; `""` or `"None"` mean "no token";
//! - normal `<username>`: the token is looked up at the port service,
//!   `GET {USE_CASE_SERVICE_PORT_SERVICE}/user/{username}/service/{servicename}`.
//!
//! Unlike RDS's own parser (which splits on every `:`), only the first `:` after the user
//! name separates it from the token, so tokens containing `:` survive.

use std::fmt;
use std::time::Duration;

use moka::sync::Cache;
use percent_encoding::{utf8_percent_encode, NON_ALPHANUMERIC};
use secrecy::{ExposeSecret, SecretString};
use serde::Deserialize;

use crate::error::ConnectorError;
use crate::http::{Upstream, UpstreamError};

/// A parsed `userId`.
#[derive(Clone)]
pub enum UserId {
    Session {
        port: String,
        username: Option<String>,
        token: Option<SecretString>,
    },
    Normal {
        username: String,
    },
}

impl fmt::Debug for UserId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            UserId::Session {
                port,
                username,
                token,
            } => f
                .debug_struct("Session")
                .field("port", port)
                .field("username", username)
                .field("token", &token.as_ref().map(|_| "[REDACTED]"))
                .finish(),
            UserId::Normal { username } => f
                .debug_struct("Normal")
                .field("username", username)
                .finish(),
        }
    }
}

impl UserId {
    pub fn parse(raw: &str) -> Result<Self, ConnectorError> {
        let raw = raw.trim();
        if raw.is_empty() {
            return Err(ConnectorError::BadRequest(
                "userId is missing or empty; send `<username>` or `<port>://<username>:<token>`"
                    .into(),
            ));
        }
        let Some((port, rest)) = raw.split_once("://") else {
            check_username(raw)?;
            return Ok(UserId::Normal {
                username: raw.to_owned(),
            });
        };
        let port = if port.starts_with("port-") {
            port.to_owned()
        } else {
            format!("port-{port}")
        };
        let (user, token) = match rest.split_once(':') {
            Some((user, token)) => (user, token),
            None => (rest, ""),
        };
        if !user.is_empty() {
            check_username(user)?;
        }
        let username = (!user.is_empty()).then(|| user.to_owned());
        let token =
            (!token.is_empty() && token != "None").then(|| SecretString::from(token.to_owned()));
        if username.is_none() && token.is_none() {
            return Err(ConnectorError::BadRequest(
                "userId in session format names neither a user nor a token".into(),
            ));
        }
        Ok(UserId::Session {
            port,
            username,
            token,
        })
    }

    pub fn username(&self) -> Option<&str> {
        match self {
            UserId::Session { username, .. } => username.as_deref(),
            UserId::Normal { username } => Some(username),
        }
    }
}

/// Refuses user names that would change the meaning of a URL they are put into: the
/// port service's `/user/{name}/service/...` and WebDAV's `/remote.php/dav/files/{name}`
/// (URL parsers resolve `.`/`..` segments, `%2e%2e` included). Checked are the name and,
/// as providers strip RDS's `@institution` suffix, the part before its last `@`; each as
/// sent and percent-decoded (repeatedly: a `%252e` decodes to `%2e` at the next hop).
fn check_username(name: &str) -> Result<(), ConnectorError> {
    let refuse = |why: &str| {
        Err(ConnectorError::BadRequest(format!(
            "the user name in userId {why}; send `<username>` or `<port>://<username>:<token>`"
        )))
    };
    if name.trim().is_empty() {
        return refuse("is blank");
    }
    let mut form = std::borrow::Cow::Borrowed(name);
    loop {
        if form.contains(['/', '\\']) {
            return refuse("holds a slash or backslash");
        }
        if form.chars().any(char::is_control) {
            return refuse("holds a control character");
        }
        let local = form.rsplit_once('@').map_or(&*form, |(local, _)| local);
        if [&*form, local].iter().any(|n| matches!(*n, "." | "..")) {
            return refuse("is `.` or `..`");
        }
        let decoded = percent_encoding::percent_decode_str(&form).decode_utf8_lossy();
        if decoded == form {
            return Ok(());
        }
        form = std::borrow::Cow::Owned(decoded.into_owned());
    }
}

/// The shortest run of a credential that counts as echoed by a provider
/// ([`Credentials::appear_in`]).
pub const ECHO_MIN_CHARS: usize = 4;

/// What a provider gets to authenticate upstream: the user name (when known) and a token
/// (an OAuth2 access token, or an app password for Basic auth). Debug output redacts it.
#[derive(Clone)]
pub struct Credentials {
    username: Option<String>,
    token: SecretString,
}

impl Credentials {
    pub fn new(username: Option<String>, token: SecretString) -> Self {
        Self { username, token }
    }

    /// The user name as the caller sent it (providers strip what they must, e.g. `@domain`).
    pub fn username(&self) -> Option<&str> {
        self.username.as_deref()
    }

    pub fn token(&self) -> &SecretString {
        &self.token
    }

    /// Whether `text` (an error message from a provider) holds any part of these
    /// credentials, so that it must not be passed on or logged: any run of
    /// [`ECHO_MIN_CHARS`] characters of the token, compared case-insensitively, also as
    /// percent-encoded and as base64 (of the token, and of `user:token` as Basic auth
    /// sends it, with and without the user's `@institution`). Random tokens rarely share
    /// such a run with a real message; when one does, the caller loses only the
    /// provider's wording, never the status.
    pub fn appear_in(&self, text: &str) -> bool {
        use base64::engine::general_purpose::STANDARD as B64;
        use base64::Engine as _;
        let token = self.token.expose_secret();
        if token.is_empty() {
            return false;
        }
        let mut forms = vec![
            token.to_owned(),
            utf8_percent_encode(token, NON_ALPHANUMERIC).to_string(),
            B64.encode(token),
        ];
        if let Some(user) = self.username.as_deref() {
            forms.push(B64.encode(format!("{user}:{token}")));
            if let Some((local, _)) = user.rsplit_once('@') {
                forms.push(B64.encode(format!("{local}:{token}")));
            }
        }
        let text: Vec<char> = text.to_lowercase().chars().collect();
        let mut runs = std::collections::HashSet::new();
        for form in &forms {
            let form: Vec<char> = form.to_lowercase().chars().collect();
            if form.len() < ECHO_MIN_CHARS {
                // A token this short is matched whole.
                if text.windows(form.len()).any(|w| w == form.as_slice()) {
                    return true;
                }
                continue;
            }
            runs.extend(form.windows(ECHO_MIN_CHARS).map(<[char]>::to_vec));
        }
        text.windows(ECHO_MIN_CHARS).any(|w| runs.contains(w))
    }
}

impl fmt::Debug for Credentials {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Credentials")
            .field("username", &self.username)
            .field("token", &"[REDACTED]")
            .finish()
    }
}

/// Turns a `userId` into [`Credentials`], looking tokens up at the port service when the
/// caller did not send one. Lookups are cached briefly, per user, so an export of many
/// files costs one lookup.
pub struct TokenResolver {
    servicename: String,
    port_service: Option<url::Url>,
    http: Upstream,
    cache: Cache<String, SecretString>,
}

#[derive(Deserialize)]
struct TokenEnvelope {
    data: TokenData,
}

#[derive(Deserialize)]
struct TokenData {
    access_token: String,
}

impl TokenResolver {
    pub fn new(
        servicename: String,
        port_service: Option<url::Url>,
        http: Upstream,
        ttl: Duration,
    ) -> Self {
        Self {
            servicename,
            port_service,
            http,
            cache: Cache::builder()
                .max_capacity(10_000)
                .time_to_live(ttl)
                .build(),
        }
    }

    pub async fn resolve(&self, raw_user_id: &str) -> Result<Credentials, ConnectorError> {
        match UserId::parse(raw_user_id)? {
            UserId::Session {
                username,
                token: Some(token),
                ..
            } => Ok(Credentials::new(username, token)),
            UserId::Session {
                username: Some(username),
                token: None,
                ..
            }
            | UserId::Normal { username } => {
                let token = self.lookup(&username).await?;
                Ok(Credentials::new(Some(username), token))
            }
            UserId::Session {
                username: None,
                token: None,
                ..
            } => Err(ConnectorError::BadRequest(
                "userId carries no credentials".into(),
            )),
        }
    }

    async fn lookup(&self, username: &str) -> Result<SecretString, ConnectorError> {
        if let Some(hit) = self.cache.get(username) {
            return Ok(hit);
        }
        let Some(base) = &self.port_service else {
            return Err(ConnectorError::Unauthorized(format!(
                "userId {username:?} carries no token, and no token lookup is configured \
                 (USE_CASE_SERVICE_PORT_SERVICE is unset)"
            )));
        };
        let url = format!(
            "{}/user/{}/service/{}",
            base.as_str().trim_end_matches('/'),
            utf8_percent_encode(username, NON_ALPHANUMERIC),
            utf8_percent_encode(&self.servicename, NON_ALPHANUMERIC),
        );
        let resp = match self.http.send(self.http.client().get(&url)).await {
            Ok(resp) => resp,
            Err(UpstreamError::CircuitOpen(open)) => return Err(open.into()),
            Err(_) => {
                return Err(ConnectorError::ServiceUnavailable(
                    "the token lookup service (port service) cannot be reached".into(),
                ))
            }
        };
        let no_token = || {
            ConnectorError::Unauthorized(format!(
                "user {username:?} has no token for service {:?}; connect the service in RDS first",
                self.servicename
            ))
        };
        let failed = |status| {
            ConnectorError::ServiceUnavailable(format!(
                "the token lookup service answered HTTP {status}"
            ))
        };
        match resp.status().as_u16() {
            200 => {}
            400..=499 => return Err(no_token()),
            500 => {
                return Err(if says_no_token(resp).await {
                    no_token()
                } else {
                    failed(500)
                })
            }
            status => return Err(failed(status)),
        }
        let envelope: TokenEnvelope = resp.json().await.map_err(|_| {
            ConnectorError::ServiceUnavailable(
                "the token lookup service sent an unreadable answer".into(),
            )
        })?;
        let token = SecretString::from(envelope.data.access_token);
        self.cache.insert(username.to_owned(), token.clone());
        Ok(token)
    }
}

/// How much of a failed lookup's answer is read to recognise "no token".
const NO_TOKEN_PROBE_BYTES: usize = 64 * 1024;

/// Whether the port service's HTTP 500 means "this user has no token for the service".
///
/// The real port service (`RDS/layer2_use_cases/port/src/lib/TokenService.py`,
/// `getTokenForServiceFromUser`) asks the Token Storage, whose `Storage.getToken` raises
/// `UserNotExistsError` ("{user} not exist in {storage}") for an unknown user and for a
/// user without that token alike (`token_storage/src/lib/Storage.py`), answered 404
/// (`api/User/Token.py`, `get`); the port service re-raises that body as a bare
/// `Exception`, which connexion-plus' default handler renders as 500
/// `{"error": "Exception", "description": "{'description': '404 Not Found: ... not exist
/// in ...'}", ...}`. Older pairings name `TokenNotFoundError` / `UserNotFoundError`
/// (raised there for the Token Storage's `TokenNotExistsError` / `UserNotExistsError`).
///
/// The body also holds the Token Storage's whole store, secrets included: it is only
/// searched for these markers, never logged or passed on.
async fn says_no_token(mut resp: reqwest::Response) -> bool {
    const MARKERS: [&str; 5] = [
        " not exist in ",
        "TokenNotFoundError",
        "UserNotFoundError",
        "TokenNotExistsError",
        "UserNotExistsError",
    ];
    let mut head = Vec::new();
    while head.len() < NO_TOKEN_PROBE_BYTES {
        match resp.chunk().await {
            Ok(Some(chunk)) => head.extend_from_slice(&chunk),
            _ => break,
        }
    }
    let head = String::from_utf8_lossy(&head);
    MARKERS.iter().any(|m| head.contains(m))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn session(raw: &str) -> (String, Option<String>, Option<String>) {
        match UserId::parse(raw) {
            Ok(UserId::Session {
                port,
                username,
                token,
            }) => (port, username, token.map(|t| t.expose_secret().to_owned())),
            other => panic!("{raw}: {other:?}"),
        }
    }

    #[test]
    fn session_format_variants() {
        assert_eq!(
            session("port-owncloud://alice:tok"),
            (
                "port-owncloud".into(),
                Some("alice".into()),
                Some("tok".into())
            )
        );
        // RDS's parseUserId adds the prefix when it is missing.
        assert_eq!(session("zenodo://bob:t").0, "port-zenodo");
        assert_eq!(session("port-x://alice:").2, None);
        assert_eq!(session("port-x://alice:None").2, None);
        assert_eq!(session("port-x://alice").2, None);
        assert_eq!(
            session("port-x://:tok"),
            ("port-x".into(), None, Some("tok".into()))
        );
        // Only the first colon separates: tokens may contain colons.
        assert_eq!(
            session("port-x://alice:a:b::c").2.as_deref(),
            Some("a:b::c")
        );
        assert_eq!(
            session("port-owncloud-uni-a://jürgen@uni-a.de:tøken")
                .1
                .as_deref(),
            Some("jürgen@uni-a.de")
        );
    }

    #[test]
    fn normal_and_invalid() {
        assert_eq!(
            UserId::parse("  émilie ").unwrap().username(),
            Some("émilie")
        );
        assert!(matches!(
            UserId::parse(""),
            Err(ConnectorError::BadRequest(_))
        ));
        assert!(matches!(
            UserId::parse("port-x://:"),
            Err(ConnectorError::BadRequest(_))
        ));
        assert!(matches!(
            UserId::parse("port-x://:None"),
            Err(ConnectorError::BadRequest(_))
        ));
    }

    #[test]
    fn user_names_that_change_a_url_are_refused() {
        for name in [
            ".",
            "..",
            " ",
            "a/b",
            "a\\b",
            "%2e%2e",
            "%2E.",
            "%252e%252e",
            "a%2Fb",
            "a%5cb",
            "..@uni.example",
            "%2e%2e@uni.example",
            "a\u{0}b",
            "a%00b",
            "a\nb",
        ] {
            for raw in [name.to_owned(), format!("port-owncloud-x://{name}:TOKEN")] {
                assert!(
                    matches!(UserId::parse(&raw), Err(ConnectorError::BadRequest(_))),
                    "{raw:?} accepted"
                );
            }
            assert!(
                matches!(
                    UserId::parse(&format!("port-x://{name}")),
                    Err(ConnectorError::BadRequest(_))
                ),
                "{name:?} accepted without a token"
            );
        }
        // Dots, percent signs and `@` inside a name are fine.
        for name in ["a.b", "...", ".alice", "100%", "jürgen@uni-a.de", "a@b@c"] {
            assert_eq!(UserId::parse(name).unwrap().username(), Some(name));
            assert_eq!(
                session(&format!("port-x://{name}:t")).1.as_deref(),
                Some(name)
            );
        }
    }

    #[test]
    fn echoed_credentials_are_found_in_any_form() {
        use base64::engine::general_purpose::STANDARD as B64;
        use base64::Engine as _;
        let token = "Xq7rT2pLm9vZk4";
        let creds = Credentials::new(Some("alice@uni.example".into()), SecretString::from(token));
        for echoed in [
            format!("invalid token {token}"),
            format!("invalid token {}", token.to_uppercase()),
            format!("token {}… refused", &token[..6]),
            format!("token ending in {}", &token[token.len() - 4..]),
            format!("bad header Basic {}", B64.encode(format!("alice:{token}"))),
            format!(
                "bad header {}",
                &B64.encode(format!("alice@uni.example:{token}"))[12..]
            ),
            format!("Bearer {}", B64.encode(token).to_lowercase()),
        ] {
            assert!(creds.appear_in(&echoed), "{echoed}");
        }
        for plain in [
            "File not found",
            "Insufficient storage",
            "alice has no quota",
            "",
        ] {
            assert!(!creds.appear_in(plain), "{plain}");
        }
        // Tokens shorter than the run are matched whole.
        let short = Credentials::new(None, SecretString::from("a1"));
        assert!(short.appear_in("got A1"));
        assert!(!short.appear_in("got a2"));
        // No token, nothing to find.
        assert!(!Credentials::new(Some("u".into()), SecretString::from("")).appear_in("u"));
    }

    #[test]
    fn debug_never_shows_the_token() {
        let u = UserId::parse("port-x://alice:supersecret").unwrap();
        assert!(!format!("{u:?}").contains("supersecret"));
        let c = Credentials::new(Some("a".into()), SecretString::from("supersecret"));
        assert!(!format!("{c:?}").contains("supersecret"));
    }
}
