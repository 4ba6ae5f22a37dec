//! Microsoft's example requests (`shared/ado-api/samples/rest`) replayed
//! against the emulator: the sample's method, path (organization, project,
//! ids and api-version put onto the emulator's data) and body; the answer
//! must be a success like the sample's and have its shape (`shape`: every
//! member of the sample, same JSON type, recursively).
//!
//! Samples of operations the emulator does not serve are listed in
//! `OUT_OF_SCOPE` with the reason; any other sample is replayed.

mod common;
mod shape;

use ado_emulator::seed;
use common::{Client, title};
use serde_json::{Value, json};

/// Sample files (relative to `samples/rest/`) not replayed, and why.
const OUT_OF_SCOPE: &[(&str, &str)] = &[
    (
        "core/7.1/httpExamples/projects/POST__projects.json",
        "creating projects is not emulated",
    ),
    (
        "processes/7.1/httpExamples/states/CREATE__wit_state.json",
        "process customization is not emulated",
    ),
    (
        "processes/7.1/httpExamples/states/DELETE__wit_state.json",
        "process customization is not emulated",
    ),
    (
        "processes/7.1/httpExamples/states/GET__wit_state.json",
        "process customization is not emulated",
    ),
    (
        "processes/7.1/httpExamples/states/GET__wit_states.json",
        "process customization is not emulated",
    ),
    (
        "processes/7.1/httpExamples/states/HIDE__wit_state.json",
        "process customization is not emulated",
    ),
    (
        "processes/7.1/httpExamples/states/UPDATE__wit_state.json",
        "process customization is not emulated",
    ),
    (
        "wit/7.1/httpExamples/attachments/GET__wit_attachments_download_attachment.json",
        "answers bytes: no JSON shape to compare",
    ),
    (
        "wit/7.1/httpExamples/attachments/GET__wit_attachments_get_attachment_content.json",
        "answers bytes: no JSON shape to compare",
    ),
    (
        "wit/7.1/httpExamples/attachments/GET__wit_attachments_get_project_attachment_content.json",
        "answers bytes: no JSON shape to compare",
    ),
    (
        "wit/7.1/httpExamples/attachments/POST_wit_attachments_filename_chunked_register.json",
        "chunked uploads are not emulated",
    ),
    (
        "wit/7.1/httpExamples/attachments/PUT_wit_attachments_filename_chunked_content1.json",
        "chunked uploads are not emulated",
    ),
    (
        "wit/7.1/httpExamples/fields/GET__wit_fields__fieldName_.json",
        "single field reads are not emulated",
    ),
    (
        "wit/7.1/httpExamples/fields/POST_wit_field.json",
        "creating fields is not emulated",
    ),
    (
        "wit/7.1/httpExamples/fields/UPDATE_wit_fields_LockField.json",
        "changing fields is not emulated",
    ),
    (
        "wit/7.1/httpExamples/fields/UPDATE_wit_fields_UndeleteField.json",
        "changing fields is not emulated",
    ),
    (
        "wit/7.1/httpExamples/wiql/GET__wit_get_id_workitems.json",
        "saved queries are not emulated",
    ),
    (
        "wit/7.1/httpExamples/wiql/GET__wit_wiql__queryId_.json",
        "saved queries are not emulated",
    ),
    (
        "wit/7.1/httpExamples/workItemRelationTypes/GET__relation_type.json",
        "relation types are not emulated",
    ),
    (
        "wit/7.1/httpExamples/workItemRelationTypes/GET__relation_types.json",
        "relation types are not emulated",
    ),
    (
        "wit/7.1/httpExamples/workItemTransitions/GET_wit_workItemTransitions.json",
        "transitions are not emulated",
    ),
    (
        "wit/7.1/httpExamples/workItemTypeCategories/GET__wit_workItemTypeCategories.json",
        "type categories are not emulated",
    ),
    (
        "wit/7.1/httpExamples/workItemTypeCategories/GET__wit_workItemTypeCategories__categoryName_.json",
        "type categories are not emulated",
    ),
    (
        "wit/7.1/httpExamples/workItemTypesField/GET__workItemType_field.json",
        "single type field reads are not emulated",
    ),
    (
        "wit/7.1/httpExamples/workItemTypesField/GET__workItemType_field_expand.json",
        "single type field reads are not emulated",
    ),
    (
        "wit/7.1/httpExamples/workItemsDelete/POST__wit_workitems_delete.json",
        "bulk delete (workitemsdelete) is not emulated",
    ),
    (
        "wit/7.1/httpExamples/recycleBin/PATCH__wit_recyclebin_restore.json",
        "the sample has no request URL; restore is replayed by recyclebin tests",
    ),
];

/// Replayed samples whose answer still differs, and why. Listed so the
/// suite stays green while the gaps stay visible; a listed sample that
/// starts to match fails the test until it is taken off the list.
const KNOWN_DIFFERENCES: &[(&str, &str)] = &[
    (
        "hooks/7.1/httpExamples/consumers/GET__hooks_consumers.json",
        "the sample's first consumer is Zendesk (has imageUrl); the emulator offers webHooks only",
    ),
    (
        "hooks/7.1/httpExamples/consumers/GET__hooks_consumers__consumerId_.json",
        "the sample is Zendesk's descriptor (imageUrl); webHooks has none in the list sample",
    ),
    (
        "hooks/7.1/httpExamples/diagnostics/GET__notification_diagnostics.json",
        "[unverified] diagnostics never written answer {}; the sample had delivery tracing on",
    ),
    (
        "wit/7.1/httpExamples/comments/DELETE__wit_workitems__taskId__comments_1.json",
        "samples name the id commentId, the 7.1 spec id (other engineer's comments)",
    ),
    (
        "wit/7.1/httpExamples/comments/GET__wit_workitems__issueId__comments_1.json",
        "commentId vs id; paging tokens need more comments than the replay world has",
    ),
    (
        "wit/7.1/httpExamples/comments/GET__wit_workitems__issueId__comments_2.json",
        "commentId vs id",
    ),
    (
        "wit/7.1/httpExamples/comments/GET__wit_workitems__issueId__comments_3.json",
        "commentId vs id",
    ),
    (
        "wit/7.1/httpExamples/comments/GET__wit_workitems__issueId__comments__commentId_1.json",
        "commentId vs id",
    ),
    (
        "wit/7.1/httpExamples/comments/GET__wit_workitems__taskId__comments_1.json",
        "3.0-preview revision-based comments (revision, revisedBy) predate the 7.1 Comment",
    ),
    (
        "wit/7.1/httpExamples/comments/GET__wit_workitems__taskId__comments_1_collectionscope.json",
        "3.0-preview revision-based comment (revision, revisedBy) at collection scope; the route is served, the 7.1 Comment shape differs",
    ),
    (
        "wit/7.1/httpExamples/comments/GET__wit_workitems__taskId__comments_2_collectionscope.json",
        "3.0-preview comment list (fromRevisionCount, value) at collection scope; the route is served, the 7.1 CommentList shape differs",
    ),
    (
        "wit/7.1/httpExamples/comments/GET__wit_workitems__taskId__comments_2.json",
        "3.0-preview comment list (fromRevisionCount, value) predates CommentList",
    ),
    (
        "wit/7.1/httpExamples/comments/PATCH__wit_workitems__taskId__comments_1.json",
        "commentId vs id",
    ),
    (
        "wit/7.1/httpExamples/comments/POST__wit_workitems__taskId__comments_create.json",
        "commentId vs id",
    ),
    (
        "wit/7.1/httpExamples/recycleBin/GET__wit_recyclebin.json",
        "3.0-preview answered a bare array; 7.1 lists as {count, value}",
    ),
    (
        "wit/7.1/httpExamples/recycleBin/GET__wit_recyclebin__id_.json",
        "api-version 1.0 PascalCase members and a string id",
    ),
    (
        "wit/7.1/httpExamples/recycleBin/GET__wit_recyclebin__ids_.json",
        "3.0-preview answered a bare array; 7.1 lists as {count, value}",
    ),
    (
        "wit/7.1/httpExamples/workItems/GET__wit_WorkItems_ids-_ids___expand-all.json",
        "the replay's task has no relations to expand",
    ),
    (
        "wit/7.1/httpExamples/workItems/PATCH__wit_workitems__bug1Id_.json",
        "sample data: an area path of the sample's organization",
    ),
    (
        "wit/7.1/httpExamples/workItems/PATCH__wit_workitems__bug1Id_2.json",
        "sample data: a state of the sample's process",
    ),
    (
        "wit/7.1/httpExamples/workItems/PATCH__wit_workitems__taskId_.json",
        "sample data: an area path of the sample's organization",
    ),
    (
        "wit/7.1/httpExamples/workItems/PATCH__wit_workitems__taskId_12.json",
        "sample data: an identity of the sample's organization",
    ),
    (
        "wit/7.1/httpExamples/workItems/PATCH__wit_workitems__taskId_4.json",
        "sample data: edits relation 2 of the sample's item",
    ),
    (
        "wit/7.1/httpExamples/workItems/PATCH__wit_workitems__taskId_5.json",
        "sample data: removes relation 2 of the sample's item",
    ),
    (
        "wit/7.1/httpExamples/workItems/PATCH__wit_workitems__taskId_6.json",
        "sample data: links an attachment of the sample's organization",
    ),
    (
        "wit/7.1/httpExamples/workItems/PATCH__wit_workitems__taskId_9.json",
        "the sample's item had relations",
    ),
    (
        "wit/7.1/httpExamples/workItems/PATCH__wit_workitems__taskId_10.json",
        "the sample's item had relations",
    ),
    (
        "wit/7.1/httpExamples/workItems/PATCH__wit_workitems__taskId_11.json",
        "the sample's item had relations",
    ),
    (
        "wit/7.1/httpExamples/workItems/PATCH__wit_workitems__taskId_13.json",
        "the sample's item had relations",
    ),
    (
        "wit/7.1/httpExamples/workItems/PATCH__wit_workitems__taskId_14.json",
        "the sample's item had relations",
    ),
    (
        "wit/7.1/httpExamples/workItems/PATCH__wit_workitems__taskId_validate_only.json",
        "the sample's item had relations",
    ),
    (
        "wit/7.1/httpExamples/workItems/PATCH__wit_workitems__taskId_7.json",
        "sample data: removes relation 2 of the sample's item",
    ),
    (
        "wit/7.1/httpExamples/workItems/PATCH__wit_workitems__taskId__bypassRules-true.json",
        "the sample's item had relations",
    ),
];

fn root() -> String {
    format!(
        "{}/../reference/ado-api/samples/rest",
        env!("CARGO_MANIFEST_DIR")
    )
}

fn samples() -> Vec<String> {
    let mut out = Vec::new();
    let mut stack = vec![std::path::PathBuf::from(root())];
    while let Some(dir) = stack.pop() {
        for entry in std::fs::read_dir(&dir).unwrap().flatten() {
            let path = entry.path();
            if path.is_dir() {
                stack.push(path);
            } else if path.extension().is_some_and(|e| e == "json") {
                out.push(
                    path.strip_prefix(root())
                        .unwrap()
                        .to_string_lossy()
                        .into_owned(),
                );
            }
        }
    }
    out.sort();
    out
}

/// What a replay works on: a task with history and a comment, a deleted
/// bug, a subscription.
struct World {
    c: Client,
    task: i64,
    deleted: i64,
    comment: i64,
    subscription: String,
}

fn world() -> World {
    let c = Client::new();
    let task = c.new_item("Task", &json!([title("Sample task")]));
    for t in ["Sample task, renamed", "Sample task, again"] {
        assert_eq!(c.update(task, "", &json!([title(t)])).status, 200);
    }
    let comment = c
        .json(
            "POST",
            &format!(
                "{}/_apis/wit/workItems/{task}/comments?api-version=7.1-preview.4",
                c.agile()
            ),
            &json!({"text": "First"}),
        )
        .json()["id"]
        .as_i64()
        .unwrap();
    let deleted = c.new_item("Bug", &json!([title("Sample bug")]));
    assert_eq!(
        c.delete(&format!(
            "{}/_apis/wit/workitems/{deleted}?api-version=7.1",
            c.agile()
        ))
        .status,
        200
    );
    let sub = json!({"publisherId": "tfs", "eventType": "workitem.updated", "consumerId": "webHooks", "consumerActionId": "httpRequest", "consumerInputs": {"url": "https://hooks.example/h"}});
    let subscription = c
        .json(
            "POST",
            &format!("{}/_apis/hooks/subscriptions?api-version=7.1", c.org()),
            &sub,
        )
        .json()["id"]
        .as_str()
        .unwrap()
        .to_string();
    World {
        c,
        task,
        deleted,
        comment,
        subscription,
    }
}

/// The sample's request, moved onto the emulator's data.
fn rewrite(w: &World, raw_url: &str) -> String {
    let url = url::Url::parse(&raw_url.replace(' ', "%20")).expect("sample URL");
    let segments: Vec<String> = url.path_segments().unwrap().map(str::to_string).collect();
    let mut out: Vec<String> = Vec::new();
    let comments = segments.iter().any(|s| s == "comments");
    for (i, s) in segments.iter().enumerate() {
        let before = if i > 0 {
            segments[i - 1].to_ascii_lowercase()
        } else {
            String::new()
        };
        let value = match (i, before.as_str()) {
            (_, _) if s.is_empty() => continue,
            (0, _) => seed::ORGANIZATION.to_string(),
            (1, _) if s != "_apis" => seed::PROJECT_ID.to_string(),
            (_, "workitems") if s.parse::<i64>().is_ok() => w.task.to_string(),
            (_, "recyclebin") => w.deleted.to_string(),
            (_, "comments") => w.comment.to_string(),
            (_, "subscriptions") => w.subscription.clone(),
            (_, "consumers") => "webHooks".into(),
            (_, "actions") => "httpRequest".into(),
            (_, "eventtypes") => "workitem.updated".into(),
            _ => s.clone(),
        };
        out.push(value);
    }
    let mut query = Vec::new();
    for (k, v) in url.query_pairs() {
        let v = match k.as_ref() {
            "api-version" => continue,
            "continuationToken" => continue,
            "ids"
                if segments
                    .iter()
                    .any(|s| s.eq_ignore_ascii_case("recyclebin")) =>
            {
                w.deleted.to_string()
            }
            "ids" if comments => w.comment.to_string(),
            "ids" => w.task.to_string(),
            // The sample's dates are of its own timeline: ask as of now,
            // after the world's items were made.
            "asOf" => time::OffsetDateTime::now_utc()
                .format(&time::format_description::well_known::Rfc3339)
                .expect("a date"),
            _ => v.into_owned(),
        };
        query.push(format!("{k}={}", v.replace(' ', "%20")));
    }
    query.push(format!(
        "api-version={}",
        if comments { "7.1-preview.4" } else { "7.1" }
    ));
    format!(
        "{}/{}?{}",
        w.c.emu.base_url(),
        out.join("/"),
        query.join("&")
    )
}

/// The sample's body on the emulator's data: `test /rev` against the
/// task's current rev, ids of the task, work item events instead of build
/// events (the emulator publishes only those).
fn adapt(w: &World, mut body: Value) -> Value {
    let rev = w.c.item(w.task).json()["rev"].clone();
    if let Some(ops) = body.as_array_mut() {
        for op in ops
            .iter_mut()
            .filter(|o| o["op"] == "test" && o["path"] == "/rev")
        {
            op["value"] = rev.clone();
        }
    }
    if body.get("ids").is_some() {
        body["ids"] = json!([w.task]);
    }
    if body["publisherId"] == "tfs"
        && !body["eventType"]
            .as_str()
            .unwrap_or_default()
            .starts_with("workitem.")
    {
        body["eventType"] = json!("workitem.updated");
        body["publisherInputs"] = json!({});
    }
    body
}

fn method_of(file: &str, sample: &Value) -> String {
    if let Some(m) = sample["x-ms-vss-request-method"].as_str() {
        return m.to_string();
    }
    let name = file.rsplit('/').next().unwrap();
    name.split('_').next().unwrap().to_string()
}

fn replay(file: &str) -> Result<(), String> {
    let text = std::fs::read_to_string(format!("{}/{file}", root())).unwrap();
    let sample: Value = serde_json::from_str(text.trim_start_matches('\u{feff}')).unwrap();
    let (code, response) = sample["responses"]
        .as_object()
        .unwrap()
        .iter()
        .next()
        .map(|(k, v)| (k.clone(), v.clone()))
        .unwrap();
    let w = world();
    let url = rewrite(
        &w,
        sample["x-ms-vss-request-url"].as_str().unwrap_or_default(),
    );
    let method = method_of(file, &sample);
    let body = adapt(&w, sample["parameters"]["body"].clone());
    let answer = if url.contains("/_apis/wit/attachments") {
        w.c.call(
            &method,
            &url,
            Some("application/octet-stream"),
            Some(b"sample bytes".to_vec()),
        )
    } else if body.is_array() && url.to_ascii_lowercase().contains("/_apis/wit/workitems/") {
        w.c.patch_doc(&method, &url, &body)
    } else if body.is_null() {
        w.c.call(&method, &url, None, None)
    } else {
        w.c.json(&method, &url, &body)
    };
    let wanted_ok = code.starts_with('2');
    if (200..300).contains(&answer.status) != wanted_ok {
        return Err(format!(
            "{file}: {method} {url} answered {} (sample {code}): {}",
            answer.status,
            answer.text()
        ));
    }
    let Some(expected) = response.get("body").filter(|b| !b.is_null()) else {
        return Ok(());
    };
    if answer.bytes.is_empty() {
        return Err(format!("{file}: no body, the sample has one"));
    }
    let diffs = shape::differences(expected, &answer.json(), shape::MAPS);
    if diffs.is_empty() {
        Ok(())
    } else {
        Err(format!("{file}: {method} {url}\n  {}", diffs.join("\n  ")))
    }
}

#[test]
fn microsofts_sample_requests_get_answers_of_the_samples_shape() {
    let all = samples();
    for (file, _) in OUT_OF_SCOPE {
        assert!(
            all.iter().any(|s| s == file),
            "{file} is listed as out of scope but is not a sample"
        );
    }
    let mut failures = Vec::new();
    let mut replayed = 0;
    for file in all
        .iter()
        .filter(|f| !OUT_OF_SCOPE.iter().any(|(o, _)| o == f))
    {
        replayed += 1;
        let known = KNOWN_DIFFERENCES.iter().find(|(k, _)| k == file);
        match (replay(file), known) {
            (Ok(()), None) => {}
            (Ok(()), Some(_)) => {
                failures.push(format!("{file} matches now: take it off KNOWN_DIFFERENCES"))
            }
            (Err(e), Some((_, why))) => println!("known difference ({why}): {e}"),
            (Err(e), None) => failures.push(e),
        }
    }
    println!(
        "{replayed} samples replayed ({} with known differences), {} out of scope",
        KNOWN_DIFFERENCES.len(),
        OUT_OF_SCOPE.len()
    );
    assert!(
        failures.is_empty(),
        "{} of {replayed} samples differ:\n{}",
        failures.len(),
        failures.join("\n")
    );
}
