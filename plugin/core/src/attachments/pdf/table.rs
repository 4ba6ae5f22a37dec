//! The findings table: column widths from the content, rows of wrapped
//! cells, the header row repeated on each page, rows split across pages.

use super::super::columns::{Cell, Table};
use super::super::font::FontSet;
use super::draw::{Line, fake_bold, line_height, lines, show};
use super::{CELL_SIZE, MARGIN, Pages};
use pdf_writer::types::TextRenderingMode;

/// Cell padding, points.
pub(super) const PAD: f32 = 3.0;
/// A column is never narrower than this, nor (before stretching) wider.
const MIN_COLUMN: f32 = 36.0;
const MAX_NATURAL_COLUMN: f32 = 260.0;
/// A column is made wide enough for its longest word, up to this.
const MAX_WORD_COLUMN: f32 = 110.0;
/// Rows sampled to size the columns.
const WIDTH_SAMPLE: usize = 500;
/// A row that must split is started on a fresh page when fewer lines fit.
pub(super) const MIN_SPLIT_LINES: usize = 3;

/// Widths of the table's columns. A column whose longest paragraph fits its
/// share gets just that; the others share the rest in proportion to how
/// much text they hold on average, so a description column gets more room
/// than a title column. When everything fits, columns stretch to the width.
pub(super) fn column_widths(fonts: &mut FontSet, table: &Table<'_>, available: f32) -> Vec<f32> {
    let n = table.column_count().max(1);
    let points = |milli: f32| milli * CELL_SIZE / 1000.0;
    // Natural: the longest paragraph (bounded); demand: average text length.
    let mut natural: Vec<f32> = table
        .headers()
        .map(|h| points(fonts.width(h)) + 2.0 * PAD)
        .collect();
    natural.resize(n, MIN_COLUMN);
    let mut demand = natural.clone();
    // Floor: the longest word, so identifiers (CVE ids, host names) stay whole.
    let mut floor: Vec<f32> = table
        .headers()
        .map(|h| {
            h.split_whitespace()
                .map(|w| points(fonts.width(w)) + 2.0 * PAD)
                .fold(MIN_COLUMN, f32::max)
                .min(MAX_WORD_COLUMN)
        })
        .collect();
    floor.resize(n, MIN_COLUMN);
    let sample = table.row_count().min(WIDTH_SAMPLE);
    let mut total = vec![0.0_f32; n];
    for row in 0..sample {
        for (col, cell) in table.row(row).enumerate() {
            let text = cell_text(&cell);
            let longest = text.split('\n').map(|p| fonts.width(p)).fold(0.0, f32::max);
            natural[col] = natural[col].max(points(longest) + 2.0 * PAD);
            total[col] += points(fonts.width(&text));
            let word = text
                .split_whitespace()
                .map(|w| fonts.width(w))
                .fold(0.0, f32::max);
            floor[col] = floor[col].max((points(word) + 2.0 * PAD).min(MAX_WORD_COLUMN));
        }
    }
    if sample > 0 {
        for col in 0..n {
            demand[col] = demand[col].max(total[col] / sample as f32);
        }
    }
    let natural: Vec<f32> = natural
        .iter()
        .map(|w| w.clamp(MIN_COLUMN, MAX_NATURAL_COLUMN))
        .collect();
    let mut widths = vec![0.0; n];
    let mut open: Vec<usize> = (0..n).collect();
    let mut remaining = available;
    while !open.is_empty() {
        let weight: f32 = open
            .iter()
            .map(|&i| demand[i])
            .sum::<f32>()
            .max(f32::EPSILON);
        let share = |i: usize| (remaining * demand[i] / weight).max(floor[i]);
        let (fits, short): (Vec<usize>, Vec<usize>) =
            open.iter().partition(|&&i| natural[i] <= share(i));
        if fits.is_empty() {
            for &i in &short {
                widths[i] = share(i);
            }
            break;
        }
        for &i in &fits {
            widths[i] = natural[i];
            remaining -= natural[i];
        }
        open = short;
    }
    // Stretch (or, with many columns at their minimum, shrink) to the width.
    let sum: f32 = widths.iter().sum();
    widths.iter().map(|w| w * available / sum).collect()
}

/// The text a cell shows: dates in UTC, readable.
pub(super) fn cell_text(cell: &Cell<'_>) -> String {
    match cell.utc() {
        Some(dt) => format!(
            "{:04}-{:02}-{:02} {:02}:{:02} UTC",
            dt.year(),
            u8::from(dt.month()),
            dt.day(),
            dt.hour(),
            dt.minute()
        ),
        None => cell.text().into_owned(),
    }
}

/// The table's geometry.
pub(super) struct Grid {
    pub(super) x: Vec<f32>,
    pub(super) widths: Vec<f32>,
}

/// Draws `count` lines of a row's cells from line `from`, at the current y.
pub(super) fn row_slice(
    pages: &mut Pages<'_>,
    grid: &Grid,
    cells: &[Vec<Line>],
    from: usize,
    count: usize,
    fill: Option<f32>,
    bold: bool,
) {
    let height = count as f32 * line_height(CELL_SIZE) + 2.0 * PAD;
    let top = pages.y;
    let c = &mut pages.content;
    let total: f32 = grid.widths.iter().sum();
    if let Some(gray) = fill {
        c.set_fill_rgb(gray, gray, gray);
        c.rect(MARGIN, top - height, total, height);
        c.fill_nonzero();
    }
    c.set_stroke_rgb(0.7, 0.7, 0.7);
    c.set_line_width(0.3);
    for (col, lines) in cells.iter().enumerate() {
        c.rect(grid.x[col], top - height, grid.widths[col], height);
        c.stroke();
        c.set_fill_rgb(0.0, 0.0, 0.0);
        if bold {
            fake_bold(c, CELL_SIZE);
        }
        for (i, line) in lines.iter().skip(from).take(count).enumerate() {
            let baseline = top - PAD - (i as f32 + 1.0) * line_height(CELL_SIZE) + CELL_SIZE * 0.3;
            let x = if line.right_aligned {
                grid.x[col] + grid.widths[col] - PAD - line.width
            } else {
                grid.x[col] + PAD
            };
            show(c, line, x, baseline, CELL_SIZE);
        }
        if bold {
            c.set_text_rendering_mode(TextRenderingMode::Fill);
            c.set_stroke_rgb(0.7, 0.7, 0.7);
            c.set_line_width(0.3);
        }
    }
    pages.y -= height;
}

pub(super) fn lay_out_row(
    fonts: &mut FontSet,
    grid: &Grid,
    texts: impl Iterator<Item = String>,
) -> Vec<Vec<Line>> {
    texts
        .enumerate()
        .map(|(col, t)| lines(fonts, &t, grid.widths[col] - 2.0 * PAD, CELL_SIZE))
        .collect()
}

/// Draws a row, splitting it over pages when it does not fit; the header
/// row repeats at the top of each new page.
pub(super) fn row(
    pages: &mut Pages<'_>,
    fonts: &mut FontSet,
    grid: &Grid,
    header: &[Vec<Line>],
    cells: &[Vec<Line>],
    fill: Option<f32>,
) -> Result<(), String> {
    let total = cells.iter().map(Vec::len).max().unwrap_or(0).max(1);
    let mut from = 0;
    let mut fresh = false;
    while from < total {
        let room = ((pages.y - pages.bottom() - 2.0 * PAD) / line_height(CELL_SIZE))
            .floor()
            .max(0.0) as usize;
        let left = total - from;
        if room < left.min(MIN_SPLIT_LINES) && !fresh {
            pages.finish_page(fonts)?;
            let header_lines = header.iter().map(Vec::len).max().unwrap_or(1);
            row_slice(pages, grid, header, 0, header_lines, Some(0.85), true);
            fresh = true;
            continue;
        }
        // On a fresh page at least one line goes out, however little room.
        let count = room.min(left).max(1);
        fresh = false;
        row_slice(pages, grid, cells, from, count, fill, false);
        from += count;
    }
    Ok(())
}
