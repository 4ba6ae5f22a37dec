//! The publishers, event types and consumers the emulator offers: the `tfs`
//! publisher with its work item events and the `webHooks` consumer with its
//! `httpRequest` action, copied from Microsoft's service hook samples
//! (`data/hooks.json`). `workitem.deleted` and `workitem.restored` are not
//! in the samples' event type list [unverified: their descriptors are
//! copied from `workitem.created`].

use std::sync::OnceLock;

use serde_json::Value;

const SAMPLE_BASE: &str = "https://dev.azure.com/fabrikam";

fn raw() -> &'static Value {
    static DATA: OnceLock<Value> = OnceLock::new();
    DATA.get_or_init(|| {
        serde_json::from_str(include_str!("../../data/hooks.json"))
            .expect("data/hooks.json is valid JSON")
    })
}

/// Rewrites the samples' URLs onto this emulator's organization URL.
fn rebase(v: &Value, org_url: &str) -> Value {
    match v {
        Value::String(s) => Value::String(s.replace(SAMPLE_BASE, org_url)),
        Value::Array(a) => Value::Array(a.iter().map(|x| rebase(x, org_url)).collect()),
        Value::Object(o) => Value::Object(
            o.iter()
                .filter(|(k, _)| !k.starts_with("x-emulator"))
                .map(|(k, x)| (k.clone(), rebase(x, org_url)))
                .collect(),
        ),
        other => other.clone(),
    }
}

/// The `tfs` publisher (`Publisher`).
pub fn publisher(org_url: &str) -> Value {
    rebase(&raw()["publisher"], org_url)
}

/// The `tfs` publisher's event types (`EventTypeDescriptor`).
pub fn event_types(org_url: &str) -> Vec<Value> {
    publisher(org_url)["supportedEvents"]
        .as_array()
        .cloned()
        .unwrap_or_default()
}

/// One event type, without case.
pub fn event_type(org_url: &str, id: &str) -> Option<Value> {
    event_types(org_url)
        .into_iter()
        .find(|e| e["id"].as_str().is_some_and(|x| x.eq_ignore_ascii_case(id)))
}

/// The `webHooks` consumer (`Consumer`).
pub fn consumer(org_url: &str) -> Value {
    rebase(&raw()["consumer"], org_url)
}

/// The consumer's `httpRequest` action (`ConsumerAction`).
pub fn action(org_url: &str) -> Value {
    consumer(org_url)["actions"][0].clone()
}

/// The input descriptors of the `httpRequest` action, by id.
pub fn consumer_input(id: &str) -> Option<Value> {
    raw()["consumer"]["actions"][0]["inputDescriptors"]
        .as_array()?
        .iter()
        .find(|d| d["id"] == id)
        .cloned()
}

/// The event type ids the emulator publishes.
pub fn event_type_ids() -> Vec<String> {
    raw()["publisher"]["supportedEvents"]
        .as_array()
        .map(|a| {
            a.iter()
                .filter_map(|e| e["id"].as_str().map(str::to_string))
                .collect()
        })
        .unwrap_or_default()
}

/// The resource versions an event type supports; the samples list
/// `1.0-preview.*`, Microsoft's docs `1.0` [doc], so both are accepted.
pub fn supports_version(event_type: &str, version: &str) -> bool {
    let listed = raw()["publisher"]["supportedEvents"]
        .as_array()
        .and_then(|a| a.iter().find(|e| e["id"] == event_type))
        .and_then(|e| e["supportedResourceVersions"].as_array().cloned())
        .unwrap_or_default();
    version == "1.0"
        || version.eq_ignore_ascii_case("latest")
        || listed.iter().any(|v| v == version)
}
