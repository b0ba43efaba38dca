//! What a connector tells the Token Storage about itself, and the registration payload.
//!
//! The payload is what RDS's common library (`RDS.Util.getServiceObject`) parses into an
//! `OAuth2Service` or `LoginService`; its quirks are kept on purpose:
//! - `servicename` lower-case (the library lower-cases it);
//! - info/help URLs `quote_plus`-encoded unless already encoded (as the library does, so
//!   its `to_dict()` gives back exactly what we sent);
//! - the authorize URL with `%3F` instead of `?`: the web UI opens
//!   `decodeURIComponent(authorize_url) + "&state=" + jwt`.

use std::path::Path;

use base64::engine::general_purpose::STANDARD as B64;
use base64::Engine as _;
/// The `oauth2` crate's URL and client types of an [`OAuth2Descriptor`], re-exported so
/// that a provider needs no `oauth2` dependency of its own.
pub use oauth2::{AuthUrl, ClientId, ClientSecret, RedirectUrl, Scope, TokenUrl};
use percent_encoding::{percent_decode_str, utf8_percent_encode, AsciiSet, NON_ALPHANUMERIC};
use serde_json::{json, Value};

use crate::config::ConfigError;

/// The interfaces of RDS a connector can implement.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Interface {
    FileStorage,
    Metadata,
}

impl Interface {
    pub fn as_str(self) -> &'static str {
        match self {
            Interface::FileStorage => "fileStorage",
            Interface::Metadata => "metadata",
        }
    }
}

/// 0 = active (RDS pushes files), 1 = passive (the service pulls).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FileTransferMode {
    Active = 0,
    Passive = 1,
}

/// 0 = files one by one, 1 = folders as a zip archive.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FileTransferArchive {
    None = 0,
    Zip = 1,
}

/// An icon as the RDS UI wants it: a `data:` URL.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Icon(String);

impl Icon {
    pub fn from_bytes(mime: &str, bytes: &[u8]) -> Self {
        Icon(format!("data:{mime};base64,{}", B64.encode(bytes)))
    }

    /// Reads an image file; the MIME type comes from its extension.
    pub fn from_file(path: &Path) -> std::io::Result<Self> {
        let bytes = std::fs::read(path)?;
        let mime = mime_guess::from_path(path).first_or_octet_stream();
        Ok(Self::from_bytes(mime.essence_str(), &bytes))
    }

    /// The icon an operator configured under `key` (an image file), else the built-in
    /// SVG. A file that cannot be read is a configuration error naming the key (exit 2 at
    /// start): the operator asked for that icon, and silently sending another hides it.
    pub fn configured(
        key: &str,
        path: Option<&Path>,
        builtin_svg: &[u8],
    ) -> Result<Self, ConfigError> {
        match path.filter(|p| !p.as_os_str().is_empty()) {
            Some(path) => Self::from_file(path)
                .map_err(|e| ConfigError::new(key, format!("cannot read {}: {e}", path.display()))),
            None => Ok(Self::from_bytes("image/svg+xml", builtin_svg)),
        }
    }

    pub fn data_url(&self) -> &str {
        &self.0
    }
}

/// The OAuth2 client of a provider, in the `oauth2` crate's types.
#[derive(Debug, Clone)]
pub struct OAuth2Descriptor {
    pub auth_url: AuthUrl,
    pub token_url: TokenUrl,
    /// RDS's callback (`RDS_OAUTH_REDIRECT_URI`); the originals sent "" when unset.
    pub redirect_url: Option<RedirectUrl>,
    pub client_id: ClientId,
    pub client_secret: ClientSecret,
    pub scopes: Vec<Scope>,
}

/// `encodeURIComponent`'s set: everything but `A-Z a-z 0-9 - _ . ! ~ * ' ( )`.
const URI_COMPONENT: &AsciiSet = &NON_ALPHANUMERIC
    .remove(b'-')
    .remove(b'_')
    .remove(b'.')
    .remove(b'!')
    .remove(b'~')
    .remove(b'*')
    .remove(b'\'')
    .remove(b'(')
    .remove(b')');

impl OAuth2Descriptor {
    /// The authorize URL in RDS's form, e.g.
    /// `{auth}%3Fredirect_uri={redirect}&response_type=code&scope%3D{scopes}&client_id={id}`
    /// (the scope part only when there are scopes), byte-for-byte what the originals sent.
    pub fn rds_authorize_url(&self) -> String {
        let redirect = self.redirect_url.as_ref().map(|r| r.as_str()).unwrap_or("");
        let mut url = format!(
            "{}%3Fredirect_uri={redirect}&response_type=code",
            self.auth_url.as_str()
        );
        if !self.scopes.is_empty() {
            let scopes: Vec<&str> = self.scopes.iter().map(|s| s.as_str()).collect();
            url.push_str("&scope%3D");
            url.push_str(&utf8_percent_encode(&scopes.join(" "), URI_COMPONENT).to_string());
        }
        url.push_str("&client_id=");
        url.push_str(self.client_id.as_str());
        url
    }
}

/// How users authenticate at the service.
// Built once per process: the size difference between the variants costs nothing.
#[allow(clippy::large_enum_variant)]
#[derive(Debug, Clone)]
pub enum ServiceAuth {
    OAuth2(OAuth2Descriptor),
    /// A username/password form in the RDS UI (`LoginService`).
    Login {
        user_id: bool,
        password: bool,
    },
}

/// Everything the Token Storage needs to know about a connector but the interfaces it
/// implements: those the core derives from what [`crate::Built`] carries
/// ([`crate::Built::implements`]), so the registration cannot claim what is not served.
#[derive(Debug, Clone)]
pub struct ServiceDescriptor {
    pub servicename: String,
    pub file_transfer_mode: FileTransferMode,
    pub file_transfer_archive: FileTransferArchive,
    pub auth: ServiceAuth,
    /// Short descriptions by language (`en`, `de`).
    pub description: Vec<(String, String)>,
    pub display_name: String,
    pub info_url: String,
    pub help_url: String,
    pub icon: Option<Icon>,
    /// A JSON metadata profile, sent base64-encoded.
    pub metadata_profile: Option<Vec<u8>>,
    /// e.g. `https://zenodo.org/record/${projectId}`.
    pub project_link_template: String,
}

/// `quote_plus` as Python's urllib does it: unreserved `A-Z a-z 0-9 _ . - ~` kept, space → `+`.
fn quote_plus(s: &str) -> String {
    crate::http::path_segment(s).to_string().replace("%20", "+")
}

/// The RDS library encodes a URL unless decoding it changes nothing being false, i.e.
/// unless it is already encoded.
fn rds_encode_url(url: &str) -> String {
    let unquoted = percent_decode_str(&url.replace('+', " "))
        .decode_utf8_lossy()
        .into_owned();
    if unquoted == url {
        quote_plus(url)
    } else {
        url.to_owned()
    }
}

impl ServiceDescriptor {
    /// The JSON body of `POST /service` for a connector serving `implements`.
    pub fn registration_payload(&self, implements: &[Interface]) -> Value {
        let description: serde_json::Map<String, Value> = self
            .description
            .iter()
            .map(|(lang, text)| (lang.clone(), Value::String(text.clone())))
            .collect();
        let mut payload = json!({
            "servicename": self.servicename.to_lowercase(),
            "implements": implements.iter().map(|i| i.as_str()).collect::<Vec<_>>(),
            "fileTransferMode": self.file_transfer_mode as u8,
            "fileTransferArchive": self.file_transfer_archive as u8,
            "description": description,
            "displayName": self.display_name,
            "infoUrl": rds_encode_url(&self.info_url),
            "helpUrl": rds_encode_url(&self.help_url),
            "icon": self.icon.as_ref().map(|i| i.data_url().to_owned()),
            "metadataProfile": self.metadata_profile.as_ref().map(|p| B64.encode(p)),
            "projectLinkTemplate": self.project_link_template,
        });
        let extra = match &self.auth {
            ServiceAuth::OAuth2(o) => json!({
                "authorize_url": o.rds_authorize_url(),
                "refresh_url": o.token_url.as_str().trim_end_matches('/'),
                "client_id": o.client_id.as_str(),
                "client_secret": o.client_secret.secret(),
            }),
            ServiceAuth::Login { user_id, password } => json!({
                "credentials": { "userId": user_id, "password": password },
            }),
        };
        if let (Some(p), Value::Object(e)) = (payload.as_object_mut(), extra) {
            p.extend(e);
        }
        payload
    }

    /// The payload as it may be logged: the client secret masked.
    pub fn redacted_payload(&self, implements: &[Interface]) -> Value {
        let mut p = self.registration_payload(implements);
        if let Some(secret) = p.get_mut("client_secret") {
            *secret = Value::String("[REDACTED]".into());
        }
        if let Some(icon) = p.get_mut("icon") {
            if let Some(s) = icon.as_str() {
                *icon = Value::String(format!("<{} bytes>", s.len()));
            }
        }
        p
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sample() -> ServiceDescriptor {
        ServiceDescriptor {
            servicename: "Port-Zenodo".into(),
            file_transfer_mode: FileTransferMode::Active,
            file_transfer_archive: FileTransferArchive::Zip,
            auth: ServiceAuth::OAuth2(OAuth2Descriptor {
                auth_url: AuthUrl::new("https://sandbox.zenodo.org/oauth/authorize".into())
                    .unwrap_or_else(|e| panic!("{e}")),
                token_url: TokenUrl::new("https://sandbox.zenodo.org/oauth/token".into())
                    .unwrap_or_else(|e| panic!("{e}")),
                redirect_url: Some(
                    RedirectUrl::new("https://rds.example.org/redirect".into())
                        .unwrap_or_else(|e| panic!("{e}")),
                ),
                client_id: ClientId::new("cid".into()),
                client_secret: ClientSecret::new("csecret".into()),
                scopes: vec![
                    Scope::new("deposit:write".into()),
                    Scope::new("deposit:actions".into()),
                ],
            }),
            description: vec![("en".into(), "E".into()), ("de".into(), "D".into())],
            display_name: "Zenodo".into(),
            info_url: "https://about.zenodo.org/".into(),
            help_url: "https%3A%2F%2Fhelp.zenodo.org%2F".into(),
            icon: Some(Icon::from_bytes("image/svg+xml", b"<svg/>")),
            metadata_profile: Some(b"{}".to_vec()),
            project_link_template: "https://zenodo.org/record/${projectId}".into(),
        }
    }

    #[test]
    fn payload_matches_the_rds_form() {
        let p = sample().registration_payload(&[Interface::Metadata]);
        assert_eq!(p["servicename"], "port-zenodo");
        assert_eq!(p["implements"], json!(["metadata"]));
        assert_eq!(p["fileTransferMode"], 0);
        assert_eq!(p["fileTransferArchive"], 1);
        assert_eq!(
            p["authorize_url"],
            "https://sandbox.zenodo.org/oauth/authorize%3Fredirect_uri=https://rds.example.org/redirect\
             &response_type=code&scope%3Ddeposit%3Awrite%20deposit%3Aactions&client_id=cid"
        );
        assert_eq!(p["refresh_url"], "https://sandbox.zenodo.org/oauth/token");
        assert_eq!(p["client_secret"], "csecret");
        assert_eq!(p["infoUrl"], "https%3A%2F%2Fabout.zenodo.org%2F");
        assert_eq!(
            p["helpUrl"], "https%3A%2F%2Fhelp.zenodo.org%2F",
            "already encoded: kept"
        );
        assert_eq!(p["icon"], "data:image/svg+xml;base64,PHN2Zy8+");
        assert_eq!(p["metadataProfile"], "e30=");
        assert_eq!(p["description"]["de"], "D");
    }

    #[test]
    fn redacted_payload_hides_the_secret() {
        let text = sample()
            .redacted_payload(&[Interface::Metadata])
            .to_string();
        assert!(!text.contains("csecret"));
    }

    #[test]
    fn a_configured_icon_must_be_readable() {
        let dir = tempfile::tempdir().unwrap_or_else(|e| panic!("{e}"));
        let png = dir.path().join("logo.png");
        std::fs::write(&png, b"\x89PNG").unwrap_or_else(|e| panic!("{e}"));
        let icon = |p: Option<&Path>| Icon::configured("X_ICON", p, b"<svg/>");
        let data = |r: Result<Icon, ConfigError>| r.map(|i| i.data_url().to_owned());
        assert_eq!(
            data(icon(Some(&png))).ok().as_deref(),
            Some("data:image/png;base64,iVBORw==")
        );
        let builtin = Some("data:image/svg+xml;base64,PHN2Zy8+");
        assert_eq!(data(icon(None)).ok().as_deref(), builtin);
        assert_eq!(data(icon(Some(Path::new("")))).ok().as_deref(), builtin);
        let missing = dir.path().join("missing.svg");
        let err = icon(Some(&missing)).err();
        assert_eq!(err.as_ref().map(|e| e.key.as_str()), Some("X_ICON"));
        assert!(err.is_some_and(|e| e.problem.contains("missing.svg")));
    }

    #[test]
    fn quote_plus_like_python() {
        assert_eq!(
            quote_plus("https://a.b/c d?x=1&y=~"),
            "https%3A%2F%2Fa.b%2Fc+d%3Fx%3D1%26y%3D~"
        );
    }
}
