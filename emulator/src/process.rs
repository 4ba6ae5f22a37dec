//! Process templates: work item types, their fields, states and transitions.
//! The Agile data is derived from Microsoft's REST samples
//! (`GET _apis/wit/workitemtypes`, the Bug fields with `$expand=allowedValues`,
//! `GET _apis/wit/fields` and the type states sample), plus field definitions
//! the sample list lacks (Value Area, Story Points, ...).
//!
//! Basic, Scrum and CMMI follow Microsoft's process documentation (types,
//! states and categories, the documented fields, their defaults and allowed
//! values); no REST sample backs them. [unverified] per-type field lists,
//! colors and icons, and the CMMI "Resolved" category of Change Request.
//! Like the Agile sample, the system processes allow any state to any state;
//! `transitions[""]` names the initial state.

use serde::Deserialize;
use serde_json::Value;

/// A field instance on a work item type.
#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct TypeField {
    pub reference_name: String,
    pub name: String,
    pub always_required: bool,
    #[serde(default)]
    pub help_text: Option<String>,
    #[serde(default)]
    pub default_value: Option<Value>,
    #[serde(default)]
    pub allowed_values: Vec<Value>,
}

/// A workflow state.
#[derive(Debug, Clone, Deserialize, serde::Serialize)]
pub struct State {
    pub name: String,
    pub color: String,
    pub category: String,
}

/// A work item type.
#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct WorkItemType {
    pub name: String,
    pub reference_name: String,
    pub description: String,
    pub color: Option<String>,
    pub icon: Option<Value>,
    pub is_disabled: bool,
    pub transitions: serde_json::Map<String, Value>,
    pub states: Vec<State>,
    pub fields: Vec<TypeField>,
}

impl WorkItemType {
    /// States a new work item may start in: the targets of the `""` transition.
    pub fn initial_states(&self) -> Vec<String> {
        self.transitions
            .get("")
            .and_then(Value::as_array)
            .map(|l| {
                l.iter()
                    .filter_map(|t| t["to"].as_str().map(str::to_string))
                    .collect()
            })
            .unwrap_or_default()
    }

    pub fn field(&self, reference: &str) -> Option<&TypeField> {
        self.fields
            .iter()
            .find(|f| f.reference_name.eq_ignore_ascii_case(reference))
    }
}

/// An organization-level field definition (`GET _apis/wit/fields`).
#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct FieldDef {
    pub reference_name: String,
    pub name: String,
    #[serde(rename = "type")]
    pub kind: String,
    #[serde(default)]
    pub read_only: bool,
    #[serde(default)]
    pub is_identity: bool,
    #[serde(flatten)]
    pub rest: serde_json::Map<String, Value>,
}

impl FieldDef {
    pub fn to_json(&self) -> Value {
        let mut v = Value::Object(self.rest.clone());
        v["referenceName"] = self.reference_name.clone().into();
        v["name"] = self.name.clone().into();
        v["type"] = self.kind.clone().into();
        v["readOnly"] = self.read_only.into();
        v["isIdentity"] = self.is_identity.into();
        if v.get("supportedOperations").is_none() {
            v["supportedOperations"] = supported_operations(&self.kind);
        }
        v
    }
}

/// The WIQL operators ADO lists for a field type (`supportedOperations`),
/// as `GET _apis/wit/fields` answers them in Microsoft's sample, per type.
fn supported_operations(kind: &str) -> Value {
    static TABLE: std::sync::OnceLock<serde_json::Map<String, Value>> = std::sync::OnceLock::new();
    let table = TABLE.get_or_init(|| {
        serde_json::from_str(include_str!("../data/operations.json"))
            .expect("data/operations.json is valid")
    });
    table.get(kind).cloned().unwrap_or_else(|| {
        serde_json::json!([
            {"referenceName": "SupportedOperations.Equals", "name": "="},
            {"referenceName": "SupportedOperations.NotEquals", "name": "<>"}
        ])
    })
}

/// A process template.
#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Process {
    pub process: String,
    pub template_type_id: String,
    pub types: Vec<WorkItemType>,
    pub fields: Vec<FieldDef>,
}

impl Process {
    /// The Agile process.
    pub fn agile() -> Process {
        serde_json::from_str(include_str!("../data/agile.json")).expect("data/agile.json is valid")
    }

    /// The Basic process: Epic, Issue, Task with To Do / Doing / Done.
    pub fn basic() -> Process {
        serde_json::from_str(include_str!("../data/basic.json")).expect("data/basic.json is valid")
    }

    /// The Scrum process: Epic, Feature, Product Backlog Item, Bug, Task, Impediment.
    pub fn scrum() -> Process {
        serde_json::from_str(include_str!("../data/scrum.json")).expect("data/scrum.json is valid")
    }

    /// The CMMI process: Epic, Feature, Requirement, Bug, Task, Change
    /// Request, Issue, Review, Risk.
    pub fn cmmi() -> Process {
        serde_json::from_str(include_str!("../data/cmmi.json")).expect("data/cmmi.json is valid")
    }

    /// A system process by name, without case: "Basic", "Agile", "Scrum", "CMMI".
    pub fn by_name(name: &str) -> Option<Process> {
        match name.to_ascii_lowercase().as_str() {
            "basic" => Some(Process::basic()),
            "agile" => Some(Process::agile()),
            "scrum" => Some(Process::scrum()),
            "cmmi" => Some(Process::cmmi()),
            _ => None,
        }
    }

    pub fn work_item_type(&self, name: &str) -> Option<&WorkItemType> {
        self.types
            .iter()
            .find(|t| t.name.eq_ignore_ascii_case(name))
    }

    pub fn field(&self, reference: &str) -> Option<&FieldDef> {
        self.fields
            .iter()
            .find(|f| f.reference_name.eq_ignore_ascii_case(reference))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn by_name_finds_the_four_system_processes_without_case() {
        for (name, template) in [
            ("basic", "Basic"),
            ("AGILE", "Agile"),
            ("Scrum", "Scrum"),
            ("cmmi", "CMMI"),
        ] {
            assert_eq!(
                Process::by_name(name).map(|p| p.process),
                Some(template.to_string())
            );
        }
        assert!(Process::by_name("Waterfall").is_none());
    }

    #[test]
    fn every_type_has_an_initial_state_among_its_states_and_known_fields() {
        for p in [
            Process::basic(),
            Process::agile(),
            Process::scrum(),
            Process::cmmi(),
        ] {
            for t in &p.types {
                let initial = t.initial_states();
                assert!(!initial.is_empty(), "{} {}", p.process, t.name);
                assert!(
                    initial
                        .iter()
                        .all(|s| t.states.iter().any(|st| &st.name == s)),
                    "{} {}",
                    p.process,
                    t.name
                );
                for f in &t.fields {
                    assert!(
                        p.field(&f.reference_name).is_some(),
                        "{} {} lacks a definition of {}",
                        p.process,
                        t.name,
                        f.reference_name
                    );
                }
            }
        }
    }
}
