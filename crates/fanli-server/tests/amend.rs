//! Amending a live tenant's plan (issue 15): `PUT /v1/plan` after the log began records an
//! `amend_plan` event; `GET /v1/plan` shows the plan in force and what waits; `GET
//! /v1/plan/versions` every version; a restart and `fanli audit verify` replay the same state.

mod common;

use common::{Target, data_dir, local, open, request, store};
use serde_json::Value;

/// A distribution paying the direct referrer `rate` of each order.
fn plan(rate: &str) -> String {
    format!(
        "name = \"amend\"\nsettle_after_days = 0\n[[mechanism]]\nid = \"dist\"\nkind = \"distribution\"\n\
         funding_rate = \"0.02\"\nlevels = [\"{rate}\"]\n"
    )
}

fn call(addr: impl Target, method: &str, path: &str, key: &str, body: &str) -> (u16, Value) {
    let answer = request(addr, method, path, Some(key), "", body);
    let value = serde_json::from_str(&answer.body).unwrap_or(Value::String(answer.body.clone()));
    (answer.status, value)
}

/// The wall clock `days` from now, in RFC 3339 (UTC).
fn days_from_now(days: i64) -> String {
    let now = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap().as_nanos() as i64;
    fanli_engine::Timestamp::from_unix_nanos(now + days * 86_400 * 1_000_000_000).to_string()
}

/// `%2B` for `+` in a query.
fn query(at: &str) -> String {
    at.replace('+', "%2B")
}

/// A tenant `shop` with the plan at 0.003, A referring b, and b's order of 1000.00 (A: 3.00).
fn live(addr: impl Target) -> String {
    let (_, body) = call(addr, "POST", "/v1/tenants", "master-secret", r#"{"id":"shop"}"#);
    let key = body["owner_key"].as_str().unwrap().to_owned();
    assert_eq!(call(addr, "PUT", "/v1/plan", &key, &plan("0.003")).0, 200);
    let events = "{\"at\":\"2026-01-01T09:00:00+08:00\",\"type\":\"join\",\"member\":\"A\"}\n\
                  {\"at\":\"2026-01-01T09:01:00+08:00\",\"type\":\"join\",\"member\":\"b\",\"referrer\":\"A\"}\n\
                  {\"at\":\"2026-01-01T09:02:00+08:00\",\"type\":\"order\",\"order\":\"b1\",\"member\":\"b\",\"amount\":\"1000.00\"}\n";
    let (status, body) = call(addr, "POST", "/v1/events", &key, events);
    assert_eq!(status, 200, "{body}");
    key
}

fn wallet(addr: impl Target, key: &str, member: &str) -> String {
    let (_, state) = call(addr, "GET", "/v1/state", key, "");
    state["members"][member]["wallet"].as_str().unwrap().to_owned()
}

fn log_lines(addr: impl Target, key: &str) -> usize {
    request(addr, "GET", "/v1/audit", Some(key), "", "").body.lines().count()
}

/// The state `fanli run` prints for the base plan and the tenant's log (its audit feed).
fn replayed(addr: impl Target, key: &str, base: &str) -> String {
    let feed = request(addr, "GET", "/v1/audit", Some(key), "", "").body;
    let mut engine = fanli_engine::Engine::new(fanli_format::parse_plan(base).unwrap());
    fanli_format::chain::verify(&mut engine, feed.as_bytes(), None).unwrap();
    let mut state = Vec::new();
    fanli_format::state_json(&engine, &[], None, &mut state).unwrap();
    String::from_utf8(state).unwrap()
}

#[test]
fn a_live_tenants_plan_is_amended_through_its_log_with_notice_for_what_lowers() {
    let dir = data_dir("amend-live");
    let addr = &local(&dir);
    let key = live(addr);
    assert_eq!(wallet(addr, &key, "A"), "3.00");
    // A raise, without `effective_at`: recorded now, in force at once.
    let (status, body) = call(addr, "PUT", "/v1/plan", &key, &plan("0.005"));
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["version"], 2);
    let (_, versions) = call(addr, "GET", "/v1/plan/versions", &key, "");
    assert_eq!(versions[1]["effective_at"], body["effective_at"], "at once: {versions}");
    assert_eq!(versions[1]["recorded_at"], body["effective_at"]);
    assert_eq!(log_lines(addr, &key), 4, "the amendment is the log's 4th line");
    // b's next order pays A the new rate: 0.005 × 1000.00.
    let (status, body) =
        call(addr, "POST", "/v1/orders", &key, r#"{"order":"b2","member":"b","amount":"1000.00"}"#);
    assert_eq!(status, 200, "{body}");
    assert_eq!(wallet(addr, &key, "A"), "8.00");
    // What a lowering would change for the members, from the tenant's state: what `fanli check
    // --against` gives for the same plan and log.
    let (status, checked) = call(addr, "POST", "/v1/plan/check?against=current", &key, &plan("0.004"));
    assert_eq!(status, 200, "{checked}");
    let mut engine = fanli_engine::Engine::new(fanli_format::parse_plan(&plan("0.003")).unwrap());
    let feed = request(addr, "GET", "/v1/audit", Some(&key), "", "").body;
    fanli_format::chain::verify(&mut engine, feed.as_bytes(), None).unwrap();
    let expected = fanli_sim::against::compare(engine, 0, &plan("0.004"), "log").unwrap();
    assert_eq!(checked["amendment"], expected.json());
    assert_eq!(
        (checked["amendment"]["members"].as_u64(), checked["refused"].as_bool()),
        (Some(2), Some(false))
    );
    // In fen: the amounts are written with two decimals.
    let paid = |which: &str| {
        checked["amendment"]["total"][which]["paid"]
            .as_str()
            .unwrap()
            .replace('.', "")
            .parse::<i64>()
            .unwrap()
    };
    assert!(paid("new") < paid("old"), "a lower rate pays less: {checked}");
    assert_eq!(call(addr, "POST", "/v1/plan/check?against=other", &key, &plan("0.004")).0, 400);
    // A lowering at once: refused for want of the plan's 7 days' notice; nothing changes.
    let (status, body) = call(addr, "PUT", "/v1/plan", &key, &plan("0.004"));
    assert_eq!((status, &body["error"]["code"]), (422, &Value::from("notice_too_short")), "{body}");
    assert_eq!(log_lines(addr, &key), 5);
    let (status, body) =
        call(addr, "PUT", "/v1/plan?effective_at=2026-01-01T10:00:00Z", &key, &plan("0.006"));
    assert_eq!((status, &body["error"]["code"]), (422, &Value::from("effective_in_past")), "{body}");
    assert_eq!(call(addr, "PUT", "/v1/plan?effective_at=soon", &key, &plan("0.006")).0, 400);
    // More than the mechanism's funding to give away: past a red line.
    let noncompliant = plan("0.03");
    let (status, body) = call(addr, "PUT", "/v1/plan", &key, &noncompliant);
    assert_eq!(status, 422, "{body}");
    assert_eq!(body["error"]["code"], "noncompliant");
    assert!(body["error"]["findings"].as_array().is_some_and(|f| !f.is_empty()), "{body}");
    assert_eq!(log_lines(addr, &key), 5);
    // With 8 days' notice: recorded, waiting.
    let later = days_from_now(8);
    let (status, body) =
        call(addr, "PUT", &format!("/v1/plan?effective_at={}", query(&later)), &key, &plan("0.004"));
    assert_eq!(status, 200, "{body}");
    assert_eq!((&body["version"], body["effective_at"].as_str()), (&Value::from(3), Some(later.as_str())));
    let (_, now) = call(addr, "GET", "/v1/plan", &key, "");
    assert_eq!(now["version"], 2, "{now}");
    assert_eq!(now["plan"], plan("0.005"));
    assert_eq!(now["waiting"], serde_json::json!([{"version": 3, "effective_at": later}]));
    // An amendment sent as a raw event is recorded alike, by the key that sent it.
    let (soon, after) = (days_from_now(0).replace('Z', "+00:00"), days_from_now(9));
    let raw =
        serde_json::json!({"at": soon, "type": "amend_plan", "effective_at": after, "plan": plan("0.006")});
    let (status, body) = call(addr, "POST", "/v1/events", &key, &raw.to_string());
    assert_eq!((status, &body["results"][0]["ok"]), (200, &Value::Bool(true)), "{body}");
    let (_, versions) = call(addr, "GET", "/v1/plan/versions", &key, "");
    let states: Vec<&str> =
        versions.as_array().unwrap().iter().map(|v| v["state"].as_str().unwrap()).collect();
    assert_eq!(states, ["base", "in_force", "waiting", "waiting"], "{versions}");
    let lines: Vec<&Value> = versions.as_array().unwrap().iter().map(|v| &v["line"]).collect();
    assert_eq!(lines, [&Value::Null, &Value::from(4), &Value::from(6), &Value::from(7)]);
    let owner_key = versions[0]["key_id"].clone();
    assert!(owner_key.is_string());
    assert!(versions.as_array().unwrap().iter().all(|v| v["key_id"] == owner_key), "{versions}");
    assert_eq!(versions[3]["effective_at"], after);
    // The state is `fanli run`'s of the base plan and the log, and a restart rebuilds it.
    let (_, state) = call(addr, "GET", "/v1/state", &key, "");
    let state = state.to_string();
    let expected: Value = serde_json::from_str(&replayed(addr, &key, &plan("0.003"))).unwrap();
    assert_eq!(state, expected.to_string());
    let reopened = open(&dir);
    let again: Value = serde_json::from_slice(&reopened.state("shop").unwrap()).unwrap();
    assert_eq!(again.to_string(), state);
    drop(reopened);
    // `fanli audit verify --data`: the log replays from the base plan.
    let verified = fanli_server::audit::verify_tenant(&mut store(&dir), "shop").unwrap().expect("a plan");
    assert_eq!((verified.lines, verified.balanced), (7, true));
}

#[test]
fn a_plan_put_before_the_log_begins_takes_no_effective_at() {
    let dir = data_dir("amend-base");
    let addr = &local(&dir);
    let (_, body) = call(addr, "POST", "/v1/tenants", "master-secret", r#"{"id":"shop"}"#);
    let key = body["owner_key"].as_str().unwrap().to_owned();
    let path = format!("/v1/plan?effective_at={}", query(&days_from_now(1)));
    assert_eq!(call(addr, "PUT", &path, &key, &plan("0.003")).0, 400);
    assert_eq!(call(addr, "PUT", "/v1/plan", &key, &plan("0.003")).0, 200);
    assert_eq!(call(addr, "PUT", "/v1/plan", &key, &plan("0.004")).0, 200);
    let (_, versions) = call(addr, "GET", "/v1/plan/versions", &key, "");
    let states: Vec<&str> =
        versions.as_array().unwrap().iter().map(|v| v["state"].as_str().unwrap()).collect();
    assert_eq!(states, ["superseded", "in_force"]);
    assert!(versions[1]["recorded_at"].is_string() && versions[1]["line"].is_null());
    let (_, now) = call(addr, "GET", "/v1/plan", &key, "");
    assert_eq!((&now["version"], &now["waiting"]), (&Value::from(2), &serde_json::json!([])));
}

#[test]
fn a_restart_from_a_snapshot_taken_after_amendments_keeps_them_and_replays_to_the_same_state() {
    let dir = data_dir("amend-snapshot");
    let addr = &common::local_app(open(&dir).snapshot_every(5));
    let key = live(addr);
    assert_eq!(call(addr, "PUT", "/v1/plan", &key, &plan("0.005")).0, 200);
    let later = days_from_now(30);
    let path = format!("/v1/plan?effective_at={}", query(&later));
    assert_eq!(call(addr, "PUT", &path, &key, &plan("0.004")).0, 200);
    // Line 5, the waiting amendment: 5 lines since none, so a snapshot there, with one
    // amendment in force and one waiting.
    let mut store = store(&dir);
    let mut snapshot = None;
    for _ in 0..250 {
        snapshot = store.snapshot("shop").unwrap();
        if snapshot.is_some() {
            break;
        }
        std::thread::sleep(std::time::Duration::from_millis(20));
    }
    assert_eq!(snapshot.expect("a snapshot within 5 s").line, 5);
    let order = r#"{"order":"b2","member":"b","amount":"1000.00"}"#;
    assert_eq!(call(addr, "POST", "/v1/orders", &key, order).0, 200);
    let order = r#"{"order":"b3","member":"b","amount":"100.00"}"#;
    assert_eq!(call(addr, "POST", "/v1/orders", &key, order).0, 200);
    assert_eq!(wallet(addr, &key, "A"), "8.50", "3.00 + 5.00 + 0.50 at the raised rate");
    let (_, state) = call(addr, "GET", "/v1/state", &key, "");
    let expected: Value = serde_json::from_str(&replayed(addr, &key, &plan("0.003"))).unwrap();
    assert_eq!(state, expected);

    let reopened = open(&dir);
    assert_eq!(reopened.snapshot_line("shop"), Some(5), "loaded from the snapshot");
    let again: Value = serde_json::from_slice(&reopened.state("shop").unwrap()).unwrap();
    assert_eq!(again, state);
    drop(reopened);
    let addr = &local(&dir);
    let (_, now) = call(addr, "GET", "/v1/plan", &key, "");
    assert_eq!((&now["version"], &now["waiting"][0]["version"]), (&Value::from(2), &Value::from(3)), "{now}");
    let verified = fanli_server::audit::verify_tenant(&mut store, "shop").unwrap().expect("a plan");
    assert_eq!((verified.lines, verified.snapshot, verified.balanced), (7, Some(5), true));
}

#[test]
fn a_proposal_is_listed_while_put_to_the_vote_and_recorded_as_an_amendment_by_its_tally() {
    let dir = data_dir("amend-vote");
    let addr = &local(&dir);
    let voting = |rate: &str| format!("{}[vote]\ndays = 1\n", plan(rate));
    let (_, body) = call(addr, "POST", "/v1/tenants", "master-secret", r#"{"id":"shop"}"#);
    let key = body["owner_key"].as_str().unwrap().to_owned();
    assert_eq!(call(addr, "PUT", "/v1/plan", &key, &voting("0.003")).0, 200);
    let line = |at: &str, rest: &str| format!("{{\"at\":\"2026-01-0{at}+08:00\",{rest}}}\n");
    let propose = |id: &str, rate: &str| {
        let plan = serde_json::to_string(&voting(rate)).unwrap();
        format!("\"type\":\"propose\",\"proposal\":\"{id}\",\"plan\":{plan}")
    };
    let events = [
        line("1T09:00:00", r#""type":"join","member":"A""#),
        line("1T09:01:00", r#""type":"order","order":"a1","member":"A","amount":"1000.00""#),
        line("1T09:02:00", &propose("p1", "0.005")),
        line("1T09:03:00", &propose("p2", "0.006")),
        line("1T09:04:00", r#""type":"vote","member":"A","proposal":"p1","decision":"yes""#),
    ]
    .concat();
    let (status, body) = call(addr, "POST", "/v1/events", &key, &events);
    assert!(status == 200 && body["results"].as_array().unwrap().iter().all(|r| r["ok"] == true), "{body}");
    let states = |addr| {
        let (_, versions) = call(addr, "GET", "/v1/plan/versions", &key, "");
        versions
            .as_array()
            .unwrap()
            .iter()
            .map(|v| v["state"].as_str().unwrap().to_owned())
            .collect::<Vec<_>>()
    };
    assert_eq!(states(addr), ["in_force", "proposed", "proposed"]);
    // The tally a day later passes p1, a raise: recorded at the tally, in force at once.
    let tally = line("2T10:00:00", r#""type":"tally","proposal":"p1""#);
    assert_eq!(call(addr, "POST", "/v1/events", &key, &tally).1["results"][0]["ok"], true);
    let (_, versions) = call(addr, "GET", "/v1/plan/versions", &key, "");
    assert_eq!(states(addr), ["base", "in_force", "proposed"], "{versions}");
    let p1 = &versions[1];
    assert_eq!((&p1["proposal"], &p1["line"]), (&Value::from("p1"), &Value::from(6)));
    let tallied = Value::from("2026-01-02T02:00:00Z");
    assert_eq!((&p1["recorded_at"], &p1["effective_at"]), (&tallied, &tallied), "{versions}");
    let (_, now) = call(addr, "GET", "/v1/plan", &key, "");
    assert_eq!((&now["version"], now["plan"].as_str()), (&Value::from(2), Some(voting("0.005").as_str())));
}
