//! PDF: a readable report on A4 landscape pages: title, ticket summary, then
//! the findings table. Cells wrap long text; the header row repeats on every
//! page and a row taller than what is left of a page continues on the next.
//! Text goes through [`super::text`] (line breaks, bidi) and
//! [`super::font`] (glyphs, embedding). Pages are compressed as they are
//! finished, so memory holds one page's layout at a time.

mod draw;
mod table;

use pdf_writer::types::TextRenderingMode;
use pdf_writer::{Content, Date, Filter, Finish, Name, Pdf, Rect, Ref, TextStr};

use super::columns::{Table, severity_rank};
use super::font::{FontSet, OBJECTS_PER_FONT, deflate};
use crate::model::Ticket;
use draw::{fake_bold, line_height, lines, show};
use table::{Grid, MIN_SPLIT_LINES, cell_text, column_widths, lay_out_row, row, row_slice};

const PAGE_WIDTH: f32 = 842.0;
const PAGE_HEIGHT: f32 = 595.0;
const MARGIN: f32 = 36.0;
const FOOTER: f32 = 20.0;
const TITLE_SIZE: f32 = 16.0;
const SUBTITLE_SIZE: f32 = 11.0;
const SUMMARY_SIZE: f32 = 9.0;
const CELL_SIZE: f32 = 7.5;

const CATALOG: Ref = Ref::new(1);
const PAGE_TREE: Ref = Ref::new(2);
const INFO: Ref = Ref::new(3);
const FIRST_FONT: i32 = 4;

/// Pages as they are written: the one being filled, and the finished ones.
struct Pages<'p> {
    pdf: &'p mut Pdf,
    next_id: i32,
    kids: Vec<Ref>,
    content: Content,
    y: f32,
    footer: String,
}

impl Pages<'_> {
    fn finish_page(&mut self, fonts: &mut FontSet) -> Result<(), String> {
        let number = self.kids.len() + 1;
        let footer = format!("{} · page {number}", self.footer);
        if let Some(line) = lines(fonts, &footer, PAGE_WIDTH - 2.0 * MARGIN, CELL_SIZE).first() {
            self.content.set_fill_rgb(0.4, 0.4, 0.4);
            show(
                &mut self.content,
                line,
                MARGIN,
                MARGIN - FOOTER + 6.0,
                CELL_SIZE,
            );
        }
        let content = std::mem::replace(&mut self.content, Content::new()).finish();
        let compressed = deflate(&content)?;
        let page_id = Ref::new(self.next_id);
        let content_id = Ref::new(self.next_id + 1);
        self.next_id += 2;
        self.pdf
            .stream(content_id, &compressed)
            .filter(Filter::FlateDecode);
        let mut page = self.pdf.page(page_id);
        page.media_box(Rect::new(0.0, 0.0, PAGE_WIDTH, PAGE_HEIGHT))
            .parent(PAGE_TREE)
            .contents(content_id);
        let mut resources = page.resources();
        let mut font_dict = resources.fonts();
        for font in 0..fonts.count() {
            font_dict.pair(
                FontSet::resource(font),
                Ref::new(FIRST_FONT + font as i32 * OBJECTS_PER_FONT),
            );
        }
        font_dict.finish();
        resources.finish();
        page.finish();
        self.kids.push(page_id);
        self.y = PAGE_HEIGHT - MARGIN;
        Ok(())
    }

    fn bottom(&self) -> f32 {
        MARGIN + FOOTER
    }
}

/// Draws a block of lines at full width (title, summary).
fn block(
    pages: &mut Pages<'_>,
    fonts: &mut FontSet,
    text: &str,
    size: f32,
    bold: bool,
) -> Result<(), String> {
    for line in lines(fonts, text, PAGE_WIDTH - 2.0 * MARGIN, size) {
        if pages.y - line_height(size) < pages.bottom() {
            pages.finish_page(fonts)?;
        }
        pages.y -= line_height(size);
        pages.content.set_fill_rgb(0.0, 0.0, 0.0);
        if bold {
            fake_bold(&mut pages.content, size);
        }
        show(
            &mut pages.content,
            &line,
            MARGIN,
            pages.y + size * 0.25,
            size,
        );
        if bold {
            pages
                .content
                .set_text_rendering_mode(TextRenderingMode::Fill);
        }
    }
    Ok(())
}

fn summary(ticket: &Ticket, table: &Table<'_>, now_unix: u64) -> Vec<String> {
    let mut out = Vec::new();
    let facts: Vec<String> = [
        ("Severity", "severity"),
        ("Status", "status"),
        ("Assignee", "assignee"),
        ("Due", "due_date"),
        ("Created", "created"),
    ]
    .iter()
    .filter_map(|(label, name)| {
        let value = ticket
            .field(name)
            .map(|v| v.display())
            .filter(|v| !v.trim().is_empty())?;
        Some(format!("{label}: {value}"))
    })
    .collect();
    if !facts.is_empty() {
        out.push(facts.join("    "));
    }
    if !ticket.url.is_empty() {
        out.push(format!("Ticket: {}", ticket.url));
    }
    let mut counts = [0usize; 6];
    for row in 0..table.row_count() {
        counts[usize::from(severity_rank(table.severity(row).as_deref()))] += 1;
    }
    let names = ["Critical", "High", "Medium", "Low", "Info", "Unrated"];
    let by: Vec<String> = names
        .iter()
        .zip(counts)
        .filter(|(_, n)| *n > 0)
        .map(|(name, n)| format!("{name} {n}"))
        .collect();
    let total = table.row_count();
    out.push(format!(
        "Findings: {total}{}",
        if by.is_empty() {
            String::new()
        } else {
            format!(" ({})", by.join(", "))
        }
    ));
    let now = time::OffsetDateTime::from_unix_timestamp(i64::try_from(now_unix).unwrap_or(0))
        .unwrap_or(time::OffsetDateTime::UNIX_EPOCH);
    out.push(format!(
        "Generated: {:04}-{:02}-{:02} {:02}:{:02} UTC",
        now.year(),
        u8::from(now.month()),
        now.day(),
        now.hour(),
        now.minute()
    ));
    out
}

pub fn write(table: &Table<'_>, ticket: &Ticket, now_unix: u64) -> Result<Vec<u8>, String> {
    let mut fonts = FontSet::new()?;
    let mut pdf = Pdf::new();
    let title = format!("Findings of ticket {}", ticket.id);
    let first_page = FIRST_FONT + fonts.count() as i32 * OBJECTS_PER_FONT;
    let mut pages = Pages {
        pdf: &mut pdf,
        next_id: first_page,
        kids: Vec::new(),
        content: Content::new(),
        y: PAGE_HEIGHT - MARGIN,
        footer: title.clone(),
    };

    block(&mut pages, &mut fonts, &title, TITLE_SIZE, true)?;
    if let Some(name) = ticket
        .field("title")
        .map(|v| v.display())
        .filter(|t| !t.trim().is_empty())
    {
        block(&mut pages, &mut fonts, &name, SUBTITLE_SIZE, false)?;
    }
    pages.y -= 4.0;
    for fact in summary(ticket, table, now_unix) {
        block(&mut pages, &mut fonts, &fact, SUMMARY_SIZE, false)?;
    }
    pages.y -= 8.0;

    let available = PAGE_WIDTH - 2.0 * MARGIN;
    let widths = column_widths(&mut fonts, table, available);
    let mut x = Vec::with_capacity(widths.len());
    let mut at = MARGIN;
    for w in &widths {
        x.push(at);
        at += w;
    }
    let grid = Grid { x, widths };
    let header = lay_out_row(&mut fonts, &grid, table.headers().map(str::to_string));
    let header_lines = header.iter().map(Vec::len).max().unwrap_or(1);
    if pages.y - (header_lines + MIN_SPLIT_LINES) as f32 * line_height(CELL_SIZE) < pages.bottom() {
        pages.finish_page(&mut fonts)?;
    }
    row_slice(
        &mut pages,
        &grid,
        &header,
        0,
        header_lines,
        Some(0.85),
        true,
    );
    if table.row_count() == 0 {
        block(
            &mut pages,
            &mut fonts,
            "This ticket has no findings.",
            SUMMARY_SIZE,
            false,
        )?;
    }
    for r in 0..table.row_count() {
        let cells = lay_out_row(&mut fonts, &grid, table.row(r).map(|c| cell_text(&c)));
        let fill = (r % 2 == 1).then_some(0.96);
        row(&mut pages, &mut fonts, &grid, &header, &cells, fill)?;
    }
    pages.finish_page(&mut fonts)?;
    let kids = std::mem::take(&mut pages.kids);
    drop(pages);

    let font_refs = fonts.write(&mut pdf, FIRST_FONT)?;
    // Pages name every font; an unused one still needs an (empty) object.
    for (font, found) in font_refs.iter().enumerate() {
        if found.is_none() {
            let id = Ref::new(FIRST_FONT + font as i32 * OBJECTS_PER_FONT);
            pdf.type1_font(id).base_font(Name(b"Helvetica"));
        }
    }
    pdf.pages(PAGE_TREE)
        .kids(kids.iter().copied())
        .count(i32::try_from(kids.len()).unwrap_or(i32::MAX));
    pdf.catalog(CATALOG).pages(PAGE_TREE);
    let now = time::OffsetDateTime::from_unix_timestamp(i64::try_from(now_unix).unwrap_or(0))
        .unwrap_or(time::OffsetDateTime::UNIX_EPOCH);
    let date = Date::new(u16::try_from(now.year()).unwrap_or(1970))
        .month(u8::from(now.month()))
        .day(now.day())
        .hour(now.hour())
        .minute(now.minute())
        .second(now.second())
        .utc_offset_hour(0);
    pdf.document_info(INFO)
        .title(TextStr(&title))
        .subject(TextStr(&ticket.url))
        .producer(TextStr("Azure DevOps ticketing connector"))
        .creation_date(date);
    Ok(pdf.finish())
}
