//! `POST|PATCH {org}/_apis/wit/$batch`: several work item creates and
//! updates in one call, as the "Work Item Batch Update" page documents
//! (not in any 7.x spec). Each entry `{method, uri, headers, body}` runs on
//! its own (a failure stops nothing) and answers `{code, headers, body}`
//! with the body as a JSON string, in `{count, value}`.
//! The verb: PATCH is documented for 6.1+ [doc] (Learn, "Work Item Batch
//! Update"), POST for 1.0 [doc] (previous-versions "Work item batch
//! operations"); which today's service takes, and its limit of entries
//! (200 here), no source says: settings `batch-verbs`, `batch-limit`
//! (`variants`).

use std::collections::HashMap;
use std::sync::Arc;

use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, HeaderName, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use serde::Deserialize;
use serde_json::{Value, json};

use crate::auth::Caller;
use crate::errors::envelope;
use crate::routes::params::{bad_argument, org_wit_caller};
use crate::routes::workitems::{create_item, update_item};
use crate::state::Emu;
use crate::variants::BatchVerbs;

/// One request of the batch.
#[derive(Debug, Deserialize)]
struct Entry {
    method: String,
    uri: String,
    #[serde(default)]
    headers: HashMap<String, String>,
    #[serde(default)]
    body: Value,
}

/// Decodes `%XX` escapes of a URI part.
fn decode(s: &str) -> String {
    let bytes = s.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'%'
            && let Some(b) = s
                .get(i + 1..i + 3)
                .and_then(|h| u8::from_str_radix(h, 16).ok())
        {
            out.push(b);
            i += 3;
        } else {
            out.push(if bytes[i] == b'+' { b' ' } else { bytes[i] });
            i += 1;
        }
    }
    String::from_utf8_lossy(&out).into_owned()
}

/// Runs one entry against the work item routes.
fn run(emu: &Emu, caller: &Caller, entry: &Entry) -> Response {
    let (path, query) = entry.uri.split_once('?').unwrap_or((&entry.uri, ""));
    let q: HashMap<String, String> = query
        .split('&')
        .filter(|p| !p.is_empty())
        .map(|p| p.split_once('=').unwrap_or((p, "")))
        .map(|(k, v)| (decode(k), decode(v)))
        .collect();
    let mut headers = HeaderMap::new();
    for (k, v) in &entry.headers {
        if let (Ok(name), Ok(value)) = (
            HeaderName::from_bytes(k.as_bytes()),
            HeaderValue::from_str(v),
        ) {
            headers.insert(name, value);
        }
    }
    let body = entry.body.to_string();
    let segments: Vec<String> = path.trim_matches('/').split('/').map(decode).collect();
    let api = segments
        .iter()
        .position(|s| s.eq_ignore_ascii_case("_apis"));
    let (project, rest) = match api {
        Some(0) => (None, &segments[1..]),
        Some(1) => (Some(segments[0].as_str()), &segments[2..]),
        _ => (None, &segments[..0]),
    };
    let method = entry.method.to_ascii_uppercase();
    match (method.as_str(), rest) {
        ("PATCH" | "POST", [wit, items, target])
            if wit.eq_ignore_ascii_case("wit") && items.eq_ignore_ascii_case("workitems") =>
        {
            if target.starts_with('$') {
                let Some(project) = project.and_then(|p| emu.project(p)).cloned() else {
                    return crate::routes::core::project_or_404(emu, project.unwrap_or_default())
                        .err()
                        .unwrap_or_else(|| bad_argument("A create needs a project."));
                };
                create_item(emu, caller, &project, target, &q, &headers, body.as_bytes())
            } else {
                update_item(emu, caller, target, &q, &headers, body.as_bytes())
            }
        }
        // [unverified] the answer for an entry the batch cannot run.
        _ => envelope(
            StatusCode::NOT_FOUND,
            &format!(
                "VS800044: The batch cannot run {} {}.",
                entry.method, entry.uri
            ),
            "ResourceNotFoundException",
        ),
    }
}

/// Turns a response into a batch answer entry.
async fn entry_answer(emu: &Emu, response: Response) -> Value {
    let code = response.status().as_u16();
    let mut headers = serde_json::Map::new();
    if let Some(ct) = response
        .headers()
        .get("content-type")
        .and_then(|v| v.to_str().ok())
    {
        headers.insert("Content-Type".into(), json!(ct));
    }
    let body = axum::body::to_bytes(response.into_body(), usize::MAX)
        .await
        .unwrap_or_default();
    let mut text = String::from_utf8_lossy(&body).into_owned();
    // An entry's error is an answer of ADO's too (`errors=opaque`).
    if code >= 400
        && emu.variants.errors == crate::variants::ErrorTexts::Opaque
        && let Ok(mut v) = serde_json::from_str::<Value>(&text)
        && crate::opaque::rewrite(&mut v)
    {
        text = v.to_string();
    }
    json!({"code": code, "headers": headers, "body": text})
}

pub async fn batch(
    State(emu): State<Arc<Emu>>,
    Path(org): Path<String>,
    method: axum::http::Method,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let caller = match org_wit_caller(&emu, &org, &headers) {
        Ok(c) => c,
        Err(r) => return r,
    };
    let served = match emu.variants.batch_verbs {
        BatchVerbs::Both => true,
        BatchVerbs::PatchOnly => method == axum::http::Method::PATCH,
        BatchVerbs::PostOnly => method == axum::http::Method::POST,
    };
    if !served {
        return envelope(
            StatusCode::METHOD_NOT_ALLOWED,
            &format!("VS403444: $batch does not accept {method}."),
            "RequestMethodNotAllowedException",
        );
    }
    let entries: Vec<Entry> = match serde_json::from_slice(&body) {
        Ok(e) => e,
        Err(e) => {
            return bad_argument(&format!(
                "The request body is not a list of batch requests: {e}"
            ));
        }
    };
    let limit = emu.variants.batch_limit;
    if entries.len() > limit {
        return bad_argument(&format!(
            "The batch has {} requests; the limit is {limit}.",
            entries.len()
        ));
    }
    let mut value = Vec::with_capacity(entries.len());
    for entry in &entries {
        let response = run(&emu, &caller, entry);
        value.push(entry_answer(&emu, response).await);
    }
    axum::Json(json!({"count": value.len(), "value": value})).into_response()
}
