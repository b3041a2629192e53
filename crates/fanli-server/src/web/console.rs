//! The operator console: log in with an operator key; overview, plan, members, review queue and
//! audit, each a page rendered from the tenant's state and store.
//!
//! - `/console`: each pool with what it owes and since when (the last daily report in which it
//!   owed nothing), what it paid today (since the last day close), the appreciation price and the
//!   queue's length and oldest wait; charts over the daily reports (price, pools, obligations)
//!   and of members and orders per day.
//! - `/console/plan`: the plan in force, its `fanli check` findings, its versions (who, when
//!   recorded, when effective, where each stands; those waiting highlighted), a form to put a
//!   new version (the owner; refused with the findings when past a red line; once the log has
//!   begun an amendment recorded in it, with an optional effective time, and a check compares
//!   it with the tenant's state: `web/versions.rs`), and the simulator run on it or on the
//!   form's text, its report shown in the page.
//! - `/console/members`: search by member id or phone; a member's balances and standing, their
//!   history with the rule of every posting, their referral tree to 3 levels.
//! - `/console/reviews`: the anti-fraud review queue, rules and evidence, approved or rejected one
//!   by one or in bulk (the owner).
//! - `/console/withdrawals`: the withdrawals waiting for review under `[withdrawal]`, approved
//!   or rejected one at a time (the owner); `/console/proposals`: the members' vote under
//!   `[vote]`, opened, listed and tallied (the owner).
//! - `/console/audit`: the audit chain's length and head, the daily pool reports, and who did
//!   what: the log's latest lines with the key (id and role) that wrote each, the plan
//!   versions with the key that put each, the brands, stores' brands and webhook with the key
//!   that set each, and the tenant's keys with when and by which key each
//!   was made and revoked.

use std::collections::HashMap;
use std::time::{Duration, Instant};

use axum::Form;
use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use maud::{Markup, PreEscaped, html};

use super::versions::{PlanContext, comparison_section, effective_at, effective_at_field, versions_section};
use super::{Figs, Lang, console_page as page, console_role, https, tr, when, when_text};
use crate::auth::{Caller, Role};
use crate::{App, Checked, Line, LineResult, Shared, blocking, lock, new_key, same, submit_lines};
use fanli_engine::{Money, Timestamp, UtcOffset};
use fanli_format::{DailyReport, PoolFigures};
use fanli_sim::chart::{Chart, Unit, closed_day, line_chart};

/// A console session: who logged in, and the token its forms carry.
pub(crate) struct Session {
    caller: Caller,
    csrf: String,
    expires: Instant,
}

impl Session {
    /// The id of the key that opened it.
    pub(crate) fn key(&self) -> &str {
        &self.caller.key
    }
}

const COOKIE: &str = "fanli_console";
const SESSION_HOURS: u64 = 8;

/// The value of cookie `name` in the request.
fn cookie(headers: &HeaderMap, name: &str) -> Option<String> {
    headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .find_map(|c| {
            let (k, v) = c.trim().split_once('=')?;
            (k == name).then(|| v.to_owned())
        })
}

/// The caller and CSRF token of the request's live session.
fn session(app: &mut App, headers: &HeaderMap) -> Option<(Caller, String)> {
    let id = cookie(headers, COOKIE)?;
    let live = app.sessions.get(&id).is_some_and(|s| s.expires > Instant::now());
    if !live {
        app.sessions.remove(&id);
        return None;
    }
    let s = &app.sessions[&id];
    app.tenants.contains_key(&s.caller.tenant).then(|| (s.caller.clone(), s.csrf.clone()))
}

fn see_other(to: &str) -> Response {
    (StatusCode::SEE_OTHER, [(header::LOCATION, to.to_owned())]).into_response()
}

/// The console's opening of a request: the caller and the CSRF token of its live session, or
/// the way to the login page. With `whole`, for the pages that show the whole tenant (the plan,
/// the review queue, the audit), as the API does for the same reads: the owner and read-only
/// keys, and a page saying so for the others.
fn opened(
    app: &mut App,
    headers: &HeaderMap,
    whole: bool,
    lang: Lang,
) -> Result<(Caller, String), Box<Response>> {
    let (caller, csrf) = session(app, headers).ok_or_else(|| Box::new(see_other("/console/login")))?;
    if whole && !matches!(caller.role, Role::Owner | Role::ReadOnly) {
        let message = tr!(lang, "error-needs-whole");
        return Err(Box::new(super::error_page(lang, StatusCode::FORBIDDEN, &message)));
    }
    Ok((caller, csrf))
}

/// The tenant's plan's timezone, in which the console shows every time (China's without a
/// plan).
fn offset_of(app: &App, tenant: &str) -> UtcOffset {
    app.tenants.get(tenant).and_then(|t| t.engine.as_ref()).map_or(UtcOffset::CHINA, |e| e.plan().timezone)
}

/// A form's `csrf` field against the session's token; the page that says the form expired
/// when it does not match.
fn form_checked(given: Option<&str>, csrf: &str, lang: Lang) -> Result<(), Box<Response>> {
    if given.is_some_and(|given| same(given, csrf)) {
        return Ok(());
    }
    Err(Box::new(super::error_page(lang, StatusCode::FORBIDDEN, &tr!(lang, "error-form-expired"))))
}

/// What a console handler goes on with, or the page it stops at (the login page, a refusal);
/// the page comes boxed, since a `Response` is large and the stop is the rare path.
macro_rules! or_page {
    ($opened:expr) => {
        match $opened {
            Ok(value) => value,
            Err(page) => return *page,
        }
    };
}

/// The login form's own token (double submit: a cookie and a field that must match), so that
/// another site cannot log a browser into a session of its choosing.
const LOGIN_COOKIE: &str = "fanli_login";

/// `GET /console/login`.
pub(crate) async fn login_page(headers: HeaderMap, lang: Lang) -> Response {
    login_form(&headers, lang, None)
}

fn login_form(headers: &HeaderMap, lang: Lang, error: Option<&str>) -> Response {
    let token = new_key().unwrap_or_default();
    let body = html! {
        section {
            h1 { (tr!(lang, "login-title")) }
            @if let Some(error) = error { p.bad { (error) } }
            form #login method="post" action="/console/login" {
                input type="hidden" name="login" value=(token);
                p { label for="key" { (tr!(lang, "login-key")) } }
                p { input #key type="password" name="key" autocomplete="off" required; }
                p { button #enter type="submit" { (tr!(lang, "login-enter")) } }
            }
            p.note { (tr!(lang, "login-note")) }
        }
    };
    let mut response = page(lang, &tr!(lang, "login-title"), None, body);
    if error.is_some() {
        *response.status_mut() = StatusCode::UNAUTHORIZED;
    }
    set_cookie(&mut response, headers, LOGIN_COOKIE, &token, "/console/login", 3600);
    response
}

/// Sets a cookie only this server's pages under `path` read: `HttpOnly`, `SameSite=Strict`,
/// `Secure` behind https; `max_age` 0 clears it.
fn set_cookie(
    response: &mut Response,
    headers: &HeaderMap,
    name: &str,
    value: &str,
    path: &str,
    max_age: u64,
) {
    let secure = if https(headers) { "; Secure" } else { "" };
    let cookie = format!("{name}={value}; Path={path}; HttpOnly; SameSite=Strict; Max-Age={max_age}{secure}");
    response.headers_mut().insert(header::SET_COOKIE, HeaderValue::from_str(&cookie).expect("ASCII"));
}

/// `POST /console/login` (`key`): a session for an operator or read-only key.
pub(crate) async fn login(
    State(server): State<Shared>,
    headers: HeaderMap,
    lang: Lang,
    Form(form): Form<HashMap<String, String>>,
) -> Response {
    let matched = cookie(&headers, LOGIN_COOKIE).zip(form.get("login")).is_some_and(|(c, f)| same(&c, f));
    if !matched {
        return login_form(&headers, lang, Some(&tr!(lang, "login-expired")));
    }
    let key = form.get("key").map(|k| k.trim().to_owned()).unwrap_or_default();
    let mut bearer = HeaderMap::new();
    let Ok(value) = HeaderValue::from_str(&format!("Bearer {key}")) else {
        return login_form(&headers, lang, Some(&tr!(lang, "login-unknown-key")));
    };
    bearer.insert(header::AUTHORIZATION, value);
    let mut app = lock(&server);
    let caller = match app.caller(&bearer) {
        Ok(caller) if console_role(&caller.role) => caller,
        Ok(_) => {
            return login_form(&headers, lang, Some(&tr!(lang, "login-member-token")));
        }
        Err(_) => return login_form(&headers, lang, Some(&tr!(lang, "login-unknown-key"))),
    };
    let (Ok(id), Ok(csrf)) = (new_key(), new_key()) else {
        return login_form(&headers, lang, Some("no randomness"));
    };
    let now = Instant::now();
    app.sessions.retain(|_, s| s.expires > now);
    app.sessions.insert(
        id.clone(),
        Session { caller, csrf, expires: now + Duration::from_secs(SESSION_HOURS * 3600) },
    );
    let mut response = see_other("/console");
    set_cookie(&mut response, &headers, COOKIE, &id, "/console", SESSION_HOURS * 3600);
    response
}

/// `POST /console/logout` (`csrf`).
pub(crate) async fn logout(
    State(server): State<Shared>,
    headers: HeaderMap,
    Form(form): Form<HashMap<String, String>>,
) -> Response {
    let mut app = lock(&server);
    if let Some((_, csrf)) = session(&mut app, &headers)
        && form_checked(form.get("csrf").map(String::as_str), &csrf, Lang::Zh).is_ok()
        && let Some(id) = cookie(&headers, COOKIE)
    {
        app.sessions.remove(&id);
    }
    let mut response = see_other("/console/login");
    let clear = format!("{COOKIE}=; Path=/console; HttpOnly; SameSite=Strict; Max-Age=0");
    response.headers_mut().insert(header::SET_COOKIE, HeaderValue::from_str(&clear).expect("ASCII"));
    response
}

/// A mechanism's figures from the reports: since when it owes (the first report after the last
/// one in which it owed nothing), and what it had paid at the last report.
fn from_reports(reports: &[DailyReport], id: &str, owes: bool) -> (Option<String>, Option<Money>) {
    let since = owes.then(|| {
        let clear = reports.iter().rposition(|r| r.of(id).is_some_and(|m| m.obligations.is_zero()));
        let first = clear.map_or(0, |i| i + 1);
        reports.get(first).map(|r| r.at.clone())
    });
    (since.flatten(), reports.last().and_then(|r| r.of(id)).map(|m| m.paid))
}

/// A mechanism's row of the pools table.
struct Pool {
    name: String,
    kind: &'static str,
    pool: Money,
    obligations: Money,
    obligations_waiting: usize,
    paid: Money,
    price: Option<fanli_engine::Price>,
    figures: Figs,
}

impl Pool {
    fn of(m: &fanli_engine::MechanismView<'_>) -> Pool {
        Pool {
            name: m.id.to_owned(),
            kind: m.kind,
            pool: m.pool,
            obligations: m.obligations,
            obligations_waiting: m.obligations_waiting,
            paid: m.paid,
            price: m.price,
            figures: Figs::of(&m.detail),
        }
    }
}

fn yuan(cents: i64) -> String {
    let sign = if cents < 0 { "-" } else { "" };
    format!("{sign}{}.{:02}", cents.abs() / 100, cents.abs() % 100)
}

/// `GET /console`: the overview.
pub(crate) async fn overview(State(server): State<Shared>, headers: HeaderMap, lang: Lang) -> Response {
    let mut app = lock(&server);
    let (caller, csrf) = or_page!(opened(&mut app, &headers, false, lang));
    let tenant = &app.tenants[&caller.tenant];
    let Some(engine) = tenant.engine.as_ref() else {
        let body = html! { section { h1 { (tr!(lang, "nav-overview")) } p { (tr!(lang, "overview-no-plan")) " " a href="/console/plan" { (tr!(lang, "overview-put-one")) } } } };
        return page(lang, &tr!(lang, "nav-overview"), Some((&caller, &csrf)), body);
    };
    let offset = engine.plan().timezone;
    let rows: Vec<Pool> = engine.mechanism_views().map(|m| Pool::of(&m)).collect();
    let (members, orders, lines) = (engine.member_count(), engine.order_count(), tenant.chain.len());
    let plan = engine.plan().name.clone();
    let id = caller.tenant.clone();
    let reports: Vec<DailyReport> = blocking(|| app.store.reports(&id, 0))
        .unwrap_or_default()
        .iter()
        .filter_map(|r| DailyReport::parse(r))
        .collect();
    let days = blocking(|| app.store.days(&id)).unwrap_or_default();
    drop(app);

    // A chart's points, in yuan (or yuan a point): floats only to draw with.
    let yuan_of = |money: Money| money.fen() as f64 / 100.0;
    let series = |key: &dyn Fn(&PoolFigures) -> Option<f64>, only_priced: bool| -> Vec<(String, Vec<f64>)> {
        rows.iter()
            .filter(|m| !only_priced || m.price.is_some())
            .map(|Pool { name, .. }| {
                let values = reports.iter().map(|r| r.of(name).and_then(key).unwrap_or(0.0)).collect();
                (name.clone(), values)
            })
            .collect()
    };
    let price_chart = series(&|m| m.price.as_deref().and_then(|p| p.parse().ok()), true);
    // What each day close added: members and orders since the close before.
    let per_day: Vec<(String, Vec<f64>)> = {
        let (mut members_before, mut orders_before) = (0, 0);
        let (mut new_members, mut new_orders) = (Vec::new(), Vec::new());
        for &(_, _, members, orders) in &days {
            new_members.push(members.saturating_sub(members_before) as f64);
            new_orders.push(orders.saturating_sub(orders_before) as f64);
            (members_before, orders_before) = (members, orders);
        }
        vec![(tr!(lang, "chart-new-members"), new_members), (tr!(lang, "chart-orders"), new_orders)]
    };
    // Each point's date: the local day (in the plan's timezone) its close_day closed.
    let closed = |at: &str| Timestamp::parse_rfc3339(at).map_or(0, |at| closed_day(at, offset));
    let report_days: Vec<i64> = reports.iter().map(|r| closed(&r.at)).collect();
    let close_days: Vec<i64> = days.iter().map(|(_, at, _, _)| closed(at)).collect();
    let draw = |title: &str, days: &[i64], series: &[(String, Vec<f64>)], unit: Unit| {
        line_chart(&Chart { title, days, series, unit, mark: None, zh: lang == Lang::Zh })
    };
    let body = html! {
        section {
            h1 { (tr!(lang, "nav-overview")) " · " (plan) }
            div.cards {
                div.card { (tr!(lang, "overview-members")) b #members { (members) } }
                div.card { (tr!(lang, "overview-orders")) b #orders { (orders) } }
                div.card { (tr!(lang, "overview-lines")) b { (lines) } }
                div.card { (tr!(lang, "overview-days")) b { (reports.len()) } }
            }
        }
        section #pools-section {
            h2 { (tr!(lang, "pools-title")) }
            table #pools {
                tr {
                    th { (tr!(lang, "pools-mechanism")) } th.n { (tr!(lang, "pools-pool")) } th.n { (tr!(lang, "pools-owed")) } th { (tr!(lang, "pools-owed-since")) }
                    th.n { (tr!(lang, "pools-paid")) } th.n { (tr!(lang, "pools-paid-today")) } th.n { (tr!(lang, "pools-price")) } th { (tr!(lang, "pools-queue")) }
                }
                @for m in &rows {
                    @let owes = !m.obligations.is_zero();
                    @let (since, paid_then) = from_reports(&reports, &m.name, owes);
                    @let today = m.paid.fen() - paid_then.map_or(0, Money::fen);
                    tr data-mechanism=(m.name) {
                        td { b { (m.name) } " " span.note.kind title=(m.kind) { (lang.name("kind", m.kind)) } }
                        td.n.pool { (m.pool) }
                        td.n.obligations class=[owes.then_some("warn")] {
                            (m.obligations)
                            @if owes { " (" (m.obligations_waiting) ")" }
                        }
                        td.since { (since.map_or_else(|| "–".to_owned(), |at| when_text(&at, offset))) }
                        td.n.paid { (m.paid) }
                        td.n.today { (yuan(today)) }
                        td.n.price { @match m.price { Some(price) => (price.display()), None => "–" } }
                        td.queue {
                            @match (m.figures.get("queued"), m.figures.get("waiting"), m.figures.get("oldest_since")) {
                                (Some(queued), Some(waiting), Some(since)) => {
                                    (tr!(lang, "pools-queue-line", entries = waiting.text(offset), amount = queued.raw(), oldest = figure(since, offset)))
                                }
                                _ => "–",
                            }
                        }
                    }
                }
            }
            p.note { (tr!(lang, "pools-note")) }
            p.export { a.download href="/console/export/pools.csv" download { (tr!(lang, "export-pools")) } }
        }
        section {
            h2 { (tr!(lang, "charts-title")) }
            @if reports.is_empty() {
                p.note { (tr!(lang, "charts-none")) }
            } @else {
                @if !price_chart.is_empty() { (PreEscaped(draw(&tr!(lang, "chart-price"), &report_days, &price_chart, Unit::YuanPerPoint))) }
                (PreEscaped(draw(&tr!(lang, "chart-pools"), &report_days, &series(&|m| Some(yuan_of(m.pool)), false), Unit::Yuan)))
                (PreEscaped(draw(&tr!(lang, "chart-owed"), &report_days, &series(&|m| Some(yuan_of(m.obligations)), false), Unit::Yuan)))
                (PreEscaped(draw(&tr!(lang, "chart-per-day"), &close_days, &per_day, Unit::Count)))
            }
        }
    };
    page(lang, &tr!(lang, "nav-overview"), Some((&caller, &csrf)), body)
}

/// A figure as the console shows it: times by [`when`], progress as "3 / 3", the rest as the
/// pages show them.
fn figure(shown: &super::Shown, offset: UtcOffset) -> String {
    match shown {
        super::Shown::Time(at) => when(*at, offset),
        super::Shown::Of(done, of) => format!("{done} / {of}"),
        other => other.text(offset),
    }
}

fn findings_table(checked: Option<&Checked>, lang: Lang) -> Markup {
    html! {
        @match checked {
            Some(checked) if !checked.findings.is_empty() => {
                table #findings {
                    tr { th { (tr!(lang, "findings-level")) } th { (tr!(lang, "findings-rule")) } th { (tr!(lang, "findings-key")) } th.wrap { (tr!(lang, "findings-finding")) } }
                    @for f in &checked.findings {
                        @let level = f.level.name();
                        tr {
                            td class=(if level == "error" { "bad" } else { "warn" }) { (lang.name("level", level)) }
                            td { code { (f.rule) } }
                            td { (tr!(lang, "findings-key-line", key = f.key.as_str(), line = checked.lines.line(&f.key).to_string())) }
                            td.wrap { (finding(f, lang)) @if lang == Lang::Zh { br; span.note { (f.en) } } }
                        }
                    }
                }
            }
            _ => p.ok { (tr!(lang, "findings-none")) }
        }
    }
}

/// `GET /console/plan`.
pub(crate) async fn plan(State(server): State<Shared>, headers: HeaderMap, lang: Lang) -> Response {
    let mut app = lock(&server);
    let (caller, csrf) = or_page!(opened(&mut app, &headers, true, lang));
    let ctx = PlanContext::of(&mut app, &caller.tenant);
    drop(app);
    let draft = ctx.text.clone().unwrap_or_default();
    plan_page(&caller, &csrf, lang, &ctx, None, &draft, None)
}

/// What the plan page shows after a form: the outcome, and (on a refusal) the findings.
struct Outcome {
    ok: bool,
    message: String,
    findings: Option<Checked>,
    /// The simulation: its outcome in the page's language, and the simulator's report.
    report: Option<(Markup, Markup)>,
}

/// The plan page: `extra` (the comparison of a new plan with the tenant's state) after the
/// outcome.
fn plan_page(
    caller: &Caller,
    csrf: &str,
    lang: Lang,
    ctx: &PlanContext,
    outcome: Option<Outcome>,
    draft: &str,
    extra: Option<Markup>,
) -> Response {
    let (text, version) = (ctx.text.as_deref(), ctx.version);
    let current = text
        .and_then(|t| fanli_format::parse_plan_lines(t).ok())
        .map(|(plan, lines)| Checked::of(&plan, lines));
    let owner = caller.role == Role::Owner;
    let body = html! {
        @if let Some(outcome) = &outcome {
            section #outcome {
                p class=(if outcome.ok { "ok" } else { "bad" }) { (outcome.message) }
                @if let Some(findings) = &outcome.findings { (findings_table(Some(findings), lang)) }
            }
            @if let Some((summary, report)) = &outcome.report {
                section #simulation { h2 { (tr!(lang, "simulate-title")) } (summary) (report) }
            }
        }
        @if let Some(extra) = extra { (extra) }
        section {
            h1 { (tr!(lang, "nav-plan")) @if version > 0 { " · v" (version) } }
            @match text {
                Some(text) => {
                    h2 { (tr!(lang, "plan-check")) }
                    (findings_table(current.as_ref(), lang))
                    details { summary { (tr!(lang, "plan-text")) } pre #plan { (text) } }
                }
                None => p.note { (tr!(lang, "plan-none")) }
            }
        }
        (versions_section(ctx, lang))
        section {
            h2 { (tr!(lang, "plan-new-version")) }
            form #put method="post" action="/console/plan" {
                input type="hidden" name="csrf" value=(csrf);
                textarea name="plan" rows="16" { (draft) }
                (effective_at_field(ctx, lang))
                p {
                    @if owner { button #put-plan type="submit" name="action" value="put" { (tr!(lang, "plan-put")) } " " }
                    button.alt #check type="submit" name="action" value="check" { (tr!(lang, "plan-check-only")) }
                }
                @if !owner { p.note { (tr!(lang, "plan-owner-only")) } }
            }
        }
        section {
            h2 { (tr!(lang, "simulate-title")) }
            form #simulate method="post" action="/console/plan/simulate" {
                input type="hidden" name="csrf" value=(csrf);
                p.note { (tr!(lang, "simulate-note")) }
                p {
                    label { (tr!(lang, "simulate-days")) " " input type="number" name="days" value="60" min="1" max="180"; }
                    " "
                    label { (tr!(lang, "simulate-seed")) " " input type="number" name="seed" value="42" min="0"; }
                    " "
                    button #run type="submit" { (tr!(lang, "simulate-run")) }
                }
            }
        }
    };
    page(lang, &tr!(lang, "nav-plan"), Some((caller, csrf)), body)
}

/// `POST /console/plan` (`csrf`, `plan`, `action` = `put` | `check`, `effective_at` once the
/// log has begun). Once the log has begun, a plan put is an amendment recorded in the log
/// ([`crate::plans::amend`]), and a check also compares it with the tenant's state.
pub(crate) async fn put_plan(
    State(server): State<Shared>,
    headers: HeaderMap,
    lang: Lang,
    Form(form): Form<HashMap<String, String>>,
) -> Response {
    let (caller, csrf, ctx, engine) = {
        let mut app = lock(&server);
        let (caller, csrf) = or_page!(opened(&mut app, &headers, true, lang));
        let ctx = PlanContext::of(&mut app, &caller.tenant);
        // A check compares the plan with a copy of the tenant's state, once its log has begun.
        let checking = form.get("action").map(String::as_str) != Some("put");
        let engine = app.tenants[&caller.tenant].engine.as_ref().filter(|_| ctx.live && checking).cloned();
        (caller, csrf, ctx, engine)
    };
    or_page!(form_checked(form.get("csrf").map(String::as_str), &csrf, lang));
    let draft = form.get("plan").cloned().unwrap_or_default();
    let refused = |message: String| Outcome { ok: false, message, findings: None, report: None };
    let mut extra = None;
    let outcome = if form.get("action").map(String::as_str) == Some("put") {
        match effective_at(form.get("effective_at").map(String::as_str), ctx.offset, lang) {
            _ if caller.role != Role::Owner => refused(tr!(lang, "plan-owner-only")),
            Err(message) => refused(message),
            Ok(at) if ctx.live => {
                let amended = crate::plans::amend(
                    &server,
                    caller.tenant.clone(),
                    caller.key.clone(),
                    draft.clone(),
                    at,
                )
                .await;
                match amended {
                    Ok(a) => Outcome {
                        ok: true,
                        message: tr!(
                            lang,
                            "plan-amended",
                            version = a.version,
                            at = when_text(&a.effective_at, ctx.offset)
                        ),
                        findings: Some(a.warnings),
                        report: None,
                    },
                    Err(refusal) => plan_refused(refusal, lang),
                }
            }
            Ok(Some(_)) => refused(tr!(lang, "plan-not-live")),
            Ok(None) => {
                let mut app = lock(&server);
                match app.set_plan(&caller.tenant, draft.clone(), &caller.key) {
                    Ok((version, warnings)) => Outcome {
                        ok: true,
                        message: tr!(lang, "plan-in-force", version = version),
                        findings: Some(warnings),
                        report: None,
                    },
                    Err(refusal) => plan_refused(refusal, lang),
                }
            }
        }
    } else {
        match fanli_format::parse_plan_lines(&draft) {
            Ok((plan, lines)) => {
                let checked = Checked::of(&plan, lines);
                let refused = checked.refused();
                if let Some(engine) = engine {
                    extra = match crate::plans::compare(engine, draft.clone()).await {
                        Ok(result) => Some(comparison_section(&result, ctx.offset, lang)),
                        Err(error) => Some(html! { p.bad { (error.2) } }),
                    };
                }
                Outcome {
                    ok: !refused,
                    message: if refused {
                        tr!(lang, "plan-would-refuse")
                    } else {
                        tr!(lang, "plan-would-accept")
                    },
                    findings: Some(checked),
                    report: None,
                }
            }
            Err(errors) => refused(errors.to_string()),
        }
    };
    let ctx = PlanContext::of(&mut lock(&server), &caller.tenant);
    plan_page(&caller, &csrf, lang, &ctx, Some(outcome), &draft, extra)
}

/// A plan refused, as the page says it.
fn plan_refused(refusal: crate::PlanRefused, lang: Lang) -> Outcome {
    match refusal {
        crate::PlanRefused::Findings(findings) => {
            Outcome { ok: false, message: tr!(lang, "plan-red-line"), findings: Some(findings), report: None }
        }
        crate::PlanRefused::Error(error) => Outcome {
            ok: false,
            message: tr!(lang, "plan-refused", code = error.1, message = error.2),
            findings: None,
            report: None,
        },
    }
}

/// The simulator's outcome (its `summary.json`) in the page's language: the verdict, then who
/// was made whole and what is paid, unpaid, owed and waiting on future members, each figure with
/// its name, then the risk grade.
fn simulation_summary(summary: &serde_json::Value, lang: Lang) -> Markup {
    let text = |key: &str| summary[key].as_str().map_or_else(|| summary[key].to_string(), str::to_owned);
    let verdict = summary["verdict"][lang.short()].as_str().unwrap_or_default().to_owned();
    let ratios = &summary["received_over_spent"];
    let ratio = |p: &str| ratios[p].as_str().unwrap_or("–").to_owned();
    // What is unpaid counts what waits on future members, not only what the pools owe (the
    // risk grade's measure, docs/risk.md): never "0 members owed" while money waits.
    let risk = &summary["risk"];
    let risk_text = |key: &str| risk[key].as_str().map_or_else(|| risk[key].to_string(), str::to_owned);
    let money = |v: &serde_json::Value| v.as_str().and_then(|m| fanli_engine::Money::parse(m).ok());
    let (unpaid, owed) =
        (money(&risk["unpaid"]).unwrap_or_default(), money(&summary["owed"]).unwrap_or_default());
    let waiting = unpaid - owed;
    html! {
        div #sim-outcome {
            p.verdict { b { (verdict) } }
            p.outcome-line {
                (tr!(lang, "simulate-outcome",
                    members = text("members"), spenders = text("members_with_spend"),
                    whole = text("made_whole"), share = percent(&text("made_whole_share")),
                    p10 = ratio("p10"), p50 = ratio("p50"), p90 = ratio("p90"),
                    paid = text("paid"), owed = text("owed"), unpaid = unpaid.to_string(),
                    unpaid_members = risk_text("unpaid_members"), waiting = waiting.to_string()))
            }
            (risk_grade(&summary["risk"], lang))
        }
    }
}

/// A check's finding in the page's language: the engine writes each in both.
pub(crate) fn finding(f: &fanli_engine::compliance::Finding, lang: Lang) -> &str {
    match lang {
        Lang::Zh => &f.zh,
        Lang::En => &f.en,
    }
}

/// The simulator's risk grade (docs/risk.md) in the page's language: the grade, the sentence
/// that says what it means, and its three measures with their own grades.
fn risk_grade(risk: &serde_json::Value, lang: Lang) -> Markup {
    let text = |key: &str| risk[key].as_str().unwrap_or_default().to_owned();
    let name = |key: &str| match fanli_sim::risk::Grade::from_code(&text(key)) {
        Some(grade) => lang.name("grade", grade.code()),
        None => text(key),
    };
    html! {
        div #sim-risk .risk data-grade=(text("grade")) {
            p { b { (tr!(lang, "simulate-risk", grade = name("grade"))) } " " (risk["sentence"][lang.short()].as_str().unwrap_or_default()) }
            p.note {
                (tr!(lang, "simulate-risk-measures",
                    whole = percent(&text("made_whole_share")), whole_grade = name("made_whole_grade"),
                    unpaid = percent(&text("unpaid_share")), unpaid_grade = name("unpaid_grade"),
                    pool = percent(&text("pool_excess_share")), pool_grade = name("pool_excess_grade")))
            }
        }
    }
}

/// A share as the simulator writes it (4 decimals, "0.0280") as a percentage ("2.80%"); as
/// written when it is not one.
fn percent(share: &str) -> String {
    match share.split_once('.') {
        Some((whole, frac))
            if frac.len() == 4 && (whole.to_owned() + frac).bytes().all(|b| b.is_ascii_digit()) =>
        {
            let units: u64 = format!("{whole}{frac}").parse().unwrap_or(0);
            format!("{}.{:02}%", units / 100, units % 100)
        }
        _ => share.to_owned(),
    }
}

/// `POST /console/plan/simulate` (`csrf`, `days`, `seed`, `plan` optional): the simulator's
/// report on the default scenario, shown in the plan page.
pub(crate) async fn simulate(
    State(server): State<Shared>,
    headers: HeaderMap,
    lang: Lang,
    Form(form): Form<HashMap<String, String>>,
) -> Response {
    let (caller, csrf, ctx) = {
        let mut app = lock(&server);
        let (caller, csrf) = or_page!(opened(&mut app, &headers, true, lang));
        let ctx = PlanContext::of(&mut app, &caller.tenant);
        (caller, csrf, ctx)
    };
    let current = ctx.text.clone();
    or_page!(form_checked(form.get("csrf").map(String::as_str), &csrf, lang));
    let draft = form.get("plan").filter(|p| !p.trim().is_empty()).cloned();
    let text = draft.clone().or(current.clone()).unwrap_or_default();
    let days = form.get("days").and_then(|d| d.parse::<u32>().ok()).unwrap_or(60).clamp(1, 180);
    let seed = form.get("seed").and_then(|s| s.parse::<u64>().ok()).unwrap_or(42);
    let overflow = tr!(lang, "simulate-overflow");
    // The simulation runs off the async workers: a few seconds of CPU at most (180 days).
    let run = tokio::task::spawn_blocking(move || -> Result<(Markup, serde_json::Value), String> {
        let plan = fanli_format::parse_plan(&text).map_err(|e| e.to_string())?;
        let findings = fanli_engine::compliance::check(&plan);
        let mut scenario = fanli_sim::scenario::Scenario::default_scenario();
        scenario.days = days;
        scenario.seed = seed;
        let sim =
            fanli_sim::simulate(plan, &scenario, &mut std::io::sink(), |_, _| {}).map_err(|e| match e {
                fanli_sim::SimError::Overflow { .. } => format!("{overflow}{e}"),
                other => other.to_string(),
            })?;
        // The simulator's report, the same template as its report.html, into this page, in the
        // page's language.
        let report_lang = match lang {
            Lang::Zh => fanli_sim::report::Lang::Zh,
            Lang::En => fanli_sim::report::Lang::En,
        };
        Ok(fanli_sim::report::report_fragment_in(&sim, &findings, report_lang))
    })
    .await;
    let outcome = match run {
        Ok(Ok((report, summary))) => Outcome {
            ok: true,
            message: tr!(lang, "simulate-done", days = days, seed = seed.to_string()),
            findings: None,
            report: Some((simulation_summary(&summary, lang), report)),
        },
        Ok(Err(error)) => Outcome { ok: false, message: error, findings: None, report: None },
        Err(error) => {
            // A broken invariant: the details go to the log, not to the page.
            tracing::error!(%error, "the console's simulation stopped");
            Outcome { ok: false, message: tr!(lang, "simulate-internal"), findings: None, report: None }
        }
    };
    plan_page(&caller, &csrf, lang, &ctx, Some(outcome), draft.as_deref().unwrap_or(""), None)
}

/// How many members the members page lists at a time.
const MEMBERS_SHOWN: usize = 50;
/// How long the members' order by id, spend or wallet serves while the log moves on.
const ORDER_FRESH: Duration = Duration::from_secs(30);

/// A tenant's members in order of id, of spend and of wallet (indices in join order), so that
/// the members page reads only its page of 50. Built from the engine's views on the first
/// request that sorts so, and again on a later one once the log has moved, but at most once
/// every [`ORDER_FRESH`]: between, members who joined since are left out of these orders (the
/// join order, the default, is always current) and the figures shown are today's.
pub(crate) struct MemberOrder {
    /// The log's length when built.
    lines: u64,
    built: Instant,
    by_id: Vec<u32>,
    by_spent: Vec<u32>,
    by_wallet: Vec<u32>,
}

impl MemberOrder {
    fn build(engine: &fanli_engine::Engine, lines: u64) -> MemberOrder {
        let count = engine.member_count();
        let names: Vec<&str> = (0..count).map(|i| engine.member_name(engine.member_id(i))).collect();
        let (spent, wallet): (Vec<Money>, Vec<Money>) =
            engine.member_views().map(|v| (v.spent, v.wallet)).unzip();
        let all = || (0..count as u32).collect::<Vec<u32>>();
        let mut by_id = all();
        by_id.sort_by_key(|&i| names[i as usize]);
        let mut by_spent = all();
        by_spent.sort_by_key(|&i| spent[i as usize]);
        let mut by_wallet = all();
        by_wallet.sort_by_key(|&i| wallet[i as usize]);
        MemberOrder { lines, built: Instant::now(), by_id, by_spent, by_wallet }
    }
}

/// What the members page is sorted by.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Sort {
    Joined,
    Id,
    Spent,
    Wallet,
}

impl Sort {
    const ALL: [Sort; 4] = [Sort::Joined, Sort::Id, Sort::Spent, Sort::Wallet];

    fn name(self) -> &'static str {
        match self {
            Sort::Joined => "joined",
            Sort::Id => "id",
            Sort::Spent => "spent",
            Sort::Wallet => "wallet",
        }
    }
}

/// A row of the members page.
struct Listed {
    /// The place in join order, from 1.
    joined: usize,
    member: String,
    referrer: Option<String>,
    spent: Money,
    wallet: Money,
}

/// `GET /console/members?q=ID_OR_PHONE`, or `?sort=joined|id|spent|wallet&order=asc|desc&page=N`:
/// a member found by id or phone, or every member 50 a page (newest first by default).
pub(crate) async fn members(
    State(server): State<Shared>,
    headers: HeaderMap,
    lang: Lang,
    Query(query): Query<HashMap<String, String>>,
) -> Response {
    let mut guard = lock(&server);
    let (caller, csrf) = or_page!(opened(&mut guard, &headers, false, lang));
    let q = query.get("q").map(|q| q.trim().to_owned()).filter(|q| !q.is_empty());
    let sort = Sort::ALL
        .into_iter()
        .find(|s| query.get("sort").map(String::as_str) == Some(s.name()))
        .unwrap_or(Sort::Joined);
    let descending = match query.get("order").map(String::as_str) {
        Some("asc") => false,
        Some("desc") => true,
        _ => matches!(sort, Sort::Joined | Sort::Spent | Sort::Wallet),
    };
    let page_no = query.get("page").and_then(|p| p.parse::<usize>().ok()).unwrap_or(1).max(1);
    let id = caller.tenant.clone();
    let found = q.as_ref().map(|q| blocking(|| guard.store.find_members(&id, q)).unwrap_or_default());
    let app = &mut *guard;
    let tenant = &app.tenants[&caller.tenant];
    let lines = tenant.chain.len();
    let (total, listed, sorted_total) = match (&tenant.engine, &found) {
        (Some(engine), None) => {
            let total = engine.member_count();
            // The page's members, as indices in join order.
            let indices: Vec<usize> = if sort == Sort::Joined {
                let all: Box<dyn Iterator<Item = usize>> =
                    if descending { Box::new((0..total).rev()) } else { Box::new(0..total) };
                all.skip((page_no - 1) * MEMBERS_SHOWN).take(MEMBERS_SHOWN).collect()
            } else {
                let order = app.member_orders.get(&caller.tenant);
                let stale = order.is_none_or(|o| o.lines != lines && o.built.elapsed() >= ORDER_FRESH);
                if stale {
                    app.member_orders.insert(caller.tenant.clone(), MemberOrder::build(engine, lines));
                }
                let order = &app.member_orders[&caller.tenant];
                let by = match sort {
                    Sort::Id => &order.by_id,
                    Sort::Spent => &order.by_spent,
                    Sort::Joined | Sort::Wallet => &order.by_wallet,
                };
                let all: Box<dyn Iterator<Item = &u32>> =
                    if descending { Box::new(by.iter().rev()) } else { Box::new(by.iter()) };
                all.skip((page_no - 1) * MEMBERS_SHOWN).take(MEMBERS_SHOWN).map(|&i| i as usize).collect()
            };
            let sorted_total =
                if sort == Sort::Joined { total } else { app.member_orders[&caller.tenant].by_id.len() };
            let listed = indices
                .into_iter()
                .map(|i| {
                    let view = engine.member_view_of(engine.member_id(i));
                    Listed {
                        joined: i + 1,
                        member: view.name.to_owned(),
                        referrer: view.referrer.map(str::to_owned),
                        spent: view.spent,
                        wallet: view.wallet,
                    }
                })
                .collect::<Vec<_>>();
            (total, listed, sorted_total)
        }
        (engine, _) => (engine.as_ref().map_or(0, |e| e.member_count()), Vec::new(), 0),
    };
    drop(guard);
    let link = |sort: Sort, descending: bool, page_no: usize| {
        format!(
            "/console/members?sort={}&order={}&page={page_no}",
            sort.name(),
            if descending { "desc" } else { "asc" }
        )
    };
    let from = (page_no - 1) * MEMBERS_SHOWN;
    let header = |s: Sort, label: &str, numeric: bool| {
        // A column's sort link: this column the other way round when sorted by it.
        let (arrow, next) = if s == sort {
            (if descending { " ↓" } else { " ↑" }, !descending)
        } else {
            ("", s != Sort::Id)
        };
        html! { th class=[numeric.then_some("n")] { a.sort href=(link(s, next, 1)) data-sort=(s.name()) { (label) (arrow) } } }
    };
    let body = html! {
        section {
            h1 { (tr!(lang, "nav-members")) span.note { " · " (total) } }
            form #search method="get" action="/console/members" {
                input #q type="search" name="q" value=(q.clone().unwrap_or_default()) placeholder=(tr!(lang, "members-search-hint"));
                " " button type="submit" { (tr!(lang, "members-find")) }
                @if q.is_some() { " " a href="/console/members" { (tr!(lang, "members-all")) } }
            }
            @if total > 0 { (exports::members_links(total, lang)) }
        }
        @if let Some(found) = &found {
            section {
                @if found.is_empty() { p.note { (tr!(lang, "members-nobody")) } }
                @else {
                    table #found {
                        tr { th { (tr!(lang, "members-member")) } th { (tr!(lang, "members-referrer")) } th { (tr!(lang, "members-phone")) } }
                        @for (member, referrer, phone) in found {
                            tr {
                                td { a href={ "/console/members/" (super::encode(member)) } { (member) } }
                                td { (referrer.clone().unwrap_or_else(|| "–".to_owned())) }
                                td { (phone.clone().unwrap_or_else(|| "–".to_owned())) }
                            }
                        }
                    }
                }
            }
        } @else {
            section #listing {
                @if listed.is_empty() { p.note { (tr!(lang, "members-none")) } }
                @else {
                    p.note #range { (tr!(lang, "members-page", from = from + 1, to = from + listed.len(), total = sorted_total)) }
                    table #member-list {
                        tr {
                            (header(Sort::Joined, &tr!(lang, "members-joined"), true))
                            (header(Sort::Id, &tr!(lang, "members-member"), false))
                            th { (tr!(lang, "members-referrer")) }
                            (header(Sort::Spent, &tr!(lang, "members-spent"), true))
                            (header(Sort::Wallet, &tr!(lang, "members-wallet"), true))
                        }
                        @for m in &listed {
                            tr data-member=(m.member) {
                                td.n.joined { (m.joined) }
                                td { a href={ "/console/members/" (super::encode(&m.member)) } { (m.member) } }
                                td { @match &m.referrer { Some(r) => a href={ "/console/members/" (super::encode(r)) } { (r) }, None => "–" } }
                                td.n.spent { (m.spent) }
                                td.n.wallet { (m.wallet) }
                            }
                        }
                    }
                    p.pager {
                        @if page_no > 1 { a #prev href=(link(sort, descending, page_no - 1)) { (tr!(lang, "members-prev")) } " " }
                        @if from + listed.len() < sorted_total { a #next href=(link(sort, descending, page_no + 1)) { (tr!(lang, "members-next")) } }
                    }
                    @if sort != Sort::Joined { p.note { (tr!(lang, "members-order-note", seconds = ORDER_FRESH.as_secs())) } }
                }
            }
        }
    };
    page(lang, &tr!(lang, "nav-members"), Some((&caller, &csrf)), body)
}

/// `GET /console/members/{id}`: balances, standing, history and referral tree.
pub(crate) async fn member(
    State(server): State<Shared>,
    headers: HeaderMap,
    lang: Lang,
    Path(member): Path<String>,
) -> Response {
    let mut app = lock(&server);
    let (caller, csrf) = or_page!(opened(&mut app, &headers, false, lang));
    let Some(engine) = app.tenants[&caller.tenant].engine.as_ref() else { return see_other("/console") };
    let Some(id) = engine.find_member(&member) else {
        return super::error_page(
            lang,
            StatusCode::NOT_FOUND,
            &tr!(lang, "member-none", member = member.as_str()),
        );
    };
    let offset = engine.plan().timezone;
    let view = engine.member_view_of(id);
    let (wallet, credit, spent) = (view.wallet, view.credit, view.spent);
    let referrer = view.referrer.map(str::to_owned);
    let kinds: HashMap<String, &'static str> =
        engine.mechanism_views().map(|v| (v.id.to_owned(), v.kind)).collect();
    let standing: Vec<(String, &'static str, Money, Money, Figs)> = view
        .mechanisms
        .iter()
        .filter(|m| m.shown())
        .map(|m| {
            let name = engine.mechanism_name(m.mechanism).to_owned();
            let kind = kinds.get(&name).copied().unwrap_or_default();
            (name, kind, m.received, m.owed, Figs::of(&m.detail))
        })
        .collect();
    let tenant = caller.tenant.clone();
    let history = super::history(&mut app.store, &tenant, &member, 100);
    // The tree, three levels down, at most 50 a member.
    let mut tree: Vec<(usize, String)> = Vec::new();
    let mut level: Vec<String> = vec![member.clone()];
    for depth in 1..=3 {
        let mut next = Vec::new();
        for parent in &level {
            for child in blocking(|| app.store.referees(&tenant, parent, 50)).unwrap_or_default() {
                tree.push((depth, child.clone()));
                next.push(child);
            }
        }
        level = next;
    }
    drop(app);
    let body = html! {
        section #balances {
            h1 { (tr!(lang, "member-title", member = member.as_str())) }
            table {
                tr { th { (tr!(lang, "members-wallet")) } td.n.wallet { (wallet) } }
                tr { th { (tr!(lang, "member-credit")) } td.n.credit { (credit) } }
                tr { th { (tr!(lang, "members-spent")) } td.n.spent { (spent) } }
                @if let Some(r) = &referrer { tr { th { (tr!(lang, "members-referrer")) } td { a href={ "/console/members/" (super::encode(r)) } { (r) } } } }
            }
        }
        section #standing {
            h2 { (tr!(lang, "member-standing")) }
            @if !standing.is_empty() {
                table {
                    @for (name, kind, received, owed, figures) in &standing {
                        tr {
                            th { (name) br; span.note { (lang.name("kind", kind)) } }
                            td.wrap {
                                span.pair { (tr!(lang, "member-received")) " " b { (received) } } "　"
                                span.pair { (tr!(lang, "member-owed")) " " b { (owed) } } "　"
                                @for (k, v) in &figures.0 { span.pair title=(k) { (lang.name("figure", k)) " " b { (figure(v, offset)) } } "　" }
                            }
                        }
                    }
                }
            }
        }
        section #history {
            h2 { (tr!(lang, "member-history")) span.note { " " (tr!(lang, "member-latest", count = 100)) } }
            @if history.is_empty() { p.note { (tr!(lang, "member-nothing")) } }
            @else {
                table {
                    tr { th { (tr!(lang, "history-line")) } th { (tr!(lang, "history-event")) } th { (tr!(lang, "history-rule")) } th { (tr!(lang, "history-mechanism")) } th { (tr!(lang, "history-account")) } th.n { (tr!(lang, "history-amount")) } }
                    @for (line, entry) in &history {
                        @let rows = entry.movements.len();
                        @for (i, m) in entry.movements.iter().enumerate() {
                            tr {
                                @if i == 0 {
                                    td rowspan=(rows) { (line) }
                                    td.event rowspan=(rows) data-type=(entry.kind) {
                                        (lang.name("event", &entry.kind)) " " span.note.id { (entry.kind) } br;
                                        span.note.at { (when(entry.at, offset)) }
                                    }
                                }
                                td.rule data-rule=(m.rule) { (lang.name("rule", &m.rule)) }
                                td { (m.mechanism) }
                                td { (lang.name("account", &m.account)) }
                                td.n { (m.amount) }
                            }
                        }
                    }
                }
            }
        }
        section #tree {
            h2 { (tr!(lang, "member-tree")) span.note { " " (tr!(lang, "member-tree-levels")) } }
            @if tree.is_empty() { p.note { (tr!(lang, "member-tree-none")) } }
            @else {
                ul {
                    @for (depth, child) in &tree {
                        li style={ "margin-left:" (depth * 16 - 16) "px" } {
                            "L" (depth) " " a href={ "/console/members/" (super::encode(child)) } { (child) }
                        }
                    }
                }
            }
        }
    };
    page(lang, &tr!(lang, "member-title", member = member.as_str()), Some((&caller, &csrf)), body)
}

/// A held referral as the review queue shows it, read while the engine's lock is held.
struct Held {
    member: String,
    referrer: String,
    /// The rules that fired, with their evidence.
    hits: Vec<(&'static str, String)>,
    held_at: fanli_engine::Timestamp,
    /// Approved (true) or rejected, and when; `None` while pending.
    decision: Option<(bool, fanli_engine::Timestamp)>,
}

impl Held {
    fn of(engine: &fanli_engine::Engine, r: &fanli_engine::Review) -> Held {
        Held {
            member: engine.member_name(r.member).to_owned(),
            referrer: engine.member_name(r.referrer).to_owned(),
            hits: r.hits.clone(),
            held_at: r.held_at,
            decision: r.decision,
        }
    }
}

/// `GET /console/reviews`.
pub(crate) async fn reviews(
    State(server): State<Shared>,
    headers: HeaderMap,
    lang: Lang,
    Query(query): Query<HashMap<String, String>>,
) -> Response {
    let mut app = lock(&server);
    let (caller, csrf) = or_page!(opened(&mut app, &headers, true, lang));
    let offset = offset_of(&app, &caller.tenant);
    let list: Vec<Held> = app.tenants[&caller.tenant]
        .engine
        .as_ref()
        .map(|e| e.reviews().unwrap_or_default().iter().map(|r| Held::of(e, r)).collect())
        .unwrap_or_default();
    drop(app);
    let owner = caller.role == Role::Owner;
    let pending = list.iter().filter(|r| r.decision.is_none()).count();
    let body = html! {
        section {
            h1 { (tr!(lang, "reviews-title")) span.note { " · " (tr!(lang, "reviews-pending-count", count = pending)) } }
            @if let Some(done) = query.get("done") { p.ok #done { (tr!(lang, "reviews-done", count = done.as_str())) } }
            @if list.is_empty() { p.note { (tr!(lang, "reviews-none")) } }
            @else {
                form #reviews method="post" action="/console/reviews" {
                    input type="hidden" name="csrf" value=(csrf);
                    table {
                        tr { th {} th { (tr!(lang, "members-member")) } th { (tr!(lang, "members-referrer")) } th.wrap { (tr!(lang, "reviews-evidence")) } th { (tr!(lang, "reviews-status")) } }
                        @for r in &list {
                            @let member = r.member.as_str();
                            tr data-member=(member) {
                                td { @if r.decision.is_none() && owner { input type="checkbox" name="member" value=(member); } }
                                td { a href={ "/console/members/" (super::encode(member)) } { (member) } }
                                td { (r.referrer) }
                                td.wrap.evidence {
                                    @for (rule, evidence) in &r.hits {
                                        b data-rule=(rule) { (lang.name("fraud", rule)) } " " span.note { (rule) } "：" (lang.evidence(evidence)) br;
                                    }
                                    span.note { (tr!(lang, "reviews-held-at", at = when(r.held_at, offset))) }
                                }
                                td.status {
                                    @match r.decision {
                                        Some((approve, at)) => {
                                            (if approve { tr!(lang, "reviews-approved") } else { tr!(lang, "reviews-rejected") })
                                            " " span.note { (when(at, offset)) }
                                        }
                                        None => (tr!(lang, "reviews-pending")),
                                    }
                                }
                            }
                        }
                    }
                    @if owner && pending > 0 {
                        p {
                            button #approve type="submit" name="decision" value="approve" { (tr!(lang, "reviews-approve")) }
                            " "
                            button.alt #reject type="submit" name="decision" value="reject" { (tr!(lang, "reviews-reject")) }
                        }
                    } @else if !owner { p.note { (tr!(lang, "owner-decides")) } }
                }
            }
        }
    };
    page(lang, &tr!(lang, "nav-reviews"), Some((&caller, &csrf)), body)
}

/// `POST /console/reviews` (`csrf`, `decision`, `member` repeated): a `review` event per member.
pub(crate) async fn decide(
    State(server): State<Shared>,
    headers: HeaderMap,
    lang: Lang,
    body: axum::body::Bytes,
) -> Response {
    // Repeated fields (`member=a&member=b`): read the pairs in order.
    let pairs: Vec<(String, String)> = serde_urlencoded_pairs(&body);
    let field = |name: &str| pairs.iter().find(|(k, _)| k == name).map(|(_, v)| v.clone());
    let (caller, csrf) = {
        let mut app = lock(&server);
        or_page!(opened(&mut app, &headers, false, lang))
    };
    or_page!(form_checked(field("csrf").as_deref(), &csrf, lang));
    if caller.role != Role::Owner {
        return super::error_page(lang, StatusCode::FORBIDDEN, &tr!(lang, "owner-decides"));
    }
    let decision = match field("decision").as_deref() {
        Some(d @ ("approve" | "reject")) => d.to_owned(),
        _ => return super::error_page(lang, StatusCode::BAD_REQUEST, &tr!(lang, "reviews-which")),
    };
    let lines: Vec<Line> = pairs
        .iter()
        .filter(|(k, _)| k == "member")
        .map(|(_, member)| {
            let mut fields = serde_json::Map::new();
            fields.insert("type".to_owned(), "review".into());
            fields.insert("member".to_owned(), member.as_str().into());
            fields.insert("decision".to_owned(), decision.as_str().into());
            Line::Stamp(fields)
        })
        .collect();
    let count = lines.len();
    match submit_lines(&server, caller.tenant.clone(), Some(caller.key.clone()), lines).await {
        Ok(results) => {
            let refused: Vec<&str> = results
                .iter()
                .filter_map(|r| match r {
                    LineResult::Refused(refusal) => Some(refusal.error.as_str()),
                    LineResult::Applied { .. } | LineResult::Skipped => None,
                })
                .collect();
            if refused.is_empty() {
                see_other(&format!("/console/reviews?done={count}"))
            } else {
                super::error_page(lang, StatusCode::UNPROCESSABLE_ENTITY, &refused.join("; "))
            }
        }
        Err(error) => super::error_page(lang, error.0, &error.2),
    }
}

/// `a=1&b=2` as pairs, `+` and percent-escapes decoded.
fn serde_urlencoded_pairs(body: &[u8]) -> Vec<(String, String)> {
    let decode = |s: &str| -> String {
        let s = s.replace('+', " ");
        let bytes = s.as_bytes();
        let mut out = Vec::with_capacity(bytes.len());
        let mut i = 0;
        while i < bytes.len() {
            if bytes[i] == b'%'
                && let Some(hex) = s.get(i + 1..i + 3)
                && let Ok(b) = u8::from_str_radix(hex, 16)
            {
                out.push(b);
                i += 3;
                continue;
            }
            out.push(bytes[i]);
            i += 1;
        }
        String::from_utf8_lossy(&out).into_owned()
    };
    String::from_utf8_lossy(body)
        .split('&')
        .filter(|p| !p.is_empty())
        .map(|p| {
            let (k, v) = p.split_once('=').unwrap_or((p, ""));
            (decode(k), decode(v))
        })
        .collect()
}

/// A line of the log as the audit page lists it: its type and time, and the key that wrote it.
struct Written {
    line: u64,
    /// The event's type and time; `None` for a line that does not read back.
    event: Option<(&'static str, fanli_engine::Timestamp)>,
    /// The key's id; `None` for the server's own lines and for lines older than keys' ids.
    key: Option<String>,
    /// The key's role (and scope), as stored.
    role: Option<String>,
}

impl Written {
    fn of(write: crate::store::Write) -> Written {
        let event = fanli_format::EventLine::parse(write.event.as_bytes())
            .ok()
            .and_then(|line| line.event().ok().map(|e| (e.kind.type_name(), e.at)));
        let role =
            write.role.map(|(role, scope)| scope.map_or_else(|| role.clone(), |s| format!("{role} {s}")));
        Written { line: write.line, event, key: write.key, role }
    }
}

/// How many lines the audit page lists, and keys.
const WRITES_SHOWN: u32 = 100;
const KEYS_SHOWN: u32 = 200;

/// `GET /console/audit?before=N`: the chain, the daily pool reports, and who wrote what: the
/// log's latest lines (before line N) with the key that wrote each, the plan versions with the
/// key that put each, and the tenant's keys, when and by which key each was made and revoked.
pub(crate) async fn audit(
    State(server): State<Shared>,
    headers: HeaderMap,
    lang: Lang,
    Query(query): Query<HashMap<String, String>>,
) -> Response {
    let before = query.get("before").and_then(|b| b.parse::<u64>().ok());
    let mut app = lock(&server);
    let (caller, csrf) = or_page!(opened(&mut app, &headers, true, lang));
    let offset = offset_of(&app, &caller.tenant);
    let chain = app.tenants[&caller.tenant].chain.clone();
    let signed = app.tenants[&caller.tenant].log.head.clone();
    let id = caller.tenant.clone();
    let reports: Vec<DailyReport> = blocking(|| app.store.reports(&id, 0))
        .unwrap_or_default()
        .iter()
        .filter_map(|r| DailyReport::parse(r))
        .collect();
    let writes: Vec<Written> = blocking(|| app.store.writes(&id, before, WRITES_SHOWN))
        .unwrap_or_default()
        .into_iter()
        .map(Written::of)
        .collect();
    let versions = blocking(|| app.store.plan_versions(&id)).unwrap_or_default();
    let set_by = blocking(|| app.store.settings_by(&id)).unwrap_or_default();
    let (total_keys, keys) = blocking(|| app.store.tenant_keys(&id, 0, KEYS_SHOWN)).unwrap_or_default();
    drop(app);
    let older = (writes.len() == WRITES_SHOWN as usize).then(|| writes.last().map(|w| w.line)).flatten();
    let key_cell = |key: &Option<String>| html! { @match key { Some(key) => code { (key) }, None => "–" } };
    let body = html! {
        section {
            h1 { (tr!(lang, "nav-audit")) }
            table #chain {
                tr { th { (tr!(lang, "audit-lines")) } td.lines { (chain.len()) } }
                tr { th { (tr!(lang, "audit-head")) } td { code.head { (chain.head()) } } }
            }
        }
        section #signed-head {
            h2 { (tr!(lang, "audit-signed-head")) }
            @match &signed {
                None => p.note { (tr!(lang, "audit-no-signed-head")) },
                Some(signed) => {
                    table {
                        tr { th { (tr!(lang, "audit-tree-size")) } td.size { (signed.head.size) } }
                        tr { th { (tr!(lang, "audit-tree-root")) } td { code.root { (fanli_format::merkle::to_hex(&signed.head.root)) } } }
                        tr { th { (tr!(lang, "audit-signed-at")) } td { (when_text(&signed.head.time, offset)) } }
                        tr { th { (tr!(lang, "audit-public-key")) } td { code.public-key { (fanli_format::merkle::to_hex(&signed.public_key)) } } }
                        tr { th { (tr!(lang, "audit-signature")) } td { code { (fanli_format::merkle::to_hex(&signed.signature)) } } }
                    }
                    p.note { (tr!(lang, "audit-signed-note")) " " code { "GET /v1/audit/head" } " · " code { "fanli audit verify --head" } }
                }
            }
        }
        section {
            p.note { (tr!(lang, "audit-verify")) " " code { "GET /v1/audit" } " · " code { "GET /v1/reports" } }
        }
        section {
            h2 { (tr!(lang, "audit-reports")) span.note { " " (tr!(lang, "member-latest", count = 60)) } }
            @if reports.is_empty() { p.note { (tr!(lang, "audit-no-report")) } }
            @else {
                p.export { a.download href="/console/export/reports.csv" download { (tr!(lang, "export-reports")) } }
                table #reports {
                    tr { th { (tr!(lang, "audit-closed-at")) } th { (tr!(lang, "audit-chain")) } th { (tr!(lang, "audit-mechanisms")) } }
                    @for r in reports.iter().rev().take(60) {
                        tr {
                            td { (when_text(&r.at, offset)) }
                            td { code { (&r.chain[..r.chain.len().min(16)]) "…" } }
                            td {
                                @for m in &r.mechanisms {
                                    b { (m.id) } " " (m.pool) " / " (m.obligations) " / " (m.paid)
                                    @if let Some(price) = &m.price { " (" (price) ")" }
                                    br;
                                }
                            }
                        }
                    }
                }
            }
        }
        section {
            h2 { (tr!(lang, "audit-writes")) span.note { " " (tr!(lang, "member-latest", count = WRITES_SHOWN))
                @if let Some(b) = before { " " (tr!(lang, "audit-before", line = b)) } } }
            @if writes.is_empty() { p.note { (tr!(lang, "audit-empty")) } }
            @else {
                table #writes {
                    tr { th { (tr!(lang, "history-line")) } th { (tr!(lang, "audit-at")) } th { (tr!(lang, "history-event")) } th { (tr!(lang, "audit-key")) } }
                    @for w in &writes {
                        tr data-line=(w.line) {
                            td { (w.line) }
                            @match &w.event {
                                Some((kind, at)) => { td { (when(*at, offset)) } td data-type=(kind) { (lang.name("event", kind)) " " span.note { (kind) } } }
                                None => { td { "–" } td { "–" } }
                            }
                            td.key {
                                @match (&w.key, &w.role) {
                                    (Some(key), Some(role)) => { code { (key) } " " span.note.role { (role) } }
                                    (Some(key), None) => { code { (key) } }
                                    (None, _) => span.note { (tr!(lang, "audit-server")) },
                                }
                            }
                        }
                    }
                }
                @if let Some(line) = older { p { a #older href={ "/console/audit?before=" (line) } { (tr!(lang, "audit-older")) } } }
            }
        }
        section {
            h2 { (tr!(lang, "audit-versions")) }
            @if versions.is_empty() { p.note { (tr!(lang, "plan-none")) } }
            @else {
                table #versions {
                    tr { th { (tr!(lang, "audit-version")) } th { (tr!(lang, "audit-key")) } }
                    @for (version, key) in &versions {
                        tr { td { "v" (version) } td { (key_cell(key)) } }
                    }
                }
            }
        }
        @if !set_by.brands.is_empty() || set_by.webhook.is_some() {
            section {
                h2 { (tr!(lang, "audit-settings")) }
                table #settings {
                    tr { th { (tr!(lang, "audit-setting")) } th { (tr!(lang, "audit-key")) } }
                    @for (brand, key) in &set_by.brands {
                        tr { td { (tr!(lang, "audit-brand", brand = brand.as_str())) } td { (key_cell(key)) } }
                    }
                    @for (store, brand, key) in &set_by.stores {
                        tr { td { (tr!(lang, "audit-store", store = store.as_str(), brand = brand.as_str())) } td { (key_cell(key)) } }
                    }
                    @if let Some((url, key)) = &set_by.webhook {
                        tr { td { (tr!(lang, "audit-webhook")) " " (url) } td { (key_cell(key)) } }
                    }
                }
            }
        }
        section {
            h2 { (tr!(lang, "audit-keys")) span.note { " · " (total_keys) @if total_keys > u64::from(KEYS_SHOWN) { " " (tr!(lang, "audit-keys-first", count = KEYS_SHOWN)) } } }
            table #keys {
                tr { th { (tr!(lang, "audit-key")) } th { (tr!(lang, "audit-role")) } th { (tr!(lang, "audit-made")) } th { (tr!(lang, "audit-revoked")) } }
                @for k in &keys {
                    tr data-key=(k.id) class=[k.revoked().then_some("revoked")] {
                        td { code { (k.id) } }
                        td { (lang.name("role", &k.role)) " " span.note { (k.role) } @if let Some(scope) = &k.scope { " " (scope) } }
                        td { (super::when_millis(k.created_at, offset)) @if let Some(by) = &k.created_by { br; span.note { (tr!(lang, "audit-by", key = by.as_str())) } } }
                        td.revoked {
                            @if k.revoked() {
                                span.bad { (super::when_millis(k.revoked_at, offset)) }
                                @if let Some(by) = &k.revoked_by { br; span.note { (tr!(lang, "audit-by", key = by.as_str())) } }
                            } @else { "–" }
                        }
                    }
                }
            }
        }
    };
    page(lang, &tr!(lang, "nav-audit"), Some((&caller, &csrf)), body)
}

// The withdrawals queue and the members' vote (issue 15): pages of their own, after `or_page!`.
pub(crate) mod exports;
pub(crate) mod proposals;
pub(crate) mod webhook;
pub(crate) mod withdrawals;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_share_reads_as_a_percentage() {
        assert_eq!(percent("0.0280"), "2.80%");
        assert_eq!(percent("1.0000"), "100.00%");
        assert_eq!(percent("0.2575"), "25.75%");
        assert_eq!(percent("n/a"), "n/a");
    }

    #[test]
    fn the_risk_grade_reads_in_the_pages_language() {
        let risk = serde_json::json!({
            "grade": "severe", "sentence": {"zh": "极高风险：……", "en": "Severe risk: ..."},
            "made_whole_share": "0.0280", "made_whole_grade": "severe",
            "unpaid_share": "0.4690", "unpaid_grade": "high",
            "pool_excess_share": "0.1000", "pool_excess_grade": "medium",
        });
        let zh = risk_grade(&risk, Lang::Zh).into_string();
        assert!(
            zh.contains("data-grade=\"severe\"") && zh.contains("<b>风险等级：极高</b> 极高风险：……"),
            "{zh}"
        );
        assert!(zh.contains("回本（已拿回消费或全部承诺）的会员 2.80%（极高）"), "{zh}");
        assert!(zh.contains("占消费额 46.90%（高）") && zh.contains("占消费额 10.00%（中）"), "{zh}");
        let en = risk_grade(&risk, Lang::En).into_string();
        assert!(en.contains("<b>Risk grade: severe.</b> Severe risk: ..."), "{en}");
        assert!(
            en.contains("made whole (their spend back, or all that was promised): 2.80% (severe)"),
            "{en}"
        );
        assert!(
            en.contains("46.90% of the spend (high)") && en.contains("10.00% of the spend (medium)"),
            "{en}"
        );
    }
}
