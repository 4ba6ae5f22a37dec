//! Markdown → HTML for ADO's HTML fields (Description, Repro Steps), safe
//! for ticket text: raw HTML in the Markdown is shown as text, never passed
//! through, and links keep only `http`, `https` and `mailto` destinations.
//! Images become plain links, so a ticket cannot make the work item form
//! fetch a remote resource (a tracking pixel) when someone opens it.

use pulldown_cmark::{CodeBlockKind, CowStr, Event, LinkType, Options, Parser, Tag, TagEnd};

/// Link schemes kept; anything else (`javascript:`, `data:`, `vbscript:`,
/// relative paths) loses its link and keeps its text.
const SAFE_SCHEMES: &[&str] = &["http://", "https://", "mailto:"];

fn options() -> Options {
    Options::ENABLE_TABLES | Options::ENABLE_STRIKETHROUGH | Options::ENABLE_TASKLISTS
}

/// Whether a link destination may stay a link.
pub fn safe_url(url: &str) -> bool {
    let lower = url.trim().to_ascii_lowercase();
    SAFE_SCHEMES.iter().any(|s| lower.starts_with(s)) && !lower.chars().any(char::is_control)
}

/// Text for HTML content or a double-quoted attribute.
pub fn escape(s: &str) -> String {
    html_escape::encode_double_quoted_attribute(s).into_owned()
}

/// `text` as a link to `url`, or as plain text when the URL is not one
/// [`safe_url`] keeps: every URL the connector writes into HTML (comments,
/// close and reopen notes) passes the same check as Markdown links, so a
/// ticket URL of `javascript:...` never becomes a link.
pub fn link(url: &str, text: &str) -> String {
    if safe_url(url) {
        format!("<a href=\"{}\">{}</a>", escape(url.trim()), escape(text))
    } else {
        escape(text)
    }
}

/// The parser's events with raw HTML made text and unsafe links dropped.
fn safe_events<'a>(
    markdown: &'a str,
    rewrite_url: &'a dyn Fn(&str) -> String,
) -> impl Iterator<Item = Event<'a>> {
    let mut dropped_link = false;
    Parser::new_ext(markdown, options()).filter_map(move |event| match event {
        // Raw HTML is ticket text like any other: shown, not interpreted.
        Event::Html(s) | Event::InlineHtml(s) => Some(Event::Text(s)),
        Event::Start(Tag::HtmlBlock) => Some(Event::Start(Tag::Paragraph)),
        // The info string becomes an attribute (`class="language-..."`):
        // placeholders in it are filled here, as plain text the writer
        // escapes, never later where an inserted `"` would end the attribute.
        Event::Start(Tag::CodeBlock(CodeBlockKind::Fenced(info))) => Some(Event::Start(
            Tag::CodeBlock(CodeBlockKind::Fenced(CowStr::from(rewrite_url(&info)))),
        )),
        Event::End(TagEnd::HtmlBlock) => Some(Event::End(TagEnd::Paragraph)),
        Event::Start(Tag::Link {
            link_type,
            dest_url,
            title,
            id,
        })
        | Event::Start(Tag::Image {
            link_type,
            dest_url,
            title,
            id,
        }) => {
            let url = rewrite_url(&dest_url);
            if safe_url(&url) {
                dropped_link = false;
                let link_type = if link_type == LinkType::Email {
                    LinkType::Email
                } else {
                    LinkType::Inline
                };
                Some(Event::Start(Tag::Link {
                    link_type,
                    dest_url: CowStr::from(url),
                    title: CowStr::from(rewrite_url(&title)),
                    id,
                }))
            } else {
                dropped_link = true;
                None
            }
        }
        Event::End(TagEnd::Link) | Event::End(TagEnd::Image) => {
            if std::mem::take(&mut dropped_link) {
                None
            } else {
                Some(Event::End(TagEnd::Link))
            }
        }
        other => Some(other),
    })
}

/// Renders Markdown to HTML. `rewrite_url` lets the caller fill link
/// destinations (template placeholders) before the scheme check.
pub fn to_html_with(markdown: &str, rewrite_url: &dyn Fn(&str) -> String) -> String {
    let mut html = String::with_capacity(markdown.len() * 3 / 2);
    pulldown_cmark::html::push_html(&mut html, safe_events(markdown, rewrite_url));
    html.trim_end().to_string()
}

/// Renders Markdown to phrasing content only, for a place where a block
/// cannot stand (inside a paragraph, a heading, a table cell): emphasis,
/// code and links stay; paragraphs, headings, list items and code lines
/// end with a line break instead of opening a block of their own.
pub fn to_inline_html(markdown: &str) -> String {
    let same = |u: &str| u.to_string();
    let mut in_code = false;
    let events = safe_events(markdown, &same).filter_map(|event| match event {
        Event::Start(Tag::CodeBlock(_)) => {
            in_code = true;
            None
        }
        Event::End(TagEnd::CodeBlock) => {
            in_code = false;
            Some(Event::HardBreak)
        }
        Event::Text(t) if in_code => Some(Event::Code(t)),
        Event::Start(Tag::Item) => Some(Event::Text(CowStr::Borrowed("• "))),
        Event::Start(
            Tag::Paragraph
            | Tag::Heading { .. }
            | Tag::BlockQuote(_)
            | Tag::List(_)
            | Tag::Table(_)
            | Tag::TableHead
            | Tag::TableRow
            | Tag::TableCell
            | Tag::FootnoteDefinition(_)
            | Tag::DefinitionList
            | Tag::DefinitionListTitle
            | Tag::DefinitionListDefinition
            | Tag::MetadataBlock(_)
            | Tag::HtmlBlock,
        ) => None,
        Event::End(
            TagEnd::Paragraph
            | TagEnd::Heading(_)
            | TagEnd::Item
            | TagEnd::TableHead
            | TagEnd::TableRow
            | TagEnd::DefinitionListTitle
            | TagEnd::DefinitionListDefinition,
        )
        | Event::Rule => Some(Event::HardBreak),
        Event::End(TagEnd::TableCell) => Some(Event::Text(CowStr::Borrowed(" "))),
        Event::End(
            TagEnd::BlockQuote(_)
            | TagEnd::List(_)
            | TagEnd::Table
            | TagEnd::FootnoteDefinition
            | TagEnd::DefinitionList
            | TagEnd::MetadataBlock(_)
            | TagEnd::HtmlBlock,
        ) => None,
        Event::TaskListMarker(done) => Some(Event::Text(CowStr::Borrowed(if done {
            "[x] "
        } else {
            "[ ] "
        }))),
        other => Some(other),
    });
    let mut html = String::with_capacity(markdown.len() * 3 / 2);
    pulldown_cmark::html::push_html(&mut html, events);
    let mut html = html.trim_end().to_string();
    while let Some(rest) = html.strip_suffix("<br />") {
        html = rest.trim_end().to_string();
    }
    html
}

/// Renders Markdown to HTML.
pub fn to_html(markdown: &str) -> String {
    to_html_with(markdown, &|u| u.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn renders_common_markdown() {
        let html = to_html("# Fix\n\n**now** and `code`\n\n| a | b |\n|---|---|\n| 1 | 2 |");
        assert!(
            html.contains("<h1>Fix</h1>")
                && html.contains("<strong>now</strong>")
                && html.contains("<table>"),
            "{html}"
        );
    }

    #[test]
    fn raw_html_is_shown_as_text_not_passed_through() {
        let html = to_html("<script>alert(1)</script>\n\nhi <img src=x onerror=alert(1)>");
        assert!(
            !html.contains("<script>") && !html.contains("<img"),
            "{html}"
        );
        assert!(
            html.contains("&lt;script&gt;alert(1)&lt;/script&gt;"),
            "{html}"
        );
    }

    #[test]
    fn javascript_links_lose_their_link_but_keep_their_text() {
        let html = to_html("[click](javascript:alert(1)) and [ok](https://example.com/a?b=\"c\")");
        assert!(!html.contains("javascript"), "{html}");
        assert!(
            html.contains("click")
                && html.contains(r#"<a href="https://example.com/a?b=%22c%22">ok</a>"#),
            "{html}"
        );
    }

    #[test]
    fn images_become_links() {
        let html = to_html("![pixel](https://tracker.example/p.gif)");
        assert!(
            !html.contains("<img")
                && html.contains(r#"<a href="https://tracker.example/p.gif">pixel</a>"#),
            "{html}"
        );
    }
}
