//! The ADO service-hook payloads of the five work item events, read into one
//! typed [`Event`]. Bodies may start with a UTF-8 BOM (Microsoft's samples
//! do). The shapes follow `ado-api/README.md` §11.4: `workitem.updated`
//! carries a `WorkItemUpdate` (changed fields with old/new values, the full
//! revision under `revision`); the other four carry the work item itself.

use std::collections::BTreeMap;

use serde_json::{Map, Value};

use crate::error::{ConnectorError, Issue};

/// The work item events the connector subscribes to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum EventType {
    Created,
    Updated,
    Commented,
    Deleted,
    Restored,
}

impl EventType {
    /// Every event type, in subscription order.
    pub const ALL: [EventType; 5] = [
        EventType::Created,
        EventType::Updated,
        EventType::Commented,
        EventType::Deleted,
        EventType::Restored,
    ];

    /// The ADO event type name (`workitem.updated`...).
    pub fn name(self) -> &'static str {
        match self {
            EventType::Created => "workitem.created",
            EventType::Updated => "workitem.updated",
            EventType::Commented => "workitem.commented",
            EventType::Deleted => "workitem.deleted",
            EventType::Restored => "workitem.restored",
        }
    }

    /// The event type of an ADO name, if it is one of ours.
    pub fn parse(name: &str) -> Option<EventType> {
        EventType::ALL
            .into_iter()
            .find(|t| t.name().eq_ignore_ascii_case(name.trim()))
    }
}

/// Who made the change, as far as the payload tells.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct ChangedBy {
    pub id: Option<String>,
    pub display_name: String,
    pub unique_name: Option<String>,
}

impl ChangedBy {
    /// Reads an identity: an object (`id`, `displayName`, `uniqueName`), a
    /// `Name <mail>` string or a plain display name.
    pub(crate) fn from_value(v: &Value) -> Option<ChangedBy> {
        match v {
            Value::Object(o) => {
                let text = |k: &str| {
                    o.get(k)
                        .and_then(Value::as_str)
                        .filter(|s| !s.is_empty())
                        .map(str::to_string)
                };
                let display_name = text("displayName").or_else(|| text("uniqueName"))?;
                Some(ChangedBy {
                    id: text("id"),
                    display_name,
                    unique_name: text("uniqueName"),
                })
            }
            Value::String(s) if !s.trim().is_empty() => Some(match s.rsplit_once('<') {
                Some((name, mail)) if mail.ends_with('>') => ChangedBy {
                    id: None,
                    display_name: name.trim().to_string(),
                    unique_name: Some(mail.trim_end_matches('>').trim().to_string()),
                },
                _ => ChangedBy {
                    id: None,
                    display_name: s.trim().to_string(),
                    unique_name: None,
                },
            }),
            _ => None,
        }
    }

    /// The id, else the unique name: what [`ChangedBy::is`] recognises.
    pub fn key(&self) -> Option<&str> {
        self.id.as_deref().or(self.unique_name.as_deref())
    }

    /// Whether this is the identity `who` (an id or a unique name).
    pub fn is(&self, who: &str) -> bool {
        let who = who.trim();
        !who.is_empty()
            && [self.id.as_deref(), self.unique_name.as_deref()]
                .into_iter()
                .flatten()
                .any(|v| v.eq_ignore_ascii_case(who))
    }
}

/// One changed field of a `workitem.updated` event.
#[derive(Debug, Clone, PartialEq)]
pub struct Change {
    /// Absent when the field was empty before.
    pub old: Option<Value>,
    /// Absent when the field was cleared.
    pub new: Option<Value>,
}

/// A parsed service-hook delivery.
#[derive(Debug, Clone, PartialEq)]
pub struct Event {
    /// Event id (GUID), for de-duplication.
    pub id: String,
    pub event_type: EventType,
    pub work_item_id: i32,
    /// Revision the event describes.
    pub rev: Option<i32>,
    pub changed_by: Option<ChangedBy>,
    /// Changed fields (`workitem.updated` only), by reference name.
    pub changes: BTreeMap<String, Change>,
    /// Every field value of the revision, the changes' new values included.
    pub fields: Map<String, Value>,
    /// The comment text (`System.History`) of a `workitem.commented` event.
    pub comment: Option<String>,
    /// The ADO comment id, when the payload carries one (`commentVersionRef`).
    pub comment_id: Option<i64>,
    /// When the event was raised.
    pub created_date: Option<String>,
}

fn missing(path: &str, message: &str) -> ConnectorError {
    ConnectorError::Validation(vec![Issue::new(path, "required", message)])
}

/// An integer that may arrive as a number or as a string.
fn int(v: Option<&Value>) -> Option<i64> {
    match v? {
        Value::Number(n) => n.as_i64(),
        Value::String(s) => s.trim().parse().ok(),
        _ => None,
    }
}

fn i32_of(v: Option<&Value>) -> Option<i32> {
    int(v).and_then(|n| i32::try_from(n).ok())
}

/// The value as text, for comparing a change's (often stringified) new
/// value with the revision's typed one.
fn text_of(v: &Value) -> String {
    match v {
        Value::String(s) => s.clone(),
        other => other.to_string(),
    }
}

/// Parses a delivery body. A body that is not an event of ours is a
/// `Validation` error naming what is missing.
pub fn parse(body: &[u8]) -> Result<Event, ConnectorError> {
    let body = body.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(body);
    let root: Value = serde_json::from_slice(body).map_err(|e| {
        ConnectorError::Validation(vec![Issue::new(
            "body",
            "json",
            format!("the delivery body is not JSON: {e}"),
        )])
    })?;
    let root = root
        .as_object()
        .ok_or_else(|| missing("body", "the delivery body is not a JSON object"))?;
    let id = root
        .get("id")
        .and_then(Value::as_str)
        .filter(|s| !s.trim().is_empty())
        .ok_or_else(|| missing("id", "the event has no `id`"))?;
    let type_name = root
        .get("eventType")
        .and_then(Value::as_str)
        .ok_or_else(|| missing("eventType", "the event has no `eventType`"))?;
    let event_type = EventType::parse(type_name).ok_or_else(|| {
        ConnectorError::Validation(vec![Issue::new(
            "eventType",
            "unsupported",
            format!("`{type_name}` is not a work item event the connector handles"),
        )])
    })?;
    let resource = root
        .get("resource")
        .and_then(Value::as_object)
        .ok_or_else(|| missing("resource", "the event has no `resource` object"))?;
    let created_date = root
        .get("createdDate")
        .and_then(Value::as_str)
        .map(str::to_string);
    let object = |o: &Map<String, Value>, k: &str| {
        o.get(k)
            .and_then(Value::as_object)
            .cloned()
            .unwrap_or_default()
    };

    let mut event = Event {
        id: id.trim().to_string(),
        event_type,
        work_item_id: 0,
        rev: None,
        changed_by: None,
        changes: BTreeMap::new(),
        fields: Map::new(),
        comment: None,
        comment_id: None,
        created_date,
    };
    if event_type == EventType::Updated {
        let revision = object(resource, "revision");
        // `resource.id` is the update number, never the work item id.
        event.work_item_id = i32_of(resource.get("workItemId"))
            .filter(|id| *id > 0)
            .or_else(|| i32_of(revision.get("id")))
            .ok_or_else(|| missing("resource.workItemId", "the update names no work item (`resource.workItemId` or `resource.revision.id`)"))?;
        event.rev = i32_of(revision.get("rev")).or_else(|| i32_of(resource.get("rev")));
        event.fields = object(&revision, "fields");
        for (name, change) in object(resource, "fields") {
            let c = change.as_object().cloned().unwrap_or_default();
            let change = Change {
                old: c.get("oldValue").cloned(),
                new: c.get("newValue").cloned(),
            };
            match &change.new {
                Some(new) if event.fields.get(&name).map(text_of) != Some(text_of(new)) => {
                    event.fields.insert(name.clone(), new.clone());
                }
                None => {
                    event.fields.remove(&name);
                }
                _ => {}
            }
            event.changes.insert(name, change);
        }
        event.changed_by = resource.get("revisedBy").and_then(ChangedBy::from_value);
    } else {
        event.work_item_id = i32_of(resource.get("id")).ok_or_else(|| {
            missing(
                "resource.id",
                "the event names no work item (`resource.id`)",
            )
        })?;
        event.rev = i32_of(resource.get("rev"));
        event.fields = object(resource, "fields");
    }
    if event.changed_by.is_none() {
        event.changed_by = event
            .fields
            .get("System.ChangedBy")
            .and_then(ChangedBy::from_value);
    }
    if event_type == EventType::Commented {
        event.comment = event
            .fields
            .get("System.History")
            .and_then(Value::as_str)
            .map(str::to_string);
        event.comment_id = int(resource
            .get("commentVersionRef")
            .and_then(|r| r.get("commentId")));
    }
    Ok(event)
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;

    const DIR: &str = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../../reference/ado-api/samples/servicehook-events/aspnet-AspNetWebHooks"
    );

    /// A sample body, BOM included.
    pub(crate) fn sample(event: &str) -> Vec<u8> {
        std::fs::read(format!("{DIR}/workitem.{event}.json")).unwrap()
    }

    #[test]
    fn every_sample_parses_with_its_ids_and_revision() {
        let expect = [
            (
                "created",
                "d2d46fb1-dba5-403c-9373-427583f19e8c",
                EventType::Created,
                5,
                Some(1),
            ),
            (
                "updated",
                "27646e0e-b520-4d2b-9411-bba7524947cd",
                EventType::Updated,
                5,
                Some(2),
            ),
            (
                "commented",
                "fb2617ed-60df-4518-81fa-749faa6c5cd6",
                EventType::Commented,
                5,
                Some(4),
            ),
            (
                "deleted",
                "72da0ade-0709-40ee-beb7-104287bf7e84",
                EventType::Deleted,
                5,
                Some(1),
            ),
            (
                "restored",
                "1ca023d6-6cff-49dd-b3d1-302b69311810",
                EventType::Restored,
                5,
                Some(1),
            ),
        ];
        for (name, id, ty, wi, rev) in expect {
            let body = sample(name);
            assert!(
                body.starts_with(b"\xEF\xBB\xBF"),
                "{name} sample lost its BOM"
            );
            let e = parse(&body).unwrap_or_else(|err| panic!("{name}: {err}"));
            assert_eq!(
                (e.id.as_str(), e.event_type, e.work_item_id, e.rev),
                (id, ty, wi, rev),
                "{name}"
            );
            assert_eq!(e.event_type.name(), format!("workitem.{name}"));
            assert!(!e.fields.is_empty(), "{name}");
        }
    }

    #[test]
    fn updated_reads_changes_and_overlays_new_values_on_the_revision() {
        let e = parse(&sample("updated")).unwrap();
        let state = &e.changes["System.State"];
        assert_eq!(
            (state.old.as_ref(), state.new.as_ref()),
            (Some(&Value::from("New")), Some(&Value::from("Approved")))
        );
        assert_eq!(e.changes["System.AssignedTo"].old, None);
        assert_eq!(e.fields["System.State"], "Approved");
        assert_eq!(e.fields["Microsoft.VSTS.Common.Severity"], "2 - High");
        assert_eq!(e.fields["System.Title"], "Some great new idea!");
        assert_eq!(
            e.changed_by.as_ref().map(|c| c.display_name.as_str()),
            Some("Jamal Hartnett")
        );
    }

    #[test]
    fn commented_carries_the_comment_text_and_author() {
        let e = parse(&sample("commented")).unwrap();
        assert_eq!(e.comment.as_deref(), Some("This is a great new idea"));
        assert_eq!(e.changed_by.unwrap().display_name, "Jamal Hartnett");
        assert!(e.changes.is_empty());
    }

    #[test]
    fn identity_objects_and_name_mail_strings_are_read() {
        let mut v: Value = serde_json::from_slice(&sample("updated")[3..]).unwrap();
        v["resource"]["workItemId"] = 9.into();
        v["resource"]["revisedBy"] = serde_json::json!({"id": "abc-1", "displayName": "Sync Bot", "uniqueName": "bot@contoso.example"});
        let e = parse(&serde_json::to_vec(&v).unwrap()).unwrap();
        assert_eq!(e.work_item_id, 9);
        let by = e.changed_by.unwrap();
        assert!(by.is("ABC-1") && by.is("bot@contoso.example") && !by.is("Sync Bot"));
        let by =
            ChangedBy::from_value(&Value::from("Norman Paulk <norman@contoso.example>")).unwrap();
        assert_eq!(
            (by.display_name.as_str(), by.unique_name.as_deref()),
            ("Norman Paulk", Some("norman@contoso.example"))
        );
    }

    #[test]
    fn malformed_bodies_name_what_is_missing() {
        let path = |body: &[u8]| match parse(body) {
            Err(ConnectorError::Validation(i)) => i[0].path.clone(),
            other => panic!("{other:?}"),
        };
        assert_eq!(path(b"not json"), "body");
        assert_eq!(path(b"[1]"), "body");
        assert_eq!(path(br#"{"eventType":"workitem.updated"}"#), "id");
        assert_eq!(path(br#"{"id":"x"}"#), "eventType");
        assert_eq!(
            path(br#"{"id":"x","eventType":"git.push","resource":{}}"#),
            "eventType"
        );
        assert_eq!(
            path(br#"{"id":"x","eventType":"workitem.created"}"#),
            "resource"
        );
        assert_eq!(
            path(br#"{"id":"x","eventType":"workitem.created","resource":{}}"#),
            "resource.id"
        );
        assert_eq!(
            path(br#"{"id":"x","eventType":"workitem.updated","resource":{"workItemId":0}}"#),
            "resource.workItemId"
        );
    }
}
