//! connectionData and projects.

use std::collections::HashMap;
use std::sync::Arc;

use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use serde_json::{Value, json};

use crate::auth::{Caller, authenticate};
use crate::errors::envelope;
use crate::model::{Identity, Project};
use crate::state::Emu;

/// Organization names are case-insensitive in ADO.
pub fn org_caller(emu: &Emu, org: &str, headers: &HeaderMap) -> Result<Caller, Response> {
    if !org.eq_ignore_ascii_case(&emu.organization) {
        return Err(crate::errors::unknown_organization(
            emu.variants.unknown_org,
            org,
        ));
    }
    authenticate(emu, headers)
}

pub fn project_or_404<'a>(emu: &'a Emu, project: &str) -> Result<&'a Project, Response> {
    emu.project(project).ok_or_else(|| {
        envelope(
            StatusCode::NOT_FOUND,
            &format!("TF200016: The following project does not exist: {project}. Verify that the name of the project is correct and that the project exists on the specified Azure DevOps Server."),
            "ProjectDoesNotExistWithNameException",
        )
    })
}

pub fn identity_json(i: &Identity) -> Value {
    json!({
        "id": i.id,
        "descriptor": format!("Microsoft.IdentityModel.Claims.ClaimsIdentity;{}", i.unique_name),
        "subjectDescriptor": format!("aad.{}", i.id),
        "providerDisplayName": i.display_name,
        "isActive": true,
        "properties": {"Account": {"$type": "System.String", "$value": i.unique_name}},
        "resourceVersion": 2,
        "metaTypeId": 0,
    })
}

pub async fn connection_data(
    State(emu): State<Arc<Emu>>,
    Path(org): Path<String>,
    headers: HeaderMap,
) -> Response {
    let caller = match org_caller(&emu, &org, &headers) {
        Ok(c) => c,
        Err(r) => return r,
    };
    let me = identity_json(&caller.identity);
    axum::Json(json!({
        "authenticatedUser": me,
        "authorizedUser": me,
        "instanceId": emu.instance_id,
        "deploymentId": emu.instance_id,
        "deploymentType": if emu.server.is_some() { "onPremises" } else { "hosted" },
        "locationServiceData": {
            "serviceOwner": "00025394-6065-48ca-87d9-7f5672854ef7",
            "defaultAccessMappingMoniker": "PublicAccessMapping",
            "lastChangeId": 1,
            "lastChangeId64": 1,
        },
    }))
    .into_response()
}

fn project_json(emu: &Emu, p: &Project, capabilities: bool) -> Value {
    let base = format!("{}/{}", emu.base_url(), emu.organization);
    let mut v = json!({
        "id": p.id,
        "name": p.name,
        "description": format!("{} (emulated)", p.name),
        "url": format!("{base}/_apis/projects/{}", p.id),
        "state": "wellFormed",
        "revision": 1,
        "visibility": "private",
        "lastUpdateTime": "2026-01-01T00:00:00Z",
    });
    if capabilities {
        v["capabilities"] = json!({
            "versioncontrol": {"sourceControlType": "Git", "gitEnabled": "True", "tfvcEnabled": "False"},
            "processTemplate": {"templateName": p.process.process, "templateTypeId": p.process.template_type_id},
        });
        v["_links"] = json!({"self": {"href": v["url"]}, "collection": {"href": format!("{base}/_apis/projectCollections/{}", emu.instance_id)}, "web": {"href": format!("{base}/{}", p.name)}});
    }
    v
}

pub async fn projects(
    State(emu): State<Arc<Emu>>,
    Path(org): Path<String>,
    Query(q): Query<HashMap<String, String>>,
    headers: HeaderMap,
) -> Response {
    let caller = match org_caller(&emu, &org, &headers) {
        Ok(c) => c,
        Err(r) => return r,
    };
    let skip: usize = q.get("$skip").and_then(|s| s.parse().ok()).unwrap_or(0);
    let top: usize = q.get("$top").and_then(|s| s.parse().ok()).unwrap_or(100);
    let list: Vec<Value> = emu
        .projects
        .iter()
        .filter(|p| emu.setup.sees(&caller.identity, p))
        .skip(skip)
        .take(top)
        .map(|p| project_json(&emu, p, false))
        .collect();
    axum::Json(json!({"count": list.len(), "value": list})).into_response()
}

pub async fn project(
    State(emu): State<Arc<Emu>>,
    Path((org, project)): Path<(String, String)>,
    Query(q): Query<HashMap<String, String>>,
    headers: HeaderMap,
) -> Response {
    if let Err(r) = org_caller(&emu, &org, &headers) {
        return r;
    }
    match project_or_404(&emu, &project) {
        Ok(p) => axum::Json(project_json(
            &emu,
            p,
            q.get("includeCapabilities")
                .is_some_and(|v| v.eq_ignore_ascii_case("true")),
        ))
        .into_response(),
        Err(r) => r,
    }
}
