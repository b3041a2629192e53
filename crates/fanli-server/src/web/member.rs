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
use maud::{Markup, PreEscaped, html};
use serde_json::{Map, Value};

use super::{Lang, encode, error_page, figure, origin, page as layout, qr_svg, referral_link};
use fanli_engine::{Timestamp, UtcOffset};

use crate::auth::Role;
use crate::{Shared, blocking, lock};

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

/// The member's referral link for the request's host; `None` without a usable `Host` header.
fn link(headers: &HeaderMap, tenant: &str, member: &str) -> Option<String> {
    origin(headers).ok().map(|origin| referral_link(&origin, tenant, member))
}

/// `svg` without its XML declaration, sized to fit its column: ready to be inlined in HTML.
fn inline_svg(svg: &str) -> String {
    let svg = match svg.strip_prefix("<?xml").and_then(|rest| rest.split_once("?>")) {
        Some((_, rest)) => rest.trim_start(),
        None => svg,
    };
    svg.replacen("<svg ", "<svg style=\"width:100%;max-width:240px;height:auto\" ", 1)
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
    let (view, mechanisms, offset) = {
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
        let view = crate::member_value(engine, id)[member.as_str()].clone();
        let mechanisms: Value = fanli_format::mechanisms_json(engine, None)
            .and_then(|bytes| serde_json::from_slice(&bytes).ok())
            .unwrap_or_default();
        (view, mechanisms, engine.plan().timezone)
    };
    let history = blocking(|| app.store.history(&tenant, &member, HISTORY)).unwrap_or_default();
    drop(app);
    let token = query.get("t").map(|t| t.trim()).unwrap_or_default();
    let link = link(&headers, &tenant, &member);
    let body = render(
        lang,
        &Subject { member: &member, token, view: &view, mechanisms: &mechanisms, offset },
        &history,
        link,
    );
    layout(lang, "我的返利 My rebates", None, body)
}

/// `GET /m/qr.svg?t=TOKEN`: the member's referral QR code, to save or share.
pub(crate) async fn qr(
    State(server): State<Shared>,
    headers: HeaderMap,
    Query(query): Query<HashMap<String, String>>,
) -> Response {
    let lang = Lang::from_query(&query);
    let (tenant, member) = match member_of(&server, &query, lang) {
        Ok(found) => found,
        Err((status, message)) => return error_page(lang, status, &message),
    };
    let Some(link) = link(&headers, &tenant, &member) else {
        let message = "the referral link needs the request's `Host` header: a host name and port";
        return error_page(lang, StatusCode::BAD_REQUEST, message);
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

/// Cents of a money figure ("12.34" → 1234).
fn cents(value: &Value) -> Option<i64> {
    let text = value.as_str()?;
    let (whole, frac) = text.split_once('.').unwrap_or((text, "0"));
    let negative = whole.starts_with('-');
    let frac = match frac.len() {
        1 => frac.parse::<i64>().ok()? * 10,
        2 => frac.parse::<i64>().ok()?,
        _ => return None,
    };
    let value = whole.trim_start_matches('-').parse::<i64>().ok()?.checked_mul(100)?.checked_add(frac)?;
    Some(if negative { -value } else { value })
}

fn yuan(cents: i64) -> String {
    let sign = if cents < 0 { "-" } else { "" };
    format!("{sign}{}.{:02}", cents.abs() / 100, cents.abs() % 100)
}

/// A money figure with its sign: "¥12.34", or a dash.
fn money(value: &Value) -> String {
    match value {
        Value::Null => "–".to_owned(),
        v => format!("¥{}", figure(v)),
    }
}

/// Whether a figure is present and not zero.
fn nonzero(value: &Value) -> bool {
    match value {
        Value::String(s) => s.bytes().any(|b| b.is_ascii_digit() && b != b'0'),
        Value::Number(n) => n.as_f64().is_some_and(|n| n != 0.0),
        _ => false,
    }
}

/// A time from the views or the log ("2027-01-02T16:00:00Z") as the plan's local date and
/// time ("2027-01-03 00:00" at +08:00).
fn when(value: &Value, offset: UtcOffset) -> String {
    let Some(text) = value.as_str() else { return figure(value) };
    let local = Timestamp::parse_rfc3339(text)
        .and_then(|t| t.unix_nanos().checked_add(i64::from(offset.seconds()) * 1_000_000_000))
        .map(|nanos| Timestamp::from_unix_nanos(nanos).to_string());
    let text = local.as_deref().unwrap_or(text);
    match text.split_once('T') {
        Some((date, time)) => format!("{date} {}", time.get(..5).unwrap_or(time)),
        None => text.to_owned(),
    }
}

/// "k of N" as (k, N).
fn progress(value: &Value) -> Option<(u64, u64)> {
    let (k, n) = value.as_str()?.split_once(" of ")?;
    Some((k.trim().parse().ok()?, n.trim().parse().ok()?))
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
        "referral" => ("推荐状态", "Referral"),
        "team_sales" => ("团队业绩", "Team sales"),
        "refunded" => ("已退款", "Refunded"),
        other => return other.replace('_', " "),
    };
    lang.t(zh, en).to_owned()
}

/// Whether a field's figure is money (shown with ¥).
fn is_money(key: &str) -> bool {
    matches!(
        key,
        "wallet"
            | "credit"
            | "spent"
            | "received"
            | "owed"
            | "value"
            | "basis"
            | "base"
            | "waiting"
            | "ahead"
            | "daily"
            | "quota"
            | "year_spend"
            | "team_sales"
            | "refunded"
    )
}

/// A mechanism kind's name.
fn kind_name(lang: Lang, kind: &str) -> String {
    let (zh, en) = match kind {
        "appreciation" => ("消费增值", "Appreciation"),
        "refer_refund" => ("推荐返还", "Refer and refund"),
        "queue" => ("排队返利", "Rebate queue"),
        "distribution" => ("分销", "Distribution"),
        "green_points" => ("绿色积分", "Green points"),
        "cycle" => ("循环购", "Cycle"),
        "ad_tasks" => ("广告任务", "Ad tasks"),
        "loyalty" => ("会员积分", "Loyalty points"),
        "coalition" => ("联盟积分", "Coalition points"),
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
        other => return other.replace('_', " "),
    };
    lang.t(zh, &kind.replace('_', " ")).to_owned()
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

/// A field's figure, as the page shows it (`kind`: the mechanism's).
fn shown(key: &str, value: &Value, kind: &str, offset: UtcOffset) -> String {
    match value {
        Value::Object(fields) => {
            fields.iter().map(|(k, v)| shown(k, v, kind, offset)).collect::<Vec<_>>().join(" · ")
        }
        v if key == "at" => when(v, offset),
        // An ad task's next reward is points; every other next reward is money.
        v if is_money(key) || (key == "next_reward" && kind != "ad_tasks") => money(v),
        v => figure(v),
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

/// What the page is about: the member, their token, their view, the mechanisms' views and the
/// plan's timezone.
struct Subject<'a> {
    member: &'a str,
    token: &'a str,
    view: &'a Value,
    mechanisms: &'a Value,
    offset: UtcOffset,
}

/// The page's body.
fn render(
    lang: Lang,
    subject: &Subject<'_>,
    history: &[(u64, String, String)],
    link: Option<String>,
) -> Markup {
    let Subject { member, token, view, mechanisms, offset } = *subject;
    let t = |zh: &'static str, en: &'static str| lang.t(zh, en);
    let empty = Map::new();
    let standing: &Map<String, Value> = view["mechanisms"].as_object().unwrap_or(&empty);
    let kind_of = |id: &str| -> String {
        match mechanisms[id]["kind"].as_str() {
            Some(kind) => kind.to_owned(),
            // Not in the mechanism views: guess from the member's fields.
            None => {
                let m = &standing[id];
                if m.get("progress").is_some() {
                    "refer_refund".to_owned()
                } else if m.get("position").is_some() {
                    "queue".to_owned()
                } else if m.get("next_expiry").is_some() {
                    "loyalty".to_owned()
                } else {
                    String::new()
                }
            }
        }
    };
    let mechanism_title = |id: &str| -> String {
        let kind = kind_of(id);
        if kind.is_empty() { id.to_owned() } else { format!("{id} · {}", kind_name(lang, &kind)) }
    };
    let points: Vec<(&String, &Value)> =
        view["points"].as_object().map(|p| p.iter().collect()).unwrap_or_default();

    // The projection's three groups.
    let mut yours = vec![
        Item { what: label(lang, "wallet"), amount: money(&view["wallet"]), note: None },
        Item { what: label(lang, "credit"), amount: money(&view["credit"]), note: None },
    ];
    let certain = cents(&view["wallet"]).unwrap_or(0) + cents(&view["credit"]).unwrap_or(0);
    let mut paid = Vec::new();
    let mut owed = Vec::new();
    let mut owed_total = 0;
    let mut future = Vec::new();
    for (id, m) in standing {
        let title = mechanism_title(id);
        if nonzero(&m["received"]) {
            paid.push(Item { what: title.clone(), amount: money(&m["received"]), note: None });
        }
        if nonzero(&m["owed"]) {
            owed_total += cents(&m["owed"]).unwrap_or(0);
            let note = (mechanisms[id.as_str()]["paused"] == true).then(|| {
                t("这个资金池现在不够付，暂停兑付。", "This pool is short now: its payouts are paused.")
                    .to_owned()
            });
            owed.push(Item { what: title.clone(), amount: money(&m["owed"]), note });
        }
        if nonzero(&m["value"]) {
            let note = format!(
                "{} {}",
                figure(&m["points"]),
                t(
                    "积分按今天的价格：随资金池涨跌，卖出时才成为现金。",
                    "points at today's price, which moves with the pool; cash only once sold."
                ),
            );
            future.push(Item { what: title.clone(), amount: money(&m["value"]), note: Some(note) });
        }
        if nonzero(&m["waiting"]) {
            let note = t(
                "在队列中等待：按顺序支付，只有新订单给资金池带来钱时才会付。",
                "Waiting in the queue: paid in turn, only as new orders bring the pool money.",
            );
            future.push(Item {
                what: title.clone(),
                amount: money(&m["waiting"]),
                note: Some(note.to_owned()),
            });
        }
        if kind_of(id) == "refer_refund" && nonzero(&m["next_reward"]) {
            let note = t(
                "下次奖励：只有再推荐一位合格的新会员才会有。",
                "Next reward: only if one more qualifying member joins through you.",
            );
            future.push(Item {
                what: title.clone(),
                amount: money(&m["next_reward"]),
                note: Some(note.to_owned()),
            });
        }
        if nonzero(&m["quota"]) {
            let note = t("剩余额度：靠以后的分红慢慢付。", "Quota left: paid by future dividends, if any.");
            future.push(Item {
                what: title.clone(),
                amount: money(&m["quota"]),
                note: Some(note.to_owned()),
            });
        }
    }
    yours.push(Item {
        what: t("确定的合计", "Certain, in total").to_owned(),
        amount: format!("¥{}", yuan(certain)),
        note: None,
    });

    let progress_of: Vec<(&String, &Value)> =
        standing.iter().filter(|(id, _)| kind_of(id) == "refer_refund").collect();
    let queues: Vec<(&String, &Value)> =
        standing.iter().filter(|(id, m)| kind_of(id) == "queue" || m.get("position").is_some()).collect();
    let expiring: Vec<(&String, &Value)> = standing
        .iter()
        .filter(|(_, m)| m["next_expiry"].is_object() || nonzero(&m["expiring_soon"]["points"]))
        .collect();
    let encoded = encode(token);
    let switch = match lang {
        Lang::Zh => (format!("/m?t={encoded}&lang=en"), "English"),
        Lang::En => (format!("/m?t={encoded}"), "中文"),
    };
    let qr = link.as_deref().and_then(|l| qr_svg(l).ok()).map(|svg| inline_svg(&svg));
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
        section #balances {
            h2 { (t("余额", "Balances")) }
            div.cards style=(narrow_cards) {
                div.card { (label(lang, "wallet")) b #wallet { (money(&view["wallet"])) } }
                div.card { (label(lang, "credit")) b #credit { (money(&view["credit"])) } }
                div.card { (label(lang, "spent")) b #spent { (money(&view["spent"])) } }
                @for (id, p) in &points {
                    div.card id={ "points-" (id) } {
                        (label(lang, "points")) " · " (id)
                        b { (figure(p)) }
                        @if let Some(value) = standing.get(id.as_str()).map(|m| &m["value"]).filter(|v| !v.is_null()) {
                            span.note { (t("现值", "worth now")) " " (money(value)) }
                        }
                    }
                }
            }
            @let extras = ["team_sales", "refunded", "referrer", "referral"];
            @if extras.iter().any(|k| view.get(*k).is_some()) {
                dl style="margin:8px 0 0" {
                    @for key in extras {
                        @if let Some(value) = view.get(key) {
                            div style="display:flex;justify-content:space-between;gap:8px" {
                                dt { (label(lang, key)) }
                                dd style="margin:0" { (shown(key, value, "", offset)) }
                            }
                        }
                    }
                }
            }
        }
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
        @for (id, m) in &progress_of {
            section id={ "progress-" (id) } {
                h2 { (t("推荐进度", "Referral progress")) " · " (mechanism_title(id)) }
                @let (k, n) = progress(&m["progress"]).unwrap_or((0, 0));
                p style="margin:0 0 6px" {
                    (t("本轮", "This round:")) " " b.progress { (figure(&m["progress"])) }
                    @if lang == Lang::Zh && n > 0 { " （已推荐 " (k) " 位，本轮共 " (n) " 位）" }
                }
                div.bar role="img" aria-label=(figure(&m["progress"])) {
                    i style={ "width:" ((k.min(n) * 100).checked_div(n).unwrap_or(0)) "%" } {}
                }
                dl style="margin:8px 0 0" {
                    @if m["next_reward"].is_null() {
                        div.note { (t("没有下一次奖励了。", "No further reward.")) }
                    } @else {
                        div style="display:flex;justify-content:space-between;gap:8px" {
                            dt { (t("再推荐一位合格会员可得", "Your next qualifying referral brings")) }
                            dd style="margin:0" { b.next { (money(&m["next_reward"])) } }
                        }
                    }
                    @if let Some(count) = m.get("referrals") {
                        div style="display:flex;justify-content:space-between;gap:8px" {
                            dt { (t("累计推荐", "Referrals in all")) }
                            dd style="margin:0" { (figure(count)) }
                        }
                    }
                }
            }
        }
        @for (id, m) in &queues {
            section id={ "queue-" (id) } {
                h2 { (t("排队", "Queue")) " · " (mechanism_title(id)) }
                @if m["position"].is_null() {
                    p { (t("你现在不在队列中。", "You are not in the queue now.")) }
                } @else {
                    div.cards style=(narrow_cards) {
                        div.card { (label(lang, "position")) b.position { (figure(&m["position"])) } }
                        div.card { (label(lang, "ahead")) b.ahead { (money(&m["ahead"])) } }
                        div.card { (label(lang, "waiting")) b.waiting { (money(&m["waiting"])) } }
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
                    @for (id, m) in &expiring {
                        @if let Some(next) = m["next_expiry"].as_object() {
                            li {
                                (mechanism_title(id)) ": " b { (figure(&next["points"])) } " "
                                (t("积分于", "points expire at")) " " b.date { (when(&next["at"], offset)) }
                                (t(" 到期", ""))
                            }
                        }
                        @if let Some(soon) = m["expiring_soon"].as_object().filter(|s| nonzero(&s["points"])) {
                            li.warn {
                                (mechanism_title(id)) ": " b { (figure(&soon["points"])) } " "
                                @match lang {
                                    Lang::Zh => { "积分将在 " (figure(&soon["within_days"])) " 天内到期" }
                                    Lang::En => { "points expire within " (figure(&soon["within_days"])) " days" }
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
                @for (id, m) in standing {
                    div.card id={ "mechanism-" (id) } style="margin:0 0 8px" {
                        strong { (mechanism_title(id)) }
                        dl style="margin:4px 0 0" {
                            @for (key, value) in m.as_object().into_iter().flatten() {
                                div style="display:flex;justify-content:space-between;gap:8px;flex-wrap:wrap" {
                                    dt { (label(lang, key)) }
                                    dd style="margin:0;font-variant-numeric:tabular-nums" { (shown(key, value, &kind_of(id), offset)) }
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
            @for (line, event, rows) in history {
                @let event: Value = serde_json::from_str(event).unwrap_or_default();
                @let rows: Vec<Value> = serde_json::from_str(rows).unwrap_or_default();
                div.entry data-line=(line) style="padding:6px 0;border-bottom:1px solid #eee" {
                    div style="display:flex;justify-content:space-between;gap:8px" {
                        b { (event_name(lang, event["type"].as_str().unwrap_or_default())) }
                        span.note { (when(&event["at"], offset)) }
                    }
                    table style="font-size:14px" {
                        @for row in &rows {
                            @let amount = figure(&row[3]);
                            tr {
                                td style="padding:2px 4px 2px 0;border:0" {
                                    (rule_name(lang, row[0].as_str().unwrap_or_default()))
                                    @if let Some(m) = row[1].as_str().filter(|m| !m.is_empty()) { span.note { " · " (m) } }
                                }
                                td style="padding:2px 4px;border:0" { (account_name(lang, row[2].as_str().unwrap_or_default())) }
                                td style="padding:2px 0 2px 4px;border:0;white-space:nowrap"
                                    class=(if amount.starts_with('-') { "n bad" } else { "n ok" }) { (amount) }
                            }
                        }
                    }
                }
            }
        }
        section #qr {
            h2 { (t("邀请好友", "Invite friends")) }
            @match (&link, &qr) {
                (Some(link), Some(svg)) => {
                    div style="text-align:center" { (PreEscaped(svg)) }
                    p.note { (t("扫码或打开链接加入：", "Scan the code or open the link to join:")) }
                    p style="word-break:break-all;margin:4px 0" { code #link { (link) } }
                    p style="display:flex;gap:16px;flex-wrap:wrap;margin:8px 0 0" {
                        a #share href=(link) { (t("分享我的推荐链接", "Share my referral link")) }
                        a #download href={ "/m/qr.svg?t=" (encoded) } download="referral.svg" { (t("保存二维码", "Save the QR code")) }
                    }
                }
                _ => p.note { (t("无法生成推荐链接。", "The referral link could not be made.")) }
            }
        }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn figures_and_times_read_as_the_page_shows_them() {
        assert_eq!(cents(&Value::from("1320.05")), Some(132_005));
        assert_eq!(cents(&Value::from("-0.5")), Some(-50));
        assert_eq!(cents(&Value::from("1.2345")), None);
        assert_eq!(yuan(-1234), "-12.34");
        assert!(nonzero(&Value::from("0.01")) && !nonzero(&Value::from("0.00")) && !nonzero(&Value::Null));
        let china = UtcOffset::CHINA;
        assert_eq!(when(&Value::from("2026-01-02T09:00:00+08:00"), china), "2026-01-02 09:00");
        assert_eq!(when(&Value::from("2027-01-02T16:00:00Z"), china), "2027-01-03 00:00");
        assert_eq!(when(&Value::from("2027-01-02T16:00:00Z"), UtcOffset::UTC), "2027-01-02 16:00");
        assert_eq!(when(&Value::from("soon"), china), "soon");
        assert_eq!(progress(&Value::from("1 of 3")), Some((1, 3)));
    }

    #[test]
    fn an_inlined_qr_code_has_no_xml_declaration() {
        let svg = inline_svg(&qr_svg("http://h/join?tenant=t&ref=A").unwrap());
        assert!(svg.starts_with("<svg style="), "{}", &svg[..40]);
        assert!(!svg.contains("<?xml"));
    }
}
