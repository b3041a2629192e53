//! A stream applied line by line: parse, apply, and keep going past bad lines.

use std::io::{self, Read};

use fanli_engine::Engine;
use serde_json::Value;

use crate::{EventLine, trace_entry};

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
}

/// Applies every line of `input`; a bad line is recorded and the rest still apply. Blank lines
/// are skipped (they still count in the line numbers).
///
/// Reads in large blocks and parses each line where it lies: no copy per line.
pub fn run_stream(engine: &mut Engine, mut input: impl Read, trace: bool) -> io::Result<Outcome> {
    const BLOCK: usize = 1 << 20;
    let mut outcome = Outcome { lines: 0, applied: 0, rejected: Vec::new(), trace: Vec::new() };
    let mut buffer: Vec<u8> = Vec::with_capacity(BLOCK);
    // `buffer[start..]` is read and not yet applied.
    let mut start = 0;
    let mut eof = false;
    loop {
        match memchr::memchr(b'\n', &buffer[start..]) {
            Some(newline) => {
                apply_line(engine, &mut outcome, trace, &buffer[start..start + newline]);
                start += newline + 1;
            }
            None if eof => {
                if start < buffer.len() {
                    apply_line(engine, &mut outcome, trace, &buffer[start..]);
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

fn apply_line(engine: &mut Engine, outcome: &mut Outcome, trace: bool, bytes: &[u8]) {
    outcome.lines += 1;
    let number = outcome.lines;
    let line = bytes.strip_suffix(b"\r").unwrap_or(bytes);
    if line.trim_ascii().is_empty() {
        return;
    }
    let parsed = EventLine::parse(line);
    let event = match parsed.as_ref().map_err(Clone::clone).and_then(|raw| raw.event()) {
        Ok(event) => event,
        Err(e) => return reject(engine, outcome, trace, number, "", e.to_string()),
    };
    let kind = event.kind.type_name();
    match engine.apply(&event) {
        Ok(()) => {
            outcome.applied += 1;
            if trace {
                let entry = trace_entry(engine, number, kind, Ok(engine.applied()));
                outcome.trace.push(entry);
            }
        }
        Err(rejection) => reject(engine, outcome, trace, number, kind, rejection.to_string()),
    }
}

fn reject(engine: &Engine, outcome: &mut Outcome, trace: bool, line: usize, kind: &str, error: String) {
    if trace {
        outcome.trace.push(trace_entry(engine, line, kind, Err(&error)));
    }
    outcome.rejected.push((line, error));
}
