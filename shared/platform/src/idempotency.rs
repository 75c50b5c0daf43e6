//! `Idempotency-Key` on POST. The first response to a key is stored and replayed
//! for the same request; the same key with a different request is a 422. A
//! record is scoped to tenant and person, expires after the configured TTL, and
//! a crashed attempt's claim lapses after a short lease so a retry can proceed.

use agencyops_store::{keys, Condition, Item, StoreError, Write, TTL};
use axum::body::{to_bytes, Body};
use axum::extract::{Request, State};
use axum::http::{HeaderName, HeaderValue, Method, StatusCode};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use serde_json::{json, Value};
use sha2::{Digest, Sha256};

use crate::caller::Caller;
use crate::error::ApiError;
use crate::extract::{read_body, MAX_BODY};
use crate::services::Services;

pub const HEADER: &str = "idempotency-key";
/// Set on a response that is a replay of the first one.
pub const REPLAYED: &str = "idempotent-replayed";
/// How long an in-flight claim blocks retries before it is presumed crashed.
const LEASE_SECS: i64 = 60;
/// Response headers worth replaying.
const KEPT_HEADERS: &[&str] = &["content-type", "etag", "location"];

fn hex_sha256(parts: &[&[u8]]) -> String {
    let mut h = Sha256::new();
    for p in parts {
        h.update((p.len() as u64).to_be_bytes());
        h.update(p);
    }
    hex::encode(h.finalize())
}

pub async fn middleware(State(services): State<Services>, req: Request, next: Next) -> Response {
    match run(services, req, next).await {
        Ok(r) => r,
        Err(e) => e.into_response(),
    }
}

async fn run(services: Services, req: Request, next: Next) -> Result<Response, ApiError> {
    if req.method() != Method::POST {
        return Ok(next.run(req).await);
    }
    let Some(raw_key) = req.headers().get(HEADER) else {
        return Ok(next.run(req).await);
    };
    let idem_key = raw_key
        .to_str()
        .ok()
        .filter(|k| !k.is_empty() && k.len() <= 255)
        .ok_or_else(|| {
            ApiError::field(
                "header.Idempotency-Key",
                "must be 1 to 255 visible ASCII characters",
            )
        })?
        .to_owned();
    let (mut parts, body) = req.into_parts();
    let caller = Caller::resolve(&mut parts, &services).await?;
    let bytes = read_body(body, MAX_BODY).await?;

    // If-Match is part of the request: a retry after reloading is a new request.
    let if_match = parts
        .headers
        .get(axum::http::header::IF_MATCH)
        .map(|v| v.as_bytes())
        .unwrap_or(b"");
    let fingerprint = hex_sha256(&[
        parts.method.as_str().as_bytes(),
        parts.uri.path().as_bytes(),
        parts.uri.query().unwrap_or("").as_bytes(),
        if_match,
        &bytes,
    ]);
    let record_key = keys::idempotency(
        &caller.tenant,
        &hex_sha256(&[caller.person.as_bytes(), idem_key.as_bytes()]),
    );
    let now = services.clock.now().as_second();

    // Claim the key, or learn what an earlier request with it did.
    let mut claim = Item::new();
    claim.insert("pk".into(), json!(record_key.pk));
    claim.insert("sk".into(), json!(record_key.sk));
    claim.insert("state".into(), json!("pending"));
    claim.insert("fingerprint".into(), json!(fingerprint));
    claim.insert("lease_until".into(), json!(now + LEASE_SECS));
    claim.insert(
        "expires_at".into(),
        json!(now + services.idempotency_ttl_secs),
    );
    claim.insert(TTL.into(), json!(now + services.idempotency_ttl_secs));

    let existing = services.table.get(&record_key).await?;
    let condition = match &existing {
        None => Condition::NotExists,
        Some(prev) => {
            let expired = prev.get("expires_at").and_then(Value::as_i64).unwrap_or(0) <= now;
            let lapsed = prev.get("state") == Some(&json!("pending"))
                && prev.get("lease_until").and_then(Value::as_i64).unwrap_or(0) <= now;
            if !expired {
                if prev.get("fingerprint") != Some(&json!(fingerprint)) {
                    return Err(ApiError::IdempotencyMismatch);
                }
                if prev.get("state") == Some(&json!("done")) {
                    return Ok(replay(prev));
                }
                if !lapsed {
                    return Err(ApiError::IdempotencyInProgress);
                }
            }
            // Take over an expired record or a crashed attempt, but only if nobody else just did.
            Condition::AttrEquals(
                "lease_until".into(),
                prev.get("lease_until").cloned().unwrap_or(Value::Null),
            )
        }
    };
    match services
        .table
        .transact(vec![Write::put_if(claim.clone(), condition)])
        .await
    {
        Ok(()) => {}
        Err(StoreError::ConditionFailed { .. }) => return Err(ApiError::IdempotencyInProgress),
        Err(e) => return Err(e.into()),
    }

    let response = next
        .run(Request::from_parts(parts, Body::from(bytes)))
        .await;
    let status = response.status();
    if !remembered(status) {
        // A passing condition: let the client retry with the same key.
        let _ = services
            .table
            .transact(vec![Write::Delete {
                key: record_key,
                condition: None,
            }])
            .await;
        return Ok(response);
    }
    let (rparts, rbody) = response.into_parts();
    let rbytes = to_bytes(rbody, usize::MAX)
        .await
        .map_err(|e| ApiError::Internal(e.to_string()))?;
    let mut done = claim;
    done.insert("state".into(), json!("done"));
    done.insert("status".into(), json!(status.as_u16()));
    done.insert("body".into(), json!(String::from_utf8_lossy(&rbytes)));
    let headers: serde_json::Map<String, Value> = KEPT_HEADERS
        .iter()
        .filter_map(|h| {
            rparts
                .headers
                .get(*h)
                .and_then(|v| v.to_str().ok())
                .map(|v| ((*h).to_owned(), json!(v)))
        })
        .collect();
    done.insert("headers".into(), Value::Object(headers));
    if let Err(e) = services.table.transact(vec![Write::put(done)]).await {
        // The work is done; failing the response now would invite a retry that
        // repeats it once the claim lapses. Log it and answer truthfully.
        tracing::error!(error = %e, "could not record the idempotent response");
    }
    Ok(Response::from_parts(rparts, Body::from(rbytes)))
}

/// Outcomes worth replaying. Server errors, conflicts, stale versions and
/// throttling are passing conditions a retry with the same key should get past.
fn remembered(status: StatusCode) -> bool {
    !(status.is_server_error()
        || status == StatusCode::CONFLICT
        || status == StatusCode::PRECONDITION_FAILED
        || status == StatusCode::TOO_MANY_REQUESTS)
}

fn replay(record: &Item) -> Response {
    let status = record
        .get("status")
        .and_then(Value::as_u64)
        .and_then(|s| u16::try_from(s).ok())
        .and_then(|s| StatusCode::from_u16(s).ok())
        .unwrap_or(StatusCode::OK);
    let body = record
        .get("body")
        .and_then(Value::as_str)
        .unwrap_or("")
        .to_owned();
    let mut res = (status, body).into_response();
    if let Some(Value::Object(headers)) = record.get("headers") {
        for (k, v) in headers {
            if let (Ok(name), Some(Ok(value))) = (
                HeaderName::from_bytes(k.as_bytes()),
                v.as_str().map(HeaderValue::from_str),
            ) {
                res.headers_mut().insert(name, value);
            }
        }
    }
    res.headers_mut()
        .insert(REPLAYED, HeaderValue::from_static("true"));
    res
}
