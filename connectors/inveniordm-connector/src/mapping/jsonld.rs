//! InvenioRDM metadata → an RO-Crate 1.1 document (schema.org terms), for the answers of
//! GET and PATCH. Mapping the result back with [`super::rocrate::to_invenio`] gives the
//! same values for every mapped field (the round-trip property test).

use serde_json::{json, Map, Value};

use super::values::{html_to_text, license_url};

pub const RO_CRATE_CONTEXT: &str = "https://w3id.org/ro/crate/1.1/context";
pub const RO_CRATE_SPEC: &str = "https://w3id.org/ro/crate/1.1";

fn str_at<'a>(v: &'a Value, path: &str) -> Option<&'a str> {
    v.pointer(path)
        .and_then(Value::as_str)
        .map(str::trim)
        .filter(|s| !s.is_empty())
}

fn list<'a>(md: &'a Map<String, Value>, k: &str) -> &'a [Value] {
    md.get(k)
        .and_then(Value::as_array)
        .map(Vec::as_slice)
        .unwrap_or(&[])
}

/// Organisations by name, numbered in order of appearance (ids unique by construction).
fn organisation(graph: &mut Vec<Value>, orgs: &mut Vec<String>, name: &str) -> Value {
    let n = match orgs.iter().position(|o| o == name) {
        Some(i) => i + 1,
        None => {
            orgs.push(name.to_owned());
            let id = format!("#organization-{}", orgs.len());
            graph.push(json!({"@id": id, "@type": "Organization", "name": name}));
            orgs.len()
        }
    };
    json!({ "@id": format!("#organization-{n}") })
}

fn creator(graph: &mut Vec<Value>, orgs: &mut Vec<String>, i: usize, c: &Value) -> Option<Value> {
    let p = c.get("person_or_org")?;
    let affiliations: Vec<Value> = c
        .get("affiliations")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
        .filter_map(|a| str_at(a, "/name"))
        .map(|n| organisation(graph, orgs, n))
        .collect();
    let mut e = if str_at(p, "/type") == Some("organizational") {
        json!({"@type": "Organization", "name": str_at(p, "/name")?})
    } else {
        let family = str_at(p, "/family_name").or_else(|| str_at(p, "/name"))?;
        let given = str_at(p, "/given_name");
        let name = match given {
            Some(g) => format!("{g} {family}"),
            None => family.to_owned(),
        };
        let mut e = json!({"@type": "Person", "name": name, "familyName": family});
        if let Some(g) = given {
            e["givenName"] = json!(g);
        }
        e
    };
    let orcid = p
        .get("identifiers")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
        .find(|i| str_at(i, "/scheme") == Some("orcid"))
        .and_then(|i| str_at(i, "/identifier"))
        .map(|o| format!("https://orcid.org/{o}"));
    // The ORCID is the person's `@id` (RO-Crate's advice) unless another entity has it.
    let id = match &orcid {
        Some(o)
            if !graph
                .iter()
                .any(|g| g.get("@id").and_then(Value::as_str) == Some(o)) =>
        {
            o.clone()
        }
        _ => format!("#creator-{}", i + 1),
    };
    if let Some(o) = &orcid {
        e["identifier"] = json!(o);
    }
    e["@id"] = json!(id);
    if !affiliations.is_empty() {
        e["affiliation"] = Value::Array(affiliations);
    }
    graph.push(e);
    Some(json!({ "@id": id }))
}

fn license(graph: &mut Vec<Value>, i: usize, r: &Value) -> Option<Value> {
    let e = if let Some(id) = str_at(r, "/id") {
        let url = str_at(r, "/props/url")
            .or_else(|| str_at(r, "/link"))
            .map(str::to_owned);
        let mut e = json!({
            "@id": url.unwrap_or_else(|| license_url(id)),
            "@type": "CreativeWork",
            "identifier": id,
        });
        if let Some(t) = str_at(r, "/title/en") {
            e["name"] = json!(t);
        }
        e
    } else {
        let title = str_at(r, "/title/en")?;
        let id = str_at(r, "/link")
            .map(str::to_owned)
            .unwrap_or_else(|| format!("#license-{}", i + 1));
        json!({"@id": id, "@type": "CreativeWork", "name": title})
    };
    let id = e["@id"].clone();
    if !graph.iter().any(|g| g.get("@id") == Some(&id)) {
        graph.push(e);
    }
    Some(json!({ "@id": id }))
}

/// The draft's metadata as an RO-Crate.
pub fn to_ro_crate(md: &Map<String, Value>) -> Value {
    let mut graph = vec![json!({
        "@id": "ro-crate-metadata.json",
        "@type": "CreativeWork",
        "conformsTo": {"@id": RO_CRATE_SPEC},
        "about": {"@id": "./"},
    })];
    let mut root = Map::new();
    root.insert("@id".into(), json!("./"));
    root.insert("@type".into(), json!("Dataset"));
    let md_value = Value::Object(md.clone());
    if let Some(t) = str_at(&md_value, "/title") {
        root.insert("name".into(), json!(t));
    }
    if let Some(d) = str_at(&md_value, "/description") {
        let text = html_to_text(d);
        if !text.trim().is_empty() {
            root.insert("description".into(), json!(text.trim()));
        }
    }
    if let Some(d) = str_at(&md_value, "/publication_date") {
        root.insert("datePublished".into(), json!(d));
    }
    let mut orgs = Vec::new();
    let mut entities = Vec::new();
    let authors: Vec<Value> = list(md, "creators")
        .iter()
        .enumerate()
        .filter_map(|(i, c)| creator(&mut entities, &mut orgs, i, c))
        .collect();
    if !authors.is_empty() {
        root.insert("author".into(), Value::Array(authors));
    }
    let mut keywords: Vec<&str> = Vec::new();
    for k in list(md, "subjects")
        .iter()
        .filter_map(|s| str_at(s, "/subject"))
    {
        if !keywords.contains(&k) {
            keywords.push(k);
        }
    }
    if !keywords.is_empty() {
        root.insert("keywords".into(), json!(keywords));
    }
    let licenses: Vec<Value> = list(md, "rights")
        .iter()
        .enumerate()
        .filter_map(|(i, r)| license(&mut entities, i, r))
        .collect();
    if !licenses.is_empty() {
        root.insert("license".into(), Value::Array(licenses));
    }
    if let Some(t) = str_at(&md_value, "/resource_type/id") {
        root.insert("additionalType".into(), json!(t));
    }
    if let Some(p) = str_at(&md_value, "/publisher") {
        root.insert("publisher".into(), json!(p));
    }
    let languages: Vec<&str> = list(md, "languages")
        .iter()
        .filter_map(|l| str_at(l, "/id"))
        .collect();
    if !languages.is_empty() {
        root.insert("inLanguage".into(), json!(languages));
    }
    if let Some(v) = str_at(&md_value, "/version") {
        root.insert("version".into(), json!(v));
    }
    graph.push(Value::Object(root));
    graph.extend(entities);
    json!({"@context": RO_CRATE_CONTEXT, "@graph": graph})
}
