//! The durable store: tenants (with their key hashes), keys, plan versions, each tenant's
//! hash-chained event log, the webhook outbox, the daily reports and the snapshots' index, in
//! SQLite (one file under the data directory, the default) or PostgreSQL (a `postgres://` URL,
//! for several nodes). An event is acknowledged only after the transaction that appends it has
//! committed. Snapshot bytes are files under the data directory in both cases.
//!
//! Both databases run the same SQL (`$1` parameters, `ON CONFLICT` upserts); only the table
//! definitions, the bulk append and the streaming read of a log differ.

use std::path::{Path, PathBuf};

/// A store error: the database's, or a snapshot file's.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    /// SQLite's.
    #[error("SQLite: {0}")]
    Sqlite(#[from] rusqlite::Error),
    /// PostgreSQL's, with its reason (see [`postgres_reason`]).
    #[error("PostgreSQL: {}", postgres_reason(.0))]
    Postgres(#[from] postgres::Error),
    /// A snapshot file's.
    #[error("snapshot file: {0}")]
    Io(#[from] std::io::Error),
    /// Another node took the tenant over: this one may no longer write its log.
    #[error("tenant {0} is now another node's")]
    LeaseLost(String),
}

impl StoreError {
    /// What the database itself said, without the store's `SQLite: ` or `PostgreSQL: ` and,
    /// on PostgreSQL, as its client words it (the text a read of a log has always reported).
    pub fn database_text(&self) -> String {
        match self {
            StoreError::Sqlite(e) => e.to_string(),
            StoreError::Postgres(e) => e.to_string(),
            other => other.to_string(),
        }
    }
}

/// What went wrong on PostgreSQL, said as SQLite says it: the client's own text for an error
/// the server reported is only "db error", so the server's code and message follow; its
/// `DETAIL` does not, since it quotes the row's values (of any tenant of a failed group commit's
/// batch) and the log need not hold them.
fn postgres_reason(error: &postgres::Error) -> String {
    match (error.as_db_error(), std::error::Error::source(error)) {
        (Some(db), _) => format!("{}: {}", db.code().code(), db.message()),
        (None, Some(cause)) => format!("{error}: {cause}"),
        (None, None) => error.to_string(),
    }
}

/// A member as the store indexes it: (member, referrer, phone).
pub type MemberRow = (String, Option<String>, Option<String>);

/// What the store's methods return.
pub type Result<T> = std::result::Result<T, StoreError>;

/// The store's connection.
pub struct Store {
    db: Db,
    /// The data directory: snapshots are files in `snapshots/` under it.
    dir: PathBuf,
}

enum Db {
    Sqlite(rusqlite::Connection),
    Postgres(Box<Pg>),
}

/// A PostgreSQL connection with the group commit's statements prepared once: each is then one
/// round trip, not two.
struct Pg {
    client: postgres::Client,
    lease: postgres::Statement,
    events: postgres::Statement,
    outbox: postgres::Statement,
    reports: postgres::Statement,
    members: postgres::Statement,
    history: postgres::Statement,
    answers: postgres::Statement,
}

/// A query parameter.
#[derive(Clone, Copy)]
enum P<'a> {
    Int(i64),
    Text(&'a str),
    OptText(Option<&'a str>),
    OptInt(Option<i64>),
}

/// A row read back: each column an integer or a text, either possibly null.
struct Row(Vec<Cell>);

enum Cell {
    Int(Option<i64>),
    Text(Option<String>),
}

impl Row {
    fn int(&self, i: usize) -> i64 {
        self.opt_int(i).unwrap_or_default()
    }

    fn opt_int(&self, i: usize) -> Option<i64> {
        match &self.0[i] {
            Cell::Int(v) => *v,
            Cell::Text(_) => None,
        }
    }

    fn text(&mut self, i: usize) -> String {
        self.opt_text(i).unwrap_or_default()
    }

    fn opt_text(&mut self, i: usize) -> Option<String> {
        match &mut self.0[i] {
            Cell::Text(v) => v.take(),
            Cell::Int(_) => None,
        }
    }
}

fn sqlite_params<'a>(params: &'a [P<'a>]) -> Vec<Box<dyn rusqlite::ToSql + 'a>> {
    params
        .iter()
        .map(|p| -> Box<dyn rusqlite::ToSql> {
            match *p {
                P::Int(v) => Box::new(v),
                P::Text(v) => Box::new(v),
                P::OptText(v) => Box::new(v),
                P::OptInt(v) => Box::new(v),
            }
        })
        .collect()
}

fn postgres_params<'a>(params: &'a [P<'a>]) -> Vec<Box<dyn postgres::types::ToSql + Sync + 'a>> {
    params
        .iter()
        .map(|p| -> Box<dyn postgres::types::ToSql + Sync> {
            match *p {
                P::Int(v) => Box::new(v),
                P::Text(v) => Box::new(v),
                P::OptText(v) => Box::new(v),
                P::OptInt(v) => Box::new(v),
            }
        })
        .collect()
}

fn sqlite_row(row: &rusqlite::Row<'_>, columns: usize) -> rusqlite::Result<Row> {
    use rusqlite::types::ValueRef;
    (0..columns)
        .map(|i| {
            Ok(match row.get_ref(i)? {
                ValueRef::Integer(v) => Cell::Int(Some(v)),
                ValueRef::Text(t) => Cell::Text(Some(String::from_utf8_lossy(t).into_owned())),
                ValueRef::Null => Cell::Int(None),
                other => Cell::Text(Some(format!("{other:?}"))),
            })
        })
        .collect::<rusqlite::Result<_>>()
        .map(Row)
}

fn postgres_row(row: &postgres::Row) -> Row {
    use postgres::types::Type;
    Row((0..row.len())
        .map(|i| match *row.columns()[i].type_() {
            Type::INT8 => Cell::Int(row.get(i)),
            Type::INT4 => Cell::Int(row.get::<_, Option<i32>>(i).map(i64::from)),
            _ => Cell::Text(row.get(i)),
        })
        .collect())
}

const MERKLE_INSERT: &str =
    "INSERT INTO merkle (tenant, level, idx, hash) VALUES ($1, $2, $3, $4) ON CONFLICT DO NOTHING";
const HEAD_INSERT: &str = "INSERT INTO heads (tenant, size, root, time, public_key, signature)
    VALUES ($1, $2, $3, $4, $5, $6) ON CONFLICT DO NOTHING";
const SET_SETTING: &str = "INSERT INTO settings (key, value) VALUES ($1, $2) ON CONFLICT (key) DO UPDATE SET value = excluded.value";

/// The tables as the first version made them, with `{int}` and `{serial}` for the types the two
/// databases spell differently. Never changed: what came later is a step of [`MIGRATIONS`], run
/// alike on a new store and on one made by an older version. (`history_member` is the first
/// version's; version 7 ([`history_by_part`]) makes it again under the same name, which the
/// `IF NOT EXISTS` here then leaves alone.)
const SCHEMA: &str = "
    CREATE TABLE IF NOT EXISTS settings (key TEXT PRIMARY KEY, value TEXT NOT NULL);
    CREATE TABLE IF NOT EXISTS tenants (id TEXT PRIMARY KEY, key_hash TEXT NOT NULL UNIQUE);
    CREATE TABLE IF NOT EXISTS plans (tenant TEXT NOT NULL, version {int} NOT NULL, text TEXT NOT NULL,
        PRIMARY KEY (tenant, version));
    CREATE TABLE IF NOT EXISTS events (tenant TEXT NOT NULL, seq {int} NOT NULL, line TEXT NOT NULL,
        PRIMARY KEY (tenant, seq));
    CREATE TABLE IF NOT EXISTS keys (hash TEXT PRIMARY KEY, tenant TEXT NOT NULL, role TEXT NOT NULL, scope TEXT);
    CREATE TABLE IF NOT EXISTS brands (tenant TEXT NOT NULL, brand TEXT NOT NULL, PRIMARY KEY (tenant, brand));
    CREATE TABLE IF NOT EXISTS store_brands (tenant TEXT NOT NULL, store TEXT NOT NULL, brand TEXT NOT NULL,
        PRIMARY KEY (tenant, store));
    CREATE TABLE IF NOT EXISTS webhooks (tenant TEXT PRIMARY KEY, url TEXT NOT NULL, secret TEXT NOT NULL);
    CREATE TABLE IF NOT EXISTS outbox (id {serial}, tenant TEXT NOT NULL, body TEXT NOT NULL,
        attempts {int} NOT NULL DEFAULT 0, next_at {int} NOT NULL DEFAULT 0, delivered_at {int}, last_error TEXT);
    CREATE INDEX IF NOT EXISTS outbox_pending ON outbox (tenant, id) WHERE delivered_at IS NULL;
    CREATE TABLE IF NOT EXISTS snapshots (tenant TEXT PRIMARY KEY, line {int} NOT NULL, head TEXT NOT NULL,
        closed_through {int});
    CREATE TABLE IF NOT EXISTS reports (tenant TEXT NOT NULL, line {int} NOT NULL, body TEXT NOT NULL,
        PRIMARY KEY (tenant, line));
    CREATE TABLE IF NOT EXISTS leases (tenant TEXT PRIMARY KEY, node TEXT NOT NULL, address TEXT NOT NULL,
        epoch {int} NOT NULL);
    CREATE TABLE IF NOT EXISTS members (tenant TEXT NOT NULL, member TEXT NOT NULL, referrer TEXT, phone TEXT,
        PRIMARY KEY (tenant, member));
    CREATE INDEX IF NOT EXISTS members_referrer ON members (tenant, referrer);
    CREATE INDEX IF NOT EXISTS members_phone ON members (tenant, phone);
    CREATE TABLE IF NOT EXISTS history (tenant TEXT NOT NULL, member TEXT NOT NULL, line {int} NOT NULL,
        body TEXT NOT NULL, PRIMARY KEY (tenant, line, member));
    CREATE INDEX IF NOT EXISTS history_member ON history (tenant, member, line);
    CREATE TABLE IF NOT EXISTS days (tenant TEXT NOT NULL, line {int} NOT NULL, at TEXT NOT NULL,
        members {int} NOT NULL, orders {int} NOT NULL, PRIMARY KEY (tenant, line));
    CREATE TABLE IF NOT EXISTS answers (tenant TEXT NOT NULL, id TEXT NOT NULL, request TEXT NOT NULL,
        body TEXT NOT NULL, PRIMARY KEY (tenant, id));
";

/// The steps that bring a store from the first version's [`SCHEMA`] to this one's, in order:
/// step `i` takes `schema_version` (a setting; `1` when absent) from `i + 1` to `i + 2`. Each
/// runs in a transaction with the setting's update, so a store is at one version or the next.
const MIGRATIONS: &[fn(&mut Conn<'_>) -> Result<()>] =
    &[keys_lifecycle, plan_amendments, transparency_log, dead_letters, tenant_settings, history_by_part];

/// The schema version this build writes.
pub const SCHEMA_VERSION: i64 = MIGRATIONS.len() as i64 + 1;

/// Version 2: keys get an id, their times and who made and revoked them; the owner keys move
/// into `keys` (every key in one table, each revocable); each log line, plan version, brand,
/// store's brand and webhook names the key that wrote it; the revocation counter that nodes
/// read to know their keys are current.
fn keys_lifecycle(store: &mut Conn<'_>) -> Result<()> {
    let sql = "
        ALTER TABLE keys ADD COLUMN id TEXT;
        ALTER TABLE keys ADD COLUMN created_at {int};
        ALTER TABLE keys ADD COLUMN created_by TEXT;
        ALTER TABLE keys ADD COLUMN revoked_at {int};
        ALTER TABLE keys ADD COLUMN revoked_by TEXT;
        INSERT INTO keys (hash, tenant, role, scope)
            SELECT t.key_hash, t.id, 'owner', NULL FROM tenants t
            WHERE NOT EXISTS (SELECT 1 FROM keys k WHERE k.hash = t.key_hash);
        ALTER TABLE events ADD COLUMN key_id TEXT;
        ALTER TABLE plans ADD COLUMN key_id TEXT;
        ALTER TABLE brands ADD COLUMN key_id TEXT;
        ALTER TABLE store_brands ADD COLUMN key_id TEXT;
        ALTER TABLE webhooks ADD COLUMN key_id TEXT;
        INSERT INTO settings (key, value) VALUES ('key_revocations', '0') ON CONFLICT (key) DO NOTHING;
    ";
    store.batch(sql)?;
    // Every key made before has an id now: random, as a new key's is.
    let unnamed = store.query("SELECT hash FROM keys WHERE id IS NULL ORDER BY hash", &[])?;
    for mut row in unnamed {
        let id = key_id()?;
        store.execute("UPDATE keys SET id = $1 WHERE hash = $2", &[P::Text(&id), P::Text(&row.text(0))])?;
    }
    store.batch(
        "CREATE UNIQUE INDEX keys_id ON keys (id);
         CREATE INDEX keys_tenant ON keys (tenant, created_at);
         CREATE INDEX keys_revoked ON keys (revoked_at) WHERE revoked_at IS NOT NULL;",
    )
}

/// Version 3: a plan version tells a base plan (put before the log started: no `line`, no
/// `proposal`) from an amendment recorded in the log (`line`: the log line that recorded it, an
/// `amend_plan` or the `tally` of a passed vote; `effective_at`: when it takes effect) and from
/// a plan put to the members' vote (`proposal`: its id; no `line` until a tally records it).
/// `recorded_at` is the time of the event that recorded it (the wall clock's, for a base plan).
/// Rows stored before have none of them: they are base plans, as they were.
fn plan_amendments(store: &mut Conn<'_>) -> Result<()> {
    store.batch(
        "ALTER TABLE plans ADD COLUMN line {int};
         ALTER TABLE plans ADD COLUMN effective_at TEXT;
         ALTER TABLE plans ADD COLUMN recorded_at TEXT;
         ALTER TABLE plans ADD COLUMN proposal TEXT;",
    )
}

/// Version 4: the transparency log (docs/transparency.md): `merkle`, the hashes of the log's
/// perfect subtrees of 256 lines or more (a proof reads O(log n) of them), and `heads`, each
/// tree head the server signed.
fn transparency_log(store: &mut Conn<'_>) -> Result<()> {
    store.batch(
        "CREATE TABLE merkle (tenant TEXT NOT NULL, level {int} NOT NULL, idx {int} NOT NULL, hash TEXT NOT NULL,
             PRIMARY KEY (tenant, level, idx));
         CREATE TABLE heads (tenant TEXT NOT NULL, size {int} NOT NULL, root TEXT NOT NULL, time TEXT NOT NULL,
             public_key TEXT NOT NULL, signature TEXT NOT NULL, PRIMARY KEY (tenant, size));",
    )
}

/// Version 5: webhook dead letters (issue 18). `outbox` gets `dead_at`: when the deliverer gave
/// a notification up after its last allowed attempt (Unix milliseconds; `NULL` while it is
/// pending or once delivered), and two indexes: `outbox_due`, the notifications still to try
/// (what each round reads), and `outbox_dead`, the dead letters. Rows stored before have no
/// `dead_at`: they are pending or delivered, as they were.
fn dead_letters(store: &mut Conn<'_>) -> Result<()> {
    store.batch(
        "ALTER TABLE outbox ADD COLUMN dead_at {int};
         CREATE INDEX outbox_due ON outbox (tenant, id) WHERE delivered_at IS NULL AND dead_at IS NULL;
         CREATE INDEX outbox_dead ON outbox (tenant, id) WHERE delivered_at IS NULL AND dead_at IS NOT NULL;",
    )
}

/// Version 6: each tenant's settings for its public pages (issue 18, see [`TenantSettings`]):
/// the origin of its members' links and QR codes (NULL: the request's), whether `/join`
/// registers newcomers (1 unless set), and the key that last set them. A tenant without a row
/// has the defaults.
fn tenant_settings(store: &mut Conn<'_>) -> Result<()> {
    store.batch(
        "CREATE TABLE tenant_settings (tenant TEXT PRIMARY KEY, public_origin TEXT,
             public_join {int} NOT NULL DEFAULT 1, key_id TEXT);",
    )
}

/// The lines of a tenant's log whose history rows share a part of the member-history index
/// (see `history_by_part`, version 7): a power of two, fixed (the index's expression holds it).
pub const HISTORY_PART: u64 = 16_384;

/// Version 7: the member-history index `history_member` is keyed by the part of the log a row
/// is in first, `(tenant, line / 16384, member, line)`, where it was `(tenant, member, line)`.
/// Each group commit's history rows (one per member an event moved: ~850 for 1,000 events)
/// land on random leaves of an index by member, and in WAL mode each leaf a commit touches is
/// written whole: with the index by member the write-ahead log took ~1.9 MB a batch of 1,000
/// events at 200,000 lines, growing with the store toward one 4 KiB page per row (~3.4 MB a
/// batch at a year's size). Keyed by part, a commit's rows land in the newest part's subtree
/// only, which never holds more than 16,384 lines' rows: ~0.8 MB a batch, however large the
/// store (BENCHMARKS.md, issue 19, branch store5). A member's history is read a part at a time,
/// newest first, until it has enough rows ([`Store::history`]): a seek per part (one per 16,384
/// lines of the tenant's log) for a member with little history, far fewer for an active one.
/// The index keeps its name, so that the first version's `CREATE INDEX IF NOT EXISTS` at every
/// open leaves it alone.
fn history_by_part(store: &mut Conn<'_>) -> Result<()> {
    store.batch(HISTORY_BY_PART)
}

/// [`history_by_part`]'s statements, as first shipped: a part size other than
/// [`HISTORY_PART`] would be a new migration (a test holds the two and the query together).
const HISTORY_BY_PART: &str = "DROP INDEX IF EXISTS history_member;
         CREATE INDEX history_member ON history (tenant, (line / 16384), member, line);";

/// One part of a member's history ([`Store::history`]), `line / 16384` as the index has it, so
/// that the part is a seek in it.
const HISTORY_OF_PART: &str = "SELECT h.line, e.line, h.body FROM history h JOIN events e ON e.tenant = h.tenant AND e.seq = h.line
                   WHERE h.tenant = $1 AND h.line / 16384 = $2 AND h.member = $3 ORDER BY h.line DESC LIMIT $4";

/// A tenant's settings for its public pages (`PUT /v1/settings`).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TenantSettings {
    /// `scheme://host[:port]` of the members' referral links and QR codes; `None`: the server's
    /// `--public-origin`, else the request's `Host`.
    pub public_origin: Option<String>,
    /// Whether `/join` registers newcomers (on by default).
    pub public_join: bool,
}

impl Default for TenantSettings {
    fn default() -> TenantSettings {
        TenantSettings { public_origin: None, public_join: true }
    }
}

/// A new key id: 16 hex digits, random (the id names a key in the API and the console; it is
/// not the secret, nor derived from it).
pub fn key_id() -> Result<String> {
    let mut bytes = [0u8; 8];
    getrandom::fill(&mut bytes).map_err(|e| StoreError::Io(std::io::Error::other(e.to_string())))?;
    Ok(bytes.iter().map(|b| format!("{b:02x}")).collect())
}

/// A connection borrowed for a few statements: the store's, or one being opened (whose
/// tables are migrated before its statements are prepared).
enum Conn<'a> {
    Sqlite(&'a rusqlite::Connection),
    Postgres(&'a mut postgres::Client),
}

impl Conn<'_> {
    fn execute(&mut self, sql: &str, params: &[P<'_>]) -> Result<u64> {
        Ok(match self {
            Conn::Sqlite(db) => {
                let values = sqlite_params(params);
                db.prepare_cached(sql)?.execute(rusqlite::params_from_iter(values.iter()))? as u64
            }
            Conn::Postgres(client) => {
                let values = postgres_params(params);
                let refs: Vec<&(dyn postgres::types::ToSql + Sync)> = values.iter().map(|v| &**v).collect();
                client.execute(sql, &refs)?
            }
        })
    }

    fn query(&mut self, sql: &str, params: &[P<'_>]) -> Result<Vec<Row>> {
        Ok(match self {
            Conn::Sqlite(db) => {
                let values = sqlite_params(params);
                let mut select = db.prepare_cached(sql)?;
                let columns = select.column_count();
                select
                    .query_map(rusqlite::params_from_iter(values.iter()), |r| sqlite_row(r, columns))?
                    .collect::<rusqlite::Result<_>>()?
            }
            Conn::Postgres(client) => {
                let values = postgres_params(params);
                let refs: Vec<&(dyn postgres::types::ToSql + Sync)> = values.iter().map(|v| &**v).collect();
                client.query(sql, &refs)?.iter().map(postgres_row).collect()
            }
        })
    }

    fn query_one(&mut self, sql: &str, params: &[P<'_>]) -> Result<Option<Row>> {
        Ok(self.query(sql, params)?.into_iter().next())
    }

    /// Statements without parameters, `{int}` spelt as the database spells it.
    fn batch(&mut self, sql: &str) -> Result<()> {
        match self {
            Conn::Sqlite(db) => db.execute_batch(&sql.replace("{int}", "INTEGER"))?,
            Conn::Postgres(client) => client.batch_execute(&sql.replace("{int}", "BIGINT"))?,
        }
        Ok(())
    }

    /// Runs `f` in a transaction (on SQLite one that takes the write lock at once, so that two
    /// connections do not both read and then both write).
    fn atomically<T>(&mut self, f: impl FnOnce(&mut Self) -> Result<T>) -> Result<T> {
        self.batch(if matches!(self, Conn::Sqlite(_)) { "BEGIN IMMEDIATE" } else { "BEGIN" })?;
        match f(self) {
            Ok(value) => {
                self.batch("COMMIT")?;
                Ok(value)
            }
            Err(error) => {
                let _ = self.batch("ROLLBACK");
                Err(error)
            }
        }
    }

    fn schema_version(&mut self) -> Result<i64> {
        let row = self.query_one("SELECT value FROM settings WHERE key = 'schema_version'", &[])?;
        Ok(row.and_then(|mut r| r.text(0).parse().ok()).unwrap_or(1))
    }
}

/// Brings the store's tables to [`SCHEMA_VERSION`], one step of [`MIGRATIONS`] at a time, each
/// in a transaction with its new version. A store of a later version is left alone.
fn migrate(conn: &mut Conn<'_>) -> Result<()> {
    if conn.schema_version()? >= SCHEMA_VERSION {
        return Ok(());
    }
    conn.atomically(migration_steps)
}

/// The steps of [`MIGRATIONS`] the store has not run, with its new version, in the caller's
/// transaction (the version is read again there: another connection may have migrated).
fn migration_steps(conn: &mut Conn<'_>) -> Result<()> {
    for version in conn.schema_version()?..SCHEMA_VERSION {
        MIGRATIONS[version as usize - 1](conn)?;
        conn.execute(SET_SETTING, &[P::Text("schema_version"), P::Text(&(version + 1).to_string())])?;
    }
    Ok(())
}

fn insert_key(conn: &mut Conn<'_>, key: &StoredKey) -> Result<()> {
    let sql = format!("INSERT INTO keys ({KEY_COLUMNS}) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)");
    let params = [
        P::Text(&key.id),
        P::Text(&key.hash),
        P::Text(&key.tenant),
        P::Text(&key.role),
        P::OptText(key.scope.as_deref()),
        P::OptInt(key.created_at),
        P::OptText(key.created_by.as_deref()),
        P::OptInt(key.revoked_at),
        P::OptText(key.revoked_by.as_deref()),
    ];
    conn.execute(&sql, &params).map(drop)
}

/// Revokes a live key and counts the revocation (inside the caller's transaction: the count
/// goes up with the row, so a node that reads the new count finds the key revoked). The
/// counter's row lock orders revocations on PostgreSQL: a count read is never ahead of a
/// revocation still uncommitted.
fn revoke(conn: &mut Conn<'_>, tenant: &str, id: &str, at: i64, by: &str) -> Result<()> {
    let sql = "UPDATE keys SET revoked_at = $1, revoked_by = $2
               WHERE tenant = $3 AND id = $4 AND revoked_at IS NULL";
    if conn.execute(sql, &[P::Int(at), P::Text(by), P::Text(tenant), P::Text(id)])? == 1 {
        conn.execute(
            "UPDATE settings SET value = CAST(CAST(value AS BIGINT) + 1 AS TEXT) WHERE key = 'key_revocations'",
            &[],
        )?;
    }
    Ok(())
}

/// What a tenant has stored.
pub struct Stored {
    /// Its id.
    pub id: String,
    /// The SHA-256 (hex) of its owner key.
    pub key_hash: String,
    /// Its latest base plan (see [`Store::load`]), if any.
    pub plan: Option<String>,
}

/// A tenant's state at a line of its log, so that a start replays only the lines after it.
pub struct Snapshot {
    /// The log's length when it was taken.
    pub line: u64,
    /// The audit chain's head at that line.
    pub head: String,
    /// The last business day closed (the scheduler's).
    pub closed_through: Option<i64>,
    /// The engine, as [`fanli_engine::Engine::snapshot`] encodes it.
    pub data: Vec<u8>,
}

/// What one tenant adds in a group commit.
pub struct Append<'a> {
    /// The tenant.
    pub tenant: &'a str,
    /// The length of its log before these lines.
    pub after: u64,
    /// Its new chained lines.
    pub lines: &'a [String],
    /// Which key wrote each line, beside it (`by[i]` wrote `lines[i]`): the key's id, or `None`
    /// for the server's own lines (the scheduler's day closes). Shorter than `lines` (empty,
    /// say) leaves the rest unnamed.
    pub by: &'a [Option<String>],
    /// Its new notifications, as JSON.
    pub notifications: &'a [String],
    /// Its new daily pool reports, with the line of their `close_day`.
    pub reports: &'a [(u64, String)],
    /// Its new members: (member, referrer, phone), for the console's search and referral tree.
    pub members: &'a [MemberRow],
    /// What its new events did to each member: (member, line, postings as JSON).
    pub history: &'a [(String, u64, String)],
    /// At each new `close_day`: (line, time, members, orders), for the console's daily counts.
    pub days: &'a [(u64, String, u64, u64)],
    /// The first answers to its new orders posted one at a time: (order id, request, answer),
    /// what a retry of the same request gets back.
    pub answers: &'a [(String, String, String)],
    /// When it changes: the setting that says whether the tenant is sending history, and its
    /// new value.
    pub backfilling: Option<(String, bool)>,
    /// The plan versions its new events record (amendments, proposals, passed votes), stored
    /// with them in the same transaction.
    pub plans: &'a [PlanChange],
    /// With several nodes: this node's id and the lease epoch it holds the tenant under. The
    /// append is refused ([`StoreError::LeaseLost`]) when the lease has moved on: the fence that
    /// keeps a node that lost its lease from writing after the new owner.
    pub lease: Option<(&'a str, i64)>,
    /// The transparency log's rows: the subtree hashes the lines complete and the head signed
    /// over them.
    pub tree: Option<&'a TreeRows>,
}

/// What a group commit adds to a tenant's Merkle tree (docs/transparency.md).
#[derive(Clone, Debug, Default)]
pub struct TreeRows {
    /// Perfect subtrees of 256 lines or more completed: (level, index, hash in hex).
    pub nodes: Vec<(u32, u64, String)>,
    /// The head signed after the commit.
    pub head: Option<HeadRow>,
}

/// A signed tree head as `heads` keeps it (hashes, key and signature in hex).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct HeadRow {
    /// Lines in the tree.
    pub size: u64,
    /// Its root.
    pub root: String,
    /// When it was signed.
    pub time: String,
    /// The Ed25519 public key.
    pub public_key: String,
    /// The signature.
    pub signature: String,
}

/// A plan version an event of the log records, stored with the event ([`Append::plans`]).
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum PlanChange {
    /// An accepted `amend_plan`: a new version, recorded at `line`.
    Amendment {
        /// The log line of the event.
        line: u64,
        /// The plan's text, as the event has it.
        text: String,
        /// When it takes effect (RFC 3339).
        effective_at: String,
        /// The event's time.
        recorded_at: String,
        /// The key that sent it (its id).
        by: Option<String>,
    },
    /// An accepted `propose`: a new version, put to the members' vote.
    Proposed {
        /// The proposal's id.
        proposal: String,
        /// The plan's text, as the event has it.
        text: String,
        /// The event's time.
        recorded_at: String,
        /// The key that sent it (its id).
        by: Option<String>,
    },
    /// A `tally` that passed the proposal and recorded it as an amendment at `line`.
    Passed {
        /// The proposal's id.
        proposal: String,
        /// The log line of the tally.
        line: u64,
        /// When it takes effect (RFC 3339).
        effective_at: String,
        /// The tally's time.
        recorded_at: String,
    },
}

/// The SQL of a [`PlanChange`] and its parameters, alike on both databases (`CAST`, not `::`).
impl PlanChange {
    fn sql(&self) -> &'static str {
        match self {
            PlanChange::Amendment { .. } | PlanChange::Proposed { .. } => {
                "INSERT INTO plans (tenant, version, text, key_id, line, effective_at, recorded_at, proposal)
                 SELECT CAST($1 AS TEXT), COALESCE(MAX(version), 0) + 1, CAST($2 AS TEXT), CAST($3 AS TEXT),
                     CAST($4 AS BIGINT), CAST($5 AS TEXT), CAST($6 AS TEXT), CAST($7 AS TEXT)
                 FROM plans WHERE tenant = $1"
            }
            PlanChange::Passed { .. } => {
                // In the order the parameters first appear: SQLite numbers `$N` that way.
                "UPDATE plans SET line = $1, effective_at = $2, recorded_at = $3
                 WHERE tenant = $4 AND proposal = $5 AND line IS NULL"
            }
        }
    }

    fn params<'a>(&'a self, tenant: &'a str) -> Vec<P<'a>> {
        match self {
            PlanChange::Amendment { line, text, effective_at, recorded_at, by } => vec![
                P::Text(tenant),
                P::Text(text),
                P::OptText(by.as_deref()),
                P::OptInt(Some(*line as i64)),
                P::OptText(Some(effective_at)),
                P::OptText(Some(recorded_at)),
                P::OptText(None),
            ],
            PlanChange::Proposed { proposal, text, recorded_at, by } => vec![
                P::Text(tenant),
                P::Text(text),
                P::OptText(by.as_deref()),
                P::OptInt(None),
                P::OptText(None),
                P::OptText(Some(recorded_at)),
                P::OptText(Some(proposal)),
            ],
            PlanChange::Passed { proposal, line, effective_at, recorded_at } => vec![
                P::Int(*line as i64),
                P::Text(effective_at),
                P::Text(recorded_at),
                P::Text(tenant),
                P::Text(proposal),
            ],
        }
    }
}

/// A stored plan version, as `GET /v1/plan/versions` lists it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PlanRow {
    /// Its number, from 1 per tenant.
    pub version: i64,
    /// The plan's text.
    pub text: String,
    /// The key that put it or sent its event (its id).
    pub key_id: Option<String>,
    /// The log line that recorded it (an amendment); `None` for a base plan or a proposal.
    pub line: Option<u64>,
    /// When it takes effect (an amendment).
    pub effective_at: Option<String>,
    /// When it was put or recorded (`None` for a base plan stored before this was kept).
    pub recorded_at: Option<String>,
    /// The proposal it was put to the vote as.
    pub proposal: Option<String>,
}

impl PlanRow {
    /// A base plan: put before the log started, what a replay starts from.
    pub fn is_base(&self) -> bool {
        self.line.is_none() && self.proposal.is_none()
    }
}

/// A tenant's outbox at a glance.
pub struct OutboxStatus {
    /// Notifications waiting.
    pub pending: i64,
    /// Notifications acknowledged.
    pub delivered: i64,
    /// Dead letters: given up after the last allowed attempt, waiting for a replay.
    pub dead: i64,
    /// The oldest waiting one's failed attempts and last error.
    pub head: Option<(i64, Option<String>)>,
}

/// A notification waiting in the outbox.
pub struct Pending {
    /// Its id: the outbox's order, and the `X-Fanli-Delivery` header.
    pub id: i64,
    /// The JSON sent.
    pub body: String,
    /// Failed attempts so far.
    pub attempts: i64,
    /// Not to be tried before this time (Unix milliseconds).
    pub next_at: i64,
}

/// A notification the deliverer gave up on, as `GET /v1/webhook/dead` lists it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct DeadLetter {
    /// Its outbox id (`X-Fanli-Delivery`, the same when replayed).
    pub id: i64,
    /// The JSON it sends.
    pub body: String,
    /// The attempts made.
    pub attempts: i64,
    /// The last attempt's failure.
    pub last_error: Option<String>,
    /// When it was given up (Unix milliseconds).
    pub dead_at: i64,
}

/// A key as stored: its id, hash, tenant, role name and scope, and its life: when and by which
/// key it was made and revoked.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct StoredKey {
    /// Its id: 16 hex digits, random, what the API and the console name it by.
    pub id: String,
    /// The SHA-256 (hex) of the key.
    pub hash: String,
    /// Its tenant.
    pub tenant: String,
    /// Its role's name.
    pub role: String,
    /// The brand, store or member it is limited to.
    pub scope: Option<String>,
    /// When it was made (Unix milliseconds); `None` for a key made before keys had times.
    pub created_at: Option<i64>,
    /// The id of the key that made it, `master` for a tenant's first owner key (the master key
    /// made it); `None` for a key made before keys said so.
    pub created_by: Option<String>,
    /// When it was revoked (Unix milliseconds); `None` while it is live.
    pub revoked_at: Option<i64>,
    /// The id of the key that revoked it.
    pub revoked_by: Option<String>,
}

/// The columns [`StoredKey::read`] reads, in its order.
const KEY_COLUMNS: &str = "id, hash, tenant, role, scope, created_at, created_by, revoked_at, revoked_by";

impl StoredKey {
    fn read(mut row: Row) -> StoredKey {
        StoredKey {
            id: row.text(0),
            hash: row.text(1),
            tenant: row.text(2),
            role: row.text(3),
            scope: row.opt_text(4),
            created_at: row.opt_int(5),
            created_by: row.opt_text(6),
            revoked_at: row.opt_int(7),
            revoked_by: row.opt_text(8),
        }
    }

    /// Whether it has been revoked.
    pub fn revoked(&self) -> bool {
        self.revoked_at.is_some()
    }
}

/// Who set the tenant's settings kept beside the log ([`Store::settings_by`]): key ids, `None`
/// for rows written before keys had ids.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct SetBy {
    /// Each brand, with the key that registered it.
    pub brands: Vec<(String, Option<String>)>,
    /// Each store put in a brand: (store, brand, the key that put it there last).
    pub stores: Vec<(String, String, Option<String>)>,
    /// The webhook's URL, with the key that set it last.
    pub webhook: Option<(String, Option<String>)>,
}

/// A line of a tenant's log with the key that wrote it, as the console's audit page lists them.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Write {
    /// The line's number in the log.
    pub line: u64,
    /// The chained line.
    pub event: String,
    /// The id of the key that wrote it; `None` for the server's own lines (the scheduler's day
    /// closes) and for lines logged before writes named their key.
    pub key: Option<String>,
    /// That key's role and scope, as stored.
    pub role: Option<(String, Option<String>)>,
}

/// What a group's append in parts answers on PostgreSQL, which appends a group at once.
fn in_one_append() -> StoreError {
    StoreError::Io(std::io::Error::other("PostgreSQL appends a group in one transaction call"))
}

/// A group commit's rows on SQLite, in the transaction open on `tx` ([`Store::append`], or
/// [`Store::append_part`]'s parts). A tenant whose lease moved on fails it
/// ([`StoreError::LeaseLost`]).
fn sqlite_append(tx: &rusqlite::Connection, appends: &[Append<'_>]) -> Result<()> {
    let mut insert =
        tx.prepare_cached("INSERT INTO events (tenant, seq, line, key_id) VALUES ($1, $2, $3, $4)")?;
    let mut outbox = tx.prepare_cached("INSERT INTO outbox (tenant, body) VALUES ($1, $2)")?;
    let mut reports = tx.prepare_cached("INSERT INTO reports (tenant, line, body) VALUES ($1, $2, $3)")?;
    let mut members =
        tx.prepare_cached("INSERT INTO members (tenant, member, referrer, phone) VALUES ($1, $2, $3, $4)")?;
    let mut history =
        tx.prepare_cached("INSERT INTO history (tenant, member, line, body) VALUES ($1, $2, $3, $4)")?;
    let mut days = tx
        .prepare_cached("INSERT INTO days (tenant, line, at, members, orders) VALUES ($1, $2, $3, $4, $5)")?;
    let mut answers =
        tx.prepare_cached("INSERT INTO answers (tenant, id, request, body) VALUES ($1, $2, $3, $4)")?;
    // The same fence as PostgreSQL's (the server on SQLite is one node and
    // appends under no lease, so it never refuses there).
    let mut lease =
        tx.prepare_cached("SELECT 1 FROM leases WHERE tenant = $1 AND node = $2 AND epoch = $3")?;
    for append in appends {
        if let Some((node, epoch)) = append.lease
            && !lease.exists(rusqlite::params![append.tenant, node, epoch])?
        {
            return Err(StoreError::LeaseLost(append.tenant.to_owned()));
        }
        for (i, line) in append.lines.iter().enumerate() {
            let seq = (append.after + i as u64 + 1) as i64;
            let by = append.by.get(i).and_then(Option::as_deref);
            insert.execute(rusqlite::params![append.tenant, seq, line, by])?;
        }
        for body in append.notifications {
            outbox.execute(rusqlite::params![append.tenant, body])?;
        }
        for (line, body) in append.reports {
            reports.execute(rusqlite::params![append.tenant, *line as i64, body])?;
        }
        for (member, referrer, phone) in append.members {
            members.execute(rusqlite::params![append.tenant, member, referrer, phone])?;
        }
        for (member, line, body) in append.history {
            history.execute(rusqlite::params![append.tenant, member, *line as i64, body])?;
        }
        for (line, at, count, orders) in append.days {
            days.execute(rusqlite::params![append.tenant, *line as i64, at, *count as i64, *orders as i64])?;
        }
        for (id, request, body) in append.answers {
            answers.execute(rusqlite::params![append.tenant, id, request, body])?;
        }
        for change in append.plans {
            let params = change.params(append.tenant);
            let values = sqlite_params(&params);
            tx.prepare_cached(change.sql())?.execute(rusqlite::params_from_iter(values.iter()))?;
        }
        if let Some((key, backfilling)) = &append.backfilling {
            tx.execute(SET_SETTING, rusqlite::params![key, if *backfilling { "1" } else { "0" }])?;
        }
        if let Some(tree) = append.tree {
            let mut node = tx.prepare_cached(MERKLE_INSERT)?;
            for (level, index, hash) in &tree.nodes {
                node.execute(rusqlite::params![append.tenant, level, *index as i64, hash])?;
            }
            if let Some(h) = &tree.head {
                let mut head = tx.prepare_cached(HEAD_INSERT)?;
                let size = h.size as i64;
                head.execute(rusqlite::params![
                    append.tenant,
                    size,
                    h.root,
                    h.time,
                    h.public_key,
                    h.signature
                ])?;
            }
        }
    }
    Ok(())
}

impl Store {
    /// Opens (or creates) the store: SQLite in `dir` without a `database`, else PostgreSQL at
    /// that `postgres://` URL (its tables in the connection's schema). `dir` must exist: it
    /// holds the SQLite file and, in both cases, the snapshot files.
    pub fn open(dir: &Path, database: Option<&str>) -> Result<Store> {
        let db = match database {
            None => {
                let db = rusqlite::Connection::open(dir.join("fanli.sqlite3"))?;
                // Other threads have connections of their own: wait for the writer, don't fail.
                db.busy_timeout(std::time::Duration::from_secs(10))?;
                // WAL: readers do not block the writer, and a commit is one fsync of the log.
                db.pragma_update(None, "journal_mode", "WAL")?;
                db.pragma_update(None, "synchronous", "FULL")?;
                let schema = SCHEMA
                    .replace("{int}", "INTEGER")
                    .replace("{serial}", "INTEGER PRIMARY KEY AUTOINCREMENT");
                db.execute_batch(&schema)?;
                migrate(&mut Conn::Sqlite(&db))?;
                Db::Sqlite(db)
            }
            Some(url) => {
                let mut client = postgres::Client::connect(url, postgres::NoTls)?;
                // Nodes starting together: one creates and migrates the tables at a time, in one
                // transaction that holds a transaction-level lock until it commits (a session
                // lock released before the commit let the next node create them again).
                let schema = SCHEMA.replace("{int}", "BIGINT").replace("{serial}", "BIGSERIAL PRIMARY KEY");
                client.batch_execute("BEGIN; SELECT pg_advisory_xact_lock(7460)")?;
                let made = client
                    .batch_execute(&schema)
                    .map_err(StoreError::from)
                    .and_then(|()| migration_steps(&mut Conn::Postgres(&mut client)));
                match made {
                    Ok(()) => client.batch_execute("COMMIT")?,
                    Err(error) => {
                        let _ = client.batch_execute("ROLLBACK");
                        return Err(error);
                    }
                }
                let lease = client.prepare(
                    "SELECT 1 FROM leases WHERE tenant = $1 AND node = $2 AND epoch = $3 FOR UPDATE",
                )?;
                let events = client.prepare(
                    "INSERT INTO events (tenant, seq, line, key_id)
                     SELECT $1, * FROM unnest($2::bigint[], $3::text[], $4::text[])",
                )?;
                let outbox = client.prepare(
                    "INSERT INTO outbox (tenant, body) SELECT $1, body
                     FROM unnest($2::text[]) WITH ORDINALITY AS u(body, n) ORDER BY n",
                )?;
                let reports = client.prepare(
                    "INSERT INTO reports (tenant, line, body) SELECT $1, * FROM unnest($2::bigint[], $3::text[])",
                )?;
                let members = client.prepare(
                    "INSERT INTO members (tenant, member, referrer, phone)
                     SELECT $1, * FROM unnest($2::text[], $3::text[], $4::text[])",
                )?;
                let history = client.prepare(
                    "INSERT INTO history (tenant, member, line, body)
                     SELECT $1, * FROM unnest($2::text[], $3::bigint[], $4::text[])",
                )?;
                let answers = client.prepare(
                    "INSERT INTO answers (tenant, id, request, body)
                     SELECT $1, * FROM unnest($2::text[], $3::text[], $4::text[])",
                )?;
                Db::Postgres(Box::new(Pg {
                    client,
                    lease,
                    events,
                    outbox,
                    reports,
                    members,
                    history,
                    answers,
                }))
            }
        };
        Ok(Store { db, dir: dir.to_owned() })
    }

    /// Runs `sql` (`SET` statements) on a PostgreSQL connection, for the rest of its session; on
    /// SQLite, nothing (a cluster node's settings, see `cluster::store_settings`).
    pub fn session(&mut self, sql: &str) -> Result<()> {
        if let Db::Postgres(db) = &mut self.db {
            db.client.batch_execute(sql)?;
        }
        Ok(())
    }

    /// SQLite: makes this connection the writer's. It no longer copies the write-ahead log
    /// into the database file at its commits (SQLite's automatic checkpoint, two fsyncs inside a
    /// commit once the log passes 1,000 pages): another connection does it with
    /// [`Store::checkpoint`], so a group commit waits for one fsync, its own. (Its page cache
    /// stays SQLite's 2 MiB: 64 MiB cost 10% more CPU in `xtask load`, each commit's end walking
    /// the larger cache, for reads the OS's cache answers anyway.) Nothing on PostgreSQL.
    pub fn become_writer(&mut self) -> Result<()> {
        if let Db::Sqlite(db) = &self.db {
            // The log file is cut back to this size once a checkpoint has emptied it.
            db.pragma_update(None, "journal_size_limit", 64 << 20)?;
            // Last: if it fails, this connection still checkpoints as before.
            db.pragma_update(None, "wal_autocheckpoint", 0)?;
        }
        Ok(())
    }

    /// SQLite: copies what the write-ahead log holds into the database file, as far as no
    /// reader still needs it (a passive checkpoint: it never waits for the writer nor blocks
    /// it); the next commit then starts the log again from its beginning. Nothing on
    /// PostgreSQL.
    pub fn checkpoint(&mut self) -> Result<()> {
        if let Db::Sqlite(db) = &self.db {
            db.query_row("PRAGMA wal_checkpoint(PASSIVE)", [], |_| Ok(()))?;
        }
        Ok(())
    }

    /// Whether the PostgreSQL connection is known to be lost (a statement failed on it: the
    /// database ended it, or the network did); never on SQLite.
    pub fn closed(&self) -> bool {
        matches!(&self.db, Db::Postgres(db) if db.client.is_closed())
    }

    /// Whether this is PostgreSQL.
    pub fn is_postgres(&self) -> bool {
        matches!(self.db, Db::Postgres(_))
    }

    /// The connection, for one statement.
    fn conn(&mut self) -> Conn<'_> {
        match &mut self.db {
            Db::Sqlite(db) => Conn::Sqlite(db),
            Db::Postgres(db) => Conn::Postgres(&mut db.client),
        }
    }

    fn execute(&mut self, sql: &str, params: &[P<'_>]) -> Result<u64> {
        self.conn().execute(sql, params)
    }

    fn query(&mut self, sql: &str, params: &[P<'_>]) -> Result<Vec<Row>> {
        self.conn().query(sql, params)
    }

    fn query_one(&mut self, sql: &str, params: &[P<'_>]) -> Result<Option<Row>> {
        Ok(self.query(sql, params)?.into_iter().next())
    }

    /// Runs `f`'s statements in one transaction: all of them are kept, or none.
    fn atomically<T>(&mut self, f: impl FnOnce(&mut Conn<'_>) -> Result<T>) -> Result<T> {
        self.conn().atomically(f)
    }

    /// A setting.
    pub fn setting(&mut self, key: &str) -> Result<Option<String>> {
        Ok(self
            .query_one("SELECT value FROM settings WHERE key = $1", &[P::Text(key)])?
            .map(|mut r| r.text(0)))
    }

    /// Sets a setting.
    pub fn set_setting(&mut self, key: &str, value: &str) -> Result<()> {
        self.execute(SET_SETTING, &[P::Text(key), P::Text(value)]).map(drop)
    }

    /// Creates the tenant `owner.tenant` with `owner` as its first owner key (the hash kept in
    /// `tenants` too, as the first version kept it), in one transaction; `false` when the id or
    /// the key's hash is taken.
    pub fn create_tenant(&mut self, owner: &StoredKey) -> Result<bool> {
        self.atomically(|conn| {
            let sql = "INSERT INTO tenants (id, key_hash) VALUES ($1, $2) ON CONFLICT DO NOTHING";
            if conn.execute(sql, &[P::Text(&owner.tenant), P::Text(&owner.hash)])? == 0 {
                return Ok(false);
            }
            insert_key(conn, owner)?;
            Ok(true)
        })
    }

    /// Stores a key (its hash, never the key), with its id, tenant, role, scope and who made it.
    /// A hash or an id already stored is an error.
    pub fn add_key(&mut self, key: &StoredKey) -> Result<()> {
        insert_key(&mut self.conn(), key)
    }

    /// Every live key (not revoked), of every tenant: what a single node trusts from its start.
    pub fn keys(&mut self) -> Result<Vec<StoredKey>> {
        let sql = format!("SELECT {KEY_COLUMNS} FROM keys WHERE revoked_at IS NULL");
        Ok(self.query(&sql, &[])?.into_iter().map(StoredKey::read).collect())
    }

    /// A tenant's keys, revoked ones too, in the order they were made (to the millisecond: keys
    /// made in the same one by id; keys older than their times first), at most `limit` from the
    /// `offset`-th; and how many it has in all.
    pub fn tenant_keys(&mut self, tenant: &str, offset: u64, limit: u32) -> Result<(u64, Vec<StoredKey>)> {
        let count = "SELECT COUNT(*) FROM keys WHERE tenant = $1";
        let total = self.query_one(count, &[P::Text(tenant)])?.map_or(0, |r| r.int(0)) as u64;
        let sql = format!(
            "SELECT {KEY_COLUMNS} FROM keys WHERE tenant = $1
             ORDER BY COALESCE(created_at, 0), id LIMIT $2 OFFSET $3"
        );
        let rows = self.query(&sql, &[P::Text(tenant), P::Int(i64::from(limit)), P::Int(offset as i64)])?;
        Ok((total, rows.into_iter().map(StoredKey::read).collect()))
    }

    /// One of a tenant's keys by its id, revoked or not.
    pub fn key(&mut self, tenant: &str, id: &str) -> Result<Option<StoredKey>> {
        let sql = format!("SELECT {KEY_COLUMNS} FROM keys WHERE tenant = $1 AND id = $2");
        Ok(self.query_one(&sql, &[P::Text(tenant), P::Text(id)])?.map(StoredKey::read))
    }

    /// How many live owner keys the tenant has.
    pub fn owner_keys(&mut self, tenant: &str) -> Result<u64> {
        let sql = "SELECT COUNT(*) FROM keys WHERE tenant = $1 AND role = 'owner' AND revoked_at IS NULL";
        Ok(self.query_one(sql, &[P::Text(tenant)])?.map_or(0, |r| r.int(0)) as u64)
    }

    /// Revokes the tenant's key `id` at `at` (Unix milliseconds) by the key `by`, and counts one
    /// more revocation, in one transaction. Returns the key as it is now; a key revoked already
    /// stays as it was (its first revocation holds); `None` when the tenant has no such key.
    pub fn revoke_key(&mut self, tenant: &str, id: &str, at: i64, by: &str) -> Result<Option<StoredKey>> {
        self.atomically(|conn| revoke(conn, tenant, id, at, by))?;
        self.key(tenant, id)
    }

    /// Rotates the tenant's key `old`: stores `new` (made by `new.created_by`) and revokes `old`
    /// at `new.created_at` by the same key, in one transaction. Returns the old key as it is now;
    /// nothing is stored (and `None` comes back) when the tenant has no live key `old`.
    pub fn rotate_key(&mut self, old: &str, new: &StoredKey) -> Result<Option<StoredKey>> {
        let at = new.created_at.unwrap_or_default();
        let by = new.created_by.as_deref().unwrap_or_default();
        let rotated = self.atomically(|conn| {
            let live = "SELECT 1 FROM keys WHERE tenant = $1 AND id = $2 AND revoked_at IS NULL";
            if conn.query_one(live, &[P::Text(&new.tenant), P::Text(old)])?.is_none() {
                return Ok(false);
            }
            insert_key(conn, new)?;
            revoke(conn, &new.tenant, old, at, by)?;
            Ok(true)
        })?;
        if !rotated {
            return Ok(None);
        }
        self.key(&new.tenant, old)
    }

    /// How many revocations the store has seen: a node whose count is behind this one may trust
    /// a revoked key, and reads [`Store::revoked_keys`] again.
    pub fn revocations(&mut self) -> Result<i64> {
        let row = self.query_one("SELECT value FROM settings WHERE key = 'key_revocations'", &[])?;
        Ok(row.and_then(|mut r| r.text(0).parse().ok()).unwrap_or(0))
    }

    /// Every revoked key: (hash, tenant, id).
    pub fn revoked_keys(&mut self) -> Result<Vec<(String, String, String)>> {
        let sql = "SELECT hash, tenant, id FROM keys WHERE revoked_at IS NOT NULL";
        Ok(self.query(sql, &[])?.into_iter().map(|mut r| (r.text(0), r.text(1), r.text(2))).collect())
    }

    /// Registers a brand for the key `by` (its id); `false` when the tenant has it already.
    pub fn add_brand(&mut self, tenant: &str, brand: &str, by: Option<&str>) -> Result<bool> {
        let sql = "INSERT INTO brands (tenant, brand, key_id) VALUES ($1, $2, $3) ON CONFLICT DO NOTHING";
        Ok(self.execute(sql, &[P::Text(tenant), P::Text(brand), P::OptText(by)])? == 1)
    }

    /// Puts a store in a brand (or moves it), for the key `by`.
    pub fn set_store_brand(
        &mut self,
        tenant: &str,
        store: &str,
        brand: &str,
        by: Option<&str>,
    ) -> Result<()> {
        let sql = "INSERT INTO store_brands (tenant, store, brand, key_id) VALUES ($1, $2, $3, $4)
                   ON CONFLICT (tenant, store) DO UPDATE SET brand = excluded.brand, key_id = excluded.key_id";
        self.execute(sql, &[P::Text(tenant), P::Text(store), P::Text(brand), P::OptText(by)]).map(drop)
    }

    /// Who set what beside the log: each brand with the key that registered it, each store's
    /// brand with the key that last put it there, and the webhook's URL with the key that last
    /// set it; in id order.
    pub fn settings_by(&mut self, tenant: &str) -> Result<SetBy> {
        let brands = self
            .query("SELECT brand, key_id FROM brands WHERE tenant = $1 ORDER BY brand", &[P::Text(tenant)])?;
        let sql = "SELECT store, brand, key_id FROM store_brands WHERE tenant = $1 ORDER BY store";
        let stores = self.query(sql, &[P::Text(tenant)])?;
        let webhook =
            self.query_one("SELECT url, key_id FROM webhooks WHERE tenant = $1", &[P::Text(tenant)])?;
        Ok(SetBy {
            brands: brands.into_iter().map(|mut r| (r.text(0), r.opt_text(1))).collect(),
            stores: stores.into_iter().map(|mut r| (r.text(0), r.text(1), r.opt_text(2))).collect(),
            webhook: webhook.map(|mut r| (r.text(0), r.opt_text(1))),
        })
    }

    /// Every (tenant, brand), and every (tenant, store, brand).
    #[allow(clippy::type_complexity)]
    pub fn brands(&mut self) -> Result<(Vec<(String, String)>, Vec<(String, String, String)>)> {
        let brands = self.query("SELECT tenant, brand FROM brands", &[])?;
        let stores = self.query("SELECT tenant, store, brand FROM store_brands", &[])?;
        Ok((
            brands.into_iter().map(|mut r| (r.text(0), r.text(1))).collect(),
            stores.into_iter().map(|mut r| (r.text(0), r.text(1), r.text(2))).collect(),
        ))
    }

    /// The number of the tenant's latest plan version (0: none yet).
    pub fn plan_version(&mut self, tenant: &str) -> Result<i64> {
        let sql = "SELECT COALESCE(MAX(version), 0) FROM plans WHERE tenant = $1";
        Ok(self.query_one(sql, &[P::Text(tenant)])?.map_or(0, |r| r.int(0)))
    }

    /// Stores a new plan version, put by the key `by` (its id; `None`: not by a key, as
    /// `cargo xtask restart` puts one); returns its number.
    pub fn add_plan(&mut self, tenant: &str, text: &str, by: Option<&str>) -> Result<i64> {
        let next = "SELECT COALESCE(MAX(version), 0) + 1 FROM plans WHERE tenant = $1";
        let version = self.query_one(next, &[P::Text(tenant)])?.map_or(1, |r| r.int(0));
        let sql =
            "INSERT INTO plans (tenant, version, text, key_id, recorded_at) VALUES ($1, $2, $3, $4, $5)";
        let now = fanli_engine::Timestamp::from_unix_nanos(
            std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .map_or(0, |d| d.as_nanos() as i64),
        )
        .to_string();
        self.execute(sql, &[P::Text(tenant), P::Int(version), P::Text(text), P::OptText(by), P::Text(&now)])?;
        Ok(version)
    }

    /// Every version of the tenant's plan, oldest first, with what it is (base plan, amendment,
    /// proposal).
    pub fn plan_rows(&mut self, tenant: &str) -> Result<Vec<PlanRow>> {
        let sql = "SELECT version, text, key_id, line, effective_at, recorded_at, proposal FROM plans
                   WHERE tenant = $1 ORDER BY version";
        Ok(self
            .query(sql, &[P::Text(tenant)])?
            .into_iter()
            .map(|mut r| PlanRow {
                version: r.int(0),
                text: r.text(1),
                key_id: r.opt_text(2),
                line: r.opt_int(3).map(|l| l as u64),
                effective_at: r.opt_text(4),
                recorded_at: r.opt_text(5),
                proposal: r.opt_text(6),
            })
            .collect())
    }

    /// Every version of the tenant's plan, oldest first: (version, the key that put it).
    pub fn plan_versions(&mut self, tenant: &str) -> Result<Vec<(i64, Option<String>)>> {
        let sql = "SELECT version, key_id FROM plans WHERE tenant = $1 ORDER BY version";
        Ok(self.query(sql, &[P::Text(tenant)])?.into_iter().map(|mut r| (r.int(0), r.opt_text(1))).collect())
    }

    /// Appends each tenant's lines after its log's end, its notifications to the outbox and its
    /// daily reports, all in one transaction: a group commit, and a notification or a report
    /// exists if and only if its event does. On PostgreSQL each kind of row goes in one
    /// statement per tenant (arrays, `unnest`), not one round trip per row.
    pub fn append(&mut self, appends: &[Append<'_>]) -> Result<()> {
        match &mut self.db {
            Db::Sqlite(db) => {
                let tx = db.transaction()?;
                sqlite_append(&tx, appends)?;
                tx.commit()?;
            }
            Db::Postgres(db) => {
                let Pg { client, lease, events, outbox, reports, members, history, answers } = &mut **db;
                let mut tx = client.transaction()?;
                for append in appends {
                    if let Some((node, epoch)) = append.lease {
                        let held = tx.query_opt(&*lease, &[&append.tenant, &node, &epoch])?;
                        if held.is_none() {
                            return Err(StoreError::LeaseLost(append.tenant.to_owned()));
                        }
                    }
                    if !append.lines.is_empty() {
                        let seqs: Vec<i64> =
                            (1..=append.lines.len() as u64).map(|i| (append.after + i) as i64).collect();
                        let by: Vec<Option<&str>> = (0..append.lines.len())
                            .map(|i| append.by.get(i).and_then(Option::as_deref))
                            .collect();
                        tx.execute(&*events, &[&append.tenant, &seqs, &append.lines, &by])?;
                    }
                    if !append.notifications.is_empty() {
                        tx.execute(&*outbox, &[&append.tenant, &append.notifications])?;
                    }
                    if !append.reports.is_empty() {
                        let lines: Vec<i64> = append.reports.iter().map(|(l, _)| *l as i64).collect();
                        let bodies: Vec<&str> = append.reports.iter().map(|(_, b)| b.as_str()).collect();
                        tx.execute(&*reports, &[&append.tenant, &lines, &bodies])?;
                    }
                    if !append.members.is_empty() {
                        let ids: Vec<&str> = append.members.iter().map(|m| m.0.as_str()).collect();
                        let referrers: Vec<Option<&str>> =
                            append.members.iter().map(|m| m.1.as_deref()).collect();
                        let phones: Vec<Option<&str>> =
                            append.members.iter().map(|m| m.2.as_deref()).collect();
                        tx.execute(&*members, &[&append.tenant, &ids, &referrers, &phones])?;
                    }
                    if !append.history.is_empty() {
                        let ids: Vec<&str> = append.history.iter().map(|h| h.0.as_str()).collect();
                        let lines: Vec<i64> = append.history.iter().map(|h| h.1 as i64).collect();
                        let bodies: Vec<&str> = append.history.iter().map(|h| h.2.as_str()).collect();
                        tx.execute(&*history, &[&append.tenant, &ids, &lines, &bodies])?;
                    }
                    for (line, at, count, orders) in append.days {
                        tx.execute(
                            "INSERT INTO days (tenant, line, at, members, orders) VALUES ($1, $2, $3, $4, $5)",
                            &[&append.tenant, &(*line as i64), at, &(*count as i64), &(*orders as i64)],
                        )?;
                    }
                    if !append.answers.is_empty() {
                        let ids: Vec<&str> = append.answers.iter().map(|a| a.0.as_str()).collect();
                        let requests: Vec<&str> = append.answers.iter().map(|a| a.1.as_str()).collect();
                        let bodies: Vec<&str> = append.answers.iter().map(|a| a.2.as_str()).collect();
                        tx.execute(&*answers, &[&append.tenant, &ids, &requests, &bodies])?;
                    }
                    for change in append.plans {
                        let params = change.params(append.tenant);
                        let values = postgres_params(&params);
                        let refs: Vec<&(dyn postgres::types::ToSql + Sync)> =
                            values.iter().map(|v| &**v).collect();
                        tx.execute(change.sql(), &refs)?;
                    }
                    if let Some((key, backfilling)) = &append.backfilling {
                        tx.execute(SET_SETTING, &[key, &if *backfilling { "1" } else { "0" }])?;
                    }
                    if let Some(tree) = append.tree {
                        if !tree.nodes.is_empty() {
                            let levels: Vec<i64> = tree.nodes.iter().map(|n| i64::from(n.0)).collect();
                            let indexes: Vec<i64> = tree.nodes.iter().map(|n| n.1 as i64).collect();
                            let hashes: Vec<&str> = tree.nodes.iter().map(|n| n.2.as_str()).collect();
                            tx.execute(
                                "INSERT INTO merkle (tenant, level, idx, hash)
                                 SELECT $1, * FROM unnest($2::bigint[], $3::bigint[], $4::text[])
                                 ON CONFLICT DO NOTHING",
                                &[&append.tenant, &levels, &indexes, &hashes],
                            )?;
                        }
                        if let Some(h) = &tree.head {
                            let size = h.size as i64;
                            tx.execute(
                                HEAD_INSERT,
                                &[&append.tenant, &size, &h.root, &h.time, &h.public_key, &h.signature],
                            )?;
                        }
                    }
                }
                tx.commit()?;
            }
        }
        Ok(())
    }

    /// SQLite: opens a group commit's transaction, to which [`Store::append_part`] adds rows
    /// in parts (a group's first lines while the engine still applies its last) and which
    /// [`Store::end_append`] commits or rolls back: the same rows in the same transaction as
    /// one [`Store::append`]. PostgreSQL appends a group in one [`Store::append`] (an error
    /// here).
    pub fn begin_append(&mut self) -> Result<()> {
        match &mut self.db {
            Db::Sqlite(db) => Ok(db.execute_batch("BEGIN")?),
            Db::Postgres(_) => Err(in_one_append()),
        }
    }

    /// SQLite: adds `appends`' rows to the transaction [`Store::begin_append`] opened, as
    /// [`Store::append`] would (a part's tenant may come again in a later part, its lines
    /// after these).
    pub fn append_part(&mut self, appends: &[Append<'_>]) -> Result<()> {
        match &mut self.db {
            Db::Sqlite(db) => sqlite_append(db, appends),
            Db::Postgres(_) => Err(in_one_append()),
        }
    }

    /// SQLite: commits (`commit`) or rolls back the transaction [`Store::begin_append`]
    /// opened; a commit that fails rolls it back. Nothing is left open either way.
    pub fn end_append(&mut self, commit: bool) -> Result<()> {
        match &mut self.db {
            Db::Sqlite(db) => {
                let ended = if commit { db.execute_batch("COMMIT") } else { Ok(()) };
                if (!commit || ended.is_err()) && !db.is_autocommit() {
                    db.execute_batch("ROLLBACK")?;
                }
                Ok(ended?)
            }
            Db::Postgres(_) => Err(in_one_append()),
        }
    }

    /// The first answer to the order `id` posted on its own, with its request: (request, answer).
    pub fn answer(&mut self, tenant: &str, id: &str) -> Result<Option<(String, String)>> {
        let sql = "SELECT request, body FROM answers WHERE tenant = $1 AND id = $2";
        Ok(self.query_one(sql, &[P::Text(tenant), P::Text(id)])?.map(|mut r| (r.text(0), r.text(1))))
    }

    /// The tenant's daily pool reports after line `from` of its log.
    pub fn reports(&mut self, tenant: &str, from: u64) -> Result<Vec<String>> {
        let sql = "SELECT body FROM reports WHERE tenant = $1 AND line > $2 ORDER BY line";
        Ok(self
            .query(sql, &[P::Text(tenant), P::Int(from as i64)])?
            .into_iter()
            .map(|mut r| r.text(0))
            .collect())
    }

    /// At most `limit` of the tenant's daily pool reports after line `from` of its log, in
    /// order: (line, body).
    pub fn reports_after(&mut self, tenant: &str, from: u64, limit: u32) -> Result<Vec<(u64, String)>> {
        let sql = "SELECT line, body FROM reports WHERE tenant = $1 AND line > $2 ORDER BY line LIMIT $3";
        Ok(self
            .query(sql, &[P::Text(tenant), P::Int(from as i64), P::Int(i64::from(limit))])?
            .into_iter()
            .map(|mut r| (r.int(0) as u64, r.text(1)))
            .collect())
    }

    /// Sets (or with `None`, removes) a tenant's webhook, for the key `by` (a removal leaves no
    /// row, so nothing of who removed it).
    pub fn set_webhook(&mut self, tenant: &str, hook: Option<(&str, &str)>, by: Option<&str>) -> Result<()> {
        match hook {
            Some((url, secret)) => self.execute(
                "INSERT INTO webhooks (tenant, url, secret, key_id) VALUES ($1, $2, $3, $4)
                 ON CONFLICT (tenant) DO UPDATE SET url = excluded.url, secret = excluded.secret,
                     key_id = excluded.key_id",
                &[P::Text(tenant), P::Text(url), P::Text(secret), P::OptText(by)],
            ),
            None => self.execute("DELETE FROM webhooks WHERE tenant = $1", &[P::Text(tenant)]),
        }
        .map(drop)
    }

    /// A tenant's settings for its public pages (the defaults until some are set).
    pub fn tenant_settings(&mut self, tenant: &str) -> Result<TenantSettings> {
        let sql = "SELECT public_origin, public_join FROM tenant_settings WHERE tenant = $1";
        let rows = self.query(sql, &[P::Text(tenant)])?;
        Ok(match rows.into_iter().next() {
            Some(mut row) => TenantSettings { public_origin: row.opt_text(0), public_join: row.int(1) != 0 },
            None => TenantSettings::default(),
        })
    }

    /// Sets a tenant's settings for its public pages, `by` the key that did.
    pub fn set_tenant_settings(
        &mut self,
        tenant: &str,
        settings: &TenantSettings,
        by: Option<&str>,
    ) -> Result<()> {
        self.execute(
            "INSERT INTO tenant_settings (tenant, public_origin, public_join, key_id) VALUES ($1, $2, $3, $4)
             ON CONFLICT (tenant) DO UPDATE SET public_origin = excluded.public_origin,
                 public_join = excluded.public_join, key_id = excluded.key_id",
            &[
                P::Text(tenant),
                P::OptText(settings.public_origin.as_deref()),
                P::Int(i64::from(settings.public_join)),
                P::OptText(by),
            ],
        )
        .map(drop)
    }

    /// Every webhook: (tenant, url, secret).
    pub fn webhooks(&mut self) -> Result<Vec<(String, String, String)>> {
        let rows = self.query("SELECT tenant, url, secret FROM webhooks ORDER BY tenant", &[])?;
        Ok(rows.into_iter().map(|mut r| (r.text(0), r.text(1), r.text(2))).collect())
    }

    /// The webhooks of the tenants whose lease `node` holds (in a cluster, each node delivers its
    /// own tenants' notifications).
    pub fn webhooks_of(&mut self, node: &str) -> Result<Vec<(String, String, String)>> {
        let sql = "SELECT w.tenant, w.url, w.secret FROM webhooks w JOIN leases l ON l.tenant = w.tenant
                   WHERE l.node = $1 ORDER BY w.tenant";
        let rows = self.query(sql, &[P::Text(node)])?;
        Ok(rows.into_iter().map(|mut r| (r.text(0), r.text(1), r.text(2))).collect())
    }

    /// A tenant's notifications still to try (neither delivered nor dead), oldest first, at
    /// most `limit`, whether due or not.
    pub fn pending(&mut self, tenant: &str, limit: u32) -> Result<Vec<Pending>> {
        self.due(tenant, i64::MAX, limit)
    }

    /// A tenant's notifications due at `now` (Unix milliseconds: `next_at` not after it), neither
    /// delivered nor dead, oldest first, at most `limit`: a notification waiting out its backoff
    /// is passed over, so it holds up no later one.
    pub fn due(&mut self, tenant: &str, now: i64, limit: u32) -> Result<Vec<Pending>> {
        let sql = "SELECT id, body, attempts, next_at FROM outbox
                   WHERE tenant = $1 AND delivered_at IS NULL AND dead_at IS NULL AND next_at <= $2
                   ORDER BY id LIMIT $3";
        let rows = self.query(sql, &[P::Text(tenant), P::Int(now), P::Int(i64::from(limit))])?;
        Ok(rows
            .into_iter()
            .map(|mut r| Pending { id: r.int(0), body: r.text(1), attempts: r.int(2), next_at: r.int(3) })
            .collect())
    }

    /// Marks a notification delivered at `now` (Unix milliseconds).
    pub fn delivered(&mut self, id: i64, now: i64) -> Result<()> {
        self.execute("UPDATE outbox SET delivered_at = $1 WHERE id = $2", &[P::Int(now), P::Int(id)])
            .map(drop)
    }

    /// Records a failed attempt; the next one is not before `next_at` (Unix milliseconds).
    pub fn failed(&mut self, id: i64, next_at: i64, error: &str) -> Result<()> {
        let sql = "UPDATE outbox SET attempts = attempts + 1, next_at = $1, last_error = $2 WHERE id = $3";
        self.execute(sql, &[P::Int(next_at), P::Text(error), P::Int(id)]).map(drop)
    }

    /// Records a failed last attempt: the notification becomes a dead letter at `now` (Unix
    /// milliseconds), tried no more until it is replayed.
    pub fn dead(&mut self, id: i64, now: i64, error: &str) -> Result<()> {
        let sql = "UPDATE outbox SET attempts = attempts + 1, dead_at = $1, last_error = $2 WHERE id = $3";
        self.execute(sql, &[P::Int(now), P::Text(error), P::Int(id)]).map(drop)
    }

    /// A tenant's dead letters, oldest first: at most `limit` with an id above `after`.
    pub fn dead_letters(&mut self, tenant: &str, after: i64, limit: u32) -> Result<Vec<DeadLetter>> {
        let sql = "SELECT id, body, attempts, last_error, dead_at FROM outbox
                   WHERE tenant = $1 AND delivered_at IS NULL AND dead_at IS NOT NULL AND id > $2
                   ORDER BY id LIMIT $3";
        let rows = self.query(sql, &[P::Text(tenant), P::Int(after), P::Int(i64::from(limit))])?;
        Ok(rows
            .into_iter()
            .map(|mut r| DeadLetter {
                id: r.int(0),
                body: r.text(1),
                attempts: r.int(2),
                last_error: r.opt_text(3),
                dead_at: r.int(4),
            })
            .collect())
    }

    /// Puts a tenant's dead letter `id` (or, with `None`, every one of them) back in the outbox:
    /// due at once, with its attempts counted from 0 again and its last error cleared. Returns
    /// how many went back (0: no such dead letter of this tenant).
    pub fn replay(&mut self, tenant: &str, id: Option<i64>) -> Result<u64> {
        let sql = "UPDATE outbox SET dead_at = NULL, attempts = 0, next_at = 0, last_error = NULL
                   WHERE tenant = $1 AND delivered_at IS NULL AND dead_at IS NOT NULL";
        match id {
            Some(id) => self.execute(&format!("{sql} AND id = $2"), &[P::Text(tenant), P::Int(id)]),
            None => self.execute(sql, &[P::Text(tenant)]),
        }
    }

    /// A tenant's outbox: how many notifications wait, were delivered and are dead letters, and
    /// the oldest waiting one's failed attempts and last error.
    pub fn outbox_status(&mut self, tenant: &str) -> Result<OutboxStatus> {
        let counts =
            "SELECT COUNT(*) - COUNT(delivered_at) - COUNT(CASE WHEN delivered_at IS NULL THEN dead_at END),
                             COUNT(delivered_at), COUNT(CASE WHEN delivered_at IS NULL THEN dead_at END)
                      FROM outbox WHERE tenant = $1";
        let row = self.query_one(counts, &[P::Text(tenant)])?;
        let (pending, delivered, dead) = row.map_or((0, 0, 0), |r| (r.int(0), r.int(1), r.int(2)));
        let oldest = "SELECT attempts, last_error FROM outbox
                      WHERE tenant = $1 AND delivered_at IS NULL AND dead_at IS NULL ORDER BY id LIMIT 1";
        let head = self.query_one(oldest, &[P::Text(tenant)])?.map(|mut r| (r.int(0), r.opt_text(1)));
        Ok(OutboxStatus { pending, delivered, dead, head })
    }

    /// Each tenant's webhook notifications waiting to be sent and its dead letters, for
    /// `/metrics`: `(tenant, pending, dead)`, tenants with neither left out. It reads the
    /// undelivered rows only (the `outbox_pending` index), never the delivered ones.
    pub fn outbox_counts(&mut self) -> Result<Vec<(String, i64, i64)>> {
        let sql = "SELECT tenant, COUNT(*) - COUNT(dead_at), COUNT(dead_at) FROM outbox
                   WHERE delivered_at IS NULL GROUP BY tenant ORDER BY tenant";
        Ok(self.query(sql, &[])?.into_iter().map(|mut r| (r.text(0), r.int(1), r.int(2))).collect())
    }

    /// At most `limit` lines of the tenant's chained log after line `from`.
    pub fn events_page(&mut self, tenant: &str, from: u64, limit: u32) -> Result<Vec<String>> {
        let sql = "SELECT line FROM events WHERE tenant = $1 AND seq > $2 ORDER BY seq LIMIT $3";
        let rows = self.query(sql, &[P::Text(tenant), P::Int(from as i64), P::Int(i64::from(limit))])?;
        Ok(rows.into_iter().map(|mut r| r.text(0)).collect())
    }

    /// The tenant's chained log after line `from` (0: all of it).
    pub fn events(&mut self, tenant: &str, from: u64) -> Result<Vec<String>> {
        let sql = "SELECT line FROM events WHERE tenant = $1 AND seq > $2 ORDER BY seq";
        Ok(self
            .query(sql, &[P::Text(tenant), P::Int(from as i64)])?
            .into_iter()
            .map(|mut r| r.text(0))
            .collect())
    }

    /// Calls `apply` with each line of the tenant's log after line `from`, in order, reading
    /// them as it goes (a log of millions of lines is never all in memory). The first error
    /// stops the reading: `apply`'s as it was, or the store's, as the caller's error type `E`
    /// has it (see [`StoreError::database_text`] for the database's own text).
    pub fn for_each_event<E: From<StoreError>>(
        &mut self,
        tenant: &str,
        from: u64,
        mut apply: impl FnMut(&str) -> std::result::Result<(), E>,
    ) -> std::result::Result<(), E> {
        const SELECT: &str = "SELECT line FROM events WHERE tenant = $1 AND seq > $2 ORDER BY seq";
        let from = from as i64;
        match &mut self.db {
            Db::Sqlite(db) => {
                let mut select = db.prepare(SELECT).map_err(StoreError::from)?;
                let mut rows = select.query(rusqlite::params![tenant, from]).map_err(StoreError::from)?;
                while let Some(row) = rows.next().map_err(StoreError::from)? {
                    let line = row.get_ref(0).and_then(|v| Ok(v.as_str()?)).map_err(StoreError::from)?;
                    apply(line)?;
                }
            }
            Db::Postgres(db) => {
                // A portal read 10,000 rows at a time.
                let mut tx = db.client.transaction().map_err(StoreError::from)?;
                let portal = tx.bind(SELECT, &[&tenant, &from]).map_err(StoreError::from)?;
                loop {
                    let rows = tx.query_portal(&portal, 10_000).map_err(StoreError::from)?;
                    if rows.is_empty() {
                        break;
                    }
                    for row in &rows {
                        apply(row.get(0))?;
                    }
                }
            }
        }
        Ok(())
    }

    /// The tenant's latest snapshot, if any. A snapshot row whose file is missing or
    /// unreadable is an error: the caller replays the log instead.
    pub fn snapshot(&mut self, tenant: &str) -> Result<Option<Snapshot>> {
        let sql = "SELECT line, head, closed_through FROM snapshots WHERE tenant = $1";
        let Some(mut row) = self.query_one(sql, &[P::Text(tenant)])? else { return Ok(None) };
        let line = row.int(0) as u64;
        let data = std::fs::read(self.snapshot_file(tenant, line))?;
        Ok(Some(Snapshot { line, head: row.text(1), closed_through: row.opt_int(2), data }))
    }

    /// Keeps `snapshot` as the tenant's latest. The bytes go to a file of their own
    /// (`snapshots/TENANT-LINE.snap`, written to a temporary name, synced, then renamed), and only
    /// then the row that names it: a crash in between leaves the previous snapshot in force. The
    /// files of older snapshots are removed after. (Files, not rows: a large tenant's snapshot
    /// is hundreds of megabytes, past what a database row should hold.)
    pub fn put_snapshot(&mut self, tenant: &str, snapshot: &Snapshot) -> Result<()> {
        crate::perms::make_dir(&self.dir.join("snapshots"))?;
        let file = self.snapshot_file(tenant, snapshot.line);
        let temporary = file.with_extension("tmp");
        {
            use std::io::Write;
            let mut out = crate::perms::create_file(&temporary, true)?;
            out.write_all(&snapshot.data)?;
            out.sync_all()?;
        }
        std::fs::rename(&temporary, &file)?;
        let before = self.query_one("SELECT line FROM snapshots WHERE tenant = $1", &[P::Text(tenant)])?;
        self.execute(
            "INSERT INTO snapshots (tenant, line, head, closed_through) VALUES ($1, $2, $3, $4)
             ON CONFLICT (tenant) DO UPDATE SET line = excluded.line, head = excluded.head,
                 closed_through = excluded.closed_through",
            &[
                P::Text(tenant),
                P::Int(snapshot.line as i64),
                P::Text(&snapshot.head),
                P::OptInt(snapshot.closed_through),
            ],
        )?;
        if let Some(before) = before.map(|r| r.int(0) as u64).filter(|&b| b != snapshot.line) {
            let _ = std::fs::remove_file(self.snapshot_file(tenant, before));
        }
        Ok(())
    }

    fn snapshot_file(&self, tenant: &str, line: u64) -> PathBuf {
        // Tenant ids are letters, digits, `-` and `_`: safe in a file name.
        self.dir.join("snapshots").join(format!("{tenant}-{line}.snap"))
    }

    /// A live key by its hash (a revoked one is not found): for a node that did not see the key
    /// made, and in a cluster for every request.
    pub fn find_key(&mut self, hash: &str) -> Result<Option<StoredKey>> {
        let sql = format!("SELECT {KEY_COLUMNS} FROM keys WHERE hash = $1 AND revoked_at IS NULL");
        Ok(self.query_one(&sql, &[P::Text(hash)])?.map(StoredKey::read))
    }

    /// The latest `limit` lines of the tenant's log before line `before` (all with `None`),
    /// newest first, each with the key that wrote it and that key's role.
    pub fn writes(&mut self, tenant: &str, before: Option<u64>, limit: u32) -> Result<Vec<Write>> {
        let sql = "SELECT e.seq, e.line, e.key_id, k.role, k.scope FROM events e
                   LEFT JOIN keys k ON k.id = e.key_id
                   WHERE e.tenant = $1 AND e.seq < $2 ORDER BY e.seq DESC LIMIT $3";
        let before = before.map_or(i64::MAX, |b| b as i64);
        let rows = self.query(sql, &[P::Text(tenant), P::Int(before), P::Int(i64::from(limit))])?;
        Ok(rows
            .into_iter()
            .map(|mut r| {
                let role = r.opt_text(3).map(|role| (role, r.opt_text(4)));
                Write { line: r.int(0) as u64, event: r.text(1), key: r.opt_text(2), role }
            })
            .collect())
    }

    /// Members found by id or by phone (exact), at most 50: (member, referrer, phone).
    pub fn find_members(&mut self, tenant: &str, query: &str) -> Result<Vec<MemberRow>> {
        let sql =
            "SELECT member, referrer, phone FROM members WHERE tenant = $1 AND (member = $2 OR phone = $2)
                   ORDER BY member LIMIT 50";
        let rows = self.query(sql, &[P::Text(tenant), P::Text(query)])?;
        Ok(rows.into_iter().map(|mut r| (r.text(0), r.opt_text(1), r.opt_text(2))).collect())
    }

    /// The members `referrer` referred, at most `limit`, in id order.
    pub fn referees(&mut self, tenant: &str, referrer: &str, limit: u32) -> Result<Vec<String>> {
        let sql = "SELECT member FROM members WHERE tenant = $1 AND referrer = $2 ORDER BY member LIMIT $3";
        let rows = self.query(sql, &[P::Text(tenant), P::Text(referrer), P::Int(i64::from(limit))])?;
        Ok(rows.into_iter().map(|mut r| r.text(0)).collect())
    }

    /// A member's history, newest first, at most `limit` events: (line, the event's chained
    /// line, what it did to the member as a JSON array of `[rule, mechanism, account, amount]`).
    ///
    /// The index by member is keyed by part of the log first (version 7, `history_by_part`):
    /// the parts are read newest first, one statement each, until `limit` rows are found or
    /// the first part is read.
    pub fn history(&mut self, tenant: &str, member: &str, limit: u32) -> Result<Vec<(u64, String, String)>> {
        let newest = "SELECT line FROM history WHERE tenant = $1 ORDER BY line DESC LIMIT 1";
        let Some(last) = self.query_one(newest, &[P::Text(tenant)])?.map(|r| r.int(0)) else {
            return Ok(Vec::new());
        };
        let mut found = Vec::new();
        for part in (0..=last / HISTORY_PART as i64).rev() {
            let left = i64::from(limit) - found.len() as i64;
            if left <= 0 {
                break;
            }
            let rows =
                self.query(HISTORY_OF_PART, &[P::Text(tenant), P::Int(part), P::Text(member), P::Int(left)])?;
            found.extend(rows.into_iter().map(|mut r| (r.int(0) as u64, r.text(1), r.text(2))));
        }
        Ok(found)
    }

    /// The daily counts: (line, time, members, orders), oldest first.
    pub fn days(&mut self, tenant: &str) -> Result<Vec<(u64, String, u64, u64)>> {
        let sql = "SELECT line, at, members, orders FROM days WHERE tenant = $1 ORDER BY line";
        let rows = self.query(sql, &[P::Text(tenant)])?;
        Ok(rows
            .into_iter()
            .map(|mut r| (r.int(0) as u64, r.text(1), r.int(2) as u64, r.int(3) as u64))
            .collect())
    }

    /// Every tenant's id.
    pub fn tenant_ids(&mut self) -> Result<Vec<String>> {
        Ok(self
            .query("SELECT id FROM tenants ORDER BY id", &[])?
            .into_iter()
            .map(|mut r| r.text(0))
            .collect())
    }

    /// A tenant's brands and stores' brands, and webhook URL.
    #[allow(clippy::type_complexity)]
    pub fn tenant_extras(
        &mut self,
        tenant: &str,
    ) -> Result<(Vec<String>, Vec<(String, String)>, Option<String>)> {
        let brands = self.query("SELECT brand FROM brands WHERE tenant = $1", &[P::Text(tenant)])?;
        let stores =
            self.query("SELECT store, brand FROM store_brands WHERE tenant = $1", &[P::Text(tenant)])?;
        let hook = self.query_one("SELECT url FROM webhooks WHERE tenant = $1", &[P::Text(tenant)])?;
        Ok((
            brands.into_iter().map(|mut r| r.text(0)).collect(),
            stores.into_iter().map(|mut r| (r.text(0), r.text(1))).collect(),
            hook.map(|mut r| r.text(0)),
        ))
    }

    /// The node holding a tenant's lease, and the address it serves on.
    pub fn lease(&mut self, tenant: &str) -> Result<Option<(String, String)>> {
        let sql = "SELECT node, address FROM leases WHERE tenant = $1";
        Ok(self.query_one(sql, &[P::Text(tenant)])?.map(|mut r| (r.text(0), r.text(1))))
    }

    /// Takes a tenant's lease for `node` at `address`: the epoch goes up by one, which fences
    /// off every append of the node that held it before. Returns the new epoch. Call it only
    /// for a tenant no live lease names (the cluster's own take, in `cluster.rs`, checks
    /// the expiry in the same statement).
    pub fn take_lease(&mut self, tenant: &str, node: &str, address: &str) -> Result<i64> {
        let sql = "INSERT INTO leases (tenant, node, address, epoch) VALUES ($1, $2, $3, 1)
                   ON CONFLICT (tenant) DO UPDATE SET node = excluded.node, address = excluded.address,
                       epoch = leases.epoch + 1
                   RETURNING epoch";
        Ok(self.query_one(sql, &[P::Text(tenant), P::Text(node), P::Text(address)])?.map_or(1, |r| r.int(0)))
    }

    /// One tenant with its latest base plan.
    pub fn load_one(&mut self, tenant: &str) -> Result<Option<Stored>> {
        Ok(self.load()?.into_iter().find(|s| s.id == tenant))
    }

    /// Every tenant with its latest base plan (its log is read with [`Store::for_each_event`]):
    /// the plan its log starts from. Amendments are not: replaying the log records them again,
    /// and a snapshot holds the plan in force when it was taken.
    pub fn load(&mut self) -> Result<Vec<Stored>> {
        let sql = "SELECT t.id, t.key_hash, p.text FROM tenants t
                   LEFT JOIN plans p ON p.tenant = t.id
                       AND p.version = (SELECT MAX(version) FROM plans
                           WHERE tenant = t.id AND line IS NULL AND proposal IS NULL)
                   ORDER BY t.id";
        let rows = self.query(sql, &[])?;
        Ok(rows
            .into_iter()
            .map(|mut r| Stored { id: r.text(0), key_hash: r.text(1), plan: r.opt_text(2) })
            .collect())
    }
}

/// The transparency log's rows (docs/transparency.md).
impl Store {
    /// The data folder (snapshots and, by default, the signing keys are under it).
    pub fn dir(&self) -> &Path {
        &self.dir
    }

    /// The hash (hex) of the tenant's stored perfect subtree `(level, index)`, if stored.
    pub fn merkle_node(&mut self, tenant: &str, level: u32, index: u64) -> Result<Option<String>> {
        let sql = "SELECT hash FROM merkle WHERE tenant = $1 AND level = $2 AND idx = $3";
        let params = [P::Text(tenant), P::Int(i64::from(level)), P::Int(index as i64)];
        Ok(self.query_one(sql, &params)?.map(|mut r| r.text(0)))
    }

    /// Stores subtree hashes `(level, index, hex)` (those already there are kept), in one
    /// transaction.
    pub fn put_merkle_nodes(&mut self, tenant: &str, nodes: &[(u32, u64, String)]) -> Result<()> {
        self.atomically(|conn| {
            for (level, index, hash) in nodes {
                let params =
                    [P::Text(tenant), P::Int(i64::from(*level)), P::Int(*index as i64), P::Text(hash)];
                conn.execute(MERKLE_INSERT, &params)?;
            }
            Ok(())
        })
    }

    /// Keeps a signed head (one of that size already there is kept).
    pub fn put_head(&mut self, tenant: &str, head: &HeadRow) -> Result<()> {
        let params = [
            P::Text(tenant),
            P::Int(head.size as i64),
            P::Text(&head.root),
            P::Text(&head.time),
            P::Text(&head.public_key),
            P::Text(&head.signature),
        ];
        self.execute(HEAD_INSERT, &params).map(drop)
    }

    /// The tenant's signed heads, smallest first; with `latest`, only the largest.
    pub fn heads(&mut self, tenant: &str, latest: bool) -> Result<Vec<HeadRow>> {
        let sql = if latest {
            "SELECT size, root, time, public_key, signature FROM heads WHERE tenant = $1 ORDER BY size DESC LIMIT 1"
        } else {
            "SELECT size, root, time, public_key, signature FROM heads WHERE tenant = $1 ORDER BY size"
        };
        let rows = self.query(sql, &[P::Text(tenant)])?;
        Ok(rows
            .into_iter()
            .map(|mut r| HeadRow {
                size: r.int(0) as u64,
                root: r.text(1),
                time: r.text(2),
                public_key: r.text(3),
                signature: r.text(4),
            })
            .collect())
    }

    /// Line `line` (from 1) of the tenant's log, if it has it.
    pub fn event_line(&mut self, tenant: &str, line: u64) -> Result<Option<String>> {
        let sql = "SELECT line FROM events WHERE tenant = $1 AND seq = $2";
        Ok(self.query_one(sql, &[P::Text(tenant), P::Int(line as i64)])?.map(|mut r| r.text(0)))
    }

    /// Whether line `line` of the tenant's log did something to `member` (their history has it).
    pub fn in_history(&mut self, tenant: &str, member: &str, line: u64) -> Result<bool> {
        let sql = "SELECT 1 FROM history WHERE tenant = $1 AND member = $2 AND line = $3";
        Ok(self.query_one(sql, &[P::Text(tenant), P::Text(member), P::Int(line as i64)])?.is_some())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The part size is written three times: the constant, the index's expression and the
    /// query's, which must match it for the part to be a seek.
    #[test]
    fn the_history_part_is_one_size_in_the_index_and_the_query() {
        let part = format!("line / {HISTORY_PART}");
        assert!(HISTORY_BY_PART.contains(&format!("({part})")), "{HISTORY_BY_PART}");
        assert!(HISTORY_OF_PART.contains(&format!("h.{part} = $2")), "{HISTORY_OF_PART}");
    }
}
