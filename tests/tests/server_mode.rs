//! Azure DevOps Server, end to end: the real component against the emulator
//! in Server mode (a collection URL under `/tfs`, PAT over basic auth, the
//! REST versions each release serves). The connector finds the api-version
//! the server serves, says which in the connection test, and the main
//! lifecycle (connection, schema, dispatch, sync, close) passes.

use crate::common;

use ado_emulator::server::ServerRelease;
use ado_emulator::{Emulator, EmulatorConfig};
use common::*;

fn server(release: ServerRelease) -> Emulator {
    Emulator::start(EmulatorConfig::server(release)).expect("the emulator starts in Server mode")
}

/// A GET to the Server emulator with the seeded PAT: status and JSON body.
fn raw_get(url: &str) -> (u16, serde_json::Value) {
    use base64::Engine as _;
    let auth = format!(
        "Basic {}",
        base64::engine::general_purpose::STANDARD.encode(format!(":{}", seed::PAT))
    );
    let agent = ureq::Agent::config_builder()
        .http_status_as_error(false)
        .build()
        .new_agent();
    let mut response = agent
        .get(url)
        .header("Authorization", &auth)
        .header("X-TFS-FedAuthRedirect", "Suppress")
        .call()
        .expect("the emulator answers");
    let status = response.status().as_u16();
    let text = response.body_mut().read_to_string().unwrap_or_default();
    (
        status,
        serde_json::from_str(&text).unwrap_or(serde_json::Value::Null),
    )
}

#[test]
fn the_server_emulator_serves_a_collection_under_its_virtual_directory() {
    let emu = server(ServerRelease::Server2022);
    assert!(
        emu.org_url().ends_with("/tfs/DefaultCollection"),
        "{}",
        emu.org_url()
    );
    let (status, body) = raw_get(&format!("{}/_apis/projects?api-version=7.0", emu.org_url()));
    assert_eq!(status, 200, "{body}");
    let url = body["value"][0]["url"].as_str().expect("a project url");
    assert!(
        url.starts_with(&format!("{}/_apis/projects/", emu.org_url())),
        "{url}"
    );
    // Outside the virtual directory there is no collection.
    let (status, _) = raw_get(&format!(
        "{}/DefaultCollection/_apis/projects?api-version=7.0",
        emu.base_url()
    ));
    assert_eq!(status, 404);
}

#[test]
fn a_version_newer_than_the_release_is_refused_naming_the_newest() {
    let emu = server(ServerRelease::Server2020);
    let (status, body) = raw_get(&format!("{}/_apis/projects?api-version=7.1", emu.org_url()));
    assert_eq!(status, 400);
    assert_eq!(body["typeKey"], "VssVersionOutOfRangeException");
    assert_eq!(
        body["message"],
        "The requested REST API version of 7.1 is out of range for this server. The latest REST API version this server supports is 6.0."
    );
    let (status, _) = raw_get(&format!("{}/_apis/projects?api-version=6.0", emu.org_url()));
    assert_eq!(status, 200);
}

#[test]
fn a_server_older_than_2020_is_refused_naming_the_upgrade() {
    let emu = server(ServerRelease::Server2019);
    match host().test_connection(&pat_connection(&emu)) {
        Err(ticketing_runtime::CallError::Connector(
            ticketing_runtime::ConnectorError::Unsupported(m),
        )) => {
            assert!(m.contains("serves the REST API up to 5.0"), "{m}");
            assert!(
                m.contains("upgrade the server to Azure DevOps Server 2020 or later"),
                "{m}"
            );
        }
        other => panic!("expected unsupported, got {other:?}"),
    }
}

/// Connection, schema, dispatch, sync of a field and a comment, auto-close
/// and an explicit close, all against one Server release.
fn lifecycle(release: ServerRelease, expected_api: &str) {
    let emu = server(release);
    let conn = pat_connection(&emu);
    assert!(conn.base_url.ends_with("/tfs/DefaultCollection"));

    let info = host().test_connection(&conn).expect("connection ok");
    assert_eq!(info.api_version, expected_api);
    assert_eq!(info.deployment, ticketing_runtime::Deployment::Server);
    assert_eq!(info.organization, ado_emulator::server::COLLECTION);
    assert_eq!(info.project_name, seed::PROJECT);

    let types = host().work_item_types(&conn).expect("types");
    assert!(types.iter().any(|t| t.name == "Bug"));
    let fields = host().fields(&conn, "Bug").expect("fields");
    assert!(fields.iter().any(|f| f.reference_name == "System.Title"));
    assert_eq!(host().initial_states(&conn, "Bug").unwrap(), ["New"]);

    let config = agile_bug_config();
    let mut t0 = ticket(
        "SEC-S1",
        vec![
            text("title", "Outdated OpenSSL on the build agents"),
            text("severity", "HIGH"),
        ],
    );
    t0.findings = vec![
        finding("F-1", "open", "CVE-2026-0001 in openssl"),
        finding("F-2", "open", "CVE-2026-0002 in openssl"),
    ];
    let link = host().create(&conn, &config, &t0).expect("dispatched");
    let item = emu.work_item(link.work_item_id).expect("the work item");
    assert_eq!(
        item["fields"]["System.Title"],
        "Outdated OpenSSL on the build agents"
    );
    assert!(
        item["url"]
            .as_str()
            .is_some_and(|u| u.starts_with(&emu.org_url())),
        "{}",
        item["url"]
    );

    let mut t1 = t0.clone();
    t1.fields.retain(|f| f.name != "title");
    t1.fields.push(text(
        "title",
        "Outdated OpenSSL on build agents and runners",
    ));
    t1.comments.push(comment("c-1", "Ann", "Patched agent-01"));
    let out = host()
        .push(&conn, &config, &link, &t0, &t1)
        .expect("pushed");
    assert_eq!(out.fields_sent, vec!["System.Title".to_string()]);
    let item = emu.work_item(link.work_item_id).unwrap();
    assert_eq!(
        item["fields"]["System.Title"],
        "Outdated OpenSSL on build agents and runners"
    );
    // Read back at a version every release serves (the suite's helper asks at 7.1).
    let (status, page) = raw_get(&format!(
        "{}/{}/_apis/wit/workItems/{}/comments?api-version=6.0-preview",
        emu.org_url(),
        seed::PROJECT.replace(' ', "%20"),
        link.work_item_id
    ));
    assert_eq!(status, 200, "{page}");
    let comments = page["comments"].as_array().cloned().unwrap_or_default();
    assert!(
        comments.iter().any(|c| c["text"]
            .as_str()
            .is_some_and(|t| t.contains("Patched agent-01"))),
        "{comments:?}"
    );

    let mut t2 = t1.clone();
    for f in &mut t2.findings {
        f.status = "fixed".into();
    }
    let closed = host()
        .push(&conn, &config, &out.link, &t1, &t2)
        .expect("pushed");
    let tr = closed
        .transition
        .expect("closed when every finding is fixed");
    assert_eq!(tr.to, "Closed");
    assert_eq!(
        emu.work_item(link.work_item_id).unwrap()["fields"]["System.State"],
        "Closed"
    );

    // A second ticket closed explicitly.
    let other = host()
        .create(
            &conn,
            &config,
            &ticket(
                "SEC-S2",
                vec![
                    text("title", "Weak TLS ciphers"),
                    text("severity", "MEDIUM"),
                ],
            ),
        )
        .expect("dispatched");
    host()
        .close(&conn, &config, &other, "risk accepted")
        .expect("closed");
    assert_eq!(
        emu.work_item(other.work_item_id).unwrap()["fields"]["System.State"],
        "Closed"
    );
}

#[test]
fn the_lifecycle_passes_against_azure_devops_server_2020_at_api_6_0() {
    lifecycle(ServerRelease::Server2020, "6.0");
}

#[test]
fn the_lifecycle_passes_against_azure_devops_server_2022_at_api_7_0() {
    lifecycle(ServerRelease::Server2022, "7.0");
}

#[test]
fn the_lifecycle_passes_against_azure_devops_server_2022_1_at_api_7_1() {
    lifecycle(ServerRelease::Server2022Update1, "7.1");
}
