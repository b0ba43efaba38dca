//! An RO-Crate 1.1 (schema.org JSON-LD) document → InvenioRDM metadata. Total: any JSON
//! gives a result, never a panic (fuzzed, and the round trip is a property test).

use std::collections::HashMap;

use serde_json::{json, Map, Value};

use super::values::{
    is_resource_type_id, language_id, license_id, orcid, resource_type_of_schema_type, split_name,
    text_to_html, to_edtf,
};

/// The most entities of a crate looked at, and of values of one property: bounds the work
/// a hostile document can cause (lookups are linear).
const MAX_ENTITIES: usize = 10_000;
const MAX_VALUES: usize = 1_000;
/// How many references (or `@value` nestings) one text may follow.
const MAX_TEXT_HOPS: usize = 4;

pub struct Crate<'a> {
    /// Entities by `@id` (the first of each id), so a reference costs one lookup.
    by_id: HashMap<&'a str, &'a Map<String, Value>>,
    root: Option<&'a Map<String, Value>>,
}

fn id_of(e: &Map<String, Value>) -> Option<&str> {
    e.get("@id").and_then(Value::as_str)
}

fn types_of(e: &Map<String, Value>) -> Vec<&str> {
    match e.get("@type") {
        Some(Value::String(s)) => vec![s.as_str()],
        Some(Value::Array(a)) => a
            .iter()
            .filter_map(Value::as_str)
            .take(MAX_VALUES)
            .collect(),
        _ => Vec::new(),
    }
}

/// A property by its schema.org name, also as a full IRI.
fn prop<'a>(e: &'a Map<String, Value>, key: &str) -> Option<&'a Value> {
    e.get(key)
        .or_else(|| e.get(&format!("http://schema.org/{key}")))
        .or_else(|| e.get(&format!("https://schema.org/{key}")))
        .or_else(|| e.get(&format!("schema:{key}")))
}

fn all(v: Option<&Value>) -> Vec<&Value> {
    match v {
        None | Some(Value::Null) => Vec::new(),
        Some(Value::Array(a)) => a.iter().take(MAX_VALUES).collect(),
        Some(other) => vec![other],
    }
}

impl<'a> Crate<'a> {
    pub fn new(doc: &'a Map<String, Value>) -> Self {
        let Some(Value::Array(graph)) = doc.get("@graph") else {
            // A single entity is its own root.
            return Self {
                by_id: HashMap::new(),
                root: Some(doc),
            };
        };
        let graph: Vec<&Map<String, Value>> = graph
            .iter()
            .take(MAX_ENTITIES)
            .filter_map(Value::as_object)
            .collect();
        // The metadata descriptor's `about` names the root; else `./`.
        let about = graph
            .iter()
            .find(|e| id_of(e).is_some_and(|i| i.ends_with("ro-crate-metadata.json")))
            .and_then(|d| prop(d, "about"))
            .and_then(|a| a.get("@id"))
            .and_then(Value::as_str)
            .unwrap_or("./");
        let root = graph
            .iter()
            .find(|e| id_of(e) == Some(about))
            .or_else(|| graph.iter().find(|e| id_of(e) == Some("./")))
            .copied();
        let mut by_id = HashMap::new();
        for e in &graph {
            if let Some(id) = id_of(e) {
                by_id.entry(id).or_insert(*e);
            }
        }
        Self { by_id, root }
    }

    /// A value as an entity: a reference `{"@id"}` is looked up, an inline object is itself.
    fn entity(&self, v: &'a Value) -> Option<&'a Map<String, Value>> {
        let o = v.as_object()?;
        if o.len() == 1 {
            if let Some(id) = id_of(o) {
                return self.by_id.get(id).copied().or(Some(o));
            }
        }
        Some(o)
    }

    /// A value as text: a string, a number, `{"@value"}`, or an entity's `name`.
    fn text(&self, v: &'a Value) -> Option<String> {
        self.text_within(v, MAX_TEXT_HOPS)
    }

    /// [`Self::text`] following at most `hops` references or nestings: an entity whose
    /// name refers to itself must not recurse for ever (found by the stability test).
    fn text_within(&self, v: &'a Value, hops: usize) -> Option<String> {
        let hops = hops.checked_sub(1)?;
        let s = match v {
            Value::String(s) => s.clone(),
            Value::Number(n) => n.to_string(),
            Value::Object(o) if o.contains_key("@value") => self.text_within(&o["@value"], hops)?,
            Value::Object(_) => {
                let e = self.entity(v)?;
                self.text_within(prop(e, "name")?, hops)?
            }
            _ => return None,
        };
        let s = s.trim();
        (!s.is_empty()).then(|| s.to_owned())
    }

    fn first_text(&self, e: &'a Map<String, Value>, key: &str) -> Option<String> {
        all(prop(e, key)).into_iter().find_map(|v| self.text(v))
    }
}

fn creator(c: &Crate<'_>, v: &Value) -> Option<Value> {
    if let Value::String(s) = v {
        let s = s.trim();
        return (!s.is_empty()).then(|| person(None, None, s, Vec::new(), Vec::new()));
    }
    let e = c.entity(v)?;
    let name = c.first_text(e, "name");
    let mut affiliations: Vec<Value> = Vec::new();
    for a in all(prop(e, "affiliation")) {
        if let Some(n) = c.text(a) {
            if !affiliations.iter().any(|x| x["name"] == n.as_str()) {
                affiliations.push(json!({ "name": n }));
            }
        }
    }
    if types_of(e).contains(&"Organization") {
        let name = name?;
        let mut creator = json!({"person_or_org": {"type": "organizational", "name": name}});
        if !affiliations.is_empty() {
            creator["affiliations"] = Value::Array(affiliations);
        }
        return Some(creator);
    }
    let ids: Vec<String> = id_of(e)
        .into_iter()
        .chain(
            all(prop(e, "identifier"))
                .into_iter()
                .filter_map(|i| i.as_str().or_else(|| i.get("@id").and_then(Value::as_str))),
        )
        .filter_map(orcid)
        .take(1)
        .collect();
    let family = c.first_text(e, "familyName");
    let given = c.first_text(e, "givenName");
    let shown = name.or_else(|| family.clone())?;
    Some(person(family, given, &shown, ids, affiliations))
}

/// A personal creator: the family and given names as the crate splits them, else the
/// name split sensibly, else the whole name as the family name (kept as written).
fn person(
    family: Option<String>,
    given: Option<String>,
    name: &str,
    orcids: Vec<String>,
    affiliations: Vec<Value>,
) -> Value {
    let (family, given) = match (family, given) {
        (Some(f), g) => (f, g),
        (None, _) => match split_name(name) {
            Some((f, g)) => (f, Some(g)),
            None => (name.to_owned(), None),
        },
    };
    let mut p = json!({"type": "personal", "family_name": family});
    if let Some(g) = given {
        p["given_name"] = json!(g);
    }
    if !orcids.is_empty() {
        p["identifiers"] = orcids
            .into_iter()
            .map(|o| json!({"scheme": "orcid", "identifier": o}))
            .collect();
    }
    let mut c = json!({ "person_or_org": p });
    if !affiliations.is_empty() {
        c["affiliations"] = Value::Array(affiliations);
    }
    c
}

fn rights(c: &Crate<'_>, v: &Value) -> Option<Value> {
    if let Some(id) = v.as_str().and_then(license_id) {
        return Some(json!({ "id": id }));
    }
    let e = c.entity(v)?;
    let by_identifier = all(prop(e, "identifier"))
        .into_iter()
        .filter_map(Value::as_str)
        .find_map(license_id);
    if let Some(id) = by_identifier.or_else(|| id_of(e).and_then(license_id)) {
        return Some(json!({ "id": id }));
    }
    // A license without an id the vocabulary could have: free text with its link.
    let link = id_of(e).filter(|i| i.starts_with("http://") || i.starts_with("https://"));
    let title = c
        .first_text(e, "name")
        .or_else(|| link.map(str::to_owned))?;
    let mut r = json!({"title": {"en": title}});
    if let Some(l) = link {
        r["link"] = json!(l);
    }
    Some(r)
}

fn resource_type(c: &Crate<'_>, root: &Map<String, Value>) -> Option<String> {
    let additional = all(prop(root, "additionalType"))
        .into_iter()
        .filter_map(|v| c.text(v))
        .find(|t| is_resource_type_id(t));
    if additional.is_some() {
        return additional;
    }
    let types = types_of(root);
    types
        .iter()
        .filter(|t| **t != "Dataset")
        .chain(types.iter())
        .find_map(|t| resource_type_of_schema_type(t))
        .map(str::to_owned)
}

/// The crate's root as InvenioRDM `metadata`; fields the crate does not give are absent.
pub fn to_invenio(doc: &Map<String, Value>) -> Map<String, Value> {
    let c = Crate::new(doc);
    let mut md = Map::new();
    let Some(root) = c.root else {
        return md;
    };
    if let Some(t) = c.first_text(root, "name") {
        md.insert("title".into(), json!(t));
    }
    if let Some(d) = c.first_text(root, "description") {
        md.insert("description".into(), json!(text_to_html(&d)));
    }
    if let Some(d) = c
        .first_text(root, "datePublished")
        .and_then(|d| to_edtf(&d))
    {
        md.insert("publication_date".into(), json!(d));
    }
    let people = if prop(root, "author").is_some() {
        "author"
    } else {
        "creator"
    };
    let creators: Vec<Value> = all(prop(root, people))
        .into_iter()
        .filter_map(|v| creator(&c, v))
        .collect();
    if !creators.is_empty() {
        md.insert("creators".into(), Value::Array(creators));
    }
    let mut subjects: Vec<Value> = Vec::new();
    // One comma-separated text is a list (schema.org allows both forms).
    let one_text = matches!(prop(root, "keywords"), Some(Value::String(_)));
    for k in all(prop(root, "keywords")) {
        let Some(text) = c.text(k) else { continue };
        let words: Vec<&str> = if one_text {
            text.split(',').collect()
        } else {
            vec![&text]
        };
        for w in words.into_iter().map(str::trim).filter(|w| !w.is_empty()) {
            if !subjects.iter().any(|s| s["subject"] == w) {
                subjects.push(json!({ "subject": w }));
            }
        }
    }
    if !subjects.is_empty() {
        md.insert("subjects".into(), Value::Array(subjects));
    }
    let mut rights_list: Vec<Value> = Vec::new();
    for r in all(prop(root, "license"))
        .into_iter()
        .filter_map(|v| rights(&c, v))
    {
        if !rights_list.contains(&r) {
            rights_list.push(r);
        }
    }
    if !rights_list.is_empty() {
        md.insert("rights".into(), Value::Array(rights_list));
    }
    if let Some(t) = resource_type(&c, root) {
        md.insert("resource_type".into(), json!({ "id": t }));
    }
    if let Some(p) = c.first_text(root, "publisher") {
        md.insert("publisher".into(), json!(p));
    }
    let mut languages: Vec<Value> = Vec::new();
    for l in all(prop(root, "inLanguage"))
        .into_iter()
        .filter_map(|v| c.text(v))
    {
        if let Some(id) = language_id(&l) {
            let v = json!({ "id": id });
            if !languages.contains(&v) {
                languages.push(v);
            }
        }
    }
    if !languages.is_empty() {
        md.insert("languages".into(), Value::Array(languages));
    }
    if let Some(v) = c.first_text(root, "version") {
        md.insert("version".into(), json!(v));
    }
    md
}
