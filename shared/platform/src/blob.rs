//! The Blob port: files (receipts, invoice PDFs) that are too big for the table.
//!
//! Browsers upload and download directly with presigned requests, so large
//! bodies never pass through a Lambda; functions use `get`/`put` for what they
//! produce or process themselves. A finished upload raises an S3-shaped
//! ObjectCreated event (S3 notifications in AWS, the embedded queue locally).

use std::time::Duration;

use async_trait::async_trait;
use bytes::Bytes;

use crate::ports::{PortError, PortResult};

#[cfg(feature = "embedded")]
pub mod embedded;
pub mod s3;

#[cfg(feature = "embedded")]
pub use embedded::EmbeddedBlob;
pub use s3::S3Blob;

/// How presigned downloads are served by both adapters: as a file to save.
pub const DOWNLOAD_DISPOSITION: &str = "attachment";

/// Presigned URLs may live at most this long (the SigV4 limit, kept locally too).
pub const MAX_PRESIGN_EXPIRY: Duration = Duration::from_secs(7 * 24 * 3600);

/// Everything a client needs to perform one request without credentials.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PresignedRequest {
    pub url: String,
    pub method: String,
    /// Headers the client must send exactly as given (for PUT: the pinned
    /// content type and length, which the signature covers).
    pub headers: Vec<(String, String)>,
    pub expires_at: jiff::Timestamp,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct BlobMeta {
    pub size: u64,
    pub content_type: Option<String>,
}

#[async_trait]
pub trait Blob: Send + Sync {
    /// A PUT the uploader can perform directly. Content type and length are
    /// pinned so a URL issued for a 2 MB PDF cannot store anything else.
    async fn presign_put(
        &self,
        key: &str,
        content_type: &str,
        content_length: u64,
        expires_in: Duration,
    ) -> PortResult<PresignedRequest>;

    /// A GET the browser can follow directly.
    async fn presign_get(&self, key: &str, expires_in: Duration) -> PortResult<PresignedRequest>;

    /// Size and type, or None when there is no such object (e.g. to confirm
    /// that an upload finished before recording it).
    async fn head(&self, key: &str) -> PortResult<Option<BlobMeta>>;

    async fn get(&self, key: &str) -> PortResult<Option<Bytes>>;

    async fn put(&self, key: &str, body: Bytes, content_type: &str) -> PortResult<()>;

    /// Deleting a missing key is Ok, as in S3, so retries are harmless.
    async fn delete(&self, key: &str) -> PortResult<()>;
}

/// The key rules both adapters enforce, so a key that works locally works in
/// AWS and no key can escape the embedded adapter's directory: relative,
/// `/`-separated, no empty, `.` or `..` segments, no backslashes or control
/// characters, at most 1024 bytes (S3's limit).
pub fn check_key(key: &str) -> PortResult<()> {
    let refuse = |why: &str| Err(PortError::Refused(format!("blob key {key:?} {why}")));
    if key.is_empty() {
        return refuse("is empty");
    }
    if key.len() > 1024 {
        return refuse("is longer than 1024 bytes");
    }
    if key.starts_with('/') {
        return refuse("is absolute");
    }
    if key.contains('\\') || key.chars().any(char::is_control) {
        return refuse("contains a backslash or control character");
    }
    for segment in key.split('/') {
        match segment {
            "" => return refuse("has an empty segment"),
            "." | ".." => return refuse("has a relative segment"),
            _ => {}
        }
    }
    Ok(())
}

/// Checks a content type before it is pinned in a signature.
pub(crate) fn check_content_type(content_type: &str) -> PortResult<()> {
    if content_type.is_empty()
        || content_type
            .chars()
            .any(|c| c.is_control() || !c.is_ascii())
    {
        return Err(PortError::Refused(format!(
            "content type {content_type:?} is empty or not printable ASCII"
        )));
    }
    Ok(())
}

pub(crate) fn check_expiry(expires_in: Duration) -> PortResult<()> {
    if expires_in.is_zero() || expires_in > MAX_PRESIGN_EXPIRY {
        return Err(PortError::Refused(
            "presigned URLs must expire within 1 second to 7 days".into(),
        ));
    }
    Ok(())
}

/// Percent-encodes `s`, leaving ASCII alphanumerics and the bytes in `keep`.
fn percent_encode(s: &str, keep: &[u8], space_as_plus: bool) -> String {
    let mut out = String::with_capacity(s.len());
    for &b in s.as_bytes() {
        if b.is_ascii_alphanumeric() || keep.contains(&b) {
            out.push(char::from(b));
        } else if b == b' ' && space_as_plus {
            out.push('+');
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

/// RFC 3986 encoding for a query value or one path segment.
#[cfg(feature = "embedded")]
pub(crate) fn encode_component(s: &str) -> String {
    percent_encode(s, b"-_.~", false)
}

/// A key as a URL path: each segment encoded, `/` kept.
#[cfg(feature = "embedded")]
pub(crate) fn encode_key_path(key: &str) -> String {
    key.split('/')
        .map(encode_component)
        .collect::<Vec<_>>()
        .join("/")
}

/// The key as S3 puts it in event notifications: form-URL-encoded (space as
/// `+`) with `/` kept, e.g. `receipts/my file (1).pdf` ->
/// `receipts/my+file+%281%29.pdf`. Consumers decode it the same way in both
/// environments.
pub fn s3_event_key(key: &str) -> String {
    percent_encode(key, b"-_.*/", true)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_that_could_escape_are_refused() {
        for bad in [
            "",
            "/etc/passwd",
            "../x",
            "a/../b",
            "a/./b",
            "a//b",
            "a/",
            "a\\b",
            "a\nb",
        ] {
            assert!(
                matches!(check_key(bad), Err(PortError::Refused(_))),
                "{bad:?} was accepted"
            );
        }
        for good in [
            "a",
            "t/1/receipts/r.pdf",
            "my file (1).pdf",
            "ünï/..x/x..",
            ".hidden",
        ] {
            assert!(check_key(good).is_ok(), "{good:?} was refused");
        }
    }

    #[test]
    fn event_keys_are_encoded_like_s3() {
        assert_eq!(s3_event_key("a/my file (1).pdf"), "a/my+file+%281%29.pdf");
        assert_eq!(s3_event_key("x=y:z"), "x%3Dy%3Az");
        assert_eq!(s3_event_key("ü"), "%C3%BC");
    }
}
