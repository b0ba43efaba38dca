//! A small client of InvenioRDM's REST API: drafts, draft files, publish and the user's
//! records, with the bearer token in a sensitive header (never in a URL), answers read up
//! to `MAX_UPSTREAM_ANSWER_BYTES`, bounded retries, and Invenio's errors mapped.
//!
//! Record routes ask for `application/vnd.inveniordm.v1+json`: every instance answers it
//! in the RDM shape, while zenodo.org answers `application/json` in its legacy shape
//! (zenodo-rdm `site/zenodo_rdm/resources.py`). URLs are built from `INVENIORDM_ADDRESS`,
//! never taken from the answers' links, so the token goes to no other host.

use std::time::Duration;

use connector_core::answer::json_capped;
use connector_core::http::{authorized, path_segment, AuthScheme, Upstream};
use connector_core::retry::{self, Attempt, Idempotency, RetryPolicy};
use connector_core::transfer::upload::UploadBody;
use connector_core::{ConnectorError, Credentials};
use reqwest::header::{ACCEPT, CONTENT_TYPE};
use reqwest::{Method, Response};
use serde_json::{json, Value};
use url::Url;

use super::error;

/// The RDM shape on every instance (invenio-rdm-records `resources/config.py`).
pub const RDM_JSON: &str = "application/vnd.inveniordm.v1+json";
/// `/api/user/records`' largest sensible page (Invenio allows `page * size <= 10000`).
const PAGE_SIZE: usize = 100;

#[derive(Clone, Debug)]
pub struct InvenioApi {
    http: Upstream,
    base: Url,
    policy: RetryPolicy,
    max_answer_bytes: usize,
    max_pages: usize,
}

impl InvenioApi {
    pub fn new(
        http: Upstream,
        base: Url,
        policy: RetryPolicy,
        max_answer_bytes: usize,
        max_pages: usize,
    ) -> Self {
        Self {
            http,
            base,
            policy,
            max_answer_bytes,
            max_pages,
        }
    }

    /// The response deadline (also how long a multipart commit's checksum is waited for).
    pub fn response_timeout(&self) -> Duration {
        self.http.response_timeout()
    }

    fn url(&self, path: &str) -> String {
        crate::descriptor::join(&self.base, path)
    }

    fn record_url(&self, id: &str) -> String {
        self.url(&format!("api/records/{}", path_segment(id)))
    }

    fn files_url(&self, id: &str) -> String {
        format!("{}/draft/files", self.record_url(id))
    }

    fn file_url(&self, id: &str, key: &str) -> String {
        format!("{}/{}", self.files_url(id), path_segment(key))
    }

    async fn json_of(&self, resp: Response, what: &str) -> Result<Value, ConnectorError> {
        json_capped(resp, self.max_answer_bytes, what).await
    }

    /// Sends the request `make` builds, once per attempt, retrying per the policy; a
    /// failed answer in Invenio's wording.
    async fn send(
        &self,
        creds: &Credentials,
        idempotency: Idempotency,
        what: &str,
        make: impl Fn() -> Result<Attempt, ConnectorError>,
    ) -> Result<Response, ConnectorError> {
        retry::send_with(
            &self.http,
            self.policy,
            idempotency,
            what,
            make,
            |answer, what| error::from_answer(answer, what, creds),
        )
        .await
    }

    async fn call(
        &self,
        creds: &Credentials,
        method: Method,
        url: &str,
        body: Option<&Value>,
        idempotency: Idempotency,
        what: &str,
    ) -> Result<Response, ConnectorError> {
        let make = || {
            let req = self
                .http
                .client()
                .request(method.clone(), url)
                .header(ACCEPT, RDM_JSON);
            Attempt::json_call(req, creds, AuthScheme::Bearer, body)
        };
        self.send(creds, idempotency, what, make).await
    }

    async fn call_json(
        &self,
        creds: &Credentials,
        method: Method,
        url: &str,
        body: Option<&Value>,
        idempotency: Idempotency,
        what: &str,
    ) -> Result<Value, ConnectorError> {
        let resp = self
            .call(creds, method, url, body, idempotency, what)
            .await?;
        self.json_of(resp, what).await
    }

    /// The user's unpublished drafts, all pages (`GET /api/user/records?q=is_published:false`).
    /// A listing still full at the last page allowed is a 502 naming the limit: a shortened
    /// list would tell RDS that projects it knows are gone.
    pub async fn list_drafts(&self, creds: &Credentials) -> Result<Vec<Value>, ConnectorError> {
        let what = "the list of the user's drafts";
        let mut all = Vec::new();
        for page in 1..=self.max_pages {
            let url = format!(
                "{}?q=is_published%3Afalse&sort=newest&size={PAGE_SIZE}&page={page}",
                self.url("api/user/records")
            );
            let v = self
                .call_json(
                    creds,
                    Method::GET,
                    &url,
                    None,
                    Idempotency::Idempotent,
                    what,
                )
                .await?;
            let Some(hits) = v.pointer("/hits/hits").and_then(Value::as_array) else {
                return Err(ConnectorError::BadGateway(format!(
                    "InvenioRDM's answer for {what} has no hits"
                )));
            };
            let n = hits.len();
            all.extend(
                hits.iter()
                    .filter(|h| h.get("is_published") != Some(&Value::Bool(true)))
                    .cloned(),
            );
            let total = v.pointer("/hits/total").and_then(Value::as_u64);
            if n < PAGE_SIZE || total.is_some_and(|t| (page * PAGE_SIZE) as u64 >= t) {
                return Ok(all);
            }
        }
        Err(ConnectorError::BadGateway(format!(
            "{what} goes on past {} pages of {PAGE_SIZE}, the limit INVENIORDM_MAX_PAGES",
            self.max_pages
        )))
    }

    /// `POST /api/records` (201).
    pub async fn create(&self, creds: &Credentials, body: &Value) -> Result<Value, ConnectorError> {
        let url = self.url("api/records");
        self.call_json(
            creds,
            Method::POST,
            &url,
            Some(body),
            Idempotency::Once,
            "a new draft",
        )
        .await
    }

    pub async fn get_draft(&self, creds: &Credentials, id: &str) -> Result<Value, ConnectorError> {
        let url = format!("{}/draft", self.record_url(id));
        let what = format!("draft {id}");
        self.call_json(
            creds,
            Method::GET,
            &url,
            None,
            Idempotency::Idempotent,
            &what,
        )
        .await
    }

    /// `PUT /api/records/{id}/draft`: replaces the draft's metadata and access.
    pub async fn put_draft(
        &self,
        creds: &Credentials,
        id: &str,
        body: &Value,
    ) -> Result<Value, ConnectorError> {
        let url = format!("{}/draft", self.record_url(id));
        let what = format!("the metadata of draft {id}");
        self.call_json(
            creds,
            Method::PUT,
            &url,
            Some(body),
            Idempotency::Idempotent,
            &what,
        )
        .await
    }

    pub async fn delete_draft(&self, creds: &Credentials, id: &str) -> Result<(), ConnectorError> {
        let url = format!("{}/draft", self.record_url(id));
        let what = format!("draft {id}");
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

    /// `POST .../draft/actions/publish` (202 with the record).
    pub async fn publish(&self, creds: &Credentials, id: &str) -> Result<Value, ConnectorError> {
        let url = format!("{}/draft/actions/publish", self.record_url(id));
        let what = format!("publishing draft {id}");
        self.call_json(creds, Method::POST, &url, None, Idempotency::Once, &what)
            .await
    }

    /// The draft's file entries, in Invenio's order.
    pub async fn list_files(
        &self,
        creds: &Credentials,
        id: &str,
    ) -> Result<Vec<Value>, ConnectorError> {
        let what = format!("the files of draft {id}");
        let v = self
            .call_json(
                creds,
                Method::GET,
                &self.files_url(id),
                None,
                Idempotency::Idempotent,
                &what,
            )
            .await?;
        match v.get("entries") {
            Some(Value::Array(a)) => Ok(a.clone()),
            _ => Err(ConnectorError::BadGateway(format!(
                "InvenioRDM's answer for {what} has no entries"
            ))),
        }
    }

    /// Step 1: `POST .../draft/files` with `[{"key"}]` (201); the new entry, `pending`.
    pub async fn init_file(
        &self,
        creds: &Credentials,
        id: &str,
        key: &str,
    ) -> Result<Value, ConnectorError> {
        let what = format!("the upload of {key:?} to draft {id}");
        let body = json!([{ "key": key }]);
        let v = self
            .call_json(
                creds,
                Method::POST,
                &self.files_url(id),
                Some(&body),
                Idempotency::Once,
                &what,
            )
            .await?;
        v.get("entries")
            .and_then(Value::as_array)
            .and_then(|e| {
                e.iter()
                    .find(|f| f.get("key").and_then(Value::as_str) == Some(key))
            })
            .cloned()
            .ok_or_else(|| {
                ConnectorError::BadGateway(format!(
                    "InvenioRDM did not list {key:?} after its init"
                ))
            })
    }

    /// Step 2: `PUT .../files/{key}/content`, `application/octet-stream` with a
    /// Content-Length, as a transfer (the core's idle watchdog, no overall deadline).
    pub async fn put_content(
        &self,
        creds: &Credentials,
        id: &str,
        key: &str,
        body: UploadBody,
    ) -> Result<Value, ConnectorError> {
        let what = format!("the content of {key:?} in draft {id}");
        let url = format!("{}/content", self.file_url(id, key));
        let resp = retry::send_upload_with(
            &self.http,
            self.policy,
            &what,
            body,
            || {
                let req = self
                    .http
                    .client()
                    .put(&url)
                    .header(CONTENT_TYPE, "application/octet-stream");
                authorized(req, creds, AuthScheme::Bearer)
            },
            |answer, what| error::from_answer(answer, what, creds),
        )
        .await?;
        self.json_of(resp, &what).await
    }

    /// Step 3: `POST .../files/{key}/commit` (200 with `checksum: "md5:..."`, `size`).
    /// Repeatable: a second commit of the same object changes nothing (invenio-records-
    /// resources `FilesManager.commit` sets the same object version again).
    pub async fn commit(
        &self,
        creds: &Credentials,
        id: &str,
        key: &str,
    ) -> Result<Value, ConnectorError> {
        let what = format!("the commit of {key:?} in draft {id}");
        let url = format!("{}/commit", self.file_url(id, key));
        self.call_json(
            creds,
            Method::POST,
            &url,
            None,
            Idempotency::Idempotent,
            &what,
        )
        .await
    }

    pub async fn delete_file(
        &self,
        creds: &Credentials,
        id: &str,
        key: &str,
    ) -> Result<(), ConnectorError> {
        let what = format!("file {key:?} of draft {id}");
        self.call(
            creds,
            Method::DELETE,
            &self.file_url(id, key),
            None,
            Idempotency::Idempotent,
            &what,
        )
        .await?;
        Ok(())
    }
}

impl InvenioApi {
    /// Step 1 of a multipart transfer: `[{"key", "size", "transfer": {"type": "M",
    /// "parts", "part_size"}}]` (invenio-records-resources `transfer/providers/
    /// multipart.py`). An instance that does not offer it answers 403.
    pub async fn init_multipart(
        &self,
        creds: &Credentials,
        id: &str,
        key: &str,
        size: u64,
        parts: u64,
        part_size: u64,
    ) -> Result<Value, ConnectorError> {
        let what = format!("the multipart upload of {key:?} to draft {id}");
        let body = json!([{
            "key": key,
            "size": size,
            "transfer": {"type": "M", "parts": parts, "part_size": part_size},
        }]);
        let v = self
            .call_json(
                creds,
                Method::POST,
                &self.files_url(id),
                Some(&body),
                Idempotency::Once,
                &what,
            )
            .await?;
        v.get("entries")
            .and_then(Value::as_array)
            .and_then(|e| {
                e.iter()
                    .find(|f| f.get("key").and_then(Value::as_str) == Some(key))
            })
            .cloned()
            .ok_or_else(|| {
                ConnectorError::BadGateway(format!(
                    "InvenioRDM did not list {key:?} after its init"
                ))
            })
    }

    /// Whether `url` is on the configured instance (then it gets the token; a storage's
    /// presigned part URL elsewhere does not).
    pub fn is_ours(&self, url: &Url) -> bool {
        url.origin() == self.base.origin()
    }

    /// One part: `PUT <part url>` with its length, retried like an idempotent call (the
    /// part's bytes are on disk or in memory).
    pub async fn put_part(
        &self,
        creds: &Credentials,
        url: &Url,
        what: &str,
        body: UploadBody,
    ) -> Result<(), ConnectorError> {
        let ours = self.is_ours(url);
        let request = || {
            let req = self
                .http
                .client()
                .put(url.clone())
                .header(CONTENT_TYPE, "application/octet-stream");
            if ours {
                authorized(req, creds, AuthScheme::Bearer)
            } else {
                Ok(req)
            }
        };
        retry::send_upload_with(
            &self.http,
            self.policy,
            what,
            body,
            request,
            |answer, what| error::from_answer(answer, what, creds),
        )
        .await?;
        Ok(())
    }

    /// `GET .../draft/files/{key}`: one entry (its checksum once computed).
    pub async fn get_file(
        &self,
        creds: &Credentials,
        id: &str,
        key: &str,
    ) -> Result<Value, ConnectorError> {
        let what = format!("file {key:?} of draft {id}");
        self.call_json(
            creds,
            Method::GET,
            &self.file_url(id, key),
            None,
            Idempotency::Idempotent,
            &what,
        )
        .await
    }

    /// Whether the instance's license vocabulary has `id` (`GET /api/vocabularies/
    /// licenses/{id}`, invenio-vocabularies): 200 yes, 404 no.
    pub async fn license_exists(
        &self,
        creds: &Credentials,
        id: &str,
    ) -> Result<bool, ConnectorError> {
        let url = self.url(&format!("api/vocabularies/licenses/{}", path_segment(id)));
        let what = format!("license {id:?}");
        match self
            .call(
                creds,
                Method::GET,
                &url,
                None,
                Idempotency::Idempotent,
                &what,
            )
            .await
        {
            Ok(_) => Ok(true),
            Err(ConnectorError::NotFound(_)) => Ok(false),
            Err(e) => Err(e),
        }
    }
}
