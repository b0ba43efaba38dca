//! Single values between schema.org and InvenioRDM: dates, licenses, ORCIDs, names,
//! languages, resource types, HTML.

use time::OffsetDateTime;

/// Today as `YYYY-MM-DD` (UTC).
pub fn today() -> String {
    let d = OffsetDateTime::now_utc().date();
    format!("{:04}-{:02}-{:02}", d.year(), u8::from(d.month()), d.day())
}

fn real_date(y: i32, m: u8, d: u8) -> bool {
    time::Month::try_from(m)
        .ok()
        .and_then(|m| time::Date::from_calendar_date(y, m, d).ok())
        .is_some()
}

/// A schema.org date (`2017`, `2017-05`, `2017-05-03`, `2017-05-03T10:00:00Z`) as an
/// EDTF level 0 date, which `publication_date` takes (invenio-rdm-records
/// `EDTFDateString`); `None` for anything else.
pub fn to_edtf(raw: &str) -> Option<String> {
    let s = raw.trim();
    if let Some((a, b)) = s.split_once('/') {
        // An EDTF interval, as `publication_date` may hold one.
        let (a, b) = (to_edtf(a)?, to_edtf(b)?);
        return (a <= b && !a.contains('/') && !b.contains('/')).then(|| format!("{a}/{b}"));
    }
    let date = s.split(['T', ' ']).next().unwrap_or(s);
    let parts: Vec<&str> = date.split('-').collect();
    let digits = |p: &str, n: usize| p.len() == n && p.bytes().all(|b| b.is_ascii_digit());
    match parts.as_slice() {
        [y] if digits(y, 4) => Some((*y).to_owned()),
        [y, m] if digits(y, 4) && digits(m, 2) && matches!(m.parse::<u8>(), Ok(1..=12)) => {
            Some(format!("{y}-{m}"))
        }
        [y, m, d] if digits(y, 4) && digits(m, 2) && digits(d, 2) => {
            let ok = real_date(y.parse().ok()?, m.parse().ok()?, d.parse().ok()?);
            ok.then(|| format!("{y}-{m}-{d}"))
        }
        _ => None,
    }
}

/// A bare ORCID (`0000-0002-1825-0097`) from a bare one or an orcid.org URL.
pub fn orcid(raw: &str) -> Option<String> {
    let s = raw.trim();
    let s = s
        .strip_prefix("https://orcid.org/")
        .or_else(|| s.strip_prefix("http://orcid.org/"))
        .unwrap_or(s)
        .trim_end_matches('/');
    let ok = s.len() == 19
        && s.char_indices().all(|(i, c)| match i {
            4 | 9 | 14 => c == '-',
            18 => c.is_ascii_digit() || c == 'X',
            _ => c.is_ascii_digit(),
        });
    ok.then(|| s.to_owned())
}

/// A license as an InvenioRDM rights id: SPDX ids lower-cased (the stock vocabulary,
/// invenio-rdm-records `fixtures/data/vocabularies/licenses.csv`, and Zenodo's use them),
/// from an SPDX id, an spdx.org URL or a creativecommons.org URL.
pub fn license_id(raw: &str) -> Option<String> {
    let s = raw.trim().trim_end_matches('/');
    let lower = s.to_ascii_lowercase();
    let plain = |id: &str| {
        (!id.is_empty()
            && id.len() <= 64
            && id
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b"-.+".contains(&b)))
        .then(|| id.to_ascii_lowercase())
    };
    for prefix in ["https://spdx.org/licenses/", "http://spdx.org/licenses/"] {
        if let Some(id) = lower.strip_prefix(prefix) {
            return plain(id.trim_end_matches(".html").trim_end_matches(".json"));
        }
    }
    let cc = lower
        .strip_prefix("https://creativecommons.org/")
        .or_else(|| lower.strip_prefix("http://creativecommons.org/"));
    if let Some(rest) = cc {
        let parts: Vec<&str> = rest.split('/').filter(|p| !p.is_empty()).collect();
        return match parts.as_slice() {
            ["licenses", kind, version, ..] => Some(format!("cc-{kind}-{version}")),
            ["publicdomain", "zero", version, ..] => Some(format!("cc0-{version}")),
            ["publicdomain", "mark", version, ..] => Some(format!("cc-pdm-{version}")),
            _ => None,
        };
    }
    if s.contains("://") {
        return None;
    }
    plain(s)
}

/// The spdx.org URL of a rights id, with SPDX's usual capitals for the common families
/// (only the id itself is needed to map it back: readers lower-case it).
pub fn license_url(id: &str) -> String {
    let spdx = if let Some(rest) = id.strip_prefix("cc0-") {
        format!("CC0-{rest}")
    } else if id.starts_with("cc-") {
        id.to_ascii_uppercase()
    } else {
        match id {
            "mit" => "MIT".to_owned(),
            other => other.to_owned(),
        }
    };
    format!("https://spdx.org/licenses/{spdx}")
}

/// `Family, Given` or `Given Family` split into (family, given); `None` for one word.
pub fn split_name(name: &str) -> Option<(String, String)> {
    let name = name.trim();
    if let Some((family, given)) = name.split_once(',') {
        let (f, g) = (family.trim(), given.trim());
        return (!f.is_empty() && !g.is_empty()).then(|| (f.to_owned(), g.to_owned()));
    }
    let (given, family) = name.rsplit_once(' ')?;
    let (g, f) = (given.trim(), family.trim());
    (!f.is_empty() && !g.is_empty()).then(|| (f.to_owned(), g.to_owned()))
}

/// ISO 639-1 codes RDS sends → ISO 639-3 (the `languages` vocabulary); three letters pass.
pub fn language_id(raw: &str) -> Option<String> {
    let s = raw.trim().to_ascii_lowercase();
    let s = s.split(['-', '_']).next().unwrap_or("");
    let two = [
        ("en", "eng"),
        ("de", "deu"),
        ("fr", "fra"),
        ("es", "spa"),
        ("it", "ita"),
        ("nl", "nld"),
        ("pt", "por"),
        ("pl", "pol"),
        ("cs", "ces"),
        ("da", "dan"),
        ("sv", "swe"),
        ("no", "nor"),
        ("fi", "fin"),
        ("el", "ell"),
        ("hu", "hun"),
        ("ru", "rus"),
        ("uk", "ukr"),
        ("tr", "tur"),
        ("ar", "ara"),
        ("he", "heb"),
        ("zh", "zho"),
        ("ja", "jpn"),
        ("ko", "kor"),
        ("la", "lat"),
    ];
    if let Some((_, three)) = two.iter().find(|(t, _)| *t == s) {
        return Some((*three).to_owned());
    }
    (s.len() == 3 && s.bytes().all(|b| b.is_ascii_lowercase())).then(|| s.to_owned())
}

/// schema.org types → InvenioRDM resource types (ids of the stock vocabulary,
/// `resource_types.yaml`).
pub fn resource_type_of_schema_type(t: &str) -> Option<&'static str> {
    Some(match t {
        "Dataset" => "dataset",
        "SoftwareSourceCode" | "SoftwareApplication" | "ComputerLanguage" => "software",
        "ScholarlyArticle" | "Article" => "publication-article",
        "Book" => "publication-book",
        "Chapter" => "publication-section",
        "Report" => "publication-report",
        "Thesis" => "publication-dissertation",
        "ImageObject" => "image",
        "Photograph" => "image-photo",
        "VideoObject" => "video",
        "AudioObject" => "audio",
        "PresentationDigitalDocument" => "presentation",
        "Poster" => "poster",
        "Event" => "event",
        "LearningResource" | "Course" => "lesson",
        "Project" | "ResearchProject" => "project",
        _ => return None,
    })
}

/// An id of the resource type vocabulary's form (`dataset`, `image-photo`).
pub fn is_resource_type_id(s: &str) -> bool {
    !s.is_empty() && s.len() <= 64 && s.bytes().all(|b| b.is_ascii_lowercase() || b == b'-')
}

/// Plain text as the HTML `description` takes: escaped, newlines as `<br>`.
pub fn text_to_html(text: &str) -> String {
    text.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('\n', "<br>")
}

/// HTML back to text: `<br>` and paragraph ends as newlines, other tags dropped,
/// the basic entities decoded.
pub fn html_to_text(html: &str) -> String {
    let html = html
        .replace("<br>", "\n")
        .replace("<br/>", "\n")
        .replace("<br />", "\n")
        .replace("</p>", "\n");
    let mut out = String::new();
    let mut in_tag = false;
    for c in html.chars() {
        match c {
            '<' => in_tag = true,
            '>' if in_tag => in_tag = false,
            c if !in_tag => out.push(c),
            _ => {}
        }
    }
    out.replace("&lt;", "<")
        .replace("&gt;", ">")
        .replace("&quot;", "\"")
        .replace("&#39;", "'")
        .replace("&nbsp;", " ")
        .replace("&amp;", "&")
        .trim_end_matches('\n')
        .to_owned()
}
