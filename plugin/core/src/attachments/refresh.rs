//! The findings file on sync: when the findings shown in the file changed
//! since the last attached version (their digest differs), upload a new
//! version and return the JSON Patch ops that link it (and, for
//! `on_sync: replace`, unlink the previous version) in the sync's own PATCH.

use serde::Deserialize;
use serde_json::{Value, json};

use super::attach::upload;
use super::{OnSync, digest, generate};
use crate::client::Client;
use crate::config::Config;
use crate::error::ConnectorError;
use crate::model::{Link, SyncState, Ticket};
use crate::target::API_VERSION;

/// Ops to append to the sync PATCH for the findings file, and `state`
/// updated to the new version.
///
/// Nothing (no request, no op) when the config has no attachment, when
/// `on_sync` is `off`, when the ticket has no findings, or when the digest
/// of the findings equals the last attached one. Otherwise: for `replace`
/// the work item's relations are read first (one GET) to find the previous
/// version's index; then the new file (its name carries today's date) is
/// generated, refused over the limit before any upload, and uploaded. The
/// ops are `add /relations/-` for the new file, then, for `replace`,
/// `remove /relations/{index}` of the previous one when it is still there.
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
    if state
        .attachment
        .as_ref()
        .is_some_and(|a| a.digest == digest(ticket, options, &config.labels))
    {
        return Ok(Vec::new());
    }
    // Generate first: a file over the limit costs no request at all.
    let file = generate(ticket, options, &config.labels, client.env().now_unix())?;
    let previous = match (options.on_sync, &state.attachment) {
        (OnSync::Replace, Some(previous)) => relation_index(client, link, &previous.url)?,
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
}

/// The index of the `AttachedFile` relation to `url` on the linked work
/// item, read with `$expand=relations`.
fn relation_index(
    client: &Client<'_>,
    link: &Link,
    url: &str,
) -> Result<Option<usize>, ConnectorError> {
    let read = client.target().project_api(
        &link.project,
        &format!("wit/workitems/{}?$expand=relations", link.work_item_id),
        API_VERSION,
    );
    let item: Relations = client.get(&read)?;
    let wanted = attachment_id(url);
    Ok(item.relations.iter().position(|r| {
        r.rel == "AttachedFile"
            && (r.url == url || (wanted.is_some() && attachment_id(&r.url) == wanted))
    }))
}

/// The attachment id of an attachment URL: ADO stores the relation without
/// the upload URL's `fileName` query, so URLs are compared by it.
fn attachment_id(url: &str) -> Option<String> {
    let path = url.split(['?', '#']).next()?;
    let (_, id) = path.rsplit_once("/_apis/wit/attachments/")?;
    (!id.is_empty() && !id.contains('/')).then(|| id.to_ascii_lowercase())
}
