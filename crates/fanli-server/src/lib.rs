//! fanli's server: the engine behind an HTTP JSON API, durable in SQLite or PostgreSQL.
//!
//! The master key creates tenants; a tenant's owner key sets its plan (refused with `fanli
//! check`'s findings when past a red line), posts events as JSON Lines (the same events as `fanli
//! run`, answered per line, only after the accepted ones are committed), makes keys with roles
//! and member tokens ([`auth`]), and reads its state (what `fanli run --json` prints for the same
//! plan and accepted events). The log is the audit chain's canonical lines, so `fanli audit
//! verify` checks it.
//!
//! Where things are: this file holds the state ([`App`]: tenants, keys, the store) and how it
//! opens (each tenant from its latest snapshot and the log after it), starts and serves; `api`
//! the routes and their handlers; `plans` the plan's versions and the amendments of a live
//! tenant; `writer` the one thread that applies requests and commits them together (group commit), the loading of a tenant and the snapshot thread; `schedule` the day
//! closes; [`store`] the SQL; [`cluster`] the leases of several nodes; [`audit`] the check of a
//! whole store that `fanli audit verify --data` runs; [`webhook`] the outbox's
//! deliverer; [`metrics`]; [`web`] the console and member pages. A request's key is checked in
//! the key table, which has a lock of its own; reads then take the state's lock; writes go
//! through the writer.

mod api;
pub mod audit;
pub mod auth;
pub mod cluster;
pub mod faults;
pub mod limits;
pub mod metrics;
pub mod perms;
mod plans;
mod schedule;
pub mod shutdown;
pub mod store;
pub mod transparency;
pub mod web;
pub mod webhook;
mod writer;

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
use axum::routing::{delete, get, post, put};
use fanli_engine::Engine;
use fanli_engine::Timestamp;
use fanli_format::chain::{Chain, sha256_hex};
use fanli_format::{EventLine, LineOutcome, parse_plan, state_json};
use serde_json::{Value, json};

use crate::auth::{Caller, Role};
use crate::store::{Store, StoredKey};
pub use api::router;
use api::*;
use plans::*;
use schedule::*;
pub use writer::FUTURE_TOLERANCE;
use writer::*;

/// The server's state: the store and every tenant's engine.
pub struct App {
    store: Store,
    /// The SHA-256 of the master key.
    master: String,
    tenants: HashMap<String, Tenant>,
    /// Key hash → the tenant and role it stands for: behind a lock of its own, shared with
    /// [`Server`], so that a request's key is checked without the state's lock (which the
    /// writer holds through a group commit).
    keys: Keys,
    /// The data directory (the webhook deliverer opens its own connection there).
    dir: std::path::PathBuf,
    /// The PostgreSQL URL, if the store is there (the other threads open their own connection).
    database: Option<String>,
    /// How the webhook deliverer retries.
    retry: webhook::Retry,
    /// How far ahead of the wall clock an event's `at` may be (`None`: any time, for replays of
    /// a synthetic history); see [`FUTURE_TOLERANCE`].
    future_tolerance: Option<std::time::Duration>,
    /// This node in a cluster of nodes on one PostgreSQL, if it joined one: then it serves only
    /// the tenants whose lease it holds.
    cluster: Option<cluster::Cluster>,
    /// The console's sessions, by their cookie's value.
    sessions: HashMap<String, web::console::Session>,
    /// The console's members page: each tenant's members by id, spend and wallet.
    member_orders: HashMap<String, web::console::MemberOrder>,
    /// A tenant's engine is snapshotted every this many events.
    snapshot_every: u64,
    /// The snapshot thread's queue, once the server runs.
    snapshots: Option<std::sync::mpsc::Sender<SnapshotJob>>,
    /// The number of the last group the writer applied to the engines with its store still to
    /// come (outside this lock): a request that locks the state while it is above
    /// [`Server::settled`] may see what is not stored yet, and its answer waits
    /// ([`api::durable`]). Changed only under this lock.
    applied: u64,
    /// In a cluster: the store's count of key revocations when this node last dropped the
    /// revoked keys from `keys` (see [`App::revoked_since`]).
    revocations: i64,
    /// The folder of the tenants' Ed25519 signing keys (`DATA/keys` unless given).
    signing_keys: std::path::PathBuf,
    /// How many writes and heavy reads may be in flight (issue 17).
    limits: limits::Limits,
    /// Tests only: commits made to fail at seeded random points ([`faults`]).
    faults: Option<faults::Faults>,
    /// The origin of the members' referral links and QR codes for tenants that set none
    /// (`None`: the request's `Host`).
    public_origin: Option<String>,
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
    /// The transparency log: the Merkle tree's frontier, the signing key, the latest signed head.
    log: transparency::TenantLog,
}

impl Tenant {
    /// Turns the engine's recording of postings and effects on: each member's history (the
    /// console and the member page) and the webhook's notifications are made of them. (The
    /// engine starts recording anyway; a replay turns it off for speed.)
    /// It also keeps the indexes that make one member's view cheap ([`Engine::index_places`]).
    fn record(&mut self) {
        if let Some(engine) = self.engine.as_mut() {
            engine.record(true);
            engine.index_places();
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
            log: Default::default(),
        }
    }
}

/// The key table: key hash → the tenant and role it stands for. Read by every request, written
/// only when a key is made, revoked or found in the store.
pub(crate) type Keys = Arc<std::sync::RwLock<HashMap<String, Caller>>>;

/// Reads the key table (a panic elsewhere leaves it as it was: every write is one insert or
/// removal).
pub(crate) fn read_keys(keys: &Keys) -> std::sync::RwLockReadGuard<'_, HashMap<String, Caller>> {
    keys.read().unwrap_or_else(|poisoned| poisoned.into_inner())
}

/// Writes the key table (see [`read_keys`]).
pub(crate) fn write_keys(keys: &Keys) -> std::sync::RwLockWriteGuard<'_, HashMap<String, Caller>> {
    keys.write().unwrap_or_else(|poisoned| poisoned.into_inner())
}

/// The server: its state, and the queue of the writer that applies and commits events.
pub struct Server {
    app: Mutex<App>,
    /// The key table, the same as the state's ([`App::keys`]): read without the state's lock.
    keys: Keys,
    /// Set when a clean stop begins: the scheduler ends its round.
    stopping: std::sync::atomic::AtomicBool,
    /// Set at a clean stop's last step, after the final commit: the leases' thread ends its
    /// round (it renews the leases until then, so that the final commit is still this node's).
    releasing: std::sync::atomic::AtomicBool,
    /// The threads a clean stop waits for: the snapshot thread (ends when its queue closes) and,
    /// in a cluster, the leases' thread.
    threads: Mutex<Threads>,
    jobs: std::sync::mpsc::Sender<Job>,
    metrics: metrics::Metrics,
    /// In a cluster: the reader of the store's revocation count.
    revocations: Option<Revocations>,
    /// The permits of the requests in flight ([`limits`]).
    gate: limits::Gate,
    /// In a cluster: the reader of keys this node has not seen (off the server's lock).
    key_reader: Option<cluster::KeyReader>,
    /// The join page's attempts, per address and per tenant ([`web::join`]).
    joins: web::join::Limiter,
    /// The number of the last group settled: stored (or failed and rolled back to the store)
    /// after [`App::applied`] numbered it. Answers held by [`api::durable`] wait on it.
    settled: tokio::sync::watch::Sender<u64>,
    /// The latest groups whose store failed (or lost a tenant's lease) after they were applied:
    /// a read that may have seen one is refused (`503`), not answered from a state never stored.
    failed: Mutex<std::collections::VecDeque<u64>>,
}

impl Server {
    /// Group `group` is settled: stored, or (`failed`) not, its tenants rebuilt from the store.
    /// Called by the writer under the state's lock.
    fn settle(&self, group: u64, failed: bool) {
        if failed {
            let mut groups = self.failed.lock().unwrap_or_else(|p| p.into_inner());
            groups.push_back(group);
            // Far more than the groups a request can see while it runs.
            if groups.len() > 1024 {
                groups.pop_front();
            }
        }
        self.settled.send_replace(group);
    }

    /// Whether a group numbered from `first` to `last` failed ([`Server::failed`]).
    fn failed_between(&self, first: u64, last: u64) -> bool {
        let groups = self.failed.lock().unwrap_or_else(|p| p.into_inner());
        // Older than the groups kept: assume the worst.
        groups.front().is_some_and(|&oldest| first < oldest && groups.len() >= 1024)
            || groups.iter().any(|g| (first..=last).contains(g))
    }
}

/// The threads a clean stop waits for ([`Server::threads`]).
#[derive(Default)]
struct Threads {
    snapshots: Option<std::thread::JoinHandle<()>>,
    leases: Option<std::thread::JoinHandle<()>>,
}

/// A request's wait for the store's count of key revocations.
type CountWanted = tokio::sync::oneshot::Sender<Result<i64, String>>;

/// In a cluster: a thread that reads the store's count of key revocations for the requests
/// waiting, once for all of them (a round trip to PostgreSQL per group, not per request). Each
/// request's count is read after the request asked, so no revocation committed before it
/// arrived is missed.
struct Revocations(std::sync::mpsc::Sender<CountWanted>);

impl Revocations {
    /// Starts the reader on a connection of its own (opened on its thread, as PostgreSQL's
    /// client must be), made again after a failure.
    fn start(dir: std::path::PathBuf, database: Option<String>) -> std::io::Result<Revocations> {
        let (sender, wanted) = std::sync::mpsc::channel::<CountWanted>();
        std::thread::Builder::new().name("fanli-revocations".to_owned()).spawn(move || {
            let mut store: Option<Store> = None;
            while let Ok(first) = wanted.recv() {
                let mut waiting = vec![first];
                while let Ok(more) = wanted.try_recv() {
                    waiting.push(more);
                }
                let count = match store.as_mut() {
                    Some(store) => store.revocations(),
                    None => Store::open(&dir, database.as_deref()).and_then(|mut opened| {
                        let count = opened.revocations();
                        store = Some(opened);
                        count
                    }),
                };
                if count.is_err() {
                    store = None;
                }
                let count = count.map_err(|e| e.to_string());
                for one in waiting {
                    let _ = one.send(count.clone());
                }
            }
        })?;
        Ok(Revocations(sender))
    }

    /// The store's count of revocations, read after this call began.
    async fn read(&self) -> Result<i64, ApiError> {
        let (sender, count) = tokio::sync::oneshot::channel();
        self.0.send(sender).map_err(|_| internal("the revocation reader has stopped"))?;
        count.await.map_err(|_| internal("the revocation reader dropped a request"))?.map_err(internal)
    }
}

/// A shared handle on the server.
pub type Shared = Arc<Server>;

impl Server {
    /// The server for `app`, with its writer thread started.
    pub fn start(mut app: App) -> Shared {
        app.sign_missing_heads();
        // The snapshot thread's own connection is opened on the thread: PostgreSQL's client
        // may not be created inside the server's runtime.
        let (sender, jobs) = std::sync::mpsc::channel();
        app.snapshots = Some(sender);
        let (dir, database) = (app.dir.clone(), app.database.clone());
        let snapshots = std::thread::Builder::new()
            .name("fanli-snapshots".to_owned())
            .spawn(move || match Store::open(&dir, database.as_deref()) {
                Ok(mut store) => snapshot_loop(&mut store, &jobs),
                Err(error) => {
                    tracing::error!(%error, "no snapshots: the store cannot be opened a second time")
                }
            })
            .expect("a thread starts");
        let mut checkpoints = None;
        if app.database.is_none() {
            // SQLite's checkpoints move off the writer's commits to a thread of their own.
            let (wake, woken) = std::sync::mpsc::sync_channel(1);
            let dir = app.dir.clone();
            // The state's connection checkpoints no more either: its few writes (keys, brands)
            // would otherwise copy the writer's whole log at their commits, under the lock.
            match app.store.become_writer() {
                Ok(()) => {
                    checkpoints = Some(wake);
                    std::thread::Builder::new()
                        .name("fanli-checkpoints".to_owned())
                        .spawn(move || checkpoint_loop(&dir, &woken))
                        .expect("a thread starts");
                }
                Err(error) => tracing::error!(%error, "SQLite's checkpoints stay in the commits"),
            }
        }
        // The writer's own connection, opened on its thread (as PostgreSQL's client must be),
        // with a cluster node's session settings.
        let session = app.cluster.as_ref().map(|node| cluster::store_settings(&node.node));
        let (dir, database) = (app.dir.clone(), app.database.clone());
        let open_writer = move || -> Option<Store> {
            let opened = Store::open(&dir, database.as_deref()).and_then(|mut store| {
                if let Some(sql) = &session {
                    store.session(sql)?;
                }
                store.become_writer()?;
                Ok(store)
            });
            opened
                .inspect_err(|error| {
                    tracing::error!(%error, "the writer has no connection of its own: it stores under the lock")
                })
                .ok()
        };
        let revocations = match &app.cluster {
            Some(_) => {
                Some(Revocations::start(app.dir.clone(), app.database.clone()).expect("a thread starts"))
            }
            None => None,
        };
        let clustered = app.cluster.is_some();
        let key_reader = match &app.cluster {
            Some(node) => Some(
                cluster::KeyReader::start(
                    app.dir.clone(),
                    app.database.clone().unwrap_or_default(),
                    node.node.clone(),
                )
                .expect("a thread starts"),
            ),
            None => None,
        };
        let (jobs, queue) = std::sync::mpsc::channel();
        let gate = limits::Gate::new(app.limits);
        let server = Arc::new(Server {
            gate,
            keys: Arc::clone(&app.keys),
            stopping: Default::default(),
            releasing: Default::default(),
            threads: Mutex::new(Threads { snapshots: Some(snapshots), leases: None }),
            app: Mutex::new(app),
            jobs,
            metrics: metrics::Metrics::default(),
            revocations,
            key_reader,
            joins: web::join::Limiter::default(),
            settled: tokio::sync::watch::Sender::new(0),
            failed: Mutex::default(),
        });
        let writer = Arc::clone(&server);
        std::thread::Builder::new()
            .name("fanli-writer".to_owned())
            .spawn(move || {
                let store = open_writer();
                write_loop(&writer, &queue, store, open_writer, checkpoints)
            })
            .expect("a thread starts");
        if clustered {
            // In a cluster: the leases' thread (renewals, fencing, take-overs, fair shares).
            let leaser = Arc::clone(&server);
            let leases = std::thread::Builder::new()
                .name("fanli-leases".to_owned())
                .spawn(move || cluster::run(&leaser))
                .expect("a thread starts");
            server.threads.lock().unwrap_or_else(|p| p.into_inner()).leases = Some(leases);
        }
        server
    }
}

/// How often, at most, SQLite's write-ahead log is copied into the database file while writes
/// go on: each checkpoint costs an fsync of the database file, off the writer's path but on the
/// same disk as its commits' fsyncs (`xtask load`: a second between them made 54,900–58,000
/// events/s, 250 ms 50,000–56,600, 5 s 52,700–55,300; BENCHMARKS.md). At 60,000 events a
/// second the log grows by some 20 MB between checkpoints.
const CHECKPOINT_EVERY: std::time::Duration = std::time::Duration::from_secs(1);

/// SQLite: the checkpoint thread. Woken by the writer after its commits, it copies the
/// write-ahead log into the database file (a passive checkpoint, on a connection of its own),
/// then rests [`CHECKPOINT_EVERY`]; it ends with the writer. Until a checkpoint, what a commit
/// wrote is durable in the log: a crash loses nothing, the next open replays it.
fn checkpoint_loop(dir: &Path, woken: &std::sync::mpsc::Receiver<()>) {
    let mut store = None;
    while woken.recv().is_ok() {
        if store.is_none() {
            store = Store::open(dir, None)
                .inspect_err(|error| tracing::error!(%error, "the checkpoint thread cannot open the store"))
                .ok();
        }
        if let Some(opened) = store.as_mut()
            && let Err(error) = opened.checkpoint()
        {
            tracing::warn!(%error, "a checkpoint of SQLite's log failed; tried again after the next commit");
            store = None;
        }
        std::thread::sleep(CHECKPOINT_EVERY);
    }
}

/// An API error: status, a stable code and a message, sent as `{"error": {"code", "message"}}`;
/// an internal error's (see [`internal`]) with its `"id"` too.
#[derive(Clone, Debug)]
pub struct ApiError(StatusCode, &'static str, String);

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let mut error = json!({"code": self.1, "message": self.2});
        if let Some(id) = self.internal_id() {
            error["id"] = id.into();
        }
        let mut response = (self.0, axum::Json(json!({ "error": error }))).into_response();
        if self.1 == "unavailable" {
            // Between nodes: a retry in a second finds the tenant served again.
            response.headers_mut().insert(header::RETRY_AFTER, header::HeaderValue::from_static("1"));
        }
        response
    }
}

/// How an internal error's message starts; its id follows.
const INTERNAL: &str = "an internal error; its id is ";

impl ApiError {
    /// `500` for the internal error logged under `id`: the message names the id and nothing
    /// else (the pages, which show an error's message, show no more).
    fn internal_with_id(id: &str) -> ApiError {
        ApiError(StatusCode::INTERNAL_SERVER_ERROR, "internal", format!("{INTERNAL}{id}"))
    }

    /// The id of an internal error, which its message carries.
    fn internal_id(&self) -> Option<&str> {
        if self.1 != "internal" {
            return None;
        }
        self.2.strip_prefix(INTERNAL)
    }
}

/// `503`: the tenant is between nodes; retry in a second.
fn unavailable(tenant: &str) -> ApiError {
    let message = format!("tenant `{tenant}` is being taken over by another node: retry in a second");
    ApiError(StatusCode::SERVICE_UNAVAILABLE, "unavailable", message)
}

/// `500`: something went wrong inside the server (the store, the writer, a thread). What went
/// wrong is logged with a fresh id; the client gets the id, never the internal text (a store's
/// error can quote another tenant's data, and says how the server is built).
fn internal(e: impl std::fmt::Display) -> ApiError {
    let id = error_id();
    tracing::error!(%id, error = %e, "internal error");
    ApiError::internal_with_id(&id)
}

/// A fresh id for an internal error: 16 hex digits, random (from the wall clock if the system
/// has no randomness to give, which still tells one error from another).
fn error_id() -> String {
    let mut bytes = [0u8; 8];
    if getrandom::fill(&mut bytes).is_err() {
        bytes = (wall_now() as u64).to_be_bytes();
    }
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// Why the server's state could not be opened ([`App::open`]).
#[derive(Debug, thiserror::Error)]
pub enum OpenError {
    /// The data directory could not be made.
    #[error("cannot create {}: {source}", .dir.display())]
    CreateDir {
        /// The directory.
        dir: std::path::PathBuf,
        /// Why.
        source: std::io::Error,
    },
    /// The SQLite store in the directory could not be opened.
    #[error("cannot open the store in {}: {source}", .dir.display())]
    OpenSqlite {
        /// The data directory.
        dir: std::path::PathBuf,
        /// Why.
        source: store::StoreError,
    },
    /// The PostgreSQL store could not be opened.
    #[error("cannot open the PostgreSQL store: {0}")]
    OpenPostgres(store::StoreError),
    /// A node could not join the cluster (its lock connection).
    #[error("cannot join the cluster: {0}")]
    Cluster(store::StoreError),
    /// The store was made with another master key.
    #[error("this data directory was created with another master key")]
    OtherMasterKey,
    /// A read of the store failed.
    #[error(transparent)]
    Store(#[from] store::StoreError),
    /// A tenant could not be rebuilt.
    #[error("tenant {tenant}: {error}")]
    Tenant {
        /// Its id.
        tenant: String,
        /// Why.
        error: TenantError,
    },
    /// A stored key has a role this server does not know.
    #[error("a key of {0} has a bad role")]
    BadRole(String),
}

/// Why a tenant could not be rebuilt from the store (at a start, a take-over, or after a failed
/// commit).
#[derive(Debug, thiserror::Error)]
pub enum TenantError {
    /// Its stored plan no longer parses.
    #[error("stored plan: {0}")]
    Plan(fanli_format::PlanErrors),
    /// A line of its log no longer applies (or could not be read).
    #[error("its log's line {line} no longer applies: {reason}")]
    Log {
        /// The line, from 1.
        line: u64,
        /// Why: the refusal's message, or what the database said.
        reason: String,
    },
    /// The store failed (its lease, its brands and webhook).
    #[error(transparent)]
    Store(#[from] store::StoreError),
    /// It is no longer in the store.
    #[error("gone")]
    Gone,
}

impl App {
    /// Opens the SQLite store in `dir` and rebuilds every tenant (see [`App::open_with`]).
    pub fn open(dir: &Path, master_key: &str) -> Result<App, OpenError> {
        App::open_with(dir, None, master_key)
    }

    /// Opens the store (SQLite in `dir`, or PostgreSQL at the `database` URL, with snapshot
    /// files in `dir`) and rebuilds every tenant from its latest snapshot and its log.
    /// `master_key` is the key that may create tenants: given the first time, its hash is kept;
    /// later it must match.
    pub fn open_with(dir: &Path, database: Option<&str>, master_key: &str) -> Result<App, OpenError> {
        App::open_inner(dir, database, master_key, None)
    }

    /// Opens the PostgreSQL store at `database` as a node of a cluster serving at `address`
    /// (`http://host:port`, where the other nodes forward this node's tenants' requests): it
    /// rebuilds no tenant here; once it serves, its leases' thread takes its fair share of
    /// them (see [`cluster`]).
    pub fn open_node(dir: &Path, database: &str, master_key: &str, address: &str) -> Result<App, OpenError> {
        // The tables first (made by the first store opened), then what the leases add to them.
        std::fs::create_dir_all(dir)
            .map_err(|source| OpenError::CreateDir { dir: dir.to_owned(), source })?;
        Store::open(dir, Some(database)).map_err(OpenError::OpenPostgres)?;
        let node = cluster::Cluster::join(database, address).map_err(OpenError::Cluster)?;
        App::open_inner(dir, Some(database), master_key, Some(node))
    }

    fn open_inner(
        dir: &Path,
        database: Option<&str>,
        master_key: &str,
        cluster: Option<cluster::Cluster>,
    ) -> Result<App, OpenError> {
        let started = std::time::Instant::now();
        // The folder and its files are the owner's alone; SQLite's file made 0600 before
        // SQLite opens it (its journal files take its mode).
        perms::private_dir(dir)
            .and_then(|()| match database {
                None => perms::create_file(&dir.join("fanli.sqlite3"), false).map(drop),
                Some(_) => Ok(()),
            })
            .map_err(|source| OpenError::CreateDir { dir: dir.to_owned(), source })?;
        let mut store = Store::open(dir, database).map_err(|source| match database {
            None => OpenError::OpenSqlite { dir: dir.to_owned(), source },
            Some(_) => OpenError::OpenPostgres(source),
        })?;
        let master = sha256_hex(master_key.as_bytes());
        match store.setting("master_key_hash")? {
            Some(kept) if !same(&kept, &master) => return Err(OpenError::OtherMasterKey),
            Some(_) => {}
            None => store.set_setting("master_key_hash", &master)?,
        }
        let mut app = App {
            store,
            master,
            tenants: HashMap::new(),
            keys: Keys::default(),
            dir: dir.to_owned(),
            database: database.map(str::to_owned),
            retry: webhook::Retry::default(),
            future_tolerance: Some(writer::FUTURE_TOLERANCE),
            snapshot_every: 500_000,
            snapshots: None,
            applied: 0,
            sessions: HashMap::new(),
            member_orders: HashMap::new(),
            cluster,
            revocations: 0,
            signing_keys: dir.join("keys"),
            limits: limits::Limits::default(),
            faults: None,
            public_origin: None,
        };
        if let Some(node) = &app.cluster {
            app.store.session(&cluster::store_settings(&node.node))?;
            app.revocations = app.store.revocations()?;
        }
        for stored in app.store.load()? {
            let mut tenant = Tenant::new();
            let failed = |error: TenantError| OpenError::Tenant { tenant: stored.id.clone(), error };
            if app.cluster.is_some() {
                // The leases' thread takes this node's fair share once it serves.
                continue;
            }
            if let Some(text) = &stored.plan {
                let (engine, chain, days, snapshot) =
                    load_tenant(&mut app.store, &stored.id, text).map_err(failed)?;
                tenant.log = transparency::load(&mut app.store, &stored.id, chain.len())
                    .map_err(|e| failed(e.into()))?;
                tenant.engine = Some(engine);
                tenant.chain = chain;
                tenant.days = days;
                tenant.snapshot_line = snapshot;
                tenant.plan = Some(text.clone());
                tenant.record();
            }
            app.tenants.insert(stored.id, tenant);
        }
        // Every live key, the owners' among them; a revoked one is not read.
        for key in app.store.keys()? {
            let role = Role::from_parts(&key.role, key.scope)
                .ok_or_else(|| OpenError::BadRole(key.tenant.clone()))?;
            write_keys(&app.keys).insert(key.hash, Caller { tenant: key.tenant, role, key: key.id });
        }
        let (brands, stores) = app.store.brands()?;
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
        for (tenant, url, _) in app.store.webhooks()? {
            if let Some(t) = app.tenants.get_mut(&tenant) {
                t.webhook = Some(url);
                t.record();
            }
        }
        let events: u64 = app.tenants.values().map(|t| t.chain.len()).sum();
        tracing::info!(tenants = app.tenants.len(), events, elapsed = ?started.elapsed(), "state rebuilt from the store");
        Ok(app)
    }

    /// Signs the head of each tenant whose store has none of its log's size.
    fn sign_missing_heads(&mut self) {
        for (id, tenant) in &mut self.tenants {
            if tenant.engine.is_some()
                && let Err(error) =
                    transparency::sign_missing(&mut self.store, &self.signing_keys, id, &mut tenant.log)
            {
                tracing::error!(tenant = %id, %error, "the tenant's tree head could not be signed");
            }
        }
    }

    /// Keeps the tenants' signing keys in `dir` instead of `DATA/keys` (call it before
    /// [`App::start`], which signs the heads a start found missing).
    pub fn signing_keys(mut self, dir: &Path) -> App {
        self.signing_keys = dir.to_owned();
        self
    }

    /// Sets how many events a tenant's log grows between snapshots (500,000 by default: a
    /// start replays at most about that many lines per tenant after its snapshot).
    pub fn snapshot_every(mut self, events: u64) -> App {
        self.snapshot_every = events.max(1);
        self
    }

    /// Sets how many writes and heavy reads may be in flight; past them a request is answered
    /// `503 overloaded` at once (see [`limits`]).
    pub fn limits(mut self, limits: limits::Limits) -> App {
        self.limits = limits;
        self
    }

    /// For tests: makes group commits fail at the points `faults` picks, as a full disk would
    /// (see [`faults`]).
    pub fn inject_faults(mut self, faults: faults::Faults) -> App {
        tracing::warn!(?faults, "faults are injected: some commits will fail on purpose");
        self.faults = Some(faults);
        self
    }

    /// Sets the origin (`https://shop.example.com`) of the members' referral links and QR codes
    /// for the tenants that set none with `PUT /v1/settings`; without it, a link starts with the
    /// request's `Host` (and `https` behind a proxy that says so). Refused unless it is a scheme
    /// and a host ([`web::check_origin`]).
    pub fn public_origin(mut self, origin: &str) -> Result<App, String> {
        self.public_origin = Some(web::check_origin(origin)?);
        Ok(self)
    }

    /// Sets the webhook deliverer's first retry delay (1 s by default; it doubles up to an hour).
    pub fn webhook_retry(mut self, delay: std::time::Duration) -> App {
        self.retry.base = delay;
        self
    }

    /// Sets how the webhook deliverer retries: delays, attempts before a dead letter, the
    /// jitter's seed (see [`webhook::Retry`]).
    pub fn webhook_retry_policy(mut self, retry: webhook::Retry) -> App {
        self.retry = retry;
        self
    }

    /// Sets how far ahead of the server's wall clock an event's `at` may be
    /// ([`FUTURE_TOLERANCE`] by default); `None` takes any time, for a tool replaying a
    /// synthetic history stamped ahead of today (the load benchmark's year).
    pub fn future_tolerance(mut self, tolerance: Option<std::time::Duration>) -> App {
        self.future_tolerance = tolerance;
        self
    }

    /// The tenant and role of the key this request bears (the store asked, in a cluster, for
    /// a key this node has not seen), if this node serves its tenant.
    fn caller(&mut self, headers: &HeaderMap) -> Result<Caller, ApiError> {
        let key = bearer(headers)?;
        let hash = sha256_hex(key.as_bytes());
        // The map is keyed by the hash of the key: a lookup leaks nothing about a key's prefix.
        let known = read_keys(&self.keys).get(&hash).cloned();
        let known = match known {
            Some(caller) => Some(caller),
            // In a cluster, a key may have been made on another node.
            None if self.cluster.is_some() => blocking(|| self.store.find_key(&hash))
                .map_err(internal)?
                .and_then(|key| {
                    let role = Role::from_parts(&key.role, key.scope)?;
                    Some(Caller { tenant: key.tenant, role, key: key.id })
                })
                .inspect(|caller| {
                    write_keys(&self.keys).insert(hash, caller.clone());
                }),
            None => None,
        };
        let caller = known.ok_or_else(unknown_key)?;
        self.serves(&caller)?;
        Ok(caller)
    }

    /// `503` unless this node serves the caller's tenant: another node's (the router forwards
    /// there first; this is the race after it), or this node could not renew its leases in time
    /// (fenced).
    fn serves(&self, caller: &Caller) -> Result<(), ApiError> {
        if !self.tenants.contains_key(&caller.tenant) || self.cluster.as_ref().is_some_and(|c| !c.valid()) {
            return Err(unavailable(&caller.tenant));
        }
        Ok(())
    }

    /// In a cluster, before a request is let in: when the store has counted revocations since
    /// this node last looked (`count`, read after the request arrived), drops every revoked key
    /// from the key map and every console session opened with one, so that no key revoked on
    /// another node is trusted here.
    fn revoked_since(&mut self, count: i64) -> Result<(), ApiError> {
        if count <= self.revocations {
            return Ok(());
        }
        let revoked = blocking(|| self.store.revoked_keys()).map_err(internal)?;
        for (hash, _, id) in &revoked {
            write_keys(&self.keys).remove(hash);
            self.sessions.retain(|_, session| session.key() != id);
        }
        tracing::info!(revocations = count, keys = revoked.len(), "revoked keys dropped");
        self.revocations = count;
        Ok(())
    }

    /// Forgets a key revoked here: its requests are refused from now on, and the console
    /// sessions it opened end.
    fn forget_key(&mut self, hash: &str, id: &str) {
        write_keys(&self.keys).remove(hash);
        self.sessions.retain(|_, session| session.key() != id);
    }

    /// In a cluster: takes the tenant's lease if no node holds a live one, with the new epoch;
    /// `None` when another node serves it.
    fn lease(&mut self, tenant: &str) -> Result<Option<i64>, store::StoreError> {
        match self.cluster.as_mut() {
            Some(node) => node.take(tenant),
            None => Ok(None),
        }
    }
}

/// A tenant this node just took the lease of, at `epoch`, rebuilt from its snapshot and log
/// (on the leases' thread's own connection, off the server's lock).
fn load_taken(store: &mut Store, keys: &Path, id: &str, epoch: i64) -> Result<Tenant, TenantError> {
    let started = std::time::Instant::now();
    let stored = store.load_one(id)?.ok_or(TenantError::Gone)?;
    let mut tenant = Tenant::new();
    tenant.epoch = Some(epoch);
    if let Some(text) = &stored.plan {
        let (engine, chain, days, snapshot) = load_tenant(store, id, text)?;
        tenant.log = transparency::load(store, id, chain.len())?;
        transparency::sign_missing(store, keys, id, &mut tenant.log)?;
        tenant.engine = Some(engine);
        tenant.chain = chain;
        tenant.days = days;
        tenant.snapshot_line = snapshot;
        tenant.plan = Some(text.clone());
    }
    let (brands, stores, webhook) = store.tenant_extras(id)?;
    tenant.brands = brands.into_iter().collect();
    tenant.store_brand = stores.into_iter().collect();
    tenant.webhook = webhook;
    tenant.record();
    tracing::info!(tenant = id, epoch, lines = tenant.chain.len(), elapsed = ?started.elapsed(), "tenant taken over");
    Ok(tenant)
}

/// The bearer token of a request (the scheme's name in any case, as HTTP has it).
fn bearer(headers: &HeaderMap) -> Result<&str, ApiError> {
    headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.split_once(' '))
        .and_then(|(scheme, token)| scheme.eq_ignore_ascii_case("bearer").then(|| token.trim_start()))
        .ok_or_else(|| {
            ApiError(
                StatusCode::UNAUTHORIZED,
                "unauthorized",
                "an `Authorization: Bearer KEY` header is needed".to_owned(),
            )
        })
}

/// `401`: no key of this server.
fn unknown_key() -> ApiError {
    ApiError(StatusCode::UNAUTHORIZED, "unauthorized", "unknown key".to_owned())
}

impl Server {
    /// The caller of the request's key as the key table knows it, read without the state's
    /// lock: `Ok(None)` for a key the table does not hold (in a cluster, the store may know it).
    fn known_caller(&self, headers: &HeaderMap) -> Result<Option<Caller>, ApiError> {
        let hash = sha256_hex(bearer(headers)?.as_bytes());
        Ok(read_keys(&self.keys).get(&hash).cloned())
    }
}

/// Equal strings, compared in constant time.
fn same(a: &str, b: &str) -> bool {
    a.len() == b.len() && a.bytes().zip(b.bytes()).fold(0, |acc, (x, y)| acc | (x ^ y)) == 0
}

/// Serves `app` on `addr` until SIGTERM or Ctrl-C, on a runtime of its own (for callers that
/// are not async, like the command line); then stops cleanly (see [`serve_until`]).
pub fn serve_blocking(app: App, addr: SocketAddr) -> std::io::Result<()> {
    tokio::runtime::Builder::new_multi_thread().enable_all().build()?.block_on(async {
        serve_until(app, tokio::net::TcpListener::bind(addr).await?, shutdown::signalled()).await
    })
}

/// [`serve_blocking`] on a listener the caller has bound already (say on port 0, having read
/// the port back): no gap between choosing the address and listening on it. It serves until
/// the process ends (no signal is caught: tests run several servers in one process).
pub fn serve_blocking_on(app: App, listener: std::net::TcpListener) -> std::io::Result<()> {
    tokio::runtime::Builder::new_multi_thread().enable_all().build()?.block_on(async {
        listener.set_nonblocking(true)?;
        serve_on(app, tokio::net::TcpListener::from_std(listener)?).await
    })
}

/// Serves `app` on `addr` until the process ends.
pub async fn serve(app: App, addr: SocketAddr) -> std::io::Result<()> {
    serve_on(app, tokio::net::TcpListener::bind(addr).await?).await
}

/// Serves `app` on a listener already bound, until the process ends: the API and pages, with
/// the writer, snapshot, webhook and scheduler threads. (Without a socket, [`router`] over
/// [`Server::start`] answers requests in-process, with the writer and snapshot threads only.)
pub async fn serve_on(app: App, listener: tokio::net::TcpListener) -> std::io::Result<()> {
    serve_until(app, listener, std::future::pending()).await
}

/// [`serve_on`] until `stop` resolves; then a clean stop (see [`shutdown`]): no new connection
/// is accepted, the requests in flight are answered (for at most 10 s), the scheduler finishes
/// the day close it is making, the writer commits what it still holds, the snapshot thread
/// stores the snapshots handed to it, the webhook deliverer stops between two deliveries, a
/// node of a cluster lets its leases go (for the other nodes to take at once), and the log
/// says the server stopped.
pub async fn serve_until(
    app: App,
    listener: tokio::net::TcpListener,
    stop: impl std::future::Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    let addr = listener.local_addr()?;
    tracing::info!(%addr, "serving");
    let deliveries = shutdown::Deliveries::start(&app)?;
    let server = Server::start(app);
    let scheduler = Arc::clone(&server);
    let scheduler = std::thread::Builder::new()
        .name("fanli-scheduler".to_owned())
        .spawn(move || schedule::run(&scheduler))?;
    let (stopping, mut stopped) = tokio::sync::oneshot::channel::<()>();
    let signal = async move {
        stop.await;
        let _ = stopping.send(());
    };
    let app = router(Arc::clone(&server));
    // With each connection's peer address: the join page bounds attempts per address.
    let app = app.into_make_service_with_connect_info::<SocketAddr>();
    let mut serving = tokio::spawn(axum::serve(listener, app).with_graceful_shutdown(signal).into_future());
    let ended = tokio::select! {
        biased;
        Ok(()) = &mut stopped => tokio::time::timeout(shutdown::GRACE, &mut serving).await.ok(),
        ended = &mut serving => {
            // With no connection open, the serving ends as soon as it is told to stop, on
            // another thread: it may do so between the poll of `stopped` above and its own,
            // and then the stop is there to read now. Only a serving that ended on its own (an
            // error; the sender dropped unsent) returns here, without the steps below.
            if stopped.try_recv().is_err() {
                return ended.map_err(std::io::Error::other)?;
            }
            Some(ended)
        }
    };
    match ended {
        Some(ended) => ended.map_err(std::io::Error::other)??,
        None => tracing::warn!("requests still in flight after 10 s: stopping without them"),
    }
    server.stopping.store(true, Ordering::Relaxed);
    tokio::task::spawn_blocking(move || shutdown::join("scheduler", scheduler))
        .await
        .map_err(std::io::Error::other)?;
    shutdown::drain_writer(&server).await;
    let stopping = Arc::clone(&server);
    tokio::task::spawn_blocking(move || {
        shutdown::stop_snapshots(&stopping);
        deliveries.stop();
        shutdown::release_leases(&stopping);
    })
    .await
    .map_err(std::io::Error::other)?;
    tracing::info!(%addr, "stopped");
    Ok(())
}

/// Runs `f`, which calls the store, from a request's task. PostgreSQL's client drives a runtime
/// of its own, which cannot be entered from the server's; `block_in_place` steps out of it
/// (and tells the runtime this worker blocks for a while).
fn blocking<T>(f: impl FnOnce() -> T) -> T {
    tokio::task::block_in_place(f)
}

/// The state's lock, for a request: what it may see of a group not stored yet is noted, and
/// its answer waits for that group ([`api::durable`]).
fn lock(server: &Server) -> std::sync::MutexGuard<'_, App> {
    let app = server.app.lock().unwrap_or_else(|poisoned| poisoned.into_inner());
    durable::saw(app.applied, *server.settled.borrow());
    app
}

/// Why a plan was not put.
pub(crate) enum PlanRefused {
    /// `fanli check` found errors: its findings.
    Findings(Checked),
    /// Not a plan, or not now.
    Error(ApiError),
}

impl App {
    /// Puts `text` as the tenant's plan for the key `by`: parsed, checked (refused with the
    /// findings when past a red line), stored as a new version naming `by`, and in force from
    /// now on. Returns the version and the warnings. Refused once events were applied: a plan
    /// put then is an amendment, recorded in the log ([`plans::amend`]).
    pub(crate) fn set_plan(
        &mut self,
        id: &str,
        text: String,
        by: &str,
    ) -> Result<(i64, Checked), PlanRefused> {
        let (plan, lines) = fanli_format::parse_plan_lines(&text).map_err(|errors| {
            PlanRefused::Error(ApiError(StatusCode::UNPROCESSABLE_ENTITY, "invalid_plan", errors.to_string()))
        })?;
        let checked = Checked::of(&plan, lines);
        if checked.refused() {
            return Err(PlanRefused::Findings(checked));
        }
        if !self.tenants[id].chain.is_empty() {
            return Err(PlanRefused::Error(ApiError(
                StatusCode::CONFLICT,
                "plan_in_use",
                "events were applied under the current plan: record an amendment instead".to_owned(),
            )));
        }
        let version = blocking(|| self.store.add_plan(id, &text, Some(by)))
            .map_err(|e| PlanRefused::Error(internal(e)))?;
        let tenant = self.tenants.get_mut(id).expect("known");
        tenant.engine = Some(Engine::new(plan));
        tenant.plan = Some(text);
        tenant.record();
        Ok((version, checked))
    }
}

/// A plan's compliance findings (`fanli check`), and the lines of the keys they name.
pub(crate) struct Checked {
    /// The plan's name.
    pub(crate) plan: String,
    /// Errors and warnings, in the order `fanli check` lists them.
    pub(crate) findings: Vec<fanli_engine::compliance::Finding>,
    /// Where each key of the plan is.
    pub(crate) lines: fanli_format::KeyLines,
}

impl Checked {
    /// Checks `plan`, whose keys are at `lines`.
    pub(crate) fn of(plan: &fanli_engine::Plan, lines: fanli_format::KeyLines) -> Checked {
        Checked { plan: plan.name.clone(), findings: fanli_engine::compliance::check(plan), lines }
    }

    /// Whether a finding is past a red line, so that the plan is refused.
    pub(crate) fn refused(&self) -> bool {
        fanli_engine::compliance::refused(&self.findings)
    }

    /// The findings as `fanli check --json` lists them (its `findings`), for the API.
    pub(crate) fn json(&self) -> Value {
        fanli_format::findings_json(&self.plan, &self.findings, &self.lines)["findings"].clone()
    }
}

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

/// One member as the state document has them under `members`: `{ID: {...}}` (`{}` if it could
/// not be written, which writing to memory never fails to do).
fn member_value(engine: &Engine, member: fanli_engine::MemberId) -> Value {
    let mut bytes = Vec::new();
    fanli_format::member_json(engine, member, &mut bytes)
        .ok()
        .and_then(|()| serde_json::from_slice(&bytes).ok())
        .unwrap_or_else(|| json!({}))
}

/// A new random key: 32 bytes from the operating system, in hex.
fn new_key() -> Result<String, getrandom::Error> {
    let mut bytes = [0u8; 32];
    getrandom::fill(&mut bytes)?;
    Ok(bytes.iter().map(|b| format!("{b:02x}")).collect())
}

/// A new master key, for a first start without one.
pub fn generate_master_key() -> Result<String, getrandom::Error> {
    new_key()
}
