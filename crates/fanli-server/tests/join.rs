//! The join page (`/join?tenant=T&ref=MEMBER`), where the member page's referral link and QR
//! code lead, and the tenant's settings for it (`/v1/settings`): through the router in-process.

mod common;

use common::{Answer, Target, data_dir, local, request};

/// 推三返一 with a name for members, and anti-fraud that holds a second referral from one address.
const PLAN: &str = "name = \"推三返一 · 茶饮店\"\nsettle_after_days = 0\n\n[[mechanism]]\nid = \"r3\"\n\
                    kind = \"refer_refund\"\nname = \"推三返一\"\nfunding_rate = \"0.40\"\nqualify_min = \"1000.00\"\n\
                    referee_min = \"1000.00\"\nsteps = [\"10%\", \"20%\", \"70%\"]\nrepeat = true\n\n\
                    [antifraud]\nmax_per_ip = 1\n";

const FORM: &str = "content-type: application/x-www-form-urlencoded\r\n";

fn call(addr: impl Target, method: &str, path: &str, key: Option<&str>, body: &str) -> Answer {
    request(addr, method, path, key, "", body)
}

/// `POST /join?tenant=T` with `form`, from `address` (as a proxy in front says).
fn join(addr: impl Target, tenant: &str, form: &str, address: &str) -> Answer {
    let extra = format!("{FORM}x-forwarded-for: {address}\r\n");
    request(addr, "POST", &format!("/join?tenant={tenant}"), None, &extra, form)
}

/// The `<p id="error">` of a page.
fn error(page: &Answer) -> &str {
    let at = page.body.find("id=\"error\"").unwrap_or_else(|| panic!("no error shown: {}", page.body));
    let rest = &page.body[at..];
    &rest[..rest.find("</p>").unwrap()]
}

fn token_of(answer: &Answer) -> String {
    assert_eq!(answer.status, 303, "{}", answer.body);
    let to = answer.header("location").unwrap();
    to.strip_prefix("/m?t=").unwrap_or_else(|| panic!("to the member page: {to}")).to_owned()
}

#[test]
fn a_newcomer_joins_through_a_referral_link_and_lands_on_their_own_page() {
    let dir = data_dir("join-page");
    let addr = &local(&dir);
    let created = call(addr, "POST", "/v1/tenants", Some("master-secret"), r#"{"id":"shop"}"#);
    let key = created.json()["owner_key"].as_str().unwrap().to_owned();
    assert_eq!(call(addr, "PUT", "/v1/plan", Some(&key), PLAN).status, 200);
    for (path, body) in [
        ("/v1/members", r#"{"member":"A","ip":"192.0.2.1"}"#),
        ("/v1/orders", r#"{"order":"a1","member":"A","amount":"1000.00"}"#),
    ] {
        let answer = call(addr, "POST", path, Some(&key), body);
        assert_eq!(answer.status, 200, "{path}: {}", answer.body);
    }

    // The form, in Chinese, for this shop and referrer.
    let page = call(addr, "GET", "/join?tenant=shop&ref=A", None, "");
    assert_eq!(page.status, 200, "{}", page.body);
    assert!(page.body.contains("<html lang=\"zh-CN\"") && page.body.contains("加入会员"));
    assert!(page.header("content-security-policy").unwrap().contains("default-src 'none'"));
    assert!(!page.body.contains("<script"));
    assert!(page.body.contains("<b id=\"scheme\">推三返一 · 茶饮店</b>"), "{}", page.body);
    assert!(page.body.contains("推荐人 <b>A</b>"), "{}", page.body);
    assert!(page.body.contains("<form method=\"post\" action=\"/join?tenant=shop\""), "{}", page.body);
    assert!(page.body.contains("<input type=\"hidden\" name=\"ref\" value=\"A\">"), "{}", page.body);
    assert!(page.body.contains("name=\"viewport\" content=\"width=device-width, initial-scale=1\""));

    // b1 joins with a phone number: the join event is A's referral, and b1 lands on their page.
    let joined = join(addr, "shop", "tenant=shop&ref=A&member=b1&phone=138+0013+8000", "203.0.113.5");
    let b1 = token_of(&joined);
    assert_eq!(joined.header("referrer-policy"), Some("no-referrer"));
    let own = call(addr, "GET", &format!("/m?t={b1}"), None, "");
    assert_eq!(own.status, 200, "{}", own.body);
    assert!(own.body.contains("会员 <b>b1</b>") && own.body.contains("推荐人"), "{}", own.body);
    let audit = call(addr, "GET", "/v1/audit", Some(&key), "");
    let line = audit.body.lines().find(|l| l.contains("\"member\":\"b1\"")).unwrap();
    let event: serde_json::Value = serde_json::from_str(line).unwrap();
    assert_eq!(event["type"], "join");
    assert_eq!(event["referrer"], "A");
    assert_eq!(event["phone"], "13800138000");
    assert_eq!(event["ip"], "203.0.113.5");
    // The token sees b1 only.
    let me = call(addr, "GET", "/v1/me", Some(&b1), "");
    assert_eq!(me.status, 200, "{}", me.body);
    assert_eq!(call(addr, "GET", "/v1/members/A", Some(&b1), "").status, 403);

    // c1 joins from the same address: anti-fraud holds the referral (max_per_ip = 1).
    let c1 = token_of(&join(addr, "shop", "tenant=shop&ref=A&member=c1", "203.0.113.5"));
    let c1_page = call(addr, "GET", &format!("/m?t={c1}"), None, "");
    assert!(
        c1_page.body.contains("<dt>我的推荐状态</dt><dd style=\"margin:0\">待审核</dd>"),
        "{}",
        c1_page.body
    );
    for (path, body) in [
        ("/v1/orders", r#"{"order":"b1","member":"b1","amount":"1000.00"}"#),
        ("/v1/orders", r#"{"order":"c1","member":"c1","amount":"1000.00"}"#),
    ] {
        assert_eq!(call(addr, "POST", path, Some(&key), body).status, 200);
    }
    // A: one referral counted (10% of 1000 paid), one waiting for review.
    let made = call(addr, "POST", "/v1/members/A/token", Some(&key), "");
    let a = made.json()["token"].as_str().unwrap().to_owned();
    let page = call(addr, "GET", &format!("/m?t={a}"), None, "");
    assert!(page.body.contains("<dt>推荐待审核</dt><dd style=\"margin:0\">1</dd>"), "{}", page.body);
    let at = page.body.find("id=\"progress-r3\"").unwrap();
    let progress = &page.body[at..at + page.body[at..].find("</section>").unwrap()];
    assert!(progress.contains("推荐进度 · 推三返一") && progress.contains(">1/3</b>"), "{progress}");
    assert!(progress.contains("待审核 1"), "{progress}");
    assert!(page.body.contains("id=\"wallet\">¥100.00<"), "{}", page.body);
    let details = &page.body[page.body.find("id=\"mechanism-r3\"").unwrap()..];
    assert!(details.contains("<dt>已推荐</dt>"), "{details}");
    assert!(
        details.contains("<dd class=\"held\" style=\"margin:0;font-variant-numeric:tabular-nums\">1</dd>"),
        "{details}"
    );

    // Mistakes, said in Chinese, and the form kept.
    let taken = join(addr, "shop", "tenant=shop&ref=A&member=b1", "198.51.100.1");
    assert_eq!(taken.status, 422);
    assert!(error(&taken).contains("这个会员名已经有人用了"), "{}", taken.body);
    assert!(taken.body.contains("name=\"member\" value=\"b1\""));
    let bad = join(addr, "shop", "tenant=shop&ref=A&member=a%01b", "198.51.100.1");
    assert_eq!(bad.status, 422);
    assert!(error(&bad).contains("会员名不能为空白"), "{}", bad.body);
    let blank = join(addr, "shop", "tenant=shop&ref=A&member=+", "198.51.100.1");
    assert_eq!(blank.status, 422);
    assert!(error(&blank).contains("请填写会员名"), "{}", blank.body);
    let phone = join(addr, "shop", "tenant=shop&ref=A&member=d1&phone=12ab", "198.51.100.1");
    assert_eq!(phone.status, 422);
    assert!(error(&phone).contains("手机号格式不对"), "{}", phone.body);
    let stranger = join(addr, "shop", "tenant=shop&ref=zz&member=d1", "198.51.100.1");
    assert_eq!(stranger.status, 404);
    assert!(error(&stranger).contains("推荐人不是这家店的会员"), "{}", stranger.body);
    assert!(!stranger.body.contains("<form"), "no form for a wrong link");
    let nowhere = join(addr, "nope", "tenant=nope&ref=A&member=d1", "198.51.100.1");
    assert_eq!(nowhere.status, 404);
    assert!(error(&nowhere).contains("找不到这家店"), "{}", nowhere.body);
    let page = call(addr, "GET", "/join?tenant=shop&ref=zz", None, "");
    assert_eq!(page.status, 404);
    assert!(error(&page).contains("推荐人不是这家店的会员") && !page.body.contains("<form"));
    assert_eq!(call(addr, "GET", "/join", None, "").status, 400);
    // In English by choice.
    let english = join(addr, "shop", "tenant=shop&ref=A&member=b1&lang=en", "198.51.100.1");
    assert!(error(&english).contains("This member name is taken"), "{}", english.body);

    // Seven attempts from 198.51.100.1 so far: three more, then 429 until the window ends.
    for _ in 0..3 {
        assert_eq!(join(addr, "shop", "tenant=shop&ref=A&member=b1", "198.51.100.1").status, 422);
    }
    let limited = join(addr, "shop", "tenant=shop&ref=A&member=e1", "198.51.100.1");
    assert_eq!(limited.status, 429);
    assert!(error(&limited).contains("尝试次数太多：请 10 分钟后再试"), "{}", limited.body);
    let wait: u64 = limited.header("retry-after").unwrap().parse().unwrap();
    assert!((590..=600).contains(&wait), "{wait}");
    // Another address is not held back.
    token_of(&join(addr, "shop", "tenant=shop&ref=A&member=e1", "198.51.100.2"));
}

#[test]
fn a_tenant_sets_its_links_origin_and_can_close_the_join_page() {
    let dir = data_dir("join-settings");
    let addr = &local(&dir);
    let created = call(addr, "POST", "/v1/tenants", Some("master-secret"), r#"{"id":"shop"}"#);
    let key = created.json()["owner_key"].as_str().unwrap().to_owned();
    assert_eq!(call(addr, "PUT", "/v1/plan", Some(&key), PLAN).status, 200);
    assert_eq!(call(addr, "POST", "/v1/members", Some(&key), r#"{"member":"A"}"#).status, 200);
    let a = call(addr, "POST", "/v1/members/A/token", Some(&key), "").json()["token"]
        .as_str()
        .unwrap()
        .to_owned();

    // The defaults: the request's host, the page open.
    let settings = call(addr, "GET", "/v1/settings", Some(&key), "");
    assert_eq!(settings.status, 200, "{}", settings.body);
    assert_eq!(settings.json(), serde_json::json!({"public_origin": null, "public_join": true}));

    // The shop's own origin for its links and QR codes.
    let put =
        call(addr, "PUT", "/v1/settings", Some(&key), r#"{"public_origin":"https://Shop.Example.com/"}"#);
    assert_eq!(put.status, 200, "{}", put.body);
    assert_eq!(
        put.json(),
        serde_json::json!({"public_origin": "https://shop.example.com", "public_join": true})
    );
    let page = call(addr, "GET", &format!("/m?t={a}"), None, "");
    assert!(page.body.contains("id=\"share\" href=\"https://shop.example.com/join?tenant=shop&amp;ref=A\""));
    let png = call(addr, "GET", "/v1/me/qr.png", Some(&a), "");
    assert_eq!(png.header("x-fanli-referral"), Some("https://shop.example.com/join?tenant=shop&ref=A"));
    let svg = call(addr, "GET", "/v1/me/qr.svg", Some(&a), "");
    assert_eq!(svg.header("x-fanli-referral"), Some("https://shop.example.com/join?tenant=shop&ref=A"));

    // Refused settings change nothing.
    for (body, status) in [
        (r#"{"public_origin":"shop.example.com"}"#, 400),
        (r#"{"public_origin":"https://shop.example.com/join"}"#, 400),
        (r#"{"public_join":"no"}"#, 400),
        (r#"{"colour":"red"}"#, 400),
        ("not json", 400),
    ] {
        let answer = call(addr, "PUT", "/v1/settings", Some(&key), body);
        assert_eq!(answer.status, status, "{body}: {}", answer.body);
        assert_eq!(answer.json()["error"]["code"], "bad_request");
    }
    assert_eq!(call(addr, "PUT", "/v1/settings", Some(&a), r#"{"public_join":false}"#).status, 403);
    assert_eq!(call(addr, "GET", "/v1/settings", Some(&a), "").status, 403);
    assert_eq!(call(addr, "GET", "/v1/settings", None, "").status, 401);

    // Closed: the page says so, a join is refused, and the member page hands out no QR code.
    let put = call(addr, "PUT", "/v1/settings", Some(&key), r#"{"public_join":false}"#);
    assert_eq!(
        put.json(),
        serde_json::json!({"public_origin": "https://shop.example.com", "public_join": false})
    );
    let closed = call(addr, "GET", "/join?tenant=shop&ref=A", None, "");
    assert_eq!(closed.status, 403);
    assert!(error(&closed).contains("这家店暂不开放在线加入") && !closed.body.contains("<form"));
    let refused = join(addr, "shop", "tenant=shop&ref=A&member=b1", "203.0.113.7");
    assert_eq!(refused.status, 403);
    assert_eq!(call(addr, "GET", "/v1/members/b1", Some(&key), "").status, 404, "nobody joined");
    let page = call(addr, "GET", &format!("/m?t={a}"), None, "");
    assert!(page.body.contains("id=\"closed\"") && !page.body.contains("<img"), "{}", page.body);

    // Open again, with the request's host.
    let put = call(addr, "PUT", "/v1/settings", Some(&key), r#"{"public_origin":null,"public_join":true}"#);
    assert_eq!(put.json(), serde_json::json!({"public_origin": null, "public_join": true}));
    let page = call(addr, "GET", &format!("/m?t={a}"), None, "");
    assert!(page.body.contains("id=\"share\" href=\"http://test/join?tenant=shop&amp;ref=A\""));
    token_of(&join(addr, "shop", "tenant=shop&ref=A&member=b1", "203.0.113.7"));
}

/// Two nodes on one PostgreSQL: the join page of a tenant another node serves is forwarded
/// there, the form's post too, with the client's address. (Needs `FANLI_TEST_DATABASE_URL`.)
#[test]
fn a_node_forwards_the_join_page_to_the_tenants_node() {
    let dir = data_dir("join-cluster");
    let Some(url) = common::database(&dir) else {
        eprintln!("FANLI_TEST_DATABASE_URL is not set: no cluster to test");
        return;
    };
    let a = common::start_node(&dir.join("a"), &url);
    let created = call(a, "POST", "/v1/tenants", Some("master-secret"), r#"{"id":"shop"}"#);
    let key = created.json()["owner_key"].as_str().unwrap().to_owned();
    assert_eq!(call(a, "PUT", "/v1/plan", Some(&key), PLAN).status, 200);
    assert_eq!(call(a, "POST", "/v1/members", Some(&key), r#"{"member":"A"}"#).status, 200);
    let b = common::start_node(&dir.join("b"), &url);
    // Until b's leases' thread has read who serves the tenant (a tick, 1 s): 503 while the
    // tenant is between nodes, 404 while b has not yet seen it at all (the join page carries
    // no key, so nothing else tells b of a tenant made on a; docs/decisions.md, *Server*).
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(5);
    let page = loop {
        let page = call(b, "GET", "/join?tenant=shop&ref=A", None, "");
        if !matches!(page.status, 503 | 404) || std::time::Instant::now() > deadline {
            break page;
        }
        std::thread::sleep(std::time::Duration::from_millis(100));
    };
    assert_eq!(page.status, 200, "{}", page.body);
    assert!(page.body.contains("推荐人 <b>A</b>"), "{}", page.body);
    let joined = join(b, "shop", "tenant=shop&ref=A&member=b1", "203.0.113.9");
    let token = token_of(&joined);
    assert_eq!(call(a, "GET", &format!("/m?t={token}"), None, "").status, 200);
    let audit = call(a, "GET", "/v1/audit", Some(&key), "");
    let line = audit.body.lines().find(|l| l.contains("\"member\":\"b1\"")).unwrap();
    let event: serde_json::Value = serde_json::from_str(line).unwrap();
    assert_eq!(
        (&event["referrer"], &event["ip"]),
        (&serde_json::json!("A"), &serde_json::json!("203.0.113.9"))
    );
}

/// The server's `--public-origin` starts the links of tenants that set none; a tenant's own wins.
#[test]
fn the_servers_public_origin_is_the_default_and_a_tenants_own_wins() {
    let dir = data_dir("join-server-origin");
    assert!(common::open(&dir).public_origin("shop.example").is_err(), "not an origin");
    let addr = &common::local_app(common::open(&dir).public_origin("https://fanli.example/").unwrap());
    let created = call(addr, "POST", "/v1/tenants", Some("master-secret"), r#"{"id":"shop"}"#);
    let key = created.json()["owner_key"].as_str().unwrap().to_owned();
    assert_eq!(call(addr, "PUT", "/v1/plan", Some(&key), PLAN).status, 200);
    assert_eq!(call(addr, "POST", "/v1/members", Some(&key), r#"{"member":"A"}"#).status, 200);
    let a = call(addr, "POST", "/v1/members/A/token", Some(&key), "").json()["token"]
        .as_str()
        .unwrap()
        .to_owned();
    let referral =
        |addr| call(addr, "GET", "/v1/me/qr.png", Some(&a), "").header("x-fanli-referral").map(str::to_owned);
    assert_eq!(referral(addr).as_deref(), Some("https://fanli.example/join?tenant=shop&ref=A"));
    call(addr, "PUT", "/v1/settings", Some(&key), r#"{"public_origin":"https://shop.example"}"#);
    assert_eq!(referral(addr).as_deref(), Some("https://shop.example/join?tenant=shop&ref=A"));
}
