//! Anti-fraud: each rule on a hand-built stream, the rewards it holds, and what a review does.

use crate::run;

/// 推三返一 at 50% a referral, a distribution paying the referrer 10%, and `[antifraud]` rules.
fn plan(rules: &str) -> String {
    format!(
        r#"name = "antifraud"
settle_after_days = 0
[antifraud]
{rules}
[[mechanism]]
id = "r"
kind = "refer_refund"
funding_rate = "0.50"
qualify_min = "100.00"
referee_min = "100.00"
steps = ["50%"]
repeat = true
[[mechanism]]
id = "d"
kind = "distribution"
funding_rate = "0.10"
levels = ["0.10"]
"#
    )
}

fn join(member: &str, referrer: &str, contacts: &str) -> String {
    format!(r#"{{"type":"join","member":"{member}","referrer":"{referrer}"{contacts}}}"#)
}

fn order(id: &str, member: &str, amount: &str) -> String {
    format!(r#"{{"type":"order","order":"{id}","member":"{member}","amount":"{amount}"}}"#)
}

#[test]
fn too_many_members_on_one_device_hold_the_referral_until_approved() {
    let head = [
        r#"{"type":"join","member":"A","device":"d1"}"#.to_owned(),
        order("a", "A", "1000.00"),
        join("B", "A", r#","device":"d1""#),
        order("b", "B", "100.00"),
        join("C", "A", r#","device":"d1""#),
        order("c", "C", "100.00"),
    ]
    .join("\n");
    let held = run(&plan("max_per_device = 2"), &head);
    // B's referral pays A 500 (50% of A's 1000 base) and 10.00 of commission; C's is held.
    assert_eq!(held.get("A", "wallet"), "510.00");
    assert_eq!(held.get("C", "referral"), "held");
    let review = &held.state["reviews"][0];
    assert_eq!(review["member"], "C");
    assert_eq!(review["referrer"], "A");
    assert_eq!(review["status"], "held");
    assert_eq!(review["hits"][0]["rule"], "device");
    assert_eq!(review["hits"][0]["evidence"], "device d1 has 3 members, at most 2");
    assert_eq!(review["held_orders"][0], "c");
    // C's own standing goes on: C is a participant on their own order.
    assert_eq!(held.standing("C", "r")["base"], "100.00");

    let approved = run(
        &plan("max_per_device = 2"),
        &format!("{head}\n{}", r#"{"type":"review","member":"C","decision":"approve"}"#),
    );
    // Approved: C's order counts now, A's second referral (500, of which the pool holds 100)
    // and 10.00 commission follow.
    assert_eq!(approved.get("A", "wallet"), "620.00");
    assert_eq!(approved.mechanism("r")["obligations"], "400.00");
    assert_eq!(approved.standing("A", "r")["referrals"], 2);
    assert_eq!(approved.get("C", "referral"), "approved");
    assert_eq!(approved.state["reviews"][0]["decision"]["decision"], "approve");
}

#[test]
fn a_shared_ip_rejected_never_pays_and_later_orders_stay_cut() {
    let events = [
        r#"{"type":"join","member":"A","ip":"10.0.0.1"}"#.to_owned(),
        order("a", "A", "1000.00"),
        join("B", "A", r#","ip":"10.0.0.1""#),
        order("b1", "B", "200.00"),
        r#"{"type":"review","member":"B","decision":"reject"}"#.to_owned(),
        order("b2", "B", "200.00"),
        r#"{"type":"review","member":"B","decision":"approve"}"#.to_owned(),
    ]
    .join("\n");
    let r = run(&plan("shared_device = true"), &events);
    assert_eq!(r.get("A", "wallet"), "0.00");
    assert_eq!(r.get("B", "referral"), "rejected");
    assert_eq!(r.state["reviews"][0]["hits"][0]["rule"], "shared-device");
    // A second review of a decided referral is refused.
    assert_eq!(r.rejected_lines(), vec![7]);
    assert!(r.rejected[0].1.contains("member `B` has no referral waiting for review"), "{:?}", r.rejected);
    // B's own rewards were never held: B is a participant on their first order.
    assert_eq!(r.standing("B", "r")["base"], "200.00");
}

#[test]
fn a_burst_of_referees_holds_the_ones_past_the_limit_within_the_window() {
    let events = [
        r#"{"type":"join","member":"A"}"#.to_owned(),
        join("B", "A", ""),
        join("C", "A", ""),
        join("D", "A", ""),
        "@2026-01-01T11:00:00+08:00".to_owned(),
        join("E", "A", ""),
    ]
    .join("\n");
    let r = run(&plan("burst = { referees = 2, hours = 1 }"), &events);
    let held: Vec<&str> =
        r.state["reviews"].as_array().unwrap().iter().map(|r| r["member"].as_str().unwrap()).collect();
    assert_eq!(held, ["D"]);
    assert_eq!(
        r.state["reviews"][0]["hits"][0]["evidence"],
        "the referrer's 3th referee within 1 hours, at most 2"
    );
}

#[test]
fn a_ring_of_accounts_sharing_a_phone_up_the_chain_is_held() {
    let events = [
        r#"{"type":"join","member":"A","phone":"138"}"#.to_owned(),
        join("B", "A", r#","phone":"139""#),
        join("C", "B", r#","phone":"138""#),
    ]
    .join("\n");
    let r = run(&plan("rings = true"), &events);
    assert_eq!(r.state["reviews"][0]["member"], "C");
    assert_eq!(
        r.state["reviews"][0]["hits"][0]["evidence"],
        "shares phone 138 with their upline 2 levels up"
    );
}

#[test]
fn a_quiet_referee_is_held_after_the_days_pass_and_later_rewards_wait() {
    let events = [
        r#"{"type":"join","member":"A"}"#.to_owned(),
        order("a", "A", "1000.00"),
        join("B", "A", ""),
        order("b1", "B", "100.00"),
        "@2026-02-05T09:00:00+08:00".to_owned(),
        r#"{"type":"close_day"}"#.to_owned(),
        order("b2", "B", "500.00"),
    ]
    .join("\n");
    let r = run(&plan("quiet = { days = 30, max_amount = \"100.00\" }"), &events);
    // B's first order counted (500 + 10.00 to A, before the rule could know); 30 days of nothing
    // then hold the referral: b2's 10% commission (50.00) waits.
    assert_eq!(r.get("A", "wallet"), "510.00");
    assert_eq!(r.state["reviews"][0]["hits"][0]["rule"], "quiet");
    assert_eq!(r.state["reviews"][0]["held_orders"][0], "b2");
}

#[test]
fn a_review_needs_a_held_referral_and_a_plan_with_rules() {
    let no_rules = "name = \"p\"\nsettle_after_days = 0\n[[mechanism]]\nid = \"q\"\nkind = \"queue\"\n\
                    funding_rate = \"0.1\"\nrelease = \"when_funded\"\n";
    let r = run(
        no_rules,
        r#"{"type":"join","member":"A"}
{"type":"review","member":"A","decision":"approve"}
{"type":"review","member":"A","decision":"maybe"}"#,
    );
    assert_eq!(r.rejected_lines(), vec![2, 3]);
    assert!(r.rejected[0].1.contains("has no [antifraud] rules"), "{:?}", r.rejected);
    assert!(r.rejected[1].1.contains("`decision` must be \"approve\" or \"reject\""), "{:?}", r.rejected);
}

#[test]
fn a_held_referral_holds_what_deeper_orders_pay_across_it_and_approval_pays_it() {
    // Z refers A on Z's own device (held); A refers B, who buys. What B's order pays A (the
    // direct referral, level 1) is paid at once; what it pays Z across the held link (level 2,
    // and refer_refund's indirect) waits for the review.
    let plan = r#"name = "deep"
settle_after_days = 0
[antifraud]
shared_device = true
[[mechanism]]
id = "r"
kind = "refer_refund"
funding_rate = "0.30"
qualify_min = "100.00"
referee_min = "100.00"
steps = ["10%"]
repeat = true
indirect = "10%"
[[mechanism]]
id = "d"
kind = "distribution"
funding_rate = "0.15"
levels = ["0.10", "0.05"]
"#;
    let head = [
        r#"{"type":"join","member":"Z","device":"dz"}"#.to_owned(),
        order("z", "Z", "1000.00"),
        join("A", "Z", r#","device":"dz""#),
        order("a", "A", "100.00"),
        join("B", "A", ""),
        order("b", "B", "200.00"),
        order("b2", "B", "300.00"),
    ]
    .join("\n");
    let held = run(plan, &head);
    // A: 10% of A's 100 base for B's referral, and 10% + 10% of B's two orders as level 1.
    assert_eq!(held.get("A", "wallet"), "60.00");
    // Z: nothing from A (held), nothing from B yet.
    assert_eq!(held.get("Z", "wallet"), "0.00");
    let review = &held.state["reviews"][0];
    assert_eq!(review["held_orders"], serde_json::json!(["a"]));
    assert_eq!(review["downline_orders"], serde_json::json!(["b", "b2"]));

    let approved =
        run(plan, &format!("{head}\n{}", r#"{"type":"review","member":"A","decision":"approve"}"#));
    // Z now gets: A's referral (10% of Z's 1000 base = 100) and 10% of A's 100 as level 1; from
    // B's orders, 5% + 5% as level 2 (10.00 + 15.00) and the indirect, 10% of B's counted first
    // order (20.00), once.
    assert_eq!(approved.get("Z", "wallet"), "155.00");
    assert_eq!(approved.get("A", "wallet"), "60.00", "A was paid at settlement, not again");
    let rejected = run(plan, &format!("{head}\n{}", r#"{"type":"review","member":"A","decision":"reject"}"#));
    assert_eq!(rejected.get("Z", "wallet"), "0.00");
}
