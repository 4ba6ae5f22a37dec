//! Bulk close: many links, across projects whose process templates differ.
//! The closed state is resolved per (project, type); current states are read
//! with `workitemsbatch` (200 ids a call) and the closes sent with `$batch`
//! (200 entries a call), each entry succeeding or failing on its own. Where
//! `$batch` is not served (some Server versions), items are closed one PATCH
//! at a time. One failure never stops the rest.

use std::collections::HashMap;

use serde::Deserialize;
use serde_json::{Value, json};

use super::connection_for;
use super::lifecycle::{self, Plan, StateChange};
use crate::client::{Client, uncertain};
use crate::config::{self, Config};
use crate::env::Method;
use crate::error::{ConnectorError, Problem};
use crate::model::{Connection, Link, SyncState};
use crate::schema::{TypeSchema, type_schema};
use crate::target::API_VERSION;
use crate::workitem;

/// ADO's limit per `workitemsbatch` and per `$batch` call.
const CHUNK: usize = 200;

/// One link to close, with the config of its work item type.
#[derive(Debug, Clone, PartialEq)]
pub struct CloseItem {
    pub config: String,
    pub link: Link,
}

/// What happened to one item.
#[derive(Debug, Clone, PartialEq)]
pub enum CloseOutcome {
    Closed(StateChange),
    AlreadyClosed(Link),
    Failed(ConnectorError),
}

#[derive(Deserialize)]
struct Batch<T> {
    #[serde(default = "Vec::new")]
    value: Vec<T>,
}

#[derive(Deserialize)]
struct BatchAnswer {
    code: u16,
    #[serde(default)]
    body: Value,
}

/// An item ready to close.
struct Ready {
    index: usize,
    plan: Plan,
}

/// Closes every item; one outcome per item, in order.
pub fn bulk_close(
    env: &dyn crate::Env,
    connection: &Connection,
    items: &[CloseItem],
    reason: &str,
) -> Vec<CloseOutcome> {
    let mut out: Vec<Option<CloseOutcome>> = vec![None; items.len()];
    let client = match Client::new(env, connection) {
        Ok(c) => c,
        Err(e) => {
            return items
                .iter()
                .map(|_| CloseOutcome::Failed(e.clone()))
                .collect();
        }
    };

    let configs: Vec<Result<std::rc::Rc<Config>, ConnectorError>> =
        items.iter().map(|i| config::parse(&i.config)).collect();
    let mut schemas: HashMap<(String, String), Result<std::rc::Rc<TypeSchema>, ConnectorError>> =
        HashMap::new();
    for item in items {
        let key = (item.link.project.clone(), item.link.work_item_type.clone());
        schemas.entry(key).or_insert_with(|| {
            let c = connection_for(connection, &item.link);
            Client::new(env, &c).and_then(|cl| type_schema(&cl, &item.link.work_item_type))
        });
    }
    let current = current_states(&client, items);

    let mut ready = Vec::new();
    for (index, item) in items.iter().enumerate() {
        let schema = schemas
            .get(&(item.link.project.clone(), item.link.work_item_type.clone()))
            .expect("every key was filled");
        let decided = configs[index].clone().and_then(|config| {
            let schema = schema.clone()?;
            let (rev, state) = current
                .get(&item.link.work_item_id)
                .cloned()
                .ok_or_else(|| missing(item.link.work_item_id))??;
            Ok((
                lifecycle::close_plan(&config, &schema, state.as_deref(), reason)?,
                rev,
                state,
            ))
        });
        out[index] = Some(match decided {
            Err(e) => CloseOutcome::Failed(e),
            Ok((None, rev, state)) => {
                let mut s = SyncState::read(&item.link.sync_state).unwrap_or_default();
                CloseOutcome::AlreadyClosed(lifecycle::updated_link(
                    &item.link,
                    &mut s,
                    rev,
                    state.as_deref(),
                    true,
                ))
            }
            Ok((Some(plan), _, _)) => {
                ready.push(Ready { index, plan });
                continue;
            }
        });
    }
    for chunk in ready.chunks(CHUNK) {
        for (r, outcome) in chunk.iter().zip(send_chunk(&client, items, chunk)) {
            out[r.index] = Some(outcome);
        }
    }
    out.into_iter()
        .map(|o| {
            o.unwrap_or_else(|| CloseOutcome::Failed(ConnectorError::Other("not processed".into())))
        })
        .collect()
}

fn missing(id: i32) -> ConnectorError {
    ConnectorError::NotFound(Problem::new(
        format!("work item {id} does not exist (deleted?)"),
        "restore it from the recycle bin or unlink the ticket",
    ))
}

type Current = Result<(i32, Option<String>), ConnectorError>;

/// Revision and state of every item, read 200 at a time; a chunk whose read
/// fails marks its items failed with that error.
fn current_states(client: &Client<'_>, items: &[CloseItem]) -> HashMap<i32, Current> {
    let mut ids: Vec<i32> = items.iter().map(|i| i.link.work_item_id).collect();
    ids.sort_unstable();
    ids.dedup();
    let url = client.target().org_api("wit/workitemsbatch", API_VERSION);
    let mut out = HashMap::new();
    for chunk in ids.chunks(CHUNK) {
        let body =
            json!({"ids": chunk, "fields": ["System.State", "System.Rev"], "errorPolicy": "omit"});
        match client.query::<Batch<Value>>(&url, "application/json", &body) {
            Ok(batch) => {
                for v in batch.value.iter().filter(|v| !v.is_null()) {
                    let Some(id) = v
                        .get("id")
                        .and_then(Value::as_i64)
                        .and_then(|i| i32::try_from(i).ok())
                    else {
                        continue;
                    };
                    let rev = v
                        .get("rev")
                        .and_then(Value::as_i64)
                        .and_then(|i| i32::try_from(i).ok())
                        .unwrap_or(0);
                    let state = v
                        .pointer("/fields/System.State")
                        .and_then(Value::as_str)
                        .map(str::to_string);
                    out.insert(id, Ok((rev, state)));
                }
            }
            Err(e) => {
                for id in chunk {
                    out.insert(*id, Err(e.clone()));
                }
            }
        }
    }
    out
}

fn changed(link: &Link, rev: i32, plan: &Plan) -> CloseOutcome {
    let mut s = SyncState::read(&link.sync_state).unwrap_or_default();
    // A `$batch` answer without a rev leaves the link's: not one of ours.
    if rev > link.rev {
        s.remember_own_rev(rev);
    }
    let link = lifecycle::updated_link(link, &mut s, rev, Some(&plan.to), true);
    CloseOutcome::Closed(StateChange {
        link,
        transition: Some(plan.transition()),
    })
}

/// Sends one `$batch`; falls back to single PATCHes when ADO does not serve it.
fn send_chunk(client: &Client<'_>, items: &[CloseItem], chunk: &[Ready]) -> Vec<CloseOutcome> {
    let entries: Vec<Value> = chunk
        .iter()
        .map(|r| {
            json!({
                "method": "PATCH",
                "uri": format!("/_apis/wit/workitems/{}?api-version={API_VERSION}", items[r.index].link.work_item_id),
                "headers": {"Content-Type": "application/json-patch+json"},
                "body": lifecycle::ops(&r.plan),
            })
        })
        .collect();
    let url = client.target().org_api("wit/$batch", API_VERSION);
    match client.send::<Batch<BatchAnswer>>(
        Method::Patch,
        &url,
        "application/json",
        &Value::Array(entries),
    ) {
        Ok(batch) if batch.value.len() == chunk.len() => chunk
            .iter()
            .zip(batch.value)
            .map(|(r, answer)| {
                let link = &items[r.index].link;
                let body: Value = match &answer.body {
                    Value::String(s) => serde_json::from_str(s).unwrap_or(Value::Null),
                    other => other.clone(),
                };
                if (200..300).contains(&answer.code) {
                    let rev = body
                        .get("rev")
                        .and_then(Value::as_i64)
                        .and_then(|i| i32::try_from(i).ok())
                        .unwrap_or(link.rev);
                    changed(link, rev, &r.plan)
                } else {
                    CloseOutcome::Failed(entry_error(answer.code, &body))
                }
            })
            .collect(),
        Ok(_)
        | Err(ConnectorError::NotFound(_))
        | Err(ConnectorError::Remote {
            status: 400 | 404 | 405,
            ..
        }) => chunk
            .iter()
            .map(|r| one_by_one(client, &items[r.index].link, &r.plan))
            .collect(),
        Err(e) if uncertain(&e) => settle_uncertain(client, items, chunk, &e),
        Err(e) => chunk
            .iter()
            .map(|_| CloseOutcome::Failed(e.clone()))
            .collect(),
    }
}

/// After a `$batch` whose outcome is unknown (ADO may have applied some or
/// all of it), the states are read again: an item already in its closed
/// state was closed by that `$batch`; only the others are sent again, one
/// PATCH each. A failed read leaves them all failed with the batch's error,
/// for the operation's retry (which reads the states first too).
fn settle_uncertain(
    client: &Client<'_>,
    items: &[CloseItem],
    chunk: &[Ready],
    err: &ConnectorError,
) -> Vec<CloseOutcome> {
    let subset: Vec<CloseItem> = chunk.iter().map(|r| items[r.index].clone()).collect();
    let now = current_states(client, &subset);
    chunk
        .iter()
        .map(|r| {
            let link = &items[r.index].link;
            match now.get(&link.work_item_id) {
                Some(Ok((rev, Some(state)))) if state.eq_ignore_ascii_case(&r.plan.to) => {
                    changed(link, *rev, &r.plan)
                }
                Some(Ok(_)) => one_by_one(client, link, &r.plan),
                _ => CloseOutcome::Failed(err.clone()),
            }
        })
        .collect()
}

fn one_by_one(client: &Client<'_>, link: &Link, plan: &Plan) -> CloseOutcome {
    match workitem::patch(client, link.work_item_id, &lifecycle::ops(plan)) {
        Ok(item) => changed(link, item.rev, plan),
        Err(e) => CloseOutcome::Failed(e),
    }
}

/// The error of one `$batch` entry, from ADO's error envelope in its body.
fn entry_error(code: u16, body: &Value) -> ConnectorError {
    let message = body
        .get("message")
        .and_then(Value::as_str)
        .unwrap_or("the update was refused")
        .to_string();
    let type_key = body
        .get("typeKey")
        .and_then(Value::as_str)
        .map(str::to_string);
    match code {
        404 => ConnectorError::NotFound(Problem::new(
            message,
            "the work item may have been deleted; unlink or restore it",
        )),
        409 | 412 => {
            ConnectorError::Conflict(Problem::new(message, "read the work item again and retry"))
        }
        401 => ConnectorError::Unauthorized(Problem::new(
            message,
            "check the connection's credentials",
        )),
        403 => ConnectorError::Forbidden(Problem::new(
            message,
            "grant the identity Edit work items in this project",
        )),
        400 => ConnectorError::Validation(vec![crate::error::Issue::new(
            "System.State",
            type_key.unwrap_or_else(|| "rule".into()),
            message,
        )]),
        status => ConnectorError::Remote {
            status,
            code: type_key,
            message,
        },
    }
}
