//! Work item rules as ADO enforces them on create and update: known and
//! writable fields, value types, allowed values, required fields and valid
//! states. Errors use ADO's TF codes and envelope.

use axum::http::StatusCode;
use axum::response::Response;
use serde_json::{Value, json};

use crate::errors::{envelope, envelope_with};
use crate::process::{FieldDef, Process, TypeField, WorkItemType};

/// TF401320, ADO's rule error, with the field named in the message and in
/// `customProperties` the way ADO's clients read it.
pub fn rule_error(field: &TypeField, flags: &str) -> Response {
    let message = format!(
        "TF401320: Rule Error for field {}. Error code: {flags}.",
        field.name
    );
    envelope_with(
        StatusCode::BAD_REQUEST,
        &message,
        "RuleValidationException",
        Some(json!({
            "FieldReferenceName": field.reference_name,
            "FieldStatusFlags": flags.to_lowercase(),
            "ErrorMessage": message,
            "RuleValidationErrors": [{"fieldReferenceName": field.reference_name, "fieldStatusFlags": flags, "errorMessage": message}],
        })),
    )
}

/// TF51535: a field the type does not have.
pub fn unknown_field(reference: &str) -> Response {
    envelope(
        StatusCode::BAD_REQUEST,
        &format!("TF51535: Cannot find field {reference}."),
        "WorkItemFieldInvalidException",
    )
}

fn as_text(v: &Value) -> String {
    match v {
        Value::String(s) => s.clone(),
        other => other.to_string(),
    }
}

/// Converts a written value to the field's stored type.
pub fn coerce(def: Option<&FieldDef>, field: &TypeField, value: &Value) -> Result<Value, Response> {
    let kind = def.map(|d| d.kind.as_str()).unwrap_or("string");
    let invalid = || rule_error(field, "InvalidType");
    Ok(match kind {
        "integer" => match value {
            Value::Number(n) if n.is_i64() => value.clone(),
            Value::String(s) => json!(s.trim().parse::<i64>().map_err(|_| invalid())?),
            _ => return Err(invalid()),
        },
        "double" => match value {
            Value::Number(_) => value.clone(),
            Value::String(s) => json!(s.trim().parse::<f64>().map_err(|_| invalid())?),
            _ => return Err(invalid()),
        },
        "boolean" => match value {
            Value::Bool(_) => value.clone(),
            Value::String(s)
                if s.eq_ignore_ascii_case("true") || s.eq_ignore_ascii_case("false") =>
            {
                json!(s.eq_ignore_ascii_case("true"))
            }
            _ => return Err(invalid()),
        },
        "dateTime" => {
            let s = as_text(value);
            let t = time::OffsetDateTime::parse(&s, &time::format_description::well_known::Rfc3339)
                .map_err(|_| invalid())?;
            json!(
                t.to_offset(time::UtcOffset::UTC)
                    .format(&time::format_description::well_known::Rfc3339)
                    .unwrap_or(s)
            )
        }
        _ => match value {
            Value::Null => Value::Null,
            Value::Object(_) | Value::Array(_) if def.is_some_and(|d| d.is_identity) => {
                value.clone()
            }
            other => json!(as_text(other)),
        },
    })
}

/// `LimitedToValues`: the value must be one of the type's allowed values.
pub fn check_allowed(field: &TypeField, value: &Value) -> Result<(), Response> {
    if field.allowed_values.is_empty() || value.is_null() {
        return Ok(());
    }
    let text = as_text(value);
    if field.allowed_values.iter().any(|a| as_text(a) == text) {
        Ok(())
    } else {
        Err(rule_error(
            field,
            "LimitedToValues, HasValues, AllowsOldValue, InvalidUnknown",
        ))
    }
}

/// Required fields without a value, for a type, once the server filled
/// what it fills (area and iteration ids, the initial state, the dates):
/// the item's own values decide, not a list of exempt fields.
pub fn check_required(
    ty: &WorkItemType,
    fields: &serde_json::Map<String, Value>,
) -> Result<(), Response> {
    for f in &ty.fields {
        let empty = fields
            .get(&f.reference_name)
            .is_none_or(|v| v.is_null() || v.as_str().is_some_and(|s| s.trim().is_empty()));
        if f.always_required && empty {
            return Err(rule_error(
                f,
                "Required, HasValues, LimitedToValues, AllowsOldValue, InvalidEmpty",
            ));
        }
    }
    Ok(())
}

/// A state change must follow the type's transitions; a new item must start
/// in one of the `""` targets.
pub fn check_state(ty: &WorkItemType, from: Option<&str>, to: &str) -> Result<(), Response> {
    let field = ty.field("System.State").cloned().unwrap_or(TypeField {
        reference_name: "System.State".into(),
        name: "State".into(),
        always_required: true,
        help_text: None,
        default_value: None,
        allowed_values: vec![],
    });
    let allowed: Vec<String> = ty
        .transitions
        .get(from.unwrap_or(""))
        .and_then(Value::as_array)
        .map(|l| {
            l.iter()
                .filter_map(|t| t["to"].as_str().map(str::to_string))
                .collect()
        })
        .unwrap_or_default();
    if allowed.iter().any(|s| s == to) || from == Some(to) {
        Ok(())
    } else {
        Err(rule_error(
            &field,
            "LimitedToValues, HasValues, AllowsOldValue, InvalidListValue",
        ))
    }
}

/// Looks up a writable field of the type; the process gives its type.
pub fn writable<'a>(
    process: &'a Process,
    ty: &'a WorkItemType,
    reference: &str,
    bypass: bool,
) -> Result<(&'a TypeField, Option<&'a FieldDef>), Response> {
    let field = ty
        .field(reference)
        .ok_or_else(|| unknown_field(reference))?;
    let def = process.field(reference);
    // `readOnly` comes from ADO's field list (`GET _apis/wit/fields`), which
    // marks System.AreaPath and System.IterationPath read-only although
    // Microsoft's PATCH examples write both and get 200: a tree path is
    // written by naming a node (see `patch::set_tree`).
    if def.is_some_and(|d| d.read_only && d.kind != "treePath") && !bypass {
        return Err(rule_error(field, "ReadOnly"));
    }
    Ok((field, def))
}

/// ADO stores tags as one `"; "`-joined string, each tag once: tag names
/// compare without case and the first spelling wins (a tag's case cannot
/// be changed once it exists: MicrosoftDocs/azure-devops-docs#5055, "I
/// cannot change a mis-cased tag to the correct case"). [unverified] the
/// order of the stored tags (Microsoft's one `add` sample, "Tag0" +
/// "Tag1; Tag2", reads the same in both): as written, or sorted without
/// case under `tag-order=sorted` (`variants`).
pub fn normalize_tags(v: &Value, sorted: bool) -> Value {
    let text = as_text(v);
    let mut tags: Vec<&str> = Vec::new();
    for tag in text
        .split([';', ','])
        .map(str::trim)
        .filter(|t| !t.is_empty())
    {
        if !tags.iter().any(|t| t.eq_ignore_ascii_case(tag)) {
            tags.push(tag);
        }
    }
    if sorted {
        tags.sort_by_key(|t| t.to_lowercase());
    }
    json!(tags.join("; "))
}
