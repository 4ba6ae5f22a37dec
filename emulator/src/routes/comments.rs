//! Work item discussion comments (api-version 7.1-preview.4): add
//! (`?format=markdown|html`), list with paging, get, update and soft delete.
//! Adding a comment makes a new revision of the item whose `System.History`
//! holds the comment and whose `System.CommentCount` counts it: [spec]
//! `WorkItemCommentVersionRef.createdInRevision` ("The work item revision
//! where this comment was originally added") and `WorkItem.commentVersionRef`
//! ("the comment added/edited/deleted in this revision"), as the
//! `workitem.commented` payloads (the comment in `fields["System.History"]`,
//! a new `rev`) and the updates API show. The same spec text has edits and
//! deletes happen "in" a revision too; what such a revision holds and which
//! event it raises no source shows, so editing and deleting a comment make
//! no revision here [unverified; the connector edits and deletes no
//! comment]; a delete recounts `System.CommentCount` in place. With
//! `comment-edit-revision=yes` (`variants`) each adds a revision.

use std::collections::HashMap;
use std::sync::Arc;

use axum::body::Bytes;
use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use serde::Deserialize;
use serde_json::{Value, json};

use crate::commit::{self, Change};
use crate::data::Data;
use crate::dates::now;
use crate::errors::envelope;
use crate::events::EventKind;
use crate::identities::identity_ref;
use crate::routes::meta::wit_project;
use crate::routes::params::{Q, bad_argument, flag, not_found, param};
use crate::state::Emu;
use crate::store::Comment;
use crate::views::comment_json;

/// The path of the comment routes.
#[derive(Debug, Deserialize)]
pub struct CommentPath {
    org: String,
    /// Absent on the collection-scoped routes (`{org}/_apis/wit/...`).
    #[serde(default)]
    project: Option<String>,
    id: String,
    comment: Option<String>,
}

/// Comments are a preview API: ADO refuses a version without `-preview`
/// with 400 and no code [ms-code: ADO's answer quoted in full in
/// wangkanai/devops-mcp#45, `VssInvalidPreviewVersionException`].
fn check_preview(q: &HashMap<String, String>) -> Result<(), Response> {
    match param(q, "api-version") {
        Some(v) if !v.to_ascii_lowercase().contains("preview") => Err(envelope(
            StatusCode::BAD_REQUEST,
            &format!(
                "The requested version \"{v}\" of the resource is under preview. The -preview flag must be supplied in the api-version for such requests. For example: \"{v}-preview\""
            ),
            "VssInvalidPreviewVersionException",
        )),
        _ => Ok(()),
    }
}

/// `format`: `markdown` or `html` ([spec] `CommentFormat`). Which one a
/// comment gets without it no source says: `html`, or `markdown` with
/// `comment-format=markdown` (`variants`).
fn format_of(emu: &Emu, q: &HashMap<String, String>) -> Result<String, Response> {
    match param(q, "format").map(str::to_ascii_lowercase).as_deref() {
        None if emu.variants.comment_markdown => Ok("markdown".into()),
        None | Some("html") => Ok("html".into()),
        Some("markdown") => Ok("markdown".into()),
        Some(other) => Err(bad_argument(&format!(
            "The comment format '{other}' is not one of markdown, html."
        ))),
    }
}

/// The HTML ADO shows for a comment: Markdown is rendered, HTML kept.
fn render(text: &str, format: &str) -> String {
    if format == "markdown" {
        let mut html = String::new();
        pulldown_cmark::html::push_html(&mut html, pulldown_cmark::Parser::new(text));
        html.trim_end().to_string()
    } else {
        text.to_string()
    }
}

/// The `text` of an add or update body. A body without one (an array, as
/// Microsoft's 5.1 sample wrongly showed) is refused with 400 "You must
/// provide a value for the text parameter.", `VssPropertyValidationException`
/// [ms-code: ADO's answer quoted in full in
/// MicrosoftDocs/vsts-rest-api-specs#482 and #313].
fn text_of(body: &[u8]) -> Result<String, Response> {
    let text = serde_json::from_slice::<Value>(body)
        .ok()
        .filter(Value::is_object)
        .and_then(|v| v.get("text").and_then(Value::as_str).map(str::to_string));
    match text {
        Some(t) if !t.trim().is_empty() => Ok(t),
        // [unverified] that an empty or blank text gets the same answer.
        _ => Err(envelope(
            StatusCode::BAD_REQUEST,
            NO_TEXT,
            "VssPropertyValidationException",
        )),
    }
}

/// ADO's text for a comment body without `text`.
pub const NO_TEXT: &str = "You must provide a value for the text parameter.";

fn comment_not_found(work_item: &str, comment: &str) -> Response {
    // [unverified] code and text.
    envelope(
        StatusCode::NOT_FOUND,
        &format!("TF401296: Comment {comment} does not exist on work item {work_item}."),
        "WorkItemCommentNotFoundException",
    )
}

/// Authenticates and checks the api-version; returns the caller.
fn enter(
    emu: &Emu,
    p: &CommentPath,
    q: &HashMap<String, String>,
    headers: &HeaderMap,
) -> Result<crate::auth::Caller, Response> {
    // Collection-scoped calls name no project: the work item's own is checked.
    let project = match &p.project {
        Some(project) => project.clone(),
        None => emu
            .data()
            .work_items
            .get(&p.id.parse().unwrap_or(0))
            .map(|i| i.project_id.clone())
            .unwrap_or_else(|| p.org.clone()),
    };
    let (caller, _) = wit_project(emu, &p.org, &project, headers)?;
    check_preview(q)?;
    Ok(caller)
}

/// `POST .../workItems/{id}/comments[?format=]`.
pub async fn add(
    State(emu): State<Arc<Emu>>,
    Path(p): Path<CommentPath>,
    Query(q): Q,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let caller = match enter(&emu, &p, &q, &headers) {
        Ok(c) => c,
        Err(r) => return r,
    };
    let (text, format) = match (text_of(&body), format_of(&emu, &q)) {
        (Ok(t), Ok(f)) => (t, f),
        (Err(r), _) | (_, Err(r)) => return r,
    };
    let mut data = emu.data();
    let Some(current) =
        p.id.parse::<i32>()
            .ok()
            .and_then(|n| data.work_items.get(&n).cloned())
    else {
        return not_found(&p.id);
    };
    let rendered = render(&text, &format);
    let change = Change {
        kind: EventKind::Commented,
        actor: &caller.identity,
        suppress: false,
        comment: Some((text, format)),
    };
    let mut after = current.clone();
    after
        .fields
        .insert("System.History".into(), json!(rendered));
    let (item, comment) = commit::update(&*emu, &mut data, current, after, &change);
    drop(data);
    match comment {
        Some(c) => axum::Json(comment_json(&emu, &item.project_id, &c, true)).into_response(),
        None => not_found(&p.id),
    }
}

/// The visible comments of an item, oldest first.
fn visible(data: &Data, id: i32, include_deleted: bool) -> Vec<Comment> {
    data.store
        .comments
        .get(&id)
        .map(|l| {
            l.iter()
                .filter(|c| include_deleted || !c.is_deleted)
                .cloned()
                .collect()
        })
        .unwrap_or_default()
}

fn rendered(q: &HashMap<String, String>) -> bool {
    param(q, "$expand").is_some_and(|e| {
        let e = e.to_ascii_lowercase();
        e.contains("renderedtext") || e == "all"
    })
}

/// `GET .../comments` (paged, newest first unless `order=asc`) or `?ids=`.
pub async fn list(
    State(emu): State<Arc<Emu>>,
    Path(p): Path<CommentPath>,
    Query(q): Q,
    headers: HeaderMap,
) -> Response {
    if let Err(r) = enter(&emu, &p, &q, &headers) {
        return r;
    }
    let data = emu.data();
    let Some(item) =
        p.id.parse::<i32>()
            .ok()
            .and_then(|n| data.work_items.get(&n).cloned())
    else {
        return not_found(&p.id);
    };
    let mut all = visible(&data, item.id, flag(&q, "includeDeleted"));
    drop(data);
    if let Some(ids) = param(&q, "ids") {
        let wanted: Vec<&str> = ids.split(',').map(str::trim).collect();
        all.retain(|c| wanted.contains(&c.id.to_string().as_str()));
        let list: Vec<Value> = all
            .iter()
            .map(|c| comment_json(&emu, &item.project_id, c, rendered(&q)))
            .collect();
        return axum::Json(
            json!({"totalCount": list.len(), "count": list.len(), "comments": list}),
        )
        .into_response();
    }
    // The list sample pages newest first when no order is given.
    if !param(&q, "order").is_some_and(|o| o.eq_ignore_ascii_case("asc")) {
        all.reverse();
    }
    let top: usize = param(&q, "$top")
        .and_then(|t| t.parse().ok())
        .filter(|t| *t > 0)
        .unwrap_or(200);
    // The continuation token is opaque to clients; ours is the offset.
    let start: usize = match param(&q, "continuationToken").map(|t| t.parse::<usize>()) {
        None => 0,
        Some(Ok(n)) => n,
        Some(Err(_)) => return bad_argument("The continuation token is not valid."),
    };
    let page: Vec<Value> = all
        .iter()
        .skip(start)
        .take(top)
        .map(|c| comment_json(&emu, &item.project_id, c, rendered(&q)))
        .collect();
    let mut body = json!({"totalCount": all.len(), "count": page.len(), "comments": page});
    if start + top < all.len() {
        let token = (start + top).to_string();
        body["continuationToken"] = token.clone().into();
        body["nextPage"] = format!("{}/{}/{}/_apis/wit/workItems/{}/comments?continuationToken={token}&api-version=7.1-preview.4", emu.base_url(), emu.organization, item.project_id, item.id).into();
    }
    axum::Json(body).into_response()
}

/// Finds a comment of a live item, with the data lock held.
fn find<'a>(data: &'a mut Data, p: &CommentPath) -> Result<&'a mut Comment, Response> {
    let id =
        p.id.parse::<i32>()
            .ok()
            .filter(|n| data.work_items.contains_key(n))
            .ok_or_else(|| not_found(&p.id))?;
    let cid = p.comment.clone().unwrap_or_default();
    data.store
        .comments
        .get_mut(&id)
        .and_then(|l| l.iter_mut().find(|c| c.id.to_string() == cid))
        .ok_or_else(|| comment_not_found(&p.id, &cid))
}

/// `GET .../comments/{commentId}`: a deleted one only with `includeDeleted`.
pub async fn get(
    State(emu): State<Arc<Emu>>,
    Path(p): Path<CommentPath>,
    Query(q): Q,
    headers: HeaderMap,
) -> Response {
    if let Err(r) = enter(&emu, &p, &q, &headers) {
        return r;
    }
    let mut data = emu.data();
    let project = data
        .work_items
        .get(&p.id.parse().unwrap_or(0))
        .map(|i| i.project_id.clone())
        .unwrap_or_default();
    match find(&mut data, &p) {
        Ok(c) if c.is_deleted && !flag(&q, "includeDeleted") => {
            comment_not_found(&p.id, &c.id.to_string())
        }
        Ok(c) => axum::Json(comment_json(&emu, &project, c, rendered(&q))).into_response(),
        Err(r) => r,
    }
}

/// `PATCH .../comments/{commentId}[?format=]`: a new version of the text.
pub async fn update(
    State(emu): State<Arc<Emu>>,
    Path(p): Path<CommentPath>,
    Query(q): Q,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let caller = match enter(&emu, &p, &q, &headers) {
        Ok(c) => c,
        Err(r) => return r,
    };
    let text = match text_of(&body) {
        Ok(t) => t,
        Err(r) => return r,
    };
    let mut data = emu.data();
    let project = data
        .work_items
        .get(&p.id.parse().unwrap_or(0))
        .map(|i| i.project_id.clone())
        .unwrap_or_default();
    let c = match find(&mut data, &p) {
        Ok(c) if c.is_deleted => return comment_not_found(&p.id, &c.id.to_string()),
        Ok(c) => c,
        Err(r) => return r,
    };
    // Without `format` the comment keeps its own.
    if param(&q, "format").is_some() {
        match format_of(&emu, &q) {
            Ok(f) => c.format = f,
            Err(r) => return r,
        }
    }
    c.rendered_text = render(&text, &c.format);
    c.text = text;
    c.version += 1;
    c.modified_by = identity_ref(&emu, &caller.identity);
    c.modified_date = now();
    let edited = c.clone();
    edit_revision(&emu, &mut data, edited.work_item_id, None, &caller.identity);
    drop(data);
    axum::Json(comment_json(&emu, &project, &edited, true)).into_response()
}

/// With `comment-edit-revision=yes` (`variants`), an edit or delete adds
/// a revision of the item (new `rev`, `System.ChangedDate`/`ChangedBy`,
/// `count` as its `System.CommentCount`, no `System.History`) and raises
/// `workitem.updated`; by default it adds none (module comment).
/// Returns whether it added one.
fn edit_revision(
    emu: &Emu,
    data: &mut Data,
    id: i32,
    count: Option<usize>,
    actor: &crate::model::Identity,
) -> bool {
    if !emu.variants.comment_edit_revision {
        return false;
    }
    let Some(current) = data.work_items.get(&id).cloned() else {
        return false;
    };
    let mut after = current.clone();
    after.fields.remove("System.History");
    if let Some(n) = count {
        after.fields.insert("System.CommentCount".into(), json!(n));
    }
    let change = Change {
        kind: EventKind::Updated,
        actor,
        suppress: false,
        comment: None,
    };
    commit::update(emu, data, current, after, &change);
    true
}

/// `DELETE .../comments/{commentId}`: soft delete; the delete sample answers
/// the comment with `isDeleted: true` and a new version.
pub async fn delete(
    State(emu): State<Arc<Emu>>,
    Path(p): Path<CommentPath>,
    Query(q): Q,
    headers: HeaderMap,
) -> Response {
    let caller = match enter(&emu, &p, &q, &headers) {
        Ok(c) => c,
        Err(r) => return r,
    };
    let mut data = emu.data();
    let c = match find(&mut data, &p) {
        Ok(c) if c.is_deleted => return comment_not_found(&p.id, &c.id.to_string()),
        Ok(c) => c,
        Err(r) => return r,
    };
    c.is_deleted = true;
    c.version += 1;
    c.modified_by = identity_ref(&emu, &caller.identity);
    c.modified_date = now();
    let deleted = c.clone();
    let live = visible(&data, deleted.work_item_id, false).len();
    let mut project = String::new();
    if edit_revision(
        &emu,
        &mut data,
        deleted.work_item_id,
        Some(live),
        &caller.identity,
    ) {
        if let Some(item) = data.work_items.get(&deleted.work_item_id) {
            project = item.project_id.clone();
        }
        drop(data);
        return axum::Json(comment_json(&emu, &project, &deleted, false)).into_response();
    }
    if let Some(item) = data.work_items.get_mut(&deleted.work_item_id) {
        item.fields
            .insert("System.CommentCount".into(), json!(live));
        project = item.project_id.clone();
    }
    if let Some(last) = data
        .store
        .history
        .get_mut(&deleted.work_item_id)
        .and_then(|h| h.last_mut())
    {
        last.fields
            .insert("System.CommentCount".into(), json!(live));
    }
    drop(data);
    axum::Json(comment_json(&emu, &project, &deleted, false)).into_response()
}
