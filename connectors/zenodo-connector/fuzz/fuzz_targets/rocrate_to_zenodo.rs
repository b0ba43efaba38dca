//! RO-Crate (or any JSON) → Zenodo metadata → RO-Crate → Zenodo metadata.
//! For JSON-LD input: the Zenodo side holds only well-formed mapped fields, and the
//! round trip gives the same values for every mapped field (jsonld.rs promises it).
#![no_main]

use libfuzzer_sys::fuzz_target;
use serde_json::{Map, Value};
use zenodo_connector::mapping::{
    is_json_ld, normalise_date, to_ro_crate, to_zenodo, with_defaults,
};

#[path = "common/mapping.rs"]
mod common;

fuzz_target!(|data: &[u8]| {
    let Ok(input) = serde_json::from_slice::<Value>(data) else {
        return;
    };
    let md = to_zenodo(&input);
    assert!(!md.contains_key("doi") && !md.contains_key("prereserve_doi"));
    let json_ld = input.as_object().is_some_and(is_json_ld);
    if json_ld {
        well_formed(&md);
        let crate_doc = to_ro_crate(&md);
        common::check_crate(&crate_doc);
        let back = to_zenodo(&crate_doc);
        assert_eq!(
            common::canonical_names(back),
            common::canonical_names(md.clone()),
            "round trip changed mapped fields; crate: {crate_doc}"
        );
    }
    let filled = with_defaults(md, Some("alice@uni.example"), "2026-01-02");
    for k in [
        "title",
        "description",
        "creators",
        "publication_date",
        "upload_type",
        "access_right",
    ] {
        assert!(filled.contains_key(k), "with_defaults left {k} out");
    }
});

/// Zenodo metadata made from JSON-LD: trimmed non-empty strings, valid dates and
/// vocabularies, creators with names.
fn well_formed(md: &Map<String, Value>) {
    for (k, v) in md {
        match (k.as_str(), v) {
            ("creators", Value::Array(cs)) => {
                assert!(!cs.is_empty());
                for c in cs {
                    let name = c.get("name").and_then(Value::as_str).unwrap_or_default();
                    assert!(!name.trim().is_empty(), "creator without a name: {c}");
                }
            }
            ("keywords", Value::Array(ks)) => {
                assert!(ks
                    .iter()
                    .all(|k| k.as_str().is_some_and(|s| !s.is_empty() && s.trim() == s)));
            }
            ("publication_date", Value::String(d)) => {
                assert_eq!(normalise_date(d).as_deref(), Some(d.as_str()));
            }
            ("access_right", Value::String(a)) => {
                assert!(["open", "embargoed", "restricted", "closed"].contains(&a.as_str()));
            }
            ("title" | "version" | "language" | "imprint_publisher", Value::String(s)) => {
                assert!(!s.is_empty() && s.trim() == s, "{k}: {s:?}");
            }
            (_, Value::String(_)) => {}
            _ => panic!("unexpected {k}: {v}"),
        }
    }
}
