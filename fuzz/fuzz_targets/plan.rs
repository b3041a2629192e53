//! The plan parser, and the engine built from what it accepts.
//!
//! The input is read as UTF-8 text (non-UTF-8 inputs are skipped) and given to `parse_plan_lines`;
//! an accepted plan also goes through `fanli check`'s rules.
//! A bad plan must come back as `Err(PlanErrors)`; a plan it accepts must pass
//! `Engine::new` (which asserts the plan's invariants) and then take a few fixed events
//! (joins, orders, day closes, and an event naming each mechanism id) without panicking,
//! with the accounts balanced at the end.

#![no_main]

use fanli_engine::{Engine, Event, EventKind, Money, Order, SellAmount, Timestamp};
use fanli_format::parse_plan_lines;
use libfuzzer_sys::fuzz_target;

fn at(text: &str) -> Timestamp {
    Timestamp::parse_rfc3339(text).expect("fixed timestamps parse")
}

fn money(text: &str) -> Money {
    Money::parse(text).expect("fixed amounts parse")
}

fn order<'a>(id: &'a str, member: &'a str, amount: &str) -> EventKind<'a> {
    EventKind::Order(Order {
        id,
        member,
        amount: money(amount),
        profit: None,
        store: None,
        partner: None,
        credit: Money::ZERO,
    })
}

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else { return };
    let Ok((plan, lines)) = parse_plan_lines(text) else { return };
    // `fanli check` on whatever the parser accepts: no panic, and every finding's key has a line.
    for finding in fanli_engine::compliance::check(&plan) {
        assert!(lines.line(&finding.key) >= 1);
    }
    // Every mechanism id the plan accepted, to name in events below.
    let ids: Vec<String> = plan.mechanisms.iter().map(|m| m.id.clone()).collect();
    let days = plan.settle_after_days;
    let mut engine = Engine::new(plan);

    let t0 = at("2026-01-01T09:00:00+08:00");
    let mut events = vec![
        Event { at: t0, kind: EventKind::Join { member: "A", referrer: None, phone: None, device: None, ip: None } },
        Event { at: t0, kind: order("A-1", "A", "1000.00") },
        Event {
            at: t0,
            kind: EventKind::Join { member: "B", referrer: Some("A"), phone: None, device: None, ip: None },
        },
        Event { at: t0, kind: order("B-1", "B", "1500.00") },
        Event { at: at("2026-01-01T23:59:59+08:00"), kind: EventKind::CloseDay },
    ];
    for id in &ids {
        events.push(Event { at: t0, kind: EventKind::Inject { mechanism: id, amount: money("500.00") } });
        events.push(Event {
            at: t0,
            kind: EventKind::Sell { member: "A", mechanism: id, points: SellAmount::All },
        });
    }
    // A day close once the refund window has passed, so every order settles.
    let later = Timestamp::from_unix_nanos(
        t0.unix_nanos() + (i64::from(days) + 1) * 86_400 * 1_000_000_000,
    );
    events.push(Event { at: later, kind: EventKind::CloseDay });
    events.push(Event { at: later, kind: order("A-2", "A", "99999.99") });
    events.push(Event { at: later, kind: EventKind::CloseDay });

    // The inject/sell events are at t0 but come after a later day close: sort by time so none
    // is refused as going backwards (the sort is stable).
    events.sort_by_key(|e| e.at);
    for event in &events {
        let _ = engine.apply(event);
    }
    assert!(engine.accounts_balance(), "accounts do not balance");
});
