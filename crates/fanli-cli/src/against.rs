//! `fanli check NEW.toml --against OLD.toml --log EVENTS.jsonl`: what an amendment would change
//! for the members a running plan already has.
//!
//! The log is replayed under the old plan, and the amendment recorded at its last event, as the
//! server would record it: effective at once, or, when it lowers what members can earn, at the
//! soonest the plan's notice allows. Then `fanli check`'s sustainability scenario (the built-in
//! year at a tenth of its arrivals, the log's members buying and referring beside the newcomers)
//! runs forward from both states with the same seed, and for each member of the log it shows
//! what each plan has paid them, owes them and has them waiting for (queued) at the end. The
//! members who joined in the scenario are left out: they are the same people only in name.

use fanli_engine::{Engine, Money, Place, Rejection};
use fanli_format::EventLine;
use serde_json::{Value, json};

/// A member's money under one plan at the end of the scenario.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
struct Standing {
    /// Paid by every pool so far.
    paid: Money,
    /// Promised by a pool and not paid.
    owed: Money,
    /// Queue entries still waiting.
    waiting: Money,
}

/// Why there is no comparison: the amendment would be refused (with the rejection's code), or
/// the log or the simulation could not be read or run.
#[derive(Clone, Debug)]
pub(crate) struct NoComparison {
    /// The rejection's code, when the engine refuses the amendment.
    pub(crate) code: Option<&'static str>,
    /// What is wrong.
    pub(crate) message: String,
}

impl NoComparison {
    pub(crate) fn failed(message: String) -> NoComparison {
        NoComparison { code: None, message }
    }

    fn refused(rejection: &Rejection) -> NoComparison {
        NoComparison { code: Some(rejection.code()), message: rejection.to_string() }
    }

    /// As `fanli check --json` lists it under `amendment`.
    pub(crate) fn json(&self) -> Value {
        match self.code {
            Some(code) => json!({"refused": {"code": code, "message": self.message}}),
            None => json!({"error": self.message}),
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

/// The comparison as a JSON document (`amendment` in `fanli check --json`), or why there is
/// none.
pub(crate) fn compare(
    old: fanli_engine::Plan,
    new_text: &str,
    log: &std::path::Path,
) -> Result<Value, NoComparison> {
    let unreadable = |e: std::io::Error| NoComparison::failed(format!("cannot read {}: {e}", log.display()));
    let mut engine = Engine::new(old);
    engine.record(false);
    let file = std::fs::File::open(log).map_err(unreadable)?;
    let outcome = fanli_format::run_stream(&mut engine, file, false).map_err(unreadable)?;
    let now = engine.now().ok_or_else(|| {
        NoComparison::failed(format!("{}: the log has no event to amend after", log.display()))
    })?;
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
    let scenario = fanli_sim::Scenario::check_scenario();
    let run = |engine: Engine| -> Result<Vec<Standing>, NoComparison> {
        let sim = fanli_sim::simulate_from(engine, &scenario, &mut std::io::sink(), |_, _| {})
            .map_err(|e| NoComparison::failed(format!("the simulation could not run: {e}")))?;
        Ok((0..members).map(|i| standing(&sim.engine, i)).collect())
    };
    let (before, after) = (run(engine)?, run(amended)?);
    let figures = |s: &Standing| json!({"paid": s.paid.to_string(), "owed": s.owed.to_string(), "waiting": s.waiting.to_string()});
    let total = |all: &[Standing]| {
        all.iter().fold(Standing::default(), |t, s| Standing {
            paid: Money::from_fen(t.paid.fen() + s.paid.fen()),
            owed: Money::from_fen(t.owed.fen() + s.owed.fen()),
            waiting: Money::from_fen(t.waiting.fen() + s.waiting.fen()),
        })
    };
    let changed: Vec<Value> = before
        .iter()
        .zip(&after)
        .enumerate()
        .filter(|(_, (b, a))| b != a)
        .map(|(i, (b, a))| json!({"member": names[i], "old": figures(b), "new": figures(a)}))
        .collect();
    Ok(json!({
        "effective_at": effective_at.to_string(),
        "scenario": "fanli simulate's built-in scenario at a tenth of its arrivals, from the log's end",
        "members": members,
        "log_lines_refused": outcome.rejected.len(),
        "total": {"old": figures(&total(&before)), "new": figures(&total(&after))},
        "changed": changed,
    }))
}

/// Records the amendment at `at`, to take effect at `effective_at`.
fn amend(
    engine: &mut Engine,
    plan: &str,
    at: fanli_engine::Timestamp,
    effective_at: fanli_engine::Timestamp,
) -> Result<(), Rejection> {
    let line = json!({"at": at.to_string(), "type": "amend_plan", "effective_at": effective_at.to_string(), "plan": plan})
        .to_string();
    let read = EventLine::parse(line.as_bytes()).expect("a line written here");
    engine.apply(&read.event().expect("the plan was read already"))
}

/// Member `index`'s figures at the end.
fn standing(engine: &Engine, index: usize) -> Standing {
    let view = engine.member_view_of(engine.member_id(index));
    view.mechanisms.iter().fold(Standing::default(), |s, m| Standing {
        paid: Money::from_fen(s.paid.fen() + m.received.fen()),
        owed: Money::from_fen(s.owed.fen() + m.owed.fen()),
        waiting: Money::from_fen(s.waiting.fen() + m.detail.get::<Place>().map_or(0, |p| p.waiting.fen())),
    })
}

/// The comparison for people.
pub(crate) fn write(out: &mut impl std::io::Write, doc: &Value) -> std::io::Result<()> {
    let text = |v: &Value| v.as_str().unwrap_or_default().to_owned();
    writeln!(out, "amendment, effective at {} ({}):", text(&doc["effective_at"]), text(&doc["scenario"]))?;
    let (old, new) = (&doc["total"]["old"], &doc["total"]["new"]);
    writeln!(out, "    {:<16} {:>16} {:>16}", "all members", "old plan", "new plan")?;
    for key in ["paid", "owed", "waiting"] {
        writeln!(out, "    {key:<16} {:>16} {:>16}", text(&old[key]), text(&new[key]))?;
    }
    let changed = doc["changed"].as_array().map_or(&[][..], Vec::as_slice);
    writeln!(out, "    {} of {} members of the log end with other figures", changed.len(), doc["members"])?;
    for m in changed.iter().take(20) {
        let figures = |which: &str| {
            let f = &m[which];
            format!("paid {} owed {} waiting {}", text(&f["paid"]), text(&f["owed"]), text(&f["waiting"]))
        };
        writeln!(out, "    {}: {} → {}", text(&m["member"]), figures("old"), figures("new"))?;
    }
    Ok(())
}
