use super::*;

fn read(bytes: &[u8]) -> Vec<Vec<String>> {
    let body = bytes
        .strip_prefix(b"\xEF\xBB\xBF")
        .expect("a UTF-8 byte order mark");
    ::csv::ReaderBuilder::new()
        .has_headers(false)
        .from_reader(body)
        .records()
        .map(|r| r.unwrap().iter().map(str::to_string).collect())
        .collect()
}

#[test]
fn csv_reads_back_every_cell_with_commas_quotes_newlines_rtl_and_cjk_intact() {
    let file = generate_default(&hostile_ticket(), AttachmentFormat::Csv);
    let rows = read(&file.bytes);
    assert_eq!(rows[0], DEFAULT_COLUMNS);
    assert_eq!(rows.len(), 4);
    // Sorted: Critical, medium, Low.
    assert_eq!(rows[1][..3], ["Critical", CJK, "CVE-2026-1234"]);
    assert_eq!(rows[1][4], KOREAN);
    assert_eq!(rows[1][7], "Tab\there; CRLF\r\nline");
    assert_eq!(rows[2][0..2], ["medium", "Typed values"]);
    let low = &rows[3];
    assert_eq!(low[1], "Comma, \"quoted\" and\nnewline");
    assert_eq!(low[7], format!("{HEBREW} and {ARABIC}"));
    assert_eq!(low[8], "scanner-a; scanner,b");
}

#[test]
fn csv_neutralises_cells_that_a_spreadsheet_would_run_as_formulas() {
    let file = generate_default(&hostile_ticket(), AttachmentFormat::Csv);
    let low = &read(&file.bytes)[3];
    assert_eq!(low[3], format!("'{FORMULA}"));
    assert_eq!(low[4], "'+1");
    assert_eq!(low[5], "'-1");
    assert_eq!(low[6], "'@SUM(A1)");
    for cell in read(&file.bytes).iter().flatten() {
        assert!(
            !matches!(
                cell.chars().next(),
                Some('=' | '+' | '-' | '@' | '\t' | '\r')
            ),
            "{cell:?}"
        );
    }
}

#[test]
fn csv_keeps_typed_numbers_as_numbers_even_when_negative() {
    let file = generate(
        &hostile_ticket(),
        &typed_options(AttachmentFormat::Csv),
        &BTreeMap::new(),
        NOW,
    )
    .unwrap();
    let rows = read(&file.bytes);
    assert_eq!(
        rows[0][9..],
        ["Finding CVSS", "Count", "Exploited", "First Seen"]
    );
    assert_eq!(rows[2][9..], ["7.5", "-1", "true", "2026-11-20T09:30:00Z"]);
}

#[test]
fn csv_is_rfc_4180_crlf_records_with_only_needed_quotes() {
    let file = generate_default(&hostile_ticket(), AttachmentFormat::Csv);
    let text = std::str::from_utf8(&file.bytes[3..]).unwrap();
    assert!(text.starts_with("Finding Severity,Finding Title,Finding CVE,"));
    assert!(
        text.contains("\r\nCritical,漏洞修复建议,CVE-2026-1234,"),
        "{text}"
    );
    assert!(
        text.contains("\"Comma, \"\"quoted\"\" and\nnewline\""),
        "{text}"
    );
    assert!(text.ends_with("\r\n"));
    assert_eq!(file.content_type, "text/csv; charset=utf-8");
}
