//! Deleting work items: the recycle bin, restore and destroy.

mod common;

use ado_emulator::seed;
use common::{Client, title};
use serde_json::json;

#[test]
fn delete_moves_to_the_recycle_bin_and_restore_brings_it_back() {
    let c = Client::new();
    let id = c.new_item("Bug", &json!([title("Doomed")]));
    let deleted = c.delete(&format!(
        "{}/_apis/wit/workitems/{id}?api-version=7.1",
        c.agile()
    ));
    assert_eq!(deleted.status, 200, "{}", deleted.text());
    let body = deleted.json();
    assert_eq!(body["id"], id);
    assert_eq!(body["code"], 200);
    assert_eq!(body["type"], "Bug");
    assert_eq!(body["project"], seed::PROJECT);
    assert_eq!(
        body["deletedBy"],
        format!("{} <{}>", seed::USER_NAME, seed::USER_EMAIL)
    );
    assert_eq!(body["resource"]["fields"]["System.Title"], "Doomed");
    assert_eq!(c.item(id).status, 404);
    assert_eq!(c.item(id).code(), "TF401232");

    let bin = c
        .get(&format!(
            "{}/_apis/wit/recyclebin?api-version=7.1",
            c.agile()
        ))
        .json();
    assert_eq!(bin["count"], 1);
    assert_eq!(bin["value"][0]["id"], id);
    let by_ids = c
        .get(&format!(
            "{}/_apis/wit/recyclebin?ids={id}&api-version=7.1",
            c.agile()
        ))
        .json();
    assert_eq!(by_ids["value"][0]["name"], "Doomed");
    let one = c
        .get(&format!(
            "{}/_apis/wit/recycleBin/{id}?api-version=7.1",
            c.agile()
        ))
        .json();
    assert_eq!(one["resource"]["id"], id);
    assert_eq!(
        c.get(&format!(
            "{}/_apis/wit/recyclebin?api-version=7.1",
            c.project(seed::PROJECT_SCRUM)
        ))
        .json()["count"],
        0
    );

    let refused = c.json(
        "PATCH",
        &format!("{}/_apis/wit/recyclebin/{id}?api-version=7.1", c.agile()),
        &json!({"isDeleted": true}),
    );
    assert_eq!(refused.status, 400);
    let restored = c.json(
        "PATCH",
        &format!("{}/_apis/wit/recyclebin/{id}?api-version=7.1", c.agile()),
        &json!({"IsDeleted": false}),
    );
    assert_eq!(restored.status, 200, "{}", restored.text());
    assert!(
        restored.json()["url"]
            .as_str()
            .unwrap()
            .ends_with(&format!("/_apis/wit/workItems/{id}"))
    );
    assert_eq!(c.item(id).status, 200);
    assert_eq!(
        c.get(&format!(
            "{}/_apis/wit/recyclebin?api-version=7.1",
            c.agile()
        ))
        .json()["count"],
        0
    );
}

#[test]
fn destroy_removes_a_work_item_for_good() {
    let c = Client::new();
    let gone = c.new_item("Bug", &json!([title("gone")]));
    let answer = c.delete(&format!(
        "{}/_apis/wit/workitems/{gone}?destroy=true&api-version=7.1",
        c.org()
    ));
    assert_eq!(answer.status, 200, "{}", answer.text());
    assert_eq!(
        c.get(&format!(
            "{}/_apis/wit/recyclebin/{gone}?api-version=7.1",
            c.agile()
        ))
        .status,
        404
    );

    let binned = c.new_item("Bug", &json!([title("binned")]));
    assert_eq!(
        c.delete(&format!(
            "{}/_apis/wit/workitems/{binned}?api-version=7.1",
            c.agile()
        ))
        .status,
        200
    );
    assert_eq!(
        c.delete(&format!(
            "{}/_apis/wit/recyclebin/{binned}?api-version=7.1",
            c.agile()
        ))
        .status,
        200
    );
    let restore = c.json(
        "PATCH",
        &format!(
            "{}/_apis/wit/recyclebin/{binned}?api-version=7.1",
            c.agile()
        ),
        &json!({"isDeleted": false}),
    );
    assert_eq!(restore.status, 404);
    assert_eq!(
        c.delete(&format!(
            "{}/_apis/wit/workitems/{binned}?api-version=7.1",
            c.agile()
        ))
        .status,
        404
    );
}
