//! 消费增值: minting at the price before the order, selling with a fee, forced exits, 复投.

use fanli_engine::Engine;
use fanli_format::{parse_plan, run_stream};

use crate::run;

const SEED_001: &str = r#"
name = "seed 001"
settle_after_days = 0
[[mechanism]]
id = "appr"
kind = "appreciation"
funding_rate = "0.30"
mint_ratio = "0.70"
initial_price = "1.00"
sell_fee = "0.20"
exit_multiple = "3"
"#;

/// The price after each event line, from the trace (whose blank lines' entries are skipped).
fn prices(plan: &str, events: &str) -> Vec<String> {
    let mut engine = Engine::new(parse_plan(plan).unwrap());
    let stream = crate::timed(events);
    let outcome = run_stream(&mut engine, stream.as_bytes(), true).unwrap();
    let events = outcome.trace.iter().filter(|e| e.get("skipped").is_none());
    events.map(|e| e["price"].as_str().unwrap().to_owned()).collect()
}

#[test]
fn seed_001_mints_210_147_124_95_and_prices_rise() {
    let events = r#"
        {"type":"join","member":"m0"}
        {"type":"order","order":"o0","member":"m0","amount":"1000.00"}
        {"type":"join","member":"m1"}
        {"type":"order","order":"o1","member":"m1","amount":"1000.00"}
        {"type":"join","member":"m2"}
        {"type":"order","order":"o2","member":"m2","amount":"1000.00"}
    "#;
    let r = run(SEED_001, events);
    assert_eq!(r.member("m0")["points"]["appr"], "210.0000");
    assert_eq!(r.member("m1")["points"]["appr"], "147.0000");
    assert_eq!(r.member("m2")["points"]["appr"], "124.9500");
    assert_eq!(r.mechanism("appr")["pool"], "900.00");
    assert_eq!(r.mechanism("appr")["points"], "481.9500");
    let p = prices(SEED_001, events);
    assert_eq!([&p[1], &p[3], &p[5]], ["1.4286", "1.6807", "1.8674"]);
    // With exit 3×, member 0 exits when p ≥ 3000 / 210 = 14.29.
    assert_eq!(r.standing("m0", "appr")["exit_price"], "14.2857");
}

#[test]
fn seed_002_order_100_mints_67_86_at_5_17() {
    let plan = r#"
        name = "seed 002"
        settle_after_days = 0
        [[mechanism]]
        id = "appr"
        kind = "appreciation"
        funding_rate = "1"
        funding_base = "profit"
        mint_ratio = "0.70"
    "#;
    let events: String = (0..100)
        .map(|i| {
            format!(
                "{{\"type\":\"join\",\"member\":\"m{i}\"}}\n\
                 {{\"type\":\"order\",\"order\":\"o{i}\",\"member\":\"m{i}\",\"amount\":\"3800.00\",\"profit\":\"500.00\"}}\n"
            )
        })
        .collect();
    let r = run(plan, &events);
    assert_eq!(r.mechanism("appr")["pool"], "50000.00");
    assert_eq!(r.member("m99")["points"]["appr"], "67.8615");
    assert_eq!(r.mechanism("appr")["price"], "5.1731");
}

#[test]
fn seed_003_local_life_mints_112_and_exits_at_10_71() {
    // The store gives the platform 20% of a 1000 order: 20 platform, 20 distribution, 160 pool.
    let plan = r#"
        name = "seed 003"
        settle_after_days = 0
        [[mechanism]]
        id = "appr"
        kind = "appreciation"
        funding_rate = "0.16"
        mint_ratio = "0.70"
        exit_multiple = "1.2"
    "#;
    let events = r#"
        {"type":"join","member":"a"}
        {"type":"order","order":"1","member":"a","amount":"1000.00"}
        {"type":"join","member":"b"}
        {"type":"order","order":"2","member":"b","amount":"1000.00"}
        {"type":"join","member":"c"}
        {"type":"order","order":"3","member":"c","amount":"1000.00"}
    "#;
    let r = run(plan, events);
    assert_eq!(r.member("a")["points"]["appr"], "112.0000");
    assert_eq!(r.member("b")["points"]["appr"], "78.4000");
    assert_eq!(r.member("c")["points"]["appr"], "66.6400");
    assert_eq!(r.mechanism("appr")["price"], "1.8674");
    assert_eq!(r.standing("a", "appr")["exit_price"], "10.7143");
}

#[test]
fn seed_001_sell_at_9_52_pays_1600_and_leaves_400() {
    let events = r#"
        {"type":"join","member":"m1"}
        {"type":"order","order":"o1","member":"m1","amount":"1000.00"}
        {"type":"inject","mechanism":"appr","amount":"1700.00"}
        {"type":"sell","member":"m1","mechanism":"appr","points":"all"}
    "#;
    let p = prices(SEED_001, events);
    assert_eq!(p[2], "9.5238");
    let r = run(SEED_001, events);
    assert_eq!(r.get("m1", "wallet"), "1600.00");
    assert_eq!(r.mechanism("appr")["pool"], "400.00");
    assert_eq!(r.member("m1")["points"]["appr"], "0.0000");
    assert_eq!(r.mechanism("appr")["paid"], "1600.00");
}

#[test]
fn partial_sales_round_down_once_and_the_rest_stays() {
    // 210 points against a pool of 300: selling 100 is worth 142.857142…, 80% of it 114.285714…
    let events = r#"
        {"type":"join","member":"m0"}
        {"type":"order","order":"o0","member":"m0","amount":"1000.00"}
        {"type":"sell","member":"m0","mechanism":"appr","points":"100"}
        {"type":"sell","member":"m0","mechanism":"appr","points":"110.0001"}
        {"type":"sell","member":"m0","mechanism":"appr","points":"0.00001"}
    "#;
    let r = run(SEED_001, events);
    assert_eq!(r.get("m0", "wallet"), "114.28");
    assert_eq!(r.mechanism("appr")["pool"], "185.72");
    assert_eq!(r.member("m0")["points"]["appr"], "110.0000");
    assert_eq!(r.rejected_lines(), [5, 6]);
    assert_eq!(r.rejected[0].1, "member `m0` holds 110.0000 points of `appr`, cannot sell 110.0001");
    assert!(r.rejected[1].1.contains("more than 4 decimal places"), "{}", r.rejected[1].1);
}

#[test]
fn selling_all_of_nothing_is_a_no_op_and_other_kinds_cannot_sell() {
    let plan = format!(
        "{SEED_001}\n[[mechanism]]\nid = \"r3\"\nkind = \"refer_refund\"\nfunding_rate = \"0.1\"\n\
         qualify_min = \"100\"\nreferee_min = \"100\"\nsteps = [\"100%\"]\n"
    );
    let events = r#"
        {"type":"join","member":"m0"}
        {"type":"sell","member":"m0","mechanism":"appr","points":"all"}
        {"type":"sell","member":"m0","mechanism":"r3","points":"all"}
        {"type":"sell","member":"m0","mechanism":"nope","points":"1"}
    "#;
    let r = run(&plan, events);
    assert_eq!(r.rejected_lines(), [4, 5]);
    assert_eq!(r.rejected[0].1, "mechanism `r3` is a refer_refund mechanism: it cannot sell points");
    assert_eq!(r.rejected[1].1, "unknown mechanism `nope`");
}

const CASCADE: &str = r#"
name = "cascade"
settle_after_days = 0
[[mechanism]]
id = "appr"
kind = "appreciation"
funding_rate = "0.30"
mint_ratio = "0.70"
sell_fee = "0.60"
exit_multiple = "2"
"#;

#[test]
fn forced_exits_cascade_lowest_exit_price_first() {
    // 210, 147 and 124.95 points against 900; exit prices 9.5238, 13.6054, 16.0064. An inject of
    // 3690 puts p at exactly 4590 / 481.95 = 9.5238: m0 is sold (2000 gross, 800 after the 60%
    // fee), which lifts p to 3790 / 271.95 = 13.9364 ≥ 13.6054, so m1 goes (819.45, down from
    // 819.459…), which lifts p to 2970.55 / 124.95 = 23.7739 ≥ 16.0064, so m2 goes too (1188.22).
    let events = r#"
        {"type":"join","member":"m0"}
        {"type":"order","order":"o0","member":"m0","amount":"1000.00"}
        {"type":"join","member":"m1"}
        {"type":"order","order":"o1","member":"m1","amount":"1000.00"}
        {"type":"join","member":"m2"}
        {"type":"order","order":"o2","member":"m2","amount":"1000.00"}
        {"type":"inject","mechanism":"appr","amount":"3690.00"}
    "#;
    let r = run(CASCADE, events);
    assert_eq!(r.get("m0", "wallet"), "800.00");
    assert_eq!(r.get("m1", "wallet"), "819.45");
    assert_eq!(r.get("m2", "wallet"), "1188.22");
    assert_eq!(r.mechanism("appr")["pool"], "1782.33");
    assert_eq!(r.mechanism("appr")["points"], "0.0000");
    // With no points out, the price is the initial one again.
    assert_eq!(r.mechanism("appr")["price"], "1.0000");
    for m in ["m0", "m1", "m2"] {
        assert_eq!(r.standing(m, "appr")["basis"], "0.00", "{m}'s basis resets at exit");
    }

    let mut engine = Engine::new(parse_plan(CASCADE).unwrap());
    let outcome = run_stream(&mut engine, crate::timed(events).as_bytes(), true).unwrap();
    let inject = outcome.trace.iter().rfind(|e| e["type"] == "inject").unwrap();
    let exits: Vec<_> = inject["exits"].as_array().unwrap().iter().map(|e| e["member"].clone()).collect();
    assert_eq!(exits, ["m0", "m1", "m2"]);
    let one_below = events.replace("3690.00", "3689.99");
    let r = run(CASCADE, &one_below);
    assert_eq!(r.get("m0", "wallet"), "0.00", "a fen below the exit price, nobody exits");
}

const TIES: &str = r#"
name = "ties"
settle_after_days = 0
[[mechanism]]
id = "appr"
kind = "appreciation"
funding_rate = "1"
mint_ratio = "1"
sell_fee = "0.50"
exit_multiple = "2"
"#;

#[test]
fn exit_ties_go_to_the_earliest_joined_and_buying_again_reenters() {
    // z and a each buy 100 points at 1.00; both exit at p = 2. z joined first, so z is sold first
    // at p = 2 (100), then a at p = 3 (150). a buys again (复投): the basis restarts at the new
    // order, so a's exit price is 2 × 300 / 300, not 2 × 400 / 300.
    let events = r#"
        {"type":"join","member":"z"}
        {"type":"join","member":"a"}
        {"type":"order","order":"1","member":"z","amount":"100.00"}
        {"type":"order","order":"2","member":"a","amount":"100.00"}
        {"type":"inject","mechanism":"appr","amount":"200.00"}
        {"type":"order","order":"3","member":"a","amount":"300.00"}
    "#;
    let r = run(TIES, events);
    assert_eq!(r.get("z", "wallet"), "100.00");
    assert_eq!(r.get("a", "wallet"), "150.00");
    assert_eq!(r.member("a")["points"]["appr"], "300.0000");
    assert_eq!(r.standing("a", "appr")["basis"], "300.00");
    assert_eq!(r.standing("a", "appr")["exit_price"], "2.0000");
    assert_eq!(r.mechanism("appr")["price"], "1.5000");
}

#[test]
fn without_exit_multiple_nobody_is_sold_out() {
    let plan = CASCADE.replace("exit_multiple = \"2\"\n", "");
    let events = r#"
        {"type":"join","member":"m0"}
        {"type":"order","order":"o0","member":"m0","amount":"1000.00"}
        {"type":"inject","mechanism":"appr","amount":"1000000.00"}
    "#;
    let r = run(&plan, events);
    assert_eq!(r.get("m0", "wallet"), "0.00");
    assert_eq!(r.standing("m0", "appr")["exit_price"], serde_json::Value::Null);
}

#[test]
fn a_profit_from_margin_rate_is_not_rounded_before_the_funding_rate() {
    let plan = r#"name = "margin"
settle_after_days = 0
margin_rate = "0.5"
[[mechanism]]
id = "appr"
kind = "appreciation"
funding_base = "profit"
funding_rate = "0.9"
mint_ratio = "1"
initial_price = "1.00"
"#;
    let events = r#"{"type":"join","member":"A"}
{"type":"order","order":"o1","member":"A","amount":"1000.03"}
{"type":"join","member":"B"}
{"type":"order","order":"o2","member":"B","amount":"1000.03","profit":"500.01"}"#;
    let r = run(plan, events);
    // A: 1000.03 × 0.5 × 0.9 = 450.0135 → 450.01 (rounding the profit first would give 450.00).
    // B: the stated profit, 500.01 × 0.9 = 450.009 → 450.00.
    assert_eq!(r.member("A")["points"]["appr"], "450.0100");
    assert_eq!(r.mechanism("appr")["pool"], "900.01");
}

/// A mechanism's `name` is what members are shown; it changes no output byte of a run.
#[test]
fn a_mechanisms_name_is_read_checked_and_changes_no_output() {
    let named =
        SEED_001.replace("kind = \"appreciation\"", "kind = \"appreciation\"\nname = \"消费增值 · 茶饮\"");
    let plan = parse_plan(&named).unwrap();
    assert_eq!(plan.mechanisms[0].name.as_deref(), Some("消费增值 · 茶饮"));
    let engine = Engine::new(plan);
    let view = engine.mechanism_views().next().unwrap();
    assert_eq!((view.id, view.name, view.title.0), ("appr", Some("消费增值 · 茶饮"), "消费增值"));
    assert_eq!(Engine::new(parse_plan(SEED_001).unwrap()).mechanism_views().next().unwrap().name, None);
    // The same events give the same bytes with and without the name.
    let events = "{\"type\":\"join\",\"member\":\"A\"}\n{\"type\":\"order\",\"order\":\"o1\",\"member\":\"A\",\"amount\":\"100.00\"}\n";
    assert_eq!(run(&named, events).state.to_string(), run(SEED_001, events).state.to_string());
    // 1 to 32 characters, no control character: each mistake names the key and its line.
    for (name, problem) in [
        ("\"\"", "line 7: `mechanism.appr.name` is empty"),
        ("\" \"", "line 7: `mechanism.appr.name` is empty"),
        (
            &format!("\"{}\"", "积".repeat(33)),
            "line 7: `mechanism.appr.name` is 33 characters long; a name has at most 32",
        ),
        ("\"a\\tb\"", "line 7: `mechanism.appr.name` has a control character"),
        ("3", "line 7: `mechanism.appr.name` must be a string, not integer"),
    ] {
        let plan =
            SEED_001.replace("kind = \"appreciation\"", &format!("kind = \"appreciation\"\nname = {name}"));
        let error = parse_plan(&plan).unwrap_err().to_string();
        assert!(error.starts_with(problem), "{name}: {error}");
    }
    assert!(
        parse_plan(&SEED_001.replace(
            "kind = \"appreciation\"",
            &format!("kind = \"appreciation\"\nname = \"{}\"", "积".repeat(32))
        ))
        .is_ok()
    );
}
