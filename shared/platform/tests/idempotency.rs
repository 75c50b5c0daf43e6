//! Idempotency-Key as a client retrying over a flaky network sees it.

use std::collections::HashMap;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;

use agencyops_platform::caller::{VerifiedClaims, CLAIM_PERSON, CLAIM_ROLE, CLAIM_TENANT};
use agencyops_platform::clock::ManualClock;
use agencyops_platform::Services;
use agencyops_store::EmbeddedTable;
use axum::body::Body;
use axum::http::{Request, StatusCode};
use axum::routing::post;
use axum::{Extension, Router};
use http_body_util::BodyExt;
use jiff::{SignedDuration, Timestamp};
use tokio::sync::Semaphore;
use tower::ServiceExt;

#[derive(Clone)]
struct Probe {
    calls: Arc<AtomicUsize>,
    /// The first `held` calls wait for a permit, so a test can hold a request in flight.
    held: usize,
    gate: Arc<Semaphore>,
}

async fn handler(Extension(p): Extension<Probe>, body: String) -> (StatusCode, String) {
    let n = p.calls.fetch_add(1, Ordering::SeqCst) + 1;
    if n <= p.held {
        if let Ok(permit) = p.gate.acquire().await {
            permit.forget();
        }
    }
    if body.contains("explode") {
        return (StatusCode::INTERNAL_SERVER_ERROR, "boom".into());
    }
    (StatusCode::CREATED, format!("{{\"call\":{n}}}"))
}

struct Harness {
    app: Router,
    probe: Probe,
    clock: ManualClock,
    _dir: tempfile::TempDir,
}

fn harness(held: usize) -> Harness {
    let dir = tempfile::tempdir().expect("tempdir");
    let clock = ManualClock::at(Timestamp::from_second(1_800_000_000).expect("ts"));
    let (mut services, _queue) = Services::embedded(
        EmbeddedTable::open(&dir.path().join("s.db")).expect("store"),
        Arc::new(clock.clone()),
        b"k".to_vec(),
    )
    .expect("services");
    services.idempotency_ttl_secs = 3600;
    let probe = Probe {
        calls: Arc::new(AtomicUsize::new(0)),
        held,
        gate: Arc::new(Semaphore::new(0)),
    };
    let routes = Router::new().route("/things", post(handler));
    let app =
        agencyops_platform::http::finish(routes, services, "test").layer(Extension(probe.clone()));
    Harness {
        app,
        probe,
        clock,
        _dir: dir,
    }
}

async fn send(app: &Router, key: &str, body: &str) -> (StatusCode, String, Option<String>) {
    send_body(app, key, Body::from(body.to_owned())).await
}

async fn send_body(app: &Router, key: &str, body: Body) -> (StatusCode, String, Option<String>) {
    let mut req = Request::post("/things")
        .header("idempotency-key", key)
        .header("content-type", "application/json")
        .body(body)
        .expect("request");
    req.extensions_mut().insert(VerifiedClaims(HashMap::from([
        (CLAIM_TENANT.to_owned(), "acme".to_owned()),
        (CLAIM_PERSON.to_owned(), "ana".to_owned()),
        (CLAIM_ROLE.to_owned(), "admin".to_owned()),
    ])));
    let res = app.clone().oneshot(req).await.expect("infallible");
    let status = res.status();
    let replayed = res
        .headers()
        .get("idempotent-replayed")
        .and_then(|v| v.to_str().ok())
        .map(str::to_owned);
    assert!(
        res.headers().contains_key("x-request-id"),
        "every response carries a request id"
    );
    let body = String::from_utf8_lossy(&res.into_body().collect().await.expect("body").to_bytes())
        .into_owned();
    (status, body, replayed)
}

#[tokio::test]
async fn a_key_is_forgotten_after_its_ttl() {
    let h = harness(0);
    assert_eq!(send(&h.app, "k", "{\"a\":1}").await.0, StatusCode::CREATED);
    assert_eq!(
        send(&h.app, "k", "{\"a\":2}").await.0,
        StatusCode::UNPROCESSABLE_ENTITY
    );
    h.clock.advance(SignedDuration::from_secs(3601));
    let (status, body, replayed) = send(&h.app, "k", "{\"a\":2}").await;
    assert_eq!((status, replayed), (StatusCode::CREATED, None));
    assert_eq!(body, "{\"call\":2}");
    assert_eq!(h.probe.calls.load(Ordering::SeqCst), 2);
}

#[tokio::test]
async fn a_retry_while_the_first_is_in_flight_is_409_then_replays() {
    let h = harness(1);
    let app = h.app.clone();
    let first = tokio::spawn(async move { send(&app, "k", "{}").await });
    while h.probe.calls.load(Ordering::SeqCst) == 0 {
        tokio::task::yield_now().await;
    }
    let (status, body, _) = send(&h.app, "k", "{}").await;
    assert_eq!(status, StatusCode::CONFLICT, "{body}");
    assert!(body.contains("idempotency-in-progress"));
    h.probe.gate.add_permits(10);
    let (status, body, _) = first.await.expect("first request");
    assert_eq!(
        (status, body.as_str()),
        (StatusCode::CREATED, "{\"call\":1}")
    );
    let (status, body, replayed) = send(&h.app, "k", "{}").await;
    assert_eq!(
        (status, body.as_str(), replayed.as_deref()),
        (StatusCode::CREATED, "{\"call\":1}", Some("true"))
    );
    assert_eq!(
        h.probe.calls.load(Ordering::SeqCst),
        1,
        "the handler ran once"
    );
}

#[tokio::test]
async fn a_crashed_attempt_stops_blocking_after_its_lease() {
    let h = harness(1);
    let app = h.app.clone();
    // The first attempt hangs forever (a crashed container, as far as the client knows).
    let hung = tokio::spawn(async move { send(&app, "k", "{}").await });
    while h.probe.calls.load(Ordering::SeqCst) == 0 {
        tokio::task::yield_now().await;
    }
    h.clock.advance(SignedDuration::from_secs(61));
    let (status, body, replayed) = send(&h.app, "k", "{}").await;
    assert_eq!((status, replayed), (StatusCode::CREATED, None), "{body}");
    assert_eq!(body, "{\"call\":2}");
    hung.abort();
}

#[tokio::test]
async fn server_errors_are_not_remembered_so_the_client_can_retry() {
    let h = harness(0);
    assert_eq!(
        send(&h.app, "k", "explode").await.0,
        StatusCode::INTERNAL_SERVER_ERROR
    );
    assert_eq!(
        send(&h.app, "k", "explode").await.0,
        StatusCode::INTERNAL_SERVER_ERROR
    );
    assert_eq!(h.probe.calls.load(Ordering::SeqCst), 2);
}

#[tokio::test]
async fn keys_must_be_sane() {
    let h = harness(0);
    let long = "x".repeat(300);
    let (status, body, _) = send(&h.app, &long, "{}").await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{body}");
    assert_eq!(h.probe.calls.load(Ordering::SeqCst), 0);
}

/// A request body whose connection broke off after the headers.
struct BrokenOff;

impl http_body::Body for BrokenOff {
    type Data = bytes::Bytes;
    type Error = std::io::Error;

    fn poll_frame(
        self: std::pin::Pin<&mut Self>,
        _: &mut std::task::Context<'_>,
    ) -> std::task::Poll<Option<Result<http_body::Frame<bytes::Bytes>, std::io::Error>>> {
        std::task::Poll::Ready(Some(Err(std::io::Error::new(
            std::io::ErrorKind::ConnectionReset,
            "connection reset by peer",
        ))))
    }
}

#[tokio::test]
async fn a_body_that_cannot_be_read_is_a_400_and_only_a_large_one_a_413() {
    let h = harness(0);
    let (status, body, _) = send_body(&h.app, "k", Body::new(BrokenOff)).await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{body}");
    assert!(body.contains("problems/bad-request"), "{body}");
    assert!(body.contains("could not be read"), "{body}");
    let big = format!(
        "{{\"a\":\"{}\"}}",
        "x".repeat(agencyops_platform::extract::MAX_BODY)
    );
    let (status, body, _) = send(&h.app, "k2", &big).await;
    assert_eq!(status, StatusCode::PAYLOAD_TOO_LARGE, "{body}");
    assert_eq!(
        h.probe.calls.load(Ordering::SeqCst),
        0,
        "the handler never ran"
    );
    // The key was not burnt by either: a sound retry goes through.
    assert_eq!(send(&h.app, "k", "{}").await.0, StatusCode::CREATED);
}
