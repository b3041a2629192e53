//! A clean stop (issue 17): on SIGTERM or Ctrl-C the server stops accepting connections,
//! answers the requests in flight (each write is answered only once committed), lets the
//! scheduler finish the day close it is making, waits for the writer to commit anything it
//! still holds and for the snapshot thread to store the snapshots handed to it, stops the
//! webhook deliverer between two deliveries (each delivery's position is saved as it is made),
//! and, last, after the final commit, a node of a cluster lets its leases go: they expire at
//! once, so the other nodes take its tenants over at their next tick (within a second and a
//! rebuild) instead of after the lease term. Each step is logged; then that it stopped.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use super::*;

/// How long the requests in flight have to be answered once a stop is asked for.
pub(crate) const GRACE: Duration = Duration::from_secs(10);

/// Resolves at SIGTERM or Ctrl-C (SIGINT), having logged which.
pub async fn signalled() {
    #[cfg(unix)]
    let terminate = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut signal) => {
                signal.recv().await;
            }
            Err(error) => {
                tracing::warn!(%error, "SIGTERM cannot be caught: only Ctrl-C stops the server cleanly");
                std::future::pending::<()>().await;
            }
        }
    };
    #[cfg(not(unix))]
    let terminate = std::future::pending::<()>();
    let name = tokio::select! {
        _ = tokio::signal::ctrl_c() => "SIGINT",
        () = terminate => "SIGTERM",
    };
    tracing::info!(signal = name, "stopping: no new connections; answering the requests in flight");
}

/// The webhook deliverer's thread, which stops when asked.
pub(crate) struct Deliveries {
    stop: Arc<AtomicBool>,
    done: std::sync::mpsc::Receiver<()>,
}

impl Deliveries {
    /// Starts the deliverer on a thread of its own, with a connection of its own.
    pub(crate) fn start(app: &App) -> std::io::Result<Deliveries> {
        let (dir, database, retry) = (app.dir.clone(), app.database.clone(), app.retry);
        let node = app.cluster.as_ref().map(|c| c.node.clone());
        let stop = Arc::new(AtomicBool::new(false));
        let (finished, done) = std::sync::mpsc::channel();
        let stopping = Arc::clone(&stop);
        std::thread::Builder::new().name("fanli-webhooks".to_owned()).spawn(move || {
            match webhook::Deliverer::open(&dir, database.as_deref(), node, retry) {
                Ok(mut deliverer) => deliverer.run_until(Duration::from_millis(250), &stopping),
                Err(error) => {
                    tracing::error!(%error, "no webhook deliveries: the store cannot be opened a second time")
                }
            }
            let _ = finished.send(());
        })?;
        Ok(Deliveries { stop, done })
    }

    /// Asks the deliverer to stop and waits for it (at most [`GRACE`]: a receiver that does not
    /// answer is not waited for, its notification is delivered after the next start).
    pub(crate) fn stop(self) {
        self.stop.store(true, Ordering::Relaxed);
        if self.done.recv_timeout(GRACE).is_err() {
            tracing::warn!("the webhook deliverer is still delivering: stopping without it");
        }
    }
}

/// Waits until the writer has committed and answered every job handed to it before this call
/// (a job for no tenant, which it answers in turn, after the commit of the jobs before it).
pub(crate) async fn drain_writer(server: &Shared) {
    let (reply, answer) = tokio::sync::oneshot::channel();
    let barrier = Job { tenant: String::new(), by: None, lines: Vec::new(), day: None, reply };
    if server.jobs.send(barrier).is_ok() {
        let _ = tokio::time::timeout(GRACE, answer).await;
    }
}

/// Waits for `thread` (told to stop) to finish what it is doing, at most [`GRACE`], and logs
/// that it stopped.
pub(crate) fn join(name: &str, thread: std::thread::JoinHandle<()>) {
    if wait(thread) {
        tracing::info!(thread = name, "stopped");
    } else {
        tracing::warn!(thread = name, "still busy after 10 s: stopping without it");
    }
}

/// Waits for a thread to end, at most [`GRACE`]: whether it ended.
fn wait(thread: std::thread::JoinHandle<()>) -> bool {
    let deadline = std::time::Instant::now() + GRACE;
    while !thread.is_finished() {
        if std::time::Instant::now() > deadline {
            return false;
        }
        std::thread::sleep(Duration::from_millis(10));
    }
    let _ = thread.join();
    true
}

/// Closes the snapshot thread's queue (the writer, drained, hands it nothing more) and waits
/// for it to store the snapshots it holds, at most [`GRACE`].
pub(crate) fn stop_snapshots(server: &Server) {
    lock(server).snapshots = None;
    let thread = server.threads.lock().unwrap_or_else(|p| p.into_inner()).snapshots.take();
    if let Some(thread) = thread {
        join("snapshots", thread);
    }
}

/// In a cluster, the last step: stops the leases' thread (which renewed the leases through the
/// final commit; now it renews and takes nothing more)
/// and lets every lease of this node go, and its `nodes` row with them: the other nodes take
/// its tenants at their next tick, under fair shares counted without it.
pub(crate) fn release_leases(server: &Server) {
    let thread = server.threads.lock().unwrap_or_else(|p| p.into_inner()).leases.take();
    let Some(thread) = thread else { return };
    server.releasing.store(true, Ordering::Relaxed);
    join("leases", thread);
    let mut app = lock(server);
    let served = app.tenants.len();
    app.tenants.clear();
    let Some(node) = app.cluster.as_mut() else { return };
    match node.release_all() {
        Ok(released) => tracing::info!(released, served, "the leases were let go for the other nodes"),
        Err(error) => {
            tracing::warn!(%error, "the leases could not be let go: the other nodes take them when they expire")
        }
    }
}
