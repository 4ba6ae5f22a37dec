//! The settings for behaviours no Azure DevOps source decides
//! (`ado_emulator::variants`, FIDELITY.md "Switches"): each test runs an
//! emulator under every value of one setting and pins what each does.

mod common;
mod receiver;

use std::time::Duration;

use ado_emulator::EmulatorConfig;
use ado_emulator::faults::Faults;
use ado_emulator::hooks::HookSettings;
use ado_emulator::seed;
use ado_emulator::server::ServerRelease;
use ado_emulator::variants::{
    BatchVerbs, CreateReason, ErrorTexts, HookIdentities, HookValues, MissingScope,
    MissingSubscription, MissingSubscriptionDelete, RefusalBody, UnavailableBody,
    UnknownOrganization, UnorderedWiql, Variants,
};
use common::{Answer, Client, basic, field, title};
use receiver::Receiver;
use serde_json::{Value, json};

/// An emulator under `variants`, its hooks fast and allowed on loopback.
fn under(variants: Variants) -> Client {
    Client::with(EmulatorConfig {
        hooks: HookSettings::fast(Duration::from_millis(20)).with_local_receivers(),
        variants,
        ..Default::default()
    })
}

fn subscription(event_type: &str, publisher: Value, consumer: Value) -> Value {
    json!({
        "publisherId": "tfs", "eventType": event_type, "resourceVersion": "1.0",
        "consumerId": "webHooks", "consumerActionId": "httpRequest",
        "publisherInputs": publisher, "consumerInputs": consumer,
    })
}

/// Creates the subscription `body` and answers what the emulator returned.
fn create_subscription(c: &Client, body: &Value) -> Value {
    let answer = c.json(
        "POST",
        &format!("{}/_apis/hooks/subscriptions?api-version=7.1", c.org()),
        body,
    );
    assert_eq!(answer.status, 200, "{}", answer.text());
    answer.json()
}

fn subscribe(c: &Client, event_type: &str, url: &str) -> String {
    let body = subscription(event_type, json!({}), json!({"url": url}));
    create_subscription(c, &body)["id"]
        .as_str()
        .unwrap()
        .to_string()
}

fn subscription_url(c: &Client, id: &str) -> String {
    format!("{}/_apis/hooks/subscriptions/{id}?api-version=7.1", c.org())
}

fn idle(c: &Client) {
    assert!(c.emu.wait_for_hooks(Duration::from_secs(10)));
}

#[test]
fn wiql_without_order_by_answers_by_ascending_or_descending_id_as_the_setting_says() {
    for (how, descending) in [
        (UnorderedWiql::IdAscending, false),
        (UnorderedWiql::IdDescending, true),
    ] {
        let c = under(Variants {
            wiql_unordered: how,
            ..Variants::default()
        });
        let mut made: Vec<i64> = (0..3)
            .map(|i| c.new_item("Bug", &json!([title(&format!("b{i}"))])))
            .collect();
        let answer = c.json(
            "POST",
            &format!("{}/_apis/wit/wiql?api-version=7.1", c.agile()),
            &json!({"query": "SELECT [System.Id] FROM WorkItems WHERE [System.WorkItemType] = 'Bug'"}),
        );
        assert_eq!(answer.status, 200, "{}", answer.text());
        let got: Vec<i64> = answer.json()["workItems"]
            .as_array()
            .unwrap()
            .iter()
            .map(|w| w["id"].as_i64().unwrap())
            .collect();
        if descending {
            made.reverse();
        }
        assert_eq!(got, made, "{how:?}");
    }
}

#[test]
fn a_history_write_raises_workitem_commented_only_when_the_setting_says_so() {
    for yes in [false, true] {
        let c = under(Variants {
            history_commented: yes,
            ..Variants::default()
        });
        let commented = Receiver::start();
        let updated = Receiver::start();
        subscribe(&c, "workitem.commented", &commented.url);
        subscribe(&c, "workitem.updated", &updated.url);
        let id = c.new_item("Bug", &json!([title("talked about")]));
        let answer = c.update(id, "", &json!([field("System.History", json!("a note"))]));
        assert_eq!(answer.status, 200, "{}", answer.text());
        idle(&c);
        assert_eq!(updated.got().len(), 1, "history-commented={yes}");
        let got = commented.got();
        assert_eq!(got.len(), usize::from(yes), "history-commented={yes}");
        if yes {
            assert_eq!(got[0].body["eventType"], "workitem.commented");
        }
    }
}

#[test]
fn a_delete_and_a_restore_add_revisions_only_when_the_setting_says_so() {
    for yes in [false, true] {
        let c = under(Variants {
            delete_revision: yes,
            ..Variants::default()
        });
        let id = c.new_item("Bug", &json!([title("binned")]));
        let deleted = c.delete(&format!(
            "{}/_apis/wit/workitems/{id}?api-version=7.1",
            c.agile()
        ));
        assert_eq!(deleted.status, 200, "{}", deleted.text());
        let restored = c.json(
            "PATCH",
            &format!("{}/_apis/wit/recyclebin/{id}?api-version=7.1", c.agile()),
            &json!({"isDeleted": false}),
        );
        assert_eq!(restored.status, 200, "{}", restored.text());
        let want = if yes { 3 } else { 1 };
        assert_eq!(c.item(id).json()["rev"], want, "delete-revision={yes}");
        let revisions = c.get(&format!(
            "{}/_apis/wit/workItems/{id}/revisions?api-version=7.1",
            c.org()
        ));
        assert_eq!(revisions.json()["count"], want, "delete-revision={yes}");
    }
}

#[test]
fn a_comment_without_format_is_html_or_markdown_as_the_setting_says() {
    for markdown in [false, true] {
        let c = under(Variants {
            comment_markdown: markdown,
            ..Variants::default()
        });
        let id = c.new_item("Bug", &json!([title("discussed")]));
        let url = format!(
            "{}/_apis/wit/workItems/{id}/comments?api-version=7.1-preview.4",
            c.agile()
        );
        let plain = c.json("POST", &url, &json!({"text": "**bold**"}));
        assert_eq!(plain.status, 200, "{}", plain.text());
        let rendered = plain.json()["renderedText"].as_str().unwrap().to_string();
        assert_eq!(
            rendered.contains("<strong>bold</strong>"),
            markdown,
            "{rendered}"
        );
        // An explicit format is honoured under both settings.
        let html = c.json(
            "POST",
            &format!("{url}&format=html"),
            &json!({"text": "**b**"}),
        );
        assert_eq!(html.json()["renderedText"], "**b**");
    }
}

#[test]
fn an_update_delivery_writes_integers_and_identities_as_the_settings_say() {
    for (values, identities) in [
        (HookValues::Typed, HookIdentities::NameAndMail),
        (HookValues::Strings, HookIdentities::Name),
    ] {
        let c = under(Variants {
            hook_values: values,
            hook_identities: identities,
            ..Variants::default()
        });
        let updated = Receiver::start();
        subscribe(&c, "workitem.updated", &updated.url);
        let id = c.new_item("Bug", &json!([title("typed")]));
        let answer = c.update(
            id,
            "",
            &json!([
                field("Microsoft.VSTS.Common.Priority", json!(1)),
                field("System.AssignedTo", json!(seed::TEAMMATE_EMAIL)),
            ]),
        );
        assert_eq!(answer.status, 200, "{}", answer.text());
        idle(&c);
        let got = updated.got();
        assert_eq!(got.len(), 1);
        let resource = &got[0].body["resource"];
        let (rev, priority) = match values {
            HookValues::Typed => (json!({"oldValue": 1, "newValue": 2}), json!(1)),
            HookValues::Strings => (json!({"oldValue": "1", "newValue": "2"}), json!("1")),
        };
        assert_eq!(resource["fields"]["System.Rev"], rev, "{values:?}");
        assert_eq!(
            resource["fields"]["Microsoft.VSTS.Common.Priority"]["newValue"], priority,
            "{values:?}"
        );
        // The revision keeps the item's own types under both settings.
        assert_eq!(
            resource["revision"]["fields"]["Microsoft.VSTS.Common.Priority"],
            1
        );
        let (changer, assignee) = match identities {
            HookIdentities::NameAndMail => (
                format!("{} <{}>", seed::USER_NAME, seed::USER_EMAIL),
                format!("{} <{}>", seed::TEAMMATE_NAME, seed::TEAMMATE_EMAIL),
            ),
            HookIdentities::Name => (seed::USER_NAME.into(), seed::TEAMMATE_NAME.into()),
        };
        assert_eq!(
            resource["revision"]["fields"]["System.ChangedBy"], changer,
            "{identities:?}"
        );
        assert_eq!(
            resource["fields"]["System.AssignedTo"]["newValue"], assignee,
            "{identities:?}"
        );
    }
}

#[test]
fn tags_are_stored_as_written_or_sorted_as_the_setting_says() {
    for sorted in [false, true] {
        let c = under(Variants {
            tags_sorted: sorted,
            ..Variants::default()
        });
        let id = c.new_item(
            "Bug",
            &json!([
                title("tagged"),
                field("System.Tags", json!("zeta; Alpha; beta"))
            ]),
        );
        let added = c.update(
            id,
            "",
            &json!([{"op": "add", "path": "/fields/System.Tags", "value": "ALPHA; gamma"}]),
        );
        assert_eq!(added.status, 200, "{}", added.text());
        // The first spelling of a tag wins under both settings.
        let want = if sorted {
            "Alpha; beta; gamma; zeta"
        } else {
            "zeta; Alpha; beta; gamma"
        };
        assert_eq!(
            c.item(id).json()["fields"]["System.Tags"],
            want,
            "tag-order sorted={sorted}"
        );
    }
}

fn batch_of(n: usize, id: i64) -> Value {
    Value::Array(
        (0..n)
            .map(|i| {
                json!({"method": "PATCH", "uri": format!("/_apis/wit/workitems/{id}?api-version=7.1"),
                       "headers": {"Content-Type": "application/json-patch+json"},
                       "body": [title(&format!("n{i}"))]})
            })
            .collect(),
    )
}

#[test]
fn batch_takes_the_verbs_and_the_number_of_entries_the_settings_say() {
    for (verbs, patch_ok, post_ok) in [
        (BatchVerbs::Both, true, true),
        (BatchVerbs::PatchOnly, true, false),
        (BatchVerbs::PostOnly, false, true),
    ] {
        let c = under(Variants {
            batch_verbs: verbs,
            batch_limit: 2,
            ..Variants::default()
        });
        let id = c.new_item("Bug", &json!([title("batched")]));
        let url = format!("{}/_apis/wit/$batch?api-version=7.1", c.org());
        for (verb, ok) in [("PATCH", patch_ok), ("POST", post_ok)] {
            let status = c.json(verb, &url, &batch_of(2, id)).status;
            assert_eq!(status == 200, ok, "{verbs:?} {verb}: {status}");
            if !ok {
                assert_eq!(status, 405, "{verbs:?} {verb}");
            }
        }
        let verb = if patch_ok { "PATCH" } else { "POST" };
        assert_eq!(c.json(verb, &url, &batch_of(3, id)).status, 400, "limit 2");
    }
}

#[test]
fn notifications_are_listed_newest_or_oldest_first_as_the_setting_says() {
    for oldest in [false, true] {
        let c = under(Variants {
            notifications_oldest_first: oldest,
            ..Variants::default()
        });
        let r = Receiver::start();
        let sub = subscribe(&c, "workitem.created", &r.url);
        for i in 0..3 {
            c.new_item("Bug", &json!([title(&format!("n{i}"))]));
            idle(&c);
        }
        let list = c.get(&format!(
            "{}/_apis/hooks/subscriptions/{sub}/notifications?api-version=7.1",
            c.org()
        ));
        assert_eq!(list.status, 200, "{}", list.text());
        let ids: Vec<i64> = list.json()["value"]
            .as_array()
            .unwrap()
            .iter()
            .map(|n| n["id"].as_i64().unwrap())
            .collect();
        let mut sorted = ids.clone();
        sorted.sort_unstable();
        if !oldest {
            sorted.reverse();
        }
        assert_eq!(ids.len(), 3);
        assert_eq!(ids, sorted, "notifications oldest first: {oldest}");
    }
}

#[test]
fn suppress_notifications_silences_service_hooks_only_when_the_setting_says_so() {
    for silences in [true, false] {
        let c = under(Variants {
            suppress_hooks: silences,
            ..Variants::default()
        });
        let r = Receiver::start();
        subscribe(&c, "workitem.updated", &r.url);
        let id = c.new_item("Bug", &json!([title("quiet")]));
        let answer = c.update(id, "&suppressNotifications=true", &json!([title("hushed")]));
        assert_eq!(answer.status, 200, "{}", answer.text());
        idle(&c);
        assert_eq!(
            r.got().len(),
            usize::from(!silences),
            "suppress-hooks={silences}"
        );
    }
}

#[test]
fn a_receivers_redirect_is_followed_only_when_the_setting_says_so() {
    for follow in [false, true] {
        let c = under(Variants {
            hook_redirects: follow,
            ..Variants::default()
        });
        let moved = Receiver::start();
        let target = Receiver::start();
        moved.redirect_to(&target.url);
        subscribe(&c, "workitem.created", &moved.url);
        c.new_item("Bug", &json!([title("redirected")]));
        if follow {
            let got = target.wait_for(1);
            assert_eq!(got.len(), 1, "the redirect was followed");
            assert_eq!(got[0].body["eventType"], "workitem.created");
        } else {
            moved.wait_for(1);
            std::thread::sleep(Duration::from_millis(200));
            assert!(target.got().is_empty(), "a redirect is not followed");
        }
    }
}

#[test]
fn opaque_errors_keep_status_and_documented_codes_and_change_every_other_text() {
    let exact = under(Variants::default());
    let opaque = under(Variants {
        errors: ErrorTexts::Opaque,
        ..Variants::default()
    });
    for c in [&exact, &opaque] {
        let is_opaque = std::ptr::eq(c, &opaque);
        let id = c.new_item("Bug", &json!([title("erring")]));
        // An unestablished code and text: both replaced.
        let unknown = c.update(id, "", &json!([field("Custom.Nope", json!(1))]));
        assert_eq!(unknown.status, 400);
        let body = unknown.json();
        assert_eq!(
            body["message"].as_str().unwrap().starts_with("TF51535"),
            !is_opaque,
            "{body}"
        );
        assert_eq!(body["typeKey"] == "EmulatorOpaqueException", is_opaque);
        // A documented code stays; its text does not.
        let stale = c.update(
            id,
            "",
            &json!([{"op": "test", "path": "/rev", "value": 9}, title("lost")]),
        );
        assert_eq!(stale.status, 412);
        let message = stale.json()["message"].as_str().unwrap().to_string();
        assert!(message.starts_with("TF26071: "), "{message}");
        assert_eq!(message.contains("changed by someone else"), !is_opaque);
        // Inside a batch too.
        let entries = json!([{"method": "PATCH",
            "uri": format!("/_apis/wit/workitems/{id}?api-version=7.1"),
            "headers": {"Content-Type": "application/json-patch+json"},
            "body": [field("Custom.Nope", json!(1))]}]);
        let batch = c.json(
            "PATCH",
            &format!("{}/_apis/wit/$batch?api-version=7.1", c.org()),
            &entries,
        );
        let entry: Value =
            serde_json::from_str(batch.json()["value"][0]["body"].as_str().unwrap()).unwrap();
        assert_eq!(
            entry["typeKey"] == "EmulatorOpaqueException",
            is_opaque,
            "{entry}"
        );
    }
    // The 401 text and type key are established: unchanged.
    let agent = ureq::Agent::new_with_config(
        ureq::Agent::config_builder()
            .http_status_as_error(false)
            .build(),
    );
    let mut no_pat = agent
        .get(format!("{}/_apis/projects?api-version=7.1", opaque.org()))
        .header("Authorization", common::basic("not-the-pat"))
        .header("X-TFS-FedAuthRedirect", "Suppress")
        .call()
        .unwrap();
    assert_eq!(no_pat.status().as_u16(), 401);
    let body: Value = serde_json::from_slice(&no_pat.body_mut().read_to_vec().unwrap()).unwrap();
    assert!(
        body["message"]
            .as_str()
            .unwrap()
            .starts_with("TF400813: The user"),
        "{body}"
    );
    assert_eq!(body["typeKey"], "UnauthorizedRequestException");
}

#[test]
fn a_new_item_of_a_type_no_sample_creates_gets_new_or_a_type_text_as_the_setting_says() {
    for (how, want) in [
        (CreateReason::New, "New"),
        (CreateReason::TypeSpecific, "New user story"),
    ] {
        let c = under(Variants {
            create_reason: how,
            ..Variants::default()
        });
        let story = c.create_in(&c.agile(), "User Story", &json!([title("storied")]));
        assert_eq!(story.status, 200, "{}", story.text());
        assert_eq!(story.json()["fields"]["System.Reason"], want, "{how:?}");
        // The types Microsoft's samples create keep the samples' reasons.
        let task = c.create_in(&c.agile(), "Task", &json!([title("sampled")]));
        assert_eq!(task.json()["fields"]["System.Reason"], "New", "{how:?}");
        let scrum = c.create_in(
            &c.project(seed::PROJECT_SCRUM),
            "Task",
            &json!([title("sampled")]),
        );
        assert_eq!(scrum.json()["fields"]["System.Reason"], "New task");
    }
}

#[test]
fn a_subscription_created_disabled_is_stored_disabled_or_enabled_as_the_setting_says() {
    for (honoured, want) in [(true, "disabledByUser"), (false, "enabled")] {
        let c = under(Variants {
            disabled_create_honoured: honoured,
            ..Variants::default()
        });
        let r = Receiver::start();
        let mut body = subscription("workitem.created", json!({}), json!({"url": r.url}));
        body["status"] = json!("disabledByUser");
        let created = create_subscription(&c, &body);
        assert_eq!(created["status"], want, "honoured={honoured}");
        c.new_item("Bug", &json!([title("heard?")]));
        idle(&c);
        assert_eq!(r.got().len(), usize::from(!honoured), "honoured={honoured}");
    }
}

#[test]
fn a_replace_sending_the_masked_password_back_keeps_or_clears_it_as_the_setting_says() {
    for (kept, want) in [(true, "********"), (false, "")] {
        let c = under(Variants {
            replace_masked_kept: kept,
            ..Variants::default()
        });
        let r = Receiver::start();
        let inputs =
            json!({"url": r.url, "basicAuthUsername": "ado-hook", "basicAuthPassword": "s3cret"});
        let mut sub = create_subscription(&c, &subscription("workitem.created", json!({}), inputs));
        let id = sub["id"].as_str().unwrap().to_string();
        assert_eq!(sub["consumerInputs"]["basicAuthPassword"], "********");
        // What a client read goes back unchanged but for the status.
        sub["status"] = json!("enabled");
        let url = subscription_url(&c, &id);
        let replaced = c.json("PUT", &url, &sub);
        assert_eq!(replaced.status, 200, "{}", replaced.text());
        assert_eq!(
            c.get(&url).json()["consumerInputs"]["basicAuthPassword"],
            want,
            "kept={kept}"
        );
        c.new_item("Bug", &json!([title("authorised")]));
        let got = r.wait_for(1);
        let authorization = got[0]
            .headers
            .get("authorization")
            .and_then(|v| v.to_str().ok())
            .unwrap_or_default()
            .to_string();
        // "ado-hook:s3cret" and "ado-hook:" in base64.
        let sent = if kept {
            "Basic YWRvLWhvb2s6czNjcmV0"
        } else {
            "Basic YWRvLWhvb2s6"
        };
        assert_eq!(authorization, sent, "kept={kept}");
    }
}

#[test]
fn probation_ends_on_any_2xx_or_only_on_200_as_the_setting_says() {
    for (any_2xx, want) in [(true, "enabled"), (false, "onProbation")] {
        let c = under(Variants {
            probation_ends_any_2xx: any_2xx,
            ..Variants::default()
        });
        let r = Receiver::start();
        r.answer(&[500, 204]);
        let id = subscribe(&c, "workitem.created", &r.url);
        c.new_item("Bug", &json!([title("on probation")]));
        idle(&c);
        assert_eq!(r.got().len(), 2, "a failure, then a 204");
        let status = c.get(&subscription_url(&c, &id)).json()["status"].clone();
        assert_eq!(status, want, "any-2xx={any_2xx}");
    }
}

#[test]
fn a_refused_connection_is_retried_as_transient_or_puts_the_subscription_on_probation_as_the_setting_says()
 {
    for (transient, want) in [(true, "enabled"), (false, "onProbation")] {
        // Retries 2 s apart: the status is read between the first attempt
        // and the second.
        let c = Client::with(EmulatorConfig {
            hooks: HookSettings::fast(Duration::from_secs(2)).with_local_receivers(),
            variants: Variants {
                connection_failure_transient: transient,
                ..Variants::default()
            },
            ..Default::default()
        });
        // A port nothing listens on: the connection is refused.
        let closed = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let url = format!("http://{}/hook", closed.local_addr().unwrap());
        drop(closed);
        let id = subscribe(&c, "workitem.created", &url);
        c.new_item("Bug", &json!([title("nobody listens")]));
        let notifications = format!(
            "{}/_apis/hooks/subscriptions/{id}/notifications?api-version=7.1",
            c.org()
        );
        let attempted = (0..100).any(|_| {
            std::thread::sleep(Duration::from_millis(10));
            let list = c.get(&notifications).json();
            list["value"]
                .as_array()
                .is_some_and(|v| v.iter().any(|n| n["status"] != "queued"))
        });
        assert!(attempted, "the first delivery attempt was made");
        std::thread::sleep(Duration::from_millis(200));
        let status = c.get(&subscription_url(&c, &id)).json()["status"].clone();
        assert_eq!(status, want, "connection-failure transient={transient}");
    }
}

#[test]
fn notifications_raised_on_probation_go_out_at_once_or_wait_for_the_failed_one_as_the_setting_says()
{
    for holds in [true, false] {
        // The first delivery fails (probation) and is retried 500 ms later;
        // the second item is created meanwhile.
        let c = Client::with(EmulatorConfig {
            hooks: HookSettings::fast(Duration::from_millis(500)).with_local_receivers(),
            variants: Variants {
                probation_holds: holds,
                ..Variants::default()
            },
            ..Default::default()
        });
        let r = Receiver::start();
        r.answer(&[500]);
        subscribe(&c, "workitem.created", &r.url);
        c.new_item("Bug", &json!([title("first")]));
        let first_failed = (0..100).any(|_| {
            std::thread::sleep(Duration::from_millis(10));
            !r.got().is_empty()
        });
        assert!(first_failed, "the first delivery was attempted");
        c.new_item("Bug", &json!([title("second")]));
        idle(&c);
        let titles: Vec<String> = r
            .got()
            .iter()
            .map(|d| {
                d.body["resource"]["fields"]["System.Title"]
                    .as_str()
                    .unwrap_or("?")
                    .to_string()
            })
            .collect();
        let want = if holds {
            ["first", "first", "second"]
        } else {
            ["first", "second", "first"]
        };
        assert_eq!(titles, want, "probation-holds={holds}");
    }
}

#[test]
fn a_changed_fields_filter_splits_at_semicolons_only_when_the_setting_says_so() {
    for semicolons in [true, false] {
        let c = under(Variants {
            changed_fields_semicolons: semicolons,
            ..Variants::default()
        });
        let by_semicolon = Receiver::start();
        let by_comma = Receiver::start();
        for (r, list) in [
            (&by_semicolon, "System.State;System.Title"),
            (&by_comma, "System.State, System.Title"),
        ] {
            create_subscription(
                &c,
                &subscription(
                    "workitem.updated",
                    json!({"changedFields": list}),
                    json!({"url": r.url}),
                ),
            );
        }
        let id = c.new_item("Bug", &json!([title("filtered")]));
        let answer = c.update(id, "", &json!([title("renamed")]));
        assert_eq!(answer.status, 200, "{}", answer.text());
        idle(&c);
        assert_eq!(by_comma.got().len(), 1, "commas split under both settings");
        assert_eq!(
            by_semicolon.got().len(),
            usize::from(semicolons),
            "semicolons={semicolons}"
        );
    }
}

#[test]
fn a_comment_pattern_matches_without_or_with_case_as_the_setting_says() {
    for ignores_case in [true, false] {
        let c = under(Variants {
            comment_pattern_ignores_case: ignores_case,
            ..Variants::default()
        });
        let r = Receiver::start();
        create_subscription(
            &c,
            &subscription(
                "workitem.commented",
                json!({"commentPattern": "URGENT"}),
                json!({"url": r.url}),
            ),
        );
        let id = c.new_item("Bug", &json!([title("discussed")]));
        let url = format!(
            "{}/_apis/wit/workItems/{id}/comments?api-version=7.1-preview.4",
            c.agile()
        );
        for text in ["URGENT: look", "this is urgent"] {
            let added = c.json("POST", &url, &json!({"text": text}));
            assert_eq!(added.status, 200, "{}", added.text());
        }
        idle(&c);
        let want = if ignores_case { 2 } else { 1 };
        assert_eq!(r.got().len(), want, "ignores case: {ignores_case}");
    }
}

#[test]
fn editing_and_deleting_a_comment_add_revisions_only_when_the_setting_says_so() {
    for yes in [false, true] {
        let c = under(Variants {
            comment_edit_revision: yes,
            ..Variants::default()
        });
        let id = c.new_item("Bug", &json!([title("discussed")]));
        let url = format!(
            "{}/_apis/wit/workItems/{id}/comments?api-version=7.1-preview.4",
            c.agile()
        );
        let added = c.json("POST", &url, &json!({"text": "first"}));
        assert_eq!(added.status, 200, "{}", added.text());
        let comment = added.json()["id"].as_i64().unwrap();
        assert_eq!(c.item(id).json()["rev"], 2);
        let one = url.replace("/comments?", &format!("/comments/{comment}?"));
        let edited = c.json("PATCH", &one, &json!({"text": "second"}));
        assert_eq!(edited.status, 200, "{}", edited.text());
        let after_edit = c.item(id).json();
        assert_eq!(
            after_edit["rev"],
            if yes { 3 } else { 2 },
            "edit, yes={yes}"
        );
        let deleted = c.delete(&one);
        assert_eq!(deleted.status, 200, "{}", deleted.text());
        let after_delete = c.item(id).json();
        assert_eq!(
            after_delete["rev"],
            if yes { 4 } else { 2 },
            "delete, yes={yes}"
        );
        // The count follows the delete under both settings.
        assert_eq!(after_delete["fields"]["System.CommentCount"], 0);
        let revisions = c.get(&format!(
            "{}/_apis/wit/workItems/{id}/revisions?api-version=7.1",
            c.org()
        ));
        let revisions = revisions.json();
        assert_eq!(revisions["count"], if yes { 4 } else { 2 });
        let last = revisions["value"]
            .as_array()
            .unwrap()
            .last()
            .unwrap()
            .clone();
        assert_eq!(last["fields"]["System.CommentCount"], 0, "yes={yes}");
        // An edit or a delete writes no System.History of its own.
        if yes {
            assert!(last["fields"].get("System.History").is_none());
        }
    }
}

/// The default settings with one changed by `set`.
fn with(set: impl FnOnce(&mut Variants)) -> Variants {
    let mut v = Variants::default();
    set(&mut v);
    v
}

/// `method url` with `authorization` and the suppress header a client sends.
fn call_as(
    c: &Client,
    method: &str,
    url: &str,
    authorization: &str,
    body: Option<&Value>,
) -> Answer {
    let request = ureq::http::Request::builder()
        .method(method)
        .uri(url)
        .header("Authorization", authorization)
        .header("X-TFS-FedAuthRedirect", "Suppress")
        .header("Content-Type", "application/json-patch+json");
    let bytes = body.map(|b| b.to_string().into_bytes()).unwrap_or_default();
    let mut response = c
        .agent
        .run(request.body(bytes).expect("request"))
        .expect("the emulator answers");
    Answer {
        status: response.status().as_u16(),
        headers: response.headers().clone(),
        bytes: response.body_mut().read_to_vec().unwrap_or_default(),
    }
}

fn content_type(answer: &Answer) -> String {
    answer
        .headers
        .get("content-type")
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default()
        .to_string()
}

#[test]
fn an_unknown_organization_is_404_in_the_shape_the_setting_says() {
    for shape in UnknownOrganization::all() {
        let c = under(with(|v| v.unknown_org = shape));
        let org = format!("{}/no-such-org", c.emu.base_url());
        for url in [
            format!("{org}/_apis/connectionData"),
            format!("{org}/_apis/projects?api-version=7.1"),
            format!("{org}/_apis/wit/workitems/1?api-version=7.1"),
            format!("{org}/_apis/resourceAreas"),
        ] {
            let answer = c.get(&url);
            assert_eq!(answer.status, 404, "{shape:?} {url}: {}", answer.text());
            let ct = content_type(&answer);
            match shape {
                UnknownOrganization::Envelope => {
                    let message = answer.json()["message"].as_str().unwrap().to_string();
                    assert!(message.contains("no-such-org"), "{message}");
                    assert!(
                        !message.starts_with("VS800075") && !message.starts_with("TF"),
                        "no code public answers give a missing project: {message}"
                    );
                }
                UnknownOrganization::Text => {
                    assert!(ct.starts_with("text/plain"), "{ct}");
                    assert_eq!(answer.text(), "The resource cannot be found.");
                }
                UnknownOrganization::Html => {
                    assert!(ct.starts_with("text/html"), "{ct}");
                    assert!(answer.text().contains("404"), "{}", answer.text());
                }
            }
        }
    }
}

#[test]
fn a_missing_scope_is_refused_with_the_status_and_body_the_settings_say() {
    let settings = MissingScope::all().flat_map(|s| RefusalBody::all().map(move |b| (s, b)));
    for (scope, body) in settings {
        let c = under(with(|v| (v.missing_scope, v.refusal_body) = (scope, body)));
        let status = match scope {
            MissingScope::Unauthorized => 401,
            MissingScope::Forbidden => 403,
        };
        let refused = [
            ("GET", "workitemtypes", seed::PAT_NO_WORK_SCOPE, None),
            (
                "POST",
                "workitems/$Task",
                ado_emulator::setup::PAT_WORK_READ,
                Some(json!([title("refused")])),
            ),
        ];
        for (method, route, pat, ops) in &refused {
            let url = format!("{}/_apis/wit/{route}?api-version=7.1", c.agile());
            let answer = call_as(&c, method, &url, &basic(pat), ops.as_ref());
            let shown = format!("{scope:?} {body:?} {method} {route}: {}", answer.text());
            assert_eq!(answer.status, status, "{shown}");
            match body {
                RefusalBody::Envelope => assert_eq!(answer.code(), "TF400813", "{shown}"),
                RefusalBody::Empty => assert!(answer.bytes.is_empty(), "{shown}"),
            }
        }
        assert!(
            c.emu.work_item(1).is_none(),
            "the refused write saved nothing"
        );
        let projects = call_as(
            &c,
            "GET",
            &format!("{}/_apis/projects?api-version=7.1", c.org()),
            &basic(seed::PAT_NO_WORK_SCOPE),
            None,
        );
        assert_eq!(
            projects.status, 200,
            "the scope it has still reads projects"
        );
    }
}

#[test]
fn a_bearer_token_on_azure_devops_server_is_refused_with_the_body_the_setting_says() {
    for body in RefusalBody::all() {
        let server = EmulatorConfig::server(ServerRelease::Server2022Update1);
        let c = Client::with(server.with_variants(with(|v| v.refusal_body = body)));
        let answer = call_as(
            &c,
            "GET",
            &format!("{}/_apis/connectionData", c.org()),
            "Bearer some-entra-token",
            None,
        );
        assert_eq!(answer.status, 401, "{body:?}");
        match body {
            RefusalBody::Envelope => assert_eq!(answer.code(), "TF400813"),
            RefusalBody::Empty => assert!(answer.bytes.is_empty(), "{}", answer.text()),
        }
    }
}

#[test]
fn an_injected_503_has_the_body_the_setting_says_and_retry_after() {
    for shape in UnavailableBody::all() {
        let c = under(with(|v| v.unavailable_body = shape));
        c.emu.set_faults(Faults {
            error_rate: 1.0,
            ..Faults::default()
        });
        let answer = c.get(&format!("{}/_apis/projects?api-version=7.1", c.org()));
        assert_eq!(answer.status, 503, "{shape:?}");
        assert!(answer.headers.get("retry-after").is_some(), "{shape:?}");
        match shape {
            UnavailableBody::Envelope => assert!(answer.json()["typeKey"].is_string()),
            UnavailableBody::Html => {
                assert!(content_type(&answer).starts_with("text/html"));
                assert!(
                    answer
                        .text()
                        .contains("Our services aren't available right now")
                );
            }
            UnavailableBody::Empty => assert!(answer.bytes.is_empty(), "{}", answer.text()),
        }
    }
}

/// A subscription id no subscription has (FIDELITY.md row 45): GET, PUT,
/// the diagnostics route and DELETE answer it in the shape
/// `missing-subscription` says, DELETE as 204 under
/// `missing-subscription-delete=204`; the subscriptions that exist are
/// untouched.
#[test]
fn a_missing_subscription_is_answered_in_the_shape_the_settings_say() {
    let settings = MissingSubscription::all()
        .flat_map(|m| MissingSubscriptionDelete::all().map(move |d| (m, d)));
    for (missing, delete) in settings {
        let c = under(with(|v| {
            (v.missing_subscription, v.missing_subscription_delete) = (missing, delete)
        }));
        let kept = subscribe(&c, "workitem.created", "https://secops.example/hooks/1");
        let gone = subscribe(&c, "workitem.updated", "https://secops.example/hooks/1");
        let body = c.get(&subscription_url(&c, &gone)).json();
        assert_eq!(c.delete(&subscription_url(&c, &gone)).status, 204);

        let diagnostics = format!(
            "{}/_apis/hooks/subscriptions/{gone}/diagnostics?api-version=7.1",
            c.org()
        );
        let answers = [
            ("GET", c.get(&subscription_url(&c, &gone))),
            ("PUT", c.json("PUT", &subscription_url(&c, &gone), &body)),
            ("GET diagnostics", c.get(&diagnostics)),
            ("DELETE", c.delete(&subscription_url(&c, &gone))),
        ];
        for (what, answer) in answers {
            let shown = format!("{missing:?} {delete:?} {what}: {}", answer.text());
            if what == "DELETE" && delete == MissingSubscriptionDelete::NoContent {
                assert_eq!((answer.status, answer.bytes.len()), (204, 0), "{shown}");
                continue;
            }
            match missing {
                MissingSubscription::Envelope | MissingSubscription::BadRequest => {
                    let status = if missing == MissingSubscription::Envelope {
                        404
                    } else {
                        400
                    };
                    assert_eq!(answer.status, status, "{shown}");
                    let e = answer.json();
                    assert_eq!(
                        e["message"],
                        format!("No subscription could be found with id {gone}."),
                        "{shown}"
                    );
                    assert_eq!(e["typeKey"], "SubscriptionNotFoundException", "{shown}");
                    assert_eq!(
                        e["typeName"],
                        "Microsoft.VisualStudio.Services.ServiceHooks.WebApi.SubscriptionNotFoundException, Microsoft.VisualStudio.Services.ServiceHooks.WebApi",
                        "{shown}"
                    );
                }
                MissingSubscription::Text => {
                    assert_eq!(answer.status, 404, "{shown}");
                    assert!(content_type(&answer).starts_with("text/plain"), "{shown}");
                    assert_eq!(answer.text(), "The resource cannot be found.");
                }
            }
        }
        assert_eq!(c.get(&subscription_url(&c, &kept)).status, 200);
    }
}
