//! Default outegration configs per process template and work item type, as
//! the products we model preconfigure them: title, a Smart Text description
//! (Repro Steps for bugs) with a findings table, priority and severity from
//! the ticket severity, due date from the SLA where the type has one
//! (Agile Issue's Due Date, the Target Date of epics and features),
//! assignee, tags, the initial state, and the sync stages. A starting point
//! to edit: every rule is ordinary config.

use serde_json::{Value, json};

use crate::config::{CONFIG_VERSION, Config};

/// Which fields a (process, type) pair has, as far as the defaults go.
struct Shape {
    initial_state: &'static str,
    /// HTML field for the description: Repro Steps for bugs.
    body: &'static str,
    priority: bool,
    severity: bool,
    /// Date field for the SLA due date, if the type has one.
    due: Option<&'static str>,
    /// ADO state → ticket status.
    states: &'static [(&'static str, &'static str)],
}

const DESCRIPTION: &str = "System.Description";
const REPRO: &str = "Microsoft.VSTS.TCM.ReproSteps";
/// CMMI's bug keeps its steps in its own field, not in Repro Steps.
const CMMI_STEPS: &str = "Microsoft.VSTS.CMMI.StepsToReproduce";
const DUE: &str = "Microsoft.VSTS.Scheduling.DueDate";
const TARGET: &str = "Microsoft.VSTS.Scheduling.TargetDate";

const AGILE_STATES: &[(&str, &str)] = &[
    ("New", "OPEN"),
    ("Active", "IN_PROGRESS"),
    ("Resolved", "RESOLVED"),
    ("Closed", "CLOSED"),
    ("Removed", "CLOSED"),
];
const SCRUM_STATES: &[(&str, &str)] = &[
    ("New", "OPEN"),
    ("Approved", "OPEN"),
    ("To Do", "OPEN"),
    ("Open", "OPEN"),
    ("Committed", "IN_PROGRESS"),
    ("In Progress", "IN_PROGRESS"),
    ("Done", "RESOLVED"),
    ("Closed", "CLOSED"),
    ("Removed", "CLOSED"),
];
const CMMI_STATES: &[(&str, &str)] = &[
    ("Proposed", "OPEN"),
    ("Active", "IN_PROGRESS"),
    ("Resolved", "RESOLVED"),
    ("Closed", "CLOSED"),
    ("Removed", "CLOSED"),
];
const BASIC_STATES: &[(&str, &str)] = &[
    ("To Do", "OPEN"),
    ("Doing", "IN_PROGRESS"),
    ("Done", "RESOLVED"),
];

fn shape(process: &str, ty: &str) -> Shape {
    let s = |initial_state, body, priority, severity, due, states| Shape {
        initial_state,
        body,
        priority,
        severity,
        due,
        states,
    };
    match (
        process.to_ascii_lowercase().as_str(),
        ty.to_ascii_lowercase().as_str(),
    ) {
        ("agile", "bug") => s("New", REPRO, true, true, None, AGILE_STATES),
        ("agile", "issue") => s("Active", DESCRIPTION, true, false, Some(DUE), AGILE_STATES),
        ("agile", "epic" | "feature") => {
            s("New", DESCRIPTION, true, false, Some(TARGET), AGILE_STATES)
        }
        ("agile", _) => s("New", DESCRIPTION, true, false, None, AGILE_STATES),
        ("scrum", "bug") => s("New", REPRO, true, true, None, SCRUM_STATES),
        ("scrum", "task") => s("To Do", DESCRIPTION, true, false, None, SCRUM_STATES),
        ("scrum", "impediment") => s("Open", DESCRIPTION, true, false, None, SCRUM_STATES),
        ("scrum", "epic" | "feature") => {
            s("New", DESCRIPTION, true, false, Some(TARGET), SCRUM_STATES)
        }
        ("scrum", _) => s("New", DESCRIPTION, true, false, None, SCRUM_STATES),
        ("cmmi", "bug") => s("Proposed", CMMI_STEPS, true, true, None, CMMI_STATES),
        ("cmmi", "risk") => s("Proposed", DESCRIPTION, true, true, None, CMMI_STATES),
        ("cmmi", "epic" | "feature") => s(
            "Proposed",
            DESCRIPTION,
            true,
            false,
            Some(TARGET),
            CMMI_STATES,
        ),
        ("cmmi", "review") => s("Proposed", DESCRIPTION, false, false, None, CMMI_STATES),
        ("cmmi", _) => s("Proposed", DESCRIPTION, true, false, None, CMMI_STATES),
        ("basic", "epic") => s(
            "To Do",
            DESCRIPTION,
            true,
            false,
            Some(TARGET),
            BASIC_STATES,
        ),
        ("basic", _) => s("To Do", DESCRIPTION, true, false, None, BASIC_STATES),
        // An inherited or unknown process: only fields every type has.
        _ => s("", DESCRIPTION, false, false, None, &[]),
    }
}

/// The Smart Text body: the ticket's Markdown description, a link back,
/// and a table of its findings.
pub const BODY_TEMPLATE: &str = "{{description | markdown}}

**SecOps ticket [{{id}}]({{url}})** · severity {{severity | default:\"unknown\"}} · due {{due_date | date | default:\"–\"}}

| Finding | Title | CVE | Asset | Status |
|---|---|---|---|---|
{{#each findings}}| {{id}} | {{title}} | {{cve | default:\"–\"}} | {{asset | default:\"–\"}} | {{status}} |
{{else}}| – | no findings | | | |
{{/each}}";

fn priority() -> Value {
    json!({"target": "Microsoft.VSTS.Common.Priority", "method": "dictionary", "field": "severity",
           "map": {"CRITICAL": 1, "HIGH": 2, "MEDIUM": 3, "LOW": 4, "INFO": 4}, "unmapped": "default", "default": 3})
}

fn severity() -> Value {
    json!({"target": "Microsoft.VSTS.Common.Severity", "method": "dictionary", "field": "severity",
           "map": {"CRITICAL": "1 - Critical", "HIGH": "2 - High", "MEDIUM": "3 - Medium", "LOW": "4 - Low", "INFO": "4 - Low"},
           "unmapped": "skip"})
}

/// The default config for a work item type of a process template (`Agile`,
/// `Scrum`, `CMMI`, `Basic`; other processes get a minimal one).
pub fn default_config(process: &str, work_item_type: &str) -> Config {
    let shape = shape(process, work_item_type);
    let title = json!({"target": "System.Title", "method": "template", "template": "{{title | truncate:250}}"});
    let body = json!({"target": shape.body, "method": "template", "format": "markdown", "template": BODY_TEMPLATE});
    let assignee = json!({"target": "System.AssignedTo", "method": "field", "field": "assignee"});
    let tags = json!({"target": "System.Tags", "method": "field", "field": "tags"});
    let due = shape
        .due
        .map(|d| json!({"target": d, "method": "field", "field": "due_date"}));

    let mut dispatch = vec![title.clone(), body, assignee.clone(), tags];
    let mut to_ado = vec![title, assignee];
    for (on, rule) in [(shape.priority, priority()), (shape.severity, severity())] {
        if on {
            dispatch.push(rule.clone());
            to_ado.push(rule);
        }
    }
    if let Some(due) = due {
        dispatch.push(due.clone());
        to_ado.push(due);
    }
    let mut from_ado =
        vec![json!({"target": "assignee", "method": "field", "field": "System.AssignedTo"})];
    if !shape.states.is_empty() {
        let map: serde_json::Map<String, Value> = shape
            .states
            .iter()
            .map(|(k, v)| (k.to_string(), json!(v)))
            .collect();
        from_ado.push(json!({"target": "status", "method": "dictionary", "field": "System.State", "map": map, "unmapped": "skip"}));
    }
    let mut doc = json!({
        "version": CONFIG_VERSION,
        "work_item_type": work_item_type,
        "tags": ["secops"],
        "mandatory_fields": ["title", "severity"],
        "dispatch": dispatch,
        "to_ado": to_ado,
        "from_ado": from_ado,
    });
    if !shape.initial_state.is_empty() {
        doc["initial_state"] = json!(shape.initial_state);
    }
    // Scrum and Basic finish in Done; the others in Closed. An unknown process
    // falls back to its Completed-category state at run time.
    let closed = match process.to_ascii_lowercase().as_str() {
        "scrum" | "basic" => "Done",
        _ => "Closed",
    };
    doc["sync"] = json!({
        "conflicts": "report",
        "comments": true,
        "triggers": [{"field": "severity", "to": ["CRITICAL"]}],
        "auto_close": {"state": closed},
    });
    serde_json::from_value(doc).unwrap_or_else(|_| unreachable_config(work_item_type))
}

/// Never used: the documents above always deserialize (a unit test proves it).
fn unreachable_config(work_item_type: &str) -> Config {
    Config {
        version: CONFIG_VERSION,
        work_item_type: work_item_type.to_string(),
        initial_state: None,
        area_path: None,
        iteration_path: None,
        tags: vec![],
        mandatory_fields: vec![],
        labels: Default::default(),
        attachment: None,
        dispatch: vec![],
        to_ado: vec![],
        from_ado: vec![],
        sync: Default::default(),
    }
}

/// The default config as pretty JSON.
pub fn default_config_json(process: &str, work_item_type: &str) -> String {
    serde_json::to_string_pretty(&default_config(process, work_item_type)).unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::{Source, parse};

    #[test]
    fn every_default_config_passes_validation() {
        for (process, ty) in [
            ("Agile", "Bug"),
            ("Agile", "User Story"),
            ("Agile", "Issue"),
            ("Agile", "Task"),
            ("Agile", "Epic"),
            ("Scrum", "Bug"),
            ("Scrum", "Product Backlog Item"),
            ("Scrum", "Task"),
            ("Scrum", "Impediment"),
            ("CMMI", "Bug"),
            ("CMMI", "Requirement"),
            ("CMMI", "Issue"),
            ("CMMI", "Task"),
            ("Basic", "Issue"),
            ("Basic", "Task"),
            ("Basic", "Epic"),
            ("My Inherited Agile", "Bug"),
        ] {
            let text = default_config_json(process, ty);
            let parsed = parse(&text).unwrap_or_else(|e| panic!("{process} {ty}: {e}"));
            assert_eq!(parsed.work_item_type, ty);
            assert!(
                !parsed.from_ado.is_empty() && !parsed.to_ado.is_empty(),
                "{process} {ty}"
            );
        }
    }

    #[test]
    fn bugs_describe_in_repro_steps_where_the_process_uses_them() {
        let targets = |p: &str, t: &str| {
            default_config(p, t)
                .dispatch
                .iter()
                .map(|r| r.target.clone())
                .collect::<Vec<_>>()
        };
        for (process, body) in [("Agile", REPRO), ("Scrum", REPRO), ("CMMI", CMMI_STEPS)] {
            let t = targets(process, "Bug");
            assert!(
                t.contains(&body.to_string())
                    && t.contains(&"Microsoft.VSTS.Common.Severity".to_string()),
                "{process}: {t:?}"
            );
        }
        assert!(targets("Basic", "Issue").contains(&DESCRIPTION.to_string()));
        assert!(targets("Agile", "Issue").contains(&DUE.to_string()));
    }

    #[test]
    fn initial_states_follow_the_process() {
        let state = |p: &str, t: &str| default_config(p, t).initial_state;
        assert_eq!(state("Agile", "Bug").as_deref(), Some("New"));
        assert_eq!(state("Basic", "Issue").as_deref(), Some("To Do"));
        assert_eq!(state("CMMI", "Bug").as_deref(), Some("Proposed"));
        assert_eq!(
            state("Scrum", "Product Backlog Item").as_deref(),
            Some("New")
        );
        assert_eq!(state("Whatever", "Bug"), None);
    }

    #[test]
    fn state_syncs_back_to_the_ticket_status() {
        let c = default_config("Basic", "Issue");
        assert!(c.from_ado.iter().any(|r| r.target == "status"
            && matches!(&r.source, Source::Dictionary { field, .. } if field == "System.State")));
    }
}
