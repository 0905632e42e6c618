//! 2D barcodes: Data Matrix ECC200 for ETD seals, QR for legalization seals (encode), and decoding
//! of either from a photo, a scan or a rasterised page (rxing).

use std::collections::HashSet;

use datamatrix::{DataMatrixBuilder, data::EncodationType};
use rxing::{
    BarcodeFormat, BinaryBitmap, DecodeHints, Luma8LuminanceSource, MultiFormatReader,
    RXingResultMetadataType, RXingResultMetadataValue, Reader, common::HybridBinarizer,
};

use crate::error::{RenderError, Result};
use crate::template::Symbology;

/// Smallest module ICAO 9303-13 allows for a seal (4 dots at 300 dpi, 8 dots at 600 dpi).
pub const ICAO_MIN_MODULE_MM: f32 = 0.3386;

/// Quiet zone around a Data Matrix, modules (ISO/IEC 16022: 1).
pub const DATAMATRIX_QUIET_MODULES: usize = 1;
/// Quiet zone around a QR code, modules (ISO/IEC 18004: 4).
pub const QR_QUIET_MODULES: usize = 4;

/// A grid of modules, without quiet zone. `(0, 0)` is the top-left module.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ModuleMatrix {
    width: usize,
    height: usize,
    dark: Vec<bool>,
}

impl ModuleMatrix {
    /// Width in modules.
    pub fn width(&self) -> usize {
        self.width
    }

    /// Height in modules.
    pub fn height(&self) -> usize {
        self.height
    }

    /// Whether the module at column `x`, row `y` is dark (false outside the symbol).
    pub fn is_dark(&self, x: usize, y: usize) -> bool {
        x < self.width && y < self.height && self.dark[y * self.width + x]
    }

    /// Horizontal runs of dark modules per row: `(row, first column, length)`.
    pub fn dark_runs(&self) -> Vec<(usize, usize, usize)> {
        let mut runs = Vec::new();
        for y in 0..self.height {
            let mut x = 0;
            while x < self.width {
                if self.is_dark(x, y) {
                    let start = x;
                    while x < self.width && self.is_dark(x, y) {
                        x += 1;
                    }
                    runs.push((y, start, x - start));
                } else {
                    x += 1;
                }
            }
        }
        runs
    }

    /// A luma image (0 dark, 255 light) with `scale` pixels per module and `quiet` light modules
    /// around; used by tests and for previews.
    pub fn to_luma(&self, scale: usize, quiet: usize) -> (Vec<u8>, usize, usize) {
        let side_w = (self.width + 2 * quiet) * scale;
        let side_h = (self.height + 2 * quiet) * scale;
        let mut pixels = vec![255u8; side_w * side_h];
        for (row, column, length) in self.dark_runs() {
            for dy in 0..scale {
                let y = (row + quiet) * scale + dy;
                let start = y * side_w + (column + quiet) * scale;
                pixels[start..start + length * scale].fill(0);
            }
        }
        (pixels, side_w, side_h)
    }
}

/// Encodes seal bytes as a Data Matrix ECC200 in base256 mode (binary data round-trips exactly).
pub fn encode_datamatrix(data: &[u8]) -> Result<ModuleMatrix> {
    let symbol = DataMatrixBuilder::new()
        .with_encodation_types(EncodationType::Base256)
        .with_macros(false)
        .encode(data)
        .map_err(|error| RenderError::BarcodeEncode {
            field: "seal".to_string(),
            message: format!("{error:?}"),
        })?;
    let bitmap = symbol.bitmap();
    let (width, height) = (bitmap.width(), bitmap.height());
    let mut dark = vec![false; width * height];
    for (x, y) in bitmap.pixels() {
        dark[y * width + x] = true;
    }
    Ok(ModuleMatrix {
        width,
        height,
        dark,
    })
}

/// Encodes a payload as a QR code, error correction level M.
pub fn encode_qr(data: &[u8]) -> Result<ModuleMatrix> {
    let code =
        qrcode::QrCode::with_error_correction_level(data, qrcode::EcLevel::M).map_err(|error| {
            RenderError::BarcodeEncode {
                field: "qr_payload".to_string(),
                message: error.to_string(),
            }
        })?;
    let width = code.width();
    let dark = code
        .to_colors()
        .into_iter()
        .map(|color| color == qrcode::Color::Dark)
        .collect();
    Ok(ModuleMatrix {
        width,
        height: width,
        dark,
    })
}

/// Encodes `data` in the given symbology.
pub fn encode(symbology: Symbology, data: &[u8]) -> Result<ModuleMatrix> {
    match symbology {
        Symbology::DataMatrix => encode_datamatrix(data),
        Symbology::Qr => encode_qr(data),
    }
}

/// Module size in mm at `dpi`: the smallest whole number of printer dots that is at least
/// `min_module_mm` (and never below [`ICAO_MIN_MODULE_MM`]).
pub fn module_size_mm(dpi: u32, min_module_mm: Option<f32>) -> f32 {
    let minimum = min_module_mm
        .unwrap_or(ICAO_MIN_MODULE_MM)
        .max(ICAO_MIN_MODULE_MM);
    let dot_mm = 25.4 / dpi.max(1) as f32;
    // A tiny tolerance so that 4 dots at 300 dpi (0.33867 mm) counts as >= 0.3386 mm.
    let dots = ((minimum / dot_mm) - 1e-4).ceil().max(1.0);
    dots * dot_mm
}

/// A PNG of `matrix` for a printer of `dpi`: each module is the smallest whole number of dots
/// that is at least [`ICAO_MIN_MODULE_MM`] (4 pixels at 300 dpi, 8 at 600 dpi), with `quiet`
/// light modules around, so that printing the image at `dpi` keeps the ICAO module size.
pub fn to_png(matrix: &ModuleMatrix, dpi: u32, quiet: usize) -> Result<Vec<u8>> {
    let dot_mm = 25.4 / dpi.max(1) as f32;
    let scale = (module_size_mm(dpi, None) / dot_mm).round().max(1.0) as usize;
    let (pixels, width, height) = matrix.to_luma(scale, quiet);
    let too_large = |_| RenderError::BarcodeEncode {
        field: "image".to_string(),
        message: format!("{width}x{height} pixels is too large"),
    };
    let width = u32::try_from(width).map_err(too_large)?;
    let height = u32::try_from(height).map_err(too_large)?;
    let image = image::GrayImage::from_raw(width, height, pixels).ok_or_else(|| {
        RenderError::BarcodeEncode {
            field: "image".to_string(),
            message: "pixel buffer does not match the size".to_string(),
        }
    })?;
    let mut png = Vec::new();
    image
        .write_to(&mut std::io::Cursor::new(&mut png), image::ImageFormat::Png)
        .map_err(|error| RenderError::BarcodeEncode {
            field: "image".to_string(),
            message: error.to_string(),
        })?;
    Ok(png)
}

/// What the decoder found.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DecodedBarcode {
    /// Symbology.
    pub symbology: Symbology,
    /// The data bytes, exactly as encoded.
    pub bytes: Vec<u8>,
}

/// The widest or tallest barcode image decoded, in pixels; a declared 20000 x 20000 image is
/// refused from its header.
pub const MAX_IMAGE_SIDE: u32 = 10_000;
/// The default pixel cap ([`decode_barcode_image_within`]): 12.6 megapixels, a 12-megapixel
/// phone photo (4032 x 3024) of a seal, or a 600 dpi scan of a 17 x 12.8 cm area around it.
pub const DEFAULT_MAX_PIXELS: u64 = 4096 * 3072;
/// The most memory one image's decoding may allocate, in bytes: the cap's RGB pixels and a
/// margin for the decoder.
pub const MAX_IMAGE_ALLOC: u64 = DEFAULT_MAX_PIXELS * 3 + (8 << 20);
/// Images larger than this on their long side are scaled down before the barcode is looked
/// for: the reader's work grows with the pixels, a seal's modules stay several pixels wide.
pub const READ_SIDE: u32 = 2048;

/// Decodes a Data Matrix or QR code from a PNG or JPEG photo or scan and returns its bytes
/// ([`decode_barcode_image_within`] with [`DEFAULT_MAX_PIXELS`]).
pub fn decode_barcode_image(image_bytes: &[u8]) -> Result<Vec<u8>> {
    decode_barcode_image_within(image_bytes, DEFAULT_MAX_PIXELS)
}

/// Decodes a Data Matrix or QR code from a PNG or JPEG image of at most `max_pixels` pixels.
/// The dimensions are read from the header and checked before any pixel is decoded (a
/// decompression bomb costs a header read); the decoder's allocations are bounded too; an image
/// longer than [`READ_SIDE`] is scaled down before the barcode is looked for.
pub fn decode_barcode_image_within(image_bytes: &[u8], max_pixels: u64) -> Result<Vec<u8>> {
    let reader = || {
        image::ImageReader::new(std::io::Cursor::new(image_bytes))
            .with_guessed_format()
            .map_err(|error| RenderError::BarcodeImage(error.to_string()))
    };
    let (width, height) = reader()?
        .into_dimensions()
        .map_err(|error| RenderError::BarcodeImage(error.to_string()))?;
    let pixels = u64::from(width) * u64::from(height);
    if pixels > max_pixels || width > MAX_IMAGE_SIDE || height > MAX_IMAGE_SIDE {
        return Err(RenderError::BarcodeImage(format!(
            "the image is {width} x {height} pixels; at most {max_pixels} pixels and \
             {MAX_IMAGE_SIDE} on a side are read (photograph the barcode closer)"
        )));
    }
    let mut reader = reader()?;
    let mut limits = image::Limits::default();
    limits.max_image_width = Some(MAX_IMAGE_SIDE);
    limits.max_image_height = Some(MAX_IMAGE_SIDE);
    limits.max_alloc = Some(max_pixels.saturating_mul(3).saturating_add(8 << 20));
    reader.limits(limits);
    let image = reader
        .decode()
        .map_err(|error| RenderError::BarcodeImage(error.to_string()))?;
    // The colour image is dropped as soon as its grey copy exists.
    let mut luma = image.into_luma8();
    let (mut width, mut height) = luma.dimensions();
    let long = width.max(height);
    if long > READ_SIDE {
        let scale = f64::from(READ_SIDE) / f64::from(long);
        let scaled = |side: u32| ((f64::from(side) * scale).round() as u32).max(1);
        (width, height) = (scaled(width), scaled(height));
        luma = image::imageops::resize(&luma, width, height, image::imageops::FilterType::Triangle);
    }
    Ok(decode_barcode_luma(luma.into_raw(), width, height)?.bytes)
}

/// Decodes a Data Matrix or QR code from an 8-bit greyscale image (row-major, `width * height`).
pub fn decode_barcode_luma(luma: Vec<u8>, width: u32, height: u32) -> Result<DecodedBarcode> {
    if width == 0 || height == 0 || luma.len() != width as usize * height as usize {
        return Err(RenderError::BarcodeImage(format!(
            "{} luma bytes do not make a {width} x {height} image",
            luma.len()
        )));
    }
    let source = Luma8LuminanceSource::new(luma, width, height)
        .map_err(|error| RenderError::BarcodeImage(error.to_string()))?;
    let mut bitmap = BinaryBitmap::new(HybridBinarizer::new(source));
    let hints = DecodeHints {
        PossibleFormats: Some(HashSet::from([
            BarcodeFormat::DATA_MATRIX,
            BarcodeFormat::QR_CODE,
        ])),
        TryHarder: Some(true),
        ..DecodeHints::default()
    };
    let mut reader = MultiFormatReader::default();
    let result = reader
        .decode_with_hints(&mut bitmap, &hints)
        .map_err(|error| RenderError::BarcodeNotFound(error.to_string()))?;
    let symbology = match result.getBarcodeFormat() {
        BarcodeFormat::DATA_MATRIX => Symbology::DataMatrix,
        BarcodeFormat::QR_CODE => Symbology::Qr,
        other => {
            return Err(RenderError::BarcodeNotFound(format!(
                "unexpected symbology {other:?}"
            )));
        }
    };
    let text = result.getText();
    let segments = match result
        .getRXingResultMetadata()
        .get(&RXingResultMetadataType::BYTE_SEGMENTS)
    {
        Some(RXingResultMetadataValue::ByteSegments(segments)) => Some(segments.concat()),
        _ => None,
    };
    let bytes = match (symbology, segments) {
        // A Data Matrix written by `encode_datamatrix` is one base256 segment: its bytes are the
        // data. The text is only a charset interpretation of them and is not used.
        (Symbology::DataMatrix, Some(bytes)) if bytes.len() == text.chars().count() => bytes,
        // Otherwise every decoded character stands for one byte (ASCII mode, Latin-1 upper shift).
        (Symbology::DataMatrix, _) => latin1_bytes(text)?,
        // QR payloads are text (UTF-8).
        (Symbology::Qr, _) => text.as_bytes().to_vec(),
    };
    Ok(DecodedBarcode { symbology, bytes })
}

fn latin1_bytes(text: &str) -> Result<Vec<u8>> {
    text.chars()
        .map(|c| {
            u8::try_from(c as u32).map_err(|_| {
                RenderError::BarcodeNotFound(format!(
                    "decoded character U+{:04X} is not a byte value",
                    c as u32
                ))
            })
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    /// xorshift64* bytes (no rand dependency); the seed is printed with any failure.
    pub(crate) fn random_bytes(seed: &mut u64, length: usize) -> Vec<u8> {
        (0..length)
            .map(|_| {
                *seed ^= *seed >> 12;
                *seed ^= *seed << 25;
                *seed ^= *seed >> 27;
                (seed.wrapping_mul(0x2545_F491_4F6C_DD1D) >> 56) as u8
            })
            .collect()
    }

    fn time_seed() -> u64 {
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.as_nanos() as u64)
            .unwrap_or(0x5EA1)
            | 1
    }

    #[test]
    fn module_size_is_whole_dots_and_at_least_icao_minimum() {
        let at_300 = module_size_mm(300, None);
        assert!((at_300 - 4.0 * 25.4 / 300.0).abs() < 1e-5, "{at_300}");
        let at_600 = module_size_mm(600, None);
        assert!((at_600 - 8.0 * 25.4 / 600.0).abs() < 1e-5, "{at_600}");
        let at_203 = module_size_mm(203, None);
        assert!((ICAO_MIN_MODULE_MM..ICAO_MIN_MODULE_MM + 25.4 / 203.0).contains(&at_203));
        let bigger = module_size_mm(300, Some(0.5));
        assert!((bigger - 6.0 * 25.4 / 300.0).abs() < 1e-5, "{bigger}");
    }

    #[test]
    fn random_bytes_round_trip_through_datamatrix() {
        let seed0 = time_seed();
        let mut seed = seed0;
        for length in [1usize, 17, 95, 160, 255, 300] {
            let data = random_bytes(&mut seed, length);
            let matrix = encode_datamatrix(&data).unwrap();
            let (luma, width, height) = matrix.to_luma(4, DATAMATRIX_QUIET_MODULES + 2);
            let decoded = decode_barcode_luma(luma, width as u32, height as u32).unwrap();
            assert_eq!(decoded.symbology, Symbology::DataMatrix);
            assert_eq!(decoded.bytes, data, "length {length}, seed {seed0:#x}");
        }
    }

    #[test]
    fn qr_text_round_trips() {
        let payload = "https://verify.example/l/LC-2026-000123?d=2026-11-27&c=Q7XK";
        let matrix = encode_qr(payload.as_bytes()).unwrap();
        let (luma, width, height) = matrix.to_luma(4, QR_QUIET_MODULES);
        let decoded = decode_barcode_luma(luma, width as u32, height as u32).unwrap();
        assert_eq!(decoded.symbology, Symbology::Qr);
        assert_eq!(decoded.bytes, payload.as_bytes());
    }

    #[test]
    fn png_at_300_dpi_uses_four_pixel_modules_and_decodes_back() {
        let data: Vec<u8> = (0u8..=90).collect();
        let matrix = encode_datamatrix(&data).expect("encode");
        let png = to_png(&matrix, 300, DATAMATRIX_QUIET_MODULES).expect("png");
        let image = image::load_from_memory(&png).expect("png decodes");
        assert_eq!(image.width() as usize, (matrix.width() + 2) * 4);
        assert_eq!(decode_barcode_image(&png).expect("barcode decodes"), data);
        let png600 = to_png(&matrix, 600, DATAMATRIX_QUIET_MODULES).expect("png");
        let image600 = image::load_from_memory(&png600).expect("png decodes");
        assert_eq!(image600.width(), image.width() * 2);
    }

    #[test]
    fn png_photo_is_decoded() {
        let data = b"\xDC\x03\x6A\xBC seal \x00\xFF\x80\x9F";
        let matrix = encode_datamatrix(data).unwrap();
        let (luma, width, height) = matrix.to_luma(5, 3);
        let image = image::GrayImage::from_raw(width as u32, height as u32, luma).unwrap();
        let mut png = Vec::new();
        image
            .write_to(&mut std::io::Cursor::new(&mut png), image::ImageFormat::Png)
            .unwrap();
        assert_eq!(decode_barcode_image(&png).unwrap(), data);
    }

    #[test]
    fn blank_and_garbage_images_are_clear_errors() {
        let blank = vec![255u8; 200 * 200];
        assert!(matches!(
            decode_barcode_luma(blank, 200, 200),
            Err(RenderError::BarcodeNotFound(_))
        ));
        assert!(matches!(
            decode_barcode_image(b"not an image"),
            Err(RenderError::BarcodeImage(_))
        ));
        assert!(matches!(
            decode_barcode_luma(vec![0; 10], 5, 5),
            Err(RenderError::BarcodeImage(_))
        ));
    }

    #[test]
    fn oversized_data_is_an_encode_error_naming_the_field() {
        let error = encode_datamatrix(&vec![0x41; 5000]).unwrap_err();
        assert!(matches!(error, RenderError::BarcodeEncode { ref field, .. } if field == "seal"));
    }
}

/// Invariants over arbitrary input, shared by the fuzz targets (`fuzz/`) and the property
/// tests that run them on stable Rust in CI.
#[doc(hidden)]
pub mod fuzzing {
    /// Reads `data` as a barcode image. Nothing may panic; whatever it returns is bounded by
    /// the image limits.
    pub fn check_barcode_image(data: &[u8]) -> Result<(), String> {
        let _ = super::decode_barcode_image(data);
        Ok(())
    }
}
