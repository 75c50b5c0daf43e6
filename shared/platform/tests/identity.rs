//! Who a request is from. In AWS the JWT authorizer's claims must name a person
//! the agency keeps a record of (or a configured bootstrap admin); the local
//! host's own dev tokens need no record.

use std::collections::HashMap;
use std::sync::Arc;

use agencyops_platform::caller::{
    BootstrapAdmins, VerifiedClaims, CLAIM_PERSON, CLAIM_ROLE, CLAIM_TENANT,
};
use agencyops_platform::clock::SystemClock;
use agencyops_platform::{http, Caller, Services};
use agencyops_store::record;
use agencyops_store::records::Person;
use agencyops_store::EmbeddedTable;
use axum::body::Body;
use axum::routing::get;
use axum::Router;
use http_body_util::BodyExt;
use lambda_http::request::RequestContext;
use serde_json::{json, Value};
use tower::ServiceExt;

struct Host {
    _dir: tempfile::TempDir,
    services: Services,
}

async fn host(bootstrap: &str) -> Host {
    let dir = tempfile::tempdir().expect("tempdir");
    let table = EmbeddedTable::open(&dir.path().join("store.db")).expect("store");
    let (mut services, _queue) =
        Services::embedded(table, Arc::new(SystemClock), b"identity-test".to_vec())
            .expect("services");
    services.bootstrap_admins = BootstrapAdmins::parse(bootstrap).expect("bootstrap list");
    let rui: Person = serde_json::from_value(json!({
        "id": "rui", "name": "Rui", "email": "rui@acme.example", "role": "manager",
        "job_role": null, "cost_rate": null, "default_bill_rate": null,
        "weekly_capacity_hours": "40", "time_zone": "Europe/Lisbon", "client_id": null,
        "active": true, "version": 1,
        "created_at": "2026-11-01T09:00:00Z", "updated_at": "2026-11-01T09:00:00Z"
    }))
    .expect("person");
    services
        .table
        .transact(vec![record::create("acme", &rui).expect("item")])
        .await
        .expect("store rui");
    Host {
        _dir: dir,
        services,
    }
}

/// Answers with the caller the platform resolved.
fn app(services: &Services) -> Router {
    let routes = Router::new().route(
        "/v1/me",
        get(|caller: Caller| async move {
            axum::Json(json!({"person": caller.person, "role": caller.role.as_str()}))
        }),
    );
    http::finish(routes, services.clone(), "identity-test")
}

fn claims(tenant: &str, person: &str, role: &str) -> HashMap<String, String> {
    HashMap::from([
        (CLAIM_TENANT.to_owned(), tenant.to_owned()),
        (CLAIM_PERSON.to_owned(), person.to_owned()),
        (CLAIM_ROLE.to_owned(), role.to_owned()),
    ])
}

/// A request as `lambda_http` hands it over behind API Gateway's JWT authorizer.
fn from_gateway(claims: HashMap<String, String>) -> axum::http::Request<Body> {
    let context: RequestContext = serde_json::from_value(json!({
        "routeKey": "ANY /v1/me",
        "accountId": "123456789012",
        "stage": "$default",
        "requestId": "r-1",
        "apiId": "api",
        "domainName": "api.example",
        "domainPrefix": "api",
        "time": "20/Nov/2026:09:00:00 +0000",
        "timeEpoch": 1_795_424_400_000_i64,
        "http": {"method": "GET", "path": "/v1/me", "protocol": "HTTP/1.1",
                 "sourceIp": "192.0.2.1", "userAgent": "test"},
        "authorizer": {"jwt": {"claims": claims, "scopes": null}}
    }))
    .expect("an API Gateway v2 request context");
    let mut req = axum::http::Request::get("/v1/me")
        .body(Body::empty())
        .expect("request");
    req.extensions_mut().insert(context);
    req
}

fn from_local_host(claims: HashMap<String, String>) -> axum::http::Request<Body> {
    let mut req = axum::http::Request::get("/v1/me")
        .body(Body::empty())
        .expect("request");
    req.extensions_mut().insert(VerifiedClaims(claims));
    req
}

async fn send(app: &Router, req: axum::http::Request<Body>) -> (u16, String, Value) {
    let res = app.clone().oneshot(req).await.expect("infallible");
    let status = res.status().as_u16();
    let content_type = res
        .headers()
        .get("content-type")
        .and_then(|v| v.to_str().ok())
        .unwrap_or("")
        .to_owned();
    let bytes = res.into_body().collect().await.expect("body").to_bytes();
    (
        status,
        content_type,
        serde_json::from_slice(&bytes).unwrap_or(Value::Null),
    )
}

#[tokio::test]
async fn in_aws_a_token_naming_no_person_of_the_agency_is_refused() {
    let h = host("").await;
    let (status, content_type, body) = send(
        &app(&h.services),
        from_gateway(claims("acme", "ghost", "admin")),
    )
    .await;
    assert_eq!(status, 401, "{body}");
    assert_eq!(content_type, "application/problem+json");
    assert_eq!(
        body["type"],
        "https://agencyops.dev/problems/unauthenticated"
    );
    // The same person id in another tenant is no one either.
    let (status, _, _) = send(
        &app(&h.services),
        from_gateway(claims("globex", "rui", "admin")),
    )
    .await;
    assert_eq!(status, 401);
}

#[tokio::test]
async fn in_aws_a_known_person_is_who_their_record_says() {
    let h = host("").await;
    // The token claims admin; the agency's record says manager, and wins.
    let (status, _, body) = send(
        &app(&h.services),
        from_gateway(claims("acme", "rui", "admin")),
    )
    .await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body, json!({"person": "rui", "role": "manager"}));
}

#[tokio::test]
async fn in_aws_only_the_configured_bootstrap_admin_needs_no_record() {
    let h = host("acme:ana, globex:gus").await;
    let app = app(&h.services);
    let (status, _, body) = send(&app, from_gateway(claims("acme", "ana", "admin"))).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body, json!({"person": "ana", "role": "admin"}));
    // Named for one tenant only.
    let (status, _, _) = send(&app, from_gateway(claims("globex", "ana", "admin"))).await;
    assert_eq!(status, 401);
    let (status, _, _) = send(&app, from_gateway(claims("acme", "gus", "admin"))).await;
    assert_eq!(status, 401);
}

#[tokio::test]
async fn the_local_hosts_dev_tokens_need_no_person_record() {
    let h = host("").await;
    let (status, _, body) = send(
        &app(&h.services),
        from_local_host(claims("acme", "ghost", "admin")),
    )
    .await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body, json!({"person": "ghost", "role": "admin"}));
    // A record still decides the role there too.
    let (_, _, body) = send(
        &app(&h.services),
        from_local_host(claims("acme", "rui", "admin")),
    )
    .await;
    assert_eq!(body["role"], "manager");
}

/// The caller's record rides with a request's first read and is never
/// handed to an operation that did not ask for it: a batch read of other
/// keys answers only those, one that names the caller's own record keeps
/// it, and either way the request costs that one call.
#[tokio::test]
async fn the_callers_record_rides_with_the_first_read_and_only_shows_when_asked_for() {
    use agencyops_store::counting::{counted, CountingTable};
    use agencyops_store::{keys, Key};
    use axum::extract::State;
    let h = host("").await;
    let mut services = h.services.clone();
    services.table = Arc::new(CountingTable::new(services.table.clone()));
    let read = |asked: Vec<Key>| {
        move |_caller: Caller, State(s): State<Services>| async move {
            let items = s.table.batch_get(&asked).await.expect("read");
            let sks: Vec<Value> = items.iter().map(|i| i["sk"].clone()).collect();
            axum::Json(json!(sks))
        }
    };
    let own = keys::person("acme", "rui");
    let elsewhere = Key::new("T#acme#NOTHING", "here");
    let routes = Router::new()
        .route("/v1/mine", get(read(vec![own.clone(), elsewhere.clone()])))
        .route("/v1/other", get(read(vec![elsewhere])));
    let app = http::finish(routes, services, "identity-test");
    for (path, expected) in [("/v1/mine", json!([own.sk])), ("/v1/other", json!([]))] {
        let mut req = axum::http::Request::get(path)
            .body(Body::empty())
            .expect("request");
        req.extensions_mut()
            .insert(VerifiedClaims(claims("acme", "rui", "manager")));
        let ((status, _, body), calls) = counted(send(&app, req)).await;
        assert_eq!((status, body), (200, expected), "{path}");
        assert_eq!(
            (calls.batch_gets, calls.total()),
            (1, 1),
            "{path}: {calls:?}"
        );
    }
}
