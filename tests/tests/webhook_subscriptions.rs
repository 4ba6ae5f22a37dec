//! webhook.subscribe / subscription-status / unsubscribe through the real
//! component against the emulator's service-hook API.

use crate::common;

use ado_emulator::variants::{MissingSubscription, MissingSubscriptionDelete, Variants};
use ado_emulator::{Emulator, EmulatorConfig};
use common::cli_env;
use common::*;
use serde_json::Value;
use ticketing_runtime::{CallError, ConnectorError, DeliveryAuth};

const HOOK_URL: &str = "https://secops.example/hooks/agile-bug";

#[test]
fn subscribe_creates_one_enabled_subscription_per_work_item_event_for_the_project_and_type() {
    let emu = emulator();
    let conn = pat_connection(&emu);
    let auth = DeliveryAuth::Basic(("secops".into(), "generated-hook-password".into()));
    let subs = host()
        .subscribe(&conn, &agile_bug_config(), HOOK_URL, &auth)
        .expect("subscribed");
    let mut types: Vec<&str> = subs.iter().map(|s| s.event_type.as_str()).collect();
    types.sort_unstable();
    assert_eq!(
        types,
        [
            "workitem.commented",
            "workitem.created",
            "workitem.deleted",
            "workitem.restored",
            "workitem.updated"
        ]
    );
    for s in &subs {
        let stored = emu.subscription(&s.id).expect("stored in ADO");
        assert_eq!(stored["publisherId"], "tfs");
        assert_eq!(stored["consumerId"], "webHooks");
        assert_eq!(stored["consumerActionId"], "httpRequest");
        assert_eq!(stored["publisherInputs"]["projectId"], seed::PROJECT_ID);
        assert_eq!(stored["publisherInputs"]["workItemType"], "Bug");
        assert_eq!(stored["consumerInputs"]["url"], HOOK_URL);
        assert_eq!(stored["consumerInputs"]["basicAuthUsername"], "secops");
    }

    let ids: Vec<String> = subs.iter().map(|s| s.id.clone()).collect();
    let status = host().subscription_status(&conn, &ids).unwrap();
    assert!(status.iter().all(|s| s.status == "enabled"), "{status:?}");

    host().unsubscribe(&conn, &ids).unwrap();
    assert!(
        ids.iter().all(|id| emu.subscription(id).is_none()),
        "deleted in ADO"
    );
    host()
        .unsubscribe(&conn, &ids)
        .expect("already gone is fine");
}

#[test]
fn a_relative_hook_url_is_refused_before_anything_is_created() {
    let emu = emulator();
    let auth = DeliveryAuth::Header(("x-secops-hook".into(), "s3cret-value".into()));
    match host().subscribe(
        &pat_connection(&emu),
        &agile_bug_config(),
        "/hooks/1",
        &auth,
    ) {
        Err(CallError::Connector(e)) => {
            let text = format!("{e:?}");
            assert!(
                !text.contains("s3cret-value"),
                "no secret in errors: {text}"
            );
            assert!(
                matches!(
                    e,
                    ConnectorError::Validation(_) | ConnectorError::InvalidConfig(_)
                ),
                "{text}"
            );
        }
        other => panic!("expected a refusal, got {other:?}"),
    }
}

/// The CLI, its emulator answering a subscription id it does not know as
/// `missing` and `delete` say (emulator/FIDELITY.md row 45: no answer
/// captured from Azure DevOps Services is public), with the outegration
/// subscribed (five subscriptions).
fn subscribed_under(
    missing: MissingSubscription,
    delete: MissingSubscriptionDelete,
) -> cli_env::Env {
    let mut variants = Variants::from_env();
    (
        variants.missing_subscription,
        variants.missing_subscription_delete,
    ) = (missing, delete);
    let config = EmulatorConfig::default().with_variants(variants);
    let env = cli_env::Env::with(Emulator::start(config).expect("the emulator starts"));
    let outegration = env.write("agile-bug.json", &agile_bug_config());
    let out = env.ok(&[
        "subscribe",
        "--outegration",
        &outegration,
        "--public-url",
        "https://secops.example",
    ]);
    assert_eq!(out.lines().count(), 5, "{out}");
    env
}

/// The ids the state database holds, and the subscriptions ADO holds.
fn stored_and_in_ado(env: &cli_env::Env) -> (Vec<String>, Vec<Value>) {
    let stored = env
        .db()
        .subscriptions(None)
        .unwrap()
        .into_iter()
        .map(|s| s.id)
        .collect();
    let list = ado(
        &env.emu,
        "GET",
        "_apis/hooks/subscriptions?api-version=7.1",
        "application/json",
        None,
    );
    (
        stored,
        list["value"].as_array().cloned().unwrap_or_default(),
    )
}

/// Someone deletes the subscription `id` in ADO.
fn delete_in_ado(env: &cli_env::Env, id: &str) {
    ado(
        &env.emu,
        "DELETE",
        &format!("_apis/hooks/subscriptions/{id}?api-version=7.1"),
        "application/json",
        None,
    );
}

/// Whatever 404 ADO gives a subscription it no longer has (its envelope,
/// a text body) and whether a DELETE of it is 404 or 204, the status
/// command reports it missing, the repair subscribes again once (five
/// subscriptions, no duplicate) and unsubscribing ends cleanly.
#[test]
fn a_subscription_lost_in_ado_is_reported_missing_and_recreated_once_whatever_the_404() {
    let not_found = [MissingSubscription::Envelope, MissingSubscription::Text];
    for (missing, delete) in not_found
        .into_iter()
        .flat_map(|m| MissingSubscriptionDelete::all().map(move |d| (m, d)))
    {
        let shown = format!("{missing:?} {delete:?}");
        let env = subscribed_under(missing, delete);
        let (before, _) = stored_and_in_ado(&env);
        delete_in_ado(&env, &before[0]);

        let (ok, out) = env.run(&["subscriptions"]);
        assert!(
            !ok && out.contains("notFound"),
            "{shown}: reported missing:\n{out}"
        );

        let out = env.ok(&["subscriptions", "--repair"]);
        assert!(out.contains("subscribed again"), "{shown}:\n{out}");
        let (stored, in_ado) = stored_and_in_ado(&env);
        assert_eq!(
            (stored.len(), in_ado.len()),
            (5, 5),
            "{shown}: no duplicate:\n{out}"
        );
        assert!(in_ado.iter().all(|s| s["status"] == "enabled"), "{shown}");
        assert!(
            stored
                .iter()
                .all(|id| in_ado.iter().any(|s| s["id"].as_str() == Some(id))),
            "{shown}: every stored subscription is in ADO"
        );
        env.ok(&["subscriptions"]);

        // One lost again, then unsubscribing: the rest are deleted, none stays stored.
        delete_in_ado(&env, &stored[1]);
        let out = env.ok(&["unsubscribe"]);
        assert!(out.contains("5 subscription(s) deleted"), "{shown}:\n{out}");
        assert_eq!(stored_and_in_ado(&env), (vec![], vec![]), "{shown}");
    }
}

/// Were ADO to answer a subscription it no longer has with 400 (as it
/// answers arguments it refuses), the connector cannot tell it from any
/// other refusal: the status and repair commands fail with ADO's status
/// and message, and nothing is lost: every subscription ADO still has stays stored.
#[test]
fn a_lost_subscription_answered_with_400_fails_the_commands_with_ados_message_and_loses_nothing() {
    for delete in MissingSubscriptionDelete::all() {
        let env = subscribed_under(MissingSubscription::BadRequest, delete);
        let (before, _) = stored_and_in_ado(&env);
        delete_in_ado(&env, &before[0]);
        for command in [
            &["subscriptions"][..],
            &["subscriptions", "--repair"],
            &["unsubscribe"],
        ] {
            let (ok, out) = env.run(command);
            let shown = format!("{delete:?} `{}`:\n{out}", command.join(" "));
            let (stored, in_ado) = stored_and_in_ado(&env);
            assert!(
                in_ado.iter().all(|s| s["id"]
                    .as_str()
                    .is_some_and(|id| stored.iter().any(|x| x == id))),
                "{shown}: every subscription ADO has stays stored"
            );
            assert!(!out.contains(seed::PAT), "{shown}: no secret");
            if command == ["unsubscribe"] && delete == MissingSubscriptionDelete::NoContent {
                assert!(ok, "{shown}");
                assert_eq!((stored, in_ado), (vec![], vec![]), "{shown}");
                continue;
            }
            // ADO's message names the id, unless `errors=opaque` replaced it.
            let names_it = out.contains("No subscription could be found with id")
                && out.contains(before[0].as_str());
            assert!(
                !ok && out.contains("HTTP 400") && (names_it || out.contains("errors=opaque")),
                "{shown}: fails with ADO's status and message"
            );
            assert_eq!(stored.len(), 5, "{shown}: nothing dropped from the state");
        }
    }
}
