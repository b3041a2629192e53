//! The web pages: the operator console and the member page (H5). Static pages compiled into the
//! binary; they call the JSON API with the key the user gives them.

use axum::Router;

use crate::Shared;

/// The pages' routes (no key needed to load a page; every datum comes from the API).
pub fn routes() -> Router<Shared> {
    Router::new()
}
