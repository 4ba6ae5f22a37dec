use serde_json::json;

use super::*;

fn render(text: &str, ctx: &Value, format: Format, output: Output) -> String {
    Template::parse(text, &BTreeMap::new())
        .unwrap()
        .render(ctx, format, output)
        .unwrap()
}

fn ticket() -> Value {
    json!({
        "id": "SEC-1", "url": "https://secops.example/t/SEC-1",
        "title": "<script>alert(1)</script> in {{title}} }}", "assignee": "jamal@contoso.example",
        "severity": "critical", "tags": ["pci", "web"], "due_date": "2026-12-01T09:30:00Z",
        "findings": [
            {"id": "F-1", "status": "open", "title": "SQLi | union", "cve": "CVE-2026-1"},
            {"id": "F-2", "status": "fixed", "title": "XSS"}
        ]
    })
}

#[test]
fn labels_and_system_names_fill_placeholders() {
    let out = render(
        "{{Ticket Assignee}} / {{assignee}} / {{Ticket ID}}",
        &ticket(),
        Format::Text,
        Output::Plain,
    );
    assert_eq!(out, "jamal@contoso.example / jamal@contoso.example / SEC-1");
}

#[test]
fn braces_in_values_are_never_read_as_template_syntax() {
    let out = render("[{{title}}]", &ticket(), Format::Text, Output::Plain);
    assert_eq!(out, "[<script>alert(1)</script> in {{title}} }}]");
}

#[test]
fn html_targets_escape_every_value() {
    let out = render(
        "Title: {{title}}\nok",
        &ticket(),
        Format::Text,
        Output::Html,
    );
    assert_eq!(
        out,
        "Title: &lt;script&gt;alert(1)&lt;/script&gt; in {{title}} }}<br/>ok"
    );
}

#[test]
fn markdown_templates_render_tables_without_values_breaking_cells() {
    let text = "| ID | Title | CVE |\n|---|---|---|\n{{#each findings}}| {{id}} | {{title}} | {{cve | default:\"–\"}} |\n{{/each}}";
    let html = render(text, &ticket(), Format::Markdown, Output::Html);
    assert!(html.contains("<td>SQLi | union</td>"), "{html}");
    assert!(
        html.contains("<td>F-2</td>") && html.contains("<td>–</td>"),
        "{html}"
    );
}

#[test]
fn markdown_values_cannot_inject_html_or_links() {
    let ctx = json!({"title": "<img src=x onerror=alert(1)> [x](javascript:alert(1))", "url": "javascript:alert(1)"});
    let html = render(
        "# {{title}}\n\n[open]({{url}})",
        &ctx,
        Format::Markdown,
        Output::Html,
    );
    assert!(
        !html.contains("<img") && !html.contains("href=\"javascript"),
        "{html}"
    );
    assert!(
        html.contains("&lt;img src=x onerror=alert(1)&gt;"),
        "{html}"
    );
}

#[test]
fn the_markdown_filter_renders_ticket_markdown_safely() {
    let ctx = json!({"description": "**bold** <b>raw</b>\n\n[ok](https://example.com)"});
    let html = render(
        "{{description | markdown}}",
        &ctx,
        Format::Markdown,
        Output::Html,
    );
    assert!(
        html.contains("<strong>bold</strong>")
            && html.contains("&lt;b&gt;raw&lt;/b&gt;")
            && html.contains("href=\"https://example.com\""),
        "{html}"
    );
}

#[test]
fn links_to_the_ticket_use_the_value_as_url() {
    let html = render(
        "[{{id}}]({{url}})",
        &ticket(),
        Format::Markdown,
        Output::Html,
    );
    assert!(
        html.contains(r#"<a href="https://secops.example/t/SEC-1">SEC-1</a>"#),
        "{html}"
    );
}

#[test]
fn filters_format_dates_case_lists_and_defaults() {
    let out = render(
        "{{due_date | date}} {{due_date | date:\"[day].[month].[year] [hour]:[minute]\"}} {{severity | upper}} {{tags | join:\" + \"}} {{missing | default:\"n/a\"}} {{findings | count}} {{title | truncate:8}}",
        &ticket(),
        Format::Text,
        Output::Plain,
    );
    assert_eq!(
        out,
        "2026-12-01 01.12.2026 09:30 CRITICAL pci + web n/a 2 <script>…"
    );
}

#[test]
fn each_iterates_with_index_and_falls_back_to_else() {
    let out = render(
        "{{#each findings}}{{@number}}. {{id}} ({{ticket.id}}) {{/each}}",
        &ticket(),
        Format::Text,
        Output::Plain,
    );
    assert_eq!(out, "1. F-1 (SEC-1) 2. F-2 (SEC-1) ");
    let out = render(
        "{{#each nothing}}x{{else}}none{{/each}}",
        &ticket(),
        Format::Text,
        Output::Plain,
    );
    assert_eq!(out, "none");
}

#[test]
fn a_wrong_date_is_an_error_naming_the_value() {
    let err = Template::parse("{{due_date | date}}", &BTreeMap::new())
        .unwrap()
        .render(
            &json!({"due_date": "next tuesday"}),
            Format::Text,
            Output::Plain,
        )
        .unwrap_err();
    assert_eq!(err.rule, "date");
    assert!(err.message.contains("`next tuesday`"), "{err}");
}

#[test]
fn parse_errors_are_located() {
    let err = Template::parse("ok\nthen {{title", &BTreeMap::new()).unwrap_err();
    assert_eq!(err.at, Some((2, 6)));
    assert!(
        Template::parse("{{title | shout}}", &BTreeMap::new())
            .unwrap_err()
            .message
            .contains("unknown filter `shout`")
    );
    assert!(Template::parse("{{#each findings}}x", &BTreeMap::new()).is_err());
    assert!(Template::parse("{{/each}}", &BTreeMap::new()).is_err());
    assert!(Template::parse("{{d | date:\"[nonsense]\"}}", &BTreeMap::new()).is_err());
}

#[test]
fn escaped_braces_are_literal() {
    assert_eq!(
        render("\\{{title}}", &ticket(), Format::Text, Output::Plain),
        "{{title}}"
    );
}

#[test]
fn output_is_bounded() {
    let many: Vec<Value> = (0..5000)
        .map(|i| json!({"id": i, "title": "x".repeat(100)}))
        .collect();
    let err = Template::parse("{{#each findings}}{{title}}{{/each}}", &BTreeMap::new())
        .unwrap()
        .render(&json!({"findings": many}), Format::Text, Output::Plain)
        .unwrap_err();
    assert_eq!(err.rule, "too-long");
}

#[test]
fn forged_markers_in_values_are_removed() {
    let ctx = json!({"a": "\u{E000}0\u{E001}", "b": "B"});
    assert_eq!(
        render("{{a}}{{b}}", &ctx, Format::Markdown, Output::Html),
        "<p>0B</p>"
    );
}

#[test]
fn a_value_in_a_code_fence_info_string_cannot_leave_its_attribute() {
    // Found by fuzzing (fuzz/corpus/template/code-info-*.bin): the value was
    // inserted after rendering, unescaped quotes and all, into
    // `class="language-..."`.
    let ctx = json!({"lang": "x\" onmouseover=\"alert(1)", "description": "[a](https://a.example/ \"t\")"});
    for text in [
        "~~~{{lang}}\ncode\n~~~",
        "~~~{{description | markdown}}\ncode\n~~~",
    ] {
        let html = render(text, &ctx, Format::Markdown, Output::Html);
        assert!(
            !html.contains("\" onmouseover") && !html.contains("<a") && !html.contains("<p>"),
            "{html}"
        );
        assert!(html.starts_with("<pre><code class=\"language-"), "{html}");
    }
}

/// Block elements a `<p>` may not contain.
const BLOCKS: &str = "p, div, ul, ol, li, table, h1, h2, h3, h4, h5, h6, pre, blockquote, hr";

/// Parses `html` as a browser does (html5ever) and checks it is well formed:
/// no parse error (a stray `</p>` is one), no block element inside a `<p>`,
/// and no empty `<p>` (what a parser makes of `<p><p>x</p></p>`).
fn assert_well_formed(html: &str) -> scraper::Html {
    let doc = scraper::Html::parse_fragment(html);
    assert!(doc.errors.is_empty(), "{:?} in {html}", doc.errors);
    let p = scraper::Selector::parse("p").unwrap();
    let blocks = scraper::Selector::parse(BLOCKS).unwrap();
    for para in doc.select(&p) {
        assert!(
            para.select(&blocks).next().is_none(),
            "a block inside <p>: {}",
            para.html()
        );
        assert!(
            !para.text().collect::<String>().trim().is_empty(),
            "an empty <p> in {html}"
        );
    }
    doc
}

fn rich_ticket() -> Value {
    json!({
        "id": "SEC-1", "url": "https://secops.example/t/SEC-1",
        "description": "Seen on **edge-1**.\n\n- step one\n- step two\n\n## Impact\n\nTakeover.",
        "short": "only *one* paragraph",
    })
}

#[test]
fn a_markdown_value_alone_on_its_line_in_a_markdown_template_is_not_wrapped_in_a_paragraph() {
    let html = render(
        "{{description | markdown}}\n\n**SecOps ticket [{{id}}]({{url}})**",
        &rich_ticket(),
        Format::Markdown,
        Output::Html,
    );
    let doc = assert_well_formed(&html);
    let names: Vec<&str> = doc
        .root_element()
        .child_elements()
        .map(|e| e.value().name())
        .collect();
    assert_eq!(names, ["p", "ul", "h2", "p", "p"], "{html}");
    let strong = scraper::Selector::parse("p > strong").unwrap();
    assert_eq!(
        doc.select(&strong)
            .next()
            .unwrap()
            .text()
            .collect::<String>(),
        "edge-1"
    );
}

#[test]
fn a_markdown_value_inside_a_sentence_or_heading_renders_inline() {
    for template in [
        "Summary: {{description | markdown}} (from SecOps)",
        "## {{description | markdown}}",
        "> {{description | markdown}}",
        "- {{short | markdown}}\n- {{description | markdown}}",
        "| a | b |\n|---|---|\n| {{description | markdown}} | {{short | markdown}} |",
    ] {
        let html = render(template, &rich_ticket(), Format::Markdown, Output::Html);
        let doc = assert_well_formed(&html);
        let em = scraper::Selector::parse("em, strong").unwrap();
        assert!(doc.select(&em).next().is_some(), "emphasis kept: {html}");
    }
}

#[test]
fn a_markdown_value_in_a_text_template_stays_well_formed() {
    let html = render(
        "Found:\n{{description | markdown}}\nEnd <of> text",
        &rich_ticket(),
        Format::Text,
        Output::Html,
    );
    assert_well_formed(&html);
}

#[test]
fn the_example_agile_bug_repro_steps_render_well_formed_html() {
    let config: Value = serde_json::from_str(
        &std::fs::read_to_string(concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/../../examples/outegrations/agile-bug.json"
        ))
        .unwrap(),
    )
    .unwrap();
    let rule = config["dispatch"]
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["target"] == "Microsoft.VSTS.TCM.ReproSteps")
        .expect("the example maps Repro Steps");
    let mut ctx = rich_ticket();
    ctx["findings"] = json!([{"id": "F-1", "title": "SQLi", "status": "open"}]);
    let html = render(
        rule["template"].as_str().unwrap(),
        &ctx,
        Format::Markdown,
        Output::Html,
    );
    let doc = assert_well_formed(&html);
    let cells = scraper::Selector::parse("table td").unwrap();
    assert!(
        doc.select(&cells).any(|c| c.text().any(|t| t == "SQLi")),
        "{html}"
    );
}
