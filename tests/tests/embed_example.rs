//! The runtime's embedding example (`host/runtime/examples/embed.rs`), run
//! as written against the emulator: what a platform engineer copies works.

use crate::common;

#[allow(dead_code)] // the example's `main` reads the environment; the test calls `run`
#[path = "../../host/runtime/examples/embed.rs"]
mod embed;

#[test]
fn the_embedding_example_creates_the_work_item_it_previewed() {
    let emu = common::emulator();
    let conn = common::pat_connection(&emu);
    let root = ticketing_tests::workspace_root().join("examples");
    let config = std::fs::read_to_string(root.join("outegrations/agile-bug.json")).unwrap();
    let ticket = std::fs::read_to_string(root.join("tickets/SEC-102.json")).unwrap();
    let link = embed::run(ticketing_tests::plugin_wasm(), &conn, &config, &ticket)
        .expect("the example runs end to end");
    let path = format!("_apis/wit/workitems/{}?api-version=7.1", link.work_item_id);
    let item = common::ado(&emu, "GET", &path, "application/json", None);
    assert_eq!(item["id"], link.work_item_id, "{item}");
    assert_eq!(
        item["fields"]["System.WorkItemType"], "Bug",
        "the example's config creates a Bug: {item}"
    );
}
