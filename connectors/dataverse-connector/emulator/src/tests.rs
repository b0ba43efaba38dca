//! The emulator's state machine and each refusal, over real HTTP.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use reqwest::multipart::{Form, Part};
use serde_json::{json, Value};

use super::*;

const TOKEN: &str = "alice-token-0000";

async fn emulator(options: Options) -> DataverseEmulator {
    let e = DataverseEmulator::start_with(options).await.unwrap();
    e.add_token(TOKEN, "alice");
    e.add_token("bob-token", "bob");
    e
}

fn prim(name: &str, value: &str) -> Value {
    json!({"typeName": name, "typeClass": "primitive", "multiple": false, "value": value})
}

fn fields(title: &str) -> Vec<Value> {
    vec![
        prim("title", title),
        json!({"typeName": "author", "typeClass": "compound", "multiple": true, "value": [{
            "authorName": prim("authorName", "Finch, Fiona"),
            "authorIdentifierScheme": {"typeName": "authorIdentifierScheme", "typeClass": "controlledVocabulary", "multiple": false, "value": "ORCID"},
            "authorIdentifier": prim("authorIdentifier", "0000-0002-1825-0097"),
        }]}),
        json!({"typeName": "datasetContact", "typeClass": "compound", "multiple": true, "value": [{
            "datasetContactEmail": prim("datasetContactEmail", "finch@example.org"),
        }]}),
        json!({"typeName": "dsDescription", "typeClass": "compound", "multiple": true, "value": [{
            "dsDescriptionValue": prim("dsDescriptionValue", "About birds."),
        }]}),
        json!({"typeName": "subject", "typeClass": "controlledVocabulary", "multiple": true, "value": ["Other"]}),
    ]
}

fn cc0() -> Value {
    json!({"name": "CC0 1.0", "uri": "http://creativecommons.org/publicdomain/zero/1.0"})
}

fn version(fields: Vec<Value>, license: Option<Value>) -> Value {
    let mut v = json!({"metadataBlocks": {"citation": {"fields": fields}}});
    if let Some(l) = license {
        v["license"] = l;
    }
    v
}

struct Client {
    http: reqwest::Client,
    base: String,
    token: Option<String>,
}

impl Client {
    fn new(e: &DataverseEmulator, token: Option<&str>) -> Self {
        Self {
            http: reqwest::Client::new(),
            base: e.url().to_owned(),
            token: token.map(str::to_owned),
        }
    }

    fn req(&self, method: reqwest::Method, path: &str) -> reqwest::RequestBuilder {
        let r = self.http.request(method, format!("{}{path}", self.base));
        match &self.token {
            Some(t) => r.header("X-Dataverse-key", t),
            None => r,
        }
    }

    async fn send(&self, r: reqwest::RequestBuilder) -> (u16, Value) {
        let resp = r.send().await.unwrap();
        let status = resp.status().as_u16();
        let text = resp.text().await.unwrap();
        (
            status,
            serde_json::from_str(&text).unwrap_or(Value::String(text)),
        )
    }

    async fn get(&self, path: &str) -> (u16, Value) {
        self.send(self.req(reqwest::Method::GET, path)).await
    }

    async fn delete(&self, path: &str) -> (u16, Value) {
        self.send(self.req(reqwest::Method::DELETE, path)).await
    }

    async fn post_json(&self, path: &str, body: &Value) -> (u16, Value) {
        self.send(self.req(reqwest::Method::POST, path).json(body))
            .await
    }

    async fn put_json(&self, path: &str, body: &Value) -> (u16, Value) {
        self.send(self.req(reqwest::Method::PUT, path).json(body))
            .await
    }

    async fn post(&self, path: &str) -> (u16, Value) {
        self.send(self.req(reqwest::Method::POST, path)).await
    }

    async fn create(
        &self,
        alias: &str,
        fields: Vec<Value>,
        license: Option<Value>,
    ) -> (u16, Value) {
        let body = json!({"datasetVersion": version(fields, license)});
        self.post_json(&format!("/api/dataverses/{alias}/datasets"), &body)
            .await
    }

    async fn new_dataset(&self) -> u64 {
        let (status, body) = self.create("root", fields("Birds"), Some(cc0())).await;
        assert_eq!(status, 201, "{body}");
        body["data"]["id"].as_u64().unwrap()
    }

    async fn add(&self, id: u64, name: &str, bytes: &[u8], json_data: Value) -> (u16, Value) {
        let form = Form::new()
            .part(
                "file",
                Part::bytes(bytes.to_vec()).file_name(name.to_owned()),
            )
            .text("jsonData", json_data.to_string());
        self.send(
            self.req(reqwest::Method::POST, &format!("/api/datasets/{id}/add"))
                .multipart(form),
        )
        .await
    }
}

fn message(body: &Value) -> &str {
    body["message"].as_str().unwrap_or("")
}

#[tokio::test]
async fn tokens_are_checked_as_dataverse_does() {
    let e = emulator(Options::default()).await;
    let guest = Client::new(&e, None);
    let (s, b) = guest.create("root", fields("x"), None).await;
    assert_eq!(
        (s, message(&b)),
        (
            401,
            "Only authenticated users can perform the requested operation"
        )
    );
    let bad = Client::new(&e, Some("nope"));
    let (s, b) = bad.create("root", fields("x"), None).await;
    assert_eq!((s, message(&b)), (401, "Bad API key"));
    assert_eq!(b["status"], "ERROR");
    // The query parameter works too, and never lands in the log.
    let (s, _) = guest
        .post_json(
            &format!("/api/dataverses/root/datasets?key={TOKEN}"),
            &json!({"datasetVersion": version(fields("q"), None)}),
        )
        .await;
    assert_eq!(s, 201);
    let log = format!("{:?}", e.requests());
    assert!(!log.contains(TOKEN), "{log}");
    assert!(log.contains("key=***"));
}

#[tokio::test]
async fn create_answers_201_with_id_and_pid_and_validates_the_citation_block() {
    let e = emulator(Options::default()).await;
    let c = Client::new(&e, Some(TOKEN));
    let (s, b) = c.create("root", fields("Birds"), Some(cc0())).await;
    assert_eq!(s, 201, "{b}");
    let id = b["data"]["id"].as_u64().unwrap();
    let pid = b["data"]["persistentId"].as_str().unwrap();
    assert!(pid.starts_with("doi:10.5072/FK2/"), "{pid}");
    let ds = e.dataset(id).unwrap();
    assert_eq!(ds["latestVersion"]["versionState"], "DRAFT");
    assert_eq!(ds["latestVersion"]["license"]["name"], "CC0 1.0");

    let (s, b) = c.create("nowhere", fields("x"), None).await;
    assert_eq!(
        (s, message(&b)),
        (404, "Can't find dataverse with identifier='nowhere'")
    );

    // Required fields: 403 "Validation Failed: ...".
    let mut no_title = fields("x");
    no_title.remove(0);
    let (s, b) = c.create("root", no_title, None).await;
    assert_eq!(s, 403);
    assert_eq!(
        message(&b),
        "Validation Failed: Title is required. (Invalid value:edu.harvard.iq.dataverse.DatasetField[ id=null ])."
    );
    let mut no_contact_email = fields("x");
    no_contact_email[2] = json!({"typeName": "datasetContact", "typeClass": "compound", "multiple": true, "value": [{
        "datasetContactName": prim("datasetContactName", "Finch"),
    }]});
    let (s, b) = c.create("root", no_contact_email, None).await;
    assert_eq!(s, 403);
    assert!(
        message(&b).contains("Point of Contact E-mail is required."),
        "{b}"
    );
    let mut bad_email = fields("x");
    bad_email[2]["value"][0]["datasetContactEmail"]["value"] = json!("not-an-email");
    let (s, b) = c.create("root", bad_email, None).await;
    assert_eq!(s, 403);
    assert!(
        message(&b).contains("Point of Contact E-mail not-an-email  is not a valid email address."),
        "{b}"
    );
    let mut no_description = fields("x");
    no_description.remove(3);
    let (_, b) = c.create("root", no_description, None).await;
    assert!(
        message(&b).starts_with("Validation Failed: Description is required."),
        "{b}"
    );

    // Parse errors: 400 "Error parsing Json: ...".
    let mut bad_subject = fields("x");
    bad_subject[4]["value"] = json!(["Ornithology"]);
    let (s, b) = c.create("root", bad_subject, None).await;
    assert_eq!(
        (s, message(&b)),
        (
            400,
            "Error parsing Json: Value 'Ornithology' does not exist in type 'subject'"
        )
    );
    let mut bad_scheme = fields("x");
    bad_scheme[1]["value"][0]["authorIdentifierScheme"]["value"] = json!("orcid");
    let (s, b) = c.create("root", bad_scheme, None).await;
    assert_eq!(
        (s, message(&b)),
        (
            400,
            // Inside a compound the vocabulary error is the compound's.
            "Error parsing Json: Invalid controlled vocabulary in compound field "
        )
    );
    let mut wrong_multiple = fields("x");
    wrong_multiple[0]["multiple"] = json!(true);
    let (_, b) = c.create("root", wrong_multiple, None).await;
    assert_eq!(
        message(&b),
        "Error parsing Json: incorrect multiple   for field title"
    );
    let mut wrong_class = fields("x");
    wrong_class[4]["typeClass"] = json!("primitive");
    let (_, b) = c.create("root", wrong_class, None).await;
    assert_eq!(message(&b), "Error parsing Json: incorrect  typeClass for field subject, should be controlledVocabulary");
    let mut scalar_subject = fields("x");
    scalar_subject[4]["value"] = json!("Other");
    let (_, b) = c.create("root", scalar_subject, None).await;
    assert_eq!(message(&b), "Error parsing Json: Invalid values submitted for subject. It should be an array of values.");
    let (s, b) = c
        .create("root", fields("x"), Some(json!({"name": "CC-BY-4.0"})))
        .await;
    assert_eq!(
        (s, message(&b)),
        (
            400,
            "Error parsing Json: Invalid or unsupported license: CC-BY-4.0"
        )
    );
    let (s, b) = c
        .post_json(
            "/api/dataverses/root/datasets",
            &json!({"metadataBlocks": {}}),
        )
        .await;
    assert_eq!(
        (s, message(&b)),
        (400, "Please provide initial version in the dataset json")
    );
    // An unknown field is dropped silently; a license by uri works.
    let mut extra = fields("x");
    extra.push(prim("noSuchField", "y"));
    let (s, b) = c
        .create(
            "root",
            extra,
            Some(json!({"uri": "http://creativecommons.org/licenses/by/4.0"})),
        )
        .await;
    assert_eq!(s, 201, "{b}");
    let ds = e.dataset(b["data"]["id"].as_u64().unwrap()).unwrap();
    assert_eq!(ds["latestVersion"]["license"]["name"], "CC BY 4.0");
    assert_eq!(
        ds["latestVersion"]["metadataBlocks"]["citation"]["fields"]
            .as_array()
            .unwrap()
            .len(),
        5
    );
}

#[tokio::test]
async fn versions_put_replaces_everything_and_publish_needs_a_license() {
    let e = emulator(Options::default()).await;
    let c = Client::new(&e, Some(TOKEN));
    let id = c.new_dataset().await;
    let (s, b) = c.get(&format!("/api/datasets/{id}/versions/:draft")).await;
    assert_eq!(s, 200);
    assert_eq!(b["data"]["versionState"], "DRAFT");
    let (s, b) = c
        .get(&format!("/api/datasets/{id}/versions/:latest-published"))
        .await;
    assert_eq!(
        (s, message(&b)),
        (
            404,
            format!("Dataset version :latest-published of dataset {id} not found").as_str()
        )
    );
    // A PUT without `license` leaves none.
    let (s, b) = c
        .put_json(
            &format!("/api/datasets/{id}/versions/:draft"),
            &version(fields("Renamed"), None),
        )
        .await;
    assert_eq!(s, 200, "{b}");
    assert!(b["data"].get("license").is_none());
    assert_eq!(
        b["data"]["metadataBlocks"]["citation"]["fields"][0]["value"],
        "Renamed"
    );
    let (s, b) = c
        .post(&format!("/api/datasets/{id}/actions/:publish?type=major"))
        .await;
    assert_eq!(s, 403);
    assert_eq!(message(&b), "Dataset must have a valid license or Custom Terms Of Use configured before it can be published.");
    // Custom terms stand in for a license.
    let mut custom = version(fields("Renamed"), None);
    custom["termsOfUse"] = json!("Use it kindly.");
    let (s, b) = c
        .put_json(&format!("/api/datasets/{id}/versions/:draft"), &custom)
        .await;
    assert_eq!(
        (s, &b["data"]["termsOfUse"]),
        (200, &json!("Use it kindly."))
    );
    let (s, _) = c
        .put_json(
            &format!("/api/datasets/{id}/versions/:draft"),
            &version(fields("Renamed"), Some(cc0())),
        )
        .await;
    assert_eq!(s, 200);
    let (s, b) = c
        .put_json(
            &format!("/api/datasets/{id}/versions/1.0"),
            &version(fields("x"), Some(cc0())),
        )
        .await;
    assert_eq!(
        (s, message(&b)),
        (400, "Only the :draft version can be updated")
    );
    let (s, b) = c
        .post(&format!("/api/datasets/{id}/actions/:publish"))
        .await;
    assert_eq!(
        (s, message(&b)),
        (
            400,
            "Missing 'type' parameter (either 'major','minor', or 'updatecurrent')."
        )
    );
    let (s, b) = c
        .post(&format!("/api/datasets/{id}/actions/:publish?type=minor"))
        .await;
    assert_eq!(
        (s, message(&b)),
        (
            403,
            "Cannot publish as minor version. Re-try as major release."
        )
    );
    let (s, b) = c
        .post(&format!("/api/datasets/{id}/actions/:publish?type=major"))
        .await;
    assert_eq!(s, 200, "{b}");
    let (s, b) = c
        .get(&format!("/api/datasets/{id}/versions/:latest-published"))
        .await;
    assert_eq!(s, 200);
    assert_eq!(b["data"]["versionState"], "RELEASED");
    assert_eq!(b["data"]["versionNumber"], 1);
    let (_, b) = c.get(&format!("/api/datasets/{id}")).await;
    assert_eq!(b["data"]["protocol"], "doi");
    assert_eq!(b["data"]["authority"], "10.5072");
    assert!(b["data"]["identifier"]
        .as_str()
        .unwrap()
        .starts_with("FK2/"));
    let (s, b) = c.get(&format!("/api/datasets/{id}/versions/:draft")).await;
    assert_eq!(
        (s, message(&b)),
        (
            404,
            format!("Dataset version :draft of dataset {id} not found").as_str()
        )
    );
    let (s, b) = c
        .post(&format!("/api/datasets/{id}/actions/:publish?type=major"))
        .await;
    assert_eq!(s, 403);
    assert!(message(&b).ends_with("is already released. Only draft versions can be released."));
    // A PUT after publishing makes a new draft; deleting it keeps the dataset.
    let (s, _) = c
        .put_json(
            &format!("/api/datasets/{id}/versions/:draft"),
            &version(fields("v2"), Some(cc0())),
        )
        .await;
    assert_eq!(s, 200);
    let (s, b) = c
        .post(&format!("/api/datasets/{id}/actions/:publish?type=minor"))
        .await;
    assert_eq!(s, 200, "{b}");
    assert_eq!(b["data"]["latestVersion"]["versionMinorNumber"], 1);
    let (s, b) = c
        .delete(&format!("/api/datasets/{id}/versions/:draft"))
        .await;
    assert_eq!((s, message(&b)), (401, "This is NOT a DRAFT version"));
}

#[tokio::test]
async fn a_never_published_draft_is_destroyed_and_others_are_refused() {
    let e = emulator(Options::default()).await;
    let c = Client::new(&e, Some(TOKEN));
    let bob = Client::new(&e, Some("bob-token"));
    let id = c.new_dataset().await;
    let (s, b) = bob.get(&format!("/api/datasets/{id}")).await;
    assert_eq!(
        (s, message(&b)),
        (
            401,
            "User @bob is not permitted to perform requested action."
        )
    );
    let (s, _) = bob
        .delete(&format!("/api/datasets/{id}/versions/:draft"))
        .await;
    assert_eq!(s, 401);
    let (s, b) = bob.add(id, "a.txt", b"a", json!({})).await;
    assert_eq!(
        (s, message(&b)),
        (403, "You do not have permission to edit this dataset.")
    );
    let (s, b) = c
        .delete(&format!("/api/datasets/{id}/versions/:draft"))
        .await;
    assert_eq!(s, 200, "{b}");
    assert_eq!(
        b["data"]["message"],
        format!("Draft version of dataset {id} deleted")
    );
    let (s, b) = c.get(&format!("/api/datasets/{id}")).await;
    assert_eq!(
        (s, message(&b)),
        (404, format!("Dataset with ID {id} not found.").as_str())
    );
    let (s, b) = c.get("/api/datasets/cat").await;
    assert_eq!((s, message(&b)), (400, "Bad dataset ID number: cat."));
    assert!(e.dataset(id).is_none());
}

#[tokio::test]
async fn persistent_id_forms_find_the_dataset() {
    let e = emulator(Options::default()).await;
    let c = Client::new(&e, Some(TOKEN));
    let id = c.new_dataset().await;
    let pid = e.dataset(id).unwrap()["latestVersion"]["datasetPersistentId"]
        .as_str()
        .unwrap()
        .to_owned();
    let (s, b) = c
        .get(&format!(
            "/api/datasets/:persistentId/versions/:draft?persistentId={pid}"
        ))
        .await;
    assert_eq!(s, 200, "{b}");
    assert_eq!(b["data"]["datasetId"], id);
    let (s, _) = c
        .get("/api/datasets/:persistentId?persistentId=doi:10.5072/FK2/NOPE")
        .await;
    assert_eq!(s, 404);
    let (s, _) = c.get("/api/datasets/:persistentId").await;
    assert_eq!(s, 400);
}

#[tokio::test]
async fn locks_last_their_polls_and_refuse_writes_the_dataverse_way() {
    let e = emulator(Options::default()).await;
    let c = Client::new(&e, Some(TOKEN));
    let id = c.new_dataset().await;
    e.lock_for_polls(id, "EditInProgress", 2);
    let (s, b) = c
        .put_json(
            &format!("/api/datasets/{id}/versions/:draft"),
            &version(fields("x"), Some(cc0())),
        )
        .await;
    assert_eq!(
        (s, message(&b)),
        (403, "Dataset cannot be edited due to dataset lock.")
    );
    let (s, b) = c.add(id, "a.txt", b"a", json!({})).await;
    assert_eq!((s, message(&b)), (400, "Failed to add file to dataset."));
    let (s, b) = c
        .post(&format!("/api/datasets/{id}/actions/:publish?type=major"))
        .await;
    assert_eq!(
        (s, message(&b)),
        (
            403,
            "This dataset is locked. Reason: EditInProgress. Please try publishing later."
        )
    );
    let (_, b) = c
        .get(&format!("/api/datasets/{id}/locks?type=Ingest"))
        .await;
    assert_eq!(b["data"], json!([]));
    let (_, b) = c.get(&format!("/api/datasets/{id}/locks")).await;
    assert_eq!(b["data"][0]["lockType"], "EditInProgress");
    assert_eq!(b["data"][0]["user"], "alice");
    let (_, b) = c.get(&format!("/api/datasets/{id}/locks")).await;
    assert_eq!(b["data"], json!([]));
    let (s, _) = c.add(id, "a.txt", b"a", json!({})).await;
    assert_eq!(s, 200);
    // An Ingest lock alone lets metadata updates and adds through, not publishing or
    // deleting the draft.
    e.lock_for_polls(id, "Ingest", 5);
    let (s, _) = c
        .put_json(
            &format!("/api/datasets/{id}/versions/:draft"),
            &version(fields("x"), Some(cc0())),
        )
        .await;
    assert_eq!(s, 200);
    let (s, _) = c.add(id, "b.txt", b"b", json!({})).await;
    assert_eq!(s, 200);
    let (s, b) = c
        .delete(&format!("/api/datasets/{id}/versions/:draft"))
        .await;
    assert_eq!(
        (s, message(&b)),
        (403, "Dataset cannot be edited due to dataset lock.")
    );
    let (s, _) = c
        .post(&format!("/api/datasets/{id}/actions/:publish?type=major"))
        .await;
    assert_eq!(s, 403);
    let (s, _) = c
        .get(&format!("/api/datasets/{id}/locks?type=NoSuch"))
        .await;
    assert_eq!(s, 404);
}

#[tokio::test]
async fn a_publish_workflow_answers_202_and_releases_when_its_lock_goes() {
    let e = emulator(Options::default()).await;
    let c = Client::new(&e, Some(TOKEN));
    let id = c.new_dataset().await;
    e.publish_workflow(2);
    let (s, b) = c
        .post(&format!("/api/datasets/{id}/actions/:publish?type=major"))
        .await;
    assert_eq!(s, 202, "{b}");
    assert_eq!(b["status"], "WORKFLOW_IN_PROGRESS");
    let (_, b) = c.get(&format!("/api/datasets/{id}/locks")).await;
    assert_eq!(b["data"][0]["lockType"], "Workflow");
    let (_, b) = c.get(&format!("/api/datasets/{id}/versions/:latest")).await;
    assert_eq!(b["data"]["versionState"], "DRAFT");
    let (_, b) = c.get(&format!("/api/datasets/{id}/locks")).await;
    assert_eq!(b["data"].as_array().unwrap().len(), 1);
    let (_, b) = c.get(&format!("/api/datasets/{id}/locks")).await;
    assert_eq!(b["data"], json!([]));
    let (_, b) = c.get(&format!("/api/datasets/{id}/versions/:latest")).await;
    assert_eq!(b["data"]["versionState"], "RELEASED");
}

#[tokio::test]
async fn an_unpublished_collection_takes_datasets_but_not_their_publication() {
    let e = emulator(Options {
        collections: vec![("root".into(), true), ("alice-col".into(), false)],
        ..Options::default()
    })
    .await;
    let c = Client::new(&e, Some(TOKEN));
    let (s, b) = c.create("alice-col", fields("x"), Some(cc0())).await;
    assert_eq!(s, 201);
    let id = b["data"]["id"].as_u64().unwrap();
    let (s, b) = c
        .post(&format!("/api/datasets/{id}/actions/:publish?type=major"))
        .await;
    assert_eq!(s, 403);
    assert_eq!(message(&b), "This dataset may not be published because its host dataverse (alice-col) has not been published.");
}

#[tokio::test]
async fn files_are_added_renamed_listed_and_deleted() {
    let e = emulator(Options::default()).await;
    let c = Client::new(&e, Some(TOKEN));
    let id = c.new_dataset().await;
    let (s, b) = c
        .add(id, "notes.txt", b"hello", json!({"directoryLabel": "data/raw", "description": "d", "categories": ["Data"], "tabIngest": "false"}))
        .await;
    assert_eq!(s, 200, "{b}");
    let f = &b["data"]["files"][0];
    assert_eq!(f["label"], "notes.txt");
    assert_eq!(f["directoryLabel"], "data/raw");
    assert_eq!(f["dataFile"]["filesize"], 5);
    assert_eq!(f["dataFile"]["checksum"]["type"], "MD5");
    assert_eq!(
        f["dataFile"]["checksum"]["value"],
        "5d41402abc4b2a76b9719d911017c592"
    );
    assert_eq!(f["dataFile"]["contentType"], "text/plain");
    assert!(f["dataFile"]["storageIdentifier"]
        .as_str()
        .unwrap()
        .starts_with("file://"));
    // Same path: renamed; same content: a warning.
    let (s, b) = c
        .add(
            id,
            "notes.txt",
            b"hello",
            json!({"directoryLabel": "/data//raw/"}),
        )
        .await;
    assert_eq!(s, 200);
    assert_eq!(b["data"]["files"][0]["label"], "notes-1.txt");
    assert_eq!(b["data"]["files"][0]["directoryLabel"], "data/raw");
    assert_eq!(
        b["message"],
        "This file has the same content as notes.txt that is in the dataset. "
    );
    let (_, b) = c
        .add(
            id,
            "notes.txt",
            b"other",
            json!({"directoryLabel": "data/raw"}),
        )
        .await;
    assert_eq!(b["data"]["files"][0]["label"], "notes-2.txt");
    let (_, b) = c.add(id, "notes.txt", b"other2", json!({})).await;
    assert_eq!(b["data"]["files"][0]["label"], "notes.txt");
    let (s, b) = c
        .add(id, "x.txt", b"x", json!({"directoryLabel": "Müller"}))
        .await;
    assert_eq!(s, 400);
    assert!(
        message(&b).starts_with("Directory Name cannot contain invalid characters."),
        "{b}"
    );
    let (s, b) = c.add(id, "x.txt", b"x", json!({"label": "a:b"})).await;
    assert_eq!(s, 400);
    assert!(message(&b).starts_with("File Name cannot contain"));
    let form = Form::new().text("jsonData", "{not json");
    let (s, b) = c
        .send(
            c.req(reqwest::Method::POST, &format!("/api/datasets/{id}/add"))
                .multipart(form),
        )
        .await;
    assert_eq!((s, message(&b)), (400, "Error in parsing provided json"));
    let form = Form::new().text("jsonData", "{}");
    let (s, b) = c
        .send(
            c.req(reqwest::Method::POST, &format!("/api/datasets/{id}/add"))
                .multipart(form),
        )
        .await;
    assert_eq!(
        (s, message(&b)),
        (
            400,
            "You must upload a file or provide a valid storageidentifier, filename, and mimetype."
        )
    );
    let (s, b) = c.add(9999, "x.txt", b"x", json!({})).await;
    assert_eq!((s, message(&b)), (404, "Dataset with ID 9999 not found."));

    let (s, b) = c
        .get(&format!("/api/datasets/{id}/versions/:draft/files"))
        .await;
    assert_eq!(s, 200);
    assert_eq!(b["totalCount"], 4);
    let stored = e.files(id);
    assert_eq!(stored.len(), 4);
    let first = &stored[0];
    assert_eq!(std::fs::read(&first.path).unwrap(), b"hello");
    assert_eq!(first.md5, "5d41402abc4b2a76b9719d911017c592");
    assert_eq!(first.description.as_deref(), Some("d"));

    let bob = Client::new(&e, Some("bob-token"));
    let (s, b) = bob.delete(&format!("/api/files/{}", first.id)).await;
    assert_eq!(s, 400);
    assert!(message(&b).starts_with(&format!(
        "Delete failed for file ID {} (CommandException): ",
        first.id
    )));
    let (s, b) = c.delete(&format!("/api/files/{}", first.id)).await;
    assert_eq!((s, &b["data"]), (200, &json!(true)));
    assert!(!first.path.exists());
    let (s, b) = c.delete(&format!("/api/files/{}", first.id)).await;
    assert_eq!(
        (s, message(&b)),
        (
            404,
            format!("File with ID {} not found.", first.id).as_str()
        )
    );
    e.lock_for_polls(id, "Workflow", 1);
    let (s, b) = c.delete(&format!("/api/files/{}", stored[1].id)).await;
    assert_eq!(s, 400);
    assert!(message(&b).ends_with("Dataset cannot be edited due to dataset lock."));
}

#[tokio::test]
async fn size_limit_checksum_type_and_tabular_ingest() {
    let e = emulator(Options {
        max_file_bytes: Some(1536),
        checksum: ChecksumType::Sha256,
        ..Options::default()
    })
    .await;
    let c = Client::new(&e, Some(TOKEN));
    let id = c.new_dataset().await;
    let (s, b) = c.add(id, "big.bin", &[7u8; 2048], json!({})).await;
    assert_eq!(s, 400);
    assert_eq!(
        message(&b),
        "There was an error when trying to add the new file. This file size (2.0 KB) exceeds the size limit of 1.5 KB."
    );
    let (s, b) = c.add(id, "t.csv", b"a,b\n1,2\n", json!({})).await;
    assert_eq!(s, 200);
    assert_eq!(
        b["data"]["files"][0]["dataFile"]["checksum"]["type"],
        "SHA-256"
    );
    assert!(b["data"]["files"][0]["dataFile"].get("md5").is_none());
    let (_, b) = c.get(&format!("/api/datasets/{id}/locks")).await;
    assert_eq!(b["data"][0]["lockType"], "Ingest");
    let (_, b) = c.get(&format!("/api/datasets/{id}/locks")).await;
    assert_eq!(b["data"][0]["lockType"], "Ingest");
    let (_, b) = c.get(&format!("/api/datasets/{id}/locks")).await;
    assert_eq!(b["data"], json!([]));
    let (_, _) = c
        .add(id, "u.csv", b"c\n", json!({"tabIngest": false}))
        .await;
    let (_, b) = c.get(&format!("/api/datasets/{id}/locks")).await;
    assert_eq!(b["data"], json!([]));
    let f = e.files(id);
    assert_eq!(f[0].checksum_type, "SHA-256");
    assert_eq!(f[0].checksum_value.len(), 64);
}

#[tokio::test]
async fn corrupted_uploads_report_the_stored_bytes() {
    let e = emulator(Options::default()).await;
    let c = Client::new(&e, Some(TOKEN));
    let id = c.new_dataset().await;
    e.corrupt_next_uploads(1);
    let (_, b) = c.add(id, "a.txt", b"hello", json!({})).await;
    assert_ne!(
        b["data"]["files"][0]["dataFile"]["checksum"]["value"],
        "5d41402abc4b2a76b9719d911017c592"
    );
    assert_eq!(
        e.files(id)[0].md5,
        b["data"]["files"][0]["dataFile"]["checksum"]["value"]
            .as_str()
            .unwrap()
    );
}

#[tokio::test]
async fn search_lists_own_drafts_and_everyones_published_datasets() {
    let e = emulator(Options::default()).await;
    let alice = Client::new(&e, Some(TOKEN));
    let bob = Client::new(&e, Some("bob-token"));
    let a1 = alice.new_dataset().await;
    let a2 = alice.new_dataset().await;
    let b1 = bob.new_dataset().await;
    let (s, _) = bob
        .post(&format!("/api/datasets/{b1}/actions/:publish?type=major"))
        .await;
    assert_eq!(s, 200);
    let q = "/api/search?q=*&type=dataset&subtree=root&fq=publicationStatus:Draft&per_page=1&start=0&show_entity_ids=true";
    let (s, b) = alice.get(q).await;
    assert_eq!(s, 200, "{b}");
    assert_eq!(b["data"]["total_count"], 2);
    assert_eq!(b["data"]["count_in_response"], 1);
    assert_eq!(b["data"]["items"][0]["entity_id"], a2);
    assert_eq!(b["data"]["items"][0]["versionState"], "DRAFT");
    assert_eq!(b["data"]["items"][0]["name"], "Birds");
    let (_, b) = alice.get(&q.replace("start=0", "start=1")).await;
    assert_eq!(b["data"]["items"][0]["entity_id"], a1);
    let (_, b) = alice.get("/api/search?q=*&type=dataset").await;
    assert_eq!(b["data"]["total_count"], 3);
    let (_, b) = Client::new(&e, None).get("/api/search?q=*").await;
    assert_eq!(b["data"]["total_count"], 1);
    let (s, b) = alice.get("/api/search?q=*&per_page=1001").await;
    assert_eq!(
        (s, message(&b)),
        (
            400,
            "1001 results per page requested but max limit is 1000."
        )
    );
    let (s, b) = alice.get("/api/search?q=*&type=datasets").await;
    assert_eq!(
        (s, message(&b)),
        (
            400,
            "Invalid type 'datasets'. Must be one of [dataverse, dataset, file]"
        )
    );
    let (s, b) = alice.get("/api/search?type=dataset").await;
    assert_eq!((s, message(&b)), (400, "q parameter is missing"));
    let (s, b) = alice.get("/api/search?q=*&subtree=nope").await;
    assert_eq!(
        (s, message(&b)),
        (400, "Could not find dataverse with alias nope")
    );
}

#[tokio::test]
async fn direct_upload_is_refused_unless_offered() {
    let e = emulator(Options::default()).await;
    let c = Client::new(&e, Some(TOKEN));
    let id = c.new_dataset().await;
    let (s, b) = c
        .get(&format!("/api/datasets/{id}/uploadurls?size=10"))
        .await;
    assert_eq!(
        (s, message(&b)),
        (
            404,
            format!("Direct upload not supported for files in this dataset: {id}").as_str()
        )
    );
}

#[tokio::test]
async fn direct_upload_single_and_multipart() {
    let e = emulator(Options {
        direct_upload: Some(8),
        ..Options::default()
    })
    .await;
    let c = Client::new(&e, Some(TOKEN));
    let id = c.new_dataset().await;
    let pid = e.dataset(id).unwrap()["latestVersion"]["datasetPersistentId"]
        .as_str()
        .unwrap()
        .to_owned();
    let http = reqwest::Client::new();
    // Single: the tagging header is required.
    let (s, b) = c
        .get(&format!(
            "/api/datasets/:persistentId/uploadurls?persistentId={pid}&size=5"
        ))
        .await;
    assert_eq!(s, 200, "{b}");
    let url = b["data"]["url"].as_str().unwrap();
    let sid = b["data"]["storageIdentifier"].as_str().unwrap().to_owned();
    let r = http.put(url).body("hello").send().await.unwrap();
    assert_eq!(r.status().as_u16(), 403);
    let r = http
        .put(url)
        .header("x-amz-tagging", "dv-state=temp")
        .body("hello")
        .send()
        .await
        .unwrap();
    assert_eq!(r.status().as_u16(), 200);
    assert_eq!(r.headers()["etag"], "\"5d41402abc4b2a76b9719d911017c592\"");
    let form = Form::new().text(
        "jsonData",
        json!({"storageIdentifier": sid, "fileName": "h.txt", "mimeType": "text/plain",
               "checksum": {"@type": "MD5", "@value": "00000000000000000000000000000000"},
               "directoryLabel": "d"})
        .to_string(),
    );
    let (s, b) = c
        .send(
            c.req(reqwest::Method::POST, &format!("/api/datasets/{id}/add"))
                .multipart(form),
        )
        .await;
    assert_eq!(s, 200, "{b}");
    // Stored as told, unverified; the real MD5 is on the side.
    assert_eq!(
        b["data"]["files"][0]["dataFile"]["checksum"]["value"],
        "00000000000000000000000000000000"
    );
    assert_eq!(b["data"]["files"][0]["dataFile"]["filesize"], 5);
    assert_eq!(e.files(id)[0].md5, "5d41402abc4b2a76b9719d911017c592");

    // Multipart: 20 bytes in parts of 8.
    let (s, b) = c
        .get(&format!("/api/datasets/{id}/uploadurls?size=20"))
        .await;
    assert_eq!(s, 200);
    let d = &b["data"];
    assert_eq!(d["urls"].as_object().unwrap().len(), 3);
    let complete = format!("{}{}", e.url(), d["complete"].as_str().unwrap());
    let sid = d["storageIdentifier"].as_str().unwrap().to_owned();
    let body = b"0123456789abcdefghij";
    let mut etags = serde_json::Map::new();
    for (n, chunk) in body.chunks(8).enumerate() {
        let url = d["urls"][(n + 1).to_string()].as_str().unwrap();
        let r = http.put(url).body(chunk.to_vec()).send().await.unwrap();
        assert_eq!(r.status().as_u16(), 200);
        let etag = r.headers()["etag"].to_str().unwrap().to_owned();
        etags.insert((n + 1).to_string(), json!(etag));
    }
    let mut wrong = etags.clone();
    wrong.insert("2".into(), json!("\"bad\""));
    let (s, b) = c
        .put_json(&complete.replacen(e.url(), "", 1), &Value::Object(wrong))
        .await;
    assert_eq!(
        (s, message(&b)),
        (500, "Could not complete multipart upload")
    );
    // The failed completion aborted the upload: the parts are gone.
    let (s, _) = c
        .put_json(&complete.replacen(e.url(), "", 1), &Value::Object(etags))
        .await;
    assert_eq!(s, 403);

    let (_, b) = c
        .get(&format!("/api/datasets/{id}/uploadurls?size=20"))
        .await;
    let d = &b["data"];
    let mut etags = serde_json::Map::new();
    for (n, chunk) in body.chunks(8).enumerate() {
        let url = d["urls"][(n + 1).to_string()].as_str().unwrap();
        let r = http.put(url).body(chunk.to_vec()).send().await.unwrap();
        etags.insert(
            (n + 1).to_string(),
            json!(r.headers()["etag"].to_str().unwrap()),
        );
    }
    let (s, b) = c
        .put_json(d["complete"].as_str().unwrap(), &Value::Object(etags))
        .await;
    assert_eq!(s, 200, "{b}");
    assert_eq!(b["data"]["message"], "Multipart Upload completed");
    let sid2 = d["storageIdentifier"].as_str().unwrap().to_owned();
    assert_ne!(sid, sid2);
    let form = Form::new().text(
        "jsonData",
        json!({"storageIdentifier": sid2, "fileName": "m.bin", "mimeType": "application/octet-stream",
               "checksum": {"@type": "MD5", "@value": "abc"}})
        .to_string(),
    );
    let (s, b) = c
        .send(
            c.req(reqwest::Method::POST, &format!("/api/datasets/{id}/add"))
                .multipart(form),
        )
        .await;
    assert_eq!(s, 200, "{b}");
    let f = e
        .files(id)
        .into_iter()
        .find(|f| f.label == "m.bin")
        .unwrap();
    assert_eq!(std::fs::read(&f.path).unwrap(), body);
    assert_eq!(f.size, 20);
    // An object never uploaded is refused.
    let form = Form::new().text(
        "jsonData",
        json!({"storageIdentifier": "s3://other:xyz", "fileName": "n", "mimeType": "text/plain"})
            .to_string(),
    );
    let (s, b) = c
        .send(
            c.req(reqwest::Method::POST, &format!("/api/datasets/{id}/add"))
                .multipart(form),
        )
        .await;
    assert_eq!(
        (s, message(&b)),
        (
            400,
            "Dataset store configuration does not allow provided storageIdentifier."
        )
    );
    // Abort: 204.
    let (_, b) = c
        .get(&format!("/api/datasets/{id}/uploadurls?size=20"))
        .await;
    let (s, _) = c.delete(b["data"]["abort"].as_str().unwrap()).await;
    assert_eq!(s, 204);
}

#[tokio::test]
async fn faults_rate_limits_and_down() {
    let e = emulator(Options::default()).await;
    let c = Client::new(&e, Some(TOKEN));
    let id = c.new_dataset().await;
    e.rate_limit_next_on("POST", "/api/datasets/", 1);
    let (s, b) = c.add(id, "a.txt", b"a", json!({})).await;
    assert_eq!(s, 400);
    assert!(message(&b).ends_with("Rate limited due to too many requests."));
    e.rate_limit_next_on("PUT", "/api/datasets/", 1);
    let resp = c
        .req(
            reqwest::Method::PUT,
            &format!("/api/datasets/{id}/versions/:draft"),
        )
        .json(&version(fields("x"), Some(cc0())))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status().as_u16(), 429);
    assert!(resp.headers().get("retry-after").is_none());
    let b: Value = resp.json().await.unwrap();
    assert_eq!(
        message(&b),
        "UpdateDatasetVersionCommand failed: Rate limited due to too many requests."
    );
    e.fail_next(1, 502);
    assert_eq!(c.get(&format!("/api/datasets/{id}")).await.0, 502);
    e.fail_next_on("GET", "/api/datasets/", 1, 500);
    assert_eq!(c.get("/api/search?q=*").await.0, 200);
    assert_eq!(c.get(&format!("/api/datasets/{id}")).await.0, 500);
    e.fail_next_saying(400, "token alice-token-0000 is bad");
    let (s, b) = c.get(&format!("/api/datasets/{id}")).await;
    assert_eq!((s, message(&b)), (400, "token alice-token-0000 is bad"));
    e.set_down(true);
    assert_eq!(c.get(&format!("/api/datasets/{id}")).await.0, 503);
    e.set_down(false);
    e.hang_next_on("GET", "/api/datasets/", 1);
    let hung = c
        .req(reqwest::Method::GET, &format!("/api/datasets/{id}"))
        .timeout(std::time::Duration::from_secs(1))
        .send()
        .await;
    assert!(hung.is_err());
    assert_eq!(c.get(&format!("/api/datasets/{id}")).await.0, 200);
    e.reset_next_on("GET", "/api/datasets/", 1);
    let reset = c
        .req(reqwest::Method::GET, &format!("/api/datasets/{id}"))
        .send()
        .await;
    let failed = match reset {
        Err(_) => true,
        Ok(r) => r.bytes().await.is_err(),
    };
    assert!(failed, "a reset connection must fail the call");
    assert_eq!(c.get(&format!("/api/datasets/{id}")).await.0, 200);
    let log = e.requests();
    assert!(log
        .iter()
        .any(|r| r.method == "POST" && r.path == format!("/api/datasets/{id}/add")));
    assert!(!format!("{log:?}").contains(TOKEN));
    e.clear_requests();
    assert!(e.requests().is_empty());
    e.stop().await;
}

#[tokio::test]
async fn uploads_are_streamed_to_disk() {
    let e = emulator(Options::default()).await;
    let c = Client::new(&e, Some(TOKEN));
    let id = c.new_dataset().await;
    // 8 MiB in 64 KiB chunks, streamed with a known length.
    let chunk = vec![b'x'; 64 * 1024];
    let stream =
        futures_util::stream::iter((0..128).map(move |_| Ok::<_, std::io::Error>(chunk.clone())));
    let part = Part::stream_with_length(reqwest::Body::wrap_stream(stream), 8 * 1024 * 1024)
        .file_name("big.bin");
    let form = Form::new().part("file", part).text("jsonData", "{}");
    let (s, b) = c
        .send(
            c.req(reqwest::Method::POST, &format!("/api/datasets/{id}/add"))
                .multipart(form),
        )
        .await;
    assert_eq!(s, 200, "{b}");
    assert_eq!(
        b["data"]["files"][0]["dataFile"]["filesize"],
        8 * 1024 * 1024
    );
    assert_eq!(
        std::fs::metadata(&e.files(id)[0].path).unwrap().len(),
        8 * 1024 * 1024
    );
}

#[tokio::test]
async fn me_licenses_and_whole_dataset_delete() {
    let e = emulator(Options::default()).await;
    let c = Client::new(&e, Some(TOKEN));
    let (s, b) = c.get("/api/users/:me").await;
    assert_eq!(s, 200);
    assert_eq!(b["data"]["identifier"], "@alice");
    assert_eq!(b["data"]["email"], "alice@example.org");
    let (s, b) = Client::new(&e, None).get("/api/users/:me").await;
    assert_eq!((s, message(&b)), (400, "User with token null not found."));
    let (s, b) = Client::new(&e, Some("nope")).get("/api/users/:me").await;
    assert_eq!((s, message(&b)), (401, "Bad API key"));
    let (s, b) = Client::new(&e, None).get("/api/licenses").await;
    assert_eq!(s, 200);
    assert_eq!(b["data"][0]["name"], "CC0 1.0");
    assert_eq!(b["data"][1]["rightsIdentifier"], "CC-BY-4.0");

    let id = c.new_dataset().await;
    let (s, b) = c.delete(&format!("/api/datasets/{id}")).await;
    assert_eq!(
        (s, &b["data"]["message"]),
        (200, &json!(format!("Dataset {id} deleted")))
    );
    let id = c.new_dataset().await;
    c.post(&format!("/api/datasets/{id}/actions/:publish?type=major"))
        .await;
    let (s, b) = c.delete(&format!("/api/datasets/{id}")).await;
    assert_eq!(
        (s, message(&b)),
        (401, "Only superusers can delete published datasets")
    );
}

#[test]
fn sizes_print_as_dataverse_prints_them() {
    assert_eq!(files::human(1023), "1023 B");
    assert_eq!(files::human(1536), "1.5 KB");
    assert_eq!(files::human(2 * 1024 * 1024 * 1024), "2.0 GB");
}

#[tokio::test]
async fn mydata_lists_the_callers_datasets_in_its_own_envelope() {
    let e = emulator(Options::default()).await;
    let alice = Client::new(&e, Some(TOKEN));
    let bob = Client::new(&e, Some("bob-token"));
    for _ in 0..11 {
        alice.new_dataset().await;
    }
    let b1 = bob.new_dataset().await;
    bob.post(&format!("/api/datasets/{b1}/actions/:publish?type=major"))
        .await;
    let q =
        "/api/mydata/retrieve?dvobject_types=Dataset&published_states=Draft&role_ids=1&role_ids=6";
    let (s, b) = alice.get(q).await;
    assert_eq!(s, 200);
    assert_eq!(b["success"], true);
    assert_eq!(b["data"]["total_count"], 11);
    assert_eq!(b["data"]["items"].as_array().unwrap().len(), 10);
    let (_, b) = alice.get(&format!("{q}&selected_page=2")).await;
    assert_eq!(b["data"]["items"].as_array().unwrap().len(), 1);
    let (s, b) = alice
        .get("/api/mydata/retrieve?dvobject_types=Dataset")
        .await;
    assert_eq!(
        (s, message(&b)),
        (200, "No results. Please select at least one Role.")
    );
    let (s, b) = Client::new(&e, None).get(q).await;
    assert_eq!((s, &b["success"]), (200, &json!(false)));
    let (_, b) = bob.get(q).await;
    assert_eq!(message(&b), "Sorry, no results were found.");
}

#[tokio::test]
async fn a_guest_add_is_refused_by_the_permission_check() {
    let e = emulator(Options::default()).await;
    let id = Client::new(&e, Some(TOKEN)).new_dataset().await;
    let (s, b) = Client::new(&e, None)
        .add(id, "a.txt", b"a", json!({}))
        .await;
    assert_eq!(
        (s, message(&b)),
        (403, "You do not have permission to edit this dataset.")
    );
    assert!(e.files(id).is_empty());
}

#[tokio::test]
async fn an_asynchronous_publication_holds_its_lock_and_releases_after() {
    let e = emulator(Options::default()).await;
    let c = Client::new(&e, Some(TOKEN));
    let id = c.new_dataset().await;
    e.publish_finalizing(1);
    let (s, b) = c
        .post(&format!("/api/datasets/{id}/actions/:publish?type=major"))
        .await;
    assert_eq!(s, 200, "{b}");
    assert_eq!(b["data"]["locks"], json!(["finalizePublication"]));
    let (s, b) = c
        .put_json(
            &format!("/api/datasets/{id}/versions/:draft"),
            &version(fields("x"), Some(cc0())),
        )
        .await;
    assert_eq!(
        (s, message(&b)),
        (403, "Dataset cannot be edited due to dataset lock.")
    );
    let (_, b) = c.get(&format!("/api/datasets/{id}/versions/:latest")).await;
    assert_eq!(b["data"]["versionState"], "DRAFT");
    let (_, b) = c.get(&format!("/api/datasets/{id}/locks")).await;
    assert_eq!(b["data"][0]["lockType"], "finalizePublication");
    let (_, b) = c.get(&format!("/api/datasets/{id}/locks")).await;
    assert_eq!(b["data"], json!([]));
    let (_, b) = c
        .get(&format!("/api/datasets/{id}/versions/:latest-published"))
        .await;
    assert_eq!(b["data"]["versionState"], "RELEASED");
}

#[tokio::test]
async fn publish_names_each_lock_as_dataverse_does() {
    let e = emulator(Options::default()).await;
    let c = Client::new(&e, Some(TOKEN));
    let id = c.new_dataset().await;
    let publish = format!("/api/datasets/{id}/actions/:publish?type=major");
    e.lock_for_polls(id, "InReview", 1);
    let (s, b) = c.post(&publish).await;
    assert_eq!(
        (s, message(&b)),
        (403, "Dataset cannot be published due to dataset lock.")
    );
    e.lock_for_polls(id, "Ingest", 1);
    let (_, b) = c.post(&publish).await;
    assert_eq!(
        message(&b),
        "This dataset is locked. Reason: InReview,Ingest. Please try publishing later."
    );
    c.get(&format!("/api/datasets/{id}/locks")).await;
    let (s, _) = c.post(&publish).await;
    assert_eq!(s, 200);
}

#[tokio::test]
async fn after_publishing_file_changes_make_a_new_draft() {
    let e = emulator(Options::default()).await;
    let c = Client::new(&e, Some(TOKEN));
    let id = c.new_dataset().await;
    let (_, b) = c.add(id, "a.txt", b"a", json!({})).await;
    let file_id = b["data"]["files"][0]["dataFile"]["id"].as_u64().unwrap();
    let (s, _) = c
        .post(&format!("/api/datasets/{id}/actions/:publish?type=major"))
        .await;
    assert_eq!(s, 200);
    // A released file only leaves the new draft: `data` false, the bytes stay.
    let (s, b) = c.delete(&format!("/api/files/{file_id}")).await;
    assert_eq!((s, &b["data"]), (200, &json!(false)));
    let (_, b) = c.get(&format!("/api/datasets/{id}/versions/:draft")).await;
    assert_eq!(b["data"]["files"], json!([]));
    assert_eq!(b["data"]["license"]["name"], "CC0 1.0");
    assert_eq!(
        b["data"]["metadataBlocks"]["citation"]["fields"][0]["value"],
        "Birds"
    );
    let (_, b) = c
        .get(&format!("/api/datasets/{id}/versions/1.0/files"))
        .await;
    assert_eq!(b["totalCount"], 1);
    let (s, b) = c
        .post(&format!("/api/datasets/{id}/actions/:publish?type=minor"))
        .await;
    assert_eq!(
        (s, message(&b)),
        (
            403,
            "Cannot release as minor version. Re-try as major release."
        )
    );
    let (s, b) = c
        .delete(&format!("/api/datasets/{id}/versions/:draft"))
        .await;
    assert_eq!(s, 200, "{b}");
    assert_eq!(e.files(id).len(), 1);
    assert!(e.files(id)[0].path.exists());
}

#[tokio::test]
async fn custom_terms_stand_in_for_a_license_when_publishing() {
    let e = emulator(Options::default()).await;
    let c = Client::new(&e, Some(TOKEN));
    let mut v = version(fields("Terms"), None);
    v["termsOfUse"] = json!("Cite us.");
    let (s, b) = c
        .post_json(
            "/api/dataverses/root/datasets",
            &json!({ "datasetVersion": v }),
        )
        .await;
    assert_eq!(s, 201, "{b}");
    let id = b["data"]["id"].as_u64().unwrap();
    let (s, b) = c
        .post(&format!("/api/datasets/{id}/actions/:publish?type=major"))
        .await;
    assert_eq!(s, 200, "{b}");
}

#[tokio::test]
async fn a_rate_limited_add_reads_the_body_before_answering() {
    let e = emulator(Options::default()).await;
    let c = Client::new(&e, Some(TOKEN));
    let id = c.new_dataset().await;
    e.rate_limit_next_on("POST", &format!("/api/datasets/{id}/add"), 1);
    let big = vec![b'y'; 4 * 1024 * 1024];
    let (s, b) = c.add(id, "big.bin", &big, json!({})).await;
    assert_eq!(s, 400);
    assert_eq!(
        message(&b),
        "There was an error when trying to add the new file. CreateNewDataFilesCommand failed: Rate limited due to too many requests."
    );
    assert!(e.files(id).is_empty());
}
