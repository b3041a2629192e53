//! Several nodes on one PostgreSQL: each tenant is served by one node at a time.
//!
//! A node that joins the cluster (`fanli serve --database URL`, see [`crate::App::open_node`])
//! serves the tenants whose lease it holds. A lease (`leases` table) names the node, the address
//! it serves on, an epoch and when it expires (`expires_at`, milliseconds on the database's
//! clock). Every [`TICK`] a thread of the node's own ([`run`], on a connection of its own whose
//! statements give up after [`STATEMENT_TIMEOUT`]) renews the node's leases for [`TERM`] and
//! says the node is alive (`nodes` table). The database work is done first, off the server's
//! lock; the lock is then taken only to apply what was found.
//!
//! - A node that cannot renew (its database connection cut, its process paused, the database
//!   slow) stops serving its tenants [`MARGIN`] before its last renewal runs out: it answers
//!   `503` for them, and drops them at its next tick (fenced).
//! - A lease not renewed past its expiry is taken by another node: the epoch goes one up and the
//!   node rebuilds the tenant from its snapshot and log, on a thread of its own (at most
//!   [`BUILDS`] at once) while the lease thread goes on renewing, and serves it as soon as it is
//!   rebuilt. Takeover takes at most `TERM + TICK` plus the rebuild after the owner's last
//!   renewal (4 s and the rebuild, with the defaults), and a lock wait when the owner was
//!   paused mid-commit.
//! - The epoch is the fence: every append checks, in its transaction, that the lease still
//!   names this node at the epoch it took, so a node that lost its lease cannot write after the
//!   new owner, even if it does not know yet that it lost it.
//! - Fair shares: a node under its share, `ceil(tenants / live nodes)`, takes expired leases at
//!   once; any node takes one expired for more than a [`TICK`] (so that no tenant is left
//!   unserved while the nodes' counts disagree), and one it let go itself after `2 × TERM`; a
//!   node serving more than its share lets its oldest tenant go, one a tick, so that a node that
//!   (re)starts gets its share back.
//!
//! A request reaching a node that does not serve its tenant is forwarded to the node that does
//! (see `api::to_owner`), or answered `503` with `Retry-After: 1` while the tenant is between
//! nodes or its node cannot be reached (nothing applied); `502` when the request was sent to
//! that node and no answer came back (it may have been applied: a retry of an order or a join
//! is refused as a repeat if it was).

use std::collections::HashMap;
use std::time::{Duration, Instant};

use crate::store::{Store, StoreError};

/// How long a lease lasts after its renewal.
pub const TERM: Duration = Duration::from_secs(3);
/// How often leases are renewed and expired ones taken.
pub const TICK: Duration = Duration::from_secs(1);
/// How long before its lease runs out a node that could not renew stops serving.
pub const MARGIN: Duration = Duration::from_millis(500);
/// How long a lease or claim statement may wait for a lock, and run.
pub const LOCK_TIMEOUT: Duration = Duration::from_secs(1);
/// See [`LOCK_TIMEOUT`].
pub const STATEMENT_TIMEOUT: Duration = Duration::from_secs(2);

/// The database's clock, in milliseconds since 1970 (every node reads the same clock).
const NOW: &str = "(extract(epoch from clock_timestamp()) * 1000)::bigint";

/// Whether the node `{node}` (an SQL expression) has a connection to the database: a node whose
/// process died has none (the database closes them at once), nor one whose connections were
/// terminated. Its leases need not wait for their expiry then.
fn connected(node: &str) -> String {
    format!("EXISTS (SELECT 1 FROM pg_stat_activity WHERE application_name = 'fanli-node-' || {node})")
}

/// This node in the cluster.
pub struct Cluster {
    /// This node's id: random, new at every start.
    pub node: String,
    /// Where the other nodes send requests for this node's tenants (`http://host:port`).
    pub address: String,
    /// The database's URL.
    url: String,
    /// A connection for the leases the server takes itself (a tenant it creates).
    client: postgres::Client,
    /// Until when this node's leases are surely its own (its last renewal, less [`MARGIN`]).
    pub(crate) valid_until: Instant,
    /// Every tenant's lease as the last tick read it: the owner's address, if the lease is
    /// live and another node's.
    pub(crate) owners: HashMap<String, Option<String>>,
    /// When this node took the leases it took itself (a tenant it created): a tick that renewed
    /// before then does not count them lost.
    fresh: HashMap<String, Instant>,
}

/// A connection for lease statements: named after the node (so that an operator, or a test,
/// can find it in `pg_stat_activity`), with lock and statement timeouts.
pub(crate) fn connect(url: &str, node: &str) -> Result<postgres::Client, StoreError> {
    let mut config: postgres::Config = url.parse()?;
    let options = format!(
        "{} -c lock_timeout={} -c statement_timeout={}",
        config.get_options().unwrap_or_default(),
        LOCK_TIMEOUT.as_millis(),
        STATEMENT_TIMEOUT.as_millis()
    );
    config
        .options(options.trim())
        .application_name(&application_name(node))
        .connect_timeout(STATEMENT_TIMEOUT);
    Ok(config.connect(postgres::NoTls)?)
}

/// The `application_name` of a node's connections.
pub fn application_name(node: &str) -> String {
    format!("fanli-node-{node}")
}

/// The settings of a node's store connections: its name; a transaction left idle (its process
/// paused or cut off mid-commit) is ended by the database after the lease term, so that the
/// lease rows it locked do not keep the other nodes from its tenants for longer; and a commit
/// waits at most [`STATEMENT_TIMEOUT`] for a row lock (the writer waits under the server's lock).
pub(crate) fn store_settings(node: &str) -> String {
    format!(
        "SET application_name = '{}'; SET idle_in_transaction_session_timeout = {}; SET lock_timeout = {}",
        application_name(node),
        TERM.as_millis(),
        STATEMENT_TIMEOUT.as_millis()
    )
}

impl Cluster {
    /// Joins the cluster on the database at `url` as a new node serving at `address`: adds what
    /// leases need to the tables (in a transaction holding the schema's lock, as the store's
    /// creation does).
    pub fn join(url: &str, address: &str) -> Result<Cluster, StoreError> {
        let node = crate::new_key().map_err(|e| StoreError::Io(std::io::Error::other(e.to_string())))?[..16]
            .to_owned();
        let mut client = connect(url, &node)?;
        client.batch_execute(
            "BEGIN; SELECT pg_advisory_xact_lock(7460);
             ALTER TABLE leases ADD COLUMN IF NOT EXISTS expires_at BIGINT;
             CREATE TABLE IF NOT EXISTS nodes (node TEXT PRIMARY KEY, address TEXT NOT NULL,
                 expires_at BIGINT NOT NULL);
             COMMIT",
        )?;
        Ok(Cluster {
            node,
            address: address.to_owned(),
            url: url.to_owned(),
            client,
            valid_until: Instant::now() + TERM - MARGIN,
            owners: HashMap::new(),
            fresh: HashMap::new(),
        })
    }

    /// Whether this node's leases are still surely its own.
    pub(crate) fn valid(&self) -> bool {
        Instant::now() < self.valid_until
    }

    /// Lets every lease of this node go (they expire now) and says it is no longer alive
    /// (a clean stop's last step, [`crate::shutdown`]): how many leases it held. Tried again
    /// on a new connection if this one was cut.
    pub(crate) fn release_all(&mut self) -> Result<u64, StoreError> {
        let release = |client: &mut postgres::Client, node: &str| -> Result<u64, StoreError> {
            let mut tx = client.transaction()?;
            let released = tx.execute(
                &format!("UPDATE leases SET expires_at = {NOW} WHERE node = $1 AND expires_at > {NOW}"),
                &[&node],
            )?;
            tx.execute("DELETE FROM nodes WHERE node = $1", &[&node])?;
            tx.commit()?;
            Ok(released)
        };
        match release(&mut self.client, &self.node) {
            Ok(released) => Ok(released),
            Err(_) => {
                self.client = connect(&self.url, &self.node)?;
                release(&mut self.client, &self.node)
            }
        }
    }

    /// Takes the tenant's lease for this node if no live lease names another: the new epoch,
    /// or `None` when another node holds it.
    pub fn take(&mut self, tenant: &str) -> Result<Option<i64>, StoreError> {
        let started = Instant::now();
        let taken = take(&mut self.client, tenant, &self.node, &self.address, Duration::ZERO);
        if taken.is_err() {
            // Made again for the next time (this one may have been cut).
            if let Ok(client) = connect(&self.url, &self.node) {
                self.client = client;
            }
        }
        if let Ok(Some(_)) = taken {
            self.fresh.insert(tenant.to_owned(), started);
        }
        taken
    }
}

/// Takes `tenant`'s lease for `node` if it has none or it expired at least `grace` ago (see the
/// module's fair shares): the new epoch.
fn take(
    client: &mut postgres::Client,
    tenant: &str,
    node: &str,
    address: &str,
    grace: Duration,
) -> Result<Option<i64>, StoreError> {
    let before = grace.as_millis() as i64;
    let sql = format!(
        "INSERT INTO leases (tenant, node, address, epoch, expires_at) VALUES ($1, $2, $3, 1, {NOW} + $4)
         ON CONFLICT (tenant) DO UPDATE SET node = excluded.node, address = excluded.address,
             epoch = leases.epoch + 1, expires_at = excluded.expires_at
         WHERE COALESCE(leases.expires_at, 0) < {NOW} - $5 OR NOT {}
         RETURNING epoch",
        connected("leases.node")
    );
    let term = TERM.as_millis() as i64;
    Ok(client.query_opt(&sql, &[&tenant, &node, &address, &term, &before])?.map(|row| row.get(0)))
}

/// How long ago a lease of a node without a connection expired, as a tick reads it: long ago.
const DEAD: i64 = 1 << 40;

/// A tenant's lease as a tick reads it.
struct Lease {
    tenant: String,
    /// The node, its address and the epoch; `None`: no lease yet.
    held: Option<(String, String, i64)>,
    /// Milliseconds since it expired (negative: live).
    expired_for: i64,
}

/// The lease thread's own state.
struct Leaser {
    node: String,
    address: String,
    url: String,
    /// The data directory (snapshot files).
    dir: std::path::PathBuf,
    /// The tenants' signing keys (the transparency log's heads).
    keys: std::path::PathBuf,
    client: Option<postgres::Client>,
    /// When this node took each of its tenants (the oldest go first when it has too many).
    taken: HashMap<String, Instant>,
    /// The tenants being rebuilt, each on a thread of its own, while this thread goes on
    /// renewing (a rebuild can take longer than a lease lasts).
    building: HashMap<String, Build>,
}

/// A tenant taken over and being rebuilt.
struct Build {
    epoch: i64,
    /// When its lease was last taken or renewed.
    renewed: Instant,
    rebuilt: std::thread::JoinHandle<Result<crate::Tenant, crate::TenantError>>,
}

/// How many tenants a node rebuilds at once.
const BUILDS: usize = 2;

impl Leaser {
    fn client(&mut self) -> Result<&mut postgres::Client, StoreError> {
        if self.client.is_none() {
            self.client = Some(connect(&self.url, &self.node)?);
        }
        Ok(self.client.as_mut().expect("connected"))
    }

    /// Says the node is alive and renews the live leases of the tenants it serves (a lease of a
    /// tenant it dropped is left to expire, for any node to take): the tenants still its own,
    /// with their epochs.
    fn renew(&mut self, serving: &[String]) -> Result<HashMap<String, i64>, StoreError> {
        let (node, address) = (self.node.clone(), self.address.clone());
        let term = TERM.as_millis() as i64;
        let client = self.client()?;
        let mut tx = client.transaction()?;
        tx.execute(
            &format!(
                "INSERT INTO nodes (node, address, expires_at) VALUES ($1, $2, {NOW} + $3)
                 ON CONFLICT (node) DO UPDATE SET address = excluded.address, expires_at = excluded.expires_at"
            ),
            &[&node, &address, &term],
        )?;
        let rows = tx.query(
            &format!(
                "UPDATE leases SET expires_at = {NOW} + $2
                 WHERE node = $1 AND tenant = ANY($3) AND expires_at > {NOW}
                 RETURNING tenant, epoch"
            ),
            &[&node, &term, &serving],
        )?;
        tx.commit()?;
        Ok(rows.iter().map(|r| (r.get(0), r.get(1))).collect())
    }

    /// Every tenant's lease, and how many nodes are alive (this one included).
    fn read(&mut self) -> Result<(Vec<Lease>, i64), StoreError> {
        let client = self.client()?;
        let rows = client.query(
            &format!(
                "SELECT t.id, l.node, l.address, l.epoch,
                     CASE WHEN l.node IS NULL OR {} THEN {NOW} - COALESCE(l.expires_at, 0)
                         ELSE {DEAD} END
                 FROM tenants t LEFT JOIN leases l ON l.tenant = t.id ORDER BY t.id",
                connected("l.node")
            ),
            &[],
        )?;
        let leases = rows
            .iter()
            .map(|r| {
                let node: Option<String> = r.get(1);
                Lease { tenant: r.get(0), held: node.map(|n| (n, r.get(2), r.get(3))), expired_for: r.get(4) }
            })
            .collect();
        let nodes: i64 = client
            .query_one(
                &format!("SELECT count(*) FROM nodes WHERE expires_at > {NOW} AND {}", connected("node")),
                &[],
            )?
            .get(0);
        Ok((leases, nodes.max(1)))
    }

    /// Lets a lease go: it expires now, for another node to take.
    fn release(&mut self, tenant: &str, epoch: i64) -> Result<(), StoreError> {
        let node = self.node.clone();
        self.client()?.execute(
            &format!("UPDATE leases SET expires_at = {NOW} WHERE tenant = $1 AND node = $2 AND epoch = $3"),
            &[&tenant, &node, &epoch],
        )?;
        Ok(())
    }
}

/// The lease thread: every [`TICK`], renews this node's leases (dropping the tenants it lost),
/// stops serving when it could not renew in time, lets its excess tenants go and takes the
/// expired leases of its fair share. Runs until a clean stop's last step
/// ([`crate::Server::releasing`]).
pub(crate) fn run(server: &crate::Server) {
    let (node, address, url, dir, keys) = {
        let app = crate::lock(server);
        let Some(cluster) = app.cluster.as_ref() else { return };
        let (node, address, url) = (cluster.node.clone(), cluster.address.clone(), cluster.url.clone());
        (node, address, url, app.dir.clone(), app.signing_keys.clone())
    };
    let mut leaser = Leaser {
        node,
        address,
        url,
        dir,
        keys,
        client: None,
        taken: HashMap::new(),
        building: HashMap::new(),
    };
    {
        let app = crate::lock(server);
        for id in app.tenants.keys() {
            leaser.taken.insert(id.clone(), Instant::now());
        }
    }
    while !server.releasing.load(std::sync::atomic::Ordering::Relaxed) {
        let started = Instant::now();
        tick(server, &mut leaser);
        // The tenants rebuilt meanwhile are served as soon as they are.
        while started.elapsed() < TICK && !server.releasing.load(std::sync::atomic::Ordering::Relaxed) {
            install(server, &mut leaser);
            std::thread::sleep(Duration::from_millis(50).min(TICK.saturating_sub(started.elapsed())));
        }
    }
}

/// Serves the tenants whose rebuild is done, if their lease is still surely this node's.
fn install(server: &crate::Server, leaser: &mut Leaser) {
    let done: Vec<String> =
        leaser.building.iter().filter(|(_, b)| b.rebuilt.is_finished()).map(|(id, _)| id.clone()).collect();
    for id in done {
        let build = leaser.building.remove(&id).expect("listed");
        match build.rebuilt.join() {
            Ok(Ok(tenant)) if build.renewed.elapsed() < TERM - MARGIN => {
                let mut app = crate::lock(server);
                if let Some(cluster) = app.cluster.as_mut() {
                    cluster.owners.insert(id.clone(), None);
                }
                app.tenants.insert(id.clone(), tenant);
                leaser.taken.insert(id, Instant::now());
            }
            Ok(Ok(_)) => tracing::warn!(tenant = %id, "the tenant's lease ran out during its rebuild"),
            Ok(Err(error)) => {
                tracing::error!(tenant = %id, %error, "the tenant could not be taken over");
                let _ = leaser.release(&id, build.epoch);
            }
            Err(_) => {
                tracing::error!(tenant = %id, "the tenant's rebuild panicked");
                let _ = leaser.release(&id, build.epoch);
            }
        }
    }
}

/// One round of [`run`].
fn tick(server: &crate::Server, leaser: &mut Leaser) {
    // Before the tenants served are read: a tenant this node creates after this instant is not
    // counted lost when this renewal misses it (see `Cluster::fresh`).
    let sent = Instant::now();
    let mut serving: Vec<String> = crate::lock(server).tenants.keys().cloned().collect();
    serving.extend(leaser.building.keys().cloned());
    let renewed = match leaser.renew(&serving) {
        Ok(renewed) => renewed,
        Err(error) => {
            // A connection that closed: its leases may be taken at once (see `connected`).
            let closed = leaser.client.as_ref().is_none_or(postgres::Client::is_closed);
            leaser.client = None;
            let mut app = crate::lock(server);
            let fenced =
                app.cluster.as_ref().is_some_and(|c| closed || !c.valid()) && !app.tenants.is_empty();
            if fenced {
                tracing::warn!(%error, tenants = app.tenants.len(), "the leases could not be renewed in time: serving no tenant until they are taken again");
                app.tenants.clear();
                leaser.taken.clear();
                leaser.building.clear();
            } else {
                tracing::warn!(%error, "the leases could not be renewed");
            }
            return;
        }
    };
    // The server's own connection, if the database ended it (its connections terminated,
    // or a paused commit ended): made again here, off the lock, and swapped in under it.
    if crate::lock(server).store.closed() {
        let reopened = Store::open(&leaser.dir, Some(&leaser.url))
            .and_then(|mut store| store.session(&store_settings(&leaser.node)).map(|()| store));
        match reopened {
            Ok(store) => {
                tracing::warn!("the store's connection was lost: made again");
                crate::lock(server).store = store;
            }
            Err(error) => tracing::warn!(%error, "the store's connection was lost and cannot be made again"),
        }
    }
    // A rebuild goes on while its lease does.
    leaser.building.retain(|id, b| renewed.get(id) == Some(&b.epoch));
    for build in leaser.building.values_mut() {
        build.renewed = sent;
    }
    let (leases, nodes) = match leaser.read() {
        Ok(read) => read,
        Err(error) => {
            tracing::warn!(%error, "the leases could not be read");
            leaser.client = None;
            (Vec::new(), 0)
        }
    };
    // Applied under the server's lock: the tenants lost, the new term, who serves the others.
    let mine = {
        let mut app = crate::lock(server);
        let fresh = app.cluster.as_mut().map(|c| std::mem::take(&mut c.fresh)).unwrap_or_default();
        let lost: Vec<String> = app
            .tenants
            .iter()
            .filter(|(id, t)| t.epoch.is_none_or(|e| renewed.get(*id) != Some(&e)))
            .filter(|(id, _)| fresh.get(*id).is_none_or(|at| *at < sent))
            .map(|(id, _)| id.clone())
            .collect();
        for id in &lost {
            tracing::warn!(tenant = %id, "the tenant's lease moved to another node: no longer serving it");
            app.tenants.remove(id);
            leaser.taken.remove(id);
        }
        let me = leaser.node.clone();
        if let Some(cluster) = app.cluster.as_mut() {
            cluster.fresh = fresh.into_iter().filter(|(_, at)| *at >= sent).collect();
            cluster.valid_until = cluster.valid_until.max(sent + TERM - MARGIN);
            if nodes > 0 {
                cluster.owners = leases
                    .iter()
                    .map(|l| {
                        let live = l.expired_for < 0;
                        let elsewhere = l.held.as_ref().filter(|(n, _, _)| live && *n != me);
                        (l.tenant.clone(), elsewhere.map(|(_, a, _)| a.clone()))
                    })
                    .collect();
            }
        }
        app.tenants.iter().filter_map(|(id, t)| Some((id.clone(), t.epoch?))).collect::<Vec<_>>()
    };
    if nodes == 0 {
        return;
    }
    let fair = (leases.len() as i64 + nodes - 1) / nodes;
    let mut count = (mine.len() + leaser.building.len()) as i64;
    // Too many: the oldest one goes (one a tick: the others take it before the next looks).
    if count > fair
        && let Some((id, epoch)) =
            mine.iter().min_by_key(|(id, _)| leaser.taken.get(id).copied().unwrap_or(sent)).cloned()
    {
        crate::lock(server).tenants.remove(&id);
        leaser.taken.remove(&id);
        match leaser.release(&id, epoch) {
            Ok(()) => {
                tracing::info!(tenant = %id, served = count, fair, "the tenant was let go for a fair share")
            }
            Err(error) => tracing::warn!(tenant = %id, %error, "the tenant could not be let go"),
        }
        count -= 1;
    }
    for lease in &leases {
        // Past its share, a node takes a lease expired for more than a tick: the node under its
        // share had its turn, and no tenant waits on nodes whose counts disagree.
        let long_expired = lease.expired_for > TICK.as_millis() as i64;
        if lease.expired_for < 0
            || (count >= fair && !long_expired)
            || leaser.building.contains_key(&lease.tenant)
            || leaser.building.len() >= BUILDS
        {
            continue;
        }
        let mine = lease.held.as_ref().is_some_and(|(n, _, _)| *n == leaser.node);
        if mine && lease.expired_for <= (2 * TERM).as_millis() as i64 {
            continue; // Let go by this node: another's to take.
        }
        let grace = match (mine, count >= fair) {
            (true, _) => 2 * TERM,
            (false, true) => TICK,
            (false, false) => Duration::ZERO,
        };
        let (node, address) = (leaser.node.clone(), leaser.address.clone());
        let taken = leaser.client().and_then(|c| take(c, &lease.tenant, &node, &address, grace));
        let epoch = match taken {
            Ok(Some(epoch)) => epoch,
            Ok(None) => continue,
            Err(error) => {
                tracing::warn!(tenant = %lease.tenant, %error, "the tenant's lease could not be taken");
                leaser.client = None;
                continue;
            }
        };
        // Rebuilt on a thread of its own, on a store connection of its own.
        let (dir, url, tenant) = (leaser.dir.clone(), leaser.url.clone(), lease.tenant.clone());
        let keys = leaser.keys.clone();
        let rebuilt = std::thread::Builder::new().name("fanli-takeover".to_owned()).spawn(move || {
            let mut store = Store::open(&dir, Some(&url))?;
            store.session(&store_settings(&node))?;
            crate::load_taken(&mut store, &keys, &tenant, epoch)
        });
        match rebuilt {
            Ok(rebuilt) => {
                leaser.building.insert(lease.tenant.clone(), Build { epoch, renewed: sent, rebuilt });
                count += 1;
            }
            Err(error) => {
                tracing::error!(tenant = %lease.tenant, %error, "no thread to rebuild the tenant");
                let _ = leaser.release(&lease.tenant, epoch);
            }
        }
    }
}

/// The header a forwarded request carries: the node it reaches answers it or says `503`, and
/// never forwards it again.
pub(crate) const FORWARDED: &str = "x-fanli-forwarded";

/// The client that forwards requests to other nodes (no redirects followed, every status
/// passed on as it is).
fn agent() -> &'static ureq::Agent {
    static AGENT: std::sync::OnceLock<ureq::Agent> = std::sync::OnceLock::new();
    AGENT.get_or_init(|| {
        ureq::Agent::config_builder()
            .timeout_global(Some(Duration::from_secs(60)))
            .http_status_as_error(false)
            .max_redirects(0)
            .build()
            .into()
    })
}

/// Headers that belong to one connection, not to the request or answer.
fn hop_by_hop(name: &axum::http::HeaderName) -> bool {
    matches!(
        name.as_str(),
        "host"
            | "connection"
            | "keep-alive"
            | "proxy-connection"
            | "te"
            | "trailer"
            | "transfer-encoding"
            | "upgrade"
            | "content-length"
    )
}

/// Why a forwarded request has no answer.
pub(crate) enum Unanswered {
    /// The tenant's node could not be reached: the request never got there (the caller answers
    /// `503`, nothing was applied).
    Unreached,
    /// It was sent and no answer came back (the node died or was cut off in between): it may
    /// have been applied.
    Unknown,
}

/// Whether a forward that failed with `error` surely never reached the node: the connection
/// was refused or could not be made.
fn unreached(error: &ureq::Error) -> bool {
    match error {
        ureq::Error::Io(e) => matches!(
            e.kind(),
            std::io::ErrorKind::ConnectionRefused
                | std::io::ErrorKind::AddrNotAvailable
                | std::io::ErrorKind::HostUnreachable
                | std::io::ErrorKind::NetworkUnreachable
        ),
        ureq::Error::Timeout(ureq::Timeout::Connect | ureq::Timeout::Resolve) => true,
        ureq::Error::HostNotFound | ureq::Error::ConnectionFailed => true,
        _ => false,
    }
}

/// Forwards `request` (its method, path, headers and body, the key included) to the node at
/// `address` and answers what it answers; [`Unanswered`] when that node does not answer.
pub(crate) async fn forward(
    address: &str,
    request: axum::extract::Request,
) -> Result<axum::response::Response, Unanswered> {
    use axum::http::{Request, Response};
    let (parts, body) = request.into_parts();
    // The API's own limit is 2 MiB: a larger body is refused by the owner, as it would be here.
    let body = axum::body::to_bytes(body, 4 << 20).await.map_err(|_| Unanswered::Unreached)?;
    let path = parts.uri.path_and_query().map_or("/", |p| p.as_str());
    let mut outgoing = Request::builder()
        .method(parts.method.clone())
        .uri(format!("{}{path}", address.trim_end_matches('/')));
    for (name, value) in &parts.headers {
        if !hop_by_hop(name) {
            outgoing = outgoing.header(name, value);
        }
    }
    outgoing = outgoing.header(FORWARDED, "1");
    type Failed = (String, bool);
    let answer =
        tokio::task::spawn_blocking(move || -> Result<(axum::http::response::Parts, Vec<u8>), Failed> {
            let not_made = |e: axum::http::Error| (e.to_string(), true);
            let failed = |e: ureq::Error| (e.to_string(), unreached(&e));
            let answer = if body.is_empty() {
                agent().run(outgoing.body(()).map_err(not_made)?)
            } else {
                agent().run(outgoing.body(body.to_vec()).map_err(not_made)?)
            };
            let (parts, mut body) = answer.map_err(failed)?.into_parts();
            let bytes =
                body.with_config().limit(u64::MAX).read_to_vec().map_err(|e| (e.to_string(), false))?;
            Ok((parts, bytes))
        })
        .await
        .map_err(|_| Unanswered::Unknown)?;
    let (parts, bytes) = match answer {
        Ok(answer) => answer,
        Err((error, unreached)) => {
            tracing::warn!(%address, %error, unreached, "the tenant's node did not answer a forwarded request");
            return Err(if unreached { Unanswered::Unreached } else { Unanswered::Unknown });
        }
    };
    let mut response = Response::builder().status(parts.status);
    for (name, value) in &parts.headers {
        if !hop_by_hop(name) {
            response = response.header(name, value);
        }
    }
    response.body(axum::body::Body::from(bytes)).map_err(|_| Unanswered::Unknown)
}

/// A key looked up for a request, and where its answer goes.
type KeyWanted = (String, tokio::sync::oneshot::Sender<Result<Option<crate::store::StoredKey>, String>>);

/// In a cluster: a thread that looks up in the store the keys this node has not seen (made on
/// another node), for the requests that bear them, on a connection of its own: no request waits
/// for the database under the server's lock to learn which tenant its key is for.
pub(crate) struct KeyReader(std::sync::mpsc::Sender<KeyWanted>);

impl KeyReader {
    /// Starts the reader (its connection opened on its thread, and again after a failure).
    pub(crate) fn start(dir: std::path::PathBuf, url: String, node: String) -> std::io::Result<KeyReader> {
        let (sender, wanted) = std::sync::mpsc::channel::<KeyWanted>();
        std::thread::Builder::new().name("fanli-keys".to_owned()).spawn(move || {
            let mut store: Option<Store> = None;
            while let Ok((hash, answer)) = wanted.recv() {
                let found = match store.as_mut() {
                    Some(store) => store.find_key(&hash),
                    None => Store::open(&dir, Some(&url)).and_then(|mut opened| {
                        opened.session(&store_settings(&node))?;
                        let found = opened.find_key(&hash);
                        store = Some(opened);
                        found
                    }),
                };
                if found.is_err() {
                    store = None;
                }
                let _ = answer.send(found.map_err(|e| e.to_string()));
            }
        })?;
        Ok(KeyReader(sender))
    }

    /// The live key of this hash in the store, if there is one.
    pub(crate) async fn find(&self, hash: &str) -> Result<Option<crate::store::StoredKey>, crate::ApiError> {
        let (sender, answer) = tokio::sync::oneshot::channel();
        self.0.send((hash.to_owned(), sender)).map_err(|_| crate::internal("the key reader has stopped"))?;
        answer
            .await
            .map_err(|_| crate::internal("the key reader dropped a request"))?
            .map_err(crate::internal)
    }
}
