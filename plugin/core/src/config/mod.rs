//! The outegration config (one per work item type): versioned JSON with a
//! JSON Schema generated from these types. Three mapping stages: `dispatch`
//! (first creation), `to_ado` (ticket → work item sync) and `from_ado`
//! (work item → ticket sync, whose targets are ticket fields).
//!
//! Version 1 had `field` and `dictionary` rules only; version 2 adds
//! `template` (Smart Text), `script` (Starlark) and `labels`. A version 1
//! document reads unchanged.

mod check;
pub mod sync;

use std::cell::RefCell;
use std::collections::BTreeMap;
use std::rc::Rc;

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use crate::error::{ConnectorError, Issue};

/// The config version this connector writes.
pub const CONFIG_VERSION: u32 = 2;
/// Every version this connector reads.
pub const READABLE_VERSIONS: &[u32] = &[1, 2];

/// How a ticket maps onto one Azure DevOps work item type.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Config {
    /// Config format version: 1 or 2 (`template`, `script` and `labels` need 2).
    pub version: u32,
    /// Work item type to create, e.g. `Bug`.
    pub work_item_type: String,
    /// State for new work items; must be one of the type's initial states.
    /// Absent: ADO's default initial state.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub initial_state: Option<String>,
    /// Area path (`Project\Team`); absent: the project's default.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub area_path: Option<String>,
    /// Iteration path; absent: the project's default.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub iteration_path: Option<String>,
    /// Tags added to every work item (besides the ticket's own tag).
    #[serde(default)]
    pub tags: Vec<String>,
    /// Ticket fields that must have a value before a dispatch is allowed.
    #[serde(default)]
    pub mandatory_fields: Vec<String>,
    /// Extra display labels for Smart Text placeholders (`"Ticket Squad": "team"`),
    /// besides the built-in ones (`Ticket Assignee` → `assignee`).
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub labels: BTreeMap<String, String>,
    /// The ticket's findings as a file attached to the work item at dispatch
    /// (and, per `on_sync`, a new version when they change). Absent: no file.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub attachment: Option<crate::attachments::AttachmentOptions>,
    /// Mapping applied when the work item is created.
    #[serde(default)]
    pub dispatch: Vec<Rule>,
    /// Mapping applied when the ticket changes (ticket → work item).
    #[serde(default)]
    pub to_ado: Vec<Rule>,
    /// Mapping applied when the work item changes (work item → ticket).
    #[serde(default)]
    pub from_ado: Vec<Rule>,
    /// How ticket changes are sent after dispatch: conflicts, comments,
    /// trigger comments, auto-close and reopen.
    #[serde(default)]
    pub sync: sync::SyncConfig,
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
        #[serde(default, skip_serializing_if = "Option::is_none")]
        default: Option<serde_json::Value>,
    },
    /// Smart Text: text with `{{field}}` or `{{Field Label}}` placeholders,
    /// `{{#each findings}}...{{/each}}` blocks and filters
    /// (`{{due_date | date}}`, `upper`, `lower`, `join`, `default`, `truncate`,
    /// `count`, `markdown`). Values are HTML-escaped for HTML targets.
    Template {
        /// The template text.
        template: String,
        /// How the template text is written; Markdown is rendered to HTML
        /// for HTML targets (raw HTML in it is shown as text).
        #[serde(default)]
        format: TemplateFormat,
    },
    /// A Starlark script defining `main`: `main(ticket, findings)` for
    /// `dispatch` and `to_ado`, `main(fields)` for `from_ado`. Its return value
    /// (text, number, boolean, list of text, or None to leave the field out)
    /// fills the target.
    Script {
        /// The script source.
        script: String,
    },
}

impl Source {
    /// The method's name as written in the config.
    pub fn method(&self) -> &'static str {
        match self {
            Source::Field { .. } => "field",
            Source::Dictionary { .. } => "dictionary",
            Source::Template { .. } => "template",
            Source::Script { .. } => "script",
        }
    }
}

/// How a template's own text is written.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum TemplateFormat {
    /// Plain text.
    #[default]
    Text,
    /// Markdown (tables, lists, emphasis, links).
    Markdown,
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
///
/// A config is parsed and checked once per instance: the host sends the
/// same text with every call, and parsing it (templates and the Starlark
/// scripts checked included) was a sixth of a dispatch's CPU
/// (BENCHMARKS.md). The result depends on the text alone.
pub fn parse(text: &str) -> Result<Rc<Config>, ConnectorError> {
    thread_local! {
        static PARSED: RefCell<Vec<(String, Rc<Config>)>> = const { RefCell::new(Vec::new()) };
    }
    if let Some(known) = PARSED.with_borrow(|parsed| {
        parsed
            .iter()
            .find(|(seen, _)| seen == text)
            .map(|(_, config)| config.clone())
    }) {
        return Ok(known);
    }
    let config = Rc::new(parse_and_check(text)?);
    PARSED.with_borrow_mut(|parsed| {
        // A host uses a few outegration configs; the oldest goes first.
        if parsed.len() >= PARSED_CONFIGS {
            parsed.remove(0);
        }
        parsed.push((text.to_string(), config.clone()));
    });
    Ok(config)
}

/// Configs [`parse`] keeps per instance.
const PARSED_CONFIGS: usize = 8;

fn parse_and_check(text: &str) -> Result<Config, ConnectorError> {
    let mut de = serde_json::Deserializer::from_str(text);
    let config: Config = serde_path_to_error::deserialize(&mut de).map_err(|e| {
        let path = e.path().to_string();
        let path = if path == "." {
            "$".to_string()
        } else {
            format!("$.{path}")
        };
        ConnectorError::InvalidConfig(vec![Issue::new(path, "syntax", e.inner().to_string())])
    })?;
    let issues = check::check(&config);
    if issues.is_empty() {
        Ok(config)
    } else {
        Err(ConnectorError::InvalidConfig(issues))
    }
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

/// The mapping stages, in config order, with their rules.
pub fn stages(config: &Config) -> [(&'static str, &[Rule]); 3] {
    [
        ("dispatch", &config.dispatch),
        ("to_ado", &config.to_ado),
        ("from_ado", &config.from_ado),
    ]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_a_minimal_config() {
        let c = parse(r#"{"version":1,"work_item_type":"Bug","dispatch":[{"target":"System.Title","method":"field","field":"title"}]}"#).unwrap();
        assert_eq!(
            c.dispatch[0].source,
            Source::Field {
                field: "title".into()
            }
        );
    }

    #[test]
    fn the_same_text_is_parsed_once_and_another_text_again() {
        let text = r#"{"version":2,"work_item_type":"Bug","dispatch":[{"target":"System.Title","method":"field","field":"title"}]}"#;
        let first = parse(text).unwrap();
        let again = parse(text).unwrap();
        assert!(
            Rc::ptr_eq(&first, &again),
            "the second parse is the first's"
        );
        let other = parse(&text.replace("Bug", "Task")).unwrap();
        assert_eq!(other.work_item_type, "Task");
        assert!(
            parse(&text.replace("title", "")).is_err(),
            "errors are never remembered as configs"
        );
    }

    #[test]
    fn syntax_errors_name_the_json_path() {
        let err = parse(r#"{"version":1,"work_item_type":"Bug","dispatch":[{"target":"System.Title","method":"copy"}]}"#).unwrap_err();
        match err {
            ConnectorError::InvalidConfig(issues) => {
                assert!(issues[0].path.starts_with("$.dispatch[0]"), "{issues:?}")
            }
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn reports_every_problem_at_once() {
        let err = parse(r#"{"version":3,"work_item_type":"","tags":["a;b"],"dispatch":[
            {"target":"System.Title","method":"field","field":"title"},
            {"target":"System.Title","method":"field","field":"name"},
            {"target":"Microsoft.VSTS.Common.Priority","method":"dictionary","field":"severity","map":{},"unmapped":"default"}]}"#)
        .unwrap_err();
        let ConnectorError::InvalidConfig(issues) = err else {
            panic!()
        };
        let paths: Vec<&str> = issues.iter().map(|i| i.path.as_str()).collect();
        assert_eq!(
            paths,
            [
                "$.version",
                "$.work_item_type",
                "$.tags[0]",
                "$.dispatch[1].target",
                "$.dispatch[2].default"
            ]
        );
    }

    #[test]
    fn version_1_stays_readable_but_templates_and_scripts_need_version_2() {
        assert!(parse(r#"{"version":1,"work_item_type":"Bug","dispatch":[{"target":"System.Title","method":"field","field":"title"}]}"#).is_ok());
        let err = parse(r#"{"version":1,"work_item_type":"Bug","dispatch":[{"target":"System.Title","method":"template","template":"{{title}}"}]}"#)
            .unwrap_err();
        let ConnectorError::InvalidConfig(issues) = err else {
            panic!()
        };
        assert_eq!(
            (issues[0].path.as_str(), issues[0].rule.as_str()),
            ("$.dispatch[0].method", "version")
        );
    }

    #[test]
    fn broken_templates_and_scripts_are_reported_with_their_place() {
        let err = parse(r#"{"version":2,"work_item_type":"Bug",
            "dispatch":[{"target":"System.Title","method":"template","template":"a\n{{title"}],
            "to_ado":[{"target":"System.Title","method":"script","script":"def main(t, f):\n    return )\n"}],
            "from_ado":[{"target":"status","method":"field","field":"System State"},
                        {"target":"due date","method":"field","field":"System.Id"}]}"#)
        .unwrap_err();
        let ConnectorError::InvalidConfig(issues) = err else {
            panic!()
        };
        let got: Vec<(&str, &str)> = issues
            .iter()
            .map(|i| (i.path.as_str(), i.rule.as_str()))
            .collect();
        assert_eq!(
            got,
            [
                ("$.dispatch[0].template", "template"),
                ("$.to_ado[0].script", "script-syntax"),
                ("$.from_ado[0].field", "field"),
                ("$.from_ado[1].target", "target")
            ]
        );
        assert!(
            issues[0].message.starts_with("line 2, column 1"),
            "{}",
            issues[0].message
        );
        assert!(
            issues[1].message.starts_with("line 2"),
            "{}",
            issues[1].message
        );
    }

    #[test]
    fn a_script_that_loops_at_top_level_is_caught_by_validation() {
        let err = parse(r#"{"version":2,"work_item_type":"Bug","dispatch":[{"target":"System.Title","method":"script",
            "script":"def spin():\n    for i in range(2000000000):\n        pass\nx = spin()\ndef main(t, f):\n    return 1\n"}]}"#)
        .unwrap_err();
        let ConnectorError::InvalidConfig(issues) = err else {
            panic!()
        };
        assert_eq!(issues[0].rule, "script-budget");
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
