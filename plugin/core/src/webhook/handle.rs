//! A delivery (already authenticated by [`super::inspect`]) becomes ticket
//! changes for the linked ticket, or a reason to do nothing:
//!
//! - the same event id again (a redelivery) is a duplicate;
//! - a revision not newer than the last one applied is stale (deliveries
//!   arrive out of order). Field events (created, updated, restored) and
//!   comment events keep separate marks, as one ADO change raises both an
//!   `updated` and a `commented` event with the same revision; deleted and
//!   restored do not change the revision and are ordered by event id only;
//! - the connector's own change is an echo: a revision its own write
//!   produced (remembered in the link), made by its identity (when the
//!   config says that identity is the connector's alone), or every
//!   changed field now holds what the connector last pushed (fields ADO
//!   derives from a state change, like `System.Reason`, aside), or a comment
//!   carrying the connector's reference line or a known comment id;
//! - otherwise the `from_ado` rules run over the revision's fields (for an
//!   update only the rules whose source fields changed, besides templates
//!   and scripts, which may read any field) and a foreign comment becomes a
//!   ticket comment. Deleted and restored items flag the ticket.
//!
//! The returned link remembers the event id and revision, and takes the new
//! ADO values of the tracked fields that were mapped back into the ticket as
//! its sync baseline, so the next push does not send them back.

use serde_json::Value;

use super::payload::{self, Event, EventType};
use crate::config::{self, Config, Source};
use crate::error::{ConnectorError, Issue};
use crate::model::{Comment, Field, Link, SyncState};
use crate::workitem::same_value;

/// Ticket changes derived from a delivery.
#[derive(Debug, Clone, PartialEq)]
pub struct TicketUpdate {
    /// The updated link, for the host to store.
    pub link: Link,
    pub fields: Vec<Field>,
    pub comments: Vec<Comment>,
    /// The work item was deleted (`true`) or restored (`false`).
    pub deleted: Option<bool>,
}

/// What a delivery amounts to.
#[derive(Debug, Clone, PartialEq)]
pub enum Outcome {
    Apply(TicketUpdate),
    /// Nothing to do, and why (`duplicate ...`, `stale ...`, `own change ...`).
    Ignore(String),
}

/// Fields ADO changes on every revision: they never tell a change apart.
const BOOKKEEPING: &[&str] = &[
    "System.Rev",
    "System.RevisedDate",
    "System.ChangedDate",
    "System.ChangedBy",
    "System.AuthorizedDate",
    "System.AuthorizedAs",
    "System.PersonId",
    "System.Watermark",
    "System.History",
    "System.CommentCount",
    "System.BoardColumn",
    "System.BoardColumnDone",
];

/// Fields ADO derives from a state change the connector made: they change
/// along with an echo without being written by the connector.
const DERIVED: &[&str] = &[
    "System.Reason",
    "Microsoft.VSTS.Common.StateChangeDate",
    "Microsoft.VSTS.Common.ActivatedDate",
    "Microsoft.VSTS.Common.ActivatedBy",
    "Microsoft.VSTS.Common.ResolvedDate",
    "Microsoft.VSTS.Common.ResolvedBy",
    "Microsoft.VSTS.Common.ResolvedReason",
    "Microsoft.VSTS.Common.ClosedDate",
    "Microsoft.VSTS.Common.ClosedBy",
    "System.BoardLane",
];

/// Marker of every comment the connector posts (see `sync::comments`).
const REFERENCE_MARKER: &str = "ref: secops ";

fn bookkeeping(name: &str) -> bool {
    BOOKKEEPING.iter().any(|b| b.eq_ignore_ascii_case(name)) || name.contains("_Kanban.")
}

/// Whether ADO's value is what the connector pushed: [`same_value`], plus
/// the forms service hooks use (numbers as strings, identities as display
/// names where the connector wrote `Name <mail>`).
fn echoes(ado: Option<&Value>, ours: &Value) -> bool {
    if same_value(ado, ours) {
        return true;
    }
    match (ado, ours) {
        (Some(Value::String(s)), Value::Number(n)) => s.trim().parse::<f64>().ok() == n.as_f64(),
        (Some(Value::String(s)), Value::String(o)) => o
            .rsplit_once('<')
            .is_some_and(|(name, _)| name.trim().eq_ignore_ascii_case(s.trim())),
        _ => false,
    }
}

/// The reference names a rule reads, when it names them (`None`: any field).
/// The ADO fields `config`'s `from_ado` rules read.
pub fn watched_fields(config: &Config) -> Vec<String> {
    config
        .from_ado
        .iter()
        .filter_map(|r| sources(&r.source))
        .map(str::to_string)
        .collect()
}

fn sources(source: &Source) -> Option<&str> {
    match source {
        Source::Field { field } | Source::Dictionary { field, .. } => Some(field),
        _ => None,
    }
}

/// The changed fields that are not bookkeeping, with their new values.
fn meaningful_changes(event: &Event) -> Vec<(&str, Option<&Value>)> {
    event
        .changes
        .iter()
        .filter(|(name, _)| !bookkeeping(name))
        .map(|(name, c)| (name.as_str(), c.new.as_ref()))
        .collect()
}

/// Why the event is the connector's own change, if it is.
fn own_change(event: &Event, state: &SyncState, dedicated_identity: bool) -> Option<String> {
    if let (true, Some(me), Some(by)) = (
        dedicated_identity,
        state.identity.as_deref(),
        event.changed_by.as_ref(),
    ) && by.is(me)
    {
        return Some(format!(
            "own change: revision made by the connector's identity `{}`",
            by.display_name
        ));
    }
    if matches!(event.event_type, EventType::Created | EventType::Updated)
        && let Some(rev) = event.rev
        && state.own_revs.contains(&rev)
    {
        return Some(format!(
            "own change: revision {rev} was written by the connector"
        ));
    }
    match event.event_type {
        EventType::Commented => {
            let text = event.comment.as_deref().unwrap_or_default();
            if text.contains(REFERENCE_MARKER) {
                return Some(
                    "own change: the comment carries the connector's reference line".into(),
                );
            }
            if let Some(id) = event.comment_id
                && state
                    .comments
                    .values()
                    .chain(state.triggers.values())
                    .any(|c| *c == id)
            {
                return Some(format!(
                    "own change: comment {id} was posted by the connector"
                ));
            }
            None
        }
        EventType::Updated => {
            let changes: Vec<_> = meaningful_changes(event)
                .into_iter()
                .filter(|(name, _)| !DERIVED.iter().any(|d| d.eq_ignore_ascii_case(name)))
                .collect();
            let all_ours = !changes.is_empty()
                && changes.iter().all(|(name, new)| {
                    state
                        .fields
                        .get(*name)
                        .is_some_and(|ours| echoes(*new, ours))
                });
            all_ours.then(|| {
                format!(
                    "own change: {} now hold what the connector pushed",
                    changes
                        .iter()
                        .map(|(n, _)| *n)
                        .collect::<Vec<_>>()
                        .join(", ")
                )
            })
        }
        EventType::Created => {
            let all_ours = !state.fields.is_empty()
                && state
                    .fields
                    .iter()
                    .all(|(name, ours)| echoes(event.fields.get(name), ours));
            all_ours.then(|| {
                "own change: the work item was created by the connector's dispatch".to_string()
            })
        }
        EventType::Deleted | EventType::Restored => None,
    }
}

/// The `from_ado` rules worth running for this event.
fn relevant_rules(config: &Config, event: &Event, state: &SyncState) -> Config {
    let mut config = config.clone();
    if event.event_type == EventType::Updated {
        let ours = |name: &str, new: Option<&Value>| {
            state
                .fields
                .get(name)
                .is_some_and(|pushed| echoes(new, pushed))
        };
        let foreign: Vec<&str> = meaningful_changes(event)
            .into_iter()
            .filter(|(name, new)| !ours(name, *new))
            .map(|(name, _)| name)
            .collect();
        // A value that moved since the last revision applied, though this
        // revision did not change it: an earlier one did and arrived late.
        let moved = |field: &str| {
            let now = event.fields.get(field);
            state
                .ado_seen
                .get(field)
                .is_some_and(|seen| !same_value(now, seen) && !ours(field, now))
        };
        config.from_ado.retain(|rule| match sources(&rule.source) {
            Some(field) => foreign.iter().any(|f| f.eq_ignore_ascii_case(field)) || moved(field),
            None => !foreign.is_empty(),
        });
    }
    config
}

/// ADO comment HTML as plain text: block ends become line breaks, other
/// tags go, entities are decoded (by `html-escape`). The text never becomes
/// markup again here.
///
/// Kept rather than `html2text`: that crate parses with html5ever, about
/// 1 MB more of component to compile at every host start, to lay out tables
/// and links a ticket comment does not need; ADO's comment HTML only needs
/// its tags dropped and its entities decoded.
fn plain_text(html: &str) -> String {
    let mut out = String::with_capacity(html.len());
    let mut rest = html;
    while let Some(start) = rest.find('<') {
        out.push_str(&rest[..start]);
        let Some(end) = rest[start..].find('>') else {
            out.push_str(&rest[start..]);
            rest = "";
            break;
        };
        let tag = rest[start + 1..start + end].trim().to_ascii_lowercase();
        let name = tag
            .trim_start_matches('/')
            .split(|c: char| c.is_whitespace() || c == '/')
            .next()
            .unwrap_or_default();
        if matches!(
            name,
            "br" | "p" | "div" | "li" | "tr" | "h1" | "h2" | "h3" | "h4" | "h5" | "h6"
        ) && (tag.starts_with('/') || name == "br")
        {
            out.push('\n');
        }
        rest = &rest[start + end + 1..];
    }
    out.push_str(rest);
    let decoded = html_escape::decode_html_entities(&out).replace('\u{a0}', " ");
    let lines: Vec<&str> = decoded.lines().map(str::trim_end).collect();
    let mut text = lines.join("\n");
    while text.contains("\n\n\n") {
        text = text.replace("\n\n\n", "\n\n");
    }
    text.trim().to_string()
}

/// A foreign ADO comment as a ticket comment.
fn ticket_comment(event: &Event) -> Option<Comment> {
    let text = event
        .comment
        .as_deref()
        .map(plain_text)
        .filter(|t| !t.is_empty())?;
    let suffix = event
        .comment_id
        .map(|c| c.to_string())
        .or_else(|| event.rev.map(|r| format!("r{r}")))
        .unwrap_or_else(|| event.id.clone());
    Some(Comment {
        id: format!("ado-{}-{suffix}", event.work_item_id),
        author: event
            .changed_by
            .as_ref()
            .map(|c| c.display_name.clone())
            .unwrap_or_else(|| "Azure DevOps".into()),
        created: event
            .fields
            .get("System.ChangedDate")
            .and_then(Value::as_str)
            .map(str::to_string)
            .or_else(|| event.created_date.clone())
            .unwrap_or_default(),
        text,
    })
}

/// Turns a delivery into ticket changes for `link`'s ticket.
pub fn handle(config_text: &str, link: &Link, body: &[u8]) -> Result<Outcome, ConnectorError> {
    let config = config::parse(config_text)?;
    let event = payload::parse(body)?;
    if event.work_item_id != link.work_item_id {
        return Err(ConnectorError::Validation(vec![Issue::new(
            "resource.id",
            "link-mismatch",
            format!(
                "the event is about work item {}, the link about {}",
                event.work_item_id, link.work_item_id
            ),
        )]));
    }
    let mut state = SyncState::read(&link.sync_state)?;
    if state
        .seen_events
        .iter()
        .any(|e| e.eq_ignore_ascii_case(&event.id))
    {
        return Ok(Outcome::Ignore(format!(
            "duplicate: event {} was already handled",
            event.id
        )));
    }
    let mark = match event.event_type {
        EventType::Commented => Some(&mut state.comment_rev),
        EventType::Created | EventType::Updated => Some(&mut state.last_rev),
        EventType::Deleted | EventType::Restored => None,
    };
    if event.event_type == EventType::Commented
        && let Some(c) = ticket_comment(&event)
        && state.comments.contains_key(&c.id)
    {
        return Ok(Outcome::Ignore(format!(
            "duplicate: comment {} is already on the ticket",
            c.id
        )));
    }
    if let (Some(mark), Some(rev)) = (mark, event.rev) {
        // A comment is new whatever the order it arrives in: a late one is
        // not stale (its redelivery is caught above by its comment id).
        if let Some(last) = *mark
            && rev <= last
            && event.event_type != EventType::Commented
        {
            return Ok(Outcome::Ignore(format!(
                "stale: revision {rev} is not newer than revision {last} already applied"
            )));
        }
        *mark = Some(mark.map_or(rev, |m| m.max(rev)));
    }
    if let Some(reason) = own_change(&event, &state, config.sync.dedicated_identity) {
        return Ok(Outcome::Ignore(reason));
    }

    let mut update = TicketUpdate {
        link: link.clone(),
        fields: Vec::new(),
        comments: Vec::new(),
        deleted: None,
    };
    match event.event_type {
        EventType::Commented => {
            if let Some(c) = ticket_comment(&event) {
                // The comment already is in ADO: the next push must not post it back.
                // (0 when the event does not carry the comment's id.)
                state
                    .comments
                    .insert(c.id.clone(), event.comment_id.unwrap_or(0));
                update.comments.push(c);
            }
        }
        EventType::Deleted => update.deleted = Some(true),
        EventType::Created | EventType::Updated | EventType::Restored => {
            if event.event_type == EventType::Restored {
                update.deleted = Some(false);
            }
            let rules = relevant_rules(&config, &event, &state);
            let (fields, issues) = crate::mapping::from_ado::evaluate(&rules, &event.fields);
            if !issues.is_empty() {
                return Err(ConnectorError::InvalidConfig(issues));
            }
            // The new ADO values of the fields mapped back into the ticket
            // become the baseline of the next push, so it does not send them
            // back; a field not mapped back keeps its baseline, so the push
            // does not overwrite the ADO change either. Values that already
            // match keep the connector's own form.
            let mapped_sources: Vec<&str> = rules
                .from_ado
                .iter()
                .filter(|r| fields.iter().any(|f| f.name == r.target))
                .filter_map(|r| sources(&r.source))
                .collect();
            for (name, ours) in state.fields.iter_mut() {
                let ado = event.fields.get(name);
                if mapped_sources.iter().any(|s| s.eq_ignore_ascii_case(name)) && !echoes(ado, ours)
                {
                    *ours = ado.cloned().unwrap_or(Value::Null);
                }
            }
            for source in config.from_ado.iter().filter_map(|r| sources(&r.source)) {
                match event.fields.get(source) {
                    Some(v) => state.ado_seen.insert(source.to_string(), v.clone()),
                    None => state.ado_seen.remove(source),
                };
            }
            update.fields = fields;
            if let Some(rev) = event.rev {
                update.link.rev = update.link.rev.max(rev);
            }
            if let Some(s) = event.fields.get("System.State").and_then(Value::as_str) {
                state.state = Some(s.to_string());
            }
        }
    }
    state.remember_event(&event.id);
    update.link.sync_state = state.write();
    Ok(Outcome::Apply(update))
}

#[cfg(test)]
mod tests;
