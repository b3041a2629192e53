//! `cargo xtask phases`: where the time of a run goes, and how each part scales.
//!
//! Loads a generated stream into memory, then times parsing every line alone, and parsing plus
//! applying it to an engine (so the engine's share is the difference), on N/10 and N events,
//! best of K. Reading the file and writing the state are left out: they are linear, and what
//! this is for is telling apart what grows with the size of the state from what does not. Runs
//! itself again under `taskset -c 1` where taskset exists, as `bench` runs fanli.

use std::process::Command;
use std::time::{Duration, Instant};

use fanli_engine::Engine;
use fanli_format::{EventLine, parse_plan};

use crate::bench::{ensure_stream, plan_path, stream_path, target_dir, which, workspace_root};

pub(crate) fn run(events: u64, runs: usize, seed: u64, all: bool) -> Result<(), String> {
    if std::env::var_os("FANLI_XTASK_PINNED").is_none()
        && let Some(taskset) = which("taskset")
    {
        let me = std::env::current_exe().map_err(|e| format!("cannot find myself: {e}"))?;
        let status = Command::new(taskset)
            .arg("-c")
            .arg("1")
            .arg(me)
            .args(std::env::args().skip(1))
            .env("FANLI_XTASK_PINNED", "1")
            .status()
            .map_err(|e| format!("cannot run taskset: {e}"))?;
        return if status.success() { Ok(()) } else { Err(format!("the pinned run failed ({status})")) };
    }
    let root = workspace_root();
    let plan_text = std::fs::read_to_string(plan_path(&root, all)).map_err(|e| e.to_string())?;
    let plan = parse_plan(&plan_text).map_err(|e| e.to_string())?;
    let mut rows = Vec::new();
    for n in [events / 10, events] {
        let stream = stream_path(&target_dir(&root).join("bench"), n, seed, all, 0);
        ensure_stream(&stream, n, seed, all, 0)?;
        let data = std::fs::read(&stream).map_err(|e| e.to_string())?;
        let lines: Vec<&[u8]> = data.split(|&b| b == b'\n').filter(|l| !l.is_empty()).collect();
        let (mut parse, mut whole) = (Duration::MAX, Duration::MAX);
        for _ in 0..runs {
            let started = Instant::now();
            for line in &lines {
                let raw = EventLine::parse(line).map_err(|e| e.to_string())?;
                std::hint::black_box(raw.event().map_err(|e| e.to_string())?);
            }
            parse = parse.min(started.elapsed());
            let mut engine = Engine::new(plan.clone());
            let started = Instant::now();
            let mut slot = EventLine::default();
            for line in &lines {
                let _ = std::hint::black_box(fanli_format::apply_bytes(&mut engine, &mut slot, line));
            }
            whole = whole.min(started.elapsed());
        }
        rows.push((n, parse, whole.saturating_sub(parse)));
    }
    println!("| events | parse | engine | engine ns/event |");
    println!("|---:|---:|---:|---:|");
    for (n, parse, engine) in &rows {
        let per_event = engine.as_nanos() as f64 / *n as f64;
        println!("| {n} | {:.3} s | {:.3} s | {per_event:.0} |", parse.as_secs_f64(), engine.as_secs_f64());
    }
    let ratio =
        |f: fn(&(u64, Duration, Duration)) -> Duration| f(&rows[1]).as_secs_f64() / f(&rows[0]).as_secs_f64();
    println!("10× the events: parsing {:.1}×, the engine {:.1}×", ratio(|r| r.1), ratio(|r| r.2));
    Ok(())
}
