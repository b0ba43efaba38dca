//! The WebDAV client: one method per verb, URLs built per user, errors mapped.
//!
//! Every path segment is percent-encoded on the way out (names may hold `#`, `%`, `?`,
//! `+`, `&`, spaces, unicode) and every href decoded on the way in.

use base64::engine::general_purpose::STANDARD as B64;
use base64::Engine as _;
use connector_core::http::Upstream;
use connector_core::interface::StoragePath;
use connector_core::{ConnectorError, Credentials, Result};
use percent_encoding::{utf8_percent_encode, AsciiSet, NON_ALPHANUMERIC};
use reqwest::header::{HeaderValue, AUTHORIZATION, CONTENT_LENGTH, CONTENT_TYPE, RANGE};
use reqwest::{Body, Method, RequestBuilder, Response};
use secrecy::ExposeSecret;
use url::Url;

use super::error::{bad_multistatus, from_response};
use super::multistatus::{self, Entry};

/// RFC 3986 unreserved characters stay; everything else in a segment is encoded.
const SEGMENT: &AsciiSet = &NON_ALPHANUMERIC
    .remove(b'-')
    .remove(b'_')
    .remove(b'.')
    .remove(b'~');

/// What a PROPFIND asks for: the DAV basics plus ownCloud's ids and folder sizes.
const PROPFIND_BODY: &str = r#"<?xml version="1.0" encoding="utf-8"?>
<d:propfind xmlns:d="DAV:" xmlns:oc="http://owncloud.org/ns"><d:prop><d:resourcetype/><d:getcontentlength/><d:getcontenttype/><d:getetag/><d:getlastmodified/><oc:fileid/><oc:size/><oc:permissions/></d:prop></d:propfind>"#;

/// Where the user's files are (`EFSS_SYSTEM`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Layout {
    /// `/remote.php/webdav`
    Owncloud,
    /// `/remote.php/dav/files/{user}`
    Nextcloud,
}

/// How we authenticate (`OWNCLOUD_AUTH`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AuthMode {
    /// `Authorization: Bearer <access token>` (the oauth2 app's tokens).
    Bearer,
    /// `Authorization: Basic <user:app password>`, the token slot holding the password.
    Basic,
}

/// A PROPFIND depth; ownCloud refuses `infinity`, so we never send it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Depth {
    Zero,
    One,
}

/// The answer of a PROPFIND, with the URL it was asked at (to resolve relative hrefs).
pub struct Listing {
    pub url: Url,
    pub entries: Vec<Entry>,
}

/// Names a target in error messages: `folder "/a b"`.
pub fn what(kind: &str, path: &StoragePath) -> String {
    format!("{kind} {:?}", path.as_string())
}

#[derive(Clone)]
pub struct DavCore {
    http: Upstream,
    /// `OWNCLOUD_INTERNAL_INSTALLATION_URL` (or the public one), without trailing `/`.
    base: String,
    layout: Layout,
    auth: AuthMode,
}

impl DavCore {
    pub fn new(http: Upstream, base: &Url, layout: Layout, auth: AuthMode) -> Self {
        Self {
            http,
            base: base.as_str().trim_end_matches('/').to_owned(),
            layout,
            auth,
        }
    }

    /// The EFSS user: the name without a trailing `@domain` (RDS knows Sciebo users as
    /// `user@institution`; the WebDAV server knows `user`).
    fn efss_user(creds: &Credentials) -> Result<&str> {
        let name = creds.username().filter(|u| !u.is_empty()).ok_or_else(|| {
            ConnectorError::BadRequest(
                "userId names no user; this server needs one (`port-owncloud://<user>:<token>`)"
                    .into(),
            )
        })?;
        Ok(match name.rsplit_once('@') {
            Some((user, _domain)) if !user.is_empty() => user,
            _ => name,
        })
    }

    /// The user's WebDAV root URL, without trailing `/`.
    pub fn root(&self, creds: &Credentials) -> Result<String> {
        Ok(match self.layout {
            Layout::Owncloud => format!("{}/remote.php/webdav", self.base),
            Layout::Nextcloud => format!(
                "{}/remote.php/dav/files/{}",
                self.base,
                utf8_percent_encode(Self::efss_user(creds)?, SEGMENT)
            ),
        })
    }

    /// The URL of `path`; folders get a trailing `/` (MKCOL and listings want it).
    pub fn url(&self, creds: &Credentials, path: &StoragePath, folder: bool) -> Result<Url> {
        let mut s = self.root(creds)?;
        for seg in path.segments() {
            s.push('/');
            s.extend(utf8_percent_encode(seg, SEGMENT));
        }
        if folder || path.is_root() {
            s.push('/');
        }
        Url::parse(&s)
            .map_err(|e| ConnectorError::Internal(format!("cannot build a WebDAV URL: {e}")))
    }

    fn request(&self, method: Method, url: Url, creds: &Credentials) -> Result<RequestBuilder> {
        let value = match self.auth {
            AuthMode::Bearer => creds.bearer(),
            AuthMode::Basic => {
                let user = Self::efss_user(creds)?;
                format!(
                    "Basic {}",
                    B64.encode(format!("{user}:{}", creds.token().expose_secret()))
                )
            }
        };
        let mut value = HeaderValue::from_str(&value).map_err(|_| {
            ConnectorError::BadRequest(
                "the token contains characters not allowed in a header".into(),
            )
        })?;
        value.set_sensitive(true);
        Ok(self
            .http
            .client()
            .request(method, url)
            .header(AUTHORIZATION, value))
    }

    async fn fail(resp: Response, what: &str, creds: &Credentials) -> ConnectorError {
        from_response(resp, what, creds).await
    }

    /// PROPFIND with `Depth` 0 or 1.
    pub async fn propfind(
        &self,
        creds: &Credentials,
        path: &StoragePath,
        depth: Depth,
        kind: &str,
    ) -> Result<Listing> {
        let url = self.url(creds, path, false)?;
        let method =
            Method::from_bytes(b"PROPFIND").map_err(|e| ConnectorError::Internal(e.to_string()))?;
        let req = self
            .request(method, url.clone(), creds)?
            .header("Depth", if depth == Depth::Zero { "0" } else { "1" })
            .header(CONTENT_TYPE, "application/xml; charset=utf-8")
            .body(PROPFIND_BODY);
        let resp = self.http.send(req).await?;
        let what = what(kind, path);
        if resp.status().as_u16() != 207 {
            return Err(Self::fail(resp, &what, creds).await);
        }
        // A folder's listing is small (Depth 1); read it whole, then parse.
        let text = resp.text().await?;
        let entries = multistatus::parse(&text).map_err(|e| bad_multistatus(e, &what))?;
        // Relative hrefs of a folder's children are relative to the folder's URL with `/`.
        let url = match depth {
            Depth::One => self.url(creds, path, true)?,
            Depth::Zero => url,
        };
        Ok(Listing { url, entries })
    }

    /// Depth-0 PROPFIND: the entry of `path` itself, `None` when it does not exist.
    pub async fn stat(&self, creds: &Credentials, path: &StoragePath) -> Result<Option<Entry>> {
        match self.propfind(creds, path, Depth::Zero, "path").await {
            Ok(listing) => Ok(listing.entries.into_iter().next()),
            Err(ConnectorError::NotFound(_)) => Ok(None),
            Err(e) => Err(e),
        }
    }

    /// GET, streamed; `range` passed through. Errors are mapped; 200/206 returned.
    pub async fn get(
        &self,
        creds: &Credentials,
        path: &StoragePath,
        range: Option<&str>,
    ) -> Result<Response> {
        let mut req = self.request(Method::GET, self.url(creds, path, false)?, creds)?;
        if let Some(r) = range {
            req = req.header(RANGE, r);
        }
        let resp = self.http.send_download(req).await?;
        match resp.status().as_u16() {
            200 | 206 => Ok(resp),
            // GET on a folder: Sabre answers 501, others 405 or a redirect to `folder/`.
            // That is the caller's mistake; say so instead of passing the status on.
            301..=308 | 405 | 501
                if self
                    .stat(creds, path)
                    .await?
                    .is_some_and(|e| e.is_collection) =>
            {
                Err(ConnectorError::BadRequest(format!(
                    "{} is a folder; list it with /storage/folder",
                    what("path", path)
                )))
            }
            _ => Err(Self::fail(resp, &what("file", path), creds).await),
        }
    }

    /// PUT a streamed body. With a known size we send `Content-Length` (some PHP setups
    /// store chunked uploads as empty files) and `OC-Total-Length` (early quota check).
    pub async fn put(
        &self,
        creds: &Credentials,
        path: &StoragePath,
        body: Body,
        size: Option<u64>,
        content_type: Option<&str>,
    ) -> Result<()> {
        let mut req = self.request(Method::PUT, self.url(creds, path, false)?, creds)?;
        if let Some(len) = size {
            req = req
                .header(CONTENT_LENGTH, len)
                .header("OC-Total-Length", len);
        }
        if let Some(ct) = content_type.and_then(|ct| HeaderValue::from_str(ct).ok()) {
            req = req.header(CONTENT_TYPE, ct);
        }
        let resp = self.http.send_transfer(req.body(body)).await?;
        match resp.status().as_u16() {
            200 | 201 | 204 => Ok(()),
            _ => Err(Self::fail(resp, &what("file", path), creds).await),
        }
    }

    /// MKCOL; `Ok(false)` when the folder already exists (405).
    pub async fn mkcol(&self, creds: &Credentials, path: &StoragePath) -> Result<bool> {
        let method =
            Method::from_bytes(b"MKCOL").map_err(|e| ConnectorError::Internal(e.to_string()))?;
        let resp = self
            .http
            .send(self.request(method, self.url(creds, path, true)?, creds)?)
            .await?;
        match resp.status().as_u16() {
            200 | 201 => Ok(true),
            405 => Ok(false),
            _ => Err(Self::fail(resp, &what("folder", path), creds).await),
        }
    }

    /// MOVE `from` onto `to`, replacing it (`Overwrite: T`).
    pub async fn move_to(
        &self,
        creds: &Credentials,
        from: &StoragePath,
        to: &StoragePath,
    ) -> Result<()> {
        let method =
            Method::from_bytes(b"MOVE").map_err(|e| ConnectorError::Internal(e.to_string()))?;
        let dest = self.url(creds, to, false)?;
        let req = self
            .request(method, self.url(creds, from, false)?, creds)?
            .header("Destination", dest.as_str())
            .header("Overwrite", "T");
        let resp = self.http.send(req).await?;
        match resp.status().as_u16() {
            200 | 201 | 204 => Ok(()),
            _ => Err(Self::fail(resp, &what("file", to), creds).await),
        }
    }

    /// DELETE a file or (recursively, server-side) a folder.
    pub async fn delete(&self, creds: &Credentials, path: &StoragePath) -> Result<()> {
        let resp = self
            .http
            .send(self.request(Method::DELETE, self.url(creds, path, false)?, creds)?)
            .await?;
        match resp.status().as_u16() {
            200 | 204 => Ok(()),
            _ => Err(Self::fail(resp, &what("path", path), creds).await),
        }
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used)]
    use super::*;
    use connector_core::CommonConfig;
    use secrecy::SecretString;

    fn core(layout: Layout) -> DavCore {
        let http = CommonConfig::default().upstream("webdav", "test").unwrap();
        DavCore::new(
            http,
            &Url::parse("https://cloud.example.org/sub/").unwrap(),
            layout,
            AuthMode::Bearer,
        )
    }

    #[test]
    fn urls_encode_each_segment() {
        let creds = Credentials::new(Some("jürgen@uni-a.de".into()), SecretString::from("t"));
        let p = StoragePath::parse("/a b/#1 100%?+&ü.txt").unwrap();
        assert_eq!(
            core(Layout::Owncloud).url(&creds, &p, false).unwrap().as_str(),
            "https://cloud.example.org/sub/remote.php/webdav/a%20b/%231%20100%25%3F%2B%26%C3%BC.txt"
        );
        assert_eq!(
            core(Layout::Nextcloud)
                .url(&creds, &StoragePath::root(), false)
                .unwrap()
                .as_str(),
            "https://cloud.example.org/sub/remote.php/dav/files/j%C3%BCrgen/"
        );
        let nobody = Credentials::new(None, SecretString::from("t"));
        assert!(core(Layout::Nextcloud).url(&nobody, &p, false).is_err());
        assert!(core(Layout::Owncloud)
            .url(&nobody, &p, true)
            .unwrap()
            .as_str()
            .ends_with(".txt/"));
    }
}
