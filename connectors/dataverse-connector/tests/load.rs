//! Load through the real binary: concurrent uploads into one draft, half with a declared
//! size (streamed into `/add`'s multipart body), half without (spooled to `TMPDIR`); every byte
//! verified in the emulator's store, no spool file left, and the connector's peak
//! resident memory (VmHWM) bounded and reported.
//!
//! `cargo test` runs it at 4 MB per upload; the 1 GiB with flat memory:
//! `RDS_LOAD_MB=1024 cargo test --release -p dataverse-connector --test load -- --nocapture`.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::time::Instant;

use dataverse_emulator::DataverseEmulator;
use test_support::load;

const BIN: &str = env!("CARGO_BIN_EXE_dataverse-connector");
const TOKEN: &str = "load-token";
const UPLOADS: usize = 4;
const MAX_HWM_KIB: u64 = 256 * 1024;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn concurrent_uploads_are_whole_and_memory_stays_bounded() {
    let size = load::size_from_env(4);
    let block = load::block();
    let emu = DataverseEmulator::start().await.unwrap();
    emu.add_token(TOKEN, "alice");
    let tmp = tempfile::tempdir().unwrap();
    let (child, base) = load::spawn_ready(
        BIN,
        &[
            ("DATAVERSE_ADDRESS", emu.url()),
            ("DATAVERSE_CONTACT_EMAIL", "rdm@uni.example"),
            ("TMPDIR", &tmp.path().display().to_string()),
        ],
    )
    .await;
    let pid = child.id().unwrap();
    let user_id = format!("port-dataverse://alice:{TOKEN}");
    let http = reqwest::Client::new();
    let project = load::create_project(&http, &base, &user_id).await;
    let started = Instant::now();
    let errors = load::upload_concurrently(
        &http, &base, &user_id, &project, "/load/", UPLOADS, size, &block,
    )
    .await;
    let elapsed = started.elapsed();
    let hwm = load::vm_hwm_kib(pid).unwrap();
    assert!(errors.is_empty(), "{}", errors.join("\n"));
    let files = emu.files(project.parse().unwrap());
    assert_eq!(files.len(), UPLOADS);
    for f in files {
        assert_eq!(f.size, size, "{}", f.label);
        assert_eq!(f.directory_label.as_deref(), Some("load"));
        let (path, block) = (f.path.clone(), block.clone());
        let whole =
            tokio::task::spawn_blocking(move || load::verify_file(&path, &block, size).unwrap())
                .await
                .unwrap();
        assert!(whole, "{} differs in the store", f.label);
    }
    let left: Vec<_> = std::fs::read_dir(tmp.path()).unwrap().collect();
    assert!(left.is_empty(), "spool files left: {left:?}");
    println!(
        "dataverse-connector: {UPLOADS} uploads of {} MB in {elapsed:.1?}; VmHWM {} MiB",
        size / 1_000_000,
        hwm / 1024
    );
    assert!(hwm < MAX_HWM_KIB, "VmHWM {hwm} kB");
    drop(child);
    emu.stop().await;
}
