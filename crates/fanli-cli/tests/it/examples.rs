//! `examples/`: one documented plan and stream per scheme of the seeds. Each plan passes `fanli
//! check`, each stream runs clean, and the figures each plan's comments promise (worked by
//! hand there) are what `fanli run --json` prints.

use std::path::PathBuf;

use serde_json::Value;

use super::{fanli, json};

fn examples() -> PathBuf {
    [env!("CARGO_MANIFEST_DIR"), "..", "..", "examples"].iter().collect()
}

fn example(name: &str, file: &str) -> String {
    examples().join(name).join(file).to_str().unwrap().to_owned()
}

/// `fanli check` allows the plan (exit 0) and `fanli run --json` applies every line: the state.
fn checked_and_run(name: &str) -> Value {
    let check = fanli(&["check", &example(name, "plan.toml")]);
    assert_eq!(check.status.code(), Some(0), "{name}: {}", String::from_utf8_lossy(&check.stdout));
    assert!(String::from_utf8_lossy(&check.stdout).contains("0 error(s)"), "{name}");
    let run = fanli(&["run", &example(name, "plan.toml"), &example(name, "events.jsonl"), "--json"]);
    assert_eq!(run.status.code(), Some(0), "{name}: {}", String::from_utf8_lossy(&run.stderr));
    let state = json(&run);
    assert_eq!(state["rejected"], serde_json::json!([]), "{name}");
    assert_eq!(state["accounts_balance"], true, "{name}");
    state
}

#[test]
fn every_scheme_of_the_seeds_has_an_example() {
    let mut names: Vec<String> = std::fs::read_dir(examples())
        .unwrap()
        .filter_map(|e| {
            let e = e.unwrap();
            e.file_type().unwrap().is_dir().then(|| e.file_name().into_string().unwrap())
        })
        .collect();
    names.sort();
    assert_eq!(
        names,
        [
            "ad_tasks",
            "appreciation",
            "coalition",
            "cycle",
            "distribution",
            "green_points",
            "loyalty",
            "queue",
            "refer_refund"
        ]
    );
    for name in &names {
        let plan = std::fs::read_to_string(example(name, "plan.toml")).unwrap();
        assert!(plan.contains("/work/shared/seeds/"), "{name} cites its seed");
        assert!(plan.contains(&format!("kind = \"{name}\"")), "{name} is an example of its kind");
        checked_and_run(name);
    }
}

#[test]
fn appreciation_mints_and_a_sale_leaves_its_fee_in_the_pool() {
    let s = checked_and_run("appreciation");
    // 300 + 300 + 300 + 1100 injected − 697.16 paid; 481.95 − 210 points.
    assert_eq!(s["mechanisms"]["appr"]["pool"], "1302.84");
    assert_eq!(s["mechanisms"]["appr"]["price"], "4.7907");
    assert_eq!(s["members"]["m0"]["wallet"], "697.16", "80% of 210 × 4.1498");
    assert_eq!(s["members"]["m1"]["points"]["appr"], "147.0000");
    assert_eq!(s["members"]["m2"]["points"]["appr"], "124.9500");
}

#[test]
fn refer_three_refunds_the_order_twice_over_six_referrals() {
    let s = checked_and_run("refer_refund");
    assert_eq!(s["members"]["A"]["wallet"], "2000.00", "(100 + 200 + 700) × 2");
    assert_eq!(s["mechanisms"]["r3"]["pool"], "800.00", "40% of 7000 − 2000");
}

#[test]
fn every_third_entry_makes_the_oldest_due() {
    let s = checked_and_run("queue");
    assert_eq!(s["members"]["m1"]["wallet"], "70.00");
    assert_eq!(s["members"]["m2"]["wallet"], "70.00");
    assert_eq!(s["members"]["m3"]["wallet"], "0.00");
    assert_eq!(s["mechanisms"]["q3"]["pool"], "210.00", "350 − 140");
    assert_eq!(s["mechanisms"]["q3"]["queued"], "350.00", "5 × 70");
}

#[test]
fn green_points_release_daily_with_the_uplines_share() {
    let s = checked_and_run("green_points");
    assert_eq!(s["members"]["A"]["wallet"], "216.00", "36 + 18, then 144 + 18");
    assert_eq!(s["members"]["B"]["wallet"], "72.00");
    assert_eq!(s["members"]["A"]["points"]["green"], "35784.0000", "36000 − 216");
    assert_eq!(s["mechanisms"]["green"]["pool"], "7212.00", "7500 − 288");
}

#[test]
fn cycle_pays_the_pool_out_by_shares() {
    let s = checked_and_run("cycle");
    assert_eq!(s["members"]["A"]["wallet"], "264.28", "214.28 + 50.00");
    assert_eq!(s["members"]["B"]["wallet"], "115.71", "85.71 + 30.00");
    assert_eq!(s["members"]["C"]["wallet"], "20.00");
    assert_eq!(s["mechanisms"]["cycle"]["pool"], "0.01");
}

#[test]
fn ad_views_release_task_points_by_band() {
    let s = checked_and_run("ad_tasks");
    assert_eq!(s["members"]["A"]["wallet"], "30.00", "3 views × 10");
    assert_eq!(s["members"]["A"]["points"]["ads"], "470.0000");
    assert_eq!(s["members"]["B"]["wallet"], "2.00");
    assert_eq!(s["mechanisms"]["ads"]["pool"], "1000.50", "25 + 1000 + 7.50 − 32");
}

#[test]
fn distribution_pays_referrers_agents_and_the_recruiter() {
    let s = checked_and_run("distribution");
    let wallets: Vec<&str> =
        ["B", "A", "X", "Y", "Z", "P"].iter().map(|m| s["members"][m]["wallet"].as_str().unwrap()).collect();
    assert_eq!(wallets, ["3.00", "2.00", "1.00", "1.00", "1.00", "5.00"]);
    assert_eq!(s["mechanisms"]["dist"]["returned"], "7.00", "20.00 − 13.00");
}

#[test]
fn loyalty_multiplies_by_tier_and_weekday_and_cashes_out() {
    let s = checked_and_run("loyalty");
    assert_eq!(s["members"]["A"]["points"]["cafe"], "272.0000", "600 + 120 + 100 + 2 − 50 − 500");
    assert_eq!(s["members"]["B"]["points"]["cafe"], "400.0000", "200 × 2 on a Wednesday");
    assert_eq!(s["members"]["A"]["wallet"], "5.00", "500 points at 10.00 a thousand");
    assert_eq!(s["members"]["A"]["credit"], "100.00");
    assert_eq!(s["mechanisms"]["cafe"]["pool"], "4.00", "1% of 900 − 5");
}

#[test]
fn coalition_settles_between_partners_by_month() {
    let s = checked_and_run("coalition");
    assert_eq!(s["members"]["A"]["points"]["miles"], "250.0000", "100 + 300 − 150");
    let settlement = &s["mechanisms"]["miles"]["settlement"];
    assert_eq!(settlement[0]["partner"], "bank");
    assert_eq!(settlement[0]["net"], "-10.00");
    assert_eq!(settlement[1]["partner"], "air");
    assert_eq!((&settlement[1]["issued"], &settlement[1]["net"]), (&"300.0000".into(), &"-15.00".into()));
}
