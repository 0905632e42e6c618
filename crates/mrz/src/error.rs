//! The one error type of this crate. Every variant names the field it is about.

use crate::format::Format;

/// The input field an error is about (the JSON key of `travdoc mrz build`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum Field {
    /// `format`: TD1, TD2, TD3, MRV-A or MRV-B.
    Format,
    /// `document_code`.
    DocumentCode,
    /// `issuing_state`.
    IssuingState,
    /// `nationality`.
    Nationality,
    /// A country code not yet attached to a field (bare `CountryCode::from_str`).
    CountryCode,
    /// `surname`: the primary identifier.
    Surname,
    /// `given_names`: the secondary identifier.
    GivenNames,
    /// The whole name field (truncation).
    Name,
    /// `document_number`.
    DocumentNumber,
    /// `birth_date`.
    BirthDate,
    /// `expiry_date`.
    ExpiryDate,
    /// A date not yet attached to a field (bare `MrzDate::from_str`).
    Date,
    /// `sex`.
    Sex,
    /// `optional_data` (TD1: optional data 1; TD3: personal number).
    OptionalData,
    /// `optional_data_2` (TD1 only).
    OptionalData2,
    /// `transliteration` or `truncation`: the per-call options.
    Transliteration,
    /// The MRZ text given to the parser.
    Mrz,
}

impl Field {
    /// The stable snake_case name (the JSON key of the build input).
    pub const fn as_str(self) -> &'static str {
        match self {
            Field::Format => "format",
            Field::DocumentCode => "document_code",
            Field::IssuingState => "issuing_state",
            Field::Nationality => "nationality",
            Field::CountryCode => "country_code",
            Field::Surname => "surname",
            Field::GivenNames => "given_names",
            Field::Name => "name",
            Field::DocumentNumber => "document_number",
            Field::BirthDate => "birth_date",
            Field::ExpiryDate => "expiry_date",
            Field::Date => "date",
            Field::Sex => "sex",
            Field::OptionalData => "optional_data",
            Field::OptionalData2 => "optional_data_2",
            Field::Transliteration => "transliteration",
            Field::Mrz => "mrz",
        }
    }
}

impl core::fmt::Display for Field {
    fn fmt(&self, formatter: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        formatter.write_str(self.as_str())
    }
}

/// Everything that can go wrong while building or parsing an MRZ.
///
/// [`MrzError::field`] names the input field, [`MrzError::code`] is a stable snake_case code for
/// APIs; the `Display` text is a message a person can act on.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
#[allow(missing_docs)] // variant fields are named for what they hold
pub enum MrzError {
    /// The format name is not one of TD1, TD2, TD3, MRV-A, MRV-B.
    #[error("format: unknown format `{value}` (expected TD1, TD2, TD3, MRV-A or MRV-B)")]
    UnknownFormat { value: String },
    /// A required field is empty or absent.
    #[error("{field}: a value is required")]
    MissingField { field: Field },
    /// Not an ISO 3166-1 alpha-3 code nor an ICAO 9303 Part 3 code.
    #[error(
        "{field}: `{value}` is not an ISO 3166-1 alpha-3 code or an ICAO 9303 code (such as D, XXA, UNO, EUE)"
    )]
    UnknownCountryCode { field: Field, value: String },
    /// The document code is malformed (not a letter then a letter or `<`, or an unknown first letter).
    #[error("document_code: `{value}` {reason}")]
    InvalidDocumentCode { value: String, reason: &'static str },
    /// The document code is well formed but not allowed in this format.
    #[error("document_code: `{value}` is not allowed in {format}: {reason}")]
    DocumentCodeNotAllowed {
        format: Format,
        value: String,
        reason: &'static str,
    },
    /// A character that cannot appear in this field of an MRZ.
    #[error("{field}: character {character:?} (U+{code_point:04X}) is not allowed here", code_point = u32::from(*character))]
    InvalidCharacter { field: Field, character: char },
    /// The document number is longer than the format can hold.
    #[error(
        "document_number: {length} characters, but {format} holds at most {max}{note}",
        note = if matches!(format, Format::Td3 | Format::MrvA | Format::MrvB) { " (this format has no overflow field)" } else { " (including the overflow into the optional data)" }
    )]
    DocumentNumberTooLong {
        format: Format,
        length: usize,
        max: usize,
    },
    /// A document number of more than 9 characters must not hold fillers past the 9th.
    #[error("document_number: {reason}")]
    InvalidDocumentNumber { reason: &'static str },
    /// Optional data longer than the room the format leaves for it.
    #[error("{field}: {length} characters, but {format} leaves room for at most {max}")]
    OptionalDataTooLong {
        field: Field,
        format: Format,
        length: usize,
        max: usize,
    },
    /// A field given for a format that has no such field (e.g. `optional_data_2` outside TD1).
    #[error("{field}: {format} has no such field")]
    FieldNotInFormat { field: Field, format: Format },
    /// A date that is not `YYYY-MM-DD` (with `XX` for an unknown month or day) or does not exist.
    #[error("{field}: `{value}` {reason}")]
    InvalidDate {
        field: Field,
        value: String,
        reason: &'static str,
    },
    /// Sex other than F, M, X or `<`.
    #[error("sex: `{value}` is not F, M, X (unspecified) or < (unspecified)")]
    InvalidSex { value: String },
    /// A character in a name that has no ICAO 9303 transliteration.
    #[error("{field}: character {character:?} (U+{code_point:04X}) has no ICAO 9303 transliteration", code_point = u32::from(*character))]
    NoTransliteration { field: Field, character: char },
    /// A digit in a name (ICAO: never in the MRZ; legal numerals are written as Roman numerals).
    #[error(
        "{field}: digit {character:?} is not allowed in a name (write numerals as Roman numerals)"
    )]
    DigitInName { field: Field, character: char },
    /// A name longer than this crate can hold before truncation (a safety limit, far above any real name).
    #[error("{field}: longer than {max} characters after transliteration")]
    NameTooLong { field: Field, max: usize },
    /// The name cannot be truncated so that the field ends in a letter (only pathological names).
    #[error("name: cannot be truncated to {width} characters ending in a letter")]
    NameCannotBeTruncated { width: usize },
    /// An unknown transliteration or truncation option, or an unknown value for it.
    #[error("transliteration: option `{option}` = `{value}` is not known ({expected})")]
    InvalidOption {
        option: String,
        value: String,
        expected: &'static str,
    },
    /// The MRZ text does not have 2 or 3 lines.
    #[error("mrz: {count} lines; an MRZ has 2 (TD2, TD3, MRV) or 3 (TD1) lines")]
    InvalidLineCount { count: usize },
    /// A line of the MRZ text has a length no format uses.
    #[error("mrz: line {line} has {length} characters; expected {expected}")]
    InvalidLineLength {
        line: usize,
        length: usize,
        expected: &'static str,
    },
    /// A character outside `A-Z 0-9 <` in the MRZ text.
    #[error("mrz: line {line}, position {position}: character {character:?} is not A-Z, 0-9 or <")]
    InvalidMrzCharacter {
        line: usize,
        position: usize,
        character: char,
    },
}

impl MrzError {
    /// The input field this error is about (stable snake_case, the JSON key).
    pub fn field(&self) -> &'static str {
        self.field_kind().as_str()
    }

    /// The input field as an enum.
    pub fn field_kind(&self) -> Field {
        match self {
            MrzError::UnknownFormat { .. } => Field::Format,
            MrzError::MissingField { field }
            | MrzError::UnknownCountryCode { field, .. }
            | MrzError::InvalidCharacter { field, .. }
            | MrzError::OptionalDataTooLong { field, .. }
            | MrzError::FieldNotInFormat { field, .. }
            | MrzError::InvalidDate { field, .. }
            | MrzError::NoTransliteration { field, .. }
            | MrzError::DigitInName { field, .. }
            | MrzError::NameTooLong { field, .. } => *field,
            MrzError::InvalidDocumentCode { .. } | MrzError::DocumentCodeNotAllowed { .. } => {
                Field::DocumentCode
            }
            MrzError::DocumentNumberTooLong { .. } | MrzError::InvalidDocumentNumber { .. } => {
                Field::DocumentNumber
            }
            MrzError::InvalidSex { .. } => Field::Sex,
            MrzError::NameCannotBeTruncated { .. } => Field::Name,
            MrzError::InvalidOption { .. } => Field::Transliteration,
            MrzError::InvalidLineCount { .. }
            | MrzError::InvalidLineLength { .. }
            | MrzError::InvalidMrzCharacter { .. } => Field::Mrz,
        }
    }

    /// A stable snake_case code for APIs and the CLI.
    pub fn code(&self) -> &'static str {
        match self {
            MrzError::UnknownFormat { .. } => "unknown_format",
            MrzError::MissingField { .. } => "missing_field",
            MrzError::UnknownCountryCode { .. } => "unknown_country_code",
            MrzError::InvalidDocumentCode { .. } => "invalid_document_code",
            MrzError::DocumentCodeNotAllowed { .. } => "document_code_not_allowed",
            MrzError::InvalidCharacter { .. } => "invalid_character",
            MrzError::DocumentNumberTooLong { .. } => "document_number_too_long",
            MrzError::InvalidDocumentNumber { .. } => "invalid_document_number",
            MrzError::OptionalDataTooLong { .. } => "optional_data_too_long",
            MrzError::FieldNotInFormat { .. } => "field_not_in_format",
            MrzError::InvalidDate { .. } => "invalid_date",
            MrzError::InvalidSex { .. } => "invalid_sex",
            MrzError::NoTransliteration { .. } => "no_transliteration",
            MrzError::DigitInName { .. } => "digit_in_name",
            MrzError::NameTooLong { .. } => "name_too_long",
            MrzError::NameCannotBeTruncated { .. } => "name_cannot_be_truncated",
            MrzError::InvalidOption { .. } => "invalid_option",
            MrzError::InvalidLineCount { .. } => "invalid_line_count",
            MrzError::InvalidLineLength { .. } => "invalid_line_length",
            MrzError::InvalidMrzCharacter { .. } => "invalid_mrz_character",
        }
    }

    /// Re-attaches a field-generic error (from a bare `FromStr`) to the field it was read for.
    pub fn for_field(self, new_field: Field) -> Self {
        match self {
            MrzError::MissingField { .. } => MrzError::MissingField { field: new_field },
            MrzError::UnknownCountryCode { value, .. } => MrzError::UnknownCountryCode {
                field: new_field,
                value,
            },
            MrzError::InvalidCharacter { character, .. } => MrzError::InvalidCharacter {
                field: new_field,
                character,
            },
            MrzError::InvalidDate { value, reason, .. } => MrzError::InvalidDate {
                field: new_field,
                value,
                reason,
            },
            MrzError::NoTransliteration { character, .. } => MrzError::NoTransliteration {
                field: new_field,
                character,
            },
            MrzError::DigitInName { character, .. } => MrzError::DigitInName {
                field: new_field,
                character,
            },
            MrzError::NameTooLong { max, .. } => MrzError::NameTooLong {
                field: new_field,
                max,
            },
            other => other,
        }
    }
}
