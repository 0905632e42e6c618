//! Ledger events and their one canonical encoding.
//!
//! An [`Entry`] (format version, time, [`Event`]) is encoded as compact JSON with a fixed field
//! order (serde's declaration order; no maps, no floats): that byte string is the entry body,
//! stored apart from the tree. The Merkle leaf ([`leaf_bytes`]) holds only a domain tag, the
//! event kind code, the time and the SHA-256 of the body, so the public tree carries no personal
//! data. Fields referring to people or documents are references chosen by the caller (salted
//! hashes, internal identifiers), never names or raw MRZ data.
//!
//! New kinds are added at the end of [`Event`] with a new, never reused [`Event::kind_code`].
//! A change to an existing kind's fields needs a new entry version.

use serde::{Deserialize, Serialize};
use sha2::{Digest as _, Sha256};

/// Current entry format version.
pub const ENTRY_VERSION: u8 = 1;
/// Domain tag at the start of every v1 leaf.
pub const LEAF_TAG_V1: &[u8; 4] = b"TDL1";
/// Length of a v1 leaf: tag, kind (u16), time (i64), body hash.
pub const LEAF_V1_LEN: usize = 4 + 2 + 8 + 32;

/// A SHA-256 digest, written as lowercase hex.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct Digest32(pub [u8; 32]);

impl Digest32 {
    /// The SHA-256 of `data`.
    pub fn of(data: &[u8]) -> Self {
        Self(Sha256::digest(data).into())
    }
}

impl Serialize for Digest32 {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(&hex::encode(self.0))
    }
}

impl<'de> Deserialize<'de> for Digest32 {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let text = String::deserialize(deserializer)?;
        if text.len() != 64 || text.bytes().any(|b| b.is_ascii_uppercase()) {
            return Err(serde::de::Error::custom("expected 64 lowercase hex digits"));
        }
        let bytes = hex::decode(&text).map_err(serde::de::Error::custom)?;
        let array = <[u8; 32]>::try_from(bytes.as_slice()).map_err(serde::de::Error::custom)?;
        Ok(Self(array))
    }
}

/// The state of a print job.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum PrintStatus {
    Sent,
    Failed,
    Completed,
}

/// Everything the ledger records. Field values are references and digests, never personal data.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case", deny_unknown_fields)]
#[non_exhaustive]
pub enum Event {
    /// A key pair was generated in the HSM.
    PkiKeyGenerated {
        key_label: String,
        /// CKA_ID or key identifier, hex.
        key_id: String,
        algorithm: String,
        purpose: String,
    },
    /// A certificate was issued.
    CertificateIssued {
        certificate_sha256: Digest32,
        serial: String,
        profile: String,
        issuer_key_id: String,
    },
    /// A certificate was revoked.
    CertificateRevoked {
        certificate_sha256: Digest32,
        serial: String,
        reason: String,
    },
    /// The CSCA was rolled over to a new key.
    CscaRollover {
        old_certificate_sha256: Digest32,
        new_certificate_sha256: Digest32,
        link_certificate_sha256: Option<Digest32>,
    },
    /// A CSCA master list (CMS SignedData over the trusted CSCAs) was issued.
    MasterListIssued {
        master_list_sha256: Digest32,
        /// Serial (hex) of the master-list signer certificate.
        signer_serial: String,
    },
    /// A CRL was issued.
    CrlIssued {
        crl_sha256: Digest32,
        crl_number: u64,
        issuer_key_id: String,
    },
    /// A data dir's file-based PKI state was imported into the database (once, on upgrade);
    /// its earlier acts were ledgered when they happened.
    PkiStateImported {
        state_sha256: Digest32,
        artifacts: u64,
    },
    /// A certificate issued by a ceremony for a requested key was imported: its signer signs
    /// from now on.
    SignerActivated {
        certificate_sha256: Digest32,
        serial: String,
        purpose: String,
    },
    /// A PKI ceremony (an act with the CSCA key) was held by two operators.
    PkiCeremony {
        act: String,
        operator_ref: String,
        second_operator_ref: String,
    },
    /// A passport was issued (SOD hash and Document Signer key identify it for verifiers).
    PassportIssued {
        document_ref: String,
        issuing_state: String,
        sod_sha256: Digest32,
        ds_key_id: String,
        operator_ref: String,
    },
    /// A temporary travel document was issued.
    TtdIssued {
        document_ref: String,
        issuing_state: String,
        seal_sha256: Digest32,
        signer_key_id: String,
        mission: String,
        operator_ref: String,
    },
    /// A legalization certificate was issued.
    LegalizationIssued {
        certificate_ref: String,
        legalized_document_sha256: Digest32,
        seal_sha256: Digest32,
        signer_key_id: String,
        operator_ref: String,
    },
    /// A print job changed state.
    PrintJob {
        document_ref: String,
        job_ref: String,
        printer: String,
        status: PrintStatus,
        blank_serial: Option<String>,
    },
    /// A document was printed again, with a recorded reason.
    Reprint {
        document_ref: String,
        reason: String,
        previous_blank_serial: Option<String>,
        operator_ref: String,
    },
    /// A blank was spoiled.
    BlankSpoiled {
        blank_serial: String,
        reason: String,
        operator_ref: String,
    },
    /// A document was revoked.
    DocumentRevoked {
        document_ref: String,
        reason: String,
        operator_ref: String,
    },
    /// A single-journey document was used on arrival.
    ArrivalCleared {
        document_ref: String,
        port: String,
        operator_ref: String,
    },
    /// A document number was voided.
    NumberVoided {
        number_ref: String,
        reason: String,
        operator_ref: String,
    },
    /// A user account was added.
    UserAdded {
        user_ref: String,
        role: String,
        operator_ref: String,
    },
    /// A request was approved: the second officer of the four eyes.
    RequestApproved {
        request_ref: String,
        request_kind: String,
        approver_ref: String,
    },
    /// A check before issuance held a request (`codes`: the hits, e.g. `NIC_MISMATCH`).
    RequestHeld {
        request_ref: String,
        request_kind: String,
        codes: Vec<String>,
    },
    /// An approver cleared one hit of a held request (the reason is in the request's record).
    HoldCleared {
        request_ref: String,
        request_kind: String,
        code: String,
        approver_ref: String,
    },
    /// An approver sent a request back to its requester for correction.
    RequestReturned {
        request_ref: String,
        request_kind: String,
        approver_ref: String,
    },
    /// An approver refused a request (final).
    RequestRejected {
        request_ref: String,
        request_kind: String,
        approver_ref: String,
    },
    /// A lost/stolen documents list was imported (`sha256`: the file's).
    SltdImported {
        import_ref: String,
        sha256: String,
        lines: u64,
        added: u64,
        rejected: u64,
        operator_ref: String,
    },
    /// A staff member signed in (`method`: the factors used).
    SignedIn {
        user_ref: String,
        method: String,
        client: Option<String>,
    },
    /// A sign-in failed (`user_ref` when the name was an account's).
    SignInFailed {
        user_ref: Option<String>,
        client: Option<String>,
        reason: String,
    },
    /// An account (`user:<id>`) or a client address (`client:<address>`) was locked after
    /// repeated failures, until `until` (Unix seconds).
    SignInLocked { subject: String, until: i64 },
    /// An admin lifted the locks of an account.
    SignInUnlocked {
        user_ref: String,
        operator_ref: String,
    },
    /// A one-time enrolment code was issued (a new account, or a reset).
    EnrolmentIssued {
        user_ref: String,
        operator_ref: String,
    },
    /// A person enrolled a factor (`password`, `totp`, `recovery_codes`).
    FactorEnrolled { user_ref: String, factor: String },
    /// A grant of approver or admin (`kind`: `role` or `enable`) awaits a second admin.
    GrantRequested {
        grant_ref: String,
        user_ref: String,
        grant_kind: String,
        role: String,
        operator_ref: String,
    },
    /// A second admin confirmed a grant; it is in force.
    GrantConfirmed {
        grant_ref: String,
        user_ref: String,
        role: String,
        operator_ref: String,
    },
    /// A role changed with no grant needed (to a role other than approver or admin).
    RoleChanged {
        user_ref: String,
        role: String,
        operator_ref: String,
    },
    /// An account was disabled (its sessions and tokens stop at once).
    UserDisabled {
        user_ref: String,
        operator_ref: String,
    },
    /// An account was enabled.
    UserEnabled {
        user_ref: String,
        operator_ref: String,
    },
    /// An API token was created.
    TokenCreated {
        token_ref: String,
        user_ref: String,
        expires_at: i64,
        operator_ref: String,
    },
    /// An API token was revoked.
    TokenRevoked {
        token_ref: String,
        user_ref: String,
        operator_ref: String,
    },
}

impl Event {
    /// The stable numeric code of this kind, written into the leaf. Never reused.
    pub fn kind_code(&self) -> u16 {
        match self {
            Self::PkiKeyGenerated { .. } => 0x0001,
            Self::CertificateIssued { .. } => 0x0002,
            Self::CertificateRevoked { .. } => 0x0003,
            Self::CscaRollover { .. } => 0x0004,
            Self::CrlIssued { .. } => 0x0005,
            Self::MasterListIssued { .. } => 0x0006,
            Self::PkiStateImported { .. } => 0x0007,
            Self::PkiCeremony { .. } => 0x0008,
            Self::SignerActivated { .. } => 0x0009,
            Self::PassportIssued { .. } => 0x0101,
            Self::TtdIssued { .. } => 0x0102,
            Self::LegalizationIssued { .. } => 0x0103,
            Self::PrintJob { .. } => 0x0201,
            Self::Reprint { .. } => 0x0202,
            Self::BlankSpoiled { .. } => 0x0203,
            Self::DocumentRevoked { .. } => 0x0301,
            Self::ArrivalCleared { .. } => 0x0302,
            Self::NumberVoided { .. } => 0x0303,
            Self::RequestApproved { .. } => 0x0304,
            Self::RequestHeld { .. } => 0x0305,
            Self::HoldCleared { .. } => 0x0306,
            Self::RequestReturned { .. } => 0x0307,
            Self::RequestRejected { .. } => 0x0308,
            Self::SltdImported { .. } => 0x0501,
            Self::UserAdded { .. } => 0x0401,
            Self::SignedIn { .. } => 0x0402,
            Self::SignInFailed { .. } => 0x0403,
            Self::SignInLocked { .. } => 0x0404,
            Self::SignInUnlocked { .. } => 0x0405,
            Self::EnrolmentIssued { .. } => 0x0406,
            Self::FactorEnrolled { .. } => 0x0407,
            Self::GrantRequested { .. } => 0x0408,
            Self::GrantConfirmed { .. } => 0x0409,
            Self::RoleChanged { .. } => 0x040A,
            Self::UserDisabled { .. } => 0x040B,
            Self::UserEnabled { .. } => 0x040C,
            Self::TokenCreated { .. } => 0x040D,
            Self::TokenRevoked { .. } => 0x040E,
        }
    }
}

/// One ledger entry: format version, time (Unix seconds, from the caller's clock) and event.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Entry {
    pub v: u8,
    pub time: i64,
    pub event: Event,
}

/// Why an entry body is not a canonical v1 entry.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum EncodingError {
    #[error("entry body is not a v{ENTRY_VERSION} entry: {0}")]
    Malformed(String),
    #[error("entry version {0} is not supported")]
    UnsupportedVersion(u8),
    #[error("entry body is not in canonical form")]
    NotCanonical,
}

impl Entry {
    /// A current-version entry.
    pub fn new(time: i64, event: Event) -> Self {
        Self {
            v: ENTRY_VERSION,
            time,
            event,
        }
    }

    /// The canonical body bytes.
    pub fn encode(&self) -> Vec<u8> {
        // Serialising these types cannot fail: no maps with non-string keys, no floats.
        serde_json::to_vec(self).unwrap_or_default()
    }

    /// Parses a body and checks that it is canonical (re-encoding gives the same bytes).
    pub fn decode(body: &[u8]) -> Result<Self, EncodingError> {
        let entry: Self = serde_json::from_slice(body)
            .map_err(|error| EncodingError::Malformed(error.to_string()))?;
        if entry.v != ENTRY_VERSION {
            return Err(EncodingError::UnsupportedVersion(entry.v));
        }
        if entry.encode() != body {
            return Err(EncodingError::NotCanonical);
        }
        Ok(entry)
    }

    /// The Merkle leaf for this entry's canonical body.
    pub fn leaf(&self, body: &[u8]) -> [u8; LEAF_V1_LEN] {
        leaf_bytes(self.event.kind_code(), self.time, body)
    }
}

/// A v1 leaf: `"TDL1" || kind (u16 BE) || time (i64 BE) || SHA-256(body)`.
pub fn leaf_bytes(kind: u16, time: i64, body: &[u8]) -> [u8; LEAF_V1_LEN] {
    let mut leaf = [0u8; LEAF_V1_LEN];
    leaf[..4].copy_from_slice(LEAF_TAG_V1);
    leaf[4..6].copy_from_slice(&kind.to_be_bytes());
    leaf[6..14].copy_from_slice(&time.to_be_bytes());
    leaf[14..].copy_from_slice(&Sha256::digest(body));
    leaf
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sample() -> Entry {
        Entry::new(
            1_790_000_000,
            Event::PrintJob {
                document_ref: "doc-1".into(),
                job_ref: "job-9".into(),
                printer: "mission-colombo-1".into(),
                status: PrintStatus::Completed,
                blank_serial: Some("B000123".into()),
            },
        )
    }

    #[test]
    fn canonical_round_trip() {
        let entry = sample();
        let body = entry.encode();
        assert_eq!(
            String::from_utf8(body.clone()).unwrap_or_default(),
            r#"{"v":1,"time":1790000000,"event":{"kind":"print_job","document_ref":"doc-1","job_ref":"job-9","printer":"mission-colombo-1","status":"completed","blank_serial":"B000123"}}"#
        );
        assert_eq!(Entry::decode(&body), Ok(entry));
    }

    #[test]
    fn non_canonical_and_unknown_are_refused() {
        let body = sample().encode();
        let spaced = String::from_utf8(body)
            .unwrap_or_default()
            .replace(":1,", ": 1,");
        assert_eq!(
            Entry::decode(spaced.as_bytes()),
            Err(EncodingError::NotCanonical)
        );
        let unknown = br#"{"v":1,"time":1,"event":{"kind":"teleport"}}"#;
        assert!(matches!(
            Entry::decode(unknown),
            Err(EncodingError::Malformed(_))
        ));
        let v2 = br#"{"v":2,"time":1,"event":{"kind":"blank_spoiled","blank_serial":"a","reason":"b","operator_ref":"c"}}"#;
        assert_eq!(Entry::decode(v2), Err(EncodingError::UnsupportedVersion(2)));
    }

    #[test]
    fn leaf_commits_to_kind_time_and_body() {
        let entry = sample();
        let body = entry.encode();
        let leaf = entry.leaf(&body);
        assert_eq!(&leaf[..4], b"TDL1");
        assert_eq!(u16::from_be_bytes([leaf[4], leaf[5]]), 0x0201);
        assert_eq!(&leaf[14..], Sha256::digest(&body).as_slice());
        let mut other = body.clone();
        other[10] ^= 1;
        assert_ne!(leaf_bytes(0x0201, entry.time, &other), leaf);
    }
}
