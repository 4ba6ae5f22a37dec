//! Secrets: from the secrets file or the environment, never from argv, and
//! never printed (`Secret` shows as `***`).

use std::fmt;
use std::path::Path;

use anyhow::{Context as _, bail};
use serde::Deserialize;

/// A secret value; `Debug` and `Display` print `***`.
#[derive(Clone, PartialEq, Eq, Deserialize)]
#[serde(transparent)]
pub struct Secret(String);

impl Secret {
    /// Wraps a secret value.
    pub fn new(s: impl Into<String>) -> Self {
        Secret(s.into())
    }

    /// The value, for handing to the plugin only.
    pub fn expose(&self) -> &str {
        &self.0
    }

    /// The value, consumed.
    pub fn into_inner(self) -> String {
        self.0
    }
}

impl fmt::Debug for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("***")
    }
}

impl fmt::Display for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("***")
    }
}

/// The secrets file (TOML): any of these keys.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Secrets {
    /// Personal access token (`ADO_PAT`).
    #[serde(default)]
    pub pat: Option<Secret>,
    /// Bearer access token (`ADO_ACCESS_TOKEN`).
    #[serde(default)]
    pub access_token: Option<Secret>,
    /// Entra ID client secret (`ADO_CLIENT_SECRET`).
    #[serde(default)]
    pub client_secret: Option<Secret>,
    /// OAuth refresh token (`ADO_REFRESH_TOKEN`).
    #[serde(default)]
    pub refresh_token: Option<Secret>,
}

/// Which secret, its file key and its environment variable.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SecretKind {
    Pat,
    AccessToken,
    ClientSecret,
    RefreshToken,
}

impl SecretKind {
    /// The environment variable that may hold it.
    pub fn env_var(self) -> &'static str {
        match self {
            SecretKind::Pat => "ADO_PAT",
            SecretKind::AccessToken => "ADO_ACCESS_TOKEN",
            SecretKind::ClientSecret => "ADO_CLIENT_SECRET",
            SecretKind::RefreshToken => "ADO_REFRESH_TOKEN",
        }
    }

    /// Its key in the secrets file.
    pub fn file_key(self) -> &'static str {
        match self {
            SecretKind::Pat => "pat",
            SecretKind::AccessToken => "access_token",
            SecretKind::ClientSecret => "client_secret",
            SecretKind::RefreshToken => "refresh_token",
        }
    }

    fn what(self) -> &'static str {
        match self {
            SecretKind::Pat => "the personal access token",
            SecretKind::AccessToken => "the access token",
            SecretKind::ClientSecret => "the client secret",
            SecretKind::RefreshToken => "the refresh token",
        }
    }
}

impl Secrets {
    /// Reads a secrets file. Parse errors never quote the file's text.
    pub fn load(path: &Path) -> anyhow::Result<Secrets> {
        let text = std::fs::read_to_string(path)
            .with_context(|| format!("reading the secrets file {}", path.display()))?;
        Secrets::parse(&text).with_context(|| format!("in the secrets file {}", path.display()))
    }

    /// Parses secrets TOML. Parse errors never quote the text.
    pub fn parse(text: &str) -> anyhow::Result<Secrets> {
        toml::from_str(text).map_err(|e| {
            anyhow::anyhow!(
                "not valid TOML of the secrets file (expected string keys: pat, access_token, client_secret, refresh_token){}",
                e.span().map(|s| format!(" near byte {}", s.start)).unwrap_or_default()
            )
        })
    }

    fn in_file(&self, kind: SecretKind) -> Option<&Secret> {
        match kind {
            SecretKind::Pat => self.pat.as_ref(),
            SecretKind::AccessToken => self.access_token.as_ref(),
            SecretKind::ClientSecret => self.client_secret.as_ref(),
            SecretKind::RefreshToken => self.refresh_token.as_ref(),
        }
        .filter(|s| !s.0.trim().is_empty())
    }

    /// The secret from the secrets file, else from its environment variable
    /// (looked up through `env`), else `None`.
    pub fn find(&self, kind: SecretKind, env: &dyn Fn(&str) -> Option<String>) -> Option<Secret> {
        self.in_file(kind).cloned().or_else(|| {
            env(kind.env_var())
                .filter(|v| !v.trim().is_empty())
                .map(Secret)
        })
    }

    /// Like [`Secrets::find`], but a missing secret is an error naming the
    /// environment variable and the file key.
    pub fn require(
        &self,
        kind: SecretKind,
        env: &dyn Fn(&str) -> Option<String>,
    ) -> anyhow::Result<Secret> {
        match self.find(kind, env) {
            Some(s) => Ok(s),
            None => bail!(
                "{} is missing: set the environment variable {} or `{}` in the secrets file (--secrets)",
                kind.what(),
                kind.env_var(),
                kind.file_key()
            ),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn secrets_never_print() {
        let s = Secrets {
            pat: Some(Secret::new("hunter2")),
            ..Secrets::default()
        };
        assert!(!format!("{s:?}").contains("hunter2"));
        assert_eq!(format!("{:?}", Secret::new("hunter2")), "***");
        assert_eq!(Secret::new("hunter2").to_string(), "***");
    }

    #[test]
    fn missing_secret_names_the_environment_variable() {
        let err = Secrets::default()
            .require(SecretKind::ClientSecret, &|_| None)
            .unwrap_err()
            .to_string();
        assert!(
            err.contains("ADO_CLIENT_SECRET") && err.contains("client_secret"),
            "{err}"
        );
    }

    #[test]
    fn the_file_wins_over_the_environment() {
        let s = Secrets::parse("pat = \"from-file\"\n").unwrap();
        let env = |v: &str| (v == "ADO_PAT").then(|| "from-env".to_string());
        assert_eq!(
            s.require(SecretKind::Pat, &env).unwrap().expose(),
            "from-file"
        );
        assert_eq!(
            Secrets::default()
                .require(SecretKind::Pat, &env)
                .unwrap()
                .expose(),
            "from-env"
        );
    }

    #[test]
    fn a_bad_secrets_file_is_not_quoted() {
        let err = Secrets::parse("pat = hunter2-not-quoted\n").unwrap_err();
        assert!(!format!("{err:#}").contains("hunter2"), "{err:#}");
        let err = Secrets::parse("token = \"hunter2\"\n").unwrap_err();
        assert!(!format!("{err:#}").contains("hunter2"), "{err:#}");
    }
}
