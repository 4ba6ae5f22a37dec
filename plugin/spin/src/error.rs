//! The API's errors: a stable `code`, the HTTP status that goes with it, a
//! message naming the field or value at fault (never a secret), and the
//! issues of a validation.

use ado_connector_core::Issue;
use serde::Serialize;

use crate::platform::{ApiResponse, StoreError};
use crate::settings::SettingsError;

/// The JSON body of every error: `{"error": {...}}`.
#[derive(Debug, Clone, Serialize)]
pub struct ErrorBody {
    pub code: &'static str,
    pub message: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub remediation: Option<String>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub issues: Vec<Issue>,
    /// The status ADO answered, for `ado_error`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub ado_status: Option<u16>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub retry_after: Option<u32>,
}

/// An error answer.
#[derive(Debug, Clone)]
pub struct ApiError {
    pub status: u16,
    pub body: Box<ErrorBody>,
    /// `WWW-Authenticate` challenge for 401s.
    pub challenge: Option<&'static str>,
}

#[derive(Serialize)]
struct Envelope<'a> {
    error: &'a ErrorBody,
}

impl ApiError {
    pub fn new(status: u16, code: &'static str, message: impl Into<String>) -> ApiError {
        ApiError {
            status,
            body: Box::new(ErrorBody {
                code,
                message: message.into(),
                remediation: None,
                issues: Vec::new(),
                ado_status: None,
                retry_after: None,
            }),
            challenge: None,
        }
    }

    pub fn remediation(mut self, text: impl Into<String>) -> ApiError {
        self.body.remediation = Some(text.into());
        self
    }

    pub fn issues(mut self, issues: Vec<Issue>) -> ApiError {
        self.body.issues = issues;
        self
    }

    /// A missing or wrong bearer token.
    pub fn unauthorized(message: &str) -> ApiError {
        ApiError {
            challenge: Some("Bearer realm=\"ado-connector\""),
            ..ApiError::new(401, "unauthorized", message)
        }
    }

    pub fn not_found(message: impl Into<String>) -> ApiError {
        ApiError::new(404, "not_found", message)
    }

    pub fn malformed_json(e: &serde_json::Error) -> ApiError {
        ApiError::new(
            400,
            "malformed_json",
            format!("the request body is not valid JSON: {e}"),
        )
    }

    /// JSON of the wrong shape; `path` is the member at fault.
    pub fn invalid_request(path: &str, e: &serde_json::Error) -> ApiError {
        let path = if path.is_empty() || path == "." {
            "body".to_string()
        } else {
            path.to_string()
        };
        ApiError::new(422, "invalid_request", format!("{path}: {e}")).issues(vec![Issue::new(
            path,
            "schema",
            e.to_string(),
        )])
    }

    pub fn response(&self) -> ApiResponse {
        let mut r = ApiResponse::json(self.status, &Envelope { error: &self.body });
        if let Some(after) = self.body.retry_after {
            r = r.with_header("retry-after", &after.to_string());
        }
        if let Some(challenge) = self.challenge {
            r = r.with_header("www-authenticate", challenge);
        }
        r
    }
}

impl From<SettingsError> for ApiError {
    fn from(e: SettingsError) -> ApiError {
        let name = match &e {
            SettingsError::Missing(name) | SettingsError::Invalid { name, .. } => *name,
        };
        ApiError::new(500, "misconfigured", e.to_string()).remediation(format!(
            "set the variable `{name}` (SPIN_VARIABLE_{} in spin up's environment, or the \
             runtime config's variables provider; not --variable for a secret: a command \
             line is readable by every user of the machine)",
            name.to_ascii_uppercase()
        ))
    }
}

impl From<StoreError> for ApiError {
    fn from(e: StoreError) -> ApiError {
        ApiError::new(503, "store_unavailable", e.to_string())
            .remediation("check the key-value store of the component (runtime config)")
    }
}
