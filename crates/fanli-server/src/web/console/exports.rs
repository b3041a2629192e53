//! `/console/export/*.csv`: the console's download links (issue 18), the same files as
//! `GET /v1/export/*.csv` ([`crate::api::exports`]) with the console's session instead of a key,
//! open to every console role (as the members and overview pages are).

use super::*;
use crate::api::exports::Download;

/// The tenant's engine, or the page saying there is no plan yet.
fn engine_of<'a>(
    app: &'a App,
    caller: &Caller,
    lang: Lang,
) -> Result<&'a fanli_engine::Engine, Box<Response>> {
    app.tenants[&caller.tenant].engine.as_ref().ok_or_else(|| {
        Box::new(super::super::error_page(lang, StatusCode::CONFLICT, &tr!(lang, "overview-no-plan")))
    })
}

/// `GET /console/export/members.csv?from=N`.
pub(crate) async fn members(
    State(server): State<Shared>,
    headers: HeaderMap,
    lang: Lang,
    Query(query): Query<HashMap<String, String>>,
) -> Response {
    let mut app = lock(&server);
    let (caller, _) = or_page!(opened(&mut app, &headers, false, lang));
    let engine = or_page!(engine_of(&app, &caller, lang));
    let from = query.get("from").and_then(|f| f.parse().ok()).unwrap_or(0);
    match Download::members(engine, from) {
        Ok(download) => download.into_response(),
        Err(e) => super::super::error_page(lang, e.0, &e.2),
    }
}

/// `GET /console/export/pools.csv`.
pub(crate) async fn pools(State(server): State<Shared>, headers: HeaderMap, lang: Lang) -> Response {
    let mut app = lock(&server);
    let (caller, _) = or_page!(opened(&mut app, &headers, false, lang));
    let engine = or_page!(engine_of(&app, &caller, lang));
    Download::pools(engine).into_response()
}

/// `GET /console/export/reports.csv`.
pub(crate) async fn reports(State(server): State<Shared>, headers: HeaderMap, lang: Lang) -> Response {
    let mut app = lock(&server);
    let (caller, _) = or_page!(opened(&mut app, &headers, false, lang));
    let offset = or_page!(engine_of(&app, &caller, lang)).plan().timezone;
    match Download::reports(&mut app, &caller.tenant, offset) {
        Ok(download) => download.into_response(),
        Err(e) => super::super::error_page(lang, e.0, &e.2),
    }
}

/// The links to the members' file: one, or one a part of
/// [`MEMBERS_PER_FILE`](crate::api::exports::MEMBERS_PER_FILE) members for a larger tenant.
pub(crate) fn members_links(total: usize, lang: Lang) -> Markup {
    let per = crate::api::exports::MEMBERS_PER_FILE;
    html! {
        p.export {
            @if total <= per {
                a.download href="/console/export/members.csv" download { (tr!(lang, "export-members")) }
            } @else {
                (tr!(lang, "export-members-parts", per = per)) " "
                @for from in (0..total).step_by(per) {
                    a.download href={ "/console/export/members.csv?from=" (from) } download {
                        (from + 1) "–" ((from + per).min(total))
                    }
                    " "
                }
            }
        }
    }
}
