//! The findings table every format writes: resolved columns, findings sorted
//! by severity, and typed cells borrowed from the ticket (no copies).

use std::borrow::Cow;

use time::format_description::well_known::Rfc3339;
use time::{Date, OffsetDateTime, PrimitiveDateTime, UtcOffset};

use super::options::ResolvedColumn;
use crate::model::{FieldValue, Finding, Ticket};

/// Rank of a severity for sorting: Critical 0, High 1, Medium 2, Low 3,
/// Info 4, anything else (or none) 5. Case-insensitive.
pub fn severity_rank(severity: Option<&str>) -> u8 {
    match severity.map(|s| s.trim().to_ascii_lowercase()).as_deref() {
        Some("critical") => 0,
        Some("high") => 1,
        Some("medium" | "moderate") => 2,
        Some("low") => 3,
        Some("info" | "informational" | "none") => 4,
        _ => 5,
    }
}

/// One cell, typed as the finding's field is.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Cell<'a> {
    Empty,
    Text(&'a str),
    Integer(i64),
    Number(f64),
    Boolean(bool),
    /// A date-time as the platform sent it (RFC 3339 or a plain date).
    DateTime(&'a str),
    List(&'a [String]),
}

impl<'a> Cell<'a> {
    fn of(value: &'a FieldValue) -> Cell<'a> {
        match value {
            FieldValue::Null => Cell::Empty,
            FieldValue::Text(s) => Cell::Text(s),
            FieldValue::Integer(i) => Cell::Integer(*i),
            FieldValue::Number(n) => Cell::Number(*n),
            FieldValue::Boolean(b) => Cell::Boolean(*b),
            FieldValue::DateTime(s) => Cell::DateTime(s),
            FieldValue::TextList(l) => Cell::List(l),
        }
    }

    /// The cell as text, the way a person reads it (lists joined by `; `).
    pub fn text(&self) -> Cow<'a, str> {
        match *self {
            Cell::Empty => Cow::Borrowed(""),
            Cell::Text(s) | Cell::DateTime(s) => Cow::Borrowed(s),
            Cell::Integer(i) => Cow::Owned(i.to_string()),
            Cell::Number(n) => Cow::Owned(n.to_string()),
            Cell::Boolean(b) => Cow::Borrowed(if b { "true" } else { "false" }),
            Cell::List(l) => Cow::Owned(l.join("; ")),
        }
    }

    /// A date-time cell in UTC, when it parses.
    pub fn utc(&self) -> Option<PrimitiveDateTime> {
        match self {
            Cell::DateTime(s) => parse_utc(s),
            _ => None,
        }
    }
}

/// RFC 3339 (any offset, converted to UTC) or a plain `YYYY-MM-DD` date.
pub fn parse_utc(s: &str) -> Option<PrimitiveDateTime> {
    let s = s.trim();
    if let Ok(dt) = OffsetDateTime::parse(s, &Rfc3339) {
        let utc = dt.to_offset(UtcOffset::UTC);
        return Some(PrimitiveDateTime::new(utc.date(), utc.time()));
    }
    let fmt = time::macros::format_description!("[year]-[month]-[day]");
    Date::parse(s, &fmt).ok().map(|d| d.midnight())
}

/// The findings of a ticket as rows of the chosen columns.
pub struct Table<'a> {
    columns: Vec<ResolvedColumn>,
    rows: Vec<&'a Finding>,
}

impl<'a> Table<'a> {
    /// The ticket's findings sorted by severity (stable: equal severities keep
    /// the ticket's order).
    pub fn new(ticket: &'a Ticket, columns: &[ResolvedColumn]) -> Table<'a> {
        let mut rows: Vec<&Finding> = ticket.findings.iter().collect();
        // Stable: the cached-key sort orders by (key, original index).
        rows.sort_by_cached_key(|f| {
            severity_rank(field(f, "severity").map(|v| cell_text(v)).as_deref())
        });
        Table {
            columns: columns.to_vec(),
            rows,
        }
    }

    /// Column headers.
    pub fn headers(&self) -> impl Iterator<Item = &str> {
        self.columns.iter().map(|c| c.label.as_str())
    }

    /// System names of the columns' fields.
    pub fn fields(&self) -> impl Iterator<Item = &str> {
        self.columns.iter().map(|c| c.field.as_str())
    }

    pub fn column_count(&self) -> usize {
        self.columns.len()
    }

    pub fn row_count(&self) -> usize {
        self.rows.len()
    }

    /// The severity of a row's finding, as text.
    pub fn severity(&self, index: usize) -> Option<Cow<'a, str>> {
        field(self.rows[index], "severity").map(cell_text)
    }

    /// The cells of one row, in column order.
    pub fn row(&self, index: usize) -> impl Iterator<Item = Cell<'a>> + '_ {
        let finding = self.rows[index];
        self.columns.iter().map(move |c| cell(finding, &c.field))
    }
}

fn cell_text(value: &FieldValue) -> Cow<'_, str> {
    Cell::of(value).text()
}

fn field<'a>(finding: &'a Finding, name: &str) -> Option<&'a FieldValue> {
    finding
        .fields
        .iter()
        .find(|f| f.name == name)
        .map(|f| &f.value)
}

/// A finding's field; `id` and `status` fall back to the finding's own.
fn cell<'a>(finding: &'a Finding, name: &str) -> Cell<'a> {
    match field(finding, name) {
        Some(value) => Cell::of(value),
        None if name == "id" => Cell::Text(&finding.id),
        None if name == "status" => Cell::Text(&finding.status),
        None => Cell::Empty,
    }
}
