//! The webhook's dead letters (issue 18): notifications the deliverer gave up on after its last
//! allowed attempt (see [`crate::webhook`]), listed and sent again. Owner keys only: a
//! notification names members and amounts.

use super::*;

/// The most dead letters one page lists.
pub(crate) const DEAD_PAGE_MAX: u32 = 1000;

/// A dead letter as the API lists it: `{"id", "attempts", "last_error", "dead_at" (RFC 3339, UTC),
/// "notification"}`, the notification as it is sent (its `id` first).
pub(crate) fn dead_json(dead: &store::DeadLetter) -> Value {
    let sent = format!("{{\"id\":{},{}", dead.id, &dead.body[1..]);
    let notification: Value = serde_json::from_str(&sent).unwrap_or(Value::String(dead.body.clone()));
    json!({
        "id": dead.id, "attempts": dead.attempts, "last_error": dead.last_error,
        "dead_at": millis_text(dead.dead_at), "notification": notification,
    })
}

/// `GET /v1/webhook/dead?after=ID&limit=N` (owner): the tenant's dead letters, oldest first,
/// with an id above `after` (0 by default), at most `limit` (100 by default, 1000 at most) →
/// `{"dead": [...], "next": ID | null}`; `next` is the `after` of the next page when this one
/// is full.
#[utoipa::path(
    get,
    path = "/v1/webhook/dead",
    params(
        ("after" = Option<i64>, Query, description = "the dead letters with an id above this (0 by default)", minimum = 0),
        ("limit" = Option<u32>, Query, description = "at most how many (100 by default, 1 to 1000; others are a 400)", minimum = 1, maximum = 1000),
    ),
    responses(
        (status = 200, description = "the page, oldest first", body = doc::DeadLetters),
        (status = 403, description = "not the owner's key", body = doc::Error),
    ),
)]
pub(crate) async fn list_dead(
    State(app): State<Shared>,
    headers: HeaderMap,
    axum::extract::Query(query): axum::extract::Query<HashMap<String, String>>,
) -> Result<Response, ApiError> {
    let after = query_number(&query, "after", 0i64, "an outbox id")?;
    let limit = query_number(&query, "limit", 100u32, "a number from 1 to 1000")?;
    if !(1..=DEAD_PAGE_MAX).contains(&limit) {
        return Err(ApiError(
            StatusCode::BAD_REQUEST,
            "bad_request",
            "`limit` is a number from 1 to 1000".to_owned(),
        ));
    }
    let Opened { mut app, caller } =
        opening(&app, &headers, Needs::Owner("reading the webhook's dead letters"))?;
    let dead = blocking(|| app.store.dead_letters(&caller.tenant, after, limit)).map_err(internal)?;
    let next = (dead.len() == limit as usize).then(|| dead.last().map(|d| d.id)).flatten();
    let list: Vec<Value> = dead.iter().map(dead_json).collect();
    Ok(axum::Json(json!({"dead": list, "next": next})).into_response())
}

/// `POST /v1/webhook/dead/{id}/replay` (owner): puts the dead letter back in the outbox, due at
/// once, its attempts counted from 0 → `{"replayed": 1}`; `404 not_found` when the tenant has
/// no such dead letter (delivered, replayed already, or never dead).
#[utoipa::path(
    post,
    path = "/v1/webhook/dead/{id}/replay",
    params(("id" = String, Path, description = "the dead letter's id")),
    responses(
        (status = 200, description = "back in the outbox", body = doc::Replayed),
        (status = 403, description = "not the owner's key", body = doc::Error),
        (status = 404, description = "no such dead letter", body = doc::Error),
    ),
)]
pub(crate) async fn replay_one(
    State(app): State<Shared>,
    headers: HeaderMap,
    axum::extract::Path(id): axum::extract::Path<String>,
) -> Result<Response, ApiError> {
    let missing = || ApiError(StatusCode::NOT_FOUND, "not_found", format!("no dead letter `{id}`"));
    let number: i64 = id.parse().ok().filter(|n| *n > 0).ok_or_else(missing)?;
    let Opened { mut app, caller } = opening(&app, &headers, Needs::Owner("replaying a dead letter"))?;
    let replayed = blocking(|| app.store.replay(&caller.tenant, Some(number))).map_err(internal)?;
    if replayed == 0 {
        return Err(missing());
    }
    tracing::info!(tenant = %caller.tenant, id = number, key = %caller.key, "a dead letter replayed");
    Ok(axum::Json(json!({"replayed": replayed})).into_response())
}

/// `POST /v1/webhook/dead/replay` (owner): every dead letter of the tenant back in the outbox →
/// `{"replayed": N}` (0 when there is none).
#[utoipa::path(
    post,
    path = "/v1/webhook/dead/replay",
    responses(
        (status = 200, description = "every dead letter back in the outbox", body = doc::Replayed),
        (status = 403, description = "not the owner's key", body = doc::Error),
    ),
)]
pub(crate) async fn replay_all(State(app): State<Shared>, headers: HeaderMap) -> Result<Response, ApiError> {
    let Opened { mut app, caller } = opening(&app, &headers, Needs::Owner("replaying the dead letters"))?;
    let replayed = blocking(|| app.store.replay(&caller.tenant, None)).map_err(internal)?;
    tracing::info!(tenant = %caller.tenant, replayed, key = %caller.key, "dead letters replayed");
    Ok(axum::Json(json!({"replayed": replayed})).into_response())
}
