//! The one Azure DevOps REST client: every call to ADO goes through here, so
//! the rules of the house (auth header, redirect suppression, pinned
//! api-version, auth-failure detection, throttling) hold everywhere.

mod classify;

use std::time::Duration;

use serde::de::DeserializeOwned;

use crate::auth::Authenticator;
use crate::env::{Env, HttpError, HttpRequest, HttpResponse, Method};
use crate::error::ConnectorError;
use crate::model::Connection;
use crate::target::Target;

pub use classify::{Envelope, classify};

/// Attempts per request when ADO asks us to wait (429/503 with `Retry-After`).
const MAX_ATTEMPTS: u32 = 3;
/// Longest `Retry-After` we wait out inside one call; longer waits go back to
/// the caller as `rate-limited` so the host can schedule the retry.
const MAX_INLINE_WAIT_SECS: u64 = 10;
/// Wait before retrying a 503 that gave no `Retry-After`.
const DEFAULT_503_WAIT_SECS: u64 = 1;

/// A client bound to one connection.
pub struct Client<'a> {
    env: &'a dyn Env,
    target: Target,
    auth: Authenticator<'a>,
    connection: &'a Connection,
}

/// Maps a host transport failure to the connector's error.
pub fn transport_error(err: HttpError, url: &str) -> ConnectorError {
    let without_query = url.split('?').next().unwrap_or(url);
    match err {
        HttpError::Denied(reason) => ConnectorError::Denied(reason),
        HttpError::Timeout => ConnectorError::Transport(format!(
            "no answer from {without_query} before the deadline"
        )),
        HttpError::Transport(reason) => {
            ConnectorError::Transport(format!("{without_query}: {reason}"))
        }
        HttpError::TooLarge => ConnectorError::Transport(format!(
            "the response of {without_query} was larger than the host allows"
        )),
        HttpError::Other(reason) => ConnectorError::Other(reason),
    }
}

impl<'a> Client<'a> {
    pub fn new(env: &'a dyn Env, connection: &'a Connection) -> Result<Self, ConnectorError> {
        let target = Target::parse(&connection.base_url)?;
        Ok(Client {
            env,
            target,
            auth: Authenticator::new(env, &connection.credentials),
            connection,
        })
    }

    pub fn target(&self) -> &Target {
        &self.target
    }

    pub fn connection(&self) -> &Connection {
        self.connection
    }

    pub fn env(&self) -> &'a dyn Env {
        self.env
    }

    /// GET and decode a JSON answer.
    pub fn get<T: DeserializeOwned>(&self, url: &str) -> Result<T, ConnectorError> {
        let response = self.execute(Method::Get, url, None, Vec::new())?;
        decode(&response, url)
    }

    /// Sends a JSON body and decodes the JSON answer.
    pub fn send<T: DeserializeOwned>(
        &self,
        method: Method,
        url: &str,
        content_type: &str,
        body: &serde_json::Value,
    ) -> Result<T, ConnectorError> {
        let bytes = serde_json::to_vec(body).map_err(|e| ConnectorError::Other(e.to_string()))?;
        let response = self.execute(method, url, Some(content_type), bytes)?;
        decode(&response, url)
    }

    /// One logical request: auth, retries on throttling, and classification of
    /// the answer. Returns only 2xx JSON responses.
    pub fn execute(
        &self,
        method: Method,
        url: &str,
        content_type: Option<&str>,
        body: Vec<u8>,
    ) -> Result<HttpResponse, ConnectorError> {
        let mut refreshed = false;
        let mut attempt = 1;
        loop {
            let mut headers = vec![
                ("Authorization".to_string(), self.auth.header()?),
                ("Accept".to_string(), "application/json".to_string()),
                // Without it ADO answers bad credentials with a 203/302 sign-in page.
                ("X-TFS-FedAuthRedirect".to_string(), "Suppress".to_string()),
            ];
            if let Some(ct) = content_type {
                headers.push(("Content-Type".to_string(), ct.to_string()));
            }
            let request = HttpRequest {
                method,
                url: url.to_string(),
                headers,
                body: body.clone(),
            };
            let response = self
                .env
                .send(request)
                .map_err(|e| transport_error(e, url))?;
            match classify(&response, &self.connection.credentials) {
                Ok(()) => return Ok(response),
                Err(ConnectorError::Unauthorized(_)) if self.auth.can_refresh() && !refreshed => {
                    // A cached token may have been revoked early: one fresh try.
                    self.auth.invalidate();
                    refreshed = true;
                }
                Err(err) => {
                    let wait = retry_after(&response);
                    let retryable = matches!(response.status, 429 | 503);
                    let wait = wait.or((response.status == 503).then_some(DEFAULT_503_WAIT_SECS));
                    match (retryable, wait) {
                        (true, Some(secs))
                            if attempt < MAX_ATTEMPTS && secs <= MAX_INLINE_WAIT_SECS =>
                        {
                            self.env.sleep(Duration::from_secs(secs));
                            attempt += 1;
                        }
                        _ => return Err(err),
                    }
                }
            }
        }
    }
}

/// `Retry-After` in whole seconds (ADO sends seconds; an HTTP date is not used).
pub fn retry_after(response: &HttpResponse) -> Option<u64> {
    response
        .header("retry-after")
        .and_then(|v| v.trim().parse::<f64>().ok())
        .map(|s| s.max(0.0).ceil() as u64)
}

/// Decodes a JSON answer (a UTF-8 BOM allowed); the error names the URL
/// without its query.
pub fn decode<T: DeserializeOwned>(
    response: &HttpResponse,
    url: &str,
) -> Result<T, ConnectorError> {
    let body = response
        .body
        .strip_prefix(b"\xEF\xBB\xBF")
        .unwrap_or(&response.body);
    serde_json::from_slice(body).map_err(|e| {
        ConnectorError::Other(format!(
            "unexpected answer from {}: {}",
            url.split('?').next().unwrap_or(url),
            shape_error(&e)
        ))
    })
}

/// What is wrong with an answer, without quoting it: serde's message quotes
/// the value at fault (`invalid type: string "..."`), and an answer may
/// echo a credential. A missing field names only our own type's member.
fn shape_error(e: &serde_json::Error) -> String {
    use serde_json::error::Category;
    let message = e.to_string();
    let what = match e.classify() {
        Category::Data if message.starts_with("missing field") => message
            .split(" at line")
            .next()
            .unwrap_or_default()
            .to_string(),
        Category::Data => "a value of the wrong type or shape".to_string(),
        Category::Syntax => "not valid JSON".to_string(),
        Category::Eof => "the JSON ends early".to_string(),
        Category::Io => "unreadable".to_string(),
    };
    format!("{what} at line {} column {}", e.line(), e.column())
}

#[cfg(test)]
mod tests;
