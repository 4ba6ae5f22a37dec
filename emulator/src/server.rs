//! Azure DevOps Server mode: the emulator answers as an on-premises Server
//! would, at a collection URL such as `http://127.0.0.1:PORT/tfs/DefaultCollection`.
//!
//! What changes, and where it comes from:
//! - The collection lives under the web site's virtual directory (`/tfs`)
//!   and the collection name takes the organization's place in every path
//!   and link ("`{server:port}/tfs/{collection}` ... the collection value
//!   should be DefaultCollection, but can be any collection": Microsoft's
//!   REST API reference, "Components of a REST API request/response pair",
//!   learn.microsoft.com/rest/api/azure/devops). A path outside the virtual
//!   directory is not the collection's: 404.
//! - Each release serves the REST API up to a version ("Supported
//!   versions": Server 2019 up to 5.0, Server 2020 up to 6.0, Server 2022
//!   up to 7.0; Microsoft
//!   Learn, learn.microsoft.com/azure/devops/integrate/concepts/rest-api-versioning).
//!   Server 2022.1 and later serve 7.1 (Microsoft's REST specs publish a
//!   `azure-devops-server-7.1` folder per area, MicrosoftDocs/vsts-rest-api-specs).
//! - A higher `api-version` is refused with HTTP 400 and
//!   `VssVersionOutOfRangeException`, the message naming the server's
//!   newest version (the resource string `ApiVersionOutOfRange` of
//!   Microsoft's `Microsoft.VisualStudio.Services.WebApi`; seen from Server
//!   2020 in microsoft/azure-devops-extension-sample#161 and from Server
//!   2019 in cribeiro84/azure-devops-pull-request-hub#113).
//! - Credentials are PATs over basic auth; Server does not take Microsoft
//!   Entra ID tokens, so a bearer token is refused like bad credentials
//!   (Microsoft Learn, "Use personal access tokens": Server authenticates with
//!   PATs or Windows authentication). [unverified] the exact 401 body
//!   Server gives a bearer token: the Services envelope, or none under
//!   `refusal-body=empty` (`variants::RefusalBody`).
//! - `connectionData` says `deploymentType: onPremises`.

use axum::extract::Request;
use axum::http::{HeaderValue, StatusCode, Uri, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use serde_json::json;

use crate::variants::RefusalBody;

/// The collection name of a fresh Server install.
pub const COLLECTION: &str = "DefaultCollection";
/// The web site's virtual directory of a default install.
pub const VIRTUAL_DIRECTORY: &str = "tfs";

/// An Azure DevOps Server release, by the newest REST API version it serves.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ServerRelease {
    /// Azure DevOps Server 2019: up to 5.0 (older than the connector supports).
    Server2019,
    /// Azure DevOps Server 2020: up to 6.0.
    Server2020,
    /// Azure DevOps Server 2022 (RTW): up to 7.0.
    Server2022,
    /// Azure DevOps Server 2022.1 and later: up to 7.1.
    Server2022Update1,
}

impl ServerRelease {
    /// The newest `major.minor` this release serves.
    pub fn max_api_version(self) -> (u32, u32) {
        match self {
            ServerRelease::Server2019 => (5, 0),
            ServerRelease::Server2020 => (6, 0),
            ServerRelease::Server2022 => (7, 0),
            ServerRelease::Server2022Update1 => (7, 1),
        }
    }
}

/// Server mode settings.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ServerMode {
    pub release: ServerRelease,
    /// Without slashes, e.g. `tfs`.
    pub virtual_directory: String,
}

/// What comes between the authority and the collection: `/tfs` in Server
/// mode, nothing for Services.
pub fn path_prefix(mode: Option<&ServerMode>) -> String {
    mode.map(|s| format!("/{}", s.virtual_directory))
        .unwrap_or_default()
}

/// `major.minor` of an `api-version` value (`7.1`, `7.1-preview.4`).
pub fn parse_version(value: &str) -> Option<(u32, u32)> {
    let number = value.trim().split('-').next()?;
    let (major, minor) = number.split_once('.')?;
    Some((major.parse().ok()?, minor.parse().ok()?))
}

fn api_version(uri: &Uri) -> Option<String> {
    url::form_urlencoded::parse(uri.query()?.as_bytes())
        .find(|(k, _)| k.eq_ignore_ascii_case("api-version"))
        .map(|(_, v)| v.into_owned())
}

/// ADO's answer to an `api-version` newer than the server's.
fn out_of_range(requested: (u32, u32), max: (u32, u32)) -> Response {
    let body = json!({
        "$id": "1",
        "innerException": null,
        "message": format!(
            "The requested REST API version of {}.{} is out of range for this server. The latest REST API version this server supports is {}.{}.",
            requested.0, requested.1, max.0, max.1
        ),
        "typeName": "Microsoft.VisualStudio.Services.WebApi.VssVersionOutOfRangeException, Microsoft.VisualStudio.Services.WebApi",
        "typeKey": "VssVersionOutOfRangeException",
        "errorCode": 0,
        "eventId": 3000,
    });
    (StatusCode::BAD_REQUEST, axum::Json(body)).into_response()
}

/// Middleware, outermost: in Server mode, takes the virtual directory off
/// the path, refuses versions the release does not serve and bearer tokens.
pub async fn layer(
    mode: Option<&ServerMode>,
    refusal_body: RefusalBody,
    mut req: Request,
    next: Next,
) -> Response {
    let Some(mode) = mode else {
        return next.run(req).await;
    };
    let path = req.uri().path().to_string();
    if path.starts_with("/_emulator") {
        return next.run(req).await;
    }
    let prefix = format!("/{}/", mode.virtual_directory);
    let Some(rest) = path
        .get(..prefix.len())
        .filter(|head| head.eq_ignore_ascii_case(&prefix))
        .map(|_| &path[prefix.len() - 1..])
    else {
        // IIS: nothing is served outside the virtual directory.
        return (
            StatusCode::NOT_FOUND,
            [(header::CONTENT_TYPE, "text/html")],
            "<html><body><h1>404 - File or directory not found.</h1></body></html>",
        )
            .into_response();
    };
    let rebuilt = match req.uri().query() {
        Some(q) => format!("{rest}?{q}"),
        None => rest.to_string(),
    };
    if let Ok(uri) = rebuilt.parse::<Uri>() {
        *req.uri_mut() = uri;
    }
    if rest.contains("/_apis")
        && let Some(requested) = api_version(req.uri()).as_deref().and_then(parse_version)
        && requested > mode.release.max_api_version()
    {
        return out_of_range(requested, mode.release.max_api_version());
    }
    let bearer = req
        .headers()
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.starts_with("Bearer "));
    if bearer {
        let mut r = match refusal_body {
            RefusalBody::Envelope => crate::errors::envelope(
                StatusCode::UNAUTHORIZED,
                "TF400813: The user '' is not authorized to access this resource.",
                "UnauthorizedRequestException",
            ),
            RefusalBody::Empty => StatusCode::UNAUTHORIZED.into_response(),
        };
        r.headers_mut().insert(
            header::WWW_AUTHENTICATE,
            HeaderValue::from_static("Basic realm=\"\""),
        );
        return r;
    }
    next.run(req).await
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn api_versions_are_read_as_major_and_minor() {
        assert_eq!(parse_version("7.1"), Some((7, 1)));
        assert_eq!(parse_version("7.1-preview.4"), Some((7, 1)));
        assert_eq!(parse_version("5.1-preview"), Some((5, 1)));
        assert_eq!(parse_version("seven"), None);
    }

    #[test]
    fn releases_serve_the_documented_versions() {
        assert_eq!(ServerRelease::Server2020.max_api_version(), (6, 0));
        assert_eq!(ServerRelease::Server2022.max_api_version(), (7, 0));
        assert!(ServerRelease::Server2022Update1.max_api_version() > (7, 0));
    }
}
