use serde_json::json;

use super::*;
use crate::model::{Credentials, Field, FieldValue, Secret};
use crate::testing::{FakeEnv, json as answer};

fn conn() -> Connection {
    Connection {
        base_url: "https://dev.azure.com/o".into(),
        project: "P".into(),
        credentials: Credentials::Pat(Secret("x".into())),
    }
}

fn schema_answers() -> Vec<Result<crate::env::HttpResponse, crate::env::HttpError>> {
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
                {"referenceName": "System.State", "name": "State", "alwaysRequired": true, "defaultValue": "New", "allowedValues": ["New", "Active", "Closed"]},
                {"referenceName": "Microsoft.VSTS.Common.Priority", "name": "Priority", "allowedValues": [1, 2, 3, 4], "defaultValue": 2},
                {"referenceName": "System.Tags", "name": "Tags"},
                {"referenceName": "System.Id", "name": "ID"},
                {"referenceName": "System.Description", "name": "Description"},
                {"referenceName": "System.AssignedTo", "name": "Assigned To", "allowedValues": [{"displayName": "Jamal Hartnett", "uniqueName": "jamal@contoso.example"}]},
                {"referenceName": "System.AreaPath", "name": "Area Path"},
            ]}),
        ),
        answer(
            200,
            json!({"value": [
                {"referenceName": "System.Title", "type": "string"},
                {"referenceName": "System.Description", "type": "html"},
                {"referenceName": "System.AssignedTo", "type": "string", "isIdentity": true},
                {"referenceName": "System.AreaPath", "type": "treePath"},
                {"referenceName": "Microsoft.VSTS.Common.Priority", "type": "integer"},
                {"referenceName": "System.Id", "type": "integer", "readOnly": true},
            ]}),
        ),
    ]
}

const CONFIG: &str = r#"{"version":1,"work_item_type":"Bug","tags":["secops"],"mandatory_fields":["title"],"dispatch":[
  {"target":"System.Title","method":"field","field":"title"},
  {"target":"Microsoft.VSTS.Common.Priority","method":"dictionary","field":"severity","map":{"CRITICAL":1,"HIGH":2}}]}"#;

fn ticket(title: &str, severity: &str) -> Ticket {
    Ticket {
        id: "SEC-7".into(),
        url: "https://secops.example/tickets/SEC-7".into(),
        fields: vec![
            Field {
                name: "title".into(),
                value: FieldValue::Text(title.into()),
            },
            Field {
                name: "severity".into(),
                value: FieldValue::Text(severity.into()),
            },
        ],
        findings: vec![],
        comments: vec![],
    }
}

#[test]
fn create_sends_one_patch_with_fields_tag_and_hyperlink() {
    let mut answers = schema_answers();
    answers.push(answer(200, json!({"id": 12, "rev": 1, "url": "https://dev.azure.com/o/p-1/_apis/wit/workItems/12", "_links": {"html": {"href": "https://dev.azure.com/o/p-1/_workitems/edit/12"}},
        "fields": {"System.State": "New", "System.CreatedBy": {"id": "c0ffee00-0000-0000-0000-000000000007", "displayName": "SecOps Connector", "uniqueName": "secops@contoso.example"}}})));
    let env = FakeEnv::new(answers);
    let link = create(&env, &conn(), CONFIG, &ticket("SQL injection", "CRITICAL")).unwrap();
    assert_eq!(
        (link.work_item_id, link.rev, link.project.as_str()),
        (12, 1, "p-1")
    );
    // The creator is remembered as the connector's identity, for echo detection.
    let state = crate::model::SyncState::read(&link.sync_state).unwrap();
    assert_eq!(
        state.identity.as_deref(),
        Some("c0ffee00-0000-0000-0000-000000000007")
    );
    let sent = env.sent.borrow();
    let post = sent.last().unwrap();
    assert_eq!(
        post.url,
        "https://dev.azure.com/o/p-1/_apis/wit/workitems/$Bug?api-version=7.1"
    );
    assert!(
        post.headers
            .iter()
            .any(|(k, v)| k == "Content-Type" && v == "application/json-patch+json")
    );
    let body: Value = serde_json::from_slice(&post.body).unwrap();
    let ops = body.as_array().unwrap();
    assert!(
        ops.contains(
            &json!({"op": "add", "path": "/fields/System.Title", "value": "SQL injection"})
        )
    );
    assert!(ops.contains(
        &json!({"op": "add", "path": "/fields/Microsoft.VSTS.Common.Priority", "value": 1})
    ));
    assert!(ops.contains(
        &json!({"op": "add", "path": "/fields/System.Tags", "value": "secops; secops:SEC-7"})
    ));
    assert!(ops.iter().any(|o| o["path"] == "/relations/-"
        && o["value"]["rel"] == "Hyperlink"
        && o["value"]["url"] == "https://secops.example/tickets/SEC-7"));
}

#[test]
fn problems_are_all_reported_and_nothing_is_sent() {
    let env = FakeEnv::new(schema_answers());
    let config = CONFIG.replace(
        r#""tags":["secops"]"#,
        r#""tags":["secops"],"initial_state":"Closed""#,
    );
    let err = create(&env, &conn(), &config, &ticket("", "LOW")).unwrap_err();
    let ConnectorError::Validation(issues) = err else {
        panic!("{err:?}")
    };
    let rules: Vec<&str> = issues.iter().map(|i| i.rule.as_str()).collect();
    assert_eq!(
        rules,
        ["mandatory", "unmapped-value", "initial-state", "required"],
        "{issues:#?}"
    );
    assert!(issues[2].message.contains("valid initial states: New"));
    assert_eq!(env.sent.borrow().len(), 4, "only the schema was read");
}

#[test]
fn preview_shows_the_exact_request() {
    let env = FakeEnv::new(schema_answers());
    let p = preview(&env, &conn(), CONFIG, &ticket("XSS", "HIGH"), false).unwrap();
    assert!(p.problems.is_empty());
    assert_eq!(p.method, "POST");
    let body: Value = serde_json::from_str(&p.body).unwrap();
    assert!(body.as_array().unwrap().contains(
        &json!({"op": "add", "path": "/fields/Microsoft.VSTS.Common.Priority", "value": 2})
    ));
}

#[test]
fn read_only_and_unknown_targets_are_refused() {
    let env = FakeEnv::new(schema_answers());
    let config = r#"{"version":1,"work_item_type":"Bug","dispatch":[
      {"target":"System.Title","method":"field","field":"title"},
      {"target":"System.Id","method":"field","field":"title"},
      {"target":"Custom.Nope","method":"field","field":"title"}]}"#;
    let p = preview(&env, &conn(), config, &ticket("x", "HIGH"), false).unwrap();
    let rules: Vec<&str> = p.problems.iter().map(|i| i.rule.as_str()).collect();
    assert_eq!(rules, ["read-only", "unknown-field"]);
}

#[test]
fn ticket_tag_escapes_separators_instead_of_merging_them() {
    assert_eq!(ticket_tag("A;B,C"), "secops:A%3BB%2CC");
}

fn ops_of(p: &Preview) -> Vec<Value> {
    serde_json::from_str::<Value>(&p.body)
        .unwrap()
        .as_array()
        .unwrap()
        .clone()
}

#[test]
fn smart_text_fills_an_html_field_with_escaped_values() {
    let env = FakeEnv::new(schema_answers());
    let config = r###"{"version":2,"work_item_type":"Bug","dispatch":[
      {"target":"System.Title","method":"field","field":"title"},
      {"target":"System.Description","method":"template","format":"markdown","template":"## {{Ticket Title}}\n\nSeverity **{{severity}}**"}]}"###;
    let p = preview(
        &env,
        &conn(),
        config,
        &ticket("<script>x</script> {{y}}", "HIGH"),
        false,
    )
    .unwrap();
    assert!(p.problems.is_empty(), "{:?}", p.problems);
    let description = ops_of(&p)
        .into_iter()
        .find(|o| o["path"] == "/fields/System.Description")
        .unwrap();
    assert_eq!(
        description["value"],
        "<h2>&lt;script&gt;x&lt;/script&gt; {{y}}</h2>\n<p>Severity <strong>HIGH</strong></p>"
    );
}

#[test]
fn identities_are_resolved_and_unknown_ones_refused() {
    let env = FakeEnv::new(schema_answers());
    let config = r#"{"version":2,"work_item_type":"Bug","dispatch":[
      {"target":"System.Title","method":"field","field":"title"},
      {"target":"System.AssignedTo","method":"field","field":"severity"}]}"#;
    let p = preview(&env, &conn(), config, &ticket("t", "jamal hartnett"), false).unwrap();
    assert!(ops_of(&p).contains(&json!({"op": "add", "path": "/fields/System.AssignedTo", "value": "Jamal Hartnett <jamal@contoso.example>"})));
    let env = FakeEnv::new(schema_answers());
    let p = preview(&env, &conn(), config, &ticket("t", "nobody"), false).unwrap();
    assert_eq!(p.problems[0].rule, "identity");
}

#[test]
fn area_paths_must_live_under_the_project() {
    let env = FakeEnv::new(schema_answers());
    let config = r#"{"version":2,"work_item_type":"Bug","area_path":"Other\\Team","dispatch":[{"target":"System.Title","method":"field","field":"title"}]}"#;
    let p = preview(&env, &conn(), config, &ticket("t", "HIGH"), false).unwrap();
    assert_eq!(
        (p.problems[0].path.as_str(), p.problems[0].rule.as_str()),
        ("$.area_path", "tree-path")
    );
}

#[test]
fn create_remembers_the_ado_values_the_from_ado_rules_read_as_their_baseline() {
    // A late delivery of the first ADO edit is compared with these: without
    // them a later revision could not tell that the state had moved.
    let mut answers = schema_answers();
    answers.push(answer(
        200,
        json!({"id": 12, "rev": 1, "url": "https://dev.azure.com/o/p-1/_apis/wit/workItems/12",
        "fields": {"System.State": "New", "System.Title": "t", "System.AssignedTo": null}}),
    ));
    let env = FakeEnv::new(answers);
    let config = r#"{"version":2,"work_item_type":"Bug","dispatch":[{"target":"System.Title","method":"field","field":"title"}],
      "from_ado":[{"target":"status","method":"dictionary","field":"System.State","map":{"Active":"IN_PROGRESS"},"unmapped":"skip"},
                  {"target":"assignee","method":"field","field":"System.AssignedTo"}]}"#;
    let link = create(&env, &conn(), config, &ticket("t", "HIGH")).unwrap();
    let state = crate::model::SyncState::read(&link.sync_state).unwrap();
    assert_eq!(state.ado_seen.get("System.State"), Some(&json!("New")));
    assert_eq!(state.ado_seen.get("System.AssignedTo"), Some(&Value::Null));
    assert_eq!(state.ado_seen.len(), 2);
}

#[test]
fn sync_stages_are_checked_against_the_schema_too() {
    let env = FakeEnv::new(schema_answers());
    let config = r#"{"version":2,"work_item_type":"Bug","dispatch":[{"target":"System.Title","method":"field","field":"title"}],
      "to_ado":[{"target":"System.Id","method":"field","field":"title"},{"target":"System.Titel","method":"field","field":"title"}],
      "from_ado":[{"target":"status","method":"field","field":"System.Stat"}]}"#;
    let p = preview(&env, &conn(), config, &ticket("t", "HIGH"), false).unwrap();
    let got: Vec<(&str, &str)> = p
        .problems
        .iter()
        .map(|i| (i.path.as_str(), i.rule.as_str()))
        .collect();
    assert_eq!(
        got,
        [
            ("$.to_ado[0].target", "read-only"),
            ("$.to_ado[1].target", "unknown-field"),
            ("$.from_ado[0].field", "unknown-field")
        ]
    );
    assert!(
        p.problems[1]
            .message
            .contains("did you mean `System.Title`"),
        "{}",
        p.problems[1].message
    );
}

#[test]
fn remote_validation_objections_join_the_problems() {
    let mut answers = schema_answers();
    answers.push(crate::testing::envelope(
        400,
        "TF401320: Rule Error for field Title. Error code: Required.",
        "RuleValidationException",
    ));
    let env = FakeEnv::new(answers);
    let p = preview(&env, &conn(), CONFIG, &ticket("t", "HIGH"), true).unwrap();
    assert!(!p.problems.is_empty(), "ADO's objection is reported");
    assert!(
        env.sent_urls()
            .last()
            .unwrap()
            .contains("validateOnly=true")
    );
}
