#![allow(clippy::unwrap_used, clippy::expect_used)]

use serde_json::{json, Map, Value};

use super::*;

fn obj(v: Value) -> Map<String, Value> {
    v.as_object().cloned().unwrap()
}

fn sample_crate() -> Value {
    json!({
        "@context": "https://w3id.org/ro/crate/1.1/context",
        "@graph": [
            {"@id": "ro-crate-metadata.json", "@type": "CreativeWork", "about": {"@id": "./"}},
            {"@id": "./", "@type": ["Dataset", "SoftwareSourceCode"], "name": "Sea levels",
             "description": "Line one\nLine <two> & more", "datePublished": "2021-03-04T10:00:00Z",
             "author": [{"@id": "https://orcid.org/0000-0002-1825-0097"}, {"@id": "#plato"}, {"@id": "#cern"}],
             "keywords": "sea, level ,climate", "license": {"@id": "https://creativecommons.org/licenses/by/4.0/"},
             "inLanguage": "en", "publisher": {"@id": "#pub"}, "version": 2},
            {"@id": "https://orcid.org/0000-0002-1825-0097", "@type": "Person", "name": "Josiah Carberry",
             "affiliation": [{"@id": "#brown"}, {"@id": "#brown"}]},
            {"@id": "#plato", "@type": "Person", "name": "Plato"},
            {"@id": "#cern", "@type": "Organization", "name": "CERN"},
            {"@id": "#brown", "@type": "Organization", "name": "Brown University"},
            {"@id": "#pub", "@type": "Organization", "name": "Sciebo RDS"}
        ]
    })
}

#[test]
fn a_crate_maps_to_invenio() {
    let md = to_invenio(&sample_crate());
    assert_eq!(
        Value::Object(md),
        json!({
            "title": "Sea levels",
            "description": "Line one<br>Line &lt;two&gt; &amp; more",
            "publication_date": "2021-03-04",
            "creators": [
                {"person_or_org": {"type": "personal", "family_name": "Carberry", "given_name": "Josiah",
                  "identifiers": [{"scheme": "orcid", "identifier": "0000-0002-1825-0097"}]},
                 "affiliations": [{"name": "Brown University"}]},
                {"person_or_org": {"type": "personal", "family_name": "Plato"}},
                {"person_or_org": {"type": "organizational", "name": "CERN"}}
            ],
            "subjects": [{"subject": "sea"}, {"subject": "level"}, {"subject": "climate"}],
            "rights": [{"id": "cc-by-4.0"}],
            "resource_type": {"id": "software"},
            "publisher": "Sciebo RDS",
            "languages": [{"id": "eng"}],
            "version": "2"
        })
    );
}

#[test]
fn single_values() {
    use super::values::*;
    for (raw, want) in [
        ("MIT", Some("mit")),
        (
            "https://spdx.org/licenses/Apache-2.0.html",
            Some("apache-2.0"),
        ),
        (
            "https://creativecommons.org/publicdomain/zero/1.0/",
            Some("cc0-1.0"),
        ),
        (
            "http://creativecommons.org/licenses/by-sa/4.0",
            Some("cc-by-sa-4.0"),
        ),
        ("https://example.org/my-license", None),
        ("not a license!", None),
    ] {
        assert_eq!(license_id(raw).as_deref(), want, "{raw}");
    }
    for (raw, want) in [
        ("2017", Some("2017")),
        ("2017-05", Some("2017-05")),
        ("2017-02-29", None),
        ("2016-02-29T00:00:00+02:00", Some("2016-02-29")),
        ("2019/2020-05", Some("2019/2020-05")),
        ("May 2017", None),
    ] {
        assert_eq!(to_edtf(raw).as_deref(), want, "{raw}");
    }
    assert_eq!(
        split_name("Doe, Jane").unwrap(),
        ("Doe".into(), "Jane".into())
    );
    assert_eq!(
        split_name("Jane van Doe").unwrap(),
        ("Doe".into(), "Jane van".into())
    );
    assert_eq!(split_name("Plato"), None);
    assert_eq!(
        orcid("https://orcid.org/0000-0002-1825-0097").as_deref(),
        Some("0000-0002-1825-0097")
    );
}

#[test]
fn native_metadata_passes_and_defaults_fill_only_gaps() {
    let native = json!({"title": "Mine", "resource_type": {"id": "image-photo"}});
    assert_eq!(Value::Object(to_invenio(&native)), native);
    let md = with_defaults(obj(native), Some("alice@uni-a.de"), "2024-01-31");
    assert_eq!(md["title"], "Mine");
    assert_eq!(md["resource_type"]["id"], "image-photo");
    assert_eq!(md["publication_date"], "2024-01-31");
    assert_eq!(md["creators"][0]["person_or_org"]["family_name"], "alice");
    assert!(check_shape(&json!({"@graph": {}})).is_err());
    assert!(check_shape(&json!([1])).is_err());
    assert!(check_shape(&Value::Null).is_ok());
}

#[test]
fn merge_keeps_unsent_fields_and_sends_vocabulary_ids() {
    let existing = obj(json!({
        "title": "Old", "version": "1",
        "resource_type": {"id": "dataset", "title": {"en": "Dataset"}},
        "rights": [{"id": "mit", "title": {"en": "MIT License"}, "props": {"url": "x"}}]
    }));
    let merged = merge(existing, obj(json!({"title": "New"})));
    assert_eq!(
        Value::Object(merged),
        json!({"title": "New", "version": "1", "resource_type": {"id": "dataset"}, "rights": [{"id": "mit"}]})
    );
}

/// A small deterministic generator (xorshift), so the property test needs no dependency.
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
    fn pick<'a>(&mut self, items: &[&'a str]) -> &'a str {
        items[self.below(items.len() as u64) as usize]
    }
    fn coin(&mut self) -> bool {
        self.below(2) == 0
    }
    /// Text with the characters that matter: unicode, markup, commas, ampersands, newlines
    /// inside (never at the ends: values are trimmed).
    fn text(&mut self) -> String {
        let words = [
            "Ünïcødé",
            "a<b>",
            "x & y",
            "comma, inside",
            "plain",
            "'quote\"",
            "line\nbreak",
            "雪",
        ];
        let n = 1 + self.below(3);
        (0..n)
            .map(|_| self.pick(&words))
            .collect::<Vec<_>>()
            .join(" ")
    }
    fn name_word(&mut self) -> String {
        self.pick(&[
            "Doe",
            "Müller",
            "O'Neil",
            "van",
            "Łukasz",
            "Ng",
            "de la Cruz",
        ])
        .to_owned()
    }
}

/// InvenioRDM metadata within the mapping's domain (what a draft holds in the fields the
/// mapping covers, in the form `to_invenio` writes them).
fn invenio_metadata(g: &mut Gen) -> Value {
    let mut md = json!({
        "title": g.text(),
        "resource_type": {"id": g.pick(&["dataset", "software", "image-photo", "publication-article", "other"])},
    });
    if g.coin() {
        md["description"] = json!(super::values::text_to_html(&g.text()));
    }
    if g.coin() {
        md["publication_date"] =
            json!(g.pick(&["2020", "2020-02", "2020-02-29", "1999-12-31", "2019/2020"]));
    }
    let mut creators = Vec::new();
    let mut orcids = vec![
        "0000-0002-1825-0097",
        "0000-0001-5109-3700",
        "0000-0002-9079-593X",
    ];
    for i in 0..g.below(4) {
        let mut c = if g.below(4) == 0 {
            json!({"person_or_org": {"type": "organizational", "name": format!("{} Org {i}", g.name_word())}})
        } else {
            let mut p = json!({"type": "personal", "family_name": g.name_word()});
            if g.coin() {
                p["given_name"] = json!(g.name_word());
            }
            if g.coin() && !orcids.is_empty() {
                let o = orcids.remove(0);
                p["identifiers"] = json!([{"scheme": "orcid", "identifier": o}]);
            }
            json!({ "person_or_org": p })
        };
        let affs: Vec<Value> = ["Uni A", "Lab, B", "Ünï C"][..g.below(3) as usize]
            .iter()
            .map(|n| json!({ "name": n }))
            .collect();
        if !affs.is_empty() {
            c["affiliations"] = Value::Array(affs);
        }
        creators.push(c);
    }
    if !creators.is_empty() {
        md["creators"] = Value::Array(creators);
    }
    let subjects: Vec<Value> = ["sea, level", "climate", "Ünïcødé"][..g.below(4) as usize]
        .iter()
        .map(|s| json!({ "subject": s }))
        .collect();
    if !subjects.is_empty() {
        md["subjects"] = Value::Array(subjects);
    }
    match g.below(3) {
        0 => md["rights"] = json!([{"id": g.pick(&["cc-by-4.0", "cc0-1.0", "mit", "apache-2.0"])}]),
        1 => {
            md["rights"] =
                json!([{"title": {"en": "Own terms"}, "link": "https://example.org/terms"}])
        }
        _ => {}
    }
    if g.coin() {
        md["publisher"] = json!(g.text());
    }
    if g.coin() {
        md["languages"] = json!([{"id": g.pick(&["eng", "deu", "fra"])}]);
    }
    if g.coin() {
        md["version"] = json!(g.pick(&["1.0", "v2", "2024-01"]));
    }
    md
}

/// The invariant: InvenioRDM → RO-Crate → InvenioRDM gives back every mapped field.
#[test]
fn round_trip_invenio_to_crate_and_back() {
    let mut g = Gen(0x9E37_79B9_7F4A_7C15);
    for case in 0..2_000 {
        let md = invenio_metadata(&mut g);
        let crate_ = to_ro_crate(md.as_object().unwrap());
        let back = to_invenio(&crate_);
        assert_eq!(Value::Object(back), md, "case {case}: {crate_:#}");
    }
}

#[test]
fn hostile_documents_never_panic() {
    let docs = [
        json!({"@graph": [{"@id": "./", "author": [{"@id": "./"}], "keywords": [[], {}, 1, null]}]}),
        json!({"@graph": [{"@id": "./", "name": {"@value": {"@value": 3}}, "license": [{}, "", 7]}]}),
        json!({"@type": "Dataset", "author": "", "datePublished": "9999-99-99", "inLanguage": ["", "x"]}),
        json!({"@graph": [1, "x", null, {"@id": "ro-crate-metadata.json", "about": 5}]}),
    ];
    for d in docs {
        let md = to_invenio(&d);
        let _ = to_ro_crate(&md);
    }
}

impl Gen {
    /// A random JSON value in the shapes crates use: texts, numbers, refs, inline entities.
    fn value(&mut self, depth: u32) -> Value {
        let texts = [
            "",
            " ",
            "Doe, Jane",
            "Plato",
            "https://orcid.org/0000-0002-1825-0097",
            "#a",
            "#b",
            "./",
            "MIT",
            "https://creativecommons.org/licenses/by/4.0/",
            "a, b ,, c",
            "2020-02-30",
            "2021",
            "en",
            "image-photo",
            "ScholarlyArticle",
            "<p>x</p>",
            " &amp; ",
            "\n",
        ];
        match self.below(if depth > 2 { 3 } else { 7 }) {
            0 => json!(self.pick(&texts)),
            1 => json!(self.below(3000)),
            2 => Value::Null,
            3 => {
                json!({ "@id": self.pick(&["#a", "#b", "#c", "./", "https://orcid.org/0000-0001-5109-3700"]) })
            }
            4 => {
                let n = self.below(4);
                Value::Array((0..n).map(|_| self.value(depth + 1)).collect())
            }
            5 => json!({"@value": self.value(depth + 1)}),
            _ => self.entity(depth + 1, None),
        }
    }

    fn entity(&mut self, depth: u32, id: Option<&str>) -> Value {
        let keys = [
            "name",
            "description",
            "author",
            "creator",
            "keywords",
            "license",
            "datePublished",
            "@type",
            "additionalType",
            "inLanguage",
            "version",
            "publisher",
            "familyName",
            "givenName",
            "affiliation",
            "identifier",
        ];
        let mut e = Map::new();
        if let Some(id) = id {
            e.insert("@id".into(), json!(id));
        }
        for _ in 0..self.below(8) {
            let k = self.pick(&keys);
            let v = if k == "@type" {
                json!(self.pick(&[
                    "Person",
                    "Organization",
                    "Dataset",
                    "CreativeWork",
                    "Photograph"
                ]))
            } else {
                self.value(depth)
            };
            e.insert(k.into(), v);
        }
        Value::Object(e)
    }
}

/// On the mapping's own output, InvenioRDM → RO-Crate → InvenioRDM changes nothing (the
/// fuzz target's invariant, here on random crates).
#[test]
fn random_crates_map_stably() {
    let mut g = Gen(0x2545_F491_4F6C_DD1D);
    for case in 0..3_000 {
        let mut graph = vec![g.entity(0, Some("./"))];
        for id in ["#a", "#b", "#c"] {
            graph.push(g.entity(1, Some(id)));
        }
        let doc = if g.coin() {
            json!({"@context": "x", "@graph": graph})
        } else {
            graph.remove(0)
        };
        let once = to_invenio(&to_ro_crate(&to_invenio(&doc)));
        let twice = to_invenio(&to_ro_crate(&once));
        assert_eq!(once, twice, "case {case}: {doc}");
    }
}
