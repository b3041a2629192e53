//! `cargo xtask bench --matrix`: `fanli run` on every workload of the matrix (issue 19), so that
//! a gain on one stream's shape cannot hide a loss on another's.
//!
//! Each [`Workload`] is a plan (`bench/plan.toml`, `bench/plan-all.toml` or one under
//! `bench/matrix/`) and a [`Shape`] of the generated stream, at two sizes (200k and 2M events by
//! default). The streams go under `target/bench/matrix/` (reused while their sidecar says they
//! have the same size and seed). Then, interleaved run by run (every workload at both sizes, then
//! again), each is run as `fanli run PLAN STREAM --json` with stdout to /dev/null, pinned to one
//! core with `taskset` where it exists; beside it, the parse floor: this xtask's `parse-floor
//! --stream STREAM`, which reads the same file the way `fanli run` does (1 MiB blocks, lines split with
//! memchr) and reads every line with `fanli_format::EventLine` and its `event()` (the reader the
//! engine is fed by), applying nothing. The table gives, per workload:
//!
//! - events/s at the large size, from the best of the runs (wall time of the whole process:
//!   plan, stream, output);
//! - time(large) / time(small), best against best;
//! - peak bytes per member: the run's peak resident set size (GNU time's `%M`, else VmHWM polled
//!   from /proc) less the same plan's run on an empty stream, over the members at the large size;
//! - the parse floor in events/s, and the engine's share: 1 − floor time / run time;
//! - with `perf` that can count instructions (not in most VMs), or with `--valgrind`
//!   (cachegrind without cache simulation: exact, some 30× slower), instructions per event of
//!   one run and of the floor: the figure that stays put on a noisy host.

use std::ffi::OsString;
use std::io::Read;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::Duration;

use crate::bench::{build_fanli, ensure_shaped, group, measure_command, target_dir, which, workspace_root};
use crate::generate::Shape;

/// Bumped whenever the generator's output for a shape changes, so that cached streams go stale.
const GENERATION: u32 = 1;

/// The issue's targets, marked in the table.
const TARGET_EVENTS_PER_SECOND: f64 = 1_500_000.0;
const TARGET_SCALING: f64 = 11.0;
const TARGET_BYTES_PER_MEMBER: u64 = 600;

/// One row of the matrix.
#[derive(Debug)]
pub(crate) struct Workload {
    pub(crate) name: &'static str,
    /// The plan, from the workspace root.
    pub(crate) plan: &'static str,
    pub(crate) what: &'static str,
    pub(crate) shape: Shape,
}

/// The matrix. Single kinds: appreciation, refer_refund, distribution, queue, green_points and
/// cycle alone; ad_tasks, loyalty and coalition run only in `all-kinds` (their events come
/// with the other kinds').
pub(crate) fn workloads() -> Vec<Workload> {
    let plain = Shape::plain;
    let without_appreciation = || Shape { appreciation: false, ..plain() };
    vec![
        Workload {
            name: "appreciation",
            plan: "bench/matrix/appreciation.toml",
            what: "消费增值 alone: orders, sells, withdrawals, injects, forced exits",
            shape: plain(),
        },
        Workload {
            name: "refer-refund",
            plan: "bench/matrix/refer-refund.toml",
            what: "推三返一 alone, with the indirect reward",
            shape: without_appreciation(),
        },
        Workload {
            name: "distribution",
            plan: "bench/matrix/distribution.toml",
            what: "分销 alone: levels, ranks, 平级奖, regional agents, recruiters",
            shape: Shape { stores: true, ..without_appreciation() },
        },
        Workload {
            name: "queue",
            plan: "bench/matrix/queue.toml",
            what: "two queues: when_funded locked 15 days, and every 3",
            shape: without_appreciation(),
        },
        Workload {
            name: "green-points",
            plan: "bench/matrix/green-points.toml",
            what: "绿色积分 alone: daily releases, share, team ranks",
            shape: without_appreciation(),
        },
        Workload {
            name: "cycle",
            plan: "bench/matrix/cycle.toml",
            what: "循环购 alone: the daily dividend and honor",
            shape: without_appreciation(),
        },
        Workload {
            name: "all-kinds",
            plan: "bench/plan-all.toml",
            what: "every kind at once (`bench --all`)",
            shape: Shape::all(),
        },
        Workload {
            name: "settle-0",
            plan: "bench/matrix/settle-0.toml",
            what: "bench/plan.toml, orders settling as they are paid",
            shape: Shape { settle_days: 0, ..plain() },
        },
        Workload {
            name: "settle-7",
            plan: "bench/plan.toml",
            what: "bench/plan.toml: a 7-day refund window (`bench`)",
            shape: plain(),
        },
        Workload {
            name: "refunds-clawback",
            plan: "bench/matrix/refunds-clawback.toml",
            what: "bench/plan.toml settling at once with clawback; 15% more lines refunds",
            shape: Shape { settle_days: 0, refunds: 0.15, sells_all: true, ..plain() },
        },
        Workload {
            name: "rejects-5pct",
            plan: "bench/plan.toml",
            what: "bench/plan.toml; 5% of lines refused (over the wallet, over the points, unknown members)",
            shape: Shape { rejects: 0.05, ..plain() },
        },
        Workload {
            name: "long-ids",
            plan: "bench/plan.toml",
            what: "bench/plan.toml; members named by phone numbers, orders by UUIDs",
            shape: Shape { long_ids: true, ..plain() },
        },
        Workload {
            name: "deep-referrals",
            plan: "bench/plan-all.toml",
            what: "every kind at once; every member referred by the one before, in chains of 1,000",
            shape: Shape { chain: 1_000, ..Shape::all() },
        },
    ]
}

pub(crate) struct Options {
    pub(crate) small: u64,
    pub(crate) large: u64,
    pub(crate) runs: usize,
    pub(crate) seed: u64,
    /// Workload names, comma-separated (all when absent).
    pub(crate) only: Option<String>,
    /// Count instructions with valgrind (cachegrind, no cache simulation) where perf cannot:
    /// exact, but one run costs some 30× the run.
    pub(crate) valgrind: bool,
}

/// What counts instructions.
enum Counter {
    Perf(PathBuf),
    Valgrind(PathBuf),
}

/// The stream file of a workload.
pub(crate) fn stream_path(dir: &Path, workload: &Workload, events: u64, seed: u64) -> PathBuf {
    dir.join(format!("{}-{events}-seed{seed}-g{GENERATION}.jsonl", workload.name))
}

/// The workloads `only` names (all of them without it); an unknown name is an error listing them.
fn select(only: Option<&str>) -> Result<Vec<Workload>, String> {
    let all = workloads();
    let Some(only) = only else { return Ok(all) };
    let names: Vec<&str> = only.split(',').map(str::trim).filter(|n| !n.is_empty()).collect();
    if let Some(unknown) = names.iter().find(|n| !all.iter().any(|w| w.name == **n)) {
        let known: Vec<&str> = all.iter().map(|w| w.name).collect();
        return Err(format!("no workload `{unknown}`; the matrix has {}", known.join(", ")));
    }
    Ok(all.into_iter().filter(|w| names.contains(&w.name)).collect())
}

/// A workload's measurements.
struct Row {
    workload: Workload,
    plan: PathBuf,
    streams: [PathBuf; 2],
    /// Members at the large size.
    members: u64,
    /// Best wall times: small, large, the parse floor of the large.
    best: [Duration; 3],
    peak_kib: u64,
    baseline_kib: u64,
    /// Instructions of one large run and of its parse floor, where perf counts them.
    instructions: Option<(u64, u64)>,
}

pub(crate) fn run(options: &Options) -> Result<(), String> {
    let Options { small, large, runs, seed, .. } = *options;
    if small == 0 || large <= small || runs == 0 {
        return Err("--matrix needs 0 < --events-small < --events-large and --runs of at least 1".to_owned());
    }
    let chosen = select(options.only.as_deref())?;
    let root = workspace_root();
    let fanli = build_fanli(&root)?;
    let me = std::env::current_exe().map_err(|e| format!("cannot find myself: {e}"))?;
    let dir = target_dir(&root).join("bench").join("matrix");
    std::fs::create_dir_all(&dir).map_err(|e| format!("cannot create {}: {e}", dir.display()))?;
    let taskset = which("taskset");
    let core = if std::thread::available_parallelism().map_or(1, |n| n.get()) > 1 { "1" } else { "0" };
    let gnu_time = Path::new("/usr/bin/time").is_file().then(|| PathBuf::from("/usr/bin/time"));
    let perf = which("perf")
        .map(Counter::Perf)
        .filter(|perf| instructions(perf, Path::new("true"), &[], None, core, &dir).is_some());
    let counter = match (perf, options.valgrind) {
        (Some(perf), _) => Some(perf),
        (None, true) => Some(Counter::Valgrind(which("valgrind").ok_or("--valgrind: no valgrind on PATH")?)),
        (None, false) => None,
    };
    let measure = |program: &Path, args: &[OsString]| {
        measure_command(program, args, taskset.as_deref(), core, gnu_time.as_deref(), &dir)
    };
    let run_args = |plan: &Path, stream: &Path| -> Vec<OsString> {
        vec!["run".into(), plan.into(), stream.into(), "--json".into()]
    };
    let empty = dir.join("empty.jsonl");
    std::fs::write(&empty, "").map_err(|e| format!("cannot write {}: {e}", empty.display()))?;

    let mut rows = Vec::new();
    for workload in chosen {
        let plan = root.join(workload.plan);
        let streams = [small, large].map(|n| stream_path(&dir, &workload, n, seed));
        ensure_shaped(&streams[0], small, seed, &workload.shape, 0)?;
        let members = ensure_shaped(&streams[1], large, seed, &workload.shape, 0)?;
        let (_, baseline_kib) = measure(&fanli, &run_args(&plan, &empty))?;
        let best = [Duration::MAX; 3];
        rows.push(Row {
            workload,
            plan,
            streams,
            members,
            best,
            peak_kib: 0,
            baseline_kib,
            instructions: None,
        });
    }
    // Interleaved: every workload at both sizes and its floor, then again, so that a slow
    // stretch of the machine slows them all alike.
    for run in 1..=runs {
        for row in &mut rows {
            for (i, stream) in row.streams.iter().enumerate() {
                let (time, rss) = measure(&fanli, &run_args(&row.plan, stream))?;
                row.best[i] = row.best[i].min(time);
                if i == 1 {
                    row.peak_kib = row.peak_kib.max(rss);
                }
            }
            let (floor, _) =
                measure(&me, &["parse-floor".into(), "--stream".into(), row.streams[1].clone().into()])?;
            row.best[2] = row.best[2].min(floor);
            eprintln!(
                "run {run}/{runs} {}: {:.3} s, {:.3} s, floor {:.3} s",
                row.workload.name,
                row.best[0].as_secs_f64(),
                row.best[1].as_secs_f64(),
                row.best[2].as_secs_f64()
            );
        }
    }
    if let Some(perf) = &counter {
        for row in &mut rows {
            let stream = &row.streams[1];
            let engine =
                instructions(perf, &fanli, &run_args(&row.plan, stream), taskset.as_deref(), core, &dir);
            let floor = instructions(
                perf,
                &me,
                &["parse-floor".into(), "--stream".into(), stream.into()],
                taskset.as_deref(),
                core,
                &dir,
            );
            row.instructions = engine.zip(floor);
        }
    }

    let (s, l) = (short(small), short(large));
    let pinned = match &taskset {
        Some(_) => format!("pinned with `taskset -c {core}`"),
        None => "not pinned (no taskset)".to_owned(),
    };
    let rss = if gnu_time.is_some() { "GNU time's %M" } else { "VmHWM polled from /proc" };
    let counted = match &counter {
        Some(Counter::Perf(_)) => "instructions from `perf stat -e instructions` (one run)",
        Some(Counter::Valgrind(_)) => "instructions from valgrind's cachegrind (`I refs`, one run)",
        None => "no instruction counts (perf cannot count them here: try --valgrind)",
    };
    println!();
    println!(
        "`fanli run PLAN STREAM --json` (stdout to /dev/null), best of {runs} interleaved runs, {pinned}; \
         streams from the matrix's generator, seed {seed}; peak RSS from {rss}, less the plan's run on an \
         empty stream; {counted}. ✗ marks a figure short of the issue's target."
    );
    println!();
    println!(
        "| workload | members at {l} | events/s at {l} | time({l})/time({s}) | bytes/member | \
         parse floor events/s | engine share | instructions/event | floor instructions/event |"
    );
    println!("|---|---:|---:|---:|---:|---:|---:|---:|---:|");
    let mut misses = 0;
    for row in &rows {
        let [t_small, t_large, t_floor] = row.best.map(|d| d.as_secs_f64());
        let rate = large as f64 / t_large;
        let ratio = t_large / t_small;
        let bytes = row.peak_kib.saturating_sub(row.baseline_kib) * 1024 / row.members.max(1);
        let mut mark = |missed: bool| {
            misses += usize::from(missed);
            if missed { " ✗" } else { "" }
        };
        let (m_rate, m_ratio, m_bytes) = (
            mark(rate < TARGET_EVENTS_PER_SECOND),
            mark(ratio > TARGET_SCALING),
            mark(bytes > TARGET_BYTES_PER_MEMBER),
        );
        let per_event = |n: u64| format!("{:.0}", n as f64 / large as f64);
        let (engine_ipe, floor_ipe) = match row.instructions {
            Some((engine, floor)) => (per_event(engine), per_event(floor)),
            None => ("n/a".to_owned(), "n/a".to_owned()),
        };
        println!(
            "| {} | {} | {}{m_rate} | {ratio:.2}{m_ratio} | {bytes}{m_bytes} | {} | {:.0}% | {engine_ipe} | {floor_ipe} |",
            row.workload.name,
            group(row.members),
            group(rate as u64),
            group((large as f64 / t_floor) as u64),
            (1.0 - t_floor / t_large) * 100.0,
        );
    }
    println!();
    println!(
        "Targets: ≥ {} events/s at {l}, time({l})/time({s}) ≤ {TARGET_SCALING} (for 10× the events), ≤ \
         {TARGET_BYTES_PER_MEMBER} bytes/member; {misses} figure(s) short of them.",
        group(TARGET_EVENTS_PER_SECOND as u64)
    );
    println!();
    for row in &rows {
        println!("- `{}` ({}): {}", row.workload.name, row.workload.plan, row.workload.what);
    }
    Ok(())
}

/// The instructions `program args` retires, from `perf stat -e instructions -x,` or cachegrind's
/// `I refs`; None when perf cannot count them (`<not supported>` in most VMs) or the program
/// fails.
fn instructions(
    counter: &Counter,
    program: &Path,
    args: &[OsString],
    taskset: Option<&Path>,
    core: &str,
    scratch: &Path,
) -> Option<u64> {
    let out = scratch.join("instructions.txt");
    // taskset outside: valgrind stops following a program at its exec.
    let (Counter::Perf(tool) | Counter::Valgrind(tool)) = counter;
    let mut command = match taskset {
        Some(taskset) => {
            let mut command = Command::new(taskset);
            command.args(["-c", core]).arg(tool);
            command
        }
        None => Command::new(tool),
    };
    match counter {
        Counter::Perf(_) => {
            command.args(["stat", "-x,", "-e", "instructions", "-o"]).arg(&out).arg("--");
        }
        Counter::Valgrind(_) => {
            let log = OsString::from_iter([OsString::from("--log-file="), out.clone().into()]);
            command.args(["--tool=cachegrind", "--cache-sim=no", "--cachegrind-out-file=/dev/null"]).arg(log);
        }
    }
    let status = command
        .arg(program)
        .args(args)
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .ok()?;
    if !matches!(status.code(), Some(0 | 2)) {
        return None;
    }
    let text = std::fs::read_to_string(&out).ok()?;
    match counter {
        Counter::Perf(_) => perf_instructions(&text),
        Counter::Valgrind(_) => cachegrind_instructions(&text),
    }
}

/// The count on cachegrind's `==PID== I   refs:      1,509,000,000` line.
fn cachegrind_instructions(log: &str) -> Option<u64> {
    let line = log.lines().find(|l| l.contains("I   refs:") || l.contains("I refs:"))?;
    line.rsplit(':').next()?.trim().replace(',', "").parse().ok()
}

/// The count on perf's CSV line for `instructions` (or `instructions:u`).
fn perf_instructions(csv: &str) -> Option<u64> {
    csv.lines().find_map(|line| {
        let fields: Vec<&str> = line.split(',').collect();
        let event = fields.get(2)?;
        (*event == "instructions" || event.starts_with("instructions:")).then(|| fields[0].parse().ok())?
    })
}

/// 200000 → "200k", 2000000 → "2M".
fn short(n: u64) -> String {
    match n {
        n if n >= 1_000_000 && n.is_multiple_of(1_000_000) => format!("{}M", n / 1_000_000),
        n if n >= 1_000 && n.is_multiple_of(1_000) => format!("{}k", n / 1_000),
        n => n.to_string(),
    }
}

/// `xtask parse-floor --stream STREAM`: reads the stream as `fanli run` does, 1 MiB at a time, and reads
/// every line with the engine's reader (`EventLine::read`, then `event()`), applying nothing.
/// Prints the lines read and how many did not read as an event.
pub(crate) fn parse_floor(path: &Path) -> Result<(), String> {
    const BLOCK: usize = 1 << 20;
    let mut file = std::fs::File::open(path).map_err(|e| format!("cannot read {}: {e}", path.display()))?;
    let mut buffer = vec![0u8; BLOCK];
    let (mut end, mut lines, mut bad) = (0, 0u64, 0u64);
    loop {
        let read =
            file.read(&mut buffer[end..]).map_err(|e| format!("cannot read {}: {e}", path.display()))?;
        end += read;
        let mut rest = &buffer[..end];
        let mut slot = fanli_format::EventLine::default();
        while let Some(newline) = memchr::memchr(b'\n', rest) {
            if let Some(ok) = read_line(&mut slot, &rest[..newline]) {
                (lines, bad) = (lines + 1, bad + u64::from(!ok));
            }
            rest = &rest[newline + 1..];
        }
        if read == 0 {
            if let Some(ok) = read_line(&mut slot, rest) {
                (lines, bad) = (lines + 1, bad + u64::from(!ok));
            }
            break;
        }
        let (start, len) = (end - rest.len(), rest.len());
        buffer.copy_within(start..end, 0);
        end = len;
        if buffer.len() - end < BLOCK / 2 {
            buffer.resize(buffer.len() * 2, 0);
        }
    }
    println!("{lines} lines, {bad} not events");
    Ok(())
}

/// One line as `fanli run` reads it: None when blank, else whether it reads as an event.
fn read_line<'a>(slot: &mut fanli_format::EventLine<'a>, bytes: &'a [u8]) -> Option<bool> {
    let bytes = bytes.strip_suffix(b"\r").unwrap_or(bytes);
    if bytes.trim_ascii().is_empty() {
        return None;
    }
    Some(slot.read(bytes).is_ok() && std::hint::black_box(slot.event()).is_ok())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::generate::stream_bytes;
    use fanli_format::{parse_plan_lines, run_stream};

    const EVENTS: u64 = 20_000;

    /// Every workload's plan passes `fanli check` (parses, and compliance refuses nothing), and
    /// its stream applies with the share of refusals it is meant to have: about 5% for
    /// `rejects-5pct`, each of them one of the three it writes; well under 1% for the others
    /// (at 20k events: none, but 6 in `settle-0` and 32 in `refunds-clawback`).
    #[test]
    fn every_plan_passes_check_and_every_stream_refuses_what_it_should() {
        let root = workspace_root();
        for workload in workloads() {
            let name = workload.name;
            let text = std::fs::read_to_string(root.join(workload.plan)).unwrap();
            let (plan, _) = parse_plan_lines(&text).unwrap_or_else(|e| panic!("{name}: {e:?}"));
            let findings = fanli_engine::compliance::check(&plan);
            assert!(!fanli_engine::compliance::refused(&findings), "{name}: {findings:?}");
            let (bytes, stats) = stream_bytes(EVENTS, 42, &workload.shape);
            let mut engine = fanli_engine::Engine::new(plan);
            let outcome = run_stream(&mut engine, bytes.as_slice(), false).unwrap();
            assert_eq!(outcome.lines, EVENTS as usize, "{name}");
            assert!(engine.accounts_balance(), "{name}");
            let share = outcome.rejected.len() as f64 / EVENTS as f64;
            if name == "rejects-5pct" {
                assert!((0.045..0.055).contains(&share), "{name}: {share}");
                let mut codes: Vec<&str> = outcome.rejected.iter().map(|r| r.refusal.code).collect();
                codes.sort_unstable();
                codes.dedup();
                assert_eq!(codes, ["not_enough_points", "not_enough_wallet", "unknown_member"], "{name}");
                // At this size the plan refuses nothing else: exactly the lines written to be refused.
                assert_eq!(outcome.rejected.len() as u64, stats.bad, "{name}");
            } else {
                assert!(share < 0.01, "{name}: {share}: {:?}", &outcome.rejected[..5]);
                assert_eq!(stats.bad, 0, "{name}");
            }
        }
    }

    #[test]
    fn workloads_are_what_they_say() {
        let by_name = |name: &str| workloads().into_iter().find(|w| w.name == name).unwrap();
        let text = |name: &str| String::from_utf8(stream_bytes(EVENTS, 42, &by_name(name).shape).0).unwrap();

        // Long ids: no short name left; phone numbers and UUIDs.
        let long = text("long-ids");
        assert!(!long.contains("\"member\":\"m") && !long.contains("\"order\":\"o"));
        assert!(long.contains("\"member\":\"+8613000000000\""), "member 0 is +86 13 000000000");
        let uuid = long.split("\"order\":\"").nth(1).unwrap().split('"').next().unwrap();
        assert_eq!(uuid.len(), 36, "{uuid}");
        assert_eq!(uuid.match_indices('-').map(|(i, _)| i).collect::<Vec<_>>(), [8, 13, 18, 23]);

        // Deep referrals: every member but each 1,000th referred by the one before.
        let deep = text("deep-referrals");
        let joins: Vec<&str> = deep.lines().filter(|l| l.contains("\"type\":\"join\"")).collect();
        assert!(joins.len() > 2_000, "{}", joins.len());
        assert!(!joins[0].contains("referrer") && !joins[1_000].contains("referrer"));
        assert!(joins[999].contains("\"member\":\"m999\",\"referrer\":\"m998\""), "{}", joins[999]);
        assert!(joins[1_001].contains("\"member\":\"m1001\",\"referrer\":\"m1000\""), "{}", joins[1_001]);

        // Single kinds without appreciation write no sells, withdrawals or injects.
        for name in ["refer-refund", "distribution", "queue", "green-points", "cycle"] {
            let t = text(name);
            for kind in ["sell", "withdraw", "inject", "ad_view", "redeem", "topup"] {
                assert!(!t.contains(&format!("\"type\":\"{kind}\"")), "{name} has a {kind}");
            }
        }
        assert!(text("distribution").contains("\"type\":\"agent\""));
    }

    /// The shaped workloads do what they are for: refunds claw back, both queues pay, orders
    /// settle at once.
    #[test]
    fn workloads_exercise_their_mechanisms() {
        let root = workspace_root();
        let state = |name: &str| {
            let workload = workloads().into_iter().find(|w| w.name == name).unwrap();
            let text = std::fs::read_to_string(root.join(workload.plan)).unwrap();
            let mut engine = fanli_engine::Engine::new(fanli_format::parse_plan(&text).unwrap());
            let (bytes, stats) = stream_bytes(EVENTS, 42, &workload.shape);
            let outcome = run_stream(&mut engine, bytes.as_slice(), false).unwrap();
            let mut json = Vec::new();
            fanli_format::state_json(&engine, &outcome.rejected, None, &mut json).unwrap();
            (serde_json::from_slice::<serde_json::Value>(&json).unwrap(), stats)
        };
        let (clawback, stats) = state("refunds-clawback");
        let plain = stream_bytes(EVENTS, 42, &Shape::plain()).1;
        assert!(stats.refunds > 5 * plain.refunds, "{} refunds against {}", stats.refunds, plain.refunds);
        let taken = &clawback["mechanisms"]["appr"]["clawback"]["points_taken"];
        assert!(taken.as_str().is_some_and(|p| p != "0.0000"), "{taken}");
        let (queue, _) = state("queue");
        for id in ["union", "three"] {
            let paid = &queue["mechanisms"][id]["paid"];
            assert!(paid.as_str().is_some_and(|p| p != "0.00"), "{id}: {paid}");
        }
    }

    #[test]
    fn select_by_name() {
        assert_eq!(select(None).unwrap().len(), 13);
        let two: Vec<&str> = select(Some("queue,long-ids")).unwrap().iter().map(|w| w.name).collect();
        assert_eq!(two, ["queue", "long-ids"]);
        assert!(select(Some("nope")).unwrap_err().contains("no workload `nope`"));
    }

    #[test]
    fn reads_perf_csv_and_sizes() {
        assert_eq!(perf_instructions("\n# started\n123456,,instructions:u,1000,100.00,,\n"), Some(123_456));
        assert_eq!(perf_instructions("<not supported>,,instructions,0,100.00,,\n"), None);
        assert_eq!(
            cachegrind_instructions("==12== \n==12== I   refs:      1,509,000,123\n"),
            Some(1_509_000_123)
        );
        assert_eq!(short(200_000), "200k");
        assert_eq!(short(2_000_000), "2M");
        assert_eq!(short(1_500), "1500");
    }
}
