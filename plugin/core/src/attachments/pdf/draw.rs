//! Drawing text: lays a text out in lines (breaks, bidi, glyphs) and writes
//! lines into a page's content stream, glyph by glyph where shaping moved them.

use pdf_writer::types::TextRenderingMode;
use pdf_writer::{Content, Finish, Str};

use super::super::font::{FontSet, GlyphRun};
use super::super::text::{clean, reorder, wrap};

/// Line height as a multiple of the font size.
const LEADING: f32 = 1.25;

/// One laid-out line: glyph runs left to right, its width, its alignment.
pub(super) struct Line {
    pub(super) runs: Vec<GlyphRun>,
    pub(super) width: f32,
    pub(super) right_aligned: bool,
}

/// Lays out text in lines no wider than `width` points at `size`.
pub(super) fn lines(fonts: &mut FontSet, text: &str, width: f32, size: f32) -> Vec<Line> {
    let text = clean(text);
    let max = (width / size * 1000.0).max(1.0);
    let mut out = Vec::new();
    for paragraph in text.split('\n') {
        let breaks = wrap(paragraph, max, |c| fonts.advance(c));
        for visual in reorder(paragraph, &breaks) {
            let mut runs = Vec::new();
            for (range, rtl) in visual.runs {
                let piece = if rtl {
                    &paragraph[range]
                } else {
                    paragraph[range].trim_end()
                };
                runs.extend(fonts.shape(piece, rtl));
            }
            let width = runs.iter().map(GlyphRun::advance).sum::<f32>() * size / 1000.0;
            out.push(Line {
                runs,
                width,
                right_aligned: visual.rtl,
            });
        }
    }
    out
}

/// Writes one line with its left end at `x` and baseline at `y`.
pub(super) fn show(content: &mut Content, line: &Line, x: f32, y: f32, size: f32) {
    content.begin_text();
    content.set_text_matrix([1.0, 0.0, 0.0, 1.0, x, y]);
    for run in &line.runs {
        content.set_font(FontSet::resource(run.font), size);
        let mut i = 0;
        while i < run.glyphs.len() {
            // Glyphs on the baseline go out in one TJ; raised marks one by one.
            let raised = run.glyphs[i].y_offset != 0.0;
            let end = if raised {
                i + 1
            } else {
                run.glyphs[i..]
                    .iter()
                    .position(|g| g.y_offset != 0.0)
                    .map_or(run.glyphs.len(), |p| i + p)
            };
            if raised {
                content.set_rise(run.glyphs[i].y_offset * size / 1000.0);
            }
            let mut positioned = content.show_positioned();
            let mut items = positioned.items();
            // Consecutive glyphs without adjustments share one string.
            let mut pending: Vec<u8> = Vec::with_capacity(2 * (end - i));
            for g in &run.glyphs[i..end] {
                if g.x_offset != 0.0 {
                    if !pending.is_empty() {
                        items.show(Str(&pending));
                        pending.clear();
                    }
                    items.adjust(-g.x_offset);
                }
                pending.extend_from_slice(&g.cid.to_be_bytes());
                let correction = g.width - g.advance + g.x_offset;
                if correction.abs() > 0.01 {
                    items.show(Str(&pending));
                    pending.clear();
                    items.adjust(correction);
                }
            }
            if !pending.is_empty() {
                items.show(Str(&pending));
            }
            items.finish();
            positioned.finish();
            if raised {
                content.set_rise(0.0);
            }
            i = end;
        }
    }
    content.end_text();
}

pub(super) fn line_height(size: f32) -> f32 {
    size * LEADING
}

/// Bold without a bold font: outline the glyphs too.
pub(super) fn fake_bold(content: &mut Content, size: f32) {
    content.set_text_rendering_mode(TextRenderingMode::FillStroke);
    content.set_line_width(size * 0.03);
    content.set_stroke_rgb(0.0, 0.0, 0.0);
}
