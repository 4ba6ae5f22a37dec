//! The findings file at dispatch and preview, against a scripted Env: one
//! upload, then the create carrying the `AttachedFile` relation; too large
//! is refused before any upload; preview uploads nothing.

use serde_json::{Value, json};

use super::*;
use crate::dispatch::{create, preview};
use crate::env::{HttpError, HttpResponse, Method};
use crate::model::{Connection, Credentials, Secret, SyncState};
use crate::testing::{FakeEnv, json as answer};

const UPLOADED: &str =
    "https://dev.azure.com/o/_apis/wit/attachments/A-1?fileName=findings-SEC-101-2023-11-14.csv";

fn conn() -> Connection {
    Connection {
        base_url: "https://dev.azure.com/o".into(),
        project: "P".into(),
        credentials: Credentials::Pat(Secret("x".into())),
    }
}

fn schema_answers() -> Vec<Result<HttpResponse, HttpError>> {
    vec![
        answer(200, json!({"id": "p-1", "name": "P"})),
        answer(
            200,
            json!({"name": "Bug", "transitions": {"": [{"to": "New"}]}}),
        ),
        answer(
            200,
            json!({"value": [
                {"referenceName": "System.Title", "name": "Title", "alwaysRequired": true},
                {"referenceName": "System.State", "name": "State", "defaultValue": "New", "allowedValues": ["New", "Closed"]},
                {"referenceName": "System.Tags", "name": "Tags"},
            ]}),
        ),
        answer(
            200,
            json!({"value": [{"referenceName": "System.Title", "type": "string"}]}),
        ),
    ]
}

fn config(attachment: &str) -> String {
    format!(
        r#"{{"version":2,"work_item_type":"Bug","dispatch":[{{"target":"System.Title","method":"field","field":"title"}}],"attachment":{attachment}}}"#
    )
}

fn created() -> Result<HttpResponse, HttpError> {
    answer(
        200,
        json!({"id": 7, "rev": 1, "url": "https://dev.azure.com/o/p-1/_apis/wit/workItems/7"}),
    )
}

#[test]
fn dispatch_uploads_the_findings_file_then_links_it_in_the_create_request() {
    let mut answers = schema_answers();
    answers.push(answer(201, json!({"id": "A-1", "url": UPLOADED})));
    answers.push(created());
    let env = FakeEnv::new(answers);
    let ticket = hostile_ticket();
    let link = create(&env, &conn(), &config(r#"{"format":"csv"}"#), &ticket).unwrap();

    let sent = env.sent.borrow();
    assert_eq!(sent.len(), 6, "four schema reads, the upload, the create");
    let upload = &sent[4];
    assert_eq!(upload.method, Method::Post);
    assert_eq!(
        upload.url,
        "https://dev.azure.com/o/P/_apis/wit/attachments?fileName=findings-SEC-101-2023-11-14.csv&api-version=7.1"
    );
    assert!(
        upload
            .headers
            .iter()
            .any(|(k, v)| k == "Content-Type" && v == "application/octet-stream")
    );
    assert!(
        upload.body.starts_with(b"\xEF\xBB\xBFFinding Severity,"),
        "the CSV itself"
    );
    let ops: Value = serde_json::from_slice(&sent[5].body).unwrap();
    let state: SyncState = serde_json::from_str(&link.sync_state).unwrap();
    let marker = digest_marker(&state.attachment.as_ref().unwrap().digest);
    assert!(ops.as_array().unwrap().contains(
        &json!({"op": "add", "path": "/relations/-", "value": {
        "rel": "AttachedFile", "url": UPLOADED,
        "attributes": {"comment": format!("SecOps ticket SEC-101: 3 findings (CSV) {marker}")}}})
    ));

    let state: SyncState = serde_json::from_str(&link.sync_state).unwrap();
    let file = state.attachment.expect("the attachment is remembered");
    assert_eq!(
        (file.file_name.as_str(), file.url.as_str(), file.size),
        (
            "findings-SEC-101-2023-11-14.csv",
            UPLOADED,
            upload.body.len() as u64
        )
    );
    assert_eq!(
        file.digest,
        digest(&ticket, &options(AttachmentFormat::Csv), &BTreeMap::new())
    );
}

#[test]
fn a_ticket_without_findings_is_dispatched_without_a_file() {
    let mut answers = schema_answers();
    answers.push(created());
    let env = FakeEnv::new(answers);
    let link = create(
        &env,
        &conn(),
        &config(r#"{"format":"pdf"}"#),
        &ticket_with(vec![]),
    )
    .unwrap();
    assert_eq!(env.sent.borrow().len(), 5);
    assert!(!String::from_utf8_lossy(&env.sent.borrow()[4].body).contains("AttachedFile"));
    assert_eq!(
        serde_json::from_str::<SyncState>(&link.sync_state)
            .unwrap()
            .attachment,
        None
    );
}

#[test]
fn a_file_over_the_limit_is_refused_before_any_upload_naming_file_size_and_limit() {
    let env = FakeEnv::new(schema_answers());
    let err = create(
        &env,
        &conn(),
        &config(r#"{"format":"xlsx","max_bytes":2048}"#),
        &hostile_ticket(),
    )
    .unwrap_err();
    let ConnectorError::Validation(issues) = &err else {
        panic!("{err:?}")
    };
    assert_eq!(
        (issues[0].path.as_str(), issues[0].rule.as_str()),
        ("attachments", "max-size")
    );
    let message = &issues[0].message;
    assert!(
        message.contains("`findings-SEC-101-2023-11-14.xlsx` is ")
            && message.contains("(2048 bytes)"),
        "{message}"
    );
    assert_eq!(env.sent.borrow().len(), 4, "only the schema was read");
}

#[test]
fn preview_shows_the_relation_with_a_placeholder_url_and_uploads_nothing() {
    let env = FakeEnv::new(schema_answers());
    let p = preview(
        &env,
        &conn(),
        &config(r#"{"format":"jsonl","file_name":"{ticket_id}.{ext}"}"#),
        &hostile_ticket(),
        false,
    )
    .unwrap();
    assert!(p.problems.is_empty(), "{:?}", p.problems);
    let body: Value = serde_json::from_str(&p.body).unwrap();
    let relation = body
        .as_array()
        .unwrap()
        .iter()
        .find(|o| o["value"]["rel"] == "AttachedFile")
        .expect("the relation op");
    assert_eq!(
        relation["value"]["url"],
        "https://dev.azure.com/o/_apis/wit/attachments/{upload-id}?fileName=SEC-101.jsonl"
    );
    let comment = relation["value"]["attributes"]["comment"].as_str().unwrap();
    assert!(
        comment.starts_with("SecOps ticket SEC-101: 3 findings (JSONL) ["),
        "{comment}"
    );
    // The name and size of the file the dispatch would generate.
    let options: AttachmentOptions =
        serde_json::from_str(r#"{"format":"jsonl","file_name":"{ticket_id}.{ext}"}"#).unwrap();
    let now = crate::env::Env::now_unix(&env);
    let generated = generate(&hostile_ticket(), &options, &Default::default(), now).unwrap();
    let file = p.attachment.as_ref().expect("the file's name and size");
    assert_eq!(
        (file.file_name.as_str(), file.size),
        ("SEC-101.jsonl", generated.bytes.len() as u64)
    );
    assert_eq!(env.sent.borrow().len(), 4, "only the schema was read");
}

#[test]
fn preview_reports_a_file_over_the_limit_as_a_problem() {
    let env = FakeEnv::new(schema_answers());
    let p = preview(
        &env,
        &conn(),
        &config(r#"{"format":"pdf","max_bytes":100}"#),
        &hostile_ticket(),
        false,
    )
    .unwrap();
    assert_eq!(
        p.problems
            .iter()
            .map(|i| i.rule.as_str())
            .collect::<Vec<_>>(),
        ["max-size"]
    );
    assert!(!p.body.contains("AttachedFile"));
}

#[test]
fn remote_validation_is_not_sent_the_placeholder_relation() {
    let mut answers = schema_answers();
    answers.push(created());
    let env = FakeEnv::new(answers);
    let p = preview(
        &env,
        &conn(),
        &config(r#"{"format":"csv"}"#),
        &hostile_ticket(),
        true,
    )
    .unwrap();
    assert!(p.problems.is_empty(), "{:?}", p.problems);
    let sent = env.sent.borrow();
    assert!(sent[4].url.contains("validateOnly=true"));
    assert!(!String::from_utf8_lossy(&sent[4].body).contains("AttachedFile"));
    assert!(p.body.contains("AttachedFile"));
}

#[test]
fn the_config_checks_the_attachment_with_json_paths_and_v1_configs_still_read() {
    let err = crate::config::parse(&config(
        r#"{"format":"csv","columns":[],"file_name":"x-{ticket}.{ext}","max_bytes":0}"#,
    ))
    .unwrap_err();
    let ConnectorError::InvalidConfig(issues) = err else {
        panic!("{err:?}")
    };
    let paths: Vec<&str> = issues.iter().map(|i| i.path.as_str()).collect();
    assert_eq!(
        paths,
        [
            "$.attachment.columns",
            "$.attachment.file_name",
            "$.attachment.max_bytes"
        ]
    );
    let err = crate::config::parse(&config(r#"{"format":"csv","on_sync":"always"}"#)).unwrap_err();
    let ConnectorError::InvalidConfig(issues) = err else {
        panic!("{err:?}")
    };
    assert!(issues[0].path.starts_with("$.attachment"), "{issues:?}");
    let v1 = crate::config::parse(r#"{"version":1,"work_item_type":"Bug"}"#).unwrap();
    assert_eq!(v1.attachment, None);
    assert!(crate::config::json_schema().contains("on_sync"));
}
