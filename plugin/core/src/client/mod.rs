//! The one Azure DevOps REST client: every call to ADO goes through here, so
//! the rules of the house (auth header, redirect suppression, pinned
//! api-version, auth-failure detection, throttling) hold everywhere.
//!
//! Retries depend on what a request does ([`Kind`]). A 429 is ADO refusing
//! before it ran anything (its rate-limit documentation: the request "was
//! blocked"), so any request is sent again after its `Retry-After`. A
//! 502/503/504, a reset or a timeout is different for a write: Azure
//! DevOps sits behind Azure Front Door, which answers 502/503/504 itself
//! while the backend may still finish the request, so the write may have
//! been committed. A [`Kind::Write`] is therefore never sent again here:
//! the error goes back to the operation, marked [`uncertain`], and the
//! operation's retry first establishes what happened (a create looks for
//! the work item by the ticket's tag, a comment for its reference marker,
//! a findings file for its digest on the work item, a `$batch` re-reads
//! the states) and sends again only what is not there.

mod classify;
pub mod transport;
pub mod version;

pub use transport::transport_error;

use std::time::Duration;

use serde::de::DeserializeOwned;

use crate::auth::Authenticator;
use crate::env::{Env, HttpRequest, HttpResponse, Method};
use crate::error::ConnectorError;
use crate::model::Connection;
use crate::target::Target;

pub use classify::{Envelope, classify};

/// What a request does to Azure DevOps, which decides whether the client
/// may send it again by itself.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    /// Changes nothing, or changes it to the same end however often it is
    /// sent: GET, the POSTs that only query (WIQL, `workitemsbatch`,
    /// `validateOnly`), PUT and DELETE of a named resource. Retried after a
    /// 429 and after a 502/503/504.
    Idempotent,
    /// Makes something new each time it is sent (POST of a work item, a
    /// comment, an upload, a subscription) or appends to history (PATCH,
    /// `$batch`). Retried after a 429 only; see the module docs.
    Write,
}

impl Kind {
    /// The kind a method has unless the call says otherwise: POST and
    /// PATCH write; a POST that only reads goes through [`Client::query`].
    pub fn of(method: Method) -> Kind {
        match method {
            Method::Post | Method::Patch => Kind::Write,
            _ => Kind::Idempotent,
        }
    }
}

/// Whether ADO may have applied a write whose answer was an error: no
/// answer (timeout, reset) or a server-side 5xx, which a front door gives
/// while the backend goes on. Such an outcome is established, not assumed.
pub fn uncertain(e: &ConnectorError) -> bool {
    matches!(
        e,
        ConnectorError::Transport(_)
            | ConnectorError::Remote {
                status: 500..=599,
                ..
            }
    )
}

/// Attempts per request when ADO asks us to wait (429/503 with `Retry-After`).
const MAX_ATTEMPTS: u32 = 3;
/// Longest `Retry-After` we wait out inside one call; longer waits go back to
/// the caller as `rate-limited` so the host can schedule the retry.
const MAX_INLINE_WAIT_SECS: u64 = 10;
/// Wait before retrying a 502/503/504 that gave no `Retry-After`.
const DEFAULT_503_WAIT_SECS: u64 = 1;

/// A client bound to one connection.
pub struct Client<'a> {
    env: &'a dyn Env,
    target: Target,
    auth: Authenticator<'a>,
    connection: &'a Connection,
    /// The newest api-version the server serves, once it named one (`version`).
    ceiling: std::cell::Cell<Option<version::ApiVersion>>,
}

impl<'a> Client<'a> {
    pub fn new(env: &'a dyn Env, connection: &'a Connection) -> Result<Self, ConnectorError> {
        let target = Target::parse(&connection.base_url)?;
        // Services serves the pinned version; only a Server may have named a lower one.
        let ceiling = match target.deployment() {
            crate::target::Deployment::Server => version::remembered(env, target.base()),
            crate::target::Deployment::Services => None,
        };
        Ok(Client {
            env,
            target,
            auth: Authenticator::new(env, &connection.credentials),
            connection,
            ceiling: std::cell::Cell::new(ceiling),
        })
    }

    /// The api-version the pinned one becomes on this server.
    pub fn api_version(&self) -> String {
        match self.ceiling.get() {
            Some(c) if version::ApiVersion::parse(crate::target::API_VERSION) > Some(c) => {
                c.to_string()
            }
            _ => crate::target::API_VERSION.to_string(),
        }
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

    /// POSTs a query (WIQL, `workitemsbatch`, `validateOnly`): a POST that
    /// changes nothing, so it is retried like a read.
    pub fn query<T: DeserializeOwned>(
        &self,
        url: &str,
        content_type: &str,
        body: &serde_json::Value,
    ) -> Result<T, ConnectorError> {
        let bytes = serde_json::to_vec(body).map_err(|e| ConnectorError::Other(e.to_string()))?;
        let response = self.execute_as(
            Kind::Idempotent,
            Method::Post,
            url,
            Some(content_type),
            bytes,
        )?;
        decode(&response, url)
    }

    /// Sends a JSON body and decodes the JSON answer; retried as
    /// [`Kind::of`] the method says.
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

    /// One logical request of the method's [`Kind`]: see [`Client::execute_as`].
    pub fn execute(
        &self,
        method: Method,
        url: &str,
        content_type: Option<&str>,
        body: Vec<u8>,
    ) -> Result<HttpResponse, ConnectorError> {
        self.execute_as(Kind::of(method), method, url, content_type, body)
    }

    /// One logical request: auth, retries as its `kind` allows, and
    /// classification of the answer. Returns only 2xx JSON responses.
    pub fn execute_as(
        &self,
        kind: Kind,
        method: Method,
        url: &str,
        content_type: Option<&str>,
        body: Vec<u8>,
    ) -> Result<HttpResponse, ConnectorError> {
        let mut refreshed = false;
        let mut attempt = 1;
        // At the server's api-version, if it named one lower than ours.
        let mut url = self
            .ceiling
            .get()
            .and_then(|c| version::lowered(url, c))
            .unwrap_or_else(|| url.to_string());
        let url = &mut url;
        loop {
            let authorization = self.auth.header()?;
            let mut headers = vec![
                ("Authorization".to_string(), authorization.clone()),
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
            // A Server older than the pinned version names its own: ask again with it.
            if let Some(ceiling) = version::ceiling_of(&response)
                && let Some(lower) = version::lowered(url, ceiling)
            {
                version::supported(ceiling, self.target.base())?;
                version::remember(self.env, self.target.base(), ceiling);
                self.ceiling.set(Some(ceiling));
                *url = lower;
                continue;
            }
            match classify(&response, &self.connection.credentials, &authorization) {
                Ok(()) => return Ok(response),
                Err(ConnectorError::Unauthorized(_)) if self.auth.can_refresh() && !refreshed => {
                    // A cached token may have been revoked early: one fresh try.
                    self.auth.invalidate();
                    refreshed = true;
                }
                Err(err) => {
                    let wait = retry_after(&response);
                    // A 429 ran nothing; a gateway error may have run a write.
                    let gateway = matches!(response.status, 502..=504);
                    let retryable = response.status == 429 || (gateway && kind == Kind::Idempotent);
                    let wait = wait.or(gateway.then_some(DEFAULT_503_WAIT_SECS));
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
