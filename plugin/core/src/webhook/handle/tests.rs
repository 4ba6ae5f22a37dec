//! Each rule of [`handle`] on Microsoft's samples, adapted through serde_json.

use serde_json::{Value, json};

use super::*;
use crate::model::FieldValue;
use crate::webhook::payload::tests::sample;

const CONFIG: &str = r#"{"version":2,"work_item_type":"Bug","from_ado":[
    {"target":"status","method":"dictionary","field":"System.State","map":{"New":"OPEN","Approved":"IN_PROGRESS","Closed":"RESOLVED"}},
    {"target":"severity","method":"dictionary","field":"Microsoft.VSTS.Common.Severity","map":{"2 - High":"HIGH","3 - Medium":"MEDIUM"}},
    {"target":"title","method":"field","field":"System.Title"}
]}"#;

fn json_of(name: &str) -> Value {
    serde_json::from_slice(&sample(name)[3..]).unwrap()
}

fn body(v: &Value) -> Vec<u8> {
    serde_json::to_vec(v).unwrap()
}

fn link(state: SyncState) -> Link {
    Link {
        ticket_id: "SEC-1".into(),
        project: "be9b3917-87e6-42a4-a549-2bc06a7a878f".into(),
        work_item_type: "Bug".into(),
        work_item_id: 5,
        rev: 1,
        url: String::new(),
        web_url: String::new(),
        sync_state: state.write(),
    }
}

fn applied(outcome: Outcome) -> TicketUpdate {
    match outcome {
        Outcome::Apply(u) => u,
        Outcome::Ignore(why) => panic!("ignored: {why}"),
    }
}

fn ignored(outcome: Outcome) -> String {
    match outcome {
        Outcome::Ignore(why) => why,
        Outcome::Apply(u) => panic!("applied: {u:?}"),
    }
}

fn text(name: &str, value: &str) -> Field {
    Field {
        name: name.into(),
        value: FieldValue::Text(value.into()),
    }
}

#[test]
fn an_update_maps_only_the_rules_whose_source_changed() {
    let u = applied(handle(CONFIG, &link(SyncState::default()), &sample("updated")).unwrap());
    assert_eq!(
        u.fields,
        vec![text("status", "IN_PROGRESS"), text("severity", "HIGH")]
    );
    assert!(u.comments.is_empty());
    assert_eq!(u.deleted, None);
    let state = SyncState::read(&u.link.sync_state).unwrap();
    assert_eq!(state.last_rev, Some(2));
    assert_eq!(
        state.seen_events,
        vec!["27646e0e-b520-4d2b-9411-bba7524947cd".to_string()]
    );
    assert_eq!(state.state.as_deref(), Some("Approved"));
    assert_eq!(u.link.rev, 2);
}

#[test]
fn a_value_an_earlier_late_revision_changed_is_mapped_from_a_newer_one() {
    // This revision did not change the state itself (say, a comment's), but
    // the state differs from the last one applied: the revision that changed
    // it is still on its way, and will be stale when it arrives.
    let mut v = json_of("updated");
    v["resource"]["fields"]
        .as_object_mut()
        .unwrap()
        .remove("System.State");
    // (The sample's revision still shows the state before its own change.)
    v["resource"]["revision"]["fields"]["System.State"] = serde_json::json!("Approved");
    let seen = |state: &str| SyncState {
        ado_seen: [("System.State".to_string(), serde_json::json!(state))]
            .into_iter()
            .collect(),
        ..Default::default()
    };
    let u = applied(handle(CONFIG, &link(seen("New")), &body(&v)).unwrap());
    assert!(
        u.fields.contains(&text("status", "IN_PROGRESS")),
        "{:?}",
        u.fields
    );
    let after = SyncState::read(&u.link.sync_state).unwrap();
    assert_eq!(after.ado_seen["System.State"], "Approved");
    // Unmoved since the last one applied: a local ticket change is not reverted.
    let u = applied(handle(CONFIG, &link(seen("Approved")), &body(&v)).unwrap());
    assert!(
        !u.fields.iter().any(|f| f.name == "status"),
        "{:?}",
        u.fields
    );
}

#[test]
fn a_redelivered_event_is_a_duplicate() {
    let first = applied(handle(CONFIG, &link(SyncState::default()), &sample("updated")).unwrap());
    let why = ignored(handle(CONFIG, &first.link, &sample("updated")).unwrap());
    assert!(why.starts_with("duplicate"), "{why}");
}

#[test]
fn an_older_revision_arriving_late_is_stale() {
    let state = SyncState {
        last_rev: Some(3),
        ..Default::default()
    };
    let why = ignored(handle(CONFIG, &link(state.clone()), &sample("updated")).unwrap());
    assert!(
        why.starts_with("stale") && why.contains("revision 2"),
        "{why}"
    );
    // The same revision as the last applied one is stale too...
    let state = SyncState {
        last_rev: Some(2),
        ..Default::default()
    };
    assert!(
        ignored(handle(CONFIG, &link(state), &sample("updated")).unwrap()).starts_with("stale")
    );
    // ...but a comment of that revision is not: it is marked separately.
    let state = SyncState {
        last_rev: Some(4),
        ..Default::default()
    };
    let u = applied(handle(CONFIG, &link(state), &sample("commented")).unwrap());
    assert_eq!(u.comments.len(), 1);
    assert_eq!(
        SyncState::read(&u.link.sync_state).unwrap().comment_rev,
        Some(4)
    );
}

#[test]
fn values_the_connector_pushed_coming_back_are_its_own_echo() {
    let mut state = SyncState::default();
    state
        .fields
        .insert("System.State".into(), json!("Approved"));
    state
        .fields
        .insert("Microsoft.VSTS.Common.Severity".into(), json!("2 - High"));
    state.fields.insert(
        "System.AssignedTo".into(),
        json!("Jamal Hartnet <jamal@contoso.example>"),
    );
    let why = ignored(handle(CONFIG, &link(state), &sample("updated")).unwrap());
    assert!(
        why.starts_with("own change") && why.contains("System.State"),
        "{why}"
    );
}

#[test]
fn numbers_sent_back_as_strings_are_an_echo_too() {
    let mut v = json_of("updated");
    v["resource"]["fields"] = json!({"System.Rev": {"oldValue": "1", "newValue": "2"}, "Microsoft.VSTS.Common.Priority": {"oldValue": "2", "newValue": "1"}});
    let mut state = SyncState::default();
    state
        .fields
        .insert("Microsoft.VSTS.Common.Priority".into(), json!(1));
    assert!(ignored(handle(CONFIG, &link(state), &body(&v)).unwrap()).starts_with("own change"));
}

#[test]
fn a_mixed_update_maps_only_the_foreign_changes_and_moves_the_baseline() {
    let mut state = SyncState::default();
    state
        .fields
        .insert("Microsoft.VSTS.Common.Severity".into(), json!("2 - High"));
    state.fields.insert("System.State".into(), json!("New"));
    state
        .fields
        .insert("System.Reason".into(), json!("New defect reported"));
    let u = applied(handle(CONFIG, &link(state), &sample("updated")).unwrap());
    assert_eq!(u.fields, vec![text("status", "IN_PROGRESS")]);
    let after = SyncState::read(&u.link.sync_state).unwrap();
    // Mapped back: the push must not send it again.
    assert_eq!(after.fields["System.State"], "Approved");
    assert_eq!(after.fields["Microsoft.VSTS.Common.Severity"], "2 - High");
    // Not mapped back: the push must not overwrite the ADO change either.
    assert_eq!(after.fields["System.Reason"], "New defect reported");
}

#[test]
fn a_revision_the_connector_wrote_is_its_echo_even_when_it_arrives_late() {
    let v = json_of("updated");
    let rev = v["resource"]["rev"]
        .as_i64()
        .or_else(|| v["resource"]["revision"]["rev"].as_i64())
        .expect("the sample has a rev") as i32;
    // The connector wrote this revision and has pushed a newer value since,
    // so the values no longer tell it is an echo: the revision does.
    let state = SyncState {
        own_revs: vec![rev - 3, rev, rev + 2],
        fields: [(
            "System.State".to_string(),
            serde_json::json!("Something newer"),
        )]
        .into_iter()
        .collect(),
        ..Default::default()
    };
    let why = ignored(handle(CONFIG, &link(state), &sample("updated")).unwrap());
    assert!(why.contains(&format!("revision {rev}")), "{why}");
    // Another revision is someone else's.
    let state = SyncState {
        own_revs: vec![rev - 1, rev + 1],
        ..Default::default()
    };
    applied(handle(CONFIG, &link(state), &sample("updated")).unwrap());
}

#[test]
fn a_change_by_a_dedicated_connector_identity_is_its_own_echo() {
    let mut v = json_of("updated");
    v["resource"]["revisedBy"] = json!({"id": "0fd1c2a4-0000-0000-0000-000000000001", "displayName": "SecOps Connector", "uniqueName": "secops@contoso.example"});
    let state = SyncState {
        identity: Some("0FD1C2A4-0000-0000-0000-000000000001".into()),
        ..Default::default()
    };
    // A person's credentials: their own edits in ADO must come back.
    applied(handle(CONFIG, &link(state.clone()), &body(&v)).unwrap());
    let dedicated = CONFIG.replacen(
        r#""work_item_type":"Bug","#,
        r#""work_item_type":"Bug","sync":{"dedicated_identity":true},"#,
        1,
    );
    assert!(
        ignored(handle(&dedicated, &link(state.clone()), &body(&v)).unwrap()).contains("identity")
    );
    // Anyone else's change is applied.
    v["resource"]["revisedBy"]["id"] = json!("someone-else");
    v["resource"]["revisedBy"]["uniqueName"] = json!("someone@contoso.example");
    applied(handle(&dedicated, &link(state), &body(&v)).unwrap());
}

#[test]
fn an_update_of_bookkeeping_fields_only_maps_nothing() {
    let mut v = json_of("updated");
    v["resource"]["fields"] = json!({"System.Rev": {"oldValue": "1", "newValue": "2"}, "System.Watermark": {"oldValue": "2", "newValue": "5"}});
    let u = applied(handle(CONFIG, &link(SyncState::default()), &body(&v)).unwrap());
    assert!(u.fields.is_empty());
}

#[test]
fn a_foreign_comment_becomes_a_ticket_comment() {
    let u = applied(handle(CONFIG, &link(SyncState::default()), &sample("commented")).unwrap());
    assert!(u.fields.is_empty());
    assert_eq!(
        u.comments,
        vec![Comment {
            id: "ado-5-r4".into(),
            author: "Jamal Hartnett".into(),
            created: "2014-07-15T17:42:44.663Z".into(),
            text: "This is a great new idea".into()
        }]
    );
    let mut v = json_of("commented");
    v["resource"]["commentVersionRef"] = json!({"commentId": 42, "version": 1});
    assert_eq!(
        applied(handle(CONFIG, &link(SyncState::default()), &body(&v)).unwrap()).comments[0].id,
        "ado-5-42"
    );
}

#[test]
fn our_own_comments_are_recognised_by_reference_line_or_id() {
    let mut v = json_of("commented");
    v["resource"]["fields"]["System.History"] =
        json!("<p>hello</p><p><small>ref: secops SEC-1#C-7</small></p>");
    assert!(
        ignored(handle(CONFIG, &link(SyncState::default()), &body(&v)).unwrap())
            .contains("reference line")
    );
    let mut v = json_of("commented");
    v["resource"]["commentVersionRef"] = json!({"commentId": 42});
    let mut state = SyncState::default();
    state.comments.insert("C-7".into(), 42);
    assert!(ignored(handle(CONFIG, &link(state), &body(&v)).unwrap()).contains("comment 42"));
}

#[test]
fn deleted_and_restored_flag_the_ticket() {
    let u = applied(
        handle(
            CONFIG,
            &link(SyncState {
                last_rev: Some(9),
                ..Default::default()
            }),
            &sample("deleted"),
        )
        .unwrap(),
    );
    assert_eq!((u.deleted, u.fields.len()), (Some(true), 0));
    let u = applied(handle(CONFIG, &u.link, &sample("restored")).unwrap());
    assert_eq!(u.deleted, Some(false));
    assert_eq!(u.fields[0], text("status", "OPEN"));
    assert_eq!(
        SyncState::read(&u.link.sync_state)
            .unwrap()
            .seen_events
            .len(),
        2
    );
}

#[test]
fn a_created_event_of_the_connector_dispatch_is_its_own_echo() {
    let mut state = SyncState::default();
    state
        .fields
        .insert("System.Title".into(), json!("Some great new idea!"));
    assert!(
        ignored(handle(CONFIG, &link(state), &sample("created")).unwrap()).contains("dispatch")
    );
}

#[test]
fn the_event_must_be_about_the_linked_work_item() {
    let mut l = link(SyncState::default());
    l.work_item_id = 6;
    assert!(
        matches!(handle(CONFIG, &l, &sample("updated")), Err(ConnectorError::Validation(i)) if i[0].rule == "link-mismatch")
    );
}

#[test]
fn an_unmapped_value_is_reported_not_guessed() {
    let mut v = json_of("updated");
    v["resource"]["fields"]["System.State"]["newValue"] = json!("Removed");
    assert!(
        matches!(handle(CONFIG, &link(SyncState::default()), &body(&v)), Err(ConnectorError::InvalidConfig(i)) if i[0].message.contains("Removed"))
    );
}

#[test]
fn seen_events_stay_bounded() {
    let mut state = SyncState::default();
    for i in 0..100 {
        state.remember_event(&format!("e{i}"));
    }
    assert_eq!(state.seen_events.len(), SyncState::SEEN_EVENTS);
    assert_eq!(state.seen_events[0], "e36");
}

#[test]
fn comment_html_becomes_plain_text() {
    let mut v = json_of("commented");
    v["resource"]["fields"]["System.History"] = json!(
        "<div>Fixed in <b>build&nbsp;42</b> &amp; deployed.</div><div><br></div><p>&lt;script&gt; stays text</p>"
    );
    let u = applied(handle(CONFIG, &link(SyncState::default()), &body(&v)).unwrap());
    assert_eq!(
        u.comments[0].text,
        "Fixed in build 42 & deployed.\n\n<script> stays text"
    );
}

#[test]
fn a_comment_arriving_late_is_applied_once_and_not_pushed_back() {
    // A comment of an older revision than one already applied is still new.
    let state = SyncState {
        comment_rev: Some(9),
        ..Default::default()
    };
    let u = applied(handle(CONFIG, &link(state), &sample("commented")).unwrap());
    assert_eq!(u.comments.len(), 1);
    let after = SyncState::read(&u.link.sync_state).unwrap();
    assert_eq!(after.comment_rev, Some(9), "the mark only moves forward");
    // It is recorded as already in ADO, so the next push does not post it,
    // and a redelivery under another event id is a duplicate.
    assert!(after.comments.contains_key(&u.comments[0].id));
    let mut v = json_of("commented");
    v["id"] = json!("another-event-id");
    let again = ignored(handle(CONFIG, &u.link, &body(&v)).unwrap());
    assert!(again.starts_with("duplicate"), "{again}");
}
