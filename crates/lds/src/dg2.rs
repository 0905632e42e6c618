//! DG2, the encoded face (9303-10 §4.7.2): a CBEFF biometric information group template holding
//! ISO/IEC 19794-5 (`5F2E`) or ISO/IEC 39794-5 (`7F2E`) face data, and the photo checks.

use crate::LdsError;
use crate::tlv;

/// Image format of a face photo.
#[derive(Clone, Copy, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[non_exhaustive]
pub enum ImageFormat {
    /// JPEG (ISO/IEC 10918).
    Jpeg,
    /// JPEG 2000, JP2 file format.
    Jpeg2000,
    /// JPEG 2000 raw codestream.
    Jpeg2000Codestream,
}

/// What the photo's own headers say.
#[derive(Clone, Copy, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct ImageInfo {
    /// Format.
    pub format: ImageFormat,
    /// Width in pixels.
    pub width: u32,
    /// Height in pixels.
    pub height: u32,
}

/// Read the format and dimensions from a JPEG SOF marker, a JP2 `ihdr` box or a J2K `SIZ` marker.
pub fn image_info(image: &[u8]) -> Result<ImageInfo, LdsError> {
    if image.starts_with(&[0xFF, 0xD8]) {
        return jpeg_info(image);
    }
    if image.starts_with(&[0x00, 0x00, 0x00, 0x0C, 0x6A, 0x50, 0x20, 0x20]) {
        return jp2_info(image);
    }
    if image.starts_with(&[0xFF, 0x4F, 0xFF, 0x51]) {
        let be32 = |at: usize| -> Result<u32, LdsError> {
            image
                .get(at..at + 4)
                .map(|b| u32::from_be_bytes([b[0], b[1], b[2], b[3]]))
                .ok_or(LdsError::Image {
                    reason: "truncated SIZ marker",
                })
        };
        // SIZ: FF51 Lsiz(2) Rsiz(2) Xsiz(4) Ysiz(4) XOsiz(4) YOsiz(4)
        let (x, y, xo, yo) = (be32(8)?, be32(12)?, be32(16)?, be32(20)?);
        return Ok(ImageInfo {
            format: ImageFormat::Jpeg2000Codestream,
            width: x.saturating_sub(xo),
            height: y.saturating_sub(yo),
        });
    }
    Err(LdsError::Image {
        reason: "neither JPEG nor JPEG 2000",
    })
}

fn jpeg_info(image: &[u8]) -> Result<ImageInfo, LdsError> {
    let mut pos = 2;
    loop {
        // Skip fill bytes before a marker.
        while image.get(pos) == Some(&0xFF) && image.get(pos + 1) == Some(&0xFF) {
            pos += 1;
        }
        let (Some(&0xFF), Some(&marker)) = (image.get(pos), image.get(pos + 1)) else {
            return Err(LdsError::Image {
                reason: "JPEG marker expected",
            });
        };
        pos += 2;
        if marker == 0x01 || (0xD0..=0xD7).contains(&marker) {
            continue;
        }
        if marker == 0xD9 || marker == 0xDA {
            return Err(LdsError::Image {
                reason: "no JPEG SOF marker before the scan",
            });
        }
        let length = image
            .get(pos..pos + 2)
            .map(|b| usize::from(u16::from_be_bytes([b[0], b[1]])))
            .ok_or(LdsError::Image {
                reason: "truncated JPEG segment",
            })?;
        let is_sof = (0xC0..=0xCF).contains(&marker) && !matches!(marker, 0xC4 | 0xC8 | 0xCC);
        if is_sof {
            // P(1) Y(2) X(2)
            let seg = image.get(pos + 2..pos + 7).ok_or(LdsError::Image {
                reason: "truncated JPEG SOF",
            })?;
            let height = u32::from(u16::from_be_bytes([seg[1], seg[2]]));
            let width = u32::from(u16::from_be_bytes([seg[3], seg[4]]));
            return Ok(ImageInfo {
                format: ImageFormat::Jpeg,
                width,
                height,
            });
        }
        if length < 2 {
            return Err(LdsError::Image {
                reason: "bad JPEG segment length",
            });
        }
        pos += length;
    }
}

fn jp2_info(image: &[u8]) -> Result<ImageInfo, LdsError> {
    fn find_box<'a>(mut data: &'a [u8], wanted: &[u8; 4]) -> Option<&'a [u8]> {
        while data.len() >= 8 {
            let length = u32::from_be_bytes([data[0], data[1], data[2], data[3]]) as usize;
            let kind = &data[4..8];
            let (header, length) = match length {
                0 => (8, data.len()),
                1 => {
                    let ext = data.get(8..16)?;
                    let len = u64::from_be_bytes(ext.try_into().ok()?) as usize;
                    (16, len)
                }
                n => (8, n),
            };
            if length < header || length > data.len() {
                return None;
            }
            if kind == wanted {
                return Some(&data[header..length]);
            }
            data = &data[length..];
        }
        None
    }
    let header = find_box(image, b"jp2h").ok_or(LdsError::Image {
        reason: "JP2 without jp2h box",
    })?;
    let ihdr = find_box(header, b"ihdr").ok_or(LdsError::Image {
        reason: "JP2 without ihdr box",
    })?;
    let be32 = |at: usize| {
        ihdr.get(at..at + 4)
            .map(|b| u32::from_be_bytes([b[0], b[1], b[2], b[3]]))
            .ok_or(LdsError::Image {
                reason: "truncated ihdr box",
            })
    };
    Ok(ImageInfo {
        format: ImageFormat::Jpeg2000,
        height: be32(0)?,
        width: be32(4)?,
    })
}

/// Limits the photo must satisfy before it goes into DG2.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct PhotoLimits {
    /// Minimum width in pixels (ISO/IEC 19794-5 token face: 240).
    pub min_width: u32,
    /// Minimum height in pixels (token face: 320).
    pub min_height: u32,
    /// Maximum file size in bytes (chip capacity; 9303-10 suggests 15–20 kB photos).
    pub max_bytes: usize,
}

impl Default for PhotoLimits {
    fn default() -> Self {
        Self {
            min_width: 240,
            min_height: 320,
            max_bytes: 65_535,
        }
    }
}

/// Check a photo against `limits`; returns its header information.
pub fn check_photo(image: &[u8], limits: &PhotoLimits) -> Result<ImageInfo, LdsError> {
    let info = image_info(image)?;
    if info.width < limits.min_width || info.height < limits.min_height {
        return Err(LdsError::PhotoRejected {
            reason: "smaller than the minimum dimensions",
        });
    }
    if image.len() > limits.max_bytes {
        return Err(LdsError::PhotoRejected {
            reason: "larger than the maximum file size",
        });
    }
    Ok(info)
}

/// One face from DG2.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct FaceImage {
    /// Biometric header template (`A1`) fields: (tag, value).
    pub header: Vec<(u32, Vec<u8>)>,
    /// Which encoding the biometric data block used.
    pub encoding: FaceEncoding,
    /// The image bytes (JPEG / JPEG 2000).
    pub image: Vec<u8>,
    /// Header information of the image.
    pub info: ImageInfo,
}

/// Face data encoding.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum FaceEncoding {
    /// ISO/IEC 19794-5:2005 record in `5F2E`.
    Iso19794_5,
    /// ISO/IEC 39794-5 DER data in `7F2E`.
    Iso39794_5,
}

/// DG2 (9303-10 §4.7.2).
///
/// ```text
/// 75 L {
///   7F61 L {                         -- biometric information group template
///     02 01 n                        -- number of instances
///     7F60 L {                       -- biometric information template (n times)
///       A1 L { 80 .. 81 .. 87 .. 88 .. }   -- biometric header template
///       5F2E L <19794-5 record> | 7F2E L <39794-5 data> } } }
/// ```
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Dg2 {
    /// The faces.
    pub faces: Vec<FaceImage>,
}

/// Facial record header length (format id, version, record length, number of images).
const RECORD_HEADER_LEN: usize = 14;
/// Facial information block length (ISO/IEC 19794-5:2005 §5.5).
const FACIAL_INFORMATION_LEN: usize = 20;
/// Image information block length (§5.7).
const IMAGE_INFORMATION_LEN: usize = 12;

impl Dg2 {
    /// Build a DG2 with one ISO/IEC 19794-5 full-frontal face from a checked JPEG/JPEG 2000 photo.
    pub fn from_photo(image: &[u8], limits: &PhotoLimits) -> Result<Self, LdsError> {
        let info = check_photo(image, limits)?;
        let header = vec![
            (0x80, vec![0x01, 0x01]), // ICAO header version 1.1
            (0x81, vec![0x02]),       // biometric type: facial features
            (0x87, vec![0x01, 0x01]), // format owner: ISO/IEC JTC 1/SC 37
            (0x88, vec![0x00, 0x08]), // format type: face image (19794-5)
        ];
        Ok(Self {
            faces: vec![FaceImage {
                header,
                encoding: FaceEncoding::Iso19794_5,
                image: image.to_vec(),
                info,
            }],
        })
    }

    /// Encode (19794-5 faces as facial records; 39794-5 faces are not re-encoded by this crate).
    pub fn to_bytes(&self) -> Result<Vec<u8>, LdsError> {
        let count = u8::try_from(self.faces.len()).map_err(|_| LdsError::InvalidField {
            field: "DG2 instances",
            reason: "more than 255",
        })?;
        let mut group = tlv::encode(0x02, &[count]);
        for face in &self.faces {
            if face.encoding != FaceEncoding::Iso19794_5 {
                return Err(LdsError::InvalidField {
                    field: "DG2 encoding",
                    reason: "only ISO/IEC 19794-5 faces can be encoded",
                });
            }
            let mut header = Vec::new();
            for (tag, value) in &face.header {
                header.extend(tlv::encode(*tag, value));
            }
            let mut template = tlv::encode(0xA1, &header);
            template.extend(tlv::encode(
                0x5F2E,
                &facial_record(&face.image, &face.info)?,
            ));
            group.extend(tlv::encode(0x7F60, &template));
        }
        Ok(tlv::encode(0x75, &tlv::encode(0x7F61, &group)))
    }

    /// Parse DG2 (19794-5 or 39794-5 faces).
    pub fn from_bytes(bytes: &[u8]) -> Result<Self, LdsError> {
        let outer = tlv::read_exact(bytes, 0x75)?;
        let group = tlv::read_exact(outer.value, 0x7F61)?;
        let children = tlv::read_all(group.value)?;
        let count = tlv::find(&children, 0x02)
            .and_then(|t| t.value.first().copied())
            .ok_or(LdsError::MissingField {
                field: "DG2 instance count 02",
            })?;
        let mut faces = Vec::new();
        for template in children.iter().filter(|t| t.tag == 0x7F60) {
            let parts = tlv::read_all(template.value)?;
            let header_tlv = tlv::find(&parts, 0xA1).ok_or(LdsError::MissingField {
                field: "DG2 header A1",
            })?;
            let header = tlv::read_all(header_tlv.value)?
                .into_iter()
                .map(|t| (t.tag, t.value.to_vec()))
                .collect();
            if let Some(record) = tlv::find(&parts, 0x5F2E) {
                let image = parse_facial_record(record.value)?;
                let info = image_info(image)?;
                faces.push(FaceImage {
                    header,
                    encoding: FaceEncoding::Iso19794_5,
                    image: image.to_vec(),
                    info,
                });
            } else if let Some(data) = tlv::find(&parts, 0x7F2E) {
                let image = find_image(data.value, 0)?.ok_or(LdsError::MissingField {
                    field: "39794-5 image data",
                })?;
                let info = image_info(image)?;
                faces.push(FaceImage {
                    header,
                    encoding: FaceEncoding::Iso39794_5,
                    image: image.to_vec(),
                    info,
                });
            } else {
                return Err(LdsError::MissingField {
                    field: "DG2 biometric data 5F2E/7F2E",
                });
            }
        }
        if faces.len() != usize::from(count) {
            return Err(LdsError::InvalidField {
                field: "DG2 instance count",
                reason: "differs from the templates",
            });
        }
        Ok(Self { faces })
    }
}

fn facial_record(image: &[u8], info: &ImageInfo) -> Result<Vec<u8>, LdsError> {
    let too_big = LdsError::InvalidField {
        field: "19794-5 record",
        reason: "too large",
    };
    let block_len = u32::try_from(FACIAL_INFORMATION_LEN + IMAGE_INFORMATION_LEN + image.len())
        .map_err(|_| too_big.clone())?;
    let record_len = block_len
        .checked_add(RECORD_HEADER_LEN as u32)
        .ok_or(too_big.clone())?;
    let width = u16::try_from(info.width).map_err(|_| too_big.clone())?;
    let height = u16::try_from(info.height).map_err(|_| too_big)?;
    let mut out = Vec::with_capacity(record_len as usize);
    // Facial record header (§5.4)
    out.extend_from_slice(b"FAC\0");
    out.extend_from_slice(b"010\0");
    out.extend_from_slice(&record_len.to_be_bytes());
    out.extend_from_slice(&1u16.to_be_bytes()); // number of facial images
    // Facial information (§5.5)
    out.extend_from_slice(&block_len.to_be_bytes());
    out.extend_from_slice(&0u16.to_be_bytes()); // number of feature points
    out.push(0x00); // gender: unspecified
    out.push(0x00); // eye colour: unspecified
    out.push(0x00); // hair colour: unspecified
    out.extend_from_slice(&[0x00, 0x00, 0x00]); // feature mask
    out.extend_from_slice(&[0x00, 0x00]); // expression: unspecified
    out.extend_from_slice(&[0x00, 0x00, 0x00]); // pose angle: unspecified
    out.extend_from_slice(&[0x00, 0x00, 0x00]); // pose angle uncertainty
    // Image information (§5.7)
    out.push(0x01); // face image type: full frontal
    out.push(match info.format {
        ImageFormat::Jpeg => 0x00,
        ImageFormat::Jpeg2000 | ImageFormat::Jpeg2000Codestream => 0x01,
    });
    out.extend_from_slice(&width.to_be_bytes());
    out.extend_from_slice(&height.to_be_bytes());
    out.push(0x01); // image colour space: 24-bit RGB
    out.push(0x02); // source type: digital still camera
    out.extend_from_slice(&0u16.to_be_bytes()); // device type
    out.extend_from_slice(&0u16.to_be_bytes()); // quality: unspecified
    out.extend_from_slice(image);
    Ok(out)
}

/// The image of the first face in a 19794-5 record.
fn parse_facial_record(record: &[u8]) -> Result<&[u8], LdsError> {
    let bad = |reason| LdsError::InvalidField {
        field: "19794-5 record",
        reason,
    };
    if record.get(..4) != Some(b"FAC\0") {
        return Err(bad("format identifier is not FAC"));
    }
    let be32 = |at: usize| {
        record
            .get(at..at + 4)
            .map(|b| u32::from_be_bytes([b[0], b[1], b[2], b[3]]) as usize)
            .ok_or(bad("truncated"))
    };
    let be16 = |at: usize| {
        record
            .get(at..at + 2)
            .map(|b| usize::from(u16::from_be_bytes([b[0], b[1]])))
            .ok_or(bad("truncated"))
    };
    if be16(12)? == 0 {
        return Err(bad("no facial image"));
    }
    let block_len = be32(RECORD_HEADER_LEN)?;
    let feature_points = be16(RECORD_HEADER_LEN + 4)?;
    let image_start =
        RECORD_HEADER_LEN + FACIAL_INFORMATION_LEN + 8 * feature_points + IMAGE_INFORMATION_LEN;
    let image_end = RECORD_HEADER_LEN + block_len;
    record
        .get(image_start..image_end)
        .ok_or(bad("block length exceeds the record"))
}

/// Depth-first search of 39794-5 BER data for the first primitive value holding an image.
fn find_image(data: &[u8], depth: usize) -> Result<Option<&[u8]>, LdsError> {
    if depth > 16 {
        return Err(LdsError::Tlv {
            reason: "nesting too deep",
        });
    }
    for element in tlv::read_all(data)? {
        if element.constructed {
            if let Some(image) = find_image(element.value, depth + 1)? {
                return Ok(Some(image));
            }
        } else if image_info(element.value).is_ok() {
            return Ok(Some(element.value));
        }
    }
    Ok(None)
}
