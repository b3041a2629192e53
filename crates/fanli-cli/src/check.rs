//! `fanli check`: a plan's compliance findings, for people or as JSON; and `fanli audit verify`.

use std::io::Write;
use std::process::ExitCode;

use fanli_engine::compliance::{self, Finding, Level};
use fanli_format::{KeyLines, findings_json, parse_plan_lines};

use crate::{CheckArgs, VerifyArgs};

pub(crate) fn check(args: CheckArgs) -> ExitCode {
    let name = args.plan.display().to_string();
    let text = match std::fs::read_to_string(&args.plan) {
        Ok(text) => text,
        Err(e) => {
            eprintln!("fanli: cannot read plan {name}: {e}");
            return ExitCode::from(1);
        }
    };
    // A plan that does not parse is the first finding: every mistake shows here.
    let (plan, lines) = match parse_plan_lines(&text) {
        Ok(parsed) => parsed,
        Err(errors) => {
            if args.json {
                let list: Vec<_> = errors
                    .0
                    .iter()
                    .map(|e| serde_json::json!({"level": "error", "rule": "plan", "key": e.key, "line": e.line, "en": e.message}))
                    .collect();
                let doc = serde_json::json!({"plan": name, "compliant": false, "errors": list.len(), "warnings": 0, "findings": list});
                println!("{doc:#}");
            } else {
                for e in &errors.0 {
                    eprintln!("{name}: error: {e}");
                }
            }
            return ExitCode::from(1);
        }
    };
    let findings = compliance::check(&plan);
    if args.json {
        println!("{:#}", findings_json(&plan.name, &findings, &lines));
    } else {
        let mut out = std::io::stdout().lock();
        let _ = write_findings(&mut out, &name, &findings, &lines);
        let (errors, warnings) = counts(&findings);
        let verdict = if errors > 0 { "refused" } else { "allowed" };
        let _ = writeln!(out, "{name}: {errors} error(s), {warnings} warning(s): {verdict}");
    }
    if compliance::refused(&findings) { ExitCode::from(1) } else { ExitCode::SUCCESS }
}

/// The findings as text: `PLAN:LINE: level [rule] mechanism: en`, then the Chinese and the fix.
pub(crate) fn write_findings(
    out: &mut impl Write,
    name: &str,
    findings: &[Finding],
    lines: &KeyLines,
) -> std::io::Result<()> {
    for f in findings {
        let line = lines.line(&f.key);
        writeln!(out, "{name}:{line}: {} [{}] `{}`: {}", f.level.name(), f.rule, f.key, f.en)?;
        writeln!(out, "    {}", f.zh)?;
        writeln!(out, "    fix: {}", f.fix)?;
    }
    Ok(())
}

fn counts(findings: &[Finding]) -> (usize, usize) {
    let errors = findings.iter().filter(|f| f.level == Level::Error).count();
    (errors, findings.len() - errors)
}

/// `fanli audit verify LOG --plan PLAN [--report REPORT]`.
pub(crate) fn verify(args: VerifyArgs) -> ExitCode {
    let read = |path: &std::path::Path| {
        std::fs::read_to_string(path).map_err(|e| format!("cannot read {}: {e}", path.display()))
    };
    // The log is streamed (it may be larger than memory); the plan and the report are small.
    let log = std::fs::File::open(&args.log)
        .map(|f| std::io::BufReader::with_capacity(1 << 20, f))
        .map_err(|e| format!("cannot read {}: {e}", args.log.display()));
    let texts = (read(&args.plan), log, args.report.as_deref().map(read).transpose());
    let (plan, log, report) = match texts {
        (Ok(plan), Ok(log), Ok(report)) => (plan, log, report),
        (Err(e), ..) | (_, Err(e), _) | (.., Err(e)) => {
            eprintln!("fanli: {e}");
            return ExitCode::from(1);
        }
    };
    let plan = match fanli_format::parse_plan(&plan) {
        Ok(plan) => plan,
        Err(errors) => {
            eprintln!("{}: {errors}", args.plan.display());
            return ExitCode::from(1);
        }
    };
    let mut engine = fanli_engine::Engine::new(plan);
    engine.record(false);
    match fanli_format::chain::verify(&mut engine, log, report.as_deref()) {
        Ok(v) => {
            let reports = if args.report.is_some() {
                format!(", {} daily reports agree", v.reports)
            } else {
                String::new()
            };
            println!("verified: {} lines chained and replayed{reports}; head {}", v.lines, v.head);
            let balanced = engine.accounts_balance();
            println!("every asset's accounts sum to zero: {}", if balanced { "yes" } else { "NO" });
            if balanced { ExitCode::SUCCESS } else { ExitCode::from(1) }
        }
        Err(broken) => {
            let file = match broken.file {
                "report" => args.report.as_ref().map_or("report".to_owned(), |p| p.display().to_string()),
                _ => args.log.display().to_string(),
            };
            eprintln!("{file}:{}: {}", broken.line, broken.message);
            ExitCode::from(1)
        }
    }
}
