//! What each lifecycle step costs the state database, in commits: each is a
//! write of the WAL under the database's single write lock, which the
//! workers of `dispatch --jobs`, the webhook worker and commands share. The
//! real plugin against the emulator, counted on the lifecycle's own
//! connection (`Db::commits`, SQLite's commit hook).

use ado_emulator::{Emulator, EmulatorConfig, seed};
use ticketing_host::platform::lifecycle::Lifecycle;
use ticketing_host::state::db::{Db, JobState};
use ticketing_host::state::ticket_file;
use ticketing_runtime::{Connection, Credentials, Host, Limits};

struct Setup {
    _emu: Emulator,
    host: Host,
    db: Db,
    conn: Connection,
    state: std::path::PathBuf,
}

impl Drop for Setup {
    fn drop(&mut self) {
        for suffix in ["", "-wal", "-shm"] {
            let _ = std::fs::remove_file(format!("{}{suffix}", self.state.display()));
        }
    }
}

/// `name`: the test's, so that tests running at once have their own state.
fn setup(name: &str) -> Setup {
    let emu = Emulator::start(EmulatorConfig::default()).expect("the emulator starts");
    let host = Host::load_with(
        ticketing_tests::plugin_wasm(),
        Limits::default(),
        &ticketing_tests::host_options(),
    )
    .expect("the plugin loads");
    let state = std::env::temp_dir().join(format!(
        "ticketing-commits-{}-{name}.db",
        std::process::id()
    ));
    let db = Db::open(&state).unwrap();
    let conn = Connection {
        base_url: emu.org_url(),
        project: seed::PROJECT.into(),
        credentials: Credentials::Pat(seed::PAT.into()),
    };
    Setup {
        _emu: emu,
        host,
        db,
        conn,
        state,
    }
}

/// Commits `f` made on the lifecycle's connection.
fn commits<T>(db: &Db, f: impl FnOnce() -> T) -> (u64, T) {
    let before = db.commits();
    let out = f();
    (db.commits() - before, out)
}

#[test]
fn a_dispatch_commits_three_times_and_a_sync_or_close_three_times() {
    let s = setup("three");
    let root = ticketing_tests::workspace_root();
    let ticket = ticket_file::load(&root.join("examples/tickets/SEC-101.json")).unwrap();
    s.db.put_ticket(&ticket).unwrap();
    let lc = Lifecycle::new(&s.host, &s.db, &s.conn);
    let config = root.join("examples/outegrations/agile-bug.json");

    // The job; the lease with the attempt; the link with the lease's
    // release and the job settled.
    let (n, dispatched) = commits(&s.db, || lc.dispatch("SEC-101", &config));
    let link = dispatched.expect("dispatched").link().clone();
    assert_eq!(n, 3, "commits of a dispatch");
    assert_eq!(
        s.db.attempt("SEC-101").unwrap(),
        None,
        "the attempt is gone"
    );
    assert!(!s.db.leased("SEC-101").unwrap(), "the lease is released");
    let jobs = s.db.jobs(&[]).unwrap();
    assert_eq!(jobs.len(), 1, "{jobs:?}");
    assert_eq!(jobs[0].state, JobState::Done);
    assert_eq!(
        s.db.link("SEC-101").unwrap().unwrap().link.work_item_id,
        link.work_item_id
    );

    let mut renamed = ticket.clone();
    renamed.fields.retain(|f| f.name != "title");
    renamed.fields.push(ticketing_runtime::Field {
        name: "title".into(),
        value: ticketing_runtime::FieldValue::Text("Renamed".into()),
    });
    s.db.put_ticket(&renamed).unwrap();
    let (n, pushed) = commits(&s.db, || lc.sync("SEC-101"));
    pushed.expect("synced");
    assert_eq!(n, 3, "commits of a sync");

    let (n, closed) = commits(&s.db, || lc.close("SEC-101", "fixed"));
    closed.expect("closed");
    assert_eq!(n, 3, "commits of a close");
    assert!(!s.db.leased("SEC-101").unwrap());
    let jobs = s.db.jobs(&[]).unwrap();
    assert!(
        jobs.iter().all(|j| j.state == JobState::Done),
        "every job settled done: {jobs:?}"
    );
}

#[test]
fn a_dispatch_whose_create_fails_for_certain_leaves_no_attempt_and_no_lease() {
    let s = setup("refused");
    let root = ticketing_tests::workspace_root();
    let ticket = ticket_file::load(&root.join("examples/tickets/SEC-101.json")).unwrap();
    s.db.put_ticket(&ticket).unwrap();
    let wrong = Connection {
        project: "NoSuchProject".into(),
        ..s.conn.clone()
    };
    let lc = Lifecycle::new(&s.host, &s.db, &wrong);
    let err = lc
        .dispatch(
            "SEC-101",
            &root.join("examples/outegrations/agile-bug.json"),
        )
        .expect_err("no such project");
    assert!(format!("{err:#}").contains("NoSuchProject"), "{err:#}");
    assert_eq!(s.db.attempt("SEC-101").unwrap(), None);
    assert!(!s.db.leased("SEC-101").unwrap());
    assert_eq!(s.db.link("SEC-101").unwrap(), None);
}
