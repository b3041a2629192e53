//! CSV downloads (issue 18): the members, the pools and the daily reports, as
//! `fanli_format::export` writes them (UTF-8 with a BOM, for Excel and WPS), for the API
//! (`GET /v1/export/*.csv`, with the tenant's keys) and the console's download links
//! (`GET /console/export/*.csv`, with the console's session).
//!
//! Bounded: a members file holds at most [`MEMBERS_PER_FILE`] members. It is written in memory
//! under the server's lock (the engine is read as it is at that instant, so a file is one
//! consistent snapshot), which a file of that size keeps short. A larger tenant downloads its
//! members in parts: `?from=N` starts at the Nth member (0-based, in join order) and
//! `X-Fanli-Next` names the `from` of the next part; the console lists the parts as links.
//! Pools are one row a mechanism and reports one row a day and mechanism, small enough whole.

use axum::http::HeaderValue;
use fanli_engine::UtcOffset;

use super::*;

/// The most members in one `members.csv`.
pub(crate) const MEMBERS_PER_FILE: usize = 100_000;

/// One CSV download.
pub(crate) struct Download {
    /// The file's name for the browser.
    pub(crate) name: String,
    pub(crate) bytes: Vec<u8>,
    /// For a members part that is not the last: the `from` of the next.
    pub(crate) next: Option<usize>,
}

impl Download {
    /// The members from the `from`th, at most [`MEMBERS_PER_FILE`]: `members.csv` when that is
    /// all of them, else `members-FIRST-LAST.csv` (1-based, inclusive).
    /// A `from` past the last member is refused (400), as a page past the end.
    pub(crate) fn members(engine: &Engine, from: usize) -> Result<Download, ApiError> {
        Download::members_by(engine, from, MEMBERS_PER_FILE)
    }

    /// [`Download::members`] with `per` members a file.
    fn members_by(engine: &Engine, from: usize, per: usize) -> Result<Download, ApiError> {
        let total = engine.member_count();
        if from > 0 && from >= total {
            let message = format!("`from` is {from}, and the tenant has {total} members (the first is 0)");
            return Err(ApiError(StatusCode::BAD_REQUEST, "bad_request", message));
        }
        let to = from.saturating_add(per).min(total);
        let name = if from == 0 && to == total {
            "members.csv".to_owned()
        } else {
            format!("members-{}-{to}.csv", from.saturating_add(1))
        };
        let bytes = fanli_format::export::members_csv_part(engine, from, per);
        Ok(Download { name, bytes, next: (to < total).then_some(to) })
    }

    pub(crate) fn pools(engine: &Engine) -> Download {
        Download { name: "pools.csv".to_owned(), bytes: fanli_format::export::pools_csv(engine), next: None }
    }

    /// Every daily report the store keeps for `tenant`, times at the plan's `offset`.
    pub(crate) fn reports(app: &mut App, tenant: &str, offset: UtcOffset) -> Result<Download, ApiError> {
        let stored = blocking(|| app.store.reports(tenant, 0)).map_err(internal)?;
        let reports: Vec<fanli_format::DailyReport> =
            stored.iter().filter_map(|r| fanli_format::DailyReport::parse(r)).collect();
        let bytes = fanli_format::export::reports_csv(&reports, offset);
        Ok(Download { name: "reports.csv".to_owned(), bytes, next: None })
    }
}

impl IntoResponse for Download {
    fn into_response(self) -> Response {
        let disposition = format!("attachment; filename=\"{}\"", self.name);
        let mut response = (
            [
                (header::CONTENT_TYPE, "text/csv; charset=utf-8".to_owned()),
                (header::CONTENT_DISPOSITION, disposition),
                (header::CACHE_CONTROL, "no-store".to_owned()),
            ],
            self.bytes,
        )
            .into_response();
        if let Some(next) = self.next {
            response.headers_mut().insert("x-fanli-next", HeaderValue::from(next));
        }
        response
    }
}

/// `GET /v1/export/members.csv?from=N` (operator or read-only, as `GET /v1/members`): the
/// members from the Nth (0 by default), at most [`MEMBERS_PER_FILE`]; `X-Fanli-Next` when more
/// follow.
#[utoipa::path(
    get,
    path = "/v1/export/members.csv",
    params(("from" = Option<u64>, Query, description = "the first member's place in join order (0 by default)", minimum = 0)),
    responses(
        (status = 200, description = "the members from the `from`th: UTF-8 CSV with a BOM, sent as a download", body = String, content_type = "text/csv", headers(("X-Fanli-Next" = u64, description = "the `from` of the next part, when more follow"))),
        (status = 403, description = "not an operator's or read-only key", body = super::doc::Error),
        (status = 409, description = "`no_plan`: PUT /v1/plan first", body = super::doc::Error),
        (status = 400, description = "a `from` past the last member", body = super::doc::Error),
    ),
)]
pub(crate) async fn members_csv(
    State(app): State<Shared>,
    headers: HeaderMap,
    axum::extract::Query(query): axum::extract::Query<HashMap<String, String>>,
) -> Result<Response, ApiError> {
    let from = query_number(&query, "from", 0usize, "a member's place in join order (0-based)")?;
    let opened = opening(&app, &headers, Needs::Viewer)?;
    Ok(Download::members(opened.engine()?, from)?.into_response())
}

/// `GET /v1/export/pools.csv` (operator or read-only): one row a mechanism.
#[utoipa::path(
    get,
    path = "/v1/export/pools.csv",
    responses(
        (status = 200, description = "a row a mechanism: UTF-8 CSV with a BOM, sent as a download", body = String, content_type = "text/csv"),
        (status = 403, description = "not an operator's or read-only key", body = super::doc::Error),
        (status = 409, description = "`no_plan`: PUT /v1/plan first", body = super::doc::Error),
    ),
)]
pub(crate) async fn pools_csv(State(app): State<Shared>, headers: HeaderMap) -> Result<Response, ApiError> {
    let opened = opening(&app, &headers, Needs::Viewer)?;
    Ok(Download::pools(opened.engine()?).into_response())
}

/// `GET /v1/export/reports.csv` (operator or read-only, as `GET /v1/reports`): every daily
/// report, a row a day and mechanism, times in the plan's timezone.
#[utoipa::path(
    get,
    path = "/v1/export/reports.csv",
    responses(
        (status = 200, description = "a row a day and mechanism: UTF-8 CSV with a BOM, sent as a download", body = String, content_type = "text/csv"),
        (status = 403, description = "not an operator's or read-only key", body = super::doc::Error),
        (status = 409, description = "`no_plan`: PUT /v1/plan first", body = super::doc::Error),
    ),
)]
pub(crate) async fn reports_csv(State(app): State<Shared>, headers: HeaderMap) -> Result<Response, ApiError> {
    let Opened { mut app, caller } = opening(&app, &headers, Needs::Viewer)?;
    let offset = app.engine(&caller)?.plan().timezone;
    Ok(Download::reports(&mut app, &caller.tenant, offset)?.into_response())
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Three members in parts of two: `members-1-2.csv` with the next part's `from`, then
    /// `members-3-3.csv`, the last; past the end, a 400.
    #[test]
    fn a_large_tenants_members_come_in_parts() {
        let plan = parse_plan(include_str!("../../../fanli-cli/tests/cases/seed_refer.toml")).unwrap();
        let mut engine = Engine::new(plan);
        for (i, member) in ["a", "b", "c"].iter().enumerate() {
            let line = format!(
                "{{\"at\":\"2026-01-01T09:0{i}:00+08:00\",\"type\":\"join\",\"member\":\"{member}\"}}"
            );
            let raw = EventLine::parse(line.as_bytes()).unwrap();
            assert!(matches!(
                fanli_format::apply(&mut engine, Ok(raw.event().unwrap())),
                LineOutcome::Accepted(_)
            ));
        }
        let rows = |d: &Download| -> Vec<String> {
            let text = std::str::from_utf8(&d.bytes).unwrap().strip_prefix('\u{feff}').unwrap().to_owned();
            text.lines().skip(1).map(|l| l.split(',').next().unwrap().to_owned()).collect()
        };
        let first = Download::members_by(&engine, 0, 2).unwrap();
        assert_eq!(
            (first.name.as_str(), first.next, rows(&first)),
            ("members-1-2.csv", Some(2), vec!["a".to_owned(), "b".to_owned()])
        );
        let last = Download::members_by(&engine, 2, 2).unwrap();
        assert_eq!(
            (last.name.as_str(), last.next, rows(&last)),
            ("members-3-3.csv", None, vec!["c".to_owned()])
        );
        let whole = Download::members_by(&engine, 0, 3).unwrap();
        assert_eq!((whole.name.as_str(), whole.next, rows(&whole).len()), ("members.csv", None, 3));
        let past = Download::members_by(&engine, 3, 2).map(|_| ()).unwrap_err();
        assert_eq!(
            (past.0, past.2.as_str()),
            (StatusCode::BAD_REQUEST, "`from` is 3, and the tenant has 3 members (the first is 0)")
        );
    }
}
