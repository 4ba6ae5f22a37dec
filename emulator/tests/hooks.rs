//! Service hooks over HTTP: subscriptions (`samples/rest/hooks/7.1`), the
//! payloads delivered to a receiver (`samples/servicehook-events`), the
//! publisher input filters, and ADO's documented retry, probation and
//! disable rules.

mod common;
mod receiver;
mod shape;

use std::time::Duration;

use ado_emulator::hooks::HookSettings;
use ado_emulator::{Emulator, EmulatorConfig, seed};
use base64::Engine as _;
use common::{Client, title};
use receiver::Receiver;
use serde_json::{Value, json};

/// An emulator whose retries wait 20 ms instead of seconds and hours.
fn fast() -> Client {
    let config = EmulatorConfig {
        hooks: HookSettings::fast(Duration::from_millis(20)).with_local_receivers(),
        ..Default::default()
    };
    let agent = ureq::Agent::new_with_config(
        ureq::Agent::config_builder()
            .http_status_as_error(false)
            .max_redirects(0)
            .build(),
    );
    Client {
        agent,
        emu: Emulator::start(config).expect("emulator starts"),
    }
}

fn subscribe(
    c: &Client,
    event_type: &str,
    publisher_inputs: Value,
    consumer_inputs: Value,
) -> Value {
    let body = json!({
        "publisherId": "tfs",
        "eventType": event_type,
        "resourceVersion": "1.0",
        "consumerId": "webHooks",
        "consumerActionId": "httpRequest",
        "publisherInputs": publisher_inputs,
        "consumerInputs": consumer_inputs,
    });
    let answer = c.json(
        "POST",
        &format!("{}/_apis/hooks/subscriptions?api-version=7.1", c.org()),
        &body,
    );
    assert_eq!(answer.status, 200, "{}", answer.text());
    answer.json()
}

fn project_id(c: &Client) -> String {
    c.emu.project_id(seed::PROJECT).unwrap()
}

fn fixture(name: &str) -> Value {
    let path = format!(
        "{}/../reference/ado-api/samples/servicehook-events/aspnet-AspNetWebHooks/{name}.json",
        env!("CARGO_MANIFEST_DIR")
    );
    let text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{path}: {e}"));
    serde_json::from_str(text.trim_start_matches('\u{feff}')).unwrap()
}

/// Members whose keys depend on the data.
const MAPS: &[&str] = &["fields", "_links"];

fn status_of(c: &Client, id: &str) -> String {
    c.get(&format!(
        "{}/_apis/hooks/subscriptions/{id}?api-version=7.1",
        c.org()
    ))
    .json()["status"]
        .as_str()
        .unwrap_or_default()
        .to_string()
}

#[test]
fn subscriptions_are_created_listed_replaced_and_deleted_in_the_samples_shape() {
    let c = fast();
    let sub = subscribe(
        &c,
        "workitem.updated",
        json!({"projectId": project_id(&c), "workItemType": "Bug", "areaPath": "", "changedFields": ""}),
        json!({"url": "https://connector.example/ado/events", "basicAuthUsername": "ado-hook", "basicAuthPassword": "s3cret", "httpHeaders": "X-Connector-Id:abc123"}),
    );
    let sample =
        &fixture_rest("subscriptions/POST__hooks_subscriptions.json")["responses"]["200"]["body"];
    assert_eq!(
        shape::differences(sample, &sub, &["publisherInputs", "consumerInputs"]),
        Vec::<String>::new()
    );
    let id = sub["id"].as_str().unwrap().to_string();
    assert_eq!(sub["status"], "enabled");
    assert_eq!(
        sub["publisherInputs"]["hostId"].as_str().map(str::len),
        Some(36),
        "the server adds hostId"
    );
    assert!(
        sub["publisherInputs"]["tfsSubscriptionId"].is_string(),
        "the server adds tfsSubscriptionId"
    );
    assert_eq!(
        sub["consumerInputs"]["basicAuthPassword"], "********",
        "confidential inputs are masked"
    );
    assert_eq!(sub["actionDescription"], "To host connector.example");

    let other = subscribe(
        &c,
        "workitem.created",
        json!({"projectId": project_id(&c)}),
        json!({"url": "https://connector.example/ado/created"}),
    );
    let list = c
        .get(&format!(
            "{}/_apis/hooks/subscriptions?eventType=workitem.updated&api-version=7.1",
            c.org()
        ))
        .json();
    assert_eq!(list["count"], 1);
    assert_eq!(list["value"][0]["id"], id.as_str());
    assert_eq!(
        c.get(&format!(
            "{}/_apis/hooks/subscriptions?consumerId=webHooks&api-version=7.1",
            c.org()
        ))
        .json()["count"],
        2
    );

    // PUT replaces; the masked password sent back keeps the stored one.
    let mut replacement = sub.clone();
    replacement["consumerInputs"]["url"] = json!("https://connector.example/ado/v2");
    let replaced = c.json(
        "PUT",
        &format!("{}/_apis/hooks/subscriptions/{id}?api-version=7.1", c.org()),
        &replacement,
    );
    assert_eq!(replaced.status, 200, "{}", replaced.text());
    assert_eq!(
        replaced.json()["consumerInputs"]["url"],
        "https://connector.example/ado/v2"
    );
    assert_eq!(
        replaced.json()["publisherInputs"]["tfsSubscriptionId"],
        sub["publisherInputs"]["tfsSubscriptionId"]
    );

    assert_eq!(
        c.delete(&format!(
            "{}/_apis/hooks/subscriptions/{id}?api-version=7.1",
            c.org()
        ))
        .status,
        204
    );
    assert_eq!(
        c.get(&format!(
            "{}/_apis/hooks/subscriptions/{id}?api-version=7.1",
            c.org()
        ))
        .status,
        404
    );
    assert_eq!(
        c.get(&format!(
            "{}/_apis/hooks/subscriptions?api-version=7.1",
            c.org()
        ))
        .json()["value"][0]["id"],
        other["id"]
    );
}

fn fixture_rest(name: &str) -> Value {
    let path = format!(
        "{}/../reference/ado-api/samples/rest/hooks/7.1/httpExamples/{name}",
        env!("CARGO_MANIFEST_DIR")
    );
    serde_json::from_str(
        std::fs::read_to_string(&path)
            .unwrap()
            .trim_start_matches('\u{feff}'),
    )
    .unwrap()
}

#[test]
fn invalid_subscriptions_are_refused_with_400() {
    let c = fast();
    let url = format!("{}/_apis/hooks/subscriptions?api-version=7.1", c.org());
    let base = json!({"publisherId": "tfs", "eventType": "workitem.created", "consumerId": "webHooks", "consumerActionId": "httpRequest", "publisherInputs": {}, "consumerInputs": {"url": "https://x.example/h"}});
    let with = |path: &str, value: Value| {
        let mut b = base.clone();
        let mut target = &mut b;
        let parts: Vec<&str> = path.split('.').collect();
        for p in &parts[..parts.len() - 1] {
            target = &mut target[*p];
        }
        target[parts[parts.len() - 1]] = value;
        c.json("POST", &url, &b)
    };
    for (path, value) in [
        ("eventType", json!("build.complete")),
        ("publisherId", json!("azureBoards")),
        ("consumerId", json!("slack")),
        ("consumerInputs.url", json!("not a url")),
        ("consumerInputs.url", json!("")),
        ("consumerInputs.httpHeaders", json!("no colon here")),
        ("consumerInputs.basicAuthUsername", json!("two words")),
        ("consumerInputs.resourceDetailsToSend", json!("everything")),
        ("publisherInputs.projectId", json!(seed::PROJECT)),
        ("publisherInputs.commentPattern", json!("<b>")),
    ] {
        let answer = with(path, value.clone());
        assert_eq!(answer.status, 400, "{path} = {value}: {}", answer.text());
        assert!(answer.json()["message"].is_string());
    }
    // ADO's text for an event type with no handler (MicrosoftDocs/feedback#916;
    // FIDELITY.md).
    assert_eq!(
        with("eventType", json!("deployment-completed")).json()["message"],
        "There is no registered handler for the service hooks event type deployment-completed"
    );
    assert_eq!(with("eventType", json!("workitem.created")).status, 200);
}

#[test]
fn loopback_receivers_are_refused_by_default_as_ado_refuses_them() {
    // Microsoft Learn, service-hooks/services/webhooks: no loopback or
    // special-range targets; HTTPS for basic auth.
    let config = EmulatorConfig::default();
    let agent = ureq::Agent::new_with_config(
        ureq::Agent::config_builder()
            .http_status_as_error(false)
            .build(),
    );
    let c = Client {
        agent,
        emu: Emulator::start(config).unwrap(),
    };
    let url = format!("{}/_apis/hooks/subscriptions?api-version=7.1", c.org());
    let body = |hook: &str, user: &str| json!({"publisherId": "tfs", "eventType": "workitem.created", "consumerId": "webHooks", "consumerActionId": "httpRequest", "consumerInputs": {"url": hook, "basicAuthUsername": user, "basicAuthPassword": if user.is_empty() { "" } else { "pw" }}});
    assert_eq!(
        c.json("POST", &url, &body("http://127.0.0.1:9/hook", ""))
            .status,
        400
    );
    assert_eq!(
        c.json("POST", &url, &body("http://10.1.2.3/hook", ""))
            .status,
        400
    );
    assert_eq!(
        c.json("POST", &url, &body("http://hooks.example/h", "user"))
            .status,
        400,
        "basic auth needs HTTPS"
    );
    assert_eq!(
        c.json("POST", &url, &body("http://hooks.example/h", ""))
            .status,
        200,
        "plain HTTP without credentials is allowed, though discouraged"
    );
    assert_eq!(
        c.json("POST", &url, &body("https://hooks.example/h", "user"))
            .status,
        200
    );
}

#[test]
fn work_item_events_arrive_in_the_fixtures_shape_with_basic_auth_and_custom_headers() {
    let c = fast();
    let r = Receiver::start();
    let inputs = json!({"url": r.url, "basicAuthUsername": "ado-hook", "basicAuthPassword": "s3cret", "httpHeaders": "X-Connector-Id:abc123\nX-Other: two"});
    for event in [
        "workitem.created",
        "workitem.updated",
        "workitem.commented",
        "workitem.deleted",
        "workitem.restored",
    ] {
        subscribe(
            &c,
            event,
            json!({"projectId": project_id(&c)}),
            inputs.clone(),
        );
    }
    let id = c.new_item("Bug", &json!([title("Hooked")]));
    assert_eq!(
        c.update(
            id,
            "",
            &json!([{"op": "add", "path": "/fields/System.State", "value": "Active"}])
        )
        .status,
        200
    );
    let comment = c.json(
        "POST",
        &format!(
            "{}/_apis/wit/workItems/{id}/comments?api-version=7.1-preview.4",
            c.agile()
        ),
        &json!({"text": "Still vulnerable"}),
    );
    assert_eq!(comment.status, 200, "{}", comment.text());
    assert_eq!(
        c.delete(&format!(
            "{}/_apis/wit/workitems/{id}?api-version=7.1",
            c.agile()
        ))
        .status,
        200
    );
    assert_eq!(
        c.json(
            "PATCH",
            &format!("{}/_apis/wit/recyclebin/{id}?api-version=7.1", c.agile()),
            &json!({"isDeleted": false})
        )
        .status,
        200
    );
    assert!(c.emu.wait_for_hooks(Duration::from_secs(10)));

    // created, updated, commented + updated (a comment is a revision), deleted, restored.
    let got = r.wait_for(6);
    // Different subscriptions deliver independently: compare as sets.
    let mut types: Vec<&str> = got
        .iter()
        .map(|g| g.body["eventType"].as_str().unwrap())
        .collect();
    types.sort();
    assert_eq!(
        types,
        [
            "workitem.commented",
            "workitem.created",
            "workitem.deleted",
            "workitem.restored",
            "workitem.updated",
            "workitem.updated"
        ]
    );
    for g in &got {
        let auth = g
            .headers
            .get("authorization")
            .and_then(|v| v.to_str().ok())
            .unwrap_or_default();
        assert_eq!(
            auth,
            format!(
                "Basic {}",
                base64::engine::general_purpose::STANDARD.encode("ado-hook:s3cret")
            )
        );
        assert_eq!(g.headers.get("x-connector-id").unwrap(), "abc123");
        assert_eq!(g.headers.get("x-other").unwrap(), "two");
        let kind = g.body["eventType"].as_str().unwrap();
        let diffs = shape::differences(&fixture(kind), &g.body, MAPS);
        assert!(diffs.is_empty(), "{kind}: {diffs:?}\n{}", g.body);
        assert_eq!(g.body["publisherId"], "tfs");
        assert_eq!(g.body["resourceVersion"], "1.0");
        assert_eq!(
            g.body["resourceContainers"]["project"]["id"],
            project_id(&c)
        );
    }
    let by_type = |t: &str| {
        got.iter()
            .find(|g| g.body["eventType"] == t)
            .unwrap()
            .body
            .clone()
    };
    let created = by_type("workitem.created");
    assert_eq!(created["resource"]["id"], id);
    assert_eq!(
        created["resource"]["fields"]["System.CreatedBy"],
        format!("{} <{}>", seed::USER_NAME, seed::USER_EMAIL),
        "identities are `Name <mail>` strings at 1.0, as recorded deliveries show"
    );
    assert_eq!(
        created["message"]["text"]
            .as_str()
            .unwrap()
            .split("\r\n")
            .next()
            .unwrap(),
        format!("Bug #{id} (Hooked) created by {}.", seed::USER_NAME)
    );
    // Learn's samples and a recorded delivery link `web/wi.aspx` with the
    // collection id as `pcguid`.
    let link = format!(
        "/web/wi.aspx?pcguid={}&id={id})",
        created["resourceContainers"]["collection"]["id"]
            .as_str()
            .unwrap()
    );
    assert!(
        created["message"]["text"]
            .as_str()
            .unwrap()
            .ends_with(&link),
        "{}",
        created["message"]["text"]
    );
    let updated = by_type("workitem.updated");
    assert_eq!(updated["resource"]["workItemId"], id);
    assert_eq!(
        updated["resource"]["fields"]["System.State"],
        json!({"oldValue": "New", "newValue": "Active"})
    );
    assert_eq!(
        updated["resource"]["fields"]["System.Rev"],
        json!({"oldValue": 1, "newValue": 2}),
        "numbers as numbers, as recorded deliveries show"
    );
    assert_eq!(
        updated["resource"]["revision"]["fields"]["System.State"],
        "Active"
    );
    let commented = by_type("workitem.commented");
    assert_eq!(
        commented["resource"]["fields"]["System.History"],
        "Still vulnerable"
    );
    let deleted = by_type("workitem.deleted");
    assert!(
        deleted["resource"]["url"]
            .as_str()
            .unwrap()
            .contains("/_apis/wit/recycleBin/")
    );
    // One event id per change and event type (a comment is two events).
    let ids: std::collections::HashSet<&str> =
        got.iter().map(|g| g.body["id"].as_str().unwrap()).collect();
    assert_eq!(ids.len(), got.len());
}

#[test]
fn publisher_inputs_filter_events_by_project_type_area_and_changed_field() {
    let c = fast();
    let (by_type, by_field, other_project, by_area) = (
        Receiver::start(),
        Receiver::start(),
        Receiver::start(),
        Receiver::start(),
    );
    subscribe(
        &c,
        "workitem.created",
        json!({"projectId": project_id(&c), "workItemType": "Task"}),
        json!({"url": by_type.url}),
    );
    subscribe(
        &c,
        "workitem.updated",
        json!({"projectId": project_id(&c), "changedFields": "System.State"}),
        json!({"url": by_field.url}),
    );
    subscribe(
        &c,
        "workitem.created",
        json!({"projectId": c.emu.project_id(seed::PROJECT_SCRUM).unwrap()}),
        json!({"url": other_project.url}),
    );
    subscribe(
        &c,
        "workitem.created",
        json!({"areaPath": format!("{}\\Nowhere", seed::PROJECT)}),
        json!({"url": by_area.url}),
    );

    let bug = c.new_item("Bug", &json!([title("a bug")]));
    let task = c.new_item("Task", &json!([title("a task")]));
    assert_eq!(c.update(bug, "", &json!([title("renamed")])).status, 200);
    assert_eq!(
        c.update(
            bug,
            "",
            &json!([{"op": "add", "path": "/fields/System.State", "value": "Active"}])
        )
        .status,
        200
    );
    assert!(c.emu.wait_for_hooks(Duration::from_secs(10)));

    let tasks = by_type.got();
    assert_eq!(tasks.len(), 1);
    assert_eq!(tasks[0].body["resource"]["id"], task);
    let states = by_field.got();
    assert_eq!(states.len(), 1, "only the State change");
    assert_eq!(
        states[0].body["resource"]["fields"]["System.State"]["newValue"],
        "Active"
    );
    assert!(other_project.got().is_empty());
    assert!(by_area.got().is_empty());
}

#[test]
fn changes_made_with_suppress_notifications_are_not_delivered() {
    let c = fast();
    let r = Receiver::start();
    subscribe(&c, "workitem.updated", json!({}), json!({"url": r.url}));
    let id = c.new_item("Bug", &json!([title("quiet")]));
    assert_eq!(
        c.update(
            id,
            "&suppressNotifications=true",
            &json!([title("still quiet")])
        )
        .status,
        200
    );
    assert_eq!(c.update(id, "", &json!([title("loud")])).status, 200);
    assert!(c.emu.wait_for_hooks(Duration::from_secs(10)));
    let got = r.got();
    assert_eq!(got.len(), 1);
    assert_eq!(
        got[0].body["resource"]["fields"]["System.Title"]["newValue"],
        "loud"
    );
}

#[test]
fn transient_failures_are_retried_until_delivered() {
    let c = fast();
    let r = Receiver::start();
    r.answer(&[503, 502, 504]);
    let sub = subscribe(&c, "workitem.created", json!({}), json!({"url": r.url}));
    c.new_item("Bug", &json!([title("retried")]));
    assert!(c.emu.wait_for_hooks(Duration::from_secs(10)));
    let got = r.got();
    assert_eq!(got.len(), 4);
    assert!(
        got.windows(2).all(|w| w[0].body == w[1].body),
        "the same notification each time"
    );
    assert_eq!(status_of(&c, sub["id"].as_str().unwrap()), "enabled");
    let attempts: Vec<u32> = c.emu.deliveries().iter().map(|d| d.attempt).collect();
    assert_eq!(attempts, [1, 2, 3, 4]);
}

#[test]
fn an_enduring_failure_puts_the_subscription_on_probation_and_a_success_restores_it() {
    let config = EmulatorConfig {
        hooks: HookSettings {
            probation_retries: vec![Duration::from_millis(800); 7],
            ..HookSettings::fast(Duration::from_millis(20)).with_local_receivers()
        },
        ..Default::default()
    };
    let agent = ureq::Agent::new_with_config(
        ureq::Agent::config_builder()
            .http_status_as_error(false)
            .build(),
    );
    let c = Client {
        agent,
        emu: Emulator::start(config).unwrap(),
    };
    let r = Receiver::start();
    r.answer(&[500]);
    let sub = subscribe(&c, "workitem.created", json!({}), json!({"url": r.url}));
    let id = sub["id"].as_str().unwrap();
    c.new_item("Bug", &json!([title("probation")]));
    r.wait_for(1);
    std::thread::sleep(Duration::from_millis(200));
    assert_eq!(status_of(&c, id), "onProbation");
    assert!(c.emu.wait_for_hooks(Duration::from_secs(10)));
    assert_eq!(
        r.got().len(),
        2,
        "retried once on probation, then delivered"
    );
    assert_eq!(status_of(&c, id), "enabled");
}

#[test]
fn failures_that_never_stop_disable_the_subscription_by_system() {
    let c = fast();
    let r = Receiver::start();
    r.answer(&[500; 8]);
    let sub = subscribe(&c, "workitem.created", json!({}), json!({"url": r.url}));
    let id = sub["id"].as_str().unwrap();
    c.new_item("Bug", &json!([title("doomed hook")]));
    assert!(c.emu.wait_for_hooks(Duration::from_secs(10)));
    // The first attempt and 7 retries on probation [doc].
    assert_eq!(r.got().len(), 8);
    assert_eq!(status_of(&c, id), "disabledBySystem");
    let notes = c
        .get(&format!(
            "{}/_apis/hooks/subscriptions/{id}/notifications?api-version=7.1",
            c.org()
        ))
        .json();
    assert_eq!(notes["count"], 1);
    assert_eq!(notes["value"][0]["result"], "failed");
    let nid = notes["value"][0]["id"].as_i64().unwrap();
    let one = c
        .get(&format!(
            "{}/_apis/hooks/subscriptions/{id}/notifications/{nid}?api-version=7.1",
            c.org()
        ))
        .json();
    assert_eq!(one["details"]["requestAttempts"], 8);
    assert!(
        one["details"]["errorMessage"]
            .as_str()
            .unwrap()
            .contains("500")
    );

    // Disabled: later changes are not delivered; PUT with status enabled re-enables.
    c.new_item("Bug", &json!([title("not delivered")]));
    assert!(c.emu.wait_for_hooks(Duration::from_secs(10)));
    assert_eq!(r.got().len(), 8);
    let mut again = c
        .get(&format!(
            "{}/_apis/hooks/subscriptions/{id}?api-version=7.1",
            c.org()
        ))
        .json();
    again["status"] = json!("enabled");
    assert_eq!(
        c.json(
            "PUT",
            &format!("{}/_apis/hooks/subscriptions/{id}?api-version=7.1", c.org()),
            &again
        )
        .status,
        200
    );
    c.new_item("Bug", &json!([title("delivered")]));
    assert!(c.emu.wait_for_hooks(Duration::from_secs(10)));
    assert_eq!(r.got().len(), 9);
}

#[test]
fn gone_410_disables_the_subscription_at_once() {
    let c = fast();
    let r = Receiver::start();
    r.answer(&[410]);
    let sub = subscribe(&c, "workitem.created", json!({}), json!({"url": r.url}));
    c.new_item("Bug", &json!([title("gone")]));
    assert!(c.emu.wait_for_hooks(Duration::from_secs(10)));
    assert_eq!(r.got().len(), 1);
    assert_eq!(
        status_of(&c, sub["id"].as_str().unwrap()),
        "disabledBySystem"
    );
}

#[test]
fn resource_details_and_messages_follow_the_consumer_inputs() {
    let c = fast();
    let r = Receiver::start();
    subscribe(
        &c,
        "workitem.created",
        json!({}),
        json!({"url": r.url, "resourceDetailsToSend": "minimal", "messagesToSend": "text", "detailedMessagesToSend": "none"}),
    );
    let id = c.new_item("Bug", &json!([title("minimal")]));
    let got = r.wait_for(1);
    let body = &got[0].body;
    assert_eq!(body["resource"]["id"], id);
    assert!(body["resource"].get("fields").is_none(), "{body}");
    assert!(body["message"]["text"].is_string() && body["message"].get("html").is_none());
    assert!(body.get("detailedMessage").is_none());
}

/// A fast emulator with one `workitem.created` subscription, and its id.
fn fast_with_a_subscription() -> (Client, String) {
    let c = fast();
    let body = subscribe(
        &c,
        "workitem.created",
        json!({}),
        json!({"url": "https://x.example/h"}),
    );
    let id = body["id"].as_str().unwrap().to_string();
    (c, id)
}

/// Unknown catalog entries are 404 with the texts and type keys of
/// Microsoft's .NET client (`ServiceHooksWebApiResources`, its exceptions;
/// FIDELITY.md row 46), each naming what is unknown.
#[test]
fn unknown_publishers_consumers_actions_event_types_and_notifications_are_404_naming_them() {
    let (c, id) = fast_with_a_subscription();
    let id = id.as_str();
    let hooks = format!("{}/_apis/hooks", c.org());
    for (route, message, type_key) in [
        (
            "publishers/jenkins",
            "No publisher could be found with id \"jenkins\".",
            "PublisherNotFoundException",
        ),
        (
            "publishers/tfs/eventTypes/build.complete",
            "No publisher event type could be found with id \"build.complete\" for publisher \"tfs\".",
            "PublisherEventTypeNotFoundException",
        ),
        (
            "consumers/slack",
            "No consumer could be found with id \"slack\".",
            "ConsumerNotFoundException",
        ),
        (
            "consumers/webHooks/actions/postMessage",
            "No consumer action could be found with id \"postMessage\" for consumer \"webHooks\".",
            "ConsumerActionNotFoundException",
        ),
        (
            &format!("subscriptions/{id}/notifications/4242"),
            "Could not find notification with id \"4242\".",
            "NotificationNotFoundException",
        ),
    ] {
        let answer = c.get(&format!("{hooks}/{route}?api-version=7.1"));
        assert_eq!(answer.status, 404, "{route}: {}", answer.text());
        let e = answer.json();
        assert_eq!(
            (e["message"].as_str(), e["typeKey"].as_str()),
            (Some(message), Some(type_key)),
            "{route}"
        );
        assert_eq!(
            e["typeName"],
            format!(
                "Microsoft.VisualStudio.Services.ServiceHooks.WebApi.{type_key}, Microsoft.VisualStudio.Services.ServiceHooks.WebApi"
            ),
            "{route}"
        );
    }
}

#[test]
fn diagnostics_and_catalog_answer_in_the_samples_shape() {
    let (c, id) = fast_with_a_subscription();
    let id = id.as_str();
    let put = c.json(
        "PUT",
        &format!(
            "{}/_apis/hooks/subscriptions/{id}/diagnostics?api-version=7.1",
            c.org()
        ),
        &json!({"evaluationTracing": {"enabled": true}}),
    );
    let sample = fixture_rest("diagnostics/PUT__notification_diagnostics.json");
    assert_eq!(
        shape::differences(&sample["responses"]["200"]["body"], &put.json(), &[]),
        Vec::<String>::new()
    );
    let types = c
        .get(&format!(
            "{}/_apis/hooks/publishers/tfs/eventtypes?api-version=7.1",
            c.org()
        ))
        .json();
    let ids: Vec<&str> = types["value"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| t["id"].as_str().unwrap())
        .collect();
    assert_eq!(
        ids,
        [
            "workitem.created",
            "workitem.commented",
            "workitem.updated",
            "workitem.deleted",
            "workitem.restored"
        ]
    );
    let consumer = c
        .get(&format!(
            "{}/_apis/hooks/consumers/webHooks?api-version=7.1",
            c.org()
        ))
        .json();
    assert_eq!(consumer["actions"][0]["id"], "httpRequest");
    assert!(consumer["url"].as_str().unwrap().starts_with(&c.org()));
    assert_eq!(
        c.get(&format!(
            "{}/_apis/hooks/consumers/slack?api-version=7.1",
            c.org()
        ))
        .status,
        404
    );
}
