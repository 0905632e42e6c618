//! The ETD profile (ICAO 9303-8 §6 and Appendix B): header version 4, feature definition
//! reference `0x5E`, document type category `0x03`, and one feature `0x02` carrying both TD2 MRZ
//! lines (2 × 36 characters) as 48 bytes of C40, fillers `<` written as SPACE.

use serde::Serialize;

use crate::builder::SealBuilder;
use crate::c40;
use crate::error::SealError;
use crate::header::{Header, HeaderVersion};
use crate::seal::Seal;

/// Feature definition reference of the ETD profile.
pub const FEATURE_DEFINITION_REFERENCE: u8 = 0x5E;
/// Document type category of the ETD profile.
pub const DOCUMENT_TYPE_CATEGORY: u8 = 0x03;
/// Tag of the MRZ feature.
pub const MRZ_TAG: u8 = 0x02;
/// Length of one TD2 MRZ line.
pub const LINE_LEN: usize = 36;
/// Length of the C40-encoded MRZ feature.
pub const MRZ_FEATURE_LEN: usize = 48;

const PROFILE: &str = "ETD";

/// The two TD2 MRZ lines carried by an ETD seal: 36 characters each, `A`–`Z`, `0`–`9`, `<`.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize)]
pub struct EtdMrz {
    lines: [String; 2],
}

impl EtdMrz {
    /// Two TD2 lines. Check digits are not checked here (see `verify`).
    pub fn new(line1: &str, line2: &str) -> Result<Self, SealError> {
        for (index, line) in [line1, line2].into_iter().enumerate() {
            let valid_chars = line
                .bytes()
                .all(|b| b.is_ascii_uppercase() || b.is_ascii_digit() || b == b'<');
            if line.len() != LINE_LEN || !valid_chars {
                return Err(SealError::InvalidFeature {
                    profile: PROFILE,
                    tag: MRZ_TAG,
                    name: "MRZ",
                    reason: format!(
                        "line {} must be 36 characters A-Z, 0-9 or '<', got {line:?}",
                        index + 1
                    ),
                });
            }
        }
        Ok(Self {
            lines: [line1.to_owned(), line2.to_owned()],
        })
    }

    pub fn lines(&self) -> [&str; 2] {
        [&self.lines[0], &self.lines[1]]
    }

    /// The 48-byte C40 feature value.
    pub fn to_feature_value(&self) -> Result<Vec<u8>, SealError> {
        c40::encode(&format!("{}{}", self.lines[0], self.lines[1]))
    }

    /// Parses the 48-byte C40 feature value.
    pub fn from_feature_value(value: &[u8]) -> Result<Self, SealError> {
        let invalid = |reason: String| SealError::InvalidFeature {
            profile: PROFILE,
            tag: MRZ_TAG,
            name: "MRZ",
            reason,
        };
        if value.len() != MRZ_FEATURE_LEN {
            return Err(invalid(format!(
                "expected {MRZ_FEATURE_LEN} bytes, got {}",
                value.len()
            )));
        }
        let text = c40::decode(value)
            .map_err(|error| invalid(error.to_string()))?
            .replace(' ', "<");
        if text.len() != 2 * LINE_LEN {
            return Err(invalid(format!(
                "expected 72 characters, decoded {}",
                text.len()
            )));
        }
        Self::new(&text[..LINE_LEN], &text[LINE_LEN..])
    }

    /// Positions (0-based, over both lines joined) where `printed` differs from this MRZ.
    /// Fillers `<` and spaces are treated as the same character; a line of the wrong length
    /// differs at every position past the shorter one.
    pub fn mismatches(&self, printed: [&str; 2]) -> Vec<usize> {
        let normalise = |c: char| {
            if c == ' ' {
                '<'
            } else {
                c.to_ascii_uppercase()
            }
        };
        let mut positions = Vec::new();
        for (line_index, (seal_line, printed_line)) in self.lines.iter().zip(printed).enumerate() {
            let seal_chars: Vec<char> = seal_line.chars().collect();
            let printed_chars: Vec<char> = printed_line
                .trim_end_matches(['\r', '\n'])
                .chars()
                .collect();
            let longest = seal_chars.len().max(printed_chars.len());
            for position in 0..longest {
                let a = seal_chars.get(position).copied().map(normalise);
                let b = printed_chars.get(position).copied().map(normalise);
                if a != b {
                    positions.push(line_index * LINE_LEN + position);
                }
            }
        }
        positions
    }
}

/// Checks that `header` announces the ETD profile.
pub fn check_header(header: &Header) -> Result<(), SealError> {
    let reason = if header.version() != HeaderVersion::V4 {
        Some(format!(
            "header version {} (the ETD profile requires 4)",
            header.version().number()
        ))
    } else if header.feature_definition_reference() != FEATURE_DEFINITION_REFERENCE {
        Some(format!(
            "feature definition reference {:#04x} (expected 0x5e)",
            header.feature_definition_reference()
        ))
    } else if header.document_type_category() != DOCUMENT_TYPE_CATEGORY {
        Some(format!(
            "document type category {:#04x} (expected 0x03)",
            header.document_type_category()
        ))
    } else {
        None
    };
    match reason {
        Some(reason) => Err(SealError::Profile {
            profile: PROFILE,
            reason,
        }),
        None => Ok(()),
    }
}

/// Whether `header` announces the ETD profile (FDR `0x5E`, category `0x03`).
pub fn is_etd(header: &Header) -> bool {
    header.feature_definition_reference() == FEATURE_DEFINITION_REFERENCE
        && header.document_type_category() == DOCUMENT_TYPE_CATEGORY
}

/// The MRZ of an ETD seal, after checking the header and the MRZ feature.
pub fn mrz(seal: &Seal) -> Result<EtdMrz, SealError> {
    check_header(seal.header())?;
    let feature = seal.feature(MRZ_TAG).ok_or(SealError::MissingFeature {
        profile: PROFILE,
        tag: MRZ_TAG,
        name: "MRZ",
    })?;
    EtdMrz::from_feature_value(feature.value())
}

/// A builder for an ETD seal: `header` must be version 4 with FDR `0x5E` and category `0x03`
/// (see [`header`]).
pub fn builder(header: Header, mrz: &EtdMrz) -> Result<SealBuilder, SealError> {
    check_header(&header)?;
    SealBuilder::new(header).feature(MRZ_TAG, mrz.to_feature_value()?)
}

/// An ETD profile header (version 4, FDR `0x5E`, category `0x03`).
pub fn header(
    issuing_country: &str,
    signer: crate::header::SignerReference,
    issue_date: crate::date::SealDate,
    signature_date: crate::date::SealDate,
) -> Result<Header, SealError> {
    Header::new(
        HeaderVersion::V4,
        issuing_country,
        signer,
        issue_date,
        signature_date,
        FEATURE_DEFINITION_REFERENCE,
        DOCUMENT_TYPE_CATEGORY,
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    const LINE1: &str = "PUUTOERIKSSON<<ANNA<MARIA<<<<<<<<<<<";
    const LINE2: &str = "D231458907UTO7408122F2606277<<<<<<<8";

    #[test]
    fn mrz_feature_is_48_bytes_and_round_trips() {
        let mrz = EtdMrz::new(LINE1, LINE2).unwrap();
        let value = mrz.to_feature_value().unwrap();
        assert_eq!(value.len(), MRZ_FEATURE_LEN);
        assert_eq!(EtdMrz::from_feature_value(&value).unwrap(), mrz);
        assert!(EtdMrz::from_feature_value(&value[..46]).is_err());
    }

    #[test]
    fn refuses_lines_of_the_wrong_shape() {
        assert!(EtdMrz::new(&LINE1[..35], LINE2).is_err());
        assert!(EtdMrz::new(LINE1, &LINE2.replace('<', " ")).is_err());
        assert!(EtdMrz::new(&LINE1.to_lowercase(), LINE2).is_err());
    }

    #[test]
    fn mismatch_positions_treat_fillers_and_spaces_alike() {
        let mrz = EtdMrz::new(LINE1, LINE2).unwrap();
        assert!(mrz.mismatches([LINE1, LINE2]).is_empty());
        assert!(mrz.mismatches([&LINE1.replace('<', " "), LINE2]).is_empty());
        let changed = LINE2.replace("7408122", "7408133");
        assert_eq!(mrz.mismatches([LINE1, &changed]), vec![36 + 18, 36 + 19]);
        assert_eq!(mrz.mismatches([LINE1, &LINE2[..30]]).len(), 6);
    }
}
