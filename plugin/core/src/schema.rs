//! The project's work item schema: types, fields, states and initial states,
//! read live from ADO and cached briefly in the host's store.

use std::rc::Rc;
use std::time::Duration;

use serde::{Deserialize, Serialize};

use crate::client::Client;
use crate::connection::{ProjectRef, resolve_project};
use crate::error::{ConnectorError, Problem};
use crate::target::{API_VERSION, segment};

const SCHEMA_CACHE_TTL: Duration = Duration::from_secs(600);

#[derive(Debug, Clone, PartialEq)]
pub struct WorkItemType {
    pub name: String,
    pub reference_name: String,
    pub description: String,
    pub is_disabled: bool,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum InputType {
    Text,
    PlainText,
    Html,
    Integer,
    Double,
    DateTime,
    Boolean,
    Identity,
    TreePath,
    PicklistString,
    PicklistInteger,
    PicklistDouble,
    Guid,
    History,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct FieldInfo {
    pub reference_name: String,
    pub name: String,
    pub input_type: InputType,
    pub required: bool,
    pub read_only: bool,
    pub allowed_values: Vec<String>,
    pub default_value: Option<String>,
    pub help_text: Option<String>,
    /// For identity fields: the identities ADO listed as allowed values, so
    /// a display name can be resolved to a unique one.
    #[serde(default)]
    pub identities: Vec<IdentityRef>,
}

/// A user or group ADO listed for an identity field.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct IdentityRef {
    pub display_name: String,
    pub unique_name: String,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum StateCategory {
    Proposed,
    InProgress,
    Resolved,
    Completed,
    Removed,
    Other(String),
}

#[derive(Debug, Clone, PartialEq)]
pub struct StateInfo {
    pub name: String,
    pub category: StateCategory,
    pub color: String,
}

/// What dispatch needs to know about one type, cached as one entry.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TypeSchema {
    pub project: ProjectRef,
    pub work_item_type: String,
    pub fields: Vec<FieldInfo>,
    pub initial_states: Vec<String>,
    /// States in process order, with their category names (`Proposed`,
    /// `InProgress`, `Resolved`, `Completed`, `Removed`).
    #[serde(default)]
    pub states: Vec<TypeState>,
    /// Allowed transitions: from state → to states.
    #[serde(default)]
    pub transitions: std::collections::BTreeMap<String, Vec<String>>,
}

/// One state of a type, as the sync needs it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TypeState {
    pub name: String,
    pub category: String,
}

impl TypeSchema {
    /// The state named `name` (ADO compares state names case-insensitively).
    pub fn state(&self, name: &str) -> Option<&TypeState> {
        self.states
            .iter()
            .find(|s| s.name.eq_ignore_ascii_case(name))
    }

    /// The category of the state named `name`, if the type has it.
    pub fn category_of(&self, name: &str) -> Option<&str> {
        self.state(name).map(|s| s.category.as_str())
    }

    /// States of a category, in process order.
    pub fn states_in(&self, category: &str) -> impl Iterator<Item = &TypeState> {
        self.states.iter().filter(move |s| s.category == category)
    }

    /// Whether the type's rules let an item move from `from` to `to`. Types
    /// whose transitions are unknown allow everything.
    pub fn can_move(&self, from: &str, to: &str) -> bool {
        if self.transitions.is_empty() {
            return true;
        }
        self.transitions
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(from))
            .is_some_and(|(_, targets)| targets.iter().any(|t| t.eq_ignore_ascii_case(to)))
    }
}

#[derive(Deserialize)]
struct List<T> {
    #[serde(default = "Vec::new")]
    value: Vec<T>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct RawType {
    name: String,
    #[serde(default)]
    reference_name: String,
    #[serde(default)]
    description: Option<String>,
    #[serde(default)]
    is_disabled: bool,
    #[serde(default)]
    transitions: Option<serde_json::Map<String, serde_json::Value>>,
    #[serde(default)]
    states: Vec<RawState>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct RawTypeField {
    reference_name: String,
    #[serde(default)]
    name: String,
    #[serde(default)]
    always_required: bool,
    #[serde(default)]
    allowed_values: Vec<serde_json::Value>,
    #[serde(default)]
    default_value: Option<serde_json::Value>,
    #[serde(default)]
    help_text: Option<String>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct RawField {
    reference_name: String,
    #[serde(default, rename = "type")]
    kind: String,
    #[serde(default)]
    read_only: bool,
    #[serde(default)]
    is_identity: bool,
    #[serde(default)]
    is_picklist: bool,
}

#[derive(Deserialize)]
struct RawState {
    name: String,
    #[serde(default)]
    category: String,
    #[serde(default)]
    color: String,
}

fn type_not_found(e: ConnectorError, ty: &str, project: &ProjectRef) -> ConnectorError {
    match e {
        ConnectorError::NotFound(_) => ConnectorError::NotFound(Problem::new(
            format!(
                "work item type `{ty}` does not exist in project `{}`",
                project.name
            ),
            "use one of the project's work item types (see `schema types`); process templates differ: Basic has Issue, Agile/Scrum/CMMI have Bug",
        )),
        other => other,
    }
}

/// Work item types of the connection's project.
pub fn work_item_types(client: &Client<'_>) -> Result<Vec<WorkItemType>, ConnectorError> {
    let project = resolve_project(client, false)?;
    let list: List<RawType> = client.get(&client.target().project_api(
        &project.id,
        "wit/workitemtypes",
        API_VERSION,
    ))?;
    Ok(list
        .value
        .into_iter()
        .map(|t| WorkItemType {
            name: t.name,
            reference_name: t.reference_name,
            description: t.description.unwrap_or_default(),
            is_disabled: t.is_disabled,
        })
        .collect())
}

/// States of a type, with their categories.
pub fn states(client: &Client<'_>, ty: &str) -> Result<Vec<StateInfo>, ConnectorError> {
    let project = resolve_project(client, false)?;
    let url = client.target().project_api(
        &project.id,
        &format!("wit/workitemtypes/{}/states", segment(ty)),
        API_VERSION,
    );
    let list: List<RawState> = client
        .get(&url)
        .map_err(|e| type_not_found(e, ty, &project))?;
    Ok(list
        .value
        .into_iter()
        .map(|s| StateInfo {
            category: match s.category.as_str() {
                "Proposed" => StateCategory::Proposed,
                "InProgress" => StateCategory::InProgress,
                "Resolved" => StateCategory::Resolved,
                "Completed" => StateCategory::Completed,
                "Removed" => StateCategory::Removed,
                other => StateCategory::Other(other.to_string()),
            },
            name: s.name,
            color: s.color,
        })
        .collect())
}

/// Fields and initial states of a type; cached for a few minutes so a
/// dispatch costs one request once the schema is known, and parsed from the
/// cache once per instance (`kv_memo`).
pub fn type_schema(client: &Client<'_>, ty: &str) -> Result<Rc<TypeSchema>, ConnectorError> {
    let project = resolve_project(client, false)?;
    let key = format!(
        "type-schema-v2|{}|{}|{}",
        client.target().base(),
        project.id,
        ty
    );
    if let Some(cached) = client
        .env()
        .store_get(&key)
        .and_then(|s| crate::kv_memo::parsed::<TypeSchema>(&key, s))
    {
        return Ok(cached);
    }
    let target = client.target();
    let raw_type: RawType = client
        .get(&target.project_api(
            &project.id,
            &format!("wit/workitemtypes/{}", segment(ty)),
            API_VERSION,
        ))
        .map_err(|e| type_not_found(e, ty, &project))?;
    let type_fields: List<RawTypeField> = client.get(&format!(
        "{}&$expand=allowedValues",
        target.project_api(
            &project.id,
            &format!("wit/workitemtypes/{}/fields", segment(ty)),
            API_VERSION
        )
    ))?;
    let org_fields: List<RawField> =
        client.get(&target.project_api(&project.id, "wit/fields", API_VERSION))?;
    let fields = type_fields
        .value
        .into_iter()
        .map(|f| {
            let meta = org_fields
                .value
                .iter()
                .find(|o| o.reference_name.eq_ignore_ascii_case(&f.reference_name));
            FieldInfo {
                input_type: meta.map(input_type).unwrap_or(InputType::Text),
                read_only: meta.is_some_and(|m| m.read_only),
                allowed_values: f.allowed_values.iter().filter_map(value_text).collect(),
                default_value: f
                    .default_value
                    .as_ref()
                    .and_then(value_text)
                    .filter(|s| !s.is_empty()),
                help_text: f.help_text.filter(|s| !s.is_empty()),
                identities: f.allowed_values.iter().filter_map(identity_ref).collect(),
                required: f.always_required,
                name: if f.name.is_empty() {
                    f.reference_name.clone()
                } else {
                    f.name
                },
                reference_name: f.reference_name,
            }
        })
        .collect();
    let schema = TypeSchema {
        project,
        work_item_type: raw_type.name.clone(),
        fields,
        initial_states: initial_states_of(&raw_type),
        states: raw_type
            .states
            .iter()
            .map(|s| TypeState {
                name: s.name.clone(),
                category: s.category.clone(),
            })
            .collect(),
        transitions: transitions_of(&raw_type),
    };
    if let Ok(json) = serde_json::to_string(&schema) {
        client.env().store_set(&key, &json, Some(SCHEMA_CACHE_TTL));
    }
    Ok(Rc::new(schema))
}

/// The targets of the `""` transition: where a new item may start.
fn initial_states_of(raw: &RawType) -> Vec<String> {
    raw.transitions
        .as_ref()
        .and_then(|t| t.get(""))
        .and_then(|v| v.as_array())
        .map(|list| {
            list.iter()
                .filter_map(|t| t.get("to").and_then(|s| s.as_str()).map(str::to_string))
                .collect()
        })
        .unwrap_or_default()
}

/// Every non-initial transition, as from → to states.
fn transitions_of(raw: &RawType) -> std::collections::BTreeMap<String, Vec<String>> {
    let Some(map) = raw.transitions.as_ref() else {
        return Default::default();
    };
    map.iter()
        .filter(|(from, _)| !from.is_empty())
        .map(|(from, list)| {
            let to = list
                .as_array()
                .map(|l| {
                    l.iter()
                        .filter_map(|t| t.get("to").and_then(|s| s.as_str()).map(str::to_string))
                        .collect()
                })
                .unwrap_or_default();
            (from.clone(), to)
        })
        .collect()
}

fn input_type(meta: &RawField) -> InputType {
    match (meta.kind.as_str(), meta.is_identity, meta.is_picklist) {
        (_, true, _) | ("identity", _, _) => InputType::Identity,
        ("string", _, true) | ("picklistString", _, _) => InputType::PicklistString,
        ("integer", _, true) | ("picklistInteger", _, _) => InputType::PicklistInteger,
        ("double", _, true) | ("picklistDouble", _, _) => InputType::PicklistDouble,
        ("integer", _, _) => InputType::Integer,
        ("double", _, _) => InputType::Double,
        ("dateTime", _, _) => InputType::DateTime,
        ("boolean", _, _) => InputType::Boolean,
        ("plainText", _, _) => InputType::PlainText,
        ("html", _, _) => InputType::Html,
        ("treePath", _, _) => InputType::TreePath,
        ("history", _, _) => InputType::History,
        ("guid", _, _) => InputType::Guid,
        _ => InputType::Text,
    }
}

fn identity_ref(v: &serde_json::Value) -> Option<IdentityRef> {
    let unique_name = v.get("uniqueName")?.as_str()?.to_string();
    let display_name = v
        .get("displayName")
        .and_then(|d| d.as_str())
        .unwrap_or(&unique_name)
        .to_string();
    Some(IdentityRef {
        display_name,
        unique_name,
    })
}

/// Allowed and default values are strings, numbers, or identity objects.
fn value_text(v: &serde_json::Value) -> Option<String> {
    match v {
        serde_json::Value::String(s) => Some(s.clone()),
        serde_json::Value::Number(n) => Some(n.to_string()),
        serde_json::Value::Bool(b) => Some(b.to_string()),
        serde_json::Value::Object(o) => o
            .get("uniqueName")
            .or_else(|| o.get("displayName"))
            .and_then(|s| s.as_str())
            .map(str::to_string),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;
    use crate::model::{Connection, Credentials, Secret};
    use crate::testing::{FakeEnv, json as answer};

    #[test]
    fn type_schema_joins_type_fields_with_field_types_and_reads_initial_states() {
        let env = FakeEnv::new(vec![
            answer(200, json!({"id": "p-1", "name": "P"})),
            answer(
                200,
                json!({"name": "Bug", "referenceName": "Microsoft.VSTS.WorkItemTypes.Bug", "transitions": {"": [{"to": "New", "actions": null}], "New": [{"to": "Active"}]}}),
            ),
            answer(
                200,
                json!({"count": 2, "value": [
                    {"referenceName": "System.Title", "name": "Title", "alwaysRequired": true, "allowedValues": []},
                    {"referenceName": "Microsoft.VSTS.Common.Priority", "name": "Priority", "alwaysRequired": false, "allowedValues": ["1", "2", "3", "4"], "defaultValue": "2"},
                ]}),
            ),
            answer(
                200,
                json!({"value": [
                    {"referenceName": "System.Title", "type": "string"},
                    {"referenceName": "Microsoft.VSTS.Common.Priority", "type": "integer", "isPicklist": true},
                ]}),
            ),
        ]);
        let conn = Connection {
            base_url: "https://dev.azure.com/o".into(),
            project: "P".into(),
            credentials: Credentials::Pat(Secret("x".into())),
        };
        let client = Client::new(&env, &conn).unwrap();
        let schema = type_schema(&client, "Bug").unwrap();
        assert_eq!(schema.initial_states, vec!["New"]);
        assert_eq!(schema.fields[1].input_type, InputType::PicklistInteger);
        assert_eq!(schema.fields[1].default_value.as_deref(), Some("2"));
        assert!(schema.fields[0].required);
        // Cached: a second read sends nothing.
        let again = type_schema(&client, "Bug").unwrap();
        assert_eq!(again, schema);
        assert_eq!(env.sent.borrow().len(), 4);
    }
}
