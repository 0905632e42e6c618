//! X.509 verification for the ICAO 9303 PKI (CSCA, Document Signer, bar-code signer): signature
//! checks over every algorithm eMRTDs use, certificate and CRL helpers, and a CSCA trust store.
//! Pure: no I/O and no clock (times are passed in as Unix seconds).
//!
//! # API summary
//! Signatures:
//! - [`verify_signature`]`(spki: &SubjectPublicKeyInfoOwned, alg: &AlgorithmIdentifierOwned,
//!   message: &[u8], signature: &[u8]) -> Result<(), PkixError>` — ECDSA (P-256, P-384,
//!   brainpoolP256r1/P384r1; named or explicit domain parameters; DER or BSI plain `r||s`
//!   signature OIDs) and RSA PKCS#1 v1.5 / RSASSA-PSS; SHA-1/224/256/384/512.
//! - [`verify_prehash`]`(spki, SignatureAlgorithm, digest, signature)` — same over a digest.
//! - [`verify_message`]`(spki, SignatureAlgorithm, message, signature)` — the same with the
//!   algorithm already resolved.
//! - [`verify_ecdsa_raw`]`(spki, HashAlgorithm, message, r_and_s)` and
//!   [`verify_prehash_ecdsa_raw`]`(spki, digest: &[u8], r_and_s: &[u8])` — for visible digital seals.
//! - P-256/SHA-256 and P-384/SHA-384 ECDSA go through `ring` first (several times faster); a
//!   signature it rejects is decided, with its precise error, by the RustCrypto path.
//! - [`alg::HashAlgorithm`] (`oid`, `from_oid`, `digest`, `output_len`),
//!   [`alg::SignatureAlgorithm`] (`from_algorithm_identifier`, `from_signer_info`,
//!   `algorithm_identifier`, `hash`), [`key::PublicKey::from_spki`], [`key::ec_curve`] (named curve of
//!   an EC SPKI; explicit parameters mapped by prime/a/b/G/order/cofactor).
//! - Writing (ICAO 9303-12 certificates): [`key::encode_ec_parameters`]`(spki,
//!   EcParameterEncoding::{Explicit, Named}) -> SubjectPublicKeyInfoOwned` (key bits unchanged),
//!   `Curve::explicit_parameters() -> SpecifiedEcDomain`, `Curve::domain_parameters()` (p, a, b,
//!   G, n, h read from the RustCrypto curve crates; the same values the reader matches against).
//!
//! Certificates ([`cert`]):
//! - `verify_issued_by(cert, issuer) -> Result<(), PkixError>` (issuer name = subject, AKI = SKI,
//!   signature), `validity_at(cert, at_unix_seconds) -> ValidityStatus`,
//!   `document_type_list(cert) -> Result<Option<DocumentTypeList>>` (`.codes()`, `.covers("P<")`),
//!   `DocumentTypeList::new(&["PP"])` (to build the extension), `extended_key_usage(cert)`,
//!   `authority_key_identifier`, `subject_key_identifier`.
//! - CRLs: `parse_crl(der)`, `verify_crl(&crl, issuer)`, `is_revoked(&crl, serial) -> Option<u64>`.
//!
//! Trust ([`trust`]): `TrustStore::new()`, `add_csca_der(&[u8])`, `add_csca(Certificate)`,
//! `add_master_list(&[u8]) -> usize` (CSCA master list CMS file; its signature is not checked;
//! `add_verified_master_list` checks it against the CSCAs already trusted),
//! `add_crl_der(&[u8])` (signature checked against a stored CSCA),
//! `find_issuer(cert) -> Result<&Certificate, ChainError>`, `revocation_status(cert, issuer)`,
//! `chain(cert, at_unix_seconds) -> Result<&Certificate, ChainError>` with
//! `ChainError::{UnknownIssuer, BadSignature, Expired, NotYetValid, Revoked}`.
//!
//! CMS pieces ([`cms_verify`]): `signed_attributes_der(signer_info)` (re-tagged SET),
//! `signed_attribute(signer_info, oid)`, `verify_signer_info_signature(signer_info, cert)`,
//! `find_signer_certificate(signed_data, sid)`.
#![forbid(unsafe_code)]
#![warn(missing_docs)]

pub mod alg;
pub mod cert;
pub mod cms_verify;
mod fast;
pub mod generic_ec;
pub mod key;
pub mod trust;

pub use alg::{HashAlgorithm, SignatureAlgorithm};
pub use cert::{DocumentTypeList, ValidityStatus, verify_issued_by};
pub use key::{Curve, EcParameterEncoding, PublicKey};
pub use trust::{ChainError, RevocationStatus, TrustStore};

/// Re-exported so callers use the same versions.
pub use {der, spki, x509_cert};

use const_oid::ObjectIdentifier;
use spki::{AlgorithmIdentifierOwned, SubjectPublicKeyInfoOwned};

/// Errors of this crate.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum PkixError {
    /// A structure failed to decode.
    #[error("cannot decode {what}: {source}")]
    Decode {
        /// Which structure.
        what: &'static str,
        /// The DER error.
        source: der::Error,
    },
    /// A structure failed to encode.
    #[error("cannot encode {what}: {source}")]
    Encode {
        /// Which structure.
        what: &'static str,
        /// The DER error.
        source: der::Error,
    },
    /// The digest algorithm is not one of SHA-1/224/256/384/512.
    #[error("unsupported digest algorithm {oid}")]
    UnsupportedDigestAlgorithm {
        /// The OID.
        oid: ObjectIdentifier,
    },
    /// The signature algorithm is not supported.
    #[error("unsupported signature algorithm {oid}")]
    UnsupportedSignatureAlgorithm {
        /// The OID.
        oid: ObjectIdentifier,
    },
    /// The public key algorithm is not EC or RSA.
    #[error("unsupported public key algorithm {oid}")]
    UnsupportedPublicKey {
        /// The OID.
        oid: ObjectIdentifier,
    },
    /// The EC curve is not P-256, P-384, brainpoolP256r1 or brainpoolP384r1.
    #[error("unsupported curve: {oid}")]
    UnsupportedCurve {
        /// The curve OID or a description of the explicit parameters.
        oid: String,
    },
    /// An EC parameter encoding name is not `explicit` or `named`.
    #[error("`{value}` is not an EC parameter encoding (use `explicit` or `named`)")]
    UnknownEcParameterEncoding {
        /// The value given.
        value: String,
    },
    /// The public key is malformed.
    #[error("invalid public key: {reason}")]
    InvalidPublicKey {
        /// What is wrong.
        reason: &'static str,
    },
    /// RSASSA-PSS parameters are malformed or unsupported.
    #[error("invalid RSASSA-PSS parameters: {reason}")]
    InvalidPssParameters {
        /// What is wrong.
        reason: &'static str,
    },
    /// A CMS digestAlgorithm disagrees with the hash of the signatureAlgorithm.
    #[error("digestAlgorithm {digest_algorithm} differs from the signature hash {signature_hash}")]
    DigestMismatch {
        /// digestAlgorithm.
        digest_algorithm: &'static str,
        /// Hash named by the signature algorithm.
        signature_hash: &'static str,
    },
    /// A digest has the wrong length for the algorithm.
    #[error("digest is {actual} bytes, the algorithm needs {expected}")]
    DigestLength {
        /// Expected length.
        expected: usize,
        /// Given length.
        actual: usize,
    },
    /// The signature is not a valid encoding for the algorithm.
    #[error("signature encoding is invalid")]
    InvalidSignatureEncoding,
    /// The signature does not verify.
    #[error("signature does not verify")]
    BadSignature,
    /// The signature algorithm does not fit the key type.
    #[error("signature algorithm does not match the key type")]
    AlgorithmKeyMismatch,
    /// The issuer name differs from the issuer certificate's subject.
    #[error("issuer name does not match the issuer certificate's subject")]
    IssuerNameMismatch,
    /// The AuthorityKeyIdentifier differs from the issuer's SubjectKeyIdentifier.
    #[error("authority key identifier does not match the issuer's subject key identifier")]
    KeyIdentifierMismatch,
    /// A DocumentType code is not 1–2 printable characters.
    #[error("invalid document type code {code:?}")]
    InvalidDocumentType {
        /// The code.
        code: String,
    },
    /// An extension occurs more than once.
    #[error("extension {oid} occurs more than once")]
    DuplicateExtension {
        /// The OID.
        oid: ObjectIdentifier,
    },
    /// A required field is absent.
    #[error("missing {field}")]
    MissingField {
        /// The field.
        field: &'static str,
    },
    /// A CMS content type is not the one expected.
    #[error("unexpected content type {oid}")]
    UnexpectedContentType {
        /// The OID found.
        oid: ObjectIdentifier,
    },
    /// A CMS attribute is duplicated or not single-valued.
    #[error("attribute {oid} is duplicated or not single-valued")]
    InvalidAttribute {
        /// The attribute OID.
        oid: ObjectIdentifier,
    },
    /// No CSCA in the store issued this CRL.
    #[error("no trusted CSCA issued this CRL")]
    CrlIssuerUnknown,
    /// A master list's signature, signer certificate or signed attributes do not check out.
    #[error("master list not trusted: {reason}")]
    MasterListUntrusted {
        /// What failed.
        reason: String,
    },
}

/// Verify `signature` over `message` with the key in `spki`, using `alg` (an X.509 / CMS
/// signature AlgorithmIdentifier).
pub fn verify_signature(
    spki: &SubjectPublicKeyInfoOwned,
    alg: &AlgorithmIdentifierOwned,
    message: &[u8],
    signature: &[u8],
) -> Result<(), PkixError> {
    let algorithm = SignatureAlgorithm::from_algorithm_identifier(alg)?;
    verify_message(spki, algorithm, message, signature)
}

/// Verify `signature` over `message` with `algorithm`: P-256/SHA-256 and P-384/SHA-384 ECDSA
/// through the fast path first ([`fast`]), everything else (and every rejection, for its
/// precise error) through [`verify_prehash`].
pub fn verify_message(
    spki: &SubjectPublicKeyInfoOwned,
    algorithm: SignatureAlgorithm,
    message: &[u8],
    signature: &[u8],
) -> Result<(), PkixError> {
    let fast = match algorithm {
        SignatureAlgorithm::Ecdsa(hash) => Some((hash, fast::Encoding::Der)),
        SignatureAlgorithm::EcdsaPlain(hash) => Some((hash, fast::Encoding::Plain)),
        _ => None,
    };
    if let Some((hash, encoding)) = fast
        && fast::verifies(spki, hash, encoding, message, signature)
    {
        return Ok(());
    }
    let digest = algorithm.hash().digest(message);
    verify_prehash(spki, algorithm, &digest, signature)
}

/// Verify a raw `r||s` ECDSA signature (as carried by visible digital seals) over `message`
/// hashed with `hash`.
pub fn verify_ecdsa_raw(
    spki: &SubjectPublicKeyInfoOwned,
    hash: HashAlgorithm,
    message: &[u8],
    r_and_s: &[u8],
) -> Result<(), PkixError> {
    if fast::verifies(spki, hash, fast::Encoding::Plain, message, r_and_s) {
        return Ok(());
    }
    verify_prehash_ecdsa_raw(spki, &hash.digest(message), r_and_s)
}

/// Verify `signature` over a precomputed `digest`.
pub fn verify_prehash(
    spki: &SubjectPublicKeyInfoOwned,
    algorithm: SignatureAlgorithm,
    digest: &[u8],
    signature: &[u8],
) -> Result<(), PkixError> {
    PublicKey::from_spki(spki)?.verify_prehash(algorithm, digest, signature)
}

/// Verify a raw `r||s` ECDSA signature (as carried by visible digital seals) over `digest`.
/// The digest may be any of the supported lengths; it is used as the ECDSA hash input.
pub fn verify_prehash_ecdsa_raw(
    spki: &SubjectPublicKeyInfoOwned,
    digest: &[u8],
    r_and_s: &[u8],
) -> Result<(), PkixError> {
    let hash = match digest.len() {
        20 => HashAlgorithm::Sha1,
        28 => HashAlgorithm::Sha224,
        32 => HashAlgorithm::Sha256,
        48 => HashAlgorithm::Sha384,
        64 => HashAlgorithm::Sha512,
        actual => {
            return Err(PkixError::DigestLength {
                expected: 32,
                actual,
            });
        }
    };
    let key = PublicKey::from_spki(spki)?;
    if key.curve().is_none() {
        return Err(PkixError::AlgorithmKeyMismatch);
    }
    key.verify_prehash(SignatureAlgorithm::EcdsaPlain(hash), digest, r_and_s)
}

/// Invariants over arbitrary input, shared by the fuzz targets (`fuzz/`) and the property
/// tests that run them on stable Rust in CI.
#[doc(hidden)]
pub mod fuzzing {
    use der::Decode as _;
    use x509_cert::Certificate;

    use crate::cert::{is_revoked, parse_crl, verify_certificate_signature, verify_crl};
    use crate::key::ec_curve;
    use crate::trust::{CscaMasterList, TrustStore};

    /// Decodes `data` as a certificate (named or explicit EC parameters, RSA), checks its
    /// signature with its own key and chains it to a store trusting only itself. Nothing may
    /// panic; a certificate is its own issuer only if its self-signature verifies.
    pub fn check_certificate(data: &[u8]) -> Result<(), String> {
        let Ok(cert) = Certificate::from_der(data) else {
            return Ok(());
        };
        let _ = ec_curve(cert.tbs_certificate().subject_public_key_info());
        let _ = crate::cert::document_type_list(&cert);
        let self_signed = verify_certificate_signature(&cert, &cert).is_ok();
        let mut store = TrustStore::new();
        store.add_csca(cert.clone());
        let found = store.find_issuer(&cert).is_ok();
        if found && !self_signed {
            return Err("a certificate chained to itself without a valid self-signature".into());
        }
        Ok(())
    }

    /// Decodes `data` as a CRL and checks it against `issuer`. Nothing may panic.
    pub fn check_crl(data: &[u8], issuer: &Certificate) -> Result<(), String> {
        if let Ok(crl) = parse_crl(data) {
            let _ = verify_crl(&crl, issuer);
            let _ = is_revoked(&crl, &[0x01]);
        }
        let mut store = TrustStore::new();
        store.add_csca(issuer.clone());
        if store.add_crl_der(data).is_ok()
            && !store
                .crls()
                .iter()
                .any(|crl| verify_crl(crl, issuer).is_ok())
        {
            return Err("a CRL was accepted whose signature does not verify".into());
        }
        Ok(())
    }

    /// Decodes `data` as a CSCA master list. Nothing may panic, and a master list is never
    /// trusted by a store that trusts no CSCA.
    pub fn check_master_list(data: &[u8]) -> Result<(), String> {
        let _ = CscaMasterList::from_signed_der(data);
        let mut store = TrustStore::new();
        if store.add_verified_master_list(data, 1_800_000_000).is_ok() {
            return Err("a master list was trusted by an empty trust store".into());
        }
        Ok(())
    }
}

/// Whether `bytes` is a sequence of DER TLVs nested no deeper than `max_depth` constructed
/// levels, with definite lengths that fit: checked by one iterative walk, before any typed
/// decoding, so that neither the nesting nor a declared length is the submitter's to choose.
pub fn der_within(bytes: &[u8], max_depth: usize) -> bool {
    // (start, end, depth) of the regions still to walk.
    let mut regions = vec![(0usize, bytes.len(), 0usize)];
    while let Some((mut at, end, depth)) = regions.pop() {
        while at < end {
            let Some(&tag) = bytes.get(at) else {
                return false;
            };
            at += 1;
            if tag & 0x1F == 0x1F {
                // High tag number: base-128 digits, at most four.
                let mut digits = 0;
                loop {
                    let Some(&digit) = bytes.get(at) else {
                        return false;
                    };
                    at += 1;
                    digits += 1;
                    if digits > 4 {
                        return false;
                    }
                    if digit & 0x80 == 0 {
                        break;
                    }
                }
            }
            let Some(&first) = bytes.get(at) else {
                return false;
            };
            at += 1;
            let length = if first & 0x80 == 0 {
                usize::from(first)
            } else {
                let count = usize::from(first & 0x7F);
                // Indefinite length (0x80) is not DER; more than four length octets is more
                // than any input here.
                if count == 0 || count > 4 {
                    return false;
                }
                let mut length = 0usize;
                for _ in 0..count {
                    let Some(&octet) = bytes.get(at) else {
                        return false;
                    };
                    at += 1;
                    length = (length << 8) | usize::from(octet);
                }
                length
            };
            let Some(content_end) = at
                .checked_add(length)
                .filter(|content_end| *content_end <= end)
            else {
                return false;
            };
            if tag & 0x20 != 0 {
                if depth + 1 > max_depth {
                    return false;
                }
                regions.push((at, content_end, depth + 1));
            }
            at = content_end;
        }
    }
    true
}

#[cfg(test)]
mod der_within_tests {
    use super::der_within;

    #[test]
    fn depth_and_lengths_are_bounded() {
        assert!(der_within(&[0x30, 0x03, 0x02, 0x01, 0x05], 1));
        assert!(!der_within(&[0x30, 0x03, 0x30, 0x01, 0x05], 1), "too deep");
        assert!(
            !der_within(&[0x30, 0x05, 0x02, 0x01], 4),
            "length beyond the input"
        );
        assert!(
            !der_within(&[0x30, 0x80, 0x00, 0x00], 4),
            "indefinite length"
        );
        let depth = 10_000usize;
        let mut deep = Vec::new();
        for level in 0..depth {
            deep.extend([0x30, 0x84]);
            deep.extend(
                u32::try_from(6 * (depth - 1 - level) + 2)
                    .unwrap_or(0)
                    .to_be_bytes(),
            );
        }
        deep.extend([0x05, 0x00]);
        assert!(der_within(&deep, depth));
        assert!(!der_within(&deep, 64));
    }
}
