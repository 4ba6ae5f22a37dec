//! Auto-close, reopen, and the `close` / `reopen` exports: which state a
//! type closes or reopens to (per project and type, since processes
//! differ), and when the findings call for it.

use serde_json::Value;

use super::{Transition, connection_for};
use crate::client::Client;
use crate::config::sync::{AutoClose, Reopen};
use crate::config::{self, Config};
use crate::error::{ConnectorError, Issue};
use crate::mapping::markdown;
use crate::model::{Connection, Finding, Link, SyncState, Ticket};
use crate::schema::{TypeSchema, type_schema};
use crate::workitem::{self, WorkItem};

/// A state change the connector is about to make.
#[derive(Debug, Clone, PartialEq)]
pub(super) struct Plan {
    pub from: String,
    pub to: String,
    pub reason: String,
    pub note: Option<String>,
    /// The discussion entry written with the change (`System.History`).
    pub comment: String,
    /// Closing (true) or reopening (false).
    pub closing: bool,
}

impl Plan {
    /// The transition this plan makes, as results report it.
    pub(super) fn transition(&self) -> Transition {
        Transition {
            from: self.from.clone(),
            to: self.to.clone(),
            reason: self.reason.clone(),
            note: self.note.clone(),
        }
    }
}

/// What a close or reopen did.
#[derive(Debug, Clone, PartialEq)]
pub struct StateChange {
    pub link: Link,
    /// None when the work item was already there.
    pub transition: Option<Transition>,
}

const DONE: &[&str] = &["Completed", "Removed"];

/// Whether a state of this type counts as closed.
pub(super) fn is_closed(schema: &TypeSchema, state: Option<&str>) -> bool {
    state
        .and_then(|s| schema.category_of(s))
        .is_some_and(|c| DONE.contains(&c))
}

fn remediated(close: &AutoClose, f: &Finding) -> bool {
    let is = |list: &[String]| list.iter().any(|s| s.eq_ignore_ascii_case(f.status.trim()));
    is(&close.remediated) || (close.close_on_temporary && is(&close.temporary))
}

fn all_remediated(close: &AutoClose, ticket: &Ticket) -> bool {
    !ticket.findings.is_empty() && ticket.findings.iter().all(|f| remediated(close, f))
}

/// The state a type closes to: the configured one when the type has it,
/// else the first state of its Completed category, with a note saying so.
pub(super) fn closed_state(
    schema: &TypeSchema,
    wanted: Option<&str>,
) -> Result<(String, Option<String>), ConnectorError> {
    if let Some(name) = wanted {
        if let Some(s) = schema.state(name) {
            return Ok((s.name.clone(), None));
        }
        if schema.states.is_empty() {
            return Ok((name.to_string(), None));
        }
    }
    match schema.states_in("Completed").next() {
        Some(s) => Ok((
            s.name.clone(),
            wanted.map(|w| {
                format!(
                    "state `{w}` does not exist for `{}` in project `{}`; used `{}`, the first state of its Completed category",
                    schema.work_item_type, schema.project.name, s.name
                )
            }),
        )),
        None => Err(ConnectorError::Validation(vec![Issue::new(
            "$.sync.auto_close.state",
            "state",
            format!("`{}` in project `{}` has no Completed state to close to", schema.work_item_type, schema.project.name),
        )])),
    }
}

/// The state a type reopens to from `from`: the configured one when the type
/// has it, else its first InProgress state reachable from `from`, else its
/// first reachable Proposed state.
pub(super) fn reopen_state(
    schema: &TypeSchema,
    reopen: &Reopen,
    from: &str,
) -> Result<(String, Option<String>), ConnectorError> {
    if let Some(name) = &reopen.state {
        if let Some(s) = schema.state(name) {
            return Ok((s.name.clone(), None));
        }
        if schema.states.is_empty() {
            return Ok((name.clone(), None));
        }
    }
    let reachable = |cat: &str| {
        schema
            .states_in(cat)
            .find(|s| schema.can_move(from, &s.name))
            .cloned()
    };
    let chosen = reachable("InProgress")
        .or_else(|| reachable("Proposed"))
        .or_else(|| schema.states_in("InProgress").next().cloned())
        .or_else(|| schema.states_in("Proposed").next().cloned());
    match chosen {
        Some(s) => Ok((
            s.name.clone(),
            reopen.state.as_ref().map(|w| {
                format!(
                    "state `{w}` does not exist for `{}` in project `{}`; used `{}`",
                    schema.work_item_type, schema.project.name, s.name
                )
            }),
        )),
        None => Err(ConnectorError::Validation(vec![Issue::new(
            "$.sync.reopen.state",
            "state",
            format!(
                "`{}` in project `{}` has no open state to reopen to",
                schema.work_item_type, schema.project.name
            ),
        )])),
    }
}

/// The auto-close or reopen the ticket's findings call for, given the item's
/// current state as far as the connector knows it.
pub(super) fn plan(
    config: &Config,
    schema: &TypeSchema,
    state: &SyncState,
    ticket: &Ticket,
    current: Option<&str>,
) -> Result<Option<Plan>, ConnectorError> {
    let Some(close) = &config.sync.auto_close else {
        return Ok(None);
    };
    let all = all_remediated(close, ticket);
    let closed_now = is_closed(schema, current);
    let from = current.unwrap_or("").to_string();
    if all && !state.closed && !closed_now {
        let (to, note) = closed_state(schema, Some(&close.state))?;
        let counts = status_counts(&ticket.findings);
        let reason = format!(
            "all {} findings remediated ({counts})",
            ticket.findings.len()
        );
        let comment = format!(
            "<p>Closed by the SecOps connector: {reason}.</p><p>SecOps ticket {link}</p>",
            reason = escape(&reason),
            link = markdown::link(&ticket.url, &ticket.id)
        );
        return Ok(Some(Plan {
            from,
            to,
            reason,
            note,
            comment,
            closing: true,
        }));
    }
    if state.closed && !all && config.sync.reopen.enabled && (closed_now || current.is_none()) {
        let (to, note) = reopen_state(schema, &config.sync.reopen, &from)?;
        let regressed: Vec<String> = ticket
            .findings
            .iter()
            .filter(|f| !remediated(close, f))
            .map(describe)
            .collect();
        let reason = if regressed.is_empty() {
            "the ticket has no findings any more".to_string()
        } else {
            format!(
                "{} open again: {}",
                if regressed.len() == 1 {
                    "finding is"
                } else {
                    "findings are"
                },
                regressed.join(", ")
            )
        };
        let comment = format!(
            "<p>Reopened by the SecOps connector: {}.</p><p>SecOps ticket {link}</p>",
            escape(&reason),
            link = markdown::link(&ticket.url, &ticket.id)
        );
        return Ok(Some(Plan {
            from,
            to,
            reason,
            note,
            comment,
            closing: false,
        }));
    }
    Ok(None)
}

/// With no state change to make, keeps `closed` true to what the item and
/// the findings say: an item found closed with every finding remediated is
/// not closed again; a regression on an item someone already reopened
/// clears the flag so the next full remediation closes it again.
pub(super) fn settle(
    config: &Config,
    schema: &TypeSchema,
    state: &mut SyncState,
    ticket: &Ticket,
    current: Option<&str>,
) {
    let Some(close) = &config.sync.auto_close else {
        return;
    };
    let all = all_remediated(close, ticket);
    if all && is_closed(schema, current) {
        state.closed = true;
    } else if !all && state.closed {
        state.closed = false;
    }
}

fn describe(f: &Finding) -> String {
    let title = f
        .fields
        .iter()
        .find(|x| x.name == "title")
        .map(|x| x.value.display())
        .filter(|t| !t.is_empty());
    match title {
        Some(t) => format!("{} ({t}, status {})", f.id, f.status),
        None => format!("{} (status {})", f.id, f.status),
    }
}

fn status_counts(findings: &[Finding]) -> String {
    let mut counts: std::collections::BTreeMap<String, usize> = Default::default();
    for f in findings {
        *counts.entry(f.status.to_ascii_lowercase()).or_default() += 1;
    }
    counts
        .iter()
        .map(|(s, n)| format!("{s}: {n}"))
        .collect::<Vec<_>>()
        .join(", ")
}

/// Escapes text for the HTML of a discussion entry.
pub(super) use crate::mapping::markdown::escape;

/// The close of one item whose current state is known; `None` when it is
/// already closed. Shared by `close` and `bulk_close`.
pub(super) fn close_plan(
    config: &Config,
    schema: &TypeSchema,
    current: Option<&str>,
    reason: &str,
) -> Result<Option<Plan>, ConnectorError> {
    if is_closed(schema, current) {
        return Ok(None);
    }
    let wanted = config.sync.auto_close.as_ref().map(|c| c.state.as_str());
    let (to, note) = closed_state(schema, wanted)?;
    let comment = format!("<p>Closed by the SecOps connector: {}.</p>", escape(reason));
    Ok(Some(Plan {
        from: current.unwrap_or("").to_string(),
        to,
        reason: reason.to_string(),
        note,
        comment,
        closing: true,
    }))
}

/// The ops of a state change.
pub(super) fn ops(plan: &Plan) -> Vec<Value> {
    vec![
        workitem::set_field("System.State", &Value::String(plan.to.clone())),
        workitem::set_field("System.History", &Value::String(plan.comment.clone())),
    ]
}

/// The link after a state change (or after finding the item already there).
pub(super) fn updated_link(
    link: &Link,
    state: &mut SyncState,
    item_rev: i32,
    item_state: Option<&str>,
    closed: bool,
) -> Link {
    state.closed = closed;
    state.state = item_state.map(str::to_string);
    let mut link = link.clone();
    link.rev = item_rev;
    link.sync_state = state.write();
    link
}

/// Moves the work item to the config's closed state with a comment; an item
/// already closed is left alone.
pub fn close(
    env: &dyn crate::Env,
    connection: &Connection,
    config_text: &str,
    link: &Link,
    reason: &str,
) -> Result<StateChange, ConnectorError> {
    let config = config::parse(config_text)?;
    let connection = connection_for(connection, link);
    let client = Client::new(env, &connection)?;
    let schema = type_schema(&client, &link.work_item_type)?;
    let mut state = SyncState::read(&link.sync_state)?;
    let item: WorkItem = workitem::get(&client, link.work_item_id)?;
    match close_plan(&config, &schema, item.state(), reason)? {
        None => Ok(StateChange {
            link: updated_link(link, &mut state, item.rev, item.state(), true),
            transition: None,
        }),
        Some(plan) => apply(&client, link, &mut state, &plan),
    }
}

/// Sends a close or reopen and returns the link after it.
fn apply(
    client: &Client<'_>,
    link: &Link,
    state: &mut SyncState,
    plan: &Plan,
) -> Result<StateChange, ConnectorError> {
    let done = workitem::patch(client, link.work_item_id, &ops(plan))?;
    state.remember_own_rev(done.rev);
    let link = updated_link(link, state, done.rev, Some(&plan.to), plan.closing);
    Ok(StateChange {
        link,
        transition: Some(plan.transition()),
    })
}

/// Moves a closed work item back to an open state with a comment; an item
/// already open is left alone.
pub fn reopen(
    env: &dyn crate::Env,
    connection: &Connection,
    config_text: &str,
    link: &Link,
    reason: &str,
) -> Result<StateChange, ConnectorError> {
    let config = config::parse(config_text)?;
    let connection = connection_for(connection, link);
    let client = Client::new(env, &connection)?;
    let schema = type_schema(&client, &link.work_item_type)?;
    let mut state = SyncState::read(&link.sync_state)?;
    let item: WorkItem = workitem::get(&client, link.work_item_id)?;
    let current = item.state().unwrap_or("").to_string();
    let resolved = current.is_empty() || schema.category_of(&current) == Some("Resolved");
    if !is_closed(&schema, Some(&current)) && !resolved {
        return Ok(StateChange {
            link: updated_link(link, &mut state, item.rev, item.state(), false),
            transition: None,
        });
    }
    let (to, note) = reopen_state(&schema, &config.sync.reopen, &current)?;
    let comment = format!(
        "<p>Reopened by the SecOps connector: {}.</p>",
        escape(reason)
    );
    let plan = Plan {
        from: current,
        to,
        reason: reason.to_string(),
        note,
        comment,
        closing: false,
    };
    apply(&client, link, &mut state, &plan)
}
