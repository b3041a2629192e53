//! One line of an event stream applied to an engine: the one path every reader of events takes
//! (`fanli run`, the server's writer and its replays, the simulator, `audit verify`, the
//! benchmarks), so that they accept and refuse the same lines with the same codes.

use fanli_engine::{Engine, Event};

use crate::{EventError, EventLine};

/// Why a line was refused: nothing changed.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Refusal {
    /// The event's `type`, when the line was read that far (empty otherwise).
    pub kind: &'static str,
    /// The stable snake_case code (see `docs/rejections.md`).
    pub code: &'static str,
    /// What is wrong, for people.
    pub error: String,
}

impl From<EventError> for Refusal {
    fn from(e: EventError) -> Refusal {
        Refusal { kind: "", code: e.code, error: e.message }
    }
}

/// What a line came to.
#[derive(Debug)]
pub enum LineOutcome<'e> {
    /// Nothing but whitespace: skipped, as every reader skips it.
    Blank,
    /// Applied: the event, whose postings and effects are [`Engine::applied`] until the next.
    Accepted(Event<'e>),
    /// Refused, and nothing changed.
    Refused(Refusal),
}

/// Applies a line's event, read already (`read`: what [`EventLine::event`] gave), or says why
/// not.
pub fn apply<'e>(engine: &mut Engine, read: Result<Event<'e>, EventError>) -> LineOutcome<'e> {
    let event = match read {
        Ok(event) => event,
        Err(e) => return LineOutcome::Refused(e.into()),
    };
    match engine.apply(&event) {
        Ok(()) => LineOutcome::Accepted(event),
        Err(rejection) => LineOutcome::Refused(Refusal {
            kind: event.kind.type_name(),
            code: rejection.code(),
            error: rejection.to_string(),
        }),
    }
}

/// Reads `bytes` (one line, without its newline) into `slot` and applies it: [`apply`] for a
/// reader that has the line's bytes in hand.
pub fn apply_bytes<'e, 'l: 'e>(
    engine: &mut Engine,
    slot: &'e mut EventLine<'l>,
    bytes: &'l [u8],
) -> LineOutcome<'e> {
    let bytes = bytes.strip_suffix(b"\r").unwrap_or(bytes);
    if bytes.trim_ascii().is_empty() {
        return LineOutcome::Blank;
    }
    match slot.read(bytes) {
        Ok(()) => apply(engine, slot.event()),
        Err(e) => LineOutcome::Refused(e.into()),
    }
}

/// Reads a JSON object parsed already into `slot` ([`EventLine::read_object`]: as an event of
/// type `kind`, if given, and at `at` when it has no time) and applies it: [`apply`] for a
/// reader that has the event's fields in hand, as the server has a request's body.
pub fn apply_object<'e, 'l: 'e>(
    engine: &mut Engine,
    slot: &'e mut EventLine<'l>,
    object: &'l serde_json::Map<String, serde_json::Value>,
    kind: Option<&'l str>,
    at: Option<&'l str>,
) -> LineOutcome<'e> {
    match slot.read_object(object, kind, at) {
        Ok(()) => apply(engine, slot.event()),
        Err(e) => LineOutcome::Refused(e.into()),
    }
}
