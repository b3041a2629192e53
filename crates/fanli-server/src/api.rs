//! The HTTP API: the routes, and a handler for each, annotated with `#[utoipa::path]` for the
//! OpenAPI document ([`doc`], `GET /openapi.json`; a test keeps it complete), with the
//! middleware that counts requests and sends a cluster's requests to the node serving their
//! tenant.

use super::*;

mod dead_letters;
pub(crate) mod doc;
pub(crate) mod durable;
pub(crate) mod exports;
mod proposals;
mod settings;
pub(crate) mod transparency;
mod withdrawals;

/// The API's routes.
pub fn router(app: Shared) -> Router {
    Router::new()
        .route("/healthz", get(health))
        .route("/metrics", get(get_metrics))
        .route("/openapi.json", get(openapi))
        .route("/v1/tenants", post(create_tenant))
        .route("/v1/tenants/{id}/keys", post(master_owner_key))
        .route("/v1/plan", put(put_plan).get(get_plan))
        .route("/v1/plan/versions", get(get_plan_versions))
        .route("/v1/plan/check", post(check_plan))
        .route("/v1/events", post(post_events))
        .route("/v1/state", get(get_state))
        .route("/v1/members", post(post_member).get(list_members))
        .route("/v1/reviews", get(get_reviews).post(post_review))
        .route("/v1/members/{id}", get(get_member))
        .route("/v1/members/{id}/token", post(member_token))
        .route("/v1/me", get(get_me))
        .route("/v1/keys", post(create_key).get(list_keys))
        .route("/v1/keys/{id}", delete(revoke_key))
        .route("/v1/keys/{id}/rotate", post(rotate_key))
        .route("/v1/webhook", put(put_webhook).get(get_webhook))
        .route("/v1/webhook/dead", get(dead_letters::list_dead))
        .route("/v1/webhook/dead/replay", post(dead_letters::replay_all))
        .route("/v1/webhook/dead/{id}/replay", post(dead_letters::replay_one))
        .route("/v1/settings", put(settings::put_settings).get(settings::get_settings))
        .route("/v1/brands", post(create_brand))
        .route("/v1/mechanisms", get(get_mechanisms))
        .route("/v1/mechanisms/{id}", get(get_mechanism))
        .route("/v1/stores", post(post_store))
        .route("/v1/agents", post(post_agent))
        .route("/v1/orders", post(post_order))
        .route("/v1/refunds", post(post_refund))
        .route("/v1/sells", post(post_sell))
        .route("/v1/withdrawals", post(post_withdrawal).get(withdrawals::get_withdrawals))
        .route("/v1/withdrawals/{member}/review", post(withdrawals::review_withdrawal))
        .route("/v1/proposals", post(proposals::open_proposal).get(proposals::list_proposals))
        .route("/v1/proposals/{id}", get(proposals::get_proposal))
        .route("/v1/proposals/{id}/votes", post(proposals::vote))
        .route("/v1/proposals/{id}/tally", post(proposals::tally))
        .route("/v1/topups", post(post_topup))
        .route("/v1/redemptions", post(post_redemption))
        .route("/v1/audit", get(get_audit))
        .route("/v1/audit/head", get(transparency::get_head))
        .route("/v1/audit/proof", get(transparency::get_proof))
        .route("/v1/audit/consistency", get(transparency::get_consistency))
        .route("/v1/reports", get(get_reports))
        .route("/v1/export/members.csv", get(exports::members_csv))
        .route("/v1/export/pools.csv", get(exports::pools_csv))
        .route("/v1/export/reports.csv", get(exports::reports_csv))
        .merge(web::routes())
        .layer(axum::middleware::from_fn_with_state(app.clone(), durable::durable))
        .layer(axum::middleware::from_fn(json_errors))
        .layer(axum::middleware::from_fn_with_state(app.clone(), to_owner))
        .layer(axum::middleware::from_fn_with_state(app.clone(), crate::limits::shed))
        .layer(axum::middleware::from_fn_with_state(app.clone(), track))
        .with_state(app)
}

/// What a handler asks of its caller's key: the role check it opens with (the messages are
/// [`Caller`]'s).
pub(crate) enum Needs<'a> {
    /// Any key of a tenant: the handler looks at the role itself.
    Key,
    /// The owner's, for `what` ([`Caller::owner`]).
    Owner(&'a str),
    /// An owner's or read-only key ([`Caller::reader`]).
    Reader,
    /// An operator's or read-only key ([`Caller::viewer`]).
    Viewer,
    /// An operator's, for `what` ([`Caller::operator`]).
    Operator(&'a str),
    /// Any key but another member's token ([`Caller::sees_member`]).
    Member(&'a str),
}

/// A handler's opening: the server's state, locked, and the caller, known and allowed.
pub(crate) struct Opened<'s> {
    pub(crate) app: std::sync::MutexGuard<'s, App>,
    pub(crate) caller: Caller,
}

/// Opens a handler: finds the caller of the request's key (`401` without a key or for an
/// unknown one) and checks it `needs` (`403`) in the key table, without the state's lock (a
/// refused request never waits for a group commit); then locks the state and checks that this
/// node serves the caller's tenant (`503` for a tenant between nodes).
pub(crate) fn opening<'s>(
    server: &'s Shared,
    headers: &HeaderMap,
    needs: Needs<'_>,
) -> Result<Opened<'s>, ApiError> {
    let known = server.known_caller(headers)?;
    let allowed = |caller: &Caller| match needs {
        Needs::Key => Ok(()),
        Needs::Owner(what) => caller.owner(what),
        Needs::Reader => caller.reader(),
        Needs::Viewer => caller.viewer(),
        Needs::Operator(what) => caller.operator(what),
        Needs::Member(member) => caller.sees_member(member),
    };
    match known {
        Some(caller) => {
            allowed(&caller)?;
            let app = lock(server);
            app.serves(&caller)?;
            Ok(Opened { app, caller })
        }
        None => {
            // Unknown here: in a cluster, the store may know it (made on another node).
            let mut app = lock(server);
            if app.cluster.is_none() {
                return Err(unknown_key());
            }
            let caller = app.caller(headers)?;
            allowed(&caller)?;
            Ok(Opened { app, caller })
        }
    }
}

impl Opened<'_> {
    /// The caller's tenant's engine (`409 no_plan` while it has no plan).
    pub(crate) fn engine(&self) -> Result<&Engine, ApiError> {
        self.app.engine(&self.caller)
    }
}

/// Every error of the API is JSON `{"error": {"code", "message"}}`, those axum answers itself
/// too (no such route: 404; another method: 405; a body past the 2 MiB limit: 413; a path that
/// does not decode: 400), which come as plain text or empty. The pages keep their own.
pub(crate) async fn json_errors(request: axum::extract::Request, next: axum::middleware::Next) -> Response {
    let path = request.uri().path();
    let page = web::is_page(path);
    let response = next.run(request).await;
    let json = response
        .headers()
        .get(header::CONTENT_TYPE)
        .is_some_and(|t| t.as_bytes().starts_with(b"application/json"));
    let status = response.status();
    if page || json || status.as_u16() < 400 {
        return response;
    }
    let (parts, body) = response.into_parts();
    let text = axum::body::to_bytes(body, 64 * 1024).await.unwrap_or_default();
    let text = String::from_utf8_lossy(&text).trim().to_owned();
    let message =
        if text.is_empty() { status.canonical_reason().unwrap_or("error").to_owned() } else { text };
    let code = match status {
        StatusCode::NOT_FOUND => "not_found",
        StatusCode::METHOD_NOT_ALLOWED => "method_not_allowed",
        StatusCode::PAYLOAD_TOO_LARGE => "too_large",
        StatusCode::UNSUPPORTED_MEDIA_TYPE => "unsupported_media_type",
        s if s.is_server_error() => "internal",
        _ => "bad_request",
    };
    let error = match code {
        // Logged with an id, as every internal error is: the client gets the id.
        "internal" => ApiError(status, code, internal(format!("{status}: {message}")).2),
        _ => ApiError(status, code, message),
    };
    let mut answer = error.into_response();
    // What the first answer said besides its body (`Allow` on a 405, say) stays.
    for (name, value) in &parts.headers {
        if name != header::CONTENT_TYPE && name != header::CONTENT_LENGTH {
            answer.headers_mut().insert(name.clone(), value.clone());
        }
    }
    answer
}

/// Counts and logs each request: its method, route (the pattern, not the path: no ids in
/// metrics), status and time.
pub(crate) async fn track(
    State(server): State<Shared>,
    request: axum::extract::Request,
    next: axum::middleware::Next,
) -> Response {
    let started = std::time::Instant::now();
    let method = request.method().clone();
    let route = request
        .extensions()
        .get::<axum::extract::MatchedPath>()
        .map_or_else(|| "unmatched".to_owned(), |p| p.as_str().to_owned());
    let response = next.run(request).await;
    let status = response.status().as_u16();
    server.metrics.request(method.as_str(), &route, status, started.elapsed());
    if status >= 500 {
        tracing::warn!(%method, %route, status, elapsed = ?started.elapsed(), "request failed");
    } else {
        tracing::debug!(%method, %route, status, elapsed = ?started.elapsed(), "request");
    }
    response
}

/// A request under `/v1` without a key is refused (`401`) here, before its handler reads it.
/// In a cluster: first, the revoked keys are dropped if another node revoked any since the
/// last request (see [`App::revoked_since`]); then a request for a tenant another node serves is
/// forwarded there (the same method, headers, key and body; the owner's answer is passed on);
/// while nobody serves it (its node died or is fenced), or its node does not answer, `503`
/// with `Retry-After: 1`. Requests with the master key or
/// without a known key (a revoked one among them) go on, to be refused by their handler.
pub(crate) async fn to_owner(
    State(server): State<Shared>,
    request: axum::extract::Request,
    next: axum::middleware::Next,
) -> Response {
    // The store's count of revocations, read after this request arrived (one read for every
    // request waiting): a key revoked on another node is dropped here before it is trusted.
    let keyless = matches!(request.uri().path(), "/healthz" | "/metrics" | "/openapi.json");
    let revocations = match &server.revocations {
        Some(reader) if !keyless => match reader.read().await {
            Ok(count) => Some(count),
            Err(error) => return error.into_response(),
        },
        _ => None,
    };
    let forwarded = request.headers().contains_key(cluster::FORWARDED);
    // Every route under /v1 takes a key: without one, `401` before the body or the parameters
    // are looked at (as the OpenAPI document lists it for each of them).
    if let (Err(error), true) = (bearer(request.headers()), request.uri().path().starts_with("/v1/")) {
        return error.into_response();
    }
    // A single node (no revocation reader: no cluster) has nothing more to do here: no key from
    // another node to look up, no tenant served elsewhere. Its requests go on without taking the
    // state's lock (their handler takes it) nor hashing their key (their handler hashes it).
    if server.revocations.is_none() {
        return next.run(request).await;
    }
    // A key this node has not seen (made on another node) is looked up before the lock is taken.
    let hash = bearer(request.headers()).ok().map(|key| sha256_hex(key.as_bytes()));
    let looked_up = match (&server.key_reader, &hash) {
        (Some(reader), Some(hash)) if !read_keys(&server.keys).contains_key(hash) => {
            match reader.find(hash).await {
                Ok(found) => found,
                Err(error) => return error.into_response(),
            }
        }
        _ => None,
    };
    let elsewhere = {
        let mut app = lock(&server);
        let app = &mut *app;
        if let Some(count) = revocations
            && let Err(error) = app.revoked_since(count)
        {
            return error.into_response();
        }
        if let Some((hash, key)) = hash.as_ref().zip(looked_up)
            && let Some(role) = Role::from_parts(&key.role, key.scope)
        {
            write_keys(&app.keys).insert(hash.clone(), Caller { tenant: key.tenant, role, key: key.id });
        }
        // The join page has no key: its tenant is in its query.
        let public = crate::web::join::tenant_of(request.uri())
            .filter(|t| app.cluster.as_ref().is_some_and(|c| c.owners.contains_key(t)));
        let tenant = hash
            .as_ref()
            .and_then(|h| read_keys(&app.keys).get(h).map(|caller| caller.tenant.clone()))
            .or(public);
        match (app.cluster.is_some(), tenant) {
            (true, Some(tenant)) if !app.tenants.contains_key(&tenant) => {
                // Who serves it, as the leases' thread last read them (no database here: this
                // is the server's lock).
                let owner = app.cluster.as_ref().and_then(|c| c.owners.get(&tenant).cloned().flatten());
                Some((tenant, owner.filter(|_| !forwarded)))
            }
            _ => None,
        }
    };
    match elsewhere {
        None => next.run(request).await,
        Some((tenant, Some(address))) => {
            match cluster::forward(&address, crate::web::join::mark_client(request)).await {
                Ok(response) => response,
                Err(cluster::Unanswered::Unreached) => unavailable(&tenant).into_response(),
                Err(cluster::Unanswered::Unknown) => {
                    let message = format!(
                        "tenant `{tenant}`'s node took the request and did not answer: it may have been applied; \
                     retry it (an order or a join already applied is refused as a repeat)"
                    );
                    ApiError(StatusCode::BAD_GATEWAY, "no_answer", message).into_response()
                }
            }
        }
        Some((tenant, None)) => unavailable(&tenant).into_response(),
    }
}

/// `GET /metrics`: Prometheus metrics (no key: they name no tenant, member or amount); with
/// the master key, each tenant's pools, obligations and money waiting too
/// ([`metrics::TenantGauges`]).
#[utoipa::path(
    get,
    path = "/metrics",
    responses((
        status = 200,
        description = "the Prometheus text format (with the master key as a bearer token, also each tenant's gauges)",
        body = String,
        content_type = "text/plain"
    )),
)]
pub(crate) async fn get_metrics(State(server): State<Shared>, headers: HeaderMap) -> Response {
    let (tenants, lines, gauges) = {
        let mut app = lock(&server);
        let master = bearer(&headers).is_ok_and(|key| same(&sha256_hex(key.as_bytes()), &app.master));
        let mut gauges: Vec<metrics::TenantGauges> = Vec::new();
        if master {
            for (id, tenant) in &app.tenants {
                if let Some(engine) = &tenant.engine {
                    gauges.push(metrics::TenantGauges::of(id, engine));
                }
            }
            gauges.sort_by(|a, b| a.tenant.cmp(&b.tenant));
            // The webhook's outbox, one query for all tenants (undelivered rows only); a store
            // that cannot answer leaves these gauges at 0 rather than failing the scrape.
            match crate::blocking(|| app.store.outbox_counts()) {
                Ok(counts) => {
                    for (tenant, pending, dead) in counts {
                        if let Some(g) = gauges.iter_mut().find(|g| g.tenant == tenant) {
                            g.webhook = (pending.max(0) as u64, dead.max(0) as u64);
                        }
                    }
                }
                Err(error) => tracing::error!(%error, "the outbox could not be counted for /metrics"),
            }
        }
        (app.tenants.len(), app.tenants.values().map(|t| t.chain.len()).sum(), gauges)
    };
    let mut body = server.metrics.render(tenants, lines);
    server.gate.render(&mut body);
    if !gauges.is_empty() {
        metrics::render_tenants(&mut body, &gauges);
    }
    ([(header::CONTENT_TYPE, "text/plain; version=0.0.4")], body).into_response()
}

#[utoipa::path(
    post,
    path = "/v1/tenants",
    request_body = doc::NewTenant,
    responses(
        (status = 201, description = "the tenant and its owner key, shown this once", body = doc::TenantCreated),
        (status = 401, description = "not the master key", body = doc::Error),
        (status = 409, description = "`exists`: the id is taken", body = doc::Error),
    ),
)]
pub(crate) async fn create_tenant(
    State(app): State<Shared>,
    headers: HeaderMap,
    body: Bytes,
) -> Result<Response, ApiError> {
    let key = bearer(&headers)?;
    let mut app = lock(&app);
    if !same(&sha256_hex(key.as_bytes()), &app.master) {
        return Err(ApiError(
            StatusCode::UNAUTHORIZED,
            "unauthorized",
            "only the master key creates tenants".to_owned(),
        ));
    }
    let request: Value = fanli_format::strict::value(&body).map_err(|e| {
        ApiError(StatusCode::BAD_REQUEST, "bad_request", format!("the body is not JSON: {e}"))
    })?;
    let id = request["id"].as_str().unwrap_or_default().to_owned();
    if id.is_empty()
        || !id.chars().all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_')
        || id.len() > 64
    {
        return Err(ApiError(
            StatusCode::BAD_REQUEST,
            "bad_request",
            "`id` must be 1 to 64 letters, digits, `-` or `_`".to_owned(),
        ));
    }
    let owner_key = new_key().map_err(internal)?;
    let stored = new_stored_key(&owner_key, &id, &Role::Owner, MASTER)?;
    if !blocking(|| app.store.create_tenant(&stored)).map_err(internal)? {
        return Err(ApiError(StatusCode::CONFLICT, "exists", format!("tenant `{id}` exists")));
    }
    let key_id = stored.id.clone();
    write_keys(&app.keys)
        .insert(stored.hash, Caller { tenant: id.clone(), role: Role::Owner, key: stored.id });
    let answer = json!({"id": id, "owner_key": owner_key, "owner_key_id": key_id});
    let mut tenant = Tenant::new();
    if app.cluster.is_some() {
        // Nobody holds the lease of a tenant this transaction just made, but another node's
        // leases' thread may get there first: then the tenant is that node's, and this one
        // forwards its requests there.
        match blocking(|| app.lease(&id)).map_err(internal)? {
            Some(epoch) => tenant.epoch = Some(epoch),
            None => return Ok((StatusCode::CREATED, axum::Json(answer)).into_response()),
        }
    }
    app.tenants.insert(id.clone(), tenant);
    Ok((StatusCode::CREATED, axum::Json(answer)).into_response())
}

/// `POST /v1/tenants/{id}/keys` (the master key, no body): a new owner key for an existing
/// tenant → `201 {"id", "owner_key", "owner_key_id"}` as `POST /v1/tenants` answers, the key
/// shown once; `404` for no such tenant. For an owner who lost every key, and for a session
/// that runs again after a restart (its tenant exists: the README's). The keys made before
/// stay valid; the owner revokes them with the new one (`DELETE /v1/keys/{id}`).
#[utoipa::path(
    post,
    path = "/v1/tenants/{id}/keys",
    params(("id" = String, Path, description = "the tenant", example = "acme")),
    responses(
        (status = 201, description = "a new owner key, shown this once", body = doc::TenantCreated),
        (status = 401, description = "not the master key", body = doc::Error),
        (status = 404, description = "no such tenant", body = doc::Error),
    ),
)]
pub(crate) async fn master_owner_key(
    State(app): State<Shared>,
    headers: HeaderMap,
    axum::extract::Path(id): axum::extract::Path<String>,
) -> Result<Response, ApiError> {
    let key = bearer(&headers)?;
    let mut app = lock(&app);
    if !same(&sha256_hex(key.as_bytes()), &app.master) {
        return Err(ApiError(
            StatusCode::UNAUTHORIZED,
            "unauthorized",
            "only the master key issues keys for a tenant".to_owned(),
        ));
    }
    // In a cluster the tenant may be served by another node: the store knows every tenant.
    let exists = app.tenants.contains_key(&id)
        || (app.cluster.is_some() && blocking(|| app.store.tenant_ids()).map_err(internal)?.contains(&id));
    if !exists {
        return Err(ApiError(StatusCode::NOT_FOUND, "not_found", format!("no tenant `{id}`")));
    }
    let (owner_key, key_id) = issue_key(&mut app, &id, Role::Owner, MASTER)?;
    let answer = json!({"id": id, "owner_key": owner_key, "owner_key_id": key_id});
    Ok((StatusCode::CREATED, axum::Json(answer)).into_response())
}

/// `POST /v1/plan/check` (any operator or read-only key): `fanli check` on a plan, without
/// storing it → `200` with what `fanli check --json` prints (`refused` says whether `PUT
/// /v1/plan` would refuse it), or `422` when it is not a valid plan. With `?against=current`,
/// also `amendment`: what it would change for the tenant's members (see [`plans::compare`]).
#[utoipa::path(
    post,
    path = "/v1/plan/check",
    params(("against" = Option<String>, Query, description = "`current`: also what the plan, as an amendment, would change for the members", example = "current")),
    request_body(
        content = String,
        content_type = "application/toml",
        description = "the plan (TOML)",
        example = json!(crate::api::doc::PLAN_EXAMPLE),
    ),
    responses(
        (status = 200, description = "what `fanli check --json` prints, with `refused` (and `amendment` with `?against=current`)", body = doc::Check),
        (status = 403, description = "not an operator's or read-only key", body = doc::Error),
        (status = 409, description = "`no_plan`: PUT /v1/plan first", body = doc::Error),
        (status = 422, description = "`invalid_plan`: not a plan (the message names the line and key)", body = doc::Error),
    ),
)]
pub(crate) async fn check_plan(
    State(app): State<Shared>,
    headers: HeaderMap,
    axum::extract::Query(query): axum::extract::Query<HashMap<String, String>>,
    body: Bytes,
) -> Result<Response, ApiError> {
    let current = against_current(&opening(&app, &headers, Needs::Viewer)?, &query)?;
    let text = std::str::from_utf8(&body)
        .map_err(|_| ApiError(StatusCode::BAD_REQUEST, "bad_request", "the plan is not UTF-8".to_owned()))?;
    let (plan, lines) = fanli_format::parse_plan_lines(text)
        .map_err(|errors| ApiError(StatusCode::UNPROCESSABLE_ENTITY, "invalid_plan", errors.to_string()))?;
    let findings = fanli_engine::compliance::check(&plan);
    let mut doc = fanli_format::findings_json(&plan.name, &findings, &lines);
    doc["refused"] = fanli_engine::compliance::refused(&findings).into();
    if let Some(engine) = current {
        doc["amendment"] =
            plans::compare(engine, text.to_owned()).await?.map_or_else(|no| no.json(), |c| c.json());
    }
    Ok(axum::Json(doc).into_response())
}

#[utoipa::path(
    post,
    path = "/v1/events",
    request_body(content = doc::Lines, content_type = "application/x-ndjson", description = "events, as `fanli run` reads them (JSON Lines); none: nothing applied"),
    responses(
        (status = 200, description = "per line: applied, skipped (blank) or refused with its code", body = doc::EventResults),
        (status = 403, description = "not the owner's key", body = doc::Error),
        (status = 409, description = "`no_plan`: PUT /v1/plan first", body = doc::Error),
    ),
)]
pub(crate) async fn post_events(
    State(app): State<Shared>,
    headers: HeaderMap,
    body: Bytes,
) -> Result<Response, ApiError> {
    let caller = opening(&app, &headers, Needs::Owner("posting raw events"))?.caller;
    let (id, by) = (caller.tenant, caller.key);
    // Lines as `fanli run` reads them: a blank one is skipped but keeps its number.
    let text = body.strip_suffix(b"\n").unwrap_or(&body);
    let lines = if text.is_empty() {
        Vec::new()
    } else {
        text.split(|&b| b == b'\n')
            .map(|l| l.strip_suffix(b"\r").unwrap_or(l))
            .map(|l| if l.trim_ascii().is_empty() { Line::Blank } else { Line::Raw(l.to_vec()) })
            .collect()
    };
    let results = submit_lines(&app, id, Some(by), lines).await?;
    let json = [(header::CONTENT_TYPE, header::HeaderValue::from_static("application/json"))];
    Ok((json, results_body(&results)).into_response())
}

/// The resource routes: one event of a kind from a JSON object of its fields (without `type`;
/// `at` defaults to now, and never before the tenant's last event). Each answers 200 with the
/// member's (or the order's, the withdrawal's) view when applied, 422 with the rejection's code
/// when refused ([`one_event`]).
macro_rules! resource {
    ($(#[$doc:meta])* $name:ident, $kind:literal, $path:literal, $request:ty, $answer:ty, $who:literal) => {
        $(#[$doc])*
        #[utoipa::path(
            post,
            path = $path,
            request_body = $request,
            responses(
                (status = 200, description = "applied: its stamp and the member's view", body = $answer),
                (status = 403, description = $who, body = doc::Error),
                (status = 409, description = "`no_plan`: PUT /v1/plan first", body = doc::Error),
                (status = 422, description = "refused by the engine, with the rejection's code (docs/rejections.md); nothing changed", body = doc::Error),
            ),
        )]
        pub(crate) async fn $name(
            State(app): State<Shared>,
            headers: HeaderMap,
            body: Bytes,
        ) -> Result<Response, ApiError> {
            one_event(&app, &headers, &body, $kind).await
        }
    };
}

resource!(
    /// A member joins (a `join` event; an operator's key).
    post_member, "join", "/v1/members", doc::Join, doc::Applied, "not an operator's key");
resource!(
    /// The decision on a referral held for anti-fraud review (a `review` event; the owner's key).
    post_review, "review", "/v1/reviews", doc::Review, doc::Applied, "not the owner's key");
resource!(
    /// A store joins (a `store` event; the owner's key, or a brand manager's for its brand).
    post_store, "store", "/v1/stores", doc::NewStore, doc::Applied,
    "not the owner's key, nor the brand manager's of the store's brand");
resource!(
    /// An agent is appointed (an `agent` event; the owner's key).
    post_agent, "agent", "/v1/agents", doc::Agent, doc::Applied, "not the owner's key");
resource!(
    /// An order (an `order` event; an operator's key: a store operator's for its store). Its id
    /// is its idempotency key: an exact retry answers as the first time.
    post_order, "order", "/v1/orders", doc::Order, doc::Applied, "not an operator's key of the order's store");
resource!(
    /// An order refunded (a `refund` event; the owner's key).
    post_refund, "refund", "/v1/refunds", doc::Refund, doc::Applied, "not the owner's key");
resource!(
    /// A member sells points (a `sell` event; the owner's key).
    post_sell, "sell", "/v1/sells", doc::Sell, doc::Applied, "not the owner's key");
resource!(
    /// A member withdraws from the wallet (a `withdraw` event; the owner's key): paid at once, or
    /// held for review under the plan's `[withdrawal]` (`withdrawal.status`).
    post_withdrawal, "withdraw", "/v1/withdrawals", doc::MemberAmount, doc::Applied, "not the owner's key");
resource!(
    /// A member tops up the wallet (a `topup` event; the owner's key).
    post_topup, "topup", "/v1/topups", doc::MemberAmount, doc::Applied, "not the owner's key");
resource!(
    /// A member redeems a reward (a `redeem` event; an operator's key).
    post_redemption, "redeem", "/v1/redemptions", doc::Redeem, doc::Applied, "not an operator's key");

pub(crate) async fn one_event(
    app: &Shared,
    headers: &HeaderMap,
    body: &[u8],
    kind: &'static str,
) -> Result<Response, ApiError> {
    // The body is parsed once: the server reads the store's brand, the store, the member and an
    // order's request from these fields, and the writer reads the event from them where they
    // are (`EventLine::read_object`), with `kind` for its type and its time if it has none.
    let mut fields: serde_json::Map<String, Value> = fanli_format::strict::object(body).map_err(|e| {
        ApiError(StatusCode::BAD_REQUEST, "bad_request", format!("the body is not a JSON object: {e}"))
    })?;
    // A store's brand is the server's, not the engine's: it decides who may write there.
    let brand = match fields.remove("brand") {
        None => None,
        Some(Value::String(brand)) if kind == "store" => Some(brand),
        Some(_) => {
            let message = format!("`brand` is a string, and only a store has one (this is a {kind})");
            return Err(ApiError(StatusCode::BAD_REQUEST, "bad_request", message));
        }
    };
    let (id, by) = {
        let Opened { mut app, caller } = opening(app, headers, Needs::Key)?;
        let tenant = &app.tenants[&caller.tenant];
        match kind {
            "join" => caller.operator("a member joining")?,
            "redeem" => caller.operator("a redemption")?,
            "order" => {
                let store = fields.get("store").and_then(Value::as_str);
                caller.at_store(store, |s| tenant.store_brand.get(s).cloned())?;
            }
            "store" => {
                if let Some(brand) = &brand
                    && !tenant.brands.contains(brand)
                {
                    let message = format!("no brand `{brand}`: POST /v1/brands first");
                    return Err(ApiError(StatusCode::UNPROCESSABLE_ENTITY, "refused", message));
                }
                match &caller.role {
                    Role::BrandManager(own) if brand.as_ref() == Some(own) => {}
                    Role::BrandManager(own) => {
                        let message =
                            format!("a brand manager registers stores of its brand: `\"brand\": \"{own}\"`");
                        return Err(ApiError(StatusCode::FORBIDDEN, "forbidden", message));
                    }
                    _ => caller.owner("registering a store")?,
                }
            }
            _ => caller.owner(&format!("a {kind}"))?,
        }
        // The order id is the idempotency key: a retry of the same request (whatever its `at`,
        // if it is a time) gets the first answer back, and nothing is applied or logged again.
        // Checked under the same lock as the caller's tenant (one lock a request, not two).
        let (id, by) = (caller.tenant, caller.key);
        let time = |at: &Value| at.as_str().and_then(Timestamp::parse_rfc3339).is_some();
        if kind == "order"
            && let Some(order) = fields.get("order").and_then(Value::as_str)
            && fields.get("at").is_none_or(time)
        {
            let known = app.tenants[&id].engine.as_ref().is_some_and(|e| e.find_order(order).is_some());
            if known
                && let Some((request, body)) = blocking(|| app.store.answer(&id, order)).map_err(internal)?
                && request == crate::writer::order_request(&fields)
            {
                return Ok(json_text(body));
            }
        }
        (id, by)
    };
    let member = fields.get("member").and_then(Value::as_str).map(str::to_owned);
    let store = fields.get("store").and_then(Value::as_str).map(str::to_owned);
    let at = match submit_lines(app, id.clone(), Some(by.clone()), vec![Line::Body { kind, fields }])
        .await?
        .remove(0)
    {
        LineResult::Applied { answer: Some(answer), .. } => {
            return Ok(json_text(answer));
        }
        LineResult::Applied { at, answer: None } => at,
        // Refused: the rejection's own code (see docs/rejections.md).
        LineResult::Refused(refusal) => {
            return Err(ApiError(StatusCode::UNPROCESSABLE_ENTITY, refusal.code, refusal.error));
        }
        LineResult::Skipped => return Err(internal("a request's event was skipped as a blank line")),
    };
    let mut app = lock(app);
    if let (Some(brand), Some(store)) = (brand, store) {
        blocking(|| app.store.set_store_brand(&id, &store, &brand, Some(&by))).map_err(internal)?;
        app.tenants.get_mut(&id).expect("known").store_brand.insert(store, brand);
    }
    let engine = app.tenants[&id].engine.as_ref().expect("applied");
    let member = member.and_then(|m| engine.find_member(&m));
    let mut view = Vec::new();
    if let Some(member) = member {
        fanli_format::member_json(engine, member, &mut view).map_err(internal)?;
    }
    let view: Value =
        if view.is_empty() { json!({}) } else { serde_json::from_slice(&view).map_err(internal)? };
    Ok(axum::Json(json!({"ok": true, "at": at, "members": view})).into_response())
}

/// `GET /v1/members/{id}`: the member's view (balances, points value, progress, queue place).
#[utoipa::path(
    get,
    path = "/v1/members/{id}",
    params(("id" = String, Path, description = "the member", example = "m1")),
    responses(
        (status = 200, description = "the member's view, `{ID: view}`", body = doc::Member),
        (status = 403, description = "another member's token", body = doc::Error),
        (status = 404, description = "no such member", body = doc::Error),
        (status = 409, description = "`no_plan`: PUT /v1/plan first", body = doc::Error),
    ),
)]
pub(crate) async fn get_member(
    State(app): State<Shared>,
    headers: HeaderMap,
    axum::extract::Path(member): axum::extract::Path<String>,
) -> Result<Response, ApiError> {
    let opened = opening(&app, &headers, Needs::Member(&member))?;
    let engine = opened.engine()?;
    let member = engine
        .find_member(&member)
        .ok_or_else(|| ApiError(StatusCode::NOT_FOUND, "not_found", format!("no member `{member}`")))?;
    let mut body = Vec::new();
    fanli_format::member_json(engine, member, &mut body).map_err(internal)?;
    Ok(json_text(body))
}

/// `GET /v1/members?offset=N&limit=M` (operators and read-only): members in the order they
/// joined, `M` (at most 500: more is a 400; 50 by default) from the `N`-th → `{"total", "offset", "members":
/// {ID: view, ...}}`.
#[utoipa::path(
    get,
    path = "/v1/members",
    params(("offset" = Option<u64>, Query, description = "the first member of the page, from 0 (0 by default)", minimum = 0), ("limit" = Option<u32>, Query, description = "how many (50 by default, at most 500; more is a 400)", minimum = 0, maximum = 500)),
    responses(
        (status = 200, description = "the page", body = doc::MembersPage),
        (status = 403, description = "not an operator's or read-only key", body = doc::Error),
        (status = 409, description = "`no_plan`: PUT /v1/plan first", body = doc::Error),
    ),
)]
pub(crate) async fn list_members(
    State(app): State<Shared>,
    headers: HeaderMap,
    axum::extract::Query(query): axum::extract::Query<HashMap<String, String>>,
) -> Result<Response, ApiError> {
    let offset = query_number(&query, "offset", 0usize, "a number")?;
    let limit = query_limit(&query, 50, 500)? as usize;
    let opened = opening(&app, &headers, Needs::Viewer)?;
    let engine = opened.engine()?;
    let total = engine.member_count();
    let mut body = format!("{{\"total\":{total},\"offset\":{offset},\"members\":{{").into_bytes();
    for index in offset.min(total)..offset.saturating_add(limit).min(total) {
        if index > offset {
            body.push(b',');
        }
        let mut one = Vec::new();
        fanli_format::member_json(engine, engine.member_id(index), &mut one).map_err(internal)?;
        body.extend_from_slice(&one[1..one.len() - 1]);
    }
    body.extend_from_slice(b"}}");
    Ok(json_text(body))
}

/// `GET /v1/reviews` (owner and read-only): the anti-fraud reviews, pending and decided →
/// `{"reviews": [...]}` (empty without `[antifraud]`).
#[utoipa::path(
    get,
    path = "/v1/reviews",
    responses(
        (status = 200, description = "the reviews (none without `[antifraud]`)", body = doc::Reviews),
        (status = 403, description = "not the owner's or a read-only key", body = doc::Error),
        (status = 409, description = "`no_plan`: PUT /v1/plan first", body = doc::Error),
    ),
)]
pub(crate) async fn get_reviews(State(app): State<Shared>, headers: HeaderMap) -> Result<Response, ApiError> {
    let opened = opening(&app, &headers, Needs::Reader)?;
    let engine = opened.engine()?;
    let reviews: Vec<Value> =
        engine.reviews().unwrap_or_default().iter().map(|r| fanli_format::review_json(engine, r)).collect();
    Ok(axum::Json(json!({"reviews": reviews})).into_response())
}

/// `GET /v1/me`: a member token's own member view.
#[utoipa::path(
    get,
    path = "/v1/me",
    responses(
        (status = 200, description = "the member's view, `{ID: view}`", body = doc::Member),
        (status = 403, description = "not a member token", body = doc::Error),
        (status = 409, description = "`no_plan`: PUT /v1/plan first", body = doc::Error),
    ),
)]
pub(crate) async fn get_me(State(app): State<Shared>, headers: HeaderMap) -> Result<Response, ApiError> {
    let member = match opening(&app, &headers, Needs::Key)?.caller.role {
        Role::Member(member) => member,
        role => {
            let message = format!("/v1/me is for member tokens; this key is a {} key", role.name());
            return Err(ApiError(StatusCode::FORBIDDEN, "forbidden", message));
        }
    };
    get_member(State(app), headers, axum::extract::Path(member)).await
}

/// An answer whose JSON text is already written (a member's state, an order's answer
/// serialized by the writer, the OpenAPI document): sent as it is, typed `application/json`.
pub(crate) fn json_text(body: impl IntoResponse) -> Response {
    ([(header::CONTENT_TYPE, "application/json")], body).into_response()
}

/// A JSON object body.
pub(crate) fn object(body: &[u8]) -> Result<serde_json::Map<String, Value>, ApiError> {
    fanli_format::strict::object(body).map_err(|e| {
        ApiError(StatusCode::BAD_REQUEST, "bad_request", format!("the body is not a JSON object: {e}"))
    })
}

/// A string field of a request, 1 to 64 characters.
pub(crate) fn field<'a>(
    request: &'a serde_json::Map<String, Value>,
    name: &str,
) -> Result<&'a str, ApiError> {
    match request.get(name).and_then(Value::as_str) {
        Some(value) if !value.is_empty() && value.len() <= 64 => Ok(value),
        _ => Err(ApiError(
            StatusCode::BAD_REQUEST,
            "bad_request",
            format!("`{name}` must be 1 to 64 characters"),
        )),
    }
}

/// Who made a tenant's first owner key, in `created_by`: the master key, which has no id.
pub(crate) const MASTER: &str = "master";

/// The wall clock in Unix milliseconds, as the store keeps a key's times.
pub(crate) fn now_millis() -> i64 {
    wall_now() / 1_000_000
}

/// A key's time (Unix milliseconds) in RFC 3339, UTC, to the millisecond:
/// `2026-12-04T17:45:00.274Z`.
pub(crate) fn millis_text(ms: i64) -> String {
    let second = Timestamp::from_unix_nanos(ms.div_euclid(1000).saturating_mul(1_000_000_000)).to_string();
    format!("{}.{:03}Z", second.trim_end_matches('Z'), ms.rem_euclid(1000))
}

/// A new key's row: a fresh id, the hash of `key`, made now by the key `by`.
pub(crate) fn new_stored_key(key: &str, tenant: &str, role: &Role, by: &str) -> Result<StoredKey, ApiError> {
    Ok(StoredKey {
        id: store::key_id().map_err(internal)?,
        hash: sha256_hex(key.as_bytes()),
        tenant: tenant.to_owned(),
        role: role.name().to_owned(),
        scope: role.scope().map(str::to_owned),
        created_at: Some(now_millis()),
        created_by: Some(by.to_owned()),
        revoked_at: None,
        revoked_by: None,
    })
}

/// Makes a key for `role` in `tenant` on behalf of the key `by`, stores its hash, and returns
/// it (shown this once) with its id.
pub(crate) fn issue_key(
    app: &mut App,
    tenant: &str,
    role: Role,
    by: &str,
) -> Result<(String, String), ApiError> {
    let key = new_key().map_err(internal)?;
    let stored = new_stored_key(&key, tenant, &role, by)?;
    blocking(|| app.store.add_key(&stored)).map_err(internal)?;
    let id = stored.id.clone();
    write_keys(&app.keys).insert(stored.hash, Caller { tenant: tenant.to_owned(), role, key: stored.id });
    Ok((key, id))
}

/// `POST /v1/keys` (owner): `{"role": "owner" | "brand_manager" | "store_operator" |
/// "read_only", "brand": ..., "store": ...}` (a brand manager's `brand`, a store operator's
/// `store`; another field is a `400`) → `201 {"key", "role", ...}`, the key shown once.
#[utoipa::path(
    post,
    path = "/v1/keys",
    request_body = doc::NewKey,
    responses(
        (status = 201, description = "the key, shown this once", body = doc::KeyMade),
        (status = 403, description = "not the owner's key", body = doc::Error),
        (status = 422, description = "`refused`: no such brand or store", body = doc::Error),
    ),
)]
pub(crate) async fn create_key(
    State(app): State<Shared>,
    headers: HeaderMap,
    body: Bytes,
) -> Result<Response, ApiError> {
    let request = object(&body)?;
    let Opened { mut app, caller } = opening(&app, &headers, Needs::Owner("making keys"))?;
    let tenant = &app.tenants[&caller.tenant];
    // A field the role does not take is a mistake, not something to ignore.
    let scope = match request.get("role").and_then(Value::as_str) {
        Some("brand_manager") => "brand",
        Some("store_operator") => "store",
        _ => "role",
    };
    withdrawals::only_fields(&request, &["role", scope])?;
    let role = match request.get("role").and_then(Value::as_str) {
        Some("owner") => Role::Owner,
        Some("read_only") => Role::ReadOnly,
        Some("brand_manager") => {
            let brand = field(&request, "brand")?;
            if !tenant.brands.contains(brand) {
                let message = format!("no brand `{brand}`: POST /v1/brands first");
                return Err(ApiError(StatusCode::UNPROCESSABLE_ENTITY, "refused", message));
            }
            Role::BrandManager(brand.to_owned())
        }
        Some("store_operator") => {
            let store = field(&request, "store")?;
            if tenant.engine.as_ref().and_then(|e| e.store(store)).is_none() {
                let message = format!("no store `{store}`: POST /v1/stores first");
                return Err(ApiError(StatusCode::UNPROCESSABLE_ENTITY, "refused", message));
            }
            Role::StoreOperator(store.to_owned())
        }
        _ => {
            let message = "`role` is one of owner, brand_manager, store_operator, read_only".to_owned();
            return Err(ApiError(StatusCode::BAD_REQUEST, "bad_request", message));
        }
    };
    let (key, id) = issue_key(&mut app, &caller.tenant, role.clone(), &caller.key)?;
    let mut answer = json!({"key": key, "role": role.name()});
    if let Role::BrandManager(scope) | Role::StoreOperator(scope) = &role {
        answer[if matches!(role, Role::BrandManager(_)) { "brand" } else { "store" }] = scope.as_str().into();
    }
    answer["id"] = id.into();
    Ok((StatusCode::CREATED, axum::Json(answer)).into_response())
}

/// A key as `GET /v1/keys` lists it: its id, role and scope (`brand`, `store` or `member`),
/// when and by which key it was made, and whether, when and by which key it was revoked. Never
/// the key or its hash. Times are RFC 3339 (UTC); `null` for a key made before keys had times.
pub(crate) fn key_json(key: &StoredKey) -> Value {
    let time = |ms: Option<i64>| ms.map_or(Value::Null, |ms| millis_text(ms).into());
    let mut answer = json!({"id": key.id, "role": key.role});
    let scope_name = Role::from_parts(&key.role, key.scope.clone()).and_then(|role| role.scope_name());
    if let (Some(name), Some(scope)) = (scope_name, &key.scope) {
        answer[name] = scope.as_str().into();
    }
    answer["created_at"] = time(key.created_at);
    answer["created_by"] = key.created_by.clone().into();
    answer["revoked"] = key.revoked().into();
    answer["revoked_at"] = time(key.revoked_at);
    answer["revoked_by"] = key.revoked_by.clone().into();
    answer
}

/// `GET /v1/keys?offset=N&limit=M` (owner or read-only): the tenant's keys, revoked ones too,
/// in the order they were made, `M` (at most 1,000: more is a 400; 100 by default) from the `N`-th →
/// `{"total", "offset", "keys": [...]}` ([`key_json`]).
#[utoipa::path(
    get,
    path = "/v1/keys",
    params(("offset" = Option<u64>, Query, description = "the first key of the page, from 0 (0 by default)", minimum = 0), ("limit" = Option<u32>, Query, description = "how many (100 by default, at most 1000; more is a 400)", minimum = 0, maximum = 1000)),
    responses(
        (status = 200, description = "the page", body = doc::KeysPage),
        (status = 403, description = "not the owner's or a read-only key", body = doc::Error),
    ),
)]
pub(crate) async fn list_keys(
    State(app): State<Shared>,
    headers: HeaderMap,
    axum::extract::Query(query): axum::extract::Query<HashMap<String, String>>,
) -> Result<Response, ApiError> {
    let offset = query_number(&query, "offset", 0u64, "a number")?;
    let limit = query_limit(&query, 100, 1000)?;
    let Opened { mut app, caller } = opening(&app, &headers, Needs::Reader)?;
    let (total, keys) =
        blocking(|| app.store.tenant_keys(&caller.tenant, offset, limit)).map_err(internal)?;
    let keys: Vec<Value> = keys.iter().map(key_json).collect();
    Ok(axum::Json(json!({"total": total, "offset": offset, "keys": keys})).into_response())
}

fn no_key(id: &str) -> ApiError {
    ApiError(StatusCode::NOT_FOUND, "not_found", format!("no key `{id}`"))
}

/// `DELETE /v1/keys/{id}` (owner): revokes the key → `200` with it as listed ([`key_json`]),
/// revoked. Its requests are refused (`401`) from now on, on every node; the console sessions
/// it opened end. A key revoked already is answered as it is (its first revocation holds). The
/// tenant's last live owner key is not revoked (`409 last_owner_key`): nobody could make keys
/// again; rotate it instead.
#[utoipa::path(
    delete,
    path = "/v1/keys/{id}",
    params(("id" = String, Path, description = "the key's id")),
    responses(
        (status = 200, description = "the key as listed, revoked", body = doc::KeyView),
        (status = 403, description = "not the owner's key", body = doc::Error),
        (status = 404, description = "no such key", body = doc::Error),
        (status = 409, description = "`last_owner_key`: the tenant's last live owner key (rotate it instead)", body = doc::Error),
    ),
)]
pub(crate) async fn revoke_key(
    State(app): State<Shared>,
    headers: HeaderMap,
    axum::extract::Path(id): axum::extract::Path<String>,
) -> Result<Response, ApiError> {
    let Opened { mut app, caller } = opening(&app, &headers, Needs::Owner("revoking a key"))?;
    let app = &mut *app;
    let key =
        blocking(|| app.store.key(&caller.tenant, &id)).map_err(internal)?.ok_or_else(|| no_key(&id))?;
    if key.revoked() {
        return Ok(axum::Json(key_json(&key)).into_response());
    }
    if key.role == Role::Owner.name()
        && blocking(|| app.store.owner_keys(&caller.tenant)).map_err(internal)? <= 1
    {
        let message = format!(
            "key `{id}` is the tenant's last owner key: rotate it (POST /v1/keys/{id}/rotate) instead"
        );
        return Err(ApiError(StatusCode::CONFLICT, "last_owner_key", message));
    }
    let revoked = blocking(|| app.store.revoke_key(&caller.tenant, &id, now_millis(), &caller.key))
        .map_err(internal)?
        .ok_or_else(|| no_key(&id))?;
    app.forget_key(&revoked.hash, &revoked.id);
    Ok(axum::Json(key_json(&revoked)).into_response())
}

/// `POST /v1/keys/{id}/rotate` (owner): a new key of the same role and scope in place of the
/// key `id`, which is revoked in the same transaction → `201 {"key", "id", "role", scope,
/// "replaces"}`, the new key shown this once. A revoked key is not rotated (`409 revoked`).
#[utoipa::path(
    post,
    path = "/v1/keys/{id}/rotate",
    params(("id" = String, Path, description = "the key's id")),
    responses(
        (status = 201, description = "the new key, shown this once, and the one it `replaces`", body = doc::KeyMade),
        (status = 403, description = "not the owner's key", body = doc::Error),
        (status = 404, description = "no such key", body = doc::Error),
        (status = 409, description = "`revoked`: the key is revoked", body = doc::Error),
    ),
)]
pub(crate) async fn rotate_key(
    State(app): State<Shared>,
    headers: HeaderMap,
    axum::extract::Path(id): axum::extract::Path<String>,
) -> Result<Response, ApiError> {
    let Opened { mut app, caller } = opening(&app, &headers, Needs::Owner("rotating a key"))?;
    let app = &mut *app;
    let old =
        blocking(|| app.store.key(&caller.tenant, &id)).map_err(internal)?.ok_or_else(|| no_key(&id))?;
    if old.revoked() {
        let message = format!("key `{id}` is revoked: make a new one (POST /v1/keys)");
        return Err(ApiError(StatusCode::CONFLICT, "revoked", message));
    }
    let role = Role::from_parts(&old.role, old.scope.clone())
        .ok_or_else(|| internal(format!("key {id} has a bad role")))?;
    let secret = new_key().map_err(internal)?;
    let new = new_stored_key(&secret, &caller.tenant, &role, &caller.key)?;
    let Some(old) = blocking(|| app.store.rotate_key(&id, &new)).map_err(internal)? else {
        return Err(no_key(&id));
    };
    app.forget_key(&old.hash, &old.id);
    write_keys(&app.keys).insert(
        new.hash.clone(),
        Caller { tenant: caller.tenant.clone(), role: role.clone(), key: new.id.clone() },
    );
    let mut answer = json!({"key": secret, "id": new.id, "role": role.name()});
    if let (Some(name), Some(scope)) = (role.scope_name(), role.scope()) {
        answer[name] = scope.into();
    }
    answer["replaces"] = id.into();
    Ok((StatusCode::CREATED, axum::Json(answer)).into_response())
}

/// `POST /v1/members/{id}/token` (an operator): a token that sees only this member, for the
/// member's own page → `201 {"token", "member"}`.
#[utoipa::path(
    post,
    path = "/v1/members/{id}/token",
    params(("id" = String, Path, description = "the member", example = "m1")),
    responses(
        (status = 201, description = "the token", body = doc::MemberToken),
        (status = 403, description = "not an operator's key", body = doc::Error),
        (status = 404, description = "no such member", body = doc::Error),
        (status = 409, description = "`no_plan`: PUT /v1/plan first", body = doc::Error),
    ),
)]
pub(crate) async fn member_token(
    State(app): State<Shared>,
    headers: HeaderMap,
    axum::extract::Path(member): axum::extract::Path<String>,
) -> Result<Response, ApiError> {
    let Opened { mut app, caller } = opening(&app, &headers, Needs::Operator("a member token"))?;
    let engine = app.engine(&caller)?;
    if engine.find_member(&member).is_none() {
        return Err(ApiError(StatusCode::NOT_FOUND, "not_found", format!("no member `{member}`")));
    }
    let (token, id) = issue_key(&mut app, &caller.tenant, Role::Member(member.clone()), &caller.key)?;
    Ok((StatusCode::CREATED, axum::Json(json!({"token": token, "member": member, "id": id}))).into_response())
}

/// `PUT /v1/webhook` (owner): `{"url": "https://..."}` → `{"url", "secret"}`: notifications
/// (reward paid, exit, expiry reminder, review needed) of the events from now on go there, signed
/// with the secret (shown here, new on every PUT). `{"url": null}` stops them.
#[utoipa::path(
    put,
    path = "/v1/webhook",
    request_body = doc::WebhookSet,
    responses(
        (status = 200, description = "the URL and the secret the notifications are signed with", body = doc::WebhookSecret),
        (status = 403, description = "not the owner's key", body = doc::Error),
    ),
)]
pub(crate) async fn put_webhook(
    State(app): State<Shared>,
    headers: HeaderMap,
    body: Bytes,
) -> Result<Response, ApiError> {
    let request = object(&body)?;
    let Opened { mut app, caller } = opening(&app, &headers, Needs::Owner("setting the webhook"))?;
    let app = &mut *app;
    let url = match request.get("url") {
        Some(Value::Null) => None,
        Some(Value::String(url))
            if (url.starts_with("http://") || url.starts_with("https://")) && url.len() <= 2048 =>
        {
            Some(url.clone())
        }
        _ => {
            let message = "`url` is an http:// or https:// URL, or null".to_owned();
            return Err(ApiError(StatusCode::BAD_REQUEST, "bad_request", message));
        }
    };
    let secret = new_key().map_err(internal)?;
    let hook = url.as_deref().map(|u| (u, secret.as_str()));
    blocking(|| app.store.set_webhook(&caller.tenant, hook, Some(&caller.key))).map_err(internal)?;
    let tenant = app.tenants.get_mut(&caller.tenant).expect("known");
    tenant.webhook = url.clone();
    tenant.record();
    let answer = match url {
        Some(url) => json!({"url": url, "secret": secret}),
        None => json!({"url": null}),
    };
    Ok(axum::Json(answer).into_response())
}

/// `GET /v1/webhook` (owner or read-only): the URL and the outbox: notifications pending,
/// delivered and dead (given up: `GET /v1/webhook/dead`), and the oldest pending one's attempts
/// and last error.
#[utoipa::path(
    get,
    path = "/v1/webhook",
    responses(
        (status = 200, description = "the URL and the outbox", body = doc::WebhookStatus),
        (status = 403, description = "not the owner's or a read-only key", body = doc::Error),
    ),
)]
pub(crate) async fn get_webhook(State(app): State<Shared>, headers: HeaderMap) -> Result<Response, ApiError> {
    let Opened { mut app, caller } = opening(&app, &headers, Needs::Reader)?;
    let url = app.tenants[&caller.tenant].webhook.clone();
    let status = blocking(|| app.store.outbox_status(&caller.tenant)).map_err(internal)?;
    let mut answer =
        json!({"url": url, "pending": status.pending, "delivered": status.delivered, "dead": status.dead});
    if let Some((attempts, error)) = status.head {
        answer["attempts"] = attempts.into();
        answer["last_error"] = error.into();
    }
    Ok(axum::Json(answer).into_response())
}

/// `POST /v1/brands` (owner): `{"id": "b1"}` → `201`; stores join a brand with `"brand"`.
#[utoipa::path(
    post,
    path = "/v1/brands",
    request_body = doc::Brand,
    responses(
        (status = 201, description = "registered", body = doc::Brand),
        (status = 403, description = "not the owner's key", body = doc::Error),
        (status = 409, description = "`exists`: the brand exists", body = doc::Error),
    ),
)]
pub(crate) async fn create_brand(
    State(app): State<Shared>,
    headers: HeaderMap,
    body: Bytes,
) -> Result<Response, ApiError> {
    let request = object(&body)?;
    let Opened { mut app, caller } = opening(&app, &headers, Needs::Owner("registering a brand"))?;
    let app = &mut *app;
    let brand = field(&request, "id")?;
    if !blocking(|| app.store.add_brand(&caller.tenant, brand, Some(&caller.key))).map_err(internal)? {
        return Err(ApiError(StatusCode::CONFLICT, "exists", format!("brand `{brand}` exists")));
    }
    app.tenants.get_mut(&caller.tenant).expect("known").brands.insert(brand.to_owned());
    Ok((StatusCode::CREATED, axum::Json(json!({"id": brand}))).into_response())
}

/// `GET /v1/mechanisms`: every mechanism's view (pool, obligations, paid, price, ...), as under
/// `mechanisms` in the state document.
#[utoipa::path(
    get,
    path = "/v1/mechanisms",
    responses(
        (status = 200, description = "each mechanism's view by id (`pool`, `obligations`, ...)", body = doc::Mechanisms),
        (status = 403, description = "not an operator's or read-only key", body = doc::Error),
        (status = 409, description = "`no_plan`: PUT /v1/plan first", body = doc::Error),
    ),
)]
pub(crate) async fn get_mechanisms(
    State(app): State<Shared>,
    headers: HeaderMap,
) -> Result<Response, ApiError> {
    mechanisms(&app, &headers, None)
}

/// `GET /v1/mechanisms/{id}`: one mechanism's view.
#[utoipa::path(
    get,
    path = "/v1/mechanisms/{id}",
    params(("id" = String, Path, description = "the mechanism", example = "appr")),
    responses(
        (status = 200, description = "the mechanism's view, `{ID: view}`", body = doc::Mechanisms),
        (status = 403, description = "not an operator's or read-only key", body = doc::Error),
        (status = 404, description = "no such mechanism", body = doc::Error),
        (status = 409, description = "`no_plan`: PUT /v1/plan first", body = doc::Error),
    ),
)]
pub(crate) async fn get_mechanism(
    State(app): State<Shared>,
    headers: HeaderMap,
    axum::extract::Path(id): axum::extract::Path<String>,
) -> Result<Response, ApiError> {
    mechanisms(&app, &headers, Some(&id))
}

pub(crate) fn mechanisms(
    app: &Shared,
    headers: &HeaderMap,
    only: Option<&str>,
) -> Result<Response, ApiError> {
    let opened = opening(app, headers, Needs::Viewer)?;
    let engine = opened.engine()?;
    let body = fanli_format::mechanisms_json(engine, only).ok_or_else(|| {
        ApiError(StatusCode::NOT_FOUND, "not_found", format!("no mechanism `{}`", only.unwrap_or_default()))
    })?;
    Ok(json_text(body))
}

/// `GET /v1/reports?from=N&limit=M`: the daily pool reports after the log's line N (0 by
/// default), at most M (1,000 by default, 10,000 at most) and 4 MiB, as JSON Lines, one per
/// `close_day`: each mechanism's pool, obligations, paid and price, with the audit chain's head
/// at that line (what `fanli run --report` writes and `fanli audit verify --report` checks).
/// When more follow, `X-Fanli-Next` says the `from` of the next page (the last report's line).
/// Read on a connection of its own, off the server's lock.
#[utoipa::path(
    get,
    path = "/v1/reports",
    params(
        ("from" = Option<u64>, Query, description = "the log line after which (0 by default)", minimum = 0),
        ("limit" = Option<u64>, Query, description = "reports at most (1,000 by default)", minimum = 1, maximum = 10000),
    ),
    responses(
        (status = 200, description = "the daily pool reports, one JSON object a line; `X-Fanli-Next` is the next page's `from` when more follow", body = String, content_type = "application/x-ndjson",
            headers(("X-Fanli-Next" = u64, description = "the `from` of the next page, when more follow"))),
        (status = 403, description = "not an operator's or read-only key", body = doc::Error),
    ),
)]
pub(crate) async fn get_reports(
    State(app): State<Shared>,
    headers: HeaderMap,
    axum::extract::Query(query): axum::extract::Query<HashMap<String, String>>,
) -> Result<Response, ApiError> {
    let (id, dir, database) = {
        let Opened { app, caller } = opening(&app, &headers, Needs::Viewer)?;
        (caller.tenant, app.dir.clone(), app.database.clone())
    };
    let from = line_number(&query)?;
    let limit = query_limit(&query, 1_000, 10_000)?;
    if limit == 0 {
        return Err(ApiError(StatusCode::BAD_REQUEST, "bad_request", "`limit` is at least 1".to_owned()));
    }
    let (body, next) = tokio::task::spawn_blocking(move || {
        crate::limits::reports_page(&mut Store::open(&dir, database.as_deref())?, &id, from, limit)
    })
    .await
    .map_err(internal)?
    .map_err(internal)?;
    let mut response = ([(header::CONTENT_TYPE, "application/x-ndjson")], body).into_response();
    if let Some(next) = next {
        let next = header::HeaderValue::from(next);
        response.headers_mut().insert(header::HeaderName::from_static("x-fanli-next"), next);
    }
    Ok(response)
}

/// The `from` query parameter: a line of the log (0 by default).
pub(crate) fn line_number(query: &HashMap<String, String>) -> Result<u64, ApiError> {
    query_number(query, "from", 0, "a line number")
}

/// The number in query parameter `name`, `default` without one; a 400 saying it is `what`
/// when it is not a whole number from 0 that `T` holds, nor past `i64::MAX` (the OpenAPI
/// document's `int64`, and the store's integers).
pub(crate) fn query_number<T: TryFrom<i64>>(
    query: &HashMap<String, String>,
    name: &str,
    default: T,
    what: &str,
) -> Result<T, ApiError> {
    match query.get(name) {
        None => Ok(default),
        Some(n) => {
            n.parse::<i64>().ok().filter(|n| *n >= 0).and_then(|n| T::try_from(n).ok()).ok_or_else(|| {
                ApiError(StatusCode::BAD_REQUEST, "bad_request", format!("`{name}` is {what}"))
            })
        }
    }
}

/// The `limit` query parameter of a page: `default` without one; `400` past `max` (as the
/// OpenAPI document says: a client asking for more than a page holds is told, not cut short
/// without a word).
pub(crate) fn query_limit(query: &HashMap<String, String>, default: u32, max: u32) -> Result<u32, ApiError> {
    let limit = query_number(query, "limit", default, "a number")?;
    if limit > max {
        let message = format!("`limit` is at most {max}, not {limit}");
        return Err(ApiError(StatusCode::BAD_REQUEST, "bad_request", message));
    }
    Ok(limit)
}

/// `GET /v1/audit?from=N&limit=M`: the tenant's chained log after line N (0 by default), at most
/// M lines (10,000 by default, 1 to 100,000: others are a 400) and 4 MiB, as JSON Lines: what `fanli audit
/// verify` checks. When more lines follow, `X-Fanli-Next` says the `from` of the next page.
/// Read on a connection of its own, off the server's lock.
#[utoipa::path(
    get,
    path = "/v1/audit",
    params(("from" = Option<u64>, Query, description = "the log line after which (0 by default)", minimum = 0), ("limit" = Option<u32>, Query, description = "at most how many lines (10,000 by default, 1 to 100,000; others are a 400)", minimum = 1, maximum = 100000)),
    responses(
        (status = 200, description = "the log's lines, chained (JSON Lines)", body = String, content_type = "application/x-ndjson", headers(("X-Fanli-Next" = u64, description = "more lines follow: the `from` of the next page"))),
        (status = 403, description = "not the owner's or a read-only key", body = doc::Error),
    ),
)]
pub(crate) async fn get_audit(
    State(app): State<Shared>,
    headers: HeaderMap,
    axum::extract::Query(query): axum::extract::Query<HashMap<String, String>>,
) -> Result<Response, ApiError> {
    let (id, dir, database) = {
        let Opened { app, caller } = opening(&app, &headers, Needs::Reader)?;
        (caller.tenant, app.dir.clone(), app.database.clone())
    };
    let from = line_number(&query)?;
    let limit = query_limit(&query, 10_000, 100_000)?;
    if limit == 0 {
        return Err(ApiError(StatusCode::BAD_REQUEST, "bad_request", "`limit` is at least 1".to_owned()));
    }
    // At most `limit` lines and a bounded number of bytes ([`crate::limits::audit_page`]).
    let (body, count, more) = tokio::task::spawn_blocking(move || {
        crate::limits::audit_page(&mut Store::open(&dir, database.as_deref())?, &id, from, limit)
    })
    .await
    .map_err(internal)?
    .map_err(internal)?;
    let mut response = ([(header::CONTENT_TYPE, "application/x-ndjson")], body).into_response();
    if more {
        let next = header::HeaderValue::from(from + u64::from(count));
        response.headers_mut().insert(header::HeaderName::from_static("x-fanli-next"), next);
    }
    Ok(response)
}

impl App {
    /// The caller's tenant's engine; a tenant without a plan has none.
    fn engine(&self, caller: &Caller) -> Result<&Engine, ApiError> {
        self.tenants[&caller.tenant].engine.as_ref().ok_or_else(no_plan)
    }
}

pub(crate) fn no_plan() -> ApiError {
    ApiError(StatusCode::CONFLICT, "no_plan", "PUT /v1/plan first".to_owned())
}

/// `GET /v1/state`, or `GET /v1/state?at=TIME`: the state as it stood then, replayed from the
/// log (what `fanli run --until TIME --json` prints).
#[utoipa::path(
    get,
    path = "/v1/state",
    params(("at" = Option<String>, Query, description = "the state as it stood then (RFC 3339), replayed from the log", format = DateTime, example = "2026-01-01T09:03:00+08:00")),
    responses(
        (status = 200, description = "the state document", body = doc::State),
        (status = 403, description = "not the owner's or a read-only key", body = doc::Error),
        (status = 409, description = "`no_plan`: PUT /v1/plan first", body = doc::Error),
    ),
)]
pub(crate) async fn get_state(
    State(app): State<Shared>,
    headers: HeaderMap,
    axum::extract::Query(query): axum::extract::Query<HashMap<String, String>>,
) -> Result<Response, ApiError> {
    let until = match query.get("at") {
        None => None,
        Some(at) => Some(fanli_engine::Timestamp::parse_rfc3339(at).ok_or_else(|| {
            ApiError(StatusCode::BAD_REQUEST, "bad_request", format!("`at` {at:?} is not an RFC 3339 time"))
        })?),
    };
    enum Answer {
        Now(Vec<u8>),
        Replay(Box<fanli_engine::Plan>, std::path::PathBuf, Option<String>, String, Timestamp),
    }
    // Under the lock: the state now, or what replaying the log up to `at` needs.
    let answer = {
        let Opened { app, caller } = opening(&app, &headers, Needs::Reader)?;
        let id = caller.tenant;
        let tenant = &app.tenants[&id];
        let engine = tenant.engine.as_ref().ok_or_else(no_plan)?;
        match until {
            None => {
                let mut body = Vec::new();
                state_json(engine, &[], None, &mut body).map_err(internal)?;
                Answer::Now(body)
            }
            Some(until) => {
                let plan = parse_plan(tenant.plan.as_deref().expect("a plan")).map_err(internal)?;
                Answer::Replay(Box::new(plan), app.dir.clone(), app.database.clone(), id, until)
            }
        }
    };
    let mut body = match answer {
        Answer::Now(body) => body,
        // The log replayed up to `at` on a connection of its own, off the server's lock.
        Answer::Replay(plan, dir, database, id, until) => {
            tokio::task::spawn_blocking(move || state_at(&dir, database.as_deref(), &id, *plan, until))
                .await
                .map_err(internal)?
                .map_err(internal)?
        }
    };
    body.push(b'\n');
    Ok(json_text(body))
}

/// The state document of the tenant's log replayed up to `until` (what `fanli run --until TIME
/// --json` prints), reading the log as it goes.
fn state_at(
    dir: &Path,
    database: Option<&str>,
    id: &str,
    plan: fanli_engine::Plan,
    until: Timestamp,
) -> Result<Vec<u8>, String> {
    /// Why the replay stopped: past `until`, or a failure.
    enum Stop {
        Past,
        Failed(String),
    }
    impl From<store::StoreError> for Stop {
        fn from(error: store::StoreError) -> Stop {
            Stop::Failed(error.database_text())
        }
    }
    let mut engine = Engine::new(plan);
    engine.record(false);
    let mut store = Store::open(dir, database).map_err(|e| e.to_string())?;
    let replayed = store.for_each_event(id, 0, |line| {
        let raw = EventLine::parse(line.as_bytes()).map_err(|e| Stop::Failed(e.to_string()))?;
        let event = raw.event().map_err(|e| Stop::Failed(e.to_string()))?;
        if event.at > until {
            return Err(Stop::Past);
        }
        match fanli_format::apply(&mut engine, Ok(event)) {
            LineOutcome::Refused(refusal) => Err(Stop::Failed(refusal.error)),
            LineOutcome::Accepted(_) | LineOutcome::Blank => Ok(()),
        }
    });
    match replayed {
        Ok(()) | Err(Stop::Past) => {}
        Err(Stop::Failed(error)) => return Err(error),
    }
    let mut body = Vec::new();
    state_json(&engine, &[], None, &mut body).map_err(|e| e.to_string())?;
    Ok(body)
}

/// `GET /openapi.json`: the API's OpenAPI document, generated from the handlers ([`doc`]).
#[utoipa::path(get, path = "/openapi.json", responses((status = 200, description = "OpenAPI 3.1", body = Object)))]
pub(crate) async fn openapi() -> Response {
    json_text(doc::json())
}

/// `GET /healthz`: liveness.
#[utoipa::path(get, path = "/healthz", responses((status = 200, description = "`ok`", body = String, content_type = "text/plain")))]
pub(crate) async fn health() -> &'static str {
    "ok\n"
}

#[cfg(test)]
mod tests {
    #[test]
    fn a_keys_time_is_written_to_the_millisecond() {
        assert_eq!(super::millis_text(1_796_406_300_274), "2026-12-04T17:45:00.274Z");
        assert_eq!(super::millis_text(1_796_406_300_000), "2026-12-04T17:45:00.000Z");
        assert_eq!(super::millis_text(0), "1970-01-01T00:00:00.000Z");
    }

    /// Every route the router serves (but the pages) is in the generated document, with every
    /// method it answers, and the document has no other: a new route needs its
    /// `#[utoipa::path]` and its entry in `doc::ApiDoc`.
    #[test]
    fn every_route_is_documented() {
        let doc: serde_json::Value = serde_json::from_str(super::doc::json()).unwrap();
        let source = [include_str!("api.rs"), include_str!("web/mod.rs")].concat();
        let mut served = std::collections::BTreeSet::new();
        for piece in source.split(".route(\"").skip(1) {
            let path = &piece[..piece.find('"').unwrap()];
            if path.starts_with("/console") || path == "/m" || path.starts_with("/m/") || path == "/join" {
                continue; // Pages, not the API.
            }
            let handlers = &piece[..piece.find("))\n").unwrap()];
            for method in ["get", "put", "post", "delete"] {
                if handlers.contains(&format!("{method}(")) {
                    served.insert(format!("{} {path}", method.to_uppercase()));
                }
            }
        }
        let mut documented = std::collections::BTreeSet::new();
        for (path, item) in doc["paths"].as_object().unwrap() {
            for method in item.as_object().unwrap().keys() {
                documented.insert(format!("{} {path}", method.to_uppercase()));
            }
        }
        assert!(served.len() >= 47, "the routes were not found: {served:?}");
        assert_eq!(served, documented);
    }

    /// What the generated document says of the routes' shared answers and of the schemas.
    #[test]
    fn the_document_has_schemas_and_the_shared_answers() {
        let doc: serde_json::Value = serde_json::from_str(super::doc::json()).unwrap();
        let schemas = &doc["components"]["schemas"];
        assert_eq!(schemas["ErrorDetail"]["required"], serde_json::json!(["code", "message"]));
        assert_eq!(
            schemas["TenantCreated"]["required"],
            serde_json::json!(["id", "owner_key", "owner_key_id"])
        );
        let members = &doc["paths"]["/v1/members"];
        let limit =
            members["get"]["parameters"].as_array().unwrap().iter().find(|p| p["name"] == "limit").unwrap();
        assert_eq!(limit["schema"]["maximum"], 500);
        let post = &members["post"]["responses"];
        for status in ["200", "400", "401", "403", "409", "413", "422", "503"] {
            assert!(post[status]["description"].is_string(), "POST /v1/members: no {status}");
        }
        assert_eq!(post["503"]["headers"]["Retry-After"]["schema"]["type"], "integer");
        assert_eq!(
            post["401"]["content"]["application/json"]["schema"]["$ref"],
            "#/components/schemas/Error"
        );
        // The keyless routes say so, and have no 401.
        assert_eq!(doc["paths"]["/healthz"]["get"]["security"], serde_json::json!([]));
        assert!(doc["paths"]["/healthz"]["get"]["responses"]["401"].is_null());
        assert_eq!(doc["security"], serde_json::json!([{"key": []}]));
        assert_eq!(doc["paths"]["/v1/members/{id}/token"]["post"]["tags"], serde_json::json!(["members"]));
    }
}
