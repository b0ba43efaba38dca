//! Metadata mapping between RO-Crate 1.1 / schema.org JSON-LD and Zenodo's deposit
//! metadata. Pure functions: no I/O, and no panic on any JSON input (this is fuzzed).
//!
//! | RO-Crate root (schema.org)            | Zenodo                               |
//! |---------------------------------------|--------------------------------------|
//! | `name`                                | `title`                              |
//! | `description` (newlines)              | `description` (`<br>`)               |
//! | `datePublished` (`2017`, timestamps)  | `publication_date` (`YYYY-MM-DD`)    |
//! | `author` / `creator` Person           | `creators[] {name: "Family, Given", affiliation, orcid}` |
//! | `keywords` (array or comma text)      | `keywords[]`                         |
//! | `license` (CC URL, SPDX id or URL)    | `license` (`cc-by-4.0`, `mit`, ...)  |
//! | `zenodocategory` / `additionalType` / `@type` | `upload_type` (+ `*_type`)   |
//! | `publisher`                           | `imprint_publisher`                  |
//! | `conditionsOfAccess`                  | `access_right`                       |
//! | `version`, `inLanguage`               | `version`, `language`                |
//!
//! A JSON object without `@graph`, `@context`, `@type` or `@id` is taken as Zenodo's own
//! metadata and passed through unchanged.

mod jsonld;
mod rocrate;
mod values;

#[cfg(test)]
mod tests;

use serde_json::{json, Map, Value};

pub use jsonld::to_ro_crate;
pub use values::{normalise_date, today};

/// Keys the server manages; never sent back in an update.
const SERVER_KEYS: &[&str] = &["prereserve_doi", "doi"];

/// Is this JSON-LD (a crate or a single entity) rather than Zenodo's own metadata?
pub fn is_json_ld(v: &Map<String, Value>) -> bool {
    ["@graph", "@context", "@type", "@id"]
        .iter()
        .any(|k| v.contains_key(*k))
}

/// The caller's metadata (RO-Crate, single JSON-LD entity, or Zenodo-native) as Zenodo
/// metadata. Non-objects give an empty map.
/// Refuses documents that claim to be an RO-Crate but cannot be read as one, so the
/// caller learns of the mistake instead of getting a deposit with default metadata.
pub fn check_shape(input: &Value) -> Result<(), String> {
    match input.get("@graph") {
        None | Some(Value::Array(_)) => Ok(()),
        Some(_) => Err("metadata.@graph must be an array of entities (RO-Crate 1.1)".into()),
    }
}

pub fn to_zenodo(input: &Value) -> Map<String, Value> {
    match input {
        Value::Object(o) if is_json_ld(o) => rocrate::to_zenodo(o),
        Value::Object(o) => {
            let mut o = o.clone();
            for k in SERVER_KEYS {
                o.remove(*k);
            }
            o
        }
        _ => Map::new(),
    }
}

/// Fills what Zenodo needs to accept and later publish a deposition, without touching
/// what is set: title, description, a creator (the user), publication date,
/// upload type `dataset` and access right `open`.
pub fn with_defaults(
    mut md: Map<String, Value>,
    username: Option<&str>,
    today: &str,
) -> Map<String, Value> {
    let empty = |v: Option<&Value>| match v {
        None | Some(Value::Null) => true,
        Some(Value::String(s)) => s.trim().is_empty(),
        Some(Value::Array(a)) => a.is_empty(),
        Some(_) => false,
    };
    let user = username
        .map(|u| u.split('@').next().unwrap_or(u).trim())
        .filter(|u| !u.is_empty())
        .unwrap_or("Sciebo RDS user");
    let defaults = [
        ("title", json!(format!("Upload from Sciebo RDS, {today}"))),
        (
            "description",
            json!(format!("Uploaded from Sciebo RDS on {today}.")),
        ),
        ("creators", json!([{ "name": user }])),
        ("publication_date", json!(today)),
        ("upload_type", json!("dataset")),
        ("access_right", json!("open")),
    ];
    for (k, v) in defaults {
        if empty(md.get(k)) {
            md.insert(k.to_owned(), v);
        }
    }
    md
}

/// PATCH semantics: the update's keys replace the existing ones, the rest is kept.
/// Server-managed keys are dropped (Zenodo's update replaces the whole object).
pub fn merge(mut existing: Map<String, Value>, update: Map<String, Value>) -> Map<String, Value> {
    for (k, v) in update {
        existing.insert(k, v);
    }
    for k in SERVER_KEYS {
        existing.remove(*k);
    }
    existing
}
