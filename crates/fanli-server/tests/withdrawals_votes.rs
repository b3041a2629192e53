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

/// A console session for `key`: its cookie.
fn session(addr: impl Target, key: &str) -> String {
    let login = request(addr, "GET", "/console/login", None, "", "");
    let cookie = |a: &Answer| a.header("set-cookie").unwrap().split(';').next().unwrap().to_owned();
    let form = format!("Content-Type: application/x-www-form-urlencoded\r\nCookie: {}\r\n", cookie(&login));
    let body = format!("login={}&key={key}", field(&login, "login"));
    let entered = request(addr, "POST", "/console/login", None, &form, &body);
    assert_eq!(entered.status, 303, "{}", entered.body);
    cookie(&entered)
}

/// The value of the hidden field `name` of the first form on the page that has one.
fn field(page: &Answer, name: &str) -> String {
    let marker = format!("name=\"{name}\" value=\"");
    let at =
        page.body.find(&marker).unwrap_or_else(|| panic!("no field {name}: {}", page.body)) + marker.len();
    page.body[at..].split('"').next().unwrap().to_owned()
}

fn get_page(addr: impl Target, path: &str, cookie: &str) -> Answer {
    request(addr, "GET", path, None, &format!("Cookie: {cookie}\r\n"), "")
}

fn post_form(addr: impl Target, path: &str, cookie: &str, form: &str) -> Answer {
    let extra = format!("Cookie: {cookie}\r\nContent-Type: application/x-www-form-urlencoded\r\n");
    request(addr, "POST", path, None, &extra, form)
}

/// The text of the element that opens with `open` (up to its first `<`).
fn text_after<'a>(body: &'a str, open: &str) -> &'a str {
    let at = body.find(open).unwrap_or_else(|| panic!("no {open}: {body}")) + open.len();
    body[at..].split('<').next().unwrap()
}

#[test]
fn the_console_lists_the_withdrawals_waiting_and_its_forms_approve_them() {
    let dir = data_dir("wv-console-withdrawals");
    let addr = &local(&dir);
    let key = tenant(addr);
    let held = call(addr, "POST", "/v1/withdrawals", &key, &withdraw("300.00", "09:00"));
    assert_eq!(held.json()["withdrawal"]["status"], "waiting");
    let cookie = session(addr, &key);
    let page = get_page(addr, "/console/withdrawals", &cookie);
    assert_eq!(page.status, 200);
    assert!(page.body.contains("href=\"/console/withdrawals\""), "linked in the nav");
    let row = &page.body[page.body.find("data-member=\"m0\"").expect("m0 waits")..];
    assert_eq!(text_after(row, "class=\"n amount\">"), "300.00");
    assert_eq!(text_after(row, "class=\"n fee\">"), "15.00");
    assert_eq!(text_after(row, "class=\"n net\">"), "285.00");
    assert_eq!(text_after(row, "class=\"at\">"), "2026-01-02 09:00 (+08:00)", "the plan's local time");
    // A form without the session's token is refused and changes nothing.
    let forged = post_form(addr, "/console/withdrawals", &cookie, "csrf=nope&member=m0&decision=approve");
    assert_eq!(forged.status, 403);
    assert_eq!(figure(addr, &key, "m0", "withdrawing"), "300.00");
    // Approved from the page: paid less its fee, the fee in the pool.
    let form = format!("csrf={}&member=m0&decision=approve", field(&page, "csrf"));
    let done = post_form(addr, "/console/withdrawals", &cookie, &form);
    assert_eq!((done.status, done.header("location")), (303, Some("/console/withdrawals?done=m0")));
    assert_eq!(figure(addr, &key, "m0", "withdrawing"), "0.00");
    assert_eq!(figure(addr, &key, "m0", "wallet"), "397.16");
    assert_eq!(pool(addr, &key), "1317.84");
    let after = get_page(addr, "/console/withdrawals?done=m0", &cookie);
    assert!(after.body.contains("id=\"empty\"") && !after.body.contains("data-member=\"m0\""));
    // Again, with nothing waiting: the refusal's page.
    assert_eq!(post_form(addr, "/console/withdrawals", &cookie, &form).status, 422);
}

#[test]
fn the_console_opens_and_tallies_votes_and_members_vote_on_their_page() {
    let dir = data_dir("wv-pages-votes");
    let addr = &local(&dir);
    let key = tenant(addr);
    // p1, opened in January, closed long ago; m0 and m1 voted yes.
    let body = serde_json::json!({"proposal": "p1", "plan": raised(), "at": "2026-01-03T09:00:00+08:00"});
    assert_eq!(call(addr, "POST", "/v1/proposals", &key, &body.to_string()).status, 200);
    let (m0, m9) = (token(addr, &key, "m0"), token(addr, &key, "m9"));
    for member in ["m0", "m1"] {
        let t = token(addr, &key, member);
        let vote = call(
            addr,
            "POST",
            "/v1/proposals/p1/votes",
            &t,
            r#"{"yes":true,"at":"2026-01-04T09:00:00+08:00"}"#,
        );
        assert_eq!(vote.status, 200, "{}", vote.body);
    }
    let cookie = session(addr, &key);
    let page = get_page(addr, "/console/proposals", &cookie);
    assert_eq!(page.status, 200);
    assert!(page.body.contains("href=\"/console/proposals\""), "linked in the nav");
    let row = &page.body[page.body.find("data-proposal=\"p1\"").expect("p1 listed")..];
    assert_eq!(text_after(row, "class=\"n yes\">"), "2");
    assert_eq!(text_after(row, "class=\"n no\">"), "0");
    assert_eq!(text_after(row, "class=\"closes\">"), "2026-01-10 09:00 (+08:00)");
    assert!(row.contains("class=\"tally\""), "closed: a tally button");
    // Tallied from the page (stamped now): passed.
    let csrf = field(&page, "csrf");
    let done = post_form(addr, "/console/proposals/tally", &cookie, &format!("csrf={csrf}&proposal=p1"));
    assert_eq!(done.status, 303, "{}", done.body);
    let p1 = call(addr, "GET", "/v1/proposals/p1", &key, "").json();
    assert_eq!(p1["outcome"]["passed"], true, "{p1}");
    let page = get_page(addr, "/console/proposals", &cookie);
    assert!(page.body.contains("<span class=\"ok\">通过</span>") && !page.body.contains("class=\"tally\""));

    // A new vote opened from the page: a plan fanli check refuses is not put to the vote.
    let encode = |s: &str| {
        s.bytes()
            .map(|b| if b.is_ascii_alphanumeric() { (b as char).to_string() } else { format!("%{b:02X}") })
            .collect::<String>()
    };
    let noncompliant =
        raised().replace("settle_after_days = 0", "settle_after_days = 0\nmargin_rate = \"0.10\"");
    let form = format!("csrf={csrf}&proposal=p2&plan={}", encode(&noncompliant));
    let refused_page = post_form(addr, "/console/proposals", &cookie, &form);
    assert_eq!(refused_page.status, 422);
    assert!(refused_page.body.contains("margin_rate"), "{}", refused_page.body);
    let form = format!("csrf={csrf}&proposal=p2&plan={}", encode(&PLAN.replace("0.30", "0.35")));
    let opened = post_form(addr, "/console/proposals", &cookie, &form);
    assert_eq!((opened.status, opened.header("location")), (303, Some("/console/proposals?done=p2")));
    let page = get_page(addr, "/console/proposals", &cookie);
    assert!(page.body[page.body.find("data-proposal=\"p2\"").unwrap()..].contains("<span>投票中</span>"));

    // The member page: p1's outcome, p2 open with a yes/no form.
    let member_page = request(addr, "GET", &format!("/m?t={m0}"), None, "", "");
    assert_eq!(member_page.status, 200);
    let p2 = &member_page.body[member_page.body.find("data-proposal=\"p2\"").expect("p2 shown")..];
    assert!(p2.contains("action=\"/m/vote\"") && p2.contains("赞成") && p2.contains("反对"));
    let p1 = &member_page.body[member_page.body.find("data-proposal=\"p1\"").unwrap()..];
    assert!(p1.contains("已通过"), "{p1}");
    // m9 has no settled spend: no form, and a note why.
    let m9_page = request(addr, "GET", &format!("/m?t={m9}"), None, "", "");
    assert!(
        !m9_page.body.contains("action=\"/m/vote\"") && m9_page.body.contains("有已结算消费的会员才能投票")
    );
    // m0 votes no from the page: back to the page, which says so; the API counts it.
    let form = "Content-Type: application/x-www-form-urlencoded\r\n";
    let voted = request(addr, "POST", "/m/vote", None, form, &format!("t={m0}&proposal=p2&decision=no"));
    assert_eq!(voted.status, 303, "{}", voted.body);
    assert_eq!(voted.header("location"), Some(format!("/m?t={m0}#proposals").as_str()));
    let p2 = call(addr, "GET", "/v1/proposals/p2", &m0, "").json();
    assert_eq!((&p2["no"], &p2["voted"]), (&1.into(), &true.into()));
    let member_page = request(addr, "GET", &format!("/m?t={m0}"), None, "", "");
    let p2 = &member_page.body[member_page.body.find("data-proposal=\"p2\"").unwrap()..];
    let p2 = &p2[..p2.find("</section>").unwrap()];
    assert!(p2.contains("已投票") && !p2.contains("action="), "{p2}");
    // Twice, with an unknown token, or with an operator's key: refused pages.
    let again = request(addr, "POST", "/m/vote", None, form, &format!("t={m0}&proposal=p2&decision=yes"));
    assert!(again.status == 422 && again.body.contains("你已经投过票了"));
    assert_eq!(request(addr, "POST", "/m/vote", None, form, "t=nope&proposal=p2&decision=yes").status, 401);
    assert_eq!(
        request(addr, "POST", "/m/vote", None, form, &format!("t={key}&proposal=p2&decision=yes")).status,
        403
    );
}

#[test]
fn the_member_page_shows_a_withdrawal_waiting_for_review() {
    let dir = data_dir("wv-member-withdrawal");
    let addr = &local(&dir);
    let key = tenant(addr);
    let m0 = token(addr, &key, "m0");
    let page = request(addr, "GET", &format!("/m?t={m0}"), None, "", "");
    assert!(!page.body.contains("id=\"withdrawing\""), "nothing waits");
    call(addr, "POST", "/v1/withdrawals", &key, &withdraw("300.00", "09:00"));
    let page = request(addr, "GET", &format!("/m?t={m0}"), None, "", "");
    assert_eq!(text_after(&page.body, "id=\"withdrawing\">"), "¥300.00");
    assert!(page.body.contains("提现审核中"));
    // The history names the hold in Chinese: the wallet's 300.00 out to the review.
    assert!(page.body.contains("提现冻结待审"), "{}", page.body);
    assert_eq!(text_after(&page.body, "id=\"wallet\">"), "¥397.16", "held out of the wallet");
}
