//! C40 text compaction as used by Visible Digital Seals (ICAO 9303-13 §2.6, after ISO/IEC 16022).
//!
//! Only the basic set is used by seals: SPACE, `0`–`9` and `A`–`Z`. The MRZ filler `<` is written
//! as SPACE before encoding. Three characters `c1 c2 c3` become the 16-bit value
//! `1600·c1 + 40·c2 + c3 + 1`, written big-endian. Tail rules:
//! - two characters left over: padded with Shift 1 (value 0) and encoded as a triple;
//! - one character left over: the byte `0xFE` followed by the character's ASCII code plus one.

use crate::error::SealError;

/// The byte that announces a single trailing character (ISO/IEC 16022 "unlatch" form).
const SINGLE_CHARACTER_MARKER: u8 = 0xFE;
/// C40 value of Shift 1, used to pad a final pair of characters.
const SHIFT_1: u16 = 0;

fn value_of(character: char) -> Option<u16> {
    match character {
        ' ' | '<' => Some(3),
        '0'..='9' => Some(character as u16 - '0' as u16 + 4),
        'A'..='Z' => Some(character as u16 - 'A' as u16 + 14),
        _ => None,
    }
}

fn character_of(value: u16) -> Option<char> {
    match value {
        3 => Some(' '),
        4..=13 => char::from_u32(u32::from(value - 4) + u32::from(b'0')),
        14..=39 => char::from_u32(u32::from(value - 14) + u32::from(b'A')),
        _ => None,
    }
}

/// Number of bytes the C40 encoding of `characters` characters takes.
pub const fn encoded_len(characters: usize) -> usize {
    characters / 3 * 2 + if characters.is_multiple_of(3) { 0 } else { 2 }
}

/// Encodes `text` (SPACE, `<`, `0`–`9`, `A`–`Z`) in C40. `<` is encoded as SPACE.
pub fn encode(text: &str) -> Result<Vec<u8>, SealError> {
    let values = text
        .chars()
        .map(|character| value_of(character).ok_or(SealError::C40Character { character }))
        .collect::<Result<Vec<u16>, SealError>>()?;
    let mut out = Vec::with_capacity(encoded_len(values.len()));
    let mut chunks = values.chunks_exact(3);
    for chunk in chunks.by_ref() {
        push_triple(&mut out, chunk[0], chunk[1], chunk[2]);
    }
    match chunks.remainder() {
        [first, second] => push_triple(&mut out, *first, *second, SHIFT_1),
        [single] => {
            // ASCII of a basic-set character plus one; all such characters are below 0x5B.
            let ascii = character_of(*single).map_or(0x20, |c| c as u8);
            out.push(SINGLE_CHARACTER_MARKER);
            out.push(ascii + 1);
        }
        _ => {}
    }
    Ok(out)
}

fn push_triple(out: &mut Vec<u8>, c1: u16, c2: u16, c3: u16) {
    let value = 1600 * c1 + 40 * c2 + c3 + 1;
    out.extend_from_slice(&value.to_be_bytes());
}

/// Decodes C40 bytes into text; SPACE stays SPACE (callers that hold MRZ data map it to `<`).
///
/// Only the canonical encoding produced by [`encode`] is accepted, so that
/// `encode(decode(bytes)) == bytes` whenever decoding succeeds.
pub fn decode(bytes: &[u8]) -> Result<String, SealError> {
    if !bytes.len().is_multiple_of(2) {
        return Err(SealError::C40OddLength {
            length: bytes.len(),
        });
    }
    let pair_count = bytes.len() / 2;
    let mut text = String::with_capacity(pair_count * 3);
    for (index, pair) in bytes.chunks_exact(2).enumerate() {
        let last = index + 1 == pair_count;
        if pair[0] == SINGLE_CHARACTER_MARKER {
            if !last {
                return Err(SealError::C40Value { offset: index * 2 });
            }
            let character = pair[1]
                .checked_sub(1)
                .map(char::from)
                .filter(|c| value_of(*c).is_some() && *c != '<')
                .ok_or(SealError::C40Value { offset: index * 2 })?;
            text.push(character);
            continue;
        }
        let value = u16::from_be_bytes([pair[0], pair[1]]);
        let value = value
            .checked_sub(1)
            .ok_or(SealError::C40Value { offset: index * 2 })?;
        let c1 = value / 1600;
        let c2 = (value % 1600) / 40;
        let c3 = value % 40;
        let invalid = SealError::C40Value { offset: index * 2 };
        text.push(character_of(c1).ok_or(invalid.clone())?);
        text.push(character_of(c2).ok_or(invalid.clone())?);
        if c3 == SHIFT_1 && last {
            continue;
        }
        text.push(character_of(c3).ok_or(invalid)?);
    }
    Ok(text)
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn icao_vectors() {
        assert_eq!(encode("XK<CD").unwrap(), [0xEB, 0x04, 0x66, 0xA9]);
        assert_eq!(encode("XKCD").unwrap(), [0xEB, 0x11, 0xFE, 0x45]);
        assert_eq!(encode("VISA01").unwrap(), [0xDE, 0x51, 0x58, 0x26]);
        assert_eq!(encode("UTO").unwrap(), [0xD9, 0xC5]);
        assert_eq!(encode("D<<").unwrap(), [0x6A, 0xBC]);
        assert_eq!(decode(&[0xEB, 0x04, 0x66, 0xA9]).unwrap(), "XK CD");
        assert_eq!(decode(&[0xEB, 0x11, 0xFE, 0x45]).unwrap(), "XKCD");
        assert_eq!(decode(&[0xDE, 0x51, 0x58, 0x26]).unwrap(), "VISA01");
    }

    #[test]
    fn rejects_characters_outside_the_basic_set() {
        assert_eq!(
            encode("ab"),
            Err(SealError::C40Character { character: 'a' })
        );
    }

    #[test]
    fn rejects_non_canonical_and_malformed_bytes() {
        // odd length
        assert!(matches!(
            decode(&[0xEB]),
            Err(SealError::C40OddLength { .. })
        ));
        // 0xFE not in the final position
        assert!(decode(&[0xFE, 0x45, 0xEB, 0x11]).is_err());
        // value 0 (no characters at all)
        assert!(decode(&[0x00, 0x00]).is_err());
        // Shift 1 in the middle of the text
        let shift_in_middle = (1600u16 * 14 + 40 * 14 + 1).to_be_bytes();
        assert!(decode(&[shift_in_middle[0], shift_in_middle[1], 0xDE, 0x51]).is_err());
        // value above the basic set (c1 = 40)
        assert!(decode(&(1600u16 * 40 + 1).to_be_bytes()).is_err());
    }

    proptest! {
        #[test]
        fn round_trip(text in "[A-Z0-9 ]{0,80}") {
            let bytes = encode(&text).unwrap();
            prop_assert_eq!(bytes.len(), encoded_len(text.chars().count()));
            prop_assert_eq!(decode(&bytes).unwrap(), text);
        }

        #[test]
        fn decode_is_canonical(bytes in proptest::collection::vec(any::<u8>(), 0..40)) {
            if let Ok(text) = decode(&bytes) {
                prop_assert_eq!(encode(&text).unwrap(), bytes);
            }
        }
    }
}
