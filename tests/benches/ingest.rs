//! Webhook ingest of `ticketing-host serve`: a load generator on loopback
//! posts authenticated `workitem.updated` deliveries (each with its own
//! event id) from several keep-alive connections at once, in two runs.
//!
//! - *Acknowledged*: the inbox worker off. Every 200 means the delivery was
//!   authenticated by the plugin and committed to the durable inbox; the
//!   bench checks that every acknowledged delivery is in the inbox.
//! - *Applied*: the worker on, as `serve` runs. The deliveries are state
//!   changes of work items the host dispatched to the emulator (each
//!   connection its own work items, revisions in order); each is handled by
//!   the plugin (`webhook.handle`) and applied to its ticket. The rate
//!   counts deliveries acknowledged and applied, from the first post to the
//!   last row done; the bench checks that every row was applied and that
//!   each ticket holds the state of its last delivery.
//!
//! Both report deliveries per second and the p50/p99 latency of the
//! acknowledgement. The generator runs on the same cores as the server, so
//! the figures are floors. `cargo bench --workspace --bench ingest` runs
//! them in full; `cargo test --workspace` runs them as a smoke run.

#[path = "../tests/common/mod.rs"]
mod common;

use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use ado_emulator::{Emulator, EmulatorConfig};
use clap::Parser as _;
use serde_json::Value;
use ticketing_host::cli::{Cli, run_with};
use ticketing_host::server::serve::{ServeOptions, spawn};
use ticketing_host::state::db::Db;
use ticketing_runtime::{Field, FieldValue, Host, Limits, Ticket};

fn sample() -> Value {
    let path = ticketing_tests::workspace_root().join(
        "reference/ado-api/samples/servicehook-events/aspnet-AspNetWebHooks/workitem.updated.json",
    );
    let bytes = std::fs::read(path).expect("the updated sample");
    let text = String::from_utf8(bytes).expect("UTF-8");
    serde_json::from_str(text.trim_start_matches('\u{feff}')).expect("JSON")
}

fn percentile(sorted: &[Duration], p: f64) -> Duration {
    let i = ((sorted.len() as f64 - 1.0) * p).round() as usize;
    sorted[i]
}

fn path(p: &Path) -> &str {
    p.to_str().unwrap()
}

/// A fresh directory with the example outegration in it; the config's path.
fn workdir(name: &str) -> (PathBuf, PathBuf) {
    let dir = std::env::temp_dir().join(format!(
        "ticketing-ingest-bench-{name}-{}",
        std::process::id()
    ));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    let outegration = dir.join("agile-bug.json");
    std::fs::copy(
        ticketing_tests::workspace_root().join("examples/outegrations/agile-bug.json"),
        &outegration,
    )
    .unwrap();
    (dir, outegration)
}

/// The `Authorization` header of the outegration's webhook endpoint.
fn basic_auth(state: &Path, outegration: &Path) -> String {
    use base64::Engine as _;
    let key = ticketing_host::platform::lifecycle::outegration_key(outegration);
    let creds = Db::open(state)
        .unwrap()
        .hook_credentials(&key, "agile-bug")
        .unwrap();
    format!(
        "Basic {}",
        base64::engine::general_purpose::STANDARD
            .encode(format!("{}:{}", creds.username, creds.password))
    )
}

/// Posts `per_client` deliveries from each of `clients` keep-alive
/// connections, `body(c, i)` the `i`th of connection `c`; the latency of
/// each acknowledgement (all must be 200).
fn post_all(
    url: &str,
    auth: &str,
    clients: usize,
    per_client: usize,
    body: &(dyn Fn(usize, usize) -> Value + Sync),
) -> Vec<Duration> {
    std::thread::scope(|s| {
        let workers: Vec<_> = (0..clients)
            .map(|c| {
                s.spawn(move || {
                    let agent = ureq::Agent::new_with_config(
                        ureq::Agent::config_builder()
                            .http_status_as_error(false)
                            .build(),
                    );
                    let mut out = Vec::with_capacity(per_client);
                    for i in 0..per_client {
                        let bytes = serde_json::to_vec(&body(c, i)).unwrap();
                        let t = Instant::now();
                        let status = agent
                            .post(url)
                            .header("Authorization", auth)
                            .header("Content-Type", "application/json")
                            .send(&bytes[..])
                            .expect("the server answers")
                            .status()
                            .as_u16();
                        out.push(t.elapsed());
                        assert_eq!(status, 200, "delivery {c}/{i}");
                    }
                    out
                })
            })
            .collect();
        workers
            .into_iter()
            .flat_map(|w| w.join().unwrap())
            .collect()
    })
}

/// One line: the rate and the acknowledgements' latency.
fn report(what: &str, total: usize, elapsed: Duration, mut latencies: Vec<Duration>) {
    latencies.sort_unstable();
    println!(
        "  {what:<12} {:>8.0} deliveries/s   ack p50 {:.2} ms   p99 {:.2} ms   max {:.2} ms   ({total} in {:.2} s)",
        total as f64 / elapsed.as_secs_f64(),
        percentile(&latencies, 0.50).as_secs_f64() * 1e3,
        percentile(&latencies, 0.99).as_secs_f64() * 1e3,
        latencies[latencies.len() - 1].as_secs_f64() * 1e3,
        elapsed.as_secs_f64()
    );
}

fn event_id(c: usize, i: usize) -> Value {
    Value::String(format!("00000000-0000-4000-8000-{c:06}{i:06}"))
}

/// Deliveries acknowledged, the worker off.
fn acknowledged(host: &'static Host, clients: usize, per_client: usize) {
    let (dir, outegration) = workdir("ack");
    let state = dir.join("state.db");
    let auth = basic_auth(&state, &outegration);
    let options = ServeOptions {
        process: false,
        outegrations: vec![outegration],
        ..ServeOptions::new("127.0.0.1:0".parse().unwrap(), &state)
    };
    let server = spawn(host, options).expect("serves");
    let url = format!("{}/hooks/agile-bug", server.url());
    let template = sample();
    let started = Instant::now();
    let latencies = post_all(&url, &auth, clients, per_client, &|c, i| {
        let mut body = template.clone();
        body["id"] = event_id(c, i);
        body
    });
    let elapsed = started.elapsed();
    server.stop();
    let total = latencies.len();
    let stored = Db::open(&state).unwrap().inbox().unwrap().len();
    assert_eq!(stored, total, "every acknowledged delivery is in the inbox");
    report("acknowledged", total, elapsed, latencies);
    let _ = std::fs::remove_dir_all(&dir);
}

/// Work items each connection changes in turn.
const ITEMS_PER_CLIENT: usize = 4;

/// ADO's state after revision `rev` of a work item, and the ticket status
/// the example's `from_ado` dictionary makes of it.
fn state_at(rev: usize) -> (&'static str, &'static str) {
    if rev.is_multiple_of(2) {
        ("Active", "IN_PROGRESS")
    } else {
        ("Resolved", "RESOLVED")
    }
}

/// Deliveries acknowledged and applied to tickets, the worker on.
fn applied(host: &'static Host, clients: usize, per_client: usize) {
    let (dir, outegration) = workdir("applied");
    let state = dir.join("state.db");
    let emu = Emulator::start(EmulatorConfig::default()).expect("the emulator starts");
    common::cli_env::write_pat_files(&dir, &emu.org_url());
    // The tickets, dispatched: one work item each.
    let tickets: Vec<String> = (0..clients * ITEMS_PER_CLIENT)
        .map(|t| format!("HOOK-{t:03}"))
        .collect();
    let db = Db::open(&state).unwrap();
    for id in &tickets {
        let text = |name: &str, v: &str| Field {
            name: name.into(),
            value: FieldValue::Text(v.into()),
        };
        db.put_ticket(&Ticket {
            id: id.clone(),
            url: format!("https://secops.example/tickets/{id}"),
            fields: vec![
                text("title", &format!("Critical OpenSSL vulnerability {id}")),
                text("severity", "CRITICAL"),
            ],
            findings: Vec::new(),
            comments: Vec::new(),
        })
        .unwrap();
    }
    let mut argv: Vec<String> = vec!["ticketing-host".into()];
    for (flag, file) in [
        ("--config", "host.toml"),
        ("--secrets", "secrets.toml"),
        ("--state", "state.db"),
    ] {
        argv.push(flag.into());
        argv.push(path(&dir.join(file)).into());
    }
    argv.extend(
        [
            "dispatch",
            "--jobs",
            "16",
            "--outegration",
            path(&outegration),
        ]
        .map(String::from),
    );
    argv.extend(tickets.iter().cloned());
    run_with(&Cli::parse_from(&argv), host, &mut Vec::new()).expect("the tickets are dispatched");
    let work_items: Vec<i32> = tickets
        .iter()
        .map(|t| db.link(t).unwrap().unwrap().link.work_item_id)
        .collect();

    let auth = basic_auth(&state, &outegration);
    let options = ServeOptions {
        process: true,
        outegrations: vec![outegration],
        ..ServeOptions::new("127.0.0.1:0".parse().unwrap(), &state)
    };
    let server = spawn(host, options).expect("serves");
    let url = format!("{}/hooks/agile-bug", server.url());
    let template = sample();
    // Delivery i of connection c: revision 2 + i / ITEMS_PER_CLIENT of its
    // (i % ITEMS_PER_CLIENT)th work item, a state change.
    let delivery = |c: usize, i: usize| {
        let item = work_items[c * ITEMS_PER_CLIENT + i % ITEMS_PER_CLIENT];
        let rev = 2 + i / ITEMS_PER_CLIENT;
        let (old, _) = state_at(rev - 1);
        let (new, _) = state_at(rev);
        let mut body = template.clone();
        body["id"] = event_id(c, i);
        let resource = &mut body["resource"];
        resource["workItemId"] = item.into();
        resource["rev"] = rev.into();
        resource["fields"]["System.Rev"] =
            serde_json::json!({ "oldValue": (rev - 1).to_string(), "newValue": rev.to_string() });
        resource["fields"]["System.State"] =
            serde_json::json!({ "oldValue": old, "newValue": new });
        resource["revision"]["id"] = item.into();
        resource["revision"]["rev"] = rev.into();
        resource["revision"]["fields"]["System.State"] = new.into();
        body
    };
    let count = rusqlite::Connection::open(&state).unwrap();
    let started = Instant::now();
    let latencies = post_all(&url, &auth, clients, per_client, &delivery);
    loop {
        let pending: i64 = count
            .query_row("SELECT count(*) FROM inbox WHERE done = 0", [], |r| {
                r.get(0)
            })
            .unwrap();
        if pending == 0 {
            break;
        }
        assert!(
            started.elapsed() < Duration::from_secs(600),
            "{pending} deliveries still pending"
        );
        std::thread::sleep(Duration::from_millis(5));
    }
    let elapsed = started.elapsed();
    server.stop();

    let total = latencies.len();
    let rows = db.inbox().unwrap();
    assert_eq!(
        rows.len(),
        total,
        "every acknowledged delivery is in the inbox"
    );
    let not_applied: Vec<_> = rows
        .iter()
        .filter(|r| {
            !r.result
                .as_deref()
                .is_some_and(|s| s.starts_with("applied"))
        })
        .map(|r| (r.work_item_id, r.result.clone()))
        .take(5)
        .collect();
    assert!(not_applied.is_empty(), "not applied: {not_applied:?}");
    for (t, id) in tickets.iter().enumerate() {
        let sent = (0..per_client)
            .filter(|i| i % ITEMS_PER_CLIENT == t % ITEMS_PER_CLIENT)
            .max();
        let Some(last) = sent else { continue };
        let (_, status) = state_at(2 + last / ITEMS_PER_CLIENT);
        let ticket = db.ticket(id).unwrap();
        let held = ticket.fields.iter().find(|f| f.name == "status");
        assert!(
            held.is_some_and(|f| f.value == FieldValue::Text(status.into())),
            "{id} holds its last state {status}: {:?}",
            ticket.fields
        );
    }
    report("applied", total, elapsed, latencies);
    drop(emu);
    let _ = std::fs::remove_dir_all(&dir);
}

fn main() {
    let full = std::env::args().any(|a| a == "--bench");
    let (clients, per_client) = if full { (16, 1_000) } else { (4, 25) };
    let host: &'static Host = Box::leak(Box::new(
        Host::load_with(
            ticketing_tests::plugin_wasm(),
            Limits::default(),
            &ticketing_tests::steady_host_options(),
        )
        .expect("loads"),
    ));
    println!(
        "webhook ingest: {} deliveries from {clients} connections",
        clients * per_client
    );
    acknowledged(host, clients, per_client);
    applied(host, clients, per_client);
}
