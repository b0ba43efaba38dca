#![allow(clippy::unwrap_used, clippy::expect_used)]

use serde_json::{json, Map, Value};

use super::*;

fn obj(v: Value) -> Map<String, Value> {
    v.as_object().cloned().unwrap()
}

fn crate_with(root_extra: Value, more: Vec<Value>) -> Value {
    let mut root = json!({"@id": "./", "@type": "Dataset"});
    for (k, v) in obj(root_extra) {
        root[k] = v;
    }
    let mut graph = vec![
        json!({"@id": "ro-crate-metadata.json", "@type": "CreativeWork",
               "conformsTo": {"@id": "https://w3id.org/ro/crate/1.1"}, "about": {"@id": "./"}}),
        root,
    ];
    graph.extend(more);
    json!({"@context": "https://w3id.org/ro/crate/1.1/context", "@graph": graph})
}

/// The full example: two authors with affiliation and ORCID, keywords, license.
pub fn sample_crate() -> Value {
    crate_with(
        json!({
            "name": "Soil moisture 2023",
            "description": "Line one\nLine two",
            "datePublished": "2023-06-01T12:00:00Z",
            "author": [{"@id": "https://orcid.org/0000-0002-1825-0097"}, {"@id": "#bob"}],
            "keywords": "soil, moisture ,  sensors",
            "license": {"@id": "https://creativecommons.org/licenses/by/4.0/"},
            "publisher": {"@id": "#pub"},
        }),
        vec![
            json!({"@id": "https://orcid.org/0000-0002-1825-0097", "@type": "Person",
                   "givenName": "Josiah", "familyName": "Carberry", "affiliation": {"@id": "#brown"}}),
            json!({"@id": "#bob", "@type": "Person", "name": "Bob Builder",
                   "identifier": "https://orcid.org/0000-0002-1694-233X",
                   "affiliation": {"@id": "#brown"}}),
            json!({"@id": "#brown", "@type": "Organization", "name": "Brown University"}),
            json!({"@id": "#pub", "@type": "Organization", "name": "University of Münster"}),
            json!({"@id": "https://creativecommons.org/licenses/by/4.0/", "@type": "CreativeWork", "name": "CC BY 4.0"}),
        ],
    )
}

pub fn sample_zenodo() -> Value {
    json!({
        "title": "Soil moisture 2023",
        "description": "Line one<br>Line two",
        "publication_date": "2023-06-01",
        "creators": [
            {"name": "Carberry, Josiah", "affiliation": "Brown University", "orcid": "0000-0002-1825-0097"},
            {"name": "Bob Builder", "affiliation": "Brown University", "orcid": "0000-0002-1694-233X"},
        ],
        "keywords": ["soil", "moisture", "sensors"],
        "license": "cc-by-4.0",
        "imprint_publisher": "University of Münster",
    })
}

#[test]
fn full_crate_maps_exactly() {
    assert_eq!(Value::Object(to_zenodo(&sample_crate())), sample_zenodo());
}

#[test]
fn single_fields_table() {
    // (root properties, extra entities, expected Zenodo metadata)
    let cases: Vec<(Value, Vec<Value>, Value)> = vec![
        (json!({"name": "T"}), vec![], json!({"title": "T"})),
        (
            json!({"zenodocategory": "dataset"}),
            vec![],
            json!({"upload_type": "dataset"}),
        ),
        (
            json!({"datePublished": "2017"}),
            vec![],
            json!({"publication_date": "2017-01-01"}),
        ),
        (json!({"datePublished": "not a date"}), vec![], json!({})),
        (
            json!({"keywords": ["a", "b, c"]}),
            vec![],
            json!({"keywords": ["a", "b", "c"]}),
        ),
        (
            json!({"license": "CC-BY-4.0"}),
            vec![],
            json!({"license": "cc-by-4.0"}),
        ),
        (
            json!({"license": {"@id": "https://spdx.org/licenses/MIT"}}),
            vec![],
            json!({"license": "mit"}),
        ),
        (
            json!({"license": "https://example.org/custom"}),
            vec![],
            json!({}),
        ),
        (
            json!({"zenodocategory": "publication/article"}),
            vec![],
            json!({"upload_type": "publication", "publication_type": "article"}),
        ),
        (
            json!({"zenodocategory": "poster"}),
            vec![],
            json!({"upload_type": "poster"}),
        ),
        (
            json!({"@type": ["Dataset", "SoftwareSourceCode"]}),
            vec![],
            json!({"upload_type": "software"}),
        ),
        (
            json!({"additionalType": "Thesis"}),
            vec![],
            json!({"upload_type": "publication", "publication_type": "dissertation"}),
        ),
        (
            json!({"publisher": "ACME"}),
            vec![],
            json!({"imprint_publisher": "ACME"}),
        ),
        (
            json!({"conditionsOfAccess": "Closed"}),
            vec![],
            json!({"access_right": "closed"}),
        ),
        (
            json!({"creator": "Jane Doe"}),
            vec![],
            json!({"creators": [{"name": "Jane Doe"}]}),
        ),
        (
            json!({"author": {"@id": "#o"}}),
            vec![json!({"@id": "#o", "@type": "Organization", "name": "CERN"})],
            json!({"creators": [{"name": "CERN"}]}),
        ),
        (
            json!({"author": {"@id": "#p"}}),
            vec![
                json!({"@id": "#p", "@type": "Person", "name": "X", "affiliation": "Plain Org",
                        "identifier": {"@type": "PropertyValue", "propertyID": "orcid", "value": "0000-0001-5109-3700"}}),
            ],
            json!({"creators": [{"name": "X", "affiliation": "Plain Org", "orcid": "0000-0001-5109-3700"}]}),
        ),
        (
            json!({"https://schema.org/name": "Full IRI"}),
            vec![],
            json!({"title": "Full IRI"}),
        ),
    ];
    for (root, extra, want) in cases {
        let input = crate_with(root.clone(), extra);
        assert_eq!(Value::Object(to_zenodo(&input)), want, "root {root}");
    }
}

#[test]
fn root_is_found_through_the_descriptor() {
    let doc = json!({"@graph": [
        {"@id": "#other", "@type": "Dataset", "name": "wrong"},
        {"@id": "ro-crate-metadata.json", "about": {"@id": "#real"}},
        {"@id": "#real", "@type": "Dataset", "name": "right"},
    ]});
    assert_eq!(to_zenodo(&doc).get("title"), Some(&json!("right")));
}

#[test]
fn native_metadata_passes_through() {
    let native = json!({"upload_type": "poster", "title": "P", "custom": {"x": 1}, "prereserve_doi": {"recid": 1}});
    let out = to_zenodo(&native);
    assert_eq!(
        Value::Object(out),
        json!({"upload_type": "poster", "title": "P", "custom": {"x": 1}})
    );
}

#[test]
fn round_trip_zenodo_to_crate_and_back() {
    let zenodo = obj(sample_zenodo());
    let crate_doc = to_ro_crate(&zenodo);
    assert_eq!(
        crate_doc["@context"],
        "https://w3id.org/ro/crate/1.1/context"
    );
    assert_eq!(crate_doc["@graph"][0]["about"]["@id"], "./");
    assert_eq!(crate_doc["@graph"][1]["name"], "Soil moisture 2023");
    assert_eq!(crate_doc["@graph"][1]["description"], "Line one\nLine two");
    assert_eq!(Value::Object(to_zenodo(&crate_doc)), sample_zenodo());
    // And crate → Zenodo → crate keeps the mapped fields.
    let again = to_ro_crate(&to_zenodo(&sample_crate()));
    assert_eq!(to_zenodo(&again), to_zenodo(&sample_crate()));

    let more = obj(
        json!({"title": "x", "upload_type": "image", "image_type": "photo", "access_right": "restricted",
        "license": "mit", "version": "1.2", "language": "deu", "creators": [{"name": "CERN"}]}),
    );
    assert_eq!(to_zenodo(&to_ro_crate(&more)), more);
}

#[test]
fn defaults_fill_only_what_is_missing() {
    let md = with_defaults(
        obj(json!({"title": "Mine", "creators": []})),
        Some("alice@uni.de"),
        "2024-05-06",
    );
    assert_eq!(md["title"], "Mine");
    assert_eq!(md["creators"], json!([{"name": "alice"}]));
    assert_eq!(md["publication_date"], "2024-05-06");
    assert_eq!(md["upload_type"], "dataset");
    assert_eq!(md["access_right"], "open");
    assert!(md["description"].as_str().is_some_and(|d| !d.is_empty()));
    let md = with_defaults(Map::new(), None, "2024-05-06");
    assert!(md["title"]
        .as_str()
        .is_some_and(|t| t.contains("2024-05-06")));
}

#[test]
fn merge_keeps_unsent_fields() {
    let existing = obj(json!({"title": "old", "keywords": ["k"], "prereserve_doi": {"recid": 5}}));
    let merged = merge(existing, obj(json!({"title": "new"})));
    assert_eq!(
        Value::Object(merged),
        json!({"title": "new", "keywords": ["k"]})
    );
}

#[test]
fn hostile_inputs_never_panic() {
    let inputs = vec![
        json!(null),
        json!(42),
        json!("str"),
        json!([]),
        json!({"@graph": 5}),
        json!({"@graph": [1, "x", null, {"@id": 3}]}),
        json!({"@graph": [{"@id": "ro-crate-metadata.json", "about": 7}]}),
        json!({"@graph": [{"@id": "ro-crate-metadata.json", "about": {"@id": "./"}},
                          {"@id": "./", "name": {"@id": "./"}, "author": [{"@id": "./"}, 3, null, [1]],
                           "datePublished": ["", 2017, {"@value": "2019-02"}], "keywords": {"a": 1},
                           "license": [{"@id": 5}, {}], "description": [1, "x"],
                           "zenodocategory": "/", "@type": [1, {}]}]}),
        json!({"@context": {}, "name": ["", "  "], "creator": {"givenName": [], "familyName": {"x": 1}}}),
    ];
    for input in inputs {
        let md = to_zenodo(&input);
        let _ = to_ro_crate(&md);
        let _ = with_defaults(md, Some(""), "2024-01-01");
    }
    let weird = obj(
        json!({"creators": "x", "keywords": [1, null], "license": 5, "title": [], "upload_type": {}}),
    );
    let _ = to_zenodo(&to_ro_crate(&weird));
    let out = to_zenodo(&crate_with(
        json!({"datePublished": ["", 2017, {"@value": "2019-02"}]}),
        vec![],
    ));
    assert_eq!(out.get("publication_date"), Some(&json!("2017-01-01")));
}

/// Deterministic random JSON built from the mapper's own vocabulary, so the generated
/// documents reach deep into it (a cheap stand-in until the real fuzzer runs).
struct Gen(u64);

impl Gen {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }

    fn pick<'a>(&mut self, items: &[&'a str]) -> &'a str {
        items[(self.next() % items.len() as u64) as usize]
    }

    fn value(&mut self, depth: u32) -> Value {
        const KEYS: &[&str] = &[
            "@id",
            "@type",
            "@graph",
            "@value",
            "about",
            "name",
            "description",
            "datePublished",
            "author",
            "creator",
            "givenName",
            "familyName",
            "affiliation",
            "identifier",
            "keywords",
            "license",
            "publisher",
            "zenodocategory",
            "additionalType",
            "conditionsOfAccess",
            "version",
            "inLanguage",
            "value",
            "url",
            "title",
            "creators",
            "orcid",
            "upload_type",
        ];
        const STRS: &[&str] = &[
            "./",
            "ro-crate-metadata.json",
            "#a",
            "#b",
            "https://orcid.org/0000-0002-1825-0097",
            "2017",
            "2017-02-30",
            "9999-12-31T25:61",
            "CC-BY-4.0",
            "https://creativecommons.org/licenses/by/",
            "publication/",
            "/x",
            "a, ,b",
            "",
            " ",
            "Dataset",
            "Person",
            "Organization",
            "ü\u{0}\n",
            "Doe, Jane, Jr",
            "image/photo",
            "open",
        ];
        let kind = if depth == 0 {
            self.next() % 4
        } else {
            self.next() % 7
        };
        match kind {
            0 => Value::Null,
            1 => json!(self.next() % 3000),
            2 | 3 => json!(self.pick(STRS)),
            4 => Value::Bool(self.next() % 2 == 0),
            5 => Value::Array(
                (0..self.next() % 4)
                    .map(|_| self.value(depth - 1))
                    .collect(),
            ),
            _ => {
                let mut m = Map::new();
                for _ in 0..self.next() % 6 {
                    let k = self.pick(KEYS).to_owned();
                    m.insert(k, self.value(depth - 1));
                }
                Value::Object(m)
            }
        }
    }
}

#[test]
fn random_documents_never_panic() {
    let mut g = Gen(0x9e37_79b9_7f4a_7c15);
    let mut mapped = 0;
    for _ in 0..3000 {
        let mut doc = g.value(4);
        if g.next() % 2 == 0 {
            let mut graph: Vec<Value> = (0..g.next() % 6).map(|_| g.value(3)).collect();
            // A plausible crate: descriptor, a root with several properties, entities.
            let mut root = Map::new();
            root.insert("@id".into(), json!("./"));
            for _ in 0..3 + g.next() % 6 {
                let k = g.pick(&[
                    "name",
                    "description",
                    "datePublished",
                    "author",
                    "creator",
                    "keywords",
                    "license",
                    "publisher",
                    "zenodocategory",
                    "conditionsOfAccess",
                    "version",
                ]);
                root.insert(k.into(), g.value(3));
            }
            graph.push(json!({"@id": "ro-crate-metadata.json", "about": {"@id": "./"}}));
            graph.push(Value::Object(root));
            for id in ["#a", "#b"] {
                let mut e = g.value(2).as_object().cloned().unwrap_or_default();
                e.insert("@id".into(), json!(id));
                graph.push(Value::Object(e));
            }
            doc = json!({"@context": "x", "@graph": graph});
        }
        let md = to_zenodo(&doc);
        mapped += usize::from(md.len() > 1);
        let back = to_ro_crate(&md);
        let again = to_zenodo(&back);
        if is_json_ld(doc.as_object().unwrap_or(&Map::new())) {
            // What was mapped survives a trip through our own RO-Crate.
            assert_eq!(again, md, "doc {doc}");
        }
        let _ = with_defaults(again, Some("u"), "2024-01-01");
        if let Value::Object(o) = &doc {
            let _ = to_ro_crate(o);
        }
    }
    println!("{mapped} of 3000 documents mapped to two fields or more");
    assert!(
        mapped > 100,
        "the generator should reach the mapper: {mapped}"
    );
}
