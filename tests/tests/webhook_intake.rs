//! The webhook server's intake over real HTTP: deliveries as large as ADO
//! sends for a work item with a long text field are accepted and applied;
//! a body that is not JSON gets 415 and one past the limit 413, with
//! nothing stored.

use crate::common;
use crate::serve_env;

use serve_env::*;
use ticketing_host::server::serve::{ServeOptions, spawn};

/// 700,000 characters, three bytes each in UTF-8 but for the spaces.
fn long_repro_steps() -> String {
    let sentence = "缓冲区溢出，攻击者可远程执行代码。 ";
    let n = 700_000 / sentence.chars().count() + 1;
    let text: String = sentence.repeat(n).chars().take(700_000).collect();
    assert_eq!(text.chars().count(), 700_000);
    text
}

fn credentials(env: &Env) -> String {
    let creds = env
        .db()
        .hook_credentials(
            &ticketing_host::platform::lifecycle::outegration_key(&env.outegration()),
            "agile-bug",
        )
        .unwrap();
    basic(&creds.username, &creds.password)
}

fn post_as(url: &str, auth: &str, content_type: Option<&str>, body: &[u8]) -> Result<u16, String> {
    let agent = ureq::Agent::new_with_config(
        ureq::Agent::config_builder()
            .http_status_as_error(false)
            .build(),
    );
    let mut req = agent.post(url).header("Authorization", auth);
    if let Some(ct) = content_type {
        req = req.header("Content-Type", ct);
    }
    req.send(body)
        .map(|r| r.status().as_u16())
        .map_err(|e| e.to_string())
}

#[test]
fn a_state_change_of_a_work_item_with_700000_characters_of_repro_steps_reaches_the_ticket() {
    let env = Env::new();
    let id = env.dispatch();
    let server = env.serve("127.0.0.1:0", true);
    env.subscribe(&server);

    common::edit_in_ado(
        &env.emu,
        id,
        serde_json::json!([{"op": "add", "path": "/fields/Microsoft.VSTS.TCM.ReproSteps", "value": long_repro_steps()}]),
    );
    env.set_state(id, "Active");
    wait_until("the ticket is IN_PROGRESS", || {
        field(&env.ticket(), "status").as_deref() == Some("IN_PROGRESS")
    });
    env.settle();

    // What ADO sent: the Repro Steps edit carries the field three times
    // (old, new, revision), the state change once (in the revision).
    let updates: Vec<(usize, bool)> = env
        .emu
        .deliveries()
        .iter()
        .filter(|d| d.event_type == "workitem.updated")
        .map(|d| {
            (
                serde_json::to_vec(&d.body).unwrap().len(),
                d.outcome == ado_emulator::hooks::Outcome::Status(200),
            )
        })
        .collect();
    let sizes: Vec<usize> = updates.iter().map(|(n, _)| *n).collect();
    eprintln!("workitem.updated delivery sizes: {sizes:?}");
    assert!(
        sizes.len() >= 2 && sizes.iter().all(|n| *n > 1 << 20),
        "deliveries well over the old 1 MiB limit: {sizes:?}"
    );
    assert!(
        updates.iter().all(|(_, accepted)| *accepted),
        "every delivery accepted the first time: {updates:?}"
    );
    server.stop();
}

#[test]
fn a_delivery_that_is_not_json_gets_415_and_nothing_is_stored() {
    let env = Env::new();
    env.dispatch();
    let server = env.serve("127.0.0.1:0", true);
    let endpoint = format!("{}/hooks/agile-bug", server.url());
    let auth = credentials(&env);
    let body = br#"{"id":"5b1d1b2c-0000-0000-0000-000000000001","eventType":"workitem.updated","resource":{"workItemId":1,"rev":2}}"#;
    for content_type in [
        Some("text/plain"),
        Some("application/x-www-form-urlencoded"),
        Some("text/html; charset=utf-8"),
        None,
    ] {
        assert_eq!(
            post_as(&endpoint, &auth, content_type, body),
            Ok(415),
            "{content_type:?}"
        );
    }
    assert!(
        env.db().inbox().unwrap().is_empty(),
        "nothing refused is stored"
    );
    // The same body as JSON is taken (and refused by the plugin only for
    // naming no subscription of ours, which is not the intake's business).
    assert_ne!(
        post_as(
            &endpoint,
            &auth,
            Some("application/json; charset=utf-8"),
            body
        ),
        Ok(415)
    );
    server.stop();
}

#[test]
fn a_delivery_past_the_limit_gets_413_and_nothing_is_stored() {
    let env = Env::new();
    env.dispatch();
    let options = ServeOptions {
        body_limit: 64 << 10,
        ..ServeOptions::new("127.0.0.1:0".parse().unwrap(), env.state())
    };
    let server = spawn(common::host(), options).unwrap();
    let endpoint = format!("{}/hooks/agile-bug", server.url());
    let mut body =
        br#"{"subscriptionId":"1a2b3c4d-0000-4000-8000-00000000abcd","resource":""#.to_vec();
    body.resize(100 << 10, b'a');
    body.extend_from_slice(b"\"}");
    let answer = post_as(
        &endpoint,
        &credentials(&env),
        Some("application/json"),
        &body,
    );
    // The server may answer 413 and close while the client still sends.
    assert!(matches!(answer, Ok(413) | Err(_)), "{answer:?}");
    assert!(env.db().inbox().unwrap().is_empty());
    server.stop();
}
