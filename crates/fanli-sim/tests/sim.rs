//! The simulator: deterministic, replayable by `fanli run`, and right on plans whose outcome is
//! known by hand.

use fanli_engine::Engine;
use fanli_format::{parse_plan, run_stream, state_json};
use fanli_sim::{Scenario, Simulation, simulate};

/// A short scenario: `per_day` newcomers for `days` days then none until `total` days, each
/// buying once for 100.00, nobody referred, no repeats or refunds.
fn steady(per_day: u32, days: u32, total: u32) -> Scenario {
    Scenario::parse(&format!(
        "days = {total}\n[arrivals]\nstart = {per_day}\npeak = {per_day}\npeak_day = 1\nend = {per_day}\n\
         decline_day = 1\nstop_day = {}\n[members]\nreferral = 0\nfirst_order = 1\nrepeat = 0\nrefund = 0\n\
         [orders]\nkind = \"fixed\"\namount = \"100.00\"\n",
        days + 1
    ))
    .unwrap()
}

fn state(engine: &Engine, rejected: &[fanli_format::Rejected]) -> Vec<u8> {
    let mut out = Vec::new();
    state_json(engine, rejected, None, &mut out).unwrap();
    out
}

/// The simulation and its stream.
fn run(plan: &str, scenario: &Scenario) -> (Simulation, Vec<u8>) {
    let mut events = Vec::new();
    let sim = simulate(parse_plan(plan).unwrap(), scenario, &mut events, |_, _| {}).unwrap();
    (sim, events)
}

const ALL: &str = include_str!("../../../bench/plan-all.toml");

/// Compares `actual` with the file `tests/snapshots/NAME`, byte for byte. `UPDATE_EXPECT=1`
/// rewrites the file instead (never under CI, where a changed output must fail): read its diff
/// before committing it. A snapshot records what the report says; the hand-computed figures are
/// the plain asserts beside it.
fn assert_snapshot(name: &str, actual: &str) {
    let update = std::env::var_os("UPDATE_EXPECT").is_some();
    let ci = std::env::var("CI").is_ok_and(|v| !v.is_empty() && v != "false" && v != "0");
    assert!(!(update && ci), "UPDATE_EXPECT is set under CI: snapshots are re-blessed by hand, never in CI");
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/snapshots");
    if update {
        std::fs::create_dir_all(&dir).unwrap();
    }
    expect_test::expect_file![dir.join(name)].assert_eq(actual);
}

#[test]
fn the_same_seed_gives_the_same_bytes_and_another_seed_another_run() {
    let mut scenario = Scenario::default_scenario();
    scenario.days = 40;
    let ((a, a_events), (b, b_events)) = (run(ALL, &scenario), run(ALL, &scenario));
    assert_eq!(a_events, b_events);
    assert_eq!(a.days, b.days);
    assert!(a.rejected.is_empty(), "{:?}", a.rejected.first());
    scenario.seed += 1;
    assert_ne!(run(ALL, &scenario).1, a_events);
}

#[test]
fn fanli_run_on_the_generated_stream_reproduces_the_end_state() {
    let mut scenario = Scenario::default_scenario();
    scenario.days = 60;
    let (sim, events) = run(ALL, &scenario);
    let mut engine = Engine::new(parse_plan(ALL).unwrap());
    let outcome = run_stream(&mut engine, events.as_slice(), false).unwrap();
    assert!(outcome.rejected.is_empty());
    assert_eq!(state(&engine, &outcome.rejected), state(&sim.engine, &sim.rejected));
}

#[test]
fn a_plan_funded_beyond_its_promises_leaves_nobody_owed() {
    // A when_funded queue promising half of each order, funded with 60% of it.
    let plan = "name = \"funded\"\nsettle_after_days = 0\n[[mechanism]]\nid = \"q\"\nkind = \"queue\"\n\
                funding_rate = \"0.60\"\ncredit_ratio = \"0.5\"\nrelease = \"when_funded\"\n";
    let (sim, _) = run(plan, &steady(5, 20, 30));
    let outcomes = fanli_sim::report::outcomes(&sim);
    let summary = fanli_sim::report::summary(&sim, &outcomes, &[]);
    assert_eq!(summary["owed"], "0.00");
    assert_eq!(summary["still_waiting"], "0.00");
    assert_eq!(summary["paid"], "5000.00", "100 members × 50.00");
    assert!(summary["verdict"]["en"].as_str().unwrap().contains("nobody is left owed"), "{summary}");
    assert_eq!(summary["arrivals_stop_day"], 21);
    assert_snapshot("funded.summary.json", &format!("{summary:#}\n"));
}

#[test]
fn a_jin_san_bu_yi_queue_leaves_the_entries_no_newcomer_came_for() {
    // 进三补一: entry m makes the oldest waiting entry due when m − 1 is a multiple of 3. With
    // 100 entries, (100 − 1) / 3 = 33 become due (paid: the pool has 60% of every order for
    // 70% due); the other 67 wait for newcomers who never come.
    let plan = "name = \"jin san bu yi\"\nsettle_after_days = 0\n[[mechanism]]\nid = \"q\"\nkind = \"queue\"\n\
                funding_rate = \"0.60\"\nrelease = { every = 3, ratio = \"0.70\" }\n";
    let (sim, _) = run(plan, &steady(5, 20, 30));
    let dir = std::path::Path::new(env!("CARGO_TARGET_TMPDIR")).join("sim-jin-san-bu-yi");
    let summary = fanli_sim::report::write_all(&dir, &sim, &[]).unwrap();
    assert_eq!(summary["paid"], "2310.00", "33 × 70.00");
    assert_eq!(summary["still_waiting"], "4690.00", "67 × 70.00");
    assert_eq!(summary["made_whole"], 0);
    let en = summary["verdict"]["en"].as_str().unwrap();
    assert!(
        en.contains("Arrivals stop on day 21") && en.contains("4690.00 more is promised and still waiting"),
        "{en}"
    );
    // Every chart of the page marks day 21, the first day without arrivals, with its date.
    let html = std::fs::read_to_string(dir.join("report.html")).unwrap();
    let stop = format!("{} 起无新会员 · arrivals stop", sim.days[20].date);
    assert_eq!(html.matches(&stop).count(), 5, "members, pools, owed, waiting and paid");
    assert_eq!(html.matches("<g class=\"mark\">").count(), 5);
    // Three of the files a run writes (not the stream, the state or the page): the summary, what
    // each member got, and each day's figures.
    for file in ["summary.json", "outcomes.csv", "timeseries.csv"] {
        let text = std::fs::read_to_string(dir.join(file)).unwrap();
        assert_snapshot(&format!("jin-san-bu-yi.{file}"), &text);
    }
}

#[test]
fn the_report_is_one_html_page_with_every_chart() {
    let mut scenario = Scenario::default_scenario();
    scenario.days = 30;
    let (sim, _) = run(ALL, &scenario);
    let dir = std::path::Path::new(env!("CARGO_TARGET_TMPDIR")).join("sim-report");
    let summary = fanli_sim::report::write_all(&dir, &sim, &[]).unwrap();
    let html = std::fs::read_to_string(dir.join("report.html")).unwrap();
    assert!(html.starts_with("<!DOCTYPE html>") && html.trim_end().ends_with("</html>"));
    assert_eq!(html.matches("<svg").count(), html.matches("</svg>").count());
    for title in [
        "资金池 · Pools",
        "Owed and unpaid",
        "Appreciation price",
        "Share made whole by join cohort",
        "Members and daily orders",
    ] {
        assert!(html.contains(title), "{title}");
    }
    assert!(html.contains(summary["verdict"]["zh"].as_str().unwrap()));
    // The x axes are the scenario's dates, from its first day.
    let first = &sim.days[0].date;
    assert!(html.contains(&format!("text-anchor=\"middle\">{first}</text>")), "{first}");
    assert!(!html.contains("day 1"));
    assert!(
        !html.contains("http://")
            || html.matches("http://").count() == html.matches("http://www.w3.org/2000/svg").count(),
        "no network"
    );
    let csv = std::fs::read_to_string(dir.join("timeseries.csv")).unwrap();
    assert_eq!(csv.lines().count(), 31, "a header and 30 days");
}

#[test]
fn lognormal_amounts_centre_on_their_median() {
    let scenario = Scenario::parse(
        "days = 20\n[arrivals]\nstart = 50\npeak = 50\npeak_day = 1\nend = 50\ndecline_day = 1\nstop_day = 100\n\
         [members]\nreferral = 0\nfirst_order = 1\nrepeat = 0\nrefund = 0\n\
         [orders]\nkind = \"lognormal\"\nmedian = \"300.00\"\nsigma = \"0.8\"\nmax = \"5000.00\"\n",
    )
    .unwrap();
    let plan = "name = \"p\"\nsettle_after_days = 0\n[[mechanism]]\nid = \"q\"\nkind = \"queue\"\n\
                funding_rate = \"0.1\"\nrelease = \"when_funded\"\n";
    let (_, events) = run(plan, &scenario);
    let mut amounts: Vec<f64> = String::from_utf8(events)
        .unwrap()
        .lines()
        .filter_map(|l| l.split("\"amount\":\"").nth(1))
        .map(|a| a.trim_end_matches("\"}").parse().unwrap())
        .collect();
    amounts.sort_by(f64::total_cmp);
    assert_eq!(amounts.len(), 1000);
    let median = amounts[500];
    assert!((250.0..360.0).contains(&median), "median {median}");
    // e^(0.8 × 1.2816) ≈ 2.79: the 90th percentile near 837.
    let p90 = amounts[900];
    assert!((650.0..1050.0).contains(&p90), "p90 {p90}");
    assert!(amounts.iter().all(|&a| (0.01..=5000.0).contains(&a)));
}

#[test]
fn arrivals_may_be_a_table_day_by_day() {
    let scenario =
        Scenario::parse("days = 5\n[arrivals]\ntable = [3, 0, 2]\n[members]\nreferral = 0\n").unwrap();
    let plan = "name = \"p\"\nsettle_after_days = 0\n[[mechanism]]\nid = \"q\"\nkind = \"queue\"\n\
                funding_rate = \"0.1\"\nrelease = \"when_funded\"\n";
    let (sim, _) = run(plan, &scenario);
    let joined: Vec<u64> = sim.days.iter().map(|d| d.joined).collect();
    assert_eq!(joined, [3, 0, 2, 0, 0]);
    assert_eq!(sim.arrivals_stop, Some(4));
}
