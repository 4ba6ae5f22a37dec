//! The seed data of the default emulator: test credentials, safe to print.

/// Organization name.
pub const ORGANIZATION: &str = "contoso";
/// Project (with a space on purpose: names must be percent-encoded); Agile process.
pub const PROJECT: &str = "Fabrikam Security";
/// Its id.
pub const PROJECT_ID: &str = "6ce954b1-ce1f-45d1-b94d-e6bf2464ba2c";
/// A project on the Basic process.
pub const PROJECT_BASIC: &str = "Tailspin Basic";
/// Its id.
pub const PROJECT_BASIC_ID: &str = "3b0e4a1c-5d2f-4e8a-9b7c-1a2b3c4d5e01";
/// A project on the Scrum process.
pub const PROJECT_SCRUM: &str = "Tailspin Scrum";
/// Its id.
pub const PROJECT_SCRUM_ID: &str = "3b0e4a1c-5d2f-4e8a-9b7c-1a2b3c4d5e02";
/// A project on the CMMI process.
pub const PROJECT_CMMI: &str = "Tailspin CMMI";
/// Its id.
pub const PROJECT_CMMI_ID: &str = "3b0e4a1c-5d2f-4e8a-9b7c-1a2b3c4d5e03";
/// Entra tenant the organization is connected to.
pub const TENANT_ID: &str = "72f988bf-86f1-41af-91ab-2d7cd011db47";
/// A PAT with every scope.
pub const PAT: &str = "emulator-pat-full-scope";
/// A PAT without the work item scope (vso.work): it can read projects only.
pub const PAT_NO_WORK_SCOPE: &str = "emulator-pat-project-read-only";
/// A service principal added to the organization.
pub const SP_CLIENT_ID: &str = "0d3c1a5e-3f0b-4c1e-9d55-5c9e0a7f1b10";
/// Its client secret.
pub const SP_CLIENT_SECRET: &str = "emulator-sp-secret";
/// A service principal of the tenant that was never added to the organization.
pub const SP_OUTSIDER_CLIENT_ID: &str = "9a8b7c6d-0000-4e4e-8f8f-123456789abc";
/// Its client secret.
pub const SP_OUTSIDER_CLIENT_SECRET: &str = "emulator-outsider-secret";
/// A refresh token of the user below, for the refresh-token grant.
pub const REFRESH_TOKEN: &str = "emulator-refresh-token-1";
/// The user that owns the PATs and the refresh token.
pub const USER_NAME: &str = "Jamal Hartnett";
/// That user's sign-in name.
pub const USER_EMAIL: &str = "jamal@contoso.example";
/// A second user of the organization, to assign work items to.
pub const TEAMMATE_NAME: &str = "Norman Paulk";
/// That user's sign-in name.
pub const TEAMMATE_EMAIL: &str = "norman@contoso.example";
