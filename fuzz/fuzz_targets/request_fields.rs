//! The request-field parser (`routes/params.rs`): a query string and a body, form or
//! JSON, as RDS sends them. Input: one byte choosing the content type, the query, a NUL,
//! the body. Properties beyond "no panic": deterministic; a query or form that
//! `form_urlencoded` (an independent parser) reads with a repeated key is refused, one
//! it reads with distinct UTF-8 keys and values is accepted with exactly those fields;
//! body fields win over query fields; every refusal is a 4xx.
#![no_main]

use std::collections::HashSet;

use connector_core::parse_request_fields;
use libfuzzer_sys::fuzz_target;
use serde_json::{Map, Value};
use url::form_urlencoded;

const CONTENT_TYPES: &[&str] = &[
    "",
    "application/json",
    "application/x-www-form-urlencoded",
    "application/ld+json; charset=utf-8",
    "APPLICATION/X-WWW-FORM-URLENCODED; charset=UTF-8",
    "text/plain",
];

/// The fields `form_urlencoded` reads, when they are distinct and valid UTF-8 (`None`:
/// not a form we must accept); `Err` when a key is repeated.
fn oracle(text: &[u8]) -> Result<Option<Map<String, Value>>, ()> {
    let mut keys = HashSet::new();
    let mut fields = Map::new();
    let mut valid = std::str::from_utf8(text).is_ok();
    for (k, v) in form_urlencoded::parse(text) {
        // Lossy decoding marks bytes that were not UTF-8.
        valid &= !k.contains('\u{FFFD}') && !v.contains('\u{FFFD}');
        if !keys.insert(k.clone().into_owned()) {
            return Err(());
        }
        fields.insert(k.into_owned(), Value::String(v.into_owned()));
    }
    Ok(valid.then_some(fields))
}

fuzz_target!(|data: &[u8]| {
    let Some((&selector, rest)) = data.split_first() else {
        return;
    };
    let content_type = CONTENT_TYPES[selector as usize % CONTENT_TYPES.len()];
    let (query, body) = match rest.iter().position(|&b| b == 0) {
        Some(i) => (&rest[..i], &rest[i + 1..]),
        None => (rest, &[][..]),
    };
    // A query string reaches the handler as text.
    let Ok(query) = std::str::from_utf8(query) else {
        return;
    };
    let got = parse_request_fields(query, content_type, body);
    let again = parse_request_fields(query, content_type, body);
    assert_eq!(
        got.as_ref().map_err(|e| e.to_string()),
        again.as_ref().map_err(|e| e.to_string())
    );
    if let Err(e) = &got {
        assert!(e.status().is_client_error(), "{e:?}");
    }
    let from_query = oracle(query.as_bytes());
    let no_body = body.iter().all(u8::is_ascii_whitespace);
    match (&from_query, &got) {
        (Err(()), Ok(fields)) => panic!("{query:?} repeats a key, accepted as {fields:?}"),
        (Ok(Some(want)), Ok(fields)) if no_body => assert_eq!(fields, want),
        (Ok(Some(_)), Err(e)) if no_body => panic!("{query:?} refused: {e}"),
        _ => {}
    }
    let Ok(fields) = &got else {
        return;
    };
    if no_body {
        return;
    }
    let lower = content_type.to_ascii_lowercase();
    let body_fields = if lower.starts_with("application/x-www-form-urlencoded") {
        match oracle(body) {
            Err(()) => panic!("a form body that repeats a key was accepted: {fields:?}"),
            Ok(f) => f,
        }
    } else {
        // JSON: what serde_json reads (it keeps the last of repeated keys, which we refuse).
        let parsed: Option<Map<String, Value>> = serde_json::from_slice(body).ok();
        assert!(
            parsed.is_some(),
            "an unreadable body was accepted: {fields:?}"
        );
        parsed
    };
    let Some(body_fields) = body_fields else {
        return;
    };
    match &from_query {
        Ok(Some(query_fields)) => {
            let mut want = query_fields.clone();
            want.extend(body_fields);
            assert_eq!(fields, &want);
        }
        _ => {
            for (k, v) in &body_fields {
                assert_eq!(
                    fields.get(k),
                    Some(v),
                    "body field {k:?} lost or overridden"
                );
            }
        }
    }
});
