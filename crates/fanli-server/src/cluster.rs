//! Several nodes on one PostgreSQL: each tenant is served by one node at a time.
//!
//! A node that joins the cluster (`fanli serve --database URL`, see [`crate::App::open_node`])
//! holds, on a connection of its own, one PostgreSQL advisory lock per tenant it serves. The
//! lock is the liveness signal: when the node's process dies, PostgreSQL closes its connection
//! and the locks go with it. Every second each node tries the locks of the tenants nobody
//! serves; the node that gets one takes the tenant's lease (`leases` table: node, address and an
//! epoch one higher than before) and rebuilds the tenant from its snapshot and log.
//!
//! The epoch is the fence: every append checks, in its transaction, that the lease still names
//! this node at the epoch it took. A node cut off from PostgreSQL long enough to lose its locks
//! cannot write after the new owner, even if it does not know yet that it lost them.
//!
//! A request reaching a node that does not serve its tenant is redirected (`307`, same method
//! and body) to the node that does, or answered `503` with `Retry-After: 1` while the tenant is
//! being taken over.

use crate::store::StoreError;

/// This node in the cluster.
pub struct Cluster {
    /// This node's id: random, new at every start.
    pub node: String,
    /// Where the other nodes send requests for this node's tenants (`http://host:port`).
    pub address: String,
    /// The connection holding this node's advisory locks.
    locks: postgres::Client,
    url: String,
    /// The connection's schema: tenants of one name in two schemas are two tenants.
    schema: String,
}

impl Cluster {
    /// Joins the cluster on the database at `url` as a new node serving at `address`.
    pub fn join(url: &str, address: &str) -> Result<Cluster, StoreError> {
        let mut locks = postgres::Client::connect(url, postgres::NoTls)?;
        let schema: String = locks.query_one("SELECT current_schema()", &[])?.get(0);
        let node = crate::new_key().map_err(|e| StoreError::Io(std::io::Error::other(e.to_string())))?[..16]
            .to_owned();
        Ok(Cluster { node, address: address.to_owned(), locks, url: url.to_owned(), schema })
    }

    fn key(&self, tenant: &str) -> String {
        format!("fanli:{}:{tenant}", self.schema)
    }

    /// Takes the tenant's lock if no node holds it; whether this node holds it now. Call it
    /// only for a tenant this node does not serve (the locks count how often they are taken).
    pub fn try_lock(&mut self, tenant: &str) -> Result<bool, StoreError> {
        let key = self.key(tenant);
        let row = self.locks.query_one("SELECT pg_try_advisory_lock(hashtextextended($1, 0))", &[&key])?;
        Ok(row.get(0))
    }

    /// Lets the tenant go (after its lease moved on).
    pub fn unlock(&mut self, tenant: &str) {
        let key = self.key(tenant);
        let _ = self.locks.execute("SELECT pg_advisory_unlock(hashtextextended($1, 0))", &[&key]);
    }

    /// Whether the lock connection still works; when it does not, the locks are gone, and the
    /// connection is made again (holding none).
    pub fn alive(&mut self) -> bool {
        if self.locks.simple_query("SELECT 1").is_ok() {
            return true;
        }
        if let Ok(client) = postgres::Client::connect(&self.url, postgres::NoTls) {
            self.locks = client;
        }
        false
    }
}
