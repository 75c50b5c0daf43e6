//! Extractors that turn every kind of bad input into a problem+json 400 with the
//! offending field named, instead of axum's plain-text rejections.

use axum::body::{Body, Bytes};
use axum::extract::rejection::BytesRejection;
use axum::extract::{FromRequest, FromRequestParts, Request};
use axum::http::header::{CONTENT_TYPE, IF_MATCH};
use axum::http::request::Parts;
use serde::de::DeserializeOwned;
use serde::{Deserialize, Deserializer};

use crate::error::ApiError;

/// Largest JSON body accepted by any endpoint.
pub const MAX_BODY: usize = 256 * 1024;

/// A JSON body. Unknown fields are refused by the types themselves
/// (`deny_unknown_fields`); this reports where the body went wrong.
pub struct Json<T>(pub T);

/// Whether the request says its body is JSON (`application/json` or `…+json`).
fn declares_json(req: &Request) -> bool {
    req.headers()
        .get(CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .map(|ct| {
            let ct = ct
                .split(';')
                .next()
                .unwrap_or("")
                .trim()
                .to_ascii_lowercase();
            ct == "application/json" || (ct.starts_with("application/") && ct.ends_with("+json"))
        })
        .unwrap_or(false)
}

impl<T: DeserializeOwned, S: Send + Sync> FromRequest<S> for Json<T> {
    type Rejection = ApiError;

    async fn from_request(req: Request, state: &S) -> Result<Self, Self::Rejection> {
        if !declares_json(&req) {
            return Err(ApiError::UnsupportedMediaType);
        }
        let bytes = Bytes::from_request(req, state)
            .await
            .map_err(body_rejection)?;
        parse_json(&bytes).map(Json)
    }
}

/// An action's JSON body that may be left out entirely (`POST …/submit` with no
/// body means "no options"). A body that is sent is parsed as strictly as any.
pub struct OptionalJson<T>(pub T);

impl<T: DeserializeOwned + Default, S: Send + Sync> FromRequest<S> for OptionalJson<T> {
    type Rejection = ApiError;

    async fn from_request(req: Request, state: &S) -> Result<Self, Self::Rejection> {
        let is_json = declares_json(&req);
        let bytes = Bytes::from_request(req, state)
            .await
            .map_err(body_rejection)?;
        if bytes.iter().all(u8::is_ascii_whitespace) {
            return Ok(OptionalJson(T::default()));
        }
        if !is_json {
            return Err(ApiError::UnsupportedMediaType);
        }
        parse_json(&bytes).map(OptionalJson)
    }
}

/// Why a body could not be buffered, said truthfully: only a body over the
/// limit is 413; one that broke off or arrived garbled is the client's 400;
/// anything axum counts as a server fault stays a 5xx.
fn body_rejection(rejection: BytesRejection) -> ApiError {
    use axum::extract::rejection::FailedToBufferBody;
    match rejection {
        BytesRejection::FailedToBufferBody(FailedToBufferBody::LengthLimitError(_)) => {
            ApiError::PayloadTooLarge
        }
        other if other.status().is_server_error() => ApiError::Internal(other.body_text()),
        other => ApiError::BadRequest(format!(
            "the request body could not be read: {}",
            other.body_text()
        )),
    }
}

/// Reads a whole body of at most `limit` bytes, with the same truthful errors
/// as the JSON extractors (for middleware that must see the body first).
pub async fn read_body(body: Body, limit: usize) -> Result<Bytes, ApiError> {
    axum::body::to_bytes(body, limit).await.map_err(|e| {
        if caused_by::<http_body_util::LengthLimitError>(&e) {
            ApiError::PayloadTooLarge
        } else {
            ApiError::BadRequest(format!("the request body could not be read: {e}"))
        }
    })
}

/// Whether `E` is anywhere in the chain of `error`'s sources.
fn caused_by<E: std::error::Error + 'static>(error: &(dyn std::error::Error + 'static)) -> bool {
    let mut cause = Some(error);
    while let Some(e) = cause {
        if e.is::<E>() {
            return true;
        }
        cause = e.source();
    }
    false
}

/// For body fields where `null` (clear it) differs from leaving the field out
/// (`#[serde(default, deserialize_with = "nullable")]`): absent is `None`,
/// `null` is `Some(None)`.
pub fn nullable<'de, D, T>(d: D) -> Result<Option<Option<T>>, D::Error>
where
    D: Deserializer<'de>,
    T: Deserialize<'de>,
{
    Option::<T>::deserialize(d).map(Some)
}

/// Parses JSON, naming the path of the first problem.
pub fn parse_json<T: DeserializeOwned>(bytes: &[u8]) -> Result<T, ApiError> {
    if bytes.len() > MAX_BODY {
        return Err(ApiError::PayloadTooLarge);
    }
    let de = &mut serde_json::Deserializer::from_slice(bytes);
    serde_path_to_error::deserialize(de).map_err(|e| {
        let path = e.path().to_string();
        let inner = e.into_inner();
        let detail = match inner.classify() {
            serde_json::error::Category::Syntax | serde_json::error::Category::Eof => {
                format!("not valid JSON: {inner}")
            }
            _ => inner.to_string(),
        };
        ApiError::BadBody {
            detail,
            field: (path != "." && !path.is_empty()).then_some(path),
        }
    })
}

/// Query parameters; unknown or malformed ones are a 400 naming the parameter.
pub struct Query<T>(pub T);

impl<T: DeserializeOwned, S: Send + Sync> FromRequestParts<S> for Query<T> {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, _state: &S) -> Result<Self, Self::Rejection> {
        let q = parts.uri.query().unwrap_or("");
        let de = serde_urlencoded_deserializer(q);
        de.map(Query)
    }
}

fn serde_urlencoded_deserializer<T: DeserializeOwned>(q: &str) -> Result<T, ApiError> {
    let de = serde_urlencoded::Deserializer::new(form_urlencoded::parse(q.as_bytes()));
    serde_path_to_error::deserialize(de).map_err(|e| {
        let path = e.path().to_string();
        let field = if path == "." || path.is_empty() {
            "query".to_owned()
        } else {
            format!("query.{path}")
        };
        ApiError::field(field, e.into_inner().to_string())
    })
}

/// Path parameters. A malformed id cannot name anything, so it is a 404.
pub struct Path<T>(pub T);

impl<T: DeserializeOwned + Send, S: Send + Sync> FromRequestParts<S> for Path<T> {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Self::Rejection> {
        let raw = axum::extract::RawPathParams::from_request_parts(parts, state)
            .await
            .map_err(|_| ApiError::NotFound("resource"))?;
        if raw.iter().any(|(_, v)| !crate::caller::valid_id(v)) {
            return Err(ApiError::NotFound("resource"));
        }
        axum::extract::Path::<T>::from_request_parts(parts, state)
            .await
            .map(|axum::extract::Path(v)| Path(v))
            .map_err(|_| ApiError::NotFound("resource"))
    }
}

/// The version an `If-Match` header names, if one was sent.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct IfMatch(pub Option<u64>);

impl<S: Send + Sync> FromRequestParts<S> for IfMatch {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, _state: &S) -> Result<Self, Self::Rejection> {
        let Some(raw) = parts.headers.get(IF_MATCH) else {
            return Ok(IfMatch(None));
        };
        let raw = raw
            .to_str()
            .map_err(|_| ApiError::PreconditionFailed)?
            .trim();
        if raw == "*" {
            return Ok(IfMatch(None));
        }
        parse_etag(raw)
            .map(|v| IfMatch(Some(v)))
            .ok_or(ApiError::PreconditionFailed)
    }
}

/// The ETag of a versioned resource.
pub fn etag(version: u64) -> String {
    format!("\"{version}\"")
}

fn parse_etag(raw: &str) -> Option<u64> {
    let raw = raw.strip_prefix("W/").unwrap_or(raw);
    raw.strip_prefix('"')?.strip_suffix('"')?.parse().ok()
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde::Deserialize;

    #[derive(Debug, Deserialize)]
    #[serde(deny_unknown_fields)]
    #[allow(dead_code)]
    struct Body {
        name: String,
        inner: Inner,
    }
    #[derive(Debug, Deserialize)]
    #[serde(deny_unknown_fields)]
    #[allow(dead_code)]
    struct Inner {
        n: u32,
    }

    #[test]
    fn body_errors_name_the_field() {
        match parse_json::<Body>(br#"{"name":"a","inner":{"n":"x"}}"#) {
            Err(ApiError::BadBody { field, .. }) => assert_eq!(field.as_deref(), Some("inner.n")),
            other => panic!("{other:?}"),
        }
        match parse_json::<Body>(br#"{"name":"a","inner":{"n":1},"extra":1}"#) {
            Err(ApiError::BadBody { detail, .. }) => assert!(detail.contains("extra"), "{detail}"),
            other => panic!("{other:?}"),
        }
        match parse_json::<Body>(br#"{"name": "#) {
            Err(ApiError::BadBody { detail, .. }) => assert!(detail.starts_with("not valid JSON")),
            other => panic!("{other:?}"),
        }
    }

    use axum::body::Body as HttpBody;

    /// A request body whose connection broke off after the headers.
    struct BrokenOff;

    impl http_body::Body for BrokenOff {
        type Data = Bytes;
        type Error = std::io::Error;

        fn poll_frame(
            self: std::pin::Pin<&mut Self>,
            _: &mut std::task::Context<'_>,
        ) -> std::task::Poll<Option<Result<http_body::Frame<Bytes>, std::io::Error>>> {
            std::task::Poll::Ready(Some(Err(std::io::Error::new(
                std::io::ErrorKind::ConnectionReset,
                "connection reset by peer",
            ))))
        }
    }

    fn json_request(body: HttpBody) -> Request {
        axum::http::Request::post("/")
            .header(CONTENT_TYPE, "application/json")
            .body(body)
            .unwrap()
    }

    #[tokio::test]
    async fn only_a_body_over_the_limit_is_413() {
        let broken =
            Json::<serde_json::Value>::from_request(json_request(HttpBody::new(BrokenOff)), &())
                .await
                .err()
                .expect("refused");
        assert!(matches!(broken, ApiError::BadRequest(_)), "{broken:?}");
        assert_eq!(broken.status(), 400);

        let big = HttpBody::from(vec![b' '; MAX_BODY + 1]);
        let large = Json::<serde_json::Value>::from_request(json_request(big), &())
            .await
            .err()
            .expect("refused");
        assert_eq!(large.status(), 413, "{large:?}");

        let optional =
            OptionalJson::<Option<u32>>::from_request(json_request(HttpBody::new(BrokenOff)), &())
                .await
                .err()
                .expect("refused");
        assert_eq!(optional.status(), 400, "{optional:?}");

        let read = read_body(HttpBody::new(BrokenOff), MAX_BODY)
            .await
            .unwrap_err();
        assert_eq!(read.status(), 400, "{read:?}");
        let read = read_body(HttpBody::from(vec![b'x'; 11]), 10)
            .await
            .unwrap_err();
        assert_eq!(read.status(), 413, "{read:?}");
        assert_eq!(
            read_body(HttpBody::from("{}"), 10).await.unwrap().as_ref(),
            b"{}"
        );
    }

    #[test]
    fn etags_round_trip() {
        assert_eq!(parse_etag(&etag(7)), Some(7));
        assert_eq!(parse_etag("W/\"7\""), Some(7));
        assert_eq!(parse_etag("7"), None);
    }

    #[derive(Debug, Deserialize)]
    #[serde(deny_unknown_fields)]
    struct Page {
        limit: Option<u32>,
        stage: Option<String>,
    }

    #[test]
    fn query_strings_are_typed_and_strict() {
        let p: Page = serde_urlencoded_deserializer("limit=5&stage=a%20b").unwrap();
        assert_eq!((p.limit, p.stage.as_deref()), (Some(5), Some("a b")));
        match serde_urlencoded_deserializer::<Page>("limit=many") {
            Err(ApiError::Validation(e)) => assert_eq!(e[0].field, "query.limit"),
            other => panic!("{other:?}"),
        }
        assert!(serde_urlencoded_deserializer::<Page>("nope=1").is_err());
    }
}
