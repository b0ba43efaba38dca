//! Shape checks shared by the mapper targets.
#![allow(dead_code)] // each target uses part of it

use serde_json::{Map, Value};

/// An RO-Crate 1.1 document: the context, a graph whose first entity is the metadata
/// descriptor about `./`, the root `./` next, and unique `@id`s.
pub fn check_crate(doc: &Value) {
    assert_eq!(doc["@context"], "https://w3id.org/ro/crate/1.1/context");
    let graph = doc["@graph"]
        .as_array()
        .map(Vec::as_slice)
        .unwrap_or_default();
    assert!(graph.len() >= 2, "{doc}");
    assert_eq!(graph[0]["about"]["@id"], "./");
    assert_eq!(graph[1]["@id"], "./");
    let mut ids: Vec<&str> = graph.iter().filter_map(|e| e["@id"].as_str()).collect();
    assert_eq!(ids.len(), graph.len(), "entity without @id: {doc}");
    ids.sort_unstable();
    let n = ids.len();
    ids.dedup();
    assert_eq!(ids.len(), n, "duplicate @id: {doc}");
    // What we answer is valid JSON that reads back the same.
    let text = doc.to_string();
    assert_eq!(
        serde_json::from_str::<Value>(&text).ok().as_ref(),
        Some(doc)
    );
}

/// Creator names with the spaces around a single comma made canonical (`Family, Given`):
/// the round trip rewrites `Müller ,Anna` as `Müller, Anna` (reported; cosmetic).
pub fn canonical_names(mut md: Map<String, Value>) -> Map<String, Value> {
    if let Some(Value::Array(creators)) = md.get_mut("creators") {
        for c in creators {
            let Some(Value::String(name)) = c.get_mut("name") else {
                continue;
            };
            if let Some((f, g)) = name.split_once(',') {
                if !g.contains(',') && !f.trim().is_empty() && !g.trim().is_empty() {
                    *name = format!("{}, {}", f.trim(), g.trim());
                }
            }
        }
    }
    md
}
