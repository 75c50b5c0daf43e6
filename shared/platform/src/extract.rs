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
    let document: Document = serde_json::from_slice(bytes).map_err(|e| ApiError::BadBody {
        detail: match e.classify() {
            serde_json::error::Category::Syntax | serde_json::error::Category::Eof => {
                format!("not valid JSON: {e}")
            }
            _ => e.to_string(),
        },
        field: None,
    })?;
    serde_path_to_error::deserialize(Strict(document.0)).map_err(|e| {
        let path = e.path().to_string();
        ApiError::BadBody {
            detail: e.into_inner().to_string(),
            field: (path != "." && !path.is_empty()).then_some(path),
        }
    })
}

/// A JSON body read as its sender meant it before it is typed: a key given
/// twice is refused (the typed reader would refuse it too), and a whole number
/// written with a fraction (`1512.0`) is that integer, as JSON Schema counts it.
struct Document(serde_json::Value);

impl<'de> Deserialize<'de> for Document {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        d.deserialize_any(DocumentVisitor).map(Document)
    }
}

struct DocumentVisitor;

/// Below 2^53 every whole f64 is exactly an integer.
const EXACT_WHOLE: f64 = 9_007_199_254_740_992.0;

impl<'de> serde::de::Visitor<'de> for DocumentVisitor {
    type Value = serde_json::Value;

    fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
        f.write_str("a JSON value")
    }
    fn visit_bool<E>(self, v: bool) -> Result<Self::Value, E> {
        Ok(v.into())
    }
    fn visit_i64<E>(self, v: i64) -> Result<Self::Value, E> {
        Ok(v.into())
    }
    fn visit_u64<E>(self, v: u64) -> Result<Self::Value, E> {
        Ok(v.into())
    }
    fn visit_f64<E: serde::de::Error>(self, v: f64) -> Result<Self::Value, E> {
        if v.fract() == 0.0 && v.abs() < EXACT_WHOLE {
            return Ok(if v < 0.0 {
                (v as i64).into()
            } else {
                (v as u64).into()
            });
        }
        serde_json::Number::from_f64(v)
            .map(serde_json::Value::Number)
            .ok_or_else(|| E::custom("numbers must be finite"))
    }
    fn visit_str<E>(self, v: &str) -> Result<Self::Value, E> {
        Ok(v.into())
    }
    fn visit_string<E>(self, v: String) -> Result<Self::Value, E> {
        Ok(v.into())
    }
    fn visit_unit<E>(self) -> Result<Self::Value, E> {
        Ok(serde_json::Value::Null)
    }
    fn visit_none<E>(self) -> Result<Self::Value, E> {
        Ok(serde_json::Value::Null)
    }
    fn visit_some<D: Deserializer<'de>>(self, d: D) -> Result<Self::Value, D::Error> {
        d.deserialize_any(self)
    }
    fn visit_seq<A: serde::de::SeqAccess<'de>>(self, mut seq: A) -> Result<Self::Value, A::Error> {
        let mut items = Vec::new();
        while let Some(Document(v)) = seq.next_element()? {
            items.push(v);
        }
        Ok(serde_json::Value::Array(items))
    }
    fn visit_map<A: serde::de::MapAccess<'de>>(self, mut map: A) -> Result<Self::Value, A::Error> {
        let mut fields = serde_json::Map::new();
        while let Some(key) = map.next_key::<String>()? {
            if fields.contains_key(&key) {
                return Err(serde::de::Error::custom(format!("duplicate field `{key}`")));
            }
            let Document(v) = map.next_value()?;
            fields.insert(key, v);
        }
        Ok(serde_json::Value::Object(fields))
    }
}

/// The typed reading of a [`Document`]. serde_json would read a struct from an
/// array of its fields in order (`"budget": [null, null]` as an empty budget);
/// a body says which field is which, so where an object is expected only an
/// object is accepted. Everything else reads as serde_json reads a value.
struct Strict(serde_json::Value);

impl<'de> serde::de::IntoDeserializer<'de, serde_json::Error> for Strict {
    type Deserializer = Strict;
    fn into_deserializer(self) -> Strict {
        self
    }
}

impl Strict {
    fn visit_array<'de, V: serde::de::Visitor<'de>>(
        items: Vec<serde_json::Value>,
        visitor: V,
    ) -> Result<V::Value, serde_json::Error> {
        let mut seq = serde::de::value::SeqDeserializer::new(items.into_iter().map(Strict));
        let value = visitor.visit_seq(&mut seq)?;
        seq.end()?;
        Ok(value)
    }

    fn visit_object<'de, V: serde::de::Visitor<'de>>(
        fields: serde_json::Map<String, serde_json::Value>,
        visitor: V,
    ) -> Result<V::Value, serde_json::Error> {
        let mut map =
            serde::de::value::MapDeserializer::new(fields.into_iter().map(|(k, v)| (k, Strict(v))));
        let value = visitor.visit_map(&mut map)?;
        map.end()?;
        Ok(value)
    }
}

impl<'de> Deserializer<'de> for Strict {
    type Error = serde_json::Error;

    fn deserialize_any<V: serde::de::Visitor<'de>>(self, v: V) -> Result<V::Value, Self::Error> {
        match self.0 {
            serde_json::Value::Array(items) => Strict::visit_array(items, v),
            serde_json::Value::Object(fields) => Strict::visit_object(fields, v),
            other => other.deserialize_any(v),
        }
    }

    fn deserialize_option<V: serde::de::Visitor<'de>>(self, v: V) -> Result<V::Value, Self::Error> {
        match self.0 {
            serde_json::Value::Null => v.visit_none(),
            _ => v.visit_some(self),
        }
    }

    fn deserialize_newtype_struct<V: serde::de::Visitor<'de>>(
        self,
        _name: &'static str,
        v: V,
    ) -> Result<V::Value, Self::Error> {
        v.visit_newtype_struct(self)
    }

    fn deserialize_seq<V: serde::de::Visitor<'de>>(self, v: V) -> Result<V::Value, Self::Error> {
        match self.0 {
            serde_json::Value::Array(items) => Strict::visit_array(items, v),
            other => other.deserialize_seq(v),
        }
    }

    fn deserialize_tuple<V: serde::de::Visitor<'de>>(
        self,
        _len: usize,
        v: V,
    ) -> Result<V::Value, Self::Error> {
        self.deserialize_seq(v)
    }

    fn deserialize_tuple_struct<V: serde::de::Visitor<'de>>(
        self,
        _name: &'static str,
        _len: usize,
        v: V,
    ) -> Result<V::Value, Self::Error> {
        self.deserialize_seq(v)
    }

    fn deserialize_map<V: serde::de::Visitor<'de>>(self, v: V) -> Result<V::Value, Self::Error> {
        match self.0 {
            serde_json::Value::Object(fields) => Strict::visit_object(fields, v),
            other => other.deserialize_map(v),
        }
    }

    fn deserialize_struct<V: serde::de::Visitor<'de>>(
        self,
        name: &'static str,
        fields: &'static [&'static str],
        v: V,
    ) -> Result<V::Value, Self::Error> {
        match self.0 {
            serde_json::Value::Object(map) => Strict::visit_object(map, v),
            serde_json::Value::Array(_) => Err(serde::de::Error::invalid_type(
                serde::de::Unexpected::Seq,
                &"an object",
            )),
            other => other.deserialize_struct(name, fields, v),
        }
    }

    fn deserialize_enum<V: serde::de::Visitor<'de>>(
        self,
        name: &'static str,
        variants: &'static [&'static str],
        v: V,
    ) -> Result<V::Value, Self::Error> {
        self.0.deserialize_enum(name, variants, v)
    }

    fn deserialize_ignored_any<V: serde::de::Visitor<'de>>(
        self,
        v: V,
    ) -> Result<V::Value, Self::Error> {
        v.visit_unit()
    }

    serde::forward_to_deserialize_any! {
        bool i8 i16 i32 i64 i128 u8 u16 u32 u64 u128 f32 f64 char str string
        bytes byte_buf unit unit_struct identifier
    }
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
        if raw.iter().any(|(_, v)| !agencyops_domain::Id::is_valid(v)) {
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

    #[test]
    fn whole_numbers_written_with_a_fraction_are_integers_and_keys_count_once() {
        #[derive(Debug, Deserialize)]
        #[serde(deny_unknown_fields)]
        struct Upload {
            size: u64,
            #[serde(default)]
            share: Option<f64>,
        }
        let u = parse_json::<Upload>(br#"{"size": 1512.0, "share": 0.5}"#).unwrap();
        assert_eq!((u.size, u.share), (1512, Some(0.5)));
        assert!(parse_json::<Upload>(br#"{"size": 1512.5}"#).is_err());
        match parse_json::<Upload>(br#"{"size": 1, "size": 2}"#) {
            Err(ApiError::BadBody { detail, .. }) => {
                assert!(detail.contains("duplicate"), "{detail}")
            }
            other => panic!("a key given twice was taken: {:?}", other.map(|u| u.size)),
        }
    }

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

    #[test]
    fn an_array_is_not_read_as_a_struct() {
        #[derive(Debug, Deserialize)]
        #[serde(deny_unknown_fields)]
        #[allow(dead_code)]
        struct Patch {
            #[serde(default)]
            inner: Option<Inner>,
            #[serde(default)]
            many: Vec<Inner>,
        }
        for (body, field) in [
            (r#"{"inner": [1]}"#, "inner"),
            (r#"{"many": [{"n": 1}, [2]]}"#, "many[1]"),
        ] {
            match parse_json::<Patch>(body.as_bytes()) {
                Err(ApiError::BadBody { field: f, detail }) => {
                    assert_eq!(f.as_deref(), Some(field), "{body}");
                    assert!(detail.contains("expected an object"), "{detail}");
                }
                other => panic!("{body} was read: {other:?}"),
            }
        }
        match parse_json::<Body>(br#"["a", {"n": 1}]"#) {
            Err(ApiError::BadBody { field, .. }) => assert_eq!(field, None),
            other => panic!("a whole body as an array was read: {other:?}"),
        }
        // Objects, lists of objects, null and absent fields still read as before.
        let ok = parse_json::<Patch>(br#"{"inner": {"n": 1}, "many": [{"n": 2}]}"#).unwrap();
        assert_eq!((ok.inner.map(|i| i.n), ok.many.len()), (Some(1), 1));
        assert!(parse_json::<Patch>(br#"{"inner": null}"#)
            .unwrap()
            .inner
            .is_none());
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
