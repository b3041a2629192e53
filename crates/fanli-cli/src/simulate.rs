//! `fanli simulate`: a plan over a scenario, through the engine, into a report.

use std::io::IsTerminal;
use std::process::ExitCode;

use fanli_engine::compliance;
use fanli_sim::{DEFAULT, Scenario};

use crate::SimulateArgs;

pub(crate) fn simulate(args: SimulateArgs) -> ExitCode {
    if args.example {
        out!("{DEFAULT}");
        return ExitCode::SUCCESS;
    }
    let plan_path = args.plan.as_ref().expect("clap requires the plan without --example");
    let fail = |message: String| {
        eprintln!("fanli: {message}");
        ExitCode::from(1)
    };
    let plan_text = match std::fs::read_to_string(plan_path) {
        Ok(text) => text,
        Err(e) => return fail(format!("cannot read plan {}: {e}", plan_path.display())),
    };
    let plan = match fanli_format::parse_plan(&plan_text) {
        Ok(plan) => plan,
        Err(errors) => return fail(format!("{}: {errors}", plan_path.display())),
    };
    let findings = compliance::check(&plan);
    if compliance::refused(&findings) && !args.allow_noncompliant {
        return fail(format!(
            "{}: refused by `fanli check`; --allow-noncompliant simulates it anyway",
            plan_path.display()
        ));
    }
    let mut scenario = match &args.scenario {
        None => Scenario::default_scenario(),
        Some(path) => {
            match std::fs::read_to_string(path).map_err(|e| e.to_string()).and_then(|t| Scenario::parse(&t)) {
                Ok(scenario) => scenario,
                Err(e) => return fail(format!("scenario {}: {e}", path.display())),
            }
        }
    };
    if let Some(seed) = args.seed {
        scenario.seed = seed;
    }
    if let Some(days) = args.days {
        scenario.days = days.clamp(1, 3650);
    }
    let bar = std::io::stderr().is_terminal().then(|| {
        let bar = indicatif::ProgressBar::new(scenario.days.into());
        bar.set_style(
            indicatif::ProgressStyle::with_template("simulating {bar:40} day {pos}/{len} ({elapsed})")
                .expect("a valid template"),
        );
        bar
    });
    if let Err(e) = std::fs::create_dir_all(&args.out) {
        return fail(format!("cannot create {}: {e}", args.out.display()));
    }
    let events_path = args.out.join("events.jsonl");
    // Written on a second thread: the kernel's copy of the stream's gigabytes runs on the
    // other core while the simulation goes on.
    let events = std::fs::File::create(&events_path).and_then(fanli_sim::background::Background::new);
    let mut events = match events {
        Ok(events) => events,
        Err(e) => return fail(format!("cannot write {}: {e}", events_path.display())),
    };
    let mut engine = fanli_engine::Engine::new(plan);
    if let Some(log) = &args.from {
        engine.record(false);
        let replayed =
            std::fs::File::open(log).and_then(|file| fanli_format::run_stream(&mut engine, file, false));
        match replayed {
            Ok(outcome) if outcome.rejected.is_empty() => {}
            Ok(outcome) => {
                eprintln!("{}: {} lines refused while replaying", log.display(), outcome.rejected.len())
            }
            Err(e) => return fail(format!("cannot read {}: {e}", log.display())),
        }
    }
    let progress = |day: u32, _| {
        if let Some(bar) = &bar {
            bar.set_position(day.into());
        }
    };
    let sim = match args.check_lines {
        true => fanli_sim::simulate_checked(engine, &scenario, &mut events, progress),
        false => fanli_sim::simulate_from(engine, &scenario, &mut events, progress),
    };
    let flushed = events.finish();
    let sim = match (sim, flushed) {
        (Ok(sim), Ok(())) => sim,
        (Err(e @ fanli_sim::SimError::Overflow { .. }), _) => {
            if let Some(bar) = &bar {
                bar.finish_and_clear();
            }
            return fail(format!("{e} ({} holds the stream up to it)", events_path.display()));
        }
        (Err(fanli_sim::SimError::Io(e)), _) | (_, Err(e)) => {
            return fail(format!("cannot write {}: {e}", events_path.display()));
        }
    };
    if let Some(bar) = bar {
        bar.finish_and_clear();
    }
    let sweep = match &args.sweep {
        None => None,
        Some(spec) => match sweep(spec, &plan_text, &scenario, &args) {
            Ok(sweep) => Some(sweep),
            Err(e) => return fail(format!("--sweep {spec}: {e}")),
        },
    };
    match fanli_sim::report::write_all_with_sweep(&args.out, &sim, &findings, sweep.as_ref()) {
        Ok(summary) => {
            let files = fanli_sim::report::files(sweep.is_some());
            if args.json {
                let paths: Vec<String> =
                    files.iter().map(|f| args.out.join(f).display().to_string()).collect();
                let doc = serde_json::json!({"out": args.out.display().to_string(), "files": paths, "summary": summary});
                outln!("{doc:#}");
            } else {
                outln!("{}", summary["verdict"]["en"].as_str().unwrap_or_default());
                outln!("{}", summary["verdict"]["zh"].as_str().unwrap_or_default());
                outln!("{}", crate::check::risk_line(&summary["risk"]));
                outln!("wrote {}/{{{}}}", args.out.display(), files.join(", "));
            }
            if sim.rejected.is_empty() {
                ExitCode::SUCCESS
            } else {
                fail(format!(
                    "{} generated lines were refused (a simulator bug): {:?}",
                    sim.rejected.len(),
                    sim.rejected.first()
                ))
            }
        }
        Err(e) => fail(format!("cannot write {}: {e}", args.out.display())),
    }
}

/// One run per value of `KEY=V1,V2,...`, each on the plan with that key set, from scratch (or
/// from the same log), with the same scenario and seed. The runs share nothing, so they run on
/// as many threads as the machine has cores (each takes the next value not yet taken); the
/// results keep the order of the values, and each run is the same whatever thread ran it.
fn sweep(
    spec: &str,
    plan_text: &str,
    scenario: &Scenario,
    args: &SimulateArgs,
) -> Result<fanli_sim::report::Sweep, String> {
    let (key, values) = spec.split_once('=').ok_or("write KEY=V1,V2,...")?;
    let values: Vec<&str> = values.split(',').map(str::trim).filter(|v| !v.is_empty()).collect();
    if values.is_empty() {
        return Err("no value to sweep".to_owned());
    }
    // Every value's plan is read first: a typo fails before any run starts.
    let plans = values
        .iter()
        .map(|value| {
            let text = fanli_format::set_plan_key(plan_text, key, value).map_err(|e| e.to_string())?;
            fanli_format::parse_plan(&text).map_err(|e| format!("with {key} = {value}: {e}"))
        })
        .collect::<Result<Vec<_>, String>>()?;
    let run = |value: &str, plan: fanli_engine::Plan| -> Result<serde_json::Value, String> {
        let findings = compliance::check(&plan);
        let mut engine = fanli_engine::Engine::new(plan);
        if let Some(log) = &args.from {
            engine.record(false);
            let file = std::fs::File::open(log).map_err(|e| e.to_string())?;
            fanli_format::run_stream(&mut engine, file, false).map_err(|e| e.to_string())?;
        }
        let sim = fanli_sim::simulate_from(engine, scenario, &mut std::io::sink(), |_, _| {})
            .map_err(|e| format!("with {key} = {value}: {e}"))?;
        let outcomes = fanli_sim::report::outcomes(&sim);
        Ok(fanli_sim::report::summary(&sim, &outcomes, &findings))
    };
    let threads = std::thread::available_parallelism().map_or(1, usize::from).min(plans.len());
    // One queue of (index, plan): each worker takes the next until none is left.
    let jobs = std::sync::Mutex::new(plans.into_iter().enumerate());
    let mut results: Vec<Option<Result<serde_json::Value, String>>> =
        (0..values.len()).map(|_| None).collect();
    std::thread::scope(|scope| {
        let workers: Vec<_> = (0..threads)
            .map(|_| {
                scope.spawn(|| {
                    let mut done = Vec::new();
                    loop {
                        let Some((i, plan)) = jobs.lock().expect("no run panics holding it").next() else {
                            break;
                        };
                        done.push((i, run(values[i], plan)));
                    }
                    done
                })
            })
            .collect();
        for worker in workers {
            for (i, result) in worker.join().expect("a sweep run panicked") {
                results[i] = Some(result);
            }
        }
    });
    let runs = values
        .iter()
        .zip(results)
        .map(|(value, result)| Ok(((*value).to_owned(), result.expect("every value ran")?)))
        .collect::<Result<Vec<_>, String>>()?;
    Ok(fanli_sim::report::Sweep { key: key.to_owned(), runs })
}
