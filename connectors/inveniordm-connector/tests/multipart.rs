//! Multipart transfers where the instance offers them: each part sent (and retried)
//! alone, the whole file's MD5 verified once Invenio has computed it; local transfers
//! where it does not.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use common::{bytes, sample_crate, start_as, Env};
use inveniordm_emulator::{FileStatus, Flavour, Limits};

const PART: u64 = 1024 * 1024;

async fn env(offered: bool) -> Env {
    let env = start_as(Flavour::Stock, Limits::default(), |c| {
        c.inveniordm_multipart_part_bytes = Some(PART)
    })
    .await;
    env.emu.offer_multipart(offered);
    env
}

fn part_puts(env: &Env, id: &str, key: &str) -> Vec<String> {
    let prefix = format!("/api/records/{id}/draft/files/{key}/content/");
    env.emu
        .requests()
        .into_iter()
        .filter(|r| r.method == "PUT" && r.path.starts_with(&prefix))
        .map(|r| format!("{} {}", &r.path[prefix.len()..], r.status))
        .collect()
}

#[actix_web::test]
async fn large_files_go_in_parts_and_a_failed_part_is_sent_again_alone() {
    let env = env(true).await;
    let id = env.create(sample_crate()).await;
    let data = bytes(3 * PART as usize + 500_000, 7);
    env.emu.fail_next_on(
        "PUT",
        &format!("/api/records/{id}/draft/files/big.bin/content/2"),
        1,
        503,
    );
    let (s, body) = env.upload(&id, "big.bin", data.clone()).await;
    assert_eq!(s, 200, "{body}");
    assert_eq!(
        part_puts(&env, &id, "big.bin"),
        ["1 200", "2 503", "2 200", "3 200", "4 200"]
    );
    // The commit's answer has no checksum yet: the entry is read again for it.
    let after_commit: Vec<String> = env
        .emu
        .requests()
        .into_iter()
        .skip_while(|r| !r.path.ends_with("/big.bin/commit"))
        .map(|r| format!("{} {}", r.method, r.path))
        .collect();
    assert_eq!(
        after_commit.get(1).map(String::as_str),
        Some(format!("GET /api/records/{id}/draft/files/big.bin").as_str()),
        "{after_commit:?}"
    );
    let f = &env.emu.files(&id)[0];
    assert_eq!(f.status, FileStatus::Completed);
    assert_eq!(std::fs::read(&f.path).unwrap(), data);
    // Small files stay local.
    assert_eq!(env.upload(&id, "small.txt", b"small".to_vec()).await.0, 200);
    assert!(part_puts(&env, &id, "small.txt").is_empty());
    env.stop().await;
}

#[actix_web::test]
async fn a_corrupted_part_fails_the_md5_and_the_file_goes() {
    let env = env(true).await;
    let id = env.create(sample_crate()).await;
    env.emu.corrupt_next_uploads(1);
    let (s, body) = env
        .upload(&id, "c.bin", bytes(2 * PART as usize + 1, 8))
        .await;
    assert_eq!(s, 502, "{body}");
    assert!(env.emu.files(&id).is_empty());
    env.stop().await;
}

#[actix_web::test]
async fn where_not_offered_uploads_are_local_after_one_refusal() {
    let env = env(false).await;
    let id = env.create(sample_crate()).await;
    let data = bytes(2 * PART as usize + 10, 9);
    assert_eq!(env.upload(&id, "a.bin", data.clone()).await.0, 200);
    assert_eq!(env.upload(&id, "b.bin", data.clone()).await.0, 200);
    let inits: Vec<u16> = env
        .emu
        .requests()
        .into_iter()
        .filter(|r| r.method == "POST" && r.path == format!("/api/records/{id}/draft/files"))
        .map(|r| r.status)
        .collect();
    assert_eq!(
        inits,
        [403, 201, 201],
        "one refused multipart init, then local ones"
    );
    for f in env.emu.files(&id) {
        assert_eq!(std::fs::read(&f.path).unwrap(), data);
    }
    env.stop().await;
}
