//! The issuance domain: requests and applications, four-eyes approval, document numbering,
//! TTDs, passports, legalization certificates, revocation and arrival clearance.
//!
//! Every act is one database transaction (issuance is two: the number is allocated and recorded
//! in its own committed step, so that an aborted issuance leaves a `void` number rather than a
//! gap). Handlers call exactly one method of [`Service`] per request.

pub(crate) mod batch;
pub mod checks;

pub mod documents;
pub mod idempotency;
pub mod input;
pub(crate) mod issue;
pub mod ledger;
pub(crate) mod lifecycle;
pub mod numbering;
pub mod people;
pub mod pki_events;
pub mod pki_store;
pub mod ports;
pub mod printing;
pub mod requests;
pub(crate) mod seal;
pub mod status;

use std::sync::Arc;

use time::OffsetDateTime;

pub use crate::db::Db;
use crate::metrics::Metrics;
pub use numbering::NumberingConfig;
pub use ports::{SignerError, Signers};

/// Errors of the issuance domain. Mapped to HTTP in exactly one place (`http::error`).
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum IssuanceError {
    #[error("field `{field}`: {message}")]
    InvalidField { field: String, message: String },
    #[error("{what} `{id}` not found")]
    NotFound { what: &'static str, id: String },
    #[error("{what} `{id}` is {state}; this act needs it to be {expected}")]
    WrongState {
        what: &'static str,
        id: String,
        state: String,
        expected: &'static str,
    },
    /// A field the record's current state requires or refuses (a reprint reason: required
    /// once printed, refused before): a conflict with the record, not a malformed request.
    #[error("field `{field}`: {message}")]
    StateRequires {
        field: &'static str,
        message: String,
    },
    #[error("the approver must not be the requester (four-eyes rule)")]
    FourEyes,
    #[error("only the officer who lodged a returned request corrects it")]
    NotRequester,
    #[error("field `mission`: `{requested}` is not the caller's mission")]
    MissionMismatch { requested: String },
    #[error("Idempotency-Key `{0}` was already used for a different request")]
    IdempotencyConflict(String),
    #[error("the number series `{0}` is exhausted")]
    SeriesExhausted(String),
    #[error("number format `{0}` is invalid")]
    NumberFormat(String),
    #[error("the HSM is unavailable: {0}")]
    HsmUnavailable(String),
    #[error("signing failed: {0}")]
    Signing(String),
    #[error("building the document failed: {0}")]
    Build(String),
    #[error("this service has no {0} configured")]
    NotConfigured(&'static str),
    #[error("no valid {0} signer")]
    NoValidSigner(&'static str),
    #[error("printer error: {0}")]
    Printer(String),
    #[error("{0}")]
    Database(crate::db::DbFault),
    #[error("stored data is corrupt: {0}")]
    Corrupt(String),
    #[error("ledger: {0}")]
    Ledger(String),
    /// The service is at capacity for this kind of work: retry shortly; nothing was done.
    #[error("busy: {0}")]
    Busy(String),
}

impl From<travdoc_store::StoreError> for IssuanceError {
    fn from(error: travdoc_store::StoreError) -> Self {
        match error {
            travdoc_store::StoreError::Database { source, .. }
            | travdoc_store::StoreError::Connect { source, .. } => {
                IssuanceError::Database(source.into())
            }
            other => IssuanceError::Ledger(other.to_string()),
        }
    }
}

/// The repositories' `?` on sqlx results: the error is classified into a [`db::DbFault`] here,
/// and never travels further as a sqlx error.
impl From<sqlx::Error> for IssuanceError {
    fn from(error: sqlx::Error) -> Self {
        IssuanceError::Database(error.into())
    }
}

impl IssuanceError {
    pub fn invalid(field: impl Into<String>, message: impl Into<String>) -> Self {
        IssuanceError::InvalidField {
            field: field.into(),
            message: message.into(),
        }
    }
}

impl From<serde_json::Error> for IssuanceError {
    fn from(error: serde_json::Error) -> Self {
        IssuanceError::Corrupt(error.to_string())
    }
}

impl From<SignerError> for IssuanceError {
    fn from(error: SignerError) -> Self {
        match error {
            SignerError::Unavailable(message) => IssuanceError::HsmUnavailable(message),
            SignerError::NotConfigured(kind) => IssuanceError::NotConfigured(kind),
            SignerError::NoValidSigner(kind) => IssuanceError::NoValidSigner(kind),
            SignerError::Failed(message) => IssuanceError::Signing(message),
        }
    }
}

/// The one injected time source of travdoc (the PKI's): validity rules are testable with a
/// fixed clock.
pub use travdoc_pki::{Clock, SystemClock};

/// The clock's time in UTC.
pub fn now_utc(clock: &dyn Clock) -> OffsetDateTime {
    OffsetDateTime::from(clock.now())
}

pub use crate::timefmt::{rfc3339, rfc3339_unix};

/// Service settings beyond the number formats.
#[derive(Debug, Clone, serde::Deserialize, serde::Serialize)]
#[serde(default, deny_unknown_fields)]
pub struct Settings {
    /// Base URL a verifier's QR scan opens (the seal follows after `#`).
    pub verify_url: String,
    /// Place of certification printed on legalization certificates.
    pub place: String,
    /// Where the service is reachable (for `pdf_url`); empty = relative URLs.
    pub public_url: String,
    /// Run the checks before issuance (`docs/checks.md`; `TRAVDOC_CHECKS=off`). Default on;
    /// off only to measure what they cost (`scripts/load-test.sh`), and the start says so.
    pub checks: bool,
}

impl Default for Settings {
    fn default() -> Self {
        Settings {
            verify_url: "https://verify.travdoc.invalid/v".to_owned(),
            place: "Colombo".to_owned(),
            public_url: String::new(),
            checks: true,
        }
    }
}

/// What every job reads and writes records with: the database, the clock, the metrics and
/// the batched status lookups. The jobs that only record (request approval, revocation,
/// arrival clearance, staff reads) get this and nothing else: they cannot sign or print.
#[derive(Clone)]
pub struct Records {
    pub(crate) db: Db,
    pub(crate) clock: Arc<dyn Clock>,
    pub(crate) metrics: Arc<Metrics>,
    /// The document lookups of verification, batched.
    pub(crate) status: Arc<batch::StatusBatch>,
}

/// The issuing pipeline's ports: the records, plus the number series, the HSM signers, the
/// batched allocation and issuing statements, the country and the service settings. The jobs
/// that make a document (request, issue, personalize, legalize) get this.
#[derive(Clone)]
pub struct Issuing {
    pub(crate) records: Records,
    pub(crate) country: String,
    pub(crate) numbering: NumberingConfig,
    pub(crate) settings: Settings,
    /// The signers in force (replaced when the PKI changes, see `compose::watch_trust`).
    pub(crate) signers: crate::live::Live<Signers>,
    pub(crate) batches: Arc<batch::Batches>,
}

/// Printing's ports: the records, plus the printers and the PDF renderer. Printing gets this:
/// it cannot sign.
#[derive(Clone)]
pub struct Printing {
    pub(crate) records: Records,
    pub(crate) printers: Arc<dyn ports::PrinterPort>,
    pub(crate) renderer: Arc<dyn ports::RendererPort>,
}

/// An issuing desk and a print room are record keepers too.
impl std::ops::Deref for Issuing {
    type Target = Records;
    fn deref(&self) -> &Records {
        &self.records
    }
}

impl std::ops::Deref for Printing {
    type Target = Records;
    fn deref(&self) -> &Records {
        &self.records
    }
}

/// The service of one process: the three sets of ports, built once by the composition root
/// (`compose.rs`) and handed to each handler, which passes a use case only the set it needs.
#[derive(Clone)]
pub struct Service {
    records: Records,
    issuing: Issuing,
    printing: Printing,
}

impl std::fmt::Debug for Service {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Service")
            .field("country", &self.issuing.country)
            .field("backend", &self.records.db.backend())
            .finish_non_exhaustive()
    }
}

impl Service {
    #[allow(clippy::too_many_arguments)]
    pub fn new(
        db: Db,
        clock: Arc<dyn Clock>,
        country: String,
        numbering: NumberingConfig,
        settings: Settings,
        signers: impl Into<crate::live::Live<Signers>>,
        metrics: Arc<Metrics>,
        printers: Arc<dyn ports::PrinterPort>,
    ) -> Self {
        let records = Records {
            status: Arc::new(batch::StatusBatch::new(&db, &metrics)),
            db,
            clock,
            metrics,
        };
        let batches = Arc::new(batch::Batches::new(
            &records.db,
            &numbering,
            &records.clock,
            &records.metrics,
        ));
        Service {
            issuing: Issuing {
                records: records.clone(),
                country,
                numbering,
                settings,
                signers: signers.into(),
                batches,
            },
            printing: Printing {
                records: records.clone(),
                printers,
                renderer: Arc::new(ports::NoRenderer),
            },
            records,
        }
    }

    /// Sets the PDF renderer.
    pub fn with_renderer(mut self, renderer: Arc<dyn ports::RendererPort>) -> Self {
        self.printing.renderer = renderer;
        self
    }

    /// The ports of the jobs that only record.
    pub fn records(&self) -> &Records {
        &self.records
    }

    /// The ports of the jobs that make a document.
    pub fn issuing(&self) -> &Issuing {
        &self.issuing
    }

    /// The ports of printing (and of rendering a document's PDF).
    pub fn printing(&self) -> &Printing {
        &self.printing
    }

    pub fn db(&self) -> &Db {
        &self.records.db
    }

    pub fn metrics(&self) -> &Arc<Metrics> {
        &self.records.metrics
    }

    /// The signers in force now.
    pub fn signers(&self) -> Arc<Signers> {
        self.issuing.signers.get()
    }

    pub fn country(&self) -> &str {
        &self.issuing.country
    }

    pub fn settings(&self) -> &Settings {
        &self.issuing.settings
    }
}

impl Records {
    pub fn db(&self) -> &Db {
        &self.db
    }

    pub(crate) fn now(&self) -> OffsetDateTime {
        now_utc(self.clock.as_ref())
    }

    pub(crate) fn now_text(&self) -> String {
        rfc3339(self.now())
    }
}
