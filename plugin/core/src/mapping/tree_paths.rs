//! Area and iteration paths checked against the project's trees before a
//! work item is written: ADO refuses a path that names no node with
//! `TF401347: Invalid tree name given for work item -1, field
//! 'System.AreaPath'.`, and a preview should say so first, naming the
//! config member. One `GET {project}/_apis/wit/classificationnodes/
//! {Areas|Iterations}/{path}` per path below the root (7.1 spec,
//! `Classification Nodes_Get`); the root is the project itself.

use serde_json::{Map, Value};

use crate::client::Client;
use crate::config::Config;
use crate::error::{ConnectorError, Issue};
use crate::schema::TypeSchema;
use crate::target::{API_VERSION, segment};

/// A problem for each tree path in `values` that names no node.
pub fn check(
    client: &Client<'_>,
    config: &Config,
    schema: &TypeSchema,
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
            &schema.project.id,
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
                        schema.project.name
                    ),
                ));
            }
            Err(e) => return Err(e),
        }
    }
    Ok(problems)
}
