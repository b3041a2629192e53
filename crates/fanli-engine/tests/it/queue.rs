//! 排队返利: when_funded (lock days, strict FIFO), every-n (进三补一), referral acceleration.

use crate::run;

fn plan(funding: &str, keys: &str) -> String {
    format!(
        "name = \"queue\"\nsettle_after_days = 0\n[[mechanism]]\nid = \"q\"\nkind = \"queue\"\n\
         funding_rate = \"{funding}\"\nmin_order = \"100.00\"\n{keys}\n"
    )
}

fn buyers(names: &[&str], amount: &str) -> String {
    names
        .iter()
        .map(|n| {
            format!(
                "{{\"type\":\"join\",\"member\":\"{n}\"}}\n\
                 {{\"type\":\"order\",\"order\":\"{n}\",\"member\":\"{n}\",\"amount\":\"{amount}\"}}\n"
            )
        })
        .collect()
}

const WHEN_FUNDED: &str = "credit_ratio = \"1.0\"\nlock_days = 15\nrelease = \"when_funded\"";

#[test]
fn seed_001_a_referee_accelerates_20_and_80_keeps_waiting() {
    let plan = plan("0.50", &format!("{WHEN_FUNDED}\nreferral_acceleration = \"0.20\""));
    let events = r#"
        {"type":"join","member":"A"}
        {"type":"order","order":"a","member":"A","amount":"100.00"}
        {"type":"join","member":"B","referrer":"A"}
        {"type":"order","order":"b","member":"B","amount":"100.00"}
    "#;
    let r = run(&plan, events);
    assert_eq!(r.get("A", "wallet"), "20.00");
    assert_eq!(r.standing("A", "q")["waiting"], "80.00");
    assert_eq!(r.standing("A", "q")["position"], 1);
    assert_eq!(r.standing("B", "q")["position"], 2);
    assert_eq!(r.standing("B", "q")["ahead"], "80.00");
    assert_eq!(r.mechanism("q")["queued"], "180.00");
    assert_eq!(r.mechanism("q")["paid"], "20.00");
    assert_eq!(r.mechanism("q")["pool"], "80.00");
}

#[test]
fn entries_wait_out_their_lock_then_are_paid_in_order() {
    let plan = plan("0.50", WHEN_FUNDED);
    let events = format!(
        "{}{{\"type\":\"close_day\"}}\n@2026-01-16T09:00:00+08:00\n{{\"type\":\"close_day\"}}\n",
        buyers(&["A", "B", "C"], "100.00")
    );
    // A settled at 09:01 on 1 January: eligible 15 days on, at 09:01 on the 16th.
    let r = run(&plan, &events);
    assert_eq!(r.get("A", "wallet"), "0.00", "at 09:00 A is still locked");
    let events = events.replace("T09:00:00+08:00", "T09:03:00+08:00");
    let r = run(&plan, &events);
    // A (eligible 09:01) is paid from the pool of 150; B (eligible 09:03) is next, but the 50
    // left does not cover its 100, and C (09:05) is still locked.
    assert_eq!(r.get("A", "wallet"), "100.00");
    assert_eq!(r.get("B", "wallet"), "0.00", "B's 100 exceeds the 50 left");
    assert_eq!(r.mechanism("q")["pool"], "50.00");
    assert_eq!(r.standing("B", "q")["position"], 1);
}

#[test]
fn an_uncovered_head_stops_the_pass_even_when_a_later_entry_is_covered() {
    let plan = plan("0.50", "credit_ratio = \"1.0\"\nrelease = \"when_funded\"");
    let events =
        format!("{}{}{{\"type\":\"close_day\"}}\n", buyers(&["A"], "1000.00"), buyers(&["B"], "100.00"));
    let r = run(&plan, &events);
    assert_eq!(r.mechanism("q")["pool"], "550.00");
    assert_eq!(r.get("A", "wallet"), "0.00");
    assert_eq!(r.get("B", "wallet"), "0.00", "strict FIFO: B waits behind A");
    let r = run(
        &plan,
        &(events + r#"{"type":"inject","mechanism":"q","amount":"550.00"}"# + "\n{\"type\":\"close_day\"}"),
    );
    assert_eq!(r.get("A", "wallet"), "1000.00");
    assert_eq!(r.get("B", "wallet"), "100.00");
    assert_eq!(r.mechanism("q")["pool"], "0.00");
    assert_eq!(r.mechanism("q")["queued"], "0.00");
}

#[test]
fn credit_ratio_above_one_queues_more_than_was_spent() {
    let plan = plan("0.50", "credit_ratio = \"1.1\"\nrelease = \"when_funded\"");
    let r = run(&plan, &buyers(&["A"], "333.33"));
    assert_eq!(r.mechanism("q")["queued"], "366.66");
    assert_eq!(r.standing("A", "q")["waiting"], "366.66");
}

#[test]
fn acceleration_is_capped_by_the_pool_and_by_what_the_entry_waits_for() {
    let plan = plan("0.10", &format!("{WHEN_FUNDED}\nreferral_acceleration = \"0.50\""));
    let events = r#"
        {"type":"join","member":"A"}
        {"type":"order","order":"a","member":"A","amount":"100.00"}
        {"type":"join","member":"B","referrer":"A"}
        {"type":"order","order":"b1","member":"B","amount":"100.00"}
        {"type":"inject","mechanism":"q","amount":"1000.00"}
        {"type":"order","order":"b2","member":"B","amount":"500.00"}
        {"type":"order","order":"b3","member":"B","amount":"500.00"}
    "#;
    let r = run(&plan, events);
    // b1: 50 wanted, pool 20 → 20. b2: 250 wanted, A's entry waits for 80 → 80, done.
    // b3: A has no entry left waiting, nothing more.
    assert_eq!(r.get("A", "wallet"), "100.00");
    assert_eq!(r.standing("A", "q")["entries"], 0);
    assert_eq!(r.mechanism("q")["pool"], "1020.00", "10 + 10 + 1000 + 50 + 50 − 20 − 80");
    assert_eq!(r.mechanism("q")["queued"], "1100.00", "B's three entries");
}

const EVERY_3: &str = "release = { every = 3, ratio = \"0.70\" }";

#[test]
fn every_third_entry_makes_the_oldest_waiting_one_due() {
    let plan = plan("0.50", EVERY_3);
    let r = run(&plan, &buyers(&["m1", "m2", "m3", "m4", "m5", "m6", "m7"], "100.00"));
    // Entry 4 makes entry 1 due, entry 7 entry 2; each is owed 70 and the pool pays at once.
    assert_eq!(r.get("m1", "wallet"), "70.00");
    assert_eq!(r.get("m2", "wallet"), "70.00");
    assert_eq!(r.get("m3", "wallet"), "0.00");
    assert_eq!(r.mechanism("q")["queued"], "350.00");
    assert_eq!(r.mechanism("q")["pool"], "210.00");
    assert_eq!(r.standing("m3", "q")["position"], 1);
    assert_eq!(r.standing("m7", "q")["ahead"], "280.00");
}

#[test]
fn due_entries_wait_in_the_obligation_queue_when_the_pool_is_short() {
    let plan = plan("0.10", EVERY_3);
    let r = run(&plan, &buyers(&["m1", "m2", "m3", "m4"], "100.00"));
    // Entry 1 becomes due for 70 when the pool holds 40 (entry 4's funding comes first).
    assert_eq!(r.get("m1", "wallet"), "40.00");
    assert_eq!(r.standing("m1", "q")["owed"], "30.00");
    assert_eq!(r.mechanism("q")["obligations"], "30.00");
    assert_eq!(r.mechanism("q")["queued"], "210.00");
}

#[test]
fn an_entry_paid_in_full_by_acceleration_is_skipped_when_the_turn_comes() {
    let plan = plan("0.50", &format!("{EVERY_3}\nreferral_acceleration = \"1\""));
    let events = r#"
        {"type":"join","member":"m1"}
        {"type":"order","order":"1","member":"m1","amount":"100.00"}
        {"type":"join","member":"m2","referrer":"m1"}
        {"type":"order","order":"2","member":"m2","amount":"100.00"}
        {"type":"join","member":"m3"}
        {"type":"order","order":"3","member":"m3","amount":"100.00"}
        {"type":"join","member":"m4"}
        {"type":"order","order":"4","member":"m4","amount":"100.00"}
    "#;
    let r = run(&plan, events);
    assert_eq!(r.get("m1", "wallet"), "70.00", "accelerated in full by m2's order");
    assert_eq!(r.get("m2", "wallet"), "70.00", "due when entry 4 joins");
    assert_eq!(r.mechanism("q")["queued"], "140.00");
}

#[test]
fn orders_below_min_order_fund_the_pool_but_queue_nothing() {
    let plan = plan("0.50", WHEN_FUNDED);
    let r = run(&plan, &buyers(&["A"], "99.99"));
    assert_eq!(r.mechanism("q")["pool"], "49.99");
    assert_eq!(r.mechanism("q")["queued"], "0.00");
}

#[test]
fn the_place_index_follows_a_partial_acceleration_ahead() {
    // A's and B's entries wait; C (A's referee) buys: A's entry is paid 20 of 100 and still
    // waits, so B has A's 80 ahead, whichever way the place is found.
    let plan = plan("0.50", &format!("{WHEN_FUNDED}\nreferral_acceleration = \"0.20\""));
    let events = format!(
        "{}{}{{\"type\":\"join\",\"member\":\"C\",\"referrer\":\"A\"}}\n\
         {{\"type\":\"order\",\"order\":\"c\",\"member\":\"C\",\"amount\":\"100.00\"}}\n",
        buyers(&["A"], "100.00"),
        buyers(&["B"], "100.00"),
    );
    let mut engine = fanli_engine::Engine::new(fanli_format::parse_plan(&plan).unwrap());
    engine.index_places();
    fanli_format::run_stream(&mut engine, crate::timed(&events).as_bytes(), false).unwrap();
    let b = engine.find_member("B").unwrap();
    let indexed = format!("{:?}", engine.member_view_of(b));
    let passed = format!("{:?}", engine.member_views().find(|v| v.id == b).unwrap());
    assert_eq!(indexed, passed);
    assert_eq!(run(&plan, &events).standing("B", "q")["ahead"], "80.00");
}
