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
    lang: Lang,
    Query(query): Query<HashMap<String, String>>,
) -> Response {
    let mut app = lock(&server);
    let (caller, csrf) = or_page!(opened(&mut app, &headers, true, lang));
    let tenant = &app.tenants[&caller.tenant];
    let Some(engine) = tenant.engine.as_ref() else {
        let body = html! { section { h1 { (tr!(lang, "votes-title")) } p { (tr!(lang, "plan-none")) } } };
        return super::page(lang, &tr!(lang, "votes-title"), Some((&caller, &csrf)), body);
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
    let local = |at| when(at, offset);
    // A weight in fen of settled spend reads as money; a member's vote counts one.
    let count = |n: i64| if spend { format!("¥{}", yuan(n)) } else { n.to_string() };
    let body = html! {
        section {
            h1 { (tr!(lang, "votes-title")) }
            @match &rules {
                Some(r) => p.note #rules {
                    (tr!(lang, "votes-rules", days = r.days, weight = if spend { tr!(lang, "votes-by-spend") } else { tr!(lang, "votes-one-each") },
                        quorum = r.quorum.to_string(), majority = r.majority.to_string()))
                },
                None => p.note #rules { (tr!(lang, "votes-no-rules")) },
            }
            @if let Some(done) = query.get("done") { p.ok #done { (tr!(lang, "votes-done", proposal = done.as_str())) } }
            @if list.is_empty() { p.note #empty { (tr!(lang, "votes-none")) } }
            @else {
                table #proposals {
                    tr {
                        th { (tr!(lang, "votes-proposal")) } th { (tr!(lang, "votes-opened")) } th { (tr!(lang, "votes-closes")) } th.n { (tr!(lang, "votes-yes")) } th.n { (tr!(lang, "votes-no")) }
                        th.n { (tr!(lang, "votes-voters")) } th { (tr!(lang, "votes-outcome")) }
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
                                        span.ok { (tr!(lang, "votes-passed")) }
                                        @if let Some(at) = o.effective_at { " · " (tr!(lang, "votes-effective", at = local(at))) }
                                        @if let Some(code) = &o.refused { " · " span.bad { (tr!(lang, "votes-not-recorded", code = code.as_str())) } }
                                        br; span.note { (tr!(lang, "votes-eligible", count = count(o.eligible))) }
                                    }
                                    Some(o) => {
                                        span.bad { (tr!(lang, "votes-failed")) }
                                        @if !o.quorum { " · " (tr!(lang, "votes-short")) }
                                        br; span.note { (tr!(lang, "votes-eligible", count = count(o.eligible))) }
                                    }
                                    None if now < p.closes => span { (tr!(lang, "votes-open")) },
                                    None => {
                                        span.warn { (tr!(lang, "votes-closed")) }
                                        @if owner {
                                            form method="post" action="/console/proposals/tally" style="margin-top:4px" {
                                                input type="hidden" name="csrf" value=(csrf);
                                                input type="hidden" name="proposal" value=(p.id);
                                                button.tally type="submit" { (tr!(lang, "votes-tally")) }
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
                h2 { (tr!(lang, "votes-propose")) }
                form #propose method="post" action="/console/proposals" {
                    input type="hidden" name="csrf" value=(csrf);
                    p { label for="proposal" { (tr!(lang, "votes-proposal-id")) } " " input #proposal name="proposal" required maxlength="64"; }
                    p { textarea #plan name="plan" rows="16" { (plan_text) } }
                    p { button #open type="submit" { (tr!(lang, "votes-open-vote")) } }
                }
                p.note { (tr!(lang, "votes-propose-note")) }
            }
        }
    };
    super::page(lang, &tr!(lang, "votes-title"), Some((&caller, &csrf)), body)
}

/// The caller of a console form that the owner alone may send, its CSRF token checked.
async fn owner_form(
    server: &Shared,
    headers: &HeaderMap,
    lang: Lang,
    form: &HashMap<String, String>,
) -> Result<Caller, Box<Response>> {
    let (caller, csrf) = {
        let mut app = lock(server);
        opened(&mut app, headers, false, lang)?
    };
    form_checked(form.get("csrf").map(String::as_str), &csrf, lang)?;
    if caller.role != Role::Owner {
        return Err(Box::new(super::super::error_page(
            lang,
            StatusCode::FORBIDDEN,
            &tr!(lang, "votes-owner-only"),
        )));
    }
    Ok(caller)
}

/// `POST /console/proposals` (`csrf`, `proposal`, `plan`): a `propose` event, once `fanli
/// check` passes the plan (its findings on the page otherwise).
pub(crate) async fn propose(
    State(server): State<Shared>,
    headers: HeaderMap,
    lang: Lang,
    Form(form): Form<HashMap<String, String>>,
) -> Response {
    let caller = or_page!(owner_form(&server, &headers, lang, &form).await);
    let (Some(id), Some(text)) = (form.get("proposal").map(|p| p.trim()), form.get("plan")) else {
        return super::super::error_page(lang, StatusCode::BAD_REQUEST, &tr!(lang, "votes-which-plan"));
    };
    match fanli_format::parse_plan_lines(text) {
        Err(errors) => {
            return super::super::error_page(lang, StatusCode::UNPROCESSABLE_ENTITY, &errors.to_string());
        }
        Ok((plan, lines)) => {
            let checked = Checked::of(&plan, lines);
            if checked.refused() {
                let findings: Vec<String> = checked
                    .findings
                    .iter()
                    .filter(|f| f.level == fanli_engine::compliance::Level::Error)
                    .map(|f| format!("{}: {}", f.key, super::finding(f, lang)))
                    .collect();
                let message = tr!(lang, "votes-check-refuses", findings = findings.join("; "));
                return super::super::error_page(lang, StatusCode::UNPROCESSABLE_ENTITY, &message);
            }
        }
    }
    let mut fields = serde_json::Map::new();
    fields.insert("type".to_owned(), "propose".into());
    fields.insert("proposal".to_owned(), id.into());
    fields.insert("plan".to_owned(), text.as_str().into());
    let to = format!("/console/proposals?done={}", super::super::encode(id));
    stamped(&server, &caller, lang, fields, &to).await
}

/// `POST /console/proposals/tally` (`csrf`, `proposal`): a `tally` event.
pub(crate) async fn tally(
    State(server): State<Shared>,
    headers: HeaderMap,
    lang: Lang,
    Form(form): Form<HashMap<String, String>>,
) -> Response {
    let caller = or_page!(owner_form(&server, &headers, lang, &form).await);
    let Some(id) = form.get("proposal") else {
        return super::super::error_page(lang, StatusCode::BAD_REQUEST, &tr!(lang, "votes-which"));
    };
    let mut fields = serde_json::Map::new();
    fields.insert("type".to_owned(), "tally".into());
    fields.insert("proposal".to_owned(), id.as_str().into());
    let to = format!("/console/proposals?done={}", super::super::encode(id));
    stamped(&server, &caller, lang, fields, &to).await
}
