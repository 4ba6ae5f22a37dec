//! Smart Text: free text with `{{placeholders}}`, `{{#each list}}` blocks
//! and a few filters, rendered against a JSON context (the ticket with its
//! findings, or a work item's fields).
//!
//! Placeholders are parsed once, so text inside a value is never read as
//! template syntax: a ticket title containing `{{` or `}}` is just text.
//! For HTML targets every inserted value is HTML-escaped; Markdown templates
//! are rendered with placeholders standing in as inert tokens, so a value can
//! neither become markup nor break the Markdown around it (a `|` in a
//! findings table cell stays in its cell).

use std::collections::BTreeMap;

use serde_json::Value;

use super::{labels, markdown};

/// Largest text a template may produce; ADO's HTML fields hold about 1 MB
/// and a runaway `#each` must not exhaust the component's memory first.
pub const MAX_OUTPUT: usize = 256 * 1024;

/// How the template text itself is written.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    /// Plain text; line breaks are kept.
    Text,
    /// Markdown, rendered to HTML for HTML targets.
    Markdown,
}

/// What the rendered text is for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Output {
    /// A plain-text field: values are inserted as they are.
    Plain,
    /// An HTML field: everything ticket-side is escaped.
    Html,
}

/// A template that does not parse, or a value it cannot render.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TemplateError {
    /// 1-based line and column in the template, when the error has a place.
    pub at: Option<(usize, usize)>,
    pub rule: &'static str,
    pub message: String,
}

impl std::fmt::Display for TemplateError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self.at {
            Some((line, column)) => write!(f, "line {line}, column {column}: {}", self.message),
            None => f.write_str(&self.message),
        }
    }
}

#[derive(Debug, Clone, PartialEq)]
enum Filter {
    Upper,
    Lower,
    Date(String),
    Join(String),
    Default(String),
    Truncate(usize),
    Count,
    Markdown,
}

#[derive(Debug, Clone, PartialEq)]
struct Expr {
    path: String,
    filters: Vec<Filter>,
    source: String,
}

#[derive(Debug, Clone, PartialEq)]
enum Node {
    Text(String),
    Var(Expr),
    Each {
        path: String,
        body: Vec<Node>,
        otherwise: Vec<Node>,
    },
}

/// A parsed template.
#[derive(Debug, Clone, PartialEq)]
pub struct Template {
    nodes: Vec<Node>,
}

/// An `{{#each}}` block being parsed.
struct Open {
    path: String,
    body: Vec<Node>,
    otherwise: Vec<Node>,
    in_else: bool,
    offset: usize,
}

fn push(stack: &mut [Open], top: &mut Vec<Node>, node: Node) {
    match stack.last_mut() {
        Some(block) if block.in_else => block.otherwise.push(node),
        Some(block) => block.body.push(node),
        None => top.push(node),
    }
}

const DEFAULT_DATE: &str = "[year]-[month]-[day]";

fn position(text: &str, offset: usize) -> (usize, usize) {
    let before = &text[..offset.min(text.len())];
    let line = before.matches('\n').count() + 1;
    let column = before
        .rsplit('\n')
        .next()
        .map(|l| l.chars().count())
        .unwrap_or(0)
        + 1;
    (line, column)
}

impl Template {
    /// Parses `text`; `labels` adds the config's own label → name pairs.
    pub fn parse(text: &str, labels: &BTreeMap<String, String>) -> Result<Template, TemplateError> {
        let err = |offset: usize, message: String| TemplateError {
            at: Some(position(text, offset)),
            rule: "template",
            message,
        };
        let mut stack: Vec<Open> = Vec::new();
        let mut top: Vec<Node> = Vec::new();
        let mut literal = String::new();
        let mut rest = text;
        let mut offset = 0;
        while let Some(i) = rest.find("{{") {
            if rest[..i].ends_with('\\') {
                literal.push_str(&rest[..i - 1]);
                literal.push_str("{{");
                offset += i + 2;
                rest = &rest[i + 2..];
                continue;
            }
            literal.push_str(&rest[..i]);
            let open = offset + i;
            let Some(j) = rest[i + 2..].find("}}") else {
                return Err(err(
                    open,
                    "`{{` is never closed by `}}` (write `\\{{` for a literal `{{`)".into(),
                ));
            };
            let inner = rest[i + 2..i + 2 + j].trim();
            if !literal.is_empty() {
                push(
                    &mut stack,
                    &mut top,
                    Node::Text(std::mem::take(&mut literal)),
                );
            }
            if let Some(path) = inner.strip_prefix("#each") {
                let path = path.trim();
                if path.is_empty() {
                    return Err(err(
                        open,
                        "`{{#each}}` needs a list, e.g. `{{#each findings}}`".into(),
                    ));
                }
                stack.push(Open {
                    path: name_of(path, labels),
                    body: Vec::new(),
                    otherwise: Vec::new(),
                    in_else: false,
                    offset: open,
                });
            } else if inner == "/each" {
                let Some(Open {
                    path,
                    body,
                    otherwise,
                    ..
                }) = stack.pop()
                else {
                    return Err(err(open, "`{{/each}}` without an open `{{#each}}`".into()));
                };
                push(
                    &mut stack,
                    &mut top,
                    Node::Each {
                        path,
                        body,
                        otherwise,
                    },
                );
            } else if inner == "else" {
                match stack.last_mut() {
                    Some(block) if !block.in_else => block.in_else = true,
                    _ => return Err(err(open, "`{{else}}` outside an `{{#each}}` block".into())),
                }
            } else {
                let expr = parse_expr(inner, labels).map_err(|m| err(open, m))?;
                push(&mut stack, &mut top, Node::Var(expr));
            }
            offset += i + 2 + j + 2;
            rest = &rest[i + 2 + j + 2..];
        }
        if let Some(Open { path, offset, .. }) = stack.last() {
            return Err(err(
                *offset,
                format!("`{{{{#each {path}}}}}` is never closed by `{{{{/each}}}}`"),
            ));
        }
        literal.push_str(rest);
        if !literal.is_empty() {
            top.push(Node::Text(literal));
        }
        Ok(Template { nodes: top })
    }

    /// Renders against `context` (a JSON object) for an `output` field.
    pub fn render(
        &self,
        context: &Value,
        format: Format,
        output: Output,
    ) -> Result<String, TemplateError> {
        let mut pieces = Vec::new();
        let mut size = 0;
        render_nodes(&self.nodes, &[context], None, &mut pieces, &mut size)?;
        Ok(finish(pieces, format, output))
    }
}

fn name_of(path: &str, labels: &BTreeMap<String, String>) -> String {
    if labels::is_label(path) {
        labels::resolve(path, labels)
    } else {
        path.to_string()
    }
}

fn parse_expr(inner: &str, labels: &BTreeMap<String, String>) -> Result<Expr, String> {
    if inner.is_empty() {
        return Err("empty placeholder `{{}}`".into());
    }
    let mut parts = split_filters(inner)?.into_iter();
    let path = parts.next().unwrap_or_default();
    if path.is_empty() {
        return Err(format!("`{{{{{inner}}}}}` names no field"));
    }
    if path.starts_with('#') || path.starts_with('/') {
        return Err(format!(
            "`{{{{{inner}}}}}` is not a block this template language knows (only `#each`)"
        ));
    }
    let mut filters = Vec::new();
    for part in parts {
        let (name, arg) = match part.split_once(':') {
            Some((n, a)) => (n.trim(), Some(unquote(a.trim())?)),
            None => (part.trim(), None),
        };
        filters.push(match (name, arg) {
            ("upper", None) => Filter::Upper,
            ("lower", None) => Filter::Lower,
            ("count", None) => Filter::Count,
            ("markdown", None) => Filter::Markdown,
            ("date", fmt) => {
                let fmt = fmt.unwrap_or_else(|| DEFAULT_DATE.into());
                time::format_description::parse_owned::<2>(&fmt)
                    .map_err(|e| format!("`{fmt}` is not a date format (e.g. `[year]-[month]-[day] [hour]:[minute]`): {e}"))?;
                Filter::Date(fmt)
            }
            ("join", sep) => Filter::Join(sep.unwrap_or_else(|| ", ".into())),
            ("default", Some(text)) => Filter::Default(text),
            ("truncate", Some(n)) => Filter::Truncate(n.parse().map_err(|_| format!("`truncate:{n}` needs a whole number of characters"))?),
            ("default" | "truncate", None) => return Err(format!("the `{name}` filter needs an argument, e.g. `{name}:\"...\"`")),
            (other, _) => {
                return Err(format!("unknown filter `{other}`; filters: upper, lower, date, join, default, truncate, count, markdown"));
            }
        });
    }
    Ok(Expr {
        path: name_of(&path, labels),
        filters,
        source: inner.to_string(),
    })
}

/// Splits on `|` outside double quotes.
fn split_filters(inner: &str) -> Result<Vec<String>, String> {
    let mut parts = vec![String::new()];
    let mut quoted = false;
    let mut escaped = false;
    for c in inner.chars() {
        match c {
            _ if escaped => {
                escaped = false;
                parts.last_mut().unwrap_or(&mut String::new()).push(c);
                continue;
            }
            '\\' if quoted => escaped = true,
            '"' => quoted = !quoted,
            '|' if !quoted => {
                parts.push(String::new());
                continue;
            }
            _ => {}
        }
        if let Some(p) = parts.last_mut() {
            p.push(c);
        }
    }
    if quoted {
        return Err(format!("unclosed quote in `{{{{{inner}}}}}`"));
    }
    Ok(parts.into_iter().map(|p| p.trim().to_string()).collect())
}

fn unquote(arg: &str) -> Result<String, String> {
    match arg.strip_prefix('"') {
        Some(rest) => rest
            .strip_suffix('"')
            .map(|s| s.replace("\\\"", "\"").replace("\\\\", "\\"))
            .ok_or_else(|| format!("unclosed quote in `{arg}`")),
        None => Ok(arg.to_string()),
    }
}

/// One rendered piece: template text, or a value with how to insert it.
enum Piece {
    Literal(String),
    Value { text: String, markdown: bool },
}

fn lookup(scopes: &[&Value], path: &str, index: Option<usize>) -> Value {
    match path {
        "@index" => return index.map(Value::from).unwrap_or(Value::Null),
        "@number" => return index.map(|i| Value::from(i + 1)).unwrap_or(Value::Null),
        _ => {}
    }
    let (scopes, path): (&[&Value], &str) = if let Some(rest) = path.strip_prefix("ticket.") {
        (&scopes[..1], rest)
    } else if let Some(rest) = path.strip_prefix("finding.").filter(|_| scopes.len() > 1) {
        (&scopes[scopes.len() - 1..], rest)
    } else {
        (scopes, path)
    };
    for scope in scopes.iter().rev() {
        // Whole-name match first: ADO reference names contain dots.
        if let Some(v) = scope.get(path) {
            return v.clone();
        }
        let mut parts = path.split('.');
        let mut node = parts.next().and_then(|p| scope.get(p));
        for p in parts {
            node = node.and_then(|n| n.get(p));
        }
        if let Some(v) = node {
            return v.clone();
        }
    }
    Value::Null
}

/// A JSON value the way a person reads it.
pub fn display(v: &Value) -> String {
    match v {
        Value::Null => String::new(),
        Value::String(s) => s.clone(),
        Value::Array(items) => items.iter().map(display).collect::<Vec<_>>().join("; "),
        Value::Object(o) => o
            .get("displayName")
            .or_else(|| o.get("uniqueName"))
            .and_then(Value::as_str)
            .map(str::to_string)
            .unwrap_or_else(|| v.to_string()),
        other => other.to_string(),
    }
}

fn is_blank(v: &Value) -> bool {
    match v {
        Value::Null => true,
        Value::String(s) => s.trim().is_empty(),
        Value::Array(a) => a.is_empty(),
        _ => false,
    }
}

fn apply_filters(expr: &Expr, mut value: Value) -> Result<(String, bool), TemplateError> {
    let mut markdown = false;
    let fail = |rule: &'static str, message: String| TemplateError {
        at: None,
        rule,
        message,
    };
    for filter in &expr.filters {
        value = match filter {
            Filter::Upper => Value::String(display(&value).to_uppercase()),
            Filter::Lower => Value::String(display(&value).to_lowercase()),
            Filter::Count => Value::from(match &value {
                Value::Array(a) => a.len(),
                Value::Null => 0,
                _ => 1,
            }),
            Filter::Markdown => {
                markdown = true;
                value
            }
            Filter::Join(sep) => match &value {
                Value::Array(items) => {
                    Value::String(items.iter().map(display).collect::<Vec<_>>().join(sep))
                }
                other => Value::String(display(other)),
            },
            Filter::Default(text) if is_blank(&value) => Value::String(text.clone()),
            Filter::Default(_) => value,
            Filter::Truncate(n) => {
                let text = display(&value);
                if text.chars().count() > *n {
                    Value::String(text.chars().take(*n).chain(std::iter::once('…')).collect())
                } else {
                    Value::String(text)
                }
            }
            Filter::Date(_) if is_blank(&value) => value,
            Filter::Date(fmt) => {
                let text = display(&value);
                let parsed = time::OffsetDateTime::parse(text.trim(), &time::format_description::well_known::Rfc3339).map_err(|_| {
                    fail("date", format!("`{{{{{}}}}}`: `{text}` is not an RFC 3339 date-time (e.g. 2026-12-01T00:00:00Z)", expr.source))
                })?;
                let items = time::format_description::parse_owned::<2>(fmt)
                    .map_err(|e| fail("date", e.to_string()))?;
                Value::String(
                    parsed
                        .format(&items)
                        .map_err(|e| fail("date", format!("`{{{{{}}}}}`: {e}", expr.source)))?,
                )
            }
        };
    }
    Ok((display(&value), markdown))
}

fn render_nodes(
    nodes: &[Node],
    scopes: &[&Value],
    index: Option<usize>,
    out: &mut Vec<Piece>,
    size: &mut usize,
) -> Result<(), TemplateError> {
    let grow = |n: usize, size: &mut usize| {
        *size += n;
        if *size > MAX_OUTPUT {
            Err(TemplateError {
                at: None,
                rule: "too-long",
                message: format!("the rendered text exceeds {MAX_OUTPUT} bytes"),
            })
        } else {
            Ok(())
        }
    };
    for node in nodes {
        match node {
            Node::Text(t) => {
                grow(t.len(), size)?;
                out.push(Piece::Literal(t.clone()));
            }
            Node::Var(expr) => {
                let value = lookup(scopes, &expr.path, index);
                let (text, markdown) = apply_filters(expr, value)?;
                grow(text.len(), size)?;
                out.push(Piece::Value { text, markdown });
            }
            Node::Each {
                path,
                body,
                otherwise,
            } => {
                let list = lookup(scopes, path, index);
                let items: Vec<Value> = match list {
                    Value::Array(items) => items,
                    Value::Null => Vec::new(),
                    one => vec![one],
                };
                if items.is_empty() {
                    render_nodes(otherwise, scopes, index, out, size)?;
                }
                for (i, item) in items.iter().enumerate() {
                    let mut inner: Vec<&Value> = scopes.to_vec();
                    inner.push(item);
                    render_nodes(body, &inner, Some(i), out, size)?;
                }
            }
        }
    }
    Ok(())
}

fn escape_html(text: &str) -> String {
    html_escape::encode_text(text).replace('\n', "<br/>")
}

/// Private-use code points mark where a value goes in Markdown; any in
/// ticket text are removed first so a value cannot forge a marker.
const MARK_OPEN: char = '\u{E000}';
const MARK_CLOSE: char = '\u{E001}';

fn strip_marks(text: &str) -> String {
    text.replace([MARK_OPEN, MARK_CLOSE], "")
}

fn finish(pieces: Vec<Piece>, format: Format, output: Output) -> String {
    match (output, format) {
        (Output::Plain, _) => pieces
            .into_iter()
            .map(|p| match p {
                Piece::Literal(t) | Piece::Value { text: t, .. } => t,
            })
            .collect(),
        (Output::Html, Format::Text) => pieces
            .into_iter()
            .map(|p| match p {
                Piece::Literal(t) => escape_html(&t),
                Piece::Value {
                    text,
                    markdown: true,
                } => markdown::to_html(&text),
                Piece::Value {
                    text,
                    markdown: false,
                } => escape_html(&text),
            })
            .collect(),
        (Output::Html, Format::Markdown) => {
            let mut source = String::new();
            let mut values = Vec::new();
            for p in pieces {
                match p {
                    Piece::Literal(t) => source.push_str(&strip_marks(&t)),
                    Piece::Value { text, markdown } => {
                        source.push(MARK_OPEN);
                        source.push_str(&values.len().to_string());
                        source.push(MARK_CLOSE);
                        values.push((strip_marks(&text), markdown));
                    }
                }
            }
            let raw = |s: &str| {
                replace_marks(s, &|i| {
                    values.get(i).map(|(t, _)| t.clone()).unwrap_or_default()
                })
            };
            let html = markdown::to_html_with(&source, &raw);
            // A Markdown value that is a paragraph of its own takes that
            // paragraph's place with its blocks; anywhere else (in a
            // sentence, a heading, a cell) it is phrasing content, since a
            // block inside a `<p>` is not HTML (`<p><p>..</p></p>`).
            let html = replace_block_marks(&html, &|i| match values.get(i) {
                Some((text, true)) => Some(markdown::to_html(text)),
                _ => None,
            });
            replace_marks(&html, &|i| match values.get(i) {
                Some((text, true)) => markdown::to_inline_html(text),
                Some((text, false)) => escape_html(text),
                None => String::new(),
            })
        }
    }
}

/// Replaces each `<p>` holding nothing but a marker whose value `block`
/// gives (a Markdown value) by that value's HTML.
fn replace_block_marks(html: &str, block: &dyn Fn(usize) -> Option<String>) -> String {
    let open = format!("<p>{MARK_OPEN}");
    let close = format!("{MARK_CLOSE}</p>");
    let mut out = String::with_capacity(html.len());
    let mut rest = html;
    while let Some(i) = rest.find(&open) {
        let after = &rest[i + open.len()..];
        let found = after.find(&close).and_then(|j| {
            let n = after[..j].parse::<usize>().ok()?;
            Some((j, block(n)?))
        });
        match found {
            Some((j, replacement)) => {
                out.push_str(&rest[..i]);
                out.push_str(&replacement);
                rest = &after[j + close.len()..];
            }
            None => {
                out.push_str(&rest[..i + open.len()]);
                rest = after;
            }
        }
    }
    out.push_str(rest);
    out
}

fn replace_marks(text: &str, value: &dyn Fn(usize) -> String) -> String {
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    while let Some(i) = rest.find(MARK_OPEN) {
        out.push_str(&rest[..i]);
        let after = &rest[i + MARK_OPEN.len_utf8()..];
        match after
            .find(MARK_CLOSE)
            .and_then(|j| after[..j].parse::<usize>().ok().map(|n| (j, n)))
        {
            Some((j, n)) => {
                out.push_str(&value(n));
                rest = &after[j + MARK_CLOSE.len_utf8()..];
            }
            None => rest = after,
        }
    }
    out.push_str(rest);
    out
}

#[cfg(test)]
mod tests;
