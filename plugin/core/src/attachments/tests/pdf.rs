use super::*;

fn squash(text: &str) -> String {
    text.chars().filter(|c| !c.is_whitespace()).collect()
}

fn pages(bytes: &[u8]) -> Vec<String> {
    pdf_extract::extract_text_from_mem_by_pages(bytes).expect("pdf-extract reads the report")
}

fn reversed(text: &str) -> String {
    text.chars().rev().collect()
}

#[test]
fn pdf_text_has_the_title_summary_headers_and_every_cell_including_hostile_and_cjk_values() {
    let file = generate_default(&hostile_ticket(), AttachmentFormat::Pdf);
    assert!(file.bytes.starts_with(b"%PDF-"));
    let text = pages(&file.bytes).concat();
    let all = squash(&text);
    for expected in [
        "Findings of ticket SEC-101",
        "SQL injection in orders-api",
        "Severity: CRITICAL",
        "Ticket: https://secops.example/tickets/SEC-101",
        "Findings: 3 (Critical 1, Medium 1, Low 1)",
        "Generated: 2026-11-20 09:30 UTC",
        "Asset Operating System",
        "Finding Optimal Fix",
        "Comma, \"quoted\" and\nnewline",
        FORMULA,
        "+1",
        "@SUM(A1)",
        "scanner-a; scanner,b",
        CJK,
        KOREAN,
        "Upgrade libfoo to 2.0",
        "CVE-2026-1234",
    ] {
        assert!(
            all.contains(&squash(expected)),
            "{expected:?} missing from:\n{text}"
        );
    }
}

#[test]
fn pdf_draws_hebrew_and_arabic_right_to_left_with_extractable_letters() {
    let file = generate_default(&hostile_ticket(), AttachmentFormat::Pdf);
    let all = squash(&pages(&file.bytes).concat());
    // Visual order, left to right on the page: each right-to-left word reversed.
    for word in ["שלום", "עולם", ARABIC] {
        assert!(
            all.contains(&reversed(word)),
            "{word} (drawn as {}) missing from {all}",
            reversed(word)
        );
    }
}

#[test]
fn pdf_with_many_long_findings_spans_pages_and_repeats_the_header_row() {
    let file = generate_default(&many_findings(80), AttachmentFormat::Pdf);
    let pages = pages(&file.bytes);
    assert!(pages.len() >= 4, "{} pages", pages.len());
    for (i, page) in pages.iter().enumerate() {
        assert!(
            squash(page).contains("FindingSeverity"),
            "page {i} lacks the header row"
        );
        assert!(
            squash(page).contains(&format!("page{}", i + 1)),
            "page {i} lacks its number"
        );
    }
    let all = squash(&pages.concat());
    for i in [0, 41, 79] {
        assert!(
            all.contains(&format!("host-{i}.example")),
            "finding {i} missing"
        );
    }
    // Critical first: the first finding drawn is a Critical one (every sixth, from 4).
    let first = all.find("Findingnumber").unwrap();
    assert!(
        all[first..].starts_with("Findingnumber4"),
        "{}",
        &all[first..first + 20]
    );
}

#[test]
fn pdf_splits_a_row_taller_than_a_page_across_pages() {
    let huge = "word ".repeat(12_000);
    let ticket = ticket_with(vec![finding(
        "F-1",
        "High",
        "Huge",
        vec![("description", text(&format!("{huge}THE-END")))],
    )]);
    let file = generate_default(&ticket, AttachmentFormat::Pdf);
    let pages = pages(&file.bytes);
    assert!(pages.len() >= 3, "{} pages", pages.len());
    assert!(squash(pages.last().unwrap()).contains("THE-END"));
}

#[test]
fn pdf_embeds_only_the_glyphs_it_uses() {
    let file = generate_default(&hostile_ticket(), AttachmentFormat::Pdf);
    // The two fonts are 4.2 MB whole; subsets of a few dozen glyphs are small.
    assert!(file.bytes.len() < 120_000, "{} bytes", file.bytes.len());
    let raw = String::from_utf8_lossy(&file.bytes);
    assert!(
        raw.contains("/ToUnicode")
            && raw.contains("/FontFile2")
            && raw.contains("+DejaVuSans")
            && raw.contains("+DroidSansFallback")
    );
}
