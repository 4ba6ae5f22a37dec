//! Mapping rules applied to a ticket, and the coercion of each value to its
//! target field's input type.

use crate::config::{Rule, Source, Unmapped};
use crate::error::Issue;
use crate::model::{FieldValue, Ticket};
use crate::schema::{FieldInfo, InputType};

/// One mapped value before coercion.
#[derive(Debug, Clone, PartialEq)]
pub struct Mapped {
    pub target: String,
    pub value: FieldValue,
    /// Config path of the rule, for messages.
    pub rule_path: String,
}

/// Applies `rules` (at `stage` in the config) to the ticket. Empty source
/// values are left out: they would only clear fields ADO fills by default.
pub fn apply(stage: &str, rules: &[Rule], ticket: &Ticket) -> (Vec<Mapped>, Vec<Issue>) {
    let mut out = Vec::new();
    let mut issues = Vec::new();
    for (i, rule) in rules.iter().enumerate() {
        let rule_path = format!("$.{stage}[{i}]");
        let value = match &rule.source {
            Source::Field { field } => ticket.field(field).cloned().unwrap_or(FieldValue::Null),
            Source::Dictionary { field, map, unmapped, default } => {
                let source = ticket.field(field).cloned().unwrap_or(FieldValue::Null);
                if source.is_empty() {
                    continue;
                }
                let key = source.display();
                let hit = map.get(&key).or_else(|| map.iter().find(|(k, _)| k.eq_ignore_ascii_case(&key)).map(|(_, v)| v));
                match (hit, unmapped) {
                    (Some(v), _) => from_json(v),
                    (None, Unmapped::Skip) => continue,
                    (None, Unmapped::Default) => default.as_ref().map(from_json).unwrap_or(FieldValue::Null),
                    (None, Unmapped::Error) => {
                        let known: Vec<&str> = map.keys().map(String::as_str).collect();
                        issues.push(Issue::new(
                            format!("ticket.{field}"),
                            "unmapped-value",
                            format!(
                                "`{key}` has no entry in the dictionary of {} ({rule_path}); mapped values: {}",
                                rule.target,
                                known.join(", ")
                            ),
                        ));
                        continue;
                    }
                }
            }
            // Rejected by config validation; never reached with a parsed config.
            Source::Template { .. } | Source::Script { .. } => continue,
        };
        if value.is_empty() {
            continue;
        }
        out.push(Mapped { target: rule.target.clone(), value, rule_path });
    }
    (out, issues)
}

/// A dictionary value from the config as a field value.
pub fn from_json(v: &serde_json::Value) -> FieldValue {
    match v {
        serde_json::Value::Null => FieldValue::Null,
        serde_json::Value::Bool(b) => FieldValue::Boolean(*b),
        serde_json::Value::Number(n) => n.as_i64().map(FieldValue::Integer).unwrap_or(FieldValue::Number(n.as_f64().unwrap_or(0.0))),
        serde_json::Value::String(s) => FieldValue::Text(s.clone()),
        serde_json::Value::Array(a) => FieldValue::TextList(a.iter().map(|x| x.as_str().map(str::to_string).unwrap_or_else(|| x.to_string())).collect()),
        serde_json::Value::Object(_) => FieldValue::Text(v.to_string()),
    }
}

/// Converts a value to what ADO expects for the field, checking allowed values.
pub fn coerce(value: &FieldValue, field: &FieldInfo) -> Result<serde_json::Value, Issue> {
    let shown = value.display();
    let wrong = |expected: &str| {
        Issue::new(
            field.reference_name.clone(),
            "input-type",
            format!("`{shown}` is not {expected}, as {} ({}) requires", field.name, field.reference_name),
        )
    };
    let json = match field.input_type {
        InputType::Integer | InputType::PicklistInteger => match value {
            FieldValue::Integer(i) => serde_json::json!(i),
            FieldValue::Number(n) if n.fract() == 0.0 && n.abs() < 9.0e15 => serde_json::json!(*n as i64),
            FieldValue::Text(s) => serde_json::json!(s.trim().parse::<i64>().map_err(|_| wrong("a whole number"))?),
            _ => return Err(wrong("a whole number")),
        },
        InputType::Double | InputType::PicklistDouble => match value {
            FieldValue::Integer(i) => serde_json::json!(*i as f64),
            FieldValue::Number(n) => serde_json::json!(n),
            FieldValue::Text(s) => serde_json::json!(s.trim().parse::<f64>().map_err(|_| wrong("a number"))?),
            _ => return Err(wrong("a number")),
        },
        InputType::Boolean => match value {
            FieldValue::Boolean(b) => serde_json::json!(b),
            FieldValue::Text(s) if s.eq_ignore_ascii_case("true") => serde_json::json!(true),
            FieldValue::Text(s) if s.eq_ignore_ascii_case("false") => serde_json::json!(false),
            _ => return Err(wrong("true or false")),
        },
        InputType::DateTime => match value {
            FieldValue::DateTime(s) | FieldValue::Text(s) => {
                let parsed = time::OffsetDateTime::parse(s.trim(), &time::format_description::well_known::Rfc3339)
                    .map_err(|_| wrong("an RFC 3339 date-time (e.g. 2026-12-01T00:00:00Z)"))?;
                let utc = parsed.to_offset(time::UtcOffset::UTC);
                serde_json::json!(utc.format(&time::format_description::well_known::Rfc3339).unwrap_or_else(|_| s.clone()))
            }
            _ => return Err(wrong("a date-time")),
        },
        // ADO renders these as HTML: ticket text must not become markup.
        InputType::Html | InputType::History => {
            serde_json::json!(html_escape::encode_text(&shown).replace('\n', "<br/>"))
        }
        _ => serde_json::json!(shown),
    };
    if !field.allowed_values.is_empty() {
        let text = match &json {
            serde_json::Value::String(s) => s.clone(),
            other => other.to_string(),
        };
        if !field.allowed_values.contains(&text) {
            return Err(Issue::new(
                field.reference_name.clone(),
                "allowed-values",
                format!(
                    "`{text}` is not an allowed value of {} ({}){}; allowed: {}",
                    field.name,
                    field.reference_name,
                    closest(&text, &field.allowed_values).map(|c| format!("; did you mean `{c}`?")).unwrap_or_default(),
                    field.allowed_values.join(", ")
                ),
            ));
        }
    }
    Ok(json)
}

/// The allowed value a person most likely meant: same text ignoring case, or
/// one that starts with it (`1` → `1 - Critical`).
fn closest<'a>(text: &str, allowed: &'a [String]) -> Option<&'a str> {
    let lower = text.trim().to_lowercase();
    if lower.is_empty() {
        return None;
    }
    allowed
        .iter()
        .find(|a| a.to_lowercase() == lower)
        .or_else(|| allowed.iter().find(|a| a.to_lowercase().starts_with(&lower)))
        .or_else(|| allowed.iter().find(|a| a.to_lowercase().contains(&lower)))
        .map(String::as_str)
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeMap;

    use super::*;
    use crate::model::Field;

    fn field(ty: InputType, allowed: &[&str]) -> FieldInfo {
        FieldInfo {
            reference_name: "Microsoft.VSTS.Common.Severity".into(),
            name: "Severity".into(),
            input_type: ty,
            required: false,
            read_only: false,
            allowed_values: allowed.iter().map(|s| s.to_string()).collect(),
            default_value: None,
            help_text: None,
        }
    }

    fn ticket(fields: &[(&str, FieldValue)]) -> Ticket {
        Ticket {
            id: "SEC-1".into(),
            url: "https://secops.example/t/1".into(),
            fields: fields.iter().map(|(n, v)| Field { name: n.to_string(), value: v.clone() }).collect(),
            findings: vec![],
            comments: vec![],
        }
    }

    #[test]
    fn dictionary_maps_severity_and_reports_unmapped_values() {
        let map: BTreeMap<String, serde_json::Value> = [("CRITICAL".to_string(), serde_json::json!(1))].into();
        let rules = vec![Rule {
            target: "Microsoft.VSTS.Common.Priority".into(),
            source: Source::Dictionary { field: "severity".into(), map, unmapped: Unmapped::Error, default: None },
        }];
        let (ok, issues) = apply("dispatch", &rules, &ticket(&[("severity", FieldValue::Text("critical".into()))]));
        assert_eq!(ok[0].value, FieldValue::Integer(1));
        assert!(issues.is_empty());
        let (_, issues) = apply("dispatch", &rules, &ticket(&[("severity", FieldValue::Text("LOW".into()))]));
        assert_eq!(issues[0].path, "ticket.severity");
        assert!(issues[0].message.contains("`LOW`"));
    }

    #[test]
    fn allowed_values_are_enforced_with_a_suggestion() {
        let f = field(InputType::PicklistString, &["1 - Critical", "2 - High"]);
        let err = coerce(&FieldValue::Text("1".into()), &f).unwrap_err();
        assert_eq!(err.rule, "allowed-values");
        assert!(err.message.contains("did you mean `1 - Critical`"), "{}", err.message);
        assert_eq!(coerce(&FieldValue::Text("2 - High".into()), &f).unwrap(), serde_json::json!("2 - High"));
    }

    #[test]
    fn integers_are_coerced_and_bad_ones_named() {
        let f = field(InputType::Integer, &[]);
        assert_eq!(coerce(&FieldValue::Text(" 3 ".into()), &f).unwrap(), serde_json::json!(3));
        let err = coerce(&FieldValue::Text("three".into()), &f).unwrap_err();
        assert!(err.message.contains("`three`") && err.path == "Microsoft.VSTS.Common.Severity");
    }

    #[test]
    fn html_targets_escape_ticket_text() {
        let f = field(InputType::Html, &[]);
        let v = coerce(&FieldValue::Text("<script>alert(1)</script>\nline".into()), &f).unwrap();
        assert_eq!(v, serde_json::json!("&lt;script&gt;alert(1)&lt;/script&gt;<br/>line"));
    }

    #[test]
    fn dates_are_normalised_to_utc_and_wrong_ones_refused() {
        let f = field(InputType::DateTime, &[]);
        assert_eq!(coerce(&FieldValue::Text("2026-12-01T02:00:00+02:00".into()), &f).unwrap(), serde_json::json!("2026-12-01T00:00:00Z"));
        assert!(coerce(&FieldValue::Text("tomorrow".into()), &f).is_err());
    }
}
