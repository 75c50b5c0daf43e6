//! AWS adapter of the Blob port: one S3 bucket.

use std::time::{Duration, SystemTime};

use async_trait::async_trait;
use aws_sdk_s3::error::DisplayErrorContext;
use aws_sdk_s3::presigning::{PresignedRequest as SdkPresigned, PresigningConfig};
use aws_sdk_s3::primitives::ByteStream;
use aws_sdk_s3::Client;
use bytes::Bytes;

use super::{
    check_content_type, check_expiry, check_key, Blob, BlobMeta, PresignedRequest,
    DOWNLOAD_DISPOSITION,
};
use crate::ports::{PortError, PortResult};

#[derive(Clone, Debug)]
pub struct S3Blob {
    client: Client,
    bucket: String,
}

fn backend<E>(e: &E) -> PortError
where
    E: std::error::Error,
{
    PortError::Backend(DisplayErrorContext(e).to_string())
}

impl S3Blob {
    pub fn new(client: Client, bucket: impl Into<String>) -> Self {
        S3Blob {
            client,
            bucket: bucket.into(),
        }
    }

    /// Starts now, so `expires_at` is exactly what the signature says.
    fn presigning(expires_in: Duration) -> PortResult<(PresigningConfig, jiff::Timestamp)> {
        check_expiry(expires_in)?;
        let start = SystemTime::now();
        let config = PresigningConfig::builder()
            .start_time(start)
            .expires_in(expires_in)
            .build()
            .map_err(|e| PortError::Refused(e.to_string()))?;
        let expires_at = jiff::Timestamp::try_from(start + expires_in)
            .map_err(|e| PortError::Backend(e.to_string()))?;
        Ok((config, expires_at))
    }
}

fn into_port(req: &SdkPresigned, expires_at: jiff::Timestamp) -> PresignedRequest {
    PresignedRequest {
        url: req.uri().to_owned(),
        method: req.method().to_owned(),
        headers: req
            .headers()
            .map(|(k, v)| (k.to_owned(), v.to_owned()))
            .collect(),
        expires_at,
    }
}

#[async_trait]
impl Blob for S3Blob {
    async fn presign_put(
        &self,
        key: &str,
        content_type: &str,
        content_length: u64,
        expires_in: Duration,
    ) -> PortResult<PresignedRequest> {
        check_key(key)?;
        check_content_type(content_type)?;
        let length = i64::try_from(content_length)
            .map_err(|_| PortError::Refused("content length is too large".into()))?;
        let (config, expires_at) = Self::presigning(expires_in)?;
        let req = self
            .client
            .put_object()
            .bucket(&self.bucket)
            .key(key)
            .content_type(content_type)
            .content_length(length)
            .presigned(config)
            .await
            .map_err(|e| backend(&e))?;
        let mut out = into_port(&req, expires_at);
        // Both are signed headers; make sure the uploader is told to send them
        // even if a future SDK stops listing them.
        for (name, value) in [
            ("content-type", content_type.to_owned()),
            ("content-length", content_length.to_string()),
        ] {
            if !out
                .headers
                .iter()
                .any(|(k, _)| k.eq_ignore_ascii_case(name))
            {
                out.headers.push((name.to_owned(), value));
            }
        }
        Ok(out)
    }

    async fn presign_get(&self, key: &str, expires_in: Duration) -> PortResult<PresignedRequest> {
        check_key(key)?;
        let (config, expires_at) = Self::presigning(expires_in)?;
        let req = self
            .client
            .get_object()
            .bucket(&self.bucket)
            .key(key)
            // Saved, never rendered in the browser, as the embedded adapter does.
            .response_content_disposition(DOWNLOAD_DISPOSITION)
            .presigned(config)
            .await
            .map_err(|e| backend(&e))?;
        Ok(into_port(&req, expires_at))
    }

    async fn head(&self, key: &str) -> PortResult<Option<BlobMeta>> {
        check_key(key)?;
        match self
            .client
            .head_object()
            .bucket(&self.bucket)
            .key(key)
            .send()
            .await
        {
            Ok(out) => Ok(Some(BlobMeta {
                size: out
                    .content_length()
                    .and_then(|n| u64::try_from(n).ok())
                    .unwrap_or(0),
                content_type: out.content_type().map(str::to_owned),
            })),
            Err(e) if e.as_service_error().is_some_and(|s| s.is_not_found()) => Ok(None),
            Err(e) => Err(backend(&e)),
        }
    }

    async fn get(&self, key: &str) -> PortResult<Option<Bytes>> {
        check_key(key)?;
        match self
            .client
            .get_object()
            .bucket(&self.bucket)
            .key(key)
            .send()
            .await
        {
            Ok(out) => {
                let data = out.body.collect().await.map_err(|e| backend(&e))?;
                Ok(Some(data.into_bytes()))
            }
            Err(e) if e.as_service_error().is_some_and(|s| s.is_no_such_key()) => Ok(None),
            Err(e) => Err(backend(&e)),
        }
    }

    async fn put(&self, key: &str, body: Bytes, content_type: &str) -> PortResult<()> {
        check_key(key)?;
        check_content_type(content_type)?;
        self.client
            .put_object()
            .bucket(&self.bucket)
            .key(key)
            .content_type(content_type)
            .body(ByteStream::from(body))
            .send()
            .await
            .map_err(|e| backend(&e))?;
        Ok(())
    }

    async fn delete(&self, key: &str) -> PortResult<()> {
        check_key(key)?;
        self.client
            .delete_object()
            .bucket(&self.bucket)
            .key(key)
            .send()
            .await
            .map_err(|e| backend(&e))?;
        Ok(())
    }
}
