//! Prometheus metrics at `GET /metrics`, in the text exposition format.
//!
//! A handful of counters and two latency histograms, kept with atomics (and one small map for
//! the per-route request counts): a metrics crate would be more code than this. Nothing here
//! names a tenant, a member or an amount, so the endpoint needs no key; scrape it from the
//! operator's network.

use std::collections::BTreeMap;
use std::fmt::Write;
use std::sync::Mutex;
use std::sync::atomic::{AtomicU64, Ordering};

/// Upper bounds of the latency buckets, in microseconds (the exposition prints seconds).
const BUCKETS_MICROS: [u64; 12] =
    [100, 250, 500, 1_000, 2_500, 5_000, 10_000, 25_000, 50_000, 100_000, 250_000, 1_000_000];

/// A latency histogram with fixed buckets.
#[derive(Default)]
pub struct Histogram {
    buckets: [AtomicU64; BUCKETS_MICROS.len()],
    count: AtomicU64,
    sum_micros: AtomicU64,
}

impl Histogram {
    /// Records one observation.
    pub fn observe(&self, elapsed: std::time::Duration) {
        let micros = u64::try_from(elapsed.as_micros()).unwrap_or(u64::MAX);
        if let Some(i) = BUCKETS_MICROS.iter().position(|&b| micros <= b) {
            self.buckets[i].fetch_add(1, Ordering::Relaxed);
        }
        self.count.fetch_add(1, Ordering::Relaxed);
        self.sum_micros.fetch_add(micros, Ordering::Relaxed);
    }

    fn write(&self, out: &mut String, name: &str, labels: &str) {
        let mut cumulative = 0;
        let sep = if labels.is_empty() { "" } else { "," };
        for (bound, bucket) in BUCKETS_MICROS.iter().zip(&self.buckets) {
            cumulative += bucket.load(Ordering::Relaxed);
            let le = *bound as f64 / 1e6;
            let _ = writeln!(out, "{name}_bucket{{{labels}{sep}le=\"{le}\"}} {cumulative}");
        }
        let count = self.count.load(Ordering::Relaxed);
        let _ = writeln!(out, "{name}_bucket{{{labels}{sep}le=\"+Inf\"}} {count}");
        let sum = self.sum_micros.load(Ordering::Relaxed) as f64 / 1e6;
        let braces = if labels.is_empty() { String::new() } else { format!("{{{labels}}}") };
        let _ = writeln!(out, "{name}_sum{braces} {sum}");
        let _ = writeln!(out, "{name}_count{braces} {count}");
    }
}

/// The server's metrics.
#[derive(Default)]
pub struct Metrics {
    /// Requests by (method, route, status).
    requests: Mutex<BTreeMap<(String, String, u16), u64>>,
    /// How long requests take, all routes together.
    pub request_seconds: Histogram,
    /// Event lines applied.
    pub events_applied: AtomicU64,
    /// Event lines refused.
    pub events_rejected: AtomicU64,
    /// Group commits, and how long each took (apply and fsync).
    pub commit_seconds: Histogram,
    /// Commits that failed (each fails its whole batch).
    pub commit_failures: AtomicU64,
    /// Days the scheduler closed.
    pub day_closes: AtomicU64,
}

impl Metrics {
    /// Counts a request.
    pub fn request(&self, method: &str, route: &str, status: u16, elapsed: std::time::Duration) {
        self.request_seconds.observe(elapsed);
        let mut requests = self.requests.lock().unwrap_or_else(|poisoned| poisoned.into_inner());
        *requests.entry((method.to_owned(), route.to_owned(), status)).or_default() += 1;
    }

    /// The exposition; `tenants` and `log_lines` are gauges read at scrape time.
    pub fn render(&self, tenants: usize, log_lines: u64) -> String {
        let mut out = String::with_capacity(4096);
        let counter = |out: &mut String, name: &str, help: &str, value: u64| {
            let _ = writeln!(out, "# HELP {name} {help}\n# TYPE {name} counter\n{name} {value}");
        };
        out.push_str(
            "# HELP fanli_http_requests_total HTTP requests answered, by method, route and status.\n",
        );
        out.push_str("# TYPE fanli_http_requests_total counter\n");
        for ((method, route, status), n) in
            self.requests.lock().unwrap_or_else(|poisoned| poisoned.into_inner()).iter()
        {
            let _ = writeln!(
                out,
                "fanli_http_requests_total{{method=\"{method}\",route=\"{route}\",status=\"{status}\"}} {n}"
            );
        }
        out.push_str("# HELP fanli_http_request_duration_seconds Time to answer a request.\n");
        out.push_str("# TYPE fanli_http_request_duration_seconds histogram\n");
        self.request_seconds.write(&mut out, "fanli_http_request_duration_seconds", "");
        counter(
            &mut out,
            "fanli_events_applied_total",
            "Event lines applied and committed.",
            self.load(&self.events_applied),
        );
        counter(
            &mut out,
            "fanli_events_rejected_total",
            "Event lines refused.",
            self.load(&self.events_rejected),
        );
        out.push_str(
            "# HELP fanli_commit_duration_seconds Time to apply and commit one group of requests.\n",
        );
        out.push_str("# TYPE fanli_commit_duration_seconds histogram\n");
        self.commit_seconds.write(&mut out, "fanli_commit_duration_seconds", "");
        counter(
            &mut out,
            "fanli_commit_failures_total",
            "Group commits that failed.",
            self.load(&self.commit_failures),
        );
        counter(
            &mut out,
            "fanli_day_closes_total",
            "Business days the scheduler closed.",
            self.load(&self.day_closes),
        );
        let _ = writeln!(
            out,
            "# HELP fanli_tenants Tenants served.\n# TYPE fanli_tenants gauge\nfanli_tenants {tenants}"
        );
        let _ = writeln!(
            out,
            "# HELP fanli_log_events Events in the tenants' logs.\n# TYPE fanli_log_events gauge\nfanli_log_events {log_lines}"
        );
        out
    }

    fn load(&self, counter: &AtomicU64) -> u64 {
        counter.load(Ordering::Relaxed)
    }
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use super::*;

    #[test]
    fn the_exposition_counts_and_buckets_what_was_observed() {
        let m = Metrics::default();
        m.request("POST", "/v1/orders", 200, Duration::from_micros(300));
        m.request("POST", "/v1/orders", 200, Duration::from_millis(3));
        m.request("GET", "/v1/state", 401, Duration::from_secs(2));
        m.events_applied.fetch_add(5, Ordering::Relaxed);
        let text = m.render(2, 17);
        assert!(
            text.contains(
                "fanli_http_requests_total{method=\"POST\",route=\"/v1/orders\",status=\"200\"} 2\n"
            )
        );
        assert!(
            text.contains("fanli_http_requests_total{method=\"GET\",route=\"/v1/state\",status=\"401\"} 1\n")
        );
        assert!(text.contains("fanli_http_request_duration_seconds_bucket{le=\"0.00025\"} 0\n"));
        assert!(text.contains("fanli_http_request_duration_seconds_bucket{le=\"0.0005\"} 1\n"));
        assert!(text.contains("fanli_http_request_duration_seconds_bucket{le=\"0.005\"} 2\n"));
        assert!(text.contains("fanli_http_request_duration_seconds_bucket{le=\"1\"} 2\n"));
        assert!(text.contains("fanli_http_request_duration_seconds_bucket{le=\"+Inf\"} 3\n"));
        assert!(text.contains("fanli_http_request_duration_seconds_sum 2.0033\n"));
        assert!(text.contains("fanli_http_request_duration_seconds_count 3\n"));
        assert!(text.contains("fanli_events_applied_total 5\n"));
        assert!(text.contains("fanli_tenants 2\n") && text.contains("fanli_log_events 17\n"));
        // Every sample line is `name{labels} value` or `name value`, after its TYPE line.
        for line in text.lines().filter(|l| !l.starts_with('#')) {
            let value = line.rsplit(' ').next().unwrap();
            assert!(value.parse::<f64>().is_ok(), "{line}");
        }
    }
}
