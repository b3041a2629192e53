//! 返现池不足时暂停 (seed 000): with `pause_when_underfunded`, while a mechanism owes more than
//! its pool holds nobody new qualifies and no new entry joins; existing promises are paid first.

use fanli_engine::Engine;
use fanli_format::{parse_plan, run_stream};

use crate::run;

const PLAN: &str = r#"name = "pause"
settle_after_days = 0
pause_when_underfunded = true
[[mechanism]]
id = "r"
kind = "refer_refund"
funding_rate = "0.10"
qualify_min = "100.00"
referee_min = "100.00"
steps = ["100%"]
"#;

const EVENTS: &str = r#"{"type":"join","member":"A"}
{"type":"order","order":"a","member":"A","amount":"1000.00"}
{"type":"join","member":"B","referrer":"A"}
{"type":"order","order":"b","member":"B","amount":"1000.00"}
{"type":"join","member":"C"}
{"type":"order","order":"c1","member":"C","amount":"1000.00"}"#;

#[test]
fn an_underfunded_refund_pool_lets_nobody_new_qualify_until_it_has_paid() {
    // B's referral owes A 1000 with 200 in the pool: paused, 800 owed. C's order funds 100 more
    // but C does not become a participant; the 100 goes to A.
    let paused = run(PLAN, EVENTS);
    assert_eq!(paused.mechanism("r")["paused"], true);
    assert_eq!(paused.mechanism("r")["obligations"], "700.00");
    assert_eq!(paused.get("A", "wallet"), "300.00");
    assert_eq!(paused.standing("C", "r")["base"], serde_json::Value::Null);
    assert_eq!(paused.mechanism("r")["participants"], 2);

    let more = r#"{"type":"inject","mechanism":"r","amount":"700.00"}
{"type":"order","order":"c2","member":"C","amount":"500.00"}"#;
    let resumed = run(PLAN, &format!("{EVENTS}\n{more}"));
    // The inject pays A in full and ends the pause: C's next order qualifies, on its own amount.
    assert_eq!(resumed.mechanism("r")["paused"], false);
    assert_eq!(resumed.get("A", "wallet"), "1000.00");
    assert_eq!(resumed.standing("C", "r")["base"], "500.00");
}

#[test]
fn the_pause_and_its_end_are_in_the_trace() {
    let more = r#"{"type":"inject","mechanism":"r","amount":"700.00"}"#;
    let mut engine = Engine::new(parse_plan(PLAN).unwrap());
    let outcome =
        run_stream(&mut engine, crate::timed(&format!("{EVENTS}\n{more}")).as_bytes(), true).unwrap();
    let named = |line: usize, effect: &str| {
        outcome.trace[line - 1]["effects"].as_array().unwrap().iter().find(|e| e["effect"] == effect).cloned()
    };
    let paused = named(4, "paused").expect("B's order starts the pause");
    assert_eq!(paused["owed"], "800.00");
    assert_eq!(paused["pool"], "0.00");
    assert_eq!(named(6, "held_back").expect("C is held back")["member"], "C");
    assert!(named(7, "resumed").is_some(), "the inject ends it");
}

#[test]
fn a_mechanism_may_set_its_own_pause_and_green_lots_wait_too() {
    // The plan pauses nothing; the green mechanism pauses itself. 3000 earns 9000 points
    // releasing 900 a day against a 300 pool: after the first close it owes 600.
    let plan = r#"name = "green pause"
settle_after_days = 0
[[mechanism]]
id = "g"
kind = "green_points"
funding_rate = "0.10"
pause_when_underfunded = true
tiers = [{ min = "1000.00", multiple = "3" }]
daily_release_rate = "0.30"
"#;
    let events = r#"{"type":"join","member":"A"}
{"type":"order","order":"a1","member":"A","amount":"3000.00"}
{"type":"close_day"}
{"type":"order","order":"a2","member":"A","amount":"3000.00"}"#;
    let r = run(plan, events);
    // The second order funds 300 (paid to A at once) but earns no lot: 300 still owed.
    assert_eq!(r.mechanism("g")["paused"], true);
    assert_eq!(r.mechanism("g")["obligations"], "300.00");
    assert_eq!(r.member("A")["points"]["g"], "8100.0000");
    assert_eq!(r.standing("A", "g")["lots"], 1);
}
