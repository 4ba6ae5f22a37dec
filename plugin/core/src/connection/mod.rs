//! The connection test: who we are, which organization and project, which
//! process; and, on failure, what to do about it.

use std::time::Duration;

use serde::Deserialize;

use crate::auth::Authenticator;
use crate::client::Client;
use crate::env::Env;
use crate::error::{ConnectorError, Problem};
use crate::model::Connection;
use crate::setup;
use crate::target::{API_VERSION, Deployment, segment};

pub mod project;
pub use project::ProjectRef;

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
    /// The REST api-version the connector uses with this server: the
    /// pinned one, or the newest an older Azure DevOps Server serves.
    pub api_version: String,
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

#[derive(Deserialize)]
struct RawProject {
    id: String,
    name: String,
    #[serde(default)]
    capabilities: Option<serde_json::Value>,
    #[serde(default)]
    url: Option<String>,
}

#[derive(Deserialize)]
struct ProjectList {
    #[serde(default)]
    value: Vec<RawProject>,
}

/// Authenticates and checks, in the order of the README's setup, each step
/// it can observe: the Entra app registration (a token), the identity in
/// the organization (`connectionData`), the organization's spelling and
/// the project (the project's own URL), the api-version the server serves,
/// reading work items and writing them (a `validateOnly` create, which
/// saves nothing). A failure names the setup step and its fix.
pub fn test_connection(
    env: &dyn Env,
    connection: &Connection,
) -> Result<ConnectionInfo, ConnectorError> {
    let client = Client::new(env, connection)?;
    let target = client.target();
    let credentials = &connection.credentials;
    // Step 1: Entra ID issues a token (its errors name the step).
    Authenticator::new(env, credentials).header()?;
    let data: ConnectionData = client
        .get(&target.org_api("connectionData", CONNECTION_DATA_VERSION))
        .map_err(|e| match e {
            ConnectorError::NotFound(_) => ConnectorError::NotFound(Problem::new(
                format!("organization or collection `{}` was not found at {}", target.organization(), target.base()),
                "check the URL: https://dev.azure.com/{organization} for Azure DevOps Services (the name as it appears in your browser), or https://{server}/{virtual directory}/{collection} for Azure DevOps Server",
            )),
            ConnectorError::Unauthorized(p) => setup::refused_by_organization(credentials, target, p),
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
    let (project, project_url) = fetch_project(&client, &connection.project)?;
    setup::check_organization_name(target, project_url.as_deref())?;
    // The scope the connector really needs: reading work item types...
    let types: TypeList = client
        .get(&target.project_api(&project.id, "wit/workitemtypes", API_VERSION))
        .map_err(|e| match e {
            ConnectorError::Unauthorized(p) | ConnectorError::Forbidden(p) => {
                setup::cannot_read_work_items(credentials, &project.name, &p.message)
            }
            other => other,
        })?;
    // ...and writing them.
    if let Some(ty) = types.value.iter().find(|t| !t.is_disabled) {
        setup::check_work_item_write(&client, credentials, &project, &ty.name)?;
    }
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
        api_version: client.api_version(),
    })
}

#[derive(Deserialize)]
struct TypeList {
    #[serde(default)]
    value: Vec<RawType>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct RawType {
    name: String,
    #[serde(default)]
    is_disabled: bool,
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
            .and_then(|s| crate::kv_memo::parsed::<ProjectRef>(&key, s))
    {
        return Ok((*cached).clone());
    }
    let (project, _) = fetch_project(client, wanted)?;
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

/// The project from ADO, with the URL ADO gives it (its spelling of the
/// organization).
fn fetch_project(
    client: &Client<'_>,
    wanted: &str,
) -> Result<(ProjectRef, Option<String>), ConnectorError> {
    let target = client.target();
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
    Ok((project, raw.url))
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
    let missing = format!(
        "project `{wanted}` was not found in `{}`",
        target.organization()
    );
    if let Some(close) = closest_name(&known, wanted) {
        return ConnectorError::NotFound(Problem::new(
            missing,
            format!(
                "did you mean `{close}`? Use the project name as Azure DevOps shows it, or its id"
            ),
        ));
    }
    // ADO hides the projects an identity was not added to: a name that is
    // not a misspelling is most likely a missing membership.
    let seen = if known.is_empty() {
        "it can see no project".to_string()
    } else {
        format!(
            "projects it can see: {}",
            known
                .iter()
                .take(10)
                .map(|n| format!("`{n}`"))
                .collect::<Vec<_>>()
                .join(", ")
        )
    };
    ConnectorError::NotFound(setup::Step::ProjectMember.problem(
        format!("{missing}, or the identity was not added to it ({seen})"),
        format!(
            "add the {} to project `{wanted}` (Project settings → Permissions → Contributors → Add); if the name is wrong, use the project's name as Azure DevOps shows it, or its id",
            setup::identity_noun(&client.connection().credentials)
        ),
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

    fn out_of_range(max: &str) -> Result<crate::env::HttpResponse, crate::env::HttpError> {
        envelope(
            400,
            &format!(
                "The requested REST API version of 7.1 is out of range for this server. The latest REST API version this server supports is {max}."
            ),
            "VssVersionOutOfRangeException",
        )
    }

    #[test]
    fn an_older_server_is_asked_again_at_the_version_it_names() {
        let env = FakeEnv::new(vec![
            answer(
                200,
                json!({"authorizedUser": {"id": "u-1"}, "deploymentType": "onPremises"}),
            ),
            out_of_range("6.0"),
            answer(200, json!({"id": "p-1", "name": "P"})),
            answer(200, json!({"value": [{"name": "Bug"}]})),
            answer(200, json!({"id": -1, "rev": 0, "fields": {}})),
        ]);
        let mut c = conn("P");
        c.base_url = "https://tfs.example/tfs/DefaultCollection".into();
        let info = test_connection(&env, &c).unwrap();
        assert_eq!(info.api_version, "6.0");
        assert_eq!(info.deployment, Deployment::Server);
        let urls = env.sent_urls();
        assert!(urls[1].contains("api-version=7.1"), "{}", urls[1]);
        for url in &urls[2..] {
            assert!(url.contains("api-version=6.0"), "{url}");
        }
        assert!(urls[4].contains("validateOnly=true"), "{}", urls[4]);
    }

    #[test]
    fn a_server_older_than_2020_is_unsupported() {
        let env = FakeEnv::new(vec![
            answer(
                200,
                json!({"authorizedUser": {"id": "u-1"}, "deploymentType": "onPremises"}),
            ),
            out_of_range("5.1"),
        ]);
        let mut c = conn("P");
        c.base_url = "https://tfs.example/tfs/DefaultCollection".into();
        let err = test_connection(&env, &c).unwrap_err();
        assert!(
            matches!(&err, ConnectorError::Unsupported(m) if m.contains("5.1") && m.contains("Azure DevOps Server 2020")),
            "{err:?}"
        );
    }

    #[test]
    fn an_organization_spelt_otherwise_by_ado_is_refused_with_its_spelling() {
        let env = FakeEnv::new(vec![
            connection_data(),
            answer(
                200,
                json!({"id": "p-1", "name": "P", "url": "https://dev.azure.com/contoso/_apis/projects/p-1"}),
            ),
        ]);
        let mut c = conn("P");
        c.base_url = "https://dev.azure.com/Contoso".into();
        let err = test_connection(&env, &c).unwrap_err();
        assert!(
            matches!(&err, ConnectorError::InvalidConfig(i) if i[0].rule == "organization-name" && i[0].message.contains("use https://dev.azure.com/contoso")),
            "{err:?}"
        );
    }

    #[test]
    fn a_pat_that_only_reads_work_items_is_told_to_choose_read_and_write() {
        let env = FakeEnv::new(vec![
            connection_data(),
            answer(200, json!({"id": "p-1", "name": "P"})),
            answer(200, json!({"value": [{"name": "Bug"}]})),
            envelope(
                401,
                "TF400813: The user 'u-1' is not authorized to access this resource.",
                "UnauthorizedRequestException",
            ),
        ]);
        let err = test_connection(&env, &conn("P")).unwrap_err();
        assert!(
            matches!(&err, ConnectorError::Forbidden(p) if p.message.starts_with("setup the personal access token") && p.remediation.contains("Read & write")),
            "{err:?}"
        );
        assert!(env.sent_urls()[3].contains("/p-1/_apis/wit/workitems/$Bug?validateOnly=true"));
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
