//! Setup mistakes an administrator can make, seeded so that a client's
//! connection test can meet each one, with the answer ADO and Microsoft
//! Entra ID give:
//!
//! - An app whose client secret has expired: the token endpoint answers
//!   `invalid_client` with AADSTS7000222 ("The provided client secret keys
//!   for app '...' are expired"; Microsoft Entra authentication and
//!   authorization error codes, learn.microsoft.com/entra/identity-platform/reference-error-codes,
//!   `InvalidClientSecretExpiredKeysProvided`; the same text in public CI
//!   logs, e.g. Azure/azureml-examples run 5420647507).
//! - A service principal added to the organization but not to the project:
//!   ADO does not reveal projects an identity cannot read, so the project
//!   is "not found" (TF200016) and missing from `_apis/projects` (Microsoft
//!   Learn, "Add users or groups to a project": a member sees only the
//!   projects they were added to).
//! - A PAT with Work Items (Read), `vso.work`, but not Read & write,
//!   `vso.work_write`: reads succeed, writes are refused with 401 (a PAT
//!   lacking a scope gets 401 Unauthorized: microsoft/azure-repos-vscode#20,
//!   PurpleSoftSrl/azure_devops_app#49). Its status and body are those of
//!   any missing scope (`errors::scope_refused`, with their settings).
//!
//! - An app registration without the `vso.work_write` API permission: the
//!   user's delegated token carries only the scopes the app was granted
//!   (Microsoft Learn, "Manage authorization scopes for Azure DevOps OAuth
//!   apps"), so projects read and work items are refused, with the 401 of a
//!   missing scope above.
//!
//! The other setup mistakes need no seed: an unknown tenant (AADSTS90002),
//! a wrong secret (AADSTS7000215) and a service principal never added to
//! the organization are answered by the token route and `auth`; a PAT
//! without `vso.work` is `seed::PAT_NO_WORK_SCOPE`.

use std::collections::HashMap;

use axum::extract::Request;
use axum::http::{Method, StatusCode};
use axum::middleware::Next;
use axum::response::Response;

use crate::data::Data;
use crate::errors::{entra, envelope};
use crate::model::{App, Identity, Project, Scope};
use crate::site::Site;
use crate::variants::Variants;

/// A service principal whose only client secret has expired.
pub const SP_EXPIRED_CLIENT_ID: &str = "6e1f2a3b-4c5d-4e6f-8a9b-0c1d2e3f4a5b";
/// Its (expired) client secret.
pub const SP_EXPIRED_CLIENT_SECRET: &str = "emulator-expired-secret";
/// A service principal in the organization that was never added to the
/// `seed::PROJECT` project (it may read `seed::PROJECT_BASIC` only).
pub const SP_NO_PROJECT_CLIENT_ID: &str = "7a2b3c4d-5e6f-4a7b-8c9d-0e1f2a3b4c5d";
/// Its client secret.
pub const SP_NO_PROJECT_CLIENT_SECRET: &str = "emulator-no-project-secret";
/// A PAT with Work Items (Read), `vso.work`, and not Read & write.
pub const PAT_WORK_READ: &str = "emulator-pat-work-items-read-only";
/// A public client app registration whose delegated API permissions on Azure
/// DevOps lack `vso.work_write` (it has `vso.project` and `vso.profile`).
pub const APP_NO_WORK_PERMISSION_CLIENT_ID: &str = "8b3c4d5e-6f70-4a8b-9cad-1e2f3a4b5c6d";
/// A refresh token the user obtained through that app.
pub const REFRESH_TOKEN_NO_WORK_PERMISSION: &str = "emulator-refresh-token-no-work-permission";

/// Which seeded identities carry a setup mistake.
#[derive(Debug, Default)]
pub struct Setup {
    /// Client ids whose secrets have expired.
    expired_secrets: Vec<String>,
    /// Identity id → ids of the only projects it was added to.
    project_members: HashMap<String, Vec<String>>,
    /// Access tokens issued through an app without `vso.work_write`.
    without_work_permission: std::sync::Mutex<std::collections::HashSet<String>>,
}

fn app(client_id: &str, secret: &str, id: &str, name: &str) -> App {
    App {
        client_id: client_id.into(),
        secret: secret.into(),
        identity: Identity {
            id: id.into(),
            display_name: name.into(),
            unique_name: client_id.into(),
            member_of_org: true,
        },
    }
}

/// The seeded apps, appended to the organization's.
pub fn with_apps(mut apps: Vec<App>) -> Vec<App> {
    apps.push(app(
        SP_EXPIRED_CLIENT_ID,
        SP_EXPIRED_CLIENT_SECRET,
        "6e6e6e6e-1111-2222-3333-555555555555",
        "Connector with an expired secret",
    ));
    apps.push(app(
        APP_NO_WORK_PERMISSION_CLIENT_ID,
        "",
        "8b8b8b8b-1111-2222-3333-777777777777",
        "Connector app without vso.work_write",
    ));
    apps.push(app(
        SP_NO_PROJECT_CLIENT_ID,
        SP_NO_PROJECT_CLIENT_SECRET,
        "7a7a7a7a-1111-2222-3333-666666666666",
        "Connector outside the project",
    ));
    apps
}

/// The seeded PATs of the organization's user.
pub fn seed_pats(data: &mut Data, person: &Identity) {
    data.pats
        .insert(PAT_WORK_READ.into(), (person.clone(), Scope::WorkRead));
    data.refresh_tokens
        .insert(REFRESH_TOKEN_NO_WORK_PERMISSION.into(), person.clone());
}

impl Setup {
    /// The mistakes of the seeded identities: `basic_project` is the one
    /// project the outsider of the main project was added to.
    pub fn seeded(basic_project: Option<&str>) -> Setup {
        let mut project_members = HashMap::new();
        project_members.insert(
            "7a7a7a7a-1111-2222-3333-666666666666".to_string(),
            basic_project.map(str::to_string).into_iter().collect(),
        );
        Setup {
            expired_secrets: vec![SP_EXPIRED_CLIENT_ID.into()],
            project_members,
            without_work_permission: Default::default(),
        }
    }

    /// Notes an access token issued to `client_id` on a user's behalf.
    pub fn issued(&self, client_id: &str, token: &str) {
        if client_id.eq_ignore_ascii_case(APP_NO_WORK_PERMISSION_CLIENT_ID) {
            self.without_work_permission
                .lock()
                .unwrap_or_else(|e| e.into_inner())
                .insert(token.to_string());
        }
    }

    /// The scope an access token carries: projects only when its app lacks
    /// `vso.work_write`, else everything.
    pub fn token_scope(&self, token: &str) -> Scope {
        let limited = self
            .without_work_permission
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .contains(token);
        if limited {
            Scope::ProjectRead
        } else {
            Scope::Full
        }
    }

    /// Whether `identity` was added to `project` (everyone is, unless seeded otherwise).
    pub fn sees(&self, identity: &Identity, project: &Project) -> bool {
        self.project_members
            .get(&identity.id)
            .is_none_or(|ids| ids.iter().any(|id| id.eq_ignore_ascii_case(&project.id)))
    }

    /// AADSTS7000222 for an app whose (correct) secret has expired.
    pub fn expired_secret(&self, client_id: &str) -> Option<Response> {
        self.expired_secrets
            .iter()
            .any(|c| c.eq_ignore_ascii_case(client_id))
            .then(|| {
                entra(
                    StatusCode::UNAUTHORIZED,
                    "invalid_client",
                    7000222,
                    &format!(
                        "The provided client secret keys for app '{client_id}' are expired. Visit the Azure portal to create new keys for your app: https://aka.ms/NewClientSecret, or consider using certificate credentials for added security: https://aka.ms/certCreds."
                    ),
                )
            })
    }
}

/// The project a REST path names: `/{org}/{project}/_apis/...` or
/// `/{org}/_apis/projects/{project}`.
fn named_project(path: &str) -> Option<String> {
    let segments: Vec<&str> = path.trim_start_matches('/').split('/').collect();
    let raw = match segments.as_slice() {
        [_, "_apis", "projects", project, ..] => *project,
        [_, project, "_apis", ..] => *project,
        _ => return None,
    };
    Some(percent_decode(raw))
}

fn percent_decode(raw: &str) -> String {
    url::form_urlencoded::parse(format!("p={}", raw.replace('+', "%2B")).as_bytes())
        .next()
        .map(|(_, v)| v.into_owned())
        .unwrap_or_else(|| raw.to_string())
}

/// A work item write: anything but a read under `_apis/wit` (WIQL and the
/// batch read are POSTs that read).
fn is_work_item_write(method: &Method, path: &str) -> bool {
    if method == Method::GET || method == Method::HEAD || !path.contains("/_apis/wit/") {
        return false;
    }
    let lower = path.to_ascii_lowercase();
    !(lower.ends_with("/_apis/wit/wiql") || lower.ends_with("/_apis/wit/workitemsbatch"))
}

/// Middleware: a read-only PAT may not write work items; an identity sees
/// only the projects it was added to.
///
/// `caller`: the authenticated caller's identity and scope, if any.
pub async fn layer(
    setup: &Setup,
    site: &Site,
    variants: &Variants,
    caller: Option<(Identity, Scope)>,
    request: Request,
    next: Next,
) -> Response {
    let Some((identity, scope)) = caller else {
        return next.run(request).await;
    };
    let path = request.uri().path().to_string();
    if scope == Scope::WorkRead && is_work_item_write(request.method(), &path) {
        return crate::errors::scope_refused(variants, &identity.id);
    }
    if let Some(name) = named_project(&path)
        && let Some(project) = site.project(&name)
        && !setup.sees(&identity, project)
    {
        return envelope(
            StatusCode::NOT_FOUND,
            &format!(
                "TF200016: The following project does not exist: {name}. Verify that the name of the project is correct and that the project exists on the specified Azure DevOps Server."
            ),
            "ProjectDoesNotExistWithNameException",
        );
    }
    next.run(request).await
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_project_is_read_from_either_path_shape() {
        assert_eq!(
            named_project("/contoso/_apis/projects/Fabrikam%20Security").as_deref(),
            Some("Fabrikam Security")
        );
        assert_eq!(
            named_project("/contoso/Tailspin%20Basic/_apis/wit/workitemtypes").as_deref(),
            Some("Tailspin Basic")
        );
        assert_eq!(named_project("/contoso/_apis/projects"), None);
        assert_eq!(named_project("/contoso/_apis/wit/workitems/1"), None);
    }

    #[test]
    fn wiql_and_batch_reads_are_not_writes() {
        assert!(!is_work_item_write(&Method::POST, "/o/P/_apis/wit/wiql"));
        assert!(!is_work_item_write(
            &Method::POST,
            "/o/_apis/wit/workitemsbatch"
        ));
        assert!(is_work_item_write(
            &Method::POST,
            "/o/P/_apis/wit/workitems/$Bug"
        ));
        assert!(is_work_item_write(
            &Method::PATCH,
            "/o/_apis/wit/workitems/7"
        ));
        assert!(!is_work_item_write(
            &Method::GET,
            "/o/_apis/wit/workitems/7"
        ));
    }
}
