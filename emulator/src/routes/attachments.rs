//! Attachments: `POST _apis/wit/attachments?fileName=` with the raw bytes
//! (answers 201 `{id, url}` as the upload samples do, where the spec says
//! 200), and `GET _apis/wit/attachments/{id}` returning them. Uploads over
//! the limit (130 MB, `store::ATTACHMENT_LIMIT`) are refused with 413
//! [unverified: ADO's status, code and text]. Uploading attaches nothing:
//! a work item links the URL with an `AttachedFile` relation.

use std::collections::HashMap;
use std::sync::Arc;

use axum::body::Body;
use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde::Deserialize;
use serde_json::json;

use crate::errors::envelope;
use crate::routes::meta::wit_project;
use crate::routes::params::{Q, bad_argument, flag, org_wit_caller, param};
use crate::state::Emu;
use crate::store::{ATTACHMENT_LIMIT, Attachment};

/// The path of the attachment routes.
#[derive(Debug, Deserialize)]
pub struct AttachmentPath {
    org: String,
    project: Option<String>,
    id: Option<String>,
}

fn authenticate(emu: &Emu, p: &AttachmentPath, headers: &HeaderMap) -> Result<(), Response> {
    match &p.project {
        Some(project) => wit_project(emu, &p.org, project, headers).map(|_| ()),
        None => org_wit_caller(emu, &p.org, headers).map(|_| ()),
    }
}

/// Query-encodes a file name for the attachment URL.
fn encode(name: &str) -> String {
    name.bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' => {
                (b as char).to_string()
            }
            _ => format!("%{b:02X}"),
        })
        .collect()
}

fn too_large(limit: usize) -> Response {
    envelope(
        StatusCode::PAYLOAD_TOO_LARGE,
        &format!(
            "VS403311: The attachment is larger than the maximum allowed size of {limit} bytes. Use a chunked upload."
        ),
        "AttachmentSizeExceededException",
    )
}

/// Bodies this far over the limit are read before the 413 (see `upload`).
const DRAIN_LIMIT: usize = 1 << 20;

async fn upload(
    emu: &Emu,
    q: &HashMap<String, String>,
    headers: &HeaderMap,
    body: Body,
) -> Response {
    if param(q, "uploadType").is_some_and(|t| t.eq_ignore_ascii_case("chunked")) {
        // [unverified] chunked uploads are not emulated.
        return bad_argument("Chunked attachment uploads are not supported by the emulator.");
    }
    let file_name = param(q, "fileName").unwrap_or_default().to_string();
    let limit = emu
        .data()
        .store
        .attachment_limit
        .unwrap_or(ATTACHMENT_LIMIT);
    // Refuse early when the client announces the size.
    let announced = headers
        .get(header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<usize>().ok());
    if let Some(n) = announced.filter(|n| *n > limit) {
        // A small excess is read first: answering before the body is read
        // makes the socket close with unread bytes, which resets the
        // connection before the client can read the 413.
        if n <= limit.saturating_add(DRAIN_LIMIT) {
            let _ = axum::body::to_bytes(body, n).await;
        }
        return too_large(limit);
    }
    let Ok(bytes) = axum::body::to_bytes(body, limit).await else {
        return too_large(limit);
    };
    let id = uuid::Uuid::new_v4().to_string();
    emu.data().store.attachments.insert(
        id.clone(),
        Attachment {
            file_name: file_name.clone(),
            bytes,
        },
    );
    let url = format!(
        "{}/{}/_apis/wit/attachments/{id}?fileName={}",
        emu.base_url(),
        emu.organization,
        encode(&file_name)
    );
    (
        StatusCode::CREATED,
        axum::Json(json!({"id": id, "url": url})),
    )
        .into_response()
}

/// `POST {org}[/{project}]/_apis/wit/attachments?fileName=`.
pub async fn create(
    State(emu): State<Arc<Emu>>,
    Path(p): Path<AttachmentPath>,
    Query(q): Q,
    headers: HeaderMap,
    body: Body,
) -> Response {
    if let Err(r) = authenticate(&emu, &p, &headers) {
        return r;
    }
    upload(&emu, &q, &headers, body).await
}

/// `GET {org}[/{project}]/_apis/wit/attachments/{id}[?fileName=&download=]`.
pub async fn get(
    State(emu): State<Arc<Emu>>,
    Path(p): Path<AttachmentPath>,
    Query(q): Q,
    headers: HeaderMap,
) -> Response {
    if let Err(r) = authenticate(&emu, &p, &headers) {
        return r;
    }
    let id = p.id.clone().unwrap_or_default();
    let Some(found) = emu
        .data()
        .store
        .attachments
        .get(&id.to_ascii_lowercase())
        .cloned()
    else {
        // [unverified] code and text.
        return envelope(
            StatusCode::NOT_FOUND,
            &format!("TF401080: The attachment {id} does not exist."),
            "AttachmentNotFoundException",
        );
    };
    let name = param(&q, "fileName")
        .map(str::to_string)
        .unwrap_or(found.file_name);
    let mut response = (
        StatusCode::OK,
        [(header::CONTENT_TYPE, "application/octet-stream")],
        found.bytes,
    )
        .into_response();
    let disposition = if flag(&q, "download") {
        "attachment"
    } else {
        "inline"
    };
    // `filename` must be plain ASCII; `filename*` carries the real name.
    let ascii: String = name
        .chars()
        .map(|c| {
            if c.is_ascii() && !c.is_ascii_control() && c != '"' {
                c
            } else {
                '_'
            }
        })
        .collect();
    if let Ok(v) = HeaderValue::from_str(&format!(
        "{disposition}; filename=\"{ascii}\"; filename*=UTF-8''{}",
        encode(&name)
    )) {
        response
            .headers_mut()
            .insert(header::CONTENT_DISPOSITION, v);
    }
    response
}
