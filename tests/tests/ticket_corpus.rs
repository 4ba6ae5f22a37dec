//! One ticket model: every document of the shared corpus
//! (`tests/fixtures/tickets/{valid,invalid}/`) is accepted or refused alike
//! by the reference host (its ticket files) and by the real Spin component
//! (its `/v1/preview` API), both reading it with `ticketing_model::ticket_json`.

use crate::spin_support;

use std::path::PathBuf;

use serde_json::{Value, json};
use spin_support::{SpinApp, agile_bug, variables};

fn corpus(kind: &str) -> Vec<(PathBuf, String)> {
    let dir = ticketing_tests::workspace_root()
        .join("tests/fixtures/tickets")
        .join(kind);
    let mut docs: Vec<(PathBuf, String)> = std::fs::read_dir(&dir)
        .unwrap_or_else(|e| panic!("{}: {e}", dir.display()))
        .map(|e| {
            let path = e.unwrap().path();
            let text = std::fs::read_to_string(&path).unwrap();
            (path, text)
        })
        .collect();
    docs.sort();
    assert!(docs.len() >= 4, "the {kind} corpus is there");
    docs
}

/// The Spin service's verdict: `Ok` when it previewed the ticket, else the error code.
fn spin_verdict(app: &SpinApp, text: &str) -> Result<Value, String> {
    // A duplicate member does not survive `serde_json::Value`: send the text as is.
    let body = format!(r#"{{"config": {}, "ticket": {text}}}"#, json!(agile_bug()));
    let r = spin_support::call_raw(
        app,
        "POST",
        "/v1/preview",
        Some(&format!("Bearer {}", spin_support::API_TOKEN)),
        Some(body.as_bytes()),
    );
    if r.status == 200 {
        Ok(r.body)
    } else {
        Err(format!("{} {}", r.status, r.code()))
    }
}

#[test]
fn host_and_spin_accept_the_same_valid_tickets_with_the_same_values() {
    let emu = spin_support::emulator();
    let app = SpinApp::start(&variables(&emu));
    for (path, text) in corpus("valid") {
        let host = ticketing_host::state::ticket_file::parse(&text)
            .unwrap_or_else(|e| panic!("{}: the host refused it: {e:#}", path.display()));
        let preview = spin_verdict(&app, &text)
            .unwrap_or_else(|e| panic!("{}: the Spin service refused it: {e}", path.display()));
        // The title the host read is the one the Spin service maps to System.Title.
        let title = host
            .fields
            .iter()
            .find(|f| f.name == "title")
            .map(|f| &f.value);
        let Some(ticketing_runtime::FieldValue::Text(title)) = title else {
            panic!("{}: no text title", path.display())
        };
        let sent = preview["body"]
            .as_array()
            .and_then(|ops| ops.iter().find(|op| op["path"] == "/fields/System.Title"))
            .map(|op| op["value"].clone());
        assert_eq!(
            sent,
            Some(Value::String(title.clone())),
            "{}: {preview}",
            path.display()
        );
    }
}

#[test]
fn host_and_spin_refuse_the_same_invalid_tickets() {
    let emu = spin_support::emulator();
    let app = SpinApp::start(&variables(&emu));
    for (path, text) in corpus("invalid") {
        let host = ticketing_host::state::ticket_file::parse(&text);
        assert!(host.is_err(), "{}: the host accepted it", path.display());
        let spin = spin_verdict(&app, &text);
        let code = spin.expect_err(&format!("{}: the Spin service accepted it", path.display()));
        assert!(
            code.starts_with("422 ") || code.starts_with("400 "),
            "{}: refused as a bad request, not {code}",
            path.display()
        );
    }
}

#[test]
fn the_host_reads_every_valid_ticket_as_the_model_does() {
    // The host reads through the model; a multi-byte character where a
    // date-time's seconds would be is text, not a panic.
    for (path, text) in corpus("valid") {
        let model = ticketing_runtime::model::ticket_json::parse(&text).unwrap();
        let host = ticketing_host::state::ticket_file::parse(&text).unwrap();
        assert_eq!(
            ticketing_runtime::convert::ticket_to_model(&host),
            model,
            "{}",
            path.display()
        );
    }
}
