//! Certificate helpers: issued-by checks, validity at an injected time, ICAO extensions, CRLs.

use const_oid::ObjectIdentifier;
use der::asn1::PrintableString;
use der::{Decode, Encode, Sequence, asn1::SetOfVec};
use x509_cert::Certificate;
use x509_cert::crl::CertificateList;
use x509_cert::ext::pkix::{AuthorityKeyIdentifier, ExtendedKeyUsage, SubjectKeyIdentifier};
use x509_cert::time::Time;

use crate::alg::oids;
use crate::{PkixError, verify_signature};

/// Seconds since the Unix epoch of an X.509 `Time`.
pub fn unix_seconds(time: &Time) -> u64 {
    time.to_unix_duration().as_secs()
}

/// Verify that `cert` was issued by `issuer`: the issuer name equals the issuer's subject, the
/// AuthorityKeyIdentifier (when both sides carry one) equals the issuer's SubjectKeyIdentifier,
/// and the signature verifies with the issuer's key.
pub fn verify_issued_by(cert: &Certificate, issuer: &Certificate) -> Result<(), PkixError> {
    check_names_and_key_ids(cert, issuer)?;
    verify_certificate_signature(cert, issuer)
}

/// Name and key-identifier match only (no signature check).
pub fn check_names_and_key_ids(cert: &Certificate, issuer: &Certificate) -> Result<(), PkixError> {
    if cert.tbs_certificate().issuer() != issuer.tbs_certificate().subject() {
        return Err(PkixError::IssuerNameMismatch);
    }
    if let (Some(aki), Some(ski)) = (
        authority_key_identifier(cert)?,
        subject_key_identifier(issuer)?,
    ) && aki != ski
    {
        return Err(PkixError::KeyIdentifierMismatch);
    }
    Ok(())
}

/// Verify only the signature of `cert` with the key of `issuer`.
pub fn verify_certificate_signature(
    cert: &Certificate,
    issuer: &Certificate,
) -> Result<(), PkixError> {
    let tbs = cert
        .tbs_certificate()
        .to_der()
        .map_err(|source| PkixError::Encode {
            what: "tbsCertificate",
            source,
        })?;
    let signature = cert
        .signature()
        .as_bytes()
        .ok_or(PkixError::InvalidSignatureEncoding)?;
    verify_signature(
        issuer.tbs_certificate().subject_public_key_info(),
        cert.signature_algorithm(),
        &tbs,
        signature,
    )
}

/// The keyIdentifier of the AuthorityKeyIdentifier extension, if any.
pub fn authority_key_identifier(cert: &Certificate) -> Result<Option<Vec<u8>>, PkixError> {
    let ext = cert
        .tbs_certificate()
        .get_extension::<AuthorityKeyIdentifier>()
        .map_err(|source| PkixError::Decode {
            what: "AuthorityKeyIdentifier",
            source,
        })?;
    Ok(ext.and_then(|(_, aki)| aki.key_identifier.map(|k| k.as_bytes().to_vec())))
}

/// The SubjectKeyIdentifier extension, if any.
pub fn subject_key_identifier(cert: &Certificate) -> Result<Option<Vec<u8>>, PkixError> {
    let ext = cert
        .tbs_certificate()
        .get_extension::<SubjectKeyIdentifier>()
        .map_err(|source| PkixError::Decode {
            what: "SubjectKeyIdentifier",
            source,
        })?;
    Ok(ext.map(|(_, ski)| ski.0.as_bytes().to_vec()))
}

/// Validity of a certificate at an instant.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum ValidityStatus {
    /// notBefore <= at <= notAfter.
    Valid,
    /// at < notBefore.
    NotYetValid {
        /// notBefore, Unix seconds.
        not_before: u64,
    },
    /// at > notAfter.
    Expired {
        /// notAfter, Unix seconds.
        not_after: u64,
    },
}

/// Check `cert`'s validity period at `at_unix_seconds` (injected time; no clock is read).
pub fn validity_at(cert: &Certificate, at_unix_seconds: u64) -> ValidityStatus {
    let validity = cert.tbs_certificate().validity();
    let not_before = unix_seconds(&validity.not_before);
    let not_after = unix_seconds(&validity.not_after);
    if at_unix_seconds < not_before {
        ValidityStatus::NotYetValid { not_before }
    } else if at_unix_seconds > not_after {
        ValidityStatus::Expired { not_after }
    } else {
        ValidityStatus::Valid
    }
}

/// ICAO DocumentTypeList extension (9303-12 §7.1.1.2, OID 2.23.136.1.1.6.2).
///
/// ```text
/// DocumentTypeListSyntax ::= SEQUENCE {
///   version DocumentTypeListVersion,
///   docTypeList SET OF DocumentType }
/// DocumentTypeListVersion ::= INTEGER {v0(0)}
/// DocumentType ::= PrintableString(SIZE(1..2))
/// ```
#[derive(Clone, Debug, PartialEq, Eq, Sequence)]
pub struct DocumentTypeList {
    /// version (0).
    pub version: u8,
    /// docTypeList.
    pub doc_type_list: SetOfVec<PrintableString>,
}

impl DocumentTypeList {
    /// Build a v0 list from document codes such as `"P"`, `"PP"`.
    pub fn new(codes: &[&str]) -> Result<Self, PkixError> {
        let mut set = SetOfVec::new();
        for code in codes {
            if code.is_empty() || code.len() > 2 {
                return Err(PkixError::InvalidDocumentType {
                    code: (*code).to_string(),
                });
            }
            let s = PrintableString::new(*code).map_err(|_| PkixError::InvalidDocumentType {
                code: (*code).to_string(),
            })?;
            set.insert(s).map_err(|source| PkixError::Encode {
                what: "docTypeList",
                source,
            })?;
        }
        Ok(Self {
            version: 0,
            doc_type_list: set,
        })
    }

    /// The listed codes.
    pub fn codes(&self) -> Vec<String> {
        self.doc_type_list
            .iter()
            .map(|s| s.as_str().to_string())
            .collect()
    }

    /// Whether a document with MRZ document code `code` (e.g. `P<`, `PP`, `PU`) is covered:
    /// an entry equal to the code without filler, or a one-letter entry equal to the code's first
    /// letter (the reading most verifiers apply; 9303-12 leaves it open).
    pub fn covers(&self, code: &str) -> bool {
        let code = code.trim_end_matches('<');
        self.doc_type_list.iter().any(|entry| {
            let entry = entry.as_str();
            entry == code || (entry.len() == 1 && code.starts_with(entry))
        })
    }
}

/// Read the DocumentTypeList extension, if present.
pub fn document_type_list(cert: &Certificate) -> Result<Option<DocumentTypeList>, PkixError> {
    let Some(extensions) = cert.tbs_certificate().extensions() else {
        return Ok(None);
    };
    let mut found = None;
    for ext in extensions
        .iter()
        .filter(|e| e.extn_id == oids::DOCUMENT_TYPE_LIST)
    {
        if found.is_some() {
            return Err(PkixError::DuplicateExtension {
                oid: oids::DOCUMENT_TYPE_LIST,
            });
        }
        found = Some(
            DocumentTypeList::from_der(ext.extn_value.as_bytes()).map_err(|source| {
                PkixError::Decode {
                    what: "DocumentTypeList",
                    source,
                }
            })?,
        );
    }
    Ok(found)
}

/// The ExtendedKeyUsage purposes, if the extension is present.
pub fn extended_key_usage(cert: &Certificate) -> Result<Option<Vec<ObjectIdentifier>>, PkixError> {
    let ext = cert
        .tbs_certificate()
        .get_extension::<ExtendedKeyUsage>()
        .map_err(|source| PkixError::Decode {
            what: "ExtendedKeyUsage",
            source,
        })?;
    Ok(ext.map(|(_, eku)| eku.0))
}

/// Parse a DER CRL.
pub fn parse_crl(der: &[u8]) -> Result<CertificateList, PkixError> {
    CertificateList::from_der(der).map_err(|source| PkixError::Decode {
        what: "CertificateList",
        source,
    })
}

/// Verify a CRL's issuer name and signature against `issuer`.
pub fn verify_crl(crl: &CertificateList, issuer: &Certificate) -> Result<(), PkixError> {
    if crl.tbs_cert_list.issuer != *issuer.tbs_certificate().subject() {
        return Err(PkixError::IssuerNameMismatch);
    }
    let tbs = crl
        .tbs_cert_list
        .to_der()
        .map_err(|source| PkixError::Encode {
            what: "tbsCertList",
            source,
        })?;
    let signature = crl
        .signature
        .as_bytes()
        .ok_or(PkixError::InvalidSignatureEncoding)?;
    verify_signature(
        issuer.tbs_certificate().subject_public_key_info(),
        &crl.signature_algorithm,
        &tbs,
        signature,
    )
}

/// The revocation date (Unix seconds) if `serial` (big-endian magnitude bytes) is on the CRL.
pub fn is_revoked(crl: &CertificateList, serial: &[u8]) -> Option<u64> {
    let strip = |b: &[u8]| -> Vec<u8> {
        let start = b.iter().position(|x| *x != 0).unwrap_or(b.len());
        b[start..].to_vec()
    };
    let wanted = strip(serial);
    crl.tbs_cert_list
        .revoked_certificates
        .as_ref()
        .and_then(|list| {
            list.iter()
                .find(|entry| strip(entry.serial_number.as_bytes()) == wanted)
                .map(|entry| unix_seconds(&entry.revocation_date))
        })
}
