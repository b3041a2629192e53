//! The pages end to end in a real browser: headless Chromium driven by `chromedriver` over W3C
//! WebDriver (JSON over HTTP, the small client below), against a server on 127.0.0.1. Each test
//! checks what the pages show against the API, and writes a screenshot of every page it checks
//! to `target/screenshots/NAME.png` (the path is printed; `--nocapture` shows it). The browser
//! asks for Chinese (`Accept-Language: zh-CN`), as an operator's in China does.
//!
//! Needs Debian's `chromium` and `chromium-driver`. `.ci/run` installs them and sets
//! `FANLI_REQUIRE_BROWSER=1`, under which a missing browser fails the tests; elsewhere (the
//! README's `cargo test --workspace` on a machine without them) each test says loudly that it
//! was skipped and why.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::sync::Mutex;
use std::time::{Duration, Instant};

mod common;

use common::{MASTER, data_dir, request, start};
use serde_json::{Value, json};

/// How long any wait lasts at most: chromedriver's start, an element to appear, a page to load.
const WAIT: Duration = Duration::from_secs(10);
/// One browser at a time: the tests share a small machine.
static ONE_BROWSER: Mutex<()> = Mutex::new(());
const ELEMENT: &str = "element-6066-11e4-a52e-4f735466cecf";

const EXAMPLE_PLAN: &str = include_str!("../../fanli-cli/example/plan.toml");
const EXAMPLE_EVENTS: &str = include_str!("../../fanli-cli/example/events.jsonl");
const REFER_PLAN: &str = include_str!("../../fanli-cli/tests/cases/seed_refer.toml");

/// One HTTP/1.1 request to the fanli server; returns the status and the body.
fn call(addr: SocketAddr, method: &str, path: &str, key: Option<&str>, body: &str) -> (u16, String) {
    let answer = request(addr, method, path, key, "", body);
    (answer.status, answer.body)
}

/// A successful call's JSON body.
fn api(addr: SocketAddr, method: &str, path: &str, key: &str, body: &str) -> Value {
    let (status, text) = call(addr, method, path, Some(key), body);
    assert!((200..300).contains(&status), "{method} {path}: {status} {text}");
    serde_json::from_str(&text).unwrap_or_else(|e| panic!("{e}: {text}"))
}

/// A tenant `shop` with `plan` in force; returns the owner key.
fn shop(addr: SocketAddr, plan: &str) -> String {
    let key = api(addr, "POST", "/v1/tenants", MASTER, r#"{"id":"shop"}"#)["owner_key"]
        .as_str()
        .unwrap()
        .to_owned();
    api(addr, "PUT", "/v1/plan", &key, plan);
    key
}

/// A JSON figure as a page shows it: a string without its quotes.
fn plain(value: &Value) -> String {
    value.as_str().map_or_else(|| value.to_string(), str::to_owned)
}

/// A program on the `PATH`.
fn program(names: &[&str]) -> Option<PathBuf> {
    let path = std::env::var_os("PATH")?;
    std::env::split_paths(&path).flat_map(|dir| names.iter().map(move |n| dir.join(n))).find(|p| p.is_file())
}

/// Standard base64 (WebDriver's screenshots) to bytes.
fn base64(text: &str) -> Vec<u8> {
    let digit = |c: u8| match c {
        b'A'..=b'Z' => c - b'A',
        b'a'..=b'z' => c - b'a' + 26,
        b'0'..=b'9' => c - b'0' + 52,
        b'+' => 62,
        b'/' => 63,
        _ => panic!("not base64: {c}"),
    };
    let digits: Vec<u8> =
        text.bytes().filter(|c| !c.is_ascii_whitespace() && *c != b'=').map(digit).collect();
    let mut out = Vec::with_capacity(digits.len() * 3 / 4);
    for chunk in digits.chunks(4) {
        let n = chunk.iter().enumerate().fold(0u32, |n, (i, d)| n | u32::from(*d) << (18 - 6 * i));
        out.extend_from_slice(&n.to_be_bytes()[1..chunk.len()]);
    }
    out
}

/// chromedriver (a child process) and one browser session; dropping it, also on a panic, ends
/// the session and kills chromedriver.
struct Browser {
    driver: Child,
    agent: ureq::Agent,
    base: String,
    session: String,
    _one: std::sync::MutexGuard<'static, ()>,
}

impl Browser {
    /// A headless Chromium at 1280×900, or `None` when there is none and none is required.
    fn open(name: &str) -> Option<Browser> {
        let (driver, chromium) = match (
            program(&["chromedriver"]),
            program(&["chromium", "chromium-browser"]),
        ) {
            (Some(driver), Some(chromium)) => (driver, chromium),
            (driver, chromium) => {
                if std::env::var("FANLI_REQUIRE_BROWSER").as_deref() != Ok("1") {
                    eprintln!(
                        "SKIPPED: the browser test {name} needs chromium and chromedriver on the PATH \
                         (`apt-get install chromium chromium-driver`, or run .ci/run, which installs them)"
                    );
                    return None;
                }
                panic!(
                    "FANLI_REQUIRE_BROWSER=1 and the browser tests need chromium ({}) and chromedriver ({}) \
                     on the PATH: run .ci/run, or `apt-get install chromium chromium-driver`",
                    if chromium.is_some() { "found" } else { "missing" },
                    if driver.is_some() { "found" } else { "missing" },
                );
            }
        };
        let one = ONE_BROWSER.lock().unwrap_or_else(|poisoned| poisoned.into_inner());
        let port = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
        let dir = PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join("browser");
        std::fs::create_dir_all(&dir).unwrap();
        let log = dir.join(format!("chromedriver-{name}.log"));
        let child = Command::new(&driver)
            .arg(format!("--port={port}"))
            .arg(format!("--log-path={}", log.display()))
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap_or_else(|e| panic!("{}: {e}", driver.display()));
        let agent: ureq::Agent = ureq::Agent::config_builder()
            .http_status_as_error(false)
            .timeout_global(Some(Duration::from_secs(60)))
            .build()
            .into();
        let mut browser = Browser {
            driver: child,
            agent,
            base: format!("http://127.0.0.1:{port}"),
            session: String::new(),
            _one: one,
        };
        let started = Instant::now();
        while browser.request("GET", "/status", None).map_or(true, |s| s["ready"] != true) {
            assert!(
                started.elapsed() < WAIT,
                "chromedriver did not start in {WAIT:?}; see {}",
                log.display()
            );
            std::thread::sleep(Duration::from_millis(50));
        }
        let args =
            ["--headless=new", "--no-sandbox", "--disable-gpu", "--window-size=1280,900", "--lang=zh-CN"];
        let prefs = json!({"intl.accept_languages": "zh-CN,zh"});
        let capabilities = json!({"capabilities": {"alwaysMatch": {
            "goog:chromeOptions": {"binary": chromium, "args": args, "prefs": prefs},
            "timeouts": {"pageLoad": WAIT.as_millis() as u64, "script": WAIT.as_millis() as u64, "implicit": 0},
        }}});
        let created = browser.request("POST", "/session", Some(capabilities));
        let created = created.unwrap_or_else(|e| panic!("no browser session: {e}; see {}", log.display()));
        browser.session = created["sessionId"].as_str().unwrap().to_owned();
        Some(browser)
    }

    /// One WebDriver command: its `value`, or the error it answered.
    fn request(&self, method: &str, path: &str, body: Option<Value>) -> Result<Value, String> {
        let url = format!("{}{path}", self.base);
        let response = match (method, body) {
            ("POST", body) => self
                .agent
                .post(&url)
                .header("Content-Type", "application/json")
                .send(body.unwrap_or_else(|| json!({})).to_string()),
            ("DELETE", _) => self.agent.delete(&url).call(),
            _ => self.agent.get(&url).call(),
        };
        let mut response = response.map_err(|e| format!("{method} {path}: {e}"))?;
        let status = response.status().as_u16();
        let text =
            response.body_mut().with_config().limit(64 << 20).read_to_string().map_err(|e| e.to_string())?;
        let answer: Value =
            serde_json::from_str(&text).map_err(|e| format!("{method} {path}: {e}: {text}"))?;
        let value = answer["value"].clone();
        match value.get("error") {
            Some(error) if status >= 400 => Err(format!("{method} {path}: {error}: {}", value["message"])),
            _ => Ok(value),
        }
    }

    /// A command of this session; panics on an error.
    fn command(&self, method: &str, tail: &str, body: Option<Value>) -> Value {
        self.request(method, &format!("/session/{}{tail}", self.session), body)
            .unwrap_or_else(|e| panic!("{e}"))
    }

    fn goto(&self, url: &str) {
        self.command("POST", "/url", Some(json!({"url": url})));
    }

    fn url(&self) -> String {
        self.command("GET", "/url", None).as_str().unwrap_or_default().to_owned()
    }

    /// The first element matching `css`, waited for.
    fn find(&self, css: &str) -> String {
        let started = Instant::now();
        let query = json!({"using": "css selector", "value": css});
        loop {
            match self.request("POST", &format!("/session/{}/element", self.session), Some(query.clone())) {
                Ok(found) => return found[ELEMENT].as_str().unwrap().to_owned(),
                Err(e) if started.elapsed() > WAIT => {
                    panic!("no `{css}` in {WAIT:?} at {}: {e}\n{}", self.url(), self.source())
                }
                Err(_) => std::thread::sleep(Duration::from_millis(100)),
            }
        }
    }

    /// The rendered text of the first element matching `css`.
    fn text(&self, css: &str) -> String {
        let id = self.find(css);
        self.command("GET", &format!("/element/{id}/text"), None).as_str().unwrap().trim().to_owned()
    }

    fn attribute(&self, css: &str, name: &str) -> Option<String> {
        let id = self.find(css);
        self.command("GET", &format!("/element/{id}/attribute/{name}"), None).as_str().map(str::to_owned)
    }

    fn type_into(&self, css: &str, text: &str) {
        let id = self.find(css);
        self.command("POST", &format!("/element/{id}/value"), Some(json!({"text": text})));
    }

    fn click(&self, css: &str) {
        let id = self.find(css);
        self.command("POST", &format!("/element/{id}/click"), None);
    }

    fn source(&self) -> String {
        self.command("GET", "/source", None).as_str().unwrap_or_default().to_owned()
    }

    fn script(&self, script: &str) -> Value {
        self.command("POST", "/execute/sync", Some(json!({"script": script, "args": []})))
    }

    fn window(&self, width: u32, height: u32) {
        self.command("POST", "/window/rect", Some(json!({"width": width, "height": height})));
    }

    /// The page as a PNG, written to `target/screenshots/NAME.png`.
    fn screenshot(&self, name: &str) -> PathBuf {
        let png = base64(self.command("GET", "/screenshot", None).as_str().unwrap());
        assert!(png.starts_with(b"\x89PNG"), "the screenshot is not a PNG");
        // `CARGO_TARGET_TMPDIR` is `target/tmp`.
        let dir = PathBuf::from(env!("CARGO_TARGET_TMPDIR")).parent().unwrap().join("screenshots");
        std::fs::create_dir_all(&dir).unwrap();
        let path = dir.join(format!("{name}.png"));
        std::fs::write(&path, png).unwrap();
        println!("screenshot: {}", path.display());
        path
    }

    /// Logs in to the console at `addr` with `key`, through the form.
    fn log_in(&self, addr: SocketAddr, key: &str, shot: Option<&str>) {
        self.goto(&format!("http://{addr}/console"));
        assert!(self.url().ends_with("/console/login"), "no session yet: {}", self.url());
        assert_eq!(self.attribute("form#login input#key", "name").as_deref(), Some("key"));
        self.type_into("input#key", key);
        if let Some(name) = shot {
            self.screenshot(name);
        }
        self.click("button#enter");
        self.find("table#pools");
        assert_eq!(self.url(), format!("http://{addr}/console"));
    }
}

impl Drop for Browser {
    fn drop(&mut self) {
        if !self.session.is_empty() {
            let _ = self.request("DELETE", &format!("/session/{}", self.session), None);
        }
        let _ = self.driver.kill();
        let _ = self.driver.wait();
    }
}

#[test]
fn an_operator_logs_in_and_the_console_shows_the_apis_numbers() {
    let Some(browser) = Browser::open("console") else { return };
    let addr = start(&data_dir("browser-console"));
    let key = shop(addr, EXAMPLE_PLAN);
    let results = api(addr, "POST", "/v1/events", &key, EXAMPLE_EVENTS);
    assert!(results["results"].as_array().unwrap().iter().all(|r| r["ok"] == true), "{results}");

    browser.log_in(addr, &key, Some("login"));
    let mechanisms = api(addr, "GET", "/v1/mechanisms", &key, "");
    let mechanisms = mechanisms.as_object().unwrap();
    assert_eq!(mechanisms.keys().collect::<Vec<_>>(), ["appr", "r3", "union"]);
    let rows = browser.script("return document.querySelectorAll('#pools tr[data-mechanism]').length");
    assert_eq!(rows, mechanisms.len());
    for (id, m) in mechanisms {
        let cell = |class: &str| browser.text(&format!("#pools tr[data-mechanism=\"{id}\"] td.{class}"));
        assert_eq!(cell("pool"), m["pool"].as_str().unwrap(), "{id}'s pool");
        let owed = m["obligations"].as_str().unwrap();
        let owed = if owed == "0.00" {
            owed.to_owned()
        } else {
            format!("{owed} ({})", plain(&m["obligations_waiting"]))
        };
        assert_eq!(cell("obligations"), owed, "{id}'s obligations");
        assert_eq!(cell("paid"), m["paid"].as_str().unwrap(), "{id}'s paid");
        assert_eq!(cell("price"), m["price"].as_str().unwrap_or("–"), "{id}'s price");
    }
    assert!(mechanisms["appr"]["price"].is_string() && mechanisms["r3"]["paid"] != "0.00");
    let members = api(addr, "GET", "/v1/members?limit=1", &key, "")["total"].as_u64().unwrap();
    assert_eq!(members, 5);
    assert_eq!(browser.text("#members"), members.to_string());
    browser.screenshot("console");
}

#[test]
fn a_held_referral_approved_in_the_review_page_pays_the_referrer() {
    let Some(browser) = Browser::open("reviews") else { return };
    let addr = start(&data_dir("browser-reviews"));
    // 推三返一 (10%, 20%, 70% of the referrer's 1000.00, funded at 40%), and a referee on the
    // referrer's device held for review.
    let plan = REFER_PLAN.replacen("[[mechanism]]", "[antifraud]\nshared_device = true\n\n[[mechanism]]", 1);
    let key = shop(addr, &plan);
    for (path, body) in [
        ("/v1/members", r#"{"member":"A","device":"phone-a"}"#),
        ("/v1/orders", r#"{"order":"a1","member":"A","amount":"1000.00"}"#),
        ("/v1/members", r#"{"member":"B","referrer":"A","device":"phone-a"}"#),
        ("/v1/orders", r#"{"order":"b1","member":"B","amount":"1000.00"}"#),
        ("/v1/members", r#"{"member":"C","referrer":"A","device":"phone-c"}"#),
        ("/v1/orders", r#"{"order":"c1","member":"C","amount":"1000.00"}"#),
    ] {
        api(addr, "POST", path, &key, body);
    }
    let wallet =
        |member: &str| api(addr, "GET", &format!("/v1/members/{member}"), &key, "")[member]["wallet"].clone();
    // C's referral counts (step 1: 10% of 1000.00); B's waits.
    assert_eq!(wallet("A"), "100.00");
    let reviews = api(addr, "GET", "/v1/reviews", &key, "");
    assert_eq!(reviews["reviews"].as_array().unwrap().len(), 1, "{reviews}");
    assert_eq!(
        (&reviews["reviews"][0]["member"], &reviews["reviews"][0]["status"]),
        (&json!("B"), &json!("held"))
    );

    browser.log_in(addr, &key, None);
    browser.goto(&format!("http://{addr}/console/reviews"));
    let row = "form#reviews tr[data-member=\"B\"]";
    assert_eq!(browser.text(&format!("{row} td.status")), "待审");
    // The rule by its Chinese name (its id beside it), the evidence in Chinese.
    let evidence = browser.text(&format!("{row} td.evidence"));
    assert!(evidence.starts_with("共用设备 shared-device：与推荐人共用设备 phone-a"), "{evidence}");
    browser.screenshot("reviews-pending");
    browser.click(&format!("{row} input[name=member][value=B]"));
    browser.click("#approve");
    assert!(browser.text("#done").contains('1'));
    assert!(browser.text(&format!("{row} td.status")).starts_with("已批准"));
    assert!(browser.source().contains("id=\"done\""));
    browser.screenshot("reviews-approved");

    // B's referral is A's second: step 2, 20% of 1000.00, paid at once (the pool holds 40% of
    // 3000.00 = 1200.00); with C's 100.00 A holds 300.00.
    assert_eq!(wallet("A"), "300.00");
    let r3 = &api(addr, "GET", "/v1/mechanisms", &key, "")["r3"];
    assert_eq!((&r3["paid"], &r3["pool"]), (&json!("300.00"), &json!("900.00")));
    browser.goto(&format!("http://{addr}/console/members/A"));
    assert_eq!(browser.text("#balances td.wallet"), "300.00");
    browser.screenshot("member-a-console");
}

#[test]
fn the_member_page_fits_a_360_px_phone_with_progress_and_qr_code() {
    let Some(browser) = Browser::open("member") else { return };
    let addr = start(&data_dir("browser-member"));
    let key = shop(addr, REFER_PLAN);
    for (path, body) in [
        ("/v1/members", r#"{"member":"A"}"#),
        ("/v1/orders", r#"{"order":"a1","member":"A","amount":"1000.00"}"#),
        ("/v1/members", r#"{"member":"B","referrer":"A"}"#),
        ("/v1/orders", r#"{"order":"b1","member":"B","amount":"1000.00"}"#),
    ] {
        api(addr, "POST", path, &key, body);
    }
    let token = api(addr, "POST", "/v1/members/A/token", &key, "")["token"].as_str().unwrap().to_owned();
    let me = api(addr, "GET", "/v1/me", &token, "");
    assert_eq!(
        (&me["A"]["wallet"], &me["A"]["mechanisms"]["r3"]["progress"]),
        (&json!("100.00"), &json!("1 of 3"))
    );

    browser.window(360, 800);
    browser.goto(&format!("http://{addr}/m?t={token}"));
    assert_eq!(browser.script("return window.innerWidth"), 360, "the viewport is 360 px wide");
    for lang in ["zh", "en"] {
        if lang == "en" {
            browser.click("#lang");
            browser.find("html[lang=en] #progress-r3");
        }
        assert_eq!(browser.text("#wallet"), "¥100.00");
        assert_eq!(browser.text("#progress-r3 b.progress"), "1 of 3");
        let link = format!("http://{addr}/join?tenant=shop&ref=A");
        assert_eq!(browser.attribute("#qr #share", "href"), Some(link));
        browser.find("#qr svg");
        let width = browser.script("return document.documentElement.scrollWidth").as_u64().unwrap();
        assert!(width <= 360, "the page is {width} px wide on a 360 px phone ({lang})");
        let qr = browser.script("return document.querySelector('#qr svg').getBoundingClientRect().width");
        assert!(qr.as_f64().is_some_and(|w| (120.0..=360.0).contains(&w)), "the QR code is {qr} px wide");
        browser.screenshot(&format!("member-360-{lang}"));
        browser.script("document.querySelector('#qr').scrollIntoView(); return null");
        browser.screenshot(&format!("member-360-{lang}-qr"));
    }
}

/// The page's width against the viewport's: `(document.documentElement.scrollWidth,
/// clientWidth)`, equal when nothing sticks out sideways.
fn widths(browser: &Browser) -> (u64, u64) {
    let value =
        browser.script("return [document.documentElement.scrollWidth, document.documentElement.clientWidth]");
    (value[0].as_u64().unwrap(), value[1].as_u64().unwrap())
}

/// Every page of the console and the member page at a phone's 390 px and a desktop's 1280 px:
/// none is wider than the viewport (a wide table scrolls inside its section instead), each
/// saved as `target/screenshots/WIDTH-PAGE.png`.
#[test]
fn every_page_fits_390_and_1280_px_with_no_horizontal_overflow() {
    let Some(browser) = Browser::open("widths") else { return };
    let addr = start(&data_dir("browser-widths"));
    let key = shop(addr, EXAMPLE_PLAN);
    let results = api(addr, "POST", "/v1/events", &key, EXAMPLE_EVENTS);
    assert!(results["results"].as_array().unwrap().iter().all(|r| r["ok"] == true), "{results}");
    let token = api(addr, "POST", "/v1/members/A/token", &key, "")["token"].as_str().unwrap().to_owned();
    let fits = |name: &str, width: u32| {
        browser.find("main");
        assert_eq!(browser.script("return window.innerWidth"), width, "the viewport is {width} px wide");
        let (page, viewport) = widths(&browser);
        browser.screenshot(&format!("{width}-{name}"));
        assert_eq!(page, viewport, "{name} is {page} px wide in a {viewport} px viewport at {width} px");
    };

    // The login page: its key field within the screen.
    for width in [390, 1280] {
        browser.window(width, 900);
        browser.goto(&format!("http://{addr}/console/login"));
        browser.find("html[lang=zh-CN] form#login");
        fits("login", width);
        let right = browser.script("return document.querySelector('#key').getBoundingClientRect().right");
        assert!(right.as_f64().is_some_and(|r| r <= f64::from(width)), "the key field ends at {right}");
    }
    browser.window(1280, 900);
    browser.log_in(addr, &key, None);
    let pages = [
        ("overview", "/console".to_owned()),
        ("plan", "/console/plan".to_owned()),
        ("members", "/console/members".to_owned()),
        ("member-a", "/console/members/A".to_owned()),
        ("reviews", "/console/reviews".to_owned()),
        ("withdrawals", "/console/withdrawals".to_owned()),
        ("votes", "/console/proposals".to_owned()),
        ("audit", "/console/audit".to_owned()),
        ("member-page", format!("/m?t={token}")),
    ];
    for width in [390, 1280] {
        browser.window(width, 900);
        for (name, path) in &pages {
            browser.goto(&format!("http://{addr}{path}"));
            fits(name, width);
            if *name == "overview" {
                // Chinese first: the kinds by their Chinese names, the times in +08:00.
                assert_eq!(browser.text("#pools tr[data-mechanism=appr] span.kind"), "消费增值");
                // The queue's oldest entry, 2026-03-08T16:00:00Z in the API, is midnight of the
                // 9th in the plan's +08:00.
                let union = &api(addr, "GET", "/v1/mechanisms", &key, "")["union"];
                assert_eq!(
                    (&union["waiting"], &union["queued"], &union["oldest_since"]),
                    (&json!(5), &json!("4680.00"), &json!("2026-03-08T16:00:00Z"))
                );
                assert_eq!(
                    browser.text("#pools tr[data-mechanism=union] td.queue"),
                    "5 条，4680.00 元，最早 2026-03-09 00:00 (+08:00)"
                );
                let pools = browser.script(
                    "const s = document.querySelector('#pools-section'); return [s.scrollWidth, s.clientWidth]",
                );
                let (wide, shown) = (pools[0].as_u64().unwrap(), pools[1].as_u64().unwrap());
                if width == 390 {
                    assert!(
                        wide > shown,
                        "at 390 px the pools table ({wide} px) scrolls inside its {shown} px"
                    );
                } else {
                    assert_eq!(wide, shown, "at 1280 px the pools table fits");
                }
            }
            if *name == "members" {
                assert_eq!(browser.text("#range"), "第 1–5 名，共 5 名");
                let first = browser
                    .script("return document.querySelector('#member-list tr[data-member]').dataset.member");
                assert_eq!(first, "E", "the newest first");
            }
        }
    }
    // English by choice: the header's switch, kept (by its cookie) on the next page.
    browser.goto(&format!("http://{addr}/console/members"));
    browser.click("#lang-switch");
    assert_eq!(browser.text("html[lang=en] #range"), "1–5 of 5");
    browser.goto(&format!("http://{addr}/console"));
    assert_eq!(browser.text("html[lang=en] #pools tr[data-mechanism=appr] span.kind"), "Appreciation");
    fits("overview-en", 1280);
    browser.window(390, 900);
    browser.goto(&format!("http://{addr}/console/members"));
    assert_eq!(browser.text("html[lang=en] #range"), "1–5 of 5");
    fits("members-en", 390);
}
