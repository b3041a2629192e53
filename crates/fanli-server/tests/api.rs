//! The API: tenants, keys, plans, events, state, restart. Each test's server answers through its
//! router in-process (`common::local`), but for the tests that need real connections: the
//! webhook's deliveries (the deliverer starts with `serve`) and concurrent retries, on 127.0.0.1.

use std::io::{Read, Write};
use std::time::Duration;

mod common;

use common::{Target, data_dir, local, local_app, open, open_with, request, start, start_app, store};
use fanli_server::store::StoredKey;
use serde_json::{Value, json as value};

const PLAN: &str = include_str!("../../fanli-cli/tests/cases/seed_refer.toml");
const EVENTS: &str = include_str!("../../fanli-cli/tests/cases/seed_refer.jsonl");

/// One request; returns the status and the body.
fn call(addr: impl Target, method: &str, path: &str, key: Option<&str>, body: &str) -> (u16, String) {
    let answer = request(addr, method, path, key, "", body);
    (answer.status, answer.body)
}

/// The first owner key of `tenant`, by its hash, as the master key makes it.
fn owner(tenant: &str, hash: &str) -> StoredKey {
    StoredKey {
        id: format!("id-{hash}"),
        hash: hash.to_owned(),
        tenant: tenant.to_owned(),
        role: "owner".to_owned(),
        scope: None,
        created_at: None,
        created_by: Some("master".to_owned()),
        revoked_at: None,
        revoked_by: None,
    }
}

fn json(body: &str) -> Value {
    serde_json::from_str(body).unwrap_or_else(|e| panic!("{e}: {body}"))
}

#[test]
fn a_tenant_sets_a_plan_posts_events_and_reads_what_fanli_run_prints() {
    let dir = data_dir("api-core");
    let addr = &local(&dir);
    assert_eq!(call(addr, "GET", "/healthz", None, "").0, 200);
    assert_eq!(json(&call(addr, "GET", "/openapi.json", None, "").1)["openapi"], "3.1.0");
    // Only the master key creates tenants; the owner key is shown once.
    assert_eq!(call(addr, "POST", "/v1/tenants", Some("guess"), r#"{"id":"acme"}"#).0, 401);
    let (status, body) = call(addr, "POST", "/v1/tenants", Some("master-secret"), r#"{"id":"acme"}"#);
    assert_eq!(status, 201, "{body}");
    let key = json(&body)["owner_key"].as_str().unwrap().to_owned();
    assert_eq!(call(addr, "POST", "/v1/tenants", Some("master-secret"), r#"{"id":"acme"}"#).0, 409);
    let (status, body) = call(addr, "GET", "/v1/state", None, "");
    assert_eq!(status, 401);
    assert_eq!(json(&body)["error"]["code"], "unauthorized");
    assert_eq!(call(addr, "POST", "/v1/events", Some(&key), EVENTS).0, 409, "no plan yet");
    // A plan past a red line is refused with its findings.
    let noncompliant = PLAN.replace("referee_min = \"1000.00\"", "referee_min = \"0\"");
    let (status, body) = call(addr, "PUT", "/v1/plan", Some(&key), &noncompliant);
    assert_eq!(status, 422, "{body}");
    assert_eq!(json(&body)["error"]["findings"][0]["rule"], "recruiting-alone");
    let (status, body) = call(addr, "PUT", "/v1/plan", Some(&key), PLAN);
    assert_eq!(status, 200, "{body}");
    assert_eq!(json(&body)["version"], 1, "the refused plan stored nothing; {body}");
    // A plan can be checked without being put, and the plan in force read back.
    let (status, body) = call(addr, "POST", "/v1/plan/check", Some(&key), &noncompliant);
    assert_eq!(status, 200, "{body}");
    assert_eq!(
        (&json(&body)["refused"], &json(&body)["findings"][0]["rule"]),
        (&value!(true), &value!("recruiting-alone"))
    );
    assert_eq!(json(&call(addr, "POST", "/v1/plan/check", Some(&key), PLAN).1)["refused"], false);
    assert_eq!(call(addr, "POST", "/v1/plan/check", Some(&key), "name = ").0, 422);
    let (status, body) = call(addr, "GET", "/v1/plan", Some(&key), "");
    assert_eq!(status, 200);
    assert_eq!((&json(&body)["version"], json(&body)["plan"].as_str()), (&value!(1), Some(PLAN)));
    // Events, one bad line among them, answered per line.
    let events = format!("{EVENTS}not json\n");
    let (status, body) = call(addr, "POST", "/v1/events", Some(&key), &events);
    assert_eq!(status, 200, "{body}");
    let results = json(&body)["results"].as_array().unwrap().clone();
    let lines = EVENTS.lines().count();
    assert_eq!(results.len(), lines + 1);
    assert!(results[..lines].iter().all(|r| r["ok"] == true), "{body}");
    assert_eq!(results[lines]["ok"], false);
    // The state is what fanli run prints for the same plan and the accepted events.
    let (status, state) = call(addr, "GET", "/v1/state", Some(&key), "");
    assert_eq!(status, 200);
    let mut engine = fanli_engine::Engine::new(fanli_format::parse_plan(PLAN).unwrap());
    fanli_format::run_stream(&mut engine, EVENTS.as_bytes(), false).unwrap();
    let mut expected = Vec::new();
    fanli_format::state_json(&engine, &[], None, &mut expected).unwrap();
    assert_eq!(state.trim_end(), String::from_utf8(expected).unwrap());
    assert_eq!(json(&state)["members"]["A"]["wallet"], "2000.00");
    // Another tenant's key sees only its own (empty) tenant.
    let (_, body) = call(addr, "POST", "/v1/tenants", Some("master-secret"), r#"{"id":"other"}"#);
    let other = json(&body)["owner_key"].as_str().unwrap().to_owned();
    assert_eq!(call(addr, "GET", "/v1/state", Some(&other), "").0, 409);
    // Metrics count what happened, by route pattern, and need no key.
    let (status, metrics) = call(addr, "GET", "/metrics", None, "");
    assert_eq!(status, 200);
    let sample = |name: &str| {
        let line =
            metrics.lines().find(|l| l.starts_with(name)).unwrap_or_else(|| panic!("{name}: {metrics}"));
        line.rsplit(' ').next().unwrap().parse::<u64>().unwrap()
    };
    assert_eq!(sample("fanli_events_applied_total "), lines as u64);
    assert_eq!(sample("fanli_events_rejected_total "), 1);
    assert_eq!(sample("fanli_http_requests_total{method=\"POST\",route=\"/v1/tenants\",status=\"201\"}"), 2);
    assert_eq!(sample("fanli_http_requests_total{method=\"GET\",route=\"/v1/state\",status=\"401\"}"), 1);
    assert_eq!(sample("fanli_tenants "), 2);
    assert_eq!(sample("fanli_log_events "), lines as u64);
    // A restart rebuilds the same state from the log, and the log is a valid audit chain.
    let reopened = open(&dir);
    assert_eq!(reopened.state("acme").unwrap(), state.as_bytes());
    let other = open_with(&dir, "another master").err().expect("another master key is refused");
    assert!(matches!(other, fanli_server::OpenError::OtherMasterKey), "{other}");
    assert_eq!(other.to_string(), "this data directory was created with another master key");
}

/// A session run again after a restart finds its tenant made: the master key issues it a new
/// owner key (`POST /v1/tenants/{id}/keys`), which sees the tenant's state; the old key stays.
#[test]
fn the_master_key_issues_a_new_owner_key_for_an_existing_tenant() {
    let dir = data_dir("api-master-owner-key");
    let first = {
        let addr = &local(&dir);
        let (status, body) = call(addr, "POST", "/v1/tenants", Some("master-secret"), r#"{"id":"shop"}"#);
        assert_eq!(status, 201, "{body}");
        let key = json(&body)["owner_key"].as_str().unwrap().to_owned();
        assert_eq!(call(addr, "PUT", "/v1/plan", Some(&key), PLAN).0, 200);
        assert_eq!(call(addr, "POST", "/v1/events", Some(&key), EVENTS).0, 200);
        key
    };
    // After the restart: the tenant exists (409), and the master key gives a new owner key.
    let addr = &local(&dir);
    assert_eq!(call(addr, "POST", "/v1/tenants", Some("master-secret"), r#"{"id":"shop"}"#).0, 409);
    assert_eq!(call(addr, "POST", "/v1/tenants/shop/keys", Some("guess"), "").0, 401);
    assert_eq!(
        call(addr, "POST", "/v1/tenants/shop/keys", Some(&first), "").0,
        401,
        "an owner key is not the master"
    );
    let (status, body) = call(addr, "POST", "/v1/tenants/nobody/keys", Some("master-secret"), "");
    assert_eq!((status, json(&body)["error"]["code"].clone()), (404, value!("not_found")), "{body}");
    let (status, body) = call(addr, "POST", "/v1/tenants/shop/keys", Some("master-secret"), "");
    assert_eq!(status, 201, "{body}");
    let answer = json(&body);
    assert_eq!(answer["id"], "shop");
    let key = answer["owner_key"].as_str().unwrap().to_owned();
    assert_ne!(key, first);
    // It is an owner's: the state (A's wallet of the seed: 2000.00) and the keys, both listed.
    let (status, state) = call(addr, "GET", "/v1/state", Some(&key), "");
    assert_eq!(status, 200, "{state}");
    assert_eq!(json(&state)["members"]["A"]["wallet"], "2000.00");
    let (status, keys) = call(addr, "GET", "/v1/keys", Some(&key), "");
    assert_eq!(status, 200, "{keys}");
    let keys = json(&keys)["keys"].as_array().unwrap().clone();
    let owners: Vec<&Value> = keys.iter().filter(|k| k["role"] == "owner").collect();
    assert_eq!(owners.len(), 2, "{keys:?}");
    assert!(owners.iter().all(|k| k["created_by"] == "master"), "{keys:?}");
    assert_eq!(owners[1]["id"], answer["owner_key_id"]);
    assert_eq!(call(addr, "GET", "/v1/state", Some(&first), "").0, 200, "the first key stays valid");
}

#[test]
fn the_stored_log_verifies_as_an_audit_chain() {
    let dir = data_dir("api-chain");
    let addr = &local(&dir);
    let (_, body) = call(addr, "POST", "/v1/tenants", Some("master-secret"), r#"{"id":"t"}"#);
    let key = json(&body)["owner_key"].as_str().unwrap().to_owned();
    assert_eq!(call(addr, "PUT", "/v1/plan", Some(&key), PLAN).0, 200);
    // Two batches: the chain runs across them.
    let (first, second) = EVENTS.split_at(EVENTS.len() / 2);
    let cut = first.rfind('\n').unwrap() + 1;
    let (first, second) = (&EVENTS[..cut], format!("{}{second}", &first[cut..]));
    assert_eq!(call(addr, "POST", "/v1/events", Some(&key), first).0, 200);
    assert_eq!(call(addr, "POST", "/v1/events", Some(&key), &second).0, 200);
    let db = rusqlite_lines(&dir);
    let mut engine = fanli_engine::Engine::new(fanli_format::parse_plan(PLAN).unwrap());
    let verified = fanli_format::chain::verify(&mut engine, db.join("\n").as_bytes(), None).unwrap();
    assert_eq!(verified.lines as usize, EVENTS.lines().count());
}

/// The tenant `t`'s stored log, read straight from the SQLite file.
fn rusqlite_lines(dir: &std::path::Path) -> Vec<String> {
    let mut store = store(dir);
    store.events("t", 0).unwrap()
}

#[test]
fn one_call_at_a_time_members_orders_views_the_audit_feed_and_the_past() {
    let dir = data_dir("api-resources");
    let addr = &local(&dir);
    let (_, body) = call(addr, "POST", "/v1/tenants", Some("master-secret"), r#"{"id":"shop"}"#);
    let key = json(&body)["owner_key"].as_str().unwrap().to_owned();
    assert_eq!(call(addr, "PUT", "/v1/plan", Some(&key), PLAN).0, 200);
    let at = |day: u32| format!("2026-01-{day:02}T09:00:00+08:00");
    let post = |path: &str, body: String| call(addr, "POST", path, Some(&key), &body);
    assert_eq!(post("/v1/members", format!(r#"{{"member":"A","at":"{}"}}"#, at(1))).0, 200);
    assert_eq!(post("/v1/members", format!(r#"{{"member":"B","referrer":"A","at":"{}"}}"#, at(1))).0, 200);
    let order = format!(r#"{{"order":"a1","member":"A","amount":"1000.00","at":"{}"}}"#, at(2));
    let (status, first) = post("/v1/orders", order.clone());
    assert_eq!(status, 200, "{first}");
    // The order id is the idempotency key: a retry is answered as the first time.
    let (status, again) = post("/v1/orders", order.replace("09:00", "10:00"));
    assert_eq!(status, 200);
    assert_eq!(again, first);
    let (status, body) =
        post("/v1/orders", format!(r#"{{"order":"a1","member":"A","amount":"5.00","at":"{}"}}"#, at(3)));
    assert_eq!(status, 422);
    assert_eq!(json(&body)["error"]["code"], "order_reused", "the rejection's own code: {body}");
    assert!(json(&body)["error"]["message"].as_str().unwrap().contains("already paid with another amount"));
    // Every refusal carries its code, from reading the body as from applying it.
    for (path, body, code) in [
        ("/v1/orders", r#"{"order":"x1","member":"nobody","amount":"1.00"}"#, "unknown_member"),
        ("/v1/members", r#"{"membr":"X"}"#, "unknown_field"),
        ("/v1/members", r#"{"member":"X","at":"yesterday"}"#, "bad_time"),
        ("/v1/refunds", r#"{"order":"nope"}"#, "unknown_order"),
        ("/v1/members", r#"{"member":"X","amount":"1.00"}"#, "field_not_allowed"),
    ] {
        let (status, answer) = post(path, body.to_owned());
        assert_eq!(
            (status, json(&answer)["error"]["code"].as_str()),
            (422, Some(code)),
            "{path} {body}: {answer}"
        );
        assert!(!json(&answer)["error"]["message"].as_str().unwrap().is_empty());
    }
    assert_eq!(
        post("/v1/orders", format!(r#"{{"order":"b1","member":"B","amount":"1000.00","at":"{}"}}"#, at(4))).0,
        200
    );
    // Still the first answer after B's order changed A's wallet, with the first `at` (now in
    // the past), and nothing logged again.
    let (_, log_before) = call(addr, "GET", "/v1/audit", Some(&key), "");
    let (status, later) = post("/v1/orders", order.clone());
    assert_eq!((status, later), (200, first.clone()));
    assert_eq!(call(addr, "GET", "/v1/audit", Some(&key), "").1, log_before);
    // Without `at`, now (after the events above).
    assert_eq!(post("/v1/members", r#"{"member":"C"}"#.to_owned()).0, 200);
    let (status, member) = call(addr, "GET", "/v1/members/A", Some(&key), "");
    assert_eq!(status, 200);
    assert_eq!(json(&member)["A"]["wallet"], "100.00", "B's referral pays step 1: 10% of 1000");
    assert_eq!(call(addr, "GET", "/v1/members/nobody", Some(&key), "").0, 404);
    // The state on day 3: A's order, not yet B's.
    let (status, then) =
        call(addr, "GET", &format!("/v1/state?at={}", at(3).replace('+', "%2B")), Some(&key), "");
    assert_eq!(status, 200, "{then}");
    assert_eq!(json(&then)["members"]["A"]["wallet"], "0.00");
    assert!(json(&then)["members"]["C"].is_null());
    // The audit feed from line 2 on: the accepted events only, chained.
    let (status, feed) = call(addr, "GET", "/v1/audit?from=2", Some(&key), "");
    assert_eq!(status, 200);
    let lines: Vec<&str> = feed.lines().collect();
    assert_eq!(lines.len(), 3, "{feed}");
    assert!(lines[0].contains("\"order\":\"a1\"") && lines[0].starts_with("{\"prev\":"));
    // In pages: a full page names where the next one starts; the last one does not.
    let page = request(addr, "GET", "/v1/audit?from=2&limit=2", Some(&key), "", "");
    assert_eq!(page.status, 200);
    assert_eq!(page.body.lines().collect::<Vec<_>>(), lines[..2]);
    assert_eq!(page.header("x-fanli-next"), Some("4"), "{:?}", page.head);
    let page = request(addr, "GET", "/v1/audit?from=4&limit=2", Some(&key), "", "");
    assert_eq!(page.body.lines().collect::<Vec<_>>(), lines[2..]);
    assert_eq!(page.header("x-fanli-next"), None, "{:?}", page.head);
    assert_eq!(call(addr, "GET", "/v1/audit?limit=many", Some(&key), "").0, 400);
    assert_eq!(call(addr, "GET", "/v1/audit?limit=0", Some(&key), "").0, 400);
    assert_eq!(call(addr, "GET", "/v1/audit?limit=100001", Some(&key), "").0, 400);
}

#[test]
fn the_scheduler_closes_each_business_day_once_in_the_plans_timezone() {
    let dir = data_dir("api-scheduler");
    let addr = &local(&dir);
    let (_, body) = call(addr, "POST", "/v1/tenants", Some("master-secret"), r#"{"id":"shop"}"#);
    let key = json(&body)["owner_key"].as_str().unwrap().to_owned();
    let plan = "name = \"p\"\nsettle_after_days = 1\ntimezone = \"+08:00\"\n[[mechanism]]\nid = \"q\"\nkind = \"queue\"\n\
                funding_rate = \"0.5\"\nrelease = \"when_funded\"\n";
    assert_eq!(call(addr, "PUT", "/v1/plan", Some(&key), plan).0, 200);
    let events = r#"{"at":"2026-03-01T10:00:00+08:00","type":"join","member":"A"}
{"at":"2026-03-01T10:00:00+08:00","type":"order","order":"a","member":"A","amount":"100.00"}
"#;
    assert_eq!(call(addr, "POST", "/v1/events", Some(&key), events).0, 200);
    // Those events arrived months after their stamps, so the server took them for history; here
    // they stand for a live tenant's, as if they had arrived on time.
    assert!(store(&dir).setting("backfill:shop").unwrap().as_deref() == Some("1"));
    store(&dir).set_setting("backfill:shop", "0").unwrap();
    // A second server on the same store, driven by hand: its scheduler's ticks at given times.
    let server = fanli_server::Server::start(open(&dir));
    let at = |t: &str| fanli_engine::Timestamp::parse_rfc3339(t).unwrap();
    assert_eq!(
        server.close_due_days(at("2026-03-01T23:59:00+08:00")),
        Vec::<String>::new(),
        "the day is not over"
    );
    assert_eq!(server.close_due_days(at("2026-03-02T00:00:30+08:00")), ["shop"]);
    assert_eq!(server.close_due_days(at("2026-03-02T08:00:00+08:00")), Vec::<String>::new(), "closed once");
    // A day without events closes too: its settlements and daily jobs are due all the same.
    assert_eq!(server.close_due_days(at("2026-03-03T00:01:00+08:00")), ["shop"]);
    // After three days down, the days close one by one, each at its own midnight.
    assert_eq!(server.close_due_days(at("2026-03-06T09:00:00+08:00")), ["shop", "shop", "shop"]);
    // A tenant whose last event is over a week old replays history: its days are its own.
    assert_eq!(server.close_due_days(at("2026-03-14T00:00:01+08:00")), Vec::<String>::new());
    let log = store(&dir).events("shop", 2).unwrap();
    let closes: Vec<&str> = log.iter().map(|l| &l[l.find("\"at\"").unwrap()..]).collect();
    assert_eq!(
        closes,
        [
            "\"at\":\"2026-03-01T16:00:00Z\",\"type\":\"close_day\"}",
            "\"at\":\"2026-03-02T16:00:00Z\",\"type\":\"close_day\"}",
            "\"at\":\"2026-03-03T16:00:00Z\",\"type\":\"close_day\"}",
            "\"at\":\"2026-03-04T16:00:00Z\",\"type\":\"close_day\"}",
            "\"at\":\"2026-03-05T16:00:00Z\",\"type\":\"close_day\"}",
        ]
    );
    // Each close wrote its daily pool report: the order settled at the second close (a day's
    // refund window) and funded half its amount.
    let reports = store(&dir).reports("shop", 0).unwrap();
    assert_eq!(reports.len(), 5);
    let report = |i: usize| json(&reports[i]);
    assert_eq!(report(0)["at"], "2026-03-01T16:00:00Z");
    assert_eq!(report(0)["mechanisms"]["q"]["pool"], "0.00");
    assert_eq!(report(1)["mechanisms"]["q"]["pool"], "50.00");
    assert_eq!(report(1)["chain"].as_str().unwrap().len(), 64);
    let state = String::from_utf8(open(&dir).state("shop").unwrap()).unwrap();
    assert_eq!(json(&state)["members"]["A"]["spent"], "100.00");
}

#[test]
fn keys_have_roles_and_a_member_token_sees_only_its_member() {
    let dir = data_dir("api-roles");
    let addr = &local(&dir);
    let (_, body) = call(addr, "POST", "/v1/tenants", Some("master-secret"), r#"{"id":"shop"}"#);
    let owner = json(&body)["owner_key"].as_str().unwrap().to_owned();
    assert_eq!(call(addr, "PUT", "/v1/plan", Some(&owner), PLAN).0, 200);
    let post = |key: &str, path: &str, body: &str| call(addr, "POST", path, Some(key), body);
    let key_of = |body: &str| {
        let v = json(body);
        v["key"].as_str().or(v["token"].as_str()).unwrap_or_else(|| panic!("{body}")).to_owned()
    };
    assert_eq!(post(&owner, "/v1/members", r#"{"member":"A"}"#).0, 200);
    assert_eq!(post(&owner, "/v1/members", r#"{"member":"B","referrer":"A"}"#).0, 200);
    assert_eq!(post(&owner, "/v1/brands", r#"{"id":"b1"}"#).0, 201);
    assert_eq!(post(&owner, "/v1/brands", r#"{"id":"b1"}"#).0, 409);
    assert_eq!(post(&owner, "/v1/stores", r#"{"store":"s1","region":["广东"],"brand":"b1"}"#).0, 200);
    assert_eq!(post(&owner, "/v1/stores", r#"{"store":"s2","region":["广东"]}"#).0, 200);
    assert_eq!(post(&owner, "/v1/stores", r#"{"store":"s9","brand":"nope"}"#).0, 422);
    let (status, body) = post(&owner, "/v1/keys", r#"{"role":"store_operator","store":"s1"}"#);
    assert_eq!(status, 201, "{body}");
    assert_eq!(json(&body)["store"], "s1");
    let store = key_of(&body);
    let brand = key_of(&post(&owner, "/v1/keys", r#"{"role":"brand_manager","brand":"b1"}"#).1);
    let reader = key_of(&post(&owner, "/v1/keys", r#"{"role":"read_only"}"#).1);
    assert_eq!(post(&owner, "/v1/keys", r#"{"role":"store_operator","store":"s7"}"#).0, 422);
    assert_eq!(post(&owner, "/v1/keys", r#"{"role":"admin"}"#).0, 400);
    assert_eq!(post(&store, "/v1/keys", r#"{"role":"read_only"}"#).0, 403, "only the owner makes keys");

    // A store operator sells at its store only.
    let order = |id: &str, store: &str| {
        format!(r#"{{"order":"{id}","member":"A","amount":"10.00","store":"{store}"}}"#)
    };
    assert_eq!(post(&store, "/v1/orders", &order("o1", "s1")).0, 200);
    let (status, body) = post(&store, "/v1/orders", &order("o2", "s2"));
    assert_eq!((status, json(&body)["error"]["code"].as_str()), (403, Some("forbidden")));
    assert_eq!(post(&store, "/v1/orders", r#"{"order":"o3","member":"A","amount":"10.00"}"#).0, 403);
    assert_eq!(post(&store, "/v1/members", r#"{"member":"C","referrer":"A"}"#).0, 200);
    assert_eq!(post(&store, "/v1/refunds", r#"{"order":"o1"}"#).0, 403);
    assert_eq!(call(addr, "PUT", "/v1/plan", Some(&store), PLAN).0, 403);
    assert_eq!(call(addr, "GET", "/v1/state", Some(&store), "").0, 403);
    assert_eq!(call(addr, "GET", "/v1/members/B", Some(&store), "").0, 200);
    // A brand manager: every store of its brand, and new stores in it.
    assert_eq!(post(&brand, "/v1/orders", &order("o4", "s1")).0, 200);
    assert_eq!(post(&brand, "/v1/orders", &order("o5", "s2")).0, 403);
    assert_eq!(post(&brand, "/v1/stores", r#"{"store":"s3","region":["广东"]}"#).0, 403);
    assert_eq!(post(&brand, "/v1/stores", r#"{"store":"s3","region":["广东"],"brand":"b1"}"#).0, 200);
    assert_eq!(post(&brand, "/v1/orders", &order("o6", "s3")).0, 200);
    // Read-only: every read, no write.
    let (status, state) = call(addr, "GET", "/v1/state", Some(&reader), "");
    assert_eq!(status, 200);
    assert_eq!(json(&state)["members"]["A"]["spent"], "30.00");
    assert_eq!(post(&reader, "/v1/orders", &order("o7", "s1")).0, 403);
    let (status, mechanisms) = call(addr, "GET", "/v1/mechanisms", Some(&reader), "");
    assert_eq!(status, 200);
    assert_eq!(json(&mechanisms)["r3"]["pool"], "12.00", "40% of three settled orders of 10.00");
    assert_eq!(call(addr, "GET", "/v1/mechanisms/r3", Some(&store), "").0, 200);
    assert_eq!(call(addr, "GET", "/v1/mechanisms/nope", Some(&reader), "").0, 404);
    let (status, page) = call(addr, "GET", "/v1/members?offset=1&limit=1", Some(&reader), "");
    assert_eq!(status, 200, "{page}");
    let page = json(&page);
    assert_eq!((&page["total"], &page["offset"]), (&value!(3), &value!(1)));
    assert_eq!(page["members"].as_object().unwrap().keys().collect::<Vec<_>>(), ["B"]);
    assert_eq!(json(&call(addr, "GET", "/v1/members?offset=9", Some(&store), "").1)["members"], value!({}));
    assert_eq!(call(addr, "GET", "/v1/members?limit=x", Some(&store), "").0, 400);
    // A page past its maximum is refused, as the OpenAPI document says, not cut short.
    assert_eq!(call(addr, "GET", "/v1/members?limit=500", Some(&store), "").0, 200);
    let (status, body) = call(addr, "GET", "/v1/members?limit=501", Some(&store), "");
    assert_eq!(
        (status, json(&body)["error"]["message"].as_str()),
        (400, Some("`limit` is at most 500, not 501"))
    );
    assert_eq!(json(&call(addr, "GET", "/v1/reviews", Some(&reader), "").1), value!({"reviews": []}));
    assert_eq!(call(addr, "GET", "/v1/reviews", Some(&store), "").0, 403);

    // A member token, made at the counter: its member's view and nothing else.
    let (status, body) = post(&store, "/v1/members/A/token", "");
    assert_eq!(status, 201, "{body}");
    let token = key_of(&body);
    assert_eq!(post(&store, "/v1/members/nobody/token", "").0, 404);
    let (status, me) = call(addr, "GET", "/v1/me", Some(&token), "");
    assert_eq!(status, 200, "{me}");
    assert_eq!(json(&me)["A"]["spent"], "30.00");
    assert_eq!(call(addr, "GET", "/v1/members/A", Some(&token), "").0, 200);
    assert_eq!(call(addr, "GET", "/v1/members/B", Some(&token), "").0, 403);
    assert_eq!(call(addr, "GET", "/v1/state", Some(&token), "").0, 403);
    assert_eq!(call(addr, "GET", "/v1/audit", Some(&token), "").0, 403);
    assert_eq!(post(&token, "/v1/orders", &order("o8", "s1")).0, 403);
    assert_eq!(call(addr, "GET", "/v1/me", Some(&owner), "").0, 403);

    // Keys, brands and stores' brands survive a restart.
    let again = &local(&dir);
    assert_eq!(call(again, "GET", "/v1/me", Some(&token), "").0, 200);
    assert_eq!(call(again, "POST", "/v1/orders", Some(&brand), &order("o9", "s3")).0, 200);
    assert_eq!(call(again, "POST", "/v1/orders", Some(&store), &order("o10", "s3")).0, 403);
}

/// A webhook receiver on 127.0.0.1 that answers 500 to its first `failures` requests and 200
/// after; it hands each request (headers, body) over the channel, and stops after `limit`.
/// The owner lists, revokes and rotates keys; a revoked key is refused at once (`401`), and
/// after a restart; the other roles may not revoke or rotate; the last owner key stays.
#[test]
fn keys_are_listed_revoked_and_rotated_and_a_revoked_key_is_refused() {
    let dir = data_dir("api-key-life");
    let server = local(&dir);
    let addr = &server;
    let (status, body) = call(addr, "POST", "/v1/tenants", Some("master-secret"), r#"{"id":"shop"}"#);
    assert_eq!(status, 201, "{body}");
    let owner = json(&body)["owner_key"].as_str().unwrap().to_owned();
    let owner_id = json(&body)["owner_key_id"].as_str().unwrap().to_owned();
    assert_eq!(call(addr, "PUT", "/v1/plan", Some(&owner), PLAN).0, 200);
    let post = |key: &str, path: &str, body: &str| call(addr, "POST", path, Some(key), body);
    assert_eq!(post(&owner, "/v1/members", r#"{"member":"A"}"#).0, 200);
    assert_eq!(post(&owner, "/v1/stores", r#"{"store":"s1","region":["广东"]}"#).0, 200);
    let made = |body: &str| {
        let v = json(body);
        let key = v["key"].as_str().or(v["token"].as_str()).unwrap_or_else(|| panic!("{body}")).to_owned();
        (key, v["id"].as_str().unwrap_or_else(|| panic!("{body}")).to_owned())
    };
    // Keys list in the order made, to the millisecond (ties by id): a pause keeps them apart.
    let (reader, reader_id) = made(&post(&owner, "/v1/keys", r#"{"role":"read_only"}"#).1);
    std::thread::sleep(std::time::Duration::from_millis(3));
    let (operator, operator_id) =
        made(&post(&owner, "/v1/keys", r#"{"role":"store_operator","store":"s1"}"#).1);
    std::thread::sleep(std::time::Duration::from_millis(3));
    let (token, token_id) = made(&post(&operator, "/v1/members/A/token", "").1);
    let list = |key: &str| call(addr, "GET", "/v1/keys", Some(key), "");

    // The list: every key in the order made, with who made it; no secret and no hash.
    let (status, body) = list(&owner);
    assert_eq!(status, 200, "{body}");
    let listed = json(&body);
    assert_eq!((&listed["total"], &listed["offset"]), (&value!(4), &value!(0)));
    let keys = listed["keys"].as_array().unwrap();
    let seen: Vec<(&str, &str, &str)> = keys
        .iter()
        .map(|k| (k["id"].as_str().unwrap(), k["role"].as_str().unwrap(), k["created_by"].as_str().unwrap()))
        .collect();
    assert_eq!(
        seen,
        [
            (owner_id.as_str(), "owner", "master"),
            (reader_id.as_str(), "read_only", owner_id.as_str()),
            (operator_id.as_str(), "store_operator", owner_id.as_str()),
            (token_id.as_str(), "member", operator_id.as_str()),
        ]
    );
    assert_eq!(keys[2]["store"], "s1");
    assert_eq!(keys[3]["member"], "A");
    for key in keys {
        assert_eq!(
            (&key["revoked"], &key["revoked_at"], &key["revoked_by"]),
            (&value!(false), &Value::Null, &Value::Null)
        );
        let made = key["created_at"].as_str().unwrap();
        assert!(fanli_engine::Timestamp::parse_rfc3339(made).is_some(), "{made}");
    }
    for secret in [&owner, &reader, &operator, &token] {
        let hash = fanli_format::chain::sha256_hex(secret.as_bytes());
        assert!(!body.contains(secret.as_str()) && !body.contains(&hash), "{body}");
    }
    let page = json(&call(addr, "GET", "/v1/keys?offset=1&limit=2", Some(&owner), "").1);
    assert_eq!(call(addr, "GET", "/v1/keys?limit=1001", Some(&owner), "").0, 400);
    let ids: Vec<&str> = page["keys"].as_array().unwrap().iter().map(|k| k["id"].as_str().unwrap()).collect();
    assert_eq!((&page["total"], ids), (&value!(4), vec![reader_id.as_str(), operator_id.as_str()]));
    // Read-only keys list too; operators and members do not; only the owner revokes and rotates.
    assert_eq!(list(&reader).0, 200);
    let (status, body) = list(&operator);
    assert_eq!((status, json(&body)["error"]["code"].as_str()), (403, Some("forbidden")), "{body}");
    assert_eq!(list(&token).0, 403);
    for key in [&reader, &operator, &token] {
        let (status, body) = call(addr, "DELETE", &format!("/v1/keys/{token_id}"), Some(key), "");
        assert_eq!((status, json(&body)["error"]["code"].as_str()), (403, Some("forbidden")), "{body}");
        assert_eq!(post(key, &format!("/v1/keys/{token_id}/rotate"), "").0, 403);
    }

    // Revoked: answered with its entry, refused from the next request on.
    assert_eq!(call(addr, "GET", "/v1/me", Some(&token), "").0, 200);
    let (status, body) = call(addr, "DELETE", &format!("/v1/keys/{token_id}"), Some(&owner), "");
    assert_eq!(status, 200, "{body}");
    let revoked = json(&body);
    assert_eq!(
        (&revoked["id"], &revoked["revoked"], &revoked["revoked_by"]),
        (&value!(token_id), &value!(true), &value!(owner_id))
    );
    let (status, body) = call(addr, "GET", "/v1/me", Some(&token), "");
    assert_eq!(status, 401, "{body}");
    assert_eq!(json(&body)["error"]["code"], "unauthorized");
    assert_eq!(call(addr, "GET", &format!("/m?t={token}"), None, "").0, 401, "nor its page");
    // Again: as it is, its first revocation holding.
    let (status, again) = call(addr, "DELETE", &format!("/v1/keys/{token_id}"), Some(&owner), "");
    assert_eq!((status, json(&again)), (200, revoked.clone()));
    let (status, body) = call(addr, "DELETE", "/v1/keys/0123456789abcdef", Some(&owner), "");
    assert_eq!((status, json(&body)["error"]["code"].as_str()), (404, Some("not_found")), "{body}");

    // Rotated: a new key of the same role and scope; the old one refused; the new one sells at s1.
    let (status, body) = post(&owner, &format!("/v1/keys/{operator_id}/rotate"), "");
    assert_eq!(status, 201, "{body}");
    let rotated = json(&body);
    assert_eq!(
        (&rotated["role"], &rotated["store"], &rotated["replaces"]),
        (&value!("store_operator"), &value!("s1"), &value!(operator_id))
    );
    let (operator2, operator2_id) = made(&body);
    let order = r#"{"order":"o1","member":"A","amount":"10.00","store":"s1"}"#;
    assert_eq!(post(&operator, "/v1/orders", order).0, 401);
    assert_eq!(post(&operator2, "/v1/orders", order).0, 200);
    let (status, body) = post(&owner, &format!("/v1/keys/{operator_id}/rotate"), "");
    assert_eq!((status, json(&body)["error"]["code"].as_str()), (409, Some("revoked")), "{body}");
    let listed = json(&list(&owner).1);
    let old =
        listed["keys"].as_array().unwrap().iter().find(|k| k["id"] == operator_id.as_str()).unwrap().clone();
    assert_eq!((&old["revoked"], &old["revoked_by"]), (&value!(true), &value!(owner_id)));
    assert_eq!(listed["total"], 5);

    // The last owner key is not revoked; once a second exists, the first may go.
    let (status, body) = call(addr, "DELETE", &format!("/v1/keys/{owner_id}"), Some(&owner), "");
    assert_eq!((status, json(&body)["error"]["code"].as_str()), (409, Some("last_owner_key")), "{body}");
    let (owner2, _) = made(&post(&owner, "/v1/keys", r#"{"role":"owner"}"#).1);
    assert_eq!(call(addr, "DELETE", &format!("/v1/keys/{owner_id}"), Some(&owner2), "").0, 200);
    assert_eq!(list(&owner).0, 401);
    assert_eq!(list(&owner2).0, 200);
    // Another tenant's owner sees none of these keys.
    let (_, body) = call(addr, "POST", "/v1/tenants", Some("master-secret"), r#"{"id":"other"}"#);
    let other = json(&body)["owner_key"].as_str().unwrap().to_owned();
    assert_eq!(call(addr, "DELETE", &format!("/v1/keys/{reader_id}"), Some(&other), "").0, 404);
    assert_eq!(json(&list(&other).1)["total"], 1);

    // Every write names its key beside the log, not in it: the order by the new store key.
    let writes = store(&dir).writes("shop", None, 1).unwrap();
    assert_eq!(
        (writes[0].key.as_deref(), writes[0].role.clone()),
        (Some(operator2_id.as_str()), Some(("store_operator".to_owned(), Some("s1".to_owned()))))
    );
    assert!(!writes[0].event.contains(&operator2_id));
    // After a restart the revoked keys stay refused, the others go on.
    drop(server);
    let addr = &local(&dir);
    for (key, status) in [(&owner, 401), (&token, 401), (&operator, 401), (&owner2, 200), (&reader, 200)] {
        assert_eq!(call(addr, "GET", "/v1/keys", Some(key), "").0, status);
    }
    assert_eq!(call(addr, "GET", "/v1/members/A", Some(&operator2), "").0, 200);
}

/// Two nodes on one PostgreSQL: a key revoked on the node serving its tenant is refused on the
/// other node at its next request (`401`, not forwarded to the owner), though that node had
/// the key in memory from its start; a rotated key's successor, made on the first node, is
/// forwarded there. (Needs `FANLI_TEST_DATABASE_URL`; on SQLite there is one node.)
#[test]
fn a_key_revoked_on_one_node_is_refused_on_the_other() {
    let dir = data_dir("api-cluster-revoke");
    let Some(url) = common::database(&dir) else {
        eprintln!("FANLI_TEST_DATABASE_URL is not set: no cluster to test");
        return;
    };
    let a = common::start_node(&dir.join("a"), &url);
    let (status, body) = call(a, "POST", "/v1/tenants", Some("master-secret"), r#"{"id":"shop"}"#);
    assert_eq!(status, 201, "{body}");
    let owner = json(&body)["owner_key"].as_str().unwrap().to_owned();
    assert_eq!(call(a, "PUT", "/v1/plan", Some(&owner), PLAN).0, 200);
    let make = |role: &str| {
        let (status, body) = call(a, "POST", "/v1/keys", Some(&owner), &format!(r#"{{"role":"{role}"}}"#));
        assert_eq!(status, 201, "{body}");
        let v = json(&body);
        (v["key"].as_str().unwrap().to_owned(), v["id"].as_str().unwrap().to_owned())
    };
    let (reader, reader_id) = make("read_only");
    let (spare, spare_id) = make("read_only");
    // The second node reads every live key at its start: it knows both, and forwards their
    // requests to the first, which serves the tenant (once its leases' thread has read who
    // serves what: until then, 503).
    let b = common::start_node(&dir.join("b"), &url);
    let forwarded = |key: &str| {
        let deadline = std::time::Instant::now() + Duration::from_secs(5);
        loop {
            let answer = request(b, "GET", "/v1/state", Some(key), "", "");
            if answer.status != 503 || std::time::Instant::now() > deadline {
                return answer.status;
            }
            std::thread::sleep(Duration::from_millis(100));
        }
    };
    for key in [&reader, &spare] {
        assert_eq!(forwarded(key), 200);
    }
    // Revoked on the first node: refused on both, at once.
    assert_eq!(call(a, "DELETE", &format!("/v1/keys/{reader_id}"), Some(&owner), "").0, 200);
    for node in [a, b] {
        let (status, body) = call(node, "GET", "/v1/state", Some(&reader), "");
        assert_eq!(status, 401, "{node}: {body}");
        assert_eq!(json(&body)["error"]["code"], "unauthorized");
    }
    assert_eq!(forwarded(&spare), 200, "the other key goes on");
    // Rotated on the first node: the old key refused on the second, the new one sent on.
    let (status, body) = call(a, "POST", &format!("/v1/keys/{spare_id}/rotate"), Some(&owner), "");
    assert_eq!(status, 201, "{body}");
    let successor = json(&body)["key"].as_str().unwrap().to_owned();
    assert_eq!(call(b, "GET", "/v1/state", Some(&spare), "").0, 401);
    assert_eq!(forwarded(&successor), 200);
    assert_eq!(call(a, "GET", "/v1/state", Some(&successor), "").0, 200);
}

fn receiver(failures: usize, limit: usize) -> (String, std::sync::mpsc::Receiver<(String, String)>) {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let url = format!("http://{}/hook", listener.local_addr().unwrap());
    let (sender, requests) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        for (n, stream) in listener.incoming().take(limit).enumerate() {
            let mut stream = stream.unwrap();
            stream.set_read_timeout(Some(Duration::from_secs(5))).unwrap();
            let mut request = Vec::new();
            let mut buf = [0u8; 4096];
            let (head, body) = loop {
                let read = stream.read(&mut buf).unwrap();
                request.extend_from_slice(&buf[..read]);
                let text = String::from_utf8_lossy(&request).into_owned();
                if let Some((head, body)) = text.split_once("\r\n\r\n") {
                    let length = head
                        .lines()
                        .find_map(|l| {
                            l.to_ascii_lowercase().strip_prefix("content-length: ").map(str::to_owned)
                        })
                        .map_or(0, |v| v.trim().parse().unwrap());
                    if body.len() >= length || read == 0 {
                        break (head.to_owned(), body.to_owned());
                    }
                }
            };
            let status = if n < failures { "500 Internal Server Error" } else { "200 OK" };
            write!(stream, "HTTP/1.1 {status}\r\nContent-Length: 0\r\nConnection: close\r\n\r\n").unwrap();
            if sender.send((head, body)).is_err() {
                return;
            }
        }
    });
    (url, requests)
}

#[test]
fn notifications_reach_the_webhook_signed_in_order_and_retried_until_acknowledged() {
    let dir = data_dir("api-webhook");
    let app = open(&dir).webhook_retry(Duration::from_millis(50));
    let addr = start_app(app);
    let (_, body) = call(addr, "POST", "/v1/tenants", Some("master-secret"), r#"{"id":"shop"}"#);
    let key = json(&body)["owner_key"].as_str().unwrap().to_owned();
    assert_eq!(call(addr, "PUT", "/v1/plan", Some(&key), PLAN).0, 200);
    let (url, requests) = receiver(2, 64);
    let (status, body) = call(addr, "PUT", "/v1/webhook", Some(&key), &format!(r#"{{"url":"{url}"}}"#));
    assert_eq!(status, 200, "{body}");
    let secret = json(&body)["secret"].as_str().unwrap().to_owned();
    assert_eq!(call(addr, "PUT", "/v1/webhook", Some(&key), r#"{"url":"ftp://x"}"#).0, 400);
    assert_eq!(call(addr, "POST", "/v1/events", Some(&key), EVENTS).0, 200);

    // The receiver fails twice: the first notification comes three times, with one id.
    let mut seen: Vec<(i64, Value)> = Vec::new();
    let mut attempts = 0;
    while seen
        .iter()
        .map(|(_, n)| n["amount"].as_str().unwrap().replace('.', "").parse::<i64>().unwrap())
        .sum::<i64>()
        < 200_000
    {
        let (head, body) = requests.recv_timeout(Duration::from_secs(10)).expect("a delivery");
        attempts += 1;
        let header = |name: &str| {
            head.lines()
                .find_map(|l| {
                    l.split_once(": ")
                        .filter(|(k, _)| k.eq_ignore_ascii_case(name))
                        .map(|(_, v)| v.to_owned())
                })
                .unwrap_or_else(|| panic!("no {name} in {head}"))
        };
        let id: i64 = header("x-fanli-delivery").parse().unwrap();
        let signed = header("x-fanli-signature");
        let t: i64 = signed[2..signed.find(',').unwrap()].parse().unwrap();
        assert_eq!(signed, fanli_server::webhook::signature(&secret, t, &body), "signed with the secret");
        let notification = json(&body);
        assert_eq!(notification["id"], id);
        if attempts <= 3 {
            assert_eq!(seen.len(), 0, "nothing passes the failing head");
        }
        if attempts >= 3 {
            assert!(seen.last().is_none_or(|(last, _)| *last < id), "in order, each once after acknowledged");
            seen.push((id, notification));
        }
    }
    assert_eq!(attempts, seen.len() + 2);
    let first = &seen[0].1;
    assert_eq!(
        (
            &first["type"],
            &first["tenant"],
            &first["member"],
            &first["amount"],
            &first["to"],
            &first["mechanism"]
        ),
        (
            &value!("reward_paid"),
            &value!("shop"),
            &value!("A"),
            &value!("100.00"),
            &value!("wallet"),
            &value!("r3")
        ),
        "B0's order pays A the first step, 10% of 1000: {first}"
    );
    assert_eq!(first["line"], 4, "the event's line in the log");
    // Acknowledged in full: nothing pending.
    for _ in 0..100 {
        let status = json(&call(addr, "GET", "/v1/webhook", Some(&key), "").1);
        if status["pending"] == 0 {
            assert_eq!(status["delivered"], seen.len());
            assert_eq!(status["url"], url.as_str());
            return;
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    panic!("the outbox did not drain");
}

#[test]
fn a_restart_resumes_from_the_latest_snapshot_and_the_log_after_it() {
    let dir = data_dir("api-snapshot");
    let addr = &local_app(open(&dir).snapshot_every(10));
    let (_, body) = call(addr, "POST", "/v1/tenants", Some("master-secret"), r#"{"id":"shop"}"#);
    let key = json(&body)["owner_key"].as_str().unwrap().to_owned();
    assert_eq!(call(addr, "PUT", "/v1/plan", Some(&key), PLAN).0, 200);
    // 14 lines in one commit: past 10, so a snapshot at line 14; then 2 more lines, not enough
    // for another.
    assert_eq!(call(addr, "POST", "/v1/events", Some(&key), EVENTS).0, 200);
    let mut store = store(&dir);
    let mut snapshot = None;
    for _ in 0..250 {
        snapshot = store.snapshot("shop").unwrap();
        if snapshot.is_some() {
            break;
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    let snapshot = snapshot.expect("a snapshot within 5 s");
    assert_eq!(snapshot.line, 14);
    let more = "{\"at\":\"2026-01-02T09:00:00+08:00\",\"type\":\"join\",\"member\":\"c\",\"referrer\":\"A\"}\n\
                {\"at\":\"2026-01-02T09:00:00+08:00\",\"type\":\"order\",\"order\":\"c\",\"member\":\"c\",\"amount\":\"1000.00\"}\n";
    assert_eq!(call(addr, "POST", "/v1/events", Some(&key), more).0, 200);
    let (_, state) = call(addr, "GET", "/v1/state", Some(&key), "");
    assert_eq!(json(&state)["members"]["A"]["wallet"], "2100.00", "c's order pays a new cycle's first step");

    // The snapshot and the two lines after it give the state the whole log gives.
    let reopened = open(&dir);
    assert_eq!(reopened.snapshot_line("shop"), Some(14), "loaded from the snapshot");
    assert_eq!(String::from_utf8(reopened.state("shop").unwrap()).unwrap(), state);
    // A server started from the snapshot chains on from the right head: the feed verifies.
    drop(reopened);
    let again = &local(&dir);
    let order = r#"{"order":"d","member":"c","amount":"10.00"}"#;
    assert_eq!(call(again, "POST", "/v1/orders", Some(&key), order).0, 200);
    let (_, state) = call(again, "GET", "/v1/state", Some(&key), "");
    let (_, feed) = call(again, "GET", "/v1/audit", Some(&key), "");
    let plan = fanli_format::parse_plan(PLAN).unwrap();
    let checked = fanli_format::chain::verify(&mut fanli_engine::Engine::new(plan), feed.as_bytes(), None);
    assert!(checked.is_ok(), "{checked:?}");
    // `fanli audit verify --data`: the log, its reports and the snapshot at line 14 agree.
    let verified = fanli_server::audit::verify_tenant(&mut store, "shop").unwrap().expect("a plan");
    assert_eq!((verified.lines, verified.snapshot, verified.balanced), (17, Some(14), true));
    // A snapshot that holds another state than the log at its line is named.
    let honest = store.snapshot("shop").unwrap().unwrap();
    let other = fanli_engine::Engine::new(fanli_format::parse_plan(PLAN).unwrap());
    store.put_snapshot("shop", &fanli_server::store::Snapshot { data: other.snapshot(), ..honest }).unwrap();
    let why = fanli_server::audit::verify_tenant(&mut store, "shop").unwrap_err();
    assert!(matches!(why, fanli_server::audit::AuditError::SnapshotDiffers { line: 14 }), "{why}");
    assert_eq!(why.to_string(), "the snapshot at line 14 holds another state than the log replayed to it");
    // A snapshot this version cannot read: the whole log is replayed instead, to the same state.
    let mut broken = store.snapshot("shop").unwrap().unwrap();
    broken.data[0] ^= 0xff;
    store.put_snapshot("shop", &broken).unwrap();
    let replayed = open(&dir);
    assert_eq!(replayed.snapshot_line("shop"), Some(0), "replayed from the start");
    assert_eq!(String::from_utf8(replayed.state("shop").unwrap()).unwrap(), state);
}

#[test]
fn the_lease_epoch_fences_off_a_node_that_lost_its_tenant() {
    let dir = data_dir("api-fence");
    let mut store = store(&dir);
    assert!(store.create_tenant(&owner("t", "hash")).unwrap());
    let append = |lease| fanli_server::store::Append {
        tenant: "t",
        after: 0,
        lines: &[],
        by: &[],
        notifications: &[],
        reports: &[],
        lease: Some(lease),
        members: &[],
        history: &[],
        days: &[],
        answers: &[],
        plans: &[],
        backfilling: None,
        tree: None,
    };
    assert_eq!(store.take_lease("t", "n1", "http://a").unwrap(), 1);
    store.append(&[append(("n1", 1))]).unwrap();
    // Node n2 takes the tenant over: n1's appends are refused from then on.
    assert_eq!(store.take_lease("t", "n2", "http://b").unwrap(), 2);
    assert_eq!(store.lease("t").unwrap(), Some(("n2".to_owned(), "http://b".to_owned())));
    let refused = store.append(&[append(("n1", 1))]).unwrap_err();
    assert!(matches!(&refused, fanli_server::store::StoreError::LeaseLost(t) if t == "t"), "{refused}");
    store.append(&[append(("n2", 2))]).unwrap();
}

#[test]
fn an_event_that_overflows_is_refused_and_the_tenant_goes_on() {
    let dir = data_dir("api-overflow");
    let addr = &local(&dir);
    let (_, body) = call(addr, "POST", "/v1/tenants", Some("master-secret"), r#"{"id":"shop"}"#);
    let key = json(&body)["owner_key"].as_str().unwrap().to_owned();
    // Mint 10× at 0.0001 a point: B's order would mint 2×10^19 units of points, past i64.
    let plan = "name = \"big\"\nsettle_after_days = 0\n[[mechanism]]\nid = \"appr\"\nkind = \"appreciation\"\n\
                funding_rate = \"1\"\nmint_ratio = \"10\"\ninitial_price = \"0.0001\"\n";
    assert_eq!(call(addr, "PUT", "/v1/plan", Some(&key), plan).0, 200);
    let at = "\"at\":\"2026-01-01T09:00:00+08:00\"";
    let events = format!(
        "{{{at},\"type\":\"join\",\"member\":\"A\"}}\n{{{at},\"type\":\"join\",\"member\":\"B\"}}\n\
         {{{at},\"type\":\"order\",\"order\":\"o1\",\"member\":\"A\",\"amount\":\"100000000.00\"}}\n\
         {{{at},\"type\":\"order\",\"order\":\"o2\",\"member\":\"B\",\"amount\":\"2000000000.00\"}}\n\
         {{{at},\"type\":\"join\",\"member\":\"C\"}}\n"
    );
    let (status, body) = call(addr, "POST", "/v1/events", Some(&key), &events);
    assert_eq!(status, 200, "{body}");
    let results = json(&body)["results"].clone();
    assert_eq!(results[2]["ok"], true);
    assert_eq!(results[3]["ok"], false);
    assert_eq!(results[3]["code"], "overflow");
    assert!(results[3]["error"].as_str().unwrap().contains("cannot be computed"), "{results}");
    // Refused like any other line: the lines before stand, the refused one left no trace, and
    // the next one applies.
    assert_eq!(results[4]["ok"], true, "{results}");
    let (_, state) = call(addr, "GET", "/v1/state", Some(&key), "");
    let state = json(&state);
    assert_eq!(state["members"]["A"]["points"]["appr"], "10000000000000.0000");
    assert_eq!(state["members"]["B"]["spent"], "0.00");
    assert!(state["members"]["C"].is_object());
    assert_eq!(state["accounts_balance"], true);
}

#[test]
fn blank_lines_are_skipped_as_fanli_run_skips_them_and_every_error_is_json() {
    let dir = data_dir("api-blank");
    let addr = &local(&dir);
    let (_, body) = call(addr, "POST", "/v1/tenants", Some("master-secret"), r#"{"id":"shop"}"#);
    let key = json(&body)["owner_key"].as_str().unwrap().to_owned();
    assert_eq!(call(addr, "PUT", "/v1/plan", Some(&key), PLAN).0, 200);
    let at = "\"at\":\"2026-01-01T09:00:00+08:00\"";
    let events = format!(
        "{{{at},\"type\":\"join\",\"member\":\"A\"}}\n\n  \r\n{{{at},\"type\":\"join\",\"member\":\"B\"}}\n"
    );
    let (status, body) = call(addr, "POST", "/v1/events", Some(&key), &events);
    assert_eq!(status, 200);
    let results = json(&body)["results"].clone();
    let oks: Vec<(u64, bool)> =
        results.as_array().unwrap().iter().map(|r| (r["line"].as_u64().unwrap(), r["ok"] == true)).collect();
    assert_eq!(oks, [(1, true), (2, true), (3, true), (4, true)]);
    assert_eq!(results[1]["skipped"], "a blank line");
    assert_eq!(
        call(addr, "GET", "/v1/audit", Some(&key), "").1.lines().count(),
        2,
        "blank lines are not logged"
    );
    assert_eq!(json(&call(addr, "POST", "/v1/events", Some(&key), "").1)["results"], value!([]));
    // The scheme's name is case-insensitive, as HTTP has it.
    let lower = request(addr, "GET", "/v1/state", None, &format!("Authorization: bearer {key}\r\n"), "");
    assert_eq!(lower.status, 200, "{}", lower.body);
    // Errors axum makes itself come as JSON too.
    for (method, path, status, code) in [
        ("GET", "/v1/nothing-here", 404, "not_found"),
        ("DELETE", "/v1/state", 405, "method_not_allowed"),
        ("GET", "/v1/members/%FF", 400, "bad_request"),
    ] {
        let (got, body) = call(addr, method, path, Some(&key), "");
        assert_eq!(got, status, "{method} {path}: {body}");
        assert_eq!(json(&body)["error"]["code"], code, "{method} {path}");
        assert!(!json(&body)["error"]["message"].as_str().unwrap().is_empty());
    }
}

#[test]
fn a_tenant_sending_recent_history_is_left_to_close_its_own_days_across_a_restart() {
    let dir = data_dir("api-backfill");
    let addr = &local(&dir);
    let (_, body) = call(addr, "POST", "/v1/tenants", Some("master-secret"), r#"{"id":"shop"}"#);
    let key = json(&body)["owner_key"].as_str().unwrap().to_owned();
    assert_eq!(call(addr, "PUT", "/v1/plan", Some(&key), PLAN).0, 200);
    // Events stamped two days ago arrive now: history, whose days the tenant closes itself.
    let now_nanos =
        std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap().as_nanos() as i64;
    let now = fanli_engine::Timestamp::from_unix_nanos(now_nanos);
    let then = fanli_engine::Timestamp::from_unix_nanos(now_nanos - 2 * 86_400 * 1_000_000_000);
    let events = format!("{{\"at\":\"{then}\",\"type\":\"join\",\"member\":\"A\"}}\n");
    assert_eq!(call(addr, "POST", "/v1/events", Some(&key), &events).0, 200);
    let running = fanli_server::Server::start(open(&dir));
    assert_eq!(running.close_due_days(now), Vec::<String>::new(), "the running server leaves it alone");
    drop(running);
    // A restart is no reason to start closing its days.
    let restarted = fanli_server::Server::start(open(&dir));
    assert_eq!(restarted.close_due_days(now), Vec::<String>::new(), "nor does a restarted one");
}

#[test]
fn concurrent_retries_of_one_order_all_get_its_first_answer() {
    let dir = data_dir("api-retries");
    let addr = start(&dir);
    let (_, body) = call(addr, "POST", "/v1/tenants", Some("master-secret"), r#"{"id":"shop"}"#);
    let key = json(&body)["owner_key"].as_str().unwrap().to_owned();
    assert_eq!(call(addr, "PUT", "/v1/plan", Some(&key), PLAN).0, 200);
    assert_eq!(call(addr, "POST", "/v1/members", Some(&key), r#"{"member":"A"}"#).0, 200);
    for round in 0..5 {
        let order = format!(r#"{{"order":"o{round}","member":"A","amount":"1000.00"}}"#);
        let answers: Vec<(u16, String)> = std::thread::scope(|s| {
            let posts: Vec<_> =
                (0..8).map(|_| s.spawn(|| call(addr, "POST", "/v1/orders", Some(&key), &order))).collect();
            posts.into_iter().map(|p| p.join().unwrap()).collect()
        });
        assert!(answers.iter().all(|a| a == &answers[0] && a.0 == 200), "round {round}: {answers:?}");
    }
    let (_, state) = call(addr, "GET", "/v1/state", Some(&key), "");
    assert_eq!(json(&state)["members"]["A"]["spent"], "5000.00", "each order once");
}

/// Everything the process logs from now on (a global subscriber: the server's handlers run on
/// the runtime's threads), for the test that reads the log.
fn capture_log() -> std::sync::Arc<std::sync::Mutex<Vec<u8>>> {
    static LOG: std::sync::OnceLock<std::sync::Arc<std::sync::Mutex<Vec<u8>>>> = std::sync::OnceLock::new();
    LOG.get_or_init(|| {
        struct Writer(std::sync::Arc<std::sync::Mutex<Vec<u8>>>);
        impl std::io::Write for Writer {
            fn write(&mut self, bytes: &[u8]) -> std::io::Result<usize> {
                self.0.lock().unwrap().extend_from_slice(bytes);
                Ok(bytes.len())
            }
            fn flush(&mut self) -> std::io::Result<()> {
                Ok(())
            }
        }
        let log = std::sync::Arc::new(std::sync::Mutex::new(Vec::new()));
        let writer = std::sync::Arc::clone(&log);
        let subscriber = tracing_subscriber::fmt()
            .with_ansi(false)
            .with_writer(move || Writer(std::sync::Arc::clone(&writer)))
            .finish();
        tracing::subscriber::set_global_default(subscriber).unwrap();
        log
    })
    .clone()
}

/// A stop asked for while no connection is open: the server's end and the stop's arrive
/// together, and every step of the clean stop still runs, the last of which logs `stopped`.
/// (`select!` once picked either at random and, about half the time, returned without the
/// steps: a node of a cluster then kept its leases until they ran out.)
#[test]
fn a_stop_with_no_connection_open_still_runs_every_step() {
    let log = capture_log();
    let runtime = tokio::runtime::Builder::new_multi_thread().worker_threads(2).enable_all().build().unwrap();
    for round in 0..16 {
        // On SQLite whatever the run's database, in a folder of its own (not `data_dir`, which
        // makes a PostgreSQL schema): the steps are the same, and a stopped server's threads
        // keep their connections until the process ends, so 16 rounds on PostgreSQL would
        // crowd out the other tests' connections.
        let dir = std::path::PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join(format!("api-stop-{round}"));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).unwrap();
        let app = fanli_server::App::open_with(&dir, None, common::MASTER).unwrap();
        let listener = runtime.block_on(tokio::net::TcpListener::bind("127.0.0.1:0")).unwrap();
        let addr = listener.local_addr().unwrap();
        runtime.block_on(fanli_server::serve_until(app, listener, async {})).unwrap();
        let text = String::from_utf8_lossy(&log.lock().unwrap()).into_owned();
        let stopped = format!("fanli_server: stopped addr={addr}");
        let this: Vec<&str> = text.lines().filter(|l| l.contains(&addr.to_string())).collect();
        assert!(
            text.lines().any(|l| l.ends_with(&stopped)),
            "round {round}: no `{stopped}` in the log; its lines naming {addr}: {this:#?}"
        );
    }
}

#[test]
fn an_internal_error_is_logged_under_an_id_and_the_client_gets_the_id_only() {
    let log = capture_log();
    let dir = data_dir("api-internal");
    let addr = &local(&dir);
    let (_, body) = call(addr, "POST", "/v1/tenants", Some("master-secret"), r#"{"id":"shop"}"#);
    let key = json(&body)["owner_key"].as_str().unwrap().to_owned();
    // The brands' table is gone: registering a brand fails in the store (SQLite: "no such
    // table: brands"; PostgreSQL: "relation \"brands\" does not exist").
    common::drop_table(&dir, "brands");
    let mut ids = Vec::new();
    for _ in 0..2 {
        let (status, body) = call(addr, "POST", "/v1/brands", Some(&key), r#"{"id":"b1"}"#);
        assert_eq!(status, 500, "{body}");
        let error = &json(&body)["error"];
        let id = error["id"].as_str().unwrap_or_else(|| panic!("no id: {body}")).to_owned();
        assert!(id.len() == 16 && id.bytes().all(|b| b.is_ascii_hexdigit()), "{id}");
        assert_eq!(
            error,
            &value!({"code": "internal", "message": format!("an internal error; its id is {id}"), "id": id})
        );
        assert!(
            !body.contains("brands") && !body.contains("SQL"),
            "the store's text stays in the log: {body}"
        );
        // The log has it under the id, with what went wrong.
        let text = String::from_utf8(log.lock().unwrap().clone()).unwrap();
        let logged =
            text.lines().find(|line| line.contains(&id)).unwrap_or_else(|| panic!("{id} not logged: {text}"));
        assert!(logged.contains("ERROR") && logged.contains("brands"), "{logged}");
        ids.push(id);
    }
    assert_ne!(ids[0], ids[1], "each error has an id of its own");
    // The rest of the tenant goes on.
    assert_eq!(call(addr, "PUT", "/v1/plan", Some(&key), PLAN).0, 200);
}

/// Ids follow the one rule of the engine (1 to 64 characters, not blank, no control
/// character), through every door: a resource route, raw events, and the same codes and words on
/// SQLite and PostgreSQL (this suite runs on both). A body with a duplicated key is refused,
/// not booked with its last value.
#[test]
fn bad_ids_and_duplicated_keys_are_refused_the_same_way_everywhere() {
    let dir = data_dir("api-ids");
    let addr = &local(&dir);
    let (_, body) = call(addr, "POST", "/v1/tenants", Some("master-secret"), r#"{"id":"ids"}"#);
    let key = json(&body)["owner_key"].as_str().unwrap().to_owned();
    assert_eq!(call(addr, "PUT", "/v1/plan", Some(&key), PLAN).0, 200);
    let refused = |body: &str| {
        let (status, answer) = call(addr, "POST", "/v1/members", Some(&key), body);
        let answer = json(&answer);
        (
            status,
            answer["error"]["code"].as_str().unwrap_or_default().to_owned(),
            answer["error"]["message"].clone(),
        )
    };
    let long = "长".repeat(65);
    assert_eq!(
        refused(&format!(r#"{{"member":"{long}"}}"#)),
        (422, "bad_id".to_owned(), value!("`member` is 65 characters long; an id has at most 64"))
    );
    assert_eq!(
        refused(r#"{"member":"  "}"#),
        (422, "bad_id".to_owned(), value!("`member` is blank: an id needs a character that is not a space"))
    );
    assert_eq!(
        refused(r#"{"member":"a\u0000"}"#),
        (422, "bad_id".to_owned(), value!("`member` has a control character (U+0000); an id may not"))
    );
    let (status, code, message) = refused(r#"{"member":"A","member":"B"}"#);
    assert_eq!((status, code.as_str()), (400, "bad_request"));
    assert!(message.as_str().unwrap().contains("duplicate key `member`"), "{message}");
    // Raw events: the line is refused with its code, the good one after it applies.
    let lines = "{\"at\":\"2026-01-01T09:00:00+08:00\",\"type\":\"join\",\"member\":\"x\\ty\"}\n\
                 {\"at\":\"2026-01-01T09:00:00+08:00\",\"type\":\"join\",\"member\":\"a/b c\"}\n";
    let (status, answer) = call(addr, "POST", "/v1/events", Some(&key), lines);
    let answer = json(&answer);
    assert_eq!(status, 200, "{answer}");
    assert_eq!(answer["results"][0]["code"], "bad_id", "{answer}");
    assert_eq!(answer["results"][1]["ok"], true, "{answer}");
    let (status, member) = call(addr, "GET", "/v1/members/a%2Fb%20c", Some(&key), "");
    assert_eq!(status, 200, "{member}");
    let (_, state) = call(addr, "GET", "/v1/state", Some(&key), "");
    assert_eq!(json(&state)["members"].as_object().unwrap().len(), 1, "only `a/b c` joined");
}
