//! Reading and patching one work item, and comparing field values the way
//! ADO returns them (identities as objects, numbers as numbers).

use serde::Deserialize;
use serde_json::{Map, Value};

use crate::client::Client;
use crate::env::Method;
use crate::error::ConnectorError;
use crate::target::API_VERSION;

/// The parts of a work item the sync reads.
#[derive(Debug, Clone, Deserialize)]
pub struct WorkItem {
    pub id: i32,
    pub rev: i32,
    #[serde(default)]
    pub fields: Map<String, Value>,
    #[serde(default)]
    pub url: String,
    #[serde(default)]
    pub relations: Option<Vec<Value>>,
}

impl WorkItem {
    /// `System.State`, if present.
    pub fn state(&self) -> Option<&str> {
        self.fields.get("System.State").and_then(Value::as_str)
    }
}

/// `{org}/_apis/wit/workitems/{id}`: work item ids are unique in the
/// organization, so no project is needed (bulk close spans projects).
pub fn url(client: &Client<'_>, id: i32) -> String {
    client
        .target()
        .org_api(&format!("wit/workitems/{id}"), API_VERSION)
}

/// Reads a work item with all its fields.
pub fn get(client: &Client<'_>, id: i32) -> Result<WorkItem, ConnectorError> {
    client.get(&url(client, id))
}

/// Applies a JSON Patch document and returns the new revision of the item.
pub fn patch(client: &Client<'_>, id: i32, ops: &[Value]) -> Result<WorkItem, ConnectorError> {
    client.send(
        Method::Patch,
        &url(client, id),
        "application/json-patch+json",
        &Value::Array(ops.to_vec()),
    )
}

/// The JSON Patch op that sets a field. Tags are `replace`d: on
/// System.Tags ADO's `add` appends to the tags the item has (Microsoft's
/// example "Add tags": Tag0 + "Tag1; Tag2" gives "Tag0; Tag1; Tag2"), so a
/// tag removed from the ticket would stay; `replace` sets them ("Replace
/// tags").
pub fn set_field(reference: &str, value: &Value) -> Value {
    let op = if reference.eq_ignore_ascii_case("System.Tags") {
        "replace"
    } else {
        "add"
    };
    serde_json::json!({"op": op, "path": format!("/fields/{reference}"), "value": value})
}

/// The JSON Patch op that makes the update fail with 412 when someone else
/// changed the item since revision `rev`.
pub fn test_rev(rev: i32) -> Value {
    serde_json::json!({"op": "test", "path": "/rev", "value": rev})
}

/// Whether the value ADO holds is the value the connector sends: identity
/// fields come back as objects, HTML may differ in surrounding whitespace,
/// and numbers may come back as `1.0` for `1`.
pub fn same_value(ado: Option<&Value>, ours: &Value) -> bool {
    let ado = ado.unwrap_or(&Value::Null);
    match (ado, ours) {
        (Value::Object(o), Value::String(s)) => ["uniqueName", "displayName", "id"]
            .iter()
            .filter_map(|k| o.get(*k).and_then(Value::as_str))
            .any(|v| v.eq_ignore_ascii_case(s.trim()) || identity_text_matches(s, v)),
        (Value::Number(a), Value::Number(b)) => a.as_f64() == b.as_f64(),
        (Value::String(a), Value::String(b)) => a.trim() == b.trim() || tags_equal(a, b),
        (Value::Null, Value::String(s)) | (Value::String(s), Value::Null) => s.trim().is_empty(),
        (a, b) => a == b,
    }
}

/// `Name <mail>` as the connector writes identities, against one part ADO returns.
fn identity_text_matches(ours: &str, part: &str) -> bool {
    ours.rsplit_once('<')
        .map(|(_, mail)| mail.trim_end_matches('>').trim())
        .is_some_and(|m| m.eq_ignore_ascii_case(part))
}

/// Tags are a `; `-separated set: ADO may reorder them.
fn tags_equal(a: &str, b: &str) -> bool {
    if !a.contains(';') && !b.contains(';') {
        return false;
    }
    let set = |s: &str| {
        let mut v: Vec<String> = s
            .split(';')
            .map(|t| t.trim().to_ascii_lowercase())
            .filter(|t| !t.is_empty())
            .collect();
        v.sort();
        v
    };
    set(a) == set(b)
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    #[test]
    fn identities_compare_by_unique_name_or_display_name() {
        let ado = json!({"displayName": "Norman Paulk", "uniqueName": "norman@contoso.example"});
        assert!(same_value(Some(&ado), &json!("norman@contoso.example")));
        assert!(same_value(
            Some(&ado),
            &json!("Norman Paulk <norman@contoso.example>")
        ));
        assert!(!same_value(Some(&ado), &json!("someone@contoso.example")));
    }

    #[test]
    fn numbers_tags_and_empty_values_compare_by_meaning() {
        assert!(same_value(Some(&json!(1.0)), &json!(1)));
        assert!(same_value(Some(&json!("b; a")), &json!("a; b")));
        assert!(same_value(None, &json!("")));
        assert!(!same_value(Some(&json!("Active")), &json!("Closed")));
    }
}
