//! List cursors as a client replaying them sees it: a cursor resumes only the
//! query, filters and tenant that issued it, for a day; anything else is a 400
//! problem naming `query.cursor`, on the embedded store and on DynamoDB alike,
//! and never reaches DynamoDB as a start key it would reject with a 500.

use std::sync::Arc;

use agencyops_domain::Role;
use agencyops_platform::clock::ManualClock;
use agencyops_platform::cursor::{ListScope, CURSOR_TTL_SECS};
use agencyops_platform::resource::{self, ListPage};
use agencyops_platform::{ApiError, Caller, Services};
use agencyops_store::records::Person;
use agencyops_store::{keys, DynamoTable, EmbeddedTable, Index, PageKey, Query, SkCondition};
use agencyops_testkit::Moto;
use axum::response::IntoResponse;
use http_body_util::BodyExt;
use jiff::{SignedDuration, Timestamp};
use serde_json::{json, Value};

fn admin(tenant: &str) -> Caller {
    Caller {
        tenant: tenant.into(),
        person: "ana".into(),
        role: Role::Admin,
        client: None,
    }
}

fn person(id: &str, role: &str) -> Person {
    serde_json::from_value(json!({
        "id": id, "name": id, "email": format!("{id}@acme.example"), "role": role,
        "job_role": null, "cost_rate": null, "default_bill_rate": null,
        "weekly_capacity_hours": "40", "time_zone": "Europe/Lisbon", "client_id": null,
        "active": true, "version": 1,
        "created_at": "2026-11-01T09:00:00Z", "updated_at": "2026-11-01T09:00:00Z"
    }))
    .expect("person")
}

fn people(tenant: &str) -> Query {
    Query::new(Index::Table, keys::people(tenant))
        .sk(SkCondition::BeginsWith(keys::people_prefix()))
}

fn clients(tenant: &str) -> Query {
    Query::new(Index::Table, keys::clients(tenant))
        .sk(SkCondition::BeginsWith(keys::clients_prefix()))
}

/// `GET /v1/people?role=…&limit=2&cursor=…` as the people list runs it.
async fn list_people(
    s: &Services,
    tenant: &str,
    role: Option<Role>,
    cursor: Option<&str>,
) -> Result<ListPage<Person>, ApiError> {
    resource::list::<Person>(
        s,
        &admin(tenant),
        people(tenant),
        Some(2),
        cursor,
        &role,
        |p| role.is_none_or(|r| p.role == r),
    )
    .await
}

/// Five people in acme (three members, two managers) and one in globex.
async fn seed(s: &Services) {
    for (id, role) in [
        ("p1", "member"),
        ("p2", "manager"),
        ("p3", "member"),
        ("p4", "manager"),
        ("p5", "member"),
    ] {
        resource::insert(s, &admin("acme"), &person(id, role), vec![])
            .await
            .expect("insert");
    }
    resource::insert(s, &admin("globex"), &person("g1", "member"), vec![])
        .await
        .expect("insert");
}

/// The problem a client gets back, as JSON.
async fn problem(e: ApiError) -> (u16, Value) {
    let res = e.into_response();
    let status = res.status().as_u16();
    assert_eq!(
        res.headers()
            .get("content-type")
            .and_then(|v| v.to_str().ok()),
        Some("application/problem+json")
    );
    let bytes = res.into_body().collect().await.expect("body").to_bytes();
    (
        status,
        serde_json::from_slice(&bytes).expect("problem json"),
    )
}

async fn assert_cursor_refused(result: Result<ListPage<Person>, ApiError>, why: &str) -> Value {
    let err = match result {
        Ok(page) => panic!("{why}: resumed with {} items", page.items.len()),
        Err(e) => e,
    };
    let (status, body) = problem(err).await;
    assert_eq!(status, 400, "{why}: {body}");
    assert_eq!(body["type"], "https://agencyops.dev/problems/validation");
    assert_eq!(body["errors"][0]["field"], "query.cursor", "{why}: {body}");
    body
}

fn ids(page: &ListPage<Person>) -> Vec<&str> {
    page.items.iter().map(|p| p.id.as_str()).collect()
}

/// Every page of a list, following cursors, as ids.
async fn all_pages(s: &Services, role: Option<Role>) -> Vec<String> {
    let mut out = Vec::new();
    let mut cursor = None;
    loop {
        let page = list_people(s, "acme", role, cursor.as_deref())
            .await
            .expect("page");
        out.extend(ids(&page).into_iter().map(str::to_owned));
        match page.next_cursor {
            Some(c) => cursor = Some(c),
            None => return out,
        }
    }
}

struct Local {
    _dir: tempfile::TempDir,
    clock: ManualClock,
    services: Services,
}

async fn local() -> Local {
    let dir = tempfile::tempdir().expect("tempdir");
    let clock = ManualClock::at("2026-11-20T09:00:00Z".parse::<Timestamp>().expect("ts"));
    let (services, _queue) = Services::embedded(
        EmbeddedTable::open(&dir.path().join("store.db")).expect("store"),
        Arc::new(clock.clone()),
        b"cursor-test-secret".to_vec(),
    )
    .expect("services");
    seed(&services).await;
    Local {
        _dir: dir,
        clock,
        services,
    }
}

#[tokio::test]
async fn a_valid_cursor_pages_through_everything_once() {
    let h = local().await;
    assert_eq!(
        all_pages(&h.services, None).await,
        ["p1", "p2", "p3", "p4", "p5"]
    );
    assert_eq!(
        all_pages(&h.services, Some(Role::Member)).await,
        ["p1", "p3", "p5"]
    );
}

#[tokio::test]
async fn a_cursor_replayed_with_another_filter_is_a_400() {
    let h = local().await;
    let first = list_people(&h.services, "acme", None, None)
        .await
        .expect("page");
    let cursor = first.next_cursor.expect("more pages");
    assert_cursor_refused(
        list_people(&h.services, "acme", Some(Role::Manager), Some(&cursor)).await,
        "another filter",
    )
    .await;
    let members = list_people(&h.services, "acme", Some(Role::Member), None)
        .await
        .expect("page");
    let cursor = members.next_cursor.expect("more members");
    assert_cursor_refused(
        list_people(&h.services, "acme", None, Some(&cursor)).await,
        "the filter dropped",
    )
    .await;
    // The same filter still resumes.
    let rest = list_people(&h.services, "acme", Some(Role::Member), Some(&cursor))
        .await
        .expect("resumes");
    assert_eq!(ids(&rest), ["p5"]);
}

#[tokio::test]
async fn a_cursor_replayed_on_another_list_or_tenant_is_a_400() {
    let h = local().await;
    let first = list_people(&h.services, "acme", None, None)
        .await
        .expect("page");
    let cursor = first.next_cursor.expect("more pages");
    let on_clients = resource::list::<Person>(
        &h.services,
        &admin("acme"),
        clients("acme"),
        Some(2),
        Some(&cursor),
        &None::<Role>,
        |_| true,
    )
    .await;
    assert_cursor_refused(on_clients, "another list").await;
    let newest_first = resource::list::<Person>(
        &h.services,
        &admin("acme"),
        people("acme").backward(),
        Some(2),
        Some(&cursor),
        &None::<Role>,
        |_| true,
    )
    .await;
    assert_cursor_refused(newest_first, "the other direction").await;
    assert_cursor_refused(
        list_people(&h.services, "globex", None, Some(&cursor)).await,
        "another tenant",
    )
    .await;
}

#[tokio::test]
async fn a_cursor_expires_a_day_after_it_was_issued() {
    let h = local().await;
    let first = list_people(&h.services, "acme", None, None)
        .await
        .expect("page");
    let cursor = first.next_cursor.expect("more pages");
    h.clock.advance(SignedDuration::from_secs(CURSOR_TTL_SECS));
    let page = list_people(&h.services, "acme", None, Some(&cursor))
        .await
        .expect("still valid at 24 h");
    assert_eq!(ids(&page), ["p3", "p4"]);
    h.clock.advance(SignedDuration::from_secs(1));
    let body = assert_cursor_refused(
        list_people(&h.services, "acme", None, Some(&cursor)).await,
        "after 24 h",
    )
    .await;
    assert!(
        body["errors"][0]["message"]
            .as_str()
            .is_some_and(|m| m.contains("expired")),
        "{body}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn on_dynamodb_a_cursor_signed_for_another_query_is_a_400_not_a_500() {
    let moto = tokio::task::spawn_blocking(Moto::start)
        .await
        .expect("join")
        .expect("moto_server must start");
    let sdk = agencyops_platform::aws::emulator_config(&moto.endpoint);
    let client = aws_sdk_dynamodb::Client::new(&sdk);
    agencyops_store::dynamo::create_table(&client, "agencyops")
        .await
        .expect("table");
    let local = local().await;
    let services = Services {
        table: Arc::new(DynamoTable::new(client, "agencyops")),
        ..local.services.clone()
    };
    seed(&services).await;
    assert_eq!(
        all_pages(&services, None).await,
        ["p1", "p2", "p3", "p4", "p5"]
    );

    let first = list_people(&services, "acme", None, None)
        .await
        .expect("page");
    let cursor = first.next_cursor.expect("more pages");
    assert_cursor_refused(
        list_people(&services, "acme", Some(Role::Member), Some(&cursor)).await,
        "another filter on DynamoDB",
    )
    .await;

    // A cursor validly signed for the clients list that carries a people
    // position (as a leaked secret or a bug could produce): DynamoDB would
    // reject it as an ExclusiveStartKey outside the query; the caller must
    // see a 400 instead.
    let scope = ListScope::new(&clients("acme"), &None::<Role>).expect("scope");
    let position = PageKey {
        pk: keys::people("acme"),
        sk: "PERSON#p2".into(),
        ipk: None,
        isk: None,
    };
    let forged = services
        .cursors
        .encode("acme", &scope, &position, services.clock.now())
        .expect("encode");
    let on_clients = resource::list::<Person>(
        &services,
        &admin("acme"),
        clients("acme"),
        Some(2),
        Some(&forged),
        &None::<Role>,
        |_| true,
    )
    .await;
    assert_cursor_refused(on_clients, "a foreign start key on DynamoDB").await;
}
