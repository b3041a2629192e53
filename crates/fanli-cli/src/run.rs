//! `fanli run`: a plan applied to an event stream, line by line.

use std::fs::File;
use std::io::{self, BufWriter, Read, Write};
use std::path::Path;
use std::process::ExitCode;

use fanli_engine::{Engine, MemberId, Timestamp};
use fanli_format::{Extras, Outcome, member_json, parse_plan_lines, run_stream_with, state_json};

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
    let (plan, lines) = match parse_plan_lines(&plan_text) {
        Ok(parsed) => parsed,
        Err(errors) => {
            for e in &errors.0 {
                eprintln!("{plan_name}: {e}");
            }
            return ExitCode::from(1);
        }
    };
    // A plan past a legal red line is refused here as in `fanli check`, unless asked for analysis.
    let findings = fanli_engine::compliance::check(&plan);
    if fanli_engine::compliance::refused(&findings) {
        let errors: Vec<_> =
            findings.into_iter().filter(|f| f.level == fanli_engine::compliance::Level::Error).collect();
        let _ = crate::check::write_findings(&mut io::stderr().lock(), &plan_name, &errors, &lines);
        if !args.allow_noncompliant {
            eprintln!("{plan_name}: refused (see `fanli check`); --allow-noncompliant runs it for analysis");
            return ExitCode::from(1);
        }
    }
    let (events_name, input): (String, Box<dyn Read>) = match &args.events {
        None => ("example events".to_owned(), Box::new(EXAMPLE_EVENTS.as_bytes())),
        Some(path) if path == Path::new("-") => ("stdin".to_owned(), Box::new(io::stdin().lock())),
        Some(path) => match File::open(path) {
            Ok(file) => (path.display().to_string(), Box::new(file)),
            Err(e) => return fail(format!("cannot read events {}: {e}", path.display())),
        },
    };
    let mut engine = Engine::new(plan);
    // Postings and effects are only read to write the trace.
    engine.record(args.trace);
    let until = match args.until.as_deref().map(|t| (t, Timestamp::parse_rfc3339(t))) {
        None => None,
        Some((_, Some(at))) => Some(at),
        Some((text, None)) => return fail(format!("--until {text:?} is not an RFC 3339 time")),
    };
    let create = |path: &Option<std::path::PathBuf>| {
        path.as_ref().map(|p| File::create(p).map(BufWriter::new).map_err(|e| (p.clone(), e))).transpose()
    };
    let (mut chain, mut report) = match (create(&args.chain), create(&args.report)) {
        (Ok(chain), Ok(report)) => (chain, report),
        (Err((path, e)), _) | (_, Err((path, e))) => {
            return fail(format!("cannot write {}: {e}", path.display()));
        }
    };
    let extras = Extras {
        trace: args.trace,
        until,
        chain: chain.as_mut().map(|w| w as &mut dyn Write),
        report: report.as_mut().map(|w| w as &mut dyn Write),
    };
    let outcome = match run_stream_with(&mut engine, input, extras) {
        Ok(outcome) => outcome,
        Err(e) => return fail(format!("cannot read events {events_name} or write the chain: {e}")),
    };
    for file in [chain.as_mut(), report.as_mut()].into_iter().flatten() {
        if let Err(e) = file.flush() {
            return fail(format!("cannot write the chain or the report: {e}"));
        }
    }
    if args.chain.is_some() {
        eprintln!("chain: {} events, head {}", outcome.chain.len(), outcome.chain.head());
    }
    let member = match &args.member {
        None => None,
        Some(name) => match engine.find_member(name) {
            Some(member) => Some(member),
            None => return fail(format!("unknown member `{name}` (after {events_name})")),
        },
    };
    let written = print(&engine, &outcome, &args, member);
    if let Err(e) = written
        && e.kind() != io::ErrorKind::BrokenPipe
    {
        return fail(format!("cannot write the output: {e}"));
    }
    if !args.json {
        for rejected in &outcome.rejected {
            eprintln!("{events_name}:{}: {}", rejected.line, rejected.refusal.error);
        }
    }
    if outcome.rejected.is_empty() { ExitCode::SUCCESS } else { ExitCode::from(2) }
}

fn fail(message: String) -> ExitCode {
    eprintln!("fanli: {message}");
    ExitCode::from(1)
}

fn print(
    engine: &Engine,
    outcome: &Outcome,
    args: &crate::RunArgs,
    member: Option<MemberId>,
) -> io::Result<()> {
    let stdout = io::stdout().lock();
    let mut out = BufWriter::with_capacity(1 << 16, stdout);
    if let Some(member) = member {
        if args.json {
            member_json(engine, member, &mut out)?;
            writeln!(out)?;
        } else {
            crate::text::member(&mut out, engine, member)?;
        }
    } else if args.json {
        let events = args.trace.then_some(outcome.trace.as_slice());
        state_json(engine, &outcome.rejected, events, &mut out)?;
        writeln!(out)?;
    } else {
        crate::text::summary(&mut out, engine, outcome)?;
    }
    out.flush()
}
