//! The seal header (ICAO 9303-13 §2.2, Table 1), versions 3 and 4.
//!
//! ```text
//! magic 0xDC | version-1 | country (C40, 2) | signer id + certificate reference (C40) |
//! issue date (3) | signature creation date (3) | feature definition reference (1) | category (1)
//! ```
//! Version 3 carries the signer identifier and a 5-character certificate reference (9 characters,
//! 6 bytes of C40). Version 4 carries the signer identifier, two hexadecimal characters giving the
//! length of the certificate reference, and the reference itself.

use serde::Serialize;

use crate::c40;
use crate::date::SealDate;
use crate::error::SealError;

/// First byte of every seal.
pub const MAGIC: u8 = 0xDC;

/// Header version. The byte on the wire is the version number minus one.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum HeaderVersion {
    /// Version 3 (`0x02`): one-byte feature lengths, 5-character certificate reference.
    V3,
    /// Version 4 (`0x03`): DER feature lengths, certificate reference of declared length.
    V4,
}

impl HeaderVersion {
    /// The version byte written after the magic.
    pub const fn byte(self) -> u8 {
        match self {
            Self::V3 => 0x02,
            Self::V4 => 0x03,
        }
    }
    /// The version number (3 or 4).
    pub const fn number(self) -> u8 {
        self.byte() + 1
    }
}

impl Serialize for HeaderVersion {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_u8(self.number())
    }
}

/// Length of the certificate reference in a version 3 header.
pub const V3_CERTIFICATE_REFERENCE_LEN: usize = 5;

/// The identity of the signer certificate: signer identifier (certificate subject `C` + `CN`) and
/// certificate reference (the certificate serial number in hexadecimal).
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize)]
pub struct SignerReference {
    signer_identifier: String,
    certificate_reference: String,
}

fn is_alphanumeric(text: &str) -> bool {
    text.bytes()
        .all(|b| b.is_ascii_uppercase() || b.is_ascii_digit())
}

impl SignerReference {
    /// `signer_identifier`: 2-letter country + 2 upper-case alphanumerics (e.g. `UTTS`);
    /// `certificate_reference`: the serial number in upper-case hexadecimal (e.g. `5B`).
    pub fn new(signer_identifier: &str, certificate_reference: &str) -> Result<Self, SealError> {
        if signer_identifier.len() != 4 || !is_alphanumeric(signer_identifier) {
            return Err(SealError::HeaderField {
                field: "signer identifier",
                reason: format!("{signer_identifier:?} is not 4 upper-case letters or digits"),
            });
        }
        if certificate_reference.len() > 0xFF || !is_alphanumeric(certificate_reference) {
            return Err(SealError::HeaderField {
                field: "certificate reference",
                reason: format!(
                    "{certificate_reference:?} is not at most 255 upper-case letters or digits"
                ),
            });
        }
        Ok(Self {
            signer_identifier: signer_identifier.to_owned(),
            certificate_reference: certificate_reference.to_owned(),
        })
    }

    /// The reference for a certificate serial number (big-endian bytes) in a version 4 header.
    pub fn from_serial(signer_identifier: &str, serial: &[u8]) -> Result<Self, SealError> {
        let start = serial.iter().position(|b| *b != 0).unwrap_or(serial.len());
        let mut reference = hex::encode_upper(&serial[start..]);
        if reference.is_empty() {
            reference.push_str("00");
        }
        Self::new(signer_identifier, &reference)
    }

    /// Signer identifier, e.g. `UTTS`: certificate subject country (`UT`) and common name (`TS`).
    pub fn signer_identifier(&self) -> &str {
        &self.signer_identifier
    }
    /// Country part of the signer identifier (certificate subject `C`).
    pub fn signer_country(&self) -> &str {
        &self.signer_identifier[..2]
    }
    /// Common-name part of the signer identifier (certificate subject `CN`).
    pub fn signer_common_name(&self) -> &str {
        &self.signer_identifier[2..]
    }
    /// Certificate reference as written in the seal (hexadecimal text).
    pub fn certificate_reference(&self) -> &str {
        &self.certificate_reference
    }

    /// The certificate serial number as big-endian bytes without leading zeros, or `None` when the
    /// reference is not hexadecimal.
    pub fn serial_number(&self) -> Option<Vec<u8>> {
        let mut text = self.certificate_reference.clone();
        if !text.len().is_multiple_of(2) {
            text.insert(0, '0');
        }
        let bytes = hex::decode(&text).ok()?;
        let start = bytes.iter().position(|b| *b != 0).unwrap_or(bytes.len());
        Some(bytes[start..].to_vec())
    }
}

/// A seal header.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize)]
pub struct Header {
    version: HeaderVersion,
    issuing_country: String,
    #[serde(flatten)]
    signer: SignerReference,
    issue_date: SealDate,
    signature_date: SealDate,
    feature_definition_reference: u8,
    document_type_category: u8,
}

impl Header {
    /// A header. `issuing_country` is the 3-letter ICAO code (`<`-padded if shorter, e.g. `D<<`).
    pub fn new(
        version: HeaderVersion,
        issuing_country: &str,
        signer: SignerReference,
        issue_date: SealDate,
        signature_date: SealDate,
        feature_definition_reference: u8,
        document_type_category: u8,
    ) -> Result<Self, SealError> {
        let country_ok = issuing_country.len() == 3
            && issuing_country
                .bytes()
                .all(|b| b.is_ascii_uppercase() || b == b'<');
        if !country_ok {
            return Err(SealError::HeaderField {
                field: "issuing country",
                reason: format!("{issuing_country:?} is not 3 characters A-Z or '<'"),
            });
        }
        if version == HeaderVersion::V3
            && signer.certificate_reference.len() != V3_CERTIFICATE_REFERENCE_LEN
        {
            return Err(SealError::HeaderField {
                field: "certificate reference",
                reason: format!(
                    "a version 3 header needs exactly 5 characters, got {:?}",
                    signer.certificate_reference
                ),
            });
        }
        Ok(Self {
            version,
            issuing_country: issuing_country.to_owned(),
            signer,
            issue_date,
            signature_date,
            feature_definition_reference,
            document_type_category,
        })
    }

    pub fn version(&self) -> HeaderVersion {
        self.version
    }
    /// Issuing country, 3 characters with `<` padding.
    pub fn issuing_country(&self) -> &str {
        &self.issuing_country
    }
    pub fn signer(&self) -> &SignerReference {
        &self.signer
    }
    /// Document issue date.
    pub fn issue_date(&self) -> SealDate {
        self.issue_date
    }
    /// Signature creation date.
    pub fn signature_date(&self) -> SealDate {
        self.signature_date
    }
    pub fn feature_definition_reference(&self) -> u8 {
        self.feature_definition_reference
    }
    pub fn document_type_category(&self) -> u8 {
        self.document_type_category
    }

    fn signer_text(&self) -> String {
        match self.version {
            HeaderVersion::V3 => {
                format!(
                    "{}{}",
                    self.signer.signer_identifier, self.signer.certificate_reference
                )
            }
            HeaderVersion::V4 => format!(
                "{}{:02X}{}",
                self.signer.signer_identifier,
                self.signer.certificate_reference.len(),
                self.signer.certificate_reference
            ),
        }
    }

    /// Appends the encoded header to `out`.
    pub fn encode_into(&self, out: &mut Vec<u8>) -> Result<(), SealError> {
        out.push(MAGIC);
        out.push(self.version.byte());
        out.extend_from_slice(&c40::encode(&self.issuing_country)?);
        out.extend_from_slice(&c40::encode(&self.signer_text())?);
        out.extend_from_slice(&self.issue_date.to_bytes());
        out.extend_from_slice(&self.signature_date.to_bytes());
        out.push(self.feature_definition_reference);
        out.push(self.document_type_category);
        Ok(())
    }

    /// The encoded header.
    pub fn to_bytes(&self) -> Result<Vec<u8>, SealError> {
        let mut out = Vec::with_capacity(32);
        self.encode_into(&mut out)?;
        Ok(out)
    }

    /// Decodes a header from the start of `bytes`; returns it and the number of bytes it took.
    pub fn decode(bytes: &[u8]) -> Result<(Self, usize), SealError> {
        let mut reader = Reader { bytes, position: 0 };
        let magic = reader.take(1, "magic")?[0];
        if magic != MAGIC {
            return Err(SealError::Magic { found: magic });
        }
        let version = match reader.take(1, "header version")?[0] {
            0x02 => HeaderVersion::V3,
            0x03 => HeaderVersion::V4,
            found => return Err(SealError::Version { found }),
        };
        let country = c40::decode(reader.take(2, "issuing country")?)?.replace(' ', "<");
        let signer = match version {
            HeaderVersion::V3 => {
                let text = c40::decode(reader.take(6, "signer identifier")?)?;
                split_signer(&text, 9)?
            }
            HeaderVersion::V4 => {
                let prefix = c40::decode(reader.peek(4, "signer identifier")?)?;
                let length_text =
                    prefix
                        .get(4..6)
                        .filter(|_| prefix.len() == 6)
                        .ok_or_else(|| SealError::HeaderField {
                            field: "signer identifier",
                            reason: "signer identifier and reference length are not 6 characters"
                                .into(),
                        })?;
                let reference_len =
                    usize::from_str_radix(length_text, 16).map_err(|_| SealError::HeaderField {
                        field: "certificate reference length",
                        reason: format!("{length_text:?} is not two hexadecimal digits"),
                    })?;
                let total = 6 + reference_len;
                let text =
                    c40::decode(reader.take(c40::encoded_len(total), "certificate reference")?)?;
                let signer = split_signer(&text, total)?;
                SignerReference {
                    signer_identifier: signer.signer_identifier,
                    certificate_reference: signer.certificate_reference[2..].to_owned(),
                }
            }
        };
        let issue_date = SealDate::from_bytes(reader.take_array("issue date")?, "issue date")?;
        let signature_date =
            SealDate::from_bytes(reader.take_array("signature date")?, "signature date")?;
        let feature_definition_reference = reader.take(1, "feature definition reference")?[0];
        let document_type_category = reader.take(1, "document type category")?[0];
        let header = Self::new(
            version,
            &country,
            signer,
            issue_date,
            signature_date,
            feature_definition_reference,
            document_type_category,
        )?;
        Ok((header, reader.position))
    }
}

/// Splits decoded signer text of `expected` characters into identifier and the rest.
fn split_signer(text: &str, expected: usize) -> Result<SignerReference, SealError> {
    if text.len() != expected {
        return Err(SealError::HeaderField {
            field: "signer identifier",
            reason: format!("expected {expected} characters, decoded {}", text.len()),
        });
    }
    let (identifier, rest) = text.split_at(4);
    SignerReference::new(identifier, rest)
}

/// A cursor over input bytes that reports which field ran short.
pub(crate) struct Reader<'a> {
    pub(crate) bytes: &'a [u8],
    pub(crate) position: usize,
}

impl<'a> Reader<'a> {
    pub(crate) fn peek(&self, count: usize, field: &'static str) -> Result<&'a [u8], SealError> {
        self.position
            .checked_add(count)
            .and_then(|end| self.bytes.get(self.position..end))
            .ok_or(SealError::Truncated { field })
    }
    pub(crate) fn take(
        &mut self,
        count: usize,
        field: &'static str,
    ) -> Result<&'a [u8], SealError> {
        let slice = self.peek(count, field)?;
        self.position += count;
        Ok(slice)
    }
    fn take_array(&mut self, field: &'static str) -> Result<[u8; 3], SealError> {
        let slice = self.take(3, field)?;
        Ok([slice[0], slice[1], slice[2]])
    }
    pub(crate) fn remaining(&self) -> usize {
        self.bytes.len().saturating_sub(self.position)
    }
}
