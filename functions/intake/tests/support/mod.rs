//! An intake router over a fresh embedded store, called in-process as a verified
//! caller, the way the authorizer (or the local host's token check) leaves it.

#![allow(dead_code)]

use std::collections::HashMap;
use std::sync::Arc;

use agencyops_platform::caller::{
    VerifiedClaims, CLAIM_CLIENT, CLAIM_PERSON, CLAIM_ROLE, CLAIM_TENANT,
};
use agencyops_platform::clock::SystemClock;
use agencyops_platform::Services;
use agencyops_store::{EmbeddedTable, Table};
use axum::body::Body;
use axum::http::{HeaderMap, Method, Request, StatusCode};
use http_body_util::BodyExt;
use serde_json::{json, Value};
use tower::ServiceExt;

pub struct App {
    pub router: axum::Router,
    pub table: Arc<dyn Table>,
    _dir: tempfile::TempDir,
}

#[derive(Clone, Debug)]
pub struct As {
    pub tenant: String,
    pub person: String,
    pub role: String,
    pub client: Option<String>,
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
        tenant: tenant.into(),
        person: person.into(),
        role: "client".into(),
        client: Some(client.into()),
    }
}

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
}

impl App {
    pub fn new() -> App {
        let dir = tempfile::tempdir().expect("tempdir");
        let (services, _queue) = Services::embedded(
            EmbeddedTable::open(&dir.path().join("store.db")).expect("open store"),
            Arc::new(SystemClock),
            b"test-cursor-secret".to_vec(),
        )
        .expect("services");
        let table: Arc<dyn Table> = services.table.clone();
        App {
            router: agencyops_intake::router(services),
            table,
            _dir: dir,
        }
    }

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
            let mut claims = HashMap::from([
                (CLAIM_TENANT.to_owned(), w.tenant.clone()),
                (CLAIM_PERSON.to_owned(), w.person.clone()),
                (CLAIM_ROLE.to_owned(), w.role.clone()),
            ]);
            if let Some(c) = &w.client {
                claims.insert(CLAIM_CLIENT.to_owned(), c.clone());
            }
            req.extensions_mut().insert(VerifiedClaims(claims));
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

    pub async fn call(&self, who: &As, method: Method, path: &str, body: Option<Value>) -> Res {
        let bytes = body.map(|b| serde_json::to_vec(&b).expect("json"));
        self.raw(Some(who), method, path, bytes, &[]).await
    }
    /// A POST of raw bytes with an Idempotency-Key, as a retrying client sends it.
    pub async fn post_keyed(&self, who: &As, path: &str, body: Vec<u8>, key: &str) -> Res {
        self.raw(
            Some(who),
            Method::POST,
            path,
            Some(body),
            &[("idempotency-key", key)],
        )
        .await
    }

    pub async fn get(&self, who: &As, path: &str) -> Res {
        self.call(who, Method::GET, path, None).await
    }
    pub async fn post(&self, who: &As, path: &str, body: Value) -> Res {
        self.call(who, Method::POST, path, Some(body)).await
    }
    pub async fn patch(&self, who: &As, path: &str, body: Value) -> Res {
        self.call(who, Method::PATCH, path, Some(body)).await
    }

    /// Creates and asserts 201, returning the id.
    pub async fn create(&self, who: &As, path: &str, body: Value) -> String {
        let res = self.post(who, path, body).await;
        assert_eq!(res.status, StatusCode::CREATED, "POST {path}: {}", res.body);
        res.id()
    }
}

/// A small agency in tenant `tenant`: ids of everything the matrix needs.
pub struct Agency {
    pub admin: As,
    pub manager: As,
    pub member: As,
    pub outsider: As,
    pub client_user: As,
    pub member_id: String,
    pub client: String,
    pub other_client: String,
    pub contact: String,
    pub project: String,
    pub task: String,
    pub milestone: String,
    pub request: String,
}

pub async fn agency(app: &App, tenant: &str) -> Agency {
    let admin = who(tenant, "boss", "admin");
    let person = |name: &str, email: &str, role: &str| {
        json!({"name": name, "email": email, "role": role, "time_zone": "Europe/Lisbon",
               "default_bill_rate": {"amount": "100.00", "currency": "EUR"}})
    };
    let member_id = app
        .create(
            &admin,
            "/v1/people",
            person("Rui", &format!("rui@{tenant}.io"), "member"),
        )
        .await;
    let outsider_id = app
        .create(
            &admin,
            "/v1/people",
            person("Eva", &format!("eva@{tenant}.io"), "member"),
        )
        .await;
    let client = app
        .create(
            &admin,
            "/v1/clients",
            json!({"name": "Northwind", "currency": "EUR"}),
        )
        .await;
    let other_client = app
        .create(
            &admin,
            "/v1/clients",
            json!({"name": "Globex", "currency": "GBP"}),
        )
        .await;
    let contact = app
        .create(
            &admin,
            &format!("/v1/clients/{client}/contacts"),
            json!({"name": "Joana", "email": "j@nw.io"}),
        )
        .await;
    let project = app
        .create(&admin, "/v1/projects", json!({"client_id": client, "name": "Rebrand", "billing_model": "time_and_materials", "team": [member_id]}))
        .await;
    let task = app
        .create(
            &admin,
            &format!("/v1/projects/{project}/tasks"),
            json!({"name": "Design"}),
        )
        .await;
    let milestone = app
        .create(
            &admin,
            &format!("/v1/projects/{project}/milestones"),
            json!({"name": "Kickoff", "amount": "1000.00"}),
        )
        .await;
    let request = app
        .create(
            &admin,
            "/v1/intake-requests",
            json!({"client_id": client, "title": "Campaign"}),
        )
        .await;
    Agency {
        manager: who(tenant, "mgr", "manager"),
        member: who(tenant, &member_id, "member"),
        outsider: who(tenant, &outsider_id, "member"),
        client_user: client_user(tenant, "cu", &client),
        admin,
        member_id,
        client,
        other_client,
        contact,
        project,
        task,
        milestone,
        request,
    }
}
