//! The host config file (TOML): where and how to connect. Secrets are not in
//! it; they come from [`crate::connect::secrets`].

use std::path::Path;

use anyhow::{Context as _, bail};
use serde::Deserialize;

use crate::connect::secrets::{SecretKind, Secrets};
use crate::{ClientCredentials, Connection, Credentials, RefreshTokenGrant};

/// How to authenticate.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum AuthKind {
    /// Personal access token (`ADO_PAT`).
    Pat,
    /// Bearer token obtained elsewhere (`ADO_ACCESS_TOKEN`).
    AccessToken,
    /// Entra ID client credentials (`ADO_CLIENT_SECRET`).
    ClientCredentials,
    /// Entra ID refresh-token grant (`ADO_REFRESH_TOKEN`, optional `ADO_CLIENT_SECRET`).
    RefreshToken,
}

/// `[connection]` of the host config file.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ConnectionSettings {
    /// Organization or collection URL.
    pub base_url: String,
    /// Project name or id.
    pub project: String,
    /// How to authenticate.
    pub auth: AuthKind,
    /// Tenant id, for `client-credentials` and `refresh-token`.
    #[serde(default)]
    pub tenant_id: Option<String>,
    /// Client id, for `client-credentials` and `refresh-token`.
    #[serde(default)]
    pub client_id: Option<String>,
    /// Token authority; `https://login.microsoftonline.com` when absent.
    #[serde(default)]
    pub authority: Option<String>,
}

/// The host config file.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct HostConfig {
    /// The connection settings.
    pub connection: ConnectionSettings,
}

impl HostConfig {
    /// Reads a host config file.
    pub fn load(path: &Path) -> anyhow::Result<HostConfig> {
        let text = std::fs::read_to_string(path)
            .with_context(|| format!("reading the host config {} (--config)", path.display()))?;
        HostConfig::parse(&text)
            .with_context(|| format!("parsing the host config {}", path.display()))
    }

    /// Parses host config TOML.
    pub fn parse(text: &str) -> anyhow::Result<HostConfig> {
        Ok(toml::from_str(text)?)
    }
}

fn required(value: &Option<String>, key: &str, auth: &str) -> anyhow::Result<String> {
    match value {
        Some(v) if !v.trim().is_empty() => Ok(v.clone()),
        _ => bail!(
            "`{key}` is missing in the [connection] table of the host config: auth = \"{auth}\" needs it"
        ),
    }
}

/// Builds the WIT connection from the settings and the secrets; `env` looks
/// up environment variables (`|v| std::env::var(v).ok()` in the CLI).
pub fn connection(
    settings: &ConnectionSettings,
    secrets: &Secrets,
    env: &dyn Fn(&str) -> Option<String>,
) -> anyhow::Result<Connection> {
    if settings.base_url.trim().is_empty() {
        bail!("`base_url` is empty in the [connection] table of the host config");
    }
    if settings.project.trim().is_empty() {
        bail!("`project` is empty in the [connection] table of the host config");
    }
    let credentials = match settings.auth {
        AuthKind::Pat => Credentials::Pat(secrets.require(SecretKind::Pat, env)?.into_inner()),
        AuthKind::AccessToken => {
            Credentials::AccessToken(secrets.require(SecretKind::AccessToken, env)?.into_inner())
        }
        AuthKind::ClientCredentials => Credentials::ClientCredentials(ClientCredentials {
            tenant_id: required(&settings.tenant_id, "tenant_id", "client-credentials")?,
            client_id: required(&settings.client_id, "client_id", "client-credentials")?,
            client_secret: secrets.require(SecretKind::ClientSecret, env)?.into_inner(),
            authority: settings.authority.clone(),
        }),
        AuthKind::RefreshToken => Credentials::RefreshToken(RefreshTokenGrant {
            tenant_id: required(&settings.tenant_id, "tenant_id", "refresh-token")?,
            client_id: required(&settings.client_id, "client_id", "refresh-token")?,
            client_secret: secrets
                .find(SecretKind::ClientSecret, env)
                .map(|s| s.into_inner()),
            refresh_token: secrets.require(SecretKind::RefreshToken, env)?.into_inner(),
            authority: settings.authority.clone(),
        }),
    };
    Ok(Connection {
        base_url: settings.base_url.clone(),
        project: settings.project.clone(),
        credentials,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::connect::secrets::Secret;

    fn settings(auth: AuthKind) -> ConnectionSettings {
        ConnectionSettings {
            base_url: "https://dev.azure.com/c".into(),
            project: "p".into(),
            auth,
            tenant_id: Some("t".into()),
            client_id: None,
            authority: None,
        }
    }

    #[test]
    fn missing_secret_names_the_environment_variable() {
        let err = connection(&settings(AuthKind::Pat), &Secrets::default(), &|_| None).unwrap_err();
        assert!(err.to_string().contains("ADO_PAT"), "{err}");
        let err = connection(
            &settings(AuthKind::AccessToken),
            &Secrets::default(),
            &|_| None,
        )
        .unwrap_err();
        assert!(err.to_string().contains("ADO_ACCESS_TOKEN"), "{err}");
    }

    #[test]
    fn secret_comes_from_the_environment() {
        let c = connection(&settings(AuthKind::Pat), &Secrets::default(), &|v| {
            (v == "ADO_PAT").then(|| "abc".to_string())
        })
        .unwrap();
        assert_eq!(c.credentials, Credentials::Pat("abc".into()));
    }

    #[test]
    fn client_credentials_need_a_client_id() {
        let secrets = Secrets {
            client_secret: Some(Secret::new("s")),
            ..Secrets::default()
        };
        let err =
            connection(&settings(AuthKind::ClientCredentials), &secrets, &|_| None).unwrap_err();
        assert!(err.to_string().contains("client_id"), "{err}");
    }

    #[test]
    fn refresh_token_needs_its_token_but_not_a_client_secret() {
        let mut s = settings(AuthKind::RefreshToken);
        s.client_id = Some("c".into());
        let err = connection(&s, &Secrets::default(), &|_| None).unwrap_err();
        assert!(err.to_string().contains("ADO_REFRESH_TOKEN"), "{err}");
        let env = |v: &str| (v == "ADO_REFRESH_TOKEN").then(|| "rt".to_string());
        match connection(&s, &Secrets::default(), &env)
            .unwrap()
            .credentials
        {
            Credentials::RefreshToken(g) => {
                assert_eq!((g.refresh_token.as_str(), g.client_secret), ("rt", None))
            }
            _ => panic!("expected a refresh-token grant"),
        }
    }

    #[test]
    fn config_file_parses() {
        let c = HostConfig::parse(
            "[connection]\nbase_url = \"https://dev.azure.com/c\"\nproject = \"P\"\nauth = \"client-credentials\"\ntenant_id = \"t\"\nclient_id = \"c\"\nauthority = \"https://login.example\"\n",
        )
        .unwrap();
        assert_eq!(c.connection.auth, AuthKind::ClientCredentials);
        assert_eq!(
            c.connection.authority.as_deref(),
            Some("https://login.example")
        );
        assert!(
            HostConfig::parse(
                "[connection]\nbase_url = \"x\"\nproject = \"P\"\nauth = \"password\"\n"
            )
            .is_err()
        );
    }
}
