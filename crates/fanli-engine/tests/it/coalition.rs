//! 跨行业 (seed 000's bank + airline): partners' own earn rates and bonuses, redemption at any
//! partner, and the settlement report between partners by month.

use crate::run;

const PLAN: &str = r#"name = "bank + airline"
settle_after_days = 0
[[mechanism]]
id = "miles"
kind = "coalition"
funding_rate = "0"
point_cost = "0.10"
partners = [
  { id = "bank", earn_per_yuan = "0.1" },
  { id = "air", earn_per_yuan = "0.1", bonus = "0.5" },
]
"#;

#[test]
fn seed_000_partners_issue_miles_at_their_rates_and_settle_by_month() {
    let events = r#"{"type":"join","member":"A"}
{"type":"join","member":"B"}
{"type":"order","order":"a1","member":"A","amount":"10000.00","partner":"bank"}
{"type":"order","order":"b1","member":"B","amount":"2000.00","partner":"air"}
{"type":"redeem","member":"A","mechanism":"miles","partner":"air","points":"1000"}
{"type":"order","order":"a2","member":"A","amount":"50.00"}
{"type":"order","order":"a3","member":"A","amount":"50.00","partner":"cafe"}
{"type":"redeem","member":"B","mechanism":"miles","points":"1"}
{"type":"redeem","member":"B","mechanism":"miles","partner":"air","points":"301"}
@2026-02-03T09:00:00+08:00
{"type":"order","order":"a4","member":"A","amount":"500.00","partner":"bank"}"#;
    let r = run(PLAN, events);
    // 每消费10元获1里程: A 1000 miles; B 2000 × 0.1 × 1.5 = 300 at the airline; A spends 1000
    // at the airline; an order without a partner earns nothing; February's 500 earns 50.
    assert_eq!(r.member("A")["points"]["miles"], "50.0000");
    assert_eq!(r.member("B")["points"]["miles"], "300.0000");
    assert_eq!(r.rejected_lines(), vec![7, 8, 9]);
    assert!(r.rejected[0].1.contains("unknown partner `cafe`"), "{:?}", r.rejected);
    assert!(r.rejected[1].1.contains("needs a `partner` and `points`"), "{:?}", r.rejected);
    assert!(
        r.rejected[2].1.contains("holds 300.0000 points of `miles`, cannot redeem 301.0000"),
        "{:?}",
        r.rejected
    );
    let report = &r.mechanism("miles")["settlement"];
    let line = |i: usize| {
        let l = &report[i];
        format!("{} {} {} {} {}", l["period"], l["partner"], l["issued"], l["redeemed"], l["net"])
    };
    // January: the bank issued 1000 that the airline honoured: the bank owes 100.00, the
    // airline is owed 70.00 (1000 redeemed less its own 300 issued, at 0.10).
    assert_eq!(line(0), r#""2026-01" "bank" "1000.0000" "0.0000" "-100.00""#);
    assert_eq!(line(1), r#""2026-01" "air" "300.0000" "1000.0000" "70.00""#);
    assert_eq!(line(2), r#""2026-02" "bank" "50.0000" "0.0000" "-5.00""#);
    assert_eq!(report.as_array().unwrap().len(), 3);
}

#[test]
fn a_partners_bonus_is_not_rounded_before_the_amount_multiplies_it() {
    let plan = PLAN.replace(
        "{ id = \"air\", earn_per_yuan = \"0.1\", bonus = \"0.5\" }",
        "{ id = \"air\", earn_per_yuan = \"0.1234567\", bonus = \"0.1234567\" }",
    );
    let events = r#"{"type":"join","member":"A"}
{"type":"order","order":"a","member":"A","amount":"1000000.00","partner":"air"}"#;
    // 1,000,000 × 0.1234567 × 1.1234567 = 138,698.25677…: rounded down once, at the end.
    assert_eq!(run(&plan, events).member("A")["points"]["miles"], "138698.2567");
}
