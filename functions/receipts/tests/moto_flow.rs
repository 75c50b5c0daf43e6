//! The flow against AWS's APIs on moto: DynamoDB for the expense, S3 for the
//! file (a real presigned PUT over HTTP with exactly the returned headers), and
//! the bucket's own ObjectCreated notification delivered to an SQS queue,
//! received and handed to the processor as the Lambda would get it.

mod support;

use std::collections::{BTreeMap, HashMap};
use std::sync::Arc;

use agencyops_domain::timesheet::WorkStatus;
use agencyops_platform::blob::{Blob, S3Blob};
use agencyops_platform::caller::{VerifiedClaims, CLAIM_PERSON, CLAIM_ROLE, CLAIM_TENANT};
use agencyops_platform::clock::SystemClock;
use agencyops_platform::cursor::Cursors;
use agencyops_platform::queue::SqsQueue;
use agencyops_platform::Services;
use agencyops_receipts::process_event_json;
use agencyops_store::DynamoTable;
use agencyops_testkit::Moto;
use aws_sdk_s3::types::{
    Event, FilterRule, FilterRuleName, NotificationConfiguration, NotificationConfigurationFilter,
    QueueConfiguration, S3KeyFilter,
};
use axum::body::Body;
use axum::http::{Method, Request};
use axum::Router;
use http_body_util::BodyExt;
use serde_json::{json, Value};
use support::*;
use tower::ServiceExt;

const BUCKET: &str = "agencyops-receipts";
const TENANT: &str = "acme";
const PERSON: &str = "rui";

struct Aws {
    _moto: Moto,
    services: Services,
    router: Router,
    s3: aws_sdk_s3::Client,
    sqs: aws_sdk_sqs::Client,
    queue_url: String,
}

async fn aws() -> Aws {
    let (moto, sdk, ddb) = agencyops_apitest::aws::moto_with_table("agencyops").await;
    let s3 = aws_sdk_s3::Client::from_conf(
        aws_sdk_s3::config::Builder::from(&sdk)
            .force_path_style(true)
            .build(),
    );
    s3.create_bucket().bucket(BUCKET).send().await.unwrap();
    let sqs = aws_sdk_sqs::Client::new(&sdk);
    let queue_url = agencyops_apitest::aws::create_queue(&sqs, "receipt-uploads").await;
    let queue_arn = agencyops_apitest::aws::queue_arn(&sqs, &queue_url).await;
    // As the template configures it: ObjectCreated under receipts/ only.
    let only_receipts = NotificationConfigurationFilter::builder()
        .key(
            S3KeyFilter::builder()
                .filter_rules(
                    FilterRule::builder()
                        .name(FilterRuleName::Prefix)
                        .value("receipts/")
                        .build(),
                )
                .build(),
        )
        .build();
    s3.put_bucket_notification_configuration()
        .bucket(BUCKET)
        .notification_configuration(
            NotificationConfiguration::builder()
                .queue_configurations(
                    QueueConfiguration::builder()
                        .queue_arn(queue_arn)
                        .events(Event::from("s3:ObjectCreated:*"))
                        .filter(only_receipts)
                        .build()
                        .unwrap(),
                )
                .build(),
        )
        .send()
        .await
        .unwrap();

    let services = Services {
        table: Arc::new(DynamoTable::new(ddb, "agencyops")),
        clock: Arc::new(SystemClock),
        cursors: Cursors::new(b"receipts-moto-test-cursor-secret!".to_vec()),
        idempotency_ttl_secs: 60,
        queue: Arc::new(SqsQueue::new(sqs.clone(), HashMap::new())),
        blob: Some(Arc::new(S3Blob::new(s3.clone(), BUCKET)) as Arc<dyn Blob>),
        mail: None,
        public_url: None,
        bootstrap_admins: Default::default(),
    };
    let router = agencyops_receipts::router(services.clone());
    Aws {
        _moto: moto,
        services,
        router,
        s3,
        sqs,
        queue_url,
    }
}

impl Aws {
    /// A request as the API Gateway authorizer leaves it: verified claims.
    async fn call(&self, method: Method, path: &str, body: Option<Value>) -> (u16, Value) {
        let mut req = Request::builder().method(method).uri(path);
        if body.is_some() {
            req = req.header("content-type", "application/json");
        }
        let mut req = req
            .body(body.map_or_else(Body::empty, |b| Body::from(b.to_string())))
            .unwrap();
        req.extensions_mut().insert(VerifiedClaims(
            [
                (CLAIM_TENANT, TENANT),
                (CLAIM_PERSON, PERSON),
                (CLAIM_ROLE, "member"),
            ]
            .into_iter()
            .map(|(k, v)| (k.to_owned(), v.to_owned()))
            .collect(),
        ));
        let res = self.router.clone().oneshot(req).await.unwrap();
        let status = res.status().as_u16();
        let bytes = res.into_body().collect().await.unwrap().to_bytes();
        (
            status,
            serde_json::from_slice(&bytes).unwrap_or(Value::Null),
        )
    }

    async fn request_upload(&self, expense: &str, ct: &str, size: usize) -> Value {
        let (status, body) = self
            .call(
                Method::POST,
                &format!("/v1/expenses/{expense}/receipt"),
                Some(json!({"content_type": ct, "size": size})),
            )
            .await;
        assert_eq!(status, 201, "{body}");
        body
    }

    async fn receipt(&self, expense: &str) -> Value {
        let (status, body) = self
            .call(
                Method::GET,
                &format!("/v1/expenses/{expense}/receipt"),
                None,
            )
            .await;
        assert_eq!(status, 200, "{body}");
        body
    }

    /// The next S3 notification on the queue (S3's test message skipped),
    /// deleted as a successful Lambda invocation would. Long polling, no sleeps.
    async fn next_notification(&self) -> String {
        for _ in 0..10 {
            let got = self
                .sqs
                .receive_message()
                .queue_url(&self.queue_url)
                .max_number_of_messages(1)
                .wait_time_seconds(1)
                .send()
                .await
                .unwrap();
            for m in got.messages() {
                self.sqs
                    .delete_message()
                    .queue_url(&self.queue_url)
                    .receipt_handle(m.receipt_handle().unwrap())
                    .send()
                    .await
                    .unwrap();
                let body = m.body().unwrap().to_owned();
                if !body.contains("s3:TestEvent") {
                    return body;
                }
            }
        }
        panic!("moto delivered no S3 notification");
    }

    async fn exists(&self, key: &str) -> bool {
        self.services
            .blob
            .as_ref()
            .unwrap()
            .head(key)
            .await
            .unwrap()
            .is_some()
    }
}

async fn put_with_ticket(ticket: &Value, bytes: Vec<u8>) {
    let headers: BTreeMap<String, String> =
        serde_json::from_value(ticket["headers"].clone()).unwrap();
    assert_eq!(headers["content-length"], bytes.len().to_string());
    let res = upload(ticket, bytes).await;
    let status = res.status();
    assert!(
        status.is_success(),
        "{status}: {}",
        res.text().await.unwrap()
    );
}

#[tokio::test]
async fn s3_upload_notification_and_processing_on_moto() {
    let aws = aws().await;
    let table = &*aws.services.table;

    // Accepted: presign, PUT over HTTP, the bucket's notification, attach.
    let x = seed_expense(table, TENANT, PERSON, "p1").await;
    let pdf = cafe_receipt();
    let ticket = aws.request_upload(&x, "application/pdf", pdf.len()).await;
    put_with_ticket(&ticket, pdf.clone()).await;
    let event = aws.next_notification().await;
    assert_eq!(
        event_key(&event).split('/').take(3).collect::<Vec<_>>(),
        vec!["receipts", TENANT, x.as_str()],
        "the notification names the uploaded key: {event}"
    );
    process_event_json(&aws.services, &event).await.unwrap();
    let r = aws.receipt(&x).await;
    assert_eq!(r["status"], "accepted", "{r}");
    assert_eq!(r["sha256"], sha256_hex(&pdf));
    assert_eq!(r["size"], pdf.len());
    assert_eq!(r["suggestions"]["total"], "42.50");
    let got = reqwest::get(r["download_url"].as_str().unwrap())
        .await
        .unwrap();
    assert_eq!(got.status(), 200);
    assert_eq!(got.bytes().await.unwrap().as_ref(), &pdf[..]);

    // The same notification again: nothing changes.
    let once = stored(table, TENANT, &x).await;
    process_event_json(&aws.services, &event).await.unwrap();
    assert_eq!(stored(table, TENANT, &x).await, once);
    assert_eq!(once.version, 3, "announced, then accepted");

    // Accepted files leave receipts/; a file swapped in through the still
    // valid URL is never what the link serves, and its notification only
    // quarantines it.
    let key = event_key(&event);
    assert!(!aws.exists(&key).await, "the inbox is empty once accepted");
    let mut swapped = HTML_AS_PDF.to_vec();
    swapped.resize(pdf.len(), b' ');
    put_with_ticket(&ticket, swapped.clone()).await;
    let swap = aws.next_notification().await;
    let link = aws.receipt(&x).await["download_url"]
        .as_str()
        .unwrap()
        .to_owned();
    let got = reqwest::get(&link).await.unwrap().bytes().await.unwrap();
    assert_eq!(sha256_hex(&got), sha256_hex(&pdf), "the checked copy");
    process_event_json(&aws.services, &swap).await.unwrap();
    assert_eq!(stored(table, TENANT, &x).await, once);
    assert!(!aws.exists(&key).await);
    let q = aws
        .s3
        .get_object()
        .bucket(BUCKET)
        .key(key.replacen("receipts/", "quarantine/", 1))
        .send()
        .await
        .unwrap();
    assert_eq!(
        sha256_hex(&q.body.collect().await.unwrap().into_bytes()),
        sha256_hex(&swapped)
    );

    // Disguised: HTML declared as a PDF is quarantined.
    let y = seed_expense(table, TENANT, PERSON, "p1").await;
    let ticket = aws
        .request_upload(&y, "application/pdf", HTML_AS_PDF.len())
        .await;
    put_with_ticket(&ticket, HTML_AS_PDF.to_vec()).await;
    let event = aws.next_notification().await;
    let key = event_key(&event);
    process_event_json(&aws.services, &event).await.unwrap();
    let r = aws.receipt(&y).await;
    assert_eq!(r["status"], "rejected", "{r}");
    assert!(r["download_url"].is_null());
    assert!(!aws.exists(&key).await, "gone from receipts/");
    let quarantined = key.replacen("receipts/", "quarantine/", 1);
    let q = aws
        .s3
        .get_object()
        .bucket(BUCKET)
        .key(&quarantined)
        .send()
        .await
        .unwrap();
    assert_eq!(
        q.body.collect().await.unwrap().into_bytes().as_ref(),
        HTML_AS_PDF
    );
    // Redelivered after the move: still a no-op.
    let once = stored(table, TENANT, &y).await;
    process_event_json(&aws.services, &event).await.unwrap();
    assert_eq!(stored(table, TENANT, &y).await, once);

    // The quarantine copy raised no notification (the filter is receipts/).
    let leftover = aws
        .sqs
        .receive_message()
        .queue_url(&aws.queue_url)
        .wait_time_seconds(1)
        .send()
        .await
        .unwrap();
    assert!(leftover.messages().is_empty(), "{leftover:?}");
    // What the person typed is untouched by the processor.
    let x_now = stored(table, TENANT, &x).await;
    assert_eq!(x_now.status, WorkStatus::Draft);
    assert_eq!(x_now.amount.to_string(), "42.50");
}
