//! Load through the real binary: 16 concurrent uploads into one deposition, half with a
//! declared size (streamed to the bucket), half without (spooled to `TMPDIR`); every byte
//! verified in the emulator's store, no spool file left, and the connector's peak
//! resident memory (VmHWM) bounded and reported.
//!
//! `cargo test` runs it at 4 MB per upload (the emulator hashes every byte, slowly in a
//! debug build: 16 x 8 MB take ~17 s on two cores); the full size runs in release:
//! `RDS_LOAD_MB=100 cargo test --release -p zenodo-connector --test load -- --nocapture`.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::time::Instant;

use test_support::load;
use zenodo_emulator::ZenodoEmulator;

const BIN: &str = env!("CARGO_BIN_EXE_zenodo-connector");
const TOKEN: &str = "load-token";
const UPLOADS: usize = 16;
const MAX_HWM_KIB: u64 = 256 * 1024;
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn concurrent_uploads_are_whole_and_memory_stays_bounded() {
    let size = load::size_from_env(4);
    let mb = size / 1_000_000;
    let block = load::block();
    let zenodo = ZenodoEmulator::start().await.unwrap();
    zenodo.add_token(TOKEN, "alice");
    let tmp = tempfile::tempdir().unwrap();
    let (child, base) = load::spawn_ready(
        BIN,
        &[
            ("ZENODO_ADDRESS", zenodo.url()),
            ("TMPDIR", &tmp.path().display().to_string()),
        ],
    )
    .await;
    let pid = child.id().unwrap();
    let user_id = format!("port-zenodo://alice:{TOKEN}");
    let http = reqwest::Client::new();
    let project = load::create_project(&http, &base, &user_id).await;
    let started = Instant::now();
    let errors =
        load::upload_concurrently(&http, &base, &user_id, &project, "", UPLOADS, size, &block)
            .await;
    let elapsed = started.elapsed();
    let hwm = load::vm_hwm_kib(pid).unwrap();
    assert!(errors.is_empty(), "{}", errors.join("\n"));

    let files = zenodo.files(project.parse().unwrap());
    assert_eq!(files.len(), UPLOADS);
    for f in files {
        assert_eq!(f.size, size, "{}", f.key);
        let (path, block) = (f.path.clone(), block.clone());
        let whole =
            tokio::task::spawn_blocking(move || load::verify_file(&path, &block, size).unwrap())
                .await
                .unwrap();
        assert!(whole, "{} differs in the store", f.key);
    }
    let left: Vec<_> = std::fs::read_dir(tmp.path()).unwrap().collect();
    assert!(left.is_empty(), "spool files left: {left:?}");
    println!(
        "zenodo-connector: {UPLOADS} uploads of {mb} MB in {elapsed:.1?}; VmHWM {} MiB",
        hwm / 1024
    );
    assert!(hwm < MAX_HWM_KIB, "VmHWM {hwm} kB");
    drop(child);
    zenodo.stop().await;
}
