//! Text for the PDF: cleaning, line breaking to a width, and right-to-left
//! reordering (Unicode bidirectional algorithm, `unicode-bidi`) of each line
//! into visual runs. Lines are broken in logical order first, then
//! reordered, as UAX #9 requires.

use std::borrow::Cow;
use std::ops::Range;

use unicode_bidi::BidiInfo;

/// Characters drawn twice as wide as Latin ones (CJK, kana, Hangul,
/// full-width forms); a line may break before and after each.
pub fn is_wide(c: char) -> bool {
    matches!(c as u32,
        0x1100..=0x115F | 0x2E80..=0x303E | 0x3041..=0x33FF | 0x3400..=0x4DBF | 0x4E00..=0x9FFF
        | 0xA000..=0xA4CF | 0xAC00..=0xD7A3 | 0xF900..=0xFAFF | 0xFE30..=0xFE4F | 0xFF00..=0xFF60
        | 0xFFE0..=0xFFE6 | 0x20000..=0x3FFFD)
}

/// Characters that need the bidi algorithm: right-to-left scripts and the
/// explicit right-to-left marks, embeddings, overrides and isolates.
pub fn is_rtl(c: char) -> bool {
    matches!(c as u32, 0x0590..=0x08FF | 0xFB1D..=0xFDFF | 0xFE70..=0xFEFF | 0x10800..=0x10FFF | 0x1E800..=0x1EFFF)
        || matches!(
            c,
            '\u{200F}' | '\u{202B}' | '\u{202E}' | '\u{2067}' | '\u{061C}'
        )
}

/// Characters that need a shaper (joining scripts, combining marks, Indic),
/// rather than one glyph per character.
pub fn needs_shaping(c: char) -> bool {
    matches!(c as u32, 0x0300..=0x036F | 0x0590..=0x0DFF | 0x0E00..=0x0FFF | 0x1000..=0x109F | 0x1780..=0x17FF
        | 0x1AB0..=0x1AFF | 0x1DC0..=0x1DFF | 0x20D0..=0x20FF | 0xFB1D..=0xFDFF | 0xFE20..=0xFE2F | 0xFE70..=0xFEFF)
}

/// Characters that are not drawn: format controls (bidi marks, zero-width
/// spaces and joiners, soft hyphen, BOM).
pub fn is_invisible(c: char) -> bool {
    matches!(c, '\u{00AD}' | '\u{200B}'..='\u{200F}' | '\u{202A}'..='\u{202E}' | '\u{2060}'..='\u{206F}' | '\u{FEFF}')
}

/// Text ready to lay out: line breaks normalised to `\n`, tabs and other
/// control characters turned into spaces.
pub fn clean(text: &str) -> Cow<'_, str> {
    let dirty = |c: char| {
        (c.is_control() && c != '\n') || matches!(c, '\u{2028}' | '\u{2029}' | '\u{0085}')
    };
    if !text.contains(dirty) {
        return Cow::Borrowed(text);
    }
    let unified = text.replace("\r\n", "\n");
    Cow::Owned(
        unified
            .chars()
            .map(|c| match c {
                '\r' | '\u{2028}' | '\u{2029}' | '\u{0085}' => '\n',
                c if c.is_control() && c != '\n' => ' ',
                c => c,
            })
            .collect(),
    )
}

/// Greedy line breaking of one paragraph (no `\n`) to `max` width units:
/// breaks after spaces, hyphens and slashes, around wide (CJK) characters,
/// and inside a word only when the word alone is wider than the line.
/// Returns byte ranges of `text`.
pub fn wrap(text: &str, max: f32, mut advance: impl FnMut(char) -> f32) -> Vec<Range<usize>> {
    let mut lines = Vec::new();
    let mut start = 0;
    let mut width = 0.0_f32;
    // A break opportunity: byte offset and the line width up to it.
    let mut brk: Option<(usize, f32)> = None;
    for (i, c) in text.char_indices() {
        let w = if is_invisible(c) { 0.0 } else { advance(c) };
        if is_wide(c) && i > start {
            brk = Some((i, width));
        }
        if width + w > max && i > start && !c.is_whitespace() {
            match brk {
                Some((at, upto)) if at > start => {
                    lines.push(start..at);
                    start = at;
                    width -= upto;
                }
                _ => {
                    lines.push(start..i);
                    start = i;
                    width = 0.0;
                }
            }
            brk = None;
        }
        width += w;
        if c.is_whitespace() || matches!(c, '-' | '/' | '\\' | '|' | ',' | ';') || is_wide(c) {
            brk = Some((i + c.len_utf8(), width));
        }
    }
    lines.push(start..text.len());
    lines
}

/// A line in visual order: byte ranges of the paragraph, each with its
/// direction (`true`: right to left), left to right on the page.
#[derive(Debug, Clone, PartialEq)]
pub struct VisualLine {
    pub runs: Vec<(Range<usize>, bool)>,
    /// The paragraph reads right to left (the line is right-aligned).
    pub rtl: bool,
}

/// Reorders the lines of one paragraph for display.
pub fn reorder(paragraph: &str, lines: &[Range<usize>]) -> Vec<VisualLine> {
    if !paragraph.contains(is_rtl) {
        return lines
            .iter()
            .map(|l| VisualLine {
                runs: vec![(l.clone(), false)],
                rtl: false,
            })
            .collect();
    }
    let bidi = BidiInfo::new(paragraph, None);
    let Some(para) = bidi.paragraphs.first() else {
        return Vec::new();
    };
    let rtl = para.level.is_rtl();
    lines
        .iter()
        .map(|line| {
            let (levels, runs) = bidi.visual_runs(para, line.clone());
            let runs = runs.into_iter().map(|r| {
                let level = levels[r.start];
                (r, level.is_rtl())
            });
            VisualLine {
                runs: runs.collect(),
                rtl,
            }
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn lines(text: &str, max: f32) -> Vec<&str> {
        wrap(text, max, |c| if is_wide(c) { 2.0 } else { 1.0 })
            .into_iter()
            .map(|r| text[r].trim_end())
            .collect()
    }

    #[test]
    fn wrap_breaks_after_spaces_and_splits_words_longer_than_the_line() {
        assert_eq!(lines("alpha beta gamma", 11.0), ["alpha beta", "gamma"]);
        assert_eq!(lines("abcdefghij", 4.0), ["abcd", "efgh", "ij"]);
    }

    #[test]
    fn wrap_breaks_between_cjk_characters() {
        assert_eq!(lines("漏洞修复建议", 4.0), ["漏洞", "修复", "建议"]);
    }

    #[test]
    fn reorder_puts_hebrew_runs_right_to_left_and_keeps_latin_runs() {
        let text = "CVE שלום 42";
        let whole = 0..text.len();
        let visual = reorder(text, std::slice::from_ref(&whole));
        let runs: Vec<(&str, bool)> = visual[0]
            .runs
            .iter()
            .map(|(r, rtl)| (&text[r.clone()], *rtl))
            .collect();
        assert!(!visual[0].rtl);
        // UAX #9: the number after Hebrew joins its right-to-left stretch.
        assert_eq!(runs, [("CVE ", false), ("42", false), ("שלום ", true)]);
        let hebrew = "שלום עולם";
        let whole = 0..hebrew.len();
        let visual = reorder(hebrew, std::slice::from_ref(&whole));
        assert!(visual[0].rtl, "a Hebrew paragraph is right-aligned");
    }

    #[test]
    fn clean_turns_carriage_returns_into_line_feeds_and_tabs_into_spaces() {
        assert_eq!(clean("a\r\nb\rc\td"), "a\nb\nc d");
    }
}
