//! EF.SOD: `77 L ContentInfo` around CMS SignedData (9303-10 §4.6.2; RFC 5652), parse and build.

use std::collections::BTreeMap;

use cms::cert::{CertificateChoices, IssuerAndSerialNumber};
use cms::content_info::{CmsVersion, ContentInfo};
use cms::signed_data::{
    CertificateSet, EncapsulatedContentInfo, SignedData, SignerIdentifier, SignerInfo, SignerInfos,
};
use der::asn1::{OctetString, SetOfVec};
use der::{Any, Decode, Encode, Tag, Tagged};
use signature::{Keypair, SignatureEncoding, Signer};
use spki::{DynSignatureAlgorithmIdentifier, EncodePublicKey, SubjectPublicKeyInfoOwned};
use travdoc_pkix::alg::oids;
use travdoc_pkix::cms_verify::{CONTENT_TYPE_ATTR, MESSAGE_DIGEST_ATTR, SIGNING_TIME_ATTR};
use travdoc_pkix::{HashAlgorithm, PublicKey, SignatureAlgorithm};
use x509_cert::Certificate;
use x509_cert::attr::{Attribute, AttributeValue};
use x509_cert::time::Time;

use crate::asn1::{DataGroupHash, ID_LDS_SECURITY_OBJECT, LdsSecurityObject, LdsVersionInfo};
use crate::dg::{TAG_SOD, data_group_number_of};
use crate::{LdsError, tlv};

/// A parsed EF.SOD. Holds the decoded CMS structures and the exact eContent bytes.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Sod {
    content_info: ContentInfo,
    signed_data: SignedData,
    econtent: Vec<u8>,
    lds_security_object: LdsSecurityObject,
}

impl Sod {
    /// Parse EF.SOD bytes (`77 L ContentInfo`). Structure problems beyond decoding (version,
    /// eContentType, signer count) are reported by Passive Authentication, not here.
    pub fn from_bytes(bytes: &[u8]) -> Result<Self, LdsError> {
        let outer = tlv::read_exact(bytes, TAG_SOD)?;
        Self::from_content_info_der(outer.value)
    }

    /// Parse the CMS ContentInfo without the `77` wrapper.
    pub fn from_content_info_der(der: &[u8]) -> Result<Self, LdsError> {
        let content_info = ContentInfo::from_der(der).map_err(|source| LdsError::Decode {
            what: "ContentInfo",
            source,
        })?;
        if content_info.content_type != oids::SIGNED_DATA {
            return Err(LdsError::UnexpectedContentType {
                oid: content_info.content_type,
            });
        }
        let signed_data: SignedData =
            content_info
                .content
                .decode_as()
                .map_err(|source| LdsError::Decode {
                    what: "SignedData",
                    source,
                })?;
        let econtent = signed_data
            .encap_content_info
            .econtent
            .as_ref()
            .ok_or(LdsError::MissingField { field: "eContent" })?;
        if econtent.tag() != Tag::OctetString {
            return Err(LdsError::MissingField {
                field: "eContent OCTET STRING",
            });
        }
        let econtent = econtent.value().to_vec();
        let lds_security_object =
            LdsSecurityObject::from_der(&econtent).map_err(|source| LdsError::Decode {
                what: "LDSSecurityObject",
                source,
            })?;
        Ok(Self {
            content_info,
            signed_data,
            econtent,
            lds_security_object,
        })
    }

    /// Encode as EF.SOD bytes (`77` wrapper, DER inside).
    pub fn to_bytes(&self) -> Result<Vec<u8>, LdsError> {
        Ok(tlv::encode(TAG_SOD, &self.content_info_der()?))
    }

    /// DER of the ContentInfo (what `openssl cms -inform DER` reads).
    pub fn content_info_der(&self) -> Result<Vec<u8>, LdsError> {
        self.content_info
            .to_der()
            .map_err(|source| LdsError::Encode {
                what: "ContentInfo",
                source,
            })
    }

    /// The SignedData.
    pub fn signed_data(&self) -> &SignedData {
        &self.signed_data
    }

    /// The eContent bytes (DER LDSSecurityObject as signed).
    pub fn econtent(&self) -> &[u8] {
        &self.econtent
    }

    /// The LDSSecurityObject.
    pub fn lds_security_object(&self) -> &LdsSecurityObject {
        &self.lds_security_object
    }

    /// The data-group hash algorithm.
    pub fn hash_algorithm(&self) -> Result<HashAlgorithm, LdsError> {
        Ok(HashAlgorithm::from_oid(
            &self.lds_security_object.hash_algorithm.oid,
        )?)
    }

    /// The stored hash of data group `number`.
    pub fn data_group_hash(&self, number: u8) -> Option<&[u8]> {
        self.lds_security_object
            .data_group_hash_values
            .iter()
            .find(|h| h.data_group_number == number)
            .map(|h| h.data_group_hash_value.as_bytes())
    }

    /// The single SignerInfo (error if there is not exactly one).
    pub fn signer_info(&self) -> Result<&SignerInfo, LdsError> {
        let infos = &self.signed_data.signer_infos.0;
        if infos.len() != 1 {
            return Err(LdsError::SignerInfoCount { count: infos.len() });
        }
        infos
            .iter()
            .next()
            .ok_or(LdsError::SignerInfoCount { count: 0 })
    }

    /// The Document Signer certificate named by the SignerInfo's sid.
    pub fn document_signer(&self) -> Result<&Certificate, LdsError> {
        let signer_info = self.signer_info()?;
        travdoc_pkix::cms_verify::find_signer_certificate(&self.signed_data, &signer_info.sid)
            .ok_or(LdsError::MissingField {
                field: "Document Signer certificate",
            })
    }
}

/// Builds an EF.SOD over the exact bytes of the data groups written to the chip.
#[derive(Clone, Debug)]
pub struct SodBuilder {
    hash: HashAlgorithm,
    lds_version_info: Option<(String, String)>,
    signing_time: Option<Time>,
    data_groups: BTreeMap<u8, Vec<u8>>,
}

fn encode_any<T: der::EncodeValue + Tagged>(
    what: &'static str,
    value: &T,
) -> Result<Any, LdsError> {
    Any::encode_from(value).map_err(|source| LdsError::Encode { what, source })
}

impl Default for SodBuilder {
    fn default() -> Self {
        Self::new()
    }
}

impl SodBuilder {
    /// SHA-256 data-group hashes, LDSSecurityObject v0, no signingTime.
    pub fn new() -> Self {
        Self {
            hash: HashAlgorithm::Sha256,
            lds_version_info: None,
            signing_time: None,
            data_groups: BTreeMap::new(),
        }
    }

    /// Data-group hash algorithm: SHA-256 (default), SHA-384 or SHA-512 (SHA-224 allowed by
    /// 9303-12; SHA-1 refused for new documents).
    pub fn hash_algorithm(mut self, hash: HashAlgorithm) -> Result<Self, LdsError> {
        if hash == HashAlgorithm::Sha1 {
            return Err(LdsError::InvalidField {
                field: "hashAlgorithm",
                reason: "SHA-1 is not allowed for new SODs",
            });
        }
        self.hash = hash;
        Ok(self)
    }

    /// Emit LDSSecurityObject v1 with LDSVersionInfo (e.g. `"0108"`, `"040000"`).
    pub fn lds_version_info(mut self, lds_version: &str, unicode_version: &str) -> Self {
        self.lds_version_info = Some((lds_version.into(), unicode_version.into()));
        self
    }

    /// Add a signingTime signed attribute.
    pub fn signing_time(mut self, time: Time) -> Self {
        self.signing_time = Some(time);
        self
    }

    /// Add a data group file (tag + length + value, exactly as written to the chip). The
    /// number comes from the file's tag.
    pub fn add_data_group(mut self, file: &[u8]) -> Result<Self, LdsError> {
        let number = data_group_number_of(file)?;
        if self.data_groups.insert(number, file.to_vec()).is_some() {
            return Err(LdsError::DuplicateDataGroup { number });
        }
        Ok(self)
    }

    /// The LDSSecurityObject for the added data groups.
    pub fn lds_security_object(&self) -> Result<LdsSecurityObject, LdsError> {
        if self.data_groups.len() < 2 {
            return Err(LdsError::InvalidField {
                field: "dataGroupHashValues",
                reason: "at least two data groups (DG1 and DG2) are required",
            });
        }
        let mut values = Vec::new();
        for (number, file) in &self.data_groups {
            values.push(DataGroupHash {
                data_group_number: *number,
                data_group_hash_value: OctetString::new(self.hash.digest(file)).map_err(
                    |source| LdsError::Encode {
                        what: "dataGroupHashValue",
                        source,
                    },
                )?,
            });
        }
        let lds_version_info = match &self.lds_version_info {
            Some((lds, unicode)) => Some(LdsVersionInfo {
                lds_version: der::asn1::PrintableString::new(lds).map_err(|source| {
                    LdsError::Encode {
                        what: "ldsVersion",
                        source,
                    }
                })?,
                unicode_version: der::asn1::PrintableString::new(unicode).map_err(|source| {
                    LdsError::Encode {
                        what: "unicodeVersion",
                        source,
                    }
                })?,
            }),
            None => None,
        };
        Ok(LdsSecurityObject {
            version: u8::from(lds_version_info.is_some()),
            hash_algorithm: self.hash.algorithm_identifier(),
            data_group_hash_values: values,
            lds_version_info,
        })
    }

    /// Sign with `signer`, whose public key must be the one in `document_signer` (the DSC).
    /// The digest and signature algorithms are derived from the DSC's key (P-256 and
    /// brainpoolP256r1: SHA-256, P-384 and brainpoolP384r1: SHA-384; RSA: the signer's
    /// PKCS#1 v1.5 or PSS choice); a signer whose algorithm disagrees is refused.
    pub fn build<S, Sig>(&self, document_signer: &Certificate, signer: &S) -> Result<Sod, LdsError>
    where
        S: Signer<Sig> + Keypair + DynSignatureAlgorithmIdentifier,
        S::VerifyingKey: EncodePublicKey,
        Sig: SignatureEncoding,
    {
        let dsc_spki = document_signer.tbs_certificate().subject_public_key_info();
        let signer_spki = signer
            .verifying_key()
            .to_public_key_der()
            .ok()
            .and_then(|der| SubjectPublicKeyInfoOwned::from_der(der.as_bytes()).ok())
            .ok_or(LdsError::SignerKeyMismatch)?;
        // The DSC may carry explicit EC domain parameters (ICAO 9303-12) where the signer (an
        // HSM key) names its curve: compare the keys, not their encodings.
        if !travdoc_pkix::key::same_public_key(&signer_spki, dsc_spki)? {
            return Err(LdsError::SignerKeyMismatch);
        }
        let signature_algorithm_id =
            signer
                .signature_algorithm_identifier()
                .map_err(|_| LdsError::AlgorithmMismatch {
                    reason: "signer has no algorithm identifier",
                })?;
        let algorithm = SignatureAlgorithm::from_algorithm_identifier(&signature_algorithm_id)?;
        let key = PublicKey::from_spki(dsc_spki)?;
        match key.curve() {
            Some(curve) => {
                if algorithm != SignatureAlgorithm::Ecdsa(curve.default_hash()) {
                    return Err(LdsError::AlgorithmMismatch {
                        reason: "ECDSA signer must use the hash matching the DSC curve",
                    });
                }
            }
            None if key.is_ec() => {
                return Err(LdsError::AlgorithmMismatch {
                    reason: "DSC curve not supported for signing",
                });
            }
            None => {
                if !matches!(
                    algorithm,
                    SignatureAlgorithm::RsaPkcs1v15(_) | SignatureAlgorithm::RsaPss { .. }
                ) || algorithm.hash() == HashAlgorithm::Sha1
                {
                    return Err(LdsError::AlgorithmMismatch {
                        reason: "RSA DSC needs an RSA SHA-2 signer",
                    });
                }
            }
        }
        let digest = algorithm.hash();
        let digest_algorithm = digest.algorithm_identifier();

        let lds_security_object = self.lds_security_object()?;
        let econtent = lds_security_object
            .to_der()
            .map_err(|source| LdsError::Encode {
                what: "LDSSecurityObject",
                source,
            })?;

        let mut signed_attrs = SetOfVec::new();
        let attribute = |oid, value: AttributeValue| -> Result<Attribute, LdsError> {
            let mut values = SetOfVec::new();
            values.insert(value).map_err(|source| LdsError::Encode {
                what: "attribute value",
                source,
            })?;
            Ok(Attribute { oid, values })
        };
        signed_attrs
            .insert(attribute(
                CONTENT_TYPE_ATTR,
                encode_any("contentType", &ID_LDS_SECURITY_OBJECT)?,
            )?)
            .map_err(|source| LdsError::Encode {
                what: "signedAttrs",
                source,
            })?;
        let message_digest =
            OctetString::new(digest.digest(&econtent)).map_err(|source| LdsError::Encode {
                what: "messageDigest",
                source,
            })?;
        signed_attrs
            .insert(attribute(
                MESSAGE_DIGEST_ATTR,
                encode_any("messageDigest", &message_digest)?,
            )?)
            .map_err(|source| LdsError::Encode {
                what: "signedAttrs",
                source,
            })?;
        if let Some(time) = &self.signing_time {
            signed_attrs
                .insert(attribute(
                    SIGNING_TIME_ATTR,
                    encode_any("signingTime", time)?,
                )?)
                .map_err(|source| LdsError::Encode {
                    what: "signedAttrs",
                    source,
                })?;
        }
        let to_be_signed = signed_attrs.to_der().map_err(|source| LdsError::Encode {
            what: "signedAttrs",
            source,
        })?;
        let signature = signer
            .try_sign(&to_be_signed)
            .map_err(|_| LdsError::Signing)?;

        let tbs = document_signer.tbs_certificate();
        let signer_info = SignerInfo {
            version: CmsVersion::V1,
            sid: SignerIdentifier::IssuerAndSerialNumber(IssuerAndSerialNumber {
                issuer: tbs.issuer().clone(),
                serial_number: tbs.serial_number().clone(),
            }),
            digest_alg: digest_algorithm.clone(),
            signed_attrs: Some(signed_attrs),
            signature_algorithm: signature_algorithm_id,
            signature: OctetString::new(signature.to_vec()).map_err(|source| LdsError::Encode {
                what: "signature",
                source,
            })?,
            unsigned_attrs: None,
        };
        let mut digest_algorithms = SetOfVec::new();
        digest_algorithms
            .insert(digest_algorithm)
            .map_err(|source| LdsError::Encode {
                what: "digestAlgorithms",
                source,
            })?;
        let mut certificates = SetOfVec::new();
        certificates
            .insert(CertificateChoices::Certificate(document_signer.clone()))
            .map_err(|source| LdsError::Encode {
                what: "certificates",
                source,
            })?;
        let mut signer_infos = SetOfVec::new();
        signer_infos
            .insert(signer_info)
            .map_err(|source| LdsError::Encode {
                what: "signerInfos",
                source,
            })?;
        let signed_data =
            SignedData {
                version: CmsVersion::V3,
                digest_algorithms,
                encap_content_info: EncapsulatedContentInfo {
                    econtent_type: ID_LDS_SECURITY_OBJECT,
                    econtent: Some(Any::new(Tag::OctetString, econtent.clone()).map_err(
                        |source| LdsError::Encode {
                            what: "eContent",
                            source,
                        },
                    )?),
                },
                certificates: Some(CertificateSet(certificates)),
                crls: None,
                signer_infos: SignerInfos(signer_infos),
            };
        let content_info = ContentInfo {
            content_type: oids::SIGNED_DATA,
            content: Any::encode_from(&signed_data).map_err(|source| LdsError::Encode {
                what: "SignedData",
                source,
            })?,
        };
        Ok(Sod {
            content_info,
            signed_data,
            econtent,
            lds_security_object,
        })
    }
}
