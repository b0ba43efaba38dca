//! An RO-Crate 1.1 document (or one JSON-LD entity) → [`Citation`].

use serde_json::{Map, Value};

use super::{
    license_of, looks_like_email, orcid_of, Author, Citation, Contact, License, MAX_ITEMS,
};

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

struct Graph<'a> {
    entities: Vec<&'a Map<String, Value>>,
}

impl<'a> Graph<'a> {
    fn of(doc: &'a Value) -> Self {
        let entities = doc
            .get("@graph")
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
            .filter_map(Value::as_object)
            .collect();
        Self { entities }
    }

    fn by_id(&self, id: &str) -> Option<&'a Map<String, Value>> {
        self.entities
            .iter()
            .find(|e| e.get("@id").and_then(Value::as_str) == Some(id))
            .copied()
    }

    /// The root data entity: what `ro-crate-metadata.json` is `about`, else `./`.
    fn root(&self) -> Option<&'a Map<String, Value>> {
        let about = self
            .by_id("ro-crate-metadata.json")
            .and_then(|m| m.get("about"))
            .and_then(|a| a.get("@id"))
            .and_then(Value::as_str)
            .unwrap_or("./");
        self.by_id(about).or_else(|| self.by_id("./"))
    }

    /// A value as an entity: a reference resolved, an inline object as it is.
    fn resolve(&self, v: &'a Value) -> Option<&'a Map<String, Value>> {
        let o = v.as_object()?;
        match (o.len(), o.get("@id").and_then(Value::as_str)) {
            (1, Some(id)) => self.by_id(id).or(Some(o)),
            _ => Some(o),
        }
    }
}

/// One value or the items of an array, at most [`MAX_ITEMS`].
fn items(v: Option<&Value>) -> impl Iterator<Item = &Value> {
    let all: &[Value] = match v {
        Some(Value::Array(a)) => a,
        Some(v) => std::slice::from_ref(v),
        None => &[],
    };
    all.iter().take(MAX_ITEMS)
}

fn clean(s: &str) -> Option<String> {
    let s: String = s
        .chars()
        .filter(|c| !c.is_control() || *c == '\n')
        .collect();
    let s = s.trim();
    (!s.is_empty()).then(|| s.to_owned())
}

/// A text value: a string, a number, `{"@value"}`, or the first of an array.
fn text(v: Option<&Value>) -> Option<String> {
    match v? {
        Value::String(s) => clean(s),
        Value::Number(n) => Some(n.to_string()),
        Value::Array(a) => a.iter().find_map(|v| text(Some(v))),
        Value::Object(o) => text(o.get("@value")),
        _ => None,
    }
}

fn name_of(g: &Graph, v: &Value) -> Option<String> {
    match v {
        Value::String(s) => clean(s),
        _ => {
            let e = g.resolve(v)?;
            text(e.get("name")).or_else(|| {
                let given = text(e.get("givenName"));
                let family = text(e.get("familyName"));
                match (given, family) {
                    (Some(g), Some(f)) => Some(format!("{g} {f}")),
                    (g, f) => f.or(g),
                }
            })
        }
    }
}

fn author(g: &Graph, v: &Value) -> Option<Author> {
    let name = name_of(g, v)?;
    let e = g.resolve(v);
    let affiliation = e.and_then(|e| items(e.get("affiliation")).find_map(|a| name_of(g, a)));
    let orcid = e.and_then(|e| {
        [e.get("@id"), e.get("identifier")]
            .into_iter()
            .flat_map(items)
            .find_map(|i| {
                let s = i
                    .as_str()
                    .or_else(|| i.get("@id").and_then(Value::as_str))?;
                orcid_of(s)
            })
    });
    Some(Author {
        name,
        affiliation,
        orcid,
    })
}

fn email_of(e: &Map<String, Value>) -> Option<String> {
    let raw = text(e.get("email"))?;
    let email = raw
        .strip_prefix("mailto:")
        .unwrap_or(&raw)
        .trim()
        .to_owned();
    looks_like_email(&email).then_some(email)
}

fn contact(g: &Graph, v: &Value) -> Option<Contact> {
    let e = g.resolve(v)?;
    Some(Contact {
        email: email_of(e)?,
        name: name_of(g, v),
    })
}

fn license(g: &Graph, v: &Value) -> Option<License> {
    if let Value::String(s) = v {
        return license_of(s);
    }
    let e = g.resolve(v)?;
    let id = e.get("@id").and_then(Value::as_str);
    let is_url = |s: &String| s.starts_with("http://") || s.starts_with("https://");
    let candidates = [
        text(e.get("identifier")),
        id.map(str::to_owned).filter(is_url),
        text(e.get("url")).filter(is_url),
        text(e.get("name")),
    ];
    // A stock license by any of its names wins; else the entity's name and URL as given.
    for c in candidates.iter().flatten() {
        if let Some(l) = super::known_license(c) {
            return license_of(l.0);
        }
    }
    let uri = candidates[1].clone().or_else(|| candidates[2].clone());
    let name = candidates[3].clone().or_else(|| candidates[0].clone());
    (uri.is_some() || name.is_some()).then_some(License { name, uri })
}

fn dedup(v: Vec<String>) -> Vec<String> {
    let mut out: Vec<String> = Vec::new();
    for s in v {
        if !out.contains(&s) {
            out.push(s);
        }
    }
    out
}

/// The citation fields an RO-Crate (or a single entity) gives; non-objects give none.
pub fn from_ro_crate(doc: &Value) -> Citation {
    let g = Graph::of(doc);
    let root = match (g.root(), doc.as_object()) {
        (Some(r), _) => r,
        (None, Some(o)) if !o.contains_key("@graph") => o,
        _ => return Citation::default(),
    };
    let description = match root.get("description") {
        Some(Value::Array(a)) => {
            let parts: Vec<String> = a
                .iter()
                .take(MAX_ITEMS)
                .filter_map(|v| text(Some(v)))
                .collect();
            (!parts.is_empty()).then(|| parts.join("\n\n"))
        }
        other => text(other),
    };
    let people = root.get("author").or_else(|| root.get("creator"));
    let authors: Vec<Author> = items(people).filter_map(|v| author(&g, v)).collect();
    let mut contacts: Vec<Contact> = items(root.get("contactPoint"))
        .filter_map(|v| contact(&g, v))
        .collect();
    if contacts.is_empty() {
        contacts = items(people).filter_map(|v| contact(&g, v)).collect();
    }
    let keywords = match root.get("keywords") {
        Some(Value::String(s)) => s.split(',').filter_map(clean).collect(),
        other => items(other).filter_map(|v| text(Some(v))).collect(),
    };
    Citation {
        title: text(root.get("name")),
        description,
        authors,
        contacts,
        keywords: dedup(keywords),
        subjects: Vec::new(),
        license: items(root.get("license")).find_map(|v| license(&g, v)),
    }
}
