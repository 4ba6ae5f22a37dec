//! ADO's error envelope and Entra's error body.

use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde_json::{Value, json};

use crate::variants::{MissingScope, RefusalBody, UnknownOrganization, Variants};

/// An error in ADO's envelope: `message` starts with the TF/VS code.
pub fn envelope(status: StatusCode, message: &str, type_key: &str) -> Response {
    envelope_with(status, message, type_key, None)
}

pub fn envelope_with(
    status: StatusCode,
    message: &str,
    type_key: &str,
    custom: Option<Value>,
) -> Response {
    let mut body = json!({
        "$id": "1",
        "innerException": null,
        "message": message,
        "typeName": type_name(type_key),
        "typeKey": type_key,
        "errorCode": 0,
        "eventId": 3000,
    });
    if let Some(c) = custom {
        body["customProperties"] = c;
    }
    (status, axum::Json(body)).into_response()
}

/// The assembly-qualified type of an error. Those ADO's answers show
/// [ms-code]: the 401's (Azure/azure-devops-cli-extension#807,
/// Azure/azure-cli#29250), a refused content type's (AZDOPS/AZDOPS#63), a
/// preview version asked without `-preview` (wangkanai/devops-mcp#45), a
/// request blocked by the rate limit (microsoft/vscode#155632) and a body
/// that fails validation (fortify-ps/FortifyBugTrackerUtility#44,
/// written there with the assembly version, which the later answers above
/// leave out); the others follow no source.
fn type_name(type_key: &str) -> String {
    match type_key {
        "UnauthorizedRequestException" => "Microsoft.TeamFoundation.Framework.Server.UnauthorizedRequestException, Microsoft.TeamFoundation.Framework.Server".into(),
        "VssRequestContentTypeNotSupportedException" => "Microsoft.VisualStudio.Services.WebApi.VssRequestContentTypeNotSupportedException, Microsoft.VisualStudio.Services.WebApi".into(),
        "VssPropertyValidationException" => "Microsoft.VisualStudio.Services.Common.VssPropertyValidationException, Microsoft.VisualStudio.Services.Common".into(),
        "VssInvalidPreviewVersionException" => "Microsoft.VisualStudio.Services.WebApi.VssInvalidPreviewVersionException, Microsoft.VisualStudio.Services.WebApi".into(),
        "RequestBlockedException" => "Microsoft.TeamFoundation.Framework.Server.RequestBlockedException, Microsoft.TeamFoundation.Framework.Server".into(),
        // The service hooks' exceptions of Microsoft's .NET client
        // (`Microsoft.VisualStudio.Services.ServiceHooks.WebApi`, each
        // class's `ExceptionMapping`, as decompiled in mjwrona/decompiled).
        "SubscriptionNotFoundException"
        | "PublisherNotFoundException"
        | "ConsumerNotFoundException"
        | "ConsumerActionNotFoundException"
        | "PublisherEventTypeNotFoundException"
        | "NotificationNotFoundException" => format!(
            "Microsoft.VisualStudio.Services.ServiceHooks.WebApi.{type_key}, Microsoft.VisualStudio.Services.ServiceHooks.WebApi"
        ),
        _ => format!("Microsoft.TeamFoundation.{type_key}, Microsoft.TeamFoundation.Server.Core"),
    }
}

/// 401 for bad credentials, as ADO answers when `X-TFS-FedAuthRedirect: Suppress` is sent.
pub fn unauthorized(authority: &str) -> Response {
    let mut r = envelope(
        StatusCode::UNAUTHORIZED,
        "TF400813: The user '' is not authorized to access this resource.",
        "UnauthorizedRequestException",
    );
    if let Ok(v) = HeaderValue::from_str(&format!("Bearer authorization_uri={authority}")) {
        r.headers_mut().insert(header::WWW_AUTHENTICATE, v);
    }
    r
}

/// 203 with a sign-in page: what ADO answers bad credentials without the suppress header.
pub fn sign_in_page() -> Response {
    (
        StatusCode::NON_AUTHORITATIVE_INFORMATION,
        [(header::CONTENT_TYPE, "text/html; charset=utf-8")],
        "<!DOCTYPE html><html><head><title>Azure DevOps Services | Sign In</title></head><body>Sign in to continue</body></html>",
    )
        .into_response()
}

/// An Entra ID token endpoint error.
pub fn entra(status: StatusCode, error: &str, code: u32, description: &str) -> Response {
    let now = time::OffsetDateTime::now_utc()
        .format(&time::format_description::well_known::Rfc3339)
        .unwrap_or_default();
    (
        status,
        axum::Json(json!({
            "error": error,
            "error_description": format!("AADSTS{code}: {description}"),
            "error_codes": [code],
            "timestamp": now,
            "trace_id": uuid::Uuid::new_v4(),
            "correlation_id": uuid::Uuid::new_v4(),
        })),
    )
        .into_response()
}

/// The refusal of a token that lacks the scope of the route it calls (a
/// PAT without `vso.work`, or with Work Items (Read) only on a write; an
/// app without the `vso.work_write` API permission): 401 as public
/// reports say (microsoft/azure-repos-vscode#20, PurpleSoftSrl/azure_devops_app#49,
/// edgafner/dorkag#152), or 403 under `missing-scope=403` (`variants::MissingScope`).
/// [unverified] its body: ADO's TF400813 envelope for other unauthorized
/// calls, or none under `refusal-body=empty` (`variants::RefusalBody`).
pub fn scope_refused(variants: &Variants, identity_id: &str) -> Response {
    let status = match variants.missing_scope {
        MissingScope::Unauthorized => StatusCode::UNAUTHORIZED,
        MissingScope::Forbidden => StatusCode::FORBIDDEN,
    };
    match variants.refusal_body {
        RefusalBody::Envelope => envelope(
            status,
            &format!(
                "TF400813: The user '{identity_id}' is not authorized to access this resource."
            ),
            "UnauthorizedRequestException",
        ),
        RefusalBody::Empty => status.into_response(),
    }
}

/// A request naming an organization that does not exist: 404
/// [ms-code: Azure/azure-cli#32897, a Microsoft engineer's report that
/// "the underlying API gives a 404 Not Found" for a mistyped organization].
/// [unverified] the body: each plausible shape is a setting
/// (`variants::UnknownOrganization`); the envelope carries no TF/VS code
/// (it carried VS800075 before, a code public answers give a missing
/// project, not an organization).
pub fn unknown_organization(shape: UnknownOrganization, org: &str) -> Response {
    match shape {
        UnknownOrganization::Envelope => envelope(
            StatusCode::NOT_FOUND,
            &format!("The organization '{org}' could not be found."),
            "HostNotFoundException",
        ),
        UnknownOrganization::Text => (
            StatusCode::NOT_FOUND,
            [(header::CONTENT_TYPE, "text/plain; charset=utf-8")],
            "The resource cannot be found.",
        )
            .into_response(),
        UnknownOrganization::Html => (
            StatusCode::NOT_FOUND,
            [(header::CONTENT_TYPE, "text/html; charset=utf-8")],
            "<!DOCTYPE html><html><head><title>Azure DevOps Services | Page not found</title></head><body><h1>404 - Page not found</h1></body></html>",
        )
            .into_response(),
    }
}

/// A 400 for a malformed argument. [unverified] code and text.
pub fn bad_argument(message: &str) -> Response {
    envelope(
        StatusCode::BAD_REQUEST,
        &format!("VS403448: {message}"),
        "InvalidArgumentValueException",
    )
}
