//! The operator console: what is served, through the router in-process (`browser.rs` drives a
//! real browser over a socket).

mod common;

use common::{Answer, Target, data_dir, local, request};

const PLAN: &str = include_str!("../../fanli-cli/tests/cases/seed_refer.toml");

/// One request with `Host: test` and any `extra` header lines.
fn call(addr: impl Target, method: &str, path: &str, key: Option<&str>, extra: &str, body: &str) -> Answer {
    request(addr, method, path, key, extra, body)
}

impl Answer {
    fn cookie(&self) -> String {
        let set = self.header("set-cookie").expect("a cookie");
        set.split(';').next().unwrap().to_owned()
    }

    /// The session's CSRF token, from a form on the page.
    fn csrf(&self) -> String {
        self.field("csrf")
    }

    /// The value of the hidden field `name` of a form on the page (a 64-digit token).
    fn field(&self, name: &str) -> String {
        let marker = format!("name=\"{name}\" value=\"");
        let at = self.body.find(&marker).unwrap_or_else(|| panic!("no field {name}")) + marker.len();
        self.body[at..at + 64].to_owned()
    }
}

/// A form post with a session cookie.
fn post_form(addr: impl Target, path: &str, cookie: &str, form: &str) -> Answer {
    let extra = format!("Cookie: {cookie}\r\nContent-Type: application/x-www-form-urlencoded\r\n");
    call(addr, "POST", path, None, &extra, form)
}

fn get_page(addr: impl Target, path: &str, cookie: &str) -> Answer {
    call(addr, "GET", path, None, &format!("Cookie: {cookie}\r\n"), "")
}

#[test]
fn the_console_opens_with_a_key_shows_the_apis_numbers_and_its_forms_need_the_session_token() {
    let dir = data_dir("web-console");
    let addr = &local(&dir);
    let key =
        call(addr, "POST", "/v1/tenants", Some("master-secret"), "", r#"{"id":"shop"}"#).json()["owner_key"]
            .as_str()
            .unwrap()
            .to_owned();
    assert_eq!(call(addr, "PUT", "/v1/plan", Some(&key), "", PLAN).status, 200);
    let events = r#"{"at":"2026-01-01T09:00:00+08:00","type":"join","member":"A","phone":"13800000001"}
{"at":"2026-01-01T09:00:00+08:00","type":"order","order":"a","member":"A","amount":"1000.00"}
{"at":"2026-01-01T09:01:00+08:00","type":"join","member":"b0","referrer":"A"}
{"at":"2026-01-01T09:01:00+08:00","type":"order","order":"b0","member":"b0","amount":"1000.00"}
{"at":"2026-01-02T00:00:00+08:00","type":"close_day"}
"#;
    assert_eq!(call(addr, "POST", "/v1/events", Some(&key), "", events).status, 200);

    // No session: to the login page; a wrong key or a member token does not open one.
    let answer = call(addr, "GET", "/console", None, "", "");
    assert_eq!((answer.status, answer.header("location")), (303, Some("/console/login")));
    let login = call(addr, "GET", "/console/login", None, "", "");
    assert!(login.body.contains("id=\"login\"") && !login.body.contains("<script"));
    // The login form's token: in a cookie and in the form, which must match.
    let (login_cookie, login_token) = (login.cookie(), login.field("login"));
    let form = format!("Content-Type: application/x-www-form-urlencoded\r\nCookie: {login_cookie}\r\n");
    let log_in = |key: &str| {
        call(addr, "POST", "/console/login", None, &form, &format!("login={login_token}&key={key}"))
    };
    let bare = "Content-Type: application/x-www-form-urlencoded\r\n";
    let other_site = call(addr, "POST", "/console/login", None, bare, &format!("key={key}"));
    assert!(other_site.status == 401 && other_site.body.contains("登录表单已过期"));
    assert_eq!(log_in("nope").status, 401);
    let token = call(addr, "POST", "/v1/members/A/token", Some(&key), "", "").json()["token"]
        .as_str()
        .unwrap()
        .to_owned();
    let refused = log_in(&token);
    assert!(refused.status == 401 && refused.body.contains("会员令牌不能进入控制台"));
    let entered = log_in(&key);
    assert_eq!((entered.status, entered.header("location")), (303, Some("/console")));
    let set = entered.header("set-cookie").unwrap();
    assert!(
        set.contains("HttpOnly") && set.contains("SameSite=Strict") && set.contains("Path=/console"),
        "{set}"
    );
    let cookie = entered.cookie();

    // The overview: the API's numbers, no script, a strict policy.
    let overview = get_page(addr, "/console", &cookie);
    assert_eq!(overview.status, 200);
    let csp = overview.header("content-security-policy").unwrap();
    assert!(csp.contains("default-src 'none'") && !csp.contains("script-src"), "{csp}");
    assert!(!overview.body.contains("<script"));
    let mechanisms = call(addr, "GET", "/v1/mechanisms", Some(&key), "", "").json();
    let row = &overview.body[overview.body.find("data-mechanism=\"r3\"").expect("the r3 row")..];
    for field in ["pool", "paid"] {
        let value = mechanisms["r3"][field].as_str().unwrap();
        assert!(row.contains(&format!("class=\"n {field}\">{value}<")), "{field} {value}: {row}");
    }
    assert_eq!(mechanisms["r3"]["pool"], "700.00", "40% of two orders, less the 100.00 step");
    assert!(overview.body.contains("<svg"), "the charts over the daily report");

    // Members: found by phone; balances, history with the rule, the referral tree.
    let found = get_page(addr, "/console/members?q=13800000001", &cookie);
    assert!(found.body.contains("href=\"/console/members/A\""), "{}", found.body);
    let member = get_page(addr, "/console/members/A", &cookie);
    assert!(member.body.contains("class=\"n wallet\">100.00<"), "B0's order pays A the first step");
    assert!(
        member.body.contains("data-rule=\"referral\">推荐奖励<") && member.body.contains(">+100.00<"),
        "the posting and its rule, by its Chinese name: {}",
        member.body
    );
    // The order that paid it, by its Chinese name (the id beside it), at 09:01 in the plan's
    // +08:00: every time in the plan's timezone.
    assert!(
        member.body.contains("data-type=\"order\">订单 <span class=\"note id\">order</span><br><span class=\"note at\">2026-01-01 09:01 (+08:00)</span>"),
        "{}",
        member.body
    );
    assert!(member.body.contains("href=\"/console/members/b0\""), "b0 in A's tree");

    // Audit: the chain's head is the hash of the log's last line.
    let feed = call(addr, "GET", "/v1/audit", Some(&key), "", "").body;
    let head = fanli_format::chain::sha256_hex(feed.lines().last().unwrap().as_bytes());
    let audit = get_page(addr, "/console/audit", &cookie).body;
    assert!(audit.contains(&head));
    // The signed tree head the API answers, shown as it is: size, root and the public key.
    let signed = call(addr, "GET", "/v1/audit/head", Some(&key), "", "").body;
    let signed =
        fanli_format::transparency::SignedHead::from_value(&serde_json::from_str(&signed).unwrap()).unwrap();
    assert_eq!(signed.head.size as usize, feed.lines().count());
    let root = fanli_format::merkle::to_hex(&signed.head.root);
    let public = fanli_format::merkle::to_hex(&signed.public_key);
    assert!(audit.contains(&format!("<td class=\"size\">{}</td>", signed.head.size)), "{audit}");
    assert!(audit.contains(&format!("<code class=\"root\">{root}</code>")), "{audit}");
    assert!(audit.contains(&format!("<code class=\"public-key\">{public}</code>")), "{audit}");
    // The day closed at midnight in +08:00, 2026-01-01T16:00:00Z: shown in the plan's time.
    assert!(audit.contains("<td>2026-01-02 00:00 (+08:00)</td>"), "{audit}");
    assert!(!audit.contains("2026-01-01T16:00:00Z"), "no UTC time on the page");
    assert!(audit.contains("data-type=\"close_day\">日结 <span class=\"note\">close_day</span>"), "{audit}");

    // Forms need the session's token.
    assert_eq!(post_form(addr, "/console/plan", &cookie, "action=check&plan=x").status, 403);
    let csrf = overview.csrf();
    let plan: String = PLAN.bytes().map(|b| format!("%{b:02X}")).collect();
    let checked = post_form(addr, "/console/plan", &cookie, &format!("csrf={csrf}&action=check&plan={plan}"));
    assert!(checked.status == 200 && checked.body.contains("可以启用。"), "{}", checked.body);
    let simulated =
        post_form(addr, "/console/plan/simulate", &cookie, &format!("csrf={csrf}&days=20&seed=1"));
    assert!(simulated.body.contains("id=\"simulation\"") && simulated.body.contains("<svg"));
    // The simulator's outcome in Chinese: its summary's figures, each with its name.
    let summary = {
        let plan = fanli_format::parse_plan(PLAN).unwrap();
        let findings = fanli_engine::compliance::check(&plan);
        let mut scenario = fanli_sim::scenario::Scenario::default_scenario();
        (scenario.days, scenario.seed) = (20, 1);
        let sim = fanli_sim::simulate(plan, &scenario, &mut std::io::sink(), |_, _| {}).unwrap();
        let (fragment, summary) = fanli_sim::report::report_fragment(&sim, &findings);
        // The console shows the simulator's report as report.html holds it: the same template.
        assert!(simulated.body.contains(&fragment.into_string()), "the simulator's report");
        summary
    };
    assert!(
        simulated.body.contains("起无新会员</text>") || !simulated.body.contains("class=\"mark\""),
        "the report in Chinese, as the page"
    );
    let line = format!(
        "共 {} 名会员，其中 {} 名有消费；回本 {} 名",
        summary["members"], summary["members_with_spend"], summary["made_whole"]
    );
    assert!(summary["members"].as_u64().unwrap() > 0, "{summary}");
    let outcome = &simulated.body[simulated.body.find("id=\"sim-outcome\"").expect("the outcome")..];
    assert!(outcome.contains(&line), "{line}: {outcome}");
    assert!(outcome.contains(summary["verdict"]["zh"].as_str().unwrap()), "the verdict in Chinese");
    // What is unpaid, member by member (the misleading "仍拖欠 0 名会员共 0.00 元" is gone).
    let unpaid = format!(
        "仍有 {} 名会员共 {} 元的承诺未兑付：资金池拖欠 {} 元",
        summary["risk"]["unpaid_members"],
        summary["risk"]["unpaid"].as_str().unwrap(),
        summary["owed"].as_str().unwrap()
    );
    assert!(outcome.contains(&unpaid), "{unpaid}: {outcome}");
    // The risk grade, by its Chinese name, with its sentence (docs/risk.md): the simulator's.
    let risk = &summary["risk"];
    let grade = fanli_sim::risk::Grade::from_code(risk["grade"].as_str().unwrap()).unwrap();
    assert!(outcome.contains(&format!("data-grade=\"{}\"", grade.code())), "{outcome}");
    assert!(
        outcome.contains(&format!(
            "<b>风险等级：{}</b> {}",
            grade.zh(),
            risk["sentence"]["zh"].as_str().unwrap()
        )),
        "{outcome}"
    );
    assert!(outcome.contains("等级标准见 docs/risk.md"), "{outcome}");
    // A read-only key reads but does not put.
    let reader = call(addr, "POST", "/v1/keys", Some(&key), "", r#"{"role":"read_only"}"#).json()["key"]
        .as_str()
        .unwrap()
        .to_owned();
    let reader_cookie = log_in(&reader).cookie();
    let plan_page = get_page(addr, "/console/plan", &reader_cookie);
    assert!(
        plan_page.body.contains("只有所有者密钥可以启用方案。")
            && !plan_page.body.contains("id=\"put-plan\"")
    );
    // A store operator's console: the overview and members, not the whole tenant's plan, review
    // queue or audit (as in the API).
    assert_eq!(call(addr, "POST", "/v1/stores", Some(&key), "", r#"{"store":"s1"}"#).status, 200);
    let operator = call(
        addr,
        "POST",
        "/v1/keys",
        Some(&key),
        "",
        r#"{"role":"store_operator","store":"s1"}"#,
    )
    .json()["key"]
        .as_str()
        .unwrap()
        .to_owned();
    let operator_cookie = log_in(&operator).cookie();
    let overview = get_page(addr, "/console", &operator_cookie);
    assert!(overview.status == 200 && !overview.body.contains("href=\"/console/audit\""));
    for path in ["/console/audit", "/console/reviews", "/console/plan"] {
        assert_eq!(get_page(addr, path, &operator_cookie).status, 403, "{path}");
    }
    assert_eq!(get_page(addr, "/console/members/A", &operator_cookie).status, 200);
    // Logging out ends the session.
    let out = post_form(addr, "/console/logout", &cookie, &format!("csrf={csrf}"));
    assert_eq!(out.header("location"), Some("/console/login"));
    assert_eq!(get_page(addr, "/console", &cookie).status, 303);
}

/// A console session opened with `key`: its cookie.
fn session(addr: impl Target, key: &str) -> String {
    let login = call(addr, "GET", "/console/login", None, "", "");
    let form = format!("Content-Type: application/x-www-form-urlencoded\r\nCookie: {}\r\n", login.cookie());
    let entered = call(
        addr,
        "POST",
        "/console/login",
        None,
        &form,
        &format!("login={}&key={key}", login.field("login")),
    );
    assert_eq!(entered.status, 303, "{}", entered.body);
    entered.cookie()
}

/// The audit page says who did what: each line of the log with the key (id and role) that wrote
/// it, or the server for its own; the plan versions with theirs; the keys, made and revoked by
/// which key. A session opened with a key that is revoked ends.
#[test]
fn the_audit_page_names_the_key_of_every_write_and_a_revoked_keys_session_ends() {
    let dir = data_dir("web-who");
    let addr = &local(&dir);
    let made = call(addr, "POST", "/v1/tenants", Some("master-secret"), "", r#"{"id":"shop"}"#).json();
    let (owner, owner_id) = (made["owner_key"].as_str().unwrap(), made["owner_key_id"].as_str().unwrap());
    assert_eq!(call(addr, "PUT", "/v1/plan", Some(owner), "", PLAN).status, 200);
    let events = r#"{"at":"2026-01-01T09:00:00+08:00","type":"join","member":"A"}
{"at":"2026-01-01T09:00:00+08:00","type":"store","store":"s1"}
"#;
    assert_eq!(call(addr, "POST", "/v1/events", Some(owner), "", events).status, 200);
    let key =
        call(addr, "POST", "/v1/keys", Some(owner), "", r#"{"role":"store_operator","store":"s1"}"#).json();
    let (operator, operator_id) = (key["key"].as_str().unwrap(), key["id"].as_str().unwrap());
    let order = r#"{"order":"o1","member":"A","amount":"10.00","store":"s1"}"#;
    assert_eq!(call(addr, "POST", "/v1/orders", Some(operator), "", order).status, 200);
    let reader = call(addr, "POST", "/v1/keys", Some(owner), "", r#"{"role":"read_only"}"#).json();
    let (reader, reader_id) = (reader["key"].as_str().unwrap(), reader["id"].as_str().unwrap());

    assert_eq!(call(addr, "POST", "/v1/brands", Some(owner), "", r#"{"id":"b1"}"#).status, 201);

    let cookie = session(addr, owner);
    let audit = get_page(addr, "/console/audit", &cookie);
    assert_eq!(audit.status, 200);
    let row = |line: u64| {
        let at =
            audit.body.find(&format!("<tr data-line=\"{line}\">")).unwrap_or_else(|| panic!("line {line}"));
        &audit.body[at..at + audit.body[at..].find("</tr>").unwrap()]
    };
    assert!(row(3).contains("data-type=\"order\">订单 ") && row(3).contains(operator_id), "{}", row(3));
    assert!(row(3).contains("store_operator s1"), "{}", row(3));
    for line in [1, 2] {
        assert!(row(line).contains(owner_id) && row(line).contains(">owner<"), "{}", row(line));
    }
    assert!(
        audit.body.contains(&format!("<td><code>{owner_id}</code></td>")),
        "the plan's version names its key"
    );
    assert!(
        audit.body.contains(&format!("<td>品牌 b1</td><td><code>{owner_id}</code></td>")),
        "the brand names its key"
    );
    let keys = &audit.body[audit.body.find("id=\"keys\"").unwrap()..];
    assert!(keys.contains(&format!("data-key=\"{operator_id}\"")) && keys.contains("由 master"), "{keys}");

    // Revoked: its row says so and by whom; the session it opened ends, others go on.
    let reading = session(addr, reader);
    assert_eq!(get_page(addr, "/console/audit", &reading).status, 200);
    assert_eq!(call(addr, "DELETE", &format!("/v1/keys/{reader_id}"), Some(owner), "", "").status, 200);
    let gone = get_page(addr, "/console/audit", &reading);
    assert_eq!((gone.status, gone.header("location")), (303, Some("/console/login")));
    let audit = get_page(addr, "/console/audit", &cookie);
    let revoked = &audit.body[audit.body.find(&format!("data-key=\"{reader_id}\"")).unwrap()..];
    let revoked = &revoked[..revoked.find("</tr>").unwrap()];
    assert!(
        revoked.contains("class=\"revoked\"") && revoked.contains(&format!("由 {owner_id}")),
        "{revoked}"
    );
}

/// The members page lists every member 50 a page, newest first, sorted by join, id, spend or
/// wallet either way, and finds one by id or phone; in Chinese, or English by choice.
#[test]
fn the_members_page_lists_members_a_page_at_a_time_sorted_and_searched() {
    let dir = data_dir("web-members");
    let addr = &local(&dir);
    let key =
        call(addr, "POST", "/v1/tenants", Some("master-secret"), "", r#"{"id":"shop"}"#).json()["owner_key"]
            .as_str()
            .unwrap()
            .to_owned();
    assert_eq!(call(addr, "PUT", "/v1/plan", Some(&key), "", PLAN).status, 200);
    // 120 members: the i-th to join is u{49i mod 120} and spends (37i mod 120) + 1 yuan, so
    // that join order, id order and spend order all differ.
    let name = |i: u32| format!("u{:03}", i * 49 % 120);
    let mut events = String::new();
    for i in 0..120 {
        let (member, amount) = (name(i), i * 37 % 120 + 1);
        events +=
            &format!("{{\"at\":\"2026-01-01T09:00:00+08:00\",\"type\":\"join\",\"member\":\"{member}\"}}\n");
        events += &format!(
            "{{\"at\":\"2026-01-01T09:00:00+08:00\",\"type\":\"order\",\"order\":\"o{i}\",\"member\":\"{member}\",\"amount\":\"{amount}.00\"}}\n"
        );
    }
    assert_eq!(call(addr, "POST", "/v1/events", Some(&key), "", &events).status, 200);
    let cookie = session(addr, &key);
    // The members listed, in order, and the page's range.
    let listed = |path: &str| {
        let page = get_page(addr, path, &cookie);
        assert_eq!(page.status, 200, "{path}");
        let rows: Vec<String> = page
            .body
            .split("<tr data-member=\"")
            .skip(1)
            .map(|r| r[..r.find('"').unwrap()].to_owned())
            .collect();
        (rows, page.body)
    };

    // By default the newest first: the 120th to join is u071 (119 × 49 mod 120 = 71).
    let (rows, body) = listed("/console/members");
    assert_eq!(rows.len(), 50);
    assert_eq!(rows[..3], [name(119), name(118), name(117)]);
    assert_eq!(rows[0], "u071");
    assert!(body.contains("第 1–50 名，共 120 名"), "{body}");
    assert!(body.contains("<td class=\"n joined\">120</td>"), "{body}");
    assert!(
        body.contains("id=\"next\" href=\"/console/members?sort=joined&amp;order=desc&amp;page=2\""),
        "{body}"
    );
    assert!(!body.contains("id=\"prev\""));
    // The third page: the 20 who joined first, the first of all last.
    let (rows, body) = listed("/console/members?sort=joined&order=desc&page=3");
    assert_eq!((rows.len(), rows.last().map(String::as_str)), (20, Some("u000")));
    assert!(
        body.contains("第 101–120 名，共 120 名")
            && body.contains("id=\"prev\"")
            && !body.contains("id=\"next\"")
    );

    // By id: u000, u001, …; the other way round, u119 first.
    let (rows, _) = listed("/console/members?sort=id&order=asc");
    assert_eq!(rows[..3], ["u000", "u001", "u002"]);
    let (rows, _) = listed("/console/members?sort=id&order=desc&page=3");
    assert_eq!((rows.len(), rows.last().map(String::as_str)), (20, Some("u000")));

    // By spend, most first: the 108th to join spent 107 × 37 mod 120 + 1 = 120.00 (u083, as
    // 107 × 49 mod 120 = 83), then the 95th 119.00 (u046, as 94 × 49 mod 120 = 46).
    let (rows, body) = listed("/console/members?sort=spent");
    assert_eq!(rows[..2], ["u083", "u046"]);
    let first = &body[body.find("<tr data-member=\"u083\"").unwrap()..];
    assert!(first[..first.find("</tr>").unwrap()].contains("<td class=\"n spent\">120.00</td>"), "{first}");
    let (rows, _) = listed("/console/members?sort=spent&order=asc");
    // 1.00 (the first to join), then 2.00: the 14th (13 × 37 mod 120 = 1), u037 (13 × 49 mod 120).
    assert_eq!(rows[..2], ["u000", "u037"]);
    // By wallet: nobody was referred, every wallet is 0.00; all 120 are there.
    let pages: usize =
        (1..=3).map(|p| listed(&format!("/console/members?sort=wallet&page={p}")).0.len()).sum();
    assert_eq!(pages, 120);

    // Search: one member by id, with the way back to the list; nothing for an unknown id.
    let (_, found) = listed("/console/members?q=u083");
    assert!(found.contains("id=\"found\"") && found.contains("href=\"/console/members/u083\""), "{found}");
    assert!(!found.contains("id=\"member-list\""));
    let (_, none) = listed("/console/members?q=nobody");
    assert!(none.contains("没有找到。"));

    // In English, chosen in the URL and kept in a cookie.
    let english = get_page(addr, "/console/members?lang=en", &cookie);
    assert!(english.body.contains("1–50 of 120") && english.body.contains("<html lang=\"en\">"));
    let kept = english.header("set-cookie").unwrap();
    assert!(kept.starts_with("fanli_lang=en;") && kept.contains("Path=/"), "{kept}");
    let again = get_page(addr, "/console/members", &format!("{cookie}; fanli_lang=en"));
    assert!(again.body.contains("1–50 of 120"));
}

/// The CSV downloads, from the console (with its session) and the API (with a key): UTF-8 with
/// a BOM, as attachments, with the rows the tenant holds. Two members: A spent 1000.00 and was
/// paid the first step (10%, 100.00) when b0, whom A referred, spent 1000.00; the pool holds
/// 40% of both orders less that step: 800.00 − 100.00 = 700.00.
#[test]
fn the_console_and_the_api_download_members_pools_and_reports_as_csv() {
    let dir = data_dir("web-exports");
    let addr = &local(&dir);
    let key =
        call(addr, "POST", "/v1/tenants", Some("master-secret"), "", r#"{"id":"shop"}"#).json()["owner_key"]
            .as_str()
            .unwrap()
            .to_owned();
    assert_eq!(call(addr, "PUT", "/v1/plan", Some(&key), "", PLAN).status, 200);
    let events = r#"{"at":"2026-01-01T09:00:00+08:00","type":"join","member":"A"}
{"at":"2026-01-01T09:00:00+08:00","type":"order","order":"a","member":"A","amount":"1000.00"}
{"at":"2026-01-01T09:01:00+08:00","type":"join","member":"b0","referrer":"A"}
{"at":"2026-01-01T09:01:00+08:00","type":"order","order":"b0","member":"b0","amount":"1000.00"}
{"at":"2026-01-02T00:00:00+08:00","type":"close_day"}
"#;
    assert_eq!(call(addr, "POST", "/v1/events", Some(&key), "", events).status, 200);
    let chain = call(addr, "GET", "/v1/reports", Some(&key), "", "").body;
    let chain = serde_json::from_str::<serde_json::Value>(chain.trim()).unwrap()["chain"]
        .as_str()
        .unwrap()
        .to_owned();
    let members = "\u{feff}member,referrer,wallet,credit,spent,refunded,received,owed,r3_received,r3_owed\n\
                   A,,100.00,0.00,1000.00,0.00,100.00,0.00,100.00,0.00\n\
                   b0,A,0.00,0.00,1000.00,0.00,0.00,0.00,0.00,0.00\n";
    let pools = "\u{feff}mechanism,kind,title_zh,pool,obligations,obligations_waiting,paid,price,retired\n\
                 r3,refer_refund,推荐返还,700.00,0.00,0,100.00,,false\n";
    let reports = format!(
        "\u{feff}at,mechanism,pool,obligations,paid,price,chain\n2026-01-02T00:00:00+08:00,r3,700.00,0.00,100.00,,{chain}\n"
    );
    let check = |answer: &Answer, name: &str, expected: &str| {
        assert_eq!(answer.status, 200, "{name}: {}", answer.body);
        assert!(answer.body.as_bytes().starts_with(b"\xEF\xBB\xBF"), "{name}: a BOM first");
        assert_eq!(answer.body, expected, "{name}");
        assert_eq!(answer.header("content-type"), Some("text/csv; charset=utf-8"));
        assert_eq!(
            answer.header("content-disposition"),
            Some(format!("attachment; filename=\"{name}\"").as_str())
        );
        assert_eq!(answer.header("x-fanli-next"), None);
    };

    // The console: a link on each page, the file with the session, the login page without.
    let cookie = session(addr, &key);
    let page = get_page(addr, "/console/members", &cookie);
    assert!(
        page.body.contains("href=\"/console/export/members.csv\" download>下载全部会员（CSV）</a>"),
        "{}",
        page.body
    );
    assert!(get_page(addr, "/console", &cookie).body.contains("href=\"/console/export/pools.csv\""));
    assert!(get_page(addr, "/console/audit", &cookie).body.contains("href=\"/console/export/reports.csv\""));
    for (name, expected) in
        [("members.csv", members), ("pools.csv", pools), ("reports.csv", reports.as_str())]
    {
        check(&get_page(addr, &format!("/console/export/{name}"), &cookie), name, expected);
        let without = call(addr, "GET", &format!("/console/export/{name}"), None, "", "");
        assert_eq!((without.status, without.header("location")), (303, Some("/console/login")), "{name}");
        // The API: the same bytes with a key; 401 without.
        check(&call(addr, "GET", &format!("/v1/export/{name}"), Some(&key), "", ""), name, expected);
        assert_eq!(call(addr, "GET", &format!("/v1/export/{name}"), None, "", "").status, 401, "{name}");
    }
    // A member's token sees only its member: no exports.
    let token = call(addr, "POST", "/v1/members/A/token", Some(&key), "", "").json()["token"]
        .as_str()
        .unwrap()
        .to_owned();
    assert_eq!(call(addr, "GET", "/v1/export/members.csv", Some(&token), "", "").status, 403);
    // Past the last member: a 400 naming the count.
    let past = call(addr, "GET", "/v1/export/members.csv?from=2", Some(&key), "", "");
    assert_eq!(past.status, 400);
    assert!(past.body.contains("the tenant has 2 members"), "{}", past.body);
}
