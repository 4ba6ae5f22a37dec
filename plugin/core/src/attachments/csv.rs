//! CSV: RFC 4180 (CRLF records, fields with `,` `"` CR or LF quoted, quotes
//! doubled), UTF-8 with a byte order mark so spreadsheets detect the
//! encoding, and safe to open in a spreadsheet: a text cell starting with
//! `=`, `+`, `-`, `@`, tab or CR is prefixed with `'` so it is never run as a
//! formula (OWASP "CSV injection"). Numbers stay numbers (`-1` as an integer
//! field is a value, not a formula).

use std::borrow::Cow;

use super::columns::{Cell, Table};

/// UTF-8 byte order mark.
const BOM: &[u8] = b"\xEF\xBB\xBF";

/// Whether a spreadsheet would read this text as a formula.
pub fn is_formula_like(text: &str) -> bool {
    matches!(
        text.chars().next(),
        Some('=' | '+' | '-' | '@' | '\t' | '\r')
    )
}

/// The text of a cell as written to CSV, neutralised when formula-like.
pub fn neutralise<'a>(cell: &Cell<'a>) -> Cow<'a, str> {
    let text = cell.text();
    let numeric = matches!(cell, Cell::Integer(_) | Cell::Number(_));
    if !numeric && is_formula_like(&text) {
        Cow::Owned(format!("'{text}"))
    } else {
        text
    }
}

pub fn write(table: &Table<'_>) -> Result<Vec<u8>, String> {
    let mut out = Vec::with_capacity(64 * 1024);
    out.extend_from_slice(BOM);
    let mut writer = csv::WriterBuilder::new()
        .terminator(csv::Terminator::CRLF)
        .quote_style(csv::QuoteStyle::Necessary)
        .from_writer(out);
    let headers: Vec<Cow<'_, str>> = table
        .headers()
        .map(|h| neutralise(&Cell::Text(h)))
        .collect();
    writer
        .write_record(headers.iter().map(|h| h.as_bytes()))
        .map_err(|e| e.to_string())?;
    let mut record: Vec<Cow<'_, str>> = Vec::with_capacity(table.column_count());
    for row in 0..table.row_count() {
        record.clear();
        record.extend(table.row(row).map(|c| neutralise(&c)));
        writer
            .write_record(record.iter().map(|c| c.as_bytes()))
            .map_err(|e| e.to_string())?;
    }
    writer.into_inner().map_err(|e| e.to_string())
}
