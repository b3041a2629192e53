//! Prometheus metrics at `GET /metrics`, in the text exposition format.
//!
//! A handful of counters and two latency histograms, kept with atomics (and one small map for
//! the per-route request counts): a metrics crate would be more code than this. What every
//! scrape gets names no tenant, member or amount, so it needs no key; scrape it from the
//! operator's network.
//!
//! With the master key (`Authorization: Bearer MASTER`, Prometheus' `authorization` setting),
//! a scrape gets the per-tenant gauges too ([`TenantGauges`]): each mechanism's pool, what it
//! owes (amount and count), what it paid, each money figure of its kind's view (what waits in a
//! queue, ...), the withdrawals waiting for review, and the webhook's notifications waiting and
//! dead letters (alert on `fanli_webhook_dead_letters > 0`); amounts in fen, exact integers. They are
//! read from the engines' running totals (the mechanisms' views, as `GET /v1/mechanisms` shows
//! them), never from a scan of the members. Alert when a pool owes more than it holds:
//! `fanli_obligations_fen > fanli_pool_fen` (docs/operations.md).

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

/// One mechanism's gauges.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct MechanismGauges {
    /// Its id in the plan.
    pub id: String,
    /// Its kind (`queue`).
    pub kind: &'static str,
    /// Cash in its pool, in fen.
    pub pool: i64,
    /// Promised and not yet paid, in fen.
    pub owed: i64,
    /// How many obligations wait.
    pub obligations: u64,
    /// Paid to members in all, in fen.
    pub paid: i64,
    /// Each money figure of its kind's view (`queued`, ...), in fen, in the view's order.
    pub figures: Vec<(&'static str, i64)>,
}

/// One tenant's gauges: its mechanisms' and its withdrawals waiting for review.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TenantGauges {
    /// The tenant.
    pub tenant: String,
    /// Each mechanism, in plan order.
    pub mechanisms: Vec<MechanismGauges>,
    /// Withdrawals waiting for review: how many, and their amount in fen.
    pub withdrawals: (u64, i64),
    /// The webhook's outbox: notifications waiting to be sent (retries included), and dead
    /// letters (given up after the last attempt, waiting for a replay).
    pub webhook: (u64, u64),
}

/// Collects a view's money figures at its top level (groups and lists are left out).
struct MoneyFigures(Vec<(&'static str, i64)>);

impl fanli_engine::Fields for MoneyFigures {
    fn figure(&mut self, key: fanli_engine::Key, figure: fanli_engine::Figure<'_>) {
        if let fanli_engine::Figure::Money(amount) = figure {
            self.0.push((key.name(), amount.fen()));
        }
    }

    fn object(&mut self, _key: fanli_engine::Key, _fill: impl FnOnce(&mut Self)) {}

    fn list<T>(&mut self, _key: fanli_engine::Key, _items: &[T], _fill: impl FnMut(&mut Self, &T)) {}
}

impl TenantGauges {
    /// The gauges of `tenant` running `engine`: its mechanisms' views and the withdrawals
    /// waiting (the engine's totals and queues, no member scanned).
    pub fn of(tenant: &str, engine: &fanli_engine::Engine) -> TenantGauges {
        use fanli_engine::Figures;
        let mechanisms = engine
            .mechanism_views()
            .map(|m| {
                let mut figures = MoneyFigures(Vec::new());
                m.detail.write(&mut figures);
                MechanismGauges {
                    id: m.id.to_owned(),
                    kind: m.kind,
                    pool: m.pool.fen(),
                    owed: m.obligations.fen(),
                    obligations: m.obligations_waiting as u64,
                    paid: m.paid.fen(),
                    figures: figures.0,
                }
            })
            .collect();
        let withdrawals =
            engine.withdrawals_waiting().fold((0, 0), |(n, fen), w| (n + 1, fen + w.amount.fen()));
        TenantGauges { tenant: tenant.to_owned(), mechanisms, withdrawals, webhook: (0, 0) }
    }
}

/// A label's value as the exposition format writes it (`\\`, `\"` and `\n` escaped).
fn label(value: &str) -> String {
    value.replace('\\', "\\\\").replace('"', "\\\"").replace('\n', "\\n")
}

/// Appends the per-tenant gauges to an exposition, each metric with its HELP and TYPE once.
pub fn render_tenants(out: &mut String, tenants: &[TenantGauges]) {
    type Pick = fn(&MechanismGauges) -> i64;
    type TenantPick = fn(&TenantGauges) -> i64;
    let per_mechanism: [(&str, &str, Pick); 4] = [
        ("fanli_pool_fen", "Cash in a mechanism's pool, in fen.", |m| m.pool),
        ("fanli_obligations_fen", "What a mechanism owes members and has not paid, in fen.", |m| m.owed),
        ("fanli_obligations", "How many obligations of a mechanism wait to be paid.", |m| {
            m.obligations as i64
        }),
        ("fanli_paid_fen", "What a mechanism paid members in all, in fen.", |m| m.paid),
    ];
    for (name, help, pick) in per_mechanism {
        let _ = writeln!(out, "# HELP {name} {help}\n# TYPE {name} gauge");
        for t in tenants {
            for m in &t.mechanisms {
                let _ = writeln!(
                    out,
                    "{name}{{tenant=\"{}\",mechanism=\"{}\",kind=\"{}\"}} {}",
                    label(&t.tenant),
                    label(&m.id),
                    m.kind,
                    pick(m)
                );
            }
        }
    }
    out.push_str(
        "# HELP fanli_mechanism_money_fen Each money figure of a mechanism's view (a queue's queued, ...), in fen.\n",
    );
    out.push_str("# TYPE fanli_mechanism_money_fen gauge\n");
    for t in tenants {
        for m in &t.mechanisms {
            for (figure, fen) in &m.figures {
                let _ = writeln!(
                    out,
                    "fanli_mechanism_money_fen{{tenant=\"{}\",mechanism=\"{}\",kind=\"{}\",figure=\"{figure}\"}} {fen}",
                    label(&t.tenant),
                    label(&m.id),
                    m.kind
                );
            }
        }
    }
    let per_tenant: [(&str, &str, TenantPick); 4] = [
        ("fanli_withdrawals_waiting", "Withdrawals waiting for review.", |t| t.withdrawals.0 as i64),
        ("fanli_withdrawals_waiting_fen", "What withdrawals waiting for review hold, in fen.", |t| {
            t.withdrawals.1
        }),
        ("fanli_webhook_pending", "Webhook notifications waiting to be sent (retries included).", |t| {
            t.webhook.0 as i64
        }),
        ("fanli_webhook_dead_letters", "Webhook notifications given up on, waiting for a replay.", |t| {
            t.webhook.1 as i64
        }),
    ];
    for (name, help, pick) in per_tenant {
        let _ = writeln!(out, "# HELP {name} {help}\n# TYPE {name} gauge");
        for t in tenants {
            let _ = writeln!(out, "{name}{{tenant=\"{}\"}} {}", label(&t.tenant), pick(t));
        }
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

    #[test]
    fn the_tenant_gauges_are_labelled_and_escaped() {
        let queue = MechanismGauges {
            id: "q\"1".to_owned(),
            kind: "queue",
            pool: 12_345,
            owed: 20_000,
            obligations: 2,
            paid: 500,
            figures: vec![("queued", 20_000)],
        };
        let tenants = [TenantGauges {
            tenant: "acme".to_owned(),
            mechanisms: vec![queue],
            withdrawals: (1, 3_000),
            webhook: (2, 5),
        }];
        let mut text = String::new();
        render_tenants(&mut text, &tenants);
        let labels = "tenant=\"acme\",mechanism=\"q\\\"1\",kind=\"queue\"";
        assert!(text.contains(&format!("fanli_pool_fen{{{labels}}} 12345\n")), "{text}");
        assert!(text.contains(&format!("fanli_obligations_fen{{{labels}}} 20000\n")), "{text}");
        assert!(text.contains(&format!("fanli_obligations{{{labels}}} 2\n")), "{text}");
        assert!(text.contains(&format!("fanli_paid_fen{{{labels}}} 500\n")), "{text}");
        assert!(text.contains(&format!("fanli_mechanism_money_fen{{{labels},figure=\"queued\"}} 20000\n")));
        assert!(text.contains("fanli_withdrawals_waiting{tenant=\"acme\"} 1\n"));
        assert!(text.contains("fanli_withdrawals_waiting_fen{tenant=\"acme\"} 3000\n"));
        assert!(text.contains("fanli_webhook_pending{tenant=\"acme\"} 2\n"));
        assert!(text.contains("fanli_webhook_dead_letters{tenant=\"acme\"} 5\n"));
        assert_eq!(text.matches("# TYPE fanli_pool_fen gauge\n").count(), 1);
    }
}
