//! Unit tests of the state database, each on its own file in the temp dir.

use std::path::PathBuf;
use std::sync::atomic::{AtomicU32, Ordering};

use super::*;
use crate::state::ticket_file::parse as from_json;
use crate::{Link, Ticket};

/// A fresh database path, removed (with its WAL files) on drop.
struct TempDb(PathBuf);

impl TempDb {
    fn new() -> TempDb {
        static N: AtomicU32 = AtomicU32::new(0);
        let name = format!(
            "ticketing-host-db-{}-{}.db",
            std::process::id(),
            N.fetch_add(1, Ordering::Relaxed)
        );
        TempDb(std::env::temp_dir().join(name))
    }
    fn open(&self) -> Db {
        Db::open(&self.0).unwrap()
    }
}

impl Drop for TempDb {
    fn drop(&mut self) {
        for suffix in ["", "-wal", "-shm"] {
            let _ = std::fs::remove_file(format!("{}{suffix}", self.0.display()));
        }
    }
}

fn ticket(id: &str, severity: &str) -> Ticket {
    from_json(&format!(
        r#"{{"id":"{id}","url":"https://x/{id}","fields":{{"title":"t","severity":"{severity}","cvss":9.8}},
            "findings":[{{"id":"F-1","status":"open","fields":{{"asset":"web"}}}}]}}"#
    ))
    .unwrap()
}

fn link(id: &str, rev: i32) -> Link {
    Link {
        ticket_id: id.into(),
        project: "p-guid".into(),
        work_item_type: "Bug".into(),
        work_item_id: 7,
        rev,
        url: "https://ado/wi/7".into(),
        web_url: "https://ado/edit/7".into(),
        sync_state: r#"{"opaque":[1,2]}"#.into(),
    }
}

#[test]
fn a_ticket_round_trips_and_survives_reopening() {
    let tmp = TempDb::new();
    let t = ticket("S-1", "MEDIUM");
    tmp.open().put_ticket(&t).unwrap();
    let db = tmp.open();
    assert_eq!(db.ticket("S-1").unwrap(), t);
    assert_eq!(db.ticket_ids().unwrap(), ["S-1"]);
    let user_version: i64 = db
        .conn
        .pragma_query_value(None, "user_version", |r| r.get(0))
        .unwrap();
    assert_eq!(user_version, schema::VERSION);
    let mode: String = db
        .conn
        .pragma_query_value(None, "journal_mode", |r| r.get(0))
        .unwrap();
    assert_eq!(mode, "wal");
}

#[test]
fn importing_a_ticket_again_replaces_it() {
    let tmp = TempDb::new();
    let db = tmp.open();
    db.put_ticket(&ticket("S-1", "MEDIUM")).unwrap();
    db.put_ticket(&ticket("S-1", "HIGH")).unwrap();
    assert_eq!(db.ticket("S-1").unwrap(), ticket("S-1", "HIGH"));
    assert_eq!(db.ticket_ids().unwrap().len(), 1);
}

#[test]
fn an_unknown_ticket_is_named_in_the_error() {
    let tmp = TempDb::new();
    let err = tmp.open().ticket("S-404").unwrap_err();
    assert!(err.to_string().contains("`S-404`"), "{err}");
}

#[test]
fn storing_a_dispatched_link_keeps_every_field_and_its_snapshot_and_clears_the_attempt() {
    let tmp = TempDb::new();
    let db = tmp.open();
    let t = ticket("S-1", "MEDIUM");
    db.put_ticket(&t).unwrap();
    db.record_attempt("S-1", "/cfg/agile.json").unwrap();
    assert_eq!(
        db.attempt("S-1").unwrap().unwrap().outegration,
        "/cfg/agile.json"
    );
    db.store_dispatched("/cfg/agile.json", &link("S-1", 1), &t)
        .unwrap();
    assert_eq!(db.attempt("S-1").unwrap(), None);
    let stored = tmp.open().link("S-1").unwrap().unwrap();
    assert_eq!(
        stored,
        StoredLink {
            link: link("S-1", 1),
            outegration: "/cfg/agile.json".into(),
            synced: t
        }
    );
}

#[test]
fn a_failed_link_store_rolls_back_and_keeps_the_attempt() {
    let tmp = TempDb::new();
    let db = tmp.open();
    db.record_attempt("S-1", "/cfg/agile.json").unwrap();
    // Make the link insert fail inside the transaction: a trigger refuses it.
    db.conn
        .execute_batch("CREATE TRIGGER refuse BEFORE INSERT ON links BEGIN SELECT RAISE(ABORT, 'disk full'); END;")
        .unwrap();
    assert!(
        db.store_dispatched("/cfg/agile.json", &link("S-1", 1), &ticket("S-1", "LOW"))
            .is_err()
    );
    assert!(
        db.attempt("S-1").unwrap().is_some(),
        "the attempt is kept when the link is not stored"
    );
    assert_eq!(db.link("S-1").unwrap(), None);
}

#[test]
fn updating_a_link_without_a_snapshot_keeps_the_old_snapshot() {
    let tmp = TempDb::new();
    let db = tmp.open();
    let t1 = ticket("S-1", "MEDIUM");
    db.store_dispatched("/cfg/a.json", &link("S-1", 1), &t1)
        .unwrap();
    db.update_link(&link("S-1", 1), &link("S-1", 2), None)
        .unwrap();
    let stored = db.link("S-1").unwrap().unwrap();
    assert_eq!((stored.link.rev, &stored.synced), (2, &t1));
    let t2 = ticket("S-1", "CRITICAL");
    db.update_link(&link("S-1", 2), &link("S-1", 3), Some(&t2))
        .unwrap();
    let stored = db.link("S-1").unwrap().unwrap();
    assert_eq!(
        (stored.link.rev, &stored.synced, stored.outegration.as_str()),
        (3, &t2, "/cfg/a.json")
    );
    assert!(
        db.update_link(&link("S-2", 1), &link("S-2", 1), None)
            .unwrap_err()
            .to_string()
            .contains("S-2")
    );
}

#[test]
fn a_link_stored_by_someone_else_meanwhile_is_not_overwritten() {
    let tmp = TempDb::new();
    let db = tmp.open();
    let t1 = ticket("S-1", "MEDIUM");
    db.store_dispatched("/cfg/a.json", &link("S-1", 1), &t1)
        .unwrap();
    // The webhook worker stored rev 2 while a sync worked from rev 1.
    db.update_link(&link("S-1", 1), &link("S-1", 2), None)
        .unwrap();
    let err = db
        .update_link(
            &link("S-1", 1),
            &link("S-1", 3),
            Some(&ticket("S-1", "LOW")),
        )
        .unwrap_err()
        .to_string();
    assert!(err.contains("changed while"), "{err}");
    let stored = db.link("S-1").unwrap().unwrap();
    assert_eq!((stored.link.rev, &stored.synced), (2, &t1));
}

#[test]
fn a_lease_excludes_other_holders_until_released() {
    let tmp = TempDb::new();
    let (a, b) = (tmp.open(), tmp.open());
    let held = a.try_lease(&["S-1", "S-2"]).unwrap().expect("free");
    assert!(b.try_lease(&["S-2"]).unwrap().is_none());
    assert!(b.try_lease(&["S-3", "S-1"]).unwrap().is_none());
    // All or nothing: the failed attempt above did not keep S-3.
    assert!(!b.leased("S-3").unwrap());
    assert!(b.leased("S-1").unwrap());
    drop(held);
    assert!(!b.leased("S-1").unwrap());
    let _again = b.try_lease(&["S-1"]).unwrap().expect("released");
}

#[test]
fn an_expired_lease_of_a_crashed_holder_is_taken_over() {
    let tmp = TempDb::new();
    let db = tmp.open();
    db.conn
        .execute(
            "INSERT INTO leases (ticket_id, holder, expires_at) VALUES ('S-1', 'crashed', 0)",
            [],
        )
        .unwrap();
    assert!(!db.leased("S-1").unwrap());
    let _l = db
        .try_lease(&["S-1"])
        .unwrap()
        .expect("expired lease taken over");
}

#[test]
fn a_definite_failure_clears_the_attempt() {
    let tmp = TempDb::new();
    let db = tmp.open();
    db.record_attempt("S-1", "/cfg/a.json").unwrap();
    db.clear_attempt("S-1").unwrap();
    assert_eq!(db.attempt("S-1").unwrap(), None);
}

#[test]
fn a_refused_patch_keeps_the_stored_ticket() {
    let tmp = TempDb::new();
    let db = tmp.open();
    let t = ticket("S-1", "MEDIUM");
    db.put_ticket(&t).unwrap();
    let err = db
        .update_ticket("S-1", |t| {
            crate::state::ticket_edit::patch(
                t,
                r#"[{"op":"replace","path":"/fields/severity","value":{"bad":true}}]"#,
            )
        })
        .unwrap_err();
    assert!(format!("{err:#}").contains("S-1"), "{err:#}");
    let err = db
        .update_ticket("S-1", |t| {
            crate::state::ticket_edit::patch(t, r#"[{"op":"replace","path":"/id","value":"S-2"}]"#)
        })
        .unwrap_err();
    assert!(format!("{err:#}").contains("rename"), "{err:#}");
    assert_eq!(db.ticket("S-1").unwrap(), t);
    let changed = db
        .update_ticket("S-1", |t| {
            crate::state::ticket_edit::patch(
                t,
                r#"[{"op":"replace","path":"/fields/severity","value":"CRITICAL"}]"#,
            )
        })
        .unwrap();
    assert_eq!(db.ticket("S-1").unwrap(), changed);
}

#[test]
fn a_malformed_stored_link_names_the_ticket_and_column() {
    let tmp = TempDb::new();
    let db = tmp.open();
    db.store_dispatched("/cfg/a.json", &link("S-1", 1), &ticket("S-1", "LOW"))
        .unwrap();
    db.conn
        .execute(
            "UPDATE links SET link_json = '{\"rev\":1}' WHERE ticket_id = 'S-1'",
            [],
        )
        .unwrap();
    let err = db.link("S-1").unwrap_err();
    assert!(
        format!("{err:#}").contains("ticket S-1") && format!("{err:#}").contains("link_json"),
        "{err:#}"
    );
}

#[test]
fn a_database_from_a_newer_host_is_refused() {
    let tmp = TempDb::new();
    tmp.open()
        .conn
        .pragma_update(None, "user_version", schema::VERSION + 1)
        .unwrap();
    let err = Db::open(&tmp.0).unwrap_err();
    assert!(format!("{err:#}").contains("newer"), "{err:#}");
}

#[test]
fn a_version_1_database_is_migrated_to_the_current_version_keeping_its_links() {
    let tmp = TempDb::new();
    {
        let conn = rusqlite::Connection::open(&tmp.0).unwrap();
        conn.execute_batch(&schema_v1_for_tests()).unwrap();
        conn.pragma_update(None, "user_version", 1).unwrap();
        conn.execute(
            "INSERT INTO links (ticket_id, outegration, work_item_id, project, link_json, synced_ticket_json) VALUES ('S-1', 'o.json', 7, 'p', ?1, ?2)",
            [links::link_to_json(&link("S-1", 3)), crate::state::ticket_file::to_json(&ticket("S-1", "LOW"))],
        )
        .unwrap();
    }
    let db = tmp.open();
    let v: i64 = db
        .conn
        .pragma_query_value(None, "user_version", |r| r.get(0))
        .unwrap();
    assert_eq!(v, schema::VERSION);
    assert_eq!(db.link("S-1").unwrap().unwrap().link.rev, 3);
    assert!(!db.leased("S-1").unwrap());
    assert!(!db.link_deleted("S-1").unwrap());
    assert!(db.inbox().unwrap().is_empty());
}

fn schema_v1_for_tests() -> String {
    "CREATE TABLE tickets (id TEXT PRIMARY KEY, json TEXT NOT NULL, updated_at TEXT);
     CREATE TABLE links (ticket_id TEXT PRIMARY KEY, outegration TEXT NOT NULL, work_item_id INTEGER, project TEXT,
         link_json TEXT NOT NULL, synced_ticket_json TEXT NOT NULL, updated_at TEXT);
     CREATE TABLE dispatch_attempts (ticket_id TEXT PRIMARY KEY, outegration TEXT, started_at TEXT);"
        .into()
}

#[test]
fn an_inbox_row_is_applied_once_with_the_ticket_the_snapshot_and_the_link() {
    let tmp = TempDb::new();
    let db = tmp.open();
    db.put_ticket(&ticket("S-1", "LOW")).unwrap();
    db.store_dispatched("o.json", &link("S-1", 1), &ticket("S-1", "LOW"))
        .unwrap();
    let row = db
        .inbox_insert(
            "o.json",
            "ev-1",
            "workitem.updated",
            7,
            &[("content-type".into(), "application/json".into())],
            b"{}",
        )
        .unwrap();
    assert_eq!(db.inbox_pending().unwrap().len(), 1);
    let update = crate::TicketUpdate {
        link: link("S-1", 2),
        fields: vec![crate::Field {
            name: "status".into(),
            value: crate::FieldValue::Text("IN_PROGRESS".into()),
        }],
        comments: vec![crate::Comment {
            id: "ado-1".into(),
            author: "Ann".into(),
            created: "2026-01-01T00:00:00Z".into(),
            text: "hi".into(),
        }],
        deleted: Some(true),
    };
    let apply = |before: Link| {
        let rows = vec![(row, "applied".to_string(), Some(update.clone()))];
        db.inbox_apply_handled(&[(before, rows)], &[], Vec::new())
            .unwrap()
    };
    // Computed from a link that is no longer the stored one: nothing written.
    assert_eq!(apply(link("S-1", 0)), [false]);
    assert_eq!(db.inbox_pending().unwrap().len(), 1);
    assert_eq!(apply(link("S-1", 1)), [true]);
    // Done rows are left alone: nothing of the ticket is written again
    // (one comment and rev 2 below, not two comments).
    assert_eq!(apply(link("S-1", 2)), [false], "done rows are left alone");
    let t = db.ticket("S-1").unwrap();
    assert_eq!(t.comments.len(), 1);
    assert!(t.fields.iter().any(|f| f.name == "status"));
    let stored = db.link("S-1").unwrap().unwrap();
    assert_eq!(stored.link.rev, 2);
    assert!(
        stored.synced.fields.iter().any(|f| f.name == "status"),
        "the snapshot follows, so the next push sends nothing back"
    );
    assert!(db.link_deleted("S-1").unwrap());
    assert!(db.inbox_pending().unwrap().is_empty());
    assert_eq!(db.inbox().unwrap()[0].result.as_deref(), Some("applied"));
}

#[test]
fn webhook_credentials_are_generated_once_and_never_debug_printed() {
    let tmp = TempDb::new();
    let db = tmp.open();
    let a = db
        .hook_credentials("/x/agile-bug.json", "agile-bug")
        .unwrap();
    let b = db.hook_credentials("/x/agile-bug.json", "other").unwrap();
    assert_eq!(a, b);
    assert!(a.password.len() >= 32);
    assert!(!format!("{a:?}").contains(&a.password));
    assert!(
        db.hook_credentials("/y/agile-bug.json", "agile-bug")
            .is_err(),
        "one endpoint name per outegration"
    );
    assert_eq!(db.outegrations().unwrap(), ["/x/agile-bug.json"]);
}

#[test]
fn commits_skip_the_fsync_except_the_dispatch_attempt_and_a_synced_connection() {
    let tmp = TempDb::new();
    let db = tmp.open();
    let mode = |db: &Db| -> i64 {
        db.conn
            .pragma_query_value(None, "synchronous", |r| r.get(0))
            .unwrap()
    };
    assert_eq!(mode(&db), 1, "NORMAL");
    db.record_attempt("T-1", "o.json").unwrap();
    assert_eq!(mode(&db), 1, "back to NORMAL after the attempt");
    assert!(db.attempt("T-1").unwrap().is_some());
    db.sync_every_commit().unwrap();
    assert_eq!(mode(&db), 2, "FULL");
}

#[test]
fn a_dispatch_lease_records_the_attempt_only_when_there_is_neither_link_nor_attempt() {
    let tmp = TempDb::new();
    let (db, other) = (tmp.open(), tmp.open());
    let (lease, start) = db.lease_for_dispatch("S-1", "/cfg/a.json").unwrap();
    assert_eq!(start, DispatchStart::Recorded);
    assert_eq!(
        db.attempt("S-1").unwrap().unwrap().outegration,
        "/cfg/a.json"
    );
    assert!(other.try_lease(&["S-1"]).unwrap().is_none(), "leased");
    drop(lease);
    // The attempt outlives the lease: the next dispatch must adopt first.
    let (lease, start) = db.lease_for_dispatch("S-1", "/cfg/a.json").unwrap();
    assert_eq!(start, DispatchStart::Unfinished);
    db.finish_step(lease, None, |f| {
        f.store_dispatched("/cfg/a.json", &link("S-1", 1), &ticket("S-1", "LOW"))
    })
    .unwrap();
    assert_eq!(db.attempt("S-1").unwrap(), None, "stored with the link");
    assert!(!other.leased("S-1").unwrap(), "released with the link");
    let (_lease, start) = db.lease_for_dispatch("S-1", "/cfg/a.json").unwrap();
    assert_eq!(start, DispatchStart::Linked(7));
    assert_eq!(db.attempt("S-1").unwrap(), None, "nothing recorded");
}

#[test]
fn a_step_whose_last_write_fails_stores_nothing_settles_nothing_and_still_releases_its_lease() {
    let tmp = TempDb::new();
    let (db, other) = (tmp.open(), tmp.open());
    db.store_dispatched("/cfg/a.json", &link("S-1", 1), &ticket("S-1", "LOW"))
        .unwrap();
    let holder = new_holder();
    let job = db
        .enqueue_claimed("sync", "S-1", "sync:S-1", "{}", &holder, 60_000)
        .unwrap()
        .expect("claimed");
    let claim = JobClaim::new(job.id, &holder);
    let lease = db.lease(&["S-1"]).unwrap();
    // The stored link is rev 1, not 5: someone stored another meanwhile.
    let err = db
        .finish_step(lease, Some(&claim), |f| {
            f.update_link(&link("S-1", 5), &link("S-1", 6), None)
        })
        .unwrap_err();
    assert!(
        format!("{err:#}").contains("changed while the plugin worked"),
        "{err:#}"
    );
    assert!(!claim.settled());
    assert_eq!(db.job(job.id).unwrap().unwrap().state, JobState::Running);
    assert_eq!(db.link("S-1").unwrap().unwrap().link.rev, 1);
    assert!(!other.leased("S-1").unwrap(), "released on drop");

    let lease = db.lease(&["S-1"]).unwrap();
    db.finish_step(lease, Some(&claim), |f| {
        f.update_link(&link("S-1", 1), &link("S-1", 2), None)
    })
    .unwrap();
    assert!(claim.settled());
    assert_eq!(db.job(job.id).unwrap().unwrap().state, JobState::Done);
    assert_eq!(db.link("S-1").unwrap().unwrap().link.rev, 2);
    assert!(!other.leased("S-1").unwrap());
}

#[test]
fn taking_a_dispatch_lease_keeps_a_connection_that_syncs_every_commit_syncing() {
    let tmp = TempDb::new();
    let db = tmp.open();
    db.sync_every_commit().unwrap();
    let mode = |db: &Db| -> i64 {
        db.conn
            .pragma_query_value(None, "synchronous", |r| r.get(0))
            .unwrap()
    };
    assert_eq!(mode(&db), 2, "FULL");
    let (_lease, _) = db.lease_for_dispatch("S-1", "/cfg/a.json").unwrap();
    assert_eq!(mode(&db), 2, "still FULL");
    let plain = tmp.open();
    let (_lease, _) = plain.lease_for_dispatch("S-2", "/cfg/a.json").unwrap();
    assert_eq!(mode(&plain), 1, "back to NORMAL");
}
