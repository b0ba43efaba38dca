//! The OpenAPI documents in `specs/` and the routes the core mounts must agree both ways.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::collections::BTreeSet;
use std::path::Path;

mod samples;

fn spec_routes(file: &str) -> BTreeSet<(String, String)> {
    let path = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../../specs")
        .join(file);
    let text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    let doc: serde_json::Value = serde_norway::from_str(&text).unwrap();
    let mut routes = BTreeSet::new();
    for (path, item) in doc["paths"].as_object().unwrap() {
        for method in ["get", "put", "post", "delete", "patch", "head", "options"] {
            if item.get(method).is_some() {
                routes.insert((method.to_uppercase(), path.clone()));
            }
        }
    }
    routes
}

fn assert_same(spec_file: &str, mounted: Vec<(String, String)>) {
    let spec = spec_routes(spec_file);
    let mounted: BTreeSet<_> = mounted.into_iter().collect();
    let missing_in_spec: Vec<_> = mounted.difference(&spec).collect();
    let not_mounted: Vec<_> = spec.difference(&mounted).collect();
    assert!(
        missing_in_spec.is_empty(),
        "{spec_file} lacks mounted routes: {missing_in_spec:?}"
    );
    assert!(
        not_mounted.is_empty(),
        "{spec_file} documents routes that are not mounted: {not_mounted:?}"
    );
}

#[test]
fn file_storage_spec_matches_routes() {
    assert_same(
        "file-storage.openapi.yaml",
        connector_core::mounted_routes(true, false),
    );
}

#[test]
fn metadata_spec_matches_routes() {
    assert_same(
        "metadata.openapi.yaml",
        connector_core::mounted_routes(false, true),
    );
}

#[test]
fn registration_schema_describes_the_payloads() {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../specs/registration.schema.json");
    let schema: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap();
    let required = schema["required"].as_array().unwrap();
    for p in samples::payloads().unwrap() {
        for key in p.as_object().unwrap().keys() {
            assert!(
                schema["properties"].get(key).is_some(),
                "schema lacks {key}"
            );
        }
        for key in required {
            assert!(
                p.get(key.as_str().unwrap()).is_some(),
                "payload lacks {key}"
            );
        }
    }
}
