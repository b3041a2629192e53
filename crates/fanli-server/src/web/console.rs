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
use super::{Figs, Lang, console_role, https, page};
use crate::auth::{Caller, Role};
use crate::{App, Checked, Line, LineResult, Shared, blocking, lock, new_key, same, submit_lines};
use fanli_engine::{Money, Timestamp};
use fanli_format::{DailyReport, PoolFigures};

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
fn opened(app: &mut App, headers: &HeaderMap, whole: bool) -> Result<(Caller, String), Box<Response>> {
    let (caller, csrf) = session(app, headers).ok_or_else(|| Box::new(see_other("/console/login")))?;
    if whole && !matches!(caller.role, Role::Owner | Role::ReadOnly) {
        return Err(Box::new(super::error_page(
            Lang::Zh,
            StatusCode::FORBIDDEN,
            "这一页需要所有者或只读密钥。This page needs the owner's or a read-only key.",
        )));
    }
    Ok((caller, csrf))
}

/// A form's `csrf` field against the session's token; the page that says the form expired
/// when it does not match.
fn form_checked(given: Option<&str>, csrf: &str) -> Result<(), Box<Response>> {
    if given.is_some_and(|given| same(given, csrf)) {
        return Ok(());
    }
    Err(Box::new(super::error_page(
        Lang::Zh,
        StatusCode::FORBIDDEN,
        "表单已过期 The form expired: reload the page.",
    )))
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
pub(crate) async fn login_page(headers: HeaderMap) -> Response {
    login_form(&headers, None)
}

fn login_form(headers: &HeaderMap, error: Option<&str>) -> Response {
    let token = new_key().unwrap_or_default();
    let body = html! {
        section {
            h1 { "运营控制台 Operator console" }
            @if let Some(error) = error { p.bad { (error) } }
            form #login method="post" action="/console/login" {
                input type="hidden" name="login" value=(token);
                p { label for="key" { "操作员密钥 Operator key" } }
                p { input #key type="password" name="key" autocomplete="off" required size="70"; }
                p { button #enter type="submit" { "进入 Enter" } }
            }
            p.note { "密钥只用于建立会话，不会出现在网址里。The key only opens a session; it never appears in a URL." }
        }
    };
    let mut response = page(Lang::Zh, "login", None, body);
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
    Form(form): Form<HashMap<String, String>>,
) -> Response {
    let matched = cookie(&headers, LOGIN_COOKIE).zip(form.get("login")).is_some_and(|(c, f)| same(&c, f));
    if !matched {
        return login_form(&headers, Some("登录表单已过期，请重试。The login form expired: try again."));
    }
    let key = form.get("key").map(|k| k.trim().to_owned()).unwrap_or_default();
    let mut bearer = HeaderMap::new();
    let Ok(value) = HeaderValue::from_str(&format!("Bearer {key}")) else {
        return login_form(&headers, Some("密钥无效 Unknown key"));
    };
    bearer.insert(header::AUTHORIZATION, value);
    let mut app = lock(&server);
    let caller = match app.caller(&bearer) {
        Ok(caller) if console_role(&caller.role) => caller,
        Ok(_) => {
            return login_form(
                &headers,
                Some("会员令牌不能进入控制台 A member token cannot open the console"),
            );
        }
        Err(_) => return login_form(&headers, Some("密钥无效 Unknown key")),
    };
    let (Ok(id), Ok(csrf)) = (new_key(), new_key()) else {
        return login_form(&headers, Some("no randomness"));
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
        && form_checked(form.get("csrf").map(String::as_str), &csrf).is_ok()
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
pub(crate) async fn overview(State(server): State<Shared>, headers: HeaderMap) -> Response {
    let mut app = lock(&server);
    let (caller, csrf) = or_page!(opened(&mut app, &headers, false));
    let tenant = &app.tenants[&caller.tenant];
    let Some(engine) = tenant.engine.as_ref() else {
        let body = html! { section { h1 { "概览 Overview" } p { "还没有方案。No plan yet: " a href="/console/plan" { "put one" } "." } } };
        return page(Lang::Zh, "overview", Some((&caller, &csrf)), body);
    };
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
        vec![("new members 新会员".to_owned(), new_members), ("orders 订单".to_owned(), new_orders)]
    };
    let body = html! {
        section {
            h1 { "概览 Overview · " (plan) }
            div.cards {
                div.card { "会员 Members" b #members { (members) } }
                div.card { "订单 Orders" b #orders { (orders) } }
                div.card { "日志行 Log lines" b { (lines) } }
                div.card { "已结日 Days closed" b { (reports.len()) } }
            }
        }
        section {
            h2 { "资金池 Pools" }
            table #pools {
                tr {
                    th { "机制 Mechanism" } th.n { "资金池 Pool" } th.n { "拖欠 Owed" } th { "拖欠起于 Owed since" }
                    th.n { "已兑付 Paid" } th.n { "今日兑付 Paid today" } th.n { "价格 Price" } th { "排队 Queue" }
                }
                @for m in &rows {
                    @let owes = !m.obligations.is_zero();
                    @let (since, paid_then) = from_reports(&reports, &m.name, owes);
                    @let today = m.paid.fen() - paid_then.map_or(0, Money::fen);
                    tr data-mechanism=(m.name) {
                        td { b { (m.name) } " " span.note { (m.kind) } }
                        td.n.pool { (m.pool) }
                        td.n.obligations class=[owes.then_some("warn")] {
                            (m.obligations)
                            @if owes { " (" (m.obligations_waiting) ")" }
                        }
                        td.since { (since.unwrap_or_else(|| "–".to_owned())) }
                        td.n.paid { (m.paid) }
                        td.n.today { (yuan(today)) }
                        td.n.price { @match m.price { Some(price) => (price.display()), None => "–" } }
                        td.queue {
                            @match (m.figures.get("queued"), m.figures.get("waiting"), m.figures.get("oldest_since")) {
                                (Some(queued), Some(waiting), Some(since)) => {
                                    (waiting.raw()) " 条 entries, " (queued.raw()) " · " "最早 oldest " (since.raw())
                                }
                                _ => "–",
                            }
                        }
                    }
                }
            }
            p.note { "拖欠起于：最后一次零拖欠日报之后的第一天。Owed since: the first day close after the last one at which the pool owed nothing. 今日兑付：自最近一次日结以来。Paid today: since the last day close." }
        }
        section {
            h2 { "走势 Over time" }
            @if reports.is_empty() {
                p.note { "还没有日结。No day closed yet: the charts start with the first close_day." }
            } @else {
                @if !price_chart.is_empty() { (PreEscaped(fanli_sim::report::chart("增值价格 Appreciation price (yuan a point)", &price_chart))) }
                (PreEscaped(fanli_sim::report::chart("资金池 Pools (yuan)", &series(&|m| Some(yuan_of(m.pool)), false))))
                (PreEscaped(fanli_sim::report::chart("拖欠 Owed (yuan)", &series(&|m| Some(yuan_of(m.obligations)), false))))
                (PreEscaped(fanli_sim::report::chart("每日新会员与订单 New members and orders per day", &per_day)))
            }
        }
    };
    page(Lang::Zh, "overview", Some((&caller, &csrf)), body)
}

fn findings_table(checked: Option<&Checked>) -> Markup {
    html! {
        @match checked {
            Some(checked) if !checked.findings.is_empty() => {
                table #findings {
                    tr { th { "级别 Level" } th { "规则 Rule" } th { "键 Key" } th { "说明 Finding" } }
                    @for f in &checked.findings {
                        @let level = f.level.name();
                        tr {
                            td class=(if level == "error" { "bad" } else { "warn" }) { (level) }
                            td { (f.rule) }
                            td { (f.key) " (line " (checked.lines.line(&f.key)) ")" }
                            td { (f.zh) br; span.note { (f.en) } }
                        }
                    }
                }
            }
            _ => p.ok { "没有问题。No finding." }
        }
    }
}

/// `GET /console/plan`.
pub(crate) async fn plan(State(server): State<Shared>, headers: HeaderMap) -> Response {
    let mut app = lock(&server);
    let (caller, csrf) = or_page!(opened(&mut app, &headers, true));
    let ctx = PlanContext::of(&mut app, &caller.tenant);
    drop(app);
    let draft = ctx.text.clone().unwrap_or_default();
    plan_page(&caller, &csrf, &ctx, None, &draft, None)
}

/// What the plan page shows after a form: the outcome, and (on a refusal) the findings.
struct Outcome {
    ok: bool,
    message: String,
    findings: Option<Checked>,
    report: Option<String>,
}

/// The plan page: `extra` (the comparison of a new plan with the tenant's state) after the
/// outcome.
fn plan_page(
    caller: &Caller,
    csrf: &str,
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
                @if let Some(findings) = &outcome.findings { (findings_table(Some(findings))) }
            }
            @if let Some(report) = &outcome.report { section #simulation { h2 { "模拟 Simulation" } (PreEscaped(report)) } }
        }
        @if let Some(extra) = extra { (extra) }
        section {
            h1 { "方案 Plan" @if version > 0 { " · v" (version) } }
            @match text {
                Some(text) => {
                    h2 { "检查 fanli check" }
                    (findings_table(current.as_ref()))
                    details { summary { "方案全文 The plan (TOML)" } pre #plan { (text) } }
                }
                None => p.note { "还没有方案。No plan yet." }
            }
        }
        (versions_section(ctx))
        section {
            h2 { "新版本 A new version" }
            form #put method="post" action="/console/plan" {
                input type="hidden" name="csrf" value=(csrf);
                textarea name="plan" rows="16" { (draft) }
                (effective_at_field(ctx))
                p {
                    @if owner { button #put-plan type="submit" name="action" value="put" { "检查并启用 Check and put" } " " }
                    button.alt #check type="submit" name="action" value="check" { "只检查 Check only" }
                }
                @if !owner { p.note { "只有所有者密钥可以启用方案。Only the owner's key puts a plan." } }
            }
        }
        section {
            h2 { "模拟 Simulate" }
            form #simulate method="post" action="/console/plan/simulate" {
                input type="hidden" name="csrf" value=(csrf);
                p.note { "用默认情景模拟当前方案（或上面表单中的文本）。The default scenario, on the plan in force (or the text above, when given)." }
                p {
                    label { "天数 Days " input type="number" name="days" value="60" min="1" max="180"; }
                    " "
                    label { "种子 Seed " input type="number" name="seed" value="42" min="0"; }
                    " "
                    button #run type="submit" { "运行 Run" }
                }
            }
        }
    };
    page(Lang::Zh, "plan", Some((caller, csrf)), body)
}

/// `POST /console/plan` (`csrf`, `plan`, `action` = `put` | `check`, `effective_at` once the
/// log has begun). Once the log has begun, a plan put is an amendment recorded in the log
/// ([`crate::plans::amend`]), and a check also compares it with the tenant's state.
pub(crate) async fn put_plan(
    State(server): State<Shared>,
    headers: HeaderMap,
    Form(form): Form<HashMap<String, String>>,
) -> Response {
    let (caller, csrf, ctx, engine) = {
        let mut app = lock(&server);
        let (caller, csrf) = or_page!(opened(&mut app, &headers, true));
        let ctx = PlanContext::of(&mut app, &caller.tenant);
        // A check compares the plan with a copy of the tenant's state, once its log has begun.
        let checking = form.get("action").map(String::as_str) != Some("put");
        let engine = app.tenants[&caller.tenant].engine.as_ref().filter(|_| ctx.live && checking).cloned();
        (caller, csrf, ctx, engine)
    };
    or_page!(form_checked(form.get("csrf").map(String::as_str), &csrf));
    let draft = form.get("plan").cloned().unwrap_or_default();
    let refused = |message: String| Outcome { ok: false, message, findings: None, report: None };
    let mut extra = None;
    let outcome = if form.get("action").map(String::as_str) == Some("put") {
        match effective_at(form.get("effective_at").map(String::as_str), ctx.offset) {
            _ if caller.role != Role::Owner => {
                refused("只有所有者密钥可以启用方案。Only the owner's key puts a plan.".to_owned())
            }
            Err(message) => refused(message),
            Ok(at) if ctx.live => {
                let amended =
                    crate::plans::amend(&server, caller.tenant.clone(), caller.key.clone(), draft.clone(), at).await;
                match amended {
                    Ok(a) => Outcome {
                        ok: true,
                        message: format!(
                            "已记录修订 v{0}，{1} 生效。Amendment {0} recorded, in force from {1}.",
                            a.version,
                            Timestamp::parse_rfc3339(&a.effective_at)
                                .map_or_else(|| a.effective_at.clone(), |t| super::local_time(t, ctx.offset))
                        ),
                        findings: Some(a.warnings),
                        report: None,
                    },
                    Err(refusal) => plan_refused(refusal),
                }
            }
            Ok(Some(_)) => refused(
                "日志尚未开始：新方案即时生效，不设生效时间。The log has not begun: a plan put now is in force at once."
                    .to_owned(),
            ),
            Ok(None) => {
                let mut app = lock(&server);
                match app.set_plan(&caller.tenant, draft.clone(), &caller.key) {
                    Ok((version, warnings)) => Outcome {
                        ok: true,
                        message: format!("已启用 v{version}。Version {version} is in force."),
                        findings: Some(warnings),
                        report: None,
                    },
                    Err(refusal) => plan_refused(refusal),
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
                        Ok(result) => Some(comparison_section(&result, ctx.offset)),
                        Err(error) => Some(html! { p.bad { (error.2) } }),
                    };
                }
                Outcome {
                    ok: !refused,
                    message: if refused {
                        "会被拒绝。It would be refused."
                    } else {
                        "可以启用。It would be accepted."
                    }
                    .to_owned(),
                    findings: Some(checked),
                    report: None,
                }
            }
            Err(errors) => refused(errors.to_string()),
        }
    };
    let ctx = PlanContext::of(&mut lock(&server), &caller.tenant);
    plan_page(&caller, &csrf, &ctx, Some(outcome), &draft, extra)
}

/// A plan refused, as the page says it.
fn plan_refused(refusal: crate::PlanRefused) -> Outcome {
    match refusal {
        crate::PlanRefused::Findings(findings) => Outcome {
            ok: false,
            message: "被拒绝：方案越过红线。Refused: the plan crosses a red line.".to_owned(),
            findings: Some(findings),
            report: None,
        },
        crate::PlanRefused::Error(error) => Outcome {
            ok: false,
            message: format!("被拒绝（{}）：{}", error.1, error.2),
            findings: None,
            report: None,
        },
    }
}

/// `POST /console/plan/simulate` (`csrf`, `days`, `seed`, `plan` optional): the simulator's
/// report on the default scenario, shown in the plan page.
pub(crate) async fn simulate(
    State(server): State<Shared>,
    headers: HeaderMap,
    Form(form): Form<HashMap<String, String>>,
) -> Response {
    let (caller, csrf, ctx) = {
        let mut app = lock(&server);
        let (caller, csrf) = or_page!(opened(&mut app, &headers, true));
        let ctx = PlanContext::of(&mut app, &caller.tenant);
        (caller, csrf, ctx)
    };
    let current = ctx.text.clone();
    or_page!(form_checked(form.get("csrf").map(String::as_str), &csrf));
    let draft = form.get("plan").filter(|p| !p.trim().is_empty()).cloned();
    let text = draft.clone().or(current.clone()).unwrap_or_default();
    let days = form.get("days").and_then(|d| d.parse::<u32>().ok()).unwrap_or(60).clamp(1, 180);
    let seed = form.get("seed").and_then(|s| s.parse::<u64>().ok()).unwrap_or(42);
    // The simulation runs off the async workers: a few seconds of CPU at most (180 days).
    let run = tokio::task::spawn_blocking(move || -> Result<String, String> {
        let plan = fanli_format::parse_plan(&text).map_err(|e| e.to_string())?;
        let findings = fanli_engine::compliance::check(&plan);
        let mut scenario = fanli_sim::scenario::Scenario::default_scenario();
        scenario.days = days;
        scenario.seed = seed;
        let sim =
            fanli_sim::simulate(plan, &scenario, &mut std::io::sink(), |_, _| {}).map_err(|e| match e {
                fanli_sim::SimError::Overflow { .. } => format!("模拟中止，有事件无法计算：{e}"),
                other => other.to_string(),
            })?;
        let (page, _) = fanli_sim::report::report_page(&sim, &findings);
        // The report's body, into this page.
        let body = page.split_once("<body>").map_or(page.as_str(), |(_, b)| b);
        Ok(body.split_once("</body>").map_or(body, |(b, _)| b).to_owned())
    })
    .await;
    let outcome = match run {
        Ok(Ok(report)) => Outcome {
            ok: true,
            message: format!("模拟了 {days} 天（种子 {seed}）。Simulated {days} days (seed {seed})."),
            findings: None,
            report: Some(report),
        },
        Ok(Err(error)) => Outcome { ok: false, message: error, findings: None, report: None },
        Err(error) => {
            // A broken invariant: the details go to the log, not to the page.
            tracing::error!(%error, "the console's simulation stopped");
            let message = "模拟中止：内部错误，详情见服务器日志。The simulation stopped: an internal error (see the server's log).";
            Outcome { ok: false, message: message.to_owned(), findings: None, report: None }
        }
    };
    plan_page(&caller, &csrf, &ctx, Some(outcome), draft.as_deref().unwrap_or(""), None)
}

/// `GET /console/members?q=ID_OR_PHONE`.
pub(crate) async fn members(
    State(server): State<Shared>,
    headers: HeaderMap,
    Query(query): Query<HashMap<String, String>>,
) -> Response {
    let mut app = lock(&server);
    let (caller, csrf) = or_page!(opened(&mut app, &headers, false));
    let q = query.get("q").map(|q| q.trim().to_owned()).filter(|q| !q.is_empty());
    let id = caller.tenant.clone();
    let found = q.as_ref().map(|q| blocking(|| app.store.find_members(&id, q)).unwrap_or_default());
    let total = app.tenants[&caller.tenant].engine.as_ref().map_or(0, |e| e.member_count());
    drop(app);
    let body = html! {
        section {
            h1 { "会员 Members" span.note { " · " (total) } }
            form #search method="get" action="/console/members" {
                input #q type="search" name="q" value=(q.clone().unwrap_or_default()) placeholder="会员号或手机号 member id or phone";
                " " button type="submit" { "查找 Find" }
            }
            @if let Some(found) = &found {
                @if found.is_empty() { p.note { "没有找到。Nobody found." } }
                @else {
                    table #found {
                        tr { th { "会员 Member" } th { "推荐人 Referrer" } th { "手机 Phone" } }
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
        }
    };
    page(Lang::Zh, "members", Some((&caller, &csrf)), body)
}

/// `GET /console/members/{id}`: balances, standing, history and referral tree.
pub(crate) async fn member(
    State(server): State<Shared>,
    headers: HeaderMap,
    Path(member): Path<String>,
) -> Response {
    let mut app = lock(&server);
    let (caller, csrf) = or_page!(opened(&mut app, &headers, false));
    let Some(engine) = app.tenants[&caller.tenant].engine.as_ref() else { return see_other("/console") };
    let Some(id) = engine.find_member(&member) else {
        return super::error_page(Lang::Zh, StatusCode::NOT_FOUND, &format!("没有会员 No member `{member}`"));
    };
    let view = engine.member_view_of(id);
    let (wallet, credit, spent) = (view.wallet, view.credit, view.spent);
    let referrer = view.referrer.map(str::to_owned);
    let standing: Vec<(String, Money, Money, Figs)> = view
        .mechanisms
        .iter()
        .filter(|m| m.shown())
        .map(|m| (engine.mechanism_name(m.mechanism).to_owned(), m.received, m.owed, Figs::of(&m.detail)))
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
            h1 { "会员 " (member) }
            table {
                tr { th { "零钱 Wallet" } td.n.wallet { (wallet) } }
                tr { th { "购物金 Credit" } td.n.credit { (credit) } }
                tr { th { "累计消费 Spent" } td.n.spent { (spent) } }
                @if let Some(r) = &referrer { tr { th { "推荐人 Referrer" } td { a href={ "/console/members/" (super::encode(r)) } { (r) } } } }
            }
        }
        section #standing {
            h2 { "各机制 In each mechanism" }
            @if !standing.is_empty() {
                table {
                    @for (name, received, owed, figures) in &standing {
                        tr {
                            th { (name) }
                            td {
                                span { "received " b { (received) } } "　"
                                span { "owed " b { (owed) } } "　"
                                @for (k, v) in &figures.0 { span { (k) " " b { (v.raw()) } } "　" }
                            }
                        }
                    }
                }
            }
        }
        section #history {
            h2 { "流水 History" span.note { " (最近 latest 100)" } }
            @if history.is_empty() { p.note { "没有记录。Nothing yet." } }
            @else {
                table {
                    tr { th { "行 Line" } th { "事件 Event" } th { "规则 Rule" } th { "机制 Mechanism" } th { "账户 Account" } th.n { "金额 Amount" } }
                    @for (line, entry) in &history {
                        @let rows = entry.movements.len();
                        @for (i, m) in entry.movements.iter().enumerate() {
                            tr {
                                @if i == 0 {
                                    td rowspan=(rows) { (line) }
                                    td rowspan=(rows) { (entry.kind) br; span.note { (entry.at) } }
                                }
                                td { (m.rule) }
                                td { (m.mechanism) }
                                td { (m.account) }
                                td.n { (m.amount) }
                            }
                        }
                    }
                }
            }
        }
        section #tree {
            h2 { "推荐树 Referral tree" span.note { " (3 levels)" } }
            @if tree.is_empty() { p.note { "没有下级。Nobody referred yet." } }
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
    page(Lang::Zh, "member", Some((&caller, &csrf)), body)
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
    Query(query): Query<HashMap<String, String>>,
) -> Response {
    let mut app = lock(&server);
    let (caller, csrf) = or_page!(opened(&mut app, &headers, true));
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
            h1 { "审核 Review queue" span.note { " · " (pending) " 待审 pending" } }
            @if let Some(done) = query.get("done") { p.ok #done { "已处理 Decided: " (done) } }
            @if list.is_empty() { p.note { "没有待审推荐。No referral held." } }
            @else {
                form #reviews method="post" action="/console/reviews" {
                    input type="hidden" name="csrf" value=(csrf);
                    table {
                        tr { th {} th { "会员 Member" } th { "推荐人 Referrer" } th { "规则与证据 Rules and evidence" } th { "状态 Status" } }
                        @for r in &list {
                            @let member = r.member.as_str();
                            tr data-member=(member) {
                                td { @if r.decision.is_none() && owner { input type="checkbox" name="member" value=(member); } }
                                td { a href={ "/console/members/" (super::encode(member)) } { (member) } }
                                td { (r.referrer) }
                                td {
                                    @for (rule, evidence) in &r.hits {
                                        b { (rule) } ": " (evidence) br;
                                    }
                                    span.note { "held " (r.held_at) }
                                }
                                td.status {
                                    @match r.decision {
                                        Some((approve, at)) => { (if approve { "approve" } else { "reject" }) " " span.note { (at) } }
                                        None => "待审 pending",
                                    }
                                }
                            }
                        }
                    }
                    @if owner && pending > 0 {
                        p {
                            button #approve type="submit" name="decision" value="approve" { "批准所选 Approve selected" }
                            " "
                            button.alt #reject type="submit" name="decision" value="reject" { "拒绝所选 Reject selected" }
                        }
                    } @else if !owner { p.note { "只有所有者密钥可以审核。Only the owner's key decides." } }
                }
            }
        }
    };
    page(Lang::Zh, "reviews", Some((&caller, &csrf)), body)
}

/// `POST /console/reviews` (`csrf`, `decision`, `member` repeated): a `review` event per member.
pub(crate) async fn decide(
    State(server): State<Shared>,
    headers: HeaderMap,
    body: axum::body::Bytes,
) -> Response {
    // Repeated fields (`member=a&member=b`): read the pairs in order.
    let pairs: Vec<(String, String)> = serde_urlencoded_pairs(&body);
    let field = |name: &str| pairs.iter().find(|(k, _)| k == name).map(|(_, v)| v.clone());
    let (caller, csrf) = {
        let mut app = lock(&server);
        or_page!(opened(&mut app, &headers, false))
    };
    or_page!(form_checked(field("csrf").as_deref(), &csrf));
    if caller.role != Role::Owner {
        return super::error_page(
            Lang::Zh,
            StatusCode::FORBIDDEN,
            "只有所有者密钥可以审核。Only the owner's key decides.",
        );
    }
    let decision = match field("decision").as_deref() {
        Some(d @ ("approve" | "reject")) => d.to_owned(),
        _ => return super::error_page(Lang::Zh, StatusCode::BAD_REQUEST, "approve or reject?"),
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
                super::error_page(Lang::Zh, StatusCode::UNPROCESSABLE_ENTITY, &refused.join("; "))
            }
        }
        Err(error) => super::error_page(Lang::Zh, error.0, &error.2),
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

/// A key's time (Unix milliseconds) as the audit page shows it, in UTC; a dash for none.
fn key_time(ms: Option<i64>) -> String {
    ms.map_or_else(|| "–".to_owned(), crate::millis_text)
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
    Query(query): Query<HashMap<String, String>>,
) -> Response {
    let before = query.get("before").and_then(|b| b.parse::<u64>().ok());
    let mut app = lock(&server);
    let (caller, csrf) = or_page!(opened(&mut app, &headers, true));
    let chain = app.tenants[&caller.tenant].chain.clone();
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
    let body = html! {
        section {
            h1 { "审计 Audit" }
            table #chain {
                tr { th { "日志行数 Lines in the log" } td.lines { (chain.len()) } }
                tr { th { "链头 Chain head (SHA-256)" } td { code.head { (chain.head()) } } }
            }
            p.note {
                "任何人都可以用 fanli audit verify 重放日志并核对链头与日报。"
                "Anyone can replay the log with fanli audit verify and check the head and the reports: "
                code { "GET /v1/audit" } " and " code { "GET /v1/reports" } "."
            }
        }
        section {
            h2 { "日报 Daily pool reports" span.note { " (最近 latest 60)" } }
            @if reports.is_empty() { p.note { "还没有日结。No day closed yet." } }
            @else {
                table #reports {
                    tr { th { "日结 Closed at" } th { "链头 Chain" } th { "机制 Mechanisms: pool / owed / paid (price)" } }
                    @for r in reports.iter().rev().take(60) {
                        tr {
                            td { (r.at) }
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
            h2 { "写入 Writes" span.note { " (最近 latest " (WRITES_SHOWN) @if let Some(b) = before { ", before line " (b) } ")" } }
            @if writes.is_empty() { p.note { "日志是空的。The log is empty." } }
            @else {
                table #writes {
                    tr { th { "行 Line" } th { "时间 At" } th { "事件 Event" } th { "密钥 Key" } }
                    @for w in &writes {
                        tr data-line=(w.line) {
                            td { (w.line) }
                            @match &w.event {
                                Some((kind, at)) => { td { (at) } td { (kind) } }
                                None => { td { "–" } td { "–" } }
                            }
                            td.key {
                                @match (&w.key, &w.role) {
                                    (Some(key), Some(role)) => { code { (key) } " " span.note.role { (role) } }
                                    (Some(key), None) => { code { (key) } }
                                    (None, _) => span.note { "服务器 the server (or before keys had ids)" },
                                }
                            }
                        }
                    }
                }
                @if let Some(line) = older { p { a #older href={ "/console/audit?before=" (line) } { "更早 Older" } } }
            }
        }
        section {
            h2 { "方案版本 Plan versions" }
            @if versions.is_empty() { p.note { "还没有方案。No plan yet." } }
            @else {
                table #versions {
                    tr { th { "版本 Version" } th { "密钥 Key" } }
                    @for (version, key) in &versions {
                        tr { td { "v" (version) } td { @match key { Some(key) => code { (key) }, None => "–" } } }
                    }
                }
            }
        }
        @if !set_by.brands.is_empty() || set_by.webhook.is_some() {
            section {
                h2 { "其他设置 Settings beside the log" }
                table #settings {
                    tr { th { "设置 Setting" } th { "密钥 Key" } }
                    @for (brand, key) in &set_by.brands {
                        tr { td { "brand " (brand) } td { @match key { Some(key) => code { (key) }, None => "–" } } }
                    }
                    @for (store, brand, key) in &set_by.stores {
                        tr { td { "store " (store) " in brand " (brand) } td { @match key { Some(key) => code { (key) }, None => "–" } } }
                    }
                    @if let Some((url, key)) = &set_by.webhook {
                        tr { td { "webhook " (url) } td { @match key { Some(key) => code { (key) }, None => "–" } } }
                    }
                }
            }
        }
        section {
            h2 { "密钥 Keys" span.note { " · " (total_keys) @if total_keys > u64::from(KEYS_SHOWN) { " (first " (KEYS_SHOWN) ": GET /v1/keys lists them all)" } } }
            table #keys {
                tr { th { "密钥 Key" } th { "角色 Role" } th { "创建 Made" } th { "吊销 Revoked" } }
                @for k in &keys {
                    tr data-key=(k.id) class=[k.revoked().then_some("revoked")] {
                        td { code { (k.id) } }
                        td { (k.role) @if let Some(scope) = &k.scope { " " (scope) } }
                        td { (key_time(k.created_at)) @if let Some(by) = &k.created_by { br; span.note { "by " (by) } } }
                        td.revoked {
                            @if k.revoked() {
                                span.bad { (key_time(k.revoked_at)) }
                                @if let Some(by) = &k.revoked_by { br; span.note { "by " (by) } }
                            } @else { "–" }
                        }
                    }
                }
            }
        }
    };
    page(Lang::Zh, "audit", Some((&caller, &csrf)), body)
}

// The withdrawals queue and the members' vote (issue 15): pages of their own, after `or_page!`.
pub(crate) mod proposals;
pub(crate) mod webhook;
pub(crate) mod withdrawals;
