//! 积分 / 会员等级 (seed 000's coffee chain and cash-back points): earning per order and per yuan,
//! top-up bonus, Wednesday ×2, tiers over a rolling year, referee points, expiry by lot with
//! reminders, the rewards catalogue and cash-out.

use fanli_engine::Engine;
use fanli_format::{parse_plan, run_stream};

use crate::run;

fn plan(keys: &str) -> String {
    format!(
        "name = \"loyalty\"\nsettle_after_days = 0\n[[mechanism]]\nid = \"cafe\"\nkind = \"loyalty\"\n\
         funding_rate = \"0.01\"\n{keys}\n"
    )
}

/// The coffee chain: 1 point a drink, 2 points per 100 topped up, 5 points for any drink, 10 for
/// a set for two, Wednesday ×2, points kept 180 days with reminders 30 and 7 days before.
const COFFEE: &str = "earn = { per_order = \"1\" }\ntopup_bonus = { per = \"100.00\", points = \"2\" }\n\
    bonus_days = [{ weekday = \"wednesday\", multiplier = \"2\" }]\nexpiry_days = 180\nreminders = [30, 7]\n\
    rewards = [{ name = \"any drink\", points = \"5\" }, { name = \"set for two\", points = \"10\" }]";

#[test]
fn seed_000_five_points_buy_a_drink_topups_and_wednesdays_earn_more() {
    // 2026-01-01 is a Thursday; 2026-01-07 a Wednesday.
    let events = r#"{"type":"join","member":"A"}
{"type":"order","order":"o1","member":"A","amount":"20.00"}
{"type":"topup","member":"A","amount":"250.00"}
@2026-01-07T09:00:00+08:00
{"type":"order","order":"o2","member":"A","amount":"18.00"}
{"type":"redeem","member":"A","mechanism":"cafe","reward":"any drink"}
{"type":"redeem","member":"A","mechanism":"cafe","reward":"any drink"}
{"type":"redeem","member":"A","mechanism":"cafe","reward":"a pony"}"#;
    let r = run(&plan(COFFEE), events);
    // 1 (Thursday) + 4 (two whole hundreds topped up) + 2 (Wednesday) = 7; a drink costs 5.
    assert_eq!(r.member("A")["points"]["cafe"], "2.0000");
    assert_eq!(r.rejected_lines(), vec![7, 8]);
    assert!(
        r.rejected[0].1.contains("holds 2.0000 points of `cafe`, cannot redeem 5.0000"),
        "{:?}",
        r.rejected
    );
    assert!(
        r.rejected[1].1.contains("has no reward `a pony`; its rewards: `any drink`, `set for two`"),
        "{:?}",
        r.rejected
    );
    assert_eq!(r.mechanism("cafe")["issued"], "7.0000");
    assert_eq!(r.mechanism("cafe")["redeemed"], "5.0000");
}

#[test]
fn points_expire_by_lot_after_reminders_30_and_7_days_before() {
    let events = r#"{"at":"2026-01-01T10:00:00+08:00","type":"join","member":"A"}
{"at":"2026-01-01T10:00:00+08:00","type":"order","order":"o1","member":"A","amount":"20.00"}
{"at":"2026-02-01T10:00:00+08:00","type":"order","order":"o2","member":"A","amount":"20.00"}
{"at":"2026-06-01T00:00:00+08:00","type":"close_day"}
{"at":"2026-06-24T00:00:00+08:00","type":"close_day"}
{"at":"2026-06-30T10:00:00+08:00","type":"redeem","member":"A","mechanism":"cafe","reward":"any drink"}
{"at":"2026-06-30T10:00:00+08:00","type":"close_day"}"#;
    let mut engine = Engine::new(parse_plan(&plan(COFFEE)).unwrap());
    let outcome = run_stream(&mut engine, events.as_bytes(), true).unwrap();
    let effects = |line: usize| -> Vec<String> {
        outcome.trace[line - 1]["effects"]
            .as_array()
            .unwrap()
            .iter()
            .map(|e| format!("{} {}", e["effect"].as_str().unwrap(), e["points"].as_str().unwrap_or("")))
            .collect()
    };
    // The first lot (granted 01-01 10:00) expires 180 days on, 2026-06-30 10:00 (+08:00).
    assert_eq!(effects(4), ["expiry_reminder 1.0000"], "30 days before");
    assert_eq!(outcome.trace[3]["effects"][0]["expires"], "2026-06-30T02:00:00Z");
    assert_eq!(effects(5), ["expiry_reminder 1.0000"], "7 days before");
    // At 06-30 10:00 the first lot has expired: 1 point left, the drink is refused.
    assert_eq!(outcome.rejected.iter().map(|r| r.line).collect::<Vec<_>>(), vec![6]);
    assert_eq!(effects(7), ["expired 1.0000"]);
    let state = crate::state(&engine, &[]);
    assert_eq!(state["members"]["A"]["points"]["cafe"], "1.0000");
    assert_eq!(state["mechanisms"]["cafe"]["expired"], "1.0000");
    assert_eq!(state["members"]["A"]["mechanisms"]["cafe"]["next_expiry"]["at"], "2026-07-31T02:00:00Z");
    // The member view gives the notice too, once the last point is 30 days from expiring: on
    // 06-30 it is 31 days away, on 07-01 at 10:00 it is 30.
    assert_eq!(state["members"]["A"]["mechanisms"]["cafe"]["expiring_soon"]["points"], "0.0000");
    let later = r#"{"at":"2026-07-01T10:00:00+08:00","type":"close_day"}"#;
    run_stream(&mut engine, later.as_bytes(), false).unwrap();
    let state = crate::state(&engine, &[]);
    assert_eq!(state["members"]["A"]["mechanisms"]["cafe"]["expiring_soon"]["points"], "1.0000");
    assert_eq!(state["members"]["A"]["mechanisms"]["cafe"]["expiring_soon"]["within_days"], 30);
}

#[test]
fn a_lot_of_more_than_214748_points_is_spent_and_expires_whole() {
    // Lots keep their points as `i32` units while they fit (214,748.3647 points), the rest
    // apart (issue 19): a 300,000-point lot is spent from, then expires, to the unit.
    let keys = "earn = { per_yuan = \"1\" }\nexpiry_days = 180\nreminders = [7]\n\
                rewards = [{ name = \"tv\", points = \"250000\" }]";
    let events = r#"{"at":"2026-01-01T10:00:00+08:00","type":"join","member":"A"}
{"at":"2026-01-01T10:00:00+08:00","type":"order","order":"o1","member":"A","amount":"300000.00"}
{"at":"2026-02-01T10:00:00+08:00","type":"order","order":"o2","member":"A","amount":"20.00"}
{"at":"2026-02-01T10:00:00+08:00","type":"redeem","member":"A","mechanism":"cafe","reward":"tv"}
{"at":"2026-06-30T10:00:00+08:00","type":"close_day"}"#;
    let r = run(&plan(keys), events);
    assert_eq!(r.rejected_lines(), Vec::<usize>::new());
    assert_eq!(r.member("A")["points"]["cafe"], "20.0000");
    assert_eq!(r.mechanism("cafe")["issued"], "300020.0000");
    assert_eq!(r.mechanism("cafe")["redeemed"], "250000.0000");
    assert_eq!(r.mechanism("cafe")["expired"], "50000.0000");
}

#[test]
fn an_order_of_more_than_21_million_yuan_counts_in_the_year_and_leaves_it() {
    // The rolling year keeps an order's amount as `i32` fen while it fits (21,474,836.47
    // yuan), the rest apart (issue 19): a 30-million-yuan order lifts the tier for a year.
    let keys = "earn = { per_yuan = \"0.001\" }\ntiers = [{ name = \"金卡\", min_spend = \"25000000.00\", multiplier = \"2\" }]";
    let events = r#"{"at":"2026-01-01T10:00:00+08:00","type":"join","member":"A"}
{"at":"2026-01-01T10:00:00+08:00","type":"order","order":"o1","member":"A","amount":"30000000.00"}
{"at":"2026-06-01T10:00:00+08:00","type":"order","order":"o2","member":"A","amount":"1000.00"}
{"at":"2027-01-02T10:00:00+08:00","type":"order","order":"o3","member":"A","amount":"1000.00"}"#;
    let r = run(&plan(keys), events);
    assert_eq!(r.rejected_lines(), Vec::<usize>::new());
    // 30,000 + 2 (金卡: ×2) + 1 (the first order left the year before the third).
    assert_eq!(r.member("A")["points"]["cafe"], "30003.0000");
    assert_eq!(r.standing("A", "cafe")["year_spend"], "2000.00");
}

#[test]
fn tiers_count_the_rolling_year_before_the_order() {
    let tiers = "earn = { per_yuan = \"1\" }\ntiers = [\
        { name = \"银卡\", min_spend = \"100.00\", multiplier = \"1.2\" },\
        { name = \"金卡\", min_spend = \"1000.00\", multiplier = \"1.5\" }]";
    let events = r#"{"type":"join","member":"A"}
{"type":"order","order":"o1","member":"A","amount":"100.00"}
{"type":"order","order":"o2","member":"A","amount":"100.00"}
{"type":"order","order":"o3","member":"A","amount":"1000.00"}
{"type":"order","order":"o4","member":"A","amount":"10.00"}"#;
    let r = run(&plan(tiers), events);
    // 100 (no tier yet) + 120 (银卡) + 1200 (银卡: 200 spent before it) + 15 (金卡).
    assert_eq!(r.member("A")["points"]["cafe"], "1435.0000");
    assert_eq!(r.standing("A", "cafe")["tier"], "金卡");
    assert_eq!(r.standing("A", "cafe")["year_spend"], "1210.00");
    let later = run(
        &plan(tiers),
        &format!(
            "{events}\n@2027-01-02T09:00:00+08:00\n{}",
            r#"{"type":"order","order":"o5","member":"A","amount":"10.00"}"#
        ),
    );
    // A year on, the 2026 orders no longer count: no tier, 10 points.
    assert_eq!(later.member("A")["points"]["cafe"], "1445.0000");
    assert_eq!(later.standing("A", "cafe")["year_spend"], "10.00");
    assert_eq!(later.standing("A", "cafe")["tier"], serde_json::Value::Null);
}

#[test]
fn seed_000_cash_back_points_referees_earn_half_and_1000_points_cash_out() {
    // 消费1元积1分, 邀请好友消费1元积0.5分, 1000积分可提现 (here 1000 points → 10.00).
    let keys = "earn = { per_yuan = \"1\" }\nreferee_rate = \"0.5\"\ncashout = { points = \"1000\", amount = \"10.00\" }";
    let events = r#"{"type":"join","member":"A"}
{"type":"join","member":"B","referrer":"A"}
{"type":"order","order":"a","member":"A","amount":"800.00"}
{"type":"order","order":"b","member":"B","amount":"500.00"}
{"type":"sell","member":"A","mechanism":"cafe","points":"1000"}
{"type":"sell","member":"A","mechanism":"cafe","points":"all"}"#;
    let r = run(&plan(keys), events);
    // A: 800 + 250 = 1050 points; 1000 cash out 10.00, then the last 50 pay 0.50. The pool
    // (1% of 1300 = 13.00) pays both.
    assert_eq!(r.member("A")["points"]["cafe"], "0.0000");
    assert_eq!(r.get("A", "wallet"), "10.50");
    assert_eq!(r.member("B")["points"]["cafe"], "500.0000");
    assert_eq!(r.mechanism("cafe")["pool"], "2.50");
    assert_eq!(r.mechanism("cafe")["cashed_out"], "1050.0000");
}

#[test]
fn a_loyalty_plan_names_its_mistakes() {
    let errors = |keys: &str| parse_plan(&plan(keys)).unwrap_err().to_string();
    assert!(
        errors("earn = { per_order = \"1\" }\nreminders = [30]")
            .contains("`mechanism.cafe.reminders` needs `expiry_days`")
    );
    assert!(
        errors("earn = { per_order = \"1\" }\nbonus_days = [{ weekday = \"caturday\", multiplier = \"2\" }]")
            .contains("`mechanism.cafe.bonus_days[1].weekday` must be a weekday")
    );
    assert!(
        errors("earn = { per_order = \"1\" }\ntiers = [{ name = \"x\", multiplier = \"2\" }]")
            .contains("needs one of `min_spend` (settled spend) or `min_points`")
    );
    assert!(errors("earn = { per_order = \"1\" }\nrewards = [{ name = \"x\", points = \"1\" }, { name = \"x\", points = \"2\" }]")
        .contains("lists `x` twice"));
    // Selling loyalty points needs a cash-out rate.
    let r = run(
        &plan("earn = { per_order = \"1\" }"),
        r#"{"type":"join","member":"A"}
{"type":"sell","member":"A","mechanism":"cafe","points":"1"}"#,
    );
    assert!(r.rejected[0].1.contains("cannot cash out points: it has no `cashout`"), "{:?}", r.rejected);
}

#[test]
fn loyalty_and_coalition_need_no_funding_rate_as_the_spec_lists_none() {
    let loyalty = "name = \"p\"\nsettle_after_days = 0\n[[mechanism]]\nid = \"l\"\nkind = \"loyalty\"\n\
                   earn = { per_yuan = \"1\" }\n";
    assert_eq!(parse_plan(loyalty).unwrap().mechanisms[0].funding_rate, fanli_engine::Rate::ZERO);
    let coalition = "name = \"p\"\nsettle_after_days = 0\n[[mechanism]]\nid = \"c\"\nkind = \"coalition\"\n\
                     point_cost = \"0.01\"\npartners = [{ id = \"bank\", earn_per_yuan = \"1\" }]\n";
    assert!(parse_plan(coalition).is_ok());
    let queue = "name = \"p\"\nsettle_after_days = 0\n[[mechanism]]\nid = \"q\"\nkind = \"queue\"\n\
                 release = \"when_funded\"\n";
    assert!(parse_plan(queue).unwrap_err().to_string().contains("`mechanism.q.funding_rate` is missing"));
}

#[test]
fn a_topup_bonus_step_may_be_written_amount_or_per() {
    let with = |step: &str| {
        format!(
            "name = \"p\"\nsettle_after_days = 0\n[[mechanism]]\nid = \"l\"\nkind = \"loyalty\"\n\
             earn = {{ per_order = \"1\" }}\ntopup_bonus = {{ {step} = \"100.00\", points = \"2\" }}\n"
        )
    };
    for step in ["amount", "per"] {
        let r = run(
            &with(step),
            r#"{"type":"join","member":"A"}
{"type":"topup","member":"A","amount":"250.00"}"#,
        );
        assert_eq!(r.member("A")["points"]["l"], "4.0000", "{step}");
    }
}
