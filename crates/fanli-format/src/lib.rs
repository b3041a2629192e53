//! fanli's boundary: the plan file and the event stream in, the state and the trace out.
//!
//! The engine knows nothing of TOML or JSON; this crate turns text into engine values (with
//! errors that name the line and the key) and engine views into the documented JSON shapes.

pub mod chain;
mod event;
pub mod export;
pub mod line;
pub mod merkle;
mod output;
mod plan;
mod stream;
pub mod strict;
pub mod transparency;

pub use event::{EventError, EventLine};
pub use line::{LineOutcome, Refusal, apply, apply_at, apply_bytes, apply_object};
pub use output::{
    DailyReport, HistoryEntry, Movement, PoolFigures, Signed, blank_entry, findings_json, mechanisms_json,
    member_history, member_json, member_postings, notifications, pool_report, proposal_json, review_json,
    state_json, state_json_each, trace_entry,
};
pub use plan::{KeyLines, PlanError, PlanErrors, SetKeyError, parse_plan, parse_plan_lines, set_plan_key};
pub use stream::{Extras, Outcome, Rejected, run_stream, run_stream_with};
