//! Pieces of CMS SignedData verification (RFC 5652 §5.4, §5.6) shared by SOD and master lists.

use cms::cert::CertificateChoices;
use cms::signed_data::{SignedData, SignerIdentifier, SignerInfo};
use const_oid::ObjectIdentifier;
use der::{Any, Encode};
use x509_cert::Certificate;
use x509_cert::ext::pkix::SubjectKeyIdentifier;

use crate::PkixError;
use crate::alg::SignatureAlgorithm;

/// id-contentType (RFC 5652 §11.1).
pub const CONTENT_TYPE_ATTR: ObjectIdentifier =
    ObjectIdentifier::new_unwrap("1.2.840.113549.1.9.3");
/// id-messageDigest (RFC 5652 §11.2).
pub const MESSAGE_DIGEST_ATTR: ObjectIdentifier =
    ObjectIdentifier::new_unwrap("1.2.840.113549.1.9.4");
/// id-signingTime (RFC 5652 §11.3).
pub const SIGNING_TIME_ATTR: ObjectIdentifier =
    ObjectIdentifier::new_unwrap("1.2.840.113549.1.9.5");

/// DER of the signed attributes re-tagged as `SET OF` (0x31): the signature input (RFC 5652 §5.4).
pub fn signed_attributes_der(signer_info: &SignerInfo) -> Result<Vec<u8>, PkixError> {
    let attrs = signer_info
        .signed_attrs
        .as_ref()
        .ok_or(PkixError::MissingField {
            field: "signedAttrs",
        })?;
    attrs.to_der().map_err(|source| PkixError::Encode {
        what: "signedAttrs",
        source,
    })
}

/// The single value of signed attribute `oid`; error if absent or multi-valued.
pub fn signed_attribute(
    signer_info: &SignerInfo,
    oid: ObjectIdentifier,
) -> Result<Option<&Any>, PkixError> {
    let Some(attrs) = signer_info.signed_attrs.as_ref() else {
        return Ok(None);
    };
    let mut matching = attrs.iter().filter(|a| a.oid == oid);
    let Some(attr) = matching.next() else {
        return Ok(None);
    };
    if matching.next().is_some() || attr.values.len() != 1 {
        return Err(PkixError::InvalidAttribute { oid });
    }
    Ok(attr.values.iter().next())
}

/// Resolve the SignerInfo's signature algorithm (digestAlgorithm + signatureAlgorithm).
pub fn signer_info_algorithm(signer_info: &SignerInfo) -> Result<SignatureAlgorithm, PkixError> {
    SignatureAlgorithm::from_signer_info(&signer_info.digest_alg, &signer_info.signature_algorithm)
}

/// Verify the SignerInfo's signature over its signed attributes with `signer`'s key.
pub fn verify_signer_info_signature(
    signer_info: &SignerInfo,
    signer: &Certificate,
) -> Result<(), PkixError> {
    let algorithm = signer_info_algorithm(signer_info)?;
    let message = signed_attributes_der(signer_info)?;
    crate::verify_message(
        signer.tbs_certificate().subject_public_key_info(),
        algorithm,
        &message,
        signer_info.signature.as_bytes(),
    )
}

/// Whether `cert` is the one named by `sid`.
pub fn signer_identifier_matches(sid: &SignerIdentifier, cert: &Certificate) -> bool {
    match sid {
        SignerIdentifier::IssuerAndSerialNumber(isn) => {
            isn.issuer == *cert.tbs_certificate().issuer()
                && isn.serial_number.as_bytes() == cert.tbs_certificate().serial_number().as_bytes()
        }
        SignerIdentifier::SubjectKeyIdentifier(ski) => {
            matches!(
                cert.tbs_certificate().get_extension::<SubjectKeyIdentifier>(),
                Ok(Some((_, own))) if own.0.as_bytes() == ski.0.as_bytes()
            )
        }
    }
}

/// The certificate in `signed_data.certificates` that `sid` names.
pub fn find_signer_certificate<'a>(
    signed_data: &'a SignedData,
    sid: &SignerIdentifier,
) -> Option<&'a Certificate> {
    signed_data.certificates.as_ref().and_then(|set| {
        set.0.iter().find_map(|choice| match choice {
            CertificateChoices::Certificate(cert) if signer_identifier_matches(sid, cert) => {
                Some(cert)
            }
            _ => None,
        })
    })
}
