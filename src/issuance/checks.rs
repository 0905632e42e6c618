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
    /// one of ours revoked; or a document issued to the applicant's NIC is on a list.
    SltdHit,
    /// The applicant holds a valid passport of ours that the application does not name as
    /// its previous document.
    PreviousDocumentValid,
    /// The same NIC under another name, birth date or sex; or the same name, birth date and
    /// sex under another NIC.
    DuplicateIdentity,
    /// The applicant holds a valid, unused TTD, or has another open TTD request in the same
    /// readmission case.
    ActiveTtd,
}

impl CheckCode {
    pub const ALL: [CheckCode; 6] = [
        CheckCode::NicFormat,
        CheckCode::NicMismatch,
        CheckCode::SltdHit,
        CheckCode::PreviousDocumentValid,
        CheckCode::DuplicateIdentity,
        CheckCode::ActiveTtd,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            CheckCode::NicFormat => "NIC_FORMAT",
            CheckCode::NicMismatch => "NIC_MISMATCH",
            CheckCode::SltdHit => "SLTD_HIT",
            CheckCode::PreviousDocumentValid => "PREVIOUS_DOCUMENT_VALID",
            CheckCode::DuplicateIdentity => "DUPLICATE_IDENTITY",
            CheckCode::ActiveTtd => "ACTIVE_TTD",
        }
    }

    pub fn parse(text: &str) -> Option<Self> {
        Some(match text {
            "NIC_FORMAT" => CheckCode::NicFormat,
            "NIC_MISMATCH" => CheckCode::NicMismatch,
            "SLTD_HIT" => CheckCode::SltdHit,
            "PREVIOUS_DOCUMENT_VALID" => CheckCode::PreviousDocumentValid,
            "DUPLICATE_IDENTITY" => CheckCode::DuplicateIdentity,
            "ACTIVE_TTD" => CheckCode::ActiveTtd,
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

/// The checks run again (just before issuance) against what an approver already decided:
/// a hit found again keeps its clearance, so only what is new holds the request. Returns the
/// merged list and whether anything new was found.
pub fn merge(previous: &[CheckHit], found: Vec<CheckHit>) -> (Vec<CheckHit>, bool) {
    let mut merged: Vec<CheckHit> = previous.to_vec();
    let mut new = false;
    for hit in found {
        let known = previous.iter().any(|old| {
            old.code == hit.code && old.detail == hit.detail && old.source == hit.source
        });
        if !known {
            merged.push(hit);
            new = true;
        }
    }
    (merged, new)
}

/// What the person checks compare an application with.
pub struct PersonProbe<'a> {
    pub kind: super::numbering::Kind,
    pub person: &'a Person,
    /// The previous passport an application names (renewal or replacement).
    pub previous_document: Option<&'a str>,
    /// The readmission case of a TTD request.
    pub case_id: Option<&'a str>,
    /// `YYYY-MM-DD`.
    pub today: &'a str,
    /// When the request was made (RFC 3339): only earlier open requests of the same case
    /// hold it, so that a second request never holds the first one's issuance.
    pub created_at: &'a str,
}

/// At most this many related requests are named in one hit's detail.
const NAMED: usize = 3;

/// `PREVIOUS_DOCUMENT_VALID`, `DUPLICATE_IDENTITY`, `ACTIVE_TTD` and the NIC-linked
/// `SLTD_HIT` of `probe`, over the other requests that share its NIC or its name, birth date
/// and sex (`related`, read by `travdoc_store::people::related`).
pub fn person_checks(
    probe: &PersonProbe<'_>,
    related: &[travdoc_store::people::RelatedRow],
) -> Vec<CheckHit> {
    let nic = probe.person.nic().and_then(super::people::canonical_nic);
    let name_key = super::people::name_key(probe.person.surname(), probe.person.given_names());
    let birth_date = probe.person.birth_date();
    let sex = probe.person.sex();
    let same_nic = |row: &travdoc_store::people::RelatedRow| {
        nic.is_some() && row.person.nic.as_deref() == nic.as_deref()
    };
    let same_name = |row: &travdoc_store::people::RelatedRow| {
        row.person.name_key == name_key
            && row.person.birth_date == birth_date
            && row.person.sex == sex
    };
    // The same person: the same NIC, or (without a NIC on either side to tell them apart) the
    // same name, birth date and sex.
    let same_person = |row: &travdoc_store::people::RelatedRow| {
        same_nic(row) || (same_name(row) && (nic.is_none() || row.person.nic.is_none()))
    };
    let mut hits = Vec::new();

    let mut conflicts: Vec<String> = Vec::new();
    let mut other_nics: Vec<String> = Vec::new();
    for row in related {
        if same_nic(row) && !same_name(row) {
            let mut differs = Vec::new();
            if row.person.name_key != name_key {
                differs.push(format!("name {}", row.person.name_key));
            }
            if row.person.birth_date != birth_date {
                differs.push(format!("birth date {}", row.person.birth_date));
            }
            if row.person.sex != sex {
                differs.push(format!("sex {}", row.person.sex));
            }
            let line = format!(
                "{} request {} ({})",
                row.person.kind,
                row.person.request_id,
                differs.join(", ")
            );
            if !conflicts.contains(&line) {
                conflicts.push(line);
            }
        }
        if same_name(row)
            && let (Some(own), Some(other)) = (&nic, &row.person.nic)
            && own != other
        {
            let line = format!(
                "{} request {} under NIC {other}",
                row.person.kind, row.person.request_id
            );
            if !other_nics.contains(&line) {
                other_nics.push(line);
            }
        }
    }
    if !conflicts.is_empty() {
        hits.push(CheckHit::new(
            CheckCode::DuplicateIdentity,
            format!(
                "NIC {} is on {} other request(s) of another person: {}",
                nic.as_deref().unwrap_or_default(),
                conflicts.len(),
                named(&conflicts)
            ),
            "requests by nic",
        ));
    }
    if !other_nics.is_empty() {
        hits.push(CheckHit::new(
            CheckCode::DuplicateIdentity,
            format!(
                "{name_key}, born {birth_date}, sex {sex}, is on {} request(s) under another NIC: {}",
                other_nics.len(),
                named(&other_nics)
            ),
            "requests by name, birth date and sex",
        ));
    }

    let valid = |row: &travdoc_store::people::RelatedRow, kind: &str| {
        row.document_kind.as_deref() == Some(kind)
            && matches!(row.document_state.as_deref(), Some("issued" | "printed"))
            && row
                .document_valid_until
                .as_deref()
                .is_some_and(|until| until >= probe.today)
    };
    let mut seen: Vec<&str> = Vec::new();
    for row in related.iter().filter(|row| same_person(row)) {
        let Some(number) = row.document_number.as_deref() else {
            continue;
        };
        if seen.contains(&number) {
            continue;
        }
        seen.push(number);
        let until = row.document_valid_until.as_deref().unwrap_or_default();
        match probe.kind {
            super::numbering::Kind::Passport
                if valid(row, "passport") && probe.previous_document != Some(number) =>
            {
                hits.push(CheckHit::new(
                    CheckCode::PreviousDocumentValid,
                    format!(
                        "passport {number}, valid until {until}, is not named as the previous document"
                    ),
                    &format!("travdoc documents ({number})"),
                ));
            }
            super::numbering::Kind::Ttd if valid(row, "ttd") => {
                hits.push(CheckHit::new(
                    CheckCode::ActiveTtd,
                    format!("TTD {number}, valid until {until}, is not yet used"),
                    &format!("travdoc documents ({number})"),
                ));
            }
            _ => {}
        }
    }
    if probe.kind == super::numbering::Kind::Ttd
        && let Some(case_id) = probe.case_id
    {
        let open: Vec<String> = related
            .iter()
            .filter(|row| {
                same_person(row)
                    && row.person.kind == "ttd"
                    && row.person.case_id.as_deref() == Some(case_id)
                    && row.document_number.is_none()
                    && earlier(&row.person.created_at, probe.created_at)
                    && matches!(
                        row.request_state.as_str(),
                        "requested" | "on_hold" | "returned" | "approved"
                    )
            })
            .map(|row| format!("request {}", row.person.request_id))
            .collect();
        if !open.is_empty() {
            hits.push(CheckHit::new(
                CheckCode::ActiveTtd,
                format!(
                    "readmission case {case_id} already has an open TTD request for this person: {}",
                    named(&open)
                ),
                "requests by readmission case",
            ));
        }
    }

    for row in related.iter().filter(|row| same_nic(row)) {
        let (Some(number), Some(listed)) = (row.document_number.as_deref(), &row.listed) else {
            continue;
        };
        hits.push(CheckHit::new(
            CheckCode::SltdHit,
            format!(
                "{} {number}, issued to NIC {}, is listed as {} since {}",
                row.document_kind.as_deref().unwrap_or("document"),
                nic.as_deref().unwrap_or_default(),
                listed.status,
                listed.reported_on
            ),
            &format!("sltd import {} line {}", listed.import_id, listed.line),
        ));
    }
    hits
}

/// Whether the stored applicant `holder` is the person `person` (the same NIC; or, when
/// either has none, the same name, birth date and sex).
pub fn same_holder(person: &Person, holder: &travdoc_store::people::PersonRow) -> bool {
    let nic = person.nic().and_then(super::people::canonical_nic);
    match (&nic, &holder.nic) {
        (Some(own), Some(theirs)) => own == theirs,
        _ => {
            holder.name_key == super::people::name_key(person.surname(), person.given_names())
                && holder.birth_date == person.birth_date()
                && holder.sex == person.sex()
        }
    }
}

/// `DUPLICATE_IDENTITY` when the previous passport an application names is ours but was
/// issued to someone else (its issuance would otherwise cancel another person's passport).
pub fn previous_holder_check(
    person: &Person,
    number: &str,
    holder: Option<&travdoc_store::people::PersonRow>,
) -> Option<CheckHit> {
    let holder = holder?;
    if same_holder(person, holder) {
        return None;
    }
    Some(CheckHit::new(
        CheckCode::DuplicateIdentity,
        format!(
            "the previous passport {number} was issued to another person ({}, born {})",
            holder.name_key, holder.birth_date
        ),
        &format!("travdoc documents ({number})"),
    ))
}

/// Whether RFC 3339 time `a` is before `b` (as instants: the texts' fractions differ in
/// length, so they do not sort as text); an unreadable time counts as earlier.
fn earlier(a: &str, b: &str) -> bool {
    let parse = |text: &str| {
        time::OffsetDateTime::parse(text, &time::format_description::well_known::Rfc3339).ok()
    };
    match (parse(a), parse(b)) {
        (Some(a), Some(b)) => a < b,
        _ => true,
    }
}

/// The first few of `items`, and how many more.
fn named(items: &[String]) -> String {
    let mut text = items
        .iter()
        .take(NAMED)
        .cloned()
        .collect::<Vec<_>>()
        .join("; ");
    if items.len() > NAMED {
        text.push_str(&format!("; and {} more", items.len() - NAMED));
    }
    text
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

/// The applicant lookups of the checks running at one moment, read with one statement on the
/// read pool (`travdoc_store::people::lookup_batch`): at issuance every request re-checks, and
/// one statement per issuance cost more than the lookups themselves.
pub(crate) struct LookupStatement {
    pub(crate) db: super::Db,
}

impl super::batch::BatchStatement for LookupStatement {
    type Item = travdoc_store::people::ProbeRow;
    type Outcome = travdoc_store::people::Lookup;
    const NAME: &'static str = "checks lookup";

    fn run<'a>(
        &'a self,
        probes: &'a [travdoc_store::people::ProbeRow],
    ) -> super::batch::StatementFuture<'a, travdoc_store::people::Lookup> {
        Box::pin(async move {
            Ok(
                travdoc_store::people::lookup_batch(self.db.reader(), self.db.backend(), probes)
                    .await?,
            )
        })
    }
}
