//! Every JSON answer of every operation the emulator serves, checked
//! against the response schema of Microsoft's 7.1 OpenAPI spec for that
//! operation (`shared/ado-api/specs`). Operations the emulator serves but
//! the specs lack are named in `NOT_IN_ANY_SPEC`.

mod common;
mod receiver;
mod shape;
mod spec;

use ado_emulator::seed;
use common::{Answer, Client, title};
use serde_json::{Value, json};

/// Served, but no 7.1 spec describes them: nothing to validate against.
pub const NOT_IN_ANY_SPEC: &[&str] = &[
    "POST {tenant}/oauth2/v2.0/token (Entra ID, not ADO)",
    "GET _apis/connectionData (location service; no OpenAPI spec)",
    "OPTIONS _apis[/{area}], GET _apis/ResourceAreas (location service; no OpenAPI spec)",
    "PATCH|POST _apis/wit/$batch (documented on a separate Learn page only)",
    "GET _apis/wit/attachments/{id} (answers the bytes, not JSON)",
    "/_emulator/* (the emulator's own admin endpoints)",
];

/// Dictionaries whose keys are data, not members, beyond `shape::MAPS`.
const MORE_MAPS: &[&str] = &[
    "customProperties",
    "diagnostics",
    // Project capabilities: a dictionary of dictionaries (`capabilities` is
    // `{[key]: {[key]: string}}` in the spec).
    "capabilities",
    "resourceContainers",
    // An event's resource is the work item payload, checked against the
    // servicehook-events samples by hooks.rs, not by the REST spec.
    "resource",
];

fn maps() -> Vec<&'static str> {
    shape::MAPS.iter().chain(MORE_MAPS).copied().collect()
}

/// Collects violations so one run reports them all, by operation.
struct Checker {
    spec: Value,
    /// The spec's folder under `specs/` (`wit/7.1`): where its samples are.
    dir: &'static str,
    found: Vec<String>,
}

impl Checker {
    fn new(dir: &'static str, file: &str) -> Checker {
        Checker {
            spec: spec::load(&format!("{dir}/{file}")),
            dir,
            found: vec![],
        }
    }

    fn check(&mut self, operation_id: &str, answer: &Answer, status: u16) -> Value {
        if answer.status != status {
            self.found.push(format!(
                "{operation_id}: status {} (wanted {status}): {}",
                answer.status,
                answer.text()
            ));
            return Value::Null;
        }
        if answer.bytes.is_empty() {
            return Value::Null;
        }
        let body = answer.json();
        self.found
            .extend(spec::violations(&self.spec, operation_id, &body));
        self.found.extend(spec::invented_members(
            &self.spec,
            self.dir,
            operation_id,
            &body,
            &maps(),
        ));
        body
    }

    fn done(self) {
        assert!(
            self.found.is_empty(),
            "{} violation(s):\n{}",
            self.found.len(),
            self.found.join("\n")
        );
    }
}

#[test]
fn work_item_tracking_answers_match_the_71_spec_schemas() {
    let c = Client::new();
    let mut k = Checker::new("wit/7.1", "workItemTracking.json");
    let (org, p) = (c.org(), c.agile());

    let created = k.check(
        "Work Items_Create",
        &c.create_in(
            &p,
            "Bug",
            &json!([
                title("Spec check"),
                common::field("System.Tags", json!("secops"))
            ]),
        ),
        200,
    );
    let id = created["id"].as_i64().unwrap_or(1);
    k.check(
        "Work Items_Get Work Item Template",
        &c.get(&format!("{p}/_apis/wit/workitems/$Bug?api-version=7.1")),
        200,
    );
    k.check(
        "Work Items_Update",
        &c.update(
            id,
            "",
            &json!([{"op": "add", "path": "/fields/System.State", "value": "Active"}]),
        ),
        200,
    );
    let link = json!([{"op": "add", "path": "/relations/-", "value": {"rel": "Hyperlink", "url": "https://secops.example/t/1"}}]);
    k.check(
        "Work Items_Update",
        &c.update(id, "&$expand=relations", &link),
        200,
    );
    k.check(
        "Work Items_Get Work Item",
        &c.get(&format!(
            "{org}/_apis/wit/workitems/{id}?$expand=all&api-version=7.1"
        )),
        200,
    );
    k.check(
        "Work Items_List",
        &c.get(&format!(
            "{org}/_apis/wit/workitems?ids={id}&api-version=7.1"
        )),
        200,
    );
    k.check(
        "Work Items_Get Work Items Batch",
        &c.json(
            "POST",
            &format!("{org}/_apis/wit/workitemsbatch?api-version=7.1"),
            &json!({"ids": [id], "fields": ["System.Id", "System.Title"]}),
        ),
        200,
    );
    k.check(
        "Revisions_List",
        &c.get(&format!(
            "{org}/_apis/wit/workItems/{id}/revisions?api-version=7.1"
        )),
        200,
    );
    k.check(
        "Revisions_Get",
        &c.get(&format!(
            "{org}/_apis/wit/workItems/{id}/revisions/1?api-version=7.1"
        )),
        200,
    );
    k.check(
        "Updates_List",
        &c.get(&format!(
            "{org}/_apis/wit/workItems/{id}/updates?api-version=7.1"
        )),
        200,
    );
    k.check(
        "Updates_Get",
        &c.get(&format!(
            "{org}/_apis/wit/workItems/{id}/updates/2?api-version=7.1"
        )),
        200,
    );

    let comments = format!("{p}/_apis/wit/workItems/{id}/comments");
    let comment = k.check(
        "Comments_Add Comment",
        &c.json(
            "POST",
            &format!("{comments}?api-version=7.1-preview.4"),
            &json!({"text": "Hello"}),
        ),
        200,
    );
    k.check(
        "Comments_Add Work Item Comment",
        &c.json(
            "POST",
            &format!("{comments}?format=markdown&api-version=7.1-preview.4"),
            &json!({"text": "**Hello**"}),
        ),
        200,
    );
    let cid = comment["id"].as_i64().unwrap_or(1);
    k.check(
        "Comments_Get Comments",
        &c.get(&format!("{comments}?api-version=7.1-preview.4")),
        200,
    );
    k.check(
        "Comments_Get Comments Batch",
        &c.get(&format!("{comments}?ids={cid}&api-version=7.1-preview.4")),
        200,
    );
    k.check(
        "Comments_Get Comment",
        &c.get(&format!("{comments}/{cid}?api-version=7.1-preview.4")),
        200,
    );
    k.check(
        "Comments_Update Comment",
        &c.json(
            "PATCH",
            &format!("{comments}/{cid}?api-version=7.1-preview.4"),
            &json!({"text": "Hello again"}),
        ),
        200,
    );
    k.check(
        "Comments_Update Work Item Comment",
        &c.json(
            "PATCH",
            &format!("{comments}/{cid}?format=html&api-version=7.1-preview.4"),
            &json!({"text": "<b>Hi</b>"}),
        ),
        200,
    );
    k.check(
        "Comments_Delete",
        &c.delete(&format!("{comments}/{cid}?api-version=7.1-preview.4")),
        200,
    );

    let wiql =
        json!({"query": "SELECT [System.Id] FROM WorkItems WHERE [System.TeamProject] = @project"});
    k.check(
        "Wiql_Query By Wiql",
        &c.json(
            "POST",
            &format!("{p}/_apis/wit/wiql?api-version=7.1"),
            &wiql,
        ),
        200,
    );
    // The samples answer 201 where the spec says 200; the samples win.
    k.check(
        "Attachments_Create",
        &c.call(
            "POST",
            &format!("{p}/_apis/wit/attachments?fileName=a.csv&api-version=7.1"),
            Some("application/octet-stream"),
            Some(b"a,b\n".to_vec()),
        ),
        201,
    );

    k.check(
        "Work Item Types_List",
        &c.get(&format!("{p}/_apis/wit/workitemtypes?api-version=7.1")),
        200,
    );
    k.check(
        "Work Item Types_Get",
        &c.get(&format!("{p}/_apis/wit/workitemtypes/Bug?api-version=7.1")),
        200,
    );
    k.check(
        "Work Item Types Field_List",
        &c.get(&format!(
            "{p}/_apis/wit/workitemtypes/Bug/fields?$expand=allowedValues&api-version=7.1"
        )),
        200,
    );
    k.check(
        "Work Item Type States_List",
        &c.get(&format!(
            "{p}/_apis/wit/workitemtypes/Bug/states?api-version=7.1"
        )),
        200,
    );
    k.check(
        "Fields_List",
        &c.get(&format!("{p}/_apis/wit/fields?api-version=7.1")),
        200,
    );
    k.check(
        "Fields_List",
        &c.get(&format!("{org}/_apis/wit/fields?api-version=7.1")),
        200,
    );

    k.check(
        "Work Items_Delete",
        &c.delete(&format!("{p}/_apis/wit/workitems/{id}?api-version=7.1")),
        200,
    );
    k.check(
        "Recyclebin_Get Deleted Work Item Shallow References",
        &c.get(&format!("{p}/_apis/wit/recyclebin?api-version=7.1")),
        200,
    );
    k.check(
        "Recyclebin_Get",
        &c.get(&format!("{p}/_apis/wit/recyclebin/{id}?api-version=7.1")),
        200,
    );
    k.check(
        "Recyclebin_Restore Work Item",
        &c.json(
            "PATCH",
            &format!("{p}/_apis/wit/recyclebin/{id}?api-version=7.1"),
            &json!({"isDeleted": false}),
        ),
        200,
    );
    assert_eq!(
        c.delete(&format!("{p}/_apis/wit/workitems/{id}?api-version=7.1"))
            .status,
        200
    );
    k.check(
        "Recyclebin_Destroy Work Item",
        &c.delete(&format!("{p}/_apis/wit/recyclebin/{id}?api-version=7.1")),
        200,
    );
    k.done();
}

#[test]
fn core_answers_match_the_71_spec_schemas() {
    let c = Client::new();
    let mut k = Checker::new("core/7.1", "core.json");
    k.check(
        "Projects_List",
        &c.get(&format!("{}/_apis/projects?api-version=7.1", c.org())),
        200,
    );
    k.check(
        "Projects_Get",
        &c.get(&format!(
            "{}/_apis/projects/{}?includeCapabilities=true&api-version=7.1",
            c.org(),
            seed::PROJECT_ID
        )),
        200,
    );
    k.done();
}

#[test]
fn service_hook_answers_match_the_71_spec_schemas() {
    // The receiver runs on 127.0.0.1, which ADO refuses: opt in.
    let c = Client::with(ado_emulator::EmulatorConfig::default().with_local_receivers());
    // `probationRetries` is string/byte in the spec, a number in the
    // subscription list sample ("probationRetries": 6).
    let fixed = spec::corrected(
        spec::load("hooks/7.1/serviceHooks.json"),
        &[("Subscription", "probationRetries", spec::of_type("integer"))],
    );
    let mut k = Checker {
        spec: fixed,
        dir: "hooks/7.1",
        found: vec![],
    };
    let hooks = format!("{}/_apis/hooks", c.org());
    let r = receiver::Receiver::start();
    let body = json!({"publisherId": "tfs", "eventType": "workitem.updated", "resourceVersion": "1.0", "consumerId": "webHooks", "consumerActionId": "httpRequest", "publisherInputs": {"projectId": seed::PROJECT_ID}, "consumerInputs": {"url": r.url, "basicAuthUsername": "u", "basicAuthPassword": "p"}});
    let sub = k.check(
        "Subscriptions_Create",
        &c.json(
            "POST",
            &format!("{hooks}/subscriptions?api-version=7.1"),
            &body,
        ),
        200,
    );
    let id = sub["id"].as_str().unwrap_or_default().to_string();
    k.check(
        "Subscriptions_List",
        &c.get(&format!("{hooks}/subscriptions?api-version=7.1")),
        200,
    );
    k.check(
        "Subscriptions_Get",
        &c.get(&format!("{hooks}/subscriptions/{id}?api-version=7.1")),
        200,
    );
    k.check(
        "Subscriptions_Replace Subscription",
        &c.json(
            "PUT",
            &format!("{hooks}/subscriptions/{id}?api-version=7.1"),
            &body,
        ),
        200,
    );
    k.check(
        "Diagnostics_Update",
        &c.json(
            "PUT",
            &format!("{hooks}/subscriptions/{id}/diagnostics?api-version=7.1"),
            &json!({"deliveryTracing": {"enabled": true}}),
        ),
        200,
    );
    k.check(
        "Diagnostics_Get",
        &c.get(&format!(
            "{hooks}/subscriptions/{id}/diagnostics?api-version=7.1"
        )),
        200,
    );
    c.new_item("Bug", &json!([title("notify")]));
    assert_eq!(c.update(1, "", &json!([title("notified")])).status, 200);
    assert!(c.emu.wait_for_hooks(std::time::Duration::from_secs(10)));
    let notes = k.check(
        "Notifications_List",
        &c.get(&format!(
            "{hooks}/subscriptions/{id}/notifications?api-version=7.1"
        )),
        200,
    );
    let nid = notes["value"][0]["id"].as_i64().unwrap_or(1);
    k.check(
        "Notifications_Get",
        &c.get(&format!(
            "{hooks}/subscriptions/{id}/notifications/{nid}?api-version=7.1"
        )),
        200,
    );
    k.check(
        "Publishers_List",
        &c.get(&format!("{hooks}/publishers?api-version=7.1")),
        200,
    );
    k.check(
        "Publishers_Get",
        &c.get(&format!("{hooks}/publishers/tfs?api-version=7.1")),
        200,
    );
    k.check(
        "Publishers_List Event Types",
        &c.get(&format!(
            "{hooks}/publishers/tfs/eventtypes?api-version=7.1"
        )),
        200,
    );
    k.check(
        "Publishers_Get Event Type",
        &c.get(&format!(
            "{hooks}/publishers/tfs/eventtypes/workitem.updated?api-version=7.1"
        )),
        200,
    );
    k.check(
        "Consumers_List",
        &c.get(&format!("{hooks}/consumers?api-version=7.1")),
        200,
    );
    k.check(
        "Consumers_Get",
        &c.get(&format!("{hooks}/consumers/webHooks?api-version=7.1")),
        200,
    );
    k.check(
        "Consumers_List Consumer Actions",
        &c.get(&format!(
            "{hooks}/consumers/webHooks/actions?api-version=7.1"
        )),
        200,
    );
    k.check(
        "Consumers_Get Consumer Action",
        &c.get(&format!(
            "{hooks}/consumers/webHooks/actions/httpRequest?api-version=7.1"
        )),
        200,
    );
    // The DELETE sample answers 204 where the spec says 200; the sample wins.
    k.check(
        "Subscriptions_Delete",
        &c.delete(&format!("{hooks}/subscriptions/{id}?api-version=7.1")),
        204,
    );
    k.done();
}

#[test]
fn a_null_no_sample_shows_and_a_member_no_source_names_are_caught() {
    let wit = spec::load("wit/7.1/workItemTracking.json");
    assert!(
        !spec::nulls_in_samples().contains("rev"),
        "no sample answers rev: null"
    );
    assert!(
        !spec::violations(
            &wit,
            "Work Items_Get Work Item",
            &json!({"id": 7, "rev": null, "fields": {}})
        )
        .is_empty(),
        "a null integer is a violation unless a sample shows it null"
    );
    let invented = spec::invented_members(
        &wit,
        "wit/7.1",
        "Work Items_Get Work Item",
        &json!({"id": 7, "rev": 1, "fields": {"Custom.Anything": 1}, "madeUp": true}),
        &maps(),
    );
    assert_eq!(invented.len(), 1, "{invented:?}");
    assert!(invented[0].contains("$.madeUp"), "{invented:?}");
}

#[test]
fn the_checker_catches_an_answer_that_breaks_the_schema() {
    let wit = spec::load("wit/7.1/workItemTracking.json");
    assert!(
        !spec::violations(
            &wit,
            "Work Items_Get Work Item",
            &json!({"id": "seven", "rev": 1, "fields": {}})
        )
        .is_empty()
    );
    assert!(
        !spec::violations(&wit, "Work Items_List", &json!([{"id": 1}])).is_empty(),
        "a bare array is not ADO's list shape"
    );
    assert!(
        spec::violations(
            &wit,
            "Work Items_Get Work Item",
            &json!({"id": 7, "rev": 1, "fields": {"System.Title": "x", "System.Id": 7}})
        )
        .is_empty()
    );
}
