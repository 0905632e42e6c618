//! The domain's view of the parts it composes: signing keys (in the HSM) and printers. The
//! adapters from `travdoc-pki`/`travdoc-hsm` and `travdoc-print` live in the composition root, `crate::compose`
//! (or in tests, software keys), so the domain stays testable.

use std::sync::Arc;

use travdoc_seal::{Curve, RawDigestSigner};

/// Errors from a signing key.
#[derive(Debug, Clone, thiserror::Error)]
#[non_exhaustive]
pub enum SignerError {
    /// The HSM (or its session) cannot be reached: retry later; nothing was signed.
    #[error("{0}")]
    Unavailable(String),
    /// No key of this kind is configured.
    #[error("no {0} signer is configured")]
    NotConfigured(&'static str),
    /// The PKI has no signer of this kind that may sign now (all revoked, retired, expired or
    /// past their private-key usage period): nothing is signed until a new one is issued.
    #[error("no valid {0} signer: every one is revoked or past its key-usage period")]
    NoValidSigner(&'static str),
    /// The HSM refused or failed the operation.
    #[error("{0}")]
    Failed(String),
}

/// A key that signs precomputed digests for seals (raw `r||s`).
pub trait SealKey: Send + Sync {
    /// The key's curve.
    fn curve(&self) -> Curve;
    /// Signs a digest; `r||s`.
    fn sign_digest(&self, digest: &[u8]) -> Result<Vec<u8>, SignerError>;
    /// The signer certificate (DER).
    fn certificate_der(&self) -> &[u8];
    /// The 4-character signer identifier of the seal header (country + 2 characters).
    fn signer_identifier(&self) -> &str;
    /// The certificate serial number (big-endian bytes), the seal header's certificate reference.
    fn certificate_serial(&self) -> &[u8];
    /// The end of the key's private-key usage period (none: no limit known).
    fn usable_until(&self) -> Option<std::time::SystemTime> {
        None
    }
}

/// Adapter so that a [`SealKey`] can be handed to the seal builder.
pub struct SealSigning<'a>(pub &'a dyn SealKey);

impl RawDigestSigner for SealSigning<'_> {
    fn curve(&self) -> Curve {
        self.0.curve()
    }
    fn sign_digest_raw(
        &self,
        digest: &[u8],
    ) -> Result<Vec<u8>, Box<dyn std::error::Error + Send + Sync>> {
        self.0
            .sign_digest(digest)
            .map_err(|error| Box::new(error) as _)
    }
}

/// The passport Document Signer: builds and signs EF.SOD over data group files (HSM).
pub trait SodSigner: Send + Sync {
    /// EF.SOD over `data_groups` (DG1, DG2, ... file bytes).
    fn sign_sod(&self, data_groups: &[&[u8]]) -> Result<Vec<u8>, SignerError>;
    /// The Document Signer's reference (certificate serial, hex) for the ledger.
    fn key_id(&self) -> String;
    /// The end of the key's private-key usage period (none: no limit known).
    fn usable_until(&self) -> Option<std::time::SystemTime> {
        None
    }
}

/// Health of the signing device.
pub trait HsmProbe: Send + Sync {
    /// Ok when the HSM answers (used by `/readyz` and before allocating a number).
    fn check(&self) -> Result<(), SignerError>;
}

/// The signing keys of the service, by purpose: the current valid signer of each kind when the
/// snapshot was taken (a kind without one is `None`), re-checked against its private-key usage
/// period, on the system clock, at every use.
#[derive(Clone, Default)]
pub struct Signers {
    pub ttd: Option<Arc<dyn SealKey>>,
    pub legalization: Option<Arc<dyn SealKey>>,
    pub passport: Option<Arc<dyn SodSigner>>,
    pub probe: Option<Arc<dyn HsmProbe>>,
    /// The CSCA certificates (DER) that anchor every signer.
    pub csca: Vec<Vec<u8>>,
}

impl Signers {
    /// Checks that the HSM answers; `NotConfigured` when there is none.
    pub fn check(&self) -> Result<(), SignerError> {
        match &self.probe {
            Some(probe) => probe.check(),
            None => Err(SignerError::NotConfigured("HSM")),
        }
    }

    /// A key of `what` that may sign now.
    fn usable<'a, K: ?Sized>(
        &self,
        key: Option<&'a Arc<K>>,
        until: impl Fn(&K) -> Option<std::time::SystemTime>,
        what: &'static str,
    ) -> Result<&'a Arc<K>, SignerError> {
        match key {
            Some(key) if until(key).is_none_or(|end| std::time::SystemTime::now() <= end) => {
                Ok(key)
            }
            Some(_) => Err(SignerError::NoValidSigner(what)),
            // An HSM without a valid key of the kind (the PKI's state), or no HSM at all.
            None if self.probe.is_some() => Err(SignerError::NoValidSigner(what)),
            None => Err(SignerError::NotConfigured(what)),
        }
    }

    pub fn ttd(&self) -> Result<&Arc<dyn SealKey>, SignerError> {
        self.usable(self.ttd.as_ref(), |key| key.usable_until(), "TTD seal")
    }

    pub fn passport(&self) -> Result<&Arc<dyn SodSigner>, SignerError> {
        self.usable(
            self.passport.as_ref(),
            |key| key.usable_until(),
            "passport Document Signer",
        )
    }

    pub fn legalization(&self) -> Result<&Arc<dyn SealKey>, SignerError> {
        self.usable(
            self.legalization.as_ref(),
            |key| key.usable_until(),
            "legalization seal",
        )
    }
}

/// A boxed future (object-safe async ports).
pub type BoxFuture<'a, T> = std::pin::Pin<Box<dyn std::future::Future<Output = T> + Send + 'a>>;

/// What a printer did with a job it accepted.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Printed {
    /// The printer reported the job completed (a hot folder: the file is in place); otherwise
    /// it was accepted and is still printing.
    pub completed: bool,
    /// The printer's job id or the file's location.
    pub reference: String,
}

/// Printers: each renders with its own calibration and sends the PDF.
pub trait PrinterPort: Send + Sync {
    /// Names of the configured printers.
    fn printers(&self) -> Vec<String>;
    /// Renders `input` for `printer` and sends it; `Ok(job reference)` or `Err(reason)`.
    fn print<'a>(
        &'a self,
        printer: &'a str,
        job_name: &'a str,
        input: &'a RenderInput,
    ) -> BoxFuture<'a, Result<Printed, String>>;
    /// Whether an officer of `mission` (`None`: headquarters) may print on `printer` (see
    /// `travdoc_print::PrinterProfile::serves`).
    fn serves(&self, _printer: &str, mission: Option<&str>) -> bool {
        mission.is_none()
    }
    /// Asks every printer for its state: `(name, Ok(attributes) or Err(why unreachable))`.
    fn check(&self) -> BoxFuture<'_, Vec<(String, Result<serde_json::Value, String>)>> {
        Box::pin(async move {
            self.printers()
                .into_iter()
                .map(|name| (name, Err("this printer cannot be asked".to_owned())))
                .collect()
        })
    }
}

/// No printers configured.
#[derive(Debug, Default)]
pub struct NoPrinters;

impl PrinterPort for NoPrinters {
    fn printers(&self) -> Vec<String> {
        Vec::new()
    }
    fn print<'a>(
        &'a self,
        printer: &'a str,
        _job_name: &'a str,
        _input: &'a RenderInput,
    ) -> BoxFuture<'a, Result<Printed, String>> {
        Box::pin(async move { Err(format!("no printer named `{printer}`")) })
    }
}

/// What a renderer needs to lay out a document.
#[derive(Debug, Clone)]
pub struct RenderInput {
    /// `ttd`, `passport` or `legalization`.
    pub kind: String,
    pub number: String,
    pub mrz: Option<Vec<String>>,
    pub seal: Option<Vec<u8>>,
    pub photo: Option<Vec<u8>>,
    pub valid_until: String,
    pub issued_at: String,
    /// The issued document data (names, route, certificate fields).
    pub data: serde_json::Value,
}

/// Lays out a document as PDF.
pub trait RendererPort: Send + Sync {
    fn render(&self, input: &RenderInput) -> Result<Vec<u8>, String>;
}

/// No renderer configured.
#[derive(Debug, Default)]
pub struct NoRenderer;

impl RendererPort for NoRenderer {
    fn render(&self, _input: &RenderInput) -> Result<Vec<u8>, String> {
        Err("no renderer is configured".to_owned())
    }
}
