//! Issue 15 over HTTP: withdrawals under `[withdrawal]` (paid at once less the fee, or held for
//! review; approved, rejected, capped) and the members' vote under `[vote]` (proposals, votes
//! with members' own tokens, the tally), through the API, the console and the member page.
//! Each test's server answers through its router in-process (`common::local`).

mod common;

use common::{Answer, Target, data_dir, local, request};
use serde_json::Value;

/// Seed 001's appreciation (three orders of 1000, an injection of 1100, m0 sells all: 697.16 in
/// m0's wallet, 1302.84 in the pool), with a 5% withdrawal fee back to the pool, a 10.00
/// minimum, 500.00 a day, review above 200.00, and a week's vote.
const PLAN: &str = r#"name = "withdrawals and votes"
settle_after_days = 0
[withdrawal]
fee_rate = "0.05"
fee_to = "appr"
min = "10.00"
max_per_day = "500.00"
review_above = "200.00"
[vote]
days = 7
quorum = "0.50"
majority = "0.50"
[[mechanism]]
id = "appr"
kind = "appreciation"
funding_rate = "0.30"
mint_ratio = "0.70"
initial_price = "1.00"
sell_fee = "0.20"
exit_multiple = "3"
"#;

/// Seed 001's stream on 1 January 2026, and m9, who joins and buys nothing.
const EVENTS: &str = r#"{"at":"2026-01-01T09:00:00+08:00","type":"join","member":"m0"}
{"at":"2026-01-01T09:00:00+08:00","type":"order","order":"o0","member":"m0","amount":"1000.00"}
{"at":"2026-01-01T09:01:00+08:00","type":"join","member":"m1"}
{"at":"2026-01-01T09:01:00+08:00","type":"order","order":"o1","member":"m1","amount":"1000.00"}
{"at":"2026-01-01T09:02:00+08:00","type":"join","member":"m2"}
{"at":"2026-01-01T09:02:00+08:00","type":"order","order":"o2","member":"m2","amount":"1000.00"}
{"at":"2026-01-01T09:05:00+08:00","type":"inject","mechanism":"appr","amount":"1100.00"}
{"at":"2026-01-01T09:06:00+08:00","type":"sell","member":"m0","mechanism":"appr","points":"all"}
{"at":"2026-01-01T09:07:00+08:00","type":"join","member":"m9"}
"#;

/// A tenant with the plan and the events: its owner key.
fn tenant(addr: impl Target) -> String {
    let answer = request(addr, "POST", "/v1/tenants", Some("master-secret"), "", r#"{"id":"shop"}"#);
    let key = answer.json()["owner_key"].as_str().unwrap().to_owned();
    let put = request(addr, "PUT", "/v1/plan", Some(&key), "", PLAN);
    assert_eq!(put.status, 200, "{}", put.body);
    let posted = request(addr, "POST", "/v1/events", Some(&key), "", EVENTS);
    assert!(posted.json()["results"].as_array().unwrap().iter().all(|r| r["ok"] == true), "{}", posted.body);
    key
}

fn call(addr: impl Target, method: &str, path: &str, key: &str, body: &str) -> Answer {
    request(addr, method, path, Some(key), "", body)
}

/// A 422's code.
fn refused(answer: &Answer) -> String {
    assert_eq!(answer.status, 422, "{}", answer.body);
    answer.json()["error"]["code"].as_str().unwrap().to_owned()
}

/// `member`'s figure `name`, as `GET /v1/members/{id}` shows it.
fn figure(addr: impl Target, key: &str, member: &str, name: &str) -> Value {
    call(addr, "GET", &format!("/v1/members/{member}"), key, "").json()[member][name].clone()
}

fn pool(addr: impl Target, key: &str) -> Value {
    call(addr, "GET", "/v1/mechanisms/appr", key, "").json()["appr"]["pool"].clone()
}

fn token(addr: impl Target, key: &str, member: &str) -> String {
    let answer = call(addr, "POST", &format!("/v1/members/{member}/token"), key, "");
    answer.json()["token"].as_str().unwrap_or_else(|| panic!("{}", answer.body)).to_owned()
}

fn withdraw(amount: &str, at: &str) -> String {
    format!(r#"{{"member":"m0","amount":"{amount}","at":"2026-01-02T{at}:00+08:00"}}"#)
}

#[test]
fn a_withdrawal_is_paid_less_its_fee_or_held_for_review_and_approved_or_returned() {
    let dir = data_dir("wv-withdrawals");
    let addr = &local(&dir);
    let key = tenant(addr);
    assert_eq!(figure(addr, &key, "m0", "wallet"), "697.16");
    assert_eq!(pool(addr, &key), "1302.84");
    let post = |body: String| call(addr, "POST", "/v1/withdrawals", &key, &body);

    assert_eq!(refused(&post(withdraw("5.00", "09:00"))), "below_minimum");
    // Paid at once: 95.00 out, the 5.00 fee back to the pool 回流到盈利池.
    let paid = post(withdraw("100.00", "09:01"));
    assert_eq!(paid.status, 200, "{}", paid.body);
    let w = &paid.json()["withdrawal"];
    assert_eq!((&w["status"], &w["amount"], &w["fee"]), (&"paid".into(), &"100.00".into(), &"5.00".into()));
    assert_eq!(paid.json()["members"]["m0"]["wallet"], "597.16");
    assert_eq!(pool(addr, &key), "1307.84");

    // Above 200.00: held out of the wallet, waiting, listed in the queue.
    let held = post(withdraw("300.00", "09:02"));
    let w = &held.json()["withdrawal"];
    assert_eq!(
        (&w["status"], &w["amount"], &w["fee"]),
        (&"waiting".into(), &"300.00".into(), &"15.00".into())
    );
    assert_eq!(held.json()["members"]["m0"]["withdrawing"], "300.00");
    assert_eq!(figure(addr, &key, "m0", "wallet"), "297.16");
    assert_eq!(pool(addr, &key), "1307.84", "no fee until it is paid");
    let queue = call(addr, "GET", "/v1/withdrawals", &key, "").json();
    assert_eq!(
        queue,
        serde_json::json!({"withdrawals": [
            {"member": "m0", "amount": "300.00", "fee": "15.00", "at": "2026-01-02T01:02:00Z"},
        ]})
    );
    // The held money is not spendable again: the wallet holds 297.16, and nothing more is
    // asked while one waits.
    assert_eq!(refused(&post(withdraw("297.17", "09:03"))), "withdrawal_waiting");

    // Who may review: the owner, as every review.
    let reader = call(addr, "POST", "/v1/keys", &key, r#"{"role":"read_only"}"#).json()["key"]
        .as_str()
        .unwrap()
        .to_owned();
    assert_eq!(call(addr, "GET", "/v1/withdrawals", &reader, "").status, 200);
    assert_eq!(call(addr, "POST", "/v1/withdrawals/m0/review", &reader, r#"{"approve":true}"#).status, 403);
    let m0 = token(addr, &key, "m0");
    assert_eq!(call(addr, "GET", "/v1/withdrawals", &m0, "").status, 403);
    assert_eq!(call(addr, "POST", "/v1/withdrawals/m0/review", &key, r#"{"approve":"yes"}"#).status, 400);

    // Rejected: back to the wallet, whole, and no longer counted against the day's cap.
    let review = |approve: bool, at: &str| {
        let body = format!(r#"{{"approve":{approve},"at":"2026-01-02T{at}:00+08:00"}}"#);
        call(addr, "POST", "/v1/withdrawals/m0/review", &key, &body)
    };
    let returned = review(false, "10:00");
    assert_eq!(returned.status, 200, "{}", returned.body);
    let w = &returned.json()["withdrawal"];
    assert_eq!((&w["status"], &w["amount"]), (&"returned".into(), &"300.00".into()));
    assert_eq!(returned.json()["members"]["m0"]["wallet"], "597.16");
    assert_eq!(returned.json()["members"]["m0"]["withdrawing"], "0.00");
    assert_eq!(call(addr, "GET", "/v1/withdrawals", &key, "").json()["withdrawals"], serde_json::json!([]));
    assert_eq!(refused(&review(true, "10:01")), "no_withdrawal_waiting");

    // Asked again, approved: 285.00 out, 15.00 back to the pool.
    assert_eq!(post(withdraw("300.00", "10:02")).json()["withdrawal"]["status"], "waiting");
    let approved = review(true, "10:03");
    let w = &approved.json()["withdrawal"];
    assert_eq!((&w["status"], &w["amount"], &w["fee"]), (&"paid".into(), &"300.00".into(), &"15.00".into()));
    assert_eq!(figure(addr, &key, "m0", "wallet"), "297.16");
    assert_eq!(figure(addr, &key, "m0", "withdrawing"), "0.00");
    assert_eq!(pool(addr, &key), "1322.84");
    // 100 + 300 asked today: 150 more passes 500.00; the next day it does not.
    assert_eq!(refused(&post(withdraw("150.00", "11:00"))), "over_daily_cap");
    let next_day = post(r#"{"member":"m0","amount":"150.00","at":"2026-01-03T09:00:00+08:00"}"#.to_owned());
    assert_eq!(next_day.json()["withdrawal"]["fee"], "7.50", "{}", next_day.body);
    // Every step is a line of the log.
    let log = call(addr, "GET", "/v1/audit", &key, "").body;
    assert_eq!(log.matches("\"type\":\"withdraw\"").count(), 4, "{log}");
    assert_eq!(log.matches("\"type\":\"withdrawal_review\"").count(), 2, "{log}");
}

/// The same plan with `funding_rate` 0.40: a raise, in force at the tally.
fn raised() -> String {
    PLAN.replace("funding_rate = \"0.30\"", "funding_rate = \"0.40\"")
}

#[test]
fn members_vote_with_their_own_tokens_and_the_tally_records_a_passed_amendment() {
    let dir = data_dir("wv-votes");
    let addr = &local(&dir);
    let key = tenant(addr);
    let propose = |id: &str, plan: &str, key: &str| {
        let body = serde_json::json!({"proposal": id, "plan": plan, "at": "2026-01-03T09:00:00+08:00"});
        call(addr, "POST", "/v1/proposals", key, &body.to_string())
    };
    // A plan `fanli check` refuses, as PUT /v1/plan refuses it; one that is no plan.
    let bad = propose(
        "p0",
        &raised().replace("settle_after_days = 0", "settle_after_days = 0\nmargin_rate = \"0.10\""),
        &key,
    );
    assert_eq!(refused(&bad), "noncompliant");
    assert_eq!(bad.json()["error"]["findings"][0]["rule"], "over-margin", "{}", bad.body);
    assert_eq!(refused(&propose("p0", "name = ", &key)), "invalid_plan");
    let m0 = token(addr, &key, "m0");
    assert_eq!(propose("p1", &raised(), &m0).status, 403, "the owner opens a vote");

    let opened = propose("p1", &raised(), &key);
    assert_eq!(opened.status, 200, "{}", opened.body);
    let p = &opened.json()["proposal"];
    assert_eq!(
        (&p["id"], &p["closes"], &p["voters"]),
        (&"p1".into(), &"2026-01-10T01:00:00Z".into(), &0.into())
    );
    assert_eq!(refused(&propose("p1", &raised(), &key)), "proposal_exists");

    let vote = |token: &str, id: &str, body: &str| {
        call(addr, "POST", &format!("/v1/proposals/{id}/votes"), token, body)
    };
    let at = |day: u32| format!("2026-01-{day:02}T09:00:00+08:00");
    let yes = |day: u32| format!(r#"{{"yes":true,"at":"{}"}}"#, at(day));
    let (m1, m9) = (token(addr, &key, "m1"), token(addr, &key, "m9"));
    // m9 bought nothing: not eligible. Operators' keys do not vote; nor does a token for
    // another member (the member is the token's, and no body names one).
    assert_eq!(refused(&vote(&m9, "p1", &yes(4))), "not_eligible");
    assert_eq!(vote(&key, "p1", &yes(4)).status, 403);
    let other = vote(&m1, "p1", &format!(r#"{{"yes":true,"member":"m0","at":"{}"}}"#, at(4)));
    assert_eq!(other.status, 400, "{}", other.body);
    assert_eq!(refused(&vote(&m0, "nope", &yes(4))), "unknown_proposal");
    let cast = vote(&m0, "p1", &yes(4));
    assert_eq!(cast.status, 200, "{}", cast.body);
    assert_eq!((&cast.json()["proposal"]["yes"], &cast.json()["proposal"]["voters"]), (&1.into(), &1.into()));
    assert_eq!(refused(&vote(&m0, "p1", &format!(r#"{{"yes":false,"at":"{}"}}"#, at(5)))), "already_voted");
    assert_eq!(vote(&m1, "p1", &yes(5)).status, 200);

    // Read by the owner, read-only keys and members (who see whether they voted).
    let listed = call(addr, "GET", "/v1/proposals", &m0, "").json();
    assert_eq!(listed["vote"]["days"], 7);
    assert_eq!(listed["vote"]["weight"], "member");
    assert_eq!((&listed["proposals"][0]["yes"], &listed["proposals"][0]["voted"]), (&2.into(), &true.into()));
    assert_eq!(call(addr, "GET", "/v1/proposals/p1", &m9, "").json()["voted"], false);
    assert!(call(addr, "GET", "/v1/proposals/p1", &key, "").json().get("voted").is_none());
    assert_eq!(call(addr, "GET", "/v1/proposals/nope", &key, "").status, 404);

    // The tally: not before the vote closes, by the owner only, once.
    let tally = |key: &str, day: u32| {
        call(addr, "POST", "/v1/proposals/p1/tally", key, &format!(r#"{{"at":"{}"}}"#, at(day)))
    };
    assert_eq!(refused(&tally(&key, 9)), "vote_open");
    assert_eq!(tally(&m0, 10).status, 403);
    let counted = tally(&key, 10);
    assert_eq!(counted.status, 200, "{}", counted.body);
    // Three members with settled spend could vote; two did, both yes: quorum, and passed; a
    // raise is in force at the tally.
    let outcome = &counted.json()["proposal"]["outcome"];
    assert_eq!(
        (&outcome["eligible"], &outcome["quorum"], &outcome["passed"], &outcome["effective_at"]),
        (&3.into(), &true.into(), &true.into(), &"2026-01-10T01:00:00Z".into()),
        "{outcome}"
    );
    assert_eq!(refused(&tally(&key, 11)), "already_tallied");
    assert_eq!(refused(&vote(&m9, "p1", &yes(11))), "vote_closed");
    // The amendment is in force: m9's order funds 40% of 100.00 into the pool.
    let before = pool(addr, &key).as_str().unwrap().to_owned();
    let order = format!(r#"{{"order":"o9","member":"m9","amount":"100.00","at":"{}"}}"#, at(12));
    assert_eq!(call(addr, "POST", "/v1/orders", &key, &order).status, 200);
    let fen = |s: &str| s.replace('.', "").parse::<i64>().unwrap();
    assert_eq!(fen(pool(addr, &key).as_str().unwrap()) - fen(&before), 4000);
    // The state document lists it, and the log holds every step for a recount.
    let state = call(addr, "GET", "/v1/state", &key, "").json();
    assert_eq!(state["proposals"][0]["outcome"]["passed"], true);
    let log = call(addr, "GET", "/v1/audit", &key, "").body;
    for (kind, count) in [("propose", 1), ("vote", 2), ("tally", 1)] {
        assert_eq!(log.matches(&format!("\"type\":\"{kind}\"")).count(), count, "{kind}: {log}");
    }
}
