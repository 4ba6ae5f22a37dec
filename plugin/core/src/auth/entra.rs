//! Microsoft Entra ID token endpoint: client credentials and refresh-token
//! grants, with the access token cached in the host's store until shortly
//! before it expires.

use std::time::Duration;

use serde::Deserialize;

use crate::env::{Env, HttpRequest, Method};
use crate::error::{ConnectorError, Problem};
use crate::model::Credentials;
use crate::setup::step::Step;

/// The Azure DevOps resource id; tokens must be issued for it.
pub const ADO_SCOPE: &str = "499b84ac-1321-427f-aa17-267ca6975798/.default";

/// Renew this long before the token expires, so a call never starts with a
/// token that dies mid-flight.
const EXPIRY_MARGIN_SECS: u64 = 300;

/// The token endpoint of one app registration in one tenant.
#[derive(Debug, Clone)]
pub struct TokenEndpoint {
    authority: String,
    tenant_id: String,
    client_id: String,
}

#[derive(Deserialize)]
struct TokenResponse {
    access_token: String,
    #[serde(default)]
    expires_in: Option<serde_json::Value>,
    #[serde(default)]
    refresh_token: Option<String>,
}

#[derive(Deserialize, Default)]
struct TokenError {
    #[serde(default)]
    error: String,
    #[serde(default)]
    error_description: String,
    #[serde(default)]
    error_codes: Vec<u64>,
}

impl TokenEndpoint {
    pub fn new(authority: &str, tenant_id: &str, client_id: &str) -> Self {
        TokenEndpoint {
            authority: authority.trim_end_matches('/').to_string(),
            tenant_id: tenant_id.to_string(),
            client_id: client_id.to_string(),
        }
    }

    pub fn url(&self) -> String {
        format!(
            "{}/{}/oauth2/v2.0/token",
            self.authority,
            crate::target::segment(&self.tenant_id)
        )
    }

    fn cache_key(&self) -> String {
        format!(
            "entra-token|{}|{}|{}",
            self.authority, self.tenant_id, self.client_id
        )
    }

    fn refresh_key(&self) -> String {
        format!(
            "entra-refresh|{}|{}|{}",
            self.authority, self.tenant_id, self.client_id
        )
    }

    pub fn forget(&self, env: &dyn Env) {
        env.store_delete(&self.cache_key());
    }

    /// A valid access token, from the cache or a new grant.
    pub fn access_token(
        &self,
        env: &dyn Env,
        credentials: &Credentials,
    ) -> Result<String, ConnectorError> {
        if let Some(token) = env.store_get(&self.cache_key()) {
            return Ok(token);
        }
        let mut form = vec![
            ("client_id", self.client_id.clone()),
            ("scope", ADO_SCOPE.to_string()),
        ];
        match credentials {
            Credentials::ClientCredentials { client_secret, .. } => {
                form.push(("grant_type", "client_credentials".into()));
                form.push(("client_secret", client_secret.expose().to_string()));
            }
            Credentials::RefreshToken {
                client_secret,
                refresh_token,
                ..
            } => {
                // A rotated refresh token supersedes the configured one.
                let current = env
                    .store_get(&self.refresh_key())
                    .unwrap_or_else(|| refresh_token.expose().to_string());
                form.push(("grant_type", "refresh_token".into()));
                form.push(("refresh_token", current));
                form[1].1 = format!("{ADO_SCOPE} offline_access");
                if let Some(secret) = client_secret {
                    form.push(("client_secret", secret.expose().to_string()));
                }
            }
            _ => {
                return Err(ConnectorError::Other(
                    "token endpoint used without Entra credentials".into(),
                ));
            }
        }
        let body = url::form_urlencoded::Serializer::new(String::new())
            .extend_pairs(form.iter().map(|(k, v)| (*k, v.as_str())))
            .finish();
        let response = env
            .send(HttpRequest {
                method: Method::Post,
                url: self.url(),
                headers: vec![
                    (
                        "Content-Type".into(),
                        "application/x-www-form-urlencoded".into(),
                    ),
                    ("Accept".into(), "application/json".into()),
                ],
                body: body.into_bytes(),
            })
            .map_err(|e| crate::client::transport::transport_error(e, &self.url()))?;
        if !(200..300).contains(&response.status) {
            let err: TokenError = serde_json::from_slice(&response.body).unwrap_or_default();
            return Err(self.explain(response.status, &err));
        }
        let token: TokenResponse = serde_json::from_slice(&response.body).map_err(|_| {
            ConnectorError::Unauthorized(Problem::new(
                format!("the token endpoint {} did not answer with a token", self.url()),
                "check the authority URL: it must be the Entra ID endpoint (https://login.microsoftonline.com) or your sovereign cloud's",
            ))
        })?;
        let expires_in = match &token.expires_in {
            Some(serde_json::Value::Number(n)) => n.as_u64().unwrap_or(3600),
            Some(serde_json::Value::String(s)) => s.parse().unwrap_or(3600),
            _ => 3600,
        };
        let ttl = if expires_in > 2 * EXPIRY_MARGIN_SECS {
            expires_in - EXPIRY_MARGIN_SECS
        } else {
            expires_in / 2
        };
        if ttl > 0 {
            env.store_set(
                &self.cache_key(),
                &token.access_token,
                Some(Duration::from_secs(ttl)),
            );
        }
        if let Some(rotated) = &token.refresh_token {
            env.store_set(&self.refresh_key(), rotated, None);
        }
        Ok(token.access_token)
    }

    /// Turns an Entra error into a message a person can act on.
    fn explain(&self, status: u16, err: &TokenError) -> ConnectorError {
        let code = err
            .error_codes
            .first()
            .map(|c| format!("AADSTS{c}"))
            .or_else(|| {
                err.error_description
                    .split(':')
                    .next()
                    .filter(|c| c.starts_with("AADSTS"))
                    .map(str::to_string)
            })
            .unwrap_or_default();
        let tenant = &self.tenant_id;
        let client = &self.client_id;
        let registration = Step::AppRegistration;
        let problem = match code.as_str() {
            "AADSTS7000222" => registration.problem(
                format!("the client secret of application {client} has expired ({code})"),
                "create a new client secret (app registration → Certificates & secrets → New client secret) and give the connector its Value; then delete the expired one",
            ),
            "AADSTS7000215" => registration.problem(
                format!("Entra ID refused the client secret of application {client} ({code})"),
                "the secret is wrong: use the secret's Value (shown once, when it is created), not its Secret ID; if it is lost, create a new client secret under Certificates & secrets",
            ),
            "AADSTS700016" => registration.problem(
                format!("application {client} was not found in tenant {tenant} ({code})"),
                "check the Application (client) ID, and that the app is registered in the tenant the Azure DevOps organization is connected to (Organization settings → Microsoft Entra)",
            ),
            "AADSTS90002" | "AADSTS900023" => registration.problem(
                format!("tenant {tenant} was not found ({code})"),
                "use the Directory (tenant) ID from the app registration's Overview page; it must be the tenant the organization is connected to (Organization settings → Microsoft Entra)",
            ),
            "AADSTS70011" | "AADSTS70000" => Step::ApiPermissions.problem(
                format!("Entra ID refused the requested scope ({code})"),
                format!("the connector asks for {ADO_SCOPE}: give the app the Azure DevOps API permissions (vso.work_write, vso.project, vso.profile) and check the authority URL"),
            ),
            "AADSTS700082" | "AADSTS70008" | "AADSTS700084" => registration.problem(
                format!("the refresh token has expired or was revoked ({code})"),
                "sign in again to obtain a new refresh token",
            ),
            _ => registration.problem(
                format!(
                    "Entra ID refused the token request with HTTP {status}{}{}",
                    oauth_error_code(&err.error).map(|e| format!(": {e}")).unwrap_or_default(),
                    if code.is_empty() { String::new() } else { format!(" ({code})") }
                ),
                "check the tenant id, client id and secret of the app registration",
            ),
        };
        ConnectorError::Unauthorized(problem)
    }
}

/// The answer's `error` member when it is an OAuth error code (RFC 6749
/// §5.2: `invalid_client`, `invalid_grant`...), else nothing: an answer that
/// echoes what it was sent must not put a secret into the message.
fn oauth_error_code(error: &str) -> Option<&str> {
    let is_code = !error.is_empty()
        && error.len() <= 40
        && error.bytes().all(|b| b.is_ascii_lowercase() || b == b'_');
    is_code.then_some(error)
}

#[cfg(test)]
mod tests {
    use super::oauth_error_code;

    #[test]
    fn only_an_oauth_error_code_is_quoted_from_a_refusal() {
        assert_eq!(oauth_error_code("invalid_client"), Some("invalid_client"));
        assert_eq!(oauth_error_code(""), None);
        assert_eq!(oauth_error_code("client_secret=Xy7~secret.Value"), None);
        assert_eq!(oauth_error_code(&"a".repeat(41)), None);
    }
}
