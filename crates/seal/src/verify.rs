//! Verification of seals with the statuses of ICAO 9303-13 Appendix D (and 9303-8 Appendix A for
//! ETDs).
//!
//! Order of checks: decode (`READ_ERROR`, `WRONG_FORMAT`) → find the signer certificate by signer
//! identifier (subject `C` + `CN`) and certificate reference (serial number) among the signer
//! certificates given (`UNKNOWN_CERTIFICATE`) → signature over header and message zone with the
//! hash of the key's curve (`INVALID_SIGNATURE`) → chain to a CSCA of the trust store
//! (`UNTRUSTED_CERTIFICATE`, `EXPIRED_CERTIFICATE`, `REVOKED_CERTIFICATE`) → the certificate's
//! DocumentType extension against the MRZ document code (`INVALID_DOCUMENTTYPE`) → the profile
//! (ETD: `INVALID_SEAL_MRZ`, `INVALID_PRINTED_MRZ`, `SEAL_DOCUMENT_MISMATCH`; legalization:
//! `DOCUMENT_HASH_MISMATCH`) → `UNKNOWN_FEATURE` for features the profile does not define, which
//! is informational only. The status is `VALID` when no reason other than `UNKNOWN_FEATURE` was
//! found.
//!
//! A signer certificate that is itself one of the trust store's CSCAs is a trust anchor: it is
//! trusted by configuration (RFC 5280 §6.1), its own signature is not checked, its validity period
//! and the CRLs it issued still are.

use serde::Serialize;
use travdoc_pkix::cert::{ValidityStatus, document_type_list, validity_at};
use travdoc_pkix::key::ec_curve;
use travdoc_pkix::trust::{ChainError, RevocationStatus, TrustStore};
use travdoc_pkix::x509_cert::Certificate;

use crate::error::SealError;
use crate::etd::{self, EtdMrz};
use crate::header::{Header, SignerReference};
use crate::legalization::{self, Legalization};
use crate::seal::{Seal, decode_with_signed_len};

/// Overall verdict.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum Status {
    Valid,
    Invalid,
}

/// Sub-indications (ICAO 9303-13 App. D, 9303-8 App. A, and travdoc's legalization profile).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
#[non_exhaustive]
pub enum SubIndication {
    /// The barcode text or bytes could not be read at all.
    ReadError,
    /// The bytes do not follow the seal format or the profile.
    WrongFormat,
    /// A feature the profile does not define (informational; the seal stays valid).
    UnknownFeature,
    /// No signer certificate matches the signer identifier and certificate reference.
    UnknownCertificate,
    /// The signer certificate does not chain to a trusted CSCA.
    UntrustedCertificate,
    /// The signer certificate's DocumentType extension does not list the document code.
    #[serde(rename = "INVALID_DOCUMENTTYPE")]
    InvalidDocumentType,
    /// The signer certificate is expired (or not yet valid) at the verification time.
    ExpiredCertificate,
    /// The signer certificate is on its CSCA's CRL.
    RevokedCertificate,
    /// The signature does not verify.
    InvalidSignature,
    /// ETD: the check digits of the MRZ in the seal are wrong.
    InvalidSealMrz,
    /// ETD: the check digits of the printed MRZ are wrong.
    InvalidPrintedMrz,
    /// ETD: the printed MRZ differs from the seal's MRZ.
    SealDocumentMismatch,
    /// Legalization: the presented document's SHA-256 differs from the one in the seal.
    DocumentHashMismatch,
    /// What was presented with the seal cannot be compared with its profile: a document file
    /// with an ETD seal, printed MRZ lines with a legalization seal, anything with a seal of an
    /// unknown profile. The seal is not shown to belong to what was presented.
    NotComparable,
}

/// How much a reason weighs (ICAO 9303-13 App. D trust levels).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Severity {
    /// Does not affect the verdict.
    Informational,
    /// Medium fraud potential (read errors, expired certificates).
    Medium,
    /// High fraud potential.
    High,
}

impl SubIndication {
    /// The App. D trust level of this sub-indication.
    pub const fn severity(self) -> Severity {
        match self {
            Self::UnknownFeature => Severity::Informational,
            Self::ReadError | Self::ExpiredCertificate => Severity::Medium,
            _ => Severity::High,
        }
    }
}

/// One reason with a message a person can act on.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Reason {
    pub code: SubIndication,
    pub severity: Severity,
    pub message: String,
}

/// A feature as shown to a verifier.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct FeatureView {
    pub tag: u8,
    /// Name in the seal's profile, `None` when the profile does not define the tag.
    pub name: Option<&'static str>,
    /// Raw value in hexadecimal.
    pub value: String,
}

/// The signer certificate that was used.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct SignerCertificateView {
    pub subject: String,
    pub issuer: String,
    /// Serial number in upper-case hexadecimal.
    pub serial_number: String,
}

impl SignerCertificateView {
    /// The view of `certificate`. Writing the names out looks every attribute type up in the
    /// OID database: a verifier that meets the same signers again should make these once
    /// ([`Verifier::with_signer_views`]).
    pub fn of(certificate: &Certificate) -> Self {
        SignerCertificateView {
            subject: describe_name(certificate.tbs_certificate().subject()),
            issuer: describe_name(certificate.tbs_certificate().issuer()),
            serial_number: hex::encode_upper(
                certificate.tbs_certificate().serial_number().as_bytes(),
            ),
        }
    }
}

/// What the seal says (filled as far as decoding got).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct SealData {
    pub header: Header,
    pub features: Vec<FeatureView>,
    /// `etd`, `legalization` or `unknown`.
    pub profile: &'static str,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub mrz: Option<[String; 2]>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub legalization: Option<Legalization>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub signer_certificate: Option<SignerCertificateView>,
}

/// The verifier's answer: `{status, reasons: [...], data}` (serde-serialisable for the API).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct VerificationResult {
    pub status: Status,
    pub reasons: Vec<Reason>,
    pub data: Option<SealData>,
}

impl VerificationResult {
    /// Whether the status is `VALID`.
    pub fn is_valid(&self) -> bool {
        self.status == Status::Valid
    }
    /// Whether `code` is among the reasons.
    pub fn has(&self, code: SubIndication) -> bool {
        self.reasons.iter().any(|reason| reason.code == code)
    }
    /// The codes of all reasons, in order.
    pub fn codes(&self) -> Vec<SubIndication> {
        self.reasons.iter().map(|reason| reason.code).collect()
    }
}

/// What the verifier holds of the document the seal is printed on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Presented<'a> {
    /// Nothing: only the seal is checked.
    Nothing,
    /// ETD: the two printed MRZ lines (as read; spaces and `<` are treated alike).
    PrintedMrz([&'a str; 2]),
    /// Legalization: the bytes of the presented document file.
    DocumentFile(&'a [u8]),
    /// Legalization: the SHA-256 of the presented document file.
    DocumentSha256([u8; 32]),
}

/// Verifies seals against a set of signer certificates and a CSCA trust store at a given time.
#[derive(Debug, Clone, Copy)]
pub struct Verifier<'a> {
    signer_certificates: &'a [Certificate],
    /// Views of `signer_certificates`, index for index, when the caller made them beforehand.
    signer_views: Option<&'a [SignerCertificateView]>,
    trust_store: &'a TrustStore,
    at_unix_seconds: u64,
}

struct Collector {
    reasons: Vec<Reason>,
}

impl Collector {
    fn push(&mut self, code: SubIndication, message: impl Into<String>) {
        self.reasons.push(Reason {
            code,
            severity: code.severity(),
            message: message.into(),
        });
    }
}

fn decode_error_code(error: &SealError) -> SubIndication {
    match error {
        SealError::QrPayload { .. } => SubIndication::ReadError,
        _ => SubIndication::WrongFormat,
    }
}

fn describe_name(name: &travdoc_pkix::x509_cert::name::Name) -> String {
    name.to_string()
}

/// Whether `certificate` is the one `signer` names: subject `C` and `CN` equal to the signer
/// identifier's halves, and serial number equal to the certificate reference.
pub fn certificate_matches(certificate: &Certificate, signer: &SignerReference) -> bool {
    let subject = certificate.tbs_certificate().subject();
    let country_matches = matches!(subject.country(), Ok(Some(country)) if country.as_str() == signer.signer_country());
    let common_name_matches = matches!(subject.common_name(), Ok(Some(name)) if name.value() == signer.signer_common_name());
    let serial = certificate.tbs_certificate().serial_number().as_bytes();
    let start = serial.iter().position(|b| *b != 0).unwrap_or(serial.len());
    country_matches
        && common_name_matches
        && signer.serial_number().as_deref() == Some(&serial[start..])
}

impl<'a> Verifier<'a> {
    /// A verifier that looks up signer certificates in `signer_certificates`, chains them to
    /// `trust_store`, and judges validity periods at `at_unix_seconds` (no clock is read).
    pub fn new(
        signer_certificates: &'a [Certificate],
        trust_store: &'a TrustStore,
        at_unix_seconds: u64,
    ) -> Self {
        Self {
            signer_certificates,
            signer_views: None,
            trust_store,
            at_unix_seconds,
        }
    }

    /// Uses `views` (made with [`SignerCertificateView::of`], one per signer certificate, in
    /// the same order) instead of writing a certificate's names out at every verification.
    /// Views of another length are ignored.
    pub fn with_signer_views(mut self, views: &'a [SignerCertificateView]) -> Self {
        if views.len() == self.signer_certificates.len() {
            self.signer_views = Some(views);
        }
        self
    }

    /// Verifies the text of a QR code ([`crate::qr`] format); an unreadable text is `READ_ERROR`.
    pub fn verify_qr(&self, text: &str, presented: Presented<'_>) -> VerificationResult {
        match crate::qr::parse_qr_payload(text) {
            Ok(bytes) => self.verify(&bytes, presented),
            Err(error) => finish(
                Collector {
                    reasons: Vec::new(),
                },
                None,
                Some(error),
            ),
        }
    }

    /// Verifies seal bytes, comparing with `presented` when given.
    pub fn verify(&self, bytes: &[u8], presented: Presented<'_>) -> VerificationResult {
        if bytes.is_empty() {
            return finish(
                Collector {
                    reasons: Vec::new(),
                },
                None,
                Some(SealError::Truncated { field: "magic" }),
            );
        }
        let (seal, signed_len) = match decode_with_signed_len(bytes) {
            Ok(decoded) => decoded,
            Err(error) => {
                return finish(
                    Collector {
                        reasons: Vec::new(),
                    },
                    None,
                    Some(error),
                );
            }
        };
        let mut reasons = Collector {
            reasons: Vec::new(),
        };
        let mut data = seal_data(&seal);

        let signer = seal.header().signer();
        let Some((index, certificate)) = self
            .signer_certificates
            .iter()
            .enumerate()
            .find(|(_, cert)| certificate_matches(cert, signer))
        else {
            reasons.push(
                SubIndication::UnknownCertificate,
                format!(
                    "no signer certificate with subject C={} CN={} and serial number {}",
                    signer.signer_country(),
                    signer.signer_common_name(),
                    signer.certificate_reference()
                ),
            );
            self.check_profile(&seal, &mut data, presented, &mut reasons, None);
            return finish(reasons, Some(data), None);
        };
        data.signer_certificate = Some(
            self.signer_views
                .and_then(|views| views.get(index))
                .cloned()
                .unwrap_or_else(|| SignerCertificateView::of(certificate)),
        );

        check_signature(
            certificate,
            &bytes[..signed_len],
            seal.signature(),
            &mut reasons,
        );
        self.check_chain(certificate, &mut reasons);
        self.check_profile(&seal, &mut data, presented, &mut reasons, Some(certificate));
        finish(reasons, Some(data), None)
    }

    fn check_chain(&self, certificate: &Certificate, reasons: &mut Collector) {
        let anchor = self.trust_store.cscas().contains(certificate);
        let issuer = if anchor {
            certificate
        } else {
            match self.trust_store.find_issuer(certificate) {
                Ok(issuer) => issuer,
                Err(ChainError::BadSignature) => {
                    reasons.push(
                        SubIndication::UntrustedCertificate,
                        "the signer certificate's signature does not verify with the CSCA that names it",
                    );
                    return;
                }
                Err(error) => {
                    reasons.push(
                        SubIndication::UntrustedCertificate,
                        format!("the signer certificate does not chain to a trusted CSCA: {error}"),
                    );
                    return;
                }
            }
        };
        match validity_at(certificate, self.at_unix_seconds) {
            ValidityStatus::Valid => {}
            ValidityStatus::Expired { not_after } => reasons.push(
                SubIndication::ExpiredCertificate,
                format!("the signer certificate expired (notAfter {not_after} Unix seconds)"),
            ),
            ValidityStatus::NotYetValid { not_before } => reasons.push(
                SubIndication::ExpiredCertificate,
                format!(
                    "the signer certificate is not yet valid (notBefore {not_before} Unix seconds)"
                ),
            ),
            _ => reasons.push(
                SubIndication::ExpiredCertificate,
                "the signer certificate is not valid now",
            ),
        }
        if let RevocationStatus::Revoked { revocation_date } =
            self.trust_store.revocation_status(certificate, issuer)
        {
            reasons.push(
                SubIndication::RevokedCertificate,
                format!("the signer certificate was revoked at {revocation_date} Unix seconds"),
            );
        }
    }

    fn check_profile(
        &self,
        seal: &Seal,
        data: &mut SealData,
        presented: Presented<'_>,
        reasons: &mut Collector,
        certificate: Option<&Certificate>,
    ) {
        let header = seal.header();
        if etd::is_etd(header) {
            check_etd(seal, data, presented, reasons, certificate);
        } else if legalization::is_legalization(header) {
            check_legalization(seal, data, presented, reasons);
        } else {
            reasons.push(
                SubIndication::UnknownFeature,
                format!(
                    "unknown profile (feature definition reference {:#04x}, category {:#04x}): features not interpreted",
                    header.feature_definition_reference(),
                    header.document_type_category()
                ),
            );
            if presented != Presented::Nothing {
                reasons.push(
                    SubIndication::NotComparable,
                    "the presented document cannot be compared with a seal of an unknown profile",
                );
            }
        }
    }
}

fn check_signature(
    certificate: &Certificate,
    signed_data: &[u8],
    signature: &[u8],
    reasons: &mut Collector,
) {
    let spki = certificate.tbs_certificate().subject_public_key_info();
    let curve = match ec_curve(spki) {
        Ok(curve) => curve,
        Err(error) => {
            reasons.push(
                SubIndication::InvalidSignature,
                format!("the signer key is not a supported EC key: {error}"),
            );
            return;
        }
    };
    if signature.len() != 2 * curve.field_len() {
        reasons.push(
            SubIndication::InvalidSignature,
            format!(
                "signature is {} bytes, the signer's curve needs {}",
                signature.len(),
                2 * curve.field_len()
            ),
        );
        return;
    }
    if let Err(error) =
        travdoc_pkix::verify_ecdsa_raw(spki, curve.default_hash(), signed_data, signature)
    {
        reasons.push(
            SubIndication::InvalidSignature,
            format!("the seal signature does not verify: {error}"),
        );
    }
}

fn check_etd(
    seal: &Seal,
    data: &mut SealData,
    presented: Presented<'_>,
    reasons: &mut Collector,
    certificate: Option<&Certificate>,
) {
    let mrz = match etd::mrz(seal) {
        Ok(mrz) => mrz,
        Err(error) => {
            reasons.push(SubIndication::WrongFormat, error.to_string());
            return;
        }
    };
    let [line1, line2] = mrz.lines();
    data.mrz = Some([line1.to_owned(), line2.to_owned()]);
    for feature in seal
        .features()
        .iter()
        .filter(|feature| feature.tag() != etd::MRZ_TAG)
    {
        reasons.push(
            SubIndication::UnknownFeature,
            format!(
                "feature {:#04x} is not defined by the ETD profile",
                feature.tag()
            ),
        );
    }
    if let Some(problem) = mrz_check_digit_problem(&mrz.lines()) {
        reasons.push(
            SubIndication::InvalidSealMrz,
            format!("MRZ in the seal: {problem}"),
        );
    }
    if let Some(certificate) = certificate {
        let code = line1.get(..2).unwrap_or_default();
        match document_type_list(certificate) {
            Ok(Some(list)) if !list.covers(code) => reasons.push(
                SubIndication::InvalidDocumentType,
                format!(
                    "the signer certificate may sign {:?}, not document code {code:?}",
                    list.codes()
                ),
            ),
            Ok(_) => {}
            Err(error) => reasons.push(
                SubIndication::InvalidDocumentType,
                format!("the signer certificate's DocumentType extension is unreadable: {error}"),
            ),
        }
    }
    match presented {
        Presented::Nothing => {}
        Presented::PrintedMrz(printed) => {
            // OCR may return spaces for fillers; the check digits are computed over fillers.
            let normalised =
                printed.map(|line| line.trim_end_matches(['\r', '\n']).replace(' ', "<"));
            if let Some(problem) = mrz_check_digit_problem(&[&normalised[0], &normalised[1]]) {
                reasons.push(
                    SubIndication::InvalidPrintedMrz,
                    format!("printed MRZ: {problem}"),
                );
            }
            let mismatches = mrz.mismatches(printed);
            if !mismatches.is_empty() {
                let positions: Vec<String> = mismatches
                    .iter()
                    .take(10)
                    .map(|p| {
                        format!(
                            "line {} position {}",
                            p / etd::LINE_LEN + 1,
                            p % etd::LINE_LEN + 1
                        )
                    })
                    .collect();
                reasons.push(
                    SubIndication::SealDocumentMismatch,
                    format!(
                        "the printed MRZ differs from the seal's MRZ at {} position(s): {}",
                        mismatches.len(),
                        positions.join(", ")
                    ),
                );
            }
        }
        Presented::DocumentFile(_) | Presented::DocumentSha256(_) => reasons.push(
            SubIndication::NotComparable,
            "an ETD seal is compared with the printed MRZ, not with a document hash",
        ),
    }
}

/// Describes failed check digits (or an unparsable MRZ), `None` when all pass.
fn mrz_check_digit_problem(lines: &[&str; 2]) -> Option<String> {
    match travdoc_mrz::parse(&format!("{}\n{}", lines[0], lines[1])) {
        Err(error) => Some(format!("cannot be parsed: {error}")),
        Ok(parsed) => {
            let failed: Vec<String> = parsed
                .failed_checks()
                .map(|check| {
                    format!(
                        "{} check digit is {:?}, expected {:?}",
                        check.kind, check.found, check.expected
                    )
                })
                .collect();
            if failed.is_empty() {
                None
            } else {
                Some(failed.join("; "))
            }
        }
    }
}

fn check_legalization(
    seal: &Seal,
    data: &mut SealData,
    presented: Presented<'_>,
    reasons: &mut Collector,
) {
    let legalization = match Legalization::from_seal(seal) {
        Ok(legalization) => legalization,
        Err(error) => {
            reasons.push(SubIndication::WrongFormat, error.to_string());
            return;
        }
    };
    for feature in seal
        .features()
        .iter()
        .filter(|feature| legalization::feature_name(feature.tag()).is_none())
    {
        reasons.push(
            SubIndication::UnknownFeature,
            format!(
                "feature {:#04x} is not defined by the legalization profile",
                feature.tag()
            ),
        );
    }
    let presented_hash = match presented {
        Presented::Nothing => None,
        Presented::DocumentFile(bytes) => {
            use sha2::Digest;
            Some(<[u8; 32]>::from(sha2::Sha256::digest(bytes)))
        }
        Presented::DocumentSha256(hash) => Some(hash),
        Presented::PrintedMrz(_) => {
            reasons.push(
                SubIndication::NotComparable,
                "a legalization seal is compared with the legalized document file, not with an MRZ",
            );
            None
        }
    };
    if let Some(hash) = presented_hash
        && hash != *legalization.document_sha256()
    {
        reasons.push(
            SubIndication::DocumentHashMismatch,
            format!(
                "the presented document (SHA-256 {}) is not the legalized document (SHA-256 {}) of certificate {}",
                hex::encode(hash),
                hex::encode(legalization.document_sha256()),
                legalization.certificate_number()
            ),
        );
    }
    data.legalization = Some(legalization);
}

fn seal_data(seal: &Seal) -> SealData {
    let header = seal.header();
    let (profile, name_of): (&'static str, fn(u8) -> Option<&'static str>) = if etd::is_etd(header)
    {
        ("etd", |tag| (tag == etd::MRZ_TAG).then_some("MRZ"))
    } else if legalization::is_legalization(header) {
        ("legalization", legalization::feature_name)
    } else {
        ("unknown", |_| None)
    };
    SealData {
        header: header.clone(),
        features: seal
            .features()
            .iter()
            .map(|feature| FeatureView {
                tag: feature.tag(),
                name: name_of(feature.tag()),
                value: hex::encode(feature.value()),
            })
            .collect(),
        profile,
        mrz: None,
        legalization: None,
        signer_certificate: None,
    }
}

fn finish(
    mut reasons: Collector,
    data: Option<SealData>,
    decode_error: Option<SealError>,
) -> VerificationResult {
    if let Some(error) = decode_error {
        reasons.push(decode_error_code(&error), error.to_string());
    }
    let valid = reasons
        .reasons
        .iter()
        .all(|reason| reason.code == SubIndication::UnknownFeature);
    VerificationResult {
        status: if valid {
            Status::Valid
        } else {
            Status::Invalid
        },
        reasons: reasons.reasons,
        data,
    }
}

/// What a seal says, without any cryptographic check: header, features with their names in the
/// seal's profile, and the profile's fields when they decode (for display, e.g. `travdoc seal
/// decode`). Never treat this as verified.
pub fn describe(seal: &Seal) -> SealData {
    let mut data = seal_data(seal);
    if etd::is_etd(seal.header()) {
        data.mrz = etd::mrz(seal).ok().map(|mrz: EtdMrz| {
            let [line1, line2] = mrz.lines();
            [line1.to_owned(), line2.to_owned()]
        });
    } else if legalization::is_legalization(seal.header()) {
        data.legalization = Legalization::from_seal(seal).ok();
    }
    data
}
