//! One-line texts for what the lifecycle steps did: a push, a state change,
//! a bulk-close outcome, a link. Shared by the CLI and the demo.

use crate::platform::lifecycle::Dispatched;
use crate::state::ticket_file::value_json;
use crate::{CloseOutcome, FieldValue, Link, PushOutcome, StateChange, Transition};

/// A field value as compact JSON.
pub fn value(v: &FieldValue) -> String {
    value_json(v).to_string()
}

/// `from → to (reason) [note]`.
pub fn transition(t: &Transition) -> String {
    let note = t
        .note
        .as_deref()
        .map(|n| format!(" [{n}]"))
        .unwrap_or_default();
    format!("{} -> {} ({}){note}", t.from, t.to, t.reason)
}

/// The result of a dispatch.
pub fn dispatched(ticket_id: &str, d: &Dispatched) -> String {
    let how = match d {
        Dispatched::Created(_) => "created",
        Dispatched::Adopted(_) => "adopted (an earlier dispatch had created it)",
    };
    let l = d.link();
    format!(
        "{ticket_id} -> work item {} rev {} {how} {}",
        l.work_item_id, l.rev, l.web_url
    )
}

/// The lines of a push: what was sent and posted, each conflict, the transition.
pub fn push(ticket_id: &str, o: &PushOutcome) -> Vec<String> {
    let sent = if o.fields_sent.is_empty() {
        "no fields".to_string()
    } else {
        o.fields_sent.join(", ")
    };
    let mut lines = vec![format!(
        "{ticket_id} -> work item {} rev {}: sent {sent}; {} comment(s), {} trigger comment(s) posted",
        o.link.work_item_id, o.link.rev, o.comments_posted, o.triggers_posted
    )];
    for c in &o.conflicts {
        lines.push(format!(
            "  conflict on {}: ticket {} vs Azure DevOps {} -> {}",
            c.field,
            value(&c.ticket_value),
            value(&c.ado_value),
            c.resolution
        ));
    }
    if let Some(t) = &o.transition {
        lines.push(format!("  state {}", transition(t)));
    }
    lines
}

/// The result of a close (`verb` = `closed`) or reopen (`reopened`).
pub fn state_change(ticket_id: &str, verb: &str, c: &StateChange) -> String {
    match &c.transition {
        Some(t) => format!(
            "{ticket_id} -> work item {}: {verb} {}",
            c.link.work_item_id,
            transition(t)
        ),
        None => format!(
            "{ticket_id} -> work item {}: already {verb}",
            c.link.work_item_id
        ),
    }
}

/// One item of a bulk close; `true` when it failed.
pub fn close_outcome(ticket_id: &str, o: &anyhow::Result<CloseOutcome>) -> (String, bool) {
    match o {
        Ok(CloseOutcome::Closed(c)) => (state_change(ticket_id, "closed", c), false),
        Ok(CloseOutcome::AlreadyClosed(l)) => (
            format!(
                "{ticket_id} -> work item {}: already closed",
                l.work_item_id
            ),
            false,
        ),
        Ok(CloseOutcome::Failed(e)) => (
            format!(
                "{ticket_id} -> failed: {}",
                crate::describe(e).replace('\n', "\n    ")
            ),
            true,
        ),
        Err(e) => (
            format!(
                "{ticket_id} -> failed: {}",
                format!("{e:#}").replace('\n', "\n    ")
            ),
            true,
        ),
    }
}

/// The header and one row per link of `links`.
pub fn links_table(links: &[(String, Link)]) -> Vec<String> {
    let mut out = vec![format!(
        "{:<12} {:>9} {:>5} {:<38} {:<22} web url",
        "ticket", "work item", "rev", "project", "type"
    )];
    for (id, l) in links {
        out.push(format!(
            "{:<12} {:>9} {:>5} {:<38} {:<22} {}",
            id, l.work_item_id, l.rev, l.project, l.work_item_type, l.web_url
        ));
    }
    out
}
