//! Static checks of a parsed config, without the ADO schema: every problem
//! at once, each with its JSON path. Templates are parsed and scripts
//! compiled here, so a broken rule is caught before any ticket meets it.

use std::collections::BTreeSet;

use super::{CONFIG_VERSION, Config, READABLE_VERSIONS, Source, Unmapped, stages, tag_problem};
use crate::error::Issue;
use crate::mapping::{script, template::Template};

pub(super) fn check(config: &Config) -> Vec<Issue> {
    let mut issues = Vec::new();
    if !READABLE_VERSIONS.contains(&config.version) {
        issues.push(Issue::new(
            "$.version",
            "version",
            format!(
                "version {} is not supported; this connector reads versions 1 and {CONFIG_VERSION}",
                config.version
            ),
        ));
    }
    if config.work_item_type.trim().is_empty() {
        issues.push(Issue::new(
            "$.work_item_type",
            "required",
            "the work item type is empty",
        ));
    }
    for (i, tag) in config.tags.iter().enumerate() {
        if let Some(problem) = tag_problem(tag) {
            issues.push(Issue::new(
                format!("$.tags[{i}]"),
                "tag",
                format!("tag `{tag}` {problem}"),
            ));
        }
    }
    for (i, field) in config.mandatory_fields.iter().enumerate() {
        if field.trim().is_empty() {
            issues.push(Issue::new(
                format!("$.mandatory_fields[{i}]"),
                "required",
                "empty field name",
            ));
        }
    }
    for (label, name) in &config.labels {
        if label.trim().is_empty()
            || name.trim().is_empty()
            || name.chars().any(char::is_whitespace)
        {
            issues.push(Issue::new(
                format!("$.labels[\"{label}\"]"),
                "label",
                format!("label `{label}` → `{name}`: a label needs a non-empty system name without spaces"),
            ));
        }
    }
    if let Some(attachment) = &config.attachment {
        issues.extend(attachment.validate("$.attachment"));
    }
    super::sync::check(&config.sync, &mut issues);
    for (stage, rules) in stages(config) {
        let mut seen = BTreeSet::new();
        for (i, rule) in rules.iter().enumerate() {
            let path = format!("$.{stage}[{i}]");
            check_target(stage, &path, &rule.target, &mut issues);
            if !seen.insert(rule.target.to_ascii_lowercase()) {
                issues.push(Issue::new(
                    format!("{path}.target"),
                    "duplicate",
                    format!("`{}` is mapped twice in {stage}", rule.target),
                ));
            }
            if config.version < 2
                && matches!(rule.source, Source::Template { .. } | Source::Script { .. })
            {
                issues.push(Issue::new(
                    format!("{path}.method"),
                    "version",
                    format!(
                        "the `{}` method needs `\"version\": 2`",
                        rule.source.method()
                    ),
                ));
                continue;
            }
            check_source(stage, &path, &rule.source, config, &mut issues);
        }
    }
    issues
}

/// ADO reference names (`System.Title`, `Custom.Team`) have no spaces;
/// ticket system names (`due_date`) neither.
fn check_target(stage: &str, path: &str, target: &str, issues: &mut Vec<Issue>) {
    let what = if stage == "from_ado" {
        "a ticket field name (e.g. status)"
    } else {
        "a field reference name (e.g. System.Title)"
    };
    if target.trim().is_empty() || target.chars().any(|c| c.is_whitespace() || c.is_control()) {
        issues.push(Issue::new(
            format!("{path}.target"),
            "target",
            format!("`{target}` is not {what}"),
        ));
    }
}

fn check_source(
    stage: &str,
    path: &str,
    source: &Source,
    config: &Config,
    issues: &mut Vec<Issue>,
) {
    match source {
        Source::Field { field } | Source::Dictionary { field, .. } if field.trim().is_empty() => {
            issues.push(Issue::new(
                format!("{path}.field"),
                "required",
                "the source field is empty",
            ));
        }
        Source::Field { field } | Source::Dictionary { field, .. }
            if stage == "from_ado" && field.chars().any(char::is_whitespace) =>
        {
            issues.push(Issue::new(
                format!("{path}.field"),
                "field",
                format!("`{field}` is not a work item field reference name (e.g. System.State)"),
            ));
        }
        Source::Dictionary {
            unmapped: Unmapped::Default,
            default: None,
            ..
        } => {
            issues.push(Issue::new(
                format!("{path}.default"),
                "required",
                "`unmapped` is `default` but no `default` value is given",
            ));
        }
        Source::Dictionary {
            map,
            unmapped: Unmapped::Error,
            ..
        } if map.is_empty() => {
            issues.push(Issue::new(
                format!("{path}.map"),
                "required",
                "the dictionary is empty and `unmapped` is `error`: every value would be refused",
            ));
        }
        Source::Template { template, .. } => {
            if let Err(e) = Template::parse(template, &config.labels) {
                issues.push(Issue::new(
                    format!("{path}.template"),
                    e.rule,
                    e.to_string(),
                ));
            }
        }
        Source::Script { script: source } => {
            if let Err(e) = script::check(source) {
                issues.push(Issue::new(format!("{path}.script"), e.rule, e.to_string()));
            }
        }
        _ => {}
    }
}
