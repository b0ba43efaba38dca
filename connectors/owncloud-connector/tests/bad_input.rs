//! Bad input on every route of the ownCloud connector, against the real WebDAV server:
//! each case is a 4xx problem+json with a non-empty `detail`, never a 500, and the
//! process serves on afterwards. (The core's own table uses a stub provider.)
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use common::*;
use reqwest::multipart::{Form, Part};
use reqwest::{Method, RequestBuilder};
use serde_json::{json, Value};

/// What a case must answer: one status, or any 4xx.
enum Want {
    Is(u16),
    ClientError,
}

async fn check(name: &str, req: RequestBuilder, want: Want) -> u16 {
    let resp = req.send().await.unwrap_or_else(|e| panic!("{name}: {e}"));
    let status = resp.status().as_u16();
    let ct = resp
        .headers()
        .get("content-type")
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default()
        .to_owned();
    let text = resp.text().await.unwrap();
    match want {
        Want::Is(s) => assert_eq!(status, s, "{name}: {text}"),
        Want::ClientError => assert!((400..500).contains(&status), "{name}: {status} {text}"),
    }
    println!("{status} {name}");
    assert_eq!(ct, "application/problem+json", "{name}: {status} {text}");
    let v: Value = serde_json::from_str(&text).unwrap_or_else(|_| panic!("{name}: {text}"));
    assert_eq!(v["status"], status, "{name}");
    assert!(
        !v["detail"].as_str().unwrap_or_default().trim().is_empty(),
        "{name}: empty detail: {v}"
    );
    status
}

/// A multipart form with the given text fields, then (when `file`) the file part.
fn form(fields: &[(&str, &str)], file: bool) -> Form {
    let mut f = Form::new();
    for (k, v) in fields {
        f = f.text(k.to_string(), v.to_string());
    }
    if file {
        f = f.part("file", Part::bytes(b"content".to_vec()).file_name("f.txt"));
    }
    f
}

/// The start of a hand-written upload of `/Data/x.txt`, up to the end of the file's bytes.
fn file_upload(uid: &str) -> Vec<u8> {
    format!(
        "--XyZ\r\nContent-Disposition: form-data; name=\"userId\"\r\n\r\n{uid}\r\n\
         --XyZ\r\nContent-Disposition: form-data; name=\"filepath\"\r\n\r\n/Data/x.txt\r\n\
         --XyZ\r\nContent-Disposition: form-data; name=\"file\"; filename=\"x\"\r\n\r\nabc"
    )
    .into_bytes()
}

/// A hand-written multipart body (for what reqwest refuses to build).
fn raw_multipart(h: &Harness, method: Method, body: &[u8]) -> RequestBuilder {
    h.http
        .request(method, h.url("/storage/file"))
        .header("content-type", "multipart/form-data; boundary=XyZ")
        .body(body.to_vec())
}

#[actix_web::test]
async fn every_route_refuses_bad_input_with_a_problem() {
    let h = Harness::start(Efss::Owncloud).await;
    let data = build_tree(h.root(), false);
    let uid = h.user_id();
    let json_routes = [
        (Method::GET, "/storage/folder"),
        (Method::GET, "/storage/file"),
        (Method::DELETE, "/storage/file"),
    ];
    let big = "x".repeat(1024 * 1024 + 1);
    let mut n = 0;
    for (method, route) in &json_routes {
        let req = || h.http.request(method.clone(), h.url(route));
        let is_file = *route == "/storage/file";
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
                name("wrong content type"),
                req()
                    .header("content-type", "text/plain")
                    .body(format!("userId={uid}")),
                Want::Is(415),
            ),
            (
                name("missing userId"),
                req().json(&json!({"filepath": "/Data/plain.txt"})),
                Want::Is(400),
            ),
            (
                name("empty userId"),
                req().json(&json!({"userId": "", "filepath": "/Data/plain.txt"})),
                Want::Is(400),
            ),
            (
                name("userId not a string"),
                req().json(&json!({"userId": {"a": 1}, "filepath": "/Data/plain.txt"})),
                Want::Is(400),
            ),
            (
                name("session userId without a user"),
                req().json(&json!({"userId": "port-owncloud-x://:tok", "filepath": "/Data"})),
                Want::ClientError,
            ),
            (
                name(".. segment"),
                req().json(&json!({"userId": uid, "filepath": "/Data/../../etc/passwd"})),
                Want::Is(400),
            ),
            (
                name("encoded .. segment"),
                req().json(&json!({"userId": uid, "filepath": "/Data/%2e%2e/%2E%2E/etc"})),
                Want::Is(400),
            ),
            (
                name("encoded slash and .."),
                req().json(&json!({"userId": uid, "filepath": "/Data/..%2f..%2fetc"})),
                Want::ClientError,
            ),
            (
                name("NUL in path"),
                req().json(&json!({"userId": uid, "filepath": "/Data/a\u{0}b.txt"})),
                Want::Is(400),
            ),
            (
                name("encoded NUL in path"),
                req().json(&json!({"userId": uid, "filepath": "/Data/a%00b.txt"})),
                Want::ClientError,
            ),
            (
                name("invalid UTF-8 in the JSON body"),
                req().header("content-type", "application/json").body(
                    [
                        format!("{{\"userId\": \"{uid}\", \"filepath\": \"/Data/").as_bytes(),
                        b"\xff\xfe.txt\"}",
                    ]
                    .concat(),
                ),
                Want::Is(400),
            ),
            (
                name("invalid UTF-8 in the query"),
                h.http.request(
                    method.clone(),
                    format!(
                        "{}?userId={}&filepath=/Data/%FF%FE.txt",
                        h.url(route),
                        urlencode(&uid)
                    ),
                ),
                Want::ClientError,
            ),
            (
                name("duplicate query field"),
                h.http.request(
                    method.clone(),
                    format!(
                        "{}?userId={u}&userId={u}&filepath=/Data/plain.txt",
                        h.url(route),
                        u = urlencode(&uid)
                    ),
                ),
                Want::Is(400),
            ),
            (
                name("oversize JSON"),
                req().json(&json!({"userId": uid, "filepath": "/Data/plain.txt", "pad": big})),
                Want::Is(413),
            ),
            (
                name("missing folder or file"),
                req().json(&json!({"userId": uid, "filepath": "/Nope/none.txt"})),
                Want::Is(404),
            ),
        ];
        if is_file {
            cases.push((
                name("missing filepath"),
                req().json(&json!({"userId": uid})),
                Want::Is(400),
            ));
            cases.push((
                name("empty filepath"),
                req().json(&json!({"userId": uid, "filepath": ""})),
                Want::Is(400),
            ));
            cases.push((
                name("root as filepath"),
                req().json(&json!({"userId": uid, "filepath": "/"})),
                Want::Is(400),
            ));
        } else {
            cases.push((
                name("recursive not a boolean"),
                req().json(&json!({"userId": uid, "filepath": "/Data", "recursive": "perhaps"})),
                Want::Is(400),
            ));
        }
        for (name, req, want) in cases {
            check(&name, req, want).await;
            n += 1;
        }
    }

    for method in [Method::POST, Method::PATCH] {
        let req = || h.http.request(method.clone(), h.url("/storage/file"));
        let name = |c: &str| format!("{method} /storage/file: {c}");
        let cases: Vec<(String, RequestBuilder, Want)> = vec![
            (
                name("JSON instead of multipart"),
                req().json(&json!({"userId": uid, "filepath": "/Data/x.txt"})),
                Want::Is(415),
            ),
            (
                name("no file part"),
                req().multipart(form(&[("userId", &uid), ("filepath", "/Data/x.txt")], false)),
                Want::Is(400),
            ),
            (
                name("missing userId"),
                req().multipart(form(&[("filepath", "/Data/x.txt")], true)),
                Want::Is(400),
            ),
            (
                name("empty userId"),
                req().multipart(form(&[("userId", ""), ("filepath", "/Data/x.txt")], true)),
                Want::Is(400),
            ),
            (
                name("missing filepath"),
                req().multipart(form(&[("userId", &uid)], true)),
                Want::Is(400),
            ),
            (
                name("empty filepath"),
                req().multipart(form(&[("userId", &uid), ("filepath", "")], true)),
                Want::Is(400),
            ),
            (
                name(".. in filepath"),
                req().multipart(form(&[("userId", &uid), ("filepath", "/Data/../x.txt")], true)),
                Want::Is(400),
            ),
            (
                name("encoded .. in filepath"),
                req().multipart(form(
                    &[("userId", &uid), ("filepath", "/Data/%2e%2e/x.txt")],
                    true,
                )),
                Want::Is(400),
            ),
            (
                name("NUL in filepath"),
                req().multipart(form(&[("userId", &uid), ("filepath", "/Data/a\0.txt")], true)),
                Want::Is(400),
            ),
            (
                name("duplicate userId field"),
                req().multipart(form(
                    &[("userId", &uid), ("userId", &uid), ("filepath", "/Data/x.txt")],
                    true,
                )),
                Want::Is(400),
            ),
            (
                name("size not a number"),
                req().multipart(form(
                    &[("userId", &uid), ("filepath", "/Data/x.txt"), ("size", "ten")],
                    true,
                )),
                Want::Is(400),
            ),
            (
                name("multipart without a boundary"),
                req()
                    .header("content-type", "multipart/form-data")
                    .body("--x\r\n"),
                Want::ClientError,
            ),
            (
                name("malformed multipart body"),
                raw_multipart(&h, method.clone(), b"this is not multipart at all"),
                Want::ClientError,
            ),
            (
                name("invalid UTF-8 in a form field"),
                raw_multipart(
                    &h,
                    method.clone(),
                    &[
                        b"--XyZ\r\nContent-Disposition: form-data; name=\"userId\"\r\n\r\n".as_slice(),
                        b"port-owncloud-x://alice\xff:tok\r\n",
                        b"--XyZ\r\nContent-Disposition: form-data; name=\"filepath\"\r\n\r\n/Data/x.txt\r\n",
                        b"--XyZ\r\nContent-Disposition: form-data; name=\"file\"; filename=\"x\"\r\n\r\n",
                        b"abc\r\n--XyZ--\r\n",
                    ]
                    .concat(),
                ),
                Want::Is(400),
            ),
            (
                // The file's length is derived from Content-Length, and then wrong.
                name("a part after the file part"),
                raw_multipart(&h, method.clone(), &[file_upload(&uid).as_slice(), b"\r\n--XyZ\r\nContent-Disposition: form-data; name=\"late\"\r\n\r\nx\r\n--XyZ--\r\n"].concat()),
                Want::Is(400),
            ),
            (
                name("no CRLF after the closing boundary"),
                raw_multipart(&h, method.clone(), &[file_upload(&uid).as_slice(), b"\r\n--XyZ--"].concat()),
                Want::Is(400),
            ),
        ];
        for (name, req, want) in cases {
            check(&name, req, want).await;
            n += 1;
        }
    }
    println!("{n} bad-input cases answered 4xx problem+json");

    // Nothing was written, and the process serves on.
    assert_eq!(
        h.list_ok("/Data", None).await,
        files_on_disk(&data, "/Data")
    );
    assert!(!data.join("x.txt").exists());
    let health = h.http.get(h.url("/health")).send().await.unwrap();
    assert_eq!(health.status(), 200);
}

/// Query and multipart duplicates are refused (which one wins would be a guess); a JSON
/// body with the same key twice must be too, or `{"userId": A, "userId": B}` silently acts
/// as B.
#[actix_web::test]
async fn duplicate_json_keys_are_refused() {
    let h = Harness::start(Efss::Owncloud).await;
    build_tree(h.root(), false);
    let uid = h.user_id();
    for (method, route) in [
        (Method::GET, "/storage/folder"),
        (Method::GET, "/storage/file"),
        (Method::DELETE, "/storage/file"),
    ] {
        let body = format!(
            "{{\"userId\": \"port-owncloud-x://mallory:x\", \"userId\": \"{uid}\", \
             \"filepath\": \"/Data/plain.txt\", \"filepath\": \"/Data/sub/y.json\"}}"
        );
        let req = h
            .http
            .request(method.clone(), h.url(route))
            .header("content-type", "application/json")
            .body(body);
        check(
            &format!("{method} {route}: duplicate JSON keys"),
            req,
            Want::Is(400),
        )
        .await;
    }
}

fn urlencode(s: &str) -> String {
    s.bytes()
        .map(|b| {
            if b.is_ascii_alphanumeric() || b"-_.~".contains(&b) {
                (b as char).to_string()
            } else {
                format!("%{b:02X}")
            }
        })
        .collect()
}
