//! Fault injection, switched at run time in process (`set_faults`) and over
//! the admin endpoint (`/_emulator/faults`): latency, 503s, 429s, answers
//! lost after the write committed, and webhook failures, duplicates and
//! reordering, all from one seeded RNG.

mod common;
mod receiver;

use std::time::{Duration, Instant};

use ado_emulator::faults::Faults;
use ado_emulator::hooks::{HookSettings, Outcome};
use ado_emulator::{EmulatorConfig, seed};
use common::{Client, basic, title};
use receiver::Receiver;
use serde_json::{Value, json};

fn client(config: EmulatorConfig) -> Client {
    // The receivers run on 127.0.0.1, which ADO refuses: opt in.
    Client::with(config.with_local_receivers())
}

fn projects(c: &Client) -> common::Answer {
    c.get(&format!("{}/_apis/projects?api-version=7.1", c.org()))
}

fn subscribe(c: &Client, url: &str) {
    let body = json!({"publisherId": "tfs", "eventType": "workitem.created", "consumerId": "webHooks", "consumerActionId": "httpRequest", "consumerInputs": {"url": url}});
    assert_eq!(
        c.json(
            "POST",
            &format!("{}/_apis/hooks/subscriptions?api-version=7.1", c.org()),
            &body
        )
        .status,
        200
    );
}

#[test]
fn latency_fault_delays_every_answer() {
    let c = client(EmulatorConfig::default());
    c.emu.set_faults(Faults {
        latency_ms: 300,
        ..Faults::default()
    });
    let start = Instant::now();
    assert_eq!(projects(&c).status, 200);
    assert!(
        start.elapsed() >= Duration::from_millis(300),
        "{:?}",
        start.elapsed()
    );
}

#[test]
fn error_fault_answers_503_in_ados_envelope_with_retry_after() {
    let c = client(EmulatorConfig::default());
    c.emu.set_faults(Faults {
        error_rate: 1.0,
        ..Faults::default()
    });
    let answer = projects(&c);
    assert_eq!(answer.status, 503);
    assert!(answer.json()["message"].as_str().unwrap().starts_with("TF"));
    assert!(answer.json()["typeKey"].is_string());
    assert!(answer.headers.get("retry-after").is_some());
}

#[test]
fn throttle_fault_answers_429_with_tf400733() {
    let c = client(EmulatorConfig::default());
    c.emu.set_faults(Faults {
        throttle_rate: 1.0,
        ..Faults::default()
    });
    let answer = projects(&c);
    assert_eq!(answer.status, 429);
    assert_eq!(answer.code(), "TF400733");
    assert!(answer.headers.get("retry-after").is_some());
}

#[test]
fn a_dropped_answer_breaks_the_connection_but_the_work_item_exists() {
    let c = client(EmulatorConfig::default());
    c.emu.set_faults(Faults {
        drop_after_commit_rate: 1.0,
        ..Faults::default()
    });
    let url = format!("{}/_apis/wit/workitems/$Bug?api-version=7.1", c.agile());
    let sent = c
        .agent
        .post(&url)
        .header("Authorization", &basic(seed::PAT))
        .header("X-TFS-FedAuthRedirect", "Suppress")
        .header("Content-Type", "application/json-patch+json")
        .send(json!([title("committed, answer lost")]).to_string());
    assert!(
        sent.is_err(),
        "the client must see a broken connection, got {:?}",
        sent.map(|r| r.status())
    );
    // Reads are not dropped: the item is there.
    let item = c.item(1);
    assert_eq!(item.status, 200, "{}", item.text());
    assert_eq!(
        item.json()["fields"]["System.Title"],
        "committed, answer lost"
    );
}

#[test]
fn the_same_seed_gives_the_same_faults() {
    let c = client(EmulatorConfig::default());
    let run = || {
        c.emu.set_faults(Faults {
            seed: 42,
            error_rate: 0.5,
            ..Faults::default()
        });
        (0..16).map(|_| projects(&c).status).collect::<Vec<u16>>()
    };
    let first = run();
    assert_eq!(first, run());
    assert!(first.contains(&503) && first.contains(&200), "{first:?}");
}

#[test]
fn a_failed_webhook_delivery_is_retried_and_arrives() {
    let settings = HookSettings {
        transient_retries: vec![Duration::from_millis(150); 8],
        ..HookSettings::fast(Duration::from_millis(150))
    };
    let c = client(EmulatorConfig {
        hooks: settings,
        ..Default::default()
    });
    let r = Receiver::start();
    subscribe(&c, &r.url);
    c.emu.set_faults(Faults {
        hook_failure_rate: 1.0,
        ..Faults::default()
    });
    c.new_item("Bug", &json!([title("flaky network")]));
    let end = Instant::now() + Duration::from_secs(5);
    while c.emu.deliveries().is_empty() && Instant::now() < end {
        std::thread::sleep(Duration::from_millis(10));
    }
    c.emu.set_faults(Faults::default());
    assert!(c.emu.wait_for_hooks(Duration::from_secs(10)));
    assert_eq!(r.got().len(), 1);
    let outcomes: Vec<Outcome> = c.emu.deliveries().into_iter().map(|d| d.outcome).collect();
    assert_eq!(outcomes.first(), Some(&Outcome::Injected));
    assert_eq!(outcomes.last(), Some(&Outcome::Status(200)));
}

#[test]
fn a_duplicated_webhook_arrives_twice_with_the_same_ids() {
    let c = client(EmulatorConfig::default());
    let r = Receiver::start();
    subscribe(&c, &r.url);
    c.emu.set_faults(Faults {
        hook_duplicate_rate: 1.0,
        ..Faults::default()
    });
    c.new_item("Bug", &json!([title("twice")]));
    let got = r.wait_for(2);
    assert_eq!(got.len(), 2);
    assert_eq!(got[0].body, got[1].body);
}

#[test]
fn reordered_webhooks_arrive_out_of_commit_order() {
    let c = client(EmulatorConfig::default());
    let r = Receiver::start();
    subscribe(&c, &r.url);
    c.emu.set_faults(Faults {
        hook_reorder_rate: 1.0,
        ..Faults::default()
    });
    let first = c.new_item("Bug", &json!([title("first")]));
    let second = c.new_item("Bug", &json!([title("second")]));
    let got = r.wait_for(2);
    let ids: Vec<Value> = got
        .iter()
        .map(|g| g.body["resource"]["id"].clone())
        .collect();
    assert_eq!(ids, [json!(second), json!(first)]);
}

#[test]
fn the_admin_endpoint_sets_faults_and_counts_requests() {
    let c = client(EmulatorConfig::default());
    let admin = format!("{}/_emulator/faults", c.emu.base_url());
    let set = c.json("PUT", &admin, &json!({"seed": 7, "throttleRate": 1.0}));
    assert_eq!(set.status, 200, "{}", set.text());
    assert_eq!(c.emu.faults().throttle_rate, 1.0);
    assert_eq!(projects(&c).status, 429);
    assert_eq!(c.get(&admin).json()["seed"], 7);
    assert_eq!(
        c.json("PUT", &admin, &json!({"errorRate": 2.0})).status,
        400
    );
    assert_eq!(
        c.json("PUT", &admin, &json!({"errorRte": 0.1})).status,
        400,
        "unknown members are refused"
    );
    assert_eq!(c.json("PUT", &admin, &json!({})).status, 200);
    assert_eq!(projects(&c).status, 200);

    let counts = c
        .get(&format!("{}/_emulator/requests", c.emu.base_url()))
        .json();
    let route = format!("GET /{}/_apis/projects", seed::ORGANIZATION);
    assert_eq!(counts["byRoute"][&route], 2);
    assert_eq!(counts["byStatus"]["429"], 1);
    assert_eq!(counts["total"], 2, "admin calls are not counted: {counts}");
    assert_eq!(
        c.delete(&format!("{}/_emulator/requests", c.emu.base_url()))
            .status,
        204
    );
    assert_eq!(c.emu.request_counts().total, 0);
}
