//! Dispatch: a ticket becomes one work item, created in one JSON Patch
//! request with a hyperlink back to the ticket and a tag that identifies it.

use std::time::Duration;

use serde::Deserialize;
use serde_json::{Value, json};

use crate::attachments;
use crate::client::{Client, uncertain};
use crate::config::{self, Config};
use crate::env::{Env, Method};
use crate::error::{ConnectorError, Issue};
use crate::mapping::{self, validate};
use crate::model::{AttachmentState, Connection, Link, SyncState, Ticket};
use crate::schema::{TypeSchema, type_schema};
use crate::target::{API_VERSION, segment};

mod adopt;
mod tag;

pub use tag::ticket_tag;

/// The exact request a dispatch would send, and what is wrong with it.
#[derive(Debug, Clone, PartialEq)]
pub struct Preview {
    pub method: String,
    pub url: String,
    pub body: String,
    pub problems: Vec<Issue>,
    /// The findings file the dispatch would upload (name and size).
    pub attachment: Option<attachments::PreviewFile>,
}

/// Adds the config's tags and the ticket's own tag to the mapped
/// `System.Tags`, without duplicates; a tag ADO would refuse is a problem.
pub(crate) fn merge_tags(
    config: &Config,
    ticket_id: &str,
    values: &mut serde_json::Map<String, Value>,
) -> Vec<Issue> {
    let mut problems = Vec::new();
    let mut tags: Vec<String> = values
        .get("System.Tags")
        .and_then(Value::as_str)
        .map(|t| {
            t.split(';')
                .map(|s| s.trim().to_string())
                .filter(|s| !s.is_empty())
                .collect()
        })
        .unwrap_or_default();
    tags.extend(config.tags.iter().cloned());
    tags.push(ticket_tag(ticket_id));
    let mut unique = Vec::new();
    for tag in tags {
        if let Some(problem) = config::tag_problem(&tag) {
            problems.push(Issue::new(
                "System.Tags",
                "tag",
                format!("tag `{tag}` {problem}"),
            ));
        } else if !unique.iter().any(|t: &String| t.eq_ignore_ascii_case(&tag)) {
            unique.push(tag);
        }
    }
    values.insert("System.Tags".into(), json!(unique.join("; ")));
    problems
}

struct Plan {
    url: String,
    ops: Vec<Value>,
    values: serde_json::Map<String, Value>,
    problems: Vec<Issue>,
    schema: std::rc::Rc<TypeSchema>,
    /// The ADO fields the `from_ado` rules read: their values at the create
    /// are the baseline a late webhook delivery is compared with.
    watched: Vec<String>,
}

fn plan(client: &Client<'_>, config: &Config, ticket: &Ticket) -> Result<Plan, ConnectorError> {
    let schema = type_schema(client, &config.work_item_type)?;
    let mut problems = validate::ticket(config, ticket);
    let is_html = |target: &str| validate::is_html(&schema, target);
    let (mapped, issues) = mapping::apply(
        "dispatch",
        &config.dispatch,
        ticket,
        &config.labels,
        &is_html,
    );
    problems.extend(issues);
    let (mut values, issues) = validate::values(&mapped, &schema);
    problems.extend(issues);
    problems.extend(validate::placement(config, &schema, &mut values));
    problems.extend(mapping::tree_paths::check(
        client,
        config,
        &schema.project,
        &values,
    )?);
    problems.extend(merge_tags(config, &ticket.id, &mut values));
    problems.extend(validate::required(&schema, &values));
    problems.extend(validate::sync_stages(config, &schema));
    let url_ok = validate::link_back_ok(ticket);

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
    Ok(Plan {
        url,
        ops,
        values,
        problems,
        watched: crate::webhook::watched_fields(config),
        schema,
    })
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
        // validateOnly commits nothing: a query, retried like a read.
        match client.query::<Value>(&url, "application/json-patch+json", &body) {
            Ok(_) => {}
            Err(ConnectorError::Validation(issues)) => plan.problems.extend(issues),
            Err(ConnectorError::Remote {
                status: 400,
                code,
                message,
            }) => plan.problems.push(Issue::new(
                "$",
                code.unwrap_or_else(|| "remote".into()),
                message,
            )),
            Err(e) => return Err(e),
        }
    }
    // The findings file: its relation op with a placeholder URL, no upload.
    let (body, attachment) =
        attachments::preview(&client, &config, ticket, body, &mut plan.problems);
    Ok(Preview {
        method: "POST".into(),
        url: plan.url,
        body: serde_json::to_string_pretty(&body).unwrap_or_default(),
        problems: plan.problems,
        attachment,
    })
}

/// `validate-config`: the config's own checks (no network); with a
/// connection, its area and iteration paths are also looked up in the
/// project's trees, so a path ADO would refuse (TF401347) is reported
/// before any ticket is dispatched.
pub fn validate_config(
    env: &dyn Env,
    connection: Option<&Connection>,
    config_text: &str,
) -> Result<(), ConnectorError> {
    let config = config::parse(config_text)?;
    let Some(connection) = connection else {
        return Ok(());
    };
    if config.area_path.is_none() && config.iteration_path.is_none() {
        return Ok(());
    }
    let client = Client::new(env, connection)?;
    let problems = mapping::tree_paths::check_config(&client, &config)?;
    if problems.is_empty() {
        Ok(())
    } else {
        Err(ConnectorError::InvalidConfig(problems))
    }
}

#[derive(Deserialize)]
struct CreatedItem {
    id: i32,
    rev: i32,
    url: String,
    #[serde(default)]
    fields: serde_json::Map<String, Value>,
    #[serde(default, rename = "_links")]
    links: Option<Value>,
}

/// The link to store for a work item created (or adopted) for `ticket`.
fn link_for(
    client: &Client<'_>,
    plan: &Plan,
    ticket: &Ticket,
    item: CreatedItem,
    attachment: Option<AttachmentState>,
) -> Link {
    let web_url = item
        .links
        .as_ref()
        .and_then(|l| l.pointer("/html/href"))
        .and_then(Value::as_str)
        .map(str::to_string)
        .unwrap_or_else(|| {
            format!(
                "{}/{}/_workitems/edit/{}",
                client.target().base(),
                segment(&plan.schema.project.name),
                item.id
            )
        });
    let state = SyncState {
        fields: plan.values.clone(),
        state: item
            .fields
            .get("System.State")
            .and_then(Value::as_str)
            .map(str::to_string),
        attachment,
        ado_seen: plan
            .watched
            .iter()
            .filter_map(|f| item.fields.get(f).map(|v| (f.clone(), v.clone())))
            .collect(),
        own_revs: vec![item.rev],
        // The creator is the connection's identity: with a dedicated one
        // (`sync.dedicated_identity`), its later revisions are echoes.
        identity: item
            .fields
            .get("System.CreatedBy")
            .and_then(crate::webhook::payload::ChangedBy::from_value)
            .and_then(|by| by.key().map(str::to_string)),
        ..SyncState::default()
    };
    Link {
        ticket_id: ticket.id.clone(),
        project: plan.schema.project.id.clone(),
        work_item_type: plan.schema.work_item_type.clone(),
        work_item_id: item.id,
        rev: item.rev,
        url: item.url,
        web_url,
        sync_state: state.write(),
    }
}

/// How long an unanswered create stays suspect: a retry within it looks
/// for the work item before creating one.
const IN_FLIGHT_TTL: Duration = Duration::from_secs(7 * 24 * 3600);

/// Creates sent at most in one call; each after the first only once the
/// work item is known not to exist.
const MAX_CREATE_SENDS: u32 = 3;
/// Wait after an uncertain create before looking for it: a front door's
/// error may come while the backend is still finishing.
const UNCERTAIN_WAIT: Duration = Duration::from_secs(1);

fn in_flight_key(client: &Client<'_>, project_id: &str, ticket_id: &str) -> String {
    format!(
        "dispatch-in-flight|{}|{project_id}|{ticket_id}",
        client.target().base()
    )
}

/// Creates the work item in one request and returns the link to store. A
/// create whose earlier attempt got no answer first looks for the item that
/// attempt may have made, and adopts it.
pub fn create(
    env: &dyn Env,
    connection: &Connection,
    config_text: &str,
    ticket: &Ticket,
) -> Result<Link, ConnectorError> {
    let config = config::parse(config_text)?;
    let client = Client::new(env, connection)?;
    let plan = plan(&client, &config, ticket)?;
    if !plan.problems.is_empty() {
        return Err(ConnectorError::Validation(plan.problems));
    }
    let key = in_flight_key(&client, &plan.schema.project.id, &ticket.id);
    if env.store_get(&key).is_some()
        && let Some(link) = adopt::find(&client, &plan, ticket, None)?
    {
        env.store_delete(&key);
        return Ok(link);
    }
    // The findings file is uploaded first and linked by the create itself.
    let attached = attachments::for_dispatch(&client, &config, ticket)?;
    let mut ops = plan.ops.clone();
    ops.extend(attached.as_ref().map(|a| a.op.clone()));
    env.store_set(&key, "1", Some(IN_FLIGHT_TTL));
    let body = Value::Array(ops);
    let mut sent = 0;
    loop {
        sent += 1;
        let err = match client.send::<CreatedItem>(
            Method::Post,
            &plan.url,
            "application/json-patch+json",
            &body,
        ) {
            Ok(item) => {
                env.store_delete(&key);
                return Ok(link_for(
                    &client,
                    &plan,
                    ticket,
                    item,
                    attached.map(|a| a.state),
                ));
            }
            Err(e) if !uncertain(&e) => {
                env.store_delete(&key);
                return Err(e);
            }
            Err(e) => e,
        };
        // ADO may have created it (a front door's 503 while the backend
        // finished): look before sending again. A failed look leaves the
        // in-flight mark, so the next attempt looks first.
        if sent >= MAX_CREATE_SENDS {
            return Err(err);
        }
        env.sleep(UNCERTAIN_WAIT);
        let state = attached.as_ref().map(|a| a.state.clone());
        match adopt::find(&client, &plan, ticket, state) {
            Ok(Some(link)) => {
                env.store_delete(&key);
                return Ok(link);
            }
            Ok(None) => {}
            Err(_) => return Err(err),
        }
    }
}

/// The work item an earlier dispatch of `ticket` created, found by the
/// ticket's tag, for a host whose previous attempt has an uncertain outcome.
pub fn adopt(
    env: &dyn Env,
    connection: &Connection,
    config_text: &str,
    ticket: &Ticket,
) -> Result<Option<Link>, ConnectorError> {
    let config = config::parse(config_text)?;
    let client = Client::new(env, connection)?;
    let plan = plan(&client, &config, ticket)?;
    let found = adopt::find(&client, &plan, ticket, None)?;
    if found.is_some() {
        env.store_delete(&in_flight_key(&client, &plan.schema.project.id, &ticket.id));
    }
    Ok(found)
}

#[cfg(test)]
mod tests;
