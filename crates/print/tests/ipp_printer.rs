//! Against a real IPP Everywhere printer (CUPS `ippeveprinter`, started by this test through
//! `scripts/ipp-test-printer.sh` on a free port; the test fails if it cannot start).

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Duration;

use travdoc_print::{IppDriver, JobState, PrintDriver, PrintJob, RetryPolicy};

const SPECIMEN_PDF: &str = concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/../../docs/specimens/ttd-sheet.pdf"
);
const SCRIPT: &str = concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/../../scripts/ipp-test-printer.sh"
);

struct TestPrinter {
    port: u16,
    spool: PathBuf,
}

impl TestPrinter {
    fn start(port: u16, spool: &Path) -> TestPrinter {
        let printer = TestPrinter {
            port,
            spool: spool.to_path_buf(),
        };
        printer.run("start");
        printer
    }

    fn run(&self, action: &str) {
        let output = Command::new("bash")
            .arg(SCRIPT)
            .arg(action)
            .arg(self.port.to_string())
            .arg(&self.spool)
            .output()
            .unwrap_or_else(|error| panic!("{SCRIPT} cannot run: {error}"));
        assert!(
            output.status.success(),
            "ipp-test-printer.sh {action} failed: {}{}",
            String::from_utf8_lossy(&output.stdout),
            String::from_utf8_lossy(&output.stderr)
        );
    }

    fn uri(&self) -> String {
        format!("ipp://localhost:{}/ipp/print", self.port)
    }

    /// The document ippeveprinter kept for `job_id` (`<id>-<job name>.pdf`).
    fn spooled(&self, job_id: i32) -> Vec<u8> {
        let prefix = format!("{job_id}-");
        let entry = std::fs::read_dir(&self.spool)
            .unwrap()
            .filter_map(Result::ok)
            .find(|entry| {
                let name = entry.file_name().to_string_lossy().to_string();
                name.starts_with(&prefix) && name.ends_with(".pdf")
            })
            .unwrap_or_else(|| {
                panic!(
                    "no spooled file for job {job_id} in {}",
                    self.spool.display()
                )
            });
        std::fs::read(entry.path()).unwrap()
    }
}

impl Drop for TestPrinter {
    fn drop(&mut self) {
        let _ = Command::new("bash")
            .arg(SCRIPT)
            .arg("stop")
            .arg(self.port.to_string())
            .arg(&self.spool)
            .output();
    }
}

fn free_port() -> u16 {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    listener.local_addr().unwrap().port()
}

fn fast_policy() -> RetryPolicy {
    RetryPolicy {
        busy_retries: 4,
        initial_backoff: Duration::from_millis(100),
        max_backoff: Duration::from_millis(500),
        poll_interval: Duration::from_millis(100),
        follow_timeout: Duration::from_secs(30),
        request_timeout: Duration::from_secs(10),
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_printer_keeps_the_exact_pdf_and_a_job_fails_cleanly_while_it_is_down() {
    let spool = tempfile::tempdir().unwrap();
    let printer = TestPrinter::start(free_port(), spool.path());

    // The TTD specimen rendered by travdoc-render (`cargo run -p travdoc-render --example
    // specimens` writes it); travdoc-print does not depend on the renderer.
    let pdf = std::fs::read(SPECIMEN_PDF).unwrap_or_else(|error| panic!("{SPECIMEN_PDF}: {error}"));
    assert!(pdf.starts_with(b"%PDF-") && pdf.len() > 10_000);
    let driver = IppDriver::new("test-printer", &printer.uri(), fast_policy()).unwrap();

    let status = driver.check().await.unwrap();
    assert!(status.accepting_jobs && status.supports_pdf, "{status:?}");
    assert_ne!(status.state, "stopped");

    let job = PrintJob {
        job_name: "LKA-TTD-N0012345",
        pdf: &pdf,
    };
    let report = driver.print(&job).await;
    assert_eq!(report.state, JobState::Completed, "{report:#?}");
    let job_id = report.printer_job_id.unwrap();
    assert_eq!(
        printer.spooled(job_id),
        pdf,
        "spooled file differs from the rendered PDF"
    );
    assert!(
        report
            .events
            .iter()
            .any(|event| matches!(event.state, JobState::Sent { .. }))
    );

    // Printer down: a clear failed state, no panic, no hang.
    printer.run("stop");
    let report = driver.print(&job).await;
    match &report.state {
        JobState::Failed { reason } => assert!(reason.contains("unreachable"), "{reason}"),
        other => panic!("expected a failed job, got {other:?}"),
    }
    assert!(report.printer_job_id.is_none());
    assert!(driver.check().await.is_err());

    // Printer back (with an emptied spool, so the file checked below is the retry's own):
    // the retry goes through and the printer again holds the exact bytes.
    for entry in std::fs::read_dir(spool.path())
        .unwrap()
        .filter_map(Result::ok)
    {
        if !entry.file_name().to_string_lossy().starts_with('.') {
            std::fs::remove_file(entry.path()).unwrap();
        }
    }
    printer.run("start");
    let retry = driver.print(&job).await;
    assert_eq!(retry.state, JobState::Completed, "{retry:#?}");
    assert_eq!(printer.spooled(retry.printer_job_id.unwrap()), pdf);
}
