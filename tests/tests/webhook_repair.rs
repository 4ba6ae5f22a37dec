//! Keeping the webhook path healthy end to end: subscriptions ADO disabled
//! or lost are repaired from the host (`subscriptions --repair`),
//! subscribing again replaces rather than duplicates, and a command and the
//! webhook worker never overwrite each other's link (per-ticket leases).

use crate::common;
use crate::serve_env;

use std::time::Duration;

use serde_json::{Value, json};
use serve_env::*;

/// Every subscription ADO holds.
fn subscriptions_in_ado(env: &Env) -> Vec<Value> {
    let list = common::ado(
        &env.emu,
        "GET",
        "_apis/hooks/subscriptions?api-version=7.1",
        "application/json",
        None,
    );
    list["value"].as_array().cloned().unwrap_or_default()
}

fn status_in_ado(env: &Env, id: &str) -> String {
    env.emu.subscription(id).expect("in ADO")["status"]
        .as_str()
        .unwrap()
        .to_string()
}

fn stored_ids(env: &Env) -> Vec<String> {
    env.db()
        .subscriptions(None)
        .unwrap()
        .into_iter()
        .map(|s| s.id)
        .collect()
}

#[test]
fn a_subscription_ado_disabled_is_repaired_and_deliveries_resume() {
    let env = Env::new();
    let id = env.dispatch();
    let server = env.serve("127.0.0.1:0", true);
    env.subscribe(&server);

    // Every delivery fails: ADO retries, puts the subscription on probation,
    // then disables it.
    env.set_state_while_deliveries_fail(id, "Active");
    let ids = stored_ids(&env);
    let disabled: Vec<&String> = ids
        .iter()
        .filter(|s| status_in_ado(&env, s) == "disabledBySystem")
        .collect();
    assert!(
        !disabled.is_empty(),
        "ADO disabled the updated subscription"
    );

    let (ok, out) = env.run(&["subscriptions"]);
    assert!(!ok, "an unhealthy subscription fails the check:\n{out}");
    assert!(
        out.contains("disabledBySystem") && out.contains("--repair"),
        "{out}"
    );

    let out = env.ok(&["subscriptions", "--repair"]);
    assert_eq!(out.matches("enabled").count(), 5, "{out}");
    for s in &ids {
        assert_eq!(status_in_ado(&env, s), "enabled", "{s}");
    }
    assert_eq!(stored_ids(&env), ids, "repaired in place, not replaced");

    // ADO delivers again, with the host's credentials (it masks them when
    // read, so the repair sent them again): the next change reaches the ticket.
    env.set_state(id, "Resolved");
    wait_until("the ticket is RESOLVED", || {
        field(&env.ticket(), "status").as_deref() == Some("RESOLVED")
    });
    env.settle();
    let last = env.emu.deliveries().into_iter().last().unwrap();
    assert_eq!(last.outcome, ado_emulator::hooks::Outcome::Status(200));
    server.stop();
}

#[test]
fn subscribing_again_replaces_and_a_subscription_lost_in_ado_is_recreated() {
    let env = Env::new();
    let server = env.serve("127.0.0.1:0", false);
    env.subscribe(&server);
    let first = stored_ids(&env);
    env.subscribe(&server);
    let second = stored_ids(&env);
    assert_eq!(second.len(), 5);
    assert!(second.iter().all(|s| !first.contains(s)), "new ids");
    assert_eq!(subscriptions_in_ado(&env).len(), 5, "the old ones are gone");

    // Someone deletes one in ADO.
    common::ado(
        &env.emu,
        "DELETE",
        &format!("_apis/hooks/subscriptions/{}?api-version=7.1", second[0]),
        "application/json",
        None,
    );
    let (ok, out) = env.run(&["subscriptions"]);
    assert!(!ok && out.contains("notFound"), "{out}");

    let out = env.ok(&["subscriptions", "--repair"]);
    assert!(out.contains("subscribed again"), "{out}");
    let third = stored_ids(&env);
    let in_ado = subscriptions_in_ado(&env);
    assert_eq!((third.len(), in_ado.len()), (5, 5), "{out}");
    assert!(in_ado.iter().all(|s| s["status"] == "enabled"));
    assert!(
        third
            .iter()
            .all(|s| in_ado.iter().any(|a| a["id"].as_str() == Some(s)))
    );
    env.ok(&["unsubscribe"]);
    assert!(subscriptions_in_ado(&env).is_empty());
    server.stop();
}

#[test]
fn a_delivery_waits_while_a_command_holds_the_ticket_and_then_applies() {
    let env = Env::new();
    let id = env.dispatch();
    let server = env.serve("127.0.0.1:0", true);
    env.subscribe(&server);

    let db = env.db();
    let lease = db.try_lease(&["SEC-102"]).unwrap().expect("free");
    env.set_state(id, "Active");
    assert!(env.emu.wait_for_hooks(Duration::from_secs(30)));
    // Accepted (ADO got its 200) but not applied while the lease is held.
    std::thread::sleep(Duration::from_millis(1500));
    assert!(!env.db().inbox_pending().unwrap().is_empty());
    assert_ne!(
        field(&env.ticket(), "status").as_deref(),
        Some("IN_PROGRESS")
    );

    // A sync started meanwhile waits for the lease as well.
    std::thread::scope(|s| {
        let sync = s.spawn(|| env.run(&["sync", "SEC-102"]));
        std::thread::sleep(Duration::from_millis(500));
        assert!(!sync.is_finished(), "the sync waits for the lease");
        drop(lease);
        let (ok, out) = sync.join().unwrap();
        assert!(ok, "{out}");
    });
    wait_until("the ticket is IN_PROGRESS", || {
        field(&env.ticket(), "status").as_deref() == Some("IN_PROGRESS")
    });
    env.settle();
    server.stop();
}

#[test]
fn commands_and_deliveries_racing_on_one_ticket_converge_without_bouncing() {
    let env = Env::new();
    let id = env.dispatch();
    let server = env.serve("127.0.0.1:0", true);
    env.subscribe(&server);

    const ROUNDS: usize = 12;
    let states = ["Active", "Resolved"];
    std::thread::scope(|s| {
        s.spawn(|| {
            for i in 0..ROUNDS {
                env.set_state(id, states[i % 2]);
                std::thread::sleep(Duration::from_millis(40));
            }
        });
        for i in 0..ROUNDS {
            env.ok(&["ticket", "set", "SEC-102", &format!("title=Race round {i}")]);
            env.ok(&["sync", "SEC-102"]);
        }
    });
    env.settle();

    let ado = env.emu.work_item(id).unwrap();
    assert_eq!(
        ado["fields"]["System.Title"],
        json!(format!("Race round {}", ROUNDS - 1))
    );
    let expected = if ado["fields"]["System.State"] == "Active" {
        "IN_PROGRESS"
    } else {
        "RESOLVED"
    };
    assert_eq!(field(&env.ticket(), "status").as_deref(), Some(expected));
    // Only the state changes made in ADO were applied; every revision the
    // syncs wrote came back as an echo and was dropped, however late.
    let rows = env.db().inbox().unwrap();
    let updates = |p: &str| {
        rows.iter()
            .filter(|r| {
                r.event_type == "workitem.updated"
                    && r.result.as_deref().is_some_and(|x| x.starts_with(p))
            })
            .count()
    };
    assert!(
        updates("applied") <= ROUNDS,
        "{} applied",
        updates("applied")
    );
    assert!(updates("ignored: own change") >= ROUNDS, "{rows:?}");

    // Converged: one more sync sends nothing, and nothing bounces.
    let rev = env.emu.work_item(id).unwrap()["rev"].as_i64().unwrap();
    env.ok(&["sync", "SEC-102"]);
    env.settle();
    assert_eq!(env.emu.work_item(id).unwrap()["rev"].as_i64().unwrap(), rev);
    server.stop();
}
