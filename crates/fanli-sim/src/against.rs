//! What an amendment would change for the members a running plan already has: the core of
//! `fanli check NEW.toml --against OLD.toml --log EVENTS.jsonl` and of the server's `POST
//! /v1/plan/check?against=current`.
//!
//! The log is replayed under the old plan (or the server's engine, which is that replay, is
//! taken as it stands), and the amendment recorded at its last event, as the server would record
//! it: effective at once, or, when it lowers what members can earn, at the soonest the plan's
//! notice allows. Then `fanli check`'s sustainability scenario (the built-in year at a tenth of
//! its arrivals, the log's members buying and referring beside the newcomers) runs forward from
//! both states with the same seed, and for each member of the log it gives what each plan has
//! paid them, owes them and has them waiting for (queued) at the end. The members who joined in
//! the scenario are left out: they are the same people only in name.

use fanli_engine::{Engine, Money, Place, Plan, Rejection, Timestamp};
use fanli_format::EventLine;

/// What the comparison's scenario is, in words.
pub const SCENARIO: &str =
    "fanli simulate's built-in scenario at a tenth of its arrivals, from the log's end";

/// A member's money under one plan at the end of the scenario.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Standing {
    /// Paid by every pool so far.
    pub paid: Money,
    /// Promised by a pool and not paid.
    pub owed: Money,
    /// Queue entries still waiting.
    pub waiting: Money,
}

impl Standing {
    fn plus(self, other: Standing) -> Standing {
        Standing {
            paid: Money::from_fen(self.paid.fen() + other.paid.fen()),
            owed: Money::from_fen(self.owed.fen() + other.owed.fen()),
            waiting: Money::from_fen(self.waiting.fen() + other.waiting.fen()),
        }
    }
}

/// A member of the log whose figures differ at the end.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Changed {
    /// The member's id.
    pub member: String,
    /// Under the running plan.
    pub old: Standing,
    /// Under the amendment.
    pub new: Standing,
}

/// The comparison.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Comparison {
    /// When the amendment would take effect if recorded at the log's last event.
    pub effective_at: Timestamp,
    /// How many members the log has.
    pub members: usize,
    /// Lines of the log the engine refused (left out, as `fanli run` leaves them).
    pub log_lines_refused: usize,
    /// Every member of the log together, under the running plan.
    pub total_old: Standing,
    /// Every member of the log together, under the amendment.
    pub total_new: Standing,
    /// The members whose figures differ, in join order.
    pub changed: Vec<Changed>,
}

impl Comparison {
    /// As `fanli check --json` lists it under `amendment` (and `POST /v1/plan/check?against=current`
    /// answers it): amounts as decimal strings.
    pub fn json(&self) -> serde_json::Value {
        use serde_json::json;
        let figures = |s: &Standing| json!({"paid": s.paid.to_string(), "owed": s.owed.to_string(), "waiting": s.waiting.to_string()});
        let changed: Vec<serde_json::Value> = self
            .changed
            .iter()
            .map(|m| json!({"member": m.member, "old": figures(&m.old), "new": figures(&m.new)}))
            .collect();
        json!({
            "effective_at": self.effective_at.to_string(),
            "scenario": SCENARIO,
            "members": self.members,
            "log_lines_refused": self.log_lines_refused,
            "total": {"old": figures(&self.total_old), "new": figures(&self.total_new)},
            "changed": changed,
        })
    }
}

/// Why there is no comparison: the amendment would be refused (with the rejection's code), or
/// the log or the simulation could not be read or run.
#[derive(Clone, Debug)]
pub struct NoComparison {
    /// The rejection's code, when the engine refuses the amendment.
    pub code: Option<&'static str>,
    /// What is wrong.
    pub message: String,
}

impl NoComparison {
    /// A failure that is not the engine's refusal.
    pub fn failed(message: String) -> NoComparison {
        NoComparison { code: None, message }
    }

    fn refused(rejection: &Rejection) -> NoComparison {
        NoComparison { code: Some(rejection.code()), message: rejection.to_string() }
    }

    /// As `fanli check --json` lists it under `amendment`: `{"refused": {"code", "message"}}` or
    /// `{"error"}`.
    pub fn json(&self) -> serde_json::Value {
        match self.code {
            Some(code) => serde_json::json!({"refused": {"code": code, "message": self.message}}),
            None => serde_json::json!({"error": self.message}),
        }
    }
}

impl std::fmt::Display for NoComparison {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self.code {
            Some(code) => write!(f, "the amendment would be refused ({code}): {}", self.message),
            None => f.write_str(&self.message),
        }
    }
}

/// The comparison of the amendment `new_text` with `old` for the log read from `log` (named
/// `name` in messages).
pub fn compare_log(
    old: Plan,
    new_text: &str,
    log: impl std::io::Read,
    name: &str,
) -> Result<Comparison, NoComparison> {
    let unreadable = |e: std::io::Error| NoComparison::failed(format!("cannot read {name}: {e}"));
    let mut engine = Engine::new(old);
    engine.record(false);
    let outcome = fanli_format::run_stream(&mut engine, log, false).map_err(unreadable)?;
    compare(engine, outcome.rejected.len(), new_text, name)
}

/// The comparison of the amendment `new_text` with the plan of `engine`, the state a log left
/// (named `name` in messages; `refused` of its lines were left out).
pub fn compare(
    engine: Engine,
    refused: usize,
    new_text: &str,
    name: &str,
) -> Result<Comparison, NoComparison> {
    fanli_format::parse_plan(new_text).map_err(|e| NoComparison::failed(format!("the new plan: {e}")))?;
    let now = engine
        .now()
        .ok_or_else(|| NoComparison::failed(format!("{name}: the log has no event to amend after")))?;
    let mut amended = engine.clone();
    let effective_at = match amend(&mut amended, new_text, now, now) {
        Ok(()) => now,
        Err(Rejection::NoticeTooShort { earliest, .. }) => {
            amend(&mut amended, new_text, now, earliest).map_err(|r| NoComparison::refused(&r))?;
            earliest
        }
        Err(r) => return Err(NoComparison::refused(&r)),
    };
    let members = engine.member_count();
    let names: Vec<String> =
        (0..members).map(|i| engine.member_name(engine.member_id(i)).to_owned()).collect();
    let scenario = crate::Scenario::check_scenario();
    let run = |engine: Engine| -> Result<Vec<Standing>, NoComparison> {
        let sim = crate::simulate_from(engine, &scenario, &mut std::io::sink(), |_, _| {})
            .map_err(|e| NoComparison::failed(format!("the simulation could not run: {e}")))?;
        Ok((0..members).map(|i| standing(&sim.engine, i)).collect())
    };
    let (before, after) = (run(engine)?, run(amended)?);
    let total = |all: &[Standing]| all.iter().fold(Standing::default(), |t, s| t.plus(*s));
    let changed = before
        .iter()
        .zip(&after)
        .zip(names)
        .filter(|((b, a), _)| b != a)
        .map(|((b, a), member)| Changed { member, old: *b, new: *a })
        .collect();
    Ok(Comparison {
        effective_at,
        members,
        log_lines_refused: refused,
        total_old: total(&before),
        total_new: total(&after),
        changed,
    })
}

/// Records the amendment at `at`, to take effect at `effective_at`.
fn amend(engine: &mut Engine, plan: &str, at: Timestamp, effective_at: Timestamp) -> Result<(), Rejection> {
    let line = serde_json::json!({"at": at.to_string(), "type": "amend_plan", "effective_at": effective_at.to_string(), "plan": plan})
        .to_string();
    let read = EventLine::parse(line.as_bytes()).expect("a line written here");
    engine.apply(&read.event().expect("the plan was read already"))
}

/// Member `index`'s figures at the end.
fn standing(engine: &Engine, index: usize) -> Standing {
    let view = engine.member_view_of(engine.member_id(index));
    view.mechanisms.iter().fold(Standing::default(), |s, m| {
        let waiting = m.detail.get::<Place>().map_or(Money::ZERO, |p| p.waiting);
        s.plus(Standing { paid: m.received, owed: m.owed, waiting })
    })
}
