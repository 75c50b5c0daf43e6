//! An intake router over a fresh embedded store, called in-process as a verified
//! caller, the way the authorizer (or the local host's token check) leaves it.

#![allow(dead_code)]

use std::ops::Deref;
use std::sync::{Arc, Mutex};

use agencyops_store::{Item, Key, Page, Query, StoreError, StoreResult, Table, Write};
use axum::http::Method;
use serde_json::json;

pub use agencyops_apitest::{client_user, who, As, Res};

/// The shared harness with only the intake routes mounted.
pub struct App(agencyops_apitest::App);

impl Deref for App {
    type Target = agencyops_apitest::App;
    fn deref(&self) -> &Self::Target {
        &self.0
    }
}

impl App {
    pub fn new() -> App {
        App(agencyops_apitest::App::new(agencyops_intake::routes()))
    }

    /// An app whose store fails chosen reads once armed (see [`FailingReads`]).
    pub fn failing() -> (App, Arc<FailingReads>) {
        let mut failing = None;
        let app = agencyops_apitest::App::with_table(agencyops_intake::routes(), |inner| {
            let t = Arc::new(FailingReads {
                inner,
                armed: Mutex::new(None),
            });
            failing = Some(t.clone());
            t
        });
        (App(app), failing.expect("the wrapper was built"))
    }

    /// A POST of raw bytes with an Idempotency-Key, as a retrying client sends it.
    pub async fn post_keyed(&self, who: &As, path: &str, body: Vec<u8>, key: &str) -> Res {
        self.0
            .raw(
                Some(who),
                Method::POST,
                path,
                Some(body),
                &[("idempotency-key", key)],
            )
            .await
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

/// The app's table, except that once armed, reads of one key fail as a broken
/// backend would (after letting the first `pass` of them through, for reads
/// that happen before the one under test, such as the caller's person record).
pub struct FailingReads {
    inner: Arc<dyn Table>,
    armed: Mutex<Option<(Key, usize)>>,
}

impl FailingReads {
    pub fn arm(&self, key: Key, pass: usize) {
        *self.armed.lock().expect("lock") = Some((key, pass));
    }

    pub fn disarm(&self) {
        *self.armed.lock().expect("lock") = None;
    }

    fn check(&self, keys: &[Key]) -> StoreResult<()> {
        let mut armed = self.armed.lock().expect("lock");
        match armed.as_mut() {
            Some((key, pass)) if keys.contains(key) => {
                if *pass == 0 {
                    return Err(StoreError::Backend("simulated outage".into()));
                }
                *pass -= 1;
                Ok(())
            }
            _ => Ok(()),
        }
    }
}

#[async_trait::async_trait]
impl Table for FailingReads {
    async fn get(&self, key: &Key) -> StoreResult<Option<Item>> {
        self.check(std::slice::from_ref(key))?;
        self.inner.get(key).await
    }
    async fn batch_get(&self, keys: &[Key]) -> StoreResult<Vec<Item>> {
        self.check(keys)?;
        self.inner.batch_get(keys).await
    }
    async fn query(&self, query: &Query) -> StoreResult<Page> {
        self.inner.query(query).await
    }
    async fn transact(&self, writes: Vec<Write>) -> StoreResult<()> {
        self.inner.transact(writes).await
    }
    async fn increment(&self, key: &Key, attr: &str, by: i64) -> StoreResult<i64> {
        self.inner.increment(key, attr, by).await
    }
}
