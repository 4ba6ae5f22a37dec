//! Reading many work items and their history: `GET _apis/wit/workitems?ids=`,
//! `POST _apis/wit/workitemsbatch`, `GET .../workItems/{id}/revisions[/{rev}]`
//! and `GET .../workItems/{id}/updates[/{n}]`.

use std::collections::HashMap;
use std::sync::Arc;

use axum::extract::{Path, Query, State};
use axum::http::HeaderMap;
use axum::response::{IntoResponse, Response};
use serde::Deserialize;
use serde_json::{Value, json};

use crate::model::StoredItem;
use crate::routes::meta::wit_project;
use crate::routes::params::{Q, bad_argument, check_count, ids, not_found, org_wit_caller, param};
use crate::routes::read_params::{as_of, expand_with_fields, parse_as_of, read_view};
use crate::state::Emu;
use crate::store::Revision;
use crate::views::{self, Expand, View};
use time::OffsetDateTime;

/// Authenticates a route that may or may not carry a project segment.
fn caller(
    emu: &Emu,
    org: &str,
    project: Option<&str>,
    headers: &HeaderMap,
) -> Result<(), Response> {
    match project {
        Some(p) => wit_project(emu, org, p, headers).map(|_| ()),
        None => org_wit_caller(emu, org, headers).map(|_| ()),
    }
}

/// `errorPolicy`: `fail` (default) answers 404 for the first missing id;
/// `omit` puts `null` in its place.
fn many(emu: &Emu, ids: &[i32], view: &View, omit: bool, at: Option<OffsetDateTime>) -> Response {
    let data = emu.data();
    let mut list = Vec::with_capacity(ids.len());
    for id in ids {
        match data.work_items.get(id).and_then(|i| as_of(&data, i, at)) {
            Some(item) => list.push(views::item(emu, &item, view)),
            None if omit => list.push(Value::Null),
            None => return not_found(&id.to_string()),
        }
    }
    axum::Json(json!({"count": list.len(), "value": list})).into_response()
}

fn omit_policy(policy: Option<&str>) -> Result<bool, Response> {
    match policy.map(str::to_ascii_lowercase).as_deref() {
        None | Some("fail") => Ok(false),
        Some("omit") => Ok(true),
        Some(other) => Err(bad_argument(&format!(
            "The errorPolicy '{other}' is not one of Fail, Omit."
        ))),
    }
}

fn list(emu: &Emu, q: &HashMap<String, String>) -> Response {
    let ids = match param(q, "ids").map(ids) {
        Some(Ok(ids)) => ids,
        Some(Err(r)) => return r,
        None => return bad_argument("The ids parameter is required."),
    };
    let (view, omit) = match (read_view(q, false), omit_policy(param(q, "errorPolicy"))) {
        (Ok(v), Ok(o)) => (v, o),
        (Err(r), _) | (_, Err(r)) => return r,
    };
    match parse_as_of(param(q, "asOf")) {
        Ok(at) => many(emu, &ids, &view, omit, at),
        Err(r) => r,
    }
}

pub async fn list_in_project(
    State(emu): State<Arc<Emu>>,
    Path((org, project)): Path<(String, String)>,
    Query(q): Q,
    headers: HeaderMap,
) -> Response {
    caller(&emu, &org, Some(&project), &headers).map_or_else(|r| r, |_| list(&emu, &q))
}

pub async fn list_in_org(
    State(emu): State<Arc<Emu>>,
    Path(org): Path<String>,
    Query(q): Q,
    headers: HeaderMap,
) -> Response {
    caller(&emu, &org, None, &headers).map_or_else(|r| r, |_| list(&emu, &q))
}

/// `WorkItemBatchGetRequest`.
#[derive(Debug, Deserialize)]
struct BatchGet {
    #[serde(default)]
    ids: Vec<i32>,
    #[serde(default)]
    fields: Option<Vec<String>>,
    #[serde(rename = "$expand", default)]
    expand: Option<String>,
    #[serde(rename = "errorPolicy", default)]
    error_policy: Option<String>,
    /// The fields as of this time (`WorkItemBatchGetRequest.asOf`).
    #[serde(rename = "asOf", default)]
    as_of: Option<String>,
}

fn batch(emu: &Emu, body: &[u8]) -> Response {
    let req: BatchGet = match serde_json::from_slice(body) {
        Ok(r) => r,
        Err(e) => {
            return bad_argument(&format!(
                "The request body is not a work item batch request: {e}"
            ));
        }
    };
    if let Err(r) = check_count(req.ids.len()) {
        return r;
    }
    let Some(expand) = Expand::parse(req.expand.as_deref()) else {
        return bad_argument(
            "The value of $expand is not one of None, Relations, Fields, Links, All.",
        );
    };
    let fields = req.fields.filter(|f| !f.is_empty());
    if fields.is_some() && expand != Expand::None {
        return expand_with_fields();
    }
    let omit = match omit_policy(req.error_policy.as_deref()) {
        Ok(o) => o,
        Err(r) => return r,
    };
    let at = match parse_as_of(req.as_of.as_deref()) {
        Ok(at) => at,
        Err(r) => return r,
    };
    many(
        emu,
        &req.ids,
        &View {
            fields,
            expand,
            links: false,
        },
        omit,
        at,
    )
}

pub async fn batch_in_project(
    State(emu): State<Arc<Emu>>,
    Path((org, project)): Path<(String, String)>,
    headers: HeaderMap,
    body: axum::body::Bytes,
) -> Response {
    caller(&emu, &org, Some(&project), &headers).map_or_else(|r| r, |_| batch(&emu, &body))
}

pub async fn batch_in_org(
    State(emu): State<Arc<Emu>>,
    Path(org): Path<String>,
    headers: HeaderMap,
    body: axum::body::Bytes,
) -> Response {
    caller(&emu, &org, None, &headers).map_or_else(|r| r, |_| batch(&emu, &body))
}

/// The live item and its revisions.
fn history(emu: &Emu, id: &str) -> Result<(StoredItem, Vec<Revision>), Response> {
    let data = emu.data();
    let n = id.parse::<i32>().map_err(|_| not_found(id))?;
    let item = data
        .work_items
        .get(&n)
        .cloned()
        .ok_or_else(|| not_found(id))?;
    Ok((
        item,
        data.store.history.get(&n).cloned().unwrap_or_default(),
    ))
}

/// `$skip` and `$top` of a history list.
fn page<T: Clone>(list: &[T], q: &HashMap<String, String>) -> Vec<T> {
    let skip = param(q, "$skip").and_then(|s| s.parse().ok()).unwrap_or(0);
    let top = param(q, "$top")
        .and_then(|s| s.parse().ok())
        .unwrap_or(usize::MAX);
    list.iter().skip(skip).take(top).cloned().collect()
}

/// The path of a history route: `/{org}[/{project}]/_apis/wit/workItems/{id}/{kind}[/{n}]`.
#[derive(Debug, Deserialize)]
pub struct HistoryPath {
    org: String,
    project: Option<String>,
    id: String,
    n: Option<String>,
}

fn revision_not_found(id: &str, n: &str) -> Response {
    // [unverified] code and text.
    crate::errors::envelope(
        axum::http::StatusCode::NOT_FOUND,
        &format!("TF401233: Revision {n} of work item {id} does not exist."),
        "WorkItemRevisionNotFoundException",
    )
}

pub async fn revisions(
    State(emu): State<Arc<Emu>>,
    Path(p): Path<HistoryPath>,
    Query(q): Q,
    headers: HeaderMap,
) -> Response {
    if let Err(r) = caller(&emu, &p.org, p.project.as_deref(), &headers) {
        return r;
    }
    let (item, revs) = match history(&emu, &p.id) {
        Ok(x) => x,
        Err(r) => return r,
    };
    let expand = Expand::parse(param(&q, "$expand")).unwrap_or(Expand::None);
    match &p.n {
        Some(n) => match revs.iter().find(|r| r.rev.to_string() == *n) {
            Some(r) => {
                // A single revision carries its links; the list does not.
                let mut v = views::revision(&emu, &item, r, expand);
                let base = format!(
                    "{}/{}/{}/_apis/wit/workItems/{}",
                    emu.base_url(),
                    emu.organization,
                    item.project_id,
                    item.id
                );
                v["_links"] = json!({
                    "self": {"href": format!("{base}/revisions/{}", r.rev)},
                    "workItemRevisions": {"href": format!("{base}/revisions")},
                    "parent": {"href": base},
                });
                axum::Json(v).into_response()
            }
            None => revision_not_found(&p.id, n),
        },
        None => {
            let list: Vec<Value> = page(&revs, &q)
                .iter()
                .map(|r| views::revision(&emu, &item, r, expand))
                .collect();
            axum::Json(json!({"count": list.len(), "value": list})).into_response()
        }
    }
}

pub async fn updates(
    State(emu): State<Arc<Emu>>,
    Path(p): Path<HistoryPath>,
    Query(q): Q,
    headers: HeaderMap,
) -> Response {
    if let Err(r) = caller(&emu, &p.org, p.project.as_deref(), &headers) {
        return r;
    }
    let (item, revs) = match history(&emu, &p.id) {
        Ok(x) => x,
        Err(r) => return r,
    };
    let all: Vec<Value> = (0..revs.len())
        .map(|i| {
            views::update(
                &emu,
                &item,
                i.checked_sub(1).map(|j| &revs[j]),
                &revs[i],
                revs.get(i + 1),
            )
        })
        .collect();
    match &p.n {
        Some(n) => match all
            .iter()
            .find(|u| u["id"].as_i64().is_some_and(|id| id.to_string() == *n))
        {
            Some(u) => axum::Json(u.clone()).into_response(),
            None => revision_not_found(&p.id, n),
        },
        None => {
            let list = page(&all, &q);
            axum::Json(json!({"count": list.len(), "value": list})).into_response()
        }
    }
}
