//! The sample API Gateway v2 events in `events/intake` go through the same entry
//! path `lambda_http::run` uses (event -> request with the authorizer context ->
//! router -> API Gateway response), with the DynamoDB adapter on a private moto.

use std::collections::HashMap;
use std::path::PathBuf;

use agencyops_platform::config::Config;
use agencyops_testkit::Moto;
use lambda_http::request::LambdaRequest;
use lambda_http::tower::ServiceExt;
use lambda_http::{Adapter, Context, LambdaEvent};
use serde_json::Value;

/// The id the other-tenant sample asks for; the test swaps in a real acme client.
const SAMPLE_CLIENT_ID: &str = "01JD0000000000000000000000";

/// A sample event, with the sample client id replaced by `client_id` when given.
fn event(name: &str, client_id: Option<&str>) -> LambdaRequest {
    let path = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../events/intake")
        .join(name);
    let mut text =
        std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    if let Some(id) = client_id {
        text = text.replace(SAMPLE_CLIENT_ID, id);
    }
    serde_json::from_str(&text)
        .unwrap_or_else(|e| panic!("{name} is not an API Gateway v2 event: {e}"))
}

struct Reply {
    status: u64,
    body: Value,
    content_type: String,
}

async fn invoke(router: &axum::Router, name: &str, client_id: Option<&str>) -> Reply {
    let adapter: Adapter<'_, _, _> = Adapter::from(router.clone());
    let res = adapter
        .oneshot(LambdaEvent::new(event(name, client_id), Context::default()))
        .await
        .unwrap_or_else(|e| match e {});
    let json = serde_json::to_value(&res).expect("response serialises");
    let body = json["body"]
        .as_str()
        .map(|b| serde_json::from_str(b).unwrap_or(Value::String(b.into())))
        .unwrap_or(Value::Null);
    let content_type = json["headers"]["content-type"]
        .as_str()
        .unwrap_or("")
        .to_owned();
    Reply {
        status: json["statusCode"].as_u64().unwrap_or(0),
        body,
        content_type,
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sample_events_through_the_lambda_entry_path_on_dynamodb() {
    let moto = Moto::start().expect("moto_server must start");
    let sdk = agencyops_platform::aws::emulator_config(&moto.endpoint);
    agencyops_store::dynamo::create_table(&aws_sdk_dynamodb::Client::new(&sdk), "agencyops-test")
        .await
        .expect("create table");
    // The same configuration path main.rs takes, pointed at the emulator.
    let config = Config::from_vars(HashMap::from([
        ("TABLE_NAME".to_owned(), "agencyops-test".to_owned()),
        (
            "CURSOR_SECRET".to_owned(),
            "0123456789abcdef0123456789abcdef".to_owned(),
        ),
        ("AWS_ENDPOINT_URL".to_owned(), moto.endpoint.clone()),
        ("AGENCYOPS_FUNCTION".to_owned(), "intake".to_owned()),
    ]))
    .expect("config");
    let services = agencyops_platform::lambda::services(&config).await;
    let router = agencyops_intake::router(services);

    let created = invoke(&router, "create-client.json", None).await;
    assert_eq!(created.status, 201, "{}", created.body);
    assert_eq!(created.body["name"], "Northwind Studio");
    assert_eq!(created.body["currency"], "EUR");

    // API Gateway retries deliver the same Idempotency-Key: one client, same answer.
    // The other-tenant sample asks globex for this very client: it must not find it.
    let acme_client = created.body["id"].as_str().unwrap_or_default().to_owned();
    let replay = invoke(&router, "create-client.json", None).await;
    assert_eq!(replay.status, 201);
    assert_eq!(replay.body["id"], created.body["id"]);

    let listed = invoke(&router, "list-clients.json", None).await;
    assert_eq!(listed.status, 200, "{}", listed.body);
    let items = listed.body["items"].as_array().cloned().unwrap_or_default();
    assert_eq!(items.len(), 1, "one client despite the retry: {items:?}");

    for (name, status) in [
        ("create-client-as-member.json", 403),
        ("get-client-other-tenant.json", 404),
        ("create-client-bad-json.json", 400),
        ("no-claims.json", 401),
    ] {
        let reply = invoke(&router, name, Some(&acme_client)).await;
        assert_eq!(reply.status, status, "{name}: {}", reply.body);
        assert_eq!(reply.content_type, "application/problem+json", "{name}");
    }
    let listed = invoke(&router, "list-clients.json", None).await;
    assert_eq!(
        listed.body["items"].as_array().map(Vec::len),
        Some(1),
        "refused requests wrote nothing"
    );
}
