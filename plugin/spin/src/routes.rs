//! The `/v1` routes: which operation a request is, the bearer token check
//! (constant time), and the JSON body. `GET /health` needs no token;
//! `POST /v1/webhooks/ado` has its own credentials.

use serde::de::DeserializeOwned;
use subtle::ConstantTimeEq;

use crate::error::ApiError;
use crate::platform::{ApiRequest, ApiResponse, Platform, Prefixed};
use crate::{handlers, settings, subscriptions, webhook};

/// The most changes one page of the change feed holds.
pub const MAX_PAGE: u64 = 500;

/// Answers one request; never panics on input. Every key the request reads
/// or writes carries the application's prefix.
pub fn handle(p: &dyn Platform, req: &ApiRequest) -> ApiResponse {
    route(&Prefixed::new(p), req).unwrap_or_else(|e| e.response())
}

fn segments(path: &str) -> Result<Vec<String>, ApiError> {
    path.trim_matches('/')
        .split('/')
        .map(|s| {
            percent_encoding::percent_decode_str(s)
                .decode_utf8()
                .map(|c| c.into_owned())
                .map_err(|_| ApiError::not_found("the path is not valid UTF-8"))
        })
        .collect()
}

fn route(p: &dyn Platform, req: &ApiRequest) -> Result<ApiResponse, ApiError> {
    let segs = segments(&req.path)?;
    let segs: Vec<&str> = segs.iter().map(String::as_str).collect();
    let m = req.method.to_ascii_uppercase();
    let allowed: &[&str] = match segs.as_slice() {
        ["health"] => &["GET"],
        ["v1", "webhooks", "ado"] => &["POST"],
        ["v1", "connection", "test"]
        | ["v1", "config", "validate"]
        | ["v1", "preview"]
        | ["v1", "dispatch"]
        | ["v1", "sync"]
        | ["v1", "close"]
        | ["v1", "close", "bulk"]
        | ["v1", "changes", "flush"] => &["POST"],
        ["v1", "webhooks", "subscriptions"] => &["GET", "POST", "DELETE"],
        ["v1", "schema", "types"]
        | ["v1", "schema", "types", _, "fields" | "states"]
        | ["v1", "config", "schema"]
        | ["v1", "links", _]
        | ["v1", "changes"] => &["GET"],
        _ => {
            return Err(ApiError::not_found(format!("no route {} {}", m, req.path)));
        }
    };
    if !allowed.contains(&m.as_str()) {
        return Err(ApiError::new(
            405,
            "method_not_allowed",
            format!("{} takes {}, not {m}", req.path, allowed.join(", ")),
        ));
    }
    match segs.as_slice() {
        ["health"] => return Ok(ApiResponse::json(200, &serde_json::json!({"status": "ok"}))),
        ["v1", "webhooks", "ado"] => return webhook::deliver(p, req),
        _ => authorize(p, req)?,
    }
    match segs.as_slice() {
        ["v1", "connection", "test"] => handlers::test_connection(p),
        ["v1", "schema", "types"] => handlers::work_item_types(p),
        ["v1", "schema", "types", ty, "fields"] => handlers::fields(p, ty),
        ["v1", "schema", "types", ty, "states"] => handlers::states(p, ty),
        ["v1", "config", "schema"] => handlers::config_schema(),
        ["v1", "config", "validate"] => handlers::validate_config(p, body(req)?),
        ["v1", "preview"] => handlers::preview(p, body(req)?),
        ["v1", "dispatch"] => handlers::dispatch(p, body(req)?),
        ["v1", "sync"] => handlers::sync(p, body(req)?),
        ["v1", "close"] => handlers::close(p, body(req)?),
        ["v1", "close", "bulk"] => handlers::bulk_close(p, body(req)?),
        ["v1", "links", ticket] => handlers::link(p, ticket),
        ["v1", "webhooks", "subscriptions"] => match m.as_str() {
            "GET" => subscriptions::list(p),
            "DELETE" => subscriptions::delete(p, &text(req, "public_url")?),
            _ => subscriptions::subscribe(p, body(req)?),
        },
        ["v1", "changes"] => {
            let cursor = number(req, "cursor", 0)?;
            let limit = number(req, "limit", 100)?.clamp(1, MAX_PAGE);
            handlers::changes(p, cursor, limit)
        }
        ["v1", "changes", "flush"] => handlers::flush(p),
        _ => Err(ApiError::not_found(format!("no route {m} {}", req.path))),
    }
}

/// Checks `Authorization: Bearer <api_token>` in constant time.
fn authorize(p: &dyn Platform, req: &ApiRequest) -> Result<(), ApiError> {
    let expected = settings::api_token(p)?;
    let Some(value) = req.header("authorization") else {
        return Err(ApiError::unauthorized(
            "the request has no `Authorization: Bearer` header",
        ));
    };
    let (scheme, token) = value.trim().split_once(' ').unwrap_or((value.trim(), ""));
    if !scheme.eq_ignore_ascii_case("bearer") {
        return Err(ApiError::unauthorized(
            "the `Authorization` header does not use the Bearer scheme",
        ));
    }
    if !bool::from(token.trim().as_bytes().ct_eq(expected.expose().as_bytes())) {
        return Err(ApiError::unauthorized("the bearer token is wrong"));
    }
    Ok(())
}

/// The JSON body as `T`: 400 when it is not JSON, 422 naming the member at fault.
///
/// Read straight from the bytes, not through a `serde_json::Value` (which
/// keeps one of two members of the same name), so a ticket field named
/// twice reaches the ticket model, which refuses it.
fn body<T: DeserializeOwned>(req: &ApiRequest) -> Result<T, ApiError> {
    let mut json = serde_json::Deserializer::from_slice(&req.body);
    let value = serde_path_to_error::deserialize(&mut json).map_err(|e| {
        if e.inner().is_data() {
            ApiError::invalid_request(&e.path().to_string(), e.inner())
        } else {
            ApiError::malformed_json(e.inner())
        }
    })?;
    json.end().map_err(|e| ApiError::malformed_json(&e))?;
    Ok(value)
}

/// A required query parameter, percent-decoded.
fn text(req: &ApiRequest, name: &str) -> Result<String, ApiError> {
    let raw = req.query_param(name).unwrap_or_default().replace('+', " ");
    let value = percent_encoding::percent_decode_str(&raw)
        .decode_utf8()
        .map(|v| v.into_owned())
        .unwrap_or_default();
    if value.is_empty() {
        return Err(ApiError::new(
            422,
            "invalid_parameter",
            format!("query parameter `{name}` is required"),
        ));
    }
    Ok(value)
}

fn number(req: &ApiRequest, name: &str, default: u64) -> Result<u64, ApiError> {
    match req.query_param(name) {
        None | Some("") => Ok(default),
        Some(v) => v.parse().map_err(|_| {
            ApiError::new(
                422,
                "invalid_parameter",
                format!("query parameter `{name}`: `{v}` is not a non-negative integer"),
            )
        }),
    }
}
