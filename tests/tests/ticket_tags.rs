//! Ticket tags through the real component against the emulator: ticket ids
//! that older versions merged into one `secops:` tag get their own work
//! items, and `adopt` takes only the ticket's own work item, also among
//! items tagged by an older version.

use crate::common;

use common::*;
use serde_json::json;
use ticketing_runtime::Ticket;

fn bug(id: &str) -> Ticket {
    ticket(
        id,
        vec![text("title", "Open redirect"), text("severity", "HIGH")],
    )
}

#[test]
fn ids_the_old_tags_merged_get_their_own_work_items_and_adopt_only_their_own() {
    let emu = emulator();
    let config = agile_bug_config();
    let conn = pat_connection(&emu);
    let underscore = host().create(&conn, &config, &bug("SEC_1")).unwrap();

    // `SEC,1` and `sec_1` once shared `secops:SEC_1` (ADO ignores case):
    // neither finds SEC_1's work item now.
    for id in ["SEC,1", "sec_1"] {
        assert!(
            host().adopt(&conn, &config, &bug(id)).unwrap().is_none(),
            "{id} must not adopt SEC_1's work item"
        );
    }
    let comma = host().create(&conn, &config, &bug("SEC,1")).unwrap();
    let lower = host().create(&conn, &config, &bug("sec_1")).unwrap();
    let mut ids = vec![
        underscore.work_item_id,
        comma.work_item_id,
        lower.work_item_id,
    ];
    ids.dedup();
    assert_eq!(ids.len(), 3, "three tickets, three work items");
    for (tag, link) in [
        ("secops:SEC_1", &underscore),
        ("secops:SEC%2C1", &comma),
        ("secops:%73%65%63_1", &lower),
    ] {
        assert_eq!(
            ids_with_tag(&emu, seed::PROJECT, tag),
            vec![i64::from(link.work_item_id)],
            "{tag}"
        );
    }
    // And each adopts its own.
    for (id, link) in [("SEC_1", &underscore), ("SEC,1", &comma), ("sec_1", &lower)] {
        let adopted = host().adopt(&conn, &config, &bug(id)).unwrap().unwrap();
        assert_eq!(adopted.work_item_id, link.work_item_id, "{id}");
    }
}

#[test]
fn a_work_item_tagged_by_an_older_version_is_adopted_only_by_the_ticket_it_links_back_to() {
    let emu = emulator();
    let config = agile_bug_config();
    let conn = pat_connection(&emu);
    // What an older version made for ticket `SEC,1`: the tag `secops:SEC_1`
    // and a hyperlink back naming the ticket.
    let made = ado(
        &emu,
        "POST",
        "Fabrikam%20Security/_apis/wit/workitems/$Bug?api-version=7.1",
        "application/json-patch+json",
        Some(json!([
            {"op": "add", "path": "/fields/System.Title", "value": "Open redirect"},
            {"op": "add", "path": "/fields/System.Tags", "value": "secops; secops:SEC_1"},
            {"op": "add", "path": "/relations/-", "value": {
                "rel": "Hyperlink",
                "url": "https://secops.example/tickets/SEC,1",
                "attributes": {"comment": "SecOps ticket SEC,1"}
            }}
        ])),
    );
    let id = made["id"].as_i64().unwrap();
    let adopted = host()
        .adopt(&conn, &config, &bug("SEC,1"))
        .unwrap()
        .expect("its own item, by the legacy tag and the link back");
    assert_eq!(i64::from(adopted.work_item_id), id);
    assert!(
        host()
            .adopt(&conn, &config, &bug("SEC_1"))
            .unwrap()
            .is_none(),
        "the same tag, but the item links back to SEC,1"
    );
}
