//! Microsoft's OpenAPI (Swagger 2.0) specs as response validators: the 200
//! (or 201) schema of an operation, found by `operationId` in `paths` and
//! `x-ms-paths`, with the spec's `definitions` beside it so every `$ref`
//! resolves inside the document, checked as JSON Schema draft 4 (what
//! Swagger 2.0 schemas are a subset of).
//!
//! Two conversions, both Swagger-to-JSON-Schema rather than leniency:
//! - lists: the specs show bare arrays where the service sends
//!   `{count, value}` (README §1); the array schema checks `value`.
//! - nulls: Swagger 2.0 has no `nullable` (the 7.1 specs declare no member
//!   nullable or not), while ADO writes some absent values as `null`
//!   (samples: `"resourceVersion": null`). A null member is taken as
//!   "absent" only where a Microsoft sample shows that member null; any
//!   other null is checked against the member's type, and fails.
//!
//! Key sets (`invented_members`): a member of the answer that neither the
//! operation's samples (`x-ms-examples`) nor any definition of the spec
//! names is reported by operation. `samples_replay.rs` checks the other
//! direction (every member of a sample is in the answer to its request).
#![allow(dead_code)]

use std::collections::BTreeSet;
use std::sync::OnceLock;

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
    let op = operation(spec, operation_id)
        .unwrap_or_else(|| panic!("no operation {operation_id} in the spec"));
    let responses = op["responses"].as_object().expect("responses");
    let ok = responses
        .iter()
        .find(|(code, _)| code.starts_with('2'))
        .map(|(_, r)| r)
        .expect("a 2xx response");
    ok.get("schema").cloned()
}

/// The operation named `operation_id`, in `paths` or `x-ms-paths`.
fn operation<'a>(spec: &'a Value, operation_id: &str) -> Option<&'a Value> {
    ["paths", "x-ms-paths"]
        .iter()
        .flat_map(|section| {
            spec[*section]
                .as_object()
                .into_iter()
                .flat_map(|p| p.values())
        })
        .flat_map(|methods| methods.as_object().into_iter().flat_map(|m| m.values()))
        .find(|op| op["operationId"] == operation_id)
}

/// Every JSON file under `samples/rest`, parsed, by path.
fn all_samples() -> &'static Vec<(String, Value)> {
    static ALL: OnceLock<Vec<(String, Value)>> = OnceLock::new();
    ALL.get_or_init(|| {
        let base = format!("{}/samples/rest", root());
        let mut out = Vec::new();
        let mut stack = vec![std::path::PathBuf::from(&base)];
        while let Some(dir) = stack.pop() {
            for entry in std::fs::read_dir(&dir).into_iter().flatten().flatten() {
                let path = entry.path();
                if path.is_dir() {
                    stack.push(path);
                } else if path.extension().is_some_and(|e| e == "json") {
                    let text = std::fs::read_to_string(&path).unwrap_or_default();
                    if let Ok(v) = serde_json::from_str(text.trim_start_matches('\u{feff}')) {
                        let name = path.strip_prefix(&base).unwrap_or(&path);
                        out.push((name.to_string_lossy().replace('\\', "/"), v));
                    }
                }
            }
        }
        out
    })
}

/// The response bodies of a sample file.
fn bodies(sample: &Value) -> impl Iterator<Item = &Value> {
    sample["responses"]
        .as_object()
        .into_iter()
        .flat_map(|r| r.values())
        .filter_map(|r| r.get("body"))
}

/// Member names, at any depth, of `v`; with `nulls_only`, those whose
/// value is null.
fn member_names(v: &Value, nulls_only: bool, out: &mut BTreeSet<String>) {
    match v {
        Value::Object(o) => {
            for (k, x) in o {
                if !nulls_only || x.is_null() {
                    out.insert(k.clone());
                }
                member_names(x, nulls_only, out);
            }
        }
        Value::Array(a) => a.iter().for_each(|x| member_names(x, nulls_only, out)),
        _ => {}
    }
}

/// Members some Microsoft sample answers with `null`.
pub fn nulls_in_samples() -> &'static BTreeSet<String> {
    static NULLS: OnceLock<BTreeSet<String>> = OnceLock::new();
    NULLS.get_or_init(|| {
        let mut out = BTreeSet::new();
        for (_, sample) in all_samples() {
            bodies(sample).for_each(|b| member_names(b, true, &mut out));
        }
        out
    })
}

/// Drops the null members the samples show null; keeps every other null
/// so the schema sees it.
fn without_sampled_nulls(v: &Value) -> Value {
    match v {
        Value::Object(o) => Value::Object(
            o.iter()
                .filter(|(k, x)| !(x.is_null() && nulls_in_samples().contains(*k)))
                .map(|(k, x)| (k.clone(), without_sampled_nulls(x)))
                .collect::<Map<_, _>>(),
        ),
        Value::Array(a) => Value::Array(a.iter().map(without_sampled_nulls).collect()),
        other => other.clone(),
    }
}

/// The samples Microsoft attached to an operation (`x-ms-examples`),
/// relative to the spec's folder.
fn examples_of(spec: &Value, operation_id: &str) -> Vec<String> {
    operation(spec, operation_id)
        .and_then(|op| op["x-ms-examples"].as_object())
        .into_iter()
        .flat_map(|e| e.values())
        .filter_map(|ex| ex["$ref"].as_str())
        .map(|r| r.trim_start_matches("./").to_string())
        .collect()
}

/// Members the answer has that neither the operation's samples nor any
/// definition of the spec names (inside `maps`, whose keys are data, no
/// check), reported by operation.
pub fn invented_members(
    spec: &Value,
    spec_dir: &str,
    operation_id: &str,
    answer: &Value,
    maps: &[&str],
) -> Vec<String> {
    let mut known = BTreeSet::new();
    for def in spec["definitions"]
        .as_object()
        .into_iter()
        .flat_map(|d| d.values())
    {
        known.extend(
            def["properties"]
                .as_object()
                .into_iter()
                .flat_map(|p| p.keys().cloned()),
        );
    }
    // The list envelope the service wraps arrays in (README §1).
    known.extend(["count".to_string(), "value".to_string()]);
    let examples = examples_of(spec, operation_id);
    for (path, sample) in all_samples() {
        if examples.iter().any(|e| path == &format!("{spec_dir}/{e}")) {
            bodies(sample).for_each(|b| member_names(b, false, &mut known));
        }
    }
    // A notification carries the delivered event, whose members Microsoft
    // shows in the service hook event samples rather than the REST spec.
    if spec_dir.starts_with("hooks/") {
        let dir = format!(
            "{}/samples/servicehook-events/aspnet-AspNetWebHooks",
            root()
        );
        for entry in std::fs::read_dir(&dir).into_iter().flatten().flatten() {
            let text = std::fs::read_to_string(entry.path()).unwrap_or_default();
            if let Ok(v) = serde_json::from_str::<Value>(text.trim_start_matches('\u{feff}')) {
                member_names(&v, false, &mut known);
            }
        }
    }
    let mut out = Vec::new();
    walk_members(answer, "$", maps, &known, &mut out);
    out.into_iter()
        .map(|m| format!("{operation_id}: {m} is in neither the operation's samples nor the spec"))
        .collect()
}

fn walk_members(
    v: &Value,
    path: &str,
    maps: &[&str],
    known: &BTreeSet<String>,
    out: &mut Vec<String>,
) {
    match v {
        Value::Object(o) => {
            let name = path.rsplit('.').next().unwrap_or_default();
            if maps.contains(&name) {
                return;
            }
            for (k, x) in o {
                if !known.contains(k) {
                    out.push(format!("{path}.{k}"));
                }
                walk_members(x, &format!("{path}.{k}"), maps, known, out);
            }
        }
        Value::Array(a) => {
            if let Some(first) = a.first() {
                walk_members(first, &format!("{path}[0]"), maps, known, out);
            }
        }
        _ => {}
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
    let instance = without_sampled_nulls(&instance);
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
