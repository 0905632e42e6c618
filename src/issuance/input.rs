//! Request bodies as they arrive (`*Body`, deserialised) and as the domain holds them once
//! validated (parse, don't validate: a `TtdRequest` is valid by construction). Every rejection
//! names the field.

use base64::Engine as _;
use serde::{Deserialize, Serialize};
use time::{Date, Month};

use super::IssuanceError;
use crate::auth::MissionCode;

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
    /// Portrait, base64 JPEG: at most 65,535 bytes (87,380 base64 characters), at least 240 x
    /// 320 pixels (what DG2 takes).
    #[schema(max_length = 87380)]
    pub photo: Option<String>,
    /// The applicant's national identity card number as the card shows it (9 digits and V or
    /// X, or 12 digits). Required unless `nic_absent_reason` says why there is none.
    #[serde(default)]
    pub nic: Option<String>,
    /// Why the applicant has no NIC (a minor, a citizen by descent living abroad, ...).
    #[serde(default)]
    pub nic_absent_reason: Option<String>,
    /// The readmission case the person returns under, when there is one.
    #[serde(default)]
    pub readmission: Option<ReadmissionBody>,
}

/// A readmission case: the person returns under a readmission agreement.
#[derive(Debug, Clone, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ReadmissionBody {
    /// The case's identifier, as both states know it (at most 64 characters).
    pub case_id: String,
    /// The state the person returns from (ICAO three-letter code).
    pub returning_from: String,
    /// The agreement the case falls under (at most 100 characters).
    pub agreement: String,
}

/// A readmission case as the request holds it (see [`ReadmissionBody`]): made only by its
/// checks, read back from storage through them too.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields, try_from = "ReadmissionBody")]
pub struct Readmission {
    case_id: String,
    returning_from: String,
    agreement: String,
}

impl TryFrom<ReadmissionBody> for Readmission {
    type Error = IssuanceError;
    fn try_from(body: ReadmissionBody) -> Result<Self, Self::Error> {
        body.check()
    }
}

impl Readmission {
    /// The case's identifier, as both states know it.
    pub fn case_id(&self) -> &str {
        &self.case_id
    }

    /// The state the person returns from (ICAO code).
    pub fn returning_from(&self) -> &str {
        &self.returning_from
    }

    /// The agreement the case falls under.
    pub fn agreement(&self) -> &str {
        &self.agreement
    }
}

impl ReadmissionBody {
    fn check(&self) -> Result<Readmission, IssuanceError> {
        let case_id = optional_free_text("readmission.case_id", Some(&self.case_id), 64)?
            .ok_or_else(|| IssuanceError::invalid("readmission.case_id", "is required"))?;
        let agreement = optional_free_text("readmission.agreement", Some(&self.agreement), 100)?
            .ok_or_else(|| IssuanceError::invalid("readmission.agreement", "is required"))?;
        Ok(Readmission {
            case_id,
            returning_from: country("readmission.returning_from", &self.returning_from)?,
            agreement,
        })
    }
}
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
    /// Portrait, base64 JPEG (required for a passport): at most 65,535 bytes (87,380 base64
    /// characters), at least 240 x 320 pixels (what DG2 takes).
    #[schema(max_length = 87380)]
    pub photo: String,
    /// The applicant's national identity card number (see the TTD request).
    #[serde(default)]
    pub nic: Option<String>,
    /// Why the applicant has no NIC.
    #[serde(default)]
    pub nic_absent_reason: Option<String>,
    /// The passport this one renews or replaces.
    #[serde(default)]
    pub previous_document_number: Option<String>,
    /// What became of it: `presented`, `lost`, `stolen` or `damaged` (with the number).
    #[serde(default)]
    pub previous_document_status: Option<String>,
}

/// `POST /v1/legalizations` body.
#[derive(Debug, Clone, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct LegalizationBody {
    pub document_type: String,
    /// Person who signed the public document (absent for a document that bears only a seal or
    /// stamp). `signatory` or `seal_of` is required.
    pub signatory: Option<String>,
    /// The signatory's capacity (only with `signatory`).
    pub capacity: Option<String>,
    /// The certifying authority (the office that legalizes).
    pub authority: String,
    /// Authority whose seal or stamp the document bears. `signatory` or `seal_of` is required.
    #[serde(default)]
    pub seal_of: Option<String>,
    pub country_of_use: Option<String>,
    /// Place of certification (default: the service's configured place).
    pub place: Option<String>,
    /// The legalized document, base64; only its SHA-256 is kept.
    pub document: String,
}

/// Person data common to TTDs and passports. Only [`TtdRequestBody::validate`] and
/// [`PassportApplicationBody::validate`] make one, and reading a stored one back runs the same
/// rules (those that do not depend on the day: see [`StoredPerson`]); the fields are read
/// through accessors, so a `Person` that exists is valid.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(try_from = "StoredPerson")]
pub struct Person {
    surname: String,
    given_names: String,
    nationality: String,
    birth_date: String,
    sex: String,
    /// As the card shows it (checked by `usecase::checks`, not refused here: an odd card is a
    /// hold for an approver, not a typing error for the requester).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    nic: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    nic_absent_reason: Option<String>,
}

impl Person {
    pub fn surname(&self) -> &str {
        &self.surname
    }
    pub fn given_names(&self) -> &str {
        &self.given_names
    }
    /// ICAO three-letter code.
    pub fn nationality(&self) -> &str {
        &self.nationality
    }
    /// `YYYY-MM-DD`.
    pub fn birth_date(&self) -> &str {
        &self.birth_date
    }
    /// `M`, `F` or `X`.
    pub fn sex(&self) -> &str {
        &self.sex
    }
    /// The NIC as written; `None` for an applicant without one (see
    /// [`Person::nic_absent_reason`]) or a request stored before NICs were asked.
    pub fn nic(&self) -> Option<&str> {
        self.nic.as_deref()
    }
    pub fn nic_absent_reason(&self) -> Option<&str> {
        self.nic_absent_reason.as_deref()
    }
}

/// A validated TTD request (see [`Person`] for how it stays valid).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(try_from = "StoredTtdRequest")]
pub struct TtdRequest {
    person: Person,
    mission: String,
    destination: String,
    route: Vec<String>,
    valid_until: String,
    case_reference: Option<String>,
    previous_document: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    readmission: Option<Readmission>,
    #[serde(skip)]
    photo: Option<Vec<u8>>,
}

impl TtdRequest {
    pub fn person(&self) -> &Person {
        &self.person
    }
    /// The requesting mission's code.
    pub fn mission(&self) -> &str {
        &self.mission
    }
    /// ICAO three-letter code of the final destination.
    pub fn destination(&self) -> &str {
        &self.destination
    }
    pub fn route(&self) -> &[String] {
        &self.route
    }
    /// `YYYY-MM-DD`.
    pub fn valid_until(&self) -> &str {
        &self.valid_until
    }
    pub fn case_reference(&self) -> Option<&str> {
        self.case_reference.as_deref()
    }
    pub fn previous_document(&self) -> Option<&str> {
        self.previous_document.as_deref()
    }
    /// The readmission case, when the person returns under one.
    pub fn readmission(&self) -> Option<&Readmission> {
        self.readmission.as_ref()
    }
    /// The portrait (JPEG) given with the request; stored apart from the request's data, so
    /// a request read back from storage has none.
    pub fn photo(&self) -> Option<&[u8]> {
        self.photo.as_deref()
    }
}

/// A validated passport application (see [`Person`] for how it stays valid).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(try_from = "StoredPassportApplication")]
pub struct PassportApplication {
    person: Person,
    place_of_birth: Option<String>,
    personal_number: Option<String>,
    validity_years: u8,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    previous_document_number: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    previous_document_status: Option<PreviousDocumentStatus>,
    #[serde(skip)]
    photo: Vec<u8>,
}

impl PassportApplication {
    pub fn person(&self) -> &Person {
        &self.person
    }
    pub fn place_of_birth(&self) -> Option<&str> {
        self.place_of_birth.as_deref()
    }
    /// The national personal number (MRZ optional data).
    pub fn personal_number(&self) -> Option<&str> {
        self.personal_number.as_deref()
    }
    /// 5 or 10.
    pub fn validity_years(&self) -> u8 {
        self.validity_years
    }
    /// The passport this one renews or replaces, and what became of it.
    pub fn previous_document(&self) -> Option<(&str, PreviousDocumentStatus)> {
        self.previous_document_number
            .as_deref()
            .zip(self.previous_document_status)
    }
    /// The portrait (JPEG); stored apart from the application's data, so an application read
    /// back from storage has an empty one (the stored photo is the record's).
    pub fn photo(&self) -> &[u8] {
        &self.photo
    }
}

/// A validated legalization request (see [`Person`] for how it stays valid).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(try_from = "StoredLegalizationRequest")]
pub struct LegalizationRequest {
    document_type: String,
    signatory: Option<String>,
    capacity: Option<String>,
    authority: String,
    country_of_use: Option<String>,
    place: String,
    document_sha256: String,
    #[serde(default)]
    seal_of: Option<String>,
}

impl LegalizationRequest {
    pub fn document_type(&self) -> &str {
        &self.document_type
    }
    pub fn signatory(&self) -> Option<&str> {
        self.signatory.as_deref()
    }
    pub fn capacity(&self) -> Option<&str> {
        self.capacity.as_deref()
    }
    pub fn authority(&self) -> &str {
        &self.authority
    }
    /// Authority whose seal or stamp the document bears.
    pub fn seal_of(&self) -> Option<&str> {
        self.seal_of.as_deref()
    }
    pub fn country_of_use(&self) -> Option<&str> {
        self.country_of_use.as_deref()
    }
    /// Place of certification.
    pub fn place(&self) -> &str {
        &self.place
    }
    /// Hex SHA-256 of the legalized document.
    pub fn document_sha256(&self) -> &str {
        &self.document_sha256
    }
}

/// The stored forms, read back through the same rules as the bodies (those that do not depend
/// on the day the request was made).
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct StoredPerson {
    surname: String,
    given_names: String,
    nationality: String,
    birth_date: String,
    sex: String,
    #[serde(default)]
    nic: Option<String>,
    #[serde(default)]
    nic_absent_reason: Option<String>,
}

impl TryFrom<StoredPerson> for Person {
    type Error = IssuanceError;
    fn try_from(stored: StoredPerson) -> Result<Self, IssuanceError> {
        let (nic, nic_absent_reason) = nic_fields(
            stored.nic.as_deref(),
            stored.nic_absent_reason.as_deref(),
            // A request stored before NICs were asked has neither.
            false,
        )?;
        person_fields(
            &stored.surname,
            &stored.given_names,
            &stored.nationality,
            &stored.birth_date,
            &stored.sex,
        )
        .map(|(person, _)| Person {
            nic,
            nic_absent_reason,
            ..person
        })
    }
}

/// A NIC as written (1 to 16 letters and digits: its layout is a check, not an input rule) or
/// the reason there is none; exactly one of them when `required`.
fn nic_fields(
    nic: Option<&str>,
    reason: Option<&str>,
    required: bool,
) -> Result<(Option<String>, Option<String>), IssuanceError> {
    let nic = match nic {
        None | Some("") => None,
        Some(text)
            if (1..=16).contains(&text.len())
                && text.bytes().all(|b| b.is_ascii_alphanumeric()) =>
        {
            Some(text.to_owned())
        }
        Some(_) => {
            return Err(IssuanceError::invalid(
                "nic",
                "at most 16 letters and digits, as the card shows them (no spaces)",
            ));
        }
    };
    let reason = optional_free_text("nic_absent_reason", reason, 200)?;
    match (&nic, &reason) {
        (Some(_), Some(_)) => Err(IssuanceError::invalid(
            "nic_absent_reason",
            "only for an applicant without a NIC",
        )),
        (None, None) if required => Err(IssuanceError::invalid(
            "nic",
            "is required (or nic_absent_reason, for an applicant without one)",
        )),
        _ => Ok((nic, reason)),
    }
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct StoredTtdRequest {
    person: Person,
    mission: String,
    destination: String,
    route: Vec<String>,
    valid_until: String,
    case_reference: Option<String>,
    previous_document: Option<String>,
    #[serde(default)]
    readmission: Option<Readmission>,
}

impl TryFrom<StoredTtdRequest> for TtdRequest {
    type Error = IssuanceError;
    fn try_from(stored: StoredTtdRequest) -> Result<Self, IssuanceError> {
        let readmission = stored.readmission.map(|case| ReadmissionBody {
            case_id: case.case_id,
            returning_from: case.returning_from,
            agreement: case.agreement,
        });
        let fields = TtdFields {
            mission: &stored.mission,
            destination: &stored.destination,
            route: &stored.route,
            valid_until: &stored.valid_until,
            case_reference: stored.case_reference.as_ref(),
            previous_document: stored.previous_document.as_deref(),
            readmission: readmission.as_ref(),
        };
        fields
            .check(stored.person, None)
            .map(|(request, _, _)| request)
    }
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct StoredPassportApplication {
    person: Person,
    place_of_birth: Option<String>,
    personal_number: Option<String>,
    validity_years: u8,
    #[serde(default)]
    previous_document_number: Option<String>,
    #[serde(default)]
    previous_document_status: Option<PreviousDocumentStatus>,
}

impl TryFrom<StoredPassportApplication> for PassportApplication {
    type Error = IssuanceError;
    fn try_from(stored: StoredPassportApplication) -> Result<Self, IssuanceError> {
        passport_fields(
            stored.person,
            stored.place_of_birth.as_ref(),
            stored.personal_number.as_deref(),
            Some(stored.validity_years),
            (
                stored.previous_document_number.as_deref(),
                stored
                    .previous_document_status
                    .map(PreviousDocumentStatus::as_str),
            ),
            Vec::new(),
        )
    }
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct StoredLegalizationRequest {
    document_type: String,
    signatory: Option<String>,
    capacity: Option<String>,
    authority: String,
    country_of_use: Option<String>,
    place: String,
    document_sha256: String,
    #[serde(default)]
    seal_of: Option<String>,
}

impl TryFrom<StoredLegalizationRequest> for LegalizationRequest {
    type Error = IssuanceError;
    fn try_from(stored: StoredLegalizationRequest) -> Result<Self, IssuanceError> {
        let sha256 = &stored.document_sha256;
        if sha256.len() != 64
            || !sha256
                .bytes()
                .all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b))
        {
            return Err(IssuanceError::invalid(
                "document_sha256",
                "is not a hex SHA-256",
            ));
        }
        let fields = LegalizationFields {
            document_type: &stored.document_type,
            signatory: stored.signatory.as_ref(),
            capacity: stored.capacity.as_ref(),
            authority: &stored.authority,
            country_of_use: stored.country_of_use.as_deref(),
            place: Some(&stored.place),
            seal_of: stored.seal_of.as_ref(),
        };
        fields.check(&stored.place, stored.document_sha256.clone())
    }
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
    let digits = |part: &str, length: usize| {
        part.len() == length && part.bytes().all(|b| b.is_ascii_digit())
    };
    if !digits(year, 4) || !digits(month, 2) || !digits(day, 2) {
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

/// The JSON Schema patterns of these rules, for the OpenAPI document (`api::contract`): each
/// says exactly what the function of the same rule accepts, so a request the schema allows is
/// not refused for its form (only for what a schema cannot say: a name's transliteration, a
/// date against today, a photo's content, the caller's mission).
pub mod patterns {
    /// C0 and C1 controls (`char::is_control`).
    const CONTROL: &str = r"\x00-\x1f\x7f-\x9f";
    /// White space that is not a control (`char::is_whitespace` minus `CONTROL`).
    const SPACE: &str = r" \xa0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000";

    /// Free text: no controls, not blank, no white space at either end.
    pub fn free_text() -> String {
        format!("^[^{CONTROL}{SPACE}](?:[^{CONTROL}]*[^{CONTROL}{SPACE}])?$")
    }

    /// A name as far as a pattern can say: free text without digits (the letters themselves
    /// are checked by transliteration).
    pub fn name(required: bool) -> String {
        let body = format!("[^{CONTROL}{SPACE}0-9](?:[^{CONTROL}0-9]*[^{CONTROL}{SPACE}0-9])?");
        if required {
            format!("^{body}$")
        } else {
            format!("^(?:{body})?$")
        }
    }

    /// Standard base64 with padding and zero trailing bits (what the decoder accepts), at
    /// least one byte.
    pub const BASE64: &str = "^(?:(?:[A-Za-z0-9+/]{4})+(?:[A-Za-z0-9+/][AQgw]==|[A-Za-z0-9+/]{2}[AEIMQUYcgkosw048]=)?|[A-Za-z0-9+/][AQgw]==|[A-Za-z0-9+/]{2}[AEIMQUYcgkosw048]=)$";

    /// An ICAO three-letter code (letters or `<`).
    pub const COUNTRY: &str = "^[A-Z<]{3}$";

    /// A three-letter country code, letters only.
    pub const LETTERS_COUNTRY: &str = "^[A-Z]{3}$";

    /// `YYYY-MM-DD` (with `format: date`).
    pub const DATE: &str = "^[0-9]{4}-[0-9]{2}-[0-9]{2}$";
}

/// Refuses white space at either end of `text` (the API does not trim silently).
fn untrimmed(field: &str, text: &str) -> Result<(), IssuanceError> {
    if text.trim() != text {
        return Err(IssuanceError::invalid(
            field,
            "must not begin or end with white space",
        ));
    }
    Ok(())
}

fn name(field: &str, text: &str, required: bool) -> Result<String, IssuanceError> {
    if required && text.is_empty() {
        return Err(IssuanceError::invalid(field, "must not be empty"));
    }
    untrimmed(field, text)?;
    if text.chars().count() > 64 {
        return Err(IssuanceError::invalid(field, "at most 64 characters"));
    }
    if !text
        .chars()
        .all(|c| c.is_alphabetic() || matches!(c, ' ' | '-' | '\'' | '.'))
    {
        return Err(IssuanceError::invalid(
            field,
            "only letters, spaces, hyphens, apostrophes and full stops",
        ));
    }
    Ok(text.to_owned())
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

/// A country code of letters only (the legalization seal's country of use takes no `<`).
fn letters_country(field: &str, text: &str) -> Result<String, IssuanceError> {
    if text.len() == 3 && text.bytes().all(|b| b.is_ascii_uppercase()) {
        Ok(text.to_owned())
    } else {
        Err(IssuanceError::invalid(
            field,
            format!("`{text}` is not a three-letter country code"),
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
    if text.trim().is_empty() {
        return Err(IssuanceError::invalid(field, "must not be empty"));
    }
    untrimmed(field, text)?;
    if text.chars().count() > max {
        return Err(IssuanceError::invalid(
            field,
            format!("at most {max} characters"),
        ));
    }
    if text.chars().any(char::is_control) {
        return Err(IssuanceError::invalid(
            field,
            "must not contain control characters",
        ));
    }
    Ok(text.to_owned())
}

/// Optional free text given as `Option<&str>`: absent or `""` is none.
pub(crate) fn optional_free_text(
    field: &str,
    text: Option<&str>,
    max: usize,
) -> Result<Option<String>, IssuanceError> {
    match text {
        None | Some("") => Ok(None),
        Some(value) => free_text(field, value, max).map(Some),
    }
}

/// Optional free text: absent or `""` is none.
fn optional_text(
    field: &str,
    text: Option<&String>,
    max: usize,
) -> Result<Option<String>, IssuanceError> {
    optional_free_text(field, text.map(String::as_str), max)
}

/// An optional document or personal number: up to `max` characters A-Z or 0-9 (absent or
/// `""`: none).
fn optional_identifier(
    field: &str,
    text: Option<&str>,
    max: usize,
) -> Result<Option<String>, IssuanceError> {
    match text {
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

/// Standard base64 (padded), at most `max` bytes once decoded, not empty.
fn base64(field: &str, text: &str, max: usize) -> Result<Vec<u8>, IssuanceError> {
    if text.len() > max.div_ceil(3) * 4 {
        return Err(IssuanceError::invalid(
            field,
            format!("larger than {max} bytes"),
        ));
    }
    let bytes = base64::engine::general_purpose::STANDARD
        .decode(text)
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

/// A portrait: JPEG, within what DG2 takes (ICAO 9303-10 and the chip: at most 65,535 bytes,
/// at least 240 x 320 pixels, read from the header). One limit for every portrait, checked when
/// the request is made, so that no request is accepted whose issuance would fail on its photo.
fn jpeg(field: &str, text: &str) -> Result<Vec<u8>, IssuanceError> {
    let limits = travdoc_lds::dg2::PhotoLimits::default();
    let bytes = base64(field, text, limits.max_bytes)?;
    if !bytes.starts_with(&[0xFF, 0xD8, 0xFF]) {
        return Err(IssuanceError::invalid(field, "is not a JPEG image"));
    }
    travdoc_lds::dg2::check_photo(&bytes, &limits)
        .map_err(|error| IssuanceError::invalid(field, error.to_string()))?;
    Ok(bytes)
}

/// The person rules that do not depend on the day; also gives the birth date.
fn person_fields(
    surname: &str,
    given_names: &str,
    nationality: &str,
    birth_date: &str,
    sex_text: &str,
) -> Result<(Person, Date), IssuanceError> {
    let birth = parse_date("birth_date", birth_date)?;
    if birth.year() < 1900 {
        return Err(IssuanceError::invalid("birth_date", "is before 1900"));
    }
    let person = Person {
        surname: name("surname", surname, true)?,
        given_names: name("given_names", given_names, false)?,
        nationality: country("nationality", nationality)?,
        birth_date: date_text(birth),
        sex: sex(sex_text)?,
        nic: None,
        nic_absent_reason: None,
    };
    Ok((person, birth))
}

#[allow(clippy::too_many_arguments)]
fn person(
    surname: &str,
    given_names: &str,
    nationality: &str,
    birth_date: &str,
    sex_text: &str,
    nic: Option<&str>,
    nic_absent_reason: Option<&str>,
    today: Date,
) -> Result<Person, IssuanceError> {
    let birth = parse_date("birth_date", birth_date)?;
    if birth > today {
        return Err(IssuanceError::invalid("birth_date", "is in the future"));
    }
    let person = person_fields(surname, given_names, nationality, birth_date, sex_text)
        .map(|(person, _)| person)?;
    let (nic, nic_absent_reason) = nic_fields(nic, nic_absent_reason, true)?;
    Ok(Person {
        nic,
        nic_absent_reason,
        ..person
    })
}

/// A TTD request's own fields, before the rules.
struct TtdFields<'a> {
    mission: &'a str,
    destination: &'a str,
    route: &'a [String],
    valid_until: &'a str,
    case_reference: Option<&'a String>,
    previous_document: Option<&'a str>,
    readmission: Option<&'a ReadmissionBody>,
}

impl TtdFields<'_> {
    /// The rules that do not depend on the day or the caller; also gives the mission and the
    /// last day of validity.
    fn check(
        &self,
        person: Person,
        photo: Option<Vec<u8>>,
    ) -> Result<(TtdRequest, MissionCode, Date), IssuanceError> {
        let mission: MissionCode = self
            .mission
            .parse()
            .map_err(|_| IssuanceError::invalid("mission", "is not a mission code"))?;
        let valid_until = parse_date("valid_until", self.valid_until)?;
        if self.route.len() > 8 {
            return Err(IssuanceError::invalid("route", "at most 8 transit points"));
        }
        let route = self
            .route
            .iter()
            .map(|point| free_text("route", point, 64))
            .collect::<Result<Vec<_>, _>>()?;
        let readmission = self.readmission.map(ReadmissionBody::check).transpose()?;
        let mut case_reference = optional_text("case_reference", self.case_reference, 64)?;
        if let Some(case) = &readmission {
            // The document carries the case as its reference.
            match &case_reference {
                None => case_reference = Some(case.case_id.clone()),
                Some(reference) if *reference != case.case_id => {
                    return Err(IssuanceError::invalid(
                        "case_reference",
                        "differs from readmission.case_id (give one, or the same in both)",
                    ));
                }
                Some(_) => {}
            }
        }
        let request = TtdRequest {
            person,
            mission: mission.to_string(),
            destination: country("destination", self.destination)?,
            route,
            valid_until: date_text(valid_until),
            case_reference,
            previous_document: optional_identifier(
                "previous_document",
                self.previous_document,
                20,
            )?,
            readmission,
            photo,
        };
        Ok((request, mission, valid_until))
    }
}

/// The passport application rules beyond the person's.
fn passport_fields(
    person: Person,
    place_of_birth: Option<&String>,
    personal_number: Option<&str>,
    validity_years: Option<u8>,
    previous: (Option<&str>, Option<&str>),
    photo: Vec<u8>,
) -> Result<PassportApplication, IssuanceError> {
    let validity_years = match validity_years {
        None => 10,
        Some(years @ (5 | 10)) => years,
        Some(_) => return Err(IssuanceError::invalid("validity_years", "must be 5 or 10")),
    };
    let previous_document_number = optional_identifier("previous_document_number", previous.0, 20)?;
    let previous_document_status = match previous.1 {
        None | Some("") => None,
        Some(text) => Some(PreviousDocumentStatus::parse(text).ok_or_else(|| {
            IssuanceError::invalid(
                "previous_document_status",
                "must be presented, lost, stolen or damaged",
            )
        })?),
    };
    match (&previous_document_number, &previous_document_status) {
        (Some(_), None) => {
            return Err(IssuanceError::invalid(
                "previous_document_status",
                "is required with previous_document_number",
            ));
        }
        (None, Some(_)) => {
            return Err(IssuanceError::invalid(
                "previous_document_number",
                "is required with previous_document_status",
            ));
        }
        _ => {}
    }
    Ok(PassportApplication {
        person,
        place_of_birth: optional_text("place_of_birth", place_of_birth, 64)?,
        personal_number: optional_identifier("personal_number", personal_number, 14)?,
        validity_years,
        previous_document_number,
        previous_document_status,
        photo,
    })
}

/// What became of the passport an application renews or replaces.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum PreviousDocumentStatus {
    /// Handed in at the counter (to be cancelled at issuance).
    Presented,
    Lost,
    Stolen,
    Damaged,
}

impl PreviousDocumentStatus {
    pub fn parse(text: &str) -> Option<Self> {
        Some(match text {
            "presented" => Self::Presented,
            "lost" => Self::Lost,
            "stolen" => Self::Stolen,
            "damaged" => Self::Damaged,
            _ => return None,
        })
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Self::Presented => "presented",
            Self::Lost => "lost",
            Self::Stolen => "stolen",
            Self::Damaged => "damaged",
        }
    }
}

/// A legalization request's own fields, before the rules.
struct LegalizationFields<'a> {
    document_type: &'a str,
    signatory: Option<&'a String>,
    capacity: Option<&'a String>,
    authority: &'a str,
    country_of_use: Option<&'a str>,
    place: Option<&'a String>,
    seal_of: Option<&'a String>,
}

/// A text feature of the legalization seal: free text of at most 100 characters that also
/// fits the seal's 200 bytes of UTF-8.
fn seal_text(field: &str, text: &str) -> Result<String, IssuanceError> {
    let text = free_text(field, text, 100)?;
    if text.len() > 200 {
        return Err(IssuanceError::invalid(
            field,
            "at most 200 bytes in UTF-8 (the seal's limit)",
        ));
    }
    Ok(text)
}

fn optional_seal_text(field: &str, text: Option<&String>) -> Result<Option<String>, IssuanceError> {
    match text.map(String::as_str) {
        None | Some("") => Ok(None),
        Some(value) => seal_text(field, value).map(Some),
    }
}

impl LegalizationFields<'_> {
    /// The rules; `default_place` stands in for a blank place.
    fn check(
        &self,
        default_place: &str,
        document_sha256: String,
    ) -> Result<LegalizationRequest, IssuanceError> {
        let signatory = optional_seal_text("signatory", self.signatory)?;
        let capacity = optional_seal_text("capacity", self.capacity)?;
        let seal_of = optional_seal_text("seal_of", self.seal_of)?;
        if signatory.is_none() && seal_of.is_none() {
            return Err(IssuanceError::invalid(
                "signatory",
                "give the signatory, or seal_of for a document that bears only a seal or stamp",
            ));
        }
        if capacity.is_some() && signatory.is_none() {
            return Err(IssuanceError::invalid(
                "capacity",
                "a capacity needs a signatory",
            ));
        }
        Ok(LegalizationRequest {
            document_type: seal_text("document_type", self.document_type)?,
            signatory,
            capacity,
            authority: seal_text("authority", self.authority)?,
            seal_of,
            country_of_use: self
                .country_of_use
                .map(|code| letters_country("country_of_use", code))
                .transpose()?,
            place: match optional_text("place", self.place, 64)? {
                Some(place) => place,
                None => free_text("place", default_place, 64)?,
            },
            document_sha256,
        })
    }
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
            self.nic.as_deref(),
            self.nic_absent_reason.as_deref(),
            today,
        )?;
        let photo = self
            .photo
            .as_deref()
            .map(|photo| jpeg("photo", photo))
            .transpose()?;
        let fields = TtdFields {
            mission: &self.mission,
            destination: &self.destination,
            route: &self.route,
            valid_until: &self.valid_until,
            case_reference: self.case_reference.as_ref(),
            previous_document: self.previous_document.as_deref(),
            readmission: self.readmission.as_ref(),
        };
        let (request, requested, valid_until) = fields.check(person, photo)?;
        if mission != Some(&requested) {
            return Err(IssuanceError::MissionMismatch {
                requested: requested.to_string(),
            });
        }
        if valid_until < today {
            return Err(IssuanceError::invalid("valid_until", "is in the past"));
        }
        if valid_until > add_months(today, 12) {
            return Err(IssuanceError::invalid(
                "valid_until",
                "is more than 12 months ahead",
            ));
        }
        Ok(request)
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
            self.nic.as_deref(),
            self.nic_absent_reason.as_deref(),
            today,
        )?;
        let photo = jpeg("photo", &self.photo)?;
        passport_fields(
            person,
            self.place_of_birth.as_ref(),
            self.personal_number.as_deref(),
            self.validity_years,
            (
                self.previous_document_number.as_deref(),
                self.previous_document_status.as_deref(),
            ),
            photo,
        )
    }
}

impl LegalizationBody {
    /// Validates the body; a blank place becomes `default_place` (the service's). Also gives
    /// the decoded document (only its hash is kept).
    pub fn validate(
        &self,
        default_place: &str,
    ) -> Result<(LegalizationRequest, Vec<u8>), IssuanceError> {
        use sha2::Digest as _;
        let document = base64("document", &self.document, MAX_DOCUMENT_BYTES)?;
        let fields = LegalizationFields {
            document_type: &self.document_type,
            signatory: self.signatory.as_ref(),
            capacity: self.capacity.as_ref(),
            authority: &self.authority,
            country_of_use: self.country_of_use.as_deref(),
            place: self.place.as_ref(),
            seal_of: self.seal_of.as_ref(),
        };
        let request = fields.check(default_place, hex::encode(sha2::Sha256::digest(&document)))?;
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
            nic: Some("198507401234".into()),
            nic_absent_reason: None,
            readmission: None,
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
    fn a_stored_request_reads_back_through_the_same_rules() -> Result<(), Box<dyn std::error::Error>>
    {
        let today = date!(2026 - 11 - 27);
        let mission: MissionCode = "KWI".parse().unwrap_or_else(|_| unreachable!());
        let request = body().validate(Some(&mission), today)?;
        let stored = serde_json::to_value(&request)?;
        let read: TtdRequest = serde_json::from_value(stored.clone())?;
        assert_eq!(read, request);
        // Damaged stored data is refused with the field named, not trusted.
        let damaged = [
            ("/person/sex", serde_json::json!("Q"), "sex"),
            ("/person/surname", serde_json::json!("Perera<<"), "surname"),
            (
                "/person/birth_date",
                serde_json::json!("1985-02-30"),
                "birth_date",
            ),
            ("/destination", serde_json::json!("lk"), "destination"),
            ("/valid_until", serde_json::json!("soon"), "valid_until"),
            ("/mission", serde_json::json!(""), "mission"),
        ];
        for (pointer, value, field) in damaged {
            let mut bad = stored.clone();
            *bad.pointer_mut(pointer).ok_or(pointer)? = value;
            let error = serde_json::from_value::<TtdRequest>(bad)
                .err()
                .ok_or(pointer)?
                .to_string();
            assert!(error.contains(&format!("`{field}`")), "{pointer}: {error}");
        }
        let mut extra = stored;
        extra["admin"] = serde_json::json!(true);
        assert!(serde_json::from_value::<TtdRequest>(extra).is_err());

        let legalization = LegalizationBody {
            document_type: "Birth certificate".into(),
            signatory: None,
            capacity: None,
            authority: "Consular Affairs Division".into(),
            seal_of: Some("Registrar General".into()),
            country_of_use: Some("ITA".into()),
            place: Some(String::new()),
            document: "JVBERi0xLjQK".into(),
        };
        let (request, document) = legalization.validate("Colombo")?;
        assert_eq!(
            request.place(),
            "Colombo",
            "an empty place is the service's"
        );
        assert_eq!(request.seal_of(), Some("Registrar General"));
        // Neither a signatory nor a seal borne; a capacity without a signatory; padding.
        let mut neither = legalization.clone();
        neither.seal_of = None;
        assert_eq!(
            field_of_legalization(neither.validate("Colombo")),
            "signatory"
        );
        let mut capacity = legalization.clone();
        capacity.capacity = Some("Registrar".into());
        assert_eq!(
            field_of_legalization(capacity.validate("Colombo")),
            "capacity"
        );
        let mut padded = legalization.clone();
        padded.authority = " Consular Affairs Division".into();
        assert_eq!(
            field_of_legalization(padded.validate("Colombo")),
            "authority"
        );
        let mut long = legalization.clone();
        long.document_type = "\u{0DC1}".repeat(70);
        assert_eq!(
            field_of_legalization(long.validate("Colombo")),
            "document_type"
        );
        assert_eq!(document, b"%PDF-1.4\n");
        let stored = serde_json::to_value(&request)?;
        assert_eq!(
            serde_json::from_value::<LegalizationRequest>(stored.clone())?,
            request
        );
        let mut bad = stored;
        bad["document_sha256"] = serde_json::json!("00");
        assert!(serde_json::from_value::<LegalizationRequest>(bad).is_err());
        Ok(())
    }

    fn field_of_legalization(
        result: Result<(LegalizationRequest, Vec<u8>), IssuanceError>,
    ) -> String {
        match result {
            Err(IssuanceError::InvalidField { field, .. }) => field,
            other => format!("{other:?}"),
        }
    }

    #[test]
    fn date_arithmetic() {
        assert_eq!(add_months(date!(2026 - 01 - 31), 1), date!(2026 - 02 - 28));
        assert_eq!(add_months(date!(2026 - 11 - 27), 12), date!(2027 - 11 - 27));
        assert_eq!(add_years(date!(2024 - 02 - 29), 1), date!(2025 - 02 - 28));
        assert!(parse_date("d", "2026-1-01").is_err());
        assert!(parse_date("d", "2026-+1-01").is_err(), "digits only");
        assert!(parse_date("d", "+026-01-01").is_err(), "digits only");
    }
}
