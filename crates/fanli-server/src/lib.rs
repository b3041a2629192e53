//! fanli's server: the engine behind an HTTP JSON API, durable in SQLite.
//!
//! The master key creates tenants; a tenant's owner key sets its plan (refused with `fanli
//! check`'s findings when past a red line), posts events as JSON Lines (the same events as `fanli
//! run`, answered per line, only after the accepted ones are committed), makes keys with roles
//! and member tokens ([`auth`]), and reads its state (what `fanli run --json` prints for the same
//! plan and accepted events). The log is the audit chain's canonical lines, so `fanli audit
//! verify` checks it; on start every tenant is rebuilt by replaying its log.
//!
//! Writes go through one writer thread that commits every request waiting in one transaction
//! (group commit) before answering; reads take the state's lock. A scheduler thread closes each
//! tenant's business days. Snapshots, webhooks, metrics and PostgreSQL are the rest of issue 7.

pub mod auth;
pub mod cluster;
pub mod metrics;
pub mod store;
pub mod web;
pub mod webhook;

use std::collections::HashMap;
use std::net::SocketAddr;
use std::path::Path;
use std::sync::atomic::Ordering;
use std::sync::{Arc, Mutex};

use axum::Router;
use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post, put};
use fanli_engine::Engine;
use fanli_engine::Timestamp;
use fanli_format::chain::{Chain, sha256_hex};
use fanli_format::{EventLine, parse_plan, state_json};
use serde_json::{Value, json};

use crate::auth::{Caller, Role};
use crate::store::Store;

/// The server's state: the store and every tenant's engine.
pub struct App {
    store: Store,
    /// The SHA-256 of the master key.
    master: String,
    tenants: HashMap<String, Tenant>,
    /// Key hash → the tenant and role it stands for.
    keys: HashMap<String, Caller>,
    /// The data directory (the webhook deliverer opens its own connection there).
    dir: std::path::PathBuf,
    /// The PostgreSQL URL, if the store is there (the other threads open their own connection).
    database: Option<String>,
    /// The webhook deliverer's first retry delay.
    retry: std::time::Duration,
    /// This node in a cluster of nodes on one PostgreSQL, if it joined one: then it serves only
    /// the tenants whose lease it holds.
    cluster: Option<cluster::Cluster>,
    /// The console's sessions, by their cookie's value.
    sessions: HashMap<String, web::console::Session>,
    /// A tenant's engine is snapshotted every this many events.
    snapshot_every: u64,
    /// The snapshot thread's queue, once the server runs.
    snapshots: Option<std::sync::mpsc::Sender<SnapshotJob>>,
}

struct Tenant {
    engine: Option<Engine>,
    plan: Option<String>,
    chain: Chain,
    /// What the scheduler knows of the tenant's business days.
    days: Days,
    /// The log's line at the latest snapshot taken (or handed to the snapshot thread).
    snapshot_line: u64,
    /// In a cluster: the epoch of this node's lease on the tenant (the fence on its appends).
    epoch: Option<i64>,
    /// The webhook's URL, if the tenant has one.
    webhook: Option<String>,
    /// The tenant's brands, and the brand of each store put in one.
    brands: std::collections::HashSet<String>,
    store_brand: HashMap<String, String>,
}

impl Tenant {
    /// Turns the engine's recording of postings and effects on: each member's history (the
    /// console and the member page) and the webhook's notifications are made of them. (The
    /// engine starts recording anyway; a replay turns it off for speed.)
    fn record(&mut self) {
        if let Some(engine) = self.engine.as_mut() {
            engine.record(true);
        }
    }

    fn new() -> Tenant {
        Tenant {
            engine: None,
            plan: None,
            chain: Chain::default(),
            days: Days::default(),
            snapshot_line: 0,
            epoch: None,
            webhook: None,
            brands: Default::default(),
            store_brand: HashMap::new(),
        }
    }
}

/// A tenant's business days, as the scheduler sees them: days are local days of the plan's
/// timezone, numbered from 1970-01-01.
#[derive(Default)]
struct Days {
    /// The last day a `close_day` has closed. A `close_day` at `t` closes the day before `t`'s
    /// last nanosecond (so one at midnight closes the day that just ended); one the scheduler
    /// sends closes the day it was sent for, even when later events pushed its time past midnight.
    closed_through: Option<i64>,
    /// How far behind the wall clock the tenant's latest event (not the scheduler's) was stamped
    /// when it arrived, in nanoseconds; unknown after a start.
    lag: Option<i64>,
}

impl Days {
    /// Takes note of when an event the tenant sent arrived (`arrived`, the wall clock).
    fn arrived(&mut self, event: &fanli_engine::Event<'_>, arrived: i64) {
        self.lag = Some(arrived - event.at.unix_nanos());
    }

    /// Takes note of an applied event; `day` is the day a scheduler `close_day` was sent for.
    fn note(&mut self, event: &fanli_engine::Event<'_>, offset: fanli_engine::UtcOffset, day: Option<i64>) {
        if let fanli_engine::EventKind::CloseDay = event.kind {
            let closed = day
                .unwrap_or_else(|| Timestamp::from_unix_nanos(event.at.unix_nanos() - 1).local_day(offset));
            self.closed_through = Some(self.closed_through.map_or(closed, |c| c.max(closed)));
        }
    }

    /// The day the scheduler closes next, if one has ended by `now` and the tenant is live: the
    /// events it sends are stamped about when they arrive (at most [`LIVE_LAG_NANOS`] behind), or,
    /// after a start, before anything arrived, its last event is at most [`LIVE_NANOS`] old. A
    /// tenant sending history (a backfill, a migration, a test: events stamped well before they
    /// arrive) closes its own days; the scheduler leaves it alone. The next day is the one after the
    /// last closed, but never before the day of the last event (`last`): a day that ended before
    /// it can no longer be closed at its own end, since time does not go back.
    fn due(
        &self,
        now: Timestamp,
        last: Timestamp,
        offset: fanli_engine::UtcOffset,
    ) -> Option<(i64, Timestamp)> {
        let pending = self.closed_through.map_or(i64::MIN, |d| d + 1).max(last.local_day(offset));
        let live = match self.lag {
            Some(lag) => lag <= LIVE_LAG_NANOS,
            None => now.unix_nanos() - last.unix_nanos() <= LIVE_NANOS,
        };
        let end = (pending + 1) * DAY_NANOS - i64::from(offset.seconds()) * 1_000_000_000;
        (live && end <= now.unix_nanos())
            .then(|| (pending, Timestamp::from_unix_nanos(end.max(last.unix_nanos()))))
    }
}

const DAY_NANOS: i64 = 86_400 * 1_000_000_000;

/// How far behind the wall clock a live tenant's events may be stamped: ten minutes.
const LIVE_LAG_NANOS: i64 = 600 * 1_000_000_000;

/// After a start, how recent a tenant's last event must be for the scheduler to close its days:
/// a week, so that a server down for a few days catches up, day by day, when it comes back.
const LIVE_NANOS: i64 = 7 * DAY_NANOS;

/// The server: its state, and the queue of the writer that applies and commits events.
pub struct Server {
    app: Mutex<App>,
    jobs: std::sync::mpsc::Sender<Job>,
    metrics: metrics::Metrics,
}

/// A shared handle on the server.
pub type Shared = Arc<Server>;

impl Server {
    /// The server for `app`, with its writer thread started.
    pub fn start(mut app: App) -> Shared {
        // The snapshot thread's own connection is opened on the thread: PostgreSQL's client
        // may not be created inside the server's runtime.
        let (sender, jobs) = std::sync::mpsc::channel();
        app.snapshots = Some(sender);
        let (dir, database) = (app.dir.clone(), app.database.clone());
        std::thread::Builder::new()
            .name("fanli-snapshots".to_owned())
            .spawn(move || match Store::open(&dir, database.as_deref()) {
                Ok(mut store) => snapshot_loop(&mut store, &jobs),
                Err(error) => {
                    tracing::error!(%error, "no snapshots: the store cannot be opened a second time")
                }
            })
            .expect("a thread starts");
        let (jobs, queue) = std::sync::mpsc::channel();
        let server = Arc::new(Server { app: Mutex::new(app), jobs, metrics: metrics::Metrics::default() });
        let writer = Arc::clone(&server);
        std::thread::Builder::new()
            .name("fanli-writer".to_owned())
            .spawn(move || write_loop(&writer, &queue))
            .expect("a thread starts");
        server
    }
}

/// Events for one tenant, waiting for the writer.
struct Job {
    tenant: String,
    lines: Vec<Line>,
    /// For the scheduler's `close_day`: the day it closes.
    day: Option<i64>,
    reply: tokio::sync::oneshot::Sender<Result<Vec<Value>, ApiError>>,
}

/// A line of a job: as sent, or fields to stamp with the time they are applied at.
enum Line {
    Raw(Vec<u8>),
    Stamp(serde_json::Map<String, Value>),
}

/// Group commit: the writer takes every job waiting, applies them in order, commits all their
/// accepted events in one transaction, and only then answers each.
fn write_loop(server: &Server, queue: &std::sync::mpsc::Receiver<Job>) {
    while let Ok(first) = queue.recv() {
        let mut batch = vec![first];
        while batch.len() < 4096 {
            match queue.try_recv() {
                Ok(job) => batch.push(job),
                Err(_) => break,
            }
        }
        let started = std::time::Instant::now();
        let replies = {
            let mut app = server.app.lock().unwrap_or_else(|poisoned| poisoned.into_inner());
            app.apply_batch(&batch)
        };
        server.metrics.commit_seconds.observe(started.elapsed());
        let (mut applied, mut rejected) = (0, 0);
        for reply in &replies {
            match reply {
                Ok(results) => {
                    let ok = results.iter().filter(|r| r["ok"] == true).count() as u64;
                    applied += ok;
                    rejected += results.len() as u64 - ok;
                }
                Err(_) => {
                    server.metrics.commit_failures.fetch_add(1, Ordering::Relaxed);
                }
            }
        }
        server.metrics.events_applied.fetch_add(applied, Ordering::Relaxed);
        server.metrics.events_rejected.fetch_add(rejected, Ordering::Relaxed);
        tracing::debug!(requests = batch.len(), applied, rejected, elapsed = ?started.elapsed(), "group commit");
        for (job, reply) in batch.into_iter().zip(replies) {
            // A client that went away does not stop the others.
            let _ = job.reply.send(reply);
        }
    }
}

impl Server {
    /// The scheduler's tick: for every live tenant (see [`Days::due`]) whose next business day
    /// has ended by `now` in the plan's timezone, a `close_day` at the day's end (or at the
    /// tenant's last event, if later), one day at a time until none is due. Returns the
    /// tenants closed, once per day closed, sorted.
    pub fn close_due_days(&self, now: Timestamp) -> Vec<String> {
        let mut closed = Vec::new();
        loop {
            let due: Vec<(String, i64, Timestamp)> = {
                let app = self.app.lock().unwrap_or_else(|poisoned| poisoned.into_inner());
                app.tenants
                    .iter()
                    .filter_map(|(id, t)| {
                        let engine = t.engine.as_ref()?;
                        let (day, at) = t.days.due(now, engine.now()?, engine.plan().timezone)?;
                        Some((id.clone(), day, at))
                    })
                    .collect()
            };
            if due.is_empty() {
                break;
            }
            let before = closed.len();
            for (id, day, at) in due {
                let line = format!("{{\"at\":\"{at}\",\"type\":\"close_day\"}}").into_bytes();
                let (reply, answer) = tokio::sync::oneshot::channel();
                let job = Job { tenant: id.clone(), lines: vec![Line::Raw(line)], day: Some(day), reply };
                if self.jobs.send(job).is_ok()
                    && matches!(answer.blocking_recv(), Ok(Ok(results)) if results[0]["ok"] == true)
                {
                    self.metrics.day_closes.fetch_add(1, Ordering::Relaxed);
                    tracing::info!(tenant = %id, at = %at, "day closed");
                    closed.push(id);
                } else {
                    tracing::warn!(tenant = %id, at = %at, "the scheduler could not close the day");
                }
            }
            if closed.len() == before {
                // Nothing could be closed (the writer stopped, or the store failed): next tick.
                break;
            }
        }
        closed.sort();
        closed
    }
}

impl Server {
    /// In a cluster: takes over the tenants no node serves (see [`cluster`]); the tenants taken.
    pub fn claim(&self) -> Vec<String> {
        let mut app = self.app.lock().unwrap_or_else(|poisoned| poisoned.into_inner());
        app.claim()
    }
}

/// The scheduler: every second, the day closes that are due (a second keeps the window in which
/// an event can land between midnight and its `close_day` short) and, in a cluster, the
/// tenants to take over.
fn schedule(server: &Server) {
    loop {
        let now = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| d.as_nanos() as i64);
        server.close_due_days(Timestamp::from_unix_nanos(now));
        server.claim();
        std::thread::sleep(std::time::Duration::from_secs(1));
    }
}

/// Hands `lines` to the writer and waits until they are applied and durable.
async fn submit(server: &Shared, tenant: String, lines: Vec<Line>) -> Result<Vec<Value>, ApiError> {
    let (reply, answer) = tokio::sync::oneshot::channel();
    server
        .jobs
        .send(Job { tenant, lines, day: None, reply })
        .map_err(|_| internal("the writer has stopped"))?;
    answer.await.map_err(|_| internal("the writer dropped the request"))?
}

/// An API error: status, a stable code and a message, sent as `{"error": {"code", "message"}}`.
#[derive(Debug)]
pub struct ApiError(StatusCode, &'static str, String);

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        (self.0, axum::Json(json!({"error": {"code": self.1, "message": self.2}}))).into_response()
    }
}

/// `503`: the tenant is between nodes; retry in a second.
fn unavailable(tenant: &str) -> ApiError {
    let message = format!("tenant `{tenant}` is being taken over by another node: retry in a second");
    ApiError(StatusCode::SERVICE_UNAVAILABLE, "unavailable", message)
}

fn internal(e: impl std::fmt::Display) -> ApiError {
    ApiError(StatusCode::INTERNAL_SERVER_ERROR, "internal", e.to_string())
}

impl App {
    /// Opens the SQLite store in `dir` and rebuilds every tenant (see [`App::open_with`]).
    pub fn open(dir: &Path, master_key: &str) -> Result<App, String> {
        App::open_with(dir, None, master_key)
    }

    /// Opens the store (SQLite in `dir`, or PostgreSQL at the `database` URL, with snapshot
    /// files in `dir`) and rebuilds every tenant from its latest snapshot and its log.
    /// `master_key` is the key that may create tenants: given the first time, its hash is kept;
    /// later it must match.
    pub fn open_with(dir: &Path, database: Option<&str>, master_key: &str) -> Result<App, String> {
        App::open_inner(dir, database, master_key, None)
    }

    /// Opens the PostgreSQL store at `database` as a node of a cluster serving at `address`
    /// (`http://host:port`, where the other nodes redirect this node's tenants' requests): it
    /// rebuilds only the tenants no other node serves, and takes their leases (see
    /// [`cluster`]).
    pub fn open_node(dir: &Path, database: &str, master_key: &str, address: &str) -> Result<App, String> {
        let node =
            cluster::Cluster::join(database, address).map_err(|e| format!("cannot join the cluster: {e}"))?;
        App::open_inner(dir, Some(database), master_key, Some(node))
    }

    fn open_inner(
        dir: &Path,
        database: Option<&str>,
        master_key: &str,
        cluster: Option<cluster::Cluster>,
    ) -> Result<App, String> {
        let started = std::time::Instant::now();
        std::fs::create_dir_all(dir).map_err(|e| format!("cannot create {}: {e}", dir.display()))?;
        let mut store = Store::open(dir, database).map_err(|e| match database {
            None => format!("cannot open the store in {}: {e}", dir.display()),
            Some(_) => format!("cannot open the PostgreSQL store: {e}"),
        })?;
        let master = sha256_hex(master_key.as_bytes());
        match store.setting("master_key_hash").map_err(|e| e.to_string())? {
            Some(kept) if !same(&kept, &master) => {
                return Err("this data directory was created with another master key".to_owned());
            }
            Some(_) => {}
            None => store.set_setting("master_key_hash", &master).map_err(|e| e.to_string())?,
        }
        let mut app = App {
            store,
            master,
            tenants: HashMap::new(),
            keys: HashMap::new(),
            dir: dir.to_owned(),
            database: database.map(str::to_owned),
            retry: std::time::Duration::from_secs(1),
            snapshot_every: 500_000,
            snapshots: None,
            sessions: HashMap::new(),
            cluster,
        };
        for stored in app.store.load().map_err(|e| e.to_string())? {
            let mut tenant = Tenant::new();
            if app.cluster.is_some() {
                match app.lease(&stored.id).map_err(|e| format!("tenant {}: {e}", stored.id))? {
                    Some(epoch) => tenant.epoch = Some(epoch),
                    None => continue, // Another node's.
                }
            }
            if let Some(text) = &stored.plan {
                let (engine, chain, days, snapshot) = load_tenant(&mut app.store, &stored.id, text)
                    .map_err(|e| format!("tenant {}: {e}", stored.id))?;
                tenant.engine = Some(engine);
                tenant.chain = chain;
                tenant.days = days;
                tenant.snapshot_line = snapshot;
                tenant.plan = Some(text.clone());
                tenant.record();
            }
            app.keys.insert(stored.key_hash, Caller { tenant: stored.id.clone(), role: Role::Owner });
            app.tenants.insert(stored.id, tenant);
        }
        for key in app.store.keys().map_err(|e| e.to_string())? {
            let role = Role::from_parts(&key.role, key.scope)
                .ok_or_else(|| format!("a key of {} has a bad role", key.tenant))?;
            app.keys.insert(key.hash, Caller { tenant: key.tenant, role });
        }
        let (brands, stores) = app.store.brands().map_err(|e| e.to_string())?;
        for (tenant, brand) in brands {
            if let Some(t) = app.tenants.get_mut(&tenant) {
                t.brands.insert(brand);
            }
        }
        for (tenant, store, brand) in stores {
            if let Some(t) = app.tenants.get_mut(&tenant) {
                t.store_brand.insert(store, brand);
            }
        }
        for (tenant, url, _) in app.store.webhooks().map_err(|e| e.to_string())? {
            if let Some(t) = app.tenants.get_mut(&tenant) {
                t.webhook = Some(url);
                t.record();
            }
        }
        let events: u64 = app.tenants.values().map(|t| t.chain.len()).sum();
        tracing::info!(tenants = app.tenants.len(), events, elapsed = ?started.elapsed(), "state rebuilt from the store");
        Ok(app)
    }

    /// Sets how many events a tenant's log grows between snapshots (500,000 by default: a
    /// start replays at most about that many lines per tenant after its snapshot).
    pub fn snapshot_every(mut self, events: u64) -> App {
        self.snapshot_every = events.max(1);
        self
    }

    /// Sets the webhook deliverer's first retry delay (1 s by default; it doubles up to an hour).
    pub fn webhook_retry(mut self, delay: std::time::Duration) -> App {
        self.retry = delay;
        self
    }

    /// The tenant and role of the key this request bears.
    fn caller(&mut self, headers: &HeaderMap) -> Result<Caller, ApiError> {
        let key = bearer(headers)?;
        let hash = sha256_hex(key.as_bytes());
        // The map is keyed by the hash of the key: a lookup leaks nothing about a key's prefix.
        let known = match self.keys.get(&hash) {
            Some(caller) => Some(caller.clone()),
            // In a cluster, a key may have been made on another node.
            None if self.cluster.is_some() => blocking(|| self.store.find_key(&hash))
                .map_err(internal)?
                .and_then(|key| {
                    Some(Caller { tenant: key.tenant, role: Role::from_parts(&key.role, key.scope)? })
                })
                .inspect(|caller| {
                    self.keys.insert(hash, caller.clone());
                }),
            None => None,
        };
        let caller = known
            .ok_or_else(|| ApiError(StatusCode::UNAUTHORIZED, "unauthorized", "unknown key".to_owned()))?;
        if !self.tenants.contains_key(&caller.tenant) {
            // Another node's (the router redirects there first; this is the race after it).
            return Err(unavailable(&caller.tenant));
        }
        Ok(caller)
    }

    /// In a cluster: takes the tenant's lock and lease if no node holds them, with the new
    /// epoch; `None` when another node serves it.
    fn lease(&mut self, tenant: &str) -> Result<Option<i64>, String> {
        let Some(node) = self.cluster.as_mut() else { return Ok(None) };
        if !node.try_lock(tenant).map_err(|e| e.to_string())? {
            return Ok(None);
        }
        let (id, address) = (node.node.clone(), node.address.clone());
        self.store.take_lease(tenant, &id, &address).map(Some).map_err(|e| e.to_string())
    }

    /// In a cluster: takes over every tenant no node serves (their node died, or they are new
    /// elsewhere and not claimed yet), rebuilding each from its snapshot and log; drops every
    /// tenant when the lock connection was lost (the locks went with it). Returns the tenants
    /// taken.
    fn claim(&mut self) -> Vec<String> {
        let Some(node) = self.cluster.as_mut() else { return Vec::new() };
        if !node.alive() {
            tracing::warn!(
                "the cluster's lock connection was lost: serving no tenant until they are taken again"
            );
            self.tenants.clear();
        }
        let ids = match self.store.tenant_ids() {
            Ok(ids) => ids,
            Err(error) => {
                tracing::error!(%error, "cannot list the tenants");
                return Vec::new();
            }
        };
        let mut taken = Vec::new();
        let unserved: Vec<String> = ids.into_iter().filter(|id| !self.tenants.contains_key(id)).collect();
        for id in unserved {
            match self.lease(&id).and_then(|epoch| epoch.map(|e| self.take_over(&id, e)).transpose()) {
                Ok(Some(())) => taken.push(id),
                Ok(None) => {}
                Err(error) => tracing::error!(tenant = %id, %error, "the tenant could not be taken over"),
            }
        }
        taken
    }

    /// Rebuilds a tenant this node just took the lease of, at `epoch`.
    fn take_over(&mut self, id: &str, epoch: i64) -> Result<(), String> {
        let started = std::time::Instant::now();
        let stored = self.store.load_one(id).map_err(|e| e.to_string())?.ok_or("gone")?;
        let mut tenant = Tenant::new();
        tenant.epoch = Some(epoch);
        if let Some(text) = &stored.plan {
            let (engine, chain, days, snapshot) = load_tenant(&mut self.store, id, text)?;
            tenant.engine = Some(engine);
            tenant.chain = chain;
            tenant.days = days;
            tenant.snapshot_line = snapshot;
            tenant.plan = Some(text.clone());
        }
        let (brands, stores, webhook) = self.store.tenant_extras(id).map_err(|e| e.to_string())?;
        tenant.brands = brands.into_iter().collect();
        tenant.store_brand = stores.into_iter().collect();
        tenant.webhook = webhook;
        tenant.record();
        self.keys.insert(stored.key_hash, Caller { tenant: id.to_owned(), role: Role::Owner });
        tracing::info!(tenant = id, epoch, lines = tenant.chain.len(), elapsed = ?started.elapsed(), "tenant taken over");
        self.tenants.insert(id.to_owned(), tenant);
        Ok(())
    }
}

/// The bearer token of a request.
fn bearer(headers: &HeaderMap) -> Result<&str, ApiError> {
    headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Bearer "))
        .ok_or_else(|| {
            ApiError(
                StatusCode::UNAUTHORIZED,
                "unauthorized",
                "an `Authorization: Bearer KEY` header is needed".to_owned(),
            )
        })
}

/// Equal strings, compared in constant time.
fn same(a: &str, b: &str) -> bool {
    a.len() == b.len() && a.bytes().zip(b.bytes()).fold(0, |acc, (x, y)| acc | (x ^ y)) == 0
}

/// The API's routes.
pub fn router(app: Shared) -> Router {
    Router::new()
        .route("/healthz", get(|| async { "ok\n" }))
        .route("/metrics", get(get_metrics))
        .route("/openapi.json", get(openapi))
        .route("/v1/tenants", post(create_tenant))
        .route("/v1/plan", put(put_plan).get(get_plan))
        .route("/v1/plan/check", post(check_plan))
        .route("/v1/events", post(post_events))
        .route("/v1/state", get(get_state))
        .route("/v1/members", post(resource("join")).get(list_members))
        .route("/v1/reviews", get(get_reviews).post(resource("review")))
        .route("/v1/members/{id}", get(get_member))
        .route("/v1/members/{id}/token", post(member_token))
        .route("/v1/me", get(get_me))
        .route("/v1/keys", post(create_key))
        .route("/v1/webhook", put(put_webhook).get(get_webhook))
        .route("/v1/brands", post(create_brand))
        .route("/v1/mechanisms", get(get_mechanisms))
        .route("/v1/mechanisms/{id}", get(get_mechanism))
        .route("/v1/stores", post(resource("store")))
        .route("/v1/agents", post(resource("agent")))
        .route("/v1/orders", post(resource("order")))
        .route("/v1/refunds", post(resource("refund")))
        .route("/v1/sells", post(resource("sell")))
        .route("/v1/withdrawals", post(resource("withdraw")))
        .route("/v1/topups", post(resource("topup")))
        .route("/v1/redemptions", post(resource("redeem")))
        .route("/v1/audit", get(get_audit))
        .route("/v1/reports", get(get_reports))
        .merge(web::routes())
        .layer(axum::middleware::from_fn_with_state(app.clone(), to_owner))
        .layer(axum::middleware::from_fn_with_state(app.clone(), track))
        .with_state(app)
}

/// Counts and logs each request: its method, route (the pattern, not the path: no ids in
/// metrics), status and time.
async fn track(
    State(server): State<Shared>,
    request: axum::extract::Request,
    next: axum::middleware::Next,
) -> Response {
    let started = std::time::Instant::now();
    let method = request.method().clone();
    let route = request
        .extensions()
        .get::<axum::extract::MatchedPath>()
        .map_or_else(|| "unmatched".to_owned(), |p| p.as_str().to_owned());
    let response = next.run(request).await;
    let status = response.status().as_u16();
    server.metrics.request(method.as_str(), &route, status, started.elapsed());
    if status >= 500 {
        tracing::warn!(%method, %route, status, elapsed = ?started.elapsed(), "request failed");
    } else {
        tracing::debug!(%method, %route, status, elapsed = ?started.elapsed(), "request");
    }
    response
}

/// In a cluster: a request for a tenant another node serves is redirected there (`307`: the
/// same method and body, at the owner's address); while nobody serves it (its node just died),
/// `503` with `Retry-After: 1`. Requests with the master key or without a known key go on.
async fn to_owner(
    State(server): State<Shared>,
    request: axum::extract::Request,
    next: axum::middleware::Next,
) -> Response {
    let elsewhere = {
        let mut app = lock(&server);
        let app = &mut *app;
        match (app.cluster.as_ref().map(|c| c.node.clone()), bearer(request.headers())) {
            (Some(me), Ok(key)) => {
                let hash = sha256_hex(key.as_bytes());
                let tenant = match app.keys.get(&hash) {
                    Some(caller) => Some(caller.tenant.clone()),
                    None => blocking(|| app.store.find_key(&hash)).ok().flatten().map(|k| k.tenant),
                };
                match tenant {
                    Some(tenant) if !app.tenants.contains_key(&tenant) => {
                        let owner = blocking(|| app.store.lease(&tenant)).ok().flatten();
                        Some((tenant, owner.filter(|(node, _)| *node != me).map(|(_, address)| address)))
                    }
                    _ => None,
                }
            }
            _ => None,
        }
    };
    match elsewhere {
        None => next.run(request).await,
        Some((_, Some(address))) => {
            let path = request.uri().path_and_query().map_or("/", |p| p.as_str());
            let location = format!("{}{path}", address.trim_end_matches('/'));
            (StatusCode::TEMPORARY_REDIRECT, [(header::LOCATION, location)]).into_response()
        }
        Some((tenant, None)) => {
            let mut response = unavailable(&tenant).into_response();
            response.headers_mut().insert(header::RETRY_AFTER, header::HeaderValue::from_static("1"));
            response
        }
    }
}

/// `GET /metrics`: Prometheus metrics (no key: they name no tenant, member or amount).
async fn get_metrics(State(server): State<Shared>) -> Response {
    let (tenants, lines) = {
        let app = lock(&server);
        (app.tenants.len(), app.tenants.values().map(|t| t.chain.len()).sum())
    };
    let body = server.metrics.render(tenants, lines);
    ([(header::CONTENT_TYPE, "text/plain; version=0.0.4")], body).into_response()
}

/// Serves `app` on `addr` until the process ends, on a runtime of its own (for callers that
/// are not async, like the command line).
pub fn serve_blocking(app: App, addr: SocketAddr) -> std::io::Result<()> {
    tokio::runtime::Builder::new_multi_thread().enable_all().build()?.block_on(serve(app, addr))
}

/// Serves `app` on `addr` until the process ends.
pub async fn serve(app: App, addr: SocketAddr) -> std::io::Result<()> {
    let listener = tokio::net::TcpListener::bind(addr).await?;
    tracing::info!(%addr, "serving");
    let (dir, database, retry) = (app.dir.clone(), app.database.clone(), app.retry);
    let node = app.cluster.as_ref().map(|c| c.node.clone());
    std::thread::Builder::new().name("fanli-webhooks".to_owned()).spawn(move || {
        match webhook::Deliverer::open(&dir, database.as_deref(), node, retry) {
            Ok(mut deliverer) => deliverer.run(std::time::Duration::from_millis(250)),
            Err(error) => {
                tracing::error!(%error, "no webhook deliveries: the store cannot be opened a second time")
            }
        }
    })?;
    let server = Server::start(app);
    let scheduler = Arc::clone(&server);
    std::thread::Builder::new().name("fanli-scheduler".to_owned()).spawn(move || schedule(&scheduler))?;
    axum::serve(listener, router(server)).await
}

/// Runs `f`, which calls the store, from a request's task. PostgreSQL's client drives a runtime
/// of its own, which cannot be entered from the server's; `block_in_place` steps out of it
/// (and tells the runtime this worker blocks for a while).
fn blocking<T>(f: impl FnOnce() -> T) -> T {
    tokio::task::block_in_place(f)
}

fn lock(server: &Shared) -> std::sync::MutexGuard<'_, App> {
    server.app.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
}

async fn create_tenant(
    State(app): State<Shared>,
    headers: HeaderMap,
    body: Bytes,
) -> Result<Response, ApiError> {
    let key = bearer(&headers)?;
    let mut app = lock(&app);
    if !same(&sha256_hex(key.as_bytes()), &app.master) {
        return Err(ApiError(
            StatusCode::UNAUTHORIZED,
            "unauthorized",
            "only the master key creates tenants".to_owned(),
        ));
    }
    let request: Value = serde_json::from_slice(&body).map_err(|e| {
        ApiError(StatusCode::BAD_REQUEST, "bad_request", format!("the body is not JSON: {e}"))
    })?;
    let id = request["id"].as_str().unwrap_or_default().to_owned();
    if id.is_empty()
        || !id.chars().all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_')
        || id.len() > 64
    {
        return Err(ApiError(
            StatusCode::BAD_REQUEST,
            "bad_request",
            "`id` must be 1 to 64 letters, digits, `-` or `_`".to_owned(),
        ));
    }
    let owner_key = new_key().map_err(internal)?;
    let hash = sha256_hex(owner_key.as_bytes());
    if !blocking(|| app.store.create_tenant(&id, &hash)).map_err(internal)? {
        return Err(ApiError(StatusCode::CONFLICT, "exists", format!("tenant `{id}` exists")));
    }
    app.keys.insert(hash, Caller { tenant: id.clone(), role: Role::Owner });
    let mut tenant = Tenant::new();
    if app.cluster.is_some() {
        // Nobody can hold the lock of a tenant this transaction just made, but another node's
        // claim may get there first: then the tenant is that node's, and this one redirects.
        match blocking(|| app.lease(&id)).map_err(internal)? {
            Some(epoch) => tenant.epoch = Some(epoch),
            None => {
                return Ok((StatusCode::CREATED, axum::Json(json!({"id": id, "owner_key": owner_key})))
                    .into_response());
            }
        }
    }
    app.tenants.insert(id.clone(), tenant);
    Ok((StatusCode::CREATED, axum::Json(json!({"id": id, "owner_key": owner_key}))).into_response())
}

async fn put_plan(State(app): State<Shared>, headers: HeaderMap, body: Bytes) -> Result<Response, ApiError> {
    let mut app = lock(&app);
    let caller = app.caller(&headers)?;
    caller.owner("setting the plan")?;
    let text = String::from_utf8(body.to_vec())
        .map_err(|_| ApiError(StatusCode::BAD_REQUEST, "bad_request", "the plan is not UTF-8".to_owned()))?;
    match app.set_plan(&caller.tenant, text) {
        Ok((version, warnings)) => {
            Ok(axum::Json(json!({"version": version, "warnings": warnings})).into_response())
        }
        Err(PlanRefused::Error(error)) => Err(error),
        Err(PlanRefused::Findings(findings)) => Ok((
            StatusCode::UNPROCESSABLE_ENTITY,
            axum::Json(json!({"error": {
                "code": "noncompliant", "message": "`fanli check` refuses this plan", "findings": findings,
            }})),
        )
            .into_response()),
    }
}

/// Why a plan was not put.
pub(crate) enum PlanRefused {
    /// `fanli check` found errors: its findings.
    Findings(Value),
    /// Not a plan, or not now.
    Error(ApiError),
}

impl App {
    /// Puts `text` as the tenant's plan: parsed, checked (refused with the findings when past a
    /// red line), stored as a new version, and in force from now on. Returns the version and
    /// the warnings. Refused once events were applied under the current plan.
    pub(crate) fn set_plan(&mut self, id: &str, text: String) -> Result<(i64, Value), PlanRefused> {
        let (plan, lines) = fanli_format::parse_plan_lines(&text).map_err(|errors| {
            PlanRefused::Error(ApiError(StatusCode::UNPROCESSABLE_ENTITY, "invalid_plan", errors.to_string()))
        })?;
        let findings = fanli_engine::compliance::check(&plan);
        if fanli_engine::compliance::refused(&findings) {
            let doc = fanli_format::findings_json(&plan.name, &findings, &lines);
            return Err(PlanRefused::Findings(doc["findings"].clone()));
        }
        if !self.tenants[id].chain.is_empty() {
            return Err(PlanRefused::Error(ApiError(
                StatusCode::CONFLICT,
                "plan_in_use",
                "events were applied under the current plan; changing it mid-log is not supported yet"
                    .to_owned(),
            )));
        }
        let version =
            blocking(|| self.store.add_plan(id, &text)).map_err(|e| PlanRefused::Error(internal(e)))?;
        let tenant = self.tenants.get_mut(id).expect("known");
        tenant.engine = Some(Engine::new(plan));
        tenant.plan = Some(text);
        tenant.record();
        Ok((version, fanli_format::findings_json("", &findings, &lines)["findings"].clone()))
    }
}

/// `POST /v1/plan/check` (any operator or read-only key): `fanli check` on a plan, without
/// storing it → `200` with what `fanli check --json` prints (`refused` says whether `PUT
/// /v1/plan` would refuse it), or `422` when it is not a valid plan.
async fn check_plan(
    State(app): State<Shared>,
    headers: HeaderMap,
    body: Bytes,
) -> Result<Response, ApiError> {
    {
        let mut app = lock(&app);
        let caller = app.caller(&headers)?;
        caller.operator("checking a plan").or_else(|_| caller.reader())?;
    }
    let text = std::str::from_utf8(&body)
        .map_err(|_| ApiError(StatusCode::BAD_REQUEST, "bad_request", "the plan is not UTF-8".to_owned()))?;
    let (plan, lines) = fanli_format::parse_plan_lines(text)
        .map_err(|errors| ApiError(StatusCode::UNPROCESSABLE_ENTITY, "invalid_plan", errors.to_string()))?;
    let findings = fanli_engine::compliance::check(&plan);
    let mut doc = fanli_format::findings_json(&plan.name, &findings, &lines);
    doc["refused"] = fanli_engine::compliance::refused(&findings).into();
    Ok(axum::Json(doc).into_response())
}

/// `GET /v1/plan` (owner or read-only): the plan in force and its version →
/// `{"version", "plan"}` (the TOML as it was put).
async fn get_plan(State(app): State<Shared>, headers: HeaderMap) -> Result<Response, ApiError> {
    let mut app = lock(&app);
    let caller = app.caller(&headers)?;
    caller.reader()?;
    let text = app.tenants[&caller.tenant].plan.clone().ok_or_else(no_plan)?;
    let version = blocking(|| app.store.plan_version(&caller.tenant)).map_err(internal)?;
    Ok(axum::Json(json!({"version": version, "plan": text})).into_response())
}

async fn post_events(
    State(app): State<Shared>,
    headers: HeaderMap,
    body: Bytes,
) -> Result<Response, ApiError> {
    let caller = lock(&app).caller(&headers)?;
    caller.owner("posting raw events")?;
    let id = caller.tenant;
    let text = body.strip_suffix(b"\n").unwrap_or(&body);
    let lines =
        text.split(|&b| b == b'\n').map(|l| Line::Raw(l.strip_suffix(b"\r").unwrap_or(l).to_vec())).collect();
    let results = submit(&app, id, lines).await?;
    Ok(axum::Json(json!({"results": results})).into_response())
}

impl App {
    /// Applies each job's lines to its tenant in order, then commits every accepted event in one
    /// transaction; a result per line of each job. If the commit fails, every tenant touched is
    /// rebuilt from the store and every job fails: nothing unacknowledged stays applied.
    fn apply_batch(&mut self, jobs: &[Job]) -> Vec<Result<Vec<Value>, ApiError>> {
        let mut touched: Vec<Touched> = Vec::new();
        let mut replies = Vec::with_capacity(jobs.len());
        for job in jobs {
            // A tenant can leave between a request's check and its turn here: its lease moved.
            let Some(Tenant { engine, chain, days, webhook, .. }) = self.tenants.get_mut(&job.tenant) else {
                replies.push(Err(unavailable(&job.tenant)));
                continue;
            };
            let Some(engine) = engine.as_mut() else {
                replies.push(Err(no_plan()));
                continue;
            };
            let offset = engine.plan().timezone;
            let slot = match touched.iter().position(|t| t.tenant == job.tenant) {
                Some(slot) => slot,
                None => {
                    touched.push(Touched {
                        tenant: job.tenant.clone(),
                        before: chain.clone(),
                        lines: Vec::new(),
                        notifications: Vec::new(),
                        reports: Vec::new(),
                        members: Vec::new(),
                        history: Vec::new(),
                        days: Vec::new(),
                    });
                    touched.len() - 1
                }
            };
            let mut results = Vec::with_capacity(job.lines.len());
            for (i, line) in job.lines.iter().enumerate() {
                let bytes = match line {
                    Line::Raw(bytes) => std::borrow::Cow::Borrowed(bytes.as_slice()),
                    Line::Stamp(fields) => {
                        let mut fields = fields.clone();
                        if !fields.contains_key("at") {
                            fields.insert("at".to_owned(), stamp(engine).into());
                        }
                        std::borrow::Cow::Owned(serde_json::to_vec(&fields).unwrap_or_default())
                    }
                };
                let applied = EventLine::parse(&bytes).map_err(|e| e.to_string()).and_then(|raw| {
                    let event = raw.event().map_err(|e| e.to_string())?;
                    engine.apply(&event).map_err(|e| e.to_string())?;
                    days.note(&event, offset, job.day);
                    if job.day.is_none() {
                        days.arrived(&event, wall_now());
                    }
                    let chained = chain.link(&event);
                    let (line, at, touched) = (chain.len(), event.at.to_string(), &mut touched[slot]);
                    match &event.kind {
                        fanli_engine::EventKind::CloseDay => {
                            let report = fanli_format::pool_report(engine, event.at, chain.head());
                            touched.reports.push((line, report.to_string()));
                            let counts = (engine.member_count() as u64, engine.order_count() as u64);
                            touched.days.push((line, at.clone(), counts.0, counts.1));
                        }
                        fanli_engine::EventKind::Join { member, referrer, phone, .. } => {
                            touched.members.push((
                                (*member).to_owned(),
                                referrer.map(str::to_owned),
                                phone.map(str::to_owned),
                            ))
                        }
                        _ => {}
                    }
                    for (member, postings) in fanli_format::member_postings(engine) {
                        let body = Value::Array(postings).to_string();
                        touched.history.push((engine.member_name(member).to_owned(), line, body));
                    }
                    Ok((chained, at))
                });
                match applied {
                    Ok((chained, at)) => {
                        if webhook.is_some() {
                            for mut notification in fanli_format::notifications(engine) {
                                notification["tenant"] = job.tenant.as_str().into();
                                notification["line"] = chain.len().into();
                                notification["at"] = at.as_str().into();
                                touched[slot].notifications.push(notification.to_string());
                            }
                        }
                        touched[slot].lines.push(chained);
                        results.push(json!({"line": i + 1, "ok": true, "at": at}));
                    }
                    Err(error) => results.push(json!({"line": i + 1, "ok": false, "error": error})),
                }
            }
            replies.push(Ok(results));
        }
        let appends: Vec<store::Append<'_>> = touched
            .iter()
            .map(|t| store::Append {
                tenant: &t.tenant,
                after: t.before.len(),
                lines: &t.lines,
                notifications: &t.notifications,
                reports: &t.reports,
                members: &t.members,
                history: &t.history,
                days: &t.days,
                lease: self
                    .cluster
                    .as_ref()
                    .zip(self.tenants.get(&t.tenant).and_then(|x| x.epoch))
                    .map(|(c, e)| (c.node.as_str(), e)),
            })
            .collect();
        if let Err(e) = self.store.append(&appends) {
            if let store::StoreError::LeaseLost(lost) = &e {
                // Another node took it over: its state here is stale and no longer ours.
                tracing::warn!(tenant = %lost, "the tenant's lease moved to another node: no longer serving it");
                self.tenants.remove(lost);
                if let Some(node) = self.cluster.as_mut() {
                    node.unlock(lost);
                }
            }
            for Touched { tenant: id, .. } in &touched {
                if self.tenants.contains_key(id)
                    && let Err(rebuild) = self.rebuild(id)
                {
                    tracing::error!(tenant = %id, error = %rebuild, "the tenant could not be rebuilt");
                }
            }
            tracing::error!(error = %e, "a group commit failed");
            let message = format!("the events could not be stored: {e}");
            return jobs.iter().map(|_| Err(internal(&message))).collect();
        }
        if let Some(snapshots) = &self.snapshots {
            for Touched { tenant: id, .. } in &touched {
                let tenant = self.tenants.get_mut(id).expect("known");
                if tenant.chain.len() >= tenant.snapshot_line + self.snapshot_every {
                    let engine = tenant.engine.clone().expect("a plan");
                    let job = SnapshotJob {
                        tenant: id.clone(),
                        engine,
                        chain: tenant.chain.clone(),
                        closed_through: tenant.days.closed_through,
                    };
                    tenant.snapshot_line = tenant.chain.len();
                    let _ = snapshots.send(job);
                }
            }
        }
        replies
    }

    /// The tenant's engine again from its plan and its stored log.
    fn rebuild(&mut self, id: &str) -> Result<(), String> {
        let tenant = self.tenants.get_mut(id).expect("known");
        let (engine, chain, days, _) =
            load_tenant(&mut self.store, id, tenant.plan.as_deref().expect("a plan"))?;
        tenant.engine = Some(engine);
        tenant.days = days;
        tenant.chain = chain;
        tenant.record();
        Ok(())
    }
}

/// What a group commit adds for one tenant.
struct Touched {
    tenant: String,
    /// The chain before the batch.
    before: Chain,
    /// The chained lines appended.
    lines: Vec<String>,
    /// The notifications they make, as JSON.
    notifications: Vec<String>,
    /// The daily pool report after each `close_day`, with the line of that `close_day`.
    reports: Vec<(u64, String)>,
    /// New members: (member, referrer, phone).
    members: Vec<(String, Option<String>, Option<String>)>,
    /// What each event did to each member: (member, line, JSON).
    history: Vec<(String, u64, String)>,
    /// At each `close_day`: (line, time, members, orders).
    days: Vec<(u64, String, u64, u64)>,
}

/// A tenant as its store holds it: the engine, the chain and the days from its latest snapshot
/// (if it has one this version can read) and the log after it, or from the whole log. Returns
/// also the line of the snapshot used (0 for none).
fn load_tenant(store: &mut Store, id: &str, plan: &str) -> Result<(Engine, Chain, Days, u64), String> {
    let fresh = || -> Result<_, String> {
        let engine = Engine::new(parse_plan(plan).map_err(|e| format!("stored plan: {e}"))?);
        Ok((engine, Chain::default(), Days::default(), 0))
    };
    let stored = store.snapshot(id).unwrap_or_else(|error| {
        tracing::warn!(tenant = id, %error, "the snapshot cannot be read: replaying the whole log");
        None
    });
    let (mut engine, mut chain, mut days, from) = match stored {
        Some(snapshot) => match Engine::restore(&snapshot.data) {
            Ok(engine) => (
                engine,
                Chain::resume(snapshot.head, snapshot.line),
                Days { closed_through: snapshot.closed_through, lag: None },
                snapshot.line,
            ),
            Err(error) => {
                tracing::warn!(tenant = id, %error, "the snapshot cannot be used: replaying the whole log");
                fresh()?
            }
        },
        None => fresh()?,
    };
    engine.record(false);
    let offset = engine.plan().timezone;
    store
        .for_each_event(id, from, |line| {
            let raw = EventLine::parse(line.as_bytes()).map_err(|e| e.to_string())?;
            let event = raw.event().map_err(|e| e.to_string())?;
            engine.apply(&event).map_err(|e| e.to_string())?;
            days.note(&event, offset, None);
            chain.advance(line);
            Ok(())
        })
        .map_err(|e| format!("its log's line {} no longer applies: {e}", chain.len() + 1))?;
    Ok((engine, chain, days, from))
}

/// A snapshot to take: a clone of a tenant's engine at a line of its log.
struct SnapshotJob {
    tenant: String,
    engine: Engine,
    chain: Chain,
    closed_through: Option<i64>,
}

/// The snapshot thread: encodes and stores each snapshot handed over, on a connection of its
/// own, so that the writer only pays for the clone. When snapshots come faster than they are
/// written, only each tenant's latest is taken.
fn snapshot_loop(store: &mut Store, jobs: &std::sync::mpsc::Receiver<SnapshotJob>) {
    while let Ok(first) = jobs.recv() {
        let mut latest = vec![first];
        while let Ok(job) = jobs.try_recv() {
            latest.retain(|j| j.tenant != job.tenant);
            latest.push(job);
        }
        for job in latest {
            let started = std::time::Instant::now();
            let snapshot = store::Snapshot {
                line: job.chain.len(),
                head: job.chain.head().to_owned(),
                closed_through: job.closed_through,
                data: job.engine.snapshot(),
            };
            match store.put_snapshot(&job.tenant, &snapshot) {
                Ok(()) => tracing::info!(
                    tenant = %job.tenant, line = snapshot.line, bytes = snapshot.data.len(),
                    elapsed = ?started.elapsed(), "snapshot taken"
                ),
                Err(error) => {
                    tracing::error!(tenant = %job.tenant, %error, "the snapshot could not be stored")
                }
            }
        }
    }
}

/// The wall clock, in nanoseconds since 1970.
fn wall_now() -> i64 {
    std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map_or(0, |d| d.as_nanos() as i64)
}

/// Now, in RFC 3339, never before the engine's last event.
fn stamp(engine: &Engine) -> String {
    let last = engine.now().map_or(0, |t| t.unix_nanos());
    let now =
        std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map_or(0, |d| d.as_nanos() as i64);
    fanli_engine::Timestamp::from_unix_nanos(now.max(last)).to_string()
}

/// `POST /v1/{resource}`: one event of `kind` from a JSON object of its fields (without `type`;
/// `at` defaults to now, and never before the tenant's last event). Answers 200 with the
/// member's or the order's view when applied, 422 with the reason when refused. An order's id
/// is its idempotency key: an exact retry is a no-op that answers as the first time.
fn resource(kind: &'static str) -> impl Fn(State<Shared>, HeaderMap, Bytes) -> Answer + Clone {
    move |State(app): State<Shared>, headers: HeaderMap, body: Bytes| {
        Box::pin(async move { one_event(&app, &headers, &body, kind).await })
    }
}

/// What a resource handler returns.
type Answer = std::pin::Pin<Box<dyn std::future::Future<Output = Result<Response, ApiError>> + Send>>;

async fn one_event(app: &Shared, headers: &HeaderMap, body: &[u8], kind: &str) -> Result<Response, ApiError> {
    let mut fields: serde_json::Map<String, Value> = serde_json::from_slice(body).map_err(|e| {
        ApiError(StatusCode::BAD_REQUEST, "bad_request", format!("the body is not a JSON object: {e}"))
    })?;
    // A store's brand is the server's, not the engine's: it decides who may write there.
    let brand = match fields.remove("brand") {
        None => None,
        Some(Value::String(brand)) if kind == "store" => Some(brand),
        Some(_) => {
            let message = format!("`brand` is a string, and only a store has one (this is a {kind})");
            return Err(ApiError(StatusCode::BAD_REQUEST, "bad_request", message));
        }
    };
    let id = {
        let mut app = lock(app);
        let caller = app.caller(headers)?;
        let tenant = &app.tenants[&caller.tenant];
        match kind {
            "join" => caller.operator("a member joining")?,
            "redeem" => caller.operator("a redemption")?,
            "order" => {
                let store = fields.get("store").and_then(Value::as_str);
                caller.at_store(store, |s| tenant.store_brand.get(s).cloned())?;
            }
            "store" => {
                if let Some(brand) = &brand
                    && !tenant.brands.contains(brand)
                {
                    let message = format!("no brand `{brand}`: POST /v1/brands first");
                    return Err(ApiError(StatusCode::UNPROCESSABLE_ENTITY, "refused", message));
                }
                match &caller.role {
                    Role::BrandManager(own) if brand.as_ref() == Some(own) => {}
                    Role::BrandManager(own) => {
                        let message =
                            format!("a brand manager registers stores of its brand: `\"brand\": \"{own}\"`");
                        return Err(ApiError(StatusCode::FORBIDDEN, "forbidden", message));
                    }
                    _ => caller.owner("registering a store")?,
                }
            }
            _ => caller.owner(&format!("a {kind}"))?,
        }
        caller.tenant
    };
    fields.insert("type".to_owned(), kind.into());
    let member = fields.get("member").and_then(Value::as_str).map(str::to_owned);
    let store = fields.get("store").and_then(Value::as_str).map(str::to_owned);
    let result = submit(app, id.clone(), vec![Line::Stamp(fields)]).await?.remove(0);
    if result["ok"] != true {
        let message = result["error"].as_str().unwrap_or_default().to_owned();
        return Err(ApiError(StatusCode::UNPROCESSABLE_ENTITY, "refused", message));
    }
    let mut app = lock(app);
    if let (Some(brand), Some(store)) = (brand, store) {
        blocking(|| app.store.set_store_brand(&id, &store, &brand)).map_err(internal)?;
        app.tenants.get_mut(&id).expect("known").store_brand.insert(store, brand);
    }
    let engine = app.tenants[&id].engine.as_ref().expect("applied");
    let member = member.and_then(|m| engine.find_member(&m));
    let mut view = Vec::new();
    if let Some(member) = member {
        fanli_format::member_json(engine, member, &mut view).map_err(internal)?;
    }
    let view: Value =
        if view.is_empty() { json!({}) } else { serde_json::from_slice(&view).map_err(internal)? };
    Ok(axum::Json(json!({"ok": true, "at": result["at"], "members": view})).into_response())
}

/// `GET /v1/members/{id}`: the member's view (balances, points value, progress, queue place).
async fn get_member(
    State(app): State<Shared>,
    headers: HeaderMap,
    axum::extract::Path(member): axum::extract::Path<String>,
) -> Result<Response, ApiError> {
    let mut app = lock(&app);
    let caller = app.caller(&headers)?;
    caller.sees_member(&member)?;
    let engine = app.tenants[&caller.tenant].engine.as_ref().ok_or_else(no_plan)?;
    let member = engine
        .find_member(&member)
        .ok_or_else(|| ApiError(StatusCode::NOT_FOUND, "not_found", format!("no member `{member}`")))?;
    let mut body = Vec::new();
    fanli_format::member_json(engine, member, &mut body).map_err(internal)?;
    Ok(([(header::CONTENT_TYPE, "application/json")], body).into_response())
}

/// `GET /v1/members?offset=N&limit=M` (operators and read-only): members in the order they
/// joined, `M` (at most 500, 50 by default) from the `N`-th → `{"total", "offset", "members":
/// {ID: view, ...}}`.
async fn list_members(
    State(app): State<Shared>,
    headers: HeaderMap,
    axum::extract::Query(query): axum::extract::Query<HashMap<String, String>>,
) -> Result<Response, ApiError> {
    let number = |name: &str, default: usize| match query.get(name) {
        None => Ok(default),
        Some(n) => n
            .parse::<usize>()
            .map_err(|_| ApiError(StatusCode::BAD_REQUEST, "bad_request", format!("`{name}` is a number"))),
    };
    let (offset, limit) = (number("offset", 0)?, number("limit", 50)?.min(500));
    let mut app = lock(&app);
    let caller = app.caller(&headers)?;
    caller.operator("the member list").or_else(|_| caller.reader())?;
    let engine = app.tenants[&caller.tenant].engine.as_ref().ok_or_else(no_plan)?;
    let total = engine.member_count();
    let mut body = format!("{{\"total\":{total},\"offset\":{offset},\"members\":{{").into_bytes();
    for index in offset.min(total)..offset.saturating_add(limit).min(total) {
        if index > offset {
            body.push(b',');
        }
        let mut one = Vec::new();
        fanli_format::member_json(engine, engine.member_id(index), &mut one).map_err(internal)?;
        body.extend_from_slice(&one[1..one.len() - 1]);
    }
    body.extend_from_slice(b"}}");
    Ok(([(header::CONTENT_TYPE, "application/json")], body).into_response())
}

/// `GET /v1/reviews` (owner and read-only): the anti-fraud reviews, pending and decided →
/// `{"reviews": [...]}` (empty without `[antifraud]`).
async fn get_reviews(State(app): State<Shared>, headers: HeaderMap) -> Result<Response, ApiError> {
    let mut app = lock(&app);
    let caller = app.caller(&headers)?;
    caller.reader()?;
    let engine = app.tenants[&caller.tenant].engine.as_ref().ok_or_else(no_plan)?;
    let reviews: Vec<Value> =
        engine.reviews().unwrap_or_default().iter().map(|r| fanli_format::review_json(engine, r)).collect();
    Ok(axum::Json(json!({"reviews": reviews})).into_response())
}

/// `GET /v1/me`: a member token's own member view.
async fn get_me(State(app): State<Shared>, headers: HeaderMap) -> Result<Response, ApiError> {
    let member = match lock(&app).caller(&headers)?.role {
        Role::Member(member) => member,
        role => {
            let message = format!("/v1/me is for member tokens; this key is a {} key", role.name());
            return Err(ApiError(StatusCode::FORBIDDEN, "forbidden", message));
        }
    };
    get_member(State(app), headers, axum::extract::Path(member)).await
}

/// A JSON object body.
fn object(body: &[u8]) -> Result<serde_json::Map<String, Value>, ApiError> {
    serde_json::from_slice(body).map_err(|e| {
        ApiError(StatusCode::BAD_REQUEST, "bad_request", format!("the body is not a JSON object: {e}"))
    })
}

/// A string field of a request, 1 to 64 characters.
fn field<'a>(request: &'a serde_json::Map<String, Value>, name: &str) -> Result<&'a str, ApiError> {
    match request.get(name).and_then(Value::as_str) {
        Some(value) if !value.is_empty() && value.len() <= 64 => Ok(value),
        _ => Err(ApiError(
            StatusCode::BAD_REQUEST,
            "bad_request",
            format!("`{name}` must be 1 to 64 characters"),
        )),
    }
}

/// Makes a key for `role` in `tenant`, stores its hash, and returns it (shown this once).
fn issue_key(app: &mut App, tenant: &str, role: Role) -> Result<String, ApiError> {
    let key = new_key().map_err(internal)?;
    let hash = sha256_hex(key.as_bytes());
    blocking(|| app.store.add_key(&hash, tenant, role.name(), role.scope())).map_err(internal)?;
    app.keys.insert(hash, Caller { tenant: tenant.to_owned(), role });
    Ok(key)
}

/// `POST /v1/keys` (owner): `{"role": "owner" | "brand_manager" | "store_operator" |
/// "read_only", "brand": ..., "store": ...}` → `201 {"key", "role", ...}`, the key shown once.
async fn create_key(
    State(app): State<Shared>,
    headers: HeaderMap,
    body: Bytes,
) -> Result<Response, ApiError> {
    let request = object(&body)?;
    let mut app = lock(&app);
    let caller = app.caller(&headers)?;
    caller.owner("making keys")?;
    let tenant = &app.tenants[&caller.tenant];
    let role = match request.get("role").and_then(Value::as_str) {
        Some("owner") => Role::Owner,
        Some("read_only") => Role::ReadOnly,
        Some("brand_manager") => {
            let brand = field(&request, "brand")?;
            if !tenant.brands.contains(brand) {
                let message = format!("no brand `{brand}`: POST /v1/brands first");
                return Err(ApiError(StatusCode::UNPROCESSABLE_ENTITY, "refused", message));
            }
            Role::BrandManager(brand.to_owned())
        }
        Some("store_operator") => {
            let store = field(&request, "store")?;
            if tenant.engine.as_ref().and_then(|e| e.store(store)).is_none() {
                let message = format!("no store `{store}`: POST /v1/stores first");
                return Err(ApiError(StatusCode::UNPROCESSABLE_ENTITY, "refused", message));
            }
            Role::StoreOperator(store.to_owned())
        }
        _ => {
            let message = "`role` is one of owner, brand_manager, store_operator, read_only".to_owned();
            return Err(ApiError(StatusCode::BAD_REQUEST, "bad_request", message));
        }
    };
    let key = issue_key(&mut app, &caller.tenant, role.clone())?;
    let mut answer = json!({"key": key, "role": role.name()});
    if let Role::BrandManager(scope) | Role::StoreOperator(scope) = &role {
        answer[if matches!(role, Role::BrandManager(_)) { "brand" } else { "store" }] = scope.as_str().into();
    }
    Ok((StatusCode::CREATED, axum::Json(answer)).into_response())
}

/// `POST /v1/members/{id}/token` (an operator): a token that sees only this member, for the
/// member's own page → `201 {"token", "member"}`.
async fn member_token(
    State(app): State<Shared>,
    headers: HeaderMap,
    axum::extract::Path(member): axum::extract::Path<String>,
) -> Result<Response, ApiError> {
    let mut app = lock(&app);
    let caller = app.caller(&headers)?;
    caller.operator("a member token")?;
    let engine = app.tenants[&caller.tenant].engine.as_ref().ok_or_else(no_plan)?;
    if engine.find_member(&member).is_none() {
        return Err(ApiError(StatusCode::NOT_FOUND, "not_found", format!("no member `{member}`")));
    }
    let token = issue_key(&mut app, &caller.tenant, Role::Member(member.clone()))?;
    Ok((StatusCode::CREATED, axum::Json(json!({"token": token, "member": member}))).into_response())
}

/// `PUT /v1/webhook` (owner): `{"url": "https://..."}` → `{"url", "secret"}`: notifications
/// (reward paid, exit, expiry reminder, review needed) of the events from now on go there, signed
/// with the secret (shown here, new on every PUT). `{"url": null}` stops them.
async fn put_webhook(
    State(app): State<Shared>,
    headers: HeaderMap,
    body: Bytes,
) -> Result<Response, ApiError> {
    let request = object(&body)?;
    let app = &mut *lock(&app);
    let caller = app.caller(&headers)?;
    caller.owner("setting the webhook")?;
    let url = match request.get("url") {
        Some(Value::Null) => None,
        Some(Value::String(url))
            if (url.starts_with("http://") || url.starts_with("https://")) && url.len() <= 2048 =>
        {
            Some(url.clone())
        }
        _ => {
            let message = "`url` is an http:// or https:// URL, or null".to_owned();
            return Err(ApiError(StatusCode::BAD_REQUEST, "bad_request", message));
        }
    };
    let secret = new_key().map_err(internal)?;
    blocking(|| app.store.set_webhook(&caller.tenant, url.as_deref().map(|u| (u, secret.as_str()))))
        .map_err(internal)?;
    let tenant = app.tenants.get_mut(&caller.tenant).expect("known");
    tenant.webhook = url.clone();
    tenant.record();
    let answer = match url {
        Some(url) => json!({"url": url, "secret": secret}),
        None => json!({"url": null}),
    };
    Ok(axum::Json(answer).into_response())
}

/// `GET /v1/webhook` (owner or read-only): the URL and the outbox: notifications pending and
/// delivered, and the oldest pending one's attempts and last error.
async fn get_webhook(State(app): State<Shared>, headers: HeaderMap) -> Result<Response, ApiError> {
    let mut app = lock(&app);
    let caller = app.caller(&headers)?;
    caller.reader()?;
    let url = app.tenants[&caller.tenant].webhook.clone();
    let status = blocking(|| app.store.outbox_status(&caller.tenant)).map_err(internal)?;
    let mut answer = json!({"url": url, "pending": status.pending, "delivered": status.delivered});
    if let Some((attempts, error)) = status.head {
        answer["attempts"] = attempts.into();
        answer["last_error"] = error.into();
    }
    Ok(axum::Json(answer).into_response())
}

/// `POST /v1/brands` (owner): `{"id": "b1"}` → `201`; stores join a brand with `"brand"`.
async fn create_brand(
    State(app): State<Shared>,
    headers: HeaderMap,
    body: Bytes,
) -> Result<Response, ApiError> {
    let request = object(&body)?;
    let app = &mut *lock(&app);
    let caller = app.caller(&headers)?;
    caller.owner("registering a brand")?;
    let brand = field(&request, "id")?;
    if !blocking(|| app.store.add_brand(&caller.tenant, brand)).map_err(internal)? {
        return Err(ApiError(StatusCode::CONFLICT, "exists", format!("brand `{brand}` exists")));
    }
    app.tenants.get_mut(&caller.tenant).expect("known").brands.insert(brand.to_owned());
    Ok((StatusCode::CREATED, axum::Json(json!({"id": brand}))).into_response())
}

/// `GET /v1/mechanisms`: every mechanism's view (pool, obligations, paid, price, ...), as under
/// `mechanisms` in the state document.
async fn get_mechanisms(State(app): State<Shared>, headers: HeaderMap) -> Result<Response, ApiError> {
    mechanisms(&app, &headers, None)
}

/// `GET /v1/mechanisms/{id}`: one mechanism's view.
async fn get_mechanism(
    State(app): State<Shared>,
    headers: HeaderMap,
    axum::extract::Path(id): axum::extract::Path<String>,
) -> Result<Response, ApiError> {
    mechanisms(&app, &headers, Some(&id))
}

fn mechanisms(app: &Shared, headers: &HeaderMap, only: Option<&str>) -> Result<Response, ApiError> {
    let mut app = lock(app);
    let caller = app.caller(headers)?;
    caller.operator("a mechanism view").or_else(|_| caller.reader())?;
    let engine = app.tenants[&caller.tenant].engine.as_ref().ok_or_else(no_plan)?;
    let body = fanli_format::mechanisms_json(engine, only).ok_or_else(|| {
        ApiError(StatusCode::NOT_FOUND, "not_found", format!("no mechanism `{}`", only.unwrap_or_default()))
    })?;
    Ok(([(header::CONTENT_TYPE, "application/json")], body).into_response())
}

/// `GET /v1/reports?from=N`: the daily pool reports after the log's line N, as JSON Lines, one
/// per `close_day`: each mechanism's pool, obligations, paid and price, with the audit chain's
/// head at that line (what `fanli run --report` writes and `fanli audit verify --report` checks).
async fn get_reports(
    State(app): State<Shared>,
    headers: HeaderMap,
    axum::extract::Query(query): axum::extract::Query<HashMap<String, String>>,
) -> Result<Response, ApiError> {
    let mut app = lock(&app);
    let caller = app.caller(&headers)?;
    caller.operator("the daily reports").or_else(|_| caller.reader())?;
    let from = line_number(&query)?;
    let mut body = blocking(|| app.store.reports(&caller.tenant, from)).map_err(internal)?.join("\n");
    if !body.is_empty() {
        body.push('\n');
    }
    Ok(([(header::CONTENT_TYPE, "application/x-ndjson")], body).into_response())
}

/// The `from` query parameter: a line of the log (0 by default).
fn line_number(query: &HashMap<String, String>) -> Result<u64, ApiError> {
    match query.get("from") {
        None => Ok(0),
        Some(n) => n.parse().map_err(|_| {
            ApiError(StatusCode::BAD_REQUEST, "bad_request", "`from` is a line number".to_owned())
        }),
    }
}

/// `GET /v1/audit?from=N`: the tenant's chained log after line N (all of it by default), as
/// JSON Lines: what `fanli audit verify` checks.
async fn get_audit(
    State(app): State<Shared>,
    headers: HeaderMap,
    axum::extract::Query(query): axum::extract::Query<HashMap<String, String>>,
) -> Result<Response, ApiError> {
    let mut app = lock(&app);
    let caller = app.caller(&headers)?;
    caller.reader()?;
    let id = caller.tenant;
    let from = line_number(&query)?;
    let mut body = blocking(|| app.store.events(&id, from)).map_err(internal)?.join("\n");
    if !body.is_empty() {
        body.push('\n');
    }
    Ok(([(header::CONTENT_TYPE, "application/x-ndjson")], body).into_response())
}

fn no_plan() -> ApiError {
    ApiError(StatusCode::CONFLICT, "no_plan", "PUT /v1/plan first".to_owned())
}

/// `GET /v1/state`, or `GET /v1/state?at=TIME`: the state as it stood then, replayed from the
/// log (what `fanli run --until TIME --json` prints).
async fn get_state(
    State(app): State<Shared>,
    headers: HeaderMap,
    axum::extract::Query(query): axum::extract::Query<HashMap<String, String>>,
) -> Result<Response, ApiError> {
    let mut app = lock(&app);
    let caller = app.caller(&headers)?;
    caller.reader()?;
    let id = caller.tenant;
    let tenant = &app.tenants[&id];
    let engine = tenant.engine.as_ref().ok_or_else(no_plan)?;
    let mut body = Vec::new();
    match query.get("at") {
        None => state_json(engine, &[], None, &mut body).map_err(internal)?,
        Some(at) => {
            let until = fanli_engine::Timestamp::parse_rfc3339(at).ok_or_else(|| {
                ApiError(
                    StatusCode::BAD_REQUEST,
                    "bad_request",
                    format!("`at` {at:?} is not an RFC 3339 time"),
                )
            })?;
            let plan = parse_plan(tenant.plan.as_deref().expect("a plan")).map_err(internal)?;
            let mut then = Engine::new(plan);
            then.record(false);
            let log = blocking(|| app.store.events(&id, 0)).map_err(internal)?.join("\n");
            let extras = fanli_format::Extras { until: Some(until), ..fanli_format::Extras::default() };
            fanli_format::run_stream_with(&mut then, log.as_bytes(), extras).map_err(internal)?;
            state_json(&then, &[], None, &mut body).map_err(internal)?;
        }
    }
    body.push(b'\n');
    Ok(([(header::CONTENT_TYPE, "application/json")], body).into_response())
}

async fn openapi() -> Response {
    ([(header::CONTENT_TYPE, "application/json")], OPENAPI).into_response()
}

/// The OpenAPI 3 document of the endpoints served so far.
const OPENAPI: &str = include_str!("openapi.json");

impl App {
    /// The log line of the snapshot a tenant was last loaded from or snapshotted at (0: none).
    pub fn snapshot_line(&self, tenant: &str) -> Option<u64> {
        Some(self.tenants.get(tenant)?.snapshot_line)
    }

    /// A tenant's state document, as `GET /v1/state` sends it (`None`: no such tenant or no plan).
    pub fn state(&self, tenant: &str) -> Option<Vec<u8>> {
        let engine = self.tenants.get(tenant)?.engine.as_ref()?;
        let mut body = Vec::new();
        state_json(engine, &[], None, &mut body).ok()?;
        body.push(b'\n');
        Some(body)
    }
}

/// A new random key: 32 bytes from the operating system, in hex.
fn new_key() -> Result<String, getrandom::Error> {
    let mut bytes = [0u8; 32];
    getrandom::fill(&mut bytes)?;
    Ok(bytes.iter().map(|b| format!("{b:02x}")).collect())
}

/// A new master key, for a first start without one.
pub fn generate_master_key() -> Result<String, String> {
    new_key().map_err(|e| e.to_string())
}

#[cfg(test)]
mod tests {
    use fanli_engine::{Timestamp, UtcOffset};

    use super::Days;

    #[test]
    fn the_next_day_to_close_is_never_before_the_last_events_day() {
        let at = |t: &str| Timestamp::parse_rfc3339(t).unwrap();
        let china = UtcOffset::CHINA;
        let day = |t: &str| at(t).local_day(china);
        let last = at("2026-03-20T10:00:00+08:00");
        // Nothing closed yet: the last event's day, once it has ended, at its midnight.
        let fresh = Days::default();
        assert_eq!(fresh.due(at("2026-03-20T23:59:59+08:00"), last, china), None);
        assert_eq!(
            fresh.due(at("2026-03-21T00:00:01+08:00"), last, china),
            Some((day("2026-03-20T12:00:00+08:00"), at("2026-03-21T00:00:00+08:00")))
        );
        // History closed through March 1, then live events on the 20th: the days between ended
        // before the last event and are not closed after the fact.
        let old = Days { closed_through: Some(day("2026-03-01T12:00:00+08:00")), lag: None };
        assert_eq!(
            old.due(at("2026-03-21T00:00:01+08:00"), last, china),
            fresh.due(at("2026-03-21T00:00:01+08:00"), last, china)
        );
        // Closed through the 20th: the 21st is next, due at the 22nd's midnight.
        let closed = Days { closed_through: Some(day("2026-03-20T12:00:00+08:00")), lag: None };
        let after = at("2026-03-21T00:00:00+08:00");
        assert_eq!(closed.due(at("2026-03-21T23:00:00+08:00"), after, china), None);
        assert_eq!(
            closed.due(at("2026-03-22T00:00:00+08:00"), after, china).map(|(_, t)| t),
            Some(at("2026-03-22T00:00:00+08:00"))
        );
        // An operator's close_day at 23:00 closes its own day; one at midnight the day before.
        let mut days = Days::default();
        let close = |t: &str| fanli_engine::Event { at: at(t), kind: fanli_engine::EventKind::CloseDay };
        days.note(&close("2026-03-20T23:00:00+08:00"), china, None);
        assert_eq!(days.closed_through, Some(day("2026-03-20T12:00:00+08:00")));
        days.note(&close("2026-03-22T00:00:00+08:00"), china, None);
        assert_eq!(days.closed_through, Some(day("2026-03-21T12:00:00+08:00")));
        // The scheduler's close names its day, even when pushed past midnight.
        days.note(&close("2026-03-23T00:00:00.5+08:00"), china, Some(day("2026-03-22T12:00:00+08:00")));
        assert_eq!(days.closed_through, Some(day("2026-03-22T12:00:00+08:00")));
        // A tenant whose events arrive stamped long before (a backfill of recent days) is left
        // alone, however recent the days; one whose events are stamped as they arrive is live.
        let backfill = Days { closed_through: None, lag: Some(3 * 86_400 * 1_000_000_000) };
        assert_eq!(backfill.due(at("2026-03-21T00:00:01+08:00"), last, china), None);
        let live = Days { closed_through: None, lag: Some(2_000_000_000) };
        assert_eq!(
            live.due(at("2026-03-21T00:00:01+08:00"), last, china),
            fresh.due(at("2026-03-21T00:00:01+08:00"), last, china)
        );
        // After a start (no lag known yet): up to a week after its last event a tenant is live;
        // past a week it is replaying history.
        assert_eq!(
            closed.due(at("2026-03-27T23:59:59+08:00"), after, china).map(|(d, _)| d),
            Some(day("2026-03-21T12:00:00+08:00"))
        );
        assert_eq!(closed.due(at("2026-03-28T00:00:01+08:00"), after, china), None);
    }

    #[test]
    fn every_route_is_in_the_openapi_document() {
        let doc: serde_json::Value = serde_json::from_str(super::OPENAPI).unwrap();
        let source = [include_str!("lib.rs"), include_str!("web/mod.rs")].concat();
        let mut routes = 0;
        for piece in source.split(".route(\"").skip(1) {
            let path = &piece[..piece.find('"').unwrap()];
            if path.starts_with("/console") || path == "/m" || path.starts_with("/m/") {
                continue; // Pages, not the API.
            }
            assert!(doc["paths"][path].is_object(), "{path} is served but not in openapi.json");
            routes += 1;
        }
        assert!(routes >= 20, "the routes were not found: {routes}");
        assert_eq!(doc["paths"].as_object().unwrap().len(), routes, "openapi.json lists a path not served");
    }
}
