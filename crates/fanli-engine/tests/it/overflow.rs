//! Figures that would outgrow 64 bits: the event is refused (`overflow`) before anything moves,
//! the state stays as it was, and what comes next applies. Nothing wraps and nothing panics.

use crate::{Run, run};

/// The state document without `rejected`: what an accepted line may change.
fn state_of(r: &Run) -> serde_json::Value {
    let mut state = r.state.clone();
    state.as_object_mut().unwrap().remove("rejected");
    state
}

/// `events` run twice, with and without the line `refused` (from 1): that line is refused as an
/// overflow and changes nothing the other lines do.
fn refused_alone(plan: &str, events: &str, refused: usize) -> Run {
    let with = run(plan, events);
    assert_eq!(with.rejected_lines(), [refused], "{:?}", with.rejected);
    assert_eq!(with.codes, ["overflow"]);
    let without: Vec<&str> =
        events.lines().enumerate().map(|(i, l)| if i + 1 == refused { "" } else { l }).collect();
    let without = run(plan, &without.join("\n"));
    assert_eq!(without.rejected, []);
    assert_eq!(state_of(&with), state_of(&without), "the refused line changed nothing");
    with
}

fn loyalty(settle_after_days: u32, keys: &str) -> String {
    format!(
        "name = \"big\"\nsettle_after_days = {settle_after_days}\n[[mechanism]]\nid = \"pts\"\n\
         kind = \"loyalty\"\n{keys}\n"
    )
}

#[test]
fn an_order_whose_points_would_not_fit_is_refused() {
    // 10^12 points an order, ×100 at the top tier, ×100 on Wednesdays: 10^20 units, past 2^62.
    let keys = "earn = { per_order = \"1000000000000\" }\n\
                tiers = [{ name = \"gold\", min_spend = \"1000000.00\", multiplier = \"100\" }]\n\
                bonus_days = [{ weekday = \"wednesday\", multiplier = \"100\" }]";
    let events = r#"{"type":"join","member":"A"}
{"type":"order","order":"o1","member":"A","amount":"10.00"}
{"type":"join","member":"B"}"#;
    for days in [0, 7] {
        let r = refused_alone(&loyalty(days, keys), events, 2);
        assert!(r.rejected[0].1.contains("what the plan has issued, with this order would outgrow 64 bits"));
    }
}

#[test]
fn a_topup_or_a_cash_out_past_64_bits_is_refused() {
    // 10^12 points for each fen topped up.
    let keys = "earn = { per_yuan = \"1\" }\ntopup_bonus = { per = \"0.01\", points = \"1000000000000\" }";
    let events = r#"{"type":"join","member":"A"}
{"type":"topup","member":"A","amount":"100000.00"}
{"type":"topup","member":"A","amount":"1.00"}"#;
    let r = refused_alone(&loyalty(0, keys), events, 2);
    // The second top-up's 100 fen earn 10^14 points: 10^18 units, within bounds.
    assert_eq!(r.member("A")["points"]["pts"], "100000000000000.0000");
    assert_eq!(r.member("A")["credit"], "1.00");

    // 10^10 yuan for every 1/10000 point cashed out.
    let keys = "funding_rate = \"1\"\nearn = { per_yuan = \"1\" }\n\
                cashout = { points = \"0.0001\", amount = \"10000000000.00\" }";
    let events = r#"{"type":"join","member":"A"}
{"type":"order","order":"o1","member":"A","amount":"1000.00"}
{"type":"sell","member":"A","mechanism":"pts","points":"500"}
{"type":"sell","member":"A","mechanism":"pts","points":"0.0001"}"#;
    // 500 points would be owed 5 × 10^18 fen; a ten-thousandth of one, 10^12.
    let r = refused_alone(&loyalty(0, keys), events, 3);
    assert!(r.rejected[0].1.contains("what `pts` owes, with this cash-out"), "{:?}", r.rejected);
    // One ten-thousandth of a point is owed 10^10 yuan, and the pool has 1000 of them.
    assert_eq!(r.standing("A", "pts")["received"], "1000.00");
    assert_eq!(r.standing("A", "pts")["owed"], "9999999000.00");
}

#[test]
fn a_day_close_whose_minting_would_not_fit_is_refused_and_the_orders_wait() {
    // Minting 10× at 0.0001 a point: 10^8 yuan of orders mint 10^13 points (10^17 units) at
    // the initial price, which falls to 10^-7 fen a unit; 2 × 10^9 yuan then mint 2 × 10^19
    // units, past 2^62.
    let plan = "name = \"big\"\nsettle_after_days = 1\n[[mechanism]]\nid = \"appr\"\nkind = \"appreciation\"\n\
                funding_rate = \"1\"\nmint_ratio = \"10\"\ninitial_price = \"0.0001\"\n";
    let events = r#"{"type":"join","member":"A"}
{"type":"join","member":"B"}
{"type":"order","order":"o1","member":"A","amount":"100000000.00"}
{"type":"order","order":"o2","member":"B","amount":"2000000000.00"}
@2026-01-02T10:00:00+08:00
{"type":"close_day"}
{"type":"refund","order":"o2"}
@2026-01-03T10:00:00+08:00
{"type":"close_day"}"#;
    let r = run(plan, events);
    // The first day close would settle both: refused, nothing settles. Once o2 is cancelled,
    // the next day close settles o1 alone.
    assert_eq!(r.rejected_lines(), [6]);
    assert_eq!(r.codes, ["overflow"]);
    assert!(r.rejected[0].1.contains("the points `appr` mints for it"), "{:?}", r.rejected);
    assert_eq!(r.member("A")["points"]["appr"], "10000000000000.0000");
    assert_eq!(r.member("B")["spent"], "0.00");
    assert_eq!(r.mechanism("appr")["pool"], "100000000.00");
}

#[test]
fn issuing_stops_where_the_bound_says_and_not_one_order_later() {
    // 1000 task points a yuan: an order of 10^10 yuan grows the bound by 100005 × 10^12 (four
    // cash accounts, the pool, and 100000 units a fen); 2^62 holds 46 such orders, not 47.
    let plan = "name = \"ads\"\nsettle_after_days = 0\n[[mechanism]]\nid = \"ads\"\nkind = \"ad_tasks\"\n\
                funding_rate = \"0.10\"\npoints_per_yuan = \"1000\"\nviews_per_day = 3\n\
                rewards = [{ from = \"0\", reward = \"1\" }]\n";
    let mut events = vec![r#"{"type":"join","member":"A"}"#.to_owned()];
    for i in 1..=47 {
        events.push(format!(r#"{{"type":"order","order":"o{i}","member":"A","amount":"10000000000.00"}}"#));
    }
    let r = run(plan, &events.join("\n"));
    assert_eq!(r.rejected_lines(), [48]);
    assert_eq!(r.codes, ["overflow"]);
    assert_eq!(r.member("A")["spent"], "460000000000.00");
    // 46 × 10^13 points, 4.6 × 10^18 units: the largest count is within i64, and balanced.
    assert_eq!(r.member("A")["points"]["ads"], "460000000000000.0000");
}

#[test]
fn a_referral_share_counts_the_largest_order_so_far_not_the_most_an_event_carries() {
    // refer_refund pays 10% of the referrer's base, an earlier order's amount: the bound counts
    // 10% of the largest order so far for each order, where it counted 2 × 10^12 fen (twice
    // the most one event carries) whatever the plan, so that 2^62 held 2.3 million orders of
    // any size (`fanli simulate bench/plan-all.toml bench/scenario-1m.toml` stopped there).
    // Growth per fen of an order: 4 cash accounts + r3's pool 1 + pts' pool 1 and 100 units
    // (1 point a yuan) = 106.
    let plan = "name = \"refer\"\nsettle_after_days = 0\n\
                [[mechanism]]\nid = \"r3\"\nkind = \"refer_refund\"\nfunding_rate = \"0.50\"\n\
                qualify_min = \"0.01\"\nreferee_min = \"0.01\"\nsteps = [\"10%\"]\nrepeat = true\n\
                [[mechanism]]\nid = \"pts\"\nkind = \"loyalty\"\nfunding_rate = \"0.10\"\n\
                earn = { per_yuan = \"1\" }\ntopup_bonus = { per = \"0.01\", points = \"1000000000\" }\n";
    let mut events = vec![
        r#"{"type":"join","member":"A"}"#.to_owned(),
        // 461,168 fen × (10^13 + 4) = 4,611,680,000,001,844,672: 2^62 − 6,018,425,543,232 left.
        r#"{"type":"topup","member":"A","amount":"4611.68"}"#.to_owned(),
    ];
    // Ten orders of 10,000 fen: 106 × 10,000 + 10% of 10,000 = 1,061,000 each (before: over
    // 2 × 10^12 each, so the fourth was refused); 6,018,414,933,232 left.
    for i in 1..=10 {
        events.push(format!(r#"{{"type":"order","order":"o{i}","member":"A","amount":"100.00"}}"#));
    }
    // An order of b fen larger than every earlier one counts 106 × b and 10% of b, and for
    // each of the ten earlier orders the rise from 10% of 10,000 to 10% of b (each may yet pay
    // a share of it): 106 b + 11 ⌈b ÷ 10⌉ − 10,000. For b = 56,194,350,543 that is
    // 6,018,414,933,163 (69 left); one fen more, 6,018,414,933,269 (37 too many). Without the
    // rise for the earlier orders, 56,723,986,175 fen would fit.
    events.push(r#"{"type":"order","order":"big","member":"A","amount":"561943505.44"}"#.to_owned());
    events.push(r#"{"type":"order","order":"big","member":"A","amount":"561943505.43"}"#.to_owned());
    // Every later order counts 10% of the largest, 5,619,435,055 fen: one fen's order is refused.
    events.push(r#"{"type":"order","order":"last","member":"A","amount":"0.01"}"#.to_owned());
    let r = run(plan, &events.join("\n"));
    assert_eq!(r.rejected_lines(), [13, 15]);
    assert_eq!(r.codes, ["overflow", "overflow"]);
    assert!(r.rejected[0].1.contains("what the plan has issued, with this order would outgrow 64 bits"));
    assert_eq!(r.member("A")["spent"], "561944505.43");
    assert_eq!(r.standing("A", "r3")["base"], "100.00");
}
