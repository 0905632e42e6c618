//! The one error type of this crate.

use std::path::PathBuf;

/// Everything that can go wrong between travdoc and a PKCS#11 token.
///
/// [`HsmError::is_unavailable`] tells a service which errors mean "the HSM is not reachable right
/// now" (HTTP 503) as opposed to a configuration or key problem.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum HsmError {
    /// The PKCS#11 module could not be loaded or initialised.
    #[error("PKCS#11 module {path} cannot be loaded: {message}")]
    ModuleNotLoadable { path: PathBuf, message: String },
    /// No slot holds a token with this label.
    #[error("no token labelled `{label}` is present")]
    TokenNotFound { label: String },
    /// The user PIN was rejected by the token.
    #[error("the user PIN for token `{label}` is incorrect")]
    WrongPin { label: String },
    /// The user PIN is locked after too many wrong attempts.
    #[error("the user PIN for token `{label}` is locked")]
    PinLocked { label: String },
    /// The PIN source could not be read (file missing, environment variable unset, empty).
    #[error("cannot read the PIN from {source_name}: {message}")]
    PinSource {
        source_name: String,
        message: String,
    },
    /// No private key with this CKA_ID/label exists on the token.
    #[error("key `{label}` (CKA_ID {id}) not found on token `{token}`")]
    KeyNotFound {
        token: String,
        label: String,
        id: String,
    },
    /// The token does not offer the mechanism or curve.
    #[error("token `{token}` does not support {what}")]
    MechanismNotSupported { token: String, what: String },
    /// The token, its session or the module failed; retrying later may succeed (map to 503).
    #[error("HSM unavailable during {operation}: {message}")]
    Unavailable {
        operation: &'static str,
        message: String,
    },
    /// The signer was asked for a signature type that does not fit its key.
    #[error("key `{label}` is {algorithm}, not usable for {requested}")]
    AlgorithmMismatch {
        label: String,
        algorithm: &'static str,
        requested: &'static str,
    },
    /// A digest of the wrong length was passed to raw signing.
    #[error("digest for {algorithm} must be {expected} bytes, got {actual}")]
    DigestLength {
        algorithm: &'static str,
        expected: usize,
        actual: usize,
    },
    /// The token returned a public key or signature we cannot decode.
    #[error("token returned malformed {field}: {message}")]
    Malformed {
        field: &'static str,
        message: String,
    },
    /// SoftHSM2 bootstrap files could not be written or read.
    #[error("SoftHSM2 bootstrap at {path}: {message}")]
    Bootstrap { path: PathBuf, message: String },
    /// `SOFTHSM2_CONF` in this process does not point at the private configuration.
    #[error(
        "SOFTHSM2_CONF must be {expected} before the module is loaded (found {found:?}); \
         call travdoc_hsm::softhsm::reexec_with_conf first"
    )]
    SoftHsmConfNotActive {
        expected: PathBuf,
        found: Option<String>,
    },
    /// Any other PKCS#11 failure, with the function and return value.
    #[error("PKCS#11 {operation} failed: {message}")]
    Pkcs11 {
        operation: &'static str,
        message: String,
    },
}

impl HsmError {
    /// True when the HSM cannot be reached now but may come back (a service answers 503).
    pub fn is_unavailable(&self) -> bool {
        matches!(
            self,
            HsmError::Unavailable { .. }
                | HsmError::TokenNotFound { .. }
                | HsmError::ModuleNotLoadable { .. }
        )
    }
}

/// Result alias of this crate.
pub type Result<T, E = HsmError> = std::result::Result<T, E>;
