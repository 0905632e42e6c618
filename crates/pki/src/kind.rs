//! Signer kinds, revocation reasons and PKI events.

use serde::{Deserialize, Serialize};

/// The signers the PKI issues, each with its own key and profile.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum SignerKind {
    /// Document Signer for passport SODs.
    Passport,
    /// Bar-code signer for TTD visible digital seals (ICAO 9303-8/-13).
    Ttd,
    /// Bar-code signer for legalization certificate seals.
    Legalization,
    /// CSCA master-list signer.
    MasterList,
    /// The audit ledger's checkpoint key.
    Ledger,
}

impl SignerKind {
    /// All kinds, in issuance order.
    pub const ALL: [SignerKind; 5] = [
        SignerKind::Passport,
        SignerKind::Ttd,
        SignerKind::Legalization,
        SignerKind::MasterList,
        SignerKind::Ledger,
    ];

    /// Stable name (`passport`, `ttd`, `legalization`, `master-list`, `ledger`).
    pub fn name(self) -> &'static str {
        match self {
            SignerKind::Passport => "passport",
            SignerKind::Ttd => "ttd",
            SignerKind::Legalization => "legalization",
            SignerKind::MasterList => "master-list",
            SignerKind::Ledger => "ledger",
        }
    }
}

impl std::fmt::Display for SignerKind {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.name())
    }
}

impl std::str::FromStr for SignerKind {
    type Err = String;
    fn from_str(text: &str) -> Result<Self, String> {
        SignerKind::ALL
            .into_iter()
            .find(|kind| kind.name() == text)
            .ok_or_else(|| format!("unknown signer kind `{text}` (passport, ttd, legalization, master-list, ledger)"))
    }
}

/// Why a certificate was revoked (RFC 5280 reason names; recorded in our store only).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
#[non_exhaustive]
pub enum RevocationReason {
    Unspecified,
    KeyCompromise,
    CaCompromise,
    AffiliationChanged,
    Superseded,
    CessationOfOperation,
}

impl RevocationReason {
    const ALL: [RevocationReason; 6] = [
        RevocationReason::Unspecified,
        RevocationReason::KeyCompromise,
        RevocationReason::CaCompromise,
        RevocationReason::AffiliationChanged,
        RevocationReason::Superseded,
        RevocationReason::CessationOfOperation,
    ];

    /// Stable name.
    pub fn name(self) -> &'static str {
        match self {
            RevocationReason::Unspecified => "unspecified",
            RevocationReason::KeyCompromise => "key-compromise",
            RevocationReason::CaCompromise => "ca-compromise",
            RevocationReason::AffiliationChanged => "affiliation-changed",
            RevocationReason::Superseded => "superseded",
            RevocationReason::CessationOfOperation => "cessation-of-operation",
        }
    }
}

impl std::fmt::Display for RevocationReason {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.name())
    }
}

impl std::str::FromStr for RevocationReason {
    type Err = String;
    fn from_str(text: &str) -> Result<Self, String> {
        let wanted = text.to_ascii_lowercase().replace('_', "-");
        RevocationReason::ALL
            .into_iter()
            .find(|reason| reason.name() == wanted)
            .ok_or_else(|| {
                let names: Vec<&str> = RevocationReason::ALL.iter().map(|r| r.name()).collect();
                format!("unknown revocation reason `{text}` ({})", names.join(", "))
            })
    }
}

/// What happened in the PKI (for the audit ledger).
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum PkiEventKind {
    CscaCreated {
        generation: u32,
    },
    LinkCertificateIssued {
        from_generation: u32,
        to_generation: u32,
        /// SHA-256 (hex) of the old CSCA's self-signed certificate.
        old_csca_sha256: String,
        /// SHA-256 (hex) of the new CSCA's self-signed certificate.
        new_csca_sha256: String,
    },
    SignerIssued {
        kind: SignerKind,
    },
    Revoked {
        reason: RevocationReason,
    },
    CrlIssued {
        number: u64,
    },
    MasterListIssued,
    /// A signer key was made on the online token for a certification request (the serial is
    /// empty: no certificate yet; the fingerprint is the public key's).
    SignerRequested {
        kind: SignerKind,
    },
    /// A certificate issued by a ceremony was imported: its signer signs from now on.
    SignerActivated {
        kind: SignerKind,
    },
}

/// One PKI event: the kind, the serial (hex) of the certificate concerned (for CRLs and master
/// lists: of the issuing certificate) and the SHA-256 fingerprint of the artifact.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PkiEvent {
    pub kind: PkiEventKind,
    pub serial_hex: String,
    pub fingerprint_sha256: String,
}

/// Receives PKI events; the service connects it to the ledger. Errors are the sink's to handle.
pub trait PkiEventSink: Send + Sync {
    fn record(&self, event: &PkiEvent);
}

/// A sink that drops events.
#[derive(Debug, Default, Clone, Copy)]
pub struct NoEvents;

impl PkiEventSink for NoEvents {
    fn record(&self, _event: &PkiEvent) {}
}
