//! The organization's identity directory, and how ADO reads a value written
//! to an identity field (`System.AssignedTo`, ...): an IdentityRef object,
//! `"Display Name <email>"`, an email or a display name (work item PATCH
//! examples 10-13); an empty string clears the field (example 13). Identity
//! values are stored and returned as IdentityRef objects.

use std::sync::Mutex;

use serde_json::{Value, json};

use crate::data::Data;
use crate::model::{App, Identity};
use crate::seed;
use crate::site::Site;

/// Users of the organization besides those holding credentials.
fn teammates() -> Vec<Identity> {
    vec![Identity {
        id: "8c5f0c7e-2b64-4a52-9a0e-2f6c1d7e9b31".into(),
        display_name: seed::TEAMMATE_NAME.into(),
        unique_name: seed::TEAMMATE_EMAIL.into(),
        member_of_org: true,
    }]
}

/// Everyone who may be named in an identity field. Takes the data lock.
pub fn directory(data: &Mutex<Data>, apps: &[App]) -> Vec<Identity> {
    let data = data.lock().unwrap_or_else(|e| e.into_inner());
    let mut all: Vec<Identity> = data
        .pats
        .values()
        .map(|(i, _)| i.clone())
        .chain(data.refresh_tokens.values().cloned())
        .collect();
    drop(data);
    all.extend(
        apps.iter()
            .map(|a| a.identity.clone())
            .filter(|i| i.member_of_org),
    );
    all.extend(teammates());
    let mut seen = std::collections::HashSet::new();
    all.retain(|i| seen.insert(i.id.clone()));
    all
}

/// The IdentityRef ADO returns in identity fields.
pub fn identity_ref(site: &Site, i: &Identity) -> Value {
    json!({
        "displayName": i.display_name,
        "url": format!("{}/{}/_apis/Identities/{}", site.base_url(), site.organization, i.id),
        "_links": {"avatar": {"href": format!("{}/{}/_apis/GraphProfile/MemberAvatars/aad.{}", site.base_url(), site.organization, i.id)}},
        "id": i.id,
        "uniqueName": i.unique_name,
        "imageUrl": format!("{}/{}/_api/_common/identityImage?id={}", site.base_url(), site.organization, i.id),
        "descriptor": format!("aad.{}", i.id),
    })
}

/// What a written value names.
pub enum Resolved {
    /// An empty value: the field is cleared.
    Clear,
    Known(Identity),
    Unknown(String),
}

/// Finds the identity a written value names, without case.
pub fn resolve(directory: &[Identity], value: &Value) -> Resolved {
    let (id, email, name) = match value {
        Value::Null => return Resolved::Clear,
        Value::Object(o) => (
            o.get("id").and_then(Value::as_str).map(str::to_string),
            o.get("uniqueName")
                .and_then(Value::as_str)
                .map(str::to_string),
            o.get("displayName")
                .and_then(Value::as_str)
                .map(str::to_string),
        ),
        Value::String(s) if s.trim().is_empty() => return Resolved::Clear,
        Value::String(s) => {
            let s = s.trim();
            // "Name <email>", with or without the space (example 12 has none).
            if let Some((name, rest)) = s.split_once('<') {
                (
                    None,
                    Some(rest.trim_end_matches('>').trim().to_string()),
                    Some(name.trim().to_string()),
                )
            } else if s.contains('@') {
                (None, Some(s.to_string()), None)
            } else {
                (None, None, Some(s.to_string()))
            }
        }
        other => return Resolved::Unknown(other.to_string()),
    };
    let eq = |a: &Option<String>, b: &str| a.as_deref().is_some_and(|a| a.eq_ignore_ascii_case(b));
    let found = directory
        .iter()
        .find(|i| eq(&id, &i.id))
        .or_else(|| directory.iter().find(|i| eq(&email, &i.unique_name)))
        .or_else(|| {
            if email.is_none() {
                directory.iter().find(|i| eq(&name, &i.display_name))
            } else {
                None
            }
        });
    match found {
        Some(i) => Resolved::Known(i.clone()),
        None => Resolved::Unknown(match value {
            Value::String(s) => s.clone(),
            other => other.to_string(),
        }),
    }
}

/// The `"Display Name <email>"` form ADO uses in WIQL comparisons and the
/// recycle bin's `deletedBy`.
pub fn display(i: &Identity) -> String {
    format!("{} <{}>", i.display_name, i.unique_name)
}
