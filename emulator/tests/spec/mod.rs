//! Microsoft's OpenAPI (Swagger 2.0) specs as response validators: the 200
//! (or 201) schema of an operation, found by `operationId` in `paths` and
//! `x-ms-paths`, with the spec's `definitions` beside it so every `$ref`
//! resolves inside the document, checked as JSON Schema draft 4 (what
//! Swagger 2.0 schemas are a subset of).
//!
//! Two conversions, both Swagger-to-JSON-Schema rather than leniency:
//! - lists: the specs show bare arrays where the service sends
//!   `{count, value}` (README §1); the array schema checks `value`.
//! - nulls: Swagger 2.0 has no `nullable`, while ADO writes absent values
//!   as `null` (samples: `"resourceVersion": null`); null members are
//!   dropped before checking, as "absent".
#![allow(dead_code)]

use serde_json::{Map, Value, json};

fn root() -> String {
    format!("{}/../reference/ado-api", env!("CARGO_MANIFEST_DIR"))
}

/// A spec file, without its UTF-8 BOM.
pub fn load(relative: &str) -> Value {
    let path = format!("{}/specs/{relative}", root());
    let text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{path}: {e}"));
    serde_json::from_str(text.trim_start_matches('\u{feff}'))
        .unwrap_or_else(|e| panic!("{path}: {e}"))
}

/// The success response schema of an operation; `None` when the spec has
/// no body for it.
pub fn response_schema(spec: &Value, operation_id: &str) -> Option<Value> {
    for section in ["paths", "x-ms-paths"] {
        for methods in spec[section]
            .as_object()
            .into_iter()
            .flat_map(|p| p.values())
        {
            for op in methods.as_object().into_iter().flat_map(|m| m.values()) {
                if op["operationId"] == operation_id {
                    let responses = op["responses"].as_object().expect("responses");
                    let ok = responses
                        .iter()
                        .find(|(code, _)| code.starts_with('2'))
                        .map(|(_, r)| r)
                        .expect("a 2xx response");
                    return ok.get("schema").cloned();
                }
            }
        }
    }
    panic!("no operation {operation_id} in the spec");
}

fn without_nulls(v: &Value) -> Value {
    match v {
        Value::Object(o) => Value::Object(
            o.iter()
                .filter(|(_, x)| !x.is_null())
                .map(|(k, x)| (k.clone(), without_nulls(x)))
                .collect::<Map<_, _>>(),
        ),
        Value::Array(a) => Value::Array(a.iter().map(without_nulls).collect()),
        other => other.clone(),
    }
}

/// Turns .NET's "any value" (a bare `{type: object}`: no members, no
/// `$ref`) into JSON Schema's "anything".
fn any_values(v: &mut Value) {
    match v {
        Value::Object(o) => {
            let bare = o.get("type") == Some(&json!("object"))
                && [
                    "properties",
                    "additionalProperties",
                    "$ref",
                    "allOf",
                    "items",
                ]
                .iter()
                .all(|k| !o.contains_key(*k));
            if bare {
                o.remove("type");
            }
            o.values_mut().for_each(any_values);
        }
        Value::Array(a) => a.iter_mut().for_each(any_values),
        _ => {}
    }
}

/// Where `answer` breaks the operation's response schema.
pub fn violations(spec: &Value, operation_id: &str, answer: &Value) -> Vec<String> {
    let Some(schema) = response_schema(spec, operation_id) else {
        return vec![];
    };
    let instance = if schema["type"] == "array" {
        match answer.get("value") {
            Some(v) => v.clone(),
            None => {
                return vec![format!(
                    "{operation_id}: a list answer without {{count, value}}: {answer}"
                )];
            }
        }
    } else {
        answer.clone()
    };
    let mut full = schema.clone();
    full["definitions"] = spec["definitions"].clone();
    any_values(&mut full);
    let validator = jsonschema::options()
        .with_draft(jsonschema::Draft::Draft4)
        .should_validate_formats(true)
        .should_ignore_unknown_formats(true)
        .build(&full)
        .unwrap_or_else(|e| panic!("{operation_id}: schema does not compile: {e}"));
    let instance = without_nulls(&instance);
    validator
        .iter_errors(&instance)
        .map(|e| format!("{operation_id}: {} at {}", e, e.instance_path()))
        .collect()
}

/// A spec with known errors corrected, each backed by a Microsoft sample
/// (where spec and sample disagree, the sample shows the wire).
pub fn corrected(mut spec: Value, fixes: &[(&str, &str, Value)]) -> Value {
    for (definition, property, schema) in fixes {
        let slot = &mut spec["definitions"][*definition]["properties"][*property];
        assert!(
            !slot.is_null(),
            "{definition}.{property} is not in the spec any more: drop the fix"
        );
        *slot = schema.clone();
    }
    spec
}

/// `{"type": t}`.
pub fn of_type(t: &str) -> Value {
    json!({"type": t})
}
