//! What every command prints: into a closed pipe (not an error), as JSON (`--json`), as CSV
//! (`fanli export`), and the times of a refusal at the input's offset.

use std::path::Path;
use std::process::{Command, Stdio};

use serde_json::Value;

use super::{chained_example, fanli, json, tempdir};

fn example_plan() -> String {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("example/plan.toml").to_str().unwrap().to_owned()
}

/// `fanli ARGS` with standard output a pipe whose reader is closed before the command starts
/// (`fanli ... | true` where `true` has exited): its status and its stderr.
fn into_a_closed_pipe(args: &[&str], dir: &Path) -> (Option<i32>, String) {
    let (reader, writer) = std::io::pipe().unwrap();
    drop(reader);
    let output = Command::new(env!("CARGO_BIN_EXE_fanli"))
        .args(args)
        .current_dir(dir)
        .stdout(writer)
        .stderr(Stdio::piped())
        .output()
        .unwrap();
    (output.status.code(), String::from_utf8_lossy(&output.stderr).into_owned())
}

#[test]
fn a_closed_pipe_is_not_an_error_on_any_command() {
    let dir = tempdir("closed-pipe");
    let plan = example_plan();
    let (_, log, report) = chained_example("closed-pipe-chain");
    let (log, report) = (log.to_str().unwrap(), report.to_str().unwrap());
    let events = Path::new(env!("CARGO_MANIFEST_DIR")).join("example/events.jsonl");
    let events = events.to_str().unwrap();
    let commands: Vec<Vec<&str>> = vec![
        vec!["check", &plan, "--json"],
        vec!["check", &plan],
        vec!["simulate", "--example"],
        vec!["simulate", &plan, "--days", "5", "--out", "sim"],
        vec!["simulate", &plan, "--days", "5", "--out", "sim-json", "--json"],
        vec!["run", "--example"],
        vec!["run", "--example", "--json"],
        vec!["audit", "verify", log, "--plan", &plan, "--report", report],
        vec!["audit", "verify", log, "--plan", &plan, "--json"],
        vec!["audit", "prove", log, "--line", "2"],
        vec!["export", "members", &plan, events],
        vec!["--help"],
    ];
    for args in &commands {
        let (status, stderr) = into_a_closed_pipe(args, &dir);
        assert_eq!(status, Some(0), "fanli {args:?}: {stderr}");
        assert!(!stderr.contains("panicked") && !stderr.contains("Broken pipe"), "fanli {args:?}: {stderr}");
    }
    // The status is the command's own: a refused plan still exits 1 into a closed pipe.
    let refused = dir.join("refused.toml");
    let text =
        std::fs::read_to_string(&plan).unwrap().replace("referee_min = \"1000.00\"", "referee_min = \"0\"");
    std::fs::write(&refused, text).unwrap();
    let (status, stderr) = into_a_closed_pipe(&["check", refused.to_str().unwrap(), "--json"], &dir);
    assert_eq!(status, Some(1), "{stderr}");
    assert!(!stderr.contains("panicked"), "{stderr}");
}

#[test]
fn simulate_json_is_the_summary_and_the_files_written() {
    let dir = tempdir("simulate-json");
    let out = dir.join("sim");
    let output = fanli(&[
        "simulate",
        &example_plan(),
        "--days",
        "30",
        "--seed",
        "7",
        "--out",
        out.to_str().unwrap(),
        "--json",
    ]);
    assert_eq!(output.status.code(), Some(0), "{}", String::from_utf8_lossy(&output.stderr));
    let doc = json(&output);
    let summary: Value = serde_json::from_slice(&std::fs::read(out.join("summary.json")).unwrap()).unwrap();
    assert_eq!(doc["summary"], summary, "the summary is summary.json's");
    assert_eq!(doc["summary"]["days"], 30);
    let files: Vec<&str> = doc["files"].as_array().unwrap().iter().map(|f| f.as_str().unwrap()).collect();
    let names: Vec<&str> = files.iter().map(|f| f.rsplit('/').next().unwrap()).collect();
    assert_eq!(
        names,
        ["events.jsonl", "state.json", "timeseries.csv", "outcomes.csv", "summary.json", "report.html"]
    );
    for file in &files {
        assert!(Path::new(file).is_file(), "{file} was written");
    }
    // The text names every file too.
    let text = fanli(&["simulate", &example_plan(), "--days", "5", "--out", out.to_str().unwrap()]);
    let stdout = String::from_utf8_lossy(&text.stdout);
    assert!(
        stdout
            .contains("{events.jsonl, state.json, timeseries.csv, outcomes.csv, summary.json, report.html}"),
        "{stdout}"
    );
    let help = String::from_utf8_lossy(&fanli(&["simulate", "--help"]).stdout).into_owned();
    for file in [
        "events.jsonl",
        "state.json",
        "timeseries.csv",
        "outcomes.csv",
        "summary.json",
        "report.html",
        "sweep.csv",
    ] {
        assert!(help.contains(file), "simulate --help names {file}");
    }
}

#[test]
fn audit_verify_json_gives_the_verdict_and_names_a_broken_line() {
    let (plan, log, report) = chained_example("verify-json");
    let args =
        ["audit", "verify", log.to_str().unwrap(), "--plan", &plan, "--report", report.to_str().unwrap()];
    let output = fanli(&[&args[..], &["--json"]].concat());
    assert_eq!(output.status.code(), Some(0), "{}", String::from_utf8_lossy(&output.stderr));
    let doc = json(&output);
    let lines = std::fs::read_to_string(&log).unwrap().lines().count() as u64;
    let reports = std::fs::read_to_string(&report).unwrap().lines().count() as u64;
    assert_eq!(doc["verified"], true);
    assert_eq!(doc["lines"], lines);
    assert_eq!(doc["reports"], reports);
    assert_eq!(doc["replayed"], true);
    assert_eq!(doc["accounts_balance"], true);
    assert_eq!(doc["signed"], Value::Null);
    // The head is the one the text names.
    let text = String::from_utf8(fanli(&args).stdout).unwrap();
    assert!(text.contains(&format!("; head {}\n", doc["head"].as_str().unwrap())), "{text}");
    // Without the plan: chained, not replayed.
    let chain_only = json(&fanli(&["audit", "verify", log.to_str().unwrap(), "--json"]));
    assert_eq!(
        (&chain_only["replayed"], &chain_only["accounts_balance"]),
        (&Value::Bool(false), &Value::Null)
    );
    // A line edited: the document says where, and the status is 1.
    let text = std::fs::read_to_string(&log).unwrap();
    let edited = log.with_file_name("edited.jsonl");
    std::fs::write(&edited, text.replacen("\"amount\":\"1000.00\"", "\"amount\":\"1001.00\"", 1)).unwrap();
    let output = fanli(&["audit", "verify", edited.to_str().unwrap(), "--plan", &plan, "--json"]);
    assert_eq!(output.status.code(), Some(1));
    let doc = json(&output);
    assert_eq!(doc["verified"], false);
    assert!(doc["error"].as_str().unwrap().starts_with(&format!("{}:", edited.display())), "{doc}");
}

/// A member id with a comma and quotes stays one column; Chinese comes out as UTF-8 after a BOM.
#[test]
fn exports_are_csv_with_a_bom_and_quoting() {
    let dir = tempdir("export");
    let plan = dir.join("plan.toml");
    std::fs::write(
        &plan,
        "name = \"推三返一\"\nsettle_after_days = 0\nmargin_rate = \"0.50\"\n[[mechanism]]\nid = \"r3\"\n\
         kind = \"refer_refund\"\nfunding_rate = \"0.40\"\nqualify_min = \"1000.00\"\nreferee_min = \"1000.00\"\n\
         steps = [\"10%\", \"20%\", \"70%\"]\n",
    )
    .unwrap();
    let events = dir.join("events.jsonl");
    std::fs::write(
        &events,
        r#"{"at":"2026-01-01T09:00:00+08:00","type":"join","member":"a,\"b\""}
{"at":"2026-01-01T09:00:00+08:00","type":"order","order":"o1","member":"a,\"b\"","amount":"1000.00"}
{"at":"2026-01-01T10:00:00+08:00","type":"join","member":"张三","referrer":"a,\"b\""}
{"at":"2026-01-01T10:00:00+08:00","type":"order","order":"o2","member":"张三","amount":"1000.00"}
{"at":"2026-01-02T00:00:00+08:00","type":"close_day"}
"#,
    )
    .unwrap();
    let (plan, events) = (plan.to_str().unwrap(), events.to_str().unwrap());
    let export = |what: &str| {
        let output = fanli(&["export", what, plan, events]);
        assert_eq!(output.status.code(), Some(0), "{}", String::from_utf8_lossy(&output.stderr));
        let bytes = output.stdout;
        assert!(bytes.starts_with(b"\xEF\xBB\xBF"), "{what}: a UTF-8 BOM first");
        String::from_utf8(bytes[3..].to_vec()).unwrap()
    };
    // a,"b" is paid step 1 (10% of 1000) for 张三's first order; the pool keeps 800 − 100.
    assert_eq!(
        export("members"),
        "member,referrer,wallet,credit,spent,refunded,received,owed,r3_received,r3_owed\n\
         \"a,\"\"b\"\"\",,100.00,0.00,1000.00,0.00,100.00,0.00,100.00,0.00\n\
         张三,\"a,\"\"b\"\"\",0.00,0.00,1000.00,0.00,0.00,0.00,0.00,0.00\n"
    );
    assert_eq!(
        export("pools"),
        "mechanism,kind,title_zh,pool,obligations,obligations_waiting,paid,price,retired\n\
         r3,refer_refund,推荐返还,700.00,0.00,0,100.00,,false\n"
    );
    let reports = export("reports");
    let rows: Vec<&str> = reports.lines().collect();
    assert_eq!(rows[0], "at,mechanism,pool,obligations,paid,price,chain");
    assert_eq!(rows.len(), 2, "{reports}");
    assert!(rows[1].starts_with("2026-01-02T00:00:00+08:00,r3,700.00,0.00,100.00,,"), "{reports}");
    assert_eq!(rows[1].rsplit(',').next().unwrap().len(), 64, "the chain's head");
    // --out writes the same bytes to a file.
    let file = dir.join("members.csv");
    let output = fanli(&["export", "members", plan, events, "--out", file.to_str().unwrap()]);
    assert_eq!(output.status.code(), Some(0));
    assert_eq!(std::fs::read(&file).unwrap()[3..], *export("members").as_bytes());
}

#[test]
fn the_simulators_outcomes_are_csv_with_a_bom() {
    let dir = tempdir("outcomes-csv");
    let out = dir.join("sim");
    let output =
        fanli(&["simulate", &example_plan(), "--days", "10", "--seed", "7", "--out", out.to_str().unwrap()]);
    assert_eq!(output.status.code(), Some(0), "{}", String::from_utf8_lossy(&output.stderr));
    for file in ["outcomes.csv", "timeseries.csv"] {
        let bytes = std::fs::read(out.join(file)).unwrap();
        assert!(bytes.starts_with(b"\xEF\xBB\xBF"), "{file}");
    }
    let outcomes = String::from_utf8(std::fs::read(out.join("outcomes.csv")).unwrap()).unwrap();
    assert!(outcomes.starts_with("\u{feff}member,joined_day,spent,received,received_over_spent,owed\n"));
}

/// A refused line stamped +08:00 names its times at +08:00 (UTC input stays UTC: the snapshots).
#[test]
fn a_refusal_names_times_at_the_offset_of_its_input() {
    let dir = tempdir("refusal-offset");
    let events = dir.join("events.jsonl");
    std::fs::write(
        &events,
        "{\"at\":\"2026-03-04T09:00:00+08:00\",\"type\":\"join\",\"member\":\"A\"}\n\
         {\"at\":\"2026-03-04T08:30:00+08:00\",\"type\":\"join\",\"member\":\"B\"}\n",
    )
    .unwrap();
    let output = fanli(&["run", &example_plan(), events.to_str().unwrap()]);
    assert_eq!(output.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        stderr.contains(
            "events.jsonl:2: time went backwards: 2026-03-04T08:30:00+08:00 is before the previous event at 2026-03-04T09:00:00+08:00"
        ),
        "{stderr}"
    );
}
