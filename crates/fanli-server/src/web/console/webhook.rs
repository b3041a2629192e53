//! `/console/webhook`: the webhook's outbox at a glance and its dead letters (issue 18): the
//! notifications the deliverer gave up on after its last attempt, each with its last error, sent
//! again one at a time or all together (the owner, as `POST /v1/webhook/dead/{id}/replay`).

use super::*;

/// How many dead letters the page lists (the API pages through the rest).
const DEAD_SHOWN: u32 = 100;

/// `GET /console/webhook`.
pub(crate) async fn page(
    State(server): State<Shared>,
    headers: HeaderMap,
    lang: Lang,
    Query(query): Query<HashMap<String, String>>,
) -> Response {
    let mut app = lock(&server);
    let (caller, csrf) = or_page!(opened(&mut app, &headers, true, lang));
    let tenant = &app.tenants[&caller.tenant];
    let url = tenant.webhook.clone();
    let offset = offset_of(&app, &caller.tenant);
    let owner = caller.role == Role::Owner;
    let status = blocking(|| app.store.outbox_status(&caller.tenant));
    // Dead letters name members and amounts: the owner's to see, as in the API.
    let dead = if owner {
        blocking(|| app.store.dead_letters(&caller.tenant, 0, DEAD_SHOWN))
    } else {
        Ok(Vec::new())
    };
    drop(app);
    let (status, dead) = match (status, dead) {
        (Ok(status), Ok(dead)) => (status, dead),
        (Err(error), _) | (_, Err(error)) => {
            tracing::error!(%error, "the outbox could not be read");
            let message = lang.t("通知记录读取失败。", "The outbox could not be read.");
            return super::super::error_page(lang, StatusCode::INTERNAL_SERVER_ERROR, message);
        }
    };
    let time = |ms: i64| super::super::when_millis(Some(ms), offset);
    let body = html! {
        section {
            h1 { (lang.t("通知", "Webhook")) span.note { " · " (status.pending) (lang.t(" 待发 · ", " pending · ")) (status.delivered) (lang.t(" 已送达 · ", " delivered · ")) (status.dead) (lang.t(" 失败", " dead")) } }
            p { (lang.t("地址：", "URL: ")) @match &url { Some(url) => code #url { (url) }, None => span.note { (lang.t("未设置", "none")) " (PUT /v1/webhook)" } } }
            @if let Some((attempts, Some(error))) = &status.head { p.bad #retrying { (lang.t("最早待发的一条已失败次数：", "The oldest pending one failed, times: ")) (attempts) " · " (error) } }
            @if let Some(done) = query.get("replayed") { p.ok #replayed { (lang.t("已重发：", "Replayed: ")) (done) } }
            @if !owner { p.note { (lang.t("失败通知只有所有者密钥可以查看和重发。", "Only the owner's key sees and replays dead letters.")) } }
            @else if dead.is_empty() { p.note #empty { (lang.t("没有失败的通知。", "No dead letter.")) } }
            @else {
                form method="post" action="/console/webhook" {
                    input type="hidden" name="csrf" value=(csrf);
                    button.alt #replay-all type="submit" name="id" value="all" { (lang.t("全部重发", "Replay all")) }
                }
                div style="overflow-x:auto" { table #dead {
                    tr { th.n { (lang.t("编号", "Id")) } th { (lang.t("行", "Line")) } th { (lang.t("类型", "Type")) } th.n { (lang.t("尝试", "Attempts")) } th { (lang.t("最后错误", "Last error")) } th { (lang.t("放弃时间", "Given up")) } th {} }
                    @for d in &dead {
                        @let note: serde_json::Value = serde_json::from_str(&d.body).unwrap_or_default();
                        tr data-id=(d.id) {
                            td.n { (d.id) }
                            td.n { (note["line"]) }
                            td { (note["type"].as_str().map_or("?".to_owned(), |t| lang.name("event", t))) " " (note["member"].as_str().unwrap_or("")) " " (note["amount"].as_str().unwrap_or("")) }
                            td.n { (d.attempts) }
                            td { (d.last_error.as_deref().unwrap_or("–")) }
                            td { (time(d.dead_at)) }
                            td {
                                form method="post" action="/console/webhook" {
                                    input type="hidden" name="csrf" value=(csrf);
                                    button.replay type="submit" name="id" value=(d.id) { (lang.t("重发", "Replay")) }
                                }
                            }
                        }
                    }
                } }
                p.note { (lang.t("重发：以同一编号（X-Fanli-Delivery）再次发送，重新计算尝试次数。", "Replayed: sent again with the same id (X-Fanli-Delivery), its attempts counted from 0.")) }
            }
        }
    };
    super::super::console_page(lang, "webhook", Some((&caller, &csrf)), body)
}

/// `POST /console/webhook` (`csrf`, `id`: a dead letter's or `all`): puts it (them) back in
/// the outbox (the owner).
pub(crate) async fn replay(
    State(server): State<Shared>,
    headers: HeaderMap,
    lang: Lang,
    Form(form): Form<HashMap<String, String>>,
) -> Response {
    let mut app = lock(&server);
    let (caller, csrf) = or_page!(opened(&mut app, &headers, false, lang));
    or_page!(form_checked(form.get("csrf").map(String::as_str), &csrf, lang));
    if caller.role != Role::Owner {
        drop(app);
        let message = lang.t("只有所有者密钥可以重发。", "Only the owner's key replays dead letters.");
        return super::super::error_page(lang, StatusCode::FORBIDDEN, message);
    }
    let id = match form.get("id").map(String::as_str) {
        Some("all") => None,
        Some(id) => match id.parse::<i64>() {
            Ok(id) => Some(id),
            Err(_) => return super::super::error_page(lang, StatusCode::BAD_REQUEST, "id?"),
        },
        None => return super::super::error_page(lang, StatusCode::BAD_REQUEST, "id?"),
    };
    match blocking(|| app.store.replay(&caller.tenant, id)) {
        Ok(0) => super::super::error_page(
            lang,
            StatusCode::NOT_FOUND,
            lang.t("没有这条失败通知。", "No such dead letter."),
        ),
        Ok(n) => {
            tracing::info!(tenant = %caller.tenant, replayed = n, key = %caller.key, "dead letters replayed");
            see_other(&format!("/console/webhook?replayed={n}"))
        }
        Err(error) => {
            tracing::error!(%error, "dead letters could not be replayed");
            super::super::error_page(
                lang,
                StatusCode::INTERNAL_SERVER_ERROR,
                lang.t("重发失败。", "The replay failed."),
            )
        }
    }
}
