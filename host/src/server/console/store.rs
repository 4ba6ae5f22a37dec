//! The files the console reads and writes, in the formats the CLI reads:
//! the host config's `[connection]`, the secrets file (0600, never shown
//! back), the outegration configs (`<name>.json`) and each outegration's
//! dispatch visibility in the rules file.

use std::io::Write as _;
use std::path::{Path, PathBuf};

use crate as host;
use anyhow::{Context as _, bail};
use serde::Deserialize;

use host::Connection;
use host::connect::config::{AuthKind, ConnectionSettings, HostConfig};
use host::connect::secrets::{Secret, SecretKind, Secrets};

use super::ConsoleOptions;

/// The secrets in the order the forms show them.
pub const SECRET_KINDS: [SecretKind; 4] = [
    SecretKind::Pat,
    SecretKind::AccessToken,
    SecretKind::ClientSecret,
    SecretKind::RefreshToken,
];

/// The authentication step's form. Secret inputs left empty keep what is stored.
#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub struct AuthForm {
    pub base_url: String,
    pub project: String,
    pub auth: String,
    pub tenant_id: String,
    pub client_id: String,
    pub authority: String,
    pub pat: Option<Secret>,
    pub access_token: Option<Secret>,
    pub client_secret: Option<Secret>,
    pub refresh_token: Option<Secret>,
    pub action: String,
}

fn some(s: &str) -> Option<String> {
    let s = s.trim();
    (!s.is_empty()).then(|| s.to_string())
}

/// The `auth` value of the host config (`pat`, `client-credentials`...).
pub fn auth_name(kind: AuthKind) -> &'static str {
    match kind {
        AuthKind::Pat => "pat",
        AuthKind::AccessToken => "access-token",
        AuthKind::ClientCredentials => "client-credentials",
        AuthKind::RefreshToken => "refresh-token",
    }
}

fn parse_auth(s: &str) -> anyhow::Result<AuthKind> {
    Ok(match s {
        "pat" => AuthKind::Pat,
        "access-token" => AuthKind::AccessToken,
        "client-credentials" => AuthKind::ClientCredentials,
        "refresh-token" => AuthKind::RefreshToken,
        other => bail!(
            "`{other}` is not an authentication method: pat, access-token, client-credentials or refresh-token"
        ),
    })
}

impl AuthForm {
    fn typed(&self, kind: SecretKind) -> Option<&Secret> {
        match kind {
            SecretKind::Pat => self.pat.as_ref(),
            SecretKind::AccessToken => self.access_token.as_ref(),
            SecretKind::ClientSecret => self.client_secret.as_ref(),
            SecretKind::RefreshToken => self.refresh_token.as_ref(),
        }
    }

    /// The settings typed in, and the stored secrets with the typed ones over them.
    pub fn resolve(&self, stored: &Secrets) -> anyhow::Result<(ConnectionSettings, Secrets)> {
        let settings = ConnectionSettings {
            base_url: self.base_url.trim().to_string(),
            project: self.project.trim().to_string(),
            auth: parse_auth(&self.auth)?,
            tenant_id: some(&self.tenant_id),
            client_id: some(&self.client_id),
            authority: some(&self.authority),
        };
        let mut secrets = stored.clone();
        for kind in SECRET_KINDS {
            if let Some(typed) = self.typed(kind).filter(|t| !t.expose().trim().is_empty()) {
                *slot(&mut secrets, kind) = Some(Secret::new(typed.expose().trim()));
            }
        }
        Ok((settings, secrets))
    }
}

fn slot(s: &mut Secrets, kind: SecretKind) -> &mut Option<Secret> {
    match kind {
        SecretKind::Pat => &mut s.pat,
        SecretKind::AccessToken => &mut s.access_token,
        SecretKind::ClientSecret => &mut s.client_secret,
        SecretKind::RefreshToken => &mut s.refresh_token,
    }
}

fn env(v: &str) -> Option<String> {
    std::env::var(v).ok()
}

/// The connection of settings and secrets, as the CLI builds it (environment variables too).
pub fn connection_of(
    settings: &ConnectionSettings,
    secrets: &Secrets,
) -> anyhow::Result<Connection> {
    host::connect::config::connection(settings, secrets, &env)
}

/// The stored `[connection]`, if the host config has one.
pub fn settings(o: &ConsoleOptions) -> Option<ConnectionSettings> {
    o.config
        .exists()
        .then(|| HostConfig::load(&o.config).ok())
        .flatten()
        .map(|c| c.connection)
}

/// The stored secrets (none when the file does not exist yet).
pub fn secrets(o: &ConsoleOptions) -> anyhow::Result<Secrets> {
    if o.secrets.exists() {
        Secrets::load(&o.secrets)
    } else {
        Ok(Secrets::default())
    }
}

/// Which secrets are stored (for "stored: leave empty to keep"), never their values.
pub fn stored_kinds(s: &Secrets) -> Vec<&'static str> {
    let mut s = s.clone();
    SECRET_KINDS
        .iter()
        .filter(|k| slot(&mut s, **k).is_some())
        .map(|k| k.file_key())
        .collect()
}

/// The connection from the stored files, as the CLI loads it.
pub fn connection(o: &ConsoleOptions) -> anyhow::Result<Connection> {
    let config = HostConfig::load(&o.config)?;
    connection_of(&config.connection, &secrets(o)?)
}

/// Writes `text` to `path` through a temporary file renamed over it, with `mode`.
fn write_file(path: &Path, text: &str, mode: u32) -> anyhow::Result<()> {
    let tmp = path.with_extension("tmp~");
    {
        let mut f =
            open_with_mode(&tmp, mode).with_context(|| format!("writing {}", tmp.display()))?;
        f.write_all(text.as_bytes())?;
        f.sync_all()?;
    }
    std::fs::rename(&tmp, path).with_context(|| format!("writing {}", path.display()))
}

#[cfg(unix)]
fn open_with_mode(path: &Path, mode: u32) -> std::io::Result<std::fs::File> {
    use std::os::unix::fs::{OpenOptionsExt as _, PermissionsExt as _};
    let f = std::fs::OpenOptions::new()
        .write(true)
        .create(true)
        .truncate(true)
        .mode(mode)
        .open(path)?;
    f.set_permissions(std::fs::Permissions::from_mode(mode))?;
    Ok(f)
}

#[cfg(not(unix))]
fn open_with_mode(path: &Path, _mode: u32) -> std::io::Result<std::fs::File> {
    std::fs::File::create(path)
}

/// Stores the connection: the host config's `[connection]` and the secrets file (0600).
pub fn save_connection(
    o: &ConsoleOptions,
    settings: &ConnectionSettings,
    secrets: &Secrets,
) -> anyhow::Result<()> {
    let mut conn = toml::Table::new();
    conn.insert("base_url".into(), settings.base_url.clone().into());
    conn.insert("project".into(), settings.project.clone().into());
    conn.insert("auth".into(), auth_name(settings.auth).into());
    for (key, value) in [
        ("tenant_id", &settings.tenant_id),
        ("client_id", &settings.client_id),
        ("authority", &settings.authority),
    ] {
        if let Some(v) = value {
            conn.insert(key.into(), v.clone().into());
        }
    }
    let mut doc = toml::Table::new();
    doc.insert("connection".into(), conn.into());
    write_file(&o.config, &toml::to_string(&doc)?, 0o644)?;
    let mut table = toml::Table::new();
    let mut s = secrets.clone();
    for kind in SECRET_KINDS {
        if let Some(v) = slot(&mut s, kind) {
            table.insert(kind.file_key().into(), v.expose().to_string().into());
        }
    }
    write_file(&o.secrets, &toml::to_string(&table)?, 0o600)
}

/// Whether `name` may name an outegration file (`<name>.json`, `/hooks/<name>`).
pub fn valid_name(name: &str) -> bool {
    !name.is_empty()
        && name.len() <= 64
        && name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_')
}

/// The file of the outegration `name`.
pub fn outegration_path(o: &ConsoleOptions, name: &str) -> anyhow::Result<PathBuf> {
    if !valid_name(name) {
        bail!("`{name}` cannot name an outegration: use 1 to 64 letters, digits, `-` or `_`");
    }
    Ok(o.outegrations.join(format!("{name}.json")))
}

/// The saved outegrations' names.
pub fn outegrations(o: &ConsoleOptions) -> Vec<String> {
    let mut names: Vec<String> = std::fs::read_dir(&o.outegrations)
        .into_iter()
        .flatten()
        .flatten()
        .filter_map(|e| {
            let p = e.path();
            (p.extension()? == "json").then(|| p.file_stem()?.to_str().map(String::from))?
        })
        .filter(|n| valid_name(n))
        .collect();
    names.sort();
    names
}

/// Writes an outegration config.
pub fn save_outegration(o: &ConsoleOptions, name: &str, text: &str) -> anyhow::Result<PathBuf> {
    let path = outegration_path(o, name)?;
    write_file(&path, text, 0o644)?;
    Ok(path)
}

/// The dispatch visibility of an outegration as the rules file holds it.
#[derive(Debug, Clone, Default, Deserialize, serde::Serialize)]
#[serde(default)]
pub struct VisibilityForm {
    /// `always`, `never` or `filter`.
    pub visibility: String,
    pub severity_at_least: String,
    /// Comma-separated.
    pub scanner: String,
    /// Comma-separated.
    pub asset_tag: String,
    /// `any`, `yes` or `no`.
    pub cve_present: String,
    /// One `field = value` a line.
    pub fields: String,
}

fn list(s: &str) -> Vec<toml::Value> {
    s.split(',')
        .map(str::trim)
        .filter(|v| !v.is_empty())
        .map(|v| v.to_string().into())
        .collect()
}

impl VisibilityForm {
    fn filter(&self) -> toml::Table {
        let mut f = toml::Table::new();
        if let Some(s) = some(&self.severity_at_least) {
            f.insert("severity_at_least".into(), s.into());
        }
        for (key, value) in [("scanner", &self.scanner), ("asset_tag", &self.asset_tag)] {
            let l = list(value);
            if !l.is_empty() {
                f.insert(key.into(), l.into());
            }
        }
        match self.cve_present.as_str() {
            "yes" => drop(f.insert("cve_present".into(), true.into())),
            "no" => drop(f.insert("cve_present".into(), false.into())),
            _ => {}
        }
        let mut fields = toml::Table::new();
        for line in self.fields.lines() {
            if let Some((k, v)) = line.split_once('=')
                && let Some(k) = some(k)
            {
                fields.insert(k, v.trim().to_string().into());
            }
        }
        if !fields.is_empty() {
            f.insert("fields".into(), fields.into());
        }
        f
    }

    fn from_table(t: &toml::Table) -> VisibilityForm {
        let s = |k: &str| {
            t.get(k)
                .and_then(|v| v.as_str())
                .unwrap_or_default()
                .to_string()
        };
        let filter = t.get("filter").and_then(|v| v.as_table());
        let f = |k: &str| -> String {
            match filter.and_then(|f| f.get(k)) {
                Some(toml::Value::String(s)) => s.clone(),
                Some(toml::Value::Array(a)) => a
                    .iter()
                    .filter_map(|v| v.as_str())
                    .collect::<Vec<_>>()
                    .join(", "),
                Some(toml::Value::Boolean(true)) => "yes".into(),
                Some(toml::Value::Boolean(false)) => "no".into(),
                _ => String::new(),
            }
        };
        let fields = filter
            .and_then(|f| f.get("fields"))
            .and_then(|v| v.as_table())
            .map(|t| {
                t.iter()
                    .map(|(k, v)| {
                        format!(
                            "{k} = {}",
                            v.as_str()
                                .map(String::from)
                                .unwrap_or_else(|| v.to_string())
                        )
                    })
                    .collect::<Vec<_>>()
                    .join("\n")
            })
            .unwrap_or_default();
        VisibilityForm {
            visibility: Some(s("visibility"))
                .filter(|v| !v.is_empty())
                .unwrap_or_else(|| "always".into()),
            severity_at_least: f("severity_at_least"),
            scanner: f("scanner"),
            asset_tag: f("asset_tag"),
            cve_present: Some(f("cve_present"))
                .filter(|v| !v.is_empty())
                .unwrap_or_else(|| "any".into()),
            fields,
        }
    }
}

fn read_rules(path: &Path) -> anyhow::Result<toml::Table> {
    if !path.exists() {
        return Ok(toml::Table::new());
    }
    let text = std::fs::read_to_string(path)
        .with_context(|| format!("reading the rules file {}", path.display()))?;
    toml::from_str(&text).with_context(|| format!("parsing the rules file {}", path.display()))
}

/// The visibility of `name` in the rules file (always when it names none).
pub fn visibility(o: &ConsoleOptions, name: &str) -> VisibilityForm {
    o.rules
        .as_deref()
        .and_then(|p| read_rules(p).ok())
        .and_then(|t| {
            t.get("outegrations")?
                .as_table()?
                .get(name)?
                .as_table()
                .map(VisibilityForm::from_table)
        })
        .unwrap_or_else(|| VisibilityForm::from_table(&toml::Table::new()))
}

/// Writes `[outegrations.<name>]` (its config and visibility) into the rules
/// file, and checks the file still loads; if it does not, it is put back.
pub fn save_visibility(
    o: &ConsoleOptions,
    name: &str,
    config: &Path,
    v: &VisibilityForm,
) -> anyhow::Result<()> {
    let Some(path) = o.rules.as_deref() else {
        return Ok(());
    };
    let before = path
        .exists()
        .then(|| std::fs::read_to_string(path))
        .transpose()?;
    let mut doc = read_rules(path)?;
    let outegrations = doc
        .entry("outegrations")
        .or_insert(toml::Value::Table(toml::Table::new()))
        .as_table_mut()
        .context("`outegrations` in the rules file is not a table")?;
    let mut entry = toml::Table::new();
    let config = std::fs::canonicalize(config).unwrap_or_else(|_| config.to_path_buf());
    entry.insert("config".into(), config.display().to_string().into());
    let mode = match v.visibility.as_str() {
        "never" => "never",
        "filter" => "filter",
        _ => "always",
    };
    entry.insert("visibility".into(), mode.into());
    if mode == "filter" {
        entry.insert("filter".into(), v.filter().into());
    }
    outegrations.insert(name.to_string(), entry.into());
    write_file(path, &toml::to_string(&doc)?, 0o644)?;
    if let Err(e) = host::platform::rules::Rules::load(path) {
        match before {
            Some(text) => write_file(path, &text, 0o644)?,
            None => std::fs::remove_file(path)?,
        }
        bail!("the visibility was not saved: {e}");
    }
    Ok(())
}

/// The rules file, loaded, when the console has one.
pub fn rules(o: &ConsoleOptions) -> anyhow::Result<Option<host::platform::rules::Rules>> {
    match o.rules.as_deref() {
        Some(p) if p.exists() => Ok(Some(host::platform::rules::Rules::load(p)?)),
        _ => Ok(None),
    }
}
