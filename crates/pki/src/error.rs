//! The one error type of this crate.

use std::path::PathBuf;

/// Everything that can go wrong in the country PKI.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum PkiError {
    /// The HSM failed (see [`travdoc_hsm::HsmError::is_unavailable`] for 503 mapping).
    #[error(transparent)]
    Hsm(#[from] travdoc_hsm::HsmError),
    /// A configuration value is not acceptable.
    #[error("PKI config `{field}`: {message}")]
    Config {
        field: &'static str,
        message: String,
    },
    /// The ICAO country code has no ISO 3166 alpha-2 mapping here.
    #[error("country `{0}` has no known ISO 3166-1 alpha-2 code; add it to the map in travdoc-pki")]
    UnknownCountry(String),
    /// Reading or writing the PKI state failed.
    #[error("PKI store {path}: {message}")]
    Store { path: PathBuf, message: String },
    /// The stored state belongs to another country than the one configured.
    #[error("the PKI in the data dir is for {stored}, not {configured}")]
    CountryMismatch { stored: String, configured: String },
    /// Not initialised yet.
    #[error("the PKI is not initialised (run `travdoc pki init`)")]
    NotInitialised,
    /// No usable signer of this kind (none issued, revoked, or its private-key usage period ended).
    #[error("no usable {kind} signer: {message}")]
    NoSigner { kind: &'static str, message: String },
    /// The act needs the CSCA key, whose token this process has not opened.
    #[error(
        "the CSCA key is on token `{token}`, which this process does not open: run the \
             ceremony (`travdoc pki ...` with the CSCA token and two operators)"
    )]
    CscaOffline { token: String },
    /// No certificate with this serial number.
    #[error("no certificate with serial {0}")]
    UnknownSerial(String),
    /// The certificate is already revoked.
    #[error("certificate {serial} is already revoked ({reason})")]
    AlreadyRevoked { serial: String, reason: String },
    /// The operation does not apply to this certificate.
    #[error("{0}")]
    NotAllowed(String),
    /// Building or encoding a certificate, CRL or CMS structure failed.
    #[error("building {what}: {message}")]
    Build { what: &'static str, message: String },
    /// A stored artifact cannot be decoded.
    #[error("stored {what} is malformed: {message}")]
    Malformed { what: &'static str, message: String },
}

impl PkiError {
    /// True when the HSM is unavailable right now (a service maps this to 503).
    pub fn is_unavailable(&self) -> bool {
        matches!(self, PkiError::Hsm(error) if error.is_unavailable())
    }
}

pub(crate) fn build_error<E: std::fmt::Display>(what: &'static str) -> impl Fn(E) -> PkiError {
    move |error| PkiError::Build {
        what,
        message: error.to_string(),
    }
}

/// Result alias of this crate.
pub type Result<T, E = PkiError> = std::result::Result<T, E>;
