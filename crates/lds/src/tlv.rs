//! BER-TLV as used by the LDS (ISO/IEC 7816-4 §5.2; 9303-10 §4.5): multi-byte tags such as
//! `5F1F` and `7F61`, definite lengths in short or long form.

use crate::LdsError;

/// One TLV element borrowed from its input.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Tlv<'a> {
    /// The tag, e.g. `0x5F1F`.
    pub tag: u32,
    /// Whether the tag's constructed bit is set.
    pub constructed: bool,
    /// The value bytes.
    pub value: &'a [u8],
    /// The whole element (tag, length and value) as encoded.
    pub raw: &'a [u8],
}

/// Read one TLV from the start of `input`; returns the element and the rest.
pub fn read(input: &[u8]) -> Result<(Tlv<'_>, &[u8]), LdsError> {
    let truncated = LdsError::Tlv {
        reason: "truncated",
    };
    let first = *input.first().ok_or(truncated.clone())?;
    let mut pos = 1;
    let mut tag = u32::from(first);
    if first & 0x1F == 0x1F {
        loop {
            let byte = *input.get(pos).ok_or(truncated.clone())?;
            pos += 1;
            if pos > 4 {
                return Err(LdsError::Tlv {
                    reason: "tag longer than 3 bytes",
                });
            }
            tag = (tag << 8) | u32::from(byte);
            if byte & 0x80 == 0 {
                break;
            }
        }
    }
    let length_byte = *input.get(pos).ok_or(truncated.clone())?;
    pos += 1;
    let length = if length_byte < 0x80 {
        usize::from(length_byte)
    } else {
        let count = usize::from(length_byte & 0x7F);
        if count == 0 || count > 4 {
            return Err(LdsError::Tlv {
                reason: "indefinite or oversized length",
            });
        }
        let bytes = input.get(pos..pos + count).ok_or(truncated.clone())?;
        pos += count;
        bytes
            .iter()
            .fold(0usize, |acc, b| (acc << 8) | usize::from(*b))
    };
    let end = pos.checked_add(length).ok_or(truncated.clone())?;
    let value = input.get(pos..end).ok_or(truncated)?;
    Ok((
        Tlv {
            tag,
            constructed: first & 0x20 != 0,
            value,
            raw: &input[..end],
        },
        &input[end..],
    ))
}

/// Read exactly one TLV that fills `input`, requiring `tag`.
pub fn read_exact(input: &[u8], tag: u32) -> Result<Tlv<'_>, LdsError> {
    let (tlv, rest) = read(input)?;
    if tlv.tag != tag {
        return Err(LdsError::UnexpectedTag {
            expected: tag,
            found: tlv.tag,
        });
    }
    if !rest.is_empty() {
        return Err(LdsError::Tlv {
            reason: "trailing bytes after the element",
        });
    }
    Ok(tlv)
}

/// All TLVs in `input`, in order.
pub fn read_all(mut input: &[u8]) -> Result<Vec<Tlv<'_>>, LdsError> {
    let mut out = Vec::new();
    while !input.is_empty() {
        let (tlv, rest) = read(input)?;
        out.push(tlv);
        input = rest;
    }
    Ok(out)
}

/// Encode a tag (1–3 bytes, big-endian as written).
fn encode_tag(tag: u32, out: &mut Vec<u8>) {
    if tag > 0xFFFF {
        out.push((tag >> 16) as u8);
    }
    if tag > 0xFF {
        out.push((tag >> 8) as u8);
    }
    out.push(tag as u8);
}

/// Encode a definite length in the shortest form.
fn encode_length(length: usize, out: &mut Vec<u8>) {
    if length < 0x80 {
        out.push(length as u8);
    } else {
        let bytes = length.to_be_bytes();
        let skip = bytes.iter().take_while(|b| **b == 0).count();
        out.push(0x80 | (bytes.len() - skip) as u8);
        out.extend_from_slice(&bytes[skip..]);
    }
}

/// Encode one TLV.
pub fn encode(tag: u32, value: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(value.len() + 6);
    encode_tag(tag, &mut out);
    encode_length(value.len(), &mut out);
    out.extend_from_slice(value);
    out
}

/// Find the first direct child with `tag`.
pub fn find<'a>(children: &[Tlv<'a>], tag: u32) -> Option<Tlv<'a>> {
    children.iter().find(|t| t.tag == tag).copied()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn long_form_lengths_and_multi_byte_tags_round_trip() {
        let value = vec![0xAB; 300];
        let encoded = encode(0x7F61, &value);
        assert_eq!(&encoded[..5], &[0x7F, 0x61, 0x82, 0x01, 0x2C]);
        let tlv = read_exact(&encoded, 0x7F61).expect("parse");
        assert!(tlv.constructed);
        assert_eq!(tlv.value, &value[..]);
        assert_eq!(tlv.raw, &encoded[..]);
    }

    #[test]
    fn truncation_is_an_error() {
        assert!(read(&[0x5F]).is_err());
        assert!(read(&[0x61, 0x05, 0x01]).is_err());
        assert!(read(&[0x61, 0x80]).is_err());
        assert!(read_exact(&[0x61, 0x00, 0x00], 0x61).is_err());
    }
}
