//! The web pages, rendered on the server from the same state the API returns: the operator
//! console (`/console`, [`console`]), the member's phone page (`/m`, [`member`]) and the join
//! page its referral link leads to (`/join`, [`join`]).
//!
//! HTML is written with maud, which escapes every value it inserts; the only markup inserted as
//! is comes from this crate (the charts, drawn by the simulator's report code).
//! Pages run no script: forms post, links link. Every page is sent with a Content-Security-Policy
//! that allows nothing from elsewhere and no script at all, no framing, and forms posting only
//! here.
//!
//! The console is entered with an operator key pasted into a form (`POST /console/login`); the
//! server answers with a session cookie (random, `HttpOnly`, `SameSite=Strict`, `Secure` behind
//! https, 8 hours, kept in memory: a restart asks for the key again). Keys never appear in a URL.
//! Every form that changes something carries the session's CSRF token, checked in constant
//! time. The member page is opened with the member's token in the link (`/m?t=TOKEN`): the one
//! key that may appear in a URL, since it shows only that member; the page is sent with
//! `Referrer-Policy: no-referrer` so that the link does not leak through its links.

pub(crate) mod console;
pub(crate) mod i18n;
pub(crate) mod join;
pub(crate) mod member;
pub(crate) mod versions;

pub(crate) use i18n::{Lang, tr};

use axum::Router;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use maud::{DOCTYPE, Markup, PreEscaped, html};

use crate::auth::{Caller, Role};
use crate::{ApiError, Shared};

/// The pages' Content-Security-Policy: nothing from elsewhere, no script, inline styles (each
/// page is one document), `data:` images, forms posting here only.
pub const CSP: &str = "default-src 'none'; style-src 'unsafe-inline'; img-src 'self' data:; \
     form-action 'self'; base-uri 'none'; frame-ancestors 'none'";

/// The pages' routes, and the member's QR code for the API.
pub fn routes() -> Router<Shared> {
    Router::new()
        .route("/console", get(console::overview))
        .route("/console/login", get(console::login_page).post(console::login))
        .route("/console/logout", post(console::logout))
        .route("/console/plan", get(console::plan).post(console::put_plan))
        .route("/console/plan/simulate", post(console::simulate))
        .route("/console/members", get(console::members))
        .route("/console/members/{id}", get(console::member))
        .route("/console/reviews", get(console::reviews).post(console::decide))
        .route("/console/audit", get(console::audit))
        .route("/console/withdrawals", get(console::withdrawals::page).post(console::withdrawals::decide))
        .route("/console/proposals", get(console::proposals::page).post(console::proposals::propose))
        .route("/console/proposals/tally", post(console::proposals::tally))
        .route("/console/export/members.csv", get(console::exports::members))
        .route("/console/export/pools.csv", get(console::exports::pools))
        .route("/console/export/reports.csv", get(console::exports::reports))
        .route("/console/webhook", get(console::webhook::page).post(console::webhook::replay))
        .route("/m/vote", post(member::votes::vote))
        .route("/m", get(member::page))
        .route("/m/qr.svg", get(member::qr))
        .route("/m/qr.png", get(member::qr_png))
        .route("/m/proof", get(member::proofs::proof))
        .route("/join", get(join::page).post(join::join))
        .route("/v1/me/qr.svg", get(member_qr))
        .route("/v1/me/qr.png", get(member_qr_png))
        .layer(axum::middleware::from_fn(i18n::remember))
}

const STYLE: &str = "
*{box-sizing:border-box}body{margin:0;font:15px/1.5 -apple-system,'PingFang SC','Noto Sans CJK SC',sans-serif;color:#222;background:#f6f7f9}
header{background:#1d3557;color:#fff;padding:10px 16px;display:flex;flex-wrap:wrap;gap:12px;align-items:center}
header a{color:#fff;text-decoration:none;padding:6px 4px}header .who{margin-left:auto;font-size:13px;opacity:.85}header a.switch{font-size:13px;border:1px solid #fff8;border-radius:6px;padding:4px 8px}
main{max-width:1100px;margin:0 auto;padding:16px}section{background:#fff;border-radius:8px;padding:12px 16px;margin:0 0 16px;box-shadow:0 1px 2px #0001;overflow-x:auto}
table{min-width:100%}td,th{white-space:nowrap}td.wrap,th.wrap{white-space:normal;min-width:14em}.pair{white-space:nowrap}code{word-break:break-all}
input[type=password],input[type=search],input[type=text],textarea{max-width:100%}input#key{width:100%}form{max-width:100%}
@media (max-width:480px){main{padding:8px}section{padding:10px}header{padding:8px 10px;gap:6px}}
h1{font-size:20px;margin:4px 0 12px}h2{font-size:17px;margin:4px 0 10px}table{border-collapse:collapse;width:100%}
th,td{text-align:left;padding:6px 8px;border-bottom:1px solid #eee;vertical-align:top}td.n,th.n{text-align:right;font-variant-numeric:tabular-nums}
.note{color:#666;font-size:13px}.warn{color:#b45309}.bad{color:#b91c1c}.ok{color:#15803d}
input,textarea,button,select{font:inherit;padding:8px 10px;border:1px solid #bbb;border-radius:6px}button{background:#1d3557;color:#fff;border:0;min-height:44px;cursor:pointer}
button.alt{background:#fff;color:#1d3557;border:1px solid #1d3557}textarea{width:100%;font-family:monospace;font-size:13px}
pre{white-space:pre-wrap;word-break:break-all;background:#f3f4f6;padding:8px;border-radius:6px;font-size:12px}
figure.chart{margin:8px 0}figure.chart svg{width:100%;height:auto;background:#fff}figcaption{font-weight:600}
.cards{display:grid;grid-template-columns:repeat(auto-fit,minmax(150px,1fr));gap:10px}.card{background:#f3f6fb;border-radius:8px;padding:10px}
.card b{display:block;font-size:20px}.bar{height:10px;background:#e5e7eb;border-radius:5px;overflow:hidden}.bar i{display:block;height:100%;background:#2a9d8f}
";

/// A whole page: the head, the header (with the console's navigation when `nav` is given) and
/// `body`; sent with the pages' security headers.
pub(crate) fn page(lang: Lang, title: &str, nav: Option<(&Caller, &str)>, body: Markup) -> Response {
    shell(lang, title, nav, false, body)
}

/// A console page: [`page`] with the switch to the other language in its header (a link to
/// `?lang=`, which [`i18n::remember`] keeps in a cookie).
pub(crate) fn console_page(lang: Lang, title: &str, nav: Option<(&Caller, &str)>, body: Markup) -> Response {
    shell(lang, title, nav, true, body)
}

fn shell(lang: Lang, title: &str, nav: Option<(&Caller, &str)>, switch: bool, body: Markup) -> Response {
    let markup = html! {
        (DOCTYPE)
        html lang=(lang.code()) {
            head {
                meta charset="utf-8";
                meta name="viewport" content="width=device-width, initial-scale=1";
                title { (title) " · fanli" }
                style { (PreEscaped(STYLE)) }
            }
            body {
                header {
                    strong { "fanli 返利" }
                    @if let Some((caller, _)) = nav {
                        a href="/console" { (tr!(lang, "nav-overview")) }
                        @let whole = matches!(caller.role, Role::Owner | Role::ReadOnly);
                        @if whole { a href="/console/plan" { (tr!(lang, "nav-plan")) } }
                        a href="/console/members" { (tr!(lang, "nav-members")) }
                        @if whole {
                            a href="/console/reviews" { (tr!(lang, "nav-reviews")) }
                            a href="/console/withdrawals" { (tr!(lang, "nav-withdrawals")) }
                            a href="/console/proposals" { (tr!(lang, "nav-votes")) }
                            a href="/console/audit" { (tr!(lang, "nav-audit")) }
                            a href="/console/webhook" { (tr!(lang, "nav-webhook")) }
                        }
                        span.who {
                            (caller.tenant) " · " (lang.name("role", caller.role.name()))
                            @if let Some(scope) = caller.role.scope() { " " (scope) }
                        }
                    }
                    // The other language, for this page and (by its cookie) the next ones.
                    @if switch {
                        a #lang-switch.switch href={ "?lang=" (lang.other().short()) } lang=(lang.other().code()) { (tr!(lang, "switch-language")) }
                    }
                    @if let Some((_, csrf)) = nav {
                        form method="post" action="/console/logout" {
                            input type="hidden" name="csrf" value=(csrf);
                            button.alt type="submit" { (tr!(lang, "nav-log-out")) }
                        }
                    }
                }
                main { (body) }
            }
        }
    };
    html_response(StatusCode::OK, markup)
}

/// `markup` with the pages' headers.
pub(crate) fn html_response(status: StatusCode, markup: Markup) -> Response {
    (
        status,
        [
            (header::CONTENT_TYPE, "text/html; charset=utf-8"),
            (header::CONTENT_SECURITY_POLICY, CSP),
            (header::X_CONTENT_TYPE_OPTIONS, "nosniff"),
            (header::REFERRER_POLICY, "no-referrer"),
            (header::CACHE_CONTROL, "no-store"),
        ],
        markup.into_string(),
    )
        .into_response()
}

/// A page that says what went wrong.
pub(crate) fn error_page(lang: Lang, status: StatusCode, message: &str) -> Response {
    let body = html! { section { h1 { (tr!(lang, "error-title")) } p.bad { (message) } } };
    let mut response = page(lang, &tr!(lang, "error-title"), None, body);
    *response.status_mut() = status;
    response
}

/// Whether `path` is one of the pages' (answered in HTML, errors included).
pub(crate) fn is_page(path: &str) -> bool {
    path == "/console"
        || path.starts_with("/console/")
        || path == "/m"
        || path.starts_with("/m/")
        || path == "/join"
}

/// The page a shed request gets (see [`crate::limits`]): `503`, `Retry-After: 1`, a few lines
/// of HTML, Chinese first (no state is read to make it: it is what an overloaded server can
/// still afford).
pub(crate) fn overloaded_page() -> Response {
    let markup = html! {
        (DOCTYPE)
        html lang="zh-CN" {
            head {
                meta charset="utf-8";
                meta name="viewport" content="width=device-width, initial-scale=1";
                title { "服务器繁忙 · Server busy · fanli" }
            }
            body style="font:16px/1.5 sans-serif;max-width:36em;margin:2em auto;padding:0 1em" {
                h1 style="font-size:20px" { "服务器繁忙" }
                p { "请求太多，请一秒后刷新重试。" }
                p lang="en" style="color:#666" { "The server is busy: reload in a second." }
            }
        }
    };
    let mut response = html_response(StatusCode::SERVICE_UNAVAILABLE, markup);
    response.headers_mut().insert(header::RETRY_AFTER, header::HeaderValue::from_static("1"));
    response
}

/// A view's figures as the pages read them: each by its name, typed, and owned (so that a page
/// can be laid out after the engine's lock is let go).
#[derive(Clone, Debug, Default)]
pub(crate) struct Figs(pub(crate) Vec<(&'static str, Shown)>);

/// One figure of [`Figs`].
#[derive(Clone, Debug)]
pub(crate) enum Shown {
    Money(fanli_engine::Money),
    Points(fanli_engine::Points),
    Price(fanli_engine::Price),
    Count(u64),
    Text(String),
    Time(fanli_engine::Timestamp),
    Of(u64, u64),
    Null,
    Group(Figs),
    List(Vec<Figs>),
}

impl Figs {
    /// The figures of a view, in its order.
    pub(crate) fn of(view: &impl fanli_engine::Figures) -> Figs {
        let mut figs = Figs::default();
        view.write(&mut figs);
        figs
    }

    /// The figure named `name`.
    pub(crate) fn get(&self, name: &str) -> Option<&Shown> {
        self.0.iter().find(|(n, _)| *n == name).map(|(_, f)| f)
    }

    /// The money figure named `name`, when it is one.
    pub(crate) fn money(&self, name: &str) -> Option<fanli_engine::Money> {
        match self.get(name) {
            Some(Shown::Money(m)) => Some(*m),
            _ => None,
        }
    }
}

impl Shown {
    /// Whether it is a figure other than zero.
    pub(crate) fn nonzero(&self) -> bool {
        match self {
            Shown::Money(m) => !m.is_zero(),
            Shown::Points(p) => !p.is_zero(),
            Shown::Price(p) => !p.is_zero(),
            Shown::Count(n) => *n > 0,
            _ => false,
        }
    }

    /// As the console shows it: figures as the JSON views write them (money without ¥, times in
    /// UTC), a dash for nothing, a group as its JSON text.
    pub(crate) fn raw(&self) -> String {
        match self {
            Shown::Money(m) => m.to_string(),
            Shown::Time(at) => at.to_string(),
            Shown::Group(_) | Shown::List(_) => self.json().to_string(),
            other => other.text(fanli_engine::UtcOffset::UTC),
        }
    }

    /// The figure as the JSON views write it (`fanli_format`'s writer of the same figures).
    fn json(&self) -> serde_json::Value {
        use serde_json::Value;
        let group =
            |figs: &Figs| Value::Object(figs.0.iter().map(|(k, f)| ((*k).to_owned(), f.json())).collect());
        match self {
            Shown::Money(m) => m.to_string().into(),
            Shown::Points(p) => p.to_string().into(),
            Shown::Price(p) => p.display().to_string().into(),
            Shown::Count(n) => (*n).into(),
            Shown::Text(t) => t.clone().into(),
            Shown::Time(at) => at.to_string().into(),
            Shown::Of(done, of) => format!("{done} of {of}").into(),
            Shown::Null => Value::Null,
            Shown::Group(figs) => group(figs),
            Shown::List(items) => items.iter().map(group).collect(),
        }
    }

    /// As a page shows it: money with ¥, times in `offset`, a group's figures joined by " · ".
    pub(crate) fn text(&self, offset: fanli_engine::UtcOffset) -> String {
        match self {
            Shown::Money(m) => format!("¥{m}"),
            Shown::Points(p) => p.to_string(),
            Shown::Price(p) => p.display().to_string(),
            Shown::Count(n) => n.to_string(),
            Shown::Text(t) => t.clone(),
            Shown::Time(at) => local_time(*at, offset),
            Shown::Of(done, of) => format!("{done} of {of}"),
            Shown::Null => "–".to_owned(),
            Shown::Group(figs) => figs.text(offset),
            Shown::List(items) => items.iter().map(|figs| figs.text(offset)).collect::<Vec<_>>().join(" · "),
        }
    }
}

impl Figs {
    /// A group's figures as a page shows them, joined by " · ".
    fn text(&self, offset: fanli_engine::UtcOffset) -> String {
        self.0.iter().map(|(_, f)| f.text(offset)).collect::<Vec<_>>().join(" · ")
    }
}

impl fanli_engine::Fields for Figs {
    fn figure(&mut self, key: fanli_engine::Key, figure: fanli_engine::Figure<'_>) {
        use fanli_engine::Figure;
        let shown = match figure {
            Figure::Money(m) => Shown::Money(m),
            Figure::Points(p) => Shown::Points(p),
            Figure::Price(p) => Shown::Price(p),
            Figure::Count(n) => Shown::Count(n),
            Figure::Text(t) => Shown::Text(t.to_owned()),
            Figure::Time(at) => Shown::Time(at),
            Figure::Of { done, of } => Shown::Of(done, of),
            Figure::Null => Shown::Null,
        };
        self.0.push((key.name(), shown));
    }

    fn object(&mut self, key: fanli_engine::Key, fill: impl FnOnce(&mut Self)) {
        let mut group = Figs::default();
        fill(&mut group);
        self.0.push((key.name(), Shown::Group(group)));
    }

    fn list<T>(&mut self, key: fanli_engine::Key, items: &[T], mut fill: impl FnMut(&mut Self, &T)) {
        let list = items
            .iter()
            .map(|item| {
                let mut group = Figs::default();
                fill(&mut group, item);
                group
            })
            .collect();
        self.0.push((key.name(), Shown::List(list)));
    }
}

/// A member's latest `limit` entries of history, newest first, typed. The writer wrote every
/// entry; one that does not read back is left out rather than shown half.
pub(crate) fn history(
    store: &mut crate::store::Store,
    tenant: &str,
    member: &str,
    limit: u32,
) -> Vec<(u64, fanli_format::HistoryEntry)> {
    let stored = crate::blocking(|| store.history(tenant, member, limit)).unwrap_or_default();
    stored
        .into_iter()
        .filter_map(|(line, event, rows)| Some((line, fanli_format::HistoryEntry::parse(&event, &rows)?)))
        .collect()
}

/// An instant as the plan's local date and time ("2027-01-03 00:00" at +08:00).
pub(crate) fn local_time(at: fanli_engine::Timestamp, offset: fanli_engine::UtcOffset) -> String {
    let local = at
        .unix_nanos()
        .checked_add(i64::from(offset.seconds()) * 1_000_000_000)
        .map(|nanos| fanli_engine::Timestamp::from_unix_nanos(nanos).to_string())
        .unwrap_or_else(|| at.to_string());
    match local.split_once('T') {
        Some((date, time)) => format!("{date} {}", time.get(..5).unwrap_or(time)),
        None => local,
    }
}

/// A time as the console shows every time: the plan's local date and time with its offset,
/// "2026-03-27 00:00 (+08:00)" for `2026-03-26T16:00:00Z` on a +08:00 plan.
pub(crate) fn when(at: fanli_engine::Timestamp, offset: fanli_engine::UtcOffset) -> String {
    format!("{} ({offset})", local_time(at, offset))
}

/// [`when`] of an RFC 3339 text (a stored time); the text as stored when it does not parse.
pub(crate) fn when_text(at: &str, offset: fanli_engine::UtcOffset) -> String {
    fanli_engine::Timestamp::parse_rfc3339(at).map_or_else(|| at.to_owned(), |t| when(t, offset))
}

/// [`when`] of Unix milliseconds (a key's times); a dash for none.
pub(crate) fn when_millis(ms: Option<i64>, offset: fanli_engine::UtcOffset) -> String {
    ms.map_or_else(
        || "–".to_owned(),
        |ms| when(fanli_engine::Timestamp::from_unix_nanos(ms.saturating_mul(1_000_000)), offset),
    )
}

/// Whether a request came over https (as a proxy in front says).
pub(crate) fn https(headers: &HeaderMap) -> bool {
    headers
        .get("x-forwarded-proto")
        .and_then(|p| p.to_str().ok())
        .is_some_and(|p| p.eq_ignore_ascii_case("https"))
}

/// The role may use the console: any operator or read-only key, not a member token.
pub(crate) fn console_role(role: &Role) -> bool {
    !matches!(role, Role::Member(_))
}

/// The referral link of the member whose token `headers` carry; `403` for any other key (the
/// message names `route`).
fn my_referral(server: &Shared, headers: &HeaderMap, route: &str) -> Result<String, ApiError> {
    let caller = crate::lock(server).caller(headers)?;
    let Role::Member(member) = caller.role else {
        let message = format!("{route} is for member tokens; this key is a {} key", caller.role.name());
        return Err(ApiError(StatusCode::FORBIDDEN, "forbidden", message));
    };
    let mut app = crate::lock(server);
    Ok(referral_link(&public_origin(&mut app, &caller.tenant, headers)?, &caller.tenant, &member))
}

/// `GET /v1/me/qr.svg` (a member token): the member's referral link as an SVG QR code.
#[utoipa::path(
    get,
    path = "/v1/me/qr.svg",
    responses(
        (status = 200, description = "the QR code", body = String, content_type = "image/svg+xml", headers(("X-Fanli-Referral" = String, description = "the link it encodes"))),
        (status = 403, description = "not a member token", body = crate::api::doc::Error),
        (status = 400, description = "a `Host` header that is no host", body = crate::api::doc::Error),
    ),
)]
async fn member_qr(State(server): State<Shared>, headers: HeaderMap) -> Result<Response, ApiError> {
    let link = my_referral(&server, &headers, "/v1/me/qr.svg")?;
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

/// `GET /v1/me/qr.png` (a member token): the member's referral link as a PNG QR code.
#[utoipa::path(
    get,
    path = "/v1/me/qr.png",
    responses(
        (status = 200, description = "the QR code", body = Vec<u8>, content_type = "image/png", headers(("X-Fanli-Referral" = String, description = "the link it encodes"))),
        (status = 403, description = "not a member token", body = crate::api::doc::Error),
        (status = 400, description = "a `Host` header that is no host", body = crate::api::doc::Error),
    ),
)]
async fn member_qr_png(State(server): State<Shared>, headers: HeaderMap) -> Result<Response, ApiError> {
    let link = my_referral(&server, &headers, "/v1/me/qr.png")?;
    let png = qr_png(&link).map_err(crate::internal)?;
    let mut response = png_response(png);
    if let Ok(value) = header::HeaderValue::from_str(&link) {
        response.headers_mut().insert(header::HeaderName::from_static("x-fanli-referral"), value);
    }
    Ok(response)
}

/// A PNG image, not cached (it names a member), named `referral.png` when saved.
pub(crate) fn png_response(png: Vec<u8>) -> Response {
    (
        [
            (header::CONTENT_TYPE, "image/png"),
            (header::CONTENT_DISPOSITION, "inline; filename=\"referral.png\""),
            (header::CACHE_CONTROL, "private, no-store"),
            (header::X_CONTENT_TYPE_OPTIONS, "nosniff"),
            (header::REFERRER_POLICY, "no-referrer"),
        ],
        png,
    )
        .into_response()
}

/// The origin of a tenant's public links (referral links and QR codes): the tenant's
/// `public_origin` (`PUT /v1/settings`), else the server's (`App::public_origin`), else the
/// request's ([`origin`]).
pub(crate) fn public_origin(
    app: &mut crate::App,
    tenant: &str,
    headers: &HeaderMap,
) -> Result<String, ApiError> {
    public_settings(app, tenant, headers)?.0
}

/// A tenant's settings for its public pages, with the origin of its links ([`public_origin`]).
pub(crate) fn public_settings(
    app: &mut crate::App,
    tenant: &str,
    headers: &HeaderMap,
) -> Result<(Result<String, ApiError>, crate::store::TenantSettings), ApiError> {
    let settings = crate::blocking(|| app.store.tenant_settings(tenant)).map_err(crate::internal)?;
    let origin = match settings.public_origin.clone().or_else(|| app.public_origin.clone()) {
        Some(origin) => Ok(origin),
        None => origin(headers),
    };
    Ok((origin, settings))
}

/// `text` as an origin for public links: `http://` or `https://`, a host name or address and
/// an optional port, nothing after (one trailing `/` is dropped); else what is wrong.
pub fn check_origin(text: &str) -> Result<String, String> {
    let origin = text.strip_suffix('/').unwrap_or(text);
    let host = origin.strip_prefix("https://").or_else(|| origin.strip_prefix("http://"));
    let fine = host.is_some_and(|host| {
        !host.is_empty()
            && host.len() <= 255
            && !host.starts_with([':', '.', '-'])
            && host.bytes().all(|b| b.is_ascii_alphanumeric() || b".-:[]".contains(&b))
    });
    if fine {
        Ok(origin.to_ascii_lowercase())
    } else {
        Err(format!(
            "`{text}` is not an origin: write the scheme and host the members' links start with, \
             such as \"https://shop.example.com\" (no path, query or user)"
        ))
    }
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

/// `data` as a PNG QR code (error correction M): 8 pixels a module with a 4-module quiet zone,
/// black on white, 8-bit grey (a 37-module code is 360 × 360 pixels).
pub(crate) fn qr_png(data: &str) -> Result<Vec<u8>, QrImageError> {
    const SCALE: usize = 8;
    const QUIET: usize = 4;
    let code = qrcode::QrCode::new(data.as_bytes())?;
    let modules = code.width();
    let colors = code.to_colors();
    let side = (modules + 2 * QUIET) * SCALE;
    let mut pixels = vec![0xFFu8; side * side];
    for (i, color) in colors.iter().enumerate() {
        if *color == qrcode::Color::Dark {
            let (x, y) = ((i % modules + QUIET) * SCALE, (i / modules + QUIET) * SCALE);
            for row in y..y + SCALE {
                pixels[row * side + x..row * side + x + SCALE].fill(0);
            }
        }
    }
    let mut png = Vec::new();
    let size = u32::try_from(side).map_err(|_| QrImageError::TooLarge)?;
    let mut encoder = png::Encoder::new(&mut png, size, size);
    encoder.set_color(png::ColorType::Grayscale);
    encoder.set_depth(png::BitDepth::Eight);
    encoder.set_compression(png::Compression::High);
    let mut writer = encoder.write_header()?;
    writer.write_image_data(&pixels)?;
    writer.finish()?;
    Ok(png)
}

/// Why a QR code could not be drawn as a PNG.
#[derive(Debug, thiserror::Error)]
pub(crate) enum QrImageError {
    #[error("the link does not fit in a QR code: {0}")]
    Code(#[from] qrcode::types::QrError),
    #[error("the QR code could not be written as a PNG: {0}")]
    Png(#[from] png::EncodingError),
    #[error("the QR code is too large for a PNG")]
    TooLarge,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_qr_code_is_a_png_of_the_codes_modules() {
        let link = "http://h/join?tenant=t&ref=A";
        let png = qr_png(link).unwrap();
        assert_eq!(&png[..8], b"\x89PNG\r\n\x1a\n");
        // Read back (png's decoder): the modules of the same code, 8 pixels each, 4 of quiet zone.
        let mut reader = png::Decoder::new(std::io::Cursor::new(&png)).read_info().unwrap();
        let mut pixels = vec![0; reader.output_buffer_size().unwrap()];
        let info = reader.next_frame(&mut pixels).unwrap();
        let code = qrcode::QrCode::new(link.as_bytes()).unwrap();
        let modules = code.width();
        assert_eq!(modules, 29, "28 bytes at level M: version 3, 29 modules");
        assert_eq!((info.width, info.height), (296, 296), "(29 + 8) × 8");
        assert_eq!(info.color_type, png::ColorType::Grayscale);
        let read: Vec<qrcode::Color> = (0..modules * modules)
            .map(|i| {
                let (x, y) = ((i % modules + 4) * 8 + 4, (i / modules + 4) * 8 + 4);
                if pixels[y * 296 + x] == 0 { qrcode::Color::Dark } else { qrcode::Color::Light }
            })
            .collect();
        assert_eq!(read, code.to_colors());
        assert!(pixels[..296 * 32].iter().all(|&p| p == 0xFF), "the quiet zone is white");
    }

    #[test]
    fn an_origin_is_a_scheme_and_a_host() {
        assert_eq!(check_origin("https://Shop.Example.com/").unwrap(), "https://shop.example.com");
        assert_eq!(check_origin("http://10.0.0.2:8080").unwrap(), "http://10.0.0.2:8080");
        for bad in
            ["shop.example.com", "https://", "https://shop/path", "https://a@b", "ftp://x", "https://x?y"]
        {
            assert!(check_origin(bad).is_err(), "{bad}");
        }
    }

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
    fn a_time_shows_in_the_plans_timezone_with_its_offset() {
        let at = fanli_engine::Timestamp::parse_rfc3339("2026-03-26T16:00:00Z").unwrap();
        assert_eq!(when(at, fanli_engine::UtcOffset::CHINA), "2026-03-27 00:00 (+08:00)");
        assert_eq!(when(at, fanli_engine::UtcOffset::parse("-05:30").unwrap()), "2026-03-26 10:30 (-05:30)");
        assert_eq!(
            when_text("2026-03-26T16:00:00+00:00", fanli_engine::UtcOffset::CHINA),
            "2026-03-27 00:00 (+08:00)"
        );
        assert_eq!(when_text("not a time", fanli_engine::UtcOffset::CHINA), "not a time");
        // 2026-03-26T16:00:00.250Z in milliseconds.
        assert_eq!(
            when_millis(Some(1_774_540_800_250), fanli_engine::UtcOffset::CHINA),
            "2026-03-27 00:00 (+08:00)"
        );
        assert_eq!(when_millis(None, fanli_engine::UtcOffset::CHINA), "–");
    }

    #[test]
    fn a_qr_code_is_an_svg() {
        let svg = qr_svg("http://h/join?tenant=t&ref=A").unwrap();
        assert!(svg.starts_with("<?xml") && svg.contains("<svg") && svg.ends_with("</svg>"));
        assert!(svg.contains("<path"));
    }
}
