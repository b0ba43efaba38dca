//! The WebDAV client: one method per verb, URLs built per user, errors mapped.
//!
//! Every path segment is percent-encoded on the way out (names may hold `#`, `%`, `?`,
//! `+`, `&`, spaces, unicode) and every href decoded on the way in.

use bytes::Bytes;
use connector_core::answer;
use connector_core::http::{authorized, path_segment, AuthScheme, Upstream};
use connector_core::interface::{ByteStream, StoragePath};
use connector_core::{ConnectorError, Credentials, Result};
use reqwest::header::{HeaderValue, CONTENT_TYPE, RANGE};
use reqwest::{Method, RequestBuilder, Response};
use url::Url;

use super::error::{bad_multistatus, from_response};
use super::integrity;
use super::multistatus::{self, Entry};

/// What a PROPFIND asks for: the DAV basics plus ownCloud's ids and folder sizes.
const PROPFIND_BODY: &str = r#"<?xml version="1.0" encoding="utf-8"?>
<d:propfind xmlns:d="DAV:" xmlns:oc="http://owncloud.org/ns"><d:prop><d:resourcetype/><d:getcontentlength/><d:getcontenttype/><d:getetag/><d:getlastmodified/><oc:fileid/><oc:size/><oc:permissions/></d:prop></d:propfind>"#;

/// The slowest rate at which a server is expected to read a file it assembles or
/// checksums (a NAS behind ownCloud): 16 MiB/s, so 20 GiB may take 21 minutes.
pub const WHOLE_FILE_BYTES_PER_SEC: u64 = 16 << 20;

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
    /// What one PROPFIND answer may hold.
    bounds: multistatus::Bounds,
}

impl DavCore {
    pub fn new(http: Upstream, base: &Url, layout: Layout, auth: AuthMode) -> Self {
        Self {
            http,
            base: base.as_str().trim_end_matches('/').to_owned(),
            layout,
            auth,
            bounds: multistatus::Bounds {
                max_entry_bytes: connector_core::answer::DEFAULT_MAX_UPSTREAM_ANSWER_BYTES,
                max_entries: connector_core::config::DEFAULT_MAX_LISTING_ENTRIES,
            },
        }
    }

    /// Bounds each PROPFIND answer: `max_entry_bytes` per entry (`MAX_UPSTREAM_ANSWER_BYTES`)
    /// and `max_entries` entries (`MAX_LISTING_ENTRIES`).
    pub fn with_answer_bounds(mut self, max_entry_bytes: usize, max_entries: usize) -> Self {
        self.bounds = multistatus::Bounds {
            max_entry_bytes,
            // The folder's own entry comes on top of its children.
            max_entries: max_entries.saturating_add(1),
        };
        self
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
                path_segment(Self::efss_user(creds)?)
            ),
        })
    }

    /// The URL of `path`; folders get a trailing `/` (MKCOL and listings want it).
    pub fn url(&self, creds: &Credentials, path: &StoragePath, folder: bool) -> Result<Url> {
        let mut s = self.root(creds)?;
        for seg in path.segments() {
            s.push('/');
            s.extend(path_segment(seg));
        }
        if folder || path.is_root() {
            s.push('/');
        }
        Url::parse(&s)
            .map_err(|e| ConnectorError::Internal(format!("cannot build a WebDAV URL: {e}")))
    }

    fn request(&self, method: Method, url: Url, creds: &Credentials) -> Result<RequestBuilder> {
        let scheme = match self.auth {
            AuthMode::Bearer => AuthScheme::Bearer,
            AuthMode::Basic => AuthScheme::Basic {
                user: Self::efss_user(creds)?,
            },
        };
        authorized(self.http.client().request(method, url), creds, scheme)
    }

    pub async fn fail(resp: Response, what: &str, creds: &Credentials) -> ConnectorError {
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
        // Parsed as it arrives: a folder of 100,000 entries is ~80 MB of XML, and a hostile
        // server's answer has no end; only the entries are held.
        let entries = multistatus::parse_stream(resp.bytes_stream(), self.bounds)
            .await
            .map_err(|e| bad_multistatus(e, &what))?;
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

    /// A download's body (the core cuts it when it stalls).
    pub fn body(&self, resp: Response) -> ByteStream {
        self.http.download_body(resp)
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

    /// PUT a streamed body straight onto `path`. The servers make it atomic with their own
    /// part file and update an existing file in place (its id, shares and versions stay).
    /// With a known size we send `Content-Length` (some PHP setups store chunked uploads
    /// as empty files) and `OC-Total-Length` (early quota check).
    pub async fn put(
        &self,
        creds: &Credentials,
        path: &StoragePath,
        body: ByteStream,
        size: Option<u64>,
        content_type: Option<&str>,
    ) -> Result<()> {
        let mut req = self.request(Method::PUT, self.url(creds, path, false)?, creds)?;
        if let Some(len) = size {
            req = req.header("OC-Total-Length", len);
        }
        if let Some(ct) = content_type.and_then(|ct| HeaderValue::from_str(ct).ok()) {
            req = req.header(CONTENT_TYPE, ct);
        }
        let resp = self.http.send_transfer(req, body, size).await?;
        match resp.status().as_u16() {
            200 | 201 | 204 => Ok(()),
            _ => Err(Self::fail(resp, &what("file", path), creds).await),
        }
    }

    /// MKCOL; `Ok(false)` when the folder already exists (405).
    pub async fn mkcol(&self, creds: &Credentials, path: &StoragePath) -> Result<bool> {
        let resp = self
            .http
            .send(self.request(Self::method(b"MKCOL")?, self.url(creds, path, true)?, creds)?)
            .await?;
        match resp.status().as_u16() {
            200 | 201 => Ok(true),
            405 => Ok(false),
            _ => Err(Self::fail(resp, &what("folder", path), creds).await),
        }
    }

    /// `{base}/remote.php/dav/uploads/{user}/{transfer}[/{item}]`: a chunked upload's
    /// folder (ownCloud 10 and Nextcloud serve it for either WebDAV root).
    fn upload_url(&self, creds: &Credentials, transfer: &str, item: Option<&str>) -> Result<Url> {
        let mut s = format!(
            "{}/remote.php/dav/uploads/{}/{}",
            self.base,
            path_segment(Self::efss_user(creds)?),
            path_segment(transfer)
        );
        if let Some(item) = item {
            s.push('/');
            s.extend(path_segment(item));
        }
        Url::parse(&s)
            .map_err(|e| ConnectorError::Internal(format!("cannot build a WebDAV URL: {e}")))
    }

    /// MKCOL of a chunked upload's folder, with the target as `Destination` (Nextcloud's
    /// chunking v2). `Ok(false)`: the server has no chunked uploads (404, 405, 501).
    pub async fn start_upload(
        &self,
        creds: &Credentials,
        transfer: &str,
        dest: &Url,
    ) -> Result<bool> {
        let req = self
            .request(
                Self::method(b"MKCOL")?,
                self.upload_url(creds, transfer, None)?,
                creds,
            )?
            .header("Destination", dest.as_str());
        let resp = self.http.send(req).await?;
        match resp.status().as_u16() {
            200 | 201 => Ok(true),
            404 | 405 | 501 => Ok(false),
            _ => Err(Self::fail(resp, "the upload folder", creds).await),
        }
    }

    /// PUT chunk `n` (1, 2, ...) of a chunked upload; the answer is the caller's to judge
    /// (it retries).
    pub async fn put_chunk(
        &self,
        creds: &Credentials,
        transfer: &str,
        n: u32,
        chunk: Bytes,
        dest: &Url,
        total: Option<u64>,
    ) -> Result<Response> {
        let len = chunk.len() as u64;
        let mut req = self
            .request(
                Method::PUT,
                self.upload_url(creds, transfer, Some(&n.to_string()))?,
                creds,
            )?
            .header("Destination", dest.as_str());
        if let Some(total) = total {
            req = req.header("OC-Total-Length", total);
        }
        let body: ByteStream = Box::pin(futures_util::stream::once(async move { Ok(chunk) }));
        self.http.send_transfer(req, body, Some(len)).await
    }

    /// The final `MOVE .../.file` that assembles the chunks into `dest` (in place, so an
    /// existing file keeps its identity). `OC-Checksum` lets ownCloud verify the result
    /// and Nextcloud store it. Assembling a large file takes time (rclone/rclone#7109): an
    /// answer later than the response deadline is retried and checked (see the writer).
    pub async fn finish_upload(
        &self,
        creds: &Credentials,
        transfer: &str,
        dest: &Url,
        total: Option<u64>,
        checksum: Option<&str>,
    ) -> Result<Response> {
        let mut req = self
            .request(
                Self::method(b"MOVE")?,
                self.upload_url(creds, transfer, Some(".file"))?,
                creds,
            )?
            .header("Destination", dest.as_str())
            .header("Overwrite", "T");
        if let Some(total) = total {
            req = req.header("OC-Total-Length", total);
        }
        if let Some(sum) = checksum {
            req = req.header("OC-Checksum", sum);
        }
        Ok(self
            .http
            .send_by(req, self.whole_file_deadline(total))
            .await?)
    }

    /// The deadline of a call in which the server reads a whole file of `bytes` (the
    /// assembling MOVE; the checksums of a file just written, which a server may compute
    /// only then): the response deadline plus the file at [`WHOLE_FILE_BYTES_PER_SEC`].
    /// A fixed deadline failed a 20 GiB upload after its last chunk had gone.
    fn whole_file_deadline(&self, bytes: Option<u64>) -> std::time::Instant {
        let reading = bytes.unwrap_or(0) / WHOLE_FILE_BYTES_PER_SEC;
        std::time::Instant::now()
            + self.http.response_timeout()
            + std::time::Duration::from_secs(reading)
    }

    /// DELETE of a chunked upload's folder: the documented abort.
    pub async fn abort_upload(&self, creds: &Credentials, transfer: &str) -> Result<()> {
        let url = self.upload_url(creds, transfer, None)?;
        let resp = self
            .http
            .send(self.request(Method::DELETE, url, creds)?)
            .await?;
        match resp.status().as_u16() {
            200 | 204 | 404 => Ok(()),
            _ => Err(Self::fail(resp, "the upload folder", creds).await),
        }
    }

    /// The checksums the server reports for a file (`oc:checksums`, Depth-0 PROPFIND),
    /// `None` when it reports none (Nextcloud without a client-sent `OC-Checksum`).
    pub async fn checksums(
        &self,
        creds: &Credentials,
        path: &StoragePath,
        size: Option<u64>,
    ) -> Result<Option<String>> {
        let req = self
            .request(
                Self::method(b"PROPFIND")?,
                self.url(creds, path, false)?,
                creds,
            )?
            .header("Depth", "0")
            .header(CONTENT_TYPE, "application/xml; charset=utf-8")
            .body(integrity::PROPFIND_CHECKSUMS);
        let resp = self
            .http
            .send_by(req, self.whole_file_deadline(size))
            .await?;
        let what = what("file", path);
        if resp.status().as_u16() != 207 {
            return Err(Self::fail(resp, &what, creds).await);
        }
        // One file's answer: one entry's worth (`MAX_UPSTREAM_ANSWER_BYTES`) at most.
        let xml = answer::read_capped(resp, self.bounds.max_entry_bytes, &what).await?;
        integrity::parse_oc_checksums(&String::from_utf8_lossy(&xml))
            .map_err(|e| bad_multistatus(e, &what))
    }

    fn method(name: &[u8]) -> Result<Method> {
        Method::from_bytes(name).map_err(|e| ConnectorError::Internal(e.to_string()))
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
