//! The member's phone page (`/m?t=TOKEN`) and QR code: what is served, through the router
//! in-process.

mod common;

use common::{Answer, Target, data_dir, local, request};

const PLAN: &str = include_str!("../../fanli-cli/tests/cases/seed_refer.toml");

impl Answer {
    /// The page from the element `id="ID"` to the end of its section (or of the page).
    fn element(&self, id: &str) -> &str {
        let marker = format!("id=\"{id}\"");
        let at = self.body.find(&marker).unwrap_or_else(|| panic!("no #{id} in {}", self.body));
        let rest = &self.body[at..];
        &rest[..rest.find("</section>").unwrap_or(rest.len())]
    }
}

/// The text a reader sees: the page without its tags (and their attributes: links, ids).
fn visible(html: &str) -> String {
    let mut out = String::new();
    let mut rest = html;
    while let Some(at) = rest.find('<') {
        out.push_str(&rest[..at]);
        out.push(' ');
        rest = rest[at..].split_once('>').map_or("", |(_, after)| after);
    }
    out.push_str(rest);
    out
}

/// The modules of a PNG QR code of `modules` modules a side (8 pixels each, a quiet zone of 4),
/// read from its pixels with png's decoder.
fn png_modules(bytes: &[u8], modules: usize) -> Vec<qrcode::Color> {
    assert_eq!(&bytes[..8], b"\x89PNG\r\n\x1a\n", "a PNG signature");
    let mut reader = png::Decoder::new(std::io::Cursor::new(bytes)).read_info().unwrap();
    let mut pixels = vec![0; reader.output_buffer_size().unwrap()];
    let info = reader.next_frame(&mut pixels).unwrap();
    let side = (modules + 8) * 8;
    assert_eq!((info.width as usize, info.height as usize), (side, side));
    (0..modules * modules)
        .map(|i| {
            let (x, y) = ((i % modules + 4) * 8 + 4, (i / modules + 4) * 8 + 4);
            if pixels[y * side + x] == 0 { qrcode::Color::Dark } else { qrcode::Color::Light }
        })
        .collect()
}

/// Whether a PNG QR code encodes `link`: the modules of qrcode's own code for it.
fn encodes(bytes: &[u8], link: &str) -> bool {
    let code = qrcode::QrCode::new(link.as_bytes()).unwrap();
    png_modules(bytes, code.width()) == code.to_colors()
}

/// One request with `Host: test`.
fn call(addr: impl Target, method: &str, path: &str, key: Option<&str>, body: &str) -> Answer {
    request(addr, method, path, key, "", body)
}

#[test]
fn a_member_token_opens_the_phone_page_with_balances_progress_history_and_the_qr_code() {
    let dir = data_dir("member-page");
    let addr = &local(&dir);
    let created = call(addr, "POST", "/v1/tenants", Some("master-secret"), r#"{"id":"shop"}"#);
    assert_eq!(created.status, 201, "{}", created.body);
    let key = created.json()["owner_key"].as_str().unwrap().to_owned();
    let put = call(addr, "PUT", "/v1/plan", Some(&key), PLAN);
    assert_eq!(put.status, 200, "{}", put.body);
    for (path, body) in [
        ("/v1/members", r#"{"member":"A"}"#),
        ("/v1/orders", r#"{"order":"a1","member":"A","amount":"1000.00"}"#),
        ("/v1/members", r#"{"member":"b0","referrer":"A"}"#),
        ("/v1/orders", r#"{"order":"b1","member":"b0","amount":"1000.00"}"#),
    ] {
        let answer = call(addr, "POST", path, Some(&key), body);
        assert_eq!(answer.status, 200, "{path} {body}: {}", answer.body);
    }
    let made = call(addr, "POST", "/v1/members/A/token", Some(&key), "");
    assert_eq!(made.status, 201, "{}", made.body);
    let token = made.json()["token"].as_str().unwrap().to_owned();

    // Chinese by default.
    let page = call(addr, "GET", &format!("/m?t={token}"), None, "");
    assert_eq!(page.status, 200, "{}", page.body);
    assert!(page.header("content-type").unwrap().starts_with("text/html"));
    assert!(page.header("content-security-policy").unwrap().contains("default-src 'none'"));
    assert_eq!(page.header("referrer-policy"), Some("no-referrer"));
    assert!(!page.body.contains("<script"), "no script on the page");
    assert!(page.body.contains("<html lang=\"zh-CN\"") && page.body.contains("我的返利"));
    assert!(page.element("wallet").contains("100.00"), "b0's order pays A the first step: 10% of 1000");
    assert!(page.element("credit").contains("0.00"));
    assert!(page.element("spent").contains("1000.00"));
    let progress = page.element("progress-r3");
    assert!(progress.contains("<b class=\"progress\">1/3</b>（本轮已推荐 1 位，共 3 位）"), "{progress}");
    assert!(progress.contains("class=\"bar\"") && progress.contains("width:33%"), "{progress}");
    assert!(progress.contains("200.00"), "the next step: 20% of 1000; {progress}");
    // The projection keeps the certain apart from the uncertain.
    let projection = page.element("projection");
    assert!(projection.contains("id=\"certain\"") && projection.contains("id=\"owed\""));
    assert!(projection.contains("id=\"future\"") && projection.contains("取决于未来的会员"));
    let future = &projection[projection.find("id=\"future\"").unwrap()..];
    assert!(future.contains("¥200.00"), "the next reward depends on more referrals: {future}");
    let certain = &projection[..projection.find("id=\"owed\"").unwrap()];
    assert!(certain.contains("¥100.00") && !certain.contains("200.00"), "{certain}");
    // History: the referral that paid A, named in Chinese.
    let history = page.element("history");
    assert!(history.contains("推荐奖励") && history.contains("+100.00"), "{history}");
    // (The proof links carry the member's random token, whose hex may hold "b0": left out.)
    let shown: String = history
        .split("href=\"")
        .enumerate()
        .map(|(i, piece)| if i == 0 { piece } else { piece.split_once('"').map_or("", |(_, rest)| rest) })
        .collect();
    assert!(shown.contains("下单") && !shown.contains("b0"), "the history names no other member: {history}");
    // Members see mechanisms by name, never by id: r3 is the kind's 推荐返还.
    assert!(progress.contains("推荐进度 · 推荐返还"), "{progress}");
    let text = visible(&page.body);
    assert!(!text.contains("r3") && !text.contains(" of "), "{text}");
    // The QR code, a PNG image (WeChat's long-press reads images), saved as a .png, and the
    // share link.
    let qr = page.element("qr");
    assert!(!page.body.contains("<svg"), "{qr}");
    assert!(
        qr.contains(&format!("<img id=\"qr-code\" src=\"/m/qr.png?t={token}\" width=\"240\" height=\"240\"")),
        "{qr}"
    );
    assert!(qr.contains("http://test/join?tenant=shop&amp;ref=A"), "{qr}");
    let share = page.element("share");
    assert!(share.starts_with("id=\"share\" href=\"http://test/join?tenant=shop&amp;ref=A\""), "{share}");
    let download = page.element("download");
    assert!(
        download
            .starts_with(&format!("id=\"download\" href=\"/m/qr.png?t={token}\" download=\"referral.png\"")),
        "{download}"
    );
    // The language switch carries the token.
    assert!(page.element("lang").contains(&format!("href=\"/m?t={token}&amp;lang=en\"")));

    // English by the switch.
    let english = call(addr, "GET", &format!("/m?t={token}&lang=en"), None, "");
    assert_eq!(english.status, 200);
    assert!(english.body.contains("<html lang=\"en\""));
    for label in [
        "Balances",
        "Wallet",
        "An honest projection",
        "Depends on future members",
        "History",
        "Invite friends",
    ] {
        assert!(english.body.contains(label), "no {label} in English");
    }
    assert!(english.element("history").contains("referral"));
    let progress = english.element("progress-r3");
    assert!(progress.contains("1 of 3") && progress.contains("Refer and refund"), "{progress}");
    assert!(english.element("lang").contains(&format!("href=\"/m?t={token}&amp;lang=zh\"")));
    // The switch keeps the choice in a cookie, as the console's does.
    let kept = english.header("set-cookie").unwrap_or_default();
    assert!(kept.starts_with("fanli_lang=en;"), "{kept}");

    // Without `lang`, the cookie chooses, then the browser's language; `lang` beats both.
    let page_with =
        |extra: &str, query: &str| request(addr, "GET", &format!("/m?t={token}{query}"), None, extra, "");
    let by_cookie = page_with("Cookie: fanli_lang=en\r\n", "");
    assert!(by_cookie.body.contains("<html lang=\"en\"") && by_cookie.body.contains("Balances"));
    let by_browser = page_with("Accept-Language: en-US,en;q=0.9,zh-CN;q=0.8\r\n", "");
    assert!(by_browser.body.contains("<html lang=\"en\""));
    let chinese_browser = page_with("Accept-Language: zh-CN,zh;q=0.9,en;q=0.8\r\n", "");
    assert!(chinese_browser.body.contains("<html lang=\"zh-CN\"") && chinese_browser.body.contains("余额"));
    let pinned = page_with("Cookie: fanli_lang=en\r\nAccept-Language: en\r\n", "&lang=zh");
    assert!(pinned.body.contains("<html lang=\"zh-CN\""));
    // The join page and the proof download choose alike.
    let join = request(addr, "GET", "/join?tenant=shop&ref=A", None, "Accept-Language: en\r\n", "");
    assert!(join.body.contains("<html lang=\"en\""), "{}", join.body);
    let proof = request(addr, "GET", &format!("/m/proof?t={token}"), None, "Cookie: fanli_lang=en\r\n", "");
    assert!(proof.status == 400 && proof.body.contains("<html lang=\"en\""), "{}", proof.body);

    // Only a member token opens it; the error names nobody.
    let wrong = call(addr, "GET", "/m?t=not-a-token", None, "");
    assert_eq!(wrong.status, 401);
    assert!(wrong.header("content-type").unwrap().starts_with("text/html") && !wrong.body.contains("A<"));
    assert_eq!(call(addr, "GET", "/m", None, "").status, 401);
    let owner = call(addr, "GET", &format!("/m?t={key}"), None, "");
    assert_eq!(owner.status, 403);
    assert!(!owner.body.contains("shop") && !owner.body.contains("b0"));

    // The QR code alone as a PNG: the join link, 29 modules (version 3) of 8 pixels and a
    // quiet zone of 4, 296 pixels a side.
    let png = call(addr, "GET", &format!("/m/qr.png?t={token}"), None, "");
    assert_eq!(png.status, 200);
    assert_eq!(png.header("content-type"), Some("image/png"));
    assert_eq!(png.header("content-disposition"), Some("inline; filename=\"referral.png\""));
    assert_eq!(png.header("cache-control"), Some("private, no-store"));
    assert_eq!(qrcode::QrCode::new(b"http://test/join?tenant=shop&ref=A").unwrap().width(), 29);
    assert!(encodes(&png.bytes, "http://test/join?tenant=shop&ref=A"));
    assert!(!encodes(&png.bytes, "http://test/join?tenant=shop&ref=B"));
    assert_eq!(call(addr, "GET", &format!("/m/qr.png?t={key}"), None, "").status, 403);
    assert_eq!(call(addr, "GET", "/m/qr.png?t=nope", None, "").status, 401);
    let api = call(addr, "GET", "/v1/me/qr.png", Some(&token), "");
    assert_eq!((api.status, api.header("content-type")), (200, Some("image/png")));
    assert_eq!(api.header("x-fanli-referral"), Some("http://test/join?tenant=shop&ref=A"));
    assert_eq!(api.bytes, png.bytes);
    // And as an SVG, as before.
    let svg = call(addr, "GET", &format!("/m/qr.svg?t={token}"), None, "");
    assert_eq!(svg.status, 200);
    assert_eq!(svg.header("content-type"), Some("image/svg+xml"));
    assert!(svg.body.contains("<svg") && svg.body.contains("<path"));
    assert_eq!(call(addr, "GET", &format!("/m/qr.svg?t={key}"), None, "").status, 403);
    assert_eq!(call(addr, "GET", "/m/qr.svg?t=nope", None, "").status, 401);
}

#[test]
fn points_worth_a_queue_place_and_expiring_points_show_on_the_page() {
    let dir = data_dir("member-page-example");
    let addr = &local(&dir);
    let created = call(addr, "POST", "/v1/tenants", Some("master-secret"), r#"{"id":"shop"}"#);
    let key = created.json()["owner_key"].as_str().unwrap().to_owned();
    // The bundled example, with loyalty points that expire after 300 days.
    let plan = format!(
        "{}\n[[mechanism]]\nid = \"cafe\"\nkind = \"loyalty\"\nfunding_rate = \"0\"\nearn = {{ per_yuan = \"1\" }}\nexpiry_days = 300\n",
        include_str!("../../fanli-cli/example/plan.toml")
    );
    let put = call(addr, "PUT", "/v1/plan", Some(&key), &plan);
    assert_eq!(put.status, 200, "{}", put.body);
    let events = include_str!("../../fanli-cli/example/events.jsonl");
    let posted = call(addr, "POST", "/v1/events", Some(&key), events);
    assert_eq!(posted.status, 200, "{}", posted.body);
    let token = |member: &str| {
        call(addr, "POST", &format!("/v1/members/{member}/token"), Some(&key), "").json()["token"]
            .as_str()
            .unwrap()
            .to_owned()
    };

    // As `fanli run --example --member A` prints it.
    let page = call(addr, "GET", &format!("/m?t={}", token("A")), None, "");
    assert_eq!(page.status, 200, "{}", page.body);
    assert!(page.element("wallet").contains("1320.00"));
    let appr = page.element("points-appr");
    assert!(
        appr.contains("积分 · 消费增值") && appr.contains("140.0000") && appr.contains("839.10"),
        "{appr}"
    );
    assert!(page.element("progress-r3").contains("<b class=\"progress\">3/3</b>"));
    // No mechanism id reaches the reader: the kinds' names stand for them.
    let text = visible(&page.body);
    for id in ["appr", "r3", "union", "cafe"] {
        assert!(!text.contains(id), "{id} shown: {text}");
    }
    assert!(page.element("queue-union").contains("排队 · 排队返利"));
    let queue = page.element("queue-union");
    assert!(queue.contains("class=\"position\">1<") && queue.contains("580.00"), "{queue}");
    // Points' value depends on the pool: never in the certain group.
    let projection = page.element("projection");
    let certain = &projection[..projection.find("id=\"owed\"").unwrap()];
    assert!(!certain.contains("839.10") && !certain.contains("580.00"), "{certain}");
    let future = &projection[projection.find("id=\"future\"").unwrap()..];
    assert!(future.contains("839.10") && future.contains("580.00"), "{future}");
    // A's order earns 1000 points when it settles, for 300 days: they expire at 2027-01-02T16:00Z
    // (as `fanli run` prints it), shown in the plan's timezone.
    let expiring = page.element("expiring");
    assert!(expiring.contains("1000.0000") && expiring.contains("2027-01-03 00:00"), "{expiring}");
    assert!(!page.body.contains("<script"));

    // B is second in the queue, with A's 580.00 ahead.
    let page = call(addr, "GET", &format!("/m?t={}&lang=en", token("B")), None, "");
    let queue = page.element("queue-union");
    assert!(queue.contains("class=\"position\">2<") && queue.contains("¥580.00"), "{queue}");
    assert!(page.element("progress-r3").contains("1 of 3"));
}

#[test]
fn a_ladder_of_each_orders_share_shows_the_next_steps_share_not_an_amount() {
    // 阶梯式返现 with `step_base = "each"`: the next step is 10% of an order not yet made, so the
    // page says the share, and does not say there is no further reward.
    let dir = data_dir("member-page-ladder");
    let addr = &local(&dir);
    let created = call(addr, "POST", "/v1/tenants", Some("master-secret"), r#"{"id":"shop"}"#);
    let key = created.json()["owner_key"].as_str().unwrap().to_owned();
    let plan = "name = \"ladder\"\nsettle_after_days = 0\n[[mechanism]]\nid = \"r3\"\nkind = \"refer_refund\"\n\
                funding_rate = \"0.60\"\ntrigger = \"repurchase\"\nstep_base = \"each\"\nqualify_min = \"100.00\"\n\
                steps = [\"30%\", \"20%\", \"10%\"]\n";
    let put = call(addr, "PUT", "/v1/plan", Some(&key), plan);
    assert_eq!(put.status, 200, "{}", put.body);
    for (path, body) in [
        ("/v1/members", r#"{"member":"A"}"#),
        ("/v1/orders", r#"{"order":"a1","member":"A","amount":"1000.00"}"#),
        ("/v1/orders", r#"{"order":"a2","member":"A","amount":"500.00"}"#),
    ] {
        let answer = call(addr, "POST", path, Some(&key), body);
        assert_eq!(answer.status, 200, "{path} {body}: {}", answer.body);
    }
    let made = call(addr, "POST", "/v1/members/A/token", Some(&key), "");
    let token = made.json()["token"].as_str().unwrap().to_owned();
    let page = call(addr, "GET", &format!("/m?t={token}&lang=en"), None, "");
    assert_eq!(page.status, 200, "{}", page.body);
    // 30% of 1000 and 20% of 500.
    assert!(page.element("wallet").contains("400.00"));
    let progress = page.element("progress-r3");
    assert!(progress.contains("2 of 3"), "{progress}");
    assert!(
        progress.contains("Your next qualifying order brings back, of itself") && progress.contains("10%"),
        "{progress}"
    );
    assert!(!progress.contains("No further reward"), "{progress}");
}
