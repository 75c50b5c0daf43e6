//! `cargo bench -p agencyops-intake`: latency of the intake API in-process over the
//! embedded SQLite store (no network), printed as the README's table. The goals
//! are what keeps the local host and tests snappy; Lambda latency is DynamoDB's.

use std::collections::HashMap;
use std::sync::Arc;

use agencyops_apitest::bench::{measure, report};
use agencyops_platform::caller::{VerifiedClaims, CLAIM_PERSON, CLAIM_ROLE, CLAIM_TENANT};
use agencyops_platform::clock::SystemClock;
use agencyops_platform::Services;
use agencyops_store::{EmbeddedTable, Key, Write};
use axum::body::Body;
use axum::http::Request;
use http_body_util::BodyExt;
use serde_json::{json, Value};
use tower::ServiceExt;

fn claims() -> VerifiedClaims {
    VerifiedClaims(HashMap::from([
        (CLAIM_TENANT.to_owned(), "bench".to_owned()),
        (CLAIM_PERSON.to_owned(), "boss".to_owned()),
        (CLAIM_ROLE.to_owned(), "admin".to_owned()),
    ]))
}

async fn call(
    app: &axum::Router,
    method: &str,
    path: &str,
    body: Option<Value>,
    key: Option<&str>,
) -> (u16, Value) {
    let mut req = Request::builder().method(method).uri(path);
    if body.is_some() {
        req = req.header("content-type", "application/json");
    }
    if let Some(k) = key {
        req = req.header("idempotency-key", k);
    }
    let mut req = req
        .body(
            body.map(|b| Body::from(b.to_string()))
                .unwrap_or_else(Body::empty),
        )
        .expect("request");
    req.extensions_mut().insert(claims());
    let res = app.clone().oneshot(req).await.expect("infallible");
    let status = res.status().as_u16();
    let bytes = res.into_body().collect().await.expect("body").to_bytes();
    (
        status,
        serde_json::from_slice(&bytes).unwrap_or(Value::Null),
    )
}

#[tokio::main]
async fn main() {
    let dir = tempfile::tempdir().expect("tempdir");
    let (services, _queue) = Services::embedded(
        EmbeddedTable::open(&dir.path().join("bench.db")).expect("store"),
        Arc::new(SystemClock),
        b"bench".to_vec(),
    )
    .expect("services");
    let table = services.table.clone();
    let app = agencyops_intake::router(services);
    let n = 500;
    let mut rows = Vec::new();

    rows.push(
        measure(
            "POST /v1/clients (create + audit, one transaction)",
            10,
            n,
            |i| {
                let app = app.clone();
                async move {
                    let (s, _) = call(
                        &app,
                        "POST",
                        "/v1/clients",
                        Some(json!({"name": format!("Client {i}"), "currency": "EUR"})),
                        None,
                    )
                    .await;
                    assert_eq!(s, 201);
                }
            },
        )
        .await,
    );
    rows.push(
        measure(
            "POST /v1/clients with Idempotency-Key (claim + record)",
            15,
            n,
            |i| {
                let app = app.clone();
                async move {
                    let key = format!("k{i}");
                    let (s, _) = call(
                        &app,
                        "POST",
                        "/v1/clients",
                        Some(json!({"name": "Keyed", "currency": "EUR"})),
                        Some(&key),
                    )
                    .await;
                    assert_eq!(s, 201);
                }
            },
        )
        .await,
    );
    let (_, page) = call(&app, "GET", "/v1/clients?limit=1", None, None).await;
    let id = page["items"][0]["id"]
        .as_str()
        .unwrap_or_default()
        .to_owned();
    rows.push(
        measure("GET /v1/clients/{id}", 5, n, |_| {
            let app = app.clone();
            let path = format!("/v1/clients/{id}");
            async move {
                assert_eq!(call(&app, "GET", &path, None, None).await.0, 200);
            }
        })
        .await,
    );
    rows.push(
        measure("GET /v1/clients?limit=50 (of 1000)", 15, n, |_| {
            let app = app.clone();
            async move {
                assert_eq!(
                    call(&app, "GET", "/v1/clients?limit=50", None, None)
                        .await
                        .0,
                    200
                );
            }
        })
        .await,
    );
    rows.push(
        measure(
            "PATCH /v1/clients/{id} (versioned update + audit)",
            10,
            n,
            |i| {
                let app = app.clone();
                let path = format!("/v1/clients/{id}");
                async move {
                    let (s, _) = call(
                        &app,
                        "PATCH",
                        &path,
                        Some(json!({"payment_terms_days": i % 60})),
                        None,
                    )
                    .await;
                    assert_eq!(s, 200);
                }
            },
        )
        .await,
    );
    rows.push(
        measure("Table: 100-write transaction (embedded)", 50, 50, |i| {
            let table = table.clone();
            async move {
                let writes = (0..100)
                    .map(|j| {
                        let mut item = agencyops_store::Item::new();
                        item.insert("pk".into(), json!(format!("T#bench#TX{i}")));
                        item.insert("sk".into(), json!(format!("{j:03}")));
                        Write::put(item)
                    })
                    .collect();
                table.transact(writes).await.expect("transact");
            }
        })
        .await,
    );
    rows.push(
        measure("Table: atomic counter increment (embedded)", 5, n, |_| {
            let table = table.clone();
            async move {
                table
                    .increment(&Key::new("T#bench#COUNTER", "INVOICE#2026"), "next", 1)
                    .await
                    .expect("increment");
            }
        })
        .await,
    );

    report(&rows);
}
