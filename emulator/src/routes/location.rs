//! The location service, which Microsoft's clients use to find routes:
//! `OPTIONS {org}/_apis` (and `OPTIONS {org}/_apis/{area}`) lists an
//! `ApiResourceLocation` for every resource the emulator serves, and
//! `GET {org}/_apis/ResourceAreas[/{areaId}]` tells each client which URL
//! serves its area.
//!
//! The location ids are the ones Microsoft's Python client (`azure-devops`
//! 7.1.0b4, `v7_1/*/..._client.py`) sends; route templates follow ADO's
//! `{project}/_apis/{area}/{resource}/{id}` pattern, spelt as the emulator's
//! routes are. [unverified] ADO's exact template casing, min/max versions
//! per resource, and whether OPTIONS needs credentials (it answers without).

use std::sync::Arc;

use axum::Router;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, options};
use serde_json::{Value, json};

use crate::errors::envelope;
use crate::routes::core::org_caller;
use crate::state::Emu;

/// One resource: id, area, resource name, route template, resource version,
/// and whether it is released (GA in 7.1) or preview only.
type Location = (
    &'static str,
    &'static str,
    &'static str,
    &'static str,
    u32,
    bool,
);

/// Every route the emulator serves that Microsoft's client can look up.
pub const LOCATIONS: &[Location] = &[
    // Location service
    (
        "00d9565f-ed9c-4a06-9a50-00e7896ccab4",
        "Location",
        "ConnectionData",
        "_apis/{resource}",
        1,
        false,
    ),
    (
        "e81700f7-3be2-46de-8624-2eb35882fcaa",
        "Location",
        "ResourceAreas",
        "_apis/{resource}/{areaId}",
        1,
        false,
    ),
    // Core
    (
        "603fe2ac-9723-48b9-88ad-09305aa6c6e1",
        "core",
        "projects",
        "_apis/{resource}/{*projectId}",
        4,
        true,
    ),
    // Work item tracking
    (
        "a70579d1-f53a-48ee-a5be-7be8659023b9",
        "wit",
        "classificationNodes",
        "{project}/_apis/{area}/{resource}",
        2,
        true,
    ),
    (
        "5a172953-1b41-49d3-840a-33f79c3ce89f",
        "wit",
        "classificationNodes",
        "{project}/_apis/{area}/{resource}/{structureGroup}/{*path}",
        2,
        true,
    ),
    (
        "62d3d110-0047-428c-ad3c-4fe872c91c74",
        "wit",
        "workItems",
        "{project}/_apis/{area}/{resource}/${type}",
        3,
        true,
    ),
    (
        "72c7ddf8-2cdc-4f60-90cd-ab71c14a399b",
        "wit",
        "workItems",
        "{project}/_apis/{area}/{resource}/{id}",
        3,
        true,
    ),
    (
        "908509b6-4248-4475-a1cd-829139ba419f",
        "wit",
        "workItemsBatch",
        "{project}/_apis/{area}/{resource}",
        1,
        true,
    ),
    (
        "a00c85a5-80fa-4565-99c3-bcd2181434bb",
        "wit",
        "revisions",
        "{project}/_apis/{area}/workItems/{id}/{resource}/{revisionNumber}",
        3,
        true,
    ),
    (
        "6570bf97-d02c-4a91-8d93-3abe9895b1a9",
        "wit",
        "updates",
        "{project}/_apis/{area}/workItems/{id}/{resource}/{updateNumber}",
        3,
        true,
    ),
    (
        "b70d8d39-926c-465e-b927-b1bf0e5ca0e0",
        "wit",
        "recyclebin",
        "{project}/_apis/{area}/{resource}/{id}",
        2,
        true,
    ),
    (
        "1a9c53f7-f243-4447-b110-35ef023636e4",
        "wit",
        "wiql",
        "{project}/{team}/_apis/{area}/{resource}",
        2,
        true,
    ),
    (
        "608aac0a-32e1-4493-a863-b9cf4566d257",
        "wit",
        "comments",
        "{project}/_apis/{area}/workItems/{workItemId}/{resource}/{commentId}",
        4,
        false,
    ),
    (
        "e07b5fa4-1499-494d-a496-64b860fd64ff",
        "wit",
        "attachments",
        "{project}/_apis/{area}/{resource}/{id}",
        3,
        true,
    ),
    (
        "7c8d7a76-4a09-43e8-b5df-bd792f4ac6aa",
        "wit",
        "workitemtypes",
        "{project}/_apis/{area}/{resource}/{type}",
        2,
        true,
    ),
    (
        "bd293ce5-3d25-4192-8e67-e8092e879efb",
        "wit",
        "fields",
        "{project}/_apis/{area}/workitemtypes/{type}/{resource}/{field}",
        3,
        true,
    ),
    (
        "7c9d7a76-4a09-43e8-b5df-bd792f4ac6aa",
        "wit",
        "states",
        "{project}/_apis/{area}/workitemtypes/{type}/{resource}",
        1,
        true,
    ),
    (
        "b51fd764-e5c2-4b9b-aaf7-3395cf4bdd94",
        "wit",
        "fields",
        "{project}/_apis/{area}/{resource}/{fieldNameOrRefName}",
        3,
        true,
    ),
    // Service hooks
    (
        "fc50d02a-849f-41fb-8af1-0a5216103269",
        "hooks",
        "subscriptions",
        "_apis/{area}/{resource}/{subscriptionId}",
        1,
        true,
    ),
    (
        "3b36bcb5-02ad-43c6-bbfa-6dfc6f8e9d68",
        "hooks",
        "diagnostics",
        "_apis/{area}/subscriptions/{subscriptionId}/{resource}",
        1,
        true,
    ),
    (
        "0c62d343-21b0-4732-997b-017fde84dc28",
        "hooks",
        "notifications",
        "_apis/{area}/subscriptions/{subscriptionId}/{resource}/{notificationId}",
        1,
        true,
    ),
    (
        "1e83a210-5b53-43bc-90f0-d476a4e5d731",
        "hooks",
        "publishers",
        "_apis/{area}/{resource}/{publisherId}",
        1,
        true,
    ),
    (
        "db4777cd-8e08-4a84-8ba3-c974ea033718",
        "hooks",
        "eventTypes",
        "_apis/{area}/publishers/{publisherId}/{resource}/{eventTypeId}",
        1,
        true,
    ),
    (
        "4301c514-5f34-4f5d-a145-f0ea7b5b7d19",
        "hooks",
        "consumers",
        "_apis/{area}/{resource}/{consumerId}",
        1,
        true,
    ),
    (
        "c3428e90-7a69-4194-8ed8-0f153185ee0d",
        "hooks",
        "actions",
        "_apis/{area}/consumers/{consumerId}/{resource}/{consumerActionId}",
        1,
        true,
    ),
];

/// Resource areas whose id Microsoft's client asks for (its clients'
/// `resource_area_identifier`); the service hooks client has none.
const AREAS: &[(&str, &str)] = &[
    ("79134c72-4a58-4b42-976c-04e7115f32bf", "core"),
    ("5264459e-e5e0-4bd8-b118-0985e68a4ec5", "wit"),
];

pub fn routes() -> Router<Arc<Emu>> {
    Router::new()
        .route("/{org}/_apis", options(all))
        .route("/{org}/_apis/", options(all))
        .route("/{org}/_apis/{area}", options(area))
        .route("/{org}/_apis/{area}/", options(area))
        .route("/{org}/_apis/ResourceAreas", get(resource_areas))
        .route("/{org}/_apis/resourceAreas", get(resource_areas))
        .route("/{org}/_apis/resourceareas", get(resource_areas))
        .route("/{org}/_apis/ResourceAreas/{id}", get(resource_area))
        .route("/{org}/_apis/resourceAreas/{id}", get(resource_area))
        .route("/{org}/_apis/resourceareas/{id}", get(resource_area))
}

fn location_json(l: &Location) -> Value {
    let (id, area, resource, template, version, released) = *l;
    json!({
        "id": id,
        "area": area,
        "resourceName": resource,
        "routeTemplate": template,
        "resourceVersion": version,
        "minVersion": "1.0",
        "maxVersion": "7.1",
        // Preview-only resources have no released version [unverified "0.0"].
        "releasedVersion": if released { "7.1" } else { "0.0" },
    })
}

fn known_org(emu: &Emu, org: &str) -> Result<(), Response> {
    if org.eq_ignore_ascii_case(&emu.organization) {
        Ok(())
    } else {
        // The same answer as any other route of an unknown organization.
        Err(crate::errors::unknown_organization(
            emu.variants.unknown_org,
            org,
        ))
    }
}

fn listed(list: Vec<Value>) -> Response {
    axum::Json(json!({"count": list.len(), "value": list})).into_response()
}

async fn all(State(emu): State<Arc<Emu>>, Path(org): Path<String>) -> Response {
    known_org(&emu, &org).map_or_else(
        |r| r,
        |_| listed(LOCATIONS.iter().map(location_json).collect()),
    )
}

async fn area(State(emu): State<Arc<Emu>>, Path((org, area)): Path<(String, String)>) -> Response {
    if let Err(r) = known_org(&emu, &org) {
        return r;
    }
    listed(
        LOCATIONS
            .iter()
            .filter(|l| l.1.eq_ignore_ascii_case(&area))
            .map(location_json)
            .collect(),
    )
}

fn area_json(emu: &Emu, (id, name): (&str, &str)) -> Value {
    json!({"id": id, "name": name, "locationUrl": format!("{}/{}/", emu.base_url(), emu.organization)})
}

async fn resource_areas(
    State(emu): State<Arc<Emu>>,
    Path(org): Path<String>,
    headers: HeaderMap,
) -> Response {
    if let Err(r) = org_caller(&emu, &org, &headers) {
        return r;
    }
    listed(AREAS.iter().map(|a| area_json(&emu, *a)).collect())
}

async fn resource_area(
    State(emu): State<Arc<Emu>>,
    Path((org, id)): Path<(String, String)>,
    headers: HeaderMap,
) -> Response {
    if let Err(r) = org_caller(&emu, &org, &headers) {
        return r;
    }
    match AREAS
        .iter()
        .find(|(a, name)| a.eq_ignore_ascii_case(&id) || name.eq_ignore_ascii_case(&id))
    {
        Some(a) => axum::Json(area_json(&emu, *a)).into_response(),
        // [unverified] code and text.
        None => envelope(
            StatusCode::NOT_FOUND,
            &format!("VS800049: The resource area {id} was not found."),
            "ResourceAreaNotFoundException",
        ),
    }
}
