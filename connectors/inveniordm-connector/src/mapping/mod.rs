//! Metadata mapping between RO-Crate 1.1 / schema.org JSON-LD and InvenioRDM's record
//! metadata (invenio-rdm-records `services/schemas/metadata.py`). Pure functions: no I/O,
//! no panic on any JSON input.
//!
//! | RO-Crate root (schema.org)               | InvenioRDM `metadata`                          |
//! |------------------------------------------|------------------------------------------------|
//! | `name`                                   | `title`                                        |
//! | `description` (text)                     | `description` (HTML, escaped, `<br>`)          |
//! | `datePublished`                          | `publication_date` (EDTF `YYYY[-MM[-DD]]`)     |
//! | `author` / `creator` Person              | `creators[].person_or_org` personal: `family_name`, `given_name` (from `familyName`/`givenName`, else the name split, else the name as written), ORCID `@id`/`identifier` → `identifiers [{scheme: orcid}]` |
//! | `author` Organization                    | `creators[].person_or_org` organizational `name` |
//! | `affiliation`                            | `creators[].affiliations [{name}]` (deduplicated) |
//! | `keywords` (array or comma text)         | `subjects [{subject}]`                         |
//! | `license` (SPDX id/URL, CC URL, entity)  | `rights [{id}]` (lower-case SPDX id), else free `{title, link}` |
//! | `additionalType` / `@type`               | `resource_type {id}`                           |
//! | `publisher`, `version`                   | `publisher`, `version`                         |
//! | `inLanguage` (`en`, `eng`)               | `languages [{id}]` (ISO 639-3)                 |
//!
//! A JSON object without `@graph`, `@context`, `@type` or `@id` is taken as InvenioRDM's
//! own metadata and passed through.

mod jsonld;
mod rocrate;
mod values;

#[cfg(test)]
mod tests;

use serde_json::{json, Map, Value};

pub use jsonld::to_ro_crate;
pub use values::{license_url, to_edtf, today};

/// Is this JSON-LD (a crate or a single entity) rather than InvenioRDM's own metadata?
pub fn is_json_ld(v: &Map<String, Value>) -> bool {
    ["@graph", "@context", "@type", "@id"]
        .iter()
        .any(|k| v.contains_key(*k))
}

/// Refuses documents that claim to be an RO-Crate but cannot be read as one.
pub fn check_shape(input: &Value) -> Result<(), String> {
    match input {
        Value::Null | Value::Object(_) => match input.get("@graph") {
            None | Some(Value::Array(_)) => Ok(()),
            Some(_) => Err("metadata.@graph must be an array of entities (RO-Crate 1.1)".into()),
        },
        _ => Err("metadata must be an RO-Crate (a JSON object) or null".into()),
    }
}

/// The caller's metadata (RO-Crate, one JSON-LD entity, or InvenioRDM-native) as
/// InvenioRDM metadata; non-objects give an empty map.
pub fn to_invenio(input: &Value) -> Map<String, Value> {
    match input {
        Value::Object(o) if is_json_ld(o) => rocrate::to_invenio(o),
        Value::Object(o) => o.clone(),
        _ => Map::new(),
    }
}

/// Fills what a draft needs to be published, without touching what is set: a title, a
/// creator (the user, as written), today's publication date, resource type `dataset`.
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
            "creators",
            json!([{ "person_or_org": {"type": "personal", "family_name": user} }]),
        ),
        ("publication_date", json!(today)),
        ("resource_type", json!({"id": "dataset"})),
    ];
    for (k, v) in defaults {
        if empty(md.get(k)) {
            md.insert(k.to_owned(), v);
        }
    }
    md
}

/// A vocabulary entry as sent back: only its `id` (answers expand `title`, `props`, ...).
fn id_only(v: &Value) -> Value {
    match v.get("id") {
        Some(id) => json!({ "id": id }),
        None => v.clone(),
    }
}

/// PATCH semantics on a draft's metadata: the update's keys replace the existing ones,
/// the rest is kept. Vocabulary entries the answers expanded are sent back as ids.
pub fn merge(mut existing: Map<String, Value>, update: Map<String, Value>) -> Map<String, Value> {
    for (k, v) in update {
        existing.insert(k, v);
    }
    if let Some(rt) = existing.get_mut("resource_type") {
        *rt = id_only(rt);
    }
    for k in ["languages", "rights", "subjects"] {
        if let Some(Value::Array(items)) = existing.get_mut(k) {
            for item in items.iter_mut() {
                *item = id_only(item);
            }
        }
    }
    existing
}
