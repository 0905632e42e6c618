//! Process metrics in the Prometheus text format (`GET /metrics`): HTTP requests and latencies,
//! issuances by type and their latency, HSM signature latency, batched database statements,
//! print job states, verifications, document state changes and authorization denials.

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::sync::Mutex;
use std::time::Duration;

/// Upper bounds (seconds) of the latency buckets.
const BUCKETS: [f64; 14] = [
    0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0,
];

#[derive(Debug, Clone, Default)]
struct Histogram {
    counts: [u64; BUCKETS.len()],
    count: u64,
    sum: f64,
}

impl Histogram {
    fn observe(&mut self, seconds: f64) {
        for (index, bound) in BUCKETS.iter().enumerate() {
            if seconds <= *bound {
                self.counts[index] += 1;
            }
        }
        self.count += 1;
        self.sum += seconds;
    }
}

#[derive(Debug, Default)]
struct Inner {
    counters: BTreeMap<(&'static str, String), u64>,
    histograms: BTreeMap<(&'static str, String), Histogram>,
}

/// The registry.
#[derive(Debug, Default)]
pub struct Metrics {
    inner: Mutex<Inner>,
}

fn label(name: &str, value: &str) -> String {
    let escaped = value
        .replace('\\', "\\\\")
        .replace('"', "\\\"")
        .replace('\n', "\\n");
    format!("{name}=\"{escaped}\"")
}

impl Metrics {
    pub fn new() -> Self {
        Self::default()
    }

    fn count(&self, name: &'static str, labels: String) {
        self.add(name, labels, 1);
    }

    fn add(&self, name: &'static str, labels: String, amount: u64) {
        if let Ok(mut inner) = self.inner.lock() {
            *inner.counters.entry((name, labels)).or_insert(0) += amount;
        }
    }

    fn observe(&self, name: &'static str, labels: String, elapsed: Duration) {
        if let Ok(mut inner) = self.inner.lock() {
            inner
                .histograms
                .entry((name, labels))
                .or_default()
                .observe(elapsed.as_secs_f64());
        }
    }

    /// One HTTP request on a route template (e.g. `/v1/ttds/{id}`).
    pub fn record_http(&self, method: &str, route: &str, status: u16, elapsed: Duration) {
        // Labels come from a fixed set: a client's invented method is `other`.
        let method = match method {
            "GET" | "POST" | "PUT" | "PATCH" | "DELETE" | "HEAD" | "OPTIONS" => method,
            _ => "other",
        };
        self.count(
            "travdoc_http_requests_total",
            format!(
                "{},{},{}",
                label("method", method),
                label("route", route),
                label("status", &status.to_string())
            ),
        );
        self.observe(
            "travdoc_http_request_duration_seconds",
            label("route", route),
            elapsed,
        );
    }

    /// A completed issuance of `kind`.
    pub fn record_issuance(&self, kind: &str, elapsed: Duration) {
        self.count("travdoc_issuances_total", label("type", kind));
        self.observe(
            "travdoc_issuance_duration_seconds",
            label("type", kind),
            elapsed,
        );
    }

    /// Time spent building and signing (HSM) one document.
    pub fn record_sign(&self, elapsed: Duration) {
        self.observe("travdoc_hsm_sign_duration_seconds", String::new(), elapsed);
    }

    /// One batch of `items` run by a batched database statement (`statement`: its name) in
    /// `elapsed`; `one_by_one`: the batch failed whole and its items were run again singly.
    /// Items over batches is the mean batch size.
    pub fn record_batch(&self, statement: &str, items: usize, elapsed: Duration, one_by_one: bool) {
        let labels = label("statement", statement);
        self.count("travdoc_db_batches_total", labels.clone());
        self.add(
            "travdoc_db_batch_items_total",
            labels.clone(),
            u64::try_from(items).unwrap_or(u64::MAX),
        );
        if one_by_one {
            self.count("travdoc_db_batches_run_one_by_one_total", labels.clone());
        }
        self.observe("travdoc_db_batch_duration_seconds", labels, elapsed);
    }

    /// A print job that reached `state`.
    pub fn record_print_job(&self, state: &str) {
        self.count("travdoc_print_jobs_total", label("state", state));
    }

    /// A document moved to `state` (revoked, used).
    pub fn record_state_change(&self, state: &str) {
        self.count(
            "travdoc_document_state_changes_total",
            label("state", state),
        );
    }

    /// A verification answered with `status`.
    pub fn record_verification(&self, status: &str) {
        self.count("travdoc_verifications_total", label("status", status));
    }

    /// A refused request (401 or 403).
    pub fn record_denial(&self, status: u16) {
        self.count(
            "travdoc_auth_denials_total",
            label("status", &status.to_string()),
        );
    }

    /// The Prometheus text exposition.
    pub fn render(&self) -> String {
        let mut out = String::new();
        let Ok(inner) = self.inner.lock() else {
            return out;
        };
        let mut last = "";
        for ((name, labels), value) in &inner.counters {
            if *name != last {
                let _ = writeln!(out, "# TYPE {name} counter");
                last = name;
            }
            let _ = writeln!(out, "{name}{{{labels}}} {value}");
        }
        last = "";
        for ((name, labels), histogram) in &inner.histograms {
            if *name != last {
                let _ = writeln!(out, "# TYPE {name} histogram");
                last = name;
            }
            let separator = if labels.is_empty() { "" } else { "," };
            for (index, bound) in BUCKETS.iter().enumerate() {
                let _ = writeln!(
                    out,
                    "{name}_bucket{{{labels}{separator}le=\"{bound}\"}} {}",
                    histogram.counts[index]
                );
            }
            let _ = writeln!(
                out,
                "{name}_bucket{{{labels}{separator}le=\"+Inf\"}} {}",
                histogram.count
            );
            let _ = writeln!(out, "{name}_sum{{{labels}}} {}", histogram.sum);
            let _ = writeln!(out, "{name}_count{{{labels}}} {}", histogram.count);
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn renders_counters_and_histograms() {
        let metrics = Metrics::new();
        metrics.record_issuance("ttd", Duration::from_millis(3));
        metrics.record_issuance("ttd", Duration::from_millis(30));
        metrics.record_print_job("sent");
        let text = metrics.render();
        assert!(
            text.contains("travdoc_issuances_total{type=\"ttd\"} 2"),
            "{text}"
        );
        assert!(text.contains("travdoc_print_jobs_total{state=\"sent\"} 1"));
        assert!(
            text.contains("travdoc_issuance_duration_seconds_bucket{type=\"ttd\",le=\"0.005\"} 1")
        );
        assert!(
            text.contains("travdoc_issuance_duration_seconds_bucket{type=\"ttd\",le=\"+Inf\"} 2")
        );
    }
}
