//! The checks before issuance (`docs/checks.md`): what a hit is, how an approver clears it,
//! and the checks that need nothing but the request itself (the NIC's layout, and its birth
//! date and sex against the application's).

use serde::{Deserialize, Serialize};

use super::input::Person;

/// What a check found.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum CheckCode {
    /// The NIC is not a NIC in either layout, or its day names no date.
    NicFormat,
    /// The NIC's birth date or sex disagrees with the application's.
    NicMismatch,
    /// A document the applicant names (previous or presented) is on a lost/stolen list, or is
    /// one of ours revoked.
    SltdHit,
}

impl CheckCode {
    pub const ALL: [CheckCode; 3] = [
        CheckCode::NicFormat,
        CheckCode::NicMismatch,
        CheckCode::SltdHit,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            CheckCode::NicFormat => "NIC_FORMAT",
            CheckCode::NicMismatch => "NIC_MISMATCH",
            CheckCode::SltdHit => "SLTD_HIT",
        }
    }

    pub fn parse(text: &str) -> Option<Self> {
        Some(match text {
            "NIC_FORMAT" => CheckCode::NicFormat,
            "NIC_MISMATCH" => CheckCode::NicMismatch,
            "SLTD_HIT" => CheckCode::SltdHit,
            _ => return None,
        })
    }
}

/// How an approver cleared a hit.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct Clearance {
    /// The approver's account id.
    pub by: String,
    pub reason: String,
    /// RFC 3339.
    pub at: String,
}

/// One hit of one check.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct CheckHit {
    pub code: CheckCode,
    /// What was found, for the approver.
    pub detail: String,
    /// What the check looked at (`nic`, a list's name and line, a document number).
    pub source: String,
    /// Set when an approver cleared the hit.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cleared: Option<Clearance>,
}

impl CheckHit {
    pub(crate) fn new(code: CheckCode, detail: String, source: &str) -> Self {
        CheckHit {
            code,
            detail,
            source: source.to_owned(),
            cleared: None,
        }
    }
}

/// Whether any hit still stands.
pub fn holds(hits: &[CheckHit]) -> bool {
    hits.iter().any(|hit| hit.cleared.is_none())
}

/// The NIC checks of an applicant: none without a NIC (the reason for its absence is shown to
/// the approver with the request).
pub fn nic_checks(person: &Person) -> Vec<CheckHit> {
    let Some(text) = person.nic() else {
        return Vec::new();
    };
    let nic = match travdoc_nic::Nic::parse(text) {
        Ok(nic) => nic,
        Err(error) => {
            return vec![CheckHit::new(
                CheckCode::NicFormat,
                format!("`{text}`: {error}"),
                "nic",
            )];
        }
    };
    let Some(birth_date) = birth_date(person.birth_date()) else {
        return Vec::new();
    };
    let sex = match person.sex() {
        "M" => Some(travdoc_nic::Sex::Male),
        "F" => Some(travdoc_nic::Sex::Female),
        _ => None,
    };
    let mismatches = nic.mismatches(birth_date, sex);
    if mismatches.is_empty() {
        return Vec::new();
    }
    let detail = mismatches
        .iter()
        .map(ToString::to_string)
        .collect::<Vec<_>>()
        .join("; ");
    vec![CheckHit::new(
        CheckCode::NicMismatch,
        format!("NIC {}: {detail}", nic.canonical()),
        "nic",
    )]
}

/// A `Person`'s birth date (valid, so this only fails on corrupt data) as the NIC crate's.
fn birth_date(text: &str) -> Option<travdoc_nic::BirthDate> {
    let date = super::input::parse_date("birth_date", text).ok()?;
    Some(travdoc_nic::BirthDate {
        year: u16::try_from(date.year()).ok()?,
        month: u8::from(date.month()),
        day: date.day(),
    })
}
