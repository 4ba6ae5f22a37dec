//! Finding the work item an earlier dispatch created: a WIQL query for the
//! ticket's tag in the project (ADO matches whole tags), then a read of the
//! oldest match, whose tags are checked again before it is adopted.

use serde::Deserialize;
use serde_json::{Value, json};

use super::{CreatedItem, Plan, link_for, ticket_tag};
use crate::client::Client;
use crate::env::Method;
use crate::error::ConnectorError;
use crate::model::{Link, Ticket};
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

/// The oldest work item of the plan's type carrying the ticket's tag, as a link.
pub(super) fn find(
    client: &Client<'_>,
    plan: &Plan,
    ticket: &Ticket,
) -> Result<Option<Link>, ConnectorError> {
    let tag = ticket_tag(&ticket.id);
    let query = format!(
        "SELECT [System.Id] FROM WorkItems WHERE [System.TeamProject] = @project AND [System.WorkItemType] = {} AND [System.Tags] CONTAINS {} ORDER BY [System.Id] ASC",
        literal(&plan.schema.work_item_type),
        literal(&tag)
    );
    let url = client
        .target()
        .project_api(&plan.schema.project.id, "wit/wiql", API_VERSION);
    let result: QueryResult = client.send(
        Method::Post,
        &url,
        "application/json",
        &json!({"query": query}),
    )?;
    for r in result.work_items {
        let item: Value = client.get(&workitem::url(client, r.id))?;
        if !has_tag(&item, &tag) {
            continue;
        }
        let created: CreatedItem = serde_json::from_value(item).map_err(|e| {
            ConnectorError::Other(format!("work item {} is not readable: {e}", r.id))
        })?;
        return Ok(Some(link_for(client, plan, ticket, created, None)));
    }
    Ok(None)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn wiql_literals_double_single_quotes() {
        assert_eq!(literal("secops:O'Brien"), "'secops:O''Brien'");
    }

    #[test]
    fn only_a_whole_tag_matches() {
        let item = json!({"fields": {"System.Tags": "secops; secops:SEC-10"}});
        assert!(!has_tag(&item, "secops:SEC-1"));
        assert!(has_tag(&item, "secops:sec-10"));
    }
}
