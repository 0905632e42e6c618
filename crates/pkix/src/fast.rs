//! ECDSA verification on NIST P-256 with SHA-256 and P-384 with SHA-384 through `ring` (the
//! verifier rustls uses), about five times faster than the portable RustCrypto arithmetic on
//! this class of machine. Public verification of seals is the service's hottest path.
//!
//! The fast path can only say "valid": when `ring` rejects a signature the caller runs the
//! RustCrypto path, which gives the precise error (and decides). So the set of signatures
//! accepted is what it was, and the errors are exactly what they were.

use ring::signature::{self, UnparsedPublicKey, VerificationAlgorithm};
use spki::SubjectPublicKeyInfoOwned;

use crate::alg::HashAlgorithm;
use crate::key::{Curve, ec_curve};

/// How the signature is encoded.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Encoding {
    /// `r || s`, each the length of the curve's order (visible digital seals, BSI plain OIDs).
    Plain,
    /// DER `ECDSA-Sig-Value` (X.509, CMS).
    Der,
}

fn algorithm(
    curve: Curve,
    hash: HashAlgorithm,
    encoding: Encoding,
) -> Option<&'static dyn VerificationAlgorithm> {
    Some(match (curve, hash, encoding) {
        (Curve::P256, HashAlgorithm::Sha256, Encoding::Plain) => {
            &signature::ECDSA_P256_SHA256_FIXED
        }
        (Curve::P256, HashAlgorithm::Sha256, Encoding::Der) => &signature::ECDSA_P256_SHA256_ASN1,
        (Curve::P384, HashAlgorithm::Sha384, Encoding::Plain) => {
            &signature::ECDSA_P384_SHA384_FIXED
        }
        (Curve::P384, HashAlgorithm::Sha384, Encoding::Der) => &signature::ECDSA_P384_SHA384_ASN1,
        _ => return None,
    })
}

/// `true` when `signature` over `message` verifies with the EC key of `spki` on a curve and
/// hash `ring` supports; `false` when it does not verify or the combination is not supported
/// (the caller then decides with the portable path).
pub(crate) fn verifies(
    spki: &SubjectPublicKeyInfoOwned,
    hash: HashAlgorithm,
    encoding: Encoding,
    message: &[u8],
    signature: &[u8],
) -> bool {
    let Ok(curve) = ec_curve(spki) else {
        return false;
    };
    let Some(algorithm) = algorithm(curve, hash, encoding) else {
        return false;
    };
    // ring takes the uncompressed SEC1 point only.
    let point = spki.subject_public_key.raw_bytes();
    if point.first() != Some(&0x04) || point.len() != 1 + 2 * curve.field_len() {
        return false;
    }
    UnparsedPublicKey::new(algorithm, point)
        .verify(message, signature)
        .is_ok()
}

#[cfg(test)]
mod tests {
    use super::*;
    use der::Decode as _;
    use p256::ecdsa::signature::Signer as _;
    use spki::EncodePublicKey as _;

    fn key_and_spki() -> (p256::ecdsa::SigningKey, SubjectPublicKeyInfoOwned) {
        let key = p256::ecdsa::SigningKey::from_slice(&[0x17; 32]).expect("valid scalar");
        let der = key.verifying_key().to_public_key_der().expect("encodes");
        let spki = SubjectPublicKeyInfoOwned::from_der(der.as_bytes()).expect("parses");
        (key, spki)
    }

    #[test]
    fn p256_plain_and_der_verify_and_a_changed_message_does_not() {
        let (key, spki) = key_and_spki();
        let message = b"seal header and message";
        let signature: p256::ecdsa::Signature = key.sign(message);
        let plain = signature.to_bytes();
        let der = signature.to_der();
        assert!(verifies(
            &spki,
            HashAlgorithm::Sha256,
            Encoding::Plain,
            message,
            &plain
        ));
        assert!(verifies(
            &spki,
            HashAlgorithm::Sha256,
            Encoding::Der,
            message,
            der.as_bytes()
        ));
        assert!(!verifies(
            &spki,
            HashAlgorithm::Sha256,
            Encoding::Plain,
            b"other",
            &plain
        ));
        // Plain bytes are not DER and DER is not plain.
        assert!(!verifies(
            &spki,
            HashAlgorithm::Sha256,
            Encoding::Der,
            message,
            &plain
        ));
        // An unsupported combination is left to the portable path.
        assert!(!verifies(
            &spki,
            HashAlgorithm::Sha384,
            Encoding::Plain,
            message,
            &plain
        ));
    }
}
