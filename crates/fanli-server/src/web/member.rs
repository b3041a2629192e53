//! The member's phone page (`/m?t=TOKEN`), opened with a member token in the link: their
//! balances, an honest projection, progress towards the next referral reward, their place in a
//! queue, points about to expire, their history and their referral QR code. Chinese unless
//! `lang=en`; laid out in one column of cards so that it reads on a 360-px-wide screen.
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

use super::{Figs, Lang, Shown, encode, error_page, local_time, page as layout, qr_svg, referral_link};
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
    let invalid = || {
        let message = lang.t(
            "链接无效：请向商家索取新的会员链接。",
            "This link is not valid: ask the shop for a new member link.",
        );
        (StatusCode::UNAUTHORIZED, message.to_owned())
    };
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
            let message = lang.t("请稍后再试。", "Please try again in a moment.");
            return Err((error.0, message.to_owned()));
        }
        Err(error) => return Err((error.0, error.2)),
    };
    match caller.role {
        Role::Member(member) => Ok((caller.tenant, member)),
        _ => {
            let message = lang.t(
                "这不是会员链接：会员页面只能用会员令牌打开。",
                "This is not a member's link: the page opens with a member token only.",
            );
            Err((StatusCode::FORBIDDEN, message.to_owned()))
        }
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
            let message = lang
                .t("无法生成推荐链接：请求缺少主机名。", "The referral link needs the request's host name.");
            Err((StatusCode::BAD_REQUEST, message.to_owned()))
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
    let lang = Lang::from_query(&query);
    let (tenant, member) = match member_of(&server, &query, lang) {
        Ok(found) => found,
        Err((status, message)) => return error_page(lang, status, &message),
    };
    let mut app = lock(&server);
    let (view, offset, votes) = {
        let Some(engine) = app.tenants.get(&tenant).and_then(|t| t.engine.as_ref()) else {
            return error_page(
                lang,
                StatusCode::NOT_FOUND,
                lang.t("还没有返利方案。", "There is no rebate scheme yet."),
            );
        };
        let Some(id) = engine.find_member(&member) else {
            return error_page(
                lang,
                StatusCode::NOT_FOUND,
                lang.t("找不到您的会员记录。", "Your membership was not found."),
            );
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
    layout(lang, "我的返利 My rebates", None, body)
}

/// The page's language and the member's referral link, for the token in `query`; the error
/// page for a token that is no member's or a link that cannot be made.
fn referral(
    server: &Shared,
    headers: &HeaderMap,
    query: &HashMap<String, String>,
) -> Result<(Lang, String), Box<Response>> {
    let lang = Lang::from_query(query);
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
            .map(|m| (m.id.to_owned(), m.name.unwrap_or_else(|| lang.t(m.title.0, m.title.1)).to_owned()))
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
            let (zh, en) = match view.referral {
                fanli_engine::Link::Held => ("待审核", "waiting for review"),
                fanli_engine::Link::Approved => ("已通过审核", "approved"),
                _ => ("未通过审核", "rejected"),
            };
            extras.push(("referral", lang.t(zh, en).to_owned()));
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

/// A field's label.
fn label(lang: Lang, key: &str) -> String {
    let (zh, en) = match key {
        "wallet" => ("零钱", "Wallet"),
        "credit" => ("购物金", "Store credit"),
        "spent" => ("累计消费", "Spent"),
        "received" => ("已付给你", "Paid to you"),
        "owed" => ("资金池欠你", "Owed to you by the pool"),
        "points" => ("积分", "Points"),
        "value" => ("积分现值", "Points' value now"),
        "basis" => ("计价基数", "Basis"),
        "exit_price" => ("出局价", "Exit price"),
        "base" => ("返还基数", "Refund base"),
        "referrals" => ("已推荐", "Referrals"),
        "progress" => ("本轮进度", "This round"),
        "next_reward" => ("下次奖励", "Next reward"),
        "next_share" => ("下次返现比例", "Next step's share"),
        "entries" => ("排队条数", "Queue entries"),
        "waiting" => ("排队待付", "Waiting in the queue"),
        "position" => ("排位", "Position"),
        "ahead" => ("前面待付", "Queued ahead of you"),
        "lots" => ("批次", "Lots"),
        "daily" => ("每日释放", "Daily release"),
        "quota" => ("额度", "Quota"),
        "shares" => ("份额", "Shares"),
        "honor" => ("荣誉", "Honor"),
        "tier" => ("等级", "Tier"),
        "year_spend" => ("本年消费", "Spent this year"),
        "year_points" => ("本年积分", "Points this year"),
        "next_expiry" => ("最近到期", "Next expiry"),
        "expiring_soon" => ("即将到期", "Expiring soon"),
        "within_days" => ("天内", "within days"),
        "at" => ("日期", "date"),
        "referrer" => ("推荐人", "Referred by"),
        "referral" => ("我的推荐状态", "My referral"),
        "held" => ("推荐待审核", "Referrals waiting for review"),
        "team_sales" => ("团队业绩", "Team sales"),
        "refunded" => ("已退款", "Refunded"),
        other => return other.replace('_', " "),
    };
    lang.t(zh, en).to_owned()
}

/// A ledger rule's name in the page's language (raw in English, or when it has no translation).
fn rule_name(lang: Lang, rule: &str) -> String {
    let zh = match rule {
        "payment" => "支付",
        "credit_spent" => "使用购物金",
        "funding" => "注入资金池",
        "cancel" => "取消订单",
        "refund" => "退款",
        "withdraw" => "提现",
        "topup" => "充值",
        "inject" => "注资",
        "mint" => "获得积分",
        "sell" => "卖出积分",
        "exit" => "出局",
        "referral" => "推荐奖励",
        "indirect" => "间接推荐奖励",
        "repurchase" => "复购返现",
        "acceleration" => "推荐加速",
        "release" => "排队返还",
        "due" => "补位返还",
        "level" => "分销佣金",
        "rank" => "级差奖",
        "peer" => "平级奖",
        "regional" => "区域奖",
        "recruiter" => "招商奖",
        "returned" => "退回",
        "grant" => "发放积分",
        "daily_release" => "每日释放",
        "share_release" => "分享加速释放",
        "team_release" => "团队释放",
        "dividend" => "分红",
        "honor" => "荣誉分红",
        "task_points" => "任务积分",
        "advertiser_fund" => "广告主注资",
        "ad_view" => "观看广告",
        "earn" => "消费积分",
        "referee_bonus" => "推荐积分",
        "topup_bonus" => "充值奖励",
        "expire" => "积分过期",
        "redeem" => "兑换",
        "cashout" => "积分兑现",
        "clawback" => "追回",
        "withdrawal_fee" => "提现手续费",
        "withdrawal_held" => "提现冻结待审",
        "withdrawal_returned" => "提现退回",
        other => return other.replace('_', " "),
    };
    lang.t(zh, &rule.replace('_', " ")).to_owned()
}

/// An event type's name in the page's language.
fn event_name(lang: Lang, kind: &str) -> String {
    let zh = match kind {
        "join" => "加入",
        "order" => "下单",
        "refund" => "退款",
        "sell" => "卖出积分",
        "withdraw" => "提现",
        "topup" => "充值",
        "redeem" => "兑换",
        "inject" => "注资",
        "advertiser_fund" => "广告主注资",
        "ad_view" => "观看广告",
        "close_day" => "日结",
        "review" => "审核",
        "agent" => "代理",
        "store" => "门店",
        "withdrawal_review" => "提现审核",
        "vote" => "投票",
        other => return other.replace('_', " "),
    };
    lang.t(zh, &kind.replace('_', " ")).to_owned()
}

/// A figure as the member page shows it: a round's progress "3/3" in Chinese ("3 of 3" in
/// English), the others as every page does.
fn figure(lang: Lang, shown: &Shown, offset: UtcOffset) -> String {
    match shown {
        Shown::Of(done, of) if lang == Lang::Zh => format!("{done}/{of}"),
        other => other.text(offset),
    }
}

/// An account's name.
fn account_name(lang: Lang, account: &str) -> String {
    match account {
        "wallet" => lang.t("零钱", "wallet").to_owned(),
        "credit" => lang.t("购物金", "store credit").to_owned(),
        "points" => lang.t("积分", "points").to_owned(),
        other => other.to_owned(),
    }
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
    let t = |zh: &'static str, en: &'static str| lang.t(zh, en);
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
            let note = m.paused.then(|| {
                t("这个资金池现在不够付，暂停兑付。", "This pool is short now: its payouts are paused.")
                    .to_owned()
            });
            owed.push(Item { what: title.clone(), amount: money(m.owed), note });
        }
        if let Some(value) = figures.money("value").filter(|v| !v.is_zero()) {
            let note = format!(
                "{} {}",
                figures.get("points").map_or_else(|| "–".to_owned(), |p| p.text(offset)),
                t(
                    "积分按今天的价格：随资金池涨跌，卖出时才成为现金。",
                    "points at today's price, which moves with the pool; cash only once sold."
                ),
            );
            future.push(Item { what: title.clone(), amount: money(value), note: Some(note) });
        }
        if let Some(waiting) = figures.money("waiting").filter(|w| !w.is_zero()) {
            let note = t(
                "在队列中等待：按顺序支付，只有新订单给资金池带来钱时才会付。",
                "Waiting in the queue: paid in turn, only as new orders bring the pool money.",
            );
            future.push(Item { what: title.clone(), amount: money(waiting), note: Some(note.to_owned()) });
        }
        // A referral step's next reward (not an ad view's): it comes with the round's progress.
        if figures.get("progress").is_some()
            && let Some(next) = figures.money("next_reward").filter(|r| !r.is_zero())
        {
            let note = t(
                "下次奖励：只有再推荐一位合格的新会员才会有。",
                "Next reward: only if one more qualifying member joins through you.",
            );
            future.push(Item { what: title.clone(), amount: money(next), note: Some(note.to_owned()) });
        }
        if let Some(quota) = figures.money("quota").filter(|q| !q.is_zero()) {
            let note = t("剩余额度：靠以后的分红慢慢付。", "Quota left: paid by future dividends, if any.");
            future.push(Item { what: title.clone(), amount: money(quota), note: Some(note.to_owned()) });
        }
    }
    yours.push(Item {
        what: t("确定的合计", "Certain, in total").to_owned(),
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
    let switch = match lang {
        Lang::Zh => (format!("/m?t={encoded}&lang=en"), "English"),
        Lang::En => (format!("/m?t={encoded}"), "中文"),
    };
    let narrow_cards = "grid-template-columns:repeat(auto-fit,minmax(130px,1fr))";

    html! {
        div style="max-width:640px;margin:0 auto" {
        section #top {
            div style="display:flex;justify-content:space-between;align-items:baseline;gap:8px;flex-wrap:wrap" {
                h1 style="margin:0" { (t("我的返利", "My rebates")) }
                a #lang href=(switch.0) lang=(if lang == Lang::Zh { "en" } else { "zh-CN" }) { (switch.1) }
            }
            p.note #member style="margin:4px 0 0;word-break:break-all" { (t("会员", "Member")) " " b { (member) } }
        }
        (super::versions::coming_notice(lang, &view.coming, offset))
        section #balances {
            h2 { (t("余额", "Balances")) }
            div.cards style=(narrow_cards) {
                div.card { (label(lang, "wallet")) b #wallet { (money(view.wallet)) } }
                div.card { (label(lang, "credit")) b #credit { (money(view.credit)) } }
                div.card { (label(lang, "spent")) b #spent { (money(view.spent)) } }
                @for (id, name, points, value) in &view.points {
                    div.card id={ "points-" (id) } {
                        (label(lang, "points")) " · " (name)
                        b { (points) }
                        @if let Some(value) = value {
                            span.note { (t("现值", "worth now")) " " (money(*value)) }
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
            h2 { (t("诚实的预期", "An honest projection")) }
            p.note {
                (t(
                    "三组分开列出，从不相加：只有第一组是确定的。",
                    "Three groups, never added together: only the first is certain.",
                ))
            }
            div #certain style="margin:0 0 12px" {
                h3.ok style="font-size:15px;margin:8px 0 4px" { "① " (t("已经是你的（确定）", "Already yours (certain)")) }
                p.note style="margin:0" { (t("已经付到你的零钱和购物金。", "Paid into your wallet and store credit.")) }
                (items(&yours))
                @if !paid.is_empty() {
                    p.note style="margin:6px 0 0" {
                        (t(
                            "各机制累计已付给你（已计入上面的余额，除非已提现或用掉）：",
                            "Paid to you so far by each scheme (already in the balances above, unless withdrawn or spent):",
                        ))
                    }
                    (items(&paid))
                }
            }
            div #owed style="margin:0 0 12px" {
                h3.warn style="font-size:15px;margin:8px 0 4px" { "② " (t("资金池欠你的（已承诺，不确定）", "Owed by a pool (promised, not certain)")) }
                p.note style="margin:0" {
                    (t(
                        "资金池有钱时，按先到先付的顺序支付；池里的钱只来自新的订单。",
                        "Paid oldest first when the pool has money, and only new orders bring it money.",
                    ))
                }
                @if owed.is_empty() {
                    p style="margin:4px 0" { (t("没有欠你的。", "Nothing is owed to you.")) }
                } @else {
                    (items(&owed))
                    p style="margin:4px 0" { (t("欠你的合计", "Owed in total")) " " b #owed-total { "¥" (yuan(owed_total)) } }
                }
            }
            div #future {
                h3.bad style="font-size:15px;margin:8px 0 4px" { "③ " (t("取决于未来的会员（不确定）", "Depends on future members (not certain)")) }
                p.note style="margin:0" {
                    (t(
                        "这些数目会变，也可能永远不会付：只有新会员加入并消费时才会实现。不要把它们当作收入。",
                        "These figures move and may never be paid: they come only if new members join and buy. Do not count them as income.",
                    ))
                }
                @if future.is_empty() {
                    p style="margin:4px 0" { (t("没有。", "None.")) }
                } @else {
                    (items(&future))
                }
            }
        }
        @for m in &progress_of {
            section id={ "progress-" (m.id) } {
                h2 { (t("推荐进度", "Referral progress")) " · " (m.title) }
                @let progress = m.figures.get("progress").map_or_else(String::new, |p| figure(lang, p, offset));
                @let (k, n) = match m.figures.get("progress") { Some(Shown::Of(k, n)) => (*k, *n), _ => (0, 0) };
                p style="margin:0 0 6px" {
                    (t("本轮", "This round:")) " " b.progress { (progress) }
                    @if lang == Lang::Zh && n > 0 { "（本轮已推荐 " (k) " 位，共 " (n) " 位）" }
                }
                div.bar role="img" aria-label=(progress) {
                    i style={ "width:" ((k.min(n) * 100).checked_div(n).unwrap_or(0)) "%" } {}
                }
                dl style="margin:8px 0 0" {
                    @match (m.figures.money("next_reward"), m.figures.get("next_share")) {
                        (Some(next), _) => div style="display:flex;justify-content:space-between;gap:8px" {
                            dt { (t("再推荐一位合格会员可得", "Your next qualifying referral brings")) }
                            dd style="margin:0" { b.next { (money(next)) } }
                        },
                        // A ladder of each order's own share (`step_base = "each"`): the amount
                        // depends on the order, so the share is what can be said.
                        (None, Some(Shown::Text(share))) => div style="display:flex;justify-content:space-between;gap:8px" {
                            dt { (t("下一笔合格订单返还其", "Your next qualifying order brings back, of itself")) }
                            dd style="margin:0" { b.next { (share) } }
                        },
                        (None, _) => div.note { (t("没有下一次奖励了。", "No further reward.")) },
                    }
                    @if let Some(count) = m.figures.get("referrals") {
                        div style="display:flex;justify-content:space-between;gap:8px" {
                            dt { (t("累计推荐", "Referrals in all")) }
                            dd style="margin:0" {
                                (figure(lang, count, offset))
                                @if view.held > 0 {
                                    " · " span.warn.held { (t("待审核", "waiting for review")) " " (view.held) }
                                }
                            }
                        }
                    }
                }
            }
        }
        @for m in &queues {
            section id={ "queue-" (m.id) } {
                h2 { (t("排队", "Queue")) " · " (m.title) }
                @if matches!(m.figures.get("position"), Some(Shown::Null) | None) {
                    p { (t("你现在不在队列中。", "You are not in the queue now.")) }
                } @else {
                    @let shown = |name: &str| m.figures.get(name).map_or_else(|| "–".to_owned(), |f| f.text(offset));
                    div.cards style=(narrow_cards) {
                        div.card { (label(lang, "position")) b.position { (shown("position")) } }
                        div.card { (label(lang, "ahead")) b.ahead { (shown("ahead")) } }
                        div.card { (label(lang, "waiting")) b.waiting { (shown("waiting")) } }
                    }
                    p.note {
                        (t(
                            "队列按顺序支付：前面的金额付完才轮到你，而付款只来自新的订单。",
                            "The queue pays in turn: what is ahead of you is paid first, and payments come only from new orders.",
                        ))
                    }
                }
            }
        }
        @if !expiring.is_empty() {
            section #expiring {
                h2 { (t("即将过期的积分", "Points expiring")) }
                ul style="margin:0;padding-left:18px" {
                    @for m in &expiring {
                        @let text = |group: &Figs, name: &str| group.get(name).map_or_else(|| "–".to_owned(), |f| f.text(offset));
                        @if let Some(Shown::Group(next)) = m.figures.get("next_expiry") {
                            li {
                                (m.title) ": " b { (text(next, "points")) } " "
                                (t("积分于", "points expire at")) " " b.date { (text(next, "at")) }
                                (t(" 到期", ""))
                            }
                        }
                        @if let Some(Shown::Group(soon)) = m.figures.get("expiring_soon").filter(|s| matches!(s, Shown::Group(g) if g.get("points").is_some_and(Shown::nonzero))) {
                            li.warn {
                                (m.title) ": " b { (text(soon, "points")) } " "
                                @match lang {
                                    Lang::Zh => { "积分将在 " (text(soon, "within_days")) " 天内到期" }
                                    Lang::En => { "points expire within " (text(soon, "within_days")) " days" }
                                }
                            }
                        }
                    }
                }
            }
        }
        @if !standing.is_empty() {
            section #mechanisms {
                h2 { (t("各项明细", "Details")) }
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
                                        dt { (t("待审核", "Waiting for review")) }
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
            h2 { (t("记录", "History")) span.note { " (" (t("最近", "latest")) " " (HISTORY) " · UTC" (offset) ")" } }
            @if history.is_empty() {
                p.note { (t("还没有记录。", "Nothing yet.")) }
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
            h2 { (t("邀请好友", "Invite friends")) }
            @match &link {
                Some((link, true)) => {
                    @let png = format!("/m/qr.png?t={encoded}");
                    div style="text-align:center" {
                        img #qr-code src=(png) width="240" height="240" alt=(t("我的推荐二维码", "My referral QR code"))
                            style="width:100%;max-width:240px;height:auto;image-rendering:pixelated";
                    }
                    p.note { (t("长按二维码识别或保存，或把链接发给好友：", "Long-press the code to scan or save it, or send the link:")) }
                    p style="word-break:break-all;margin:4px 0" { code #link { (link) } }
                    p style="display:flex;gap:16px;flex-wrap:wrap;margin:8px 0 0" {
                        a #share href=(link) { (t("分享我的推荐链接", "Share my referral link")) }
                        a #download href=(png) download="referral.png" { (t("保存二维码", "Save the QR code")) }
                    }
                }
                Some((_, false)) => p.note #closed {
                    (t("这家店暂不开放在线加入：请好友到店登记，并告诉店员你的会员名 ", "This shop does not take members online: your friends join in the shop, giving your member name "))
                    b { (member) } (t("。", "."))
                }
                None => p.note { (t("无法生成推荐链接。", "The referral link could not be made.")) }
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
