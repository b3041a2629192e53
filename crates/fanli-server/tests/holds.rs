//! Issue 17, a server that holds: a limit on the requests in flight (past it `503 overloaded`
//! at once, while `/healthz` and `/metrics` still answer), a data folder only its owner reads, a
//! failing commit that fails only the event that made it fail, and no acknowledged event lost
//! when commits fail at random.

use std::io::{Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::time::Duration;

mod common;

use common::{data_dir, open, request, start_app};
use fanli_server::limits::Limits;

const PLAN: &str = "name = \"holds\"\nsettle_after_days = 0\n[[mechanism]]\nid = \"q\"\nkind = \"queue\"\n\
                    funding_rate = \"0.1\"\nrelease = \"when_funded\"\n";

/// A tenant with the plan and a member `A`; its owner key.
fn tenant(addr: SocketAddr) -> String {
    let answer = request(addr, "POST", "/v1/tenants", Some(common::MASTER), "", r#"{"id":"shop"}"#);
    assert_eq!(answer.status, 201, "{}", answer.body);
    let key = answer.json()["owner_key"].as_str().unwrap().to_owned();
    assert_eq!(request(addr, "PUT", "/v1/plan", Some(&key), "", PLAN).status, 200);
    assert_eq!(request(addr, "POST", "/v1/members", Some(&key), "", r#"{"member":"A"}"#).status, 200);
    key
}

/// A request whose headers are sent and whose body is not (yet): in flight, holding its permit
/// until [`finish`] sends the body.
fn hold(addr: SocketAddr, method: &str, path: &str, key: &str, body: &str) -> TcpStream {
    let mut stream = TcpStream::connect(addr).unwrap();
    stream.set_read_timeout(Some(Duration::from_secs(10))).unwrap();
    let head = format!(
        "{method} {path} HTTP/1.1\r\nHost: t\r\nAuthorization: Bearer {key}\r\nContent-Length: {}\r\nConnection: close\r\n\r\n",
        body.len()
    );
    stream.write_all(head.as_bytes()).unwrap();
    stream
}

/// Sends the held request's body; its status.
fn finish(mut stream: TcpStream, body: &str) -> u16 {
    stream.write_all(body.as_bytes()).unwrap();
    let mut response = String::new();
    stream.read_to_string(&mut response).unwrap();
    response[9..12].parse().unwrap()
}

/// Gives a held request the time to reach the server and take its permit.
fn settle() {
    std::thread::sleep(Duration::from_millis(200));
}

#[test]
fn past_the_limit_a_request_is_refused_at_once_with_retry_after_and_health_still_answers() {
    let dir = data_dir("holds-shed");
    let addr = start_app(open(&dir).limits(Limits { writes: 1, reads: 1 }));
    let key = tenant(addr);
    let order = r#"{"order":"o1","member":"A","amount":"1.00"}"#;
    // One write in flight (its body not sent yet): the next write is refused at once.
    let held = hold(addr, "POST", "/v1/orders", &key, order);
    settle();
    let started = std::time::Instant::now();
    let refused =
        request(addr, "POST", "/v1/orders", Some(&key), "", r#"{"order":"o2","member":"A","amount":"1.00"}"#);
    assert!(started.elapsed() < Duration::from_secs(1), "not queued");
    assert_eq!(refused.status, 503, "{}", refused.body);
    assert_eq!(refused.header("retry-after"), Some("1"), "{:?}", refused.head);
    assert_eq!(refused.json()["error"]["code"], "overloaded");
    assert!(refused.json()["error"]["message"].is_string());
    // A page's form refused the same way gets a small HTML page, Chinese first.
    let page = request(addr, "POST", "/console/logout", None, "", "");
    assert_eq!((page.status, page.header("retry-after")), (503, Some("1")), "{}", page.body);
    assert_eq!(page.header("content-type"), Some("text/html; charset=utf-8"));
    let (zh, en) = (page.body.find("服务器繁忙").unwrap(), page.body.find("The server is busy").unwrap());
    assert!(zh < en && page.body.len() < 1_000, "{}", page.body);
    // Reads are limited apart: a light read and a heavy one still answer.
    assert_eq!(request(addr, "GET", "/v1/members/A", Some(&key), "", "").status, 200);
    assert_eq!(request(addr, "GET", "/v1/state", Some(&key), "", "").status, 200);
    // One heavy read in flight: the next heavy read is refused, health and metrics answer.
    let plan_check = hold(addr, "POST", "/v1/plan/check", &key, PLAN);
    settle();
    let refused = request(addr, "GET", "/v1/audit", Some(&key), "", "");
    assert_eq!((refused.status, refused.header("retry-after")), (503, Some("1")), "{}", refused.body);
    let page = request(addr, "GET", "/console/audit", None, "", "");
    assert_eq!((page.status, page.header("retry-after")), (503, Some("1")), "{}", page.body);
    assert!(page.body.starts_with("<!DOCTYPE html>"), "{}", page.body);
    assert_eq!(request(addr, "GET", "/healthz", None, "", "").status, 200);
    let metrics = request(addr, "GET", "/metrics", None, "", "");
    assert_eq!(metrics.status, 200);
    assert!(metrics.body.contains("fanli_http_shed_total{kind=\"write\"} 2\n"), "{}", metrics.body);
    assert!(metrics.body.contains("fanli_http_shed_total{kind=\"read\"} 2\n"), "{}", metrics.body);
    // The held requests are answered once their bodies come; then the permits are free again.
    assert_eq!(finish(held, order), 200);
    assert_eq!(finish(plan_check, PLAN), 200);
    let answer =
        request(addr, "POST", "/v1/orders", Some(&key), "", r#"{"order":"o2","member":"A","amount":"1.00"}"#);
    assert_eq!(answer.status, 200, "{}", answer.body);
    assert_eq!(request(addr, "GET", "/v1/audit", Some(&key), "", "").status, 200);
}

#[test]
fn the_audit_feed_is_paged_within_its_byte_limit() {
    let dir = data_dir("holds-audit-page");
    let addr = start_app(open(&dir));
    let key = tenant(addr);
    // 30,000 chained lines of about 200 bytes: more than one page of 4 MiB. All at one time, a
    // little after A joined (not ahead of the server's clock by more than it takes).
    let now = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap().as_nanos() as i64;
    let at = fanli_engine::Timestamp::from_unix_nanos(now + 10_000_000_000).to_string();
    for batch in 0..2 {
        let mut body = String::new();
        for i in 0..15_000 {
            body.push_str(&format!(
                "{{\"at\":\"{at}\",\"type\":\"order\",\"order\":\"o{batch}-{i}\",\"member\":\"A\",\"amount\":\"1.00\"}}\n"
            ));
        }
        let answer = request(addr, "POST", "/v1/events", Some(&key), "", &body);
        assert_eq!(answer.status, 200);
        assert!(!answer.body.contains("\"ok\":false"), "{}", &answer.body[..500]);
    }
    let page = request(addr, "GET", "/v1/audit?limit=100000", Some(&key), "", "");
    assert_eq!(page.status, 200);
    assert!(page.body.len() <= fanli_server::limits::AUDIT_PAGE_BYTES, "{}", page.body.len());
    let next: u64 = page.header("x-fanli-next").expect("more lines follow").parse().unwrap();
    assert_eq!(next, page.body.lines().count() as u64);
    let rest = request(addr, "GET", &format!("/v1/audit?from={next}&limit=100000"), Some(&key), "", "");
    assert_eq!(rest.header("x-fanli-next"), None);
    assert_eq!(next + rest.body.lines().count() as u64, 30_001, "the join of A and the orders");
}

#[test]
fn the_reports_are_paged_with_a_limit_and_a_cursor() {
    let dir = data_dir("holds-reports-page");
    // Days closed in 2099 (after the join of A, stamped now): the future is let in.
    let addr = start_app(open(&dir).future_tolerance(None));
    let key = tenant(addr);
    // Five day closes after the join of A (line 1): reports at lines 2 to 6.
    let closes: String =
        (1..=5).map(|d| format!("{{\"at\":\"2099-01-0{d}T23:00:00Z\",\"type\":\"close_day\"}}\n")).collect();
    let answer = request(addr, "POST", "/v1/events", Some(&key), "", &closes);
    assert_eq!(answer.status, 200);
    assert!(!answer.body.contains("\"ok\":false"), "{}", answer.body);
    let page =
        |from: u64| request(addr, "GET", &format!("/v1/reports?from={from}&limit=2"), Some(&key), "", "");
    let at = |body: &str| -> Vec<String> {
        body.lines()
            .map(|l| serde_json::from_str::<serde_json::Value>(l).unwrap()["at"].as_str().unwrap().to_owned())
            .collect()
    };
    let first = page(0);
    assert_eq!(first.status, 200, "{}", first.body);
    assert_eq!(at(&first.body), ["2099-01-01T23:00:00Z", "2099-01-02T23:00:00Z"]);
    assert_eq!(first.header("x-fanli-next"), Some("3"));
    let second = page(3);
    assert_eq!(at(&second.body), ["2099-01-03T23:00:00Z", "2099-01-04T23:00:00Z"]);
    assert_eq!(second.header("x-fanli-next"), Some("5"));
    let last = page(5);
    assert_eq!(at(&last.body), ["2099-01-05T23:00:00Z"]);
    assert_eq!(last.header("x-fanli-next"), None);
    // Exactly a page's worth at the end: no next page either.
    let whole = request(addr, "GET", "/v1/reports?from=1&limit=5", Some(&key), "", "");
    assert_eq!((whole.body.lines().count(), whole.header("x-fanli-next")), (5, None));
    // The default limit holds them all; a limit that is not a number is refused.
    let all = request(addr, "GET", "/v1/reports", Some(&key), "", "");
    assert_eq!((all.body.lines().count(), all.header("x-fanli-next")), (5, None));
    let bad = request(addr, "GET", "/v1/reports?limit=many", Some(&key), "", "");
    assert_eq!(bad.status, 400, "{}", bad.body);
    assert_eq!(bad.json()["error"]["message"], "`limit` is a number");
    // Outside 1 to 10,000 is refused too, as the API's document says.
    for limit in [0, 10_001] {
        let out = request(addr, "GET", &format!("/v1/reports?limit={limit}"), Some(&key), "", "");
        assert_eq!(out.status, 400, "{limit}: {}", out.body);
    }
}

/// The data folder (made world-readable before, as an older server left it) is tightened when
/// opened; what the server writes there after (the store, its journal, the snapshots) is its
/// owner's alone too.
#[cfg(unix)]
#[test]
fn the_data_folder_and_its_files_are_the_owners_alone() {
    use std::os::unix::fs::PermissionsExt;
    let mode = |path: &std::path::Path| std::fs::metadata(path).unwrap().permissions().mode() & 0o777;
    let dir = data_dir("holds-perms");
    std::fs::set_permissions(&dir, std::fs::Permissions::from_mode(0o755)).unwrap();
    std::fs::write(dir.join("left.txt"), "old").unwrap();
    std::fs::set_permissions(dir.join("left.txt"), std::fs::Permissions::from_mode(0o644)).unwrap();
    let addr = start_app(open(&dir).snapshot_every(1));
    let key = tenant(addr);
    let order = r#"{"order":"o1","member":"A","amount":"1.00"}"#;
    assert_eq!(request(addr, "POST", "/v1/orders", Some(&key), "", order).status, 200);
    let snapshots = dir.join("snapshots");
    for _ in 0..100 {
        let taken = std::fs::read_dir(&snapshots)
            .map(|files| files.flatten().any(|f| f.path().extension().is_some_and(|e| e == "snap")))
            .unwrap_or(false);
        if taken {
            break;
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    assert_eq!(mode(&dir), 0o700);
    assert_eq!(mode(&snapshots), 0o700);
    let mut files = 0;
    for folder in [&dir, &snapshots] {
        for entry in std::fs::read_dir(folder).unwrap().flatten() {
            if entry.file_type().unwrap().is_file() {
                assert_eq!(mode(&entry.path()), 0o600, "{}", entry.path().display());
                files += 1;
            }
        }
    }
    // The old file and a snapshot, and on SQLite its store and journal.
    assert!(files >= 2, "{files}");
}

/// Posts orders from `clients` threads at once, `each` per thread, ids `{prefix}{client}-{i}`
/// (and, for the first client's first order, `poison` in the id if `poison`); each id with the
/// status it was answered.
fn post_orders(addr: SocketAddr, key: &str, clients: usize, each: usize, prefix: &str) -> Vec<(String, u16)> {
    let barrier = std::sync::Arc::new(std::sync::Barrier::new(clients));
    let threads: Vec<_> = (0..clients)
        .map(|c| {
            let (key, prefix, barrier) = (key.to_owned(), prefix.to_owned(), barrier.clone());
            std::thread::spawn(move || {
                barrier.wait();
                (0..each)
                    .map(|i| {
                        let id = format!("{prefix}{c}-{i}");
                        let body = format!(r#"{{"order":"{id}","member":"A","amount":"1.00"}}"#);
                        (id, request(addr, "POST", "/v1/orders", Some(&key), "", &body).status)
                    })
                    .collect::<Vec<_>>()
            })
        })
        .collect();
    threads.into_iter().flat_map(|t| t.join().unwrap()).collect()
}

/// The order ids in the tenant's log, as a fresh start on the store reads it, and the
/// tenant's state there.
fn stored_orders(dir: &std::path::Path) -> (std::collections::HashSet<String>, serde_json::Value) {
    let lines = common::store(dir).events("shop", 0).unwrap();
    let orders = lines
        .iter()
        .filter_map(|line| {
            serde_json::from_str::<serde_json::Value>(line).unwrap()["order"].as_str().map(str::to_owned)
        })
        .collect();
    let state = serde_json::from_slice(&open(dir).state("shop").unwrap()).unwrap();
    (orders, state)
}

/// A trigger in the store that refuses to insert a line with `poison` in it, as PostgreSQL
/// refused a NUL byte.
fn poison(dir: &std::path::Path) {
    match common::database(dir) {
        None => common::execute(
            dir,
            "CREATE TRIGGER poison BEFORE INSERT ON events WHEN NEW.line LIKE '%poison%'
             BEGIN SELECT RAISE(ABORT, 'poisoned'); END;",
        ),
        Some(_) => common::execute(
            dir,
            "CREATE FUNCTION poison() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN
               IF NEW.line LIKE '%poison%' THEN RAISE EXCEPTION 'poisoned'; END IF; RETURN NEW;
             END $$;
             CREATE TRIGGER poison BEFORE INSERT ON events FOR EACH ROW EXECUTE FUNCTION poison();",
        ),
    }
}

/// Issue 17: an event the store cannot write (here a trigger refuses it, as PostgreSQL refused
/// a NUL byte) fails its own request only; the requests committed in the same group are
/// stored and answered.
#[test]
fn an_event_the_store_refuses_fails_alone_and_its_group_is_committed() {
    let dir = data_dir("holds-poison");
    let addr = start_app(open(&dir));
    let key = tenant(addr);
    poison(&dir);
    let mut answers = Vec::new();
    for round in 0..3 {
        answers.extend(post_orders(addr, &key, 48, 1, &format!("r{round}-")));
        // One poisoned order among 48 good ones sent at the same moment, in each round.
        let threads: Vec<_> = (0..48)
            .map(|i| {
                let key = key.clone();
                std::thread::spawn(move || {
                    let id = if i == 17 { format!("poison-{round}") } else { format!("p{round}-{i}") };
                    let body = format!(r#"{{"order":"{id}","member":"A","amount":"1.00"}}"#);
                    (id, request(addr, "POST", "/v1/orders", Some(&key), "", &body).status)
                })
            })
            .collect();
        answers.extend(threads.into_iter().map(|t| t.join().unwrap()));
    }
    for (id, status) in &answers {
        let expected = if id.starts_with("poison") { 500 } else { 200 };
        assert_eq!(*status, expected, "order {id}");
    }
    let (stored, state) = stored_orders(&dir);
    assert_eq!(stored.len(), answers.len() - 3);
    assert!(stored.iter().all(|id| !id.starts_with("poison")));
    // What the server holds is what the store holds.
    let live = request(addr, "GET", "/v1/state", Some(&key), "", "");
    assert_eq!(serde_json::from_str::<serde_json::Value>(&live.body).unwrap(), state);
}

/// Issue 17: commits failing at seeded random points (a full disk) under a load of orders:
/// every order answered 200 is stored, none answered 500 is, and the state served after the
/// failures is the state a fresh start replays from the store.
#[test]
fn commits_failing_at_random_lose_no_acknowledged_order_and_apply_no_failed_one() {
    for seed in [1, 2] {
        let dir = data_dir(&format!("holds-faults-{seed}"));
        let addr = start_app(open(&dir).inject_faults(fanli_server::faults::Faults::seeded(seed, 4)));
        let key = tenant_retrying(addr);
        let answers = post_orders(addr, &key, 8, 40, "o");
        let failed: Vec<&String> = answers.iter().filter(|(_, s)| *s == 500).map(|(id, _)| id).collect();
        assert!(!failed.is_empty(), "faults were injected (seed {seed})");
        assert!(answers.iter().all(|(_, s)| *s == 200 || *s == 500), "{answers:?}");
        let (stored, state) = stored_orders(&dir);
        for (id, status) in &answers {
            assert_eq!(stored.contains(id), *status == 200, "order {id} answered {status} (seed {seed})");
        }
        let live = request(addr, "GET", "/v1/state", Some(&key), "", "");
        assert_eq!(serde_json::from_str::<serde_json::Value>(&live.body).unwrap(), state);
        assert_eq!(state["members"]["A"]["spent"], format!("{}.00", stored.len()));
    }
}

/// [`tenant`], its setup requests retried while an injected fault fails them.
fn tenant_retrying(addr: SocketAddr) -> String {
    let answer = request(addr, "POST", "/v1/tenants", Some(common::MASTER), "", r#"{"id":"shop"}"#);
    assert_eq!(answer.status, 201, "{}", answer.body);
    let key = answer.json()["owner_key"].as_str().unwrap().to_owned();
    assert_eq!(request(addr, "PUT", "/v1/plan", Some(&key), "", PLAN).status, 200);
    for _ in 0..20 {
        match request(addr, "POST", "/v1/members", Some(&key), "", r#"{"member":"A"}"#).status {
            200 => return key,
            500 => continue,
            other => panic!("joining answered {other}"),
        }
    }
    panic!("A never joined");
}

/// A tenant `shop` with the plan and no member yet (its events may then start on 2026-01-01);
/// its owner key.
fn bare_tenant(addr: SocketAddr) -> String {
    let answer = request(addr, "POST", "/v1/tenants", Some(common::MASTER), "", r#"{"id":"shop"}"#);
    assert_eq!(answer.status, 201, "{}", answer.body);
    let key = answer.json()["owner_key"].as_str().unwrap().to_owned();
    assert_eq!(request(addr, "PUT", "/v1/plan", Some(&key), "", PLAN).status, 200);
    key
}

/// A line of `POST /v1/events`: member A joins, on 2026-01-01.
const JOIN: &str = "{\"at\":\"2026-01-01T00:00:00Z\",\"type\":\"join\",\"member\":\"A\"}\n";

/// A line of `POST /v1/events`: A's order `id` of 1.00, on 2026-01-01.
fn order_line(id: &str) -> String {
    format!(
        "{{\"at\":\"2026-01-01T00:00:00Z\",\"type\":\"order\",\"order\":\"{id}\",\"member\":\"A\",\"amount\":\"1.00\"}}\n"
    )
}

/// Issues 16 and 19: a group of many lines is stored as it is applied (on SQLite a storer
/// thread inserts its first lines' rows while the engine applies the rest). Posted in batches
/// of 1,000 (stored that way) or of 100 (stored once applied), the store holds the same log and
/// the same history, and a fresh start on it serves what the server served.
#[test]
fn a_large_batch_stored_as_it_is_applied_stores_what_small_batches_store() {
    let mut stored = Vec::new();
    for (name, batch) in [("holds-parts-large", 1000), ("holds-parts-small", 100)] {
        let dir = data_dir(name);
        let addr = start_app(open(&dir));
        let key = bare_tenant(addr);
        let body: String =
            std::iter::once(JOIN.to_owned()).chain((0..2999).map(|i| order_line(&format!("o{i}")))).collect();
        let lines: Vec<&str> = body.lines().collect();
        for chunk in lines.chunks(batch) {
            let answer = request(addr, "POST", "/v1/events", Some(&key), "", &(chunk.join("\n") + "\n"));
            assert_eq!(answer.status, 200, "{}", answer.body);
            assert!(!answer.body.contains("\"ok\":false"), "{}", answer.body);
        }
        let mut store = common::store(&dir);
        let events = store.events("shop", 0).unwrap();
        assert_eq!(events.len(), 3000);
        let history = store.history("shop", "A", 10_000).unwrap();
        let (orders, state) = stored_orders(&dir);
        assert_eq!(orders.len(), 2999);
        let live = request(addr, "GET", "/v1/state", Some(&key), "", "");
        assert_eq!(serde_json::from_str::<serde_json::Value>(&live.body).unwrap(), state);
        stored.push((events, history));
    }
    assert!(stored[0] == stored[1], "the same log and history either way");
}

/// A batch of 1,000 lines whose store fails (a trigger refuses one of its lines: one the
/// storer inserts while the engine applies the rest, then one of the last the writer inserts)
/// is answered 500 and leaves nothing in the store; the batches before and after it are stored
/// whole, and the state served is the state a fresh start replays.
#[test]
fn a_large_batch_whose_store_fails_midway_leaves_none_of_its_lines() {
    let dir = data_dir("holds-parts-poison");
    let addr = start_app(open(&dir));
    let key = bare_tenant(addr);
    poison(&dir);
    let post = |body: String| request(addr, "POST", "/v1/events", Some(&key), "", &body);
    let first: String =
        std::iter::once(JOIN.to_owned()).chain((0..999).map(|i| order_line(&format!("a{i}")))).collect();
    assert_eq!(post(first).status, 200);
    for (round, poisoned) in [(0, 300), (1, 990)] {
        let body: String = (0..1000)
            .map(|i| {
                order_line(&if i == poisoned { format!("poison-{round}") } else { format!("b{round}-{i}") })
            })
            .collect();
        let answer = post(body);
        assert_eq!(answer.status, 500, "{}", answer.body);
        let good: String = (0..1000).map(|i| order_line(&format!("c{round}-{i}"))).collect();
        let answer = post(good);
        assert_eq!(answer.status, 200, "{}", answer.body);
    }
    let (stored, state) = stored_orders(&dir);
    assert_eq!(stored.len(), 2999);
    assert!(stored.iter().all(|id| id.starts_with('a') || id.starts_with('c')), "none of the failed batches");
    let live = request(addr, "GET", "/v1/state", Some(&key), "", "");
    assert_eq!(serde_json::from_str::<serde_json::Value>(&live.body).unwrap(), state);
    assert_eq!(state["members"]["A"]["spent"], "2999.00");
}

/// Batches of 300 lines while commits fail at seeded random points: every line of a batch
/// answered 200 is stored, none of one answered 500 is, and the state served is the state a
/// fresh start replays.
#[test]
fn large_batches_failing_at_random_store_exactly_the_acknowledged_ones() {
    let mut failures = 0;
    for seed in [3, 4] {
        let dir = data_dir(&format!("holds-parts-faults-{seed}"));
        let addr = start_app(open(&dir).inject_faults(fanli_server::faults::Faults::seeded(seed, 3)));
        let key = bare_tenant(addr);
        let post = |body: String| request(addr, "POST", "/v1/events", Some(&key), "", &body);
        assert!((0..20).any(|_| post(JOIN.to_owned()).status == 200), "A joined");
        let mut answered = Vec::new();
        for round in 0..10 {
            let ids: Vec<String> = (0..300).map(|i| format!("r{round}-{i}")).collect();
            let status = post(ids.iter().map(|id| order_line(id)).collect()).status;
            assert!(status == 200 || status == 500, "{status}");
            failures += usize::from(status == 500);
            answered.extend(ids.into_iter().map(|id| (id, status)));
        }
        let (stored, state) = stored_orders(&dir);
        for (id, status) in &answered {
            assert_eq!(stored.contains(id), *status == 200, "order {id} answered {status} (seed {seed})");
        }
        let live = request(addr, "GET", "/v1/state", Some(&key), "", "");
        assert_eq!(serde_json::from_str::<serde_json::Value>(&live.body).unwrap(), state);
        assert_eq!(state["members"]["A"]["spent"], format!("{}.00", stored.len()));
    }
    assert!(failures > 0, "faults were injected");
}
