//! What zenodo.org refuses or rewrites in the metadata of the legacy deposit API, each
//! rule from the code that makes it (commits read: zenodo/zenodo-rdm 63864033,
//! inveniosoftware/invenio-rdm-records 1f23bb9e, invenio-records-resources,
//! marshmallow-utils 72823f5b, invenio-config 2f4086ce; zenodo/zenodo 482ee72a for the
//! pre-2023 site where it differs).
//!
//! The legacy API loads a body with zenodo-rdm's `site/zenodo_rdm/legacy/deserializers/`
//! (`LegacySchema`, `MetadataSchema`); a `marshmallow.ValidationError` there is answered
//! at once by invenio-records-resources' `resources/errors.py`: 400
//! `{"status": 400, "message": "A validation error occurred.", "errors": [{"field",
//! "messages"}]}`, field paths dotted as `_iter_errors_dict` builds them
//! (`invenio_records_resources/errors.py`).

use std::collections::HashMap;
use std::sync::OnceLock;

use serde_json::{json, Map, Value};
use time::{Date, Month, OffsetDateTime};

/// The live message of every 400 that carries field errors.
pub const VALIDATION_MESSAGE: &str = "A validation error occurred.";

/// A field error in the live shape: `{"field", "messages": [...]}`.
pub fn field_error(field: &str, message: &str) -> Value {
    json!({ "field": field, "messages": [message] })
}

// ---------------------------------------------------------------------------------------
// Licenses: zenodo-rdm `legacy/zenodo_legacy/licenses.py` (`legacy_to_rdm`,
// `LEGACY_ALIASES`, `rdm_to_legacy`) with its data file `legacy_to_rdm_map.json`, kept
// whole in `data/legacy_licenses.tsv`.

/// `LEGACY_ALIASES` of zenodo-rdm `legacy/zenodo_legacy/licenses.py`, as there.
const LEGACY_ALIASES: &[(&str, &str)] = &[
    ("agpl-v3", "agpl-3.0-only"),
    ("agpl-3.0", "agpl-3.0-only"),
    ("apache", "apache-2.0"),
    ("apache2.0", "apache-2.0"),
    ("apl1.0", "apl-1.0"),
    ("artistic-license-2.0", "Artistic-2.0"),
    ("attribution", "AAL"),
    ("bsl1.0", "BSL-1.0"),
    ("ca-tosl1.1", "CATOSL-1.1"),
    ("cc-by", "CC-BY-4.0"),
    ("cc-by-sa", "CC-BY-SA-4.0"),
    ("cc-zero", "CC0-1.0"),
    ("cddl1", "CDDL-1.0"),
    ("cpal_1.0", "CPAL-1.0"),
    ("cuaoffice", "CUA-OPL-1.0"),
    ("ecl2", "ECL-2.0"),
    ("eclipse-1.0", "EPL-1.0"),
    ("eiffel", "EFL-2.0"),
    ("fal", "FAL-1.3"),
    ("frameworx", "Frameworx-1.0"),
    ("gfdl", "GFDL-1.3-no-cover-texts-no-invariant-sections"),
    ("ibmpl", "IPL-1.0"),
    ("intel-osl", "Intel"),
    ("ipafont", "IPA"),
    ("isc-license", "ISC"),
    ("lucent1.02", "LPL-1.02"),
    ("mit-license", "MIT"),
    ("mozilla", "MPL-1.0"),
    ("mozilla1.1", "MPL-1.1"),
    ("nasa1.3", "NASA-1.3"),
    ("nethack", "NGPL"),
    ("nosl3.0", "NPOSL-3.0"),
    ("ntp-license", "NTP"),
    ("oclc2", "OCLC-2.0"),
    ("odc-by", "ODC-BY-1.0"),
    ("odc-odbl", "ODbL-1.0"),
    ("odc-pddl-1.0", "pddl-1.0"),
    ("openfont", "OFL-1.1"),
    ("opengroup", "OGTSL"),
    ("php", "PHP-3.0"),
    ("pythonpl", "CNRI-Python"),
    ("pythonsoftfoundation", "Python-2.0"),
    ("qtpl", "QPL-1.0"),
    ("real", "RPSL-1.0"),
    ("ricohpl", "RSCPL"),
    ("rpl1.5", "RPL-1.5"),
    ("sun-issl", "SISSL"),
    ("sunpublic", "SPL-1.0"),
    ("sybase", "Watcom-1.0"),
    ("tcl", "tcl"),
    ("uk-ogl", "OGL-UK-1.0"),
    ("uoi-ncsa", "NCSA"),
    ("ver2_eiffel", "EFL-2.0"),
    ("vovidapl", "VSL-1.0"),
    ("zlib-license", "Zlib"),
    ("zpl", "ZPL-2.0"),
];

struct Licenses {
    /// Legacy id (lower case) → RDM vocabulary id.
    to_rdm: HashMap<&'static str, &'static str>,
    /// RDM id → the legacy id the API reads back (the file's last for that RDM id).
    to_legacy: HashMap<&'static str, &'static str>,
}

fn licenses() -> &'static Licenses {
    static LICENSES: OnceLock<Licenses> = OnceLock::new();
    LICENSES.get_or_init(|| {
        let mut l = Licenses {
            to_rdm: HashMap::new(),
            to_legacy: HashMap::new(),
        };
        let rows = include_str!("../data/legacy_licenses.tsv")
            .lines()
            .filter(|line| !line.starts_with('#'))
            .filter_map(|line| line.split_once('\t'));
        for (legacy, rdm) in rows {
            l.to_rdm.insert(legacy, rdm);
            l.to_legacy.insert(rdm, legacy);
        }
        l
    })
}

/// The license as zenodo-rdm's `MetadataSchema.load_rights` takes it: a string or
/// `{"id": ...}`, trimmed and compared in lower case, aliases applied, then looked up in
/// the legacy→RDM map. `Ok` holds what the API reads back (`rdm_to_legacy`: e.g.
/// `CC0-1.0` is read back as `cc-zero`); `Err` the field error.
///
/// Left out: a legacy id absent from the map but present in `legacy_licenses.json` is
/// stored there as a custom title; in today's data the only such id (`agpl-v3`) is an
/// alias, so none is reachable.
pub fn load_license(v: &Value) -> Result<String, Value> {
    let field = "metadata.license";
    let raw = match v {
        Value::Null => return Err(field_error(field, "Field may not be null.")),
        Value::String(s) => s.as_str(),
        Value::Object(o) => match o.get("id") {
            Some(Value::String(s)) => s.as_str(),
            // Zenodo answers a 500 here (`license["id"]` on a dict without it, or
            // `.lower()` on a non-string); the emulator keeps to the 400 the loader meant.
            _ => {
                return Err(field_error(
                    field,
                    &format!("Invalid license object provided (missing 'id' key): {v}"),
                ))
            }
        },
        _ => {
            return Err(field_error(
                field,
                &format!(
                    "Invalid license value provided (expected string, or object with 'id' key): {v}"
                ),
            ))
        }
    };
    let normalised = raw.trim().to_lowercase();
    let aliased = LEGACY_ALIASES
        .iter()
        .find(|(from, _)| *from == normalised)
        .map_or(normalised.clone(), |(_, to)| to.to_lowercase());
    let l = licenses();
    match l.to_rdm.get(aliased.as_str()) {
        Some(rdm) => Ok(l.to_legacy.get(rdm).copied().unwrap_or(rdm).to_owned()),
        None => Err(field_error(
            field,
            &format!("Invalid license provided: {raw}"),
        )),
    }
}

/// `LegacySchema.load_default_license`: a non-empty metadata object without `license`
/// whose access right is open (the default) or embargoed gets `CC0-1.0` for a dataset,
/// `CC-BY-4.0` otherwise.
pub fn default_license(md: &Map<String, Value>) -> Option<&'static str> {
    if md.is_empty() || md.contains_key("license") {
        return None;
    }
    let access = md
        .get("access_right")
        .and_then(Value::as_str)
        .unwrap_or("open");
    if !matches!(access, "open" | "embargoed") {
        return None;
    }
    Some(match md.get("upload_type").and_then(Value::as_str) {
        Some("dataset") => "CC0-1.0",
        _ => "CC-BY-4.0",
    })
}

// ---------------------------------------------------------------------------------------
// Access: zenodo-rdm `legacy/deserializers/schemas.py`, `LegacySchema.load_access`.

/// `open` (or none), `restricted`, `closed`, and `embargoed` with an `embargo_date`
/// pass; anything else is "Unknown access type.", raised by a `post_load` without a
/// field name, so marshmallow files it under `_schema`.
///
/// `restricted` needs no `access_conditions` on zenodo.org today ("TODO access
/// conditions are not yet implemented" there); the pre-2023 site refused it
/// (zenodo/zenodo `records/serializers/schemas/common.py`, `validate_license`).
pub fn access_refusal(md: &Map<String, Value>) -> Option<Value> {
    let truthy = |k: &str| match md.get(k) {
        None | Some(Value::Null) | Some(Value::Bool(false)) => false,
        Some(Value::String(s)) => !s.is_empty(),
        Some(_) => true,
    };
    let ok = match md.get("access_right") {
        None | Some(Value::Null) => true,
        Some(Value::String(s)) if s.is_empty() => true,
        Some(Value::String(s)) => match s.as_str() {
            "open" | "restricted" | "closed" => true,
            "embargoed" => truthy("embargo_date"),
            _ => false,
        },
        Some(_) => false,
    };
    (!ok).then(|| field_error("_schema", "Unknown access type."))
}

/// At publish, invenio-rdm-records `services/schemas/access.py` `EmbargoSchema`: an
/// active embargo (the legacy loader makes `embargoed` one, `until` = `embargo_date`)
/// must end in the future.
pub fn embargo_refusal(md: &Map<String, Value>, today: Date) -> Option<Value> {
    if md.get("access_right").and_then(Value::as_str) != Some("embargoed") {
        return None;
    }
    let until = md.get("embargo_date").and_then(Value::as_str)?;
    let field = "access.embargo.until";
    match parse_iso_date(until) {
        None => Some(field_error(field, "Not a valid date.")),
        Some(d) if d <= today => Some(field_error(
            field,
            "Embargo end date must be set to a future date.",
        )),
        Some(_) => None,
    }
}

// ---------------------------------------------------------------------------------------
// Upload types: the legacy loader (`MetadataSchema.load_upload_type`) makes
// `resource_type.id = "{upload_type}-{<upload_type>_type}"` (or `upload_type` alone), an
// id of the resource-types vocabulary; an unknown id fails the record's vocabulary
// relation (`InvalidRelationValue` → 400 "Not a valid value.", invenio-records-resources
// `resources/errors.py`).

/// The ids of invenio-rdm-records `fixtures/data/vocabularies/resource_types.yaml`
/// (zenodo-rdm's `app_data/vocabularies.yaml` does not replace it), complete.
const RESOURCE_TYPES: &[&str] = &[
    "publication",
    "publication-annotationcollection",
    "publication-book",
    "publication-section",
    "publication-conferencepaper",
    "publication-conferenceproceeding",
    "publication-datamanagementplan",
    "publication-journal",
    "publication-article",
    "publication-patent",
    "publication-peerreview",
    "publication-preprint",
    "publication-deliverable",
    "publication-milestone",
    "publication-proposal",
    "publication-report",
    "publication-softwaredocumentation",
    "publication-taxonomictreatment",
    "publication-technicalnote",
    "publication-workingpaper",
    "publication-datapaper",
    "publication-dissertation",
    "publication-standard",
    "publication-studyregistration",
    "publication-other",
    "poster",
    "presentation",
    "event",
    "dataset",
    "image",
    "image-figure",
    "image-plot",
    "image-drawing",
    "image-diagram",
    "image-photo",
    "image-other",
    "model",
    "video",
    "audio",
    "software",
    "lesson",
    "software-computationalnotebook",
    "other",
    "physicalobject",
    "workflow",
    "project",
    "instrument",
];

/// The resource-type id the legacy loader builds, when it is not in the vocabulary.
pub fn unknown_resource_type(md: &Map<String, Value>) -> Option<String> {
    let t = match md.get("upload_type") {
        None | Some(Value::Null) => return None,
        Some(Value::String(t)) if t.is_empty() => return None,
        Some(Value::String(t)) => t,
        Some(other) => return Some(other.to_string()),
    };
    let id = match md.get(&format!("{t}_type")).and_then(Value::as_str) {
        Some(sub) if !sub.is_empty() => format!("{t}-{sub}"),
        _ => t.clone(),
    };
    (!RESOURCE_TYPES.contains(&id.as_str())).then_some(id)
}

// ---------------------------------------------------------------------------------------
// Description: the legacy loader takes it as `SanitizedUnicode`, then the record schema
// (invenio-rdm-records `services/schemas/metadata.py`) as `SanitizedHTML`, which stores
// `bleach.clean(value, tags, attrs, strip=True).strip()` (marshmallow-utils `html.py`
// `sanitize_html`) with the app's `ALLOWED_HTML_TAGS`/`ALLOWED_HTML_ATTRS`, which
// zenodo-rdm leaves at invenio-config's defaults (`invenio_config/default.py`). Nothing
// is refused: disallowed tags are dropped with their text kept, disallowed attributes
// and URL schemes dropped, comments removed, text escaped.

/// invenio-config `ALLOWED_HTML_TAGS`.
const ALLOWED_TAGS: &[&str] = &[
    "a",
    "abbr",
    "acronym",
    "b",
    "blockquote",
    "br",
    "code",
    "div",
    "table",
    "tbody",
    "td",
    "th",
    "tr",
    "em",
    "h1",
    "h2",
    "h3",
    "h4",
    "h5",
    "i",
    "li",
    "ol",
    "p",
    "pre",
    "span",
    "strike",
    "strong",
    "sub",
    "sup",
    "u",
    "ul",
];

/// marshmallow-utils `sanitize_unicode`: trimmed, characters XML does not allow and the
/// zero-width space removed (ftfy's `fix_text` mojibake repair is not emulated).
pub fn sanitize_unicode(s: &str) -> String {
    s.trim()
        .chars()
        .filter(|&c| {
            let c = c as u32;
            matches!(c, 0x9 | 0xA | 0xD | 0x20..=0xD7FF | 0xE000..=0xFFFD | 0x10000..=0x10FFFF)
        })
        .filter(|&c| c != '\u{200b}')
        .collect()
}

/// What zenodo.org stores for a description. ammonia stands in for bleach: the same
/// allow-lists (invenio-config: `*`: class; `a`: href, title, name, class, rel; `abbr`,
/// `acronym`: title), bleach's default URL schemes (http, https, mailto), no `rel`
/// added, and the text of a dropped `<script>`/`<style>` kept as bleach's `strip=True`
/// keeps it. Serialisation details (entity forms, attribute quoting) may differ.
pub fn sanitize_description(s: &str) -> String {
    let tags: std::collections::HashSet<&str> = ALLOWED_TAGS.iter().copied().collect();
    let mut tag_attrs = HashMap::new();
    tag_attrs.insert(
        "a",
        ["href", "title", "name", "class", "rel"]
            .into_iter()
            .collect(),
    );
    tag_attrs.insert("abbr", ["title"].into_iter().collect());
    tag_attrs.insert("acronym", ["title"].into_iter().collect());
    let cleaned = ammonia::Builder::default()
        .tags(tags)
        .tag_attributes(tag_attrs)
        .generic_attributes(["class"].into_iter().collect())
        .url_schemes(["http", "https", "mailto"].into_iter().collect())
        .link_rel(None)
        .clean_content_tags(std::collections::HashSet::new())
        .strip_comments(true)
        .clean(&sanitize_unicode(s))
        .to_string();
    cleaned.trim().to_owned()
}

// ---------------------------------------------------------------------------------------
// Dates.

/// `YYYY-MM-DD` naming a real calendar day.
pub fn parse_iso_date(s: &str) -> Option<Date> {
    let b = s.as_bytes();
    if b.len() != 10 || b[4] != b'-' || b[7] != b'-' {
        return None;
    }
    let num = |r: std::ops::Range<usize>| -> Option<u32> {
        let part = s.get(r)?;
        part.bytes()
            .all(|c| c.is_ascii_digit())
            .then(|| part.parse().ok())?
    };
    let y = i32::try_from(num(0..4)?).ok()?;
    let m = Month::try_from(u8::try_from(num(5..7)?).ok()?).ok()?;
    let d = u8::try_from(num(8..10)?).ok()?;
    Date::from_calendar_date(y, m, d).ok()
}

/// Today (UTC).
pub fn today() -> Date {
    OffsetDateTime::now_utc().date()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn licenses_follow_the_legacy_map() {
        // Case and spaces do not matter; the id read back is the legacy one.
        assert_eq!(load_license(&json!(" CC-BY-4.0 ")).unwrap(), "cc-by-4.0");
        // Several legacy ids for one RDM id: the last of the map is read back.
        assert_eq!(load_license(&json!({"id": "MIT"})).unwrap(), "mit-license");
        assert_eq!(load_license(&json!("CC0-1.0")).unwrap(), "cc-zero");
        // Aliases (`cc-by` → CC-BY-4.0).
        assert_eq!(load_license(&json!("cc-by")).unwrap(), "cc-by-4.0");
        let msg = |e: Value| e["messages"][0].as_str().unwrap().to_owned();
        let e = load_license(&json!("my-own-license")).unwrap_err();
        assert_eq!(e["field"], "metadata.license");
        assert_eq!(msg(e), "Invalid license provided: my-own-license");
        assert!(msg(load_license(&json!(123)).unwrap_err())
            .starts_with("Invalid license value provided"));
        assert!(msg(load_license(&json!(["cc-by-4.0"])).unwrap_err())
            .starts_with("Invalid license value provided"));
        assert!(msg(load_license(&json!({"name": "x"})).unwrap_err())
            .starts_with("Invalid license object provided"));
        assert_eq!(
            msg(load_license(&Value::Null).unwrap_err()),
            "Field may not be null."
        );
        // The whole map is loaded.
        assert_eq!(licenses().to_rdm.len(), 519);
    }

    #[test]
    fn default_license_depends_on_type_and_access() {
        let md = |v: Value| v.as_object().unwrap().clone();
        assert_eq!(
            default_license(&md(json!({"upload_type": "dataset"}))),
            Some("CC0-1.0")
        );
        assert_eq!(
            default_license(&md(json!({"title": "T"}))),
            Some("CC-BY-4.0")
        );
        assert_eq!(
            default_license(&md(json!({"access_right": "closed"}))),
            None
        );
        assert_eq!(default_license(&Map::new()), None);
    }

    #[test]
    fn access_rules() {
        let md = |v: Value| v.as_object().unwrap().clone();
        assert!(access_refusal(&md(json!({"access_right": "embargoed"}))).is_some());
        let e = access_refusal(&md(
            json!({"access_right": "embargoed", "embargo_date": ""}),
        ))
        .unwrap();
        assert_eq!(e["field"], "_schema");
        assert_eq!(e["messages"][0], "Unknown access type.");
        assert!(access_refusal(&md(json!({"access_right": "secret"}))).is_some());
        for ok in [
            json!({}),
            json!({"access_right": "open"}),
            json!({"access_right": "restricted"}),
            json!({"access_right": "closed"}),
            json!({"access_right": "embargoed", "embargo_date": "2999-01-01"}),
        ] {
            assert!(access_refusal(&md(ok.clone())).is_none(), "{ok}");
        }
        let today = parse_iso_date("2026-12-01").unwrap();
        let emb = |d: &str| md(json!({"access_right": "embargoed", "embargo_date": d}));
        assert!(embargo_refusal(&emb("2026-12-01"), today).is_some());
        assert!(embargo_refusal(&emb("2026-02-30"), today).is_some());
        assert!(embargo_refusal(&emb("2026-12-02"), today).is_none());
    }

    #[test]
    fn upload_types_are_resource_type_ids() {
        let md = |v: Value| v.as_object().unwrap().clone();
        assert_eq!(
            unknown_resource_type(&md(json!({"upload_type": "dataset"}))),
            None
        );
        assert_eq!(
            unknown_resource_type(&md(
                json!({"upload_type": "publication", "publication_type": "article"})
            )),
            None
        );
        // Today's vocabulary names a thesis `publication-dissertation`.
        assert_eq!(
            unknown_resource_type(&md(
                json!({"upload_type": "publication", "publication_type": "thesis"})
            ))
            .as_deref(),
            Some("publication-thesis")
        );
        assert!(unknown_resource_type(&md(json!({"upload_type": "spreadsheet"}))).is_some());
        assert!(unknown_resource_type(&md(json!({"upload_type": 3}))).is_some());
    }

    #[test]
    fn descriptions_are_cleaned_not_refused() {
        let cases = [
            ("<p>Hello<br>world</p>", "<p>Hello<br>world</p>"),
            ("<script>alert(1)</script>Data", "alert(1)Data"),
            (
                "<a href=\"javascript:alert(1)\" onclick=\"x()\">link</a>",
                "<a>link</a>",
            ),
            (
                "<a href=\"https://example.org\" class=\"c\">l</a>",
                "<a href=\"https://example.org\" class=\"c\">l</a>",
            ),
            ("<img src=x onerror=alert(1)>pic", "pic"),
            ("<p style=\"color:red\">red</p>", "<p>red</p>"),
            ("a <!-- hidden --> b", "a  b"),
            ("x < y & z", "x &lt; y &amp; z"),
            ("  spaced\u{200b}  ", "spaced"),
        ];
        for (input, want) in cases {
            assert_eq!(sanitize_description(input), want, "{input:?}");
        }
    }

    #[test]
    fn dates() {
        assert!(parse_iso_date("2024-02-29").is_some());
        assert!(parse_iso_date("2023-02-29").is_none());
        assert!(parse_iso_date("2024-2-29").is_none());
        assert!(parse_iso_date("2024-13-01").is_none());
        assert!(parse_iso_date("+024-01-01").is_none());
    }
}
