//! Issue 18, the server's operations: webhook retries with jitter, dead letters and their
//! replay; events stamped ahead of the server's clock refused; per-tenant gauges in `/metrics`.
//! On SQLite, or on PostgreSQL when `FANLI_TEST_DATABASE_URL` is set.

use std::io::{Read, Write};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

mod common;

use common::{MASTER, data_dir, database, local, local_app, open, request};
use fanli_server::webhook::{Deliverer, Retry};
use serde_json::Value;

const PLAN: &str = include_str!("../../fanli-cli/tests/cases/seed_refer.toml");
const EVENTS: &str = include_str!("../../fanli-cli/tests/cases/seed_refer.jsonl");

fn json(body: &str) -> Value {
    serde_json::from_str(body).unwrap_or_else(|e| panic!("{e}: {body}"))
}

/// A tenant `shop` with `plan`: its owner key.
fn shop(server: &common::Local, plan: &str) -> String {
    let made = request(server, "POST", "/v1/tenants", Some(MASTER), "", r#"{"id":"shop"}"#);
    assert_eq!(made.status, 201, "{}", made.body);
    let key = made.json()["owner_key"].as_str().unwrap().to_owned();
    let put = request(server, "PUT", "/v1/plan", Some(&key), "", plan);
    assert_eq!(put.status, 200, "{}", put.body);
    key
}

/// What the receiver saw: each delivery's id, in arrival order, with the status it answered.
type Seen = Arc<Mutex<Vec<(i64, u16)>>>;

/// A webhook receiver on 127.0.0.1 for at most `limit` requests: it answers `500` to the
/// notification with the id in `failing` (the first one it sees, when `failing` holds 0) while
/// `broken` is set, and `200` to everything else.
fn receiver(limit: usize, broken: Arc<AtomicBool>) -> (String, Seen, Arc<Mutex<i64>>) {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let url = format!("http://{}/hook", listener.local_addr().unwrap());
    let seen: Seen = Arc::default();
    let failing = Arc::new(Mutex::new(0i64));
    let (log, target) = (Arc::clone(&seen), Arc::clone(&failing));
    std::thread::spawn(move || {
        for stream in listener.incoming().take(limit) {
            let mut stream = stream.unwrap();
            stream.set_read_timeout(Some(Duration::from_secs(5))).unwrap();
            let mut request = Vec::new();
            let mut buf = [0u8; 4096];
            let body = loop {
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
                        break body.to_owned();
                    }
                }
            };
            let id = json(&body)["id"].as_i64().unwrap();
            let status = {
                let mut failing = target.lock().unwrap();
                if *failing == 0 {
                    *failing = id;
                }
                if id == *failing && broken.load(Ordering::SeqCst) { 500 } else { 200 }
            };
            let reason = if status == 200 { "OK" } else { "Internal Server Error" };
            write!(stream, "HTTP/1.1 {status} {reason}\r\nContent-Length: 0\r\nConnection: close\r\n\r\n")
                .unwrap();
            log.lock().unwrap().push((id, status));
        }
    });
    (url, seen, failing)
}

/// Rounds of `deliverer` (10 ms apart, at most 300) until `done` holds.
fn rounds_until(deliverer: &mut Deliverer, mut done: impl FnMut() -> bool) {
    for _ in 0..300 {
        deliverer.round().unwrap();
        if done() {
            return;
        }
        std::thread::sleep(Duration::from_millis(10));
    }
    panic!("the deliveries did not end within 300 rounds");
}

#[test]
fn one_failing_notification_becomes_a_dead_letter_the_others_arrive_and_a_replay_delivers_it() {
    let dir = data_dir("ops-dead-letters");
    let server = local(&dir);
    let key = shop(&server, PLAN);
    let broken = Arc::new(AtomicBool::new(true));
    let (url, seen, failing) = receiver(64, Arc::clone(&broken));
    let hook = request(&server, "PUT", "/v1/webhook", Some(&key), "", &format!(r#"{{"url":"{url}"}}"#));
    assert_eq!(hook.status, 200, "{}", hook.body);
    let posted = request(&server, "POST", "/v1/events", Some(&key), "", EVENTS);
    assert_eq!(posted.status, 200);
    let status = |server: &common::Local| request(server, "GET", "/v1/webhook", Some(&key), "", "").json();
    let made = status(&server)["pending"].as_i64().unwrap();
    assert!(made >= 4, "the stream pays A several times: {made}");

    // 3 attempts, 30 ms then 60 ms (less their jitter, at most half) apart, and a dead letter;
    // rounds 10 ms apart: the later notifications go while the failing one waits.
    let retry = Retry {
        base: Duration::from_millis(30),
        max_delay: Duration::from_millis(60),
        attempts: 3,
        seed: Some(7),
    };
    let mut deliverer = Deliverer::open(&dir, database(&dir).as_deref(), None, retry).unwrap();
    rounds_until(&mut deliverer, || {
        let s = status(&server);
        s["pending"] == 0 && s["dead"] == 1
    });
    let failing = *failing.lock().unwrap();
    let arrivals = seen.lock().unwrap().clone();
    // The failing one, the outbox's first, was tried 3 times and answered 500 each time; every
    // other arrived once, acknowledged, although it came after the failing one.
    assert_eq!(arrivals.iter().filter(|(id, _)| *id == failing).map(|a| a.1).collect::<Vec<_>>(), [500; 3]);
    let others: Vec<i64> = arrivals.iter().filter(|(id, _)| *id != failing).map(|a| a.0).collect();
    assert_eq!(others.len() as i64, made - 1, "{arrivals:?}");
    assert!(others.iter().all(|&id| id > failing), "{arrivals:?}");
    let mut sorted = others.clone();
    sorted.dedup();
    assert_eq!(sorted.len(), others.len(), "each other notification once: {arrivals:?}");
    // A later notification arrived before the failing one's last attempt: no blocking.
    let last_try = arrivals.iter().rposition(|(id, _)| *id == failing).unwrap();
    assert!(arrivals[..last_try].iter().any(|(id, _)| *id != failing), "{arrivals:?}");
    let s = status(&server);
    assert_eq!(
        (s["pending"].as_i64(), s["delivered"].as_i64(), s["dead"].as_i64()),
        (Some(0), Some(made - 1), Some(1))
    );

    // Listed, owner keys only.
    let dead = request(&server, "GET", "/v1/webhook/dead", Some(&key), "", "");
    assert_eq!(dead.status, 200, "{}", dead.body);
    let dead = dead.json();
    let letters = dead["dead"].as_array().unwrap();
    assert_eq!(letters.len(), 1);
    assert_eq!(dead["next"], Value::Null);
    let letter = &letters[0];
    assert_eq!(letter["id"], failing);
    assert_eq!(letter["attempts"], 3);
    assert_eq!(letter["last_error"], "the receiver answered 500 Internal Server Error");
    assert_eq!(letter["notification"]["id"], failing);
    assert_eq!(letter["notification"]["type"], "reward_paid");
    assert_eq!(letter["notification"]["tenant"], "shop");
    assert_eq!(letter["notification"]["line"], 4, "B0's order, the log's 4th line, pays A first");
    assert_eq!(letter["notification"]["amount"], "100.00");
    assert!(letter["dead_at"].as_str().unwrap().ends_with('Z'), "{letter}");
    let reader = request(&server, "POST", "/v1/keys", Some(&key), "", r#"{"role":"read_only"}"#).json();
    let reader = reader["key"].as_str().unwrap();
    for (method, path) in
        [("GET", "/v1/webhook/dead"), ("POST", &*format!("/v1/webhook/dead/{failing}/replay"))]
    {
        let refused = request(&server, method, path, Some(reader), "", "");
        assert_eq!(refused.status, 403, "{method} {path}: {}", refused.body);
    }
    assert_eq!(request(&server, "GET", "/v1/webhook/dead", None, "", "").status, 401);
    let too_many = request(&server, "GET", "/v1/webhook/dead?limit=1001", Some(&key), "", "");
    assert_eq!(
        (too_many.status, &*too_many.json()["error"]["code"].as_str().unwrap().to_owned()),
        (400, "bad_request")
    );
    let paged =
        request(&server, "GET", &format!("/v1/webhook/dead?after={failing}"), Some(&key), "", "").json();
    assert_eq!(paged["dead"], serde_json::json!([]));
    // A delivered notification is no dead letter.
    let delivered = others[0];
    let not_dead =
        request(&server, "POST", &format!("/v1/webhook/dead/{delivered}/replay"), Some(&key), "", "");
    assert_eq!((not_dead.status, not_dead.json()["error"]["code"].clone()), (404, "not_found".into()));

    // The receiver fixed, the dead letter replayed; a deliverer started again (a restart)
    // delivers it once, with its id, and nothing else again.
    broken.store(false, Ordering::SeqCst);
    drop(deliverer);
    let replayed =
        request(&server, "POST", &format!("/v1/webhook/dead/{failing}/replay"), Some(&key), "", "");
    assert_eq!((replayed.status, replayed.json()), (200, serde_json::json!({"replayed": 1})));
    let again = request(&server, "POST", &format!("/v1/webhook/dead/{failing}/replay"), Some(&key), "", "");
    assert_eq!(again.status, 404, "not a dead letter any more");
    let mut deliverer = Deliverer::open(&dir, database(&dir).as_deref(), None, retry).unwrap();
    rounds_until(&mut deliverer, || status(&server)["delivered"].as_i64() == Some(made));
    let arrivals = seen.lock().unwrap().clone();
    assert_eq!(arrivals.len() as i64, made + 3, "{arrivals:?}");
    assert_eq!(*arrivals.last().unwrap(), (failing, 200));
    for _ in 0..5 {
        deliverer.round().unwrap();
    }
    assert_eq!(seen.lock().unwrap().len() as i64, made + 3, "nothing is sent twice once acknowledged");
    let s = status(&server);
    assert_eq!((s["pending"].as_i64(), s["dead"].as_i64()), (Some(0), Some(0)));
    let all = request(&server, "POST", "/v1/webhook/dead/replay", Some(&key), "", "");
    assert_eq!((all.status, all.json()), (200, serde_json::json!({"replayed": 0})));
}

#[test]
fn replaying_all_puts_every_dead_letter_back_and_they_survive_a_restart() {
    let dir = data_dir("ops-replay-all");
    let key = {
        let server = local(&dir);
        let key = shop(&server, PLAN);
        // A receiver that refuses connections: every notification fails at once.
        let closed = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let url = format!("http://{}/hook", closed.local_addr().unwrap());
        drop(closed);
        assert_eq!(
            request(&server, "PUT", "/v1/webhook", Some(&key), "", &format!(r#"{{"url":"{url}"}}"#)).status,
            200
        );
        assert_eq!(request(&server, "POST", "/v1/events", Some(&key), "", EVENTS).status, 200);
        let retry = Retry {
            base: Duration::from_millis(1),
            max_delay: Duration::from_millis(2),
            attempts: 2,
            seed: Some(1),
        };
        let mut deliverer = Deliverer::open(&dir, database(&dir).as_deref(), None, retry).unwrap();
        rounds_until(&mut deliverer, || {
            request(&server, "GET", "/v1/webhook", Some(&key), "", "").json()["pending"] == 0
        });
        key
    };
    // After a restart the dead letters are there, in id order, each tried twice.
    let server = local_app(open(&dir));
    let status = request(&server, "GET", "/v1/webhook", Some(&key), "", "").json();
    let dead = status["dead"].as_i64().unwrap();
    assert!(dead >= 4 && status["delivered"] == 0, "{status}");
    let page = request(&server, "GET", "/v1/webhook/dead?limit=2", Some(&key), "", "").json();
    let ids: Vec<i64> = page["dead"].as_array().unwrap().iter().map(|d| d["id"].as_i64().unwrap()).collect();
    assert_eq!(ids, [1, 2]);
    assert_eq!(page["next"], 2);
    assert!(page["dead"].as_array().unwrap().iter().all(|d| d["attempts"] == 2));
    let rest = request(&server, "GET", "/v1/webhook/dead?after=2&limit=1000", Some(&key), "", "").json();
    assert_eq!(rest["dead"].as_array().unwrap().len() as i64, dead - 2);

    // /metrics (with the master key): the tenant's dead letters, none pending.
    let metrics = request(&server, "GET", "/metrics", Some(MASTER), "", "").body;
    assert!(
        metrics.contains(&format!("fanli_webhook_dead_letters{{tenant=\"shop\"}} {dead}\n")),
        "{metrics}"
    );
    assert!(metrics.contains("fanli_webhook_pending{tenant=\"shop\"} 0\n"), "{metrics}");
    // The console's page: the counts, a row per dead letter with its error and a replay button.
    let cookie = console_session(&server, &key);
    let page = request(&server, "GET", "/console/webhook", None, &format!("Cookie: {cookie}\r\n"), "");
    assert_eq!(page.status, 200, "{}", page.body);
    assert!(page.body.contains(&format!("{dead} 失败")), "{}", page.body);
    assert_eq!(page.body.matches("<tr data-id=").count() as i64, dead);
    assert!(
        page.body.contains("<tr data-id=\"1\">") && page.body.contains("Connection refused"),
        "{}",
        page.body
    );
    assert!(page.body.contains("href=\"/console/webhook\""), "in the navigation");
    let csrf = hidden(&page.body, "csrf");
    let form = format!("Cookie: {cookie}\r\nContent-Type: application/x-www-form-urlencoded\r\n");
    let stale = request(&server, "POST", "/console/webhook", None, &form, "csrf=0&id=1");
    assert_eq!(stale.status, 403, "the form needs the session's token");
    let replayed = request(&server, "POST", "/console/webhook", None, &form, &format!("csrf={csrf}&id=1"));
    assert_eq!((replayed.status, replayed.header("location")), (303, Some("/console/webhook?replayed=1")));
    let page = request(&server, "GET", "/console/webhook", None, &format!("Cookie: {cookie}\r\n"), "");
    assert!(!page.body.contains("<tr data-id=\"1\">"), "replayed: pending again");
    assert_eq!(page.body.matches("<tr data-id=").count() as i64, dead - 1);
    // A read-only key's session sees the counts, not the letters, and cannot replay.
    let reader = request(&server, "POST", "/v1/keys", Some(&key), "", r#"{"role":"read_only"}"#).json();
    let reader_cookie = console_session(&server, reader["key"].as_str().unwrap());
    let page = request(&server, "GET", "/console/webhook", None, &format!("Cookie: {reader_cookie}\r\n"), "");
    assert!(page.status == 200 && !page.body.contains("<tr data-id="), "{}", page.body);
    let reader_form =
        format!("Cookie: {reader_cookie}\r\nContent-Type: application/x-www-form-urlencoded\r\n");
    let reader_csrf = hidden(&page.body, "csrf");
    let refused = request(
        &server,
        "POST",
        "/console/webhook",
        None,
        &reader_form,
        &format!("csrf={reader_csrf}&id=all"),
    );
    assert_eq!(refused.status, 403);

    let all = request(&server, "POST", "/v1/webhook/dead/replay", Some(&key), "", "");
    assert_eq!((all.status, all.json()), (200, serde_json::json!({"replayed": dead - 1})));
    let status = request(&server, "GET", "/v1/webhook", Some(&key), "", "").json();
    assert_eq!((status["pending"].as_i64(), status["dead"].as_i64()), (Some(dead), Some(0)));
    let metrics = request(&server, "GET", "/metrics", Some(MASTER), "", "").body;
    assert!(metrics.contains(&format!("fanli_webhook_pending{{tenant=\"shop\"}} {dead}\n")), "{metrics}");
    assert!(metrics.contains("fanli_webhook_dead_letters{tenant=\"shop\"} 0\n"), "{metrics}");
    assert_eq!(
        (status["attempts"].as_i64(), &status["last_error"]),
        (Some(0), &Value::Null),
        "counted from 0"
    );
}

/// The value of the hidden field `name` of a form on `page` (a 64-digit token).
fn hidden(page: &str, name: &str) -> String {
    let marker = format!("name=\"{name}\" value=\"");
    let at = page.find(&marker).unwrap_or_else(|| panic!("no field {name} in {page}")) + marker.len();
    page[at..at + 64].to_owned()
}

/// A console session opened with `key`: its cookie.
fn console_session(server: &common::Local, key: &str) -> String {
    let cookie =
        |answer: &common::Answer| answer.header("set-cookie").unwrap().split(';').next().unwrap().to_owned();
    let login = request(server, "GET", "/console/login", None, "", "");
    let form = format!("Content-Type: application/x-www-form-urlencoded\r\nCookie: {}\r\n", cookie(&login));
    let body = format!("login={}&key={key}", hidden(&login.body, "login"));
    let entered = request(server, "POST", "/console/login", None, &form, &body);
    assert_eq!(entered.status, 303, "{}", entered.body);
    cookie(&entered)
}

/// RFC 3339 for the wall clock moved by `seconds`.
fn wall(seconds: i64) -> String {
    let now = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap().as_nanos() as i64;
    fanli_engine::Timestamp::from_unix_nanos(now + seconds * 1_000_000_000).to_string()
}

#[test]
fn an_event_stamped_ahead_of_the_servers_clock_is_refused_and_drags_no_later_stamp() {
    let dir = data_dir("ops-future");
    let server = local(&dir);
    let key = shop(&server, PLAN);
    // Line 2, a `close_day` an hour ahead: refused by its line, the lines around it applied.
    let body = format!(
        "{{\"at\":\"{}\",\"type\":\"join\",\"member\":\"A\"}}\n{{\"at\":\"{}\",\"type\":\"close_day\"}}\n{{\"at\":\"{}\",\"type\":\"join\",\"member\":\"B\"}}\n",
        wall(-60),
        wall(3600),
        wall(-30)
    );
    let answer = request(&server, "POST", "/v1/events", Some(&key), "", &body);
    assert_eq!(answer.status, 200, "{}", answer.body);
    let results: Vec<Value> = answer.body.lines().map(json).collect();
    let results = if results.len() == 1 && results[0]["results"].is_array() {
        results[0]["results"].as_array().unwrap().clone()
    } else {
        results
    };
    assert_eq!(results.len(), 3, "{}", answer.body);
    assert_eq!((results[0]["line"].as_u64(), results[0]["ok"].as_bool()), (Some(1), Some(true)));
    assert_eq!(results[1]["line"], 2);
    assert_eq!(results[1]["ok"], false);
    assert_eq!(results[1]["code"], "future_time");
    let error = results[1]["error"].as_str().unwrap();
    assert!(error.contains("in the future") && error.contains("300 s"), "{error}");
    assert_eq!((results[2]["line"].as_u64(), results[2]["ok"].as_bool()), (Some(3), Some(true)));
    // One resource posted on its own: 422 with the same code.
    let order = format!(r#"{{"at":"{}","order":"o1","member":"A","amount":"10.00"}}"#, wall(86_400));
    let refused = request(&server, "POST", "/v1/orders", Some(&key), "", &order);
    assert_eq!((refused.status, refused.json()["error"]["code"].clone()), (422, "future_time".into()));
    // Within the tolerance (a till a minute fast) it is taken.
    let fast = format!(r#"{{"at":"{}","order":"o2","member":"A","amount":"10.00"}}"#, wall(60));
    assert_eq!(request(&server, "POST", "/v1/orders", Some(&key), "", &fast).status, 200);
    // An order without `at` is stamped now (never before the last event, a minute ahead at
    // most): not an hour or a day ahead.
    let stamped = request(
        &server,
        "POST",
        "/v1/orders",
        Some(&key),
        "",
        r#"{"order":"o3","member":"B","amount":"10.00"}"#,
    );
    assert_eq!(stamped.status, 200, "{}", stamped.body);
    let at = stamped.json()["at"].as_str().unwrap().to_owned();
    assert!(at.as_str() <= wall(61).as_str() && at.as_str() >= wall(-5).as_str(), "{at}");
    // Nothing of the refused lines is in the log: 5 lines, the two joins and two orders after
    // the tenant's.
    let state = request(&server, "GET", "/v1/state", Some(&key), "", "").json();
    assert_eq!(state["members"]["A"]["spent"], "10.00", "{state}");
}

#[test]
fn metrics_with_the_master_key_give_each_tenants_pools_obligations_and_money_waiting() {
    let dir = data_dir("ops-metrics");
    let server = local(&dir);
    let plan = "name = \"metrics\"\nsettle_after_days = 0\n\n\
        [[mechanism]]\nid = \"q\"\nkind = \"queue\"\nfunding_rate = \"0.1\"\nrelease = \"when_funded\"\ncredit_ratio = \"0.5\"\n\n\
        [[mechanism]]\nid = \"r3\"\nkind = \"refer_refund\"\nfunding_rate = \"0.05\"\nqualify_min = \"100.00\"\n\
        referee_min = \"100.00\"\nsteps = [\"10%\", \"20%\", \"70%\"]\n";
    let key = shop(&server, plan);
    let events = [
        r#"{"at":"2026-03-01T10:00:00+08:00","type":"join","member":"A"}"#,
        r#"{"at":"2026-03-01T10:01:00+08:00","type":"order","order":"o1","member":"A","amount":"1000.00"}"#,
        r#"{"at":"2026-03-01T10:02:00+08:00","type":"join","member":"B","referrer":"A"}"#,
        r#"{"at":"2026-03-01T10:03:00+08:00","type":"order","order":"o2","member":"B","amount":"200.00"}"#,
        r#"{"at":"2026-03-01T10:04:00+08:00","type":"join","member":"C","referrer":"A"}"#,
        r#"{"at":"2026-03-01T10:05:00+08:00","type":"order","order":"o3","member":"C","amount":"300.00"}"#,
    ]
    .join("\n");
    let posted = request(&server, "POST", "/v1/events", Some(&key), "", &events);
    assert_eq!(posted.status, 200);
    assert!(!posted.body.contains("\"ok\":false"), "{}", posted.body);
    // Without a key (or with the tenant's): the server's metrics, nothing of a tenant.
    for key in [None, Some(key.as_str())] {
        let plain = request(&server, "GET", "/metrics", key, "", "");
        assert_eq!(plain.status, 200);
        assert!(plain.body.contains("fanli_tenants 1\n") && !plain.body.contains("shop"), "{}", plain.body);
    }
    let text = request(&server, "GET", "/metrics", Some(MASTER), "", "").body;
    let sample = |name: &str, labels: &str| -> i64 {
        let prefix = format!("{name}{{{labels}}} ");
        let line =
            text.lines().find(|l| l.starts_with(&prefix)).unwrap_or_else(|| panic!("no {prefix} in {text}"));
        line[prefix.len()..].parse().unwrap()
    };
    let q = "tenant=\"shop\",mechanism=\"q\",kind=\"queue\"";
    let r3 = "tenant=\"shop\",mechanism=\"r3\",kind=\"refer_refund\"";
    // The queue: 10% of the 1,500.00 ordered funds the pool; each entry waits for half its
    // order (500 + 100 + 150), none paid before a day closes.
    assert_eq!(sample("fanli_pool_fen", q), 15_000);
    assert_eq!(sample("fanli_obligations_fen", q), 0);
    assert_eq!(sample("fanli_obligations", q), 0);
    assert_eq!(sample("fanli_mechanism_money_fen", &format!("{q},figure=\"queued\"")), 75_000);
    // Refer-refund: 5% funds it (50 + 10, then 15). B's order owes A 10% of 1,000 (100: 60
    // paid, 40 owed); C's pays 15 of those 40 and owes A 20% (200): 225.00 owed in 2, 75 paid,
    // the pool empty: the alert `fanli_obligations_fen > fanli_pool_fen` fires for r3.
    assert_eq!(sample("fanli_pool_fen", r3), 0);
    assert_eq!(sample("fanli_obligations_fen", r3), 22_500);
    assert_eq!(sample("fanli_obligations", r3), 2);
    assert_eq!(sample("fanli_paid_fen", r3), 7_500);
    assert_eq!(sample("fanli_withdrawals_waiting", "tenant=\"shop\""), 0);
    assert_eq!(sample("fanli_withdrawals_waiting_fen", "tenant=\"shop\""), 0);
    assert_eq!(sample("fanli_webhook_dead_letters", "tenant=\"shop\""), 0, "no webhook, no dead letter");
    assert_eq!(text.matches("# TYPE fanli_pool_fen gauge\n").count(), 1);
}
