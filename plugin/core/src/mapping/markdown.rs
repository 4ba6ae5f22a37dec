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

/// Renders Markdown to HTML. `rewrite_url` lets the caller fill link
/// destinations (template placeholders) before the scheme check.
pub fn to_html_with(markdown: &str, rewrite_url: &dyn Fn(&str) -> String) -> String {
    let mut dropped_link = false;
    let events = Parser::new_ext(markdown, options()).filter_map(|event| match event {
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
    });
    let mut html = String::with_capacity(markdown.len() * 3 / 2);
    pulldown_cmark::html::push_html(&mut html, events);
    html.trim_end().to_string()
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
