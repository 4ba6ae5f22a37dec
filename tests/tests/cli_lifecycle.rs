//! The lifecycle commands of the CLI (`ticket`, `dispatch`, `sync`, `close`,
//! `links`) end to end: the real plugin, a state database in a temp dir, and
//! an in-process emulator, driven through `cli::run_with` as the binary does.

use crate::common;

use common::cli_env::{Env, example};
use common::seed;
use ticketing_host::state::ticket_file;
use ticketing_runtime::FieldValue;

fn field<'a>(t: &'a ticketing_runtime::Ticket, name: &str) -> Option<&'a FieldValue> {
    t.fields.iter().find(|f| f.name == name).map(|f| &f.value)
}

#[test]
fn import_dispatch_set_sync_and_links_shows_the_new_rev() {
    let env = Env::new();
    env.ok(&["ticket", "import", &example("tickets/SEC-102.json")]);
    let out = env.ok(&[
        "dispatch",
        "--outegration",
        &example("outegrations/agile-bug.json"),
        "SEC-102",
    ]);
    assert!(out.contains("SEC-102 -> work item"), "{out}");
    let first = env.db().link("SEC-102").unwrap().expect("a stored link");
    assert_eq!(
        env.db().attempt("SEC-102").unwrap(),
        None,
        "the attempt is gone once the link is stored"
    );
    assert!(env.ok(&["links"]).contains(&format!(
        "{:>9} {:>5}",
        first.link.work_item_id, first.link.rev
    )));

    env.ok(&["ticket", "set", "SEC-102", "severity=CRITICAL"]);
    let out = env.ok(&["sync", "SEC-102"]);
    assert!(out.contains("trigger comment(s) posted"), "{out}");
    let after = env.db().link("SEC-102").unwrap().unwrap();
    assert!(
        after.link.rev > first.link.rev,
        "rev {} after sync, {} before",
        after.link.rev,
        first.link.rev
    );
    assert_eq!(
        field(&after.synced, "severity"),
        Some(&FieldValue::Text("CRITICAL".into())),
        "the snapshot is the ticket as synced"
    );
    let links = env.ok(&["links"]);
    assert!(
        links.contains(&format!(
            "{:>9} {:>5}",
            after.link.work_item_id, after.link.rev
        )),
        "{links}"
    );
    let item = env.emu.work_item(after.link.work_item_id).unwrap();
    assert_eq!(
        item["fields"]["Microsoft.VSTS.Common.Priority"], 1,
        "CRITICAL maps to priority 1"
    );
}

#[test]
fn dispatch_refuses_a_ticket_that_already_has_a_link() {
    let env = Env::new();
    env.ok(&[
        "dispatch",
        "--outegration",
        &example("outegrations/agile-bug.json"),
        &example("tickets/SEC-101.json"),
    ]);
    let id = env.db().link("SEC-101").unwrap().unwrap().link.work_item_id;
    let (ok, out) = env.run(&[
        "dispatch",
        "--outegration",
        &example("outegrations/agile-bug.json"),
        "SEC-101",
    ]);
    assert!(!ok);
    assert!(
        out.contains(&format!("already dispatched as work item {id}; use `sync`")),
        "{out}"
    );
    assert_eq!(
        env.db().link("SEC-101").unwrap().unwrap().link.work_item_id,
        id
    );
    assert!(
        env.emu.work_item(id + 1).is_none(),
        "no second work item was created"
    );
}

#[test]
fn a_refused_dispatch_stores_no_link_and_no_attempt() {
    let env = Env::new();
    let (ok, out) = env.run(&[
        "dispatch",
        "--outegration",
        &example("outegrations/agile-bug.json"),
        &example("tickets/SEC-103.json"),
    ]);
    assert!(!ok, "{out}");
    assert!(
        out.contains("severity"),
        "the refusal names the missing field: {out}"
    );
    let db = env.db();
    assert!(
        db.find_ticket("SEC-103").unwrap().is_some(),
        "the ticket file was imported"
    );
    assert_eq!(db.link("SEC-103").unwrap(), None);
    assert_eq!(
        db.attempt("SEC-103").unwrap(),
        None,
        "a validation failure is definite"
    );
}

#[test]
fn an_interrupted_dispatch_is_adopted_instead_of_created_twice() {
    let env = Env::new();
    env.ok(&["ticket", "import", &example("tickets/SEC-101.json")]);
    let config_path = example("outegrations/agile-bug.json");
    let config = std::fs::read_to_string(&config_path).unwrap();
    // The work item is created, but the host never stored the link.
    let ticket = env.db().ticket("SEC-101").unwrap();
    env.db().record_attempt("SEC-101", &config_path).unwrap();
    let lost = common::host()
        .create(&common::pat_connection(&env.emu), &config, &ticket)
        .expect("created");
    let out = env.ok(&["dispatch", "--outegration", &config_path, "SEC-101"]);
    assert!(out.contains("adopted"), "{out}");
    let stored = env.db().link("SEC-101").unwrap().unwrap();
    assert_eq!(stored.link.work_item_id, lost.work_item_id);
    assert_eq!(env.db().attempt("SEC-101").unwrap(), None);
}

#[test]
fn an_uncertain_dispatch_failure_keeps_the_attempt_and_the_retry_creates_one_work_item() {
    let env = Env::new();
    let config = example("outegrations/agile-bug.json");
    env.ok(&["ticket", "import", &example("tickets/SEC-101.json")]);
    // Nothing listens there: a transport failure, which may have reached ADO.
    let unused = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let url = format!(
        "http://{}/{}",
        unused.local_addr().unwrap(),
        seed::ORGANIZATION
    );
    drop(unused);
    env.point_at(&url);
    let (ok, out) = env.run(&[
        "--max-attempts",
        "1",
        "dispatch",
        "--outegration",
        &config,
        "SEC-101",
    ]);
    assert!(!ok, "{out}");
    assert!(
        env.db().attempt("SEC-101").unwrap().is_some(),
        "an uncertain failure keeps the attempt: {out}"
    );
    assert_eq!(env.db().link("SEC-101").unwrap(), None);

    env.point_at(&env.emu.org_url());
    let out = env.ok(&["dispatch", "--outegration", &config, "SEC-101"]);
    assert!(
        out.contains("created"),
        "nothing to adopt, so it is created: {out}"
    );
    assert_eq!(env.db().attempt("SEC-101").unwrap(), None);
    let id = env.db().link("SEC-101").unwrap().unwrap().link.work_item_id;
    assert!(env.emu.work_item(id + 1).is_none(), "one work item");
}

#[test]
fn a_patch_that_breaks_the_ticket_is_refused_and_the_ticket_kept() {
    let env = Env::new();
    env.ok(&["ticket", "import", &example("tickets/SEC-102.json")]);
    let before = env.db().ticket("SEC-102").unwrap();
    let bad = env.write(
        "bad.json",
        r#"[{"op":"replace","path":"/fields/severity","value":{"level":"CRITICAL"}}]"#,
    );
    let (ok, out) = env.run(&["ticket", "patch", "SEC-102", &bad]);
    assert!(!ok && out.contains("SEC-102"), "{out}");
    assert_eq!(env.db().ticket("SEC-102").unwrap(), before);
    let good = env.write(
        "good.json",
        r#"[{"op":"replace","path":"/fields/severity","value":"CRITICAL"}]"#,
    );
    env.ok(&["ticket", "patch", "SEC-102", &good]);
    let shown = env.ok(&["ticket", "show", "SEC-102"]);
    assert!(shown.contains(r#""severity": "CRITICAL""#), "{shown}");
    assert!(
        shown.find("\"title\"").unwrap() < shown.find("\"severity\"").unwrap(),
        "field order is kept: {shown}"
    );
}

#[test]
fn ticket_comment_and_finding_change_the_stored_ticket() {
    let env = Env::new();
    env.ok(&["ticket", "import", &example("tickets/SEC-102.json")]);
    assert!(
        env.ok(&[
            "ticket",
            "comment",
            "SEC-102",
            "--author",
            "Ann",
            "patched web-01"
        ])
        .contains("comment C-1 added")
    );
    env.ok(&[
        "ticket", "finding", "SEC-102", "F-9101", "--status", "fixed",
    ]);
    let (ok, out) = env.run(&[
        "ticket", "finding", "SEC-102", "F-0000", "--status", "fixed",
    ]);
    assert!(!ok && out.contains("`F-0000`"), "{out}");
    let t = env.db().ticket("SEC-102").unwrap();
    assert_eq!(
        (t.comments[0].author.as_str(), t.comments[0].text.as_str()),
        ("Ann", "patched web-01")
    );
    assert_eq!(t.findings[0].status, "fixed");
    assert!(env.ok(&["ticket", "list"]).contains("SEC-102"));
}

#[test]
fn sync_of_a_ticket_without_a_link_fails_naming_it() {
    let env = Env::new();
    env.ok(&["ticket", "import", &example("tickets/SEC-102.json")]);
    let (ok, out) = env.run(&["sync", "SEC-102"]);
    assert!(
        !ok && out.contains("SEC-102") && out.contains("dispatch it first"),
        "{out}"
    );
    let (ok, out) = env.run(&["sync", "SEC-999"]);
    assert!(!ok && out.contains("SEC-999"), "{out}");
}

#[test]
fn bulk_close_reports_each_ticket_then_already_closed() {
    let env = Env::new();
    let config = example("outegrations/agile-bug.json");
    env.ok(&[
        "dispatch",
        "--outegration",
        &config,
        &example("tickets/SEC-101.json"),
        &example("tickets/SEC-102.json"),
    ]);
    let out = env.ok(&["close", "--bulk", "--all", "--reason", "remediated"]);
    assert_eq!(
        out.lines().filter(|l| l.contains(": closed ")).count(),
        2,
        "{out}"
    );
    for id in ["SEC-101", "SEC-102"] {
        let link = env.db().link(id).unwrap().unwrap().link;
        let item = env.emu.work_item(link.work_item_id).unwrap();
        assert_eq!(item["fields"]["System.State"], "Closed", "{id}");
        assert_eq!(
            item["rev"], link.rev,
            "the stored link of {id} has the work item's rev"
        );
    }
    let out = env.ok(&["close", "--bulk", "SEC-101", "SEC-102"]);
    assert_eq!(
        out.lines().filter(|l| l.contains("already closed")).count(),
        2,
        "{out}"
    );
}

#[test]
fn bulk_close_fails_only_the_ticket_without_a_link() {
    let env = Env::new();
    env.ok(&["ticket", "import", &example("tickets/SEC-103.json")]);
    env.ok(&[
        "dispatch",
        "--outegration",
        &example("outegrations/agile-bug.json"),
        &example("tickets/SEC-101.json"),
    ]);
    let (ok, out) = env.run(&["close", "--bulk", "SEC-103", "SEC-101"]);
    assert!(!ok, "{out}");
    let lines: Vec<&str> = out.lines().collect();
    assert!(
        lines[0].starts_with("SEC-103 -> failed") && lines[0].contains("dispatch it first"),
        "{out}"
    );
    assert!(
        lines[1].starts_with("SEC-101 -> work item") && lines[1].contains(": closed "),
        "{out}"
    );
    assert!(out.contains("1 of 2 ticket(s) were not closed"), "{out}");
}

#[test]
fn close_then_reopen_moves_the_work_item_and_stores_its_rev() {
    let env = Env::new();
    env.ok(&[
        "dispatch",
        "--outegration",
        &example("outegrations/agile-bug.json"),
        &example("tickets/SEC-101.json"),
    ]);
    let out = env.ok(&["close", "SEC-101", "--reason", "risk accepted"]);
    assert!(
        out.contains("SEC-101 -> work item")
            && out.contains(": closed ")
            && out.contains("-> Closed"),
        "{out}"
    );
    let link = env.db().link("SEC-101").unwrap().unwrap().link;
    assert_eq!(
        env.emu.work_item(link.work_item_id).unwrap()["rev"],
        link.rev
    );
    assert!(env.ok(&["close", "SEC-101"]).contains("already closed"));
    let out = env.ok(&["reopen", "SEC-101", "--reason", "regressed"]);
    assert!(out.contains(": reopened Closed -> "), "{out}");
    let link = env.db().link("SEC-101").unwrap().unwrap().link;
    let item = env.emu.work_item(link.work_item_id).unwrap();
    assert_ne!(item["fields"]["System.State"], "Closed");
    assert_eq!(item["rev"], link.rev);
}

#[test]
fn sync_all_closes_the_work_item_once_every_finding_is_fixed() {
    let env = Env::new();
    env.ok(&[
        "dispatch",
        "--outegration",
        &example("outegrations/agile-bug.json"),
        &example("tickets/SEC-102.json"),
    ]);
    env.ok(&[
        "ticket", "finding", "SEC-102", "F-9101", "--status", "fixed",
    ]);
    env.ok(&[
        "ticket", "finding", "SEC-102", "F-9102", "--status", "fixed",
    ]);
    let out = env.ok(&["sync", "--all"]);
    assert!(
        out.contains("  state ") && out.contains("-> Closed"),
        "{out}"
    );
    let stored = env.db().link("SEC-102").unwrap().unwrap();
    assert!(
        stored.synced.findings.iter().all(|f| f.status == "fixed"),
        "the snapshot is the synced ticket"
    );
    assert_eq!(
        env.emu.work_item(stored.link.work_item_id).unwrap()["fields"]["System.State"],
        "Closed"
    );
    let out = env.ok(&["sync", "SEC-102"]);
    assert!(
        out.contains("sent no fields; 0 comment(s), 0 trigger comment(s)")
            && !out.contains("  state "),
        "nothing new: {out}"
    );
}

#[test]
fn dispatch_with_a_project_creates_the_work_item_there() {
    let env = Env::new();
    let out = env.ok(&[
        "dispatch",
        "--project",
        seed::PROJECT_SCRUM,
        "--outegration",
        &example("outegrations/scrum-pbi.json"),
        &example("tickets/SEC-101.json"),
    ]);
    assert!(out.contains(seed::PROJECT_SCRUM_ID), "{out}");
    let links = env.ok(&["links"]);
    assert!(
        links.contains("Product Backlog Item") && links.contains(seed::PROJECT_SCRUM_ID),
        "{links}"
    );
    env.ok(&["ticket", "set", "SEC-101", "severity=HIGH"]);
    assert!(
        env.ok(&["sync", "SEC-101"])
            .contains("Microsoft.VSTS.Common.Priority"),
        "a sync goes to the link's project"
    );
}

#[test]
fn a_shown_ticket_parses_back_to_the_imported_file() {
    let env = Env::new();
    env.ok(&["ticket", "import", &example("tickets/SEC-101.json")]);
    let shown = env.ok(&["ticket", "show", "SEC-101"]);
    let file = ticket_file::load(std::path::Path::new(&example("tickets/SEC-101.json"))).unwrap();
    assert_eq!(ticket_file::parse(&shown).unwrap(), file);
}
