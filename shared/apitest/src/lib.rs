//! Functions' routes over a fresh embedded store, called in-process as a verified
//! caller, the way the API Gateway authorizer (or the local host's token check)
//! leaves it. The clock is settable, the queue is the real embedded one.

pub mod aws;
pub mod bench;
pub mod faults;
pub mod fixtures;
pub mod outage;
mod studio;
pub mod time;

use std::collections::HashMap;
use std::sync::Arc;

use agencyops_platform::caller::{
    VerifiedClaims, CLAIM_CLIENT, CLAIM_PERSON, CLAIM_ROLE, CLAIM_TENANT,
};
use agencyops_platform::clock::ManualClock;
use agencyops_platform::queue::EmbeddedQueue;
use agencyops_platform::Services;
use agencyops_store::{EmbeddedTable, Table};
use axum::body::Body;
use axum::http::{HeaderMap, Method, Request, StatusCode};
use axum::Router;
use http_body_util::BodyExt;
use serde_json::Value;
use tower::ServiceExt;

pub use studio::{studio, Studio};

pub struct App {
    pub router: Router,
    pub services: Services,
    pub table: Arc<dyn Table>,
    pub embedded: EmbeddedTable,
    pub queue: Arc<EmbeddedQueue>,
    pub clock: ManualClock,
    /// The functions under test, kept to rebuild `router` over new services.
    routes: Router<Services>,
    _dir: tempfile::TempDir,
}

#[derive(Clone, Debug)]
pub struct As {
    pub tenant: String,
    pub person: String,
    pub role: String,
    pub client: Option<String>,
}

impl As {
    /// The verified claims a request by this caller carries.
    pub fn claims(&self) -> VerifiedClaims {
        let mut claims = HashMap::from([
            (CLAIM_TENANT.to_owned(), self.tenant.clone()),
            (CLAIM_PERSON.to_owned(), self.person.clone()),
            (CLAIM_ROLE.to_owned(), self.role.clone()),
        ]);
        if let Some(c) = &self.client {
            claims.insert(CLAIM_CLIENT.to_owned(), c.clone());
        }
        VerifiedClaims(claims)
    }
}

pub fn who(tenant: &str, person: &str, role: &str) -> As {
    As {
        tenant: tenant.into(),
        person: person.into(),
        role: role.into(),
        client: None,
    }
}

pub fn client_user(tenant: &str, person: &str, client: &str) -> As {
    As {
        client: Some(client.into()),
        ..who(tenant, person, "client")
    }
}

#[derive(Debug)]
pub struct Res {
    pub status: StatusCode,
    pub headers: HeaderMap,
    pub body: Value,
}

impl Res {
    pub fn id(&self) -> String {
        self.body["id"]
            .as_str()
            .unwrap_or_else(|| panic!("no id in {}", self.body))
            .to_owned()
    }
    /// The fields a 400 problem names, in order.
    pub fn fields(&self) -> Vec<String> {
        self.body["errors"]
            .as_array()
            .into_iter()
            .flatten()
            .filter_map(|e| e["field"].as_str().map(str::to_owned))
            .collect()
    }
    pub fn problem_type(&self) -> &str {
        self.body["type"].as_str().unwrap_or("")
    }
    pub fn etag(&self) -> String {
        self.headers
            .get("etag")
            .and_then(|v| v.to_str().ok())
            .unwrap_or_else(|| panic!("no etag on {}", self.body))
            .to_owned()
    }
    /// Asserts the status, printing the body when it differs.
    #[track_caller]
    pub fn expect(self, status: u16) -> Res {
        assert_eq!(self.status.as_u16(), status, "body: {}", self.body);
        self
    }
}

/// 2026-11-20 12:00 UTC, a Friday in week 2026-W47.
pub const NOW: i64 = 1_795_176_000;

impl App {
    /// `routes` are the functions under test (merge several to test them together).
    pub fn new(routes: Router<Services>) -> App {
        let dir = tempfile::tempdir().expect("tempdir");
        let embedded = EmbeddedTable::open(&dir.path().join("store.db")).expect("open store");
        let clock = ManualClock::at(jiff::Timestamp::from_second(NOW).expect("timestamp"));
        let (services, queue) = Services::embedded(
            embedded.clone(),
            Arc::new(clock.clone()),
            b"test-cursor-secret".to_vec(),
        )
        .expect("services");
        App {
            router: agencyops_platform::http::finish(routes.clone(), services.clone(), "test"),
            routes,
            table: services.table.clone(),
            services,
            embedded,
            queue,
            clock,
            _dir: dir,
        }
    }

    /// Like [`App::new`], with the routes' table wrapped by `wrap` (e.g. one that
    /// fails a chosen write, to simulate a crash). `table` is the wrapped one;
    /// `embedded` still reaches the store directly.
    pub fn with_table(
        routes: Router<Services>,
        wrap: impl FnOnce(Arc<dyn Table>) -> Arc<dyn Table>,
    ) -> App {
        let mut app = App::new(routes);
        app.services.table = wrap(app.services.table.clone());
        app.table = app.services.table.clone();
        app.rebuild_router();
        app
    }

    /// Serves the routes over the current `services` (after a test swapped a port).
    pub fn rebuild_router(&mut self) {
        self.router =
            agencyops_platform::http::finish(self.routes.clone(), self.services.clone(), "test");
    }

    /// Any request; checks that every error is problem+json with a matching status.
    pub async fn raw(
        &self,
        who: Option<&As>,
        method: Method,
        path: &str,
        body: Option<Vec<u8>>,
        headers: &[(&str, &str)],
    ) -> Res {
        let mut req = Request::builder().method(method).uri(path);
        for (k, v) in headers {
            req = req.header(*k, *v);
        }
        if body.is_some()
            && !headers
                .iter()
                .any(|(k, _)| k.eq_ignore_ascii_case("content-type"))
        {
            req = req.header("content-type", "application/json");
        }
        let mut req = req
            .body(body.map(Body::from).unwrap_or_else(Body::empty))
            .expect("request");
        if let Some(w) = who {
            req.extensions_mut().insert(w.claims());
        }
        let res = self
            .router
            .clone()
            .oneshot(req)
            .await
            .expect("router never fails");
        let status = res.status();
        let headers = res.headers().clone();
        let bytes = res.into_body().collect().await.expect("body").to_bytes();
        let body = if bytes.is_empty() {
            Value::Null
        } else {
            serde_json::from_slice(&bytes)
                .unwrap_or(Value::String(String::from_utf8_lossy(&bytes).into()))
        };
        if status.is_client_error() || status.is_server_error() {
            assert_eq!(
                headers.get("content-type").and_then(|v| v.to_str().ok()),
                Some("application/problem+json"),
                "errors are problem+json: {status} {body}"
            );
            assert_eq!(
                body["status"].as_u64(),
                Some(status.as_u16() as u64),
                "problem status matches"
            );
        }
        Res {
            status,
            headers,
            body,
        }
    }

    /// A GET whose answer is a file: its status, content type and exact bytes.
    pub async fn get_bytes(&self, who: &As, path: &str, accept: &str) -> (u16, String, Vec<u8>) {
        let mut req = Request::builder()
            .method(Method::GET)
            .uri(path)
            .header("accept", accept)
            .body(Body::empty())
            .expect("request");
        req.extensions_mut().insert(who.claims());
        let res = self
            .router
            .clone()
            .oneshot(req)
            .await
            .expect("router never fails");
        let status = res.status().as_u16();
        let ct = res
            .headers()
            .get("content-type")
            .and_then(|v| v.to_str().ok())
            .unwrap_or("")
            .to_owned();
        let bytes = res.into_body().collect().await.expect("body").to_bytes();
        (status, ct, bytes.to_vec())
    }

    pub async fn call(&self, who: &As, method: Method, path: &str, body: Option<Value>) -> Res {
        let bytes = body.map(|b| serde_json::to_vec(&b).expect("json"));
        self.raw(Some(who), method, path, bytes, &[]).await
    }
    pub async fn get(&self, who: &As, path: &str) -> Res {
        self.call(who, Method::GET, path, None).await
    }
    pub async fn post(&self, who: &As, path: &str, body: Value) -> Res {
        self.call(who, Method::POST, path, Some(body)).await
    }
    pub async fn put(&self, who: &As, path: &str, body: Value) -> Res {
        self.call(who, Method::PUT, path, Some(body)).await
    }
    pub async fn patch(&self, who: &As, path: &str, body: Value) -> Res {
        self.call(who, Method::PATCH, path, Some(body)).await
    }
    pub async fn delete(&self, who: &As, path: &str) -> Res {
        self.call(who, Method::DELETE, path, None).await
    }
    /// A POST with an Idempotency-Key, as a retrying client sends it.
    pub async fn post_keyed(&self, who: &As, path: &str, body: Value, key: &str) -> Res {
        let bytes = serde_json::to_vec(&body).expect("json");
        self.raw(
            Some(who),
            Method::POST,
            path,
            Some(bytes),
            &[("idempotency-key", key)],
        )
        .await
    }

    /// Creates and asserts 201, returning the id.
    /// One page of a query straight to the store, for checking what is stored.
    pub async fn stored_items(&self, query: &agencyops_store::Query) -> Vec<agencyops_store::Item> {
        self.table.query(query).await.unwrap().items
    }

    pub async fn create(&self, who: &As, path: &str, body: Value) -> String {
        let res = self.post(who, path, body).await;
        assert_eq!(res.status, StatusCode::CREATED, "POST {path}: {}", res.body);
        res.id()
    }
}

/// Every operationId of an OpenAPI document, in document order (repeats kept,
/// so a test can check they are unique).
pub fn operation_ids(doc: &utoipa::openapi::OpenApi) -> Vec<String> {
    doc.paths
        .paths
        .values()
        .flat_map(|item| {
            [&item.get, &item.post, &item.patch, &item.delete, &item.put]
                .into_iter()
                .flatten()
                .filter_map(|op| op.operation_id.clone())
                .collect::<Vec<_>>()
        })
        .collect()
}

/// Every path in `v` (as `$.a[0].b`) whose key is one of `names`, however deep:
/// what a response-shape assertion reports when a field shows where it must not.
pub fn paths_named(v: &serde_json::Value, names: &[&str]) -> Vec<String> {
    fn walk(v: &serde_json::Value, at: &str, names: &[&str], out: &mut Vec<String>) {
        match v {
            serde_json::Value::Object(m) => {
                for (k, x) in m {
                    let here = format!("{at}.{k}");
                    if names.contains(&k.as_str()) {
                        out.push(here.clone());
                    }
                    walk(x, &here, names, out);
                }
            }
            serde_json::Value::Array(xs) => {
                for (i, x) in xs.iter().enumerate() {
                    walk(x, &format!("{at}[{i}]"), names, out);
                }
            }
            _ => {}
        }
    }
    let mut out = Vec::new();
    walk(v, "$", names, &mut out);
    out
}
