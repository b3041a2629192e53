//! The durable store: one SQLite file holding tenants (with their key hashes), plan versions
//! and each tenant's hash-chained event log. An event is acknowledged only after the
//! transaction that appends it has committed.

use std::path::Path;

use rusqlite::{Connection, OptionalExtension, params};

/// The store's connection.
pub struct Store {
    db: Connection,
}

/// What a tenant has stored.
pub struct Stored {
    /// Its id.
    pub id: String,
    /// The SHA-256 (hex) of its owner key.
    pub key_hash: String,
    /// Its latest plan, if any.
    pub plan: Option<String>,
    /// Its chained log, in order.
    pub events: Vec<String>,
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
                 brand TEXT NOT NULL, PRIMARY KEY (tenant, store));",
        )?;
        Ok(Store { db })
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

    /// Appends, for each (tenant, length of its log, lines), the lines after the log's end, all
    /// in one transaction: a group commit.
    pub fn append(&mut self, appends: &[(&str, u64, &[String])]) -> rusqlite::Result<()> {
        let tx = self.db.transaction()?;
        {
            let mut insert =
                tx.prepare_cached("INSERT INTO events (tenant, seq, line) VALUES (?1, ?2, ?3)")?;
            for (tenant, seq, lines) in appends {
                for (i, line) in lines.iter().enumerate() {
                    insert.execute(params![tenant, (seq + i as u64 + 1) as i64, line])?;
                }
            }
        }
        tx.commit()
    }

    /// The tenant's chained log after line `from` (0: all of it).
    pub fn events(&self, tenant: &str, from: u64) -> rusqlite::Result<Vec<String>> {
        let mut select =
            self.db.prepare_cached("SELECT line FROM events WHERE tenant = ?1 AND seq > ?2 ORDER BY seq")?;
        select.query_map(params![tenant, from as i64], |r| r.get(0))?.collect()
    }

    /// Every tenant with its latest plan and its log.
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
            let mut select = self.db.prepare("SELECT line FROM events WHERE tenant = ?1 ORDER BY seq")?;
            let events = select.query_map([&id], |r| r.get(0))?.collect::<rusqlite::Result<_>>()?;
            tenants.push(Stored { id, key_hash, plan, events });
        }
        Ok(tenants)
    }
}
