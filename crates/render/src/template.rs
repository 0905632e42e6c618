//! Declarative page layouts (TOML files under `templates/`).
//!
//! Coordinates are millimetres from the **top-left** corner of the page (as a designer measures on
//! paper); text `y` is the baseline. The renderer converts to PDF's bottom-left origin.

use serde::Deserialize;

use crate::error::{RenderError, Result};
use crate::fonts::Style;

/// Which document a template lays out; decides which data fields it may use.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum DocumentKind {
    /// Passport data page (TD3).
    PassportDatapage,
    /// Temporary travel document, single sheet (ETD, ICAO 9303 Part 8).
    TtdSheet,
    /// Legalization certificate.
    LegalizationCertificate,
}

impl DocumentKind {
    /// The name used in templates and printer profiles.
    pub fn name(self) -> &'static str {
        match self {
            DocumentKind::PassportDatapage => "passport-datapage",
            DocumentKind::TtdSheet => "ttd-sheet",
            DocumentKind::LegalizationCertificate => "legalization-certificate",
        }
    }

    /// The text fields this kind of document provides.
    pub fn text_fields(self) -> &'static [&'static str] {
        match self {
            DocumentKind::PassportDatapage => crate::data::PASSPORT_TEXT_FIELDS,
            DocumentKind::TtdSheet => crate::data::TTD_TEXT_FIELDS,
            DocumentKind::LegalizationCertificate => crate::data::LEGALIZATION_TEXT_FIELDS,
        }
    }

    /// Number of MRZ characters per line, if the document carries an MRZ.
    pub fn mrz_line_length(self) -> Option<usize> {
        match self {
            DocumentKind::PassportDatapage => Some(44),
            DocumentKind::TtdSheet => Some(36),
            DocumentKind::LegalizationCertificate => None,
        }
    }
}

/// Horizontal alignment of text inside its box.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, Default)]
#[serde(rename_all = "kebab-case")]
pub enum Align {
    /// Left edge at `x`.
    #[default]
    Left,
    /// Centred in `x .. x + width`.
    Center,
    /// Right edge at `x + width`.
    Right,
}

/// Barcode symbology.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Symbology {
    /// Data Matrix ECC200 (binary seal bytes, base256).
    DataMatrix,
    /// QR code (text payload).
    Qr,
}

/// Page size.
#[derive(Debug, Clone, Copy, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PageSize {
    /// Width, mm.
    pub width_mm: f32,
    /// Height, mm.
    pub height_mm: f32,
}

/// One thing drawn on the page.
#[derive(Debug, Clone, Deserialize)]
#[serde(tag = "type", rename_all = "kebab-case", deny_unknown_fields)]
pub enum Element {
    /// Fixed text (labels, titles). May mix Sinhala, Tamil and Latin.
    Text {
        /// Left of the box, mm.
        x: f32,
        /// Baseline, mm from the top.
        y: f32,
        /// Box width, mm (the text must fit).
        width: f32,
        /// Font size, pt.
        size: f32,
        /// Bold instead of regular.
        #[serde(default)]
        bold: bool,
        /// Alignment in the box.
        #[serde(default)]
        align: Align,
        /// The text.
        text: String,
    },
    /// A data field.
    Field {
        /// Field name (see the data structs).
        field: String,
        /// Left of the box, mm.
        x: f32,
        /// Baseline, mm from the top.
        y: f32,
        /// Box width, mm.
        width: f32,
        /// Font size, pt.
        size: f32,
        /// The renderer may shrink the text down to this size before reporting it too long.
        #[serde(default)]
        min_size: Option<f32>,
        /// Bold instead of regular.
        #[serde(default)]
        bold: bool,
        /// Alignment in the box.
        #[serde(default)]
        align: Align,
        /// An empty value is an error.
        #[serde(default)]
        required: bool,
    },
    /// The machine readable zone, set in OCR-B at 2.54 mm pitch.
    Mrz {
        /// Left edge of the first character, mm.
        x: f32,
        /// Baseline of the first line, mm from the top.
        y: f32,
        /// Distance between baselines, mm.
        line_spacing: f32,
    },
    /// An image field (the portrait), fitted into the box keeping its aspect ratio.
    Image {
        /// Field name (`portrait`).
        field: String,
        /// Left, mm.
        x: f32,
        /// Top, mm.
        y: f32,
        /// Width, mm.
        width: f32,
        /// Height, mm.
        height: f32,
        /// A missing image is an error (otherwise an empty frame is drawn).
        #[serde(default)]
        required: bool,
        /// Text in the empty frame when the image is absent.
        #[serde(default)]
        placeholder: Option<String>,
    },
    /// A 2D barcode, centred in a square box.
    Barcode {
        /// Field name (`seal` or `qr_payload`).
        field: String,
        /// Symbology.
        symbology: Symbology,
        /// Left, mm.
        x: f32,
        /// Top, mm.
        y: f32,
        /// Side of the square box, mm (the symbol plus its quiet zone must fit).
        size: f32,
        /// Smallest module, mm (raised to whole printer dots; never below the ICAO 0.3386 mm).
        #[serde(default)]
        min_module: Option<f32>,
    },
    /// A rectangle frame (optionally filled grey).
    Box {
        /// Left, mm.
        x: f32,
        /// Top, mm.
        y: f32,
        /// Width, mm.
        width: f32,
        /// Height, mm.
        height: f32,
        /// Line width, pt (0 = no frame).
        #[serde(default = "default_line_width")]
        line_width: f32,
        /// Fill grey level 0 (black) ..= 1 (white); none = no fill.
        #[serde(default)]
        fill_grey: Option<f32>,
    },
    /// A straight line.
    Line {
        /// Start x, mm.
        x1: f32,
        /// Start y, mm from the top.
        y1: f32,
        /// End x, mm.
        x2: f32,
        /// End y, mm from the top.
        y2: f32,
        /// Line width, pt.
        #[serde(default = "default_line_width")]
        line_width: f32,
    },
}

fn default_line_width() -> f32 {
    0.5
}

impl Element {
    fn kind(&self) -> &'static str {
        match self {
            Element::Text { .. } => "text",
            Element::Field { .. } => "field",
            Element::Mrz { .. } => "mrz",
            Element::Image { .. } => "image",
            Element::Barcode { .. } => "barcode",
            Element::Box { .. } => "box",
            Element::Line { .. } => "line",
        }
    }
}

/// A validated page layout.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Template {
    /// Template name (e.g. `ttd-sheet`).
    pub name: String,
    /// Document kind.
    pub kind: DocumentKind,
    /// Page size.
    pub page: PageSize,
    /// Elements, drawn in order.
    #[serde(rename = "element", default)]
    pub elements: Vec<Element>,
}

/// The bundled template files.
pub const BUILTIN_TEMPLATES: [(&str, &str); 3] = [
    (
        "passport-datapage",
        include_str!("../../../templates/passport-datapage.toml"),
    ),
    (
        "ttd-sheet",
        include_str!("../../../templates/ttd-sheet.toml"),
    ),
    (
        "legalization-certificate",
        include_str!("../../../templates/legalization-certificate.toml"),
    ),
];

impl Template {
    /// Parses and validates a template. `source_name` (a file name) is used in error messages.
    pub fn from_toml(source_name: &str, text: &str) -> Result<Template> {
        let template: Template =
            toml::from_str(text).map_err(|error| RenderError::TemplateSyntax {
                name: source_name.to_string(),
                message: error.to_string(),
            })?;
        template.validate()?;
        Ok(template)
    }

    /// Reads a template file.
    pub fn from_file(path: &std::path::Path) -> Result<Template> {
        let name = path.display().to_string();
        let text = std::fs::read_to_string(path).map_err(|error| RenderError::TemplateSyntax {
            name: name.clone(),
            message: error.to_string(),
        })?;
        Template::from_toml(&name, &text)
    }

    /// One of the bundled templates by name (`passport-datapage`, `ttd-sheet`,
    /// `legalization-certificate`).
    pub fn builtin(name: &str) -> Result<Template> {
        let (_, text) = BUILTIN_TEMPLATES
            .iter()
            .find(|(builtin, _)| *builtin == name)
            .ok_or_else(|| RenderError::TemplateSyntax {
                name: name.to_string(),
                message: "no bundled template of that name".to_string(),
            })?;
        Template::from_toml(name, text)
    }

    fn invalid(&self, index: usize, element: &Element, message: String) -> RenderError {
        RenderError::TemplateInvalid {
            template: self.name.clone(),
            element: format!("#{index} {}", element.kind()),
            message,
        }
    }

    fn validate(&self) -> Result<()> {
        let page = self.page;
        if !(10.0..=1000.0).contains(&page.width_mm) || !(10.0..=1000.0).contains(&page.height_mm) {
            return Err(RenderError::TemplateSyntax {
                name: self.name.clone(),
                message: format!(
                    "page size {} x {} mm is out of range",
                    page.width_mm, page.height_mm
                ),
            });
        }
        let inside = |x: f32, y: f32, w: f32, h: f32| {
            x.is_finite()
                && y.is_finite()
                && w >= 0.0
                && h >= 0.0
                && x >= 0.0
                && y >= 0.0
                && x + w <= page.width_mm + 0.01
                && y + h <= page.height_mm + 0.01
        };
        let text_fields = self.kind.text_fields();
        let mut mrz_count = 0;
        for (index, element) in self.elements.iter().enumerate() {
            let fail = |message: String| Err(self.invalid(index, element, message));
            match element {
                Element::Text {
                    x,
                    y,
                    width,
                    size,
                    text,
                    ..
                } => {
                    if !(inside(*x, *y, *width, 0.0) && *size > 0.0 && *size <= 72.0)
                        || text.is_empty()
                    {
                        return fail(
                            "box outside the page, size not in 0..72 pt or empty text".into(),
                        );
                    }
                }
                Element::Field {
                    field,
                    x,
                    y,
                    width,
                    size,
                    min_size,
                    ..
                } => {
                    if !text_fields.contains(&field.as_str()) {
                        return fail(format!(
                            "unknown field {field:?} for a {} (known: {})",
                            self.kind.name(),
                            text_fields.join(", ")
                        ));
                    }
                    if !(inside(*x, *y, *width, 0.0) && *size > 0.0 && *size <= 72.0) {
                        return fail(format!(
                            "field {field}: box outside the page or size not in 0..72 pt"
                        ));
                    }
                    if min_size.is_some_and(|min| !(min > 0.0 && min <= *size)) {
                        return fail(format!("field {field}: min_size must be in 0..size"));
                    }
                }
                Element::Mrz { x, y, line_spacing } => {
                    mrz_count += 1;
                    let Some(chars) = self.kind.mrz_line_length() else {
                        return fail(format!("a {} has no MRZ", self.kind.name()));
                    };
                    let width = chars as f32 * crate::MRZ_PITCH_MM;
                    if !inside(*x, *y, width, *line_spacing) || *line_spacing < 3.0 {
                        return fail("MRZ zone outside the page or line spacing below 3 mm".into());
                    }
                }
                Element::Image {
                    field,
                    x,
                    y,
                    width,
                    height,
                    ..
                } => {
                    if field != "portrait" {
                        return fail(format!("unknown image field {field:?} (known: portrait)"));
                    }
                    if !inside(*x, *y, *width, *height) || *width < 1.0 || *height < 1.0 {
                        return fail("image box outside the page or smaller than 1 mm".into());
                    }
                }
                Element::Barcode {
                    field,
                    symbology,
                    x,
                    y,
                    size,
                    min_module,
                } => {
                    let expected = match (self.kind, symbology) {
                        (DocumentKind::LegalizationCertificate, Symbology::Qr) => "qr_payload",
                        (DocumentKind::TtdSheet, Symbology::DataMatrix) => "seal",
                        _ => {
                            return fail(format!(
                                "a {} carries no {symbology:?} barcode",
                                self.kind.name()
                            ));
                        }
                    };
                    if field != expected {
                        return fail(format!(
                            "unknown barcode field {field:?} (known: {expected})"
                        ));
                    }
                    if !inside(*x, *y, *size, *size) || *size < 5.0 {
                        return fail("barcode box outside the page or smaller than 5 mm".into());
                    }
                    if min_module.is_some_and(|module| !(0.1..=5.0).contains(&module)) {
                        return fail("min_module must be in 0.1..5 mm".into());
                    }
                }
                Element::Box {
                    x,
                    y,
                    width,
                    height,
                    line_width,
                    fill_grey,
                } => {
                    if !inside(*x, *y, *width, *height) || *line_width < 0.0 {
                        return fail("box outside the page or negative line width".into());
                    }
                    if fill_grey.is_some_and(|grey| !(0.0..=1.0).contains(&grey)) {
                        return fail("fill_grey must be in 0..1".into());
                    }
                }
                Element::Line {
                    x1,
                    y1,
                    x2,
                    y2,
                    line_width,
                } => {
                    if !inside(*x1, *y1, 0.0, 0.0)
                        || !inside(*x2, *y2, 0.0, 0.0)
                        || *line_width <= 0.0
                    {
                        return fail("line end outside the page or line width not positive".into());
                    }
                }
            }
        }
        if self.kind.mrz_line_length().is_some() && mrz_count != 1 {
            return Err(RenderError::TemplateSyntax {
                name: self.name.clone(),
                message: format!(
                    "a {} template needs exactly one mrz element, found {mrz_count}",
                    self.kind.name()
                ),
            });
        }
        Ok(())
    }
}

pub(crate) fn style(bold: bool) -> Style {
    if bold { Style::Bold } else { Style::Regular }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bundled_templates_load() {
        for (name, _) in BUILTIN_TEMPLATES {
            let template = Template::builtin(name).unwrap();
            assert_eq!(template.kind.name(), name);
            assert!(!template.elements.is_empty());
        }
    }

    #[test]
    fn an_unknown_field_names_the_element_and_the_field() {
        let text = r#"
name = "t"
kind = "ttd-sheet"
page = { width_mm = 210.0, height_mm = 297.0 }
[[element]]
type = "mrz"
x = 10.0
y = 270.0
line_spacing = 5.0
[[element]]
type = "field"
field = "shoe_size"
x = 10.0
y = 20.0
width = 50.0
size = 10.0
"#;
        let error = Template::from_toml("t.toml", text).unwrap_err();
        let message = error.to_string();
        assert!(
            message.contains("#1 field") && message.contains("shoe_size"),
            "{message}"
        );
    }

    #[test]
    fn an_element_off_the_page_is_rejected() {
        let text = r#"
name = "t"
kind = "legalization-certificate"
page = { width_mm = 210.0, height_mm = 297.0 }
[[element]]
type = "box"
x = 200.0
y = 20.0
width = 50.0
height = 10.0
"#;
        let error = Template::from_toml("t.toml", text).unwrap_err();
        assert!(error.to_string().contains("#0 box"), "{error}");
    }

    #[test]
    fn a_typo_in_a_key_is_a_syntax_error_naming_the_file() {
        let text = "name = \"t\"\nkind = \"ttd-sheet\"\npage = { width_mm = 210.0, height_mm = 297.0 }\ncolour = 1\n";
        let error = Template::from_toml("bad.toml", text).unwrap_err();
        assert!(
            matches!(error, RenderError::TemplateSyntax { ref name, .. } if name == "bad.toml")
        );
    }
}
