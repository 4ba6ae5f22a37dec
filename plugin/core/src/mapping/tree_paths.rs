//! Area and iteration paths checked against the project's trees before a
//! work item is written: ADO refuses a path that names no node with
//! `TF401347: Invalid tree name given for work item -1, field
//! 'System.AreaPath'.`, and a preview should say so first, naming the
//! config member. One `GET {project}/_apis/wit/classificationnodes/
//! {Areas|Iterations}/{path}` per path below the root (7.1 spec,
//! `Classification Nodes_Get`); the root is the project itself.

use serde_json::{Map, Value};

use super::validate;
use crate::client::Client;
use crate::config::Config;
use crate::connection::{ProjectRef, resolve_project};
use crate::error::{ConnectorError, Issue};
use crate::target::{API_VERSION, segment};

/// `validate-config` with a connection: the config's `area_path` and
/// `iteration_path` checked as a dispatch would place them (a valid path,
/// under the project) and then against the project's trees.
pub fn check_config(client: &Client<'_>, config: &Config) -> Result<Vec<Issue>, ConnectorError> {
    let project = resolve_project(client, false)?;
    let mut values = Map::new();
    let mut problems = validate::tree_paths(config, &project.name, &mut values);
    problems.extend(check(client, config, &project, &values)?);
    Ok(problems)
}

/// A problem for each tree path in `values` that names no node.
pub fn check(
    client: &Client<'_>,
    config: &Config,
    project: &ProjectRef,
    values: &Map<String, Value>,
) -> Result<Vec<Issue>, ConnectorError> {
    let mut problems = Vec::new();
    for (reference, group, word, member, configured) in [
        (
            "System.AreaPath",
            "Areas",
            "area",
            "$.area_path",
            &config.area_path,
        ),
        (
            "System.IterationPath",
            "Iterations",
            "iteration",
            "$.iteration_path",
            &config.iteration_path,
        ),
    ] {
        let Some(path) = values.get(reference).and_then(Value::as_str) else {
            continue;
        };
        // Below the root: `Project\A\B` asks for `A/B`; the root always exists.
        let Some((_, below)) = path.split_once('\\') else {
            continue;
        };
        let relative: Vec<String> = below.split('\\').map(segment).collect();
        let url = client.target().project_api(
            &project.id,
            &format!("wit/classificationnodes/{group}/{}", relative.join("/")),
            API_VERSION,
        );
        match client.get::<Value>(&url) {
            Ok(_) => {}
            Err(ConnectorError::NotFound(_)) => {
                let at = if configured.as_deref() == Some(path) {
                    member.to_string()
                } else {
                    reference.to_string()
                };
                problems.push(Issue::new(
                    at,
                    "tree-path",
                    format!(
                        "`{path}` names no {word} of project `{}` (ADO refuses it with TF401347); create the {word} or choose one that exists",
                        project.name
                    ),
                ));
            }
            Err(e) => return Err(e),
        }
    }
    Ok(problems)
}
