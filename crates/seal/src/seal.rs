//! A whole seal: header, message zone of features, signature zone (ICAO 9303-13 §2.3–2.4).

use serde::Serialize;

use crate::error::SealError;
use crate::header::{Header, HeaderVersion, Reader};

/// Marker of the signature zone.
pub const SIGNATURE_MARKER: u8 = 0xFF;

/// One message-zone feature: a tag (0–254) and its raw value. Unknown tags are kept as they are.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize)]
pub struct Feature {
    tag: u8,
    #[serde(serialize_with = "serialize_hex")]
    value: Vec<u8>,
}

fn serialize_hex<S: serde::Serializer>(value: &[u8], serializer: S) -> Result<S::Ok, S::Error> {
    serializer.serialize_str(&hex::encode(value))
}

impl Feature {
    /// A feature; tag `0xFF` is the signature marker and is refused.
    pub fn new(tag: u8, value: impl Into<Vec<u8>>) -> Result<Self, SealError> {
        if tag == SIGNATURE_MARKER {
            return Err(SealError::ReservedTag);
        }
        Ok(Self {
            tag,
            value: value.into(),
        })
    }
    pub fn tag(&self) -> u8 {
        self.tag
    }
    pub fn value(&self) -> &[u8] {
        &self.value
    }
}

/// Writes a feature or signature length: one raw byte in v3 features, DER otherwise.
pub(crate) fn encode_length(
    out: &mut Vec<u8>,
    length: usize,
    der: bool,
    field: &'static str,
) -> Result<(), SealError> {
    if !der {
        let byte = u8::try_from(length).map_err(|_| SealError::Length {
            field,
            reason: format!("{length} bytes do not fit the one-byte length of a version 3 seal"),
        })?;
        out.push(byte);
        return Ok(());
    }
    if length < 0x80 {
        out.push(length as u8);
        return Ok(());
    }
    let bytes = (length as u64).to_be_bytes();
    let start = bytes
        .iter()
        .position(|b| *b != 0)
        .unwrap_or(bytes.len() - 1);
    let significant = &bytes[start..];
    if significant.len() > 3 {
        return Err(SealError::Length {
            field,
            reason: format!("{length} bytes is too long"),
        });
    }
    out.push(0x80 | significant.len() as u8);
    out.extend_from_slice(significant);
    Ok(())
}

/// Reads a length written by [`encode_length`]; only minimal DER is accepted.
fn decode_length(
    reader: &mut Reader<'_>,
    der: bool,
    field: &'static str,
) -> Result<usize, SealError> {
    let first = reader.take(1, field)?[0];
    if !der || first < 0x80 {
        return Ok(usize::from(first));
    }
    let count = usize::from(first & 0x7F);
    if count == 0 || count > 3 {
        return Err(SealError::Length {
            field,
            reason: format!("DER length with {count} length bytes is not supported"),
        });
    }
    let bytes = reader.take(count, field)?;
    if bytes[0] == 0 {
        return Err(SealError::Length {
            field,
            reason: "DER length has a leading zero byte".into(),
        });
    }
    let length = bytes
        .iter()
        .fold(0usize, |acc, b| (acc << 8) | usize::from(*b));
    if length < 0x80 {
        return Err(SealError::Length {
            field,
            reason: format!("DER length {length} is not minimally encoded"),
        });
    }
    Ok(length)
}

/// A decoded (or freshly signed) seal.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize)]
pub struct Seal {
    header: Header,
    features: Vec<Feature>,
    #[serde(serialize_with = "serialize_hex")]
    signature: Vec<u8>,
}

impl Seal {
    /// A seal from its parts (the signature is raw `r||s`).
    pub fn from_parts(header: Header, features: Vec<Feature>, signature: Vec<u8>) -> Self {
        Self {
            header,
            features,
            signature,
        }
    }

    pub fn header(&self) -> &Header {
        &self.header
    }
    /// Features in the order they appear in the message zone.
    pub fn features(&self) -> &[Feature] {
        &self.features
    }
    /// The first feature with `tag`.
    pub fn feature(&self, tag: u8) -> Option<&Feature> {
        self.features.iter().find(|feature| feature.tag == tag)
    }
    /// Raw `r||s` signature.
    pub fn signature(&self) -> &[u8] {
        &self.signature
    }

    /// The signed data: header and message zone.
    pub fn signed_data(&self) -> Result<Vec<u8>, SealError> {
        encode_signed_data(&self.header, &self.features)
    }

    /// The complete seal bytes.
    pub fn to_bytes(&self) -> Result<Vec<u8>, SealError> {
        let mut out = self.signed_data()?;
        out.push(SIGNATURE_MARKER);
        encode_length(&mut out, self.signature.len(), true, "signature")?;
        out.extend_from_slice(&self.signature);
        Ok(out)
    }

    /// Decodes seal bytes. Every feature is kept, known or not; nothing is checked cryptographically.
    pub fn decode(bytes: &[u8]) -> Result<Self, SealError> {
        Ok(decode_with_signed_len(bytes)?.0)
    }
}

/// Decodes a seal and returns it with the length of the signed data (header + message zone).
pub(crate) fn decode_with_signed_len(bytes: &[u8]) -> Result<(Seal, usize), SealError> {
    let (header, header_len) = Header::decode(bytes)?;
    let der = header.version() == HeaderVersion::V4;
    let mut reader = Reader {
        bytes,
        position: header_len,
    };
    let mut features = Vec::new();
    loop {
        if reader.remaining() == 0 {
            return Err(SealError::MissingSignature);
        }
        let tag = reader.take(1, "feature tag")?[0];
        if tag == SIGNATURE_MARKER {
            break;
        }
        let length = decode_length(&mut reader, der, "feature length")?;
        let value = reader.take(length, "feature value")?;
        features.push(Feature {
            tag,
            value: value.to_vec(),
        });
    }
    let signed_len = reader.position - 1;
    let signature_len = decode_length(&mut reader, true, "signature length")?;
    let signature = reader.take(signature_len, "signature")?.to_vec();
    if reader.remaining() != 0 {
        return Err(SealError::TrailingBytes {
            count: reader.remaining(),
        });
    }
    Ok((
        Seal {
            header,
            features,
            signature,
        },
        signed_len,
    ))
}

/// Header followed by the message zone.
pub(crate) fn encode_signed_data(
    header: &Header,
    features: &[Feature],
) -> Result<Vec<u8>, SealError> {
    let der = header.version() == HeaderVersion::V4;
    let mut out =
        Vec::with_capacity(32 + features.iter().map(|f| f.value.len() + 4).sum::<usize>());
    header.encode_into(&mut out)?;
    for feature in features {
        out.push(feature.tag);
        encode_length(&mut out, feature.value.len(), der, "feature length")?;
        out.extend_from_slice(&feature.value);
    }
    Ok(out)
}
