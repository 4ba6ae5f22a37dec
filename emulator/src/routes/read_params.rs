//! What a read of work items asks for, shared by the single-item and the
//! many-item routes: the view (`$expand`, `fields`) and the time (`asOf`).

use std::collections::HashMap;

use axum::response::Response;
use time::OffsetDateTime;
use time::format_description::well_known::Rfc3339;

use crate::data::Data;
use crate::model::StoredItem;
use crate::routes::params::{bad_argument, field_list, param};
use crate::views::{Expand, View};

/// The `$expand` and `fields` of a read. ADO refuses both at once.
pub fn read_view(q: &HashMap<String, String>, links: bool) -> Result<View, Response> {
    let expand = Expand::parse(param(q, "$expand")).ok_or_else(|| {
        bad_argument("The value of $expand is not one of None, Relations, Fields, Links, All.")
    })?;
    let fields = field_list(param(q, "fields"));
    if fields.is_some() && expand != Expand::None {
        return Err(expand_with_fields());
    }
    Ok(View {
        fields,
        expand,
        links,
    })
}

/// ADO's refusal of `$expand` with `fields` (a single read, a list of ids,
/// `workitemsbatch`): "The expand parameter can not be used with the fields
/// parameter." with no code [ms-code: ADO's message as Microsoft's clients
/// report it, microsoft/azure-devops-node-api#601 (`getWorkItems`),
/// microsoft/azure-devops-mcp#1144]. [unverified] its status (400 here) and
/// type key.
pub fn expand_with_fields() -> Response {
    crate::errors::envelope(
        axum::http::StatusCode::BAD_REQUEST,
        EXPAND_WITH_FIELDS,
        "InvalidArgumentValueException",
    )
}

/// ADO's text for `$expand` with `fields`.
pub const EXPAND_WITH_FIELDS: &str =
    "The expand parameter can not be used with the fields parameter.";

/// An `asOf` parameter: a date-time (ISO 8601 as the samples write it).
pub fn parse_as_of(value: Option<&str>) -> Result<Option<OffsetDateTime>, Response> {
    match value.map(str::trim).filter(|v| !v.is_empty()) {
        None => Ok(None),
        Some(v) => OffsetDateTime::parse(v, &Rfc3339)
            .map(Some)
            .map_err(|_| bad_argument(&format!("The value '{v}' of asOf is not a date and time."))),
    }
}

/// The item as it was at `at`: its last revision made at or before then
/// (Microsoft's example `GET workItems/{id}?asOf=` answers revision 4's
/// fields with `rev` 4). `None` when the item did not exist yet.
pub fn as_of(data: &Data, item: &StoredItem, at: Option<OffsetDateTime>) -> Option<StoredItem> {
    let Some(at) = at else {
        return Some(item.clone());
    };
    let revs = data.store.history.get(&item.id)?;
    let r = revs
        .iter()
        .rev()
        .find(|r| OffsetDateTime::parse(&r.date, &Rfc3339).is_ok_and(|d| d <= at))?;
    Some(StoredItem {
        id: item.id,
        rev: r.rev,
        project_id: item.project_id.clone(),
        fields: r.fields.clone(),
        relations: r.relations.clone(),
    })
}
