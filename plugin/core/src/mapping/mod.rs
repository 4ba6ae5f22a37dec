//! The mapping engine: rules of a config stage applied to a ticket (for
//! `dispatch` and `to_ado`) or to a work item's fields (`from_ado`), by one
//! of four source methods — `field`, `dictionary`, `template`, `script` —
//! then coerced and checked against the live ADO schema.

pub mod coerce;
pub mod defaults;
pub mod dictionary;
pub mod from_ado;
pub mod labels;
pub mod markdown;
pub mod script;
pub mod template;
pub mod tree_paths;
pub mod validate;

use std::collections::BTreeMap;

use serde_json::{Value, json};

use crate::config::{Rule, Source, TemplateFormat};
use crate::error::Issue;
use crate::model::{FieldValue, Ticket};
use dictionary::Lookup;
use template::{Format, Output, Template};

pub use coerce::coerce;

/// One mapped value before coercion.
#[derive(Debug, Clone, PartialEq)]
pub struct Mapped {
    pub target: String,
    pub value: FieldValue,
    /// The value is HTML the connector rendered (Smart Text for an HTML
    /// target): it must not be escaped again.
    pub html: bool,
    /// Config path of the rule, for messages.
    pub rule_path: String,
}

/// The ticket as the JSON a template or script sees: its fields by system
/// name, plus `id`, `url` and `findings` (each with `id`, `status` and its fields).
pub fn ticket_context(ticket: &Ticket) -> Value {
    let mut root = serde_json::Map::new();
    for f in &ticket.fields {
        root.insert(f.name.clone(), to_json(&f.value));
    }
    root.insert("id".into(), json!(ticket.id));
    root.insert("url".into(), json!(ticket.url));
    root.insert("findings".into(), Value::Array(findings_context(ticket)));
    Value::Object(root)
}

fn findings_context(ticket: &Ticket) -> Vec<Value> {
    ticket
        .findings
        .iter()
        .map(|f| {
            let mut o = serde_json::Map::new();
            for field in &f.fields {
                o.insert(field.name.clone(), to_json(&field.value));
            }
            o.insert("id".into(), json!(f.id));
            o.insert("status".into(), json!(f.status));
            Value::Object(o)
        })
        .collect()
}

/// A field value as JSON.
pub fn to_json(v: &FieldValue) -> Value {
    match v {
        FieldValue::Null => Value::Null,
        FieldValue::Text(s) | FieldValue::DateTime(s) => json!(s),
        FieldValue::Integer(i) => json!(i),
        FieldValue::Number(n) => json!(n),
        FieldValue::Boolean(b) => json!(b),
        FieldValue::TextList(l) => json!(l),
    }
}

/// A config or script value as a field value. Identity objects become their
/// unique name; other objects their JSON text.
pub fn from_json(v: &Value) -> FieldValue {
    match v {
        Value::Null => FieldValue::Null,
        Value::Bool(b) => FieldValue::Boolean(*b),
        Value::Number(n) => n
            .as_i64()
            .map(FieldValue::Integer)
            .unwrap_or(FieldValue::Number(n.as_f64().unwrap_or(0.0))),
        Value::String(s) => FieldValue::Text(s.clone()),
        Value::Array(a) => FieldValue::TextList(a.iter().map(template::display).collect()),
        Value::Object(o) => match o
            .get("uniqueName")
            .or_else(|| o.get("displayName"))
            .and_then(Value::as_str)
        {
            Some(name) => FieldValue::Text(name.to_string()),
            None => FieldValue::Text(v.to_string()),
        },
    }
}

/// Applies `rules` (at `stage` in the config) to the ticket. `is_html` says
/// which targets hold HTML (Smart Text renders HTML for those). Empty values
/// are left out: they would only clear fields ADO fills by default.
pub fn apply(
    stage: &str,
    rules: &[Rule],
    ticket: &Ticket,
    labels: &BTreeMap<String, String>,
    is_html: &dyn Fn(&str) -> bool,
) -> (Vec<Mapped>, Vec<Issue>) {
    let context = ticket_context(ticket);
    let mut out = Vec::new();
    let mut issues = Vec::new();
    for (i, rule) in rules.iter().enumerate() {
        let rule_path = format!("$.{stage}[{i}]");
        let html_target = is_html(&rule.target);
        let mut html = false;
        let value = match &rule.source {
            Source::Field { field } => ticket.field(field).cloned().unwrap_or(FieldValue::Null),
            Source::Dictionary {
                field,
                map,
                unmapped,
                default,
            } => {
                let source = ticket.field(field).cloned().unwrap_or(FieldValue::Null);
                if source.is_empty() {
                    continue;
                }
                let key = source.display();
                match dictionary::lookup(map, *unmapped, default.as_ref(), &key) {
                    Lookup::Hit(v) => from_json(&v),
                    Lookup::Skip => continue,
                    Lookup::Miss(known) => {
                        issues.push(unmapped_issue(
                            &format!("ticket.{field}"),
                            &key,
                            &rule.target,
                            &rule_path,
                            &known,
                        ));
                        continue;
                    }
                }
            }
            Source::Template { template, format } => {
                let output = if html_target {
                    Output::Html
                } else {
                    Output::Plain
                };
                match render(template, *format, output, &context, labels) {
                    Ok(text) => {
                        html = html_target;
                        FieldValue::Text(text)
                    }
                    Err(e) => {
                        issues.push(Issue::new(
                            rule.target.clone(),
                            e.rule,
                            format!("template of {} ({rule_path}): {e}", rule.target),
                        ));
                        continue;
                    }
                }
            }
            Source::Script { script: source } => {
                let findings = context.get("findings").cloned().unwrap_or(Value::Null);
                match script::run(source, &[context.clone(), findings]) {
                    Ok(v) => match script_value(v) {
                        Ok(v) => v,
                        Err(why) => {
                            issues.push(Issue::new(
                                rule.target.clone(),
                                "script-error",
                                format!("script of {} ({rule_path}): {why}", rule.target),
                            ));
                            continue;
                        }
                    },
                    Err(e) => {
                        issues.push(Issue::new(
                            rule.target.clone(),
                            e.rule,
                            format!("script of {} ({rule_path}): {e}", rule.target),
                        ));
                        continue;
                    }
                }
            }
        };
        if value.is_empty() {
            continue;
        }
        out.push(Mapped {
            target: rule.target.clone(),
            value,
            html,
            rule_path,
        });
    }
    (out, issues)
}

pub(crate) fn render(
    text: &str,
    format: TemplateFormat,
    output: Output,
    context: &Value,
    labels: &BTreeMap<String, String>,
) -> Result<String, template::TemplateError> {
    let format = match format {
        TemplateFormat::Text => Format::Text,
        TemplateFormat::Markdown => Format::Markdown,
    };
    Template::parse(text, labels)?.render(context, format, output)
}

/// A script's return value as a field value: scalars and lists of scalars.
pub(crate) fn script_value(v: Value) -> Result<FieldValue, String> {
    match &v {
        Value::Object(_) => {
            Err("`main` returned a dict; return text, a number, a boolean, a list or None".into())
        }
        Value::Array(items) if items.iter().any(|i| i.is_object() || i.is_array()) => {
            Err("`main` returned a list of lists or dicts; return a list of text".into())
        }
        _ => Ok(from_json(&v)),
    }
}

pub(crate) fn unmapped_issue(
    path: &str,
    key: &str,
    target: &str,
    rule_path: &str,
    known: &[String],
) -> Issue {
    Issue::new(
        path,
        "unmapped-value",
        format!(
            "`{key}` has no entry in the dictionary of {target} ({rule_path}); mapped values: {}",
            known.join(", ")
        ),
    )
}

#[cfg(test)]
mod tests;
