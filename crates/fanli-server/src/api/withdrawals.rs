//! Withdrawals under the plan's `[withdrawal]` (issue 15): the queue waiting for review and the
//! owner's decision on one. `POST /v1/withdrawals` itself is a resource route (`withdraw`); the
//! writer answers it with what became of the withdrawal (`writer::withdrawal_or_vote_answer`).

use super::*;

/// `GET /v1/withdrawals` (owner or read-only): the withdrawals waiting for review, in the order
/// asked → `{"withdrawals": [{"member", "amount", "fee", "at"}]}` (empty without `[withdrawal]`).
#[utoipa::path(
    get,
    path = "/v1/withdrawals",
    responses(
        (status = 200, description = "the withdrawals waiting (none without `[withdrawal]`)", body = doc::WithdrawalsWaiting),
        (status = 403, description = "not the owner's or a read-only key", body = doc::Error),
        (status = 409, description = "`no_plan`: PUT /v1/plan first", body = doc::Error),
    ),
)]
pub(crate) async fn get_withdrawals(
    State(app): State<Shared>,
    headers: HeaderMap,
) -> Result<Response, ApiError> {
    let opened = opening(&app, &headers, Needs::Reader)?;
    let engine = opened.engine()?;
    let waiting: Vec<Value> = engine
        .withdrawals_waiting()
        .map(|w| {
            json!({
                "member": engine.member_name(w.member), "amount": w.amount.to_string(),
                "fee": w.fee.to_string(), "at": w.at.to_string(),
            })
        })
        .collect();
    Ok(axum::Json(json!({"withdrawals": waiting})).into_response())
}

/// `POST /v1/withdrawals/{member}/review` (owner, as every review): `{"approve": true | false}`
/// (and `at`, now by default) → a `withdrawal_review` event: approved, the withdrawal is paid
/// less its fee; rejected, its money goes back to the wallet. Answers as `POST /v1/withdrawals`
/// (`withdrawal.status`: `paid` or `returned`); `422 no_withdrawal_waiting` when none waits.
#[utoipa::path(
    post,
    path = "/v1/withdrawals/{member}/review",
    params(("member" = String, Path, description = "whose withdrawal")),
    request_body = doc::WithdrawalDecision,
    responses(
        (status = 200, description = "applied: what became of the withdrawal", body = doc::Applied),
        (status = 403, description = "not the owner's key", body = doc::Error),
        (status = 409, description = "`no_plan`: PUT /v1/plan first", body = doc::Error),
        (status = 422, description = "refused, with its code (`no_withdrawal_waiting`, ...)", body = doc::Error),
    ),
)]
pub(crate) async fn review_withdrawal(
    State(app): State<Shared>,
    headers: HeaderMap,
    axum::extract::Path(member): axum::extract::Path<String>,
    body: Bytes,
) -> Result<Response, ApiError> {
    let request = object(&body)?;
    only_fields(&request, &["approve", "at"])?;
    let approve = flag(&request, "approve")?;
    let caller = opening(&app, &headers, Needs::Owner("reviewing a withdrawal"))?.caller;
    let mut fields = serde_json::Map::new();
    fields.insert("member".to_owned(), member.into());
    fields.insert("decision".to_owned(), if approve { "approve" } else { "reject" }.into());
    with_at(&request, &mut fields);
    submit_body(&app, caller, "withdrawal_review", fields).await
}

/// A request's field `name` that must be `true` or `false`.
pub(crate) fn flag(request: &serde_json::Map<String, Value>, name: &str) -> Result<bool, ApiError> {
    request.get(name).and_then(Value::as_bool).ok_or_else(|| {
        ApiError(StatusCode::BAD_REQUEST, "bad_request", format!("`{name}` must be true or false"))
    })
}

/// `400` for a field of the request other than `allowed`.
pub(crate) fn only_fields(
    request: &serde_json::Map<String, Value>,
    allowed: &[&str],
) -> Result<(), ApiError> {
    match request.keys().find(|k| !allowed.contains(&k.as_str())) {
        None => Ok(()),
        Some(other) => Err(ApiError(
            StatusCode::BAD_REQUEST,
            "bad_request",
            format!("unknown field `{other}`: this takes {}", allowed.join(", ")),
        )),
    }
}

/// The request's `at`, if it has one, into the event's fields (else the writer stamps now).
pub(crate) fn with_at(request: &serde_json::Map<String, Value>, fields: &mut serde_json::Map<String, Value>) {
    if let Some(at) = request.get("at") {
        fields.insert("at".to_owned(), at.clone());
    }
}

/// One event of `kind` from `fields`, written for `caller` → `200` with the writer's answer, or
/// `422` with the rejection's own code.
pub(crate) async fn submit_body(
    app: &Shared,
    caller: Caller,
    kind: &'static str,
    fields: serde_json::Map<String, Value>,
) -> Result<Response, ApiError> {
    let line = Line::Body { kind, fields };
    match submit_lines(app, caller.tenant, Some(caller.key), vec![line]).await?.remove(0) {
        LineResult::Applied { answer: Some(answer), .. } => Ok(json_text(answer)),
        LineResult::Applied { at, answer: None } => {
            Ok(axum::Json(json!({"ok": true, "at": at})).into_response())
        }
        LineResult::Refused(refusal) => {
            Err(ApiError(StatusCode::UNPROCESSABLE_ENTITY, refusal.code, refusal.error))
        }
        LineResult::Skipped => Err(internal("a request's event was skipped as a blank line")),
    }
}
