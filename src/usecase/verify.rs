//! Verification: the one path every caller takes (`POST /v1/verify`, the public `/verify`
//! page, `travdoc verify seal|sod`, `travdoc bench`).
//!
//! A caller turns what it was handed into a [`VerifyInput`] (the only place the size and shape
//! limits are checked), and [`Verification::verify`] answers with one typed [`Outcome`]:
//! 1. the cryptographic checks of the format crates, `travdoc_seal::Verifier` (ICAO 9303-13
//!    App. D, 9303-8 App. A) for seals, QR texts and barcode images, and
//!    `travdoc_lds::passive_authentication` (9303-11 §5.1) for an SOD with its data groups;
//! 2. when they prove the artifact genuine, and only then, the document's record: its status
//!    (revoked, used, expired, unknown), that it is of the kind the artifact says, and the
//!    ledger's inclusion proof of its issuance. An artifact that is not proven genuine learns
//!    nothing about any document (its number could be anyone's).
//!
//! The reason codes are [`Code`]; `docs/verification.md` lists them with their App. D meaning.

use std::collections::BTreeMap;
use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;

use serde::Serialize;
use travdoc_pkix::TrustStore;
use travdoc_pkix::x509_cert::Certificate;
use travdoc_seal::SubIndication;

use crate::issuance::IssuanceError;
use crate::issuance::documents::DocumentStatus;
use crate::issuance::numbering::Kind;

/// A future the record port returns.
pub type BoxFuture<'a, T> = Pin<Box<dyn Future<Output = T> + Send + 'a>>;

/// Largest seal, barcode image, SOD or data group accepted, in bytes.
pub const MAX_ARTIFACT_BYTES: usize = 4 * 1024 * 1024;
/// Largest legalized document accepted for comparison: the size legalization itself accepts.
pub const MAX_DOCUMENT_BYTES: usize = crate::issuance::input::MAX_DOCUMENT_BYTES;
/// The deepest DER nesting a submitted SOD may have.
pub const MAX_DER_DEPTH: usize = 32;
/// Longest QR or seal text accepted, in characters.
pub const MAX_TEXT_CHARS: usize = 8192;

/// What the verifier is handed.
#[derive(Debug, Clone)]
pub enum Artifact {
    /// Raw seal bytes (Data Matrix payload).
    Seal(Vec<u8>),
    /// A PNG or JPEG photo or scan of the 2D barcode (Data Matrix or QR).
    BarcodeImage(Vec<u8>),
    /// The text of a QR code (a legalization's verification URL).
    Qr(String),
    /// EF.SOD and data groups by number.
    Sod {
        sod: Vec<u8>,
        data_groups: BTreeMap<u8, Vec<u8>>,
    },
}

/// What the verifier holds of the document the artifact belongs to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Presented {
    /// Nothing: only the artifact is checked.
    Nothing,
    /// The two MRZ lines printed on a TTD (compared with the seal's MRZ).
    PrintedMrz([String; 2]),
    /// The legalized document file (its SHA-256 is compared with the seal's).
    Document(Vec<u8>),
}

/// A refused input: the field and what is wrong with it.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{field}: {message}")]
pub struct InputError {
    pub field: String,
    pub message: String,
}

fn refuse(field: &str, message: impl Into<String>) -> InputError {
    InputError {
        field: field.to_owned(),
        message: message.into(),
    }
}

/// Bytes sent as text: standard base64, or URL-safe base64 without padding (the form a QR
/// code's URL carries), with any white space (line breaks of a pasted block) left out.
pub fn decode_base64(field: &str, text: &str) -> Result<Vec<u8>, InputError> {
    use base64::Engine as _;
    let compact: String = text.split_whitespace().collect();
    base64::engine::general_purpose::STANDARD
        .decode(&compact)
        .or_else(|_| base64::engine::general_purpose::URL_SAFE_NO_PAD.decode(&compact))
        .map_err(|_| refuse(field, "is not valid base64"))
}

/// A verification request within every limit; one exists only when it is acceptable.
#[derive(Debug, Clone)]
pub struct VerifyInput {
    artifact: Artifact,
    presented: Presented,
    sod_policy: SodPolicy,
}

fn bounded_bytes(field: &str, bytes: &[u8], limit: usize) -> Result<(), InputError> {
    if bytes.is_empty() {
        return Err(refuse(field, "must not be empty"));
    }
    if bytes.len() > limit {
        return Err(refuse(
            field,
            format!("is {} bytes; at most {limit} are accepted", bytes.len()),
        ));
    }
    Ok(())
}

impl VerifyInput {
    /// Checks `artifact` and `presented` against the limits: sizes, one to sixteen data
    /// groups numbered 1 to 16 with DG1 among them, evidence only where it can be compared.
    pub fn new(artifact: Artifact, presented: Presented) -> Result<Self, InputError> {
        match &artifact {
            Artifact::Seal(bytes) => bounded_bytes("seal", bytes, MAX_ARTIFACT_BYTES)?,
            Artifact::BarcodeImage(bytes) => {
                bounded_bytes("barcode_image", bytes, MAX_ARTIFACT_BYTES)?
            }
            Artifact::Qr(text) => {
                if text.trim().is_empty() || text.chars().count() > MAX_TEXT_CHARS {
                    return Err(refuse(
                        "qr",
                        format!("must be 1 to {MAX_TEXT_CHARS} characters"),
                    ));
                }
            }
            Artifact::Sod { sod, data_groups } => {
                bounded_bytes("sod", sod, MAX_ARTIFACT_BYTES)?;
                if !data_groups.contains_key(&1) {
                    return Err(refuse("data_groups", "give at least DG1"));
                }
                for (number, bytes) in data_groups {
                    let field = format!("data_groups.{number}");
                    if !(1..=16).contains(number) {
                        return Err(refuse(&field, "data group numbers are 1 to 16"));
                    }
                    bounded_bytes(&field, bytes, MAX_ARTIFACT_BYTES)?;
                }
            }
        }
        match &presented {
            Presented::Nothing => {}
            Presented::Document(bytes) => {
                if matches!(artifact, Artifact::Sod { .. }) {
                    return Err(refuse("document", "is compared with a seal, not an SOD"));
                }
                bounded_bytes("document", bytes, MAX_DOCUMENT_BYTES)?;
            }
            Presented::PrintedMrz(lines) => {
                if matches!(artifact, Artifact::Sod { .. }) {
                    return Err(refuse("printed_mrz", "is compared with a seal, not an SOD"));
                }
                if lines
                    .iter()
                    .any(|line| line.is_empty() || line.len() > 64 || !line.is_ascii())
                {
                    return Err(refuse(
                        "printed_mrz",
                        "two lines of 1 to 64 ASCII characters",
                    ));
                }
            }
        }
        Ok(VerifyInput {
            artifact,
            presented,
            sod_policy: SodPolicy::default(),
        })
    }

    /// Passive Authentication stricter than the default (an SOD only).
    pub fn with_sod_policy(mut self, policy: SodPolicy) -> Result<Self, InputError> {
        if let Some(code) = &policy.document_code
            && (code.is_empty()
                || code.len() > 2
                || !code.bytes().all(|b| b.is_ascii_uppercase() || b == b'<'))
        {
            return Err(refuse("document_code", "one or two letters A-Z (or `<`)"));
        }
        self.sod_policy = policy;
        Ok(self)
    }

    pub fn artifact(&self) -> &Artifact {
        &self.artifact
    }

    pub fn presented(&self) -> &Presented {
        &self.presented
    }
}

/// The reason codes: the sub-indications of ICAO 9303-13 App. D and 9303-8 App. A, travdoc's
/// legalization and Passive Authentication checks, and the document's record.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum Code {
    /// The barcode (image or QR text) could not be read.
    ReadError,
    /// The bytes do not follow the seal or SOD format, or the seal's profile.
    WrongFormat,
    /// A feature the profile does not define (informational: the verdict stays `VALID`).
    UnknownFeature,
    /// No signer certificate is known for the seal's signer reference, or the SOD carries none.
    UnknownCertificate,
    /// The signer certificate does not chain to a trusted CSCA.
    UntrustedCertificate,
    /// The signer certificate may not sign this document code.
    #[serde(rename = "INVALID_DOCUMENTTYPE")]
    InvalidDocumentType,
    /// The signer certificate is expired or not yet valid.
    ExpiredCertificate,
    /// The signer certificate is on its CSCA's CRL.
    RevokedCertificate,
    /// The signature does not verify.
    InvalidSignature,
    /// TTD: the check digits of the MRZ in the seal are wrong.
    InvalidSealMrz,
    /// TTD: the check digits of the printed MRZ are wrong.
    InvalidPrintedMrz,
    /// TTD: the printed MRZ differs from the MRZ in the seal.
    SealDocumentMismatch,
    /// Legalization: the presented file is not the legalized document.
    DocumentHashMismatch,
    /// The presented evidence cannot be compared with this seal's profile.
    NotComparable,
    /// Passport: a data group's hash differs from the one in the SOD.
    DataGroupHashMismatch,
    /// The artifact is of a type this verifier cannot check (no barcode reader configured).
    UnsupportedArtifact,
    /// The number names a document of another kind than the artifact (a TTD seal carrying a
    /// passport's number).
    DocumentKindMismatch,
    /// No document was issued under the number.
    DocumentUnknown,
    /// The document was revoked.
    DocumentRevoked,
    /// The TTD was used (its holder was cleared on arrival).
    DocumentUsed,
    /// The document's validity ended.
    DocumentExpired,
}

/// How much a reason weighs (ICAO 9303-13 App. D trust levels).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Severity {
    /// Does not change the verdict.
    Informational,
    /// Medium fraud potential (read errors, expired certificates, a document past its date).
    Medium,
    /// High fraud potential.
    High,
}

impl Code {
    /// Every code, in the order of the checks.
    pub const ALL: [Code; 21] = [
        Code::ReadError,
        Code::WrongFormat,
        Code::UnknownFeature,
        Code::UnknownCertificate,
        Code::UntrustedCertificate,
        Code::InvalidDocumentType,
        Code::ExpiredCertificate,
        Code::RevokedCertificate,
        Code::InvalidSignature,
        Code::InvalidSealMrz,
        Code::InvalidPrintedMrz,
        Code::SealDocumentMismatch,
        Code::DocumentHashMismatch,
        Code::NotComparable,
        Code::DataGroupHashMismatch,
        Code::UnsupportedArtifact,
        Code::DocumentKindMismatch,
        Code::DocumentUnknown,
        Code::DocumentRevoked,
        Code::DocumentUsed,
        Code::DocumentExpired,
    ];

    /// The code as it appears in answers (`INVALID_SIGNATURE`, ...).
    pub fn as_str(self) -> &'static str {
        match self {
            Code::ReadError => "READ_ERROR",
            Code::WrongFormat => "WRONG_FORMAT",
            Code::UnknownFeature => "UNKNOWN_FEATURE",
            Code::UnknownCertificate => "UNKNOWN_CERTIFICATE",
            Code::UntrustedCertificate => "UNTRUSTED_CERTIFICATE",
            Code::InvalidDocumentType => "INVALID_DOCUMENTTYPE",
            Code::ExpiredCertificate => "EXPIRED_CERTIFICATE",
            Code::RevokedCertificate => "REVOKED_CERTIFICATE",
            Code::InvalidSignature => "INVALID_SIGNATURE",
            Code::InvalidSealMrz => "INVALID_SEAL_MRZ",
            Code::InvalidPrintedMrz => "INVALID_PRINTED_MRZ",
            Code::SealDocumentMismatch => "SEAL_DOCUMENT_MISMATCH",
            Code::DocumentHashMismatch => "DOCUMENT_HASH_MISMATCH",
            Code::NotComparable => "NOT_COMPARABLE",
            Code::DataGroupHashMismatch => "DATA_GROUP_HASH_MISMATCH",
            Code::UnsupportedArtifact => "UNSUPPORTED_ARTIFACT",
            Code::DocumentKindMismatch => "DOCUMENT_KIND_MISMATCH",
            Code::DocumentUnknown => "DOCUMENT_UNKNOWN",
            Code::DocumentRevoked => "DOCUMENT_REVOKED",
            Code::DocumentUsed => "DOCUMENT_USED",
            Code::DocumentExpired => "DOCUMENT_EXPIRED",
        }
    }

    /// The App. D trust level.
    pub fn severity(self) -> Severity {
        match self {
            Code::UnknownFeature => Severity::Informational,
            Code::ReadError | Code::ExpiredCertificate | Code::DocumentExpired => Severity::Medium,
            _ => Severity::High,
        }
    }

    /// Whether this reason leaves the artifact unproven: its content (and so the number it
    /// names) may not be what the signer signed. The other reasons are about what was
    /// presented with a genuine artifact, or about the document's record.
    pub fn unproven(self) -> bool {
        matches!(
            self,
            Code::ReadError
                | Code::WrongFormat
                | Code::UnknownCertificate
                | Code::UntrustedCertificate
                | Code::InvalidDocumentType
                | Code::ExpiredCertificate
                | Code::RevokedCertificate
                | Code::InvalidSignature
                | Code::InvalidSealMrz
                | Code::DataGroupHashMismatch
                | Code::UnsupportedArtifact
        )
    }

    fn of_seal(code: SubIndication) -> Code {
        match code {
            SubIndication::ReadError => Code::ReadError,
            SubIndication::WrongFormat => Code::WrongFormat,
            SubIndication::UnknownFeature => Code::UnknownFeature,
            SubIndication::UnknownCertificate => Code::UnknownCertificate,
            SubIndication::UntrustedCertificate => Code::UntrustedCertificate,
            SubIndication::InvalidDocumentType => Code::InvalidDocumentType,
            SubIndication::ExpiredCertificate => Code::ExpiredCertificate,
            SubIndication::RevokedCertificate => Code::RevokedCertificate,
            SubIndication::InvalidSignature => Code::InvalidSignature,
            SubIndication::InvalidSealMrz => Code::InvalidSealMrz,
            SubIndication::InvalidPrintedMrz => Code::InvalidPrintedMrz,
            SubIndication::SealDocumentMismatch => Code::SealDocumentMismatch,
            SubIndication::DocumentHashMismatch => Code::DocumentHashMismatch,
            SubIndication::NotComparable => Code::NotComparable,
            // A sub-indication added to the seal crate and not mapped here yet: refuse.
            _ => Code::WrongFormat,
        }
    }

    /// The code of a failed Passive Authentication check (`travdoc_lds::pa` names its checks
    /// `sod.parse`, `sod.structure`, `sod.signed_attributes`, `sod.signature`,
    /// `dg.hash_algorithm`, `dg.N.hash`, `dg.unknown.hash`, `dsc.chain`, `dsc.validity`,
    /// `dsc.revocation`, `dsc.document_type`).
    fn of_pa_check(check: &travdoc_lds::pa::Check) -> Code {
        match check.name.as_str() {
            "sod.signature" if check.detail.starts_with("no Document Signer") => {
                Code::UnknownCertificate
            }
            "sod.signature" | "sod.signed_attributes" => Code::InvalidSignature,
            "dg.unknown.hash" => Code::WrongFormat,
            "dsc.chain" => Code::UntrustedCertificate,
            "dsc.validity" => Code::ExpiredCertificate,
            "dsc.revocation" if check.detail.starts_with("revoked") => Code::RevokedCertificate,
            "dsc.revocation" => Code::UntrustedCertificate,
            "dsc.document_type" => Code::InvalidDocumentType,
            name if name.starts_with("dg.") && name.ends_with(".hash") => {
                Code::DataGroupHashMismatch
            }
            _ => Code::WrongFormat,
        }
    }
}

impl std::fmt::Display for Code {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// One reason with a message a person can act on.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Reason {
    pub code: Code,
    pub severity: Severity,
    pub message: String,
}

impl Reason {
    pub fn new(code: Code, message: impl Into<String>) -> Self {
        Reason {
            code,
            severity: code.severity(),
            message: message.into(),
        }
    }
}

/// The verdict.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum Status {
    Valid,
    Invalid,
}

/// The document's status as the verification found it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum RecordStatus {
    Valid,
    Revoked,
    Used,
    Expired,
    /// No document was issued under the number.
    Unknown,
    /// The record was not consulted: the artifact is not proven genuine, or the verifier has
    /// no records (an offline check against a trust directory).
    NotChecked,
}

impl RecordStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            RecordStatus::Valid => "valid",
            RecordStatus::Revoked => "revoked",
            RecordStatus::Used => "used",
            RecordStatus::Expired => "expired",
            RecordStatus::Unknown => "unknown",
            RecordStatus::NotChecked => "not_checked",
        }
    }
}

impl From<DocumentStatus> for RecordStatus {
    fn from(status: DocumentStatus) -> Self {
        match status {
            DocumentStatus::Valid => RecordStatus::Valid,
            DocumentStatus::Revoked => RecordStatus::Revoked,
            DocumentStatus::Used => RecordStatus::Used,
            DocumentStatus::Expired => RecordStatus::Expired,
            DocumentStatus::Unknown => RecordStatus::Unknown,
        }
    }
}

/// One Passive Authentication check, as shown.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct CheckView {
    pub name: String,
    pub passed: bool,
    pub detail: String,
}

/// What the artifact says (as far as it could be read; proven only when the status is VALID).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct Data {
    /// The seal profile: `etd`, `legalization` or `unknown`; `sod` for an SOD.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub profile: Option<&'static str>,
    /// The MRZ of a TTD seal (TD2) or of DG1 (TD3).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub mrz: Option<[String; 2]>,
    /// The legalization certificate's fields.
    #[serde(flatten, skip_serializing_if = "Option::is_none")]
    pub legalization: Option<travdoc_seal::Legalization>,
    /// Whether a legalized document file was compared with the certificate.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub document_checked: Option<bool>,
    /// The signer certificate that was used.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub signer_certificate: Option<travdoc_seal::verify::SignerCertificateView>,
    /// Passive Authentication's checks, each with its outcome.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub checks: Vec<CheckView>,
    /// When the signer certificate is one of ours and revoked: when and why (the CRL says only
    /// that it is; the ICAO CRL profile carries no reason).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub revocation: Option<RevocationView>,
}

/// A revoked signer certificate of this issuer.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct RevocationView {
    /// The certificate's serial number, upper-case hex.
    pub serial_number: String,
    /// `YYYY-MM-DD` (UTC).
    pub date: String,
    /// `key-compromise`, `superseded`, ...
    pub reason: String,
}

/// The answer, as the API returns it and the page and the CLI show it.
#[derive(Debug, Clone)]
pub struct Outcome {
    /// `VALID` when no reason other than an informational one was found.
    pub status: Status,
    /// The reasons in the order found.
    pub reasons: Vec<Reason>,
    pub document_status: RecordStatus,
    /// The number the artifact names.
    pub document_number: Option<String>,
    /// `ttd`, `passport` or `legalization`.
    pub kind: Option<Kind>,
    pub data: Data,
    /// The ledger's inclusion proof of the document's issuance.
    pub ledger_proof: Option<serde_json::Value>,
}

/// The JSON of an outcome: `reasons` holds the codes alone (what a client compares), `details`
/// the same reasons with their trust level and message.
impl Serialize for Outcome {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        use serde::ser::SerializeStruct as _;
        let mut out = serializer.serialize_struct("Outcome", 8)?;
        out.serialize_field("status", &self.status)?;
        let codes: Vec<&str> = self.reasons.iter().map(|r| r.code.as_str()).collect();
        out.serialize_field("reasons", &codes)?;
        out.serialize_field("details", &self.reasons)?;
        out.serialize_field("document_status", &self.document_status)?;
        out.serialize_field("document_number", &self.document_number)?;
        out.serialize_field("kind", &self.kind.map(Kind::as_str))?;
        out.serialize_field("data", &self.data)?;
        out.serialize_field("ledger_proof", &self.ledger_proof)?;
        out.end()
    }
}

impl Outcome {
    pub fn is_valid(&self) -> bool {
        self.status == Status::Valid
    }

    /// The reason codes in order.
    pub fn codes(&self) -> Vec<Code> {
        self.reasons.iter().map(|reason| reason.code).collect()
    }

    /// Whether the artifact was proven genuine (no reason leaves it unproven).
    pub fn proven(&self) -> bool {
        !self.reasons.iter().any(|reason| reason.code.unproven())
    }

    fn empty() -> Self {
        Outcome {
            status: Status::Invalid,
            reasons: Vec::new(),
            document_status: RecordStatus::NotChecked,
            document_number: None,
            kind: None,
            data: Data::default(),
            ledger_proof: None,
        }
    }

    fn read_error(message: &str) -> Self {
        let mut outcome = Outcome::empty();
        outcome.push(Code::ReadError, message);
        outcome.settle()
    }

    fn push(&mut self, code: Code, message: impl Into<String>) {
        self.reasons.push(Reason::new(code, message));
    }

    fn settle(mut self) -> Self {
        self.status = if self
            .reasons
            .iter()
            .all(|reason| reason.code.severity() == Severity::Informational)
        {
            Status::Valid
        } else {
            Status::Invalid
        };
        self
    }
}

/// Decodes barcode images (rxing, through `travdoc-render`).
pub trait BarcodeDecoder: Send + Sync {
    /// The payload bytes of the first 2D code found in the image.
    fn decode(&self, image: &[u8]) -> Result<Vec<u8>, String>;
}

/// How strict Passive Authentication is beyond the defaults.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct SodPolicy {
    /// The MRZ document code the DSC's DocumentTypeList must cover (default: DG1's).
    pub document_code: Option<String>,
    /// Fail when no CRL of the DSC's issuer is held.
    pub require_crl: bool,
}

/// The trust material: CSCAs with their CRLs, and the seal signer certificates.
pub struct Verifier {
    trust: TrustStore,
    signers: Vec<Certificate>,
    /// The signers' subject, issuer and serial as shown, made once.
    signer_views: Vec<travdoc_seal::verify::SignerCertificateView>,
    barcode: Option<Box<dyn BarcodeDecoder>>,
    /// Our revoked signers by serial (upper-case hex, no leading zeros): reason and time.
    revocations: std::collections::HashMap<String, (String, u64)>,
}

impl std::fmt::Debug for Verifier {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Verifier")
            .field("cscas", &self.trust.len())
            .field("signers", &self.signers.len())
            .finish_non_exhaustive()
    }
}

/// Errors building a verifier.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum VerifierError {
    #[error("{what} certificate is not valid DER: {message}")]
    Certificate { what: &'static str, message: String },
}

impl Verifier {
    /// A verifier over a trust store and the seal signer certificates it may meet.
    pub fn new(trust: TrustStore, signers: Vec<Certificate>) -> Self {
        let signer_views = signers
            .iter()
            .map(travdoc_seal::verify::SignerCertificateView::of)
            .collect();
        Verifier {
            trust,
            signers,
            signer_views,
            barcode: None,
            revocations: std::collections::HashMap::new(),
        }
    }

    /// Our revoked signers: `(serial hex, reason, Unix time)`, named in the answer for a seal or
    /// SOD they signed.
    pub fn with_revocations(
        mut self,
        revocations: impl IntoIterator<Item = (String, String, u64)>,
    ) -> Self {
        self.revocations = revocations
            .into_iter()
            .map(|(serial, reason, at)| {
                (
                    crate::usecase::publication::serial_key(&serial),
                    (reason, at),
                )
            })
            .collect();
        self
    }

    /// Names the revocation of the signer behind a `REVOKED_CERTIFICATE` reason, when it is ours.
    fn name_revocation(&self, outcome: &mut Outcome, input: &VerifyInput) {
        if !outcome
            .reasons
            .iter()
            .any(|reason| reason.code == Code::RevokedCertificate)
        {
            return;
        }
        let serial = match &input.artifact {
            Artifact::Sod { sod, .. } => travdoc_lds::Sod::from_bytes(sod).ok().and_then(|sod| {
                sod.document_signer().ok().map(|certificate| {
                    hex::encode_upper(certificate.tbs_certificate().serial_number().as_bytes())
                })
            }),
            _ => outcome
                .data
                .signer_certificate
                .as_ref()
                .map(|view| view.serial_number.clone()),
        };
        let Some(serial) = serial else { return };
        let Some((reason, at)) = self
            .revocations
            .get(&crate::usecase::publication::serial_key(&serial))
        else {
            return;
        };
        let date = time::OffsetDateTime::from_unix_timestamp(i64::try_from(*at).unwrap_or(0))
            .map(|at| crate::issuance::input::date_text(at.date()))
            .unwrap_or_default();
        for entry in outcome
            .reasons
            .iter_mut()
            .filter(|reason| reason.code == Code::RevokedCertificate)
        {
            entry.message = format!(
                "{}; signer certificate {serial} revoked on {date} ({reason})",
                entry.message
            );
        }
        outcome.data.revocation = Some(RevocationView {
            serial_number: crate::usecase::publication::serial_key(&serial),
            date,
            reason: reason.clone(),
        });
    }

    /// A verifier trusting `cscas` (DER) with `crls` (DER; one that does not verify with a
    /// CSCA is left out and logged) and knowing the seal signers `signers` (DER).
    pub fn from_der(
        cscas: &[Vec<u8>],
        crls: &[Vec<u8>],
        signers: &[Vec<u8>],
    ) -> Result<Self, VerifierError> {
        let mut trust = TrustStore::new();
        for csca in cscas {
            trust
                .add_csca_der(csca)
                .map_err(|error| VerifierError::Certificate {
                    what: "CSCA",
                    message: error.to_string(),
                })?;
        }
        for crl in crls {
            if let Err(error) = trust.add_crl_der(crl) {
                tracing::warn!(%error, "CRL not added to the verifier");
            }
        }
        let signers = signers
            .iter()
            .map(|der| <Certificate as der::Decode>::from_der(der))
            .collect::<Result<Vec<_>, _>>()
            .map_err(|error| VerifierError::Certificate {
                what: "signer",
                message: error.to_string(),
            })?;
        Ok(Verifier::new(trust, signers))
    }

    pub fn with_barcode_decoder(mut self, decoder: Box<dyn BarcodeDecoder>) -> Self {
        self.barcode = Some(decoder);
        self
    }

    /// The cryptographic checks of `input` at `now_unix` (no record is consulted; the
    /// document status is `not_checked`). CPU-bound: call it off the async threads.
    pub fn check(&self, input: &VerifyInput, now_unix: u64) -> Outcome {
        let outcome = Outcome::empty();
        let outcome = match &input.artifact {
            Artifact::Seal(bytes) => self.seal(outcome, bytes, &input.presented, now_unix),
            Artifact::Qr(text) => match travdoc_seal::parse_qr_payload(text.trim()) {
                Ok(bytes) => self.seal(outcome, &bytes, &input.presented, now_unix),
                Err(error) => {
                    let mut outcome = outcome;
                    outcome.push(Code::ReadError, format!("the QR text: {error}"));
                    outcome
                }
            },
            Artifact::BarcodeImage(image) => {
                let mut outcome = outcome;
                match &self.barcode {
                    None => {
                        outcome.push(Code::UnsupportedArtifact, "no barcode reader is configured");
                        outcome
                    }
                    Some(decoder) => match decoder.decode(image) {
                        Ok(payload) => {
                            let bytes = seal_of_barcode(payload);
                            self.seal(outcome, &bytes, &input.presented, now_unix)
                        }
                        Err(error) => {
                            outcome.push(Code::ReadError, format!("the barcode image: {error}"));
                            outcome
                        }
                    },
                }
            }
            Artifact::Sod { sod, data_groups } => {
                self.sod(outcome, sod, data_groups, &input.sod_policy, now_unix)
            }
        };
        let mut outcome = outcome;
        self.name_revocation(&mut outcome, input);
        outcome.settle()
    }

    fn seal(
        &self,
        mut outcome: Outcome,
        bytes: &[u8],
        presented: &Presented,
        now_unix: u64,
    ) -> Outcome {
        let printed;
        let seal_presented = match presented {
            Presented::Nothing => travdoc_seal::Presented::Nothing,
            Presented::Document(bytes) => travdoc_seal::Presented::DocumentFile(bytes),
            Presented::PrintedMrz(lines) => {
                printed = [lines[0].as_str(), lines[1].as_str()];
                travdoc_seal::Presented::PrintedMrz(printed)
            }
        };
        let verifier = travdoc_seal::Verifier::new(&self.signers, &self.trust, now_unix)
            .with_signer_views(&self.signer_views);
        let result = verifier.verify(bytes, seal_presented);
        for reason in result.reasons {
            outcome.push(Code::of_seal(reason.code), reason.message);
        }
        if let Some(data) = result.data {
            match data.profile {
                "etd" => {
                    outcome.kind = Some(Kind::Ttd);
                    outcome.document_number = data.mrz.as_ref().and_then(|[_, line2]| {
                        line2
                            .get(0..9)
                            .map(|field| field.trim_end_matches('<').to_owned())
                            .filter(|number| !number.is_empty())
                    });
                }
                "legalization" => {
                    outcome.kind = Some(Kind::Legalization);
                    outcome.document_number = data
                        .legalization
                        .as_ref()
                        .map(|legalization| legalization.certificate_number().to_owned());
                    outcome.data.document_checked =
                        Some(matches!(presented, Presented::Document(_)));
                }
                _ => {}
            }
            outcome.data.profile = Some(data.profile);
            outcome.data.mrz = data.mrz;
            outcome.data.legalization = data.legalization;
            outcome.data.signer_certificate = data.signer_certificate;
        }
        outcome
    }

    fn sod(
        &self,
        mut outcome: Outcome,
        sod: &[u8],
        data_groups: &BTreeMap<u8, Vec<u8>>,
        policy: &SodPolicy,
        now_unix: u64,
    ) -> Outcome {
        // An EF.SOD (tag 77 around CMS around certificates) nests about a dozen levels: one
        // walk over its structure before any decoding bounds the nesting and the lengths.
        if !travdoc_pkix::der_within(sod, MAX_DER_DEPTH) {
            outcome.push(
                Code::WrongFormat,
                format!(
                    "the SOD is not DER nested at most {MAX_DER_DEPTH} levels with lengths that fit"
                ),
            );
            outcome.kind = Some(Kind::Passport);
            outcome.data.profile = Some("sod");
            return outcome;
        }
        let files: Vec<&[u8]> = data_groups.values().map(Vec::as_slice).collect();
        let options = travdoc_lds::PaOptions {
            at_unix_seconds: now_unix,
            document_code: policy.document_code.clone(),
            require_crl: policy.require_crl,
        };
        let report = travdoc_lds::passive_authentication(sod, &files, &self.trust, &options);
        for check in report.checks.iter().filter(|check| !check.passed) {
            outcome.push(
                Code::of_pa_check(check),
                format!("{}: {}", check.name, check.detail),
            );
        }
        outcome.kind = Some(Kind::Passport);
        outcome.data.profile = Some("sod");
        // The number is read from DG1 only when DG1's hash is the one the SOD holds.
        let dg1_matches = report.check("dg.1.hash").is_some_and(|check| check.passed);
        if let Some(dg1) = data_groups
            .get(&1)
            .and_then(|bytes| travdoc_lds::dg::Dg1::from_bytes(bytes).ok())
        {
            let line =
                |range: std::ops::Range<usize>| dg1.mrz.get(range).unwrap_or_default().to_owned();
            outcome.data.mrz = Some([line(0..44), line(44..88)]);
            if dg1_matches {
                outcome.document_number = dg1
                    .mrz
                    .get(44..53)
                    .map(|field| field.trim_end_matches('<').to_owned())
                    .filter(|number| !number.is_empty());
            }
        }
        outcome.data.checks = report
            .checks
            .into_iter()
            .map(|check| CheckView {
                name: check.name,
                passed: check.passed,
                detail: check.detail,
            })
            .collect();
        outcome
    }
}

/// A QR code carries URL text with the seal after `#`; a Data Matrix carries the seal bytes.
fn seal_of_barcode(payload: Vec<u8>) -> Vec<u8> {
    match std::str::from_utf8(&payload)
        .ok()
        .filter(|text| text.contains('#'))
        .map(|text| travdoc_seal::parse_qr_payload(text.trim()))
    {
        Some(Ok(seal)) => seal,
        _ => payload,
    }
}

/// A document's record, as verification needs it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DocumentRecord {
    pub kind: Option<Kind>,
    pub status: DocumentStatus,
    pub ledger_index: Option<u64>,
}

/// The records verification consults (the document store and the ledger).
pub trait DocumentRecords: Send + Sync {
    /// The record of the document issued under `number`, if any.
    fn lookup<'a>(
        &'a self,
        number: &'a str,
    ) -> BoxFuture<'a, Result<Option<DocumentRecord>, IssuanceError>>;
    /// The inclusion proof of ledger entry `index`, when one can be given.
    fn proof(&self, index: u64) -> BoxFuture<'_, Option<serde_json::Value>>;
}

/// Verification with the records: the use case every caller calls.
#[derive(Clone)]
pub struct Verification {
    /// The trust material in force (replaced when the PKI changes).
    verifier: crate::live::Live<Verifier>,
    records: Option<Arc<dyn DocumentRecords>>,
    /// Where the CPU-heavy checks run (barcode images, SODs), bounded.
    pool: Arc<WorkPool>,
}

/// A bounded place for CPU-heavy verification: at most `workers` checks run at once, each on a
/// blocking thread (never on the async threads), and at most `queue` wait; one more is refused
/// at once ([`IssuanceError::Busy`], 503 `busy` with `Retry-After`) instead of piling up memory
/// and latency for everyone.
#[derive(Debug)]
pub struct WorkPool {
    permits: tokio::sync::Semaphore,
    waiting: std::sync::atomic::AtomicUsize,
    queue: usize,
}

impl WorkPool {
    pub fn new(workers: usize, queue: usize) -> Self {
        WorkPool {
            permits: tokio::sync::Semaphore::new(workers.max(1)),
            waiting: std::sync::atomic::AtomicUsize::new(0),
            queue,
        }
    }

    /// One worker per core, and a queue of four per worker.
    pub fn for_this_machine() -> Self {
        let workers = std::thread::available_parallelism().map_or(2, |cores| cores.get());
        WorkPool::new(workers, workers * 4)
    }

    /// Runs `work` on a blocking thread once a worker is free; `None` when it panicked.
    async fn run<T: Send + 'static>(
        &self,
        work: impl FnOnce() -> T + Send + 'static,
    ) -> Result<Option<T>, IssuanceError> {
        use std::sync::atomic::Ordering;
        let permit = match self.permits.try_acquire() {
            Ok(permit) => permit,
            Err(_) => {
                if self.waiting.fetch_add(1, Ordering::AcqRel) >= self.queue {
                    self.waiting.fetch_sub(1, Ordering::AcqRel);
                    return Err(IssuanceError::Busy(
                        "verification is at capacity; retry in a moment".into(),
                    ));
                }
                let acquired = self.permits.acquire().await;
                self.waiting.fetch_sub(1, Ordering::AcqRel);
                acquired.map_err(|_| IssuanceError::Busy("verification is closing".into()))?
            }
        };
        let outcome = tokio::task::spawn_blocking(work).await.ok();
        drop(permit);
        Ok(outcome)
    }
}

impl std::fmt::Debug for Verification {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Verification")
            .field("verifier", &self.verifier)
            .field("records", &self.records.is_some())
            .finish()
    }
}

impl Verification {
    /// Verification against `verifier`'s trust material and, when given, the records.
    pub fn new(
        verifier: impl Into<crate::live::Live<Verifier>>,
        records: Option<Arc<dyn DocumentRecords>>,
    ) -> Self {
        Verification {
            verifier: verifier.into(),
            records,
            pool: Arc::new(WorkPool::for_this_machine()),
        }
    }

    /// The same with its own bounded pool for the CPU-heavy checks.
    pub fn with_pool(mut self, pool: WorkPool) -> Self {
        self.pool = Arc::new(pool);
        self
    }

    /// Verifies `input` at `now_unix`: the cryptographic checks (a barcode image is read on a
    /// blocking thread), then, for a proven artifact, the document's record and proof.
    pub async fn verify(
        &self,
        input: VerifyInput,
        now_unix: u64,
    ) -> Result<Outcome, IssuanceError> {
        // The trust in force when the request came, for the whole verification.
        let verifier = self.verifier.get();
        // Barcode images and SODs (certificate chains with any key the submitter chose) are
        // the costly checks: bounded, off the async threads. A seal is one signature check.
        let outcome = if matches!(
            input.artifact,
            Artifact::BarcodeImage(_) | Artifact::Sod { .. }
        ) {
            match self
                .pool
                .run(move || verifier.check(&input, now_unix))
                .await?
            {
                Some(outcome) => outcome,
                // The reader failed on this input (a panic in a decoder): unreadable input.
                None => Outcome::read_error("the artifact could not be read"),
            }
        } else {
            verifier.check(&input, now_unix)
        };
        self.with_record(outcome).await
    }

    async fn with_record(&self, mut outcome: Outcome) -> Result<Outcome, IssuanceError> {
        let Some(records) = &self.records else {
            return Ok(outcome);
        };
        if !outcome.proven() {
            return Ok(outcome);
        }
        let Some(number) = outcome.document_number.clone() else {
            outcome.document_status = RecordStatus::Unknown;
            outcome.push(
                Code::DocumentUnknown,
                "the artifact names no document number",
            );
            return Ok(outcome.settle());
        };
        let Some(record) = records.lookup(&number).await? else {
            outcome.document_status = RecordStatus::Unknown;
            outcome.push(
                Code::DocumentUnknown,
                format!("no document was issued under {number}"),
            );
            return Ok(outcome.settle());
        };
        if record.kind != outcome.kind {
            outcome.push(
                Code::DocumentKindMismatch,
                format!(
                    "{number} was issued as a {}, the artifact is a {}",
                    record
                        .kind
                        .map(Kind::as_str)
                        .unwrap_or("document of unknown kind"),
                    outcome
                        .kind
                        .map(Kind::as_str)
                        .unwrap_or("document of unknown kind"),
                ),
            );
        }
        outcome.document_status = record.status.into();
        match record.status {
            DocumentStatus::Valid => {}
            DocumentStatus::Revoked => {
                outcome.push(Code::DocumentRevoked, format!("{number} was revoked"))
            }
            DocumentStatus::Used => outcome.push(
                Code::DocumentUsed,
                format!("{number} was used: its holder was cleared on arrival"),
            ),
            DocumentStatus::Expired => {
                outcome.push(Code::DocumentExpired, format!("{number} has expired"))
            }
            DocumentStatus::Unknown => outcome.push(
                Code::DocumentUnknown,
                format!("the record of {number} has no readable validity"),
            ),
        }
        if let Some(index) = record.ledger_index {
            outcome.ledger_proof = records.proof(index).await;
        }
        Ok(outcome.settle())
    }
}

/// Invariants over arbitrary input, shared by the fuzz target (`fuzz/`) and the property test
/// that runs it on stable Rust in CI.
#[doc(hidden)]
pub mod fuzzing {
    use super::*;

    /// Verifies `data` as seal bytes, as QR text, as a barcode image and as an SOD (with
    /// itself as DG1), through the use case's entry point, against `verifier` (which should
    /// trust no key that signed `data`). Nothing may panic, nothing may verify, and no
    /// record may be consulted for an artifact that is not proven genuine.
    pub fn check_verification(verifier: &Verifier, data: &[u8]) -> Result<(), String> {
        let text = String::from_utf8_lossy(data).into_owned();
        let mut inputs = vec![
            VerifyInput::new(Artifact::Seal(data.to_vec()), Presented::Nothing),
            VerifyInput::new(Artifact::Qr(text), Presented::Nothing),
            VerifyInput::new(Artifact::BarcodeImage(data.to_vec()), Presented::Nothing),
            VerifyInput::new(
                Artifact::Seal(data.to_vec()),
                Presented::Document(data.to_vec()),
            ),
            VerifyInput::new(
                Artifact::Sod {
                    sod: data.to_vec(),
                    data_groups: BTreeMap::from([(1, data.to_vec())]),
                },
                Presented::Nothing,
            ),
        ];
        inputs.retain(Result::is_ok);
        for input in inputs.into_iter().flatten() {
            let outcome = verifier.check(&input, 1_800_000_000);
            if outcome.is_valid() {
                return Err(format!("{:?} verified", input.artifact()));
            }
            if outcome.document_status != RecordStatus::NotChecked {
                return Err("a record was consulted by the offline check".into());
            }
            if outcome.reasons.is_empty() {
                return Err("INVALID without a reason".into());
            }
            serde_json::to_string(&outcome).map_err(|error| error.to_string())?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn seal(bytes: &[u8]) -> VerifyInput {
        VerifyInput::new(Artifact::Seal(bytes.to_vec()), Presented::Nothing)
            .unwrap_or_else(|e| panic!("{e}"))
    }

    #[test]
    fn garbage_is_wrong_format_and_bad_qr_is_read_error() {
        let verifier = Verifier::new(TrustStore::new(), Vec::new());
        let result = verifier.check(&seal(&[1, 2, 3]), 0);
        assert_eq!(result.status, Status::Invalid);
        assert_eq!(result.codes(), vec![Code::WrongFormat]);
        let qr = VerifyInput::new(Artifact::Qr("https://x#***".into()), Presented::Nothing)
            .unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(verifier.check(&qr, 0).codes(), vec![Code::ReadError]);
        let image = VerifyInput::new(Artifact::BarcodeImage(vec![0x89, b'P']), Presented::Nothing)
            .unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(
            verifier.check(&image, 0).codes(),
            vec![Code::UnsupportedArtifact]
        );
    }

    #[test]
    fn limits_name_the_field() {
        let big = vec![0xDC; MAX_ARTIFACT_BYTES + 1];
        let refused = VerifyInput::new(Artifact::Seal(big), Presented::Nothing).err();
        assert_eq!(refused.map(|e| e.field), Some("seal".to_owned()));
        let no_dg1 = VerifyInput::new(
            Artifact::Sod {
                sod: vec![0x77],
                data_groups: BTreeMap::from([(2, vec![0x75])]),
            },
            Presented::Nothing,
        )
        .err();
        assert_eq!(no_dg1.map(|e| e.field), Some("data_groups".to_owned()));
        let dg17 = VerifyInput::new(
            Artifact::Sod {
                sod: vec![0x77],
                data_groups: BTreeMap::from([(1, vec![0x61]), (17, vec![0x61])]),
            },
            Presented::Nothing,
        )
        .err();
        assert_eq!(dg17.map(|e| e.field), Some("data_groups.17".to_owned()));
        let document_with_sod = VerifyInput::new(
            Artifact::Sod {
                sod: vec![0x77],
                data_groups: BTreeMap::from([(1, vec![0x61])]),
            },
            Presented::Document(vec![1]),
        )
        .err();
        assert_eq!(
            document_with_sod.map(|e| e.field),
            Some("document".to_owned())
        );
        let empty_qr = VerifyInput::new(Artifact::Qr("  ".into()), Presented::Nothing).err();
        assert_eq!(empty_qr.map(|e| e.field), Some("qr".to_owned()));
    }

    #[test]
    fn every_code_is_listed_once_with_its_name() {
        let mut seen = std::collections::BTreeSet::new();
        for code in Code::ALL {
            assert!(seen.insert(code.as_str()), "{code} twice");
            let json = serde_json::to_value(code).unwrap_or_default();
            assert_eq!(json, code.as_str());
        }
        // The three mismatches a verifier must tell apart are three codes.
        let distinct: std::collections::BTreeSet<&str> = [
            Code::DocumentHashMismatch,
            Code::DocumentKindMismatch,
            Code::SealDocumentMismatch,
        ]
        .iter()
        .map(|code| code.as_str())
        .collect();
        assert_eq!(distinct.len(), 3);
    }

    #[test]
    fn an_unproven_seal_reveals_no_record() {
        struct Records;
        impl DocumentRecords for Records {
            fn lookup<'a>(
                &'a self,
                _number: &'a str,
            ) -> BoxFuture<'a, Result<Option<DocumentRecord>, IssuanceError>> {
                Box::pin(async {
                    Ok(Some(DocumentRecord {
                        kind: Some(Kind::Ttd),
                        status: DocumentStatus::Revoked,
                        ledger_index: Some(0),
                    }))
                })
            }
            fn proof(&self, _index: u64) -> BoxFuture<'_, Option<serde_json::Value>> {
                Box::pin(async { Some(serde_json::json!({"proof": true})) })
            }
        }
        // The ICAO ETD example seal, verified without its signer certificate: it names
        // D23145890, but nothing proves it, so its record is not consulted.
        let bytes = hex::decode(concat!(
            "dc03d9c5d9cac8a73a995d913a7d9c575e030230bab3d2b3c549cd1da93c5bd458135c6f57fc133c",
            "133c133c6b38208a4d0d4a32b0c11ae6268427153f7c453c133c1345ff4039034e85da183c1cc0d3",
            "ac16732d7ee2c20d7aef7b381c0ae509f10a97890d511c3c47b94807a4d0f67ce9083a7f206f04fb",
            "35afdb8ab9658a93327a4e0ee6ed"
        ))
        .unwrap_or_default();
        let verification = Verification::new(
            Verifier::new(TrustStore::new(), Vec::new()),
            Some(Arc::new(Records)),
        );
        let runtime = tokio::runtime::Builder::new_current_thread()
            .build()
            .unwrap_or_else(|e| panic!("{e}"));
        let outcome = runtime
            .block_on(verification.verify(seal(&bytes), 0))
            .unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(outcome.document_number.as_deref(), Some("D23145890"));
        assert_eq!(outcome.codes(), vec![Code::UnknownCertificate]);
        assert_eq!(outcome.document_status, RecordStatus::NotChecked);
        assert!(outcome.ledger_proof.is_none());
    }

    /// A genuine seal whose number our records hold as another kind of document (a TTD's
    /// seal naming a passport's number): `DOCUMENT_KIND_MISMATCH`, never `VALID`, and the
    /// record's status is still reported.
    #[test]
    fn a_genuine_seal_naming_a_number_of_another_kind_is_a_kind_mismatch() {
        use travdoc_pkix::der::Decode as _;
        struct Records;
        impl DocumentRecords for Records {
            fn lookup<'a>(
                &'a self,
                number: &'a str,
            ) -> BoxFuture<'a, Result<Option<DocumentRecord>, IssuanceError>> {
                let found = (number == "D23145890").then_some(DocumentRecord {
                    kind: Some(Kind::Passport),
                    status: DocumentStatus::Valid,
                    ledger_index: None,
                });
                Box::pin(async move { Ok(found) })
            }
            fn proof(&self, _index: u64) -> BoxFuture<'_, Option<serde_json::Value>> {
                Box::pin(async { None })
            }
        }
        // The ICAO example's signer certificate is self-signed: its own anchor here.
        let der = std::fs::read(format!(
            "{}/../shared/vectors/vds/sealgen_UTTS5B.crt",
            env!("CARGO_MANIFEST_DIR")
        ))
        .unwrap_or_else(|error| panic!("{error}"));
        let certificate = travdoc_pkix::x509_cert::Certificate::from_der(&der)
            .unwrap_or_else(|error| panic!("{error}"));
        let mut trust = TrustStore::new();
        trust.add_csca(certificate.clone());
        let verification = Verification::new(
            Verifier::new(trust, vec![certificate]),
            Some(Arc::new(Records)),
        );
        let bytes = hex::decode(ICAO_ETD_SEAL).unwrap_or_default();
        let runtime = tokio::runtime::Builder::new_current_thread()
            .build()
            .unwrap_or_else(|e| panic!("{e}"));
        // 2026-06-13, the seal's issue date.
        let outcome = runtime
            .block_on(verification.verify(seal(&bytes), 1_781_308_800))
            .unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(outcome.document_number.as_deref(), Some("D23145890"));
        assert_eq!(
            outcome.codes(),
            vec![Code::DocumentKindMismatch],
            "{outcome:?}"
        );
        assert_ne!(outcome.status, Status::Valid);
        assert_eq!(outcome.document_status, RecordStatus::Valid);
    }

    /// The ICAO 9303-8 App. B ETD seal.
    const ICAO_ETD_SEAL: &str = concat!(
        "dc03d9c5d9cac8a73a995d913a7d9c575e030230bab3d2b3c549cd1da93c5bd458135c6f57fc133c",
        "133c133c6b38208a4d0d4a32b0c11ae6268427153f7c453c133c1345ff4039034e85da183c1cc0d3",
        "ac16732d7ee2c20d7aef7b381c0ae509f10a97890d511c3c47b94807a4d0f67ce9083a7f206f04fb",
        "35afdb8ab9658a93327a4e0ee6ed"
    );

    fn vector_sod() -> Vec<u8> {
        let path = format!(
            "{}/../shared/vectors/sod/bsi_tr03105_5/EF_SOD.bin",
            env!("CARGO_MANIFEST_DIR")
        );
        std::fs::read(&path).unwrap_or_else(|error| panic!("{path}: {error}"))
    }

    fn fuzz_verifier() -> Verifier {
        Verifier::new(TrustStore::new(), Vec::new()).with_barcode_decoder(
            crate::compose::barcode_decoder(travdoc_render::DEFAULT_MAX_PIXELS),
        )
    }

    /// A Data Matrix PNG of the ICAO seal: real image bytes to damage.
    fn seal_png() -> Vec<u8> {
        let seal = hex::decode(ICAO_ETD_SEAL).unwrap_or_default();
        travdoc_render::barcode::encode_datamatrix(&seal)
            .ok()
            .and_then(|matrix| travdoc_render::barcode::to_png(&matrix, 150, 4).ok())
            .unwrap_or_default()
    }

    fn damaged(
        mut bytes: Vec<u8>,
        flips: Vec<(proptest::sample::Index, u8)>,
        cut: Option<proptest::sample::Index>,
    ) -> Vec<u8> {
        for (index, mask) in flips {
            if bytes.is_empty() {
                break;
            }
            let at = index.index(bytes.len());
            bytes[at] ^= mask;
        }
        if let Some(cut) = cut
            && !bytes.is_empty()
        {
            bytes.truncate(cut.index(bytes.len()));
        }
        bytes
    }

    #[test]
    fn the_vectors_pass_the_fuzz_check() {
        let verifier = fuzz_verifier();
        for data in [
            hex::decode(ICAO_ETD_SEAL).unwrap_or_default(),
            vector_sod(),
            seal_png(),
        ] {
            assert!(!data.is_empty());
            assert_eq!(fuzzing::check_verification(&verifier, &data), Ok(()));
        }
    }

    proptest::proptest! {
        #![proptest_config(proptest::prelude::ProptestConfig::with_cases(64))]

        #[test]
        fn damaged_seals_and_sods_never_verify(
            which in 0..2usize,
            flips in proptest::collection::vec((proptest::prelude::any::<proptest::sample::Index>(), 1..=255u8), 0..4),
            cut in proptest::option::of(proptest::prelude::any::<proptest::sample::Index>()),
        ) {
            let original = if which == 0 { hex::decode(ICAO_ETD_SEAL).unwrap_or_default() } else { vector_sod() };
            let data = damaged(original, flips, cut);
            proptest::prop_assert_eq!(fuzzing::check_verification(&fuzz_verifier(), &data), Ok(()));
        }

        #[test]
        fn arbitrary_bytes_never_verify(data in proptest::collection::vec(proptest::prelude::any::<u8>(), 0..600)) {
            proptest::prop_assert_eq!(fuzzing::check_verification(&fuzz_verifier(), &data), Ok(()));
        }
    }

    proptest::proptest! {
        // Each case reads a barcode image (rxing in its thorough mode): fewer cases.
        #![proptest_config(proptest::prelude::ProptestConfig::with_cases(16))]

        #[test]
        fn damaged_barcode_images(
            flips in proptest::collection::vec((proptest::prelude::any::<proptest::sample::Index>(), 1..=255u8), 0..3),
            cut in proptest::option::of(proptest::prelude::any::<proptest::sample::Index>()),
        ) {
            let data = damaged(seal_png(), flips, cut);
            proptest::prop_assert_eq!(travdoc_render::barcode::fuzzing::check_barcode_image(&data), Ok(()));
            proptest::prop_assert_eq!(fuzzing::check_verification(&fuzz_verifier(), &data), Ok(()));
        }
    }
}
