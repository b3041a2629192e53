//! The `fanli` binary, end to end: the seeds' worked cases, exit codes, plan errors, the trace,
//! the member view and the bundled example.

// The tests print as tests do (the binary's own output goes through `out!`: clippy.toml).
#![allow(clippy::disallowed_macros)]

use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};

use serde_json::Value;

mod examples;
mod holds;
mod output;
mod snapshots;

fn fanli(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_fanli")).args(args).output().expect("fanli runs")
}

fn cases() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/cases")
}

fn case(name: &str, ext: &str) -> String {
    cases().join(format!("{name}.{ext}")).to_str().unwrap().to_owned()
}

fn json(output: &Output) -> Value {
    serde_json::from_slice(&output.stdout)
        .unwrap_or_else(|e| panic!("stdout is JSON ({e}): {}", String::from_utf8_lossy(&output.stderr)))
}

/// Every value a case's expected file lists, compared exactly: the engine's arithmetic is the
/// spec's, so there is no rounding slack to allow (compare.py allows ±0.02 for hand-rounded seeds).
#[test]
fn the_seeds_worked_cases_match_to_the_fen() {
    let mut names: Vec<String> = std::fs::read_dir(cases())
        .unwrap()
        .filter_map(|e| e.unwrap().file_name().into_string().ok()?.strip_suffix(".toml").map(str::to_owned))
        .collect();
    names.sort();
    assert!(names.len() >= 7, "the cases are in tests/cases: {names:?}");
    for name in &names {
        let output = fanli(&["run", &case(name, "toml"), &case(name, "jsonl"), "--json"]);
        let expected: Value =
            serde_json::from_str(&std::fs::read_to_string(case(name, "expected.json")).unwrap()).unwrap();
        let actual = json(&output);
        let mut mismatches = Vec::new();
        for (id, fields) in expected["mechanisms"].as_object().unwrap() {
            for (key, want) in fields.as_object().unwrap() {
                let got = &actual["mechanisms"][id][key];
                if got != want {
                    mismatches.push(format!("mechanisms.{id}.{key}: expected {want}, got {got}"));
                }
            }
        }
        for (id, fields) in expected["members"].as_object().unwrap() {
            for key in ["wallet", "credit", "spent"] {
                let (want, got) = (&fields[key], &actual["members"][id][key]);
                if got != want {
                    mismatches.push(format!("members.{id}.{key}: expected {want}, got {got}"));
                }
            }
            for (mechanism, want) in fields["points"].as_object().unwrap() {
                let got = &actual["members"][id]["points"][mechanism];
                if got != want {
                    mismatches.push(format!("members.{id}.points.{mechanism}: expected {want}, got {got}"));
                }
            }
        }
        let rejected: Vec<&Value> =
            actual["rejected"].as_array().unwrap().iter().map(|r| &r["line"]).collect();
        let want: Vec<&Value> = expected["rejected_lines"].as_array().unwrap().iter().collect();
        if rejected != want {
            mismatches.push(format!("rejected lines: expected {want:?}, got {rejected:?}"));
        }
        assert_eq!(actual["accounts_balance"], true, "{name}");
        assert!(mismatches.is_empty(), "{name}:\n{}", mismatches.join("\n"));
        assert_eq!(output.status.code(), Some(if want.is_empty() { 0 } else { 2 }), "{name}");
    }
}

#[test]
fn a_rejected_line_is_named_and_exits_2_while_the_rest_applies() {
    let dir = tempdir("rejected");
    let events = dir.join("events.jsonl");
    std::fs::write(
        &events,
        "{\"at\":\"2026-01-01T09:00:00+08:00\",\"type\":\"join\",\"member\":\"m0\"}\n\
         {\"at\":\"2026-01-01T09:00:00+08:00\",\"type\":\"order\",\"order\":\"o\",\"member\":\"nobody\",\"amount\":\"1.00\"}\n\
         \n\
         {\"at\":\"2026-01-01T09:01:00+08:00\",\"type\":\"order\",\"order\":\"o\",\"member\":\"m0\",\"amount\":\"1000.00\"}\n",
    )
    .unwrap();
    let events = events.to_str().unwrap();
    let output = fanli(&["run", &case("seed_appr", "toml"), events]);
    assert_eq!(output.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(stderr.contains("events.jsonl:2: unknown member `nobody`"), "{stderr}");
    let output = fanli(&["run", &case("seed_appr", "toml"), events, "--json"]);
    assert_eq!(output.status.code(), Some(2));
    let state = json(&output);
    assert_eq!(
        state["rejected"],
        serde_json::json!([{"line": 2, "code": "unknown_member", "error": "unknown member `nobody`"}])
    );
    assert_eq!(state["members"]["m0"]["points"]["appr"], "210.0000");
}

#[test]
fn a_bad_plan_names_the_key_and_its_line_and_exits_1() {
    let dir = tempdir("plan");
    let plan = dir.join("plan.toml");
    let text = std::fs::read_to_string(case("seed_appr", "toml")).unwrap().replace("sell_fee", "sel_fee");
    std::fs::write(&plan, text).unwrap();
    let output = fanli(&["run", plan.to_str().unwrap(), &case("seed_appr", "jsonl")]);
    assert_eq!(output.status.code(), Some(1));
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        stderr.contains(
            "plan.toml: line 10: `mechanism.appr.sel_fee` is not a known key; did you mean `sell_fee`?"
        ),
        "{stderr}"
    );
    let output = fanli(&["run", "no/such/plan.toml", &case("seed_appr", "jsonl")]);
    assert_eq!(output.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&output.stderr).contains("cannot read plan no/such/plan.toml"));
}

#[test]
fn the_trace_has_one_entry_per_line_with_postings_and_effects() {
    let output =
        fanli(&["run", &case("seed_appr", "toml"), &case("seed_appr", "jsonl"), "--json", "--trace"]);
    let state = json(&output);
    let events = state["events"].as_array().unwrap();
    assert_eq!(events.len(), 8);
    let order = &events[1];
    assert_eq!(order["index"], 2);
    assert_eq!(order["ok"], true);
    assert_eq!(order["minted"], "210.0000");
    assert_eq!(order["price"], "1.4286");
    let postings: Vec<(&str, &str, &str, &str)> = order["postings"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| {
            (
                p["from"].as_str().unwrap(),
                p["to"].as_str().unwrap(),
                p["amount"].as_str().unwrap(),
                p["rule"].as_str().unwrap(),
            )
        })
        .collect();
    assert_eq!(
        postings,
        [
            ("external", "platform", "1000.00", "payment"),
            ("platform", "pool:appr", "300.00", "funding"),
            ("issued:appr", "member:m0:points:appr", "210.0000", "mint"),
        ]
    );
    let sell = &events[7];
    assert_eq!(sell["postings"][1]["to"], "member:m0:wallet");
    assert_eq!(sell["postings"][1]["amount"], "697.16");
    assert_eq!(sell["price"], "4.7907");
    // A blank line and a rejected line have their entries too, the one skipped, the other with
    // the error, and nothing moved. `--trace` alone gives the JSON document it is part of.
    let events = std::fs::read_to_string(case("seed_appr", "jsonl")).unwrap()
        + "  \n{\"at\":\"2030-01-01T00:00:00Z\",\"type\":\"withdraw\",\"member\":\"m0\",\"amount\":\"1000000.00\"}\n";
    let path = tempdir("trace").join("events.jsonl");
    std::fs::write(&path, events).unwrap();
    let output = fanli(&["run", &case("seed_appr", "toml"), path.to_str().unwrap(), "--trace"]);
    assert_eq!(output.status.code(), Some(2));
    let entries = json(&output)["events"].as_array().unwrap().clone();
    assert_eq!(entries.len(), 10, "one entry per input line");
    let blank = &entries[8];
    assert_eq!((blank["index"].as_u64(), blank["ok"].as_bool()), (Some(9), Some(true)));
    assert_eq!(
        (&blank["skipped"], &blank["postings"]),
        (&serde_json::json!("a blank line"), &serde_json::json!([]))
    );
    let refused = entries[9].clone();
    assert_eq!((refused["index"].as_u64(), refused["ok"].as_bool()), (Some(10), Some(false)));
    assert!(refused["error"].as_str().unwrap().contains("wallet"), "{refused}");
    assert_eq!(refused["postings"], serde_json::json!([]));
}

#[test]
fn the_member_view_shows_progress_place_and_value() {
    let output = fanli(&["run", "--example", "--member", "A"]);
    assert_eq!(output.status.code(), Some(0));
    let text = String::from_utf8_lossy(&output.stdout);
    assert!(text.contains("r3: participant on 1000.00; 3 referrals (3 of 3 this round)"), "{text}");
    assert!(text.contains("sold out (出局) when the price reaches"), "{text}");
    let output = fanli(&["run", "--example", "--member", "B"]);
    let text = String::from_utf8_lossy(&output.stdout);
    assert!(text.contains("the oldest is number 2 in line, with 580.00 queued ahead of it"), "{text}");
}

#[test]
fn one_member_as_json_and_an_unknown_member() {
    let output = fanli(&["run", "--example", "--member", "B", "--json"]);
    let member = json(&output);
    assert_eq!(member["B"]["referrer"], "A");
    assert_eq!(member["B"]["mechanisms"]["union"]["position"], 2);
    assert_eq!(member["B"]["mechanisms"]["r3"]["progress"], "1 of 3");
    let whole = json(&fanli(&["run", "--example", "--json"]));
    assert_eq!(member["B"], whole["members"]["B"], "the same object as in the whole state");
    let output = fanli(&["run", "--example", "--member", "nobody"]);
    assert_eq!(output.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&output.stderr).contains("unknown member `nobody`"));
}

#[test]
fn the_bundled_example_runs_clean() {
    let output = fanli(&["run", "--example"]);
    assert_eq!(output.status.code(), Some(0), "{}", String::from_utf8_lossy(&output.stderr));
    let text = String::from_utf8_lossy(&output.stdout);
    assert!(text.contains("21 events applied, 0 rejected; 5 members, 6 orders"), "{text}");
    assert!(text.contains("every asset's accounts sum to zero: yes"), "{text}");
}

#[test]
fn events_can_come_from_standard_input() {
    let mut child = Command::new(env!("CARGO_BIN_EXE_fanli"))
        .args(["run", &case("seed_queue", "toml"), "-", "--json"])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    let events = std::fs::read(case("seed_queue", "jsonl")).unwrap();
    std::io::Write::write_all(&mut child.stdin.take().unwrap(), &events).unwrap();
    let output = child.wait_with_output().unwrap();
    assert_eq!(json(&output)["members"]["A"]["wallet"], "20.00");
}

/// A plan whose price falls to almost nothing (mint 10× at 0.0001 a point) outgrows 64 bits:
/// the order whose points would not fit is refused (`overflow`), and nothing of it stays.
const OVERFLOWING_PLAN: &str = "name = \"big\"\nsettle_after_days = 0\n[[mechanism]]\nid = \"appr\"\n\
    kind = \"appreciation\"\nfunding_rate = \"1\"\nmint_ratio = \"10\"\ninitial_price = \"0.0001\"\n";
const OVERFLOWING_EVENTS: &str = "{\"at\":\"2026-01-01T09:00:00+08:00\",\"type\":\"join\",\"member\":\"A\"}
{\"at\":\"2026-01-01T09:00:00+08:00\",\"type\":\"join\",\"member\":\"B\"}
{\"at\":\"2026-01-01T09:00:00+08:00\",\"type\":\"order\",\"order\":\"o1\",\"member\":\"A\",\"amount\":\"100000000.00\"}
{\"at\":\"2026-01-01T09:00:00+08:00\",\"type\":\"order\",\"order\":\"o2\",\"member\":\"B\",\"amount\":\"2000000000.00\"}
";

#[test]
fn an_overflow_is_refused_at_its_line_and_never_wraps() {
    let dir = tempdir("overflow");
    let (plan, events) = (dir.join("plan.toml"), dir.join("events.jsonl"));
    std::fs::write(&plan, OVERFLOWING_PLAN).unwrap();
    std::fs::write(&events, OVERFLOWING_EVENTS).unwrap();
    let output =
        fanli(&["run", plan.to_str().unwrap(), events.to_str().unwrap(), "--json", "--allow-noncompliant"]);
    assert_eq!(output.status.code(), Some(2));
    let state = json(&output);
    // B's 2×10^9 yuan would mint 2×10^15 points: 2×10^19 units, past 2^62.
    assert_eq!(state["rejected"][0]["line"], 4);
    assert_eq!(state["rejected"][0]["code"], "overflow");
    let error = state["rejected"][0]["error"].as_str().unwrap();
    assert!(error.contains("the points `appr` mints for it would outgrow 64 bits"), "{error}");
    // The order left nothing behind; A's points from the line before stand.
    assert_eq!(state["members"]["B"]["spent"], "0.00");
    assert_eq!(state["members"]["B"]["points"]["appr"], "0.0000");
    assert_eq!(state["members"]["A"]["points"]["appr"], "10000000000000.0000");
    assert_eq!(state["accounts_balance"], true);
    assert!(!String::from_utf8_lossy(&output.stderr).contains("panicked"));
}

fn tempdir(name: &str) -> PathBuf {
    let dir = Path::new(env!("CARGO_TARGET_TMPDIR")).join(name);
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

#[test]
fn check_lists_warnings_with_their_lines_and_allows_the_plan() {
    let output = fanli(&["check", &case("seed_green_team", "toml"), "--json"]);
    assert_eq!(output.status.code(), Some(0));
    let doc = json(&output);
    assert_eq!(doc["compliant"], true);
    assert_eq!(doc["errors"], 0);
    let rules: Vec<(&str, u64)> = doc["findings"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| (f["rule"].as_str().unwrap(), f["line"].as_u64().unwrap()))
        .collect();
    // The seed states no margin_rate: its funding is checked against the whole order only.
    assert_eq!(rules, [("no-margin", 1), ("static-return", 8), ("team-compensation", 10)]);
    assert!(doc["findings"][0]["en"].as_str().unwrap().contains("cannot be compared with the margin"));
    assert!(doc["findings"][1]["zh"].as_str().unwrap().contains("非法集资"));
}

/// A queue promising 110% of spend: `check` warns (`static-return`) and, with the simulator's
/// estimate, shows who is left waiting: a few early members made whole, most not.
#[test]
fn check_estimates_who_a_static_return_leaves_unpaid() {
    let dir = tempdir("sustainability");
    let plan = dir.join("plan.toml");
    std::fs::write(
        &plan,
        "name = \"q\"\nsettle_after_days = 0\nmargin_rate = \"0.30\"\n[[mechanism]]\nid = \"union\"\nkind = \"queue\"\n\
         funding_rate = \"0.10\"\ncredit_ratio = \"1.1\"\nrelease = \"when_funded\"\n",
    )
    .unwrap();
    let output = fanli(&["check", plan.to_str().unwrap(), "--json"]);
    assert_eq!(output.status.code(), Some(0));
    let doc = json(&output);
    assert_eq!(doc["findings"][0]["rule"], "static-return");
    let estimate = &doc["sustainability"];
    let count = |key: &str| estimate[key].as_u64().unwrap();
    assert!(count("members_with_spend") > 2_000, "{estimate}");
    assert!(count("made_whole") * 10 < count("members_with_spend"), "most are not made whole: {estimate}");
    let waiting: f64 = estimate["still_waiting"].as_str().unwrap().parse().unwrap();
    assert!(waiting > 1_000_000.0, "{estimate}");
    let zh = estimate["verdict"]["zh"].as_str().unwrap();
    assert!(zh.contains("要靠以后新会员的钱才能兑付") && !zh.contains("仍拖欠 0 名会员"), "{estimate}");
    // Allowed by the rules, but graded: most not whole, what waits well over half the spend.
    let risk = &estimate["risk"];
    assert_eq!((&risk["grade"], &risk["made_whole_grade"]), (&"severe".into(), &"severe".into()));
    // The same estimate in the text, after the findings, and the grade beside "allowed".
    let output = fanli(&["check", plan.to_str().unwrap()]);
    let text = String::from_utf8_lossy(&output.stdout);
    let line = format!(
        "    {} of {} members with spend made whole",
        count("made_whole"),
        count("members_with_spend")
    );
    assert!(text.contains("sustainability (") && text.contains(&line), "{text}");
    assert!(text.contains("\n    risk grade: severe (极高): made whole "), "{text}");
    assert!(text.ends_with("0 error(s), 1 warning(s): allowed; risk grade severe (极高)\n"), "{text}");
}

/// An appreciation minting 10× at 0.0001 a point outgrows 64 bits within days: `check` still
/// gives its findings and says the simulation stopped; `simulate` stops with the reason, not a
/// crash.
#[test]
fn a_plan_too_large_to_compute_stops_the_simulation_cleanly() {
    let dir = tempdir("too-large");
    let plan = dir.join("plan.toml");
    std::fs::write(
        &plan,
        "name = \"x\"\nsettle_after_days = 0\n[[mechanism]]\nid = \"appr\"\nkind = \"appreciation\"\n\
         funding_rate = \"0.30\"\nmint_ratio = \"10\"\ninitial_price = \"0.0001\"\nsell_fee = \"0.20\"\nexit_multiple = \"2\"\n",
    )
    .unwrap();
    let output = fanli(&["check", plan.to_str().unwrap()]);
    assert_eq!(output.status.code(), Some(0));
    let text = String::from_utf8_lossy(&output.stdout);
    assert!(text.contains("[mint-above-one]"), "{text}");
    assert!(text.contains("sustainability: the simulation stopped at line"), "{text}");
    assert!(text.contains("would outgrow 64 bits"), "{text}");
    assert!(!String::from_utf8_lossy(&output.stderr).contains("panicked"));
    let out = dir.join("sim");
    let output = fanli(&["simulate", plan.to_str().unwrap(), "--out", out.to_str().unwrap()]);
    assert_eq!(output.status.code(), Some(1));
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        stderr.contains("the simulation stopped at line") && stderr.contains("would outgrow 64 bits"),
        "{stderr}"
    );
}

#[test]
fn a_plan_past_a_red_line_is_refused_by_check_and_by_run_unless_for_analysis() {
    let dir = tempdir("noncompliant");
    let plan = dir.join("plan.toml");
    std::fs::write(
        &plan,
        "name = \"拉人头\"\nsettle_after_days = 0\nmargin_rate = \"0.30\"\n[[mechanism]]\nid = \"r3\"\nkind = \"refer_refund\"\n\
         funding_rate = \"0.30\"\nqualify_min = \"100.00\"\nreferee_min = \"0\"\nsteps = [\"100%\"]\n",
    )
    .unwrap();
    let events = dir.join("events.jsonl");
    std::fs::write(&events, "{\"at\":\"2026-01-01T09:00:00+08:00\",\"type\":\"join\",\"member\":\"A\"}\n")
        .unwrap();
    let (plan, events) = (plan.to_str().unwrap(), events.to_str().unwrap());
    let checked = fanli(&["check", plan]);
    assert_eq!(checked.status.code(), Some(1));
    let text = String::from_utf8_lossy(&checked.stdout);
    assert!(text.contains("plan.toml:9: error [recruiting-alone] `mechanism.r3.referee_min`"), "{text}");
    assert!(text.contains("1 error(s), 0 warning(s): refused"), "{text}");
    let run = fanli(&["run", plan, events]);
    assert_eq!(run.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&run.stderr).contains("refused (see `fanli check`)"));
    let analysis = fanli(&["run", plan, events, "--allow-noncompliant", "--json"]);
    assert_eq!(analysis.status.code(), Some(0));
    assert_eq!(json(&analysis)["members"]["A"]["wallet"], "0.00");
    // A plan that does not parse is an error of check's too.
    std::fs::write(dir.join("bad.toml"), "name = 1\n").unwrap();
    let bad = fanli(&["check", dir.join("bad.toml").to_str().unwrap()]);
    assert_eq!(bad.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&bad.stderr).contains("line 1: `name` must be a string"));
}

/// The bundled example run with `--chain` and `--report`: (plan, log, report) paths.
fn chained_example(name: &str) -> (String, PathBuf, PathBuf) {
    let dir = tempdir(name);
    let plan = Path::new(env!("CARGO_MANIFEST_DIR")).join("example/plan.toml");
    let events = Path::new(env!("CARGO_MANIFEST_DIR")).join("example/events.jsonl");
    let (log, report) = (dir.join("chain.jsonl"), dir.join("report.jsonl"));
    let output = fanli(&[
        "run",
        plan.to_str().unwrap(),
        events.to_str().unwrap(),
        "--chain",
        log.to_str().unwrap(),
        "--report",
        report.to_str().unwrap(),
    ]);
    assert_eq!(output.status.code(), Some(0), "{}", String::from_utf8_lossy(&output.stderr));
    (plan.to_str().unwrap().to_owned(), log, report)
}

fn verify(plan: &str, log: &Path, report: Option<&Path>) -> (Option<i32>, String) {
    let mut args = vec!["audit", "verify", log.to_str().unwrap(), "--plan", plan];
    if let Some(report) = report {
        args.extend(["--report", report.to_str().unwrap()]);
    }
    let output = fanli(&args);
    let text =
        String::from_utf8_lossy(&output.stdout).into_owned() + &String::from_utf8_lossy(&output.stderr);
    (output.status.code(), text)
}

#[test]
fn a_chained_log_and_its_report_verify_and_any_tampering_is_named() {
    let (plan, log, report) = chained_example("chain");
    let (code, text) = verify(&plan, &log, Some(&report));
    assert_eq!(code, Some(0), "{text}");
    assert!(text.contains("verified: 21 lines chained and replayed, 6 daily reports agree"), "{text}");
    let lines: Vec<String> = std::fs::read_to_string(&log).unwrap().lines().map(str::to_owned).collect();
    let tampered = |name: &str, lines: &[String]| {
        let path = log.with_file_name(name);
        std::fs::write(&path, lines.join("\n") + "\n").unwrap();
        path
    };
    // One byte: the order on line 2 paid 1000.01 instead of 1000.00; line 3 no longer follows.
    let mut byte = lines.clone();
    byte[1] = byte[1].replace("\"1000.00\"", "\"1000.01\"");
    let (code, text) = verify(&plan, &tampered("byte.jsonl", &byte), None);
    assert_eq!(code, Some(1));
    assert!(text.contains("byte.jsonl:3: the chain breaks here"), "{text}");
    // A dropped line.
    let mut dropped = lines.clone();
    dropped.remove(4);
    let (code, text) = verify(&plan, &tampered("dropped.jsonl", &dropped), None);
    assert_eq!(code, Some(1));
    assert!(text.contains("dropped.jsonl:5: the chain breaks here"), "{text}");
    // Two lines swapped.
    let mut swapped = lines.clone();
    swapped.swap(6, 7);
    let (code, text) = verify(&plan, &tampered("swapped.jsonl", &swapped), None);
    assert!(code == Some(1) && text.contains("swapped.jsonl:7: the chain breaks here"), "{text}");
    // The last line altered: nothing follows it, but the report pins the day it closes.
    let mut last = lines.clone();
    let n = last.len();
    last[n - 1] = last[n - 1].replace("close_day", "close_day\",\"x\":\"");
    let (code, _) = verify(&plan, &tampered("last.jsonl", &last), None);
    assert_eq!(code, Some(1));
    // A report whose pool was changed.
    let published = std::fs::read_to_string(&report).unwrap();
    let second = published.lines().nth(1).unwrap().to_owned();
    let altered = second.replacen("\"paid\":\"", "\"paid\":\"1", 1);
    let path = report.with_file_name("altered.jsonl");
    std::fs::write(&path, published.replace(&second, &altered)).unwrap();
    let (code, text) = verify(&plan, &log, Some(&path));
    assert_eq!(code, Some(1));
    assert!(text.contains("altered.jsonl:2: disagrees with the log's line"), "{text}");
    // A log in two files (pages of the server's audit feed, say) is one log; a break is named
    // in the file where it is, at that file's own line.
    let (head, tail) = (tampered("head.jsonl", &lines[..10]), tampered("tail.jsonl", &lines[10..]));
    let output = fanli(&["audit", "verify", head.to_str().unwrap(), tail.to_str().unwrap(), "--plan", &plan]);
    assert_eq!(output.status.code(), Some(0), "{}", String::from_utf8_lossy(&output.stderr));
    assert!(String::from_utf8_lossy(&output.stdout).contains("verified: 21 lines chained and replayed"));
    let mut tail_swapped = lines[10..].to_vec();
    tail_swapped.swap(2, 3);
    let tail = tampered("tail-swapped.jsonl", &tail_swapped);
    let output = fanli(&["audit", "verify", head.to_str().unwrap(), tail.to_str().unwrap(), "--plan", &plan]);
    assert_eq!(output.status.code(), Some(1));
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(stderr.contains("tail-swapped.jsonl:3: the chain breaks here"), "{stderr}");
    // Without the plan, the chain alone is checked (and the output says nothing was replayed);
    // a report cannot be compared without a replay.
    let output = fanli(&["audit", "verify", log.to_str().unwrap()]);
    assert_eq!(output.status.code(), Some(0), "{}", String::from_utf8_lossy(&output.stderr));
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(
        stdout.contains("verified: 21 lines chained; head ") && stdout.contains("not replayed"),
        "{stdout}"
    );
    let output = fanli(&["audit", "verify", head.to_str().unwrap(), tail.to_str().unwrap()]);
    assert_eq!(output.status.code(), Some(1));
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(stderr.contains("tail-swapped.jsonl:3: the chain breaks here"), "{stderr}");
    let output = fanli(&["audit", "verify", log.to_str().unwrap(), "--report", report.to_str().unwrap()]);
    assert_eq!(output.status.code(), Some(1));
}

#[test]
fn audit_verify_checks_a_servers_store_tenant_by_tenant_and_names_a_tampered_line() {
    let dir = tempdir("verify-store");
    let _ = std::fs::remove_dir_all(&dir);
    let (mut child, addr) = serve_node(&dir, None);
    let (_, body) = http(addr, "POST", "/v1/tenants", "crash-master", r#"{"id":"shop"}"#).unwrap();
    let key = json_of(&body)["owner_key"].as_str().unwrap().to_owned();
    assert_eq!(http(addr, "POST", "/v1/tenants", "crash-master", r#"{"id":"empty"}"#).unwrap().0, 201);
    let plan = std::fs::read_to_string(case("seed_refer", "toml")).unwrap();
    assert_eq!(http(addr, "PUT", "/v1/plan", &key, &plan).unwrap().0, 200);
    let events = std::fs::read_to_string(case("seed_refer", "jsonl")).unwrap();
    let closes = events.lines().filter(|l| l.contains("close_day")).count();
    let lines = events.lines().filter(|l| !l.trim().is_empty()).count();
    assert_eq!(http(addr, "POST", "/v1/events", &key, &events).unwrap().0, 200);
    child.kill().unwrap();
    child.wait().unwrap();
    let data = dir.to_str().unwrap();
    let output = fanli(&["audit", "verify", "--data", data]);
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert_eq!(output.status.code(), Some(0), "{stdout}{}", String::from_utf8_lossy(&output.stderr));
    assert!(stdout.contains("empty: no plan, no events"), "{stdout}");
    let verified =
        format!("shop: verified: {lines} lines chained and replayed, {closes} daily reports agree");
    assert!(stdout.contains(&verified), "{stdout}");
    // One amount changed in the stored log: its line is named.
    let db = rusqlite::Connection::open(dir.join("fanli.sqlite3")).unwrap();
    let changed = db
        .execute(
            "UPDATE events SET line = replace(line, '\"1000.00\"', '\"1000.01\"') \
             WHERE tenant = 'shop' AND seq = (SELECT MIN(seq) FROM events WHERE line LIKE '%1000.00%')",
            [],
        )
        .unwrap();
    assert_eq!(changed, 1);
    let seq: i64 =
        db.query_row("SELECT seq FROM events WHERE line LIKE '%1000.01%'", [], |r| r.get(0)).unwrap();
    let output = fanli(&["audit", "verify", "--data", data, "--tenant", "shop"]);
    assert_eq!(output.status.code(), Some(1));
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(stderr.contains(&format!("shop: log line {}: the chain breaks here", seq + 1)), "{stderr}");
    let output = fanli(&["audit", "verify", "--data", data, "--tenant", "nobody"]);
    assert_eq!(output.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&output.stderr).contains("no tenant `nobody`"));
    let output = fanli(&["audit", "verify", "--data", dir.join("nowhere").to_str().unwrap()]);
    assert_eq!(output.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&output.stderr).contains("no fanli store in"));
}

#[test]
fn until_prints_the_state_as_it_stood_then() {
    let plan = case("seed_refer", "toml");
    let events = case("seed_refer", "jsonl");
    let all = json(&fanli(&["run", &plan, &events, "--json"]));
    let first: Value =
        serde_json::from_str(std::fs::read_to_string(&events).unwrap().lines().next().unwrap()).unwrap();
    let at = first["at"].as_str().unwrap();
    let start = json(&fanli(&["run", &plan, &events, "--json", "--until", at]));
    // Only the events at the first instant have happened.
    assert!(start["members"].as_object().unwrap().len() < all["members"].as_object().unwrap().len());
    let bad = fanli(&["run", &plan, &events, "--until", "yesterday"]);
    assert_eq!(bad.status.code(), Some(1));
}

#[test]
fn simulate_writes_the_stream_the_state_and_the_report() {
    let dir = tempdir("simulate");
    let scenario = dir.join("scenario.toml");
    let example = fanli(&["simulate", "--example"]);
    assert_eq!(example.status.code(), Some(0));
    std::fs::write(&scenario, &example.stdout).unwrap();
    let plan = Path::new(env!("CARGO_MANIFEST_DIR")).join("example/plan.toml");
    let out = dir.join("out");
    let output = fanli(&[
        "simulate",
        plan.to_str().unwrap(),
        scenario.to_str().unwrap(),
        "--days",
        "20",
        "--seed",
        "7",
        "--out",
        out.to_str().unwrap(),
    ]);
    assert_eq!(output.status.code(), Some(0), "{}", String::from_utf8_lossy(&output.stderr));
    assert!(
        String::from_utf8_lossy(&output.stdout).contains("at the end of the run")
            || String::from_utf8_lossy(&output.stdout).contains("At the end of the run")
    );
    let run = fanli(&["run", plan.to_str().unwrap(), out.join("events.jsonl").to_str().unwrap(), "--json"]);
    let state = std::fs::read(out.join("state.json")).unwrap();
    assert_eq!(run.stdout, state, "fanli run reproduces the simulated end state byte for byte");
    for file in ["timeseries.csv", "outcomes.csv", "summary.json", "report.html"] {
        assert!(out.join(file).is_file(), "{file}");
    }
}

#[test]
fn simulate_from_a_log_goes_on_where_it_ends() {
    let dir = tempdir("simulate-from");
    let plan = Path::new(env!("CARGO_MANIFEST_DIR")).join("example/plan.toml");
    let log = Path::new(env!("CARGO_MANIFEST_DIR")).join("example/events.jsonl");
    let out = dir.join("out");
    let output = fanli(&[
        "simulate",
        plan.to_str().unwrap(),
        "--from",
        log.to_str().unwrap(),
        "--days",
        "15",
        "--out",
        out.to_str().unwrap(),
    ]);
    assert_eq!(output.status.code(), Some(0), "{}", String::from_utf8_lossy(&output.stderr));
    let generated = std::fs::read_to_string(out.join("events.jsonl")).unwrap();
    // The log's members take part (newcomers name them as referrers), and what the simulation
    // creates has ids of its own.
    let known: Vec<String> = std::fs::read_to_string(&log)
        .unwrap()
        .lines()
        .filter_map(|l| serde_json::from_str::<Value>(l).ok())
        .filter(|e| e["type"] == "join")
        .map(|e| e["member"].as_str().unwrap().to_owned())
        .collect();
    assert!(generated.lines().any(|l| known.iter().any(|k| l.contains(&format!("\"referrer\":\"{k}\"")))));
    assert!(generated.contains("\"order\":\"sim-o0\"") && generated.contains("\"member\":\"sim-m"));
    let both = dir.join("both.jsonl");
    std::fs::write(&both, std::fs::read_to_string(&log).unwrap() + &generated).unwrap();
    let run = fanli(&["run", plan.to_str().unwrap(), both.to_str().unwrap(), "--json"]);
    assert_eq!(run.stdout, std::fs::read(out.join("state.json")).unwrap());
}

#[test]
fn simulate_sweeps_a_key_and_compares_the_runs() {
    let dir = tempdir("simulate-sweep");
    let plan = Path::new(env!("CARGO_MANIFEST_DIR")).join("example/plan.toml");
    let out = dir.join("out");
    let output = fanli(&[
        "simulate",
        plan.to_str().unwrap(),
        "--days",
        "30",
        "--sweep",
        "union.credit_ratio=0.5,1.0",
        "--out",
        out.to_str().unwrap(),
    ]);
    assert_eq!(output.status.code(), Some(0), "{}", String::from_utf8_lossy(&output.stderr));
    let csv = std::fs::read_to_string(out.join("sweep.csv")).unwrap();
    let rows: Vec<&str> = csv.lines().collect();
    assert_eq!(rows.len(), 3, "{csv}");
    assert!(rows[1].starts_with("0.5,") && rows[2].starts_with("1.0,"), "{csv}");
    // Promising half as much leaves less waiting in the queue.
    let waiting = |row: &str| row.split(',').nth(4).unwrap().parse::<f64>().unwrap();
    assert!(waiting(rows[1]) < waiting(rows[2]), "{csv}");
    let html = std::fs::read_to_string(out.join("report.html")).unwrap();
    assert!(html.contains("参数对比：union.credit_ratio"), "the report in Chinese");
    let bad = fanli(&[
        "simulate",
        plan.to_str().unwrap(),
        "--days",
        "2",
        "--sweep",
        "nope.x=1",
        "--out",
        out.to_str().unwrap(),
    ]);
    assert_eq!(bad.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&bad.stderr).contains("no mechanism has id `nope`"));
}

/// With `FANLI_TEST_DATABASE_URL` (as `.ci/run` sets it), the PostgreSQL URL of a schema named
/// after the test's folder, made on the first call for that folder; `None` for SQLite.
fn test_database(data: &Path) -> Option<String> {
    let url = std::env::var("FANLI_TEST_DATABASE_URL").ok().filter(|u| !u.is_empty())?;
    let name = data.file_name().unwrap().to_string_lossy();
    let schema = format!("fanli_cli_{}", name.replace(|c: char| !c.is_ascii_alphanumeric(), "_"));
    if !data.exists() {
        let mut client = postgres::Client::connect(&url, postgres::NoTls).unwrap();
        client
            .batch_execute(&format!("DROP SCHEMA IF EXISTS {schema} CASCADE; CREATE SCHEMA {schema}"))
            .unwrap();
    }
    let sep = if url.contains('?') { '&' } else { '?' };
    Some(format!("{url}{sep}options=-csearch_path%3D{schema}"))
}

/// A `fanli serve` child on a free local port; its address.
fn serve_child(data: &Path) -> (std::process::Child, std::net::SocketAddr) {
    serve_node(data, test_database(data).as_deref())
}

/// A `fanli serve` child on a free local port, on `database` if given; its address.
fn serve_node(data: &Path, database: Option<&str>) -> (std::process::Child, std::net::SocketAddr) {
    let port = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
    let addr: std::net::SocketAddr = format!("127.0.0.1:{port}").parse().unwrap();
    let mut command = serve_command(data, addr, database);
    command.stderr(Stdio::null());
    (start(command, addr), addr)
}

/// `fanli serve` of the folder `data` on `addr` (and on `database`, if given), with the
/// tests' master key; where its log goes is the caller's.
fn serve_command(data: &Path, addr: std::net::SocketAddr, database: Option<&str>) -> Command {
    let mut command = Command::new(env!("CARGO_BIN_EXE_fanli"));
    command.args(["serve", "--data", data.to_str().unwrap(), "--listen", &addr.to_string()]);
    if let Some(url) = database {
        command.args(["--database", url]);
    }
    command.env("FANLI_MASTER_KEY", "crash-master").stdout(Stdio::null());
    command
}

/// Spawns `command` (a [`serve_command`]) and waits until it listens on `addr`; panics if it
/// does not within [`listening`]'s bound.
fn start(mut command: Command, addr: std::net::SocketAddr) -> std::process::Child {
    let mut child = command.spawn().unwrap();
    if listening(&mut child, addr) {
        return child;
    }
    let _ = child.kill();
    let _ = child.wait();
    panic!("fanli serve did not start");
}

/// Waits (at most 5 s) until `child` accepts connections on `addr`: whether it does.
///
/// The port was free when chosen and is in the range the system picks the local ports of
/// outgoing connections from, so a connection to it made before the child listens may be
/// given that very port as its own and connect to itself (TCP's simultaneous open): such a
/// connection, or one made after the child exited, does not count.
fn listening(child: &mut std::process::Child, addr: std::net::SocketAddr) -> bool {
    for _ in 0..200 {
        if child.try_wait().unwrap().is_some() {
            return false;
        }
        if let Ok(stream) = std::net::TcpStream::connect(addr)
            && stream.local_addr().ok() != stream.peer_addr().ok()
        {
            return true;
        }
        std::thread::sleep(std::time::Duration::from_millis(25));
    }
    false
}

/// One request on a fresh connection: the status and body, or `None` if the server is gone.
/// Waits until a restarted node serves the tenant of `key`: on PostgreSQL a node killed with
/// its tenants keeps their leases until they expire (3 s, docs/decisions.md), and the node
/// taking them answers `503` with `Retry-After` meanwhile. At most 15 s.
fn served(addr: std::net::SocketAddr, key: &str) {
    for _ in 0..150 {
        match http(addr, "GET", "/v1/state", key, "") {
            Some((503, _)) | None => std::thread::sleep(std::time::Duration::from_millis(100)),
            Some(_) => return,
        }
    }
    panic!("the restarted node did not serve the tenant within 15 s");
}

fn http(
    addr: std::net::SocketAddr,
    method: &str,
    path: &str,
    key: &str,
    body: &str,
) -> Option<(u16, String)> {
    use std::io::{Read, Write};
    let mut stream = std::net::TcpStream::connect(addr).ok()?;
    stream.set_read_timeout(Some(std::time::Duration::from_secs(10))).ok()?;
    let request = format!(
        "{method} {path} HTTP/1.1\r\nHost: t\r\nAuthorization: Bearer {key}\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
        body.len()
    );
    stream.write_all(request.as_bytes()).ok()?;
    let mut response = String::new();
    stream.read_to_string(&mut response).ok()?;
    let status = response.get(9..12)?.parse().ok()?;
    Some((status, response.split_once("\r\n\r\n")?.1.to_owned()))
}

/// Issue 15: a live tenant's plan amended over HTTP (a raise at once, a lowering waiting for
/// its notice), the server killed (SIGKILL) and started again on the same data: the state is
/// what `fanli run` prints for the base plan and the exported log, the amendment still waits,
/// and `fanli audit verify --data` replays the store.
#[test]
fn a_server_killed_after_amending_a_live_plan_restarts_to_what_fanli_run_prints() {
    let dir = tempdir("amend-crash");
    let _ = std::fs::remove_dir_all(&dir);
    let database = test_database(&dir);
    let (mut child, addr) = serve_node(&dir, database.as_deref());
    let (_, body) = http(addr, "POST", "/v1/tenants", "crash-master", r#"{"id":"shop"}"#).unwrap();
    let key = json_of(&body)["owner_key"].as_str().unwrap().to_owned();
    let plan = |rate: &str| {
        format!(
            "name = \"amend\"\nsettle_after_days = 0\n[[mechanism]]\nid = \"dist\"\nkind = \"distribution\"\n\
             funding_rate = \"0.02\"\nlevels = [\"{rate}\"]\n"
        )
    };
    assert_eq!(http(addr, "PUT", "/v1/plan", &key, &plan("0.003")).unwrap().0, 200);
    let events = "{\"at\":\"2026-01-01T09:00:00+08:00\",\"type\":\"join\",\"member\":\"A\"}\n\
                  {\"at\":\"2026-01-01T09:01:00+08:00\",\"type\":\"join\",\"member\":\"b\",\"referrer\":\"A\"}\n\
                  {\"at\":\"2026-01-01T09:02:00+08:00\",\"type\":\"order\",\"order\":\"b1\",\"member\":\"b\",\"amount\":\"1000.00\"}\n";
    assert_eq!(http(addr, "POST", "/v1/events", &key, events).unwrap().0, 200);
    let (status, body) = http(addr, "PUT", "/v1/plan", &key, &plan("0.005")).unwrap();
    assert_eq!(status, 200, "{body}");
    let order = r#"{"order":"b2","member":"b","amount":"1000.00"}"#;
    assert_eq!(http(addr, "POST", "/v1/orders", &key, order).unwrap().0, 200);
    let (status, body) =
        http(addr, "PUT", "/v1/plan?effective_at=2099-01-01T00:00:00Z", &key, &plan("0.004")).unwrap();
    assert_eq!(status, 200, "{body}");
    let (_, before) = http(addr, "GET", "/v1/state", &key, "").unwrap();
    assert_eq!(json_of(&before)["members"]["A"]["wallet"], "8.00", "3.00, then 5.00 at the raised rate");
    child.kill().unwrap();
    child.wait().unwrap();

    let (mut child, addr) = serve_node(&dir, database.as_deref());
    served(addr, &key);
    let (_, after) = http(addr, "GET", "/v1/state", &key, "").unwrap();
    let (_, now) = http(addr, "GET", "/v1/plan", &key, "").unwrap();
    let (_, feed) = http(addr, "GET", "/v1/audit", &key, "").unwrap();
    child.kill().unwrap();
    child.wait().unwrap();
    assert_eq!(json_of(&after), json_of(&before));
    let now = json_of(&now);
    assert_eq!((&now["version"], now["plan"].as_str()), (&Value::from(2), Some(plan("0.005").as_str())));
    assert_eq!(now["waiting"], serde_json::json!([{"version": 3, "effective_at": "2099-01-01T00:00:00Z"}]));
    let (base, log) = (dir.join("base.toml"), dir.join("log.jsonl"));
    std::fs::write(&base, plan("0.003")).unwrap();
    std::fs::write(&log, &feed).unwrap();
    let run = fanli(&["run", base.to_str().unwrap(), log.to_str().unwrap(), "--json"]);
    assert_eq!(run.status.code(), Some(0), "{}", String::from_utf8_lossy(&run.stderr));
    assert_eq!(json(&run), json_of(&after));
    let mut verify = vec!["audit", "verify", "--data", dir.to_str().unwrap()];
    if let Some(url) = &database {
        verify.extend(["--database", url.as_str()]);
    }
    let output = fanli(&verify);
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert_eq!(output.status.code(), Some(0), "{stdout}{}", String::from_utf8_lossy(&output.stderr));
    assert!(stdout.contains("shop: verified: 6 lines chained and replayed"), "{stdout}");
}

#[test]
fn a_server_killed_mid_load_loses_no_acknowledged_order_and_applies_none_twice() {
    let dir = tempdir("crash");
    let _ = std::fs::remove_dir_all(&dir);
    let (mut child, addr) = serve_child(&dir);
    let (_, body) = http(addr, "POST", "/v1/tenants", "crash-master", r#"{"id":"shop"}"#).unwrap();
    let key = json_of(&body)["owner_key"].as_str().unwrap().to_owned();
    let plan = "name = \"crash\"\nsettle_after_days = 0\n[[mechanism]]\nid = \"q\"\nkind = \"queue\"\n\
                funding_rate = \"0.1\"\nrelease = \"when_funded\"\n";
    assert_eq!(http(addr, "PUT", "/v1/plan", &key, plan).unwrap().0, 200);
    assert_eq!(http(addr, "POST", "/v1/members", &key, r#"{"member":"A"}"#).unwrap().0, 200);
    // A client posts orders one by one; the server is killed (SIGKILL) while it does.
    let client = {
        let key = key.clone();
        std::thread::spawn(move || {
            let mut acknowledged = Vec::new();
            for i in 0..100_000 {
                let body = format!(r#"{{"order":"o{i}","member":"A","amount":"1.00"}}"#);
                match http(addr, "POST", "/v1/orders", &key, &body) {
                    Some((200, _)) => acknowledged.push(i),
                    _ => return (acknowledged, i),
                }
            }
            (acknowledged, 100_000)
        })
    };
    std::thread::sleep(std::time::Duration::from_millis(300));
    child.kill().unwrap();
    child.wait().unwrap();
    let (acknowledged, unanswered) = client.join().unwrap();
    assert!(!acknowledged.is_empty() && unanswered < 100_000, "the kill came mid-load");
    // Restarted, the client retries the order it got no answer for.
    let (mut child, addr) = serve_child(&dir);
    served(addr, &key);
    let retry = format!(r#"{{"order":"o{unanswered}","member":"A","amount":"1.00"}}"#);
    assert_eq!(http(addr, "POST", "/v1/orders", &key, &retry).unwrap().0, 200);
    let (_, state) = http(addr, "GET", "/v1/state", &key, "").unwrap();
    child.kill().unwrap();
    child.wait().unwrap();
    // Every acknowledged order and the retried one, each once: A spent exactly that many yuan.
    let spent = json_of(&state)["members"]["A"]["spent"].as_str().unwrap().to_owned();
    assert_eq!(spent, format!("{}.00", acknowledged.len() + 1), "{} acknowledged", acknowledged.len());
}

/// Two nodes on one PostgreSQL: a tenant is served by the node that made it, the other node
/// forwards its requests there, and when the first node is killed the second takes the tenant
/// over from the log, with every acknowledged event. (Needs `FANLI_TEST_DATABASE_URL`, as
/// `.ci/run` sets it; on SQLite alone there is one node, and this test has nothing to check.)
#[test]
fn a_second_node_forwards_to_the_owner_and_takes_its_tenants_over_when_it_dies() {
    let cluster = tempdir("cluster");
    let _ = std::fs::remove_dir_all(&cluster);
    let Some(url) = test_database(&cluster) else {
        eprintln!("FANLI_TEST_DATABASE_URL is not set: no cluster to test");
        return;
    };
    let (mut first, a) = serve_node(&cluster.join("a"), Some(&url));
    let (_, body) = http(a, "POST", "/v1/tenants", "crash-master", r#"{"id":"shop"}"#).unwrap();
    let key = json_of(&body)["owner_key"].as_str().unwrap().to_owned();
    let plan = "name = \"c\"\nsettle_after_days = 0\n[[mechanism]]\nid = \"q\"\nkind = \"queue\"\n\
                funding_rate = \"0.5\"\nrelease = \"when_funded\"\n";
    assert_eq!(http(a, "PUT", "/v1/plan", &key, plan).unwrap().0, 200);
    assert_eq!(http(a, "POST", "/v1/members", &key, r#"{"member":"A"}"#).unwrap().0, 200);
    for i in 0..20 {
        let order = format!(r#"{{"order":"o{i}","member":"A","amount":"10.00"}}"#);
        assert_eq!(http(a, "POST", "/v1/orders", &key, &order).unwrap().0, 200);
    }
    let (_, before) = http(a, "GET", "/v1/state", &key, "").unwrap();
    assert_eq!(json_of(&before)["members"]["A"]["spent"], "200.00");

    // The second node forwards the tenant's requests to the first, key and all (once its
    // leases' thread has read who serves what: `503` until then).
    let (mut second, b) = serve_node(&cluster.join("b"), Some(&url));
    let mut forwarded = (503, String::new());
    for _ in 0..50 {
        forwarded = http_head(b, "GET", "/v1/state", &key);
        if forwarded.0 != 503 {
            break;
        }
        std::thread::sleep(std::time::Duration::from_millis(100));
    }
    assert_eq!(forwarded.0, 200, "{}", forwarded.1);
    assert_eq!(http(b, "GET", "/v1/state", &key, "").unwrap().1, before, "the owner's answer");

    // The first node dies; within seconds the second serves the tenant, with all of it.
    first.kill().unwrap();
    first.wait().unwrap();
    let mut after = None;
    for _ in 0..100 {
        match http(b, "GET", "/v1/state", &key, "") {
            Some((200, state)) => {
                after = Some(state);
                break;
            }
            Some((503, _)) | None => std::thread::sleep(std::time::Duration::from_millis(100)),
            Some((status, body)) => panic!("{status}: {body}"),
        }
    }
    let after = after.expect("the second node took the tenant over within 10 s");
    assert_eq!(after, before);
    let order = r#"{"order":"o20","member":"A","amount":"10.00"}"#;
    assert_eq!(http(b, "POST", "/v1/orders", &key, order).unwrap().0, 200);
    let (_, state) = http(b, "GET", "/v1/state", &key, "").unwrap();
    second.kill().unwrap();
    second.wait().unwrap();
    assert_eq!(json_of(&state)["members"]["A"]["spent"], "210.00");
}

/// One request without a body: the status and the response's head.
fn http_head(addr: std::net::SocketAddr, method: &str, path: &str, key: &str) -> (u16, String) {
    use std::io::{Read, Write};
    let mut stream = std::net::TcpStream::connect(addr).unwrap();
    stream.set_read_timeout(Some(std::time::Duration::from_secs(10))).unwrap();
    let request = format!(
        "{method} {path} HTTP/1.1\r\nHost: t\r\nAuthorization: Bearer {key}\r\nConnection: close\r\n\r\n"
    );
    stream.write_all(request.as_bytes()).unwrap();
    let mut response = String::new();
    stream.read_to_string(&mut response).unwrap();
    let head = response.split_once("\r\n\r\n").map_or(response.as_str(), |(h, _)| h).to_owned();
    (response[9..12].parse().unwrap(), head)
}

fn json_of(body: &str) -> Value {
    serde_json::from_str(body).unwrap_or_else(|e| panic!("{e}: {body}"))
}

/// Seed 001's appreciation at `funding`.
fn seed_appreciation(funding: &str) -> String {
    std::fs::read_to_string(cases().join("seed_appr.toml"))
        .unwrap()
        .replace("\"0.30\"", &format!("\"{funding}\""))
}

#[test]
fn an_amendment_in_the_log_runs_traces_chains_and_verifies() {
    let dir = tempdir("amend");
    let plan = dir.join("plan.toml");
    std::fs::write(&plan, seed_appreciation("0.30")).unwrap();
    let amend = serde_json::json!({
        "at": "2026-01-01T09:03:00+08:00", "type": "amend_plan",
        "effective_at": "2026-01-01T09:03:00+08:00", "plan": seed_appreciation("0.40"),
    });
    let events = dir.join("events.jsonl");
    std::fs::write(
        &events,
        format!(
            "{}\n{amend}\n{}\n",
            std::fs::read_to_string(case("seed_appr", "jsonl")).unwrap().lines().take(6).collect::<Vec<_>>().join("\n"),
            r#"{"at":"2026-01-01T09:04:00+08:00","type":"order","order":"o9","member":"m0","amount":"1000.00"}"#
        ),
    )
    .unwrap();
    let (plan, events) = (plan.to_str().unwrap(), events.to_str().unwrap());
    let output = fanli(&["run", plan, events, "--json"]);
    assert_eq!(output.status.code(), Some(0), "{}", String::from_utf8_lossy(&output.stderr));
    let state = json(&output);
    // m0's second order funds 400 at the price 900 / 481.95: 0.70 × 400 × 481.95 / 900 = 149.94.
    assert_eq!(state["members"]["m0"]["points"]["appr"], "359.9400");
    assert_eq!(state["mechanisms"]["appr"]["pool"], "1300.00");
    let trace = json(&fanli(&["run", plan, events, "--json", "--trace"]));
    let effects = &trace["events"][6]["effects"];
    assert_eq!(
        effects[0],
        serde_json::json!({"effect": "plan_amended", "effective_at": "2026-01-01T01:03:00Z"})
    );
    // The log keeps the plan's text; a replay reads the same amendment.
    let log = dir.join("chain.jsonl");
    let output = fanli(&["run", plan, events, "--chain", log.to_str().unwrap()]);
    assert_eq!(output.status.code(), Some(0));
    assert!(std::fs::read_to_string(&log).unwrap().contains("funding_rate = \\\"0.40\\\""));
    let (code, text) = verify(plan, &log, None);
    assert_eq!(code, Some(0), "{text}");
    assert!(text.contains("verified: 8 lines chained and replayed"), "{text}");
}

#[test]
fn check_against_the_running_plan_shows_what_an_amendment_changes_for_its_members() {
    let dir = tempdir("against");
    let old = case("seed_queue", "toml");
    let log = case("seed_queue", "jsonl");
    let lower = dir.join("lower.toml");
    std::fs::write(&lower, std::fs::read_to_string(&old).unwrap().replace("\"0.50\"", "\"0.40\"")).unwrap();
    let output = fanli(&["check", lower.to_str().unwrap(), "--against", &old, "--log", &log, "--json"]);
    assert_eq!(output.status.code(), Some(0), "{}", String::from_utf8_lossy(&output.stderr));
    let amendment = json(&output)["amendment"].clone();
    // Less funding lowers what members can earn: it takes effect after the plan's 7 days'
    // notice, counted from the log's last event (B's order at 09:01 on 1 January, +08:00).
    assert_eq!(amendment["effective_at"], "2026-01-08T01:01:00Z");
    assert_eq!(amendment["members"], 2);
    assert_ne!(amendment["total"]["old"], amendment["total"]["new"]);
    // Another kind for the queue's id: refused, with the engine's code, and exit 1.
    let other = dir.join("other.toml");
    let appreciation = std::fs::read_to_string(case("seed_appr", "toml")).unwrap();
    std::fs::write(&other, appreciation.replace("id = \"appr\"", "id = \"union\"")).unwrap();
    let output = fanli(&["check", other.to_str().unwrap(), "--against", &old, "--log", &log, "--json"]);
    assert_eq!(output.status.code(), Some(1));
    assert_eq!(json(&output)["amendment"]["refused"]["code"], "kind_changed");
    let output = fanli(&["check", other.to_str().unwrap(), "--against", &old, "--log", &log]);
    let text = String::from_utf8_lossy(&output.stdout);
    assert!(text.contains("refused as an amendment of the running plan"), "{text}");
}

/// `fanli audit sign`'s head over `lines` (written to NAME.jsonl), saved as NAME.head.json.
fn signed_head(dir: &Path, name: &str, lines: &[String]) -> (PathBuf, PathBuf) {
    let log = dir.join(format!("{name}.jsonl"));
    std::fs::write(&log, lines.join("\n") + "\n").unwrap();
    let secret = dir.join("keys/acme.ed25519");
    let output = fanli(&[
        "audit",
        "sign",
        log.to_str().unwrap(),
        "--secret",
        secret.to_str().unwrap(),
        "--tenant",
        "acme",
    ]);
    assert_eq!(output.status.code(), Some(0), "{}", String::from_utf8_lossy(&output.stderr));
    let head = dir.join(format!("{name}.head.json"));
    std::fs::write(&head, &output.stdout).unwrap();
    (log, head)
}

#[test]
fn a_signed_head_finds_the_newest_line_altered_or_cut_off_and_proofs_check_with_the_key_only() {
    let (plan, log, _) = chained_example("transparency");
    let dir = log.parent().unwrap().to_owned();
    let lines: Vec<String> = std::fs::read_to_string(&log).unwrap().lines().map(str::to_owned).collect();
    assert_eq!(lines.len(), 21);
    let (older_log, older) = signed_head(&dir, "older", &lines[..10]);
    let (_, head) = signed_head(&dir, "all", &lines);
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(dir.join("keys/acme.ed25519")).unwrap().permissions().mode();
        assert_eq!(mode & 0o777, 0o600);
    }
    let head_json: Value = serde_json::from_str(&std::fs::read_to_string(&head).unwrap()).unwrap();
    assert_eq!((head_json["tenant"].as_str(), head_json["size"].as_u64()), (Some("acme"), Some(21)));
    let key = head_json["public_key"].as_str().unwrap().to_owned();
    let verify_head = |log: &Path, heads: &[&Path]| {
        let mut args = vec!["audit", "verify", log.to_str().unwrap(), "--plan", &plan, "--key", &key];
        for head in heads {
            args.extend(["--head", head.to_str().unwrap()]);
        }
        let output = fanli(&args);
        let text =
            String::from_utf8_lossy(&output.stdout).into_owned() + &String::from_utf8_lossy(&output.stderr);
        (output.status.code(), text)
    };
    let (code, text) = verify_head(&log, &[&head]);
    assert_eq!(code, Some(0), "{text}");
    assert!(text.contains("verified: 21 lines chained and replayed; head "), "{text}");
    assert!(
        text.contains(&format!(
            "signed: the first 21 lines hash to the root signed at {} by {key}; 0 lines after it",
            head_json["time"].as_str().unwrap()
        )),
        "{text}"
    );
    // The older head holds too: 11 lines after it.
    let (code, text) = verify_head(&log, &[&older]);
    assert!(
        code == Some(0)
            && text.contains("the first 10 lines hash to the root")
            && text.contains("11 lines after it"),
        "{text}"
    );
    // The newest line altered: the chain cannot see it (nothing follows), the signed head does.
    // (Its day's report is left out here, so only the tree can tell.)
    let mut last = lines.clone();
    last[20] = last[20].replace("T16:00:00Z", "T16:00:01Z");
    let altered = dir.join("last.jsonl");
    std::fs::write(&altered, last.join("\n") + "\n").unwrap();
    let output = fanli(&["audit", "verify", altered.to_str().unwrap()]);
    assert_eq!(output.status.code(), Some(0), "the chain alone does not see it");
    let (code, text) = verify_head(&altered, &[&head]);
    assert_eq!(code, Some(1), "{text}");
    assert!(text.contains("fanli: a line from 1 to 21 was altered, inserted or removed: the first 21 lines do not hash to the root signed at"), "{text}");
    assert!(
        text.contains(
            "the chain holds, so line 21 was edited or every line from an earlier one on was rewritten"
        ),
        "{text}"
    );
    // With the head signed before the last commit (here: of 20 lines), the line is named.
    let (_, before_last) = signed_head(&dir, "before-last", &lines[..20]);
    let (code, text) = verify_head(&altered, &[&head, &before_last]);
    assert_eq!(code, Some(1), "{text}");
    assert!(
        text.contains("fanli: line 21 was altered: the first 21 lines do not hash to the root signed at"),
        "{text}"
    );
    assert!(text.contains("the first 20 do\n"), "{text}");
    // The last 11 lines cut off: named.
    let (code, text) = verify_head(&older_log, &[&older, &head]);
    assert_eq!(code, Some(1), "{text}");
    assert!(
        text.contains("truncated: the log has 10 lines, the head signed at")
            && text.contains("lines 11 to 21 are missing (11 lines removed)"),
        "{text}"
    );
    // A head signed by another key is refused.
    let (code, text) = {
        let output = fanli(&[
            "audit",
            "verify",
            log.to_str().unwrap(),
            "--head",
            head.to_str().unwrap(),
            "--key",
            &"ab".repeat(32),
        ]);
        (output.status.code(), String::from_utf8_lossy(&output.stderr).into_owned())
    };
    assert!(code == Some(1) && text.contains("not the one trusted"), "{text}");

    // Line 5's inclusion proof, checked with the head alone.
    let output =
        fanli(&["audit", "prove", log.to_str().unwrap(), "--line", "5", "--head", head.to_str().unwrap()]);
    assert_eq!(output.status.code(), Some(0), "{}", String::from_utf8_lossy(&output.stderr));
    let proof: Value = serde_json::from_slice(&output.stdout).unwrap();
    assert_eq!(
        (proof["proof"].as_str(), proof["line"].as_u64(), proof["size"].as_u64()),
        (Some("inclusion"), Some(5), Some(21))
    );
    assert_eq!(proof["event"].as_str(), Some(lines[4].as_str()));
    assert_eq!(proof["path"].as_array().unwrap().len(), 5);
    let proof_path = dir.join("proof.json");
    std::fs::write(&proof_path, &output.stdout).unwrap();
    let output = fanli(&[
        "audit",
        "check-proof",
        proof_path.to_str().unwrap(),
        "--head",
        head.to_str().unwrap(),
        "--key",
        &key,
    ]);
    assert_eq!(output.status.code(), Some(0), "{}", String::from_utf8_lossy(&output.stderr));
    assert!(
        String::from_utf8_lossy(&output.stdout)
            .starts_with("proven: line 5 is in the tree of 21 lines signed at")
    );
    // The event changed in the proof: refused.
    let mut forged = proof.clone();
    forged["event"] = lines[5].clone().into();
    forged.as_object_mut().unwrap().remove("leaf");
    std::fs::write(&proof_path, forged.to_string()).unwrap();
    let output =
        fanli(&["audit", "check-proof", proof_path.to_str().unwrap(), "--head", head.to_str().unwrap()]);
    assert_eq!(output.status.code(), Some(1));
    assert!(
        String::from_utf8_lossy(&output.stderr)
            .contains("line 5 as given is not in the signed tree of 21 lines")
    );

    // The full head extends the older one.
    let output = fanli(&["audit", "prove", log.to_str().unwrap(), "--from-size", "10"]);
    assert_eq!(output.status.code(), Some(0), "{}", String::from_utf8_lossy(&output.stderr));
    std::fs::write(&proof_path, &output.stdout).unwrap();
    let output = fanli(&[
        "audit",
        "check-proof",
        proof_path.to_str().unwrap(),
        "--head",
        head.to_str().unwrap(),
        "--consistency",
        older.to_str().unwrap(),
    ]);
    assert_eq!(output.status.code(), Some(0), "{}", String::from_utf8_lossy(&output.stderr));
    assert!(String::from_utf8_lossy(&output.stdout).contains("proven: the tree of 21 lines signed at"));
    // A head over a rewritten older log does not extend to the newer head.
    let mut rewritten = lines[..10].to_vec();
    rewritten[3] = rewritten[3].replace("\"1000.00\"", "\"1000.01\"");
    let (_, forged_older) = signed_head(&dir, "rewritten", &rewritten);
    let output = fanli(&[
        "audit",
        "check-proof",
        proof_path.to_str().unwrap(),
        "--head",
        head.to_str().unwrap(),
        "--old",
        forged_older.to_str().unwrap(),
    ]);
    assert_eq!(output.status.code(), Some(1));
    assert!(
        String::from_utf8_lossy(&output.stderr).contains("does not extend the one of 10"),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
}

#[test]
fn audit_verify_data_finds_the_newest_event_altered_and_the_last_73_deleted() {
    let dir = tempdir("verify-store-signed");
    let _ = std::fs::remove_dir_all(&dir);
    let (mut child, addr) = serve_node(&dir, None);
    let (_, body) = http(addr, "POST", "/v1/tenants", "crash-master", r#"{"id":"shop"}"#).unwrap();
    let key = json_of(&body)["owner_key"].as_str().unwrap().to_owned();
    let plan = std::fs::read_to_string(case("seed_refer", "toml")).unwrap();
    assert_eq!(http(addr, "PUT", "/v1/plan", &key, &plan).unwrap().0, 200);
    let events = std::fs::read_to_string(case("seed_refer", "jsonl")).unwrap();
    assert_eq!(http(addr, "POST", "/v1/events", &key, &events).unwrap().0, 200);
    let joins: Vec<String> = (0..100)
        .map(|i| format!(r#"{{"at":"2026-01-02T01:00:00+08:00","type":"join","member":"m{i}"}}"#))
        .collect();
    assert_eq!(http(addr, "POST", "/v1/events", &key, &joins.join("\n")).unwrap().0, 200);
    let order =
        r#"{"at":"2026-01-02T02:00:00+08:00","type":"order","order":"last","member":"A","amount":"100.00"}"#;
    assert_eq!(http(addr, "POST", "/v1/events", &key, order).unwrap().0, 200);
    let (status, head) = http(addr, "GET", "/v1/audit/head", &key, "").unwrap();
    assert_eq!(status, 200, "{head}");
    std::fs::write(dir.join("head.json"), &head).unwrap();
    child.kill().unwrap();
    child.wait().unwrap();
    let data = dir.to_str().unwrap();
    let output = fanli(&["audit", "verify", "--data", data]);
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert_eq!(output.status.code(), Some(0), "{stdout}{}", String::from_utf8_lossy(&output.stderr));
    assert!(stdout.contains("shop: verified: 115 lines chained and replayed"), "{stdout}");
    assert!(stdout.contains("shop: signed: the first 115 lines hash to the root signed at "), "{stdout}");
    assert!(stdout.contains("(3 signed heads agree); 0 lines after it"), "{stdout}");
    // One byte of the last event: nothing follows it, so only the signed heads see it.
    let db = rusqlite::Connection::open(dir.join("fanli.sqlite3")).unwrap();
    let set = |from: &str, to: &str| {
        let sql = format!("UPDATE events SET line = replace(line, '\"{from}\"', '\"{to}\"') WHERE seq = 115");
        assert_eq!(db.execute(&sql, []).unwrap(), 1);
    };
    set("100.00", "100.01");
    let output = fanli(&["audit", "verify", "--data", data]);
    assert_eq!(output.status.code(), Some(1));
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        stderr.contains(
            "fanli: shop: line 115 was altered: the first 115 lines do not hash to the root signed at"
        ),
        "{stderr}"
    );
    set("100.01", "100.00");
    // The last 73 events deleted; with the head a member saved (--head), the same.
    assert_eq!(db.execute("DELETE FROM events WHERE seq > 42", []).unwrap(), 73);
    let output =
        fanli(&["audit", "verify", "--data", data, "--head", dir.join("head.json").to_str().unwrap()]);
    assert_eq!(output.status.code(), Some(1));
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(stderr.contains("fanli: shop: truncated: the log has 42 lines, the head signed at"), "{stderr}");
    assert!(stderr.contains("has 115: lines 43 to 115 are missing (73 lines removed)"), "{stderr}");
}
