//! A store of trusted CSCA certificates and their CRLs, and one-level chain building.

use cms::content_info::ContentInfo;
use cms::signed_data::SignedData;
use der::{Decode, Encode, Reader, SliceReader, Tag, Tagged};
use x509_cert::Certificate;
use x509_cert::crl::CertificateList;

use crate::PkixError;
use crate::alg::oids;
use crate::cert::{
    ValidityStatus, check_names_and_key_ids, is_revoked, parse_crl, validity_at,
    verify_certificate_signature, verify_crl,
};

/// Why a certificate does not chain to the trust store.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum ChainError {
    /// No CSCA in the store has the certificate's issuer name (and key identifier).
    #[error("no trusted CSCA matches the issuer name and authority key identifier")]
    UnknownIssuer,
    /// A CSCA with the issuer's name exists, but no such CSCA's key verifies the signature.
    #[error("the certificate signature does not verify with any matching CSCA key")]
    BadSignature,
    /// The certificate's notAfter is before the verification time.
    #[error("the certificate expired (notAfter {not_after} Unix seconds)")]
    Expired {
        /// notAfter, Unix seconds.
        not_after: u64,
    },
    /// The certificate's notBefore is after the verification time.
    #[error("the certificate is not yet valid (notBefore {not_before} Unix seconds)")]
    NotYetValid {
        /// notBefore, Unix seconds.
        not_before: u64,
    },
    /// The issuing CSCA's CRL lists the certificate.
    #[error("the certificate is revoked (since {revocation_date} Unix seconds)")]
    Revoked {
        /// revocationDate, Unix seconds.
        revocation_date: u64,
    },
}

/// Revocation status of a certificate with respect to the store's CRLs.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum RevocationStatus {
    /// At least one CRL from the issuer is held and none lists the serial.
    NotRevoked,
    /// A CRL from the issuer lists the serial.
    Revoked {
        /// revocationDate, Unix seconds.
        revocation_date: u64,
    },
    /// No CRL from the issuer is held.
    NoCrl,
}

/// CSCA master list content (9303-12 §9).
///
/// ```text
/// CscaMasterList ::= SEQUENCE {
///   version CscaMasterListVersion,
///   certList SET OF Certificate }
/// CscaMasterListVersion ::= INTEGER {v0(0)}
/// ```
///
/// Decoded by hand so that a `certList` in non-canonical order is still read.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CscaMasterList {
    /// version (0).
    pub version: u8,
    /// certList in the order encoded.
    pub cert_list: Vec<Certificate>,
}

impl CscaMasterList {
    /// Decode the DER `CscaMasterList` (the eContent of a master list).
    pub fn from_der(bytes: &[u8]) -> Result<Self, PkixError> {
        let decode = |source| PkixError::Decode {
            what: "CscaMasterList",
            source,
        };
        let mut reader = SliceReader::new(bytes).map_err(decode)?;
        let list = reader
            .sequence(|seq| {
                let version = u8::decode(seq)?;
                let set = der::Any::decode(seq)?;
                if set.tag() != Tag::Set {
                    return Err(set.tag().unexpected_error(Some(Tag::Set)).into());
                }
                let mut inner = SliceReader::new(set.value())?;
                let mut cert_list = Vec::new();
                while !inner.is_finished() {
                    cert_list.push(Certificate::decode(&mut inner)?);
                }
                Ok(Self { version, cert_list })
            })
            .map_err(decode)?;
        reader.finish().map_err(decode)?;
        Ok(list)
    }

    /// Encode as DER, keeping `cert_list` in the stored order.
    pub fn to_der(&self) -> Result<Vec<u8>, PkixError> {
        #[derive(der::Sequence)]
        struct Encoding {
            version: u8,
            cert_list: der::Any,
        }
        let encode = |source| PkixError::Encode {
            what: "CscaMasterList",
            source,
        };
        let mut certs = Vec::new();
        for cert in &self.cert_list {
            certs.extend(cert.to_der().map_err(encode)?);
        }
        let encoding = Encoding {
            version: self.version,
            cert_list: der::Any::new(Tag::Set, certs).map_err(encode)?,
        };
        encoding.to_der().map_err(encode)
    }

    /// Read the CSCA certificates from a master list file (CMS ContentInfo/SignedData with
    /// eContentType 2.23.136.1.1.2). The master list's own signature is **not** checked here:
    /// use the `cms_verify` helpers to check the signer first.
    pub fn from_signed_der(bytes: &[u8]) -> Result<(Self, SignedData), PkixError> {
        let content_info = ContentInfo::from_der(bytes).map_err(|source| PkixError::Decode {
            what: "master list ContentInfo",
            source,
        })?;
        if content_info.content_type != oids::SIGNED_DATA {
            return Err(PkixError::UnexpectedContentType {
                oid: content_info.content_type,
            });
        }
        let signed_data: SignedData =
            content_info
                .content
                .decode_as()
                .map_err(|source| PkixError::Decode {
                    what: "master list SignedData",
                    source,
                })?;
        let encap = &signed_data.encap_content_info;
        if encap.econtent_type != oids::CSCA_MASTER_LIST {
            return Err(PkixError::UnexpectedContentType {
                oid: encap.econtent_type,
            });
        }
        let econtent = encap.econtent.as_ref().ok_or(PkixError::MissingField {
            field: "master list eContent",
        })?;
        let list = Self::from_der(econtent.value())?;
        Ok((list, signed_data))
    }
}

/// Trusted CSCA certificates (including link certificates) and CRLs.
#[derive(Clone, Debug, Default)]
pub struct TrustStore {
    cscas: Vec<Certificate>,
    crls: Vec<CertificateList>,
    /// Certificates whose signature was found to verify with a CSCA of this store, with that
    /// CSCA's index: see [`VerifiedSignatures`].
    verified: std::sync::Arc<VerifiedSignatures>,
}

/// A bounded memo of successful certificate signature checks. A certificate is immutable and
/// so is a CSCA of the store, so a signature that verified once verifies again: a verifier that
/// checks the same signer certificate for every seal pays for one signature verification, not
/// one per seal (with a CSCA key in explicit parameters, the portable arithmetic costs
/// milliseconds). Only successes are kept, and at most [`VerifiedSignatures::CAPACITY`]
/// certificates (the oldest go first), so a stream of foreign certificates costs a bounded
/// amount of memory and cannot make a failed check pass.
#[derive(Debug, Default)]
struct VerifiedSignatures {
    entries: std::sync::Mutex<std::collections::VecDeque<(Certificate, usize)>>,
}

impl VerifiedSignatures {
    const CAPACITY: usize = 64;

    fn issuer_of(&self, cert: &Certificate) -> Option<usize> {
        let entries = self.entries.lock().ok()?;
        entries
            .iter()
            .find(|(known, _)| known == cert)
            .map(|(_, index)| *index)
    }

    fn remember(&self, cert: &Certificate, issuer: usize) {
        if let Ok(mut entries) = self.entries.lock() {
            if entries.iter().any(|(known, _)| known == cert) {
                return;
            }
            if entries.len() >= Self::CAPACITY {
                entries.pop_front();
            }
            entries.push_back((cert.clone(), issuer));
        }
    }
}

impl TrustStore {
    /// An empty store.
    pub fn new() -> Self {
        Self::default()
    }

    /// Add a trusted CSCA certificate.
    pub fn add_csca(&mut self, cert: Certificate) {
        // A clone of this store shares the memo; a store that changes starts its own.
        self.verified = std::sync::Arc::default();
        if !self.cscas.contains(&cert) {
            self.cscas.push(cert);
        }
    }

    /// Add a trusted CSCA from DER bytes (a `.cer`/`.der` file's content).
    pub fn add_csca_der(&mut self, der: &[u8]) -> Result<(), PkixError> {
        let cert = Certificate::from_der(der).map_err(|source| PkixError::Decode {
            what: "CSCA Certificate",
            source,
        })?;
        self.add_csca(cert);
        Ok(())
    }

    /// Add every CSCA of a master list. The list's CMS signature is not checked: the caller
    /// vouches for the file's origin. Returns how many certificates were added.
    pub fn add_master_list(&mut self, der: &[u8]) -> Result<usize, PkixError> {
        let (list, _) = CscaMasterList::from_signed_der(der)?;
        let before = self.cscas.len();
        for cert in list.cert_list {
            self.add_csca(cert);
        }
        Ok(self.cscas.len() - before)
    }

    /// Add every CSCA of a master list after checking the list's CMS signature (ICAO 9303-12
    /// §9): the Master List Signer certificate carried in the list must be issued by a CSCA
    /// already in this store (the issuing state's CSCA, trusted out of band) and be valid at
    /// `at_unix_seconds`; the signed attributes must name the master-list content type and
    /// carry the digest of the list; and their signature must verify with the signer's key.
    /// Returns how many certificates were added; on any failure nothing is added.
    pub fn add_verified_master_list(
        &mut self,
        der: &[u8],
        at_unix_seconds: u64,
    ) -> Result<usize, PkixError> {
        use crate::cms_verify::{
            CONTENT_TYPE_ATTR, MESSAGE_DIGEST_ATTR, find_signer_certificate, signed_attribute,
            signer_info_algorithm, verify_signer_info_signature,
        };
        let untrusted = |reason: String| PkixError::MasterListUntrusted { reason };
        let (list, signed_data) = CscaMasterList::from_signed_der(der)?;
        let mut signer_infos = signed_data.signer_infos.0.iter();
        let signer_info = signer_infos
            .next()
            .ok_or_else(|| untrusted("it has no SignerInfo".into()))?;
        if signer_infos.next().is_some() {
            return Err(untrusted("it has more than one SignerInfo".into()));
        }
        let signer = find_signer_certificate(&signed_data, &signer_info.sid)
            .ok_or_else(|| untrusted("its signer certificate is not in the list".into()))?;
        let issuer = self.find_issuer(signer).map_err(|error| {
            untrusted(format!(
                "its signer certificate ({}) is not issued by a trusted CSCA: {error:?}",
                signer.tbs_certificate().subject()
            ))
        })?;
        check_names_and_key_ids(signer, issuer)?;
        match validity_at(signer, at_unix_seconds) {
            ValidityStatus::Valid => {}
            other => {
                return Err(untrusted(format!(
                    "its signer certificate is not valid now: {other:?}"
                )));
            }
        }
        let content_type = signed_attribute(signer_info, CONTENT_TYPE_ATTR)?
            .ok_or(PkixError::MissingField {
                field: "contentType signed attribute",
            })?
            .decode_as::<const_oid::ObjectIdentifier>()
            .map_err(|source| PkixError::Decode {
                what: "contentType attribute",
                source,
            })?;
        if content_type != oids::CSCA_MASTER_LIST {
            return Err(PkixError::UnexpectedContentType { oid: content_type });
        }
        let message_digest = signed_attribute(signer_info, MESSAGE_DIGEST_ATTR)?
            .ok_or(PkixError::MissingField {
                field: "messageDigest signed attribute",
            })?
            .decode_as::<der::asn1::OctetString>()
            .map_err(|source| PkixError::Decode {
                what: "messageDigest attribute",
                source,
            })?;
        let content =
            signed_data
                .encap_content_info
                .econtent
                .as_ref()
                .ok_or(PkixError::MissingField {
                    field: "master list eContent",
                })?;
        let algorithm = signer_info_algorithm(signer_info)?;
        if algorithm.hash().digest(content.value()) != message_digest.as_bytes() {
            return Err(untrusted(
                "the messageDigest attribute does not match the list's content".into(),
            ));
        }
        verify_signer_info_signature(signer_info, signer)?;
        let before = self.cscas.len();
        for cert in list.cert_list {
            self.add_csca(cert);
        }
        Ok(self.cscas.len() - before)
    }

    /// Add a CRL after checking its signature against a CSCA already in the store.
    pub fn add_crl_der(&mut self, der: &[u8]) -> Result<(), PkixError> {
        let crl = parse_crl(der)?;
        let mut last = PkixError::CrlIssuerUnknown;
        for csca in &self.cscas {
            if crl.tbs_cert_list.issuer != *csca.tbs_certificate().subject() {
                continue;
            }
            match verify_crl(&crl, csca) {
                Ok(()) => {
                    self.crls.push(crl);
                    return Ok(());
                }
                Err(error) => last = error,
            }
        }
        Err(last)
    }

    /// The trusted CSCAs.
    pub fn cscas(&self) -> &[Certificate] {
        &self.cscas
    }

    /// The accepted CRLs.
    pub fn crls(&self) -> &[CertificateList] {
        &self.crls
    }

    /// Find the CSCA whose key verifies `cert`'s signature (UnknownIssuer / BadSignature).
    pub fn find_issuer(&self, cert: &Certificate) -> Result<&Certificate, ChainError> {
        if let Some(csca) = self
            .verified
            .issuer_of(cert)
            .and_then(|index| self.cscas.get(index))
        {
            return Ok(csca);
        }
        let mut candidates = self
            .cscas
            .iter()
            .enumerate()
            .filter(|(_, csca)| check_names_and_key_ids(cert, csca).is_ok())
            .peekable();
        if candidates.peek().is_none() {
            return Err(ChainError::UnknownIssuer);
        }
        let (index, csca) = candidates
            .find(|(_, csca)| verify_certificate_signature(cert, csca).is_ok())
            .ok_or(ChainError::BadSignature)?;
        self.verified.remember(cert, index);
        Ok(csca)
    }

    /// Revocation status of `cert` on the CRLs issued by `issuer`.
    pub fn revocation_status(&self, cert: &Certificate, issuer: &Certificate) -> RevocationStatus {
        let serial = cert.tbs_certificate().serial_number().as_bytes();
        let mut any = false;
        for crl in self
            .crls
            .iter()
            .filter(|crl| crl.tbs_cert_list.issuer == *issuer.tbs_certificate().subject())
        {
            any = true;
            if let Some(revocation_date) = is_revoked(crl, serial) {
                return RevocationStatus::Revoked { revocation_date };
            }
        }
        if any {
            RevocationStatus::NotRevoked
        } else {
            RevocationStatus::NoCrl
        }
    }

    /// Chain `cert` (typically a DSC) to a trusted CSCA at `at_unix_seconds`: issuer found and
    /// signature valid, `cert` within its validity period, and not on the issuer's CRL.
    /// A missing CRL is not an error here; see [`TrustStore::revocation_status`].
    pub fn chain(
        &self,
        cert: &Certificate,
        at_unix_seconds: u64,
    ) -> Result<&Certificate, ChainError> {
        let issuer = self.find_issuer(cert)?;
        match validity_at(cert, at_unix_seconds) {
            ValidityStatus::Valid => {}
            ValidityStatus::Expired { not_after } => return Err(ChainError::Expired { not_after }),
            ValidityStatus::NotYetValid { not_before } => {
                return Err(ChainError::NotYetValid { not_before });
            }
        }
        if let RevocationStatus::Revoked { revocation_date } = self.revocation_status(cert, issuer)
        {
            return Err(ChainError::Revoked { revocation_date });
        }
        Ok(issuer)
    }

    /// Encode nothing; helper used by tests to count.
    pub fn len(&self) -> usize {
        self.cscas.len()
    }

    /// Whether the store holds no CSCA.
    pub fn is_empty(&self) -> bool {
        self.cscas.is_empty()
    }
}

/// DER of a certificate (convenience for callers writing files).
pub fn certificate_der(cert: &Certificate) -> Result<Vec<u8>, PkixError> {
    cert.to_der().map_err(|source| PkixError::Encode {
        what: "Certificate",
        source,
    })
}
