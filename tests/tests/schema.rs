//! schema.* through the real component against the emulator's Agile process.

use crate::common;

use common::*;
use ticketing_runtime::{CallError, ConnectorError, InputType, StateCategory};

#[test]
fn work_item_types_include_the_agile_types() {
    let emu = emulator();
    let types = host().work_item_types(&pat_connection(&emu)).unwrap();
    let names: Vec<&str> = types.iter().map(|t| t.name.as_str()).collect();
    for expected in ["Bug", "Task", "User Story", "Epic", "Feature", "Issue"] {
        assert!(
            names.contains(&expected),
            "{expected} missing from {names:?}"
        );
    }
    let bug = types.iter().find(|t| t.name == "Bug").unwrap();
    assert_eq!(bug.reference_name, "Microsoft.VSTS.WorkItemTypes.Bug");
}

#[test]
fn bug_fields_carry_required_flag_input_type_allowed_values_and_defaults() {
    let emu = emulator();
    let fields = host().fields(&pat_connection(&emu), "Bug").unwrap();
    let get = |r: &str| {
        fields
            .iter()
            .find(|f| f.reference_name == r)
            .unwrap_or_else(|| panic!("{r} missing"))
    };
    let title = get("System.Title");
    assert!(title.required);
    assert_eq!(title.input_type, InputType::Text);
    let priority = get("Microsoft.VSTS.Common.Priority");
    assert_eq!(priority.allowed_values, ["1", "2", "3", "4"]);
    assert_eq!(priority.default_value.as_deref(), Some("2"));
    assert!(matches!(
        priority.input_type,
        InputType::Integer | InputType::PicklistInteger
    ));
    let severity = get("Microsoft.VSTS.Common.Severity");
    assert!(
        severity
            .allowed_values
            .contains(&"1 - Critical".to_string())
    );
    assert_eq!(
        get("Microsoft.VSTS.TCM.ReproSteps").input_type,
        InputType::Html
    );
    assert!(get("System.Id").read_only);
}

#[test]
fn bug_states_have_categories_and_new_is_the_initial_state() {
    let emu = emulator();
    let conn = pat_connection(&emu);
    let states = host().states(&conn, "Bug").unwrap();
    let pairs: Vec<(String, StateCategory)> =
        states.into_iter().map(|s| (s.name, s.category)).collect();
    assert_eq!(
        pairs,
        vec![
            ("New".to_string(), StateCategory::Proposed),
            ("Active".to_string(), StateCategory::InProgress),
            ("Resolved".to_string(), StateCategory::Resolved),
            ("Closed".to_string(), StateCategory::Completed),
        ]
    );
    assert_eq!(host().initial_states(&conn, "Bug").unwrap(), ["New"]);
    assert_eq!(host().initial_states(&conn, "Issue").unwrap(), ["Active"]);
}

#[test]
fn type_names_with_spaces_are_encoded() {
    let emu = emulator();
    let states = host().states(&pat_connection(&emu), "User Story").unwrap();
    assert!(states.iter().any(|s| s.name == "New"));
}

#[test]
fn unknown_type_is_not_found() {
    let emu = emulator();
    match host().states(&pat_connection(&emu), "Spaceship") {
        Err(CallError::Connector(ConnectorError::NotFound(p))) => {
            assert!(p.message.contains("Spaceship"), "{}", p.message)
        }
        other => panic!("expected not found, got {other:?}"),
    }
}

#[test]
fn config_schema_is_a_json_schema_of_the_outegration_config() {
    let schema: serde_json::Value = serde_json::from_str(&host().config_schema().unwrap()).unwrap();
    assert!(
        schema["properties"]["work_item_type"].is_object(),
        "{schema}"
    );
    assert!(schema["properties"]["dispatch"].is_object());
}
