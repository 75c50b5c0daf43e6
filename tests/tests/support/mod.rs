//! Sample events from `events/` through the path `lambda_http::run` takes:
//! event -> request with the authorizer context -> router -> API Gateway response.

#![allow(dead_code)]

use std::path::PathBuf;

use lambda_http::request::LambdaRequest;
use lambda_http::tower::ServiceExt;
use lambda_http::{Adapter, Context, LambdaEvent};
use serde_json::Value;

/// The `acme` admin most samples are sent by. The agency has no person record
/// for them, so the tests configure them as the tenant's bootstrap admin.
pub const SAMPLE_ADMIN: &str = "0193a1f0-2b3c-7d4e-8f5a-6b7c8d9e0f1a";
/// The `acme` member of `intake/create-client-as-member.json`.
pub const SAMPLE_MEMBER: &str = "0193a1f0-4d5e-7f6a-9b8c-7d6e5f4a3b2c";
/// The `globex` admin of `intake/get-client-other-tenant.json`.
pub const SAMPLE_OTHER_ADMIN: &str = "0193a1f1-0a1b-7c2d-8e3f-4a5b6c7d8e9f";

/// A sample event's text (`intake/create-client.json`), with placeholders replaced.
pub fn sample(name: &str, substitutions: &[(&str, &str)]) -> String {
    let path = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../events")
        .join(name);
    let mut text =
        std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    for (from, to) in substitutions {
        text = text.replace(from, to);
    }
    text
}

pub fn api_event(name: &str, substitutions: &[(&str, &str)]) -> LambdaRequest {
    serde_json::from_str(&sample(name, substitutions))
        .unwrap_or_else(|e| panic!("{name} is not an API Gateway v2 event: {e}"))
}

pub struct Reply {
    pub status: u64,
    pub body: Value,
    pub content_type: String,
}

/// Runs one API Gateway event through the router as Lambda would.
pub async fn invoke_event(router: &axum::Router, event: LambdaRequest) -> Reply {
    let adapter: Adapter<'_, _, _> = Adapter::from(router.clone());
    let res = adapter
        .oneshot(LambdaEvent::new(event, Context::default()))
        .await
        .unwrap_or_else(|e| match e {});
    let json = serde_json::to_value(&res).expect("response serialises");
    let body = json["body"]
        .as_str()
        .map(|b| serde_json::from_str(b).unwrap_or(Value::String(b.into())))
        .unwrap_or(Value::Null);
    Reply {
        status: json["statusCode"].as_u64().unwrap_or(0),
        body,
        content_type: json["headers"]["content-type"]
            .as_str()
            .unwrap_or("")
            .to_owned(),
    }
}

/// A sample API event by name, through the router.
pub async fn invoke(router: &axum::Router, name: &str, substitutions: &[(&str, &str)]) -> Reply {
    invoke_event(router, api_event(name, substitutions)).await
}
