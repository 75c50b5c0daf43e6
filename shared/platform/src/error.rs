//! The one place errors become HTTP: RFC 9457 problem+json with a stable `type`.

use agencyops_domain::validate::Invalid;
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

    /// The one place a domain field problem becomes what a 400 says about the field.
    pub fn invalid(field: impl Into<String>, why: &Invalid) -> Self {
        FieldError::new(field, why.to_string())
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
    /// 409: the request is valid but the resource's state refuses it; the reason
    /// picks the problem `type`, so clients branch on it rather than on prose.
    #[error(transparent)]
    Conflict(#[from] Conflict),
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

/// Why a valid request conflicts with the state of what it acts on. Each reason
/// is its own problem `type` (slug and title in [`Conflict::parts`]) and carries
/// the detail shown to the caller.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum Conflict {
    /// The work is closed to changes: approved, invoiced, or in a locked period.
    #[error("{0}")]
    Locked(String),
    /// Another writer changed what this request read (no If-Match was sent, so
    /// it is not a 412); reloading and retrying resolves it.
    #[error("{0}")]
    Changed(String),
    /// The action has nothing left to act on. Keeps the generic `conflict` type,
    /// which clients already match for it.
    #[error("{0}")]
    NothingToDo(String),
    #[error("this {0} already exists")]
    AlreadyExists(&'static str),
    #[error("{0}")]
    AlreadySubmitted(String),
    #[error("{0}")]
    NotSubmitted(String),
    /// An intake request was accepted or declined already.
    #[error("{0}")]
    AlreadyDecided(String),
    /// Invoiced things change only through a credit note.
    #[error("{0}")]
    AlreadyInvoiced(String),
    #[error("someone with this email already exists in your agency")]
    EmailTaken,
    #[error("the client's currency cannot change once it has projects: their rates and budgets are in it")]
    HasProjects,
    #[error("the project is closed; reopen it before changing work on it")]
    ProjectClosed,
    #[error("a timer is already running; stop it first, or start with \"switch\": true")]
    TimerRunning,
    /// A timer ran past a day, so its minutes cannot be one entry.
    #[error("{0}")]
    TimerTooLong(String),
    /// The day cannot take more time: it would pass 24 hours.
    #[error("{0}")]
    DayFull(String),
    /// A week action is still pending on the week; repeating it finishes it.
    #[error("{0}")]
    JobInProgress(String),
    /// Storage refused the object (e.g. its key collides with another's).
    #[error("{0}")]
    StorageRefused(String),
    /// Only a draft invoice changes; an issued one changes by credit note.
    #[error("{0}")]
    NotADraft(String),
    /// A large draft is still claiming its work; it cannot be issued or edited yet.
    #[error("the draft is still being built from its work; try again when its status is draft")]
    StillBuilding,
    /// A payment or credit above what is still owed.
    #[error("{0}")]
    ExceedsBalance(String),
    /// The invoice is not in a state that takes this (e.g. a payment on a draft or a void invoice).
    #[error("{0}")]
    InvoiceClosed(String),
}

impl Conflict {
    /// Stable problem type slug and title.
    pub fn parts(&self) -> (&'static str, &'static str) {
        use Conflict::*;
        match self {
            Locked(_) => ("locked", "Locked"),
            Changed(_) => ("changed-concurrently", "Changed concurrently"),
            NothingToDo(_) => ("conflict", "Conflict"),
            AlreadyExists(_) => ("already-exists", "Already exists"),
            AlreadySubmitted(_) => ("already-submitted", "Already submitted"),
            NotSubmitted(_) => ("not-submitted", "Not submitted"),
            AlreadyDecided(_) => ("already-decided", "Already decided"),
            AlreadyInvoiced(_) => ("already-invoiced", "Already invoiced"),
            EmailTaken => ("email-taken", "Email taken"),
            HasProjects => ("has-projects", "Client has projects"),
            ProjectClosed => ("project-closed", "Project closed"),
            TimerRunning => ("timer-running", "Timer running"),
            TimerTooLong(_) => ("timer-too-long", "Timer ran too long"),
            DayFull(_) => ("day-full", "Day full"),
            JobInProgress(_) => ("job-in-progress", "Change in progress"),
            StorageRefused(_) => ("storage-refused", "Storage refused"),
            NotADraft(_) => ("not-a-draft", "Not a draft"),
            StillBuilding => ("still-building", "Still building"),
            ExceedsBalance(_) => ("exceeds-balance", "Exceeds the balance due"),
            InvoiceClosed(_) => ("invoice-closed", "Invoice closed"),
        }
    }
}

impl ApiError {
    pub fn forbidden(why: impl Into<String>) -> Self {
        ApiError::Forbidden(why.into())
    }
    /// 409 because the work is closed to changes.
    pub fn locked(why: impl Into<String>) -> Self {
        Conflict::Locked(why.into()).into()
    }
    /// 409 because someone else changed it meanwhile.
    pub fn changed(why: impl Into<String>) -> Self {
        Conflict::Changed(why.into()).into()
    }
    pub fn field(field: impl Into<String>, message: impl Into<String>) -> Self {
        ApiError::Validation(vec![FieldError::new(field, message)])
    }

    /// A 400 for one field a domain validator refused.
    pub fn invalid(field: impl Into<String>, why: Invalid) -> Self {
        ApiError::Validation(vec![FieldError::invalid(field, &why)])
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
            Conflict(reason) => {
                let (slug, title) = reason.parts();
                (StatusCode::CONFLICT, slug, title)
            }
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
                Conflict::Changed("the resource was changed concurrently; retry".into()).into()
            }
            StoreError::ItemTooLarge(_) => ApiError::PayloadTooLarge,
            // Never answered: `caller_record::middleware` drops the response.
            StoreError::Abandoned => {
                Conflict::Changed("the caller's record changed; the request runs again".into())
                    .into()
            }
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
    /// Keeps what a domain validator accepted, or records why it refused on `field`.
    pub fn check<T>(&mut self, field: impl Into<String>, result: Result<T, Invalid>) -> Option<T> {
        match result {
            Ok(v) => Some(v),
            Err(why) => {
                self.0.push(FieldError::invalid(field, &why));
                None
            }
        }
    }
    pub fn add(&mut self, field: impl Into<String>, message: impl Into<String>) {
        self.0.push(FieldError::new(field, message));
    }
    /// Adds problems reported relative to `prefix` (e.g. by a domain type).
    pub fn nest(&mut self, prefix: &str, problems: Vec<(String, Invalid)>) {
        for (f, why) in problems {
            self.0
                .push(FieldError::invalid(format!("{prefix}.{f}"), &why));
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

#[cfg(test)]
mod tests {
    use super::*;

    async fn problem(e: ApiError) -> (u16, serde_json::Value) {
        let res = e.into_response();
        let status = res.status().as_u16();
        let body = axum::body::to_bytes(res.into_body(), usize::MAX)
            .await
            .unwrap_or_default();
        (status, serde_json::from_slice(&body).unwrap_or_default())
    }

    /// Every conflict reason, its problem type and status: clients match these,
    /// so a change here is a breaking API change.
    #[tokio::test]
    async fn each_conflict_reason_has_its_own_stable_type() {
        let s = || "why".to_owned();
        let cases = [
            (Conflict::Locked(s()), "locked"),
            (Conflict::Changed(s()), "changed-concurrently"),
            (Conflict::NothingToDo(s()), "conflict"),
            (Conflict::AlreadyExists("client"), "already-exists"),
            (Conflict::AlreadySubmitted(s()), "already-submitted"),
            (Conflict::NotSubmitted(s()), "not-submitted"),
            (Conflict::AlreadyDecided(s()), "already-decided"),
            (Conflict::AlreadyInvoiced(s()), "already-invoiced"),
            (Conflict::EmailTaken, "email-taken"),
            (Conflict::HasProjects, "has-projects"),
            (Conflict::ProjectClosed, "project-closed"),
            (Conflict::TimerRunning, "timer-running"),
            (Conflict::TimerTooLong(s()), "timer-too-long"),
            (Conflict::DayFull(s()), "day-full"),
            (Conflict::JobInProgress(s()), "job-in-progress"),
            (Conflict::StorageRefused(s()), "storage-refused"),
        ];
        for (reason, slug) in cases {
            let detail = reason.to_string();
            let (status, body) = problem(reason.into()).await;
            assert_eq!(status, 409, "{slug}");
            assert_eq!(body["type"], format!("{PROBLEM_BASE}{slug}"));
            assert_eq!(body["status"], 409);
            assert_eq!(body["detail"], detail, "{slug}");
        }
        let (_, body) = problem(Conflict::AlreadyExists("client").into()).await;
        assert_eq!(body["detail"], "this client already exists");
    }

    #[tokio::test]
    async fn other_errors_keep_their_status_and_type() {
        let cases = [
            (ApiError::field("a", "b"), 400, "validation"),
            (ApiError::BadRequest("x".into()), 400, "bad-request"),
            (ApiError::Unauthenticated, 401, "unauthenticated"),
            (ApiError::forbidden("x"), 403, "forbidden"),
            (ApiError::NotFound("client"), 404, "not-found"),
            (ApiError::PreconditionFailed, 412, "stale-version"),
            (ApiError::IdempotencyMismatch, 422, "idempotency-key-reuse"),
            (
                ApiError::IdempotencyInProgress,
                409,
                "idempotency-in-progress",
            ),
            (ApiError::MethodNotAllowed, 405, "method-not-allowed"),
            (ApiError::PayloadTooLarge, 413, "payload-too-large"),
            (
                ApiError::UnsupportedMediaType,
                415,
                "unsupported-media-type",
            ),
            (ApiError::Internal("boom".into()), 500, "internal"),
        ];
        for (e, want, slug) in cases {
            let (status, body) = problem(e).await;
            assert_eq!(status, want, "{slug}");
            assert_eq!(body["type"], format!("{PROBLEM_BASE}{slug}"));
        }
    }

    #[test]
    fn a_lost_race_in_the_store_is_a_concurrent_change() {
        let e = ApiError::from(StoreError::Conflict);
        assert!(matches!(e, ApiError::Conflict(Conflict::Changed(_))));
        assert_eq!(e.status(), StatusCode::CONFLICT);
    }
}
