//! Dev tokens for the local host: HS256 JWTs it issues and verifies with a secret
//! kept in its data dir. They carry the same claims the Cognito ID token carries
//! in AWS, so the same `Caller` code reads both.

use std::collections::HashMap;
use std::sync::Arc;

use axum::extract::{Request, State};
use axum::http::header::AUTHORIZATION;
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use jsonwebtoken::{decode, encode, Algorithm, DecodingKey, EncodingKey, Header, Validation};
use serde::{Deserialize, Serialize};

use crate::caller::*;
use crate::error::ApiError;

const ISSUER: &str = "agencyops-local";

#[derive(Debug, Serialize, Deserialize)]
struct DevClaims {
    iss: String,
    sub: String,
    exp: i64,
    iat: i64,
    #[serde(rename = "custom:tenant")]
    tenant: String,
    #[serde(rename = "custom:person")]
    person: String,
    #[serde(rename = "custom:role")]
    role: String,
    #[serde(
        rename = "custom:client",
        default,
        skip_serializing_if = "Option::is_none"
    )]
    client: Option<String>,
}

#[derive(Clone)]
pub struct DevTokens {
    secret: Arc<Vec<u8>>,
}

impl DevTokens {
    pub fn new(secret: Vec<u8>) -> Self {
        DevTokens {
            secret: Arc::new(secret),
        }
    }

    /// A token for `caller`, valid for `ttl_secs`.
    pub fn issue(
        &self,
        caller: &Caller,
        now_epoch: i64,
        ttl_secs: i64,
    ) -> Result<String, ApiError> {
        let claims = DevClaims {
            iss: ISSUER.into(),
            sub: caller.person.clone(),
            exp: now_epoch + ttl_secs,
            iat: now_epoch,
            tenant: caller.tenant.clone(),
            person: caller.person.clone(),
            role: caller.role.as_str().into(),
            client: caller.client.clone(),
        };
        encode(
            &Header::new(Algorithm::HS256),
            &claims,
            &EncodingKey::from_secret(&self.secret),
        )
        .map_err(|e| ApiError::Internal(e.to_string()))
    }

    /// The verified claims of a bearer token, or 401.
    pub fn verify(&self, token: &str) -> Result<HashMap<String, String>, ApiError> {
        let mut v = Validation::new(Algorithm::HS256);
        v.set_issuer(&[ISSUER]);
        v.set_required_spec_claims(&["exp", "iss", "sub"]);
        let data = decode::<DevClaims>(token, &DecodingKey::from_secret(&self.secret), &v)
            .map_err(|_| ApiError::Unauthenticated)?;
        let c = data.claims;
        let mut m = HashMap::from([
            (CLAIM_SUB.to_owned(), c.sub),
            (CLAIM_TENANT.to_owned(), c.tenant),
            (CLAIM_PERSON.to_owned(), c.person),
            (CLAIM_ROLE.to_owned(), c.role),
        ]);
        if let Some(client) = c.client {
            m.insert(CLAIM_CLIENT.to_owned(), client);
        }
        Ok(m)
    }
}

/// Local-host middleware: a valid bearer token becomes verified claims on the
/// request; anything else under /v1 is 401 before a handler runs.
pub async fn require_dev_token(
    State(tokens): State<DevTokens>,
    mut req: Request,
    next: Next,
) -> Response {
    let token = req
        .headers()
        .get(AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Bearer "))
        .map(str::trim);
    let claims = match token.map(|t| tokens.verify(t)) {
        Some(Ok(claims)) => claims,
        _ => return ApiError::Unauthenticated.into_response(),
    };
    req.extensions_mut().insert(VerifiedClaims(claims));
    next.run(req).await
}

#[cfg(test)]
mod tests {
    use super::*;
    use agencyops_domain::Role;

    fn caller() -> Caller {
        Caller {
            tenant: "acme".into(),
            person: "ana".into(),
            role: Role::Admin,
            client: None,
        }
    }

    #[test]
    fn issued_tokens_verify_into_the_same_caller() {
        let t = DevTokens::new(b"secret".to_vec());
        let now = jiff::Timestamp::now().as_second();
        let token = t.issue(&caller(), now, 3600).unwrap();
        let claims = t.verify(&token).unwrap();
        assert_eq!(Caller::from_claims(&claims).unwrap(), caller());
    }

    #[test]
    fn forged_and_expired_tokens_are_refused() {
        let t = DevTokens::new(b"secret".to_vec());
        let other = DevTokens::new(b"other".to_vec());
        let now = jiff::Timestamp::now().as_second();
        let forged = other.issue(&caller(), now, 3600).unwrap();
        assert!(t.verify(&forged).is_err());
        let expired = t.issue(&caller(), now - 7200, 60).unwrap();
        assert!(t.verify(&expired).is_err());
    }

    #[test]
    fn claims_with_unsafe_tenants_are_refused() {
        let mut c = HashMap::from([
            (CLAIM_TENANT.to_owned(), "acme#x".to_owned()),
            (CLAIM_PERSON.to_owned(), "ana".to_owned()),
            (CLAIM_ROLE.to_owned(), "admin".to_owned()),
        ]);
        assert!(Caller::from_claims(&c).is_err());
        c.insert(CLAIM_TENANT.into(), "acme".into());
        assert!(Caller::from_claims(&c).is_ok());
        c.insert(CLAIM_ROLE.into(), "client".into());
        assert!(
            Caller::from_claims(&c).is_err(),
            "client role needs a client claim"
        );
    }
}
