//! Value conversions shared by both directions: dates, licenses, ORCIDs, descriptions.

use time::{Date, Month, OffsetDateTime};

/// Zenodo's `YYYY-MM-DD`.
fn iso(date: Date) -> String {
    format!(
        "{:04}-{:02}-{:02}",
        date.year(),
        u8::from(date.month()),
        date.day()
    )
}

/// Today's date (UTC) as `YYYY-MM-DD`.
pub fn today() -> String {
    iso(OffsetDateTime::now_utc().date())
}

fn num(s: &str) -> Option<u8> {
    (!s.is_empty() && s.bytes().all(|b| b.is_ascii_digit()))
        .then(|| s.parse().ok())
        .flatten()
}

/// Normalises a schema.org date (`2017`, `2017-05`, `2017-05-03`, `2017-05-03T10:00:00Z`)
/// to Zenodo's `YYYY-MM-DD`. The date part of a timestamp is kept as written (no time
/// zone shift). Anything else gives `None`.
pub fn normalise_date(raw: &str) -> Option<String> {
    let raw = raw.trim();
    let date = raw.split(['T', ' ']).next().unwrap_or(raw);
    let mut parts = date.split('-');
    let (y, m, d) = (parts.next(), parts.next(), parts.next());
    if parts.next().is_some() {
        return None;
    }
    let y_str = y?;
    if y_str.len() != 4 || !y_str.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    let y: i32 = y_str.parse().ok()?;
    let m = match m {
        None => 1,
        Some(m) if m.len() == 2 => num(m)?,
        Some(_) => return None,
    };
    let d = match d {
        None => 1,
        Some(d) if d.len() == 2 => num(d)?,
        Some(_) => return None,
    };
    // The calendar's rules (month lengths, leap years) are the date crate's.
    let date = Date::from_calendar_date(y, Month::try_from(m).ok()?, d).ok()?;
    Some(iso(date))
}

/// Plain text to Zenodo's HTML description: line breaks become `<br>` (as the original
/// port did). CRLF, LF and a lone CR each count as one break, so that a second round
/// trip gives the same HTML.
pub fn text_to_html(text: &str) -> String {
    text.replace("\r\n", "\n").replace(['\r', '\n'], "<br>")
}

/// The inverse of [`text_to_html`] for line breaks; other HTML is left alone.
pub fn html_to_text(html: &str) -> String {
    html.replace("<br />", "\n")
        .replace("<br/>", "\n")
        .replace("<br>", "\n")
}

/// An ORCID iD (`0000-0002-1825-0097`) found in an `@id` or identifier, with or without
/// the `https://orcid.org/` prefix.
pub fn orcid(raw: &str) -> Option<String> {
    let raw = raw.trim();
    let id = raw
        .strip_prefix("https://orcid.org/")
        .or_else(|| raw.strip_prefix("http://orcid.org/"))
        .or_else(|| raw.strip_prefix("orcid.org/"))
        .or_else(|| raw.strip_prefix("orcid:"))
        .unwrap_or(raw)
        .trim_end_matches('/');
    let groups: Vec<&str> = id.split('-').collect();
    let ok = groups.len() == 4
        && groups.iter().all(|g| g.len() == 4)
        && groups.iter().enumerate().all(|(i, g)| {
            g.bytes()
                .enumerate()
                .all(|(j, b)| b.is_ascii_digit() || (i == 3 && j == 3 && b == b'X'))
        });
    ok.then(|| id.to_owned())
}

const CC_KINDS: &[&str] = &["by", "by-sa", "by-nd", "by-nc", "by-nc-sa", "by-nc-nd"];

/// A license URL or SPDX id to Zenodo's license id (lower-case SPDX, as zenodo.org's
/// `/api/licenses` vocabulary uses): `https://creativecommons.org/licenses/by/4.0/` and
/// `CC-BY-4.0` both give `cc-by-4.0`; CC0 gives `cc0-1.0`. Unknown URLs give `None`.
pub fn license_id(raw: &str) -> Option<String> {
    let raw = raw.trim();
    if raw.is_empty() {
        return None;
    }
    let lower = raw.to_ascii_lowercase();
    let Some((_, rest)) = lower.split_once("://") else {
        // A bare id: SPDX (`CC-BY-4.0`, `MIT`) or already Zenodo's.
        let ok = lower
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'.' | b'+' | b'_'));
        // Zenodo's legacy `cc-zero` (how it reads CC0 back) in the form the URLs give, so
        // that a round trip through an RO-Crate keeps the id.
        if lower == "cc-zero" {
            return Some("cc0-1.0".into());
        }
        return ok.then_some(lower);
    };
    let rest = rest.strip_prefix("www.").unwrap_or(rest);
    let segs: Vec<&str> = rest.trim_end_matches('/').split('/').collect();
    match segs.as_slice() {
        ["creativecommons.org", "licenses", kind, ver, ..]
            if CC_KINDS.contains(kind) && is_version(ver) =>
        {
            Some(format!("cc-{kind}-{ver}"))
        }
        ["creativecommons.org", "publicdomain", "zero", ver, ..] if is_version(ver) => {
            Some(format!("cc0-{ver}"))
        }
        ["spdx.org", "licenses", id] | ["opensource.org", "licenses", id] => {
            let id = id
                .trim_end_matches(".html")
                .trim_end_matches(".json")
                .trim_end_matches(".php");
            license_id(id)
        }
        _ => None,
    }
}

/// A license version such as `4.0`: digits and dots only (a URL like `.../by/4.0&` is
/// not a license Zenodo knows).
fn is_version(v: &str) -> bool {
    !v.is_empty() && v.bytes().all(|b| b.is_ascii_digit() || b == b'.')
}

/// The canonical URL of a Zenodo license id, where one is known (Creative Commons).
pub fn license_url(id: &str) -> Option<String> {
    let mut id = id.trim().to_ascii_lowercase();
    // zenodo.org's legacy API reads CC0 back as its legacy id `cc-zero` (zenodo-rdm
    // `legacy/zenodo_legacy/licenses.py`, `rdm_to_legacy`).
    if id == "cc-zero" {
        id = "cc0-1.0".into();
    }
    if let Some(ver) = id.strip_prefix("cc0-") {
        return Some(format!(
            "https://creativecommons.org/publicdomain/zero/{ver}/"
        ));
    }
    let rest = id.strip_prefix("cc-")?;
    let (kind, ver) = rest.rsplit_once('-')?;
    (CC_KINDS.contains(&kind) && ver.bytes().all(|b| b.is_ascii_digit() || b == b'.'))
        .then(|| format!("https://creativecommons.org/licenses/{kind}/{ver}/"))
}

/// `Given Family` parts to Zenodo's `Family, Given`.
pub fn creator_name(
    family: Option<&str>,
    given: Option<&str>,
    name: Option<&str>,
) -> Option<String> {
    fn clean(s: Option<&str>) -> Option<&str> {
        s.map(str::trim).filter(|s| !s.is_empty())
    }
    match (clean(family), clean(given)) {
        (Some(f), Some(g)) => Some(format!("{f}, {g}")),
        (Some(f), None) => clean(name)
            .map(str::to_owned)
            .or_else(|| Some(f.to_owned())),
        (None, Some(g)) => clean(name)
            .map(str::to_owned)
            .or_else(|| Some(g.to_owned())),
        (None, None) => clean(name).map(str::to_owned),
    }
}

/// Splits Zenodo's `Family, Given` (only when there is exactly one comma).
pub fn split_creator_name(name: &str) -> Option<(String, String)> {
    let (family, given) = name.split_once(',')?;
    if given.contains(',') {
        return None;
    }
    let (family, given) = (family.trim(), given.trim());
    (!family.is_empty() && !given.is_empty()).then(|| (family.to_owned(), given.to_owned()))
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used)]
    use super::*;

    #[test]
    fn dates() {
        let cases = [
            ("2017", Some("2017-01-01")),
            ("2017-05", Some("2017-05-01")),
            ("2017-05-03", Some("2017-05-03")),
            ("2017-05-03T23:30:00+02:00", Some("2017-05-03")),
            ("2017-05-03 10:00", Some("2017-05-03")),
            ("2024-02-29", Some("2024-02-29")),
            ("2023-02-29", None),
            ("2017-13-01", None),
            ("17-01-01", None),
            ("2017-1-1", None),
            ("yesterday", None),
            ("", None),
            ("२०१७", None),
        ];
        for (input, want) in cases {
            assert_eq!(normalise_date(input).as_deref(), want, "{input:?}");
        }
        assert!(normalise_date(&today()).is_some());
        assert_eq!(normalise_date("1900-02-29"), None, "not a leap year");
        assert_eq!(normalise_date("2000-02-29").as_deref(), Some("2000-02-29"));
        assert_eq!(normalise_date("0999-12-31").as_deref(), Some("0999-12-31"));
    }

    #[test]
    fn licenses() {
        let cases = [
            (
                "https://creativecommons.org/licenses/by/4.0/",
                Some("cc-by-4.0"),
            ),
            (
                "http://creativecommons.org/licenses/by-sa/3.0",
                Some("cc-by-sa-3.0"),
            ),
            (
                "https://creativecommons.org/licenses/by-nc-nd/4.0/legalcode",
                Some("cc-by-nc-nd-4.0"),
            ),
            (
                "https://creativecommons.org/publicdomain/zero/1.0/",
                Some("cc0-1.0"),
            ),
            ("CC-BY-4.0", Some("cc-by-4.0")),
            ("cc-by-4.0", Some("cc-by-4.0")),
            ("MIT", Some("mit")),
            (
                "https://spdx.org/licenses/Apache-2.0.html",
                Some("apache-2.0"),
            ),
            ("https://opensource.org/licenses/MIT", Some("mit")),
            ("https://example.org/my-license", None),
            ("all rights reserved", None),
            ("", None),
        ];
        for (input, want) in cases {
            assert_eq!(license_id(input).as_deref(), want, "{input:?}");
        }
        for id in ["cc-by-4.0", "cc-by-nc-sa-4.0", "cc0-1.0"] {
            let url = license_url(id).unwrap();
            assert_eq!(license_id(&url).as_deref(), Some(id));
        }
        assert_eq!(license_url("mit"), None);
        assert_eq!(license_url("cc-zero"), license_url("cc0-1.0"));
        assert_eq!(license_id("CC-ZERO").as_deref(), Some("cc0-1.0"));
    }

    #[test]
    fn orcids_and_names() {
        assert_eq!(
            orcid("https://orcid.org/0000-0002-1825-0097").as_deref(),
            Some("0000-0002-1825-0097")
        );
        assert_eq!(
            orcid("0000-0002-1694-233X").as_deref(),
            Some("0000-0002-1694-233X")
        );
        assert_eq!(orcid("https://example.org/people/1"), None);
        assert_eq!(orcid("0000-0002-1825"), None);
        assert_eq!(
            creator_name(Some("Doe"), Some("Jane"), Some("x")).as_deref(),
            Some("Doe, Jane")
        );
        assert_eq!(
            creator_name(None, None, Some(" Jane Doe ")).as_deref(),
            Some("Jane Doe")
        );
        assert_eq!(creator_name(None, None, Some("  ")), None);
        assert_eq!(
            split_creator_name("Doe, Jane"),
            Some(("Doe".into(), "Jane".into()))
        );
        assert_eq!(split_creator_name("CERN"), None);
        assert_eq!(text_to_html("a\nb\r\nc"), "a<br>b<br>c");
        // Found by fuzzing: "c\r\r\nd" once gave "c\r<br>d", and a second round "c<br>d".
        assert_eq!(text_to_html("c\r\r\nd\re"), "c<br><br>d<br>e");
        let html = "a<br/>b\r\r\nc";
        let once = text_to_html(&html_to_text(html));
        assert_eq!(text_to_html(&html_to_text(&once)), once);
        assert_eq!(html_to_text("a<br>b<br/>c<br />d"), "a\nb\nc\nd");
    }
}
