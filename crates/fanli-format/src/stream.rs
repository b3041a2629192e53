//! A stream applied line by line: parse, apply, and keep going past bad lines.

use std::io::{self, BufRead};

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
pub fn run_stream(engine: &mut Engine, mut reader: impl BufRead, trace: bool) -> io::Result<Outcome> {
    let mut buffer = Vec::with_capacity(256);
    let mut outcome = Outcome { lines: 0, applied: 0, rejected: Vec::new(), trace: Vec::new() };
    loop {
        buffer.clear();
        if reader.read_until(b'\n', &mut buffer)? == 0 {
            break;
        }
        outcome.lines += 1;
        let number = outcome.lines;
        let line = match std::str::from_utf8(&buffer) {
            Ok(line) => line.trim_end_matches(['\n', '\r']),
            Err(_) => {
                reject(engine, &mut outcome, trace, number, "", "the line is not UTF-8".to_owned());
                continue;
            }
        };
        if line.trim().is_empty() {
            continue;
        }
        let parsed = EventLine::parse(line);
        let event = match parsed.as_ref().map_err(Clone::clone).and_then(|raw| raw.event()) {
            Ok(event) => event,
            Err(e) => {
                reject(engine, &mut outcome, trace, number, "", e.to_string());
                continue;
            }
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
            Err(rejection) => reject(engine, &mut outcome, trace, number, kind, rejection.to_string()),
        }
    }
    Ok(outcome)
}

fn reject(engine: &Engine, outcome: &mut Outcome, trace: bool, line: usize, kind: &str, error: String) {
    if trace {
        outcome.trace.push(trace_entry(engine, line, kind, Err(&error)));
    }
    outcome.rejected.push((line, error));
}
