//! Measures snapshots of a large engine: its size, and the time to encode and decode it.
//!
//! ```text
//! cargo xtask gen --all --events 3700000 --out /tmp/all.jsonl   # 1.01M members, 1.96M orders
//! cargo run --release -p fanli-engine --example snapshot_size -- bench/plan-all.toml /tmp/all.jsonl
//! ```
//!
//! (`--events 10000000`, the server's restart target, gives 2.73M members and 5.30M orders.)
//!
//! Applies the stream (recording off, as `fanli run` does), then snapshots, clones and
//! restores the engine `RUNS` times each and prints the best times. It also checks that the
//! restored engine writes the same state document, byte for byte, and snapshots to the same
//! bytes.

use std::fs::File;
use std::io::BufReader;
use std::process::ExitCode;
use std::time::{Duration, Instant};

use fanli_engine::Engine;
use fanli_format::{parse_plan, run_stream, state_json};

const RUNS: usize = 3;

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let [plan, events] = args.as_slice() else {
        eprintln!("usage: snapshot_size PLAN.toml EVENTS.jsonl");
        return ExitCode::from(2);
    };
    let plan = parse_plan(&std::fs::read_to_string(plan).expect("reading the plan")).expect("a valid plan");
    let mut engine = Engine::new(plan);
    engine.record(false);
    let started = Instant::now();
    let events = BufReader::new(File::open(events).expect("opening the events"));
    let outcome = run_stream(&mut engine, events, false).expect("reading the events");
    println!(
        "applied {} of {} lines in {:.1} s: {} members, {} orders",
        outcome.applied,
        outcome.lines,
        started.elapsed().as_secs_f64(),
        engine.member_count(),
        engine.order_count()
    );

    let (bytes, encode) = best(|| engine.snapshot());
    let (clone, cloned) = best(|| engine.clone());
    drop(clone);
    let (restored, decode) = best(|| Engine::restore(&bytes).expect("the snapshot restores"));
    println!(
        "snapshot: {} bytes ({:.1} MiB, {:.0} bytes a member); encode {:.0} ms, decode {:.0} ms, clone {:.0} ms (best of {RUNS})",
        bytes.len(),
        bytes.len() as f64 / (1 << 20) as f64,
        bytes.len() as f64 / engine.member_count().max(1) as f64,
        ms(encode),
        ms(decode),
        ms(cloned),
    );

    let state = |engine: &Engine| {
        let mut out = Vec::new();
        state_json(engine, &[], None, &mut out).expect("writing to memory");
        out
    };
    let same_state = state(&engine) == state(&restored);
    let same_bytes = restored.snapshot() == bytes;
    println!("restored: same state document {same_state}, same snapshot bytes {same_bytes}");
    if same_state && same_bytes { ExitCode::SUCCESS } else { ExitCode::FAILURE }
}

/// The result of the last of `RUNS` calls, and the shortest time one took.
fn best<T>(mut f: impl FnMut() -> T) -> (T, Duration) {
    let mut best = Duration::MAX;
    let mut value = None;
    for _ in 0..RUNS {
        drop(value.take());
        let started = Instant::now();
        let v = f();
        best = best.min(started.elapsed());
        value = Some(v);
    }
    (value.expect("at least one run"), best)
}

fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1000.0
}
