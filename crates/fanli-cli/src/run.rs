//! `fanli run`: a plan applied to an event stream, line by line.

use std::fs::File;
use std::io::{self, BufRead, BufReader, BufWriter, Read, Write};
use std::path::Path;
use std::process::ExitCode;

use fanli_engine::Engine;
use fanli_format::{EventLine, parse_plan, state_json, trace_entry};
use serde_json::Value;

use crate::RunArgs;

/// The bundled example: a plan with all three mechanisms, and a short stream through it.
pub(crate) const EXAMPLE_PLAN: &str = include_str!("../example/plan.toml");
pub(crate) const EXAMPLE_EVENTS: &str = include_str!("../example/events.jsonl");

pub(crate) fn run(args: RunArgs) -> ExitCode {
    let (plan_name, plan_text) = match &args.plan {
        Some(path) => match std::fs::read_to_string(path) {
            Ok(text) => (path.display().to_string(), text),
            Err(e) => return fail(format!("cannot read plan {}: {e}", path.display())),
        },
        None => ("example plan".to_owned(), EXAMPLE_PLAN.to_owned()),
    };
    let plan = match parse_plan(&plan_text) {
        Ok(plan) => plan,
        Err(errors) => {
            for e in &errors.0 {
                eprintln!("{plan_name}: {e}");
            }
            return ExitCode::from(1);
        }
    };
    let (events_name, input): (String, Box<dyn Read>) = match &args.events {
        None => ("example events".to_owned(), Box::new(EXAMPLE_EVENTS.as_bytes())),
        Some(path) if path == Path::new("-") => ("stdin".to_owned(), Box::new(io::stdin().lock())),
        Some(path) => match File::open(path) {
            Ok(file) => (path.display().to_string(), Box::new(file)),
            Err(e) => return fail(format!("cannot read events {}: {e}", path.display())),
        },
    };
    let mut engine = Engine::new(plan);
    let outcome = match apply_stream(&mut engine, input, args.trace) {
        Ok(outcome) => outcome,
        Err(e) => return fail(format!("cannot read events {events_name}: {e}")),
    };
    let written = print(&engine, &outcome, &args);
    if let Err(e) = written
        && e.kind() != io::ErrorKind::BrokenPipe
    {
        return fail(format!("cannot write the output: {e}"));
    }
    if !args.json {
        for (line, error) in &outcome.rejected {
            eprintln!("{events_name}:{line}: {error}");
        }
    }
    if outcome.rejected.is_empty() { ExitCode::SUCCESS } else { ExitCode::from(2) }
}

fn fail(message: String) -> ExitCode {
    eprintln!("fanli: {message}");
    ExitCode::from(1)
}

/// What a stream did besides the engine's state.
pub(crate) struct Outcome {
    /// Lines read (blank ones included).
    pub(crate) lines: usize,
    /// Events applied.
    pub(crate) applied: usize,
    /// Rejected lines, from 1, with why.
    pub(crate) rejected: Vec<(usize, String)>,
    /// With a trace: one entry per event line.
    pub(crate) trace: Vec<Value>,
}

/// Applies every line of `input`; a bad line is recorded and the rest still apply. Blank lines
/// are skipped (they still count in the line numbers).
pub(crate) fn apply_stream(engine: &mut Engine, input: impl Read, trace: bool) -> io::Result<Outcome> {
    let mut reader = BufReader::with_capacity(1 << 16, input);
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

fn print(engine: &Engine, outcome: &Outcome, args: &crate::RunArgs) -> io::Result<()> {
    let stdout = io::stdout().lock();
    let mut out = BufWriter::with_capacity(1 << 16, stdout);
    if let Some(name) = &args.member {
        let Some(member) = engine.find_member(name) else {
            return Err(io::Error::other(format!("unknown member `{name}`")));
        };
        crate::text::member(&mut out, engine, member)?;
    } else if args.json {
        let events = args.trace.then_some(outcome.trace.as_slice());
        state_json(engine, &outcome.rejected, events, &mut out).map_err(io::Error::other)?;
        writeln!(out)?;
    } else {
        crate::text::summary(&mut out, engine, outcome)?;
    }
    out.flush()
}
