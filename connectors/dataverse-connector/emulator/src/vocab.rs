//! The stock citation block (`scripts/api/data/metadatablocks/citation.tsv` of
//! IQSS/dataverse 6.11, SOURCES.md §2) and the stock licenses
//! (`scripts/api/data/licenses/*.json`, SOURCES.md §13).

/// One `#datasetField` row.
#[derive(Debug)]
pub(crate) struct Field {
    pub name: &'static str,
    pub title: &'static str,
    /// `none` (compound), `text`, `textbox`, `email`, `url`, `date`, `int`, `float`.
    pub field_type: &'static str,
    pub vocabulary: bool,
    pub multiple: bool,
    pub required: bool,
    pub parent: Option<&'static str>,
}

impl Field {
    /// `DatasetFieldType.getDisplayName`: a child is "<parent title> <child title>"
    /// unless the two are equal.
    pub fn display_name(&self) -> String {
        match self.parent.and_then(field) {
            Some(p) if p.title != self.title => format!("{} {}", p.title, self.title),
            _ => self.title.to_owned(),
        }
    }

    pub fn is_compound(&self) -> bool {
        self.field_type == "none"
    }

    /// The `typeClass` `JsonParser.parseField` expects.
    pub fn type_class(&self) -> &'static str {
        if self.is_compound() {
            "compound"
        } else if self.vocabulary {
            "controlledVocabulary"
        } else {
            "primitive"
        }
    }
}

pub(crate) fn field(name: &str) -> Option<&'static Field> {
    FIELDS.iter().find(|f| f.name == name)
}

pub(crate) fn children(parent: &str) -> impl Iterator<Item = &'static Field> + '_ {
    FIELDS.iter().filter(move |f| f.parent == Some(parent))
}

/// `DatasetFieldServiceBean.findControlledVocabularyValueByDatasetFieldTypeAndStrValue`:
/// the exact value (case-sensitive), else an alternate; the stored value is the row's.
pub(crate) fn vocabulary_value(field: &str, value: &str) -> Option<&'static str> {
    VOCABULARY
        .iter()
        .find(|(f, v, _)| *f == field && *v == value)
        .or_else(|| {
            VOCABULARY
                .iter()
                .find(|(f, _, alts)| *f == field && alts.contains(&value))
        })
        .map(|(_, v, _)| *v)
}

/// The licenses of a new installation (`CC0 1.0` the default, `CC BY 4.0`):
/// (name, uri, iconUri).
pub(crate) const LICENSES: &[(&str, &str, &str)] = &[
    (
        "CC0 1.0",
        "http://creativecommons.org/publicdomain/zero/1.0",
        "https://licensebuttons.net/p/zero/1.0/88x31.png",
    ),
    (
        "CC BY 4.0",
        "http://creativecommons.org/licenses/by/4.0",
        "https://licensebuttons.net/l/by/4.0/88x31.png",
    ),
];

/// `JsonParser.parseLicense`: by uri first (`getByNameOrUri`), then by name.
pub(crate) fn license(name_or_uri: &str) -> Option<(&'static str, &'static str, &'static str)> {
    LICENSES
        .iter()
        .find(|(_, uri, _)| *uri == name_or_uri)
        .or_else(|| LICENSES.iter().find(|(name, _, _)| *name == name_or_uri))
        .copied()
}

// Generated from IQSS/dataverse scripts/api/data/metadatablocks/citation.tsv (6.11):
// (name, title, fieldType, allowControlledVocabulary, allowmultiples, required, parent).
pub(crate) const FIELDS: &[Field] = &[
    Field { name: "title", title: "Title", field_type: "text", vocabulary: false, multiple: false, required: true, parent: None },
    Field { name: "subtitle", title: "Subtitle", field_type: "text", vocabulary: false, multiple: false, required: false, parent: None },
    Field { name: "alternativeTitle", title: "Alternative Title", field_type: "text", vocabulary: false, multiple: true, required: false, parent: None },
    Field { name: "alternativeURL", title: "Alternative URL", field_type: "url", vocabulary: false, multiple: false, required: false, parent: None },
    Field { name: "otherId", title: "Other Identifier", field_type: "none", vocabulary: false, multiple: true, required: false, parent: None },
    Field { name: "otherIdAgency", title: "Agency", field_type: "text", vocabulary: false, multiple: false, required: false, parent: Some("otherId") },
    Field { name: "otherIdValue", title: "Identifier", field_type: "text", vocabulary: false, multiple: false, required: false, parent: Some("otherId") },
    Field { name: "author", title: "Author", field_type: "none", vocabulary: false, multiple: true, required: true, parent: None },
    Field { name: "authorName", title: "Name", field_type: "text", vocabulary: false, multiple: false, required: true, parent: Some("author") },
    Field { name: "authorAffiliation", title: "Affiliation", field_type: "text", vocabulary: false, multiple: false, required: false, parent: Some("author") },
    Field { name: "authorIdentifierScheme", title: "Identifier Type", field_type: "text", vocabulary: true, multiple: false, required: false, parent: Some("author") },
    Field { name: "authorIdentifier", title: "Identifier", field_type: "text", vocabulary: false, multiple: false, required: false, parent: Some("author") },
    Field { name: "datasetContact", title: "Point of Contact", field_type: "none", vocabulary: false, multiple: true, required: true, parent: None },
    Field { name: "datasetContactName", title: "Name", field_type: "text", vocabulary: false, multiple: false, required: false, parent: Some("datasetContact") },
    Field { name: "datasetContactAffiliation", title: "Affiliation", field_type: "text", vocabulary: false, multiple: false, required: false, parent: Some("datasetContact") },
    Field { name: "datasetContactEmail", title: "E-mail", field_type: "email", vocabulary: false, multiple: false, required: true, parent: Some("datasetContact") },
    Field { name: "dsDescription", title: "Description", field_type: "none", vocabulary: false, multiple: true, required: true, parent: None },
    Field { name: "dsDescriptionValue", title: "Text", field_type: "textbox", vocabulary: false, multiple: false, required: true, parent: Some("dsDescription") },
    Field { name: "dsDescriptionDate", title: "Date", field_type: "date", vocabulary: false, multiple: false, required: false, parent: Some("dsDescription") },
    Field { name: "subject", title: "Subject", field_type: "text", vocabulary: true, multiple: true, required: true, parent: None },
    Field { name: "keyword", title: "Keyword", field_type: "none", vocabulary: false, multiple: true, required: false, parent: None },
    Field { name: "keywordValue", title: "Term", field_type: "text", vocabulary: false, multiple: false, required: false, parent: Some("keyword") },
    Field { name: "keywordTermURI", title: "Term URI", field_type: "url", vocabulary: false, multiple: false, required: false, parent: Some("keyword") },
    Field { name: "keywordVocabulary", title: "Controlled Vocabulary Name", field_type: "text", vocabulary: false, multiple: false, required: false, parent: Some("keyword") },
    Field { name: "keywordVocabularyURI", title: "Controlled Vocabulary URL", field_type: "url", vocabulary: false, multiple: false, required: false, parent: Some("keyword") },
    Field { name: "topicClassification", title: "Topic Classification", field_type: "none", vocabulary: false, multiple: true, required: false, parent: None },
    Field { name: "topicClassValue", title: "Term", field_type: "text", vocabulary: false, multiple: false, required: false, parent: Some("topicClassification") },
    Field { name: "topicClassVocab", title: "Controlled Vocabulary Name", field_type: "text", vocabulary: false, multiple: false, required: false, parent: Some("topicClassification") },
    Field { name: "topicClassVocabURI", title: "Controlled Vocabulary URL", field_type: "url", vocabulary: false, multiple: false, required: false, parent: Some("topicClassification") },
    Field { name: "publication", title: "Related Publication", field_type: "none", vocabulary: false, multiple: true, required: false, parent: None },
    Field { name: "publicationRelationType", title: "Relation Type", field_type: "text", vocabulary: true, multiple: false, required: false, parent: Some("publication") },
    Field { name: "publicationCitation", title: "Citation", field_type: "textbox", vocabulary: false, multiple: false, required: false, parent: Some("publication") },
    Field { name: "publicationIDType", title: "Identifier Type", field_type: "text", vocabulary: true, multiple: false, required: false, parent: Some("publication") },
    Field { name: "publicationIDNumber", title: "Identifier", field_type: "text", vocabulary: false, multiple: false, required: false, parent: Some("publication") },
    Field { name: "publicationURL", title: "URL", field_type: "url", vocabulary: false, multiple: false, required: false, parent: Some("publication") },
    Field { name: "notesText", title: "Notes", field_type: "textbox", vocabulary: false, multiple: false, required: false, parent: None },
    Field { name: "language", title: "Language", field_type: "text", vocabulary: true, multiple: true, required: false, parent: None },
    Field { name: "producer", title: "Producer", field_type: "none", vocabulary: false, multiple: true, required: false, parent: None },
    Field { name: "producerName", title: "Name", field_type: "text", vocabulary: false, multiple: false, required: true, parent: Some("producer") },
    Field { name: "producerAffiliation", title: "Affiliation", field_type: "text", vocabulary: false, multiple: false, required: false, parent: Some("producer") },
    Field { name: "producerAbbreviation", title: "Abbreviated Name", field_type: "text", vocabulary: false, multiple: false, required: false, parent: Some("producer") },
    Field { name: "producerURL", title: "URL", field_type: "url", vocabulary: false, multiple: false, required: false, parent: Some("producer") },
    Field { name: "producerLogoURL", title: "Logo URL", field_type: "url", vocabulary: false, multiple: false, required: false, parent: Some("producer") },
    Field { name: "productionDate", title: "Production Date", field_type: "date", vocabulary: false, multiple: false, required: false, parent: None },
    Field { name: "productionPlace", title: "Production Location", field_type: "text", vocabulary: false, multiple: true, required: false, parent: None },
    Field { name: "contributor", title: "Contributor", field_type: "none", vocabulary: false, multiple: true, required: false, parent: None },
    Field { name: "contributorType", title: "Type", field_type: "text", vocabulary: true, multiple: false, required: false, parent: Some("contributor") },
    Field { name: "contributorName", title: "Name", field_type: "text", vocabulary: false, multiple: false, required: false, parent: Some("contributor") },
    Field { name: "grantNumber", title: "Funding Information", field_type: "none", vocabulary: false, multiple: true, required: false, parent: None },
    Field { name: "grantNumberAgency", title: "Agency", field_type: "text", vocabulary: false, multiple: false, required: false, parent: Some("grantNumber") },
    Field { name: "grantNumberValue", title: "Identifier", field_type: "text", vocabulary: false, multiple: false, required: false, parent: Some("grantNumber") },
    Field { name: "distributor", title: "Distributor", field_type: "none", vocabulary: false, multiple: true, required: false, parent: None },
    Field { name: "distributorName", title: "Name", field_type: "text", vocabulary: false, multiple: false, required: false, parent: Some("distributor") },
    Field { name: "distributorAffiliation", title: "Affiliation", field_type: "text", vocabulary: false, multiple: false, required: false, parent: Some("distributor") },
    Field { name: "distributorAbbreviation", title: "Abbreviated Name", field_type: "text", vocabulary: false, multiple: false, required: false, parent: Some("distributor") },
    Field { name: "distributorURL", title: "URL", field_type: "url", vocabulary: false, multiple: false, required: false, parent: Some("distributor") },
    Field { name: "distributorLogoURL", title: "Logo URL", field_type: "url", vocabulary: false, multiple: false, required: false, parent: Some("distributor") },
    Field { name: "distributionDate", title: "Distribution Date", field_type: "date", vocabulary: false, multiple: false, required: false, parent: None },
    Field { name: "depositor", title: "Depositor", field_type: "text", vocabulary: false, multiple: false, required: false, parent: None },
    Field { name: "dateOfDeposit", title: "Deposit Date", field_type: "date", vocabulary: false, multiple: false, required: false, parent: None },
    Field { name: "timePeriodCovered", title: "Time Period", field_type: "none", vocabulary: false, multiple: true, required: false, parent: None },
    Field { name: "timePeriodCoveredStart", title: "Start Date", field_type: "date", vocabulary: false, multiple: false, required: false, parent: Some("timePeriodCovered") },
    Field { name: "timePeriodCoveredEnd", title: "End Date", field_type: "date", vocabulary: false, multiple: false, required: false, parent: Some("timePeriodCovered") },
    Field { name: "dateOfCollection", title: "Date of Collection", field_type: "none", vocabulary: false, multiple: true, required: false, parent: None },
    Field { name: "dateOfCollectionStart", title: "Start Date", field_type: "date", vocabulary: false, multiple: false, required: false, parent: Some("dateOfCollection") },
    Field { name: "dateOfCollectionEnd", title: "End Date", field_type: "date", vocabulary: false, multiple: false, required: false, parent: Some("dateOfCollection") },
    Field { name: "kindOfData", title: "Data Type", field_type: "text", vocabulary: false, multiple: true, required: false, parent: None },
    Field { name: "series", title: "Series", field_type: "none", vocabulary: false, multiple: true, required: false, parent: None },
    Field { name: "seriesName", title: "Name", field_type: "text", vocabulary: false, multiple: false, required: false, parent: Some("series") },
    Field { name: "seriesInformation", title: "Information", field_type: "textbox", vocabulary: false, multiple: false, required: false, parent: Some("series") },
    Field { name: "software", title: "Software", field_type: "none", vocabulary: false, multiple: true, required: false, parent: None },
    Field { name: "softwareName", title: "Name", field_type: "text", vocabulary: false, multiple: false, required: false, parent: Some("software") },
    Field { name: "softwareVersion", title: "Version", field_type: "text", vocabulary: false, multiple: false, required: false, parent: Some("software") },
    Field { name: "relatedMaterial", title: "Related Material", field_type: "textbox", vocabulary: false, multiple: true, required: false, parent: None },
    Field { name: "relatedDatasets", title: "Related Dataset", field_type: "textbox", vocabulary: false, multiple: true, required: false, parent: None },
    Field { name: "otherReferences", title: "Other Reference", field_type: "text", vocabulary: false, multiple: true, required: false, parent: None },
    Field { name: "dataSources", title: "Data Source", field_type: "textbox", vocabulary: false, multiple: true, required: false, parent: None },
    Field { name: "originOfSources", title: "Origin of Historical Sources", field_type: "textbox", vocabulary: false, multiple: false, required: false, parent: None },
    Field { name: "characteristicOfSources", title: "Characteristic of Sources", field_type: "textbox", vocabulary: false, multiple: false, required: false, parent: None },
    Field { name: "accessToSources", title: "Documentation and Access to Sources", field_type: "textbox", vocabulary: false, multiple: false, required: false, parent: None },
];

// The `#controlledVocabulary` section: (field, value, alternates). `language` is cut to
// its most used entries (the emulator carries a subset, SOURCES.md §2).
pub(crate) const VOCABULARY: &[(&str, &str, &[&str])] = &[
    ("subject", "Agricultural Sciences", &[]),
    ("subject", "Arts and Humanities", &[]),
    ("subject", "Astronomy and Astrophysics", &[]),
    ("subject", "Business and Management", &[]),
    ("subject", "Chemistry", &[]),
    ("subject", "Computer and Information Science", &[]),
    ("subject", "Earth and Environmental Sciences", &[]),
    ("subject", "Engineering", &[]),
    ("subject", "Law", &[]),
    ("subject", "Mathematical Sciences", &[]),
    ("subject", "Medicine, Health and Life Sciences", &[]),
    ("subject", "Physics", &[]),
    ("subject", "Social Sciences", &[]),
    ("subject", "Other", &[]),
    ("publicationIDType", "ark", &[]),
    ("publicationIDType", "arXiv", &[]),
    ("publicationIDType", "bibcode", &[]),
    ("publicationIDType", "cstr", &[]),
    ("publicationIDType", "doi", &[]),
    ("publicationIDType", "ean13", &[]),
    ("publicationIDType", "eissn", &[]),
    ("publicationIDType", "handle", &[]),
    ("publicationIDType", "isbn", &[]),
    ("publicationIDType", "issn", &[]),
    ("publicationIDType", "istc", &[]),
    ("publicationIDType", "lissn", &[]),
    ("publicationIDType", "lsid", &[]),
    ("publicationIDType", "pmid", &[]),
    ("publicationIDType", "purl", &[]),
    ("publicationIDType", "upc", &[]),
    ("publicationIDType", "url", &[]),
    ("publicationIDType", "urn", &[]),
    ("publicationIDType", "DASH-NRS", &[]),
    ("contributorType", "Data Collector", &[]),
    ("contributorType", "Data Curator", &[]),
    ("contributorType", "Data Manager", &[]),
    ("contributorType", "Editor", &[]),
    ("contributorType", "Funder", &[]),
    ("contributorType", "Hosting Institution", &[]),
    ("contributorType", "Project Leader", &[]),
    ("contributorType", "Project Manager", &[]),
    ("contributorType", "Project Member", &[]),
    ("contributorType", "Related Person", &[]),
    ("contributorType", "Researcher", &[]),
    ("contributorType", "Research Group", &[]),
    ("contributorType", "Rights Holder", &[]),
    ("contributorType", "Sponsor", &[]),
    ("contributorType", "Supervisor", &[]),
    ("contributorType", "Work Package Leader", &[]),
    ("contributorType", "Other", &[]),
    ("authorIdentifierScheme", "ORCID", &[]),
    ("authorIdentifierScheme", "ROR", &[]),
    ("authorIdentifierScheme", "ISNI", &[]),
    ("authorIdentifierScheme", "LCNA", &[]),
    ("authorIdentifierScheme", "VIAF", &[]),
    ("authorIdentifierScheme", "GND", &[]),
    ("authorIdentifierScheme", "DAI", &[]),
    ("authorIdentifierScheme", "ResearcherID", &[]),
    ("authorIdentifierScheme", "ScopusID", &[]),
    ("language", "Arabic", &["ara", "ar"]),
    ("language", "Chinese", &["zho", "chi", "zh"]),
    ("language", "Czech", &["ces", "cs", "cze"]),
    ("language", "Danish", &["dan", "da"]),
    ("language", "Dutch", &["nld", "dut", "nl"]),
    ("language", "English", &["eng", "en"]),
    ("language", "Finnish", &["fin", "fi"]),
    ("language", "French", &["fra", "fre", "fr"]),
    ("language", "German", &["deu", "de", "ger"]),
    ("language", "Italian", &["ita", "it"]),
    ("language", "Japanese", &["jpn", "ja"]),
    ("language", "Korean", &["kor", "ko"]),
    ("language", "Latin", &["lat", "la"]),
    ("language", "Norwegian", &["nor", "no"]),
    ("language", "Polish", &["pol", "pl"]),
    ("language", "Portuguese", &["por", "pt"]),
    ("language", "Russian", &["rus", "ru"]),
    ("language", "Swedish", &["swe", "sv"]),
    ("language", "Turkish", &["tur", "tr"]),
    ("language", "Not applicable", &[]),
    ("publicationRelationType", "IsCitedBy", &[]),
    ("publicationRelationType", "Cites", &[]),
    ("publicationRelationType", "IsSupplementTo", &[]),
    ("publicationRelationType", "IsSupplementedBy", &[]),
    ("publicationRelationType", "IsReferencedBy", &[]),
    ("publicationRelationType", "References", &[]),
];
