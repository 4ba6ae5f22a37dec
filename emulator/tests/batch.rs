//! `$batch`: several work item writes in one call, each on its own.

mod common;

use ado_emulator::seed;
use common::{Client, title};
use serde_json::{Value, json};

fn entry(method: &str, uri: &str, body: Value) -> Value {
    json!({"method": method, "uri": uri, "headers": {"Content-Type": "application/json-patch+json"}, "body": body})
}

#[test]
fn each_batch_entry_succeeds_or_fails_on_its_own() {
    let c = Client::new();
    let id = c.new_item("Bug", &json!([title("before")]));
    let project = seed::PROJECT.replace(' ', "%20");
    let entries = json!([
        entry(
            "PATCH",
            &format!("/{project}/_apis/wit/workitems/$Task?api-version=7.1"),
            json!([title("A")])
        ),
        entry(
            "PATCH",
            &format!("/_apis/wit/workitems/{id}?api-version=7.1"),
            json!([{"op": "test", "path": "/rev", "value": 9}, title("lost")])
        ),
        entry(
            "PATCH",
            &format!("/_apis/wit/workitems/{id}?api-version=7.1"),
            json!([{"op": "test", "path": "/rev", "value": 1}, title("after")])
        ),
        entry(
            "PATCH",
            &format!("/{project}/_apis/wit/workitems/$Incident?api-version=7.1"),
            json!([title("B")])
        ),
    ]);
    let answer = c.json(
        "POST",
        &format!("{}/_apis/wit/$batch?api-version=7.1", c.org()),
        &entries,
    );
    assert_eq!(answer.status, 200, "{}", answer.text());
    let body = answer.json();
    assert_eq!(body["count"], 4);
    let codes: Vec<i64> = body["value"]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v["code"].as_i64().unwrap())
        .collect();
    assert_eq!(codes, [200, 412, 200, 404]);
    let created: Value =
        serde_json::from_str(body["value"][0]["body"].as_str().expect("body as a string")).unwrap();
    assert_eq!(created["fields"]["System.Title"], "A");
    assert!(
        body["value"][0]["headers"]["Content-Type"]
            .as_str()
            .unwrap()
            .starts_with("application/json")
    );
    let refused: Value = serde_json::from_str(body["value"][1]["body"].as_str().unwrap()).unwrap();
    assert!(refused["message"].as_str().unwrap().starts_with("TF26071"));
    assert_eq!(c.item(id).json()["fields"]["System.Title"], "after");
    assert_eq!(c.item(created["id"].as_i64().unwrap()).status, 200);
}

#[test]
fn batch_accepts_patch_and_refuses_a_body_that_is_not_a_list() {
    let c = Client::new();
    let url = format!("{}/_apis/wit/$batch?api-version=7.1", c.org());
    let entries = json!([entry(
        "PATCH",
        &format!(
            "/{}/_apis/wit/workitems/$Bug?bypassRules=true",
            c.emu.project_id(seed::PROJECT).unwrap()
        ),
        json!([title("x")])
    )]);
    let answer = c.json("PATCH", &url, &entries);
    assert_eq!(answer.status, 200, "{}", answer.text());
    assert_eq!(answer.json()["value"][0]["code"], 200);
    assert_eq!(
        c.json("POST", &url, &json!({"method": "PATCH"})).status,
        400
    );
    let unknown = c.json(
        "POST",
        &url,
        &json!([entry("GET", "/_apis/projects", json!(null))]),
    );
    assert_eq!(unknown.json()["value"][0]["code"], 404);
}
