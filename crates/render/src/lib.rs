//! Document rendering for travdoc.
//!
//! Turns plain data (already-built MRZ lines, seal bytes, a portrait) and a declarative layout
//! (`templates/*.toml`) into a one-page PDF:
//!
//! - labels in Sinhala, Tamil and English, shaped with rustybuzz and placed glyph by glyph
//!   (printpdf does not shape Indic scripts);
//! - the MRZ in OCR-B at the ICAO pitch (2.54 mm per character, 9.96 pt), every character on the
//!   grid, with a text layer so `pdftotext` gives the lines back;
//! - Data Matrix (ETD seal, base256) and QR (legalization seal) drawn as vectors with modules of
//!   whole printer dots, at least the ICAO 0.3386 mm;
//! - fonts embedded as subsets.
//!
//! The crate also decodes those barcodes from photos, scans and rasterised pages ([`barcode`]).
//! It depends on no other travdoc crate: callers pass bytes and strings.
#![forbid(unsafe_code)]
#![warn(missing_docs)]

pub mod barcode;
mod data;
mod error;
pub mod fonts;
mod page;
pub mod specimen;
pub mod template;

pub use barcode::{
    DEFAULT_MAX_PIXELS, DecodedBarcode, decode_barcode_image, decode_barcode_image_within,
    decode_barcode_luma,
};
pub use data::{
    Calibration, LEGALIZATION_TEXT_FIELDS, LegalizationData, PASSPORT_TEXT_FIELDS,
    PassportDatapageData, TTD_TEXT_FIELDS, TtdSheetData,
};
pub use error::{RenderError, Result};
pub use template::{DocumentKind, Template};

/// ICAO 9303 MRZ character pitch: 10 characters per inch.
pub const MRZ_PITCH_MM: f32 = 2.54;
/// OCR-B size at which the font's 0.723 em advance gives the ICAO pitch.
pub const MRZ_FONT_SIZE_PT: f32 = 9.96;

/// Renders a passport data page (TD3) with a template of kind `passport-datapage`.
pub fn render_passport_datapage(
    data: &PassportDatapageData,
    template: &Template,
    calibration: &Calibration,
) -> Result<Vec<u8>> {
    page::render_page(
        template,
        calibration,
        &page::PageInput {
            kind: DocumentKind::PassportDatapage,
            fields: data,
            mrz_lines: Some(&data.mrz_lines),
            portrait: data.portrait_jpeg.as_deref(),
            barcode: None,
        },
    )
}

/// Renders a single-sheet temporary travel document with a template of kind `ttd-sheet`.
pub fn render_ttd(
    data: &TtdSheetData,
    template: &Template,
    calibration: &Calibration,
) -> Result<Vec<u8>> {
    page::render_page(
        template,
        calibration,
        &page::PageInput {
            kind: DocumentKind::TtdSheet,
            fields: data,
            mrz_lines: Some(&data.mrz_lines),
            portrait: data.portrait_jpeg.as_deref(),
            barcode: Some(&data.seal_bytes),
        },
    )
}

/// Renders a legalization certificate with a template of kind `legalization-certificate`.
pub fn render_legalization(
    data: &LegalizationData,
    template: &Template,
    calibration: &Calibration,
) -> Result<Vec<u8>> {
    page::render_page(
        template,
        calibration,
        &page::PageInput {
            kind: DocumentKind::LegalizationCertificate,
            fields: data,
            mrz_lines: None,
            portrait: None,
            barcode: Some(data.qr_payload.as_bytes()),
        },
    )
}
