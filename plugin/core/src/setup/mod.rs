//! The setup an administrator walks through to let the connector in (the
//! README's "Setting up access", in the same order), so that a failed
//! connection test names the step that was missed and how to do it.

use crate::client::Client;
use crate::connection::project::ProjectRef;
use crate::env::Method;
use crate::error::{ConnectorError, Issue, Problem};
use crate::model::Credentials;
use crate::target::{API_VERSION, Deployment, Target, segment};

pub mod step;
pub use step::Step;

/// Who the credentials stand for, in a remediation.
pub fn identity_noun(credentials: &Credentials) -> &'static str {
    match credentials {
        Credentials::ClientCredentials { .. } => "service principal",
        Credentials::Pat(_) | Credentials::RefreshToken { .. } => "user",
        Credentials::AccessToken(_) => "identity",
    }
}

/// The organization refused credentials that were issued: a service
/// principal not added to it, or a PAT that is wrong or for another one.
pub fn refused_by_organization(
    credentials: &Credentials,
    target: &Target,
    refused: Problem,
) -> ConnectorError {
    let org = target.organization();
    let mut problem = match credentials {
        Credentials::ClientCredentials { .. } | Credentials::RefreshToken { .. } => {
            Step::OrganizationMember.problem(
                format!("Entra ID issued a token, but organization `{org}` refused it ({})", refused.message),
                format!(
                    "add the {} to the organization (Organization settings → Users → Add users: the app registration's name, access level Basic), and check that the organization is connected to the app's tenant (Organization settings → Microsoft Entra)",
                    identity_noun(credentials)
                ),
            )
        }
        Credentials::Pat(_) => Step::PersonalAccessToken.problem(
            format!("organization `{org}` refused the personal access token ({})", refused.message),
            "the token is wrong, expired, revoked or made for another organization: create a new personal access token in this organization (User settings → Personal access tokens) with the Work Items (Read & write) scope",
        ),
        Credentials::AccessToken(_) => refused,
    };
    // Azure DevOps Server authenticates personal access tokens and Windows
    // accounts; Microsoft Entra ID tokens are for Azure DevOps Services
    // only. A URL that is not dev.azure.com or *.visualstudio.com is a
    // Server, or Services behind a name of its own: both fixes are named.
    if target.deployment() == Deployment::Server && !matches!(credentials, Credentials::Pat(_)) {
        problem.remediation.push_str(SERVER_TAKES_NO_ENTRA_TOKEN);
    }
    ConnectorError::Unauthorized(problem)
}

/// The fix for an Entra ID token sent to a URL that may be an Azure DevOps
/// Server, appended to the Services fix.
pub const SERVER_TAKES_NO_ENTRA_TOKEN: &str = "; if this URL is an Azure DevOps Server, which does not accept Microsoft Entra ID tokens, connect with a personal access token made on that server (User settings → Personal access tokens) with the Work Items (Read & write) scope";

/// Step 5: Azure DevOps' own spelling of the organization, read from the
/// project URL it returned, must be the one in the configured URL (links,
/// webhook payloads and the host's egress rules compare it as written).
pub fn check_organization_name(
    target: &Target,
    project_url: Option<&str>,
) -> Result<(), ConnectorError> {
    let Some(spelt) = project_url
        .and_then(|u| url::Url::parse(u).ok())
        .and_then(|u| {
            let path = u.path().to_string();
            let before = path.split("/_apis/").next()?.to_string();
            before
                .rsplit('/')
                .next()
                .filter(|s| !s.is_empty())
                .map(str::to_string)
        })
        .map(|s| {
            percent_encoding::percent_decode_str(&s)
                .decode_utf8_lossy()
                .into_owned()
        })
    else {
        return Ok(());
    };
    let configured = target.organization();
    if spelt == configured || !spelt.eq_ignore_ascii_case(configured) {
        return Ok(());
    }
    let fixed = match target.base().rsplit_once('/') {
        Some((head, _)) => format!("{head}/{}", segment(&spelt)),
        None => target.base().to_string(),
    };
    Err(ConnectorError::InvalidConfig(vec![Issue::new(
        "connection.base-url",
        "organization-name",
        format!(
            "setup {}: Azure DevOps spells the organization `{spelt}`, the URL says `{configured}`; use {fixed}",
            Step::OrganizationName.title()
        ),
    )]))
}

/// The credentials reach the project but not its work items: a missing scope.
pub fn cannot_read_work_items(
    credentials: &Credentials,
    project: &str,
    refused: &str,
) -> ConnectorError {
    let message =
        format!("the identity can read project `{project}` but not its work items ({refused})");
    ConnectorError::Forbidden(match credentials {
        Credentials::Pat(_) => Step::PersonalAccessToken.problem(
            message,
            "give the personal access token the Work Items (Read & write) scope, vso.work_write (User settings → Personal access tokens → Edit → Scopes)",
        ),
        Credentials::ClientCredentials { .. } | Credentials::RefreshToken { .. } => Step::ApiPermissions.problem(
            message,
            "give the app registration the Azure DevOps API permissions vso.work_write, vso.project and vso.profile (API permissions → Add a permission → Azure DevOps) and grant admin consent; the identity also needs the Basic access level (Organization settings → Users)",
        ),
        Credentials::AccessToken(_) => Problem::new(message, "obtain a token with the vso.work_write scope"),
    })
}

/// Proves the credentials may write work items without writing one: a
/// `validateOnly` create of `ty` saves nothing. A rule error (400) proves
/// the right as well as a success does.
pub fn check_work_item_write(
    client: &Client<'_>,
    credentials: &Credentials,
    project: &ProjectRef,
    ty: &str,
) -> Result<(), ConnectorError> {
    let url = client.target().project_api(
        &project.id,
        &format!("wit/workitems/${}?validateOnly=true", segment(ty)),
        API_VERSION,
    );
    let body = serde_json::json!([{"op": "add", "path": "/fields/System.Title", "value": "Connection test (validateOnly: nothing is saved)"}]);
    let refused = match client.send::<serde_json::Value>(
        Method::Post,
        &url,
        "application/json-patch+json",
        &body,
    ) {
        Ok(_)
        | Err(ConnectorError::Validation(_))
        | Err(ConnectorError::Remote { status: 400, .. }) => return Ok(()),
        Err(ConnectorError::Unauthorized(p) | ConnectorError::Forbidden(p)) => p.message,
        Err(other) => return Err(other),
    };
    let message = format!(
        "the identity can read the work items of project `{}` but not create or change them ({refused})",
        project.name
    );
    Err(ConnectorError::Forbidden(match credentials {
        Credentials::Pat(_) => Step::PersonalAccessToken.problem(
            message,
            "the token has Work Items (Read) only: edit it (User settings → Personal access tokens → Edit) and choose Work Items → Read & write (vso.work_write)",
        ),
        _ => Step::ProjectMember.problem(
            message,
            format!(
                "add the {} to the project's Contributors group (Project settings → Permissions → Contributors); delegated access also needs the app's vso.work_write API permission",
                identity_noun(credentials)
            ),
        ),
    }))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_problem_names_its_step_first() {
        let p = Step::ProjectMember.problem("not a member", "add it");
        assert!(
            p.message
                .starts_with("setup step 4, add the identity to the project: ")
        );
        assert_eq!(p.remediation, "add it");
    }
}
