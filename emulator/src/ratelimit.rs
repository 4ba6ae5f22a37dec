//! Per-identity rate limiting as Azure DevOps documents it (rate-limits
//! page): usage is counted per identity over a sliding window; near the
//! limit answers carry `X-RateLimit-Resource`, `-Limit`, `-Remaining` and
//! `-Reset`; over it requests are delayed (`X-RateLimit-Delay`,
//! `Retry-After`); far over it they are blocked with 429 and TF400733.
//!
//! ADO counts TSTUs, a cost per request it does not publish; the emulator
//! counts one unit per request [unverified]. Off unless configured.

use std::collections::{HashMap, VecDeque};
use std::sync::Mutex;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use axum::extract::Request;
use axum::http::{HeaderMap, HeaderName, HeaderValue, StatusCode};
use axum::middleware::Next;
use axum::response::Response;

use crate::errors::envelope;

/// The budget of each identity.
#[derive(Debug, Clone)]
pub struct RateLimit {
    /// Units allowed in the window before requests are delayed
    /// (`X-RateLimit-Limit`; ADO's is 200 TSTUs per 5 minutes).
    pub limit: u32,
    /// Usage from which the headers are sent, before any delay [doc: "sent
    /// before delays begin"]. [unverified] ADO's threshold.
    pub warn_at: u32,
    /// Usage from which requests are blocked with 429. [unverified] ADO's.
    pub block_at: u32,
    /// The sliding window (ADO: 5 minutes).
    pub window: Duration,
    /// How long a request over `limit` is held back.
    pub delay: Duration,
}

impl Default for RateLimit {
    fn default() -> Self {
        RateLimit {
            limit: 200,
            warn_at: 100,
            block_at: 400,
            window: Duration::from_secs(300),
            delay: Duration::from_millis(500),
        }
    }
}

/// [unverified] what ADO names as the resource; "display text only" [doc].
pub const RESOURCE: &str = "Core";

/// Usage per identity.
#[derive(Debug)]
pub struct Limiter {
    pub config: Option<RateLimit>,
    usage: Mutex<HashMap<String, VecDeque<Instant>>>,
}

/// What the limiter decided for one request.
#[derive(Debug, Default)]
struct Verdict {
    headers: Vec<(&'static str, String)>,
    delay: Option<Duration>,
    blocked: bool,
}

fn epoch_after(d: Duration) -> u64 {
    (SystemTime::now() + d)
        .duration_since(UNIX_EPOCH)
        .map(|t| t.as_secs())
        .unwrap_or_default()
}

fn ceil_secs(d: Duration) -> u64 {
    d.as_millis().div_ceil(1000).max(1) as u64
}

impl Limiter {
    pub fn new(config: Option<RateLimit>) -> Limiter {
        Limiter {
            config,
            usage: Mutex::new(HashMap::new()),
        }
    }

    fn judge(&self, who: &str) -> Verdict {
        let Some(c) = &self.config else {
            return Verdict::default();
        };
        let now = Instant::now();
        let mut usage = self.usage.lock().unwrap_or_else(|e| e.into_inner());
        let seen = usage.entry(who.to_string()).or_default();
        while seen
            .front()
            .is_some_and(|t| now.duration_since(*t) >= c.window)
        {
            seen.pop_front();
        }
        let blocked = seen.len() as u32 >= c.block_at;
        if !blocked {
            seen.push_back(now);
        }
        let used = seen.len() as u32;
        if used <= c.warn_at && !blocked {
            return Verdict::default();
        }
        // Usage is back to 0 once the newest unit leaves the window.
        let reset = epoch_after(
            seen.back()
                .map(|t| c.window.saturating_sub(now.duration_since(*t)))
                .unwrap_or_default(),
        );
        let mut v = Verdict {
            headers: vec![
                ("x-ratelimit-resource", RESOURCE.to_string()),
                ("x-ratelimit-limit", c.limit.to_string()),
                (
                    "x-ratelimit-remaining",
                    c.limit.saturating_sub(used).to_string(),
                ),
                ("x-ratelimit-reset", reset.to_string()),
            ],
            delay: None,
            blocked,
        };
        if used > c.limit || blocked {
            // Wait until enough units leave the window to be under the limit again.
            let excess = (used - c.limit.min(used)) as usize;
            let wait = seen
                .get(excess.saturating_sub(1))
                .map(|t| c.window.saturating_sub(now.duration_since(*t)))
                .unwrap_or(c.window);
            v.headers.push(("retry-after", ceil_secs(wait).to_string()));
            if !blocked {
                v.delay = Some(c.delay);
                v.headers
                    .push(("x-ratelimit-delay", format!("{:.3}", c.delay.as_secs_f64())));
            }
        }
        v
    }
}

/// 429 with TF400733, in ADO's envelope [doc: "a message similar to" this
/// text]; type key `RequestBlockedException` [ms-code: ADO's blocked answer
/// quoted in full in microsoft/vscode#155632].
pub fn blocked_response() -> Response {
    envelope(
        StatusCode::TOO_MANY_REQUESTS,
        &format!(
            "TF400733: The request has been canceled: Request was blocked due to exceeding usage of resource '{RESOURCE}' in namespace 'User'."
        ),
        "RequestBlockedException",
    )
}

fn add_headers(headers: &mut HeaderMap, list: &[(&'static str, String)]) {
    for (k, v) in list {
        if let Ok(v) = HeaderValue::from_str(v) {
            // HTTP header names are case-insensitive; hyper sends them lowercase.
            headers.insert(HeaderName::from_static(k), v);
        }
    }
}

/// The rate limit layer around the REST routes. Unauthenticated calls are
/// not counted: the route answers them 401 anyway.
///
/// `caller_id`: the id of the authenticated caller of these headers, if any.
pub async fn layer(
    limiter: &Limiter,
    caller_id: impl FnOnce(&HeaderMap) -> Option<String>,
    request: Request,
    next: Next,
) -> Response {
    if limiter.config.is_none() {
        return next.run(request).await;
    }
    let Some(caller_id) = caller_id(request.headers()) else {
        return next.run(request).await;
    };
    let verdict = limiter.judge(&caller_id);
    if verdict.blocked {
        let mut r = blocked_response();
        add_headers(r.headers_mut(), &verdict.headers);
        return r;
    }
    if let Some(d) = verdict.delay {
        tokio::time::sleep(d).await;
    }
    let mut response = next.run(request).await;
    add_headers(response.headers_mut(), &verdict.headers);
    response
}
