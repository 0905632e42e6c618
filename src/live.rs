//! A value the whole process reads and one task replaces: the trust state (signers, verifier)
//! in force, swapped when the PKI changes. Reading is a lock and an `Arc` clone, so it can sit
//! on every issuance and verification.

use std::sync::{Arc, RwLock};

/// The current `T`, shared by every clone.
pub struct Live<T>(Arc<RwLock<Arc<T>>>);

impl<T> Clone for Live<T> {
    fn clone(&self) -> Self {
        Live(self.0.clone())
    }
}

impl<T> Live<T> {
    pub fn new(value: T) -> Self {
        Live(Arc::new(RwLock::new(Arc::new(value))))
    }

    /// The value in force now (kept by the caller for the whole act).
    pub fn get(&self) -> Arc<T> {
        self.0
            .read()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
            .clone()
    }

    /// Puts `value` in force for every later [`Live::get`].
    pub fn set(&self, value: T) {
        *self
            .0
            .write()
            .unwrap_or_else(|poisoned| poisoned.into_inner()) = Arc::new(value);
    }
}

impl<T> From<T> for Live<T> {
    fn from(value: T) -> Self {
        Live::new(value)
    }
}

impl<T: std::fmt::Debug> std::fmt::Debug for Live<T> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        self.get().fmt(f)
    }
}
