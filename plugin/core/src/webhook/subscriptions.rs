//! The ADO Web Hooks subscriptions (`{org}/_apis/hooks/subscriptions`), one
//! per work item event type, scoped to the project (by id) and the config's
//! work item type, delivering to the host's URL with the outegration's
//! credentials. Their status tells when ADO put one on probation or
//! disabled it; [`repair`] enables those again.

use serde::Deserialize;
use serde_json::{Value, json};

use super::auth::DeliveryAuth;
use super::payload::EventType;
use crate::client::Client;
use crate::config;
use crate::connection::resolve_project;
use crate::env::{Env, Method};
use crate::error::{ConnectorError, Issue};
use crate::model::Connection;
use crate::target::{API_VERSION, segment};

/// A service-hook subscription.
#[derive(Debug, Clone, PartialEq)]
pub struct Subscription {
    pub id: String,
    pub event_type: String,
    /// `enabled`, `onProbation`, `disabledBySystem`... or `notFound`.
    pub status: String,
}

impl Subscription {
    /// Whether ADO delivers to it normally.
    pub fn healthy(&self) -> bool {
        self.status.eq_ignore_ascii_case("enabled")
    }
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct Raw {
    id: String,
    #[serde(default)]
    event_type: String,
    #[serde(default)]
    status: String,
}

impl From<Raw> for Subscription {
    fn from(r: Raw) -> Self {
        Subscription {
            id: r.id,
            event_type: r.event_type,
            status: r.status,
        }
    }
}

fn collection_url(client: &Client<'_>) -> String {
    client.target().org_api("hooks/subscriptions", API_VERSION)
}

fn item_url(client: &Client<'_>, id: &str) -> String {
    client
        .target()
        .org_api(&format!("hooks/subscriptions/{}", segment(id)), API_VERSION)
}

/// The consumer inputs carrying the delivery URL and credentials.
fn consumer_inputs(url: &str, auth: &DeliveryAuth) -> Value {
    let mut inputs = json!({
        "url": url,
        "resourceDetailsToSend": "all",
        "messagesToSend": "none",
        "detailedMessagesToSend": "none",
    });
    match auth {
        DeliveryAuth::Basic { user, password } => {
            inputs["basicAuthUsername"] = json!(user);
            inputs["basicAuthPassword"] = json!(password.expose());
        }
        DeliveryAuth::Header { name, value } => {
            inputs["httpHeaders"] = json!(format!("{}:{}", name.trim(), value.expose()));
        }
    }
    inputs
}

fn check_url(url: &str) -> Result<(), ConnectorError> {
    match url::Url::parse(url) {
        Ok(u) if matches!(u.scheme(), "https" | "http") && u.host().is_some() => Ok(()),
        _ => Err(ConnectorError::Validation(vec![Issue::new(
            "url",
            "url",
            format!("`{url}` is not an absolute http(s) URL ADO can deliver to"),
        )])),
    }
}

/// Creates one subscription per work item event type. When one fails, the
/// ones already created are deleted again (best effort) and the error returned.
pub fn subscribe(
    env: &dyn Env,
    connection: &Connection,
    config_text: &str,
    url: &str,
    auth: &DeliveryAuth,
) -> Result<Vec<Subscription>, ConnectorError> {
    let config = config::parse(config_text)?;
    check_url(url)?;
    let client = Client::new(env, connection)?;
    let project = resolve_project(&client, false)?;
    let inputs = consumer_inputs(url, auth);
    let mut created: Vec<Subscription> = Vec::new();
    for event_type in EventType::ALL {
        let body = json!({
            "publisherId": "tfs",
            "eventType": event_type.name(),
            "resourceVersion": "1.0",
            "consumerId": "webHooks",
            "consumerActionId": "httpRequest",
            "publisherInputs": {"projectId": project.id, "workItemType": config.work_item_type},
            "consumerInputs": inputs,
        });
        match client.send::<Raw>(
            Method::Post,
            &collection_url(&client),
            "application/json",
            &body,
        ) {
            Ok(raw) => created.push(raw.into()),
            Err(e) => {
                for s in &created {
                    let _ =
                        client.execute(Method::Delete, &item_url(&client, &s.id), None, Vec::new());
                }
                return Err(e);
            }
        }
    }
    Ok(created)
}

/// The subscriptions with these ids and their status; one ADO no longer
/// knows is reported as `notFound`.
pub fn status(
    env: &dyn Env,
    connection: &Connection,
    ids: &[String],
) -> Result<Vec<Subscription>, ConnectorError> {
    let client = Client::new(env, connection)?;
    ids.iter()
        .map(|id| match client.get::<Raw>(&item_url(&client, id)) {
            Ok(raw) => Ok(raw.into()),
            Err(ConnectorError::NotFound(_)) => Ok(Subscription {
                id: id.clone(),
                event_type: String::new(),
                status: "notFound".into(),
            }),
            Err(e) => Err(e),
        })
        .collect()
}

/// Enables again the subscriptions ADO put on probation or disabled
/// (`PUT` of the subscription with `status: enabled`); returns every
/// subscription with its status afterwards. ADO returns confidential
/// consumer inputs masked (`********`, the list sample), so the delivery
/// credentials are sent again from `auth` rather than echoed back masked.
pub fn repair(
    env: &dyn Env,
    connection: &Connection,
    ids: &[String],
    auth: &DeliveryAuth,
) -> Result<Vec<Subscription>, ConnectorError> {
    let client = Client::new(env, connection)?;
    let mut out = Vec::new();
    for id in ids {
        let url = item_url(&client, id);
        let mut current: Value = match client.get(&url) {
            Ok(v) => v,
            Err(ConnectorError::NotFound(_)) => {
                out.push(Subscription {
                    id: id.clone(),
                    event_type: String::new(),
                    status: "notFound".into(),
                });
                continue;
            }
            Err(e) => return Err(e),
        };
        let raw: Raw = serde_json::from_value(current.clone())
            .map_err(|e| ConnectorError::Other(format!("unexpected subscription {id}: {e}")))?;
        if raw.status.eq_ignore_ascii_case("enabled") {
            out.push(raw.into());
            continue;
        }
        current["status"] = json!("enabled");
        let delivery_url = current
            .pointer("/consumerInputs/url")
            .and_then(Value::as_str)
            .unwrap_or_default()
            .to_string();
        let inputs = consumer_inputs(&delivery_url, auth);
        let target = current
            .as_object_mut()
            .expect("a subscription read as a struct is an object")
            .entry("consumerInputs")
            .or_insert_with(|| json!({}));
        if let (Some(target), Some(inputs)) = (target.as_object_mut(), inputs.as_object()) {
            for key in ["basicAuthUsername", "basicAuthPassword", "httpHeaders"] {
                match inputs.get(key) {
                    Some(v) => target.insert(key.into(), v.clone()),
                    None => target.remove(key),
                };
            }
        }
        let raw: Raw = client.send(Method::Put, &url, "application/json", &current)?;
        out.push(raw.into());
    }
    Ok(out)
}

/// Deletes subscriptions; one already gone (404) is fine.
pub fn unsubscribe(
    env: &dyn Env,
    connection: &Connection,
    ids: &[String],
) -> Result<(), ConnectorError> {
    let client = Client::new(env, connection)?;
    for id in ids {
        match client.execute(Method::Delete, &item_url(&client, id), None, Vec::new()) {
            Ok(_) | Err(ConnectorError::NotFound(_)) => {}
            Err(e) => return Err(e),
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests;
