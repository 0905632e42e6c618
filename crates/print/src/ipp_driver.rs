//! The IPP driver (IPP Everywhere printers and CUPS queues), over plain http.

use std::io::Cursor;

use ipp::prelude::*;

use crate::driver::{JobReport, JobState, PrintDriver, PrintJob, PrinterStatus, RetryPolicy};
use crate::error::{PrintError, Result};

/// Sends Print-Job with `application/pdf`, retries while the printer answers
/// `server-error-busy`, and follows the job with Get-Job-Attributes.
#[derive(Debug, Clone)]
pub struct IppDriver {
    name: String,
    uri: Uri,
    policy: RetryPolicy,
}

/// The user name sent with jobs.
const REQUESTING_USER: &str = "travdoc";

enum SubmitOutcome {
    Accepted(Option<i32>),
    Busy,
    Refused(String),
    Unreachable(String),
}

impl IppDriver {
    /// A driver for the printer at `uri` (`ipp://host:port/path` or `http://...`).
    pub fn new(name: &str, uri: &str, policy: RetryPolicy) -> Result<IppDriver> {
        let uri: Uri = uri.parse().map_err(|error| PrintError::Printer {
            printer: name.to_string(),
            message: format!("{uri:?} is not a URI: {error}"),
        })?;
        Ok(IppDriver {
            name: name.to_string(),
            uri,
            policy,
        })
    }

    fn client(&self) -> AsyncIppClient {
        AsyncIppClient::builder(self.uri.clone())
            .request_timeout(self.policy.request_timeout)
            .build()
    }

    fn printer_error(&self, message: String) -> PrintError {
        PrintError::Printer {
            printer: self.name.clone(),
            message,
        }
    }

    async fn send_once(&self, job: &PrintJob<'_>) -> SubmitOutcome {
        let payload = IppPayload::new(Cursor::new(job.pdf.to_vec()));
        let operation = match IppOperationBuilder::print_job(self.uri.clone(), payload)
            .user_name(REQUESTING_USER)
            .job_title(job.job_name)
            .document_format("application/pdf")
            .build()
        {
            Ok(operation) => operation,
            Err(error) => {
                return SubmitOutcome::Refused(format!("request cannot be built: {error}"));
            }
        };
        match self.client().send(operation).await {
            Ok(response) => {
                let status = response.header().status_code();
                if status.is_success() {
                    SubmitOutcome::Accepted(job_attribute_i32(&response, "job-id"))
                } else if status == StatusCode::ServerErrorBusy {
                    SubmitOutcome::Busy
                } else {
                    SubmitOutcome::Refused(format!(
                        "printer refused the job: {status} ({:#06x})",
                        status as u16
                    ))
                }
            }
            Err(IppError::RequestError(503)) => SubmitOutcome::Busy,
            Err(error) => SubmitOutcome::Unreachable(describe(&error)),
        }
    }

    async fn job_attributes(
        &self,
        job_id: i32,
    ) -> std::result::Result<(Option<i32>, Vec<String>), String> {
        let operation = IppOperationBuilder::get_job_attributes(self.uri.clone(), job_id)
            .build()
            .map_err(|error| format!("request cannot be built: {error}"))?;
        let response = self
            .client()
            .send(operation)
            .await
            .map_err(|error| describe(&error))?;
        let status = response.header().status_code();
        if !status.is_success() {
            return Err(format!("Get-Job-Attributes answered {status}"));
        }
        let state = job_attribute_i32(&response, "job-state");
        let reasons =
            job_attribute_strings(&response, DelimiterTag::JobAttributes, "job-state-reasons");
        Ok((state, reasons))
    }
}

fn describe(error: &IppError) -> String {
    match error {
        IppError::AsyncClientError(inner) if inner.is_connect() => {
            format!("printer unreachable (connection failed): {inner}")
        }
        IppError::AsyncClientError(inner) if inner.is_timeout() => {
            format!("printer did not answer in time: {inner}")
        }
        other => format!("printer unreachable: {other}"),
    }
}

fn value_i32(value: &IppValue) -> Option<i32> {
    match value {
        IppValue::Integer(v) | IppValue::Enum(v) => Some(*v),
        _ => None,
    }
}

fn job_attribute_i32(response: &IppRequestResponse, name: &str) -> Option<i32> {
    response
        .attributes()
        .groups_of(DelimiterTag::JobAttributes)
        .find_map(|group| group.get(name))
        .and_then(|attribute| value_i32(attribute.value()))
}

fn job_attribute_strings(
    response: &IppRequestResponse,
    tag: DelimiterTag,
    name: &str,
) -> Vec<String> {
    response
        .attributes()
        .groups_of(tag)
        .find_map(|group| group.get(name))
        .map(|attribute| match attribute.value() {
            IppValue::Array(values) => values.iter().map(ToString::to_string).collect(),
            other => vec![other.to_string()],
        })
        .unwrap_or_default()
}

impl PrintDriver for IppDriver {
    fn printer_name(&self) -> &str {
        &self.name
    }

    async fn submit(&self, job: &PrintJob<'_>) -> JobReport {
        let mut report = JobReport::new(&self.name, job.job_name);
        if let Err(error) = job.validate() {
            report.push(
                JobState::Failed {
                    reason: error.to_string(),
                },
                "not sent",
            );
            return report;
        }
        let mut backoff = self.policy.initial_backoff;
        let mut busy_answers = 0u32;
        loop {
            match self.send_once(job).await {
                SubmitOutcome::Accepted(job_id) => {
                    report.printer_job_id = job_id;
                    let detail = match job_id {
                        Some(id) => format!("Print-Job accepted, job-id {id}"),
                        None => "Print-Job accepted without a job-id".to_string(),
                    };
                    report.push(
                        JobState::Sent {
                            printer_job_id: job_id,
                        },
                        detail,
                    );
                    return report;
                }
                SubmitOutcome::Busy if busy_answers < self.policy.busy_retries => {
                    busy_answers += 1;
                    report.push(
                        JobState::Queued,
                        format!(
                            "printer busy (server-error-busy), retry {busy_answers} in {backoff:?}"
                        ),
                    );
                    tokio::time::sleep(backoff).await;
                    backoff = (backoff * 2).min(self.policy.max_backoff);
                }
                SubmitOutcome::Busy => {
                    let reason = format!("printer still busy after {busy_answers} retries");
                    report.push(JobState::Failed { reason }, "gave up");
                    return report;
                }
                SubmitOutcome::Refused(reason) | SubmitOutcome::Unreachable(reason) => {
                    report.push(JobState::Failed { reason }, "not printed");
                    return report;
                }
            }
        }
    }

    async fn follow(&self, mut report: JobReport) -> JobReport {
        let JobState::Sent {
            printer_job_id: Some(job_id),
        } = report.state
        else {
            return report;
        };
        let started = tokio::time::Instant::now();
        let mut last_state: Option<i32> = None;
        loop {
            match self.job_attributes(job_id).await {
                Ok((state, reasons)) => {
                    if state != last_state {
                        last_state = state;
                        let name = state.and_then(job_state_name).unwrap_or("unknown");
                        let detail = format!("job-state {name}, reasons {}", reasons.join(","));
                        match state.and_then(ipp::model::JobState::from_i32) {
                            Some(ipp::model::JobState::Completed) => {
                                report.push(JobState::Completed, detail);
                                return report;
                            }
                            Some(
                                ipp::model::JobState::Aborted | ipp::model::JobState::Canceled,
                            ) => {
                                report.push(
                                    JobState::Failed {
                                        reason: format!(
                                            "printer ended the job: {name} ({})",
                                            reasons.join(",")
                                        ),
                                    },
                                    detail,
                                );
                                return report;
                            }
                            _ => report.push(
                                JobState::Sent {
                                    printer_job_id: Some(job_id),
                                },
                                detail,
                            ),
                        }
                    }
                }
                Err(message) => {
                    report.push(
                        JobState::Failed {
                            reason: format!("job {job_id} could not be followed: {message}"),
                        },
                        "follow-up failed",
                    );
                    return report;
                }
            }
            if started.elapsed() >= self.policy.follow_timeout {
                let reason = format!(
                    "job {job_id} did not finish within {:?}",
                    self.policy.follow_timeout
                );
                report.push(JobState::Failed { reason }, "follow-up timed out");
                return report;
            }
            tokio::time::sleep(self.policy.poll_interval).await;
        }
    }

    async fn check(&self) -> Result<PrinterStatus> {
        let operation = IppOperationBuilder::get_printer_attributes(self.uri.clone())
            .attributes([
                "printer-state",
                "printer-state-reasons",
                "printer-is-accepting-jobs",
                "document-format-supported",
                "printer-make-and-model",
            ])
            .build()
            .map_err(|error| self.printer_error(format!("request cannot be built: {error}")))?;
        let response = self
            .client()
            .send(operation)
            .await
            .map_err(|error| self.printer_error(describe(&error)))?;
        let status = response.header().status_code();
        if !status.is_success() {
            return Err(self.printer_error(format!("Get-Printer-Attributes answered {status}")));
        }
        let printer_attribute = |name: &str| {
            response
                .attributes()
                .groups_of(DelimiterTag::PrinterAttributes)
                .find_map(|group| group.get(name))
                .map(|attribute| attribute.value().clone())
        };
        let state = match printer_attribute("printer-state")
            .as_ref()
            .and_then(value_i32)
        {
            Some(3) => "idle",
            Some(4) => "processing",
            Some(5) => "stopped",
            _ => "unknown",
        };
        let formats = job_attribute_strings(
            &response,
            DelimiterTag::PrinterAttributes,
            "document-format-supported",
        );
        Ok(PrinterStatus {
            printer: self.name.clone(),
            state: state.to_string(),
            reasons: job_attribute_strings(
                &response,
                DelimiterTag::PrinterAttributes,
                "printer-state-reasons",
            ),
            accepting_jobs: matches!(
                printer_attribute("printer-is-accepting-jobs"),
                Some(IppValue::Boolean(true))
            ),
            supports_pdf: formats.iter().any(|format| format == "application/pdf"),
            make_and_model: printer_attribute("printer-make-and-model")
                .map(|value| value.to_string()),
        })
    }
}

/// RFC 8011 job-state names.
fn job_state_name(state: i32) -> Option<&'static str> {
    Some(match state {
        3 => "pending",
        4 => "pending-held",
        5 => "processing",
        6 => "processing-stopped",
        7 => "canceled",
        8 => "aborted",
        9 => "completed",
        _ => return None,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::Arc;
    use std::sync::atomic::{AtomicU32, Ordering};
    use std::time::Duration;
    use tokio::io::{AsyncReadExt, AsyncWriteExt};

    /// Reads one HTTP request and returns its (de-chunked) body.
    async fn read_request(stream: &mut tokio::net::TcpStream) -> Vec<u8> {
        let mut raw = Vec::new();
        let mut buffer = [0u8; 8192];
        let header_end = loop {
            let n = stream.read(&mut buffer).await.unwrap();
            assert!(n > 0, "client closed early");
            raw.extend_from_slice(&buffer[..n]);
            if let Some(position) = raw.windows(4).position(|w| w == b"\r\n\r\n") {
                break position + 4;
            }
        };
        let head = String::from_utf8_lossy(&raw[..header_end]).to_ascii_lowercase();
        let mut body = raw[header_end..].to_vec();
        if head.contains("transfer-encoding: chunked") {
            while !body.ends_with(b"0\r\n\r\n") {
                let n = stream.read(&mut buffer).await.unwrap();
                assert!(n > 0);
                body.extend_from_slice(&buffer[..n]);
            }
            let mut decoded = Vec::new();
            let mut rest = &body[..];
            loop {
                let line_end = rest.windows(2).position(|w| w == b"\r\n").unwrap();
                let size = usize::from_str_radix(
                    std::str::from_utf8(&rest[..line_end]).unwrap().trim(),
                    16,
                )
                .unwrap();
                if size == 0 {
                    break;
                }
                decoded.extend_from_slice(&rest[line_end + 2..line_end + 2 + size]);
                rest = &rest[line_end + 2 + size + 2..];
            }
            decoded
        } else {
            let length: usize = head
                .lines()
                .find_map(|line| line.strip_prefix("content-length:"))
                .map(|value| value.trim().parse().unwrap())
                .unwrap_or(0);
            while body.len() < length {
                let n = stream.read(&mut buffer).await.unwrap();
                body.extend_from_slice(&buffer[..n]);
            }
            body
        }
    }

    /// A fake IPP printer: answers the first `busy` Print-Jobs with server-error-busy, then
    /// accepts with job-id 42; Get-Job-Attributes says `processing` once, then `completed`.
    async fn fake_printer(busy: u32) -> (String, Arc<AtomicU32>) {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let port = listener.local_addr().unwrap().port();
        let print_requests = Arc::new(AtomicU32::new(0));
        let counter = print_requests.clone();
        tokio::spawn(async move {
            let polls = AtomicU32::new(0);
            loop {
                let Ok((mut stream, _)) = listener.accept().await else {
                    return;
                };
                let body = read_request(&mut stream).await;
                let operation = u16::from_be_bytes([body[2], body[3]]);
                let request_id = i32::from_be_bytes([body[4], body[5], body[6], body[7]]);
                let response = match operation {
                    0x0002 => {
                        let seen = counter.fetch_add(1, Ordering::SeqCst);
                        if seen < busy {
                            IppRequestResponse::new_response(
                                IppVersion::v1_1(),
                                StatusCode::ServerErrorBusy,
                                request_id,
                            )
                            .unwrap()
                        } else {
                            let mut ok = IppRequestResponse::new_response(
                                IppVersion::v1_1(),
                                StatusCode::SuccessfulOk,
                                request_id,
                            )
                            .unwrap();
                            ok.attributes_mut().add(
                                DelimiterTag::JobAttributes,
                                IppAttribute::with_name("job-id", IppValue::Integer(42)).unwrap(),
                            );
                            ok
                        }
                    }
                    _ => {
                        let state = if polls.fetch_add(1, Ordering::SeqCst) == 0 {
                            5
                        } else {
                            9
                        };
                        let mut ok = IppRequestResponse::new_response(
                            IppVersion::v1_1(),
                            StatusCode::SuccessfulOk,
                            request_id,
                        )
                        .unwrap();
                        ok.attributes_mut().add(
                            DelimiterTag::JobAttributes,
                            IppAttribute::with_name("job-state", IppValue::Enum(state)).unwrap(),
                        );
                        ok
                    }
                };
                let bytes = response.to_bytes();
                let head = format!(
                    "HTTP/1.1 200 OK\r\nContent-Type: application/ipp\r\nContent-Length: {}\r\nConnection: close\r\n\r\n",
                    bytes.len()
                );
                let _ = stream.write_all(head.as_bytes()).await;
                let _ = stream.write_all(&bytes).await;
                let _ = stream.shutdown().await;
            }
        });
        (format!("ipp://127.0.0.1:{port}/ipp/print"), print_requests)
    }

    fn policy(busy_retries: u32) -> RetryPolicy {
        RetryPolicy {
            busy_retries,
            initial_backoff: Duration::from_millis(20),
            max_backoff: Duration::from_millis(50),
            poll_interval: Duration::from_millis(20),
            follow_timeout: Duration::from_secs(10),
            request_timeout: Duration::from_secs(5),
        }
    }

    #[tokio::test]
    async fn a_busy_printer_is_retried_with_backoff_then_the_job_is_followed_to_completion() {
        let (uri, requests) = fake_printer(2).await;
        let driver = IppDriver::new("fake", &uri, policy(4)).unwrap();
        let report = driver
            .print(&PrintJob {
                job_name: "LKA-0001",
                pdf: b"%PDF-1.7 x",
            })
            .await;
        assert_eq!(report.state, JobState::Completed, "{report:#?}");
        assert_eq!(report.printer_job_id, Some(42));
        assert_eq!(requests.load(Ordering::SeqCst), 3);
        let busy_events = report
            .events
            .iter()
            .filter(|e| e.detail.contains("server-error-busy"))
            .count();
        assert_eq!(busy_events, 2);
        assert!(
            report
                .events
                .iter()
                .any(|e| e.detail.contains("processing"))
        );
    }

    #[tokio::test]
    async fn a_printer_busy_for_too_long_fails_with_a_reason() {
        let (uri, requests) = fake_printer(100).await;
        let driver = IppDriver::new("fake", &uri, policy(2)).unwrap();
        let report = driver
            .print(&PrintJob {
                job_name: "LKA-0002",
                pdf: b"%PDF-1.7 x",
            })
            .await;
        assert!(
            matches!(report.state, JobState::Failed { ref reason } if reason.contains("busy")),
            "{report:#?}"
        );
        assert_eq!(requests.load(Ordering::SeqCst), 3);
    }
}
