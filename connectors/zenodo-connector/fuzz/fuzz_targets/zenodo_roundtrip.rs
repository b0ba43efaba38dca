//! Zenodo metadata (any JSON object) → RO-Crate → Zenodo metadata: the crate is well
//! formed, the title is kept (trimmed), and a second round changes nothing.
#![no_main]

use libfuzzer_sys::fuzz_target;
use serde_json::{Map, Value};
use zenodo_connector::mapping::{merge, to_ro_crate, to_zenodo};

#[path = "common/mapping.rs"]
mod common;

fuzz_target!(|data: &[u8]| {
    let Ok(Value::Object(md)) = serde_json::from_slice::<Value>(data) else {
        return;
    };
    let crate_doc = to_ro_crate(&md);
    common::check_crate(&crate_doc);
    let back = to_zenodo(&crate_doc);
    let title = md
        .get("title")
        .and_then(Value::as_str)
        .map(str::trim)
        .filter(|t| !t.is_empty());
    assert_eq!(
        back.get("title").and_then(Value::as_str),
        title,
        "title lost: {crate_doc}"
    );
    let again = to_zenodo(&to_ro_crate(&back));
    assert_eq!(again, back, "second round differs");
    // PATCH semantics: the update wins, server keys never stay.
    let merged: Map<String, Value> = merge(md.clone(), back.clone());
    for (k, v) in &back {
        assert_eq!(merged.get(k), Some(v));
    }
    assert!(!merged.contains_key("doi") && !merged.contains_key("prereserve_doi"));
});
