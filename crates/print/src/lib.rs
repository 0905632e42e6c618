//! Printing for travdoc: printer profiles (`printer-profiles/*.toml`), an IPP driver (IPP
//! Everywhere printers and CUPS queues) and a hot-folder driver, both behind [`PrintDriver`],
//! which reports job states (queued, sent, completed, failed with a reason) for the service to store.
#![forbid(unsafe_code)]
#![warn(missing_docs)]

mod driver;
mod error;
mod folder;
mod ipp_driver;
mod profile;

pub use driver::{
    JobEvent, JobReport, JobState, PrintDriver, PrintJob, PrinterStatus, RetryPolicy,
};
pub use error::{PrintError, Result};
pub use folder::FolderDriver;
pub use ipp_driver::IppDriver;
pub use profile::{Connection, DEFAULT_PROFILE, KNOWN_TEMPLATES, PrinterProfile, load_profiles};

/// The driver a profile asks for.
#[derive(Debug, Clone)]
pub enum Driver {
    /// IPP.
    Ipp(IppDriver),
    /// Hot folder.
    Folder(FolderDriver),
}

impl Driver {
    /// Builds the driver for `profile` (folder paths relative to `base_dir` when not absolute).
    pub fn for_profile(
        profile: &PrinterProfile,
        base_dir: &std::path::Path,
        policy: RetryPolicy,
    ) -> Result<Driver> {
        Ok(match &profile.connection {
            Connection::Ipp { uri } => Driver::Ipp(IppDriver::new(&profile.name, uri, policy)?),
            Connection::Folder { folder } => {
                Driver::Folder(FolderDriver::new(&profile.name, &base_dir.join(folder)))
            }
        })
    }
}

impl PrintDriver for Driver {
    fn printer_name(&self) -> &str {
        match self {
            Driver::Ipp(driver) => driver.printer_name(),
            Driver::Folder(driver) => driver.printer_name(),
        }
    }

    async fn submit(&self, job: &PrintJob<'_>) -> JobReport {
        match self {
            Driver::Ipp(driver) => driver.submit(job).await,
            Driver::Folder(driver) => driver.submit(job).await,
        }
    }

    async fn follow(&self, report: JobReport) -> JobReport {
        match self {
            Driver::Ipp(driver) => driver.follow(report).await,
            Driver::Folder(driver) => driver.follow(report).await,
        }
    }

    async fn check(&self) -> Result<PrinterStatus> {
        match self {
            Driver::Ipp(driver) => driver.check().await,
            Driver::Folder(driver) => driver.check().await,
        }
    }
}
