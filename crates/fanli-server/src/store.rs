//! The durable store: one SQLite file holding tenants (with their key hashes), plan versions
//! and each tenant's hash-chained event log. An event is acknowledged only after the
//! transaction that appends it has committed.

use std::path::Path;

use rusqlite::{Connection, OptionalExtension, params};

/// The store's connection.
pub struct Store {
    db: Connection,
    /// The data directory: snapshots are files in `snapshots/` under it.
    dir: std::path::PathBuf,
}

/// What a tenant has stored.
pub struct Stored {
    /// Its id.
    pub id: String,
    /// The SHA-256 (hex) of its owner key.
    pub key_hash: String,
    /// Its latest plan, if any.
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
    /// Its new notifications, as JSON.
    pub notifications: &'a [String],
    /// Its new daily pool reports, with the line of their `close_day`.
    pub reports: &'a [(u64, String)],
}

/// A tenant's outbox at a glance.
pub struct OutboxStatus {
    /// Notifications waiting.
    pub pending: i64,
    /// Notifications acknowledged.
    pub delivered: i64,
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

/// A key as stored: its hash, tenant, role name and scope.
pub struct StoredKey {
    /// The SHA-256 (hex) of the key.
    pub hash: String,
    /// Its tenant.
    pub tenant: String,
    /// Its role's name.
    pub role: String,
    /// The brand, store or member it is limited to.
    pub scope: Option<String>,
}

impl Store {
    /// Opens (or creates) the store in `dir`, which must exist.
    pub fn open(dir: &Path) -> rusqlite::Result<Store> {
        let db = Connection::open(dir.join("fanli.sqlite3"))?;
        // The webhook deliverer has a connection of its own: wait for the writer, don't fail.
        db.busy_timeout(std::time::Duration::from_secs(10))?;
        // WAL: readers do not block the writer, and a commit is one fsync of the log.
        db.pragma_update(None, "journal_mode", "WAL")?;
        db.pragma_update(None, "synchronous", "FULL")?;
        db.execute_batch(
            "CREATE TABLE IF NOT EXISTS settings (key TEXT PRIMARY KEY, value TEXT NOT NULL);
             CREATE TABLE IF NOT EXISTS tenants (id TEXT PRIMARY KEY, key_hash TEXT NOT NULL UNIQUE);
             CREATE TABLE IF NOT EXISTS plans (tenant TEXT NOT NULL, version INTEGER NOT NULL, text TEXT NOT NULL,
                 PRIMARY KEY (tenant, version));
             CREATE TABLE IF NOT EXISTS events (tenant TEXT NOT NULL, seq INTEGER NOT NULL, line TEXT NOT NULL,
                 PRIMARY KEY (tenant, seq));
             CREATE TABLE IF NOT EXISTS keys (hash TEXT PRIMARY KEY, tenant TEXT NOT NULL, role TEXT NOT NULL,
                 scope TEXT);
             CREATE TABLE IF NOT EXISTS brands (tenant TEXT NOT NULL, brand TEXT NOT NULL,
                 PRIMARY KEY (tenant, brand));
             CREATE TABLE IF NOT EXISTS store_brands (tenant TEXT NOT NULL, store TEXT NOT NULL,
                 brand TEXT NOT NULL, PRIMARY KEY (tenant, store));
             CREATE TABLE IF NOT EXISTS webhooks (tenant TEXT PRIMARY KEY, url TEXT NOT NULL, secret TEXT NOT NULL);
             CREATE TABLE IF NOT EXISTS outbox (id INTEGER PRIMARY KEY AUTOINCREMENT, tenant TEXT NOT NULL,
                 body TEXT NOT NULL, attempts INTEGER NOT NULL DEFAULT 0, next_at INTEGER NOT NULL DEFAULT 0,
                 delivered_at INTEGER, last_error TEXT);
             CREATE TABLE IF NOT EXISTS snapshots (tenant TEXT PRIMARY KEY, line INTEGER NOT NULL, head TEXT NOT NULL,
                 closed_through INTEGER);
             CREATE TABLE IF NOT EXISTS reports (tenant TEXT NOT NULL, line INTEGER NOT NULL, body TEXT NOT NULL,
                 PRIMARY KEY (tenant, line));
             CREATE INDEX IF NOT EXISTS outbox_pending ON outbox (tenant, id) WHERE delivered_at IS NULL;",
        )?;
        Ok(Store { db, dir: dir.to_owned() })
    }

    /// A setting.
    pub fn setting(&self, key: &str) -> rusqlite::Result<Option<String>> {
        self.db.query_row("SELECT value FROM settings WHERE key = ?1", [key], |r| r.get(0)).optional()
    }

    /// Sets a setting.
    pub fn set_setting(&self, key: &str, value: &str) -> rusqlite::Result<()> {
        self.db
            .execute("INSERT OR REPLACE INTO settings (key, value) VALUES (?1, ?2)", [key, value])
            .map(drop)
    }

    /// Creates a tenant; `false` when the id is taken.
    pub fn create_tenant(&self, id: &str, key_hash: &str) -> rusqlite::Result<bool> {
        let inserted = self
            .db
            .execute("INSERT OR IGNORE INTO tenants (id, key_hash) VALUES (?1, ?2)", [id, key_hash])?;
        Ok(inserted == 1)
    }

    /// Stores a key's hash with its tenant, role and scope (owner keys live with their tenant).
    pub fn add_key(&self, hash: &str, tenant: &str, role: &str, scope: Option<&str>) -> rusqlite::Result<()> {
        self.db
            .execute(
                "INSERT INTO keys (hash, tenant, role, scope) VALUES (?1, ?2, ?3, ?4)",
                params![hash, tenant, role, scope],
            )
            .map(drop)
    }

    /// Every key but the owners'.
    pub fn keys(&self) -> rusqlite::Result<Vec<StoredKey>> {
        let mut select = self.db.prepare("SELECT hash, tenant, role, scope FROM keys")?;
        select
            .query_map([], |r| {
                Ok(StoredKey { hash: r.get(0)?, tenant: r.get(1)?, role: r.get(2)?, scope: r.get(3)? })
            })?
            .collect()
    }

    /// Registers a brand; `false` when the tenant has it already.
    pub fn add_brand(&self, tenant: &str, brand: &str) -> rusqlite::Result<bool> {
        let inserted = self
            .db
            .execute("INSERT OR IGNORE INTO brands (tenant, brand) VALUES (?1, ?2)", [tenant, brand])?;
        Ok(inserted == 1)
    }

    /// Puts a store in a brand (or moves it).
    pub fn set_store_brand(&self, tenant: &str, store: &str, brand: &str) -> rusqlite::Result<()> {
        self.db
            .execute(
                "INSERT OR REPLACE INTO store_brands (tenant, store, brand) VALUES (?1, ?2, ?3)",
                [tenant, store, brand],
            )
            .map(drop)
    }

    /// Every (tenant, brand), and every (tenant, store, brand).
    #[allow(clippy::type_complexity)]
    pub fn brands(&self) -> rusqlite::Result<(Vec<(String, String)>, Vec<(String, String, String)>)> {
        let mut select = self.db.prepare("SELECT tenant, brand FROM brands")?;
        let brands =
            select.query_map([], |r| Ok((r.get(0)?, r.get(1)?)))?.collect::<rusqlite::Result<_>>()?;
        let mut select = self.db.prepare("SELECT tenant, store, brand FROM store_brands")?;
        let stores = select
            .query_map([], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)))?
            .collect::<rusqlite::Result<_>>()?;
        Ok((brands, stores))
    }

    /// Stores a new plan version; returns its number.
    pub fn add_plan(&self, tenant: &str, text: &str) -> rusqlite::Result<i64> {
        let version: i64 = self.db.query_row(
            "SELECT COALESCE(MAX(version), 0) + 1 FROM plans WHERE tenant = ?1",
            [tenant],
            |r| r.get(0),
        )?;
        self.db.execute(
            "INSERT INTO plans (tenant, version, text) VALUES (?1, ?2, ?3)",
            params![tenant, version, text],
        )?;
        Ok(version)
    }

    /// Appends each tenant's lines after its log's end, and its notifications to the outbox,
    /// all in one transaction: a group commit, and a notification exists if and only if its
    /// event does.
    pub fn append(&mut self, appends: &[Append<'_>]) -> rusqlite::Result<()> {
        let tx = self.db.transaction()?;
        {
            let mut insert =
                tx.prepare_cached("INSERT INTO events (tenant, seq, line) VALUES (?1, ?2, ?3)")?;
            let mut outbox = tx.prepare_cached("INSERT INTO outbox (tenant, body) VALUES (?1, ?2)")?;
            let mut reports =
                tx.prepare_cached("INSERT INTO reports (tenant, line, body) VALUES (?1, ?2, ?3)")?;
            for append in appends {
                for (i, line) in append.lines.iter().enumerate() {
                    insert.execute(params![append.tenant, (append.after + i as u64 + 1) as i64, line])?;
                }
                for body in append.notifications {
                    outbox.execute(params![append.tenant, body])?;
                }
                for (line, body) in append.reports {
                    reports.execute(params![append.tenant, *line as i64, body])?;
                }
            }
        }
        tx.commit()
    }

    /// The tenant's daily pool reports after line `from` of its log.
    pub fn reports(&self, tenant: &str, from: u64) -> rusqlite::Result<Vec<String>> {
        let mut select = self
            .db
            .prepare_cached("SELECT body FROM reports WHERE tenant = ?1 AND line > ?2 ORDER BY line")?;
        select.query_map(params![tenant, from as i64], |r| r.get(0))?.collect()
    }

    /// Sets (or with `None`, removes) a tenant's webhook.
    pub fn set_webhook(&self, tenant: &str, hook: Option<(&str, &str)>) -> rusqlite::Result<()> {
        match hook {
            Some((url, secret)) => self.db.execute(
                "INSERT OR REPLACE INTO webhooks (tenant, url, secret) VALUES (?1, ?2, ?3)",
                [tenant, url, secret],
            ),
            None => self.db.execute("DELETE FROM webhooks WHERE tenant = ?1", [tenant]),
        }
        .map(drop)
    }

    /// Every webhook: (tenant, url, secret).
    pub fn webhooks(&self) -> rusqlite::Result<Vec<(String, String, String)>> {
        let mut select = self.db.prepare("SELECT tenant, url, secret FROM webhooks ORDER BY tenant")?;
        select.query_map([], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)))?.collect()
    }

    /// A tenant's undelivered notifications, oldest first, at most `limit`.
    pub fn pending(&self, tenant: &str, limit: u32) -> rusqlite::Result<Vec<Pending>> {
        let mut select = self.db.prepare_cached(
            "SELECT id, body, attempts, next_at FROM outbox WHERE tenant = ?1 AND delivered_at IS NULL
             ORDER BY id LIMIT ?2",
        )?;
        select
            .query_map(params![tenant, limit], |r| {
                Ok(Pending { id: r.get(0)?, body: r.get(1)?, attempts: r.get(2)?, next_at: r.get(3)? })
            })?
            .collect()
    }

    /// Marks a notification delivered at `now` (Unix milliseconds).
    pub fn delivered(&self, id: i64, now: i64) -> rusqlite::Result<()> {
        self.db.execute("UPDATE outbox SET delivered_at = ?2 WHERE id = ?1", [id, now]).map(drop)
    }

    /// Records a failed attempt; the next one is not before `next_at` (Unix milliseconds).
    pub fn failed(&self, id: i64, next_at: i64, error: &str) -> rusqlite::Result<()> {
        self.db
            .execute(
                "UPDATE outbox SET attempts = attempts + 1, next_at = ?2, last_error = ?3 WHERE id = ?1",
                params![id, next_at, error],
            )
            .map(drop)
    }

    /// A tenant's outbox: how many notifications wait and were delivered, and the oldest
    /// waiting one's failed attempts and last error.
    pub fn outbox_status(&self, tenant: &str) -> rusqlite::Result<OutboxStatus> {
        let (pending, delivered) = self.db.query_row(
            "SELECT COUNT(*) - COUNT(delivered_at), COUNT(delivered_at) FROM outbox WHERE tenant = ?1",
            [tenant],
            |r| Ok((r.get(0)?, r.get(1)?)),
        )?;
        let head = self
            .db
            .query_row(
                "SELECT attempts, last_error FROM outbox WHERE tenant = ?1 AND delivered_at IS NULL ORDER BY id LIMIT 1",
                [tenant],
                |r| Ok((r.get(0)?, r.get(1)?)),
            )
            .optional()?;
        Ok(OutboxStatus { pending, delivered, head })
    }

    /// The tenant's chained log after line `from` (0: all of it).
    pub fn events(&self, tenant: &str, from: u64) -> rusqlite::Result<Vec<String>> {
        let mut select =
            self.db.prepare_cached("SELECT line FROM events WHERE tenant = ?1 AND seq > ?2 ORDER BY seq")?;
        select.query_map(params![tenant, from as i64], |r| r.get(0))?.collect()
    }

    /// Calls `apply` with each line of the tenant's log after line `from`, in order, reading
    /// them as it goes (a log of millions of lines is never all in memory).
    pub fn for_each_event(
        &self,
        tenant: &str,
        from: u64,
        mut apply: impl FnMut(&str) -> Result<(), String>,
    ) -> Result<(), String> {
        let mut select = self
            .db
            .prepare("SELECT line FROM events WHERE tenant = ?1 AND seq > ?2 ORDER BY seq")
            .map_err(|e| e.to_string())?;
        let mut rows = select.query(params![tenant, from as i64]).map_err(|e| e.to_string())?;
        while let Some(row) = rows.next().map_err(|e| e.to_string())? {
            let line = row.get_ref(0).map_err(|e| e.to_string())?.as_str().map_err(|e| e.to_string())?;
            apply(line)?;
        }
        Ok(())
    }

    /// The tenant's latest snapshot, if any. A snapshot row whose file is missing or
    /// unreadable is an error: the caller replays the log instead.
    pub fn snapshot(&self, tenant: &str) -> rusqlite::Result<Option<Snapshot>> {
        let row = self
            .db
            .query_row("SELECT line, head, closed_through FROM snapshots WHERE tenant = ?1", [tenant], |r| {
                Ok((r.get::<_, i64>(0)? as u64, r.get::<_, String>(1)?, r.get::<_, Option<i64>>(2)?))
            })
            .optional()?;
        let Some((line, head, closed_through)) = row else { return Ok(None) };
        let data = std::fs::read(self.snapshot_file(tenant, line))
            .map_err(|e| rusqlite::Error::ToSqlConversionFailure(Box::new(e)))?;
        Ok(Some(Snapshot { line, head, closed_through, data }))
    }

    /// Keeps `snapshot` as the tenant's latest. The bytes go to a file of their own
    /// (`snapshots/TENANT-LINE.snap`, written to a temporary name, synced, then renamed), and only
    /// then the row that names it: a crash in between leaves the previous snapshot in force. The
    /// files of older snapshots are removed after. (Files, not rows: a large tenant's snapshot
    /// is hundreds of megabytes, past what a database row should hold.)
    pub fn put_snapshot(&self, tenant: &str, snapshot: &Snapshot) -> rusqlite::Result<()> {
        let io = |e: std::io::Error| rusqlite::Error::ToSqlConversionFailure(Box::new(e));
        let folder = self.dir.join("snapshots");
        std::fs::create_dir_all(&folder).map_err(io)?;
        let file = self.snapshot_file(tenant, snapshot.line);
        let temporary = file.with_extension("tmp");
        {
            use std::io::Write;
            let mut out = std::fs::File::create(&temporary).map_err(io)?;
            out.write_all(&snapshot.data).map_err(io)?;
            out.sync_all().map_err(io)?;
        }
        std::fs::rename(&temporary, &file).map_err(io)?;
        let before = self
            .db
            .query_row("SELECT line FROM snapshots WHERE tenant = ?1", [tenant], |r| r.get::<_, i64>(0))
            .optional()?;
        self.db.execute(
            "INSERT OR REPLACE INTO snapshots (tenant, line, head, closed_through) VALUES (?1, ?2, ?3, ?4)",
            params![tenant, snapshot.line as i64, snapshot.head, snapshot.closed_through],
        )?;
        if let Some(before) = before.filter(|&b| b as u64 != snapshot.line) {
            let _ = std::fs::remove_file(self.snapshot_file(tenant, before as u64));
        }
        Ok(())
    }

    fn snapshot_file(&self, tenant: &str, line: u64) -> std::path::PathBuf {
        // Tenant ids are letters, digits, `-` and `_`: safe in a file name.
        self.dir.join("snapshots").join(format!("{tenant}-{line}.snap"))
    }

    /// Every tenant with its latest plan (its log is read with [`Store::for_each_event`]).
    pub fn load(&self) -> rusqlite::Result<Vec<Stored>> {
        let mut tenants = Vec::new();
        let mut list = self.db.prepare("SELECT id, key_hash FROM tenants ORDER BY id")?;
        let rows: Vec<(String, String)> =
            list.query_map([], |r| Ok((r.get(0)?, r.get(1)?)))?.collect::<rusqlite::Result<_>>()?;
        for (id, key_hash) in rows {
            let plan = self
                .db
                .query_row(
                    "SELECT text FROM plans WHERE tenant = ?1 ORDER BY version DESC LIMIT 1",
                    [&id],
                    |r| r.get(0),
                )
                .optional()?;
            tenants.push(Stored { id, key_hash, plan });
        }
        Ok(tenants)
    }
}
