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
                 PRIMARY KEY (tenant, seq));",
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
