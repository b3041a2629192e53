//! Plan versions and amendments (issue 15): `PUT /v1/plan` on a tenant whose log has begun
//! records an `amend_plan` event through the writer, like any other write; `GET /v1/plan` shows
//! the plan in force and the amendments waiting; `GET /v1/plan/versions` every version with who
//! made it, when it was recorded, when it takes effect and where it stands.
//!
//! Where a version stands comes from the store's rows and the engine: amendments take effect in
//! the order recorded (their log lines), and the engine says how many are still waiting
//! ([`Engine::amendments_waiting`]), so those are the newest that many. The latest base plan
//! (put before the log began) is in force until an amendment is; it stays the plan a replay of
//! the log starts from (`base`).

use super::*;
use crate::store::PlanRow;

/// Where a plan version stands.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Standing {
    /// The plan the log starts from, an amendment now being in force.
    Base,
    /// The plan in force.
    InForce,
    /// Replaced: an earlier base plan, or an amendment a later one took over from.
    Superseded,
    /// An amendment recorded, to take effect at its `effective_at`.
    Waiting,
    /// Put to the members' vote and not (or not yet) recorded as an amendment.
    Proposed,
}

impl Standing {
    pub(crate) fn name(self) -> &'static str {
        match self {
            Standing::Base => "base",
            Standing::InForce => "in_force",
            Standing::Superseded => "superseded",
            Standing::Waiting => "waiting",
            Standing::Proposed => "proposed",
        }
    }
}

/// Each stored version (oldest first) with where it stands, `waiting` of the amendments not yet
/// in force (the engine's count).
pub(crate) fn standings(rows: &[PlanRow], waiting: usize) -> Vec<Standing> {
    let mut amendments: Vec<(u64, usize)> =
        rows.iter().enumerate().filter_map(|(i, r)| Some((r.line?, i))).collect();
    amendments.sort_unstable();
    let waiting = waiting.min(amendments.len());
    let in_force_amendments = amendments.len() - waiting;
    let in_force = in_force_amendments.checked_sub(1).map(|k| amendments[k].1);
    let base = rows.iter().rposition(PlanRow::is_base);
    rows.iter()
        .enumerate()
        .map(|(i, row)| {
            if let Some(k) = amendments.iter().position(|&(_, j)| j == i) {
                if k >= in_force_amendments {
                    Standing::Waiting
                } else if Some(i) == in_force {
                    Standing::InForce
                } else {
                    Standing::Superseded
                }
            } else if row.proposal.is_some() {
                Standing::Proposed
            } else if Some(i) == base {
                if in_force.is_some() { Standing::Base } else { Standing::InForce }
            } else {
                Standing::Superseded
            }
        })
        .collect()
}

/// The caller's tenant's versions with where each stands (read under the lock).
fn versions_of(app: &mut App, tenant: &str) -> Result<(Vec<PlanRow>, Vec<Standing>), ApiError> {
    let waiting = app.tenants[tenant].engine.as_ref().map_or(0, |e| e.amendments_waiting().count());
    let rows = blocking(|| app.store.plan_rows(tenant)).map_err(internal)?;
    let standings = standings(&rows, waiting);
    Ok((rows, standings))
}

/// The tenant's plan versions and where each stands, for the pages (none when the store cannot
/// be read: the page says so by listing none).
pub(crate) fn versions(app: &mut App, tenant: &str) -> Vec<(PlanRow, Standing)> {
    versions_of(app, tenant).map(|(rows, s)| rows.into_iter().zip(s).collect()).unwrap_or_default()
}

/// `GET /v1/plan` (owner or read-only): the plan in force →`{"version", "plan", "waiting":
/// [{"version", "effective_at"}]}` (the TOML as it was put or sent).
#[utoipa::path(
    get,
    path = "/v1/plan",
    responses(
        (status = 200, description = "the plan in force", body = doc::PlanInForce),
        (status = 403, description = "not the owner's or a read-only key", body = doc::Error),
        (status = 409, description = "`no_plan`: PUT /v1/plan first", body = doc::Error),
    ),
)]
pub(crate) async fn get_plan(State(app): State<Shared>, headers: HeaderMap) -> Result<Response, ApiError> {
    let Opened { mut app, caller } = opening(&app, &headers, Needs::Reader)?;
    let base = app.tenants[&caller.tenant].plan.clone().ok_or_else(no_plan)?;
    let (rows, standings) = versions_of(&mut app, &caller.tenant)?;
    let in_force = rows.iter().zip(&standings).find(|(_, s)| **s == Standing::InForce).map(|(r, _)| r);
    let (version, text) = in_force.map_or((0, base), |r| (r.version, r.text.clone()));
    let waiting: Vec<Value> = rows
        .iter()
        .zip(&standings)
        .filter(|(_, s)| **s == Standing::Waiting)
        .map(|(r, _)| json!({"version": r.version, "effective_at": r.effective_at}))
        .collect();
    Ok(axum::Json(json!({"version": version, "plan": text, "waiting": waiting})).into_response())
}

/// `GET /v1/plan/versions` (owner or read-only): every version, oldest first →
/// `[{"version", "key_id", "recorded_at", "effective_at", "line", "state"}]` (and `"proposal"`
/// for one put to the vote).
#[utoipa::path(
    get,
    path = "/v1/plan/versions",
    responses(
        (status = 200, description = "every version, oldest first", body = Vec<doc::PlanVersion>),
        (status = 403, description = "not the owner's or a read-only key", body = doc::Error),
    ),
)]
pub(crate) async fn get_plan_versions(
    State(app): State<Shared>,
    headers: HeaderMap,
) -> Result<Response, ApiError> {
    let Opened { mut app, caller } = opening(&app, &headers, Needs::Reader)?;
    let (rows, standings) = versions_of(&mut app, &caller.tenant)?;
    let list: Vec<Value> = rows
        .iter()
        .zip(&standings)
        .map(|(r, s)| {
            let mut v = json!({
                "version": r.version, "key_id": r.key_id, "recorded_at": r.recorded_at,
                "effective_at": r.effective_at, "line": r.line, "state": s.name(),
            });
            if let Some(proposal) = &r.proposal {
                v["proposal"] = proposal.as_str().into();
            }
            v
        })
        .collect();
    Ok(axum::Json(Value::Array(list)).into_response())
}

/// An amendment recorded.
pub(crate) struct Amended {
    /// Its version.
    pub(crate) version: i64,
    /// When it takes effect.
    pub(crate) effective_at: String,
    /// `fanli check`'s warnings on it.
    pub(crate) warnings: Checked,
}

/// Records `text` as an amendment of the tenant's plan, sent by the key `by`: checked as `PUT
/// /v1/plan` checks a plan, then an `amend_plan` event through the writer, at now (never before
/// the tenant's last event), effective then or at `effective_at`. A refusal carries the engine's
/// code (`422`): `notice_too_short`, `reduces_promise`, `kind_changed`, `effective_in_past`...
pub(crate) async fn amend(
    server: &Shared,
    tenant: String,
    by: String,
    text: String,
    effective_at: Option<String>,
) -> Result<Amended, PlanRefused> {
    let (plan, lines) = fanli_format::parse_plan_lines(&text).map_err(|errors| {
        PlanRefused::Error(ApiError(StatusCode::UNPROCESSABLE_ENTITY, "invalid_plan", errors.to_string()))
    })?;
    let warnings = Checked::of(&plan, lines);
    if warnings.refused() {
        return Err(PlanRefused::Findings(warnings));
    }
    let mut fields = serde_json::Map::new();
    fields.insert("plan".to_owned(), text.into());
    if let Some(at) = effective_at {
        fields.insert("effective_at".to_owned(), at.into());
    }
    let line = Line::Body { kind: "amend_plan", fields };
    let results =
        submit_lines(server, tenant.clone(), Some(by), vec![line]).await.map_err(PlanRefused::Error)?;
    let at = match results.into_iter().next() {
        Some(LineResult::Applied { at, .. }) => at,
        Some(LineResult::Refused(refusal)) => {
            return Err(PlanRefused::Error(ApiError(
                StatusCode::UNPROCESSABLE_ENTITY,
                refusal.code,
                refusal.error,
            )));
        }
        _ => return Err(PlanRefused::Error(internal("the writer skipped an amendment"))),
    };
    let mut app = lock(server);
    let rows = blocking(|| app.store.plan_rows(&tenant)).map_err(|e| PlanRefused::Error(internal(e)))?;
    let row = rows
        .into_iter()
        .filter(|r| r.line.is_some() && r.recorded_at.as_deref() == Some(at.as_str()))
        .max_by_key(|r| r.line)
        .ok_or_else(|| PlanRefused::Error(internal("an amendment committed without its version")))?;
    Ok(Amended { version: row.version, effective_at: row.effective_at.unwrap_or(at), warnings })
}

/// `PUT /v1/plan` (owner), `?effective_at=TIME` optional: before the tenant's log begins, a new
/// base plan, in force at once (`{"version", "warnings"}`); after, an amendment recorded in the
/// log (`{"version", "effective_at", "warnings"}`; see [`amend`]).
#[utoipa::path(
    put,
    path = "/v1/plan",
    params(("effective_at" = Option<String>, Query, description = "when an amendment takes effect (RFC 3339); at once without it", format = DateTime)),
    request_body(
        content = String,
        content_type = "application/toml",
        description = "the plan (TOML)",
        example = json!(crate::api::doc::PLAN_EXAMPLE),
    ),
    responses(
        (status = 200, description = "the plan's version and `fanli check`'s findings; for an amendment when it takes effect", body = doc::PlanSet),
        (status = 403, description = "not the owner's key", body = doc::Error),
        (status = 422, description = "`invalid_plan`; `noncompliant` with the findings; or an amendment the engine refuses, with its code (`notice_too_short`, `reduces_promise`, ...)", body = doc::Error),
    ),
)]
pub(crate) async fn put_plan(
    State(server): State<Shared>,
    headers: HeaderMap,
    axum::extract::Query(query): axum::extract::Query<HashMap<String, String>>,
    body: Bytes,
) -> Result<Response, ApiError> {
    let text = String::from_utf8(body.to_vec())
        .map_err(|_| ApiError(StatusCode::BAD_REQUEST, "bad_request", "the plan is not UTF-8".to_owned()))?;
    let effective_at = match query.get("effective_at") {
        None => None,
        Some(at) => Some(
            fanli_engine::Timestamp::parse_rfc3339(at)
                .ok_or_else(|| {
                    let message = format!("`effective_at` {at:?} is not an RFC 3339 time");
                    ApiError(StatusCode::BAD_REQUEST, "bad_request", message)
                })?
                .to_string(),
        ),
    };
    // Under the lock: a base plan put now, or what an amendment needs.
    let put = {
        let Opened { mut app, caller } = opening(&server, &headers, Needs::Owner("setting the plan"))?;
        if !app.tenants[&caller.tenant].chain.is_empty() {
            Err((caller, text))
        } else if effective_at.is_some() {
            let message = "`effective_at` is for an amendment: this tenant's log has not begun, and a plan put now is in force at once";
            return Err(ApiError(StatusCode::BAD_REQUEST, "bad_request", message.to_owned()));
        } else {
            Ok(app
                .set_plan(&caller.tenant, text, &caller.key)
                .map(|(version, warnings)| json!({"version": version, "warnings": warnings.json()})))
        }
    };
    let answer = match put {
        Ok(answer) => answer,
        Err((caller, text)) => amend(&server, caller.tenant, caller.key, text, effective_at).await.map(
            |a| json!({"version": a.version, "effective_at": a.effective_at, "warnings": a.warnings.json()}),
        ),
    };
    match answer {
        Ok(answer) => Ok(axum::Json(answer).into_response()),
        Err(PlanRefused::Error(error)) => Err(error),
        Err(PlanRefused::Findings(findings)) => Ok((
            StatusCode::UNPROCESSABLE_ENTITY,
            axum::Json(json!({"error": {
                "code": "noncompliant", "message": "`fanli check` refuses this plan", "findings": findings.json(),
            }})),
        )
            .into_response()),
    }
}

/// `?against=current` of `POST /v1/plan/check`: a copy of the tenant's engine, to compare a new
/// plan against (`None` without the parameter; `400` for another value).
pub(crate) fn against_current(
    opened: &Opened<'_>,
    query: &HashMap<String, String>,
) -> Result<Option<Engine>, ApiError> {
    match query.get("against").map(String::as_str) {
        None => Ok(None),
        Some("current") => Ok(Some(opened.engine()?.clone())),
        Some(other) => {
            let message = format!("`against` is `current` (the tenant's plan and log), not {other:?}");
            Err(ApiError(StatusCode::BAD_REQUEST, "bad_request", message))
        }
    }
}

/// What the amendment `text` would change for the members of the tenant whose state `engine` is
/// (the state its log leaves: the server's engine is that replay, so the log is not read
/// again): [`fanli_sim::against::compare`], off the async workers (two runs of the check
/// scenario, a few seconds at most).
pub(crate) async fn compare(
    mut engine: Engine,
    text: String,
) -> Result<Result<fanli_sim::against::Comparison, fanli_sim::against::NoComparison>, ApiError> {
    engine.record(false);
    tokio::task::spawn_blocking(move || fanli_sim::against::compare(engine, 0, &text, "the tenant's log"))
        .await
        .map_err(internal)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn row(version: i64, line: Option<u64>, proposal: Option<&str>) -> PlanRow {
        PlanRow {
            version,
            text: String::new(),
            key_id: None,
            line,
            effective_at: line.map(|_| "2026-01-01T00:00:00Z".to_owned()),
            recorded_at: None,
            proposal: proposal.map(str::to_owned),
        }
    }

    #[test]
    fn versions_stand_by_the_order_their_amendments_were_recorded() {
        use Standing::*;
        let rows = [row(1, None, None), row(2, None, None)];
        assert_eq!(standings(&rows, 0), [Superseded, InForce]);
        // A proposal (v4) passed after v3 was recorded: recorded at line 9, after v5's line 7.
        let rows = [
            row(1, None, None),
            row(2, Some(3), None),
            row(3, Some(5), None),
            row(4, Some(9), Some("p")),
            row(5, Some(7), None),
            row(6, None, Some("q")),
        ];
        assert_eq!(standings(&rows, 0), [Base, Superseded, Superseded, InForce, Superseded, Proposed]);
        assert_eq!(standings(&rows, 2), [Base, Superseded, InForce, Waiting, Waiting, Proposed]);
        assert_eq!(standings(&rows, 4), [InForce, Waiting, Waiting, Waiting, Waiting, Proposed]);
        assert_eq!(
            standings(&rows, 9),
            [InForce, Waiting, Waiting, Waiting, Waiting, Proposed],
            "at most all"
        );
    }
}
