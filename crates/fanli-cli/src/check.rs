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
                outln!("{doc:#}");
            } else {
                for e in &errors.0 {
                    eprintln!("{name}: error: {e}");
                }
            }
            return ExitCode::from(1);
        }
    };
    let findings = compliance::check(&plan);
    let estimate = sustainability(plan.clone(), &findings);
    // As an amendment of the running plan: refused (exit 1) as the engine would refuse it.
    let amendment = match (&args.against, &args.log) {
        (Some(old), Some(log)) => Some(against(old, &text, log)),
        _ => None,
    };
    if args.json {
        let mut doc = findings_json(&plan.name, &findings, &lines);
        if let Some(object) = doc.as_object_mut() {
            object.insert("sustainability".to_owned(), estimate);
            if let Some(amendment) = &amendment {
                let value = amendment.clone().unwrap_or_else(|no| no.json());
                object.insert("amendment".to_owned(), value);
            }
        }
        outln!("{doc:#}");
    } else {
        let mut out = std::io::stdout().lock();
        let _ = write_findings(&mut out, &name, &findings, &lines);
        let _ = write_sustainability(&mut out, &estimate);
        match &amendment {
            Some(Ok(doc)) => {
                let _ = crate::against::write(&mut out, doc);
            }
            Some(Err(refused)) => {
                let _ = writeln!(out, "amendment: {refused}");
            }
            None => {}
        }
        let (errors, warnings) = counts(&findings);
        let verdict = match (&amendment, errors) {
            (_, 1..) => "refused",
            (Some(Err(no)), _) if no.code.is_some() => "refused as an amendment of the running plan",
            _ => "allowed",
        };
        // The compliance verdict decides the exit status; the risk grade of the estimate is said
        // beside it, so that "allowed" is never read alone (docs/risk.md).
        let risk = match estimate["risk"]["grade"].as_str() {
            Some(grade) => {
                format!("; risk grade {grade} ({})", estimate["risk"]["grade_zh"].as_str().unwrap_or(""))
            }
            None => String::new(),
        };
        let _ = writeln!(out, "{name}: {errors} error(s), {warnings} warning(s): {verdict}{risk}");
    }
    let amendment_refused = matches!(amendment, Some(Err(_)));
    if compliance::refused(&findings) || amendment_refused { ExitCode::from(1) } else { ExitCode::SUCCESS }
}

/// `--against OLD --log LOG`: the comparison, or why the amendment would be refused.
fn against(
    old: &std::path::Path,
    new_text: &str,
    log: &std::path::Path,
) -> Result<serde_json::Value, fanli_sim::against::NoComparison> {
    use fanli_sim::against::NoComparison;
    let text = std::fs::read_to_string(old)
        .map_err(|e| NoComparison::failed(format!("cannot read plan {}: {e}", old.display())))?;
    let plan = fanli_format::parse_plan(&text)
        .map_err(|e| NoComparison::failed(format!("{}: {e}", old.display())))?;
    crate::against::compare(plan, new_text, log)
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

/// The sustainability estimate the spec asks `check` for (with, for static returns, "the
/// simulator's estimate of who is left unpaid"): the plan run through `fanli simulate`'s
/// built-in scenario at a tenth of its arrivals ([`Scenario::check_scenario`]), the stream
/// discarded, and the summary's figures of who was made whole and who is left owed.
///
/// [`Scenario::check_scenario`]: fanli_sim::Scenario::check_scenario
///
/// A plan whose numbers outgrow 64 bits stops the simulation (and `fanli run` on such a stream):
/// the estimate then says so, and the findings stand.
fn sustainability(plan: fanli_engine::Plan, findings: &[Finding]) -> serde_json::Value {
    let scenario = fanli_sim::Scenario::check_scenario();
    let summary = match fanli_sim::simulate(plan, &scenario, &mut std::io::sink(), |_, _| {}) {
        Ok(sim) => fanli_sim::report::summary(&sim, &fanli_sim::report::outcomes(&sim), findings),
        Err(e @ fanli_sim::SimError::Overflow { .. }) => return serde_json::json!({"error": e.to_string()}),
        Err(e) => return serde_json::json!({"error": format!("the simulation could not run: {e}")}),
    };
    let mut estimate = serde_json::json!({
        "scenario": "fanli simulate's built-in scenario at a tenth of its arrivals",
    });
    let keep = [
        "days",
        "members",
        "members_with_spend",
        "made_whole",
        "made_whole_share",
        "members_owed",
        "owed",
        "still_waiting",
        "arrivals_stop_day",
        "verdict",
        "risk",
    ];
    if let (Some(estimate), Some(summary)) = (estimate.as_object_mut(), summary.as_object()) {
        for key in keep {
            estimate.insert(key.to_owned(), summary[key].clone());
        }
    }
    estimate
}

fn write_sustainability(out: &mut impl Write, estimate: &serde_json::Value) -> std::io::Result<()> {
    if let Some(error) = estimate["error"].as_str() {
        return writeln!(out, "sustainability: {error}");
    }
    let text = |key: &str| estimate[key].as_str().map_or_else(|| estimate[key].to_string(), str::to_owned);
    writeln!(out, "sustainability ({}, {} days):", text("scenario"), text("days"))?;
    writeln!(
        out,
        "    {} of {} members with spend made whole ({}); {} owed to {} members, {} still waiting",
        text("made_whole"),
        text("members_with_spend"),
        text("made_whole_share"),
        text("owed"),
        text("members_owed"),
        text("still_waiting"),
    )?;
    writeln!(out, "    {}", estimate["verdict"]["en"].as_str().unwrap_or(""))?;
    writeln!(out, "    {}", estimate["verdict"]["zh"].as_str().unwrap_or(""))?;
    writeln!(out, "    {}", risk_line(&estimate["risk"]))?;
    writeln!(out, "    (fanli simulate PLAN shows the whole scenario, day by day and cohort by cohort)")
}

/// The risk grade of a simulator summary's `risk` (docs/risk.md) on one line: the grade, its
/// three measures with theirs, then its sentence in English and in Chinese.
pub(crate) fn risk_line(risk: &serde_json::Value) -> String {
    let text = |key: &str| risk[key].as_str().unwrap_or("").to_owned();
    let sentence = &risk["sentence"];
    format!(
        "risk grade: {} ({}): made whole {} ({}), unpaid {} ({}), pool build-up {} ({}); {} {}",
        text("grade"),
        text("grade_zh"),
        text("made_whole_share"),
        text("made_whole_grade"),
        text("unpaid_share"),
        text("unpaid_grade"),
        text("pool_excess_share"),
        text("pool_excess_grade"),
        sentence["en"].as_str().unwrap_or(""),
        sentence["zh"].as_str().unwrap_or(""),
    )
}

fn counts(findings: &[Finding]) -> (usize, usize) {
    let errors = findings.iter().filter(|f| f.level == Level::Error).count();
    (errors, findings.len() - errors)
}

/// `fanli audit verify LOG --plan PLAN [--report REPORT] [--json]`.
pub(crate) fn verify(args: VerifyArgs) -> ExitCode {
    // With --json a failure is a document too (`{"verified": false, "error": ...}`), and the
    // message still goes to stderr.
    let json = args.json;
    let failed = |message: String| {
        if json {
            outln!("{:#}", serde_json::json!({"verified": false, "error": message}));
        }
        failed(message)
    };
    let trusted = match crate::transparency::trusted_key(args.key.as_deref()) {
        Ok(key) => key,
        Err(e) => return failed(e),
    };
    let heads: Result<Vec<_>, _> =
        args.head.iter().map(|path| crate::transparency::read_head(path, trusted.as_ref())).collect();
    let heads = match heads {
        Ok(heads) => heads,
        Err(e) => return failed(e),
    };
    if let Some(data) = &args.data {
        return verify_store(data, &args, &heads, trusted);
    }
    // With signed heads, the log's Merkle tree too (docs/transparency.md).
    let mut tree = (!heads.is_empty()).then(|| fanli_format::transparency::TreeCheck::new(heads.clone()));
    // Without the plan the log cannot be replayed: only its chain and each line's canonical
    // form are checked, and the output says so.
    let mut engine = match args.plan.as_deref() {
        None => None,
        Some(path) => match std::fs::read_to_string(path) {
            Err(e) => return failed(format!("cannot read {}: {e}", path.display())),
            Ok(text) => match fanli_format::parse_plan(&text) {
                Err(errors) => return failed(format!("{}: {errors}", path.display())),
                Ok(plan) => Some(fanli_engine::Engine::new(plan)),
            },
        },
    };
    if let Some(engine) = engine.as_mut() {
        engine.record(false);
    }
    let report = match args.report.as_deref().map(std::fs::read_to_string).transpose() {
        Ok(report) => report,
        Err(e) => {
            return failed(format!("cannot read {}: {e}", args.report.as_ref().expect("given").display()));
        }
    };
    let mut verifier = fanli_format::chain::Verifier::new(report.as_deref());
    // The files are one log, streamed (it may be larger than memory); an error names the file
    // and its own line.
    let mut before = 0;
    for path in &args.logs {
        let file = match std::fs::File::open(path) {
            Ok(file) => std::io::BufReader::with_capacity(1 << 20, file),
            Err(e) => return failed(format!("cannot read {}: {e}", path.display())),
        };
        let mut lines = 0;
        for line in std::io::BufRead::lines(file) {
            lines += 1;
            let checked = match line {
                Ok(line) => {
                    let line = line.strip_suffix('\r').unwrap_or(&line);
                    if let Some(tree) = tree.as_mut() {
                        tree.line(line.as_bytes());
                    }
                    match engine.as_mut() {
                        Some(engine) => verifier.line(engine, line),
                        None => verifier.chain_line(line),
                    }
                }
                Err(e) => return failed(format!("{}:{lines}: cannot be read: {e}", path.display())),
            };
            if let Err(broken) = checked {
                return match broken.file {
                    "report" => failed(format!("{}:{}: {}", report_name(&args), broken.line, broken.message)),
                    _ => failed(format!("{}:{}: {}", path.display(), broken.line - before, broken.message)),
                };
            }
        }
        before += lines;
    }
    let verified = match verifier.finish() {
        Ok(verified) => verified,
        Err(broken) => return failed(format!("{}:{}: {}", report_name(&args), broken.line, broken.message)),
    };
    let signed = match tree.map(fanli_format::transparency::TreeCheck::finish).transpose() {
        Ok(signed) => signed,
        Err(broken @ fanli_format::transparency::TreeBroken::Differs { from, size, .. }) if from < size => {
            return failed(format!(
                "{broken}; the chain holds, so line {size} was edited or every line from an earlier one on \
                 was rewritten (older signed heads, --head several times, narrow it down)"
            ));
        }
        Err(broken) => return failed(broken.to_string()),
    };
    if json {
        let balanced = engine.as_ref().map(fanli_engine::Engine::accounts_balance);
        let doc = serde_json::json!({
            "verified": balanced != Some(false),
            "lines": verified.lines,
            "head": verified.head,
            "replayed": engine.is_some(),
            "reports": args.report.is_some().then_some(verified.reports),
            "signed": signed.as_ref().map(|tree| signed_json(tree, &heads)),
            "accounts_balance": balanced,
        });
        outln!("{doc:#}");
        return if balanced == Some(false) { ExitCode::from(1) } else { ExitCode::SUCCESS };
    }
    let signed = signed.map(|tree| signed_text(&tree, &heads));
    let Some(engine) = engine else {
        outln!("verified: {} lines chained; head {}", verified.lines, verified.head);
        if let Some(signed) = signed {
            outln!("{signed}");
        }
        outln!("not replayed: give --plan PLAN.toml to replay the log and check its balances");
        return ExitCode::SUCCESS;
    };
    let reports = if args.report.is_some() {
        format!(", {} daily reports agree", verified.reports)
    } else {
        String::new()
    };
    outln!("verified: {} lines chained and replayed{reports}; head {}", verified.lines, verified.head);
    if let Some(signed) = signed {
        outln!("{signed}");
    }
    let balanced = engine.accounts_balance();
    outln!("every asset's accounts sum to zero: {}", if balanced { "yes" } else { "NO" });
    if balanced { ExitCode::SUCCESS } else { ExitCode::from(1) }
}

/// What the signed heads came to: `signed: the first N lines hash to the root signed at T by
/// KEY (H heads); M lines after it`.
pub(crate) fn signed_text(
    tree: &fanli_format::transparency::TreeVerified,
    heads: &[fanli_format::transparency::SignedHead],
) -> String {
    let mut keys: Vec<String> = heads.iter().map(|h| fanli_format::merkle::to_hex(&h.public_key)).collect();
    keys.dedup();
    let heads = if tree.heads == 1 { String::new() } else { format!(" ({} signed heads agree)", tree.heads) };
    format!(
        "signed: the first {} lines hash to the root signed at {} by {}{heads}; {} lines after it",
        tree.size,
        tree.time,
        keys.join(", "),
        tree.after
    )
}

/// The signed heads' verdict for `--json`: `{"size", "time", "keys", "heads", "after"}`.
fn signed_json(
    tree: &fanli_format::transparency::TreeVerified,
    heads: &[fanli_format::transparency::SignedHead],
) -> serde_json::Value {
    let mut keys: Vec<String> = heads.iter().map(|h| fanli_format::merkle::to_hex(&h.public_key)).collect();
    keys.dedup();
    serde_json::json!({"size": tree.size, "time": tree.time, "keys": keys, "heads": tree.heads, "after": tree.after})
}

fn report_name(args: &VerifyArgs) -> String {
    args.report.as_ref().map_or("report".to_owned(), |p| p.display().to_string())
}

fn failed(message: String) -> ExitCode {
    eprintln!("fanli: {message}");
    ExitCode::from(1)
}

/// `fanli audit verify --data DIR`: every tenant of a server's store (or one), each from scratch.
/// With `--json`: `{"verified": bool, "tenants": [{"tenant", "verified", "lines", "reports",
/// "snapshot", "head", "signed", "accounts_balance", "error"}]}`.
fn verify_store(
    data: &std::path::Path,
    args: &VerifyArgs,
    heads: &[fanli_format::transparency::SignedHead],
    trusted: Option<[u8; 32]>,
) -> ExitCode {
    let (database, only, json) = (args.database.as_deref(), args.tenant.as_deref(), args.json);
    let failed = |message: String| {
        if json {
            outln!("{:#}", serde_json::json!({"verified": false, "error": message, "tenants": []}));
        }
        failed(message)
    };
    if database.is_none() && !data.join("fanli.sqlite3").is_file() {
        return failed(format!(
            "no fanli store in {} (fanli serve --data writes fanli.sqlite3 there)",
            data.display()
        ));
    }
    let store = fanli_server::store::Store::open(data, database).map_err(|e| e.to_string());
    let tenants = store.and_then(|mut store| {
        let mut tenants = store.load().map_err(|e| e.to_string())?;
        tenants.retain(|t| only.is_none_or(|id| t.id == id));
        Ok((store, tenants))
    });
    let (mut store, tenants) = match tenants {
        Ok(found) => found,
        Err(e) => return failed(format!("cannot read the store in {}: {e}", data.display())),
    };
    if let Some(id) = only
        && tenants.is_empty()
    {
        return failed(format!("no tenant `{id}` in {}", data.display()));
    }
    if tenants.is_empty() && !json {
        outln!("no tenants in {}: nothing to verify", data.display());
    }
    let mut broken = 0;
    let mut docs = Vec::new();
    for stored in &tenants {
        let id = &stored.id;
        match fanli_server::audit::verify_stored_with(&mut store, stored, heads, trusted) {
            Ok(None) if json => docs.push(serde_json::json!({"tenant": id, "verified": true, "lines": 0})),
            Ok(None) => outln!("{id}: no plan, no events"),
            Ok(Some(v)) if json => {
                broken += usize::from(!v.balanced);
                let signed = match (&v.signed, &v.key) {
                    (Some(tree), Some((key, trusted))) => serde_json::json!({
                        "size": tree.size, "time": tree.time, "keys": [key], "key_pinned": trusted,
                        "heads": tree.heads, "after": tree.after,
                    }),
                    _ => serde_json::Value::Null,
                };
                docs.push(serde_json::json!({
                    "tenant": id, "verified": v.balanced, "lines": v.lines, "reports": v.reports,
                    "snapshot": v.snapshot, "head": v.head, "signed": signed, "accounts_balance": v.balanced,
                }));
            }
            Ok(Some(v)) => {
                let snapshot =
                    v.snapshot.map_or(String::new(), |line| format!(", the snapshot at line {line} agrees"));
                outln!(
                    "{id}: verified: {} lines chained and replayed, {} daily reports agree{snapshot}; head {}",
                    v.lines,
                    v.reports,
                    v.head
                );
                match (&v.signed, &v.key) {
                    (Some(tree), Some((key, trusted))) => {
                        let whose = if *trusted { "" } else { " (the heads' own key: give --key to pin it)" };
                        outln!(
                            "{id}: signed: the first {} lines hash to the root signed at {} by {key}{whose} ({} signed heads agree); {} lines after it",
                            tree.size,
                            tree.time,
                            tree.heads,
                            tree.after
                        );
                    }
                    _ => outln!("{id}: no signed head: the log's tree is not checked"),
                }
                if !v.balanced {
                    outln!("{id}: every asset's accounts sum to zero: NO");
                    broken += 1;
                }
            }
            Err(why) => {
                eprintln!("fanli: {id}: {why}");
                docs.push(serde_json::json!({"tenant": id, "verified": false, "error": why.to_string()}));
                broken += 1;
            }
        }
    }
    if json {
        outln!("{:#}", serde_json::json!({"verified": broken == 0, "tenants": docs}));
    }
    if broken == 0 { ExitCode::SUCCESS } else { ExitCode::from(1) }
}
