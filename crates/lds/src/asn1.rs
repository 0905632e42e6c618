//! ASN.1 types of the Document Security Object (9303-10 §4.6.2, module
//! `LDSSecurityObjectV1 {joint-iso-itu-t(2) international(23) icao(136) mrtd(1) security(1)
//! ldsSecurityObject(1)}`, IMPLICIT TAGS).

use const_oid::ObjectIdentifier;
use der::Sequence;
use der::asn1::{OctetString, PrintableString};
use spki::AlgorithmIdentifierOwned;

/// id-icao-mrtd-security-ldsSecurityObject, the SOD eContentType (9303-10 §4.6.2).
pub const ID_LDS_SECURITY_OBJECT: ObjectIdentifier = ObjectIdentifier::new_unwrap("2.23.136.1.1.1");

/// LDSSecurityObject (9303-10 §4.6.2.2).
///
/// ```text
/// LDSSecurityObject ::= SEQUENCE {
///   version LDSSecurityObjectVersion,
///   hashAlgorithm DigestAlgorithmIdentifier,
///   dataGroupHashValues SEQUENCE SIZE (2..ub-DataGroups) OF DataGroupHash,
///   ldsVersionInfo LDSVersionInfo OPTIONAL
///     -- if present, version MUST be v1 }
/// LDSSecurityObjectVersion ::= INTEGER {v0(0), v1(1)}
/// ```
#[derive(Clone, Debug, PartialEq, Eq, Sequence)]
pub struct LdsSecurityObject {
    /// version: 0, or 1 when `lds_version_info` is present.
    pub version: u8,
    /// hashAlgorithm.
    pub hash_algorithm: AlgorithmIdentifierOwned,
    /// dataGroupHashValues.
    pub data_group_hash_values: Vec<DataGroupHash>,
    /// ldsVersionInfo (LDS 1.8).
    pub lds_version_info: Option<LdsVersionInfo>,
}

/// DataGroupHash (9303-10 §4.6.2.2).
///
/// ```text
/// DataGroupHash ::= SEQUENCE {
///   dataGroupNumber DataGroupNumber,
///   dataGroupHashValue OCTET STRING }
/// DataGroupNumber ::= INTEGER { dataGroup1(1), ..., dataGroup16(16) }
/// ```
#[derive(Clone, Debug, PartialEq, Eq, Sequence)]
pub struct DataGroupHash {
    /// dataGroupNumber (1..=16).
    pub data_group_number: u8,
    /// dataGroupHashValue.
    pub data_group_hash_value: OctetString,
}

/// LDSVersionInfo (9303-10 §4.6.2.2).
///
/// ```text
/// LDSVersionInfo ::= SEQUENCE {
///   ldsVersion PRINTABLE STRING
///   unicodeVersion PRINTABLE STRING }
/// ```
#[derive(Clone, Debug, PartialEq, Eq, Sequence)]
pub struct LdsVersionInfo {
    /// ldsVersion, e.g. `0108`.
    pub lds_version: PrintableString,
    /// unicodeVersion, e.g. `040000`.
    pub unicode_version: PrintableString,
}
