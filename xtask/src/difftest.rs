//! `cargo xtask difftest --base OLD --new NEW`: two `fanli` binaries on the same random cases,
//! compared byte for byte.
//!
//! Why: a refactor of the engine must not change a single byte of what `fanli` prints. Unit and
//! acceptance tests check the figures they name; this checks everything else too, on plans and
//! streams nobody wrote by hand. It generates N cases deterministically from a seed (each a plan
//! from [`plan`] and an event stream from [`stream`]), runs both binaries on each with the same
//! arguments in the same folder (and the same `argv[0]`, `fanli`, which clap prints in usage
//! messages), and compares standard output, standard error, the exit status and any file the
//! command writes:
//!
//! - `run PLAN EVENTS --json`, `--json --trace` and the text summary, `check PLAN --json` and
//!   `check PLAN`, on every case;
//! - `run --json --trace --allow-noncompliant` and `run --allow-noncompliant` where `check`
//!   refuses the plan (the old binary's verdict), so refused plans run too;
//! - on some cases `run --trace` alone, `run -` from standard input, `run --member ID` (text and
//!   JSON), `run --until TIME --json`, `run --chain --report` (the chain and the report compared
//!   too) followed by `audit verify` of that chain with and without `--plan` and `--report`, split
//!   in two files, and altered;
//! - on a few, `simulate PLAN SCENARIO --out sim` with a small scenario, every file it writes
//!   compared.
//!
//! One difference is allowed, because the refactor adds it: the new binary's JSON may carry a
//! `"code":"snake_case"` member in the entries of the top-level `rejected` and `events` (trace)
//! arrays. [`strip_codes`] removes exactly those members (that key, a snake_case string value,
//! in those entries) from the new side's JSON output before the comparison, when the base's
//! output has no `"code"` at all (a base from before the codes); nothing else is normalized.
//!
//! The report lists each mismatch with its case, command, and the first differing line of each
//! side; the failing cases are written to `--keep DIR` (default `target/difftest/`) with their
//! inputs, both sides' outputs and the commands to reproduce them. The exit status is 1 on any
//! mismatch. A coverage summary says how many plans passed `check`, how many lines were accepted
//! and rejected (by event type), which effects the traces show, and how many cases each kind
//! was in: if a path is never reached, the generator needs widening, not the comparison.

mod plan;
mod stream;

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::Mutex;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use serde_json::Value;

use plan::Class;

/// What `cargo xtask difftest` was asked.
pub(crate) struct Options {
    /// The binary before the change.
    pub(crate) base: PathBuf,
    /// The binary after it.
    pub(crate) new: PathBuf,
    pub(crate) cases: usize,
    pub(crate) seed: u64,
    /// Where failing cases are written.
    pub(crate) keep: PathBuf,
    /// Cases run at once.
    pub(crate) jobs: usize,
    /// Only this case (to reproduce one).
    pub(crate) only: Option<usize>,
    /// Cases that operate a scheme too: `notice_days`, `[withdrawal]`, `[vote]`, and streams
    /// with amendments, withdrawal reviews, proposals, votes and tallies (for two builds that
    /// both have them), and `check NEW --against OLD --log`.
    pub(crate) operate: bool,
}

/// The longest a single command may take before it is killed and reported.
const TIMEOUT: Duration = Duration::from_secs(60);

/// Mismatches printed in full; the rest are counted (and all are kept on disk).
const SHOWN: usize = 40;

/// The random source of one case: ChaCha8 seeded from `--seed`, one stream per case, so a case
/// is the same whatever the number of cases or jobs.
pub(crate) struct Rand(ChaCha8Rng);

impl Rand {
    fn for_case(seed: u64, case: usize) -> Rand {
        let mut rng = ChaCha8Rng::seed_from_u64(seed);
        rng.set_stream(case as u64);
        Rand(rng)
    }
    /// A number in `0..n`.
    pub(crate) fn below(&mut self, n: u64) -> u64 {
        self.0.random_range(0..n.max(1))
    }
    /// A number in `lo..=hi`.
    pub(crate) fn range(&mut self, lo: i64, hi: i64) -> i64 {
        self.0.random_range(lo..=hi.max(lo))
    }
    pub(crate) fn chance(&mut self, p: f64) -> bool {
        self.0.random_bool(p)
    }
    pub(crate) fn pick<T: Copy>(&mut self, items: &[T]) -> T {
        items[self.below(items.len() as u64) as usize]
    }
    pub(crate) fn shuffle<T>(&mut self, items: &mut [T]) {
        for i in (1..items.len()).rev() {
            let j = self.below(i as u64 + 1) as usize;
            items.swap(i, j);
        }
    }
}

/// One command line, run by both binaries.
struct Cmd {
    args: Vec<String>,
    /// Standard output is JSON: the new side's `code` members are removed before comparing.
    json: bool,
    /// Files (or folders, whose files are all compared) the command writes, relative to the case.
    outputs: Vec<&'static str>,
    /// A file fed to standard input.
    stdin: Option<&'static str>,
}

impl Cmd {
    fn new(args: &[&str]) -> Cmd {
        let json = args.iter().any(|a| matches!(*a, "--json" | "--trace"));
        Cmd { args: args.iter().map(|a| a.to_string()).collect(), json, outputs: Vec::new(), stdin: None }
    }
    fn writes(mut self, outputs: &[&'static str]) -> Cmd {
        self.outputs = outputs.to_vec();
        self
    }
    fn shown(&self) -> String {
        let mut s = String::from("fanli");
        for a in &self.args {
            if a.is_empty() || a.contains([' ', '"', '\'']) {
                let _ = write!(s, " '{a}'");
            } else {
                let _ = write!(s, " {a}");
            }
        }
        if let Some(input) = self.stdin {
            let _ = write!(s, " < {input}");
        }
        s
    }
}

/// What one binary did with one command.
struct Output {
    code: Option<i32>,
    stdout: Vec<u8>,
    stderr: Vec<u8>,
    /// Each written file (relative to the case), with its bytes; `None` when absent.
    files: BTreeMap<String, Option<Vec<u8>>>,
    timed_out: bool,
}

/// One command whose outputs differ.
struct Mismatch {
    case: usize,
    command: String,
    /// Where they differ: what ("stdout", "exit status", "file out/chain.jsonl"), the line (from
    /// 1), and each side's line.
    diffs: Vec<(String, usize, String, String)>,
}

/// Counts over all cases, from the old binary's outputs.
#[derive(Default)]
struct Coverage {
    cases: usize,
    commands: usize,
    classes: BTreeMap<&'static str, usize>,
    /// `check`: passed, refused (a compliance error), plan errors (the parser's).
    check_passed: usize,
    check_refused: usize,
    check_plan_errors: usize,
    /// Runs that stopped on a 64-bit overflow.
    halted: usize,
    lines: usize,
    accepted: usize,
    rejected: usize,
    blank: usize,
    /// Per event type: (accepted, rejected).
    types: BTreeMap<String, (usize, usize)>,
    effects: BTreeMap<String, usize>,
    /// Per kind: (cases with it, cases where it ran).
    kinds: BTreeMap<&'static str, (usize, usize)>,
    /// Per plan key (and form of a value that chooses a path): the cases that set it.
    keys: BTreeMap<String, usize>,
    verified: usize,
    simulated: usize,
}

impl Coverage {
    fn add(&mut self, other: Coverage) {
        self.cases += other.cases;
        self.commands += other.commands;
        for (k, n) in other.classes {
            *self.classes.entry(k).or_default() += n;
        }
        self.check_passed += other.check_passed;
        self.check_refused += other.check_refused;
        self.check_plan_errors += other.check_plan_errors;
        self.halted += other.halted;
        self.lines += other.lines;
        self.accepted += other.accepted;
        self.rejected += other.rejected;
        self.blank += other.blank;
        for (t, (a, r)) in other.types {
            let e = self.types.entry(t).or_default();
            e.0 += a;
            e.1 += r;
        }
        for (k, n) in other.effects {
            *self.effects.entry(k).or_default() += n;
        }
        for (k, n) in other.keys {
            *self.keys.entry(k).or_default() += n;
        }
        for (k, (with, ran)) in other.kinds {
            let e = self.kinds.entry(k).or_default();
            e.0 += with;
            e.1 += ran;
        }
        self.verified += other.verified;
        self.simulated += other.simulated;
    }

    /// The lines and effects of a trace (`run --json --trace`).
    fn trace(&mut self, stdout: &[u8]) {
        let Ok(doc) = serde_json::from_slice::<Value>(stdout) else { return };
        for entry in doc["events"].as_array().into_iter().flatten() {
            self.lines += 1;
            let kind = entry["type"].as_str().unwrap_or("");
            if entry.get("skipped").is_some() {
                self.blank += 1;
                continue;
            }
            let name = if kind.is_empty() { "(unreadable)".to_owned() } else { kind.to_owned() };
            let counts = self.types.entry(name).or_default();
            if entry["ok"] == Value::Bool(true) {
                self.accepted += 1;
                counts.0 += 1;
            } else {
                self.rejected += 1;
                counts.1 += 1;
            }
            for effect in entry["effects"].as_array().into_iter().flatten() {
                if let Some(name) = effect["effect"].as_str() {
                    *self.effects.entry(name.to_owned()).or_default() += 1;
                }
            }
        }
    }
}

/// Runs the comparison; `Err` with a summary line when anything differs or cannot run.
pub(crate) fn run(options: &Options) -> Result<(), String> {
    for (side, bin) in [("--base", &options.base), ("--new", &options.new)] {
        if !bin.is_file() {
            return Err(format!("{side} {}: no such binary", bin.display()));
        }
    }
    // The binaries run in each case's folder: their paths must not depend on the current one.
    let base = std::path::absolute(&options.base).map_err(|e| e.to_string())?;
    let new = std::path::absolute(&options.new).map_err(|e| e.to_string())?;
    let keep = std::path::absolute(&options.keep).map_err(|e| e.to_string())?;
    let work = keep.join(".work");
    clear(&keep, &work, options.only)?;

    let indices: Vec<usize> = match options.only {
        Some(case) => vec![case],
        None => (0..options.cases).collect(),
    };
    eprintln!(
        "difftest: {} case(s) from seed {}, {} job(s)\n  base {}\n  new  {}",
        indices.len(),
        options.seed,
        options.jobs,
        base.display(),
        new.display()
    );
    let started = Instant::now();
    let next = AtomicUsize::new(0);
    let done = AtomicUsize::new(0);
    let results: Mutex<Vec<(usize, Coverage, Vec<Mismatch>)>> = Mutex::new(Vec::new());
    let failure: Mutex<Option<String>> = Mutex::new(None);
    std::thread::scope(|scope| {
        for _ in 0..options.jobs.max(1) {
            scope.spawn(|| {
                loop {
                    let i = next.fetch_add(1, Ordering::Relaxed);
                    let Some(&case) = indices.get(i) else { break };
                    let bins = Bins { base: &base, new: &new };
                    match run_case(case, options.seed, options.operate, &bins, &work, &keep) {
                        Ok((coverage, mismatches)) => {
                            results.lock().expect("no worker panics").push((case, coverage, mismatches))
                        }
                        Err(e) => {
                            failure
                                .lock()
                                .expect("no worker panics")
                                .get_or_insert(format!("case {case}: {e}"));
                            break;
                        }
                    }
                    let n = done.fetch_add(1, Ordering::Relaxed) + 1;
                    if n.is_multiple_of(50) {
                        eprintln!("  {n}/{} cases, {:.1} s", indices.len(), started.elapsed().as_secs_f64());
                    }
                }
            });
        }
    });
    let _ = std::panic::take_hook();
    let _ = std::fs::remove_dir_all(&work);
    if let Some(e) = failure.into_inner().expect("no worker panics") {
        return Err(e);
    }
    let mut results = results.into_inner().expect("no worker panics");
    results.sort_by_key(|(case, _, _)| *case);
    let mut coverage = Coverage::default();
    let mut mismatches = Vec::new();
    for (_, c, m) in results {
        coverage.add(c);
        mismatches.extend(m);
    }
    report(&coverage, &mismatches, started.elapsed(), &keep, options.seed);
    if mismatches.is_empty() {
        Ok(())
    } else {
        let cases: std::collections::BTreeSet<usize> = mismatches.iter().map(|m| m.case).collect();
        Err(format!(
            "{} mismatch(es) in {} case(s); the cases are in {}",
            mismatches.len(),
            cases.len(),
            keep.display()
        ))
    }
}

/// Removes what an earlier run left in `keep`: its `case-*` folders (only `only`'s, when one
/// case is run again) and its work folder.
fn clear(keep: &Path, work: &Path, only: Option<usize>) -> Result<(), String> {
    std::fs::create_dir_all(keep).map_err(|e| format!("cannot create {}: {e}", keep.display()))?;
    let entries = std::fs::read_dir(keep).map_err(|e| format!("cannot read {}: {e}", keep.display()))?;
    for entry in entries.flatten() {
        let name = entry.file_name().to_string_lossy().into_owned();
        let ours = match only {
            Some(case) => name == format!("case-{case:04}"),
            None => name.starts_with("case-"),
        };
        if ours {
            let _ = std::fs::remove_dir_all(entry.path());
        }
    }
    let _ = std::fs::remove_dir_all(work);
    Ok(())
}

struct Bins<'a> {
    base: &'a Path,
    new: &'a Path,
}

/// A small scenario for `fanli simulate`: a few weeks, a few members a day.
fn scenario(rng: &mut Rand) -> String {
    let days = rng.range(8, 30);
    let strategy = rng.pick(&["hold", "multiple", "panic"]);
    let orders = match rng.below(3) {
        0 => "kind = \"uniform\"\nmin = \"9.90\"\nmax = \"3000.00\"".to_owned(),
        1 => "kind = \"table\"\ntable = [[\"399.00\", 3], [\"999.00\", 1], [\"39.00\", 2]]".to_owned(),
        _ => "kind = \"lognormal\"\nmedian = \"300.00\"\nsigma = \"0.8\"\nmax = \"20000.00\"".to_owned(),
    };
    format!(
        "seed = {}\ndays = {days}\n\n[arrivals]\nstart = {}\npeak = {}\npeak_day = {}\nend = 2\n\
         decline_day = {}\nstop_day = {}\n\n[members]\nreferral = 0.{}\nrepeat = 0.05\nrefund = 0.03\n\
         fraud = 0.{}\nredeem = 0.05\n\n[orders]\n{orders}\n\n[selling]\nstrategy = \"{strategy}\"\n\
         multiple = \"1.2\"\ngrowth = \"0.01\"\nchecks = 0.3\n\n[ads]\nviewers = 0.2\nviews = 2\n",
        rng.below(1000),
        rng.range(1, 4),
        rng.range(4, 10),
        days / 3,
        days * 2 / 3,
        days - 2,
        rng.range(1, 9),
        rng.below(3),
    )
}

/// Generates case `case`, runs every command on both binaries, and compares.
fn run_case(
    case: usize,
    seed: u64,
    operate: bool,
    bins: &Bins<'_>,
    work: &Path,
    keep: &Path,
) -> Result<(Coverage, Vec<Mismatch>), String> {
    let mut rng = Rand::for_case(seed, case);
    let plan = plan::generate(&mut rng, operate);
    let stream = stream::generate(&mut rng, &plan);
    let simulate = case % 10 == 3;
    let scenario = scenario(&mut rng);
    let dir = work.join(format!("case-{case:04}"));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).map_err(|e| format!("cannot create {}: {e}", dir.display()))?;
    let write = |name: &str, bytes: &[u8]| {
        std::fs::write(dir.join(name), bytes).map_err(|e| format!("cannot write {name}: {e}"))
    };
    write("plan.toml", plan.text.as_bytes())?;
    write("events.jsonl", &stream.bytes)?;

    let mut coverage = Coverage { cases: 1, ..Coverage::default() };
    let class = match plan.class {
        Class::Valid => "meant to pass check",
        Class::Refused => "meant to be refused by check",
        Class::KeyError => "with a plan-key mistake",
        Class::Extreme => "with extreme numbers",
    };
    coverage.classes.insert(class, 1);
    let mut mismatches = Vec::new();
    let mut kept: Vec<(usize, Output, Output)> = Vec::new();
    let mut commands: Vec<Cmd> = Vec::new();
    // Runs one command on both sides and compares; returns the old side's output.
    let mut compare = |cmd: Cmd, coverage: &mut Coverage| -> Output {
        let base = execute(bins.base, &dir, &cmd);
        let new = execute(bins.new, &dir, &cmd);
        coverage.commands += 1;
        let diffs = differences(&cmd, &base, &new);
        let index = commands.len();
        if !diffs.is_empty() {
            mismatches.push(Mismatch { case, command: cmd.shown(), diffs });
            kept.push((index, base.clone_outputs(), new));
        }
        commands.push(cmd);
        base
    };

    let run_json = compare(Cmd::new(&["run", "plan.toml", "events.jsonl", "--json"]), &mut coverage);
    let traced = compare(Cmd::new(&["run", "plan.toml", "events.jsonl", "--json", "--trace"]), &mut coverage);
    compare(Cmd::new(&["run", "plan.toml", "events.jsonl"]), &mut coverage);
    let check = compare(Cmd::new(&["check", "plan.toml", "--json"]), &mut coverage);
    compare(Cmd::new(&["check", "plan.toml"]), &mut coverage);

    // What `check` made of the plan, by the old binary.
    let findings = serde_json::from_slice::<Value>(&check.stdout).unwrap_or(Value::Null);
    let plan_error = findings["findings"].as_array().is_some_and(|f| f.iter().any(|f| f["rule"] == "plan"));
    let passed = check.code == Some(0);
    if passed {
        coverage.check_passed += 1;
    } else if plan_error || findings.is_null() {
        coverage.check_plan_errors += 1;
    } else {
        coverage.check_refused += 1;
    }
    let halted = |out: &Output| String::from_utf8_lossy(&out.stderr).contains("the run stopped");
    if halted(&run_json) {
        coverage.halted += 1;
    }
    coverage.trace(&traced.stdout);
    if !passed && !plan_error && !findings.is_null() {
        let traced = compare(
            Cmd::new(&["run", "plan.toml", "events.jsonl", "--json", "--trace", "--allow-noncompliant"]),
            &mut coverage,
        );
        compare(Cmd::new(&["run", "plan.toml", "events.jsonl", "--allow-noncompliant"]), &mut coverage);
        if halted(&traced) {
            coverage.halted += 1;
        }
        coverage.trace(&traced.stdout);
    }
    let ran = !plan_error && !findings.is_null();
    for key in &plan.keys {
        coverage.keys.insert(key.clone(), 1);
    }
    let mut kinds: Vec<&'static str> = plan.mechanisms.iter().map(|m| m.kind).collect();
    kinds.sort_unstable();
    kinds.dedup();
    for kind in kinds {
        coverage.kinds.insert(kind, (1, usize::from(ran)));
    }

    if case.is_multiple_of(4) {
        compare(Cmd::new(&["run", "plan.toml", "events.jsonl", "--trace"]), &mut coverage);
    }
    if case % 9 == 4 {
        let mut cmd = Cmd::new(&["run", "plan.toml", "-", "--json", "--allow-noncompliant"]);
        cmd.stdin = Some("events.jsonl");
        compare(cmd, &mut coverage);
    }
    if case % 7 == 2 {
        let member = stream.member.clone().unwrap_or_else(|| "nobody".into());
        compare(Cmd::new(&["run", "plan.toml", "events.jsonl", "--member", &member]), &mut coverage);
        compare(
            Cmd::new(&["run", "plan.toml", "events.jsonl", "--member", &member, "--json"]),
            &mut coverage,
        );
        let until = stream.middle.clone().unwrap_or_else(|| "2026-01-01T00:00:00Z".into());
        compare(Cmd::new(&["run", "plan.toml", "events.jsonl", "--until", &until, "--json"]), &mut coverage);
    }
    if case % 5 == 1 || plan.class == Class::Extreme {
        let chained = compare(
            Cmd::new(&[
                "run",
                "plan.toml",
                "events.jsonl",
                "--json",
                "--allow-noncompliant",
                "--chain",
                "out/chain.jsonl",
                "--report",
                "out/report.jsonl",
            ])
            .writes(&["out/chain.jsonl", "out/report.jsonl"]),
            &mut coverage,
        );
        // The old binary's chain and report are the input both sides verify.
        let chain = chained.files.get("out/chain.jsonl").cloned().flatten();
        let report = chained.files.get("out/report.jsonl").cloned().flatten();
        if let (Some(chain), Some(report)) = (chain, report) {
            coverage.verified += 1;
            write("chain.jsonl", &chain)?;
            write("report.jsonl", &report)?;
            let lines: Vec<&[u8]> = chain.split_inclusive(|&b| b == b'\n').collect();
            let half = lines.len() / 2;
            write("chain-1.jsonl", &lines[..half].concat())?;
            write("chain-2.jsonl", &lines[half..].concat())?;
            write("altered.jsonl", &alter(&mut rng, &lines))?;
            for args in [
                &["audit", "verify", "chain.jsonl", "--plan", "plan.toml", "--report", "report.jsonl"][..],
                &["audit", "verify", "chain.jsonl", "--plan", "plan.toml"],
                &["audit", "verify", "chain.jsonl"],
                &["audit", "verify", "chain-1.jsonl", "chain-2.jsonl", "--plan", "plan.toml"],
                &["audit", "verify", "altered.jsonl", "--plan", "plan.toml", "--report", "report.jsonl"],
                &["audit", "verify", "altered.jsonl"],
            ] {
                compare(Cmd::new(args), &mut coverage);
            }
        }
    }
    if let Some(amended) = plan.amendments.first()
        && case.is_multiple_of(3)
    {
        // What the amendment changes for the log's members, by the simulator (it runs the
        // check scenario: a small one keeps it quick).
        write("amended.toml", amended.as_bytes())?;
        compare(
            Cmd::new(&["check", "amended.toml", "--against", "plan.toml", "--log", "events.jsonl", "--json"]),
            &mut coverage,
        );
    }
    if simulate {
        write("scenario.toml", scenario.as_bytes())?;
        coverage.simulated += 1;
        compare(
            Cmd::new(&["simulate", "plan.toml", "scenario.toml", "--out", "sim"]).writes(&["sim"]),
            &mut coverage,
        );
        let days = rng.range(1, 12).to_string();
        compare(
            Cmd::new(&[
                "simulate",
                "plan.toml",
                "scenario.toml",
                "--out",
                "sim",
                "--seed",
                "9",
                "--days",
                &days,
            ])
            .writes(&["sim"]),
            &mut coverage,
        );
    }

    if mismatches.is_empty() {
        let _ = std::fs::remove_dir_all(&dir);
    } else {
        save(case, seed, bins, &dir, keep, &commands, &kept)?;
    }
    Ok((coverage, mismatches))
}

/// A chain with one line changed (an amount, or a line left out, or two swapped).
fn alter(rng: &mut Rand, lines: &[&[u8]]) -> Vec<u8> {
    let mut lines: Vec<Vec<u8>> = lines.iter().map(|l| l.to_vec()).collect();
    if lines.len() < 2 {
        return lines.concat();
    }
    let i = rng.below(lines.len() as u64) as usize;
    match rng.below(3) {
        0 => {
            lines.remove(i);
        }
        1 => {
            let j = (i + 1) % lines.len();
            lines.swap(i, j);
        }
        _ => {
            let text = String::from_utf8_lossy(&lines[i]).into_owned();
            let changed = text.replacen("\"type\":\"", "\"type\":\"x", 1);
            let changed = match text.find(".00\"") {
                Some(at) => format!("{}.01{}", &text[..at], &text[at + 3..]),
                None => changed,
            };
            lines[i] = changed.into_bytes();
        }
    }
    lines.concat()
}

impl Output {
    fn clone_outputs(&self) -> Output {
        Output {
            code: self.code,
            stdout: self.stdout.clone(),
            stderr: self.stderr.clone(),
            files: self.files.clone(),
            timed_out: self.timed_out,
        }
    }
}

/// Runs `bin` with `cmd` in `dir`, killed after [`TIMEOUT`].
fn execute(bin: &Path, dir: &Path, cmd: &Cmd) -> Output {
    for out in &cmd.outputs {
        let path = dir.join(out);
        let _ = std::fs::remove_dir_all(&path);
        let _ = std::fs::remove_file(&path);
        if let Some(parent) = path.parent() {
            let _ = std::fs::create_dir_all(parent);
        }
    }
    let stdin = match cmd.stdin.map(|f| std::fs::File::open(dir.join(f))) {
        Some(Ok(file)) => Stdio::from(file),
        _ => Stdio::null(),
    };
    let mut command = Command::new(bin);
    // Both sides are `fanli` to themselves: clap names the binary in its usage messages, and
    // `fanli-e6e1129` against `fanli` would differ there for nothing.
    #[cfg(unix)]
    std::os::unix::process::CommandExt::arg0(&mut command, "fanli");
    let spawned = command
        .args(&cmd.args)
        .current_dir(dir)
        .env("RUST_BACKTRACE", "0")
        .stdin(stdin)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn();
    let child = match spawned {
        Ok(child) => child,
        Err(e) => {
            return Output {
                code: None,
                stdout: Vec::new(),
                stderr: format!("difftest: cannot start {}: {e}", bin.display()).into_bytes(),
                files: BTreeMap::new(),
                timed_out: false,
            };
        }
    };
    // A watchdog kills the process if it outlives the timeout; finishing first drops `done`.
    let pid = child.id();
    let (done, finished) = std::sync::mpsc::channel::<()>();
    let watchdog = std::thread::spawn(move || {
        if let Err(std::sync::mpsc::RecvTimeoutError::Timeout) = finished.recv_timeout(TIMEOUT) {
            let _ = Command::new("kill").args(["-9", &pid.to_string()]).status();
            return true;
        }
        false
    });
    let output = child.wait_with_output();
    drop(done);
    let timed_out = watchdog.join().unwrap_or(false);
    let (code, stdout, stderr) = match output {
        Ok(o) => (o.status.code(), o.stdout, o.stderr),
        Err(e) => (None, Vec::new(), format!("difftest: waiting for {}: {e}", bin.display()).into_bytes()),
    };
    let mut files = BTreeMap::new();
    for out in &cmd.outputs {
        collect(dir, out, &mut files);
    }
    Output { code, stdout, stderr, files, timed_out }
}

/// The file `rel` of `dir` (or every file under it, when it is a folder) into `files`.
fn collect(dir: &Path, rel: &str, files: &mut BTreeMap<String, Option<Vec<u8>>>) {
    let path = dir.join(rel);
    if path.is_dir() {
        let mut names: Vec<String> = std::fs::read_dir(&path)
            .into_iter()
            .flatten()
            .flatten()
            .map(|e| e.file_name().to_string_lossy().into_owned())
            .collect();
        names.sort();
        for name in names {
            collect(dir, &format!("{rel}/{name}"), files);
        }
    } else {
        files.insert(rel.to_owned(), std::fs::read(&path).ok());
    }
}

/// Where the two sides differ: what, the first differing line (from 1), and each side's line.
fn differences(cmd: &Cmd, base: &Output, new: &Output) -> Vec<(String, usize, String, String)> {
    let mut diffs = Vec::new();
    if base.timed_out || new.timed_out {
        let side = |o: &Output| {
            if o.timed_out { format!("killed after {} s", TIMEOUT.as_secs()) } else { "finished".into() }
        };
        diffs.push(("time".to_owned(), 0, side(base), side(new)));
    }
    if base.code != new.code {
        let code = |c: Option<i32>| c.map_or("killed by a signal".to_owned(), |c| c.to_string());
        diffs.push(("exit status".to_owned(), 0, code(base.code), code(new.code)));
    }
    // Only against a base from before the codes: when the base's output has them, both sides
    // are compared whole.
    let stripped;
    let base_has_codes = base.stdout.windows(7).any(|w| w == b"\"code\":");
    let new_stdout = if cmd.json && !base_has_codes {
        stripped = strip_codes(&new.stdout);
        stripped.as_deref().unwrap_or(&new.stdout)
    } else {
        &new.stdout
    };
    if let Some((line, b, n)) = first_difference(&base.stdout, new_stdout) {
        diffs.push(("stdout".to_owned(), line, b, n));
    }
    if let Some((line, b, n)) = first_difference(&base.stderr, &new.stderr) {
        diffs.push(("stderr".to_owned(), line, b, n));
    }
    let names: std::collections::BTreeSet<&String> = base.files.keys().chain(new.files.keys()).collect();
    for name in names {
        let (b, n) = (base.files.get(name).cloned().flatten(), new.files.get(name).cloned().flatten());
        match (b, n) {
            (Some(b), Some(n)) => {
                if let Some((line, b, n)) = first_difference(&b, &n) {
                    diffs.push((format!("file {name}"), line, b, n));
                }
            }
            (None, None) => {}
            (b, n) => {
                let state =
                    |f: &Option<Vec<u8>>| if f.is_some() { "written" } else { "not written" }.to_owned();
                diffs.push((format!("file {name}"), 0, state(&b), state(&n)));
            }
        }
    }
    diffs
}

/// The first line (from 1) where `a` and `b` differ, with each side's line (shortened).
fn first_difference(a: &[u8], b: &[u8]) -> Option<(usize, String, String)> {
    if a == b {
        return None;
    }
    if a.is_empty() || b.is_empty() {
        let show = |t: &[u8]| {
            let first = t.split(|&c| c == b'\n').next().unwrap_or_default();
            if t.is_empty() { "(no output)".to_owned() } else { excerpt(&String::from_utf8_lossy(first), 0) }
        };
        return Some((1, show(a), show(b)));
    }
    let (mut la, mut lb) = (a.split(|&c| c == b'\n'), b.split(|&c| c == b'\n'));
    let mut line = 0;
    loop {
        line += 1;
        match (la.next(), lb.next()) {
            (Some(x), Some(y)) if x == y => continue,
            (x, y) => {
                let (x, y) = (x.map(String::from_utf8_lossy), y.map(String::from_utf8_lossy));
                // Where the two lines part, so a long line is shown from a little before it.
                let from = match (&x, &y) {
                    (Some(x), Some(y)) => x.chars().zip(y.chars()).take_while(|(a, b)| a == b).count(),
                    _ => 0,
                };
                let show = |l: Option<&str>| match l {
                    None => "(no such line: the output ends before it)".to_owned(),
                    Some(l) => excerpt(l, from),
                };
                return Some((line, show(x.as_deref()), show(y.as_deref())));
            }
        }
    }
}

/// `text` quoted, cut to a window that starts a little before the character `from` where it
/// differs from the other side's line.
fn excerpt(text: &str, from: usize) -> String {
    const BEFORE: usize = 60;
    const MOST: usize = 240;
    let count = text.chars().count();
    let start = if count <= MOST { 0 } else { from.saturating_sub(BEFORE).min(count - MOST) };
    let window: String = text.chars().skip(start).take(MOST).collect();
    let head = if start > 0 { format!("(from char {start}) ") } else { String::new() };
    let tail = if start + MOST < count { format!("… ({count} chars)") } else { String::new() };
    format!("{head}{window:?}{tail}")
}

/// Writes a failing case to `keep/case-NNNN`: its inputs, both sides' outputs of each command
/// that differs, and `MISMATCH.txt` with the commands to reproduce it.
fn save(
    case: usize,
    seed: u64,
    bins: &Bins<'_>,
    dir: &Path,
    keep: &Path,
    commands: &[Cmd],
    kept: &[(usize, Output, Output)],
) -> Result<(), String> {
    let to = keep.join(format!("case-{case:04}"));
    let _ = std::fs::remove_dir_all(&to);
    std::fs::rename(dir, &to)
        .map_err(|e| format!("cannot move {} to {}: {e}", dir.display(), to.display()))?;
    let mut notes = format!(
        "difftest case {case} of seed {seed} (cargo xtask difftest --base {} --new {} --seed {seed} --only {case})\n\n\
         Reproduce by hand in this folder:\n",
        bins.base.display(),
        bins.new.display()
    );
    for (index, base, new) in kept {
        let cmd = &commands[*index];
        let args = cmd.shown();
        let args = args.strip_prefix("fanli").unwrap_or(&args);
        let _ = writeln!(notes, "\n# command {index}, exit status base {:?}, new {:?}", base.code, new.code);
        let _ = writeln!(notes, "{}{args}", bins.base.display());
        let _ = writeln!(notes, "{}{args}", bins.new.display());
        let _ = writeln!(
            notes,
            "(outputs: cmd-{index:02}.base.stdout / .stderr / files and cmd-{index:02}.new.*)"
        );
        for (side, out) in [("base", base), ("new", new)] {
            let file = |what: &str| to.join(format!("cmd-{index:02}.{side}.{what}"));
            std::fs::write(file("stdout"), &out.stdout).map_err(|e| e.to_string())?;
            std::fs::write(file("stderr"), &out.stderr).map_err(|e| e.to_string())?;
            // The files it wrote, flattened: out/chain.jsonl as cmd-NN.base.out_chain.jsonl.
            for (name, bytes) in &out.files {
                if let Some(bytes) = bytes {
                    std::fs::write(file(&name.replace('/', "_")), bytes).map_err(|e| e.to_string())?;
                }
            }
        }
    }
    std::fs::write(to.join("MISMATCH.txt"), notes).map_err(|e| e.to_string())
}

fn report(coverage: &Coverage, mismatches: &[Mismatch], took: Duration, keep: &Path, seed: u64) {
    let c = coverage;
    println!(
        "difftest: {} cases (seed {seed}), {} commands compared on both binaries, {} mismatch(es), {:.1} s",
        c.cases,
        c.commands,
        mismatches.len(),
        took.as_secs_f64()
    );
    println!("\ncoverage (from the base binary's outputs):");
    let classes: Vec<String> = c.classes.iter().map(|(k, n)| format!("{n} {k}")).collect();
    println!("  plans generated: {}", classes.join(", "));
    println!(
        "  fanli check: {} passed, {} refused (compliance errors), {} plan errors (parser)",
        c.check_passed, c.check_refused, c.check_plan_errors
    );
    println!(
        "  lines traced: {} ({} accepted, {} rejected, {} blank); {} run(s) stopped on a 64-bit overflow",
        c.lines, c.accepted, c.rejected, c.blank, c.halted
    );
    let types: Vec<String> = c.types.iter().map(|(t, (a, r))| format!("{t} {a}/{r}")).collect();
    println!("  by type (accepted/rejected): {}", types.join(", "));
    let effects: Vec<String> = c.effects.iter().map(|(e, n)| format!("{e} {n}")).collect();
    println!("  effects: {}", effects.join(", "));
    let kinds: Vec<String> = plan::KINDS
        .iter()
        .map(|k| {
            let (with, ran) = c.kinds.get(k).copied().unwrap_or_default();
            format!("{k} {with} ({ran} parsed)")
        })
        .collect();
    println!("  cases per kind: {}", kinds.join(", "));
    println!("  plan keys set (cases):");
    let mut groups: BTreeMap<&str, Vec<String>> = BTreeMap::new();
    for (key, n) in &c.keys {
        let (group, rest) = key.split_once('.').unwrap_or(("plan", key));
        groups.entry(group).or_default().push(format!("{rest} {n}"));
    }
    for (group, keys) in groups {
        println!("    {group}: {}", keys.join(", "));
    }
    println!("  audit verify on {} chains; simulate on {} plans", c.verified, c.simulated);
    if mismatches.is_empty() {
        return;
    }
    println!("\nmismatches:");
    for m in mismatches.iter().take(SHOWN) {
        println!("case {}: {}", m.case, m.command);
        for (what, line, base, new) in &m.diffs {
            if *line == 0 {
                println!("  {what}: base {base}, new {new}");
            } else {
                println!("  {what}, line {line}:\n    base: {base}\n    new:  {new}");
            }
        }
    }
    if mismatches.len() > SHOWN {
        println!("… and {} more (all of them in {})", mismatches.len() - SHOWN, keep.display());
    }
}

/// `text` (the new binary's JSON) without the `"code":"snake_case"` members of the entries of its
/// top-level `rejected` and `events` arrays: the one addition the refactor may make. Only a
/// member with exactly that key and a string value of lowercase letters, digits and `_` (starting
/// with a letter) goes, with its comma; the rest is left byte for byte. `None` when `text` is not
/// one JSON document (it is then compared as it is).
pub(crate) fn strip_codes(text: &[u8]) -> Option<Vec<u8>> {
    let mut s = Strip { text, at: 0, out: Vec::with_capacity(text.len()) };
    s.ws();
    s.value(Place::Root)?;
    s.ws();
    (s.at == text.len()).then_some(s.out)
}

/// Where a JSON value is, for [`strip_codes`].
#[derive(Clone, Copy, PartialEq, Eq)]
enum Place {
    /// The document.
    Root,
    /// The top-level `rejected` or `events` array.
    List,
    /// An entry of such an array: its `code` member goes.
    Entry,
    Other,
}

/// A copying JSON reader for [`strip_codes`].
struct Strip<'t> {
    text: &'t [u8],
    at: usize,
    out: Vec<u8>,
}

impl Strip<'_> {
    fn peek(&self) -> Option<u8> {
        self.text.get(self.at).copied()
    }

    fn take_ws(&mut self) -> Vec<u8> {
        let start = self.at;
        while matches!(self.peek(), Some(b' ' | b'\n' | b'\r' | b'\t')) {
            self.at += 1;
        }
        self.text[start..self.at].to_vec()
    }

    fn ws(&mut self) {
        let ws = self.take_ws();
        self.out.extend_from_slice(&ws);
    }

    fn value(&mut self, place: Place) -> Option<()> {
        match self.peek()? {
            b'{' => self.object(place),
            b'[' => self.array(place),
            b'"' => self.string().map(|_| ()),
            _ => self.scalar(),
        }
    }

    /// Copies a string; returns its text with the quotes.
    fn string(&mut self) -> Option<&[u8]> {
        let start = self.at;
        self.at += 1;
        loop {
            match self.peek()? {
                b'\\' => self.at += 2,
                b'"' => {
                    self.at += 1;
                    break;
                }
                _ => self.at += 1,
            }
        }
        let text = self.text.get(start..self.at)?;
        self.out.extend_from_slice(text);
        Some(text)
    }

    fn scalar(&mut self) -> Option<()> {
        let start = self.at;
        while let Some(c) = self.peek()
            && !matches!(c, b',' | b'}' | b']' | b' ' | b'\n' | b'\r' | b'\t')
        {
            self.at += 1;
        }
        if self.at == start {
            return None;
        }
        self.out.extend_from_slice(&self.text[start..self.at]);
        Some(())
    }

    fn array(&mut self, place: Place) -> Option<()> {
        self.out.push(b'[');
        self.at += 1;
        self.ws();
        if self.peek()? == b']' {
            self.out.push(b']');
            self.at += 1;
            return Some(());
        }
        let inner = if place == Place::List { Place::Entry } else { Place::Other };
        loop {
            self.value(inner)?;
            self.ws();
            match self.peek()? {
                b',' => {
                    self.out.push(b',');
                    self.at += 1;
                    self.ws();
                }
                b']' => {
                    self.out.push(b']');
                    self.at += 1;
                    return Some(());
                }
                _ => return None,
            }
        }
    }

    /// An object: each member read into a buffer of its own, then written back unless it is a
    /// `code` member to remove. A member keeps the separator before it, except that the first
    /// one kept takes the object's opening whitespace.
    fn object(&mut self, place: Place) -> Option<()> {
        self.at += 1;
        let mut lead = self.take_ws();
        if self.peek()? == b'}' {
            self.at += 1;
            self.out.push(b'{');
            self.out.extend_from_slice(&lead);
            self.out.push(b'}');
            return Some(());
        }
        // (separator before, member text, removed)
        let mut members: Vec<(Vec<u8>, Vec<u8>, bool)> = Vec::new();
        let trail = loop {
            if self.peek()? != b'"' {
                return None;
            }
            let outer = std::mem::take(&mut self.out);
            let key = self.string()?.to_vec();
            self.ws();
            if self.peek()? != b':' {
                return None;
            }
            self.out.push(b':');
            self.at += 1;
            self.ws();
            let value_start = self.out.len();
            let listed = place == Place::Root && (key == b"\"rejected\"" || key == b"\"events\"");
            self.value(if listed { Place::List } else { Place::Other })?;
            let member = std::mem::replace(&mut self.out, outer);
            let removed = place == Place::Entry && key == b"\"code\"" && snake_string(&member[value_start..]);
            members.push((lead, member, removed));
            let ws = self.take_ws();
            match self.peek()? {
                b',' => {
                    self.at += 1;
                    lead = ws;
                    lead.push(b',');
                    lead.extend(self.take_ws());
                }
                b'}' => {
                    self.at += 1;
                    break ws;
                }
                _ => return None,
            }
        };
        self.out.push(b'{');
        let opening = members[0].0.clone();
        let mut first = true;
        for (lead, member, removed) in &members {
            if *removed {
                continue;
            }
            self.out.extend_from_slice(if first { &opening } else { lead });
            self.out.extend_from_slice(member);
            first = false;
        }
        if !first {
            self.out.extend_from_slice(&trail);
        }
        self.out.push(b'}');
        Some(())
    }
}

/// `"snake_case"`: a JSON string of lowercase ASCII letters, digits and `_`, starting with a letter.
fn snake_string(text: &[u8]) -> bool {
    let Some(inner) = text.strip_prefix(b"\"").and_then(|t| t.strip_suffix(b"\"")) else { return false };
    inner.first().is_some_and(u8::is_ascii_lowercase)
        && inner.iter().all(|&c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == b'_')
}

#[cfg(test)]
mod tests {
    use super::*;

    fn strip(text: &str) -> String {
        String::from_utf8(strip_codes(text.as_bytes()).expect("valid JSON")).unwrap()
    }

    #[test]
    fn codes_go_from_rejected_and_trace_entries_only() {
        let new = "{\n \"plan\":\"p\",\n \"rejected\":[\n  {\"line\":2,\"code\":\"unknown_member\",\"error\":\"unknown member `x`\"},\n  {\"code\":\"time_went_backwards\",\"line\":3,\"error\":\"e\"},\n  {\"line\":4,\"error\":\"e\",\"code\":\"malformed_json\"}\n ],\n \"accounts_balance\":true,\n \"events\":[\n  {\"index\":1,\"ok\":false,\"type\":\"order\",\"error\":\"e\",\"code\":\"not_positive\",\"postings\":[],\"effects\":[]}\n ]\n}";
        let old = "{\n \"plan\":\"p\",\n \"rejected\":[\n  {\"line\":2,\"error\":\"unknown member `x`\"},\n  {\"line\":3,\"error\":\"e\"},\n  {\"line\":4,\"error\":\"e\"}\n ],\n \"accounts_balance\":true,\n \"events\":[\n  {\"index\":1,\"ok\":false,\"type\":\"order\",\"error\":\"e\",\"postings\":[],\"effects\":[]}\n ]\n}";
        assert_eq!(strip(new), old);
        // Nothing else changes: the old output goes through as it is.
        assert_eq!(strip(old), old);
    }

    #[test]
    fn nothing_else_is_masked() {
        for text in [
            // Not in an entry of `rejected` or `events`.
            "{\"code\":\"x\",\"rejected\":[]}",
            "{\"members\":{\"m\":{\"code\":\"x\"}},\"rejected\":[]}",
            "{\"rejected\":[{\"line\":1,\"error\":\"e\",\"more\":{\"code\":\"x\"}}]}",
            // Not a snake_case string.
            "{\"rejected\":[{\"line\":1,\"code\":\"Unknown\",\"error\":\"e\"}]}",
            "{\"rejected\":[{\"line\":1,\"code\":\"1abc\",\"error\":\"e\"}]}",
            "{\"rejected\":[{\"line\":1,\"code\":42,\"error\":\"e\"}]}",
            "{\"rejected\":[{\"line\":1,\"code\":\"a-b\",\"error\":\"e\"}]}",
            "{\"rejected\":[{\"line\":1,\"code\":\"\",\"error\":\"e\"}]}",
            // Another key, or `code` inside a string.
            "{\"rejected\":[{\"line\":1,\"codes\":\"x\",\"error\":\"e\"}]}",
            "{\"rejected\":[{\"line\":1,\"error\":\"\\\"code\\\":\\\"x\\\"\"}]}",
        ] {
            assert_eq!(strip(text), text);
        }
        // A whole entry of nothing but the code, and spacing kept around what is removed.
        assert_eq!(strip("{\"rejected\":[{\"code\":\"x\"}]}"), "{\"rejected\":[{}]}");
        assert_eq!(
            strip("{ \"events\": [ { \"index\": 1, \"code\": \"a_b2\", \"ok\": true } ] }"),
            "{ \"events\": [ { \"index\": 1, \"ok\": true } ] }"
        );
        assert_eq!(strip_codes(b"not json"), None);
        assert_eq!(strip_codes(b"{\"a\":1} trailing"), None);
    }

    #[test]
    fn cases_are_deterministic() {
        for case in [0, 1, 17] {
            let make = || {
                let mut rng = Rand::for_case(42, case);
                let plan = plan::generate(&mut rng, false);
                let stream = stream::generate(&mut rng, &plan);
                (plan.text, stream.bytes)
            };
            assert!(make() == make(), "case {case}");
        }
        let mut a = Rand::for_case(42, 1);
        let mut b = Rand::for_case(42, 2);
        assert_ne!(plan::generate(&mut a, false).text, plan::generate(&mut b, false).text);
    }

    /// With `--operate`, the streams amend, review withdrawals and vote, and this build's
    /// engine accepts some of each (so the paths past the refusals are compared too).
    #[test]
    fn operating_cases_reach_every_new_event() {
        let types = ["amend_plan", "withdrawal_review", "propose", "vote", "tally"];
        let mut accepted = BTreeMap::new();
        for case in 0..60 {
            let mut rng = Rand::for_case(42, case);
            let plan = plan::generate(&mut rng, true);
            let stream = stream::generate(&mut rng, &plan);
            let Ok(parsed) = fanli_format::parse_plan(&plan.text) else { continue };
            let mut engine = fanli_engine::Engine::new(parsed);
            let outcome = fanli_format::run_stream(&mut engine, stream.bytes.as_slice(), false).unwrap();
            let refused: Vec<usize> = outcome.rejected.iter().map(|r| r.line).collect();
            for (i, line) in String::from_utf8_lossy(&stream.bytes).lines().enumerate() {
                let Some(kind) = types.iter().find(|t| line.contains(&format!("\"type\":\"{t}\""))) else {
                    continue;
                };
                if !refused.contains(&(i + 1)) {
                    *accepted.entry(*kind).or_insert(0) += 1;
                }
            }
        }
        for kind in types {
            assert!(accepted.get(kind).copied().unwrap_or(0) > 0, "no {kind} accepted: {accepted:?}");
        }
    }
}
