//! One line of an event stream applied to an engine: the one path every reader of events takes
//! (`fanli run`, the server's writer and its replays, the simulator, `audit verify`, the
//! benchmarks), so that they accept and refuse the same lines with the same codes.

use fanli_engine::{Engine, Event, Timestamp, UtcOffset};

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
        Ok(()) => {
            let slot: &'e EventLine<'l> = slot;
            at_input_offset(apply(engine, slot.event()), slot)
        }
        Err(e) => LineOutcome::Refused(e.into()),
    }
}

/// A refusal's times shown at the offset the line's own `at` was written at: an event stamped
/// `+08:00` that is refused names times at `+08:00`, as its author wrote them, not in UTC.
/// The engine knows instants only (and its messages show them in UTC); the UTC times of the
/// message (`YYYY-MM-DDTHH:MM:SS[.f]Z`, the one way the engine writes a time) are rewritten
/// here. A line stamped in UTC keeps its message byte for byte.
pub(crate) fn at_input_offset<'e>(outcome: LineOutcome<'e>, line: &EventLine<'_>) -> LineOutcome<'e> {
    match line.offset() {
        Some(offset) => at_offset(outcome, offset),
        None => outcome,
    }
}

/// A refusal's UTC times shown at `offset`.
fn at_offset(outcome: LineOutcome<'_>, offset: UtcOffset) -> LineOutcome<'_> {
    match outcome {
        LineOutcome::Refused(mut refusal) if offset != UtcOffset::UTC => {
            refusal.error = times_at(&refusal.error, offset);
            LineOutcome::Refused(refusal)
        }
        other => other,
    }
}

/// Applies an event built already from the values of a line whose `at` is written at `offset`:
/// what [`apply_bytes`] does with that line once it has read it, for a writer that builds the
/// event and its line from the same values (the simulator) and so need not read the line back.
/// Such a writer owes a check that reading its lines gives its events (the simulator's is
/// `fanli_sim::simulate_checked`, which its tests and every debug build run).
pub fn apply_at<'e>(engine: &mut Engine, event: Event<'e>, offset: UtcOffset) -> LineOutcome<'e> {
    at_offset(apply(engine, Ok(event)), offset)
}

/// `message` with each UTC RFC 3339 time in it shown at `offset`.
pub(crate) fn times_at(message: &str, offset: UtcOffset) -> String {
    let b = message.as_bytes();
    let digits = |range: std::ops::Range<usize>| b[range].iter().all(u8::is_ascii_digit);
    let mut out = String::with_capacity(message.len() + 16);
    let (mut copied, mut i) = (0, 0);
    while i + 20 <= b.len() {
        let shaped = b[i + 4] == b'-'
            && b[i + 7] == b'-'
            && b[i + 10] == b'T'
            && b[i + 13] == b':'
            && b[i + 16] == b':'
            && digits(i..i + 4)
            && digits(i + 5..i + 7)
            && digits(i + 8..i + 10)
            && digits(i + 11..i + 13)
            && digits(i + 14..i + 16)
            && digits(i + 17..i + 19);
        if shaped {
            let mut end = i + 19;
            if b[end] == b'.' {
                end += 1;
                while end < b.len() && b[end].is_ascii_digit() {
                    end += 1;
                }
            }
            if end < b.len()
                && b[end] == b'Z'
                && let Some(at) = Timestamp::parse_rfc3339(&message[i..=end])
            {
                out.push_str(&message[copied..i]);
                out.push_str(&at.at_offset(offset).to_string());
                copied = end + 1;
                i = end + 1;
                continue;
            }
        }
        i += 1;
    }
    out.push_str(&message[copied..]);
    out
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
        Ok(()) => {
            let slot: &'e EventLine<'l> = slot;
            at_input_offset(apply(engine, slot.event()), slot)
        }
        Err(e) => LineOutcome::Refused(e.into()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_refusal_names_times_at_the_offset_of_its_line() {
        let china = UtcOffset::parse("+08:00").unwrap();
        assert_eq!(
            times_at(
                "time went backwards: 2026-03-03T16:00:00Z is before the previous event at 2026-03-04T01:00:00.250000000Z",
                china
            ),
            "time went backwards: 2026-03-04T00:00:00+08:00 is before the previous event at 2026-03-04T09:00:00.250000000+08:00"
        );
        // Anything else stays as it is, a member id shaped almost like a time included.
        assert_eq!(times_at("member `2026-03-03T16:00:00` 张三", china), "member `2026-03-03T16:00:00` 张三");
    }
}
