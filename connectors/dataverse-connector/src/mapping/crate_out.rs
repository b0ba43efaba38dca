//! [`Citation`] → an RO-Crate 1.1 document, for the answers of GET, PATCH and the list.
//! Reading the result with [`super::from_ro_crate`] gives the same citation (subjects
//! aside, which have no schema.org term: the round-trip property test).

use serde_json::{json, Map, Value};

use super::{known_license, Citation};

pub const RO_CRATE_CONTEXT: &str = "https://w3id.org/ro/crate/1.1/context";
pub const RO_CRATE_SPEC: &str = "https://w3id.org/ro/crate/1.1";

pub fn to_ro_crate(c: &Citation) -> Value {
    let mut graph = vec![json!({
        "@id": "ro-crate-metadata.json",
        "@type": "CreativeWork",
        "conformsTo": {"@id": RO_CRATE_SPEC},
        "about": {"@id": "./"},
    })];
    let mut entities: Vec<Value> = Vec::new();
    let mut root = Map::new();
    root.insert("@id".into(), json!("./"));
    root.insert("@type".into(), json!("Dataset"));
    if let Some(t) = &c.title {
        root.insert("name".into(), json!(t));
    }
    if let Some(d) = &c.description {
        root.insert("description".into(), json!(d));
    }
    let mut orgs: Vec<String> = Vec::new();
    let mut authors = Vec::new();
    for (i, a) in c.authors.iter().enumerate() {
        let orcid = a.orcid.as_ref().map(|o| format!("https://orcid.org/{o}"));
        let taken = |id: &str| {
            entities
                .iter()
                .any(|e: &Value| e.get("@id").and_then(Value::as_str) == Some(id))
        };
        let id = match &orcid {
            Some(o) if !taken(o) => o.clone(),
            _ => format!("#author-{}", i + 1),
        };
        let mut e = json!({"@id": id, "@type": "Person", "name": a.name});
        if let Some(o) = &orcid {
            e["identifier"] = json!(o);
        }
        if let Some(aff) = &a.affiliation {
            let n = match orgs.iter().position(|o| o == aff) {
                Some(n) => n + 1,
                None => {
                    orgs.push(aff.clone());
                    orgs.len()
                }
            };
            e["affiliation"] = json!({"@id": format!("#organization-{n}")});
        }
        authors.push(json!({"@id": id}));
        entities.push(e);
    }
    for (i, o) in orgs.iter().enumerate() {
        entities.push(
            json!({"@id": format!("#organization-{}", i + 1), "@type": "Organization", "name": o}),
        );
    }
    if !authors.is_empty() {
        root.insert("author".into(), Value::Array(authors));
    }
    let contacts: Vec<Value> = c
        .contacts
        .iter()
        .enumerate()
        .map(|(i, k)| {
            let id = format!("#contact-{}", i + 1);
            let mut e = json!({"@id": id, "@type": "ContactPoint", "email": k.email});
            if let Some(n) = &k.name {
                e["name"] = json!(n);
            }
            entities.push(e);
            json!({"@id": id})
        })
        .collect();
    if !contacts.is_empty() {
        root.insert("contactPoint".into(), Value::Array(contacts));
    }
    if !c.keywords.is_empty() {
        root.insert("keywords".into(), json!(c.keywords));
    }
    if let Some(l) = &c.license {
        let id = l.uri.clone().unwrap_or_else(|| "#license".to_owned());
        let mut e = json!({"@id": id, "@type": "CreativeWork"});
        if let Some(n) = &l.name {
            e["name"] = json!(n);
        }
        let spdx = l
            .uri
            .as_deref()
            .or(l.name.as_deref())
            .and_then(known_license)
            .map(|k| k.0);
        if let Some(s) = spdx {
            e["identifier"] = json!(s);
        }
        root.insert("license".into(), json!({"@id": id}));
        entities.push(e);
    }
    graph.push(Value::Object(root));
    graph.extend(entities);
    json!({"@context": RO_CRATE_CONTEXT, "@graph": graph})
}
