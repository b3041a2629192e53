//! `/console/withdrawals`: the withdrawals waiting for an operator's review under the plan's
//! `[withdrawal]` (issue 15), beside the anti-fraud review queue: who asked, how much is held,
//! the fee it will cost, when; approved or rejected one at a time (the owner, as in the API).

use super::*;

/// A withdrawal waiting, as the page lists it.
struct Waiting {
    member: String,
    amount: Money,
    fee: Money,
    at: fanli_engine::Timestamp,
}

/// `GET /console/withdrawals`.
pub(crate) async fn page(
    State(server): State<Shared>,
    headers: HeaderMap,
    lang: Lang,
    Query(query): Query<HashMap<String, String>>,
) -> Response {
    let mut app = lock(&server);
    let (caller, csrf) = or_page!(opened(&mut app, &headers, true, lang));
    let engine = app.tenants[&caller.tenant].engine.as_ref();
    let rules = engine.is_some_and(|e| e.plan().withdrawal.is_some());
    let offset = engine.map_or(UtcOffset::CHINA, |e| e.plan().timezone);
    let list: Vec<Waiting> = engine
        .map(|e| {
            e.withdrawals_waiting()
                .map(|w| Waiting {
                    member: e.member_name(w.member).to_owned(),
                    amount: w.amount,
                    fee: w.fee,
                    at: w.at,
                })
                .collect()
        })
        .unwrap_or_default();
    drop(app);
    let owner = caller.role == Role::Owner;
    let held: i64 = list.iter().map(|w| w.amount.fen()).sum();
    let body = html! {
        section {
            h1 { (tr!(lang, "withdrawals-title")) span.note { " · " (tr!(lang, "withdrawals-count", count = list.len(), held = yuan(held))) } }
            @if let Some(done) = query.get("done") { p.ok #done { (tr!(lang, "withdrawals-done", member = done.as_str())) } }
            @if !rules { p.note { (tr!(lang, "withdrawals-no-rules")) } }
            @if list.is_empty() { p.note #empty { (tr!(lang, "withdrawals-none")) } }
            @else {
                table #withdrawals {
                    tr { th { (tr!(lang, "members-member")) } th.n { (tr!(lang, "history-amount")) } th.n { (tr!(lang, "withdrawals-fee")) } th.n { (tr!(lang, "withdrawals-net")) } th { (tr!(lang, "withdrawals-asked-at")) } th {} }
                    @for w in &list {
                        tr data-member=(w.member) {
                            td { a href={ "/console/members/" (super::super::encode(&w.member)) } { (w.member) } }
                            td.n.amount { (w.amount) }
                            td.n.fee { (w.fee) }
                            td.n.net { (yuan(w.amount.fen() - w.fee.fen())) }
                            td.at { (when(w.at, offset)) }
                            td {
                                @if owner {
                                    form method="post" action="/console/withdrawals" style="display:flex;gap:6px" {
                                        input type="hidden" name="csrf" value=(csrf);
                                        input type="hidden" name="member" value=(w.member);
                                        button.approve type="submit" name="decision" value="approve" { (tr!(lang, "decide-approve")) }
                                        button.alt.reject type="submit" name="decision" value="reject" { (tr!(lang, "decide-reject")) }
                                    }
                                }
                            }
                        }
                    }
                }
                @if !owner { p.note { (tr!(lang, "owner-decides")) } }
                p.note { (tr!(lang, "withdrawals-note")) }
            }
        }
    };
    super::page(lang, &tr!(lang, "nav-withdrawals"), Some((&caller, &csrf)), body)
}

/// `POST /console/withdrawals` (`csrf`, `member`, `decision`: approve or reject): a
/// `withdrawal_review` event (the owner).
pub(crate) async fn decide(
    State(server): State<Shared>,
    headers: HeaderMap,
    lang: Lang,
    Form(form): Form<HashMap<String, String>>,
) -> Response {
    let (caller, csrf) = {
        let mut app = lock(&server);
        or_page!(opened(&mut app, &headers, false, lang))
    };
    or_page!(form_checked(form.get("csrf").map(String::as_str), &csrf, lang));
    if caller.role != Role::Owner {
        return super::super::error_page(lang, StatusCode::FORBIDDEN, &tr!(lang, "owner-decides"));
    }
    let (Some(member), Some(decision @ ("approve" | "reject"))) =
        (form.get("member"), form.get("decision").map(String::as_str))
    else {
        return super::super::error_page(lang, StatusCode::BAD_REQUEST, &tr!(lang, "withdrawals-which"));
    };
    let mut fields = serde_json::Map::new();
    fields.insert("type".to_owned(), "withdrawal_review".into());
    fields.insert("member".to_owned(), member.as_str().into());
    fields.insert("decision".to_owned(), decision.into());
    let to = format!("/console/withdrawals?done={}", super::super::encode(member));
    stamped(&server, &caller, lang, fields, &to).await
}

/// Writes one event of the console's (`fields` with its `type`, stamped now) for `caller`, then
/// goes to `to`; a refusal's page says why.
pub(super) async fn stamped(
    server: &Shared,
    caller: &Caller,
    lang: Lang,
    fields: serde_json::Map<String, serde_json::Value>,
    to: &str,
) -> Response {
    let lines = vec![Line::Stamp(fields)];
    match submit_lines(server, caller.tenant.clone(), Some(caller.key.clone()), lines).await {
        Ok(mut results) => match results.remove(0) {
            LineResult::Refused(refusal) => super::super::error_page(
                lang,
                StatusCode::UNPROCESSABLE_ENTITY,
                &format!("{} ({})", refusal.error, refusal.code),
            ),
            LineResult::Applied { .. } | LineResult::Skipped => see_other(to),
        },
        Err(error) => super::super::error_page(lang, error.0, &error.2),
    }
}
