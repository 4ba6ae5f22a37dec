//! Checks against the schema read from ADO, before anything is sent:
//! mandatory ticket fields (the SecOps-side rule), unknown and read-only
//! targets, input types and allowed values, identities, tree paths, the
//! initial state and required fields. Every problem names the field, the
//! rule and the value; all come back at once.

use serde_json::{Map, Value, json};

use super::{Mapped, coerce};
use crate::config::{Config, Source};
use crate::error::Issue;
use crate::model::Ticket;
use crate::schema::{FieldInfo, InputType, TypeSchema};

/// Whether ADO fills the field itself on a create, so `alwaysRequired` on
/// it is not ours to meet: a field ADO's field list marks read-only (it
/// computes them), the area and iteration (a new work item goes to the
/// project's root area and iteration: Microsoft Learn, "Define area paths",
/// "Define iteration paths"; the ids follow the paths), and the state (the
/// type's initial state, `transitions[""]`).
fn ado_fills(field: &FieldInfo) -> bool {
    let tree_id = ["System.AreaId", "System.IterationId"]
        .iter()
        .any(|r| r.eq_ignore_ascii_case(&field.reference_name));
    field.read_only
        || field.input_type == InputType::TreePath
        || tree_id
        || field.reference_name.eq_ignore_ascii_case("System.State")
}

/// Whether a rule may write the field. ADO's field list marks
/// System.AreaPath and System.IterationPath read-only, yet Microsoft's
/// PATCH examples write both and get 200: a tree path is written by naming
/// a node of the project's tree.
pub fn writable(field: &FieldInfo) -> bool {
    !field.read_only || field.input_type == InputType::TreePath
}

/// A field of the type by reference name, ignoring case as ADO does.
pub fn field<'a>(schema: &'a TypeSchema, reference: &str) -> Option<&'a FieldInfo> {
    schema
        .fields
        .iter()
        .find(|f| f.reference_name.eq_ignore_ascii_case(reference))
}

/// Whether a target holds HTML, so Smart Text renders HTML for it.
pub fn is_html(schema: &TypeSchema, reference: &str) -> bool {
    field(schema, reference)
        .is_some_and(|f| matches!(f.input_type, InputType::Html | InputType::History))
}

/// The SecOps-side rules on the ticket itself: mandatory fields, an id, a
/// URL to link back to.
pub fn ticket(config: &Config, ticket: &Ticket) -> Vec<Issue> {
    let mut problems = Vec::new();
    for name in &config.mandatory_fields {
        let value = ticket.field(name);
        if value.is_none_or(|v| v.is_empty()) {
            problems.push(Issue::new(
                format!("ticket.{name}"),
                "mandatory",
                format!("ticket field `{name}` is mandatory but empty"),
            ));
        }
    }
    if ticket.id.trim().is_empty() {
        problems.push(Issue::new("ticket.id", "required", "the ticket has no id"));
    }
    if !link_back_ok(ticket) {
        problems.push(Issue::new(
            "ticket.url",
            "url",
            format!("`{}` is not an http(s) URL to link back to", ticket.url),
        ));
    }
    problems
}

/// Whether the ticket's URL can become the work item's hyperlink.
pub fn link_back_ok(ticket: &Ticket) -> bool {
    url::Url::parse(&ticket.url).is_ok_and(|u| matches!(u.scheme(), "http" | "https"))
}

/// Mapped values checked and coerced against the schema.
pub fn values(mapped: &[Mapped], schema: &TypeSchema) -> (Map<String, Value>, Vec<Issue>) {
    let mut values = Map::new();
    let mut problems = Vec::new();
    for m in mapped {
        let Some(field) = field(schema, &m.target) else {
            problems.push(Issue::new(
                m.target.clone(),
                "unknown-field",
                format!(
                    "`{}` ({}) is not a field of {}{}",
                    m.target,
                    m.rule_path,
                    schema.work_item_type,
                    suggest_field(schema, &m.target)
                ),
            ));
            continue;
        };
        if !writable(field) {
            problems.push(Issue::new(
                field.reference_name.clone(),
                "read-only",
                format!("{} is read-only ({})", field.reference_name, m.rule_path),
            ));
            continue;
        }
        let coerced = if m.html {
            coerce::coerce_html(&m.value.display(), field)
        } else {
            coerce::coerce(&m.value, field)
        };
        match coerced {
            Ok(v) if field.input_type == InputType::TreePath => {
                match under_project(v.as_str().unwrap_or_default(), &schema.project.name) {
                    Ok(()) => {
                        values.insert(field.reference_name.clone(), v);
                    }
                    Err(issue) => problems.push(Issue {
                        path: field.reference_name.clone(),
                        ..issue
                    }),
                }
            }
            Ok(v) => {
                values.insert(field.reference_name.clone(), v);
            }
            Err(issue) => problems.push(issue),
        }
    }
    (values, problems)
}

fn suggest_field(schema: &TypeSchema, target: &str) -> String {
    let names: Vec<String> = schema
        .fields
        .iter()
        .map(|f| f.reference_name.clone())
        .collect();
    let by_name = schema
        .fields
        .iter()
        .find(|f| f.name.eq_ignore_ascii_case(target))
        .map(|f| f.reference_name.as_str());
    by_name
        .or_else(|| coerce::closest(target, &names))
        .map(|c| format!("; did you mean `{c}`?"))
        .unwrap_or_default()
}

/// Area and iteration paths live under the project's root node.
pub fn under_project(path: &str, project: &str) -> Result<(), Issue> {
    let root = path
        .trim_start_matches('\\')
        .split('\\')
        .next()
        .unwrap_or_default();
    if root.eq_ignore_ascii_case(project) {
        Ok(())
    } else {
        Err(Issue::new(
            "",
            "tree-path",
            format!("`{path}` is not under the project `{project}` (write `{project}\\...`)"),
        ))
    }
}

/// The config's initial state, area and iteration path, into `values`.
pub fn placement(
    config: &Config,
    schema: &TypeSchema,
    values: &mut Map<String, Value>,
) -> Vec<Issue> {
    let mut problems = Vec::new();
    if let Some(state) = &config.initial_state {
        match schema
            .initial_states
            .iter()
            .find(|s| s.eq_ignore_ascii_case(state))
        {
            Some(valid) => {
                values.insert("System.State".into(), json!(valid));
            }
            None => problems.push(Issue::new(
                "$.initial_state",
                "initial-state",
                format!(
                    "`{state}` is not a valid state for a new {}; valid initial states: {}",
                    schema.work_item_type,
                    schema.initial_states.join(", ")
                ),
            )),
        }
    }
    problems.extend(tree_paths(config, &schema.project.name, values));
    problems
}

/// The config's area and iteration path into `values`, each a valid path
/// under `project`; a problem at its config member otherwise.
pub fn tree_paths(config: &Config, project: &str, values: &mut Map<String, Value>) -> Vec<Issue> {
    let mut problems = Vec::new();
    for (member, reference, value) in [
        ("area_path", "System.AreaPath", &config.area_path),
        (
            "iteration_path",
            "System.IterationPath",
            &config.iteration_path,
        ),
    ] {
        let Some(value) = value else { continue };
        match coerce::tree_path(value) {
            Ok(path) => match under_project(&path, project) {
                Ok(()) => {
                    values.insert(reference.into(), json!(path));
                }
                Err(issue) => problems.push(Issue {
                    path: format!("$.{member}"),
                    ..issue
                }),
            },
            Err(why) => problems.push(Issue::new(
                format!("$.{member}"),
                "tree-path",
                format!("`{value}` is not a valid path: {why}"),
            )),
        }
    }
    problems
}

/// Required fields that neither a rule nor ADO fills.
pub fn required(schema: &TypeSchema, values: &Map<String, Value>) -> Vec<Issue> {
    schema
        .fields
        .iter()
        .filter(|f| f.required && f.default_value.is_none())
        .filter(|f| !ado_fills(f))
        .filter(|f| {
            !values
                .keys()
                .any(|k| k.eq_ignore_ascii_case(&f.reference_name))
        })
        .map(|f| {
            Issue::new(
                f.reference_name.clone(),
                "required",
                format!(
                    "{} ({}) is required by {} but no dispatch rule fills it",
                    f.name, f.reference_name, schema.work_item_type
                ),
            )
        })
        .collect()
}

/// The sync stages against the schema: `to_ado` targets must be writable
/// fields of the type, `from_ado` sources fields of it.
pub fn sync_stages(config: &Config, schema: &TypeSchema) -> Vec<Issue> {
    let mut problems = Vec::new();
    for (i, rule) in config.to_ado.iter().enumerate() {
        let path = format!("$.to_ado[{i}].target");
        match field(schema, &rule.target) {
            None => problems.push(Issue::new(
                path,
                "unknown-field",
                format!(
                    "`{}` is not a field of {}{}",
                    rule.target,
                    schema.work_item_type,
                    suggest_field(schema, &rule.target)
                ),
            )),
            Some(f) if !writable(f) => problems.push(Issue::new(
                path,
                "read-only",
                format!("{} is read-only", f.reference_name),
            )),
            Some(_) => {}
        }
    }
    for (i, rule) in config.from_ado.iter().enumerate() {
        let (Source::Field { field: source } | Source::Dictionary { field: source, .. }) =
            &rule.source
        else {
            continue;
        };
        if field(schema, source).is_none() {
            problems.push(Issue::new(
                format!("$.from_ado[{i}].field"),
                "unknown-field",
                format!(
                    "`{source}` is not a field of {}{}",
                    schema.work_item_type,
                    suggest_field(schema, source)
                ),
            ));
        }
    }
    problems
}

#[cfg(test)]
mod ado_fills_tests {
    use super::*;

    fn info(reference: &str, input_type: InputType, read_only: bool) -> FieldInfo {
        FieldInfo {
            reference_name: reference.into(),
            name: reference.into(),
            input_type,
            required: true,
            read_only,
            allowed_values: vec![],
            default_value: None,
            help_text: None,
            identities: vec![],
        }
    }

    #[test]
    fn tree_paths_are_writable_though_ados_field_list_marks_them_read_only() {
        assert!(writable(&info(
            "System.AreaPath",
            InputType::TreePath,
            true
        )));
        assert!(!writable(&info("System.Rev", InputType::Integer, true)));
        assert!(writable(&info("System.Title", InputType::Text, false)));
    }

    #[test]
    fn only_what_ado_fills_on_create_is_exempt_from_required() {
        for (f, filled) in [
            (info("System.AreaId", InputType::Integer, false), true),
            (
                info("System.IterationPath", InputType::TreePath, true),
                true,
            ),
            (info("System.State", InputType::Text, false), true),
            (info("System.Watermark", InputType::Integer, true), true),
            (info("System.Title", InputType::Text, false), false),
            (
                info("Microsoft.VSTS.Common.Priority", InputType::Integer, false),
                false,
            ),
        ] {
            assert_eq!(ado_fills(&f), filled, "{}", f.reference_name);
        }
    }
}
