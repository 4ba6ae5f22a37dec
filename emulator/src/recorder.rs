//! A recording forwarder for the live conformance suite: it listens on
//! 127.0.0.1, sends every request on to a real Azure DevOps organization
//! (or to an emulator) unchanged, and keeps each exchange (method, path,
//! request body, status, response body) for the suite to scrub and store.
//! The upstream's origin in answers is rewritten to the forwarder's, and
//! back in requests, so a client following a URL from an answer stays on
//! the record. Headers are passed on but never kept: they carry the
//! caller's credentials.
//!
//! It lives here because it shares the emulator's HTTP stack (axum on
//! tokio, reqwest with rustls); it emulates nothing.

use std::net::SocketAddr;
use std::sync::{Arc, Mutex};

use anyhow::Context as _;
use axum::body::{Body, Bytes};
use axum::extract::{Request, State};
use axum::http::{HeaderMap, HeaderName, StatusCode};
use axum::response::{IntoResponse, Response};

/// One request and its answer.
#[derive(Debug, Clone, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Exchange {
    pub method: String,
    /// Path and query, as sent to the forwarder.
    pub path: String,
    /// The request body as text (JSON bodies), `None` when empty or binary.
    pub request_body: Option<String>,
    pub status: u16,
    pub content_type: Option<String>,
    /// The answer as text, `None` when empty or binary.
    pub response_body: Option<String>,
}

struct Shared {
    upstream: String,
    own: Mutex<String>,
    client: reqwest::Client,
    log: Mutex<Vec<Exchange>>,
}

/// A running forwarder; dropping it stops it.
pub struct Recorder {
    shared: Arc<Shared>,
    addr: SocketAddr,
    _server: crate::background::Background,
}

impl std::fmt::Debug for Recorder {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Recorder")
            .field("addr", &self.addr)
            .finish()
    }
}

/// `scheme://host[:port]` of a URL.
fn origin(url: &str) -> anyhow::Result<String> {
    let u = url::Url::parse(url).with_context(|| format!("`{url}` is not a URL"))?;
    Ok(u.origin().ascii_serialization())
}

fn text(bytes: &[u8]) -> Option<String> {
    if bytes.is_empty() {
        return None;
    }
    std::str::from_utf8(bytes).ok().map(str::to_string)
}

const HOP: &[&str] = &[
    "host",
    "connection",
    "content-length",
    "transfer-encoding",
    "keep-alive",
    "upgrade",
];

async fn forward(State(s): State<Arc<Shared>>, req: Request) -> Response {
    let own = s.own.lock().unwrap_or_else(|e| e.into_inner()).clone();
    let method = req.method().clone();
    let path = req
        .uri()
        .path_and_query()
        .map(|p| p.as_str().to_string())
        .unwrap_or_else(|| "/".into());
    let headers = req.headers().clone();
    let Ok(body) = axum::body::to_bytes(req.into_body(), 256 * 1024 * 1024).await else {
        return (StatusCode::BAD_REQUEST, "body too large").into_response();
    };
    let sent: Bytes = match text(&body) {
        Some(t) => Bytes::from(t.replace(&own, &s.upstream)),
        None => body.clone(),
    };
    let mut out = s
        .client
        .request(method.clone(), format!("{}{path}", s.upstream));
    for (k, v) in &headers {
        if !HOP.contains(&k.as_str()) {
            out = out.header(k, v);
        }
    }
    let answer = match out.body(sent).send().await {
        Ok(a) => a,
        Err(e) => {
            return (StatusCode::BAD_GATEWAY, format!("forwarding failed: {e}")).into_response();
        }
    };
    let status = answer.status();
    let mut back = HeaderMap::new();
    for (k, v) in answer.headers() {
        if !HOP.contains(&k.as_str()) {
            back.insert(HeaderName::from(k), v.clone());
        }
    }
    let bytes = answer.bytes().await.unwrap_or_default();
    let shown = text(&bytes).map(|t| t.replace(&s.upstream, &own));
    let content_type = back
        .get("content-type")
        .and_then(|v| v.to_str().ok())
        .map(str::to_string);
    s.log
        .lock()
        .unwrap_or_else(|e| e.into_inner())
        .push(Exchange {
            method: method.to_string(),
            path,
            request_body: text(&body),
            status: status.as_u16(),
            content_type,
            response_body: shown.clone(),
        });
    let body = match shown {
        Some(t) => Body::from(t),
        None => Body::from(bytes),
    };
    let mut response = Response::new(body);
    *response.status_mut() = status;
    *response.headers_mut() = back;
    response
}

impl Recorder {
    /// Forwards to the origin of `upstream` (an organization URL); the
    /// organization's path stays in the requests.
    pub fn start(upstream: &str) -> anyhow::Result<Recorder> {
        let upstream = origin(upstream)?;
        let listener =
            std::net::TcpListener::bind(("127.0.0.1", 0)).context("binding 127.0.0.1")?;
        let addr = listener.local_addr()?;
        let shared = Arc::new(Shared {
            upstream,
            own: Mutex::new(format!("http://{addr}")),
            client: reqwest::Client::builder()
                .redirect(reqwest::redirect::Policy::none())
                .build()?,
            log: Mutex::new(Vec::new()),
        });
        let app = axum::Router::new()
            .fallback(forward)
            .with_state(shared.clone());
        let server = crate::background::Background::spawn(
            "ado-recorder",
            listener,
            |listener, stop| async move {
                let _ = axum::serve(listener, app)
                    .with_graceful_shutdown(async {
                        let _ = stop.await;
                    })
                    .await;
            },
        )?;
        Ok(Recorder {
            shared,
            addr,
            _server: server,
        })
    }

    /// `http://127.0.0.1:PORT`, standing in for the upstream's origin.
    pub fn base_url(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// The upstream origin requests go to.
    pub fn upstream(&self) -> &str {
        &self.shared.upstream
    }

    /// The exchanges so far, oldest first; the log is emptied.
    pub fn take(&self) -> Vec<Exchange> {
        std::mem::take(&mut *self.shared.log.lock().unwrap_or_else(|e| e.into_inner()))
    }
}
