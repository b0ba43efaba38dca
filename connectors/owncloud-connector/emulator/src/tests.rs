//! The ownCloud properties and the chunked-upload protocol, checked with plain HTTP.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use super::*;
use reqwest::{Client, Method};
use sha1::Digest as _;

const MIB: usize = 1024 * 1024;

fn m(name: &str) -> Method {
    Method::from_bytes(name.as_bytes()).unwrap()
}

async fn start(dir: &Path, chunking: Chunking) -> WebDavServer {
    WebDavServer::start_with(WebDavOptions::new(dir, "alice", "tok").chunking(chunking))
        .await
        .unwrap()
}

async fn props(c: &Client, url: &str) -> (Option<String>, Option<String>) {
    let body = r#"<?xml version="1.0"?><d:propfind xmlns:d="DAV:" xmlns:oc="http://owncloud.org/ns"><d:prop><oc:fileid/><oc:checksums/><d:getetag/></d:prop></d:propfind>"#;
    let text = c
        .request(m("PROPFIND"), url)
        .bearer_auth("tok")
        .header("Depth", "0")
        .body(body)
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    let between = |open: &str, close: &str| {
        let start = text.find(open)? + open.len();
        Some(text[start..start + text[start..].find(close)?].to_owned())
    };
    (
        between("fileid>", "</"),
        between("<oc:checksum>", "</oc:checksum>"),
    )
}

fn sums(data: &[u8]) -> String {
    format!(
        "SHA1:{} MD5:{} ADLER32:{:08x}",
        hex::encode(sha1::Sha1::digest(data)),
        hex::encode(md5::Md5::digest(data)),
        adler2::adler32_slice(data)
    )
}

async fn send(req: reqwest::RequestBuilder) -> u16 {
    req.bearer_auth("tok")
        .send()
        .await
        .unwrap()
        .status()
        .as_u16()
}

#[tokio::test]
async fn fileid_follows_owncloud_identity_and_checksums_are_reported() {
    let dir = tempfile::tempdir().unwrap();
    let dav = start(dir.path(), Chunking::default()).await;
    let c = Client::new();
    let url = format!("{}/a.txt", dav.owncloud_url());
    assert_eq!(send(c.put(&url).body("one")).await, 201);
    let (id1, sums1) = props(&c, &url).await;
    assert_eq!(sums1.as_deref(), Some(sums(b"one").as_str()));
    // An in-place update keeps the id and changes the checksums.
    assert_eq!(send(c.put(&url).body("two!")).await, 204);
    let (id2, sums2) = props(&c, &url).await;
    assert_eq!(id1, id2);
    assert_eq!(sums2.as_deref(), Some(sums(b"two!").as_str()));
    let get = c.get(&url).bearer_auth("tok").send().await.unwrap();
    assert_eq!(
        get.headers()["OC-Checksum"].to_str().unwrap(),
        format!("SHA1:{}", hex::encode(sha1::Sha1::digest(b"two!")))
    );
    // Delete + create: a new id.
    assert_eq!(send(c.delete(&url)).await, 204);
    assert_eq!(send(c.put(&url).body("two!")).await, 201);
    let (id3, _) = props(&c, &url).await;
    assert!(id3.is_some() && id3 != id1);
    // A MOVE over it: the moved file's id.
    let other = format!("{}/b.txt", dav.owncloud_url());
    assert_eq!(send(c.put(&other).body("b")).await, 201);
    let (id_b, _) = props(&c, &other).await;
    assert_eq!(
        send(c.request(m("MOVE"), &other).header("Destination", &url)).await,
        204
    );
    let (id4, _) = props(&c, &url).await;
    assert_eq!(id4, id_b);
    assert_ne!(id4, id3);
}

#[tokio::test]
async fn nextcloud_v2_chunked_upload_assembles_in_place_and_refuses_what_nextcloud_refuses() {
    let dir = tempfile::tempdir().unwrap();
    let dav = start(dir.path(), Chunking::NextcloudV2).await;
    let c = Client::new();
    let dest = format!("{}/big.bin", dav.nextcloud_url());
    assert_eq!(send(c.put(&dest).body("old")).await, 201);
    let (id_before, _) = props(&c, &dest).await;
    let up = format!("{}{UPLOADS_ROOT}/alice/t1", dav.base_url());
    // Another user's upload home does not exist for us.
    let bob = format!("{}{UPLOADS_ROOT}/bob/t1", dav.base_url());
    assert_eq!(send(c.request(m("MKCOL"), &bob)).await, 404);
    assert_eq!(
        send(c.request(m("MKCOL"), &up).header("Destination", &dest)).await,
        201
    );
    let data: Vec<u8> = (0..11 * MIB).map(|i| (i % 251) as u8).collect();
    let chunk = |n: &str, bytes: &[u8], with_dest: bool| {
        let mut r = c.put(format!("{up}/{n}")).body(bytes.to_vec());
        if with_dest {
            r = r.header("Destination", &dest);
        }
        r
    };
    assert_eq!(send(chunk("1", &data[..5 * MIB], false)).await, 400);
    assert_eq!(send(chunk("0", &data[..5 * MIB], true)).await, 400);
    assert_eq!(send(chunk("10001", &data[..5 * MIB], true)).await, 400);
    assert_eq!(send(chunk("1", &data[..5 * MIB], true)).await, 201);
    // Chunk 2 too small (not the last): refused at assembly.
    assert_eq!(send(chunk("2", &data[5 * MIB..6 * MIB], true)).await, 201);
    assert_eq!(send(chunk("3", &data[6 * MIB..], true)).await, 201);
    let mv = |total: usize| {
        c.request(m("MOVE"), format!("{up}/.file"))
            .header("Destination", &dest)
            .header("OC-Total-Length", total.to_string())
    };
    assert_eq!(send(mv(data.len())).await, 400);
    assert_eq!(send(chunk("2", &data[5 * MIB..10 * MIB], true)).await, 204);
    assert_eq!(send(chunk("3", &data[10 * MIB..], true)).await, 204);
    assert_eq!(send(mv(data.len() + 1)).await, 400);
    assert_eq!(
        send(c.request(m("MOVE"), format!("{up}/.file"))).await,
        400,
        "a MOVE without Destination"
    );
    assert_eq!(send(mv(data.len())).await, 204);
    assert_eq!(std::fs::read(dir.path().join("big.bin")).unwrap(), data);
    let (id_after, sums_after) = props(&c, &dest).await;
    assert_eq!(id_before, id_after, "assembly in place keeps the fileid");
    assert_eq!(sums_after.as_deref(), Some(sums(&data).as_str()));
    assert!(dav.upload_folders().is_empty());
}

#[tokio::test]
async fn owncloud_ng_verifies_the_checksum_and_delete_aborts() {
    let dir = tempfile::tempdir().unwrap();
    let dav = start(dir.path(), Chunking::OwncloudNg).await;
    let c = Client::new();
    let dest = format!("{}/n.txt", dav.owncloud_url());
    let up = format!("{}{UPLOADS_ROOT}/alice/t2", dav.base_url());
    assert_eq!(send(c.request(m("MKCOL"), &up)).await, 201);
    assert_eq!(send(c.request(m("MKCOL"), &up)).await, 405);
    // Any names, natural order; small chunks are fine on ownCloud.
    assert_eq!(send(c.put(format!("{up}/chunk-10")).body("c")).await, 201);
    assert_eq!(send(c.put(format!("{up}/chunk-9")).body("ab")).await, 201);
    assert_eq!(send(c.put(format!("{up}/.file")).body("x")).await, 403);
    let mv = |sum: &str| {
        c.request(m("MOVE"), format!("{up}/.file"))
            .header("Destination", &dest)
            .header("OC-Checksum", sum.to_owned())
    };
    assert_eq!(send(mv("SHA1:0000")).await, 400);
    assert!(!dir.path().join("n.txt").exists());
    let good = format!("SHA1:{}", hex::encode(sha1::Sha1::digest(b"abc")));
    assert_eq!(send(mv(&good)).await, 201);
    assert_eq!(std::fs::read(dir.path().join("n.txt")).unwrap(), b"abc");
    // Abort: DELETE of the upload folder.
    let up3 = format!("{}{UPLOADS_ROOT}/alice/t3", dav.base_url());
    assert_eq!(send(c.request(m("MKCOL"), &up3)).await, 201);
    assert_eq!(dav.upload_folders(), ["t3"]);
    assert_eq!(send(c.delete(&up3)).await, 204);
    assert!(dav.upload_folders().is_empty());
    let dav_none = start(dir.path(), Chunking::Unsupported).await;
    let up4 = format!("{}{UPLOADS_ROOT}/alice/t4", dav_none.base_url());
    assert_eq!(send(c.request(m("MKCOL"), &up4)).await, 404);
}

#[tokio::test]
async fn faults_reset_and_flip_bytes() {
    let dir = tempfile::tempdir().unwrap();
    let dav = start(dir.path(), Chunking::default()).await;
    let c = Client::new();
    let url = format!("{}/f.txt", dav.owncloud_url());
    dav.inject(Fault::reset("PUT"));
    assert!(c
        .put(&url)
        .bearer_auth("tok")
        .body("hello")
        .send()
        .await
        .is_err());
    assert!(!dir.path().join("f.txt").exists());
    dav.inject(Fault::of("PUT", FaultKind::FlipStored));
    assert_eq!(send(c.put(&url).body("hello")).await, 201);
    assert_ne!(std::fs::read(dir.path().join("f.txt")).unwrap(), b"hello");
    std::fs::write(dir.path().join("f.txt"), b"hello").unwrap();
    dav.inject(Fault::of("GET", FaultKind::FlipBody));
    let resp = c.get(&url).bearer_auth("tok").send().await.unwrap();
    let header = resp.headers()["OC-Checksum"].to_str().unwrap().to_owned();
    assert_eq!(
        header,
        format!("SHA1:{}", hex::encode(sha1::Sha1::digest(b"hello")))
    );
    assert_eq!(resp.bytes().await.unwrap().as_ref(), b"iello");
}

/// A PUT that breaks off leaves the old content (the body went to a part file).
#[tokio::test]
async fn broken_off_put_keeps_the_old_content() {
    use tokio::io::AsyncWriteExt;
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("k.txt"), b"old").unwrap();
    let dav = start(dir.path(), Chunking::default()).await;
    let mut tcp = tokio::net::TcpStream::connect(dav.addr()).await.unwrap();
    let head = format!(
        "PUT {OWNCLOUD_ROOT}/k.txt HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer tok\r\n\
         Content-Length: 1000000\r\n\r\nnew new new"
    );
    tcp.write_all(head.as_bytes()).await.unwrap();
    for _ in 0..200 {
        if dav.part_files() == 1 {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(10)).await;
    }
    assert_eq!(dav.part_files(), 1, "the body is received into a part file");
    drop(tcp);
    for _ in 0..200 {
        if dav.part_files() == 0 {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(10)).await;
    }
    assert_eq!(dav.part_files(), 0);
    assert_eq!(std::fs::read(dir.path().join("k.txt")).unwrap(), b"old");
}

/// Nextcloud reports only what the client sent, and forgets it on a write without one.
#[tokio::test]
async fn client_sent_checksums_are_reported_until_the_next_write() {
    let dir = tempfile::tempdir().unwrap();
    let dav = WebDavServer::start_with(
        WebDavOptions::new(dir.path(), "alice", "tok").reported(Reported::ClientSent),
    )
    .await
    .unwrap();
    let c = Client::new();
    let url = format!("{}/s.txt", dav.nextcloud_url());
    assert_eq!(send(c.put(&url).body("abc")).await, 201);
    assert_eq!(props(&c, &url).await.1, None);
    let sent = "SHA1:0123456789abcdef";
    assert_eq!(
        send(c.put(&url).header("OC-Checksum", sent).body("abd")).await,
        204
    );
    assert_eq!(props(&c, &url).await.1.as_deref(), Some(sent));
    let get = c.get(&url).bearer_auth("tok").send().await.unwrap();
    assert_eq!(get.headers()["OC-Checksum"], sent);
    assert_eq!(send(c.put(&url).body("abe")).await, 204);
    assert_eq!(props(&c, &url).await.1, None);
}
