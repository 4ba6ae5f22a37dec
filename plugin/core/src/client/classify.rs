//! Reads an ADO answer: success, or which typed error it is.

use base64::Engine;
use serde::Deserialize;

use crate::env::HttpResponse;
use crate::error::{ConnectorError, Issue, Problem};
use crate::model::Credentials;

/// ADO's error envelope; every member optional because it is not in any spec.
#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Envelope {
    #[serde(default)]
    pub message: String,
    #[serde(default)]
    pub type_key: Option<String>,
    #[serde(default)]
    pub custom_properties: Option<serde_json::Value>,
}

impl Envelope {
    pub fn parse(body: &[u8]) -> Envelope {
        let body = body.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(body);
        serde_json::from_slice(body).unwrap_or_default()
    }

    /// The `TFxxxxxx` / `VSxxxxxx` code the message starts with.
    pub fn code(&self) -> Option<String> {
        let head = self.message.split(':').next()?.trim();
        let is_code = (head.starts_with("TF") || head.starts_with("VS"))
            && head.len() > 2
            && head[2..].chars().all(|c| c.is_ascii_digit());
        if is_code {
            Some(head.to_string())
        } else {
            self.type_key.clone()
        }
    }
}

/// Shortest secret redacted from ADO's messages: replacing a one-letter
/// test token would garble every message, and real ones are far longer
/// (a PAT has 52 characters, an Entra client secret 40).
const MIN_REDACTED: usize = 8;

/// What an error must not show: every configured secret, raw or as the
/// PAT's Basic header value, and the credential the request actually
/// carried (an Entra access token is in no configuration: only the
/// `Authorization` header sent knows it).
struct Redactor {
    forms: Vec<String>,
}

impl Redactor {
    fn new(credentials: &Credentials, authorization: &str) -> Self {
        let mut forms: Vec<String> = Vec::new();
        for secret in credentials.secrets() {
            forms.push(secret.to_string());
            if let Credentials::Pat(_) = credentials {
                forms.push(base64::engine::general_purpose::STANDARD.encode(format!(":{secret}")));
            }
        }
        let (scheme, sent) = authorization
            .trim()
            .split_once(' ')
            .unwrap_or(("", authorization));
        forms.push(sent.trim().to_string());
        if scheme.eq_ignore_ascii_case("basic")
            && let Ok(decoded) = base64::engine::general_purpose::STANDARD.decode(sent.trim())
            && let Ok(decoded) = String::from_utf8(decoded)
        {
            // `user:password`: the password is the secret (ADO ignores the user).
            forms.push(
                decoded
                    .split_once(':')
                    .map_or(decoded.clone(), |(_, p)| p.to_string()),
            );
        }
        forms.retain(|f| f.trim().len() >= MIN_REDACTED);
        // Longest first, so a form containing another is replaced whole.
        forms.sort_by_key(|f| std::cmp::Reverse(f.len()));
        forms.dedup();
        Redactor { forms }
    }

    /// `text` with every form replaced by `***`: an answer may echo what the
    /// request carried (a proxy's error page, a message quoting the
    /// Authorization header), and the connector's messages never carry secrets.
    fn redact(&self, text: &str) -> String {
        let mut out = text.to_string();
        for form in &self.forms {
            if out.contains(form.as_str()) {
                out = out.replace(form.as_str(), "***");
            }
        }
        out
    }

    /// Every string of a JSON value, and every member name, redacted.
    fn redact_value(&self, value: &mut serde_json::Value) {
        match value {
            serde_json::Value::String(s) => *s = self.redact(s),
            serde_json::Value::Array(items) => items.iter_mut().for_each(|v| self.redact_value(v)),
            serde_json::Value::Object(members) => {
                let redacted = std::mem::take(members)
                    .into_iter()
                    .map(|(k, mut v)| {
                        self.redact_value(&mut v);
                        (self.redact(&k), v)
                    })
                    .collect();
                *members = redacted;
            }
            _ => {}
        }
    }
}

fn is_json(response: &HttpResponse) -> bool {
    response
        .header("content-type")
        .map(|ct| ct.to_ascii_lowercase().contains("json"))
        .unwrap_or(false)
}

fn auth_remediation(credentials: &Credentials) -> &'static str {
    match credentials {
        Credentials::Pat(_) => {
            "the personal access token is wrong, expired, revoked, made for another organization, or lacks a scope this call needs (a token without Work Items is refused with the same 401): create a new one in this organization (User settings → Personal access tokens) with the Work Items (Read & write) scope"
        }
        Credentials::AccessToken(_) => {
            "the access token is invalid or expired: obtain a new one for the Azure DevOps resource (499b84ac-1321-427f-aa17-267ca6975798)"
        }
        Credentials::ClientCredentials { .. } | Credentials::RefreshToken { .. } => {
            "Entra ID issued a token, but Azure DevOps does not accept it: add the service principal to the organization (Organization settings → Users → Add, using the service principal's object id), give it an access level and access to the project, and check that the organization is connected to the same tenant"
        }
    }
}

/// `Ok` for a 2xx JSON answer; otherwise the typed error it stands for.
/// `authorization` is the `Authorization` header value the request carried:
/// the error never shows it, nor any secret of `credentials`.
pub fn classify(
    response: &HttpResponse,
    credentials: &Credentials,
    authorization: &str,
) -> Result<(), ConnectorError> {
    let status = response.status;
    // 203 and 3xx are ADO's sign-in page: the credentials were not accepted.
    if status == 203
        || (300..400).contains(&status)
        || ((200..300).contains(&status) && status != 204 && !is_json(response))
    {
        return Err(ConnectorError::Unauthorized(Problem::new(
            format!(
                "Azure DevOps answered with a sign-in page (HTTP {status}) instead of data: the {} was not accepted",
                credentials.kind()
            ),
            auth_remediation(credentials),
        )));
    }
    if (200..300).contains(&status) {
        return Ok(());
    }
    let mut envelope = if is_json(response) {
        Envelope::parse(&response.body)
    } else {
        Envelope::default()
    };
    let redactor = Redactor::new(credentials, authorization);
    envelope.message = redactor.redact(&envelope.message);
    envelope.type_key = envelope.type_key.map(|k| redactor.redact(&k));
    if let Some(props) = envelope.custom_properties.as_mut() {
        redactor.redact_value(props);
    }
    let code = envelope.code();
    let message = if envelope.message.is_empty() {
        format!("HTTP {status}")
    } else {
        envelope.message.clone()
    };
    Err(match status {
        401 => ConnectorError::Unauthorized(Problem::new(
            format!("Azure DevOps refused the {}: {message}", credentials.kind()),
            auth_remediation(credentials),
        )),
        403 => ConnectorError::Forbidden(Problem::new(
            message,
            "the identity is authenticated but lacks a permission or scope: grant it access to the project, or give the token the Work Items (Read & write) scope",
        )),
        404 => ConnectorError::NotFound(Problem::new(
            message,
            "check the organization URL, project and work item type names",
        )),
        409 => ConnectorError::Conflict(Problem::new(
            message,
            "someone else changed the same resource: read it again and retry",
        )),
        412 => ConnectorError::Conflict(Problem::new(
            message,
            "the work item changed since it was last read (stale revision): read it again and merge",
        )),
        429 => {
            let secs = super::retry_after(response).unwrap_or(60);
            ConnectorError::RateLimited(u32::try_from(secs).unwrap_or(u32::MAX))
        }
        400 => rule_error(&envelope, &message).unwrap_or(ConnectorError::Remote {
            status,
            code,
            message,
        }),
        _ => ConnectorError::Remote {
            status,
            code,
            message,
        },
    })
}

/// ADO's field rule errors (TF401320, TF51535, an unknown identity...)
/// become validation issues naming the field, so a person sees which field
/// is wrong.
fn rule_error(envelope: &Envelope, message: &str) -> Option<ConnectorError> {
    let code = envelope.code().unwrap_or_default();
    let from_props = envelope
        .custom_properties
        .as_ref()
        .and_then(|p| p.get("FieldReferenceName"))
        .and_then(|v| v.as_str())
        .map(str::to_string);
    let (field, rule) = match code.as_str() {
        "TF401320" => {
            let named = between(message, "Rule Error for field ", ".");
            (from_props.or(named)?, "rule-error")
        }
        "TF51535" => (
            from_props.or_else(|| between(message, "Cannot find field ", "."))?,
            "unknown-field",
        ),
        // An unknown identity has no TF code, and no public answer shows
        // its `customProperties` (emulator/FIDELITY.md); the message Microsoft's
        // CLI prints names the field by its display name.
        _ => (
            from_props.or_else(|| unknown_identity_field(message))?,
            "rule-error",
        ),
    };
    Some(ConnectorError::Validation(vec![Issue::new(
        field,
        rule,
        message.to_string(),
    )]))
}

/// The field named by ADO's "The identity value '{value}' for field
/// '{field}' is an unknown identity." (Azure/azure-devops-cli-extension#272).
fn unknown_identity_field(message: &str) -> Option<String> {
    let start = message.rfind(" for field '")? + " for field '".len();
    let rest = &message[start..];
    let name = rest.strip_suffix("' is an unknown identity.")?;
    Some(name.to_string()).filter(|n| !n.is_empty())
}

fn between(text: &str, start: &str, end: &str) -> Option<String> {
    let rest = &text[text.find(start)? + start.len()..];
    let stop = rest.find(end).unwrap_or(rest.len());
    Some(rest[..stop].trim().to_string()).filter(|s| !s.is_empty())
}
