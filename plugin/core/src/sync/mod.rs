//! Ticket → work item sync: the `to_ado` mapping diffed against the last
//! synced values and sent in one PATCH guarded by `test /rev`; on 412 the
//! item is read again and a field changed on both sides becomes a reported
//! conflict, resolved by the config's policy. Then new ticket comments and
//! trigger comments (each posted once, even across retries), and auto-close
//! or reopen from the findings' statuses.
//!
//! A push is safe to retry with the same arguments: fields already equal to
//! ADO's are not sent again, comments are found by their reference before
//! posting, and a closed item is never closed twice.

mod bulk;
mod comments;
mod lifecycle;
mod merge;

use serde_json::{Map, Value};

use crate::client::Client;
use crate::config::{self, Config};
use crate::error::ConnectorError;
use crate::mapping::{self, validate};
use crate::model::{Connection, Link, SyncState, Ticket};
use crate::schema::{TypeSchema, type_schema};
use crate::workitem::{self, WorkItem};

pub use bulk::{CloseItem, CloseOutcome, bulk_close};
pub use lifecycle::{StateChange, close, reopen};

/// A field changed on both sides since the last sync.
#[derive(Debug, Clone, PartialEq)]
pub struct Conflict {
    pub field: String,
    pub ticket_value: Value,
    pub ado_value: Value,
    pub resolution: String,
}

/// A state change made by the connector.
#[derive(Debug, Clone, PartialEq)]
pub struct Transition {
    pub from: String,
    pub to: String,
    pub reason: String,
    pub note: Option<String>,
}

/// What a push did.
#[derive(Debug, Clone, PartialEq)]
pub struct PushOutcome {
    pub link: Link,
    pub fields_sent: Vec<String>,
    pub comments_posted: u32,
    pub triggers_posted: u32,
    pub conflicts: Vec<Conflict>,
    pub transition: Option<Transition>,
}

/// Rounds of read-and-merge after a 412 before giving up: each round means
/// someone else wrote the item between our read and our write.
const MAX_MERGE_ROUNDS: usize = 3;

/// The connection for the project the link lives in (bulk close spans
/// projects; a link's project is its id).
pub(crate) fn connection_for(connection: &Connection, link: &Link) -> Connection {
    let mut c = connection.clone();
    if !link.project.is_empty() {
        c.project = link.project.clone();
    }
    c
}

/// The `to_ado` values of `ticket`, coerced and checked against the schema.
fn mapped_values(
    config: &Config,
    schema: &TypeSchema,
    ticket: &Ticket,
) -> Result<Map<String, Value>, ConnectorError> {
    let is_html = |target: &str| validate::is_html(schema, target);
    let (mapped, mut problems) =
        mapping::apply("to_ado", &config.to_ado, ticket, &config.labels, &is_html);
    let (mut values, issues) = validate::values(&mapped, schema);
    problems.extend(issues);
    if values.contains_key("System.Tags") {
        problems.extend(crate::dispatch::merge_tags(config, &ticket.id, &mut values));
    }
    if problems.is_empty() {
        Ok(values)
    } else {
        Err(ConnectorError::Validation(problems))
    }
}

/// Sends the ticket's changes to the work item. See the module docs.
pub fn push(
    env: &dyn crate::Env,
    connection: &Connection,
    config_text: &str,
    link: &Link,
    before: &Ticket,
    after: &Ticket,
) -> Result<PushOutcome, ConnectorError> {
    let config = config::parse(config_text)?;
    let connection = connection_for(connection, link);
    let client = Client::new(env, &connection)?;
    let schema = type_schema(&client, &link.work_item_type)?;
    let mut state = SyncState::read(&link.sync_state)?;
    let values = mapped_values(&config, &schema, after)?;

    // Fields whose mapped value moved since the last sync.
    let mut pending: Map<String, Value> = values
        .into_iter()
        .filter(|(k, v)| {
            state
                .fields
                .get(k)
                .is_none_or(|last| !workitem::same_value(Some(last), v))
        })
        .collect();
    let mut plan = lifecycle::plan(&config, &schema, &state, after, state.state.as_deref())?;
    let mut conflicts = Vec::new();
    let mut rev = link.rev;
    let mut fields_sent = Vec::new();
    let mut current_state = state.state.clone();

    // attachments: refresh (the findings file joins this PATCH when it changed)
    let mut attachment_ops =
        crate::attachments::refresh(&client, &config, after, link, &mut state)?;
    for round in 0..=MAX_MERGE_ROUNDS {
        if pending.is_empty() && plan.is_none() && attachment_ops.is_empty() {
            break;
        }
        let mut ops = vec![workitem::test_rev(rev)];
        ops.extend(pending.iter().map(|(k, v)| workitem::set_field(k, v)));
        if let Some(p) = &plan {
            ops.extend(lifecycle::ops(p));
        }
        ops.extend(attachment_ops.iter().cloned());
        match workitem::patch(&client, link.work_item_id, &ops) {
            Ok(item) => {
                rev = item.rev;
                state.remember_own_rev(rev);
                current_state = item.state().map(str::to_string).or(current_state);
                fields_sent.extend(pending.keys().cloned());
                for (k, v) in std::mem::take(&mut pending) {
                    state.fields.insert(k, v);
                }
                break;
            }
            Err(ConnectorError::Conflict(_)) if round < MAX_MERGE_ROUNDS => {
                // Someone changed the item since `rev`: read it and merge.
                let item: WorkItem = workitem::get(&client, link.work_item_id)?;
                rev = item.rev;
                current_state = item.state().map(str::to_string);
                let merged = merge::merge(
                    config.sync.conflicts,
                    &mut state,
                    std::mem::take(&mut pending),
                    &item,
                );
                pending = merged.send;
                conflicts.extend(merged.conflicts);
                plan = lifecycle::plan(&config, &schema, &state, after, current_state.as_deref())?;
                // The relations may have moved too: keep the new file's link
                // but never remove by a stale index.
                attachment_ops.retain(|op| op["op"] != "remove");
            }
            Err(e) => return Err(e),
        }
    }
    let transition = plan.map(|p| {
        current_state = Some(p.to.clone());
        state.closed = p.closing;
        p.transition()
    });
    if transition.is_none() {
        lifecycle::settle(
            &config,
            &schema,
            &mut state,
            after,
            current_state.as_deref(),
        );
    }
    state.state = current_state;

    let posted = comments::post(&client, &config, link, &mut state, before, after)?;
    rev += i32::try_from(posted.comments + posted.triggers).unwrap_or(0);

    let mut link = link.clone();
    link.rev = rev;
    link.sync_state = state.write();
    Ok(PushOutcome {
        link,
        fields_sent,
        comments_posted: posted.comments,
        triggers_posted: posted.triggers,
        conflicts,
        transition,
    })
}

#[cfg(test)]
mod tests;
