//! The web pages: the operator console and the member page (H5), and the member's referral QR
//! code.
//!
//! Both pages are static, self-contained HTML (inline CSS and vanilla JavaScript, no CDN, no
//! build step) compiled into the binary (`web/console.html`, `web/member.html`). Loading a page
//! needs no key: every datum comes from the JSON API, called by the page with the key the user
//! gives it. Pages are sent with a Content-Security-Policy that allows scripts, styles and
//! fetches from this server only (plus `data:` images, for the QR code), no framing and no form
//! submission; the pages insert data into the DOM as text only (`textContent`, never
//! `innerHTML`).
//!
//! - `GET /console`: the operator console. The operator pastes a key (owner, read-only, brand
//!   manager or store operator), kept in `sessionStorage` for the tab, never in a URL. Panels:
//!   mechanisms (`GET /v1/mechanisms`: each pool, obligations, paid, the appreciation price and
//!   the kind's own figures); a chart of pool, obligations and paid, and of the price, over the
//!   daily reports (`GET /v1/reports`, one line per `close_day`; inline SVG drawn by the page);
//!   members, 50 a page (`GET /v1/members?offset=N&limit=50`), with a lookup of one
//!   (`GET /v1/members/{id}`) and a button that makes that member's page link
//!   (`POST /v1/members/{id}/token`, shown once); the review queue (`GET /v1/reviews`) with
//!   approve and reject (`POST /v1/reviews {"member", "decision"}`); the webhook's status
//!   (`GET /v1/webhook`). A panel the key may not read (403) says so in the panel.
//! - `GET /m`: the member page, for phones, Chinese first with English beside. The member opens
//!   `/m#token=TOKEN` (a fragment is not sent to the server, so the token stays out of logs);
//!   the page keeps the token in `localStorage`, removes it from the address bar and calls
//!   `GET /v1/me`: balances (wallet, store credit, spent, team sales, refunded), referrer and
//!   the referral's review status, each mechanism's points and their value, and every figure of
//!   the member's standing in each mechanism (refer_refund progress "k of N" as a bar, queue
//!   place and the amount ahead, exit price, green lots, cycle quota, loyalty tier and expiries,
//!   what was received and is owed), tolerating fields that are absent. Then the referral QR
//!   code from `GET /v1/me/qr.svg`, with the link under it.
//! - `GET /v1/me/qr.svg` (member tokens only): an SVG QR code of the member's referral link,
//!   `{origin}/join?tenant=T&ref=MEMBER`; the link itself is in the `X-Fanli-Referral` header.
//!   The origin is `http://` plus the request's `Host` header (`https://` when a proxy in front
//!   sets `X-Forwarded-Proto: https`; a proxy must pass the public `Host` through): the link
//!   points at the server the member reached. The platform's own signup page is expected to live
//!   at `/join` there, or a proxy to redirect it; a URL configured per tenant is future work. The
//!   key is checked by the app's own key lookup, as for every API call.

use axum::Router;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::get;

use crate::auth::Role;
use crate::{ApiError, Shared};

/// The operator console.
const CONSOLE: &str = include_str!("../web/console.html");

/// The member page.
const MEMBER: &str = include_str!("../web/member.html");

/// The pages' Content-Security-Policy: nothing from elsewhere, inline scripts and styles (the
/// pages are single files), `data:` images (the QR code the member page fetches with its token).
pub const CSP: &str = "default-src 'self'; script-src 'self' 'unsafe-inline'; \
     style-src 'self' 'unsafe-inline'; img-src 'self' data:; connect-src 'self'; object-src 'none'; \
     base-uri 'none'; form-action 'none'; frame-ancestors 'none'";

/// The pages' routes (no key needed to load a page; every datum comes from the API), and the
/// member's QR code.
pub fn routes() -> Router<Shared> {
    Router::new()
        .route("/console", get(|| async { page(CONSOLE) }))
        .route("/m", get(|| async { page(MEMBER) }))
        .route("/v1/me/qr.svg", get(member_qr))
}

fn page(html: &'static str) -> Response {
    (
        [
            (header::CONTENT_TYPE, "text/html; charset=utf-8"),
            (header::CONTENT_SECURITY_POLICY, CSP),
            (header::X_CONTENT_TYPE_OPTIONS, "nosniff"),
            (header::REFERRER_POLICY, "no-referrer"),
            (header::CACHE_CONTROL, "no-cache"),
        ],
        html,
    )
        .into_response()
}

/// `GET /v1/me/qr.svg` (a member token): the member's referral link as an SVG QR code.
async fn member_qr(State(server): State<Shared>, headers: HeaderMap) -> Result<Response, ApiError> {
    let caller = crate::lock(&server).caller(&headers)?;
    let Role::Member(member) = caller.role else {
        let message = format!("/v1/me/qr.svg is for member tokens; this key is a {} key", caller.role.name());
        return Err(ApiError(StatusCode::FORBIDDEN, "forbidden", message));
    };
    let link = referral_link(&origin(&headers)?, &caller.tenant, &member);
    let svg = qr_svg(&link).map_err(crate::internal)?;
    Ok((
        [
            (header::CONTENT_TYPE, "image/svg+xml"),
            (header::CACHE_CONTROL, "private, no-store"),
            (header::X_CONTENT_TYPE_OPTIONS, "nosniff"),
        ],
        [(header::HeaderName::from_static("x-fanli-referral"), link)],
        svg,
    )
        .into_response())
}

/// `scheme://host[:port]` of the request: its `Host` header, `https` when a proxy says so.
fn origin(headers: &HeaderMap) -> Result<String, ApiError> {
    let host = headers.get(header::HOST).and_then(|h| h.to_str().ok()).unwrap_or_default();
    let sane = !host.is_empty()
        && host.len() <= 255
        && host.bytes().all(|b| b.is_ascii_alphanumeric() || b".-:[]".contains(&b));
    if !sane {
        let message = "the referral link needs the request's `Host` header: a host name and port".to_owned();
        return Err(ApiError(StatusCode::BAD_REQUEST, "bad_request", message));
    }
    let https = headers
        .get("x-forwarded-proto")
        .and_then(|p| p.to_str().ok())
        .is_some_and(|p| p.eq_ignore_ascii_case("https"));
    Ok(format!("{}://{host}", if https { "https" } else { "http" }))
}

/// `{origin}/join?tenant=T&ref=MEMBER`, the values percent-encoded.
fn referral_link(origin: &str, tenant: &str, member: &str) -> String {
    format!("{origin}/join?tenant={}&ref={}", encode(tenant), encode(member))
}

/// A query value, percent-encoded (UTF-8): everything but the unreserved characters.
fn encode(value: &str) -> String {
    let mut out = String::with_capacity(value.len());
    for b in value.bytes() {
        if b.is_ascii_alphanumeric() || b"-._~".contains(&b) {
            out.push(char::from(b));
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

/// `data` as an SVG QR code (error correction M, with the quiet zone).
fn qr_svg(data: &str) -> Result<String, qrcode::types::QrError> {
    let code = qrcode::QrCode::new(data.as_bytes())?;
    Ok(code
        .render::<qrcode::render::svg::Color<'_>>()
        .min_dimensions(240, 240)
        .dark_color(qrcode::render::svg::Color("#000"))
        .light_color(qrcode::render::svg::Color("#fff"))
        .build())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_referral_link_encodes_its_values() {
        assert_eq!(referral_link("http://h:8080", "t-1", "A"), "http://h:8080/join?tenant=t-1&ref=A");
        assert_eq!(
            referral_link("https://h", "t", "a b&c=d/会"),
            "https://h/join?tenant=t&ref=a%20b%26c%3Dd%2F%E4%BC%9A"
        );
    }

    #[test]
    fn the_origin_is_the_host_and_a_proxys_scheme() {
        let mut headers = HeaderMap::new();
        assert!(origin(&headers).is_err());
        headers.insert(header::HOST, "shop.example:8080".parse().unwrap());
        assert_eq!(origin(&headers).unwrap(), "http://shop.example:8080");
        headers.insert("x-forwarded-proto", "https".parse().unwrap());
        assert_eq!(origin(&headers).unwrap(), "https://shop.example:8080");
        headers.insert(header::HOST, "evil/path?x".parse().unwrap());
        assert!(origin(&headers).is_err());
    }

    #[test]
    fn a_qr_code_is_an_svg() {
        let svg = qr_svg("http://h/join?tenant=t&ref=A").unwrap();
        assert!(svg.starts_with("<?xml") && svg.contains("<svg") && svg.ends_with("</svg>"));
        assert!(svg.contains("<path"));
    }
}
