//! `/console/webhook`: the webhook's outbox at a glance and its dead letters (issue 18): the
//! notifications the deliverer gave up on after its last attempt, each with its last error, sent
//! again one at a time or all together (the owner, as `POST /v1/webhook/dead/{id}/replay`).

use super::*;
use crate::web::i18n::tr_html;

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
            let message = tr!(lang, "webhook-unreadable");
            return super::super::error_page(lang, StatusCode::INTERNAL_SERVER_ERROR, &message);
        }
    };
    let time = |ms: i64| super::super::when_millis(Some(ms), offset);
    let body = html! {
        section {
            h1 {
                (tr!(lang, "webhook-title"))
                span.note {
                    " · "
                    (tr!(
                        lang,
                        "webhook-counts",
                        pending = status.pending,
                        delivered = status.delivered,
                        dead = status.dead
                    ))
                }
            }
            @let shown_url = match &url {
                Some(url) => html! { code #url { (url) } },
                None => html! { span.note { (tr!(lang, "webhook-url-none")) " (PUT /v1/webhook)" } },
            };
            p { (tr_html!(lang, "webhook-url", url = shown_url)) }
            @if let Some((attempts, Some(error))) = &status.head {
                p.bad #retrying { (tr!(lang, "webhook-retrying", attempts = *attempts, error = error.as_str())) }
            }
            @if let Some(done) = query.get("replayed") { p.ok #replayed { (tr!(lang, "webhook-replayed", count = done)) } }
            @if !owner { p.note { (tr!(lang, "webhook-owner-sees")) } }
            @else if dead.is_empty() { p.note #empty { (tr!(lang, "webhook-none")) } }
            @else {
                form method="post" action="/console/webhook" {
                    input type="hidden" name="csrf" value=(csrf);
                    button.alt #replay-all type="submit" name="id" value="all" { (tr!(lang, "webhook-replay-all")) }
                }
                div style="overflow-x:auto" { table #dead {
                    tr {
                        th.n { (tr!(lang, "webhook-id")) }
                        th { (tr!(lang, "webhook-line")) }
                        th { (tr!(lang, "webhook-type")) }
                        th.n { (tr!(lang, "webhook-attempts")) }
                        th { (tr!(lang, "webhook-last-error")) }
                        th { (tr!(lang, "webhook-given-up")) }
                        th {}
                    }
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
                                    button.replay type="submit" name="id" value=(d.id) { (tr!(lang, "webhook-replay")) }
                                }
                            }
                        }
                    }
                } }
                p.note { (tr!(lang, "webhook-replay-note")) }
            }
        }
    };
    super::super::console_page(lang, &tr!(lang, "webhook-title"), Some((&caller, &csrf)), body)
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
        let message = tr!(lang, "webhook-owner-replays");
        return super::super::error_page(lang, StatusCode::FORBIDDEN, &message);
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
        Ok(0) => super::super::error_page(lang, StatusCode::NOT_FOUND, &tr!(lang, "webhook-no-such")),
        Ok(n) => {
            tracing::info!(tenant = %caller.tenant, replayed = n, key = %caller.key, "dead letters replayed");
            see_other(&format!("/console/webhook?replayed={n}"))
        }
        Err(error) => {
            tracing::error!(%error, "dead letters could not be replayed");
            super::super::error_page(
                lang,
                StatusCode::INTERNAL_SERVER_ERROR,
                &tr!(lang, "webhook-replay-failed"),
            )
        }
    }
}
