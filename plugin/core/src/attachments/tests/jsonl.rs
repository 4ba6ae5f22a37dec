use super::*;

#[test]
fn jsonl_has_one_typed_object_per_finding_in_severity_order() {
    let file = generate(
        &hostile_ticket(),
        &typed_options(AttachmentFormat::Jsonl),
        &BTreeMap::new(),
        NOW,
    )
    .unwrap();
    let text = std::str::from_utf8(&file.bytes).unwrap();
    let lines: Vec<serde_json::Value> = text
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(lines.len(), 3);
    assert_eq!(lines[0]["severity"], "Critical");
    assert_eq!(lines[0]["title"], CJK);
    let typed = &lines[1];
    assert_eq!(typed["cvss"], 7.5);
    assert_eq!(typed["count"], -1);
    assert_eq!(typed["exploited"], true);
    assert_eq!(typed["first_seen"], "2026-11-20T09:30:00Z");
    assert_eq!(typed["cve"], serde_json::Value::Null);
    let low = &lines[2];
    assert_eq!(low["title"], "Comma, \"quoted\" and\nnewline");
    assert_eq!(low["component_name"], FORMULA);
    assert_eq!(low["description"], format!("{HEBREW} and {ARABIC}"));
    assert_eq!(
        low["sources"],
        serde_json::json!(["scanner-a", "scanner,b"])
    );
    let keys: Vec<&String> = low.as_object().unwrap().keys().collect();
    assert_eq!(keys.len(), 13);
    assert!(text.ends_with('\n') && !text.contains("\n\n"));
}
