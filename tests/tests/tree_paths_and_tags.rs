//! Area and iteration paths and tags through the real component against
//! the emulator: a path that names no node of the project's tree is a
//! preview problem naming the config member (ADO would refuse it with
//! TF401347), one that does is written with its node; a tag removed from
//! the ticket leaves the work item (ADO's `add` on System.Tags appends, so
//! the connector replaces them).

use crate::common;

use common::*;
use serde_json::{Value, json};
use ticketing_runtime::Ticket;

fn bug(tags: &str) -> Ticket {
    ticket(
        "SEC-40",
        vec![
            text("title", "Outdated OpenSSL"),
            text("severity", "HIGH"),
            text("tags", tags),
        ],
    )
}

fn create_node(emu: &ado_emulator::Emulator, group: &str, name: &str) {
    ado(
        emu,
        "POST",
        &format!(
            "{}/_apis/wit/classificationnodes/{group}?api-version=7.1",
            ado_emulator::seed::PROJECT.replace(' ', "%20")
        ),
        "application/json",
        Some(json!({"name": name})),
    );
}

#[test]
fn preview_refuses_an_area_or_iteration_that_names_no_node_and_create_uses_one_that_does() {
    let emu = emulator();
    let conn = pat_connection(&emu);
    let project = ado_emulator::seed::PROJECT;
    let mut config: Value = serde_json::from_str(&agile_bug_config()).unwrap();
    config["area_path"] = json!(format!("{project}\\Payments"));
    config["iteration_path"] = json!(format!("{project}\\Sprint 9"));
    let config = config.to_string();
    let preview = host()
        .preview(&conn, &config, &bug("a"), false)
        .expect("a preview");
    let tree: Vec<_> = preview
        .problems
        .iter()
        .filter(|p| p.rule == "tree-path")
        .map(|p| p.path.as_str())
        .collect();
    assert_eq!(
        tree,
        vec!["$.area_path", "$.iteration_path"],
        "{:?}",
        preview.problems
    );

    create_node(&emu, "Areas", "Payments");
    create_node(&emu, "Iterations", "Sprint 9");
    let preview = host()
        .preview(&conn, &config, &bug("a"), false)
        .expect("a preview");
    assert!(preview.problems.is_empty(), "{:?}", preview.problems);
    let link = host().create(&conn, &config, &bug("a")).expect("created");
    let item = emu.work_item(link.work_item_id).unwrap();
    assert_eq!(
        item["fields"]["System.AreaPath"],
        format!("{project}\\Payments")
    );
    assert_eq!(
        item["fields"]["System.IterationPath"],
        format!("{project}\\Sprint 9")
    );
}

#[test]
fn a_tag_removed_from_the_ticket_is_removed_from_the_work_item() {
    let emu = emulator();
    let conn = pat_connection(&emu);
    let mut config: Value = serde_json::from_str(&agile_bug_config()).unwrap();
    config["to_ado"]
        .as_array_mut()
        .unwrap()
        .push(json!({"target": "System.Tags", "method": "field", "field": "tags"}));
    let config = config.to_string();
    let before = bug("pci; internet-facing");
    let link = host().create(&conn, &config, &before).expect("created");
    let tags = |emu: &ado_emulator::Emulator| -> Vec<String> {
        emu.work_item(link.work_item_id).unwrap()["fields"]["System.Tags"]
            .as_str()
            .unwrap_or_default()
            .split("; ")
            .map(str::to_string)
            .collect()
    };
    assert!(tags(&emu).contains(&"internet-facing".to_string()));

    let after = bug("pci");
    host()
        .push(&conn, &config, &link, &before, &after)
        .expect("pushed");
    let now = tags(&emu);
    assert!(!now.contains(&"internet-facing".to_string()), "{now:?}");
    assert!(now.contains(&"pci".to_string()), "{now:?}");
    assert!(
        now.contains(&"secops".to_string()),
        "the config's tag stays: {now:?}"
    );
}

#[test]
fn validate_config_with_the_host_connection_refuses_an_area_that_names_no_node() {
    let env = cli_env::Env::new();
    let project = ado_emulator::seed::PROJECT;
    let with_paths = |area: &str, iteration: &str| {
        let mut config: Value = serde_json::from_str(&agile_bug_config()).unwrap();
        config["area_path"] = json!(area);
        config["iteration_path"] = json!(iteration);
        config.to_string()
    };
    let bad = env.write(
        "bad.json",
        &with_paths(&format!("{project}\\Payments"), project),
    );
    let (ok, out) = env.run(&["validate-config", &bad]);
    assert!(
        !ok,
        "a path that names no node fails validate-config:\n{out}"
    );
    let line = out
        .lines()
        .find(|l| l.contains("$.area_path"))
        .unwrap_or_else(|| panic!("the issue names the member:\n{out}"));
    assert!(
        line.contains("tree-path") && line.contains(&format!("{project}\\Payments")),
        "the issue's rule and the path: {line}"
    );
    assert!(
        !out.contains("$.iteration_path"),
        "the project's root is a node: {out}"
    );

    // `--offline` checks the file alone: the shape is right, so it passes.
    env.ok(&["validate-config", "--offline", &bad]);

    // The plugin answers the same through its export: a typed issue.
    let conn = pat_connection(&env.emu);
    let config = with_paths(&format!("{project}\\Payments"), project);
    match host().validate_config_with(&conn, &config) {
        Err(ticketing_runtime::CallError::Connector(
            ticketing_runtime::ConnectorError::InvalidConfig(issues),
        )) => {
            assert_eq!(issues.len(), 1, "{issues:?}");
            assert_eq!(
                (issues[0].path.as_str(), issues[0].rule.as_str()),
                ("$.area_path", "tree-path")
            );
            assert!(
                issues[0]
                    .message
                    .contains(&format!("`{project}\\Payments`"))
            );
        }
        other => panic!("expected an invalid-config issue: {other:?}"),
    }

    // Once the area exists, the same file passes.
    create_node(&env.emu, "Areas", "Payments");
    let out = env.ok(&["validate-config", &bad]);
    assert!(out.trim_end().ends_with(": valid"), "{out}");
}
