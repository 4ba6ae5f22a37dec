//! `refresh` on sync, against a scripted Env: a new dated version only when
//! the shown findings changed; `replace` also unlinks the previous version.

use serde_json::{Value, json};

use super::*;
use crate::client::Client;
use crate::config::{self, Config};
use crate::model::{AttachmentState, Connection, Credentials, Link, Secret, SyncState};
use crate::testing::{FakeEnv, json as answer};

const UPLOADED: &str =
    "https://dev.azure.com/o/_apis/wit/attachments/NEW-ID?fileName=findings-SEC-101-2023-11-14.csv";
const PREVIOUS: &str =
    "https://dev.azure.com/o/_apis/wit/attachments/OLD-ID?fileName=findings-SEC-101-2023-11-01.csv";

fn conn() -> Connection {
    Connection {
        base_url: "https://dev.azure.com/o".into(),
        project: "P".into(),
        credentials: Credentials::Pat(Secret("x".into())),
    }
}

fn config_with(attachment: &str) -> Config {
    std::rc::Rc::unwrap_or_clone(
    config::parse(&format!(
        r#"{{"version":2,"work_item_type":"Bug","dispatch":[{{"target":"System.Title","method":"field","field":"title"}}]{attachment}}}"#
    ))
    .unwrap(),
    )
}

fn csv(on_sync: &str) -> Config {
    config_with(&format!(
        r#","attachment":{{"format":"csv","on_sync":"{on_sync}"}}"#
    ))
}

fn link() -> Link {
    Link {
        ticket_id: "SEC-101".into(),
        project: "p-1".into(),
        work_item_type: "Bug".into(),
        work_item_id: 42,
        rev: 3,
        url: "https://dev.azure.com/o/p-1/_apis/wit/workItems/42".into(),
        web_url: "https://dev.azure.com/o/p-1/_workitems/edit/42".into(),
        sync_state: String::new(),
    }
}

/// The state after a dispatch that attached `ticket`'s findings under `config`.
fn attached(config: &Config, ticket: &Ticket) -> SyncState {
    let digest = digest(ticket, config.attachment.as_ref().unwrap(), &config.labels);
    SyncState {
        attachment: Some(AttachmentState {
            file_name: "findings-SEC-101-2023-11-01.csv".into(),
            url: PREVIOUS.into(),
            size: 10,
            digest,
        }),
        ..SyncState::default()
    }
}

fn changed() -> Ticket {
    let mut t = hostile_ticket();
    t.findings[1].fields[0].value = text("Low");
    t
}

fn run(
    env: &FakeEnv,
    config: &Config,
    ticket: &Ticket,
    state: &mut SyncState,
) -> Result<Vec<Value>, ConnectorError> {
    let conn = conn();
    let client = Client::new(env, &conn).unwrap();
    refresh(&client, config, ticket, &link(), state)
}

#[test]
fn nothing_is_sent_or_returned_without_an_attachment_when_off_or_when_the_findings_are_unchanged() {
    let ticket = hostile_ticket();
    for config in [config_with(""), csv("off"), csv("add"), csv("replace")] {
        let env = FakeEnv::new(vec![]);
        let mut state = if config.attachment.is_some() {
            attached(&config, &ticket)
        } else {
            SyncState::default()
        };
        let before = state.clone();
        let target = if config
            .attachment
            .as_ref()
            .is_some_and(|a| a.on_sync == OnSync::Off)
        {
            changed()
        } else {
            ticket.clone()
        };
        assert_eq!(
            run(&env, &config, &target, &mut state).unwrap(),
            Vec::<Value>::new()
        );
        assert_eq!(state, before);
        assert!(env.sent.borrow().is_empty());
    }
}

#[test]
fn a_ticket_without_findings_attaches_nothing_on_sync() {
    let env = FakeEnv::new(vec![]);
    let mut state = SyncState::default();
    assert!(
        run(&env, &csv("add"), &ticket_with(vec![]), &mut state)
            .unwrap()
            .is_empty()
    );
    assert_eq!(state.attachment, None);
}

/// A work item with no relations, as `$expand=relations` answers it.
fn no_relations() -> Result<crate::env::HttpResponse, crate::env::HttpError> {
    answer(200, json!({"id": 42, "rev": 3, "fields": {}}))
}

#[test]
fn changed_findings_upload_a_new_dated_version_and_return_its_relation() {
    let config = csv("add");
    let env = FakeEnv::new(vec![
        no_relations(),
        answer(201, json!({"id": "NEW-ID", "url": UPLOADED})),
    ]);
    let mut state = attached(&config, &hostile_ticket());
    let ops = run(&env, &config, &changed(), &mut state).unwrap();
    let wanted = digest(
        &changed(),
        config.attachment.as_ref().unwrap(),
        &config.labels,
    );
    assert_eq!(
        ops,
        [json!({"op": "add", "path": "/relations/-", "value": {
        "rel": "AttachedFile", "url": UPLOADED,
        "attributes": {"comment": format!("SecOps ticket SEC-101: 3 findings (CSV) [{}]", &wanted[..16])}}})]
    );
    let sent = env.sent.borrow();
    assert_eq!(sent.len(), 2, "the relations, then the upload");
    assert!(
        sent[1]
            .url
            .contains("/P/_apis/wit/attachments?fileName=findings-SEC-101-2023-11-14.csv&"),
        "{}",
        sent[1].url
    );
    let now = state.attachment.unwrap();
    assert_eq!(
        (now.file_name.as_str(), now.url.as_str(), now.size),
        (
            "findings-SEC-101-2023-11-14.csv",
            UPLOADED,
            sent[1].body.len() as u64
        )
    );
    assert_eq!(now.digest, wanted);
}

#[test]
fn a_version_the_work_item_already_carries_is_adopted_without_an_upload_or_an_op() {
    // The previous sync uploaded and linked it, then its answer was lost.
    let config = csv("replace");
    let wanted = digest(
        &changed(),
        config.attachment.as_ref().unwrap(),
        &config.labels,
    );
    let env = FakeEnv::new(vec![answer(
        200,
        json!({"id": 42, "rev": 4, "fields": {}, "relations": [
            {"rel": "AttachedFile", "url": "https://dev.azure.com/o/_apis/wit/attachments/NEW-ID",
             "attributes": {"name": "findings-SEC-101-2023-11-14.csv", "resourceSize": 321,
                            "comment": format!("SecOps ticket SEC-101: 3 findings (CSV) [{}]", &wanted[..16])}},
        ]}),
    )]);
    let mut state = attached(&config, &hostile_ticket());
    let ops = run(&env, &config, &changed(), &mut state).unwrap();
    assert!(ops.is_empty(), "{ops:?}");
    assert_eq!(env.sent.borrow().len(), 1, "only the read of the relations");
    let now = state.attachment.unwrap();
    assert_eq!(
        (now.url.as_str(), now.size, now.digest.as_str()),
        (
            "https://dev.azure.com/o/_apis/wit/attachments/NEW-ID",
            321,
            wanted.as_str()
        )
    );
}

#[test]
fn a_first_sync_with_findings_attaches_the_first_version() {
    let env = FakeEnv::new(vec![
        no_relations(),
        answer(201, json!({"id": "NEW-ID", "url": UPLOADED})),
    ]);
    let mut state = SyncState::default();
    let ops = run(&env, &csv("replace"), &hostile_ticket(), &mut state).unwrap();
    assert_eq!(ops.len(), 1, "nothing to remove: {ops:?}");
    assert_eq!(env.sent.borrow().len(), 2, "the relations, then the upload");
    assert_eq!(state.attachment.unwrap().url, UPLOADED);
}

#[test]
fn replace_reads_the_relations_and_removes_the_previous_version_found_by_its_attachment_id() {
    let config = csv("replace");
    let relations = json!({"id": 42, "rev": 3, "fields": {}, "relations": [
        {"rel": "Hyperlink", "url": "https://secops.example/tickets/SEC-101", "attributes": {}},
        {"rel": "AttachedFile", "url": "https://dev.azure.com/o/_apis/wit/attachments/SOMEONE-ELSES", "attributes": {"name": "notes.txt"}},
        {"rel": "AttachedFile", "url": "https://dev.azure.com/o/_apis/wit/attachments/old-id", "attributes": {"name": "findings-SEC-101-2023-11-01.csv"}},
    ]});
    let env = FakeEnv::new(vec![
        answer(200, relations),
        answer(201, json!({"id": "NEW-ID", "url": UPLOADED})),
    ]);
    let mut state = attached(&config, &hostile_ticket());
    let ops = run(&env, &config, &changed(), &mut state).unwrap();
    assert_eq!(ops.len(), 2, "{ops:?}");
    assert_eq!(
        (ops[0]["op"].as_str(), ops[0]["value"]["url"].as_str()),
        (Some("add"), Some(UPLOADED))
    );
    assert_eq!(ops[1], json!({"op": "remove", "path": "/relations/2"}));
    let urls = env.sent_urls();
    assert_eq!(
        urls[0],
        "https://dev.azure.com/o/p-1/_apis/wit/workitems/42?$expand=relations&api-version=7.1"
    );
    assert!(
        urls[1].contains("_apis/wit/attachments?fileName="),
        "{}",
        urls[1]
    );
    assert_eq!(state.attachment.unwrap().url, UPLOADED);
}

#[test]
fn replace_only_adds_when_the_previous_version_is_gone_from_the_work_item() {
    let config = csv("replace");
    let env = FakeEnv::new(vec![
        answer(200, json!({"id": 42, "rev": 3, "fields": {}})),
        answer(201, json!({"id": "NEW-ID", "url": UPLOADED})),
    ]);
    let mut state = attached(&config, &hostile_ticket());
    let ops = run(&env, &config, &changed(), &mut state).unwrap();
    assert_eq!(ops.len(), 1, "{ops:?}");
    assert_eq!(ops[0]["op"], "add");
}

#[test]
fn a_new_version_over_the_limit_is_refused_before_any_request_and_the_state_is_kept() {
    let config =
        config_with(r#","attachment":{"format":"pdf","on_sync":"replace","max_bytes":1000}"#);
    let env = FakeEnv::new(vec![]);
    let mut state = attached(&config, &hostile_ticket());
    let before = state.clone();
    let err = run(&env, &config, &changed(), &mut state).unwrap_err();
    let ConnectorError::Validation(issues) = &err else {
        panic!("{err:?}")
    };
    assert_eq!(issues[0].rule, "max-size");
    assert!(
        issues[0]
            .message
            .contains("findings-SEC-101-2023-11-14.pdf")
            && issues[0].message.contains("(1000 bytes)"),
        "{}",
        issues[0].message
    );
    assert!(env.sent.borrow().is_empty());
    assert_eq!(state, before);
}
