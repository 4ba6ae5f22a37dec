//! The front door's faults: a write committed, then answered 502/503/504
//! (`errorAfterCommitRate`) or not answered before the client gives up
//! (`timeoutAfterCommitRate`); reads and queries are never hit, and
//! `onlyPath` aims the faults at one route.

mod common;

use std::time::{Duration, Instant};

use ado_emulator::faults::Faults;
use ado_emulator::{Emulator, EmulatorConfig, seed};
use common::{Client, basic, title};
use serde_json::{Value, json};

fn client() -> Client {
    Client::new()
}

fn create(c: &Client, name: &str) -> common::Answer {
    c.create_in(&c.agile(), "Bug", &json!([title(name)]))
}

fn titles(emu: &Emulator) -> Vec<String> {
    (1..50)
        .filter_map(|id| emu.work_item(id))
        .map(|w| {
            w["fields"]["System.Title"]
                .as_str()
                .unwrap_or_default()
                .to_string()
        })
        .collect()
}

#[test]
fn a_write_hit_by_error_after_commit_is_answered_by_a_gateway_error_but_committed() {
    let c = client();
    c.emu.set_faults(Faults {
        seed: 11,
        error_after_commit_rate: 1.0,
        ..Faults::default()
    });
    let mut statuses = Vec::new();
    for i in 0..12 {
        let answer = create(&c, &format!("committed {i}"));
        assert!(
            answer.headers["content-type"]
                .to_str()
                .unwrap()
                .starts_with("text/html"),
            "the front door's page, not ADO's JSON"
        );
        // The text Learn quotes from Azure Front Door's page
        // (`faults::front_door_error`).
        assert!(
            answer.text().contains("Our services aren't available right now")
                && answer
                    .text()
                    .contains("We're working to restore all services as soon as possible. Please check back soon."),
            "{}",
            answer.text()
        );
        statuses.push(answer.status);
    }
    statuses.sort_unstable();
    statuses.dedup();
    assert_eq!(statuses, [502, 503, 504]);
    c.emu.set_faults(Faults::default());
    assert_eq!(titles(&c.emu).len(), 12, "every create was committed");
}

#[test]
fn reads_and_queries_are_never_answered_with_an_after_commit_error() {
    let c = client();
    let id = create(&c, "read me").json()["id"].as_i64().unwrap();
    c.emu.set_faults(Faults {
        error_after_commit_rate: 1.0,
        timeout_after_commit_rate: 1.0,
        ..Faults::default()
    });
    assert_eq!(c.item(id).status, 200);
    let wiql = c.json(
        "POST",
        &format!("{}/_apis/wit/wiql?api-version=7.1", c.agile()),
        &json!({"query": "SELECT [System.Id] FROM WorkItems"}),
    );
    assert_eq!(wiql.status, 200, "{}", wiql.text());
    let batch = c.json(
        "POST",
        &format!("{}/_apis/wit/workitemsbatch?api-version=7.1", c.org()),
        &json!({"ids": [id], "fields": ["System.Title"]}),
    );
    assert_eq!(batch.status, 200, "{}", batch.text());
}

#[test]
fn a_write_hit_by_timeout_after_commit_is_committed_and_answered_after_the_hold() {
    let c = client();
    c.emu.set_faults(Faults {
        timeout_after_commit_rate: 1.0,
        timeout_hold_ms: 1_500,
        ..Faults::default()
    });
    let impatient = ureq::Agent::new_with_config(
        ureq::Agent::config_builder()
            .http_status_as_error(false)
            .timeout_global(Some(Duration::from_millis(300)))
            .build(),
    );
    let started = Instant::now();
    let sent = impatient
        .post(format!(
            "{}/_apis/wit/workitems/$Bug?api-version=7.1",
            c.agile()
        ))
        .header("Authorization", &basic(seed::PAT))
        .header("X-TFS-FedAuthRedirect", "Suppress")
        .header("Content-Type", "application/json-patch+json")
        .send(json!([title("held")]).to_string());
    assert!(
        matches!(sent, Err(ureq::Error::Timeout(_))),
        "the client's deadline passes first: {:?}",
        sent.map(|r| r.status())
    );
    assert!(started.elapsed() < Duration::from_millis(1_400));
    // The change is already there while the answer is held.
    c.emu.set_faults(Faults::default());
    assert_eq!(titles(&c.emu), ["held"]);
    // A patient client gets the real answer after the hold.
    c.emu.set_faults(Faults {
        timeout_after_commit_rate: 1.0,
        timeout_hold_ms: 400,
        ..Faults::default()
    });
    let started = Instant::now();
    let answer = create(&c, "late");
    assert_eq!(answer.status, 200);
    assert!(started.elapsed() >= Duration::from_millis(400));
}

#[test]
fn only_path_aims_the_faults_at_one_route() {
    let c = client();
    let id = create(&c, "commented").json()["id"].as_i64().unwrap();
    c.emu.set_faults(Faults {
        error_after_commit_rate: 1.0,
        only_path: Some("/comments".into()),
        ..Faults::default()
    });
    assert_eq!(create(&c, "not aimed at").status, 200);
    let url = format!(
        "{}/_apis/wit/workItems/{id}/comments?api-version=7.1-preview.4",
        c.agile()
    );
    let posted = c.json("POST", &url, &json!({"text": "hello"}));
    assert!(matches!(posted.status, 502..=504), "{}", posted.status);
    c.emu.set_faults(Faults::default());
    let comments: Value = c.get(&url).json();
    assert_eq!(comments["comments"].as_array().unwrap().len(), 1);
}

#[test]
fn an_after_commit_rate_outside_zero_to_one_is_refused_by_name() {
    let bad = Faults {
        timeout_after_commit_rate: 1.5,
        ..Faults::default()
    };
    let err = bad.validate().unwrap_err();
    assert!(err.contains("timeoutAfterCommitRate"), "{err}");
    let config = EmulatorConfig {
        faults: Faults {
            error_after_commit_rate: 0.03,
            timeout_after_commit_rate: 0.03,
            ..Faults::default()
        },
        ..EmulatorConfig::default()
    };
    let emu = Emulator::start(config).unwrap();
    assert_eq!(emu.faults().error_after_commit_rate, 0.03);
}
