//! The driver interface: submit a PDF, follow it to a final state, check the printer.
//!
//! Drivers report states, not database rows: the caller (the service) stores the job, its
//! attempts and events, and the blank-stock serial it consumed.

use std::future::Future;
use std::time::Duration;

use crate::error::{PrintError, Result};

/// One document to print.
#[derive(Debug, Clone, Copy)]
pub struct PrintJob<'a> {
    /// Job name shown on the printer and used as the hot-folder file name: the document number.
    pub job_name: &'a str,
    /// The rendered PDF.
    pub pdf: &'a [u8],
}

impl PrintJob<'_> {
    /// Checks the job name (1-64 of `A-Z a-z 0-9 - _ .`, not starting with a dot) and the PDF magic.
    pub fn validate(&self) -> Result<()> {
        let name_ok = !self.job_name.is_empty()
            && self.job_name.len() <= 64
            && !self.job_name.starts_with('.')
            && self
                .job_name
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || "-_.".contains(c));
        if !name_ok {
            return Err(PrintError::InvalidJobName(self.job_name.to_string()));
        }
        if !self.pdf.starts_with(b"%PDF-") {
            return Err(PrintError::NotPdf);
        }
        Ok(())
    }
}

/// Where a job stands.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum JobState {
    /// Recorded by the service, not yet handed to a driver.
    Queued,
    /// Accepted by the printer (IPP job id) or written to the hot folder; not yet final.
    Sent {
        /// The printer's job id (IPP), if any.
        printer_job_id: Option<i32>,
    },
    /// The printer reports the job completed (or the file is in the hot folder).
    Completed,
    /// The job did not print; the reason says why. The caller may retry.
    Failed {
        /// A message a person can act on.
        reason: String,
    },
}

impl JobState {
    /// Whether the state is final (completed or failed).
    pub fn is_final(&self) -> bool {
        matches!(self, JobState::Completed | JobState::Failed { .. })
    }

    /// Short stable name for storage: `queued`, `sent`, `completed`, `failed`.
    pub fn code(&self) -> &'static str {
        match self {
            JobState::Queued => "queued",
            JobState::Sent { .. } => "sent",
            JobState::Completed => "completed",
            JobState::Failed { .. } => "failed",
        }
    }
}

/// Something that happened to a job, in order (for the job's attempt log).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct JobEvent {
    /// State after the event.
    pub state: JobState,
    /// What the printer or the folder said.
    pub detail: String,
}

/// The result of [`PrintDriver::submit`], [`PrintDriver::follow`] or [`PrintDriver::print`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct JobReport {
    /// Printer name.
    pub printer: String,
    /// Job name.
    pub job_name: String,
    /// Current state.
    pub state: JobState,
    /// The printer's job id (IPP) once known.
    pub printer_job_id: Option<i32>,
    /// Where the file landed (hot folder).
    pub location: Option<String>,
    /// Events so far, oldest first.
    pub events: Vec<JobEvent>,
}

impl JobReport {
    pub(crate) fn new(printer: &str, job_name: &str) -> JobReport {
        JobReport {
            printer: printer.to_string(),
            job_name: job_name.to_string(),
            state: JobState::Queued,
            printer_job_id: None,
            location: None,
            events: Vec::new(),
        }
    }

    pub(crate) fn push(&mut self, state: JobState, detail: impl Into<String>) {
        let detail = detail.into();
        tracing::debug!(printer = %self.printer, job = %self.job_name, state = state.code(), %detail, "print job event");
        self.state = state.clone();
        self.events.push(JobEvent { state, detail });
    }
}

/// What `printers check` shows.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PrinterStatus {
    /// Printer name.
    pub printer: String,
    /// `idle`, `processing`, `stopped` (IPP) or `ready` (folder).
    pub state: String,
    /// IPP printer-state-reasons (`none` when all is well).
    pub reasons: Vec<String>,
    /// Whether the printer accepts jobs.
    pub accepting_jobs: bool,
    /// Whether `application/pdf` is among the supported document formats.
    pub supports_pdf: bool,
    /// Make and model, when the printer says.
    pub make_and_model: Option<String>,
}

/// Timing of retries and follow-up.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RetryPolicy {
    /// How many times a busy printer (`server-error-busy`) is asked again.
    pub busy_retries: u32,
    /// First wait after a busy answer; doubled each time.
    pub initial_backoff: Duration,
    /// Longest wait between busy retries.
    pub max_backoff: Duration,
    /// Interval between Get-Job-Attributes polls.
    pub poll_interval: Duration,
    /// Give up following a job after this long (the job is then reported failed).
    pub follow_timeout: Duration,
    /// Timeout of one IPP request.
    pub request_timeout: Duration,
}

impl Default for RetryPolicy {
    fn default() -> Self {
        RetryPolicy {
            busy_retries: 6,
            initial_backoff: Duration::from_millis(250),
            max_backoff: Duration::from_secs(8),
            poll_interval: Duration::from_millis(250),
            follow_timeout: Duration::from_secs(120),
            request_timeout: Duration::from_secs(30),
        }
    }
}

/// A way to get a PDF onto paper.
pub trait PrintDriver: Send + Sync {
    /// Printer name.
    fn printer_name(&self) -> &str;

    /// Hands the job to the printer. The report ends in `Sent`, `Completed` or `Failed`; failures
    /// (unreachable printer, refused job) are states, not errors, so the caller can store them.
    fn submit(&self, job: &PrintJob<'_>) -> impl Future<Output = JobReport> + Send;

    /// Follows a submitted job until it is completed, aborted or the follow-up times out.
    fn follow(&self, report: JobReport) -> impl Future<Output = JobReport> + Send;

    /// Submit, then follow.
    fn print(&self, job: &PrintJob<'_>) -> impl Future<Output = JobReport> + Send {
        async move {
            let report = self.submit(job).await;
            if report.state.is_final() {
                report
            } else {
                self.follow(report).await
            }
        }
    }

    /// Asks the printer for its state.
    fn check(&self) -> impl Future<Output = Result<PrinterStatus>> + Send;
}
