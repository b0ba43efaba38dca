//! The demo's flow as an end-to-end test: real connector binaries, a real WebDAV server,
//! the Token Storage and repository emulators (Zenodo, InvenioRDM).
#![allow(clippy::unwrap_used, clippy::expect_used)]

use rds_demo::repository::RepositoryEmulator;
use rds_demo::{Demo, DemoOptions, Repository};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn rds_export_flow_end_to_end() {
    // Built when this test runs alone; already there under `cargo test --workspace`.
    rds_demo::stack::connector_binary(env!("CARGO"), "owncloud-connector").unwrap();
    let demo = Demo::start(&DemoOptions {
        large_mib: 50,
        progress: false,
        repository: Repository::Zenodo,
    })
    .await
    .unwrap();
    let result = demo.run_flow(false).await;
    let logs: Vec<String> = demo
        .logs()
        .iter()
        .map(|p| std::fs::read_to_string(p).unwrap_or_default())
        .collect();
    let RepositoryEmulator::Zenodo(zenodo) = &demo.stack.repository else {
        panic!("not Zenodo")
    };
    let published = zenodo.depositions();
    demo.stop().await;

    let report = result.unwrap_or_else(|e| panic!("{e}\nlogs:\n{}", logs.join("\n")));
    println!("{}", report.render());
    assert!(report.all_verified(), "{}", report.render());
    assert_eq!(report.files_total, 5);
    assert!(report.doi.starts_with("10."), "DOI {}", report.doi);
    assert!(
        report
            .project_link
            .starts_with("https://zenodo.org/record/"),
        "{}",
        report.project_link
    );
    assert_eq!(published.len(), 1);
    assert_eq!(published[0]["submitted"], true);
    assert_eq!(
        published[0]["metadata"]["title"],
        "Soil moisture campaign 2026"
    );

    // Secrets used by the flow never reach the connectors' logs.
    for log in &logs {
        for secret in [
            "demo-owncloud-access-token",
            "demo-repository-access-token",
            "demo-owncloud-client-secret",
            "demo-zenodo-client-secret",
        ] {
            assert!(!log.contains(secret), "a log holds {secret}");
        }
    }
}

/// The same flow to InvenioRDM in login mode: the personal token travels in the userId.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn rds_export_flow_to_inveniordm() {
    rds_demo::stack::connector_binary(env!("CARGO"), "inveniordm-connector").unwrap();
    let demo = Demo::start(&DemoOptions {
        large_mib: 8,
        progress: false,
        repository: Repository::Inveniordm,
    })
    .await
    .unwrap();
    let result = demo.run_flow(false).await;
    let logs: Vec<String> = demo
        .logs()
        .iter()
        .map(|p| std::fs::read_to_string(p).unwrap_or_default())
        .collect();
    let RepositoryEmulator::Inveniordm(invenio) = &demo.stack.repository else {
        panic!("not InvenioRDM")
    };
    let records = invenio.records();
    demo.stop().await;

    let report = result.unwrap_or_else(|e| panic!("{e}\nlogs:\n{}", logs.join("\n")));
    println!("{}", report.render());
    assert!(report.all_verified(), "{}", report.render());
    assert_eq!(report.files_total, 5);
    assert!(report.doi.starts_with("10."), "DOI {}", report.doi);
    assert_eq!(records.len(), 1);
    assert_eq!(records[0]["is_published"], true, "{}", records[0]);
    assert_eq!(
        records[0]["metadata"]["title"],
        "Soil moisture campaign 2026"
    );
    let id = records[0]["id"].as_str().unwrap();
    assert!(
        report.project_link.ends_with(&format!("/records/{id}")),
        "{}",
        report.project_link
    );
    for log in &logs {
        for secret in ["demo-owncloud-access-token", "demo-repository-access-token"] {
            assert!(!log.contains(secret), "a log holds {secret}");
        }
    }
}

/// The same flow to Dataverse: the API token in the userId, the folders kept as
/// `directoryLabel`s, the dataset released.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn rds_export_flow_to_dataverse() {
    rds_demo::stack::connector_binary(env!("CARGO"), "dataverse-connector").unwrap();
    let demo = Demo::start(&DemoOptions {
        large_mib: 8,
        progress: false,
        repository: Repository::Dataverse,
    })
    .await
    .unwrap();
    let result = demo.run_flow(false).await;
    let logs: Vec<String> = demo
        .logs()
        .iter()
        .map(|p| std::fs::read_to_string(p).unwrap_or_default())
        .collect();
    let RepositoryEmulator::Dataverse(dataverse) = &demo.stack.repository else {
        panic!("not Dataverse")
    };
    let datasets = dataverse.datasets();
    let id = datasets[0]["id"].as_u64().unwrap();
    let mut folders: Vec<(Option<String>, String)> = dataverse
        .files(id)
        .into_iter()
        .map(|f| (f.directory_label, f.label))
        .collect();
    folders.sort();
    demo.stop().await;

    let report = result.unwrap_or_else(|e| panic!("{e}\nlogs:\n{}", logs.join("\n")));
    println!("{}", report.render());
    assert!(report.all_verified(), "{}", report.render());
    assert_eq!(report.files_total, 5);
    assert!(report.doi.starts_with("10."), "DOI {}", report.doi);
    assert_eq!(datasets.len(), 1);
    assert_eq!(
        datasets[0]["latestVersion"]["versionState"], "RELEASED",
        "{}",
        datasets[0]
    );
    // The folder tree survives as directoryLabels.
    assert!(
        folders.contains(&(Some("measurements 2026".into()), "run 01.csv".into())),
        "{folders:?}"
    );
    assert!(
        report.project_link.contains(&id.to_string()),
        "{}",
        report.project_link
    );
    for log in &logs {
        for secret in ["demo-owncloud-access-token", "demo-repository-access-token"] {
            assert!(!log.contains(secret), "a log holds {secret}");
        }
    }
}
