//! The one place errors become HTTP: RFC 9457 problem+json with a stable `type`.

use agencyops_store::StoreError;
use axum::http::{header, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use serde::Serialize;

/// A problem with one field of the request, for 400 responses.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, utoipa::ToSchema)]
pub struct FieldError {
    /// Where in the request, e.g. `rate_card.by_person[0].rate` or `query.limit`.
    pub field: String,
    pub message: String,
}

impl FieldError {
    pub fn new(field: impl Into<String>, message: impl Into<String>) -> Self {
        FieldError {
            field: field.into(),
            message: message.into(),
        }
    }
}

#[derive(Debug, thiserror::Error)]
pub enum ApiError {
    #[error("the request has invalid fields")]
    Validation(Vec<FieldError>),
    #[error("the request body is not acceptable: {detail}")]
    BadBody {
        detail: String,
        field: Option<String>,
    },
    #[error("{0}")]
    BadRequest(String),
    #[error("missing or invalid credentials")]
    Unauthenticated,
    #[error("{0}")]
    Forbidden(String),
    #[error("{0} not found")]
    NotFound(&'static str),
    #[error("{0}")]
    Conflict(String),
    /// The work is closed to changes: approved, invoiced, or in a locked period.
    #[error("{0}")]
    Locked(String),
    #[error("the resource changed since it was read (If-Match did not match)")]
    PreconditionFailed,
    #[error("this Idempotency-Key was used for a different request")]
    IdempotencyMismatch,
    #[error("a request with this Idempotency-Key is still in progress")]
    IdempotencyInProgress,
    #[error("method not allowed")]
    MethodNotAllowed,
    #[error("request body too large")]
    PayloadTooLarge,
    #[error("unsupported media type: send application/json")]
    UnsupportedMediaType,
    #[error("internal error")]
    Internal(String),
}

pub type ApiResult<T> = Result<T, ApiError>;

impl ApiError {
    pub fn forbidden(why: impl Into<String>) -> Self {
        ApiError::Forbidden(why.into())
    }
    pub fn field(field: impl Into<String>, message: impl Into<String>) -> Self {
        ApiError::Validation(vec![FieldError::new(field, message)])
    }

    /// Status, stable problem type slug, and title.
    fn parts(&self) -> (StatusCode, &'static str, &'static str) {
        use ApiError::*;
        match self {
            Validation(_) => (StatusCode::BAD_REQUEST, "validation", "Invalid fields"),
            BadBody { .. } => (
                StatusCode::BAD_REQUEST,
                "malformed-body",
                "Malformed request body",
            ),
            BadRequest(_) => (StatusCode::BAD_REQUEST, "bad-request", "Bad request"),
            Unauthenticated => (
                StatusCode::UNAUTHORIZED,
                "unauthenticated",
                "Unauthenticated",
            ),
            Forbidden(_) => (StatusCode::FORBIDDEN, "forbidden", "Forbidden"),
            NotFound(_) => (StatusCode::NOT_FOUND, "not-found", "Not found"),
            Conflict(_) => (StatusCode::CONFLICT, "conflict", "Conflict"),
            Locked(_) => (StatusCode::CONFLICT, "locked", "Locked"),
            PreconditionFailed => (
                StatusCode::PRECONDITION_FAILED,
                "stale-version",
                "Precondition failed",
            ),
            IdempotencyMismatch => (
                StatusCode::UNPROCESSABLE_ENTITY,
                "idempotency-key-reuse",
                "Idempotency-Key reused",
            ),
            IdempotencyInProgress => (
                StatusCode::CONFLICT,
                "idempotency-in-progress",
                "Request in progress",
            ),
            MethodNotAllowed => (
                StatusCode::METHOD_NOT_ALLOWED,
                "method-not-allowed",
                "Method not allowed",
            ),
            PayloadTooLarge => (
                StatusCode::PAYLOAD_TOO_LARGE,
                "payload-too-large",
                "Payload too large",
            ),
            UnsupportedMediaType => (
                StatusCode::UNSUPPORTED_MEDIA_TYPE,
                "unsupported-media-type",
                "Unsupported media type",
            ),
            Internal(_) => (
                StatusCode::INTERNAL_SERVER_ERROR,
                "internal",
                "Internal error",
            ),
        }
    }

    pub fn status(&self) -> StatusCode {
        self.parts().0
    }
}

pub const PROBLEM_BASE: &str = "https://agencyops.dev/problems/";

/// The RFC 9457 body.
#[derive(Serialize, utoipa::ToSchema)]
pub struct Problem {
    #[serde(rename = "type")]
    pub kind: String,
    pub title: String,
    pub status: u16,
    pub detail: String,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub errors: Vec<FieldError>,
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let (status, slug, title) = self.parts();
        if let ApiError::Internal(why) = &self {
            // The cause goes to the log, never to the caller.
            tracing::error!(error = %why, "internal error");
        }
        let errors = match &self {
            ApiError::Validation(errs) => errs.clone(),
            ApiError::BadBody {
                field: Some(f),
                detail,
            } => vec![FieldError::new(f.clone(), detail.clone())],
            _ => Vec::new(),
        };
        let problem = Problem {
            kind: format!("{PROBLEM_BASE}{slug}"),
            title: title.to_owned(),
            status: status.as_u16(),
            detail: self.to_string(),
            errors,
        };
        let body = serde_json::to_vec(&problem).unwrap_or_default();
        let mut res = (status, body).into_response();
        res.headers_mut().insert(
            header::CONTENT_TYPE,
            HeaderValue::from_static("application/problem+json"),
        );
        res
    }
}

impl From<StoreError> for ApiError {
    fn from(e: StoreError) -> Self {
        match e {
            // Operations that expect a condition to fail map it themselves; one that
            // reaches here lost a race with another writer.
            StoreError::ConditionFailed { .. } | StoreError::Conflict => {
                ApiError::Conflict("the resource was changed concurrently; retry".into())
            }
            StoreError::ItemTooLarge(_) => ApiError::PayloadTooLarge,
            // Only a cursor supplies a start key from outside.
            StoreError::StartOutsideQuery => {
                ApiError::field("query.cursor", "is not a cursor this list issued")
            }
            other => ApiError::Internal(other.to_string()),
        }
    }
}

/// 404 for routes nobody mounted, in the same problem shape (405 is its sibling in `http`).
pub async fn fallback() -> ApiError {
    ApiError::NotFound("route")
}

/// Collects every field problem of a request so the caller sees them all at once.
#[derive(Default, Debug)]
pub struct Problems(Vec<FieldError>);

impl Problems {
    pub fn new() -> Self {
        Problems::default()
    }
    pub fn check<T>(&mut self, field: impl Into<String>, result: Result<T, String>) -> Option<T> {
        match result {
            Ok(v) => Some(v),
            Err(m) => {
                self.0.push(FieldError::new(field, m));
                None
            }
        }
    }
    pub fn add(&mut self, field: impl Into<String>, message: impl Into<String>) {
        self.0.push(FieldError::new(field, message));
    }
    /// Adds problems reported relative to `prefix` (e.g. by a domain type).
    pub fn nest(&mut self, prefix: &str, problems: Vec<(String, String)>) {
        for (f, m) in problems {
            self.add(format!("{prefix}.{f}"), m);
        }
    }
    pub fn finish(self) -> ApiResult<()> {
        if self.0.is_empty() {
            Ok(())
        } else {
            Err(ApiError::Validation(self.0))
        }
    }
}
