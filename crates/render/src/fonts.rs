//! The bundled fonts, script segmentation and shaping (rustybuzz).
//!
//! printpdf maps characters straight to glyphs, which breaks Sinhala conjuncts and Tamil vowel-sign
//! reordering. Every run of text is therefore shaped here with rustybuzz and placed glyph by glyph.

use crate::error::{RenderError, Result};

/// A text style a template can ask for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Style {
    /// Regular weight.
    Regular,
    /// Bold weight.
    Bold,
}

/// The scripts travdoc sets, each with its own font family.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Script {
    /// Latin, digits, punctuation and anything not listed below.
    Latin,
    /// Sinhala block (U+0D80..U+0DFF).
    Sinhala,
    /// Tamil block (U+0B80..U+0BFF).
    Tamil,
}

/// One of the bundled font files.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum FontKey {
    /// OCR-B, for the MRZ.
    OcrB,
    /// Noto Sans Regular.
    LatinRegular,
    /// Noto Sans Bold.
    LatinBold,
    /// Noto Sans Sinhala Regular.
    SinhalaRegular,
    /// Noto Sans Sinhala Bold.
    SinhalaBold,
    /// Noto Sans Tamil Regular.
    TamilRegular,
    /// Noto Sans Tamil Bold.
    TamilBold,
}

impl FontKey {
    /// Every bundled font.
    pub const ALL: [FontKey; 7] = [
        FontKey::OcrB,
        FontKey::LatinRegular,
        FontKey::LatinBold,
        FontKey::SinhalaRegular,
        FontKey::SinhalaBold,
        FontKey::TamilRegular,
        FontKey::TamilBold,
    ];

    /// File name under `fonts/`.
    pub fn file_name(self) -> &'static str {
        match self {
            FontKey::OcrB => "OCRB.otf",
            FontKey::LatinRegular => "NotoSans-Regular.ttf",
            FontKey::LatinBold => "NotoSans-Bold.ttf",
            FontKey::SinhalaRegular => "NotoSansSinhala-Regular.ttf",
            FontKey::SinhalaBold => "NotoSansSinhala-Bold.ttf",
            FontKey::TamilRegular => "NotoSansTamil-Regular.ttf",
            FontKey::TamilBold => "NotoSansTamil-Bold.ttf",
        }
    }

    /// The bundled bytes of this font.
    pub fn bytes(self) -> &'static [u8] {
        match self {
            FontKey::OcrB => include_bytes!("../../../fonts/OCRB.otf"),
            FontKey::LatinRegular => include_bytes!("../../../fonts/NotoSans-Regular.ttf"),
            FontKey::LatinBold => include_bytes!("../../../fonts/NotoSans-Bold.ttf"),
            FontKey::SinhalaRegular => include_bytes!("../../../fonts/NotoSansSinhala-Regular.ttf"),
            FontKey::SinhalaBold => include_bytes!("../../../fonts/NotoSansSinhala-Bold.ttf"),
            FontKey::TamilRegular => include_bytes!("../../../fonts/NotoSansTamil-Regular.ttf"),
            FontKey::TamilBold => include_bytes!("../../../fonts/NotoSansTamil-Bold.ttf"),
        }
    }

    /// The font for a script and style.
    pub fn for_script(script: Script, style: Style) -> FontKey {
        match (script, style) {
            (Script::Latin, Style::Regular) => FontKey::LatinRegular,
            (Script::Latin, Style::Bold) => FontKey::LatinBold,
            (Script::Sinhala, Style::Regular) => FontKey::SinhalaRegular,
            (Script::Sinhala, Style::Bold) => FontKey::SinhalaBold,
            (Script::Tamil, Style::Regular) => FontKey::TamilRegular,
            (Script::Tamil, Style::Bold) => FontKey::TamilBold,
        }
    }
}

/// The script of one character; `None` for characters that take the script of their neighbours
/// (joiners and combining marks).
fn script_of(c: char) -> Option<Script> {
    match c as u32 {
        0x0D80..=0x0DFF => Some(Script::Sinhala),
        0x0B80..=0x0BFF => Some(Script::Tamil),
        0x200C | 0x200D | 0x0300..=0x036F => None,
        _ => Some(Script::Latin),
    }
}

/// Splits text into runs of one script each (joiners stay with the run they are in).
pub fn split_scripts(text: &str) -> Vec<(Script, &str)> {
    let mut runs: Vec<(Script, &str)> = Vec::new();
    let mut start = 0usize;
    let mut current: Option<Script> = None;
    for (index, c) in text.char_indices() {
        let Some(script) = script_of(c) else { continue };
        match current {
            Some(active) if active != script => {
                runs.push((active, &text[start..index]));
                start = index;
                current = Some(script);
            }
            None => current = Some(script),
            Some(_) => {}
        }
    }
    if start < text.len() {
        runs.push((current.unwrap_or(Script::Latin), &text[start..]));
    }
    runs
}

/// One glyph placed on a line, relative to the start of the line (points, y up).
#[derive(Debug, Clone)]
pub struct PlacedGlyph {
    /// Font the glyph id refers to.
    pub font: FontKey,
    /// Glyph id in that font.
    pub glyph_id: u16,
    /// Horizontal position of the glyph origin, points from the line start.
    pub x_pt: f32,
    /// Vertical offset from the baseline, points.
    pub y_pt: f32,
    /// The source text of the cluster this glyph starts (for the PDF text layer), if it starts one.
    pub cluster_text: Option<String>,
}

/// A shaped line of text.
#[derive(Debug, Clone, Default)]
pub struct ShapedLine {
    /// Glyphs in visual order.
    pub glyphs: Vec<PlacedGlyph>,
    /// Advance width of the whole line, points.
    pub width_pt: f32,
}

/// Shapes `text` at `size_pt` in `style`, choosing the font per script run.
///
/// `field` names the data field for error messages.
pub fn shape_line(text: &str, style: Style, size_pt: f32, field: &str) -> Result<ShapedLine> {
    let mut line = ShapedLine::default();
    for (script, run) in split_scripts(text) {
        let font = FontKey::for_script(script, style);
        shape_run(&mut line, run, font, size_pt, field)?;
    }
    Ok(line)
}

/// Shapes one run in one font and appends it to `line`.
pub fn shape_run(
    line: &mut ShapedLine,
    run: &str,
    font: FontKey,
    size_pt: f32,
    field: &str,
) -> Result<()> {
    let face = rustybuzz::Face::from_slice(font.bytes(), 0).ok_or(RenderError::BadFont {
        font: font.file_name().to_string(),
    })?;
    let scale = size_pt / face.units_per_em() as f32;
    let mut buffer = rustybuzz::UnicodeBuffer::new();
    buffer.push_str(run);
    buffer.guess_segment_properties();
    let shaped = rustybuzz::shape(&face, &[], buffer);
    let infos = shaped.glyph_infos();
    let positions = shaped.glyph_positions();
    // Cluster boundaries (byte offsets into `run`), to attach source text to the first glyph.
    let mut cluster_starts: Vec<usize> = infos.iter().map(|info| info.cluster as usize).collect();
    cluster_starts.sort_unstable();
    cluster_starts.dedup();
    let mut previous_cluster: Option<u32> = None;
    for (info, position) in infos.iter().zip(positions) {
        let glyph_id = u16::try_from(info.glyph_id).map_err(|_| RenderError::BadFont {
            font: font.file_name().to_string(),
        })?;
        if glyph_id == 0 {
            let codepoint = run
                .get(info.cluster as usize..)
                .and_then(|rest| rest.chars().next())
                .map_or(0, |c| c as u32);
            return Err(RenderError::MissingGlyph {
                field: field.to_string(),
                codepoint,
                font: font.file_name().to_string(),
            });
        }
        let cluster_text = if previous_cluster == Some(info.cluster) {
            None
        } else {
            let start = info.cluster as usize;
            let end = cluster_starts
                .iter()
                .copied()
                .find(|&s| s > start)
                .unwrap_or(run.len());
            run.get(start..end).map(str::to_string)
        };
        previous_cluster = Some(info.cluster);
        line.glyphs.push(PlacedGlyph {
            font,
            glyph_id,
            x_pt: line.width_pt + position.x_offset as f32 * scale,
            y_pt: position.y_offset as f32 * scale,
            cluster_text,
        });
        line.width_pt += position.x_advance as f32 * scale;
    }
    Ok(())
}

/// Points per millimetre.
pub const PT_PER_MM: f32 = 72.0 / 25.4;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn scripts_are_split_and_joiners_stay_in_their_run() {
        let runs = split_scripts("ශ්\u{200D}රී ලංකා / இலங்கை / Sri Lanka");
        let scripts: Vec<Script> = runs.iter().map(|(s, _)| *s).collect();
        assert_eq!(
            scripts,
            vec![
                Script::Sinhala,
                Script::Latin,
                Script::Sinhala,
                Script::Latin,
                Script::Tamil,
                Script::Latin
            ]
        );
        assert_eq!(runs[0].1, "ශ්\u{200D}රී");
    }

    #[test]
    fn sinhala_conjunct_is_shaped_to_fewer_glyphs_than_characters() {
        // ශ්‍රී: SHA, AL-LAKUNA, ZWJ, RA, II -> a shaped conjunct, far fewer glyphs than 5 chars.
        let line = shape_line("ශ්\u{200D}රී", Style::Regular, 10.0, "t").unwrap();
        assert!(line.glyphs.len() < 5, "{} glyphs", line.glyphs.len());
        assert!(line.width_pt > 1.0);
    }

    #[test]
    fn tamil_vowel_sign_is_reordered_before_the_consonant() {
        // கை = KA + AI sign; the AI sign is drawn to the left of KA.
        let face = rustybuzz::Face::from_slice(FontKey::TamilRegular.bytes(), 0).unwrap();
        let ka = face.glyph_index('க').unwrap().0;
        let line = shape_line("கை", Style::Regular, 10.0, "t").unwrap();
        assert_eq!(line.glyphs.len(), 2);
        assert_eq!(
            line.glyphs[1].glyph_id, ka,
            "KA must come after the vowel sign"
        );
    }

    #[test]
    fn a_character_without_glyph_names_the_field() {
        let error = shape_line("\u{4E2D}", Style::Regular, 10.0, "surname").unwrap_err();
        assert!(matches!(error, RenderError::MissingGlyph { ref field, .. } if field == "surname"));
    }
}
