#![allow(clippy::unwrap_used, clippy::expect_used)]

use serde_json::{json, Value};

use super::*;

fn sample_crate() -> Value {
    json!({
        "@context": "https://w3id.org/ro/crate/1.1/context",
        "@graph": [
            {"@id": "ro-crate-metadata.json", "@type": "CreativeWork", "about": {"@id": "./"}},
            {"@id": "./", "@type": "Dataset", "name": " Sea levels ",
             "description": ["Line one", "Line two"],
             "author": [{"@id": "https://orcid.org/0000-0002-1825-0097"}, {"@id": "#plato"}, "Aristotle"],
             "keywords": "sea, level ,climate, sea", "license": {"@id": "https://creativecommons.org/licenses/by/4.0/"},
             "contactPoint": {"@id": "#contact"}},
            {"@id": "https://orcid.org/0000-0002-1825-0097", "@type": "Person", "name": "Josiah Carberry",
             "affiliation": {"@id": "#brown"}},
            {"@id": "#plato", "@type": "Person", "givenName": "Plato", "familyName": "of Athens"},
            {"@id": "#brown", "@type": "Organization", "name": "Brown University"},
            {"@id": "#contact", "@type": "ContactPoint", "email": "mailto:data@brown.edu", "name": "Data desk"}
        ]
    })
}

#[test]
fn a_crate_maps_to_the_citation_block() {
    let c = from_ro_crate(&sample_crate());
    assert_eq!(c.title.as_deref(), Some("Sea levels"));
    assert_eq!(c.description.as_deref(), Some("Line one\n\nLine two"));
    assert_eq!(
        c.authors,
        vec![
            Author {
                name: "Josiah Carberry".into(),
                affiliation: Some("Brown University".into()),
                orcid: Some("0000-0002-1825-0097".into())
            },
            Author {
                name: "Plato of Athens".into(),
                ..Author::default()
            },
            Author {
                name: "Aristotle".into(),
                ..Author::default()
            },
        ]
    );
    assert_eq!(
        c.contacts,
        vec![Contact {
            name: Some("Data desk".into()),
            email: "data@brown.edu".into()
        }]
    );
    assert_eq!(c.keywords, vec!["sea", "level", "climate"]);
    assert_eq!(
        c.license,
        Some(License {
            name: Some("CC BY 4.0".into()),
            uri: Some("http://creativecommons.org/licenses/by/4.0".into())
        })
    );
    let fields = to_fields(&c);
    let author = &fields[1];
    assert_eq!(author["typeName"], "author");
    assert_eq!(author["multiple"], true);
    assert_eq!(
        author["value"][0]["authorIdentifierScheme"],
        json!({"typeName": "authorIdentifierScheme", "typeClass": "controlledVocabulary", "multiple": false, "value": "ORCID"})
    );
    assert_eq!(from_fields(&fields), c_without_license(&c));
}

fn c_without_license(c: &Citation) -> Citation {
    Citation {
        license: None,
        ..c.clone()
    }
}

#[test]
fn licenses_by_any_name() {
    for s in [
        "CC0-1.0",
        "cc0-1.0",
        "https://spdx.org/licenses/CC0-1.0",
        "https://spdx.org/licenses/CC0-1.0.html",
        "https://creativecommons.org/publicdomain/zero/1.0/",
        "CC0 1.0",
    ] {
        assert_eq!(license_of(s), Some(default_license()), "{s}");
    }
    assert_eq!(
        license_of("Custom Licence"),
        Some(License {
            name: Some("Custom Licence".into()),
            uri: None
        })
    );
    assert_eq!(license_of("  "), None);
}

#[test]
fn defaults_fill_what_dataverse_requires() {
    let c = with_defaults(
        Citation::default(),
        Some("alice@uni.de"),
        Some("rdm@uni.de"),
        "Other",
        "2026-12-01",
    )
    .unwrap();
    assert_eq!(
        c.title.as_deref(),
        Some("Upload from Sciebo RDS, 2026-12-01")
    );
    assert_eq!(c.authors[0].name, "alice");
    assert_eq!(c.contacts[0].email, "rdm@uni.de");
    assert_eq!(c.subjects, vec!["Other"]);
    assert_eq!(c.license, Some(default_license()));
    assert_eq!(
        with_defaults(Citation::default(), None, None, "Other", "2026-12-01"),
        Err(NoContact)
    );
}

#[test]
fn merge_replaces_only_what_the_update_has() {
    let current = to_fields(&Citation {
        title: Some("Old".into()),
        subjects: vec!["Physics".into()],
        keywords: vec!["k".into()],
        ..Citation::default()
    });
    let mut current = current;
    current.push(json!({"typeName": "notesText", "typeClass": "primitive", "multiple": false, "value": "kept"}));
    let merged = merge_fields(
        current,
        to_fields(&Citation {
            title: Some("New".into()),
            ..Citation::default()
        }),
    );
    let c = from_fields(&merged);
    assert_eq!(c.title.as_deref(), Some("New"));
    assert_eq!(c.subjects, vec!["Physics"]);
    assert_eq!(c.keywords, vec!["k"]);
    assert!(merged.iter().any(|f| f["typeName"] == "notesText"));
}

#[test]
fn odd_input_never_panics() {
    for v in [
        json!(null),
        json!(1),
        json!({"@graph": [1, "x", null]}),
        json!({"@graph": [{"@id": "./", "author": {"@id": "#missing"}, "license": 5, "keywords": [1, {"x": 1}]}]}),
        json!({"@id": "./", "name": ["a", "b"], "description": {"@value": "d"}}),
    ] {
        let c = from_ro_crate(&v);
        let _ = to_ro_crate(&c);
        let _ = to_fields(&c);
    }
    assert!(check_shape(&json!({"@graph": {}})).is_err());
    assert!(check_shape(&json!([])).is_err());
}

/// A small deterministic generator (xorshift): no dependency for the property test.
struct Gen(u64);

impl Gen {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }
    fn below(&mut self, n: u64) -> u64 {
        self.next() % n
    }
    fn word(&mut self) -> String {
        const PARTS: &[&str] = &[
            "sea", "Ölé", "data", "x&y", "\"q\"", "日本", "a, b", "1.5", "<b>",
        ];
        let n = 1 + self.below(3);
        (0..n)
            .map(|_| PARTS[self.below(PARTS.len() as u64) as usize])
            .collect::<Vec<_>>()
            .join(" ")
    }
    fn maybe(&mut self) -> Option<String> {
        (self.below(3) > 0).then(|| self.word())
    }
    fn orcid(&mut self) -> Option<String> {
        (self.below(2) == 0).then(|| {
            let d = self.below(10_000);
            format!("0000-0002-1825-{d:04}")
        })
    }
}

fn citation(g: &mut Gen) -> Citation {
    let authors = (0..g.below(4))
        .map(|_| Author {
            name: g.word(),
            affiliation: g.maybe(),
            orcid: g.orcid(),
        })
        .collect();
    let contacts = (0..g.below(3))
        .map(|i| Contact {
            name: g.maybe(),
            email: format!("c{i}@example.org"),
        })
        .collect();
    let mut keywords: Vec<String> = Vec::new();
    for _ in 0..g.below(4) {
        let k = g.word();
        if !keywords.contains(&k) {
            keywords.push(k);
        }
    }
    let license = match g.below(4) {
        0 => None,
        1 => {
            let (_, name, uri) = LICENSES[g.below(LICENSES.len() as u64) as usize];
            Some(License {
                name: Some(name.into()),
                uri: Some(uri.into()),
            })
        }
        2 => Some(License {
            name: Some(format!("Licence {}", g.below(100))),
            uri: None,
        }),
        _ => Some(License {
            name: None,
            uri: Some(format!("https://example.org/licence/{}", g.below(100))),
        }),
    };
    Citation {
        title: g.maybe(),
        description: g.maybe(),
        authors,
        contacts,
        keywords,
        subjects: Vec::new(),
        license,
    }
}

#[test]
fn round_trip_citation_to_crate_and_fields_and_back() {
    let mut g = Gen(0x9E37_79B9_7F4A_7C15);
    for case in 0..2_000 {
        let c = citation(&mut g);
        let back = from_ro_crate(&to_ro_crate(&c));
        assert_eq!(back, c, "case {case}: RO-Crate round trip");
        let with_subject = Citation {
            subjects: vec![SUBJECTS[case % SUBJECTS.len()].to_owned()],
            ..c.clone()
        };
        let fields = from_fields(&to_fields(&with_subject));
        assert_eq!(
            fields,
            c_without_license(&with_subject),
            "case {case}: fields round trip"
        );
    }
}

/// Random JSON-LD-ish documents (the fuzz target's property, run in `cargo test`): the
/// mapping is stable after one round.
#[test]
fn the_mapping_is_stable_after_one_round_on_any_document() {
    let mut g = Gen(0x2545_F491_4F6C_DD1D);
    let leaf = |g: &mut Gen| -> Value {
        match g.below(9) {
            0 => json!(null),
            1 => json!(g.below(100)),
            2 => json!("#a"),
            3 => json!({"@id": "#a"}),
            4 => json!({"@id": "#b"}),
            5 => json!(["x, y", "https://spdx.org/licenses/MIT", "  "]),
            6 => json!("0000-0002-1825-0097"),
            7 => json!({"@value": "v\u{7}"}),
            _ => json!(g.word()),
        }
    };
    const KEYS: &[&str] = &[
        "name",
        "description",
        "author",
        "creator",
        "affiliation",
        "keywords",
        "license",
        "contactPoint",
        "email",
        "identifier",
        "url",
        "givenName",
        "familyName",
        "@id",
    ];
    for case in 0..3_000 {
        let mut entities = Vec::new();
        for id in ["./", "#a", "#b"] {
            let mut e = serde_json::Map::new();
            e.insert("@id".into(), json!(id));
            for _ in 0..g.below(6) {
                let k = KEYS[g.below(KEYS.len() as u64) as usize];
                if k != "@id" {
                    e.insert(k.into(), leaf(&mut g));
                }
            }
            if g.below(4) == 0 {
                e.insert("email".into(), json!("a@b.example"));
            }
            entities.push(Value::Object(e));
        }
        let doc = json!({"@graph": entities});
        let once = from_ro_crate(&to_ro_crate(&from_ro_crate(&doc)));
        let twice = from_ro_crate(&to_ro_crate(&once));
        assert_eq!(once, twice, "case {case}: {doc}");
    }
}
