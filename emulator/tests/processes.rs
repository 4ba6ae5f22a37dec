//! The four system processes, side by side in the default emulator: each
//! project reports its process template, and each process has its types,
//! states with categories, initial states, required fields and defaults.

mod common;

use ado_emulator::seed;
use common::{Client, field, title};
use serde_json::{Value, json};

fn names(list: &Value) -> Vec<String> {
    list["value"]
        .as_array()
        .expect("list")
        .iter()
        .map(|v| v["name"].as_str().unwrap_or_default().to_string())
        .collect()
}

fn states(c: &Client, project: &str, ty: &str) -> Vec<(String, String)> {
    let answer = c.get(&format!(
        "{}/_apis/wit/workitemtypes/{}/states?api-version=7.1",
        c.project(project),
        ty.replace(' ', "%20")
    ));
    assert_eq!(answer.status, 200, "{}", answer.text());
    answer.json()["value"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| {
            (
                s["name"].as_str().unwrap().to_string(),
                s["category"].as_str().unwrap().to_string(),
            )
        })
        .collect()
}

fn initial(c: &Client, project: &str, ty: &str) -> Vec<String> {
    let t = c
        .get(&format!(
            "{}/_apis/wit/workitemtypes/{}?api-version=7.1",
            c.project(project),
            ty.replace(' ', "%20")
        ))
        .json();
    t["transitions"][""]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| t["to"].as_str().unwrap().to_string())
        .collect()
}

fn pairs(list: &[(&str, &str)]) -> Vec<(String, String)> {
    list.iter()
        .map(|(a, b)| (a.to_string(), b.to_string()))
        .collect()
}

#[test]
fn four_projects_report_their_process_templates() {
    let c = Client::new();
    let list = c
        .get(&format!("{}/_apis/projects?api-version=7.1", c.org()))
        .json();
    let all = names(&list);
    for p in [
        seed::PROJECT,
        seed::PROJECT_BASIC,
        seed::PROJECT_SCRUM,
        seed::PROJECT_CMMI,
    ] {
        assert!(all.contains(&p.to_string()), "{p} in {all:?}");
    }
    assert_eq!(
        c.emu.project_id(seed::PROJECT).as_deref(),
        Some("6ce954b1-ce1f-45d1-b94d-e6bf2464ba2c")
    );
    for (project, template) in [
        (seed::PROJECT, "Agile"),
        (seed::PROJECT_BASIC, "Basic"),
        (seed::PROJECT_SCRUM, "Scrum"),
        (seed::PROJECT_CMMI, "CMMI"),
    ] {
        let p = c
            .get(&format!(
                "{}/_apis/projects/{}?includeCapabilities=true&api-version=7.1",
                c.org(),
                project.replace(' ', "%20")
            ))
            .json();
        assert_eq!(
            p["capabilities"]["processTemplate"]["templateName"], template,
            "{project}"
        );
    }
}

#[test]
fn basic_types_move_through_to_do_doing_done() {
    let c = Client::new();
    let types = c
        .get(&format!(
            "{}/_apis/wit/workitemtypes?api-version=7.1",
            c.project(seed::PROJECT_BASIC)
        ))
        .json();
    assert_eq!(names(&types), ["Epic", "Issue", "Task"]);
    for ty in ["Epic", "Issue", "Task"] {
        assert_eq!(
            states(&c, seed::PROJECT_BASIC, ty),
            pairs(&[
                ("To Do", "Proposed"),
                ("Doing", "InProgress"),
                ("Done", "Completed")
            ])
        );
        assert_eq!(initial(&c, seed::PROJECT_BASIC, ty), ["To Do"]);
    }
    let issue = c.create_in(
        &c.project(seed::PROJECT_BASIC),
        "Issue",
        &json!([title("Patch the VPN")]),
    );
    assert_eq!(issue.status, 200, "{}", issue.text());
    let item = issue.json();
    assert_eq!(item["fields"]["System.State"], "To Do");
    assert_eq!(item["fields"]["Microsoft.VSTS.Common.Priority"], 2);
    let id = item["id"].as_i64().unwrap();
    for state in ["Doing", "Done"] {
        let moved = c.update(id, "", &json!([field("System.State", json!(state))]));
        assert_eq!(moved.status, 200, "{}", moved.text());
        assert_eq!(moved.json()["fields"]["System.State"], state);
    }
    let agile_state = c.update(id, "", &json!([field("System.State", json!("Active"))]));
    assert_eq!(agile_state.status, 400, "Basic has no Active state");
    assert_eq!(agile_state.code(), "TF401320");
}

#[test]
fn scrum_backlog_items_start_new_tasks_to_do_and_impediments_open() {
    let c = Client::new();
    let types = c
        .get(&format!(
            "{}/_apis/wit/workitemtypes?api-version=7.1",
            c.project(seed::PROJECT_SCRUM)
        ))
        .json();
    assert_eq!(
        names(&types),
        [
            "Epic",
            "Feature",
            "Product Backlog Item",
            "Bug",
            "Task",
            "Impediment"
        ]
    );
    let backlog = pairs(&[
        ("New", "Proposed"),
        ("Approved", "Proposed"),
        ("Committed", "InProgress"),
        ("Done", "Completed"),
        ("Removed", "Removed"),
    ]);
    assert_eq!(
        states(&c, seed::PROJECT_SCRUM, "Product Backlog Item"),
        backlog
    );
    assert_eq!(states(&c, seed::PROJECT_SCRUM, "Bug"), backlog);
    assert_eq!(
        initial(&c, seed::PROJECT_SCRUM, "Product Backlog Item"),
        ["New"]
    );
    assert_eq!(initial(&c, seed::PROJECT_SCRUM, "Task"), ["To Do"]);
    assert_eq!(initial(&c, seed::PROJECT_SCRUM, "Impediment"), ["Open"]);

    let project = c.project(seed::PROJECT_SCRUM);
    let pbi = c.create_in(
        &project,
        "Product Backlog Item",
        &json!([title("Rotate keys")]),
    );
    assert_eq!(pbi.status, 200, "{}", pbi.text());
    assert_eq!(pbi.json()["fields"]["System.State"], "New");
    assert_eq!(
        pbi.json()["fields"]["Microsoft.VSTS.Common.ValueArea"],
        "Business"
    );
    let untitled = c.create_in(
        &project,
        "Bug",
        &json!([field("Microsoft.VSTS.Common.Severity", json!("2 - High"))]),
    );
    assert_eq!(untitled.status, 400);
    assert!(
        untitled.json()["message"]
            .as_str()
            .unwrap()
            .contains("Title"),
        "{}",
        untitled.text()
    );
    let committed = c.create_in(
        &project,
        "Product Backlog Item",
        &json!([title("x"), field("System.State", json!("Committed"))]),
    );
    assert_eq!(
        committed.status, 400,
        "a new item starts in the initial state"
    );
}

#[test]
fn cmmi_requirement_defaults_its_requirement_type_and_starts_proposed() {
    let c = Client::new();
    let types = c
        .get(&format!(
            "{}/_apis/wit/workitemtypes?api-version=7.1",
            c.project(seed::PROJECT_CMMI)
        ))
        .json();
    assert_eq!(
        names(&types),
        [
            "Epic",
            "Feature",
            "Requirement",
            "Bug",
            "Task",
            "Change Request",
            "Issue",
            "Review",
            "Risk"
        ]
    );
    assert_eq!(
        states(&c, seed::PROJECT_CMMI, "Bug"),
        pairs(&[
            ("Proposed", "Proposed"),
            ("Active", "InProgress"),
            ("Resolved", "Resolved"),
            ("Closed", "Completed")
        ])
    );
    assert_eq!(
        states(&c, seed::PROJECT_CMMI, "Requirement")[2],
        ("Resolved".to_string(), "InProgress".to_string())
    );

    let fields = c
        .get(&format!(
            "{}/_apis/wit/workitemtypes/Requirement/fields?$expand=allowedValues&api-version=7.1",
            c.project(seed::PROJECT_CMMI)
        ))
        .json();
    let kind = fields["value"]
        .as_array()
        .unwrap()
        .iter()
        .find(|f| f["referenceName"] == "Microsoft.VSTS.CMMI.RequirementType")
        .expect("Requirement Type");
    assert_eq!(kind["alwaysRequired"], true);
    assert_eq!(kind["defaultValue"], "Functional");
    assert!(
        kind["allowedValues"]
            .as_array()
            .unwrap()
            .contains(&json!("Security"))
    );

    let project = c.project(seed::PROJECT_CMMI);
    let created = c.create_in(&project, "Requirement", &json!([title("Encrypt backups")]));
    assert_eq!(created.status, 200, "{}", created.text());
    let item = created.json();
    assert_eq!(item["fields"]["System.State"], "Proposed");
    assert_eq!(
        item["fields"]["Microsoft.VSTS.CMMI.RequirementType"],
        "Functional"
    );
    assert_eq!(item["fields"]["Microsoft.VSTS.Common.Triage"], "Pending");
    let wrong = c.create_in(
        &project,
        "Requirement",
        &json!([
            title("x"),
            field("Microsoft.VSTS.CMMI.RequirementType", json!("Wish"))
        ]),
    );
    assert_eq!(wrong.status, 400);
    assert!(
        wrong.json()["message"]
            .as_str()
            .unwrap()
            .starts_with("TF401320: Rule Error for field Requirement Type"),
        "{}",
        wrong.text()
    );
}

#[test]
fn each_process_refuses_the_types_of_another() {
    let c = Client::new();
    for (project, foreign) in [
        (seed::PROJECT_BASIC, "Bug"),
        (seed::PROJECT_SCRUM, "User Story"),
        (seed::PROJECT_CMMI, "Product Backlog Item"),
        (seed::PROJECT, "Requirement"),
    ] {
        let answer = c.create_in(&c.project(project), foreign, &json!([title("x")]));
        assert_eq!(answer.status, 404, "{foreign} in {project}");
        assert_eq!(answer.code(), "VS402323");
    }
}

#[test]
fn entering_a_category_stamps_its_date_and_person_fields() {
    let c = Client::new();
    let id = c.new_item("Bug", &json!([title("Leak")]));
    let active = c
        .update(id, "", &json!([field("System.State", json!("Active"))]))
        .json();
    assert!(active["fields"]["Microsoft.VSTS.Common.ActivatedDate"].is_string());
    assert_eq!(
        active["fields"]["Microsoft.VSTS.Common.ActivatedBy"]["displayName"],
        seed::USER_NAME
    );
    let closed = c
        .update(
            id,
            "",
            &json!([
                field("System.State", json!("Closed")),
                field("System.Reason", json!("Fixed"))
            ]),
        )
        .json();
    assert!(closed["fields"]["Microsoft.VSTS.Common.ClosedDate"].is_string());
    assert_eq!(
        closed["fields"]["System.Reason"], "Fixed",
        "a reason written with the state is kept"
    );
}

#[test]
fn a_new_item_gets_the_creation_reason_microsofts_samples_show_for_its_process_and_type() {
    let c = Client::new();
    for (project, ty, reason) in [
        // Microsoft's Scrum samples: "New task", "New defect reported",
        // "New backlog item"; the Agile ones: "New".
        (seed::PROJECT_SCRUM, "Task", "New task"),
        (seed::PROJECT_SCRUM, "Bug", "New defect reported"),
        (
            seed::PROJECT_SCRUM,
            "Product Backlog Item",
            "New backlog item",
        ),
        (seed::PROJECT, "Bug", "New"),
        (seed::PROJECT, "Task", "New"),
    ] {
        let answer = c.create_in(&c.project(project), ty, &json!([title("reasoned")]));
        assert_eq!(answer.status, 200, "{project} {ty}: {}", answer.text());
        assert_eq!(
            answer.json()["fields"]["System.Reason"],
            reason,
            "{project} {ty}"
        );
    }
}
