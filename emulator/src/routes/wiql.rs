//! `POST {org}[/{project}[/{team}]]/_apis/wit/wiql`: runs a flat WIQL query
//! and answers `WorkItemQueryResult` like the wiql sample: `queryType`
//! flat, `asOf`, `columns`, `sortColumns` and `workItems` (ids and URLs
//! only). Deleted items are never returned (they are not in `work_items`).
//! The project segment only gives `@project` its value: without a
//! `[System.TeamProject]` clause the query spans the organization [doc]
//! (Learn "Define a work item query", "Query across or within projects":
//! new queries get a Team Project clause; "To query across all projects,
//! delete the clause with the Team Project field"). Without `ORDER BY` the
//! order is the data tier's [doc] (Work Item Query Reference, "Sorting
//! Results"): ascending id, or descending with `wiql-unordered=id-desc`
//! (`variants`).

use std::sync::Arc;

use axum::body::Bytes;
use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use serde::Deserialize;
use serde_json::{Value, json};

use crate::dates::now;
use crate::errors::envelope;
use crate::model::StoredItem;
use crate::process::FieldDef;
use crate::routes::meta::wit_project;
use crate::routes::params::{Q, bad_argument, flag, org_wit_caller, param};
use crate::state::Emu;
use crate::variants::UnorderedWiql;
use crate::wiql::{self, WiqlError, eval::Context};

/// The path: organization, optional project and team.
#[derive(Debug, Deserialize)]
pub struct WiqlPath {
    org: String,
    project: Option<String>,
    #[allow(dead_code)]
    team: Option<String>,
}

/// The `Wiql` body.
#[derive(Debug, Deserialize)]
struct Body {
    query: Option<String>,
}

fn refused(e: WiqlError) -> Response {
    // [unverified] typeKey of ADO's WIQL errors: a live answer to a syntax
    // error recorded in public code (the index names no repository) shows
    // `VssPropertyValidationException`, ADO's type for a request it cannot
    // validate (fortify-ps/FortifyBugTrackerUtility#44).
    envelope(
        StatusCode::BAD_REQUEST,
        &e.message,
        "VssPropertyValidationException",
    )
}

/// Every field of every project's process, first definition winning.
fn org_fields(emu: &Emu) -> Vec<FieldDef> {
    let mut all: Vec<FieldDef> = Vec::new();
    for p in &emu.projects {
        for f in &p.process.fields {
            if !all.iter().any(|a| a.reference_name == f.reference_name) {
                all.push(f.clone());
            }
        }
    }
    all
}

fn field_ref(emu: &Emu, def: &FieldDef) -> Value {
    json!({"referenceName": def.reference_name, "name": def.name, "url": format!("{}/{}/_apis/wit/fields/{}", emu.base_url(), emu.organization, def.reference_name)})
}

pub async fn query(
    State(emu): State<Arc<Emu>>,
    Path(p): Path<WiqlPath>,
    Query(q): Q,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let (caller, project) = match &p.project {
        Some(project) => match wit_project(&emu, &p.org, project, &headers) {
            Ok((c, project)) => (c, Some(project.name)),
            Err(r) => return r,
        },
        None => match org_wit_caller(&emu, &p.org, &headers) {
            Ok(c) => (c, None),
            Err(r) => return r,
        },
    };
    let text = match serde_json::from_slice::<Body>(&body) {
        Ok(Body { query: Some(t) }) if !t.trim().is_empty() => t,
        // [unverified] code and text for a missing query.
        _ => return bad_argument("The request body needs a `query` with the WIQL text."),
    };
    // [doc] the query text is limited to 32K characters; [unverified] the answer.
    if text.chars().count() > 32 * 1024 {
        return refused(WiqlError::other(
            "TF51006: The query statement is too long: the limit is 32768 characters.",
        ));
    }
    let top: Option<usize> = match param(&q, "$top").map(str::parse) {
        None => None,
        Some(Ok(n)) => Some(n),
        Some(Err(_)) => return bad_argument("The value of $top is not a number."),
    };
    let parsed = match wiql::parse(&text) {
        Ok(q) => q,
        Err(e) => return refused(e),
    };
    let fields = org_fields(&emu);
    let ctx = Context {
        fields: &fields,
        project: project.as_deref(),
        me: &caller.identity,
        today: time::OffsetDateTime::now_utc().date(),
        time_precision: flag(&q, "timePrecision"),
        tags: emu.variants.wiql_tags,
    };
    if let Err(e) = ctx.check(&parsed) {
        return refused(e);
    }
    let mut items: Vec<StoredItem> = emu.data().work_items.values().cloned().collect();
    // Without ORDER BY (and between equal keys) the order is the data
    // tier's: a setting (`variants::UnorderedWiql`).
    match emu.variants.wiql_unordered {
        UnorderedWiql::IdAscending => items.sort_by_key(|i| i.id),
        UnorderedWiql::IdDescending => items.sort_by_key(|i| std::cmp::Reverse(i.id)),
    }
    let mut hits = Vec::new();
    for item in items {
        match parsed
            .condition
            .as_ref()
            .map(|c| ctx.matches(&item, c))
            .unwrap_or(Ok(true))
        {
            Ok(true) => hits.push(item),
            Ok(false) => {}
            Err(e) => return refused(e),
        }
    }
    if let Err(e) = ctx.sort(&mut hits, &parsed.order) {
        return refused(e);
    }
    if let Some(n) = top {
        hits.truncate(n);
    }
    let columns: Vec<Value> = parsed
        .columns
        .iter()
        .filter_map(|c| ctx.field(c).ok())
        .map(|d| field_ref(&emu, d))
        .collect();
    let sort: Vec<Value> = parsed
        .order
        .iter()
        .filter_map(|(f, d)| {
            ctx.field(f)
                .ok()
                .map(|def| json!({"field": field_ref(&emu, def), "descending": d}))
        })
        .collect();
    let org = format!("{}/{}", emu.base_url(), emu.organization);
    let work_items: Vec<Value> = hits
        .iter()
        .map(|i| json!({"id": i.id, "url": format!("{org}/_apis/wit/workItems/{}", i.id)}))
        .collect();
    let mut answer = json!({"queryType": "flat", "queryResultType": "workItem", "asOf": now(), "columns": columns, "workItems": work_items});
    if !sort.is_empty() {
        answer["sortColumns"] = Value::Array(sort);
    }
    axum::Json(answer).into_response()
}
