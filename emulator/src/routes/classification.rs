//! Classification nodes: `GET {project}/_apis/wit/classificationnodes`
//! (both roots), `GET|POST {project}/_apis/wit/classificationnodes/{Areas|Iterations}[/{path}]`
//! with `$depth` (7.1 spec, `Classification Nodes_*`). The trees live in
//! `classification`.

use std::sync::Arc;

use axum::Router;
use axum::body::Bytes;
use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use serde_json::{Map, Value, json};

use crate::classification::{self, CreateError, Group};
use crate::errors::envelope;
use crate::model::Project;
use crate::routes::meta::wit_project;
use crate::routes::params::{Q, bad_argument, param};
use crate::state::Emu;

pub fn routes() -> Router<Arc<Emu>> {
    let mut r = Router::new();
    for word in ["classificationNodes", "classificationnodes"] {
        r = r
            .route(
                &format!("/{{org}}/{{project}}/_apis/wit/{word}"),
                get(roots),
            )
            .route(
                &format!("/{{org}}/{{project}}/_apis/wit/{word}/{{group}}"),
                get(get_node).post(create_node),
            )
            .route(
                &format!("/{{org}}/{{project}}/_apis/wit/{word}/{{group}}/{{*path}}"),
                get(get_node).post(create_node),
            );
    }
    r
}

fn depth(q: &std::collections::HashMap<String, String>) -> Result<u32, Response> {
    match param(q, "$depth") {
        None | Some("") => Ok(0),
        Some(d) => d
            .parse()
            .map_err(|_| bad_argument(&format!("The value '{d}' of $depth is not a number."))),
    }
}

fn project_url(emu: &Emu, project: &Project) -> String {
    format!("{}/{}/{}", emu.base_url(), emu.organization, project.id)
}

/// ADO's 404 for a node path that names no node. [doc] the spec's only
/// documented answer is 200; the code is the one ADO's clients report for
/// a missing node (VS402485).
fn node_not_found(path: &str) -> Response {
    envelope(
        StatusCode::NOT_FOUND,
        &format!("VS402485: The node {path} does not exist."),
        "WorkItemClassificationNodeDoesNotExistException",
    )
}

fn bad_group(group: &str) -> Response {
    bad_argument(&format!(
        "The structure group '{group}' is not one of Areas, Iterations."
    ))
}

fn read(emu: &Emu, project: &Project, group: Group, relative: &str, depth: u32) -> Response {
    let data = emu.data();
    let Some(trees) = data.trees.get(&project.id) else {
        return node_not_found(relative);
    };
    match (
        trees.find(group, relative),
        classification::trail(trees, group, relative),
    ) {
        (Some(node), Some(trail)) => axum::Json(classification::node_json(
            &project_url(emu, project),
            group,
            node,
            &trail,
            depth,
        ))
        .into_response(),
        _ => node_not_found(relative),
    }
}

async fn roots(
    State(emu): State<Arc<Emu>>,
    Path((org, project)): Path<(String, String)>,
    Query(q): Q,
    headers: HeaderMap,
) -> Response {
    let (_, project) = match wit_project(&emu, &org, &project, &headers) {
        Ok(x) => x,
        Err(r) => return r,
    };
    let depth = match depth(&q) {
        Ok(d) => d,
        Err(r) => return r,
    };
    let data = emu.data();
    let Some(trees) = data.trees.get(&project.id) else {
        return node_not_found("");
    };
    let url = project_url(&emu, &project);
    let list: Vec<Value> = [Group::Areas, Group::Iterations]
        .into_iter()
        .map(|g| {
            let root = trees.root(g);
            classification::node_json(&url, g, root, std::slice::from_ref(&root.name), depth)
        })
        .collect();
    axum::Json(json!({"count": list.len(), "value": list})).into_response()
}

/// `/{org}/{project}/_apis/wit/classificationNodes/{group}[/{*path}]`.
#[derive(Debug, serde::Deserialize)]
struct NodePath {
    org: String,
    project: String,
    group: String,
    #[serde(default)]
    path: String,
}

/// The project and the structure group a node route names.
fn target(emu: &Emu, p: &NodePath, headers: &HeaderMap) -> Result<(Project, Group), Response> {
    let (_, project) = wit_project(emu, &p.org, &p.project, headers)?;
    let g = Group::parse(&p.group).ok_or_else(|| bad_group(&p.group))?;
    Ok((project, g))
}

async fn get_node(
    State(emu): State<Arc<Emu>>,
    Path(p): Path<NodePath>,
    Query(q): Q,
    headers: HeaderMap,
) -> Response {
    match (target(&emu, &p, &headers), depth(&q)) {
        (Ok((project, g)), Ok(d)) => read(&emu, &project, g, &p.path, d),
        (Err(r), _) | (_, Err(r)) => r,
    }
}

async fn create_node(
    State(emu): State<Arc<Emu>>,
    Path(p): Path<NodePath>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    match target(&emu, &p, &headers) {
        Ok((project, g)) => create_inner(&emu, &project, g, &p.path, &body),
        Err(r) => r,
    }
}

/// `POST .../{group}/{parent}` with `{"name": ..., "attributes": {...}}`
/// adds a child of `parent`. The spec documents the answer as 200 with the
/// node. [unverified] code and text of the refusals (a taken name, a
/// missing parent); a taken name is refused as ADO's UI refuses it.
fn create_inner(emu: &Emu, project: &Project, g: Group, parent: &str, body: &[u8]) -> Response {
    let body: Value = match serde_json::from_slice(body) {
        Ok(v) => v,
        Err(e) => {
            return bad_argument(&format!(
                "The request body is not a classification node: {e}"
            ));
        }
    };
    let name = body["name"].as_str().unwrap_or_default().to_string();
    let attributes: Option<Map<String, Value>> = body["attributes"].as_object().cloned();
    let relative = {
        let mut data = emu.data();
        let data = &mut *data;
        let Some(trees) = data.trees.get_mut(&project.id) else {
            return node_not_found(parent);
        };
        match trees.create(g, parent, &name, attributes, &mut data.next_node_id) {
            Ok(_) => {}
            Err(CreateError::NoParent) => return node_not_found(parent),
            Err(CreateError::Exists) => {
                return envelope(
                    StatusCode::CONFLICT,
                    &format!(
                        "VS402371: Classification node name {name} is already in use by a different child of parent classification node."
                    ),
                    "ClassificationNodeDuplicateNameException",
                );
            }
            Err(CreateError::BadName) => {
                return bad_argument(&format!(
                    "VS402382: The name '{name}' of a classification node is empty or contains a character it may not."
                ));
            }
        }
        if parent.is_empty() {
            name.clone()
        } else {
            format!("{}/{name}", parent.trim_matches(['/', '\\']))
        }
    };
    read(emu, project, g, &relative, 0)
}
