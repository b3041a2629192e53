//! `cargo xtask restart`: how long the server takes to be ready again over a long log.
//!
//! Builds a store under `target/bench/restart` holding one tenant with `bench/plan.toml` and the
//! first N lines of the benchmark stream as its chained log, written straight through the store
//! (no HTTP: this measures the start, not the load), with the snapshot the server would have
//! taken T lines before the end (the server snapshots every 500,000 events, so a start replays
//! at most about that many). Then times `App::open`, which is what `fanli serve` does before it
//! listens: once from the snapshot, once without it (the whole log).

use std::time::Instant;

use fanli_engine::Engine;
use fanli_format::chain::{Chain, sha256_hex};
use fanli_format::{EventLine, LineOutcome, parse_plan};
use fanli_server::store::{Append, Snapshot, Store};

use crate::bench::{ensure_stream, plan_path, stream_path, target_dir, workspace_root};

pub(crate) fn run(events: u64, tail: u64) -> Result<(), String> {
    let root = workspace_root();
    let dir = target_dir(&root).join("bench");
    let stream = stream_path(&dir, events, crate::DEFAULT_SEED, false, 0);
    ensure_stream(&stream, events, crate::DEFAULT_SEED, false, 0)?;
    let data = dir.join("restart");
    let _ = std::fs::remove_dir_all(&data);
    std::fs::create_dir_all(&data).map_err(|e| e.to_string())?;
    let plan = std::fs::read_to_string(plan_path(&root, false)).map_err(|e| e.to_string())?;

    let started = Instant::now();
    // The master key's hash goes in first, as the server's first start would put it.
    drop(fanli_server::App::open(&data, "restart-master").map_err(|e| e.to_string())?);
    let mut store = Store::open(&data, None).map_err(|e| e.to_string())?;
    let owner = fanli_server::store::StoredKey {
        id: fanli_server::store::key_id().map_err(|e| e.to_string())?,
        hash: sha256_hex(b"restart-owner"),
        tenant: "t".to_owned(),
        role: "owner".to_owned(),
        scope: None,
        created_at: None,
        created_by: Some("master".to_owned()),
        revoked_at: None,
        revoked_by: None,
    };
    store.create_tenant(&owner).map_err(|e| e.to_string())?;
    store.add_plan("t", &plan, None).map_err(|e| e.to_string())?;
    let mut engine = Engine::new(parse_plan(&plan).map_err(|e| e.to_string())?);
    engine.record(false);
    let mut chain = Chain::default();
    let text = std::fs::read_to_string(&stream).map_err(|e| e.to_string())?;
    let snapshot_at = events.saturating_sub(tail);
    let mut chunk: Vec<String> = Vec::with_capacity(100_000);
    let mut written = 0;
    // The Merkle tree's stored subtrees, as the server's commits would have written them (its
    // head is signed by the first start, as for a store from before the tree had heads).
    let mut tree = fanli_format::merkle::Frontier::default();
    let mut rows = fanli_server::store::TreeRows::default();
    let flush = |store: &mut Store,
                 chunk: &mut Vec<String>,
                 written: &mut u64,
                 rows: &mut fanli_server::store::TreeRows|
     -> Result<(), String> {
        let append = Append {
            tenant: "t",
            after: *written,
            lines: chunk,
            by: &[],
            notifications: &[],
            reports: &[],
            lease: None,
            members: &[],
            history: &[],
            days: &[],
            answers: &[],
            plans: &[],
            backfilling: None,
            tree: Some(rows),
        };
        store.append(&[append]).map_err(|e| e.to_string())?;
        *written += chunk.len() as u64;
        chunk.clear();
        rows.nodes.clear();
        Ok(())
    };
    let mut slot = EventLine::default();
    for line in text.lines() {
        let LineOutcome::Accepted(event) = fanli_format::apply_bytes(&mut engine, &mut slot, line.as_bytes())
        else {
            continue; // The stream's deliberate bad lines: the server would refuse them too.
        };
        let line = chain.link(&event);
        tree.push_with(fanli_format::merkle::leaf_hash(line.as_bytes()), |level, index, hash| {
            if level >= fanli_server::transparency::STORED_LEVEL {
                rows.nodes.push((level, index, fanli_format::merkle::to_hex(hash)));
            }
        });
        chunk.push(line);
        if chain.len() == snapshot_at {
            flush(&mut store, &mut chunk, &mut written, &mut rows)?;
            let snapshot = Snapshot {
                line: chain.len(),
                head: chain.head().to_owned(),
                closed_through: None,
                data: engine.snapshot(),
            };
            eprintln!("snapshot at line {}: {} MB", snapshot.line, snapshot.data.len() / 1_000_000);
            store.put_snapshot("t", &snapshot).map_err(|e| e.to_string())?;
        }
        if chunk.len() == 100_000 {
            flush(&mut store, &mut chunk, &mut written, &mut rows)?;
        }
    }
    flush(&mut store, &mut chunk, &mut written, &mut rows)?;
    eprintln!(
        "built a log of {written} lines ({} members) in {:.1} s",
        engine.member_count(),
        started.elapsed().as_secs_f64()
    );
    let state = |app: &fanli_server::App| app.state("t").map(|s| sha256_hex(&s));
    let expected = {
        let mut body = Vec::new();
        fanli_format::state_json(&engine, &[], None, &mut body).map_err(|e| e.to_string())?;
        body.push(b'\n');
        sha256_hex(&body)
    };
    drop(engine);

    println!("| log lines | snapshot at | start | from |");
    println!("|---:|---:|---:|---|");
    let started = Instant::now();
    let app = fanli_server::App::open(&data, "restart-master").map_err(|e| e.to_string())?;
    let from_snapshot = started.elapsed().as_secs_f64();
    if app.snapshot_line("t") != Some(snapshot_at) || state(&app).as_deref() != Some(&expected) {
        return Err("the start from the snapshot did not give the state the log gives".to_owned());
    }
    println!(
        "| {written} | {snapshot_at} | {from_snapshot:.2} s | the snapshot and {} lines |",
        written - snapshot_at
    );
    drop(app);
    store
        .put_snapshot("t", &Snapshot { line: 0, head: String::new(), closed_through: None, data: Vec::new() })
        .map_err(|e| e.to_string())?;
    let started = Instant::now();
    let app = fanli_server::App::open(&data, "restart-master").map_err(|e| e.to_string())?;
    let replayed = started.elapsed().as_secs_f64();
    if state(&app).as_deref() != Some(&expected) {
        return Err("the replay did not give the state the log gives".to_owned());
    }
    println!("| {written} | none | {replayed:.2} s | the whole log |");
    Ok(())
}
