//! `/console/proposals`: the members' vote under the plan's `[vote]` (issue 15, seed 000): open
//! a vote on a new plan (checked by `fanli check` first, as the plan page does), each proposal's
//! counts, when it closes and how it came out, and the tally once it has closed (the owner).

use super::withdrawals::stamped;
use super::*;

/// A proposal as the page lists it.
struct Listed {
    id: String,
    opened: fanli_engine::Timestamp,
    closes: fanli_engine::Timestamp,
    yes: i64,
    no: i64,
    voters: usize,
    outcome: Option<fanli_engine::Outcome>,
}

/// `GET /console/proposals`.
pub(crate) async fn page(
    State(server): State<Shared>,
    headers: HeaderMap,
    Query(query): Query<HashMap<String, String>>,
) -> Response {
    let mut app = lock(&server);
    let (caller, csrf) = or_page!(opened(&mut app, &headers, true));
    let tenant = &app.tenants[&caller.tenant];
    let Some(engine) = tenant.engine.as_ref() else {
        let body = html! { section { h1 { "会员投票 Members' vote" } p { "还没有方案。No plan yet." } } };
        return super::page(Lang::Zh, "proposals", Some((&caller, &csrf)), body);
    };
    let rules = engine.plan().vote.clone();
    let offset = engine.plan().timezone;
    let spend = rules.as_ref().is_some_and(|r| r.weight == fanli_engine::VoteWeight::Spend);
    let plan_text = tenant.plan.clone().unwrap_or_default();
    let now =
        fanli_engine::Timestamp::from_unix_nanos(crate::wall_now()).max(engine.now().unwrap_or_default());
    let list: Vec<Listed> = engine
        .proposals()
        .map(|p| Listed {
            id: p.id.to_owned(),
            opened: p.opened,
            closes: p.closes,
            yes: p.yes,
            no: p.no,
            voters: p.voters,
            outcome: p.outcome,
        })
        .collect();
    drop(app);
    let owner = caller.role == Role::Owner;
    let local = |at| super::super::local_time(at, offset);
    // A weight in fen of settled spend reads as money; a member's vote counts one.
    let count = |n: i64| if spend { format!("¥{}", yuan(n)) } else { n.to_string() };
    let body = html! {
        section {
            h1 { "会员投票 Members' vote" }
            @match &rules {
                Some(r) => p.note #rules {
                    "投票期 " (r.days) " 天 days · 计票 weight: "
                    (if spend { "按已结算消费 settled spend" } else { "一人一票 one a member" })
                    " · 法定人数 quorum " (r.quorum) " · 多数 majority > " (r.majority)
                },
                None => p.note #rules { "方案没有 [vote]：不能发起投票。The plan has no [vote]: no vote can be opened." },
            }
            @if let Some(done) = query.get("done") { p.ok #done { "已完成 Done: " (done) } }
            @if list.is_empty() { p.note #empty { "还没有提案。No proposal yet." } }
            @else {
                table #proposals {
                    tr {
                        th { "提案 Proposal" } th { "开始 Opened" } th { "截止 Closes" } th.n { "赞成 Yes" } th.n { "反对 No" }
                        th.n { "投票人 Voters" } th { "结果 Outcome" }
                    }
                    @for p in &list {
                        tr data-proposal=(p.id) {
                            td { b { (p.id) } }
                            td { (local(p.opened)) }
                            td.closes { (local(p.closes)) }
                            td.n.yes { (count(p.yes)) }
                            td.n.no { (count(p.no)) }
                            td.n.voters { (p.voters) }
                            td.outcome {
                                @match &p.outcome {
                                    Some(o) if o.passed => {
                                        span.ok { "通过 passed" }
                                        @if let Some(at) = o.effective_at { " · 生效 effective " (local(at)) }
                                        @if let Some(code) = &o.refused { " · " span.bad { "未记录 not recorded: " (code) } }
                                        br; span.note { "可投 eligible " (count(o.eligible)) }
                                    }
                                    Some(o) => {
                                        span.bad { "未通过 failed" }
                                        @if !o.quorum { " · 未达法定人数 short of the quorum" }
                                        br; span.note { "可投 eligible " (count(o.eligible)) }
                                    }
                                    None if now < p.closes => span { "投票中 open" },
                                    None => {
                                        span.warn { "已截止，待计票 closed, not counted" }
                                        @if owner {
                                            form method="post" action="/console/proposals/tally" style="margin-top:4px" {
                                                input type="hidden" name="csrf" value=(csrf);
                                                input type="hidden" name="proposal" value=(p.id);
                                                button.tally type="submit" { "计票 Tally" }
                                            }
                                        }
                                    }
                                }
                            }
                        }
                    }
                }
            }
        }
        @if owner && rules.is_some() {
            section {
                h2 { "发起投票 Put a new plan to the vote" }
                form #propose method="post" action="/console/proposals" {
                    input type="hidden" name="csrf" value=(csrf);
                    p { label for="proposal" { "提案编号 Proposal id" } " " input #proposal name="proposal" required maxlength="64"; }
                    p { textarea #plan name="plan" rows="16" { (plan_text) } }
                    p { button #open type="submit" { "发起投票 Open the vote" } }
                }
                p.note { "新方案先经 fanli check 检查，再像修订一样核对；通过后按通知期规则生效。The new plan is checked by fanli check, then as an amendment is; a passed one takes effect under the notice rule." }
            }
        }
    };
    super::page(Lang::Zh, "proposals", Some((&caller, &csrf)), body)
}

/// The caller of a console form that the owner alone may send, its CSRF token checked.
async fn owner_form(
    server: &Shared,
    headers: &HeaderMap,
    form: &HashMap<String, String>,
) -> Result<Caller, Box<Response>> {
    let (caller, csrf) = {
        let mut app = lock(server);
        opened(&mut app, headers, false)?
    };
    form_checked(form.get("csrf").map(String::as_str), &csrf)?;
    if caller.role != Role::Owner {
        return Err(Box::new(super::super::error_page(
            Lang::Zh,
            StatusCode::FORBIDDEN,
            "只有所有者密钥可以发起投票和计票。Only the owner's key opens and counts votes.",
        )));
    }
    Ok(caller)
}

/// `POST /console/proposals` (`csrf`, `proposal`, `plan`): a `propose` event, once `fanli
/// check` passes the plan (its findings on the page otherwise).
pub(crate) async fn propose(
    State(server): State<Shared>,
    headers: HeaderMap,
    Form(form): Form<HashMap<String, String>>,
) -> Response {
    let caller = or_page!(owner_form(&server, &headers, &form).await);
    let (Some(id), Some(text)) = (form.get("proposal").map(|p| p.trim()), form.get("plan")) else {
        return super::super::error_page(Lang::Zh, StatusCode::BAD_REQUEST, "proposal and plan?");
    };
    match fanli_format::parse_plan_lines(text) {
        Err(errors) => {
            return super::super::error_page(Lang::Zh, StatusCode::UNPROCESSABLE_ENTITY, &errors.to_string());
        }
        Ok((plan, lines)) => {
            let checked = Checked::of(&plan, lines);
            if checked.refused() {
                let findings: Vec<String> = checked
                    .findings
                    .iter()
                    .filter(|f| f.level == fanli_engine::compliance::Level::Error)
                    .map(|f| format!("{}: {} {}", f.key, f.zh, f.en))
                    .collect();
                let message = format!("fanli check 拒绝此方案 refuses this plan: {}", findings.join("; "));
                return super::super::error_page(Lang::Zh, StatusCode::UNPROCESSABLE_ENTITY, &message);
            }
        }
    }
    let mut fields = serde_json::Map::new();
    fields.insert("type".to_owned(), "propose".into());
    fields.insert("proposal".to_owned(), id.into());
    fields.insert("plan".to_owned(), text.as_str().into());
    stamped(&server, &caller, fields, &format!("/console/proposals?done={}", super::super::encode(id))).await
}

/// `POST /console/proposals/tally` (`csrf`, `proposal`): a `tally` event.
pub(crate) async fn tally(
    State(server): State<Shared>,
    headers: HeaderMap,
    Form(form): Form<HashMap<String, String>>,
) -> Response {
    let caller = or_page!(owner_form(&server, &headers, &form).await);
    let Some(id) = form.get("proposal") else {
        return super::super::error_page(Lang::Zh, StatusCode::BAD_REQUEST, "which proposal?");
    };
    let mut fields = serde_json::Map::new();
    fields.insert("type".to_owned(), "tally".into());
    fields.insert("proposal".to_owned(), id.as_str().into());
    stamped(&server, &caller, fields, &format!("/console/proposals?done={}", super::super::encode(id))).await
}
