//! Work items: create (`POST .../workitems/$Type`), get and update.

use std::collections::HashMap;
use std::sync::Arc;

use axum::body::Bytes;
use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use serde::Deserialize;
use serde_json::{Value, json};

use crate::auth::Caller;
use crate::errors::envelope;
use crate::events::{self, EventKind, WorkItemEvent};
use crate::routes::core::org_caller;
use crate::routes::meta::wit_project;
use crate::rules;
use crate::state::{Emu, Identity, StoredItem};

#[derive(Debug, Deserialize)]
struct Op {
    op: String,
    path: String,
    #[serde(default)]
    value: Value,
}

type Q = Query<HashMap<String, String>>;

fn flag(q: &HashMap<String, String>, name: &str) -> bool {
    q.iter().any(|(k, v)| k.eq_ignore_ascii_case(name) && v.eq_ignore_ascii_case("true"))
}

fn now() -> String {
    time::OffsetDateTime::now_utc().format(&time::format_description::well_known::Rfc3339).unwrap_or_default()
}

fn identity_ref(emu: &Emu, i: &Identity) -> Value {
    json!({
        "displayName": i.display_name,
        "url": format!("{}/{}/_apis/Identities/{}", emu.base_url(), emu.organization, i.id),
        "_links": {"avatar": {"href": format!("{}/{}/_apis/GraphProfile/MemberAvatars/aad.{}", emu.base_url(), emu.organization, i.id)}},
        "id": i.id,
        "uniqueName": i.unique_name,
        "imageUrl": format!("{}/{}/_api/_common/identityImage?id={}", emu.base_url(), emu.organization, i.id),
        "descriptor": format!("aad.{}", i.id),
    })
}

fn parse_ops(headers: &HeaderMap, body: &[u8]) -> Result<Vec<Op>, Response> {
    let ct = headers.get("content-type").and_then(|v| v.to_str().ok()).unwrap_or_default();
    if !ct.to_ascii_lowercase().starts_with("application/json-patch+json") {
        // [spec] the operation consumes only application/json-patch+json; [unverified] status and text.
        return Err(envelope(
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            &format!("VS403450: The request content type '{ct}' is not supported; use application/json-patch+json."),
            "VssRequestContentTypeNotSupportedException",
        ));
    }
    serde_json::from_slice(body).map_err(|e| {
        envelope(StatusCode::BAD_REQUEST, &format!("VS403449: The request body is not a JSON Patch document: {e}"), "InvalidArgumentValueException")
    })
}

/// The item as ADO returns it.
pub fn item_json(emu: &Emu, item: &StoredItem, relations: bool) -> Value {
    let base = format!("{}/{}", emu.base_url(), emu.organization);
    let url = format!("{base}/{}/_apis/wit/workItems/{}", item.project_id, item.id);
    let mut v = json!({
        "id": item.id,
        "rev": item.rev,
        "fields": item.fields,
        "_links": {
            "self": {"href": url},
            "workItemUpdates": {"href": format!("{url}/updates")},
            "workItemRevisions": {"href": format!("{url}/revisions")},
            "workItemComments": {"href": format!("{url}/comments")},
            "html": {"href": format!("{base}/{}/_workitems/edit/{}", item.project_id, item.id)},
            "workItemType": {"href": format!("{base}/{}/_apis/wit/workItemTypes/{}", item.project_id, item.fields.get("System.WorkItemType").and_then(Value::as_str).unwrap_or_default())},
            "fields": {"href": format!("{base}/{}/_apis/wit/fields", item.project_id)},
        },
        "url": url,
    });
    if relations && !item.relations.is_empty() {
        v["relations"] = Value::Array(item.relations.clone());
    }
    v
}

fn relation(op: &Op) -> Result<Value, Response> {
    let rel = op.value.get("rel").and_then(Value::as_str).unwrap_or_default();
    let url = op.value.get("url").and_then(Value::as_str).unwrap_or_default();
    if rel.is_empty() || url.is_empty() {
        return Err(envelope(StatusCode::BAD_REQUEST, "VS403448: A relation needs `rel` and `url`.", "InvalidArgumentValueException"));
    }
    let mut attributes = op.value.get("attributes").cloned().unwrap_or_else(|| json!({}));
    if rel == "Hyperlink" || rel == "AttachedFile" {
        attributes["authorizedDate"] = now().into();
        attributes["resourceCreatedDate"] = now().into();
        attributes["revisedDate"] = "9999-01-01T00:00:00Z".into();
    }
    Ok(json!({"rel": rel, "url": url, "attributes": attributes}))
}

/// Applies field and relation operations, checking every rule.
fn apply(emu: &Emu, project: &crate::state::Project, item: &mut StoredItem, ops: &[Op], bypass: bool, creating: bool) -> Result<(), Response> {
    let ty_name = item.fields.get("System.WorkItemType").and_then(Value::as_str).unwrap_or_default().to_string();
    let process = &project.process;
    let ty = process.work_item_type(&ty_name).ok_or_else(|| rules::unknown_field("System.WorkItemType"))?;
    let old_state = item.fields.get("System.State").and_then(Value::as_str).map(str::to_string);
    for op in ops {
        match (op.op.as_str(), op.path.as_str()) {
            ("test", "/rev") => {
                if op.value.as_i64() != Some(i64::from(item.rev)) && op.value.as_str() != Some(&item.rev.to_string()) {
                    // [ms-code] ADO answers a stale `test /rev` with 412 and applies nothing.
                    return Err(envelope(
                        StatusCode::PRECONDITION_FAILED,
                        &format!("TF26071: This work item has been changed by someone else since you opened it. You will need to refresh it and discard your changes. (rev {} tested, {} current)", op.value, item.rev),
                        "WorkItemRevisionMismatchException",
                    ));
                }
            }
            ("add" | "replace", "/relations/-") => item.relations.push(relation(op)?),
            ("remove", p) if p.starts_with("/relations/") => {
                let index: usize = p["/relations/".len()..].parse().map_err(|_| rules::unknown_field(p))?;
                if index >= item.relations.len() {
                    return Err(envelope(StatusCode::BAD_REQUEST, &format!("VS403448: Relation index {index} is out of range."), "InvalidArgumentValueException"));
                }
                item.relations.remove(index);
            }
            ("add" | "replace" | "remove" | "test", p) if p.starts_with("/fields/") => {
                let reference = &p["/fields/".len()..];
                let (field, def) = rules::writable(process, ty, reference, bypass || op.op == "test")?;
                let key = field.reference_name.clone();
                if op.op == "test" {
                    if item.fields.get(&key) != Some(&op.value) {
                        return Err(envelope(StatusCode::PRECONDITION_FAILED, &format!("TF26071: Test of field {key} failed."), "WorkItemRevisionMismatchException"));
                    }
                    continue;
                }
                if op.op == "remove" || op.value.is_null() {
                    item.fields.remove(&key);
                    continue;
                }
                let mut value = rules::coerce(def, field, &op.value)?;
                if key == "System.Tags" {
                    value = rules::normalize_tags(&value);
                }
                if !bypass && key != "System.State" {
                    rules::check_allowed(field, &value)?;
                }
                item.fields.insert(key, value);
            }
            (other, path) => {
                return Err(envelope(
                    StatusCode::BAD_REQUEST,
                    &format!("VS403448: The operation `{other}` on `{path}` is not supported."),
                    "InvalidArgumentValueException",
                ));
            }
        }
    }
    // Defaults fill what the request left empty, then the rules run.
    if creating {
        for f in &ty.fields {
            if !item.fields.contains_key(&f.reference_name)
                && let Some(d) = &f.default_value
                && !d.is_null()
            {
                let value = rules::coerce(process.field(&f.reference_name), f, d)?;
                item.fields.insert(f.reference_name.clone(), value);
            }
        }
    }
    let new_state = item.fields.get("System.State").and_then(Value::as_str).map(str::to_string);
    match (&new_state, creating) {
        (Some(to), true) if !bypass => rules::check_state(ty, None, to)?,
        (Some(to), false) if !bypass && old_state.as_deref() != Some(to) => rules::check_state(ty, old_state.as_deref(), to)?,
        (None, _) => {
            let initial = ty.initial_states().into_iter().next().unwrap_or_default();
            item.fields.insert("System.State".into(), json!(initial));
        }
        _ => {}
    }
    if new_state != old_state {
        item.fields.insert("System.Reason".into(), json!(if creating { "New".to_string() } else { format!("Moved to state {}", new_state.clone().unwrap_or_default()) }));
        item.fields.insert("Microsoft.VSTS.Common.StateChangeDate".into(), json!(now()));
    }
    if !bypass {
        rules::check_required(ty, &item.fields)?;
    }
    let _ = emu;
    Ok(())
}

pub async fn create(
    State(emu): State<Arc<Emu>>,
    Path((org, project, target)): Path<(String, String, String)>,
    Query(q): Q,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let (caller, project) = match wit_project(&emu, &org, &project, &headers) {
        Ok(x) => x,
        Err(r) => return r,
    };
    let Some(ty_name) = target.strip_prefix('$') else {
        return envelope(StatusCode::METHOD_NOT_ALLOWED, "VS403444: POST needs a work item type: .../workitems/$Type", "InvalidArgumentValueException");
    };
    let Some(ty) = project.process.work_item_type(ty_name) else {
        return envelope(StatusCode::NOT_FOUND, &format!("TF201063: Work item type {ty_name} does not exist."), "WorkItemTypeNotFoundException");
    };
    let ops = match parse_ops(&headers, &body) {
        Ok(o) => o,
        Err(r) => return r,
    };
    let (validate_only, bypass) = (flag(&q, "validateOnly"), flag(&q, "bypassRules"));
    let who = identity_ref(&emu, &caller.identity);
    let stamp = now();
    let mut fields = serde_json::Map::new();
    for (k, v) in [
        ("System.AreaPath", json!(project.name)),
        ("System.TeamProject", json!(project.name)),
        ("System.IterationPath", json!(project.name)),
        ("System.WorkItemType", json!(ty.name)),
        ("System.CreatedDate", json!(stamp)),
        ("System.CreatedBy", who.clone()),
        ("System.ChangedDate", json!(stamp)),
        ("System.ChangedBy", who),
        ("System.CommentCount", json!(0)),
    ] {
        fields.insert(k.into(), v);
    }
    let mut item = StoredItem { id: 0, rev: 1, project_id: project.id.clone(), fields, relations: vec![] };
    if let Err(r) = apply(&emu, &project, &mut item, &ops, bypass, true) {
        return r;
    }
    if validate_only {
        return axum::Json(item_json(&emu, &item, true)).into_response();
    }
    let mut data = emu.data();
    data.next_id += 1;
    item.id = data.next_id;
    item.fields.insert("System.Id".into(), json!(item.id));
    item.fields.insert("System.Rev".into(), json!(1));
    data.work_items.insert(item.id, item.clone());
    events::publish(&emu, WorkItemEvent { kind: EventKind::Created, item: item.clone(), previous: None, comment: None, actor: caller.identity.clone() });
    axum::Json(item_json(&emu, &item, true)).into_response()
}

fn not_found(id: &str) -> Response {
    envelope(
        StatusCode::NOT_FOUND,
        &format!("TF401232: Work item {id} does not exist, or you do not have permissions to read it."),
        "WorkItemUnauthorizedAccessException",
    )
}

fn read(emu: &Emu, caller: &Caller, id: &str, q: &HashMap<String, String>) -> Response {
    let _ = caller;
    let Some(item) = id.parse::<i32>().ok().and_then(|n| emu.data().work_items.get(&n).cloned()) else {
        return not_found(id);
    };
    let expand = q.get("$expand").map(|s| s.to_ascii_lowercase()).unwrap_or_default();
    axum::Json(item_json(emu, &item, expand == "relations" || expand == "all")).into_response()
}

pub async fn get_in_project(State(emu): State<Arc<Emu>>, Path((org, project, id)): Path<(String, String, String)>, Query(q): Q, headers: HeaderMap) -> Response {
    match wit_project(&emu, &org, &project, &headers) {
        Ok((caller, _)) => read(&emu, &caller, &id, &q),
        Err(r) => r,
    }
}

pub async fn get(State(emu): State<Arc<Emu>>, Path((org, id)): Path<(String, String)>, Query(q): Q, headers: HeaderMap) -> Response {
    match org_caller(&emu, &org, &headers) {
        Ok(caller) => read(&emu, &caller, &id, &q),
        Err(r) => r,
    }
}

fn write(emu: &Emu, caller: &Caller, id: &str, q: &HashMap<String, String>, headers: &HeaderMap, body: &[u8]) -> Response {
    let ops = match parse_ops(headers, body) {
        Ok(o) => o,
        Err(r) => return r,
    };
    let Some(current) = id.parse::<i32>().ok().and_then(|n| emu.data().work_items.get(&n).cloned()) else {
        return not_found(id);
    };
    let Some(project) = emu.project(&current.project_id).cloned() else {
        return not_found(id);
    };
    let mut item = current.clone();
    if let Err(r) = apply(emu, &project, &mut item, &ops, flag(q, "bypassRules"), false) {
        return r;
    }
    if flag(q, "validateOnly") {
        return axum::Json(item_json(emu, &item, true)).into_response();
    }
    let mut data = emu.data();
    // Another writer may have committed since we read: the revision decides.
    if data.work_items.get(&item.id).map(|i| i.rev) != Some(current.rev) {
        return envelope(StatusCode::PRECONDITION_FAILED, "TF26071: This work item has been changed by someone else since you opened it.", "WorkItemRevisionMismatchException");
    }
    item.rev += 1;
    item.fields.insert("System.Rev".into(), json!(item.rev));
    item.fields.insert("System.ChangedDate".into(), json!(now()));
    item.fields.insert("System.ChangedBy".into(), identity_ref(emu, &caller.identity));
    data.work_items.insert(item.id, item.clone());
    events::publish(emu, WorkItemEvent { kind: EventKind::Updated, item: item.clone(), previous: Some(current), comment: None, actor: caller.identity.clone() });
    axum::Json(item_json(emu, &item, true)).into_response()
}

pub async fn update_in_project(
    State(emu): State<Arc<Emu>>,
    Path((org, project, id)): Path<(String, String, String)>,
    Query(q): Q,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    match wit_project(&emu, &org, &project, &headers) {
        Ok((caller, _)) => write(&emu, &caller, &id, &q, &headers, &body),
        Err(r) => r,
    }
}

pub async fn update(State(emu): State<Arc<Emu>>, Path((org, id)): Path<(String, String)>, Query(q): Q, headers: HeaderMap, body: Bytes) -> Response {
    match org_caller(&emu, &org, &headers) {
        Ok(caller) => write(&emu, &caller, &id, &q, &headers, &body),
        Err(r) => r,
    }
}
