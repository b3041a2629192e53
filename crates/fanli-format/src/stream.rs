//! A stream applied line by line: parse, apply, and keep going past bad lines.

use std::io::{self, Read, Write};

use fanli_engine::{Engine, EventKind, Timestamp};
use serde_json::Value;

use crate::chain::Chain;
use crate::{EventLine, pool_report, trace_entry};

/// What a stream did besides the engine's state.
pub struct Outcome {
    /// Lines read (blank ones included).
    pub lines: usize,
    /// Events applied.
    pub applied: usize,
    /// Rejected lines, from 1, with why.
    pub rejected: Vec<(usize, String)>,
    /// With a trace: one entry per event line.
    pub trace: Vec<Value>,
    /// With a chain or a report: the audit chain over the accepted events.
    pub chain: Chain,
    /// With `until`: the line of the first event past it, where the run stopped.
    pub stopped_at: Option<usize>,
    /// The line whose event stopped the engine (an arithmetic overflow), and why: the engine's
    /// state is then half-changed and must not be used.
    pub halted: Option<(usize, String)>,
}

/// What a run does beyond applying the events.
#[derive(Default)]
pub struct Extras<'w> {
    /// Keep a trace entry per line.
    pub trace: bool,
    /// Stop before the first event later than this (`fanli run --until`).
    pub until: Option<Timestamp>,
    /// Write every accepted event here, chained (`fanli run --chain`).
    pub chain: Option<&'w mut dyn Write>,
    /// Write the daily pool report here, a line after each `close_day` (`fanli run --report`).
    pub report: Option<&'w mut dyn Write>,
}

/// Applies every line of `input`; a bad line is recorded and the rest still apply. Blank lines
/// are skipped (they still count in the line numbers).
///
/// Reads in large blocks and parses each line where it lies: no copy per line.
pub fn run_stream(engine: &mut Engine, input: impl Read, trace: bool) -> io::Result<Outcome> {
    run_stream_with(engine, input, Extras { trace, ..Extras::default() })
}

/// [`run_stream`] with a chain, a report or a stop time.
pub fn run_stream_with(
    engine: &mut Engine,
    mut input: impl Read,
    mut extras: Extras<'_>,
) -> io::Result<Outcome> {
    const BLOCK: usize = 1 << 20;
    let mut outcome = Outcome {
        lines: 0,
        applied: 0,
        rejected: Vec::new(),
        trace: Vec::new(),
        chain: Chain::default(),
        stopped_at: None,
        halted: None,
    };
    let mut buffer: Vec<u8> = Vec::with_capacity(BLOCK);
    // `buffer[start..]` is read and not yet applied.
    let mut start = 0;
    let mut eof = false;
    loop {
        match memchr::memchr(b'\n', &buffer[start..]) {
            Some(newline) => {
                apply_line(engine, &mut outcome, &mut extras, &buffer[start..start + newline])?;
                start += newline + 1;
                if outcome.stopped_at.is_some() || outcome.halted.is_some() {
                    return Ok(outcome);
                }
            }
            None if eof => {
                if start < buffer.len() {
                    apply_line(engine, &mut outcome, &mut extras, &buffer[start..])?;
                }
                return Ok(outcome);
            }
            None => {
                // Keep the partial line, make room for a block (or a longer line), read on.
                buffer.drain(..start);
                start = 0;
                let len = buffer.len();
                buffer.resize(len.max(BLOCK / 2) * 2, 0);
                let read = loop {
                    match input.read(&mut buffer[len..]) {
                        Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
                        other => break other,
                    }
                };
                let read = read.inspect_err(|_| buffer.truncate(len))?;
                buffer.truncate(len + read);
                eof = read == 0;
            }
        }
    }
}

fn apply_line(
    engine: &mut Engine,
    outcome: &mut Outcome,
    extras: &mut Extras<'_>,
    bytes: &[u8],
) -> io::Result<()> {
    outcome.lines += 1;
    let number = outcome.lines;
    let trace = extras.trace;
    let line = bytes.strip_suffix(b"\r").unwrap_or(bytes);
    if line.trim_ascii().is_empty() {
        return Ok(());
    }
    let parsed = EventLine::parse(line);
    let event = match parsed.as_ref().map_err(Clone::clone).and_then(|raw| raw.event()) {
        Ok(event) => event,
        Err(e) => {
            reject(engine, outcome, trace, number, "", e.to_string());
            return Ok(());
        }
    };
    if extras.until.is_some_and(|until| event.at > until) {
        outcome.lines -= 1;
        outcome.stopped_at = Some(number);
        return Ok(());
    }
    let kind = event.kind.type_name();
    // An arithmetic overflow (a plan whose numbers outgrow 64 bits) panics inside the engine,
    // whose state is then half-changed: the run stops here, naming the line.
    let applied = match std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| engine.apply(&event))) {
        Ok(applied) => applied,
        Err(panic) => {
            outcome.halted = Some((number, panic_message(&*panic).to_owned()));
            return Ok(());
        }
    };
    match applied {
        Ok(()) => {
            outcome.applied += 1;
            if trace {
                let entry = trace_entry(engine, number, kind, Ok(engine.applied()));
                outcome.trace.push(entry);
            }
            if extras.chain.is_some() || extras.report.is_some() {
                let chained = outcome.chain.link(&event);
                if let Some(out) = extras.chain.as_mut() {
                    out.write_all(chained.as_bytes())?;
                    out.write_all(b"\n")?;
                }
                if let (Some(out), EventKind::CloseDay) = (extras.report.as_mut(), &event.kind) {
                    serde_json::to_writer(&mut **out, &pool_report(engine, event.at, outcome.chain.head()))?;
                    out.write_all(b"\n")?;
                }
            }
        }
        Err(rejection) => reject(engine, outcome, trace, number, kind, rejection.to_string()),
    }
    Ok(())
}

fn reject(engine: &Engine, outcome: &mut Outcome, trace: bool, line: usize, kind: &str, error: String) {
    if trace {
        outcome.trace.push(trace_entry(engine, line, kind, Err(&error)));
    }
    outcome.rejected.push((line, error));
}

/// What a caught panic said.
pub fn panic_message(panic: &(dyn std::any::Any + Send)) -> &str {
    match (panic.downcast_ref::<&str>(), panic.downcast_ref::<String>()) {
        (Some(text), _) => text,
        (_, Some(text)) => text,
        _ => "the engine panicked",
    }
}
