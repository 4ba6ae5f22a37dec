//! Small helpers the work item routes share: query flags, id lists, the
//! work item scope check, and ADO's common error answers.

use std::collections::HashMap;

use axum::http::{HeaderMap, StatusCode};
use axum::response::Response;

use crate::auth::Caller;
pub use crate::errors::bad_argument;
use crate::errors::envelope;
use crate::model::Scope;
use crate::routes::core::org_caller;
use crate::state::Emu;

/// Query parameters; ADO reads their names without case.
pub type Q = axum::extract::Query<HashMap<String, String>>;

/// A query parameter by name, without case.
pub fn param<'a>(q: &'a HashMap<String, String>, name: &str) -> Option<&'a str> {
    q.iter()
        .find(|(k, _)| k.eq_ignore_ascii_case(name))
        .map(|(_, v)| v.as_str())
}

/// A boolean query flag (`validateOnly=true`).
pub fn flag(q: &HashMap<String, String>, name: &str) -> bool {
    param(q, name).is_some_and(|v| v.eq_ignore_ascii_case("true"))
}

/// Authenticates an organization-level work item call: vso.work is needed.
pub fn org_wit_caller(emu: &Emu, org: &str, headers: &HeaderMap) -> Result<Caller, Response> {
    let caller = org_caller(emu, org, headers)?;
    if caller.scope == Scope::ProjectRead {
        // The scope's refusal (`errors::scope_refused`, its sources there).
        return Err(crate::errors::scope_refused(
            &emu.variants,
            &caller.identity.id,
        ));
    }
    Ok(caller)
}

/// TF401232, ADO's answer for a missing (or deleted) work item.
pub fn not_found(id: &str) -> Response {
    envelope(
        StatusCode::NOT_FOUND,
        &format!(
            "TF401232: Work item {id} does not exist, or you do not have permissions to read it."
        ),
        "WorkItemUnauthorizedAccessException",
    )
}

/// A comma-separated list of work item ids; at most 200, as ADO allows.
pub fn ids(list: &str) -> Result<Vec<i32>, Response> {
    let ids: Vec<i32> = list
        .split(',')
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .map(|s| {
            s.parse::<i32>()
                .map_err(|_| bad_argument(&format!("The work item id '{s}' is not a number.")))
        })
        .collect::<Result<_, _>>()?;
    check_count(ids.len())?;
    Ok(ids)
}

/// VS403474: more than 200 ids in one read [ms-code].
pub fn check_count(n: usize) -> Result<(), Response> {
    if n > 200 {
        return Err(envelope(
            StatusCode::BAD_REQUEST,
            &format!("VS403474: You requested {n} work items which exceeds the limit of 200"),
            "WorkItemsLimitExceededException",
        ));
    }
    Ok(())
}

/// A comma-separated field list, when given.
pub fn field_list(value: Option<&str>) -> Option<Vec<String>> {
    value.filter(|s| !s.trim().is_empty()).map(|s| {
        s.split(',')
            .map(|f| f.trim().to_string())
            .filter(|f| !f.is_empty())
            .collect()
    })
}
