//! The fonts of the PDF report, compiled in compressed (`include_bytes!`: the
//! plugin has no filesystem): DejaVu Sans for Latin, Greek, Cyrillic, Hebrew and Arabic,
//! Droid Sans Fallback for CJK and Hangul, chosen per character. Text is
//! turned into glyphs (shaped with `rustybuzz` where a script needs it:
//! Arabic joining, marks, right-to-left mirroring), and each used font is
//! embedded as a subset (`subsetter`) in a Type 0 / CIDFontType2 font with a
//! ToUnicode CMap, so the text can be searched and extracted.

use std::collections::HashMap;
use std::io::Write;
use std::sync::OnceLock;

use pdf_writer::types::{CidFontType, FontFlags, SystemInfo};
use pdf_writer::{Filter, Finish, Name, Pdf, Rect, Ref, Str};
use rustybuzz::{Direction, Face, UnicodeBuffer, ttf_parser};
use subsetter::GlyphRemapper;

use super::text::{is_invisible, needs_shaping};

// xz-compressed (assets/fonts/README.md): 1.56 MB of the component instead
// of 4.2 MB as TrueType (2.03 MB as zlib at level 9), decompressed once per
// instance at its first PDF (`fonts`).
const DEJAVU_SANS: &[u8] = include_bytes!("../../assets/fonts/DejaVuSans.ttf.xz");
const DROID_SANS_FALLBACK: &[u8] = include_bytes!("../../assets/fonts/DroidSansFallback.ttf.xz");

/// The decompressed fonts, kept for the instance's later PDFs: a cache of
/// constant data, so no call sees what another did.
static FONTS: OnceLock<Result<[Vec<u8>; 2], String>> = OnceLock::new();

/// The two fonts' TrueType bytes (DejaVu Sans, Droid Sans Fallback).
fn fonts() -> Result<&'static [Vec<u8>; 2], String> {
    fn unpack(packed: &[u8], name: &str) -> Result<Vec<u8>, String> {
        let mut ttf = Vec::with_capacity(packed.len() * 3);
        // The xz container's CRC-64 is checked as it decodes.
        lzma_rs::xz_decompress(&mut std::io::BufReader::new(packed), &mut ttf)
            .map_err(|e| format!("the embedded font {name} does not decompress: {e}"))?;
        Ok(ttf)
    }
    FONTS
        .get_or_init(|| {
            Ok([
                unpack(DEJAVU_SANS, "DejaVuSans")?,
                unpack(DROID_SANS_FALLBACK, "DroidSansFallback")?,
            ])
        })
        .as_ref()
        .map_err(Clone::clone)
}

/// Objects one embedded font needs.
pub const OBJECTS_PER_FONT: i32 = 5;

/// A glyph placed on a line; lengths in thousandths of the font size.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Glyph {
    /// Glyph id in the subset (the CID).
    pub cid: u16,
    /// How far the pen moves.
    pub advance: f32,
    /// The width the PDF's font dictionary gives the glyph.
    pub width: f32,
    pub x_offset: f32,
    pub y_offset: f32,
}

/// Glyphs of one font, in visual order.
#[derive(Debug, Clone, PartialEq)]
pub struct GlyphRun {
    pub font: usize,
    pub glyphs: Vec<Glyph>,
}

impl GlyphRun {
    pub fn advance(&self) -> f32 {
        self.glyphs.iter().map(|g| g.advance).sum()
    }
}

struct EmbeddedFont {
    face: Face<'static>,
    data: &'static [u8],
    /// PostScript-ish name, with the six-letter subset tag.
    name: &'static str,
    scale: f32,
    remapper: GlyphRemapper,
    /// By CID: the font dictionary width and the text the glyph stands for.
    widths: Vec<f32>,
    unicode: Vec<String>,
}

impl EmbeddedFont {
    fn load(data: &'static [u8], name: &'static str) -> Result<EmbeddedFont, String> {
        let face = Face::from_slice(data, 0)
            .ok_or_else(|| format!("the embedded font {name} does not parse"))?;
        let scale = 1000.0 / face.units_per_em() as f32;
        let mut font = EmbeddedFont {
            face,
            data,
            name,
            scale,
            remapper: GlyphRemapper::new(),
            widths: Vec::new(),
            unicode: Vec::new(),
        };
        font.widths.push(font.hmtx(0));
        font.unicode.push(String::new());
        Ok(font)
    }

    fn hmtx(&self, gid: u16) -> f32 {
        f32::from(
            self.face
                .glyph_hor_advance(ttf_parser::GlyphId(gid))
                .unwrap_or(0),
        ) * self.scale
    }

    /// The CID of a glyph, recording what text it stands for the first time.
    fn cid(&mut self, gid: u16, text: &str) -> u16 {
        let cid = self.remapper.remap(gid);
        let index = usize::from(cid);
        if index == self.widths.len() {
            self.widths.push(self.hmtx(gid));
            self.unicode.push(String::new());
        }
        if self.unicode[index].is_empty() && !text.is_empty() && gid != 0 {
            self.unicode[index] = text.to_string();
        }
        cid
    }

    fn used(&self) -> bool {
        self.widths.len() > 1
    }
}

/// Where a character is drawn from.
#[derive(Debug, Clone, Copy)]
struct CharGlyph {
    font: usize,
    gid: u16,
    advance: f32,
}

/// Characters below this are cached in an array, the rest in a map.
const DIRECT_CACHE: usize = 0x3000;

/// The report's fonts and what a document used of them.
pub struct FontSet {
    fonts: Vec<EmbeddedFont>,
    /// Latin to CJK punctuation: looked up for every character drawn.
    direct: Vec<Option<CharGlyph>>,
    chars: HashMap<char, CharGlyph>,
}

impl FontSet {
    pub fn new() -> Result<FontSet, String> {
        let [dejavu, droid] = fonts()?;
        Ok(FontSet {
            fonts: vec![
                EmbeddedFont::load(dejavu, "ADOCAA+DejaVuSans")?,
                EmbeddedFont::load(droid, "ADOCAB+DroidSansFallback")?,
            ],
            direct: vec![None; DIRECT_CACHE],
            chars: HashMap::new(),
        })
    }

    /// Resource name of a font on a page.
    pub fn resource(font: usize) -> Name<'static> {
        Name(if font == 0 { b"F0" } else { b"F1" })
    }

    pub fn count(&self) -> usize {
        self.fonts.len()
    }

    fn glyph(&mut self, c: char) -> CharGlyph {
        let index = c as usize;
        if let Some(Some(g)) = self.direct.get(index) {
            return *g;
        }
        if let Some(g) = self.chars.get(&c) {
            return *g;
        }
        let found = self
            .fonts
            .iter()
            .enumerate()
            .find_map(|(i, f)| f.face.glyph_index(c).map(|g| (i, g.0)))
            .unwrap_or((0, 0));
        let glyph = CharGlyph {
            font: found.0,
            gid: found.1,
            advance: self.fonts[found.0].hmtx(found.1),
        };
        if index < DIRECT_CACHE {
            self.direct[index] = Some(glyph);
        } else {
            self.chars.insert(c, glyph);
        }
        glyph
    }

    /// Width of a character in thousandths of the font size (0 when invisible).
    pub fn advance(&mut self, c: char) -> f32 {
        if is_invisible(c) {
            0.0
        } else {
            self.glyph(c).advance
        }
    }

    /// Width of a text in thousandths of the font size, without shaping.
    pub fn width(&mut self, text: &str) -> f32 {
        text.chars().map(|c| self.advance(c)).sum()
    }

    /// Glyph runs for text of one direction, in visual order.
    pub fn shape(&mut self, text: &str, rtl: bool) -> Vec<GlyphRun> {
        // Split into runs of one font, in logical order.
        let mut pieces: Vec<(usize, usize, usize)> = Vec::new();
        for (i, c) in text.char_indices() {
            if is_invisible(c) {
                continue;
            }
            let font = self.glyph(c).font;
            match pieces.last_mut() {
                Some((f, _, end)) if *f == font => *end = i + c.len_utf8(),
                _ => pieces.push((font, i, i + c.len_utf8())),
            }
        }
        let mut runs: Vec<GlyphRun> = pieces
            .into_iter()
            .map(|(font, start, end)| {
                let piece = &text[start..end];
                let glyphs = if rtl || piece.contains(needs_shaping) {
                    self.shaped(font, piece, rtl)
                } else {
                    self.direct(font, piece)
                };
                GlyphRun { font, glyphs }
            })
            .collect();
        if rtl {
            runs.reverse();
        }
        runs
    }

    /// One glyph per character, advances from `hmtx`.
    fn direct(&mut self, font: usize, text: &str) -> Vec<Glyph> {
        let mut out = Vec::with_capacity(text.len());
        let mut buf = [0u8; 4];
        for c in text.chars().filter(|c| !is_invisible(*c)) {
            let g = self.glyph(c);
            let cid = self.fonts[font].cid(g.gid, c.encode_utf8(&mut buf));
            out.push(Glyph {
                cid,
                advance: g.advance,
                width: g.advance,
                x_offset: 0.0,
                y_offset: 0.0,
            });
        }
        out
    }

    /// Glyphs from the shaper, which also orders right-to-left text visually.
    fn shaped(&mut self, font: usize, text: &str, rtl: bool) -> Vec<Glyph> {
        let clean: String = text.chars().filter(|c| !is_invisible(*c)).collect();
        let mut buffer = UnicodeBuffer::new();
        buffer.push_str(&clean);
        buffer.set_direction(if rtl {
            Direction::RightToLeft
        } else {
            Direction::LeftToRight
        });
        let shaped = rustybuzz::shape(&self.fonts[font].face, &[], buffer);
        let infos = shaped.glyph_infos();
        let positions = shaped.glyph_positions();
        // Each cluster's text runs to the next larger cluster start.
        let mut starts: Vec<usize> = infos.iter().map(|i| i.cluster as usize).collect();
        starts.sort_unstable();
        starts.dedup();
        let f = &mut self.fonts[font];
        let scale = f.scale;
        let mut seen = std::collections::HashSet::new();
        infos
            .iter()
            .zip(positions)
            .map(|(info, pos)| {
                let start = info.cluster as usize;
                let end = starts
                    .iter()
                    .copied()
                    .find(|s| *s > start)
                    .unwrap_or(clean.len());
                // Only the first glyph of a cluster carries its text.
                let text = if seen.insert(start) {
                    clean.get(start..end).unwrap_or("")
                } else {
                    ""
                };
                let gid = u16::try_from(info.glyph_id).unwrap_or(0);
                let cid = f.cid(gid, text);
                Glyph {
                    cid,
                    advance: pos.x_advance as f32 * scale,
                    width: f.widths[usize::from(cid)],
                    x_offset: pos.x_offset as f32 * scale,
                    y_offset: pos.y_offset as f32 * scale,
                }
            })
            .collect()
    }

    /// Writes the used fonts as subsets; `first` is the first of
    /// [`OBJECTS_PER_FONT`] reserved ids per font, font `i` at
    /// `first + i * OBJECTS_PER_FONT`. Returns the Type 0 font refs by font.
    pub fn write(&self, pdf: &mut Pdf, first: i32) -> Result<Vec<Option<Ref>>, String> {
        let mut refs = Vec::new();
        for (i, font) in self.fonts.iter().enumerate() {
            if !font.used() {
                refs.push(None);
                continue;
            }
            let base = first + i32::try_from(i).unwrap_or(0) * OBJECTS_PER_FONT;
            let (type0, cid_ref, descriptor, file, cmap) = (
                Ref::new(base),
                Ref::new(base + 1),
                Ref::new(base + 2),
                Ref::new(base + 3),
                Ref::new(base + 4),
            );
            let subset = subsetter::subset(font.data, 0, &font.remapper)
                .map_err(|e| format!("could not subset the font {}: {e}", font.name))?;
            let name = Name(font.name.as_bytes());

            pdf.type0_font(type0)
                .base_font(name)
                .encoding_predefined(Name(b"Identity-H"))
                .descendant_font(cid_ref)
                .to_unicode(cmap);

            let system = SystemInfo {
                registry: Str(b"Adobe"),
                ordering: Str(b"Identity"),
                supplement: 0,
            };
            let mut cid = pdf.cid_font(cid_ref);
            cid.subtype(CidFontType::Type2)
                .base_font(name)
                .system_info(system)
                .font_descriptor(descriptor);
            cid.cid_to_gid_map_predefined(Name(b"Identity"));
            cid.widths().consecutive(0, font.widths.iter().copied());
            cid.finish();

            let face = &font.face;
            let s = font.scale;
            let bbox = face.global_bounding_box();
            let bbox = Rect::new(
                f32::from(bbox.x_min) * s,
                f32::from(bbox.y_min) * s,
                f32::from(bbox.x_max) * s,
                f32::from(bbox.y_max) * s,
            );
            let ascent = f32::from(face.ascender()) * s;
            let descent = f32::from(face.descender()) * s;
            let cap_height = face
                .capital_height()
                .map(|h| f32::from(h) * s)
                .unwrap_or(ascent);
            pdf.font_descriptor(descriptor)
                .name(name)
                .flags(FontFlags::SYMBOLIC)
                .bbox(bbox)
                .italic_angle(0.0)
                .ascent(ascent)
                .descent(descent)
                .cap_height(cap_height)
                .stem_v(80.0)
                .font_file2(file);

            let compressed = deflate(&subset)?;
            pdf.stream(file, &compressed)
                .filter(Filter::FlateDecode)
                .pair(
                    Name(b"Length1"),
                    i32::try_from(subset.len()).unwrap_or(i32::MAX),
                );

            let mut unicode = pdf_writer::types::UnicodeCmap::new(Name(b"Custom"), system);
            for (cid, text) in font.unicode.iter().enumerate() {
                if !text.is_empty() {
                    unicode.pair_with_multiple(u16::try_from(cid).unwrap_or(0), text.chars());
                }
            }
            let cmap_bytes = unicode.finish();
            let compressed = deflate(cmap_bytes.as_slice())?;
            pdf.stream(cmap, &compressed).filter(Filter::FlateDecode);
            refs.push(Some(type0));
        }
        Ok(refs)
    }
}

/// zlib (`FlateDecode`) compression.
pub fn deflate(data: &[u8]) -> Result<Vec<u8>, String> {
    let mut encoder = flate2::write::ZlibEncoder::new(
        Vec::with_capacity(data.len() / 3),
        flate2::Compression::default(),
    );
    encoder.write_all(data).map_err(|e| e.to_string())?;
    encoder.finish().map_err(|e| e.to_string())
}

#[cfg(test)]
mod tests {
    use sha2::{Digest, Sha256};

    /// SHA-256 of the TrueType files as Debian ships them
    /// (assets/fonts/README.md).
    const ORIGINALS: [&str; 2] = [
        "abdc775b21b1bc470d50c97e790d276f2054b7504e56e5bd3e64f48d68582322",
        "56d3edfb377a8bc3c4b77f4476405c770173c0e31221ad7c77d0a8e1f3039a3e",
    ];

    #[test]
    fn the_compiled_in_fonts_decompress_to_debians_files_byte_for_byte() {
        let fonts = super::fonts().expect("the fonts decompress");
        for (ttf, want) in fonts.iter().zip(ORIGINALS) {
            let got: String = Sha256::digest(ttf)
                .iter()
                .map(|b| format!("{b:02x}"))
                .collect();
            assert_eq!(got, want);
        }
    }
}
