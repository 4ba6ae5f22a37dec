//! sync.* and dispatch adoption through the real component against the
//! emulator: one request per field change, conflicts reported not
//! overwritten, comments and trigger comments posted once across retries,
//! auto-close, reopen, bulk close across processes, and no duplicate after
//! a dispatch whose answer was lost.

use crate::common;

use common::*;
use serde_json::json;
use ticketing_runtime::{CallError, CloseItem, CloseOutcome, ConnectorError, Link, Ticket};

fn bug_ticket(id: &str, severity: &str) -> Ticket {
    let mut t = ticket(
        id,
        vec![
            text("title", "Outdated OpenSSL on edge proxies"),
            text("severity", severity),
        ],
    );
    t.findings = vec![
        finding("F-1", "open", "CVE-2026-0001 in openssl"),
        finding("F-2", "open", "CVE-2026-0002 in openssl"),
    ];
    t
}

fn dispatched(emu: &ado_emulator::Emulator, config: &str, t: &Ticket) -> Link {
    host()
        .create(&pat_connection(emu), config, t)
        .expect("dispatched")
}

fn set(t: &Ticket, name: &str, value: &str) -> Ticket {
    let mut t = t.clone();
    t.fields.retain(|f| f.name != name);
    t.fields.push(text(name, value));
    t
}

fn statuses(t: &Ticket, statuses: &[&str]) -> Ticket {
    let mut t = t.clone();
    for (f, s) in t.findings.iter_mut().zip(statuses) {
        f.status = (*s).to_string();
    }
    t
}

#[test]
fn a_field_change_syncs_in_one_request() {
    let emu = emulator();
    let config = agile_bug_config();
    let before = bug_ticket("SEC-1", "HIGH");
    let link = dispatched(&emu, &config, &before);
    let after = set(
        &before,
        "title",
        "Outdated OpenSSL on edge and core proxies",
    );

    let requests = emu.request_count();
    let out = host()
        .push(&pat_connection(&emu), &config, &link, &before, &after)
        .expect("pushed");
    assert_eq!(emu.request_count() - requests, 1, "one PATCH, nothing else");
    assert_eq!(out.fields_sent, vec!["System.Title".to_string()]);
    assert!(out.conflicts.is_empty() && out.transition.is_none());
    let item = emu.work_item(link.work_item_id).unwrap();
    assert_eq!(
        item["fields"]["System.Title"],
        "Outdated OpenSSL on edge and core proxies"
    );
    assert_eq!(out.link.rev, item["rev"].as_i64().unwrap() as i32);

    // Nothing changed since: nothing is sent.
    let requests = emu.request_count();
    let again = host()
        .push(&pat_connection(&emu), &config, &out.link, &after, &after)
        .unwrap();
    assert_eq!(emu.request_count() - requests, 0);
    assert!(again.fields_sent.is_empty());
}

#[test]
fn a_concurrent_ado_edit_is_reported_as_a_conflict_not_overwritten() {
    let emu = emulator();
    let config = agile_bug_config();
    let before = bug_ticket("SEC-2", "HIGH");
    let link = dispatched(&emu, &config, &before);
    // Someone triages the bug in ADO: priority 2 → 1.
    edit_in_ado(
        &emu,
        link.work_item_id,
        json!([{"op": "add", "path": "/fields/Microsoft.VSTS.Common.Priority", "value": 1}]),
    );
    // Meanwhile the ticket goes to LOW (priority 4) and gets a new title.
    let after = set(
        &set(&before, "severity", "LOW"),
        "title",
        "OpenSSL on edge proxies (downgraded)",
    );

    let out = host()
        .push(&pat_connection(&emu), &config, &link, &before, &after)
        .expect("pushed");
    let conflict = out
        .conflicts
        .iter()
        .find(|c| c.field == "Microsoft.VSTS.Common.Priority")
        .expect("priority conflict reported");
    assert_eq!(conflict.resolution, "reported");
    assert_eq!(
        conflict.ado_value,
        ticketing_runtime::FieldValue::Integer(1)
    );
    assert_eq!(
        conflict.ticket_value,
        ticketing_runtime::FieldValue::Integer(4)
    );
    let item = emu.work_item(link.work_item_id).unwrap();
    assert_eq!(
        item["fields"]["Microsoft.VSTS.Common.Priority"], 1,
        "ADO's edit survives"
    );
    assert_eq!(
        item["fields"]["System.Title"], "OpenSSL on edge proxies (downgraded)",
        "the field only the ticket changed goes through"
    );
    assert!(out.fields_sent.contains(&"System.Title".to_string()));
    assert_eq!(out.link.rev, item["rev"].as_i64().unwrap() as i32);
}

#[test]
fn ticket_wins_overwrites_and_still_reports_the_conflict() {
    let emu = emulator();
    let config = config_with(&agile_bug_config(), "/sync/conflicts", json!("ticket_wins"));
    let before = bug_ticket("SEC-3", "HIGH");
    let link = dispatched(&emu, &config, &before);
    edit_in_ado(
        &emu,
        link.work_item_id,
        json!([{"op": "add", "path": "/fields/Microsoft.VSTS.Common.Priority", "value": 1}]),
    );
    let out = host()
        .push(
            &pat_connection(&emu),
            &config,
            &link,
            &before,
            &set(&before, "severity", "LOW"),
        )
        .unwrap();
    assert!(
        out.conflicts
            .iter()
            .any(|c| c.field == "Microsoft.VSTS.Common.Priority" && c.resolution == "ticket-wins")
    );
    assert_eq!(
        emu.work_item(link.work_item_id).unwrap()["fields"]["Microsoft.VSTS.Common.Priority"],
        4
    );
}

#[test]
fn comments_are_posted_once_even_when_the_push_is_retried() {
    let emu = emulator();
    let config = agile_bug_config();
    let before = bug_ticket("SEC-4", "HIGH");
    let link = dispatched(&emu, &config, &before);
    let mut after = before.clone();
    after.comments = vec![
        comment(
            "C-1",
            "Alice Analyst",
            "Exploit seen in the wild, **patch today**.",
        ),
        comment("C-2", "Bob", "Ack <b>not bold</b>"),
    ];

    let first = host()
        .push(&pat_connection(&emu), &config, &link, &before, &after)
        .unwrap();
    assert_eq!(first.comments_posted, 2);
    // The host lost the outcome and retries with the old link.
    let retry = host()
        .push(&pat_connection(&emu), &config, &link, &before, &after)
        .unwrap();
    assert_eq!(retry.comments_posted, 0);
    // And a later push with the stored link posts nothing either.
    let later = host()
        .push(&pat_connection(&emu), &config, &first.link, &after, &after)
        .unwrap();
    assert_eq!(later.comments_posted, 0);

    let comments = comments_of(&emu, seed::PROJECT, link.work_item_id);
    assert_eq!(comments.len(), 2, "{comments:#?}");
    let text = comments[0]["text"].as_str().unwrap();
    assert!(
        text.contains("Alice Analyst")
            && text.contains("<strong>patch today</strong>")
            && text.contains("SEC-4#C-1"),
        "{text}"
    );
    assert!(
        comments[1]["text"].as_str().unwrap().contains("&lt;b&gt;"),
        "ticket text never becomes markup"
    );
}

#[test]
fn a_trigger_comment_appears_exactly_once_and_touches_no_field() {
    let emu = emulator();
    let config = agile_bug_config();
    // No to_ado rule touches fields here: only the trigger may act.
    let config = config_with(&config, "/to_ado", json!([]));
    let before = bug_ticket("SEC-5", "MEDIUM");
    let link = dispatched(&emu, &config, &before);
    let rev = emu.work_item(link.work_item_id).unwrap()["rev"].clone();
    let after = set(&before, "severity", "CRITICAL");

    let out = host()
        .push(&pat_connection(&emu), &config, &link, &before, &after)
        .unwrap();
    assert_eq!(out.triggers_posted, 1);
    assert!(out.fields_sent.is_empty());
    let retry = host()
        .push(&pat_connection(&emu), &config, &link, &before, &after)
        .unwrap();
    assert_eq!(
        retry.triggers_posted, 0,
        "a retry finds the comment it posted"
    );

    let comments = comments_of(&emu, seed::PROJECT, link.work_item_id);
    assert_eq!(comments.len(), 1);
    let text = comments[0]["text"].as_str().unwrap();
    assert!(
        text.contains("Linked ticket updated: Ticket severity changed from: MEDIUM to: CRITICAL")
            && text.contains("https://secops.example/tickets/SEC-5"),
        "{text}"
    );
    let item = emu.work_item(link.work_item_id).unwrap();
    assert_eq!(
        item["fields"]["Microsoft.VSTS.Common.Severity"], "3 - Medium",
        "no field touched"
    );
    assert_eq!(
        item["rev"].as_i64().unwrap(),
        rev.as_i64().unwrap() + 1,
        "only the comment's revision"
    );
    // A transition the config does not list posts nothing.
    let quiet = host()
        .push(
            &pat_connection(&emu),
            &config,
            &out.link,
            &after,
            &set(&after, "severity", "LOW"),
        )
        .unwrap();
    assert_eq!(quiet.triggers_posted, 0);
}

#[test]
fn the_work_item_closes_once_every_finding_is_remediated_and_never_twice() {
    let emu = emulator();
    let config = agile_bug_config();
    let t0 = bug_ticket("SEC-6", "HIGH");
    let link = dispatched(&emu, &config, &t0);

    let t1 = statuses(&t0, &["fixed", "open"]);
    let half = host()
        .push(&pat_connection(&emu), &config, &link, &t0, &t1)
        .unwrap();
    assert!(half.transition.is_none());

    let t2 = statuses(&t0, &["fixed", "fixed"]);
    let closed = host()
        .push(&pat_connection(&emu), &config, &half.link, &t1, &t2)
        .unwrap();
    let tr = closed.transition.expect("closed");
    assert_eq!((tr.from.as_str(), tr.to.as_str()), ("New", "Closed"));
    assert!(
        tr.reason.contains("all 2 findings remediated"),
        "{}",
        tr.reason
    );
    assert!(tr.note.is_none());
    let item = emu.work_item(link.work_item_id).unwrap();
    assert_eq!(item["fields"]["System.State"], "Closed");

    let revs = item["rev"].clone();
    let again = host()
        .push(&pat_connection(&emu), &config, &closed.link, &t2, &t2)
        .unwrap();
    assert!(again.transition.is_none());
    assert_eq!(
        emu.work_item(link.work_item_id).unwrap()["rev"],
        revs,
        "never closes twice"
    );
}

#[test]
fn temporary_statuses_close_only_when_the_config_says_so() {
    let emu = emulator();
    let strict = agile_bug_config();
    let t0 = bug_ticket("SEC-7", "HIGH");
    let link = dispatched(&emu, &strict, &t0);
    let mitigated = statuses(&t0, &["fixed", "mitigated"]);
    let out = host()
        .push(&pat_connection(&emu), &strict, &link, &t0, &mitigated)
        .unwrap();
    assert!(
        out.transition.is_none(),
        "do not close for temporary status changes"
    );
    assert_eq!(
        emu.work_item(link.work_item_id).unwrap()["fields"]["System.State"],
        "New"
    );

    let lenient = config_with(&strict, "/sync/auto_close/close_on_temporary", json!(true));
    let out = host()
        .push(
            &pat_connection(&emu),
            &lenient,
            &out.link,
            &mitigated,
            &mitigated,
        )
        .unwrap();
    assert_eq!(out.transition.map(|t| t.to).as_deref(), Some("Closed"));
}

#[test]
fn a_regressed_finding_reopens_the_work_item_with_a_comment_naming_it() {
    let emu = emulator();
    let config = agile_bug_config();
    let t0 = bug_ticket("SEC-8", "HIGH");
    let link = dispatched(&emu, &config, &t0);
    let fixed = statuses(&t0, &["fixed", "fixed"]);
    let closed = host()
        .push(&pat_connection(&emu), &config, &link, &t0, &fixed)
        .unwrap();
    assert!(closed.transition.is_some());

    let regressed = statuses(&t0, &["fixed", "open"]);
    let out = host()
        .push(
            &pat_connection(&emu),
            &config,
            &closed.link,
            &fixed,
            &regressed,
        )
        .unwrap();
    let tr = out.transition.expect("reopened");
    assert_eq!((tr.from.as_str(), tr.to.as_str()), ("Closed", "Active"));
    assert!(
        tr.reason.contains("F-2") && tr.reason.contains("CVE-2026-0002"),
        "{}",
        tr.reason
    );
    let item = emu.work_item(link.work_item_id).unwrap();
    assert_eq!(item["fields"]["System.State"], "Active");
    let history = comments_of(&emu, seed::PROJECT, link.work_item_id);
    assert!(
        history.iter().any(|c| c["text"]
            .as_str()
            .unwrap_or("")
            .contains("Reopened by the SecOps connector")),
        "{history:#?}"
    );

    // Fixed again: it closes again (a new remediation, not a second close of the same one).
    let out = host()
        .push(
            &pat_connection(&emu),
            &config,
            &out.link,
            &regressed,
            &fixed,
        )
        .unwrap();
    assert_eq!(out.transition.map(|t| t.to).as_deref(), Some("Closed"));
}

#[test]
fn a_missing_close_state_falls_back_to_the_completed_category_and_says_so() {
    let emu = emulator();
    let config = config_with(
        &example_config("basic-issue.json"),
        "/sync/auto_close/state",
        json!("Closed"),
    );
    let mut conn = pat_connection(&emu);
    conn.project = seed::PROJECT_BASIC.into();
    let t0 = bug_ticket("SEC-9", "HIGH");
    let link = host().create(&conn, &config, &t0).unwrap();
    let out = host()
        .push(
            &conn,
            &config,
            &link,
            &t0,
            &statuses(&t0, &["fixed", "remediated"]),
        )
        .unwrap();
    let tr = out.transition.expect("closed");
    assert_eq!(tr.to, "Done");
    let note = tr.note.expect("the result says so");
    assert!(
        note.contains("`Closed` does not exist") && note.contains("`Done`"),
        "{note}"
    );
    assert_eq!(
        emu.work_item(link.work_item_id).unwrap()["fields"]["System.State"],
        "Done"
    );
}

#[test]
fn close_and_reopen_move_the_state_and_leave_an_item_already_there_alone() {
    let emu = emulator();
    let config = agile_bug_config();
    let link = dispatched(&emu, &config, &bug_ticket("SEC-10", "HIGH"));
    let closed = host()
        .close(
            &pat_connection(&emu),
            &config,
            &link,
            "risk accepted by the CISO",
        )
        .unwrap();
    assert_eq!(
        closed.transition.as_ref().map(|t| t.to.as_str()),
        Some("Closed")
    );
    let again = host()
        .close(&pat_connection(&emu), &config, &closed.link, "again")
        .unwrap();
    assert!(again.transition.is_none(), "already closed");
    let reopened = host()
        .reopen(
            &pat_connection(&emu),
            &config,
            &again.link,
            "risk acceptance expired",
        )
        .unwrap();
    assert_eq!(
        reopened.transition.as_ref().map(|t| t.to.as_str()),
        Some("Active")
    );
    assert_eq!(
        emu.work_item(link.work_item_id).unwrap()["fields"]["System.State"],
        "Active"
    );
}

#[test]
fn bulk_close_spans_processes_with_one_result_per_item() {
    let emu = emulator();
    let mut items = Vec::new();
    for (i, (project, file)) in [
        (seed::PROJECT, "agile-bug.json"),
        (seed::PROJECT_SCRUM, "scrum-pbi.json"),
        (seed::PROJECT_BASIC, "basic-issue.json"),
    ]
    .iter()
    .enumerate()
    {
        let config = example_config(file);
        let mut conn = pat_connection(&emu);
        conn.project = (*project).into();
        let link = host()
            .create(&conn, &config, &bug_ticket(&format!("SEC-2{i}"), "HIGH"))
            .unwrap();
        items.push(CloseItem { config, link });
    }
    // One already closed by hand, one deleted: neither stops the rest.
    let closed_by_hand = host()
        .create(
            &pat_connection(&emu),
            &agile_bug_config(),
            &bug_ticket("SEC-30", "LOW"),
        )
        .unwrap();
    edit_in_ado(
        &emu,
        closed_by_hand.work_item_id,
        json!([{"op": "add", "path": "/fields/System.State", "value": "Closed"}]),
    );
    let deleted = host()
        .create(
            &pat_connection(&emu),
            &agile_bug_config(),
            &bug_ticket("SEC-31", "LOW"),
        )
        .unwrap();
    ado(
        &emu,
        "DELETE",
        &format!(
            "_apis/wit/workitems/{}?api-version=7.1",
            deleted.work_item_id
        ),
        "",
        None,
    );
    items.insert(
        1,
        CloseItem {
            config: agile_bug_config(),
            link: deleted.clone(),
        },
    );
    items.push(CloseItem {
        config: agile_bug_config(),
        link: closed_by_hand.clone(),
    });

    let before = emu.request_counts();
    let outcomes = host()
        .bulk_close(&pat_connection(&emu), &items, "all findings remediated")
        .unwrap();
    let after = emu.request_counts();
    let calls = |route: &str| {
        after.by_route.get(route).copied().unwrap_or(0)
            - before.by_route.get(route).copied().unwrap_or(0)
    };
    assert_eq!(
        calls("PATCH /contoso/_apis/wit/$batch"),
        1,
        "one $batch for every close: {:?}",
        after.by_route
    );
    assert_eq!(
        calls("POST /contoso/_apis/wit/workitemsbatch"),
        1,
        "one read of every current state"
    );
    assert_eq!(outcomes.len(), items.len());
    let state = |id: i32| {
        emu.work_item(id).unwrap()["fields"]["System.State"]
            .as_str()
            .unwrap()
            .to_string()
    };
    match &outcomes[0] {
        CloseOutcome::Closed(c) => assert_eq!(c.transition.as_ref().unwrap().to, "Closed"),
        other => panic!("agile: {other:?}"),
    }
    assert!(
        matches!(
            &outcomes[1],
            CloseOutcome::Failed(ConnectorError::NotFound(_))
        ),
        "deleted: {:?}",
        outcomes[1]
    );
    for (o, want) in outcomes[2..4].iter().zip(["Done", "Done"]) {
        match o {
            CloseOutcome::Closed(c) => {
                assert_eq!(c.transition.as_ref().unwrap().to, want);
                assert_eq!(state(c.link.work_item_id), want);
            }
            other => panic!("{other:?}"),
        }
    }
    assert!(
        matches!(&outcomes[4], CloseOutcome::AlreadyClosed(l) if l.work_item_id == closed_by_hand.work_item_id)
    );
    assert_eq!(state(items[0].link.work_item_id), "Closed");
}

#[test]
fn a_dispatch_whose_answer_was_lost_is_retried_without_a_duplicate() {
    let emu = emulator();
    // The fault drops every write's answer: without a findings file to upload
    // the only write is the create.
    let config = config_with(&agile_bug_config(), "/attachment", serde_json::Value::Null);
    let t = bug_ticket("SEC-40", "HIGH");
    // Warm the schema so the only write is the create.
    host()
        .preview(&pat_connection(&emu), &config, &t, false)
        .unwrap();
    emu.set_faults(ado_emulator::faults::Faults {
        drop_after_commit_rate: 1.0,
        ..Default::default()
    });
    match host().create(&pat_connection(&emu), &config, &t) {
        Err(CallError::Connector(ConnectorError::Transport(_))) => {}
        other => panic!("expected a lost answer, got {other:?}"),
    }
    emu.set_faults(ado_emulator::faults::Faults::default());
    assert_eq!(
        ids_with_tag(&emu, seed::PROJECT, "secops:SEC-40").len(),
        1,
        "ADO committed the create"
    );

    let link = host()
        .create(&pat_connection(&emu), &config, &t)
        .expect("the retry adopts");
    assert_eq!(
        ids_with_tag(&emu, seed::PROJECT, "secops:SEC-40"),
        vec![i64::from(link.work_item_id)],
        "no duplicate"
    );
    // A host that knows the outcome is uncertain can also ask directly.
    let adopted = host()
        .adopt(&pat_connection(&emu), &config, &t)
        .unwrap()
        .expect("found");
    assert_eq!(adopted.work_item_id, link.work_item_id);
    assert!(
        host()
            .adopt(&pat_connection(&emu), &config, &bug_ticket("SEC-41", "LOW"))
            .unwrap()
            .is_none()
    );
}
