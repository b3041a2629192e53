//! The web pages and the member's QR code, end to end on 127.0.0.1 (no browser: what is served).

use std::io::{Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::time::Duration;

mod common;

use common::{data_dir, start};
use serde_json::Value;

const PLAN: &str = include_str!("../../fanli-cli/tests/cases/seed_refer.toml");

/// An answer: status, headers (names in lower case) and body.
struct Answer {
    status: u16,
    head: Vec<(String, String)>,
    body: String,
}

impl Answer {
    fn header(&self, name: &str) -> Option<&str> {
        self.head.iter().find(|(n, _)| n == name).map(|(_, v)| v.as_str())
    }

    fn json(&self) -> Value {
        serde_json::from_str(&self.body).unwrap_or_else(|e| panic!("{e}: {}", self.body))
    }
}

/// One HTTP/1.1 request with `Host: test` and any `extra` header lines.
fn call(addr: SocketAddr, method: &str, path: &str, key: Option<&str>, extra: &str, body: &str) -> Answer {
    let mut stream = TcpStream::connect(addr).unwrap();
    stream.set_read_timeout(Some(Duration::from_secs(10))).unwrap();
    let auth = key.map_or(String::new(), |k| format!("Authorization: Bearer {k}\r\n"));
    write!(
        stream,
        "{method} {path} HTTP/1.1\r\nHost: test\r\n{auth}{extra}Content-Length: {}\r\nConnection: close\r\n\r\n{body}",
        body.len()
    )
    .unwrap();
    let mut response = String::new();
    stream.read_to_string(&mut response).unwrap();
    let status = response[9..12].parse().unwrap();
    let (head, rest) = response.split_once("\r\n\r\n").unwrap();
    let head: Vec<(String, String)> = head
        .lines()
        .skip(1)
        .filter_map(|l| l.split_once(':'))
        .map(|(n, v)| (n.trim().to_ascii_lowercase(), v.trim().to_owned()))
        .collect();
    // Bodies may come chunked.
    let chunked = head.iter().any(|(n, v)| n == "transfer-encoding" && v.contains("chunked"));
    let body = if chunked {
        let mut out = String::new();
        let mut rest = rest;
        while let Some((size, tail)) = rest.split_once("\r\n") {
            let size = usize::from_str_radix(size.trim(), 16).unwrap();
            if size == 0 {
                break;
            }
            out.push_str(&tail[..size]);
            rest = &tail[size + 2..];
        }
        out
    } else {
        rest.to_owned()
    };
    Answer { status, head, body }
}

#[test]
fn the_pages_are_served_self_contained_with_a_strict_policy() {
    let dir = data_dir("web-pages");
    let addr = start(&dir);
    let console = call(addr, "GET", "/console", None, "", "");
    let member = call(addr, "GET", "/m", None, "", "");
    for (page, elements) in [
        (
            &console,
            &[
                "id=\"key\"",
                "id=\"mechanisms\"",
                "id=\"chart\"",
                "id=\"members\"",
                "id=\"reviews\"",
                "id=\"webhook\"",
            ][..],
        ),
        (&member, &["name=\"viewport\"", "id=\"content\"", "id=\"qr\"", "/v1/me", "/v1/me/qr.svg"][..]),
    ] {
        assert_eq!(page.status, 200);
        assert_eq!(page.header("content-type"), Some("text/html; charset=utf-8"));
        let csp = page.header("content-security-policy").expect("a policy");
        for rule in [
            "default-src 'self'",
            "script-src 'self' 'unsafe-inline'",
            "img-src 'self' data:",
            "frame-ancestors 'none'",
        ] {
            assert!(csp.contains(rule), "{rule} not in {csp}");
        }
        assert!(!csp.contains("http") && !csp.contains('*'), "the policy allows another origin: {csp}");
        assert_eq!(page.header("x-content-type-options"), Some("nosniff"));
        for element in elements {
            assert!(page.body.contains(element), "{element} is missing");
        }
        // Nothing from elsewhere, and data never parsed as HTML.
        for outside in
            ["src=\"http", "href=\"http", "src='http", "href='http", "<script src", "<link", "@import"]
        {
            assert!(!page.body.contains(outside), "{outside} in a page");
        }
        assert!(!page.body.contains("innerHTML") && !page.body.contains("insertAdjacentHTML"));
        assert!(!page.body.contains("document.write"));
    }
    // The operator's key stays in the tab; the member's token comes in the fragment.
    assert!(console.body.contains("sessionStorage") && !console.body.contains("localStorage"));
    assert!(member.body.contains("location.hash") && member.body.contains("localStorage"));
    assert!(console.body.contains("/v1/reports") && console.body.contains("/v1/reviews"));
}

#[test]
fn a_member_token_reads_its_view_and_its_referral_qr_code() {
    let dir = data_dir("web-member");
    let addr = start(&dir);
    let tenant = call(addr, "POST", "/v1/tenants", Some("master-secret"), "", r#"{"id":"shop"}"#);
    assert_eq!(tenant.status, 201);
    let owner = tenant.json()["owner_key"].as_str().unwrap().to_owned();
    assert_eq!(call(addr, "PUT", "/v1/plan", Some(&owner), "", PLAN).status, 200);
    assert_eq!(call(addr, "POST", "/v1/members", Some(&owner), "", r#"{"member":"A"}"#).status, 200);
    let order = r#"{"order":"a1","member":"A","amount":"1000.00"}"#;
    assert_eq!(call(addr, "POST", "/v1/orders", Some(&owner), "", order).status, 200);
    let token = call(addr, "POST", "/v1/members/A/token", Some(&owner), "", "");
    assert_eq!(token.status, 201);
    let token = token.json()["token"].as_str().unwrap().to_owned();

    // What the member page renders: `{ID: view}`.
    let me = call(addr, "GET", "/v1/me", Some(&token), "", "");
    assert_eq!(me.status, 200);
    let view = &me.json()["A"];
    assert_eq!(view["spent"], "1000.00");
    assert!(view["wallet"].is_string() && view["credit"].is_string() && view["points"].is_object());
    assert_eq!(view["mechanisms"]["r3"]["progress"], "0 of 3");

    let qr = call(addr, "GET", "/v1/me/qr.svg", Some(&token), "", "");
    assert_eq!(qr.status, 200, "{}", qr.body);
    assert_eq!(qr.header("content-type"), Some("image/svg+xml"));
    assert!(qr.body.starts_with("<?xml") || qr.body.starts_with("<svg"));
    assert!(qr.body.contains("<svg") && qr.body.contains("<path") && qr.body.trim_end().ends_with("</svg>"));
    assert_eq!(qr.header("x-fanli-referral"), Some("http://test/join?tenant=shop&ref=A"));
    assert_eq!(qr.header("cache-control"), Some("private, no-store"));
    // Behind a TLS proxy the link is https.
    let proxied = call(addr, "GET", "/v1/me/qr.svg", Some(&token), "X-Forwarded-Proto: https\r\n", "");
    assert_eq!(proxied.header("x-fanli-referral"), Some("https://test/join?tenant=shop&ref=A"));

    // Member tokens only.
    let by_owner = call(addr, "GET", "/v1/me/qr.svg", Some(&owner), "", "");
    assert_eq!(by_owner.status, 403);
    assert_eq!(by_owner.json()["error"]["code"], "forbidden");
    assert_eq!(call(addr, "GET", "/v1/me/qr.svg", None, "", "").status, 401);
    assert_eq!(call(addr, "GET", "/v1/me/qr.svg", Some("guess"), "", "").status, 401);
}
