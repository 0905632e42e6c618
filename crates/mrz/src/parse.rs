//! Parsing any MRZ (TD1, TD2, TD3, MRV-A, MRV-B) into its fields and check-digit verdicts.

use core::fmt;

use crate::build::{MrzData, MrzFields};
use crate::codes::{CountryCode, DocumentCode};
use crate::error::{Field, MrzError};
use crate::fields::{DocumentNumber, MrzDate, OptionalData, Sex, days_in_month};
use crate::format::{Format, character_value, check_digit_over};
use crate::name::Name;
use crate::translit::Transliteration;

/// Which check digit a [`CheckResult`] is about.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum CheckKind {
    /// Over the document number (the whole number when it overflows).
    DocumentNumber,
    /// Over the date of birth.
    BirthDate,
    /// Over the date of expiry.
    ExpiryDate,
    /// Over the TD3 personal number / optional data.
    OptionalData,
    /// The composite check digit (TD1, TD2, TD3).
    Composite,
}

impl CheckKind {
    /// Stable snake_case name.
    pub const fn as_str(self) -> &'static str {
        match self {
            CheckKind::DocumentNumber => "document_number",
            CheckKind::BirthDate => "birth_date",
            CheckKind::ExpiryDate => "expiry_date",
            CheckKind::OptionalData => "optional_data",
            CheckKind::Composite => "composite",
        }
    }
}

impl fmt::Display for CheckKind {
    fn fmt(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        formatter.write_str(self.as_str())
    }
}

/// The verdict on one check digit.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct CheckResult {
    /// Which check digit.
    pub kind: CheckKind,
    /// The character in the MRZ.
    pub found: char,
    /// The digit computed from the data.
    pub expected: char,
    /// Whether `found` is acceptable (`expected`, or for an empty TD3 personal number `<` or `0`).
    pub valid: bool,
}

/// A parsed MRZ: the fields as text and every check digit's verdict.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ParsedMrz {
    /// The layout recognised.
    pub format: Format,
    /// The fields.
    pub data: MrzData,
    /// Every check digit of the format, in MRZ order.
    pub checks: Vec<CheckResult>,
    /// The name field ends in a letter: the name may have been truncated (Part 4 §4.2.3).
    pub name_possibly_truncated: bool,
}

impl ParsedMrz {
    /// The check digits that failed.
    pub fn failed_checks(&self) -> impl Iterator<Item = &CheckResult> {
        self.checks.iter().filter(|check| !check.valid)
    }

    /// Field values a conforming MRZ cannot hold: unknown country codes, impossible dates, a sex
    /// other than `F`, `M`, `<` (an `X` is tolerated), a document code not of this format.
    pub fn problems(&self) -> Vec<MrzError> {
        let mut problems = Vec::new();
        let data = &self.data;
        match data.document_code.parse::<DocumentCode>() {
            Ok(code) => {
                let first = code.mrz_bytes()[0];
                let fits = match self.format {
                    Format::Td3 => first == b'P',
                    Format::Td1 => matches!(first, b'A' | b'C' | b'I'),
                    Format::Td2 => matches!(first, b'A' | b'C' | b'I') || code.as_str() == "PU",
                    Format::MrvA | Format::MrvB => first == b'V',
                };
                if !fits {
                    problems.push(MrzError::DocumentCodeNotAllowed {
                        format: self.format,
                        value: data.document_code.clone(),
                        reason: "the first letter does not belong to this format",
                    });
                }
            }
            Err(error) => problems.push(error),
        }
        for (value, field) in [
            (&data.issuing_state, Field::IssuingState),
            (&data.nationality, Field::Nationality),
        ] {
            if let Err(error) = value.parse::<CountryCode>() {
                problems.push(error.for_field(field));
            }
        }
        for (value, field) in [
            (&data.birth_date, Field::BirthDate),
            (&data.expiry_date, Field::ExpiryDate),
        ] {
            if let Some(reason) = mrz_date_problem(value.as_bytes()) {
                problems.push(MrzError::InvalidDate {
                    field,
                    value: value.clone(),
                    reason,
                });
            }
        }
        if !matches!(data.sex.as_str(), "F" | "M" | "<" | "X") {
            problems.push(MrzError::InvalidSex {
                value: data.sex.clone(),
            });
        }
        problems
    }

    /// Every check digit passes and [`ParsedMrz::problems`] is empty.
    pub fn is_valid(&self) -> bool {
        self.checks.iter().all(|check| check.valid) && self.problems().is_empty()
    }

    /// Typed fields, choosing centuries around `reference_year` (the current year): the birth
    /// year falls in `reference_year - 99 ..= reference_year`, the expiry year in
    /// `reference_year - 50 ..= reference_year + 49`.
    pub fn to_fields(&self, reference_year: u16) -> Result<MrzFields, MrzError> {
        let data = &self.data;
        let name = Name::new(
            &data.primary_identifier,
            &data.secondary_identifier,
            &Transliteration::default(),
        )?;
        Ok(MrzFields {
            format: self.format,
            document_code: data.document_code.parse()?,
            issuing_state: data
                .issuing_state
                .parse()
                .map_err(|error: MrzError| error.for_field(Field::IssuingState))?,
            name,
            document_number: data.document_number.parse::<DocumentNumber>()?,
            nationality: data
                .nationality
                .parse()
                .map_err(|error: MrzError| error.for_field(Field::Nationality))?,
            birth_date: MrzDate::from_mrz(&data.birth_date, reference_year.saturating_sub(99))
                .map_err(|error| error.for_field(Field::BirthDate))?,
            sex: data.sex.parse::<Sex>()?,
            expiry_date: MrzDate::from_mrz(&data.expiry_date, reference_year.saturating_sub(50))
                .map_err(|error| error.for_field(Field::ExpiryDate))?,
            optional_data: OptionalData::parse_for(&data.optional_data, Field::OptionalData)?,
            optional_data_2: OptionalData::parse_for(&data.optional_data_2, Field::OptionalData2)?,
        })
    }
}

/// Why a `YYMMDD` (with `<<` for unknown month/day) is not a possible date, if it is not.
fn mrz_date_problem(bytes: &[u8]) -> Option<&'static str> {
    let two = |pair: &[u8]| match pair {
        [b'<', b'<'] => Ok(None),
        [a @ b'0'..=b'9', b @ b'0'..=b'9'] => Ok(Some((a - b'0') * 10 + (b - b'0'))),
        _ => Err("is not YYMMDD (digits, << for an unknown month or day)"),
    };
    if bytes.len() != 6 {
        return Some("is not YYMMDD");
    }
    let parts = (two(&bytes[0..2]), two(&bytes[2..4]), two(&bytes[4..6]));
    match parts {
        (Err(reason), _, _) | (_, Err(reason), _) | (_, _, Err(reason)) => Some(reason),
        (Ok(None), _, _) => Some("has an unknown year"),
        (Ok(Some(_)), Ok(None), Ok(Some(_))) => Some("has a day but an unknown month"),
        (Ok(Some(_)), Ok(Some(month)), _) if !(1..=12).contains(&month) => {
            Some("has no such month")
        }
        // The century is unknown: allow 29 February (2000 is a leap year).
        (Ok(Some(_)), Ok(Some(month)), Ok(Some(day)))
            if day == 0 || day > days_in_month(2000, month) =>
        {
            Some("has no such day in that month")
        }
        _ => None,
    }
}

/// Splits a name field into primary and secondary identifiers (components joined by spaces).
fn split_name(field: &[u8]) -> (String, String) {
    let boundary = field.windows(2).position(|pair| pair == b"<<");
    let (primary, secondary) = match boundary {
        Some(index) => (&field[..index], &field[index + 2..]),
        None => (field, &field[field.len()..]),
    };
    let join = |part: &[u8]| {
        let mut text = String::with_capacity(part.len());
        for component in part
            .split(|&byte| byte == b'<')
            .filter(|component| !component.is_empty())
        {
            if !text.is_empty() {
                text.push(' ');
            }
            text.extend(component.iter().map(|&byte| char::from(byte)));
        }
        text
    };
    (join(primary), join(secondary))
}

fn text(bytes: &[u8]) -> String {
    bytes.iter().map(|&byte| char::from(byte)).collect()
}

/// Text of a field without fillers at either end.
fn trimmed(bytes: &[u8]) -> String {
    let start = bytes
        .iter()
        .position(|&byte| byte != b'<')
        .unwrap_or(bytes.len());
    let end = bytes
        .iter()
        .rposition(|&byte| byte != b'<')
        .map_or(start, |index| index + 1);
    text(&bytes[start..end.max(start)])
}

fn check(kind: CheckKind, parts: &[&[u8]], found: u8) -> CheckResult {
    let expected = check_digit_over(parts);
    CheckResult {
        kind,
        found: char::from(found),
        expected: char::from(expected),
        valid: found == expected,
    }
}

/// Reads the document number (9 characters at `number_at`, check digit after it) and, for
/// TD1/TD2, the overflow in the optional field; returns (number, check, optional data).
fn number_with_overflow(
    line: &[u8],
    number_at: usize,
    optional: &[u8],
    overflow: bool,
) -> (String, CheckResult, String) {
    let field = &line[number_at..number_at + 9];
    let check_character = line[number_at + 9];
    if overflow && check_character == b'<' {
        let end = optional
            .iter()
            .position(|&byte| byte == b'<')
            .unwrap_or(optional.len());
        if end >= 1 {
            let extension = &optional[..end - 1];
            let found = optional[end - 1];
            let result = check(CheckKind::DocumentNumber, &[field, extension], found);
            let mut number = text(field);
            number.push_str(&text(extension));
            let rest = optional.get(end + 1..).unwrap_or(&[]);
            return (number, result, trimmed(rest));
        }
    }
    (
        trimmed(field),
        check(CheckKind::DocumentNumber, &[field], check_character),
        trimmed(optional),
    )
}

/// Parses an MRZ of 2 or 3 lines (any format). Surrounding whitespace, `\r\n` line ends and
/// blank lines are tolerated; one unbroken line of 90, 72 or 88 characters is split. Never
/// panics. Structural faults are errors; check digits and field values are verdicts in the
/// result.
pub fn parse(text_in: &str) -> Result<ParsedMrz, MrzError> {
    let mut lines: [&[u8]; 3] = [&[]; 3];
    let mut count = 0usize;
    for line in text_in
        .lines()
        .map(str::trim)
        .filter(|line| !line.is_empty())
    {
        if count < 3 {
            lines[count] = line.as_bytes();
        }
        count += 1;
    }
    if count == 1 {
        let single = lines[0];
        let (parts, length) = match single.len() {
            90 => (3, 30),
            72 => (2, 36),
            88 => (2, 44),
            _ => (1, 0),
        };
        if parts > 1 {
            for index in 0..parts {
                lines[index] = &single[index * length..(index + 1) * length];
            }
            count = parts;
        }
    }
    if !(2..=3).contains(&count) {
        return Err(MrzError::InvalidLineCount { count });
    }
    let expected_text = if count == 3 {
        "30 (TD1)"
    } else {
        "36 (TD2, MRV-B) or 44 (TD3, MRV-A)"
    };
    let length = lines[0].len();
    for (index, line) in lines[..count].iter().enumerate() {
        let allowed = if count == 3 {
            line.len() == 30
        } else {
            line.len() == 36 || line.len() == 44
        };
        if !allowed || line.len() != length {
            return Err(MrzError::InvalidLineLength {
                line: index + 1,
                length: core::str::from_utf8(line).map_or(line.len(), |text| text.chars().count()),
                expected: expected_text,
            });
        }
        if let Some(position) = line
            .iter()
            .position(|&byte| character_value(byte).is_none())
        {
            let character = core::str::from_utf8(&line[position..])
                .ok()
                .and_then(|rest| rest.chars().next())
                .unwrap_or(char::from(line[position]));
            return Err(MrzError::InvalidMrzCharacter {
                line: index + 1,
                position: position + 1,
                character,
            });
        }
    }
    let first = lines[0];
    let second = lines[1];
    let format = match (count, length, first[0]) {
        (3, _, _) => Format::Td1,
        (_, 36, b'V') => Format::MrvB,
        (_, 36, _) => Format::Td2,
        (_, _, b'V') => Format::MrvA,
        _ => Format::Td3,
    };
    let document_code = trimmed(&first[0..2]);
    let issuing_state = trimmed(&first[2..5]);
    let mut checks = Vec::with_capacity(5);
    let data;
    let name_field;
    match format {
        Format::Td1 => {
            let third = lines[2];
            name_field = third;
            let (document_number, number_check, optional_data) =
                number_with_overflow(first, 5, &first[15..30], true);
            checks.push(number_check);
            checks.push(check(CheckKind::BirthDate, &[&second[0..6]], second[6]));
            checks.push(check(CheckKind::ExpiryDate, &[&second[8..14]], second[14]));
            checks.push(check(
                CheckKind::Composite,
                &[
                    &first[5..30],
                    &second[0..7],
                    &second[8..15],
                    &second[18..29],
                ],
                second[29],
            ));
            let (primary_identifier, secondary_identifier) = split_name(third);
            data = MrzData {
                document_code,
                issuing_state,
                primary_identifier,
                secondary_identifier,
                document_number,
                nationality: trimmed(&second[15..18]),
                birth_date: text(&second[0..6]),
                sex: text(&second[7..8]),
                expiry_date: text(&second[8..14]),
                optional_data,
                optional_data_2: trimmed(&second[18..29]),
            };
        }
        _ => {
            name_field = &first[5..];
            let optional_width = format.optional_data_width();
            let (document_number, number_check, optional_data) = number_with_overflow(
                second,
                0,
                &second[28..28 + optional_width],
                format == Format::Td2,
            );
            checks.push(number_check);
            checks.push(check(CheckKind::BirthDate, &[&second[13..19]], second[19]));
            checks.push(check(CheckKind::ExpiryDate, &[&second[21..27]], second[27]));
            match format {
                Format::Td3 => {
                    let optional = &second[28..42];
                    let mut result = check(CheckKind::OptionalData, &[optional], second[42]);
                    if optional.iter().all(|&byte| byte == b'<') {
                        result.valid = matches!(second[42], b'<' | b'0');
                    }
                    checks.push(result);
                    checks.push(check(
                        CheckKind::Composite,
                        &[&second[0..10], &second[13..20], &second[21..43]],
                        second[43],
                    ));
                }
                Format::Td2 => checks.push(check(
                    CheckKind::Composite,
                    &[&second[0..10], &second[13..20], &second[21..35]],
                    second[35],
                )),
                _ => {}
            }
            let (primary_identifier, secondary_identifier) = split_name(name_field);
            data = MrzData {
                document_code,
                issuing_state,
                primary_identifier,
                secondary_identifier,
                document_number,
                nationality: trimmed(&second[10..13]),
                birth_date: text(&second[13..19]),
                sex: text(&second[20..21]),
                expiry_date: text(&second[21..27]),
                optional_data,
                optional_data_2: String::new(),
            };
        }
    }
    let name_possibly_truncated = name_field
        .last()
        .is_some_and(|byte| byte.is_ascii_uppercase());
    Ok(ParsedMrz {
        format,
        data,
        checks,
        name_possibly_truncated,
    })
}
