//! JSON views of stored work items, revisions, updates, comments and
//! recycle bin entries, in the shapes of Microsoft's samples and the 7.1 spec.

use serde_json::{Map, Value, json};

use crate::model::StoredItem;
use crate::site::Site;
use crate::store::{Comment, Deleted, Revision};

/// `$expand` of work item reads: none, relations, fields, links, all.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Expand {
    None,
    Relations,
    Fields,
    Links,
    All,
}

impl Expand {
    pub fn parse(s: Option<&str>) -> Option<Expand> {
        Some(match s.map(str::to_ascii_lowercase).as_deref() {
            None | Some("") | Some("none") => Expand::None,
            Some("relations") => Expand::Relations,
            Some("fields") => Expand::Fields,
            Some("links") => Expand::Links,
            Some("all") => Expand::All,
            Some(_) => return None,
        })
    }
}

/// What a read asks for.
#[derive(Debug, Clone)]
pub struct View {
    /// Only these fields (reference names), when given.
    pub fields: Option<Vec<String>>,
    pub expand: Expand,
    /// `_links` on the item: single reads have them, list reads only when expanded.
    pub links: bool,
}

fn org_url(site: &Site) -> String {
    format!("{}/{}", site.base_url(), site.organization)
}

/// The item's REST URL (project-scoped, as ADO returns it).
pub fn item_url(site: &Site, item: &StoredItem) -> String {
    format!(
        "{}/{}/_apis/wit/workItems/{}",
        org_url(site),
        item.project_id,
        item.id
    )
}

fn links(site: &Site, item: &StoredItem) -> Value {
    let base = org_url(site);
    let url = item_url(site, item);
    let ty = item
        .fields
        .get("System.WorkItemType")
        .and_then(Value::as_str)
        .unwrap_or_default();
    json!({
        "self": {"href": url},
        "workItemUpdates": {"href": format!("{url}/updates")},
        "workItemRevisions": {"href": format!("{url}/revisions")},
        "workItemComments": {"href": format!("{url}/comments")},
        "html": {"href": format!("{base}/{}/_workitems/edit/{}", item.project_id, item.id)},
        "workItemType": {"href": format!("{base}/{}/_apis/wit/workItemTypes/{}", item.project_id, ty.replace(' ', "%20"))},
        "fields": {"href": format!("{base}/{}/_apis/wit/fields", item.project_id)},
    })
}

fn pick(fields: &Map<String, Value>, only: Option<&[String]>) -> Map<String, Value> {
    match only {
        None => fields.clone(),
        Some(names) => fields
            .iter()
            .filter(|(k, _)| names.iter().any(|n| n.eq_ignore_ascii_case(k)))
            .map(|(k, v)| (k.clone(), v.clone()))
            .collect(),
    }
}

/// A work item as a read returns it.
pub fn item(site: &Site, item: &StoredItem, view: &View) -> Value {
    let mut v = json!({"id": item.id, "rev": item.rev, "fields": pick(&item.fields, view.fields.as_deref())});
    let expand = view.expand;
    if matches!(expand, Expand::Relations | Expand::All) && !item.relations.is_empty() {
        v["relations"] = Value::Array(item.relations.clone());
    }
    if view.links || matches!(expand, Expand::Links | Expand::All) {
        v["_links"] = links(site, item);
    }
    v["url"] = item_url(site, item).into();
    v
}

/// A work item as create/update/GET return it, with relations when asked.
pub fn item_json(site: &Site, stored: &StoredItem, relations: bool) -> Value {
    item(
        site,
        stored,
        &View {
            fields: None,
            expand: if relations { Expand::All } else { Expand::None },
            links: true,
        },
    )
}

/// One revision (`.../revisions/{rev}`).
pub fn revision(site: &Site, item: &StoredItem, r: &Revision, expand: Expand) -> Value {
    let mut v = json!({"id": item.id, "rev": r.rev, "fields": r.fields});
    if matches!(expand, Expand::Relations | Expand::All) && !r.relations.is_empty() {
        v["relations"] = Value::Array(r.relations.clone());
    }
    v["url"] = format!("{}/revisions/{}", item_url(site, item), r.rev).into();
    v
}

fn relation_key(r: &Value) -> (String, String) {
    (
        r["rel"].as_str().unwrap_or_default().to_string(),
        r["url"].as_str().unwrap_or_default().to_string(),
    )
}

/// One update (`.../updates/{n}`): the fields and relations revision `n`
/// changed from revision `n - 1`. `next` is the revision after it, whose
/// date is when this one was revised.
pub fn update(
    site: &Site,
    item: &StoredItem,
    before: Option<&Revision>,
    r: &Revision,
    next: Option<&Revision>,
) -> Value {
    let mut fields = Map::new();
    let empty = Map::new();
    let old = before.map(|b| &b.fields).unwrap_or(&empty);
    for (k, new) in &r.fields {
        match old.get(k) {
            Some(o) if o == new => {}
            Some(o) => {
                fields.insert(k.clone(), json!({"oldValue": o, "newValue": new}));
            }
            None => {
                fields.insert(k.clone(), json!({"newValue": new}));
            }
        }
    }
    for (k, o) in old {
        // System.History belongs to one revision: its absence later is no change.
        if !r.fields.contains_key(k) && k != "System.History" {
            fields.insert(k.clone(), json!({"oldValue": o}));
        }
    }
    let url = format!("{}/updates/{}", item_url(site, item), r.rev);
    let mut v = json!({
        "id": r.rev,
        "workItemId": item.id,
        "rev": r.rev,
        "revisedBy": r.by,
        "revisedDate": next.map(|n| n.date.clone()).unwrap_or_else(|| "9999-01-01T00:00:00Z".into()),
        "fields": fields,
    });
    let old_rel: Vec<Value> = before.map(|b| b.relations.clone()).unwrap_or_default();
    let added: Vec<&Value> = r
        .relations
        .iter()
        .filter(|n| !old_rel.iter().any(|o| relation_key(o) == relation_key(n)))
        .collect();
    let removed: Vec<&Value> = old_rel
        .iter()
        .filter(|o| {
            !r.relations
                .iter()
                .any(|n| relation_key(o) == relation_key(n))
        })
        .collect();
    let updated: Vec<&Value> = r
        .relations
        .iter()
        .filter(|n| {
            old_rel
                .iter()
                .any(|o| relation_key(o) == relation_key(n) && o != *n)
        })
        .collect();
    if !added.is_empty() || !removed.is_empty() || !updated.is_empty() {
        let mut rel = Map::new();
        for (name, list) in [("added", added), ("removed", removed), ("updated", updated)] {
            if !list.is_empty() {
                rel.insert(name.into(), json!(list));
            }
        }
        v["relations"] = Value::Object(rel);
    }
    v["_links"] = json!({
        "self": {"href": url},
        "workItemUpdates": {"href": format!("{}/updates", item_url(site, item))},
        "parent": {"href": item_url(site, item)},
    });
    v["url"] = url.into();
    v
}

/// A comment (`Comment` in the 7.1 spec: `id`; the older samples call it
/// `commentId`).
pub fn comment_json(site: &Site, project_id: &str, c: &Comment, rendered: bool) -> Value {
    let mut v = json!({
        "workItemId": c.work_item_id,
        "id": c.id,
        "version": c.version,
        "text": c.text,
        "format": c.format,
        "createdBy": c.created_by,
        "createdDate": c.created_date,
        "modifiedBy": c.modified_by,
        "modifiedDate": c.modified_date,
        "isDeleted": c.is_deleted,
        "mentions": [],
        "reactions": [],
        "url": format!("{}/{project_id}/_apis/wit/workItems/{}/comments/{}", org_url(site), c.work_item_id, c.id),
    });
    if rendered {
        v["renderedText"] = c.rendered_text.clone().into();
    }
    v
}

/// A recycle bin entry (`WorkItemDeleteReference`, plus `resource` when full).
pub fn deleted(site: &Site, d: &Deleted, full: bool) -> Value {
    let item = &d.item;
    let project = site
        .project(&item.project_id)
        .map(|p| p.name.clone())
        .unwrap_or_default();
    let mut v = json!({
        "id": item.id,
        "code": 200,
        "type": item.fields.get("System.WorkItemType"),
        "name": item.fields.get("System.Title"),
        "project": project,
        "deletedDate": d.date,
        "deletedBy": crate::identities::display(&d.by),
        "url": format!("{}/{}/_apis/wit/recycleBin/{}", org_url(site), item.project_id, item.id),
    });
    if full {
        v["resource"] = item_json(site, item, false);
    }
    v
}
