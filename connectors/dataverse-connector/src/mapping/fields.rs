//! [`Citation`] ↔ the citation block's `fields` (`JsonParser.parseField`: `typeName`,
//! `typeClass`, `multiple` as `citation.tsv` declares them, compound values as objects of
//! child fields).

use serde_json::{json, Map, Value};

use super::{orcid_of, Author, Citation, Contact, MAX_ITEMS};

fn primitive(name: &str, value: &str) -> Value {
    json!({"typeName": name, "typeClass": "primitive", "multiple": false, "value": value})
}

fn vocabulary(name: &str, value: &str) -> Value {
    json!({"typeName": name, "typeClass": "controlledVocabulary", "multiple": false, "value": value})
}

fn compound(name: &str, values: Vec<Map<String, Value>>) -> Value {
    json!({"typeName": name, "typeClass": "compound", "multiple": true, "value": values})
}

fn child(o: &mut Map<String, Value>, field: Value) {
    if let Some(name) = field.get("typeName").and_then(Value::as_str) {
        o.insert(name.to_owned(), field.clone());
    }
}

/// The fields for what `c` sets, in `citation.tsv` order.
pub fn to_fields(c: &Citation) -> Vec<Value> {
    let mut out = Vec::new();
    if let Some(t) = &c.title {
        out.push(primitive("title", t));
    }
    if !c.authors.is_empty() {
        let values = c
            .authors
            .iter()
            .map(|a| {
                let mut o = Map::new();
                child(&mut o, primitive("authorName", &a.name));
                if let Some(aff) = &a.affiliation {
                    child(&mut o, primitive("authorAffiliation", aff));
                }
                if let Some(orcid) = &a.orcid {
                    child(&mut o, vocabulary("authorIdentifierScheme", "ORCID"));
                    child(&mut o, primitive("authorIdentifier", orcid));
                }
                o
            })
            .collect();
        out.push(compound("author", values));
    }
    if !c.contacts.is_empty() {
        let values = c
            .contacts
            .iter()
            .map(|k| {
                let mut o = Map::new();
                if let Some(n) = &k.name {
                    child(&mut o, primitive("datasetContactName", n));
                }
                child(&mut o, primitive("datasetContactEmail", &k.email));
                o
            })
            .collect();
        out.push(compound("datasetContact", values));
    }
    if let Some(d) = &c.description {
        let mut o = Map::new();
        child(&mut o, primitive("dsDescriptionValue", d));
        out.push(compound("dsDescription", vec![o]));
    }
    if !c.subjects.is_empty() {
        out.push(
            json!({"typeName": "subject", "typeClass": "controlledVocabulary",
                        "multiple": true, "value": c.subjects}),
        );
    }
    if !c.keywords.is_empty() {
        let values = c
            .keywords
            .iter()
            .map(|k| {
                let mut o = Map::new();
                child(&mut o, primitive("keywordValue", k));
                o
            })
            .collect();
        out.push(compound("keyword", values));
    }
    out
}

fn field<'a>(fields: &'a [Value], name: &str) -> Option<&'a Value> {
    fields
        .iter()
        .find(|f| f.get("typeName").and_then(Value::as_str) == Some(name))
        .and_then(|f| f.get("value"))
}

fn text(v: Option<&Value>) -> Option<String> {
    let s = v?.as_str()?.trim();
    (!s.is_empty()).then(|| s.to_owned())
}

/// A compound's child value (`{"authorName": {"value": ...}}`).
fn sub(o: &Value, name: &str) -> Option<String> {
    text(o.get(name).and_then(|f| f.get("value")))
}

fn entries<'a>(fields: &'a [Value], name: &str) -> impl Iterator<Item = &'a Value> {
    field(fields, name)
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
        .take(MAX_ITEMS)
}

/// The citation a version's fields hold (the license is the version's, read apart).
pub fn from_fields(fields: &[Value]) -> Citation {
    let authors = entries(fields, "author")
        .filter_map(|a| {
            let orcid = match sub(a, "authorIdentifierScheme").as_deref() {
                Some("ORCID") => sub(a, "authorIdentifier").and_then(|i| orcid_of(&i)),
                _ => None,
            };
            Some(Author {
                name: sub(a, "authorName")?,
                affiliation: sub(a, "authorAffiliation"),
                orcid,
            })
        })
        .collect();
    let contacts = entries(fields, "datasetContact")
        .filter_map(|k| {
            Some(Contact {
                email: sub(k, "datasetContactEmail")?,
                name: sub(k, "datasetContactName"),
            })
        })
        .collect();
    let descriptions: Vec<String> = entries(fields, "dsDescription")
        .filter_map(|d| sub(d, "dsDescriptionValue"))
        .collect();
    let subjects = field(fields, "subject")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
        .take(MAX_ITEMS)
        .filter_map(|s| text(Some(s)))
        .collect();
    Citation {
        title: text(field(fields, "title")),
        description: (!descriptions.is_empty()).then(|| descriptions.join("\n\n")),
        authors,
        contacts,
        keywords: entries(fields, "keyword")
            .filter_map(|k| sub(k, "keywordValue"))
            .collect(),
        subjects,
        license: None,
    }
}

/// PATCH semantics on a version's fields: each field `update` has replaces the one of
/// the same `typeName`; every other field (of the citation block, mapped or not) stays.
pub fn merge_fields(mut current: Vec<Value>, update: Vec<Value>) -> Vec<Value> {
    for f in update {
        let name = f.get("typeName").cloned();
        match current
            .iter_mut()
            .find(|c| c.get("typeName") == name.as_ref())
        {
            Some(slot) => *slot = f,
            None => current.push(f),
        }
    }
    current
}
