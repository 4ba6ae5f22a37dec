//! Turns credentials into an `Authorization` header, fetching and caching
//! Entra ID tokens as needed.

mod entra;

use base64::Engine as _;

use crate::env::Env;
use crate::error::ConnectorError;
use crate::model::{Credentials, DEFAULT_AUTHORITY};

pub use entra::TokenEndpoint;

/// Produces the `Authorization` header for one connection.
pub struct Authenticator<'a> {
    env: &'a dyn Env,
    credentials: &'a Credentials,
}

impl<'a> Authenticator<'a> {
    pub fn new(env: &'a dyn Env, credentials: &'a Credentials) -> Self {
        Authenticator { env, credentials }
    }

    /// The header value; may call the token endpoint.
    pub fn header(&self) -> Result<String, ConnectorError> {
        match self.credentials {
            Credentials::Pat(pat) => {
                // ADO ignores the user name of PAT basic auth.
                let raw = format!(":{}", pat.expose());
                Ok(format!(
                    "Basic {}",
                    base64::engine::general_purpose::STANDARD.encode(raw)
                ))
            }
            Credentials::AccessToken(token) => Ok(format!("Bearer {}", token.expose())),
            Credentials::ClientCredentials { .. } | Credentials::RefreshToken { .. } => {
                let endpoint = self.endpoint().expect("Entra credentials have an endpoint");
                Ok(format!(
                    "Bearer {}",
                    endpoint.access_token(self.env, self.credentials)?
                ))
            }
        }
    }

    /// Whether a fresh header could differ from the last one (a cached token).
    pub fn can_refresh(&self) -> bool {
        self.endpoint().is_some()
    }

    /// Forgets a cached token, e.g. after ADO refused it.
    pub fn invalidate(&self) {
        if let Some(endpoint) = self.endpoint() {
            endpoint.forget(self.env);
        }
    }

    fn endpoint(&self) -> Option<TokenEndpoint> {
        match self.credentials {
            Credentials::ClientCredentials {
                tenant_id,
                client_id,
                authority,
                ..
            }
            | Credentials::RefreshToken {
                tenant_id,
                client_id,
                authority,
                ..
            } => Some(TokenEndpoint::new(
                authority.as_deref().unwrap_or(DEFAULT_AUTHORITY),
                tenant_id,
                client_id,
            )),
            _ => None,
        }
    }
}
