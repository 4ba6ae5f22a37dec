//! The findings file on sync: when the findings shown in the file changed
//! since the last attached version (their digest differs), upload a new
//! version and return the JSON Patch ops that link it (and, for
//! `on_sync: replace`, unlink the previous version) in the sync's own PATCH.
//! A version the work item already carries (its relation comment holds the
//! digest: a repeated sync whose answer was lost) is adopted, not uploaded
//! again.

use serde::Deserialize;
use serde_json::{Value, json};

use super::attach::{digest_marker, upload};
use super::{OnSync, digest, generate};
use crate::client::Client;
use crate::config::Config;
use crate::error::ConnectorError;
use crate::model::{AttachmentState, Link, SyncState, Ticket};
use crate::target::API_VERSION;

/// Ops to append to the sync PATCH for the findings file, and `state`
/// updated to the new version.
///
/// Nothing (no request, no op) when the config has no attachment, when
/// `on_sync` is `off`, when the ticket has no findings, or when the digest
/// of the findings equals the last attached one. Otherwise: the new file
/// (its name carries today's date) is generated and refused over the limit
/// before any request; the work item's relations are read (one GET); a
/// relation already carrying this digest is adopted with no further
/// request and no op. Else the file is uploaded, and the ops are `add
/// /relations/-` for it, then, for `replace`, `remove /relations/{index}`
/// of the previous version when it is still there.
pub fn refresh(
    client: &Client<'_>,
    config: &Config,
    ticket: &Ticket,
    link: &Link,
    state: &mut SyncState,
) -> Result<Vec<Value>, ConnectorError> {
    let Some(options) = config.attachment.as_ref() else {
        return Ok(Vec::new());
    };
    if options.on_sync == OnSync::Off || ticket.findings.is_empty() {
        return Ok(Vec::new());
    }
    let wanted = digest(ticket, options, &config.labels);
    if state
        .attachment
        .as_ref()
        .is_some_and(|a| a.digest == wanted)
    {
        return Ok(Vec::new());
    }
    // Generate first: a file over the limit costs no request at all.
    let file = generate(ticket, options, &config.labels, client.env().now_unix())?;
    let relations = relations(client, link)?;
    let marker = digest_marker(&wanted);
    if let Some(r) = relations
        .iter()
        .find(|r| r.rel == "AttachedFile" && r.attributes.comment.contains(&marker))
    {
        state.attachment = Some(AttachmentState {
            file_name: r.attributes.name.clone().unwrap_or(file.file_name),
            url: r.url.clone(),
            size: r.attributes.resource_size.unwrap_or(0),
            digest: wanted,
        });
        return Ok(Vec::new());
    }
    let previous = match (options.on_sync, &state.attachment) {
        (OnSync::Replace, Some(previous)) => relation_index(&relations, &previous.url),
        _ => None,
    };
    let attached = upload(client, options, &config.labels, ticket, file)?;
    let mut ops = vec![attached.op];
    if let Some(index) = previous {
        // `add /relations/-` appends, so the previous index still holds.
        ops.push(json!({"op": "remove", "path": format!("/relations/{index}")}));
    }
    state.attachment = Some(attached.state);
    Ok(ops)
}

#[derive(Deserialize)]
struct Relations {
    #[serde(default)]
    relations: Vec<Relation>,
}

#[derive(Deserialize)]
struct Relation {
    rel: String,
    url: String,
    #[serde(default)]
    attributes: Attributes,
}

#[derive(Deserialize, Default)]
#[serde(rename_all = "camelCase")]
struct Attributes {
    #[serde(default)]
    comment: String,
    name: Option<String>,
    resource_size: Option<u64>,
}

/// The linked work item's relations, read with `$expand=relations`.
fn relations(client: &Client<'_>, link: &Link) -> Result<Vec<Relation>, ConnectorError> {
    let read = client.target().project_api(
        &link.project,
        &format!("wit/workitems/{}?$expand=relations", link.work_item_id),
        API_VERSION,
    );
    Ok(client.get::<Relations>(&read)?.relations)
}

/// The index of the `AttachedFile` relation to `url`.
fn relation_index(relations: &[Relation], url: &str) -> Option<usize> {
    let wanted = attachment_id(url);
    relations.iter().position(|r| {
        r.rel == "AttachedFile"
            && (r.url == url || (wanted.is_some() && attachment_id(&r.url) == wanted))
    })
}

/// The attachment id of an attachment URL: ADO stores the relation without
/// the upload URL's `fileName` query, so URLs are compared by it.
fn attachment_id(url: &str) -> Option<String> {
    let path = url.split(['?', '#']).next()?;
    let (_, id) = path.rsplit_once("/_apis/wit/attachments/")?;
    (!id.is_empty() && !id.contains('/')).then(|| id.to_ascii_lowercase())
}
