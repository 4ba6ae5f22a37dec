//! `subscriptions --rotate` against the emulator with the real component and
//! a running `serve`: the webhook password is replaced by a new random one,
//! ADO's subscriptions are replaced by ones sending it, the old password
//! stops working at `serve` (401) and the new one works (a real event is
//! applied); neither password is ever printed.

use crate::serve_env;

use std::collections::BTreeSet;

use serve_env::{Env, basic, post, wait_until};

/// The ids of the subscriptions the state database holds.
fn stored_ids(env: &Env) -> BTreeSet<String> {
    let subs = env.db().subscriptions(None).unwrap();
    subs.into_iter().map(|s| s.id).collect()
}

#[test]
fn rotating_the_webhook_password_replaces_the_subscriptions_and_the_old_password_stops_working() {
    let env = Env::new();
    let id = env.dispatch();
    let server = env.serve("127.0.0.1:0", true);
    env.subscribe(&server);
    env.settle();
    let url = format!("{}/hooks/agile-bug", server.url());
    let key = ticketing_host::platform::lifecycle::outegration_key(&env.outegration());
    let old = env.db().hook_credentials(&key, "agile-bug").unwrap();
    let old_ids = stored_ids(&env);
    assert_eq!(old_ids.len(), 5);
    let old_auth = basic(&old.username, &old.password);
    // A delivery with valid credentials and a body that is no event: past
    // the credentials, refused by the plugin as malformed (400), not 401.
    assert_eq!(post(&url, Some(&old_auth), b"{}"), 400);

    let out = env.ok(&["subscriptions", "--rotate"]);
    let new = env.db().hook_credentials(&key, "agile-bug").unwrap();
    assert_ne!(new.password, old.password, "a new password is stored");
    assert_eq!((&new.username, &new.name), (&old.username, &old.name));
    for secret in [&old.password, &new.password] {
        assert!(!out.contains(secret.as_str()), "no password printed: {out}");
    }
    assert!(out.contains("webhook password rotated"), "{out}");

    // ADO: the old subscriptions are gone, the new ones deliver to the same URL.
    let new_ids = stored_ids(&env);
    assert_eq!(new_ids.len(), 5);
    assert!(
        new_ids.is_disjoint(&old_ids),
        "the subscriptions were replaced"
    );
    for id in &old_ids {
        assert!(env.emu.subscription(id).is_none(), "{id} deleted in ADO");
    }
    for id in &new_ids {
        let s = env.emu.subscription(id).expect("created in ADO");
        assert_eq!(s["status"], "enabled");
        assert_eq!(s["consumerInputs"]["url"], url.as_str());
        assert_eq!(
            s["consumerInputs"]["basicAuthUsername"],
            new.username.as_str()
        );
        let shown = s.to_string();
        assert!(
            !shown.contains(&new.password),
            "ADO masks the password it returns"
        );
    }

    // The running server: the old password stops working, the new one works.
    wait_until("serve refuses the old password", || {
        post(&url, Some(&old_auth), b"{}") == 401
    });
    assert_eq!(
        post(&url, Some(&basic(&new.username, &new.password)), b"{}"),
        400
    );

    // A real event after the rotation is delivered with the new password
    // and applied once.
    env.comment_in_ado(id, "after the rotation.");
    env.settle();
    env.assert_each_comment_once(["after the rotation.".to_string()]);
    let refused: Vec<_> = env
        .emu
        .deliveries()
        .into_iter()
        .filter(|d| new_ids.contains(&d.subscription_id))
        .filter(|d| d.outcome != ado_emulator::hooks::Outcome::Status(200))
        .collect();
    assert!(refused.is_empty(), "new subscriptions refused: {refused:?}");
    // And `subscriptions` finds them all enabled.
    env.ok(&["subscriptions"]);
    server.stop();
}
