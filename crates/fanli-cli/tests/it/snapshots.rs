//! Snapshots of every output shape the `fanli` binary prints, on the seeds' worked cases and the
//! bundled example: `run` as text, `--json`, `--json --trace`, one member's view (text and JSON),
//! `check` (text and JSON), the chained log verified by `audit verify`, and, where a case closes
//! a day, its chain and daily report; then a stream of refused lines of many kinds, and a short
//! `simulate`. Each is a file in `tests/snapshots/`, compared byte for byte.
//!
//! A snapshot records what the binary prints; the hand-computed values the seeds promise are the
//! plain asserts of the other tests. A change of output makes these tests fail until the files are
//! re-blessed: `UPDATE_EXPECT=1 cargo test -p fanli-cli --test it snapshots` rewrites them (and
//! removes any that no test compares any more); read the diff before committing it.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use serde_json::Value;

/// The folder of the snapshot files.
fn snapshots() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/snapshots")
}

/// `UPDATE_EXPECT` is set: the snapshots are rewritten rather than compared. Never under CI, where
/// a changed output must fail.
fn updating() -> bool {
    let update = std::env::var_os("UPDATE_EXPECT").is_some();
    let ci = std::env::var("CI").is_ok_and(|v| !v.is_empty() && v != "false" && v != "0");
    assert!(!(update && ci), "UPDATE_EXPECT is set under CI: snapshots are re-blessed by hand, never in CI");
    update
}

/// Compares each `(file name, output)` with its snapshot (or, with `UPDATE_EXPECT`, rewrites it);
/// fails naming every stale one, after showing where each one first differs.
fn assert_snapshots(outputs: &[(String, String)]) {
    if updating() {
        std::fs::create_dir_all(snapshots()).unwrap();
    }
    let stale: Vec<&str> = outputs
        .iter()
        .filter(|(name, actual)| {
            let path = snapshots().join(name);
            if updating() {
                expect_test::expect_file![path].assert_eq(actual);
                return false;
            }
            let kept = std::fs::read_to_string(&path).unwrap_or_default();
            if kept == *actual {
                return false;
            }
            // The first line that differs, to start reading the difference from (past the
            // last line when only the final newline differs).
            let (mut was, mut now) = (kept.split('\n'), actual.split('\n'));
            let mut n = 1;
            loop {
                let (a, b) = (was.next(), now.next());
                if a != b {
                    eprintln!("{name}, line {n}:\n  snapshot: {a:?}\n  output:   {b:?}");
                    return true;
                }
                n += 1;
            }
        })
        .map(|(name, _)| name.as_str())
        .collect();
    assert!(
        stale.is_empty(),
        "{} snapshot(s) in tests/snapshots/ differ from the output: {stale:?}. If the change is \
         meant, re-bless with `UPDATE_EXPECT=1 cargo test -p fanli-cli --test it snapshots` and \
         read the diff before committing it",
        stale.len()
    );
}

/// A plan and its events, run from their folder by their file names (so no machine's paths reach
/// the output), and the member whose view is recorded.
struct Case {
    name: String,
    dir: PathBuf,
    plan: String,
    events: String,
    member: String,
}

/// The member each seed is about (their view shows its numbers); another case's first member.
const MEMBERS: [(&str, &str); 9] = [
    ("seed_appr", "m0"),
    ("seed_appr100", "m99"),
    ("seed_dist", "B"),
    ("seed_green", "A"),
    ("seed_green_team", "B"),
    ("seed_queue", "A"),
    ("seed_refer", "A"),
    ("example", "A"),
    ("operating", "B"),
];

/// Every case in `tests/cases/`, by name, then the bundled example and `tests/operating/`.
fn all_cases() -> Vec<Case> {
    let mut names: Vec<String> = std::fs::read_dir(super::cases())
        .unwrap()
        .filter_map(|e| e.unwrap().file_name().into_string().ok()?.strip_suffix(".toml").map(str::to_owned))
        .collect();
    names.sort();
    let mut cases: Vec<Case> = names
        .into_iter()
        .map(|name| Case {
            plan: format!("{name}.toml"),
            events: format!("{name}.jsonl"),
            dir: super::cases(),
            member: String::new(),
            name,
        })
        .collect();
    cases.push(Case {
        name: "example".to_owned(),
        dir: Path::new(env!("CARGO_MANIFEST_DIR")).join("example"),
        plan: "plan.toml".to_owned(),
        events: "events.jsonl".to_owned(),
        member: String::new(),
    });
    // A plan operated for a month: withdrawals reviewed, a vote, an amendment retiring a mechanism.
    cases.push(Case {
        name: "operating".to_owned(),
        dir: Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/operating"),
        plan: "plan.toml".to_owned(),
        events: "events.jsonl".to_owned(),
        member: String::new(),
    });
    for case in &mut cases {
        case.member = match MEMBERS.iter().find(|(name, _)| *name == case.name) {
            Some((_, member)) => (*member).to_owned(),
            None => {
                let state = run(case, &["--json"]);
                let state: Value = serde_json::from_slice(&state.stdout).unwrap();
                state["members"].as_object().unwrap().keys().next().expect("a member").clone()
            }
        };
    }
    cases
}

/// `fanli ARGS` run in `dir`.
fn fanli_in(dir: &Path, args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_fanli")).current_dir(dir).args(args).output().expect("fanli runs")
}

/// `fanli run PLAN EVENTS ARGS` for a case.
fn run(case: &Case, args: &[&str]) -> Output {
    let mut all = vec!["run", &case.plan, &case.events];
    all.extend(args);
    fanli_in(&case.dir, &all)
}

/// Standard output, with what went to standard error after it when there was any.
fn text(output: &Output) -> String {
    let mut text = String::from_utf8(output.stdout.clone()).expect("stdout is UTF-8");
    if !output.stderr.is_empty() {
        text.push_str("--- stderr\n");
        text.push_str(&String::from_utf8_lossy(&output.stderr));
    }
    text
}

/// Standard output, which is one JSON document.
fn json(output: &Output) -> String {
    let stdout = String::from_utf8(output.stdout.clone()).expect("stdout is UTF-8");
    if let Err(e) = serde_json::from_str::<Value>(&stdout) {
        panic!("stdout is JSON ({e}): {}", String::from_utf8_lossy(&output.stderr));
    }
    stdout
}

fn status(output: &Output, want: i32, what: &str) {
    assert_eq!(output.status.code(), Some(want), "{what}: {}", String::from_utf8_lossy(&output.stderr));
}

/// A fresh scratch folder for `name`, of this call alone (tests run side by side).
fn scratch(name: &str) -> PathBuf {
    static CALLS: std::sync::atomic::AtomicUsize = std::sync::atomic::AtomicUsize::new(0);
    let call = CALLS.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
    let dir = super::tempdir(&format!("snapshots/{name}-{call}"));
    std::fs::remove_dir_all(&dir).unwrap();
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

/// What `fanli run` prints for a case, in each of its forms, and the audit of its chained log.
fn run_outputs(case: &Case) -> Vec<(String, String)> {
    let name = &case.name;
    let member = case.member.as_str();
    let mut outputs = Vec::new();
    for (args, file) in [
        (&[][..], format!("{name}.run.txt")),
        (&["--json"][..], format!("{name}.run.json")),
        (&["--json", "--trace"][..], format!("{name}.trace.json")),
        (&["--member", member][..], format!("{name}.member-{member}.txt")),
        (&["--member", member, "--json"][..], format!("{name}.member-{member}.json")),
    ] {
        let output = run(case, args);
        status(&output, 0, &format!("{name}: fanli run {}", args.join(" ")));
        let shown = if args.contains(&"--json") { json(&output) } else { text(&output) };
        outputs.push((file, shown));
    }
    // The log chained as it runs, its daily report, and both checked by `audit verify`.
    let dir = scratch(name);
    let (log, report) = (dir.join("chain.jsonl"), dir.join("report.jsonl"));
    let output = run(case, &["--chain", log.to_str().unwrap(), "--report", report.to_str().unwrap()]);
    status(&output, 0, &format!("{name}: fanli run --chain --report"));
    let plan = case.dir.join(&case.plan);
    let verified = fanli_in(
        &dir,
        &["audit", "verify", "chain.jsonl", "--plan", plan.to_str().unwrap(), "--report", "report.jsonl"],
    );
    status(&verified, 0, &format!("{name}: fanli audit verify"));
    outputs.push((format!("{name}.verify.txt"), text(&verified)));
    let report = std::fs::read_to_string(&report).unwrap();
    if !report.is_empty() {
        outputs.push((format!("{name}.chain.jsonl"), std::fs::read_to_string(&log).unwrap()));
        outputs.push((format!("{name}.report.jsonl"), report));
    }
    outputs
}

/// The snapshots of `fanli check` on a case's plan: as text, as JSON.
fn check_files(case: &Case) -> [String; 2] {
    [format!("{}.check.txt", case.name), format!("{}.check.json", case.name)]
}

/// What `fanli check` prints for a case's plan, as text and as JSON.
fn check_outputs(case: &Case) -> Vec<(String, String)> {
    let name = &case.name;
    let text_output = fanli_in(&case.dir, &["check", &case.plan]);
    status(&text_output, 0, &format!("{name}: fanli check"));
    let json_output = fanli_in(&case.dir, &["check", &case.plan, "--json"]);
    status(&json_output, 0, &format!("{name}: fanli check --json"));
    let [text_file, json_file] = check_files(case);
    vec![(text_file, text(&text_output)), (json_file, json(&json_output))]
}

#[test]
fn run_and_audit_outputs_of_every_case_match_their_snapshots() {
    let cases = all_cases();
    assert!(cases.len() >= 8, "the seeds' cases and the example");
    let outputs: Vec<(String, String)> = cases.iter().flat_map(run_outputs).collect();
    assert_snapshots(&outputs);
}

#[test]
fn check_outputs_of_every_case_match_their_snapshots() {
    let outputs: Vec<(String, String)> = all_cases().iter().flat_map(check_outputs).collect();
    assert_snapshots(&outputs);
}

/// A stream on seed 001's plan with a line refused for each reason a line can be, among lines
/// that apply: a blank line, malformed JSON, bytes that are not UTF-8, an unknown type, a missing
/// field, an unknown field, a bad time and an over-precise amount (refused when read); an unknown
/// member, time going backwards, an order id reused with other content, an unknown mechanism, and
/// selling or withdrawing more than held (refused when applied). An exact repeat of an order
/// applies and does nothing.
const REFUSED: &[u8] = b"{\"at\":\"2026-01-01T09:00:00+08:00\",\"type\":\"join\",\"member\":\"m0\"}
{\"at\":\"2026-01-01T09:00:00+08:00\",\"type\":\"order\",\"order\":\"o0\",\"member\":\"m0\",\"amount\":\"1000.00\"}

{\"at\": not json
{\"at\":\"2026-01-01T09:01:00+08:00\",\"type\":\"join\",\"member\":\"\xff\"}
{\"at\":\"2026-01-01T09:01:00+08:00\",\"type\":\"teleport\",\"member\":\"m0\"}
{\"at\":\"2026-01-01T09:01:00+08:00\",\"type\":\"order\",\"order\":\"o1\",\"amount\":\"5.00\"}
{\"at\":\"2026-01-01T09:01:00+08:00\",\"type\":\"join\",\"member\":\"m1\",\"refferer\":\"m0\"}
{\"at\":\"yesterday\",\"type\":\"join\",\"member\":\"m1\"}
{\"at\":\"2026-01-01T09:01:00+08:00\",\"type\":\"order\",\"order\":\"o1\",\"member\":\"m0\",\"amount\":\"1.001\"}
{\"at\":\"2026-01-01T09:02:00+08:00\",\"type\":\"order\",\"order\":\"o1\",\"member\":\"nobody\",\"amount\":\"5.00\"}
{\"at\":\"2026-01-01T08:00:00+08:00\",\"type\":\"join\",\"member\":\"m1\"}
{\"at\":\"2026-01-01T09:03:00+08:00\",\"type\":\"order\",\"order\":\"o0\",\"member\":\"m0\",\"amount\":\"999.00\"}
{\"at\":\"2026-01-01T09:00:00+08:00\",\"type\":\"order\",\"order\":\"o0\",\"member\":\"m0\",\"amount\":\"1000.00\"}
{\"at\":\"2026-01-01T09:04:00+08:00\",\"type\":\"sell\",\"member\":\"m0\",\"mechanism\":\"nope\",\"points\":\"1\"}
{\"at\":\"2026-01-01T09:04:00+08:00\",\"type\":\"sell\",\"member\":\"m0\",\"mechanism\":\"appr\",\"points\":\"500\"}
{\"at\":\"2026-01-01T09:05:00+08:00\",\"type\":\"sell\",\"member\":\"m0\",\"mechanism\":\"appr\",\"points\":\"10\"}
{\"at\":\"2026-01-01T09:06:00+08:00\",\"type\":\"withdraw\",\"member\":\"m0\",\"amount\":\"1000000.00\"}
";

#[test]
fn refused_lines_of_every_kind_match_their_snapshots() {
    let dir = scratch("refused");
    std::fs::write(dir.join("events.jsonl"), REFUSED).unwrap();
    let plan = super::case("seed_appr", "toml");
    let text_output = fanli_in(&dir, &["run", &plan, "events.jsonl"]);
    status(&text_output, 2, "fanli run on refused lines");
    let trace = fanli_in(&dir, &["run", &plan, "events.jsonl", "--json", "--trace"]);
    status(&trace, 2, "fanli run --json --trace on refused lines");
    let trace = json(&trace);
    // What must be, whatever the snapshot: each refused line's code, and one trace entry a line.
    let state: Value = serde_json::from_str(&trace).unwrap();
    let codes: Vec<(u64, &str)> = state["rejected"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| (r["line"].as_u64().unwrap(), r["code"].as_str().unwrap()))
        .collect();
    assert_eq!(
        codes,
        [
            (4, "malformed_json"),
            (5, "malformed_json"),
            (6, "unknown_type"),
            (7, "missing_field"),
            (8, "unknown_field"),
            (9, "bad_time"),
            (10, "bad_amount"),
            (11, "unknown_member"),
            (12, "time_went_backwards"),
            (13, "order_reused"),
            (15, "unknown_mechanism"),
            (16, "not_enough_points"),
            (18, "not_enough_wallet"),
        ]
    );
    assert_eq!(state["events"].as_array().unwrap().len(), REFUSED.split(|&b| b == b'\n').count() - 1);
    assert_snapshots(&[
        ("refused.run.txt".to_owned(), text(&text_output)),
        ("refused.trace.json".to_owned(), trace),
    ]);
}

#[test]
fn a_short_simulation_matches_its_snapshots() {
    let dir = scratch("simulate");
    let plan = Path::new(env!("CARGO_MANIFEST_DIR")).join("example/plan.toml");
    let output =
        fanli_in(&dir, &["simulate", plan.to_str().unwrap(), "--days", "30", "--seed", "7", "--out", "sim"]);
    status(&output, 0, "fanli simulate");
    let file = |name: &str| std::fs::read_to_string(dir.join("sim").join(name)).unwrap();
    assert_snapshots(&[
        ("simulate.txt".to_owned(), text(&output)),
        ("simulate.summary.json".to_owned(), file("summary.json")),
        ("simulate.timeseries.csv".to_owned(), file("timeseries.csv")),
    ]);
}

/// Every file in `tests/snapshots/` is one a test above compares, so a case removed or renamed
/// leaves no snapshot behind; with `UPDATE_EXPECT` the others are removed.
#[test]
fn every_snapshot_belongs_to_a_test() {
    let mut known: Vec<String> = all_cases()
        .iter()
        .flat_map(|case| run_outputs(case).into_iter().map(|(name, _)| name).chain(check_files(case)))
        .collect();
    known.extend(
        [
            "refused.run.txt",
            "refused.trace.json",
            "simulate.txt",
            "simulate.summary.json",
            "simulate.timeseries.csv",
        ]
        .map(str::to_owned),
    );
    let Ok(files) = std::fs::read_dir(snapshots()) else { return };
    let mut orphans: Vec<String> = files
        .map(|e| e.unwrap().file_name().into_string().unwrap())
        .filter(|name| !known.contains(name))
        .collect();
    orphans.sort();
    if updating() {
        for name in &orphans {
            println!("removing {name}: no test compares it");
            std::fs::remove_file(snapshots().join(name)).unwrap();
        }
        return;
    }
    assert!(orphans.is_empty(), "snapshots that no test compares (remove them): {orphans:?}");
}
