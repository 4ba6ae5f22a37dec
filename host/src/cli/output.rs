//! `--json`: the machine-readable shapes of the commands' output, one JSON
//! document per command on standard output. Keys are snake_case, an absent
//! value is an explicit `null` and a list is an array even when empty, so a
//! script can rely on every key being there. README's "Machine-readable
//! output" documents each shape; `tests/tests/cli_json.rs` checks them.

use std::io::Write;

use serde::Serialize;

use crate::platform::lifecycle::Dispatched;
use crate::state::ticket_file::value_json;
use crate::{CloseOutcome, Link, PushOutcome, StateChange, Transition};

/// Writes `doc` as one pretty-printed JSON document and a newline.
pub fn print(out: &mut dyn Write, doc: &impl Serialize) -> anyhow::Result<()> {
    serde_json::to_writer_pretty(&mut *out, doc)?;
    writeln!(out)?;
    Ok(())
}

/// An error as one line of text (its causes joined by `: `).
pub fn error_text(e: &anyhow::Error) -> String {
    format!("{e:#}")
}

/// A link as `links` and the results show it.
#[derive(Debug, Serialize)]
pub struct LinkJson {
    pub ticket_id: String,
    pub work_item_id: i32,
    pub rev: i32,
    pub project: String,
    pub work_item_type: String,
    pub url: String,
    pub web_url: String,
}

impl From<&Link> for LinkJson {
    fn from(l: &Link) -> Self {
        LinkJson {
            ticket_id: l.ticket_id.clone(),
            work_item_id: l.work_item_id,
            rev: l.rev,
            project: l.project.clone(),
            work_item_type: l.work_item_type.clone(),
            url: l.url.clone(),
            web_url: l.web_url.clone(),
        }
    }
}

/// A state transition of a work item.
#[derive(Debug, Serialize)]
pub struct TransitionJson {
    pub from: String,
    pub to: String,
    pub reason: String,
    pub note: Option<String>,
}

impl From<&Transition> for TransitionJson {
    fn from(t: &Transition) -> Self {
        TransitionJson {
            from: t.from.clone(),
            to: t.to.clone(),
            reason: t.reason.clone(),
            note: t.note.clone(),
        }
    }
}

/// A field both sides changed, and who won.
#[derive(Debug, Serialize)]
pub struct ConflictJson {
    pub field: String,
    pub ticket_value: serde_json::Value,
    pub ado_value: serde_json::Value,
    pub resolution: String,
}

/// The document of the commands that act on tickets or jobs: one result
/// per ticket (or job), in the order given, and the counts.
#[derive(Debug, Serialize)]
pub struct Results<T: Serialize> {
    pub results: Vec<T>,
    pub succeeded: usize,
    pub failed: usize,
}

impl<T: Serialize> Results<T> {
    /// Counts the results whose `ok` is `false`.
    pub fn new(results: Vec<T>, ok: impl Fn(&T) -> bool) -> Self {
        let failed = results.iter().filter(|r| !ok(r)).count();
        Results {
            succeeded: results.len() - failed,
            failed,
            results,
        }
    }
}

/// One ticket's `dispatch`.
#[derive(Debug, Serialize)]
pub struct DispatchResult {
    pub ticket_id: String,
    pub ok: bool,
    pub work_item_id: Option<i32>,
    pub rev: Option<i32>,
    pub web_url: Option<String>,
    /// The work item of an earlier, uncertain dispatch was found and adopted.
    pub adopted: Option<bool>,
    pub error: Option<String>,
}

impl DispatchResult {
    pub fn new(ticket_id: &str, r: &anyhow::Result<Dispatched>) -> Self {
        match r {
            Ok(d) => {
                let l = d.link();
                DispatchResult {
                    ticket_id: ticket_id.to_string(),
                    ok: true,
                    work_item_id: Some(l.work_item_id),
                    rev: Some(l.rev),
                    web_url: Some(l.web_url.clone()),
                    adopted: Some(matches!(d, Dispatched::Adopted(_))),
                    error: None,
                }
            }
            Err(e) => DispatchResult {
                ticket_id: ticket_id.to_string(),
                ok: false,
                work_item_id: None,
                rev: None,
                web_url: None,
                adopted: None,
                error: Some(error_text(e)),
            },
        }
    }
}

/// One ticket's `sync`.
#[derive(Debug, Serialize)]
pub struct SyncResult {
    pub ticket_id: String,
    pub ok: bool,
    pub work_item_id: Option<i32>,
    pub rev: Option<i32>,
    pub fields_sent: Vec<String>,
    pub comments_posted: Option<u32>,
    pub triggers_posted: Option<u32>,
    pub conflicts: Vec<ConflictJson>,
    pub transition: Option<TransitionJson>,
    pub error: Option<String>,
}

impl SyncResult {
    pub fn new(ticket_id: &str, r: &anyhow::Result<PushOutcome>) -> Self {
        match r {
            Ok(o) => SyncResult {
                ticket_id: ticket_id.to_string(),
                ok: true,
                work_item_id: Some(o.link.work_item_id),
                rev: Some(o.link.rev),
                fields_sent: o.fields_sent.clone(),
                comments_posted: Some(o.comments_posted),
                triggers_posted: Some(o.triggers_posted),
                conflicts: o
                    .conflicts
                    .iter()
                    .map(|c| ConflictJson {
                        field: c.field.clone(),
                        ticket_value: value_json(&c.ticket_value),
                        ado_value: value_json(&c.ado_value),
                        resolution: c.resolution.clone(),
                    })
                    .collect(),
                transition: o.transition.as_ref().map(TransitionJson::from),
                error: None,
            },
            Err(e) => SyncResult {
                ticket_id: ticket_id.to_string(),
                ok: false,
                work_item_id: None,
                rev: None,
                fields_sent: Vec::new(),
                comments_posted: None,
                triggers_posted: None,
                conflicts: Vec::new(),
                transition: None,
                error: Some(error_text(e)),
            },
        }
    }
}

/// One ticket's `close` or `reopen`.
#[derive(Debug, Serialize)]
pub struct StateResult {
    pub ticket_id: String,
    pub ok: bool,
    pub work_item_id: Option<i32>,
    pub rev: Option<i32>,
    /// `false` when the work item already was closed (or open).
    pub changed: Option<bool>,
    pub transition: Option<TransitionJson>,
    pub error: Option<String>,
}

impl StateResult {
    fn done(ticket_id: &str, link: &Link, transition: Option<&Transition>) -> Self {
        StateResult {
            ticket_id: ticket_id.to_string(),
            ok: true,
            work_item_id: Some(link.work_item_id),
            rev: Some(link.rev),
            changed: Some(transition.is_some()),
            transition: transition.map(TransitionJson::from),
            error: None,
        }
    }

    fn failed(ticket_id: &str, error: String) -> Self {
        StateResult {
            ticket_id: ticket_id.to_string(),
            ok: false,
            work_item_id: None,
            rev: None,
            changed: None,
            transition: None,
            error: Some(error),
        }
    }

    pub fn new(ticket_id: &str, r: &anyhow::Result<StateChange>) -> Self {
        match r {
            Ok(c) => StateResult::done(ticket_id, &c.link, c.transition.as_ref()),
            Err(e) => StateResult::failed(ticket_id, error_text(e)),
        }
    }

    /// One item of `close --bulk`.
    pub fn of_bulk(ticket_id: &str, r: &anyhow::Result<CloseOutcome>) -> Self {
        match r {
            Ok(CloseOutcome::Closed(c)) => {
                StateResult::done(ticket_id, &c.link, c.transition.as_ref())
            }
            Ok(CloseOutcome::AlreadyClosed(l)) => StateResult::done(ticket_id, l, None),
            Ok(CloseOutcome::Failed(e)) => StateResult::failed(ticket_id, crate::describe(e)),
            Err(e) => StateResult::failed(ticket_id, error_text(e)),
        }
    }
}
