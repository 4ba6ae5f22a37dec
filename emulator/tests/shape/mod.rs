//! Comparing the shape of an emulator answer with a Microsoft sample: every
//! member the sample has must be in the answer with the same JSON type,
//! recursively. The answer may have more members (newer API versions add
//! some); `null` in the sample matches anything; arrays compare their first
//! elements. Members named in `maps` are dictionaries whose keys depend on
//! the data (`fields`, `_links`, ...): only "is an object" is checked.
#![allow(dead_code)]

use serde_json::Value;

/// Dictionaries whose keys depend on the data.
pub const MAPS: &[&str] = &[
    "fields",
    "_links",
    "publisherInputs",
    "consumerInputs",
    "attributes",
    "transitions",
    "supportedResourceVersions",
];

fn kind(v: &Value) -> &'static str {
    match v {
        Value::Null => "null",
        Value::Bool(_) => "boolean",
        Value::Number(_) => "number",
        Value::String(_) => "string",
        Value::Array(_) => "array",
        Value::Object(_) => "object",
    }
}

/// Where the answer's shape differs from the sample's.
pub fn differences(sample: &Value, ours: &Value, maps: &[&str]) -> Vec<String> {
    let mut out = Vec::new();
    walk(sample, ours, "$", maps, &mut out);
    out
}

fn walk(sample: &Value, ours: &Value, path: &str, maps: &[&str], out: &mut Vec<String>) {
    match (sample, ours) {
        (Value::Null, _) => {}
        (Value::Object(s), Value::Object(o)) => {
            let name = path.rsplit('.').next().unwrap_or_default();
            if maps.contains(&name) {
                return;
            }
            for (k, sv) in s {
                match o.get(k) {
                    Some(ov) => walk(sv, ov, &format!("{path}.{k}"), maps, out),
                    None => out.push(format!("{path}.{k}: missing (sample has {})", kind(sv))),
                }
            }
        }
        (Value::Array(s), Value::Array(o)) => {
            if let (Some(sv), Some(ov)) = (s.first(), o.first()) {
                walk(sv, ov, &format!("{path}[0]"), maps, out);
            }
        }
        (s, o) if kind(s) == kind(o) => {}
        (s, o) => out.push(format!(
            "{path}: {} in ours, {} in the sample",
            kind(o),
            kind(s)
        )),
    }
}
