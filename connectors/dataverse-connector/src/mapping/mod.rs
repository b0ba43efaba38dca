//! Metadata mapping between RO-Crate 1.1 / schema.org JSON-LD and Dataverse's citation
//! block (`scripts/api/data/metadatablocks/citation.tsv`, emulator/SOURCES.md §2), through
//! [`Citation`], the fields the connector reads and writes. Pure functions: no I/O, no
//! panic on any JSON input.
//!
//! | RO-Crate root (schema.org)                    | citation field                         |
//! |-----------------------------------------------|----------------------------------------|
//! | `name`                                        | `title`                                |
//! | `description` (text, or texts joined)         | `dsDescription.dsDescriptionValue`     |
//! | `author` (else `creator`) Person/Organization | `author.authorName` (as written), `authorAffiliation` (the first affiliation's name), `authorIdentifierScheme` `ORCID` + `authorIdentifier` (from the `@id`/`identifier` ORCID) |
//! | `contactPoint` (else authors with `email`)    | `datasetContact.datasetContactEmail`, `datasetContactName` |
//! | `keywords` (array or comma text)              | `keyword.keywordValue`                 |
//! | `license` (SPDX id, SPDX/CC URL, entity)      | `datasetVersion.license {name, uri}` (Dataverse's stock names, §13), else the name as given |
//! | —                                             | `subject` (`DATAVERSE_SUBJECT`; kept on PATCH) |

mod crate_in;
mod crate_out;
mod fields;

#[cfg(test)]
mod tests;

pub use crate_in::{check_shape, from_ro_crate};
pub use crate_out::to_ro_crate;
pub use fields::{from_fields, merge_fields, to_fields};

/// The citation block's subject vocabulary (`citation.tsv`, exact spelling).
pub const SUBJECTS: &[&str] = &[
    "Agricultural Sciences",
    "Arts and Humanities",
    "Astronomy and Astrophysics",
    "Business and Management",
    "Chemistry",
    "Computer and Information Science",
    "Earth and Environmental Sciences",
    "Engineering",
    "Law",
    "Mathematical Sciences",
    "Medicine, Health and Life Sciences",
    "Physics",
    "Social Sciences",
    "Other",
];

/// Dataverse's stock licenses (`scripts/api/data/licenses/*.json`): SPDX id, name, URI.
pub const LICENSES: &[(&str, &str, &str)] = &[
    (
        "CC0-1.0",
        "CC0 1.0",
        "http://creativecommons.org/publicdomain/zero/1.0",
    ),
    (
        "CC-BY-4.0",
        "CC BY 4.0",
        "http://creativecommons.org/licenses/by/4.0",
    ),
    (
        "CC-BY-SA-4.0",
        "CC BY-SA 4.0",
        "http://creativecommons.org/licenses/by-sa/4.0",
    ),
    (
        "CC-BY-NC-4.0",
        "CC BY-NC 4.0",
        "http://creativecommons.org/licenses/by-nc/4.0",
    ),
    (
        "CC-BY-NC-SA-4.0",
        "CC BY-NC-SA 4.0",
        "http://creativecommons.org/licenses/by-nc-sa/4.0",
    ),
    (
        "CC-BY-ND-4.0",
        "CC BY-ND 4.0",
        "http://creativecommons.org/licenses/by-nd/4.0",
    ),
    (
        "CC-BY-NC-ND-4.0",
        "CC BY-NC-ND 4.0",
        "http://creativecommons.org/licenses/by-nc-nd/4.0",
    ),
    ("MIT", "MIT", "https://opensource.org/licenses/MIT"),
    (
        "Apache-2.0",
        "Apache-2.0",
        "http://www.apache.org/licenses/LICENSE-2.0",
    ),
];

#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Author {
    pub name: String,
    pub affiliation: Option<String>,
    /// The bare ORCID iD (`0000-0002-1825-0097`).
    pub orcid: Option<String>,
}

#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Contact {
    pub name: Option<String>,
    pub email: String,
}

/// A license as Dataverse takes it: by URI first, then by name (`JsonParser.parseLicense`).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct License {
    pub name: Option<String>,
    pub uri: Option<String>,
}

/// The citation fields the connector maps; `None`/empty: not given.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Citation {
    pub title: Option<String>,
    pub description: Option<String>,
    pub authors: Vec<Author>,
    pub contacts: Vec<Contact>,
    pub keywords: Vec<String>,
    pub subjects: Vec<String>,
    pub license: Option<License>,
}

/// The most entries of a list one mapping takes (authors, keywords, contacts).
pub const MAX_ITEMS: usize = 1000;

/// A plausible e-mail address: what Dataverse's `EMailValidator` would take, roughly.
pub fn looks_like_email(s: &str) -> bool {
    let Some((local, domain)) = s.split_once('@') else {
        return false;
    };
    !local.is_empty()
        && domain.contains('.')
        && !domain.starts_with('.')
        && !domain.ends_with('.')
        && !domain.contains('@')
        && !s.chars().any(|c| c.is_whitespace() || c.is_control())
}

/// `0000-0002-1825-0097` from an ORCID iD in any of its forms (URL, bare).
pub fn orcid_of(s: &str) -> Option<String> {
    let s = s.trim();
    let bare = s
        .strip_prefix("https://orcid.org/")
        .or_else(|| s.strip_prefix("http://orcid.org/"))
        .unwrap_or(s)
        .trim_end_matches('/');
    let b = bare.as_bytes();
    let ok = b.len() == 19
        && b.iter().enumerate().all(|(i, c)| match i {
            4 | 9 | 14 => *c == b'-',
            18 => c.is_ascii_digit() || *c == b'X',
            _ => c.is_ascii_digit(),
        });
    ok.then(|| bare.to_owned())
}

/// `http(s)://host/path` without scheme and trailing `/`, lower-cased, for comparisons.
fn uri_key(s: &str) -> String {
    let s = s.trim();
    let s = s
        .strip_prefix("https://")
        .or_else(|| s.strip_prefix("http://"))
        .unwrap_or(s);
    s.trim_end_matches('/').to_ascii_lowercase()
}

/// The stock license a text names (SPDX id, SPDX page, the license's URI or name).
pub fn known_license(s: &str) -> Option<&'static (&'static str, &'static str, &'static str)> {
    let key = uri_key(s);
    let spdx = key
        .strip_prefix("spdx.org/licenses/")
        .map(|k| k.trim_end_matches(".html").to_owned())
        .unwrap_or_else(|| key.clone());
    LICENSES.iter().find(|(id, name, uri)| {
        id.eq_ignore_ascii_case(&spdx) || uri_key(uri) == key || name.eq_ignore_ascii_case(s.trim())
    })
}

/// The license to send for what an RO-Crate names; unknown ones go as given (Dataverse
/// knows the installation's own list and answers 400 for what it lacks).
pub fn license_of(text: &str) -> Option<License> {
    let t = text.trim();
    if t.is_empty() {
        return None;
    }
    if let Some((_, name, uri)) = known_license(t) {
        return Some(License {
            name: Some((*name).to_owned()),
            uri: Some((*uri).to_owned()),
        });
    }
    let is_url = t.starts_with("http://") || t.starts_with("https://");
    Some(if is_url {
        License {
            name: None,
            uri: Some(t.to_owned()),
        }
    } else {
        License {
            name: Some(t.to_owned()),
            uri: None,
        }
    })
}

/// CC0 1.0, Dataverse's default license (sent when the RO-Crate names none: a dataset
/// without one cannot be published, §13).
pub fn default_license() -> License {
    License {
        name: Some("CC0 1.0".into()),
        uri: Some("http://creativecommons.org/publicdomain/zero/1.0".into()),
    }
}

/// Why a new dataset cannot be created.
#[derive(Debug, PartialEq, Eq)]
pub struct NoContact;

/// Fills what Dataverse requires (title, author, contact, description, subject) and a
/// license, without touching what is set. No contact in the crate and none configured:
/// [`NoContact`].
pub fn with_defaults(
    mut c: Citation,
    username: Option<&str>,
    contact_email: Option<&str>,
    subject: &str,
    today: &str,
) -> Result<Citation, NoContact> {
    if c.title.is_none() {
        c.title = Some(format!("Upload from Sciebo RDS, {today}"));
    }
    if c.description.is_none() {
        c.description = Some(format!("Uploaded from Sciebo RDS on {today}."));
    }
    if c.authors.is_empty() {
        let user = username
            .map(|u| u.split('@').next().unwrap_or(u).trim())
            .filter(|u| !u.is_empty())
            .unwrap_or("Sciebo RDS user");
        c.authors.push(Author {
            name: user.to_owned(),
            ..Author::default()
        });
    }
    if c.contacts.is_empty() {
        let email = contact_email.ok_or(NoContact)?;
        c.contacts.push(Contact {
            name: None,
            email: email.to_owned(),
        });
    }
    if c.subjects.is_empty() {
        c.subjects.push(subject.to_owned());
    }
    if c.license.is_none() {
        c.license = Some(default_license());
    }
    Ok(c)
}

/// The license as `datasetVersion.license`.
pub fn license_json(l: &License) -> serde_json::Value {
    let mut o = serde_json::Map::new();
    if let Some(n) = &l.name {
        o.insert("name".into(), n.clone().into());
    }
    if let Some(u) = &l.uri {
        o.insert("uri".into(), u.clone().into());
    }
    serde_json::Value::Object(o)
}

/// `datasetVersion.license` read back.
pub fn license_from_json(v: Option<&serde_json::Value>) -> Option<License> {
    let v = v?;
    if let Some(s) = v.as_str() {
        return license_of(s);
    }
    let text = |k: &str| {
        v.get(k)
            .and_then(serde_json::Value::as_str)
            .map(str::trim)
            .filter(|s| !s.is_empty())
            .map(str::to_owned)
    };
    let l = License {
        name: text("name"),
        uri: text("uri"),
    };
    (l.name.is_some() || l.uri.is_some()).then_some(l)
}

/// Today's date, `YYYY-MM-DD` (UTC).
pub fn today() -> String {
    let d = time::OffsetDateTime::now_utc().date();
    format!("{:04}-{:02}-{:02}", d.year(), u8::from(d.month()), d.day())
}
