//! The `from_ado` stage: a work item's fields (as ADO returns them, by
//! reference name) become ticket field changes. Targets are ticket system
//! names; sources are ADO reference names. The webhook handler calls this.

use serde_json::Value;

use super::dictionary::{self, Lookup};
use super::template::Output;
use super::{from_json, render, script, script_value, unmapped_issue};
use crate::config::{Config, Source};
use crate::error::Issue;
use crate::model::{Field, FieldValue};

/// Ticket field changes for a work item's `fields`, and every problem met.
/// A `field` rule whose source is absent or empty clears the ticket field
/// (the work item was unassigned, say); a dictionary or script with nothing
/// to say leaves it alone.
pub fn evaluate(
    config: &Config,
    fields: &serde_json::Map<String, Value>,
) -> (Vec<Field>, Vec<Issue>) {
    let context = Value::Object(fields.clone());
    let get = |name: &str| {
        fields.get(name).or_else(|| {
            fields
                .iter()
                .find(|(k, _)| k.eq_ignore_ascii_case(name))
                .map(|(_, v)| v)
        })
    };
    let mut out = Vec::new();
    let mut issues = Vec::new();
    for (i, rule) in config.from_ado.iter().enumerate() {
        let rule_path = format!("$.from_ado[{i}]");
        let value = match &rule.source {
            Source::Field { field } => get(field).map(from_json).unwrap_or(FieldValue::Null),
            Source::Dictionary {
                field,
                map,
                unmapped,
                default,
            } => {
                let source = get(field).map(from_json).unwrap_or(FieldValue::Null);
                if source.is_empty() {
                    continue;
                }
                let key = source.display();
                match dictionary::lookup(map, *unmapped, default.as_ref(), &key) {
                    Lookup::Hit(v) => from_json(&v),
                    Lookup::Skip => continue,
                    Lookup::Miss(known) => {
                        issues.push(unmapped_issue(
                            field,
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
                match render(template, *format, Output::Plain, &context, &config.labels) {
                    Ok(text) => FieldValue::Text(text),
                    Err(e) => {
                        issues.push(Issue::new(
                            format!("ticket.{}", rule.target),
                            e.rule,
                            format!("template ({rule_path}): {e}"),
                        ));
                        continue;
                    }
                }
            }
            Source::Script { script: source } => {
                match script::run(source, std::slice::from_ref(&context))
                    .map_err(|e| (e.rule, e.to_string()))
                    .and_then(|v| script_value(v).map_err(|m| ("script-error", m)))
                {
                    Ok(FieldValue::Null) => continue,
                    Ok(v) => v,
                    Err((failed, message)) => {
                        issues.push(Issue::new(
                            format!("ticket.{}", rule.target),
                            failed,
                            format!("script ({rule_path}): {message}"),
                        ));
                        continue;
                    }
                }
            }
        };
        out.push(Field {
            name: rule.target.clone(),
            value,
        });
    }
    (out, issues)
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;
    use crate::config::parse;

    fn config(rules: &str) -> Config {
        std::rc::Rc::unwrap_or_clone(
            parse(&format!(
                r#"{{"version":2,"work_item_type":"Bug","from_ado":[{rules}]}}"#
            ))
            .unwrap(),
        )
    }

    fn fields(v: Value) -> serde_json::Map<String, Value> {
        v.as_object().unwrap().clone()
    }

    #[test]
    fn state_maps_to_ticket_status_through_a_dictionary() {
        let c = config(
            r#"{"target":"status","method":"dictionary","field":"System.State","map":{"Closed":"RESOLVED","Active":"IN_PROGRESS"}}"#,
        );
        let (changes, issues) = evaluate(&c, &fields(json!({"System.State": "Closed"})));
        assert!(issues.is_empty());
        assert_eq!(
            changes,
            vec![Field {
                name: "status".into(),
                value: FieldValue::Text("RESOLVED".into())
            }]
        );
    }

    #[test]
    fn an_unmapped_state_is_reported_naming_the_value() {
        let c = config(
            r#"{"target":"status","method":"dictionary","field":"System.State","map":{"Closed":"RESOLVED"}}"#,
        );
        let (changes, issues) = evaluate(&c, &fields(json!({"System.State": "Removed"})));
        assert!(changes.is_empty());
        assert_eq!(
            (issues[0].path.as_str(), issues[0].rule.as_str()),
            ("System.State", "unmapped-value")
        );
        assert!(issues[0].message.contains("`Removed`"));
    }

    #[test]
    fn identities_become_their_unique_name_and_absent_fields_clear_the_ticket_field() {
        let c = config(
            r#"{"target":"assignee","method":"field","field":"System.AssignedTo"},
               {"target":"due_date","method":"field","field":"Microsoft.VSTS.Scheduling.DueDate"}"#,
        );
        let (changes, _) = evaluate(
            &c,
            &fields(
                json!({"System.AssignedTo": {"displayName": "Jamal Hartnett", "uniqueName": "jamal@contoso.example"}}),
            ),
        );
        assert_eq!(
            changes[0].value,
            FieldValue::Text("jamal@contoso.example".into())
        );
        assert_eq!(changes[1].value, FieldValue::Null);
    }

    #[test]
    fn templates_and_scripts_read_reference_names() {
        let c = config(
            r##"{"target":"summary","method":"template","template":"#{{System.Id}}: {{System.Title | upper}}"},
               {"target":"priority_label","method":"script","script":"def main(fields):\n    return 'P%d' % fields['Microsoft.VSTS.Common.Priority']\n"}"##,
        );
        let (changes, issues) = evaluate(
            &c,
            &fields(
                json!({"System.Id": 7, "System.Title": "xss", "Microsoft.VSTS.Common.Priority": 1}),
            ),
        );
        assert!(issues.is_empty(), "{issues:?}");
        assert_eq!(changes[0].value, FieldValue::Text("#7: XSS".into()));
        assert_eq!(changes[1].value, FieldValue::Text("P1".into()));
    }

    #[test]
    fn a_failing_script_names_the_ticket_field() {
        let c = config(
            r#"{"target":"status","method":"script","script":"def main(fields):\n    return fields['Nope']\n"}"#,
        );
        let (_, issues) = evaluate(&c, &fields(json!({})));
        assert_eq!(
            (issues[0].path.as_str(), issues[0].rule.as_str()),
            ("ticket.status", "script-error")
        );
        assert!(
            issues[0].message.contains("line 2"),
            "{}",
            issues[0].message
        );
    }
}
