//! What every HTTP function's router gets around it: problem+json fallbacks,
//! request ids, a request span for logs, body limits and idempotency.

use axum::extract::DefaultBodyLimit;
use axum::http::{HeaderName, Request};
use axum::middleware::from_fn_with_state;
use axum::Router;
use tower_http::request_id::{MakeRequestUuid, PropagateRequestIdLayer, SetRequestIdLayer};
use tower_http::trace::{DefaultOnResponse, TraceLayer};
use tracing::Level;

use std::sync::Arc;

use crate::caller_record::{self, CallerCheckedTable};
use crate::error::{fallback, ApiError};
use crate::extract::MAX_BODY;
use crate::idempotency;
use crate::services::Services;

const REQUEST_ID: HeaderName = HeaderName::from_static("x-request-id");

/// Wraps a function's routes with the cross-cutting layers and its state.
pub fn finish(routes: Router<Services>, mut services: Services, function: &'static str) -> Router {
    // Requests read their caller's record with their first read.
    services.table = Arc::new(CallerCheckedTable::new(services.table));
    routes
        .fallback(fallback)
        .method_not_allowed_fallback(|| async { ApiError::MethodNotAllowed })
        .layer(from_fn_with_state(
            services.clone(),
            idempotency::middleware,
        ))
        .layer(from_fn_with_state(
            services.clone(),
            caller_record::middleware,
        ))
        .layer(DefaultBodyLimit::max(MAX_BODY))
        .layer(
            TraceLayer::new_for_http()
                // One line per request at info: status, latency, and the span's ids.
                .on_response(DefaultOnResponse::new().level(Level::INFO))
                .make_span_with(move |req: &Request<_>| {
                    let request_id = req
                        .headers()
                        .get(&REQUEST_ID)
                        .and_then(|v| v.to_str().ok())
                        .unwrap_or("");
                    tracing::info_span!(
                        "request",
                        function,
                        request_id,
                        method = %req.method(),
                        path = %req.uri().path(),
                        tenant = tracing::field::Empty,
                    )
                }),
        )
        .layer(PropagateRequestIdLayer::new(REQUEST_ID))
        .layer(SetRequestIdLayer::new(REQUEST_ID, MakeRequestUuid))
        .with_state(services)
}
