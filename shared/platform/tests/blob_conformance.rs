//! One conformance suite for the Blob port, run against the embedded adapter
//! (served over real HTTP) and against S3 on moto, plus the embedded adapter's
//! own guarantees: signed, expiring, pinned URLs and S3-shaped upload events.

use std::sync::Arc;
use std::time::Duration;

use agencyops_platform::aws::emulator_config;
use agencyops_platform::blob::embedded::{BLOB_EVENTS_QUEUE, LOCAL_BUCKET};
use agencyops_platform::blob::{Blob, BlobMeta, EmbeddedBlob, PresignedRequest, S3Blob};
use agencyops_platform::clock::ManualClock;
use agencyops_platform::ports::PortError;
use agencyops_platform::queue::EmbeddedQueue;
use agencyops_store::EmbeddedTable;
use agencyops_testkit::Moto;
use bytes::Bytes;
use jiff::{SignedDuration, Timestamp};
use serde_json::Value;

const BUCKET: &str = "agencyops-test";

fn start() -> Timestamp {
    "2026-11-20T09:00:00Z".parse().unwrap()
}

// ---------------------------------------------------------------- embedded

struct Local {
    dir: tempfile::TempDir,
    clock: ManualClock,
    queue: Arc<EmbeddedQueue>,
    blob: Arc<EmbeddedBlob>,
}

async fn local() -> Local {
    let dir = tempfile::tempdir().unwrap();
    let clock = ManualClock::at(start());
    let table = EmbeddedTable::open(&dir.path().join("data.db")).unwrap();
    let queue = Arc::new(
        EmbeddedQueue::new(table.connection(), 3)
            .unwrap()
            .with_clock(Arc::new(clock.clone())),
    );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let blob = Arc::new(
        EmbeddedBlob::new(
            dir.path().join("blobs"),
            b"local-test-secret".to_vec(),
            format!("http://{addr}/"),
            Some(queue.clone()),
        )
        .unwrap()
        .with_clock(Arc::new(clock.clone())),
    );
    let router = blob.clone().router();
    tokio::spawn(async move { axum::serve(listener, router).await });
    Local {
        dir,
        clock,
        queue,
        blob,
    }
}

impl Local {
    /// Everything on the blob-events queue, acknowledged.
    async fn events(&self) -> Vec<Value> {
        let got = self
            .queue
            .receive(BLOB_EVENTS_QUEUE, 100, Duration::from_secs(30))
            .await
            .unwrap();
        let mut out = Vec::new();
        for m in got {
            self.queue.delete(&m.receipt).await.unwrap();
            out.push(serde_json::from_str(&m.body).unwrap());
        }
        out
    }
}

// ---------------------------------------------------------------- S3 (moto)

struct Remote {
    _moto: Moto,
    blob: Arc<S3Blob>,
}

async fn remote() -> Remote {
    let moto = tokio::task::spawn_blocking(Moto::start)
        .await
        .unwrap()
        .unwrap();
    let sdk = emulator_config(&moto.endpoint);
    let conf = aws_sdk_s3::config::Builder::from(&sdk)
        .force_path_style(true)
        .build();
    let client = aws_sdk_s3::Client::from_conf(conf);
    client.create_bucket().bucket(BUCKET).send().await.unwrap();
    Remote {
        _moto: moto,
        blob: Arc::new(S3Blob::new(client, BUCKET)),
    }
}

// ---------------------------------------------------------------- helpers

/// Performs a presigned request exactly as a browser would: the given method,
/// URL and headers, nothing else.
async fn perform(p: &PresignedRequest, body: Option<Vec<u8>>) -> reqwest::Response {
    let method = reqwest::Method::from_bytes(p.method.as_bytes()).unwrap();
    let mut req = reqwest::Client::new().request(method, &p.url);
    for (k, v) in &p.headers {
        req = req.header(k, v);
    }
    if let Some(body) = body {
        req = req.body(body);
    }
    req.send().await.unwrap()
}

fn header<'a>(p: &'a PresignedRequest, name: &str) -> Option<&'a str> {
    p.headers
        .iter()
        .find(|(k, _)| k.eq_ignore_ascii_case(name))
        .map(|(_, v)| v.as_str())
}

fn sample(len: usize) -> Vec<u8> {
    (0..len).map(|i| (i * 31 % 251) as u8).collect()
}

fn refused<T: std::fmt::Debug>(r: Result<T, PortError>) -> bool {
    matches!(r, Err(PortError::Refused(_)))
}

async fn assert_forbidden_problem(res: reqwest::Response) -> Value {
    assert_eq!(res.status(), 403);
    let ct = res
        .headers()
        .get("content-type")
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default()
        .to_owned();
    assert!(
        ct.starts_with("application/problem+json"),
        "content type {ct}"
    );
    let problem: Value = res.json().await.unwrap();
    assert_eq!(problem["status"], 403);
    for field in ["type", "title", "detail"] {
        assert!(
            problem[field].as_str().is_some_and(|s| !s.is_empty()),
            "{problem}"
        );
    }
    problem
}

// ---------------------------------------------------------------- conformance bodies

async fn put_get_head_delete_round_trip(blob: Arc<dyn Blob>) {
    let key = "t1/receipts/my receipt (1).pdf";
    assert_eq!(blob.head(key).await.unwrap(), None);
    assert_eq!(blob.get(key).await.unwrap(), None);

    let pdf = Bytes::from_static(b"%PDF-1.7\n% fake receipt\n");
    blob.put(key, pdf.clone(), "application/pdf").await.unwrap();
    assert_eq!(
        blob.head(key).await.unwrap(),
        Some(BlobMeta {
            size: pdf.len() as u64,
            content_type: Some("application/pdf".into())
        })
    );
    assert_eq!(blob.get(key).await.unwrap(), Some(pdf));

    let text = Bytes::from_static(b"replaced");
    blob.put(key, text.clone(), "text/plain").await.unwrap();
    assert_eq!(blob.get(key).await.unwrap(), Some(text));
    assert_eq!(
        blob.head(key).await.unwrap().and_then(|m| m.content_type),
        Some("text/plain".into())
    );

    blob.delete(key).await.unwrap();
    assert_eq!(blob.head(key).await.unwrap(), None);
    assert_eq!(blob.get(key).await.unwrap(), None);
    blob.delete(key).await.unwrap();
    blob.delete("t1/never/existed").await.unwrap();
}

async fn presigned_put_then_presigned_get(blob: Arc<dyn Blob>) {
    let key = "t1/uploads/scan 01 (ü).png";
    let bytes = sample(2000);
    let p = blob
        .presign_put(
            key,
            "image/png",
            bytes.len() as u64,
            Duration::from_secs(300),
        )
        .await
        .unwrap();
    assert_eq!(p.method, "PUT");
    assert_eq!(header(&p, "content-type"), Some("image/png"));
    assert_eq!(header(&p, "content-length"), Some("2000"));

    let res = perform(&p, Some(bytes.clone())).await;
    assert!(
        res.status().is_success(),
        "{} {}",
        res.status(),
        res.text().await.unwrap_or_default()
    );
    assert_eq!(blob.get(key).await.unwrap().as_deref(), Some(&bytes[..]));
    assert_eq!(
        blob.head(key).await.unwrap(),
        Some(BlobMeta {
            size: 2000,
            content_type: Some("image/png".into())
        })
    );

    let g = blob
        .presign_get(key, Duration::from_secs(60))
        .await
        .unwrap();
    assert_eq!(g.method, "GET");
    let res = perform(&g, None).await;
    assert_eq!(res.status(), 200);
    // A browser following the link saves the file instead of rendering it.
    assert_eq!(
        res.headers()
            .get("content-disposition")
            .and_then(|v| v.to_str().ok()),
        Some("attachment")
    );
    assert_eq!(res.bytes().await.unwrap().as_ref(), &bytes[..]);
}

/// Keys that could escape a directory (or are invalid in S3) are refused by
/// every operation, in both adapters.
async fn unsafe_keys_are_refused(blob: Arc<dyn Blob>) {
    for key in [
        "",
        "../escape.txt",
        "t1/../../escape.txt",
        "/etc/passwd",
        "t1//x",
        "t1/./x",
        "t1/",
        "a\\b",
    ] {
        let body = Bytes::from_static(b"x");
        assert!(
            refused(blob.put(key, body, "text/plain").await),
            "put {key:?}"
        );
        assert!(refused(blob.get(key).await), "get {key:?}");
        assert!(refused(blob.head(key).await), "head {key:?}");
        assert!(refused(blob.delete(key).await), "delete {key:?}");
        assert!(
            refused(
                blob.presign_put(key, "text/plain", 1, Duration::from_secs(60))
                    .await
            ),
            "presign_put {key:?}"
        );
        assert!(
            refused(blob.presign_get(key, Duration::from_secs(60)).await),
            "presign_get {key:?}"
        );
    }
}

macro_rules! conformance {
    ($($case:ident),* $(,)?) => {
        mod embedded {
            $(
                #[tokio::test]
                async fn $case() {
                    let h = super::local().await;
                    super::$case(h.blob.clone()).await;
                }
            )*
        }
        mod s3 {
            $(
                #[tokio::test]
                async fn $case() {
                    let h = super::remote().await;
                    super::$case(h.blob.clone()).await;
                }
            )*
        }
    };
}

conformance!(
    put_get_head_delete_round_trip,
    presigned_put_then_presigned_get,
    unsafe_keys_are_refused,
);

// ---------------------------------------------------------------- embedded only

fn replace_param(url: &str, name: &str, value: &str) -> String {
    let (base, query) = url.split_once('?').unwrap();
    let query: Vec<String> = query
        .split('&')
        .map(|kv| match kv.split_once('=') {
            Some((k, _)) if k == name => format!("{k}={value}"),
            _ => kv.to_owned(),
        })
        .collect();
    format!("{base}?{}", query.join("&"))
}

fn param(url: &str, name: &str) -> String {
    let query = url.split_once('?').unwrap().1;
    query
        .split('&')
        .find_map(|kv| {
            kv.split_once('=')
                .filter(|(k, _)| *k == name)
                .map(|(_, v)| v.to_owned())
        })
        .unwrap()
}

#[tokio::test]
async fn embedded_url_has_the_documented_shape() {
    let h = local().await;
    let p = h
        .blob
        .presign_put(
            "t1/a b.pdf",
            "application/pdf",
            12,
            Duration::from_secs(600),
        )
        .await
        .unwrap();
    assert!(p.url.contains("/blob/t1/a%20b.pdf?"), "{}", p.url);
    let expires = start().as_second() + 600;
    assert_eq!(param(&p.url, "expires"), expires.to_string());
    assert_eq!(param(&p.url, "ct"), "application%2Fpdf");
    assert_eq!(param(&p.url, "len"), "12");
    assert_eq!(param(&p.url, "sig").len(), 64);
    assert_eq!(p.expires_at, Timestamp::from_second(expires).unwrap());
}

#[tokio::test]
async fn embedded_tampered_signature_is_forbidden_and_stores_nothing() {
    let h = local().await;
    let key = "t1/receipts/r.pdf";
    let bytes = sample(100);
    let p = h
        .blob
        .presign_put(key, "application/pdf", 100, Duration::from_secs(300))
        .await
        .unwrap();
    let sig = param(&p.url, "sig");
    let flipped = if sig.ends_with('0') { "1" } else { "0" };
    let tampered = PresignedRequest {
        url: replace_param(
            &p.url,
            "sig",
            &format!("{}{flipped}", &sig[..sig.len() - 1]),
        ),
        ..p.clone()
    };
    assert_forbidden_problem(perform(&tampered, Some(bytes.clone())).await).await;

    // The signature also covers the pinned length, type and expiry.
    let mut bigger = PresignedRequest {
        url: replace_param(&p.url, "len", "200"),
        ..p.clone()
    };
    bigger.headers = vec![("content-type".into(), "application/pdf".into())];
    assert_forbidden_problem(perform(&bigger, Some(sample(200))).await).await;
    let later = PresignedRequest {
        url: replace_param(
            &p.url,
            "expires",
            &(start().as_second() + 99_999).to_string(),
        ),
        ..p.clone()
    };
    assert_forbidden_problem(perform(&later, Some(bytes.clone())).await).await;
    let unsigned = PresignedRequest {
        url: p.url.split_once('?').unwrap().0.to_owned(),
        ..p.clone()
    };
    assert_forbidden_problem(perform(&unsigned, Some(bytes.clone())).await).await;

    assert_eq!(h.blob.get(key).await.unwrap(), None);
    assert!(h.events().await.is_empty());

    // The untampered URL still works.
    assert!(perform(&p, Some(bytes)).await.status().is_success());
}

#[tokio::test]
async fn embedded_expired_urls_are_forbidden() {
    let h = local().await;
    let key = "t1/receipts/late.pdf";
    let p = h
        .blob
        .presign_put(key, "application/pdf", 10, Duration::from_secs(60))
        .await
        .unwrap();
    h.clock.advance(SignedDuration::from_secs(61));
    assert_forbidden_problem(perform(&p, Some(sample(10))).await).await;
    assert_eq!(h.blob.get(key).await.unwrap(), None);
    assert!(h.events().await.is_empty());

    h.blob
        .put(key, Bytes::from(sample(10)), "application/pdf")
        .await
        .unwrap();
    let g = h
        .blob
        .presign_get(key, Duration::from_secs(60))
        .await
        .unwrap();
    assert_eq!(perform(&g, None).await.status(), 200);
    h.clock.advance(SignedDuration::from_secs(61));
    assert_forbidden_problem(perform(&g, None).await).await;
}

#[tokio::test]
async fn embedded_wrong_content_type_or_length_is_forbidden() {
    let h = local().await;
    let key = "t1/receipts/typed.pdf";
    let p = h
        .blob
        .presign_put(key, "application/pdf", 50, Duration::from_secs(300))
        .await
        .unwrap();

    let wrong_type = PresignedRequest {
        headers: vec![("content-type".into(), "text/html".into())],
        ..p.clone()
    };
    assert_forbidden_problem(perform(&wrong_type, Some(sample(50))).await).await;

    let no_type = PresignedRequest {
        headers: vec![],
        ..p.clone()
    };
    assert_forbidden_problem(perform(&no_type, Some(sample(50))).await).await;

    let type_only = PresignedRequest {
        headers: vec![("content-type".into(), "application/pdf".into())],
        ..p.clone()
    };
    assert_forbidden_problem(perform(&type_only, Some(sample(51))).await).await;
    assert_forbidden_problem(perform(&type_only, Some(sample(49))).await).await;

    assert_eq!(h.blob.get(key).await.unwrap(), None);
    assert!(h.events().await.is_empty());
}

#[tokio::test]
async fn embedded_get_url_is_signed_too() {
    let h = local().await;
    let key = "t1/invoices/INV-1.pdf";
    let g = h
        .blob
        .presign_get(key, Duration::from_secs(60))
        .await
        .unwrap();
    let res = perform(&g, None).await;
    assert_eq!(res.status(), 404, "a signed GET for a missing object");

    h.blob
        .put(key, Bytes::from_static(b"pdf"), "application/pdf")
        .await
        .unwrap();
    let res = perform(&g, None).await;
    assert_eq!(res.status(), 200);
    let header = |name: &str| {
        res.headers()
            .get(name)
            .and_then(|v| v.to_str().ok())
            .map(str::to_owned)
    };
    assert_eq!(header("content-type").as_deref(), Some("application/pdf"));
    // The host serves other people's files from its own origin: never sniffed
    // into something a browser would run, always saved.
    assert_eq!(header("x-content-type-options").as_deref(), Some("nosniff"));
    assert_eq!(header("content-disposition").as_deref(), Some("attachment"));

    let other_key = PresignedRequest {
        url: g.url.replace("INV-1", "INV-2"),
        ..g.clone()
    };
    assert_forbidden_problem(perform(&other_key, None).await).await;
    // A PUT URL cannot be used to read.
    let p = h
        .blob
        .presign_put(key, "application/pdf", 3, Duration::from_secs(60))
        .await
        .unwrap();
    let as_get = PresignedRequest {
        method: "GET".into(),
        headers: vec![],
        ..p
    };
    assert_forbidden_problem(perform(&as_get, None).await).await;
}

#[tokio::test]
async fn embedded_upload_raises_exactly_one_s3_shaped_event() {
    let h = local().await;
    let key = "t1/receipts/my receipt (1)=ü.pdf";
    let bytes = sample(321);
    let p = h
        .blob
        .presign_put(key, "application/pdf", 321, Duration::from_secs(300))
        .await
        .unwrap();
    let res = perform(&p, Some(bytes)).await;
    assert!(res.status().is_success());
    let etag = res
        .headers()
        .get("etag")
        .and_then(|v| v.to_str().ok())
        .unwrap()
        .trim_matches('"')
        .to_owned();

    let events = h.events().await;
    assert_eq!(events.len(), 1, "{events:?}");
    let records = events[0]["Records"].as_array().unwrap();
    assert_eq!(records.len(), 1);
    let r = &records[0];
    assert_eq!(r["eventSource"], "aws:s3");
    assert_eq!(r["eventName"], "ObjectCreated:Put");
    assert!(r["eventTime"]
        .as_str()
        .unwrap()
        .parse::<Timestamp>()
        .is_ok());
    assert_eq!(r["s3"]["bucket"]["name"], LOCAL_BUCKET);
    assert_eq!(
        r["s3"]["object"]["key"],
        "t1/receipts/my+receipt+%281%29%3D%C3%BC.pdf"
    );
    assert_eq!(r["s3"]["object"]["size"], 321);
    assert_eq!(r["s3"]["object"]["eTag"], etag.as_str());
    assert!(!etag.is_empty());

    // A put through the port is a PutObject too, and raises its own event.
    h.blob
        .put(
            "t1/generated.pdf",
            Bytes::from_static(b"x"),
            "application/pdf",
        )
        .await
        .unwrap();
    let events = h.events().await;
    assert_eq!(events.len(), 1);
    assert_eq!(
        events[0]["Records"][0]["s3"]["object"]["key"],
        "t1/generated.pdf"
    );
}

#[tokio::test]
async fn embedded_traversal_never_writes_outside_its_directory() {
    let h = local().await;
    for key in ["../escape.txt", "../../escape.txt", "/tmp/escape.txt"] {
        assert!(refused(
            h.blob
                .put(key, Bytes::from_static(b"x"), "text/plain")
                .await
        ));
    }
    assert!(!h.dir.path().join("escape.txt").exists());
    // Crafted request paths are refused by the HTTP side as well.
    let p = h
        .blob
        .presign_put("t1/ok.txt", "text/plain", 1, Duration::from_secs(60))
        .await
        .unwrap();
    let crafted = PresignedRequest {
        url: p
            .url
            .replace("/blob/t1/ok.txt", "/blob/t1/..%2F..%2Fescape.txt"),
        ..p
    };
    let res = perform(&crafted, Some(b"x".to_vec())).await;
    assert_eq!(res.status(), 403);
    assert!(!h.dir.path().join("escape.txt").exists());
    assert!(!h.dir.path().join("blobs/escape.txt").exists());
}

#[tokio::test]
async fn embedded_key_that_is_a_prefix_of_another_is_refused_not_corrupted() {
    let h = local().await;
    h.blob
        .put("t1/a/b", Bytes::from_static(b"inner"), "text/plain")
        .await
        .unwrap();
    assert!(refused(
        h.blob
            .put("t1/a", Bytes::from_static(b"outer"), "text/plain")
            .await
    ));
    assert_eq!(h.blob.get("t1/a").await.unwrap(), None);
    assert_eq!(
        h.blob.get("t1/a/b").await.unwrap(),
        Some(Bytes::from_static(b"inner"))
    );
}

#[tokio::test]
async fn embedded_empty_secret_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let r = EmbeddedBlob::new(dir.path(), Vec::new(), "http://x".into(), None);
    assert!(matches!(r, Err(PortError::Refused(_))));
}
