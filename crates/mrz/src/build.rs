//! Building an MRZ from fields.

use core::fmt;

use crate::codes::{CountryCode, DocumentCode};
use crate::error::{Field, MrzError};
use crate::fields::{DocumentNumber, MrzDate, OptionalData, Sex};
use crate::format::{Format, check_digit_over};
use crate::name::{Name, Truncation};
use crate::translit::Transliteration;

/// Per-call choices: transliteration alternatives and the truncation strategy.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub struct BuildOptions {
    /// Where ICAO allows alternatives (`Ä` → `AE` or `A`, ...). Default: ICAO's first choice.
    pub transliteration: Transliteration,
    /// How names too long for the field are shortened. Default: [`Truncation::Initials`].
    pub truncation: Truncation,
}

/// Everything an MRZ holds, each field already validated.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct MrzFields {
    /// The layout.
    pub format: Format,
    /// `P<`, `PP`, `PU`, `I<`, `V<`, ...
    pub document_code: DocumentCode,
    /// Issuing state or organisation.
    pub issuing_state: CountryCode,
    /// Primary and secondary identifiers, transliterated.
    pub name: Name,
    /// Document number (TD1/TD2: more than 9 characters overflow into the optional data).
    pub document_number: DocumentNumber,
    /// Nationality of the holder.
    pub nationality: CountryCode,
    /// Date of birth (month/day may be unknown).
    pub birth_date: MrzDate,
    /// Sex.
    pub sex: Sex,
    /// Date of expiry (visas: valid until).
    pub expiry_date: MrzDate,
    /// Optional data (TD3: personal number; TD1: optional data 1).
    pub optional_data: OptionalData,
    /// TD1 optional data 2 (must be empty in other formats).
    pub optional_data_2: OptionalData,
}

/// A field set as people write it (strings), for [`MrzInput::build`]. Errors name the field.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct MrzInput<'a> {
    /// `TD1 TD2 TD3 MRV-A MRV-B`.
    pub format: &'a str,
    /// `P`, `PP`, `PU`, `I`, `V`, ...
    pub document_code: &'a str,
    /// `UTO`, `D`, ...
    pub issuing_state: &'a str,
    /// Surname (primary identifier), as written (`"O'Connor"`, `"Müller-Lüdenscheidt"`).
    pub surname: &'a str,
    /// Given names (secondary identifier), possibly empty.
    pub given_names: &'a str,
    /// Document number.
    pub document_number: &'a str,
    /// Nationality.
    pub nationality: &'a str,
    /// `YYYY-MM-DD`, `XX` for an unknown month or day.
    pub birth_date: &'a str,
    /// `F`, `M`, `X` or `<`.
    pub sex: &'a str,
    /// `YYYY-MM-DD`.
    pub expiry_date: &'a str,
    /// Optional data, possibly empty.
    pub optional_data: &'a str,
    /// TD1 optional data 2, possibly empty.
    pub optional_data_2: &'a str,
}

impl MrzInput<'_> {
    /// Validates every field (in the order of the struct) into [`MrzFields`].
    pub fn to_fields(&self, transliteration: &Transliteration) -> Result<MrzFields, MrzError> {
        let mut fields = MrzFields {
            format: self.format.parse()?,
            document_code: self.document_code.parse()?,
            issuing_state: self
                .issuing_state
                .parse()
                .map_err(|error: MrzError| error.for_field(Field::IssuingState))?,
            name: Name::EMPTY,
            document_number: DocumentNumber::PLACEHOLDER,
            nationality: CountryCode::PLACEHOLDER,
            birth_date: MrzDate::PLACEHOLDER,
            sex: Sex::Unspecified,
            expiry_date: MrzDate::PLACEHOLDER,
            optional_data: OptionalData::EMPTY,
            optional_data_2: OptionalData::EMPTY,
        };
        // In place: the name buffers are not moved.
        fields
            .name
            .fill(self.surname, self.given_names, transliteration)?;
        fields.document_number = self.document_number.parse()?;
        fields.nationality = self
            .nationality
            .parse()
            .map_err(|error: MrzError| error.for_field(Field::Nationality))?;
        fields.birth_date = self
            .birth_date
            .parse()
            .map_err(|error: MrzError| error.for_field(Field::BirthDate))?;
        fields.sex = self.sex.parse()?;
        fields.expiry_date = self
            .expiry_date
            .parse()
            .map_err(|error: MrzError| error.for_field(Field::ExpiryDate))?;
        fields.optional_data = OptionalData::parse_for(self.optional_data, Field::OptionalData)?;
        fields.optional_data_2 =
            OptionalData::parse_for(self.optional_data_2, Field::OptionalData2)?;
        Ok(fields)
    }

    /// Validates and builds in one step.
    pub fn build(&self, options: &BuildOptions) -> Result<Mrz, MrzError> {
        self.to_fields(&options.transliteration)?
            .build(options.truncation)
    }
}

/// A built MRZ: 2 or 3 lines in a fixed buffer (no allocation).
#[derive(Clone, Copy, PartialEq, Eq, Hash)]
pub struct Mrz {
    format: Format,
    bytes: [u8; 90],
    truncated: bool,
}

impl Mrz {
    /// The layout.
    pub fn format(&self) -> Format {
        self.format
    }

    /// Whether the name had to be truncated (to be recorded, e.g. in the audit ledger).
    pub fn name_truncated(&self) -> bool {
        self.truncated
    }

    /// Line `index` (0-based), `None` past the last line.
    pub fn line(&self, index: usize) -> Option<&str> {
        let length = self.format.line_length();
        if index >= self.format.line_count() {
            return None;
        }
        self.bytes
            .get(index * length..(index + 1) * length)
            .and_then(|bytes| core::str::from_utf8(bytes).ok())
    }

    /// The lines in order.
    pub fn lines(&self) -> impl Iterator<Item = &str> + '_ {
        (0..self.format.line_count()).filter_map(|index| self.line(index))
    }

    /// All characters, lines concatenated without separators.
    pub fn as_bytes(&self) -> &[u8] {
        &self.bytes[..self.format.line_length() * self.format.line_count()]
    }
}

impl fmt::Display for Mrz {
    /// The lines separated by `\n`.
    fn fmt(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (index, line) in self.lines().enumerate() {
            if index > 0 {
                formatter.write_str("\n")?;
            }
            formatter.write_str(line)?;
        }
        Ok(())
    }
}

impl fmt::Debug for Mrz {
    fn fmt(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        formatter
            .debug_struct("Mrz")
            .field("format", &self.format)
            .field("lines", &self.lines().collect::<Vec<_>>())
            .field("truncated", &self.truncated)
            .finish()
    }
}

/// Writes the document number at `number` (9 characters) with its check digit at `check`; a
/// longer number (TD1/TD2) overflows into `optional` followed by its check digit and a `<`,
/// then the optional data.
fn write_number_and_optional(
    format: Format,
    number: &DocumentNumber,
    optional: &OptionalData,
    line: &mut [u8],
    number_at: usize,
    optional_at: usize,
    optional_width: usize,
) -> Result<(), MrzError> {
    let digits = number.as_bytes();
    let optional_bytes = optional.as_bytes();
    if digits.len() > format.max_document_number() {
        return Err(MrzError::DocumentNumberTooLong {
            format,
            length: digits.len(),
            max: format.max_document_number(),
        });
    }
    if digits.len() <= 9 {
        line[number_at..number_at + digits.len()].copy_from_slice(digits);
        line[number_at + 9] = check_digit_over(&[&line[number_at..number_at + 9]]);
        if optional_bytes.len() > optional_width {
            return Err(MrzError::OptionalDataTooLong {
                field: Field::OptionalData,
                format,
                length: optional_bytes.len(),
                max: optional_width,
            });
        }
        line[optional_at..optional_at + optional_bytes.len()].copy_from_slice(optional_bytes);
        return Ok(());
    }
    let (head, rest) = digits.split_at(9);
    if rest.contains(&b'<') {
        return Err(MrzError::InvalidDocumentNumber {
            reason: "a number longer than 9 characters cannot hold fillers (spaces, punctuation) after its 9th character",
        });
    }
    line[number_at..number_at + 9].copy_from_slice(head);
    line[number_at + 9] = b'<';
    line[optional_at..optional_at + rest.len()].copy_from_slice(rest);
    line[optional_at + rest.len()] = check_digit_over(&[digits]);
    if !optional_bytes.is_empty() {
        let start = rest.len() + 2;
        let room = optional_width.saturating_sub(start);
        if optional_bytes.len() > room {
            return Err(MrzError::OptionalDataTooLong {
                field: Field::OptionalData,
                format,
                length: optional_bytes.len(),
                max: room,
            });
        }
        line[optional_at + start..optional_at + start + optional_bytes.len()]
            .copy_from_slice(optional_bytes);
    }
    Ok(())
}

fn write_simple_number(
    format: Format,
    number: &DocumentNumber,
    line: &mut [u8],
) -> Result<(), MrzError> {
    let digits = number.as_bytes();
    if digits.len() > 9 {
        return Err(MrzError::DocumentNumberTooLong {
            format,
            length: digits.len(),
            max: 9,
        });
    }
    line[..digits.len()].copy_from_slice(digits);
    line[9] = check_digit_over(&[&line[..9]]);
    Ok(())
}

fn write_date(line: &mut [u8], at: usize, date: &MrzDate) {
    line[at..at + 6].copy_from_slice(&date.mrz_bytes());
    line[at + 6] = check_digit_over(&[&line[at..at + 6]]);
}

fn write_optional(
    format: Format,
    field: Field,
    data: &OptionalData,
    line: &mut [u8],
    at: usize,
    width: usize,
) -> Result<(), MrzError> {
    let bytes = data.as_bytes();
    if bytes.len() > width {
        return Err(MrzError::OptionalDataTooLong {
            field,
            format,
            length: bytes.len(),
            max: width,
        });
    }
    line[at..at + bytes.len()].copy_from_slice(bytes);
    Ok(())
}

impl MrzFields {
    /// Builds the MRZ. Checks the format-specific rules: which document codes the format takes,
    /// how long the document number and optional data may be.
    pub fn build(&self, truncation: Truncation) -> Result<Mrz, MrzError> {
        let format = self.format;
        self.document_code.check_format(format)?;
        if format != Format::Td1 && !self.optional_data_2.is_empty() {
            return Err(MrzError::FieldNotInFormat {
                field: Field::OptionalData2,
                format,
            });
        }
        let length = format.line_length();
        let mut bytes = [b'<'; 90];
        let (first, rest) = bytes.split_at_mut(length);
        first[0..2].copy_from_slice(&self.document_code.mrz_bytes());
        first[2..5].copy_from_slice(&self.issuing_state.mrz_bytes());
        let truncated;
        match format {
            Format::Td1 => {
                let (second, third) = rest.split_at_mut(length);
                write_number_and_optional(
                    format,
                    &self.document_number,
                    &self.optional_data,
                    first,
                    5,
                    15,
                    15,
                )?;
                write_date(second, 0, &self.birth_date);
                second[7] = self.sex.mrz_char() as u8;
                write_date(second, 8, &self.expiry_date);
                second[15..18].copy_from_slice(&self.nationality.mrz_bytes());
                write_optional(
                    format,
                    Field::OptionalData2,
                    &self.optional_data_2,
                    second,
                    18,
                    11,
                )?;
                second[29] = check_digit_over(&[
                    &first[5..30],
                    &second[0..7],
                    &second[8..15],
                    &second[18..29],
                ]);
                truncated = self.name.write_field(&mut third[..30], truncation)?;
            }
            Format::Td2 | Format::Td3 | Format::MrvA | Format::MrvB => {
                truncated = self.name.write_field(&mut first[5..length], truncation)?;
                let second = &mut rest[..length];
                if format == Format::Td2 {
                    write_number_and_optional(
                        format,
                        &self.document_number,
                        &self.optional_data,
                        second,
                        0,
                        28,
                        7,
                    )?;
                } else {
                    write_simple_number(format, &self.document_number, second)?;
                }
                second[10..13].copy_from_slice(&self.nationality.mrz_bytes());
                write_date(second, 13, &self.birth_date);
                second[20] = self.sex.mrz_char() as u8;
                write_date(second, 21, &self.expiry_date);
                match format {
                    Format::Td3 => {
                        write_optional(
                            format,
                            Field::OptionalData,
                            &self.optional_data,
                            second,
                            28,
                            14,
                        )?;
                        second[42] = if self.optional_data.is_empty() {
                            b'<'
                        } else {
                            check_digit_over(&[&second[28..42]])
                        };
                        second[43] =
                            check_digit_over(&[&second[0..10], &second[13..20], &second[21..43]]);
                    }
                    Format::Td2 => {
                        second[35] =
                            check_digit_over(&[&second[0..10], &second[13..20], &second[21..35]]);
                    }
                    _ => {
                        let width = format.optional_data_width();
                        write_optional(
                            format,
                            Field::OptionalData,
                            &self.optional_data,
                            second,
                            28,
                            width,
                        )?;
                    }
                }
            }
        }
        Ok(Mrz {
            format,
            bytes,
            truncated,
        })
    }

    /// The fields as a parser reads them back from the MRZ (names in MRZ form, components
    /// separated by spaces; dates `YYMMDD`). Names are as written before any truncation.
    pub fn normalised(&self) -> MrzData {
        MrzData {
            document_code: self.document_code.as_str().to_owned(),
            issuing_state: self.issuing_state.as_str().to_owned(),
            primary_identifier: self.name.primary().replace('<', " "),
            secondary_identifier: self.name.secondary().replace('<', " "),
            document_number: self.document_number.as_str().to_owned(),
            nationality: self.nationality.as_str().to_owned(),
            birth_date: self.birth_date.to_mrz_string(),
            sex: self.sex.mrz_char().to_string(),
            expiry_date: self.expiry_date.to_mrz_string(),
            optional_data: self.optional_data.as_str().to_owned(),
            optional_data_2: self.optional_data_2.as_str().to_owned(),
        }
    }
}

/// The fields of an MRZ as text, as read from it (see [`crate::parse`]).
#[derive(Debug, Clone, PartialEq, Eq, Hash, Default)]
pub struct MrzData {
    /// Document code without trailing filler (`P`, `PP`, `I`).
    pub document_code: String,
    /// Issuing state without fillers (`UTO`, `D`).
    pub issuing_state: String,
    /// Primary identifier, components separated by single spaces (may be empty in the wild).
    pub primary_identifier: String,
    /// Secondary identifier, components separated by single spaces.
    pub secondary_identifier: String,
    /// The whole document number (with the TD1/TD2 overflow joined back).
    pub document_number: String,
    /// Nationality without fillers.
    pub nationality: String,
    /// `YYMMDD`, `<` for unknown parts.
    pub birth_date: String,
    /// `F`, `M` or `<` (as found; a lenient reader also meets `X`).
    pub sex: String,
    /// `YYMMDD`.
    pub expiry_date: String,
    /// Optional data without fillers at either end.
    pub optional_data: String,
    /// TD1 optional data 2 without fillers at either end.
    pub optional_data_2: String,
}
