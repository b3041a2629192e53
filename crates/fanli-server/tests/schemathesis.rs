//! The API against its OpenAPI document: schemathesis (<https://schemathesis.io>) generates
//! requests from `GET /openapi.json`, valid ones and invalid ones, sends them to a live server on
//! 127.0.0.1 and fails on any answer the document does not allow (a status it does not list, a
//! body its schema does not match, a content type or header it does not say), on any 5xx, and
//! on invalid data accepted. The server has a tenant with a plan, members, a store, an order
//! and a closed day; schemathesis calls every operation with the owner's key, then the member's
//! own routes with a member token, so that the authenticated routes answer from real state. Its
//! output and every request and answer (ndjson) are kept in the test's folder
//! (`target/tmp/schemathesis/`).
//!
//! The seed is fixed (18; another with `FANLI_SCHEMATHESIS_SEED=N`), so a run is repeatable.
//! Skipped, with a note, when `schemathesis` is not on the PATH, unless
//! `FANLI_REQUIRE_SCHEMATHESIS=1` (which `.ci/run` sets after installing it).

mod common;

use std::process::Command;

use common::*;

const PLAN: &str = include_str!("../../fanli-cli/tests/cases/seed_appr.toml");
const EVENTS: &str = include_str!("../../fanli-cli/tests/cases/seed_appr.jsonl");

/// Requests per operation and phase: about a minute on 2 cores for the whole run (more with
/// `FANLI_SCHEMATHESIS_EXAMPLES=N`).
const EXAMPLES: &str = "25";

#[test]
fn the_api_answers_as_its_openapi_document_says() {
    if Command::new("schemathesis").arg("--version").output().is_err() {
        assert!(
            std::env::var("FANLI_REQUIRE_SCHEMATHESIS").as_deref() != Ok("1"),
            "FANLI_REQUIRE_SCHEMATHESIS=1 but schemathesis is not installed (pip install schemathesis)"
        );
        eprintln!("skipped: schemathesis is not installed (pip install schemathesis)");
        return;
    }
    let dir = data_dir("schemathesis");
    let addr = start(&dir);
    let call = |method: &str, path: &str, key: &str, body: &str| {
        let answer = request(addr, method, path, Some(key), "", body);
        assert!(answer.status < 300, "{method} {path}: {} {}", answer.status, answer.body);
        answer
    };
    let owner = call("POST", "/v1/tenants", MASTER, r#"{"id":"acme"}"#).json()["owner_key"]
        .as_str()
        .unwrap()
        .to_owned();
    call("PUT", "/v1/plan", &owner, PLAN);
    let results = call("POST", "/v1/events", &owner, EVENTS).json();
    assert!(results["results"].as_array().unwrap().iter().all(|r| r["ok"] == true), "{results}");
    call("POST", "/v1/brands", &owner, r#"{"id":"b1"}"#);
    call("POST", "/v1/stores", &owner, r#"{"store":"s1","brand":"b1"}"#);
    call("POST", "/v1/orders", &owner, r#"{"order":"o9","member":"m1","amount":"100.00","store":"s1"}"#);
    call("POST", "/v1/events", &owner, r#"{"type":"close_day"}"#);
    let token = call("POST", "/v1/members/m1/token", &owner, "").json()["token"].as_str().unwrap().to_owned();
    let document = call("GET", "/openapi.json", &owner, "").json();
    let operations: usize =
        document["paths"].as_object().unwrap().values().map(|p| p.as_object().unwrap().len()).sum();

    // A fixed seed, the same run each time; another with FANLI_SCHEMATHESIS_SEED.
    let seed = std::env::var("FANLI_SCHEMATHESIS_SEED").unwrap_or_else(|_| "18".to_owned());
    let examples = std::env::var("FANLI_SCHEMATHESIS_EXAMPLES").unwrap_or_else(|_| EXAMPLES.to_owned());
    let run = |name: &str, key: &str, only: &[&str]| {
        let output = Command::new("schemathesis")
            .args(["run", &format!("http://{addr}/openapi.json")])
            .args(["--header", &format!("Authorization: Bearer {key}")])
            .args(only)
            .args(["--max-examples", &examples, "--seed", &seed, "--workers", "2"])
            .args(["--phases", "examples,coverage,fuzzing"])
            // Every check but `positive_data_acceptance`: a request the schema allows may still
            // be refused by the engine (an order of a member that never joined is `422`), as the
            // document says.
            .args(["--checks", "all", "--exclude-checks", "positive_data_acceptance"])
            .args(["--request-timeout", "10", "--no-color"])
            // Every request and answer, for a failure's reader.
            .args(["--report", "ndjson", "--report-dir", name])
            // Its cache of past failures goes with the test's data, not into the source tree.
            .current_dir(&dir)
            .env("SCHEMATHESIS_HOOKS", concat!(env!("CARGO_MANIFEST_DIR"), "/tests/schemathesis_hooks.py"))
            .output()
            .expect("schemathesis runs");
        let stdout = String::from_utf8_lossy(&output.stdout).into_owned();
        std::fs::write(dir.join(format!("{name}.txt")), &stdout).unwrap();
        let stderr = String::from_utf8_lossy(&output.stderr);
        assert!(output.status.success(), "schemathesis found mismatches ({name}):\n{stdout}\n{stderr}");
        // Its summary, for the test's output (`--nocapture`).
        eprintln!("{name}: {}", stdout.rfind("WARNINGS").map_or(&*stdout, |at| &stdout[at..]));
        stdout
    };
    // Every operation but the document itself, with the owner's key.
    let owner_run = run("owner", &owner, &[]);
    assert!(
        owner_run.contains(&format!("Tested: {}\n", operations - 1)),
        "{operations} operations: {owner_run}"
    );
    // The member's own routes, with its token.
    let member_run = run("member", &token, &["--include-path-regex", r"^/v1/me(/qr\.svg)?$"]);
    assert!(member_run.contains("Tested: 2\n"), "{member_run}");
}
