//! Work items: create (`POST .../workitems/$Type`), the new-item template
//! (`GET .../workitems/$Type`), get and update. `create_item` and
//! `update_item` are plain functions so `$batch` can run them too.

use std::collections::HashMap;
use std::sync::Arc;

use axum::body::Bytes;
use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use serde_json::json;

use crate::auth::Caller;
use crate::commit::{self, Change};
use crate::dates::now;
use crate::errors::envelope;
use crate::events::EventKind;
use crate::identities::identity_ref;
use crate::model::{Project, StoredItem};
use crate::patch::{self, Mode};
use crate::routes::meta::{unknown_type, wit_project};
use crate::routes::params::{Q, flag, not_found, org_wit_caller, param};
use crate::routes::read_params::{as_of, parse_as_of, read_view};
use crate::state::Emu;
use crate::views::{self, Expand, View};

pub use crate::views::item_json;

/// The view a write answers with: everything, relations when `$expand` asks.
fn write_view(q: &HashMap<String, String>) -> View {
    let expand = Expand::parse(param(q, "$expand")).unwrap_or(Expand::None);
    // Create and update examples return relations without `$expand`.
    View {
        fields: None,
        expand: if expand == Expand::None {
            Expand::Relations
        } else {
            expand
        },
        links: true,
    }
}

/// A new item of a type, before any operation: server-filled fields.
fn blank(emu: &Emu, caller: &Caller, project: &Project, ty_name: &str) -> StoredItem {
    let who = identity_ref(emu, &caller.identity);
    let stamp = now();
    let mut fields = serde_json::Map::new();
    for (k, v) in [
        ("System.AreaPath", json!(project.name)),
        ("System.TeamProject", json!(project.name)),
        ("System.IterationPath", json!(project.name)),
        ("System.WorkItemType", json!(ty_name)),
        ("System.CreatedDate", json!(stamp)),
        ("System.CreatedBy", who.clone()),
        ("System.ChangedDate", json!(stamp)),
        ("System.ChangedBy", who),
        ("System.CommentCount", json!(0)),
    ] {
        fields.insert(k.into(), v);
    }
    // A new item sits at the project's root area and iteration [doc: Define
    // area paths / iteration paths], with the nodes' ids beside the paths.
    if let Some(trees) = emu.data().trees.get(&project.id) {
        fields.insert("System.AreaId".into(), json!(trees.areas.id));
        fields.insert("System.IterationId".into(), json!(trees.iterations.id));
    }
    StoredItem {
        id: 0,
        rev: 0,
        project_id: project.id.clone(),
        fields,
        relations: vec![],
    }
}

/// `POST {project}/_apis/wit/workitems/${type}`.
pub fn create_item(
    emu: &Emu,
    caller: &Caller,
    project: &Project,
    target: &str,
    q: &HashMap<String, String>,
    headers: &HeaderMap,
    body: &[u8],
) -> Response {
    let Some(ty_name) = target.strip_prefix('$') else {
        return envelope(
            StatusCode::METHOD_NOT_ALLOWED,
            "VS403444: POST needs a work item type: .../workitems/$Type",
            "InvalidArgumentValueException",
        );
    };
    let Some(ty) = project.process.work_item_type(ty_name) else {
        return unknown_type(project, ty_name);
    };
    let ops = match patch::parse_ops("POST", headers, body) {
        Ok(o) => o,
        Err(r) => return r,
    };
    let mut item = blank(emu, caller, project, &ty.name);
    let mode = Mode {
        bypass: flag(q, "bypassRules"),
        creating: true,
    };
    if let Err(r) = patch::apply(emu, project, &mut item, &ops, mode, &caller.identity) {
        return r;
    }
    if flag(q, "validateOnly") {
        return axum::Json(views::item(emu, &item, &write_view(q))).into_response();
    }
    let change = Change {
        kind: EventKind::Created,
        actor: &caller.identity,
        suppress: flag(q, "suppressNotifications"),
        comment: None,
    };
    let mut data = emu.data();
    let stored = commit::create(emu, &mut data, item, &change);
    drop(data);
    axum::Json(views::item(emu, &stored, &write_view(q))).into_response()
}

/// `PATCH _apis/wit/workitems/{id}`: all operations or none.
pub fn update_item(
    emu: &Emu,
    caller: &Caller,
    id: &str,
    q: &HashMap<String, String>,
    headers: &HeaderMap,
    body: &[u8],
) -> Response {
    let ops = match patch::parse_ops("PATCH", headers, body) {
        Ok(o) => o,
        Err(r) => return r,
    };
    let Some(current) = id
        .parse::<i32>()
        .ok()
        .and_then(|n| emu.data().work_items.get(&n).cloned())
    else {
        return not_found(id);
    };
    let Some(project) = emu.project(&current.project_id).cloned() else {
        return not_found(id);
    };
    let mut item = current.clone();
    // System.History belongs to the revision that wrote it.
    item.fields.remove("System.History");
    let mode = Mode {
        bypass: flag(q, "bypassRules"),
        creating: false,
    };
    if let Err(r) = patch::apply(emu, &project, &mut item, &ops, mode, &caller.identity) {
        return r;
    }
    if flag(q, "validateOnly") {
        // The validateOnly example: the answer keeps the current rev.
        return axum::Json(views::item(emu, &item, &write_view(q))).into_response();
    }
    let change = Change {
        kind: EventKind::Updated,
        actor: &caller.identity,
        suppress: flag(q, "suppressNotifications"),
        comment: None,
    };
    let mut data = emu.data();
    // Another writer may have committed since we read: the revision decides.
    if data.work_items.get(&current.id).map(|i| i.rev) != Some(current.rev) {
        return envelope(
            StatusCode::PRECONDITION_FAILED,
            "TF26071: This work item has been changed by someone else since you opened it.",
            "WorkItemRevisionMismatchException",
        );
    }
    let (stored, _) = commit::update(emu, &mut data, current, item, &change);
    drop(data);
    axum::Json(views::item(emu, &stored, &write_view(q))).into_response()
}

pub async fn create(
    State(emu): State<Arc<Emu>>,
    Path((org, project, target)): Path<(String, String, String)>,
    Query(q): Q,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    match wit_project(&emu, &org, &project, &headers) {
        Ok((caller, project)) => create_item(&emu, &caller, &project, &target, &q, &headers, &body),
        Err(r) => r,
    }
}

fn read(emu: &Emu, id: &str, q: &HashMap<String, String>) -> Response {
    let view = match read_view(q, true) {
        Ok(v) => v,
        Err(r) => return r,
    };
    let at = match parse_as_of(param(q, "asOf")) {
        Ok(at) => at,
        Err(r) => return r,
    };
    let found = id.parse::<i32>().ok().and_then(|n| {
        let data = emu.data();
        let item = data.work_items.get(&n)?;
        as_of(&data, item, at)
    });
    match found {
        Some(item) => axum::Json(views::item(emu, &item, &view)).into_response(),
        None => not_found(id),
    }
}

/// `GET {project}/_apis/wit/workitems/${type}`: the new-item template, a
/// work item without id whose fields hold the defaults (template example).
fn template(emu: &Emu, caller: &Caller, project: &Project, ty_name: &str) -> Response {
    let Some(ty) = project.process.work_item_type(ty_name) else {
        return unknown_type(project, ty_name);
    };
    let mut item = blank(emu, caller, project, &ty.name);
    for k in [
        "System.CreatedDate",
        "System.ChangedDate",
        "System.CommentCount",
    ] {
        item.fields.remove(k);
    }
    let mode = Mode {
        bypass: true,
        creating: true,
    };
    if let Err(r) = patch::apply(emu, project, &mut item, &[], mode, &caller.identity) {
        return r;
    }
    let base = format!("{}/{}/{}", emu.base_url(), emu.organization, project.id);
    axum::Json(json!({
        "fields": item.fields,
        "_links": {"workItemType": {"href": format!("{base}/_apis/wit/workItemTypes/{}", ty.name.replace(' ', "%20"))}, "fields": {"href": format!("{base}/_apis/wit/fields")}},
        "url": format!("{base}/_apis/wit/workItems"),
    }))
    .into_response()
}

pub async fn get_in_project(
    State(emu): State<Arc<Emu>>,
    Path((org, project, id)): Path<(String, String, String)>,
    Query(q): Q,
    headers: HeaderMap,
) -> Response {
    match wit_project(&emu, &org, &project, &headers) {
        Ok((caller, project)) => match id.strip_prefix('$') {
            Some(ty) => template(&emu, &caller, &project, ty),
            None => read(&emu, &id, &q),
        },
        Err(r) => r,
    }
}

pub async fn get(
    State(emu): State<Arc<Emu>>,
    Path((org, id)): Path<(String, String)>,
    Query(q): Q,
    headers: HeaderMap,
) -> Response {
    match org_wit_caller(&emu, &org, &headers) {
        Ok(_) => read(&emu, &id, &q),
        Err(r) => r,
    }
}

pub async fn update_in_project(
    State(emu): State<Arc<Emu>>,
    Path((org, project, id)): Path<(String, String, String)>,
    Query(q): Q,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    match wit_project(&emu, &org, &project, &headers) {
        Ok((caller, _)) => update_item(&emu, &caller, &id, &q, &headers, &body),
        Err(r) => r,
    }
}

pub async fn update(
    State(emu): State<Arc<Emu>>,
    Path((org, id)): Path<(String, String)>,
    Query(q): Q,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    match org_wit_caller(&emu, &org, &headers) {
        Ok(caller) => update_item(&emu, &caller, &id, &q, &headers, &body),
        Err(r) => r,
    }
}
