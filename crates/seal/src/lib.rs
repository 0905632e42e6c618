//! Visible Digital Seals (ICAO Doc 9303 Part 13) for travdoc: the binary seal printed as a 2D
//! barcode on emergency travel documents (Part 8 ETD profile) and on legalization certificates
//! (travdoc's national legalization profile, see `docs/legalization-seal-profile.md`).
//!
//! The crate is pure: it encodes, decodes, signs through a caller-supplied [`RawDigestSigner`] and
//! verifies against certificates handed to it, at a time handed to it. It reads no files and no clock.
//!
//! - [`c40`]: C40 text compaction with its tail rules.
//! - [`Header`], [`Seal`], [`Feature`]: the wire format, versions 3 and 4; unknown features are kept.
//! - [`SealBuilder`]: header + message zone, signed over a digest by an HSM or software key.
//! - [`etd`] and [`legalization`]: the two profiles travdoc issues.
//! - [`qr`]: the URL text that carries a legalization seal in a QR code.
//! - [`verify`]: [`Verifier`] with the ICAO 9303-13 Appendix D statuses; its
//!   [`VerificationResult`] serialises as `{status, reasons: [{code, severity, message}], data}`.
//!
//! # API summary
//! - Issue an ETD seal: `etd::header(country, SignerReference::from_serial("LKET", serial)?,
//!   issue_date, signature_date)?`, `etd::builder(header, &EtdMrz::new(line1, line2)?)?`, then
//!   `.sign(&signer)?` with any [`RawDigestSigner`] (`curve()` + `sign_digest_raw(digest) -> r||s`)
//!   or `.sign_with(curve, |digest| ...)`; `seal.to_bytes()?` for the barcode.
//! - Issue a legalization seal: `Legalization::new(LegalizationFields { .. })?`,
//!   `legalization::header(country, signer, &legalization, signature_date)?`,
//!   `legalization::builder(header, &legalization)?.sign(&signer)?`; QR text with
//!   `qr_payload(&bytes, "https://verify.example/l")?`, back with `parse_qr_payload(text)?`.
//! - Read: `Seal::decode(&bytes)?` (any profile; unknown features kept), `etd::mrz(&seal)?`,
//!   `Legalization::from_seal(&seal)?`, `describe(&seal)` (display only, not verified).
//! - Verify: `Verifier::new(&signer_certificates, &trust_store, at_unix_seconds)
//!   .verify(&bytes, Presented::PrintedMrz([l1, l2]) | Presented::DocumentFile(&file) |
//!   Presented::DocumentSha256(hash) | Presented::Nothing)`, or `.verify_qr(text, presented)`.
//!
//! ```
//! use travdoc_seal::etd::{self, EtdMrz};
//! use travdoc_seal::{Curve, Seal, SealDate, SignerReference};
//!
//! let date = SealDate::from_ymd(2026, 6, 13)?;
//! let signer = SignerReference::from_serial("UTTS", &[0x5B])?;
//! let mrz = EtdMrz::new(
//!     "PUUTOERIKSSON<<ANNA<MARIA<<<<<<<<<<<",
//!     "D231458907UTO7408122F2606277<<<<<<<8",
//! )?;
//! let builder = etd::builder(etd::header("UTO", signer, date, date)?, &mrz)?;
//! // A real signer returns ECDSA r||s over the digest (an HSM key, or a software key).
//! let seal = builder.sign_with(Curve::P256, |digest| {
//!     assert_eq!(digest.len(), 32); // SHA-256 for a 256-bit curve
//!     Ok::<_, String>(vec![0x01; 64])
//! })?;
//! let bytes = seal.to_bytes()?;
//! assert_eq!(&bytes[..4], [0xDC, 0x03, 0xD9, 0xC5]); // magic, v4, "UTO"
//! assert_eq!(etd::mrz(&Seal::decode(&bytes)?)?, mrz);
//! # Ok::<(), travdoc_seal::SealError>(())
//! ```
#![forbid(unsafe_code)]

pub mod builder;
pub mod c40;
pub mod date;
pub mod error;
pub mod etd;
pub mod header;
pub mod legalization;
pub mod qr;
pub mod seal;
pub mod verify;

pub use builder::{Curve, RawDigestSigner, SealBuilder};
pub use date::SealDate;
pub use error::SealError;
pub use header::{Header, HeaderVersion, SignerReference};
pub use legalization::{Legalization, LegalizationFields};
pub use qr::{parse_qr_payload, qr_payload};
pub use seal::{Feature, Seal};
/// Re-exported so callers hand the verifier certificates and trust stores of the same versions.
pub use travdoc_pkix;
pub use verify::{
    Presented, Reason, SealData, Status, SubIndication, VerificationResult, Verifier, describe,
};

/// Shared by the cargo-fuzz target (`fuzz/fuzz_targets/seal_decode.rs`) and the property tests,
/// so both check the same invariants.
#[doc(hidden)]
pub mod fuzzing {
    use crate::verify::{Presented, Verifier};

    /// Decodes `data` as seal bytes and as QR text; returns a description of any broken
    /// invariant. Decoding must never panic, anything that decodes must re-encode to the same
    /// bytes, and verification of arbitrary bytes must never report `VALID` without a signer.
    pub fn check_decode_invariants(data: &[u8]) -> Result<(), String> {
        if let Ok(seal) = crate::Seal::decode(data) {
            let encoded = seal
                .to_bytes()
                .map_err(|error| format!("re-encoding failed: {error}"))?;
            if encoded != data {
                return Err("decoded seal re-encodes to different bytes".into());
            }
            let _ = crate::etd::mrz(&seal);
            let _ = crate::Legalization::from_seal(&seal);
        }
        let store = travdoc_pkix::TrustStore::new();
        let verifier = Verifier::new(&[], &store, 0);
        if verifier.verify(data, Presented::Nothing).is_valid() {
            return Err("arbitrary bytes verified without any certificate".into());
        }
        let text = String::from_utf8_lossy(data);
        if verifier.verify_qr(&text, Presented::Nothing).is_valid() {
            return Err("arbitrary QR text verified without any certificate".into());
        }
        Ok(())
    }
}
