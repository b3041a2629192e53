//! The transparency log on the server: each tenant's Ed25519 key, the Merkle tree's frontier
//! kept in memory beside the chain, the subtree hashes stored for proofs, and the signed heads.
//! docs/transparency.md.

use std::io::Write as _;
use std::path::Path;

use fanli_format::merkle::{from_hex, to_hex};
use fanli_format::transparency::SigningKey;

/// The signing key kept in `path` (its 32-byte secret seed in hex), if there is one.
pub fn read_key(path: &Path) -> std::io::Result<Option<SigningKey>> {
    match std::fs::read_to_string(path) {
        Ok(text) => {
            let seed: [u8; 32] = from_hex(text.trim()).ok_or_else(|| {
                std::io::Error::new(
                    std::io::ErrorKind::InvalidData,
                    "not an Ed25519 secret key (64 hex digits)",
                )
            })?;
            Ok(Some(SigningKey::from_bytes(&seed)))
        }
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
        Err(e) => Err(e),
    }
}

/// The signing key kept in `path`, made and written there (mode 0600, its folder made) when
/// there is none.
pub fn load_or_create_key(path: &Path) -> std::io::Result<SigningKey> {
    if let Some(key) = read_key(path)? {
        return Ok(key);
    }
    let mut seed = [0u8; 32];
    getrandom::fill(&mut seed).map_err(|e| std::io::Error::other(e.to_string()))?;
    if let Some(dir) = path.parent() {
        std::fs::create_dir_all(dir)?;
    }
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
    let mut file = options.open(path)?;
    file.write_all(format!("{}\n", to_hex(&seed)).as_bytes())?;
    file.sync_all()?;
    Ok(SigningKey::from_bytes(&seed))
}

use std::collections::HashMap;
use std::path::PathBuf;

use fanli_format::merkle::{self, Frontier, Hash, Subtrees};
use fanli_format::transparency::{ConsistencyProof, InclusionProof, SignedHead, TreeHead, head_time};

use crate::store::{HeadRow, Store, StoreError};

/// Subtrees of `2^STORED_LEVEL` lines or more are stored (table `merkle`); smaller ones are
/// hashed from the log's lines when a proof needs them.
pub const STORED_LEVEL: u32 = 8;

/// Where the tenant's signing key is kept under the keys' folder: `TENANT.ed25519`.
pub fn key_path(keys: &Path, tenant: &str) -> PathBuf {
    keys.join(format!("{tenant}.ed25519"))
}

/// A tenant's transparency log in memory: its tree's frontier, its signing key once used, and
/// the latest head signed.
#[derive(Default)]
pub(crate) struct TenantLog {
    pub(crate) tree: Frontier,
    pub(crate) signer: Option<SigningKey>,
    pub(crate) head: Option<SignedHead>,
    /// The public key of the latest head stored, if any: only that key signs the next heads.
    pub(crate) signed_by: Option<[u8; 32]>,
    /// Whether the key's failure was logged (once, not at every commit).
    warned: bool,
}

impl TenantLog {
    /// Appends a chained line; the stored subtrees it completes go to `nodes`.
    pub(crate) fn push(&mut self, line: &str, nodes: &mut Vec<(u32, u64, String)>) {
        self.tree.push_with(merkle::leaf_hash(line.as_bytes()), |level, index, hash| {
            if level >= STORED_LEVEL {
                nodes.push((level, index, to_hex(hash)));
            }
        });
    }

    /// The signing key, read from `keys` the first time; made there if the tenant has never
    /// signed a head. A tenant whose heads were signed by a key that `keys` does not hold (a
    /// node of a cluster given another folder, a key file lost or replaced) signs nothing: a
    /// new key would break every saved head's chain of trust, so the error says which key and
    /// where it is looked for (docs/transparency.md, "Limits").
    pub(crate) fn signer(&mut self, keys: &Path, tenant: &str) -> Option<&SigningKey> {
        if self.signer.is_none() {
            let path = key_path(keys, tenant);
            let key = match self.signed_by {
                None => load_or_create_key(&path).map_err(|e| e.to_string()),
                Some(public) => match read_key(&path) {
                    Ok(Some(key)) if key.verifying_key().to_bytes() == public => Ok(key),
                    Ok(Some(_)) => Err(format!("{} holds another key than the one", path.display())),
                    Ok(None) => Err(format!("{} does not hold the key", path.display())),
                    Err(e) => Err(format!("{}: {e}", path.display())),
                }
                .map_err(|why| {
                    format!("{why} that signed the tenant's heads ({}): no head signed", to_hex(&public))
                }),
            };
            match key {
                Ok(key) => self.signer = Some(key),
                Err(error) if !self.warned => {
                    self.warned = true;
                    tracing::error!(tenant, %error, "the tenant's signing key cannot be read or made: no head signed");
                }
                Err(_) => {}
            }
        }
        self.signer.as_ref()
    }

    /// The tree as it is now, signed now (`None` without a key).
    pub(crate) fn sign(&mut self, keys: &Path, tenant: &str) -> Option<SignedHead> {
        let head = TreeHead {
            tenant: tenant.to_owned(),
            size: self.tree.size(),
            root: self.tree.root(),
            time: head_time(now_millis()),
        };
        Some(head.sign(self.signer(keys, tenant)?))
    }
}

fn now_millis() -> i64 {
    std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map_or(0, |d| d.as_millis() as i64)
}

/// A signed head as the store keeps it.
pub fn head_row(head: &SignedHead) -> HeadRow {
    HeadRow {
        size: head.head.size,
        root: to_hex(&head.head.root),
        time: head.head.time.clone(),
        public_key: to_hex(&head.public_key),
        signature: to_hex(&head.signature),
    }
}

/// A stored head read back.
pub fn head_of_row(tenant: &str, row: &HeadRow) -> Result<SignedHead, String> {
    SignedHead::from_value(&serde_json::json!({
        "tenant": tenant, "size": row.size, "root": row.root, "time": row.time,
        "public_key": row.public_key, "signature": row.signature,
    }))
}

/// A tenant's transparency log as its store holds it, for a log of `size` lines: the frontier
/// from the stored subtrees and the last `size mod 256` lines (or, for a store written before
/// the tree, from the whole log, the subtrees then stored), and the latest head if it is of
/// that size ([`sign_missing`] signs one otherwise).
pub(crate) fn load(store: &mut Store, tenant: &str, size: u64) -> Result<TenantLog, StoreError> {
    let mut log = TenantLog { tree: frontier(store, tenant, size)?, ..TenantLog::default() };
    let latest = store.heads(tenant, true)?.pop();
    let latest = latest.and_then(|row| match head_of_row(tenant, &row) {
        Ok(head) => Some(head),
        Err(error) => {
            tracing::error!(tenant, %error, "the latest stored head cannot be read");
            None
        }
    });
    log.signed_by = latest.as_ref().map(|head| head.public_key);
    if let Some(head) = latest
        && head.head.size == size
    {
        if head.head.root != log.tree.root() {
            tracing::error!(
                tenant,
                size,
                "the log does not hash to its latest signed head: a line was altered in the store \
                 (fanli audit verify --data names it)"
            );
        }
        log.head = Some(head);
    }
    Ok(log)
}

/// Signs and stores the head of a tenant's tree that has none of its size (a store written
/// before the tree, or by `cargo xtask restart`).
pub(crate) fn sign_missing(
    store: &mut Store,
    keys: &Path,
    tenant: &str,
    log: &mut TenantLog,
) -> Result<(), StoreError> {
    if log.head.as_ref().is_some_and(|h| h.head.size == log.tree.size()) {
        return Ok(());
    }
    if let Some(head) = log.sign(keys, tenant) {
        store.put_head(tenant, &head_row(&head))?;
        log.head = Some(head);
    }
    Ok(())
}

/// The frontier of the tenant's tree of `size` lines.
fn frontier(store: &mut Store, tenant: &str, size: u64) -> Result<Frontier, StoreError> {
    let mut peaks = Vec::new();
    let mut complete = true;
    for (level, index) in Frontier::peak_subtrees(size) {
        if level < STORED_LEVEL {
            break;
        }
        match store.merkle_node(tenant, level, index)?.as_deref().and_then(from_hex) {
            Some(hash) => peaks.push(hash),
            None => {
                complete = false;
                break;
            }
        }
    }
    if complete {
        let from = size - size % (1 << STORED_LEVEL);
        let lines = store.events_page(tenant, from, 1 << STORED_LEVEL)?;
        let leaves: Vec<Hash> = lines.iter().map(|l| merkle::leaf_hash(l.as_bytes())).collect();
        let mut start = 0;
        for (level, _) in Frontier::peak_subtrees(size).into_iter().filter(|(level, _)| *level < STORED_LEVEL)
        {
            let end = start + (1usize << level);
            let Some(run) = leaves.get(start..end) else { break };
            peaks.push(merkle::perfect(run));
            start = end;
        }
        if let Some(tree) = Frontier::from_peaks(size, peaks) {
            return Ok(tree);
        }
    }
    // A store from before the tree (or one missing rows): hash the whole log once.
    let started = std::time::Instant::now();
    let mut tree = Frontier::default();
    let mut nodes = Vec::new();
    store.for_each_event(tenant, 0, |line| -> Result<(), StoreError> {
        tree.push_with(merkle::leaf_hash(line.as_bytes()), |level, index, hash| {
            if level >= STORED_LEVEL {
                nodes.push((level, index, to_hex(hash)));
            }
        });
        Ok(())
    })?;
    store.put_merkle_nodes(tenant, &nodes)?;
    tracing::info!(tenant, lines = tree.size(), elapsed = ?started.elapsed(), "the log's Merkle tree hashed and stored");
    Ok(tree)
}

/// The hashes of a tenant's subtrees from its store: `merkle` rows, or its lines hashed (a run
/// of 256 read at a time, kept for the proof's other subtrees).
pub struct StoredSubtrees<'s> {
    store: &'s mut Store,
    tenant: &'s str,
    blocks: HashMap<u64, Vec<Hash>>,
}

impl<'s> StoredSubtrees<'s> {
    /// The subtrees of `tenant`'s tree in `store`.
    pub fn new(store: &'s mut Store, tenant: &'s str) -> StoredSubtrees<'s> {
        StoredSubtrees { store, tenant, blocks: HashMap::new() }
    }
}

impl Subtrees for StoredSubtrees<'_> {
    type Error = String;

    fn subtree(&mut self, level: u32, index: u64) -> Result<Hash, String> {
        if level >= STORED_LEVEL {
            let hash = self.store.merkle_node(self.tenant, level, index).map_err(|e| e.to_string())?;
            return hash
                .as_deref()
                .and_then(from_hex)
                .ok_or_else(|| format!("the hash of subtree ({level}, {index}) is not stored"));
        }
        let first = index << level;
        let block = first >> STORED_LEVEL;
        if !self.blocks.contains_key(&block) {
            let lines = self
                .store
                .events_page(self.tenant, block << STORED_LEVEL, 1 << STORED_LEVEL)
                .map_err(|e| e.to_string())?;
            self.blocks.insert(block, lines.iter().map(|l| merkle::leaf_hash(l.as_bytes())).collect());
        }
        let leaves = &self.blocks[&block];
        let start = (first - (block << STORED_LEVEL)) as usize;
        leaves
            .get(start..start + (1 << level))
            .map(merkle::perfect)
            .ok_or_else(|| format!("lines {} to {} are not in the log", first + 1, first + (1 << level)))
    }
}

/// The inclusion proof of line `line` (from 1) in the tenant's tree of `size` lines.
pub fn inclusion(store: &mut Store, tenant: &str, line: u64, size: u64) -> Result<InclusionProof, String> {
    if line == 0 || line > size {
        return Err(format!("line {line} is not in a tree of {size} lines"));
    }
    let event = store
        .event_line(tenant, line)
        .map_err(|e| e.to_string())?
        .ok_or_else(|| format!("the log has no line {line}"))?;
    let path = merkle::inclusion_proof(&mut StoredSubtrees::new(store, tenant), line - 1, size)?;
    Ok(InclusionProof { tenant: tenant.to_owned(), line, size, event, path })
}

/// The consistency proof between the tenant's trees of `from` and `to` lines.
pub fn consistency(store: &mut Store, tenant: &str, from: u64, to: u64) -> Result<ConsistencyProof, String> {
    if from > to {
        return Err(format!("`from` ({from}) is past `to` ({to})"));
    }
    let path = merkle::consistency_proof(&mut StoredSubtrees::new(store, tenant), from, to)?;
    Ok(ConsistencyProof { tenant: tenant.to_owned(), from, to, path })
}
