//! Refunds after settlement, with and without `clawback`: with it, each mechanism takes back
//! what the refunded order earned and has not yet paid or released; without it, the merchant
//! bears the cost and rewards stay (the spec's default).

use crate::run;

fn plan(clawback: bool) -> String {
    format!(
        r#"name = "clawback"
settle_after_days = 0
clawback = {clawback}
[[mechanism]]
id = "r"
kind = "refer_refund"
funding_rate = "0"
qualify_min = "100.00"
referee_min = "100.00"
steps = ["50%"]
[[mechanism]]
id = "d"
kind = "distribution"
funding_rate = "0.01"
levels = ["0.05"]
[[mechanism]]
id = "g"
kind = "green_points"
funding_rate = "0.50"
tiers = [{{ min = "100.00", multiple = "2" }}]
daily_release_rate = "0.10"
[[mechanism]]
id = "q"
kind = "queue"
funding_rate = "0"
min_order = "100.00"
release = "when_funded"
[[mechanism]]
id = "a"
kind = "appreciation"
funding_rate = "0.30"
mint_ratio = "0.70"
"#
    )
}

/// A buys; B, referred by A, buys; a day closes; B's order is refunded.
const EVENTS: &str = r#"{"type":"join","member":"A"}
{"type":"order","order":"a1","member":"A","amount":"1000.00"}
{"type":"join","member":"B","referrer":"A"}
{"type":"order","order":"b1","member":"B","amount":"1000.00"}
{"type":"close_day"}
{"type":"refund","order":"b1"}"#;

#[test]
fn clawback_takes_back_what_the_refunded_order_earned_and_has_not_paid() {
    let r = run(&plan(true), EVENTS);
    // refer_refund: A's 500 for B's referral was never paid (an empty pool): cancelled.
    assert_eq!(r.mechanism("r")["obligations"], "0.00");
    assert_eq!(r.mechanism("r")["clawback"]["cancelled"], "500.00");
    // distribution: A's 5% (50.00) got the 10.00 budget; the 40.00 still owed is cancelled.
    assert_eq!(r.mechanism("d")["obligations"], "0.00");
    assert_eq!(r.mechanism("d")["clawback"]["cancelled"], "40.00");
    assert_eq!(r.mechanism("d")["clawback"]["kept"], "10.00");
    assert_eq!(r.get("A", "wallet"), "110.00", "10.00 commission + 100.00 green release stay paid");
    // green: B's 2000-point lot released 100 on the day close; the other 1900 are burned.
    assert_eq!(r.member("B")["points"]["g"], "0.0000");
    assert_eq!(r.mechanism("g")["clawback"]["points_taken"], "1900.0000");
    assert_eq!(r.mechanism("g")["clawback"]["points_kept"], "100.0000");
    assert_eq!(r.get("B", "wallet"), "100.00");
    // queue: B's waiting entry leaves; A's stays.
    assert_eq!(r.mechanism("q")["queued"], "1000.00");
    assert_eq!(r.mechanism("q")["clawback"]["cancelled"], "1000.00");
    // appreciation: B's 147 minted points are burned (the pool keeps the funding).
    assert_eq!(r.member("B")["points"]["a"], "0.0000");
    assert_eq!(r.mechanism("a")["clawback"]["points_taken"], "147.0000");
    assert_eq!(r.mechanism("a")["points"], "210.0000");
    assert_eq!(r.mechanism("a")["pool"], "600.00");
}

#[test]
fn without_clawback_the_merchant_bears_the_refund_and_rewards_stay() {
    let r = run(&plan(false), EVENTS);
    assert_eq!(r.mechanism("r")["obligations"], "500.00");
    assert_eq!(r.mechanism("d")["obligations"], "40.00");
    assert_eq!(r.member("B")["points"]["g"], "1900.0000");
    assert_eq!(r.mechanism("q")["queued"], "2000.00");
    assert_eq!(r.member("B")["points"]["a"], "147.0000");
    assert_eq!(r.get("B", "refunded"), "1000.00");
    assert_eq!(r.mechanism("r")["clawback"], serde_json::Value::Null);
}

#[test]
fn clawback_of_loyalty_cycle_and_coalition_earnings() {
    let plan = r#"name = "clawback points"
settle_after_days = 0
clawback = true
[[mechanism]]
id = "l"
kind = "loyalty"
funding_rate = "0"
earn = { per_yuan = "1" }
referee_rate = "0.5"
tiers = [{ name = "金卡", min_spend = "1000.00", multiplier = "2" }]
[[mechanism]]
id = "c"
kind = "cycle"
funding_rate = "0"
quota_multiple = "2"
share_unit = "100.00"
referral_share_rate = "0.5"
[[mechanism]]
id = "m"
kind = "coalition"
funding_rate = "0"
point_cost = "0.10"
partners = [{ id = "bank", earn_per_yuan = "0.1" }]
"#;
    let events = r#"{"type":"join","member":"A"}
{"type":"join","member":"B","referrer":"A"}
{"type":"order","order":"b1","member":"B","amount":"1000.00","partner":"bank"}
{"type":"redeem","member":"B","mechanism":"m","partner":"bank","points":"30"}
{"type":"refund","order":"b1"}
{"type":"order","order":"b2","member":"B","amount":"100.00"}"#;
    let r = run(plan, events);
    // loyalty: B's 1000 and A's 500 referee points are burned, and b1 no longer counts towards
    // B's tier: b2 earns 100, not 200.
    assert_eq!(r.member("B")["points"]["l"], "100.0000");
    assert_eq!(r.member("A")["points"]["l"], "50.0000");
    assert_eq!(r.standing("B", "l")["year_spend"], "100.00");
    // cycle: the quota and shares of b1 are gone; b2's remain.
    assert_eq!(r.standing("B", "c")["quota"], "200.00");
    assert_eq!(r.standing("B", "c")["shares"], "1.0000");
    assert_eq!(r.standing("A", "c")["shares"], "0.5000");
    // coalition: B spent 30 of the 100 bank points: 70 burned, 30 kept; the bank's January
    // issue shows 30 net.
    assert_eq!(r.member("B")["points"]["m"], "0.0000");
    assert_eq!(r.mechanism("m")["clawback"]["points_kept"], "30.0000");
    assert_eq!(r.mechanism("m")["settlement"][0]["issued"], "30.0000");
}
