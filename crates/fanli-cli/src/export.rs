//! `fanli export members|reports|pools PLAN EVENTS`: a spreadsheet of the state a plan and its
//! log come to. The CSV itself is `fanli_format::export` (the server's console downloads the
//! same files).

use std::io::Write;
use std::process::ExitCode;

use fanli_engine::Engine;
use fanli_format::{DailyReport, Extras, export};

use crate::{ExportArgs, ExportWhat};

pub(crate) fn export(args: ExportArgs) -> ExitCode {
    let fail = |message: String| {
        eprintln!("fanli: {message}");
        ExitCode::from(1)
    };
    let plan_name = args.plan.display().to_string();
    let text = match std::fs::read_to_string(&args.plan) {
        Ok(text) => text,
        Err(e) => return fail(format!("cannot read plan {plan_name}: {e}")),
    };
    let plan = match fanli_format::parse_plan(&text) {
        Ok(plan) => plan,
        Err(errors) => return fail(format!("{plan_name}: {errors}")),
    };
    if fanli_engine::compliance::refused(&fanli_engine::compliance::check(&plan)) && !args.allow_noncompliant
    {
        return fail(format!(
            "{plan_name}: refused (see `fanli check`); --allow-noncompliant exports it anyway"
        ));
    }
    let events_name = args.events.display().to_string();
    let input = match std::fs::File::open(&args.events) {
        Ok(file) => file,
        Err(e) => return fail(format!("cannot read events {events_name}: {e}")),
    };
    let mut engine = Engine::new(plan);
    engine.record(false);
    let mut reports = Vec::new();
    let extras = Extras {
        trace: false,
        until: None,
        chain: None,
        report: matches!(args.what, ExportWhat::Reports).then_some(&mut reports as &mut dyn Write),
    };
    let outcome = match fanli_format::run_stream_with(&mut engine, std::io::BufReader::new(input), extras) {
        Ok(outcome) => outcome,
        Err(e) => return fail(format!("cannot read events {events_name}: {e}")),
    };
    let bytes = match args.what {
        ExportWhat::Members => export::members_csv(&engine),
        ExportWhat::Pools => export::pools_csv(&engine),
        ExportWhat::Reports => {
            let text = String::from_utf8_lossy(&reports);
            let parsed: Option<Vec<DailyReport>> = text.lines().map(DailyReport::parse).collect();
            match parsed {
                Some(parsed) => export::reports_csv(&parsed, engine.plan().timezone),
                None => return fail("a daily report could not be read back (a bug)".to_owned()),
            }
        }
    };
    match &args.out {
        None => crate::out::bytes(&bytes),
        Some(path) => {
            if let Err(e) = std::fs::write(path, &bytes) {
                return fail(format!("cannot write {}: {e}", path.display()));
            }
        }
    }
    for rejected in &outcome.rejected {
        eprintln!("{events_name}:{}: {}", rejected.line, rejected.refusal.error);
    }
    if outcome.rejected.is_empty() { ExitCode::SUCCESS } else { ExitCode::from(2) }
}
