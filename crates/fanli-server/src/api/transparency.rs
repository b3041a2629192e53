//! The transparency log's routes (issue 16, docs/transparency.md): the latest signed tree head,
//! an inclusion proof of a line, a consistency proof between two sizes. Any key of the tenant
//! reads them; a member's token reads the proofs of its own lines only (those its history has,
//! or whose event names the member). Proofs are read on a connection of their own, off the
//! server's lock.

use super::*;

/// `GET /v1/audit/head` → the latest signed tree head: `{"tenant", "size", "root", "time",
/// "public_key", "signature"}` (`404 not_found` before the tenant's first commit).
#[utoipa::path(
    get,
    path = "/v1/audit/head",
    responses(
        (status = 200, description = "the head", body = doc::SignedHead),
        (status = 404, description = "no signed head yet: the tenant has no plan", body = doc::Error),
    ),
)]
pub(crate) async fn get_head(State(app): State<Shared>, headers: HeaderMap) -> Result<Response, ApiError> {
    let Opened { app, caller } = opening(&app, &headers, Needs::Key)?;
    let head = latest_head(&app, &caller.tenant)?;
    Ok(axum::Json(head.to_json()).into_response())
}

fn latest_head(app: &App, tenant: &str) -> Result<fanli_format::transparency::SignedHead, ApiError> {
    app.tenants[tenant].log.head.clone().ok_or_else(|| {
        ApiError(StatusCode::NOT_FOUND, "not_found", "no signed head yet: the tenant has no plan".to_owned())
    })
}

/// `GET /v1/audit/proof?line=N[&size=S]` → the inclusion proof of line N (from 1) in the tree of
/// S lines (the latest head's by default), with that head as `head` when S is its size.
#[utoipa::path(
    get,
    path = "/v1/audit/proof",
    params(("line" = u64, Query, description = "the line, from 1", minimum = 1), ("size" = Option<u64>, Query, description = "the tree's size (the latest head's by default)", minimum = 0)),
    responses(
        (status = 200, description = "the proof, with the latest head as `head` when `size` is its size", body = doc::InclusionProof),
        (status = 403, description = "a member token, for a line not its member's", body = doc::Error),
        (status = 404, description = "no signed head yet", body = doc::Error),
    ),
)]
pub(crate) async fn get_proof(
    State(app): State<Shared>,
    headers: HeaderMap,
    axum::extract::Query(query): axum::extract::Query<HashMap<String, String>>,
) -> Result<Response, ApiError> {
    let caller = opening(&app, &headers, Needs::Key)?.caller;
    let line = query_number(&query, "line", 0u64, "a line number")?;
    let size =
        query.get("size").map(|_| query_number(&query, "size", 0u64, "a number of lines")).transpose()?;
    Ok(axum::Json(inclusion_proof(&app, &caller, line, size).await?).into_response())
}

/// The inclusion proof of `line` for `caller` (a member: only of their own lines), at `size`
/// (the latest head's by default), with the head when it is the latest's.
pub(crate) async fn inclusion_proof(
    server: &Shared,
    caller: &Caller,
    line: u64,
    size: Option<u64>,
) -> Result<Value, ApiError> {
    let (head, dir, database) = {
        let app = lock(server);
        (latest_head(&app, &caller.tenant)?, app.dir.clone(), app.database.clone())
    };
    let size = size.unwrap_or(head.head.size);
    if size > head.head.size {
        return Err(bad_request(format!("the latest signed head has {} lines, not {size}", head.head.size)));
    }
    if line == 0 || line > size {
        return Err(bad_request(format!("`line` is a line of the tree, from 1 to {size}")));
    }
    let (tenant, member) = (
        caller.tenant.clone(),
        match &caller.role {
            Role::Member(member) => Some(member.clone()),
            _ => None,
        },
    );
    let proof = tokio::task::spawn_blocking(move || -> Result<Result<Value, ApiError>, String> {
        let mut store = Store::open(&dir, database.as_deref()).map_err(|e| e.to_string())?;
        if let Some(member) = &member
            && !owns(&mut store, &tenant, member, line).map_err(|e| e.to_string())?
        {
            return Ok(Err(ApiError(
                StatusCode::FORBIDDEN,
                "forbidden",
                format!("line {line} is not one of member `{member}`'s"),
            )));
        }
        let proof = crate::transparency::inclusion(&mut store, &tenant, line, size)?;
        Ok(Ok(proof.to_json()))
    })
    .await
    .map_err(internal)?
    .map_err(internal)?;
    let mut proof = proof?;
    if size == head.head.size {
        proof["head"] = head.to_json();
    }
    Ok(proof)
}

/// Whether line `line` is `member`'s: their history has it, or its event names them.
fn owns(store: &mut Store, tenant: &str, member: &str, line: u64) -> Result<bool, store::StoreError> {
    if store.in_history(tenant, member, line)? {
        return Ok(true);
    }
    let Some(text) = store.event_line(tenant, line)? else { return Ok(false) };
    let event: Value = serde_json::from_str(&text).unwrap_or_default();
    Ok(event.get("member").and_then(Value::as_str) == Some(member))
}

/// `GET /v1/audit/consistency?from=M[&to=N]` → the consistency proof that the tree of N lines
/// (the latest head's by default) extends the tree of M lines, with the latest head as `head`
/// when N is its size.
#[utoipa::path(
    get,
    path = "/v1/audit/consistency",
    params(("from" = Option<u64>, Query, description = "the smaller tree's size (0 by default)", minimum = 0), ("to" = Option<u64>, Query, description = "the larger tree's size (the latest head's by default)", minimum = 0)),
    responses(
        (status = 200, description = "the proof, with the latest head as `head` when `to` is its size", body = doc::ConsistencyProof),
        (status = 404, description = "no signed head yet", body = doc::Error),
    ),
)]
pub(crate) async fn get_consistency(
    State(app): State<Shared>,
    headers: HeaderMap,
    axum::extract::Query(query): axum::extract::Query<HashMap<String, String>>,
) -> Result<Response, ApiError> {
    let (head, tenant, dir, database) = {
        let Opened { app, caller } = opening(&app, &headers, Needs::Key)?;
        (latest_head(&app, &caller.tenant)?, caller.tenant, app.dir.clone(), app.database.clone())
    };
    let from = query_number(&query, "from", 0u64, "a number of lines")?;
    let to = query_number(&query, "to", head.head.size, "a number of lines")?;
    if to > head.head.size || from > to {
        return Err(bad_request(format!(
            "`from` and `to` are sizes of signed trees, from <= to <= {}",
            head.head.size
        )));
    }
    let proof = tokio::task::spawn_blocking(move || {
        let mut store = Store::open(&dir, database.as_deref()).map_err(|e| e.to_string())?;
        crate::transparency::consistency(&mut store, &tenant, from, to)
    })
    .await
    .map_err(internal)?
    .map_err(internal)?;
    let mut proof = proof.to_json();
    if to == head.head.size {
        proof["head"] = head.to_json();
    }
    Ok(axum::Json(proof).into_response())
}

fn bad_request(message: String) -> ApiError {
    ApiError(StatusCode::BAD_REQUEST, "bad_request", message)
}
