//! fanli's server: the engine behind an HTTP JSON API, durable in SQLite.
//!
//! This first slice of issue 7 serves the core loop: the master key creates tenants; a tenant's
//! owner key sets its plan (refused with `fanli check`'s findings when past a red line), posts
//! events as JSON Lines (the same events as `fanli run`, answered per line, only after the
//! accepted ones are committed), and reads its state (what `fanli run --json` prints for the same
//! plan and accepted events). The log is the audit chain's canonical lines, so `fanli audit
//! verify` checks it; on start every tenant is rebuilt by replaying its log.
//!
//! One lock serializes the writers (each request applies and commits in turn): simple and
//! correct; group commit across requests, snapshots, roles, member tokens, the resource
//! endpoints, webhooks, the scheduler and PostgreSQL are the rest of issue 7.

pub mod store;

use std::collections::HashMap;
use std::net::SocketAddr;
use std::path::Path;
use std::sync::{Arc, Mutex};

use axum::Router;
use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post, put};
use fanli_engine::Engine;
use fanli_format::chain::{Chain, sha256_hex};
use fanli_format::{EventLine, parse_plan, run_stream, state_json};
use serde_json::{Value, json};

use crate::store::Store;

/// The server's state: the store and every tenant's engine.
pub struct App {
    store: Store,
    /// The SHA-256 of the master key.
    master: String,
    tenants: HashMap<String, Tenant>,
    /// Owner key hash → tenant id.
    keys: HashMap<String, String>,
}

struct Tenant {
    engine: Option<Engine>,
    plan: Option<String>,
    chain: Chain,
}

/// A shared handle on the server's state.
pub type Shared = Arc<Mutex<App>>;

/// An API error: status, a stable code and a message, sent as `{"error": {"code", "message"}}`.
#[derive(Debug)]
pub struct ApiError(StatusCode, &'static str, String);

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        (self.0, axum::Json(json!({"error": {"code": self.1, "message": self.2}}))).into_response()
    }
}

fn internal(e: impl std::fmt::Display) -> ApiError {
    ApiError(StatusCode::INTERNAL_SERVER_ERROR, "internal", e.to_string())
}

impl App {
    /// Opens the store in `dir` and rebuilds every tenant from its log. `master_key` is the key
    /// that may create tenants: given the first time, its hash is kept; later it must match.
    pub fn open(dir: &Path, master_key: &str) -> Result<App, String> {
        std::fs::create_dir_all(dir).map_err(|e| format!("cannot create {}: {e}", dir.display()))?;
        let store =
            Store::open(dir).map_err(|e| format!("cannot open the store in {}: {e}", dir.display()))?;
        let master = sha256_hex(master_key.as_bytes());
        match store.setting("master_key_hash").map_err(|e| e.to_string())? {
            Some(kept) if !same(&kept, &master) => {
                return Err("this data directory was created with another master key".to_owned());
            }
            Some(_) => {}
            None => store.set_setting("master_key_hash", &master).map_err(|e| e.to_string())?,
        }
        let mut app = App { store, master, tenants: HashMap::new(), keys: HashMap::new() };
        for stored in app.store.load().map_err(|e| e.to_string())? {
            let mut tenant = Tenant { engine: None, plan: None, chain: Chain::default() };
            if let Some(text) = &stored.plan {
                let plan = parse_plan(text).map_err(|e| format!("tenant {}: stored plan: {e}", stored.id))?;
                let mut engine = Engine::new(plan);
                engine.record(false);
                let log = stored.events.join("\n");
                let outcome = run_stream(&mut engine, log.as_bytes(), false).map_err(|e| e.to_string())?;
                if let Some((line, error)) = outcome.rejected.first() {
                    return Err(format!(
                        "tenant {}: its log's line {line} no longer applies: {error}",
                        stored.id
                    ));
                }
                for line in &stored.events {
                    tenant.chain.advance(line);
                }
                tenant.engine = Some(engine);
                tenant.plan = Some(text.clone());
            }
            app.keys.insert(stored.key_hash, stored.id.clone());
            app.tenants.insert(stored.id, tenant);
        }
        Ok(app)
    }

    /// The tenant whose owner key this request bears.
    fn tenant(&self, headers: &HeaderMap) -> Result<String, ApiError> {
        let key = bearer(headers)?;
        let hash = sha256_hex(key.as_bytes());
        // The map is keyed by the hash of the key: a lookup leaks nothing about a key's prefix.
        self.keys
            .get(&hash)
            .cloned()
            .ok_or_else(|| ApiError(StatusCode::UNAUTHORIZED, "unauthorized", "unknown key".to_owned()))
    }
}

/// The bearer token of a request.
fn bearer(headers: &HeaderMap) -> Result<&str, ApiError> {
    headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Bearer "))
        .ok_or_else(|| {
            ApiError(
                StatusCode::UNAUTHORIZED,
                "unauthorized",
                "an `Authorization: Bearer KEY` header is needed".to_owned(),
            )
        })
}

/// Equal strings, compared in constant time.
fn same(a: &str, b: &str) -> bool {
    a.len() == b.len() && a.bytes().zip(b.bytes()).fold(0, |acc, (x, y)| acc | (x ^ y)) == 0
}

/// The API's routes.
pub fn router(app: Shared) -> Router {
    Router::new()
        .route("/healthz", get(|| async { "ok\n" }))
        .route("/openapi.json", get(openapi))
        .route("/v1/tenants", post(create_tenant))
        .route("/v1/plan", put(put_plan))
        .route("/v1/events", post(post_events))
        .route("/v1/state", get(get_state))
        .with_state(app)
}

/// Serves `app` on `addr` until the process ends, on a runtime of its own (for callers that
/// are not async, like the command line).
pub fn serve_blocking(app: App, addr: SocketAddr) -> std::io::Result<()> {
    tokio::runtime::Builder::new_multi_thread().enable_all().build()?.block_on(serve(app, addr))
}

/// Serves `app` on `addr` until the process ends.
pub async fn serve(app: App, addr: SocketAddr) -> std::io::Result<()> {
    let listener = tokio::net::TcpListener::bind(addr).await?;
    axum::serve(listener, router(Arc::new(Mutex::new(app)))).await
}

fn lock(app: &Shared) -> std::sync::MutexGuard<'_, App> {
    app.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
}

async fn create_tenant(
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
    let request: Value = serde_json::from_slice(&body).map_err(|e| {
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
    let hash = sha256_hex(owner_key.as_bytes());
    if !app.store.create_tenant(&id, &hash).map_err(internal)? {
        return Err(ApiError(StatusCode::CONFLICT, "exists", format!("tenant `{id}` exists")));
    }
    app.keys.insert(hash, id.clone());
    app.tenants.insert(id.clone(), Tenant { engine: None, plan: None, chain: Chain::default() });
    Ok((StatusCode::CREATED, axum::Json(json!({"id": id, "owner_key": owner_key}))).into_response())
}

async fn put_plan(State(app): State<Shared>, headers: HeaderMap, body: Bytes) -> Result<Response, ApiError> {
    let mut app = lock(&app);
    let id = app.tenant(&headers)?;
    let text = String::from_utf8(body.to_vec())
        .map_err(|_| ApiError(StatusCode::BAD_REQUEST, "bad_request", "the plan is not UTF-8".to_owned()))?;
    let (plan, lines) = fanli_format::parse_plan_lines(&text)
        .map_err(|errors| ApiError(StatusCode::UNPROCESSABLE_ENTITY, "invalid_plan", errors.to_string()))?;
    let findings = fanli_engine::compliance::check(&plan);
    if fanli_engine::compliance::refused(&findings) {
        let doc = fanli_format::findings_json(&plan.name, &findings, &lines);
        return Ok((StatusCode::UNPROCESSABLE_ENTITY, axum::Json(json!({"error": {
            "code": "noncompliant", "message": "`fanli check` refuses this plan", "findings": doc["findings"],
        }})))
            .into_response());
    }
    if !app.tenants[&id].chain.is_empty() {
        return Err(ApiError(
            StatusCode::CONFLICT,
            "plan_in_use",
            "events were applied under the current plan; changing it mid-log is not supported yet".to_owned(),
        ));
    }
    let version = app.store.add_plan(&id, &text).map_err(internal)?;
    let mut engine = Engine::new(plan);
    engine.record(false);
    let tenant = app.tenants.get_mut(&id).expect("known");
    tenant.engine = Some(engine);
    tenant.plan = Some(text);
    let warnings = fanli_format::findings_json("", &findings, &lines)["findings"].clone();
    Ok(axum::Json(json!({"version": version, "warnings": warnings})).into_response())
}

async fn post_events(
    State(app): State<Shared>,
    headers: HeaderMap,
    body: Bytes,
) -> Result<Response, ApiError> {
    let mut guard = lock(&app);
    let app = &mut *guard;
    let id = app.tenant(&headers)?;
    let tenant = app.tenants.get_mut(&id).expect("known");
    let Some(engine) = tenant.engine.as_mut() else {
        return Err(ApiError(StatusCode::CONFLICT, "no_plan", "PUT /v1/plan first".to_owned()));
    };
    let before = tenant.chain.clone();
    let mut chain = before.clone();
    let mut results = Vec::new();
    let mut accepted = Vec::new();
    let text = body.strip_suffix(b"\n").unwrap_or(&body);
    for (i, line) in text.split(|&b| b == b'\n').enumerate() {
        let line = line.strip_suffix(b"\r").unwrap_or(line);
        let applied = EventLine::parse(line).map_err(|e| e.to_string()).and_then(|raw| {
            let event = raw.event().map_err(|e| e.to_string())?;
            engine.apply(&event).map_err(|e| e.to_string())?;
            Ok(chain.link(&event))
        });
        match applied {
            Ok(chained) => {
                accepted.push(chained);
                results.push(json!({"line": i + 1, "ok": true}));
            }
            Err(error) => results.push(json!({"line": i + 1, "ok": false, "error": error})),
        }
    }
    if let Err(e) = app.store.append(&id, before.len(), &accepted) {
        // Not durable, so not applied: rebuild the tenant from what the store holds.
        let tenant = app.tenants.get_mut(&id).expect("known");
        let plan = parse_plan(tenant.plan.as_deref().expect("a plan")).map_err(internal)?;
        let mut engine = Engine::new(plan);
        engine.record(false);
        let stored = app.store.load().map_err(internal)?;
        let log = stored.iter().find(|s| s.id == id).map(|s| s.events.join("\n")).unwrap_or_default();
        run_stream(&mut engine, log.as_bytes(), false).map_err(internal)?;
        tenant.engine = Some(engine);
        tenant.chain = before;
        return Err(internal(format!("the events could not be stored: {e}")));
    }
    app.tenants.get_mut(&id).expect("known").chain = chain;
    Ok(axum::Json(json!({"results": results})).into_response())
}

async fn get_state(State(app): State<Shared>, headers: HeaderMap) -> Result<Response, ApiError> {
    let app = lock(&app);
    let id = app.tenant(&headers)?;
    let Some(engine) = app.tenants[&id].engine.as_ref() else {
        return Err(ApiError(StatusCode::CONFLICT, "no_plan", "PUT /v1/plan first".to_owned()));
    };
    let mut body = Vec::new();
    state_json(engine, &[], None, &mut body).map_err(internal)?;
    body.push(b'\n');
    Ok(([(header::CONTENT_TYPE, "application/json")], body).into_response())
}

async fn openapi() -> Response {
    ([(header::CONTENT_TYPE, "application/json")], OPENAPI).into_response()
}

/// The OpenAPI 3 document of the endpoints served so far.
const OPENAPI: &str = include_str!("openapi.json");

impl App {
    /// A tenant's state document, as `GET /v1/state` sends it (`None`: no such tenant or no plan).
    pub fn state(&self, tenant: &str) -> Option<Vec<u8>> {
        let engine = self.tenants.get(tenant)?.engine.as_ref()?;
        let mut body = Vec::new();
        state_json(engine, &[], None, &mut body).ok()?;
        body.push(b'\n');
        Some(body)
    }
}

/// A new random key: 32 bytes from the operating system, in hex.
fn new_key() -> Result<String, getrandom::Error> {
    let mut bytes = [0u8; 32];
    getrandom::fill(&mut bytes)?;
    Ok(bytes.iter().map(|b| format!("{b:02x}")).collect())
}

/// A new master key, for a first start without one.
pub fn generate_master_key() -> Result<String, String> {
    new_key().map_err(|e| e.to_string())
}
