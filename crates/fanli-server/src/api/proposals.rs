//! The members' vote under the plan's `[vote]` (issue 15, seed 000): the owner opens a vote on a
//! new plan (`propose`), members vote with their own tokens (`vote`, the token's member), the
//! owner counts a closed vote (`tally`). Each is an event of the log; the views are the engine's
//! (`Engine::proposals`), as the state document lists them.

use super::withdrawals::{flag, only_fields, submit_body, with_at};
use super::*;

/// `POST /v1/proposals` (owner): `{"proposal": ID, "plan": TOML}` (and `at`) → a `propose`
/// event, the vote open for the plan's `days` → `{"ok", "at", "proposal": view}`. A plan that is
/// not one is `422 invalid_plan`; one `fanli check` refuses, `422 noncompliant` with the
/// findings (as `PUT /v1/plan`); the engine's refusals (`no_vote_rules`, `proposal_exists`, an
/// amendment's) are `422` with their code.
#[utoipa::path(
    post,
    path = "/v1/proposals",
    request_body = doc::NewProposal,
    responses(
        (status = 200, description = "the vote is open", body = doc::ProposalApplied),
        (status = 403, description = "not the owner's key", body = doc::Error),
        (status = 409, description = "`no_plan`: PUT /v1/plan first", body = doc::Error),
        (status = 422, description = "`invalid_plan`, `noncompliant` with the findings, or the engine's code (`no_vote_rules`, `proposal_exists`, ...)", body = doc::Error),
    ),
)]
pub(crate) async fn open_proposal(
    State(app): State<Shared>,
    headers: HeaderMap,
    body: Bytes,
) -> Result<Response, ApiError> {
    let request = object(&body)?;
    only_fields(&request, &["proposal", "plan", "at"])?;
    let caller = opening(&app, &headers, Needs::Owner("opening a vote"))?.caller;
    let id = field(&request, "proposal")?;
    let Some(text) = request.get("plan").and_then(Value::as_str) else {
        return Err(ApiError(
            StatusCode::BAD_REQUEST,
            "bad_request",
            "`plan` is the new plan's TOML".to_owned(),
        ));
    };
    if let Some(refused) = noncompliant(text)? {
        return Ok(refused);
    }
    let mut fields = serde_json::Map::new();
    fields.insert("proposal".to_owned(), id.into());
    fields.insert("plan".to_owned(), text.into());
    with_at(&request, &mut fields);
    submit_body(&app, caller, "propose", fields).await
}

/// `text` as `PUT /v1/plan` checks a plan: `Err` (`422 invalid_plan`) when it is no plan, the
/// `422 noncompliant` answer with the findings when `fanli check` refuses it, else `None`.
pub(crate) fn noncompliant(text: &str) -> Result<Option<Response>, ApiError> {
    let (plan, lines) = fanli_format::parse_plan_lines(text)
        .map_err(|errors| ApiError(StatusCode::UNPROCESSABLE_ENTITY, "invalid_plan", errors.to_string()))?;
    let checked = Checked::of(&plan, lines);
    if !checked.refused() {
        return Ok(None);
    }
    Ok(Some(
        (
            StatusCode::UNPROCESSABLE_ENTITY,
            axum::Json(json!({"error": {
                "code": "noncompliant", "message": "`fanli check` refuses this plan", "findings": checked.json(),
            }})),
        )
            .into_response(),
    ))
}

/// Who may read the proposals: the owner and read-only keys, and members' tokens (members
/// vote on them); the member of a token, if it is one.
fn proposal_reader(caller: &Caller) -> Result<Option<&str>, ApiError> {
    match &caller.role {
        Role::Member(member) => Ok(Some(member)),
        _ => caller.reader().map(|()| None),
    }
}

/// A proposal's view (`fanli_format::proposal_json`), with `voted` for a member token's member.
fn proposal_value(engine: &Engine, p: &fanli_engine::ProposalView<'_>, member: Option<&str>) -> Value {
    let mut v = fanli_format::proposal_json(p);
    if let Some(id) = member.and_then(|m| engine.find_member(m)) {
        v["voted"] = engine.voted(p.id, id).unwrap_or(false).into();
    }
    v
}

/// The plan's `[vote]` rules, as the list shows them (`null` without the section).
fn rules(engine: &Engine) -> Value {
    engine.plan().vote.as_ref().map_or(Value::Null, |v| {
        let weight = match v.weight {
            fanli_engine::VoteWeight::Member => "member",
            fanli_engine::VoteWeight::Spend => "spend",
        };
        json!({"days": v.days, "weight": weight, "quorum": v.quorum.to_string(), "majority": v.majority.to_string()})
    })
}

/// `GET /v1/proposals` (owner, read-only, or a member token): every proposal, in the order
/// proposed → `{"vote": the plan's rules, "proposals": [{"id", "opened", "closes", "yes", "no",
/// "voters", "outcome"?, "voted"? (a member token)}]}`.
#[utoipa::path(
    get,
    path = "/v1/proposals",
    responses(
        (status = 200, description = "the rules and every proposal", body = doc::Proposals),
        (status = 403, description = "an operator's key", body = doc::Error),
        (status = 409, description = "`no_plan`: PUT /v1/plan first", body = doc::Error),
    ),
)]
pub(crate) async fn list_proposals(
    State(app): State<Shared>,
    headers: HeaderMap,
) -> Result<Response, ApiError> {
    let opened = opening(&app, &headers, Needs::Key)?;
    let member = proposal_reader(&opened.caller)?;
    let engine = opened.engine()?;
    let list: Vec<Value> = engine.proposals().map(|p| proposal_value(engine, &p, member)).collect();
    Ok(axum::Json(json!({"vote": rules(engine), "proposals": list})).into_response())
}

/// `GET /v1/proposals/{id}` (as the list): one proposal's view; `404` for an unknown one.
#[utoipa::path(
    get,
    path = "/v1/proposals/{id}",
    params(("id" = String, Path, description = "the proposal")),
    responses(
        (status = 200, description = "the proposal", body = doc::Proposal),
        (status = 403, description = "an operator's key", body = doc::Error),
        (status = 404, description = "no such proposal", body = doc::Error),
        (status = 409, description = "`no_plan`: PUT /v1/plan first", body = doc::Error),
    ),
)]
pub(crate) async fn get_proposal(
    State(app): State<Shared>,
    headers: HeaderMap,
    axum::extract::Path(id): axum::extract::Path<String>,
) -> Result<Response, ApiError> {
    let opened = opening(&app, &headers, Needs::Key)?;
    let member = proposal_reader(&opened.caller)?;
    let engine = opened.engine()?;
    let p = engine
        .proposals()
        .find(|p| p.id == id)
        .ok_or_else(|| ApiError(StatusCode::NOT_FOUND, "not_found", format!("no proposal `{id}`")))?;
    Ok(axum::Json(proposal_value(engine, &p, member)).into_response())
}

/// `POST /v1/proposals/{id}/votes` (a member token: the member votes for themself, and only
/// they do): `{"yes": true | false}` (and `at`) → a `vote` event → `{"ok", "at", "proposal"}`;
/// `422` with the engine's code (`not_eligible`, `already_voted`, `vote_closed`, ...).
#[utoipa::path(
    post,
    path = "/v1/proposals/{id}/votes",
    params(("id" = String, Path, description = "the proposal")),
    request_body = doc::Ballot,
    responses(
        (status = 200, description = "the vote is counted", body = doc::ProposalApplied),
        (status = 403, description = "not a member token", body = doc::Error),
        (status = 409, description = "`no_plan`: PUT /v1/plan first", body = doc::Error),
        (status = 422, description = "refused, with its code (`not_eligible`, `already_voted`, `vote_closed`, ...)", body = doc::Error),
    ),
)]
pub(crate) async fn vote(
    State(app): State<Shared>,
    headers: HeaderMap,
    axum::extract::Path(id): axum::extract::Path<String>,
    body: Bytes,
) -> Result<Response, ApiError> {
    let request = object(&body)?;
    only_fields(&request, &["yes", "at"])?;
    let yes = flag(&request, "yes")?;
    let caller = opening(&app, &headers, Needs::Key)?.caller;
    let Role::Member(member) = &caller.role else {
        let message = format!(
            "a vote is cast with the member's own token (POST /v1/members/{{id}}/token); this key is a {} key",
            caller.role.name()
        );
        return Err(ApiError(StatusCode::FORBIDDEN, "forbidden", message));
    };
    let mut fields = serde_json::Map::new();
    fields.insert("member".to_owned(), member.as_str().into());
    fields.insert("proposal".to_owned(), id.into());
    fields.insert("decision".to_owned(), if yes { "yes" } else { "no" }.into());
    with_at(&request, &mut fields);
    submit_body(&app, caller, "vote", fields).await
}

/// `POST /v1/proposals/{id}/tally` (owner): counts a closed vote (a `tally` event; the body
/// empty, or `{"at"}`) → `{"ok", "at", "proposal"}` with its outcome; a passed proposal is
/// recorded as an amendment under the notice rule. `422 vote_open` before it closes,
/// `already_tallied` after a tally.
#[utoipa::path(
    post,
    path = "/v1/proposals/{id}/tally",
    params(("id" = String, Path, description = "the proposal")),
    request_body(content = Option<doc::Tally>, description = "`{\"at\"}`, or empty"),
    responses(
        (status = 200, description = "counted: the proposal with its outcome", body = doc::ProposalApplied),
        (status = 403, description = "not the owner's key", body = doc::Error),
        (status = 409, description = "`no_plan`: PUT /v1/plan first", body = doc::Error),
        (status = 422, description = "refused, with its code (`vote_open`, `already_tallied`, ...)", body = doc::Error),
    ),
)]
pub(crate) async fn tally(
    State(app): State<Shared>,
    headers: HeaderMap,
    axum::extract::Path(id): axum::extract::Path<String>,
    body: Bytes,
) -> Result<Response, ApiError> {
    let request = if body.trim_ascii().is_empty() { serde_json::Map::new() } else { object(&body)? };
    only_fields(&request, &["at"])?;
    let caller = opening(&app, &headers, Needs::Owner("counting a vote"))?.caller;
    let mut fields = serde_json::Map::new();
    fields.insert("proposal".to_owned(), id.into());
    with_at(&request, &mut fields);
    submit_body(&app, caller, "tally", fields).await
}
