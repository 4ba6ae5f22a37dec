//! The connector's data: connections, tickets and links, as plain Rust types.

use std::fmt;

/// A secret string whose `Debug` never shows the value.
#[derive(Clone, PartialEq, Eq)]
pub struct Secret(pub String);

impl Secret {
    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Secret(***)")
    }
}

/// Default Entra ID token authority.
pub const DEFAULT_AUTHORITY: &str = "https://login.microsoftonline.com";

/// How the connector authenticates to Azure DevOps.
#[derive(Debug, Clone, PartialEq)]
pub enum Credentials {
    Pat(Secret),
    AccessToken(Secret),
    ClientCredentials {
        tenant_id: String,
        client_id: String,
        client_secret: Secret,
        authority: Option<String>,
    },
    RefreshToken {
        tenant_id: String,
        client_id: String,
        client_secret: Option<Secret>,
        refresh_token: Secret,
        authority: Option<String>,
    },
}

impl Credentials {
    /// A short name for messages.
    pub fn kind(&self) -> &'static str {
        match self {
            Credentials::Pat(_) => "personal access token",
            Credentials::AccessToken(_) => "access token",
            Credentials::ClientCredentials { .. } => "Entra ID client credentials",
            Credentials::RefreshToken { .. } => "Entra ID refresh token",
        }
    }

    /// The secret values, to keep them out of messages.
    pub fn secrets(&self) -> Vec<&str> {
        match self {
            Credentials::Pat(s) | Credentials::AccessToken(s) => vec![s.expose()],
            Credentials::ClientCredentials { client_secret, .. } => vec![client_secret.expose()],
            Credentials::RefreshToken {
                client_secret,
                refresh_token,
                ..
            } => client_secret
                .iter()
                .map(Secret::expose)
                .chain([refresh_token.expose()])
                .collect(),
        }
    }
}

/// Where and as whom to talk to Azure DevOps.
#[derive(Debug, Clone, PartialEq)]
pub struct Connection {
    pub base_url: String,
    pub project: String,
    pub credentials: Credentials,
}

pub use ticketing_model::{Comment, Field, FieldValue, Finding, Ticket};

/// What ties a ticket to its work item.
#[derive(Debug, Clone, PartialEq)]
pub struct Link {
    pub ticket_id: String,
    pub project: String,
    pub work_item_type: String,
    pub work_item_id: i32,
    pub rev: i32,
    pub url: String,
    pub web_url: String,
    /// JSON the plugin owns; see [`SyncState`].
    pub sync_state: String,
}

/// What the plugin remembers in a link between calls.
#[derive(Debug, Clone, Default, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct SyncState {
    /// Work item field values the connector last wrote (or decided not to
    /// overwrite after a conflict), by reference name: the baseline that
    /// tells a ticket change from an ADO change.
    #[serde(default)]
    pub fields: serde_json::Map<String, serde_json::Value>,
    /// Ticket comment id → ADO comment id of the comments the connector posted.
    #[serde(default, skip_serializing_if = "std::collections::BTreeMap::is_empty")]
    pub comments: std::collections::BTreeMap<String, i64>,
    /// Trigger comment key → ADO comment id, for the trigger comments posted.
    #[serde(default, skip_serializing_if = "std::collections::BTreeMap::is_empty")]
    pub triggers: std::collections::BTreeMap<String, i64>,
    /// The work item's `System.State` as the connector last saw it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub state: Option<String>,
    /// The connector closed the work item (auto-close or close) and has not
    /// reopened it since.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub closed: bool,
    /// Service-hook event ids already handled, oldest first, at most
    /// [`SyncState::SEEN_EVENTS`] of them: a redelivery is recognised.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub seen_events: Vec<String>,
    /// Revision of the last field event (created, updated, restored) applied
    /// from a webhook: an older one arriving late is stale.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub last_rev: Option<i32>,
    /// Revision of the last `workitem.commented` event applied (a comment
    /// shares its revision with the `workitem.updated` event of the same change).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub comment_rev: Option<i32>,
    /// The ADO values of the `from_ado` source fields at the last revision
    /// applied from a webhook. A newer revision whose value differs is
    /// mapped even when that revision did not change the field itself: the
    /// revision that did may arrive later (then stale) or never.
    #[serde(default, skip_serializing_if = "serde_json::Map::is_empty")]
    pub ado_seen: serde_json::Map<String, serde_json::Value>,
    /// Revisions the connector's own writes produced (field pushes, state
    /// changes, the create), newest last, at most [`SyncState::OWN_REVS`]:
    /// their service-hook events are echoes, however late they arrive.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub own_revs: Vec<i32>,
    /// The connector's own ADO identity (id or unique name), when known:
    /// changes made by it are its own echo.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub identity: Option<String>,
    /// The findings file last attached, if any.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub attachment: Option<AttachmentState>,
}

impl SyncState {
    /// How many handled event ids a link remembers.
    pub const SEEN_EVENTS: usize = 64;

    /// Remembers a handled event id, forgetting the oldest beyond the bound.
    pub fn remember_event(&mut self, id: &str) {
        if !self.seen_events.iter().any(|e| e.eq_ignore_ascii_case(id)) {
            self.seen_events.push(id.to_string());
        }
        let excess = self.seen_events.len().saturating_sub(Self::SEEN_EVENTS);
        self.seen_events.drain(..excess);
    }

    /// How many of its own revisions a link remembers.
    pub const OWN_REVS: usize = 64;

    /// Remembers a revision the connector's own write produced.
    pub fn remember_own_rev(&mut self, rev: i32) {
        if !self.own_revs.contains(&rev) {
            self.own_revs.push(rev);
        }
        let excess = self.own_revs.len().saturating_sub(Self::OWN_REVS);
        self.own_revs.drain(..excess);
    }

    /// Reads a link's state; an empty one (a link from an older host) is the default.
    pub fn read(text: &str) -> Result<SyncState, crate::error::ConnectorError> {
        if text.trim().is_empty() {
            return Ok(SyncState::default());
        }
        serde_json::from_str(text).map_err(|e| {
            crate::error::ConnectorError::Other(format!(
                "the link's sync state is not readable ({e}); it was not written by this connector"
            ))
        })
    }

    /// The state as the JSON the host stores.
    pub fn write(&self) -> String {
        serde_json::to_string(self).unwrap_or_default()
    }
}

/// The findings file the connector last attached to the work item.
#[derive(Debug, Clone, Default, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct AttachmentState {
    pub file_name: String,
    /// The URL ADO returned for the upload (the relation's URL).
    pub url: String,
    /// Size in bytes.
    pub size: u64,
    /// [`crate::attachments::digest`] of the findings it shows.
    pub digest: String,
}
