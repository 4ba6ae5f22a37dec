//! The `sync` section of the outegration config: how ticket changes reach
//! the work item after dispatch — conflicts, comments, trigger comments,
//! auto-close and reopen.

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use crate::error::Issue;

/// Ticket → work item sync settings.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct SyncConfig {
    /// What to do with a field changed on both sides since the last sync.
    #[serde(default)]
    pub conflicts: ConflictPolicy,
    /// Post new ticket comments to the work item (once each, attributed).
    #[serde(default = "yes")]
    pub comments: bool,
    /// Field transitions that post a comment on the work item, without
    /// touching its fields.
    #[serde(default)]
    pub triggers: Vec<Trigger>,
    /// Move the work item to a closed state once the findings are remediated.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub auto_close: Option<AutoClose>,
    /// Move a closed work item back when a finding regresses.
    #[serde(default)]
    pub reopen: Reopen,
    /// The connection's identity is used by the connector alone (a service
    /// principal or a service account): every revision it made is the
    /// connector's own and is not mapped back. Leave it off when the
    /// credentials are a person's, whose own edits in ADO must come back.
    #[serde(default)]
    pub dedicated_identity: bool,
}

impl Default for SyncConfig {
    fn default() -> Self {
        SyncConfig {
            conflicts: ConflictPolicy::default(),
            comments: true,
            triggers: Vec::new(),
            auto_close: None,
            reopen: Reopen::default(),
            dedicated_identity: false,
        }
    }
}

fn yes() -> bool {
    true
}

/// Resolution of a field changed both in the ticket and in ADO.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum ConflictPolicy {
    /// Keep ADO's value, send nothing for that field, and report it for a
    /// person to decide. The ticket's value is sent again only when it changes.
    #[default]
    Report,
    /// Overwrite ADO's value with the ticket's.
    TicketWins,
    /// Keep ADO's value.
    AdoWins,
}

impl ConflictPolicy {
    /// The name reported in a conflict's `resolution`.
    pub fn resolution(self) -> &'static str {
        match self {
            ConflictPolicy::Report => "reported",
            ConflictPolicy::TicketWins => "ticket-wins",
            ConflictPolicy::AdoWins => "ado-wins",
        }
    }
}

/// A ticket field transition that posts a comment.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Trigger {
    /// Ticket field system name, e.g. `severity`.
    pub field: String,
    /// Values the field changes from; empty: any value.
    #[serde(default)]
    pub from: Vec<String>,
    /// Values the field changes to; empty: any value.
    #[serde(default)]
    pub to: Vec<String>,
    /// Comment text with `{label}`, `{field}`, `{from}`, `{to}`, `{ticket}`
    /// and `{url}` placeholders. Default:
    /// `Linked ticket updated: {label} changed from: {from} to: {to} {url}`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub message: Option<String>,
}

/// Default trigger comment text.
pub const DEFAULT_TRIGGER_MESSAGE: &str =
    "Linked ticket updated: {label} changed from: {from} to: {to} {url}";

/// When and where to close the work item.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct AutoClose {
    /// Target state, e.g. `Closed` or `Done`. Where the type has no such
    /// state, the first state of its Completed category is used, and the
    /// result says so.
    pub state: String,
    /// Finding statuses that count as remediated.
    #[serde(default = "default_remediated")]
    pub remediated: Vec<String>,
    /// Finding statuses that are temporary (mitigated until a date, risk
    /// accepted for a while).
    #[serde(default = "default_temporary")]
    pub temporary: Vec<String>,
    /// Whether temporary statuses count as remediated. `false` ("do not close
    /// for temporary status changes"): only a full remediation closes.
    #[serde(default)]
    pub close_on_temporary: bool,
}

fn default_remediated() -> Vec<String> {
    vec!["fixed".into(), "remediated".into(), "closed".into()]
}

fn default_temporary() -> Vec<String> {
    vec!["mitigated".into(), "risk_accepted".into()]
}

/// Reopen on regression.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Reopen {
    /// Reopen a work item the connector closed when one of its findings
    /// is no longer remediated.
    #[serde(default = "yes")]
    pub enabled: bool,
    /// Target state; absent: the type's first InProgress state reachable from
    /// the closed state, else its first Proposed state.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub state: Option<String>,
}

impl Default for Reopen {
    fn default() -> Self {
        Reopen {
            enabled: true,
            state: None,
        }
    }
}

/// Checks of the section that need no ADO schema.
pub(super) fn check(sync: &SyncConfig, issues: &mut Vec<Issue>) {
    for (i, t) in sync.triggers.iter().enumerate() {
        let path = format!("$.sync.triggers[{i}]");
        if t.field.trim().is_empty() || t.field.chars().any(char::is_whitespace) {
            issues.push(Issue::new(
                format!("{path}.field"),
                "field",
                format!("`{}` is not a ticket field name (e.g. severity)", t.field),
            ));
        }
        if !t.from.is_empty() && t.from == t.to {
            issues.push(Issue::new(
                path.clone(),
                "trigger",
                "`from` and `to` are the same values: the trigger would never fire",
            ));
        }
    }
    if let Some(close) = &sync.auto_close {
        if close.state.trim().is_empty() {
            issues.push(Issue::new(
                "$.sync.auto_close.state",
                "required",
                "the closed state is empty",
            ));
        }
        let temporary_counts = close.close_on_temporary && !close.temporary.is_empty();
        if close.remediated.is_empty() && !temporary_counts {
            issues.push(Issue::new(
                "$.sync.auto_close.remediated",
                "required",
                "no finding status counts as remediated: the work item would never close",
            ));
        }
        for s in &close.temporary {
            if close.remediated.iter().any(|r| r.eq_ignore_ascii_case(s)) {
                issues.push(Issue::new(
                    "$.sync.auto_close.temporary",
                    "overlap",
                    format!("status `{s}` is both remediated and temporary"),
                ));
            }
        }
    }
    if let Some(state) = &sync.reopen.state
        && state.trim().is_empty()
    {
        issues.push(Issue::new(
            "$.sync.reopen.state",
            "required",
            "the reopen state is empty; leave it out to use the type's default",
        ));
    }
}
