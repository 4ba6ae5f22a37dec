//! The connector as a Spin HTTP component, end to end: the built
//! `ado_connector_spin.wasm` serving its `/v1` API in the Spin harness
//! (wasmtime-wasi-http, Spin's variables and key-value from the real
//! spin.toml), calling the ADO emulator on loopback. Every answer is checked
//! against `plugin/spin/openapi.json`.

use crate::common;
#[path = "spin_support/concurrency.rs"]
mod spin_concurrency;
#[path = "spin_support/deploy_manifest.rs"]
mod spin_deploy;
use crate::spin_support;

use std::time::{Duration, Instant};

use ado_emulator::seed;
use serde_json::{Value, json};
use spin_support::callback::Callback;
use spin_support::{
    API_TOKEN, SpinApp, WEBHOOK_PASSWORD, agile_bug, call, call_raw, example_ticket, variables,
};

fn dispatch(app: &SpinApp, ticket: &Value) -> i64 {
    let r = call(
        app,
        "POST",
        "/v1/dispatch",
        Some(&json!({"config": agile_bug(), "ticket": ticket})),
    );
    assert_eq!(r.status, 201, "{}", r.body);
    r.body["link"]["work_item_id"].as_i64().unwrap()
}

/// Waits for the change feed to hold at least `n` changes after `cursor`.
fn wait_for_changes(app: &SpinApp, cursor: u64, n: usize) -> Value {
    let deadline = Instant::now() + Duration::from_secs(20);
    loop {
        let r = call(app, "GET", &format!("/v1/changes?cursor={cursor}"), None);
        assert_eq!(r.status, 200, "{}", r.body);
        if r.body["changes"].as_array().unwrap().len() >= n {
            return r.body;
        }
        assert!(
            Instant::now() < deadline,
            "no change arrived in the feed: {}",
            r.body
        );
        std::thread::sleep(Duration::from_millis(100));
    }
}

/// Subscribes the service to ADO's service hooks, then a person moves
/// work item `id` to Active in ADO.
fn subscribe_and_activate(app: &SpinApp, emu: &ado_emulator::Emulator, id: i64) {
    let subs = call(
        app,
        "POST",
        "/v1/webhooks/subscriptions",
        Some(&json!({"config": agile_bug(), "public_url": app.url()})),
    );
    assert_eq!(subs.status, 201, "{}", subs.body);
    common::edit_in_ado(
        emu,
        id as i32,
        json!([{"op": "add", "path": "/fields/System.State", "value": "Active"}]),
    );
}

fn state_of(emu: &ado_emulator::Emulator, id: i64) -> String {
    emu.work_item(id as i32).unwrap()["fields"]["System.State"]
        .as_str()
        .unwrap()
        .to_string()
}

#[test]
fn dispatch_creates_the_work_item_and_keeps_the_link_in_key_value() {
    let emu = spin_support::emulator();
    let app = SpinApp::start(&variables(&emu));
    let id = dispatch(&app, &example_ticket("SEC-101"));

    let item = emu
        .work_item(id as i32)
        .expect("the work item exists in ADO");
    assert_eq!(item["fields"]["System.WorkItemType"], "Bug");
    assert!(
        item["fields"]["System.Tags"]
            .as_str()
            .unwrap()
            .contains("secops:SEC-101")
    );
    let link = call(&app, "GET", "/v1/links/SEC-101", None);
    assert_eq!(link.status, 200);
    assert_eq!(link.body["link"]["work_item_id"].as_i64(), Some(id));
    let keys = app.shared.keys();
    assert!(
        keys.contains(&"ado-connector:link:SEC-101".to_string()),
        "{keys:?}"
    );
    assert!(
        keys.contains(&format!("ado-connector:workitem:{id}")),
        "{keys:?}"
    );

    // A second dispatch of the same ticket is refused, and creates nothing.
    let again = call(
        &app,
        "POST",
        "/v1/dispatch",
        Some(&json!({"config": agile_bug(), "ticket": example_ticket("SEC-101")})),
    );
    assert_eq!(again.status, 409);
    assert_eq!(again.code(), "already_linked");
    assert_eq!(
        common::ids_with_tag(&emu, seed::PROJECT, "secops:SEC-101").len(),
        1
    );

    // No secret is kept in key-value storage.
    let dump = app.shared.dump();
    for secret in [seed::PAT, API_TOKEN, WEBHOOK_PASSWORD] {
        assert!(!dump.contains(secret), "a secret is stored in key-value");
    }
}

#[test]
fn sync_sends_the_changed_title_to_the_work_item() {
    let emu = spin_support::emulator();
    let app = SpinApp::start(&variables(&emu));
    let mut ticket = example_ticket("SEC-102");
    let id = dispatch(&app, &ticket);

    ticket["fields"]["title"] = json!("Renamed by the SecOps platform");
    let r = call(&app, "POST", "/v1/sync", Some(&json!({"ticket": ticket})));
    assert_eq!(r.status, 200, "{}", r.body);
    assert!(
        r.body["fields_sent"]
            .as_array()
            .unwrap()
            .contains(&json!("System.Title")),
        "{}",
        r.body
    );
    let item = emu.work_item(id as i32).unwrap();
    assert_eq!(
        item["fields"]["System.Title"],
        "Renamed by the SecOps platform"
    );
    assert_eq!(r.body["link"]["rev"], item["rev"]);

    // Nothing changed since: nothing is sent.
    let again = call(&app, "POST", "/v1/sync", Some(&json!({"ticket": ticket})));
    assert_eq!(again.status, 200);
    assert_eq!(again.body["fields_sent"], json!([]));
}

#[test]
fn sync_of_a_ticket_never_dispatched_gets_404() {
    let emu = spin_support::emulator();
    let app = SpinApp::start(&variables(&emu));
    let r = call(
        &app,
        "POST",
        "/v1/sync",
        Some(&json!({"ticket": example_ticket("SEC-103")})),
    );
    assert_eq!(r.status, 404);
    assert_eq!(r.code(), "not_linked");
    assert!(
        r.body["error"]["message"]
            .as_str()
            .unwrap()
            .contains("SEC-103")
    );
}

#[test]
fn ado_change_reaches_the_change_feed_and_the_callback() {
    let emu = spin_support::emulator();
    let callback = Callback::start();
    let mut vars = variables(&emu);
    vars.insert("callback_url".into(), callback.url.clone());
    vars.insert("callback_origin".into(), callback.origin.clone());
    vars.insert("callback_token".into(), "cb-token-51f0".into());
    let app = SpinApp::start(&vars);
    let id = dispatch(&app, &example_ticket("SEC-101"));
    // The platform is down when the change comes.
    callback.answer(503);
    subscribe_and_activate(&app, &emu, id);
    let page = wait_for_changes(&app, 0, 1);
    let change = page["changes"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["fields"]["status"] == "IN_PROGRESS")
        .unwrap_or_else(|| panic!("no status change in {page}"))
        .clone();
    assert_eq!(change["ticket_id"], "SEC-101");
    assert_eq!(change["work_item_id"].as_i64(), Some(id));
    let next = page["next_cursor"].as_u64().unwrap();
    assert!(next >= change["cursor"].as_u64().unwrap());
    let after = call(&app, "GET", &format!("/v1/changes?cursor={next}"), None);
    assert_eq!(after.body["changes"], json!([]));
    assert_eq!(after.body["next_cursor"].as_u64(), Some(next));

    // Forwarding failed: the change waits; a flush once the platform is back delivers it.
    assert!(callback.received().is_empty());
    callback.answer(200);
    let flushed = call(&app, "POST", "/v1/changes/flush", None);
    assert_eq!(flushed.status, 200, "{}", flushed.body);
    assert_eq!(flushed.body["pending"], json!([]));
    let received = callback.received();
    let forwarded = received
        .iter()
        .find(|r| r.body["cursor"] == change["cursor"])
        .unwrap_or_else(|| panic!("the change was not forwarded: {received:?}"));
    assert_eq!(forwarded.body["fields"]["status"], "IN_PROGRESS");
    assert_eq!(
        forwarded.authorization.as_deref(),
        Some("Bearer cb-token-51f0")
    );
}

#[test]
fn bulk_close_closes_each_linked_work_item_and_names_the_unlinked_ticket() {
    let emu = spin_support::emulator();
    let app = SpinApp::start(&variables(&emu));
    let a = dispatch(&app, &example_ticket("SEC-101"));
    let b = dispatch(&app, &example_ticket("SEC-102"));

    let r = call(
        &app,
        "POST",
        "/v1/close/bulk",
        Some(&json!({"ticket_ids": ["SEC-101", "SEC-102", "SEC-999"], "reason": "remediated"})),
    );
    assert_eq!(r.status, 200, "{}", r.body);
    let results = r.body["results"].as_array().unwrap();
    assert_eq!(results.len(), 3);
    assert_eq!(results[0]["ticket_id"], "SEC-101");
    assert_eq!(results[0]["status"], "closed");
    assert_eq!(results[1]["status"], "closed");
    assert_eq!(results[2]["ticket_id"], "SEC-999");
    assert_eq!(results[2]["status"], "failed");
    assert_eq!(results[2]["error"]["code"], "not_linked");
    assert_eq!(state_of(&emu, a), "Closed");
    assert_eq!(state_of(&emu, b), "Closed");

    // Closing again changes nothing.
    let again = call(
        &app,
        "POST",
        "/v1/close",
        Some(&json!({"ticket_id": "SEC-101", "reason": "again"})),
    );
    assert_eq!(again.status, 200, "{}", again.body);
    assert_eq!(again.body["transition"], Value::Null);
}

#[test]
fn bad_bearer_token_gets_401_and_reaches_no_ado() {
    let emu = spin_support::emulator();
    let app = SpinApp::start(&variables(&emu));
    let before = emu.request_count();
    for auth in [
        None,
        Some("Bearer wrong-token"),
        Some("Basic YWRvOnB3"),
        Some(&format!("Bearer {API_TOKEN}x")[..]),
    ] {
        let r = call_raw(&app, "POST", "/v1/connection/test", auth, None);
        assert_eq!(r.status, 401, "{auth:?}: {}", r.body);
        assert_eq!(r.code(), "unauthorized");
        assert!(r.header("www-authenticate").unwrap().starts_with("Bearer"));
        assert!(!r.body.to_string().contains(API_TOKEN));
    }
    assert_eq!(emu.request_count(), before);
    let ok = call(&app, "POST", "/v1/connection/test", None);
    assert_eq!(ok.status, 200, "{}", ok.body);
    assert_eq!(ok.body["project_name"], seed::PROJECT);
}

#[test]
fn bad_webhook_credentials_get_401_and_change_nothing() {
    use base64::Engine as _;
    let emu = spin_support::emulator();
    let app = SpinApp::start(&variables(&emu));
    dispatch(&app, &example_ticket("SEC-101"));
    let body = br#"{"id":"e1","eventType":"workitem.updated","resource":{}}"#;
    let wrong = format!(
        "Basic {}",
        base64::engine::general_purpose::STANDARD.encode("ado-hook:not-the-password")
    );
    for auth in [
        None,
        Some(wrong.as_str()),
        Some(&format!("Bearer {API_TOKEN}")[..]),
    ] {
        let r = call_raw(&app, "POST", "/v1/webhooks/ado", auth, Some(body));
        assert_eq!(r.status, 401, "{auth:?}: {}", r.body);
        assert_eq!(r.code(), "webhook_unauthorized");
        assert!(r.header("www-authenticate").unwrap().starts_with("Basic"));
        assert!(!r.body.to_string().contains(WEBHOOK_PASSWORD));
    }
    let feed = call(&app, "GET", "/v1/changes", None);
    assert_eq!(feed.body["changes"], json!([]));
}

#[test]
fn unknown_route_gets_404_and_wrong_method_405() {
    let emu = spin_support::emulator();
    let app = SpinApp::start(&variables(&emu));
    let r = call(&app, "GET", "/v1/nothing-here", None);
    assert_eq!(r.status, 404);
    assert_eq!(r.code(), "not_found");
    let r = call(&app, "GET", "/v1/dispatch", None);
    assert_eq!(r.status, 405);
    assert_eq!(r.code(), "method_not_allowed");
}

#[test]
fn malformed_json_gets_400_and_a_wrong_shape_gets_422_naming_the_member() {
    let emu = spin_support::emulator();
    let app = SpinApp::start(&variables(&emu));
    let auth = format!("Bearer {API_TOKEN}");
    let r = call_raw(
        &app,
        "POST",
        "/v1/dispatch",
        Some(&auth),
        Some(b"{\"config\": "),
    );
    assert_eq!(r.status, 400);
    assert_eq!(r.code(), "malformed_json");

    let r = call(
        &app,
        "POST",
        "/v1/dispatch",
        Some(&json!({"config": agile_bug(), "ticket": {"id": "SEC-1", "url": 7}})),
    );
    assert_eq!(r.status, 422, "{}", r.body);
    assert_eq!(r.code(), "invalid_request");
    assert_eq!(r.body["error"]["issues"][0]["path"], "ticket.url");

    let r = call(&app, "GET", "/v1/changes?cursor=minus-one", None);
    assert_eq!(r.status, 422);
    assert_eq!(r.code(), "invalid_parameter");
    assert!(
        r.body["error"]["message"]
            .as_str()
            .unwrap()
            .contains("cursor")
    );
}

#[test]
fn invalid_config_gets_422_with_every_issue() {
    let emu = spin_support::emulator();
    let app = SpinApp::start(&variables(&emu));
    let mut config = agile_bug();
    config["version"] = json!(99);
    config["dispatch"][0]["method"] = json!("telepathy");
    let r = call(
        &app,
        "POST",
        "/v1/config/validate",
        Some(&json!({"config": config})),
    );
    assert_eq!(r.status, 422, "{}", r.body);
    assert_eq!(r.code(), "invalid_config");
    assert!(!r.body["error"]["issues"].as_array().unwrap().is_empty());
    let ok = call(
        &app,
        "POST",
        "/v1/config/validate",
        Some(&json!({"config": agile_bug()})),
    );
    assert_eq!(ok.status, 200, "{}", ok.body);
}

#[test]
fn preview_and_schema_answer_from_ado() {
    let emu = spin_support::emulator();
    let app = SpinApp::start(&variables(&emu));
    let types = call(&app, "GET", "/v1/schema/types", None);
    assert_eq!(types.status, 200, "{}", types.body);
    assert!(
        types.body["types"]
            .as_array()
            .unwrap()
            .iter()
            .any(|t| t["name"] == "Bug")
    );
    let fields = call(&app, "GET", "/v1/schema/types/Bug/fields", None);
    assert_eq!(fields.status, 200, "{}", fields.body);
    assert!(
        fields.body["fields"]
            .as_array()
            .unwrap()
            .iter()
            .any(|f| f["reference_name"] == "System.Title")
    );
    let states = call(&app, "GET", "/v1/schema/types/User%20Story/states", None);
    assert_eq!(states.status, 200, "{}", states.body);
    assert!(
        states.body["states"]
            .as_array()
            .unwrap()
            .iter()
            .any(|s| s["name"] == "Closed")
    );
    let missing = call(&app, "GET", "/v1/schema/types/Unicorn/fields", None);
    assert_eq!(missing.status, 404, "{}", missing.body);

    let before = emu.request_count();
    let preview = call(
        &app,
        "POST",
        "/v1/preview",
        Some(&json!({"config": agile_bug(), "ticket": example_ticket("SEC-101")})),
    );
    assert_eq!(preview.status, 200, "{}", preview.body);
    assert_eq!(preview.body["method"], "POST");
    assert!(
        preview.body["body"]
            .as_array()
            .unwrap()
            .iter()
            .any(|op| op["path"] == "/fields/System.Title")
    );
    assert!(emu.request_count() >= before);
    assert!(common::ids_with_tag(&emu, seed::PROJECT, "secops:SEC-101").is_empty());
}

#[test]
fn ado_host_outside_the_allowed_list_is_refused_before_any_request() {
    let emu = spin_support::emulator();
    let mut vars = variables(&emu);
    // The manifest allows only this origin, not the emulator's.
    vars.insert("ado_origin".into(), "http://127.0.0.1:9".into());
    // The token authority (the emulator too) is left at its default.
    vars.remove("entra_authority");
    let app = SpinApp::start(&vars);
    let before = emu.request_count();
    let r = call(&app, "POST", "/v1/connection/test", None);
    assert_eq!(r.status, 502, "{}", r.body);
    assert_eq!(r.code(), "egress_denied");
    assert!(r.remediation().contains("`ado_origin`"), "{}", r.body);
    assert_eq!(emu.request_count(), before, "a request reached ADO");
    let denied = app.shared.denied.lock().unwrap().clone();
    assert!(
        denied.iter().any(|u| u.starts_with(&emu.base_url())),
        "{denied:?}"
    );
}

#[test]
fn callback_outside_the_allowed_list_keeps_the_change_pending() {
    let emu = spin_support::emulator();
    let callback = Callback::start();
    let mut vars = variables(&emu);
    // callback_origin stays at its default: the callback's host is not allowed.
    vars.insert("callback_url".into(), callback.url.clone());
    let app = SpinApp::start(&vars);
    let id = dispatch(&app, &example_ticket("SEC-102"));
    subscribe_and_activate(&app, &emu, id);
    wait_for_changes(&app, 0, 1);
    let flushed = call(&app, "POST", "/v1/changes/flush", None);
    assert_eq!(flushed.status, 200);
    let pending = flushed.body["pending"].as_array().unwrap();
    assert!(!pending.is_empty(), "{}", flushed.body);
    assert!(
        pending[0]["last_error"]
            .as_str()
            .unwrap()
            .contains("denied"),
        "{}",
        flushed.body
    );
    assert!(callback.received().is_empty());
    let denied = app.shared.denied.lock().unwrap().clone();
    assert!(
        denied.iter().any(|u| u.starts_with(&callback.origin)),
        "{denied:?}"
    );
}

#[test]
fn openapi_lists_every_route_the_service_serves() {
    let emu = spin_support::emulator();
    let app = SpinApp::start(&variables(&emu));
    for (method, template) in spin_support::openapi().operations() {
        let path = template
            .replace("{type}", "Bug")
            .replace("{ticket_id}", "SEC-1");
        let r = call_raw(&app, &method, &path, None, None);
        // Served (so not 404): without credentials every route but /health is refused.
        if path == "/health" {
            assert_eq!(r.status, 200);
        } else {
            assert_eq!(r.status, 401, "{method} {path}: {}", r.body);
        }
    }
}

#[test]
fn ado_throttling_gets_429_with_retry_after() {
    let emu = ado_emulator::Emulator::start(ado_emulator::EmulatorConfig {
        rate_limit: Some(ado_emulator::ratelimit::RateLimit {
            limit: 1,
            warn_at: 0,
            block_at: 2,
            window: Duration::from_secs(300),
            delay: Duration::from_millis(1),
        }),
        ..Default::default()
    })
    .expect("the emulator starts");
    let app = SpinApp::start(&variables(&emu));
    let mut last = None;
    for _ in 0..4 {
        let r = call(&app, "POST", "/v1/connection/test", None);
        if r.status == 429 {
            last = Some(r);
            break;
        }
    }
    let r = last.expect("ADO's throttling reached the caller as 429");
    assert_eq!(r.code(), "rate_limited");
    let after: u64 = r
        .header("retry-after")
        .expect("Retry-After")
        .parse()
        .unwrap();
    assert!((1..=300).contains(&after), "Retry-After: {after}");
    assert_eq!(r.body["error"]["retry_after"].as_u64(), Some(after));
}

#[test]
fn redelivered_event_is_a_duplicate_and_not_fed_twice() {
    let emu = spin_support::emulator();
    let app = SpinApp::start(&variables(&emu));
    let id = dispatch(&app, &example_ticket("SEC-101"));
    subscribe_and_activate(&app, &emu, id);
    let fed = wait_for_changes(&app, 0, 1)["changes"]
        .as_array()
        .unwrap()
        .len();
    let delivery = spin_support::update_delivered(&emu);
    let auth = spin_support::webhook_auth();
    let body = serde_json::to_vec(&delivery.body).unwrap();
    let r = call_raw(&app, "POST", "/v1/webhooks/ado", Some(&auth), Some(&body));
    assert_eq!(r.status, 200, "{}", r.body);
    assert_eq!(r.body["status"], "duplicate", "{}", r.body);
    let feed = call(&app, "GET", "/v1/changes", None);
    assert_eq!(feed.body["changes"].as_array().unwrap().len(), fed);
    assert!(
        app.shared
            .keys()
            .contains(&format!("ado-connector:hook:done:{}", delivery.event_id))
    );
}

#[test]
fn dispatch_of_a_ticket_missing_a_mandatory_field_gets_422_naming_it() {
    let emu = spin_support::emulator();
    let app = SpinApp::start(&variables(&emu));
    // SEC-103 has no severity, which the agile-bug config makes mandatory.
    let r = call(
        &app,
        "POST",
        "/v1/dispatch",
        Some(&json!({"config": agile_bug(), "ticket": example_ticket("SEC-103")})),
    );
    assert_eq!(r.status, 422, "{}", r.body);
    assert_eq!(r.code(), "validation_failed");
    assert_eq!(r.body["error"]["issues"][0]["path"], "ticket.severity");
    assert!(common::ids_with_tag(&emu, seed::PROJECT, "secops:SEC-103").is_empty());
    assert_eq!(call(&app, "GET", "/v1/links/SEC-103", None).status, 404);
}
