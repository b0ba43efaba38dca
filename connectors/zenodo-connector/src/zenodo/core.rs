//! A small client of Zenodo's REST deposit API (`/api/deposit/depositions`), with the
//! bearer token in a sensitive header (never in a URL), bounded retries, and Zenodo's
//! errors mapped.

use connector_core::answer::json_capped;
use connector_core::http::{authorized, path_segment, AuthScheme, Upstream};
use connector_core::retry::{self, Idempotency, RetryPolicy};
use connector_core::transfer::upload::UploadBody;
use connector_core::{ConnectorError, Credentials};
use reqwest::{Method, RequestBuilder};
use serde_json::{json, Map, Value};
use url::Url;

use super::error;

/// Zenodo's limit per file (and per record).
pub const MAX_FILE_BYTES: u64 = 50_000_000_000;
/// Zenodo's largest page.
const PAGE_SIZE: usize = 100;
/// The default of `ZENODO_MAX_PAGES`: 5,000 drafts, far more than one person keeps, while
/// a Zenodo answering every page full costs at most 50 calls per listing, not 1,000.
pub const DEFAULT_MAX_PAGES: usize = 50;

/// What bounds the work one answer of Zenodo can cause.
#[derive(Clone, Copy, Debug)]
pub struct Limits {
    /// `MAX_UPSTREAM_ANSWER_BYTES`: the most bytes of one JSON answer read.
    pub max_answer_bytes: usize,
    /// `ZENODO_MAX_PAGES`: the most pages of the deposition list fetched.
    pub max_pages: usize,
}

#[derive(Clone, Debug)]
pub struct ZenodoApi {
    http: Upstream,
    base: Url,
    policy: RetryPolicy,
    limits: Limits,
}

fn auth(req: RequestBuilder, creds: &Credentials) -> Result<RequestBuilder, ConnectorError> {
    authorized(req, creds, AuthScheme::Bearer)
}

impl ZenodoApi {
    pub fn new(http: Upstream, base: Url, policy: RetryPolicy, limits: Limits) -> Self {
        Self {
            http,
            base,
            policy,
            limits,
        }
    }

    /// A JSON answer, read up to `MAX_UPSTREAM_ANSWER_BYTES`.
    async fn json_of(&self, resp: reqwest::Response, what: &str) -> Result<Value, ConnectorError> {
        json_capped(resp, self.limits.max_answer_bytes, what).await
    }

    pub fn depositions_url(&self) -> String {
        crate::descriptor::join(&self.base, "api/deposit/depositions")
    }

    fn deposition_url(&self, id: u64) -> String {
        format!("{}/{id}", self.depositions_url())
    }

    async fn call(
        &self,
        creds: &Credentials,
        method: Method,
        url: &str,
        body: Option<&Value>,
        idempotency: Idempotency,
        what: &str,
    ) -> Result<reqwest::Response, ConnectorError> {
        let make = || {
            let req = self.http.client().request(method.clone(), url);
            retry::Attempt::json_call(req, creds, AuthScheme::Bearer, body)
        };
        self.send(idempotency, what, creds, make).await
    }

    /// [`retry::send_with`] with Zenodo's wording of its errors (nothing of `creds` kept).
    async fn send(
        &self,
        idempotency: Idempotency,
        what: &str,
        creds: &Credentials,
        make: impl Fn() -> Result<retry::Attempt, ConnectorError>,
    ) -> Result<reqwest::Response, ConnectorError> {
        let map = error::wording(creds);
        retry::send_with(&self.http, self.policy, idempotency, what, make, map).await
    }

    /// The user's drafts (unsubmitted depositions), all pages. When the last page allowed
    /// (`ZENODO_MAX_PAGES`) is still full, a 502 names the limit: a shortened list would
    /// tell RDS that projects it knows are gone.
    pub async fn list_drafts(&self, creds: &Credentials) -> Result<Vec<Value>, ConnectorError> {
        let mut all = Vec::new();
        for page in 1..=self.limits.max_pages {
            let url = format!(
                "{}?status=draft&size={PAGE_SIZE}&page={page}",
                self.depositions_url()
            );
            let resp = self
                .call(
                    creds,
                    Method::GET,
                    &url,
                    None,
                    Idempotency::Idempotent,
                    "the list of depositions",
                )
                .await?;
            let v = self.json_of(resp, "the list of depositions").await?;
            let Value::Array(items) = v else {
                return Err(ConnectorError::BadGateway(
                    "Zenodo's list of depositions was not a list".into(),
                ));
            };
            let n = items.len();
            // `status=draft` may still hold published records being edited: keep only
            // unsubmitted ones, as the original port did.
            all.extend(
                items
                    .into_iter()
                    .filter(|d| d.get("submitted") != Some(&Value::Bool(true))),
            );
            if n < PAGE_SIZE {
                return Ok(all);
            }
        }
        Err(ConnectorError::BadGateway(format!(
            "Zenodo's list of depositions goes on past {} full pages of {PAGE_SIZE}, the \
             limit ZENODO_MAX_PAGES",
            self.limits.max_pages
        )))
    }

    pub async fn get(&self, creds: &Credentials, id: u64) -> Result<Value, ConnectorError> {
        let what = format!("deposition {id}");
        let resp = self
            .call(
                creds,
                Method::GET,
                &self.deposition_url(id),
                None,
                Idempotency::Idempotent,
                &what,
            )
            .await?;
        self.json_of(resp, &what).await
    }

    pub async fn create(
        &self,
        creds: &Credentials,
        metadata: Map<String, Value>,
    ) -> Result<Value, ConnectorError> {
        let body = json!({ "metadata": metadata });
        let what = "a new deposition";
        let resp = self
            .call(
                creds,
                Method::POST,
                &self.depositions_url(),
                Some(&body),
                Idempotency::Once,
                what,
            )
            .await?;
        self.json_of(resp, what).await
    }

    /// Replaces the whole metadata object (Zenodo's PUT semantics).
    pub async fn put_metadata(
        &self,
        creds: &Credentials,
        id: u64,
        metadata: Map<String, Value>,
    ) -> Result<Value, ConnectorError> {
        let body = json!({ "metadata": metadata });
        let what = format!("the metadata of deposition {id}");
        let url = self.deposition_url(id);
        let resp = self
            .call(
                creds,
                Method::PUT,
                &url,
                Some(&body),
                Idempotency::Idempotent,
                &what,
            )
            .await?;
        self.json_of(resp, &what).await
    }

    /// Deletes a draft. Zenodo documents 201 and answers 204: any success is taken.
    pub async fn delete(&self, creds: &Credentials, id: u64) -> Result<(), ConnectorError> {
        let what = format!("deposition {id}");
        self.call(
            creds,
            Method::DELETE,
            &self.deposition_url(id),
            None,
            Idempotency::Idempotent,
            &what,
        )
        .await?;
        Ok(())
    }

    pub async fn publish(&self, creds: &Credentials, id: u64) -> Result<Value, ConnectorError> {
        let what = format!("publishing deposition {id}");
        let url = format!("{}/actions/publish", self.deposition_url(id));
        let resp = self
            .call(creds, Method::POST, &url, None, Idempotency::Once, &what)
            .await?;
        self.json_of(resp, &what).await
    }

    pub async fn list_files(
        &self,
        creds: &Credentials,
        id: u64,
    ) -> Result<Vec<Value>, ConnectorError> {
        let what = format!("file list of deposition {id}");
        let url = format!("{}/files", self.deposition_url(id));
        let resp = self
            .call(
                creds,
                Method::GET,
                &url,
                None,
                Idempotency::Idempotent,
                &what,
            )
            .await?;
        match self.json_of(resp, &what).await? {
            Value::Array(a) => Ok(a),
            _ => Err(ConnectorError::BadGateway(format!(
                "Zenodo's list of {what} was not a list"
            ))),
        }
    }

    pub async fn delete_file(
        &self,
        creds: &Credentials,
        id: u64,
        file_id: &str,
    ) -> Result<(), ConnectorError> {
        let what = format!("file {file_id} of deposition {id}");
        let url = format!(
            "{}/files/{}",
            self.deposition_url(id),
            path_segment(file_id)
        );
        self.call(
            creds,
            Method::DELETE,
            &url,
            None,
            Idempotency::Idempotent,
            &what,
        )
        .await?;
        Ok(())
    }

    /// `PUT {bucket}/{key}` with a known length (Zenodo refuses a chunked body:
    /// zenodo/zenodo#1986), as a transfer (no overall deadline).
    /// A streamed body is sent once; one in memory or spooled is sent again and retried
    /// like any idempotent call (the same key overwrites).
    pub async fn put_bucket_object(
        &self,
        creds: &Credentials,
        bucket_url: &str,
        key: &str,
        body: UploadBody,
    ) -> Result<Value, ConnectorError> {
        let what = format!("the upload of {key}");
        let url = format!("{}/{}", bucket_url.trim_end_matches('/'), encode_key(key));
        let request = || {
            Ok(auth(self.http.client().put(&url), creds)?
                .header(reqwest::header::CONTENT_TYPE, "application/octet-stream"))
        };
        let map = error::wording(creds);
        let resp =
            retry::send_upload_with(&self.http, self.policy, &what, body, request, map).await?;
        self.json_of(resp, &what).await
    }
}

impl ZenodoApi {
    /// `DELETE {bucket}/{key}`: removes an object whose stored bytes differ from ours.
    pub async fn delete_bucket_object(
        &self,
        creds: &Credentials,
        bucket_url: &str,
        key: &str,
    ) -> Result<(), ConnectorError> {
        let url = format!("{}/{}", bucket_url.trim_end_matches('/'), encode_key(key));
        let what = format!("the removal of {key}");
        self.call(
            creds,
            Method::DELETE,
            &url,
            None,
            Idempotency::Idempotent,
            &what,
        )
        .await?;
        Ok(())
    }
}

/// A bucket key as one path segment (`#`, `?`, `%`, `/`, spaces, unicode encoded).
fn encode_key(key: &str) -> String {
    path_segment(key).to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_are_one_segment() {
        assert_eq!(encode_key("a b#?%/ü.txt"), "a%20b%23%3F%25%2F%C3%BC.txt");
    }
}
