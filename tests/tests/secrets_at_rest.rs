//! Secrets at rest: the state database (webhook passwords, tickets) and its
//! `-wal`/`-shm` files are readable by their owner only, and the inbox keeps
//! no credential a delivery carried.

use crate::common;

use ticketing_host::state::db::Db;

#[cfg(unix)]
#[test]
fn the_state_database_and_its_wal_and_shm_are_private_to_their_owner() {
    use std::os::unix::fs::PermissionsExt as _;
    let dir = common::fresh_dir("private-db");
    let path = dir.join("state.db");
    let db = Db::open(&path).unwrap();
    // A write, with the connection open: the WAL and its index exist now.
    db.inbox_insert("o.json", "e-1", "workitem.updated", 1, &[], b"{}")
        .unwrap();
    for suffix in ["", "-wal", "-shm"] {
        let file = dir.join(format!("state.db{suffix}"));
        let mode = std::fs::metadata(&file)
            .unwrap_or_else(|e| panic!("{}: {e}", file.display()))
            .permissions()
            .mode();
        assert_eq!(mode & 0o777, 0o600, "{}: {mode:o}", file.display());
    }
    drop(db);

    // A database others could read (made before this rule) is made private.
    std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o644)).unwrap();
    let _db = Db::open(&path).unwrap();
    let mode = std::fs::metadata(&path).unwrap().permissions().mode();
    assert_eq!(mode & 0o777, 0o600, "{mode:o}");
}

#[test]
fn an_inbox_row_keeps_no_credential_header() {
    let dir = common::fresh_dir("inbox-headers");
    let db = Db::open(&dir.join("state.db")).unwrap();
    let headers: Vec<(String, String)> = [
        ("authorization", "Basic YWRvLWhvb2s6c2VjcmV0"),
        ("Proxy-Authorization", "Basic eDp5"),
        ("cookie", "session=abc"),
        ("x-connector-secret", "s3cret"),
        ("x-api-key", "k"),
        ("content-type", "application/json; charset=utf-8"),
        ("user-agent", "VSServices/16.255"),
    ]
    .map(|(n, v)| (n.to_string(), v.to_string()))
    .to_vec();
    db.inbox_insert("o.json", "e-1", "workitem.updated", 1, &headers, b"{}")
        .unwrap();
    let rows = db.inbox().unwrap();
    let kept: Vec<&str> = rows[0].headers.iter().map(|(n, _)| n.as_str()).collect();
    assert_eq!(kept, ["content-type", "user-agent"]);
}

#[test]
fn serve_options_holding_a_connection_print_no_secret_in_debug() {
    use ticketing_host::server::serve::ServeOptions;
    use ticketing_runtime::{ClientCredentials, Connection, Credentials};
    let secret = "s3cret-in-debug-0123456789";
    for credentials in [
        Credentials::Pat(secret.into()),
        Credentials::ClientCredentials(ClientCredentials {
            tenant_id: "t".into(),
            client_id: "c".into(),
            client_secret: secret.into(),
            authority: None,
        }),
    ] {
        let options = ServeOptions {
            outbox: Some((
                Connection {
                    base_url: "https://dev.azure.com/contoso".into(),
                    project: "p".into(),
                    credentials,
                },
                Default::default(),
            )),
            ..ServeOptions::new("127.0.0.1:0".parse().unwrap(), "state.db")
        };
        let shown = format!("{options:?}");
        assert!(!shown.contains(secret), "{shown}");
        assert!(shown.contains("dev.azure.com/contoso"), "{shown}");
    }
}

/// A job run to the end: queued, claimed and settled `Done`.
fn finished_job(db: &Db, key: &str) -> i64 {
    use ticketing_host::state::db::JobState;
    let id = db.enqueue_job("sync", "SEC-1", key, "{}").unwrap();
    db.claim_job(id, "test-holder", 60_000).unwrap().unwrap();
    assert!(
        db.settle_job(id, "test-holder", JobState::Done, None, None)
            .unwrap()
    );
    id
}

#[test]
fn prune_deletes_delivered_rows_and_finished_jobs_past_the_retention_only() {
    use std::time::Duration;
    use ticketing_host::state::db::retention::{DEFAULT_RETENTION, Pruned};
    let dir = common::fresh_dir("prune");
    let db = Db::open(&dir.join("state.db")).unwrap();
    let delivered = db
        .inbox_insert("o.json", "e-1", "workitem.updated", 1, &[], b"{}")
        .unwrap();
    db.inbox_finish(delivered, "applied").unwrap();
    db.inbox_insert("o.json", "e-2", "workitem.updated", 1, &[], b"{}")
        .unwrap();
    finished_job(&db, "k-1");
    let open = db.enqueue_job("sync", "SEC-2", "k-2", "{}").unwrap();
    // Younger than the default 7 days: kept.
    assert_eq!(db.prune(DEFAULT_RETENTION).unwrap(), Pruned::default());
    std::thread::sleep(Duration::from_millis(1100));
    // Past a retention of zero: the delivered row and the finished job go,
    // the pending row and the open job stay.
    assert_eq!(
        db.prune(Duration::ZERO).unwrap(),
        Pruned {
            inbox_rows: 1,
            jobs: 1
        }
    );
    let left: Vec<String> = db
        .inbox()
        .unwrap()
        .into_iter()
        .map(|r| r.event_id)
        .collect();
    assert_eq!(left, ["e-2"]);
    assert!(db.claim_job(open, "test-holder", 60_000).unwrap().is_some());
}

#[test]
fn with_pruning_the_database_size_stays_bounded_under_a_steady_load() {
    use std::time::Duration;
    // Each round: 300 deliveries (8 KiB each) accepted and applied, and 100
    // jobs finished; then, in one database only, a prune. Round after
    // round the pruned database reuses its freed pages.
    let size = |dir: &std::path::Path| -> u64 {
        ["state.db", "state.db-wal"]
            .iter()
            .filter_map(|f| std::fs::metadata(dir.join(f)).ok())
            .map(|m| m.len())
            .sum()
    };
    let body = vec![b'x'; 8 << 10];
    let mut sizes = Vec::new();
    for prune in [true, false] {
        let dir = common::fresh_dir("bounded");
        let db = Db::open(&dir.join("state.db")).unwrap();
        let mut per_round = Vec::new();
        for round in 0..6 {
            for i in 0..300 {
                let id = db
                    .inbox_insert(
                        "o.json",
                        &format!("e-{round}-{i}"),
                        "workitem.updated",
                        1,
                        &[],
                        &body,
                    )
                    .unwrap();
                db.inbox_finish(id, "applied").unwrap();
            }
            for i in 0..100 {
                finished_job(&db, &format!("k-{round}-{i}"));
            }
            std::thread::sleep(Duration::from_millis(1100));
            if prune {
                db.prune(Duration::ZERO).unwrap();
            }
            per_round.push(size(&dir));
        }
        sizes.push(per_round);
    }
    let (pruned, unpruned) = (&sizes[0], &sizes[1]);
    eprintln!("bytes per round, pruned: {pruned:?}; not pruned: {unpruned:?}");
    // Once the WAL has reached its steady size, the pruned one stays put.
    assert!(
        pruned[5] <= pruned[2] + pruned[2] / 4,
        "the pruned database kept growing: {pruned:?}"
    );
    assert!(
        unpruned[5] > 2 * pruned[5] && unpruned[5] > unpruned[2] + unpruned[2] / 2,
        "the control did not grow: {unpruned:?}"
    );
}
