//! RO-Crate 1.1 (JSON-LD) → Zenodo deposit metadata.
//!
//! The root data entity is found through the metadata descriptor's `about`; `@id`
//! references are resolved against the `@graph`. Keys may be compact (`name`), prefixed
//! (`schema:name`) or full IRIs (`https://schema.org/name`). Only fields present in the
//! crate are produced, so the result can be merged into existing metadata.

use std::collections::HashMap;

use serde_json::{Map, Value};

use super::values::{creator_name, license_id, normalise_date, orcid, text_to_html};

/// A crate's entities by `@id`, and its root.
pub struct Crate<'a> {
    entities: HashMap<&'a str, &'a Map<String, Value>>,
    root: Option<&'a Map<String, Value>>,
}

fn is_descriptor_id(id: &str) -> bool {
    id == "ro-crate-metadata.json"
        || id.ends_with("/ro-crate-metadata.json")
        || id == "ro-crate-metadata.jsonld"
}

/// `schema:name` and `https://schema.org/name` are `name`.
fn short_key(k: &str) -> &str {
    for prefix in ["http://schema.org/", "https://schema.org/", "schema:"] {
        if let Some(rest) = k.strip_prefix(prefix) {
            return rest;
        }
    }
    k
}

/// A property of an entity under any of its spellings.
fn prop<'a>(e: &'a Map<String, Value>, key: &str) -> Option<&'a Value> {
    e.get(key)
        .or_else(|| e.iter().find(|(k, _)| short_key(k) == key).map(|(_, v)| v))
}

/// The values of a property: an array flattened, a single value as one.
fn all(v: Option<&Value>) -> Vec<&Value> {
    match v {
        None | Some(Value::Null) => Vec::new(),
        Some(Value::Array(a)) => a.iter().filter(|x| !x.is_null()).collect(),
        Some(x) => vec![x],
    }
}

fn id_of(e: &Map<String, Value>) -> Option<&str> {
    e.get("@id").and_then(Value::as_str)
}

fn types_of(e: &Map<String, Value>) -> Vec<&str> {
    all(e.get("@type"))
        .into_iter()
        .filter_map(Value::as_str)
        .map(short_key)
        .collect()
}

impl<'a> Crate<'a> {
    /// Reads a crate: a document with `@graph`, or a single JSON-LD entity (the root).
    pub fn new(doc: &'a Map<String, Value>) -> Self {
        let Some(graph) = doc.get("@graph") else {
            return Self {
                entities: HashMap::new(),
                root: Some(doc),
            };
        };
        let list: Vec<&Map<String, Value>> = all(Some(graph))
            .into_iter()
            .filter_map(Value::as_object)
            .collect();
        let entities: HashMap<&str, &Map<String, Value>> = list
            .iter()
            .filter_map(|e| id_of(e).map(|id| (id, *e)))
            .collect();
        let about = list
            .iter()
            .find(|e| id_of(e).is_some_and(is_descriptor_id))
            .and_then(|d| prop(d, "about"))
            .and_then(|a| match a {
                Value::Object(o) => id_of(o),
                Value::String(s) => Some(s.as_str()),
                _ => None,
            });
        let root = about
            .and_then(|id| entities.get(id).copied())
            .or_else(|| entities.get("./").copied())
            .or_else(|| {
                list.iter()
                    .find(|e| types_of(e).contains(&"Dataset"))
                    .copied()
            });
        Self { entities, root }
    }

    pub fn root(&self) -> Option<&'a Map<String, Value>> {
        self.root
    }

    /// The entity behind a value, if it is (or refers to) an object.
    fn entity(&self, v: &'a Value) -> Option<&'a Map<String, Value>> {
        match v {
            Value::Object(o) => match id_of(o).and_then(|id| self.entities.get(id)) {
                Some(e) if o.len() == 1 => Some(e),
                _ => Some(o),
            },
            _ => None,
        }
    }

    /// A value as text: strings, numbers, `{"@value"}`, or a referenced entity's name.
    fn text(&self, v: &'a Value) -> Option<String> {
        let s = match v {
            Value::String(s) => s.clone(),
            Value::Number(n) => n.to_string(),
            Value::Object(_) => match self
                .entity(v)
                .and_then(|e| e.get("@value").or_else(|| prop(e, "name")))
            {
                Some(Value::String(s)) => s.clone(),
                Some(Value::Number(n)) => n.to_string(),
                _ => return None,
            },
            _ => return None,
        };
        let s = s.trim();
        (!s.is_empty()).then(|| s.to_owned())
    }

    fn first_text(&self, e: &'a Map<String, Value>, key: &str) -> Option<String> {
        all(prop(e, key)).into_iter().find_map(|v| self.text(v))
    }

    fn texts(&self, e: &'a Map<String, Value>, key: &str) -> Vec<String> {
        all(prop(e, key))
            .into_iter()
            .filter_map(|v| self.text(v))
            .collect()
    }
}

/// One creator in Zenodo's shape.
fn creator(c: &Crate<'_>, v: &Value) -> Option<Value> {
    let Some(e) = c.entity(v) else {
        return c.text(v).map(|name| serde_json::json!({ "name": name }));
    };
    let name = creator_name(
        c.first_text(e, "familyName").as_deref(),
        c.first_text(e, "givenName").as_deref(),
        c.first_text(e, "name").as_deref(),
    )?;
    let mut out = Map::new();
    out.insert("name".into(), Value::String(name));
    let affiliations: Vec<String> = all(prop(e, "affiliation"))
        .into_iter()
        .filter_map(|a| c.text(a))
        .collect();
    if !affiliations.is_empty() {
        out.insert("affiliation".into(), Value::String(affiliations.join("; ")));
    }
    let ids = id_of(e).map(str::to_owned).into_iter().chain(
        all(prop(e, "identifier"))
            .into_iter()
            .filter_map(|i| match c.entity(i) {
                Some(pv) => c
                    .first_text(pv, "value")
                    .or_else(|| id_of(pv).map(str::to_owned)),
                None => c.text(i),
            }),
    );
    if let Some(o) = ids.into_iter().find_map(|i| orcid(&i)) {
        out.insert("orcid".into(), Value::String(o));
    }
    Some(Value::Object(out))
}

/// The upload type (and subtype key) from RDS's `zenodocategory`, `additionalType` or a
/// specific `@type`. `None` when nothing hints at one.
fn upload_type(
    c: &Crate<'_>,
    root: &Map<String, Value>,
) -> Option<(String, Option<(String, String)>)> {
    const TYPES: &[&str] = &[
        "publication",
        "poster",
        "presentation",
        "dataset",
        "image",
        "video",
        "software",
        "lesson",
        "physicalobject",
        "other",
    ];
    if let Some(cat) = c.first_text(root, "zenodocategory") {
        let (t, sub) = match cat.split_once('/') {
            Some((t, s)) => (t.trim().to_ascii_lowercase(), Some(s.trim().to_owned())),
            None => (cat.trim().to_ascii_lowercase(), None),
        };
        if TYPES.contains(&t.as_str()) {
            let sub = sub
                .filter(|s| !s.is_empty())
                .map(|s| (format!("{t}_type"), s));
            return Some((t, sub));
        }
    }
    let hints: Vec<String> = c
        .texts(root, "additionalType")
        .into_iter()
        .chain(types_of(root).into_iter().map(str::to_owned))
        .map(|h| short_key(&h).to_owned())
        .collect();
    let pair = |t: &str, k: &str, s: &str| Some((t.to_owned(), Some((k.to_owned(), s.to_owned()))));
    for h in &hints {
        let found = match h.as_str() {
            "SoftwareSourceCode" | "SoftwareApplication" | "ComputationalWorkflow" => {
                Some(("software".into(), None))
            }
            "ScholarlyArticle" | "Article" => pair("publication", "publication_type", "article"),
            "Book" => pair("publication", "publication_type", "book"),
            // zenodo.org's resource types (invenio-rdm-records' vocabulary) call a thesis
            // `publication-dissertation`; `thesis` is refused there.
            "Thesis" => pair("publication", "publication_type", "dissertation"),
            "Report" => pair("publication", "publication_type", "report"),
            "Poster" => Some(("poster".into(), None)),
            "PresentationDigitalDocument" | "Presentation" => Some(("presentation".into(), None)),
            "Photograph" => pair("image", "image_type", "photo"),
            "ImageObject" => pair("image", "image_type", "other"),
            "VideoObject" => Some(("video".into(), None)),
            "Course" | "LearningResource" => Some(("lesson".into(), None)),
            _ => None,
        };
        if found.is_some() {
            return found;
        }
    }
    // The root of an RO-Crate is always a `Dataset`: that says nothing about the upload
    // type, so it is left to the caller's default (or to what the deposition has).
    None
}

/// Maps the crate's root data entity to Zenodo metadata. Only what the crate says is set.
pub fn to_zenodo(doc: &Map<String, Value>) -> Map<String, Value> {
    let c = Crate::new(doc);
    let mut out = Map::new();
    let Some(root) = c.root() else {
        return out;
    };
    let mut put = |k: &str, v: Value| {
        out.insert(k.to_owned(), v);
    };
    if let Some(t) = c
        .first_text(root, "name")
        .or_else(|| c.first_text(root, "headline"))
    {
        put("title", Value::String(t));
    }
    let desc = c.texts(root, "description");
    if !desc.is_empty() {
        put("description", Value::String(text_to_html(&desc.join("\n"))));
    }
    if let Some(d) = all(prop(root, "datePublished"))
        .into_iter()
        .filter_map(|v| c.text(v))
        .find_map(|d| normalise_date(&d))
    {
        put("publication_date", Value::String(d));
    }
    let mut creators: Vec<Value> = Vec::new();
    let mut seen = std::collections::HashSet::new();
    for v in all(prop(root, "author"))
        .into_iter()
        .chain(all(prop(root, "creator")))
    {
        if let Some(cr) = creator(&c, v) {
            // `author` and `creator` often name the same people.
            let name = cr
                .get("name")
                .and_then(Value::as_str)
                .unwrap_or_default()
                .to_owned();
            if seen.insert(name) {
                creators.push(cr);
            }
        }
    }
    if !creators.is_empty() {
        put("creators", Value::Array(creators));
    }
    let keywords: Vec<Value> = all(prop(root, "keywords"))
        .into_iter()
        .filter_map(|v| c.text(v))
        .flat_map(|k| {
            k.split(',')
                .map(|s| s.trim().to_owned())
                .collect::<Vec<_>>()
        })
        .filter(|k| !k.is_empty())
        .map(Value::String)
        .collect();
    if !keywords.is_empty() {
        put("keywords", Value::Array(keywords));
    }
    let license = all(prop(root, "license")).into_iter().find_map(|v| {
        let candidates: Vec<String> = match c.entity(v) {
            Some(e) => c
                .texts(e, "identifier")
                .into_iter()
                .chain(id_of(e).map(str::to_owned))
                .chain(c.first_text(e, "url"))
                .collect(),
            None => c.text(v).into_iter().collect(),
        };
        candidates.iter().find_map(|l| license_id(l))
    });
    if let Some(l) = license {
        put("license", Value::String(l));
    }
    if let Some((t, sub)) = upload_type(&c, root) {
        put("upload_type", Value::String(t));
        if let Some((k, s)) = sub {
            put(&k, Value::String(s));
        }
    }
    if let Some(p) = c.first_text(root, "publisher") {
        put("imprint_publisher", Value::String(p));
    }
    if let Some(a) = c.first_text(root, "conditionsOfAccess") {
        let a = a.to_ascii_lowercase();
        if ["open", "embargoed", "restricted", "closed"].contains(&a.as_str()) {
            put("access_right", Value::String(a));
        }
    }
    if let Some(v) = c.first_text(root, "version") {
        put("version", Value::String(v));
    }
    if let Some(l) = c.first_text(root, "inLanguage") {
        put("language", Value::String(l));
    }
    out
}
