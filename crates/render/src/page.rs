//! The generic page builder: walks a template's elements and emits printpdf operations.

use std::collections::BTreeMap;
use std::sync::OnceLock;

use printpdf::{
    Codepoint, Color, FontId, Greyscale, Line, LinePoint, Mm, Op, PaintMode, ParsedFont,
    PdfDocument, PdfFontHandle, PdfPage, PdfSaveOptions, Point, Pt, RawImage, RawImageData,
    RawImageFormat, Rect, TextItem, TextMatrix, XObjectTransform,
};

use crate::barcode::{self, DATAMATRIX_QUIET_MODULES, QR_QUIET_MODULES};
use crate::data::{Calibration, FieldSource};
use crate::error::{RenderError, Result};
use crate::fonts::{FontKey, PT_PER_MM, ShapedLine, Style, shape_line};
use crate::template::{Align, DocumentKind, Element, Symbology, Template, style};
use crate::{MRZ_FONT_SIZE_PT, MRZ_PITCH_MM};

/// Everything variable on one page besides the text fields.
pub(crate) struct PageInput<'a> {
    pub kind: DocumentKind,
    pub fields: &'a dyn FieldSource,
    pub mrz_lines: Option<&'a [String; 2]>,
    pub portrait: Option<&'a [u8]>,
    pub barcode: Option<&'a [u8]>,
}

/// Parsed fonts are immutable: parse each bundled font once per process.
fn parsed_font(key: FontKey) -> Result<&'static ParsedFont> {
    static CACHE: OnceLock<Vec<Option<ParsedFont>>> = OnceLock::new();
    let cache = CACHE.get_or_init(|| {
        FontKey::ALL
            .iter()
            .map(|key| ParsedFont::from_bytes(key.bytes(), 0, &mut Vec::new()))
            .collect()
    });
    FontKey::ALL
        .iter()
        .position(|candidate| *candidate == key)
        .and_then(|index| cache.get(index))
        .and_then(Option::as_ref)
        .ok_or(RenderError::BadFont {
            font: key.file_name().to_string(),
        })
}

struct PageBuilder<'t> {
    template: &'t Template,
    calibration: Calibration,
    document: PdfDocument,
    fonts: BTreeMap<FontKey, FontId>,
    ops: Vec<Op>,
}

impl<'t> PageBuilder<'t> {
    fn x_pt(&self, x_mm: f32) -> f32 {
        (x_mm + self.calibration.offset_x_mm) * PT_PER_MM
    }

    /// `y_mm` from the top edge to PDF points from the bottom edge.
    fn y_pt(&self, y_mm: f32) -> f32 {
        (self.template.page.height_mm - y_mm - self.calibration.offset_y_mm) * PT_PER_MM
    }

    fn font(&mut self, key: FontKey) -> Result<FontId> {
        if let Some(id) = self.fonts.get(&key) {
            return Ok(id.clone());
        }
        let id = self.document.add_font(parsed_font(key)?);
        self.fonts.insert(key, id.clone());
        Ok(id)
    }

    fn set_fill_grey(&mut self, grey: f32) {
        self.ops.push(Op::SetFillColor {
            col: Color::Greyscale(Greyscale::new(grey, None)),
        });
    }

    /// Emits a shaped line with its left end at (`x_pt`, baseline `y_pt`).
    fn emit_line(&mut self, line: &ShapedLine, size_pt: f32, x_pt: f32, y_pt: f32) -> Result<()> {
        self.set_fill_grey(0.0);
        self.ops.push(Op::StartTextSection);
        let mut current: Option<FontKey> = None;
        for glyph in &line.glyphs {
            if current != Some(glyph.font) {
                let id = self.font(glyph.font)?;
                self.ops.push(Op::SetFont {
                    font: PdfFontHandle::External(id),
                    size: Pt(size_pt),
                });
                current = Some(glyph.font);
            }
            self.ops.push(Op::SetTextMatrix {
                matrix: TextMatrix::Translate(Pt(x_pt + glyph.x_pt), Pt(y_pt + glyph.y_pt)),
            });
            let codepoint = match &glyph.cluster_text {
                Some(text) => Codepoint::with_cid(glyph.glyph_id, 0.0, text.clone()),
                None => Codepoint::new(glyph.glyph_id, 0.0),
            };
            self.ops.push(Op::ShowText {
                items: vec![TextItem::GlyphIds(vec![codepoint])],
            });
        }
        self.ops.push(Op::EndTextSection);
        Ok(())
    }

    #[allow(clippy::too_many_arguments)]
    fn text_in_box(
        &mut self,
        field: &str,
        text: &str,
        x_mm: f32,
        y_mm: f32,
        width_mm: f32,
        size: f32,
        min_size: Option<f32>,
        text_style: Style,
        align: Align,
    ) -> Result<()> {
        let mut line = shape_line(text, text_style, size, field)?;
        let box_pt = width_mm * PT_PER_MM;
        let mut size_used = size;
        if line.width_pt > box_pt + 0.01 {
            let smallest = min_size.unwrap_or(size);
            let fitted = size * box_pt / line.width_pt;
            if fitted < smallest {
                return Err(RenderError::FieldTooLong {
                    field: field.to_string(),
                    needed_mm: line.width_pt * smallest / size / PT_PER_MM,
                    available_mm: width_mm,
                });
            }
            line = shape_line(text, text_style, fitted, field)?;
            size_used = fitted;
        }
        let shift = match align {
            Align::Left => 0.0,
            Align::Center => (box_pt - line.width_pt) / 2.0,
            Align::Right => box_pt - line.width_pt,
        };
        let (x_pt, y_pt) = (self.x_pt(x_mm) + shift, self.y_pt(y_mm));
        self.emit_line(&line, size_used, x_pt, y_pt)
    }

    fn mrz(&mut self, lines: &[String; 2], x_mm: f32, y_mm: f32, spacing_mm: f32) -> Result<()> {
        let expected = self.template.kind.mrz_line_length().unwrap_or(0);
        for (index, line) in lines.iter().enumerate() {
            let field = format!("mrz_lines[{index}]");
            if line.len() != expected {
                return Err(RenderError::InvalidField {
                    field,
                    message: format!(
                        "{} characters, a {} MRZ line has {expected}",
                        line.len(),
                        self.template.kind.name()
                    ),
                });
            }
            if let Some(bad) = line
                .chars()
                .find(|c| !(c.is_ascii_uppercase() || c.is_ascii_digit() || *c == '<'))
            {
                return Err(RenderError::InvalidField {
                    field,
                    message: format!("character {bad:?} is not in the MRZ set A-Z 0-9 <"),
                });
            }
        }
        let font = parsed_font(FontKey::OcrB)?;
        let id = self.font(FontKey::OcrB)?;
        self.set_fill_grey(0.0);
        self.ops.push(Op::StartTextSection);
        self.ops.push(Op::SetFont {
            font: PdfFontHandle::External(id),
            size: Pt(MRZ_FONT_SIZE_PT),
        });
        for (index, line) in lines.iter().enumerate() {
            let baseline = self.y_pt(y_mm + index as f32 * spacing_mm);
            for (position, character) in line.chars().enumerate() {
                let glyph_id =
                    font.lookup_glyph_index(character as u32)
                        .ok_or(RenderError::MissingGlyph {
                            field: format!("mrz_lines[{index}]"),
                            codepoint: character as u32,
                            font: FontKey::OcrB.file_name().to_string(),
                        })?;
                // Every character cell starts exactly on the 2.54 mm grid.
                let x = self.x_pt(x_mm + position as f32 * MRZ_PITCH_MM);
                self.ops.push(Op::SetTextMatrix {
                    matrix: TextMatrix::Translate(Pt(x), Pt(baseline)),
                });
                self.ops.push(Op::ShowText {
                    items: vec![TextItem::GlyphIds(vec![Codepoint::with_cid(
                        glyph_id,
                        0.0,
                        character.to_string(),
                    )])],
                });
            }
        }
        self.ops.push(Op::EndTextSection);
        Ok(())
    }

    fn rectangle(
        &mut self,
        x_mm: f32,
        y_mm: f32,
        width_mm: f32,
        height_mm: f32,
        line_width: f32,
        fill_grey: Option<f32>,
    ) {
        let mode = match (line_width > 0.0, fill_grey) {
            (true, Some(_)) => PaintMode::FillStroke,
            (false, Some(_)) => PaintMode::Fill,
            (true, None) => PaintMode::Stroke,
            (false, None) => return,
        };
        if let Some(grey) = fill_grey {
            self.set_fill_grey(grey);
        }
        self.ops.push(Op::SetOutlineColor {
            col: Color::Greyscale(Greyscale::new(0.0, None)),
        });
        self.ops
            .push(Op::SetOutlineThickness { pt: Pt(line_width) });
        let mut rect = Rect::from_xywh(
            Pt(self.x_pt(x_mm)),
            Pt(self.y_pt(y_mm + height_mm)),
            Pt(width_mm * PT_PER_MM),
            Pt(height_mm * PT_PER_MM),
        );
        rect.mode = Some(mode);
        self.ops.push(Op::DrawRectangle { rectangle: rect });
    }

    fn line(&mut self, x1: f32, y1: f32, x2: f32, y2: f32, line_width: f32) {
        self.ops.push(Op::SetOutlineColor {
            col: Color::Greyscale(Greyscale::new(0.0, None)),
        });
        self.ops
            .push(Op::SetOutlineThickness { pt: Pt(line_width) });
        let point = |x: f32, y: f32| LinePoint {
            p: Point { x: Pt(x), y: Pt(y) },
            bezier: false,
        };
        self.ops.push(Op::DrawLine {
            line: Line {
                points: vec![
                    point(self.x_pt(x1), self.y_pt(y1)),
                    point(self.x_pt(x2), self.y_pt(y2)),
                ],
                is_closed: false,
            },
        });
    }

    #[allow(clippy::too_many_arguments)]
    fn image(
        &mut self,
        bytes: Option<&[u8]>,
        x_mm: f32,
        y_mm: f32,
        width_mm: f32,
        height_mm: f32,
        required: bool,
        placeholder: Option<&str>,
    ) -> Result<()> {
        let Some(bytes) = bytes.filter(|b| !b.is_empty()) else {
            if required {
                return Err(RenderError::MissingField {
                    field: "portrait_jpeg".to_string(),
                    template: self.template.name.clone(),
                });
            }
            self.rectangle(x_mm, y_mm, width_mm, height_mm, 0.5, None);
            if let Some(text) = placeholder {
                let size = 7.0;
                self.text_in_box(
                    "placeholder",
                    text,
                    x_mm + 1.0,
                    y_mm + height_mm / 2.0,
                    width_mm - 2.0,
                    size,
                    Some(4.0),
                    Style::Regular,
                    Align::Center,
                )?;
            }
            return Ok(());
        };
        let decoded =
            image::load_from_memory(bytes).map_err(|error| RenderError::UnreadableImage {
                field: "portrait_jpeg".to_string(),
                message: error.to_string(),
            })?;
        // Keep at most 300 pixels per inch of the box: a camera original would bloat the PDF.
        let max_w = (width_mm / 25.4 * 300.0).ceil() as u32;
        let max_h = (height_mm / 25.4 * 300.0).ceil() as u32;
        let decoded = if decoded.width() > max_w || decoded.height() > max_h {
            decoded.resize(max_w, max_h, image::imageops::FilterType::Triangle)
        } else {
            decoded
        };
        let rgb = decoded.to_rgb8();
        let (pixel_w, pixel_h) = rgb.dimensions();
        if pixel_w == 0 || pixel_h == 0 {
            return Err(RenderError::UnreadableImage {
                field: "portrait_jpeg".to_string(),
                message: "image has no pixels".to_string(),
            });
        }
        let raw = RawImage {
            pixels: RawImageData::U8(rgb.into_raw()),
            width: pixel_w as usize,
            height: pixel_h as usize,
            data_format: RawImageFormat::RGB8,
            tag: Vec::new(),
        };
        let id = self.document.add_image(&raw);
        // At dpi 72 one pixel is one point; scale to fit the box, centred.
        let box_w = width_mm * PT_PER_MM;
        let box_h = height_mm * PT_PER_MM;
        let scale = (box_w / pixel_w as f32).min(box_h / pixel_h as f32);
        let drawn_w = pixel_w as f32 * scale;
        let drawn_h = pixel_h as f32 * scale;
        let left = self.x_pt(x_mm) + (box_w - drawn_w) / 2.0;
        let bottom = self.y_pt(y_mm + height_mm) + (box_h - drawn_h) / 2.0;
        self.ops.push(Op::UseXobject {
            id,
            transform: XObjectTransform {
                translate_x: Some(Pt(left)),
                translate_y: Some(Pt(bottom)),
                scale_x: Some(scale),
                scale_y: Some(scale),
                dpi: Some(72.0),
                ..Default::default()
            },
        });
        Ok(())
    }

    #[allow(clippy::too_many_arguments)]
    fn barcode(
        &mut self,
        field: &str,
        data: &[u8],
        symbology: Symbology,
        x_mm: f32,
        y_mm: f32,
        size_mm: f32,
        min_module: Option<f32>,
    ) -> Result<()> {
        let data_field = match symbology {
            Symbology::DataMatrix => "seal_bytes",
            Symbology::Qr => "qr_payload",
        };
        if data.is_empty() {
            return Err(RenderError::MissingField {
                field: data_field.to_string(),
                template: self.template.name.clone(),
            });
        }
        let matrix = barcode::encode(symbology, data)?;
        let dpi = self.calibration.dpi;
        let module = barcode::module_size_mm(dpi, min_module);
        let quiet = match symbology {
            Symbology::DataMatrix => DATAMATRIX_QUIET_MODULES,
            Symbology::Qr => QR_QUIET_MODULES,
        };
        let total_w = (matrix.width() + 2 * quiet) as f32 * module;
        let total_h = (matrix.height() + 2 * quiet) as f32 * module;
        if total_w > size_mm + 1e-3 || total_h > size_mm + 1e-3 {
            return Err(RenderError::BarcodeTooLarge {
                field: field.to_string(),
                needed_mm: total_w.max(total_h),
                available_mm: size_mm,
                module_mm: module,
            });
        }
        // Centre in the box, then snap the symbol's origin (in printer coordinates) to whole dots.
        let dot_mm = 25.4 / dpi as f32;
        let snap = |value: f32| (value / dot_mm).round() * dot_mm;
        let left_mm = snap(x_mm + self.calibration.offset_x_mm + (size_mm - total_w) / 2.0)
            - self.calibration.offset_x_mm;
        let top_mm = snap(y_mm + self.calibration.offset_y_mm + (size_mm - total_h) / 2.0)
            - self.calibration.offset_y_mm;
        // White quiet zone (security paper may carry background print).
        self.rectangle(left_mm, top_mm, total_w, total_h, 0.0, Some(1.0));
        self.set_fill_grey(0.0);
        let origin_x = left_mm + quiet as f32 * module;
        let origin_y = top_mm + quiet as f32 * module;
        for (row, column, length) in matrix.dark_runs() {
            let mut rect = Rect::from_xywh(
                Pt(self.x_pt(origin_x + column as f32 * module)),
                Pt(self.y_pt(origin_y + (row + 1) as f32 * module)),
                Pt(length as f32 * module * PT_PER_MM),
                Pt(module * PT_PER_MM),
            );
            rect.mode = Some(PaintMode::Fill);
            self.ops.push(Op::DrawRectangle { rectangle: rect });
        }
        Ok(())
    }
}

pub(crate) fn render_page(
    template: &Template,
    calibration: &Calibration,
    input: &PageInput<'_>,
) -> Result<Vec<u8>> {
    if template.kind != input.kind {
        return Err(RenderError::TemplateKindMismatch {
            template: template.name.clone(),
            found: template.kind.name().to_string(),
            expected: input.kind.name().to_string(),
        });
    }
    check_calibration(calibration)?;
    let mut builder = PageBuilder {
        template,
        calibration: *calibration,
        document: PdfDocument::new(&template.name),
        fonts: BTreeMap::new(),
        ops: Vec::new(),
    };
    for element in &template.elements {
        match element {
            Element::Text {
                x,
                y,
                width,
                size,
                bold,
                align,
                text,
            } => {
                // Labels may shrink to 60 % of their size; beyond that the layout needs fixing.
                let label = format!("label {text:?}");
                builder.text_in_box(
                    &label,
                    text,
                    *x,
                    *y,
                    *width,
                    *size,
                    Some(*size * 0.6),
                    style(*bold),
                    *align,
                )?;
            }
            Element::Field {
                field,
                x,
                y,
                width,
                size,
                min_size,
                bold,
                align,
                required,
            } => {
                let value = input.fields.text(field).unwrap_or_default();
                if value.trim().is_empty() {
                    if *required {
                        return Err(RenderError::MissingField {
                            field: field.clone(),
                            template: template.name.clone(),
                        });
                    }
                    continue;
                }
                if value.chars().any(char::is_control) {
                    return Err(RenderError::InvalidField {
                        field: field.clone(),
                        message: "contains control characters".to_string(),
                    });
                }
                builder.text_in_box(
                    field,
                    &value,
                    *x,
                    *y,
                    *width,
                    *size,
                    *min_size,
                    style(*bold),
                    *align,
                )?;
            }
            Element::Mrz { x, y, line_spacing } => {
                let lines = input.mrz_lines.ok_or_else(|| RenderError::MissingField {
                    field: "mrz_lines".to_string(),
                    template: template.name.clone(),
                })?;
                builder.mrz(lines, *x, *y, *line_spacing)?;
            }
            Element::Image {
                x,
                y,
                width,
                height,
                required,
                placeholder,
                ..
            } => {
                builder.image(
                    input.portrait,
                    *x,
                    *y,
                    *width,
                    *height,
                    *required,
                    placeholder.as_deref(),
                )?;
            }
            Element::Barcode {
                field,
                symbology,
                x,
                y,
                size,
                min_module,
            } => {
                builder.barcode(
                    field,
                    input.barcode.unwrap_or_default(),
                    *symbology,
                    *x,
                    *y,
                    *size,
                    *min_module,
                )?;
            }
            Element::Box {
                x,
                y,
                width,
                height,
                line_width,
                fill_grey,
            } => {
                builder.rectangle(*x, *y, *width, *height, *line_width, *fill_grey);
            }
            Element::Line {
                x1,
                y1,
                x2,
                y2,
                line_width,
            } => builder.line(*x1, *y1, *x2, *y2, *line_width),
        }
    }
    let page = PdfPage::new(
        Mm(template.page.width_mm),
        Mm(template.page.height_mm),
        builder.ops,
    );
    let mut warnings = Vec::new();
    let bytes = builder
        .document
        .with_pages(vec![page])
        .save(&PdfSaveOptions::default(), &mut warnings);
    Ok(bytes)
}

fn check_calibration(calibration: &Calibration) -> Result<()> {
    if !(72..=4800).contains(&calibration.dpi) {
        return Err(RenderError::InvalidCalibration {
            field: "dpi",
            message: format!("{} is not in 72..=4800", calibration.dpi),
        });
    }
    for (field, value) in [
        ("offset_x_mm", calibration.offset_x_mm),
        ("offset_y_mm", calibration.offset_y_mm),
    ] {
        if !value.is_finite() || value.abs() > 20.0 {
            return Err(RenderError::InvalidCalibration {
                field,
                message: format!("{value} is not within ±20 mm"),
            });
        }
    }
    Ok(())
}
