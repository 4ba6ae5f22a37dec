//! Area and iteration trees, tree-path writes, tag `add` versus `replace`,
//! and `asOf` reads, each against the Microsoft source named in the test.

mod common;

use ado_emulator::seed;
use common::{Client, field, title};
use serde_json::{Value, json};

fn nodes(c: &Client, rest: &str) -> String {
    format!("{}/_apis/wit/classificationnodes{rest}", c.agile())
}

/// Spec `Classification Nodes_Create Or Update`: POST under a parent.
fn create_node(c: &Client, group_and_parent: &str, name: &str) -> Value {
    let a = c.json("POST", &nodes(c, group_and_parent), &json!({"name": name}));
    assert_eq!(a.status, 200, "{}", a.text());
    a.json()
}

#[test]
fn each_project_has_an_area_and_an_iteration_root_named_after_it() {
    let c = Client::new();
    let roots = c.get(&nodes(&c, "")).json();
    assert_eq!(roots["count"], 2);
    let list = roots["value"].as_array().unwrap();
    assert_eq!(list[0]["structureType"], "area");
    assert_eq!(list[1]["structureType"], "iteration");
    for n in list {
        assert_eq!(n["name"], seed::PROJECT);
        assert_eq!(n["hasChildren"], false);
    }
    assert_eq!(list[0]["path"], format!("\\{}\\Area", seed::PROJECT));
}

#[test]
fn nodes_are_created_under_a_parent_and_read_with_depth() {
    let c = Client::new();
    let web = create_node(&c, "/Areas", "Website");
    assert_eq!(web["path"], format!("\\{}\\Area\\Website", seed::PROJECT));
    create_node(&c, "/Areas/Website", "Login");
    create_node(&c, "/Iterations", "Sprint 1");

    let shallow = c.get(&nodes(&c, "/Areas")).json();
    assert_eq!(shallow["hasChildren"], true);
    assert!(shallow.get("children").is_none(), "$depth defaults to 0");
    let deep = c.get(&nodes(&c, "/Areas?$depth=2")).json();
    assert_eq!(deep["children"][0]["name"], "Website");
    assert_eq!(deep["children"][0]["children"][0]["name"], "Login");
    let one = c.get(&nodes(&c, "/areas/website/login"));
    assert_eq!(one.status, 200, "segments match without case");
    assert_eq!(one.json()["name"], "Login");

    assert_eq!(c.get(&nodes(&c, "/Areas/Nope")).status, 404);
    let twice = c.json("POST", &nodes(&c, "/Areas"), &json!({"name": "website"}));
    assert_eq!(
        twice.status,
        409,
        "a sibling name is taken: {}",
        twice.text()
    );
    assert_eq!(c.get(&nodes(&c, "/Teams")).status, 400);
}

/// Microsoft's examples `PATCH__wit_workitems__bug1Id_` and `..._taskId_`
/// write System.AreaPath / System.IterationPath and get 200.
#[test]
fn area_and_iteration_paths_are_writable_when_they_name_a_node() {
    let c = Client::new();
    let web = create_node(&c, "/Areas", "Website");
    let sprint = create_node(&c, "/Iterations", "Sprint 1");
    let project = seed::PROJECT;
    let id = c.new_item(
        "Bug",
        &json!([
            title("x"),
            field("System.AreaPath", json!(format!("{project}\\website"))),
            field(
                "System.IterationPath",
                json!(format!("{project}\\Sprint 1"))
            ),
        ]),
    );
    let item = c.item(id).json();
    assert_eq!(
        item["fields"]["System.AreaPath"],
        format!("{project}\\Website")
    );
    assert_eq!(item["fields"]["System.AreaId"], web["id"]);
    assert_eq!(item["fields"]["System.IterationId"], sprint["id"]);

    let moved = c.update(id, "", &json!([field("System.AreaPath", json!(project))]));
    assert_eq!(moved.status, 200, "{}", moved.text());
    let roots = c.get(&nodes(&c, "")).json();
    assert_eq!(
        moved.json()["fields"]["System.AreaId"],
        roots["value"][0]["id"]
    );
}

/// TF401347 as public reports quote it (solidify/jira-azuredevops-migrator#1143).
#[test]
fn a_path_that_names_no_node_is_refused_with_tf401347() {
    let c = Client::new();
    let refused = c.create_in(
        &c.agile(),
        "Bug",
        &json!([
            title("x"),
            field(
                "System.AreaPath",
                json!(format!("{}\\Nowhere", seed::PROJECT))
            )
        ]),
    );
    assert_eq!(refused.status, 400);
    assert_eq!(refused.code(), "TF401347");
    assert!(
        refused
            .text()
            .contains("work item -1, field 'System.AreaPath'"),
        "{}",
        refused.text()
    );
    let id = c.new_item("Bug", &json!([title("x")]));
    let other_project = c.update(
        id,
        "",
        &json!([field("System.IterationPath", json!("Elsewhere"))]),
    );
    assert_eq!(other_project.code(), "TF401347");
    assert!(
        other_project
            .text()
            .contains(&format!("work item {id}, field 'System.IterationPath'"))
    );
}

/// Microsoft's examples `PATCH__wit_workitems__taskId_9` ("add" appends:
/// Tag0 + "Tag1; Tag2" = "Tag0; Tag1; Tag2") and `..._taskId_14`
/// ("replace" sets "Tag1; Tag2").
#[test]
fn adding_tags_appends_and_replacing_tags_sets_them() {
    let c = Client::new();
    let id = c.new_item(
        "Bug",
        &json!([title("x"), field("System.Tags", json!("Tag0"))]),
    );
    let added = c.update(id, "", &json!([field("System.Tags", json!("Tag1; Tag2"))]));
    assert_eq!(added.json()["fields"]["System.Tags"], "Tag0; Tag1; Tag2");
    let replaced = c.update(
        id,
        "",
        &json!([{"op": "replace", "path": "/fields/System.Tags", "value": "Tag1"}]),
    );
    assert_eq!(replaced.json()["fields"]["System.Tags"], "Tag1");
    let removed = c.update(
        id,
        "",
        &json!([{"op": "remove", "path": "/fields/System.Tags"}]),
    );
    assert!(removed.json()["fields"].get("System.Tags").is_none());
}

/// Microsoft's example `GET__wit_WorkItems_id _asOf.json`: the item as of a
/// time answers that revision's fields and `rev`.
#[test]
fn as_of_reads_the_revision_in_force_at_that_time() {
    let c = Client::new();
    let id = c.new_item("Bug", &json!([title("first")]));
    std::thread::sleep(std::time::Duration::from_millis(20));
    let between = time::OffsetDateTime::now_utc()
        .format(&time::format_description::well_known::Rfc3339)
        .unwrap();
    std::thread::sleep(std::time::Duration::from_millis(20));
    assert_eq!(c.update(id, "", &json!([title("second")])).status, 200);

    let then = c.get(&format!(
        "{}/_apis/wit/workitems/{id}?asOf={between}",
        c.agile()
    ));
    assert_eq!(then.status, 200, "{}", then.text());
    assert_eq!(then.json()["rev"], 1);
    assert_eq!(then.json()["fields"]["System.Title"], "first");
    let list = c.get(&format!(
        "{}/_apis/wit/workitems?ids={id}&asOf={between}",
        c.org()
    ));
    assert_eq!(list.json()["value"][0]["fields"]["System.Title"], "first");
    let batch = c.json(
        "POST",
        &format!("{}/_apis/wit/workitemsbatch", c.org()),
        &json!({"ids": [id], "asOf": between, "fields": ["System.Title"]}),
    );
    assert_eq!(batch.json()["value"][0]["fields"]["System.Title"], "first");
    assert_eq!(c.item(id).json()["fields"]["System.Title"], "second");

    let before = c.get(&format!(
        "{}/_apis/wit/workitems/{id}?asOf=2000-01-01T00:00:00Z",
        c.agile()
    ));
    assert_eq!(before.status, 404, "the item did not exist yet");
    let bad = c.get(&format!(
        "{}/_apis/wit/workitems/{id}?asOf=yesterday",
        c.agile()
    ));
    assert_eq!(bad.status, 400);
}
