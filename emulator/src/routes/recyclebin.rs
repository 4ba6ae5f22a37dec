//! Deleting work items and the recycle bin: `DELETE .../workitems/{id}`
//! (to the bin; `destroy=true` removes it for good), and
//! `_apis/wit/recyclebin` (list, get, `?ids=`, restore with
//! `PATCH {"isDeleted": false}`, destroy). Answers follow the 7.1 spec
//! (`WorkItemDelete`, 200) where the older samples show 204; lists are
//! wrapped in `{count, value}` like every ADO list, where the samples show
//! a bare array. Deleted items are invisible to reads and WIQL.

use std::sync::Arc;

use axum::body::Bytes;
use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use serde::Deserialize;
use serde_json::{Value, json};

use crate::auth::Caller;
use crate::commit::{self, recycle_bin_date};
use crate::errors::envelope;
use crate::events::EventKind;
use crate::routes::meta::wit_project;
use crate::routes::params::{Q, bad_argument, flag, ids, not_found, org_wit_caller, param};
use crate::state::Emu;
use crate::store::Deleted;
use crate::views;

/// The path of these routes, with or without the project segment.
#[derive(Debug, Deserialize)]
pub struct BinPath {
    org: String,
    project: Option<String>,
    /// The work item routes name it `target` (it may also be `$Type`).
    #[serde(alias = "target")]
    id: Option<String>,
}

fn authenticate(
    emu: &Emu,
    p: &BinPath,
    headers: &HeaderMap,
) -> Result<(Caller, Option<String>), Response> {
    match &p.project {
        Some(project) => wit_project(emu, &p.org, project, headers).map(|(c, p)| (c, Some(p.id))),
        None => org_wit_caller(emu, &p.org, headers).map(|c| (c, None)),
    }
}

fn not_in_bin(id: &str) -> Response {
    // [unverified] code and text for an id that is not in the recycle bin.
    envelope(
        StatusCode::NOT_FOUND,
        &format!(
            "TF401232: Work item {id} does not exist, or you do not have permissions to read it."
        ),
        "WorkItemUnauthorizedAccessException",
    )
}

/// `DELETE .../workitems/{id}[?destroy=true]`.
pub async fn delete(
    State(emu): State<Arc<Emu>>,
    Path(p): Path<BinPath>,
    Query(q): Q,
    headers: HeaderMap,
) -> Response {
    let (caller, _) = match authenticate(&emu, &p, &headers) {
        Ok(x) => x,
        Err(r) => return r,
    };
    let id = p.id.clone().unwrap_or_default();
    let mut data = emu.data();
    let Some(mut item) = id
        .parse::<i32>()
        .ok()
        .and_then(|n| data.work_items.remove(&n))
    else {
        return not_found(&id);
    };
    commit::bin_revision(&*emu, &mut data, &mut item, &caller.identity);
    let entry = Deleted {
        item: item.clone(),
        by: caller.identity.clone(),
        date: recycle_bin_date(),
    };
    let body = views::deleted(&emu, &entry, true);
    if flag(&q, "destroy") {
        data.store.history.remove(&item.id);
        data.store.comments.remove(&item.id);
    } else {
        data.store.recycle_bin.insert(item.id, entry);
    }
    commit::lifecycle(
        &*emu,
        EventKind::Deleted,
        item,
        &caller.identity,
        flag(&q, "suppressNotifications"),
    );
    drop(data);
    axum::Json(body).into_response()
}

/// `GET .../recyclebin` (shallow references) or `GET .../recyclebin?ids=`.
pub async fn list(
    State(emu): State<Arc<Emu>>,
    Path(p): Path<BinPath>,
    Query(q): Q,
    headers: HeaderMap,
) -> Response {
    let (_, project) = match authenticate(&emu, &p, &headers) {
        Ok(x) => x,
        Err(r) => return r,
    };
    let wanted = match param(&q, "ids").map(ids) {
        Some(Ok(ids)) => Some(ids),
        Some(Err(r)) => return r,
        None => None,
    };
    let data = emu.data();
    let in_scope = |d: &&Deleted| project.as_ref().is_none_or(|p| &d.item.project_id == p);
    let list: Vec<Value> = match wanted {
        Some(ids) => ids.iter().filter_map(|id| data.store.recycle_bin.get(id)).filter(in_scope).map(|d| views::deleted(&emu, d, false)).collect(),
        None => data
            .store
            .recycle_bin
            .values()
            .filter(in_scope)
            .map(|d| json!({"id": d.item.id, "url": format!("{}/{}/{}/_apis/wit/recycleBin/{}", emu.base_url(), emu.organization, d.item.project_id, d.item.id)}))
            .collect(),
    };
    axum::Json(json!({"count": list.len(), "value": list})).into_response()
}

/// `GET .../recyclebin/{id}`.
pub async fn get(
    State(emu): State<Arc<Emu>>,
    Path(p): Path<BinPath>,
    headers: HeaderMap,
) -> Response {
    if let Err(r) = authenticate(&emu, &p, &headers) {
        return r;
    }
    let id = p.id.clone().unwrap_or_default();
    let data = emu.data();
    match id
        .parse::<i32>()
        .ok()
        .and_then(|n| data.store.recycle_bin.get(&n))
    {
        Some(d) => axum::Json(views::deleted(&emu, d, true)).into_response(),
        None => not_in_bin(&id),
    }
}

/// `PATCH .../recyclebin/{id}` with `{"isDeleted": false}`: restore.
pub async fn restore(
    State(emu): State<Arc<Emu>>,
    Path(p): Path<BinPath>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let (caller, _) = match authenticate(&emu, &p, &headers) {
        Ok(x) => x,
        Err(r) => return r,
    };
    let id = p.id.clone().unwrap_or_default();
    let update: serde_json::Map<String, Value> = match serde_json::from_slice(&body) {
        Ok(u) => u,
        Err(e) => {
            return bad_argument(&format!(
                "The request body is not a WorkItemDeleteUpdate: {e}"
            ));
        }
    };
    // The sample sends `isDeleted`; ADO reads member names without case.
    let is_deleted = update
        .iter()
        .find(|(k, _)| k.eq_ignore_ascii_case("isDeleted"))
        .map(|(_, v)| v.clone());
    if is_deleted != Some(Value::Bool(false)) {
        return bad_argument("Restoring a work item needs {\"isDeleted\": false}.");
    }
    let mut data = emu.data();
    let Some(mut entry) = id
        .parse::<i32>()
        .ok()
        .and_then(|n| data.store.recycle_bin.remove(&n))
    else {
        return not_in_bin(&id);
    };
    commit::bin_revision(&*emu, &mut data, &mut entry.item, &caller.identity);
    data.work_items.insert(entry.item.id, entry.item.clone());
    let mut body = views::deleted(&emu, &entry, true);
    // The restore sample points `url` back at the work item.
    body["url"] = views::item_url(&emu, &entry.item).into();
    commit::lifecycle(
        &*emu,
        EventKind::Restored,
        entry.item,
        &caller.identity,
        false,
    );
    drop(data);
    axum::Json(body).into_response()
}

/// `DELETE .../recyclebin/{id}`: destroy for good.
pub async fn destroy(
    State(emu): State<Arc<Emu>>,
    Path(p): Path<BinPath>,
    headers: HeaderMap,
) -> Response {
    if let Err(r) = authenticate(&emu, &p, &headers) {
        return r;
    }
    let id = p.id.clone().unwrap_or_default();
    let mut data = emu.data();
    let Some(entry) = id
        .parse::<i32>()
        .ok()
        .and_then(|n| data.store.recycle_bin.remove(&n))
    else {
        return not_in_bin(&id);
    };
    data.store.history.remove(&entry.item.id);
    data.store.comments.remove(&entry.item.id);
    // The 7.1 spec answers 200 without a body schema; the sample shows 204.
    StatusCode::OK.into_response()
}
