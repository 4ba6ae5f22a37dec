//! JSON Patch on a work item, as ADO applies it on create and update: the
//! operations (`add`, `replace`, `remove`, `test`) on `/fields/...`,
//! `/relations/...` and `/rev`, checked against the type's rules. `apply`
//! works on a copy: when any operation fails the caller drops the copy, so a
//! failing document applies nothing.

use axum::http::{HeaderMap, StatusCode};
use axum::response::Response;
use serde::Deserialize;
use serde_json::{Value, json};

use crate::classification::Group;
use crate::dates::now;
use crate::errors::{envelope, envelope_with};
use crate::identities::{self, Resolved};
use crate::model::{Identity, Project, StoredItem};
use crate::process::{TypeField, WorkItemType};
use crate::rules;
use crate::state::Emu;
use crate::variants::CreateReason;

/// One JSON Patch operation.
#[derive(Debug, Clone, Deserialize)]
pub struct Op {
    pub op: String,
    pub path: String,
    #[serde(default)]
    pub value: Value,
}

/// How a patch is applied.
#[derive(Debug, Clone, Copy)]
pub struct Mode {
    pub bypass: bool,
    pub creating: bool,
}

/// The operations of a request body, which must be `application/json-patch+json`.
/// [spec] the operation consumes only that type. Any other is refused with
/// 400 and `VssRequestContentTypeNotSupportedException` [ms-code: ADO's
/// answers quoted in AZDOPS/AZDOPS#63 (POST) and restsharp/RestSharp#1413
/// (PATCH); 400: https://www.aveyara.com/blog/03-post-headers-are-important/].
pub fn parse_ops(method: &str, headers: &HeaderMap, body: &[u8]) -> Result<Vec<Op>, Response> {
    let ct = headers
        .get("content-type")
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default();
    if !ct
        .to_ascii_lowercase()
        .starts_with("application/json-patch+json")
    {
        let given = ct.split(';').next().unwrap_or_default().trim();
        return Err(envelope(
            StatusCode::BAD_REQUEST,
            &format!(
                "The request indicated a Content-Type of \"{given}\" for method type \"{method}\" which is not supported. Valid content types for this method are: application/json-patch+json."
            ),
            "VssRequestContentTypeNotSupportedException",
        ));
    }
    parse_body(body)
}

/// The operations of a JSON body whose content type was already checked.
/// A body that is not a list of operations: 400 "You must pass a valid
/// patch document in the body of the request." [ms-code: ADO's answer
/// quoted in devopshq/tfs#39 and microsoft/playwright#27064], type key
/// `VssPropertyValidationException` (ADO's 400 for a request body it
/// cannot validate, fortify-ps/FortifyBugTrackerUtility#44).
pub fn parse_body(body: &[u8]) -> Result<Vec<Op>, Response> {
    serde_json::from_slice(body).map_err(|_| {
        envelope(
            StatusCode::BAD_REQUEST,
            NOT_A_PATCH_DOCUMENT,
            "VssPropertyValidationException",
        )
    })
}

/// ADO's text for a body that is not a JSON Patch document.
pub const NOT_A_PATCH_DOCUMENT: &str =
    "You must pass a valid patch document in the body of the request.";

fn bad(message: &str) -> Response {
    // [unverified] ADO's code and text for a malformed patch operation.
    envelope(
        StatusCode::BAD_REQUEST,
        &format!("VS403448: {message}"),
        "InvalidArgumentValueException",
    )
}

/// Strips our host and query from an attachment URL, returning its id.
fn attachment_id(emu: &Emu, url: &str) -> Option<String> {
    let prefix = format!("{}/{}/", emu.base_url(), emu.organization);
    let rest = url.strip_prefix(&prefix)?;
    let path = rest.split('?').next()?;
    let (_, id) = path.rsplit_once("_apis/wit/attachments/")?;
    Some(id.to_string())
}

/// A new relation from an `add /relations/-` value. Resource links
/// (Hyperlink, AttachedFile) get ADO's server attributes (example 6).
fn relation(emu: &Emu, value: &Value) -> Result<Value, Response> {
    let rel = value.get("rel").and_then(Value::as_str).unwrap_or_default();
    let mut url = value
        .get("url")
        .and_then(Value::as_str)
        .unwrap_or_default()
        .to_string();
    if rel.is_empty() || url.is_empty() {
        return Err(bad("A relation needs `rel` and `url`."));
    }
    let mut attributes = value
        .get("attributes")
        .cloned()
        .unwrap_or_else(|| json!({}));
    if !attributes.is_object() {
        return Err(bad("Relation `attributes` must be an object."));
    }
    if rel == "AttachedFile" {
        // The stored URL has no `fileName` query; name and size come from the upload.
        let id = attachment_id(emu, &url).ok_or_else(|| {
            bad(&format!(
                "The attachment URL {url} is not an attachment of this organization."
            ))
        })?;
        let data = emu.data();
        // [unverified] ADO's code for a link to an unknown attachment.
        let found = data
            .store
            .attachments
            .get(&id)
            .ok_or_else(|| bad(&format!("TF401080: The attachment {id} does not exist.")))?;
        attributes["name"] = found.file_name.clone().into();
        attributes["resourceSize"] = found.bytes.len().into();
        url = format!(
            "{}/{}/_apis/wit/attachments/{id}",
            emu.base_url(),
            emu.organization
        );
    }
    if rel == "AttachedFile" || rel == "Hyperlink" {
        let id = {
            let mut data = emu.data();
            data.store.next_link_id += 1;
            data.store.next_link_id
        };
        let stamp = now();
        attributes["id"] = id.into();
        attributes["authorizedDate"] = stamp.clone().into();
        attributes["resourceCreatedDate"] = stamp.clone().into();
        attributes["resourceModifiedDate"] = stamp.into();
        attributes["revisedDate"] = "9999-01-01T00:00:00Z".into();
    } else if rel.starts_with("System.LinkTypes.") || rel.starts_with("Microsoft.VSTS.") {
        attributes["isLocked"] = attributes.get("isLocked").cloned().unwrap_or(json!(false));
    }
    Ok(json!({"rel": rel, "url": url, "attributes": attributes}))
}

fn relation_index(path: &str, len: usize) -> Result<usize, Response> {
    let index: usize = path
        .parse()
        .map_err(|_| bad(&format!("`/relations/{path}` is not a relation index.")))?;
    if index >= len {
        return Err(bad(&format!("Relation index {index} is out of range.")));
    }
    Ok(index)
}

/// ADO's answer to an identity it does not know: 400, "The identity value
/// '{value}' for field '{field name}' is an unknown identity." with no TF
/// code [ms-code: the message of ADO's answer as Microsoft's CLI prints it,
/// Azure/azure-devops-cli-extension#272; bluebasher/WorkItemUpdater#78].
/// [unverified] its type key and `customProperties`.
fn unknown_identity(field: &TypeField, value: &str) -> Response {
    let message = format!(
        "The identity value '{value}' for field '{}' is an unknown identity.",
        field.name
    );
    envelope_with(
        StatusCode::BAD_REQUEST,
        &message,
        "RuleValidationException",
        Some(
            json!({"FieldReferenceName": field.reference_name, "FieldStatusFlags": "invalididentity", "ErrorMessage": message}),
        ),
    )
}

/// The tree a field is a path or an id of: `System.AreaPath`/`AreaId`,
/// `System.IterationPath`/`IterationId`; the path and the id move together.
fn tree_group(reference: &str) -> Option<(Group, bool)> {
    if let Some(g) = Group::of_field(reference) {
        return Some((g, true));
    }
    [Group::Areas, Group::Iterations]
        .into_iter()
        .find(|g| g.id_field().eq_ignore_ascii_case(reference))
        .map(|g| (g, false))
}

/// ADO's refusal of a tree path that names no node of the project:
/// `TF401347: Invalid tree name given for work item {id}, field '{field}'.`
/// (400; `-1` for an item being created), as public reports quote it.
fn invalid_tree(item: &StoredItem, field: &TypeField) -> Response {
    let id = if item.id == 0 { -1 } else { item.id };
    envelope_with(
        StatusCode::BAD_REQUEST,
        &format!(
            "TF401347: Invalid tree name given for work item {id}, field '{}'.",
            field.reference_name
        ),
        "WorkItemFieldInvalidTreeNameException",
        None,
    )
}

/// Writes an area or iteration by path (or by node id): the path must name
/// a node of the project's tree; the item gets both the path, spelt as the
/// tree spells it, and the node's id. Removing one puts the item back at
/// the root, where ADO places an item without one.
fn set_tree(
    emu: &Emu,
    project: &Project,
    item: &mut StoredItem,
    field: &TypeField,
    (group, by_path): (Group, bool),
    value: &Value,
) -> Result<(), Response> {
    let data = emu.data();
    let Some(trees) = data.trees.get(&project.id) else {
        return Err(invalid_tree(item, field));
    };
    let found = match value {
        Value::Null => Some((trees.root(group).id, trees.root(group).name.clone())),
        Value::String(s) if by_path => trees.resolve(group, s.trim()),
        v if !by_path => v
            .as_i64()
            .or_else(|| v.as_str().and_then(|s| s.trim().parse().ok()))
            .and_then(|n| i32::try_from(n).ok())
            .and_then(|n| trees.path_of(group, n).map(|p| (n, p))),
        _ => None,
    };
    let (id, path) = found.ok_or_else(|| invalid_tree(item, field))?;
    let path_field = match group {
        Group::Areas => "System.AreaPath",
        Group::Iterations => "System.IterationPath",
    };
    item.fields.insert(path_field.into(), json!(path));
    item.fields.insert(group.id_field().into(), json!(id));
    Ok(())
}

/// Sets one field from an `add`/`replace` value.
fn set_field(
    emu: &Emu,
    directory: &[Identity],
    item: &mut StoredItem,
    field: &TypeField,
    def: Option<&crate::process::FieldDef>,
    value: &Value,
    bypass: bool,
) -> Result<(), Response> {
    let key = field.reference_name.clone();
    if def.is_some_and(|d| d.is_identity) {
        match identities::resolve(directory, value) {
            Resolved::Clear => {
                item.fields.remove(&key);
            }
            Resolved::Known(i) => {
                item.fields.insert(key, identities::identity_ref(emu, &i));
            }
            // bypassRules stores the text as written (the bypassRules example).
            Resolved::Unknown(text) if bypass => {
                item.fields.insert(key, json!(text));
            }
            Resolved::Unknown(text) => return Err(unknown_identity(field, &text)),
        }
        return Ok(());
    }
    let mut value = rules::coerce(def, field, value)?;
    if key == "System.Tags" {
        value = rules::normalize_tags(&value, emu.variants.tags_sorted);
    }
    if !bypass && key != "System.State" {
        rules::check_allowed(field, &value)?;
    }
    item.fields.insert(key, value);
    Ok(())
}

/// Applies the operations to `item` and runs the type's rules.
pub fn apply(
    emu: &Emu,
    project: &Project,
    item: &mut StoredItem,
    ops: &[Op],
    mode: Mode,
    actor: &Identity,
) -> Result<(), Response> {
    let ty_name = item
        .fields
        .get("System.WorkItemType")
        .and_then(Value::as_str)
        .unwrap_or_default()
        .to_string();
    let process = &project.process;
    let ty = process
        .work_item_type(&ty_name)
        .ok_or_else(|| rules::unknown_field("System.WorkItemType"))?;
    let old_state = item
        .fields
        .get("System.State")
        .and_then(Value::as_str)
        .map(str::to_string);
    let old_reason = item.fields.get("System.Reason").cloned();
    let directory = identities::directory(&emu.data, &emu.apps);
    for op in ops {
        match (op.op.as_str(), op.path.as_str()) {
            ("test", "/rev") => {
                if op.value.as_i64() != Some(i64::from(item.rev))
                    && op.value.as_str() != Some(&item.rev.to_string())
                {
                    // [ms-code] ADO answers a stale `test /rev` with 412 and applies nothing.
                    return Err(envelope(
                        StatusCode::PRECONDITION_FAILED,
                        &format!(
                            "TF26071: This work item has been changed by someone else since you opened it. You will need to refresh it and discard your changes. (rev {} tested, {} current)",
                            op.value, item.rev
                        ),
                        "WorkItemRevisionMismatchException",
                    ));
                }
            }
            ("add", "/relations/-") => {
                let rel = relation(emu, &op.value)?;
                item.relations.push(rel);
            }
            ("replace", p) if p.starts_with("/relations/") => {
                // Example 5: replacing a relation updates its attributes.
                let index = relation_index(&p["/relations/".len()..], item.relations.len())?;
                if let Some(attrs) = op.value.get("attributes").and_then(Value::as_object) {
                    for (k, v) in attrs {
                        item.relations[index]["attributes"][k] = v.clone();
                    }
                }
            }
            ("remove", p) if p.starts_with("/relations/") => {
                let index = relation_index(&p["/relations/".len()..], item.relations.len())?;
                item.relations.remove(index);
            }
            ("add" | "replace" | "remove" | "test", p) if p.starts_with("/fields/") => {
                let reference = &p["/fields/".len()..];
                let (field, def) =
                    rules::writable(process, ty, reference, mode.bypass || op.op == "test")?;
                if op.op == "test" {
                    if item.fields.get(&field.reference_name) != Some(&op.value) {
                        return Err(envelope(
                            StatusCode::PRECONDITION_FAILED,
                            &format!("TF26071: Test of field {} failed.", field.reference_name),
                            "WorkItemRevisionMismatchException",
                        ));
                    }
                } else if let Some(group) = tree_group(&field.reference_name) {
                    set_tree(emu, project, item, field, group, &op.value)?;
                } else if op.op == "remove" || op.value.is_null() {
                    item.fields.remove(&field.reference_name);
                } else if op.op == "add" && field.reference_name == "System.Tags" {
                    // Microsoft's examples: `add` on System.Tags appends to the
                    // item's tags ("Add tags": Tag0 + "Tag1; Tag2" gives
                    // "Tag0; Tag1; Tag2"); `replace` sets them ("Replace
                    // tags").
                    let mut joined = item
                        .fields
                        .get("System.Tags")
                        .and_then(Value::as_str)
                        .unwrap_or_default()
                        .to_string();
                    joined.push_str("; ");
                    joined.push_str(
                        &rules::coerce(def, field, &op.value)?
                            .as_str()
                            .map(str::to_string)
                            .unwrap_or_default(),
                    );
                    set_field(
                        emu,
                        &directory,
                        item,
                        field,
                        def,
                        &json!(joined),
                        mode.bypass,
                    )?;
                } else {
                    set_field(emu, &directory, item, field, def, &op.value, mode.bypass)?;
                }
            }
            (other, path) => {
                return Err(bad(&format!(
                    "The operation `{other}` on `{path}` is not supported."
                )));
            }
        }
    }
    if mode.creating {
        fill_defaults(process, ty, item)?;
    }
    let reason_of_new = emu.variants.create_reason;
    let state_changed = check_workflow(
        process,
        ty,
        item,
        (old_state, old_reason),
        mode,
        reason_of_new,
    )?;
    if !mode.bypass {
        rules::check_required(ty, &item.fields)?;
    }
    if state_changed {
        stamp_state_change(emu, ty, item, actor);
    }
    Ok(())
}

/// Defaults fill what a create left empty, before the rules run.
fn fill_defaults(
    process: &crate::process::Process,
    ty: &WorkItemType,
    item: &mut StoredItem,
) -> Result<(), Response> {
    for f in &ty.fields {
        if !item.fields.contains_key(&f.reference_name)
            && let Some(d) = &f.default_value
            && !d.is_null()
        {
            let value = rules::coerce(process.field(&f.reference_name), f, d)?;
            item.fields.insert(f.reference_name.clone(), value);
        }
    }
    Ok(())
}

/// The state must follow the type's transitions; the reason follows the
/// state unless the patch set one. Returns whether the state changed.
fn check_workflow(
    process: &crate::process::Process,
    ty: &WorkItemType,
    item: &mut StoredItem,
    (old_state, old_reason): (Option<String>, Option<Value>),
    mode: Mode,
    reason_of_new: CreateReason,
) -> Result<bool, Response> {
    let new_state = item
        .fields
        .get("System.State")
        .and_then(Value::as_str)
        .map(str::to_string);
    match (&new_state, mode.creating) {
        (Some(to), true) if !mode.bypass => rules::check_state(ty, None, to)?,
        (Some(to), false) if !mode.bypass && old_state.as_deref() != Some(to) => {
            rules::check_state(ty, old_state.as_deref(), to)?
        }
        (None, _) => {
            let initial = ty.initial_states().into_iter().next().unwrap_or_default();
            item.fields.insert("System.State".into(), json!(initial));
        }
        _ => {}
    }
    let new_state = item
        .fields
        .get("System.State")
        .and_then(Value::as_str)
        .map(str::to_string);
    let changed = new_state != old_state;
    let reason_written = item.fields.get("System.Reason") != old_reason.as_ref();
    if changed && !reason_written {
        let reason = if mode.creating {
            creation_reason(&process.process, &ty.name, reason_of_new)
        } else {
            format!("Moved to state {}", new_state.unwrap_or_default())
        };
        item.fields.insert("System.Reason".into(), json!(reason));
    }
    if changed {
        item.fields
            .insert("Microsoft.VSTS.Common.StateChangeDate".into(), json!(now()));
    }
    Ok(changed)
}

/// The reason a new work item gets, as Microsoft's samples show it per
/// process and type [ex]: Scrum `Task` "New task"
/// (`workItems/GET__wit_WorkItems_ids-_ids_.json`), `Bug` "New defect
/// reported" (`PATCH__wit_workitems__bug1Id_.json`, the service hook
/// fixtures), `Product Backlog Item` "New backlog item"
/// (`recycleBin/GET__wit_recyclebin__id_.json`); Agile `Bug` "New"
/// (`revisions/GET__list_workitem_revisions.json`, rev 1) and `Task` "New"
/// (`workItems/POST__wit_workitems_create.json`). Every other type gets
/// "New" [unverified: no sample creates one; the connector never reads
/// System.Reason], or with `create-reason=type-specific` (`variants`) a
/// per-type text in the style of Scrum's ("New <type>").
fn creation_reason(process: &str, ty: &str, others: CreateReason) -> String {
    match (process, ty) {
        ("Scrum", "Task") => "New task".into(),
        ("Scrum", "Bug") => "New defect reported".into(),
        ("Scrum", "Product Backlog Item") => "New backlog item".into(),
        // The two Agile types the samples create.
        ("Agile", "Bug" | "Task") => "New".into(),
        _ if others == CreateReason::TypeSpecific => format!("New {}", ty.to_lowercase()),
        _ => "New".into(),
    }
}

/// Entering a state sets the type's date/by fields of its category, as the
/// system processes do (ActivatedDate/By, ResolvedDate/By, ClosedDate/By) [doc].
fn stamp_state_change(emu: &Emu, ty: &WorkItemType, item: &mut StoredItem, actor: &Identity) {
    let Some(state) = item.fields.get("System.State").and_then(Value::as_str) else {
        return;
    };
    let category = ty
        .states
        .iter()
        .find(|s| s.name == state)
        .map(|s| s.category.clone())
        .unwrap_or_default();
    let prefix = match category.as_str() {
        "InProgress" => "Activated",
        "Resolved" => "Resolved",
        "Completed" => "Closed",
        _ => return,
    };
    let (date, by) = (
        format!("Microsoft.VSTS.Common.{prefix}Date"),
        format!("Microsoft.VSTS.Common.{prefix}By"),
    );
    if ty.field(&date).is_some() {
        item.fields.insert(date, json!(now()));
    }
    if ty.field(&by).is_some() {
        item.fields.insert(by, identities::identity_ref(emu, actor));
    }
}
