//! Ticket comments and trigger comments, posted to the work item once each.
//!
//! Every comment the connector writes ends with a reference line
//! (`ref: secops SEC-1#C-7`, `ref: secops SEC-1 trigger severity MEDIUM→CRITICAL r4`).
//! Before posting, the item's comments are read and a comment whose
//! reference is already there is adopted instead of posted again: a push
//! retried after a lost answer never duplicates. The ADO ids are kept in the
//! link, which is also how the webhook direction recognises our own comments.

use serde::Deserialize;
use serde_json::json;

use super::lifecycle::escape;
use crate::client::{Client, uncertain};
use crate::config::Config;
use crate::config::sync::{DEFAULT_TRIGGER_MESSAGE, Trigger};
use crate::env::Method;
use crate::error::ConnectorError;
use crate::mapping::{labels, markdown};
use crate::model::{Comment, Link, SyncState, Ticket};
use crate::target::segment;

/// The comments API is still a preview in 7.1.
const COMMENTS_API: &str = "7.1-preview.4";
/// Pages of comments read at most when looking for our references.
const MAX_PAGES: usize = 50;

/// How many of each kind were posted (adopted ones are not counted).
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub(super) struct Posted {
    pub comments: u32,
    pub triggers: u32,
}

enum Kind {
    Comment(String),
    Trigger(String),
}

struct Pending {
    kind: Kind,
    reference: String,
    html: String,
}

#[derive(Deserialize)]
struct AdoComment {
    id: i64,
    #[serde(default)]
    text: String,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct CommentPage {
    #[serde(default)]
    comments: Vec<AdoComment>,
    #[serde(default)]
    continuation_token: Option<String>,
}

fn reference_line(reference: &str) -> String {
    format!("<p><small>ref: secops {}</small></p>", escape(reference))
}

fn ticket_comment(ticket: &Ticket, c: &Comment) -> Pending {
    let reference = format!("{}#{}", ticket.id, c.id);
    let html = format!(
        "<p><b>{author}</b> commented on SecOps ticket {link} at {created}:</p>{body}{refline}",
        author = escape(&c.author),
        link = markdown::link(&ticket.url, &ticket.id),
        created = escape(&c.created),
        body = markdown::to_html(&c.text),
        refline = reference_line(&reference),
    );
    Pending {
        kind: Kind::Comment(c.id.clone()),
        reference,
        html,
    }
}

fn matches(list: &[String], value: &str) -> bool {
    list.is_empty() || list.iter().any(|v| v.eq_ignore_ascii_case(value.trim()))
}

/// The trigger comment for a transition of `before` → `after`, if it fires.
fn trigger_comment(
    config: &Config,
    t: &Trigger,
    link: &Link,
    before: &Ticket,
    after: &Ticket,
) -> Option<Pending> {
    let from = before
        .field(&t.field)
        .map(|v| v.display())
        .unwrap_or_default();
    let to = after
        .field(&t.field)
        .map(|v| v.display())
        .unwrap_or_default();
    if from == to || !matches(&t.from, &from) || !matches(&t.to, &to) {
        return None;
    }
    let shown = |v: &str| {
        if v.is_empty() {
            "(empty)".to_string()
        } else {
            v.to_string()
        }
    };
    // The link's revision makes a later, identical transition a new comment
    // while a retry of this push (same link) finds the one it posted.
    let reference = format!(
        "{} trigger {} {}→{} r{}",
        after.id,
        t.field,
        shown(&from),
        shown(&to),
        link.rev
    );
    let text = t
        .message
        .as_deref()
        .unwrap_or(DEFAULT_TRIGGER_MESSAGE)
        .replace("{label}", &labels::label_of(&t.field, &config.labels))
        .replace("{field}", &t.field)
        .replace("{from}", &shown(&from))
        .replace("{to}", &shown(&to))
        .replace("{ticket}", &after.id)
        .replace("{url}", &after.url);
    let html = format!(
        "<p>{}</p>{}",
        linkify(&escape(&text), &after.url),
        reference_line(&reference)
    );
    Some(Pending {
        kind: Kind::Trigger(reference.clone()),
        reference,
        html,
    })
}

/// Makes the ticket URL in an escaped message a link.
fn linkify(escaped: &str, url: &str) -> String {
    let e = escape(url);
    if url.is_empty() || !markdown::safe_url(url) {
        return escaped.to_string();
    }
    escaped.replacen(&e, &format!("<a href=\"{e}\">{e}</a>"), 1)
}

fn comments_url(client: &Client<'_>, link: &Link) -> String {
    client.target().project_api(
        &segment(&link.project),
        &format!("wit/workItems/{}/comments", link.work_item_id),
        COMMENTS_API,
    )
}

/// Every comment of the item (id and text), following continuation tokens.
fn existing(client: &Client<'_>, link: &Link) -> Result<Vec<AdoComment>, ConnectorError> {
    let base = comments_url(client, link);
    let mut all = Vec::new();
    let mut token: Option<String> = None;
    for _ in 0..MAX_PAGES {
        let url = match &token {
            Some(t) => format!(
                "{base}&$top=200&continuationToken={}",
                crate::target::query_value(t)
            ),
            None => format!("{base}&$top=200"),
        };
        let page: CommentPage = client.get(&url)?;
        all.extend(page.comments);
        match page.continuation_token.filter(|t| !t.is_empty()) {
            Some(t) => token = Some(t),
            None => break,
        }
    }
    Ok(all)
}

/// Comment posts sent at most for one comment in one call; each after the
/// first only once the comment is known not to be on the item.
const MAX_SENDS: u32 = 3;
/// Wait after an uncertain post before reading the comments back.
const UNCERTAIN_WAIT: std::time::Duration = std::time::Duration::from_secs(1);

/// Posts one comment. A post whose outcome is uncertain (a 502/503/504, a
/// reset, a timeout: ADO may have stored it) is not sent again blindly:
/// the item's comments are read back and one carrying `marker` is adopted.
fn post_once(
    client: &Client<'_>,
    link: &Link,
    url: &str,
    marker: &str,
    html: &str,
) -> Result<AdoComment, ConnectorError> {
    let mut sent = 0;
    loop {
        sent += 1;
        let err = match client.send(
            Method::Post,
            url,
            "application/json",
            &json!({"text": html}),
        ) {
            Ok(created) => return Ok(created),
            Err(e) if !uncertain(&e) || sent >= MAX_SENDS => return Err(e),
            Err(e) => e,
        };
        client.env().sleep(UNCERTAIN_WAIT);
        let Ok(now) = existing(client, link) else {
            return Err(err);
        };
        if let Some(c) = now.into_iter().find(|c| c.text.contains(marker)) {
            return Ok(c);
        }
    }
}

/// Posts what is new since the link's state, adopting what a lost answer
/// already posted.
pub(super) fn post(
    client: &Client<'_>,
    config: &Config,
    link: &Link,
    state: &mut SyncState,
    before: &Ticket,
    after: &Ticket,
) -> Result<Posted, ConnectorError> {
    let mut todo: Vec<Pending> = Vec::new();
    if config.sync.comments {
        todo.extend(
            after
                .comments
                .iter()
                .filter(|c| !state.comments.contains_key(&c.id))
                .map(|c| ticket_comment(after, c)),
        );
    }
    for t in &config.sync.triggers {
        if let Some(p) = trigger_comment(config, t, link, before, after)
            && !state.triggers.contains_key(&p.reference)
        {
            todo.push(p);
        }
    }
    let mut posted = Posted::default();
    if todo.is_empty() {
        return Ok(posted);
    }
    let already = existing(client, link)?;
    let url = format!("{}&format=html", comments_url(client, link));
    for p in todo {
        let marker = format!("ref: secops {}", escape(&p.reference));
        let id = match already.iter().find(|c| c.text.contains(&marker)) {
            Some(c) => c.id,
            None => {
                let created = post_once(client, link, &url, &marker, &p.html)?;
                match p.kind {
                    Kind::Comment(_) => posted.comments += 1,
                    Kind::Trigger(_) => posted.triggers += 1,
                }
                created.id
            }
        };
        match p.kind {
            Kind::Comment(cid) => state.comments.insert(cid, id),
            Kind::Trigger(key) => state.triggers.insert(key, id),
        };
    }
    Ok(posted)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ticket_with_url(url: &str) -> Ticket {
        Ticket {
            id: "SEC-1".into(),
            url: url.into(),
            fields: vec![],
            findings: vec![],
            comments: vec![],
        }
    }

    fn hrefs(html: &str) -> Vec<String> {
        let doc = scraper::Html::parse_fragment(html);
        let a = scraper::Selector::parse("a[href]").unwrap();
        doc.select(&a)
            .filter_map(|e| e.value().attr("href").map(str::to_string))
            .collect()
    }

    #[test]
    fn a_ticket_url_with_an_unsafe_scheme_never_becomes_a_link_in_a_comment() {
        let c = Comment {
            id: "C-1".into(),
            author: "Alice".into(),
            text: "hi".into(),
            created: "2026-12-01T00:00:00Z".into(),
        };
        for url in [
            "javascript:alert(1)",
            " JavaScript:alert(1)",
            "data:text/html,x",
            "vbscript:x",
        ] {
            let p = ticket_comment(&ticket_with_url(url), &c);
            assert!(hrefs(&p.html).is_empty(), "{url}: {}", p.html);
            assert!(p.html.contains("SEC-1"), "the id is still shown");
        }
        let p = ticket_comment(&ticket_with_url("https://secops.example/t/SEC-1"), &c);
        assert_eq!(hrefs(&p.html), ["https://secops.example/t/SEC-1"]);
    }
}
