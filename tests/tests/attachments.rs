//! Finding attachments through the real component and the emulator: a
//! dispatch attaches one file with the right name, size and content (read
//! back over HTTP with the PAT and parsed with an independent reader), in
//! the create request itself; files over the limit are refused with nothing
//! created; 10,000 findings still dispatch.

use crate::common;

use std::io::Cursor;

use ado_emulator::Emulator;
use base64::Engine as _;
use calamine::{Data, Reader, Xlsx};
use common::*;
use serde_json::{Value, json};
use ticketing_runtime::{
    CallError, ConnectorError, Field, FieldValue, Finding, Issue, Link, Ticket,
};

const FORMULA: &str = r#"=HYPERLINK("http://x","y")"#;
const CJK: &str = "漏洞修复建议";
const HEBREW: &str = "שלום עולם";

fn finding(id: &str, severity: &str, title: &str, more: Vec<Field>) -> Finding {
    let mut fields = vec![text("severity", severity), text("title", title)];
    fields.extend(more);
    Finding {
        id: id.into(),
        status: "open".into(),
        fields,
    }
}

/// Three findings in no severity order, with values that break naive writers.
fn findings_ticket(id: &str) -> Ticket {
    let mut t = ticket(
        id,
        vec![
            text("title", "Vulnerable openssl on the order hosts"),
            text("severity", "HIGH"),
        ],
    );
    t.findings = vec![
        finding(
            "F-1",
            "Low",
            "Comma, \"quoted\" and\nnewline",
            vec![
                text("cve", "CVE-2026-0001"),
                text("component_name", FORMULA),
                text("asset_name", "orders-1"),
            ],
        ),
        finding(
            "F-2",
            "Critical",
            CJK,
            vec![
                text("cve", "CVE-2026-1234"),
                text("component_name", "openssl"),
                text("asset_name", "orders-2"),
                text("description", HEBREW),
            ],
        ),
        finding(
            "F-3",
            "Medium",
            "Weak TLS ciphers",
            vec![
                text("cve", "CVE-2026-5678"),
                text("asset_name", "web-1"),
                Field {
                    name: "sources".into(),
                    value: FieldValue::TextList(vec!["scanner-a".into(), "scanner,b".into()]),
                },
            ],
        ),
    ];
    t
}

/// The agile-bug example with `attachment` set to `attachment`.
fn with_attachment(attachment: Value) -> String {
    let mut config: Value = serde_json::from_str(&agile_bug_config()).unwrap();
    config["attachment"] = attachment;
    config.to_string()
}

fn today() -> String {
    let d = time::OffsetDateTime::now_utc().date();
    format!("{:04}-{:02}-{:02}", d.year(), u8::from(d.month()), d.day())
}

/// A file attached to a work item, as the emulator holds it.
struct Attached {
    name: String,
    size: u64,
    comment: String,
    bytes: Vec<u8>,
}

fn download(url: &str) -> Vec<u8> {
    let basic = base64::engine::general_purpose::STANDARD.encode(format!(":{}", seed::PAT));
    let mut response = ureq::get(url)
        .header("Authorization", &format!("Basic {basic}"))
        .call()
        .expect("the attachment downloads");
    response
        .body_mut()
        .with_config()
        .limit(64 << 20)
        .read_to_vec()
        .expect("the attachment's bytes")
}

/// The `AttachedFile` relations of a work item, with their bytes.
fn attached_files(emu: &Emulator, id: i32) -> Vec<Attached> {
    let item = emu.work_item(id).expect("the work item exists");
    let relations = item["relations"].as_array().cloned().unwrap_or_default();
    relations
        .iter()
        .filter(|r| r["rel"] == "AttachedFile")
        .map(|r| Attached {
            name: r["attributes"]["name"]
                .as_str()
                .unwrap_or_default()
                .to_string(),
            size: r["attributes"]["resourceSize"].as_u64().unwrap_or_default(),
            comment: r["attributes"]["comment"]
                .as_str()
                .unwrap_or_default()
                .to_string(),
            bytes: download(r["url"].as_str().unwrap()),
        })
        .collect()
}

/// Dispatches `ticket` with a `format` attachment; checks that exactly one
/// file is attached with the dated name and the size the link remembers.
fn dispatch(emu: &Emulator, format: &str, ticket: &Ticket) -> (Link, Attached) {
    let link = host()
        .create(
            &pat_connection(emu),
            &with_attachment(json!({"format": format})),
            ticket,
        )
        .expect("dispatched");
    let mut files = attached_files(emu, link.work_item_id);
    assert_eq!(files.len(), 1, "exactly one file is attached");
    let file = files.remove(0);
    assert_eq!(
        file.name,
        format!("findings-{}-{}.{format}", ticket.id, today())
    );
    assert_eq!(file.size, file.bytes.len() as u64);
    let state: Value = serde_json::from_str(&link.sync_state).unwrap();
    assert_eq!(state["attachment"]["file_name"], file.name.as_str());
    assert_eq!(state["attachment"]["size"], file.size);
    assert!(
        state["attachment"]["digest"]
            .as_str()
            .is_some_and(|d| d.len() == 64),
        "{state}"
    );
    (link, file)
}

fn refusal(result: Result<Link, CallError>) -> Issue {
    match result {
        Err(CallError::Connector(ConnectorError::Validation(mut issues))) => issues.remove(0),
        other => panic!("expected a validation error, got {other:?}"),
    }
}

#[test]
fn dispatch_attaches_one_csv_whose_rows_are_the_findings_by_severity_with_formulas_neutralised() {
    let emu = emulator();
    let (_, file) = dispatch(&emu, "csv", &findings_ticket("SEC-31"));
    assert!(
        file.comment
            .starts_with("SecOps ticket SEC-31: 3 findings (CSV) ["),
        "the digest marks the version: {}",
        file.comment
    );
    let body = file
        .bytes
        .strip_prefix(b"\xEF\xBB\xBF")
        .expect("a byte order mark");
    let rows: Vec<Vec<String>> = csv::ReaderBuilder::new()
        .has_headers(false)
        .from_reader(body)
        .records()
        .map(|r| r.unwrap().iter().map(str::to_string).collect())
        .collect();
    assert_eq!(
        rows[0][..3],
        ["Finding Severity", "Finding Title", "Finding CVE"]
    );
    assert_eq!(rows.len(), 4);
    assert_eq!(
        rows[1][..5],
        ["Critical", CJK, "CVE-2026-1234", "openssl", "orders-2"]
    );
    assert_eq!(rows[1][7], HEBREW);
    assert_eq!(
        rows[2][..3],
        ["Medium", "Weak TLS ciphers", "CVE-2026-5678"]
    );
    assert_eq!(rows[2][8], "scanner-a; scanner,b");
    assert_eq!(
        rows[3][..4],
        [
            "Low",
            "Comma, \"quoted\" and\nnewline",
            "CVE-2026-0001",
            &format!("'{FORMULA}")
        ]
    );
}

#[test]
fn dispatch_attaches_one_jsonl_with_one_typed_object_per_finding_by_severity() {
    let emu = emulator();
    let (_, file) = dispatch(&emu, "jsonl", &findings_ticket("SEC-32"));
    let lines: Vec<Value> = std::str::from_utf8(&file.bytes)
        .unwrap()
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(lines.len(), 3);
    assert_eq!(lines[0]["title"], CJK);
    assert_eq!(lines[0]["description"], HEBREW);
    assert_eq!(lines[1]["sources"], json!(["scanner-a", "scanner,b"]));
    assert_eq!(
        lines[2]["component_name"], FORMULA,
        "JSONL keeps the value as it is"
    );
    assert_eq!(lines[2]["title"], "Comma, \"quoted\" and\nnewline");
    assert_eq!(lines[2]["optimal_fix"], Value::Null);
}

#[test]
fn dispatch_attaches_one_xlsx_whose_cells_are_the_findings_by_severity() {
    let emu = emulator();
    let (_, file) = dispatch(&emu, "xlsx", &findings_ticket("SEC-33"));
    let mut book: Xlsx<_> =
        calamine::open_workbook_from_rs(Cursor::new(file.bytes)).expect("a workbook");
    let range = book
        .worksheet_range("Findings")
        .expect("the Findings sheet");
    assert_eq!(range.get_size(), (4, 9));
    let cell = |r: usize, c: usize| range.get((r, c)).cloned().unwrap_or(Data::Empty);
    assert_eq!(cell(0, 0), Data::String("Finding Severity".into()));
    assert_eq!(cell(1, 1), Data::String(CJK.into()));
    assert_eq!(cell(1, 7), Data::String(HEBREW.into()));
    assert_eq!(cell(2, 1), Data::String("Weak TLS ciphers".into()));
    assert_eq!(
        cell(3, 1),
        Data::String("Comma, \"quoted\" and\nnewline".into())
    );
    assert_eq!(
        cell(3, 3),
        Data::String(FORMULA.into()),
        "a string cell, never a formula"
    );
    let formulas = book.worksheet_formula("Findings").unwrap();
    assert!(formulas.used_cells().all(|(_, _, f)| f.is_empty()));
}

#[test]
fn dispatch_attaches_one_pdf_report_whose_text_shows_the_ticket_and_its_findings() {
    let emu = emulator();
    let (_, file) = dispatch(&emu, "pdf", &findings_ticket("SEC-34"));
    assert!(file.bytes.starts_with(b"%PDF-"));
    let text = pdf_extract::extract_text_from_mem(&file.bytes).expect("the PDF's text");
    let flat: String = text.split_whitespace().collect::<Vec<_>>().join(" ");
    for expected in [
        "SEC-34",
        "Vulnerable openssl on the order hosts",
        "CVE-2026-1234",
        "CVE-2026-5678",
        "Weak TLS ciphers",
        "orders-2",
        CJK,
    ] {
        assert!(flat.contains(expected), "{expected:?} missing from {flat}");
    }
    let critical = flat.find("CVE-2026-1234").unwrap();
    assert!(
        critical < flat.find("CVE-2026-5678").unwrap()
            && critical < flat.find("CVE-2026-0001").unwrap(),
        "sorted by severity"
    );
}

#[test]
fn dispatch_with_an_attachment_costs_two_requests_with_a_warm_schema() {
    let emu = emulator();
    let conn = pat_connection(&emu);
    let config = with_attachment(json!({"format": "csv"}));
    host()
        .create(&conn, &config, &findings_ticket("SEC-35"))
        .expect("first dispatch");
    let before = emu.request_count();
    let link = host()
        .create(&conn, &config, &findings_ticket("SEC-36"))
        .expect("second dispatch");
    assert_eq!(emu.request_count() - before, 2, "the upload and the create");
    assert_eq!(link.rev, 1, "the file is linked by the create itself");
    assert_eq!(attached_files(&emu, link.work_item_id).len(), 1);
}

#[test]
fn a_ticket_without_findings_is_dispatched_without_a_file() {
    let emu = emulator();
    let conn = pat_connection(&emu);
    let mut t = findings_ticket("SEC-37");
    t.findings.clear();
    let link = host()
        .create(&conn, &with_attachment(json!({"format": "pdf"})), &t)
        .unwrap();
    assert!(attached_files(&emu, link.work_item_id).is_empty());
    let state: Value = serde_json::from_str(&link.sync_state).unwrap();
    assert!(state["attachment"].is_null(), "{state}");
}

#[test]
fn preview_shows_the_attachment_relation_and_uploads_nothing() {
    let emu = emulator();
    let conn = pat_connection(&emu);
    let config = with_attachment(json!({"format": "xlsx", "on_sync": "replace"}));
    let preview = host()
        .preview(&conn, &config, &findings_ticket("SEC-38"), true)
        .expect("preview");
    assert!(preview.problems.is_empty(), "{:?}", preview.problems);
    let ops: Vec<Value> = serde_json::from_str(&preview.body).unwrap();
    let relation = ops
        .iter()
        .find(|o| o["value"]["rel"] == "AttachedFile")
        .expect("the relation op");
    let url = relation["value"]["url"].as_str().unwrap();
    assert!(
        url.ends_with(&format!(
            "/_apis/wit/attachments/{{upload-id}}?fileName=findings-SEC-38-{}.xlsx",
            today()
        )),
        "{url}"
    );
    assert!(emu.work_item(1).is_none(), "nothing is created");
}

#[test]
fn a_file_over_the_configured_limit_is_refused_before_any_upload_and_nothing_is_created() {
    let emu = emulator();
    let conn = pat_connection(&emu);
    let config = with_attachment(json!({"format": "pdf", "max_bytes": 4096}));
    let t = findings_ticket("SEC-39");
    host()
        .preview(&conn, &config, &t, false)
        .expect("warms the schema");
    let before = emu.request_count();
    let issue = refusal(host().create(&conn, &config, &t));
    assert_eq!(issue.rule, "max-size");
    let name = format!("findings-SEC-39-{}.pdf", today());
    assert!(
        issue.message.contains(&format!("`{name}` is ")) && issue.message.contains("(4096 bytes)"),
        "{}",
        issue.message
    );
    assert_eq!(emu.request_count(), before, "not a single request");
    assert!(emu.work_item(1).is_none(), "nothing is created");
}

#[test]
fn a_file_ado_refuses_as_too_large_is_reported_naming_it_and_nothing_is_created() {
    let emu = emulator();
    emu.set_attachment_limit(1000);
    let issue = refusal(host().create(
        &pat_connection(&emu),
        &with_attachment(json!({"format": "xlsx"})),
        &findings_ticket("SEC-40"),
    ));
    assert_eq!(issue.rule, "max-size");
    let name = format!("findings-SEC-40-{}.xlsx", today());
    // ADO's own text (and the limit it may name) is not established
    // (emulator/FIDELITY.md, `errors=opaque`): only the connector's part.
    assert!(
        issue.message.contains(&format!("`{name}`")) && issue.message.contains("as too large"),
        "{}",
        issue.message
    );
    assert!(emu.work_item(1).is_none(), "nothing is created");
}

#[test]
fn a_ticket_with_ten_thousand_findings_is_dispatched_with_its_file() {
    let emu = emulator();
    let mut t = findings_ticket("SEC-41");
    t.findings = (0..10_000)
        .map(|i| {
            finding(
                &format!("F-{i}"),
                ["Critical", "High", "Medium", "Low"][i % 4],
                &format!("Finding number {i}"),
                vec![
                    text("cve", &format!("CVE-2026-{i:05}")),
                    text("asset_name", &format!("host-{i}.example")),
                    text(
                        "description",
                        &"A description long enough to wrap in a table cell. ".repeat(3),
                    ),
                ],
            )
        })
        .collect();
    // The example's Repro Steps lists every finding, over the 256 KiB cap of
    // a rendered template at this size: the file carries them instead.
    let mut config: Value = serde_json::from_str(&agile_bug_config()).unwrap();
    config["dispatch"]
        .as_array_mut()
        .unwrap()
        .retain(|rule| rule["target"] != "Microsoft.VSTS.TCM.ReproSteps");
    assert_eq!(
        config["attachment"]["format"], "xlsx",
        "the example's own attachment"
    );
    let link = host()
        .create(&pat_connection(&emu), &config.to_string(), &t)
        .expect("dispatched");
    let files = attached_files(&emu, link.work_item_id);
    assert_eq!(files.len(), 1);
    let state: Value = serde_json::from_str(&link.sync_state).unwrap();
    assert_eq!(state["attachment"]["size"], files[0].bytes.len() as u64);
    let mut book: Xlsx<_> =
        calamine::open_workbook_from_rs(Cursor::new(files[0].bytes.clone())).expect("a workbook");
    let range = book
        .worksheet_range("Findings")
        .expect("the Findings sheet");
    assert_eq!(
        range.get_size(),
        (10_001, 9),
        "a header row and one row per finding"
    );
}

fn digest_of(link: &Link) -> String {
    let state: Value = serde_json::from_str(&link.sync_state).unwrap();
    state["attachment"]["digest"]
        .as_str()
        .unwrap_or_default()
        .to_string()
}

/// `before` plus a new High finding.
fn with_new_finding(before: &Ticket) -> Ticket {
    let mut after = before.clone();
    after.findings.push(finding(
        "F-4",
        "High",
        "Exposed admin console",
        vec![text("cve", "CVE-2026-9999")],
    ));
    after
}

#[test]
fn a_lost_upload_answer_creates_nothing_and_the_retry_dispatches_once() {
    let emu = emulator();
    let conn = pat_connection(&emu);
    let config = with_attachment(json!({"format": "csv"}));
    let t = findings_ticket("SEC-45");
    host()
        .preview(&conn, &config, &t, false)
        .expect("warms the schema");
    emu.set_faults(ado_emulator::faults::Faults {
        drop_after_commit_rate: 1.0,
        ..Default::default()
    });
    match host().create(&conn, &config, &t) {
        Err(CallError::Connector(ConnectorError::Transport(_))) => {}
        other => panic!("expected a lost answer, got {other:?}"),
    }
    emu.set_faults(ado_emulator::faults::Faults::default());
    assert!(
        ids_with_tag(&emu, seed::PROJECT, "secops:SEC-45").is_empty(),
        "the upload failed before the create"
    );
    let link = host()
        .create(&conn, &config, &t)
        .expect("the retry dispatches");
    assert_eq!(
        ids_with_tag(&emu, seed::PROJECT, "secops:SEC-45"),
        vec![i64::from(link.work_item_id)]
    );
    assert_eq!(attached_files(&emu, link.work_item_id).len(), 1);
}

#[test]
fn a_sync_with_changed_findings_replaces_the_file_within_its_patch() {
    let emu = emulator();
    let conn = pat_connection(&emu);
    let config = with_attachment(json!({"format": "csv", "on_sync": "replace"}));
    let before = findings_ticket("SEC-50");
    let link = host().create(&conn, &config, &before).expect("dispatched");
    let after = with_new_finding(&before);

    let requests = emu.request_count();
    let out = host()
        .push(&conn, &config, &link, &before, &after)
        .expect("pushed");
    assert_eq!(
        emu.request_count() - requests,
        3,
        "read the relations, upload, one PATCH"
    );
    let files = attached_files(&emu, link.work_item_id);
    assert_eq!(files.len(), 1, "the previous version is unlinked");
    assert!(
        files[0]
            .comment
            .starts_with("SecOps ticket SEC-50: 4 findings (CSV) ["),
        "{}",
        files[0].comment
    );
    assert_eq!(files[0].name, format!("findings-SEC-50-{}.csv", today()));
    assert!(String::from_utf8_lossy(&files[0].bytes).contains("CVE-2026-9999"));
    assert_ne!(digest_of(&out.link), digest_of(&link));
    let item = emu.work_item(link.work_item_id).unwrap();
    assert_eq!(out.link.rev, item["rev"].as_i64().unwrap() as i32);

    // Unchanged findings: no upload, nothing sent.
    let requests = emu.request_count();
    let again = host()
        .push(&conn, &config, &out.link, &after, &after)
        .expect("pushed");
    assert_eq!(emu.request_count() - requests, 0);
    assert_eq!(digest_of(&again.link), digest_of(&out.link));
    assert_eq!(attached_files(&emu, link.work_item_id).len(), 1);
}

#[test]
fn a_sync_with_changed_findings_adds_a_version_next_to_the_previous_one() {
    let emu = emulator();
    let conn = pat_connection(&emu);
    let config = with_attachment(json!({"format": "jsonl", "on_sync": "add"}));
    let before = findings_ticket("SEC-51");
    let link = host().create(&conn, &config, &before).expect("dispatched");
    let requests = emu.request_count();
    host()
        .push(&conn, &config, &link, &before, &with_new_finding(&before))
        .expect("pushed");
    assert_eq!(
        emu.request_count() - requests,
        3,
        "read the relations, upload, one PATCH"
    );
    let files = attached_files(&emu, link.work_item_id);
    let lines: Vec<usize> = files
        .iter()
        .map(|f| f.bytes.iter().filter(|b| **b == b'\n').count())
        .collect();
    assert_eq!(lines, [3, 4], "both versions, oldest first");
}

#[test]
fn a_sync_repeated_after_its_answer_was_lost_links_the_new_version_once() {
    let emu = emulator();
    let conn = pat_connection(&emu);
    let config = with_attachment(json!({"format": "csv", "on_sync": "add"}));
    let before = findings_ticket("SEC-52");
    let link = host().create(&conn, &config, &before).expect("dispatched");
    let after = with_new_finding(&before);
    host()
        .push(&conn, &config, &link, &before, &after)
        .expect("pushed");
    // The host never stored the answer: the retry runs with the old link.
    let requests = emu.request_count();
    let retry = host()
        .push(&conn, &config, &link, &before, &after)
        .expect("pushed again");
    assert_eq!(
        emu.request_count() - requests,
        1,
        "only the read of the relations: no upload, no PATCH"
    );
    assert_eq!(attached_files(&emu, link.work_item_id).len(), 2);
    let again = host()
        .push(&conn, &config, &retry.link, &after, &after)
        .expect("pushed");
    assert_eq!(digest_of(&again.link), digest_of(&retry.link));
}

#[test]
fn a_sync_attaches_nothing_new_when_on_sync_is_off() {
    let emu = emulator();
    let conn = pat_connection(&emu);
    let config = with_attachment(json!({"format": "csv", "on_sync": "off"}));
    let before = findings_ticket("SEC-52");
    let link = host().create(&conn, &config, &before).expect("dispatched");
    let requests = emu.request_count();
    host()
        .push(&conn, &config, &link, &before, &with_new_finding(&before))
        .expect("pushed");
    assert_eq!(emu.request_count() - requests, 0);
    assert_eq!(attached_files(&emu, link.work_item_id).len(), 1);
}
