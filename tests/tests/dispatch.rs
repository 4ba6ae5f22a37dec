//! dispatch.* through the real component: what is created in the emulator
//! matches the mapping, and bad input is refused naming the field.

use crate::common;

use common::*;
use ticketing_runtime::{CallError, ConnectorError};

fn critical_ticket() -> ticketing_runtime::Ticket {
    ticket(
        "SEC-1",
        vec![
            text("title", "SQL injection in <orders> API"),
            text(
                "description",
                "Payload: ' OR 1=1 -- <script>alert(1)</script>",
            ),
            text("severity", "CRITICAL"),
        ],
    )
}

#[test]
fn dispatch_creates_a_work_item_whose_fields_match_the_mapping() {
    let emu = emulator();
    let conn = pat_connection(&emu);
    let link = host()
        .create(&conn, &agile_bug_config(), &critical_ticket())
        .expect("created");
    assert_eq!(link.ticket_id, "SEC-1");
    assert_eq!(link.work_item_type, "Bug");
    assert_eq!(link.rev, 1);
    assert_eq!(
        Some(link.project.as_str()),
        emu.project_id(seed::PROJECT).as_deref()
    );

    let item = emu
        .work_item(link.work_item_id)
        .expect("stored in the emulator");
    let fields = &item["fields"];
    assert_eq!(fields["System.Title"], "SQL injection in <orders> API");
    assert_eq!(fields["Microsoft.VSTS.Common.Priority"], 1);
    assert_eq!(fields["Microsoft.VSTS.Common.Severity"], "1 - Critical");
    assert_eq!(fields["System.State"], "New");
    assert_eq!(fields["System.WorkItemType"], "Bug");
    // Ticket text never becomes markup in an HTML field.
    let repro = fields["Microsoft.VSTS.TCM.ReproSteps"].as_str().unwrap();
    assert!(
        repro.contains("&lt;script&gt;") && !repro.contains("<script>"),
        "{repro}"
    );
    let tags = fields["System.Tags"].as_str().unwrap();
    assert!(
        tags.contains("secops:SEC-1") && tags.contains("secops"),
        "{tags}"
    );
    let relations = item["relations"].as_array().expect("relations");
    assert!(
        relations
            .iter()
            .any(|r| r["rel"] == "Hyperlink" && r["url"] == "https://secops.example/tickets/SEC-1")
    );
}

#[test]
fn dispatch_with_a_warm_schema_costs_one_request() {
    let emu = emulator();
    let conn = pat_connection(&emu);
    host()
        .create(&conn, &agile_bug_config(), &critical_ticket())
        .unwrap();
    let before = emu.request_count();
    let mut second = critical_ticket();
    second.id = "SEC-2".into();
    second.url = "https://secops.example/tickets/SEC-2".into();
    host().create(&conn, &agile_bug_config(), &second).unwrap();
    assert_eq!(emu.request_count() - before, 1);
}

#[test]
fn value_not_allowed_is_refused_naming_the_field_and_nothing_is_created() {
    let emu = emulator();
    let conn = pat_connection(&emu);
    let config = agile_bug_config().replace(r#""CRITICAL": 1"#, r#""CRITICAL": 7"#);
    match host().create(&conn, &config, &critical_ticket()) {
        Err(CallError::Connector(ConnectorError::Validation(issues))) => {
            let issue = issues
                .iter()
                .find(|i| i.path == "Microsoft.VSTS.Common.Priority")
                .expect("priority named");
            assert_eq!(issue.rule, "allowed-values");
            assert!(issue.message.contains("`7`"), "{}", issue.message);
        }
        other => panic!("expected validation error, got {other:?}"),
    }
    assert!(emu.work_item(1).is_none(), "nothing may be created");
}

#[test]
fn invalid_initial_state_lists_the_valid_ones() {
    let emu = emulator();
    let config =
        agile_bug_config().replace(r#""initial_state": "New""#, r#""initial_state": "Closed""#);
    match host().create(&pat_connection(&emu), &config, &critical_ticket()) {
        Err(CallError::Connector(ConnectorError::Validation(issues))) => {
            assert!(
                issues
                    .iter()
                    .any(|i| i.rule == "initial-state" && i.message.contains("New")),
                "{issues:?}"
            );
        }
        other => panic!("expected validation error, got {other:?}"),
    }
}

#[test]
fn missing_mandatory_ticket_field_is_refused() {
    let emu = emulator();
    let t = ticket("SEC-3", vec![text("title", "No severity")]);
    match host().create(&pat_connection(&emu), &agile_bug_config(), &t) {
        Err(CallError::Connector(ConnectorError::Validation(issues))) => {
            assert!(
                issues
                    .iter()
                    .any(|i| i.path == "ticket.severity" && i.rule == "mandatory"),
                "{issues:?}"
            );
        }
        other => panic!("expected validation error, got {other:?}"),
    }
}

#[test]
fn preview_with_remote_validation_asks_ado_and_creates_nothing() {
    let emu = emulator();
    let conn = pat_connection(&emu);
    let preview = host()
        .preview(&conn, &agile_bug_config(), &critical_ticket(), true)
        .expect("preview");
    assert!(preview.problems.is_empty(), "{:?}", preview.problems);
    assert!(emu.work_item(1).is_none(), "validateOnly creates nothing");
}

#[test]
fn preview_shows_the_exact_json_patch() {
    let emu = emulator();
    let preview = host()
        .preview(
            &pat_connection(&emu),
            &agile_bug_config(),
            &critical_ticket(),
            false,
        )
        .unwrap();
    assert_eq!(preview.method, "POST");
    assert!(
        preview
            .url
            .ends_with("/_apis/wit/workitems/$Bug?api-version=7.1"),
        "{}",
        preview.url
    );
    let body: serde_json::Value = serde_json::from_str(&preview.body).unwrap();
    assert!(
        body.as_array()
            .unwrap()
            .iter()
            .any(|op| op["path"] == "/fields/Microsoft.VSTS.Common.Priority" && op["value"] == 1)
    );
}

#[test]
fn validate_config_reports_every_problem_with_its_path() {
    let bad = r#"{"version": 3, "work_item_type": "", "dispatch": [{"target": "System.Title", "method": "template", "template": "{{x"}]}"#;
    match host().validate_config(bad) {
        Err(CallError::Connector(ConnectorError::InvalidConfig(issues))) => {
            let paths: Vec<&str> = issues.iter().map(|i| i.path.as_str()).collect();
            assert_eq!(
                paths,
                ["$.version", "$.work_item_type", "$.dispatch[0].template"]
            );
        }
        other => panic!("expected invalid config, got {other:?}"),
    }
    host()
        .validate_config(&agile_bug_config())
        .expect("the example config is valid");
}
