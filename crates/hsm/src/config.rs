//! Where the module, the token and the PIN come from.

use std::path::PathBuf;

use secrecy::SecretString;

use crate::error::{HsmError, Result};

/// Where the user PIN comes from. The PIN is read into a [`SecretString`] and never logged.
#[derive(Clone)]
#[non_exhaustive]
pub enum PinSource {
    /// A file whose first line is the PIN (trailing newline ignored).
    File(PathBuf),
    /// An environment variable holding the PIN.
    Env(String),
    /// A PIN already held in memory (tests, or a caller with its own secret store).
    Secret(SecretString),
}

impl std::fmt::Debug for PinSource {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            PinSource::File(path) => f.debug_tuple("File").field(path).finish(),
            PinSource::Env(name) => f.debug_tuple("Env").field(name).finish(),
            PinSource::Secret(_) => f.write_str("Secret(..)"),
        }
    }
}

impl PinSource {
    /// Reads the PIN.
    pub fn resolve(&self) -> Result<SecretString> {
        let text = match self {
            PinSource::Secret(secret) => return Ok(secret.clone()),
            PinSource::File(path) => {
                std::fs::read_to_string(path).map_err(|error| HsmError::PinSource {
                    source_name: format!("file {}", path.display()),
                    message: error.to_string(),
                })?
            }
            PinSource::Env(name) => std::env::var(name).map_err(|error| HsmError::PinSource {
                source_name: format!("environment variable {name}"),
                message: error.to_string(),
            })?,
        };
        let pin = text
            .lines()
            .next()
            .unwrap_or("")
            .trim_end_matches('\r')
            .to_owned();
        if pin.is_empty() {
            return Err(HsmError::PinSource {
                source_name: self.describe(),
                message: "the PIN is empty".to_owned(),
            });
        }
        Ok(SecretString::from(pin))
    }

    fn describe(&self) -> String {
        match self {
            PinSource::File(path) => format!("file {}", path.display()),
            PinSource::Env(name) => format!("environment variable {name}"),
            PinSource::Secret(_) => "memory".to_owned(),
        }
    }
}

/// How to initialise the token when no token with the label exists yet (the embedded default
/// only: production tokens are initialised by their operators).
#[derive(Clone)]
pub struct TokenInit {
    /// Security-officer PIN for `C_InitToken`.
    pub so_pin: SecretString,
}

impl std::fmt::Debug for TokenInit {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("TokenInit { so_pin: .. }")
    }
}

/// Everything needed to open a token.
#[derive(Debug, Clone)]
pub struct HsmConfig {
    /// Path of the PKCS#11 module (`.so`).
    pub module: PathBuf,
    /// Token label; tokens are found by label, never by slot number.
    pub token_label: String,
    /// Where the user PIN comes from.
    pub pin: PinSource,
    /// When set and the token is missing, initialise a free slot with this label.
    pub init_token: Option<TokenInit>,
    /// Upper bound on idle sessions kept in the pool.
    pub max_idle_sessions: usize,
}

impl HsmConfig {
    /// A configuration for an existing token.
    pub fn new(module: impl Into<PathBuf>, token_label: impl Into<String>, pin: PinSource) -> Self {
        Self {
            module: module.into(),
            token_label: token_label.into(),
            pin,
            init_token: None,
            max_idle_sessions: 16,
        }
    }
}
