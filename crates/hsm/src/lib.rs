//! PKCS#11 HSM layer of travdoc, over `cryptoki`.
//!
//! * [`Hsm`]: loads any PKCS#11 module by path, finds the token by label (never by slot number),
//!   logs in with a PIN from a file or the environment (held in a secret type, never logged),
//!   keeps a pool of sessions for concurrent signing and recovers without a restart after a lost
//!   session, a logged-out token or a token that disappears and returns.
//! * [`Hsm::generate_key_pair`]: keys generated in the token, sensitive and not extractable:
//!   EC P-256 (default), P-384, brainpoolP256r1/P384r1 where offered, RSA-3072 for RSASSA-PSS.
//!   Keys are referenced by [`KeyRef`] (CKA_LABEL + CKA_ID) and found again after a restart.
//! * [`HsmSigner`]: implements the RustCrypto `signature` traits so the x509-cert and cms builders
//!   take it unchanged; also raw signing (`r||s`) for visible digital seals.
//! * [`softhsm`]: the embedded default token under `DATA_DIR/hsm/`.
//!
//! Do not fork after the module is initialised (SoftHSM2 `library.reset_on_fork=false`);
//! spawning programs with `std::process::Command` is fine (it execs).
#![forbid(unsafe_code)]

mod config;
mod error;
mod key;
mod signer;
pub mod softhsm;
mod token;

pub use config::{HsmConfig, PinSource, TokenInit};
pub use error::{HsmError, Result};
pub use key::{
    ECDSA_WITH_SHA256, ECDSA_WITH_SHA384, HashAlgorithm, HsmPublicKey, KeyAlgorithm, KeyRef,
};
pub use secrecy::SecretString;
pub use signer::HsmSigner;
pub use token::Hsm;
