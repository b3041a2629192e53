//! The simulator: deterministic, replayable by `fanli run`, and right on plans whose outcome is
//! known by hand.

use fanli_engine::Engine;
use fanli_format::{parse_plan, run_stream, state_json};
use fanli_sim::{Scenario, Simulation, simulate, simulate_checked};

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

/// The simulator builds each event from the values it draws and writes the line from the same
/// values, without reading the line back: `simulate_checked` reads every line with `fanli
/// run`'s reader and panics at the first that reads as another event than the one applied.
/// Here on every kind of line it writes, with names it must escape (a replayed log's members, a
/// reward; a partner's id cannot need it), and `fanli run` on the log and the stream ends
/// where the simulation did.
#[test]
fn every_generated_line_reads_back_as_the_event_applied_and_replays_to_the_same_state() {
    let plan = ALL.replace(r#"name = "drink""#, r#"name = "tea\\coffee""#);
    assert_ne!(plan, ALL);
    let log = [
        r#"{"at":"2025-12-30T10:00:00+08:00","type":"join","member":"张\"三\\"}"#,
        r#"{"at":"2025-12-30T10:00:01+08:00","type":"order","order":"first","member":"张\"三\\","amount":"300.00"}"#,
        r#"{"at":"2025-12-30T10:00:02+08:00","type":"join","member":"li\u0073i","referrer":"张\"三\\"}"#,
        r#"{"at":"2025-12-31T00:00:00+08:00","type":"close_day"}"#,
    ]
    .join("\n")
        + "\n";
    let mut scenario = Scenario::default_scenario();
    scenario.days = 60;
    for from_log in [false, true] {
        let mut engine = Engine::new(parse_plan(&plan).unwrap());
        if from_log {
            let outcome = run_stream(&mut engine, log.as_bytes(), false).unwrap();
            assert!(outcome.rejected.is_empty(), "{:?}", outcome.rejected.first());
        }
        let mut events = Vec::new();
        let sim = simulate_checked(engine, &scenario, &mut events, |_, _| {}).unwrap();
        assert!(sim.rejected.is_empty(), "{:?}", sim.rejected.first());
        let stream = String::from_utf8(events).unwrap();
        for shape in [
            r#""type":"join","member":"#,
            r#","referrer":"#,
            r#""type":"order","#,
            r#","partner":"bank""#,
            r#""type":"refund","#,
            r#""type":"sell","#,
            r#","reward":"tea\\coffee""#,
            r#","partner":"air","points":"#,
            r#""type":"ad_view","#,
            r#""type":"close_day""#,
        ] {
            assert!(stream.contains(shape), "no line with {shape}");
        }
        if from_log {
            assert!(stream.contains(r#""referrer":"张\"三\\""#) && stream.contains(r#""member":"lisi""#));
            assert!(stream.contains(r#""order":"sim-o0""#));
        }
        let mut replayed = Engine::new(parse_plan(&plan).unwrap());
        let both = if from_log { log.clone() + &stream } else { stream };
        let outcome = run_stream(&mut replayed, both.as_bytes(), false).unwrap();
        assert!(outcome.rejected.is_empty(), "{:?}", outcome.rejected.first());
        assert_eq!(state(&replayed, &outcome.rejected), state(&sim.engine, &sim.rejected));
    }
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
    // Everyone got the half promised; the pool keeps 60% − 50% of 10000.00 = 1000.00, 10% of the
    // spend: over 5%, not over 15%, a medium grade (docs/risk.md).
    let risk = &summary["risk"];
    assert_eq!((&risk["made_whole"], &risk["made_whole_grade"]), (&100.into(), &"low".into()));
    assert_eq!((&risk["unpaid"], &risk["unpaid_grade"]), (&"0.00".into(), &"low".into()));
    assert_eq!((&risk["pool_excess"], &risk["pool_excess_share"]), (&"1000.00".into(), &"0.1000".into()));
    assert_eq!((&risk["pool_excess_grade"], &risk["grade"]), (&"medium".into(), &"medium".into()));
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
        en.contains("Arrivals stop on day 21")
            && en.contains(
                "4690.00 promised to 67 members is unpaid, all of it waiting on future members' money"
            ),
        "{en}"
    );
    // The risk grade by hand: the 33 paid their 70.00 have nothing more promised (whole); the 67
    // wait: 33% made whole (< 50%: severe); 4690.00 of 10000.00 unpaid (46.9%: high); the pool
    // keeps 6000.00 − 2310.00 = 3690.00 (36.9% > 30%: severe). The worst: severe.
    let risk = &summary["risk"];
    assert_eq!((&risk["made_whole"], &risk["made_whole_share"]), (&33.into(), &"0.3300".into()));
    assert_eq!(
        (&risk["unpaid"], &risk["unpaid_members"], &risk["unpaid_share"]),
        (&"4690.00".into(), &67.into(), &"0.4690".into())
    );
    assert_eq!((&risk["pool_excess"], &risk["pool_excess_share"]), (&"3690.00".into(), &"0.3690".into()));
    let grades =
        ["made_whole_grade", "unpaid_grade", "pool_excess_grade", "grade"].map(|k| risk[k].as_str().unwrap());
    assert_eq!(grades, ["severe", "high", "severe", "severe"]);
    // Every chart of the page marks day 21, the first day without arrivals, with its date.
    let html = std::fs::read_to_string(dir.join("report.html")).unwrap();
    let stop = format!("{} 起无新会员", sim.days[20].date);
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
    for title in ["资金池", "拖欠", "增值价格", "各批次回本比例", "会员与每日订单"] {
        assert!(html.contains(title), "{title}");
    }
    assert!(html.contains(summary["verdict"]["zh"].as_str().unwrap()));
    // The risk grade, in Chinese (the page is Chinese first), with its sentence.
    let grade = summary["risk"]["grade"].as_str().unwrap();
    let grade_zh = fanli_sim::risk::Grade::from_code(grade).unwrap().zh();
    assert!(
        html.contains(&format!("<section id=\"risk\" data-grade=\"{grade}\"><h2>风险等级：{grade_zh}</h2>")),
        "{html}"
    );
    assert!(html.starts_with("<!DOCTYPE html><html lang=\"zh-CN\">"));
    let unpaid = format!(
        "未兑付的承诺共 {} 元，涉及 {} 名会员",
        summary["risk"]["unpaid"].as_str().unwrap(),
        summary["risk"]["unpaid_members"]
    );
    assert!(html.contains(&unpaid), "{unpaid}");
    assert!(html.contains(summary["risk"]["sentence"]["zh"].as_str().unwrap()));
    assert!(!html.contains(summary["risk"]["sentence"]["en"].as_str().unwrap()), "one language");
    // The same report in English, as the console's English page shows it.
    let (english, _) = fanli_sim::report::report_fragment_in(&sim, &[], fanli_sim::report::Lang::En);
    let english = english.into_string();
    assert!(english.contains(summary["risk"]["sentence"]["en"].as_str().unwrap()));
    assert!(english.contains(summary["verdict"]["en"].as_str().unwrap()));
    assert!(english.contains(&format!("<h2>Risk grade: {grade}</h2>")), "{english}");
    for title in ["Pools", "Owed and unpaid", "Share made whole by join cohort", "Members and daily orders"] {
        assert!(english.contains(title), "{title}");
    }
    assert!(!english.contains("资金池"), "{english}");
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

/// A 推三返一 plan (steps 10%, 20%, 70% of a 1000.00 base, 40% of each order into its pool).
const REFER_THREE: &str = "name = \"refer three\"\nsettle_after_days = 0\n[[mechanism]]\nid = \"r3\"\n\
    kind = \"refer_refund\"\nfunding_rate = \"0.40\"\nqualify_min = \"100.00\"\nreferee_min = \"100.00\"\n\
    steps = [\"10%\", \"20%\", \"70%\"]\nrepeat = true\n";

#[test]
fn a_refer_refund_plan_nobody_refers_in_is_severe_and_its_verdict_counts_what_waits() {
    // 100 members buy 100.00 each and refer nobody: each waits for the three steps, 100.00, that
    // only members they would bring could pay. Before the risk grade the verdict said "every
    // promise has been paid: nobody is left owed" (issue 18).
    let (sim, _) = run(REFER_THREE, &steady(5, 20, 30));
    let outcomes = fanli_sim::report::outcomes(&sim);
    assert!(outcomes.iter().all(|o| o.waiting == fanli_engine::Money::from_fen(10_000)));
    let summary = fanli_sim::report::summary(&sim, &outcomes, &[]);
    assert_eq!((&summary["owed"], &summary["members_owed"]), (&"0.00".into(), &0.into()));
    let en = summary["verdict"]["en"].as_str().unwrap();
    assert_eq!(
        en,
        "Arrivals stop on day 21; at the end of the run, 10000.00 promised to 100 members is unpaid, \
         all of it waiting on future members' money (queued, unreleased, quota left, referral refunds or appreciation up to its exit); \
         the members who joined on days 1–30 carry most of it (10000.00 unpaid)."
    );
    let zh = summary["verdict"]["zh"].as_str().unwrap();
    assert!(
        zh.contains("仍有 100 名会员共 10000.00 元的承诺未兑付") && !zh.contains("0 名会员共 0.00 元"),
        "{zh}"
    );
    // Nobody whole (0%), all of the spend unpaid (100%), 40% of it in the pool: severe thrice.
    let risk = &summary["risk"];
    let grades =
        ["made_whole_grade", "unpaid_grade", "pool_excess_grade", "grade"].map(|k| risk[k].as_str().unwrap());
    assert_eq!(grades, ["severe"; 4]);
    assert_eq!((&risk["unpaid_share"], &risk["pool_excess"]), (&"1.0000".into(), &"4000.00".into()));
    assert_eq!(risk["grade_zh"], "极高");
    assert!(risk["sentence"]["zh"].as_str().unwrap().starts_with("极高风险"));
}

/// The risk of the engine after `events` (a hand-written stream), every member having joined on
/// day 1.
fn risk_after(plan: &str, events: &str) -> fanli_sim::risk::Risk {
    let mut engine = Engine::new(parse_plan(plan).unwrap());
    let outcome = run_stream(&mut engine, events.as_bytes(), false).unwrap();
    assert!(outcome.rejected.is_empty(), "{:?}", outcome.rejected.first());
    let sim = Simulation {
        joined: vec![1; engine.member_count()],
        engine,
        lines: 0,
        days: Vec::new(),
        arrivals_stop: None,
        rejected: Vec::new(),
    };
    fanli_sim::risk::Risk::of(&sim.engine, &fanli_sim::report::outcomes(&sim))
}

#[test]
fn the_risk_of_a_refer_refund_round_by_hand_with_shares_on_the_thresholds() {
    use fanli_engine::Money;
    use fanli_sim::risk::Grade;
    let mut events = String::new();
    for (i, (member, referrer)) in [("A", ""), ("B", "A"), ("C", "A"), ("D", "A")].into_iter().enumerate() {
        let referrer =
            if referrer.is_empty() { String::new() } else { format!(",\"referrer\":\"{referrer}\"") };
        events += &format!(
            "{{\"at\":\"2026-01-01T09:0{i}:00+08:00\",\"type\":\"join\",\"member\":\"{member}\"{referrer}}}\n\
             {{\"at\":\"2026-01-01T09:0{i}:30+08:00\",\"type\":\"order\",\"order\":\"o{i}\",\"member\":\"{member}\",\"amount\":\"1000.00\"}}\n"
        );
    }
    let three = events.lines().take(6).map(|l| format!("{l}\n")).collect::<String>();
    // After A, B, C: A is paid 10% + 20% = 300.00 and waits for 700.00; B and C wait for 1000.00
    // each. Nobody whole; 2700.00 of 3000.00 unpaid (90%); the pool 3 × 400.00 − 300.00 = 900.00,
    // exactly 30% of the spend: still high, not severe.
    let risk = risk_after(REFER_THREE, &three);
    assert_eq!((risk.spenders, risk.made_whole), (3, 0));
    assert_eq!((risk.unpaid, risk.unpaid_members), (Money::from_yuan(2_700), 3));
    assert_eq!(risk.pool_excess, Money::from_yuan(900));
    assert_eq!(
        [risk.made_whole_grade(), risk.unpaid_grade(), risk.pool_excess_grade(), risk.grade],
        [Grade::Severe, Grade::Severe, Grade::High, Grade::Severe]
    );
    // D's order pays A the last 70%: A's round is complete (paid back 1000.00, whole) and the next
    // round is an offer, not a promise. 1 of 4 whole (25%), B, C and D wait for 3000.00 (75%), the
    // pool keeps 1600.00 − 1000.00 = 600.00: exactly 15%, medium.
    let risk = risk_after(REFER_THREE, &events);
    assert_eq!((risk.spenders, risk.made_whole), (4, 1));
    assert_eq!((risk.unpaid, risk.unpaid_members), (Money::from_yuan(3_000), 3));
    assert_eq!(risk.pool_excess, Money::from_yuan(600));
    assert_eq!(
        [risk.made_whole_grade(), risk.unpaid_grade(), risk.pool_excess_grade(), risk.grade],
        [Grade::Severe, Grade::Severe, Grade::Medium, Grade::Severe]
    );
}

#[test]
fn a_plain_loyalty_plan_is_low_risk() {
    // A point a yuan, nothing promised beyond the points (redeemable now), 1% of each order into
    // the pool that cashes them: 100.00 of 10000.00, 1%.
    let plan = "name = \"points\"\nsettle_after_days = 0\n[[mechanism]]\nid = \"pts\"\nkind = \"loyalty\"\n\
                funding_rate = \"0.01\"\nearn = { per_yuan = \"1\", per_order = \"0\" }\n\
                rewards = [{ name = \"coffee\", points = \"50\" }]\n";
    let (sim, _) = run(plan, &steady(5, 20, 30));
    let summary = fanli_sim::report::summary(&sim, &fanli_sim::report::outcomes(&sim), &[]);
    let risk = &summary["risk"];
    assert_eq!((&risk["made_whole"], &risk["unpaid"]), (&100.into(), &"0.00".into()));
    assert_eq!((&risk["pool_excess"], &risk["pool_excess_share"]), (&"100.00".into(), &"0.0100".into()));
    assert_eq!((&risk["grade"], &risk["grade_zh"]), (&"low".into(), &"低".into()));
    assert_eq!(risk["sentence"]["en"].as_str().unwrap(), fanli_sim::risk::Grade::Low.sentence().1);
}

#[test]
fn an_appreciation_member_waits_for_the_exit_price_or_for_their_spend() {
    use fanli_engine::Money;
    // Seed 001: A's 1000.00 puts 300.00 in the pool and mints 210 points, a point 300/210 yuan:
    // A's points are worth 300.00 now. With exit_multiple = 3 they are sold out at 3 × 1000.00 =
    // 3000.00 (exit price 3000/210), and that comes only from later orders: 2700.00 waits.
    // Without an exit, the spend not back waits: 1000.00 − 300.00 = 700.00.
    let plan = |exit: &str| {
        format!(
            "name = \"appr\"\nsettle_after_days = 0\n[[mechanism]]\nid = \"appr\"\nkind = \"appreciation\"\n\
             funding_rate = \"0.30\"\nmint_ratio = \"0.70\"\ninitial_price = \"1.00\"\nsell_fee = \"0.20\"\n{exit}"
        )
    };
    let events = "{\"at\":\"2026-01-01T09:00:00+08:00\",\"type\":\"join\",\"member\":\"A\"}\n\
                  {\"at\":\"2026-01-01T09:00:01+08:00\",\"type\":\"order\",\"order\":\"a\",\"member\":\"A\",\"amount\":\"1000.00\"}\n";
    let with_exit = risk_after(&plan("exit_multiple = \"3\"\n"), events);
    let without = risk_after(&plan(""), events);
    assert_eq!((with_exit.unpaid, without.unpaid), (Money::from_yuan(2_700), Money::from_yuan(700)));
    // The pool is A's points' value, owed to nobody: 300.00 of 1000.00, exactly 30%, high; A is
    // not whole and 270% of the spend waits: severe.
    use fanli_sim::risk::Grade;
    assert_eq!((with_exit.pool_excess, with_exit.pool_excess_grade()), (Money::from_yuan(300), Grade::High));
    assert_eq!(
        (with_exit.made_whole, with_exit.unpaid_grade(), with_exit.grade),
        (0, Grade::Severe, Grade::Severe)
    );
}
