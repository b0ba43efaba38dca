//! Dataset version JSON as Dataverse reads it (`util/json/JsonParser.java`) and checks it
//! (`AbstractDatasetCommand.validateOrDie` → `DatasetFieldValidator`,
//! `DatasetFieldValueValidator`), SOURCES.md §2, §3 and §13.

use serde_json::{json, Map, Value};

use crate::vocab::{self, Field};

/// A parsed version: the citation fields (normalised) and the license.
#[derive(Debug)]
pub(crate) struct Parsed {
    pub fields: Vec<Value>,
    pub license: Option<(String, String)>,
    pub terms_of_use: Option<String>,
}

/// `JsonParser.parseDatasetVersion`: the message of its `JsonParseException` on failure
/// (the caller adds "Error parsing Json: " or "Error parsing dataset version: ").
pub(crate) fn parse_version(v: &Value) -> Result<Parsed, String> {
    let Some(blocks) = v.get("metadataBlocks").and_then(Value::as_object) else {
        // Bundle `jsonparser.error.metadatablocks.not.found`.
        return Err("Invalid JSON object: metadata blocks not found.".to_owned());
    };
    let mut fields = Vec::new();
    // `parseMetadataBlocks`: every block's `fields`, looked up by name in any block.
    for block in blocks.values() {
        let Some(list) = block.get("fields").and_then(Value::as_array) else {
            continue;
        };
        for f in list {
            if let Some(parsed) = parse_field(f)? {
                fields.push(parsed);
            }
        }
    }
    let license = parse_license(v.get("license"))?;
    // `parseTermsOfUseAndAccess`: the custom terms' text.
    let terms_of_use = v
        .get("termsOfUse")
        .and_then(Value::as_str)
        .filter(|t| !t.trim().is_empty())
        .map(str::to_owned);
    Ok(Parsed {
        fields,
        license,
        terms_of_use,
    })
}

/// `JsonParser.parseLicense`: absent → none (`:AllowCustomTermsOfUse` on, the default:
/// custom terms, all empty); by uri first, then by name.
fn parse_license(v: Option<&Value>) -> Result<Option<(String, String)>, String> {
    let owned = |(n, u, _): (&str, &str, &str)| Some((n.to_owned(), u.to_owned()));
    match v {
        None | Some(Value::Null) => Ok(None),
        Some(Value::String(s)) => vocab::license(s)
            .map(owned)
            .ok_or_else(|| format!("Invalid license: {s}")),
        Some(Value::Object(o)) => {
            let name = o.get("name").and_then(Value::as_str);
            let uri = o.get("uri").and_then(Value::as_str);
            if let Some(l) = uri.and_then(vocab::license) {
                return Ok(owned(l));
            }
            let Some(name) = name else {
                return Err("Invalid or unsupported license section submitted.".to_owned());
            };
            // `getByPotentiallyLocalizedName`: by name only.
            vocab::LICENSES
                .iter()
                .find(|(n, _, _)| *n == name)
                .copied()
                .map(owned)
                .ok_or_else(|| format!("Invalid or unsupported license: {name}"))
        }
        Some(_) => Err("Invalid or unsupported license section submitted.".to_owned()),
    }
}

/// `JsonParser.parseField`: an unknown `typeName` is dropped (`Ok(None)`); `multiple` and
/// `typeClass` must match the block's definition.
fn parse_field(f: &Value) -> Result<Option<Value>, String> {
    let Some(name) = f.get("typeName").and_then(Value::as_str) else {
        return Ok(None);
    };
    let Some(def) = vocab::field(name) else {
        return Ok(None);
    };
    let multiple = f.get("multiple").and_then(Value::as_bool);
    if multiple != Some(def.multiple) {
        return Err(format!("incorrect multiple   for field {name}"));
    }
    let type_class = f.get("typeClass").and_then(Value::as_str).unwrap_or("");
    if type_class != def.type_class() {
        return Err(match def.type_class() {
            "compound" => format!("incorrect  typeClass for field {name}, should be compound."),
            "controlledVocabulary" => {
                format!("incorrect  typeClass for field {name}, should be controlledVocabulary")
            }
            _ => format!("incorrect  typeClass for field: {name}, should be primitive"),
        });
    }
    let value = f.get("value").unwrap_or(&Value::Null);
    let value = if def.is_compound() {
        parse_compound(def, value)?
    } else {
        parse_primitive(def, value)?
    };
    Ok(Some(json!({
        "typeName": name,
        "multiple": def.multiple,
        "typeClass": def.type_class(),
        "value": value,
    })))
}

/// How `ControlledVocabularyException`'s message starts.
const VOCABULARY_ERROR: &str = "Value '";

/// `parsePrimitiveValue` / `parseControlledVocabularyValue` (duplicate vocabulary values
/// are dropped).
fn parse_primitive(def: &Field, value: &Value) -> Result<Value, String> {
    let one = |v: &Value| -> Result<Value, String> {
        let Some(s) = v.as_str() else {
            return Err(format!(
                "Invalid value submitted for {}. It should be a single value.",
                def.name
            ));
        };
        // `DatasetFieldValidator.isValid`: these control characters are stripped.
        let s: String = s
            .chars()
            .filter(|c| !matches!(c, '\u{000C}' | '\u{0002}' | '\u{FFFE}'))
            .collect();
        if def.vocabulary {
            // Exact value or an alternate (`ControlledVocabAlternate`); case-sensitive.
            return vocab::vocabulary_value(def.name, &s)
                .map(|v| Value::String(v.to_owned()))
                .ok_or_else(|| {
                    format!(
                        "{VOCABULARY_ERROR}{s}' does not exist in type '{}'",
                        def.name
                    )
                });
        }
        Ok(Value::String(s))
    };
    if def.multiple {
        let Some(items) = value.as_array() else {
            return Err(format!(
                "Invalid values submitted for {}. It should be an array of values.",
                def.name
            ));
        };
        let mut values: Vec<Value> = Vec::new();
        for v in items.iter().map(one) {
            let v = v?;
            if !(def.vocabulary && values.contains(&v)) {
                values.push(v);
            }
        }
        Ok(Value::Array(values))
    } else {
        if value.is_array() {
            return Err(format!(
                "Invalid value submitted for {}. It should be a single value.",
                def.name
            ));
        }
        one(value)
    }
}

/// `parseCompoundValue`: objects of `{child: field}`; a key that is not a child refused.
fn parse_compound(def: &Field, value: &Value) -> Result<Value, String> {
    let vocabulary_errors = std::cell::Cell::new(false);
    let one = |v: &Value| -> Result<Value, String> {
        let Some(obj) = v.as_object() else {
            return Err(format!(
                "Invalid value submitted for {}. It should be a single value.",
                def.name
            ));
        };
        let mut out = Map::new();
        for (key, child) in obj {
            let child_name = child.get("typeName").and_then(Value::as_str).unwrap_or(key);
            match vocab::field(child_name) {
                Some(c) if c.parent == Some(def.name) => {}
                Some(_) => {
                    return Err(format!("field {child_name} is not a child of {}", def.name))
                }
                None => continue,
            }
            match parse_field(child) {
                Ok(Some(parsed)) => {
                    out.insert(child_name.to_owned(), parsed);
                }
                Ok(None) => {}
                // A child's unknown vocabulary value (`ControlledVocabularyException`, the
                // only error starting so) is collected; the compound fails after.
                Err(e) if e.starts_with(VOCABULARY_ERROR) => vocabulary_errors.set(true),
                Err(e) => return Err(e),
            }
        }
        Ok(Value::Object(out))
    };
    let parsed = if def.multiple {
        let Some(items) = value.as_array() else {
            return Err(format!(
                "Invalid values submitted for {}. It should be an array of values.",
                def.name
            ));
        };
        items
            .iter()
            .map(one)
            .collect::<Result<Vec<_>, _>>()
            .map(Value::Array)?
    } else {
        one(value)?
    };
    // `CompoundVocabularyException` (not lenient: rethrown by `parseFieldsFromArray`).
    if vocabulary_errors.get() {
        return Err("Invalid controlled vocabulary in compound field ".to_owned());
    }
    Ok(parsed)
}

const FIELD_VALUE: &str = "edu.harvard.iq.dataverse.DatasetField[ id=null ]";
const VALUE_VALUE: &str = "edu.harvard.iq.dataverse.DatasetFieldValueValue[ id=null ]";

fn is_empty(v: &Value) -> bool {
    match v {
        Value::Null => true,
        Value::String(s) => s.trim().is_empty(),
        Value::Array(a) => a.iter().all(is_empty),
        Value::Object(o) => o
            .values()
            .all(|f| is_empty(f.get("value").unwrap_or(&Value::Null))),
        _ => false,
    }
}

fn find<'a>(fields: &'a [Value], name: &str) -> Option<&'a Value> {
    fields
        .iter()
        .find(|f| f.get("typeName").and_then(Value::as_str) == Some(name))
        .and_then(|f| f.get("value"))
}

/// `AbstractDatasetCommand.validateOrDie` (non-lenient): every violation as
/// `"<message> (Invalid value:<toString>)"`, joined with ", " after "Validation Failed: ",
/// ending with "."; answered 403 (`IllegalCommandException`).
pub(crate) fn validate(fields: &[Value]) -> Result<(), String> {
    let mut violations = Vec::new();
    for def in vocab::FIELDS.iter().filter(|f| f.parent.is_none()) {
        let value = find(fields, def.name);
        // `DatasetFieldValidator`: "isrequired".
        if value.is_none_or(is_empty) {
            if def.required {
                violations.push(format!(
                    "{} is required. (Invalid value:{FIELD_VALUE})",
                    def.display_name()
                ));
            }
            continue;
        }
        let Some(value) = value else { continue };
        let items: Vec<&Value> = match value {
            Value::Array(a) => a.iter().collect(),
            v => vec![v],
        };
        for item in items {
            if def.is_compound() {
                let Some(obj) = item.as_object() else {
                    continue;
                };
                if is_empty(item) {
                    continue;
                }
                for child in vocab::children(def.name) {
                    let cv = obj.get(child.name).and_then(|f| f.get("value"));
                    match cv {
                        Some(v) if !is_empty(v) => check_value(child, v, &mut violations),
                        _ if child.required && def.required => violations.push(format!(
                            "{} is required. (Invalid value:{FIELD_VALUE})",
                            child.display_name()
                        )),
                        // "isrequired.conditional": a required child of an optional
                        // compound whose siblings are filled.
                        _ if child.required => violations.push(format!(
                            "{} is required if you choose to enter a value in any of the optional {} fields. (Invalid value:{FIELD_VALUE})",
                            child.display_name(),
                            def.title
                        )),
                        _ => {}
                    }
                }
            } else {
                check_value(def, item, &mut violations);
            }
        }
    }
    if violations.is_empty() {
        Ok(())
    } else {
        Err(format!("Validation Failed: {}.", violations.join(", ")))
    }
}

/// `DatasetFieldValueValidator.isValid`: e-mail, URL and date fields.
fn check_value(def: &Field, v: &Value, violations: &mut Vec<String>) {
    let values: Vec<&str> = match v {
        Value::Array(a) => a.iter().filter_map(Value::as_str).collect(),
        v => v.as_str().into_iter().collect(),
    };
    for s in values {
        let name = def.display_name();
        let bad = match def.field_type {
            "email" if !is_email(s) => Some(format!("{name} {s}  is not a valid email address.")),
            "url" if !is_url(s) => Some(format!("{name} {s} is not a valid URL.")),
            "date" if !is_date(s) => Some(format!(
                "{name}  is not a valid date. \"yyyy\" is a supported format."
            )),
            _ => None,
        };
        if let Some(msg) = bad {
            violations.push(format!("{msg} (Invalid value:{VALUE_VALUE})"));
        }
    }
}

/// `EMailValidator` (commons-validator): one `@`, a local part, a dotted domain.
fn is_email(s: &str) -> bool {
    let Some((local, domain)) = s.trim().split_once('@') else {
        return false;
    };
    let ok_chars = |p: &str| {
        !p.is_empty()
            && p.chars()
                .all(|c| c.is_ascii_alphanumeric() || "!#$%&'*+-/=?^_`{|}~.".contains(c))
    };
    ok_chars(local)
        && !domain.contains('@')
        && domain.contains('.')
        && domain
            .split('.')
            .all(|l| !l.is_empty() && l.chars().all(|c| c.is_ascii_alphanumeric() || c == '-'))
}

/// `URLValidator`: http, https or ftp with a host.
fn is_url(s: &str) -> bool {
    ["http://", "https://", "ftp://"].iter().any(|p| {
        s.strip_prefix(p)
            .is_some_and(|rest| !rest.is_empty() && !rest.starts_with('/') && !rest.contains(' '))
    })
}

/// `yyyy-MM-dd`, `yyyy-MM`, `yyyy` (and a `yyyy-MM-ddTHH:mm:ss` date-time).
fn is_date(s: &str) -> bool {
    let date = s.split_once('T').map_or(s, |(d, _)| d);
    let parts: Vec<&str> = date.split('-').collect();
    let num = |p: &str, len: usize| p.len() == len && p.chars().all(|c| c.is_ascii_digit());
    match parts.as_slice() {
        [y] => num(y, 4),
        [y, m] => num(y, 4) && num(m, 2) && (1..=12).contains(&m.parse::<u32>().unwrap_or(0)),
        [y, m, d] => {
            if !(num(y, 4) && num(m, 2) && num(d, 2)) {
                return false;
            }
            let (y, m, d) = (
                y.parse::<i32>().unwrap_or(0),
                m.parse::<u8>().unwrap_or(0),
                d.parse::<u8>().unwrap_or(0),
            );
            time::Month::try_from(m)
                .ok()
                .and_then(|m| time::Date::from_calendar_date(y, m, d).ok())
                .is_some()
        }
        _ => false,
    }
}
