//! The hot-folder driver: the PDF is written under a temporary name and renamed into place, so a
//! watcher never picks up half a file.

use std::path::{Path, PathBuf};

use crate::driver::{JobReport, JobState, PrintDriver, PrintJob, PrinterStatus};
use crate::error::{PrintError, Result};

/// Writes jobs to a folder as `<job name>.pdf` (`<job name>-2.pdf`, ... when that name is taken).
#[derive(Debug, Clone)]
pub struct FolderDriver {
    name: String,
    folder: PathBuf,
}

impl FolderDriver {
    /// A driver for `folder` (created on first use).
    pub fn new(name: &str, folder: &Path) -> FolderDriver {
        FolderDriver {
            name: name.to_string(),
            folder: folder.to_path_buf(),
        }
    }

    fn folder_error(&self, error: std::io::Error) -> PrintError {
        PrintError::Folder {
            folder: self.folder.display().to_string(),
            message: error.to_string(),
        }
    }

    fn write(&self, job: &PrintJob<'_>) -> Result<PathBuf> {
        job.validate()?;
        std::fs::create_dir_all(&self.folder).map_err(|e| self.folder_error(e))?;
        let nanos = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.as_nanos())
            .unwrap_or_default();
        let temporary = self.folder.join(format!(
            ".{}.{}-{nanos}.tmp",
            job.job_name,
            std::process::id()
        ));
        std::fs::write(&temporary, job.pdf).map_err(|e| self.folder_error(e))?;
        for attempt in 1u32..1000 {
            let file_name = if attempt == 1 {
                format!("{}.pdf", job.job_name)
            } else {
                format!("{}-{attempt}.pdf", job.job_name)
            };
            let target = self.folder.join(file_name);
            // hard_link fails if the target exists, so an earlier job's file is never replaced.
            match std::fs::hard_link(&temporary, &target) {
                Ok(()) => {
                    std::fs::remove_file(&temporary).map_err(|e| self.folder_error(e))?;
                    return Ok(target);
                }
                Err(error) if error.kind() == std::io::ErrorKind::AlreadyExists => continue,
                Err(error) => {
                    let _ = std::fs::remove_file(&temporary);
                    return Err(self.folder_error(error));
                }
            }
        }
        let _ = std::fs::remove_file(&temporary);
        Err(self.folder_error(std::io::Error::other(
            "999 files with this job name already",
        )))
    }
}

impl PrintDriver for FolderDriver {
    fn printer_name(&self) -> &str {
        &self.name
    }

    async fn submit(&self, job: &PrintJob<'_>) -> JobReport {
        let mut report = JobReport::new(&self.name, job.job_name);
        match self.write(job) {
            Ok(path) => {
                report.location = Some(path.display().to_string());
                report.push(
                    JobState::Sent {
                        printer_job_id: None,
                    },
                    format!("written to {}", path.display()),
                );
            }
            Err(error) => report.push(
                JobState::Failed {
                    reason: error.to_string(),
                },
                "not written",
            ),
        }
        report
    }

    async fn follow(&self, mut report: JobReport) -> JobReport {
        if let JobState::Sent { .. } = report.state {
            // The file is complete and in place: that is all a hot folder promises.
            report.push(JobState::Completed, "delivered to the hot folder");
        }
        report
    }

    async fn check(&self) -> Result<PrinterStatus> {
        std::fs::create_dir_all(&self.folder).map_err(|e| self.folder_error(e))?;
        let probe = self.folder.join(format!(".probe-{}", std::process::id()));
        std::fs::write(&probe, b"").map_err(|e| self.folder_error(e))?;
        std::fs::remove_file(&probe).map_err(|e| self.folder_error(e))?;
        Ok(PrinterStatus {
            printer: self.name.clone(),
            state: "ready".to_string(),
            reasons: vec!["none".to_string()],
            accepting_jobs: true,
            supports_pdf: true,
            make_and_model: Some(format!("hot folder {}", self.folder.display())),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn a_job_lands_complete_under_its_name_and_never_overwrites() {
        let dir = tempfile::tempdir().unwrap();
        let driver = FolderDriver::new("f", &dir.path().join("spool"));
        let pdf = b"%PDF-1.7 first".to_vec();
        let report = driver
            .print(&PrintJob {
                job_name: "LKA-TTD-0001",
                pdf: &pdf,
            })
            .await;
        assert_eq!(report.state, JobState::Completed);
        let first = dir.path().join("spool/LKA-TTD-0001.pdf");
        assert_eq!(std::fs::read(&first).unwrap(), pdf);
        let again = driver
            .print(&PrintJob {
                job_name: "LKA-TTD-0001",
                pdf: b"%PDF-1.7 reprint",
            })
            .await;
        assert_eq!(again.state, JobState::Completed);
        assert_eq!(std::fs::read(&first).unwrap(), pdf);
        assert_eq!(
            std::fs::read(dir.path().join("spool/LKA-TTD-0001-2.pdf")).unwrap(),
            b"%PDF-1.7 reprint"
        );
        let leftovers: Vec<_> = std::fs::read_dir(dir.path().join("spool"))
            .unwrap()
            .filter_map(|e| e.ok())
            .filter(|e| e.file_name().to_string_lossy().starts_with('.'))
            .collect();
        assert!(leftovers.is_empty());
        assert!(driver.check().await.unwrap().accepting_jobs);
    }

    #[tokio::test]
    async fn bad_names_and_non_pdf_fail_with_a_reason() {
        let dir = tempfile::tempdir().unwrap();
        let driver = FolderDriver::new("f", dir.path());
        let report = driver
            .print(&PrintJob {
                job_name: "../etc/passwd",
                pdf: b"%PDF-1.7",
            })
            .await;
        assert!(
            matches!(report.state, JobState::Failed { ref reason } if reason.contains("job name"))
        );
        let report = driver
            .print(&PrintJob {
                job_name: "ok",
                pdf: b"GIF89a",
            })
            .await;
        assert!(
            matches!(report.state, JobState::Failed { ref reason } if reason.contains("not a PDF"))
        );
    }

    #[tokio::test]
    async fn an_unwritable_folder_is_a_failed_state() {
        let dir = tempfile::tempdir().unwrap();
        let blocker = dir.path().join("file");
        std::fs::write(&blocker, b"x").unwrap();
        let driver = FolderDriver::new("f", &blocker.join("sub"));
        let report = driver
            .print(&PrintJob {
                job_name: "a",
                pdf: b"%PDF-1.7",
            })
            .await;
        assert!(
            matches!(report.state, JobState::Failed { ref reason } if reason.contains("hot folder"))
        );
        assert!(driver.check().await.is_err());
    }
}
