//! Embedded adapter of the Blob port: a directory plus HMAC-signed, expiring
//! local URLs served by [`EmbeddedBlob::router`].
//!
//! Layout under `dir`: `objects/<key>` holds the bytes exactly as uploaded (so
//! a developer can open them), `meta/<sha256(key)>.json` the content type and
//! ETag, `tmp/` the files being written. Every write goes to `tmp/` and is
//! renamed into place, so readers never see half a file.
//!
//! Presigned URLs look like
//! `{base_url}/blob/{key}?expires=<epoch s>&ct=<type>&len=<bytes>&sig=<hex>`,
//! where `sig` is HMAC-SHA256 over method, key, expires, ct and len, so none of
//! them can be changed. Every finished PUT (through a URL or [`Blob::put`], like
//! any PutObject in S3) sends an S3-shaped `ObjectCreated:Put` event to the
//! logical queue [`BLOB_EVENTS_QUEUE`] when a queue is configured.

use std::io::Write;
use std::path::{Path as FsPath, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use async_trait::async_trait;
use axum::body::Body;
use axum::extract::rejection::{PathRejection, QueryRejection};
use axum::extract::{Path, Query, State};
use axum::http::header::{
    CONTENT_DISPOSITION, CONTENT_LENGTH, CONTENT_TYPE, ETAG, X_CONTENT_TYPE_OPTIONS,
};
use axum::http::{HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::put;
use axum::Router;
use bytes::Bytes;
use hmac::{Hmac, Mac};
use serde::{Deserialize, Serialize};
use serde_json::json;
use sha2::{Digest, Sha256};

use super::{
    check_content_type, check_expiry, check_key, encode_component, encode_key_path, s3_event_key,
    Blob, BlobMeta, PresignedRequest, DOWNLOAD_DISPOSITION,
};
use crate::clock::{Clock, SystemClock};
use crate::error::{ApiError, Conflict};
use crate::ports::{PortError, PortResult};
use crate::queue::{EmbeddedQueue, Queue};

/// The logical queue that receives ObjectCreated events.
pub const BLOB_EVENTS_QUEUE: &str = "blob-events";
/// The bucket name events report locally.
pub const LOCAL_BUCKET: &str = "local";

type HmacSha256 = Hmac<Sha256>;

pub struct EmbeddedBlob {
    dir: PathBuf,
    secret: Vec<u8>,
    base_url: String,
    queue: Option<Arc<EmbeddedQueue>>,
    clock: Arc<dyn Clock>,
}

#[derive(Serialize, Deserialize)]
struct Meta {
    content_type: String,
    etag: String,
}

/// The query of a presigned URL; every part is optional here so that a
/// missing one becomes a 403 problem, not an extractor error.
#[derive(Deserialize)]
struct SignedQuery {
    expires: Option<String>,
    ct: Option<String>,
    len: Option<String>,
    sig: Option<String>,
}

fn backend(e: impl std::fmt::Display) -> PortError {
    PortError::Backend(e.to_string())
}

fn forbidden(detail: impl Into<String>) -> ApiError {
    ApiError::Forbidden(detail.into())
}

/// What the signature covers; keys and content types cannot contain newlines.
fn canonical(method: &str, key: &str, expires: &str, ct: &str, len: &str) -> String {
    format!("{method}\n{key}\n{expires}\n{ct}\n{len}")
}

/// ETag in the shape S3 uses for simple uploads (32 hex digits); locally a
/// truncated SHA-256 rather than MD5.
fn etag_of(body: &[u8]) -> String {
    hex::encode(&Sha256::digest(body)[..16])
}

impl EmbeddedBlob {
    /// Files live under `dir`; URLs are signed with `secret` (refused when
    /// empty, as anyone could forge them) and start with `base_url`, where the
    /// local host serves [`EmbeddedBlob::router`].
    pub fn new(
        dir: impl Into<PathBuf>,
        secret: Vec<u8>,
        base_url: String,
        queue: Option<Arc<EmbeddedQueue>>,
    ) -> PortResult<Self> {
        if secret.is_empty() {
            return Err(PortError::Refused("the URL signing secret is empty".into()));
        }
        Ok(EmbeddedBlob {
            dir: dir.into(),
            secret,
            base_url: base_url.trim_end_matches('/').to_owned(),
            queue,
            clock: Arc::new(SystemClock),
        })
    }

    /// Replaces the system clock (expiry is checked against it).
    pub fn with_clock(mut self, clock: Arc<dyn Clock>) -> Self {
        self.clock = clock;
        self
    }

    /// Serves `PUT /blob/{*key}` and `GET /blob/{*key}` for presigned URLs.
    pub fn router(self: Arc<Self>) -> Router {
        Router::new()
            .route("/blob/{*key}", put(put_object).get(get_object))
            .with_state(self)
    }

    fn data_path(&self, key: &str) -> PortResult<PathBuf> {
        check_key(key)?;
        let mut path = self.dir.join("objects");
        path.extend(key.split('/'));
        Ok(path)
    }

    fn meta_path(&self, key: &str) -> PathBuf {
        self.dir.join("meta").join(format!(
            "{}.json",
            hex::encode(Sha256::digest(key.as_bytes()))
        ))
    }

    fn signature(&self, canonical: &str) -> PortResult<HmacSha256> {
        let mut mac = HmacSha256::new_from_slice(&self.secret).map_err(backend)?;
        mac.update(canonical.as_bytes());
        Ok(mac)
    }

    fn presign(
        &self,
        method: &str,
        key: &str,
        pinned: Option<(&str, u64)>,
        expires_in: Duration,
    ) -> PortResult<PresignedRequest> {
        check_key(key)?;
        check_expiry(expires_in)?;
        let secs = i64::try_from(expires_in.as_secs() + u64::from(expires_in.subsec_nanos() > 0))
            .map_err(backend)?;
        let expires = self.clock.now().as_second().saturating_add(secs);
        let expires_at = jiff::Timestamp::from_second(expires).map_err(backend)?;
        let (ct, len) = match pinned {
            Some((ct, len)) => (ct.to_owned(), len.to_string()),
            None => (String::new(), String::new()),
        };
        let expires = expires.to_string();
        let sig = hex::encode(
            self.signature(&canonical(method, key, &expires, &ct, &len))?
                .finalize()
                .into_bytes(),
        );
        let mut url = format!(
            "{}/blob/{}?expires={expires}",
            self.base_url,
            encode_key_path(key)
        );
        let mut headers = Vec::new();
        if pinned.is_some() {
            url.push_str(&format!("&ct={}&len={len}", encode_component(&ct)));
            headers.push(("content-type".to_owned(), ct));
            headers.push(("content-length".to_owned(), len));
        }
        url.push_str(&format!("&sig={sig}"));
        Ok(PresignedRequest {
            url,
            method: method.to_owned(),
            headers,
            expires_at,
        })
    }

    /// Checks a presigned request; returns the signed content type and length
    /// (empty for GET). Constant-time comparison via `Mac::verify_slice`.
    fn verify(
        &self,
        method: &str,
        key: &str,
        q: &SignedQuery,
    ) -> Result<(String, String), ApiError> {
        let (Some(expires), Some(sig)) = (q.expires.as_deref(), q.sig.as_deref()) else {
            return Err(forbidden("the URL is not signed"));
        };
        let sig = hex::decode(sig).map_err(|_| forbidden("the signature is malformed"))?;
        let ct = q.ct.as_deref().unwrap_or("");
        let len = q.len.as_deref().unwrap_or("");
        self.signature(&canonical(method, key, expires, ct, len))
            .map_err(|e| ApiError::Internal(e.to_string()))?
            .verify_slice(&sig)
            .map_err(|_| forbidden("the signature does not match this request"))?;
        let expires: i64 = expires
            .parse()
            .map_err(|_| forbidden("the expiry is malformed"))?;
        if self.clock.now().as_second() > expires {
            return Err(forbidden("the URL has expired"));
        }
        Ok((ct.to_owned(), len.to_owned()))
    }

    /// Writes the object atomically, then raises the ObjectCreated event.
    /// Returns the ETag. If the event cannot be queued the error is returned
    /// (the object stays): the uploader retries and the consumer is idempotent.
    async fn store(&self, key: &str, body: Bytes, content_type: &str) -> PortResult<String> {
        check_content_type(content_type)?;
        let data = self.data_path(key)?;
        let meta_path = self.meta_path(key);
        let etag = etag_of(&body);
        let meta = serde_json::to_vec(&Meta {
            content_type: content_type.to_owned(),
            etag: etag.clone(),
        })
        .map_err(backend)?;
        let tmp = self.dir.join("tmp");
        let size = body.len();
        tokio::task::spawn_blocking(move || write_object(&tmp, &data, &meta_path, &body, &meta))
            .await
            .map_err(backend)??;
        if let Some(queue) = &self.queue {
            let event = self.object_created_event(key, size, &etag);
            queue.send(BLOB_EVENTS_QUEUE, &event.to_string()).await?;
        }
        Ok(etag)
    }

    /// The S3 event notification shape (version 2.1) for one PutObject.
    fn object_created_event(&self, key: &str, size: usize, etag: &str) -> serde_json::Value {
        let now = self.clock.now();
        let request_id = uuid::Uuid::new_v4().simple().to_string().to_uppercase();
        json!({
            "Records": [{
                "eventVersion": "2.1",
                "eventSource": "aws:s3",
                "awsRegion": "us-east-1",
                "eventTime": now.strftime("%Y-%m-%dT%H:%M:%S%.3fZ").to_string(),
                "eventName": "ObjectCreated:Put",
                "userIdentity": { "principalId": "local" },
                "requestParameters": { "sourceIPAddress": "127.0.0.1" },
                "responseElements": {
                    "x-amz-request-id": &request_id[..16],
                    "x-amz-id-2": request_id,
                },
                "s3": {
                    "s3SchemaVersion": "1.0",
                    "configurationId": "local-blob-events",
                    "bucket": {
                        "name": LOCAL_BUCKET,
                        "ownerIdentity": { "principalId": "local" },
                        "arn": format!("arn:aws:s3:::{LOCAL_BUCKET}"),
                    },
                    "object": {
                        "key": s3_event_key(key),
                        "size": size,
                        "eTag": etag,
                        "sequencer": format!("{:016X}", now.as_nanosecond()),
                    }
                }
            }]
        })
    }
}

fn write_atomic(tmp_dir: &FsPath, target: &FsPath, bytes: &[u8]) -> PortResult<()> {
    let tmp = tmp_dir.join(uuid::Uuid::new_v4().to_string());
    let written = std::fs::File::create(&tmp).and_then(|mut f| {
        f.write_all(bytes)?;
        f.sync_all()
    });
    if let Err(e) = written.and_then(|()| std::fs::rename(&tmp, target)) {
        let _ = std::fs::remove_file(&tmp);
        return Err(backend(e));
    }
    Ok(())
}

fn write_object(
    tmp_dir: &FsPath,
    data: &FsPath,
    meta_path: &FsPath,
    body: &[u8],
    meta: &[u8],
) -> PortResult<()> {
    // S3 allows both `a` and `a/b`; a directory tree cannot, so refuse clearly.
    let conflict = || PortError::Refused("the key collides with an existing key's prefix".into());
    if data.is_dir() {
        return Err(conflict());
    }
    std::fs::create_dir_all(tmp_dir).map_err(backend)?;
    if let Some(parent) = meta_path.parent() {
        std::fs::create_dir_all(parent).map_err(backend)?;
    }
    if let Some(parent) = data.parent() {
        std::fs::create_dir_all(parent).map_err(|e| match e.kind() {
            std::io::ErrorKind::AlreadyExists | std::io::ErrorKind::NotADirectory => conflict(),
            _ => backend(e),
        })?;
    }
    write_atomic(tmp_dir, meta_path, meta)?;
    write_atomic(tmp_dir, data, body)
}

fn ignore_missing(r: std::io::Result<()>) -> PortResult<()> {
    match r {
        Err(e) if e.kind() != std::io::ErrorKind::NotFound => Err(backend(e)),
        _ => Ok(()),
    }
}

#[async_trait]
impl Blob for EmbeddedBlob {
    async fn presign_put(
        &self,
        key: &str,
        content_type: &str,
        content_length: u64,
        expires_in: Duration,
    ) -> PortResult<PresignedRequest> {
        check_content_type(content_type)?;
        self.presign("PUT", key, Some((content_type, content_length)), expires_in)
    }

    async fn presign_get(&self, key: &str, expires_in: Duration) -> PortResult<PresignedRequest> {
        self.presign("GET", key, None, expires_in)
    }

    async fn head(&self, key: &str) -> PortResult<Option<BlobMeta>> {
        let data = self.data_path(key)?;
        let meta_path = self.meta_path(key);
        tokio::task::spawn_blocking(move || {
            let md = match std::fs::metadata(&data) {
                Ok(md) if md.is_file() => md,
                Ok(_) => return Ok(None),
                Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
                Err(e) => return Err(backend(e)),
            };
            let content_type = std::fs::read(&meta_path)
                .ok()
                .and_then(|m| serde_json::from_slice::<Meta>(&m).ok())
                .map(|m| m.content_type);
            Ok(Some(BlobMeta {
                size: md.len(),
                content_type,
            }))
        })
        .await
        .map_err(backend)?
    }

    async fn get(&self, key: &str) -> PortResult<Option<Bytes>> {
        let data = self.data_path(key)?;
        tokio::task::spawn_blocking(move || {
            if data.is_dir() {
                return Ok(None);
            }
            match std::fs::read(&data) {
                Ok(b) => Ok(Some(Bytes::from(b))),
                Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
                Err(e) => Err(backend(e)),
            }
        })
        .await
        .map_err(backend)?
    }

    async fn put(&self, key: &str, body: Bytes, content_type: &str) -> PortResult<()> {
        self.store(key, body, content_type).await.map(|_| ())
    }

    async fn delete(&self, key: &str) -> PortResult<()> {
        let data = self.data_path(key)?;
        let meta_path = self.meta_path(key);
        tokio::task::spawn_blocking(move || {
            if !data.is_dir() {
                ignore_missing(std::fs::remove_file(&data))?;
            }
            ignore_missing(std::fs::remove_file(&meta_path))
        })
        .await
        .map_err(backend)?
    }
}

async fn put_object(
    State(blob): State<Arc<EmbeddedBlob>>,
    key: Result<Path<String>, PathRejection>,
    query: Result<Query<SignedQuery>, QueryRejection>,
    headers: HeaderMap,
    body: Body,
) -> Response {
    match put_checked(&blob, key, query, &headers, body).await {
        Ok(res) => res,
        Err(e) => e.into_response(),
    }
}

async fn put_checked(
    blob: &EmbeddedBlob,
    key: Result<Path<String>, PathRejection>,
    query: Result<Query<SignedQuery>, QueryRejection>,
    headers: &HeaderMap,
    body: Body,
) -> Result<Response, ApiError> {
    let Path(key) = key.map_err(|_| forbidden("the key is malformed"))?;
    let Query(q) = query.map_err(|_| forbidden("the query is malformed"))?;
    check_key(&key).map_err(|e| forbidden(e.to_string()))?;
    let (ct, len) = blob.verify("PUT", &key, &q)?;
    let len: u64 = len
        .parse()
        .map_err(|_| forbidden("the URL does not pin a length"))?;
    let sent_type = headers.get(CONTENT_TYPE).and_then(|v| v.to_str().ok());
    if sent_type != Some(ct.as_str()) {
        return Err(forbidden(format!("Content-Type must be {ct:?}")));
    }
    if let Some(sent_len) = headers.get(CONTENT_LENGTH) {
        if sent_len.to_str().ok().and_then(|v| v.parse::<u64>().ok()) != Some(len) {
            return Err(forbidden(format!("Content-Length must be {len}")));
        }
    }
    let limit = usize::try_from(len).map_err(|_| forbidden("the length is too large"))?;
    let bytes = axum::body::to_bytes(body, limit)
        .await
        .map_err(|_| forbidden(format!("the body must be exactly {len} bytes")))?;
    if bytes.len() != limit {
        return Err(forbidden(format!("the body must be exactly {len} bytes")));
    }
    let etag = blob.store(&key, bytes, &ct).await.map_err(|e| match e {
        PortError::Refused(why) => Conflict::StorageRefused(why).into(),
        other => ApiError::Internal(other.to_string()),
    })?;
    let mut res = StatusCode::OK.into_response();
    if let Ok(v) = HeaderValue::from_str(&format!("\"{etag}\"")) {
        res.headers_mut().insert(ETAG, v);
    }
    Ok(res)
}

async fn get_object(
    State(blob): State<Arc<EmbeddedBlob>>,
    key: Result<Path<String>, PathRejection>,
    query: Result<Query<SignedQuery>, QueryRejection>,
) -> Response {
    match get_checked(&blob, key, query).await {
        Ok(res) => res,
        Err(e) => e.into_response(),
    }
}

async fn get_checked(
    blob: &EmbeddedBlob,
    key: Result<Path<String>, PathRejection>,
    query: Result<Query<SignedQuery>, QueryRejection>,
) -> Result<Response, ApiError> {
    let Path(key) = key.map_err(|_| forbidden("the key is malformed"))?;
    let Query(q) = query.map_err(|_| forbidden("the query is malformed"))?;
    check_key(&key).map_err(|e| forbidden(e.to_string()))?;
    blob.verify("GET", &key, &q)?;
    let internal = |e: PortError| ApiError::Internal(e.to_string());
    let body = blob
        .get(&key)
        .await
        .map_err(internal)?
        .ok_or(ApiError::NotFound("blob"))?;
    let content_type = blob
        .head(&key)
        .await
        .map_err(internal)?
        .and_then(|m| m.content_type)
        .unwrap_or_else(|| "application/octet-stream".to_owned());
    let mut res = (StatusCode::OK, body).into_response();
    if let Ok(v) = HeaderValue::from_str(&content_type) {
        res.headers_mut().insert(CONTENT_TYPE, v);
    }
    // Uploaded files are someone else's bytes: a browser saves them, never
    // renders them as a page of this origin, whatever they claim to be.
    res.headers_mut().insert(
        CONTENT_DISPOSITION,
        HeaderValue::from_static(DOWNLOAD_DISPOSITION),
    );
    res.headers_mut()
        .insert(X_CONTENT_TYPE_OPTIONS, HeaderValue::from_static("nosniff"));
    Ok(res)
}
