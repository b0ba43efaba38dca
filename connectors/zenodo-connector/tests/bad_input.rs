//! Bad input on every metadata route of the Zenodo connector, against the emulator:
//! each case is a 4xx problem+json with a non-empty `detail`, never a 500, and the
//! process serves on afterwards.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use common::{start, user_id};
use reqwest::multipart::{Form, Part};
use reqwest::{Method, RequestBuilder};
use serde_json::{json, Value};

enum Want {
    Is(u16),
    ClientError,
}

async fn check(name: &str, req: RequestBuilder, want: Want) {
    let resp = req.send().await.unwrap_or_else(|e| panic!("{name}: {e}"));
    let status = resp.status().as_u16();
    let ct = resp
        .headers()
        .get("content-type")
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default()
        .to_owned();
    let text = resp.text().await.unwrap();
    println!("{status} {name}");
    match want {
        Want::Is(s) => assert_eq!(status, s, "{name}: {text}"),
        Want::ClientError => assert!((400..500).contains(&status), "{name}: {status} {text}"),
    }
    assert_eq!(ct, "application/problem+json", "{name}: {status} {text}");
    let v: Value = serde_json::from_str(&text).unwrap_or_else(|_| panic!("{name}: {text}"));
    assert_eq!(v["status"], status, "{name}");
    assert!(
        !v["detail"].as_str().unwrap_or_default().trim().is_empty(),
        "{name}: empty detail: {v}"
    );
}

fn upload_form(fields: &[(&str, &str)], file: bool) -> Form {
    let mut f = Form::new();
    for (k, v) in fields {
        f = f.text(k.to_string(), v.to_string());
    }
    if file {
        f = f.part("file", Part::bytes(b"content".to_vec()).file_name("f.txt"));
    }
    f
}

#[tokio::test]
async fn every_route_refuses_bad_input_with_a_problem() {
    let env = start().await;
    let id = env.create(json!({"title": "bad input"})).await;
    let uid = user_id();
    let big = "x".repeat(1024 * 1024 + 1);
    let project = format!("/metadata/project/{id}");
    let files = format!("{project}/files");
    let file = format!("{files}/no-such-file");
    // Every JSON-bodied route (the upload is multipart, below).
    let routes: Vec<(Method, String)> = vec![
        (Method::GET, "/metadata/project".into()),
        (Method::POST, "/metadata/project".into()),
        (Method::GET, project.clone()),
        (Method::PATCH, project.clone()),
        (Method::DELETE, project.clone()),
        (Method::PUT, project.clone()),
        (Method::GET, files.clone()),
        (Method::DELETE, files.clone()),
        (Method::GET, file.clone()),
        (Method::DELETE, file.clone()),
    ];
    let mut n = 0;
    for (method, route) in &routes {
        let req = || env.http.request(method.clone(), env.url(route));
        let name = |c: &str| format!("{method} {route}: {c}");
        let mut cases: Vec<(String, RequestBuilder, Want)> = vec![
            (
                name("malformed JSON"),
                req()
                    .header("content-type", "application/json")
                    .body("{\"userId\": "),
                Want::Is(400),
            ),
            (name("JSON array"), req().json(&json!([uid])), Want::Is(400)),
            (
                name("duplicate JSON field"),
                req()
                    .header("content-type", "application/json")
                    .body(format!("{{\"userId\": \"{uid}\", \"userId\": \"{uid}\"}}")),
                Want::Is(400),
            ),
            (
                name("wrong content type"),
                req()
                    .header("content-type", "application/xml")
                    .body("<userId/>"),
                Want::Is(415),
            ),
            (
                name("missing userId"),
                req().json(&json!({})),
                Want::Is(400),
            ),
            (
                name("empty userId"),
                req().json(&json!({"userId": ""})),
                Want::Is(400),
            ),
            (
                name("userId not a string"),
                req().json(&json!({"userId": [uid]})),
                Want::Is(400),
            ),
            (
                name("invalid UTF-8 in the JSON body"),
                req()
                    .header("content-type", "application/json")
                    .body([b"{\"userId\": \"port-zenodo://alice\xff:x\"}".as_slice()].concat()),
                Want::Is(400),
            ),
            (
                name("invalid UTF-8 in the query"),
                env.http.request(
                    method.clone(),
                    format!("{}?userId=alice%FF%FE", env.url(route)),
                ),
                Want::Is(400),
            ),
            (
                name("duplicate query field"),
                env.http.request(
                    method.clone(),
                    format!("{}?userId=a&userId=b", env.url(route)),
                ),
                Want::Is(400),
            ),
            (
                name("oversize JSON"),
                req().json(&json!({"userId": uid, "pad": big})),
                Want::Is(413),
            ),
            (
                // Was sent to Zenodo without credentials; the caller's mistake: 400.
                name("a token no header can carry"),
                req().json(&json!({"userId": "port-zenodo://alice:t\nk"})),
                Want::Is(400),
            ),
        ];
        if *method == Method::POST || *method == Method::PATCH {
            cases.push((
                name("metadata not an object"),
                req().json(&json!({"userId": uid, "metadata": [1, 2]})),
                Want::Is(400),
            ));
            cases.push((
                name("an RO-Crate whose @graph is not a list"),
                req().json(&json!({"userId": uid, "metadata": {"@graph": 5}})),
                Want::Is(400),
            ));
        }
        for (name, req, want) in cases {
            check(&name, req, want).await;
            n += 1;
        }
    }

    // Project and file ids: non-numeric, out of range, unknown, traversal.
    let id_routes: Vec<(Method, &str)> = vec![
        (Method::GET, "/metadata/project/{}"),
        (Method::PATCH, "/metadata/project/{}"),
        (Method::DELETE, "/metadata/project/{}"),
        (Method::PUT, "/metadata/project/{}"),
        (Method::GET, "/metadata/project/{}/files"),
        (Method::DELETE, "/metadata/project/{}/files"),
        (Method::GET, "/metadata/project/{}/files/x"),
        (Method::DELETE, "/metadata/project/{}/files/x"),
    ];
    for (method, template) in &id_routes {
        for (bad, want) in [
            ("abc", Want::Is(400)),
            ("12x", Want::Is(400)),
            ("-1", Want::Is(400)),
            ("1e3", Want::Is(400)),
            ("99999999999999999999999", Want::Is(400)),
            ("%2e%2e", Want::ClientError),
            ("..%2f..%2fapi", Want::ClientError),
            ("%00", Want::ClientError),
            ("%FF", Want::ClientError),
            ("999999", Want::Is(404)),
        ] {
            let route = template.replace("{}", bad);
            let req = env
                .http
                .request(method.clone(), env.url(&route))
                .json(&json!({"userId": uid, "metadata": null}));
            check(&format!("{method} {route}"), req, want).await;
            n += 1;
        }
    }
    for bad in ["%2e%2e", "..%2f..", "%00", "%FF"] {
        let route = format!("{files}/{bad}");
        for method in [Method::GET, Method::DELETE] {
            let req = env
                .http
                .request(method.clone(), env.url(&route))
                .json(&json!({"userId": uid}));
            check(&format!("{method} {route}"), req, Want::ClientError).await;
            n += 1;
        }
    }

    // The upload (multipart).
    let post = |route: &str| env.http.post(env.url(route));
    let cases: Vec<(String, RequestBuilder, Want)> = vec![
        (
            "JSON instead of multipart".into(),
            post(&files).json(&json!({"userId": uid, "filename": "a.txt"})),
            Want::Is(415),
        ),
        (
            "no file part".into(),
            post(&files).multipart(upload_form(
                &[("userId", &uid), ("filename", "a.txt")],
                false,
            )),
            Want::Is(400),
        ),
        (
            "missing userId".into(),
            post(&files).multipart(upload_form(&[("filename", "a.txt")], true)),
            Want::Is(400),
        ),
        (
            "empty userId".into(),
            post(&files).multipart(upload_form(&[("userId", ""), ("filename", "a.txt")], true)),
            Want::Is(400),
        ),
        (
            "empty filename, no part file name".into(),
            post(&files).multipart(
                Form::new()
                    .text("userId", uid.clone())
                    .text("filename", "")
                    .part("file", Part::bytes(b"x".to_vec())),
            ),
            Want::Is(400),
        ),
        (
            "filename ..".into(),
            post(&files).multipart(upload_form(&[("userId", &uid), ("filename", "..")], true)),
            Want::ClientError,
        ),
        (
            // (Control characters are dropped from names; nothing left is an error.)
            "filename of control characters only".into(),
            post(&files).multipart(upload_form(&[("userId", &uid), ("filename", "\0\n")], true)),
            Want::ClientError,
        ),
        (
            "duplicate filename field".into(),
            post(&files).multipart(upload_form(
                &[
                    ("userId", &uid),
                    ("filename", "a.txt"),
                    ("filename", "b.txt"),
                ],
                true,
            )),
            Want::Is(400),
        ),
        (
            "size not a number".into(),
            post(&files).multipart(upload_form(
                &[("userId", &uid), ("filename", "a.txt"), ("size", "-3")],
                true,
            )),
            Want::Is(400),
        ),
        (
            "malformed multipart body".into(),
            post(&files)
                .header("content-type", "multipart/form-data; boundary=XyZ")
                .body("no parts here"),
            Want::ClientError,
        ),
        (
            "non-numeric project".into(),
            post("/metadata/project/abc/files").multipart(upload_form(
                &[("userId", &uid), ("filename", "a.txt")],
                true,
            )),
            Want::Is(400),
        ),
        (
            "unknown project".into(),
            post("/metadata/project/999999/files").multipart(upload_form(
                &[("userId", &uid), ("filename", "a.txt")],
                true,
            )),
            Want::Is(404),
        ),
    ];
    for (name, req, want) in cases {
        check(&format!("POST {files}: {name}"), req, want).await;
        n += 1;
    }
    println!("{n} bad-input cases answered 4xx problem+json");

    // Nothing changed at Zenodo, and the process serves on.
    assert!(env.zenodo.files(id).is_empty());
    assert_eq!(env.zenodo.depositions().len(), 1);
    assert_eq!(env.zenodo.metadata(id).unwrap()["title"], "bad input");
    let health = env.http.get(env.url("/health")).send().await.unwrap();
    assert_eq!(health.status(), 200);
    env.stop().await;
}
