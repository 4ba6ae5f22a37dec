//! The service's settings, read from Spin variables on each request. Secrets
//! stay in [`Secret`]s; errors name the variable, never its value.

use ado_connector_core::model::{Connection, Credentials, DEFAULT_AUTHORITY, Secret};
use ado_connector_core::webhook::DeliveryAuth;

use crate::platform::Platform;

/// A variable the service needs is missing or wrong.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum SettingsError {
    #[error("the variable `{0}` is not set")]
    Missing(&'static str),
    #[error("the variable `{name}` is invalid: {reason}")]
    Invalid { name: &'static str, reason: String },
}

/// Where to forward ticket changes.
#[derive(Debug, Clone)]
pub struct Callback {
    pub url: String,
    pub token: Option<Secret>,
}

/// Everything a request may need.
#[derive(Debug, Clone)]
pub struct Settings {
    pub connection: Connection,
    pub webhook: DeliveryAuth,
    pub callback: Option<Callback>,
}

fn optional(p: &dyn Platform, name: &str) -> Option<String> {
    p.variable(name)
        .map(|v| v.trim().to_string())
        .filter(|v| !v.is_empty())
}

fn required(p: &dyn Platform, name: &'static str) -> Result<String, SettingsError> {
    optional(p, name).ok_or(SettingsError::Missing(name))
}

fn secret(p: &dyn Platform, name: &'static str) -> Result<Secret, SettingsError> {
    required(p, name).map(Secret)
}

/// The API bearer token (`api_token`).
pub fn api_token(p: &dyn Platform) -> Result<Secret, SettingsError> {
    secret(p, "api_token")
}

/// The credentials ADO service hooks must present (`webhook_user`, `webhook_password`).
pub fn webhook_auth(p: &dyn Platform) -> Result<DeliveryAuth, SettingsError> {
    Ok(DeliveryAuth::Basic {
        user: optional(p, "webhook_user").unwrap_or_else(|| "ado-hook".into()),
        password: secret(p, "webhook_password")?,
    })
}

/// The ADO connection (`ado_base_url`, `ado_project`, `ado_auth` and its secrets).
pub fn connection(p: &dyn Platform) -> Result<Connection, SettingsError> {
    let authority =
        || Some(optional(p, "entra_authority").unwrap_or_else(|| DEFAULT_AUTHORITY.to_string()));
    let auth = optional(p, "ado_auth").unwrap_or_else(|| "pat".into());
    let credentials = match auth.as_str() {
        "pat" => Credentials::Pat(secret(p, "ado_pat")?),
        "access-token" => Credentials::AccessToken(secret(p, "ado_access_token")?),
        "client-credentials" => Credentials::ClientCredentials {
            tenant_id: required(p, "entra_tenant_id")?,
            client_id: required(p, "entra_client_id")?,
            client_secret: secret(p, "entra_client_secret")?,
            authority: authority(),
        },
        other => {
            return Err(SettingsError::Invalid {
                name: "ado_auth",
                reason: format!(
                    "`{other}` is not one of `pat`, `access-token`, `client-credentials`"
                ),
            });
        }
    };
    let base_url = required(p, "ado_base_url")?;
    if !(base_url.starts_with("https://") || base_url.starts_with("http://")) {
        return Err(SettingsError::Invalid {
            name: "ado_base_url",
            reason: format!("`{base_url}` is not an http(s) URL"),
        });
    }
    check_origin(p, "ado_origin", &base_url)?;
    Ok(Connection {
        base_url,
        project: required(p, "ado_project")?,
        credentials,
    })
}

/// Checks that the variable `name` (an `allowed_outbound_hosts` entry) has
/// the shape Spin takes there, `scheme://host[:port]`. Spin denies every
/// outbound request when an entry does not parse, so a wrong shape would
/// otherwise only show as "denied" on every ADO call. A well-shaped origin
/// that is not `url`'s is Spin's to refuse (`egress_denied`, whose
/// remediation names the variable).
pub fn check_origin(p: &dyn Platform, name: &'static str, url: &str) -> Result<(), SettingsError> {
    let value = required(p, name)?;
    let reason = match value.split_once("://") {
        None => Some(format!(
            "has no scheme (write the origin of `{url}`: https://host or http://host:port)"
        )),
        Some((scheme, _)) if !matches!(scheme, "http" | "https") => Some(format!(
            "has the scheme `{scheme}`; write http:// or https://"
        )),
        Some((_, rest)) if rest.trim_end_matches('/').contains(['/', '?', '#']) => Some(
            "has a path; Spin's allowed_outbound_hosts takes scheme://host[:port] only".to_string(),
        ),
        Some((_, rest)) if rest.trim_end_matches('/').is_empty() => Some("has no host".into()),
        Some(_) => None,
    };
    match reason {
        None => Ok(()),
        Some(reason) => Err(SettingsError::Invalid {
            name,
            reason: format!("`{value}` {reason}"),
        }),
    }
}

/// How long handled events and feed entries are kept (`retention_hours`), in seconds.
pub fn retention(p: &dyn Platform) -> Result<u64, SettingsError> {
    match optional(p, "retention_hours") {
        None => Ok(168 * 3600),
        Some(v) => match v.parse::<u64>() {
            Ok(h) if h > 0 => Ok(h.saturating_mul(3600)),
            _ => Err(SettingsError::Invalid {
                name: "retention_hours",
                reason: format!("`{v}` is not a positive whole number of hours"),
            }),
        },
    }
}

/// The callback (`callback_url`, `callback_token`), when one is configured.
pub fn callback(p: &dyn Platform) -> Option<Callback> {
    Some(Callback {
        url: optional(p, "callback_url")?,
        token: optional(p, "callback_token").map(Secret),
    })
}

/// All settings a connector operation needs.
pub fn load(p: &dyn Platform) -> Result<Settings, SettingsError> {
    Ok(Settings {
        connection: connection(p)?,
        webhook: webhook_auth(p)?,
        callback: callback(p),
    })
}
