//! RDS's file names (`/folder/sub/x.csv`, the exporter's flattened or folder form) as
//! Dataverse's `directoryLabel` and `label`.
//!
//! - The label is the last segment; the characters Dataverse refuses in it
//!   (`FileLabelValidator`: `: < > ; # / " * | ? \`) become `_`.
//! - The folders: each segment transliterated to ASCII (`deunicode`: `Müller` →
//!   `Muller`, `日本` → `Ri Ben`), because Dataverse's `FileDirectoryNameValidator` takes
//!   only `[A-Za-z0-9_ ./\-]` (Java's ASCII `\w`); what is still outside that set becomes
//!   `.`, runs of it one `.` (Dataverse's own rule for folders from zip files,
//!   `[^A-Za-z0-9_ ./\-]+` → `.`); then Dataverse's normalisation (`StringUtil.
//!   sanitizeFileDirectory`): leading and trailing `/ - . space` stripped, empty → none.
//! - `.`, `..` and empty segments are dropped; control characters removed.

/// `(directoryLabel, label)`; `None` when no name is left.
pub fn split(raw: &str) -> Option<(Option<String>, String)> {
    let cleaned: String = raw.chars().filter(|c| !c.is_control()).collect();
    let mut segs: Vec<&str> = cleaned
        .split(['/', '\\'])
        .filter(|s| !s.trim().is_empty() && *s != "." && *s != "..")
        .collect();
    let name = segs.pop()?;
    let label: String = name
        .trim()
        .chars()
        .map(|c| match c {
            ':' | '<' | '>' | ';' | '#' | '"' | '*' | '|' | '?' => '_',
            c => c,
        })
        .collect();
    let folders: Vec<String> = segs
        .iter()
        .map(|s| folder_segment(s))
        .filter(|s| !s.is_empty())
        .collect();
    let dir = folders.join("/");
    let dir = dir.trim_matches(|c| matches!(c, '/' | '-' | '.' | ' '));
    let dir = (!dir.is_empty()).then(|| dir.to_owned());
    Some((dir, label))
}

fn folder_segment(s: &str) -> String {
    let ascii = deunicode::deunicode(s);
    let mut out = String::with_capacity(ascii.len());
    let mut replaced = false;
    for c in ascii.chars() {
        if c.is_ascii_alphanumeric() || matches!(c, '_' | ' ' | '.' | '-') {
            out.push(c);
            replaced = false;
        } else if !replaced {
            out.push('.');
            replaced = true;
        }
    }
    out.trim().to_owned()
}

/// The path RDS sees for a file: `directoryLabel/label`, or the label alone.
pub fn joined(dir: Option<&str>, label: &str) -> String {
    match dir.filter(|d| !d.is_empty()) {
        Some(d) => format!("{d}/{label}"),
        None => label.to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn s(raw: &str) -> Option<(Option<String>, String)> {
        split(raw)
    }

    #[test]
    fn folders_become_directory_labels() {
        assert_eq!(
            s("/folder/sub/x.csv"),
            Some((Some("folder/sub".into()), "x.csv".into()))
        );
        assert_eq!(s("x.csv"), Some((None, "x.csv".into())));
        assert_eq!(s("//a//./../b/x"), Some((Some("a/b".into()), "x".into())));
        assert_eq!(
            s("/Müller/Daten/ü.txt"),
            Some((Some("Muller/Daten".into()), "ü.txt".into()))
        );
        assert_eq!(s("/a#b?c/x:y"), Some((Some("a.b.c".into()), "x_y".into())));
        assert_eq!(s("/-.a-/x"), Some((Some("a".into()), "x".into())));
        assert_eq!(s("/"), None);
        assert_eq!(s(""), None);
    }

    #[test]
    fn every_directory_label_passes_dataverses_rule() {
        for raw in [
            "/日本/データ/x",
            "/a\\b/c",
            "/ x /y/z",
            "/ç@€/q",
            "/.../x",
            "/a b/x",
        ] {
            if let Some((Some(d), _)) = split(raw) {
                assert!(
                    d.chars()
                        .all(|c| c.is_ascii_alphanumeric() || "_ ./-".contains(c)),
                    "{raw:?} → {d:?}"
                );
                assert!(
                    !d.starts_with(['/', '-', '.', ' ']) && !d.ends_with(['/', '-', '.', ' ']),
                    "{d:?}"
                );
            }
        }
    }
}
