//! Attachment tests: every format is read back with an independent reader
//! (csv, serde_json, calamine, pdf-extract) and compared with the findings,
//! hostile values included.

mod csv;
mod dispatch;
mod jsonl;
mod pdf;
mod refresh;
mod upload;
mod xlsx;

use std::collections::BTreeMap;

use super::*;
use crate::model::{Field, FieldValue, Finding};

/// 2026-11-20 09:30:00 UTC.
pub const NOW: u64 = 1_795_167_000;

pub const FORMULA: &str = r#"=HYPERLINK("http://x","y")"#;
pub const HEBREW: &str = "שלום עולם";
pub const ARABIC: &str = "مرحبا";
pub const CJK: &str = "漏洞修复建议";
pub const KOREAN: &str = "취약점";

pub fn text(s: &str) -> FieldValue {
    FieldValue::Text(s.to_string())
}

pub fn finding(id: &str, severity: &str, title: &str, extra: Vec<(&str, FieldValue)>) -> Finding {
    let mut fields = vec![
        Field {
            name: "severity".into(),
            value: text(severity),
        },
        Field {
            name: "title".into(),
            value: text(title),
        },
    ];
    fields.extend(extra.into_iter().map(|(name, value)| Field {
        name: name.into(),
        value,
    }));
    Finding {
        id: id.into(),
        status: "open".into(),
        fields,
    }
}

pub fn ticket_with(findings: Vec<Finding>) -> Ticket {
    Ticket {
        id: "SEC-101".into(),
        url: "https://secops.example/tickets/SEC-101".into(),
        fields: vec![
            Field {
                name: "title".into(),
                value: text("SQL injection in orders-api"),
            },
            Field {
                name: "severity".into(),
                value: text("CRITICAL"),
            },
        ],
        findings,
        comments: Vec::new(),
    }
}

/// Findings full of values that break naive writers, in no severity order.
pub fn hostile_ticket() -> Ticket {
    ticket_with(vec![
        finding(
            "F-1",
            "Low",
            "Comma, \"quoted\" and\nnewline",
            vec![
                ("cve", text("CVE-2026-0001")),
                ("component_name", text(FORMULA)),
                ("asset_name", text("+1")),
                ("asset_operating_system", text("-1")),
                ("optimal_fix", text("@SUM(A1)")),
                ("description", text(&format!("{HEBREW} and {ARABIC}"))),
                (
                    "sources",
                    FieldValue::TextList(vec!["scanner-a".into(), "scanner,b".into()]),
                ),
            ],
        ),
        finding(
            "F-2",
            "Critical",
            CJK,
            vec![
                ("cve", text("CVE-2026-1234")),
                ("component_name", text("libfoo")),
                ("asset_name", text(KOREAN)),
                ("asset_operating_system", text("Ubuntu 24.04")),
                ("optimal_fix", text("Upgrade libfoo to 2.0")),
                ("description", text("Tab\there; CRLF\r\nline")),
                ("sources", FieldValue::TextList(vec!["scanner-a".into()])),
            ],
        ),
        finding(
            "F-3",
            "medium",
            "Typed values",
            vec![
                ("cvss", FieldValue::Number(7.5)),
                ("count", FieldValue::Integer(-1)),
                ("exploited", FieldValue::Boolean(true)),
                (
                    "first_seen",
                    FieldValue::DateTime("2026-11-20T09:30:00Z".into()),
                ),
            ],
        ),
    ])
}

pub fn options(format: AttachmentFormat) -> AttachmentOptions {
    AttachmentOptions::new(format)
}

/// Default columns plus typed ones.
pub fn typed_options(format: AttachmentFormat) -> AttachmentOptions {
    let mut o = options(format);
    o.columns.extend([
        Column::Label("Finding CVSS".into()),
        Column::Named {
            label: "Count".into(),
            field: "count".into(),
        },
        Column::Named {
            label: "Exploited".into(),
            field: "exploited".into(),
        },
        Column::Named {
            label: "First Seen".into(),
            field: "first_seen".into(),
        },
    ]);
    o
}

pub fn generate_default(ticket: &Ticket, format: AttachmentFormat) -> Attachment {
    let file = generate(ticket, &options(format), &BTreeMap::new(), NOW).unwrap();
    // To look at the files: ATTACHMENT_DUMP_DIR=/tmp/att cargo test -p ado-connector-core attachments
    if let Some(dir) = std::env::var_os("ATTACHMENT_DUMP_DIR") {
        let name = format!("{}-{}", ticket.findings.len(), file.file_name);
        std::fs::create_dir_all(&dir)
            .and_then(|_| std::fs::write(std::path::Path::new(&dir).join(name), &file.bytes))
            .unwrap();
    }
    file
}

/// `count` findings with long descriptions, severities mixed.
pub fn many_findings(count: usize) -> Ticket {
    let severities = ["Info", "Low", "Medium", "High", "Critical", "Unknown"];
    let findings = (0..count)
        .map(|i| {
            finding(
                &format!("F-{i}"),
                severities[i % severities.len()],
                &format!("Finding number {i}"),
                vec![
                    ("cve", text(&format!("CVE-2026-{i:05}"))),
                    ("component_name", text("openssl")),
                    ("asset_name", text(&format!("host-{i}.example"))),
                    ("asset_operating_system", text("Debian 12")),
                    (
                        "optimal_fix",
                        text("Upgrade to the fixed version and restart the service."),
                    ),
                    (
                        "description",
                        text(
                            &"A long description that wraps over several lines of the table cell. "
                                .repeat(6),
                        ),
                    ),
                    (
                        "sources",
                        FieldValue::TextList(vec!["scanner-a".into(), "scanner-b".into()]),
                    ),
                ],
            )
        })
        .collect();
    ticket_with(findings)
}

fn severities_in_order(ticket: &Ticket) -> Vec<String> {
    let table = Table::new(
        ticket,
        &options(AttachmentFormat::Csv).resolved_columns(&BTreeMap::new()),
    );
    (0..table.row_count())
        .map(|r| table.severity(r).unwrap_or_default().into_owned())
        .collect()
}

#[test]
fn findings_are_sorted_critical_high_medium_low_info_then_unrated() {
    let ticket = ticket_with(
        [
            "Info",
            "bogus",
            "Low",
            "CRITICAL",
            "Medium",
            "high",
            "informational",
        ]
        .iter()
        .enumerate()
        .map(|(i, s)| finding(&format!("F-{i}"), s, "t", vec![]))
        .collect(),
    );
    assert_eq!(
        severities_in_order(&ticket),
        [
            "CRITICAL",
            "high",
            "Medium",
            "Low",
            "Info",
            "informational",
            "bogus"
        ]
    );
}

#[test]
fn findings_of_equal_severity_keep_the_ticket_order() {
    let ticket = ticket_with(
        (0..20)
            .map(|i| {
                finding(
                    &format!("F-{i}"),
                    if i % 2 == 0 { "High" } else { "Low" },
                    &i.to_string(),
                    vec![],
                )
            })
            .collect(),
    );
    let table = Table::new(
        &ticket,
        &[options::ResolvedColumn {
            label: "T".into(),
            field: "title".into(),
        }],
    );
    let titles: Vec<String> = (0..table.row_count())
        .map(|r| table.row(r).next().unwrap().text().into_owned())
        .collect();
    let expected: Vec<String> = (0..20)
        .filter(|i| i % 2 == 0)
        .chain((0..20).filter(|i| i % 2 == 1))
        .map(|i| i.to_string())
        .collect();
    assert_eq!(titles, expected);
}

#[test]
fn default_columns_are_the_nine_of_the_issue_resolved_to_finding_fields() {
    let columns = options(AttachmentFormat::Csv).resolved_columns(&BTreeMap::new());
    let fields: Vec<&str> = columns.iter().map(|c| c.field.as_str()).collect();
    assert_eq!(
        fields,
        [
            "severity",
            "title",
            "cve",
            "component_name",
            "asset_name",
            "asset_operating_system",
            "optimal_fix",
            "description",
            "sources"
        ]
    );
    assert_eq!(columns[0].label, "Finding Severity");
}

#[test]
fn config_labels_and_named_columns_choose_the_field() {
    let mut o = options(AttachmentFormat::Csv);
    o.columns = vec![
        Column::Label("Finding Squad".into()),
        Column::Named {
            label: "Where".into(),
            field: "asset_name".into(),
        },
        Column::Label("id".into()),
    ];
    let labels = BTreeMap::from([("Finding Squad".to_string(), "team".to_string())]);
    let columns = o.resolved_columns(&labels);
    let pairs: Vec<(&str, &str)> = columns
        .iter()
        .map(|c| (c.label.as_str(), c.field.as_str()))
        .collect();
    assert_eq!(
        pairs,
        [
            ("Finding Squad", "team"),
            ("Where", "asset_name"),
            ("id", "id")
        ]
    );
}

#[test]
fn file_name_carries_ticket_date_and_extension_and_no_path_characters() {
    let mut ticket = hostile_ticket();
    assert_eq!(
        options(AttachmentFormat::Pdf).file_name_for(&ticket, NOW),
        "findings-SEC-101-2026-11-20.pdf"
    );
    ticket.id = "../a/b:c".into();
    let mut o = options(AttachmentFormat::Xlsx);
    o.file_name = "report {ticket_id} {date} {time}".into();
    assert_eq!(
        o.file_name_for(&ticket, NOW),
        "report .._a_b_c 2026-11-20 093000.xlsx"
    );
}

#[test]
fn options_read_with_defaults_and_publish_a_json_schema() {
    let o: AttachmentOptions = serde_json::from_str(r#"{"format": "xlsx"}"#).unwrap();
    assert_eq!(o, options(AttachmentFormat::Xlsx));
    assert_eq!(
        (o.on_sync, o.max_bytes, o.limit()),
        (OnSync::Add, None, ADO_ATTACHMENT_LIMIT)
    );
    let o: AttachmentOptions = serde_json::from_str(
        r#"{"format": "pdf", "columns": ["Finding Title", {"label": "Host", "field": "asset_name"}], "file_name": "r-{date}.{ext}", "on_sync": "replace", "max_bytes": 4194304}"#,
    )
    .unwrap();
    assert_eq!(
        o.columns[1],
        Column::Named {
            label: "Host".into(),
            field: "asset_name".into()
        }
    );
    assert_eq!((o.on_sync, o.limit()), (OnSync::Replace, 4 << 20));
    assert!(
        serde_json::from_str::<AttachmentOptions>(r#"{"format": "pdf", "on_sync": "sometimes"}"#)
            .is_err()
    );
    assert!(
        serde_json::from_str::<AttachmentOptions>(r#"{"format": "pdf", "colums": []}"#).is_err()
    );
    assert!(serde_json::from_str::<AttachmentOptions>(r#"{"format": "docx"}"#).is_err());
    let schema = serde_json::to_value(schemars::schema_for!(AttachmentOptions)).unwrap();
    let text = schema.to_string();
    assert!(
        text.contains("on_sync")
            && text.contains("replace")
            && text.contains("jsonl")
            && text.contains("file_name"),
        "{text}"
    );
}

#[test]
fn unknown_placeholders_and_empty_columns_are_invalid_options() {
    let mut o = options(AttachmentFormat::Csv);
    o.file_name = "x-{ticket}.{ext}".into();
    o.columns.push(Column::Label(" ".into()));
    let err = generate(&hostile_ticket(), &o, &BTreeMap::new(), NOW).unwrap_err();
    let AttachmentError::InvalidOptions(issues) = &err else {
        panic!("{err:?}")
    };
    let paths: Vec<&str> = issues.iter().map(|i| i.path.as_str()).collect();
    assert_eq!(paths, ["attachments.columns[9]", "attachments.file_name"]);
    assert!(matches!(
        ConnectorError::from(err),
        ConnectorError::InvalidConfig(_)
    ));
}

#[test]
fn max_bytes_lowers_the_limit_and_is_refused_out_of_range() {
    let mut o = options(AttachmentFormat::Csv);
    o.max_bytes = Some(100);
    let err = generate(&hostile_ticket(), &o, &BTreeMap::new(), NOW).unwrap_err();
    assert!(
        matches!(&err, AttachmentError::TooLarge { limit: 100, size, .. } if *size > 100),
        "{err:?}"
    );
    for bad in [0, ADO_ATTACHMENT_LIMIT as u64 + 1] {
        o.max_bytes = Some(bad);
        let issues = o.validate("$.attachment");
        assert_eq!(
            (issues[0].path.as_str(), issues[0].rule.as_str()),
            ("$.attachment.max_bytes", "range"),
            "{bad}"
        );
    }
}

#[test]
fn the_digest_follows_the_shown_findings_not_the_date_or_their_order_in_the_ticket() {
    let o = options(AttachmentFormat::Csv);
    let labels = BTreeMap::new();
    let ticket = hostile_ticket();
    let mut reordered = ticket.clone();
    reordered.findings.reverse();
    assert_eq!(
        digest(&ticket, &o, &labels),
        digest(&reordered, &o, &labels)
    );
    let mut changed = ticket.clone();
    changed.findings[0].fields[1].value = text("New title");
    assert_ne!(digest(&ticket, &o, &labels), digest(&changed, &o, &labels));
    let mut hidden = ticket.clone();
    hidden.findings[2].fields.push(Field {
        name: "not_a_column".into(),
        value: text("x"),
    });
    assert_eq!(digest(&ticket, &o, &labels), digest(&hidden, &o, &labels));
    assert_ne!(
        digest(&ticket, &o, &labels),
        digest(&ticket, &options(AttachmentFormat::Pdf), &labels)
    );
}

#[test]
fn a_file_over_the_limit_is_refused_naming_the_file_and_the_limit() {
    assert!(check_size("a.pdf", ADO_ATTACHMENT_LIMIT).is_ok());
    let err = check_size("findings-SEC-101.pdf", ADO_ATTACHMENT_LIMIT + 1).unwrap_err();
    assert_eq!(
        err,
        AttachmentError::TooLarge {
            file_name: "findings-SEC-101.pdf".into(),
            size: ADO_ATTACHMENT_LIMIT + 1,
            limit: 136_314_880
        }
    );
    let message = ConnectorError::from(err).to_string();
    assert!(
        message.contains("findings-SEC-101.pdf") && message.contains("136314880"),
        "{message}"
    );
    assert!(matches!(
        check_size_against("x.csv", 11, 10),
        Err(AttachmentError::TooLarge {
            size: 11,
            limit: 10,
            ..
        })
    ));
}

#[test]
fn a_ticket_without_findings_still_gives_a_file_in_every_format() {
    let ticket = ticket_with(Vec::new());
    for format in [
        AttachmentFormat::Csv,
        AttachmentFormat::Jsonl,
        AttachmentFormat::Xlsx,
        AttachmentFormat::Pdf,
    ] {
        let file = generate_default(&ticket, format);
        assert!(file.file_name.ends_with(format.extension()));
        assert_eq!(file.content_type, format.content_type());
        if format != AttachmentFormat::Jsonl {
            assert!(!file.bytes.is_empty(), "{format}");
        }
    }
}

#[test]
fn ten_thousand_findings_generate_in_every_format() {
    let ticket = many_findings(10_000);
    for format in [
        AttachmentFormat::Jsonl,
        AttachmentFormat::Csv,
        AttachmentFormat::Xlsx,
        AttachmentFormat::Pdf,
    ] {
        let file = generate_default(&ticket, format);
        assert!(file.bytes.len() < ADO_ATTACHMENT_LIMIT);
        if format == AttachmentFormat::Jsonl {
            assert_eq!(file.bytes.iter().filter(|b| **b == b'\n').count(), 10_000);
        }
    }
}
