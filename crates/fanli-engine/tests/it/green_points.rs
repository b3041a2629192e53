//! 绿色积分: tiers, daily release per lot, share acceleration from the sharer's own points, team
//! ranks by differential, and releases owed when the pool runs short.

use crate::run;

fn plan(funding: &str, keys: &str) -> String {
    format!(
        "name = \"green\"\nsettle_after_days = 0\n[[mechanism]]\nid = \"g\"\nkind = \"green_points\"\n\
         funding_rate = \"{funding}\"\n{keys}\n"
    )
}

fn order(id: &str, member: &str, amount: &str) -> String {
    format!("{{\"type\":\"order\",\"order\":\"{id}\",\"member\":\"{member}\",\"amount\":\"{amount}\"}}")
}

const CLOSE: &str = r#"{"type":"close_day"}"#;

#[test]
fn seed_001_a_3000_order_releases_36_a_day_and_a_9000_order_adds_108() {
    let plan = plan(
        "0.50",
        "tiers = [{ min = \"3000.00\", multiple = \"2.5\" }, { min = \"9000.00\", multiple = \"3\" }]\n\
         daily_release_rate = \"0.012\"",
    );
    let events = format!(
        "{{\"type\":\"join\",\"member\":\"A\"}}\n{}\n{CLOSE}\n{}\n{CLOSE}\n{}",
        order("a1", "A", "3000.00"),
        order("a2", "A", "9000.00"),
        order("a3", "A", "2999.99"),
    );
    let r = run(&plan, &events);
    // The 3000 order is in the 2.5× tier (7500 points), the 9000 order in the 3× (27000); 2999.99
    // reaches no tier. Day 1 releases 36; day 2 releases 36 + 108.
    assert_eq!(r.get("A", "wallet"), "180.00");
    assert_eq!(r.member("A")["points"]["g"], "34320.0000");
    assert_eq!(r.standing("A", "g")["lots"], 2);
    assert_eq!(r.standing("A", "g")["daily"], "144.00");
    assert_eq!(r.mechanism("g")["released"], "180.00");
    // The pool took half of all three orders and paid 180.
    assert_eq!(r.mechanism("g")["pool"], "7319.99");
}

#[test]
fn share_and_team_releases_are_computed_on_base_releases_only() {
    // A ← B ← C, each buying 3000 (9000 points, 36 a day); share 50% and 30%.
    let plan = plan(
        "0.50",
        "tiers = [{ min = \"3000.00\", multiple = \"3\" }]\ndaily_release_rate = \"0.012\"\nshare = [\"0.50\", \"0.30\"]",
    );
    let events = format!(
        "{{\"type\":\"join\",\"member\":\"A\"}}\n{{\"type\":\"join\",\"member\":\"B\",\"referrer\":\"A\"}}\n\
         {{\"type\":\"join\",\"member\":\"C\",\"referrer\":\"B\"}}\n{}\n{}\n{}\n{CLOSE}",
        order("a", "A", "3000.00"),
        order("b", "B", "3000.00"),
        order("c", "C", "3000.00"),
    );
    let r = run(&plan, &events);
    // C's 36 gives B 18 and A 10.80; B's 36 gives A 18 (not 50% of B's 18 share).
    assert_eq!(r.get("A", "wallet"), "64.80");
    assert_eq!(r.get("B", "wallet"), "54.00");
    assert_eq!(r.get("C", "wallet"), "36.00");
    assert_eq!(r.member("A")["points"]["g"], "8935.2000");
}

#[test]
fn a_sharer_releases_at_most_what_is_left_and_an_empty_pool_owes_the_rest() {
    // A's 100 order: 200 points, 50 a day. B's 1000 order: 2000 points, 500 a day.
    let plan = plan(
        "1",
        "tiers = [{ min = \"100.00\", multiple = \"2\" }]\ndaily_release_rate = \"0.5\"\nshare = [\"0.50\"]",
    );
    let head = format!(
        "{{\"type\":\"join\",\"member\":\"A\"}}\n{{\"type\":\"join\",\"member\":\"B\",\"referrer\":\"A\"}}\n{}\n{}",
        order("a", "A", "100.00"),
        order("b", "B", "1000.00"),
    );
    // Day 1: A 50, B 500, and A's share of B's 500 is 250 but A has 150 left: all 700 paid from
    // the 1100 pool. Day 2: B 500 (A has nothing left to share): 400 paid, 100 owed. Days 3 and
    // 4: B's last 1000 is owed too.
    let r = run(&plan, &format!("{head}\n{CLOSE}\n{CLOSE}\n{CLOSE}\n{CLOSE}"));
    assert_eq!(r.get("A", "wallet"), "200.00");
    assert_eq!(r.member("A")["points"]["g"], "0.0000");
    assert_eq!(r.get("B", "wallet"), "900.00");
    assert_eq!(r.member("B")["points"]["g"], "0.0000");
    assert_eq!(r.mechanism("g")["obligations"], "1100.00");
    assert_eq!(r.mechanism("g")["points"], "0.0000");
    assert_eq!(r.mechanism("g")["lots"], 0);
    assert_eq!(r.standing("B", "g")["owed"], "1100.00");

    let paid = run(
        &plan,
        &format!(
            "{head}\n{CLOSE}\n{CLOSE}\n{CLOSE}\n{}",
            r#"{"type":"inject","mechanism":"g","amount":"1000.00"}"#
        ),
    );
    // After three days 600 is owed; 1000 injected pays it, and B's last 500 points wait.
    assert_eq!(paid.get("B", "wallet"), "1500.00");
    assert_eq!(paid.member("B")["points"]["g"], "500.0000");
    assert_eq!(paid.mechanism("g")["obligations"], "0.00");
    assert_eq!(paid.mechanism("g")["pool"], "400.00");
}

#[test]
fn share_takes_the_sharers_oldest_lot_first() {
    // A has two lots: 200 points (a1) then 2000 (a2); B's base release of 100 makes A release 50
    // from a1 first. Daily rate 0.05: a1 releases 5, a2 50, b 100.
    let plan = plan(
        "1",
        "tiers = [{ min = \"100.00\", multiple = \"2\" }]\ndaily_release_rate = \"0.05\"\nshare = [\"0.50\"]",
    );
    let events = format!(
        "{{\"type\":\"join\",\"member\":\"A\"}}\n{{\"type\":\"join\",\"member\":\"B\",\"referrer\":\"A\"}}\n{}\n{}\n{}\n{CLOSE}\n{CLOSE}",
        order("a1", "A", "100.00"),
        order("a2", "A", "1000.00"),
        order("b", "B", "2000.00"),
    );
    let r = run(&plan, &events);
    // Day 1: a1 5 + a2 50 (base), share 50 from a1 (left 200 − 5 − 50 = 145).
    // Day 2: a1 5 + a2 50, share 50 from a1 (left 90). A: 210 released; a1 still releases.
    assert_eq!(r.get("A", "wallet"), "210.00");
    assert_eq!(r.member("A")["points"]["g"], "1990.0000");
    assert_eq!(r.standing("A", "g")["lots"], 2);
    assert_eq!(r.standing("A", "g")["daily"], "55.00");
}
