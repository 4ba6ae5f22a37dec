//! Finding the work item an earlier dispatch created: a WIQL query for the
//! ticket's tag in the project (ADO matches whole tags), then a read of the
//! oldest match, whose tags are checked again before it is adopted. A tag
//! written by an older version ([`tag::legacy`]) is looked for too when it
//! differs, but it could be another ticket's, so its work item is adopted
//! only when its hyperlink back names this ticket exactly.

use serde::Deserialize;
use serde_json::{Value, json};

use super::{CreatedItem, Plan, link_for, tag, ticket_tag};
use crate::client::Client;
use crate::error::ConnectorError;
use crate::model::{AttachmentState, Link, Ticket};
use crate::target::API_VERSION;
use crate::workitem;

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct QueryResult {
    #[serde(default)]
    work_items: Vec<Ref>,
}

#[derive(Deserialize)]
struct Ref {
    id: i32,
}

/// WIQL string literals double their single quotes.
fn literal(s: &str) -> String {
    format!("'{}'", s.replace('\'', "''"))
}

fn has_tag(item: &Value, tag: &str) -> bool {
    item.pointer("/fields/System.Tags")
        .and_then(Value::as_str)
        .is_some_and(|tags| tags.split(';').any(|t| t.trim().eq_ignore_ascii_case(tag)))
}

/// Whether the item's hyperlink back (as dispatch writes it) is to this
/// ticket: its comment names the id exactly, or its URL is the ticket's.
fn links_back_to(item: &Value, ticket: &Ticket) -> bool {
    let named = format!("SecOps ticket {}", ticket.id);
    item.pointer("/relations")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
        .filter(|r| r["rel"] == "Hyperlink")
        .any(|r| {
            r.pointer("/attributes/comment").and_then(Value::as_str) == Some(named.as_str())
                || (!ticket.url.is_empty() && r["url"].as_str() == Some(ticket.url.as_str()))
        })
}

/// Whether the item's hyperlink back names another ticket: a tag written
/// by an older version may be shared (`SEC,1` and `SEC_1` both wrote
/// `secops:SEC_1`), and then the link back tells whose item it is.
fn links_back_to_another(item: &Value, ticket: &Ticket) -> bool {
    item.pointer("/relations")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
        .filter(|r| r["rel"] == "Hyperlink")
        .filter_map(|r| r.pointer("/attributes/comment").and_then(Value::as_str))
        .filter_map(|c| c.strip_prefix("SecOps ticket "))
        .any(|id| id != ticket.id)
}

/// The oldest work item of the plan's type carrying the ticket's tag (and
/// not linking back to another ticket), as a link; else the oldest
/// carrying its legacy tag that links back to it.
pub(super) fn find(
    client: &Client<'_>,
    plan: &Plan,
    ticket: &Ticket,
    attachment: Option<AttachmentState>,
) -> Result<Option<Link>, ConnectorError> {
    let current = ticket_tag(&ticket.id);
    let legacy = tag::legacy(&ticket.id);
    let mut tags = vec![(current.clone(), false)];
    if !legacy.eq_ignore_ascii_case(&current) {
        tags.push((legacy, true));
    }
    for (tag, must_link_back) in tags {
        for id in tagged(client, plan, &tag)? {
            let url = format!("{}&$expand=relations", workitem::url(client, id));
            let item: Value = client.get(&url)?;
            let owned = if must_link_back {
                links_back_to(&item, ticket)
            } else {
                !links_back_to_another(&item, ticket)
            };
            if !has_tag(&item, &tag) || !owned {
                continue;
            }
            let created: CreatedItem = serde_json::from_value(item).map_err(|e| {
                ConnectorError::Other(format!("work item {id} is not readable: {e}"))
            })?;
            return Ok(Some(link_for(
                client,
                plan,
                ticket,
                created,
                attachment.clone(),
            )));
        }
    }
    Ok(None)
}

/// Ids of the plan's type carrying `tag`, oldest first.
fn tagged(client: &Client<'_>, plan: &Plan, tag: &str) -> Result<Vec<i32>, ConnectorError> {
    let query = format!(
        "SELECT [System.Id] FROM WorkItems WHERE [System.TeamProject] = @project AND [System.WorkItemType] = {} AND [System.Tags] CONTAINS {} ORDER BY [System.Id] ASC",
        literal(&plan.schema.work_item_type),
        literal(tag)
    );
    let url = client
        .target()
        .project_api(&plan.schema.project.id, "wit/wiql", API_VERSION);
    let result: QueryResult = client.query(&url, "application/json", &json!({"query": query}))?;
    Ok(result.work_items.into_iter().map(|r| r.id).collect())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn wiql_literals_double_single_quotes() {
        assert_eq!(literal("secops:O'Brien"), "'secops:O''Brien'");
    }

    #[test]
    fn a_legacy_tag_counts_only_with_a_link_back_naming_the_ticket_exactly() {
        let mut t = crate::model::Ticket {
            id: "SEC,1".into(),
            url: "https://secops.example/tickets/SEC%2C1".into(),
            fields: vec![],
            findings: vec![],
            comments: vec![],
        };
        let other = json!({"relations": [{"rel": "Hyperlink", "url": "https://secops.example/tickets/SEC_1",
            "attributes": {"comment": "SecOps ticket SEC_1"}}]});
        assert!(!links_back_to(&other, &t));
        let own = json!({"relations": [{"rel": "Hyperlink", "url": "https://elsewhere.example/x",
            "attributes": {"comment": "SecOps ticket SEC,1"}}]});
        assert!(links_back_to(&own, &t));
        t.url = "https://secops.example/tickets/SEC_1".into();
        assert!(links_back_to(&other, &t), "or by the ticket's URL");
    }

    #[test]
    fn an_item_linking_back_to_another_ticket_is_not_adopted_by_its_shared_tag() {
        let sec_1 = crate::model::Ticket {
            id: "SEC_1".into(),
            url: String::new(),
            fields: vec![],
            findings: vec![],
            comments: vec![],
        };
        let made_for_comma = json!({"relations": [{"rel": "Hyperlink", "url": "https://x.example/",
            "attributes": {"comment": "SecOps ticket SEC,1"}}]});
        assert!(links_back_to_another(&made_for_comma, &sec_1));
        let made_for_underscore = json!({"relations": [{"rel": "Hyperlink", "url": "https://x.example/",
            "attributes": {"comment": "SecOps ticket SEC_1"}}]});
        assert!(!links_back_to_another(&made_for_underscore, &sec_1));
        assert!(
            !links_back_to_another(&json!({}), &sec_1),
            "no link back: the tag decides"
        );
    }

    #[test]
    fn only_a_whole_tag_matches() {
        let item = json!({"fields": {"System.Tags": "secops; secops:SEC-10"}});
        assert!(!has_tag(&item, "secops:SEC-1"));
        assert!(has_tag(&item, "secops:sec-10"));
    }
}
