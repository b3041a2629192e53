//! The member's phone page (`/m?t=TOKEN`). (Being written.)

use std::collections::HashMap;

use axum::extract::{Query, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::Response;

use super::{Lang, error_page};
use crate::Shared;

/// `GET /m?t=TOKEN[&lang=en]`: the member's page.
pub(crate) async fn page(
    State(_server): State<Shared>,
    _headers: HeaderMap,
    Query(query): Query<HashMap<String, String>>,
) -> Response {
    error_page(Lang::from_query(&query), StatusCode::NOT_FOUND, "not yet")
}

/// `GET /m/qr.svg?t=TOKEN`: the member's referral QR code.
pub(crate) async fn qr(
    State(_server): State<Shared>,
    _headers: HeaderMap,
    Query(query): Query<HashMap<String, String>>,
) -> Response {
    error_page(Lang::from_query(&query), StatusCode::NOT_FOUND, "not yet")
}
