//! The member's phone page (`/m?t=TOKEN`), opened with a member token in the link: their
//! balances, an honest projection, progress towards the next referral reward, their place in a
//! queue, points about to expire, their history and their referral QR code. In the language the
//! console's pages choose ([`Lang::of`]: `?lang=`, the `fanli_lang` cookie, `Accept-Language`,
//! else Chinese); laid out in one column of cards so that it reads on a 360-px-wide screen.
//!
//! The projection never adds an uncertain amount to a certain one. It has three groups:
//! - already yours: the wallet and store credit (paid; what each mechanism paid so far is listed
//!   beside them, since it went into those balances);
//! - owed by a pool: promised and funded in the books, but paid oldest first only when the pool
//!   has money, which only new orders bring;
//! - depends on future members: the value of points now (it moves with the pool), what waits in
//!   a queue, the next referral reward (only if more referrals come).
//!
//! The history shows each event's type and time and this member's own movements, never the
//! event's other fields (they name other members).

use std::collections::HashMap;

use axum::extract::{Query, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use maud::{Markup, html};

use super::i18n::{Arg, tr_html};
use super::{Figs, Lang, Shown, encode, error_page, local_time, page as layout, qr_svg, referral_link, tr};
use fanli_engine::{Money, Points, UtcOffset};

use crate::auth::Role;
use crate::{Shared, lock};
use fanli_format::HistoryEntry;

/// How many of the latest events the history shows.
const HISTORY: u32 = 50;

/// The tenant and member a request's `t` stands for; else the error page's status and message
/// (which names nobody).
fn member_of(
    server: &Shared,
    query: &HashMap<String, String>,
    lang: Lang,
) -> Result<(String, String), (StatusCode, String)> {
    let invalid = || (StatusCode::UNAUTHORIZED, tr!(lang, "my-invalid-link"));
    let token = query.get("t").map(|t| t.trim()).unwrap_or_default();
    if token.is_empty() {
        return Err(invalid());
    }
    let Ok(value) = HeaderValue::from_str(&format!("Bearer {token}")) else { return Err(invalid()) };
    let mut headers = HeaderMap::new();
    headers.insert(header::AUTHORIZATION, value);
    let caller = match lock(server).caller(&headers) {
        Ok(caller) => caller,
        Err(error) if error.0 == StatusCode::UNAUTHORIZED => return Err(invalid()),
        Err(error) if error.0 == StatusCode::SERVICE_UNAVAILABLE => {
            return Err((error.0, tr!(lang, "my-try-later")));
        }
        Err(error) => return Err((error.0, error.2)),
    };
    match caller.role {
        Role::Member(member) => Ok((caller.tenant, member)),
        _ => Err((StatusCode::FORBIDDEN, tr!(lang, "my-not-a-member-link"))),
    }
}

/// The member's referral link (`{origin}/join?tenant=T&ref=MEMBER`, the origin the tenant's
/// setting, the server's or the request's host), or the error page's status and message.
fn link(
    server: &Shared,
    headers: &HeaderMap,
    tenant: &str,
    member: &str,
    lang: Lang,
) -> Result<String, (StatusCode, String)> {
    let mut app = lock(server);
    match super::public_origin(&mut app, tenant, headers) {
        Ok(origin) => Ok(referral_link(&origin, tenant, member)),
        Err(error) if error.0 == StatusCode::BAD_REQUEST => {
            Err((StatusCode::BAD_REQUEST, tr!(lang, "my-link-no-host")))
        }
        Err(error) => Err((error.0, error.2)),
    }
}

/// `GET /m?t=TOKEN[&lang=en]`: the member's page.
pub(crate) async fn page(
    State(server): State<Shared>,
    headers: HeaderMap,
    Query(query): Query<HashMap<String, String>>,
) -> Response {
    let lang = Lang::of_fields(&headers, &query);
    let (tenant, member) = match member_of(&server, &query, lang) {
        Ok(found) => found,
        Err((status, message)) => return error_page(lang, status, &message),
    };
    let mut app = lock(&server);
    let (view, offset, votes) = {
        let Some(engine) = app.tenants.get(&tenant).and_then(|t| t.engine.as_ref()) else {
            return error_page(lang, StatusCode::NOT_FOUND, &tr!(lang, "my-no-plan"));
        };
        let Some(id) = engine.find_member(&member) else {
            return error_page(lang, StatusCode::NOT_FOUND, &tr!(lang, "my-not-found"));
        };
        (Member::of(engine, id, lang), engine.plan().timezone, votes::Votes::of(engine, id))
    };
    let history = super::history(&mut app.store, &tenant, &member, HISTORY);
    let head = app.tenants.get(&tenant).and_then(|t| t.log.head.clone());
    let (link, join) = match super::public_settings(&mut app, &tenant, &headers) {
        Ok((origin, settings)) => {
            (origin.ok().map(|o| referral_link(&o, &tenant, &member)), settings.public_join)
        }
        Err(_) => (None, true),
    };
    drop(app);
    let token = query.get("t").map(|t| t.trim()).unwrap_or_default();
    let link = link.map(|link| (link, join));
    let subject = Subject { member: &member, token, view: &view, offset, votes: &votes, head: head.as_ref() };
    let body = render(lang, &subject, &history, link);
    layout(lang, &tr!(lang, "my-title"), None, body)
}

/// The page's language and the member's referral link, for the token in `query`; the error
/// page for a token that is no member's or a link that cannot be made.
fn referral(
    server: &Shared,
    headers: &HeaderMap,
    query: &HashMap<String, String>,
) -> Result<(Lang, String), Box<Response>> {
    let lang = Lang::of_fields(headers, query);
    let page = |(status, message): (StatusCode, String)| Box::new(error_page(lang, status, &message));
    let (tenant, member) = member_of(server, query, lang).map_err(page)?;
    let link = link(server, headers, &tenant, &member, lang).map_err(page)?;
    Ok((lang, link))
}

/// `GET /m/qr.svg?t=TOKEN`: the member's referral QR code, to save or share.
pub(crate) async fn qr(
    State(server): State<Shared>,
    headers: HeaderMap,
    Query(query): Query<HashMap<String, String>>,
) -> Response {
    let (lang, link) = match referral(&server, &headers, &query) {
        Ok(found) => found,
        Err(page) => return *page,
    };
    match qr_svg(&link) {
        Ok(svg) => (
            [
                (header::CONTENT_TYPE, "image/svg+xml"),
                (header::CONTENT_SECURITY_POLICY, "default-src 'none'; style-src 'unsafe-inline'"),
                (header::X_CONTENT_TYPE_OPTIONS, "nosniff"),
                (header::REFERRER_POLICY, "no-referrer"),
                (header::CACHE_CONTROL, "private, no-store"),
            ],
            svg,
        )
            .into_response(),
        Err(error) => error_page(lang, StatusCode::INTERNAL_SERVER_ERROR, &error.to_string()),
    }
}

/// `GET /m/qr.png?t=TOKEN`: the member's referral QR code as a PNG (the page's `<img>`, which
/// WeChat's long-press 识别二维码 reads, and what 保存二维码 saves).
pub(crate) async fn qr_png(
    State(server): State<Shared>,
    headers: HeaderMap,
    Query(query): Query<HashMap<String, String>>,
) -> Response {
    let (lang, link) = match referral(&server, &headers, &query) {
        Ok(found) => found,
        Err(page) => return *page,
    };
    match super::qr_png(&link) {
        Ok(png) => super::png_response(png),
        Err(error) => error_page(lang, StatusCode::INTERNAL_SERVER_ERROR, &error.to_string()),
    }
}

fn yuan(cents: i64) -> String {
    let sign = if cents < 0 { "-" } else { "" };
    format!("{sign}{}.{:02}", cents.abs() / 100, cents.abs() % 100)
}

/// A money figure with its sign: "¥12.34".
fn money(value: Money) -> String {
    format!("¥{value}")
}

/// What the page shows of a member, read from the engine's views while its lock is held.
struct Member {
    wallet: Money,
    credit: Money,
    spent: Money,
    /// Team sales, refunds, referrer and the referral's review, where the member has them.
    extras: Vec<(&'static str, String)>,
    /// Each points mechanism: its id, its name, the member's points, and their value now where
    /// the kind prices them.
    points: Vec<(String, String, Points, Option<Money>)>,
    /// Each mechanism's name for members by its id: the plan's `name`, else its kind's.
    names: HashMap<String, String>,
    /// The member's referrals held for review (anti-fraud): not counted until approved.
    held: usize,
    /// The mechanisms the member has anything in, in plan order.
    standings: Vec<Standing>,
    /// The plan's amendments waiting to take effect.
    coming: Vec<super::versions::Coming>,
}

/// A member's standing in one mechanism.
struct Standing {
    id: String,
    /// The mechanism's name for members: the plan's `name`, else its kind's ("消费增值").
    title: String,
    /// The mechanism pauses while its pool owes more than it holds, and does now.
    paused: bool,
    received: Money,
    owed: Money,
    figures: Figs,
}

impl Member {
    fn of(engine: &fanli_engine::Engine, id: fanli_engine::MemberId, lang: Lang) -> Member {
        let view = engine.member_view_of(id);
        let mechanisms: Vec<_> = engine.mechanism_views().collect();
        let names: HashMap<String, String> = mechanisms
            .iter()
            .map(|m| (m.id.to_owned(), m.name.map_or_else(|| lang.name("kind", m.kind), str::to_owned)))
            .collect();
        let standings: Vec<Standing> = view
            .mechanisms
            .iter()
            .filter(|m| m.shown())
            .map(|m| {
                let mechanism = &mechanisms[m.mechanism.index()];
                Standing {
                    id: mechanism.id.to_owned(),
                    title: names[mechanism.id].clone(),
                    paused: mechanism.paused == Some(true),
                    received: m.received,
                    owed: m.owed,
                    figures: Figs::of(&m.detail),
                }
            })
            .collect();
        let points = engine
            .mechanism_ids()
            .filter(|&m| engine.has_points(m))
            .map(|m| {
                let key = engine.mechanism_name(m).to_owned();
                let value = standings.iter().find(|s| s.id == key).and_then(|s| s.figures.money("value"));
                let name = names.get(&key).cloned().unwrap_or_else(|| key.clone());
                (key, name, engine.points(m, id), value)
            })
            .collect();
        let mut extras = Vec::new();
        if let Some(team_sales) = view.team_sales {
            extras.push(("team_sales", money(team_sales)));
        }
        if !view.refunded.is_zero() {
            extras.push(("refunded", money(view.refunded)));
        }
        if let Some(referrer) = view.referrer {
            extras.push(("referrer", referrer.to_owned()));
        }
        if view.referral != fanli_engine::Link::Clear {
            let status = match view.referral {
                fanli_engine::Link::Held => tr!(lang, "my-referral-held"),
                fanli_engine::Link::Approved => tr!(lang, "my-referral-approved"),
                _ => tr!(lang, "my-referral-rejected"),
            };
            extras.push(("referral", status));
        }
        let held = engine
            .reviews()
            .map_or(0, |reviews| reviews.iter().filter(|r| r.referrer == id && r.decision.is_none()).count());
        if held > 0 {
            extras.push(("held", held.to_string()));
        }
        let coming = super::versions::coming(engine, lang);
        Member {
            wallet: view.wallet,
            credit: view.credit,
            spent: view.spent,
            extras,
            points,
            names,
            held,
            standings,
            coming,
        }
    }
}

/// A field's label (message `my-label-KEY`; the key, spaced, when none is written).
fn label(lang: Lang, key: &str) -> String {
    lang.named("my-label", key).unwrap_or_else(|| key.replace('_', " "))
}

/// A ledger rule's name in the page's language, in the members' words (`my-rule-RULE`, not the
/// console's `rule-RULE`): the rule, spaced, when none is written.
fn rule_name(lang: Lang, rule: &str) -> String {
    lang.named("my-rule", rule).unwrap_or_else(|| rule.replace('_', " "))
}

/// An event type's name in the page's language (`my-event-TYPE`, the members' words).
fn event_name(lang: Lang, kind: &str) -> String {
    lang.named("my-event", kind).unwrap_or_else(|| kind.replace('_', " "))
}

/// A figure that is a whole number as a number (so a message's plural forms can select on it),
/// else as it is written.
fn number(text: String) -> Arg<'static> {
    match text.parse::<u64>() {
        Ok(n) => Arg::from(n),
        Err(_) => Arg::from(text),
    }
}

/// A figure as the member page shows it: a round's progress "3/3" in Chinese ("3 of 3" in
/// English), the others as every page does.
fn figure(lang: Lang, shown: &Shown, offset: UtcOffset) -> String {
    match shown {
        Shown::Of(done, of) if lang == Lang::Zh => format!("{done}/{of}"),
        other => other.text(offset),
    }
}

/// An account's name (`my-account-ACCOUNT`; as it is when none is written).
fn account_name(lang: Lang, account: &str) -> String {
    lang.named("my-account", account).unwrap_or_else(|| account.to_owned())
}

/// One line of the projection: what, and how much.
struct Item {
    what: String,
    amount: String,
    note: Option<String>,
}

fn items(list: &[Item]) -> Markup {
    html! {
        dl style="margin:0" {
            @for item in list {
                div style="display:flex;justify-content:space-between;gap:8px;padding:4px 0;border-bottom:1px solid #eee" {
                    dt style="flex:1;min-width:0" {
                        (item.what)
                        @if let Some(note) = &item.note { br; span.note { (note) } }
                    }
                    dd style="margin:0;white-space:nowrap;font-variant-numeric:tabular-nums" { b { (item.amount) } }
                }
            }
        }
    }
}

/// What the page is about: the member, their token, their view and the plan's timezone.
struct Subject<'a> {
    member: &'a str,
    token: &'a str,
    view: &'a Member,
    offset: UtcOffset,
    /// A withdrawal waiting, and the members' vote.
    votes: &'a votes::Votes,
    /// The latest signed tree head (issue 16).
    head: Option<&'a fanli_format::transparency::SignedHead>,
}

/// The page's body.
fn render(
    lang: Lang,
    subject: &Subject<'_>,
    history: &[(u64, HistoryEntry)],
    link: Option<(String, bool)>,
) -> Markup {
    let Subject { member, token, view, offset, votes, head } = *subject;
    let standing = &view.standings;

    // The projection's three groups.
    let mut yours = vec![
        Item { what: label(lang, "wallet"), amount: money(view.wallet), note: None },
        Item { what: label(lang, "credit"), amount: money(view.credit), note: None },
    ];
    let certain = view.wallet.fen() + view.credit.fen();
    let mut paid = Vec::new();
    let mut owed = Vec::new();
    let mut owed_total = 0;
    let mut future = Vec::new();
    for m in standing {
        let title = &m.title;
        let figures = &m.figures;
        if !m.received.is_zero() {
            paid.push(Item { what: title.clone(), amount: money(m.received), note: None });
        }
        if !m.owed.is_zero() {
            owed_total += m.owed.fen();
            let note = m.paused.then(|| tr!(lang, "my-pool-paused"));
            owed.push(Item { what: title.clone(), amount: money(m.owed), note });
        }
        if let Some(value) = figures.money("value").filter(|v| !v.is_zero()) {
            let points = figures.get("points").map_or_else(|| "–".to_owned(), |p| p.text(offset));
            let note = tr!(lang, "my-points-value-note", points = points);
            future.push(Item { what: title.clone(), amount: money(value), note: Some(note) });
        }
        if let Some(waiting) = figures.money("waiting").filter(|w| !w.is_zero()) {
            let note = tr!(lang, "my-queue-value-note");
            future.push(Item { what: title.clone(), amount: money(waiting), note: Some(note) });
        }
        // A referral step's next reward (not an ad view's): it comes with the round's progress.
        if figures.get("progress").is_some()
            && let Some(next) = figures.money("next_reward").filter(|r| !r.is_zero())
        {
            let note = tr!(lang, "my-next-reward-note");
            future.push(Item { what: title.clone(), amount: money(next), note: Some(note) });
        }
        if let Some(quota) = figures.money("quota").filter(|q| !q.is_zero()) {
            let note = tr!(lang, "my-quota-note");
            future.push(Item { what: title.clone(), amount: money(quota), note: Some(note) });
        }
    }
    yours.push(Item {
        what: tr!(lang, "my-certain-total"),
        amount: format!("¥{}", yuan(certain)),
        note: None,
    });

    let progress_of: Vec<&Standing> =
        standing.iter().filter(|m| m.figures.get("progress").is_some()).collect();
    let queues: Vec<&Standing> = standing.iter().filter(|m| m.figures.get("position").is_some()).collect();
    let expiring: Vec<&Standing> = standing
        .iter()
        .filter(|m| {
            let soon = match m.figures.get("expiring_soon") {
                Some(Shown::Group(soon)) => soon.get("points").is_some_and(Shown::nonzero),
                _ => false,
            };
            matches!(m.figures.get("next_expiry"), Some(Shown::Group(_))) || soon
        })
        .collect();
    let encoded = encode(token);
    // The switch names its language: with no `lang`, a cookie or the browser's language would
    // choose again.
    let switch = format!("/m?t={encoded}&lang={}", lang.other().short());
    let narrow_cards = "grid-template-columns:repeat(auto-fit,minmax(130px,1fr))";

    html! {
        div style="max-width:640px;margin:0 auto" {
        section #top {
            div style="display:flex;justify-content:space-between;align-items:baseline;gap:8px;flex-wrap:wrap" {
                h1 style="margin:0" { (tr!(lang, "my-title")) }
                a #lang href=(switch) lang=(lang.other().code()) { (tr!(lang, "switch-language")) }
            }
            p.note #member style="margin:4px 0 0;word-break:break-all" { (tr_html!(lang, "my-member", member = html! { b { (member) } })) }
        }
        (super::versions::coming_notice(lang, &view.coming, offset))
        section #balances {
            h2 { (tr!(lang, "my-balances")) }
            div.cards style=(narrow_cards) {
                div.card { (label(lang, "wallet")) b #wallet { (money(view.wallet)) } }
                div.card { (label(lang, "credit")) b #credit { (money(view.credit)) } }
                div.card { (label(lang, "spent")) b #spent { (money(view.spent)) } }
                @for (id, name, points, value) in &view.points {
                    div.card id={ "points-" (id) } {
                        (label(lang, "points")) " · " (name)
                        b { (points) }
                        @if let Some(value) = value {
                            span.note { (tr!(lang, "my-worth-now", value = money(*value))) }
                        }
                    }
                }
            }
            @if !view.extras.is_empty() {
                dl style="margin:8px 0 0" {
                    @for (key, value) in &view.extras {
                        div style="display:flex;justify-content:space-between;gap:8px" {
                            dt { (label(lang, key)) }
                            dd style="margin:0" { (value) }
                        }
                    }
                }
            }
        }
        (votes::render(lang, token, votes, offset))
        section #projection {
            h2 { (tr!(lang, "my-projection")) }
            p.note { (tr!(lang, "my-projection-note")) }
            div #certain style="margin:0 0 12px" {
                h3.ok style="font-size:15px;margin:8px 0 4px" { "① " (tr!(lang, "my-certain")) }
                p.note style="margin:0" { (tr!(lang, "my-certain-note")) }
                (items(&yours))
                @if !paid.is_empty() {
                    p.note style="margin:6px 0 0" { (tr!(lang, "my-paid-so-far")) }
                    (items(&paid))
                }
            }
            div #owed style="margin:0 0 12px" {
                h3.warn style="font-size:15px;margin:8px 0 4px" { "② " (tr!(lang, "my-owed")) }
                p.note style="margin:0" { (tr!(lang, "my-owed-note")) }
                @if owed.is_empty() {
                    p style="margin:4px 0" { (tr!(lang, "my-owed-none")) }
                } @else {
                    (items(&owed))
                    p style="margin:4px 0" {
                        (tr_html!(lang, "my-owed-total", total = html! { b #owed-total { "¥" (yuan(owed_total)) } }))
                    }
                }
            }
            div #future {
                h3.bad style="font-size:15px;margin:8px 0 4px" { "③ " (tr!(lang, "my-future")) }
                p.note style="margin:0" { (tr!(lang, "my-future-note")) }
                @if future.is_empty() {
                    p style="margin:4px 0" { (tr!(lang, "my-future-none")) }
                } @else {
                    (items(&future))
                }
            }
        }
        @for m in &progress_of {
            section id={ "progress-" (m.id) } {
                h2 { (tr!(lang, "my-progress", mechanism = &m.title)) }
                @let progress = m.figures.get("progress").map_or_else(String::new, |p| figure(lang, p, offset));
                @let (k, n) = match m.figures.get("progress") { Some(Shown::Of(k, n)) => (*k, *n), _ => (0, 0) };
                p style="margin:0 0 6px" {
                    (tr_html!(lang, "my-round", progress = html! { b.progress { (progress) } }, done = k, of = n))
                }
                div.bar role="img" aria-label=(progress) {
                    i style={ "width:" ((k.min(n) * 100).checked_div(n).unwrap_or(0)) "%" } {}
                }
                dl style="margin:8px 0 0" {
                    @match (m.figures.money("next_reward"), m.figures.get("next_share")) {
                        (Some(next), _) => div style="display:flex;justify-content:space-between;gap:8px" {
                            dt { (tr!(lang, "my-next-reward")) }
                            dd style="margin:0" { b.next { (money(next)) } }
                        },
                        // A ladder of each order's own share (`step_base = "each"`): the amount
                        // depends on the order, so the share is what can be said.
                        (None, Some(Shown::Text(share))) => div style="display:flex;justify-content:space-between;gap:8px" {
                            dt { (tr!(lang, "my-next-share")) }
                            dd style="margin:0" { b.next { (share) } }
                        },
                        (None, _) => div.note { (tr!(lang, "my-no-next")) },
                    }
                    @if let Some(count) = m.figures.get("referrals") {
                        div style="display:flex;justify-content:space-between;gap:8px" {
                            dt { (tr!(lang, "my-referrals-all")) }
                            dd style="margin:0" {
                                (figure(lang, count, offset))
                                @if view.held > 0 {
                                    " · " span.warn.held { (tr!(lang, "my-held-count", count = view.held)) }
                                }
                            }
                        }
                    }
                }
            }
        }
        @for m in &queues {
            section id={ "queue-" (m.id) } {
                h2 { (tr!(lang, "my-queue", mechanism = &m.title)) }
                @if matches!(m.figures.get("position"), Some(Shown::Null) | None) {
                    p { (tr!(lang, "my-not-queued")) }
                } @else {
                    @let shown = |name: &str| m.figures.get(name).map_or_else(|| "–".to_owned(), |f| f.text(offset));
                    div.cards style=(narrow_cards) {
                        div.card { (label(lang, "position")) b.position { (shown("position")) } }
                        div.card { (label(lang, "ahead")) b.ahead { (shown("ahead")) } }
                        div.card { (label(lang, "waiting")) b.waiting { (shown("waiting")) } }
                    }
                    p.note { (tr!(lang, "my-queue-note")) }
                }
            }
        }
        @if !expiring.is_empty() {
            section #expiring {
                h2 { (tr!(lang, "my-expiring")) }
                ul style="margin:0;padding-left:18px" {
                    @for m in &expiring {
                        @let text = |group: &Figs, name: &str| group.get(name).map_or_else(|| "–".to_owned(), |f| f.text(offset));
                        @if let Some(Shown::Group(next)) = m.figures.get("next_expiry") {
                            li {
                                (tr_html!(
                                    lang,
                                    "my-next-expiry",
                                    mechanism = &m.title,
                                    points = html! { b { (text(next, "points")) } },
                                    date = html! { b.date { (text(next, "at")) } },
                                ))
                            }
                        }
                        @if let Some(Shown::Group(soon)) = m.figures.get("expiring_soon").filter(|s| matches!(s, Shown::Group(g) if g.get("points").is_some_and(Shown::nonzero))) {
                            li.warn {
                                (tr_html!(
                                    lang,
                                    "my-expiring-soon",
                                    mechanism = &m.title,
                                    points = html! { b { (text(soon, "points")) } },
                                    days = number(text(soon, "within_days")),
                                ))
                            }
                        }
                    }
                }
            }
        }
        @if !standing.is_empty() {
            section #mechanisms {
                h2 { (tr!(lang, "my-details")) }
                @for m in standing {
                    div.card id={ "mechanism-" (m.id) } style="margin:0 0 8px" {
                        strong { (m.title) }
                        dl style="margin:4px 0 0" {
                            @for (key, value) in [("received", money(m.received)), ("owed", money(m.owed))] {
                                div style="display:flex;justify-content:space-between;gap:8px;flex-wrap:wrap" {
                                    dt { (label(lang, key)) }
                                    dd style="margin:0;font-variant-numeric:tabular-nums" { (value) }
                                }
                            }
                            @for (key, value) in &m.figures.0 {
                                div style="display:flex;justify-content:space-between;gap:8px;flex-wrap:wrap" {
                                    dt { (label(lang, key)) }
                                    dd style="margin:0;font-variant-numeric:tabular-nums" { (figure(lang, value, offset)) }
                                }
                                @if *key == "referrals" && view.held > 0 {
                                    div.warn style="display:flex;justify-content:space-between;gap:8px;flex-wrap:wrap" {
                                        dt { (tr!(lang, "my-held")) }
                                        dd.held style="margin:0;font-variant-numeric:tabular-nums" { (view.held) }
                                    }
                                }
                            }
                        }
                    }
                }
            }
        }
        section #history {
            h2 {
                (tr!(lang, "my-history"))
                span.note { " " (tr!(lang, "my-history-latest", count = HISTORY, offset = offset.to_string())) }
            }
            @if history.is_empty() {
                p.note { (tr!(lang, "my-history-none")) }
            }
            @for (line, entry) in history {
                div.entry data-line=(line) style="padding:6px 0;border-bottom:1px solid #eee" {
                    div style="display:flex;justify-content:space-between;gap:8px" {
                        b { (event_name(lang, &entry.kind)) }
                        span.note { (local_time(entry.at, offset)) " · " (proofs::link(lang, &encoded, *line)) }
                    }
                    table style="font-size:14px" {
                        @for m in &entry.movements {
                            tr {
                                td style="padding:2px 4px 2px 0;border:0" {
                                    (rule_name(lang, &m.rule))
                                    @if !m.mechanism.is_empty() {
                                        span.note { " · " (view.names.get(&m.mechanism).unwrap_or(&m.mechanism)) }
                                    }
                                }
                                td style="padding:2px 4px;border:0" { (account_name(lang, &m.account)) }
                                td style="padding:2px 0 2px 4px;border:0;white-space:nowrap"
                                    class=(if m.amount.is_out() { "n bad" } else { "n ok" }) { (m.amount) }
                            }
                        }
                    }
                }
            }
        }
        (proofs::render(lang, head, offset))
        section #qr {
            h2 { (tr!(lang, "my-invite")) }
            @match &link {
                Some((link, true)) => {
                    @let png = format!("/m/qr.png?t={encoded}");
                    div style="text-align:center" {
                        img #qr-code src=(png) width="240" height="240" alt=(tr!(lang, "my-qr-alt"))
                            style="width:100%;max-width:240px;height:auto;image-rendering:pixelated";
                    }
                    p.note { (tr!(lang, "my-qr-note")) }
                    p style="word-break:break-all;margin:4px 0" { code #link { (link) } }
                    p style="display:flex;gap:16px;flex-wrap:wrap;margin:8px 0 0" {
                        a #share href=(link) { (tr!(lang, "my-share")) }
                        a #download href=(png) download="referral.png" { (tr!(lang, "my-save-qr")) }
                    }
                }
                Some((_, false)) => p.note #closed {
                    (tr_html!(lang, "my-closed", member = html! { b { (member) } }))
                }
                None => p.note { (tr!(lang, "my-no-link")) }
            }
        }
        }
    }
}

pub(crate) mod proofs;
pub(crate) mod votes;

#[cfg(test)]
mod tests {
    use super::*;
    use fanli_engine::Timestamp;

    #[test]
    fn figures_and_times_read_as_the_page_shows_them() {
        assert_eq!(yuan(-1234), "-12.34");
        let china = UtcOffset::CHINA;
        let at = |text: &str| Timestamp::parse_rfc3339(text).unwrap();
        assert_eq!(local_time(at("2026-01-02T09:00:00+08:00"), china), "2026-01-02 09:00");
        assert_eq!(local_time(at("2027-01-02T16:00:00Z"), china), "2027-01-03 00:00");
        assert_eq!(local_time(at("2027-01-02T16:00:00Z"), UtcOffset::UTC), "2027-01-02 16:00");
    }

    #[test]
    fn a_rounds_progress_reads_as_a_fraction_in_chinese() {
        assert_eq!(figure(Lang::Zh, &Shown::Of(3, 3), UtcOffset::CHINA), "3/3");
        assert_eq!(figure(Lang::En, &Shown::Of(1, 3), UtcOffset::CHINA), "1 of 3");
        assert_eq!(figure(Lang::Zh, &Shown::Count(2), UtcOffset::CHINA), "2");
    }
}
