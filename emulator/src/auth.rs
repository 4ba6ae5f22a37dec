//! Who is calling: PAT basic auth or an Entra bearer token, and what ADO
//! answers when neither is valid.

use axum::http::HeaderMap;
use axum::response::Response;
use base64::Engine as _;

use crate::errors;
use crate::model::{Identity, Scope};
use crate::state::Emu;

/// An authenticated caller.
#[derive(Debug, Clone)]
pub struct Caller {
    pub identity: Identity,
    pub scope: Scope,
}

fn suppressed(headers: &HeaderMap) -> bool {
    headers
        .get("x-tfs-fedauthredirect")
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.eq_ignore_ascii_case("suppress"))
}

/// The caller, or the response ADO gives an unauthenticated request: a 203
/// sign-in page, or 401 when the client asked for no redirect.
pub fn authenticate(emu: &Emu, headers: &HeaderMap) -> Result<Caller, Response> {
    let reject = || {
        if suppressed(headers)
            && !emu
                .sign_in_page_mode
                .load(std::sync::atomic::Ordering::Relaxed)
        {
            errors::unauthorized(&format!("{}/{}", emu.base_url(), emu.tenant_id))
        } else {
            errors::sign_in_page()
        }
    };
    let Some(value) = headers.get("authorization").and_then(|v| v.to_str().ok()) else {
        return Err(reject());
    };
    let data = emu.data();
    let caller = if let Some(b64) = value.strip_prefix("Basic ") {
        let decoded = base64::engine::general_purpose::STANDARD
            .decode(b64.trim())
            .ok()
            .and_then(|b| String::from_utf8(b).ok());
        // The user name part of PAT basic auth is ignored.
        let pat = decoded
            .as_deref()
            .and_then(|d| d.split_once(':'))
            .map(|(_, p)| p.to_string());
        pat.and_then(|p| data.pats.get(&p).cloned())
            .map(|(identity, scope)| Caller { identity, scope })
    } else if let Some(token) = value.strip_prefix("Bearer ") {
        data.tokens
            .get(token.trim())
            .filter(|(_, expiry)| *expiry > std::time::Instant::now())
            .map(|(identity, _)| Caller {
                identity: identity.clone(),
                // Delegated tokens carry the scopes their app was granted.
                scope: emu.setup.token_scope(token.trim()),
            })
    } else {
        None
    };
    match caller {
        // A valid Entra token of an identity that is not a user of the organization.
        Some(c) if !c.identity.member_of_org => Err(reject()),
        Some(c) => Ok(c),
        None => Err(reject()),
    }
}
