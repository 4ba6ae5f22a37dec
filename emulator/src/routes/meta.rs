//! Work item types, their fields and states, and field definitions.

use std::collections::HashMap;
use std::sync::Arc;

use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use serde_json::{Value, json};

use crate::errors::envelope;
use crate::model::{Project, Scope};
use crate::process::WorkItemType;
use crate::routes::core::{org_caller, project_or_404};
use crate::state::Emu;

/// Authenticates, checks the work item scope and finds the project.
pub fn wit_project(
    emu: &Emu,
    org: &str,
    project: &str,
    headers: &HeaderMap,
) -> Result<(crate::auth::Caller, Project), Response> {
    let caller = org_caller(emu, org, headers)?;
    let project = project_or_404(emu, project)?.clone();
    if caller.scope == Scope::ProjectRead {
        // The scope's refusal (`errors::scope_refused`, its sources there).
        return Err(crate::errors::scope_refused(
            &emu.variants,
            &caller.identity.id,
        ));
    }
    Ok((caller, project))
}

fn type_or_404<'a>(project: &'a Project, ty: &str) -> Result<&'a WorkItemType, Response> {
    // [unverified] that a read of a missing type answers the create's 404
    // (`unknown_type`); a 404 it is (renovatebot/renovate#44592).
    project
        .process
        .work_item_type(ty)
        .ok_or_else(|| unknown_type(project, ty))
}

/// A work item type the project does not have: 404 `VS402323: Work item
/// type {type} does not exist in project {project} or you do not have
/// permission to access it.` [ms-code: ADO's answer to a create quoted in
/// TeamCodeStream/codestream#1085 ("Not Found: VS402323: Work item type
/// Issue does not exist in project [...] or you do not have permission to
/// access it.")]. The project is named as the project's name here, the
/// quote having redacted it.
pub fn unknown_type(project: &Project, ty: &str) -> Response {
    envelope(
        StatusCode::NOT_FOUND,
        &format!(
            "VS402323: Work item type {ty} does not exist in project {} or you do not have permission to access it.",
            project.name
        ),
        "WorkItemTypeNotFoundException",
    )
}

fn field_url(emu: &Emu, reference: &str) -> String {
    format!(
        "{}/{}/_apis/wit/fields/{reference}",
        emu.base_url(),
        emu.organization
    )
}

fn type_json(emu: &Emu, project: &Project, t: &WorkItemType) -> Value {
    let instances: Vec<Value> = t
        .fields
        .iter()
        .map(|f| {
            let mut v = json!({"alwaysRequired": f.always_required, "referenceName": f.reference_name, "name": f.name, "url": field_url(emu, &f.reference_name)});
            if let Some(h) = &f.help_text {
                v["helpText"] = h.clone().into();
            }
            v
        })
        .collect();
    json!({
        "name": t.name,
        "referenceName": t.reference_name,
        "description": t.description,
        "color": t.color,
        "icon": t.icon,
        "isDisabled": t.is_disabled,
        "xmlForm": "",
        // Both lists carry the field instances (alwaysRequired, helpText),
        // as Microsoft's sample of a type shows.
        "fields": instances.clone(),
        "fieldInstances": instances,
        "transitions": t.transitions,
        "states": t.states,
        "url": format!("{}/{}/{}/_apis/wit/workItemTypes/{}", emu.base_url(), emu.organization, project.id, t.name),
    })
}

pub async fn types(
    State(emu): State<Arc<Emu>>,
    Path((org, project)): Path<(String, String)>,
    headers: HeaderMap,
) -> Response {
    let (_, project) = match wit_project(&emu, &org, &project, &headers) {
        Ok(x) => x,
        Err(r) => return r,
    };
    let list: Vec<Value> = project
        .process
        .types
        .iter()
        .map(|t| type_json(&emu, &project, t))
        .collect();
    axum::Json(json!({"count": list.len(), "value": list})).into_response()
}

pub async fn one_type(
    State(emu): State<Arc<Emu>>,
    Path((org, project, ty)): Path<(String, String, String)>,
    headers: HeaderMap,
) -> Response {
    let (_, project) = match wit_project(&emu, &org, &project, &headers) {
        Ok(x) => x,
        Err(r) => return r,
    };
    match type_or_404(&project, &ty) {
        Ok(t) => {
            // A single type carries its self link; the list does not.
            let mut v = type_json(&emu, &project, t);
            v["_links"] = json!({"self": {"href": v["url"].clone()}});
            axum::Json(v).into_response()
        }
        Err(r) => r,
    }
}

pub async fn type_fields(
    State(emu): State<Arc<Emu>>,
    Path((org, project, ty)): Path<(String, String, String)>,
    Query(q): Query<HashMap<String, String>>,
    headers: HeaderMap,
) -> Response {
    let (_, project) = match wit_project(&emu, &org, &project, &headers) {
        Ok(x) => x,
        Err(r) => return r,
    };
    let t = match type_or_404(&project, &ty) {
        Ok(t) => t,
        Err(r) => return r,
    };
    let expand = q
        .get("$expand")
        .map(|s| s.to_ascii_lowercase())
        .unwrap_or_default();
    let with_values = expand == "allowedvalues" || expand == "all";
    let with_dependents = expand == "dependentfields" || expand == "all";
    // Microsoft's sample lists the identities of its own organization; the
    // identities of ours are the ones a write can name.
    let people: Vec<Value> = crate::identities::directory(&emu.data, &emu.apps)
        .iter()
        .map(|i| json!({"displayName": i.display_name, "id": i.id, "uniqueName": i.unique_name, "descriptor": format!("aad.{}", i.id)}))
        .collect();
    let list: Vec<Value> = t
        .fields
        .iter()
        .map(|f| {
            let mut v = json!({"alwaysRequired": f.always_required, "defaultValue": f.default_value, "referenceName": f.reference_name, "name": f.name, "url": field_url(&emu, &f.reference_name)});
            if with_values {
                let identity = project.process.field(&f.reference_name).is_some_and(|d| d.is_identity);
                let values = if identity && !f.allowed_values.is_empty() { people.clone() } else { f.allowed_values.clone() };
                v["allowedValues"] = Value::Array(values);
            }
            if let Some(h) = &f.help_text {
                v["helpText"] = h.clone().into();
            }
            if with_dependents {
                let dependents: Vec<Value> = dependent_fields(&f.reference_name)
                    .iter()
                    .map(|r| {
                        let name = project.process.field(r).map(|d| d.name.clone()).unwrap_or_else(|| (*r).to_string());
                        json!({"referenceName": r, "name": name, "url": field_url(&emu, r)})
                    })
                    .collect();
                v["dependentFields"] = Value::Array(dependents);
            }
            v
        })
        .collect();
    axum::Json(json!({"count": list.len(), "value": list})).into_response()
}

/// Fields whose values move together (a path and its node id), as
/// `$expand=dependentFields` lists them.
fn dependent_fields(reference: &str) -> &'static [&'static str] {
    match reference {
        "System.IterationPath" => &["System.IterationId"],
        "System.IterationId" => &["System.IterationPath"],
        "System.AreaPath" => &["System.AreaId"],
        "System.AreaId" => &["System.AreaPath"],
        _ => &[],
    }
}

pub async fn states(
    State(emu): State<Arc<Emu>>,
    Path((org, project, ty)): Path<(String, String, String)>,
    headers: HeaderMap,
) -> Response {
    let (_, project) = match wit_project(&emu, &org, &project, &headers) {
        Ok(x) => x,
        Err(r) => return r,
    };
    match type_or_404(&project, &ty) {
        Ok(t) => axum::Json(json!({"count": t.states.len(), "value": t.states})).into_response(),
        Err(r) => r,
    }
}

fn fields_json(emu: &Emu, project: &Project) -> Response {
    let list: Vec<Value> = project
        .process
        .fields
        .iter()
        .map(|f| {
            let mut v = f.to_json();
            v["url"] = field_url(emu, &f.reference_name).into();
            v
        })
        .collect();
    axum::Json(json!({"count": list.len(), "value": list})).into_response()
}

pub async fn project_fields(
    State(emu): State<Arc<Emu>>,
    Path((org, project)): Path<(String, String)>,
    headers: HeaderMap,
) -> Response {
    match wit_project(&emu, &org, &project, &headers) {
        Ok((_, project)) => fields_json(&emu, &project),
        Err(r) => r,
    }
}

pub async fn org_fields(
    State(emu): State<Arc<Emu>>,
    Path(org): Path<String>,
    headers: HeaderMap,
) -> Response {
    if let Err(r) = org_caller(&emu, &org, &headers) {
        return r;
    }
    match emu.projects.first() {
        Some(p) => fields_json(&emu, p),
        None => axum::Json(json!({"count": 0, "value": []})).into_response(),
    }
}
