//! The vocabularies a stock InvenioRDM instance loads, from invenio-rdm-records'
//! fixtures (`invenio_rdm_records/fixtures/data/vocabularies/`, commit 1f23bb9e). An id
//! outside them fails the record's relation check (`InvalidRelationValue`, answered 400
//! "Not a valid value." by invenio-records-resources' `resources/errors.py`).

/// `resource_types.yaml`: every `id`.
pub const RESOURCE_TYPES: &[&str] = &[
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

/// `date_types.yaml`: every `id`.
pub const DATE_TYPES: &[&str] = &[
    "accepted",
    "available",
    "collected",
    "copyrighted",
    "created",
    "issued",
    "other",
    "submitted",
    "updated",
    "valid",
    "withdrawn",
    "coverage",
];

/// `licenses.csv`, its `id` and `props__url` columns (`data/licenses.tsv`).
const LICENSES_TSV: &str = include_str!("../data/licenses.tsv");

/// The license ids with their canonical URLs.
pub fn licenses() -> impl Iterator<Item = (&'static str, &'static str)> {
    LICENSES_TSV
        .lines()
        .filter(|l| !l.starts_with('#'))
        .filter_map(|l| l.split_once('\t'))
}

pub fn is_license(id: &str) -> bool {
    licenses().any(|(l, _)| l == id)
}

/// The canonical URL of a license id, for rendering `rights[].link`/`props.url`.
pub fn license_url(id: &str) -> Option<&'static str> {
    licenses().find(|(l, _)| *l == id).map(|(_, u)| u)
}

/// `languages.yaml` holds ISO 639-3 codes (`aaa`, `eng`, `deu`, ...), 7,000+ of them;
/// the emulator knows 24 common ones (a real instance would accept more).
pub fn is_language(id: &str) -> bool {
    const COMMON: &[&str] = &[
        "eng", "deu", "fra", "spa", "ita", "nld", "por", "pol", "ces", "dan", "swe", "nor", "fin",
        "ell", "hun", "rus", "ukr", "tur", "ara", "heb", "zho", "jpn", "kor", "lat",
    ];
    COMMON.contains(&id)
}

/// Person/organisation identifier schemes of a stock instance (`RDM_RECORDS_PERSONORG_SCHEMES`
/// in invenio-rdm-records' `config.py`: orcid, isni, gnd, ror).
pub const PERSONORG_SCHEMES: &[&str] = &["orcid", "isni", "gnd", "ror"];
