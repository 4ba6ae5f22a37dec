//! The WIT names of the schema's enums, for a platform's output (`in-progress`,
//! `picklist-string`).

use crate::bindings::exports::secops::ticketing::schema::{InputType, StateCategory};

/// The WIT name of a state category (`in-progress`, or the unknown name).
pub fn state_category(c: &StateCategory) -> String {
    match c {
        StateCategory::Proposed => "proposed".into(),
        StateCategory::InProgress => "in-progress".into(),
        StateCategory::Resolved => "resolved".into(),
        StateCategory::Completed => "completed".into(),
        StateCategory::Removed => "removed".into(),
        StateCategory::Other(o) => o.clone(),
    }
}

/// The WIT name of an input type (`picklist-string`...).
pub fn input_type(t: InputType) -> &'static str {
    match t {
        InputType::Text => "text",
        InputType::PlainText => "plain-text",
        InputType::Html => "html",
        InputType::Integer => "integer",
        InputType::Double => "double",
        InputType::DateTime => "date-time",
        InputType::Boolean => "boolean",
        InputType::Identity => "identity",
        InputType::TreePath => "tree-path",
        InputType::PicklistString => "picklist-string",
        InputType::PicklistInteger => "picklist-integer",
        InputType::PicklistDouble => "picklist-double",
        InputType::Guid => "guid",
        InputType::History => "history",
    }
}
