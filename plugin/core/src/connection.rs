//! The connection test: who we are, which organization and project, which
//! process; and, on failure, what to do about it.

use std::time::Duration;

use serde::{Deserialize, Serialize};

use crate::client::Client;
use crate::env::Env;
use crate::error::{ConnectorError, Problem};
use crate::model::Connection;
use crate::target::{API_VERSION, Deployment, segment};

/// connectionData is not in any OpenAPI spec; Microsoft's own clients call it
/// with this preview version.
const CONNECTION_DATA_VERSION: &str = "5.1-preview.1";
const PROJECT_CACHE_TTL: Duration = Duration::from_secs(3600);

#[derive(Debug, Clone, PartialEq)]
pub struct Identity {
    pub id: String,
    pub display_name: String,
}

#[derive(Debug, Clone, PartialEq)]
pub struct ConnectionInfo {
    pub user: Identity,
    pub organization: String,
    pub deployment: Deployment,
    pub project_id: String,
    pub project_name: String,
    pub process_template: Option<String>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct ConnectionData {
    authenticated_user: Option<RawIdentity>,
    authorized_user: Option<RawIdentity>,
    #[serde(default)]
    deployment_type: Option<String>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct RawIdentity {
    #[serde(default)]
    id: String,
    #[serde(default)]
    provider_display_name: Option<String>,
    #[serde(default)]
    custom_display_name: Option<String>,
}

/// A project as the connector keeps it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ProjectRef {
    pub id: String,
    pub name: String,
    #[serde(default)]
    pub process_template: Option<String>,
}

#[derive(Deserialize)]
struct RawProject {
    id: String,
    name: String,
    #[serde(default)]
    capabilities: Option<serde_json::Value>,
}

#[derive(Deserialize)]
struct ProjectList {
    #[serde(default)]
    value: Vec<RawProject>,
}

/// Authenticates and checks the project with the scopes the connector uses.
pub fn test_connection(
    env: &dyn Env,
    connection: &Connection,
) -> Result<ConnectionInfo, ConnectorError> {
    let client = Client::new(env, connection)?;
    let target = client.target();
    let data: ConnectionData = client
        .get(&target.org_api("connectionData", CONNECTION_DATA_VERSION))
        .map_err(|e| match e {
            ConnectorError::NotFound(_) => ConnectorError::NotFound(Problem::new(
                format!("organization or collection `{}` was not found at {}", target.organization(), target.base()),
                "check the URL: https://dev.azure.com/{organization} for Azure DevOps Services (the name as it appears in your browser), or https://{server}/{virtual directory}/{collection} for Azure DevOps Server",
            )),
            other => other,
        })?;
    let user = data
        .authorized_user
        .or(data.authenticated_user)
        .ok_or_else(|| {
            ConnectorError::Unauthorized(Problem::new(
                "Azure DevOps did not say who the connector is",
                "check the credentials; anonymous access is not enough",
            ))
        })?;
    let project = resolve_project(&client, true)?;
    // The scope the connector really needs: reading work item types.
    let _: serde_json::Value = client
        .get(&target.project_api(&project.id, "wit/workitemtypes", API_VERSION))
        .map_err(|e| match e {
            ConnectorError::Unauthorized(p) | ConnectorError::Forbidden(p) => ConnectorError::Forbidden(Problem::new(
                format!("the identity can read project `{}` but not its work items: {}", project.name, p.message),
                "give the personal access token the Work Items (Read & write) scope (vso.work_write), or give the identity at least Basic access and Contributor rights in the project",
            )),
            other => other,
        })?;
    let deployment = match data.deployment_type.as_deref() {
        Some("hosted") => Deployment::Services,
        Some("onPremises") => Deployment::Server,
        _ => target.deployment(),
    };
    Ok(ConnectionInfo {
        user: Identity {
            display_name: user
                .custom_display_name
                .or(user.provider_display_name)
                .unwrap_or_else(|| user.id.clone()),
            id: user.id,
        },
        organization: target.organization().to_string(),
        deployment,
        project_id: project.id,
        project_name: project.name,
        process_template: project.process_template,
    })
}

/// The connection's project, from the store cache or ADO. With `fresh` the
/// cache is bypassed (the connection test must prove access now).
pub fn resolve_project(client: &Client<'_>, fresh: bool) -> Result<ProjectRef, ConnectorError> {
    let target = client.target();
    let wanted = &client.connection().project;
    if wanted.trim().is_empty() {
        return Err(ConnectorError::InvalidConfig(vec![
            crate::error::Issue::new(
                "connection.project",
                "required",
                "the project name or id is empty",
            ),
        ]));
    }
    let key = format!("project|{}|{}", target.base(), wanted);
    if !fresh
        && let Some(cached) = client
            .env()
            .store_get(&key)
            .and_then(|s| serde_json::from_str(&s).ok())
    {
        return Ok(cached);
    }
    let url = format!(
        "{}&includeCapabilities=true",
        target.org_api(&format!("projects/{}", segment(wanted)), API_VERSION)
    );
    let raw: RawProject = match client.get(&url) {
        Ok(p) => p,
        Err(ConnectorError::NotFound(_)) => return Err(project_not_found(client, wanted)),
        Err(e) => return Err(e),
    };
    let process_template = raw
        .capabilities
        .as_ref()
        .and_then(|c| c.pointer("/processTemplate/templateName"))
        .and_then(|v| v.as_str())
        .map(str::to_string);
    let project = ProjectRef {
        id: raw.id,
        name: raw.name,
        process_template,
    };
    if let Ok(json) = serde_json::to_string(&project) {
        client.env().store_set(&key, &json, Some(PROJECT_CACHE_TTL));
        // Links name their project by id: a sync after a dispatch by name
        // finds the project without asking again.
        if !project.id.eq_ignore_ascii_case(wanted) {
            client.env().store_set(
                &format!("project|{}|{}", target.base(), project.id),
                &json,
                Some(PROJECT_CACHE_TTL),
            );
        }
    }
    Ok(project)
}

fn project_not_found(client: &Client<'_>, wanted: &str) -> ConnectorError {
    let target = client.target();
    let known: Vec<String> = client
        .get::<ProjectList>(&format!(
            "{}&$top=200",
            target.org_api("projects", API_VERSION)
        ))
        .map(|l| l.value.into_iter().map(|p| p.name).collect())
        .unwrap_or_default();
    let remediation = match closest_name(&known, wanted) {
        Some(close) => format!("did you mean `{close}`? Use the project name as Azure DevOps shows it, or its id"),
        None if known.is_empty() => "check the project name (or use its id), and that the identity is a member of the project".to_string(),
        None => format!(
            "check the project name (or use its id); projects this identity can see: {}",
            known.iter().take(10).map(|n| format!("`{n}`")).collect::<Vec<_>>().join(", ")
        ),
    };
    ConnectorError::NotFound(Problem::new(
        format!(
            "project `{wanted}` was not found in `{}`",
            target.organization()
        ),
        remediation,
    ))
}

/// ADO already matches project names case-insensitively, so a miss is a
/// misspelling or stray whitespace: suggest the one name within a couple of
/// edits, compared without case.
fn closest_name<'a>(known: &'a [String], wanted: &str) -> Option<&'a str> {
    let wanted = wanted.trim().to_lowercase();
    known
        .iter()
        .map(|n| (strsim::levenshtein(&n.to_lowercase(), &wanted), n))
        .filter(|(d, _)| *d <= 2.max(wanted.chars().count() / 8))
        .min_by_key(|(d, _)| *d)
        .map(|(_, n)| n.as_str())
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;
    use crate::model::{Credentials, Secret};
    use crate::testing::{FakeEnv, envelope, json as answer};

    fn conn(project: &str) -> Connection {
        Connection {
            base_url: "https://dev.azure.com/contoso".into(),
            project: project.into(),
            credentials: Credentials::Pat(Secret("pat".into())),
        }
    }

    fn connection_data() -> Result<crate::env::HttpResponse, crate::env::HttpError> {
        answer(
            200,
            json!({"authenticatedUser": {"id": "u-1", "providerDisplayName": "Connector Bot"}, "authorizedUser": {"id": "u-1", "providerDisplayName": "Connector Bot"}, "deploymentType": "hosted"}),
        )
    }

    #[test]
    fn test_connection_reports_identity_project_and_process() {
        let env = FakeEnv::new(vec![
            connection_data(),
            answer(
                200,
                json!({"id": "p-1", "name": "Fabrikam Security", "capabilities": {"processTemplate": {"templateName": "Agile"}}}),
            ),
            answer(200, json!({"count": 0, "value": []})),
        ]);
        let info = test_connection(&env, &conn("Fabrikam Security")).unwrap();
        assert_eq!(info.user.display_name, "Connector Bot");
        assert_eq!(info.project_id, "p-1");
        assert_eq!(info.process_template.as_deref(), Some("Agile"));
        assert_eq!(info.deployment, Deployment::Services);
        let urls = env.sent_urls();
        assert!(
            urls[1].contains("/_apis/projects/Fabrikam%20Security?"),
            "{}",
            urls[1]
        );
        assert!(urls[2].contains("/p-1/_apis/wit/workitemtypes"));
    }

    #[test]
    fn misspelt_project_suggests_the_closest_name() {
        let env = FakeEnv::new(vec![
            connection_data(),
            envelope(
                404,
                "TF200016: The following project does not exist: fabrikam securty.",
                "ProjectDoesNotExistWithNameException",
            ),
            answer(
                200,
                json!({"value": [{"id": "p-1", "name": "Fabrikam Security"}, {"id": "p-2", "name": "Tailspin"}]}),
            ),
        ]);
        let err = test_connection(&env, &conn("fabrikam securty")).unwrap_err();
        assert!(
            matches!(&err, ConnectorError::NotFound(p) if p.remediation.contains("`Fabrikam Security`")),
            "{err:?}"
        );
    }

    #[test]
    fn missing_work_item_scope_is_forbidden_with_scope_named() {
        let env = FakeEnv::new(vec![
            connection_data(),
            answer(200, json!({"id": "p-1", "name": "P"})),
            envelope(
                403,
                "VS403403: access denied",
                "UnauthorizedAccessException",
            ),
        ]);
        let err = test_connection(&env, &conn("P")).unwrap_err();
        assert!(
            matches!(&err, ConnectorError::Forbidden(p) if p.remediation.contains("vso.work_write")),
            "{err:?}"
        );
    }

    #[test]
    fn unknown_organization_explains_the_url_shape() {
        let env = FakeEnv::new(vec![envelope(404, "VS800075: not found", "X")]);
        let err = test_connection(&env, &conn("P")).unwrap_err();
        assert!(
            matches!(&err, ConnectorError::NotFound(p) if p.message.contains("contoso")),
            "{err:?}"
        );
    }
}
