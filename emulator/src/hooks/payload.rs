//! The JSON an ADO service hook POSTs for a work item event, in the shape of
//! Microsoft's fixtures (`samples/servicehook-events/aspnet-AspNetWebHooks`):
//! `subscriptionId`, `notificationId`, `id`, `eventType`, `publisherId`,
//! `message`, `detailedMessage`, `resource`, `resourceVersion`,
//! `resourceContainers`, `createdDate`.
//!
//! Resource version 1.0 writes identity fields as strings, not IdentityRefs.
//! Microsoft's 2014 fixtures write the display name alone (`"System.CreatedBy":
//! "Jamal Hartnett"`) and, in `workitem.updated`, integer old/new values as
//! strings (`"System.Rev": {"oldValue": "1", "newValue": "2"}`); deliveries
//! recorded from Azure DevOps Services in 2023 and 2025 write
//! `"Display Name <unique name>"` and JSON numbers (`{"oldValue": 10,
//! "newValue": 11}`; FIDELITY.md names them). The emulator follows the
//! recorded deliveries [unverified: recordings quoted in public code, not
//! a Microsoft sample]; `hook-identities=name` and `hook-values=strings`
//! (`variants`) give the fixtures' forms.

use serde_json::{Map, Value, json};

use crate::events::{EventKind, WorkItemEvent};
use crate::hooks::subscriptions::Subscription;
use crate::model::StoredItem;
use crate::site::Site;
use crate::store::Revision;
use crate::variants::{HookIdentities, HookValues, Variants};
use crate::views;

/// What a payload is built from besides the event and its subscription.
pub struct Ctx<'a> {
    pub site: &'a Site,
    pub variants: &'a Variants,
    /// `account` of the resource containers (`Hooks::account_id`).
    pub account_id: &'a str,
}

/// An IdentityRef becomes a string at resource version 1.0: `Name <mail>`
/// or, under `hook-identities=name`, the display name alone.
fn flatten_identity(v: &Value, form: HookIdentities) -> Value {
    match v {
        Value::Object(o) if o.contains_key("displayName") && o.contains_key("uniqueName") => {
            match (form, o["displayName"].as_str(), o["uniqueName"].as_str()) {
                (HookIdentities::NameAndMail, Some(name), Some(mail)) if !mail.is_empty() => {
                    json!(format!("{name} <{mail}>"))
                }
                _ => o["displayName"].clone(),
            }
        }
        other => other.clone(),
    }
}

fn flat_fields(fields: &Map<String, Value>, form: HookIdentities) -> Map<String, Value> {
    fields
        .iter()
        .map(|(k, v)| (k.clone(), flatten_identity(v, form)))
        .collect()
}

/// `workitem.updated` values: identities flattened; integers as numbers,
/// or as strings under `hook-values=strings`.
fn update_value(v: &Value, variants: &Variants) -> Value {
    match flatten_identity(v, variants.hook_identities) {
        Value::Number(n)
            if variants.hook_values == HookValues::Strings && (n.is_i64() || n.is_u64()) =>
        {
            Value::String(n.to_string())
        }
        other => other,
    }
}

fn revision_of(item: &StoredItem, by: &Value) -> Revision {
    let date = item
        .fields
        .get("System.ChangedDate")
        .and_then(Value::as_str)
        .unwrap_or_default()
        .to_string();
    Revision {
        rev: item.rev,
        fields: item.fields.clone(),
        relations: item.relations.clone(),
        by: by.clone(),
        date,
    }
}

/// The work item as `workitem.created/commented/restored` carry it.
fn item_resource(cx: &Ctx, item: &StoredItem) -> Value {
    let mut v = views::item_json(cx.site, item, false);
    v["fields"] = Value::Object(flat_fields(&item.fields, cx.variants.hook_identities));
    v
}

/// `workitem.deleted`: the item, its URLs pointing into the recycle bin.
fn deleted_resource(cx: &Ctx, item: &StoredItem) -> Value {
    let base = cx.site.org_url();
    let url = format!(
        "{base}/{}/_apis/wit/recycleBin/{}",
        item.project_id, item.id
    );
    let ty = item
        .fields
        .get("System.WorkItemType")
        .and_then(Value::as_str)
        .unwrap_or_default()
        .replace(' ', "%20");
    json!({
        "id": item.id,
        "rev": item.rev,
        "fields": flat_fields(&item.fields, cx.variants.hook_identities),
        "_links": {
            "self": {"href": url},
            "workItemType": {"href": format!("{base}/{}/_apis/wit/workItemTypes/{ty}", item.project_id)},
            "fields": {"href": format!("{base}/{}/_apis/wit/fields", item.project_id)},
        },
        "url": url,
    })
}

/// `workitem.updated`: a `WorkItemUpdate` (the updates API's shape) plus
/// `revision`, the whole item at this revision.
fn update_resource(cx: &Ctx, event: &WorkItemEvent) -> Value {
    let item = &event.item;
    let by = crate::identities::identity_ref(cx.site, &event.actor);
    let after = revision_of(item, &by);
    let before = event.previous.as_ref().map(|p| revision_of(p, &by));
    let mut v = views::update(cx.site, item, before.as_ref(), &after, None);
    if let Some(fields) = v.get_mut("fields").and_then(Value::as_object_mut) {
        for change in fields.values_mut() {
            if let Some(c) = change.as_object_mut() {
                for value in c.values_mut() {
                    *value = update_value(value, cx.variants);
                }
            }
        }
    }
    v["revision"] = json!({
        "id": item.id,
        "rev": item.rev,
        "fields": flat_fields(&item.fields, cx.variants.hook_identities),
        "url": format!("{}/revisions/{}", views::item_url(cx.site, item), item.rev),
    });
    v
}

fn text_field(item: &StoredItem, name: &str) -> String {
    match item
        .fields
        .get(name)
        .map(|v| flatten_identity(v, HookIdentities::Name))
    {
        Some(Value::String(s)) => s,
        Some(Value::Null) | None => String::new(),
        Some(other) => other.to_string(),
    }
}

fn html_escape(s: &str) -> String {
    html_escape::encode_double_quoted_attribute(s).into_owned()
}

/// `{text, html, markdown}` summaries, worded as the fixtures are.
fn messages(cx: &Ctx, event: &WorkItemEvent, event_type: &str) -> (Value, Value) {
    let item = &event.item;
    let label = format!("{} #{}", text_field(item, "System.WorkItemType"), item.id);
    let title = text_field(item, "System.Title");
    let verb = event_type.trim_start_matches("workitem.");
    let verb = if verb == "commented" {
        "commented on"
    } else {
        verb
    };
    let who = &event.actor.display_name;
    // The `web/wi.aspx` page with the collection id as `pcguid`: Learn's
    // samples (service-hooks/events) and a delivery recorded in 2023
    // (FIDELITY.md); Microsoft's 2014 fixtures wrote `id=` for it.
    let link = format!(
        "{}/web/wi.aspx?pcguid={}&id={}",
        cx.site.org_url(),
        cx.site.instance_id,
        item.id
    );
    let tail = format!("({title}) {verb} by {who}.");
    let (text, html, markdown) = if event.kind == EventKind::Deleted {
        // The deleted fixture has no link: the item is gone.
        (
            format!("{label} {tail}"),
            html_escape(&format!("{label} {tail}")),
            format!("[{label}] {tail}"),
        )
    } else {
        (
            format!("{label} {tail}\r\n({link})"),
            format!(
                "<a href=\"{}\">{label}</a> {}",
                html_escape(&link),
                html_escape(&tail)
            ),
            format!("[{label}]({link}) {tail}"),
        )
    };
    let message = json!({"text": text, "html": html, "markdown": markdown});
    // The detail lists of the fixtures. [unverified] which fields each event lists.
    let mut lines: Vec<(String, String)> = Vec::new();
    let state = text_field(item, "System.State");
    match event.kind {
        EventKind::Created => {
            lines.push(("State".into(), state));
            lines.push(("Assigned to".into(), text_field(item, "System.AssignedTo")));
            lines.push(("Comment".into(), text_field(item, "System.History")));
            if item.fields.contains_key("Microsoft.VSTS.Common.Severity") {
                lines.push((
                    "Severity".into(),
                    text_field(item, "Microsoft.VSTS.Common.Severity"),
                ));
            }
        }
        EventKind::Restored => {
            lines.push(("State".into(), state));
            if item.fields.contains_key("Microsoft.VSTS.Common.Severity") {
                lines.push((
                    "Severity".into(),
                    text_field(item, "Microsoft.VSTS.Common.Severity"),
                ));
            }
        }
        EventKind::Deleted => lines.push(("State".into(), state)),
        EventKind::Updated | EventKind::Commented => {
            let old = event
                .previous
                .as_ref()
                .map(|p| text_field(p, "System.State"))
                .unwrap_or_default();
            if old != state && event_type == "workitem.updated" {
                lines.push(("New State".into(), state));
            }
        }
    }
    let detailed = if event_type == "workitem.commented" {
        let comment = event
            .comment
            .as_ref()
            .and_then(|c| c["text"].as_str().map(str::to_string))
            .unwrap_or_else(|| text_field(item, "System.History"));
        json!({
            "text": format!("{text}\r\n{comment}"),
            "html": format!("{html}<br/>{comment}"),
            "markdown": format!("{markdown}\r\n{comment}"),
        })
    } else if lines.is_empty() {
        message.clone()
    } else {
        let t: String = lines
            .iter()
            .map(|(k, v)| format!("- {k}: {v}\r\n"))
            .collect();
        let h: Vec<String> = lines
            .iter()
            .map(|(k, v)| format!("<li>{}: {}</li>", html_escape(k), html_escape(v)))
            .collect();
        let m: String = lines
            .iter()
            .map(|(k, v)| format!("* {k}: {v}\r\n"))
            .collect();
        json!({
            "text": format!("{text}\r\n\r\n{t}"),
            "html": format!("{html}<ul>\r\n{}</ul>", h.join("\r\n")),
            "markdown": format!("{markdown}\r\n\r\n{m}"),
        })
    };
    (message, detailed)
}

/// Keeps the formats `messagesToSend` asks for ("" = all, `none` = no message).
fn pick_formats(message: Value, choice: Option<&str>) -> Option<Value> {
    match choice.map(str::to_ascii_lowercase).as_deref() {
        None | Some("") | Some("all") => Some(message),
        Some("none") => None,
        Some(format) => Some(json!({ format: message[format].clone() })),
    }
}

/// What `resourceDetailsToSend` keeps: all, `minimal` (key fields such as
/// id and url [doc]), or `none`. [unverified] the exact minimal members.
fn pick_resource(resource: Value, choice: Option<&str>) -> Option<Value> {
    match choice.map(str::to_ascii_lowercase).as_deref() {
        None | Some("") | Some("all") => Some(resource),
        Some("none") => None,
        _ => {
            let keep = ["id", "workItemId", "rev", "url"];
            let o = resource.as_object().map(|o| {
                o.iter()
                    .filter(|(k, _)| keep.contains(&k.as_str()))
                    .map(|(k, v)| (k.clone(), v.clone()))
                    .collect::<Map<_, _>>()
            });
            Some(o.map(Value::Object).unwrap_or(resource))
        }
    }
}

/// The whole payload of one notification.
pub fn build(
    cx: &Ctx,
    event: &WorkItemEvent,
    date: &str,
    event_id: &str,
    sub: &Subscription,
    notification_id: i32,
) -> Value {
    let event_type = sub.event_type.as_str();
    let resource = match (event.kind, event_type) {
        (EventKind::Deleted, _) => deleted_resource(cx, &event.item),
        (_, "workitem.updated") => update_resource(cx, event),
        _ => item_resource(cx, &event.item),
    };
    let (message, detailed) = messages(cx, event, event_type);
    let inputs = &sub.consumer_inputs;
    let org = cx.site.org_url();
    let container = |id: &str| json!({"id": id, "baseUrl": format!("{org}/")});
    let mut v = json!({
        "subscriptionId": sub.id,
        "notificationId": notification_id,
        "id": event_id,
        "eventType": event_type,
        "publisherId": "tfs",
    });
    if let Some(m) = pick_formats(message, inputs.get("messagesToSend").map(String::as_str)) {
        v["message"] = m;
    }
    if let Some(m) = pick_formats(
        detailed,
        inputs.get("detailedMessagesToSend").map(String::as_str),
    ) {
        v["detailedMessage"] = m;
    }
    if let Some(r) = pick_resource(
        resource,
        inputs.get("resourceDetailsToSend").map(String::as_str),
    ) {
        v["resource"] = r;
    }
    // Omitted or "latest" means the latest released version, 1.0 [doc].
    let version = sub
        .resource_version
        .clone()
        .filter(|r| !r.is_empty() && !r.eq_ignore_ascii_case("latest"))
        .unwrap_or_else(|| "1.0".into());
    v["resourceVersion"] = json!(version);
    v["resourceContainers"] = json!({
        "collection": container(&cx.site.instance_id),
        "account": container(cx.account_id),
        "project": container(&event.item.project_id),
    });
    v["createdDate"] = json!(date);
    v
}
