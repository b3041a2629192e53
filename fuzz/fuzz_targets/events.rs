//! The event-stream parser, and the engine behind it.
//!
//! The input is split into lines (any bytes: the parser must refuse bad UTF-8). Every line goes through
//! `EventLine::parse` and, when that is Ok, `EventLine::event`; every event that comes out is
//! applied to two engines running a fixed plan with one mechanism of each kind (one settling
//! orders at once, one after a 7-day refund window). A bad line must
//! come back as an `Err` (from the parser) or a `Rejection` (from the engine), never a panic,
//! and after all the lines the engine's accounts must still balance.
//!
//! Found so far: `at` years beyond what i64 nanoseconds hold overflowed (now refused: fanli reads
//! 1900 to 2200), and so did the longest refund window and queue lock added to a late time (the
//! third engine below, with both at their maximum, keeps that covered). Inputs in known_crashes/.

#![no_main]

use fanli_engine::{Engine, Plan};
use fanli_format::{EventLine, parse_plan};
use libfuzzer_sys::fuzz_target;
use std::sync::OnceLock;

/// The bundled example plan, with `settle_after_days = 0` so orders settle at once and every
/// order reaches the mechanisms.
const PLAN: &str = r#"
name = "fuzz: appreciation + refer_refund + queue"
settle_after_days = 0
timezone = "+08:00"
margin_rate = "0.70"

[[mechanism]]
id = "appr"
kind = "appreciation"
funding_rate = "0.20"
mint_ratio = "0.70"
initial_price = "1.00"
sell_fee = "0.20"
exit_multiple = "2"

[[mechanism]]
id = "r3"
kind = "refer_refund"
funding_rate = "0.30"
qualify_min = "1000.00"
referee_min = "1000.00"
steps = ["10%", "20%", "70%"]
repeat = true

[[mechanism]]
id = "union"
kind = "queue"
funding_rate = "0.10"
min_order = "100.00"
credit_ratio = "1.0"
lock_days = 15
release = "when_funded"
referral_acceleration = "0.20"
"#;

fuzz_target!(|data: &[u8]| {
    // The same plan three times: settling at once (every order reaches the mechanisms), with the
    // example's 7-day refund window (orders wait, refunds cancel, day closes settle), and with the
    // longest window and queue lock a plan may have.
    static PLANS: OnceLock<[Plan; 3]> = OnceLock::new();
    let plans = PLANS.get_or_init(|| {
        let parse = |text: &str| parse_plan(text).expect("the fixed fuzz plans are valid");
        let at_once = parse(PLAN);
        let delayed = parse(&PLAN.replace("settle_after_days = 0", "settle_after_days = 7"));
        let longest = parse(
            &PLAN.replace("settle_after_days = 0", "settle_after_days = 365").replace("lock_days = 15", "lock_days = 3650"),
        );
        assert_eq!([&at_once, &delayed, &longest].map(|p| p.settle_after_days), [0, 7, 365]);
        [at_once, delayed, longest]
    });
    let mut engines = plans.clone().map(Engine::new);
    for line in data.split(|&b| b == b'\n') {
        let Ok(parsed) = EventLine::parse(line) else { continue };
        let Ok(event) = parsed.event() else { continue };
        // A rejection is a fine answer; only a panic is a finding.
        for engine in &mut engines {
            let _ = engine.apply(&event);
        }
    }
    for engine in &engines {
        let days = engine.plan().settle_after_days;
        assert!(engine.accounts_balance(), "accounts do not balance (settle_after_days = {days})");
    }
});
