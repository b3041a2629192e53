//! 推N返一 / 消费全返 / 预售返现: steps, repeats, indirect rewards, credit, obligations.

use crate::run;

fn plan(funding: &str, settle_days: u32, keys: &str) -> String {
    format!(
        "name = \"refer\"\nsettle_after_days = {settle_days}\n[[mechanism]]\nid = \"r3\"\n\
         kind = \"refer_refund\"\nfunding_rate = \"{funding}\"\n{keys}\n"
    )
}

fn referees(referrer: &str, names: &[&str], amount: &str) -> String {
    names
        .iter()
        .map(|n| {
            format!(
                "{{\"type\":\"join\",\"member\":\"{n}\",\"referrer\":\"{referrer}\"}}\n\
                 {{\"type\":\"order\",\"order\":\"{n}-1\",\"member\":\"{n}\",\"amount\":\"{amount}\"}}\n"
            )
        })
        .collect()
}

#[test]
fn seed_004_three_referrals_refund_1000_and_six_refund_2000() {
    let plan = plan(
        "0.40",
        0,
        "qualify_min = \"1000.00\"\nreferee_min = \"1000.00\"\nsteps = [\"10%\", \"20%\", \"70%\"]\nrepeat = true",
    );
    let head = "{\"type\":\"join\",\"member\":\"A\"}\n{\"type\":\"order\",\"order\":\"a\",\"member\":\"A\",\"amount\":\"1000.00\"}\n";
    let three = run(&plan, &(head.to_owned() + &referees("A", &["b0", "b1", "b2"], "1000.00")));
    assert_eq!(three.get("A", "wallet"), "1000.00");
    assert_eq!(three.standing("A", "r3")["progress"], "3 of 3");
    assert_eq!(three.standing("A", "r3")["next_reward"], "100.00");
    let six =
        run(&plan, &(head.to_owned() + &referees("A", &["b0", "b1", "b2", "b3", "b4", "b5"], "1000.00")));
    assert_eq!(six.get("A", "wallet"), "2000.00");
    assert_eq!(six.mechanism("r3")["pool"], "800.00");
    assert_eq!(six.mechanism("r3")["referrals"], 6);
    let four = run(&plan, &(head.to_owned() + &referees("A", &["b0", "b1", "b2", "b3"], "1000.00")));
    assert_eq!(four.get("A", "wallet"), "1100.00");
    assert_eq!(four.standing("A", "r3")["progress"], "1 of 3");
    assert_eq!(four.standing("A", "r3")["next_reward"], "200.00");
}

#[test]
fn seed_000_cosmetics_fixed_steps_and_an_indirect_reward() {
    // Price 99; steps 50.00, 0, 49.00; indirect 20.00 when one of your referees earns a referral.
    let plan = plan(
        "0.70",
        0,
        "qualify_min = \"99.00\"\nreferee_min = \"99.00\"\nsteps = [\"50.00\", \"0\", \"49.00\"]\nindirect = \"20.00\"",
    );
    let events = format!(
        "{{\"type\":\"join\",\"member\":\"A\"}}\n{{\"type\":\"order\",\"order\":\"a\",\"member\":\"A\",\"amount\":\"99.00\"}}\n{}{}{}",
        referees("A", &["B"], "99.00"),
        referees("B", &["C"], "99.00"),
        referees("A", &["D", "E"], "99.00"),
    );
    let r = run(&plan, &events);
    assert_eq!(r.get("A", "wallet"), "119.00", "50 + 20 indirect + 0 + 49");
    assert_eq!(r.get("B", "wallet"), "50.00");
    assert_eq!(r.get("C", "wallet"), "0.00");
    assert_eq!(r.mechanism("r3")["pool"], "177.50", "5 × 69.30 − 169.00");
    // Without repeat, a fourth referral pays nothing and the progress stays complete.
    let r = run(&plan, &(events + &referees("A", &["F"], "99.00")));
    assert_eq!(r.get("A", "wallet"), "119.00");
    assert_eq!(r.standing("A", "r3")["progress"], "3 of 3");
    assert_eq!(r.standing("A", "r3")["next_reward"], serde_json::Value::Null);
}

#[test]
fn seed_000_grocery_pays_store_credit_after_the_third_referee() {
    // A 9.90 order qualifies; a referee counts with a first order of at least 39.00; steps
    // 0, 0, 100%, paid as store credit.
    let plan = plan(
        "0.50",
        0,
        "qualify_min = \"9.90\"\nreferee_min = \"39.00\"\nsteps = [\"0\", \"0\", \"100%\"]\npay_to = \"credit\"",
    );
    let events = r#"
        {"type":"join","member":"A"}
        {"type":"order","order":"a","member":"A","amount":"9.90"}
        {"type":"join","member":"B","referrer":"A"}
        {"type":"order","order":"b1","member":"B","amount":"20.00"}
        {"type":"order","order":"b2","member":"B","amount":"39.00"}
        {"type":"order","order":"b3","member":"B","amount":"39.00"}
        {"type":"join","member":"C","referrer":"A"}
        {"type":"order","order":"c1","member":"C","amount":"50.00"}
    "#;
    let r = run(&plan, events);
    assert_eq!(r.standing("A", "r3")["referrals"], 2, "B counts once, with its first order ≥ 39");
    assert_eq!(r.get("A", "credit"), "0.00");
    let r = run(&plan, &(events.to_owned() + &referees("A", &["D"], "39.00")));
    assert_eq!(r.get("A", "credit"), "9.90");
    assert_eq!(r.get("A", "wallet"), "0.00");
    // Store credit is spendable on orders only.
    let spend = "{\"type\":\"order\",\"order\":\"a2\",\"member\":\"A\",\"amount\":\"20.00\",\"credit\":\"9.90\"}\n\
                 {\"type\":\"withdraw\",\"member\":\"A\",\"amount\":\"0.01\"}";
    let r = run(&plan, &(events.to_owned() + &referees("A", &["D"], "39.00") + spend));
    assert_eq!(r.get("A", "credit"), "0.00");
    assert_eq!(r.rejected_lines(), [13]);
}

#[test]
fn seed_000_presale_deposit_refundable_until_it_settles() {
    // Deposit 500; steps 5% five times, then 75%: 2 referrals refund 50, 6 refund all 500.
    let plan = plan(
        "0.50",
        7,
        "qualify_min = \"500.00\"\nreferee_min = \"500.00\"\nsteps = [\"5%\", \"5%\", \"5%\", \"5%\", \"5%\", \"75%\"]",
    );
    let two = format!(
        "{{\"type\":\"join\",\"member\":\"A\"}}\n{{\"type\":\"order\",\"order\":\"a\",\"member\":\"A\",\"amount\":\"500.00\"}}\n\
         @2026-01-08T23:00:00+08:00\n{{\"type\":\"close_day\"}}\n{}\
         {{\"type\":\"join\",\"member\":\"X\",\"referrer\":\"A\"}}\n\
         {{\"type\":\"order\",\"order\":\"x\",\"member\":\"X\",\"amount\":\"500.00\"}}\n\
         {{\"type\":\"refund\",\"order\":\"x\"}}\n\
         @2026-01-15T23:30:00+08:00\n{{\"type\":\"close_day\"}}\n",
        referees("A", &["B", "C"], "500.00")
    );
    let r = run(&plan, &two);
    assert_eq!(r.get("A", "wallet"), "50.00");
    assert_eq!(r.standing("A", "r3")["referrals"], 2, "X's refunded deposit never counted");
    assert_eq!(r.get("X", "spent"), "0.00");
    assert_eq!(r.mechanism("r3")["pool"], "700.00", "3 settled deposits × 250 − 50");
    let six = format!(
        "{two}@2026-01-16T09:00:00+08:00\n{}@2026-01-23T23:00:00+08:00\n{{\"type\":\"close_day\"}}\n",
        referees("A", &["D", "E", "F", "G"], "500.00")
    );
    let r = run(&plan, &six);
    assert_eq!(r.get("A", "wallet"), "500.00");
}

#[test]
fn a_referee_counts_only_while_the_referrer_participates() {
    let plan = plan(
        "0.50",
        0,
        "qualify_min = \"1000.00\"\nreferee_min = \"100.00\"\nsteps = [\"10%\"]\nrepeat = true",
    );
    let events = r#"
        {"type":"join","member":"A"}
        {"type":"join","member":"B","referrer":"A"}
        {"type":"order","order":"b1","member":"B","amount":"100.00"}
        {"type":"order","order":"a1","member":"A","amount":"1000.00"}
        {"type":"order","order":"b2","member":"B","amount":"100.00"}
        {"type":"join","member":"C","referrer":"A"}
        {"type":"order","order":"c1","member":"C","amount":"100.00"}
    "#;
    let r = run(&plan, events);
    // B's first qualifying order settled before A qualified: B never counts.
    assert_eq!(r.standing("A", "r3")["referrals"], 1);
    assert_eq!(r.get("A", "wallet"), "100.00");
}

#[test]
fn unfunded_rewards_are_owed_and_paid_oldest_first_in_part() {
    let plan = plan(
        "0.10",
        0,
        "qualify_min = \"100.00\"\nreferee_min = \"100.00\"\nsteps = [\"100%\"]\nrepeat = true",
    );
    let events = r#"
        {"type":"join","member":"A"}
        {"type":"order","order":"a","member":"A","amount":"1000.00"}
        {"type":"join","member":"P"}
        {"type":"order","order":"p","member":"P","amount":"300.00"}
        {"type":"join","member":"B","referrer":"A"}
        {"type":"order","order":"b","member":"B","amount":"1000.00"}
        {"type":"join","member":"Q","referrer":"P"}
        {"type":"order","order":"q","member":"Q","amount":"100.00"}
    "#;
    // Pool: 100 + 30 + 100 → A is owed 1000 and paid 230; Q's 10 goes to A's older obligation
    // before P's 300 sees any of it.
    let r = run(&plan, events);
    assert_eq!(r.get("A", "wallet"), "240.00");
    assert_eq!(r.standing("A", "r3")["owed"], "760.00");
    assert_eq!(r.get("P", "wallet"), "0.00");
    assert_eq!(r.standing("P", "r3")["owed"], "300.00");
    assert_eq!(r.mechanism("r3")["obligations"], "1060.00");
    assert_eq!(r.mechanism("r3")["pool"], "0.00");
    let r = run(&plan, &(events.to_owned() + r#"{"type":"inject","mechanism":"r3","amount":"1000.00"}"#));
    assert_eq!(r.get("A", "wallet"), "1000.00");
    assert_eq!(r.get("P", "wallet"), "240.00");
    assert_eq!(r.standing("P", "r3")["owed"], "60.00");
    assert_eq!(r.mechanism("r3")["obligations"], "60.00");
    assert_eq!(r.mechanism("r3")["obligations_waiting"], 1);
}

#[test]
fn indirect_rewards_as_a_share_of_the_referees_order() {
    let plan = plan(
        "1",
        0,
        "qualify_min = \"100.00\"\nreferee_min = \"100.00\"\nsteps = [\"10%\"]\nrepeat = true\nindirect = \"5%\"",
    );
    let events = format!(
        "{{\"type\":\"join\",\"member\":\"G\"}}\n{{\"type\":\"order\",\"order\":\"g\",\"member\":\"G\",\"amount\":\"100.00\"}}\n{}{}",
        referees("G", &["R"], "200.00"),
        referees("R", &["N"], "333.33"),
    );
    let r = run(&plan, &events);
    // R's referral pays R 10% of its base 200 = 20; G earns 5% of N's 333.33 = 16.66 (down).
    assert_eq!(r.get("R", "wallet"), "20.00");
    assert_eq!(r.get("G", "wallet"), "26.66", "10 for R + 16.66 indirect for N");
}

#[test]
fn seed_000_repurchase_ladder_pays_30_20_50_on_the_members_own_orders() {
    // 首次返30%, 二次复购返20%, 三次复购返50%: of the first order's amount.
    let plan = plan(
        "0.60",
        0,
        "trigger = \"repurchase\"\nqualify_min = \"100.00\"\nsteps = [\"30%\", \"20%\", \"50%\"]",
    );
    let events = r#"{"type":"join","member":"A"}
{"type":"order","order":"a1","member":"A","amount":"1000.00"}
{"type":"order","order":"a2","member":"A","amount":"50.00"}
{"type":"order","order":"a3","member":"A","amount":"2000.00"}"#;
    let two = run(&plan, events);
    // 300 for the first order; 50.00 is below qualify_min; the third pays 20% of the 1000 base.
    assert_eq!(two.get("A", "wallet"), "500.00");
    assert_eq!(two.standing("A", "r3")["progress"], "2 of 3");
    assert_eq!(two.standing("A", "r3")["next_reward"], "500.00");
    let done = run(
        &plan,
        &format!(
            "{events}\n{}\n{}",
            r#"{"type":"order","order":"a4","member":"A","amount":"100.00"}"#,
            r#"{"type":"order","order":"a5","member":"A","amount":"100.00"}"#
        ),
    );
    // The 3rd qualifying order pays 50% (500); without repeat the 4th pays nothing.
    assert_eq!(done.get("A", "wallet"), "1000.00");
    assert_eq!(done.standing("A", "r3")["progress"], "3 of 3");
    assert_eq!(done.standing("A", "r3")["next_reward"], serde_json::Value::Null);
    assert_eq!(done.standing("A", "r3")["referrals"], 4);
}

#[test]
fn a_repurchase_ladder_takes_no_referee_min_nor_indirect() {
    let indirect = plan(
        "0.60",
        0,
        "trigger = \"repurchase\"\nqualify_min = \"100.00\"\nsteps = [\"30%\"]\nindirect = \"5.00\"",
    );
    let error = fanli_format::parse_plan(&indirect).unwrap_err().to_string();
    assert!(error.contains("`mechanism.r3.indirect` rewards referrals"), "{error}");
    let referee_min = plan(
        "0.60",
        0,
        "trigger = \"repurchase\"\nqualify_min = \"100.00\"\nreferee_min = \"1\"\nsteps = [\"30%\"]",
    );
    let error = fanli_format::parse_plan(&referee_min).unwrap_err().to_string();
    assert!(error.contains("`mechanism.r3.referee_min` is not a known key"), "{error}");
}

/// A repurchase ladder of 30%, 20%, 10% (no repeat), with `step_base` as given, over the
/// member's own orders; funding of `funding`, and `more` keys of the plan.
fn ladder(step_base: &str, funding: &str, more: &str) -> String {
    format!(
        "name = \"ladder\"\nsettle_after_days = 0\n{more}[[mechanism]]\nid = \"r3\"\nkind = \"refer_refund\"\n\
         funding_rate = \"{funding}\"\ntrigger = \"repurchase\"\nqualify_min = \"100.00\"\n\
         steps = [\"30%\", \"20%\", \"10%\"]\n{step_base}"
    )
}

/// A joins and orders 1000, 500, 2000 (three qualifying orders).
const THREE_ORDERS: &str = r#"{"type":"join","member":"A"}
{"type":"order","order":"a1","member":"A","amount":"1000.00"}
{"type":"order","order":"a2","member":"A","amount":"500.00"}
{"type":"order","order":"a3","member":"A","amount":"2000.00"}"#;

/// The amounts each order's step paid, from the trace's `repurchase` effects.
fn rewards(r: &crate::Run, plan: &str, events: &str) -> Vec<String> {
    let mut engine = fanli_engine::Engine::new(fanli_format::parse_plan(plan).unwrap());
    let outcome = fanli_format::run_stream(&mut engine, crate::timed(events).as_bytes(), true).unwrap();
    assert_eq!(crate::state(&engine, &outcome.rejected), r.state, "the same run");
    outcome
        .trace
        .iter()
        .flat_map(|line| line["effects"].as_array().cloned().unwrap_or_default())
        .filter(|e| e["effect"] == "repurchase")
        .map(|e| e["reward"].as_str().unwrap().to_owned())
        .collect()
}

#[test]
fn step_base_each_pays_each_step_of_the_order_that_earns_it() {
    // Orders of 1000, 500, 2000. "first": 30% × 1000, 20% × 1000, 10% × 1000 = 300, 200, 100.
    // "each": 30% × 1000, 20% × 500, 10% × 2000 = 300, 100, 200. Both 600 in all.
    let first = ladder("", "0.60", "");
    let r = run(&first, THREE_ORDERS);
    assert_eq!(rewards(&r, &first, THREE_ORDERS), ["300.00", "200.00", "100.00"]);
    assert_eq!(r.get("A", "wallet"), "600.00");
    let stated = ladder("step_base = \"first\"\n", "0.60", "");
    assert_eq!(run(&stated, THREE_ORDERS).state, r.state, "\"first\" is the default");
    let each = ladder("step_base = \"each\"\n", "0.60", "");
    let r = run(&each, THREE_ORDERS);
    assert_eq!(rewards(&r, &each, THREE_ORDERS), ["300.00", "100.00", "200.00"]);
    assert_eq!(r.get("A", "wallet"), "600.00");
    // The pool: 60% of 3500 = 2100 in, 600 out.
    assert_eq!(r.mechanism("r3")["pool"], "1500.00");
    assert_eq!(r.mechanism("r3")["referrals"], 3);
    assert_eq!(r.standing("A", "r3")["received"], "600.00");
}

#[test]
fn step_base_each_shows_no_base_and_the_next_steps_share() {
    let each = ladder("step_base = \"each\"\n", "0.60", "");
    let two: String = THREE_ORDERS.lines().take(3).collect::<Vec<_>>().join("\n");
    let r = run(&each, &two);
    // Two orders counted: the next (the third) pays 10% of itself, an amount not known yet.
    let s = r.standing("A", "r3");
    assert_eq!(s["base"], serde_json::Value::Null);
    assert_eq!(s["referrals"], 2);
    assert_eq!(s["progress"], "2 of 3");
    assert_eq!(s["next_reward"], serde_json::Value::Null);
    assert_eq!(s["next_share"], "10%");
    let text = fanli_engine::Figures::text(&progress(&r.engine, "A"));
    assert_eq!(
        text,
        "participant, each step a share of its own order; 2 referrals (2 of 3 this round); \
         the next qualifying order pays 10% of itself"
    );
    // All three counted, no repeat: nothing comes next.
    let done = run(&each, THREE_ORDERS);
    assert_eq!(done.standing("A", "r3")["progress"], "3 of 3");
    assert_eq!(done.standing("A", "r3")["next_share"], serde_json::Value::Null);
    assert!(fanli_engine::Figures::text(&progress(&done.engine, "A")).ends_with("the steps are complete"));
    // "first" shows its base and the next step's amount, and no share.
    let first = run(&ladder("", "0.60", ""), &two);
    let s = first.standing("A", "r3");
    assert_eq!((&s["base"], &s["next_reward"]), (&"1000.00".into(), &"100.00".into()));
    assert!(s.get("next_share").is_none(), "{s}");
    // A fixed step is an amount under either base: 12.5% of the first order, then 50.00.
    let fixed = ladder("step_base = \"each\"\n", "0.60", "")
        .replace("steps = [\"30%\", \"20%\", \"10%\"]", "steps = [\"12.5%\", \"50.00\"]\nrepeat = true");
    let one: String = THREE_ORDERS.lines().take(2).collect::<Vec<_>>().join("\n");
    let s = run(&fixed, &one).state["members"]["A"]["mechanisms"]["r3"].clone();
    assert_eq!((&s["next_reward"], &s["next_share"]), (&"50.00".into(), &serde_json::Value::Null));
    let r = run(&fixed, &two);
    assert_eq!(r.get("A", "wallet"), "175.00", "12.5% of 1000, then 50.00");
    assert_eq!(r.standing("A", "r3")["next_share"], "12.5%", "round two starts over");
}

/// A member's standing in the plan's one mechanism, a refer_refund.
fn progress(engine: &fanli_engine::Engine, member: &str) -> fanli_engine::Progress {
    let view = engine.member_view_of(engine.find_member(member).expect("a member"));
    *view.mechanisms[0].detail.get::<fanli_engine::Progress>().expect("a refer_refund standing")
}

#[test]
fn a_refund_under_clawback_takes_back_what_that_order_s_step_still_owes() {
    // Funding 10%: the pool pays the steps late, oldest first. "each" owes 300, 100, 200:
    // a1 puts 100 in (paid to a1's 300: 200 owed); a2 50 (a1's: 150 owed), and owes 100; a3 200
    // (150 ends a1's, 50 to a2's: 50 owed), and owes 200.
    let each = ladder("step_base = \"each\"\n", "0.10", "clawback = true\n");
    let refund = |order: &str| format!("{{\"type\":\"refund\",\"order\":\"{order}\"}}");
    let r = run(&each, &format!("{THREE_ORDERS}\n{}", refund("a3")));
    assert_eq!(r.get("A", "wallet"), "350.00");
    // a3's 200 was never paid: all cancelled (under "first" it would be its 10% of 1000, 100).
    assert_eq!(r.mechanism("r3")["clawback"]["cancelled"], "200.00");
    assert_eq!(r.mechanism("r3")["clawback"]["kept"], "0.00");
    assert_eq!(r.mechanism("r3")["obligations"], "50.00", "a2's rest");
    // a2's 100 was half paid: the 50 owed is cancelled, the 50 paid kept.
    let r = run(&each, &format!("{THREE_ORDERS}\n{}\n{}", refund("a3"), refund("a2")));
    assert_eq!(r.mechanism("r3")["clawback"]["cancelled"], "250.00");
    assert_eq!(r.mechanism("r3")["clawback"]["kept"], "50.00");
    assert_eq!(r.mechanism("r3")["obligations"], "0.00");
    assert_eq!(r.get("A", "wallet"), "350.00");
    // Counted orders stay counted: the next qualifying order would be the fourth.
    assert_eq!(r.standing("A", "r3")["progress"], "3 of 3");
    let first = ladder("", "0.10", "clawback = true\n");
    let r = run(&first, &format!("{THREE_ORDERS}\n{}", refund("a3")));
    assert_eq!(r.mechanism("r3")["clawback"]["cancelled"], "100.00");
}

#[test]
fn step_base_is_read_only_for_a_repurchase_ladder() {
    let referral = plan(
        "0.40",
        0,
        "qualify_min = \"100.00\"\nreferee_min = \"100.00\"\nsteps = [\"30%\"]\nstep_base = \"each\"",
    );
    let error = fanli_format::parse_plan(&referral).unwrap_err().to_string();
    assert!(
        error.contains(
            "line 10: `mechanism.r3.step_base` says which order a repurchase step is a share of: \
                        it applies only with trigger = \"repurchase\""
        ),
        "{error}"
    );
    let typo = ladder("step_base = \"every\"\n", "0.60", "");
    let error = fanli_format::parse_plan(&typo).unwrap_err().to_string();
    assert!(error.contains("`mechanism.r3.step_base` must be one of \"first\", \"each\""), "{error}");
    // An unknown key's hint lists it for a ladder, last, and not for referrals.
    let unknown = ladder("colour = \"red\"\n", "0.60", "");
    let error = fanli_format::parse_plan(&unknown).unwrap_err().to_string();
    assert!(error.ends_with("`repeat`, `indirect`, `pay_to`, `step_base`"), "{error}");
    let unknown = referral.replace("step_base = \"each\"", "colour = \"red\"");
    let error = fanli_format::parse_plan(&unknown).unwrap_err().to_string();
    assert!(error.ends_with("`repeat`, `indirect`, `pay_to`"), "{error}");
}

#[test]
fn switching_step_base_needs_the_plans_notice_and_pays_the_next_step_the_new_way() {
    // "each" pays more than "first" on a larger order and less on a smaller one: either switch
    // lowers what some member can earn, so it waits for the notice (7 days by default). The
    // steps already reached are kept; the next is paid under the new setting.
    let amend = |plan: &str, at: &str| {
        serde_json::json!({"type": "amend_plan", "effective_at": at, "plan": plan}).to_string()
    };
    let (first, each) = (ladder("", "0.60", ""), ladder("step_base = \"each\"\n", "0.60", ""));
    let two: String = THREE_ORDERS.lines().take(3).collect::<Vec<_>>().join("\n");
    let a3 = r#"{"type":"order","order":"a3","member":"A","amount":"2000.00"}"#;
    for (from, to) in [(&first, &each), (&each, &first)] {
        let at_once = format!("{two}\n{}\n{a3}", amend(to, "2026-01-01T09:03:00+08:00"));
        assert_eq!(run(from, &at_once).codes, ["notice_too_short"]);
    }
    // Seven days on, "first" to "each": 300 and 200 of the base 1000, then 10% of a3's 2000.
    let later =
        format!("{two}\n{}\n@2026-01-08T09:03:00+08:00\n{a3}", amend(&each, "2026-01-08T09:03:00+08:00"));
    let r = run(&first, &later);
    assert_eq!(r.rejected, []);
    assert_eq!(r.get("A", "wallet"), "700.00");
    assert_eq!(r.standing("A", "r3")["next_share"], serde_json::Value::Null, "3 of 3, no repeat");
    // "each" to "first": 300 and 20% of 500 = 100, then 10% of the first order's 1000 = 100.
    let later = later
        .replace(&amend(&each, "2026-01-08T09:03:00+08:00"), &amend(&first, "2026-01-08T09:03:00+08:00"));
    let r = run(&each, &later);
    assert_eq!(r.rejected, []);
    assert_eq!(r.get("A", "wallet"), "500.00");
    assert_eq!(r.standing("A", "r3")["base"], "1000.00");
}
