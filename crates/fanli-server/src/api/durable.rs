//! Answers held until what they saw is stored (issue 17). The writer applies a group to the
//! engines under the state's lock and stores it with the lock released, so a request that takes
//! the lock meanwhile can see events not stored yet. [`crate::lock`] notes, for the request, the
//! group in flight when it locked ([`saw`]); this middleware then holds the request's answer
//! until that group is settled ([`Server::settled`](crate::Server)). If the group's store failed
//! (the writer rebuilt its tenants from the store), a read that may have seen it is refused with
//! `503 unavailable` and `Retry-After` instead of answered from a state that was never stored; a
//! request whose events the writer took answers as the writer said (its own events are stored,
//! whatever became of a later group). See docs/decisions.md, "What a read can see while a group
//! is being stored".

use std::cell::Cell;

use axum::extract::{Request, State};
use axum::http::StatusCode;
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};

use crate::{ApiError, Shared};

/// What a request saw of the groups not stored yet.
#[derive(Clone, Copy, Default)]
struct Seen {
    /// The first and the last group in flight when it took the state's lock (0: none).
    first: u64,
    last: u64,
    /// Whether it handed events to the writer (`submit_lines`).
    wrote: bool,
}

tokio::task_local! {
    static SEEN: Cell<Seen>;
}

/// Notes, for the request running (if any), that it holds the state's lock while group
/// `applied` is applied and groups up to `settled` are settled.
pub(crate) fn saw(applied: u64, settled: u64) {
    if applied > settled {
        let _ = SEEN.try_with(|seen| {
            let mut s = seen.get();
            if s.first == 0 {
                s.first = applied;
            }
            s.last = s.last.max(applied);
            seen.set(s);
        });
    }
}

/// Notes that the request running handed events to the writer, which answers them only once
/// they are stored.
pub(crate) fn wrote() {
    let _ = SEEN.try_with(|seen| {
        let mut s = seen.get();
        s.wrote = true;
        seen.set(s);
    });
}

/// What a node says of itself, answered at once even while a group's store waits (a database
/// lock, a stalled disk): its health, and its metrics, whose gauges may then count a group not
/// stored yet. A monitor must reach a node whose store is slow; these are not the log.
const UNHELD: [&str; 2] = ["/healthz", "/metrics"];

/// The middleware: runs the request, then holds its answer until every group it may have seen
/// is settled.
pub(crate) async fn durable(State(server): State<Shared>, request: Request, next: Next) -> Response {
    if UNHELD.contains(&request.uri().path()) {
        return next.run(request).await;
    }
    let (response, seen) = SEEN
        .scope(Cell::new(Seen::default()), async move {
            let response = next.run(request).await;
            (response, SEEN.with(Cell::get))
        })
        .await;
    if seen.last == 0 {
        return response;
    }
    let mut settled = server.settled.subscribe();
    if settled.wait_for(|&settled| settled >= seen.last).await.is_err() {
        return crate::internal("the writer has stopped").into_response();
    }
    if !seen.wrote && server.failed_between(seen.first, seen.last) {
        let message = "the events this read saw could not be stored: try again".to_owned();
        return ApiError(StatusCode::SERVICE_UNAVAILABLE, "unavailable", message).into_response();
    }
    response
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use axum::body::Body;
    use axum::routing::get;
    use tower::ServiceExt;

    use super::*;

    /// A router whose one route locks the state (and, at `/write`, says it handed events to
    /// the writer first), behind the middleware.
    fn router(server: &Shared) -> axum::Router {
        let read = |State(server): State<Shared>| async move {
            drop(crate::lock(&server));
            "read"
        };
        let write = |State(server): State<Shared>| async move {
            wrote();
            drop(crate::lock(&server));
            "wrote"
        };
        axum::Router::new()
            .route("/read", get(read))
            .route("/write", get(write))
            .layer(axum::middleware::from_fn_with_state(server.clone(), durable))
            .with_state(server.clone())
    }

    /// Sends `path`; its answer's status, once it comes.
    fn send(server: &Shared, path: &str) -> tokio::task::JoinHandle<StatusCode> {
        let request = Request::get(path).body(Body::empty()).unwrap();
        let router = router(server);
        tokio::spawn(async move { router.oneshot(request).await.unwrap().status() })
    }

    /// Whether `answer` is still held after a while.
    async fn held(answer: &tokio::task::JoinHandle<StatusCode>) -> bool {
        tokio::time::sleep(Duration::from_millis(100)).await;
        !answer.is_finished()
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn an_answer_waits_for_the_group_it_saw_and_a_read_of_a_failed_group_is_refused() {
        let dir = std::env::temp_dir().join(format!("fanli-durable-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).unwrap();
        let server = crate::Server::start(crate::App::open(&dir, "master-key-for-the-test").unwrap());

        // Nothing in flight: answered at once.
        assert_eq!(send(&server, "/read").await.unwrap(), StatusCode::OK);

        // Group 1 applied, not stored: the read waits for it, then is answered.
        server.app.lock().unwrap().applied = 1;
        let answer = send(&server, "/read");
        assert!(held(&answer).await, "answered before the group it saw was stored");
        server.settle(1, false);
        assert_eq!(answer.await.unwrap(), StatusCode::OK);

        // Group 2 applied, its store failed: the read that saw it is refused, with a retry.
        server.app.lock().unwrap().applied = 2;
        let answer = send(&server, "/read");
        assert!(held(&answer).await);
        server.settle(2, true);
        assert_eq!(answer.await.unwrap(), StatusCode::SERVICE_UNAVAILABLE);

        // A request whose events the writer took answers as the writer said, after waiting.
        server.app.lock().unwrap().applied = 3;
        let answer = send(&server, "/write");
        assert!(held(&answer).await);
        server.settle(3, true);
        assert_eq!(answer.await.unwrap(), StatusCode::OK);

        // A read after the failed group settled sees the rebuilt state: answered.
        assert_eq!(send(&server, "/read").await.unwrap(), StatusCode::OK);
        assert!(server.failed_between(2, 3) && !server.failed_between(1, 1) && !server.failed_between(4, 9));
        let _ = std::fs::remove_dir_all(&dir);
    }
}
