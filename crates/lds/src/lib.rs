//! eMRTD chip data for ICAO 9303 LDS1: DG1 (MRZ), DG2 (face, ISO/IEC 19794-5 and 39794-5),
//! EF.COM, DG11/DG12, the LDSSecurityObject, EF.SOD built over any RustCrypto signer, and
//! Passive Authentication with a separate result for every check. Pure: no I/O, no clock.
//!
//! # API summary
//! - [`dg::Dg1`]`::new(mrz) / from_bytes / to_bytes / document_code`; [`dg::EfCom`];
//!   [`dg::FieldDataGroup`]`::dg11 / dg12`; [`dg::data_group_number_of`]`(file)`.
//! - [`dg2::Dg2`]`::from_photo(jpeg_or_jp2, &PhotoLimits::default())`, `from_bytes`, `to_bytes`;
//!   [`dg2::image_info`] (JPEG SOF / JP2 ihdr / J2K SIZ).
//! - [`sod::SodBuilder`]`::new().hash_algorithm(..)?.lds_version_info(..).add_data_group(&dg1)?
//!   .build(&dsc, &signer)?` where `signer: Signer<Sig> + Keypair + DynSignatureAlgorithmIdentifier`.
//! - [`sod::Sod`]`::from_bytes(ef_sod)`, `to_bytes`, `content_info_der`, `document_signer`.
//! - [`pa::passive_authentication`]`(ef_sod, &[dg files], &TrustStore, &PaOptions) -> PaReport`.
#![forbid(unsafe_code)]
#![warn(missing_docs)]

pub mod asn1;
pub mod dg;
pub mod dg2;
pub mod pa;
pub mod sod;
pub mod tlv;

pub use pa::{Check, PaOptions, PaReport, Verdict, passive_authentication};
pub use sod::{Sod, SodBuilder};
pub use travdoc_pkix;

use const_oid::ObjectIdentifier;

/// Errors of this crate.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum LdsError {
    /// Malformed BER-TLV.
    #[error("malformed TLV: {reason}")]
    Tlv {
        /// What is wrong.
        reason: &'static str,
    },
    /// A different tag than expected.
    #[error("expected tag {expected:#X}, found {found:#X}")]
    UnexpectedTag {
        /// Expected tag.
        expected: u32,
        /// Found tag.
        found: u32,
    },
    /// A file tag that is not a data group.
    #[error("tag {tag:#X} is not a data group tag")]
    UnknownDataGroupTag {
        /// The tag.
        tag: u32,
    },
    /// A required field is missing.
    #[error("missing {field}")]
    MissingField {
        /// The field.
        field: &'static str,
    },
    /// A field has an invalid value.
    #[error("invalid {field}: {reason}")]
    InvalidField {
        /// The field.
        field: &'static str,
        /// What is wrong.
        reason: &'static str,
    },
    /// The photo is not a readable JPEG / JPEG 2000.
    #[error("image: {reason}")]
    Image {
        /// What is wrong.
        reason: &'static str,
    },
    /// The photo does not meet the limits.
    #[error("photo rejected: {reason}")]
    PhotoRejected {
        /// What is wrong.
        reason: &'static str,
    },
    /// DER decoding failed.
    #[error("cannot decode {what}: {source}")]
    Decode {
        /// The structure.
        what: &'static str,
        /// The DER error.
        source: der::Error,
    },
    /// DER encoding failed.
    #[error("cannot encode {what}: {source}")]
    Encode {
        /// The structure.
        what: &'static str,
        /// The DER error.
        source: der::Error,
    },
    /// ContentInfo is not SignedData.
    #[error("unexpected content type {oid}")]
    UnexpectedContentType {
        /// The OID.
        oid: ObjectIdentifier,
    },
    /// Not exactly one SignerInfo.
    #[error("the SOD has {count} SignerInfos, expected 1")]
    SignerInfoCount {
        /// How many.
        count: usize,
    },
    /// The same data group was added twice.
    #[error("data group {number} added twice")]
    DuplicateDataGroup {
        /// The number.
        number: u8,
    },
    /// The signer's public key is not the DSC's.
    #[error("the signer's public key differs from the Document Signer certificate's")]
    SignerKeyMismatch,
    /// The signer's algorithm does not fit the DSC key.
    #[error("signer algorithm does not match the DSC key: {reason}")]
    AlgorithmMismatch {
        /// What is wrong.
        reason: &'static str,
    },
    /// The signer failed.
    #[error("the signer failed to sign")]
    Signing,
    /// A PKIX error.
    #[error("{0}")]
    Pkix(String),
}

impl From<travdoc_pkix::PkixError> for LdsError {
    fn from(error: travdoc_pkix::PkixError) -> Self {
        Self::Pkix(error.to_string())
    }
}

/// Invariants over arbitrary input, shared by the fuzz targets (`fuzz/`) and the property
/// tests that run them on stable Rust in CI.
#[doc(hidden)]
pub mod fuzzing {
    use crate::dg::{Dg1, EfCom, FieldDataGroup};

    /// Parses `data` as DG1, DG11, DG12 and EF.COM. Nothing may panic, and whatever parses
    /// re-encodes to bytes that parse to the same value (the hashes of Passive Authentication
    /// are over the bytes as read, so a non-minimal length is kept apart from this).
    pub fn check_data_groups(data: &[u8]) -> Result<(), String> {
        if let Ok(dg1) = Dg1::from_bytes(data) {
            let _ = dg1.lines();
            let _ = dg1.document_code();
            if Dg1::from_bytes(&dg1.to_bytes()).ok() != Some(dg1.clone()) {
                return Err("DG1 does not survive a round trip".into());
            }
        }
        if let Ok(group) = FieldDataGroup::from_bytes(data)
            && FieldDataGroup::from_bytes(&group.to_bytes()).ok() != Some(group.clone())
        {
            return Err("DG11/DG12 does not survive a round trip".into());
        }
        if let Ok(com) = EfCom::from_bytes(data) {
            let _ = com.data_groups();
            if EfCom::from_bytes(&com.to_bytes()).ok() != Some(com.clone()) {
                return Err("EF.COM does not survive a round trip".into());
            }
        }
        Ok(())
    }
}
