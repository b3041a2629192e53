//! The event-stream parser, and the engine behind it.
//!
//! The input is split into lines (any bytes: the parser must refuse bad UTF-8). Every line goes through
//! `EventLine::parse` and, when that is Ok, `EventLine::event`; every event that comes out is
//! applied to three engines running `bench/plan-all.toml`, one mechanism of each kind (one
//! settling orders at once, one after a 7-day refund window with clawback and the underfunded
//! pause, one with the longest windows a plan allows). A bad line must
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

/// The benchmark's plan with every kind of mechanism (`bench/plan-all.toml`), whose refund
/// window is 7 days.
const PLAN: &str = include_str!("../../bench/plan-all.toml");

fuzz_target!(|data: &[u8]| {
    // The same plan three times: settling at once (every order reaches the mechanisms), with its
    // 7-day refund window plus clawback and the underfunded pause (orders wait, refunds cancel or
    // claw back, day closes settle), and with the longest window, queue lock and expiry a plan
    // may have.
    static PLANS: OnceLock<[Plan; 3]> = OnceLock::new();
    let plans = PLANS.get_or_init(|| {
        let parse = |text: &str| parse_plan(text).expect("the fixed fuzz plans are valid");
        let at_once = parse(&PLAN.replace("settle_after_days = 7", "settle_after_days = 0"));
        let delayed = parse(
            &(PLAN.replace("settle_after_days = 7", "settle_after_days = 7\nclawback = true\npause_when_underfunded = true")
                + "\n[antifraud]\nmax_per_device = 2\nmax_per_ip = 2\nshared_device = true\nrings = true\n\
                   burst = { referees = 2, hours = 24 }\nquiet = { days = 2, max_amount = \"500.00\" }\n"),
        );
        let longest = parse(
            &PLAN
                .replace("settle_after_days = 7", "settle_after_days = 365")
                .replace("lock_days = 15", "lock_days = 3650")
                .replace("expiry_days = 300", "expiry_days = 3650"),
        );
        assert!(delayed.clawback && delayed.mechanisms.iter().all(|m| m.pause_when_underfunded));
        assert!(delayed.antifraud.is_some());
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
