//! `cargo xtask bench`: `fanli run` end to end on two generated streams, N/10 and N events.
//!
//! Builds the release `fanli`, generates the streams under `target/bench/` (reused while their
//! sidecar says they have the same size and seed), then runs
//! `fanli run bench/plan.toml STREAM --json` K times on each, interleaved, standard output to /dev/null,
//! pinned to one core with `taskset -c 1` where taskset exists. Reports the best wall time,
//! events per second, the peak resident set size (GNU time's `%M` when /usr/bin/time exists,
//! else polled from /proc), bytes per member, and how the time scales from N/10 to N, as a
//! markdown table for BENCHMARKS.md.
//!
//! With `--base BIN`, another `fanli` (the build before a change, say) runs beside this one,
//! interleaved run by run on the same streams, and a last table gives this build's best time
//! over the base's: the comparison a change that must not slow anything down needs, made in one
//! sitting so that a slow stretch of the machine slows both alike.

use std::ffi::OsString;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use crate::generate::{self, meta_path};

/// The scaling target: 10× the events in at most this many times the time.
const SCALING_TARGET: f64 = 12.0;

/// One stream's measurements, with one binary.
struct Measured {
    label: &'static str,
    /// Which binary: 0 this build, 1 the base.
    binary: usize,
    events: u64,
    members: u64,
    best: Duration,
    peak_rss_kib: u64,
}

/// The stream file for `events` lines from `seed`, for all mechanisms or for bench/plan.toml,
/// with an amendment every `amend_every` lines (0: none).
pub(crate) fn stream_path(dir: &Path, events: u64, seed: u64, all: bool, amend_every: u64) -> PathBuf {
    let amended = if amend_every > 0 { format!("-amend{amend_every}") } else { String::new() };
    dir.join(format!("events-{events}-seed{seed}{}{amended}.jsonl", if all { "-all" } else { "" }))
}

/// The plan a stream is for.
pub(crate) fn plan_path(root: &Path, all: bool) -> PathBuf {
    root.join("bench").join(if all { "plan-all.toml" } else { "plan.toml" })
}

pub(crate) fn run(
    events: u64,
    runs: usize,
    seed: u64,
    all: bool,
    amend_every: u64,
    base: Option<PathBuf>,
) -> Result<(), String> {
    let root = workspace_root();
    let target = target_dir(&root);
    let fanli = build_fanli(&root)?;
    let plan = plan_path(&root, all);
    let shown = plan.strip_prefix(&root).unwrap_or(&plan).display().to_string();
    let dir = target.join("bench");

    let taskset = which("taskset");
    // Core 1 where there is one, so the run stays off core 0's interrupts; core 0 otherwise.
    let core = if std::thread::available_parallelism().map_or(1, |n| n.get()) > 1 { "1" } else { "0" };
    let gnu_time = Path::new("/usr/bin/time").is_file().then(|| PathBuf::from("/usr/bin/time"));

    // Both streams first; then the runs interleaved (N/10, N, N/10, N, …), so that a slow
    // stretch of this shared machine slows both sizes alike instead of only the one measured then.
    let binaries: Vec<PathBuf> = std::iter::once(fanli.clone()).chain(base).collect();
    let mut measured = Vec::new();
    for (label, n) in [("N/10", events / 10), ("N", events)] {
        let stream = stream_path(&dir, n, seed, all, amend_every);
        let members = ensure_stream(&stream, n, seed, all, amend_every)?;
        for binary in 0..binaries.len() {
            let m = Measured { label, binary, events: n, members, best: Duration::MAX, peak_rss_kib: 0 };
            measured.push((m, stream.clone()));
        }
    }
    for run in 1..=runs {
        for (m, stream) in &mut measured {
            let fanli = &binaries[m.binary];
            let (time, rss) =
                measure(fanli, &plan, stream, taskset.as_deref(), core, gnu_time.as_deref(), &dir)?;
            eprintln!(
                "{} ({} events, {}) run {run}/{runs}: {:.3} s, peak RSS {:.1} MiB",
                m.label,
                m.events,
                fanli.display(),
                time.as_secs_f64(),
                rss as f64 / 1024.0
            );
            m.best = m.best.min(time);
            m.peak_rss_kib = m.peak_rss_kib.max(rss);
        }
    }
    let measured: Vec<Measured> = measured.into_iter().map(|(m, _)| m).collect();

    let pinned = match &taskset {
        Some(_) => format!("pinned with `taskset -c {core}`"),
        None => "not pinned (no taskset)".to_owned(),
    };
    let amended = if amend_every > 0 { format!(" --amend-every {amend_every}") } else { String::new() };
    let rss_source = if gnu_time.is_some() { "GNU time's %M" } else { "VmHWM polled from /proc" };
    println!();
    println!(
        "`fanli run {shown} STREAM --json` (stdout to /dev/null), best of {runs}, {pinned}; \
         streams from `cargo xtask gen --seed {seed}{amended}`; peak RSS from {rss_source}."
    );
    println!();
    println!("| binary | stream | events | members | best wall time | events/s | peak RSS | bytes/member |");
    println!("|---|---|---:|---:|---:|---:|---:|---:|");
    for m in &measured {
        let secs = m.best.as_secs_f64();
        println!(
            "| {} | {} | {} | {} | {:.3} s | {} | {:.1} MiB | {} |",
            if m.binary == 0 { "this build" } else { "base" },
            m.label,
            group(m.events),
            group(m.members),
            secs,
            group((m.events as f64 / secs) as u64),
            m.peak_rss_kib as f64 / 1024.0,
            group(m.peak_rss_kib * 1024 / m.members.max(1)),
        );
    }
    let best = |label: &str, binary: usize| {
        measured.iter().find(|m| m.label == label && m.binary == binary).map(|m| m.best.as_secs_f64())
    };
    println!();
    for binary in 0..binaries.len() {
        let (small, large) = (best("N/10", binary).expect("measured"), best("N", binary).expect("measured"));
        let ratio = large / small;
        let verdict = if ratio <= SCALING_TARGET { "met" } else { "NOT met" };
        let which = if binary == 0 { "this build" } else { "base" };
        println!("{which}: time(N) / time(N/10) = {ratio:.2} (target ≤ {SCALING_TARGET}: {verdict})");
    }
    if binaries.len() > 1 {
        for label in ["N/10", "N"] {
            let (new, old) = (best(label, 0).expect("measured"), best(label, 1).expect("measured"));
            println!(
                "{label}: this build's best / the base's = {:.3} ({:+.1}%)",
                new / old,
                (new / old - 1.0) * 100.0
            );
        }
    }
    Ok(())
}

/// Builds the release `fanli` and returns its path.
pub(crate) fn build_fanli(root: &Path) -> Result<PathBuf, String> {
    let cargo = std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into());
    eprintln!("building the release fanli…");
    let built = Command::new(&cargo)
        .args(["build", "--release", "-p", "fanli-cli"])
        .current_dir(root)
        .status()
        .map_err(|e| format!("cannot run cargo: {e}"))?;
    if !built.success() {
        return Err(format!("cargo build --release -p fanli-cli failed ({built})"));
    }
    Ok(target_dir(root).join("release").join("fanli"))
}

/// Where cargo builds: `CARGO_TARGET_DIR`, else `target/` under the root.
pub(crate) fn target_dir(root: &Path) -> PathBuf {
    std::env::var_os("CARGO_TARGET_DIR").map_or_else(|| root.join("target"), PathBuf::from)
}

/// The workspace root: the xtask crate's parent.
pub(crate) fn workspace_root() -> PathBuf {
    let manifest = Path::new(env!("CARGO_MANIFEST_DIR"));
    manifest.parent().unwrap_or(manifest).to_path_buf()
}

/// Generates the stream unless one with the same size and seed is there; returns its members.
pub(crate) fn ensure_stream(
    stream: &Path,
    events: u64,
    seed: u64,
    all: bool,
    amend_every: u64,
) -> Result<u64, String> {
    ensure_shaped(stream, events, seed, &generate::Shape::of(all), amend_every)
}

/// [`ensure_stream`] of any shape (the file's name tells shapes apart).
pub(crate) fn ensure_shaped(
    stream: &Path,
    events: u64,
    seed: u64,
    shape: &generate::Shape,
    amend_every: u64,
) -> Result<u64, String> {
    let size = std::fs::metadata(stream).map(|m| m.len()).ok();
    if let Ok(meta) = std::fs::read_to_string(meta_path(stream))
        && field(&meta, "events") == Some(events)
        && field(&meta, "seed") == Some(seed)
        && field(&meta, "amend_every").unwrap_or(0) == amend_every
        && field(&meta, "bytes").is_some()
        && field(&meta, "bytes") == size
        && let Some(members) = field(&meta, "members")
    {
        eprintln!("reusing {} ({events} events, {members} members)", stream.display());
        return Ok(members);
    }
    let started = Instant::now();
    let stats = generate::write_stream(stream, events, seed, shape, amend_every)
        .map_err(|e| format!("cannot write {}: {e}", stream.display()))?;
    eprintln!(
        "generated {} ({events} events, {} members) in {:.2} s",
        stream.display(),
        stats.members,
        started.elapsed().as_secs_f64()
    );
    Ok(stats.members)
}

/// A whole-number field of the sidecar's flat JSON object.
fn field(json: &str, key: &str) -> Option<u64> {
    let start = json.find(&format!("\"{key}\":"))? + key.len() + 3;
    let digits: String = json[start..].chars().take_while(char::is_ascii_digit).collect();
    digits.parse().ok()
}

/// One run: its wall time and the child's peak resident set size in KiB.
fn measure(
    fanli: &Path,
    plan: &Path,
    stream: &Path,
    taskset: Option<&Path>,
    core: &str,
    gnu_time: Option<&Path>,
    scratch: &Path,
) -> Result<(Duration, u64), String> {
    let args = [OsString::from("run"), plan.into(), stream.into(), "--json".into()];
    measure_command(fanli, &args, taskset, core, gnu_time, scratch)
        .map_err(|e| format!("{e} on {}", stream.display()))
}

/// One run of `program args` (stdout to /dev/null, pinned to `core` with `taskset` when given):
/// its wall time and the child's peak resident set size in KiB. Exit status 2 (some lines
/// refused) counts as a success.
pub(crate) fn measure_command(
    program: &Path,
    args: &[OsString],
    taskset: Option<&Path>,
    core: &str,
    gnu_time: Option<&Path>,
    scratch: &Path,
) -> Result<(Duration, u64), String> {
    let rss_file = scratch.join("maxrss.txt");
    let mut argv: Vec<OsString> = Vec::new();
    if let Some(taskset) = taskset {
        argv.extend([taskset.into(), "-c".into(), core.into()]);
    }
    if let Some(time) = gnu_time {
        argv.extend([time.into(), "-f".into(), "%M".into(), "-o".into(), rss_file.clone().into()]);
    }
    argv.push(program.into());
    argv.extend(args.iter().cloned());
    let started = Instant::now();
    let mut child = Command::new(&argv[0])
        .args(&argv[1..])
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::inherit())
        .spawn()
        .map_err(|e| format!("cannot run {}: {e}", program.display()))?;
    let mut polled = 0;
    let status = loop {
        if let Some(status) = child.try_wait().map_err(|e| e.to_string())? {
            break status;
        }
        if gnu_time.is_none() {
            polled = polled.max(vm_hwm(child.id()).unwrap_or(0));
        }
        std::thread::sleep(Duration::from_millis(2));
    };
    let elapsed = started.elapsed();
    // 2: some lines were rejected, which a generated stream may have.
    if !matches!(status.code(), Some(0 | 2)) {
        return Err(format!("{} failed ({status})", program.display()));
    }
    let rss = match gnu_time {
        Some(_) => {
            let text = std::fs::read_to_string(&rss_file)
                .map_err(|e| format!("cannot read GNU time's output: {e}"))?;
            // On a non-zero exit GNU time writes "Command exited with non-zero status 2" first.
            text.lines().rev().find_map(|l| l.trim().parse().ok()).ok_or("no %M in GNU time's output")?
        }
        None => polled,
    };
    Ok((elapsed, rss))
}

/// The process's peak resident set size so far, in KiB.
pub(crate) fn vm_hwm(pid: u32) -> Option<u64> {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
    let line = status.lines().find(|l| l.starts_with("VmHWM:"))?;
    line.split_whitespace().nth(1)?.parse().ok()
}

/// An executable on PATH.
pub(crate) fn which(name: &str) -> Option<PathBuf> {
    std::env::split_paths(&std::env::var_os("PATH")?).map(|dir| dir.join(name)).find(|p| p.is_file())
}

/// 1234567 → "1,234,567".
pub(crate) fn group(n: u64) -> String {
    let digits = n.to_string();
    let mut out = String::with_capacity(digits.len() + digits.len() / 3);
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(c);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn groups_digits() {
        assert_eq!(group(0), "0");
        assert_eq!(group(999), "999");
        assert_eq!(group(1000), "1,000");
        assert_eq!(group(2_000_000), "2,000,000");
    }

    #[test]
    fn reads_sidecar_fields() {
        let meta = "{\"events\":200,\"seed\":42,\"bytes\":1234,\"members\":55}";
        assert_eq!(field(meta, "events"), Some(200));
        assert_eq!(field(meta, "members"), Some(55));
        assert_eq!(field(meta, "orders"), None);
    }
}
