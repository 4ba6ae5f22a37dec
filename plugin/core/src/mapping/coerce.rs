//! Coercion of a mapped value to what ADO expects for its target field's
//! input type, with the checks ADO would make (allowed values, identity
//! format, length of single-line text), each failure naming field and value.

use serde_json::{Value, json};

use crate::error::Issue;
use crate::model::FieldValue;
use crate::schema::{FieldInfo, InputType};

/// ADO's limit for single-line text (`string`) fields such as the title.
pub const MAX_STRING_CHARS: usize = 255;

/// Converts a value to what ADO expects for the field, checking allowed values.
pub fn coerce(value: &FieldValue, field: &FieldInfo) -> Result<Value, Issue> {
    let shown = value.display();
    let wrong = |expected: &str| {
        Issue::new(
            field.reference_name.clone(),
            "input-type",
            format!(
                "`{shown}` is not {expected}, as {} ({}) requires",
                field.name, field.reference_name
            ),
        )
    };
    let json = match field.input_type {
        InputType::Integer | InputType::PicklistInteger => match value {
            FieldValue::Integer(i) => json!(i),
            FieldValue::Number(n) if n.fract() == 0.0 && n.abs() < 9.0e15 => json!(*n as i64),
            FieldValue::Text(s) => json!(
                s.trim()
                    .parse::<i64>()
                    .map_err(|_| wrong("a whole number"))?
            ),
            _ => return Err(wrong("a whole number")),
        },
        InputType::Double | InputType::PicklistDouble => match value {
            FieldValue::Integer(i) => json!(*i as f64),
            FieldValue::Number(n) if n.is_finite() => json!(n),
            FieldValue::Text(s) => json!(
                s.trim()
                    .parse::<f64>()
                    .ok()
                    .filter(|n| n.is_finite())
                    .ok_or_else(|| wrong("a number"))?
            ),
            _ => return Err(wrong("a number")),
        },
        InputType::Boolean => match value {
            FieldValue::Boolean(b) => json!(b),
            FieldValue::Text(s) if s.trim().eq_ignore_ascii_case("true") => json!(true),
            FieldValue::Text(s) if s.trim().eq_ignore_ascii_case("false") => json!(false),
            _ => return Err(wrong("true or false")),
        },
        InputType::DateTime => match value {
            FieldValue::DateTime(s) | FieldValue::Text(s) => {
                let parsed = time::OffsetDateTime::parse(
                    s.trim(),
                    &time::format_description::well_known::Rfc3339,
                )
                .map_err(|_| wrong("an RFC 3339 date-time (e.g. 2026-12-01T00:00:00Z)"))?;
                let utc = parsed.to_offset(time::UtcOffset::UTC);
                json!(
                    utc.format(&time::format_description::well_known::Rfc3339)
                        .unwrap_or_else(|_| s.clone())
                )
            }
            _ => return Err(wrong("a date-time")),
        },
        // ADO renders these as HTML: ticket text must not become markup.
        InputType::Html | InputType::History => {
            json!(html_escape::encode_text(&shown).replace('\n', "<br/>"))
        }
        InputType::Identity => return identity(&shown, field),
        InputType::TreePath => json!(
            tree_path(&shown)
                .map_err(|why| wrong(&format!("an area or iteration path ({why})")))?
        ),
        InputType::Text | InputType::PicklistString => {
            if shown.chars().any(|c| c == '\n' || c == '\r') && field.input_type == InputType::Text
            {
                return Err(wrong("single-line text"));
            }
            json!(shown)
        }
        InputType::PlainText | InputType::Guid => json!(shown),
    };
    check_length(&json, field)?;
    check_allowed(&json, field)?;
    Ok(json)
}

/// An HTML value the connector rendered itself (Smart Text): only the
/// target's type is checked, nothing is escaped twice.
pub fn coerce_html(html: &str, field: &FieldInfo) -> Result<Value, Issue> {
    match field.input_type {
        InputType::Html | InputType::History => Ok(json!(html)),
        _ => coerce(&FieldValue::Text(html.to_string()), field),
    }
}

fn check_length(json: &Value, field: &FieldInfo) -> Result<(), Issue> {
    let Some(text) = json
        .as_str()
        .filter(|_| field.input_type == InputType::Text)
    else {
        return Ok(());
    };
    let count = text.chars().count();
    if count > MAX_STRING_CHARS {
        let start: String = text.chars().take(40).collect();
        return Err(Issue::new(
            field.reference_name.clone(),
            "max-length",
            format!(
                "`{start}…` has {count} characters; {} ({}) holds at most {MAX_STRING_CHARS}",
                field.name, field.reference_name
            ),
        ));
    }
    Ok(())
}

fn check_allowed(json: &Value, field: &FieldInfo) -> Result<(), Issue> {
    if field.allowed_values.is_empty() {
        return Ok(());
    }
    let text = match json {
        Value::String(s) => s.clone(),
        other => other.to_string(),
    };
    if field.allowed_values.contains(&text) {
        return Ok(());
    }
    Err(Issue::new(
        field.reference_name.clone(),
        "allowed-values",
        format!(
            "`{text}` is not an allowed value of {} ({}){}; allowed: {}",
            field.name,
            field.reference_name,
            closest(&text, &field.allowed_values)
                .map(|c| format!("; did you mean `{c}`?"))
                .unwrap_or_default(),
            field.allowed_values.join(", ")
        ),
    ))
}

/// An identity as ADO accepts it: a sign-in name or email
/// (`jamal@contoso.example`), `Display Name <email>`, or the display name of
/// one of the identities the schema lists (sent as `Name <uniqueName>` so ADO
/// cannot pick a namesake).
fn identity(text: &str, field: &FieldInfo) -> Result<Value, Issue> {
    let text = text.trim();
    let refuse = |why: String| Issue::new(field.reference_name.clone(), "identity", why);
    if text.chars().any(char::is_control) || text.len() > 256 {
        return Err(refuse(format!(
            "`{}` is not an identity for {} ({})",
            text.escape_debug(),
            field.name,
            field.reference_name
        )));
    }
    if let Some(known) = field.identities.iter().find(|i| {
        i.unique_name.eq_ignore_ascii_case(text) || i.display_name.eq_ignore_ascii_case(text)
    }) {
        return Ok(json!(format!(
            "{} <{}>",
            known.display_name, known.unique_name
        )));
    }
    if let Some((name, rest)) = text.split_once('<') {
        let email = rest.strip_suffix('>').unwrap_or_default();
        if !name.trim().is_empty() && is_sign_in_name(email) {
            return Ok(json!(text));
        }
    } else if is_sign_in_name(text) {
        return Ok(json!(text));
    }
    let names: Vec<&str> = field
        .identities
        .iter()
        .map(|i| i.display_name.as_str())
        .collect();
    let hint = closest(
        text,
        &names.iter().map(|s| s.to_string()).collect::<Vec<_>>(),
    )
    .map(|c| format!("; did you mean `{c}`?"))
    .unwrap_or_default();
    Err(refuse(format!(
        "`{text}` is not an identity {} ({}) can resolve: use a sign-in name or email, or `Display Name <email>`{hint}",
        field.name, field.reference_name
    )))
}

fn is_sign_in_name(s: &str) -> bool {
    let s = s.trim();
    match s.split_once('@') {
        Some((user, domain)) => {
            !user.is_empty()
                && domain.contains('.')
                && !s.contains(char::is_whitespace)
                && !s.contains(['<', '>'])
        }
        None => false,
    }
}

/// `Project\Area\Sub`: backslash-separated, no empty or padded segments and
/// none of the characters ADO refuses in node names.
pub fn tree_path(text: &str) -> Result<String, &'static str> {
    let text = text.trim().trim_start_matches('\\');
    if text.is_empty() {
        return Err("empty");
    }
    for segment in text.split('\\') {
        if segment.is_empty() || segment.trim() != segment {
            return Err("empty or padded segment");
        }
        if segment
            .chars()
            .any(|c| c.is_control() || "/:*?\"<>|;#$%+,".contains(c))
        {
            return Err("a segment contains a character ADO refuses");
        }
    }
    Ok(text.to_string())
}

/// The allowed value a person most likely meant: same text ignoring case,
/// one that starts with or contains it (`1` → `1 - Critical`), else the most
/// similar spelling (`Actve` → `Active`).
pub fn closest<'a>(text: &str, allowed: &'a [String]) -> Option<&'a str> {
    let lower = text.trim().to_lowercase();
    if lower.is_empty() {
        return None;
    }
    allowed
        .iter()
        .find(|a| a.to_lowercase() == lower)
        .or_else(|| {
            allowed
                .iter()
                .find(|a| a.to_lowercase().starts_with(&lower))
        })
        .or_else(|| allowed.iter().find(|a| a.to_lowercase().contains(&lower)))
        .or_else(|| {
            allowed
                .iter()
                .map(|a| (strsim::jaro_winkler(&a.to_lowercase(), &lower), a))
                .filter(|(score, _)| *score >= 0.8)
                .max_by(|x, y| x.0.total_cmp(&y.0))
                .map(|(_, a)| a)
        })
        .map(String::as_str)
}

#[cfg(test)]
mod tests;
