//! The five MRZ layouts and the 7-3-1 check digit (ICAO 9303 Part 3 §4.9).

use core::fmt;
use core::str::FromStr;

use crate::error::MrzError;

/// An MRZ layout (ICAO 9303 Parts 4-7). The single-sheet emergency travel document (Part 8,
/// code `PU`) uses [`Format::Td2`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Format {
    /// ID-1 card size, 3 lines of 30 (Part 5).
    Td1,
    /// ID-2 size, 2 lines of 36 (Part 6); also the single-sheet ETD `PU` (Part 8).
    Td2,
    /// Passport booklet, 2 lines of 44 (Part 4).
    Td3,
    /// Full-size visa, 2 lines of 44 (Part 7), no composite check digit.
    MrvA,
    /// Small visa, 2 lines of 36 (Part 7), no composite check digit.
    MrvB,
}

impl Format {
    /// All formats.
    pub const ALL: [Format; 5] = [
        Format::Td1,
        Format::Td2,
        Format::Td3,
        Format::MrvA,
        Format::MrvB,
    ];

    /// The name used in the CLI and JSON: `TD1 TD2 TD3 MRV-A MRV-B`.
    pub const fn as_str(self) -> &'static str {
        match self {
            Format::Td1 => "TD1",
            Format::Td2 => "TD2",
            Format::Td3 => "TD3",
            Format::MrvA => "MRV-A",
            Format::MrvB => "MRV-B",
        }
    }

    /// Characters per line.
    pub const fn line_length(self) -> usize {
        match self {
            Format::Td1 => 30,
            Format::Td2 | Format::MrvB => 36,
            Format::Td3 | Format::MrvA => 44,
        }
    }

    /// Number of lines.
    pub const fn line_count(self) -> usize {
        match self {
            Format::Td1 => 3,
            _ => 2,
        }
    }

    /// Width of the name field.
    pub const fn name_width(self) -> usize {
        match self {
            Format::Td1 => 30,
            Format::Td2 | Format::MrvB => 31,
            Format::Td3 | Format::MrvA => 39,
        }
    }

    /// Longest document number the format holds (TD1/TD2 overflow into the optional data).
    pub const fn max_document_number(self) -> usize {
        match self {
            // 9 in the number field + up to 14 in the 15-character optional field, then the check digit.
            Format::Td1 => 23,
            // 9 + up to 6 in the 7-character optional field, then the check digit.
            Format::Td2 => 15,
            Format::Td3 | Format::MrvA | Format::MrvB => 9,
        }
    }

    /// Width of the (first) optional data field.
    pub const fn optional_data_width(self) -> usize {
        match self {
            Format::Td1 => 15,
            Format::Td2 => 7,
            Format::Td3 => 14,
            Format::MrvA => 16,
            Format::MrvB => 8,
        }
    }

    /// Width of the second optional data field (TD1 only; 0 elsewhere).
    pub const fn optional_data_2_width(self) -> usize {
        match self {
            Format::Td1 => 11,
            _ => 0,
        }
    }

    /// Whether the format has a composite check digit (visas have none).
    pub const fn has_composite_check_digit(self) -> bool {
        !matches!(self, Format::MrvA | Format::MrvB)
    }
}

impl fmt::Display for Format {
    fn fmt(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        formatter.write_str(self.as_str())
    }
}

impl FromStr for Format {
    type Err = MrzError;

    /// Accepts `TD1 TD2 TD3 MRV-A MRV-B` (case-insensitive; `MRVA`/`MRV_A` too).
    fn from_str(value: &str) -> Result<Self, Self::Err> {
        let trimmed = crate::fields::trim(value);
        let format = if trimmed.eq_ignore_ascii_case("TD1") {
            Format::Td1
        } else if trimmed.eq_ignore_ascii_case("TD2") {
            Format::Td2
        } else if trimmed.eq_ignore_ascii_case("TD3") {
            Format::Td3
        } else if ["MRV-A", "MRVA", "MRV_A"]
            .iter()
            .any(|name| trimmed.eq_ignore_ascii_case(name))
        {
            Format::MrvA
        } else if ["MRV-B", "MRVB", "MRV_B"]
            .iter()
            .any(|name| trimmed.eq_ignore_ascii_case(name))
        {
            Format::MrvB
        } else {
            return Err(MrzError::UnknownFormat {
                value: value.to_owned(),
            });
        };
        Ok(format)
    }
}

/// Value of an MRZ character for the check digit: `0-9` -> 0-9, `A-Z` -> 10-35, `<` -> 0.
/// `None` for anything else.
pub const fn character_value(byte: u8) -> Option<u32> {
    match byte {
        b'0'..=b'9' => Some((byte - b'0') as u32),
        b'A'..=b'Z' => Some((byte - b'A') as u32 + 10),
        b'<' => Some(0),
        _ => None,
    }
}

/// The 7-3-1 check digit over several ranges read as one string (weights continue across
/// ranges). Characters outside the MRZ alphabet count as 0 (callers validate first).
pub(crate) fn check_digit_over(parts: &[&[u8]]) -> u8 {
    /// Character values by byte (0 for anything outside the alphabet).
    const VALUES: [u8; 256] = {
        let mut values = [0u8; 256];
        let mut byte = 0usize;
        while byte < 256 {
            values[byte] = match character_value(byte as u8) {
                Some(value) => value as u8,
                None => 0,
            };
            byte += 1;
        }
        values
    };
    const WEIGHTS: [u32; 3] = [7, 3, 1];
    let mut sum = 0u32;
    let mut weight = 0usize;
    for part in parts {
        for &byte in *part {
            sum += u32::from(VALUES[usize::from(byte)]) * WEIGHTS[weight];
            weight = if weight == 2 { 0 } else { weight + 1 };
        }
    }
    b'0' + (sum % 10) as u8
}

/// The ICAO 9303 check digit of `data` (Part 3 §4.9), or `None` when `data` holds a character
/// outside `A-Z 0-9 <`.
///
/// ```
/// assert_eq!(travdoc_mrz::check_digit("520727"), Some('3'));
/// assert_eq!(travdoc_mrz::check_digit("AB2134<<<"), Some('5'));
/// ```
pub fn check_digit(data: &str) -> Option<char> {
    if data.bytes().all(|byte| character_value(byte).is_some()) {
        Some(char::from(check_digit_over(&[data.as_bytes()])))
    } else {
        None
    }
}
