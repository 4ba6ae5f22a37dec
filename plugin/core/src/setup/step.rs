//! The steps of the setup, named as the README names them: a leaf, so the
//! token endpoint and the version check can point a failure at its step
//! without depending on the checks that walk the steps.

use crate::error::Problem;

/// One step of the setup.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Step {
    /// 1. An app registration in the organization's Microsoft Entra tenant,
    ///    with a client secret.
    AppRegistration,
    /// 2. Its API permissions on Azure DevOps: `vso.work_write`,
    ///    `vso.project`, `vso.profile`.
    ApiPermissions,
    /// 3. The service principal added to the organization.
    OrganizationMember,
    /// 4. The identity added to the project.
    ProjectMember,
    /// 5. The organization's name, as Azure DevOps spells it.
    OrganizationName,
    /// Instead of 1-3: a personal access token with Work Items (Read & write).
    PersonalAccessToken,
    /// An Azure DevOps Server that serves the REST API the connector needs.
    ServerVersion,
}

impl Step {
    /// How the README names the step.
    pub fn title(self) -> &'static str {
        match self {
            Step::AppRegistration => "step 1, register an application in Microsoft Entra ID",
            Step::ApiPermissions => "step 2, give the application its Azure DevOps API permissions",
            Step::OrganizationMember => "step 3, add the service principal to the organization",
            Step::ProjectMember => "step 4, add the identity to the project",
            Step::OrganizationName => {
                "step 5, use the organization's name as Azure DevOps spells it"
            }
            Step::PersonalAccessToken => "the personal access token (instead of steps 1 to 3)",
            Step::ServerVersion => "Azure DevOps Server 2020 or later",
        }
    }

    /// A problem of this step: `message` says what was observed, `fix` what to do.
    pub fn problem(self, message: impl std::fmt::Display, fix: impl Into<String>) -> Problem {
        Problem::new(format!("setup {}: {message}", self.title()), fix)
    }
}
