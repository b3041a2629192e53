//! `fanli audit verify --data DIR`: a server's store checked from scratch, tenant by tenant.
//!
//! For a tenant, its log is read in order and each line's hash recomputed (the chain), each
//! event replayed on a new engine under the tenant's plan, each `close_day`'s published pool
//! report compared with the one the replay derives, and the latest snapshot (what a restart
//! would load instead of the log) compared with the replay at its line: the same chain head and
//! the same state, byte for byte. The first line that disagrees is named. The log's Merkle tree
//! is checked against every head the server signed (table `heads`, the daily reports' and those
//! given): an altered or removed newest line is found too (docs/transparency.md).

use fanli_engine::{Engine, SnapshotError};
use fanli_format::chain::{Broken, Verifier};
use fanli_format::transparency::{SignedHead, TreeBroken, TreeCheck, TreeVerified};
use fanli_format::{PlanErrors, parse_plan, state_json};

use crate::store::{Store, StoreError};

/// What was checked of one tenant, when everything held.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Verified {
    /// Lines of the log, chained and replayed.
    pub lines: u64,
    /// Daily pool reports compared.
    pub reports: usize,
    /// The line of the snapshot compared, if the tenant has one.
    pub snapshot: Option<u64>,
    /// The chain's head.
    pub head: String,
    /// Every asset's accounts sum to zero at the end.
    pub balanced: bool,
    /// What the signed heads came to (`None` when the store has none: a store from before
    /// them).
    pub signed: Option<TreeVerified>,
    /// The public key the heads were checked with (hex), and whether it came from the key file
    /// or `--key` (else from the heads themselves).
    pub key: Option<(String, bool)>,
}

/// Why a tenant does not verify: the first broken line, or why the store could not be read.
#[derive(Debug, thiserror::Error)]
pub enum AuditError {
    /// The store has no such tenant.
    #[error("no tenant `{0}`")]
    NoTenant(String),
    /// The store could not be read.
    #[error("{0}")]
    Store(#[from] StoreError),
    /// The log could not be read to its end (what the database said).
    #[error("{}", .0.database_text())]
    LogRead(StoreError),
    /// The tenant's plan is not one this version reads.
    #[error("its plan does not parse: {0}")]
    Plan(PlanErrors),
    /// The snapshot could not be read from the store.
    #[error("its snapshot cannot be read: {0}")]
    SnapshotUnreadable(StoreError),
    /// A line of the log or of its daily reports does not hold.
    #[error("{}", describe(.0))]
    Broken(Broken),
    /// The snapshot claims a line the log does not have.
    #[error("its snapshot is at line {snapshot}, past the log's end ({lines} lines)")]
    SnapshotPastEnd {
        /// The snapshot's line.
        snapshot: u64,
        /// The log's lines.
        lines: u64,
    },
    /// The snapshot was taken at another chain head than the log's at its line.
    #[error("the snapshot at line {line} names the chain head {snapshot}, the log {log}")]
    SnapshotHead {
        /// The snapshot's line.
        line: u64,
        /// The head the snapshot names.
        snapshot: String,
        /// The log's head at that line.
        log: String,
    },
    /// The snapshot's bytes are not a state this version reads.
    #[error("the snapshot at line {line} cannot be decoded: {error}")]
    SnapshotUndecodable {
        /// The snapshot's line.
        line: u64,
        /// Why its bytes were refused.
        error: SnapshotError,
    },
    /// The snapshot holds another state than the replay at its line.
    #[error("the snapshot at line {line} holds another state than the log replayed to it")]
    SnapshotDiffers {
        /// The snapshot's line.
        line: u64,
    },
    /// A signed head does not verify (its signature, or its key).
    #[error("the head of {size} lines signed at {time}: {why}")]
    Head {
        /// The head's size.
        size: u64,
        /// When it was signed.
        time: String,
        /// Why.
        why: String,
    },
    /// The log no longer hashes to a signed head: lines altered, inserted, removed or cut off.
    #[error("{}", tree_text(.0))]
    Tree(TreeBroken),
}

fn tree_text(broken: &TreeBroken) -> String {
    match broken {
        TreeBroken::Differs { from, size, .. } if from < size => format!(
            "{broken}; the chain holds, so line {size} was edited or every line from an earlier one on was rewritten"
        ),
        _ => broken.to_string(),
    }
}

/// What stopped the replay: a line that does not hold, or the log's read.
struct Stopped(AuditError);

impl From<StoreError> for Stopped {
    fn from(error: StoreError) -> Stopped {
        Stopped(AuditError::LogRead(error))
    }
}

/// Verifies the tenant `id` of `store`; `Ok(None)` when it has no plan (and so no events).
pub fn verify_tenant(store: &mut Store, id: &str) -> Result<Option<Verified>, AuditError> {
    let stored = store.load_one(id)?.ok_or_else(|| AuditError::NoTenant(id.to_owned()))?;
    verify_stored(store, &stored)
}

/// Verifies a stored tenant as [`verify_stored`] does, with more signed heads (`heads`: those
/// of other tenants are left out) and the public key to trust (else the one in the tenant's key
/// file, `DIR/keys/TENANT.ed25519`, if there, else the heads' own).
pub fn verify_stored_with(
    store: &mut Store,
    stored: &crate::store::Stored,
    heads: &[SignedHead],
    trusted: Option<[u8; 32]>,
) -> Result<Option<Verified>, AuditError> {
    verify(store, stored, heads, trusted)
}

/// [`verify_tenant`] for a tenant already read from the store ([`Store::load`] reads them all
/// at once).
pub fn verify_stored(
    store: &mut Store,
    stored: &crate::store::Stored,
) -> Result<Option<Verified>, AuditError> {
    verify(store, stored, &[], None)
}

fn verify(
    store: &mut Store,
    stored: &crate::store::Stored,
    given: &[SignedHead],
    trusted: Option<[u8; 32]>,
) -> Result<Option<Verified>, AuditError> {
    let id = stored.id.as_str();
    let Some(plan) = &stored.plan else { return Ok(None) };
    let plan = parse_plan(plan).map_err(AuditError::Plan)?;
    let mut engine = Engine::new(plan);
    engine.record(false);
    let reports = store.reports(id, 0)?;
    let (heads, key) = signed_heads(store, id, &reports, given, trusted)?;
    let mut tree = (!heads.is_empty()).then(|| TreeCheck::new(heads));
    let reports = reports.join("\n");
    // A snapshot that cannot be read is the server's loss of a shortcut, not a broken log: a
    // start replays the log instead. It is reported as such.
    let snapshot = store.snapshot(id).map_err(AuditError::SnapshotUnreadable)?;
    let mut verifier = Verifier::new(Some(&reports));
    let mut lines = 0u64;
    store
        .for_each_event(id, 0, |line| -> Result<(), Stopped> {
            verifier.line(&mut engine, line).map_err(|broken| Stopped(AuditError::Broken(broken)))?;
            if let Some(tree) = tree.as_mut() {
                tree.line(line.as_bytes());
            }
            lines += 1;
            match &snapshot {
                Some(snapshot) if snapshot.line == lines => {
                    compare(&engine, verifier.head(), snapshot).map_err(Stopped)
                }
                _ => Ok(()),
            }
        })
        .map_err(|Stopped(error)| error)?;
    let signed = tree.map(TreeCheck::finish).transpose().map_err(AuditError::Tree)?;
    if let Some(snapshot) = &snapshot
        && snapshot.line > lines
    {
        return Err(AuditError::SnapshotPastEnd { snapshot: snapshot.line, lines });
    }
    let done = verifier.finish().map_err(AuditError::Broken)?;
    Ok(Some(Verified {
        lines: done.lines,
        reports: done.reports,
        snapshot: snapshot.map(|s| s.line),
        head: done.head,
        balanced: engine.accounts_balance(),
        signed,
        key,
    }))
}

/// A public key in hex, and whether it was trusted (the key file's, or `--key`).
type Key = (String, bool);

/// Every signed head of the tenant: those the store kept, those its daily reports carry, and
/// those given; each one's signature checked, with the key trusted. Returns them with the key
/// (hex) and whether it was trusted rather than read from the heads.
fn signed_heads(
    store: &mut Store,
    id: &str,
    reports: &[String],
    given: &[SignedHead],
    trusted: Option<[u8; 32]>,
) -> Result<(Vec<SignedHead>, Option<Key>), AuditError> {
    let from_file = || {
        let text =
            std::fs::read_to_string(crate::transparency::key_path(&store.dir().join("keys"), id)).ok()?;
        let seed: [u8; 32] = fanli_format::merkle::from_hex(text.trim())?;
        Some(fanli_format::transparency::SigningKey::from_bytes(&seed).verifying_key().to_bytes())
    };
    let trusted = trusted.or_else(from_file);
    let bad = |size, time: &str, why: String| AuditError::Head { size, time: time.to_owned(), why };
    let mut heads = Vec::new();
    for row in store.heads(id, false)? {
        heads.push(crate::transparency::head_of_row(id, &row).map_err(|why| bad(row.size, &row.time, why))?);
    }
    for report in reports {
        let report: serde_json::Value = serde_json::from_str(report).unwrap_or_default();
        if let Some(head) = report.get("signed_head") {
            let head = SignedHead::from_value(head)
                .map_err(|why| bad(0, "?", format!("in a daily report: {why}")))?;
            heads.push(head);
        }
    }
    heads.extend(given.iter().filter(|h| h.head.tenant == id).cloned());
    for head in &heads {
        if head.head.tenant != id {
            return Err(bad(
                head.head.size,
                &head.head.time,
                format!("it names tenant `{}`", head.head.tenant),
            ));
        }
        head.verify(trusted.as_ref()).map_err(|why| bad(head.head.size, &head.head.time, why))?;
    }
    let key = trusted
        .map(|k| (fanli_format::merkle::to_hex(&k), true))
        .or_else(|| heads.last().map(|h| (fanli_format::merkle::to_hex(&h.public_key), false)));
    Ok((heads, key))
}

fn describe(broken: &Broken) -> String {
    match broken.file {
        "report" => format!("daily report {}: {}", broken.line, broken.message),
        _ => format!("log line {}: {}", broken.line, broken.message),
    }
}

/// The snapshot taken at this line holds what the replay holds.
fn compare(engine: &Engine, head: &str, snapshot: &crate::store::Snapshot) -> Result<(), AuditError> {
    let line = snapshot.line;
    if snapshot.head != head {
        return Err(AuditError::SnapshotHead { line, snapshot: snapshot.head.clone(), log: head.to_owned() });
    }
    let restored =
        Engine::restore(&snapshot.data).map_err(|error| AuditError::SnapshotUndecodable { line, error })?;
    let (mut replayed, mut kept) = (Vec::new(), Vec::new());
    state_json(engine, &[], None, &mut replayed).expect("writing to memory");
    state_json(&restored, &[], None, &mut kept).expect("writing to memory");
    if replayed != kept {
        return Err(AuditError::SnapshotDiffers { line });
    }
    Ok(())
}
