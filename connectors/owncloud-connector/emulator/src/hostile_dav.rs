//! A WebDAV server whose folder tree is made up per request, for the listings a real
//! server can hand the connector and no sane test folder holds: trees that never end,
//! folders that list themselves, hrefs with `..`, NUL or backslashes, one gigantic href.
//!
//! It serves the ownCloud layout (`/remote.php/webdav`), answers only `PROPFIND` (207,
//! `Depth` 0 or 1, as Sabre does; other methods get 405) and accepts any credentials.
//! Answers are streamed (chunked), as Sabre streams large multistatus bodies.

use std::sync::Arc;
use std::time::Duration;

use bytes::Bytes;
use futures_util::stream;

use test_support::hostile::{full, streamed, Counters, HostileServer};

/// The ownCloud WebDAV root the tree hangs under.
pub const ROOT: &str = "/remote.php/webdav";

/// The shape of the tree.
#[derive(Debug, Clone)]
pub enum Tree {
    /// Every folder holds a folder `a` and a file `f.txt`: a tree that never ends, as a
    /// server-side mount that recurses into itself (a FUSE or network mount of its own
    /// parent) presents it.
    Endless,
    /// Every folder holds `n` folders `d0..` and a file: a tree that fans out without end.
    FanOut(usize),
    /// Every folder lists itself again as its own child, and the root as another child: a
    /// symlink loop on ownCloud's "Local" external storage, whose listing walks into the
    /// link target, or a proxy that rewrites hrefs wrongly.
    SelfChild,
    /// The root holds `ok.txt`, a good folder `sub/` (holding `inner.txt`), and entries
    /// whose hrefs no honest server sends: `a/../../escape.txt`, NUL and backslash in
    /// names, a folder whose name decodes to `/../`.
    BadNames,
    /// The root holds one file whose href is this many bytes long (the probe sent 300 MB).
    HugeHref(usize),
    /// The root holds this many files and nothing else: a big but honest folder (an
    /// instrument's output folder), its answer streamed entry by entry.
    Wide(usize),
}

/// The running server.
pub struct HostileDav {
    server: HostileServer,
}

impl HostileDav {
    /// Serves `tree`; every answer waits `delay` first (a slow server, so a walk lasts).
    pub async fn start(tree: Tree, delay: Duration) -> std::io::Result<Self> {
        let tree = Arc::new(tree);
        let server = HostileServer::start(move |req, counters| {
            let tree = Arc::clone(&tree);
            async move {
                if req.method().as_str() != "PROPFIND" {
                    return full(405, "text/plain", "only PROPFIND here");
                }
                let Some(rest) = req.uri().path().strip_prefix(ROOT) else {
                    return full(404, "text/plain", "not under the WebDAV root");
                };
                let folder = format!("{ROOT}/{}", rest.trim_matches('/'));
                let folder = format!("{}/", folder.trim_end_matches('/'));
                let depth0 = req
                    .headers()
                    .get("depth")
                    .is_some_and(|d| d.as_bytes() == b"0");
                tokio::time::sleep(delay).await;
                answer(&tree, &folder, depth0, &counters)
            }
        })
        .await?;
        Ok(Self { server })
    }

    /// `OWNCLOUD_INSTALLATION_URL`.
    pub fn base_url(&self) -> String {
        self.server.url()
    }

    /// PROPFINDs (and any other requests) received.
    pub fn requests(&self) -> u64 {
        self.server.requests()
    }

    /// Body bytes the connection took from the server so far.
    pub fn body_bytes_sent(&self) -> u64 {
        self.server.counters().body_bytes_sent()
    }
}

fn response(href: &str, folder: bool) -> String {
    let kind = if folder { "<d:collection/>" } else { "" };
    format!(
        "<d:response><d:href>{href}</d:href><d:propstat><d:prop><d:resourcetype>{kind}\
         </d:resourcetype></d:prop><d:status>HTTP/1.1 200 OK</d:status></d:propstat>\
         </d:response>"
    )
}

const HEAD: &str = r#"<?xml version="1.0" encoding="utf-8"?><d:multistatus xmlns:d="DAV:">"#;
const TAIL: &str = "</d:multistatus>";

fn answer(
    tree: &Tree,
    folder: &str,
    depth0: bool,
    counters: &Arc<Counters>,
) -> test_support::hostile::Answer {
    let mut parts = vec![HEAD.to_owned(), response(folder, true)];
    let root = format!("{ROOT}/");
    if let Tree::Wide(n) = tree {
        if !depth0 && folder == root {
            let head = format!("{HEAD}{}", response(folder, true));
            let folder = folder.to_owned();
            // A thousand entries per chunk, as a server's output buffer sends them.
            let n = *n;
            let entries = (0..n).step_by(1000).map(move |from| {
                let part: String = (from..(from + 1000).min(n))
                    .map(|i| response(&format!("{folder}f{i}.dat"), false))
                    .collect();
                Bytes::from(part)
            });
            let chunks = stream::iter(
                std::iter::once(Bytes::from(head))
                    .chain(entries)
                    .chain(std::iter::once(Bytes::from_static(TAIL.as_bytes()))),
            );
            return streamed(counters, 207, "application/xml; charset=utf-8", chunks);
        }
    }
    if let Tree::HugeHref(len) = tree {
        if !depth0 && folder == root {
            // The href is produced piece by piece, never held: only the reader's
            // appetite decides how much of it travels.
            let open = format!("{HEAD}{}<d:response><d:href>{root}", response(folder, true));
            let piece = Bytes::from(vec![b'a'; 64 * 1024]);
            let pieces = (*len / piece.len()).max(1);
            let close = format!(
                "</d:href><d:propstat><d:prop><d:resourcetype/></d:prop>\
                 <d:status>HTTP/1.1 200 OK</d:status></d:propstat></d:response>{TAIL}"
            );
            let chunks = stream::iter(
                std::iter::once(Bytes::from(open))
                    .chain(std::iter::repeat_n(piece, pieces))
                    .chain(std::iter::once(Bytes::from(close))),
            );
            return streamed(counters, 207, "application/xml; charset=utf-8", chunks);
        }
    }
    if !depth0 {
        match tree {
            Tree::Endless => {
                parts.push(response(&format!("{folder}a/"), true));
                parts.push(response(&format!("{folder}f.txt"), false));
            }
            Tree::FanOut(n) => {
                for i in 0..*n {
                    parts.push(response(&format!("{folder}d{i}/"), true));
                }
                parts.push(response(&format!("{folder}f.txt"), false));
            }
            Tree::SelfChild => {
                parts.push(response(folder, true));
                parts.push(response(&root, true));
                parts.push(response(&format!("{folder}f.txt"), false));
            }
            Tree::BadNames if folder == root => {
                for (href, is_folder) in [
                    ("ok.txt", false),
                    ("sub/", true),
                    ("a/../../escape.txt", false),
                    ("nul%00.txt", false),
                    ("back%5Cslash.txt", false),
                    ("x%2F..%2Fy/", true),
                    ("%2E%2E/", true),
                ] {
                    parts.push(response(&format!("{root}{href}"), is_folder));
                }
            }
            Tree::BadNames if folder == format!("{root}sub/") => {
                parts.push(response(&format!("{folder}inner.txt"), false));
            }
            Tree::BadNames | Tree::HugeHref(_) | Tree::Wide(_) => {}
        }
    }
    parts.push(TAIL.to_owned());
    let chunks = stream::iter(parts.into_iter().map(Bytes::from));
    streamed(counters, 207, "application/xml; charset=utf-8", chunks)
}
