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
    Query(query): Query<HashMap<String, String>>,
) -> Response {
    let mut app = lock(&server);
    let (caller, csrf) = or_page!(opened(&mut app, &headers, true));
    let engine = app.tenants[&caller.tenant].engine.as_ref();
    let rules = engine.is_some_and(|e| e.plan().withdrawal.is_some());
    let offset = engine.map_or(fanli_engine::UtcOffset::UTC, |e| e.plan().timezone);
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
            h1 { "提现审核 Withdrawals" span.note { " · " (list.len()) " 待审 waiting · 冻结 held ¥" (yuan(held)) } }
            @if let Some(done) = query.get("done") { p.ok #done { "已处理 Decided: " (done) } }
            @if !rules { p.note { "方案没有 [withdrawal]：提现即时全额支付。The plan has no [withdrawal]: withdrawals are paid at once, whole." } }
            @if list.is_empty() { p.note #empty { "没有待审提现。No withdrawal waiting." } }
            @else {
                table #withdrawals {
                    tr { th { "会员 Member" } th.n { "金额 Amount" } th.n { "手续费 Fee" } th.n { "实付 Paid out" } th { "申请时间 Asked at" } th {} }
                    @for w in &list {
                        tr data-member=(w.member) {
                            td { a href={ "/console/members/" (super::super::encode(&w.member)) } { (w.member) } }
                            td.n.amount { (w.amount) }
                            td.n.fee { (w.fee) }
                            td.n.net { (yuan(w.amount.fen() - w.fee.fen())) }
                            td.at { (super::super::local_time(w.at, offset)) }
                            td {
                                @if owner {
                                    form method="post" action="/console/withdrawals" style="display:flex;gap:6px" {
                                        input type="hidden" name="csrf" value=(csrf);
                                        input type="hidden" name="member" value=(w.member);
                                        button.approve type="submit" name="decision" value="approve" { "批准 Approve" }
                                        button.alt.reject type="submit" name="decision" value="reject" { "拒绝 Reject" }
                                    }
                                }
                            }
                        }
                    }
                }
                @if !owner { p.note { "只有所有者密钥可以审核。Only the owner's key decides." } }
                p.note { "批准：按申请时的手续费支付；拒绝：金额退回会员零钱。Approved: paid less the fee set when asked; rejected: the amount goes back to the member's wallet." }
            }
        }
    };
    super::page(Lang::Zh, "withdrawals", Some((&caller, &csrf)), body)
}

/// `POST /console/withdrawals` (`csrf`, `member`, `decision`: approve or reject): a
/// `withdrawal_review` event (the owner).
pub(crate) async fn decide(
    State(server): State<Shared>,
    headers: HeaderMap,
    Form(form): Form<HashMap<String, String>>,
) -> Response {
    let (caller, csrf) = {
        let mut app = lock(&server);
        or_page!(opened(&mut app, &headers, false))
    };
    or_page!(form_checked(form.get("csrf").map(String::as_str), &csrf));
    if caller.role != Role::Owner {
        return super::super::error_page(
            Lang::Zh,
            StatusCode::FORBIDDEN,
            "只有所有者密钥可以审核。Only the owner's key decides.",
        );
    }
    let (Some(member), Some(decision @ ("approve" | "reject"))) =
        (form.get("member"), form.get("decision").map(String::as_str))
    else {
        return super::super::error_page(Lang::Zh, StatusCode::BAD_REQUEST, "member, and approve or reject?");
    };
    let mut fields = serde_json::Map::new();
    fields.insert("type".to_owned(), "withdrawal_review".into());
    fields.insert("member".to_owned(), member.as_str().into());
    fields.insert("decision".to_owned(), decision.into());
    stamped(&server, &caller, fields, &format!("/console/withdrawals?done={}", super::super::encode(member)))
        .await
}

/// Writes one event of the console's (`fields` with its `type`, stamped now) for `caller`, then
/// goes to `to`; a refusal's page says why.
pub(super) async fn stamped(
    server: &Shared,
    caller: &Caller,
    fields: serde_json::Map<String, serde_json::Value>,
    to: &str,
) -> Response {
    let lines = vec![Line::Stamp(fields)];
    match submit_lines(server, caller.tenant.clone(), Some(caller.key.clone()), lines).await {
        Ok(mut results) => match results.remove(0) {
            LineResult::Refused(refusal) => super::super::error_page(
                Lang::Zh,
                StatusCode::UNPROCESSABLE_ENTITY,
                &format!("{} ({})", refusal.error, refusal.code),
            ),
            LineResult::Applied { .. } | LineResult::Skipped => see_other(to),
        },
        Err(error) => super::super::error_page(Lang::Zh, error.0, &error.2),
    }
}
