//! The outegration config (one per work item type): versioned JSON with a
//! JSON Schema generated from these types.

use std::collections::BTreeMap;

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use crate::error::{ConnectorError, Issue};

/// The only config version this connector reads.
pub const CONFIG_VERSION: u32 = 1;

/// How a ticket maps onto one Azure DevOps work item type.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Config {
    /// Config format version; must be 1.
    pub version: u32,
    /// Work item type to create, e.g. `Bug`.
    pub work_item_type: String,
    /// State for new work items; must be one of the type's initial states.
    /// Absent: ADO's default initial state.
    #[serde(default)]
    pub initial_state: Option<String>,
    /// Area path (`Project\Team`); absent: the project's default.
    #[serde(default)]
    pub area_path: Option<String>,
    /// Iteration path; absent: the project's default.
    #[serde(default)]
    pub iteration_path: Option<String>,
    /// Tags added to every work item (besides the ticket's own tag).
    #[serde(default)]
    pub tags: Vec<String>,
    /// Ticket fields that must have a value before a dispatch is allowed.
    #[serde(default)]
    pub mandatory_fields: Vec<String>,
    /// Mapping applied when the work item is created.
    #[serde(default)]
    pub dispatch: Vec<Rule>,
    /// Mapping applied when the ticket changes (ticket → work item).
    #[serde(default)]
    pub to_ado: Vec<Rule>,
    /// Mapping applied when the work item changes (work item → ticket).
    #[serde(default)]
    pub from_ado: Vec<Rule>,
}

/// Fills one target field from one source.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct Rule {
    /// Target field: an ADO reference name (`System.Title`) for `dispatch` and
    /// `to_ado`, a ticket field name for `from_ado`.
    pub target: String,
    /// Where the value comes from.
    #[serde(flatten)]
    pub source: Source,
}

/// The source methods of a mapping rule.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(tag = "method", rename_all = "snake_case")]
pub enum Source {
    /// Copy a field as it is (coerced to the target's type).
    Field {
        /// Source field name.
        field: String,
    },
    /// Translate a field's value through a map.
    Dictionary {
        /// Source field name.
        field: String,
        /// Source value → target value.
        map: BTreeMap<String, serde_json::Value>,
        /// What to do with a value the map does not have.
        #[serde(default)]
        unmapped: Unmapped,
        /// Value used for unmapped values when `unmapped` is `default`.
        #[serde(default)]
        default: Option<serde_json::Value>,
    },
    /// Smart Text: text with `{{field}}` placeholders.
    Template {
        /// The template text.
        template: String,
    },
    /// A Starlark function of the ticket.
    Script {
        /// The script source.
        script: String,
    },
}

/// Policy for a value a dictionary does not map.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum Unmapped {
    /// Refuse the dispatch, naming the value.
    #[default]
    Error,
    /// Leave the target field out.
    Skip,
    /// Use the rule's `default`.
    Default,
}

/// The JSON Schema of [`Config`], pretty-printed.
pub fn json_schema() -> String {
    serde_json::to_string_pretty(&schemars::schema_for!(Config)).unwrap_or_default()
}

/// Parses and checks a config, reporting every problem at once.
pub fn parse(text: &str) -> Result<Config, ConnectorError> {
    let mut de = serde_json::Deserializer::from_str(text);
    let config: Config = serde_path_to_error::deserialize(&mut de).map_err(|e| {
        let path = e.path().to_string();
        let path = if path == "." { "$".to_string() } else { format!("$.{path}") };
        ConnectorError::InvalidConfig(vec![Issue::new(path, "syntax", e.inner().to_string())])
    })?;
    let issues = check(&config);
    if issues.is_empty() { Ok(config) } else { Err(ConnectorError::InvalidConfig(issues)) }
}

fn check(config: &Config) -> Vec<Issue> {
    let mut issues = Vec::new();
    if config.version != CONFIG_VERSION {
        issues.push(Issue::new(
            "$.version",
            "version",
            format!("version {} is not supported; this connector reads version {CONFIG_VERSION}", config.version),
        ));
    }
    if config.work_item_type.trim().is_empty() {
        issues.push(Issue::new("$.work_item_type", "required", "the work item type is empty"));
    }
    for (i, tag) in config.tags.iter().enumerate() {
        if let Some(problem) = tag_problem(tag) {
            issues.push(Issue::new(format!("$.tags[{i}]"), "tag", format!("tag `{tag}` {problem}")));
        }
    }
    for (i, field) in config.mandatory_fields.iter().enumerate() {
        if field.trim().is_empty() {
            issues.push(Issue::new(format!("$.mandatory_fields[{i}]"), "required", "empty field name"));
        }
    }
    for (stage, rules) in [("dispatch", &config.dispatch), ("to_ado", &config.to_ado), ("from_ado", &config.from_ado)] {
        let mut seen = std::collections::BTreeSet::new();
        for (i, rule) in rules.iter().enumerate() {
            let path = format!("$.{stage}[{i}]");
            if rule.target.trim().is_empty() || rule.target.chars().any(char::is_whitespace) && stage != "from_ado" {
                issues.push(Issue::new(
                    format!("{path}.target"),
                    "target",
                    format!("`{}` is not a field reference name (e.g. System.Title)", rule.target),
                ));
            }
            if !seen.insert(rule.target.to_ascii_lowercase()) {
                issues.push(Issue::new(format!("{path}.target"), "duplicate", format!("`{}` is mapped twice in {stage}", rule.target)));
            }
            match &rule.source {
                Source::Field { field } | Source::Dictionary { field, .. } if field.trim().is_empty() => {
                    issues.push(Issue::new(format!("{path}.field"), "required", "the source field is empty"));
                }
                Source::Dictionary { unmapped: Unmapped::Default, default: None, .. } => {
                    issues.push(Issue::new(
                        format!("{path}.default"),
                        "required",
                        "`unmapped` is `default` but no `default` value is given",
                    ));
                }
                Source::Template { .. } | Source::Script { .. } => {
                    let method = if matches!(rule.source, Source::Template { .. }) { "template" } else { "script" };
                    issues.push(Issue::new(
                        format!("{path}.method"),
                        "unsupported",
                        format!("the `{method}` method is not available in this version of the connector; use `field` or `dictionary`"),
                    ));
                }
                _ => {}
            }
        }
    }
    issues
}

/// ADO tag rules: at most 400 characters, no `,` or `;`, no control characters.
pub fn tag_problem(tag: &str) -> Option<&'static str> {
    if tag.trim().is_empty() {
        Some("is empty")
    } else if tag.chars().count() > 400 {
        Some("is longer than 400 characters")
    } else if tag.contains([',', ';']) {
        Some("contains `,` or `;`")
    } else if tag.chars().any(char::is_control) {
        Some("contains a control character")
    } else {
        None
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_a_minimal_config() {
        let c = parse(r#"{"version":1,"work_item_type":"Bug","dispatch":[{"target":"System.Title","method":"field","field":"title"}]}"#).unwrap();
        assert_eq!(c.dispatch[0].source, Source::Field { field: "title".into() });
    }

    #[test]
    fn syntax_errors_name_the_json_path() {
        let err = parse(r#"{"version":1,"work_item_type":"Bug","dispatch":[{"target":"System.Title","method":"copy"}]}"#).unwrap_err();
        match err {
            ConnectorError::InvalidConfig(issues) => assert!(issues[0].path.starts_with("$.dispatch[0]"), "{issues:?}"),
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn reports_every_problem_at_once() {
        let err = parse(r#"{"version":2,"work_item_type":"","tags":["a;b"],"dispatch":[
            {"target":"System.Title","method":"field","field":"title"},
            {"target":"System.Title","method":"field","field":"name"},
            {"target":"Microsoft.VSTS.Common.Priority","method":"dictionary","field":"severity","map":{},"unmapped":"default"}]}"#)
        .unwrap_err();
        let ConnectorError::InvalidConfig(issues) = err else { panic!() };
        let paths: Vec<&str> = issues.iter().map(|i| i.path.as_str()).collect();
        assert_eq!(paths, ["$.version", "$.work_item_type", "$.tags[0]", "$.dispatch[1].target", "$.dispatch[2].default"]);
    }

    #[test]
    fn unknown_members_are_refused() {
        assert!(parse(r#"{"version":1,"work_item_type":"Bug","colour":"red"}"#).is_err());
    }

    #[test]
    fn schema_describes_the_mapping_methods() {
        let schema = json_schema();
        assert!(schema.contains("dictionary") && schema.contains("work_item_type"));
    }
}
