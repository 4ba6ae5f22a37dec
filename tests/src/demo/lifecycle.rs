//! The second half of the demo: a ticket's whole life through the state
//! database (a temporary file) against a fresh in-process emulator: dispatch,
//! a severity change that posts a trigger comment, a ticket comment, auto-close
//! when every finding is fixed, reopen on a regression, adoption of the work
//! item of an interrupted dispatch, and a bulk close across projects of the
//! four process templates. Between them, an ADO-side state change flows back
//! to the ticket through the host's webhook server (`serve`).

use std::path::{Path, PathBuf};

use ado_emulator::{Emulator, EmulatorConfig, seed};
use anyhow::Context as _;

use ticketing_host::platform::lifecycle::Lifecycle;
use ticketing_host::platform::report;
use ticketing_host::state::db::Db;
use ticketing_host::state::{ticket_edit, ticket_file};
use ticketing_runtime::{Connection, Credentials, Host, Ticket};

/// The state file, removed (with its WAL files) when the demo ends.
struct TempState(PathBuf);

impl Drop for TempState {
    fn drop(&mut self) {
        for suffix in ["", "-wal", "-shm"] {
            let _ = std::fs::remove_file(format!("{}{suffix}", self.0.display()));
        }
    }
}

fn print_lines(lines: Vec<String>) {
    for l in lines {
        println!("  {l}");
    }
}

/// Prints what a step did; a failed step ends the demo with its error.
fn show_result<T>(r: anyhow::Result<T>, show: impl FnOnce(T) -> Vec<String>) -> anyhow::Result<()> {
    print_lines(show(r?));
    Ok(())
}

fn work_item_state(emulator: &Emulator, db: &Db, ticket_id: &str) -> String {
    let Ok(Some(stored)) = db.link(ticket_id) else {
        return "no link".into();
    };
    let Some(item) = emulator.work_item(stored.link.work_item_id) else {
        return "not found in the emulator".into();
    };
    let f = &item["fields"];
    format!(
        "work item #{} rev {}: State={} Priority={}",
        stored.link.work_item_id,
        item["rev"],
        f["System.State"].as_str().unwrap_or("?"),
        f["Microsoft.VSTS.Common.Priority"]
    )
}

/// A copy of `t` with another id (and URL).
fn renamed(t: &Ticket, id: &str, title: &str) -> Ticket {
    let mut t = ticket_edit::set(t.clone(), &[format!("title={title}")]).expect("a text field");
    t.url = t.url.replace(&t.id, id);
    t.id = id.into();
    t
}

/// Runs the lifecycle demo with `host` and the examples under `root`.
pub fn run(host: &'static Host, root: &Path) -> anyhow::Result<()> {
    let emulator =
        // The demo's receiver runs on 127.0.0.1, which ADO refuses: opt in.
        Emulator::start(EmulatorConfig::default().with_local_receivers())
            .context("starting the ADO emulator")?;
    let state =
        TempState(std::env::temp_dir().join(format!("ticketing-demo-{}.db", std::process::id())));
    drop(TempState(state.0.clone()));
    let db = Db::open(&state.0)?;
    let outegration = |name: &str| root.join("examples/outegrations").join(name);
    let conn_for = |project: &str| Connection {
        base_url: emulator.org_url(),
        project: project.into(),
        credentials: Credentials::Pat(seed::PAT.into()),
    };
    let agile = conn_for(seed::PROJECT);
    let lc = Lifecycle::new(host, &db, &agile);
    println!(
        "\n== Lifecycle: a fresh emulator at {}, state in {}",
        emulator.org_url(),
        state.0.display()
    );

    let sec102 = ticket_file::load(&root.join("examples/tickets/SEC-102.json"))?;
    db.put_ticket(&sec102)?;
    println!(
        "\n== Dispatch SEC-102 (severity MEDIUM, findings F-9101 open, F-9102 open, F-9103 fixed) with agile-bug.json"
    );
    show_result(
        lc.dispatch("SEC-102", &outegration("agile-bug.json")),
        |d| vec![report::dispatched("SEC-102", &d)],
    )?;
    match lc.dispatch("SEC-102", &outegration("agile-bug.json")) {
        Ok(d) => anyhow::bail!(
            "dispatching SEC-102 twice was not refused: {}",
            report::dispatched("SEC-102", &d)
        ),
        Err(e) => println!("  dispatching it again is refused: {e}"),
    }

    let step =
        |title: &str, change: &dyn Fn(Ticket) -> anyhow::Result<Ticket>| -> anyhow::Result<()> {
            println!("\n== {title}; then sync");
            db.update_ticket("SEC-102", change)?;
            show_result(lc.sync("SEC-102"), |o| report::push("SEC-102", &o))?;
            println!("  emulator: {}", work_item_state(&emulator, &db, "SEC-102"));
            Ok(())
        };
    step(
        "Severity MEDIUM -> CRITICAL (a trigger in the config)",
        &|t| ticket_edit::set(t, &["severity=\"CRITICAL\"".into()]),
    )?;
    step("A comment on the ticket", &|t| {
        ticket_edit::comment(
            t,
            "Ann Analyst",
            "Patched web-01; web-02 is scheduled for tonight.",
            &ticketing_host::state::db::now(),
        )
    })?;
    step(
        "F-9101 and F-9102 fixed: every finding is remediated",
        &|t| {
            ticket_edit::finding_status(
                ticket_edit::finding_status(t, "F-9101", "fixed")?,
                "F-9102",
                "fixed",
            )
        },
    )?;
    step("F-9102 regresses (open again)", &|t| {
        ticket_edit::finding_status(t, "F-9102", "open")
    })?;

    webhook_step(
        host,
        &emulator,
        &db,
        &state.0,
        &agile,
        &outegration("agile-bug.json"),
    )?;

    println!("\n== Tickets in projects of the four process templates");
    let sec101 = ticket_file::load(&root.join("examples/tickets/SEC-101.json"))?;
    let spread = [
        ("SEC-101", seed::PROJECT, "agile-bug.json"),
        ("SEC-201", seed::PROJECT_SCRUM, "scrum-pbi.json"),
        ("SEC-202", seed::PROJECT_BASIC, "basic-issue.json"),
        ("SEC-203", seed::PROJECT_CMMI, "cmmi-bug.json"),
    ];
    for (id, project, config) in spread {
        let t = if id == "SEC-101" {
            sec101.clone()
        } else {
            renamed(
                &sec101,
                id,
                &format!("Same SQL injection, tracked in {project}"),
            )
        };
        db.put_ticket(&t)?;
        let conn = conn_for(project);
        let lc = Lifecycle::new(host, &db, &conn);
        if id == "SEC-203" {
            println!(
                "  {id}: simulating a dispatch whose answer was lost (the work item exists, the link was never stored)"
            );
            let text = std::fs::read_to_string(outegration(config))?;
            db.record_attempt(
                id,
                &ticketing_host::platform::lifecycle::outegration_key(&outegration(config)),
            )?;
            host.create(&conn, &text, &t)
                .map_err(|e| anyhow::anyhow!("the simulated dispatch of {id} failed: {e}"))?;
        }
        show_result(lc.dispatch(id, &outegration(config)), |d| {
            vec![format!(
                "{} [{project}, {config}]",
                report::dispatched(id, &d)
            )]
        })?;
    }

    println!(
        "\n== Bulk close of SEC-101, SEC-102, SEC-201, SEC-202, SEC-203 (one call; state resolved per project and type)"
    );
    let ids: Vec<String> = ["SEC-101", "SEC-102", "SEC-201", "SEC-202", "SEC-203"]
        .map(String::from)
        .to_vec();
    show_result(
        lc.bulk_close(&ids, "closed in bulk from the SecOps platform"),
        |outcomes| {
            outcomes
                .iter()
                .map(|(id, o)| report::close_outcome(id, o).0)
                .collect()
        },
    )?;
    println!("  closing them again:");
    show_result(
        lc.bulk_close(&ids, "closed in bulk from the SecOps platform"),
        |outcomes| {
            outcomes
                .iter()
                .map(|(id, o)| report::close_outcome(id, o).0)
                .collect()
        },
    )?;

    println!("\n== Links in the state database");
    let rows: Vec<_> = db
        .links()?
        .into_iter()
        .map(|s| (s.link.ticket_id.clone(), s.link))
        .collect();
    print_lines(report::links_table(&rows));
    println!(
        "\n== Requests served by the lifecycle emulator: {}",
        emulator.request_count()
    );
    Ok(())
}

/// `serve` + `subscribe`, then a person moves the work item to Resolved in
/// ADO: the service hook reaches the server, goes through the inbox, and the
/// ticket's status follows.
fn webhook_step(
    host: &'static Host,
    emulator: &Emulator,
    db: &Db,
    state: &Path,
    conn: &Connection,
    outegration: &Path,
) -> anyhow::Result<()> {
    println!(
        "\n== Webhooks: the host's server receives ADO service hooks (durable inbox, then the ticket)"
    );
    let server = ticketing_host::server::serve::spawn(
        host,
        ticketing_host::server::serve::ServeOptions::new(([127, 0, 0, 1], 0).into(), state),
    )?;
    let mut out = Vec::new();
    ticketing_host::platform::subscriptions::subscribe(
        host,
        db,
        conn,
        outegration,
        &server.url(),
        &mut out,
    )?;
    println!("  serving {} ; subscribed:", server.url());
    print_lines(
        String::from_utf8_lossy(&out)
            .lines()
            .map(str::to_string)
            .collect(),
    );
    let id = db
        .link("SEC-102")?
        .context("SEC-102 is linked")?
        .link
        .work_item_id;
    let status = |db: &Db| -> anyhow::Result<String> {
        Ok(db
            .ticket("SEC-102")?
            .fields
            .iter()
            .find(|f| f.name == "status")
            .map(|f| report::value(&f.value).trim_matches('"').to_string())
            .unwrap_or_else(|| "(none)".into()))
    };
    println!("  ticket status before: {}", status(db)?);
    println!("  a person sets the work item's State to Resolved in ADO");
    edit_in_ado(
        emulator,
        id,
        &serde_json::json!([{ "op": "add", "path": "/fields/System.State", "value": "Resolved" }]),
    )?;
    let end = std::time::Instant::now() + std::time::Duration::from_secs(20);
    while status(db)? != "RESOLVED" && std::time::Instant::now() < end {
        std::thread::sleep(std::time::Duration::from_millis(50));
    }
    for row in db.inbox()? {
        println!(
            "  inbox #{} {} {}: {}",
            row.id,
            row.event_type,
            row.event_id,
            row.result.as_deref().unwrap_or("pending")
        );
    }
    println!("  ticket status after: {}", status(db)?);
    let mut out = Vec::new();
    ticketing_host::platform::subscriptions::unsubscribe(
        host,
        db,
        conn,
        Some(outegration),
        &mut out,
    )?;
    print!("  {}", String::from_utf8_lossy(&out));
    server.stop();
    if status(db)? != "RESOLVED" {
        anyhow::bail!("the ADO state change did not reach the ticket");
    }
    Ok(())
}

/// A person's edit of a work item, over ADO's REST API with the seeded PAT.
fn edit_in_ado(emulator: &Emulator, id: i32, ops: &serde_json::Value) -> anyhow::Result<()> {
    use base64::Engine as _;
    let auth = format!(
        "Basic {}",
        base64::engine::general_purpose::STANDARD.encode(format!(":{}", seed::PAT))
    );
    let url = format!(
        "{}/_apis/wit/workitems/{id}?api-version=7.1",
        emulator.org_url()
    );
    ureq::Agent::new_with_defaults()
        .patch(&url)
        .header("Authorization", &auth)
        .header("Content-Type", "application/json-patch+json")
        .send(ops.to_string().as_bytes())
        .with_context(|| format!("PATCH {url}"))?;
    Ok(())
}
