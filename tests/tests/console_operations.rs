//! The console's operations page and ticket drawer in a real browser
//! (headless Chromium over WebDriver), on a host whose webhook path is live:
//! the real plugin, `serve` receiving the emulator's service-hook
//! deliveries, subscriptions made by `ticketing-host subscribe`. The page
//! shows each subscription's status in ADO and repairs one ADO disabled;
//! it lists the deliveries with what they changed; the drawer shows a
//! comment someone added to the work item in ADO. Pages are parsed with
//! scraper (html5ever). Screenshots as in `console.rs`.

use crate::common;
use crate::console_support;
use crate::serve_env;

use std::collections::BTreeMap;

use console_support::{Browser, one, texts};
use serve_env::*;
use ticketing_host::server::console;

/// Each stored subscription's status in ADO, by id.
fn statuses_in_ado(env: &Env) -> BTreeMap<String, String> {
    env.db()
        .subscriptions(None)
        .unwrap()
        .into_iter()
        .map(|s| {
            let status = env.emu.subscription(&s.id).expect("in ADO")["status"]
                .as_str()
                .unwrap()
                .to_string();
            (s.id, status)
        })
        .collect()
}

/// Each subscription row of the operations page: its id and shown status.
fn statuses_shown(doc: &scraper::Html) -> BTreeMap<String, String> {
    let rows = scraper::Selector::parse("#subscriptions tr[data-subscription]").unwrap();
    doc.select(&rows)
        .map(|row| {
            let id = row.value().attr("data-subscription").unwrap().to_string();
            let status = scraper::Selector::parse(".status").unwrap();
            let shown = row
                .select(&status)
                .next()
                .unwrap_or_else(|| panic!("subscription {id} has a status cell"))
                .text()
                .collect::<String>()
                .trim()
                .to_string();
            (id, shown)
        })
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_operations_page_repairs_a_subscription_ado_disabled_and_the_drawer_shows_a_comment_from_ado()
 {
    let env = Env::new();
    let id = env.dispatch();
    let server = env.serve("127.0.0.1:0", true);
    env.subscribe(&server);

    // Every delivery fails: ADO retries, puts the subscription on probation,
    // then disables it (as `webhook_repair.rs` does).
    env.set_state_while_deliveries_fail(id, "Active");
    let before = statuses_in_ado(&env);
    assert_eq!(before.len(), 5, "{before:?}");
    assert!(
        before.values().any(|s| s != "enabled"),
        "ADO disabled the updated subscription: {before:?}"
    );

    let options = console::ConsoleOptions::new("127.0.0.1:0".parse().unwrap(), &env.dir);
    let console = console::spawn(common::host(), options.clone()).expect("the console starts");
    let base = console.url();
    let b = Browser::start().await;
    b.login(&base, &options.token).await;

    // Each subscription with the status ADO has for it.
    b.client.goto(&format!("{base}/operations")).await.unwrap();
    b.wait_for("#subscriptions").await;
    let shown = statuses_shown(&b.document().await);
    assert_eq!(shown, before, "the page shows ADO's status of each");
    b.screenshot("16-operations-subscription-disabled").await;

    // Repair from the page: ADO enables them again, and the page says so.
    b.click("#repair").await;
    b.wait_for("#action-output").await;
    let doc = b.document().await;
    let output = texts(&doc, "#action-output").join("\n");
    assert!(
        one(&doc, "#action-output")
            .value()
            .has_class("success", scraper::CaseSensitivity::CaseSensitive),
        "the repair succeeded: {output}"
    );
    let after = statuses_in_ado(&env);
    assert!(after.values().all(|s| s == "enabled"), "{after:?}");
    assert_eq!(
        after.keys().collect::<Vec<_>>(),
        before.keys().collect::<Vec<_>>(),
        "repaired in place"
    );
    assert_eq!(
        statuses_shown(&doc),
        after,
        "the page shows the repaired status"
    );
    b.screenshot("17-operations-repaired").await;

    // Someone comments on the work item in ADO: delivered, applied to the ticket.
    let text = "Patched web-01 and rebooted; please verify.";
    env.comment_in_ado(id, text);
    wait_until("the ADO comment is on the ticket", || {
        env.ticket().comments.iter().any(|c| c.text.contains(text))
    });
    env.settle();

    // The latest deliveries, with what each changed.
    b.client.goto(&format!("{base}/operations")).await.unwrap();
    b.wait_for("#deliveries").await;
    let doc = b.document().await;
    let rows = scraper::Selector::parse("#deliveries tbody tr").unwrap();
    let cell = |row: scraper::ElementRef<'_>, css: &str| {
        let sel = scraper::Selector::parse(css).unwrap();
        row.select(&sel)
            .next()
            .map(|c| c.text().collect::<String>().trim().to_string())
            .unwrap_or_default()
    };
    let commented: Vec<(String, String)> = doc
        .select(&rows)
        .filter(|r| cell(*r, ".event") == "workitem.commented")
        .map(|r| (cell(r, ".work-item"), cell(r, ".result")))
        .collect();
    assert_eq!(
        commented,
        vec![(
            id.to_string(),
            "applied to SEC-102: 0 field(s), 1 comment(s)".to_string()
        )],
        "the comment's delivery and what it changed"
    );
    b.screenshot("18-operations-deliveries").await;

    // The drawer shows the comment, marked as from Azure DevOps.
    b.client
        .goto(&format!("{base}/tickets/SEC-102"))
        .await
        .unwrap();
    b.wait_for("#drawer #comments").await;
    let doc = b.document().await;
    let from_ado = texts(&doc, "#comments li.from-ado .text");
    assert_eq!(from_ado, vec![text.to_string()], "the synced comment");
    assert_eq!(
        texts(&doc, "#comments li.from-ado .badge"),
        vec!["from Azure DevOps".to_string()]
    );
    b.screenshot("19-drawer-comment-from-ado").await;
    b.close().await;
    server.stop();
}
