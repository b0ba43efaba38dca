//! Zenodo deposit metadata → an RO-Crate 1.1 shaped JSON-LD document (schema.org terms),
//! for the answers of GET and PATCH. Mapping the result back with
//! [`super::rocrate::to_zenodo`] gives the same values for every mapped field.

use serde_json::{json, Map, Value};

use super::values::{html_to_text, license_url, orcid, split_creator_name};

pub const RO_CRATE_CONTEXT: &str = "https://w3id.org/ro/crate/1.1/context";
pub const RO_CRATE_SPEC: &str = "https://w3id.org/ro/crate/1.1";

fn str_of<'a>(md: &'a Map<String, Value>, k: &str) -> Option<&'a str> {
    md.get(k)
        .and_then(Value::as_str)
        .map(str::trim)
        .filter(|s| !s.is_empty())
}

/// Adds a contextual entity unless one with the same `@id` is there.
fn add_entity(graph: &mut Vec<Value>, entity: Value) {
    let id = entity.get("@id").cloned();
    if !graph.iter().any(|e| e.get("@id") == id.as_ref()) {
        graph.push(entity);
    }
}

fn creator_entity(graph: &mut Vec<Value>, i: usize, c: &Value) -> Option<Value> {
    let name = c
        .get("name")
        .and_then(Value::as_str)
        .map(str::trim)
        .filter(|s| !s.is_empty())?;
    let orcid = c
        .get("orcid")
        .and_then(Value::as_str)
        .and_then(orcid)
        .map(|o| format!("https://orcid.org/{o}"));
    // The ORCID is the person's `@id` (RO-Crate's advice) unless another creator has it.
    let id = match &orcid {
        Some(o)
            if !graph
                .iter()
                .any(|e| e.get("@id").and_then(Value::as_str) == Some(o)) =>
        {
            o.clone()
        }
        _ => format!("#creator-{}", i + 1),
    };
    let mut person = json!({ "@id": id, "@type": "Person", "name": name });
    if let (Some(o), Some(p)) = (&orcid, person.as_object_mut()) {
        p.insert("identifier".into(), Value::String(o.clone()));
    }
    // Only when the parts give back the very name: the round trip must not rewrite it.
    let parts = split_creator_name(name).filter(|(f, g)| format!("{f}, {g}") == name);
    if let (Some((family, given)), Some(p)) = (parts, person.as_object_mut()) {
        p.insert("familyName".into(), Value::String(family));
        p.insert("givenName".into(), Value::String(given));
    }
    if let (Some(aff), Some(p)) = (
        c.get("affiliation")
            .and_then(Value::as_str)
            .map(str::trim)
            .filter(|s| !s.is_empty()),
        person.as_object_mut(),
    ) {
        let org_id = format!("#organization-{}", slug(aff));
        p.insert("affiliation".into(), json!({ "@id": org_id }));
        add_entity(
            graph,
            json!({ "@id": org_id, "@type": "Organization", "name": aff }),
        );
    }
    graph.push(person);
    Some(json!({ "@id": id }))
}

/// A fragment-safe id part.
fn slug(s: &str) -> String {
    let mut out = String::new();
    for ch in s.chars().flat_map(char::to_lowercase) {
        if ch.is_alphanumeric() {
            out.push(ch);
        } else if !out.ends_with('-') {
            out.push('-');
        }
    }
    out.trim_matches('-').to_owned()
}

/// Renders Zenodo metadata (a deposition's `metadata` object) as an RO-Crate.
pub fn to_ro_crate(md: &Map<String, Value>) -> Value {
    let mut graph: Vec<Value> = Vec::new();
    let mut root = Map::new();
    root.insert("@id".into(), json!("./"));
    root.insert("@type".into(), json!("Dataset"));
    let mut put = |k: &str, v: Value| {
        root.insert(k.to_owned(), v);
    };
    if let Some(t) = str_of(md, "title") {
        put("name", json!(t));
    }
    if let Some(d) = str_of(md, "description") {
        put("description", json!(html_to_text(d)));
    }
    if let Some(d) = str_of(md, "publication_date") {
        put("datePublished", json!(d));
    }
    if let Some(upload_type) = str_of(md, "upload_type") {
        let sub = str_of(md, &format!("{upload_type}_type"));
        let cat = match sub {
            Some(s) => format!("{upload_type}/{s}"),
            None => upload_type.to_owned(),
        };
        put("zenodocategory", json!(cat));
    }
    if let Some(a) = str_of(md, "access_right") {
        put("conditionsOfAccess", json!(a));
    }
    if let Some(v) = str_of(md, "version") {
        put("version", json!(v));
    }
    if let Some(l) = str_of(md, "language") {
        put("inLanguage", json!(l));
    }
    if let Some(kw) = md.get("keywords").and_then(Value::as_array) {
        let kw: Vec<&Value> = kw.iter().filter(|k| k.is_string()).collect();
        if !kw.is_empty() {
            put("keywords", json!(kw));
        }
    }
    let doi = md
        .get("doi")
        .and_then(Value::as_str)
        .or_else(|| {
            md.get("prereserve_doi")
                .and_then(|p| p.get("doi"))
                .and_then(Value::as_str)
        })
        .filter(|d| !d.is_empty());
    if let Some(doi) = doi {
        put("identifier", json!(format!("https://doi.org/{doi}")));
    }
    let mut extra: Vec<Value> = Vec::new();
    if let Some(l) = str_of(md, "license") {
        match license_url(l) {
            Some(url) => {
                put("license", json!({ "@id": url }));
                extra.push(json!({ "@id": url, "@type": "CreativeWork", "identifier": l, "name": l.to_ascii_uppercase() }));
            }
            None => put("license", json!(l)),
        }
    }
    if let Some(p) = str_of(md, "imprint_publisher") {
        let id = format!("#organization-{}", slug(p));
        put("publisher", json!({ "@id": id }));
        extra.push(json!({ "@id": id, "@type": "Organization", "name": p }));
    }
    if let Some(creators) = md.get("creators").and_then(Value::as_array) {
        let refs: Vec<Value> = creators
            .iter()
            .enumerate()
            .filter_map(|(i, c)| creator_entity(&mut extra, i, c))
            .collect();
        if !refs.is_empty() {
            root.insert("author".into(), Value::Array(refs));
        }
    }
    graph.push(json!({
        "@id": "ro-crate-metadata.json",
        "@type": "CreativeWork",
        "conformsTo": { "@id": RO_CRATE_SPEC },
        "about": { "@id": "./" },
    }));
    graph.push(Value::Object(root));
    for e in extra {
        add_entity(&mut graph, e);
    }
    json!({ "@context": RO_CRATE_CONTEXT, "@graph": graph })
}
