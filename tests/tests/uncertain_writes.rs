//! Writes whose outcome is unknown, through the real component against the
//! emulator: Azure DevOps commits the change, then the front door answers
//! 502/503/504 (or nothing in time). The connector never sends such a
//! write again blindly: a create is looked for by the ticket's tag, a
//! comment by its reference marker, a findings file by its digest, a bulk
//! close by the states, and only what is missing is sent again.

use crate::common;

use ado_emulator::Emulator;
use ado_emulator::faults::Faults;
use common::*;
use serde_json::{Value, json};
use ticketing_runtime::{CloseItem, CloseOutcome, Link, Ticket};

fn bug_ticket(id: &str) -> Ticket {
    let mut t = ticket(
        id,
        vec![
            text("title", "Outdated OpenSSL on edge proxies"),
            text("severity", "HIGH"),
        ],
    );
    t.findings = vec![
        finding("F-1", "open", "CVE-2026-0001 in openssl"),
        finding("F-2", "open", "CVE-2026-0002 in openssl"),
    ];
    t
}

/// Every write whose path contains `path` is committed, then answered
/// with a gateway error.
fn error_after_commit(emu: &Emulator, path: &str) {
    emu.set_faults(Faults {
        seed: 3,
        error_after_commit_rate: 1.0,
        only_path: Some(path.into()),
        ..Faults::default()
    });
}

fn relations(emu: &Emulator, id: i32, rel: &str) -> Vec<Value> {
    emu.work_item(id).expect("the work item exists")["relations"]
        .as_array()
        .cloned()
        .unwrap_or_default()
        .into_iter()
        .filter(|r| r["rel"] == rel)
        .collect()
}

#[test]
fn a_create_answered_with_a_gateway_error_after_the_commit_makes_one_work_item_and_one_link() {
    let emu = emulator();
    let config = agile_bug_config();
    let t = bug_ticket("SEC-501");
    // The create is the only write to a path with `/wit/workitems/`.
    error_after_commit(&emu, "/_apis/wit/workitems/");
    let link = host()
        .create(&pat_connection(&emu), &config, &t)
        .expect("the create is established, not failed");
    emu.set_faults(Faults::default());

    assert_eq!(
        ids_with_tag(&emu, seed::PROJECT, "secops:SEC-501"),
        vec![i64::from(link.work_item_id)],
        "one work item, and the link is to it"
    );
    assert_eq!(relations(&emu, link.work_item_id, "Hyperlink").len(), 1);
    assert_eq!(relations(&emu, link.work_item_id, "AttachedFile").len(), 1);
    // The adopted link knows its findings file: the next sync uploads nothing.
    let requests = emu.request_count();
    host()
        .push(&pat_connection(&emu), &config, &link, &t, &t)
        .unwrap();
    assert_eq!(emu.request_count(), requests, "nothing to send");
}

#[test]
fn a_comment_answered_with_a_gateway_error_after_the_commit_is_posted_once() {
    let emu = emulator();
    let config = agile_bug_config();
    let before = bug_ticket("SEC-502");
    let link = host()
        .create(&pat_connection(&emu), &config, &before)
        .unwrap();
    let mut after = before.clone();
    after.comments = vec![comment("C-1", "Alice Analyst", "Patch today.")];

    error_after_commit(&emu, "/comments");
    let out = host()
        .push(&pat_connection(&emu), &config, &link, &before, &after)
        .expect("the comment is found, not posted again");
    emu.set_faults(Faults::default());

    assert_eq!(out.comments_posted, 1);
    let comments = comments_of(&emu, seed::PROJECT, link.work_item_id);
    assert_eq!(comments.len(), 1, "{comments:#?}");
    // The next push knows it: nothing is posted.
    let again = host()
        .push(&pat_connection(&emu), &config, &out.link, &after, &after)
        .unwrap();
    assert_eq!(again.comments_posted, 0);
    assert_eq!(comments_of(&emu, seed::PROJECT, link.work_item_id).len(), 1);
}

#[test]
fn a_findings_file_linked_by_a_patch_answered_with_a_gateway_error_is_linked_once() {
    let emu = emulator();
    let config = agile_bug_config();
    let before = bug_ticket("SEC-503");
    let link = host()
        .create(&pat_connection(&emu), &config, &before)
        .unwrap();
    let mut after = before.clone();
    after
        .findings
        .push(finding("F-3", "open", "CVE-2026-0003 in openssl"));

    // The upload goes through; the PATCH linking the new version is
    // committed and answered 502/503/504.
    error_after_commit(&emu, "/_apis/wit/workitems/");
    let first = host().push(&pat_connection(&emu), &config, &link, &before, &after);
    emu.set_faults(Faults::default());
    let files = relations(&emu, link.work_item_id, "AttachedFile");
    assert_eq!(
        files.len(),
        1,
        "the new version replaced the old: {files:#?}"
    );

    // Whatever the first push answered, its retry (the outbox's) with the
    // same link adopts the version by its digest.
    let out = match first {
        Ok(out) => out,
        Err(_) => host()
            .push(&pat_connection(&emu), &config, &link, &before, &after)
            .expect("the retry establishes the outcome"),
    };
    let files = relations(&emu, link.work_item_id, "AttachedFile");
    assert_eq!(files.len(), 1, "{files:#?}");
    let comment = files[0]["attributes"]["comment"].as_str().unwrap();
    assert!(comment.contains("3 findings"), "{comment}");
    // And the next sync has nothing to upload.
    let requests = emu.request_count();
    host()
        .push(&pat_connection(&emu), &config, &out.link, &after, &after)
        .unwrap();
    assert_eq!(emu.request_count(), requests);
}

#[test]
fn a_bulk_close_answered_with_a_gateway_error_after_the_commit_closes_each_item_once() {
    let emu = emulator();
    let config = agile_bug_config();
    let links: Vec<Link> = (0..3)
        .map(|i| {
            host()
                .create(
                    &pat_connection(&emu),
                    &config,
                    &bug_ticket(&format!("SEC-51{i}")),
                )
                .unwrap()
        })
        .collect();
    let items: Vec<CloseItem> = links
        .iter()
        .map(|link| CloseItem {
            config: config.clone(),
            link: link.clone(),
        })
        .collect();

    error_after_commit(&emu, "/_apis/wit/$batch");
    let outcomes = host()
        .bulk_close(&pat_connection(&emu), &items, "Fixed")
        .expect("bulk close runs");
    emu.set_faults(Faults::default());

    for (link, outcome) in links.iter().zip(&outcomes) {
        assert!(
            matches!(outcome, CloseOutcome::Closed(_)),
            "{outcome:?}: the states were read back"
        );
        let updates = ado(
            &emu,
            "GET",
            &format!(
                "_apis/wit/workitems/{}/updates?api-version=7.1",
                link.work_item_id
            ),
            "application/json",
            None,
        );
        let closes = updates["value"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|u| u.pointer("/fields/System.State/newValue") == Some(&json!("Closed")))
            .count();
        assert_eq!(closes, 1, "closed once, one history entry: {updates:#}");
    }
}
