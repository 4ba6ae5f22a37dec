//! XLSX: one `Findings` sheet with a bold, frozen header row, typed cells
//! (numbers as numbers, booleans as booleans, date-times as Excel dates in
//! UTC), an autofilter over the table and column widths from the content
//! (clamped, so a long description does not make a column screen-wide).
//! Text is always written as a string cell, never as a formula.

use rust_xlsxwriter::{
    Color, DocProperties, ExcelDateTime, Format, FormatBorder, Workbook, Worksheet, XlsxError,
};

use super::columns::{Cell, Table};
use crate::model::Ticket;

/// Excel's limit on the characters of one cell.
const MAX_CELL_CHARS: usize = 32_767;
/// Column width bounds, in Excel character units.
const MIN_WIDTH: f64 = 8.0;
const MAX_WIDTH: f64 = 60.0;
/// Rows sampled for column widths (the header always counts).
const WIDTH_SAMPLE: usize = 500;

/// Display width of text in Excel character units (wide for CJK), longest line.
fn display_width(text: &str) -> f64 {
    text.lines()
        .map(|line| {
            line.chars()
                .map(|c| if super::text::is_wide(c) { 2.0 } else { 1.0 })
                .sum::<f64>()
        })
        .fold(0.0, f64::max)
}

fn excel_datetime(cell: &Cell<'_>) -> Option<ExcelDateTime> {
    let dt = cell.utc()?;
    let date = ExcelDateTime::from_ymd(
        u16::try_from(dt.year()).ok()?,
        u8::from(dt.month()),
        dt.day(),
    )
    .ok()?;
    date.and_hms(u16::from(dt.hour()), dt.minute(), f64::from(dt.second()))
        .ok()
}

/// Text cut to Excel's cell limit, marking the cut.
fn fit(text: &str) -> std::borrow::Cow<'_, str> {
    if text.chars().count() <= MAX_CELL_CHARS {
        return text.into();
    }
    let keep: String = text.chars().take(MAX_CELL_CHARS - 1).collect();
    format!("{keep}…").into()
}

fn write_cell(
    sheet: &mut Worksheet,
    row: u32,
    col: u16,
    cell: &Cell<'_>,
    date: &Format,
) -> Result<(), XlsxError> {
    match cell {
        Cell::Empty => {}
        Cell::Integer(i) => {
            // Excel numbers are doubles; integers beyond 2^53 keep their digits as text.
            if i.unsigned_abs() <= 1 << 53 {
                sheet.write_number(row, col, *i as f64)?;
            } else {
                sheet.write_string(row, col, i.to_string())?;
            }
        }
        Cell::Number(n) if n.is_finite() => {
            sheet.write_number(row, col, *n)?;
        }
        Cell::Boolean(b) => {
            sheet.write_boolean(row, col, *b)?;
        }
        Cell::DateTime(_) => match excel_datetime(cell) {
            Some(dt) => {
                sheet.write_datetime_with_format(row, col, dt, date)?;
            }
            None => {
                sheet.write_string(row, col, fit(&cell.text()))?;
            }
        },
        other => {
            sheet.write_string(row, col, fit(&other.text()))?;
        }
    }
    Ok(())
}

fn build(table: &Table<'_>, ticket: &Ticket) -> Result<Vec<u8>, XlsxError> {
    let mut workbook = Workbook::new();
    // Deflate level 1 instead of 6: the sheet's XML is repetitive enough that
    // it compresses well either way, and every preview builds the file to
    // show its size (BENCHMARKS.md, "Boundary").
    workbook.set_zip_compression_level(1);
    let title = format!("Findings of ticket {}", ticket.id);
    workbook.set_properties(
        &DocProperties::new()
            .set_title(&title)
            .set_subject(&ticket.url),
    );
    let header = Format::new()
        .set_bold()
        .set_background_color(Color::RGB(0xD9E1F2))
        .set_border_bottom(FormatBorder::Thin);
    let date = Format::new().set_num_format("yyyy-mm-dd hh:mm");
    let sheet = workbook.add_worksheet();
    sheet.set_name("Findings")?;

    let columns = table.column_count();
    let mut widths = vec![MIN_WIDTH; columns];
    for (col, label) in table.headers().enumerate() {
        sheet.write_string_with_format(0, col as u16, fit(label), &header)?;
        widths[col] = widths[col].max(display_width(label) + 2.0);
    }
    for row in 0..table.row_count() {
        let excel_row = u32::try_from(row + 1).map_err(|_| XlsxError::RowColumnLimitError)?;
        for (col, cell) in table.row(row).enumerate() {
            write_cell(sheet, excel_row, col as u16, &cell, &date)?;
            if row < WIDTH_SAMPLE {
                let w = match cell {
                    Cell::DateTime(_) if cell.utc().is_some() => 17.0,
                    _ => display_width(&cell.text()),
                };
                widths[col] = widths[col].max(w + 1.0);
            }
        }
    }
    for (col, width) in widths.iter().enumerate() {
        sheet.set_column_width(col as u16, width.clamp(MIN_WIDTH, MAX_WIDTH))?;
    }
    if columns > 0 {
        let last_row =
            u32::try_from(table.row_count()).map_err(|_| XlsxError::RowColumnLimitError)?;
        sheet.autofilter(0, 0, last_row, (columns - 1) as u16)?;
        sheet.set_freeze_panes(1, 0)?;
    }
    workbook.save_to_buffer()
}

pub fn write(table: &Table<'_>, ticket: &Ticket) -> Result<Vec<u8>, String> {
    if table.column_count() > 16_384 {
        return Err(format!(
            "{} columns are more than Excel's 16,384",
            table.column_count()
        ));
    }
    build(table, ticket).map_err(|e| e.to_string())
}
