//! Field newtypes: document number, optional data, dates, sex.

use core::fmt;
use core::str::FromStr;

use crate::error::{Field, MrzError};
use crate::format::Format;

/// Normalises an alphanumeric MRZ field: letters upper-cased, spaces and ASCII punctuation become
/// the filler `<` (Part 4 §4.2.2.2), fillers at both ends removed. Returns the length written.
fn normalise_alphanumeric(
    value: &str,
    field: Field,
    buffer: &mut [u8],
    too_long: impl Fn(usize) -> MrzError,
) -> Result<usize, MrzError> {
    let trimmed = trim(value);
    let mut length = 0usize;
    let mut total = 0usize;
    // Fillers are held back until a following character shows they are internal.
    let mut pending_fillers = 0usize;
    for (index, &raw) in trimmed.as_bytes().iter().enumerate() {
        let byte = if raw.is_ascii_alphanumeric() {
            raw.to_ascii_uppercase()
        } else if raw == b' ' || raw.is_ascii_punctuation() {
            b'<'
        } else {
            let character = trimmed
                .get(index..)
                .and_then(|rest| rest.chars().next())
                .unwrap_or(char::REPLACEMENT_CHARACTER);
            return Err(MrzError::InvalidCharacter { field, character });
        };
        if byte == b'<' {
            if length > 0 {
                pending_fillers += 1;
            }
            continue;
        }
        total += pending_fillers + 1;
        if total > buffer.len() {
            // Keep counting so that the error reports the full length.
            pending_fillers = 0;
            continue;
        }
        for _ in 0..pending_fillers {
            buffer[length] = b'<';
            length += 1;
        }
        pending_fillers = 0;
        buffer[length] = byte;
        length += 1;
    }
    if total > buffer.len() {
        return Err(too_long(total));
    }
    Ok(length)
}

/// Trims surrounding whitespace, fast for ASCII.
pub(crate) fn trim(value: &str) -> &str {
    let ascii = value.trim_ascii();
    let bytes = ascii.as_bytes();
    if bytes.first().is_some_and(|byte| !byte.is_ascii())
        || bytes.last().is_some_and(|byte| !byte.is_ascii())
    {
        ascii.trim()
    } else {
        ascii
    }
}

/// A document number: `A-Z 0-9` with internal fillers, at most 23 characters (TD1 with the
/// overflow rule); the format decides how many it holds.
#[derive(Clone, Copy, PartialEq, Eq, Hash)]
pub struct DocumentNumber {
    bytes: [u8; 23],
    length: u8,
}

impl DocumentNumber {
    /// Placeholder while fields are being filled in (never escapes a successful parse).
    pub(crate) const PLACEHOLDER: DocumentNumber = DocumentNumber {
        bytes: [b'<'; 23],
        length: 0,
    };

    /// The normalised number (`L898902C3`, `D23145890734`).
    pub fn as_str(&self) -> &str {
        core::str::from_utf8(&self.bytes[..usize::from(self.length)]).unwrap_or("")
    }

    /// Number of characters.
    pub fn len(&self) -> usize {
        usize::from(self.length)
    }

    /// Always false: a document number is never empty.
    pub fn is_empty(&self) -> bool {
        self.length == 0
    }

    pub(crate) fn as_bytes(&self) -> &[u8] {
        &self.bytes[..usize::from(self.length)]
    }
}

impl FromStr for DocumentNumber {
    type Err = MrzError;

    /// Upper-cases letters; spaces and punctuation become `<`; fillers at the ends are dropped.
    fn from_str(value: &str) -> Result<Self, Self::Err> {
        let mut bytes = [b'<'; 23];
        let length = normalise_alphanumeric(value, Field::DocumentNumber, &mut bytes, |length| {
            MrzError::DocumentNumberTooLong {
                format: Format::Td1,
                length,
                max: Format::Td1.max_document_number(),
            }
        })?;
        if length == 0 {
            return Err(MrzError::MissingField {
                field: Field::DocumentNumber,
            });
        }
        Ok(Self {
            bytes,
            length: length as u8,
        })
    }
}

impl TryFrom<&str> for DocumentNumber {
    type Error = MrzError;
    fn try_from(value: &str) -> Result<Self, Self::Error> {
        value.parse()
    }
}

impl fmt::Display for DocumentNumber {
    fn fmt(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        formatter.write_str(self.as_str())
    }
}

impl fmt::Debug for DocumentNumber {
    fn fmt(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(formatter, "DocumentNumber({:?})", self.as_str())
    }
}

/// Optional data (personal number, etc.): `A-Z 0-9` with internal fillers, at most 16 characters
/// (MRV-A); the format decides how many it holds. May be empty.
#[derive(Clone, Copy, PartialEq, Eq, Hash, Default)]
pub struct OptionalData {
    bytes: [u8; 16],
    length: u8,
}

impl OptionalData {
    /// No optional data.
    pub const EMPTY: OptionalData = OptionalData {
        bytes: [b'<'; 16],
        length: 0,
    };

    /// The normalised data.
    pub fn as_str(&self) -> &str {
        core::str::from_utf8(&self.bytes[..usize::from(self.length)]).unwrap_or("")
    }

    /// Number of characters.
    pub fn len(&self) -> usize {
        usize::from(self.length)
    }

    /// Whether there is no optional data.
    pub fn is_empty(&self) -> bool {
        self.length == 0
    }

    pub(crate) fn as_bytes(&self) -> &[u8] {
        &self.bytes[..usize::from(self.length)]
    }

    /// Parses optional data for `field` (`optional_data` or `optional_data_2`).
    pub fn parse_for(value: &str, field: Field) -> Result<Self, MrzError> {
        let mut bytes = [b'<'; 16];
        let length = normalise_alphanumeric(value, field, &mut bytes, |length| {
            MrzError::OptionalDataTooLong {
                field,
                format: Format::MrvA,
                length,
                max: 16,
            }
        })?;
        Ok(Self {
            bytes,
            length: length as u8,
        })
    }
}

impl FromStr for OptionalData {
    type Err = MrzError;
    fn from_str(value: &str) -> Result<Self, Self::Err> {
        Self::parse_for(value, Field::OptionalData)
    }
}

impl fmt::Display for OptionalData {
    fn fmt(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        formatter.write_str(self.as_str())
    }
}

impl fmt::Debug for OptionalData {
    fn fmt(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(formatter, "OptionalData({:?})", self.as_str())
    }
}

/// Sex as written in the MRZ: `F`, `M`, or unspecified (`<` in the MRZ, `X` in the visual zone).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Sex {
    /// `F`.
    Female,
    /// `M`.
    Male,
    /// `<` in the MRZ, `X` in the visual inspection zone.
    Unspecified,
}

impl Sex {
    /// The MRZ character: `F`, `M` or `<`.
    pub const fn mrz_char(self) -> char {
        match self {
            Sex::Female => 'F',
            Sex::Male => 'M',
            Sex::Unspecified => '<',
        }
    }

    /// The visual-zone character: `F`, `M` or `X`.
    pub const fn viz_char(self) -> char {
        match self {
            Sex::Female => 'F',
            Sex::Male => 'M',
            Sex::Unspecified => 'X',
        }
    }
}

impl FromStr for Sex {
    type Err = MrzError;

    /// Accepts `F`, `M`, and `X` or `<` for unspecified (case-insensitive).
    fn from_str(value: &str) -> Result<Self, Self::Err> {
        match trim(value) {
            "F" | "f" => Ok(Sex::Female),
            "M" | "m" => Ok(Sex::Male),
            "X" | "x" | "<" => Ok(Sex::Unspecified),
            "" => Err(MrzError::MissingField { field: Field::Sex }),
            _ => Err(MrzError::InvalidSex {
                value: value.to_owned(),
            }),
        }
    }
}

impl TryFrom<&str> for Sex {
    type Error = MrzError;
    fn try_from(value: &str) -> Result<Self, Self::Error> {
        value.parse()
    }
}

impl fmt::Display for Sex {
    fn fmt(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(formatter, "{}", self.viz_char())
    }
}

/// A full date with possibly unknown month and/or day (ICAO 9303 Part 3 §4.7 / Part 4 note):
/// written `YYYY-MM-DD`, `YYYY-MM-XX` or `YYYY-XX-XX`; unknown parts become `<` in the MRZ.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct MrzDate {
    year: u16,
    month: Option<u8>,
    day: Option<u8>,
}

/// Days in `month` of `year` (proleptic Gregorian); 0 for a month outside 1-12. The one copy
/// of this rule in the workspace: the seal and PKI crates call it too.
pub const fn days_in_month(year: u16, month: u8) -> u8 {
    match month {
        1 | 3 | 5 | 7 | 8 | 10 | 12 => 31,
        4 | 6 | 9 | 11 => 30,
        2 if (year.is_multiple_of(4) && !year.is_multiple_of(100)) || year.is_multiple_of(400) => {
            29
        }
        2 => 28,
        _ => 0,
    }
}

impl MrzDate {
    /// Placeholder while fields are being filled in (never escapes a successful parse).
    pub(crate) const PLACEHOLDER: MrzDate = MrzDate {
        year: 2000,
        month: None,
        day: None,
    };

    /// A date; `month`/`day` `None` when unknown. An unknown month requires an unknown day.
    pub fn new(year: u16, month: Option<u8>, day: Option<u8>) -> Result<Self, MrzError> {
        let invalid = |reason| MrzError::InvalidDate {
            field: Field::Date,
            value: format!(
                "{year:04}-{}-{}",
                month.map_or("XX".to_owned(), |m| format!("{m:02}")),
                day.map_or("XX".to_owned(), |d| format!("{d:02}"))
            ),
            reason,
        };
        if year > 9999 {
            return Err(invalid("has a year beyond 9999"));
        }
        match (month, day) {
            (None, Some(_)) => Err(invalid("has a day but an unknown month")),
            (Some(month), _) if !(1..=12).contains(&month) => Err(invalid("has no such month")),
            (Some(month), Some(day)) if day == 0 || day > days_in_month(year, month) => {
                Err(invalid("has no such day in that month"))
            }
            _ => Ok(Self { year, month, day }),
        }
    }

    /// The year.
    pub fn year(&self) -> u16 {
        self.year
    }

    /// The month, `None` when unknown.
    pub fn month(&self) -> Option<u8> {
        self.month
    }

    /// The day, `None` when unknown.
    pub fn day(&self) -> Option<u8> {
        self.day
    }

    /// The six MRZ characters `YYMMDD`, unknown parts as `<<`.
    pub fn mrz_bytes(&self) -> [u8; 6] {
        let two = |value: Option<u8>| match value {
            Some(value) => [b'0' + value / 10, b'0' + value % 10],
            None => [b'<', b'<'],
        };
        let year = (self.year % 100) as u8;
        let [y1, y2] = two(Some(year));
        let [m1, m2] = two(self.month);
        let [d1, d2] = two(self.day);
        [y1, y2, m1, m2, d1, d2]
    }

    /// `YYMMDD` as a string.
    pub fn to_mrz_string(&self) -> String {
        self.mrz_bytes()
            .iter()
            .map(|&byte| char::from(byte))
            .collect()
    }

    /// Reads a `YYMMDD` MRZ date, choosing the century so that the year falls in
    /// `earliest..=earliest + 99`.
    pub fn from_mrz(yymmdd: &str, earliest: u16) -> Result<Self, MrzError> {
        let invalid = |reason| MrzError::InvalidDate {
            field: Field::Date,
            value: yymmdd.to_owned(),
            reason,
        };
        let bytes = yymmdd.as_bytes();
        if bytes.len() != 6 {
            return Err(invalid("is not six characters YYMMDD"));
        }
        let two = |pair: &[u8]| -> Result<Option<u8>, MrzError> {
            match pair {
                [b'<', b'<'] => Ok(None),
                [a @ b'0'..=b'9', b @ b'0'..=b'9'] => Ok(Some((a - b'0') * 10 + (b - b'0'))),
                _ => Err(invalid("is not YYMMDD with digits or << for unknown parts")),
            }
        };
        let yy = two(&bytes[0..2])?.ok_or_else(|| invalid("has an unknown year"))?;
        let month = two(&bytes[2..4])?;
        let day = two(&bytes[4..6])?;
        let earliest = u32::from(earliest);
        let mut year = earliest - earliest % 100 + u32::from(yy);
        if year < earliest {
            year += 100;
        }
        let year = u16::try_from(year).map_err(|_| invalid("has a year beyond 9999"))?;
        Self::new(year, month, day).map_err(|error| match error {
            MrzError::InvalidDate { reason, .. } => invalid(reason),
            other => other,
        })
    }
}

impl FromStr for MrzDate {
    type Err = MrzError;

    /// ISO `YYYY-MM-DD`; `XX` for an unknown month or day (`1974-XX-XX`, `1974-08-XX`).
    fn from_str(value: &str) -> Result<Self, Self::Err> {
        let trimmed = trim(value);
        let invalid = |reason| MrzError::InvalidDate {
            field: Field::Date,
            value: value.to_owned(),
            reason,
        };
        if trimmed.is_empty() {
            return Err(MrzError::MissingField { field: Field::Date });
        }
        let bytes = trimmed.as_bytes();
        if bytes.len() != 10 || bytes[4] != b'-' || bytes[7] != b'-' {
            return Err(invalid(
                "is not an ISO date YYYY-MM-DD (XX for an unknown month or day)",
            ));
        }
        let number = |digits: &[u8]| -> Option<u16> {
            digits.iter().try_fold(0u16, |total, &byte| {
                byte.is_ascii_digit()
                    .then(|| total * 10 + u16::from(byte - b'0'))
            })
        };
        let part = |digits: &[u8]| -> Result<Option<u8>, MrzError> {
            if digits.eq_ignore_ascii_case(b"XX") {
                Ok(None)
            } else {
                number(digits)
                    .map(|value| Some(value as u8))
                    .ok_or_else(|| {
                        invalid("is not an ISO date YYYY-MM-DD (XX for an unknown month or day)")
                    })
            }
        };
        let year =
            number(&bytes[0..4]).ok_or_else(|| invalid("does not start with a four-digit year"))?;
        let month = part(&bytes[5..7])?;
        let day = part(&bytes[8..10])?;
        Self::new(year, month, day).map_err(|error| match error {
            MrzError::InvalidDate { reason, .. } => invalid(reason),
            other => other,
        })
    }
}

impl TryFrom<&str> for MrzDate {
    type Error = MrzError;
    fn try_from(value: &str) -> Result<Self, Self::Error> {
        value.parse()
    }
}

impl fmt::Display for MrzDate {
    /// ISO form with `XX` for unknown parts.
    fn fmt(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(formatter, "{:04}-", self.year)?;
        match self.month {
            Some(month) => write!(formatter, "{month:02}-")?,
            None => formatter.write_str("XX-")?,
        }
        match self.day {
            Some(day) => write!(formatter, "{day:02}"),
            None => formatter.write_str("XX"),
        }
    }
}
