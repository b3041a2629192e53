//! The engine's tests, one binary: scenarios with hand-computed numbers per mechanism, the
//! seeds' worked examples, input that must be refused, and properties over random streams.

mod ad_tasks;
mod amend;
mod antifraud;
mod appreciation;
mod clawback;
mod coalition;
mod compliance;
mod cycle;
mod distribution;
mod green_points;
mod loyalty;
mod orders;
mod overflow;
mod pause;
mod props;
mod queue;
mod refer_refund;
#[cfg(feature = "snapshot")]
mod snapshot;
mod timestamps;
mod vote;
mod withdrawals;

use fanli_engine::Engine;
use fanli_format::{parse_plan, run_stream, state_json};
use serde_json::Value;

/// A plan run over a stream, with the state as JSON for assertions.
pub struct Run {
    /// The engine after the stream.
    pub engine: Engine,
    /// The rejected lines, from 1, with their messages.
    pub rejected: Vec<(usize, String)>,
    /// The rejected lines' codes, in order.
    pub codes: Vec<&'static str>,
    /// `fanli run --json`'s document.
    pub state: Value,
}

impl Run {
    /// A member's JSON (`wallet`, `credit`, `spent`, `points`, `mechanisms`).
    pub fn member(&self, id: &str) -> &Value {
        &self.state["members"][id]
    }
    /// A mechanism's JSON (`pool`, `obligations`, ...).
    pub fn mechanism(&self, id: &str) -> &Value {
        &self.state["mechanisms"][id]
    }
    /// A member's field as a string, e.g. `run.get("A", "wallet")`.
    pub fn get(&self, member: &str, field: &str) -> &str {
        self.member(member)[field]
            .as_str()
            .unwrap_or_else(|| panic!("members.{member}.{field} in {}", self.state))
    }
    /// A member's standing in a mechanism, e.g. `run.standing("A", "r3")["received"]`.
    pub fn standing(&self, member: &str, mechanism: &str) -> &Value {
        &self.member(member)["mechanisms"][mechanism]
    }
    /// The rejected line numbers.
    pub fn rejected_lines(&self) -> Vec<usize> {
        self.rejected.iter().map(|(line, _)| *line).collect()
    }
}

/// Runs `events` (one JSON object a line) under `plan`. A line without `"at"` gets one: a
/// minute after the previous such line, from 2026-01-01 09:00 (+08:00). A line `@TIME` moves that
/// clock to TIME (`@2026-01-08T00:00:00+08:00`); it is not an event, and is blank in numbering.
pub fn run(plan: &str, events: &str) -> Run {
    let plan = parse_plan(plan).unwrap_or_else(|e| panic!("the test plan is valid: {e}"));
    let mut engine = Engine::new(plan);
    let stream = timed(events);
    let outcome = run_stream(&mut engine, stream.as_bytes(), false).expect("reading from memory");
    let state = state(&engine, &outcome.rejected);
    assert_eq!(state["accounts_balance"], Value::Bool(true), "the books balance");
    let rejected = outcome.rejected.iter().map(|r| (r.line, r.refusal.error.clone())).collect();
    let codes = outcome.rejected.iter().map(|r| r.refusal.code).collect();
    Run { engine, rejected, codes, state }
}

/// The state document as JSON.
pub fn state(engine: &Engine, rejected: &[fanli_format::Rejected]) -> Value {
    let mut bytes = Vec::new();
    state_json(engine, rejected, None, &mut bytes).expect("writing to memory");
    serde_json::from_slice(&bytes).expect("the state is JSON")
}

/// `events` with an `"at"` added to each line without one (see [`run`]).
pub fn timed(events: &str) -> String {
    let mut clock: (String, u32) = ("2026-01-01T".to_owned(), 9 * 60);
    let mut out = String::new();
    for line in events.lines() {
        let line = line.trim();
        if let Some(time) = line.strip_prefix('@') {
            // "2026-01-08T00:00:00+08:00" → date part and minutes of the day.
            let (date, rest) = time.split_at(11);
            let minutes = rest[0..2].parse::<u32>().unwrap() * 60 + rest[3..5].parse::<u32>().unwrap();
            clock = (date.to_owned(), minutes);
            out.push('\n');
            continue;
        }
        if line.is_empty() || line.contains("\"at\"") {
            out.push_str(line);
        } else {
            let at = format!("{}{:02}:{:02}:00+08:00", clock.0, clock.1 / 60, clock.1 % 60);
            clock.1 += 1;
            assert!(clock.1 < 24 * 60, "a test day has at most 15 hours of events");
            out.push_str(&line.replacen('{', &format!("{{\"at\":\"{at}\","), 1));
        }
        out.push('\n');
    }
    out
}
