//! 提现 under `[withdrawal]`: the fee back to a pool (seeds 002 and 003: 回流到盈利池), the
//! minimum, the daily cap, and the review above a threshold with the money held meanwhile.

use crate::run;
use serde_json::Value;

/// Seed 001's appreciation, where m0 sells everything for 697.16 in their wallet, with `rules`
/// as its `[withdrawal]`.
fn plan(rules: &str) -> String {
    format!(
        "name = \"withdrawals\"\nsettle_after_days = 0\n[withdrawal]\n{rules}\n[[mechanism]]\nid = \"appr\"\n\
         kind = \"appreciation\"\nfunding_rate = \"0.30\"\nmint_ratio = \"0.70\"\ninitial_price = \"1.00\"\n\
         sell_fee = \"0.20\"\nexit_multiple = \"3\"\n"
    )
}

/// Seed 001's stream: three orders of 1000, an injection of 1100, then m0 sells all.
fn seed_001() -> String {
    let mut lines = String::new();
    for m in ["m0", "m1", "m2"] {
        lines += &format!(
            "{{\"type\":\"join\",\"member\":\"{m}\"}}\n{{\"type\":\"order\",\"order\":\"{m}\",\"member\":\"{m}\",\"amount\":\"1000.00\"}}\n"
        );
    }
    lines
        + "{\"type\":\"inject\",\"mechanism\":\"appr\",\"amount\":\"1100.00\"}\n\
             {\"type\":\"sell\",\"member\":\"m0\",\"mechanism\":\"appr\",\"points\":\"all\"}\n"
}

fn withdraw(amount: &str) -> String {
    format!("{{\"type\":\"withdraw\",\"member\":\"m0\",\"amount\":\"{amount}\"}}\n")
}

fn review(decision: &str) -> String {
    format!("{{\"type\":\"withdrawal_review\",\"member\":\"m0\",\"decision\":\"{decision}\"}}\n")
}

const RULES: &str = "fee_rate = \"0.05\"\nfee_to = \"appr\"\nmin = \"10.00\"\nmax_per_day = \"500.00\"\nreview_above = \"200.00\"";

#[test]
fn a_fee_refills_the_pool_a_large_withdrawal_waits_and_the_day_has_a_cap() {
    let base = run(&plan(RULES), &seed_001());
    assert_eq!(base.get("m0", "wallet"), "697.16");
    assert_eq!(base.mechanism("appr")["pool"], "1302.84");
    let events = format!(
        "{}{}{}{}{}{}{}{}",
        seed_001(),
        withdraw("5.00"),   // below the minimum
        withdraw("100.00"), // paid: 95.00 out, 5.00 back to the pool
        withdraw("300.00"), // above 200.00: held for review
        withdraw("50.00"),  // one is waiting
        review("approve"),  // paid: 285.00 out, 15.00 back
        withdraw("150.00"), // 100 + 300 asked today: 150 more is past 500
        withdraw("100.00"), // 500 in all: paid, 5.00 back
    );
    let r = run(&plan(RULES), &events);
    assert_eq!(r.codes, ["below_minimum", "withdrawal_waiting", "over_daily_cap"]);
    // 697.16 − 100 − 300 − 100 left the wallet; 5 + 15 + 5 of it went back to the pool.
    assert_eq!(r.get("m0", "wallet"), "197.16");
    assert_eq!(r.get("m0", "withdrawing"), "0.00");
    assert_eq!(r.mechanism("appr")["pool"], "1327.84");
    // While it waited, the 300.00 was out of the wallet and not yet paid.
    let held = format!("{}{}{}", seed_001(), withdraw("100.00"), withdraw("300.00"));
    let r = run(&plan(RULES), &held);
    assert_eq!((r.get("m0", "wallet"), r.get("m0", "withdrawing")), ("297.16", "300.00"));
    assert_eq!(
        r.engine.withdrawals_waiting().map(|w| (w.amount.to_string(), w.fee.to_string())).collect::<Vec<_>>(),
        [("300.00".to_owned(), "15.00".to_owned())]
    );
}

#[test]
fn a_rejected_withdrawal_returns_its_money_and_no_longer_counts_against_the_day() {
    let events = format!("{}{}{}{}", seed_001(), withdraw("300.00"), review("reject"), withdraw("450.00"));
    let r = run(&plan(RULES), &events);
    assert_eq!(r.codes, Vec::<&str>::new());
    // The 450.00 (after the rejected 300.00, under the 500.00 a day) waits for review in turn.
    assert_eq!((r.get("m0", "wallet"), r.get("m0", "withdrawing")), ("247.16", "450.00"));
    assert_eq!(r.mechanism("appr")["pool"], "1302.84");
    // Nothing waits: a review is refused.
    let r = run(&plan(RULES), &format!("{}{}", seed_001(), review("approve")));
    assert_eq!(r.codes, ["no_withdrawal_waiting"]);
}

#[test]
fn without_a_fee_pool_the_fee_is_the_platforms_and_without_the_section_nothing_changes() {
    let r = run(&plan("fee_rate = \"0.10\""), &format!("{}{}", seed_001(), withdraw("100.00")));
    assert_eq!(r.get("m0", "wallet"), "597.16");
    assert_eq!(r.mechanism("appr")["pool"], "1302.84");
    let plain = plan("").replace("[withdrawal]\n\n", "");
    let r = run(&plain, &format!("{}{}", seed_001(), withdraw("697.16")));
    assert_eq!(r.get("m0", "wallet"), "0.00");
    assert_eq!(r.member("m0")["withdrawing"], Value::Null);
    // A `fee_to` that names no mechanism is a plan mistake with its line.
    let bad = plan("fee_to = \"nowhere\"");
    let error = fanli_format::parse_plan(&bad).unwrap_err().to_string();
    assert!(
        error.contains("line 4") && error.contains("withdrawal.fee_to") && error.contains("nowhere"),
        "{error}"
    );
}
