//! Dispatch: a ticket becomes one work item, created in one JSON Patch
//! request with a hyperlink back to the ticket and a tag that identifies it.

use serde::Deserialize;
use serde_json::{Value, json};

use crate::client::Client;
use crate::config::{self, Config};
use crate::env::{Env, Method};
use crate::error::{ConnectorError, Issue};
use crate::mapping;
use crate::model::{Connection, Link, SyncState, Ticket};
use crate::schema::{TypeSchema, type_schema};
use crate::target::{API_VERSION, segment};

/// Fields ADO fills itself on create; `alwaysRequired` on them is not ours to meet.
const SERVER_FILLED: &[&str] = &[
    "System.Id", "System.Rev", "System.AreaId", "System.IterationId", "System.AreaPath", "System.IterationPath",
    "System.TeamProject", "System.WorkItemType", "System.State", "System.Reason", "System.CreatedBy",
    "System.CreatedDate", "System.ChangedBy", "System.ChangedDate", "System.AuthorizedAs", "System.AuthorizedDate",
    "System.RevisedDate", "System.Watermark", "System.NodeName", "System.PersonId",
];

/// The exact request a dispatch would send, and what is wrong with it.
#[derive(Debug, Clone, PartialEq)]
pub struct Preview {
    pub method: String,
    pub url: String,
    pub body: String,
    pub problems: Vec<Issue>,
}

/// The tag that marks a work item as this ticket's, so a retried dispatch
/// can find it again.
pub fn ticket_tag(ticket_id: &str) -> String {
    let clean: String = ticket_id.chars().map(|c| if c == ',' || c == ';' || c.is_control() { '_' } else { c }).collect();
    format!("secops:{clean}")
}

struct Plan {
    url: String,
    ops: Vec<Value>,
    values: serde_json::Map<String, Value>,
    problems: Vec<Issue>,
    schema: TypeSchema,
}

fn plan(client: &Client<'_>, config: &Config, ticket: &Ticket) -> Result<Plan, ConnectorError> {
    let schema = type_schema(client, &config.work_item_type)?;
    let mut problems = Vec::new();
    for name in &config.mandatory_fields {
        if ticket.field(name).is_none_or(|v| v.is_empty()) {
            problems.push(Issue::new(format!("ticket.{name}"), "mandatory", format!("ticket field `{name}` is mandatory but empty")));
        }
    }
    if ticket.id.trim().is_empty() {
        problems.push(Issue::new("ticket.id", "required", "the ticket has no id"));
    }
    let url_ok = url::Url::parse(&ticket.url).is_ok_and(|u| matches!(u.scheme(), "http" | "https"));
    if !url_ok {
        problems.push(Issue::new("ticket.url", "url", format!("`{}` is not an http(s) URL to link back to", ticket.url)));
    }

    let (mapped, issues) = mapping::apply("dispatch", &config.dispatch, ticket);
    problems.extend(issues);
    let mut values = serde_json::Map::new();
    for m in &mapped {
        let Some(field) = schema.fields.iter().find(|f| f.reference_name.eq_ignore_ascii_case(&m.target)) else {
            problems.push(Issue::new(
                m.target.clone(),
                "unknown-field",
                format!("`{}` ({}) is not a field of {}", m.target, m.rule_path, schema.work_item_type),
            ));
            continue;
        };
        if field.read_only {
            problems.push(Issue::new(field.reference_name.clone(), "read-only", format!("{} is read-only ({})", field.reference_name, m.rule_path)));
            continue;
        }
        match mapping::coerce(&m.value, field) {
            Ok(v) => {
                values.insert(field.reference_name.clone(), v);
            }
            Err(issue) => problems.push(issue),
        }
    }

    if let Some(state) = &config.initial_state {
        if schema.initial_states.iter().any(|s| s == state) {
            values.insert("System.State".into(), json!(state));
        } else {
            problems.push(Issue::new(
                "$.initial_state",
                "initial-state",
                format!(
                    "`{state}` is not a valid state for a new {}; valid initial states: {}",
                    schema.work_item_type,
                    schema.initial_states.join(", ")
                ),
            ));
        }
    }
    if let Some(area) = &config.area_path {
        values.insert("System.AreaPath".into(), json!(area));
    }
    if let Some(iteration) = &config.iteration_path {
        values.insert("System.IterationPath".into(), json!(iteration));
    }
    let mut tags: Vec<String> = values
        .get("System.Tags")
        .and_then(Value::as_str)
        .map(|t| t.split(';').map(|s| s.trim().to_string()).filter(|s| !s.is_empty()).collect())
        .unwrap_or_default();
    tags.extend(config.tags.iter().cloned());
    tags.push(ticket_tag(&ticket.id));
    let mut unique = Vec::new();
    for tag in tags {
        if let Some(problem) = config::tag_problem(&tag) {
            problems.push(Issue::new("System.Tags", "tag", format!("tag `{tag}` {problem}")));
        } else if !unique.iter().any(|t: &String| t.eq_ignore_ascii_case(&tag)) {
            unique.push(tag);
        }
    }
    values.insert("System.Tags".into(), json!(unique.join("; ")));

    for field in &schema.fields {
        let server_filled = SERVER_FILLED.iter().any(|s| s.eq_ignore_ascii_case(&field.reference_name));
        let given = values.keys().any(|k| k.eq_ignore_ascii_case(&field.reference_name));
        if field.required && field.default_value.is_none() && !server_filled && !given {
            problems.push(Issue::new(
                field.reference_name.clone(),
                "required",
                format!("{} ({}) is required by {} but no dispatch rule fills it", field.name, field.reference_name, schema.work_item_type),
            ));
        }
    }

    let mut ops: Vec<Value> = values
        .iter()
        .map(|(k, v)| json!({"op": "add", "path": format!("/fields/{k}"), "value": v}))
        .collect();
    if url_ok {
        ops.push(json!({"op": "add", "path": "/relations/-", "value": {
            "rel": "Hyperlink",
            "url": ticket.url,
            "attributes": {"comment": format!("SecOps ticket {}", ticket.id)}
        }}));
    }
    let url = client.target().project_api(
        &schema.project.id,
        &format!("wit/workitems/${}", segment(&schema.work_item_type)),
        API_VERSION,
    );
    Ok(Plan { url, ops, values, problems, schema })
}

/// Builds the request without sending it; with `validate_remote` ADO checks
/// it too (`validateOnly=true`) and its objections join the problems.
pub fn preview(
    env: &dyn Env,
    connection: &Connection,
    config_text: &str,
    ticket: &Ticket,
    validate_remote: bool,
) -> Result<Preview, ConnectorError> {
    let config = config::parse(config_text)?;
    let client = Client::new(env, connection)?;
    let mut plan = plan(&client, &config, ticket)?;
    let body = Value::Array(plan.ops.clone());
    if validate_remote && plan.problems.is_empty() {
        let url = format!("{}&validateOnly=true", plan.url);
        match client.send::<Value>(Method::Post, &url, "application/json-patch+json", &body) {
            Ok(_) => {}
            Err(ConnectorError::Validation(issues)) => plan.problems.extend(issues),
            Err(ConnectorError::Remote { status: 400, code, message }) => plan.problems.push(Issue::new(
                "$",
                code.unwrap_or_else(|| "remote".into()),
                message,
            )),
            Err(e) => return Err(e),
        }
    }
    Ok(Preview {
        method: "POST".into(),
        url: plan.url,
        body: serde_json::to_string_pretty(&body).unwrap_or_default(),
        problems: plan.problems,
    })
}

#[derive(Deserialize)]
struct CreatedItem {
    id: i32,
    rev: i32,
    url: String,
    #[serde(default, rename = "_links")]
    links: Option<Value>,
}

/// Creates the work item in one request and returns the link to store.
pub fn create(env: &dyn Env, connection: &Connection, config_text: &str, ticket: &Ticket) -> Result<Link, ConnectorError> {
    let config = config::parse(config_text)?;
    let client = Client::new(env, connection)?;
    let plan = plan(&client, &config, ticket)?;
    if !plan.problems.is_empty() {
        return Err(ConnectorError::Validation(plan.problems));
    }
    let item: CreatedItem =
        client.send(Method::Post, &plan.url, "application/json-patch+json", &Value::Array(plan.ops))?;
    let web_url = item
        .links
        .as_ref()
        .and_then(|l| l.pointer("/html/href"))
        .and_then(Value::as_str)
        .map(str::to_string)
        .unwrap_or_else(|| format!("{}/{}/_workitems/edit/{}", client.target().base(), segment(&plan.schema.project.name), item.id));
    let state = SyncState { fields: plan.values };
    Ok(Link {
        ticket_id: ticket.id.clone(),
        project: plan.schema.project.id,
        work_item_type: plan.schema.work_item_type,
        work_item_id: item.id,
        rev: item.rev,
        url: item.url,
        web_url,
        sync_state: serde_json::to_string(&state).unwrap_or_default(),
    })
}

#[cfg(test)]
mod tests;
