//! The webhook server's first look at a delivery, before the plugin sees
//! it: its media type and its size.
//!
//! **Size.** Azure DevOps documents no size for a service-hook delivery,
//! but it documents what goes into one: a long-text field holds up to one
//! million characters ("Work tracking, process, and project limits",
//! learn.microsoft.com/azure/devops/organizations/settings/work/object-limits:
//! "Long text field: 1M characters"), and a `workitem.updated` sent with
//! `resourceDetailsToSend: all` (what `subscribe` asks for, since the
//! `from_ado` rules read the fields) carries a changed field's old and new
//! value and the whole revision, every other long-text field included
//! ("Service hooks events", learn.microsoft.com/azure/devops/service-hooks/
//! events#workitem.updated). A Bug's Repro Steps changed in full is three
//! million characters, its Description, System Info and Acceptance Criteria
//! three more: six million characters, up to three bytes each in UTF-8,
//! is 18 MB before JSON's escapes. The limit is 32 MiB
//! ([`DEFAULT_BODY_LIMIT`]); `serve --body-limit` changes it. The old 1 MiB
//! refused a 350,000-character field and lost every later change of that
//! work item once ADO put the subscription on probation.
//!
//! The body is read into one buffer sized by `Content-Length` (no copy
//! while it grows), moved, not copied, to the plugin's check and then to
//! the inbox; a body past the limit is refused as soon as the limit is
//! passed, without reading the rest.
//!
//! **Refusals are logged** with the endpoint (so the outegration), the
//! size, and the subscription (read from the start of the body, where ADO
//! writes `subscriptionId`), never a header value.

use axum::body::Body;
use axum::http::{HeaderMap, header};
use http_body_util::BodyExt as _;

/// Default largest accepted body: 32 MiB (see the module docs).
pub const DEFAULT_BODY_LIMIT: usize = 32 << 20;

/// How much of a refused body is kept to find its subscription.
const HEAD: usize = 4096;

/// Why a delivery is refused before the plugin sees it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Refusal {
    /// Not `application/json` (or `…+json`): 415.
    NotJson { content_type: Option<String> },
    /// Past the limit: 413. `bytes` is the declared length when there was
    /// one, else what was read before giving up (a lower bound).
    TooLarge {
        bytes: usize,
        declared: bool,
        limit: usize,
        subscription: Option<String>,
    },
    /// The connection broke while the body was read.
    Broken(String),
}

impl Refusal {
    /// The log line's message: what was refused and why, with the size and
    /// the subscription; no header value but the media type.
    pub fn describe(&self) -> String {
        match self {
            Refusal::NotJson { content_type } => format!(
                "delivery refused (415): Content-Type is {}, not application/json",
                content_type
                    .as_deref()
                    .map_or("missing".to_string(), |c| format!("`{c}`"))
            ),
            Refusal::TooLarge {
                bytes,
                declared,
                limit,
                subscription,
            } => format!(
                "delivery refused (413): {}{bytes} bytes, the limit is {limit} (serve --body-limit); subscription {}",
                if *declared { "" } else { "more than " },
                subscription.as_deref().unwrap_or("unknown")
            ),
            Refusal::Broken(e) => {
                format!("delivery refused (400): the body could not be read: {e}")
            }
        }
    }
}

/// Whether the media type is JSON: `application/json` or a `+json` type,
/// any parameters (`charset=utf-8`, as ADO sends) allowed.
pub fn check_json(headers: &HeaderMap) -> Result<(), Refusal> {
    let value = headers
        .get(header::CONTENT_TYPE)
        .map(|v| String::from_utf8_lossy(v.as_bytes()).into_owned());
    let essence = value
        .as_deref()
        .and_then(|v| v.split(';').next())
        .map(|v| v.trim().to_ascii_lowercase());
    match essence.as_deref() {
        Some("application/json") => Ok(()),
        Some(t) if t.starts_with("application/") && t.ends_with("+json") => Ok(()),
        _ => Err(Refusal::NotJson {
            content_type: value.map(|v| v.chars().take(100).collect()),
        }),
    }
}

/// The declared `Content-Length`, if it is a number.
pub fn declared_length(headers: &HeaderMap) -> Option<usize> {
    headers
        .get(header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.trim().parse().ok())
}

/// Reads the body into one buffer, refusing it once it passes `limit`.
pub async fn read_limited(
    mut body: Body,
    declared: Option<usize>,
    limit: usize,
) -> Result<Vec<u8>, Refusal> {
    let too_large = |bytes: usize, declared: bool, head: &[u8]| Refusal::TooLarge {
        bytes,
        declared,
        limit,
        subscription: subscription_of(head),
    };
    let mut buf: Vec<u8> = Vec::with_capacity(declared.unwrap_or(64 << 10).min(limit));
    while let Some(frame) = body.frame().await {
        let frame = frame.map_err(|e| Refusal::Broken(e.to_string()))?;
        let Ok(chunk) = frame.into_data() else {
            continue;
        };
        if let Some(n) = declared.filter(|n| *n > limit) {
            buf.extend_from_slice(&chunk[..chunk.len().min(HEAD)]);
            return Err(too_large(n, true, &buf));
        }
        if buf.len() + chunk.len() > limit {
            let read = buf.len() + chunk.len();
            let room = HEAD.saturating_sub(buf.len());
            buf.extend_from_slice(&chunk[..chunk.len().min(room)]);
            return Err(too_large(read, false, &buf));
        }
        buf.extend_from_slice(&chunk);
    }
    if let Some(n) = declared.filter(|n| *n > limit) {
        return Err(too_large(n, true, &buf));
    }
    Ok(buf)
}

/// The `subscriptionId` at the start of a delivery (ADO writes it first),
/// if it looks like a GUID; nothing else of the body is ever logged.
pub fn subscription_of(head: &[u8]) -> Option<String> {
    let text = String::from_utf8_lossy(&head[..head.len().min(HEAD)]);
    let at = text.find("\"subscriptionId\"")?;
    let rest = text[at + "\"subscriptionId\"".len()..].trim_start();
    let rest = rest.strip_prefix(':')?.trim_start().strip_prefix('"')?;
    let id = &rest[..rest.find('"')?];
    let guid = id.len() == 36 && id.chars().all(|c| c.is_ascii_hexdigit() || c == '-');
    guid.then(|| id.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn headers(content_type: Option<&str>) -> HeaderMap {
        let mut h = HeaderMap::new();
        if let Some(ct) = content_type {
            h.insert(header::CONTENT_TYPE, ct.parse().unwrap());
        }
        h
    }

    #[test]
    fn json_media_types_pass_with_or_without_parameters() {
        for ct in [
            "application/json",
            "application/json; charset=utf-8",
            "Application/JSON;charset=UTF-8",
            "application/vnd.ms+json",
        ] {
            assert_eq!(check_json(&headers(Some(ct))), Ok(()), "{ct}");
        }
    }

    #[test]
    fn anything_else_is_refused_naming_the_media_type() {
        for ct in [
            Some("text/plain"),
            Some("application/x-www-form-urlencoded"),
            Some("text/json-ish"),
            None,
        ] {
            let refused = check_json(&headers(ct)).unwrap_err();
            let line = refused.describe();
            assert!(line.contains("415"), "{line}");
            match ct {
                Some(ct) => assert!(line.contains(ct), "{line}"),
                None => assert!(line.contains("missing"), "{line}"),
            }
        }
    }

    #[test]
    fn the_subscription_is_read_from_the_start_of_the_body_and_only_a_guid() {
        let body = br#"{"subscriptionId": "1a2b3c4d-0000-4000-8000-00000000abcd","notificationId":3,"id":"x"}"#;
        assert_eq!(
            subscription_of(body).as_deref(),
            Some("1a2b3c4d-0000-4000-8000-00000000abcd")
        );
        assert_eq!(
            subscription_of(br#"{"subscriptionId":"Basic c2VjcmV0"}"#),
            None
        );
        assert_eq!(subscription_of(b"\x00\xff garbage"), None);
    }

    fn body_of(bytes: Vec<u8>) -> Body {
        Body::from(bytes)
    }

    fn run<T>(f: impl std::future::Future<Output = T>) -> T {
        tokio::runtime::Builder::new_current_thread()
            .build()
            .unwrap()
            .block_on(f)
    }

    #[test]
    fn a_body_within_the_limit_is_read_whole() {
        let bytes = vec![b'x'; 10_000];
        assert_eq!(
            run(read_limited(body_of(bytes.clone()), Some(10_000), 10_000)),
            Ok(bytes)
        );
    }

    #[test]
    fn a_body_past_the_limit_is_refused_with_its_size_and_subscription() {
        let mut bytes =
            br#"{"subscriptionId":"1a2b3c4d-0000-4000-8000-00000000abcd","resource":""#.to_vec();
        bytes.resize(50_000, b'a');
        let refused = run(read_limited(body_of(bytes.clone()), Some(50_000), 40_000)).unwrap_err();
        assert_eq!(
            refused,
            Refusal::TooLarge {
                bytes: 50_000,
                declared: true,
                limit: 40_000,
                subscription: Some("1a2b3c4d-0000-4000-8000-00000000abcd".into()),
            }
        );
        let line = refused.describe();
        assert!(
            line.contains("413") && line.contains("50000 bytes") && line.contains("1a2b3c4d"),
            "{line}"
        );
        // Without a declared length the refusal says "more than".
        let undeclared = run(read_limited(body_of(bytes), None, 40_000)).unwrap_err();
        assert!(
            undeclared.describe().contains("more than"),
            "{undeclared:?}"
        );
    }
}
