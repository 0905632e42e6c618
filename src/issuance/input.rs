//! Request bodies as they arrive (`*Body`, deserialised) and as the domain holds them once
//! validated (parse, don't validate: a `TtdRequest` is valid by construction). Every rejection
//! names the field.

use base64::Engine as _;
use serde::{Deserialize, Serialize};
use time::{Date, Month};

use super::IssuanceError;
use crate::auth::MissionCode;

const MAX_PHOTO_BYTES: usize = 512 * 1024;
pub const MAX_DOCUMENT_BYTES: usize = 10 * 1024 * 1024;

/// `POST /v1/ttds` body.
#[derive(Debug, Clone, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct TtdRequestBody {
    pub surname: String,
    pub given_names: String,
    /// ICAO three-letter code.
    pub nationality: String,
    /// `YYYY-MM-DD`.
    pub birth_date: String,
    /// `M`, `F` or `X`.
    pub sex: String,
    /// The requesting mission; must be the caller's mission.
    pub mission: String,
    /// Final destination (ICAO three-letter code).
    pub destination: String,
    /// Fixed transit points of the ticketed route.
    pub route: Vec<String>,
    /// Last day of validity (`YYYY-MM-DD`): not in the past, at most 12 months ahead.
    pub valid_until: String,
    /// Readmission case reference, carried through to the document.
    pub case_reference: Option<String>,
    /// Number of a previous (lost or expired) passport.
    pub previous_document: Option<String>,
    /// Portrait, base64 JPEG.
    pub photo: Option<String>,
}

/// `POST /v1/passport-applications` body.
#[derive(Debug, Clone, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct PassportApplicationBody {
    pub surname: String,
    pub given_names: String,
    pub nationality: String,
    pub birth_date: String,
    pub sex: String,
    pub place_of_birth: Option<String>,
    /// Optional national personal number (MRZ optional data).
    pub personal_number: Option<String>,
    /// Validity in years: 5 or 10 (default 10).
    pub validity_years: Option<u8>,
    /// Portrait, base64 JPEG (required for a passport).
    pub photo: String,
}

/// `POST /v1/legalizations` body.
#[derive(Debug, Clone, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct LegalizationBody {
    pub document_type: String,
    /// Person who signed the public document (empty for seal-only documents).
    pub signatory: Option<String>,
    pub capacity: Option<String>,
    /// Authority whose seal or stamp the document bears.
    pub authority: String,
    pub country_of_use: Option<String>,
    /// Place of certification (default: the service's configured place).
    pub place: Option<String>,
    /// The legalized document, base64; only its SHA-256 is kept.
    pub document: String,
}

/// Person data common to TTDs and passports.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Person {
    pub surname: String,
    pub given_names: String,
    pub nationality: String,
    pub birth_date: String,
    pub sex: String,
}

/// A validated TTD request.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TtdRequest {
    pub person: Person,
    pub mission: String,
    pub destination: String,
    pub route: Vec<String>,
    pub valid_until: String,
    pub case_reference: Option<String>,
    pub previous_document: Option<String>,
    #[serde(skip)]
    pub photo: Option<Vec<u8>>,
}

/// A validated passport application.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PassportApplication {
    pub person: Person,
    pub place_of_birth: Option<String>,
    pub personal_number: Option<String>,
    pub validity_years: u8,
    #[serde(skip)]
    pub photo: Vec<u8>,
}

/// A validated legalization request.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct LegalizationRequest {
    pub document_type: String,
    pub signatory: Option<String>,
    pub capacity: Option<String>,
    pub authority: String,
    pub country_of_use: Option<String>,
    pub place: Option<String>,
    /// Hex SHA-256 of the legalized document.
    pub document_sha256: String,
}

/// Parses `YYYY-MM-DD`.
pub fn parse_date(field: &str, text: &str) -> Result<Date, IssuanceError> {
    let bad = || IssuanceError::invalid(field, format!("`{text}` is not a date YYYY-MM-DD"));
    let mut parts = text.split('-');
    let (Some(year), Some(month), Some(day), None) =
        (parts.next(), parts.next(), parts.next(), parts.next())
    else {
        return Err(bad());
    };
    if year.len() != 4 || month.len() != 2 || day.len() != 2 {
        return Err(bad());
    }
    let year: i32 = year.parse().map_err(|_| bad())?;
    let month: u8 = month.parse().map_err(|_| bad())?;
    let day: u8 = day.parse().map_err(|_| bad())?;
    let month = Month::try_from(month).map_err(|_| bad())?;
    Date::from_calendar_date(year, month, day).map_err(|_| bad())
}

/// `YYYY-MM-DD` text of a date.
pub fn date_text(date: Date) -> String {
    format!(
        "{:04}-{:02}-{:02}",
        date.year(),
        u8::from(date.month()),
        date.day()
    )
}

/// The same day `years` later (29 February becomes 28 February).
pub fn add_years(date: Date, years: i32) -> Date {
    let year = date.year() + years;
    Date::from_calendar_date(year, date.month(), date.day())
        .or_else(|_| Date::from_calendar_date(year, date.month(), 28))
        .unwrap_or(date)
}

/// The same day `months` later, clamped to the month's last day.
pub fn add_months(date: Date, months: u32) -> Date {
    let index = date.year() * 12 + i32::from(u8::from(date.month())) - 1 + months as i32;
    let year = index.div_euclid(12);
    let month = Month::try_from(u8::try_from(index.rem_euclid(12) + 1).unwrap_or(1))
        .unwrap_or(Month::January);
    let mut day = date.day();
    loop {
        if let Ok(result) = Date::from_calendar_date(year, month, day) {
            return result;
        }
        if day <= 28 {
            return date;
        }
        day -= 1;
    }
}

fn name(field: &str, text: &str, required: bool) -> Result<String, IssuanceError> {
    let trimmed = text.trim();
    if required && trimmed.is_empty() {
        return Err(IssuanceError::invalid(field, "must not be empty"));
    }
    if trimmed.chars().count() > 64 {
        return Err(IssuanceError::invalid(field, "at most 64 characters"));
    }
    if !trimmed
        .chars()
        .all(|c| c.is_alphabetic() || matches!(c, ' ' | '-' | '\'' | '.'))
    {
        return Err(IssuanceError::invalid(
            field,
            "only letters, spaces, hyphens, apostrophes and full stops",
        ));
    }
    Ok(trimmed.to_owned())
}

fn country(field: &str, text: &str) -> Result<String, IssuanceError> {
    if text.len() == 3 && text.bytes().all(|b| b.is_ascii_uppercase() || b == b'<') {
        Ok(text.to_owned())
    } else {
        Err(IssuanceError::invalid(
            field,
            format!("`{text}` is not an ICAO three-letter code"),
        ))
    }
}

fn sex(text: &str) -> Result<String, IssuanceError> {
    match text {
        "M" | "F" | "X" => Ok(text.to_owned()),
        _ => Err(IssuanceError::invalid("sex", "must be M, F or X")),
    }
}

fn free_text(field: &str, text: &str, max: usize) -> Result<String, IssuanceError> {
    let trimmed = text.trim();
    if trimmed.is_empty() {
        return Err(IssuanceError::invalid(field, "must not be empty"));
    }
    if trimmed.chars().count() > max {
        return Err(IssuanceError::invalid(
            field,
            format!("at most {max} characters"),
        ));
    }
    if trimmed.chars().any(char::is_control) {
        return Err(IssuanceError::invalid(
            field,
            "must not contain control characters",
        ));
    }
    Ok(trimmed.to_owned())
}

fn optional_text(
    field: &str,
    text: Option<&String>,
    max: usize,
) -> Result<Option<String>, IssuanceError> {
    match text.map(|t| t.trim()) {
        None | Some("") => Ok(None),
        Some(value) => free_text(field, value, max).map(Some),
    }
}

/// An optional document or personal number: up to `max` characters A-Z or 0-9 (blank: none).
fn optional_identifier(
    field: &str,
    text: Option<&str>,
    max: usize,
) -> Result<Option<String>, IssuanceError> {
    match text.map(str::trim) {
        None | Some("") => Ok(None),
        Some(value)
            if value.len() <= max
                && value
                    .bytes()
                    .all(|b| b.is_ascii_uppercase() || b.is_ascii_digit()) =>
        {
            Ok(Some(value.to_owned()))
        }
        Some(_) => Err(IssuanceError::invalid(
            field,
            format!("at most {max} characters A-Z, 0-9"),
        )),
    }
}

fn base64(field: &str, text: &str, max: usize) -> Result<Vec<u8>, IssuanceError> {
    if text.len() > max / 3 * 4 + 8 {
        return Err(IssuanceError::invalid(
            field,
            format!("larger than {max} bytes"),
        ));
    }
    let bytes = base64::engine::general_purpose::STANDARD
        .decode(text.trim())
        .map_err(|_| IssuanceError::invalid(field, "is not valid base64"))?;
    if bytes.is_empty() {
        return Err(IssuanceError::invalid(field, "must not be empty"));
    }
    if bytes.len() > max {
        return Err(IssuanceError::invalid(
            field,
            format!("larger than {max} bytes"),
        ));
    }
    Ok(bytes)
}

fn jpeg(field: &str, text: &str) -> Result<Vec<u8>, IssuanceError> {
    let bytes = base64(field, text, MAX_PHOTO_BYTES)?;
    if !bytes.starts_with(&[0xFF, 0xD8, 0xFF]) {
        return Err(IssuanceError::invalid(field, "is not a JPEG image"));
    }
    Ok(bytes)
}

fn person(
    surname: &str,
    given_names: &str,
    nationality: &str,
    birth_date: &str,
    sex_text: &str,
    today: Date,
) -> Result<Person, IssuanceError> {
    let birth = parse_date("birth_date", birth_date)?;
    if birth > today {
        return Err(IssuanceError::invalid("birth_date", "is in the future"));
    }
    if birth.year() < 1900 {
        return Err(IssuanceError::invalid("birth_date", "is before 1900"));
    }
    Ok(Person {
        surname: name("surname", surname, true)?,
        given_names: name("given_names", given_names, false)?,
        nationality: country("nationality", nationality)?,
        birth_date: date_text(birth),
        sex: sex(sex_text)?,
    })
}

impl TtdRequestBody {
    /// Validates the body for a caller bound to `mission` on day `today`.
    pub fn validate(
        &self,
        mission: Option<&MissionCode>,
        today: Date,
    ) -> Result<TtdRequest, IssuanceError> {
        let person = person(
            &self.surname,
            &self.given_names,
            &self.nationality,
            &self.birth_date,
            &self.sex,
            today,
        )?;
        let requested: MissionCode = self
            .mission
            .parse()
            .map_err(|_| IssuanceError::invalid("mission", "is not a mission code"))?;
        if mission != Some(&requested) {
            return Err(IssuanceError::MissionMismatch {
                requested: requested.to_string(),
            });
        }
        let valid_until = parse_date("valid_until", &self.valid_until)?;
        if valid_until < today {
            return Err(IssuanceError::invalid("valid_until", "is in the past"));
        }
        if valid_until > add_months(today, 12) {
            return Err(IssuanceError::invalid(
                "valid_until",
                "is more than 12 months ahead",
            ));
        }
        if self.route.len() > 8 {
            return Err(IssuanceError::invalid("route", "at most 8 transit points"));
        }
        let route = self
            .route
            .iter()
            .map(|point| free_text("route", point, 64))
            .collect::<Result<Vec<_>, _>>()?;
        let previous_document =
            optional_identifier("previous_document", self.previous_document.as_deref(), 20)?;
        Ok(TtdRequest {
            person,
            mission: requested.to_string(),
            destination: country("destination", &self.destination)?,
            route,
            valid_until: date_text(valid_until),
            case_reference: optional_text("case_reference", self.case_reference.as_ref(), 64)?,
            previous_document,
            photo: self
                .photo
                .as_deref()
                .map(|photo| jpeg("photo", photo))
                .transpose()?,
        })
    }
}

impl PassportApplicationBody {
    pub fn validate(&self, today: Date) -> Result<PassportApplication, IssuanceError> {
        let person = person(
            &self.surname,
            &self.given_names,
            &self.nationality,
            &self.birth_date,
            &self.sex,
            today,
        )?;
        let validity_years = match self.validity_years {
            None => 10,
            Some(years @ (5 | 10)) => years,
            Some(_) => return Err(IssuanceError::invalid("validity_years", "must be 5 or 10")),
        };
        let personal_number =
            optional_identifier("personal_number", self.personal_number.as_deref(), 14)?;
        Ok(PassportApplication {
            person,
            place_of_birth: optional_text("place_of_birth", self.place_of_birth.as_ref(), 64)?,
            personal_number,
            validity_years,
            photo: jpeg("photo", &self.photo)?,
        })
    }
}

impl LegalizationBody {
    pub fn validate(&self) -> Result<(LegalizationRequest, Vec<u8>), IssuanceError> {
        use sha2::Digest as _;
        let document = base64("document", &self.document, MAX_DOCUMENT_BYTES)?;
        let request = LegalizationRequest {
            document_type: free_text("document_type", &self.document_type, 100)?,
            signatory: optional_text("signatory", self.signatory.as_ref(), 100)?,
            capacity: optional_text("capacity", self.capacity.as_ref(), 100)?,
            authority: free_text("authority", &self.authority, 100)?,
            country_of_use: self
                .country_of_use
                .as_deref()
                .map(|code| country("country_of_use", code))
                .transpose()?,
            place: optional_text("place", self.place.as_ref(), 64)?,
            document_sha256: hex::encode(sha2::Sha256::digest(&document)),
        };
        Ok((request, document))
    }
}

/// Converts an MRZ error into a field error of the request.
pub(crate) fn mrz_error(error: travdoc_mrz::MrzError) -> IssuanceError {
    let field = match error.field() {
        "expiry_date" => "valid_until",
        "name" => "surname",
        other => other,
    };
    IssuanceError::invalid(field, error.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;
    use time::macros::date;

    fn body() -> TtdRequestBody {
        TtdRequestBody {
            surname: "Perera".into(),
            given_names: "Nimal Kumar".into(),
            nationality: "LKA".into(),
            birth_date: "1985-03-14".into(),
            sex: "M".into(),
            mission: "KWI".into(),
            destination: "LKA".into(),
            route: vec!["DOH".into()],
            valid_until: "2026-12-31".into(),
            case_reference: Some("RA-2026-0042".into()),
            previous_document: Some("N1234567".into()),
            photo: None,
        }
    }

    fn field_of(result: Result<TtdRequest, IssuanceError>) -> String {
        match result {
            Err(IssuanceError::InvalidField { field, .. }) => field,
            Err(IssuanceError::MissionMismatch { .. }) => "mission".into(),
            other => format!("{other:?}"),
        }
    }

    #[test]
    fn ttd_body_validates_and_names_the_bad_field() {
        let today = date!(2026 - 11 - 27);
        let mission: MissionCode = "KWI".parse().unwrap_or_else(|_| unreachable!());
        let ok = body().validate(Some(&mission), today);
        assert!(ok.is_ok(), "{ok:?}");
        type Mutation = Box<dyn Fn(&mut TtdRequestBody)>;
        let cases: Vec<(&str, Mutation)> = vec![
            ("surname", Box::new(|b| b.surname = " ".into())),
            ("nationality", Box::new(|b| b.nationality = "lk".into())),
            (
                "birth_date",
                Box::new(|b| b.birth_date = "1985-02-30".into()),
            ),
            (
                "birth_date",
                Box::new(|b| b.birth_date = "2030-01-01".into()),
            ),
            ("sex", Box::new(|b| b.sex = "male".into())),
            ("mission", Box::new(|b| b.mission = "LON".into())),
            (
                "valid_until",
                Box::new(|b| b.valid_until = "2026-11-26".into()),
            ),
            (
                "valid_until",
                Box::new(|b| b.valid_until = "2027-11-28".into()),
            ),
            (
                "destination",
                Box::new(|b| b.destination = "Sri Lanka".into()),
            ),
            ("photo", Box::new(|b| b.photo = Some("aGVsbG8=".into()))),
            ("photo", Box::new(|b| b.photo = Some("***".into()))),
            (
                "previous_document",
                Box::new(|b| b.previous_document = Some("n-1".into())),
            ),
        ];
        for (field, change) in cases {
            let mut bad = body();
            change(&mut bad);
            assert_eq!(field_of(bad.validate(Some(&mission), today)), field);
        }
    }

    #[test]
    fn date_arithmetic() {
        assert_eq!(add_months(date!(2026 - 01 - 31), 1), date!(2026 - 02 - 28));
        assert_eq!(add_months(date!(2026 - 11 - 27), 12), date!(2027 - 11 - 27));
        assert_eq!(add_years(date!(2024 - 02 - 29), 1), date!(2025 - 02 - 28));
        assert!(parse_date("d", "2026-1-01").is_err());
    }
}
