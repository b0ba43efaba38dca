//! Request fields as RDS sends them: a JSON body, even on GET and DELETE (Python's
//! `requests.get(url, json=...)`), with query parameters as an alternative. Body fields
//! win over query fields of the same name.

use std::collections::HashSet;
use std::time::Duration;

use actix_web::http::header::CONTENT_TYPE;
use actix_web::{web, HttpRequest};
use futures_util::StreamExt;
use serde_json::{Map, Value};

use crate::error::ConnectorError;

/// The fields of one request.
#[derive(Debug, Default)]
pub(crate) struct Params(Map<String, Value>);

impl Params {
    /// Reads the query and the body, at most `limit` bytes of it, within the body
    /// deadline (`REQUEST_BODY_TIMEOUT_SECS`): a body shorter than its Content-Length,
    /// or a chunked body that never ends, must not hold the request for as long as the
    /// socket lives.
    pub(crate) async fn read(
        req: &HttpRequest,
        mut payload: web::Payload,
        limit: usize,
    ) -> Result<Self, ConnectorError> {
        let deadline = BodyDeadline::start(super::state(req)?.request_body_timeout);
        let mut body = web::BytesMut::new();
        while let Some(chunk) = deadline.wait(payload.next()).await? {
            let chunk = chunk.map_err(|e| {
                ConnectorError::BadRequest(format!("cannot read the request body: {e}"))
            })?;
            if body.len() + chunk.len() > limit {
                return Err(ConnectorError::PayloadTooLarge(format!(
                    "the request body is larger than {limit} bytes"
                )));
            }
            body.extend_from_slice(&chunk);
        }
        let content_type = req
            .headers()
            .get(CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .unwrap_or("");
        parse(req.query_string(), content_type, &body).map(Self)
    }

    /// A text field; numbers are accepted as their decimal text.
    pub(crate) fn string(&self, name: &str) -> Result<Option<String>, ConnectorError> {
        match self.0.get(name) {
            None | Some(Value::Null) => Ok(None),
            Some(Value::String(s)) => Ok(Some(s.clone())),
            Some(Value::Number(n)) => Ok(Some(n.to_string())),
            Some(_) => Err(ConnectorError::BadRequest(format!(
                "{name} must be a string"
            ))),
        }
    }

    pub(crate) fn required_string(&self, name: &str) -> Result<String, ConnectorError> {
        self.string(name)?
            .ok_or_else(|| ConnectorError::BadRequest(format!("{name} is required")))
    }

    /// A boolean field: JSON `true/false`, or the text `true/false/1/0` from a query.
    pub(crate) fn bool_or(&self, name: &str, default: bool) -> Result<bool, ConnectorError> {
        match self.0.get(name) {
            None | Some(Value::Null) => Ok(default),
            Some(Value::Bool(b)) => Ok(*b),
            Some(Value::String(s)) => match s.to_ascii_lowercase().as_str() {
                "true" | "1" | "yes" => Ok(true),
                "false" | "0" | "no" => Ok(false),
                _ => Err(ConnectorError::BadRequest(format!(
                    "{name} must be true or false"
                ))),
            },
            Some(_) => Err(ConnectorError::BadRequest(format!(
                "{name} must be true or false"
            ))),
        }
    }

    /// A JSON value as sent (for `metadata`).
    pub(crate) fn value(&self, name: &str) -> Option<Value> {
        self.0.get(name).cloned()
    }
}

/// A JSON object whose top-level keys are unique: with a key given twice, which one
/// would win is a guess (and a way to smuggle a second userId past a proxy).
struct UniqueFields(Map<String, Value>);

impl<'de> serde::Deserialize<'de> for UniqueFields {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct Visitor;
        impl<'de> serde::de::Visitor<'de> for Visitor {
            type Value = UniqueFields;

            fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
                f.write_str("a JSON object such as {\"userId\": \"...\"}")
            }

            fn visit_map<A: serde::de::MapAccess<'de>>(
                self,
                mut access: A,
            ) -> Result<UniqueFields, A::Error> {
                let mut map = Map::new();
                while let Some((key, value)) = access.next_entry::<String, Value>()? {
                    if map.contains_key(&key) {
                        return Err(serde::de::Error::custom(format!(
                            "the field {key} is given more than once"
                        )));
                    }
                    map.insert(key, value);
                }
                Ok(UniqueFields(map))
            }
        }
        d.deserialize_map(Visitor)
    }
}

/// The deadline for the whole of a small body, counted from its first read.
#[derive(Clone, Copy)]
pub(crate) struct BodyDeadline {
    at: tokio::time::Instant,
    timeout: Duration,
}

impl BodyDeadline {
    pub(crate) fn start(timeout: Duration) -> Self {
        Self {
            at: tokio::time::Instant::now() + timeout,
            timeout,
        }
    }

    /// `next` (the next chunk or field), or 408 once the deadline has passed.
    pub(crate) async fn wait<T>(
        &self,
        next: impl std::future::Future<Output = T>,
    ) -> Result<T, ConnectorError> {
        tokio::time::timeout_at(self.at, next).await.map_err(|_| {
            ConnectorError::RequestTimeout(format!(
                "the request body did not arrive within {} s (REQUEST_BODY_TIMEOUT_SECS)",
                self.timeout.as_secs_f64()
            ))
        })
    }
}

/// The fields of a query string and a body of the given content type; body fields win.
pub(crate) fn parse(
    query: &str,
    content_type: &str,
    body: &[u8],
) -> Result<Map<String, Value>, ConnectorError> {
    let mut fields: Map<String, Value> = parse_query(query)?
        .into_iter()
        .map(|(k, v)| (k, Value::String(v)))
        .collect();
    if body.iter().all(u8::is_ascii_whitespace) {
        return Ok(fields);
    }
    let content_type = content_type.to_ascii_lowercase();
    let body_fields: Map<String, Value> = if content_type
        .starts_with("application/x-www-form-urlencoded")
    {
        let text = std::str::from_utf8(body)
            .map_err(|_| ConnectorError::BadRequest("the form body is not valid UTF-8".into()))?;
        parse_query(text)?
            .into_iter()
            .map(|(k, v)| (k, Value::String(v)))
            .collect()
    } else if content_type.is_empty()
        || content_type.starts_with("application/json")
        || content_type.contains("+json")
    {
        match serde_json::from_slice::<UniqueFields>(body) {
            Ok(UniqueFields(map)) => map,
            // A well-formed body of the wrong shape, or a repeated field.
            Err(e) if e.is_data() => return Err(ConnectorError::BadRequest(e.to_string())),
            Err(e) => {
                return Err(ConnectorError::BadRequest(format!(
                    "the body is not valid JSON: {e}"
                )))
            }
        }
    } else {
        return Err(ConnectorError::UnsupportedMediaType(format!(
            "send the fields as application/json (or as query parameters), not {content_type}"
        )));
    };
    fields.extend(body_fields);
    Ok(fields)
}

/// Parses a query string, refusing a field given twice (which one would win is a guess)
/// and bytes that are not UTF-8 once decoded. Linear in the number of fields: a form of
/// 100,000 keys is a caller's to send, not a worker's to compare pairwise.
fn parse_query(q: &str) -> Result<Vec<(String, String)>, ConnectorError> {
    if percent_encoding::percent_decode_str(q)
        .decode_utf8()
        .is_err()
    {
        return Err(ConnectorError::BadRequest(
            "the query string holds percent-encoded bytes that are not UTF-8".into(),
        ));
    }
    let pairs: Vec<(String, String)> = serde_urlencoded::from_str(q)
        .map_err(|e| ConnectorError::BadRequest(format!("the query string is malformed: {e}")))?;
    let mut seen = HashSet::with_capacity(pairs.len());
    if let Some((k, _)) = pairs.iter().find(|(k, _)| !seen.insert(k.as_str())) {
        return Err(ConnectorError::BadRequest(format!(
            "the field {k} is given more than once"
        )));
    }
    Ok(pairs)
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    #[test]
    fn repeated_fields_are_refused() {
        for q in ["a=1&b=2&a=3", "userId=x&userId=y"] {
            let err = parse(q, "", b"").map(|_| ()).unwrap_err();
            assert_eq!(err.status().as_u16(), 400, "{q}");
            assert!(err.to_string().contains("more than once"), "{q}: {err}");
        }
        let form = parse("", "application/x-www-form-urlencoded", b"k=1&k=2");
        assert!(form.is_err());
        assert!(parse("", "application/json", br#"{"k":1,"k":2}"#).is_err());
        // Body fields win over query fields of the same name.
        let fields = parse("k=q&j=1", "application/json", br#"{"k":"b"}"#).unwrap();
        assert_eq!(fields.get("k"), Some(&Value::String("b".into())));
        assert_eq!(fields.get("j"), Some(&Value::String("1".into())));
    }
}
