//! 循环购: quota from spending, shares by spend and referrals, the daily dividend by shares capped
//! by quota, and the honor members' equal split.

use crate::run;

fn plan(keys: &str) -> String {
    format!("name = \"cycle\"\nsettle_after_days = 0\n[[mechanism]]\nid = \"c\"\nkind = \"cycle\"\n{keys}\n")
}

const CLOSE: &str = r#"{"type":"close_day"}"#;

#[test]
fn seed_001_2000_spent_gives_4000_quota_and_1_share_and_the_day_pays_by_shares() {
    let plan = plan(
        "funding_rate = \"0.10\"\nquota_multiple = \"2\"\nshare_unit = \"2000.00\"\n\
         referral_share_rate = \"0.5\"\nhonor = { rate = \"0.05\", levels = [\"1\", \"2\"] }",
    );
    let orders = r#"{"type":"join","member":"A"}
{"type":"join","member":"B","referrer":"A"}
{"type":"order","order":"a","member":"A","amount":"2000.00"}
{"type":"order","order":"b","member":"B","amount":"200.00"}"#;
    let before = run(&plan, orders);
    assert_eq!(before.standing("A", "c")["quota"], "4000.00");
    // 1 share of A's own, and half of B's 200 (0.05 of a share).
    assert_eq!(before.standing("A", "c")["shares"], "1.0500");
    assert_eq!(before.standing("A", "c")["honor"], 1);
    assert_eq!(before.standing("B", "c")["shares"], "0.1000");
    assert_eq!(before.mechanism("c")["pool"], "330.00");
    assert_eq!(before.mechanism("c")["honor_fund"], "110.00");

    let r = run(&plan, &format!("{orders}\n{CLOSE}"));
    // Dividend 330 − 110 = 220 by weights 2100 : 200: A ⌊200.869…⌋ = 200.86, B ⌊19.130…⌋ = 19.13.
    // The honor fund, 110, goes to the only honor member, A.
    assert_eq!(r.get("A", "wallet"), "310.86");
    assert_eq!(r.get("B", "wallet"), "19.13");
    assert_eq!(r.standing("A", "c")["quota"], "3689.14");
    assert_eq!(r.standing("B", "c")["quota"], "380.87");
    assert_eq!(r.mechanism("c")["pool"], "0.01");
    assert_eq!(r.mechanism("c")["honor_fund"], "0.00");
}

#[test]
fn the_quota_caps_what_a_member_is_paid_and_the_rest_stays_in_the_pool() {
    let plan = plan("funding_rate = \"1\"\nquota_multiple = \"0.5\"\nshare_unit = \"100.00\"");
    let first = r#"{"type":"join","member":"A"}
{"type":"order","order":"a1","member":"A","amount":"1000.00"}"#;
    let r = run(&plan, &format!("{first}\n{CLOSE}\n{CLOSE}"));
    // 1000 in the pool, 500 quota: the first day pays 500, the second nothing.
    assert_eq!(r.get("A", "wallet"), "500.00");
    assert_eq!(r.mechanism("c")["pool"], "500.00");
    assert_eq!(r.mechanism("c")["holders"], 0);
    let again = run(
        &plan,
        &format!(
            "{first}\n{CLOSE}\n{CLOSE}\n{}\n{CLOSE}",
            r#"{"type":"order","order":"a2","member":"A","amount":"1000.00"}"#
        ),
    );
    // Buying again earns 500 more quota (循环): paid from the 1500 pool.
    assert_eq!(again.get("A", "wallet"), "1000.00");
    assert_eq!(again.mechanism("c")["pool"], "1000.00");
}
