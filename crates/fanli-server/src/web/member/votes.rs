//! What the member page shows and takes of issue 15: the member's withdrawal waiting for review
//! (提现审核中, held out of the wallet), and the members' vote: open proposals with a yes/no
//! form (posted with the member's token, the page's own key: it is the form's proof that the
//! member sent it, as a console form's CSRF token is), "voted" once they have, and the outcome
//! of the tallied ones.

use super::*;
use crate::{Line, LineResult, submit_lines};
use axum::Form;

/// A proposal as the member page shows it.
pub(super) struct Proposal {
    id: String,
    closes: fanli_engine::Timestamp,
    yes: i64,
    no: i64,
    voters: usize,
    voted: bool,
    open: bool,
    outcome: Option<fanli_engine::Outcome>,
}

/// The member's withdrawal waiting and the proposals, read while the engine's lock is held.
pub(super) struct Votes {
    /// What waits for review (`None` without `[withdrawal]`).
    withdrawing: Option<Money>,
    /// Whether the plan has `[vote]`, and votes count settled spend.
    rules: bool,
    spend: bool,
    /// The member has settled spend, so may vote.
    eligible: bool,
    proposals: Vec<Proposal>,
}

impl Votes {
    pub(super) fn of(engine: &fanli_engine::Engine, id: fanli_engine::MemberId) -> Votes {
        let view = engine.member_view_of(id);
        let now =
            fanli_engine::Timestamp::from_unix_nanos(crate::wall_now()).max(engine.now().unwrap_or_default());
        let rules = engine.plan().vote.as_ref();
        Votes {
            withdrawing: view.withdrawing,
            rules: rules.is_some(),
            spend: rules.is_some_and(|r| r.weight == fanli_engine::VoteWeight::Spend),
            eligible: !view.spent.is_zero(),
            proposals: engine
                .proposals()
                .map(|p| Proposal {
                    id: p.id.to_owned(),
                    closes: p.closes,
                    yes: p.yes,
                    no: p.no,
                    voters: p.voters,
                    voted: engine.voted(p.id, id).unwrap_or(false),
                    open: now < p.closes && p.outcome.is_none(),
                    outcome: p.outcome,
                })
                .collect(),
        }
    }
}

/// The withdrawal's and the vote's sections (nothing when the member has neither).
pub(super) fn render(lang: Lang, token: &str, votes: &Votes, offset: UtcOffset) -> Markup {
    let count = |n: i64| if votes.spend { format!("¥{}", yuan(n)) } else { n.to_string() };
    html! {
        @if let Some(held) = votes.withdrawing.filter(|w| !w.is_zero()) {
            section #withdrawal {
                h2 { (tr!(lang, "my-withdrawal")) }
                p style="margin:0" { (tr_html!(lang, "my-withdrawing", amount = html! { b #withdrawing { (money(held)) } })) }
                p.note style="margin:4px 0 0" { (tr!(lang, "my-withdrawing-note")) }
            }
        }
        @if votes.rules || !votes.proposals.is_empty() {
            section #proposals {
                h2 { (tr!(lang, "my-vote-title")) }
                @if votes.proposals.is_empty() { p.note { (tr!(lang, "my-vote-none")) } }
                @if !votes.eligible && votes.proposals.iter().any(|p| p.open) {
                    p.note { (tr!(lang, "my-vote-eligible")) }
                }
                @for p in &votes.proposals {
                    div.card.proposal data-proposal=(p.id) style="margin:0 0 8px" {
                        strong { (tr!(lang, "my-proposal", proposal = &p.id)) }
                        div.note {
                            (tr_html!(
                                lang,
                                "my-vote-counts",
                                yes = html! { span.yes { (count(p.yes)) } },
                                no = html! { span.no { (count(p.no)) } },
                                voters = p.voters,
                                closes = local_time(p.closes, offset),
                            ))
                        }
                        @match &p.outcome {
                            Some(o) if o.passed => p.ok.outcome style="margin:4px 0 0" {
                                (tr!(lang, "my-vote-passed"))
                                @if let Some(at) = o.effective_at { " · " (tr!(lang, "my-vote-effective", at = local_time(at, offset))) }
                            },
                            Some(_) => p.bad.outcome style="margin:4px 0 0" { (tr!(lang, "my-vote-failed")) },
                            None if p.voted => p.ok.voted style="margin:4px 0 0" { (tr!(lang, "my-voted")) },
                            None if !p.open => p.note style="margin:4px 0 0" { (tr!(lang, "my-vote-waiting")) },
                            None if votes.eligible => form.vote method="post" action="/m/vote" style="display:flex;gap:8px;margin:6px 0 0" {
                                input type="hidden" name="t" value=(token);
                                input type="hidden" name="proposal" value=(p.id);
                                input type="hidden" name="lang" value=(lang.short());
                                button.yes type="submit" name="decision" value="yes" { (tr!(lang, "my-vote-yes")) }
                                button.alt.no type="submit" name="decision" value="no" { (tr!(lang, "my-vote-no")) }
                            },
                            None => {},
                        }
                    }
                }
            }
        }
    }
}

/// `POST /m/vote` (`t`, the member's token; `proposal`; `decision`: yes or no; `lang`): the
/// member's `vote` event, then back to their page.
pub(crate) async fn vote(
    State(server): State<Shared>,
    headers: HeaderMap,
    Form(form): Form<HashMap<String, String>>,
) -> Response {
    let lang = Lang::of_fields(&headers, &form);
    let (tenant, member) = match member_of(&server, &form, lang) {
        Ok(found) => found,
        Err((status, message)) => return error_page(lang, status, &message),
    };
    let token = form.get("t").map(|t| t.trim()).unwrap_or_default();
    let (Some(proposal), Some(decision @ ("yes" | "no"))) =
        (form.get("proposal"), form.get("decision").map(String::as_str))
    else {
        return error_page(lang, StatusCode::BAD_REQUEST, &tr!(lang, "my-vote-which"));
    };
    // The key that sent it, by its id, as every write names its key.
    let key = {
        let mut bearer = HeaderMap::new();
        let Ok(value) = HeaderValue::from_str(&format!("Bearer {token}")) else {
            return error_page(lang, StatusCode::UNAUTHORIZED, &tr!(lang, "my-invalid-link"));
        };
        bearer.insert(header::AUTHORIZATION, value);
        match lock(&server).caller(&bearer) {
            Ok(caller) => caller.key,
            Err(error) => return error_page(lang, error.0, &error.2),
        }
    };
    let mut fields = serde_json::Map::new();
    fields.insert("type".to_owned(), "vote".into());
    fields.insert("member".to_owned(), member.into());
    fields.insert("proposal".to_owned(), proposal.as_str().into());
    fields.insert("decision".to_owned(), decision.into());
    match submit_lines(&server, tenant, Some(key), vec![Line::Stamp(fields)]).await {
        Ok(mut results) => match results.remove(0) {
            LineResult::Refused(refusal) => {
                let message = match refusal.code {
                    "already_voted" => tr!(lang, "my-already-voted"),
                    "not_eligible" => tr!(lang, "my-vote-eligible"),
                    "vote_closed" => tr!(lang, "my-vote-closed"),
                    _ => refusal.error,
                };
                error_page(lang, StatusCode::UNPROCESSABLE_ENTITY, &message)
            }
            LineResult::Applied { .. } | LineResult::Skipped => {
                // English is kept in the link for a browser without cookies; Chinese is the default.
                let english = if lang == Lang::En { "&lang=en" } else { "" };
                let back = format!("/m?t={}{english}#proposals", encode(token));
                (StatusCode::SEE_OTHER, [(header::LOCATION, back)]).into_response()
            }
        },
        Err(error) => error_page(lang, error.0, &error.2),
    }
}
