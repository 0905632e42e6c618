//! The one error type of `travdoc-render`.

/// Everything that can go wrong while loading a template, rendering a page or handling a barcode.
///
/// Variants name the template element or the data field at fault, so that an operator can act on
/// the message without reading code.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum RenderError {
    /// The template file is not valid TOML or does not match the layout schema.
    #[error("template {name}: {message}")]
    TemplateSyntax {
        /// File name or template name.
        name: String,
        /// What the TOML parser reported.
        message: String,
    },
    /// The template parsed but one of its elements is unusable.
    #[error("template {template}, element {element}: {message}")]
    TemplateInvalid {
        /// Template name.
        template: String,
        /// Element index (0-based) and kind, e.g. `#4 field`.
        element: String,
        /// What is wrong.
        message: String,
    },
    /// The template is for another document kind than the one being rendered.
    #[error("template {template} is a {found} template, but a {expected} page is being rendered")]
    TemplateKindMismatch {
        /// Template name.
        template: String,
        /// Kind declared in the template.
        found: String,
        /// Kind the caller renders.
        expected: String,
    },
    /// A data field does not fit the box the template gives it.
    #[error(
        "field {field} is too long for its box: {needed_mm:.1} mm needed, {available_mm:.1} mm available"
    )]
    FieldTooLong {
        /// Data field name.
        field: String,
        /// Width the text needs at the smallest allowed size.
        needed_mm: f32,
        /// Width of the box.
        available_mm: f32,
    },
    /// A data field holds a value the page cannot carry.
    #[error("field {field} is invalid: {message}")]
    InvalidField {
        /// Data field name.
        field: String,
        /// What is wrong.
        message: String,
    },
    /// A required data field is empty or missing.
    #[error("field {field} is required by template {template} but is empty")]
    MissingField {
        /// Data field name.
        field: String,
        /// Template name.
        template: String,
    },
    /// An image (portrait) could not be decoded.
    #[error("field {field}: image cannot be read: {message}")]
    UnreadableImage {
        /// Data field name.
        field: String,
        /// Decoder message.
        message: String,
    },
    /// A character has no glyph in any of the fonts for its script.
    #[error("field {field}: character U+{codepoint:04X} cannot be set in font {font}")]
    MissingGlyph {
        /// Data field name (or `label`).
        field: String,
        /// The character.
        codepoint: u32,
        /// Font file name.
        font: String,
    },
    /// A bundled or supplied font file cannot be parsed.
    #[error("font {font} cannot be parsed")]
    BadFont {
        /// Font file name.
        font: String,
    },
    /// The barcode encoder refused the data (usually: too long for the largest symbol).
    #[error("barcode for field {field} cannot be encoded: {message}")]
    BarcodeEncode {
        /// Data field name.
        field: String,
        /// Encoder message.
        message: String,
    },
    /// The encoded symbol at the printer's module size is larger than the template's box.
    #[error(
        "barcode for field {field} is {needed_mm:.1} mm wide at {module_mm:.3} mm modules, box is {available_mm:.1} mm"
    )]
    BarcodeTooLarge {
        /// Data field name.
        field: String,
        /// Symbol width including the quiet zone.
        needed_mm: f32,
        /// Box width.
        available_mm: f32,
        /// Module size used.
        module_mm: f32,
    },
    /// The image handed to the decoder is not a readable PNG or JPEG.
    #[error("barcode image cannot be read: {0}")]
    BarcodeImage(String),
    /// No Data Matrix or QR symbol was found, or it did not decode.
    #[error("no barcode could be decoded: {0}")]
    BarcodeNotFound(String),
    /// The printer calibration is out of range.
    #[error("calibration {field} is invalid: {message}")]
    InvalidCalibration {
        /// Calibration field (`dpi`, `offset_x_mm`, `offset_y_mm`).
        field: &'static str,
        /// What is wrong.
        message: String,
    },
}

/// Result alias of this crate.
pub type Result<T> = std::result::Result<T, RenderError>;
