//! PKI publication: what the service publishes for foreign authorities (every certificate ever
//! issued with its state, the CRLs, the master list), made once per PKI change and served from
//! memory, each artifact with its entity tag. The port the API's PKI handlers call, implemented
//! over `travdoc-pki` by the composition root.

use std::collections::{BTreeMap, HashMap};
use std::sync::Arc;

use serde::Serialize;
use sha2::Digest as _;

/// Bytes as published, with their entity tag (`"` + SHA-256 hex + `"`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Artifact {
    pub bytes: Vec<u8>,
    pub etag: String,
}

impl Artifact {
    pub fn new(bytes: Vec<u8>) -> Self {
        let etag = format!("\"{}\"", hex::encode(sha2::Sha256::digest(&bytes)));
        Artifact { bytes, etag }
    }
}

/// One certificate of the list (`GET /v1/pki/certificates`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, serde::Deserialize, utoipa::ToSchema)]
pub struct CertificateEntry {
    /// `csca-g1`, `link-g2`, `passport`, `ttd`, `legalization`, `master-list`, `ledger`.
    pub role: String,
    /// Serial number, upper-case hex (`GET /v1/pki/certificates/{serial}` gives the DER).
    pub serial: String,
    pub subject: String,
    pub sha256: String,
    /// RFC 3339.
    pub not_before: String,
    pub not_after: String,
    /// End of the private-key usage period (none for link certificates).
    pub key_usage_end: Option<String>,
    /// `current`, `retired`, `revoked` or `expired`.
    pub state: String,
    pub revocation: Option<RevocationEntry>,
}

/// One CRL of the list (`GET /v1/pki/crls`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, serde::Deserialize, utoipa::ToSchema)]
pub struct CrlEntry {
    /// The cRLNumber (`GET /v1/pki/crls/{number}` gives the DER).
    pub number: u64,
    /// The CSCA generation that issued it (`csca-g<N>` in the certificate list).
    pub csca_generation: u32,
    /// RFC 3339.
    pub this_update: String,
    pub next_update: Option<String>,
    /// The latest CRL of its CSCA: the one in force.
    pub current: bool,
}

/// When and why a certificate was revoked.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, serde::Deserialize, utoipa::ToSchema)]
pub struct RevocationEntry {
    /// RFC 3339.
    pub date: String,
    pub reason: String,
}

/// Everything published at one PKI generation.
#[derive(Debug, Clone, Default)]
pub struct Published {
    /// The certificate list as JSON.
    pub certificates: Option<Artifact>,
    /// Each certificate's DER by serial (upper-case hex without leading zeros).
    pub by_serial: HashMap<String, Artifact>,
    /// Every CRL by number.
    pub crls: BTreeMap<u64, Artifact>,
    /// The CRL list as JSON.
    pub crl_list: Option<Artifact>,
    /// The current CSCA's current CRL.
    pub crl: Option<Artifact>,
    /// The current CSCA certificate.
    pub csca: Option<Artifact>,
    pub master_list: Option<Artifact>,
    /// The current signer certificates by purpose (DER).
    pub signers: Vec<(String, Vec<u8>)>,
    /// When the PKI needs attention (`crl:g1`, `csca:g1`, `key_usage:ttd`, ...), Unix seconds.
    pub deadlines: Vec<(String, u64)>,
    /// The deadlines past or within their renewal window, in words (empty: all well).
    pub attention: Vec<String>,
}

/// A serial number as the publication keys it: upper-case hex without leading zeros.
pub fn serial_key(serial: &str) -> String {
    let upper = serial.trim().to_ascii_uppercase();
    let trimmed = upper.trim_start_matches('0');
    if trimmed.is_empty() {
        "0".to_owned()
    } else {
        trimmed.to_owned()
    }
}

/// Public parts of the PKI, as published now.
pub trait Publication: Send + Sync {
    fn published(&self) -> Arc<Published>;
}

/// Nothing published.
#[derive(Debug, Default)]
pub struct NoPublication;

impl Publication for NoPublication {
    fn published(&self) -> Arc<Published> {
        Arc::new(Published::default())
    }
}
