//! Metadata validation as invenio-rdm-records' `services/schemas/metadata.py`
//! (`MetadataSchema` and the schemas it nests) does it, with its messages; the error
//! list has the dotted `field` paths of invenio-records-resources' `errors.py`
//! (`validation_error_to_list_errors`). Vocabulary ids are checked apart
//! ([`unknown_vocabulary_id`]) because Invenio checks them in the relation fields, with
//! a different answer.

use serde_json::{json, Map, Value};

use crate::vocab;

/// One entry of Invenio's `errors` list.
pub fn field_error(field: &str, message: &str) -> Value {
    json!({ "field": field, "messages": [message] })
}

const MISSING: &str = "Missing data for required field.";

/// marshmallow's `Length(min=3)` message, as `title` and `description` use it.
fn shorter_than(n: usize) -> String {
    format!("Shorter than minimum length {n}.")
}

fn str_of<'a>(m: &'a Map<String, Value>, k: &str) -> Option<&'a str> {
    m.get(k).and_then(Value::as_str)
}

/// A real calendar date `YYYY`, `YYYY-MM` or `YYYY-MM-DD` (EDTF level 0 dates, which is
/// what `EDTFDateString` of marshmallow-utils accepts besides intervals).
fn is_edtf_date(s: &str) -> bool {
    let parts: Vec<&str> = s.split('-').collect();
    let num = |p: &str, n: usize| p.len() == n && p.bytes().all(|b| b.is_ascii_digit());
    match parts.as_slice() {
        [y] => num(y, 4),
        [y, m] => num(y, 4) && num(m, 2) && matches!(m.parse::<u8>(), Ok(1..=12)),
        [y, m, d] => {
            if !(num(y, 4) && num(m, 2) && num(d, 2)) {
                return false;
            }
            let (Ok(y), Ok(m), Ok(d)) = (y.parse::<i32>(), m.parse::<u8>(), d.parse::<u8>()) else {
                return false;
            };
            time::Month::try_from(m)
                .ok()
                .and_then(|m| time::Date::from_calendar_date(y, m, d).ok())
                .is_some()
        }
        _ => false,
    }
}

/// An EDTF level 0 date or interval `a/b` (`a` not after `b`).
pub fn is_edtf(s: &str) -> bool {
    match s.split_once('/') {
        Some((a, b)) => is_edtf_date(a) && is_edtf_date(b) && a <= b,
        None => is_edtf_date(s),
    }
}

/// ORCID's form and ISO 7064 mod 11-2 check digit (idutils' `is_orcid`, bare form).
fn is_orcid(s: &str) -> bool {
    let digits: Vec<char> = s.chars().filter(|c| *c != '-').collect();
    if s.len() != 19 || digits.len() != 16 {
        return false;
    }
    let mut total = 0u32;
    for c in &digits[..15] {
        let Some(d) = c.to_digit(10) else {
            return false;
        };
        total = (total + d) * 2;
    }
    let check = (12 - total % 11) % 11;
    let want = if check == 10 {
        'X'
    } else {
        char::from_digit(check, 10).unwrap_or('?')
    };
    digits[15] == want
}

fn person_or_org(p: &Value, at: &str, errors: &mut Vec<Value>) {
    let Some(p) = p.as_object() else {
        errors.push(field_error(at, "Invalid input type."));
        return;
    };
    // `PersonOrOrganizationSchema.type`: required, one of NAMES (its "required" message
    // is the same as the choice message).
    let choice = "Invalid value. Choose one of ['organizational', 'personal'].";
    match str_of(p, "type") {
        Some("personal") => {
            if str_of(p, "family_name").is_none_or(str::is_empty) {
                errors.push(field_error(
                    &format!("{at}.family_name"),
                    "Family name cannot be blank.",
                ));
            }
        }
        Some("organizational") => {
            if str_of(p, "name").is_none_or(str::is_empty) {
                errors.push(field_error(&format!("{at}.name"), "Name cannot be blank."));
            }
        }
        _ => errors.push(field_error(&format!("{at}.type"), choice)),
    }
    if let Some(ids) = p.get("identifiers") {
        let Some(ids) = ids.as_array() else {
            errors.push(field_error(
                &format!("{at}.identifiers"),
                "Not a valid list.",
            ));
            return;
        };
        for (i, id) in ids.iter().enumerate() {
            let scheme = id.get("scheme").and_then(Value::as_str);
            let value = id.get("identifier").and_then(Value::as_str).unwrap_or("");
            let here = format!("{at}.identifiers.{i}");
            // marshmallow-utils `schemas/identifier.py` (`IdentifierSchema`): a missing
            // scheme is detected from the identifier (here: an ORCID), an unknown one is
            // "Invalid scheme.", a malformed identifier "Invalid {label} identifier.".
            match scheme {
                Some(s) if !vocab::PERSONORG_SCHEMES.contains(&s) => {
                    errors.push(field_error(&format!("{here}.scheme"), "Invalid scheme."))
                }
                Some("orcid") if !is_orcid(value) => errors.push(field_error(
                    &format!("{here}.identifier"),
                    "Invalid ORCID identifier.",
                )),
                None if value.is_empty() => {
                    errors.push(field_error(&format!("{here}.identifier"), MISSING))
                }
                None if !is_orcid(value) => errors.push(field_error(
                    &format!("{here}.scheme"),
                    "No valid scheme recognized for identifier.",
                )),
                _ => {}
            }
        }
    }
}

fn creators(v: &Value, errors: &mut Vec<Value>) {
    let Some(list) = v.as_array() else {
        errors.push(field_error("metadata.creators", "Not a valid list."));
        return;
    };
    if list.is_empty() {
        // `validate.Length(min=1, error="Missing data for required field.")`.
        errors.push(field_error("metadata.creators", MISSING));
    }
    for (i, c) in list.iter().enumerate() {
        let at = format!("metadata.creators.{i}");
        match c.get("person_or_org") {
            Some(p) => person_or_org(p, &format!("{at}.person_or_org"), errors),
            None => errors.push(field_error(&format!("{at}.person_or_org"), MISSING)),
        }
        // `validate_affiliations_data`: names (or ids) must not repeat.
        if let Some(affs) = c.get("affiliations").and_then(Value::as_array) {
            let mut seen = std::collections::BTreeSet::new();
            for (j, a) in affs.iter().enumerate() {
                let key = a
                    .get("name")
                    .or_else(|| a.get("id"))
                    .and_then(Value::as_str);
                match key {
                    Some(k) => {
                        if !seen.insert(k) {
                            errors.push(field_error(
                                &format!("{at}.affiliations"),
                                &format!("Duplicated affiliations: {k}"),
                            ));
                        }
                    }
                    None => errors.push(field_error(
                        &format!("{at}.affiliations.{j}"),
                        "An existing id or a free text name must be present.",
                    )),
                }
            }
        }
    }
}

fn rights(v: &Value, errors: &mut Vec<Value>) {
    let Some(list) = v.as_array() else {
        errors.push(field_error("metadata.rights", "Not a valid list."));
        return;
    };
    for (i, r) in list.iter().enumerate() {
        let at = format!("metadata.rights.{i}");
        let Some(r) = r.as_object() else {
            errors.push(field_error(&at, "Invalid input type."));
            continue;
        };
        // `RightsSchema.validate_rights`: an id xor a free title.
        match (r.get("id"), r.get("title")) {
            (None, None) => errors.push(field_error(
                &format!("{at}.rights"),
                "An existing id or a free text title must be present",
            )),
            (Some(_), _) if r.len() > 1 => errors.push(field_error(
                &format!("{at}.rights"),
                "Only an existing id or free text title/description/link is accepted, but not both cases at the same time",
            )),
            _ => {}
        }
    }
}

fn dates(v: &Value, errors: &mut Vec<Value>) {
    let Some(list) = v.as_array() else {
        errors.push(field_error("metadata.dates", "Not a valid list."));
        return;
    };
    for (i, d) in list.iter().enumerate() {
        let at = format!("metadata.dates.{i}");
        match d.get("date").and_then(Value::as_str) {
            None => errors.push(field_error(&format!("{at}.date"), MISSING)),
            Some(s) if !is_edtf(s) => errors.push(field_error(
                &format!("{at}.date"),
                "Please provide a valid date or interval.",
            )),
            _ => {}
        }
        if d.get("type").is_none() {
            errors.push(field_error(&format!("{at}.type"), MISSING));
        }
    }
}

/// Every schema error of `metadata` (the record's `metadata` object), in field order.
/// On a draft save these are reported and the fields dropped; on publish they are a 400.
pub fn metadata_errors(md: &Map<String, Value>) -> Vec<Value> {
    let mut errors = Vec::new();
    if md.get("resource_type").is_none() {
        errors.push(field_error("metadata.resource_type", MISSING));
    }
    match md.get("creators") {
        None => errors.push(field_error("metadata.creators", MISSING)),
        Some(c) => creators(c, &mut errors),
    }
    // `title = SanitizedUnicode(required=True, validate=validate.Length(min=3))`.
    match md.get("title") {
        None => errors.push(field_error("metadata.title", MISSING)),
        Some(Value::String(t)) if t.trim().chars().count() < 3 => {
            errors.push(field_error("metadata.title", &shorter_than(3)))
        }
        Some(Value::String(_)) => {}
        Some(_) => errors.push(field_error("metadata.title", "Not a valid string.")),
    }
    // `publication_date = EDTFDateString(required=True)`; an empty string counts as
    // missing (rdm tests/resources/test_publish_errors.py `test_simple_field_error`).
    match md.get("publication_date").and_then(Value::as_str) {
        None | Some("") => errors.push(field_error("metadata.publication_date", MISSING)),
        Some(d) if !is_edtf(d) => errors.push(field_error(
            "metadata.publication_date",
            "Please provide a valid date or interval.",
        )),
        _ => {}
    }
    if let Some(d) = md.get("description") {
        match d.as_str() {
            Some(s) if s.trim().chars().count() < 3 => {
                errors.push(field_error("metadata.description", &shorter_than(3)))
            }
            Some(_) => {}
            None => errors.push(field_error("metadata.description", "Not a valid string.")),
        }
    }
    if let Some(r) = md.get("rights") {
        rights(r, &mut errors);
    }
    if let Some(d) = md.get("dates") {
        dates(d, &mut errors);
    }
    if let Some(v) = md.get("version").and_then(Value::as_str) {
        if v.chars().count() > 191 {
            errors.push(field_error(
                "metadata.version",
                "Longer than maximum length 191.",
            ));
        }
    }
    if let Some(p) = md.get("publisher") {
        if !p.is_string() {
            errors.push(field_error("metadata.publisher", "Not a valid string."));
        }
    }
    errors
}

/// The first vocabulary id the instance does not know (resource type, license, language,
/// date type, affiliation id), which a real instance answers with 400 "Not a valid
/// value." for the whole request, draft or not.
pub fn unknown_vocabulary_id(md: &Map<String, Value>) -> Option<String> {
    let id_of = |v: &Value| v.get("id").and_then(Value::as_str).map(str::to_owned);
    if let Some(rt) = md.get("resource_type") {
        match id_of(rt) {
            Some(id) if vocab::RESOURCE_TYPES.contains(&id.as_str()) => {}
            other => return Some(other.unwrap_or_default()),
        }
    }
    let list = |k: &str| {
        md.get(k)
            .and_then(Value::as_array)
            .cloned()
            .unwrap_or_default()
    };
    for r in list("rights") {
        if let Some(id) = id_of(&r) {
            if !vocab::is_license(&id) {
                return Some(id);
            }
        }
    }
    for l in list("languages") {
        match id_of(&l) {
            Some(id) if vocab::is_language(&id) => {}
            other => return Some(other.unwrap_or_default()),
        }
    }
    for d in list("dates") {
        if let Some(t) = d.get("type") {
            match id_of(t) {
                Some(id) if vocab::DATE_TYPES.contains(&id.as_str()) => {}
                other => return Some(other.unwrap_or_default()),
            }
        }
    }
    // Affiliation ids name ROR entries of the instance's affiliations vocabulary; the
    // emulator loads none, so any `id` is unknown (a `name` is free text).
    for c in list("creators") {
        for a in c
            .get("affiliations")
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
        {
            if let Some(id) = id_of(a) {
                return Some(id);
            }
        }
    }
    // Subjects by id belong to a subject vocabulary (none loaded); free `subject` text is fine.
    for s in list("subjects") {
        if let Some(id) = id_of(&s) {
            return Some(id);
        }
    }
    None
}

/// The metadata a draft keeps after a save: top-level fields with an error are dropped
/// ("Saving a draft only saves valid metadata and reports (doesn't raise) errors":
/// invenio-drafts-resources `services/records/service.py`, `update_draft`). Invenio drops
/// the invalid value at the level where marshmallow found it; dropping the whole top-level
/// field is coarser, and errs on the side of losing what was invalid.
pub fn keep_valid(md: &Map<String, Value>, errors: &[Value]) -> Map<String, Value> {
    let bad: std::collections::BTreeSet<&str> = errors
        .iter()
        .filter_map(|e| e.get("field").and_then(Value::as_str))
        .filter_map(|f| f.strip_prefix("metadata."))
        .map(|f| f.split('.').next().unwrap_or(f))
        .collect();
    md.iter()
        .filter(|(k, _)| !bad.contains(k.as_str()))
        .map(|(k, v)| (k.clone(), v.clone()))
        .collect()
}

/// The server's additions on load: `person_or_org.name` is filled from the family and
/// given names for persons (`"Family, Given"`), given/family names dropped for
/// organisations (`PersonOrOrganizationSchema.update_names`).
pub fn normalise(md: &mut Map<String, Value>) {
    let Some(Value::Array(creators)) = md.get_mut("creators") else {
        return;
    };
    for c in creators {
        let Some(p) = c.get_mut("person_or_org").and_then(Value::as_object_mut) else {
            continue;
        };
        match p.get("type").and_then(Value::as_str) {
            Some("personal") => {
                let names: Vec<String> = ["family_name", "given_name"]
                    .iter()
                    .filter_map(|k| p.get(*k).and_then(Value::as_str))
                    .filter(|s| !s.is_empty())
                    .map(str::to_owned)
                    .collect();
                p.insert("name".into(), Value::String(names.join(", ")));
            }
            Some("organizational") => {
                p.remove("family_name");
                p.remove("given_name");
            }
            _ => {}
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn edtf_dates_and_intervals() {
        for ok in [
            "2020",
            "2020-02",
            "2020-02-29",
            "2019/2020",
            "2020-01-01/2020-12-31",
        ] {
            assert!(is_edtf(ok), "{ok}");
        }
        for bad in [
            "",
            "20",
            "2019-02-29",
            "2020-13",
            "2020-1-1",
            "2021/2020",
            "today",
        ] {
            assert!(!is_edtf(bad), "{bad}");
        }
    }

    #[test]
    fn orcid_check_digit() {
        assert!(is_orcid("0000-0002-1825-0097"));
        assert!(is_orcid("0000-0001-5109-3700"));
        assert!(!is_orcid("0000-0002-1825-0098"));
        assert!(!is_orcid("https://orcid.org/0000-0002-1825-0097"));
    }
}
