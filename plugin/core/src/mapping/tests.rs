//! The engine end to end inside core: each source method, hostile input.

use std::collections::BTreeMap;

use serde_json::json;

use super::*;
use crate::config::{Unmapped, parse};
use crate::model::{Field, Finding};

fn ticket(fields: &[(&str, FieldValue)]) -> Ticket {
    Ticket {
        id: "SEC-1".into(),
        url: "https://secops.example/t/1".into(),
        fields: fields
            .iter()
            .map(|(n, v)| Field {
                name: n.to_string(),
                value: v.clone(),
            })
            .collect(),
        findings: vec![
            Finding {
                id: "F-1".into(),
                status: "open".into(),
                fields: vec![Field {
                    name: "cve".into(),
                    value: FieldValue::Text("CVE-2026-1".into()),
                }],
            },
            Finding {
                id: "F-2".into(),
                status: "fixed".into(),
                fields: vec![],
            },
        ],
        comments: vec![],
    }
}

fn text(s: &str) -> FieldValue {
    FieldValue::Text(s.into())
}

fn rules(json: &str) -> (Vec<Rule>, BTreeMap<String, String>) {
    let c = parse(&format!(
        r#"{{"version":2,"work_item_type":"Bug","dispatch":[{json}]}}"#
    ))
    .unwrap();
    (c.dispatch.clone(), c.labels.clone())
}

fn html_targets(t: &str) -> bool {
    t == "System.Description"
}

#[test]
fn field_copies_the_ticket_value() {
    let (r, l) = rules(r#"{"target":"System.Title","method":"field","field":"title"}"#);
    let (ok, issues) = apply(
        "dispatch",
        &r,
        &ticket(&[("title", text("XSS"))]),
        &l,
        &html_targets,
    );
    assert!(issues.is_empty());
    assert_eq!(
        (ok[0].target.as_str(), &ok[0].value, ok[0].html),
        ("System.Title", &text("XSS"), false)
    );
}

#[test]
fn empty_and_missing_sources_are_left_out() {
    let (r, l) = rules(
        r#"{"target":"System.Title","method":"field","field":"title"},{"target":"System.AssignedTo","method":"field","field":"assignee"}"#,
    );
    let (ok, issues) = apply(
        "dispatch",
        &r,
        &ticket(&[("title", text("  "))]),
        &l,
        &html_targets,
    );
    assert!(ok.is_empty() && issues.is_empty());
}

#[test]
fn dictionary_maps_severity_and_reports_unmapped_values() {
    let map: BTreeMap<String, serde_json::Value> = [("CRITICAL".to_string(), json!(1))].into();
    let rules = vec![Rule {
        target: "Microsoft.VSTS.Common.Priority".into(),
        source: Source::Dictionary {
            field: "severity".into(),
            map,
            unmapped: Unmapped::Error,
            default: None,
        },
    }];
    let none = BTreeMap::new();
    let (ok, issues) = apply(
        "dispatch",
        &rules,
        &ticket(&[("severity", text("critical"))]),
        &none,
        &html_targets,
    );
    assert_eq!(ok[0].value, FieldValue::Integer(1));
    assert!(issues.is_empty());
    let (_, issues) = apply(
        "dispatch",
        &rules,
        &ticket(&[("severity", text("LOW"))]),
        &none,
        &html_targets,
    );
    assert_eq!(
        (issues[0].path.as_str(), issues[0].rule.as_str()),
        ("ticket.severity", "unmapped-value")
    );
    assert!(issues[0].message.contains("`LOW`") && issues[0].message.contains("CRITICAL"));
}

#[test]
fn template_for_an_html_target_is_rendered_html_with_escaped_values() {
    let (r, l) = rules(
        r#"{"target":"System.Description","method":"template","format":"markdown","template":"**{{Ticket Title}}**\n\n{{#each findings}}- {{id}} {{cve | default:\"none\"}}\n{{/each}}"}"#,
    );
    let (ok, issues) = apply(
        "dispatch",
        &r,
        &ticket(&[("title", text("<script>alert('x')</script>"))]),
        &l,
        &html_targets,
    );
    assert!(issues.is_empty(), "{issues:?}");
    let FieldValue::Text(html) = &ok[0].value else {
        panic!()
    };
    assert!(ok[0].html);
    assert!(
        html.contains("<strong>&lt;script&gt;alert('x')&lt;/script&gt;</strong>"),
        "{html}"
    );
    assert!(
        html.contains("<li>F-1 CVE-2026-1</li>") && html.contains("<li>F-2 none</li>"),
        "{html}"
    );
}

#[test]
fn template_for_a_text_target_is_plain() {
    let (r, l) = rules(
        r#"{"target":"System.Title","method":"template","template":"[{{severity | upper}}] {{title}}"}"#,
    );
    let (ok, _) = apply(
        "dispatch",
        &r,
        &ticket(&[("title", text("a {{b}} <c>")), ("severity", text("high"))]),
        &l,
        &html_targets,
    );
    assert_eq!(ok[0].value, text("[HIGH] a {{b}} <c>"));
    assert!(!ok[0].html);
}

#[test]
fn a_wrong_date_in_a_template_is_a_problem_naming_target_and_value() {
    let (r, l) = rules(
        r#"{"target":"System.Title","method":"template","template":"due {{due_date | date}}"}"#,
    );
    let (ok, issues) = apply(
        "dispatch",
        &r,
        &ticket(&[("due_date", text("31/12/2026"))]),
        &l,
        &html_targets,
    );
    assert!(ok.is_empty());
    assert_eq!(
        (issues[0].path.as_str(), issues[0].rule.as_str()),
        ("System.Title", "date")
    );
    assert!(
        issues[0].message.contains("`31/12/2026`"),
        "{}",
        issues[0].message
    );
}

#[test]
fn config_labels_extend_the_known_ones() {
    let c = parse(
        r#"{"version":2,"work_item_type":"Bug","labels":{"Ticket Squad":"team"},
        "dispatch":[{"target":"System.Title","method":"template","template":"{{Ticket Squad}}"}]}"#,
    )
    .unwrap();
    let (ok, _) = apply(
        "dispatch",
        &c.dispatch,
        &ticket(&[("team", text("red"))]),
        &c.labels,
        &html_targets,
    );
    assert_eq!(ok[0].value, text("red"));
}

#[test]
fn script_computes_the_value_from_ticket_and_findings() {
    let (r, l) = rules(
        r#"{"target":"Microsoft.VSTS.Common.Priority","method":"script","script":"def main(ticket, findings):\n    open = [f for f in findings if f['status'] == 'open']\n    return 1 if ticket['severity'] == 'CRITICAL' and open else 3\n"}"#,
    );
    let (ok, issues) = apply(
        "dispatch",
        &r,
        &ticket(&[("severity", text("CRITICAL"))]),
        &l,
        &html_targets,
    );
    assert!(issues.is_empty(), "{issues:?}");
    assert_eq!(ok[0].value, FieldValue::Integer(1));
}

#[test]
fn script_output_for_html_targets_is_escaped_later_not_trusted() {
    let (r, l) = rules(
        r#"{"target":"System.Description","method":"script","script":"def main(t, f):\n    return '<b>' + t['title'] + '</b>'\n"}"#,
    );
    let (ok, _) = apply(
        "dispatch",
        &r,
        &ticket(&[("title", text("x"))]),
        &l,
        &html_targets,
    );
    assert!(
        !ok[0].html,
        "script text is coerced (escaped) like any ticket text"
    );
}

#[test]
fn a_script_that_raises_is_a_problem_with_line_and_message() {
    let (r, l) = rules(
        r#"{"target":"System.Title","method":"script","script":"def main(t, f):\n    x = 1\n    fail('boom: ' + t['id'])\n"}"#,
    );
    let (ok, issues) = apply("dispatch", &r, &ticket(&[]), &l, &html_targets);
    assert!(ok.is_empty());
    assert_eq!(
        (issues[0].path.as_str(), issues[0].rule.as_str()),
        ("System.Title", "script-error")
    );
    assert!(
        issues[0].message.contains("line 3") && issues[0].message.contains("boom: SEC-1"),
        "{}",
        issues[0].message
    );
}

#[test]
fn a_script_that_loops_forever_is_a_budget_problem() {
    let (r, l) = rules(
        r#"{"target":"System.Title","method":"script","script":"def main(t, f):\n    for i in range(2000000000):\n        pass\n"}"#,
    );
    let (_, issues) = apply("dispatch", &r, &ticket(&[]), &l, &html_targets);
    assert_eq!(issues[0].rule, "script-budget", "{issues:?}");
}

#[test]
fn a_script_returning_a_dict_is_refused() {
    let (r, l) = rules(
        r#"{"target":"System.Title","method":"script","script":"def main(t, f):\n    return {'a': 1}\n"}"#,
    );
    let (_, issues) = apply("dispatch", &r, &ticket(&[]), &l, &html_targets);
    assert!(issues[0].message.contains("dict"), "{issues:?}");
}

#[test]
fn a_script_returning_none_leaves_the_field_out() {
    let (r, l) = rules(
        r#"{"target":"System.Title","method":"script","script":"def main(t, f):\n    return None\n"}"#,
    );
    let (ok, issues) = apply("dispatch", &r, &ticket(&[]), &l, &html_targets);
    assert!(ok.is_empty() && issues.is_empty());
}
