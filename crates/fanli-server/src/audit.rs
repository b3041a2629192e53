//! `fanli audit verify --data DIR`: a server's store checked from scratch, tenant by tenant.
//!
//! For a tenant, its log is read in order and each line's hash recomputed (the chain), each
//! event replayed on a new engine under the tenant's plan, each `close_day`'s published pool
//! report compared with the one the replay derives, and the latest snapshot (what a restart
//! would load instead of the log) compared with the replay at its line: the same chain head and
//! the same state, byte for byte. The first line that disagrees is named.

use fanli_engine::Engine;
use fanli_format::chain::{Broken, Verifier};
use fanli_format::{parse_plan, state_json};

use crate::store::Store;

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
}

/// Verifies the tenant `id` of `store`; `Ok(None)` when it has no plan (and so no events).
/// The error names the first broken line, or why the store could not be read.
pub fn verify_tenant(store: &mut Store, id: &str) -> Result<Option<Verified>, String> {
    let stored = store.load_one(id).map_err(|e| e.to_string())?.ok_or_else(|| format!("no tenant `{id}`"))?;
    verify_stored(store, &stored)
}

/// [`verify_tenant`] for a tenant already read from the store ([`Store::load`] reads them all
/// at once).
pub fn verify_stored(store: &mut Store, stored: &crate::store::Stored) -> Result<Option<Verified>, String> {
    let id = stored.id.as_str();
    let Some(plan) = &stored.plan else { return Ok(None) };
    let plan = parse_plan(plan).map_err(|e| format!("its plan does not parse: {e}"))?;
    let mut engine = Engine::new(plan);
    engine.record(false);
    let reports = store.reports(id, 0).map_err(|e| e.to_string())?.join("\n");
    // A snapshot that cannot be read is the server's loss of a shortcut, not a broken log: a
    // start replays the log instead. It is reported as such.
    let snapshot = store.snapshot(id).map_err(|e| format!("its snapshot cannot be read: {e}"))?;
    let mut verifier = Verifier::new(Some(&reports));
    let mut lines = 0u64;
    let mut failure: Option<String> = None;
    let read = store.for_each_event(id, 0, |line| -> Result<(), crate::writer::Reason> {
        let checked = verifier.line(&mut engine, line).map_err(|broken| describe(&broken)).and_then(|()| {
            lines += 1;
            match &snapshot {
                Some(snapshot) if snapshot.line == lines => compare(&engine, verifier.head(), snapshot),
                _ => Ok(()),
            }
        });
        checked.map_err(|message| {
            failure = Some(message);
            crate::writer::Reason(String::new())
        })
    });
    if let Some(message) = failure {
        return Err(message);
    }
    read.map_err(|crate::writer::Reason(error)| error)?;
    if let Some(snapshot) = &snapshot
        && snapshot.line > lines
    {
        return Err(format!("its snapshot is at line {}, past the log's end ({lines} lines)", snapshot.line));
    }
    let done = verifier.finish().map_err(|broken| describe(&broken))?;
    Ok(Some(Verified {
        lines: done.lines,
        reports: done.reports,
        snapshot: snapshot.map(|s| s.line),
        head: done.head,
        balanced: engine.accounts_balance(),
    }))
}

fn describe(broken: &Broken) -> String {
    match broken.file {
        "report" => format!("daily report {}: {}", broken.line, broken.message),
        _ => format!("log line {}: {}", broken.line, broken.message),
    }
}

/// The snapshot taken at this line holds what the replay holds.
fn compare(engine: &Engine, head: &str, snapshot: &crate::store::Snapshot) -> Result<(), String> {
    let line = snapshot.line;
    if snapshot.head != head {
        return Err(format!(
            "the snapshot at line {line} names the chain head {}, the log {head}",
            snapshot.head
        ));
    }
    let restored = Engine::restore(&snapshot.data)
        .map_err(|e| format!("the snapshot at line {line} cannot be decoded: {e}"))?;
    let (mut replayed, mut kept) = (Vec::new(), Vec::new());
    state_json(engine, &[], None, &mut replayed).map_err(|e| e.to_string())?;
    state_json(&restored, &[], None, &mut kept).map_err(|e| e.to_string())?;
    if replayed != kept {
        return Err(format!("the snapshot at line {line} holds another state than the log replayed to it"));
    }
    Ok(())
}
