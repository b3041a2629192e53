//! Bounded work (issue 17): a limit on the requests in flight, writes and heavy reads
//! separately. Past it a request is answered `503 overloaded` with `Retry-After: 1` at once,
//! never queued: under an overload the requests let in keep their latency, and the memory the
//! server holds for requests stays bounded (with the audit page's byte limit, [`audit_page`]).
//!
//! Writes are the requests that go through the writer (every `POST`, `PUT` and `DELETE` of the
//! API, and the pages' forms); heavy reads are those whose cost grows with the log or the
//! members: `GET /v1/audit`, `/v1/state`, `/v1/reports`, `POST /v1/plan/check`, the console's
//! audit page and simulation. The rest (`/healthz`, `/metrics`, one member, the pages) is cheap
//! and never refused, so that a server shedding load still says how it is. A page refused (a
//! console form, its audit page or simulation) gets a small HTML page saying so, Chinese first,
//! with the same status and `Retry-After`; the API gets JSON.

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

use axum::extract::State;
use axum::http::{Method, StatusCode, header};
use axum::response::{IntoResponse, Response};
use tokio::sync::Semaphore;

use crate::store::{Store, StoreError};
use crate::{ApiError, Shared};

/// Writes in flight by default: enough for the writer's group commits to stay full (a commit
/// takes what arrived while the one before was stored), few enough that a write let in is
/// answered within a few commits. Measured under an open-loop overload of 1,024 connections on
/// one core (BENCHMARKS.md, issue 17): 64 kept the answered orders' p99 at 15–19 ms and
/// answered as many as 256, whose p99 was 74–224 ms (the extra writes only wait longer).
pub const DEFAULT_MAX_WRITES: usize = 64;
/// The most heavy reads in flight by default ([`default_max_reads`]).
pub const MOST_DEFAULT_READS: usize = 8;

/// Heavy reads in flight by default: one for each core the server may run on, at most
/// [`MOST_DEFAULT_READS`]. A heavy read is CPU work from start to end; more of them than cores
/// serve no more pages, they take the cores from the request path (on one core with 32 audit
/// readers: one heavy read at a time kept the answered orders' p99 at 41 ms and read as many
/// pages as two, whose p99 was 101 ms; eight: 145 ms).
pub fn default_max_reads() -> usize {
    std::thread::available_parallelism().map_or(1, |n| n.get()).min(MOST_DEFAULT_READS)
}
/// The most bytes of log lines one `GET /v1/audit` page holds (a page ends before the line
/// that would pass it; a line longer than that alone makes a page of its own).
pub const AUDIT_PAGE_BYTES: usize = 4 << 20;

/// How many requests of each kind may be in flight.
#[derive(Clone, Copy, Debug)]
pub struct Limits {
    /// Writes.
    pub writes: usize,
    /// Heavy reads.
    pub reads: usize,
}

impl Default for Limits {
    fn default() -> Limits {
        Limits { writes: DEFAULT_MAX_WRITES, reads: default_max_reads() }
    }
}

/// The permits of a running server, and the count of requests refused.
pub(crate) struct Gate {
    writes: Arc<Semaphore>,
    reads: Arc<Semaphore>,
    /// Requests refused for want of a permit: writes, heavy reads.
    pub(crate) shed: [AtomicU64; 2],
}

impl Gate {
    pub(crate) fn new(limits: Limits) -> Gate {
        Gate {
            writes: Arc::new(Semaphore::new(limits.writes.max(1))),
            reads: Arc::new(Semaphore::new(limits.reads.max(1))),
            shed: Default::default(),
        }
    }

    /// The count of requests refused, by kind, for `GET /metrics`.
    pub(crate) fn render(&self, out: &mut String) {
        use std::fmt::Write;
        let name = "fanli_http_shed_total";
        let _ = writeln!(out, "# HELP {name} Requests refused with 503 overloaded, by kind.");
        let _ = writeln!(out, "# TYPE {name} counter");
        for (kind, count) in ["write", "read"].iter().zip(&self.shed) {
            let _ = writeln!(out, "{name}{{kind=\"{kind}\"}} {}", count.load(Ordering::Relaxed));
        }
    }
}

/// What a request costs, by its method and path.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub(crate) enum Kind {
    Write,
    HeavyRead,
    Light,
}

pub(crate) fn kind(method: &Method, path: &str) -> Kind {
    match (method.as_str(), path) {
        (_, "/healthz" | "/metrics" | "/openapi.json") => Kind::Light,
        ("POST", "/v1/plan/check" | "/console/plan/simulate") => Kind::HeavyRead,
        ("GET", "/v1/audit" | "/v1/state" | "/v1/reports" | "/console/audit") => Kind::HeavyRead,
        ("POST" | "PUT" | "DELETE" | "PATCH", _) => Kind::Write,
        _ => Kind::Light,
    }
}

/// The middleware: a write or heavy read takes a permit for as long as it is answered, or is
/// refused at once when none is left.
pub(crate) async fn shed(
    State(server): State<Shared>,
    request: axum::extract::Request,
    next: axum::middleware::Next,
) -> Response {
    let gate = &server.gate;
    let (semaphore, slot) = match kind(request.method(), request.uri().path()) {
        Kind::Light => return next.run(request).await,
        Kind::Write => (&gate.writes, 0),
        Kind::HeavyRead => (&gate.reads, 1),
    };
    let Ok(_permit) = Arc::clone(semaphore).try_acquire_owned() else {
        gate.shed[slot].fetch_add(1, Ordering::Relaxed);
        if crate::web::is_page(request.uri().path()) {
            return crate::web::overloaded_page();
        }
        return overloaded();
    };
    next.run(request).await
}

/// `503 overloaded`, `Retry-After: 1`.
pub(crate) fn overloaded() -> Response {
    let message = "the server has as many requests in flight as it takes: retry in a second".to_owned();
    let mut response = ApiError(StatusCode::SERVICE_UNAVAILABLE, "overloaded", message).into_response();
    response.headers_mut().insert(header::RETRY_AFTER, header::HeaderValue::from_static("1"));
    response
}

/// A page of the tenant's log after line `from`: at most `limit` lines and [`AUDIT_PAGE_BYTES`]
/// bytes (at least one line), read as it goes (never the whole log in memory). Returns the
/// body (JSON Lines), how many lines it holds, and whether more lines follow.
pub(crate) fn audit_page(
    store: &mut Store,
    tenant: &str,
    from: u64,
    limit: u32,
) -> Result<(String, u32, bool), StoreError> {
    /// Why the reading stopped: the page is full, or the store failed.
    enum Stop {
        Full,
        Failed(StoreError),
    }
    impl From<StoreError> for Stop {
        fn from(error: StoreError) -> Stop {
            Stop::Failed(error)
        }
    }
    let (mut body, mut count) = (String::new(), 0u32);
    let read = store.for_each_event(tenant, from, |line| {
        if count >= limit || (count > 0 && body.len() + line.len() + 1 > AUDIT_PAGE_BYTES) {
            return Err(Stop::Full);
        }
        body.push_str(line);
        body.push('\n');
        count += 1;
        Ok(())
    });
    match read {
        Ok(()) => Ok((body, count, false)),
        Err(Stop::Full) => Ok((body, count, true)),
        Err(Stop::Failed(error)) => Err(error),
    }
}

/// A page of the tenant's daily pool reports after line `from`: at most `limit` reports and
/// [`AUDIT_PAGE_BYTES`] bytes (at least one report), read a hundred at a time (never every
/// report in memory). Returns the body (JSON Lines) and, when more reports follow, the line of
/// the last one in the page (the next page's `from`).
pub(crate) fn reports_page(
    store: &mut Store,
    tenant: &str,
    from: u64,
    limit: u32,
) -> Result<(String, Option<u64>), StoreError> {
    let (mut body, mut count, mut last) = (String::new(), 0u32, from);
    loop {
        let batch = store.reports_after(tenant, last, 100.min(limit - count))?;
        if batch.is_empty() {
            return Ok((body, None));
        }
        for (line, report) in batch {
            if count >= limit || (count > 0 && body.len() + report.len() + 1 > AUDIT_PAGE_BYTES) {
                return Ok((body, Some(last)));
            }
            body.push_str(&report);
            body.push('\n');
            count += 1;
            last = line;
        }
        if count >= limit {
            // Full: more follow if one is left after it.
            let more = !store.reports_after(tenant, last, 1)?.is_empty();
            return Ok((body, more.then_some(last)));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn requests_are_sorted_by_what_they_cost() {
        assert_eq!(kind(&Method::POST, "/v1/orders"), Kind::Write);
        assert_eq!(kind(&Method::PUT, "/v1/plan"), Kind::Write);
        assert_eq!(kind(&Method::DELETE, "/v1/keys/k1"), Kind::Write);
        assert_eq!(kind(&Method::POST, "/v1/plan/check"), Kind::HeavyRead);
        assert_eq!(kind(&Method::GET, "/v1/audit"), Kind::HeavyRead);
        assert_eq!(kind(&Method::GET, "/v1/state"), Kind::HeavyRead);
        assert_eq!(kind(&Method::GET, "/v1/members/A"), Kind::Light);
        assert_eq!(kind(&Method::GET, "/metrics"), Kind::Light);
        assert_eq!(kind(&Method::POST, "/healthz"), Kind::Light);
    }
}
