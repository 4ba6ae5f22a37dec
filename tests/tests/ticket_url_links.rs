//! The ticket's URL in the HTML the connector writes to the work item, end
//! to end through the CLI: a ticket patched to a `javascript:` URL gets its
//! comment and its close note without a link, and an `https` one with it.
//! The comments are read back from the emulator and parsed as HTML.

use crate::common;

use common::cli_env::{Env, example};
use common::{comments_of, seed};

/// Every `href` in the work item's comments, the close note among them.
fn hrefs(env: &Env, id: i32) -> (usize, Vec<String>) {
    let comments = comments_of(&env.emu, seed::PROJECT, id);
    let a = scraper::Selector::parse("a[href]").unwrap();
    let hrefs = comments
        .iter()
        .flat_map(|c| {
            let doc = scraper::Html::parse_fragment(c["text"].as_str().unwrap_or_default());
            doc.select(&a)
                .filter_map(|e| e.value().attr("href").map(str::to_string))
                .collect::<Vec<_>>()
        })
        .collect();
    (comments.len(), hrefs)
}

fn comment_and_close(env: &Env, url: &str) -> i32 {
    env.ok(&["ticket", "import", &example("tickets/SEC-102.json")]);
    env.ok(&[
        "dispatch",
        "--outegration",
        &example("outegrations/agile-bug.json"),
        "SEC-102",
    ]);
    let patch = env.write(
        "url.json",
        &serde_json::json!([{"op": "replace", "path": "/url", "value": url}]).to_string(),
    );
    env.ok(&["ticket", "patch", "SEC-102", &patch]);
    env.ok(&["ticket", "comment", "SEC-102", "--author", "Ann", "patched"]);
    for f in ["F-9101", "F-9102"] {
        env.ok(&["ticket", "finding", "SEC-102", f, "--status", "fixed"]);
    }
    env.ok(&["sync", "SEC-102"]);
    env.db().link("SEC-102").unwrap().unwrap().link.work_item_id
}

#[test]
fn a_ticket_patched_to_a_javascript_url_is_never_a_link_in_its_comment_or_close_note() {
    let env = Env::new();
    let id = comment_and_close(&env, "javascript:alert(document.cookie)");
    let (comments, hrefs) = hrefs(&env, id);
    assert!(comments >= 2, "the ticket comment and the close note");
    assert!(
        hrefs
            .iter()
            .all(|h| h.starts_with("https://") || h.starts_with("http://")),
        "{hrefs:?}"
    );
    assert!(
        !hrefs
            .iter()
            .any(|h| h.to_ascii_lowercase().contains("javascript"))
    );
}

#[test]
fn a_ticket_with_an_https_url_is_linked_from_its_comment_and_close_note() {
    let env = Env::new();
    let id = comment_and_close(&env, "https://secops.example/tickets/SEC-102?tab=1");
    let (_, hrefs) = hrefs(&env, id);
    let to_ticket = hrefs
        .iter()
        .filter(|h| *h == "https://secops.example/tickets/SEC-102?tab=1")
        .count();
    assert!(to_ticket >= 2, "{hrefs:?}");
}
