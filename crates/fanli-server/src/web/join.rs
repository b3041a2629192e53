//! The join page (`/join?tenant=T&ref=MEMBER`), where a member's referral link and QR code lead:
//! a newcomer picks a member id (and may give a phone number), joins the tenant with the
//! referrer, and is sent to their own page (`/m?t=TOKEN`) with a member token made for them.
//! In the language the other pages choose ([`Lang::of`]), one column, as the member page.
//!
//! The join is the event `POST /v1/members` writes (`{"type": "join", "member", "referrer",
//! "phone", "ip"}`), through the writer, so the plan's anti-fraud rules see it as any other:
//! a suspicious referral (`max_per_ip`, `max_per_phone`, a burst, a ring) is held for the
//! operator's review and pays nothing until approved. Its key is `join` (the log names the
//! page as the writer, as it names the key of every API write); so is the `created_by` of the
//! token.
//!
//! Bounds on abuse (docs/decisions.md, *The join page*): a tenant turns the page off with `PUT
//! /v1/settings {"public_join": false}` (it is on by default, since every member page hands out
//! its link); each address may try [`PER_ADDRESS`] joins per [`WINDOW`] (an IPv6 address by its
//! /64), and a tenant takes at most [`PER_TENANT`] new members a window from the page; past
//! either the page answers `429` and says when to try again. The address is the connection's,
//! or the last `X-Forwarded-For` hop when the connection comes from a loopback or private
//! address (a proxy in front).

use std::collections::HashMap;
use std::net::{IpAddr, SocketAddr};
use std::sync::Mutex;
use std::time::{Duration, Instant};

use axum::extract::{ConnectInfo, Query, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::{Extension, Form};
use maud::{Markup, html};
use serde_json::Value;

use super::i18n::tr_html;
use super::{Lang, encode, page as layout, tr};
use crate::auth::Role;
use crate::{Line, LineResult, Shared, lock};

/// How long the join page's counts last.
pub const WINDOW: Duration = Duration::from_secs(600);
/// Join attempts (refused ones too) one address may make a window.
pub const PER_ADDRESS: u32 = 10;
/// New members a tenant takes from the page a window.
pub const PER_TENANT: u32 = 300;
/// The most addresses counted at once: past it, new addresses are bounded by the tenant's
/// count alone (the memory stays bounded under a flood of addresses).
const ADDRESSES: usize = 100_000;
/// The key id the page writes with (the log's and the token's `created_by`).
const BY: &str = "join";

/// The join page's counts: attempts per address and joins per tenant in the current window.
#[derive(Default)]
pub(crate) struct Limiter(Mutex<Counts>);

#[derive(Default)]
struct Counts {
    /// When the current window began (`None` before the first attempt).
    since: Option<Instant>,
    addresses: HashMap<String, u32>,
    tenants: HashMap<String, u32>,
}

impl Limiter {
    fn counts(&self, now: Instant) -> std::sync::MutexGuard<'_, Counts> {
        let mut counts = self.0.lock().unwrap_or_else(|poisoned| poisoned.into_inner());
        if counts.since.is_none_or(|since| now.duration_since(since) >= WINDOW) {
            *counts = Counts { since: Some(now), ..Counts::default() };
        }
        counts
    }

    /// Counts an attempt from `address` to join `tenant`; `Err(seconds to wait)` when the
    /// address or the tenant is past its bound.
    fn attempt(&self, address: &str, tenant: &str, now: Instant) -> Result<(), u64> {
        let mut counts = self.counts(now);
        let wait = WINDOW.saturating_sub(now.duration_since(counts.since.unwrap_or(now))).as_secs().max(1);
        if counts.tenants.get(tenant).is_some_and(|&n| n >= PER_TENANT) {
            return Err(wait);
        }
        let full = counts.addresses.len() >= ADDRESSES;
        match counts.addresses.get_mut(address) {
            Some(n) if *n >= PER_ADDRESS => Err(wait),
            Some(n) => {
                *n += 1;
                Ok(())
            }
            None if full => Ok(()),
            None => {
                counts.addresses.insert(address.to_owned(), 1);
                Ok(())
            }
        }
    }

    /// Counts a member who joined `tenant`.
    fn joined(&self, tenant: &str, now: Instant) {
        *self.counts(now).tenants.entry(tenant.to_owned()).or_default() += 1;
    }
}

/// The client's address: the connection's, or the last `X-Forwarded-For` hop when the
/// connection is a proxy's (loopback or private) or unknown (in-process); `None` if neither.
fn client(peer: Option<SocketAddr>, headers: &HeaderMap) -> Option<IpAddr> {
    let forwarded = || {
        let header = headers.get("x-forwarded-for")?.to_str().ok()?;
        header.rsplit(',').next()?.trim().parse::<IpAddr>().ok()
    };
    match peer.map(|p| p.ip()) {
        Some(ip) if !behind_proxy(ip) => Some(ip),
        Some(ip) => forwarded().or(Some(ip)),
        None => forwarded(),
    }
}

/// The tenant of a join page's request (`/join?tenant=T`, the form posting to the same), for
/// a node of a cluster to forward it to the tenant's node.
pub(crate) fn tenant_of(uri: &axum::http::Uri) -> Option<String> {
    if uri.path() != "/join" {
        return None;
    }
    let Query(query) = Query::<HashMap<String, String>>::try_from_uri(uri).ok()?;
    query.get("tenant").map(|t| t.trim().to_owned()).filter(|t| !t.is_empty())
}

/// A join page's request about to be forwarded to another node, with the client's address
/// added to `X-Forwarded-For` (the tenant's node counts attempts by it); others as they are.
pub(crate) fn mark_client(mut request: axum::extract::Request) -> axum::extract::Request {
    if request.uri().path() != "/join" {
        return request;
    }
    let peer = request.extensions().get::<ConnectInfo<SocketAddr>>().map(|ConnectInfo(addr)| *addr);
    let Some(ip) = client(peer, request.headers()) else { return request };
    let chain = match request.headers().get("x-forwarded-for").and_then(|v| v.to_str().ok()) {
        Some(before) => format!("{before}, {ip}"),
        None => ip.to_string(),
    };
    if let Ok(value) = HeaderValue::from_str(&chain) {
        request.headers_mut().insert("x-forwarded-for", value);
    }
    request
}

/// Whether a connection from `ip` may be a proxy's: loopback, private or link-local.
fn behind_proxy(ip: IpAddr) -> bool {
    match ip {
        IpAddr::V4(v4) => v4.is_loopback() || v4.is_private() || v4.is_link_local(),
        IpAddr::V6(v6) => {
            v6.is_loopback() || (v6.segments()[0] & 0xfe00) == 0xfc00 || (v6.segments()[0] & 0xffc0) == 0xfe80
        }
    }
}

/// What the limiter counts an address as: an IPv4 address, an IPv6 address's /64.
fn bucket(ip: Option<IpAddr>) -> String {
    match ip {
        Some(IpAddr::V6(v6)) if v6.to_ipv4_mapped().is_none() => {
            let s = v6.segments();
            format!("{:x}:{:x}:{:x}:{:x}::/64", s[0], s[1], s[2], s[3])
        }
        Some(IpAddr::V6(v6)) => v6.to_ipv4_mapped().map_or_else(String::new, |v4| v4.to_string()),
        Some(ip) => ip.to_string(),
        None => "unknown".to_owned(),
    }
}

/// What the page shows: the tenant, the referrer, what was typed, and what went wrong.
struct JoinForm<'a> {
    lang: Lang,
    tenant: &'a str,
    referrer: Option<&'a str>,
    /// The plan's name, the shop's scheme as its members know it.
    scheme: &'a str,
    member: &'a str,
    phone: &'a str,
    error: Option<String>,
    /// Whether the form is shown (not when the link itself is wrong).
    open: bool,
}

/// A field of the query or form, trimmed; `None` when absent or blank.
fn field<'a>(fields: &'a HashMap<String, String>, name: &str) -> Option<&'a str> {
    fields.get(name).map(|v| v.trim()).filter(|v| !v.is_empty())
}

/// What stands in the way of joining `tenant` with `referrer` before anything is typed: the
/// status and the message, or the plan's name.
fn open_to(
    server: &Shared,
    tenant: Option<&str>,
    referrer: Option<&str>,
    lang: Lang,
) -> Result<String, (StatusCode, String)> {
    let Some(tenant) = tenant else {
        return Err((StatusCode::BAD_REQUEST, tr!(lang, "join-incomplete")));
    };
    let mut app = lock(server);
    let Some(engine) = app.tenants.get(tenant).map(|t| t.engine.as_ref()) else {
        return Err((StatusCode::NOT_FOUND, tr!(lang, "join-no-shop")));
    };
    let Some(engine) = engine else {
        return Err((StatusCode::NOT_FOUND, tr!(lang, "join-no-scheme")));
    };
    if let Some(referrer) = referrer
        && engine.find_member(referrer).is_none()
    {
        return Err((StatusCode::NOT_FOUND, tr!(lang, "join-unknown-referrer")));
    }
    let scheme = engine.plan().name.clone();
    let settings = crate::blocking(|| app.store.tenant_settings(tenant));
    match settings {
        Ok(settings) if settings.public_join => Ok(scheme),
        Ok(_) => Err((StatusCode::FORBIDDEN, tr!(lang, "join-closed"))),
        Err(error) => Err((StatusCode::SERVICE_UNAVAILABLE, crate::internal(error).2)),
    }
}

/// `GET /join?tenant=T[&ref=MEMBER][&lang=en]`: the form.
pub(crate) async fn page(
    State(server): State<Shared>,
    headers: HeaderMap,
    Query(query): Query<HashMap<String, String>>,
) -> Response {
    let lang = Lang::of_fields(&headers, &query);
    let (tenant, referrer) = (field(&query, "tenant"), field(&query, "ref"));
    let (status, scheme, error) = match open_to(&server, tenant, referrer, lang) {
        Ok(scheme) => (StatusCode::OK, scheme, None),
        Err((status, message)) => (status, String::new(), Some(message)),
    };
    let form = JoinForm {
        lang,
        tenant: tenant.unwrap_or_default(),
        referrer,
        scheme: &scheme,
        member: "",
        phone: "",
        open: error.is_none(),
        error,
    };
    answer(status, &form)
}

/// `POST /join` (a form: `tenant`, `ref`, `member`, `phone`, `lang`): joins, then `303` to the
/// new member's page; else the form again with what went wrong.
pub(crate) async fn join(
    State(server): State<Shared>,
    peer: Option<Extension<ConnectInfo<SocketAddr>>>,
    headers: HeaderMap,
    Form(form): Form<HashMap<String, String>>,
) -> Response {
    let lang = Lang::of_fields(&headers, &form);
    let (tenant, referrer) = (field(&form, "tenant"), field(&form, "ref"));
    let member = field(&form, "member").unwrap_or_default();
    let phone_typed = field(&form, "phone").unwrap_or_default();
    let mut shown = JoinForm {
        lang,
        tenant: tenant.unwrap_or_default(),
        referrer,
        scheme: "",
        member,
        phone: phone_typed,
        error: None,
        open: true,
    };
    let ip = client(peer.map(|Extension(ConnectInfo(addr))| addr), &headers);
    let now = Instant::now();
    if let Err(wait) = server.joins.attempt(&bucket(ip), tenant.unwrap_or_default(), now) {
        let minutes = wait.div_ceil(60);
        shown.error = Some(tr!(lang, "join-too-many", minutes = minutes));
        let mut response = answer(StatusCode::TOO_MANY_REQUESTS, &shown);
        if let Ok(value) = HeaderValue::from_str(&wait.to_string()) {
            response.headers_mut().insert(header::RETRY_AFTER, value);
        }
        return response;
    }
    let scheme = match open_to(&server, tenant, referrer, lang) {
        Ok(scheme) => scheme,
        Err((status, message)) => {
            shown.error = Some(message);
            shown.open = false;
            return answer(status, &shown);
        }
    };
    shown.scheme = &scheme;
    let tenant = tenant.unwrap_or_default();
    if member.is_empty() {
        shown.error = Some(tr!(lang, "join-name-missing"));
        return answer(StatusCode::UNPROCESSABLE_ENTITY, &shown);
    }
    let phone = match phone_number(phone_typed) {
        Ok(phone) => phone,
        Err(()) => {
            shown.error = Some(tr!(lang, "join-bad-phone"));
            return answer(StatusCode::UNPROCESSABLE_ENTITY, &shown);
        }
    };
    let mut fields = serde_json::Map::new();
    fields.insert("member".to_owned(), Value::from(member));
    if let Some(referrer) = referrer {
        fields.insert("referrer".to_owned(), Value::from(referrer));
    }
    if let Some(phone) = phone {
        fields.insert("phone".to_owned(), Value::from(phone));
    }
    if let Some(ip) = ip {
        fields.insert("ip".to_owned(), Value::from(ip.to_string()));
    }
    let line = Line::Body { kind: "join", fields };
    let result = crate::submit_lines(&server, tenant.to_owned(), Some(BY.to_owned()), vec![line]).await;
    match result.map(|mut results| results.remove(0)) {
        Ok(LineResult::Applied { .. }) => {}
        Ok(LineResult::Refused(refusal)) => {
            shown.error = Some(refused(lang, refusal.code, &refusal.error));
            return answer(StatusCode::UNPROCESSABLE_ENTITY, &shown);
        }
        Ok(LineResult::Skipped) => {
            shown.error = Some(tr!(lang, "join-failed"));
            return answer(StatusCode::INTERNAL_SERVER_ERROR, &shown);
        }
        Err(error) => {
            shown.error = Some(match error.0 {
                StatusCode::SERVICE_UNAVAILABLE => tr!(lang, "join-try-later"),
                _ => tr!(lang, "join-failed-because", error = &error.2),
            });
            return answer(error.0, &shown);
        }
    }
    server.joins.joined(tenant, now);
    let issued = {
        let mut app = lock(&server);
        crate::issue_key(&mut app, tenant, Role::Member(member.to_owned()), BY)
    };
    match issued {
        Ok((token, _)) => {
            // English is kept in the link for a browser without cookies; Chinese is the default.
            let english = if lang == Lang::En { "&lang=en" } else { "" };
            let to = format!("/m?t={}{english}", encode(&token));
            let mut response = (StatusCode::SEE_OTHER, [(header::LOCATION, to)]).into_response();
            let headers = response.headers_mut();
            headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
            headers.insert(header::REFERRER_POLICY, HeaderValue::from_static("no-referrer"));
            response
        }
        Err(error) => {
            shown.error = Some(tr!(lang, "join-no-member-link", error = &error.2));
            shown.open = false;
            answer(StatusCode::INTERNAL_SERVER_ERROR, &shown)
        }
    }
}

/// A phone number as typed, without spaces and dashes: `+`, then 6 to 15 digits; `Ok(None)`
/// when none was typed.
fn phone_number(typed: &str) -> Result<Option<String>, ()> {
    let phone: String = typed.chars().filter(|c| !matches!(c, ' ' | '-')).collect();
    if phone.is_empty() {
        return Ok(None);
    }
    let digits = phone.strip_prefix('+').unwrap_or(&phone);
    if (6..=15).contains(&digits.len()) && digits.bytes().all(|b| b.is_ascii_digit()) {
        Ok(Some(phone))
    } else {
        Err(())
    }
}

/// A refused join, said to a newcomer (the rejection's codes: docs/rejections.md).
fn refused(lang: Lang, code: &str, message: &str) -> String {
    match code {
        "already_joined" => tr!(lang, "join-taken"),
        "empty_id" | "bad_id" => tr!(lang, "join-bad-name"),
        "unknown_referrer" => tr!(lang, "join-unknown-referrer"),
        "self_referral" => tr!(lang, "join-self-referral"),
        _ => tr!(lang, "join-refused", reason = message),
    }
}

/// The page, with `status`.
fn answer(status: StatusCode, form: &JoinForm<'_>) -> Response {
    let mut response = layout(form.lang, &tr!(form.lang, "join-title"), None, render(form));
    *response.status_mut() = status;
    response
}

fn render(form: &JoinForm<'_>) -> Markup {
    let lang = form.lang;
    let mut switch = format!("/join?tenant={}", encode(form.tenant));
    if let Some(referrer) = form.referrer {
        switch.push_str(&format!("&ref={}", encode(referrer)));
    }
    // The switch names its language: with no `lang`, a cookie or the browser's language would
    // choose again.
    switch.push_str(&format!("&lang={}", lang.other().short()));
    html! {
        div style="max-width:480px;margin:0 auto" {
            section #join {
                div style="display:flex;justify-content:space-between;align-items:baseline;gap:8px;flex-wrap:wrap" {
                    h1 style="margin:0" { (tr!(lang, "join-title")) }
                    a #lang href=(switch) lang=(lang.other().code()) { (tr!(lang, "switch-language")) }
                }
                @if !form.scheme.is_empty() {
                    p style="margin:4px 0 0" { b #scheme { (form.scheme) } }
                }
                @if let Some(referrer) = form.referrer.filter(|_| form.open) {
                    p.note #referrer style="margin:4px 0 0;word-break:break-all" {
                        (tr_html!(lang, "join-referrer", referrer = html! { b { (referrer) } }))
                    }
                }
                @if let Some(error) = &form.error {
                    p.bad #error role="alert" style="margin:12px 0 0" { (error) }
                }
                @if form.open {
                    form method="post" action={ "/join?tenant=" (encode(form.tenant)) } style="display:flex;flex-direction:column;gap:12px;margin:12px 0 0" {
                        input type="hidden" name="tenant" value=(form.tenant);
                        @if let Some(referrer) = form.referrer { input type="hidden" name="ref" value=(referrer); }
                        input type="hidden" name="lang" value=(lang.short());
                        label style="display:flex;flex-direction:column;gap:4px" {
                            (tr!(lang, "join-member-name"))
                            input #member type="text" name="member" value=(form.member) required maxlength="64"
                                autocomplete="nickname" style="width:100%";
                            span.note { (tr!(lang, "join-member-note")) }
                        }
                        label style="display:flex;flex-direction:column;gap:4px" {
                            (tr!(lang, "join-phone"))
                            input #phone type="tel" name="phone" value=(form.phone) inputmode="tel" maxlength="20"
                                autocomplete="tel" style="width:100%";
                        }
                        button type="submit" style="width:100%" { (tr!(lang, "join-submit")) }
                    }
                    p.note style="margin:12px 0 0" { (tr!(lang, "join-note")) }
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_address_is_bounded_per_window_and_a_tenant_per_window_of_joins() {
        let limiter = Limiter::default();
        let start = Instant::now();
        for _ in 0..PER_ADDRESS {
            assert_eq!(limiter.attempt("1.2.3.4", "shop", start), Ok(()));
        }
        assert_eq!(limiter.attempt("1.2.3.4", "shop", start + Duration::from_secs(60)), Err(540));
        assert_eq!(limiter.attempt("5.6.7.8", "shop", start), Ok(()), "another address");
        // A new window forgets.
        assert_eq!(limiter.attempt("1.2.3.4", "shop", start + WINDOW), Ok(()));
        let later = start + WINDOW;
        for _ in 0..PER_TENANT {
            limiter.joined("shop", later);
        }
        assert_eq!(limiter.attempt("9.9.9.9", "shop", later), Err(600));
        assert_eq!(limiter.attempt("9.9.9.9", "other", later), Ok(()));
    }

    #[test]
    fn the_address_is_the_peers_or_a_proxys_last_hop_and_ipv6_counts_by_its_64() {
        let mut headers = HeaderMap::new();
        headers.insert("x-forwarded-for", "6.6.6.6, 203.0.113.9".parse().unwrap());
        let peer = |text: &str| Some(text.parse::<SocketAddr>().unwrap());
        assert_eq!(client(peer("198.51.100.7:5000"), &headers), Some("198.51.100.7".parse().unwrap()));
        assert_eq!(client(peer("127.0.0.1:5000"), &headers), Some("203.0.113.9".parse().unwrap()));
        assert_eq!(client(peer("10.1.2.3:5000"), &headers), Some("203.0.113.9".parse().unwrap()));
        assert_eq!(client(None, &headers), Some("203.0.113.9".parse().unwrap()));
        assert_eq!(client(None, &HeaderMap::new()), None);
        assert_eq!(bucket("2001:db8:1:2:3:4:5:6".parse().ok()), "2001:db8:1:2::/64");
        assert_eq!(bucket("::ffff:1.2.3.4".parse().ok()), "1.2.3.4");
        assert_eq!(bucket(None), "unknown");
    }

    #[test]
    fn a_phone_number_is_digits() {
        assert_eq!(phone_number(""), Ok(None));
        assert_eq!(phone_number("138 0013-8000"), Ok(Some("13800138000".to_owned())));
        assert_eq!(phone_number("+8613800138000"), Ok(Some("+8613800138000".to_owned())));
        assert_eq!(phone_number("12345"), Err(()));
        assert_eq!(phone_number("1380013800a"), Err(()));
    }
}
