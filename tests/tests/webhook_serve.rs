//! `ticketing-host serve` end to end over real HTTP on loopback: the
//! emulator delivers service-hook events to the host's webhook server, which
//! stores them in the durable inbox and applies them to the tickets in the
//! state database.

use crate::serve_env;

use std::time::{Duration, Instant};

use ado_emulator::faults::Faults;
use serve_env::*;

#[test]
fn an_ado_state_change_and_comment_reach_the_ticket_through_the_server() {
    let env = Env::new();
    let id = env.dispatch();
    let server = env.serve("127.0.0.1:0", true);
    env.subscribe(&server);
    assert!(
        env.ok(&["subscriptions"])
            .lines()
            .all(|l| l.contains("enabled"))
    );

    env.set_state(id, "Active");
    wait_until("the ticket is IN_PROGRESS", || {
        field(&env.ticket(), "status").as_deref() == Some("IN_PROGRESS")
    });
    env.comment_in_ado(id, "Patched web-01 and rebooted");
    wait_until("the ADO comment is on the ticket", || {
        env.ticket()
            .comments
            .iter()
            .any(|c| c.text.contains("Patched web-01"))
    });
    env.settle();
    assert_eq!(
        env.ticket()
            .comments
            .iter()
            .filter(|c| c.text.contains("Patched web-01"))
            .count(),
        1
    );

    // The deliveries reached the host's server, all answered 200.
    let deliveries = env.emu.deliveries();
    assert!(!deliveries.is_empty());
    assert!(
        deliveries.iter().all(|d| d.url.starts_with(&server.url())),
        "{:?}",
        deliveries.iter().map(|d| &d.url).collect::<Vec<_>>()
    );
    assert!(
        deliveries
            .iter()
            .all(|d| d.outcome == ado_emulator::hooks::Outcome::Status(200))
    );

    // The ticket's next sync pushes nothing back.
    let rev = env.rev(id);
    let out = env.ok(&["sync", "SEC-102"]);
    assert_eq!(
        env.rev(id),
        rev,
        "no echo: the ADO change is not pushed back:\n{out}"
    );

    assert!(
        env.ok(&["unsubscribe"])
            .contains("5 subscription(s) deleted")
    );
    server.stop();
}

#[test]
fn wrong_missing_or_malformed_deliveries_are_refused_and_nothing_is_stored() {
    let env = Env::new();
    env.dispatch();
    let server = env.serve("127.0.0.1:0", true);
    let endpoint = format!("{}/hooks/agile-bug", server.url());
    let creds = env
        .db()
        .hook_credentials(
            &ticketing_host::platform::lifecycle::outegration_key(&env.outegration()),
            "agile-bug",
        )
        .unwrap();
    let body = br#"{"id":"5b1d1b2c-0000-0000-0000-000000000001","eventType":"workitem.updated","resource":{"workItemId":1,"rev":2}}"#;

    assert_eq!(
        ureq::get(&format!("{}/health", server.url()))
            .call()
            .unwrap()
            .status()
            .as_u16(),
        200
    );
    assert_eq!(post(&endpoint, None, body), 401);
    assert_eq!(
        post(
            &endpoint,
            Some(&basic(&creds.username, "wrong-password")),
            body
        ),
        401
    );
    assert_eq!(
        post(&endpoint, Some(&basic("someone", &creds.password)), body),
        401
    );
    assert_eq!(
        post(
            &endpoint,
            Some(&basic(&creds.username, &creds.password)),
            b"{not json"
        ),
        400
    );
    // The server answers 413 as soon as the limit is passed and may close
    // the connection while the client is still sending (a broken pipe).
    let oversized = post_raw(
        &endpoint,
        Some(&basic(&creds.username, &creds.password)),
        &vec![b' '; ticketing_host::server::serve::DEFAULT_BODY_LIMIT + 1],
    );
    assert!(matches!(oversized, Ok(413) | Err(_)), "{oversized:?}");
    assert_eq!(
        post(
            &format!("{}/hooks/unknown", server.url()),
            Some(&basic(&creds.username, &creds.password)),
            body
        ),
        404
    );
    assert!(
        env.db().inbox().unwrap().is_empty(),
        "nothing refused is stored"
    );
    server.stop();
}

#[test]
fn duplicated_reordered_and_retried_deliveries_make_exactly_one_change_each() {
    let env = Env::new();
    let id = env.dispatch();
    let server = env.serve("127.0.0.1:0", true);
    env.subscribe(&server);
    env.emu.set_faults(Faults {
        seed: 7,
        hook_duplicate_rate: 0.5,
        hook_reorder_rate: 0.5,
        hook_failure_rate: 0.3,
        ..Faults::default()
    });

    let comments: Vec<String> = (0..6).map(|i| format!("ADO note number {i}")).collect();
    let states = ["Active", "Resolved", "Active", "Resolved"];
    for (i, state) in states.iter().enumerate() {
        env.set_state(id, state);
        env.comment_in_ado(id, &comments[i]);
    }
    env.comment_in_ado(id, &comments[4]);
    env.comment_in_ado(id, &comments[5]);
    env.settle();

    let deliveries = env.emu.deliveries();
    let attempts = deliveries.len();
    let distinct: std::collections::HashSet<_> = deliveries
        .iter()
        .map(|d| (&d.subscription_id, d.notification_id))
        .collect();
    assert!(
        attempts > distinct.len(),
        "the faults duplicated or retried deliveries ({attempts} attempts)"
    );
    let t = env.ticket();
    for c in &comments {
        assert_eq!(
            t.comments
                .iter()
                .filter(|x| x.text.contains(c.as_str()))
                .count(),
            1,
            "{c} exactly once: {:?}",
            t.comments
        );
    }
    assert_eq!(
        field(&t, "status").as_deref(),
        Some("RESOLVED"),
        "inbox: {:#?}",
        env.db()
            .inbox()
            .unwrap()
            .iter()
            .map(|r| (&r.event_type, &r.result))
            .collect::<Vec<_>>()
    );
    // Every event id applied at most once.
    let rows = env.db().inbox().unwrap();
    let mut applied: Vec<&str> = rows
        .iter()
        .filter(|r| {
            r.result
                .as_deref()
                .is_some_and(|s| s.starts_with("applied"))
        })
        .map(|r| r.event_id.as_str())
        .collect();
    let n = applied.len();
    applied.sort_unstable();
    applied.dedup();
    assert_eq!(applied.len(), n, "an event was applied twice");
    server.stop();
}

#[test]
fn deliveries_accepted_before_a_stop_are_applied_on_restart() {
    let env = Env::new();
    let id = env.dispatch();
    // The worker does not run: the host "dies" after acknowledging.
    let server = env.serve("127.0.0.1:0", false);
    let addr = server.addr().to_string();
    env.subscribe(&server);
    env.set_state(id, "Active");
    env.comment_in_ado(id, "Rebooted after the patch");
    assert!(env.emu.wait_for_hooks(Duration::from_secs(30)));
    assert!(
        env.emu
            .deliveries()
            .iter()
            .all(|d| d.outcome == ado_emulator::hooks::Outcome::Status(200)),
        "acknowledged"
    );
    let pending = env.db().inbox_pending().unwrap().len();
    assert!(pending >= 2, "{pending} pending rows");
    assert_ne!(
        field(&env.ticket(), "status").as_deref(),
        Some("IN_PROGRESS"),
        "not applied yet"
    );
    assert!(env.ticket().comments.is_empty(), "not applied yet");
    server.stop();

    // Restart on the same address: the pending rows are processed first.
    let server = env.serve(&addr, true);
    env.settle();
    let t = env.ticket();
    assert_eq!(field(&t, "status").as_deref(), Some("IN_PROGRESS"));
    assert_eq!(
        t.comments
            .iter()
            .filter(|c| c.text.contains("Rebooted after the patch"))
            .count(),
        1
    );
    server.stop();

    // Processing again (another restart) applies nothing twice.
    let before = env.ticket();
    let server = env.serve(&addr, true);
    std::thread::sleep(Duration::from_millis(300));
    server.stop();
    assert_eq!(env.ticket(), before);
}

#[test]
fn fifty_alternating_changes_do_not_bounce() {
    let env = Env::new();
    let id = env.dispatch();
    let server = env.serve("127.0.0.1:0", true);
    env.subscribe(&server);
    env.set_state(id, "Active");
    wait_until("the ticket is IN_PROGRESS", || {
        field(&env.ticket(), "status").as_deref() == Some("IN_PROGRESS")
    });
    env.settle();

    let rev0 = env.rev(id);
    let applied0 = env.applied_rows();
    let started = Instant::now();
    const ROUNDS: usize = 25; // each round: one change on the ticket, one in ADO
    for i in 0..ROUNDS {
        // By hand on the ticket, then synced to ADO; its echo comes back and is ignored.
        env.ok(&[
            "ticket",
            "set",
            "SEC-102",
            &format!("title=Round {i}: exposed admin panel"),
        ]);
        env.ok(&["sync", "SEC-102"]);
        env.settle();
        // By hand in ADO; it comes back to the ticket.
        let (state, status) = if i % 2 == 0 {
            ("Resolved", "RESOLVED")
        } else {
            ("Active", "IN_PROGRESS")
        };
        env.set_state(id, state);
        wait_until("the ADO change reached the ticket", || {
            field(&env.ticket(), "status").as_deref() == Some(status)
        });
        env.settle();
    }
    // One revision per change made by hand: nothing bounced back to ADO.
    assert_eq!(env.rev(id) - rev0, 2 * ROUNDS as i64);
    // One ticket change per ADO change: no echo applied.
    assert_eq!(env.applied_rows() - applied0, ROUNDS);
    assert_eq!(
        env.emu.work_item(id).unwrap()["fields"]["System.Title"],
        format!("Round {}: exposed admin panel", ROUNDS - 1)
    );
    // A last sync has nothing to push.
    env.ok(&["sync", "SEC-102"]);
    env.settle();
    assert_eq!(env.rev(id) - rev0, 2 * ROUNDS as i64);
    eprintln!(
        "{} alternating changes in {:?}",
        2 * ROUNDS,
        started.elapsed()
    );
    server.stop();
}
