//! The Spin service under simultaneous requests, as real Spin serves them
//! (an instance per request, several at once), on one app and on two apps
//! sharing one key-value file (two replicas on one store); its store across
//! a restart; idempotent webhook setup; the egress policy decided when a
//! request is sent. Included by `tests/tests/spin.rs`.

use std::sync::Barrier;

use ado_emulator::hooks::Outcome;
use ado_emulator::seed;
use serde_json::json;

use crate::common;
use crate::spin_support::callback::Callback;
use crate::spin_support::harness::{Egress, StoreFile};
use crate::spin_support::{
    Answer, SpinApp, agile_bug, call, call_raw, example_ticket, update_delivered, variables,
    variables_with_callback, webhook_auth,
};

/// How many requests each case sends at once.
const N: usize = 6;

/// The apps of a case: one, or two replicas on one store file.
fn apps(
    vars: &std::collections::BTreeMap<String, String>,
    replicas: usize,
) -> (Vec<SpinApp>, StoreFile) {
    let file = StoreFile::new();
    let apps = (0..replicas)
        .map(|_| SpinApp::start_on(vars, file.path()))
        .collect();
    (apps, file)
}

/// Sends `N` requests at the same moment, spread over `apps`.
fn at_once(apps: &[SpinApp], send: impl Fn(&SpinApp) -> Answer + Sync) -> Vec<Answer> {
    let barrier = Barrier::new(N);
    std::thread::scope(|s| {
        let handles: Vec<_> = (0..N)
            .map(|i| {
                let app = &apps[i % apps.len()];
                let barrier = &barrier;
                let send = &send;
                s.spawn(move || {
                    barrier.wait();
                    send(app)
                })
            })
            .collect();
        handles.into_iter().map(|h| h.join().unwrap()).collect()
    })
}

fn most_at_once(apps: &[SpinApp]) -> usize {
    apps.iter().map(SpinApp::most_in_flight).sum()
}

fn simultaneous_dispatches(replicas: usize) {
    let emu = crate::spin_support::emulator();
    let (apps, _file) = apps(&variables(&emu), replicas);
    let body = json!({"config": agile_bug(), "ticket": example_ticket("SEC-101")});
    let answers = at_once(&apps, |app| call(app, "POST", "/v1/dispatch", Some(&body)));
    let created: Vec<&Answer> = answers.iter().filter(|a| a.status == 201).collect();
    assert_eq!(created.len(), 1, "{answers:#?}");
    for a in answers.iter().filter(|a| a.status != 201) {
        assert_eq!(a.status, 409, "{}", a.body);
        assert!(
            ["dispatch_in_progress", "already_linked"].contains(&a.code()),
            "{}",
            a.body
        );
    }
    assert!(
        answers.iter().any(|a| a.code() == "dispatch_in_progress"),
        "no dispatch met another in flight: {answers:#?}"
    );
    assert!(most_at_once(&apps) >= 2, "the requests did not overlap");
    let ids = common::ids_with_tag(&emu, seed::PROJECT, "secops:SEC-101");
    assert_eq!(ids.len(), 1, "work items for one ticket: {ids:?}");
    let id = created[0].body["link"]["work_item_id"].as_i64();
    for app in &apps {
        let link = call(app, "GET", "/v1/links/SEC-101", None);
        assert_eq!(link.body["link"]["work_item_id"].as_i64(), id);
    }
}

#[test]
fn simultaneous_dispatches_of_one_ticket_create_one_work_item() {
    simultaneous_dispatches(1);
}

#[test]
fn simultaneous_dispatches_on_two_replicas_sharing_a_store_create_one_work_item() {
    simultaneous_dispatches(2);
}

/// A dispatched ticket (SEC-102) and one edit in ADO whose delivery
/// failed (its subscription points at a closed port); returns the payload
/// ADO tried to deliver, for the test to deliver.
fn one_delivered_event(apps: &[SpinApp], emu: &ado_emulator::Emulator) -> Vec<u8> {
    let app = &apps[0];
    let r = call(
        app,
        "POST",
        "/v1/dispatch",
        Some(&json!({"config": agile_bug(), "ticket": example_ticket("SEC-102")})),
    );
    assert_eq!(r.status, 201, "{}", r.body);
    let id = r.body["link"]["work_item_id"].as_i64().unwrap() as i32;
    let delivery = {
        let subs = call(
            app,
            "POST",
            "/v1/webhooks/subscriptions",
            Some(&json!({"config": agile_bug(), "public_url": "http://127.0.0.1:9"})),
        );
        assert_eq!(subs.status, 201, "{}", subs.body);
        common::edit_in_ado(
            emu,
            id,
            json!([{"op": "add", "path": "/fields/System.State", "value": "Active"}]),
        );
        update_delivered(emu)
    };
    serde_json::to_vec(&delivery.body).unwrap()
}

fn simultaneous_deliveries(replicas: usize) {
    let emu = crate::spin_support::emulator();
    let callback = Callback::start();
    let vars = variables_with_callback(&emu, &callback);
    let (apps, _file) = apps(&vars, replicas);
    let body = one_delivered_event(&apps, &emu);
    let auth = webhook_auth();
    let answers = at_once(&apps, |app| {
        call_raw(app, "POST", "/v1/webhooks/ado", Some(&auth), Some(&body))
    });
    let applied = answers
        .iter()
        .filter(|a| a.status == 200 && a.body["status"] == "applied")
        .count();
    assert_eq!(applied, 1, "{answers:#?}");
    for a in &answers {
        let ok = (a.status == 200
            && ["applied", "duplicate"].contains(&a.body["status"].as_str().unwrap_or("")))
            || (a.status == 409 && a.code() == "delivery_in_progress");
        assert!(ok, "{} {}", a.status, a.body);
    }
    assert!(most_at_once(&apps) >= 2, "the deliveries did not overlap");
    for app in &apps {
        let feed = call(app, "GET", "/v1/changes", None);
        assert_eq!(
            feed.body["changes"].as_array().unwrap().len(),
            1,
            "{}",
            feed.body
        );
    }
    // ADO's next try of a 409 is a duplicate.
    let again = call_raw(
        &apps[0],
        "POST",
        "/v1/webhooks/ado",
        Some(&auth),
        Some(&body),
    );
    assert_eq!(again.body["status"], "duplicate", "{}", again.body);
    assert_eq!(callback.received().len(), 1, "{:?}", callback.received());
}

#[test]
fn simultaneous_deliveries_of_one_event_feed_and_forward_it_once() {
    simultaneous_deliveries(1);
}

#[test]
fn simultaneous_deliveries_on_two_replicas_feed_and_forward_once() {
    simultaneous_deliveries(2);
}

fn simultaneous_flushes(replicas: usize) {
    let emu = crate::spin_support::emulator();
    let callback = Callback::start();
    let vars = variables_with_callback(&emu, &callback);
    let (apps, _file) = apps(&vars, replicas);
    // The platform is down while changes come: they wait.
    callback.answer(503);
    let body = one_delivered_event(&apps, &emu);
    let r = call_raw(
        &apps[0],
        "POST",
        "/v1/webhooks/ado",
        Some(&webhook_auth()),
        Some(&body),
    );
    assert_eq!(r.body["status"], "applied", "{}", r.body);
    let pending = call(&apps[0], "POST", "/v1/changes/flush", None);
    assert_eq!(
        pending.body["pending"].as_array().unwrap().len(),
        1,
        "{}",
        pending.body
    );
    callback.answer(200);
    let answers = at_once(&apps, |app| call(app, "POST", "/v1/changes/flush", None));
    for a in &answers {
        assert_eq!(a.status, 200, "{}", a.body);
    }
    let forwarded: usize = answers
        .iter()
        .map(|a| a.body["forwarded"].as_array().unwrap().len())
        .sum();
    assert_eq!(forwarded, 1, "{answers:#?}");
    assert_eq!(callback.received().len(), 1, "{:?}", callback.received());
    let after = call(&apps[0], "POST", "/v1/changes/flush", None);
    assert_eq!(after.body, json!({"forwarded": [], "pending": []}));
}

#[test]
fn two_flushes_at_once_forward_each_change_once() {
    simultaneous_flushes(1);
}

#[test]
fn flushes_on_two_replicas_forward_each_change_once() {
    simultaneous_flushes(2);
}

#[test]
fn links_and_the_feed_survive_a_restart() {
    let emu = crate::spin_support::emulator();
    let vars = variables(&emu);
    let file = StoreFile::new();
    let app = SpinApp::start_on(&vars, file.path());
    let body = one_delivered_event(std::slice::from_ref(&app), &emu);
    let r = call_raw(
        &app,
        "POST",
        "/v1/webhooks/ado",
        Some(&webhook_auth()),
        Some(&body),
    );
    assert_eq!(r.body["status"], "applied", "{}", r.body);
    let link = call(&app, "GET", "/v1/links/SEC-102", None).body;
    let feed = call(&app, "GET", "/v1/changes", None).body;
    drop(app);

    let app = SpinApp::start_on(&vars, file.path());
    assert_eq!(call(&app, "GET", "/v1/links/SEC-102", None).body, link);
    assert_eq!(call(&app, "GET", "/v1/changes", None).body, feed);
    let again = call_raw(
        &app,
        "POST",
        "/v1/webhooks/ado",
        Some(&webhook_auth()),
        Some(&body),
    );
    assert_eq!(again.body["status"], "duplicate", "{}", again.body);
    let twice = call(
        &app,
        "POST",
        "/v1/dispatch",
        Some(&json!({"config": agile_bug(), "ticket": example_ticket("SEC-102")})),
    );
    assert_eq!(twice.code(), "already_linked", "{}", twice.body);
}

/// The ADO subscriptions that deliver to `url`.
fn ado_subscriptions_to(emu: &ado_emulator::Emulator, url: &str) -> Vec<String> {
    let list = common::ado(
        emu,
        "GET",
        "_apis/hooks/subscriptions?api-version=7.1",
        "",
        None,
    );
    list["value"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|s| s["consumerInputs"]["url"] == url)
        .map(|s| s["id"].as_str().unwrap().to_string())
        .collect()
}

#[test]
fn setting_up_webhooks_again_replaces_the_set_and_delete_removes_it() {
    let emu = crate::spin_support::emulator();
    let app = SpinApp::start(&variables(&emu));
    let public = "https://connector.example";
    let url = format!("{public}/v1/webhooks/ado");
    let body = json!({"config": agile_bug(), "public_url": public});
    let first = call(&app, "POST", "/v1/webhooks/subscriptions", Some(&body));
    assert_eq!(first.status, 201, "{}", first.body);
    let per_set = ado_subscriptions_to(&emu, &url).len();
    assert!(per_set >= 1);
    let second = call(&app, "POST", "/v1/webhooks/subscriptions", Some(&body));
    assert_eq!(second.status, 201, "{}", second.body);
    let live = ado_subscriptions_to(&emu, &url);
    assert_eq!(
        live.len(),
        per_set,
        "a second setup multiplied the subscriptions"
    );
    let second_ids: Vec<String> = second.body["subscriptions"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s["id"].as_str().unwrap().to_string())
        .collect();
    let mut sorted = live.clone();
    sorted.sort();
    let mut expected = second_ids.clone();
    expected.sort();
    assert_eq!(sorted, expected, "the set left is the new one");

    let listed = call(&app, "GET", "/v1/webhooks/subscriptions", None);
    assert_eq!(listed.status, 200, "{}", listed.body);
    let sets = listed.body["sets"].as_array().unwrap();
    assert_eq!(sets.len(), 1, "{}", listed.body);
    assert_eq!(sets[0]["delivery_url"], url.as_str());
    assert!(
        sets[0]["subscriptions"]
            .as_array()
            .unwrap()
            .iter()
            .all(|s| s["status"] == "enabled"),
        "{}",
        listed.body
    );

    let path = "/v1/webhooks/subscriptions?public_url=https%3A%2F%2Fconnector.example";
    let deleted = call(&app, "DELETE", path, None);
    assert_eq!(deleted.status, 200, "{}", deleted.body);
    assert!(ado_subscriptions_to(&emu, &url).is_empty());
    let listed = call(&app, "GET", "/v1/webhooks/subscriptions", None);
    assert_eq!(listed.body, json!({"sets": []}));
    assert_eq!(call(&app, "DELETE", path, None).status, 404);
}

#[test]
fn an_unparsable_allowed_host_denies_requests_when_they_are_sent() {
    let emu = crate::spin_support::emulator();
    let mut vars = variables(&emu);
    // No scheme: Spin cannot parse the entry once the template is rendered.
    vars.insert("callback_origin".into(), "callback.example".into());
    let app = SpinApp::start(&vars);
    assert_eq!(
        call(&app, "GET", "/health", None).status,
        200,
        "the app starts"
    );
    let r = call(&app, "POST", "/v1/connection/test", None);
    assert_eq!(r.status, 502, "{}", r.body);
    assert_eq!(r.code(), "egress_denied");
    assert!(r.remediation().contains("`ado_origin`"), "{}", r.body);
    let egress = app.shared.egress.lock().unwrap().clone();
    assert!(!egress.is_empty());
    for (url, decision) in &egress {
        assert!(
            matches!(decision, Egress::Denied(why) if why.contains("has no scheme")),
            "{url}: {decision:?}"
        );
    }
}

#[test]
fn ado_origin_with_a_path_is_named_before_any_request() {
    let emu = crate::spin_support::emulator();
    let mut vars = variables(&emu);
    vars.insert("ado_origin".into(), emu.org_url());
    let app = SpinApp::start(&vars);
    let r = call(&app, "POST", "/v1/connection/test", None);
    assert_eq!(r.status, 500, "{}", r.body);
    assert_eq!(r.code(), "misconfigured");
    let message = r.body["error"]["message"].as_str().unwrap();
    assert!(
        message.contains("`ado_origin`") && message.contains("has a path"),
        "{message}"
    );
    assert!(
        app.shared.egress.lock().unwrap().is_empty(),
        "a request left"
    );
}

#[test]
fn an_allowed_host_beyond_loopback_is_allowed_by_the_policy() {
    let emu = crate::spin_support::emulator();
    let mut vars = variables(&emu);
    vars.insert(
        "callback_url".into(),
        "https://hooks.example.com/secops".into(),
    );
    vars.insert("callback_origin".into(), "https://hooks.example.com".into());
    let (apps, _file) = apps(&vars, 1);
    let body = one_delivered_event(&apps, &emu);
    let r = call_raw(
        &apps[0],
        "POST",
        "/v1/webhooks/ado",
        Some(&webhook_auth()),
        Some(&body),
    );
    assert_eq!(r.body["status"], "applied", "{}", r.body);
    let egress = apps[0].shared.egress.lock().unwrap().clone();
    let to_callback: Vec<_> = egress
        .iter()
        .filter(|(u, _)| u.starts_with("https://hooks.example.com"))
        .collect();
    assert!(!to_callback.is_empty(), "{egress:?}");
    for (_, decision) in to_callback {
        assert_eq!(decision, &Egress::AllowedNotContacted);
    }
    let pending = call(&apps[0], "POST", "/v1/changes/flush", None);
    let why = pending.body["pending"][0]["last_error"].as_str().unwrap();
    assert!(
        why.contains("unreachable") && !why.contains("denied"),
        "{why}"
    );
}

#[test]
fn an_ado_edit_to_an_unmapped_field_feeds_and_forwards_nothing() {
    let emu = crate::spin_support::emulator();
    let callback = Callback::start();
    let vars = variables_with_callback(&emu, &callback);
    let app = SpinApp::start(&vars);
    let r = call(
        &app,
        "POST",
        "/v1/dispatch",
        Some(&json!({"config": agile_bug(), "ticket": example_ticket("SEC-101")})),
    );
    let id = r.body["link"]["work_item_id"].as_i64().unwrap() as i32;
    let subs = call(
        &app,
        "POST",
        "/v1/webhooks/subscriptions",
        Some(&json!({"config": agile_bug(), "public_url": app.url()})),
    );
    assert_eq!(subs.status, 201, "{}", subs.body);
    // No from_ado rule of agile-bug maps the description.
    common::edit_in_ado(
        &emu,
        id,
        json!([{"op": "add", "path": "/fields/System.Description", "value": "<p>more detail</p>"}]),
    );
    let delivered = update_delivered(&emu);
    assert_eq!(delivered.outcome, Outcome::Status(200), "{delivered:?}");
    let feed = call(&app, "GET", "/v1/changes", None);
    assert_eq!(feed.body["changes"], json!([]), "{}", feed.body);
    assert!(callback.received().is_empty());
    let link = call(&app, "GET", "/v1/links/SEC-101", None);
    assert_eq!(
        link.body["link"]["rev"],
        emu.work_item(id).unwrap()["rev"],
        "the link follows the revision"
    );
}

#[test]
fn a_create_whose_answer_is_lost_leaves_one_work_item_linked() {
    let emu = crate::spin_support::emulator();
    let app = SpinApp::start(&variables(&emu));
    // ADO creates the work item, and the answer is lost on the way back.
    emu.set_faults(ado_emulator::faults::Faults {
        drop_after_commit_rate: 1.0,
        only_path: Some("/_apis/wit/workitems/$".into()),
        ..Default::default()
    });
    let body = json!({"config": agile_bug(), "ticket": example_ticket("SEC-101")});
    let first = call(&app, "POST", "/v1/dispatch", Some(&body));
    emu.set_faults(ado_emulator::faults::Faults::default());
    let created = common::ids_with_tag(&emu, seed::PROJECT, "secops:SEC-101");
    assert_eq!(created.len(), 1, "ADO committed the create: {created:?}");
    // Core looks for the item by its tag before creating again (in the same
    // call today); a dispatch that still fails gives its claim back, and
    // core's in-flight mark makes the next one adopt.
    let answer = if first.status == 201 {
        first
    } else {
        assert_eq!(first.status, 502, "{}", first.body);
        call(&app, "POST", "/v1/dispatch", Some(&body))
    };
    assert_eq!(answer.status, 201, "{}", answer.body);
    assert_eq!(
        answer.body["link"]["work_item_id"].as_i64(),
        Some(created[0])
    );
    assert_eq!(
        common::ids_with_tag(&emu, seed::PROJECT, "secops:SEC-101"),
        created,
        "no second work item"
    );
}
