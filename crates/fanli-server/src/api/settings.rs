//! A tenant's settings for its public pages (issue 18): `GET /v1/settings` and `PUT
//! /v1/settings`, kept in the store (`tenant_settings`, version 6).

use super::*;
use crate::store::TenantSettings;

/// The settings as the API shows them.
fn settings_json(settings: &TenantSettings) -> Value {
    json!({"public_origin": settings.public_origin, "public_join": settings.public_join})
}

/// `GET /v1/settings` (owner or read-only) → `{"public_origin": "https://..." | null,
/// "public_join": bool}`.
#[utoipa::path(
    get,
    path = "/v1/settings",
    responses(
        (status = 200, description = "the tenant's settings", body = doc::Settings),
        (status = 403, description = "not an owner's or read-only key", body = doc::Error),
    ),
)]
pub(crate) async fn get_settings(
    State(app): State<Shared>,
    headers: HeaderMap,
) -> Result<Response, ApiError> {
    let Opened { mut app, caller } = opening(&app, &headers, Needs::Reader)?;
    let settings = blocking(|| app.store.tenant_settings(&caller.tenant)).map_err(internal)?;
    Ok(axum::Json(settings_json(&settings)).into_response())
}

/// `PUT /v1/settings` (owner): `{"public_origin": "https://shop.example.com" | null,
/// "public_join": bool}`, each optional (a key left out keeps its value) → the settings now.
/// `public_origin` starts the members' referral links and QR codes (`null`: the server's
/// `--public-origin`, else the request's host); `public_join` opens or closes the join page.
#[utoipa::path(
    put,
    path = "/v1/settings",
    request_body = doc::SettingsChange,
    responses(
        (status = 200, description = "the settings now", body = doc::Settings),
        (status = 403, description = "not the owner's key", body = doc::Error),
    ),
)]
pub(crate) async fn put_settings(
    State(app): State<Shared>,
    headers: HeaderMap,
    body: Bytes,
) -> Result<Response, ApiError> {
    let request = object(&body)?;
    let bad = |message: String| ApiError(StatusCode::BAD_REQUEST, "bad_request", message);
    if let Some(key) = request.keys().find(|k| !matches!(k.as_str(), "public_origin" | "public_join")) {
        return Err(bad(format!(
            "`{key}` is not a setting: the settings are `public_origin` and `public_join`"
        )));
    }
    let Opened { mut app, caller } = opening(&app, &headers, Needs::Owner("changing the settings"))?;
    let mut settings = blocking(|| app.store.tenant_settings(&caller.tenant)).map_err(internal)?;
    match request.get("public_origin") {
        None => {}
        Some(Value::Null) => settings.public_origin = None,
        Some(Value::String(origin)) => {
            settings.public_origin = Some(crate::web::check_origin(origin).map_err(bad)?)
        }
        Some(_) => {
            return Err(bad(
                "`public_origin` is a string such as \"https://shop.example.com\", or null".to_owned()
            ));
        }
    }
    match request.get("public_join") {
        None => {}
        Some(Value::Bool(open)) => settings.public_join = *open,
        Some(_) => return Err(bad("`public_join` is true or false".to_owned())),
    }
    blocking(|| app.store.set_tenant_settings(&caller.tenant, &settings, Some(&caller.key)))
        .map_err(internal)?;
    Ok(axum::Json(settings_json(&settings)).into_response())
}
